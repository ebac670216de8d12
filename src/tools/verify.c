/* SPDX-License-Identifier: MIT */
#include "verify.h"

#include <stdio.h>
#include <stdlib.h>

#include "pattern.h"
#include "reference.h"

/* Enough detail to debug a failure without flooding the terminal. */
#define MAX_REPORTS 5

bool cr_verify_init(struct cr_verify *v, uint32_t src_width, uint32_t src_height,
		    const uint32_t crop[4], uint32_t tolerance)
{
	uint32_t whole[4] = { 0, 0, src_width, src_height };

	if (crop == NULL)
		crop = whole;
	if (crop[2] == 0 || crop[3] == 0 || crop[0] + crop[2] > src_width ||
	    crop[1] + crop[3] > src_height) {
		fprintf(stderr, "verify: crop %u,%u,%u,%u does not fit the %ux%u source\n",
			crop[0], crop[1], crop[2], crop[3], src_width, src_height);
		return false;
	}

	*v = (struct cr_verify){
		.params = {
			.src_offset = 0,
			.src_stride = src_width,
			.src_width = src_width,
			.src_height = src_height,
			.src_layout = CR_LAYOUT_BGRX,
			.crop_x = crop[0],
			.crop_y = crop[1],
			.crop_w = crop[2],
			.crop_h = crop[3],
		},
		.tolerance = tolerance,
		.src_frame = -1,
	};
	v->src = calloc((size_t)src_width * src_height, sizeof(*v->src));
	if (v->src == NULL) {
		fprintf(stderr, "verify: out of memory for a %ux%u source\n", src_width,
			src_height);
		return false;
	}
	return true;
}

void cr_verify_finish(struct cr_verify *v)
{
	free(v->src);
	v->src = NULL;
}

void cr_verify_set_destination(struct cr_verify *v, uint32_t width, uint32_t height,
			       uint32_t layout)
{
	v->params.dst_stride = width;
	v->params.dst_width = width;
	v->params.dst_height = height;
	v->params.dst_layout = layout;
	cr_reference_layout_offsets(layout, v->dst_offsets);
	v->dst_alpha = cr_reference_layout_has_alpha(layout);
	v->have_dst = true;
}

static void generate_source(struct cr_verify *v, uint8_t frame)
{
	const struct cr_scale_params *p = &v->params;
	int off[4];

	if (v->src_frame == frame)
		return;
	cr_reference_layout_offsets(p->src_layout, off);
	for (uint32_t y = 0; y < p->src_height; y++) {
		for (uint32_t x = 0; x < p->src_width; x++) {
			uint8_t rgba[4];
			uint32_t px = 0;
			cr_pattern_rgba(x, y, frame, rgba);
			for (int c = 0; c < 4; c++)
				px |= (uint32_t)rgba[c] << (8 * off[c]);
			v->src[y * p->src_stride + x] = px;
		}
	}
	v->src_frame = frame;
}

void cr_verify_frame(struct cr_verify *v, const uint8_t *pixels, uint32_t stride)
{
	const struct cr_scale_params *p = &v->params;
	const int *off = v->dst_offsets;
	int channels = v->dst_alpha ? 4 : 3;
	uint32_t frame_error = 0;
	bool mismatch = false;

	if (!v->have_dst)
		return;

	const uint8_t *centre = pixels + (size_t)(p->dst_height / 2) * stride +
				(size_t)(p->dst_width / 2) * 4;
	uint8_t frame = centre[off[0]];

	/* Frame numbers are compared mod 256: "advanced" means 1..127 frames ahead. */
	if (v->have_previous && (uint8_t)(frame - v->previous) - 1u >= 127u)
		v->stale++;
	v->previous = frame;
	v->have_previous = true;

	generate_source(v, frame);

	for (uint32_t y = 0; y < p->dst_height; y++) {
		const uint8_t *row = pixels + (size_t)y * stride;
		for (uint32_t x = 0; x < p->dst_width; x++) {
			const uint8_t *got = row + (size_t)x * 4;
			uint8_t want[4];
			cr_reference_scale_pixel(p, v->src, x, y, want);
			for (int c = 0; c < channels; c++) {
				uint32_t e = (uint32_t)abs((int)got[off[c]] - (int)want[c]);
				if (e > frame_error)
					frame_error = e;
				if (e > v->tolerance && !mismatch) {
					mismatch = true;
					if (v->reported++ < MAX_REPORTS)
						fprintf(stderr, "verify: frame %u (checked #%u): "
							"pixel %u,%u channel %c is %u, expected "
							"%u\n", frame, v->checked, x, y,
							"RGBA"[c], got[off[c]], want[c]);
				}
			}
		}
	}
	if (frame_error > v->max_error)
		v->max_error = frame_error;
	if (mismatch)
		v->mismatched_frames++;
	v->checked++;
}
