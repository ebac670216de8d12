/* SPDX-License-Identifier: MIT */
#include "vk-buffer.h"

#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "log.h"
#include "vk-device.h"
#include "vk-objects.h"

#define TOPIC "vk-buffer"

/* A buffer object without memory, for memory of the external @handle_types (0: none). */
static struct cr_vk_buffer *new_buffer(struct cr_vk_device *dev, VkDeviceSize size,
				       VkBufferUsageFlags usage,
				       VkExternalMemoryHandleTypeFlags handle_types)
{
	struct cr_vk_buffer *buf = calloc(1, sizeof(*buf));
	if (!buf)
		return NULL;
	buf->size = size;
	VkExternalMemoryBufferCreateInfo ebci = {
		.sType = VK_STRUCTURE_TYPE_EXTERNAL_MEMORY_BUFFER_CREATE_INFO,
		.handleTypes = handle_types,
	};
	VkBufferCreateInfo bci = {
		.sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
		.pNext = handle_types ? &ebci : NULL,
		.size = size,
		.usage = usage,
		.sharingMode = VK_SHARING_MODE_EXCLUSIVE,
	};
	if (!cr_vk_check(dev, vkCreateBuffer(dev->dev, &bci, NULL, &buf->buffer),
			 "vkCreateBuffer")) {
		free(buf);
		return NULL;
	}
	cr_vk_objects_add(CR_VK_OBJECT_BUFFER, 1);
	return buf;
}

/* Allocates memory of @type (a dedicated allocation when @dedicated, with @chain after it in
 * pNext) and binds it to @buf. */
static bool allocate_and_bind(struct cr_vk_device *dev, struct cr_vk_buffer *buf, int32_t type,
			      VkDeviceSize size, bool dedicated, const void *chain,
			      const char *what)
{
	if (type < 0) {
		cr_log_error(TOPIC, "%s: no suitable memory type for %llu bytes", what,
			     (unsigned long long)size);
		return false;
	}
	VkMemoryDedicatedAllocateInfo dai = {
		.sType = VK_STRUCTURE_TYPE_MEMORY_DEDICATED_ALLOCATE_INFO,
		.pNext = chain,
		.buffer = buf->buffer,
	};
	VkMemoryAllocateInfo mai = {
		.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
		.pNext = dedicated ? (const void *)&dai : chain,
		.allocationSize = size,
		.memoryTypeIndex = (uint32_t)type,
	};
	if (!cr_vk_check(dev, vkAllocateMemory(dev->dev, &mai, NULL, &buf->memory), what))
		return false;
	cr_vk_objects_add(CR_VK_OBJECT_MEMORY, 1);
	return cr_vk_check(dev, vkBindBufferMemory(dev->dev, buf->buffer, buf->memory, 0), what);
}

struct cr_vk_buffer *cr_vk_buffer_create_host(struct cr_vk_device *dev, VkDeviceSize size,
					      VkBufferUsageFlags usage)
{
	struct cr_vk_buffer *buf = new_buffer(dev, size, usage, 0);
	if (!buf)
		return NULL;
	VkMemoryRequirements reqs;
	vkGetBufferMemoryRequirements(dev->dev, buf->buffer, &reqs);
	int32_t type = cr_vk_device_memory_type(
		dev, reqs.memoryTypeBits,
		VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT,
		VK_MEMORY_PROPERTY_HOST_CACHED_BIT);
	if (!allocate_and_bind(dev, buf, type, reqs.size, false, NULL, "host buffer") ||
	    !cr_vk_check(dev, vkMapMemory(dev->dev, buf->memory, 0, VK_WHOLE_SIZE, 0, &buf->map),
			 "vkMapMemory")) {
		cr_vk_buffer_destroy(dev, buf);
		return NULL;
	}
	return buf;
}

