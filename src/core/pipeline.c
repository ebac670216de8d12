/* SPDX-License-Identifier: MIT */
#include "pipeline.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <drm_fourcc.h>

#include "cr-params.h"
#include "kernels.h"
#include "log.h"
#include "reference.h"
#include "sync-file.h"
#include "vk-buffer.h"
#include "vk-device.h"
#include "vk-format.h"
#include "vk-image.h"
#include "vk-objects.h"
#include "vk-sync.h"

#define TOPIC "pipeline"

/* The waiter wakes this often to notice teardown even when a fence never signals. */
#define WAIT_SLICE_NS (200ull * 1000 * 1000)
/* Longest CPU wait for a producer's fence when the GPU cannot wait on sync_files. */
#define FALLBACK_WAIT_MS 50

/* Shared memory imported in place: our own mapping (it outlives the caller's), and where the
 * caller's block starts in it. */
struct shm_map {
	void *map; /**< NULL: none */
	size_t size;
	uint64_t base;
};

struct cr_pipeline_source {
	/** The image holding every plane (any modifier), or NULL: storage buffers (LINEAR). */
	struct cr_vk_image *image;
	struct cr_vk_buffer *buffer; /**< the DMA-BUF holding plane 0 (no image) */
	int fd; /**< a dup of that DMA-BUF, for exporting its fences; -1 when not shared */
	/** Further distinct DMA-BUFs of disjoint planes (buffers: NULL for an image), and dups
	 * of their fds. */
	struct cr_vk_buffer *more[CR_DMABUF_MAX_PLANES - 1];
	int more_fds[CR_DMABUF_MAX_PLANES - 1];
	uint32_t n_more;
	/** Per plane: 0 for @buffer, i + 1 for more[i]. */
	uint32_t plane_buffer[CR_DMABUF_MAX_PLANES];
	/** Shared memory (cr_pipeline_import_shm()): our own mapping of each buffer (@buffer,
	 * then more[]) imported in place, and where the caller's block starts in it; frames'
	 * offsets count from there. NULL maps for DMA-BUFs. */
	struct shm_map shm[CR_DMABUF_MAX_PLANES];
	unsigned in_flight; /**< jobs reading it */
	bool destroyed;     /**< released by its owner; freed when in_flight drops to 0 */
};

struct cr_pipeline_output {
	struct cr_vk_image *image;   /**< a storage image, or NULL: */
	struct cr_vk_buffer *buffer; /**< a storage buffer (LINEAR) */
	/** Our own reference to the exported DMA-BUF, for its consumers' fences; -1 when not
	 * exported (cr_pipeline_output_from_image(), cr_pipeline_output_from_shm()). */
	int fd;
	struct shm_map shm; /**< cr_pipeline_output_from_shm(): our mapping of it */
	unsigned in_flight;
	bool destroyed;
};

enum slot_state { SLOT_FREE, SLOT_BUSY, SLOT_DONE };

struct slot {
	enum slot_state state; /**< BUSY -> DONE written by the waiter under the mutex */
	VkResult result;
	VkCommandBuffer cmd;
	VkFence fence;
	VkSemaphore acquire; /**< waits for the producer's fence (temporary SYNC_FD import) */
	VkSemaphore readers; /**< waits for consumers still reading the output buffer */
	/** Implicit sync of the further DMA-BUFs of disjoint planes (source.more). */
	VkSemaphore acquire_more[CR_DMABUF_MAX_PLANES - 1];
	/** Exportable: signalled by a job writing an exported output; its sync_file becomes
	 * that buffer's write fence in finish_slot(). */
	VkSemaphore done;
	bool signal_done; /**< this job signals @done (exported and so unsignalled once done) */
	struct cr_vk_buffer *staging; /**< SHM input copy, grown on demand */
	struct cr_vk_buffer *out;     /**< output readback, grown on demand */
	struct cr_vk_buffer *params;  /**< the kernel's uniform block */
	struct cr_vk_buffer *cursor;  /**< cursor bitmap, grown on demand */
	struct cr_pipeline_source *source;
	struct cr_pipeline_output *target; /**< exported output written in place, or NULL */
	void *job_data;
	struct cr_plane_layout layout;
	uint64_t submit_ns, done_ns;
};

struct cr_pipeline {
	struct cr_vk_device *dev;
	cr_pipeline_done_fn done;
	void *done_data;

	/** The device's kernels (borrowed), and this pipeline's descriptor sets of each variant
	 * (index CR_KERNELS_SRC_IMAGE | CR_KERNELS_DST_IMAGE bits) per slot. */
	struct cr_kernels *kernels;
	VkDescriptorSet sets[CR_KERNELS_COUNT][CR_PIPELINE_SLOTS];
	/** Variants asked for, whose frames were dropped: logged once each. */
	uint32_t waited_variants;
	struct cr_pipeline_stats stats;
	VkDescriptorPool pool;
	VkCommandPool cmd_pool;
	struct slot slots[CR_PIPELINE_SLOTS];

	bool can_import;   /**< DMA-BUFs import as storage buffers */
	bool can_export;   /**< output memory exports as DMA-BUFs */
	unsigned fail_imports; /**< CASTRELAY_TEST_FAIL_IMPORTS: tests only */
	bool linear_images; /**< CASTRELAY_TEST_LINEAR_IMAGES: tests only */
	bool gpu_waits;    /**< SYNC_FD semaphores: the GPU waits for producers' fences */
	bool skip_sync;    /**< CASTRELAY_TEST_SKIP_SYNC: tests only */
	const char *sync_mode; /**< of the last DMA-BUF frame: cr_pipeline_sync_mode() */
	bool warned_fences, warned_fallback;
	/* Implicit sync out (main thread): cr_pipeline_output_fence_mode(). */
	bool can_attach;   /**< exportable SYNC_FD semaphores: our fence goes on outputs */
	bool attached;     /**< on the last exported output written */
	struct cr_pipeline_fence_stats fence_stats;

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
		VkResult res = cr_vk_device_wait_fence(pipe->dev, fence, WAIT_SLICE_NS,
						       "vkWaitForFences");
		pthread_mutex_lock(&pipe->mutex);
		/* cr_pipeline_drain() may have emptied the queue while we waited unlocked. */
		if (res == VK_TIMEOUT || pipe->wait_count == 0 ||
		    &pipe->slots[pipe->wait_queue[pipe->wait_head]] != s)
			continue;
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

/* The descriptor pool, and a set of every kernel variant for every slot. */
static bool create_sets(struct cr_pipeline *pipe)
{
	VkDevice d = pipe->dev->dev;
	const uint32_t sets = CR_KERNELS_COUNT * CR_PIPELINE_SLOTS;
	VkDescriptorPoolSize pool_sizes[4] = {
		{ VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, 4 * sets },
		{ VK_DESCRIPTOR_TYPE_UNIFORM_BUFFER, sets },
		{ VK_DESCRIPTOR_TYPE_COMBINED_IMAGE_SAMPLER, 2 * sets },
		{ VK_DESCRIPTOR_TYPE_STORAGE_IMAGE, sets },
	};
	VkDescriptorPoolCreateInfo dpci = {
		.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO,
		.maxSets = sets,
		.poolSizeCount = 4,
		.pPoolSizes = pool_sizes,
	};
	if (!cr_vk_check(pipe->dev, vkCreateDescriptorPool(d, &dpci, NULL, &pipe->pool),
			 "vkCreateDescriptorPool"))
		return false;
	cr_vk_objects_add(CR_VK_OBJECT_DESCRIPTOR_POOL, 1);
	for (unsigned v = 0; v < CR_KERNELS_COUNT; v++) {
		VkDescriptorSetLayout layouts[CR_PIPELINE_SLOTS];
		for (unsigned i = 0; i < CR_PIPELINE_SLOTS; i++)
			layouts[i] = cr_kernels_set_layout(pipe->kernels, v);
		VkDescriptorSetAllocateInfo dsai = {
			.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO,
			.descriptorPool = pipe->pool,
			.descriptorSetCount = CR_PIPELINE_SLOTS,
			.pSetLayouts = layouts,
		};
		if (!cr_vk_check(pipe->dev, vkAllocateDescriptorSets(d, &dsai, pipe->sets[v]),
				 "vkAllocateDescriptorSets"))
			return false;
	}
	return true;
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
	cr_vk_objects_add(CR_VK_OBJECT_COMMAND_POOL, 1);
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
		cr_vk_objects_add(CR_VK_OBJECT_FENCE, 1);
		if (pipe->gpu_waits && (!(s->acquire = cr_vk_sync_semaphore_create(pipe->dev)) ||
					!(s->readers = cr_vk_sync_semaphore_create(pipe->dev))))
			return false;
		for (unsigned k = 0; pipe->gpu_waits && k < CR_DMABUF_MAX_PLANES - 1; k++)
			if (!(s->acquire_more[k] = cr_vk_sync_semaphore_create(pipe->dev)))
				return false;
		if (pipe->can_attach &&
		    !(s->done = cr_vk_sync_semaphore_create_exportable(pipe->dev)))
			pipe->can_attach = false; /* logged: outputs still go out after completion */
		s->params = cr_vk_buffer_create_host(pipe->dev, sizeof(struct cr_process_params),
						     VK_BUFFER_USAGE_UNIFORM_BUFFER_BIT);
		s->cursor = cr_vk_buffer_create_host(pipe->dev, 64,
						     VK_BUFFER_USAGE_STORAGE_BUFFER_BIT);
		if (!s->params || !s->cursor)
			return false;
	}
	return true;
}

