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

static float clampf(float x, float lo, float hi)
{
	return x < lo ? lo : (x > hi ? hi : x);
}

bool cr_reference_layout_has_alpha(uint32_t layout)
{
	return layout == CR_LAYOUT_BGRA || layout == CR_LAYOUT_RGBA;
}

uint32_t cr_reference_choose_filter(const struct cr_process_params *p)
{
	bool swap = p->transform & 1u;
	uint32_t out_w = swap ? p->dst_height : p->dst_width;
	uint32_t out_h = swap ? p->dst_width : p->dst_height;
	bool down = p->crop_w >= out_w && p->crop_h >= out_h;
	bool big = p->crop_w > 2 * out_w || p->crop_h > 2 * out_h;
	return down && big ? CR_FILTER_BOX : CR_FILTER_BILINEAR;
}

bool cr_reference_layout_is_10bit(uint32_t layout)
{
	return layout == CR_LAYOUT_XRGB2101010 || layout == CR_LAYOUT_XBGR2101010;
}

void cr_reference_layout_shifts10(uint32_t layout, int shifts[3])
{
	bool bgr = layout == CR_LAYOUT_XBGR2101010;
	shifts[0] = bgr ? 0 : 20;
	shifts[1] = 10;
	shifts[2] = bgr ? 20 : 0;
}

float cr_reference_unorm10(uint32_t code)
{
	return (float)code * (255.0f / 1023.0f);
}

uint32_t cr_reference_code10(float v)
{
	return (uint32_t)floorf(clampf(v * (1023.0f / 255.0f), 0.0f, 1023.0f) + 0.5f);
}

static void unpack(uint32_t px, uint32_t layout, float rgba[4])
{
	if (cr_reference_layout_is_10bit(layout)) {
		int sh[3];
		cr_reference_layout_shifts10(layout, sh);
		for (int c = 0; c < 3; c++)
			rgba[c] = cr_reference_unorm10((px >> sh[c]) & 0x3ffu);
		rgba[3] = 255.0f;
		return;
	}
	int off[4];
	cr_reference_layout_offsets(layout, off);
	for (int c = 0; c < 4; c++)
		rgba[c] = (float)((px >> (8 * off[c])) & 0xff);
	if (!cr_reference_layout_has_alpha(layout))
		rgba[3] = 255.0f;
}

static float dot_row(const float row[4], const float v[4])
{
	return row[0] * v[0] + row[1] * v[1] + row[2] * v[2] + row[3];
}

/* The source pixel (x, y) before cursor and redaction: a packed pixel, or an NV12 one
 * converted to RGB with the chroma sample of its 2x2 block. */
static void source_pixel(const struct cr_process_params *p, const uint32_t *const *src,
			 uint32_t x, uint32_t y, float c[4])
{
	if (p->src_kind != CR_OUT_NV12) {
		unpack(src[0][p->src_offset + y * p->src_stride + x], p->src_layout, c);
		return;
	}
	const uint8_t *luma = (const uint8_t *)src[0], *chroma = (const uint8_t *)src[1];
	uint32_t at = p->src_offset1 + y / 2 * p->src_stride1 + x / 2 * 2;
	float yuv[4] = { (float)luma[p->src_offset + y * p->src_stride + x], (float)chroma[at],
			 (float)chroma[at + 1], 0.0f };
	c[0] = clampf(dot_row(p->rgb_r, yuv), 0.0f, 255.0f);
	c[1] = clampf(dot_row(p->rgb_g, yuv), 0.0f, 255.0f);
	c[2] = clampf(dot_row(p->rgb_b, yuv), 0.0f, 255.0f);
	c[3] = 255.0f;
}

static void raw_texel(const struct cr_process_params *p, const uint32_t *const *src,
		      const uint32_t *cursor, uint32_t x, uint32_t y, float c[4])
{
	source_pixel(p, src, x, y, c);
	if (!p->cursor_enabled)
		return;
	int32_t cx = (int32_t)x - p->cursor_x, cy = (int32_t)y - p->cursor_y;
	if (cx < 0 || cy < 0 || cx >= (int32_t)p->cursor_w || cy >= (int32_t)p->cursor_h)
		return;
	float k[4];
	unpack(cursor[(uint32_t)cy * p->cursor_stride + (uint32_t)cx], p->cursor_layout, k);
	float a = k[3] / 255.0f;
	for (int i = 0; i < 3; i++)
		c[i] = k[i] * a + c[i] * (1.0f - a);
}

