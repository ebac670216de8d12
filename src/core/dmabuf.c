/* SPDX-License-Identifier: MIT */
#include "dmabuf.h"

#include <drm_fourcc.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cr-params.h"

/* Little-endian DRM names the bits of a 32-bit word, SPA names the bytes in memory:
 * SPA BGRx == DRM XRGB8888. The 10-bit formats are named by SPA as words too (xRGB_210LE:
 * x in the top bits, B in the low ones), as DRM does. */
static const struct cr_format_info formats[] = {
	{ DRM_FORMAT_XRGB8888, "BGRx", CR_LAYOUT_BGRX, 1, 4, false, CR_OUT_PACKED, false, 8, true },
	{ DRM_FORMAT_XBGR8888, "RGBx", CR_LAYOUT_RGBX, 1, 4, false, CR_OUT_PACKED, false, 8, true },
	{ DRM_FORMAT_ARGB8888, "BGRA", CR_LAYOUT_BGRA, 1, 4, true, CR_OUT_PACKED, false, 8, true },
	{ DRM_FORMAT_ABGR8888, "RGBA", CR_LAYOUT_RGBA, 1, 4, true, CR_OUT_PACKED, false, 8, true },
	{ DRM_FORMAT_XRGB2101010, "xRGB_210LE", CR_LAYOUT_XRGB2101010, 1, 4, false, CR_OUT_PACKED,
	  false, 10, true },
	{ DRM_FORMAT_XBGR2101010, "xBGR_210LE", CR_LAYOUT_XBGR2101010, 1, 4, false, CR_OUT_PACKED,
	  false, 10, true },
	{ DRM_FORMAT_NV12, "NV12", 0, 2, 1, false, CR_OUT_NV12, true, 8, true },
	{ DRM_FORMAT_YUV420, "I420", 0, 3, 1, false, CR_OUT_I420, true, 8, false },
};

const struct cr_format_info *cr_format_info_from_fourcc(uint32_t fourcc)
{
	for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++)
		if (formats[i].fourcc == fourcc)
			return &formats[i];
	return NULL;
}

const struct cr_format_info *cr_format_info_from_name(const char *name)
{
	for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++)
		if (strcmp(formats[i].name, name) == 0)
			return &formats[i];
	return NULL;
}

const char *cr_format_names(void)
{
	return "BGRx|RGBx|BGRA|RGBA|xRGB_210LE|xBGR_210LE|NV12|I420";
}

#define ROUND_UP(x, n) (((x) + (n) - 1) / (n) * (n))

void cr_format_plane_layout(const struct cr_format_info *fmt, uint32_t width, uint32_t height,
			    struct cr_plane_layout *l)
{
	cr_format_plane_layout_stride(fmt, width, height, 0, l);
}

bool cr_format_plane_layout_stride(const struct cr_format_info *fmt, uint32_t width,
				   uint32_t height, uint32_t stride, struct cr_plane_layout *l)
{
	*l = (struct cr_plane_layout){ .n_planes = fmt->n_planes };
	uint64_t row = (uint64_t)width * fmt->bytes_per_pixel;
	if (stride == 0)
		stride = ROUND_UP((uint32_t)row, 4);
	else if (stride < row)
		return false;
	l->stride[0] = stride;
	if (fmt->out_kind == CR_OUT_PACKED) {
		l->size = (uint64_t)stride * height;
		return true;
	}
	uint32_t luma_h = ROUND_UP(height, 2), chroma_h = luma_h / 2;
	l->offset[1] = stride * luma_h;
	if (fmt->out_kind == CR_OUT_NV12) {
		l->stride[1] = stride;
		l->size = (uint64_t)l->offset[1] + (uint64_t)l->stride[1] * chroma_h;
		return true;
	}
	l->stride[1] = l->stride[2] = ROUND_UP((stride + 1) / 2, 4);
	l->offset[2] = l->offset[1] + l->stride[1] * chroma_h;
	l->size = (uint64_t)l->offset[2] + (uint64_t)l->stride[2] * chroma_h;
	return true;
}

void cr_format_plane_size(const struct cr_format_info *fmt, uint32_t plane, uint32_t width,
			  uint32_t height, uint32_t *row_bytes, uint32_t *rows)
{
	uint32_t cw = (width + 1) / 2;
	if (plane == 0) {
		*row_bytes = width * fmt->bytes_per_pixel;
		*rows = height;
		return;
	}
	*row_bytes = fmt->out_kind == CR_OUT_NV12 ? 2 * cw : cw;
	*rows = (height + 1) / 2;
}