struct cr_pipeline *cr_pipeline_create(struct cr_kernels *kernels, cr_pipeline_done_fn done,
				       void *data)
{
	struct cr_pipeline *pipe = kernels ? calloc(1, sizeof(*pipe)) : NULL;
	if (!pipe)
		return NULL;
	struct cr_vk_device *dev = cr_kernels_device(kernels);
	pipe->dev = dev;
	pipe->kernels = kernels;
	pipe->done = done;
	pipe->done_data = data;
	pipe->event_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (pipe->event_fd < 0) {
		cr_log_error(TOPIC, "eventfd: %s", strerror(errno));
		goto err_free;
	}
	pthread_mutex_init(&pipe->mutex, NULL);
	pthread_cond_init(&pipe->cond, NULL);
	pipe->gpu_waits = cr_vk_sync_can_import_sync_file(dev);
	pipe->can_import = cr_vk_buffer_can_import_dmabuf(dev);
	pipe->can_export = cr_vk_buffer_can_export_dmabuf(dev);
	const char *fail = getenv("CASTRELAY_TEST_FAIL_IMPORTS");
	pipe->fail_imports = fail ? (unsigned)strtoul(fail, NULL, 10) : 0;
	const char *linear_images = getenv("CASTRELAY_TEST_LINEAR_IMAGES");
	pipe->linear_images = linear_images && strcmp(linear_images, "1") == 0;
	if (pipe->linear_images)
		cr_log_warn(TOPIC, "CASTRELAY_TEST_LINEAR_IMAGES=1: LINEAR DMA-BUFs of packed "
				   "formats go through images (for tests only)");
	pipe->skip_sync = cr_sync_test_skip();
	if (pipe->skip_sync)
		cr_log_warn(TOPIC, "CASTRELAY_TEST_SKIP_SYNC=1: not waiting for producers' fences "
				   "(for tests only: frames may be read while still being written)");
	/* Implicit sync out needs exported outputs and exportable SYNC_FD semaphores. */
	pipe->can_attach = pipe->can_export && !pipe->skip_sync &&
			   cr_vk_sync_can_export_sync_file(dev);
	/* The kernels themselves are the device's: cr_kernels compiles them on its worker. */
	if (!create_sets(pipe) || !create_slots(pipe))
		goto err_vk;
	if (pipe->can_attach)
		cr_log_info(TOPIC, "output DMA-BUFs get our fence (IMPORT_SYNC_FILE) before queueing");
	else
		cr_log_info(TOPIC, "no fence of ours on outputs (%s): they are queued once the GPU "
				   "is done", !pipe->can_export ? "no DMA-BUF export"
				   : pipe->skip_sync ? "CASTRELAY_TEST_SKIP_SYNC"
				   : "no exportable SYNC_FD semaphores");
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

static void unmap_shm(struct shm_map *m)
{
	if (m->map)
		munmap(m->map, m->size);
	m->map = NULL;
}

static void free_source(struct cr_pipeline *pipe, struct cr_pipeline_source *src)
{
	for (uint32_t i = 0; i < src->n_more; i++) {
		cr_vk_buffer_destroy(pipe->dev, src->more[i]);
		if (src->more_fds[i] >= 0)
			close(src->more_fds[i]);
	}
	cr_vk_image_destroy(pipe->dev, src->image);
	cr_vk_buffer_destroy(pipe->dev, src->buffer);
	if (src->fd >= 0)
		close(src->fd);
	/* After the buffers: the device no longer refers to the memory. */
	for (uint32_t i = 0; i < CR_DMABUF_MAX_PLANES; i++)
		unmap_shm(&src->shm[i]);
	free(src);
}

static void free_output(struct cr_pipeline *pipe, struct cr_pipeline_output *out)
{
	cr_vk_image_destroy(pipe->dev, out->image);
	cr_vk_buffer_destroy(pipe->dev, out->buffer);
	if (out->fd >= 0)
		close(out->fd);
	unmap_shm(&out->shm);
	free(out);
}

/*
 * Implicit sync out: @s's completion becomes its output's write fence. Runs only once the job
 * is known to be complete (the waiter saw its fence signal, or the drain waited for the queue),
 * so the export cannot block the loop, also on lavapipe, which waits for the work before it
 * exports (DESIGN.md). With @attach false (a failed job, teardown) it only unsignals @s->done
 * for the next job. Returns the CPU time spent exporting (and importing), 0 when nothing was
 * exported.
 */
static uint64_t attach_fence(struct cr_pipeline *pipe, struct slot *s, bool attach)
{
	uint64_t t0 = now_ns();
	int sync_fd = -1;
	s->signal_done = false;
	if (!cr_vk_sync_export_sync_file(pipe->dev, s->done, &sync_fd)) {
		/* @done may still hold the signal, and signalling it again would be invalid. */
		cr_vk_sync_semaphore_destroy(pipe->dev, s->done);
		s->done = cr_vk_sync_semaphore_create_exportable(pipe->dev);
		if (pipe->can_attach)
			cr_log_warn(TOPIC, "cannot export our fence: output DMA-BUFs carry none from "
					   "now on (they are still queued once the GPU is done)");
		pipe->can_attach = false;
		pipe->fence_stats.failed++;
		pipe->attached = false;
		return 0;
	}
	if (!attach) {
		if (sync_fd >= 0)
			close(sync_fd);
		return 0;
	}
	if (sync_fd < 0) {
		/* The driver says it had signalled already (the Vulkan spec allows -1 for that):
		 * there is nothing a consumer could wait for. */
		pipe->fence_stats.signalled++;
		pipe->attached = false;
		return now_ns() - t0;
	}
	int err = cr_sync_file_import(s->target->fd, sync_fd, CR_SYNC_WRITE);
	close(sync_fd);
	if (err < 0) {
		/* -ENOTTY: a kernel before 5.20; it will not change, so don't try each frame. */
		cr_log_warn(TOPIC, "cannot put our fence on an output DMA-BUF (%s): not trying again "
				   "(outputs are still queued once the GPU is done)", strerror(-err));
		pipe->can_attach = false;
		pipe->fence_stats.failed++;
		pipe->attached = false;
		return 0;
	}
	pipe->fence_stats.attached++;
	pipe->attached = true;
	return now_ns() - t0;
}

static void finish_slot(struct cr_pipeline *pipe, struct slot *s, bool ok)
{
	/* Before the done callback: the owner queues the output buffer from there. */
	uint64_t fence_ns = 0;
	if (s->signal_done)
		fence_ns = attach_fence(pipe, s, ok && s->result == VK_SUCCESS);
	else if (s->target && ok && s->result == VK_SUCCESS)
		pipe->attached = false;
	struct cr_pipeline_result res = {
		.ok = ok && s->result == VK_SUCCESS,
		.pixels = s->target ? NULL : (s->out ? s->out->map : NULL),
		.layout = s->layout,
		.gpu_ns = s->done_ns > s->submit_ns ? s->done_ns - s->submit_ns : 0,
		.fence_ns = fence_ns,
	};
	struct cr_pipeline_source *src = s->source;
	struct cr_pipeline_output *target = s->target;
	void *job_data = s->job_data;
	s->source = NULL;
	s->target = NULL;
	s->job_data = NULL;
	vkResetFences(pipe->dev->dev, 1, &s->fence);
	s->state = SLOT_FREE;
	if (src && --src->in_flight == 0 && src->destroyed)
		free_source(pipe, src);
	if (target && --target->in_flight == 0 && target->destroyed)
		free_output(pipe, target);
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
	cr_vk_device_wait_queue(pipe->dev);
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
		if (s->fence) {
			vkDestroyFence(d, s->fence, NULL);
			cr_vk_objects_add(CR_VK_OBJECT_FENCE, -1);
		}
		cr_vk_sync_semaphore_destroy(pipe->dev, s->acquire);
		cr_vk_sync_semaphore_destroy(pipe->dev, s->readers);
		for (unsigned k = 0; k < CR_DMABUF_MAX_PLANES - 1; k++)
			cr_vk_sync_semaphore_destroy(pipe->dev, s->acquire_more[k]);
		cr_vk_sync_semaphore_destroy(pipe->dev, s->done);
		cr_vk_buffer_destroy(pipe->dev, s->staging);
		cr_vk_buffer_destroy(pipe->dev, s->out);
		cr_vk_buffer_destroy(pipe->dev, s->params);
		cr_vk_buffer_destroy(pipe->dev, s->cursor);
	}
	if (pipe->cmd_pool) {
		vkDestroyCommandPool(d, pipe->cmd_pool, NULL);
		cr_vk_objects_add(CR_VK_OBJECT_COMMAND_POOL, -1);
	}
	if (pipe->pool) { /* frees the sets */
		vkDestroyDescriptorPool(d, pipe->pool, NULL);
		cr_vk_objects_add(CR_VK_OBJECT_DESCRIPTOR_POOL, -1);
	}
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

void cr_pipeline_get_stats(const struct cr_pipeline *pipe, struct cr_pipeline_stats *stats)
{
	*stats = pipe->stats;
}

bool cr_pipeline_device_lost(const struct cr_pipeline *pipe)
{
	return pipe->dev->lost;
}

bool cr_pipeline_can_import_dmabuf(const struct cr_pipeline *pipe)
{
	return pipe->can_import;
}

bool cr_pipeline_can_export_dmabuf(const struct cr_pipeline *pipe)
{
	return pipe->can_export;
}

struct cr_pipeline_output *cr_pipeline_export_output(struct cr_pipeline *pipe, uint64_t size,
						     int *fd)
{
	struct cr_pipeline_output *out = calloc(1, sizeof(*out));
	if (!out)
		return NULL;
	out->buffer = cr_vk_buffer_create_exportable(pipe->dev, size, fd);
	if (!out->buffer) {
		free(out);
		return NULL;
	}
	out->fd = fcntl(*fd, F_DUPFD_CLOEXEC, 3);
	if (out->fd < 0) {
		cr_log_error(TOPIC, "dup of exported DMA-BUF: %s", strerror(errno));
		close(*fd);
		cr_vk_buffer_destroy(pipe->dev, out->buffer);
		free(out);
		return NULL;
	}
	return out;
}

void cr_pipeline_output_destroy(struct cr_pipeline *pipe, struct cr_pipeline_output *out)
{
	if (!out)
		return;
	if (out->in_flight > 0) {
		out->destroyed = true;
		return;
	}
	free_output(pipe, out);
}

/*
 * The image modifiers of @fourcc for @usage shared as @handle that fit @width x @height (0:
 * any), then LINEAR when @linear (the storage-buffer path) and not listed yet. LINEAR images
 * are left out unless CASTRELAY_TEST_LINEAR_IMAGES: the buffer path reads LINEAR with
 * per-frame offsets and strides.
 */
static uint32_t list_modifiers(const struct cr_pipeline *pipe, uint32_t fourcc,
			       VkImageUsageFlags usage, VkExternalMemoryFeatureFlags handle,
			       uint32_t width, uint32_t height, bool linear, uint64_t *modifiers,
			       uint32_t max)
{
	struct cr_vk_modifier found[32];
	uint32_t n = cr_vk_format_modifiers(pipe->dev, fourcc, usage, handle, found, 32), count = 0;
	bool have_linear = false;
	for (uint32_t i = 0; i < n && count < max; i++) {
		if ((found[i].modifier == DRM_FORMAT_MOD_LINEAR && !pipe->linear_images) ||
		    width > found[i].max_width || height > found[i].max_height)
			continue;
		have_linear |= found[i].modifier == DRM_FORMAT_MOD_LINEAR;
		modifiers[count++] = found[i].modifier;
	}
	if (linear && !have_linear && count < max)
		modifiers[count++] = DRM_FORMAT_MOD_LINEAR;
	return count;
}

uint32_t cr_pipeline_input_modifiers(const struct cr_pipeline *pipe, uint32_t fourcc,
				     uint64_t *modifiers, uint32_t max)
{
	const struct cr_format_info *fmt = cr_format_info_from_fourcc(fourcc);
	if (!fmt || !fmt->readable)
		return 0;
	return list_modifiers(pipe, fourcc, VK_IMAGE_USAGE_SAMPLED_BIT,
			      VK_EXTERNAL_MEMORY_FEATURE_IMPORTABLE_BIT, 0, 0, pipe->can_import,
			      modifiers, max);
}

uint32_t cr_pipeline_output_modifiers(const struct cr_pipeline *pipe, uint32_t fourcc,
				      uint32_t width, uint32_t height, uint64_t *modifiers,
				      uint32_t max)
{
	const struct cr_format_info *fmt = cr_format_info_from_fourcc(fourcc);
	if (!fmt)
		return 0;
	if (fmt->out_kind != CR_OUT_PACKED) { /* planar outputs: storage buffers only */
		if (!pipe->can_export || max == 0)
			return 0;
		modifiers[0] = DRM_FORMAT_MOD_LINEAR;
		return 1;
	}
	return list_modifiers(pipe, fourcc, VK_IMAGE_USAGE_STORAGE_BIT,
			      VK_EXTERNAL_MEMORY_FEATURE_EXPORTABLE_BIT, width, height,
			      pipe->can_export, modifiers, max);
}

bool cr_pipeline_source_is_image(const struct cr_pipeline_source *src)
{
	return src->image != NULL;
}

bool cr_pipeline_output_is_image(const struct cr_pipeline_output *out)
{
	return out->image != NULL;
}

struct cr_pipeline_source *cr_pipeline_source_from_image(struct cr_pipeline *pipe,
							 struct cr_vk_image *img)
{
	struct cr_pipeline_source *src = calloc(1, sizeof(*src));
	if (!src) {
		cr_vk_image_destroy(pipe->dev, img);
		return NULL;
	}
	src->image = img;
	src->fd = -1;
	return src;
}

struct cr_pipeline_output *cr_pipeline_output_from_image(struct cr_pipeline *pipe,
							 struct cr_vk_image *img)
{
	struct cr_pipeline_output *out = calloc(1, sizeof(*out));
	if (!out) {
		cr_vk_image_destroy(pipe->dev, img);
		return NULL;
	}
	out->image = img;
	out->fd = -1;
	return out;
}

static bool contains(const uint64_t *modifiers, uint32_t n, uint64_t modifier)
{
	for (uint32_t i = 0; i < n; i++)
		if (modifiers[i] == modifier)
			return true;
	return false;
}

/* Fills @desc with @n_planes planes of the DMA-BUF @fd (taken): @fd for the first, dups for
 * the others. */
static bool describe_planes(int fd, uint32_t n_planes, struct cr_dmabuf *desc)
{
	desc->n_planes = n_planes;
	desc->planes[0].fd = fd;
	for (uint32_t i = 1; i < n_planes; i++) {
		desc->planes[i].fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
		if (desc->planes[i].fd < 0) {
			cr_log_error(TOPIC, "dup of exported DMA-BUF: %s", strerror(errno));
			for (uint32_t k = 0; k < i; k++)
				close(desc->planes[k].fd);
			return false;
		}
	}
	return true;
}

struct cr_pipeline_output *cr_pipeline_export_frame(struct cr_pipeline *pipe,
						    const struct cr_format_info *fmt,
						    uint32_t width, uint32_t height,
						    const uint64_t *modifiers, uint32_t n_modifiers,
						    struct cr_dmabuf *desc)
{
	*desc = (struct cr_dmabuf){ .width = width, .height = height, .fourcc = fmt->fourcc };
	/* What the image path exports at this size, asked once: the consumers' choices that
	 * are in it go to the driver, which picks one. */
	uint64_t supported[32], images[32];
	uint32_t n_supported = 0, n_images = 0;
	if (fmt->out_kind == CR_OUT_PACKED)
		n_supported = list_modifiers(pipe, fmt->fourcc, VK_IMAGE_USAGE_STORAGE_BIT,
					     VK_EXTERNAL_MEMORY_FEATURE_EXPORTABLE_BIT, width,
					     height, false, supported, 32);
	bool linear = false;
	for (uint32_t i = 0; i < n_modifiers; i++) {
		if (contains(supported, n_supported, modifiers[i]) && n_images < 32)
			images[n_images++] = modifiers[i];
		else if (modifiers[i] == DRM_FORMAT_MOD_LINEAR)
			linear = true;
	}
	struct cr_pipeline_output *out = calloc(1, sizeof(*out));
	if (!out)
		return NULL;
	out->fd = -1;
	if (n_images > 0) {
		out->image = cr_vk_image_create(pipe->dev, fmt->fourcc, width, height, images,
						n_images, VK_IMAGE_USAGE_STORAGE_BIT, true);
		if (out->image)
			out->fd = cr_vk_image_export_fd(pipe->dev, out->image);
		if (out->fd >= 0) {
			*desc = out->image->layout;
			for (uint32_t i = 0; i < CR_DMABUF_MAX_PLANES; i++)
				desc->planes[i].fd = -1;
		}
	} else if (linear && pipe->can_export) {
		struct cr_plane_layout l;
		cr_format_plane_layout(fmt, width, height, &l);
		out->buffer = cr_vk_buffer_create_exportable(pipe->dev, l.size, &out->fd);
		desc->modifier = DRM_FORMAT_MOD_LINEAR;
		desc->n_planes = l.n_planes;
		for (uint32_t i = 0; i < l.n_planes; i++)
			desc->planes[i] = (struct cr_dmabuf_plane){ -1, l.offset[i], l.stride[i] };
	} else {
		cr_log_error(TOPIC, "none of the %u modifier(s) offered for %s output (first "
			     "0x%016llx) can be exported", n_modifiers, fmt->name,
			     n_modifiers ? (unsigned long long)modifiers[0] : 0ull);
	}
	if (out->fd < 0)
		goto err;
	int fd = fcntl(out->fd, F_DUPFD_CLOEXEC, 3);
	if (fd < 0) {
		cr_log_error(TOPIC, "dup of exported DMA-BUF: %s", strerror(errno));
		goto err;
	}
	if (!describe_planes(fd, desc->n_planes, desc))
		goto err;
	return out;

err:
	free_output(pipe, out);
	return NULL;
}

const char *cr_pipeline_output_fence_mode(const struct cr_pipeline *pipe)
{
	return pipe->attached ? "attached" : "none";
}

void cr_pipeline_output_fence_stats(const struct cr_pipeline *pipe,
				    struct cr_pipeline_fence_stats *stats)
{
	*stats = pipe->fence_stats;
}

const char *cr_pipeline_sync_mode(const struct cr_pipeline *pipe)
{
	return pipe->sync_mode ? pipe->sync_mode : "none";
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

/* Ownership of a shared buffer between other processes (FOREIGN) and our queue family:
 * acquired before the kernel uses it with @access, released after. */
static void foreign_barrier(struct cr_pipeline *pipe, VkCommandBuffer cmd, VkBuffer buffer,
			    bool acquire, VkAccessFlags access)
{
	uint32_t ours = pipe->dev->queue_family;
	VkBufferMemoryBarrier b = {
		.sType = VK_STRUCTURE_TYPE_BUFFER_MEMORY_BARRIER,
		.srcAccessMask = acquire ? 0 : access,
		.dstAccessMask = acquire ? access : 0,
		.srcQueueFamilyIndex = acquire ? VK_QUEUE_FAMILY_FOREIGN_EXT : ours,
		.dstQueueFamilyIndex = acquire ? ours : VK_QUEUE_FAMILY_FOREIGN_EXT,
		.buffer = buffer,
		.size = VK_WHOLE_SIZE,
	};
	vkCmdPipelineBarrier(cmd,
			     acquire ? VK_PIPELINE_STAGE_TOP_OF_PIPE_BIT
				     : VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT,
			     acquire ? VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT
				     : VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT,
			     0, 0, NULL, 1, &b, 0, NULL);
}

/*
 * The image counterpart of foreign_barrier(), for images the kernel reads or writes with
 * @access. A @shared image (a DMA-BUF) that has been used is acquired from FOREIGN in
 * VK_IMAGE_LAYOUT_GENERAL, never from UNDEFINED, which would allow the driver to discard the
 * producer's pixels (or a compressed layout's metadata), and released back after the work.
 * A created image is moved out of UNDEFINED once, before its first write; images nobody else
 * sees only get an execution and memory dependency on earlier transfers and kernels.
 */
static void image_barrier(struct cr_pipeline *pipe, VkCommandBuffer cmd, struct cr_vk_image *img,
			  bool shared, bool acquire, VkAccessFlags access)
{
	bool foreign = shared && pipe->dev->ext.queue_family_foreign && img->initialized;
	if (!acquire && !foreign)
		return;
	uint32_t ours = pipe->dev->queue_family;
	VkImageMemoryBarrier b = {
		.sType = VK_STRUCTURE_TYPE_IMAGE_MEMORY_BARRIER,
		.srcAccessMask = !acquire ? access
				 : foreign ? 0
				 : VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT,
		.dstAccessMask = acquire ? access : 0,
		.oldLayout = img->initialized ? VK_IMAGE_LAYOUT_GENERAL : VK_IMAGE_LAYOUT_UNDEFINED,
		.newLayout = VK_IMAGE_LAYOUT_GENERAL,
		.srcQueueFamilyIndex = !foreign ? VK_QUEUE_FAMILY_IGNORED
				       : acquire ? VK_QUEUE_FAMILY_FOREIGN_EXT : ours,
		.dstQueueFamilyIndex = !foreign ? VK_QUEUE_FAMILY_IGNORED
				       : acquire ? ours : VK_QUEUE_FAMILY_FOREIGN_EXT,
		.image = img->image,
		.subresourceRange = { VK_IMAGE_ASPECT_COLOR_BIT, 0, 1, 0, 1 },
	};
	VkPipelineStageFlags src = !acquire ? VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT
				   : foreign ? VK_PIPELINE_STAGE_TOP_OF_PIPE_BIT
				   : VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT;
	vkCmdPipelineBarrier(cmd, src,
			     acquire ? VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT
				     : VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT,
			     0, 0, NULL, 0, NULL, 1, &b);
	img->initialized = true;
}

/* foreign_barrier() for every DMA-BUF of an imported source (disjoint planes: several). */
static void source_barriers(struct cr_pipeline *pipe, VkCommandBuffer cmd,
			    const struct cr_pipeline_source *src, bool acquire)
{
	if (src->image) {
		image_barrier(pipe, cmd, src->image, src->fd >= 0, acquire,
			      VK_ACCESS_SHADER_READ_BIT);
		return;
	}
	/* Host memory is not another queue's: the submission makes earlier host writes
	 * visible. */
	if (!pipe->dev->ext.queue_family_foreign || src->shm[0].map)
		return;
	foreign_barrier(pipe, cmd, src->buffer->buffer, acquire, VK_ACCESS_SHADER_READ_BIT);
	for (uint32_t i = 0; i < src->n_more; i++)
		foreign_barrier(pipe, cmd, src->more[i]->buffer, acquire,
				VK_ACCESS_SHADER_READ_BIT);
}

/* The barriers of an output: its image's, or a foreign_barrier() for an exported buffer (none
 * for shared memory: the barrier after the kernel makes its writes visible to the host). */
static void output_barrier(struct cr_pipeline *pipe, VkCommandBuffer cmd,
			   const struct cr_pipeline_output *out, bool acquire)
{
	if (out->image)
		image_barrier(pipe, cmd, out->image, out->fd >= 0, acquire,
			      VK_ACCESS_SHADER_WRITE_BIT);
	else if (pipe->dev->ext.queue_family_foreign && !out->shm.map)
		foreign_barrier(pipe, cmd, out->buffer->buffer, acquire,
				VK_ACCESS_SHADER_WRITE_BIT);
}

static bool record(struct cr_pipeline *pipe, struct slot *s, unsigned variant,
		   VkPipeline pipeline, VkDescriptorSet set, const struct cr_process_params *p,
		   const struct cr_pipeline_source *in, const struct cr_pipeline_output *out)
{
	VkCommandBufferBeginInfo begin = {
		.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
		.flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT,
	};
	if (!cr_vk_check(pipe->dev, vkBeginCommandBuffer(s->cmd, &begin), "vkBeginCommandBuffer"))
		return false;
	/* The acquire is recorded before the dispatch, so it executes before the work and
	 * after the semaphore wait (which covers all commands of the submission). */
	if (in)
		source_barriers(pipe, s->cmd, in, true);
	if (out)
		output_barrier(pipe, s->cmd, out, true);
	vkCmdBindPipeline(s->cmd, VK_PIPELINE_BIND_POINT_COMPUTE, pipeline);
	vkCmdBindDescriptorSets(s->cmd, VK_PIPELINE_BIND_POINT_COMPUTE,
				cr_kernels_layout(pipe->kernels, variant), 0, 1, &set, 0, NULL);
	uint32_t w = p->dst_width, h = p->dst_height;
	if (p->out_kind != CR_OUT_PACKED) {
		w = (w + CR_PLANAR_BLOCK_W - 1) / CR_PLANAR_BLOCK_W;
		h = (h + CR_PLANAR_BLOCK_H - 1) / CR_PLANAR_BLOCK_H;
	} else {
		h = (h + p->packed_rows - 1) / p->packed_rows;
	}
	vkCmdDispatch(s->cmd, (w + CR_WORKGROUP_SIZE - 1) / CR_WORKGROUP_SIZE,
		      (h + CR_WORKGROUP_SIZE - 1) / CR_WORKGROUP_SIZE, 1);
	/* Make the kernel's writes visible to the CPU that reads them after the fence, and to
	 * later copies (tests read images that no DMA-BUF holds back that way). */
	VkMemoryBarrier barrier = {
		.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
		.srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT,
		.dstAccessMask = VK_ACCESS_HOST_READ_BIT | VK_ACCESS_TRANSFER_READ_BIT,
	};
	vkCmdPipelineBarrier(s->cmd, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT,
			     VK_PIPELINE_STAGE_HOST_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT, 0, 1,
			     &barrier, 0, NULL, 0, NULL);
	if (in)
		source_barriers(pipe, s->cmd, in, false);
	if (out)
		output_barrier(pipe, s->cmd, out, false);
	return cr_vk_check(pipe->dev, vkEndCommandBuffer(s->cmd), "vkEndCommandBuffer");
}

static bool check_frame(const struct cr_pipeline_frame *in, const struct cr_pipeline_target *out)
{
	const struct cr_rect *c = &in->crop;
	if (!in->format || !out->format || !in->format->readable) {
		cr_log_error(TOPIC, "input must be packed RGB or NV12, not %s",
			     in->format ? in->format->name : "(none)");
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
	for (uint32_t i = 1; i < in->format->n_planes; i++) {
		const struct cr_pipeline_plane *e = &in->extra[i - 1];
		uint32_t row_bytes, rows;
		cr_format_plane_size(in->format, i, in->width, in->height, &row_bytes, &rows);
		if (e->stride % 4 || e->offset % 4 || e->stride < row_bytes) {
			cr_log_error(TOPIC, "plane %u: stride %u / offset %u not a multiple of "
				     "4 or shorter than a row of %u bytes", i, e->stride, e->offset,
				     row_bytes);
			return false;
		}
	}
	const struct cr_vk_image *si = in->source ? in->source->image : NULL;
	if (si && (in->format->fourcc != si->layout.fourcc || in->width > si->layout.width ||
		   in->height > si->layout.height || in->offset != si->layout.planes[0].offset ||
		   in->stride != si->layout.planes[0].stride)) {
		cr_log_error(TOPIC, "%s %ux%u frame at offset %u stride %u does not match its "
			     "image (%.4s %ux%u, offset %u stride %u as imported)",
			     in->format->name, in->width, in->height, in->offset, in->stride,
			     (const char *)&si->layout.fourcc, si->layout.width, si->layout.height,
			     si->layout.planes[0].offset, si->layout.planes[0].stride);
		return false;
	}
	if (si && in->format->n_planes > 1 && si->layout.n_planes > 1 &&
	    (in->extra[0].offset != si->layout.planes[1].offset ||
	     in->extra[0].stride != si->layout.planes[1].stride)) {
		cr_log_error(TOPIC, "%s plane 1 at offset %u stride %u does not match its image "
			     "(offset %u stride %u as imported)", in->format->name,
			     in->extra[0].offset, in->extra[0].stride, si->layout.planes[1].offset,
			     si->layout.planes[1].stride);
		return false;
	}
	const struct cr_vk_image *di = out->output ? out->output->image : NULL;
	if (di && (out->format->fourcc != di->layout.fourcc || out->width != di->layout.width ||
		   out->height != di->layout.height)) {
		cr_log_error(TOPIC, "%s %ux%u output does not match its image (%.4s %ux%u)",
			     out->format->name, out->width, out->height,
			     (const char *)&di->layout.fourcc, di->layout.width, di->layout.height);
		return false;
	}
	if (out->n_redact > CR_PIPELINE_MAX_REDACT) {
		cr_log_error(TOPIC, "%u redaction rectangles, at most %d", out->n_redact,
			     CR_PIPELINE_MAX_REDACT);
		return false;
	}
	const struct cr_pipeline_cursor *k = in->cursor;
	if (k && (k->stride % 4 || k->stride < k->width * 4 || k->width > 1024 ||
		  k->height > 1024 || !k->pixels || !k->format || !k->format->has_alpha)) {
		cr_log_error(TOPIC, "cursor bitmap %ux%u with stride %u rejected", k->width,
			     k->height, k->stride);
		return false;
	}
	return true;
}

/*
 * Implicit sync: the fences of a shared buffer, exported as a sync_file, become the temporary
 * payload of @sem, which the submission waits for on the GPU. For an input, CR_SYNC_READ
 * waits for the producer's writes; for an output being reused, CR_SYNC_WRITE waits for its
 * consumers' reads too. Returns true when the submission must wait on @sem.
 */
static bool wait_sync_file(struct cr_pipeline *pipe, int sync_fd, VkSemaphore sem);

static bool wait_fences(struct cr_pipeline *pipe, int fd, VkSemaphore sem, uint32_t flags)
{
	if (pipe->skip_sync)
		return false;
	int sync_fd = cr_sync_file_export(fd, flags);
	if (sync_fd < 0) {
		if (!pipe->warned_fences)
			cr_log_warn(TOPIC, "cannot export a DMA-BUF's fences (%s): using shared "
					   "buffers without synchronisation (castrelay.sync=none)",
				    strerror(-sync_fd));
		pipe->warned_fences = true;
		return false;
	}
	return wait_sync_file(pipe, sync_fd, sem);
}

/* Makes the submission wait for @sync_fd (taken; -1: nothing to wait for) through @sem, or
 * waits on the CPU, bounded, when the GPU cannot. Returns true when the submission must wait
 * on @sem. */
static bool wait_sync_file(struct cr_pipeline *pipe, int sync_fd, VkSemaphore sem)
{
	if (sync_fd < 0)
		return false;
	if (pipe->skip_sync) {
		close(sync_fd);
		return false;
	}
	if (!pipe->gpu_waits) {
		/* Fallback: no SYNC_FD semaphores. Bounded, so a stuck peer costs a frame. */
		if (!pipe->warned_fallback)
			cr_log_warn(TOPIC, "%s cannot wait on sync_files: waiting for DMA-BUF fences "
					   "on the CPU, at most %d ms (castrelay.sync=none)",
				    pipe->dev->props.deviceName, FALLBACK_WAIT_MS);
		pipe->warned_fallback = true;
		cr_sync_file_wait(sync_fd, FALLBACK_WAIT_MS);
		close(sync_fd);
		return false;
	}
	return cr_vk_sync_import_sync_file(pipe->dev, sem, sync_fd);
}

static void fill_params(struct cr_process_params *p, const struct cr_pipeline_frame *in,
			const struct cr_pipeline_target *out, const struct cr_plane_layout *l,
			uint32_t packed_rows)
{
	struct cr_rect crop = in->crop.w ? in->crop
					 : (struct cr_rect){ 0, 0, in->width, in->height };
	bool nv12 = in->format->out_kind == CR_OUT_NV12;
	*p = (struct cr_process_params){
		.src_kind = nv12 ? CR_OUT_NV12 : CR_OUT_PACKED,
		.src_stride = nv12 ? in->stride : in->stride / 4,
		.src_stride1 = nv12 ? in->extra[0].stride : 0,
		.src_width = in->width,
		.src_height = in->height,
		.src_layout = in->format->layout,
		.crop_x = crop.x,
		.crop_y = crop.y,
		.crop_w = crop.w,
		.crop_h = crop.h,
		.transform = in->transform & 7u,
		.out_kind = out->format->out_kind,
		.dst_width = out->width,
		.dst_height = out->height,
		.dst_layout = out->format->layout,
		.dst_stride = out->format->out_kind == CR_OUT_PACKED ? l->stride[0] / 4 : l->stride[0],
		.dst_offset1 = l->offset[1],
		.dst_stride1 = l->stride[1],
		.dst_offset2 = l->offset[2],
		.dst_stride2 = l->stride[2],
		.n_redact = out->n_redact,
		.redact_mode = out->pixelate ? CR_REDACT_PIXELATE : CR_REDACT_FILL,
		.redact_block = out->pixelate_block,
		.redact_color = 0xff000000u,
		.packed_rows = packed_rows,
	};
	p->filter_mode = cr_reference_choose_filter(p);
	for (uint32_t i = 0; i < out->n_redact; i++) {
		const struct cr_rect *r = &out->redact[i];
		p->redact[i][0] = r->x;
		p->redact[i][1] = r->y;
		p->redact[i][2] = r->w;
		p->redact[i][3] = r->h;
	}
	if (in->cursor) {
		p->cursor_enabled = 1;
		p->cursor_x = in->cursor->x;
		p->cursor_y = in->cursor->y;
		p->cursor_w = in->cursor->width;
		p->cursor_h = in->cursor->height;
		p->cursor_stride = in->cursor->width;
		p->cursor_layout = in->cursor->format->layout;
	}
	cr_color_yuv_rows(out->matrix, out->full_range, p->yuv_y, p->yuv_u, p->yuv_v);
	if (nv12)
		cr_color_rgb_rows(in->matrix, in->full_range, p->rgb_r, p->rgb_g, p->rgb_b);
}

/* The buffer of @src holding plane @plane. */
static const struct cr_vk_buffer *source_buffer_object(const struct cr_pipeline_source *src,
							uint32_t plane)
{
	uint32_t k = src->plane_buffer[plane];
	return k == 0 ? src->buffer : src->more[k - 1];
}

static VkBuffer source_buffer(const struct cr_pipeline_source *src, uint32_t plane)
{
	return source_buffer_object(src, plane)->buffer;
}

/* Whether plane @plane of the SHM frame @in, starting @offset bytes into its imported buffer,
 * lies inside it (the caller checked the frame against its block; this is the pipeline's own
 * guard, the GPU reading our mapping). */
static bool shm_plane_fits(const struct cr_pipeline_source *src,
			   const struct cr_pipeline_frame *in, uint32_t plane, uint64_t offset)
{
	const struct cr_vk_buffer *b = source_buffer_object(src, plane);
	uint32_t stride = plane ? in->extra[0].stride : in->stride, row_bytes, rows;
	cr_format_plane_size(in->format, plane, in->width, in->height, &row_bytes, &rows);
	uint64_t end = offset + (uint64_t)(rows - 1) * stride + row_bytes;
	if (end <= b->size)
		return true;
	cr_log_error(TOPIC, "%s plane %u ends at byte %llu of shared memory of %llu bytes",
		     in->format->name, plane, (unsigned long long)end,
		     (unsigned long long)b->size);
	return false;
}

/*
 * Where the kernel reads the source from: @buffers[0] for plane 0 (binding 0) and @buffers[1]
 * for NV12's UV plane (binding 4; plane 0's buffer again for packed sources). An imported
 * DMA-BUF is read in place. Of an SHM frame only the rows the crop touches are copied into
 * @s's staging buffer, plane after plane; the parameters are moved into that window then.
 * Returns false (logged) when an SHM plane does not fit its memory.
 */
static bool bind_source(struct cr_pipeline *pipe, struct slot *s,
			const struct cr_pipeline_frame *in, bool pixelate,
			struct cr_process_params *p, VkBuffer buffers[2])
{
	bool nv12 = in->format->out_kind == CR_OUT_NV12;
	if (in->source && in->source->image) {
		/* The image view starts at the plane: texel (x, y) is pixel (x, y). */
		buffers[0] = buffers[1] = VK_NULL_HANDLE;
		p->src_offset = p->src_offset1 = 0;
		return true;
	}
	if (in->source) {
		const struct cr_pipeline_source *src = in->source;
		uint32_t n = nv12 ? 2 : 1;
		uint64_t offset[2];
		for (uint32_t i = 0; i < n; i++) {
			uint32_t k = src->plane_buffer[i];
			offset[i] = src->shm[k].base + (i ? in->extra[0].offset : in->offset);
			if (src->shm[0].map && !shm_plane_fits(src, in, i, offset[i]))
				return false;
		}
		buffers[0] = source_buffer(src, 0);
		buffers[1] = nv12 ? source_buffer(src, 1) : buffers[0];
		p->src_offset = (uint32_t)(nv12 ? offset[0] : offset[0] / 4);
		p->src_offset1 = nv12 ? (uint32_t)offset[1] : 0;
		return true;
	}
	/* Pixelation reads block origins that may lie above the crop, so then the copy starts
	 * at row 0; NV12 starts on an even row, so that chroma rows stay whole. */
	uint32_t top = p->n_redact && pixelate ? 0 : p->crop_y;
	uint32_t end = p->crop_y + p->crop_h;
	if (nv12)
		top &= ~1u;
	const uint8_t *from[2];
	uint64_t bytes[2], at[2], total = 0;
	uint32_t n = nv12 ? 2 : 1;
	for (uint32_t i = 0; i < n; i++) {
		const struct cr_pipeline_plane *e = i ? &in->extra[0] : NULL;
		uint32_t offset = e ? e->offset : in->offset, stride = e ? e->stride : in->stride;
		const uint8_t *data = e && e->data ? e->data : in->data;
		uint64_t size = e && e->data ? e->size : in->size;
		uint32_t row_bytes, rows, first_row = i ? top / 2 : top;
		uint32_t last_row = i ? (end + 1) / 2 : end;
		cr_format_plane_size(in->format, i, in->width, in->height, &row_bytes, &rows);
		uint64_t first = (uint64_t)offset + (uint64_t)first_row * stride;
		bytes[i] = (uint64_t)(last_row - first_row - 1) * stride + row_bytes;
		if (!data || first + bytes[i] > size) {
			cr_log_error(TOPIC, "%s plane %u of %llu bytes too small for %ux%u, "
				     "offset %u stride %u", in->format->name, i,
				     (unsigned long long)size, in->width, in->height, offset,
				     stride);
			return false;
		}
		from[i] = data + first;
		at[i] = (total + 3) / 4 * 4;
		total = at[i] + bytes[i];
	}
	if (!ensure_host_buffer(pipe, &s->staging, total, VK_BUFFER_USAGE_STORAGE_BUFFER_BIT))
		return false;
	for (uint32_t i = 0; i < n; i++)
		memcpy((uint8_t *)s->staging->map + at[i], from[i], bytes[i]);
	buffers[0] = buffers[1] = s->staging->buffer;
	/* Move everything given in source rows into the copied window. */
	for (uint32_t i = 0; i < p->n_redact; i++) {
		uint32_t y = p->redact[i][1], h = p->redact[i][3];
		uint32_t cut = y < top ? top - y : 0;
		p->redact[i][1] = y > top ? y - top : 0;
		p->redact[i][3] = h > cut ? h - cut : 0;
	}
	p->cursor_y -= (int32_t)top;
	p->src_offset = 0;
	p->src_offset1 = nv12 ? (uint32_t)at[1] : 0;
	p->src_height = end - top;
	p->crop_y -= top;
	return true;
}

static bool submit(struct cr_pipeline *pipe, const struct cr_pipeline_frame *in,
		   const struct cr_pipeline_target *out, void *job_data, int *acquire_fd);

bool cr_pipeline_submit(struct cr_pipeline *pipe, const struct cr_pipeline_frame *in,
			const struct cr_pipeline_target *out, void *job_data)
{
	int acquire_fd = in->explicit_acquire ? in->acquire_fd : -1;
	bool ok = submit(pipe, in, out, job_data, &acquire_fd);
	if (acquire_fd >= 0)
		close(acquire_fd);
	return ok;
}

/* *@acquire_fd is set to -1 once taken. */
static bool submit(struct cr_pipeline *pipe, const struct cr_pipeline_frame *in,
		   const struct cr_pipeline_target *out, void *job_data, int *acquire_fd)
{
	if (!cr_pipeline_can_submit(pipe) || !check_frame(in, out))
		return false;
	struct cr_vk_image *src_image = in->source ? in->source->image : NULL;
	struct cr_vk_image *dst_image = out->output ? out->output->image : NULL;
	unsigned variant = (src_image ? CR_KERNELS_SRC_IMAGE : 0) |
			   (dst_image ? CR_KERNELS_DST_IMAGE : 0);
	VkPipeline pipeline = cr_kernels_pipeline(pipe->kernels, variant);
	if (!pipeline) {
		/* Compiling takes seconds on lavapipe: on the kernels' worker, never here. */
		if (!(pipe->waited_variants & (1u << variant)))
			cr_log_info(TOPIC, "kernel variant %u is not compiled yet: its frames are "
					   "dropped until it is", variant);
		pipe->waited_variants |= 1u << variant;
		pipe->stats.dropped_compiling++;
		cr_kernels_request(pipe->kernels, 1u << variant);
		return false;
	}
	struct slot *s = NULL;
	for (unsigned i = 0; i < CR_PIPELINE_SLOTS && !s; i++)
		if (pipe->slots[i].state == SLOT_FREE)
			s = &pipe->slots[i];

	cr_format_plane_layout(out->format, out->width, out->height, &s->layout);
	struct cr_process_params *p = s->params->map;
	/* CPU drivers pay per workgroup (on lavapipe 1080p -> 640x360 BGRx went from 935 to 135
	 * allocations and 11.5 to 10.5 ms of CPU per frame); GPUs want every thread busy. */
	fill_params(p, in, out, &s->layout,
		    pipe->dev->props.deviceType == VK_PHYSICAL_DEVICE_TYPE_CPU ? CR_PACKED_ROWS_CPU
										: 1);

	VkBuffer src_buffers[2];
	if (!bind_source(pipe, s, in, out->pixelate, p, src_buffers))
		return false;
	if (in->cursor) {
		const struct cr_pipeline_cursor *k = in->cursor;
		if (!ensure_host_buffer(pipe, &s->cursor, (uint64_t)k->width * k->height * 4,
					VK_BUFFER_USAGE_STORAGE_BUFFER_BIT))
			return false;
		for (uint32_t y = 0; y < k->height; y++)
			memcpy((uint8_t *)s->cursor->map + (size_t)y * k->width * 4,
			       (const uint8_t *)k->pixels + (size_t)y * k->stride,
			       (size_t)k->width * 4);
	}
	VkBuffer dst_buffer = VK_NULL_HANDLE;
	if (out->output && out->output->image) {
		/* written through the image view */
	} else if (out->output) {
		if (out->output->buffer->size < s->layout.size) {
			cr_log_error(TOPIC, "output buffer of %llu bytes too small for %s %ux%u",
				     (unsigned long long)out->output->buffer->size,
				     out->format->name, out->width, out->height);
			return false;
		}
		dst_buffer = out->output->buffer->buffer;
	} else {
		if (!ensure_host_buffer(pipe, &s->out, s->layout.size,
					VK_BUFFER_USAGE_STORAGE_BUFFER_BIT))
			return false;
		dst_buffer = s->out->buffer;
	}

	VkDescriptorSet set = pipe->sets[variant][s - pipe->slots];
	struct cr_kernels_bindings bindings = {
		.src = { src_buffers[0], src_buffers[1] },
		.dst = dst_buffer,
		.cursor = s->cursor->buffer,
		.params = s->params->buffer,
		.src_view = { src_image ? src_image->view : VK_NULL_HANDLE,
			      !src_image ? VK_NULL_HANDLE
			      : src_image->view1 ? src_image->view1 : src_image->view },
		.dst_view = dst_image ? dst_image->view : VK_NULL_HANDLE,
	};
	cr_kernels_write_set(pipe->kernels, variant, set, &bindings);
	if (!record(pipe, s, variant, pipeline, set, p, in->source, out->output))
		return false;

	VkPipelineStageFlags wait_stages[2 + CR_DMABUF_MAX_PLANES - 1];
	for (size_t i = 0; i < sizeof(wait_stages) / sizeof(wait_stages[0]); i++)
		wait_stages[i] = VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT;
	VkSemaphore waits[2 + CR_DMABUF_MAX_PLANES - 1];
	uint32_t n_waits = 0;
	if (in->explicit_acquire) {
		/* The producer's acquire point replaces its implicit fences. */
		int fd = *acquire_fd;
		*acquire_fd = -1;
		if (wait_sync_file(pipe, fd, s->acquire))
			waits[n_waits++] = s->acquire;
		if (in->source)
			pipe->sync_mode = pipe->skip_sync ? "none" : "explicit";
	} else if (in->source && in->source->fd >= 0) {
		bool implicit = wait_fences(pipe, in->source->fd, s->acquire, CR_SYNC_READ);
		pipe->sync_mode = implicit ? "implicit" : "none";
		if (implicit)
			waits[n_waits++] = s->acquire;
		/* Disjoint planes: the fences of every further DMA-BUF too. */
		for (uint32_t i = 0; i < in->source->n_more; i++) {
			if (wait_fences(pipe, in->source->more_fds[i], s->acquire_more[i],
					CR_SYNC_READ))
				waits[n_waits++] = s->acquire_more[i];
			else
				pipe->sync_mode = "none";
		}
	}
	if (out->output && out->output->fd >= 0 &&
	    wait_fences(pipe, out->output->fd, s->readers, CR_SYNC_WRITE))
		waits[n_waits++] = s->readers;
	VkSubmitInfo si = {
		.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO,
		.waitSemaphoreCount = n_waits,
		.pWaitSemaphores = waits,
		.pWaitDstStageMask = wait_stages,
		.commandBufferCount = 1,
		.pCommandBuffers = &s->cmd,
	};
	/* Implicit sync out: our completion, exported onto the output in finish_slot(). */
	bool signal_done = out->output && out->output->fd >= 0 && pipe->can_attach && s->done;
	if (signal_done) {
		si.signalSemaphoreCount = 1;
		si.pSignalSemaphores = &s->done;
	}
	s->submit_ns = now_ns();
	if (!cr_vk_device_submit(pipe->dev, 1, &si, s->fence, "vkQueueSubmit"))
		return false;

	s->signal_done = signal_done;
	s->job_data = job_data;
	s->source = in->source;
	if (s->source)
		s->source->in_flight++;
	s->target = out->output;
	if (s->target)
		s->target->in_flight++;
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

/* Imports the whole DMA-BUF @fd (borrowed) into *@buffer, keeping a dup in *@dup. */
static bool import_buffer(struct cr_pipeline *pipe, int fd, struct cr_vk_buffer **buffer,
			  int *dup)
{
	off_t size = lseek(fd, 0, SEEK_END);
	if (size <= 0) {
		cr_log_error(TOPIC, "DMA-BUF fd %d has no size", fd);
		return false;
	}
	*dup = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	if (*dup < 0) {
		cr_log_error(TOPIC, "dup of DMA-BUF fd %d: %s", fd, strerror(errno));
		return false;
	}
	*buffer = cr_vk_buffer_import_dmabuf(pipe->dev, fd, (uint64_t)size);
	if (!*buffer) {
		close(*dup);
		*dup = -1;
		return false;
	}
	return true;
}

/* The index among the @n distinct buffers @fds of the one @fd refers to, or @n when none. */
static uint32_t find_buffer(const int *fds, uint32_t n, int fd)
{
	uint32_t k = 0;
	while (k < n && !cr_dmabuf_same_buffer(fd, fds[k]))
		k++;
	return k;
}

/* The image path of cr_pipeline_import_dmabuf(): one image, and dups of every distinct fd
 * for its fences. */
static struct cr_pipeline_source *import_image(struct cr_pipeline *pipe,
					       const struct cr_dmabuf *buf)
{
	struct cr_pipeline_source *src = calloc(1, sizeof(*src));
	if (!src)
		return NULL;
	src->fd = -1;
	src->image = cr_vk_image_import(pipe->dev, buf, VK_IMAGE_USAGE_SAMPLED_BIT);
	if (!src->image)
		goto err;
	src->fd = fcntl(buf->planes[0].fd, F_DUPFD_CLOEXEC, 3);
	if (src->fd < 0)
		goto err_dup;
	int fds[CR_DMABUF_MAX_PLANES] = { buf->planes[0].fd };
	for (uint32_t i = 1; i < buf->n_planes; i++) {
		int fd = buf->planes[i].fd;
		if (find_buffer(fds, src->n_more + 1, fd) <= src->n_more)
			continue;
		src->more_fds[src->n_more] = fcntl(fd, F_DUPFD_CLOEXEC, 3);
		if (src->more_fds[src->n_more] < 0)
			goto err_dup;
		fds[++src->n_more] = fd;
	}
	return src;

err_dup:
	cr_log_error(TOPIC, "dup of DMA-BUF fd: %s", strerror(errno));
err:
	free_source(pipe, src);
	return NULL;
}

struct cr_pipeline_source *cr_pipeline_import_dmabuf(struct cr_pipeline *pipe,
						     const struct cr_dmabuf *buf)
{
	if (pipe->fail_imports > 0) {
		pipe->fail_imports--;
		cr_log_warn(TOPIC, "failing a DMA-BUF import on purpose (CASTRELAY_TEST_FAIL_IMPORTS)");
		return NULL;
	}
	const struct cr_format_info *fmt = cr_format_info_from_fourcc(buf->fourcc);
	if (!fmt || !fmt->readable) {
		cr_log_error(TOPIC, "cannot import a DMA-BUF of %s: not an input format",
			     fmt ? fmt->name : "an unknown format");
		return NULL;
	}
	/* Unknown modifiers go to the image path too: Vulkan's refusal is the answer. LINEAR
	 * does with CASTRELAY_TEST_LINEAR_IMAGES where the device has LINEAR images of it. */
	uint64_t images[32];
	uint32_t n_images = 0;
	if (buf->modifier == DRM_FORMAT_MOD_LINEAR && pipe->linear_images)
		n_images = list_modifiers(pipe, buf->fourcc, VK_IMAGE_USAGE_SAMPLED_BIT,
					  VK_EXTERNAL_MEMORY_FEATURE_IMPORTABLE_BIT, 0, 0, false,
					  images, 32);
	if (buf->modifier != DRM_FORMAT_MOD_LINEAR || contains(images, n_images, buf->modifier))
		return import_image(pipe, buf);
	if (buf->n_planes != fmt->n_planes) {
		cr_log_error(TOPIC, "cannot import a DMA-BUF of %s with %u planes: it has %u",
			     fmt->name, buf->n_planes, fmt->n_planes);
		return NULL;
	}
	struct cr_pipeline_source *src = calloc(1, sizeof(*src));
	if (!src)
		return NULL;
	int fds[CR_DMABUF_MAX_PLANES]; /* the caller's fd of each buffer, to find repeats */
	if (!import_buffer(pipe, buf->planes[0].fd, &src->buffer, &src->fd))
		goto err_free;
	fds[0] = buf->planes[0].fd;
	for (uint32_t i = 1; i < buf->n_planes; i++) {
		int fd = buf->planes[i].fd;
		uint32_t k = find_buffer(fds, src->n_more + 1, fd);
		if (k <= src->n_more) {
			src->plane_buffer[i] = k;
			continue;
		}
		if (!import_buffer(pipe, fd, &src->more[src->n_more], &src->more_fds[src->n_more]))
			goto err_more;
		fds[++src->n_more] = fd;
		src->plane_buffer[i] = src->n_more;
	}
	return src;

err_more:
	free_source(pipe, src);
	return NULL;
err_free:
	free(src);
	return NULL;
}

/*
 * Maps @size bytes of @fd from @offset on our own (MAP_SHARED; @writable for outputs) and
 * imports the mapping, widened to the device's alignment, into *@buffer; @m->base is where
 * @offset lies in it. False when the device cannot (the caller copies instead): logged at
 * debug level only, except for a block that does not lie inside its file.
 */
static bool import_shm_block(struct cr_pipeline *pipe, int fd, uint64_t offset, uint64_t size,
			     bool writable, struct shm_map *m, struct cr_vk_buffer **buffer)
{
	struct cr_vk_device *dev = pipe->dev;
	uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE), align = dev->host_pointer_alignment;
	if (!dev->ext.external_memory_host || align > page || size == 0 || fd < 0)
		return false;
	struct stat st = { 0 };
	if (fstat(fd, &st) < 0 || (uint64_t)st.st_size < offset + size) {
		cr_log_warn(TOPIC, "shared memory block at %llu of %llu bytes does not lie inside "
				   "its fd of %lld bytes: copying its frames",
			    (unsigned long long)offset, (unsigned long long)size,
			    (long long)st.st_size);
		return false;
	}
	uint64_t start = offset / page * page;
	m->base = offset - start;
	m->size = (size_t)((m->base + size + page - 1) / page * page);
	void *map = mmap(NULL, m->size, PROT_READ | (writable ? PROT_WRITE : 0), MAP_SHARED, fd,
			 (off_t)start);
	if (map == MAP_FAILED) {
		cr_log_debug(TOPIC, "mmap of shared memory: %s", strerror(errno));
		return false;
	}
	m->map = map;
	*buffer = cr_vk_buffer_import_host(dev, map, m->size);
	if (!*buffer) {
		unmap_shm(m);
		return false;
	}
	return true;
}

struct cr_pipeline_source *cr_pipeline_import_shm(struct cr_pipeline *pipe,
						  const struct cr_pipeline_shm_block *blocks,
						  uint32_t n_blocks)
{
	if (n_blocks == 0 || n_blocks > CR_DMABUF_MAX_PLANES)
		return NULL;
	struct cr_pipeline_source *src = calloc(1, sizeof(*src));
	if (!src)
		return NULL;
	src->fd = -1;
	for (uint32_t i = 0; i < n_blocks; i++) {
		struct cr_vk_buffer **b = i ? &src->more[i - 1] : &src->buffer;
		if (i)
			src->more_fds[i - 1] = -1;
		if (!import_shm_block(pipe, blocks[i].fd, blocks[i].offset, blocks[i].size, false,
				      &src->shm[i], b)) {
			src->n_more = i ? i - 1 : 0;
			free_source(pipe, src);
			return NULL;
		}
		src->n_more = i;
	}
	/* Planes beyond the blocks (NV12 in one block) lie in block 0. */
	for (uint32_t i = 0; i < CR_DMABUF_MAX_PLANES; i++)
		src->plane_buffer[i] = i < n_blocks ? i : 0;
	return src;
}

struct cr_pipeline_output *cr_pipeline_output_from_shm(struct cr_pipeline *pipe, int fd,
						       uint64_t size)
{
	struct cr_pipeline_output *out = calloc(1, sizeof(*out));
	if (!out)
		return NULL;
	out->fd = -1;
	if (!import_shm_block(pipe, fd, 0, size, true, &out->shm, &out->buffer)) {
		free(out);
		return NULL;
	}
	return out;
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
