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

void cr_color_rgb_rows(enum cr_color_matrix matrix, bool full_range, float r[4], float g[4],
		       float b[4])
{
	float a[3][4];
	float *out[3] = { r, g, b };
	cr_color_yuv_rows(matrix, full_range, a[0], a[1], a[2]);

	/* code = A rgb + o, so rgb = A^-1 code - A^-1 o; A^-1 by cofactors. */
	float det = a[0][0] * (a[1][1] * a[2][2] - a[1][2] * a[2][1]) -
		    a[0][1] * (a[1][0] * a[2][2] - a[1][2] * a[2][0]) +
		    a[0][2] * (a[1][0] * a[2][1] - a[1][1] * a[2][0]);
	for (int i = 0; i < 3; i++) {
		for (int j = 0; j < 3; j++) {
			/* inverse[i][j] = cofactor[j][i] / det */
			int r0 = (j + 1) % 3, r1 = (j + 2) % 3, c0 = (i + 1) % 3, c1 = (i + 2) % 3;
			out[i][j] = (a[r0][c0] * a[r1][c1] - a[r0][c1] * a[r1][c0]) / det;
		}
		out[i][3] = -(out[i][0] * a[0][3] + out[i][1] * a[1][3] + out[i][2] * a[2][3]);
	}
}

const char *cr_color_matrix_name(enum cr_color_matrix matrix)
{
	return matrix == CR_COLOR_BT709 ? "bt709" : "bt601";
}
