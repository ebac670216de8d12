/* SPDX-License-Identifier: MIT */
#pragma once
/**
 * Checks received frames of the castrelay test pattern (pattern.h) against the CPU reference
 * of the crop + scale kernel (src/core/reference.h), and checks that they are fresh.
 *
 * The frame number of a received frame is read from the R channel of its centre pixel (R is
 * constant over a frame, so it survives crop and scaling exactly); the source picture of that
 * frame is regenerated (cached for the last frame number) and every destination pixel is
 * compared channel by channel with cr_reference_scale_pixel(). No PipeWire in here: the
 * caller hands over mapped pixels. Single-threaded.
 */
#include <stdbool.h>
#include <stdint.h>

#include "cr-params.h"

/** Verification state and results; fields after the marker are read by the caller. */
struct cr_verify {
	struct cr_scale_params params;
	uint32_t tolerance;
	int dst_offsets[4];
	bool dst_alpha;
	bool have_dst;
	uint32_t *src;      /* pattern of frame src_frame, src_width * src_height pixels */
	int src_frame;      /* frame number mod 256 held in src, -1 for none */
	bool have_previous;
	uint8_t previous;   /* frame number mod 256 of the previous checked frame */
	uint32_t reported;  /* mismatch messages printed so far */

	/* results */
	uint32_t checked;           /* frames compared */
	uint32_t mismatched_frames; /* frames with at least one channel off by > tolerance */
	uint32_t max_error;         /* largest channel difference seen */
	uint32_t stale;             /* frames whose number did not advance */
};

/**
 * Prepares @v for a source of @src_width x @src_height pixels cropped to @crop (x, y, w, h;
 * NULL = the whole source) and a per-channel @tolerance. Returns false (with a message on
 * stderr) when the crop does not fit the source or memory runs out; @v then needs no finish.
 */
bool cr_verify_init(struct cr_verify *v, uint32_t src_width, uint32_t src_height,
		    const uint32_t crop[4], uint32_t tolerance);

/** Frees what cr_verify_init() allocated. */
void cr_verify_finish(struct cr_verify *v);

/** Sets the received size and CR_LAYOUT_* layout; call on every format change. */
void cr_verify_set_destination(struct cr_verify *v, uint32_t width, uint32_t height,
			       uint32_t layout);

/**
 * Verifies one received frame: @pixels (borrowed) holds the destination height rows, @stride
 * bytes apart, each at least width * 4 bytes. Updates the results; prints the first few
 * mismatches on stderr. Does nothing before cr_verify_set_destination().
 */
void cr_verify_frame(struct cr_verify *v, const uint8_t *pixels, uint32_t stride);
