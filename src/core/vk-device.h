/* SPDX-License-Identifier: MIT */
#pragma once
/**
 * The Vulkan instance, physical device choice, logical device and compute queue, with the
 * optional extensions castrelay uses recorded as flags. Main-loop thread, except where noted.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <vulkan/vulkan.h>

struct cr_vk_device {
	VkInstance instance;
	VkPhysicalDevice phys;
	VkDevice dev;
	/** compute-capable; submitted to only through cr_vk_device_submit() (any thread) */
	VkQueue queue;
	/** Vulkan requires external synchronisation of the queue: held around every submit and
	 * queue wait (the main loop and the kernels worker, kernels.h, both submit). */
	pthread_mutex_t queue_lock;
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
	/** shaderStorageImageWriteWithoutFormat, enabled when supported: the kernel writes
	 * output images of any packed format through one untyped storage image. */
	bool storage_write_without_format;
	PFN_vkGetMemoryFdPropertiesKHR get_memory_fd_properties;
	PFN_vkImportSemaphoreFdKHR import_semaphore_fd;
	PFN_vkGetSemaphoreFdKHR get_semaphore_fd;
	PFN_vkGetMemoryFdKHR get_memory_fd;
	PFN_vkGetImageDrmFormatModifierPropertiesEXT get_image_modifier;
	/** VK_EXT_external_memory_host: how host memory imports (cr_vk_buffer_import_host()),
	 * and the alignment of its address and size (minImportedHostPointerAlignment). */
	PFN_vkGetMemoryHostPointerPropertiesEXT get_host_pointer_properties;
	VkDeviceSize host_pointer_alignment;
	/** Sticky: set when any call returned VK_ERROR_DEVICE_LOST (any thread). */
	atomic_bool lost;
	/** enum cr_vk_fault armed by cr_vk_device_inject_lost(), taken by the call it hits. */
	atomic_int fault;
};

/** Where cr_vk_device_inject_lost() makes the device fail. */
enum cr_vk_fault {
	CR_VK_FAULT_NONE,
	CR_VK_FAULT_SUBMIT, /**< the next cr_vk_device_submit() */
	CR_VK_FAULT_WAIT,   /**< the next cr_vk_device_wait_fence() that would have succeeded */
};

/**
 * Creates the instance and device. @select chooses the physical device: NULL or "" prefers a
 * discrete, then integrated, then virtual GPU, then a CPU implementation (lavapipe); a decimal
 * string is an index into vkEnumeratePhysicalDevices; anything else a case-insensitive
 * substring of the device name. On failure logs what is missing (no driver, no device with a
 * compute queue, no match for @select with the list of devices) and returns NULL.
 */
struct cr_vk_device *cr_vk_device_create(const char *select);

/**
 * cr_vk_device_create() that, without @select, prefers the device whose DRM node
 * (VK_EXT_physical_device_drm, primary or render) is @drm_node: the DRM device the producer's
 * buffers and the syncobjs come from. 0, or no device with that node: the usual preference.
 * The choice and the reason are logged.
 */
struct cr_vk_device *cr_vk_device_create_for_drm(const char *select, dev_t drm_node);

/** What cr_vk_device_pick() knows of one physical device. */
struct cr_vk_candidate {
	const char *name;
	bool usable;   /**< a compute queue and Vulkan 1.1 */
	int rank;      /**< 0 discrete, 1 integrated, 2 virtual, 3 CPU, 4 other */
	bool has_drm;  /**< VK_EXT_physical_device_drm told its nodes */
	dev_t primary, render; /**< 0 when the device has none */
};

/**
 * The choice behind cr_vk_device_create_for_drm(), on plain data (tests): an index or name
 * @select wins; else the first usable device with @drm_node as its primary or render node
 * (*@matched set); else the usable device of the lowest rank. Returns the index or -1.
 */
int cr_vk_device_pick(const struct cr_vk_candidate *c, uint32_t n, const char *select,
		      dev_t drm_node, bool *matched);

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

/**
 * vkQueueSubmit of @n submissions @si with @fence under ->queue_lock, checked with cr_vk_check()
 * as @what. Never waits for the GPU. After the device was lost, fails at once with
 * VK_ERROR_DEVICE_LOST. Any thread.
 */
bool cr_vk_device_submit(struct cr_vk_device *dev, uint32_t n, const VkSubmitInfo *si,
			 VkFence fence, const char *what);

/**
 * vkWaitForFences of one @fence for at most @timeout_ns, checked with cr_vk_check() as @what
 * except for VK_TIMEOUT, which is returned without a message. Any thread.
 */
VkResult cr_vk_device_wait_fence(struct cr_vk_device *dev, VkFence fence, uint64_t timeout_ns,
				 const char *what);

/**
 * Test hook (castrelayd's CASTRELAY_TEST_DEVICE_LOST, read by its main(); never armed in
 * production): the next call @where names returns VK_ERROR_DEVICE_LOST, logged and recorded
 * as a real loss is: the sticky ->lost is set and every later cr_vk_device_submit() fails
 * with VK_ERROR_DEVICE_LOST too, as a driver that lost its device answers. The GPU itself
 * keeps working, so work submitted before completes. Any thread.
 */
void cr_vk_device_inject_lost(struct cr_vk_device *dev, enum cr_vk_fault where);

/** vkQueueWaitIdle under ->queue_lock (teardown only: it blocks). Any thread. */
void cr_vk_device_wait_queue(struct cr_vk_device *dev);

/** Human-readable name of a VkResult. */
const char *cr_vk_result_name(VkResult res);
