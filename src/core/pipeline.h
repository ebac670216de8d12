/* SPDX-License-Identifier: MIT */
#pragma once
/**
 * The processing pipeline: takes an input frame (an imported DMA-BUF or CPU-visible pixels),
 * runs the compute kernel(s) on the GPU and hands back the output pixels when the GPU is done.
 * Submission never blocks: completion is reported through a pollable fd (an eventfd written by
 * a fence-waiter thread), and finished jobs are delivered, in submission order, by
 * cr_pipeline_dispatch() on the caller's loop. This header is free of Vulkan types so the
 * PipeWire side can use it. All functions: main-loop thread only.
 */
#include <stdbool.h>
#include <stdint.h>

#include "color.h"
#include "dmabuf.h"

struct cr_kernels;
struct cr_vk_device;
struct cr_vk_image;
struct cr_pipeline;
struct cr_pipeline_source;
struct cr_pipeline_output;

struct cr_rect {
	uint32_t x, y, w, h;
};

/** A cursor bitmap to composite, in source coordinates (SPA_META_Cursor). */
struct cr_pipeline_cursor {
	const void *pixels; /**< copied at submit */
	uint32_t width, height, stride; /**< stride in bytes, a multiple of 4 */
	const struct cr_format_info *format; /**< BGRA or RGBA */
	int32_t x, y;    /**< top-left of the bitmap: position - hotspot */
};

/** Where a plane after the first lies (cr_pipeline_frame.extra). */
struct cr_pipeline_plane {
	uint32_t offset; /**< bytes, from the start of the buffer holding the plane */
	uint32_t stride; /**< bytes */
	/**
	 * SHM input: the mapping holding this plane (a separate block), or NULL: the frame's
	 * @data. Ignored for an imported source, which knows each plane's buffer.
	 */
	const void *data;
	uint64_t size; /**< bytes of @data, when set */
};

struct cr_pipeline_frame {
	const struct cr_format_info *format; /**< a readable one (cr_format_info.readable) */
	uint32_t width, height;
	uint32_t offset, stride; /**< bytes, of plane 0 in @source or @data */
	/** An imported DMA-BUF, or NULL: then @data/@size are copied at submit time. */
	struct cr_pipeline_source *source;
	const void *data;
	uint64_t size;
	/**
	 * Planes 1 .. format->n_planes - 1 (NV12: extra[0] is the UV plane): in @source, in the
	 * buffer imported for that plane's fd (the same as plane 0's when they share one); for
	 * SHM, in extra[i].data or else in @data. Ignored for single-plane formats, so callers
	 * of packed formats leave it zero.
	 */
	struct cr_pipeline_plane extra[CR_DMABUF_MAX_PLANES - 1];
	/** YUV input (NV12): how the producer converted RGB; zero is BT.601 limited range. */
	enum cr_color_matrix matrix;
	bool full_range;
	/** Inside width x height (the caller clamps); w == 0 means the whole frame. */
	struct cr_rect crop;
	uint32_t transform; /**< CR_TRANSFORM_* (SPA_META_VideoTransform) */
	const struct cr_pipeline_cursor *cursor; /**< NULL: none */
	/**
	 * Explicit sync (the producer's SPA_META_SyncTimeline acquire point): when set, the
	 * job waits for @acquire_fd instead of the DMA-BUF's implicit fences. @acquire_fd is a
	 * sync_file taken by cr_pipeline_submit() (closed also on failure), or -1 when the point
	 * is known to have signalled already.
	 */
	bool explicit_acquire;
	int acquire_fd;
};

#define CR_PIPELINE_MAX_REDACT 16

struct cr_pipeline_target {
	const struct cr_format_info *format;
	uint32_t width, height;
	enum cr_color_matrix matrix; /**< YUV outputs */
	bool full_range;             /**< YUV outputs: 0-255 instead of 16-235/240 */
	/** Rectangles in source pixels, filled with black or pixelated. */
	struct cr_rect redact[CR_PIPELINE_MAX_REDACT];
	uint32_t n_redact;
	bool pixelate;
	uint32_t pixelate_block;
	/**
	 * An exported buffer (cr_pipeline_export_output()) the kernel writes the frame into,
	 * or NULL: the frame is written to a host buffer handed back in the result.
	 */
	struct cr_pipeline_output *output;
};

