/* SPDX-License-Identifier: MIT */
#include "vk-image.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "vk-device.h"
#include "vk-format.h"
#include "vk-objects.h"

#define TOPIC "vk-image"

static const VkImageAspectFlagBits memory_plane[CR_DMABUF_MAX_PLANES] = {
	VK_IMAGE_ASPECT_MEMORY_PLANE_0_BIT_EXT,
	VK_IMAGE_ASPECT_MEMORY_PLANE_1_BIT_EXT,
	VK_IMAGE_ASPECT_MEMORY_PLANE_2_BIT_EXT,
	VK_IMAGE_ASPECT_MEMORY_PLANE_3_BIT_EXT,
};

static struct cr_vk_image *new_image(struct cr_vk_device *dev, uint32_t fourcc, uint32_t width,
				     uint32_t height, VkImageUsageFlags usage, const void *chain,
				     VkImageCreateFlags flags)
{
	VkFormat format = cr_vk_format_from_fourcc(fourcc);
	if (format == VK_FORMAT_UNDEFINED) {
		cr_log_error(TOPIC, "fourcc %.4s is not a format castrelay uses as an image",
			     (const char *)&fourcc);
		return NULL;
	}
	/* 4:2:0 images must have an even size (VUID-VkImageCreateInfo-format-04712). */
	if (cr_vk_format_plane_view(fourcc, 1) != VK_FORMAT_UNDEFINED && (width | height) & 1) {
		cr_log_error(TOPIC, "a %ux%u %.4s image: 4:2:0 images need an even size", width,
			     height, (const char *)&fourcc);
		return NULL;
	}
	if (!dev->ext.image_drm_format_modifier) {
		cr_log_error(TOPIC, "%s has no VK_EXT_image_drm_format_modifier",
			     dev->props.deviceName);
		return NULL;
	}
	/* NV12 is read through a view per plane (R8, R8G8): that takes MUTABLE_FORMAT, and with
	 * a DRM modifier the list of the views' formats. */
	VkFormat views[2] = { cr_vk_format_plane_view(fourcc, 0),
			      cr_vk_format_plane_view(fourcc, 1) };
	bool planar = views[1] != VK_FORMAT_UNDEFINED;
	VkImageFormatListCreateInfo list = {
		.sType = VK_STRUCTURE_TYPE_IMAGE_FORMAT_LIST_CREATE_INFO,
		.pNext = chain,
		.viewFormatCount = 2,
		.pViewFormats = views,
	};
	if (planar)
		flags |= VK_IMAGE_CREATE_MUTABLE_FORMAT_BIT;
	struct cr_vk_image *img = calloc(1, sizeof(*img));
	if (!img)
		return NULL;
	img->format = format;
	img->usage = usage;
	img->layout = (struct cr_dmabuf){ .width = width, .height = height, .fourcc = fourcc };
	for (uint32_t i = 0; i < CR_DMABUF_MAX_PLANES; i++)
		img->layout.planes[i].fd = -1;
	VkImageCreateInfo ici = {
		.sType = VK_STRUCTURE_TYPE_IMAGE_CREATE_INFO,
		.pNext = planar ? (const void *)&list : chain,
		.flags = flags,
		.imageType = VK_IMAGE_TYPE_2D,
		.format = format,
		.extent = { width, height, 1 },
		.mipLevels = 1,
		.arrayLayers = 1,
		.samples = VK_SAMPLE_COUNT_1_BIT,
		.tiling = VK_IMAGE_TILING_DRM_FORMAT_MODIFIER_EXT,
		.usage = usage,
		.sharingMode = VK_SHARING_MODE_EXCLUSIVE,
		.initialLayout = VK_IMAGE_LAYOUT_UNDEFINED,
	};
	if (!cr_vk_check(dev, vkCreateImage(dev->dev, &ici, NULL, &img->image), "vkCreateImage")) {
		free(img);
		return NULL;
	}
	cr_vk_objects_add(CR_VK_OBJECT_IMAGE, 1);
	return img;
}

