/* SPDX-License-Identifier: MIT */
#include "vk-format.h"

#include <drm_fourcc.h>

#include "dmabuf.h"
#include "log.h"
#include "vk-device.h"

#define TOPIC "vk-format"

VkFormat cr_vk_format_from_fourcc(uint32_t fourcc)
{
	/* DRM fourccs name a little-endian word from its most significant channel, Vulkan's
	 * PACK32 formats likewise and its byte formats in memory order: XRGB8888 is B, G, R, X
	 * in memory, which is B8G8R8A8. The X channel reads as whatever the producer left
	 * there; the kernel ignores it. */
	switch (fourcc) {
	case DRM_FORMAT_XRGB8888:
	case DRM_FORMAT_ARGB8888:
		return VK_FORMAT_B8G8R8A8_UNORM;
	case DRM_FORMAT_XBGR8888:
	case DRM_FORMAT_ABGR8888:
		return VK_FORMAT_R8G8B8A8_UNORM;
	case DRM_FORMAT_XRGB2101010:
		return VK_FORMAT_A2R10G10B10_UNORM_PACK32;
	case DRM_FORMAT_XBGR2101010:
		return VK_FORMAT_A2B10G10R10_UNORM_PACK32;
	case DRM_FORMAT_NV12:
		return VK_FORMAT_G8_B8R8_2PLANE_420_UNORM;
	default:
		return VK_FORMAT_UNDEFINED;
	}
}

VkFormat cr_vk_format_plane_view(uint32_t fourcc, uint32_t plane)
{
	if (fourcc == DRM_FORMAT_NV12)
		return plane == 0 ? VK_FORMAT_R8_UNORM
		       : plane == 1 ? VK_FORMAT_R8G8_UNORM : VK_FORMAT_UNDEFINED;
	return plane == 0 ? cr_vk_format_from_fourcc(fourcc) : VK_FORMAT_UNDEFINED;
}

uint32_t cr_vk_format_driver_modifiers(struct cr_vk_device *dev, VkFormat format,
				       VkDrmFormatModifierPropertiesEXT *props, uint32_t max)
{
	VkDrmFormatModifierPropertiesListEXT list = {
		.sType = VK_STRUCTURE_TYPE_DRM_FORMAT_MODIFIER_PROPERTIES_LIST_EXT,
		.drmFormatModifierCount = max,
		.pDrmFormatModifierProperties = props,
	};
	VkFormatProperties2 fp = { .sType = VK_STRUCTURE_TYPE_FORMAT_PROPERTIES_2, .pNext = &list };
	vkGetPhysicalDeviceFormatProperties2(dev->phys, format, &fp);
	return list.drmFormatModifierCount;
}

VkFormatFeatureFlags cr_vk_format_features_for_usage(VkImageUsageFlags usage)
{
	VkFormatFeatureFlags f = 0;
	if (usage & VK_IMAGE_USAGE_SAMPLED_BIT)
		f |= VK_FORMAT_FEATURE_SAMPLED_IMAGE_BIT;
	if (usage & VK_IMAGE_USAGE_STORAGE_BIT)
		f |= VK_FORMAT_FEATURE_STORAGE_IMAGE_BIT;
	if (usage & VK_IMAGE_USAGE_TRANSFER_SRC_BIT)
		f |= VK_FORMAT_FEATURE_TRANSFER_SRC_BIT;
	if (usage & VK_IMAGE_USAGE_TRANSFER_DST_BIT)
		f |= VK_FORMAT_FEATURE_TRANSFER_DST_BIT;
	return f;
}

uint32_t cr_vk_format_filter(const VkDrmFormatModifierPropertiesEXT *props, uint32_t n,
			     VkFormatFeatureFlags need, uint32_t max_planes,
			     struct cr_vk_modifier *out, uint32_t max)
{
	uint32_t count = 0;
	for (uint32_t i = 0; i < n && count < max; i++) {
		const VkDrmFormatModifierPropertiesEXT *p = &props[i];
		if (p->drmFormatModifier == DRM_FORMAT_MOD_INVALID ||
		    (p->drmFormatModifierTilingFeatures & need) != need ||
		    p->drmFormatModifierPlaneCount == 0 || p->drmFormatModifierPlaneCount > max_planes)
			continue;
		out[count++] = (struct cr_vk_modifier){
			.modifier = p->drmFormatModifier,
			.n_planes = p->drmFormatModifierPlaneCount,
			.features = p->drmFormatModifierTilingFeatures,
		};
	}
	return count;
}

