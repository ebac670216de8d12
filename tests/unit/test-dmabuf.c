/* SPDX-License-Identifier: MIT */
/* Layout validation of peer buffers: every rejection reason, on real fds (memfds), for
 * single-plane and multi-plane (NV12: planes at offsets in one fd, or in disjoint fds)
 * formats and for non-LINEAR modifiers; the format table and the plane layouts derived
 * from it. */
#include <sys/mman.h>
#include <unistd.h>

#include <drm_fourcc.h>

#include "cr-params.h"
#include "dmabuf.h"
#include "test.h"

static char why[256];

static void test_formats(void)
{
	const struct cr_format_info *f = cr_format_info_from_name("BGRx");
	CHECK(f != NULL);
	CHECK_EQ_HEX(f->fourcc, DRM_FORMAT_XRGB8888);
	CHECK(!f->has_alpha);
	CHECK_EQ_HEX(cr_format_info_from_name("RGBA")->fourcc, DRM_FORMAT_ABGR8888);
	CHECK(cr_format_info_from_name("bgrx") == NULL);
	CHECK(cr_format_info_from_fourcc(DRM_FORMAT_YUYV) == NULL);
	CHECK(cr_format_info_from_name("NV12")->is_yuv);

	/* 10-bit formats: SPA names the word's fields from the top, as DRM does */
	const struct cr_format_info *x10 = cr_format_info_from_name("xRGB_210LE");
	const struct cr_format_info *b10 = cr_format_info_from_name("xBGR_210LE");
	if (CHECK(x10 != NULL && b10 != NULL)) {
		CHECK_EQ_HEX(x10->fourcc, DRM_FORMAT_XRGB2101010);
		CHECK_EQ_HEX(b10->fourcc, DRM_FORMAT_XBGR2101010);
		CHECK_EQ_UINT(x10->depth, 10);
		CHECK_EQ_UINT(x10->bytes_per_pixel, 4);
		CHECK_EQ_UINT(x10->layout, CR_LAYOUT_XRGB2101010);
		CHECK_EQ_UINT(b10->layout, CR_LAYOUT_XBGR2101010);
		CHECK(!x10->has_alpha && !x10->is_yuv && x10->readable);
	}
	CHECK(cr_format_info_from_fourcc(DRM_FORMAT_XRGB2101010) == x10);
	/* what the kernel reads: packed RGB and NV12, not I420 */
	CHECK(cr_format_info_from_name("NV12")->readable);
	CHECK(cr_format_info_from_name("BGRA")->readable);
	CHECK(!cr_format_info_from_name("I420")->readable);
	CHECK_EQ_UINT(cr_format_info_from_name("BGRx")->depth, 8);
	CHECK_EQ_STR(cr_format_names(), "BGRx|RGBx|BGRA|RGBA|xRGB_210LE|xBGR_210LE|NV12|I420");
}

static void test_layouts(void)
{
	const struct cr_format_info *nv12 = cr_format_info_from_name("NV12");
	const struct cr_format_info *i420 = cr_format_info_from_name("I420");
	struct cr_plane_layout l, d;

	/* GStreamer's layout from a Y stride: UV after round_up_2(height) rows, same stride */
	CHECK(cr_format_plane_layout_stride(nv12, 321, 241, 400, &l));
	CHECK_EQ_UINT(l.n_planes, 2);
	CHECK_EQ_UINT(l.stride[0], 400);
	CHECK_EQ_UINT(l.offset[1], 400 * 242);
	CHECK_EQ_UINT(l.stride[1], 400);
	CHECK_EQ_UINT(l.size, 400 * 242 + 400 * 121);
	CHECK(!cr_format_plane_layout_stride(nv12, 321, 241, 320, &l));
	/* stride 0 is the default layout */
	CHECK(cr_format_plane_layout_stride(i420, 161, 121, 0, &l));
	cr_format_plane_layout(i420, 161, 121, &d);
	CHECK_EQ_MEM(&l, &d, sizeof(l));
	CHECK_EQ_UINT(d.stride[0], 164);
	CHECK_EQ_UINT(d.stride[1], 84);

	uint32_t row, rows;
	cr_format_plane_size(nv12, 0, 321, 241, &row, &rows);
	CHECK(row == 321 && rows == 241);
	cr_format_plane_size(nv12, 1, 321, 241, &row, &rows);
	CHECK(row == 322 && rows == 121); /* 161 U V pairs */
	cr_format_plane_size(i420, 2, 321, 241, &row, &rows);
	CHECK(row == 161 && rows == 121);
	cr_format_plane_size(cr_format_info_from_name("xBGR_210LE"), 0, 10, 3, &row, &rows);
	CHECK(row == 40 && rows == 3);
}

