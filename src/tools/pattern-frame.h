/* SPDX-License-Identifier: MIT */
#pragma once
/**
 * The test pattern (pattern.h) as a whole source frame in any format castrelayd reads: what
 * castrelay-testsrc sends, and what castrelay-sink --verify regenerates to run the CPU
 * reference on. Deterministic, so that both sides produce the same bytes:
 *
 * - 8-bit packed (BGRx, RGBx, BGRA, RGBA): the pattern's bytes in the format's order.
 * - 10-bit packed (xRGB_210LE, xBGR_210LE): R10 = (R << 2) | (R >> 6), G10 = (G << 2) | (x & 3),
 *   B10 = (B << 2) | (y & 3), the 2 unused bits set. The top 8 bits are the 8-bit pattern (so
 *   an 8-bit output still shows R = frame), the low bits fine detail that only a path keeping
 *   10 bits carries into a 10-bit output.
 * - NV12: Y of each pixel and U, V of the average colour of each 2x2 block (edge pixels
 *   repeated for odd sizes), with the rows of cr_color_yuv_rows() for the given matrix and
 *   range, rounded to the nearest code, as the kernel converts.
 *
 * Pure; no PipeWire.
 */
#include <stdbool.h>
#include <stdint.h>

#include "color.h"
#include "dmabuf.h"

/**
 * Fills frame @frame of the pattern, @width x @height in @fmt (a readable format, see
 * cr_format_info.readable): plane i at @planes[i] with rows @strides[i] bytes apart (NV12:
 * two planes; packed: one). Row padding up to the stride is filled with 0x5a (recognisable in
 * a picture when a consumer ignores the stride). @matrix and @full_range are used for NV12.
 */
void cr_pattern_frame_fill(const struct cr_format_info *fmt, uint32_t width, uint32_t height,
			   uint64_t frame, enum cr_color_matrix matrix, bool full_range,
			   uint8_t *const planes[2], const uint32_t strides[2]);
