/* SPDX-License-Identifier: MIT */
#pragma once
/**
 * CPU reference of the compute kernels. The GPU results are checked against it in tests, the
 * test consumer verifies relayed frames with it, and the benchmarks use it as their baseline.
 * It implements exactly the arithmetic of shaders/scale.comp (same sample positions, same
 * rounding), so differences come from float precision only.
 */
#include <stdbool.h>
#include <stdint.h>

#include "cr-params.h"

/** Byte offsets of R, G, B, A inside a packed pixel of @layout (CR_LAYOUT_*). */
void cr_reference_layout_offsets(uint32_t layout, int offsets[4]);

/** True when @layout carries a meaningful alpha channel. */
bool cr_reference_layout_has_alpha(uint32_t layout);

/**
 * Computes one destination pixel of the crop + bilinear scale kernel as R, G, B, A bytes.
 * @src: the whole source buffer (read from @p->src_offset, in pixels). Pure function.
 */
void cr_reference_scale_pixel(const struct cr_scale_params *p, const uint32_t *src,
			      uint32_t dx, uint32_t dy, uint8_t rgba[4]);

/** Runs the kernel over the whole destination (@dst: dst_stride * dst_height pixels). */
void cr_reference_scale(const struct cr_scale_params *p, const uint32_t *src, uint32_t *dst);

/**
 * Source coordinate sampled for destination coordinate @d along one axis: the centre of the
 * destination pixel mapped into the crop window, clamped to its edge texels. Exposed so that
 * tests that know the pattern analytically can use the same mapping.
 */
float cr_reference_sample_pos(uint32_t d, uint32_t crop_origin, uint32_t crop_len, uint32_t dst_len);
