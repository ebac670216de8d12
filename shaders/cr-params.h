/* SPDX-License-Identifier: MIT */
/*
 * Push constants of the compute kernels, shared by C (src/core/pipeline.c, src/core/reference.c)
 * and GLSL (the kernels in shaders/). Plain 32-bit scalars only, so that std430/std140 and C agree.
 */
#ifndef CR_PARAMS_H
#define CR_PARAMS_H

#ifdef VULKAN
#define CR_U32 uint
#define CR_F32 float
#else
#include <stdint.h>
#define CR_U32 uint32_t
#define CR_F32 float
#endif

/* Memory layouts of a 32-bit packed pixel (byte order in memory). */
#define CR_LAYOUT_BGRX 0u /* B G R x */
#define CR_LAYOUT_RGBX 1u /* R G B x */
#define CR_LAYOUT_BGRA 2u /* B G R A */
#define CR_LAYOUT_RGBA 3u /* R G B A */

#define CR_WORKGROUP_SIZE 16

struct cr_scale_params {
	/* source: packed 32-bit pixels, stride in pixels (bytes / 4), offset in pixels */
	CR_U32 src_offset;
	CR_U32 src_stride;
	CR_U32 src_width;
	CR_U32 src_height;
	CR_U32 src_layout;
	/* crop rectangle inside the source, in source pixels */
	CR_U32 crop_x;
	CR_U32 crop_y;
	CR_U32 crop_w;
	CR_U32 crop_h;
	/* destination: packed 32-bit pixels */
	CR_U32 dst_stride;
	CR_U32 dst_width;
	CR_U32 dst_height;
	CR_U32 dst_layout;
};

#endif
