/* SPDX-License-Identifier: MIT */
#pragma once
/**
 * CPU reference of the processing kernel (shaders/process.comp). The GPU results are checked
 * against it in tests, the test consumer verifies relayed frames with it, and the benchmarks
 * use it as their baseline. It implements the kernel's arithmetic step by step (same sample
 * positions, filters, blending, conversion and rounding), so differences come from float
 * precision only. Pure functions.
 */
#include <stdbool.h>
#include <stdint.h>

#include "cr-params.h"

/** Byte offsets of R, G, B, A inside a packed pixel of @layout (CR_LAYOUT_*). */
void cr_reference_layout_offsets(uint32_t layout, int offsets[4]);

/** True when @layout carries a meaningful alpha channel. */
bool cr_reference_layout_has_alpha(uint32_t layout);

/**
 * The filter the pipeline uses for @p: CR_FILTER_BOX when both axes shrink and one of them by
 * more than 2 (bilinear would skip source pixels and make text unreadable), else
 * CR_FILTER_BILINEAR. Transforms by 90/270 swap the output axes first.
 */
uint32_t cr_reference_choose_filter(const struct cr_process_params *p);

/**
 * The processed colour (R, G, B, A as 0..255 floats, not yet rounded) of output pixel
 * (@dx, @dy): crop, transform, filter, redaction and cursor applied. @src is the whole source
 * buffer (read from p->src_offset), @cursor the cursor bitmap (may be NULL when disabled).
 */
void cr_reference_rgba(const struct cr_process_params *p, const uint32_t *src,
		       const uint32_t *cursor, uint32_t dx, uint32_t dy, float rgba[4]);

/**
 * Source coordinate sampled by the bilinear filter for destination coordinate @d along one
 * axis without transform: the centre of the destination pixel mapped into the crop window,
 * clamped to its edge texels. For tests that know their input analytically.
 */
float cr_reference_sample_pos(uint32_t d, uint32_t crop_origin, uint32_t crop_len, uint32_t dst_len);

/**
 * Runs the whole kernel: writes the output frame into @dst laid out as the parameters say
 * (packed: dst_stride pixels per row; planar: Y at 0 with dst_stride bytes per row, chroma
 * planes at dst_offset1/2 with dst_stride1/2).
 */
void cr_reference_process(const struct cr_process_params *p, const uint32_t *src,
			  const uint32_t *cursor, uint8_t *dst);
