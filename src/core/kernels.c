/* SPDX-License-Identifier: MIT */
#include "kernels.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <drm_fourcc.h>

#include "cr-params.h"
#include "log.h"
#include "process.spv.h"
#include "process_di.spv.h"
#include "process_si.spv.h"
#include "process_si_di.spv.h"
#include "vk-buffer.h"
#include "vk-device.h"
#include "vk-format.h"
#include "vk-image.h"
#include "vk-objects.h"

#define TOPIC "kernels"

/* A cache file larger than this is not ours (lavapipe's is a few hundred KiB). */
#define CACHE_MAX_BYTES (64u << 20)
/* The warm-up job: one workgroup, the kernel's smallest useful size. */
#define WARM_SIZE 16u

struct cr_kernels {
	struct cr_vk_device *dev;
	VkSampler sampler;
	VkDescriptorSetLayout set_layouts[CR_KERNELS_COUNT];
	VkPipelineLayout layouts[CR_KERNELS_COUNT];
	/** Written by the worker before the release store of the variant's ready bit. */
	VkPipeline pipelines[CR_KERNELS_COUNT];
	struct cr_kernels_stats stats; /**< per variant: same rule as @pipelines */
	/** Worker only (and cr_kernels_destroy() after the join). */
	VkPipelineCache cache;
	char *cache_path; /**< NULL: no file */

	atomic_uint ready;  /**< bit per variant: built and warmed up (release/acquire) */
	atomic_uint failed; /**< bit per variant: failed (logged), never tried again */
	int event_fd;       /**< written by the worker after each ready/failed bit */

	/* Under @mutex: what the worker is asked for, and its stop request. @cond wakes the
	 * worker (request, quit) and cr_kernels_wait() (a bit changed). */
	pthread_t worker;
	bool worker_started;
	pthread_mutex_t mutex;
	pthread_cond_t cond;
	uint32_t requested;
	bool quit;
};

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static const char *variant_name(unsigned v)
{
	static const char *const names[CR_KERNELS_COUNT] = {
		"buffer-to-buffer", "image-to-buffer", "buffer-to-image", "image-to-image",
	};
	return names[v];
}

/* ---- the pipeline cache file ------------------------------------------------------------ */

static char *cache_file_path(const struct cr_vk_device *dev, const char *dir)
{
	char uuid[2 * VK_UUID_SIZE + 1];
	for (unsigned i = 0; i < VK_UUID_SIZE; i++)
		snprintf(uuid + 2 * i, 3, "%02x", dev->props.pipelineCacheUUID[i]);
	char *path = NULL;
	if (asprintf(&path, "%s/pipeline-%s-%04" PRIx32 "-%04" PRIx32 ".cache", dir, uuid,
		     dev->props.vendorID, dev->props.deviceID) < 0)
		return NULL;
	return path;
}

/*
 * Vulkan validates the header itself and ignores data it does not recognise, but a driver is
 * free to trust a matching header, so a file from another device or driver build never gets
 * that far (VkPipelineCacheHeaderVersionOne, Vulkan spec "Pipeline Cache").
 */
static bool cache_header_valid(const struct cr_vk_device *dev, const uint8_t *data, size_t size,
			       const char **why)
{
	VkPipelineCacheHeaderVersionOne h;
	if (size < sizeof(h)) {
		*why = "shorter than its header";
		return false;
	}
	memcpy(&h, data, sizeof(h));
	if (h.headerSize < sizeof(h) || h.headerSize > size ||
	    h.headerVersion != VK_PIPELINE_CACHE_HEADER_VERSION_ONE)
		*why = "unknown header";
	else if (h.vendorID != dev->props.vendorID || h.deviceID != dev->props.deviceID)
		*why = "another device's";
	else if (memcmp(h.pipelineCacheUUID, dev->props.pipelineCacheUUID, VK_UUID_SIZE) != 0)
		*why = "another driver build's";
	else
		return true;
	return false;
}