/* img->view, and img->view1 for NV12's UV plane. */
static bool create_views(struct cr_vk_device *dev, struct cr_vk_image *img)
{
	static const VkImageAspectFlagBits plane_aspect[2] = { VK_IMAGE_ASPECT_PLANE_0_BIT,
								VK_IMAGE_ASPECT_PLANE_1_BIT };
	VkImageView *views[2] = { &img->view, &img->view1 };
	for (uint32_t i = 0; i < 2; i++) {
		VkFormat format = cr_vk_format_plane_view(img->layout.fourcc, i);
		if (format == VK_FORMAT_UNDEFINED)
			break;
		bool planar = format != img->format;
		VkImageViewCreateInfo vci = {
			.sType = VK_STRUCTURE_TYPE_IMAGE_VIEW_CREATE_INFO,
			.image = img->image,
			.viewType = VK_IMAGE_VIEW_TYPE_2D,
			.format = format,
			.subresourceRange = { planar ? (VkImageAspectFlags)plane_aspect[i]
						     : VK_IMAGE_ASPECT_COLOR_BIT, 0, 1, 0, 1 },
		};
		if (!cr_vk_check(dev, vkCreateImageView(dev->dev, &vci, NULL, views[i]),
				 "vkCreateImageView"))
			return false;
		cr_vk_objects_add(CR_VK_OBJECT_IMAGE_VIEW, 1);
	}
	return true;
}

/* Imports @fd (borrowed: Vulkan gets a dup) as img->memory[img->n_memory] for the image, or
 * for its memory plane @plane when @disjoint. */
static bool import_memory(struct cr_vk_device *dev, struct cr_vk_image *img, int fd,
			  uint32_t plane, bool disjoint)
{
	VkImagePlaneMemoryRequirementsInfo plane_info = {
		.sType = VK_STRUCTURE_TYPE_IMAGE_PLANE_MEMORY_REQUIREMENTS_INFO,
		.planeAspect = memory_plane[plane],
	};
	VkImageMemoryRequirementsInfo2 ri = {
		.sType = VK_STRUCTURE_TYPE_IMAGE_MEMORY_REQUIREMENTS_INFO_2,
		.pNext = disjoint ? &plane_info : NULL,
		.image = img->image,
	};
	VkMemoryRequirements2 reqs = { .sType = VK_STRUCTURE_TYPE_MEMORY_REQUIREMENTS_2 };
	vkGetImageMemoryRequirements2(dev->dev, &ri, &reqs);
	VkMemoryFdPropertiesKHR fdp = { .sType = VK_STRUCTURE_TYPE_MEMORY_FD_PROPERTIES_KHR };
	if (!cr_vk_check(dev, dev->get_memory_fd_properties(
				      dev->dev, VK_EXTERNAL_MEMORY_HANDLE_TYPE_DMA_BUF_BIT_EXT, fd,
				      &fdp),
			 "vkGetMemoryFdPropertiesKHR"))
		return false;
	off_t size = lseek(fd, 0, SEEK_END);
	if (size < 0 || (uint64_t)size < reqs.memoryRequirements.size) {
		cr_log_error(TOPIC, "plane %u: DMA-BUF of %lld bytes, the image needs %llu", plane,
			     (long long)size, (unsigned long long)reqs.memoryRequirements.size);
		return false;
	}
	int32_t type = cr_vk_device_memory_type(
		dev, reqs.memoryRequirements.memoryTypeBits & fdp.memoryTypeBits, 0, 0);
	if (type < 0) {
		cr_log_error(TOPIC, "plane %u: no memory type both the image and the DMA-BUF allow",
			     plane);
		return false;
	}
	int dup_fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	if (dup_fd < 0) {
		cr_log_error(TOPIC, "dup of DMA-BUF fd %d: %s", fd, strerror(errno));
		return false;
	}
	VkMemoryDedicatedAllocateInfo dedicated = {
		.sType = VK_STRUCTURE_TYPE_MEMORY_DEDICATED_ALLOCATE_INFO,
		.image = img->image,
	};
	VkImportMemoryFdInfoKHR import = {
		.sType = VK_STRUCTURE_TYPE_IMPORT_MEMORY_FD_INFO_KHR,
		/* A dedicated allocation binds the whole image, not one of its planes. */
		.pNext = disjoint ? NULL : &dedicated,
		.handleType = VK_EXTERNAL_MEMORY_HANDLE_TYPE_DMA_BUF_BIT_EXT,
		.fd = dup_fd,
	};
	VkMemoryAllocateInfo mai = {
		.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
		.pNext = &import,
		.allocationSize = reqs.memoryRequirements.size,
		.memoryTypeIndex = (uint32_t)type,
	};
	if (!cr_vk_check(dev, vkAllocateMemory(dev->dev, &mai, NULL,
					       &img->memory[img->n_memory]),
			 "vkAllocateMemory (DMA-BUF import)")) {
		close(dup_fd);
		return false;
	}
	cr_vk_objects_add(CR_VK_OBJECT_MEMORY, 1);
	img->n_memory++;
	return true;
}

