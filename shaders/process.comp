// SPDX-License-Identifier: MIT
// The fused processing kernel: crop, VideoTransform, bilinear or box (area) scaling, cursor
// compositing, redaction and output conversion (packed 8-bit and 10-bit RGB orders, NV12, I420
// with BT.601 or BT.709 in limited or full range) in one dispatch. Sources (packed 8-bit or
// 10-bit pixels, or NV12 converted to RGB with the inverse matrix) are read from storage
// buffers with explicit offsets and strides, so any LINEAR layout works without an
// intermediate image; NV12's UV plane comes from a second binding, which is the Y plane's
// buffer again when both lie in one. Everything in between is float on the 0..255 scale.
// src/core/reference.c implements the same arithmetic; tests compare the two.
#version 450
#extension GL_GOOGLE_include_directive : require

#include "cr-params.h"

layout(local_size_x = CR_WORKGROUP_SIZE, local_size_y = CR_WORKGROUP_SIZE) in;

// Variants (shaders/meson.build): CR_SRC_IMAGE reads the source from sampled images (any DRM
// modifier: the driver untiles): a packed image of the matching VkFormat, or NV12's planes
// through R8 and R8G8 views; CR_DST_IMAGE writes a packed output to a storage image. Codes
// are restored exactly, so both paths give the same bytes.
#ifdef CR_SRC_IMAGE
layout(set = 0, binding = 0) uniform sampler2D src_tex;
layout(set = 0, binding = 4) uniform sampler2D src1_tex;
#else
layout(std430, set = 0, binding = 0) readonly buffer Src { uint src[]; };
layout(std430, set = 0, binding = 4) readonly buffer Src1 { uint src1[]; };
#endif
#ifdef CR_DST_IMAGE
layout(set = 0, binding = 1) uniform writeonly image2D dst_img;
#else
layout(std430, set = 0, binding = 1) writeonly buffer Dst { uint dst[]; };
#endif
layout(std430, set = 0, binding = 2) readonly buffer Cursor { uint cursor[]; };

// The parameter block (binding 3) is declared by cr-params.h.

bool is_bgr(uint l)
{
	return l == CR_LAYOUT_BGRX || l == CR_LAYOUT_BGRA;
}

bool has_alpha(uint l)
{
	return l == CR_LAYOUT_BGRA || l == CR_LAYOUT_RGBA;
}

bool is_10bit(uint l)
{
	return l == CR_LAYOUT_XRGB2101010 || l == CR_LAYOUT_XBGR2101010;
}

float unorm10(uint code)
{
	return float(code) * (255.0 / 1023.0);
}

vec4 unpack_px(uint px, uint l)
{
	if (is_10bit(l)) {
		vec4 t = vec4(unorm10((px >> 20) & 0x3ffu), unorm10((px >> 10) & 0x3ffu),
			      unorm10(px & 0x3ffu), 255.0);
		return l == CR_LAYOUT_XRGB2101010 ? t : t.bgra;
	}
	vec4 c = vec4(float(px & 0xffu), float((px >> 8) & 0xffu), float((px >> 16) & 0xffu),
		      float(px >> 24));
	if (is_bgr(l))
		c = c.bgra;
	if (!has_alpha(l))
		c.a = 255.0;
	return c;
}

float dot_row(vec4 row, vec4 c)
{
	return row.x * c.r + row.y * c.g + row.z * c.b + row.w;
}

vec4 yuv_to_rgb(vec4 yuv)
{
	return vec4(clamp(dot_row(rgb_r, yuv), 0.0, 255.0), clamp(dot_row(rgb_g, yuv), 0.0, 255.0),
		    clamp(dot_row(rgb_b, yuv), 0.0, 255.0), 255.0);
}