/* Reads the cache file into *@data (malloc'd); false when there is none or it is unusable. */
static bool load_cache_file(struct cr_kernels *k, void **data, size_t *size)
{
	*data = NULL;
	int fd = open(k->cache_path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno != ENOENT)
			cr_log_warn(TOPIC, "cannot read %s: %s", k->cache_path, strerror(errno));
		else
			cr_log_info(TOPIC, "no pipeline cache yet at %s", k->cache_path);
		return false;
	}
	struct stat st;
	const char *why = NULL;
	uint8_t *buf = NULL;
	if (fstat(fd, &st) != 0 || st.st_size <= 0 || (uint64_t)st.st_size > CACHE_MAX_BYTES) {
		why = "empty, unreadable or too large";
		goto out;
	}
	buf = malloc((size_t)st.st_size);
	if (!buf || read(fd, buf, (size_t)st.st_size) != st.st_size) {
		why = "unreadable";
		goto out;
	}
	if (!cache_header_valid(k->dev, buf, (size_t)st.st_size, &why))
		goto out;
	*data = buf;
	*size = (size_t)st.st_size;
	buf = NULL;
out:
	if (why)
		cr_log_warn(TOPIC, "ignoring the pipeline cache %s (%s): it will be rewritten",
			    k->cache_path, why);
	free(buf);
	close(fd);
	return *data != NULL;
}

/* Worker (or destroy after the join): the cache to a temporary file renamed over the old. */
static void save_cache_file(struct cr_kernels *k)
{
	if (!k->cache_path || !k->cache)
		return;
	size_t size = 0;
	VkDevice d = k->dev->dev;
	if (!cr_vk_check(k->dev, vkGetPipelineCacheData(d, k->cache, &size, NULL),
			 "vkGetPipelineCacheData") || size == 0)
		return;
	void *data = malloc(size);
	if (!data)
		return;
	char *tmp = NULL;
	int fd = -1;
	if (!cr_vk_check(k->dev, vkGetPipelineCacheData(d, k->cache, &size, data),
			 "vkGetPipelineCacheData") ||
	    asprintf(&tmp, "%s.XXXXXX", k->cache_path) < 0) {
		tmp = NULL;
		goto out;
	}
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0 || write(fd, data, size) != (ssize_t)size || fsync(fd) != 0 ||
	    rename(tmp, k->cache_path) != 0) {
		cr_log_warn(TOPIC, "cannot write the pipeline cache %s: %s", k->cache_path,
			    strerror(errno));
		if (fd >= 0)
			unlink(tmp);
		goto out;
	}
	cr_log_debug(TOPIC, "saved %zu bytes of pipeline cache to %s", size, k->cache_path);
out:
	if (fd >= 0)
		close(fd);
	free(tmp);
	free(data);
}

/* ---- layouts (creation) and variants (worker) -------------------------------------------- */

static bool create_layouts(struct cr_kernels *k, unsigned v)
{
	VkDevice d = k->dev->dev;
	bool src_image = v & CR_KERNELS_SRC_IMAGE, dst_image = v & CR_KERNELS_DST_IMAGE;
	/* 0: source plane 0, 1: output, 2: cursor, 3: parameters, 4: source plane 1 (NV12 UV;
	 * plane 0 again for packed sources) */
	VkDescriptorSetLayoutBinding bindings[5] = {
		{ 0, src_image ? VK_DESCRIPTOR_TYPE_COMBINED_IMAGE_SAMPLER
			       : VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, 1,
		  VK_SHADER_STAGE_COMPUTE_BIT, src_image ? &k->sampler : NULL },
		{ 1, dst_image ? VK_DESCRIPTOR_TYPE_STORAGE_IMAGE : VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
		  1, VK_SHADER_STAGE_COMPUTE_BIT, NULL },
		{ 2, VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, 1, VK_SHADER_STAGE_COMPUTE_BIT, NULL },
		{ 3, VK_DESCRIPTOR_TYPE_UNIFORM_BUFFER, 1, VK_SHADER_STAGE_COMPUTE_BIT, NULL },
		{ 4, src_image ? VK_DESCRIPTOR_TYPE_COMBINED_IMAGE_SAMPLER
			       : VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, 1,
		  VK_SHADER_STAGE_COMPUTE_BIT, src_image ? &k->sampler : NULL },
	};
	VkDescriptorSetLayoutCreateInfo dslci = {
		.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO,
		.bindingCount = 5,
		.pBindings = bindings,
	};
	if (!cr_vk_check(k->dev, vkCreateDescriptorSetLayout(d, &dslci, NULL, &k->set_layouts[v]),
			 "vkCreateDescriptorSetLayout"))
		return false;
	cr_vk_objects_add(CR_VK_OBJECT_DESCRIPTOR_SET_LAYOUT, 1);
	VkPipelineLayoutCreateInfo plci = {
		.sType = VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO,
		.setLayoutCount = 1,
		.pSetLayouts = &k->set_layouts[v],
	};
	if (!cr_vk_check(k->dev, vkCreatePipelineLayout(d, &plci, NULL, &k->layouts[v]),
			 "vkCreatePipelineLayout"))
		return false;
	cr_vk_objects_add(CR_VK_OBJECT_PIPELINE_LAYOUT, 1);
	return true;
}

