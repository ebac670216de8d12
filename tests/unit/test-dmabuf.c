/* SPDX-License-Identifier: MIT */
/* Layout validation of peer buffers: every rejection reason, on real fds (memfds). */
#include <sys/mman.h>
#include <unistd.h>

#include <drm_fourcc.h>

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
	buf.modifier = I915_FORMAT_MOD_X_TILED;
	CHECK(!cr_dmabuf_validate(&buf, why, sizeof(why)));
	CHECK_MSG(strstr(why, "not LINEAR") != NULL, "%s", why);
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

int main(void)
{
	test_formats();
	test_check_plane();
	test_validate();
	return cr_test_result();
}