/* One source texel as the kernel sees it: cursor composited, redaction applied last so that
 * nothing inside a redacted rectangle (the cursor included) leaves the machine. */
static void texel(const struct cr_process_params *p, const uint32_t *const *src,
		  const uint32_t *cursor, uint32_t x, uint32_t y, float c[4])
{
	for (uint32_t i = 0; i < p->n_redact; i++) {
		const uint32_t *r = p->redact[i];
		if (x < r[0] || y < r[1] || x - r[0] >= r[2] || y - r[1] >= r[3])
			continue;
		if (p->redact_mode == CR_REDACT_PIXELATE) {
			uint32_t n = p->redact_block ? p->redact_block : 1;
			raw_texel(p, src, cursor, r[0] + (x - r[0]) / n * n,
				  r[1] + (y - r[1]) / n * n, c);
		} else {
			for (int k = 0; k < 4; k++)
				c[k] = (float)((p->redact_color >> (8 * k)) & 0xff);
		}
		return;
	}
	raw_texel(p, src, cursor, x, y, c);
}

/*
 * Transforms: output position (u, v) = (u_num / w, v_num / h) to crop-normalised (s, t), kept
 * as numerator and denominator so that the untransformed mapping is the exact
 * origin + (d + 0.5) * len / dst - 0.5 (no rounding from normalising first).
 */
struct ratio {
	float num, den;
};

static void transform_point(uint32_t transform, float u, float v, float w, float h,
			    struct ratio *s, struct ratio *t)
{
	switch (transform & 7u) {
	case CR_TRANSFORM_90: *s = (struct ratio){ h - v, h }; *t = (struct ratio){ u, w }; break;
	case CR_TRANSFORM_180: *s = (struct ratio){ w - u, w }; *t = (struct ratio){ h - v, h }; break;
	case CR_TRANSFORM_270: *s = (struct ratio){ v, h }; *t = (struct ratio){ w - u, w }; break;
	case CR_TRANSFORM_FLIPPED: *s = (struct ratio){ w - u, w }; *t = (struct ratio){ v, h }; break;
	case CR_TRANSFORM_FLIPPED_90: *s = (struct ratio){ v, h }; *t = (struct ratio){ u, w }; break;
	case CR_TRANSFORM_FLIPPED_180: *s = (struct ratio){ u, w }; *t = (struct ratio){ h - v, h }; break;
	case CR_TRANSFORM_FLIPPED_270:
		*s = (struct ratio){ h - v, h };
		*t = (struct ratio){ w - u, w };
		break;
	default: *s = (struct ratio){ u, w }; *t = (struct ratio){ v, h }; break;
	}
}

/* Source coordinate of crop-normalised @r, in source pixels (texel i covers [i, i + 1)). */
static float crop_coord(struct ratio r, uint32_t origin, uint32_t len)
{
	return (float)origin + r.num * (float)len / r.den;
}

/* Bilinear sample position of @r: texel centres sit at +0.5; clamped to the edge texels. */
static float source_pos(struct ratio r, uint32_t origin, uint32_t len)
{
	return clampf(crop_coord(r, origin, len) - 0.5f, (float)origin, (float)(origin + len - 1));
}

float cr_reference_sample_pos(uint32_t d, uint32_t crop_origin, uint32_t crop_len, uint32_t dst_len)
{
	return source_pos((struct ratio){ (float)d + 0.5f, (float)dst_len }, crop_origin, crop_len);
}