#ifdef CR_SRC_IMAGE
// The image's format puts the channels in R, G, B, A order whatever the memory order.
vec4 source_pixel(uint x, uint y)
{
	if (src_kind == CR_OUT_NV12) {
		float luma = texelFetch(src_tex, ivec2(x, y), 0).r;
		vec2 chroma = texelFetch(src1_tex, ivec2(x / 2u, y / 2u), 0).rg;
		return yuv_to_rgb(vec4(floor(vec3(luma, chroma) * 255.0 + 0.5), 0.0));
	}
	vec4 t = texelFetch(src_tex, ivec2(x, y), 0);
	if (is_10bit(src_layout))
		return vec4(floor(t.rgb * 1023.0 + 0.5) * (255.0 / 1023.0), 255.0);
	vec4 c = floor(t * 255.0 + 0.5);
	if (!has_alpha(src_layout))
		c.a = 255.0;
	return c;
}
#else
float src_byte(uint at)
{
	return float((src[at >> 2] >> (8u * (at & 3u))) & 0xffu);
}

float src1_byte(uint at)
{
	return float((src1[at >> 2] >> (8u * (at & 3u))) & 0xffu);
}

// The source pixel before cursor and redaction; NV12 takes the chroma of its 2x2 block.
vec4 source_pixel(uint x, uint y)
{
	if (src_kind != CR_OUT_NV12)
		return unpack_px(src[src_offset + y * src_stride + x], src_layout);
	uint at = src_offset1 + y / 2u * src_stride1 + x / 2u * 2u;
	return yuv_to_rgb(vec4(src_byte(src_offset + y * src_stride + x), src1_byte(at),
			       src1_byte(at + 1u), 0.0));
}
#endif

vec4 raw_texel(uint x, uint y)
{
	vec4 c = source_pixel(x, y);
	if (cursor_enabled == 0u)
		return c;
	int cx = int(x) - cursor_x, cy = int(y) - cursor_y;
	if (cx < 0 || cy < 0 || cx >= int(cursor_w) || cy >= int(cursor_h))
		return c;
	vec4 k = unpack_px(cursor[uint(cy) * cursor_stride + uint(cx)], cursor_layout);
	float a = k.a / 255.0;
	c.rgb = k.rgb * a + c.rgb * (1.0 - a);
	return c;
}

// Redaction last: nothing inside a redacted rectangle, the cursor included, leaves the machine.
vec4 texel(uint x, uint y)
{
	for (uint i = 0u; i < n_redact; i++) {
		uvec4 r = redact[i];
		if (x < r.x || y < r.y || x - r.x >= r.z || y - r.y >= r.w)
			continue;
		if (redact_mode == CR_REDACT_PIXELATE) {
			uint n = max(redact_block, 1u);
			return raw_texel(r.x + (x - r.x) / n * n, r.y + (y - r.y) / n * n);
		}
		return vec4(float(redact_color & 0xffu), float((redact_color >> 8) & 0xffu),
			    float((redact_color >> 16) & 0xffu), float(redact_color >> 24));
	}
	return raw_texel(x, y);
}

// Output position (u / w, v / h) to crop-normalised (s, t), as (numerator, denominator)
// pairs: .xy = s, .zw = t. See transform_point() in src/core/reference.c.
vec4 transform_point(float u, float v, float w, float h)
{
	switch (transform & 7u) {
	case CR_TRANSFORM_90: return vec4(h - v, h, u, w);
	case CR_TRANSFORM_180: return vec4(w - u, w, h - v, h);
	case CR_TRANSFORM_270: return vec4(v, h, w - u, w);
	case CR_TRANSFORM_FLIPPED: return vec4(w - u, w, v, h);
	case CR_TRANSFORM_FLIPPED_90: return vec4(v, h, u, w);
	case CR_TRANSFORM_FLIPPED_180: return vec4(u, w, h - v, h);
	case CR_TRANSFORM_FLIPPED_270: return vec4(h - v, h, w - u, w);
	default: return vec4(u, w, v, h);
	}
}

