/* SPDX-License-Identifier: MIT */
#include "vm-vk.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* DRM_FORMAT_MOD_LINEAR, without pulling drm_fourcc.h into a Vulkan file. */
#define CR_MOD_LINEAR 0ull

struct cr_vm_vk_job {
	VkCommandBuffer cmd;
	VkFence fence;
	VkSemaphore wait_sem;
	VkSemaphore signal_sem;
};

static bool check(VkResult res, const char *what)
{
	if (res == VK_SUCCESS)
		return true;
	fprintf(stderr, "vm-vk: %s failed: VkResult %d\n", what, res);
	return false;
}

static bool has_extension(const VkExtensionProperties *exts, uint32_t n, const char *name)
{
	for (uint32_t i = 0; i < n; i++)
		if (strcmp(exts[i].extensionName, name) == 0)
			return true;
	return false;
}

static VkPhysicalDevice find_lavapipe(VkInstance instance, char *name, size_t name_len)
{
	VkPhysicalDevice devs[16];
	uint32_t n = 16;
	if (vkEnumeratePhysicalDevices(instance, &n, devs) < 0)
		return VK_NULL_HANDLE;
	for (uint32_t i = 0; i < n; i++) {
		VkPhysicalDeviceDriverProperties driver = {
			.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_DRIVER_PROPERTIES,
		};
		VkPhysicalDeviceProperties2 props = {
			.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2,
			.pNext = &driver,
		};
		vkGetPhysicalDeviceProperties2(devs[i], &props);
		fprintf(stderr, "vm-vk: device %u: %s (driver id %d)\n", i,
			props.properties.deviceName, driver.driverID);
		if (driver.driverID == VK_DRIVER_ID_MESA_LLVMPIPE) {
			snprintf(name, name_len, "%s", props.properties.deviceName);
			return devs[i];
		}
	}
	fprintf(stderr, "vm-vk: no lavapipe among %u devices\n", n);
	return VK_NULL_HANDLE;
}

static bool transfer_family(VkPhysicalDevice phys, uint32_t *family)
{
	VkQueueFamilyProperties props[16];
	uint32_t n = 16;
	vkGetPhysicalDeviceQueueFamilyProperties(phys, &n, props);
	for (uint32_t i = 0; i < n; i++) {
		if (props[i].queueFlags &
		    (VK_QUEUE_TRANSFER_BIT | VK_QUEUE_GRAPHICS_BIT | VK_QUEUE_COMPUTE_BIT)) {
			*family = i;
			return true;
		}
	}
	return false;
}

struct cr_vm_vk *cr_vm_vk_create(void)
{
	struct cr_vm_vk *vk = calloc(1, sizeof(*vk));
	if (!vk)
		return NULL;

	VkApplicationInfo app = {
		.sType = VK_STRUCTURE_TYPE_APPLICATION_INFO,
		.pApplicationName = "castrelay-vm-test",
		.apiVersion = VK_API_VERSION_1_3,
	};
	VkInstanceCreateInfo ici = {
		.sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO,
		.pApplicationInfo = &app,
	};
	if (!check(vkCreateInstance(&ici, NULL, &vk->instance), "vkCreateInstance"))
		goto free_vk;
	vk->phys = find_lavapipe(vk->instance, vk->device_name, sizeof(vk->device_name));
	if (vk->phys == VK_NULL_HANDLE)
		goto destroy_instance;
	if (!transfer_family(vk->phys, &vk->queue_family)) {
		fprintf(stderr, "vm-vk: lavapipe has no transfer queue\n");
		goto destroy_instance;
	}
	vkGetPhysicalDeviceMemoryProperties(vk->phys, &vk->mem_props);

