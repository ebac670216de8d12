/* SPDX-License-Identifier: MIT */
#pragma once
/**
 * What a producer's buffer says about a frame, read and checked: the DMA-BUF planes it
 * announces, where each frame's planes lie, and its metas (Header, VideoCrop, VideoTransform,
 * VideoDamage, Cursor). Pure: no stream, no loop, no allocation but the cursor bitmap.
 * Everything read here is the peer's memory (chunks, metas of the size PipeWire declares) and
 * is bounds-checked before use; tests/fuzz/ feeds these functions arbitrary buffers. pw-input
 * calls them per buffer (add_buffer) and per frame; the relay keeps the cursor.
 */
#include <stdbool.h>
#include <stdint.h>

#include <spa/buffer/buffer.h>
#include <spa/buffer/meta.h>

#include "core/damage.h"
#include "core/dmabuf.h"
#include "core/pipeline.h"
#include "pw-format.h"

/** Largest cursor bitmap taken from a producer (mutter sizes its meta for 384x384). */
#define CR_PW_INPUT_FRAME_CURSOR_MAX 384
/**
 * Cursor positions and hotspots are clamped to +-this: far outside any frame they mean
 * nothing, and clamped, position - hotspot + size fits an int32_t.
 */
#define CR_PW_INPUT_FRAME_CURSOR_RANGE (1 << 24)

struct cr_pw_input_frame {
	const struct cr_video_format *format;
	void *import;     /**< what events.import returned for this buffer (DMA-BUF), or NULL */
	const void *data; /**< mapped pixels (SHM), NULL for DMA-BUF */
	uint64_t size;    /**< bytes of the mapping or the DMA-BUF */
	uint32_t offset, stride; /**< bytes, of plane 0 */
	/**
	 * Planes after the first (NV12: extra[0] is UV), as cr_pipeline_frame.extra: offsets
	 * in that plane's DMA-BUF (imported with @import), or for SHM in its own mapping
	 * (extra[i].data) or in @data when one block holds every plane.
	 */
	struct cr_pipeline_plane extra[CR_DMABUF_MAX_PLANES - 1];
	bool has_header;
	uint64_t pts_ns; /**< from SPA_META_Header, when has_header */
	uint64_t seq;
	bool has_crop;
	struct cr_rect crop; /**< from SPA_META_VideoCrop, clamped to the frame */
	uint32_t transform;  /**< SPA_META_VideoTransform value, 0 when absent */
	/**
	 * Explicit sync: the producer's acquire point has a fence; the GPU must wait for it
	 * (cr_pw_input_take_acquire()) instead of the DMA-BUF's implicit fences.
	 */
	bool explicit_sync;
	/** SPA_META_Cursor as the producer wrote it (NULL: none); valid during the callback. */
	const struct spa_meta_cursor *cursor;
	uint32_t cursor_size; /**< bytes of the cursor meta, for bounds checks */
	/** SPA_META_VideoDamage in source pixels; full when the producer gave none. */
	struct cr_damage damage;
};

/**
 * In add_buffer: the planes of a DMA-BUF buffer are its leading DmaBuf datas (syncobj datas
 * may follow), at most CR_DMABUF_MAX_PLANES; each one's fd (borrowed) is sized with
 * lseek(SEEK_END) into @sizes (0 when it has no size). Returns the count.
 */
uint32_t cr_pw_input_frame_dmabuf_planes(const struct spa_buffer *buf, uint64_t *sizes);

/**
 * The descriptor to import the @n_planes DMA-BUF planes of @buf with (@n_planes from
 * cr_pw_input_frame_dmabuf_planes()): @format's size, fourcc and modifier, each plane's fd
 * (borrowed), chunk offset and stride; a LINEAR stride still 0 is the format's default.
 * Not validated: pass it through cr_dmabuf_validate().
 */
void cr_pw_input_frame_dmabuf(const struct cr_video_format *format, const struct spa_buffer *buf,
			      uint32_t n_planes, struct cr_dmabuf *desc);

/**
 * Reads the frame in @buf (negotiated as @format) into @f: *@f is reset, @f->format set,
 * @f->import left NULL for the caller. DMA-BUF: plane i is the leading DmaBuf data i, of
 * @dmabuf_sizes[i] bytes (the sizes of an imported buffer; NULL: not imported, the frame is
 * skipped). SHM: one mapped data per plane, or for single-block producers every plane in
 * datas[0], in GStreamer's default layout derived from the chunk stride. Every plane of SHM
 * and LINEAR frames is checked against its memory; metas are used only where they lie inside
 * their declared size and hold valid values (an invalid crop or transform is ignored, damage
 * outside the frame is clipped). Returns false (logged at debug or warning level) for a frame
 * to skip: a CORRUPTED header or chunk, an empty chunk, a layout outside its memory.
 */
bool cr_pw_input_frame_read(const struct cr_video_format *format, struct spa_buffer *buf,
			    const uint64_t *dmabuf_sizes, struct cr_pw_input_frame *f);

/** The producer's cursor: SPA_META_Cursor sends the bitmap only when it changes. */
struct cr_pw_input_frame_cursor {
	bool visible;
	int32_t x, y, hotspot_x, hotspot_y;
	uint32_t width, height, spa_format; /**< of the bitmap in @pixels; width 0: none yet */
	const struct cr_format_info *format;
	/** CR_PW_INPUT_FRAME_CURSOR_MAX^2 pixels, allocated on the first bitmap, rows packed */
	uint32_t *pixels;
};

/**
 * Follows SPA_META_Cursor @mc of @size bytes (as cr_pw_input_frame.cursor; NULL: nothing
 * changes): visibility, position and hotspot (clamped to CR_PW_INPUT_FRAME_CURSOR_RANGE) every
 * frame, the bitmap only when bitmap_offset is set and it is a valid RGBA/BGRA bitmap of at
 * most CR_PW_INPUT_FRAME_CURSOR_MAX square lying inside @size (else the last bitmap stays).
 * Copied into @c->pixels.
 */
void cr_pw_input_frame_cursor_update(struct cr_pw_input_frame_cursor *c,
				     const struct spa_meta_cursor *mc, uint32_t size);

/** Frees @c's bitmap; @c may be used again. */
void cr_pw_input_frame_cursor_finish(struct cr_pw_input_frame_cursor *c);
