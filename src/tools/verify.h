/* SPDX-License-Identifier: MIT */
#pragma once
/**
 * Checks received frames of the castrelay test pattern (pattern.h) against the CPU reference
 * of the processing kernel (src/core/reference.h), and checks that they are fresh.
 *
 * The source may be in any format castrelayd reads (pattern-frame.h says how the pattern is
 * written in each); its frames are regenerated in that format, and the reference reads them
 * as the kernel does (10-bit unpacking, NV12 through the inverse matrix).
 *
 * For each received frame the frame number (mod 256) is recovered first: candidates come from
 * the R channel of a grid of pixels (R is the frame number all over the source; for YUV
 * frames, or a YUV source, it is estimated, through the inverse colour matrix) and from the
 * previous frame number; each candidate's source picture is regenerated and the reference
 * colour of a grid of sample pixels is computed, and the candidate whose reference lies
 * closest to the received pixels wins. Choosing the closest rather than the first one within
 * the tolerance matters for YUV: consecutive frames differ by less than one code there, and a relay that
 * repeats frames must still be caught as stale. Then the whole expected frame is computed
 * with cr_reference_process() and compared with the received one code by code, plane by
 * plane (packed: R, G, B and A when the format has alpha, 10-bit fields for the 10-bit
 * formats; planar: the Y, U and V codes).
 * A frame whose number did not advance past the previous frame's counts as stale; only
 * frames that matched their reference are judged, the number of the others being a guess.
 *
 * With cursor_meta the relay passes the source's cursor on as metadata instead of drawing it:
 * every checked frame must then come with a visible cursor at the position
 * cr_verify_map_cursor() gives for the recovered frame number, with cursor-pattern.h's
 * hotspot and, when a bitmap is attached, its bitmap, unscaled. A wrong cursor makes the
 * frame mismatched.
 *
 * No PipeWire in here: the caller hands over mapped frames. Single-threaded.
 */
#include <stdbool.h>
#include <stdint.h>

#include "cr-params.h"
#include "cursor-pattern.h"
#include "dmabuf.h"
#include "frame.h"

/** What the relay is expected to have done to the source. */
struct cr_verify_options {
	uint32_t src_width;   /* the test source, pixels */
	uint32_t src_height;
	/* the source's format (pattern-frame.h), NULL: an 8-bit packed one (all give the same
	 * picture); NV12 with the matrix and range the source announced */
	const struct cr_format_info *src_format;
	enum cr_color_matrix src_matrix;
	bool src_full_range;
	uint32_t crop[4];     /* x, y, w, h in source pixels; w == 0: the whole source */
	uint32_t transform;   /* CR_TRANSFORM_* */
	uint32_t n_redact;    /* up to CR_MAX_REDACT rectangles filled with opaque black */
	uint32_t redact[CR_MAX_REDACT][4]; /* x, y, w, h in source pixels */
	bool cursor;          /* cursor-pattern.h's cursor is embedded */
	bool cursor_meta;     /* it comes as metadata (excludes cursor and a transform) */
	uint32_t tolerance;   /* largest difference allowed per channel or code, in the
			       * output's own codes (10-bit outputs: of 0..1023) */
};

/** Verification state and results; fields after the marker are read by the caller. */
struct cr_verify {
	struct cr_verify_options opt;
	struct cr_process_params params; /* for the current destination */
	struct cr_frame dst;             /* format, size and colour of the destination */
	bool have_dst;
	struct cr_plane_layout ref_layout;
	uint8_t *ref;          /* the expected frame, ref_layout.size bytes */
	const struct cr_format_info *src_fmt; /* opt.src_format, or BGRx */
	struct cr_plane_layout src_layout;    /* of src: tight, cr_format_plane_layout() */
	uint32_t *src;         /* pattern of frame src_frame in src_fmt, all planes */
	int src_frame;         /* frame number mod 256 held in src, -1 for none */
	uint32_t cursor[CR_CURSOR_PIXELS]; /* the cursor bitmap, CR_LAYOUT_RGBA */
	bool have_previous;
	uint8_t previous;      /* frame number mod 256 of the previous checked frame */
	uint32_t reported;     /* mismatch messages printed so far */