	uint32_t n_exts = 0;
	vkEnumerateDeviceExtensionProperties(vk->phys, NULL, &n_exts, NULL);
	VkExtensionProperties *exts = calloc(n_exts ? n_exts : 1, sizeof(*exts));
	if (!exts)
		goto destroy_instance;
	vkEnumerateDeviceExtensionProperties(vk->phys, NULL, &n_exts, exts);
	const char *enable[8];
	uint32_t n_enable = 0;
	static const struct {
		const char *name;
		size_t flag;
	} wanted[] = {
		{ VK_KHR_EXTERNAL_MEMORY_FD_EXTENSION_NAME,
		  offsetof(struct cr_vm_vk, ext.external_memory_fd) },
		{ VK_EXT_EXTERNAL_MEMORY_DMA_BUF_EXTENSION_NAME,
		  offsetof(struct cr_vm_vk, ext.external_memory_dma_buf) },
		{ VK_EXT_IMAGE_DRM_FORMAT_MODIFIER_EXTENSION_NAME,
		  offsetof(struct cr_vm_vk, ext.image_drm_format_modifier) },
		{ VK_KHR_EXTERNAL_SEMAPHORE_FD_EXTENSION_NAME,
		  offsetof(struct cr_vm_vk, ext.external_semaphore_fd) },
		{ VK_EXT_QUEUE_FAMILY_FOREIGN_EXTENSION_NAME,
		  offsetof(struct cr_vm_vk, ext.queue_family_foreign) },
	};
	for (size_t i = 0; i < sizeof(wanted) / sizeof(wanted[0]); i++) {
		if (!has_extension(exts, n_exts, wanted[i].name))
			continue;
		*(bool *)((char *)vk + wanted[i].flag) = true;
		enable[n_enable++] = wanted[i].name;
	}
	free(exts);
	vk->foreign_family = vk->ext.queue_family_foreign ? VK_QUEUE_FAMILY_FOREIGN_EXT :
							    VK_QUEUE_FAMILY_EXTERNAL;

	float priority = 1.0f;
	VkDeviceQueueCreateInfo qci = {
		.sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO,
		.queueFamilyIndex = vk->queue_family,
		.queueCount = 1,
		.pQueuePriorities = &priority,
	};
	VkDeviceCreateInfo dci = {
		.sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO,
		.queueCreateInfoCount = 1,
		.pQueueCreateInfos = &qci,
		.enabledExtensionCount = n_enable,
		.ppEnabledExtensionNames = enable,
	};
	if (!check(vkCreateDevice(vk->phys, &dci, NULL, &vk->dev), "vkCreateDevice"))
		goto destroy_instance;
	vkGetDeviceQueue(vk->dev, vk->queue_family, 0, &vk->queue);
	VkCommandPoolCreateInfo pci = {
		.sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO,
		.flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT,
		.queueFamilyIndex = vk->queue_family,
	};
	if (!check(vkCreateCommandPool(vk->dev, &pci, NULL, &vk->pool), "vkCreateCommandPool"))
		goto destroy_device;
	if (vk->ext.external_memory_fd)
		vk->get_memory_fd_properties = (PFN_vkGetMemoryFdPropertiesKHR)vkGetDeviceProcAddr(
			vk->dev, "vkGetMemoryFdPropertiesKHR");
	if (vk->ext.external_semaphore_fd) {
		vk->import_semaphore_fd = (PFN_vkImportSemaphoreFdKHR)vkGetDeviceProcAddr(
			vk->dev, "vkImportSemaphoreFdKHR");
		vk->get_semaphore_fd = (PFN_vkGetSemaphoreFdKHR)vkGetDeviceProcAddr(
			vk->dev, "vkGetSemaphoreFdKHR");
	}
	return vk;

destroy_device:
	vkDestroyDevice(vk->dev, NULL);
destroy_instance:
	vkDestroyInstance(vk->instance, NULL);
free_vk:
	free(vk);
	return NULL;
}

void cr_vm_vk_destroy(struct cr_vm_vk *vk)
{
	if (!vk)
		return;
	vkDeviceWaitIdle(vk->dev);
	vkDestroyCommandPool(vk->dev, vk->pool, NULL);
	vkDestroyDevice(vk->dev, NULL);
	vkDestroyInstance(vk->instance, NULL);
	free(vk);
}