/* Binds img->memory: one memory at offset 0 (planes sit at their layout offsets in it), or one
 * per memory plane. */
static bool bind_memory(struct cr_vk_device *dev, struct cr_vk_image *img, bool disjoint)
{
	VkBindImagePlaneMemoryInfo planes[CR_DMABUF_MAX_PLANES];
	VkBindImageMemoryInfo binds[CR_DMABUF_MAX_PLANES];
	for (uint32_t i = 0; i < img->n_memory; i++) {
		planes[i] = (VkBindImagePlaneMemoryInfo){
			.sType = VK_STRUCTURE_TYPE_BIND_IMAGE_PLANE_MEMORY_INFO,
			.planeAspect = memory_plane[i],
		};
		binds[i] = (VkBindImageMemoryInfo){
			.sType = VK_STRUCTURE_TYPE_BIND_IMAGE_MEMORY_INFO,
			.pNext = disjoint ? &planes[i] : NULL,
			.image = img->image,
			.memory = img->memory[i],
		};
	}
	return cr_vk_check(dev, vkBindImageMemory2(dev->dev, img->n_memory, binds),
			   "vkBindImageMemory2");
}

/* The driver's properties of @modifier for @format; false when it does not list it. */
static bool modifier_props(struct cr_vk_device *dev, VkFormat format, uint64_t modifier,
			   VkDrmFormatModifierPropertiesEXT *out)
{
	VkDrmFormatModifierPropertiesEXT props[64];
	uint32_t n = cr_vk_format_driver_modifiers(dev, format, props, 64);
	for (uint32_t i = 0; i < n; i++) {
		if (props[i].drmFormatModifier == modifier) {
			*out = props[i];
			return true;
		}
	}
	return false;
}

struct cr_vk_image *cr_vk_image_import(struct cr_vk_device *dev, const struct cr_dmabuf *buf,
				       VkImageUsageFlags usage)
{
	if (!dev->ext.external_memory_dma_buf || !dev->get_memory_fd_properties) {
		cr_log_error(TOPIC, "%s cannot import DMA-BUFs", dev->props.deviceName);
		return NULL;
	}
	if (buf->n_planes == 0 || buf->n_planes > CR_DMABUF_MAX_PLANES) {
		cr_log_error(TOPIC, "a DMA-BUF with %u planes cannot be imported", buf->n_planes);
		return NULL;
	}
	bool disjoint = false;
	for (uint32_t i = 1; i < buf->n_planes; i++)
		disjoint |= !cr_dmabuf_same_buffer(buf->planes[0].fd, buf->planes[i].fd);
	VkDrmFormatModifierPropertiesEXT props;
	if (disjoint && (!modifier_props(dev, cr_vk_format_from_fourcc(buf->fourcc), buf->modifier,
					 &props) ||
			 !(props.drmFormatModifierTilingFeatures & VK_FORMAT_FEATURE_DISJOINT_BIT))) {
		cr_log_error(TOPIC, "modifier 0x%016llx cannot bind planes in different DMA-BUFs "
				    "(no DISJOINT feature)", (unsigned long long)buf->modifier);
		return NULL;
	}
	VkSubresourceLayout planes[CR_DMABUF_MAX_PLANES];
	for (uint32_t i = 0; i < buf->n_planes; i++)
		planes[i] = (VkSubresourceLayout){
			.offset = buf->planes[i].offset,
			.rowPitch = buf->planes[i].stride,
		};
	VkImageDrmFormatModifierExplicitCreateInfoEXT explicit = {
		.sType = VK_STRUCTURE_TYPE_IMAGE_DRM_FORMAT_MODIFIER_EXPLICIT_CREATE_INFO_EXT,
		.drmFormatModifier = buf->modifier,
		.drmFormatModifierPlaneCount = buf->n_planes,
		.pPlaneLayouts = planes,
	};
	VkExternalMemoryImageCreateInfo external = {
		.sType = VK_STRUCTURE_TYPE_EXTERNAL_MEMORY_IMAGE_CREATE_INFO,
		.pNext = &explicit,
		.handleTypes = VK_EXTERNAL_MEMORY_HANDLE_TYPE_DMA_BUF_BIT_EXT,
	};
	struct cr_vk_image *img = new_image(dev, buf->fourcc, buf->width, buf->height, usage,
					    &external,
					    disjoint ? VK_IMAGE_CREATE_DISJOINT_BIT : 0);
	if (!img) {
		cr_log_error(TOPIC, "cannot import a %ux%u DMA-BUF with modifier 0x%016llx",
			     buf->width, buf->height, (unsigned long long)buf->modifier);
		return NULL;
	}
	img->layout = *buf;
	for (uint32_t i = 0; i < CR_DMABUF_MAX_PLANES; i++)
		img->layout.planes[i].fd = -1;
	for (uint32_t i = 0; i < (disjoint ? buf->n_planes : 1); i++)
		if (!import_memory(dev, img, buf->planes[i].fd, i, disjoint))
			goto err;
	if (!bind_memory(dev, img, disjoint) || !create_views(dev, img))
		goto err;
	img->initialized = true;
	return img;

err:
	cr_log_error(TOPIC, "import of a %ux%u DMA-BUF with modifier 0x%016llx and %u plane(s) "
			    "failed", buf->width, buf->height, (unsigned long long)buf->modifier,
		     buf->n_planes);
	cr_vk_image_destroy(dev, img);
	return NULL;
}

