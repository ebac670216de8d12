/* SPDX-License-Identifier: MIT */
/*
 * The compute kernel against the CPU reference (src/core/reference.c), through the real
 * pipeline: SHM input (staging copy) and, where the device imports DMA-BUFs, a memfd imported
 * as DMA-BUF (lavapipe accepts memfds; DESIGN.md). Random source pixels, odd sizes, padded
 * strides, every input layout against every output format (packed orders, NV12, I420 with
 * both matrices and ranges), bilinear and box scaling, crops touching the edges, all eight
 * transforms, redaction (fill and pixelate), a semi-transparent cursor partly outside the
 * frame, and all of them fused.
 *
 * Usage: test-pipeline [--require-gpu]   (CR_TEST_VK_DEVICE selects the device)
 * --require-gpu: skip (77) unless the device is a real GPU; the gpu suite uses it.
 */
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include <drm_fourcc.h>

#include "log.h"
#include "reference.h"
#include "run-sync.h"
#include "test.h"
#include "vk-device.h"

struct case_def {
	uint32_t src_w, src_h, pad;
	struct cr_rect crop;
	uint32_t dst_w, dst_h;
	uint32_t transform;
	uint32_t n_redact;
	bool pixelate, cursor;
};

static const struct case_def cases[] = {
	{ 64, 48, 0, { 0 }, 64, 48, 0, 0, false, false },              /* identity: exact */
	{ 257, 131, 12, { 0 }, 257, 131, 0, 0, false, false },         /* odd size, padding */
	{ 320, 240, 0, { 0 }, 160, 120, 0, 0, false, false },          /* 2x down: bilinear */
	{ 100, 60, 8, { 0 }, 333, 197, 0, 0, false, false },           /* up, odd ratio */
	{ 640, 480, 64, { 100, 50, 400, 300 }, 200, 150, 0, 0, false, false }, /* crop + down */
	{ 200, 100, 0, { 150, 70, 50, 30 }, 77, 41, 0, 0, false, false }, /* crop at the edge */
	{ 1920, 1080, 0, { 0 }, 320, 180, 0, 0, false, false },       /* 6x down: box filter */
	{ 301, 203, 4, { 7, 9, 250, 180 }, 61, 37, 0, 0, false, false }, /* box, odd ratios */
	{ 160, 90, 0, { 0 }, 90, 160, CR_TRANSFORM_90, 0, false, false },
	{ 160, 90, 0, { 10, 5, 120, 80 }, 120, 80, CR_TRANSFORM_180, 0, false, false },
	{ 160, 90, 0, { 0 }, 45, 80, CR_TRANSFORM_270, 0, false, false }, /* rotate + scale */
	{ 160, 90, 0, { 0 }, 160, 90, CR_TRANSFORM_FLIPPED, 0, false, false },
	{ 160, 90, 0, { 0 }, 90, 160, CR_TRANSFORM_FLIPPED_90, 0, false, false },
	{ 160, 90, 0, { 0 }, 160, 90, CR_TRANSFORM_FLIPPED_180, 0, false, false },
	{ 160, 90, 0, { 0 }, 90, 160, CR_TRANSFORM_FLIPPED_270, 0, false, false },
	{ 320, 200, 0, { 0 }, 320, 200, 0, 3, false, false },         /* redaction */
	{ 320, 200, 0, { 20, 10, 280, 180 }, 140, 90, 0, 3, true, false }, /* pixelate */
	{ 320, 200, 16, { 0 }, 320, 200, 0, 0, false, true },         /* cursor */
	{ 640, 400, 0, { 0 }, 100, 62, CR_TRANSFORM_90, 2, false, true }, /* all fused, box */
};

static const uint32_t fourccs[] = {
	DRM_FORMAT_XRGB8888, DRM_FORMAT_XBGR8888, DRM_FORMAT_ARGB8888, DRM_FORMAT_ABGR8888,
};
static const uint32_t out_fourccs[] = {
	DRM_FORMAT_XRGB8888, DRM_FORMAT_XBGR8888, DRM_FORMAT_ARGB8888, DRM_FORMAT_ABGR8888,
	DRM_FORMAT_NV12, DRM_FORMAT_YUV420,
};

static uint32_t rng_state = 12345;
static uint32_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 17;
	rng_state ^= rng_state << 5;
	return rng_state;
}