	/* results */
	uint32_t checked;           /* frames compared */
	uint32_t mismatched_frames; /* frames with at least one value off by > tolerance */
	uint32_t max_error;         /* largest difference seen */
	uint32_t stale;             /* matching frames whose number did not advance */
	uint32_t cursor_checked;    /* with cursor_meta: frames whose cursor was checked */
};

/**
 * The cursor metadata (SPA_META_Cursor) of one received frame, read by the caller; all of it
 * borrowed for the duration of cr_verify_frame().
 */
struct cr_verify_cursor {
	bool visible;                 /* id != 0 */
	int32_t x, y;                 /* position of the hotspot, output pixels */
	int32_t hotspot_x, hotspot_y; /* inside the bitmap */
	bool has_bitmap;              /* bitmap_offset != 0 */
	const struct cr_format_info *format; /* of the bitmap, NULL: one we do not handle */
	uint32_t width, height;       /* of the bitmap, pixels */
	uint32_t stride;              /* bytes */
	const uint8_t *pixels;        /* NULL when the bitmap does not fit inside the meta */
};

/**
 * Prepares @v for the expectations in @opt (copied). Returns false (with a message on stderr)
 * when the crop or a redaction rectangle does not fit the source, the transform is out of
 * range, cursor_meta comes with cursor or a transform, or memory runs out; @v then needs no
 * finish.
 */
bool cr_verify_init(struct cr_verify *v, const struct cr_verify_options *opt);

/** Frees what cr_verify_init() and cr_verify_set_destination() allocated. */
void cr_verify_finish(struct cr_verify *v);

/**
 * A source of @width x @height from now on (a relay without crop or scale follows its
 * source's size, so the received size is the source's): the options stay, the whole new
 * source is the crop, and the results and the previous frame number are kept, so a frame
 * that goes back is stale across the change too. Call cr_verify_set_destination() after it.
 * For options without crop, redaction or cursor (they would not fit every size). Returns
 * false (message on stderr) when memory runs out; @v is unchanged then.
 */
bool cr_verify_set_source_size(struct cr_verify *v, uint32_t width, uint32_t height);

/**
 * Sets the received format, size and colour description from @format (its fmt, width,
 * height and colour fields; the rest is ignored). Call on every format change. Returns false
 * (message on stderr) when memory runs out; frames are then not checked.
 */
bool cr_verify_set_destination(struct cr_verify *v, const struct cr_frame *format);

/**
 * Verifies one received frame (@frame: same format and size as the destination, planes and
 * data filled in, the data borrowed) and, with cursor_meta, its cursor metadata (@cursor,
 * borrowed; NULL when the buffer carried none; ignored without cursor_meta). Updates the
 * results; prints the first few mismatches on stderr. Does nothing before
 * cr_verify_set_destination() succeeded.
 */
void cr_verify_frame(struct cr_verify *v, const struct cr_frame *frame,
		     const struct cr_verify_cursor *cursor);

/**
 * Maps the cursor position (@src_x, @src_y) of the source, in source pixels, into a
 * @dst_width x @dst_height output of the source rectangle @crop (x, y, w, h; w, h > 0) as a
 * relay passing the cursor on as metadata does: (src - crop origin) * output size / crop
 * size on each axis, the 64-bit product divided with truncation towards zero. No transform.
 * Pure; exposed for tests.
 */
void cr_verify_map_cursor(const uint32_t crop[4], uint32_t dst_width, uint32_t dst_height,
			  int32_t src_x, int32_t src_y, int32_t *x, int32_t *y);

/**
 * Recovers the frame number (mod 256) of @frame as described above; exposed for tests.
 * Leaves the source picture of the result in v->src.
 */
uint8_t cr_verify_identify(struct cr_verify *v, const struct cr_frame *frame);