void cr_vm_vk_sync_fd_features(struct cr_vm_vk *vk, bool *import, bool *export)
{
	VkPhysicalDeviceExternalSemaphoreInfo info = {
		.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_EXTERNAL_SEMAPHORE_INFO,
		.handleType = VK_EXTERNAL_SEMAPHORE_HANDLE_TYPE_SYNC_FD_BIT,
	};
	VkExternalSemaphoreProperties props = {
		.sType = VK_STRUCTURE_TYPE_EXTERNAL_SEMAPHORE_PROPERTIES,
	};
	vkGetPhysicalDeviceExternalSemaphoreProperties(vk->phys, &info, &props);
	*import = props.externalSemaphoreFeatures & VK_EXTERNAL_SEMAPHORE_FEATURE_IMPORTABLE_BIT;
	*export = props.externalSemaphoreFeatures & VK_EXTERNAL_SEMAPHORE_FEATURE_EXPORTABLE_BIT;
}

bool cr_vm_vk_dmabuf_buffer_importable(struct cr_vm_vk *vk)
{
	VkPhysicalDeviceExternalBufferInfo info = {
		.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_EXTERNAL_BUFFER_INFO,
		.usage = VK_BUFFER_USAGE_TRANSFER_SRC_BIT,
		.handleType = VK_EXTERNAL_MEMORY_HANDLE_TYPE_DMA_BUF_BIT_EXT,
	};
	VkExternalBufferProperties props = {
		.sType = VK_STRUCTURE_TYPE_EXTERNAL_BUFFER_PROPERTIES,
	};
	vkGetPhysicalDeviceExternalBufferProperties(vk->phys, &info, &props);
	return props.externalMemoryProperties.externalMemoryFeatures &
	       VK_EXTERNAL_MEMORY_FEATURE_IMPORTABLE_BIT;
}

bool cr_vm_vk_format_has_modifier(struct cr_vm_vk *vk, VkFormat format, uint64_t modifier)
{
	if (!vk->ext.image_drm_format_modifier)
		return false;
	VkDrmFormatModifierPropertiesEXT mods[32];
	VkDrmFormatModifierPropertiesListEXT list = {
		.sType = VK_STRUCTURE_TYPE_DRM_FORMAT_MODIFIER_PROPERTIES_LIST_EXT,
		.drmFormatModifierCount = 32,
		.pDrmFormatModifierProperties = mods,
	};
	VkFormatProperties2 props = {
		.sType = VK_STRUCTURE_TYPE_FORMAT_PROPERTIES_2,
		.pNext = &list,
	};
	vkGetPhysicalDeviceFormatProperties2(vk->phys, format, &props);
	for (uint32_t i = 0; i < list.drmFormatModifierCount; i++)
		if (mods[i].drmFormatModifier == modifier &&
		    (mods[i].drmFormatModifierTilingFeatures & VK_FORMAT_FEATURE_TRANSFER_SRC_BIT))
			return true;
	return false;
}

static int32_t memory_type(struct cr_vm_vk *vk, uint32_t bits, VkMemoryPropertyFlags want)
{
	for (uint32_t i = 0; i < vk->mem_props.memoryTypeCount; i++)
		if ((bits & (1u << i)) &&
		    (vk->mem_props.memoryTypes[i].propertyFlags & want) == want)
			return (int32_t)i;
	return -1;
}

