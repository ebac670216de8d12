/* SPDX-License-Identifier: MIT */
#include "frame.h"

#include <math.h>

#include "cr-params.h"
#include "reference.h"

void cr_frame_set_color(struct cr_frame *f, bool known, enum cr_color_matrix matrix,
			bool full_range)
{
	f->color_known = known;
	f->matrix = known ? matrix : CR_COLOR_BT601;
	f->full_range = known ? full_range : false;
	cr_color_rgb_rows(f->matrix, f->full_range, f->to_rgb[0], f->to_rgb[1], f->to_rgb[2]);
}

bool cr_frame_layout(const struct cr_format_info *fmt, uint32_t width, uint32_t height,
		     uint32_t stride, struct cr_plane_layout *layout)
{
	return cr_format_plane_layout_stride(fmt, width, height, stride, layout);
}

/* One past the last byte of @rows rows of @row_bytes, @stride apart, from @offset. */
static uint64_t plane_end(uint32_t offset, uint32_t stride, uint32_t rows, uint32_t row_bytes)
{
	return (uint64_t)offset + (uint64_t)(rows - 1) * stride + row_bytes;
}

uint64_t cr_frame_extent(const struct cr_format_info *fmt, uint32_t width, uint32_t height,
			 const struct cr_plane_layout *layout)
{
	uint64_t end = plane_end(layout->offset[0], layout->stride[0], height,
				 width * fmt->bytes_per_pixel);
	uint32_t cw = cr_frame_chroma_size(width), ch = cr_frame_chroma_size(height);

	for (uint32_t i = 1; i < layout->n_planes; i++) {
		uint32_t row_bytes = fmt->out_kind == CR_OUT_NV12 ? 2 * cw : cw;
		uint64_t e = plane_end(layout->offset[i], layout->stride[i], ch, row_bytes);
		if (e > end)
			end = e;
	}
	return end;
}

void cr_frame_yuv(const struct cr_frame *f, uint32_t x, uint32_t y, uint8_t yuv[3])
{
	const struct cr_plane_layout *l = &f->planes;
	size_t cx = x / 2, cy = y / 2;

	yuv[0] = f->data[l->offset[0] + (size_t)y * l->stride[0] + x];
	if (f->fmt->out_kind == CR_OUT_NV12) {
		const uint8_t *uv = f->data + l->offset[1] + cy * l->stride[1] + cx * 2;
		yuv[1] = uv[0];
		yuv[2] = uv[1];
	} else {
		yuv[1] = f->data[l->offset[1] + cy * l->stride[1] + cx];
		yuv[2] = f->data[l->offset[2] + cy * l->stride[2] + cx];
	}
}

static uint8_t to_byte(float v)
{
	return (uint8_t)(v <= 0.0f ? 0.0f : (v >= 255.0f ? 255.0f : floorf(v + 0.5f)));
}

void cr_frame_rgb(const struct cr_frame *f, uint32_t x, uint32_t y, uint8_t rgb[3])
{
	if (f->fmt->out_kind == CR_OUT_PACKED) {
		const uint8_t *px = f->data + f->planes.offset[0] +
				    (size_t)y * f->planes.stride[0] + (size_t)x * 4;
		if (f->fmt->depth == 10) {
			uint32_t word = (uint32_t)px[0] | (uint32_t)px[1] << 8 |
					(uint32_t)px[2] << 16 | (uint32_t)px[3] << 24;
			int sh[3];
			cr_reference_layout_shifts10(f->fmt->layout, sh);
			for (int c = 0; c < 3; c++)
				rgb[c] = to_byte(cr_reference_unorm10((word >> sh[c]) & 0x3ffu));
			return;
		}
		int off[4];
		cr_reference_layout_offsets(f->fmt->layout, off);
		for (int c = 0; c < 3; c++)
			rgb[c] = px[off[c]];
		return;
	}

	uint8_t yuv[3];
	cr_frame_yuv(f, x, y, yuv);
	for (int c = 0; c < 3; c++) {
		const float *row = f->to_rgb[c];
		rgb[c] = to_byte(row[0] * yuv[0] + row[1] * yuv[1] + row[2] * yuv[2] + row[3]);
	}
}

void cr_frame_to_rgb(const struct cr_frame *f, uint8_t *rgb)
{
	for (uint32_t y = 0; y < f->height; y++) {
		uint8_t *out = rgb + (size_t)y * f->width * 3;
		for (uint32_t x = 0; x < f->width; x++)
			cr_frame_rgb(f, x, y, out + (size_t)x * 3);
	}
}
