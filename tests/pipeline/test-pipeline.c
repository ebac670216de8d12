/* SPDX-License-Identifier: MIT */
/*
 * The compute kernel against the CPU reference (src/core/reference.c), through the real
 * pipeline: SHM input (staging copy) and, where the device imports DMA-BUFs, a memfd imported
 * as DMA-BUF (lavapipe accepts memfds; DESIGN.md). Random source pixels, odd sizes, padded
 * strides, every layout pair, up- and downscaling, crops touching the edges.
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
};

static const struct case_def cases[] = {
	{ 64, 48, 0, { 0, 0, 0, 0 }, 64, 48 },         /* identity: must be exact */
	{ 257, 131, 12, { 0, 0, 0, 0 }, 257, 131 },    /* odd size, padded stride */
	{ 320, 240, 0, { 0, 0, 0, 0 }, 160, 120 },     /* 2x down */
	{ 100, 60, 8, { 0, 0, 0, 0 }, 333, 197 },      /* up, non-integer ratio */
	{ 640, 480, 64, { 100, 50, 400, 300 }, 200, 150 }, /* crop + down */
	{ 200, 100, 0, { 150, 70, 50, 30 }, 77, 41 },  /* crop at the bottom-right edge, up */
	{ 1920, 1080, 0, { 0, 0, 0, 0 }, 1280, 720 },  /* a real size */
};

static const uint32_t fourccs[] = {
	DRM_FORMAT_XRGB8888, DRM_FORMAT_XBGR8888, DRM_FORMAT_ARGB8888, DRM_FORMAT_ABGR8888,
};

static uint32_t rng_state = 12345;
static uint32_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 17;
	rng_state ^= rng_state << 5;
	return rng_state;
}

/* Largest per-channel difference; alpha only when the output has alpha. */
static int compare(const uint32_t *got, const uint32_t *want, uint32_t n, bool alpha)
{
	int worst = 0;
	for (uint32_t i = 0; i < n; i++) {
		for (int c = 0; c < (alpha ? 4 : 3); c++) {
			int off = c == 3 ? 24 : 8 * c;
			int d = abs((int)((got[i] >> off) & 0xff) - (int)((want[i] >> off) & 0xff));
			worst = d > worst ? d : worst;
		}
	}
	return worst;
}

static void run_case(struct cr_pipeline *pipe, const struct case_def *c, uint32_t src_fourcc,
		     uint32_t dst_fourcc, bool dmabuf)
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

	uint32_t *got = calloc((size_t)c->dst_w * c->dst_h, 4);
	uint32_t *want = calloc((size_t)c->dst_w * c->dst_h, 4);
	struct cr_rect crop = c->crop.w ? c->crop : (struct cr_rect){ 0, 0, c->src_w, c->src_h };
	struct cr_scale_params p = {
		.src_stride = stride_px, .src_width = c->src_w, .src_height = c->src_h,
		.src_layout = sf->layout, .crop_x = crop.x, .crop_y = crop.y, .crop_w = crop.w,
		.crop_h = crop.h, .dst_stride = c->dst_w, .dst_width = c->dst_w,
		.dst_height = c->dst_h, .dst_layout = df->layout,
	};
	cr_reference_scale(&p, src, want);

	struct cr_pipeline_source *source = NULL;
	if (dmabuf) {
		struct cr_dmabuf buf = {
			.width = c->src_w, .height = c->src_h, .fourcc = src_fourcc,
			.modifier = DRM_FORMAT_MOD_LINEAR, .n_planes = 1,
			.planes[0] = { memfd, 0, stride_px * 4 },
		};
		source = cr_pipeline_import_dmabuf(pipe, &buf);
		CHECK_MSG(source != NULL, "memfd import as DMA-BUF failed");
	}
	struct cr_pipeline_frame in = {
		.format = sf, .width = c->src_w, .height = c->src_h, .stride = stride_px * 4,
		.source = source, .data = dmabuf ? NULL : src, .size = src_bytes, .crop = c->crop,
	};
	struct cr_pipeline_target out = { df, c->dst_w, c->dst_h };
	struct run_sync_result r = { .pixels = got };
	if (!dmabuf || source) {
		bool ran = run_sync(pipe, &in, &out, &r);
		CHECK_MSG(ran, "job did not complete");
		if (ran) {
			int err = compare(got, want, c->dst_w * c->dst_h, df->has_alpha);
			bool identity = crop.w == c->dst_w && crop.h == c->dst_h;
			/* Float rounding at .5 may differ by one; identity must be exact. */
			CHECK_MSG(err <= (identity ? 0 : 1),
				  "%s %ux%u crop %u,%u %ux%u -> %s %ux%u (%s): max error %d",
				  sf->name, c->src_w, c->src_h, crop.x, crop.y, crop.w, crop.h,
				  df->name, c->dst_w, c->dst_h, dmabuf ? "dmabuf" : "shm", err);
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
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		for (size_t s = 0; s < 4; s++)
			for (size_t d = 0; d < 4; d++) {
				run_case(pipe, &cases[i], fourccs[s], fourccs[d], false);
				if (can_dmabuf && d == s)
					run_case(pipe, &cases[i], fourccs[s], fourccs[d], true);
			}

	/* Rejections: a crop outside the frame and a misaligned stride never reach the GPU. */
	uint32_t px[16] = { 0 };
	const struct cr_format_info *bgrx = cr_format_info_from_fourcc(DRM_FORMAT_XRGB8888);
	struct cr_pipeline_frame bad = { .format = bgrx, .width = 4, .height = 4, .stride = 16,
					 .data = px, .size = sizeof(px),
					 .crop = { 2, 2, 4, 4 } };
	struct cr_pipeline_target out = { bgrx, 2, 2 };
	CHECK(!cr_pipeline_submit(pipe, &bad, &out, NULL));
	bad.crop = (struct cr_rect){ 0 };
	bad.stride = 18;
	CHECK(!cr_pipeline_submit(pipe, &bad, &out, NULL));
	CHECK(cr_pipeline_can_submit(pipe));

	cr_pipeline_destroy(pipe);
	cr_vk_device_destroy(dev);
	return cr_test_result();
}
