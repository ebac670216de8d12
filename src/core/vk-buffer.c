/* SPDX-License-Identifier: MIT */
#include "vk-buffer.h"

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "log.h"
#include "vk-device.h"

#define TOPIC "vk-buffer"

struct cr_vk_buffer *cr_vk_buffer_create_host(struct cr_vk_device *dev, VkDeviceSize size,
					      VkBufferUsageFlags usage)
{
	struct cr_vk_buffer *buf = calloc(1, sizeof(*buf));
	if (!buf)
		return NULL;
	buf->size = size;
	VkBufferCreateInfo bci = {
		.sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
		.size = size,
		.usage = usage,
		.sharingMode = VK_SHARING_MODE_EXCLUSIVE,
	};
	if (!cr_vk_check(dev, vkCreateBuffer(dev->dev, &bci, NULL, &buf->buffer), "vkCreateBuffer"))
		goto err_free;
	VkMemoryRequirements reqs;
	vkGetBufferMemoryRequirements(dev->dev, buf->buffer, &reqs);
	int32_t type = cr_vk_device_memory_type(
		dev, reqs.memoryTypeBits,
		VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT,
		VK_MEMORY_PROPERTY_HOST_CACHED_BIT);
	if (type < 0) {
		cr_log_error(TOPIC, "no host-visible coherent memory type for %llu bytes",
			     (unsigned long long)size);
		goto err_buffer;
	}
	VkMemoryAllocateInfo mai = {
		.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
		.allocationSize = reqs.size,
		.memoryTypeIndex = (uint32_t)type,
	};
	if (!cr_vk_check(dev, vkAllocateMemory(dev->dev, &mai, NULL, &buf->memory),
			 "vkAllocateMemory (host buffer)"))
		goto err_buffer;
	if (!cr_vk_check(dev, vkBindBufferMemory(dev->dev, buf->buffer, buf->memory, 0),
			 "vkBindBufferMemory"))
		goto err_memory;
	if (!cr_vk_check(dev, vkMapMemory(dev->dev, buf->memory, 0, VK_WHOLE_SIZE, 0, &buf->map),
			 "vkMapMemory"))
		goto err_memory;
	return buf;

err_memory:
	vkFreeMemory(dev->dev, buf->memory, NULL);
err_buffer:
	vkDestroyBuffer(dev->dev, buf->buffer, NULL);
err_free:
	free(buf);
	return NULL;
}

