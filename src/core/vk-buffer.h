/* SPDX-License-Identifier: MIT */
#pragma once
/**
 * Frame memory as Vulkan storage buffers: host-visible staging buffers (SHM input, readback of
 * the output) where shared memory cannot be imported, shared memory imported in place
 * (VK_EXT_external_memory_host) and LINEAR DMA-BUFs imported as buffer memory. A buffer
 * rather than an image because without VK_EXT_image_drm_format_modifier an image's row pitch
 * cannot be given, and a peer's stride need not be the natural pitch (DESIGN.md, platform
 * facts); the kernels address pixels with an explicit stride instead. Main-loop thread.
 */
#include <stdbool.h>
#include <vulkan/vulkan.h>

struct cr_vk_device;

struct cr_vk_buffer {
	VkBuffer buffer;
	VkDeviceMemory memory;
	VkDeviceSize size;
	void *map; /**< host mapping for host buffers, NULL for imports */
};

/**
 * A host-visible, coherent buffer of @size bytes, mapped for its whole life; host-cached memory
 * is preferred (it is read back by the CPU). Returns NULL and logs on failure.
 */
struct cr_vk_buffer *cr_vk_buffer_create_host(struct cr_vk_device *dev, VkDeviceSize size,
					      VkBufferUsageFlags usage);

/**
 * Imports the DMA-BUF @fd (borrowed: a dup is given to Vulkan, which consumes it only on
 * success) as a storage buffer covering its first @size bytes. Needs
 * VK_EXT_external_memory_dma_buf. Returns NULL and logs on failure.
 */
struct cr_vk_buffer *cr_vk_buffer_import_dmabuf(struct cr_vk_device *dev, int fd,
						VkDeviceSize size);

/**
 * Imports @size bytes of host memory at @ptr (VK_EXT_external_memory_host) as a storage
 * buffer the GPU reads and writes in place: both must be multiples of the device's
 * host_pointer_alignment, and the memory must stay mapped until the buffer is destroyed.
 * Returns NULL (logged at debug level: callers fall back to copying) when the device cannot.
 */
struct cr_vk_buffer *cr_vk_buffer_import_host(struct cr_vk_device *dev, void *ptr,
					      VkDeviceSize size);

/**
 * A storage buffer of @size bytes in memory exported as a DMA-BUF: *@fd receives a new fd
 * (owned by the caller) that other processes import as a LINEAR buffer. Device-local memory is
 * preferred. Returns NULL and logs on failure.
 */
struct cr_vk_buffer *cr_vk_buffer_create_exportable(struct cr_vk_device *dev, VkDeviceSize size,
						    int *fd);

/** True when @dev can export storage-buffer memory as DMA-BUFs. */
bool cr_vk_buffer_can_export_dmabuf(struct cr_vk_device *dev);

/**
 * True when @dev can import DMA-BUFs as storage buffers (VK_EXT_external_memory_dma_buf and
 * the external buffer properties say importable). LINEAR is then the one layout it reads.
 */
bool cr_vk_buffer_can_import_dmabuf(struct cr_vk_device *dev);

/** Frees @buf; the caller guarantees the GPU no longer uses it. NULL is a no-op. */
void cr_vk_buffer_destroy(struct cr_vk_device *dev, struct cr_vk_buffer *buf);
