/* SPDX-License-Identifier: MIT */
#pragma once
/**
 * The consuming side of a relay: finds the source node, connects a video stream to it
 * (WirePlumber links it), negotiates DMA-BUF (any modifier the importer offers) or SHM, hands
 * each buffer to an importer once, and delivers the newest frame of each cycle. Main-loop
 * thread.
 */
#include <stdbool.h>
#include <stdint.h>

#include <pipewire/pipewire.h>
#include <spa/buffer/meta.h>

#include "core/damage.h"
#include "core/pipeline.h"
#include "pw-format.h"
#include "pw-input-frame.h"

struct cr_pw_input;
/** A frame's buffer, held until cr_pw_input_release(); it survives the stream removing it. */
struct cr_pw_input_buffer;

#define CR_PW_INPUT_MAX_RENEGOTIATIONS 3

struct cr_pw_input_stats {
	uint64_t received; /**< buffers dequeued */
	uint64_t skipped;  /**< older buffers replaced by a newer one in the same cycle */
	uint64_t corrupt;  /**< CORRUPTED header/chunk, empty chunk or invalid layout */
	uint64_t repeated; /**< buffers read in place handed over again with the same frame
			    * (ignored) */
	uint64_t overwritten; /**< buffers read in place that the producer reused meanwhile */
	uint64_t released; /**< explicit sync: release points signalled */
	uint64_t acquire_waits; /**< explicit sync: frames that waited for their acquire point */
	uint64_t removed_held; /**< buffers the stream removed while a frame of theirs was held */
};

struct cr_pw_input_events {
	/**
	 * The DRM modifiers DMA-BUFs of @fourcc can be imported with (never INVALID); 0 offers
	 * shared memory only for that format.
	 */
	uint32_t (*modifiers)(void *data, uint32_t fourcc, uint64_t *modifiers, uint32_t max);
	/** A format was negotiated (also after renegotiation). */
	void (*format)(void *data, const struct cr_video_format *format);
	/**
	 * Import a DMA-BUF buffer once; return a handle or NULL when it cannot be imported.
	 * @buf (fds borrowed) passed cr_dmabuf_validate(); its planes are the buffer's leading
	 * DmaBuf datas (for other modifiers than LINEAR possibly more than the format's) with
	 * the offsets and strides of their chunks, from add_buffer, or from the buffer's first
	 * frame when the producer writes its chunks only then.
	 */
	void *(*import)(void *data, const struct cr_dmabuf *buf);
	/**
	 * Import a shared-memory buffer once, to be read in place: its leading MemFd datas
	 * (fds borrowed), up to the format's plane count; return a handle or NULL, and its
	 * frames are then handed as mapped data (copied by the owner). Optional (NULL: SHM
	 * frames are always handed as data).
	 */
	void *(*import_shm)(void *data, const struct cr_pipeline_shm_block *blocks,
			    uint32_t n_blocks);
	/** Release a handle returned by import or import_shm (buffer removed). */
	void (*release_import)(void *data, void *handle);
	/** A frame; give @token back with cr_pw_input_release() when done with it. */
	void (*frame)(void *data, const struct cr_pw_input_frame *frame,
		      struct cr_pw_input_buffer *token);
};

/**
 * Creates the stream on @core (borrowed) for source @target (node.name, object.serial or id
 * of a node that exists: cr_pw_source_watch finds it; WirePlumber links the stream to it).
 * @node_name names our input node. @dmabuf: offer DMA-BUF formats with the
 * modifiers events.modifiers gives (all of them, MANDATORY|DONT_FIXATE); a source that
 * fixates one we did not offer is rejected (stream error naming it). A modifier whose import
 * fails is dropped and the format renegotiated; after CR_PW_INPUT_MAX_RENEGOTIATIONS failures
 * only shared memory is offered.
 * @drm_fd (borrowed, -1: none) is a DRM node with timeline syncobjs: DMA-BUF formats then
 * offer explicit sync (SPA_META_SyncTimeline) first. For tests only,
 * CASTRELAY_TEST_SKIP_SYNC=1 ignores acquire points (release points are still signalled).
 */
struct cr_pw_input *cr_pw_input_create(struct pw_core *core, const char *target,
				       const char *node_name, bool dmabuf, int drm_fd,
				       const struct cr_pw_input_events *events, void *data);

/**
 * Disconnects and frees. Every token must have been released first (the pipeline drained):
 * cr_pw_input_release() needs @in. NULL is a no-op.
 */
void cr_pw_input_destroy(struct cr_pw_input *in);

/**
 * Gives a frame's buffer back to the producer, once nothing reads it any more; with explicit
 * sync its release point is signalled. A token whose buffer the stream removed meanwhile
 * (the producer went, PipeWire went) is only freed.
 */
void cr_pw_input_release(struct cr_pw_input *in, struct cr_pw_input_buffer *token);

/**
 * Once the GPU is done reading the DMA-BUF of @token, before cr_pw_input_release(): false when
 * the producer republished the buffer meanwhile (a new acquire point, or header sequence
 * number), so what was read may mix two frames; counted. PipeWire 1.4's async links can
 * recycle a buffer to its producer before its consumer dequeued it (and could promise its
 * release point), so this does happen. A buffer removed meanwhile is not intact either.
 */
bool cr_pw_input_intact(struct cr_pw_input *in, const struct cr_pw_input_buffer *token);

/**
 * With cr_pw_input_frame.explicit_sync: the frame's acquire sync_file, now owned by the
 * caller (hand it to cr_pipeline_submit()); -1 when there is none or it was taken. Untaken,
 * it is closed when the buffer is released.
 */
int cr_pw_input_take_acquire(struct cr_pw_input *in, struct cr_pw_input_buffer *token);

/** "explicit" while the negotiated buffers carry SyncTimeline meta ("none" when tests skip
 * waits), NULL otherwise: then the pipeline's implicit/none applies. */
const char *cr_pw_input_sync(const struct cr_pw_input *in);

/** "dmabuf", "shm" or "none" (not negotiated). */
const char *cr_pw_input_transport(const struct cr_pw_input *in);

/** True while the stream waits for the server to create its node (state connecting). */
bool cr_pw_input_connecting(const struct cr_pw_input *in);

/** Counters since creation. */
const struct cr_pw_input_stats *cr_pw_input_get_stats(const struct cr_pw_input *in);