static void test_check_plane(void)
{
	const struct cr_format_info *f = cr_format_info_from_name("BGRx");
	CHECK(cr_dmabuf_check_plane(f, 100, 10, 0, 400, 4000, why, sizeof(why)));
	/* The last row need not be padded. */
	CHECK(cr_dmabuf_check_plane(f, 100, 10, 0, 512, 512 * 9 + 400, why, sizeof(why)));
	CHECK(!cr_dmabuf_check_plane(f, 100, 10, 0, 512, 512 * 9 + 399, why, sizeof(why)));
	CHECK_MSG(strstr(why, "needs 5008 bytes, buffer has 5007") != NULL, "%s", why);
	CHECK(!cr_dmabuf_check_plane(f, 100, 10, 0, 396, 4000, why, sizeof(why)));
	CHECK_MSG(strstr(why, "stride 396") != NULL, "%s", why);
	CHECK(!cr_dmabuf_check_plane(f, 100, 10, 2, 400, 8000, why, sizeof(why)));
	CHECK_MSG(strstr(why, "offset 2") != NULL, "%s", why);
	CHECK(!cr_dmabuf_check_plane(f, 0, 10, 0, 400, 8000, why, sizeof(why)));
	CHECK_MSG(strstr(why, "empty frame") != NULL, "%s", why);
	/* No overflow with huge values. */
	CHECK(!cr_dmabuf_check_plane(f, 16384, 16384, 0xfffffffc, 0xfffffffc, 1u << 30, why,
				     sizeof(why)));
}

static void test_validate(void)
{
	int fd = memfd_create("test", MFD_CLOEXEC);
	if (!CHECK(fd >= 0 && ftruncate(fd, 64 * 4 * 32) == 0))
		return;
	struct cr_dmabuf buf = {
		.width = 64, .height = 32, .fourcc = DRM_FORMAT_XRGB8888,
		.modifier = DRM_FORMAT_MOD_LINEAR, .n_planes = 1, .planes[0] = { fd, 0, 256 },
	};
	CHECK_MSG(cr_dmabuf_validate(&buf, why, sizeof(why)), "%s", why);
	buf.height = 33;
	CHECK(!cr_dmabuf_validate(&buf, why, sizeof(why)));
	CHECK_MSG(strstr(why, "buffer has 8192") != NULL, "%s", why);
	buf.height = 32;
	buf.modifier = DRM_FORMAT_MOD_INVALID;
	CHECK(!cr_dmabuf_validate(&buf, why, sizeof(why)));
	CHECK_MSG(strstr(why, "modifier INVALID") != NULL, "%s", why);
	buf.modifier = DRM_FORMAT_MOD_LINEAR;
	buf.n_planes = 2;
	CHECK(!cr_dmabuf_validate(&buf, why, sizeof(why)));
	CHECK_MSG(strstr(why, "2 planes") != NULL, "%s", why);
	buf.n_planes = 1;
	buf.fourcc = DRM_FORMAT_YUYV;
	CHECK(!cr_dmabuf_validate(&buf, why, sizeof(why)));
	CHECK_MSG(strstr(why, "unsupported fourcc") != NULL, "%s", why);
	buf.fourcc = DRM_FORMAT_XRGB8888;
	buf.planes[0].fd = -1;
	CHECK(!cr_dmabuf_validate(&buf, why, sizeof(why)));
	CHECK_MSG(strstr(why, "no fd") != NULL, "%s", why);
	close(fd);
}