struct cr_vm_vk_buffer *cr_vm_vk_buffer_create_host(struct cr_vm_vk *vk, VkDeviceSize size)
{
	struct cr_vm_vk_buffer *buf = calloc(1, sizeof(*buf));
	if (!buf)
		return NULL;
	buf->size = size;
	VkBufferCreateInfo bci = {
		.sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
		.size = size,
		.usage = VK_BUFFER_USAGE_TRANSFER_DST_BIT | VK_BUFFER_USAGE_TRANSFER_SRC_BIT,
	};
	if (!check(vkCreateBuffer(vk->dev, &bci, NULL, &buf->buffer), "vkCreateBuffer(host)"))
		goto free_buf;
	VkMemoryRequirements req;
	vkGetBufferMemoryRequirements(vk->dev, buf->buffer, &req);
	int32_t type = memory_type(vk, req.memoryTypeBits, VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT |
					  VK_MEMORY_PROPERTY_HOST_COHERENT_BIT);
	if (type < 0) {
		fprintf(stderr, "vm-vk: no host-visible coherent memory type\n");
		goto destroy_buffer;
	}
	VkMemoryAllocateInfo mai = {
		.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
		.allocationSize = req.size,
		.memoryTypeIndex = (uint32_t)type,
	};
	if (!check(vkAllocateMemory(vk->dev, &mai, NULL, &buf->memory), "vkAllocateMemory(host)"))
		goto destroy_buffer;
	if (!check(vkBindBufferMemory(vk->dev, buf->buffer, buf->memory, 0), "vkBindBufferMemory"))
		goto free_memory;
	if (!check(vkMapMemory(vk->dev, buf->memory, 0, VK_WHOLE_SIZE, 0, &buf->map),
		   "vkMapMemory"))
		goto free_memory;
	return buf;

free_memory:
	vkFreeMemory(vk->dev, buf->memory, NULL);
destroy_buffer:
	vkDestroyBuffer(vk->dev, buf->buffer, NULL);
free_buf:
	free(buf);
	return NULL;
}

/* Allocates memory for @req from the DMA-BUF @dmabuf (borrowed), dedicated to one resource. */
static VkDeviceMemory import_memory(struct cr_vm_vk *vk, int dmabuf, VkMemoryRequirements req,
				    VkImage image, VkBuffer buffer)
{
	if (!vk->ext.external_memory_dma_buf || !vk->get_memory_fd_properties) {
		fprintf(stderr, "vm-vk: no VK_EXT_external_memory_dma_buf\n");
		return VK_NULL_HANDLE;
	}
	VkMemoryFdPropertiesKHR fd_props = { .sType = VK_STRUCTURE_TYPE_MEMORY_FD_PROPERTIES_KHR };
	if (!check(vk->get_memory_fd_properties(vk->dev,
						VK_EXTERNAL_MEMORY_HANDLE_TYPE_DMA_BUF_BIT_EXT,
						dmabuf, &fd_props),
		   "vkGetMemoryFdPropertiesKHR"))
		return VK_NULL_HANDLE;
	int32_t type = memory_type(vk, req.memoryTypeBits & fd_props.memoryTypeBits, 0);
	if (type < 0) {
		fprintf(stderr, "vm-vk: no memory type for the DMA-BUF (0x%x & 0x%x)\n",
			req.memoryTypeBits, fd_props.memoryTypeBits);
		return VK_NULL_HANDLE;
	}
	/* Vulkan takes the fd only on success: give it a dup and close that on failure. */
	int fd = dup(dmabuf);
	if (fd < 0) {
		fprintf(stderr, "vm-vk: dup: %s\n", strerror(errno));
		return VK_NULL_HANDLE;
	}
	VkMemoryDedicatedAllocateInfo dedicated = {
		.sType = VK_STRUCTURE_TYPE_MEMORY_DEDICATED_ALLOCATE_INFO,
		.image = image,
		.buffer = buffer,
	};
	VkImportMemoryFdInfoKHR import = {
		.sType = VK_STRUCTURE_TYPE_IMPORT_MEMORY_FD_INFO_KHR,
		.pNext = &dedicated,
		.handleType = VK_EXTERNAL_MEMORY_HANDLE_TYPE_DMA_BUF_BIT_EXT,
		.fd = fd,
	};
	VkMemoryAllocateInfo mai = {
		.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
		.pNext = &import,
		.allocationSize = req.size,
		.memoryTypeIndex = (uint32_t)type,
	};
	VkDeviceMemory mem = VK_NULL_HANDLE;
	if (!check(vkAllocateMemory(vk->dev, &mai, NULL, &mem), "vkAllocateMemory(DMA-BUF)")) {
		close(fd);
		return VK_NULL_HANDLE;
	}
	return mem;
}