float crop_coord(vec2 r, uint origin, uint len)
{
	return float(origin) + r.x * float(len) / r.y;
}

float source_pos(vec2 r, uint origin, uint len)
{
	return clamp(crop_coord(r, origin, len) - 0.5, float(origin), float(origin + len - 1u));
}

vec4 bilinear(vec4 st)
{
	float sx = source_pos(st.xy, crop_x, crop_w);
	float sy = source_pos(st.zw, crop_y, crop_h);
	uint x0 = uint(floor(sx)), y0 = uint(floor(sy));
	uint x1 = x0 + 1u < crop_x + crop_w ? x0 + 1u : x0;
	uint y1 = y0 + 1u < crop_y + crop_h ? y0 + 1u : y0;
	float fx = sx - float(x0), fy = sy - float(y0);
	vec4 a = texel(x0, y0), b = texel(x1, y0), c = texel(x0, y1), d = texel(x1, y1);
	vec4 top = a + (b - a) * fx;
	vec4 bot = c + (d - c) * fx;
	return top + (bot - top) * fy;
}

vec4 box(vec4 st0, vec4 st1)
{
	float xa = crop_coord(st0.xy, crop_x, crop_w), xb = crop_coord(st1.xy, crop_x, crop_w);
	float ya = crop_coord(st0.zw, crop_y, crop_h), yb = crop_coord(st1.zw, crop_y, crop_h);
	float x0 = min(xa, xb), x1 = max(xa, xb), y0 = min(ya, yb), y1 = max(ya, yb);
	uint ix0 = uint(floor(x0)), iy0 = uint(floor(y0));
	uint ix1 = min(uint(ceil(x1)), crop_x + crop_w), iy1 = min(uint(ceil(y1)), crop_y + crop_h);
	vec4 sum = vec4(0.0);
	float total = 0.0;
	for (uint y = iy0; y < iy1; y++) {
		float wy = min(float(y) + 1.0, y1) - max(float(y), y0);
		for (uint x = ix0; x < ix1; x++) {
			float w = wy * (min(float(x) + 1.0, x1) - max(float(x), x0));
			sum += texel(x, y) * w;
			total += w;
		}
	}
	return total > 0.0 ? sum / total : vec4(0.0);
}

vec4 rgba_at(uint dx, uint dy)
{
	float w = float(dst_width), h = float(dst_height);
	if (filter_mode == CR_FILTER_BOX)
		return box(transform_point(float(dx), float(dy), w, h),
			   transform_point(float(dx) + 1.0, float(dy) + 1.0, w, h));
	return bilinear(transform_point(float(dx) + 0.5, float(dy) + 0.5, w, h));
}

uint code(float v)
{
	return uint(floor(clamp(v, 0.0, 255.0) + 0.5));
}

uint code10(float v)
{
	return uint(floor(clamp(v * (1023.0 / 255.0), 0.0, 1023.0) + 0.5));
}

void packed_pixel(uvec2 d)
{
	if (d.x >= dst_width || d.y >= dst_height)
		return;
	vec4 v = rgba_at(d.x, d.y);
#ifdef CR_DST_IMAGE
	// Stored as exact code / max: the conversion to UNORM rounds back to the same code.
	if (is_10bit(dst_layout)) {
		imageStore(dst_img, ivec2(d), vec4(float(code10(v.r)), float(code10(v.g)),
						   float(code10(v.b)), 1023.0) / 1023.0);
		return;
	}
	if (!has_alpha(dst_layout))
		v.a = 255.0;
	imageStore(dst_img, ivec2(d), vec4(float(code(v.r)), float(code(v.g)), float(code(v.b)),
					   float(code(v.a))) / 255.0);
}
#else
	if (is_10bit(dst_layout)) {
		// The unused top bits are written as ones (opaque).
		if (dst_layout == CR_LAYOUT_XBGR2101010)
			v = v.bgra;
		dst[d.y * dst_stride + d.x] = code10(v.b) | (code10(v.g) << 10) |
					      (code10(v.r) << 20) | (3u << 30);
		return;
	}
	if (!has_alpha(dst_layout))
		v.a = 255.0;
	if (is_bgr(dst_layout))
		v = v.bgra;
	dst[d.y * dst_stride + d.x] = code(v.r) | (code(v.g) << 8) | (code(v.b) << 16) |
				      (code(v.a) << 24);
}
#endif