static bool build_variant(struct cr_kernels *k, unsigned v, VkPipeline *out)
{
	static const struct {
		const uint32_t *code;
		size_t size;
	} spirv[CR_KERNELS_COUNT] = {
		{ cr_process_spv, sizeof(cr_process_spv) },
		{ cr_process_si_spv, sizeof(cr_process_si_spv) },
		{ cr_process_di_spv, sizeof(cr_process_di_spv) },
		{ cr_process_si_di_spv, sizeof(cr_process_si_di_spv) },
	};
	VkDevice d = k->dev->dev;
	VkShaderModuleCreateInfo smci = {
		.sType = VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO,
		.codeSize = spirv[v].size,
		.pCode = spirv[v].code,
	};
	VkShaderModule module;
	if (!cr_vk_check(k->dev, vkCreateShaderModule(d, &smci, NULL, &module),
			 "vkCreateShaderModule"))
		return false;
	cr_vk_objects_add(CR_VK_OBJECT_SHADER_MODULE, 1);
	VkComputePipelineCreateInfo cpci = {
		.sType = VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO,
		.stage = {
			.sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO,
			.stage = VK_SHADER_STAGE_COMPUTE_BIT,
			.module = module,
			.pName = "main",
		},
		.layout = k->layouts[v],
	};
	bool ok = cr_vk_check(k->dev, vkCreateComputePipelines(d, k->cache, 1, &cpci, NULL, out),
			      "vkCreateComputePipelines");
	if (ok)
		cr_vk_objects_add(CR_VK_OBJECT_PIPELINE, 1);
	vkDestroyShaderModule(d, module, NULL);
	cr_vk_objects_add(CR_VK_OBJECT_SHADER_MODULE, -1);
	return ok;
}

/* The warm-up job's resources, all WARM_SIZE x WARM_SIZE BGRx. */
struct warm {
	VkCommandPool cmd_pool;
	VkCommandBuffer cmd;
	VkFence fence;
	VkDescriptorPool pool;
	VkDescriptorSet set;
	struct cr_vk_buffer *params, *src, *dst, *cursor;
	struct cr_vk_image *src_image, *dst_image;
};

static void warm_finish(struct cr_kernels *k, struct warm *w)
{
	VkDevice d = k->dev->dev;
	cr_vk_image_destroy(k->dev, w->src_image);
	cr_vk_image_destroy(k->dev, w->dst_image);
	cr_vk_buffer_destroy(k->dev, w->params);
	cr_vk_buffer_destroy(k->dev, w->src);
	cr_vk_buffer_destroy(k->dev, w->dst);
	cr_vk_buffer_destroy(k->dev, w->cursor);
	if (w->pool) {
		vkDestroyDescriptorPool(d, w->pool, NULL);
		cr_vk_objects_add(CR_VK_OBJECT_DESCRIPTOR_POOL, -1);
	}
	if (w->fence) {
		vkDestroyFence(d, w->fence, NULL);
		cr_vk_objects_add(CR_VK_OBJECT_FENCE, -1);
	}
	if (w->cmd_pool) {
		vkDestroyCommandPool(d, w->cmd_pool, NULL);
		cr_vk_objects_add(CR_VK_OBJECT_COMMAND_POOL, -1);
	}
}

