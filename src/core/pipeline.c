/* SPDX-License-Identifier: MIT */
#include "pipeline.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "cr-params.h"
#include "log.h"
#include "scale.spv.h"
#include "vk-buffer.h"
#include "vk-device.h"

#define TOPIC "pipeline"

/* The waiter wakes this often to notice teardown even when a fence never signals. */
#define WAIT_SLICE_NS (200ull * 1000 * 1000)

struct cr_pipeline_source {
	struct cr_vk_buffer *buffer;
	unsigned in_flight; /**< jobs reading it */
	bool destroyed;     /**< released by its owner; freed when in_flight drops to 0 */
};

enum slot_state { SLOT_FREE, SLOT_BUSY, SLOT_DONE };

struct slot {
	enum slot_state state; /**< BUSY -> DONE written by the waiter under the mutex */
	VkResult result;
	VkCommandBuffer cmd;
	VkFence fence;
	VkDescriptorSet set;
	struct cr_vk_buffer *staging; /**< SHM input copy, grown on demand */
	struct cr_vk_buffer *out;     /**< output readback, grown on demand */
	struct cr_pipeline_source *source;
	void *job_data;
	uint32_t out_stride;
	uint64_t out_size;
	uint64_t submit_ns, done_ns;
};

struct cr_pipeline {
	struct cr_vk_device *dev;
	cr_pipeline_done_fn done;
	void *done_data;

	VkDescriptorSetLayout set_layout;
	VkPipelineLayout layout;
	VkShaderModule module;
	VkPipeline pipeline;
	VkDescriptorPool pool;
	VkCommandPool cmd_pool;
	struct slot slots[CR_PIPELINE_SLOTS];

	/* Submission order, main thread: slots to deliver. */
	unsigned order[CR_PIPELINE_SLOTS];
	unsigned order_head, order_count;

	/* Shared with the waiter thread. */
	pthread_t waiter;
	pthread_mutex_t mutex;
	pthread_cond_t cond;
	unsigned wait_queue[CR_PIPELINE_SLOTS];
	unsigned wait_head, wait_count;
	bool quit;
	int event_fd;
};

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void *waiter_main(void *arg)
{
	struct cr_pipeline *pipe = arg;
	pthread_mutex_lock(&pipe->mutex);
	while (!pipe->quit) {
		if (pipe->wait_count == 0) {
			pthread_cond_wait(&pipe->cond, &pipe->mutex);
			continue;
		}
		struct slot *s = &pipe->slots[pipe->wait_queue[pipe->wait_head]];
		VkFence fence = s->fence;
		pthread_mutex_unlock(&pipe->mutex);
		VkResult res = vkWaitForFences(pipe->dev->dev, 1, &fence, VK_TRUE, WAIT_SLICE_NS);
		pthread_mutex_lock(&pipe->mutex);
		if (res == VK_TIMEOUT)
			continue;
		if (res != VK_SUCCESS)
			cr_vk_check(pipe->dev, res, "vkWaitForFences");
		s->result = res;
		s->done_ns = now_ns();
		s->state = SLOT_DONE;
		pipe->wait_head = (pipe->wait_head + 1) % CR_PIPELINE_SLOTS;
		pipe->wait_count--;
		uint64_t one = 1;
		if (write(pipe->event_fd, &one, sizeof(one)) < 0)
			cr_log_error(TOPIC, "eventfd write failed: %s", strerror(errno));
	}
	pthread_mutex_unlock(&pipe->mutex);
	return NULL;
}