/* Largest difference over the bytes that carry pixels (row padding is not compared). */
static int compare(const struct cr_format_info *f, const struct cr_plane_layout *l, uint32_t w,
		   uint32_t h, const uint8_t *got, const uint8_t *want)
{
	int worst = 0;
	uint32_t cw = (w + 1) / 2, ch = (h + 1) / 2;
	for (uint32_t p = 0; p < l->n_planes; p++) {
		uint32_t row_bytes = p == 0 ? w * f->bytes_per_pixel
					    : (f->out_kind == CR_OUT_NV12 ? 2 * cw : cw);
		uint32_t rows = p == 0 ? h : ch;
		for (uint32_t y = 0; y < rows; y++) {
			for (uint32_t x = 0; x < row_bytes; x++) {
				if (f->out_kind == CR_OUT_PACKED && !f->has_alpha && x % 4 == 3)
					continue; /* the x byte of BGRx/RGBx */
				size_t at = l->offset[p] + (size_t)y * l->stride[p] + x;
				int d = abs((int)got[at] - (int)want[at]);
				worst = d > worst ? d : worst;
			}
		}
	}
	return worst;
}

static void run_case(struct cr_pipeline *pipe, const struct case_def *c, uint32_t src_fourcc,
		     uint32_t dst_fourcc, bool dmabuf, bool full_range, enum cr_color_matrix m)
{
	const struct cr_format_info *sf = cr_format_info_from_fourcc(src_fourcc);
	const struct cr_format_info *df = cr_format_info_from_fourcc(dst_fourcc);
	uint32_t stride_px = c->src_w + c->pad / 4;
	size_t src_bytes = (size_t)stride_px * 4 * c->src_h;
	uint32_t *src = NULL;
	int memfd = -1;
	if (dmabuf) {
		memfd = memfd_create("test-src", MFD_CLOEXEC);
		if (memfd < 0 || ftruncate(memfd, (off_t)src_bytes) < 0)
			return;
		src = mmap(NULL, src_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
		if (src == MAP_FAILED) {
			close(memfd);
			return;
		}
	} else {
		src = malloc(src_bytes);
	}
	for (size_t i = 0; i < src_bytes / 4; i++)
		src[i] = rng();

	uint32_t cursor_px[24 * 20];
	for (size_t i = 0; i < 24 * 20; i++) /* alphas from 0 to 255, colours random */
		cursor_px[i] = (rng() & 0x00ffffffu) | ((uint32_t)((i * 37) & 0xff) << 24);
	struct cr_pipeline_cursor cursor = {
		.pixels = cursor_px, .width = 24, .height = 20, .stride = 24 * 4,
		.format = cr_format_info_from_fourcc(DRM_FORMAT_ARGB8888),
		.x = (int32_t)c->src_w - 15, .y = -6,
	};

	struct cr_pipeline_target out = {
		.format = df, .width = c->dst_w, .height = c->dst_h, .matrix = m,
		.full_range = full_range, .n_redact = c->n_redact, .pixelate = c->pixelate,
		.pixelate_block = 8,
	};
	for (uint32_t i = 0; i < c->n_redact; i++)
		out.redact[i] = (struct cr_rect){ 13 + 50 * i, 40 * i, 60, 33 + i };
	struct cr_pipeline_frame in = {
		.format = sf, .width = c->src_w, .height = c->src_h, .stride = stride_px * 4,
		.data = dmabuf ? NULL : src, .size = src_bytes, .crop = c->crop,
		.transform = c->transform, .cursor = c->cursor ? &cursor : NULL,
	};

	struct cr_plane_layout l;
	cr_format_plane_layout(df, c->dst_w, c->dst_h, &l);
	uint8_t *got = calloc(1, l.size), *want = calloc(1, l.size);
	struct cr_rect crop = c->crop.w ? c->crop : (struct cr_rect){ 0, 0, c->src_w, c->src_h };
	struct cr_process_params p = {
		.src_stride = stride_px, .src_width = c->src_w, .src_height = c->src_h,
		.src_layout = sf->layout, .crop_x = crop.x, .crop_y = crop.y, .crop_w = crop.w,
		.crop_h = crop.h, .transform = c->transform, .out_kind = df->out_kind,
		.dst_width = c->dst_w, .dst_height = c->dst_h, .dst_layout = df->layout,
		.dst_stride = df->out_kind == CR_OUT_PACKED ? l.stride[0] / 4 : l.stride[0],
		.dst_offset1 = l.offset[1], .dst_stride1 = l.stride[1], .dst_offset2 = l.offset[2],
		.dst_stride2 = l.stride[2], .n_redact = c->n_redact,
		.redact_mode = c->pixelate ? CR_REDACT_PIXELATE : CR_REDACT_FILL,
		.redact_block = 8, .redact_color = 0xff000000u, .cursor_enabled = c->cursor,
		.cursor_x = cursor.x, .cursor_y = cursor.y, .cursor_w = cursor.width,
		.cursor_h = cursor.height, .cursor_stride = cursor.width,
		.cursor_layout = CR_LAYOUT_BGRA,
	};
	for (uint32_t i = 0; i < c->n_redact; i++) {
		p.redact[i][0] = out.redact[i].x;
		p.redact[i][1] = out.redact[i].y;
		p.redact[i][2] = out.redact[i].w;
		p.redact[i][3] = out.redact[i].h;
	}
	p.filter_mode = cr_reference_choose_filter(&p);
	cr_color_yuv_rows(m, full_range, p.yuv_y, p.yuv_u, p.yuv_v);
	cr_reference_process(&p, src, cursor_px, want);

	struct cr_pipeline_source *source = NULL;
	if (dmabuf) {
		struct cr_dmabuf buf = {
			.width = c->src_w, .height = c->src_h, .fourcc = src_fourcc,
			.modifier = DRM_FORMAT_MOD_LINEAR, .n_planes = 1,
			.planes[0] = { memfd, 0, stride_px * 4 },
		};
		source = cr_pipeline_import_dmabuf(pipe, &buf);
		CHECK_MSG(source != NULL, "memfd import as DMA-BUF failed");
		in.source = source;
	}
	struct run_sync_result r = { .pixels = got };
	if (!dmabuf || source) {
		bool ran = run_sync(pipe, &in, &out, &r);
		CHECK_MSG(ran, "job did not complete");
		if (ran) {
			int err = compare(df, &l, c->dst_w, c->dst_h, got, want);
			bool exact = crop.w == c->dst_w && crop.h == c->dst_h && !c->transform &&
				     !c->cursor && df->out_kind == CR_OUT_PACKED;
			/* Float rounding at .5 may differ by one; a plain copy must be exact. */
			CHECK_MSG(err <= (exact ? 0 : 1),
				  "%s %ux%u crop %u,%u %ux%u t%u r%u%s%s -> %s %ux%u %s %s (%s): "
				  "max error %d", sf->name, c->src_w, c->src_h, crop.x, crop.y,
				  crop.w, crop.h, c->transform, c->n_redact,
				  c->pixelate ? " pixelate" : "", c->cursor ? " cursor" : "",
				  df->name, c->dst_w, c->dst_h, cr_color_matrix_name(m),
				  full_range ? "full" : "limited", dmabuf ? "dmabuf" : "shm", err);
		}
	}
	cr_pipeline_source_destroy(pipe, source);
	free(got);
	free(want);
	if (dmabuf) {
		munmap(src, src_bytes);
		close(memfd);
	} else {
		free(src);
	}
}

int main(int argc, char **argv)
{
	bool require_gpu = argc > 1 && strcmp(argv[1], "--require-gpu") == 0;
	cr_log_set_level(CR_LOG_INFO);
	struct cr_vk_device *dev = cr_vk_device_create(getenv("CR_TEST_VK_DEVICE"));
	if (!dev) {
		fprintf(stderr, "no Vulkan device\n");
		return require_gpu ? CR_TEST_SKIP : CR_TEST_BROKEN;
	}
	if (require_gpu && dev->props.deviceType == VK_PHYSICAL_DEVICE_TYPE_CPU) {
		fprintf(stderr, "only a CPU Vulkan device (%s): skipping the gpu suite\n",
			cr_vk_device_name(dev));
		cr_vk_device_destroy(dev);
		return CR_TEST_SKIP;
	}
	cr_test_log("device: %s", cr_vk_device_name(dev));
	struct cr_pipeline *pipe = cr_pipeline_create(dev, run_sync_done, NULL);
	if (!CHECK(pipe != NULL))
		return cr_test_result();
	bool can_dmabuf = cr_pipeline_can_import_dmabuf(pipe);
	cr_test_log("DMA-BUF (memfd) import: %s", can_dmabuf ? "tested" : "not supported here");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		for (size_t s = 0; s < 4; s++)
			for (size_t d = 0; d < 6; d++) {
				bool full = (i + d) % 2;
				enum cr_color_matrix m = (i + s) % 2 ? CR_COLOR_BT709 : CR_COLOR_BT601;
				run_case(pipe, &cases[i], fourccs[s], out_fourccs[d], false, full, m);
			}
		if (can_dmabuf)
			run_case(pipe, &cases[i], fourccs[i % 4], out_fourccs[i % 6], true, false,
				 CR_COLOR_BT709);
	}

	/* Rejections: a crop outside the frame and a misaligned stride never reach the GPU. */
	uint32_t px[16] = { 0 };
	const struct cr_format_info *bgrx = cr_format_info_from_fourcc(DRM_FORMAT_XRGB8888);
	struct cr_pipeline_frame bad = { .format = bgrx, .width = 4, .height = 4, .stride = 16,
					 .data = px, .size = sizeof(px),
					 .crop = { 2, 2, 4, 4 } };
	struct cr_pipeline_target out = { .format = bgrx, .width = 2, .height = 2 };
	CHECK(!cr_pipeline_submit(pipe, &bad, &out, NULL));
	bad.crop = (struct cr_rect){ 0 };
	bad.stride = 18;
	CHECK(!cr_pipeline_submit(pipe, &bad, &out, NULL));
	CHECK(cr_pipeline_can_submit(pipe));

	cr_pipeline_destroy(pipe);
	cr_vk_device_destroy(dev);
	return cr_test_result();
}