static void image_to_general(VkCommandBuffer cmd, struct cr_vk_image *img, VkAccessFlags access)
{
	VkImageMemoryBarrier b = {
		.sType = VK_STRUCTURE_TYPE_IMAGE_MEMORY_BARRIER,
		.dstAccessMask = access,
		.oldLayout = VK_IMAGE_LAYOUT_UNDEFINED, /* created here: no contents to keep */
		.newLayout = VK_IMAGE_LAYOUT_GENERAL,
		.srcQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED,
		.dstQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED,
		.image = img->image,
		.subresourceRange = { VK_IMAGE_ASPECT_COLOR_BIT, 0, 1, 0, 1 },
	};
	vkCmdPipelineBarrier(cmd, VK_PIPELINE_STAGE_TOP_OF_PIPE_BIT,
			     VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, 0, 0, NULL, 0, NULL, 1, &b);
	img->initialized = true;
}

void cr_kernels_write_set(const struct cr_kernels *k, unsigned variant, VkDescriptorSet set,
			  const struct cr_kernels_bindings *b)
{
	VkDescriptorBufferInfo infos[5] = {
		{ b->src[0], 0, VK_WHOLE_SIZE },
		{ b->dst, 0, VK_WHOLE_SIZE },
		{ b->cursor, 0, VK_WHOLE_SIZE },
		{ b->params, 0, VK_WHOLE_SIZE },
		{ b->src[1], 0, VK_WHOLE_SIZE },
	};
	/* Indexed by binding; 2 and 3 are buffers in every kernel. */
	VkDescriptorImageInfo images[5] = {
		{ k->sampler, b->src_view[0], VK_IMAGE_LAYOUT_GENERAL },
		{ VK_NULL_HANDLE, b->dst_view, VK_IMAGE_LAYOUT_GENERAL },
		[4] = { k->sampler, b->src_view[1], VK_IMAGE_LAYOUT_GENERAL },
	};
	VkWriteDescriptorSet writes[5];
	for (uint32_t i = 0; i < 5; i++) {
		bool sampled = (i == 0 || i == 4) && (variant & CR_KERNELS_SRC_IMAGE);
		bool storage = i == 1 && (variant & CR_KERNELS_DST_IMAGE);
		writes[i] = (VkWriteDescriptorSet){
			.sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET,
			.dstSet = set,
			.dstBinding = i,
			.descriptorCount = 1,
			.descriptorType = sampled ? VK_DESCRIPTOR_TYPE_COMBINED_IMAGE_SAMPLER
					  : storage ? VK_DESCRIPTOR_TYPE_STORAGE_IMAGE
					  : i == 3 ? VK_DESCRIPTOR_TYPE_UNIFORM_BUFFER
						   : VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
			.pBufferInfo = sampled || storage ? NULL : &infos[i],
			.pImageInfo = sampled || storage ? &images[i] : NULL,
		};
	}
	vkUpdateDescriptorSets(k->dev->dev, 5, writes, 0, NULL);
}

/* A BGRx image for the warm-up job, of any modifier the driver has for @usage (the compiled
 * code does not depend on the tiling; lavapipe in the vm guest has LINEAR only). */
static struct cr_vk_image *warm_image(struct cr_vk_device *dev, VkImageUsageFlags usage)
{
	struct cr_vk_modifier found[16];
	uint64_t modifiers[16];
	uint32_t n = cr_vk_format_modifiers(dev, DRM_FORMAT_XRGB8888, usage, 0, found, 16);
	for (uint32_t i = 0; i < n; i++)
		modifiers[i] = found[i].modifier;
	return cr_vk_image_create(dev, DRM_FORMAT_XRGB8888, WARM_SIZE, WARM_SIZE, modifiers, n,
				  usage, false);
}

/* The descriptors of the warm-up job, the same kinds as a real job of variant @v writes. */
static void write_warm_set(struct cr_kernels *k, struct warm *w, unsigned v)
{
	VkImageView src_view = w->src_image ? w->src_image->view : VK_NULL_HANDLE;
	struct cr_kernels_bindings b = {
		.src = { w->src->buffer, w->src->buffer },
		.dst = w->dst->buffer,
		.cursor = w->cursor->buffer,
		.params = w->params->buffer,
		.src_view = { src_view, src_view },
		.dst_view = w->dst_image ? w->dst_image->view : VK_NULL_HANDLE,
	};
	cr_kernels_write_set(k, v, w->set, &b);
}

