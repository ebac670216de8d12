/* SPDX-License-Identifier: MIT */
/*
 * The parameter block of the processing kernel (a uniform buffer, std140), shared by C
 * (src/core/pipeline.c, src/core/reference.c) and GLSL (the kernels in shaders/). Only 32-bit
 * scalars and 4-component arrays, laid out so that std140 and C agree byte for byte.
 */
#ifndef CR_PARAMS_H
#define CR_PARAMS_H

#ifdef VULKAN
#define CR_U32 uint
#define CR_I32 int
#define CR_F32 float
#define CR_UVEC4 uvec4
#define CR_VEC4 vec4
#define CR_ARRAY4
#else
#include <stdint.h>
#define CR_U32 uint32_t
#define CR_I32 int32_t
#define CR_F32 float
#define CR_UVEC4 uint32_t
#define CR_VEC4 float
#define CR_ARRAY4 [4]
#endif

/* Memory layouts of a 32-bit packed pixel (byte order in memory). */
#define CR_LAYOUT_BGRX 0u /* B G R x */
#define CR_LAYOUT_RGBX 1u /* R G B x */
#define CR_LAYOUT_BGRA 2u /* B G R A */
#define CR_LAYOUT_RGBA 3u /* R G B A */
/* 10 bits per channel in a little-endian 32-bit word, the top 2 bits unused (read as opaque,
 * written as 0b11): XRGB2101010 (SPA xRGB_210LE) has B in bits 0-9, G in 10-19, R in 20-29;
 * XBGR2101010 (SPA xBGR_210LE) has R in bits 0-9 and B in 20-29. The kernel works on floats
 * on the 0..255 scale whatever the depth: a 10-bit code c is read as c * 255 / 1023 (not
 * quantised to 8 bits), and written as round(v * 1023 / 255), so 8-bit codes expand exactly to
 * round(c8 * 1023 / 255) and 10-bit codes survive an identity relay unchanged. */
#define CR_LAYOUT_XRGB2101010 4u
#define CR_LAYOUT_XBGR2101010 5u

/* Plane kinds of outputs (out_kind) and of sources (src_kind: PACKED or NV12 only). */
#define CR_OUT_PACKED 0u /* one plane of 32-bit pixels in dst_layout / src_layout */
#define CR_OUT_NV12 1u   /* Y plane, then interleaved U V at half resolution */
#define CR_OUT_I420 2u   /* Y plane, U plane, V plane; chroma at half resolution */

/* Filters. */
#define CR_FILTER_BILINEAR 0u
#define CR_FILTER_BOX 1u /* area average: used for downscales by more than 2 */

/* Redaction modes. */
#define CR_REDACT_FILL 0u
#define CR_REDACT_PIXELATE 1u

/* VideoTransform (values of enum spa_meta_videotransform_value, Wayland's wl_output
 * transform: rotations counter-clockwise, FLIPPED = mirrored around the vertical axis). */
#define CR_TRANSFORM_NONE 0u
#define CR_TRANSFORM_90 1u
#define CR_TRANSFORM_180 2u
#define CR_TRANSFORM_270 3u
#define CR_TRANSFORM_FLIPPED 4u
#define CR_TRANSFORM_FLIPPED_90 5u
#define CR_TRANSFORM_FLIPPED_180 6u
#define CR_TRANSFORM_FLIPPED_270 7u

#define CR_MAX_REDACT 16
#define CR_WORKGROUP_SIZE 16
/* Packed outputs on CPU drivers (lavapipe): one invocation writes packed_rows = this many
 * pixels, one per band of the output, so that there are fewer workgroups (lavapipe pays an
 * allocation and a setup per workgroup); on GPUs packed_rows is 1 (full occupancy). */
#define CR_PACKED_ROWS_CPU 8u
/* Planar outputs: one invocation writes a block of 8x2 pixels (whole 32-bit words). */
#define CR_PLANAR_BLOCK_W 8u
#define CR_PLANAR_BLOCK_H 2u

#ifdef VULKAN
#define CR_PARAMS_BLOCK(name) layout(std140, set = 0, binding = 3) uniform Params
#else
#define CR_PARAMS_BLOCK(name) struct name
#endif

CR_PARAMS_BLOCK(cr_process_params) {
	/* source: packed 32-bit pixels, offset and stride in pixels; NV12 (src_kind), offset and
	 * stride in bytes of the Y plane (binding 0) */
	CR_U32 src_offset;
	CR_U32 src_stride;
	CR_U32 src_width;
	CR_U32 src_height;

	CR_U32 src_layout;
	CR_U32 crop_x; /* crop rectangle in source pixels */
	CR_U32 crop_y;
	CR_U32 crop_w;

	CR_U32 crop_h;
	CR_U32 transform; /* CR_TRANSFORM_* applied to the cropped picture */
	CR_U32 filter_mode; /* CR_FILTER_* */
	CR_U32 out_kind;  /* CR_OUT_* */

	CR_U32 dst_width;
	CR_U32 dst_height;
	CR_U32 dst_layout; /* packed outputs */
	CR_U32 dst_stride; /* packed: pixels; planar: bytes of the Y plane */

	CR_U32 dst_offset1; /* planar: byte offsets (multiples of 4) and strides of planes 1, 2 */
	CR_U32 dst_stride1;
	CR_U32 dst_offset2;
	CR_U32 dst_stride2;

	CR_U32 n_redact;
	CR_U32 redact_mode;  /* CR_REDACT_* */
	CR_U32 redact_block; /* pixelate block size in source pixels */
	CR_U32 redact_color; /* RGBA, R in the low byte */

	CR_U32 cursor_enabled;
	CR_I32 cursor_x; /* top-left of the bitmap in source pixels (position - hotspot) */
	CR_I32 cursor_y;
	CR_U32 cursor_w;

	CR_U32 cursor_h;
	CR_U32 cursor_stride; /* pixels */
	CR_U32 cursor_layout; /* CR_LAYOUT_* with alpha: BGRA or RGBA */
	CR_U32 src_kind;      /* CR_OUT_PACKED or CR_OUT_NV12 */

	CR_U32 src_offset1; /* NV12 source: byte offset and stride of the UV plane (binding 4) */
	CR_U32 src_stride1;
	CR_U32 packed_rows; /* packed outputs: rows per invocation (1, or CR_PACKED_ROWS_CPU) */
	CR_U32 pad1;

	/* RGB (0..255) to Y, U, V (0..255 codes): code = dot(row.xyz, rgb) + row.w */
	CR_VEC4 yuv_y CR_ARRAY4;
	CR_VEC4 yuv_u CR_ARRAY4;
	CR_VEC4 yuv_v CR_ARRAY4;

	/* NV12 source: Y, U, V codes to R, G, B (0..255, clamped): c = dot(row.xyz, yuv) + row.w;
	 * the chroma of source pixel (x, y) is the sample (x / 2, y / 2) (no interpolation) */
	CR_VEC4 rgb_r CR_ARRAY4;
	CR_VEC4 rgb_g CR_ARRAY4;
	CR_VEC4 rgb_b CR_ARRAY4;

	CR_UVEC4 redact[CR_MAX_REDACT] CR_ARRAY4; /* x, y, w, h in source pixels */
};

#endif