static bool create_kernel(struct cr_pipeline *pipe)
{
	VkDevice d = pipe->dev->dev;
	VkDescriptorSetLayoutBinding bindings[2] = {
		{ 0, VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, 1, VK_SHADER_STAGE_COMPUTE_BIT, NULL },
		{ 1, VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, 1, VK_SHADER_STAGE_COMPUTE_BIT, NULL },
	};
	VkDescriptorSetLayoutCreateInfo dslci = {
		.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO,
		.bindingCount = 2,
		.pBindings = bindings,
	};
	if (!cr_vk_check(pipe->dev, vkCreateDescriptorSetLayout(d, &dslci, NULL, &pipe->set_layout),
			 "vkCreateDescriptorSetLayout"))
		return false;
	VkPushConstantRange range = {
		.stageFlags = VK_SHADER_STAGE_COMPUTE_BIT,
		.size = sizeof(struct cr_scale_params),
	};
	VkPipelineLayoutCreateInfo plci = {
		.sType = VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO,
		.setLayoutCount = 1,
		.pSetLayouts = &pipe->set_layout,
		.pushConstantRangeCount = 1,
		.pPushConstantRanges = &range,
	};
	if (!cr_vk_check(pipe->dev, vkCreatePipelineLayout(d, &plci, NULL, &pipe->layout),
			 "vkCreatePipelineLayout"))
		return false;
	VkShaderModuleCreateInfo smci = {
		.sType = VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO,
		.codeSize = sizeof(cr_scale_spv),
		.pCode = cr_scale_spv,
	};
	if (!cr_vk_check(pipe->dev, vkCreateShaderModule(d, &smci, NULL, &pipe->module),
			 "vkCreateShaderModule"))
		return false;
	VkComputePipelineCreateInfo cpci = {
		.sType = VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO,
		.stage = {
			.sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO,
			.stage = VK_SHADER_STAGE_COMPUTE_BIT,
			.module = pipe->module,
			.pName = "main",
		},
		.layout = pipe->layout,
	};
	if (!cr_vk_check(pipe->dev, vkCreateComputePipelines(d, VK_NULL_HANDLE, 1, &cpci, NULL,
							     &pipe->pipeline),
			 "vkCreateComputePipelines"))
		return false;
	VkDescriptorPoolSize pool_size = {
		VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, 2 * CR_PIPELINE_SLOTS,
	};
	VkDescriptorPoolCreateInfo dpci = {
		.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO,
		.maxSets = CR_PIPELINE_SLOTS,
		.poolSizeCount = 1,
		.pPoolSizes = &pool_size,
	};
	return cr_vk_check(pipe->dev, vkCreateDescriptorPool(d, &dpci, NULL, &pipe->pool),
			   "vkCreateDescriptorPool");
}

static bool create_slots(struct cr_pipeline *pipe)
{
	VkDevice d = pipe->dev->dev;
	VkCommandPoolCreateInfo cpci = {
		.sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO,
		.flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT,
		.queueFamilyIndex = pipe->dev->queue_family,
	};
	if (!cr_vk_check(pipe->dev, vkCreateCommandPool(d, &cpci, NULL, &pipe->cmd_pool),
			 "vkCreateCommandPool"))
		return false;
	for (unsigned i = 0; i < CR_PIPELINE_SLOTS; i++) {
		struct slot *s = &pipe->slots[i];
		VkCommandBufferAllocateInfo cbai = {
			.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
			.commandPool = pipe->cmd_pool,
			.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
			.commandBufferCount = 1,
		};
		if (!cr_vk_check(pipe->dev, vkAllocateCommandBuffers(d, &cbai, &s->cmd),
				 "vkAllocateCommandBuffers"))
			return false;
		VkFenceCreateInfo fci = { .sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO };
		if (!cr_vk_check(pipe->dev, vkCreateFence(d, &fci, NULL, &s->fence),
				 "vkCreateFence"))
			return false;
		VkDescriptorSetAllocateInfo dsai = {
			.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO,
			.descriptorPool = pipe->pool,
			.descriptorSetCount = 1,
			.pSetLayouts = &pipe->set_layout,
		};
		if (!cr_vk_check(pipe->dev, vkAllocateDescriptorSets(d, &dsai, &s->set),
				 "vkAllocateDescriptorSets"))
			return false;
	}
	return true;
}

struct cr_pipeline *cr_pipeline_create(struct cr_vk_device *dev, cr_pipeline_done_fn done,
				       void *data)
{
	struct cr_pipeline *pipe = calloc(1, sizeof(*pipe));
	if (!pipe)
		return NULL;
	pipe->dev = dev;
	pipe->done = done;
	pipe->done_data = data;
	pipe->event_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (pipe->event_fd < 0) {
		cr_log_error(TOPIC, "eventfd: %s", strerror(errno));
		goto err_free;
	}
	pthread_mutex_init(&pipe->mutex, NULL);
	pthread_cond_init(&pipe->cond, NULL);
	if (!create_kernel(pipe) || !create_slots(pipe))
		goto err_vk;
	int err = pthread_create(&pipe->waiter, NULL, waiter_main, pipe);
	if (err != 0) {
		cr_log_error(TOPIC, "cannot start the fence waiter thread: %s", strerror(err));
		goto err_vk;
	}
	return pipe;

err_vk:
	pipe->waiter = 0;
	cr_pipeline_destroy(pipe);
	return NULL;
err_free:
	free(pipe);
	return NULL;
}

