// SPDX-License-Identifier: MIT
// Crop + bilinear scale + channel order conversion, packed 32-bit pixels in, packed out.
// Reads and writes storage buffers with explicit strides, so any LINEAR layout (SHM, memfd or
// udmabuf DMA-BUF with a padded stride) is handled without an intermediate image. The maths
// is mirrored by src/core/reference.c, which the tests compare against.
#version 450
#extension GL_GOOGLE_include_directive : require

#include "cr-params.h"

layout(local_size_x = CR_WORKGROUP_SIZE, local_size_y = CR_WORKGROUP_SIZE) in;

layout(std430, set = 0, binding = 0) readonly buffer Src { uint src[]; };
layout(std430, set = 0, binding = 1) writeonly buffer Dst { uint dst[]; };

layout(push_constant) uniform Params {
	uint src_offset;
	uint src_stride;
	uint src_width;
	uint src_height;
	uint src_layout;
	uint crop_x;
	uint crop_y;
	uint crop_w;
	uint crop_h;
	uint dst_stride;
	uint dst_width;
	uint dst_height;
	uint dst_layout;
} p;

bool is_bgr(uint l)
{
	return l == CR_LAYOUT_BGRX || l == CR_LAYOUT_BGRA;
}

bool has_alpha(uint l)
{
	return l == CR_LAYOUT_BGRA || l == CR_LAYOUT_RGBA;
}

vec4 load(uint x, uint y)
{
	vec4 c = vec4(unpackUnorm4x8(src[p.src_offset + y * p.src_stride + x])) * 255.0;
	if (is_bgr(p.src_layout))
		c = c.bgra;
	if (!has_alpha(p.src_layout))
		c.a = 255.0;
	return c;
}

float sample_pos(uint d, uint origin, uint len, uint dst_len)
{
	float s = float(origin) + (float(d) + 0.5) * float(len) / float(dst_len) - 0.5;
	return clamp(s, float(origin), float(origin + len - 1u));
}

void main()
{
	uvec2 d = gl_GlobalInvocationID.xy;
	if (d.x >= p.dst_width || d.y >= p.dst_height)
		return;

	float sx = sample_pos(d.x, p.crop_x, p.crop_w, p.dst_width);
	float sy = sample_pos(d.y, p.crop_y, p.crop_h, p.dst_height);
	uint x0 = uint(floor(sx)), y0 = uint(floor(sy));
	uint x1 = x0 + 1u < p.crop_x + p.crop_w ? x0 + 1u : x0;
	uint y1 = y0 + 1u < p.crop_y + p.crop_h ? y0 + 1u : y0;
	float fx = sx - float(x0), fy = sy - float(y0);

	vec4 a = load(x0, y0), b = load(x1, y0), c = load(x0, y1), e = load(x1, y1);
	vec4 top = a + (b - a) * fx;
	vec4 bot = c + (e - c) * fx;
	vec4 v = floor(top + (bot - top) * fy + 0.5);
	if (!has_alpha(p.dst_layout))
		v.a = 255.0;
	if (is_bgr(p.dst_layout))
		v = v.bgra;
	dst[d.y * p.dst_stride + d.x] = packUnorm4x8(v / 255.0);
}