/* Whether an image of @fourcc with @m and @usage can be created (and shared as @handle), as
 * cr_vk_image_create() and cr_vk_image_import() create it; fills @m's maximum extent. */
static bool image_supported(struct cr_vk_device *dev, uint32_t fourcc, VkImageUsageFlags usage,
			    VkExternalMemoryFeatureFlags handle, struct cr_vk_modifier *m)
{
	VkFormat views[2] = { cr_vk_format_plane_view(fourcc, 0),
			      cr_vk_format_plane_view(fourcc, 1) };
	bool planar = views[1] != VK_FORMAT_UNDEFINED;
	VkImageFormatListCreateInfo list = {
		.sType = VK_STRUCTURE_TYPE_IMAGE_FORMAT_LIST_CREATE_INFO,
		.viewFormatCount = 2,
		.pViewFormats = views,
	};
	VkPhysicalDeviceImageDrmFormatModifierInfoEXT mod_info = {
		.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_IMAGE_DRM_FORMAT_MODIFIER_INFO_EXT,
		.pNext = planar ? &list : NULL,
		.drmFormatModifier = m->modifier,
		.sharingMode = VK_SHARING_MODE_EXCLUSIVE,
	};
	VkPhysicalDeviceExternalImageFormatInfo ext_info = {
		.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_EXTERNAL_IMAGE_FORMAT_INFO,
		.pNext = &mod_info,
		.handleType = VK_EXTERNAL_MEMORY_HANDLE_TYPE_DMA_BUF_BIT_EXT,
	};
	VkPhysicalDeviceImageFormatInfo2 info = {
		.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_IMAGE_FORMAT_INFO_2,
		.pNext = handle ? (const void *)&ext_info : &mod_info,
		.format = cr_vk_format_from_fourcc(fourcc),
		.type = VK_IMAGE_TYPE_2D,
		.tiling = VK_IMAGE_TILING_DRM_FORMAT_MODIFIER_EXT,
		.usage = usage,
		.flags = planar ? VK_IMAGE_CREATE_MUTABLE_FORMAT_BIT : 0,
	};
	VkExternalImageFormatProperties ext_props = {
		.sType = VK_STRUCTURE_TYPE_EXTERNAL_IMAGE_FORMAT_PROPERTIES,
	};
	VkImageFormatProperties2 props = {
		.sType = VK_STRUCTURE_TYPE_IMAGE_FORMAT_PROPERTIES_2,
		.pNext = handle ? &ext_props : NULL,
	};
	if (vkGetPhysicalDeviceImageFormatProperties2(dev->phys, &info, &props) != VK_SUCCESS)
		return false;
	VkExternalMemoryFeatureFlags got =
		ext_props.externalMemoryProperties.externalMemoryFeatures;
	if (handle && (got & handle) != handle)
		return false;
	m->max_width = props.imageFormatProperties.maxExtent.width;
	m->max_height = props.imageFormatProperties.maxExtent.height;
	return true;
}

uint32_t cr_vk_format_modifiers(struct cr_vk_device *dev, uint32_t fourcc,
				VkImageUsageFlags usage, VkExternalMemoryFeatureFlags handle,
				struct cr_vk_modifier *out, uint32_t max)
{
	VkFormat vk_format = cr_vk_format_from_fourcc(fourcc);
	if (vk_format == VK_FORMAT_UNDEFINED || !dev->ext.image_drm_format_modifier ||
	    (handle && !dev->ext.external_memory_dma_buf) ||
	    ((usage & VK_IMAGE_USAGE_STORAGE_BIT) && !dev->storage_write_without_format))
		return 0;
	VkDrmFormatModifierPropertiesEXT props[64];
	uint32_t n_props = cr_vk_format_driver_modifiers(dev, vk_format, props, 64);
	struct cr_vk_modifier found[64];
	uint32_t n = cr_vk_format_filter(props, n_props, cr_vk_format_features_for_usage(usage),
					 CR_DMABUF_MAX_PLANES, found, 64);
	uint32_t count = 0;
	for (uint32_t i = 0; i < n && count < max; i++)
		if (image_supported(dev, fourcc, usage, handle, &found[i]))
			out[count++] = found[i];
	cr_log_debug(TOPIC, "fourcc %.4s usage 0x%x: %u of %u modifiers usable",
		     (const char *)&fourcc, usage, count, n_props);
	return count;
}
