/* SPDX-License-Identifier: MIT */
#include "pattern-frame.h"

#include <math.h>
#include <string.h>

#include "cr-params.h"
#include "pattern.h"
#include "reference.h"

#define PADDING 0x5a

static uint8_t code(float v)
{
	return (uint8_t)floorf((v < 0.0f ? 0.0f : (v > 255.0f ? 255.0f : v)) + 0.5f);
}

static float dot_row(const float row[4], const float rgb[3])
{
	return row[0] * rgb[0] + row[1] * rgb[1] + row[2] * rgb[2] + row[3];
}

static void fill_packed(const struct cr_format_info *fmt, uint32_t width, uint32_t height,
			uint64_t frame, uint8_t *dst, uint32_t stride)
{
	int off[4], sh[3];
	bool ten = fmt->depth == 10;
	cr_reference_layout_offsets(fmt->layout, off);
	cr_reference_layout_shifts10(fmt->layout, sh);
	for (uint32_t y = 0; y < height; y++) {
		uint8_t *row = dst + (size_t)y * stride;
		for (uint32_t x = 0; x < width; x++) {
			uint8_t rgba[4];
			cr_pattern_rgba(x, y, frame, rgba);
			if (!ten) {
				for (int c = 0; c < 4; c++)
					row[x * 4 + off[c]] = rgba[c];
				continue;
			}
			uint32_t c10[3] = {
				((uint32_t)rgba[0] << 2) | (rgba[0] >> 6),
				((uint32_t)rgba[1] << 2) | (x & 3),
				((uint32_t)rgba[2] << 2) | (y & 3),
			};
			uint32_t word = 3u << 30;
			for (int c = 0; c < 3; c++)
				word |= c10[c] << sh[c];
			for (int b = 0; b < 4; b++)
				row[x * 4 + b] = (uint8_t)(word >> (8 * b));
		}
		memset(row + (size_t)width * 4, PADDING, stride - (size_t)width * 4);
	}
}

static void pixel_rgb(uint32_t x, uint32_t y, uint32_t width, uint32_t height, uint64_t frame,
		      float rgb[3])
{
	uint8_t rgba[4];
	cr_pattern_rgba(x < width ? x : width - 1, y < height ? y : height - 1, frame, rgba);
	for (int c = 0; c < 3; c++)
		rgb[c] = (float)rgba[c];
}

static void fill_nv12(uint32_t width, uint32_t height, uint64_t frame,
		      enum cr_color_matrix matrix, bool full_range, uint8_t *const planes[2],
		      const uint32_t strides[2])
{
	float ry[4], ru[4], rv[4];
	cr_color_yuv_rows(matrix, full_range, ry, ru, rv);
	for (uint32_t y = 0; y < height; y++) {
		uint8_t *row = planes[0] + (size_t)y * strides[0];
		for (uint32_t x = 0; x < width; x++) {
			float rgb[3];
			pixel_rgb(x, y, width, height, frame, rgb);
			row[x] = code(dot_row(ry, rgb));
		}
		memset(row + width, PADDING, strides[0] - width);
	}
	uint32_t cw = (width + 1) / 2, ch = (height + 1) / 2;
	for (uint32_t j = 0; j < ch; j++) {
		uint8_t *row = planes[1] + (size_t)j * strides[1];
		for (uint32_t i = 0; i < cw; i++) {
			float avg[3] = { 0 }, rgb[3];
			for (uint32_t k = 0; k < 4; k++) {
				pixel_rgb(2 * i + k % 2, 2 * j + k / 2, width, height, frame, rgb);
				for (int c = 0; c < 3; c++)
					avg[c] += rgb[c] * 0.25f;
			}
			row[2 * i] = code(dot_row(ru, avg));
			row[2 * i + 1] = code(dot_row(rv, avg));
		}
		memset(row + 2 * cw, PADDING, strides[1] - 2 * cw);
	}
}

void cr_pattern_frame_fill(const struct cr_format_info *fmt, uint32_t width, uint32_t height,
			   uint64_t frame, enum cr_color_matrix matrix, bool full_range,
			   uint8_t *const planes[2], const uint32_t strides[2])
{
	if (fmt->out_kind == CR_OUT_NV12)
		fill_nv12(width, height, frame, matrix, full_range, planes, strides);
	else
		fill_packed(fmt, width, height, frame, planes[0], strides[0]);
}