static int memfd(size_t size);

/* Tiled and compressed layouts are the driver's: only what holds for any modifier is checked,
 * and memory planes (aux planes of compressed layouts) may outnumber the format's. */
static void test_validate_modifier(void)
{
	int fd = memfd(64 * 4 * 32), small = memfd(4096);
	if (!CHECK(fd >= 0 && small >= 0))
		goto out;
	struct cr_dmabuf buf = {
		.width = 64, .height = 32, .fourcc = DRM_FORMAT_XRGB8888,
		.modifier = I915_FORMAT_MOD_X_TILED, .n_planes = 1, .planes[0] = { fd, 0, 512 },
	};
	/* a stride and a size that LINEAR would not allow: the tiling decides */
	CHECK_MSG(cr_dmabuf_validate(&buf, why, sizeof(why)), "%s", why);
	buf.height = 64;
	CHECK_MSG(cr_dmabuf_validate(&buf, why, sizeof(why)), "%s", why);
	/* a compressed layout: colour plane and CCS plane, in one fd and in two */
	buf.modifier = I915_FORMAT_MOD_Y_TILED_GEN12_RC_CCS;
	buf.n_planes = 2;
	buf.planes[1] = (struct cr_dmabuf_plane){ fd, 6144, 128 };
	CHECK_MSG(cr_dmabuf_validate(&buf, why, sizeof(why)), "%s", why);
	buf.planes[1] = (struct cr_dmabuf_plane){ small, 0, 128 };
	CHECK_MSG(cr_dmabuf_validate(&buf, why, sizeof(why)), "%s", why);

	/* rejected: an offset beyond the plane's own fd, naming the plane */
	buf.planes[1].offset = 4096;
	CHECK(!cr_dmabuf_validate(&buf, why, sizeof(why)));
	CHECK_MSG(strcmp(why, "plane 1: offset 4096 lies beyond the 4096 bytes of its buffer") == 0,
		  "%s", why);
	buf.planes[1].offset = 0;
	buf.planes[0].offset = 8192;
	CHECK(!cr_dmabuf_validate(&buf, why, sizeof(why)));
	CHECK_MSG(strcmp(why, "plane 0: offset 8192 lies beyond the 8192 bytes of its buffer") == 0,
		  "%s", why);
	buf.planes[0].offset = 0;
	/* rejected: no stride */
	buf.planes[0].stride = 0;
	CHECK(!cr_dmabuf_validate(&buf, why, sizeof(why)));
	CHECK_MSG(strcmp(why, "plane 0: stride 0") == 0, "%s", why);
	buf.planes[0].stride = 512;
	/* rejected: more planes than a descriptor holds, and none */
	buf.n_planes = CR_DMABUF_MAX_PLANES + 1;
	CHECK(!cr_dmabuf_validate(&buf, why, sizeof(why)));
	CHECK_MSG(strstr(why, "5 planes given for modifier 0x0100000000000006, 1 to 4 allowed"),
		  "%s", why);
	buf.n_planes = 0;
	CHECK(!cr_dmabuf_validate(&buf, why, sizeof(why)));
	CHECK_MSG(strstr(why, "0 planes given for modifier") != NULL, "%s", why);
	buf.n_planes = 2;
	/* rejected: a plane without an fd */
	buf.planes[1].fd = -1;
	CHECK(!cr_dmabuf_validate(&buf, why, sizeof(why)));
	CHECK_MSG(strcmp(why, "plane 1: no fd") == 0, "%s", why);
out:
	if (fd >= 0)
		close(fd);
	if (small >= 0)
		close(small);
}