struct cr_vk_buffer *cr_vk_buffer_import_dmabuf(struct cr_vk_device *dev, int fd,
						VkDeviceSize size)
{
	if (!dev->ext.external_memory_dma_buf) {
		cr_log_error(TOPIC, "%s cannot import DMA-BUFs (no VK_EXT_external_memory_dma_buf)",
			     dev->props.deviceName);
		return NULL;
	}
	struct cr_vk_buffer *buf = new_buffer(
		dev, size, VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_TRANSFER_SRC_BIT,
		VK_EXTERNAL_MEMORY_HANDLE_TYPE_DMA_BUF_BIT_EXT);
	if (!buf)
		return NULL;
	VkMemoryFdPropertiesKHR fdp = { .sType = VK_STRUCTURE_TYPE_MEMORY_FD_PROPERTIES_KHR };
	if (!cr_vk_check(dev, dev->get_memory_fd_properties(
				      dev->dev, VK_EXTERNAL_MEMORY_HANDLE_TYPE_DMA_BUF_BIT_EXT, fd,
				      &fdp),
			 "vkGetMemoryFdPropertiesKHR"))
		goto err;
	VkMemoryRequirements reqs;
	vkGetBufferMemoryRequirements(dev->dev, buf->buffer, &reqs);
	int32_t type = cr_vk_device_memory_type(dev, reqs.memoryTypeBits & fdp.memoryTypeBits, 0, 0);
	/* Vulkan takes the fd only when the import succeeds: give it a dup. */
	int dup_fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (dup_fd < 0) {
		cr_log_error(TOPIC, "dup of DMA-BUF fd %d failed", fd);
		goto err;
	}
	VkImportMemoryFdInfoKHR import = {
		.sType = VK_STRUCTURE_TYPE_IMPORT_MEMORY_FD_INFO_KHR,
		.handleType = VK_EXTERNAL_MEMORY_HANDLE_TYPE_DMA_BUF_BIT_EXT,
		.fd = dup_fd,
	};
	if (!allocate_and_bind(dev, buf, type, reqs.size, true, &import, "DMA-BUF import")) {
		if (!buf->memory)
			close(dup_fd);
		goto err;
	}
	return buf;

err:
	cr_vk_buffer_destroy(dev, buf);
	return NULL;
}

struct cr_vk_buffer *cr_vk_buffer_import_host(struct cr_vk_device *dev, void *ptr,
					      VkDeviceSize size)
{
	const VkExternalMemoryHandleTypeFlagBits type =
		VK_EXTERNAL_MEMORY_HANDLE_TYPE_HOST_ALLOCATION_BIT_EXT;
	VkDeviceSize align = dev->host_pointer_alignment;
	if (!dev->ext.external_memory_host || !ptr || size == 0 || (uintptr_t)ptr % align ||
	    size % align) {
		cr_log_debug(TOPIC, "host memory %p of %llu bytes is not importable "
				    "(alignment %llu)", ptr, (unsigned long long)size,
			     (unsigned long long)align);
		return NULL;
	}
	VkMemoryHostPointerPropertiesEXT hpp = {
		.sType = VK_STRUCTURE_TYPE_MEMORY_HOST_POINTER_PROPERTIES_EXT,
	};
	if (!cr_vk_check(dev, dev->get_host_pointer_properties(dev->dev, type, ptr, &hpp),
			 "vkGetMemoryHostPointerPropertiesEXT"))
		return NULL;
	struct cr_vk_buffer *buf = new_buffer(dev, size, VK_BUFFER_USAGE_STORAGE_BUFFER_BIT, type);
	if (!buf)
		return NULL;
	VkMemoryRequirements reqs;
	vkGetBufferMemoryRequirements(dev->dev, buf->buffer, &reqs);
	int32_t mt = cr_vk_device_memory_type(dev, reqs.memoryTypeBits & hpp.memoryTypeBits, 0,
					      VK_MEMORY_PROPERTY_HOST_CACHED_BIT);
	VkImportMemoryHostPointerInfoEXT import = {
		.sType = VK_STRUCTURE_TYPE_IMPORT_MEMORY_HOST_POINTER_INFO_EXT,
		.handleType = type,
		.pHostPointer = ptr,
	};
	if (reqs.size > size ||
	    !allocate_and_bind(dev, buf, mt, size, false, &import, "host memory import")) {
		cr_vk_buffer_destroy(dev, buf);
		return NULL;
	}
	return buf;
}