struct cr_vm_vk_buffer *cr_vm_vk_buffer_import(struct cr_vm_vk *vk, int dmabuf,
					       VkDeviceSize size)
{
	struct cr_vm_vk_buffer *buf = calloc(1, sizeof(*buf));
	if (!buf)
		return NULL;
	buf->size = size;
	buf->imported = true;
	VkExternalMemoryBufferCreateInfo ext = {
		.sType = VK_STRUCTURE_TYPE_EXTERNAL_MEMORY_BUFFER_CREATE_INFO,
		.handleTypes = VK_EXTERNAL_MEMORY_HANDLE_TYPE_DMA_BUF_BIT_EXT,
	};
	VkBufferCreateInfo bci = {
		.sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
		.pNext = &ext,
		.size = size,
		.usage = VK_BUFFER_USAGE_TRANSFER_SRC_BIT,
	};
	if (!check(vkCreateBuffer(vk->dev, &bci, NULL, &buf->buffer), "vkCreateBuffer(import)"))
		goto free_buf;
	VkMemoryRequirements req;
	vkGetBufferMemoryRequirements(vk->dev, buf->buffer, &req);
	buf->memory = import_memory(vk, dmabuf, req, VK_NULL_HANDLE, buf->buffer);
	if (buf->memory == VK_NULL_HANDLE)
		goto destroy_buffer;
	if (!check(vkBindBufferMemory(vk->dev, buf->buffer, buf->memory, 0),
		   "vkBindBufferMemory(import)"))
		goto free_memory;
	return buf;

free_memory:
	vkFreeMemory(vk->dev, buf->memory, NULL);
destroy_buffer:
	vkDestroyBuffer(vk->dev, buf->buffer, NULL);
free_buf:
	free(buf);
	return NULL;
}

void cr_vm_vk_buffer_destroy(struct cr_vm_vk *vk, struct cr_vm_vk_buffer *buf)
{
	if (!buf)
		return;
	vkDestroyBuffer(vk->dev, buf->buffer, NULL);
	vkFreeMemory(vk->dev, buf->memory, NULL);
	free(buf);
}

struct cr_vm_vk_image *cr_vm_vk_image_import(struct cr_vm_vk *vk, int dmabuf, uint32_t width,
					     uint32_t height, uint32_t stride, VkFormat format)
{
	if (!vk->ext.image_drm_format_modifier) {
		fprintf(stderr, "vm-vk: no VK_EXT_image_drm_format_modifier\n");
		return NULL;
	}
	struct cr_vm_vk_image *img = calloc(1, sizeof(*img));
	if (!img)
		return NULL;
	img->width = width;
	img->height = height;
	img->bytes_per_pixel = 4;
	VkSubresourceLayout plane = { .offset = 0, .rowPitch = stride };
	VkImageDrmFormatModifierExplicitCreateInfoEXT explicit_mod = {
		.sType = VK_STRUCTURE_TYPE_IMAGE_DRM_FORMAT_MODIFIER_EXPLICIT_CREATE_INFO_EXT,
		.drmFormatModifier = CR_MOD_LINEAR,
		.drmFormatModifierPlaneCount = 1,
		.pPlaneLayouts = &plane,
	};
	VkExternalMemoryImageCreateInfo ext = {
		.sType = VK_STRUCTURE_TYPE_EXTERNAL_MEMORY_IMAGE_CREATE_INFO,
		.pNext = &explicit_mod,
		.handleTypes = VK_EXTERNAL_MEMORY_HANDLE_TYPE_DMA_BUF_BIT_EXT,
	};
	VkImageCreateInfo ici = {
		.sType = VK_STRUCTURE_TYPE_IMAGE_CREATE_INFO,
		.pNext = &ext,
		.imageType = VK_IMAGE_TYPE_2D,
		.format = format,
		.extent = { width, height, 1 },
		.mipLevels = 1,
		.arrayLayers = 1,
		.samples = VK_SAMPLE_COUNT_1_BIT,
		.tiling = VK_IMAGE_TILING_DRM_FORMAT_MODIFIER_EXT,
		.usage = VK_IMAGE_USAGE_TRANSFER_SRC_BIT,
		.sharingMode = VK_SHARING_MODE_EXCLUSIVE,
		.initialLayout = VK_IMAGE_LAYOUT_UNDEFINED,
	};
	if (!check(vkCreateImage(vk->dev, &ici, NULL, &img->image), "vkCreateImage(import)"))
		goto free_img;
	VkMemoryRequirements req;
	vkGetImageMemoryRequirements(vk->dev, img->image, &req);
	img->memory = import_memory(vk, dmabuf, req, img->image, VK_NULL_HANDLE);
	if (img->memory == VK_NULL_HANDLE)
		goto destroy_image;
	if (!check(vkBindImageMemory(vk->dev, img->image, img->memory, 0), "vkBindImageMemory"))
		goto free_memory;
	return img;

free_memory:
	vkFreeMemory(vk->dev, img->memory, NULL);
destroy_image:
	vkDestroyImage(vk->dev, img->image, NULL);
free_img:
	free(img);
	return NULL;
}

