/* SPDX-License-Identifier: MIT */
#include "image-io.h"

#include <stdio.h>
#include <string.h>

#include <vulkan/vulkan.h>

#include "vk-device.h"
#include "vk-format.h"
#include "vk-image.h"

/* One blocking transfer: a host-visible staging buffer and a command buffer. */
struct transfer {
	VkCommandPool pool;
	VkCommandBuffer cmd;
	VkBuffer buffer;
	VkDeviceMemory memory;
	void *map;
};

static void transfer_finish(struct cr_vk_device *dev, struct transfer *t)
{
	if (t->memory)
		vkFreeMemory(dev->dev, t->memory, NULL);
	if (t->buffer)
		vkDestroyBuffer(dev->dev, t->buffer, NULL);
	if (t->pool)
		vkDestroyCommandPool(dev->dev, t->pool, NULL);
}

static bool transfer_init(struct cr_vk_device *dev, struct transfer *t, VkDeviceSize size,
			  VkBufferUsageFlags usage)
{
	*t = (struct transfer){ 0 };
	VkBufferCreateInfo bci = {
		.sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
		.size = size,
		.usage = usage,
		.sharingMode = VK_SHARING_MODE_EXCLUSIVE,
	};
	if (!cr_vk_check(dev, vkCreateBuffer(dev->dev, &bci, NULL, &t->buffer),
			 "image-io: vkCreateBuffer"))
		goto finish;
	VkMemoryRequirements req;
	vkGetBufferMemoryRequirements(dev->dev, t->buffer, &req);
	int32_t type = cr_vk_device_memory_type(dev, req.memoryTypeBits,
						VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT |
						VK_MEMORY_PROPERTY_HOST_COHERENT_BIT,
						VK_MEMORY_PROPERTY_HOST_CACHED_BIT);
	if (type < 0) {
		fprintf(stderr, "image-io: no host-visible coherent memory for a staging buffer\n");
		goto finish;
	}
	VkMemoryAllocateInfo mai = {
		.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
		.allocationSize = req.size,
		.memoryTypeIndex = (uint32_t)type,
	};
	if (!cr_vk_check(dev, vkAllocateMemory(dev->dev, &mai, NULL, &t->memory),
			 "image-io: vkAllocateMemory") ||
	    !cr_vk_check(dev, vkBindBufferMemory(dev->dev, t->buffer, t->memory, 0),
			 "image-io: vkBindBufferMemory") ||
	    !cr_vk_check(dev, vkMapMemory(dev->dev, t->memory, 0, VK_WHOLE_SIZE, 0, &t->map),
			 "image-io: vkMapMemory"))
		goto finish;
	VkCommandPoolCreateInfo pci = {
		.sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO,
		.flags = VK_COMMAND_POOL_CREATE_TRANSIENT_BIT,
		.queueFamilyIndex = dev->queue_family,
	};
	VkCommandBufferAllocateInfo cai = {
		.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
		.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
		.commandBufferCount = 1,
	};
	VkCommandBufferBeginInfo begin = {
		.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
		.flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT,
	};
	if (!cr_vk_check(dev, vkCreateCommandPool(dev->dev, &pci, NULL, &t->pool),
			 "image-io: vkCreateCommandPool"))
		goto finish;
	cai.commandPool = t->pool;
	if (!cr_vk_check(dev, vkAllocateCommandBuffers(dev->dev, &cai, &t->cmd),
			 "image-io: vkAllocateCommandBuffers") ||
	    !cr_vk_check(dev, vkBeginCommandBuffer(t->cmd, &begin),
			 "image-io: vkBeginCommandBuffer"))
		goto finish;
	return true;
finish:
	transfer_finish(dev, t);
	return false;
}