#ifndef CR_DST_IMAGE
void planar_block(uvec2 b)
{
	uint bw = (dst_width + CR_PLANAR_BLOCK_W - 1u) / CR_PLANAR_BLOCK_W;
	uint bh = (dst_height + CR_PLANAR_BLOCK_H - 1u) / CR_PLANAR_BLOCK_H;
	if (b.x >= bw || b.y >= bh)
		return;
	vec4 rgb[2][CR_PLANAR_BLOCK_W];
	for (uint r = 0u; r < CR_PLANAR_BLOCK_H; r++) {
		uint y = b.y * CR_PLANAR_BLOCK_H + r;
		uint yc = min(y, dst_height - 1u);
		uint words[2] = uint[2](0u, 0u);
		for (uint i = 0u; i < CR_PLANAR_BLOCK_W; i++) {
			uint xc = min(b.x * CR_PLANAR_BLOCK_W + i, dst_width - 1u);
			rgb[r][i] = rgba_at(xc, yc);
			words[i / 4u] |= code(dot_row(yuv_y, rgb[r][i])) << (8u * (i % 4u));
		}
		if (y >= dst_height)
			continue;
		for (uint j = 0u; j < 2u; j++) {
			uint col = b.x * CR_PLANAR_BLOCK_W + 4u * j;
			if (col < dst_stride)
				dst[(y * dst_stride + col) / 4u] = words[j];
		}
	}
	uint u_words[2] = uint[2](0u, 0u), v_word = 0u;
	for (uint k = 0u; k < CR_PLANAR_BLOCK_W / 2u; k++) {
		vec4 avg = (rgb[0][2u * k] + rgb[0][2u * k + 1u] + rgb[1][2u * k] +
			    rgb[1][2u * k + 1u]) * 0.25;
		uint u = code(dot_row(yuv_u, avg)), v = code(dot_row(yuv_v, avg));
		if (out_kind == CR_OUT_NV12) {
			u_words[k / 2u] |= (u | (v << 8)) << (16u * (k % 2u));
		} else {
			u_words[0] |= u << (8u * k);
			v_word |= v << (8u * k);
		}
	}
	if (out_kind == CR_OUT_NV12) {
		for (uint j = 0u; j < 2u; j++) {
			uint col = b.x * CR_PLANAR_BLOCK_W + 4u * j;
			if (col < dst_stride1)
				dst[(dst_offset1 + b.y * dst_stride1 + col) / 4u] = u_words[j];
		}
	} else {
		uint col = b.x * CR_PLANAR_BLOCK_W / 2u;
		if (col < dst_stride1) {
			dst[(dst_offset1 + b.y * dst_stride1 + col) / 4u] = u_words[0];
			dst[(dst_offset2 + b.y * dst_stride2 + col) / 4u] = v_word;
		}
	}
}

#endif

// packed_rows pixels per invocation, each in its own band of the output.
void packed_column(uvec2 id)
{
	uint n = max(packed_rows, 1u), band = (dst_height + n - 1u) / n;
	if (id.y >= band)
		return;
	for (uint r = 0u; r < n; r++)
		packed_pixel(uvec2(id.x, id.y + r * band));
}

void main()
{
#ifdef CR_DST_IMAGE
	packed_column(gl_GlobalInvocationID.xy);
#else
	if (out_kind == CR_OUT_PACKED)
		packed_column(gl_GlobalInvocationID.xy);
	else
		planar_block(gl_GlobalInvocationID.xy);
#endif
}