struct cr_vk_image *cr_vk_image_create(struct cr_vk_device *dev, uint32_t fourcc, uint32_t width,
				       uint32_t height, const uint64_t *modifiers,
				       uint32_t n_modifiers, VkImageUsageFlags usage,
				       bool exportable)
{
	if (exportable && (!dev->ext.external_memory_dma_buf || !dev->get_memory_fd)) {
		cr_log_error(TOPIC, "%s cannot export DMA-BUFs", dev->props.deviceName);
		return NULL;
	}
	VkImageDrmFormatModifierListCreateInfoEXT list = {
		.sType = VK_STRUCTURE_TYPE_IMAGE_DRM_FORMAT_MODIFIER_LIST_CREATE_INFO_EXT,
		.drmFormatModifierCount = n_modifiers,
		.pDrmFormatModifiers = modifiers,
	};
	VkExternalMemoryImageCreateInfo external = {
		.sType = VK_STRUCTURE_TYPE_EXTERNAL_MEMORY_IMAGE_CREATE_INFO,
		.pNext = &list,
		.handleTypes = VK_EXTERNAL_MEMORY_HANDLE_TYPE_DMA_BUF_BIT_EXT,
	};
	if (n_modifiers == 0) {
		cr_log_error(TOPIC, "no modifier to create an image with");
		return NULL;
	}
	struct cr_vk_image *img = new_image(dev, fourcc, width, height, usage,
					    exportable ? (const void *)&external : &list, 0);
	if (!img)
		return NULL;
	VkImageMemoryRequirementsInfo2 ri = {
		.sType = VK_STRUCTURE_TYPE_IMAGE_MEMORY_REQUIREMENTS_INFO_2,
		.image = img->image,
	};
	VkMemoryRequirements2 reqs = { .sType = VK_STRUCTURE_TYPE_MEMORY_REQUIREMENTS_2 };
	vkGetImageMemoryRequirements2(dev->dev, &ri, &reqs);
	int32_t type = cr_vk_device_memory_type(dev, reqs.memoryRequirements.memoryTypeBits, 0,
						VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT);
	VkExportMemoryAllocateInfo export = {
		.sType = VK_STRUCTURE_TYPE_EXPORT_MEMORY_ALLOCATE_INFO,
		.handleTypes = VK_EXTERNAL_MEMORY_HANDLE_TYPE_DMA_BUF_BIT_EXT,
	};
	VkMemoryDedicatedAllocateInfo dedicated = {
		.sType = VK_STRUCTURE_TYPE_MEMORY_DEDICATED_ALLOCATE_INFO,
		.pNext = exportable ? &export : NULL,
		.image = img->image,
	};
	VkMemoryAllocateInfo mai = {
		.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
		.pNext = &dedicated,
		.allocationSize = reqs.memoryRequirements.size,
		.memoryTypeIndex = (uint32_t)type,
	};
	VkImageDrmFormatModifierPropertiesEXT chosen = {
		.sType = VK_STRUCTURE_TYPE_IMAGE_DRM_FORMAT_MODIFIER_PROPERTIES_EXT,
	};
	if (type < 0) {
		cr_log_error(TOPIC, "no memory type for a %ux%u image", width, height);
		goto err;
	}
	if (!cr_vk_check(dev, vkAllocateMemory(dev->dev, &mai, NULL, &img->memory[0]),
			 "vkAllocateMemory (image)"))
		goto err;
	cr_vk_objects_add(CR_VK_OBJECT_MEMORY, 1);
	img->n_memory = 1;
	if (!bind_memory(dev, img, false) ||
	    !cr_vk_check(dev, dev->get_image_modifier(dev->dev, img->image, &chosen),
			 "vkGetImageDrmFormatModifierPropertiesEXT") ||
	    !create_views(dev, img))
		goto err;
	VkDrmFormatModifierPropertiesEXT props = { 0 };
	modifier_props(dev, img->format, chosen.drmFormatModifier, &props);
	img->layout.modifier = chosen.drmFormatModifier;
	img->layout.n_planes = props.drmFormatModifierPlaneCount;
	if (img->layout.n_planes == 0 || img->layout.n_planes > CR_DMABUF_MAX_PLANES) {
		cr_log_error(TOPIC, "modifier 0x%016llx chosen by the driver has %u planes",
			     (unsigned long long)chosen.drmFormatModifier, img->layout.n_planes);
		goto err;
	}
	for (uint32_t i = 0; i < img->layout.n_planes; i++) {
		VkImageSubresource sub = { .aspectMask = memory_plane[i] };
		VkSubresourceLayout l;
		vkGetImageSubresourceLayout(dev->dev, img->image, &sub, &l);
		img->layout.planes[i].offset = (uint32_t)l.offset;
		img->layout.planes[i].stride = (uint32_t)l.rowPitch;
	}
	return img;

err:
	cr_log_error(TOPIC, "cannot create a %ux%u %.4s image with %u modifier(s) (first "
			    "0x%016llx)", width, height, (const char *)&fourcc, n_modifiers,
		     (unsigned long long)modifiers[0]);
	cr_vk_image_destroy(dev, img);
	return NULL;
}