/*
 * One real dispatch of variant @v: lavapipe (llvmpipe) compiles a compute shader's machine code
 * only at its first dispatch, keyed on the bound state (for images: view format and sampler),
 * in its queue thread; vkCreateComputePipelines alone leaves that cost to the first frame.
 * The images are BGRx, what DMA-BUF screencasts carry; a source of another format (NV12, RGBx)
 * still costs llvmpipe one more compile at its first frame.
 */
static bool warm_up(struct cr_kernels *k, unsigned v, VkPipeline pipeline)
{
	struct cr_vk_device *dev = k->dev;
	VkDevice d = dev->dev;
	struct warm w = { 0 };
	bool ok = false;
	const VkDeviceSize bytes = WARM_SIZE * WARM_SIZE * 4;
	VkCommandPoolCreateInfo cpci = {
		.sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO,
		.queueFamilyIndex = dev->queue_family,
	};
	VkDescriptorPoolSize sizes[4] = {
		{ VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, 4 },
		{ VK_DESCRIPTOR_TYPE_UNIFORM_BUFFER, 1 },
		{ VK_DESCRIPTOR_TYPE_COMBINED_IMAGE_SAMPLER, 2 },
		{ VK_DESCRIPTOR_TYPE_STORAGE_IMAGE, 1 },
	};
	VkDescriptorPoolCreateInfo dpci = {
		.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO,
		.maxSets = 1,
		.poolSizeCount = 4,
		.pPoolSizes = sizes,
	};
	VkFenceCreateInfo fci = { .sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO };
	if (!cr_vk_check(dev, vkCreateCommandPool(d, &cpci, NULL, &w.cmd_pool),
			 "vkCreateCommandPool"))
		goto out;
	cr_vk_objects_add(CR_VK_OBJECT_COMMAND_POOL, 1);
	if (!cr_vk_check(dev, vkCreateFence(d, &fci, NULL, &w.fence), "vkCreateFence"))
		goto out;
	cr_vk_objects_add(CR_VK_OBJECT_FENCE, 1);
	if (!cr_vk_check(dev, vkCreateDescriptorPool(d, &dpci, NULL, &w.pool),
			 "vkCreateDescriptorPool"))
		goto out;
	cr_vk_objects_add(CR_VK_OBJECT_DESCRIPTOR_POOL, 1);
	VkCommandBufferAllocateInfo cbai = {
		.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
		.commandPool = w.cmd_pool,
		.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
		.commandBufferCount = 1,
	};
	VkDescriptorSetAllocateInfo dsai = {
		.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO,
		.descriptorPool = w.pool,
		.descriptorSetCount = 1,
		.pSetLayouts = &k->set_layouts[v],
	};
	if (!cr_vk_check(dev, vkAllocateCommandBuffers(d, &cbai, &w.cmd),
			 "vkAllocateCommandBuffers") ||
	    !cr_vk_check(dev, vkAllocateDescriptorSets(d, &dsai, &w.set),
			 "vkAllocateDescriptorSets"))
		goto out;
	w.params = cr_vk_buffer_create_host(dev, sizeof(struct cr_process_params),
					    VK_BUFFER_USAGE_UNIFORM_BUFFER_BIT);
	w.src = cr_vk_buffer_create_host(dev, bytes, VK_BUFFER_USAGE_STORAGE_BUFFER_BIT);
	w.dst = cr_vk_buffer_create_host(dev, bytes, VK_BUFFER_USAGE_STORAGE_BUFFER_BIT);
	w.cursor = cr_vk_buffer_create_host(dev, 64, VK_BUFFER_USAGE_STORAGE_BUFFER_BIT);
	if (!w.params || !w.src || !w.dst || !w.cursor)
		goto out;
	if ((v & CR_KERNELS_SRC_IMAGE) &&
	    !(w.src_image = warm_image(dev, VK_IMAGE_USAGE_SAMPLED_BIT)))
		goto out;
	if ((v & CR_KERNELS_DST_IMAGE) &&
	    !(w.dst_image = warm_image(dev, VK_IMAGE_USAGE_STORAGE_BIT)))
		goto out;
	/* An identity job: what cr_pipeline's fill_params() gives a BGRx frame copied as is. */
	const struct cr_format_info *bgrx = cr_format_info_from_fourcc(DRM_FORMAT_XRGB8888);
	memset(w.src->map, 0, bytes);
	*(struct cr_process_params *)w.params->map = (struct cr_process_params){
		.src_stride = WARM_SIZE, .src_width = WARM_SIZE, .src_height = WARM_SIZE,
		.src_layout = bgrx->layout, .crop_w = WARM_SIZE, .crop_h = WARM_SIZE,
		.out_kind = bgrx->out_kind, .dst_width = WARM_SIZE, .dst_height = WARM_SIZE,
		.dst_layout = bgrx->layout, .dst_stride = WARM_SIZE,
	};
	write_warm_set(k, &w, v);
	VkCommandBufferBeginInfo begin = {
		.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
		.flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT,
	};
	if (!cr_vk_check(dev, vkBeginCommandBuffer(w.cmd, &begin), "vkBeginCommandBuffer"))
		goto out;
	if (w.src_image)
		image_to_general(w.cmd, w.src_image, VK_ACCESS_SHADER_READ_BIT);
	if (w.dst_image)
		image_to_general(w.cmd, w.dst_image, VK_ACCESS_SHADER_WRITE_BIT);
	vkCmdBindPipeline(w.cmd, VK_PIPELINE_BIND_POINT_COMPUTE, pipeline);
	vkCmdBindDescriptorSets(w.cmd, VK_PIPELINE_BIND_POINT_COMPUTE, k->layouts[v], 0, 1, &w.set,
				0, NULL);
	vkCmdDispatch(w.cmd, (WARM_SIZE + CR_WORKGROUP_SIZE - 1) / CR_WORKGROUP_SIZE,
		      (WARM_SIZE + CR_WORKGROUP_SIZE - 1) / CR_WORKGROUP_SIZE, 1);
	if (!cr_vk_check(dev, vkEndCommandBuffer(w.cmd), "vkEndCommandBuffer"))
		goto out;
	VkSubmitInfo si = {
		.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO,
		.commandBufferCount = 1,
		.pCommandBuffers = &w.cmd,
	};
	/* Seconds on lavapipe with a cold Mesa cache: this thread exists to wait here. */
	ok = cr_vk_device_submit(dev, 1, &si, w.fence, "vkQueueSubmit (warm-up)") &&
	     cr_vk_device_wait_fence(dev, w.fence, UINT64_MAX, "vkWaitForFences (warm-up)") ==
		     VK_SUCCESS;
out:
	warm_finish(k, &w);
	return ok;
}

