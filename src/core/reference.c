/* SPDX-License-Identifier: MIT */
#include "reference.h"

#include <math.h>

void cr_reference_layout_offsets(uint32_t layout, int offsets[4])
{
	bool bgr = layout == CR_LAYOUT_BGRX || layout == CR_LAYOUT_BGRA;
	offsets[0] = bgr ? 2 : 0;
	offsets[1] = 1;
	offsets[2] = bgr ? 0 : 2;
	offsets[3] = 3;
}

bool cr_reference_layout_has_alpha(uint32_t layout)
{
	return layout == CR_LAYOUT_BGRA || layout == CR_LAYOUT_RGBA;
}

float cr_reference_sample_pos(uint32_t d, uint32_t crop_origin, uint32_t crop_len, uint32_t dst_len)
{
	float s = (float)crop_origin + ((float)d + 0.5f) * (float)crop_len / (float)dst_len - 0.5f;
	float lo = (float)crop_origin, hi = (float)(crop_origin + crop_len - 1);
	return s < lo ? lo : (s > hi ? hi : s);
}

static void unpack(uint32_t px, uint32_t layout, float rgba[4])
{
	int off[4];
	cr_reference_layout_offsets(layout, off);
	for (int c = 0; c < 4; c++)
		rgba[c] = (float)((px >> (8 * off[c])) & 0xff);
	if (!cr_reference_layout_has_alpha(layout))
		rgba[3] = 255.0f;
}

void cr_reference_scale_pixel(const struct cr_scale_params *p, const uint32_t *src,
			      uint32_t dx, uint32_t dy, uint8_t rgba[4])
{
	float sx = cr_reference_sample_pos(dx, p->crop_x, p->crop_w, p->dst_width);
	float sy = cr_reference_sample_pos(dy, p->crop_y, p->crop_h, p->dst_height);
	uint32_t x0 = (uint32_t)floorf(sx), y0 = (uint32_t)floorf(sy);
	uint32_t x1 = x0 + 1 < p->crop_x + p->crop_w ? x0 + 1 : x0;
	uint32_t y1 = y0 + 1 < p->crop_y + p->crop_h ? y0 + 1 : y0;
	float fx = sx - (float)x0, fy = sy - (float)y0;
	const uint32_t *base = src + p->src_offset;
	float a[4], b[4], c[4], d[4];
	unpack(base[y0 * p->src_stride + x0], p->src_layout, a);
	unpack(base[y0 * p->src_stride + x1], p->src_layout, b);
	unpack(base[y1 * p->src_stride + x0], p->src_layout, c);
	unpack(base[y1 * p->src_stride + x1], p->src_layout, d);
	for (int i = 0; i < 4; i++) {
		float top = a[i] + (b[i] - a[i]) * fx;
		float bot = c[i] + (d[i] - c[i]) * fx;
		float v = top + (bot - top) * fy;
		rgba[i] = (uint8_t)floorf(v + 0.5f);
	}
	if (!cr_reference_layout_has_alpha(p->dst_layout))
		rgba[3] = 0xff;
}

void cr_reference_scale(const struct cr_scale_params *p, const uint32_t *src, uint32_t *dst)
{
	int off[4];
	cr_reference_layout_offsets(p->dst_layout, off);
	for (uint32_t y = 0; y < p->dst_height; y++) {
		for (uint32_t x = 0; x < p->dst_width; x++) {
			uint8_t rgba[4];
			cr_reference_scale_pixel(p, src, x, y, rgba);
			uint32_t px = 0;
			for (int c = 0; c < 4; c++)
				px |= (uint32_t)rgba[c] << (8 * off[c]);
			dst[y * p->dst_stride + x] = px;
		}
	}
}