void cr_vm_vk_image_destroy(struct cr_vm_vk *vk, struct cr_vm_vk_image *img)
{
	if (!img)
		return;
	vkDestroyImage(vk->dev, img->image, NULL);
	vkFreeMemory(vk->dev, img->memory, NULL);
	free(img);
}

/*
 * Ownership transfer of an imported source between the foreign producer and our queue:
 * @acquire before the copy, release after it.
 */
static void source_barrier(struct cr_vm_vk *vk, VkCommandBuffer cmd,
			   const struct cr_vm_vk_copy *copy, bool acquire)
{
	uint32_t src_family = acquire ? vk->foreign_family : vk->queue_family;
	uint32_t dst_family = acquire ? vk->queue_family : vk->foreign_family;
	VkAccessFlags src_access = acquire ? 0 : VK_ACCESS_TRANSFER_READ_BIT;
	VkAccessFlags dst_access = acquire ? VK_ACCESS_TRANSFER_READ_BIT : 0;
	VkPipelineStageFlags src_stage = acquire ? VK_PIPELINE_STAGE_TOP_OF_PIPE_BIT :
						   VK_PIPELINE_STAGE_TRANSFER_BIT;
	VkPipelineStageFlags dst_stage = acquire ? VK_PIPELINE_STAGE_TRANSFER_BIT :
						   VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT;
	if (copy->src_image) {
		VkImageMemoryBarrier b = {
			.sType = VK_STRUCTURE_TYPE_IMAGE_MEMORY_BARRIER,
			.srcAccessMask = src_access,
			.dstAccessMask = dst_access,
			/* GENERAL, not UNDEFINED: UNDEFINED would allow discarding the contents. */
			.oldLayout = VK_IMAGE_LAYOUT_GENERAL,
			.newLayout = VK_IMAGE_LAYOUT_GENERAL,
			.srcQueueFamilyIndex = src_family,
			.dstQueueFamilyIndex = dst_family,
			.image = copy->src_image->image,
			.subresourceRange = { VK_IMAGE_ASPECT_COLOR_BIT, 0, 1, 0, 1 },
		};
		vkCmdPipelineBarrier(cmd, src_stage, dst_stage, 0, 0, NULL, 0, NULL, 1, &b);
	} else if (copy->src_buffer->imported) {
		VkBufferMemoryBarrier b = {
			.sType = VK_STRUCTURE_TYPE_BUFFER_MEMORY_BARRIER,
			.srcAccessMask = src_access,
			.dstAccessMask = dst_access,
			.srcQueueFamilyIndex = src_family,
			.dstQueueFamilyIndex = dst_family,
			.buffer = copy->src_buffer->buffer,
			.size = VK_WHOLE_SIZE,
		};
		vkCmdPipelineBarrier(cmd, src_stage, dst_stage, 0, 0, NULL, 1, &b, 0, NULL);
	}
}