static void *worker_main(void *arg)
{
	struct cr_kernels *k = arg;
	pthread_mutex_lock(&k->mutex);
	for (;;) {
		uint32_t todo = k->requested & ~(atomic_load(&k->ready) | atomic_load(&k->failed));
		if (k->quit)
			break;
		if (!todo) {
			pthread_cond_wait(&k->cond, &k->mutex);
			continue;
		}
		unsigned v = (unsigned)__builtin_ctz(todo);
		pthread_mutex_unlock(&k->mutex);

		VkPipeline pipeline = VK_NULL_HANDLE;
		uint64_t t0 = now_ns();
		bool ok = build_variant(k, v, &pipeline);
		uint64_t t1 = now_ns();
		ok = ok && warm_up(k, v, pipeline);
		uint64_t t2 = now_ns();
		if (ok) {
			k->pipelines[v] = pipeline;
			k->stats.build_ns[v] = t1 - t0;
			k->stats.warm_ns[v] = t2 - t1;
			cr_log_info(TOPIC, "%s kernel ready: built in %" PRIu64 " ms, first dispatch "
					   "%" PRIu64 " ms", variant_name(v), (t1 - t0) / 1000000,
				    (t2 - t1) / 1000000);
			save_cache_file(k);
		} else {
			if (pipeline) {
				vkDestroyPipeline(k->dev->dev, pipeline, NULL);
				cr_vk_objects_add(CR_VK_OBJECT_PIPELINE, -1);
			}
			cr_log_error(TOPIC, "cannot build the %s kernel", variant_name(v));
		}

		pthread_mutex_lock(&k->mutex);
		atomic_fetch_or_explicit(ok ? &k->ready : &k->failed, 1u << v,
					 memory_order_release);
		pthread_cond_broadcast(&k->cond);
		uint64_t one = 1;
		if (write(k->event_fd, &one, sizeof(one)) < 0)
			cr_log_error(TOPIC, "eventfd write failed: %s", strerror(errno));
	}
	pthread_mutex_unlock(&k->mutex);
	return NULL;
}