/* Ends, submits and waits for the command buffer. */
static bool transfer_run(struct cr_vk_device *dev, struct transfer *t)
{
	if (!cr_vk_check(dev, vkEndCommandBuffer(t->cmd), "image-io: vkEndCommandBuffer"))
		return false;
	VkFenceCreateInfo fci = { .sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO };
	VkFence fence;
	if (!cr_vk_check(dev, vkCreateFence(dev->dev, &fci, NULL, &fence),
			 "image-io: vkCreateFence"))
		return false;
	VkSubmitInfo submit = {
		.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO,
		.commandBufferCount = 1,
		.pCommandBuffers = &t->cmd,
	};
	bool ok = cr_vk_device_submit(dev, 1, &submit, fence, "image-io: vkQueueSubmit") &&
		  cr_vk_check(dev, vkWaitForFences(dev->dev, 1, &fence, VK_TRUE,
						   10ull * 1000 * 1000 * 1000),
			      "image-io: vkWaitForFences");
	vkDestroyFence(dev->dev, fence, NULL);
	return ok;
}

static void image_barrier(VkCommandBuffer cmd, VkImage image, VkImageLayout from,
			  VkImageLayout to, VkPipelineStageFlags src_stage,
			  VkAccessFlags src_access, VkPipelineStageFlags dst_stage,
			  VkAccessFlags dst_access)
{
	VkImageMemoryBarrier b = {
		.sType = VK_STRUCTURE_TYPE_IMAGE_MEMORY_BARRIER,
		.srcAccessMask = src_access,
		.dstAccessMask = dst_access,
		.oldLayout = from,
		.newLayout = to,
		.srcQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED,
		.dstQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED,
		.image = image,
		.subresourceRange = { VK_IMAGE_ASPECT_COLOR_BIT, 0, 1, 0, 1 },
	};
	vkCmdPipelineBarrier(cmd, src_stage, dst_stage, 0, 0, NULL, 0, NULL, 1, &b);
}

/* The planes of an image as copies see them: packed formats one (COLOR aspect: modifier
 * images are copied through it, the memory-plane aspects are for layout queries only), NV12 two
 * (the format's plane aspects, each at its own size). Rows lie tightly packed in the staging
 * buffer, each plane at a 16-byte aligned offset. */
struct copy_planes {
	uint32_t n;
	VkBufferImageCopy region[2];
	uint32_t row_bytes[2], rows[2];
	size_t size; /* of the staging buffer */
};

static void copy_planes_init(const struct cr_vk_image *img, struct copy_planes *c)
{
	uint32_t w = img->layout.width, h = img->layout.height;
	bool nv12 = cr_vk_format_plane_view(img->layout.fourcc, 1) != VK_FORMAT_UNDEFINED;
	*c = (struct copy_planes){ .n = nv12 ? 2 : 1 };
	for (uint32_t i = 0; i < c->n; i++) {
		uint32_t pw = i == 0 ? w : (w + 1) / 2, ph = i == 0 ? h : (h + 1) / 2;
		VkImageAspectFlags aspect = !nv12 ? VK_IMAGE_ASPECT_COLOR_BIT
					    : i == 0 ? VK_IMAGE_ASPECT_PLANE_0_BIT
					    : VK_IMAGE_ASPECT_PLANE_1_BIT;
		c->row_bytes[i] = pw * (!nv12 ? 4 : i == 0 ? 1 : 2);
		c->rows[i] = ph;
		c->region[i] = (VkBufferImageCopy){
			.bufferOffset = c->size,
			.imageSubresource = { aspect, 0, 0, 1 },
			.imageExtent = { pw, ph, 1 },
		};
		c->size += ((size_t)c->row_bytes[i] * ph + 15) & ~(size_t)15;
	}
}

