/* SPDX-License-Identifier: MIT */
#pragma once
/* The kernel's output against the CPU reference's, as the pipeline tests compare them (also
 * used by the vm test bed's image test). Header-only, pure. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cr-params.h"
#include "dmabuf.h"

/* Largest difference over the bytes that carry pixels of a @w x @h frame of @f laid out as @l
 * (row padding is not compared, nor the x byte of BGRx/RGBx); 10-bit outputs compare their R,
 * G, B fields, in 10-bit codes. */
static inline int frame_compare(const struct cr_format_info *f, const struct cr_plane_layout *l,
				uint32_t w, uint32_t h, const uint8_t *got, const uint8_t *want)
{
	int worst = 0;
	uint32_t cw = (w + 1) / 2, ch = (h + 1) / 2;
	for (uint32_t p = 0; p < l->n_planes; p++) {
		uint32_t row_bytes = p == 0 ? w * f->bytes_per_pixel
					    : (f->out_kind == CR_OUT_NV12 ? 2 * cw : cw);
		uint32_t rows = p == 0 ? h : ch;
		for (uint32_t y = 0; y < rows; y++) {
			for (uint32_t x = 0; x < row_bytes; x++) {
				size_t at = l->offset[p] + (size_t)y * l->stride[p] + x;
				if (f->depth == 10) {
					if (x % 4)
						continue;
					uint32_t g, v;
					memcpy(&g, got + at, 4);
					memcpy(&v, want + at, 4);
					for (int c = 0; c < 3; c++) {
						int d = abs((int)((g >> (10 * c)) & 0x3ff) -
							    (int)((v >> (10 * c)) & 0x3ff));
						worst = d > worst ? d : worst;
					}
					continue;
				}
				if (f->out_kind == CR_OUT_PACKED && !f->has_alpha && x % 4 == 3)
					continue; /* the x byte of BGRx/RGBx */
				int d = abs((int)got[at] - (int)want[at]);
				worst = d > worst ? d : worst;
			}
		}
	}
	return worst;
}
