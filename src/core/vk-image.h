/* SPDX-License-Identifier: MIT */
#pragma once
/**
 * Frames as Vulkan images with an explicit DRM format modifier
 * (VK_EXT_image_drm_format_modifier): DMA-BUFs of any modifier the device supports imported
 * as images (the kernel samples them), and images created with a list of modifiers for the
 * driver to choose from, optionally exported as DMA-BUFs (the kernel writes them). Packed
 * formats and NV12 (read only; 4:2:0 images need an even size). Images stay in
 * VK_IMAGE_LAYOUT_GENERAL once used; the pipeline records the transitions. Main-loop thread.
 */
#include <stdbool.h>
#include <stdint.h>
#include <vulkan/vulkan.h>

#include "dmabuf.h"

struct cr_vk_device;

struct cr_vk_image {
	VkImage image;
	/** 2D, identity swizzle: the image (packed formats) or its plane 0 (NV12: Y as R8) */
	VkImageView view;
	VkImageView view1; /**< NV12: plane 1 (UV as R8G8); else VK_NULL_HANDLE */
	VkDeviceMemory memory[CR_DMABUF_MAX_PLANES];
	uint32_t n_memory; /**< 1, or one per plane for disjoint imports */
	VkFormat format;
	VkImageUsageFlags usage;
	/**
	 * width, height, fourcc, the modifier, n_planes (memory planes) and each plane's offset
	 * and stride (rowPitch). The fds are -1: an import borrows its caller's, an export is
	 * asked for with cr_vk_image_export_fd().
	 */
	struct cr_dmabuf layout;
	/** False until a command buffer has moved it out of VK_IMAGE_LAYOUT_UNDEFINED (created
	 * images; imports count as initialised: their contents are the producer's). */
	bool initialized;
};

/**
 * Imports the DMA-BUF @buf (fds borrowed; Vulkan gets dups) as an image of @usage with
 * @buf->modifier and the planes' offsets and strides given explicitly
 * (VkImageDrmFormatModifierExplicitCreateInfoEXT). Planes in one buffer (the same fd or dups
 * of it) share one memory import; planes in different buffers are bound disjointly where the
 * modifier allows it. Returns NULL and logs, naming the modifier and the reason, when the
 * device cannot import it.
 */
struct cr_vk_image *cr_vk_image_import(struct cr_vk_device *dev, const struct cr_dmabuf *buf,
				       VkImageUsageFlags usage);

/**
 * An image of @fourcc at @width x @height for @usage in device memory, with the driver's
 * choice among the @n_modifiers @modifiers (VkImageDrmFormatModifierListCreateInfoEXT); the
 * chosen modifier and plane layout are in ->layout. With @exportable its memory can be
 * exported as a DMA-BUF (cr_vk_image_export_fd()). Returns NULL and logs on failure.
 */
struct cr_vk_image *cr_vk_image_create(struct cr_vk_device *dev, uint32_t fourcc, uint32_t width,
				       uint32_t height, const uint64_t *modifiers,
				       uint32_t n_modifiers, VkImageUsageFlags usage,
				       bool exportable);

/**
 * A new DMA-BUF fd (owned by the caller) of an image made by cr_vk_image_create(...,
 * exportable = true); every plane lies in it at ->layout's offsets. -1 and logged on failure.
 */
int cr_vk_image_export_fd(struct cr_vk_device *dev, const struct cr_vk_image *img);

/** Frees @img; the caller guarantees the GPU no longer uses it. NULL is a no-op. */
void cr_vk_image_destroy(struct cr_vk_device *dev, struct cr_vk_image *img);