bool cr_image_io_upload_planes(struct cr_vk_device *dev, struct cr_vk_image *img,
			       const void *const *planes, const uint32_t *strides)
{
	struct copy_planes c;
	copy_planes_init(img, &c);
	struct transfer t;
	if (!transfer_init(dev, &t, c.size, VK_BUFFER_USAGE_TRANSFER_SRC_BIT))
		return false;
	for (uint32_t i = 0; i < c.n; i++)
		for (uint32_t y = 0; y < c.rows[i]; y++)
			memcpy((uint8_t *)t.map + c.region[i].bufferOffset +
				       (size_t)y * c.row_bytes[i],
			       (const uint8_t *)planes[i] + (size_t)y * strides[i], c.row_bytes[i]);
	/* Earlier jobs may still read an initialised image: wait for them (write after read
	 * needs no access mask), and for earlier writes. */
	image_barrier(t.cmd, img->image,
		      img->initialized ? VK_IMAGE_LAYOUT_GENERAL : VK_IMAGE_LAYOUT_UNDEFINED,
		      VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL,
		      img->initialized ? VK_PIPELINE_STAGE_ALL_COMMANDS_BIT
				       : VK_PIPELINE_STAGE_TOP_OF_PIPE_BIT,
		      img->initialized ? VK_ACCESS_MEMORY_WRITE_BIT : 0,
		      VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_WRITE_BIT);
	vkCmdCopyBufferToImage(t.cmd, t.buffer, img->image, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL,
			       c.n, c.region);
	image_barrier(t.cmd, img->image, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL,
		      VK_IMAGE_LAYOUT_GENERAL, VK_PIPELINE_STAGE_TRANSFER_BIT,
		      VK_ACCESS_TRANSFER_WRITE_BIT, VK_PIPELINE_STAGE_ALL_COMMANDS_BIT,
		      VK_ACCESS_MEMORY_READ_BIT | VK_ACCESS_MEMORY_WRITE_BIT);
	bool ok = transfer_run(dev, &t);
	if (ok)
		img->initialized = true;
	transfer_finish(dev, &t);
	return ok;
}

bool cr_image_io_upload(struct cr_vk_device *dev, struct cr_vk_image *img, const void *data,
			uint32_t stride)
{
	return cr_image_io_upload_planes(dev, img, &data, &stride);
}

bool cr_image_io_download_planes(struct cr_vk_device *dev, const struct cr_vk_image *img,
				 void *const *planes, const uint32_t *strides)
{
	struct copy_planes c;
	copy_planes_init(img, &c);
	struct transfer t;
	if (!transfer_init(dev, &t, c.size, VK_BUFFER_USAGE_TRANSFER_DST_BIT))
		return false;
	/* The pipeline's jobs were submitted earlier to this queue: a barrier orders against
	 * them and makes their writes visible to the copy. */
	image_barrier(t.cmd, img->image, VK_IMAGE_LAYOUT_GENERAL, VK_IMAGE_LAYOUT_GENERAL,
		      VK_PIPELINE_STAGE_ALL_COMMANDS_BIT, VK_ACCESS_MEMORY_WRITE_BIT,
		      VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_READ_BIT);
	vkCmdCopyImageToBuffer(t.cmd, img->image, VK_IMAGE_LAYOUT_GENERAL, t.buffer, c.n,
			       c.region);
	VkBufferMemoryBarrier host = {
		.sType = VK_STRUCTURE_TYPE_BUFFER_MEMORY_BARRIER,
		.srcAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT,
		.dstAccessMask = VK_ACCESS_HOST_READ_BIT,
		.srcQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED,
		.dstQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED,
		.buffer = t.buffer,
		.size = VK_WHOLE_SIZE,
	};
	vkCmdPipelineBarrier(t.cmd, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_PIPELINE_STAGE_HOST_BIT, 0,
			     0, NULL, 1, &host, 0, NULL);
	bool ok = transfer_run(dev, &t);
	for (uint32_t i = 0; ok && i < c.n; i++)
		for (uint32_t y = 0; y < c.rows[i]; y++)
			memcpy((uint8_t *)planes[i] + (size_t)y * strides[i],
			       (const uint8_t *)t.map + c.region[i].bufferOffset +
				       (size_t)y * c.row_bytes[i],
			       c.row_bytes[i]);
	transfer_finish(dev, &t);
	return ok;
}

bool cr_image_io_download(struct cr_vk_device *dev, const struct cr_vk_image *img, void *data,
			  uint32_t stride)
{
	return cr_image_io_download_planes(dev, img, &data, &stride);
}
