/* SPDX-License-Identifier: MIT */
/*
 * The compute kernel against the CPU reference (src/core/reference.c), through the real
 * pipeline: SHM input (staging copy) and, where the device imports DMA-BUFs, a memfd imported
 * as DMA-BUF (lavapipe accepts memfds; DESIGN.md). Random source pixels, odd sizes, padded
 * strides, every input format (8-bit and 10-bit packed orders, NV12 with both matrices and
 * ranges) against every output format (8-bit and 10-bit packed orders, NV12, I420 with both
 * matrices and ranges), bilinear and box scaling, crops touching the edges, all eight
 * transforms, redaction (fill and pixelate), a semi-transparent cursor partly outside the
 * frame, and all of them fused. NV12 sources come with their planes at offsets in one buffer
 * (SHM block, one memfd given as both planes' fd, or two fds of that memfd) and in disjoint
 * buffers (two SHM blocks, two memfds).
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
static const uint32_t fourccs10[] = { DRM_FORMAT_XRGB2101010, DRM_FORMAT_XBGR2101010 };
static const uint32_t out_fourccs[] = {
	DRM_FORMAT_XRGB8888, DRM_FORMAT_XBGR8888, DRM_FORMAT_ARGB8888, DRM_FORMAT_ABGR8888,
	DRM_FORMAT_NV12, DRM_FORMAT_YUV420, DRM_FORMAT_XRGB2101010, DRM_FORMAT_XBGR2101010,
};
#define N_OUT (sizeof(out_fourccs) / sizeof(out_fourccs[0]))

/* How the source reaches the pipeline, and where a second plane lies. */
enum transport {
	SHM,          /* one block: every plane in @data */
	SHM_SPLIT,    /* NV12: the UV plane in a block of its own (extra[0].data) */
	DMABUF,       /* one memfd; a second plane gets the same fd */
	DMABUF_DUP,   /* one memfd; a second plane gets a dup of the fd (one buffer still) */
	DMABUF_SPLIT, /* NV12: disjoint planes, two memfds */
};

static const char *const transport_names[] = {
	"shm", "shm, planes apart", "dmabuf", "dmabuf, dup fd", "dmabuf, disjoint",
};

static uint32_t rng_state = 12345;
static uint32_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 17;
	rng_state ^= rng_state << 5;
	return rng_state;
}

/* Largest difference over the bytes that carry pixels (row padding is not compared); 10-bit
 * outputs compare their R, G, B fields, in 10-bit codes. */
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

/* Source memory of one case: a malloc'ed block or a mapped memfd. */
struct source_mem {
	uint8_t *data;
	size_t size;
	int fd; /* -1 for SHM */
};

static bool source_mem_init(struct source_mem *m, size_t size, bool memfd)
{
	*m = (struct source_mem){ .size = size, .fd = -1 };
	if (!memfd) {
		m->data = malloc(size);
		return m->data != NULL;
	}
	m->fd = memfd_create("test-src", MFD_CLOEXEC);
	if (m->fd < 0 || ftruncate(m->fd, (off_t)size) < 0)
		return false;
	m->data = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, m->fd, 0);
	if (m->data == MAP_FAILED)
		m->data = NULL;
	return m->data != NULL;
}

static void source_mem_finish(struct source_mem *m)
{
	if (m->fd >= 0) {
		if (m->data)
			munmap(m->data, m->size);
		close(m->fd);
	} else {
		free(m->data);
	}
}