static bool record_copy(struct cr_vm_vk *vk, VkCommandBuffer cmd,
			const struct cr_vm_vk_copy *copy)
{
	VkCommandBufferBeginInfo begin = {
		.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
		.flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT,
	};
	if (!check(vkBeginCommandBuffer(cmd, &begin), "vkBeginCommandBuffer"))
		return false;
	source_barrier(vk, cmd, copy, true);
	if (copy->src_image) {
		const struct cr_vm_vk_image *img = copy->src_image;
		VkBufferImageCopy region = {
			.bufferRowLength = img->width,
			.bufferImageHeight = img->height,
			.imageSubresource = { VK_IMAGE_ASPECT_COLOR_BIT, 0, 0, 1 },
			.imageExtent = { img->width, img->height, 1 },
		};
		vkCmdCopyImageToBuffer(cmd, img->image, VK_IMAGE_LAYOUT_GENERAL, copy->dst->buffer,
				       1, &region);
	} else {
		VkBufferCopy region = { .size = copy->src_buffer->size };
		vkCmdCopyBuffer(cmd, copy->src_buffer->buffer, copy->dst->buffer, 1, &region);
	}
	source_barrier(vk, cmd, copy, false);
	VkBufferMemoryBarrier to_host = {
		.sType = VK_STRUCTURE_TYPE_BUFFER_MEMORY_BARRIER,
		.srcAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT,
		.dstAccessMask = VK_ACCESS_HOST_READ_BIT,
		.srcQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED,
		.dstQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED,
		.buffer = copy->dst->buffer,
		.size = VK_WHOLE_SIZE,
	};
	vkCmdPipelineBarrier(cmd, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_PIPELINE_STAGE_HOST_BIT, 0,
			     0, NULL, 1, &to_host, 0, NULL);
	return check(vkEndCommandBuffer(cmd), "vkEndCommandBuffer");
}

static VkSemaphore create_semaphore(struct cr_vm_vk *vk, bool exportable)
{
	VkExportSemaphoreCreateInfo export = {
		.sType = VK_STRUCTURE_TYPE_EXPORT_SEMAPHORE_CREATE_INFO,
		.handleTypes = VK_EXTERNAL_SEMAPHORE_HANDLE_TYPE_SYNC_FD_BIT,
	};
	VkSemaphoreCreateInfo sci = {
		.sType = VK_STRUCTURE_TYPE_SEMAPHORE_CREATE_INFO,
		.pNext = exportable ? &export : NULL,
	};
	VkSemaphore sem = VK_NULL_HANDLE;
	if (!check(vkCreateSemaphore(vk->dev, &sci, NULL, &sem), "vkCreateSemaphore"))
		return VK_NULL_HANDLE;
	return sem;
}

static void job_free(struct cr_vm_vk *vk, struct cr_vm_vk_job *job)
{
	vkDestroySemaphore(vk->dev, job->signal_sem, NULL);
	vkDestroySemaphore(vk->dev, job->wait_sem, NULL);
	vkDestroyFence(vk->dev, job->fence, NULL);
	if (job->cmd)
		vkFreeCommandBuffers(vk->dev, vk->pool, 1, &job->cmd);
	free(job);
}