static void free_source(struct cr_pipeline *pipe, struct cr_pipeline_source *src)
{
	cr_vk_buffer_destroy(pipe->dev, src->buffer);
	free(src);
}

static void finish_slot(struct cr_pipeline *pipe, struct slot *s, bool ok)
{
	struct cr_pipeline_result res = {
		.ok = ok && s->result == VK_SUCCESS,
		.pixels = s->out ? s->out->map : NULL,
		.stride = s->out_stride,
		.size = s->out_size,
		.gpu_ns = s->done_ns > s->submit_ns ? s->done_ns - s->submit_ns : 0,
	};
	struct cr_pipeline_source *src = s->source;
	void *job_data = s->job_data;
	s->source = NULL;
	s->job_data = NULL;
	vkResetFences(pipe->dev->dev, 1, &s->fence);
	s->state = SLOT_FREE;
	if (src && --src->in_flight == 0 && src->destroyed)
		free_source(pipe, src);
	pipe->done(job_data, &res, pipe->done_data);
}

void cr_pipeline_dispatch(struct cr_pipeline *pipe)
{
	uint64_t count;
	if (read(pipe->event_fd, &count, sizeof(count)) < 0 && errno != EAGAIN)
		cr_log_error(TOPIC, "eventfd read failed: %s", strerror(errno));
	while (pipe->order_count > 0) {
		struct slot *s = &pipe->slots[pipe->order[pipe->order_head]];
		pthread_mutex_lock(&pipe->mutex);
		bool done = s->state == SLOT_DONE;
		pthread_mutex_unlock(&pipe->mutex);
		if (!done)
			break;
		pipe->order_head = (pipe->order_head + 1) % CR_PIPELINE_SLOTS;
		pipe->order_count--;
		finish_slot(pipe, s, true);
	}
}

void cr_pipeline_drain(struct cr_pipeline *pipe)
{
	/* Teardown only: the one place where waiting for the queue is right. Every fence has
	 * signalled after it, so the waiter has nothing left to watch. */
	vkQueueWaitIdle(pipe->dev->queue);
	pthread_mutex_lock(&pipe->mutex);
	pipe->wait_count = 0;
	pthread_mutex_unlock(&pipe->mutex);
	while (pipe->order_count > 0) {
		struct slot *s = &pipe->slots[pipe->order[pipe->order_head]];
		pipe->order_head = (pipe->order_head + 1) % CR_PIPELINE_SLOTS;
		pipe->order_count--;
		pthread_mutex_lock(&pipe->mutex);
		s->state = SLOT_DONE;
		pthread_mutex_unlock(&pipe->mutex);
		finish_slot(pipe, s, false);
	}
}

void cr_pipeline_destroy(struct cr_pipeline *pipe)
{
	if (!pipe)
		return;
	VkDevice d = pipe->dev->dev;
	if (pipe->waiter) {
		pthread_mutex_lock(&pipe->mutex);
		pipe->quit = true;
		pthread_cond_signal(&pipe->cond);
		pthread_mutex_unlock(&pipe->mutex);
		pthread_join(pipe->waiter, NULL);
	}
	cr_pipeline_drain(pipe);
	for (unsigned i = 0; i < CR_PIPELINE_SLOTS; i++) {
		struct slot *s = &pipe->slots[i];
		if (s->fence)
			vkDestroyFence(d, s->fence, NULL);
		cr_vk_buffer_destroy(pipe->dev, s->staging);
		cr_vk_buffer_destroy(pipe->dev, s->out);
	}
	if (pipe->cmd_pool)
		vkDestroyCommandPool(d, pipe->cmd_pool, NULL);
	if (pipe->pool)
		vkDestroyDescriptorPool(d, pipe->pool, NULL);
	if (pipe->pipeline)
		vkDestroyPipeline(d, pipe->pipeline, NULL);
	if (pipe->module)
		vkDestroyShaderModule(d, pipe->module, NULL);
	if (pipe->layout)
		vkDestroyPipelineLayout(d, pipe->layout, NULL);
	if (pipe->set_layout)
		vkDestroyDescriptorSetLayout(d, pipe->set_layout, NULL);
	pthread_cond_destroy(&pipe->cond);
	pthread_mutex_destroy(&pipe->mutex);
	close(pipe->event_fd);
	free(pipe);
}

int cr_pipeline_get_fd(const struct cr_pipeline *pipe)
{
	return pipe->event_fd;
}

