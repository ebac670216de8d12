/* SPDX-License-Identifier: MIT */
#pragma once
/**
 * A received video frame as the test tools see it: format, size, colour description and
 * where its planes lie in one mapped block. Packed formats (BGRx, RGBx, BGRA, RGBA and the
 * 10-bit xRGB_210LE, xBGR_210LE) have one plane of 32-bit pixels; NV12 and I420 have a Y
 * plane and chroma at half resolution, laid out as GStreamer's default layout (what
 * castrelayd publishes in one spa_data block, with the chunk stride being the Y stride). Also an approximate YUV to RGB conversion, good
 * enough for a person looking at a PNG and for guessing the frame number of the test
 * pattern. No PipeWire in here. Pure functions; usable from any thread.
 */
#include <stdbool.h>
#include <stdint.h>

#include "color.h"
#include "dmabuf.h"

struct cr_frame {
	const struct cr_format_info *fmt; /* borrowed, from cr_format_info_from_name() */
	uint32_t width;
	uint32_t height;
	/* planar formats: the colour description the producer announced */
	bool color_known;             /* false: it announced none (to_rgb assumes BT.601) */
	enum cr_color_matrix matrix;
	bool full_range;
	float to_rgb[3][4];           /* R, G, B = row.xyz . (Y, U, V) + row.w; by set_color */
	/* per frame */
	struct cr_plane_layout planes;
	const uint8_t *data;          /* borrowed: plane offsets count from here */
};

/**
 * Sets the colour description of @f and its to_rgb rows (the exact inverse of
 * cr_color_yuv_rows()). @known false stores "unknown" and uses BT.601 limited range for the
 * rows.
 */
void cr_frame_set_color(struct cr_frame *f, bool known, enum cr_color_matrix matrix,
			bool full_range);

/**
 * The plane layout of a @width x @height frame of @fmt whose first plane has rows @stride
 * bytes apart (0: the default, cr_format_plane_layout()). Planar chroma planes follow
 * GStreamer's derivation from the Y stride: NV12's UV plane has the Y stride, I420's U and V
 * planes have round_up_4(ceil(stride / 2)); they start after round_up_2(height) Y rows (V
 * after ceil(height / 2) U rows). For the default stride this is cr_format_plane_layout().
 * Returns false when @stride is shorter than a row.
 */
bool cr_frame_layout(const struct cr_format_info *fmt, uint32_t width, uint32_t height,
		     uint32_t stride, struct cr_plane_layout *layout);

/**
 * Bytes from the start of the block to one past the last byte a reader of the visible pixels
 * touches (smaller than layout->size: row padding after the last row is not needed).
 */
uint64_t cr_frame_extent(const struct cr_format_info *fmt, uint32_t width, uint32_t height,
			 const struct cr_plane_layout *layout);

/** Width and height of the chroma planes of a planar @width x @height frame (rounded up). */
static inline uint32_t cr_frame_chroma_size(uint32_t size)
{
	return (size + 1) / 2;
}

/**
 * Y, U, V codes of pixel (@x, @y) of a planar frame (U, V of the 2x2 block it lies in).
 * Only for planar formats.
 */
void cr_frame_yuv(const struct cr_frame *f, uint32_t x, uint32_t y, uint8_t yuv[3]);

/**
 * R, G, B of pixel (@x, @y): exact for 8-bit packed formats, rounded to 8 bits for 10-bit ones
 * (c * 255 / 1023), converted with f->to_rgb (rounded and clamped) for planar ones.
 */
void cr_frame_rgb(const struct cr_frame *f, uint32_t x, uint32_t y, uint8_t rgb[3]);

/** Converts the whole frame into @rgb: height rows of width * 3 bytes, no padding. */
void cr_frame_to_rgb(const struct cr_frame *f, uint8_t *rgb);
