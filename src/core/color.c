/* SPDX-License-Identifier: MIT */
#include "color.h"

void cr_color_yuv_rows(enum cr_color_matrix matrix, bool full_range, float y[4], float u[4],
		       float v[4])
{
	/* Kr, Kb from ITU-R BT.601 and BT.709; Kg = 1 - Kr - Kb. */
	float kr = matrix == CR_COLOR_BT709 ? 0.2126f : 0.299f;
	float kb = matrix == CR_COLOR_BT709 ? 0.0722f : 0.114f;
	float kg = 1.0f - kr - kb;
	float ys = full_range ? 1.0f : 219.0f / 255.0f;
	float cs = full_range ? 1.0f : 224.0f / 255.0f;
	float yo = full_range ? 0.0f : 16.0f;
	y[0] = kr * ys;
	y[1] = kg * ys;
	y[2] = kb * ys;
	y[3] = yo;
	/* Cb = (B - Y) / (2 (1 - Kb)), Cr = (R - Y) / (2 (1 - Kr)), centred on 128. */
	float cb = cs / (2.0f * (1.0f - kb)), cr = cs / (2.0f * (1.0f - kr));
	u[0] = -kr * cb;
	u[1] = -kg * cb;
	u[2] = (1.0f - kb) * cb;
	u[3] = 128.0f;
	v[0] = (1.0f - kr) * cr;
	v[1] = -kg * cr;
	v[2] = -kb * cr;
	v[3] = 128.0f;
}

const char *cr_color_matrix_name(enum cr_color_matrix matrix)
{
	return matrix == CR_COLOR_BT709 ? "bt709" : "bt601";
}