int cr_vk_image_export_fd(struct cr_vk_device *dev, const struct cr_vk_image *img)
{
	int fd = -1;
	VkMemoryGetFdInfoKHR gfi = {
		.sType = VK_STRUCTURE_TYPE_MEMORY_GET_FD_INFO_KHR,
		.memory = img->memory[0],
		.handleType = VK_EXTERNAL_MEMORY_HANDLE_TYPE_DMA_BUF_BIT_EXT,
	};
	if (!dev->get_memory_fd ||
	    !cr_vk_check(dev, dev->get_memory_fd(dev->dev, &gfi, &fd), "vkGetMemoryFdKHR"))
		return -1;
	return fd;
}

void cr_vk_image_destroy(struct cr_vk_device *dev, struct cr_vk_image *img)
{
	if (!img)
		return;
	VkImageView views[2] = { img->view, img->view1 };
	for (uint32_t i = 0; i < 2; i++) {
		if (!views[i])
			continue;
		vkDestroyImageView(dev->dev, views[i], NULL);
		cr_vk_objects_add(CR_VK_OBJECT_IMAGE_VIEW, -1);
	}
	vkDestroyImage(dev->dev, img->image, NULL);
	cr_vk_objects_add(CR_VK_OBJECT_IMAGE, -1);
	for (uint32_t i = 0; i < img->n_memory; i++)
		vkFreeMemory(dev->dev, img->memory[i], NULL);
	cr_vk_objects_add(CR_VK_OBJECT_MEMORY, -(int)img->n_memory);
	free(img);
}