struct cr_pipeline_result {
	bool ok;            /**< false: the job failed or was cancelled at teardown */
	/** The output frame, valid during the callback only; NULL when written to the target's
	 * exported output buffer. */
	const void *pixels;
	struct cr_plane_layout layout; /**< cr_format_plane_layout() of the target */
	uint64_t gpu_ns;    /**< from submit to completion seen by the waiter */
	/** CPU time spent on our fence for the exported output at delivery (export, and import
	 * when attached: cr_pipeline_output_fence_mode()); 0 when the job exported none. */
	uint64_t fence_ns;
};

/** Called by cr_pipeline_dispatch() for each finished job. */
typedef void (*cr_pipeline_done_fn)(void *job_data, const struct cr_pipeline_result *result,
				    void *data);

/** Number of jobs that can be in flight at once. */
#define CR_PIPELINE_SLOTS 2

/**
 * A pipeline on the device of @kernels (borrowed; must outlive the pipeline), whose worker
 * compiles the kernel variants: a job whose variant is not ready yet is refused (counted in
 * cr_pipeline_stats.dropped_compiling) and the variant requested, so the caller's loop never
 * compiles. @done/@data receive the results. Returns NULL and logs on failure (NULL @kernels: NULL).
 */
struct cr_pipeline *cr_pipeline_create(struct cr_kernels *kernels, cr_pipeline_done_fn done,
				       void *data);

/** Counters of one pipeline since its creation. */
struct cr_pipeline_stats {
	/**
	 * Jobs cr_pipeline_submit() refused because their kernel variant was still being
	 * compiled (a source that switched to images); the caller counts them as dropped frames
	 * (castrelay.frames.dropped) as it counts every refused job.
	 */
	uint64_t dropped_compiling;
};

/** Fills @stats (main-loop thread). */
void cr_pipeline_get_stats(const struct cr_pipeline *pipe, struct cr_pipeline_stats *stats);

/**
 * Teardown only: waits for the GPU and reports every job not yet delivered with ok = false,
 * so their owners can give the input buffers back. The pipeline stays usable.
 */
void cr_pipeline_drain(struct cr_pipeline *pipe);

/**
 * Drains, then frees everything. Sources must have been destroyed before. NULL is a no-op.
 */
void cr_pipeline_destroy(struct cr_pipeline *pipe);

/** The fd to poll for readability; then call cr_pipeline_dispatch(). Owned by the pipeline. */
int cr_pipeline_get_fd(const struct cr_pipeline *pipe);

/** Delivers finished jobs through the done callback. Never blocks. */
void cr_pipeline_dispatch(struct cr_pipeline *pipe);

/** True when a job can be submitted now (a slot is free). */
bool cr_pipeline_can_submit(const struct cr_pipeline *pipe);

/** True after the device was lost; nothing more can be submitted. */
bool cr_pipeline_device_lost(const struct cr_pipeline *pipe);

/**
 * Starts one job. @job_data is handed back with the result. Returns false (and logs) when no
 * slot is free, the parameters are invalid or the submission failed, and (logged once per
 * variant) while the job's kernel variant is being compiled; the done callback is not called
 * then.
 */
bool cr_pipeline_submit(struct cr_pipeline *pipe, const struct cr_pipeline_frame *in,
			const struct cr_pipeline_target *out, void *job_data);

/**
 * Imports a DMA-BUF (fds borrowed) for use as cr_pipeline_frame.source. LINEAR: for each
 * distinct fd among its planes (the same fd, or another fd of the same buffer, is imported
 * once) the whole buffer as a storage buffer, so that offsets and strides can change per frame
 * (they are checked then with cr_dmabuf_check_planes()); @buf->n_planes must be the format's
 * plane count and the format readable. Any other modifier (cr_pipeline_input_modifiers()):
 * an image with @buf's plane layout (cr_vk_image_import()); frames must then keep that
 * layout (a frame whose offset or stride differs is rejected at submit). Returns NULL and
 * logs when the device cannot import it.
 */
struct cr_pipeline_source *cr_pipeline_import_dmabuf(struct cr_pipeline *pipe,
						     const struct cr_dmabuf *buf);

/** A block of shared memory holding planes of SHM frames: a MemFd's range. */
struct cr_pipeline_shm_block {
	int fd;          /**< borrowed */
	uint64_t offset; /**< where the block starts in @fd (spa_data.mapoffset) */
	uint64_t size;   /**< bytes (spa_data.maxsize) */
};

/**
 * Shared memory in place, for use as cr_pipeline_frame.source, so that SHM frames are read
 * without a CPU copy (VK_EXT_external_memory_host): each of the @n_blocks blocks (plane i in
 * block i; planes beyond @n_blocks in block 0) is mapped by the pipeline itself, so the
 * caller's mapping may go first, and imported once. Frames give their planes' offsets from
 * their block's start, as for SHM @data; their extents are checked at submit. Returns NULL
 * (logged at debug level; a block outside its fd is warned about) when the device cannot:
 * the caller then hands frames as @data, copied at submit.
 */
