/* SPDX-License-Identifier: MIT */
#pragma once
/**
 * Pixels into and out of Vulkan images for tests: tiled images (DRM format modifiers that no
 * CPU can read) are filled through a staging buffer and vkCmdCopyBufferToImage, and read back
 * with vkCmdCopyImageToBuffer. Blocking (a fence wait per call), on the device's queue: test
 * code only, main-loop thread, never while another thread submits to that queue.
 */
#include <stdbool.h>
#include <stdint.h>

struct cr_vk_device;
struct cr_vk_image;

/**
 * Fills the whole of @img (usage TRANSFER_DST) from memory: plane i of the frame starts at
 * @planes[i], its rows @strides[i] bytes apart. Packed formats (4 bytes a pixel) have one
 * plane; NV12 two: Y (width x height bytes, copied through VK_IMAGE_ASPECT_PLANE_0_BIT) and
 * interleaved UV (ceil(width/2) x ceil(height/2) pairs, PLANE_1_BIT). Moves the image from
 * UNDEFINED (or GENERAL when @img->initialized) to GENERAL through TRANSFER_DST_OPTIMAL and
 * sets @img->initialized. Returns false (logged to stderr) when a Vulkan call failed.
 */
bool cr_image_io_upload_planes(struct cr_vk_device *dev, struct cr_vk_image *img,
			       const void *const *planes, const uint32_t *strides);

/** cr_image_io_upload_planes() of a packed-format image: one plane at @data. */
bool cr_image_io_upload(struct cr_vk_device *dev, struct cr_vk_image *img, const void *data,
			uint32_t stride);

/**
 * Copies the whole of @img (usage TRANSFER_SRC, in VK_IMAGE_LAYOUT_GENERAL, as the pipeline
 * leaves its outputs and cr_image_io_upload_planes() its inputs) into memory laid out as
 * cr_image_io_upload_planes() reads it, after every write earlier submitted to the queue. Row
 * padding in the planes is left as it was. Returns false (logged) when a Vulkan call failed.
 */
bool cr_image_io_download_planes(struct cr_vk_device *dev, const struct cr_vk_image *img,
				 void *const *planes, const uint32_t *strides);

/** cr_image_io_download_planes() of a packed-format image: one plane at @data. */
bool cr_image_io_download(struct cr_vk_device *dev, const struct cr_vk_image *img, void *data,
			  uint32_t stride);