static void bilinear(const struct cr_process_params *p, const uint32_t *const *src,
		     const uint32_t *cursor, struct ratio s, struct ratio t, float out[4])
{
	float sx = source_pos(s, p->crop_x, p->crop_w);
	float sy = source_pos(t, p->crop_y, p->crop_h);
	uint32_t x0 = (uint32_t)floorf(sx), y0 = (uint32_t)floorf(sy);
	uint32_t x1 = x0 + 1 < p->crop_x + p->crop_w ? x0 + 1 : x0;
	uint32_t y1 = y0 + 1 < p->crop_y + p->crop_h ? y0 + 1 : y0;
	float fx = sx - (float)x0, fy = sy - (float)y0;
	float a[4], b[4], c[4], d[4];
	texel(p, src, cursor, x0, y0, a);
	texel(p, src, cursor, x1, y0, b);
	texel(p, src, cursor, x0, y1, c);
	texel(p, src, cursor, x1, y1, d);
	for (int i = 0; i < 4; i++) {
		float top = a[i] + (b[i] - a[i]) * fx;
		float bot = c[i] + (d[i] - c[i]) * fx;
		out[i] = top + (bot - top) * fy;
	}
}

static void box(const struct cr_process_params *p, const uint32_t *const *src,
		const uint32_t *cursor, struct ratio s0, struct ratio s1, struct ratio t0,
		struct ratio t1, float out[4])
{
	float xa = crop_coord(s0, p->crop_x, p->crop_w), xb = crop_coord(s1, p->crop_x, p->crop_w);
	float ya = crop_coord(t0, p->crop_y, p->crop_h), yb = crop_coord(t1, p->crop_y, p->crop_h);
	float x0 = fminf(xa, xb), x1 = fmaxf(xa, xb), y0 = fminf(ya, yb), y1 = fmaxf(ya, yb);
	uint32_t ix0 = (uint32_t)floorf(x0), iy0 = (uint32_t)floorf(y0);
	uint32_t ix1 = (uint32_t)ceilf(x1), iy1 = (uint32_t)ceilf(y1);
	ix1 = ix1 > p->crop_x + p->crop_w ? p->crop_x + p->crop_w : ix1;
	iy1 = iy1 > p->crop_y + p->crop_h ? p->crop_y + p->crop_h : iy1;
	float sum[4] = { 0 }, total = 0.0f;
	for (uint32_t y = iy0; y < iy1; y++) {
		float wy = fminf((float)y + 1.0f, y1) - fmaxf((float)y, y0);
		for (uint32_t x = ix0; x < ix1; x++) {
			float w = wy * (fminf((float)x + 1.0f, x1) - fmaxf((float)x, x0));
			float c[4];
			texel(p, src, cursor, x, y, c);
			for (int i = 0; i < 4; i++)
				sum[i] += c[i] * w;
			total += w;
		}
	}
	for (int i = 0; i < 4; i++)
		out[i] = total > 0.0f ? sum[i] / total : 0.0f;
}

void cr_reference_rgba_planes(const struct cr_process_params *p, const uint32_t *const src[2],
			      const uint32_t *cursor, uint32_t dx, uint32_t dy, float rgba[4])
{
	float w = (float)p->dst_width, h = (float)p->dst_height;
	struct ratio s, t;
	if (p->filter_mode == CR_FILTER_BOX) {
		struct ratio s1, t1;
		transform_point(p->transform, (float)dx, (float)dy, w, h, &s, &t);
		transform_point(p->transform, (float)dx + 1.0f, (float)dy + 1.0f, w, h, &s1, &t1);
		box(p, src, cursor, s, s1, t, t1, rgba);
	} else {
		transform_point(p->transform, (float)dx + 0.5f, (float)dy + 0.5f, w, h, &s, &t);
		bilinear(p, src, cursor, s, t, rgba);
	}
}

static uint8_t code(float v)
{
	return (uint8_t)floorf(clampf(v, 0.0f, 255.0f) + 0.5f);
}

