/* SPDX-License-Identifier: MIT */
#pragma once
/**
 * The compute kernel's four variants (source and destination each a storage buffer or an
 * image) on one device, shared by every pipeline on it: their descriptor set layouts,
 * pipeline layouts and VkPipelines, a persistent VkPipelineCache, and a worker thread that
 * compiles the variants and warms each up with a tiny real dispatch, so that neither the
 * PipeWire loop nor the first real frame pays for compiling (lavapipe JIT-compiles a compute
 * shader at its first dispatch, in its queue thread: about 5 s with a cold Mesa cache; see
 * DESIGN.md, "Cold start and the pipeline cache").
 *
 * Threads: cr_kernels_create()/cr_kernels_destroy() on the owner's thread (the daemon's main
 * loop, before the first and after the last pipeline); everything else from any thread. The
 * worker alone touches the VkPipelines while it builds them and the VkPipelineCache; a
 * variant's handles are published with a release store of its bit in the ready mask and read
 * after an acquire load of it, then never change until cr_kernels_destroy().
 */
#include <stdbool.h>
#include <stdint.h>
#include <vulkan/vulkan.h>

struct cr_vk_device;
struct cr_kernels;

/** Variant index bits; a variant is one of 0 .. CR_KERNELS_COUNT - 1. */
#define CR_KERNELS_SRC_IMAGE 1u
#define CR_KERNELS_DST_IMAGE 2u
#define CR_KERNELS_COUNT 4u
/** Masks: bit (1u << variant) per variant. */
#define CR_KERNELS_BUFFERS 1u /**< buffer to buffer only: SHM and LINEAR DMA-BUFs */
#define CR_KERNELS_ALL 0xfu

/**
 * Creates the layouts and the sampler on @dev (borrowed; must outlive the kernels), loads the
 * pipeline cache from @cache_dir (borrowed; an existing directory, or NULL: no file) and starts
 * the worker, idle until a variant is requested. A missing, stale or corrupt cache file is
 * ignored (logged) and rewritten. Returns NULL and logs on failure.
 */
struct cr_kernels *cr_kernels_create(struct cr_vk_device *dev, const char *cache_dir);

/**
 * Stops the worker (after the variant it is building, if any: that may take seconds), saves
 * the pipeline cache and frees everything. Every pipeline using @k must be destroyed before.
 * NULL is a no-op.
 */
void cr_kernels_destroy(struct cr_kernels *k);

/** The variants relays can need on @dev: all four where images are imported or exported
 * (VK_EXT_image_drm_format_modifier) and @dmabuf, else CR_KERNELS_BUFFERS. */
uint32_t cr_kernels_needed(const struct cr_vk_device *dev, bool dmabuf);

/** Asks the worker to build the variants of @mask not built yet. Never blocks for long (a
 * mutex held only by bookkeeping). Any thread. */
void cr_kernels_request(struct cr_kernels *k, uint32_t mask);

/** The variants of @mask that are ready (built and warmed up). Any thread, never blocks. */
uint32_t cr_kernels_ready(const struct cr_kernels *k, uint32_t mask);

/** The variants of @mask that failed to build (logged); they are not tried again. */
uint32_t cr_kernels_failed(const struct cr_kernels *k, uint32_t mask);

/**
 * Readable (an eventfd, owned by @k) each time a variant became ready or failed; read it
 * with cr_kernels_ack() and check cr_kernels_ready(). For the daemon's loop at startup.
 */
int cr_kernels_get_fd(const struct cr_kernels *k);

/** Clears the readability of cr_kernels_get_fd(). Never blocks. */
void cr_kernels_ack(struct cr_kernels *k);

/**
 * Requests @mask and blocks until each of its variants is ready or failed. Returns true when
 * all are ready. Never on the PipeWire loop: for tests and benchmarks.
 */
bool cr_kernels_wait(struct cr_kernels *k, uint32_t mask);

/** The device @k was created on. */
struct cr_vk_device *cr_kernels_device(const struct cr_kernels *k);

/** Nearest-filtering immutable sampler of the image variants' layouts; owned by @k. */
VkSampler cr_kernels_sampler(const struct cr_kernels *k);

/** The descriptor set layout of @variant (ready or not: layouts exist from creation). */
VkDescriptorSetLayout cr_kernels_set_layout(const struct cr_kernels *k, unsigned variant);

/** The pipeline layout of @variant (exists from creation). */
VkPipelineLayout cr_kernels_layout(const struct cr_kernels *k, unsigned variant);

/**
 * What one job binds: binding 0 and 4 the source's plane 0 and plane 1 (the same again for
 * packed formats), 1 the output, 2 the cursor bitmap, 3 the parameters. Buffers where @variant
 * reads or writes buffers, views where it samples or stores images.
 */
struct cr_kernels_bindings {
	VkBuffer src[2], dst, cursor, params;
	VkImageView src_view[2], dst_view;
};

/** Writes @b into @set, a set of cr_kernels_set_layout(@variant). Caller's thread. */
void cr_kernels_write_set(const struct cr_kernels *k, unsigned variant, VkDescriptorSet set,
			  const struct cr_kernels_bindings *b);

/** The compute pipeline of @variant, or VK_NULL_HANDLE while it is not ready. Any thread. */
VkPipeline cr_kernels_pipeline(const struct cr_kernels *k, unsigned variant);

/** What the cold start cost, per variant: for logs, tests and benchmarks. */
struct cr_kernels_stats {
	uint64_t build_ns[CR_KERNELS_COUNT]; /**< vkCreateComputePipelines */
	uint64_t warm_ns[CR_KERNELS_COUNT];  /**< the warm-up dispatch, submit to fence */
	bool cache_loaded; /**< a valid cache file was given to the VkPipelineCache */
};

/** Fills @stats; values of variants not ready yet are 0. Any thread after the variant's
 * ready bit was seen. */
void cr_kernels_get_stats(const struct cr_kernels *k, struct cr_kernels_stats *stats);
