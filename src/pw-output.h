/* SPDX-License-Identifier: MIT */
#pragma once
/**
 * The publishing side of a relay: a Video/Source node (DRIVER, ALLOC_BUFFERS) whose buffers are
 * allocated here: DMA-BUFs exported by the owner (its exportable modifiers offered with
 * DONT_FIXATE, fixated by a test allocation with the modifiers the consumer accepts) for
 * consumers that take them, sealed MemFds for the rest.
 * Header meta with pts and sequence numbers, optionally Cursor meta, castrelay.* properties,
 * and Props (live control) forwarded to the owner. Lazy: cr_pw_output_streaming() is false
 * while no consumer is linked, and the relay then does no GPU work. Main-loop thread.
 */
#include <stdbool.h>
#include <stdint.h>

#include <pipewire/pipewire.h>

#include "core/color.h"
#include "core/damage.h"
#include "core/dmabuf.h"

struct cr_pw_output;

/** Largest cursor bitmap passed on as SPA_META_Cursor (mutter sizes its own for 384x384). */
#define CR_PW_OUTPUT_CURSOR_MAX 384

/** A cursor to publish as SPA_META_Cursor, in output coordinates. */
struct cr_pw_output_cursor {
	bool visible;
	int32_t x, y;               /**< position */
	int32_t hotspot_x, hotspot_y;
	const void *pixels;         /**< bitmap, or NULL to keep the consumer's last one */
	uint32_t width, height, stride;
	uint32_t spa_format;        /**< SPA_VIDEO_FORMAT_RGBA / BGRA */
};

/** A buffer taken from the stream to be filled; see cr_pw_output_dequeue(). */
struct cr_pw_output_slot {
	void *token;      /**< the pw_buffer */
	/** What events.export returned (DMA-BUF) or events.import_shm (shared memory written
	 * in place), or NULL: shared memory the frame is copied into. */
	void *export;
	bool shm;         /**< a shared-memory buffer */
	uint64_t generation; /**< buffers are replaced on renegotiation: stale slots are dropped */
};

struct cr_pw_output_stats {
	uint64_t published;     /**< explicit sync: acquire points signalled */
	uint64_t release_waits; /**< explicit sync: buffers that waited for their release point */
};

struct cr_pw_output_events {
	/**
	 * The modifiers export can give frames of @fourcc at @width x @height, in order of
	 * preference, into @modifiers (room for @max). Returns the count; 0: no DMA-BUF offer.
	 */
	uint32_t (*modifiers)(void *data, uint32_t fourcc, uint32_t width, uint32_t height,
			      uint64_t *modifiers, uint32_t max);
	/**
	 * Allocates an exported DMA-BUF frame of @info at @width x @height with one of the
	 * @n_modifiers @modifiers (the allocation picks one): returns a handle (given back to
	 * release) and fills @desc (modifier, planes with offset, stride and a new fd each,
	 * taken by the output), or returns NULL. Also the test allocation that fixates the
	 * modifier (released at once).
	 */
	void *(*export)(void *data, const struct cr_format_info *info, uint32_t width,
			uint32_t height, const uint64_t *modifiers, uint32_t n_modifiers,
			struct cr_dmabuf *desc);
	/**
	 * Imports the first @size bytes of the shared-memory buffer @fd (borrowed, a memfd of
	 * ours) for the GPU to write frames into in place; returns a handle (given back to
	 * release) or NULL: frames are then copied in at cr_pw_output_queue(). Asked once per
	 * buffer, at its first frame, and again after cr_pw_output_drop_exports(). Optional.
	 */
	void *(*import_shm)(void *data, int fd, uint64_t size);
	/** Releases a handle returned by export or import_shm. */
	void (*release)(void *data, void *handle);
	/**
	 * One key of a Props { params = [ key value ... ] } set on the node (pw-cli set-param),
	 * the value as text ("100", "embed", "1,2,3,4"). Return false to reject it (logged by
	 * the owner).
	 */
	void (*control)(void *data, const char *key, const char *value);
	/** Called after all keys of one set-param have been delivered. */
	void (*control_done)(void *data);
};