struct cr_pipeline_source *cr_pipeline_import_shm(struct cr_pipeline *pipe,
						  const struct cr_pipeline_shm_block *blocks,
						  uint32_t n_blocks);

/**
 * An output the kernel writes in place: the first @size bytes of the memfd @fd (borrowed),
 * mapped by the pipeline itself and imported once; frames are written in
 * cr_format_plane_layout() of the target. No fences: the caller publishes the buffer once
 * the job is done. Returns NULL (logged at debug level) when the device cannot.
 */
struct cr_pipeline_output *cr_pipeline_output_from_shm(struct cr_pipeline *pipe, int fd,
						       uint64_t size);

/**
 * Wraps @img (taken, also on failure) as a source: an image of a readable format (packed RGB
 * or NV12, cr_vk_format_from_fourcc()) with usage SAMPLED
 * made by cr_vk_image_create() or cr_vk_image_import(), in VK_IMAGE_LAYOUT_GENERAL with its
 * pixels in place (tests fill tiled images that no DMA-BUF holds this way). Frames read from
 * it give the offset and stride of its ->layout.planes[0], as frames of imported images give
 * those of their import. Returns NULL and logs on failure.
 */
struct cr_pipeline_source *cr_pipeline_source_from_image(struct cr_pipeline *pipe,
							 struct cr_vk_image *img);

/**
 * True when @src is read as a Vulkan image (a non-LINEAR modifier, or any modifier with
 * CASTRELAY_TEST_LINEAR_IMAGES=1), false when as a LINEAR storage buffer.
 */
bool cr_pipeline_source_is_image(const struct cr_pipeline_source *src);

/** Releases @src; if a job still reads it, it is freed once that job is done. NULL: no-op. */
void cr_pipeline_source_destroy(struct cr_pipeline *pipe, struct cr_pipeline_source *src);

/** True when the device can import DMA-BUFs at all. */
bool cr_pipeline_can_import_dmabuf(const struct cr_pipeline *pipe);

/** True when output frames can be written to exported DMA-BUFs (LINEAR). */
bool cr_pipeline_can_export_dmabuf(const struct cr_pipeline *pipe);

/**
 * Allocates an output buffer of @size bytes exported as a LINEAR DMA-BUF; *@fd receives a new
 * fd owned by the caller. Before each job that writes it, the GPU waits for the buffer's
 * fences (DMA_BUF_IOCTL_EXPORT_SYNC_FILE, WRITE: consumers still reading the previous frame).
 * Returns NULL and logs on failure (also used as the test allocation that fixates an output
 * modifier).
 */
struct cr_pipeline_output *cr_pipeline_export_output(struct cr_pipeline *pipe, uint64_t size,
						     int *fd);

/**
 * An output for frames of @fmt at @width x @height exported as a DMA-BUF with one of the
 * @n_modifiers @modifiers (the consumers' choice; the allocation fixates it, so this is also
 * the test allocation). The image modifiers of cr_pipeline_output_modifiers() (packed formats;
 * LINEAR too with CASTRELAY_TEST_LINEAR_IMAGES=1) give a storage image, the driver choosing
 * among them; LINEAR otherwise gives a storage buffer in
 * cr_format_plane_layout(). @desc receives the modifier, the plane count and every plane's
 * offset and stride, and in each plane's fd a new fd owned by the caller (planes of one buffer
 * get dups of one DMA-BUF). Returns NULL and logs when none of the modifiers works.
 */
struct cr_pipeline_output *cr_pipeline_export_frame(struct cr_pipeline *pipe,
						    const struct cr_format_info *fmt,
						    uint32_t width, uint32_t height,
						    const uint64_t *modifiers, uint32_t n_modifiers,
						    struct cr_dmabuf *desc);

/**
 * Wraps @img (taken, also on failure) as an output: a packed-format image with usage STORAGE
 * made by cr_vk_image_create() (tests read tiled results back this way). It is left in
 * VK_IMAGE_LAYOUT_GENERAL after each job. Returns NULL and logs on failure.
 */
struct cr_pipeline_output *cr_pipeline_output_from_image(struct cr_pipeline *pipe,
							 struct cr_vk_image *img);

/** True when @out is written as a Vulkan image, false when as a LINEAR storage buffer. */
bool cr_pipeline_output_is_image(const struct cr_pipeline_output *out);

