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

/** Byte offsets of R, G, B, A inside a packed pixel of an 8-bit @layout (CR_LAYOUT_*). */
void cr_reference_layout_offsets(uint32_t layout, int offsets[4]);

/** True when @layout carries a meaningful alpha channel. */
bool cr_reference_layout_has_alpha(uint32_t layout);

/** True for the 10-bit layouts CR_LAYOUT_XRGB2101010 and CR_LAYOUT_XBGR2101010. */
bool cr_reference_layout_is_10bit(uint32_t layout);

/** Bit positions of the 10-bit R, G, B fields inside a pixel word of a 10-bit @layout. */
void cr_reference_layout_shifts10(uint32_t layout, int shifts[3]);

/** A 10-bit code as the kernel reads it: on the 0..255 scale, code * 255 / 1023. */
float cr_reference_unorm10(uint32_t code);

/**
 * A value on the 0..255 scale as the kernel writes it into a 10-bit field:
 * round(clamp(v * 1023 / 255, 0, 1023)). For 8-bit codes this is exactly
 * round(c * 1023 / 255) (c * 1023 / 255 is never within 1/170 of a half).
 */
uint32_t cr_reference_code10(float v);

/**
 * The filter the pipeline uses for @p: CR_FILTER_BOX when both axes shrink and one of them by
 * more than 2 (bilinear would skip source pixels and make text unreadable), else
 * CR_FILTER_BILINEAR. Transforms by 90/270 swap the output axes first.
 */
uint32_t cr_reference_choose_filter(const struct cr_process_params *p);

/**
 * The processed colour (R, G, B, A as 0..255 floats, not yet rounded) of output pixel
 * (@dx, @dy): crop, transform, filter, redaction and cursor applied. @src[0] is the buffer of
 * the source's plane 0 (packed pixels, or NV12's Y plane; read from p->src_offset), @src[1]
 * the buffer of NV12's UV plane (read from p->src_offset1; the same pointer when both planes
 * lie in one buffer, unused for packed sources), @cursor the cursor bitmap (may be NULL when
 * disabled).
 */
void cr_reference_rgba_planes(const struct cr_process_params *p, const uint32_t *const src[2],
			      const uint32_t *cursor, uint32_t dx, uint32_t dy, float rgba[4]);

/** cr_reference_rgba_planes() with every source plane in the one buffer @src. */
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
 * planes at dst_offset1/2 with dst_stride1/2). Source planes as cr_reference_rgba_planes().
 */
void cr_reference_process_planes(const struct cr_process_params *p, const uint32_t *const src[2],
				 const uint32_t *cursor, uint8_t *dst);

/** cr_reference_process_planes() with every source plane in the one buffer @src. */
void cr_reference_process(const struct cr_process_params *p, const uint32_t *src,
			  const uint32_t *cursor, uint8_t *dst);
