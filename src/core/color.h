/* SPDX-License-Identifier: MIT */
#pragma once
/**
 * Colour conversion constants: RGB to Y'CbCr matrices for BT.601 and BT.709, limited
 * ("video", 16-235/240) or full (0-255) range, as rows the kernel evaluates as
 * code = dot(row.xyz, rgb) + row.w with rgb and codes in 0..255.
 */
#include <stdbool.h>

enum cr_color_matrix {
	CR_COLOR_BT601,
	CR_COLOR_BT709,
};

/** Fills the Y, U and V rows for @matrix and @full_range. */
void cr_color_yuv_rows(enum cr_color_matrix matrix, bool full_range, float y[4], float u[4],
		       float v[4]);

/**
 * Fills the rows converting Y, U, V codes back to R, G, B (0..255) for @matrix and
 * @full_range: the exact inverse of cr_color_yuv_rows(), as c = dot(row.xyz, yuv) + row.w.
 */
void cr_color_rgb_rows(enum cr_color_matrix matrix, bool full_range, float r[4], float g[4],
		       float b[4]);

/** "bt601" / "bt709". */
const char *cr_color_matrix_name(enum cr_color_matrix matrix);