static bool check_plane(const struct cr_format_info *fmt, uint32_t width, uint32_t height,
			uint32_t offset, uint32_t stride, uint64_t size, unsigned plane, char *why,
			size_t why_len)
{
	uint32_t row_bytes, rows;
	cr_format_plane_size(fmt, plane, width, height, &row_bytes, &rows);
	uint64_t row = row_bytes;
	if (stride < row) {
		if (plane == 0)
			snprintf(why, why_len,
				 "plane 0: stride %u is less than width %u x %u bytes", stride,
				 width, fmt->bytes_per_pixel);
		else
			snprintf(why, why_len, "plane %u: stride %u is less than the %u bytes of a "
				 "%s chroma row", plane, stride, row_bytes, fmt->name);
		return false;
	}
	if (stride % 4 != 0 || offset % 4 != 0) {
		snprintf(why, why_len, "plane %u: stride %u / offset %u not a multiple of 4", plane,
			 stride, offset);
		return false;
	}
	uint64_t need = (uint64_t)offset + (uint64_t)stride * (rows - 1) + row;
	if (need > size) {
		snprintf(why, why_len,
			 "plane %u: offset %u + stride %u x height %u needs %llu bytes, buffer has %llu",
			 plane, offset, stride, rows, (unsigned long long)need,
			 (unsigned long long)size);
		return false;
	}
	return true;
}

bool cr_dmabuf_check_plane(const struct cr_format_info *fmt, uint32_t width, uint32_t height,
			    uint32_t offset, uint32_t stride, uint64_t size, char *why,
			    size_t why_len)
{
	if (width == 0 || height == 0) {
		snprintf(why, why_len, "empty frame %ux%u", width, height);
		return false;
	}
	return check_plane(fmt, width, height, offset, stride, size, 0, why, why_len);
}

bool cr_dmabuf_check_planes(const struct cr_format_info *fmt, uint32_t width, uint32_t height,
			    const struct cr_dmabuf_plane *planes, const uint64_t *sizes,
			    char *why, size_t why_len)
{
	if (width == 0 || height == 0) {
		snprintf(why, why_len, "empty frame %ux%u", width, height);
		return false;
	}
	for (uint32_t i = 0; i < fmt->n_planes; i++)
		if (!check_plane(fmt, width, height, planes[i].offset, planes[i].stride, sizes[i],
				 i, why, why_len))
			return false;
	return true;
}

/* The bytes of plane @i's fd (lseek(SEEK_END) works on DMA-BUFs and memfds). */
static bool plane_fd_size(const struct cr_dmabuf *buf, uint32_t i, uint64_t *size, char *why,
			  size_t why_len)
{
	const struct cr_dmabuf_plane *p = &buf->planes[i];
	if (p->fd < 0) {
		snprintf(why, why_len, "plane %u: no fd", i);
		return false;
	}
	off_t end = lseek(p->fd, 0, SEEK_END);
	if (end < 0) {
		snprintf(why, why_len, "plane %u: fd %d has no size (lseek failed)", i, p->fd);
		return false;
	}
	*size = (uint64_t)end;
	return true;
}

/* A tiled or compressed layout cannot be computed here: only what holds for any modifier
 * (the driver checks the rest when the image is imported). */
static bool validate_modifier(const struct cr_dmabuf *buf, char *why, size_t why_len)
{
	if (buf->n_planes == 0 || buf->n_planes > CR_DMABUF_MAX_PLANES) {
		snprintf(why, why_len, "%u planes given for modifier 0x%016llx, 1 to %u allowed",
			 buf->n_planes, (unsigned long long)buf->modifier, CR_DMABUF_MAX_PLANES);
		return false;
	}
	if (buf->planes[0].stride == 0) {
		snprintf(why, why_len, "plane 0: stride 0");
		return false;
	}
	for (uint32_t i = 0; i < buf->n_planes; i++) {
		uint64_t size;
		if (!plane_fd_size(buf, i, &size, why, why_len))
			return false;
		if (buf->planes[i].offset >= size) {
			snprintf(why, why_len, "plane %u: offset %u lies beyond the %llu bytes of "
				 "its buffer", i, buf->planes[i].offset, (unsigned long long)size);
			return false;
		}
	}
	return true;
}

bool cr_dmabuf_validate(const struct cr_dmabuf *buf, char *why, size_t why_len)
{
	const struct cr_format_info *fmt = cr_format_info_from_fourcc(buf->fourcc);
	if (!fmt) {
		snprintf(why, why_len, "unsupported fourcc 0x%08x", buf->fourcc);
		return false;
	}
	if (buf->width == 0 || buf->height == 0) {
		snprintf(why, why_len, "empty frame %ux%u", buf->width, buf->height);
		return false;
	}
	if (buf->modifier == DRM_FORMAT_MOD_INVALID) {
		snprintf(why, why_len, "modifier INVALID (implicit layout) cannot be imported");
		return false;
	}
	if (buf->modifier != DRM_FORMAT_MOD_LINEAR)
		return validate_modifier(buf, why, why_len);
	if (buf->n_planes != fmt->n_planes) {
		snprintf(why, why_len, "%u planes given, %s has %u", buf->n_planes, fmt->name,
			 fmt->n_planes);
		return false;
	}
	for (uint32_t i = 0; i < buf->n_planes; i++) {
		uint64_t size;
		if (!plane_fd_size(buf, i, &size, why, why_len) ||
		    !check_plane(fmt, buf->width, buf->height, buf->planes[i].offset,
				 buf->planes[i].stride, size, i, why, why_len))
			return false;
	}
	return true;
}

bool cr_dmabuf_same_buffer(int a, int b)
{
	struct stat sa, sb;
	return a == b || (fstat(a, &sa) == 0 && fstat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
			  sa.st_ino == sb.st_ino);
}