static int memfd(size_t size)
{
	int fd = memfd_create("test", MFD_CLOEXEC);
	if (fd >= 0 && ftruncate(fd, (off_t)size) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* NV12 64x32: Y 64 x 32 bytes, UV 64 x 16 bytes. */
static void test_validate_planes(void)
{
	int one = memfd(4096 + 64 * 32 + 64 * 16), y = memfd(64 * 32), uv = memfd(64 * 16 + 8);
	int pipefd[2] = { -1, -1 };
	if (!CHECK(one >= 0 && y >= 0 && uv >= 0 && pipe(pipefd) == 0))
		goto out;
	struct cr_dmabuf buf = {
		.width = 64, .height = 32, .fourcc = DRM_FORMAT_NV12,
		.modifier = DRM_FORMAT_MOD_LINEAR, .n_planes = 2,
		.planes = { { one, 4096, 64 }, { one, 4096 + 64 * 32, 64 } },
	};
	/* one fd, planes at offsets */
	CHECK_MSG(cr_dmabuf_validate(&buf, why, sizeof(why)), "%s", why);
	/* disjoint fds, the UV plane at an offset in its own */
	buf.planes[0] = (struct cr_dmabuf_plane){ y, 0, 64 };
	buf.planes[1] = (struct cr_dmabuf_plane){ uv, 8, 64 };
	CHECK_MSG(cr_dmabuf_validate(&buf, why, sizeof(why)), "%s", why);

	/* plane count */
	buf.n_planes = 1;
	CHECK(!cr_dmabuf_validate(&buf, why, sizeof(why)));
	CHECK_MSG(strstr(why, "1 planes given, NV12 has 2") != NULL, "%s", why);
	buf.n_planes = 3;
	CHECK(!cr_dmabuf_validate(&buf, why, sizeof(why)));
	CHECK_MSG(strstr(why, "3 planes given, NV12 has 2") != NULL, "%s", why);
	buf.n_planes = 2;
	/* the second plane's fd */
	buf.planes[1].fd = -1;
	CHECK(!cr_dmabuf_validate(&buf, why, sizeof(why)));
	CHECK_MSG(strcmp(why, "plane 1: no fd") == 0, "%s", why);
	buf.planes[1].fd = pipefd[0];
	CHECK(!cr_dmabuf_validate(&buf, why, sizeof(why)));
	CHECK_MSG(strstr(why, "plane 1: fd ") && strstr(why, "has no size"), "%s", why);
	buf.planes[1].fd = uv;
	/* the UV stride: shorter than 32 U V pairs, not a multiple of 4 */
	buf.planes[1].stride = 62;
	CHECK(!cr_dmabuf_validate(&buf, why, sizeof(why)));
	CHECK_MSG(strstr(why, "plane 1: stride 62 is less than the 64 bytes of a NV12 chroma "
			      "row") != NULL, "%s", why);
	buf.planes[1].stride = 66;
	CHECK(!cr_dmabuf_validate(&buf, why, sizeof(why)));
	CHECK_MSG(strstr(why, "plane 1: stride 66 / offset 8 not a multiple of 4") != NULL, "%s",
		  why);
	buf.planes[1].stride = 64;
	/* the UV offset: misaligned, and one past what its own fd holds */
	buf.planes[1].offset = 6;
	CHECK(!cr_dmabuf_validate(&buf, why, sizeof(why)));
	CHECK_MSG(strstr(why, "plane 1: stride 64 / offset 6 not a multiple of 4") != NULL, "%s",
		  why);
	buf.planes[1].offset = 12;
	CHECK(!cr_dmabuf_validate(&buf, why, sizeof(why)));
	CHECK_MSG(strstr(why, "plane 1: offset 12 + stride 64 x height 16 needs 1036 bytes, "
			      "buffer has 1032") != NULL, "%s", why);
	/* a UV plane that fits the big fd but not the small one it was given */
	buf.planes[1] = (struct cr_dmabuf_plane){ uv, 4096, 64 };
	CHECK(!cr_dmabuf_validate(&buf, why, sizeof(why)));
	CHECK_MSG(strstr(why, "plane 1: offset 4096") && strstr(why, "buffer has 1032"), "%s",
		  why);
	/* one fd: the UV plane runs past its end */
	buf.planes[0] = (struct cr_dmabuf_plane){ one, 4096, 64 };
	buf.planes[1] = (struct cr_dmabuf_plane){ one, 4096 + 64 * 32 + 4, 64 };
	CHECK(!cr_dmabuf_validate(&buf, why, sizeof(why)));
	CHECK_MSG(strstr(why, "plane 1: offset 6148 + stride 64 x height 16 needs 7172 bytes, "
			      "buffer has 7168") != NULL, "%s", why);
	/* plane 0 is checked first, with its own reason */
	buf.planes[0].stride = 60;
	CHECK(!cr_dmabuf_validate(&buf, why, sizeof(why)));
	CHECK_MSG(strstr(why, "plane 0: stride 60 is less than width 64 x 1 bytes") != NULL,
		  "%s", why);

	/* per frame: each plane against the size of its own memory */
	const struct cr_format_info *nv12 = cr_format_info_from_name("NV12");
	struct cr_dmabuf_plane planes[2] = { { -1, 0, 64 }, { -1, 0, 64 } };
	uint64_t sizes[2] = { 64 * 32, 64 * 16 };
	CHECK_MSG(cr_dmabuf_check_planes(nv12, 64, 32, planes, sizes, why, sizeof(why)), "%s",
		  why);
	CHECK(cr_dmabuf_check_planes(nv12, 63, 31, planes, sizes, why, sizeof(why)));
	sizes[1] = 64 * 16 - 1;
	CHECK(!cr_dmabuf_check_planes(nv12, 64, 32, planes, sizes, why, sizeof(why)));
	CHECK_MSG(strstr(why, "plane 1: offset 0 + stride 64 x height 16 needs 1024 bytes, "
			      "buffer has 1023") != NULL, "%s", why);
	CHECK(!cr_dmabuf_check_planes(nv12, 64, 0, planes, sizes, why, sizeof(why)));
	CHECK_MSG(strstr(why, "empty frame 64x0") != NULL, "%s", why);
	/* an odd height needs ceil(h / 2) chroma rows */
	sizes[1] = 64 * 16;
	CHECK(!cr_dmabuf_check_planes(nv12, 64, 33, planes, sizes, why, sizeof(why)));
	CHECK_MSG(strstr(why, "plane 0: offset 0 + stride 64 x height 33") != NULL, "%s", why);
	sizes[0] = 64 * 33;
	CHECK(!cr_dmabuf_check_planes(nv12, 64, 33, planes, sizes, why, sizeof(why)));
	CHECK_MSG(strstr(why, "plane 1: offset 0 + stride 64 x height 17 needs 1088") != NULL,
		  "%s", why);

	/* 10-bit: 4 bytes per pixel */
	const struct cr_format_info *x10 = cr_format_info_from_name("xRGB_210LE");
	CHECK(cr_dmabuf_check_plane(x10, 100, 10, 0, 400, 4000, why, sizeof(why)));
	CHECK(!cr_dmabuf_check_plane(x10, 100, 10, 0, 200, 4000, why, sizeof(why)));
	CHECK_MSG(strstr(why, "stride 200 is less than width 100 x 4 bytes") != NULL, "%s", why);
out:
	for (int i = 0; i < 2; i++)
		if (pipefd[i] >= 0)
			close(pipefd[i]);
	if (one >= 0)
		close(one);
	if (y >= 0)
		close(y);
	if (uv >= 0)
		close(uv);
}

int main(void)
{
	test_formats();
	test_layouts();
	test_check_plane();
	test_validate();
	test_validate_modifier();
	test_validate_planes();
	return cr_test_result();
}