static VkExternalMemoryFeatureFlags dmabuf_features(struct cr_vk_device *dev)
{
	if (!dev->ext.external_memory_dma_buf)
		return 0;
	VkPhysicalDeviceExternalBufferInfo info = {
		.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_EXTERNAL_BUFFER_INFO,
		.usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT,
		.handleType = VK_EXTERNAL_MEMORY_HANDLE_TYPE_DMA_BUF_BIT_EXT,
	};
	VkExternalBufferProperties props = { .sType = VK_STRUCTURE_TYPE_EXTERNAL_BUFFER_PROPERTIES };
	vkGetPhysicalDeviceExternalBufferProperties(dev->phys, &info, &props);
	return props.externalMemoryProperties.externalMemoryFeatures;
}

bool cr_vk_buffer_can_import_dmabuf(struct cr_vk_device *dev)
{
	return dev->ext.external_memory_dma_buf &&
	       (dmabuf_features(dev) & VK_EXTERNAL_MEMORY_FEATURE_IMPORTABLE_BIT);
}

bool cr_vk_buffer_can_export_dmabuf(struct cr_vk_device *dev)
{
	return dev->ext.external_memory_dma_buf && dev->get_memory_fd &&
	       (dmabuf_features(dev) & VK_EXTERNAL_MEMORY_FEATURE_EXPORTABLE_BIT);
}

struct cr_vk_buffer *cr_vk_buffer_create_exportable(struct cr_vk_device *dev, VkDeviceSize size,
						    int *fd)
{
	struct cr_vk_buffer *buf = new_buffer(dev, size, VK_BUFFER_USAGE_STORAGE_BUFFER_BIT,
					      VK_EXTERNAL_MEMORY_HANDLE_TYPE_DMA_BUF_BIT_EXT);
	if (!buf)
		return NULL;
	VkMemoryRequirements reqs;
	vkGetBufferMemoryRequirements(dev->dev, buf->buffer, &reqs);
	int32_t type = cr_vk_device_memory_type(dev, reqs.memoryTypeBits, 0,
						VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT);
	VkExportMemoryAllocateInfo export = {
		.sType = VK_STRUCTURE_TYPE_EXPORT_MEMORY_ALLOCATE_INFO,
		.handleTypes = VK_EXTERNAL_MEMORY_HANDLE_TYPE_DMA_BUF_BIT_EXT,
	};
	if (!allocate_and_bind(dev, buf, type, reqs.size, true, &export, "DMA-BUF export"))
		goto err;
	VkMemoryGetFdInfoKHR gfi = {
		.sType = VK_STRUCTURE_TYPE_MEMORY_GET_FD_INFO_KHR,
		.memory = buf->memory,
		.handleType = VK_EXTERNAL_MEMORY_HANDLE_TYPE_DMA_BUF_BIT_EXT,
	};
	if (!cr_vk_check(dev, dev->get_memory_fd(dev->dev, &gfi, fd), "vkGetMemoryFdKHR"))
		goto err;
	return buf;

err:
	cr_vk_buffer_destroy(dev, buf);
	return NULL;
}

void cr_vk_buffer_destroy(struct cr_vk_device *dev, struct cr_vk_buffer *buf)
{
	if (!buf)
		return;
	if (buf->map)
		vkUnmapMemory(dev->dev, buf->memory);
	vkDestroyBuffer(dev->dev, buf->buffer, NULL);
	cr_vk_objects_add(CR_VK_OBJECT_BUFFER, -1);
	if (buf->memory) {
		vkFreeMemory(dev->dev, buf->memory, NULL);
		cr_vk_objects_add(CR_VK_OBJECT_MEMORY, -1);
	}
	free(buf);
}