/**
 * The modifiers cr_pipeline_export_frame() can give frames of @fourcc at @width x @height
 * (0: any size), into @modifiers (room for @max): the device's exportable storage-image
 * modifiers of the format (packed formats, VK_EXT_image_drm_format_modifier), then LINEAR when
 * storage buffers export (every output format). Returns the count.
 */
uint32_t cr_pipeline_output_modifiers(const struct cr_pipeline *pipe, uint32_t fourcc,
				      uint32_t width, uint32_t height, uint64_t *modifiers,
				      uint32_t max);

/** Releases @out; if a job still writes it, it is freed once that job is done. NULL: no-op. */
void cr_pipeline_output_destroy(struct cr_pipeline *pipe, struct cr_pipeline_output *out);

/**
 * The DRM format modifiers the pipeline can read DMA-BUFs of @fourcc with, into @modifiers
 * (room for @max); never DRM_FORMAT_MOD_INVALID (an implicit layout cannot be imported): the
 * device's importable sampled-image modifiers of the format (packed formats and NV12,
 * VK_EXT_image_drm_format_modifier), then LINEAR when DMA-BUFs import as storage buffers
 * (every readable format). cr_pipeline_import_dmabuf() reads LINEAR through a storage buffer
 * (offsets and strides may then change per frame) and every other modifier through an image.
 * Returns the count.
 *
 * For tests only: CASTRELAY_TEST_FAIL_IMPORTS=N makes the first N imports fail;
 * CASTRELAY_TEST_LINEAR_IMAGES=1 imports and exports LINEAR DMA-BUFs as images too where the
 * device makes LINEAR images of the format, so that the image path runs where LINEAR is the
 * only modifier (lavapipe in the vm guest).
 */
uint32_t cr_pipeline_input_modifiers(const struct cr_pipeline *pipe, uint32_t fourcc,
				     uint64_t *modifiers, uint32_t max);

/**
 * How the last frame read from an imported DMA-BUF was synchronised with its producer:
 * "explicit" (the frame's acquire sync_file, cr_pipeline_frame.explicit_acquire, was waited
 * for), "implicit" (the producer's fences, exported with DMA_BUF_IOCTL_EXPORT_SYNC_FILE, were
 * waited for by the GPU) or "none" (no fences could be exported, e.g. memfds or old kernels,
 * or the GPU cannot wait on a sync_file and the bounded CPU poll fallback was used). "none"
 * before the first DMA-BUF frame.
 *
 * For tests only: CASTRELAY_TEST_SKIP_SYNC=1 in the environment makes the pipeline skip
 * every wait (and say "none") and attach no fence to outputs, so that tests can show they
 * detect missing synchronisation.
 */
const char *cr_pipeline_sync_mode(const struct cr_pipeline *pipe);

/**
 * Implicit sync out: our own fence on exported output buffers. Where the device exports SYNC_FD
 * semaphores (cr_vk_sync_can_export_sync_file()), a job writing an exported output
 * (cr_pipeline_target.output) signals one; once the fence waiter has seen the job complete
 * (so that exporting never blocks the loop: lavapipe's export waits for the work, DESIGN.md),
 * cr_pipeline_dispatch() exports it as a sync_file and adds it to the output DMA-BUF's fences
 * as a writer (DMA_BUF_IOCTL_IMPORT_SYNC_FILE, WRITE), before the done callback runs, that is
 * before the buffer can be queued. Consumers using implicit sync find it there; it has always
 * signalled by then, because results are delivered only after completion.
 *
 * Returns, for the last job that wrote an exported output: "attached", or "none": no such job
 * yet, the device cannot export SYNC_FD semaphores (NVIDIA's driver; lavapipe outside a kernel
 * with udmabuf, e.g. on the dev machines), the kernel cannot import sync_files (before 5.20:
 * logged once, then not tried again), the driver returned no fd because the work had already
 * completed (allowed by Vulkan), or CASTRELAY_TEST_SKIP_SYNC=1 (which also turns attaching
 * off). Meant for the relay's node properties; main-loop thread.
 */
const char *cr_pipeline_output_fence_mode(const struct cr_pipeline *pipe);

/** Counters behind cr_pipeline_output_fence_mode(), since the pipeline was created. */
struct cr_pipeline_fence_stats {
	uint64_t attached;  /**< fences put on an output DMA-BUF */
	uint64_t signalled; /**< no fd from the driver (work already complete): nothing attached */
	uint64_t failed;    /**< export or import failed (logged) */
};

/** Fills @stats (main-loop thread). */
void cr_pipeline_output_fence_stats(const struct cr_pipeline *pipe,
				    struct cr_pipeline_fence_stats *stats);