struct cr_vk_buffer *cr_vk_buffer_import_dmabuf(struct cr_vk_device *dev, int fd,
						VkDeviceSize size)
{
	if (!dev->ext.external_memory_dma_buf) {
		cr_log_error(TOPIC, "%s cannot import DMA-BUFs (no VK_EXT_external_memory_dma_buf)",
			     dev->props.deviceName);
		return NULL;
	}
	struct cr_vk_buffer *buf = calloc(1, sizeof(*buf));
	if (!buf)
		return NULL;
	buf->size = size;
	VkExternalMemoryBufferCreateInfo ebci = {
		.sType = VK_STRUCTURE_TYPE_EXTERNAL_MEMORY_BUFFER_CREATE_INFO,
		.handleTypes = VK_EXTERNAL_MEMORY_HANDLE_TYPE_DMA_BUF_BIT_EXT,
	};
	VkBufferCreateInfo bci = {
		.sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
		.pNext = &ebci,
		.size = size,
		.usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_TRANSFER_SRC_BIT,
		.sharingMode = VK_SHARING_MODE_EXCLUSIVE,
	};
	if (!cr_vk_check(dev, vkCreateBuffer(dev->dev, &bci, NULL, &buf->buffer),
			 "vkCreateBuffer (dma-buf import)"))
		goto err_free;

	VkMemoryFdPropertiesKHR fdp = { .sType = VK_STRUCTURE_TYPE_MEMORY_FD_PROPERTIES_KHR };
	if (!cr_vk_check(dev, dev->get_memory_fd_properties(
				      dev->dev, VK_EXTERNAL_MEMORY_HANDLE_TYPE_DMA_BUF_BIT_EXT, fd,
				      &fdp),
			 "vkGetMemoryFdPropertiesKHR"))
		goto err_buffer;
	VkMemoryRequirements reqs;
	vkGetBufferMemoryRequirements(dev->dev, buf->buffer, &reqs);
	int32_t type = cr_vk_device_memory_type(dev, reqs.memoryTypeBits & fdp.memoryTypeBits, 0, 0);
	if (type < 0) {
		cr_log_error(TOPIC, "no memory type can hold the DMA-BUF (buffer 0x%x, fd 0x%x)",
			     reqs.memoryTypeBits, fdp.memoryTypeBits);
		goto err_buffer;
	}
	int dup_fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (dup_fd < 0) {
		cr_log_error(TOPIC, "dup of DMA-BUF fd %d failed", fd);
		goto err_buffer;
	}
	VkImportMemoryFdInfoKHR import = {
		.sType = VK_STRUCTURE_TYPE_IMPORT_MEMORY_FD_INFO_KHR,
		.handleType = VK_EXTERNAL_MEMORY_HANDLE_TYPE_DMA_BUF_BIT_EXT,
		.fd = dup_fd,
	};
	VkMemoryDedicatedAllocateInfo dedicated = {
		.sType = VK_STRUCTURE_TYPE_MEMORY_DEDICATED_ALLOCATE_INFO,
		.pNext = &import,
		.buffer = buf->buffer,
	};
	VkMemoryAllocateInfo mai = {
		.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
		.pNext = &dedicated,
		.allocationSize = reqs.size,
		.memoryTypeIndex = (uint32_t)type,
	};
	if (!cr_vk_check(dev, vkAllocateMemory(dev->dev, &mai, NULL, &buf->memory),
			 "vkAllocateMemory (dma-buf import)")) {
		close(dup_fd);
		goto err_buffer;
	}
	if (!cr_vk_check(dev, vkBindBufferMemory(dev->dev, buf->buffer, buf->memory, 0),
			 "vkBindBufferMemory (dma-buf import)"))
		goto err_memory;
	return buf;

err_memory:
	vkFreeMemory(dev->dev, buf->memory, NULL);
err_buffer:
	vkDestroyBuffer(dev->dev, buf->buffer, NULL);
err_free:
	free(buf);
	return NULL;
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
	struct cr_vk_buffer *buf = calloc(1, sizeof(*buf));
	if (!buf)
		return NULL;
	buf->size = size;
	VkExternalMemoryBufferCreateInfo ebci = {
		.sType = VK_STRUCTURE_TYPE_EXTERNAL_MEMORY_BUFFER_CREATE_INFO,
		.handleTypes = VK_EXTERNAL_MEMORY_HANDLE_TYPE_DMA_BUF_BIT_EXT,
	};
	VkBufferCreateInfo bci = {
		.sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
		.pNext = &ebci,
		.size = size,
		.usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT,
		.sharingMode = VK_SHARING_MODE_EXCLUSIVE,
	};
	if (!cr_vk_check(dev, vkCreateBuffer(dev->dev, &bci, NULL, &buf->buffer),
			 "vkCreateBuffer (dma-buf export)"))
		goto err_free;
	VkMemoryRequirements reqs;
	vkGetBufferMemoryRequirements(dev->dev, buf->buffer, &reqs);
	int32_t type = cr_vk_device_memory_type(dev, reqs.memoryTypeBits, 0,
						VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT);
	if (type < 0) {
		cr_log_error(TOPIC, "no memory type for an exportable buffer");
		goto err_buffer;
	}
	VkExportMemoryAllocateInfo export = {
		.sType = VK_STRUCTURE_TYPE_EXPORT_MEMORY_ALLOCATE_INFO,
		.handleTypes = VK_EXTERNAL_MEMORY_HANDLE_TYPE_DMA_BUF_BIT_EXT,
	};
	VkMemoryDedicatedAllocateInfo dedicated = {
		.sType = VK_STRUCTURE_TYPE_MEMORY_DEDICATED_ALLOCATE_INFO,
		.pNext = &export,
		.buffer = buf->buffer,
	};
	VkMemoryAllocateInfo mai = {
		.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
		.pNext = &dedicated,
		.allocationSize = reqs.size,
		.memoryTypeIndex = (uint32_t)type,
	};
	if (!cr_vk_check(dev, vkAllocateMemory(dev->dev, &mai, NULL, &buf->memory),
			 "vkAllocateMemory (dma-buf export)"))
		goto err_buffer;
	if (!cr_vk_check(dev, vkBindBufferMemory(dev->dev, buf->buffer, buf->memory, 0),
			 "vkBindBufferMemory (dma-buf export)"))
		goto err_memory;
	VkMemoryGetFdInfoKHR gfi = {
		.sType = VK_STRUCTURE_TYPE_MEMORY_GET_FD_INFO_KHR,
		.memory = buf->memory,
		.handleType = VK_EXTERNAL_MEMORY_HANDLE_TYPE_DMA_BUF_BIT_EXT,
	};
	if (!cr_vk_check(dev, dev->get_memory_fd(dev->dev, &gfi, fd), "vkGetMemoryFdKHR"))
		goto err_memory;
	return buf;

err_memory:
	vkFreeMemory(dev->dev, buf->memory, NULL);
err_buffer:
	vkDestroyBuffer(dev->dev, buf->buffer, NULL);
err_free:
	free(buf);
	return NULL;
}

void cr_vk_buffer_destroy(struct cr_vk_device *dev, struct cr_vk_buffer *buf)
{
	if (!buf)
		return;
	if (buf->map)
		vkUnmapMemory(dev->dev, buf->memory);
	vkDestroyBuffer(dev->dev, buf->buffer, NULL);
	vkFreeMemory(dev->dev, buf->memory, NULL);
	free(buf);
}