static void run_case(struct cr_pipeline *pipe, const struct case_def *c, uint32_t src_fourcc,
		     uint32_t dst_fourcc, enum transport t, bool full_range, enum cr_color_matrix m)
{
	const struct cr_format_info *sf = cr_format_info_from_fourcc(src_fourcc);
	const struct cr_format_info *df = cr_format_info_from_fourcc(dst_fourcc);
	bool nv12 = sf->out_kind == CR_OUT_NV12, dmabuf = t >= DMABUF;
	bool split = nv12 && (t == SHM_SPLIT || t == DMABUF_SPLIT);
	/* NV12 planes at offsets that are not where GStreamer would put them, UV with a stride
	 * of its own; packed sources at offset 0 with the case's padding. */
	uint32_t stride0 = (c->src_w * sf->bytes_per_pixel + 3) / 4 * 4 + c->pad;
	uint32_t off0 = nv12 ? 128 : 0, cw = (c->src_w + 1) / 2, ch = (c->src_h + 1) / 2;
	uint32_t stride1 = nv12 ? (2 * cw + 3) / 4 * 4 + 8 : 0;
	size_t end0 = (size_t)off0 + (size_t)stride0 * c->src_h;
	uint32_t off1 = nv12 ? (split ? 32 : (uint32_t)end0 + 64) : 0;
	size_t end1 = nv12 ? (size_t)off1 + (size_t)stride1 * ch : 0;
	struct source_mem mem[2] = { { .fd = -1 }, { .fd = -1 } };
	if (!CHECK(source_mem_init(&mem[0], split || !nv12 ? end0 : end1, dmabuf)) ||
	    (split && !CHECK(source_mem_init(&mem[1], end1, dmabuf))))
		goto out_mem;
	for (uint32_t k = 0; k < (split ? 2u : 1u); k++)
		for (size_t i = 0; i < mem[k].size; i++)
			mem[k].data[i] = (uint8_t)rng();
	/* NV12 input: decoded with another matrix and range than the output is encoded with */
	enum cr_color_matrix in_m = m == CR_COLOR_BT709 ? CR_COLOR_BT601 : CR_COLOR_BT709;
	bool in_full = !full_range;

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
		.format = sf, .width = c->src_w, .height = c->src_h, .offset = off0,
		.stride = stride0, .data = dmabuf ? NULL : mem[0].data, .size = mem[0].size,
		.crop = c->crop, .transform = c->transform, .cursor = c->cursor ? &cursor : NULL,
		.matrix = in_m, .full_range = in_full,
	};
	if (nv12)
		in.extra[0] = (struct cr_pipeline_plane){
			.offset = off1, .stride = stride1,
			.data = split && !dmabuf ? mem[1].data : NULL,
			.size = split && !dmabuf ? mem[1].size : 0,
		};

	struct cr_plane_layout l;
	cr_format_plane_layout(df, c->dst_w, c->dst_h, &l);
	uint8_t *got = calloc(1, l.size), *want = calloc(1, l.size);
	struct cr_rect crop = c->crop.w ? c->crop : (struct cr_rect){ 0, 0, c->src_w, c->src_h };
	struct cr_process_params p = {
		.src_kind = nv12 ? CR_OUT_NV12 : CR_OUT_PACKED,
		.src_offset = nv12 ? off0 : off0 / 4, .src_stride = nv12 ? stride0 : stride0 / 4,
		.src_offset1 = off1, .src_stride1 = stride1,
		.src_width = c->src_w, .src_height = c->src_h,
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
	if (nv12)
		cr_color_rgb_rows(in_m, in_full, p.rgb_r, p.rgb_g, p.rgb_b);
	const uint32_t *planes[2] = { (const uint32_t *)mem[0].data,
				      (const uint32_t *)(split ? mem[1].data : mem[0].data) };
	cr_reference_process_planes(&p, planes, cursor_px, want);

	struct cr_pipeline_source *source = NULL;
	int dup_fd = -1;
	if (dmabuf) {
		struct cr_dmabuf buf = {
			.width = c->src_w, .height = c->src_h, .fourcc = src_fourcc,
			.modifier = DRM_FORMAT_MOD_LINEAR, .n_planes = sf->n_planes,
			.planes[0] = { mem[0].fd, off0, stride0 },
		};
		if (t == DMABUF_DUP)
			dup_fd = dup(mem[0].fd);
		int fd1 = t == DMABUF_SPLIT ? mem[1].fd : t == DMABUF_DUP ? dup_fd : mem[0].fd;
		if (nv12)
			buf.planes[1] = (struct cr_dmabuf_plane){ fd1, off1, stride1 };
		char why[200] = "";
		CHECK_MSG(cr_dmabuf_validate(&buf, why, sizeof(why)), "%s", why);
		source = cr_pipeline_import_dmabuf(pipe, &buf);
		CHECK_MSG(source != NULL, "memfd import as DMA-BUF failed (%s)",
			  transport_names[t]);
		in.source = source;
	}
	struct run_sync_result r = { .pixels = got };
	if (!dmabuf || source) {
		bool ran = run_sync(pipe, &in, &out, &r);
		CHECK_MSG(ran, "job did not complete");
		if (ran) {
			int err = compare(df, &l, c->dst_w, c->dst_h, got, want);
			bool exact = crop.w == c->dst_w && crop.h == c->dst_h && !c->transform &&
				     !c->cursor && df->out_kind == CR_OUT_PACKED && !nv12;
			/* Float rounding at .5 may differ by one; a plain copy must be exact,
			 * also across bit depths (8 <-> 10 bits never lands near a half). */
			CHECK_MSG(err <= (exact ? 0 : 1),
				  "%s %ux%u crop %u,%u %ux%u t%u r%u%s%s -> %s %ux%u %s %s (%s): "
				  "max error %d", sf->name, c->src_w, c->src_h, crop.x, crop.y,
				  crop.w, crop.h, c->transform, c->n_redact,
				  c->pixelate ? " pixelate" : "", c->cursor ? " cursor" : "",
				  df->name, c->dst_w, c->dst_h, cr_color_matrix_name(m),
				  full_range ? "full" : "limited", transport_names[t], err);
		}
	}
	cr_pipeline_source_destroy(pipe, source);
	if (dup_fd >= 0)
		close(dup_fd);
	free(got);
	free(want);
out_mem:
	source_mem_finish(&mem[0]);
	source_mem_finish(&mem[1]);
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
			for (size_t d = 0; d < N_OUT; d++) {
				bool full = (i + d) % 2;
				enum cr_color_matrix m = (i + s) % 2 ? CR_COLOR_BT709 : CR_COLOR_BT601;
				run_case(pipe, &cases[i], fourccs[s], out_fourccs[d], SHM, full, m);
			}
		/* 10-bit and NV12 sources into every output; NV12 planes in one block or two */
		for (size_t d = 0; d < N_OUT; d++) {
			bool full = (i + d) % 2;
			enum cr_color_matrix m = (i + d / 2) % 2 ? CR_COLOR_BT709 : CR_COLOR_BT601;
			run_case(pipe, &cases[i], fourccs10[(i + d) % 2], out_fourccs[d], SHM, full,
				 m);
			run_case(pipe, &cases[i], DRM_FORMAT_NV12, out_fourccs[d],
				 (i + d) % 2 ? SHM_SPLIT : SHM, full, m);
		}
		if (!can_dmabuf)
			continue;
		run_case(pipe, &cases[i], fourccs[i % 4], out_fourccs[i % N_OUT], DMABUF, false,
			 CR_COLOR_BT709);
		run_case(pipe, &cases[i], fourccs10[i % 2], out_fourccs[(i + 3) % N_OUT], DMABUF,
			 i % 2, CR_COLOR_BT601);
		for (enum transport t = DMABUF; t <= DMABUF_SPLIT; t++)
			run_case(pipe, &cases[i], DRM_FORMAT_NV12, out_fourccs[(i + t) % N_OUT], t,
				 (i + t) % 2, t % 2 ? CR_COLOR_BT709 : CR_COLOR_BT601);
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

	/* NV12: a misaligned or short UV stride, a UV plane beyond its SHM block, and I420
	 * (not an input format) are refused too. */
	uint8_t yuv[64 * 4 + 32 * 2] = { 0 };
	struct cr_pipeline_frame bad_nv12 = {
		.format = cr_format_info_from_fourcc(DRM_FORMAT_NV12), .width = 4, .height = 4,
		.stride = 64, .data = yuv, .size = sizeof(yuv),
		.extra[0] = { .offset = 256, .stride = 30 },
	};
	CHECK(!cr_pipeline_submit(pipe, &bad_nv12, &out, NULL));
	bad_nv12.extra[0].stride = 0;
	CHECK(!cr_pipeline_submit(pipe, &bad_nv12, &out, NULL));
	bad_nv12.extra[0].stride = 32;
	bad_nv12.extra[0].offset = 288; /* 288 + 32 + 4 > 320 */
	CHECK(!cr_pipeline_submit(pipe, &bad_nv12, &out, NULL));
	bad_nv12.extra[0].offset = 256;
	struct run_sync_result ok_run = { 0 };
	CHECK(run_sync(pipe, &bad_nv12, &out, &ok_run)); /* the fixed frame goes through */
	bad_nv12.format = cr_format_info_from_fourcc(DRM_FORMAT_YUV420);
	CHECK(!cr_pipeline_submit(pipe, &bad_nv12, &out, NULL));
	CHECK(cr_pipeline_can_submit(pipe));

	/* Imports: the plane count must be the format's; I420 cannot be read. */
	if (can_dmabuf) {
		int fd = memfd_create("test-bad", MFD_CLOEXEC);
		if (CHECK(fd >= 0 && ftruncate(fd, 4096) == 0)) {
			struct cr_dmabuf buf = {
				.width = 4, .height = 4, .fourcc = DRM_FORMAT_NV12,
				.modifier = DRM_FORMAT_MOD_LINEAR, .n_planes = 1,
				.planes = { { fd, 0, 64 }, { fd, 256, 64 } },
			};
			CHECK(cr_pipeline_import_dmabuf(pipe, &buf) == NULL);
			buf.fourcc = DRM_FORMAT_YUV420;
			buf.n_planes = 3;
			buf.planes[2] = (struct cr_dmabuf_plane){ fd, 512, 64 };
			CHECK(cr_pipeline_import_dmabuf(pipe, &buf) == NULL);
			buf.fourcc = DRM_FORMAT_NV12;
			buf.n_planes = 2;
			struct cr_pipeline_source *good = cr_pipeline_import_dmabuf(pipe, &buf);
			CHECK(good != NULL);
			cr_pipeline_source_destroy(pipe, good);
			close(fd);
		}
	}

	cr_pipeline_destroy(pipe);
	cr_vk_device_destroy(dev);
	return cr_test_result();
}