/**
 * Creates the node on @core (borrowed) with @props (taken; node.name etc.); @cursor_meta
 * offers SPA_META_Cursor; @dmabuf offers DMA-BUFs with the modifiers events.modifiers gives
 * (events.export must work). With @drm_fd
 * (borrowed, -1: none), a DRM node with timeline syncobjs, DMA-BUFs also offer explicit sync
 * (SPA_META_SyncTimeline): the acquire point is signalled when a buffer is queued, and a
 * buffer whose consumer promised a release point (cleared UNSCHEDULED_RELEASE) is rewritten
 * only after it signalled. It is connected once the format is known
 * (cr_pw_output_set_format()). Returns NULL and logs on failure.
 */
struct cr_pw_output *cr_pw_output_create(struct pw_core *core, struct pw_properties *props,
					 bool cursor_meta, bool dmabuf, int drm_fd,
					 const struct cr_pw_output_events *events, void *data);

/** Disconnects and frees. NULL is a no-op. */
void cr_pw_output_destroy(struct cr_pw_output *out);

/**
 * Sets the published format: connects the stream the first time, renegotiates when it
 * changes, does nothing when it is unchanged. Returns false on failure (logged).
 */
bool cr_pw_output_set_format(struct cr_pw_output *out, const struct cr_format_info *info,
			     uint32_t width, uint32_t height, uint32_t max_fps,
			     enum cr_color_matrix matrix, bool full_range);

/** True while a consumer is linked and buffers are negotiated. */
bool cr_pw_output_streaming(const struct cr_pw_output *out);

/** True while the stream waits for the server to create its node (state connecting). */
bool cr_pw_output_connecting(const struct cr_pw_output *out);

/** "explicit" while the negotiated buffers carry SyncTimeline meta, else NULL. */
const char *cr_pw_output_sync(const struct cr_pw_output *out);

/** Counters since creation. */
const struct cr_pw_output_stats *cr_pw_output_get_stats(const struct cr_pw_output *out);

/**
 * The layout of frames as the pipeline hands them over (cr_format_plane_layout(), that of
 * shared-memory buffers) while buffers are negotiated, else NULL.
 */
const struct cr_plane_layout *cr_pw_output_layout(const struct cr_pw_output *out);

/**
 * While DMA-BUF buffers are negotiated, the fixated modifier and the plane layout (offsets,
 * strides; fds -1) of the test allocation, which every buffer has; else NULL.
 */
const struct cr_dmabuf *cr_pw_output_dmabuf(const struct cr_pw_output *out);

/** "dmabuf", "shm" or "none" (no buffers negotiated). */
const char *cr_pw_output_transport(const struct cr_pw_output *out);

/**
 * Takes a free buffer for the next frame, before the GPU work (so a DMA-BUF can be written in
 * place). Returns false when none is free: the consumer is behind and the frame is dropped.
 */
bool cr_pw_output_dequeue(struct cr_pw_output *out, struct cr_pw_output_slot *slot);

/**
 * Publishes @slot: for shared memory without an import copies @frame (@size bytes laid out as
 * cr_format_plane_layout() says) into it; otherwise the GPU already wrote it (@frame is
 * NULL). Stamps pts/seq, @cursor (when Cursor meta was negotiated; NULL: none visible) and
 * @damage (SPA_META_VideoDamage, output pixels changed since the previous frame; NULL or
 * full: the whole frame) and triggers the graph. Returns false, keeping the buffer for the
 * next frame, when @slot is stale (renegotiated meanwhile) or does not fit.
 */
bool cr_pw_output_queue(struct cr_pw_output *out, struct cr_pw_output_slot *slot,
			const void *frame, uint64_t size, uint64_t pts_ns,
			const struct cr_pw_output_cursor *cursor, const struct cr_damage *damage);

/** Gives back a slot whose frame was not produced; it is reused for the next one. */
void cr_pw_output_cancel(struct cr_pw_output *out, struct cr_pw_output_slot *slot);

/** Updates node properties (castrelay.* status); cheap to call about once a second. */
void cr_pw_output_update_props(struct cr_pw_output *out, const struct spa_dict *dict);

/**
 * The device that exported the DMA-BUF buffers is going: gives every export handle back
 * through events.release now (the buffers keep their fds until they are removed), and takes
 * no frame into them any more (cr_pw_output_dequeue() fails). Shared memory buffers stay;
 * their imports are given back too and asked for again at their next frame.
 */
void cr_pw_output_drop_exports(struct cr_pw_output *out);

/**
 * After a new device: asks events.modifiers again and renegotiates, with the consumer's
 * buffers exported anew, when exports were dropped or the modifiers changed; otherwise (shared
 * memory) nothing changes and consumers see nothing.
 */
void cr_pw_output_renegotiate(struct cr_pw_output *out);
