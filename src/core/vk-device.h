/* SPDX-License-Identifier: MIT */
#pragma once
/**
 * The Vulkan instance, physical device choice, logical device and compute queue, with the
 * optional extensions castrelay uses recorded as flags. Main-loop thread, except where noted.
 */
#include <stdbool.h>
#include <stdint.h>
#include <vulkan/vulkan.h>

struct cr_vk_device {
	VkInstance instance;
	VkPhysicalDevice phys;
	VkDevice dev;
	VkQueue queue; /**< compute-capable; submissions only from the main-loop thread */
	uint32_t queue_family;
	VkPhysicalDeviceProperties props;
	VkPhysicalDeviceMemoryProperties mem_props;
	struct {
		bool external_memory_fd;
		bool external_memory_dma_buf;
		bool image_drm_format_modifier;
		bool external_semaphore_fd;
		bool external_memory_host;
		bool queue_family_foreign;
	} ext;
	PFN_vkGetMemoryFdPropertiesKHR get_memory_fd_properties;
	PFN_vkImportSemaphoreFdKHR import_semaphore_fd;
	PFN_vkGetSemaphoreFdKHR get_semaphore_fd;
	PFN_vkGetMemoryFdKHR get_memory_fd;
	/** Sticky: set when any call returned VK_ERROR_DEVICE_LOST (any thread). */
	volatile bool lost;
};

/**
 * Creates the instance and device. @select chooses the physical device: NULL or "" prefers a
 * discrete, then integrated, then virtual GPU, then a CPU implementation (lavapipe); a decimal
 * string is an index into vkEnumeratePhysicalDevices; anything else a case-insensitive
 * substring of the device name. On failure logs what is missing (no driver, no device with a
 * compute queue, no match for @select with the list of devices) and returns NULL.
 */
struct cr_vk_device *cr_vk_device_create(const char *select);

/** Destroys the device after waiting for it to be idle (teardown only). NULL is a no-op. */
void cr_vk_device_destroy(struct cr_vk_device *dev);

/** The physical device's name, e.g. "llvmpipe (LLVM 19.1.7, 256 bits)". */
const char *cr_vk_device_name(const struct cr_vk_device *dev);

/**
 * Index of a memory type allowed by @type_bits that has all of @want (and, when possible,
 * @prefer too), or -1.
 */
int32_t cr_vk_device_memory_type(const struct cr_vk_device *dev, uint32_t type_bits,
				 VkMemoryPropertyFlags want, VkMemoryPropertyFlags prefer);

/**
 * Logs @res for @what at error level and, for VK_ERROR_DEVICE_LOST, sets the sticky lost flag.
 * Returns res == VK_SUCCESS. Thread-safe.
 */
bool cr_vk_check(struct cr_vk_device *dev, VkResult res, const char *what);

/** Human-readable name of a VkResult. */
const char *cr_vk_result_name(VkResult res);