bool cr_pipeline_can_submit(const struct cr_pipeline *pipe)
{
	return pipe->order_count < CR_PIPELINE_SLOTS && !pipe->dev->lost;
}

bool cr_pipeline_device_lost(const struct cr_pipeline *pipe)
{
	return pipe->dev->lost;
}

bool cr_pipeline_can_import_dmabuf(const struct cr_pipeline *pipe)
{
	return pipe->dev->ext.external_memory_dma_buf;
}

/* Makes *buf at least @size bytes; staging memory is reallocated only when a frame grows. */
static bool ensure_host_buffer(struct cr_pipeline *pipe, struct cr_vk_buffer **buf,
			       uint64_t size, VkBufferUsageFlags usage)
{
	if (*buf && (*buf)->size >= size)
		return true;
	cr_vk_buffer_destroy(pipe->dev, *buf);
	*buf = cr_vk_buffer_create_host(pipe->dev, size, usage);
	return *buf != NULL;
}

static bool record(struct cr_pipeline *pipe, struct slot *s, const struct cr_scale_params *p)
{
	VkCommandBufferBeginInfo begin = {
		.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
		.flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT,
	};
	if (!cr_vk_check(pipe->dev, vkBeginCommandBuffer(s->cmd, &begin), "vkBeginCommandBuffer"))
		return false;
	vkCmdBindPipeline(s->cmd, VK_PIPELINE_BIND_POINT_COMPUTE, pipe->pipeline);
	vkCmdBindDescriptorSets(s->cmd, VK_PIPELINE_BIND_POINT_COMPUTE, pipe->layout, 0, 1, &s->set,
				0, NULL);
	vkCmdPushConstants(s->cmd, pipe->layout, VK_SHADER_STAGE_COMPUTE_BIT, 0, sizeof(*p), p);
	vkCmdDispatch(s->cmd, (p->dst_width + CR_WORKGROUP_SIZE - 1) / CR_WORKGROUP_SIZE,
		      (p->dst_height + CR_WORKGROUP_SIZE - 1) / CR_WORKGROUP_SIZE, 1);
	/* Make the kernel's writes visible to the CPU that reads them after the fence. */
	VkMemoryBarrier barrier = {
		.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
		.srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT,
		.dstAccessMask = VK_ACCESS_HOST_READ_BIT,
	};
	vkCmdPipelineBarrier(s->cmd, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT,
			     VK_PIPELINE_STAGE_HOST_BIT, 0, 1, &barrier, 0, NULL, 0, NULL);
	return cr_vk_check(pipe->dev, vkEndCommandBuffer(s->cmd), "vkEndCommandBuffer");
}

static bool check_frame(const struct cr_pipeline_frame *in, const struct cr_pipeline_target *out)
{
	const struct cr_rect *c = &in->crop;
	if (!in->format || !out->format || in->format->n_planes != 1 ||
	    out->format->n_planes != 1) {
		cr_log_error(TOPIC, "only packed 32-bit formats are supported");
		return false;
	}
	if (out->width == 0 || out->height == 0 || in->width == 0 || in->height == 0) {
		cr_log_error(TOPIC, "empty frame: input %ux%u, output %ux%u", in->width,
			     in->height, out->width, out->height);
		return false;
	}
	if (c->w && ((uint64_t)c->x + c->w > in->width || (uint64_t)c->y + c->h > in->height ||
		     c->h == 0)) {
		cr_log_error(TOPIC, "crop %u,%u %ux%u outside the %ux%u frame", c->x, c->y, c->w,
			     c->h, in->width, in->height);
		return false;
	}
	if (in->stride % 4 || in->offset % 4) {
		cr_log_error(TOPIC, "stride %u / offset %u not a multiple of 4", in->stride,
			     in->offset);
		return false;
	}
	return true;
}

