/* SPDX-License-Identifier: MIT */
#include "frame.h"

#include <math.h>

#include "cr-params.h"
#include "reference.h"

#define ROUND_UP(x, n) (((x) + (n) - 1) / (n) * (n))

void cr_frame_set_color(struct cr_frame *f, bool known, enum cr_color_matrix matrix,
			bool full_range)
{
	float rows[3][4];

	f->color_known = known;
	f->matrix = known ? matrix : CR_COLOR_BT601;
	f->full_range = known ? full_range : false;
	cr_color_yuv_rows(f->matrix, f->full_range, rows[0], rows[1], rows[2]);

	/* code = A rgb + o, so rgb = A^-1 code - A^-1 o; A^-1 by cofactors. */
	float (*a)[4] = rows;
	float det = a[0][0] * (a[1][1] * a[2][2] - a[1][2] * a[2][1]) -
		    a[0][1] * (a[1][0] * a[2][2] - a[1][2] * a[2][0]) +
		    a[0][2] * (a[1][0] * a[2][1] - a[1][1] * a[2][0]);
	for (int i = 0; i < 3; i++) {
		for (int j = 0; j < 3; j++) {
			/* inverse[i][j] = cofactor[j][i] / det */
			int r0 = (j + 1) % 3, r1 = (j + 2) % 3, c0 = (i + 1) % 3, c1 = (i + 2) % 3;
			f->to_rgb[i][j] = (a[r0][c0] * a[r1][c1] - a[r0][c1] * a[r1][c0]) / det;
		}
		f->to_rgb[i][3] = -(f->to_rgb[i][0] * a[0][3] + f->to_rgb[i][1] * a[1][3] +
				    f->to_rgb[i][2] * a[2][3]);
	}
}

bool cr_frame_layout(const struct cr_format_info *fmt, uint32_t width, uint32_t height,
		     uint32_t stride, struct cr_plane_layout *layout)
{
	cr_format_plane_layout(fmt, width, height, layout);
	if (stride == 0 || stride == layout->stride[0])
		return true;
	if ((uint64_t)stride < (uint64_t)width * fmt->bytes_per_pixel)
		return false;

	uint32_t luma_h = ROUND_UP(height, 2), chroma_h = luma_h / 2;
	layout->stride[0] = stride;
	if (fmt->out_kind == CR_OUT_PACKED) {
		layout->size = (uint64_t)stride * height;
		return true;
	}
	layout->offset[1] = stride * luma_h;
	if (fmt->out_kind == CR_OUT_NV12) {
		layout->stride[1] = stride;
		layout->size = (uint64_t)layout->offset[1] + (uint64_t)stride * chroma_h;
		return true;
	}
	layout->stride[1] = layout->stride[2] = ROUND_UP((stride + 1) / 2, 4);
	layout->offset[2] = layout->offset[1] + layout->stride[1] * chroma_h;
	layout->size = (uint64_t)layout->offset[2] + (uint64_t)layout->stride[2] * chroma_h;
	return true;
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