static void planar_block(const struct cr_process_params *p, const uint32_t *const *src,
			 const uint32_t *cursor, uint32_t bx, uint32_t by, uint8_t *dst)
{
	float rgb[2][CR_PLANAR_BLOCK_W][4];
	for (uint32_t r = 0; r < CR_PLANAR_BLOCK_H; r++) {
		uint32_t y = by * CR_PLANAR_BLOCK_H + r;
		uint32_t yc = y < p->dst_height ? y : p->dst_height - 1;
		for (uint32_t i = 0; i < CR_PLANAR_BLOCK_W; i++) {
			uint32_t x = bx * CR_PLANAR_BLOCK_W + i;
			uint32_t xc = x < p->dst_width ? x : p->dst_width - 1;
			cr_reference_rgba_planes(p, src, cursor, xc, yc, rgb[r][i]);
			uint64_t at = (uint64_t)y * p->dst_stride + x;
			/* Whole 32-bit words inside the row, as the kernel writes them. */
			if (y < p->dst_height && (bx * CR_PLANAR_BLOCK_W + (i & ~3u)) < p->dst_stride)
				dst[at] = code(dot_row(p->yuv_y, rgb[r][i]));
		}
	}
	for (uint32_t k = 0; k < CR_PLANAR_BLOCK_W / 2; k++) {
		float avg[4];
		for (int c = 0; c < 4; c++)
			avg[c] = (rgb[0][2 * k][c] + rgb[0][2 * k + 1][c] + rgb[1][2 * k][c] +
				  rgb[1][2 * k + 1][c]) * 0.25f;
		uint8_t u = code(dot_row(p->yuv_u, avg)), v = code(dot_row(p->yuv_v, avg));
		if (p->out_kind == CR_OUT_NV12) {
			uint32_t col = bx * CR_PLANAR_BLOCK_W + 2 * k;
			if ((col & ~3u) < p->dst_stride1) {
				uint64_t at = p->dst_offset1 + (uint64_t)by * p->dst_stride1 + col;
				dst[at] = u;
				dst[at + 1] = v;
			}
		} else {
			uint32_t col = bx * CR_PLANAR_BLOCK_W / 2 + k;
			if ((col & ~3u) < p->dst_stride1) {
				dst[p->dst_offset1 + (uint64_t)by * p->dst_stride1 + col] = u;
				dst[p->dst_offset2 + (uint64_t)by * p->dst_stride2 + col] = v;
			}
		}
	}
}

void cr_reference_process_planes(const struct cr_process_params *p, const uint32_t *const src[2],
				 const uint32_t *cursor, uint8_t *dst)
{
	if (p->out_kind != CR_OUT_PACKED) {
		uint32_t bw = (p->dst_width + CR_PLANAR_BLOCK_W - 1) / CR_PLANAR_BLOCK_W;
		uint32_t bh = (p->dst_height + CR_PLANAR_BLOCK_H - 1) / CR_PLANAR_BLOCK_H;
		for (uint32_t by = 0; by < bh; by++)
			for (uint32_t bx = 0; bx < bw; bx++)
				planar_block(p, src, cursor, bx, by, dst);
		return;
	}
	int off[4], sh[3];
	bool ten = cr_reference_layout_is_10bit(p->dst_layout);
	cr_reference_layout_offsets(p->dst_layout, off);
	cr_reference_layout_shifts10(p->dst_layout, sh);
	bool alpha = cr_reference_layout_has_alpha(p->dst_layout);
	for (uint32_t y = 0; y < p->dst_height; y++) {
		for (uint32_t x = 0; x < p->dst_width; x++) {
			float rgba[4];
			cr_reference_rgba_planes(p, src, cursor, x, y, rgba);
			if (!alpha)
				rgba[3] = 255.0f;
			uint8_t *px = dst + ((uint64_t)y * p->dst_stride + x) * 4;
			if (ten) {
				/* The unused top bits are written as ones (opaque). */
				uint32_t word = 3u << 30;
				for (int c = 0; c < 3; c++)
					word |= cr_reference_code10(rgba[c]) << sh[c];
				for (int b = 0; b < 4; b++)
					px[b] = (uint8_t)(word >> (8 * b));
				continue;
			}
			for (int c = 0; c < 4; c++)
				px[off[c]] = code(rgba[c]);
		}
	}
}

void cr_reference_rgba(const struct cr_process_params *p, const uint32_t *src,
		       const uint32_t *cursor, uint32_t dx, uint32_t dy, float rgba[4])
{
	const uint32_t *planes[2] = { src, src };
	cr_reference_rgba_planes(p, planes, cursor, dx, dy, rgba);
}

void cr_reference_process(const struct cr_process_params *p, const uint32_t *src,
			  const uint32_t *cursor, uint8_t *dst)
{
	const uint32_t *planes[2] = { src, src };
	cr_reference_process_planes(p, planes, cursor, dst);
}