bool cr_pipeline_submit(struct cr_pipeline *pipe, const struct cr_pipeline_frame *in,
			const struct cr_pipeline_target *out, void *job_data)
{
	if (!cr_pipeline_can_submit(pipe) || !check_frame(in, out))
		return false;
	struct slot *s = NULL;
	for (unsigned i = 0; i < CR_PIPELINE_SLOTS && !s; i++)
		if (pipe->slots[i].state == SLOT_FREE)
			s = &pipe->slots[i];

	struct cr_rect crop = in->crop.w ? in->crop
					 : (struct cr_rect){ 0, 0, in->width, in->height };
	struct cr_scale_params p = {
		.src_stride = in->stride / 4,
		.src_width = in->width,
		.src_height = in->height,
		.src_layout = in->format->layout,
		.crop_x = crop.x,
		.crop_y = crop.y,
		.crop_w = crop.w,
		.crop_h = crop.h,
		.dst_stride = out->width,
		.dst_width = out->width,
		.dst_height = out->height,
		.dst_layout = out->format->layout,
	};

	VkBuffer src_buffer;
	if (in->source) {
		src_buffer = in->source->buffer->buffer;
		p.src_offset = in->offset / 4;
	} else {
		/* Only the rows the crop touches are copied. */
		uint64_t first = (uint64_t)in->offset + (uint64_t)crop.y * in->stride;
		uint64_t bytes = (uint64_t)(crop.h - 1) * in->stride + (uint64_t)in->width * 4;
		if (first + bytes > in->size) {
			cr_log_error(TOPIC, "frame of %llu bytes too small for %ux%u stride %u",
				     (unsigned long long)in->size, in->width, in->height,
				     in->stride);
			return false;
		}
		if (!ensure_host_buffer(pipe, &s->staging, bytes,
					VK_BUFFER_USAGE_STORAGE_BUFFER_BIT))
			return false;
		memcpy(s->staging->map, (const uint8_t *)in->data + first, bytes);
		src_buffer = s->staging->buffer;
		p.src_offset = 0;
		p.crop_y = 0;
		p.src_height = crop.h;
	}

	s->out_stride = out->width * 4;
	s->out_size = (uint64_t)s->out_stride * out->height;
	if (!ensure_host_buffer(pipe, &s->out, s->out_size, VK_BUFFER_USAGE_STORAGE_BUFFER_BIT))
		return false;

	VkDescriptorBufferInfo infos[2] = {
		{ src_buffer, 0, VK_WHOLE_SIZE },
		{ s->out->buffer, 0, VK_WHOLE_SIZE },
	};
	VkWriteDescriptorSet writes[2];
	for (int i = 0; i < 2; i++)
		writes[i] = (VkWriteDescriptorSet){
			.sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET,
			.dstSet = s->set,
			.dstBinding = (uint32_t)i,
			.descriptorCount = 1,
			.descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
			.pBufferInfo = &infos[i],
		};
	vkUpdateDescriptorSets(pipe->dev->dev, 2, writes, 0, NULL);
	if (!record(pipe, s, &p))
		return false;

	VkSubmitInfo si = {
		.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO,
		.commandBufferCount = 1,
		.pCommandBuffers = &s->cmd,
	};
	s->submit_ns = now_ns();
	if (!cr_vk_check(pipe->dev, vkQueueSubmit(pipe->dev->queue, 1, &si, s->fence),
			 "vkQueueSubmit"))
		return false;

	s->job_data = job_data;
	s->source = in->source;
	if (s->source)
		s->source->in_flight++;
	unsigned idx = (unsigned)(s - pipe->slots);
	pipe->order[(pipe->order_head + pipe->order_count) % CR_PIPELINE_SLOTS] = idx;
	pipe->order_count++;

	pthread_mutex_lock(&pipe->mutex);
	s->state = SLOT_BUSY;
	pipe->wait_queue[(pipe->wait_head + pipe->wait_count) % CR_PIPELINE_SLOTS] = idx;
	pipe->wait_count++;
	pthread_cond_signal(&pipe->cond);
	pthread_mutex_unlock(&pipe->mutex);
	return true;
}

struct cr_pipeline_source *cr_pipeline_import_dmabuf(struct cr_pipeline *pipe,
						     const struct cr_dmabuf *buf)
{
	const struct cr_dmabuf_plane *p = &buf->planes[0];
	off_t size = lseek(p->fd, 0, SEEK_END);
	if (size <= 0) {
		cr_log_error(TOPIC, "DMA-BUF fd %d has no size", p->fd);
		return NULL;
	}
	struct cr_pipeline_source *src = calloc(1, sizeof(*src));
	if (!src)
		return NULL;
	src->buffer = cr_vk_buffer_import_dmabuf(pipe->dev, p->fd, (uint64_t)size);
	if (!src->buffer) {
		free(src);
		return NULL;
	}
	return src;
}

void cr_pipeline_source_destroy(struct cr_pipeline *pipe, struct cr_pipeline_source *src)
{
	if (!src)
		return;
	if (src->in_flight > 0) {
		src->destroyed = true;
		return;
	}
	free_source(pipe, src);
}