/* ---- the contract ------------------------------------------------------------------------ */

struct cr_kernels *cr_kernels_create(struct cr_vk_device *dev, const char *cache_dir)
{
	struct cr_kernels *k = calloc(1, sizeof(*k));
	if (!k)
		return NULL;
	k->dev = dev;
	pthread_mutex_init(&k->mutex, NULL);
	pthread_cond_init(&k->cond, NULL);
	k->event_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (k->event_fd < 0) {
		cr_log_error(TOPIC, "eventfd: %s", strerror(errno));
		goto err;
	}
	VkDevice d = dev->dev;
	VkSamplerCreateInfo sci = {
		.sType = VK_STRUCTURE_TYPE_SAMPLER_CREATE_INFO,
		.magFilter = VK_FILTER_NEAREST,
		.minFilter = VK_FILTER_NEAREST,
		.mipmapMode = VK_SAMPLER_MIPMAP_MODE_NEAREST,
		.addressModeU = VK_SAMPLER_ADDRESS_MODE_CLAMP_TO_EDGE,
		.addressModeV = VK_SAMPLER_ADDRESS_MODE_CLAMP_TO_EDGE,
		.addressModeW = VK_SAMPLER_ADDRESS_MODE_CLAMP_TO_EDGE,
	};
	if (!cr_vk_check(dev, vkCreateSampler(d, &sci, NULL, &k->sampler), "vkCreateSampler"))
		goto err;
	cr_vk_objects_add(CR_VK_OBJECT_SAMPLER, 1);
	for (unsigned v = 0; v < CR_KERNELS_COUNT; v++)
		if (!create_layouts(k, v))
			goto err;
	void *data = NULL;
	size_t size = 0;
	if (cache_dir && !(k->cache_path = cache_file_path(dev, cache_dir)))
		goto err;
	if (k->cache_path)
		k->stats.cache_loaded = load_cache_file(k, &data, &size);
	VkPipelineCacheCreateInfo pcci = {
		.sType = VK_STRUCTURE_TYPE_PIPELINE_CACHE_CREATE_INFO,
		.initialDataSize = size,
		.pInitialData = data,
	};
	bool ok = cr_vk_check(dev, vkCreatePipelineCache(d, &pcci, NULL, &k->cache),
			      "vkCreatePipelineCache");
	free(data);
	if (!ok)
		goto err;
	cr_vk_objects_add(CR_VK_OBJECT_PIPELINE_CACHE, 1);
	if (k->stats.cache_loaded)
		cr_log_info(TOPIC, "pipeline cache: %zu bytes from %s", size, k->cache_path);
	int err = pthread_create(&k->worker, NULL, worker_main, k);
	if (err != 0) {
		cr_log_error(TOPIC, "cannot start the kernel compiler thread: %s", strerror(err));
		goto err;
	}
	k->worker_started = true;
	return k;

err:
	cr_kernels_destroy(k);
	return NULL;
}

void cr_kernels_destroy(struct cr_kernels *k)
{
	if (!k)
		return;
	if (k->worker_started) {
		pthread_mutex_lock(&k->mutex);
		k->quit = true;
		pthread_cond_broadcast(&k->cond);
		pthread_mutex_unlock(&k->mutex);
		pthread_join(k->worker, NULL);
	}
	save_cache_file(k);
	VkDevice d = k->dev->dev;
	for (unsigned v = 0; v < CR_KERNELS_COUNT; v++) {
		if (k->pipelines[v]) {
			vkDestroyPipeline(d, k->pipelines[v], NULL);
			cr_vk_objects_add(CR_VK_OBJECT_PIPELINE, -1);
		}
		if (k->layouts[v]) {
			vkDestroyPipelineLayout(d, k->layouts[v], NULL);
			cr_vk_objects_add(CR_VK_OBJECT_PIPELINE_LAYOUT, -1);
		}
		if (k->set_layouts[v]) {
			vkDestroyDescriptorSetLayout(d, k->set_layouts[v], NULL);
			cr_vk_objects_add(CR_VK_OBJECT_DESCRIPTOR_SET_LAYOUT, -1);
		}
	}
	if (k->cache) {
		vkDestroyPipelineCache(d, k->cache, NULL);
		cr_vk_objects_add(CR_VK_OBJECT_PIPELINE_CACHE, -1);
	}
	if (k->sampler) {
		vkDestroySampler(d, k->sampler, NULL);
		cr_vk_objects_add(CR_VK_OBJECT_SAMPLER, -1);
	}
	if (k->event_fd >= 0)
		close(k->event_fd);
	pthread_cond_destroy(&k->cond);
	pthread_mutex_destroy(&k->mutex);
	free(k->cache_path);
	free(k);
}