struct cr_vm_vk_job *cr_vm_vk_copy_submit(struct cr_vm_vk *vk, const struct cr_vm_vk_copy *copy)
{
	int wait_fd = copy->wait_sync_file;
	struct cr_vm_vk_job *job = calloc(1, sizeof(*job));
	if (!job)
		goto close_wait_fd;
	if ((wait_fd >= 0 || copy->export_sync_file) && !vk->import_semaphore_fd) {
		fprintf(stderr, "vm-vk: no VK_KHR_external_semaphore_fd\n");
		goto free_job;
	}
	VkCommandBufferAllocateInfo cai = {
		.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
		.commandPool = vk->pool,
		.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
		.commandBufferCount = 1,
	};
	if (!check(vkAllocateCommandBuffers(vk->dev, &cai, &job->cmd), "vkAllocateCommandBuffers"))
		goto free_job;
	if (!record_copy(vk, job->cmd, copy))
		goto free_job;
	VkFenceCreateInfo fci = { .sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO };
	if (!check(vkCreateFence(vk->dev, &fci, NULL, &job->fence), "vkCreateFence"))
		goto free_job;
	if (wait_fd >= 0) {
		job->wait_sem = create_semaphore(vk, false);
		if (job->wait_sem == VK_NULL_HANDLE)
			goto free_job;
		VkImportSemaphoreFdInfoKHR import = {
			.sType = VK_STRUCTURE_TYPE_IMPORT_SEMAPHORE_FD_INFO_KHR,
			.semaphore = job->wait_sem,
			/* SYNC_FD imports must be temporary. */
			.flags = VK_SEMAPHORE_IMPORT_TEMPORARY_BIT,
			.handleType = VK_EXTERNAL_SEMAPHORE_HANDLE_TYPE_SYNC_FD_BIT,
			.fd = wait_fd,
		};
		if (!check(vk->import_semaphore_fd(vk->dev, &import), "vkImportSemaphoreFdKHR"))
			goto free_job;
		wait_fd = -1; /* owned by the semaphore now */
	}
	if (copy->export_sync_file) {
		job->signal_sem = create_semaphore(vk, true);
		if (job->signal_sem == VK_NULL_HANDLE)
			goto free_job;
	}
	VkPipelineStageFlags wait_stage = VK_PIPELINE_STAGE_TRANSFER_BIT;
	VkSubmitInfo submit = {
		.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO,
		.waitSemaphoreCount = job->wait_sem ? 1 : 0,
		.pWaitSemaphores = &job->wait_sem,
		.pWaitDstStageMask = &wait_stage,
		.commandBufferCount = 1,
		.pCommandBuffers = &job->cmd,
		.signalSemaphoreCount = job->signal_sem ? 1 : 0,
		.pSignalSemaphores = &job->signal_sem,
	};
	if (!check(vkQueueSubmit(vk->queue, 1, &submit, job->fence), "vkQueueSubmit"))
		goto free_job;
	return job;

free_job:
	if (job)
		job_free(vk, job);
close_wait_fd:
	if (wait_fd >= 0)
		close(wait_fd);
	return NULL;
}

int cr_vm_vk_job_poll(struct cr_vm_vk *vk, struct cr_vm_vk_job *job)
{
	VkResult res = vkGetFenceStatus(vk->dev, job->fence);
	if (res == VK_SUCCESS)
		return 1;
	if (res == VK_NOT_READY)
		return 0;
	check(res, "vkGetFenceStatus");
	return -1;
}

int cr_vm_vk_job_wait(struct cr_vm_vk *vk, struct cr_vm_vk_job *job, uint64_t timeout_ns)
{
	VkResult res = vkWaitForFences(vk->dev, 1, &job->fence, VK_TRUE, timeout_ns);
	if (res == VK_SUCCESS)
		return 1;
	if (res == VK_TIMEOUT)
		return 0;
	check(res, "vkWaitForFences");
	return -1;
}

int cr_vm_vk_job_export_sync_file(struct cr_vm_vk *vk, struct cr_vm_vk_job *job)
{
	if (!job->signal_sem || !vk->get_semaphore_fd) {
		fprintf(stderr, "vm-vk: job has no exportable semaphore\n");
		return -1;
	}
	VkSemaphoreGetFdInfoKHR info = {
		.sType = VK_STRUCTURE_TYPE_SEMAPHORE_GET_FD_INFO_KHR,
		.semaphore = job->signal_sem,
		.handleType = VK_EXTERNAL_SEMAPHORE_HANDLE_TYPE_SYNC_FD_BIT,
	};
	int fd = -1;
	if (!check(vk->get_semaphore_fd(vk->dev, &info, &fd), "vkGetSemaphoreFdKHR"))
		return -1;
	return fd;
}

void cr_vm_vk_job_destroy(struct cr_vm_vk *vk, struct cr_vm_vk_job *job)
{
	if (!job)
		return;
	if (cr_vm_vk_job_wait(vk, job, 20ull * 1000000000ull) != 1) {
		fprintf(stderr, "vm-vk: leaking a job that did not complete\n");
		return;
	}
	job_free(vk, job);
}
