/* SPDX-License-Identifier: MIT */
#pragma once
/**
 * DRM fourcc ⇄ VkFormat for the formats that castrelay uses as Vulkan images (packed RGB, and
 * NV12 as input), and the DRM format modifiers a device supports for a format and a usage
 * (VK_EXT_image_drm_format_modifier): the lists the input offers in its EnumFormats and the
 * output offers to its consumers. Main-loop thread.
 */
#include <stdbool.h>
#include <stdint.h>
#include <vulkan/vulkan.h>

struct cr_vk_device;

/**
 * The VkFormat of images of DRM fourcc @fourcc: for packed formats the one whose R, G, B, A
 * channels are those of the pixel (XRGB8888 → B8G8R8A8_UNORM, XBGR2101010 →
 * A2B10G10R10_UNORM_PACK32, ...), for NV12 G8_B8R8_2PLANE_420_UNORM; VK_FORMAT_UNDEFINED for
 * formats castrelay does not use as images (I420: LINEAR storage buffers only).
 */
VkFormat cr_vk_format_from_fourcc(uint32_t fourcc);

/**
 * The format of the view through which the kernel reads plane @plane of an image of @fourcc:
 * the image's own format for packed formats (plane 0), R8_UNORM (Y) and R8G8_UNORM (UV) for
 * NV12's planes, whose images are created MUTABLE_FORMAT with those two in their format list.
 * VK_FORMAT_UNDEFINED otherwise.
 */
VkFormat cr_vk_format_plane_view(uint32_t fourcc, uint32_t plane);

/** One modifier a device supports for a format and a usage. */
struct cr_vk_modifier {
	uint64_t modifier;
	uint32_t n_planes;            /**< memory planes (aux planes of compressed layouts too) */
	VkFormatFeatureFlags features; /**< drmFormatModifierTilingFeatures */
	uint32_t max_width, max_height;
};

/**
 * The driver's DRM format modifiers of @format and their properties
 * (VkDrmFormatModifierPropertiesListEXT), at most @max of them, into @props. Returns the count.
 */
uint32_t cr_vk_format_driver_modifiers(struct cr_vk_device *dev, VkFormat format,
				       VkDrmFormatModifierPropertiesEXT *props, uint32_t max);

/** The format features an image of @usage needs (SAMPLED → SAMPLED_IMAGE, ...). Pure. */
VkFormatFeatureFlags cr_vk_format_features_for_usage(VkImageUsageFlags usage);

/**
 * The pure part of cr_vk_format_modifiers(): of the driver's @n modifiers @props, those whose
 * tiling features include all of @need and whose plane count is at most @max_planes, in the
 * driver's order, into @out (room for @max); DRM_FORMAT_MOD_INVALID is never kept. Returns
 * the count kept.
 */
uint32_t cr_vk_format_filter(const VkDrmFormatModifierPropertiesEXT *props, uint32_t n,
			     VkFormatFeatureFlags need, uint32_t max_planes,
			     struct cr_vk_modifier *out, uint32_t max);

/**
 * The modifiers with which @dev can create images of @fourcc for @usage (a
 * VK_IMAGE_USAGE_* mask; storage needs shaderStorageImageWriteWithoutFormat too), whose
 * memory is importable (@handle = VK_EXTERNAL_MEMORY_FEATURE_IMPORTABLE_BIT) or exportable
 * (EXPORTABLE_BIT) as DMA-BUFs, or 0 for images that are not shared; max_width/max_height are
 * filled from vkGetPhysicalDeviceImageFormatProperties2. Nothing (0) without
 * VK_EXT_image_drm_format_modifier (and VK_EXT_external_memory_dma_buf when shared), or for a
 * format without a VkFormat. Returns the count written to @out (room for @max).
 */
uint32_t cr_vk_format_modifiers(struct cr_vk_device *dev, uint32_t fourcc,
				VkImageUsageFlags usage, VkExternalMemoryFeatureFlags handle,
				struct cr_vk_modifier *out, uint32_t max);