uint32_t cr_kernels_needed(const struct cr_vk_device *dev, bool dmabuf)
{
	return dmabuf && dev->ext.image_drm_format_modifier ? CR_KERNELS_ALL : CR_KERNELS_BUFFERS;
}

void cr_kernels_request(struct cr_kernels *k, uint32_t mask)
{
	mask &= CR_KERNELS_ALL;
	if ((cr_kernels_ready(k, mask) | cr_kernels_failed(k, mask)) == mask)
		return;
	pthread_mutex_lock(&k->mutex);
	if ((k->requested | mask) != k->requested) {
		k->requested |= mask;
		pthread_cond_broadcast(&k->cond);
	}
	pthread_mutex_unlock(&k->mutex);
}

uint32_t cr_kernels_ready(const struct cr_kernels *k, uint32_t mask)
{
	return atomic_load_explicit(&((struct cr_kernels *)k)->ready, memory_order_acquire) & mask;
}

uint32_t cr_kernels_failed(const struct cr_kernels *k, uint32_t mask)
{
	return atomic_load_explicit(&((struct cr_kernels *)k)->failed, memory_order_acquire) &
	       mask;
}

int cr_kernels_get_fd(const struct cr_kernels *k)
{
	return k->event_fd;
}

void cr_kernels_ack(struct cr_kernels *k)
{
	uint64_t count;
	if (read(k->event_fd, &count, sizeof(count)) < 0 && errno != EAGAIN)
		cr_log_error(TOPIC, "eventfd read failed: %s", strerror(errno));
}

bool cr_kernels_wait(struct cr_kernels *k, uint32_t mask)
{
	mask &= CR_KERNELS_ALL;
	cr_kernels_request(k, mask);
	pthread_mutex_lock(&k->mutex);
	while ((cr_kernels_ready(k, mask) | cr_kernels_failed(k, mask)) != mask)
		pthread_cond_wait(&k->cond, &k->mutex);
	pthread_mutex_unlock(&k->mutex);
	return cr_kernels_ready(k, mask) == mask;
}

struct cr_vk_device *cr_kernels_device(const struct cr_kernels *k)
{
	return k->dev;
}

VkSampler cr_kernels_sampler(const struct cr_kernels *k)
{
	return k->sampler;
}

VkDescriptorSetLayout cr_kernels_set_layout(const struct cr_kernels *k, unsigned variant)
{
	return k->set_layouts[variant];
}

VkPipelineLayout cr_kernels_layout(const struct cr_kernels *k, unsigned variant)
{
	return k->layouts[variant];
}

VkPipeline cr_kernels_pipeline(const struct cr_kernels *k, unsigned variant)
{
	return cr_kernels_ready(k, 1u << variant) ? k->pipelines[variant] : VK_NULL_HANDLE;
}

void cr_kernels_get_stats(const struct cr_kernels *k, struct cr_kernels_stats *stats)
{
	uint32_t ready = cr_kernels_ready(k, CR_KERNELS_ALL);
	*stats = (struct cr_kernels_stats){ .cache_loaded = k->stats.cache_loaded };
	for (unsigned v = 0; v < CR_KERNELS_COUNT; v++) {
		if (!(ready & (1u << v)))
			continue;
		stats->build_ns[v] = k->stats.build_ns[v];
		stats->warm_ns[v] = k->stats.warm_ns[v];
	}
}
