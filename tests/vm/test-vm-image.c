/* SPDX-License-Identifier: MIT */
/*
 * Guest side (suite vm-guest): the pipeline's image path (DRM format modifiers) on real
 * DMA-BUFs. The guest's lavapipe has VK_EXT_image_drm_format_modifier with LINEAR only, so a
 * pipeline created with CASTRELAY_TEST_LINEAR_IMAGES=1 imports and exports LINEAR DMA-BUFs of
 * packed formats as images (what tiled modifiers get on real GPUs):
 *
 * 1. A udmabuf source with a padded stride and a non-zero offset, imported with
 *    cr_pipeline_import_dmabuf() as an image (explicit row pitch and offset), into an output
 *    exported with cr_pipeline_export_frame() as a LINEAR image; the exported DMA-BUF, mapped,
 *    must equal the CPU reference (exact for copies): BGRx, RGBA and xRGB_210LE each way,
 *    xRGB_210LE into xBGR_210LE, and crops with bilinear and box downscales. Outputs of a
 *    format without an exportable storage-image modifier are buffers (lavapipe has no
 *    STORAGE_IMAGE for A2R10G10B10, so xRGB_210LE outputs are; its xBGR_210LE are images).
 * 2. An image source keeps its import's layout: a frame with another stride or offset is
 *    refused by cr_pipeline_submit().
 * 3. The modifier lists name LINEAR once, with and without the switch.
 * 4. Without the switch (a second pipeline of the same device, created after unsetenv: the
 *    environment is read at pipeline creation) the same LINEAR DMA-BUFs are storage buffers,
 *    with the same pixels.
 * 5. NV12 in udmabufs, Y and UV at offsets and strides of their own, both planes in one
 *    udmabuf and in two (bound DISJOINT), identity and crops with scaling, both matrices and
 *    ranges: images with the switch where the device has a sampled LINEAR NV12 modifier (and
 *    its DISJOINT feature for two udmabufs; without it that import must not be an image),
 *    storage buffers without the switch or that modifier; pixels as the reference (within 1);
 *    an image refuses frames with another Y or UV offset or stride.
 *
 * One process, one device (6-8 s to create under TCG). Each kernel variant compiles on first
 * use (half a minute under TCG without the shared shader cache, tests/vm/meson.build).
 */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <fcntl.h>

#include <drm_fourcc.h>

#include "kernels.h"
#include "pipeline.h"
#include "pipeline/frame-compare.h"
#include "reference.h"
#include "test.h"
#include "vk-device.h"
#include "vk-format.h"
#include "vm-dmabuf.h"

#define SRC_OFFSET 256u  /* bytes before the first row of a source */
#define SRC_PAD 68u      /* bytes after each row of a source */
#define RESULT_TIMEOUT_MS 120000 /* the first job of a variant compiles the kernel */

static uint32_t rng_state = 4242;
static uint32_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 17;
	rng_state ^= rng_state << 5;
	return rng_state;
}

static void on_done(void *job_data, const struct cr_pipeline_result *res, void *data)
{
	*(int *)job_data = res->ok ? 1 : -1;
}

/* Submits and waits; returns whether the job completed with ok. */
static bool run_job(struct cr_pipeline *pipe, const struct cr_pipeline_frame *in,
		    const struct cr_pipeline_target *out)
{
	int state = 0;
	if (!cr_pipeline_submit(pipe, in, out, &state))
		return false;
	struct pollfd pfd = { .fd = cr_pipeline_get_fd(pipe), .events = POLLIN };
	while (state == 0 && poll(&pfd, 1, RESULT_TIMEOUT_MS) > 0)
		cr_pipeline_dispatch(pipe);
	return state == 1;
}

/* A udmabuf filled with random bytes, written through the memfd behind it. */
struct udmabuf {
	int dmabuf, memfd;
	uint8_t *map;
	size_t size;
};

static bool udmabuf_init(struct udmabuf *b, size_t size)
{
	*b = (struct udmabuf){ .dmabuf = -1, .memfd = -1 };
	b->size = (size + 4095) & ~(size_t)4095;
	b->dmabuf = cr_dmabuf_alloc_udmabuf(b->size, &b->memfd);
	if (!CHECK(b->dmabuf >= 0))
		return false;
	b->map = mmap(NULL, b->size, PROT_READ | PROT_WRITE, MAP_SHARED, b->memfd, 0);
	if (!CHECK(b->map != MAP_FAILED)) {
		b->map = NULL;
		return false;
	}
	for (size_t i = 0; i < b->size; i++)
		b->map[i] = (uint8_t)rng();
	return true;
}

static void udmabuf_finish(struct udmabuf *b)
{
	if (b->map)
		munmap(b->map, b->size);
	if (b->memfd >= 0)
		close(b->memfd);
	if (b->dmabuf >= 0)
		close(b->dmabuf);
}

/* A packed source frame in a udmabuf: random pixels at SRC_OFFSET, rows SRC_PAD bytes longer
 * than the frame's. */
struct source {
	struct udmabuf buf;
	struct cr_dmabuf desc;
};

static bool source_init(struct source *s, uint32_t fourcc, uint32_t w, uint32_t h)
{
	uint32_t stride = w * 4 + SRC_PAD;
	if (!udmabuf_init(&s->buf, (size_t)SRC_OFFSET + (size_t)stride * h))
		return false;
	s->desc = (struct cr_dmabuf){
		.width = w, .height = h, .fourcc = fourcc, .modifier = DRM_FORMAT_MOD_LINEAR,
		.n_planes = 1, .planes[0] = { s->buf.dmabuf, SRC_OFFSET, stride },
	};
	return true;
}

static void source_finish(struct source *s)
{
	udmabuf_finish(&s->buf);
}

/* The reference frame of @src cropped to @crop and scaled to @dst's size, in
 * cr_format_plane_layout() of @dst (@want, @l). */
static void reference(const struct source *src, const struct cr_format_info *df, uint32_t dw,
		      uint32_t dh, struct cr_rect crop, const struct cr_plane_layout *l,
		      uint8_t *want)
{
	const struct cr_format_info *sf = cr_format_info_from_fourcc(src->desc.fourcc);
	struct cr_process_params p = {
		.src_kind = CR_OUT_PACKED,
		.src_offset = src->desc.planes[0].offset / 4,
		.src_stride = src->desc.planes[0].stride / 4,
		.src_width = src->desc.width, .src_height = src->desc.height,
		.src_layout = sf->layout,
		.crop_x = crop.x, .crop_y = crop.y, .crop_w = crop.w, .crop_h = crop.h,
		.out_kind = CR_OUT_PACKED, .dst_width = dw, .dst_height = dh,
		.dst_layout = df->layout, .dst_stride = l->stride[0] / 4,
	};
	p.filter_mode = cr_reference_choose_filter(&p);
	cr_reference_process(&p, (const uint32_t *)src->buf.map, NULL, want);
}

/* Reads plane 0 of the exported frame @desc into @got, rows l->stride[0] apart. */
static bool read_export(const struct cr_dmabuf *desc, const struct cr_plane_layout *l,
			uint8_t *got)
{
	int fd = desc->planes[0].fd;
	off_t size = lseek(fd, 0, SEEK_END);
	uint64_t need = desc->planes[0].offset +
			(uint64_t)desc->planes[0].stride * (desc->height - 1) + desc->width * 4;
	if (!CHECK_MSG(size > 0 && (uint64_t)size >= need,
		       "exported DMA-BUF of %lld bytes, plane 0 needs %llu", (long long)size,
		       (unsigned long long)need))
		return false;
	uint8_t *map = mmap(NULL, (size_t)size, PROT_READ, MAP_SHARED, fd, 0);
	if (!CHECK_MSG(map != MAP_FAILED, "mmap of the exported DMA-BUF"))
		return false;
	CHECK(cr_dmabuf_alloc_cpu_access(fd, true, false));
	for (uint32_t y = 0; y < desc->height; y++)
		memcpy(got + (size_t)y * l->stride[0],
		       map + desc->planes[0].offset + (size_t)y * desc->planes[0].stride,
		       (size_t)desc->width * 4);
	CHECK(cr_dmabuf_alloc_cpu_access(fd, false, false));
	munmap(map, (size_t)size);
	return true;
}

/* Whether @dev can export LINEAR storage images of @fourcc (lavapipe has no STORAGE_IMAGE
 * feature for A2R10G10B10: the pipeline exports such outputs as buffers). */
static bool exports_images(struct cr_vk_device *dev, uint32_t fourcc)
{
	struct cr_vk_modifier mods[16];
	uint32_t n = cr_vk_format_modifiers(dev, fourcc, VK_IMAGE_USAGE_STORAGE_BIT,
					    VK_EXTERNAL_MEMORY_FEATURE_EXPORTABLE_BIT, mods, 16);
	for (uint32_t i = 0; i < n; i++)
		if (mods[i].modifier == DRM_FORMAT_MOD_LINEAR)
			return true;
	return false;
}

/* Frees what a case made: the exported output's fds, the output and the source. */
static void release_case(struct cr_pipeline *pipe, struct cr_pipeline_source *source,
			 struct cr_pipeline_output *output, struct cr_dmabuf *desc)
{
	for (uint32_t i = 0; i < desc->n_planes; i++)
		if (desc->planes[i].fd >= 0)
			close(desc->planes[i].fd);
	cr_pipeline_output_destroy(pipe, output);
	cr_pipeline_source_destroy(pipe, source);
}

/*
 * One frame of @src_fourcc at @sw x @sh, @crop (w = 0: whole), into @dst_fourcc at @dw x @dh,
 * through a udmabuf import and a LINEAR export, which must be an image when @src_image and
 * @dst_image, storage buffers otherwise. Compared with the reference: exact for a plain copy,
 * else within 1.
 */
static void image_case(struct cr_pipeline *pipe, bool src_image, bool dst_image,
		       uint32_t src_fourcc, uint32_t dst_fourcc, uint32_t sw, uint32_t sh,
		       struct cr_rect crop, uint32_t dw, uint32_t dh)
{
	const struct cr_format_info *sf = cr_format_info_from_fourcc(src_fourcc);
	const struct cr_format_info *df = cr_format_info_from_fourcc(dst_fourcc);
	if (crop.w == 0)
		crop = (struct cr_rect){ 0, 0, sw, sh };
	char what[96];
	snprintf(what, sizeof(what), "%s %ux%u crop %u,%u %ux%u -> %s %ux%u (%s)", sf->name, sw,
		 sh, crop.x, crop.y, crop.w, crop.h, df->name, dw, dh,
		 src_image && dst_image ? "images"
		 : src_image ? "image -> buffer" : "buffers");
	struct source src = { .buf = { .dmabuf = -1, .memfd = -1 } };
	struct cr_pipeline_source *source = NULL;
	struct cr_pipeline_output *output = NULL;
	struct cr_dmabuf desc = { .n_planes = 0 };
	struct cr_plane_layout l;
	cr_format_plane_layout(df, dw, dh, &l);
	uint8_t *got = calloc(1, l.size), *want = calloc(1, l.size);
	if (!source_init(&src, src_fourcc, sw, sh))
		goto finish;
	reference(&src, df, dw, dh, crop, &l, want);

	source = cr_pipeline_import_dmabuf(pipe, &src.desc);
	if (!CHECK_MSG(source != NULL, "%s: import", what))
		goto finish;
	CHECK_MSG(cr_pipeline_source_is_image(source) == src_image, "%s: source is %s", what,
		  cr_pipeline_source_is_image(source) ? "an image" : "a buffer");
	uint64_t linear = DRM_FORMAT_MOD_LINEAR;
	output = cr_pipeline_export_frame(pipe, df, dw, dh, &linear, 1, &desc);
	if (!CHECK_MSG(output != NULL, "%s: export", what))
		goto finish;
	CHECK_MSG(cr_pipeline_output_is_image(output) == dst_image, "%s: output is %s", what,
		  cr_pipeline_output_is_image(output) ? "an image" : "a buffer");
	CHECK_EQ_HEX(desc.modifier, DRM_FORMAT_MOD_LINEAR);
	CHECK_EQ_UINT(desc.n_planes, 1);
	CHECK_EQ_UINT(desc.fourcc, dst_fourcc);
	CHECK(desc.width == dw && desc.height == dh);
	CHECK_MSG(desc.planes[0].fd >= 0 && fcntl(desc.planes[0].fd, F_GETFD) >= 0,
		  "%s: exported fd %d", what, desc.planes[0].fd);
	CHECK_GE_INT(desc.planes[0].stride, dw * 4);
	if (desc.n_planes != 1 || desc.planes[0].fd < 0)
		goto finish;

	struct cr_pipeline_frame in = {
		.format = sf, .width = sw, .height = sh, .source = source,
		.offset = src.desc.planes[0].offset, .stride = src.desc.planes[0].stride,
		.crop = crop,
	};
	struct cr_pipeline_target out = {
		.format = df, .width = dw, .height = dh, .output = output,
	};
	if (!CHECK_MSG(run_job(pipe, &in, &out), "%s: job", what) || !read_export(&desc, &l, got))
		goto finish;
	int err = frame_compare(df, &l, dw, dh, got, want);
	bool exact = crop.w == dw && crop.h == dh;
	CHECK_MSG(err <= (exact ? 0 : 1), "%s: max error %d", what, err);

	if (src_image) {
		/* An image keeps its import's layout; the buffer path takes any valid one. */
		in.stride += 4;
		CHECK_MSG(!cr_pipeline_submit(pipe, &in, &out, NULL), "%s: stride %u accepted",
			  what, in.stride);
		in.stride -= 4;
		in.offset -= 64;
		CHECK_MSG(!cr_pipeline_submit(pipe, &in, &out, NULL), "%s: offset %u accepted",
			  what, in.offset);
		CHECK(cr_pipeline_can_submit(pipe));
	}
finish:
	release_case(pipe, source, output, &desc);
	source_finish(&src);
	free(got);
	free(want);
}

/* NV12 in udmabufs: how the import is expected to be read. */
enum nv12_expect {
	NV12_IMAGE,     /* an image, pixels as the reference */
	NV12_BUFFER,    /* storage buffers, pixels as the reference */
	NV12_NO_IMAGE,  /* refused, or buffers with the reference's pixels; never an image */
};

/*
 * One NV12 frame at @w x @h, @crop (w = 0: whole), decoded with @m and @full_range, into a
 * LINEAR export of @dst_fourcc at @dw x @dh, compared with the reference (within 1). Its Y
 * plane at a non-default offset with padded rows, its UV plane at an offset and with a stride
 * of its own: after Y in the same udmabuf, or alone in a second one (@disjoint). An image
 * source refuses frames whose Y or UV offset or stride is not its import's.
 */
static void nv12_case(struct cr_pipeline *pipe, enum nv12_expect expect, bool disjoint,
		      uint32_t w, uint32_t h, struct cr_rect crop, uint32_t dst_fourcc,
		      uint32_t dw, uint32_t dh, enum cr_color_matrix m, bool full_range)
{
	const struct cr_format_info *sf = cr_format_info_from_fourcc(DRM_FORMAT_NV12);
	const struct cr_format_info *df = cr_format_info_from_fourcc(dst_fourcc);
	if (crop.w == 0)
		crop = (struct cr_rect){ 0, 0, w, h };
	uint32_t cw = (w + 1) / 2, ch = (h + 1) / 2;
	uint32_t stride0 = (w + 3) / 4 * 4 + 36;
	uint32_t stride1 = (2 * cw + 3) / 4 * 4 + (disjoint ? 44 : 20);
	uint32_t off0 = disjoint ? 128 : 384;
	uint32_t off1 = disjoint ? 256 : off0 + stride0 * h + 192;
	char what[128];
	snprintf(what, sizeof(what), "NV12 %ux%u (%s, Y %u/%u, UV %u/%u) crop %u,%u %ux%u %s %s "
		 "-> %s %ux%u", w, h, disjoint ? "disjoint" : "one udmabuf", off0, stride0, off1,
		 stride1, crop.x, crop.y, crop.w, crop.h, cr_color_matrix_name(m),
		 full_range ? "full" : "limited", df->name, dw, dh);
	struct udmabuf buf[2] = { { .dmabuf = -1, .memfd = -1 }, { .dmabuf = -1, .memfd = -1 } };
	struct cr_pipeline_source *source = NULL;
	struct cr_pipeline_output *output = NULL;
	struct cr_dmabuf desc = { .n_planes = 0 };
	struct cr_plane_layout l;
	cr_format_plane_layout(df, dw, dh, &l);
	uint8_t *got = calloc(1, l.size), *want = calloc(1, l.size);
	size_t end0 = (size_t)off0 + (size_t)stride0 * h, end1 = (size_t)off1 + (size_t)stride1 * ch;
	if (!udmabuf_init(&buf[0], disjoint ? end0 : end1) ||
	    (disjoint && !udmabuf_init(&buf[1], end1)))
		goto finish;
	const struct udmabuf *uv = disjoint ? &buf[1] : &buf[0];

	struct cr_process_params p = {
		.src_kind = CR_OUT_NV12, .src_offset = off0, .src_stride = stride0,
		.src_offset1 = off1, .src_stride1 = stride1, .src_width = w, .src_height = h,
		.src_layout = sf->layout,
		.crop_x = crop.x, .crop_y = crop.y, .crop_w = crop.w, .crop_h = crop.h,
		.out_kind = CR_OUT_PACKED, .dst_width = dw, .dst_height = dh,
		.dst_layout = df->layout, .dst_stride = l.stride[0] / 4,
	};
	p.filter_mode = cr_reference_choose_filter(&p);
	cr_color_rgb_rows(m, full_range, p.rgb_r, p.rgb_g, p.rgb_b);
	const uint32_t *planes[2] = { (const uint32_t *)buf[0].map, (const uint32_t *)uv->map };
	cr_reference_process_planes(&p, planes, NULL, want);

	struct cr_dmabuf src = {
		.width = w, .height = h, .fourcc = DRM_FORMAT_NV12,
		.modifier = DRM_FORMAT_MOD_LINEAR, .n_planes = 2,
		.planes = { { buf[0].dmabuf, off0, stride0 }, { uv->dmabuf, off1, stride1 } },
	};
	source = cr_pipeline_import_dmabuf(pipe, &src);
	if (expect == NV12_NO_IMAGE && !source) {
		cr_test_log("   %s: refused", what);
		goto finish;
	}
	if (!CHECK_MSG(source != NULL, "%s: import", what))
		goto finish;
	bool is_image = cr_pipeline_source_is_image(source);
	CHECK_MSG(is_image == (expect == NV12_IMAGE), "%s: source is %s", what,
		  is_image ? "an image" : "a buffer");
	uint64_t linear = DRM_FORMAT_MOD_LINEAR;
	output = cr_pipeline_export_frame(pipe, df, dw, dh, &linear, 1, &desc);
	if (!CHECK_MSG(output != NULL, "%s: export", what) ||
	    !CHECK_EQ_UINT(desc.n_planes, 1) || !CHECK(desc.planes[0].fd >= 0))
		goto finish;

	struct cr_pipeline_frame in = {
		.format = sf, .width = w, .height = h, .source = source,
		.offset = off0, .stride = stride0, .extra[0] = { .offset = off1, .stride = stride1 },
		.matrix = m, .full_range = full_range, .crop = crop,
	};
	struct cr_pipeline_target out = {
		.format = df, .width = dw, .height = dh, .output = output,
	};
	if (!CHECK_MSG(run_job(pipe, &in, &out), "%s: job", what) || !read_export(&desc, &l, got))
		goto finish;
	int err = frame_compare(df, &l, dw, dh, got, want);
	CHECK_MSG(err <= 1, "%s (%s): max error %d", what, is_image ? "image" : "buffer", err);
	cr_test_log("   %s: %s, max error %d", what, is_image ? "image" : "buffer", err);

	if (is_image) {
		in.extra[0].stride += 4;
		CHECK_MSG(!cr_pipeline_submit(pipe, &in, &out, NULL), "%s: UV stride %u accepted",
			  what, in.extra[0].stride);
		in.extra[0].stride -= 4;
		in.extra[0].offset -= 64;
		CHECK_MSG(!cr_pipeline_submit(pipe, &in, &out, NULL), "%s: UV offset %u accepted",
			  what, in.extra[0].offset);
		in.extra[0].offset += 64;
		in.stride += 4;
		CHECK_MSG(!cr_pipeline_submit(pipe, &in, &out, NULL), "%s: Y stride %u accepted",
			  what, in.stride);
		CHECK(cr_pipeline_can_submit(pipe));
	}
finish:
	release_case(pipe, source, output, &desc);
	udmabuf_finish(&buf[0]);
	udmabuf_finish(&buf[1]);
	free(got);
	free(want);
}

/* Logs the device's importable sampled-image modifiers of NV12; fills @m with LINEAR's and
 * returns true when LINEAR is one of them. */
static bool nv12_linear(struct cr_vk_device *dev, struct cr_vk_modifier *m)
{
	struct cr_vk_modifier mods[16];
	uint32_t n = cr_vk_format_modifiers(dev, DRM_FORMAT_NV12, VK_IMAGE_USAGE_SAMPLED_BIT,
					    VK_EXTERNAL_MEMORY_FEATURE_IMPORTABLE_BIT, mods, 16);
	for (uint32_t i = 0; i < n; i++)
		cr_test_log("   NV12 modifier 0x%016llx: %u memory planes, features 0x%x%s",
			    (unsigned long long)mods[i].modifier, mods[i].n_planes,
			    mods[i].features,
			    mods[i].features & VK_FORMAT_FEATURE_DISJOINT_BIT ? " (disjoint)" : "");
	for (uint32_t i = 0; i < n; i++)
		if (mods[i].modifier == DRM_FORMAT_MOD_LINEAR) {
			*m = mods[i];
			return true;
		}
	return false;
}

/* Input and output modifiers of every packed format and NV12: LINEAR, once. */
static void check_lists(struct cr_pipeline *pipe, const char *what)
{
	static const uint32_t fourccs[] = {
		DRM_FORMAT_XRGB8888, DRM_FORMAT_XBGR8888, DRM_FORMAT_ARGB8888,
		DRM_FORMAT_ABGR8888, DRM_FORMAT_XRGB2101010, DRM_FORMAT_XBGR2101010,
		DRM_FORMAT_NV12,
	};
	for (size_t i = 0; i < sizeof(fourccs) / sizeof(fourccs[0]); i++) {
		uint64_t mods[8];
		uint32_t n = cr_pipeline_input_modifiers(pipe, fourccs[i], mods, 8);
		CHECK_MSG(n == 1 && mods[0] == DRM_FORMAT_MOD_LINEAR,
			  "%s: %u input modifiers of %.4s (first 0x%llx), expected LINEAR", what,
			  n, (const char *)&fourccs[i], n ? (unsigned long long)mods[0] : 0ull);
		n = cr_pipeline_output_modifiers(pipe, fourccs[i], 64, 48, mods, 8);
		CHECK_MSG(n == 1 && mods[0] == DRM_FORMAT_MOD_LINEAR,
			  "%s: %u output modifiers of %.4s (first 0x%llx), expected LINEAR", what,
			  n, (const char *)&fourccs[i], n ? (unsigned long long)mods[0] : 0ull);
	}
}

static const uint32_t formats[] = {
	DRM_FORMAT_XRGB8888,    /* BGRx */
	DRM_FORMAT_ABGR8888,    /* RGBA */
	DRM_FORMAT_XRGB2101010, /* xRGB_210LE */
};
#define N_FORMATS (sizeof(formats) / sizeof(formats[0]))

int main(void)
{
	if (!getenv("CR_VM_GUEST")) {
		fprintf(stderr, "guest-side test: run the vm suite (tests/vm/run-in-vm.sh)\n");
		return CR_TEST_SKIP;
	}
	struct cr_vk_device *dev = cr_vk_device_create("llvmpipe");
	if (!CHECK(dev != NULL))
		return cr_test_result();
	cr_test_log("device: %s, image_drm_format_modifier %s, DMA-BUF %s",
		    cr_vk_device_name(dev), dev->ext.image_drm_format_modifier ? "yes" : "no",
		    dev->ext.external_memory_dma_buf ? "yes" : "no");
	setenv("CASTRELAY_TEST_LINEAR_IMAGES", "1", 1);
	/* Before the first job, as the daemon does before READY (kernels.h). */
	struct cr_kernels *kernels = cr_kernels_create(dev, NULL);
	if (kernels && !cr_kernels_wait(kernels, CR_KERNELS_ALL))
		fprintf(stderr, "some kernel variants failed to build\n");
	struct cr_pipeline *pipe = cr_pipeline_create(kernels, on_done, NULL);
	unsetenv("CASTRELAY_TEST_LINEAR_IMAGES");
	struct cr_pipeline *plain = cr_pipeline_create(kernels, on_done, NULL);
	if (!CHECK(pipe && plain) || !CHECK(dev->ext.image_drm_format_modifier) ||
	    !CHECK(cr_pipeline_can_import_dmabuf(pipe) && cr_pipeline_can_export_dmabuf(pipe)))
		goto out;

	cr_test_log("1, 2. images: every format pair, identity; crops with scaling");
	bool out_image[N_FORMATS + 1];
	for (size_t d = 0; d <= N_FORMATS; d++) {
		uint32_t fourcc = d < N_FORMATS ? formats[d] : DRM_FORMAT_XBGR2101010;
		out_image[d] = exports_images(dev, fourcc);
		cr_test_log("   %.4s outputs: %s", (const char *)&fourcc, out_image[d]
			    ? "images" : "buffers (no exportable storage-image modifier)");
	}
	/* Every device with the modifier extension writes 8-bit images. */
	CHECK(out_image[0] && out_image[1]);
	unsigned checks = cr_test_state()->checks, failures = cr_test_failures();
	for (size_t s = 0; s < N_FORMATS; s++)
		for (size_t d = 0; d < N_FORMATS; d++)
			image_case(pipe, true, out_image[d], formats[s], formats[d], 64, 48,
				   (struct cr_rect){ 0 }, 64, 48);
	/* 10-bit through images both ways, where the device writes one 10-bit order */
	image_case(pipe, true, out_image[N_FORMATS], DRM_FORMAT_XRGB2101010,
		   DRM_FORMAT_XBGR2101010, 64, 48, (struct cr_rect){ 0 }, 64, 48);
	/* 2x down: bilinear; 3.5x down: box */
	image_case(pipe, true, out_image[1], DRM_FORMAT_XRGB8888, DRM_FORMAT_ABGR8888, 96, 72,
		   (struct cr_rect){ 10, 6, 70, 50 }, 35, 25);
	image_case(pipe, true, out_image[0], DRM_FORMAT_XRGB2101010, DRM_FORMAT_XRGB8888, 96, 72,
		   (struct cr_rect){ 10, 6, 70, 50 }, 20, 14);
	image_case(pipe, true, out_image[2], DRM_FORMAT_ABGR8888, DRM_FORMAT_XRGB2101010, 101, 67,
		   (struct cr_rect){ 31, 17, 70, 50 }, 41, 29);
	image_case(pipe, true, out_image[N_FORMATS], DRM_FORMAT_ABGR8888, DRM_FORMAT_XBGR2101010,
		   101, 67, (struct cr_rect){ 31, 17, 70, 50 }, 41, 29);
	cr_test_log("   %u of %u checks passed", cr_test_state()->checks - checks -
		    (cr_test_failures() - failures), cr_test_state()->checks - checks);

	cr_test_log("3. modifier lists with and without CASTRELAY_TEST_LINEAR_IMAGES");
	check_lists(pipe, "images");
	check_lists(plain, "buffers");

	cr_test_log("4. without the switch: storage buffers, same pixels");
	checks = cr_test_state()->checks;
	failures = cr_test_failures();
	image_case(plain, false, false, DRM_FORMAT_XRGB8888, DRM_FORMAT_XRGB2101010, 64, 48,
		   (struct cr_rect){ 0 }, 64, 48);
	image_case(plain, false, false, DRM_FORMAT_XRGB2101010, DRM_FORMAT_ABGR8888, 96, 72,
		   (struct cr_rect){ 10, 6, 70, 50 }, 35, 25);
	cr_test_log("   %u of %u checks passed", cr_test_state()->checks - checks -
		    (cr_test_failures() - failures), cr_test_state()->checks - checks);

	cr_test_log("5. NV12 udmabufs: both planes in one, and disjoint");
	checks = cr_test_state()->checks;
	failures = cr_test_failures();
	struct cr_vk_modifier nv12;
	bool nv12_images = nv12_linear(dev, &nv12);
	bool nv12_disjoint = nv12_images && (nv12.features & VK_FORMAT_FEATURE_DISJOINT_BIT);
	cr_test_log("   LINEAR NV12 imports as images: %s; disjoint planes: %s",
		    nv12_images ? "yes" : "no (no sampled LINEAR NV12 image modifier)",
		    nv12_disjoint ? "yes" : "no");
	enum nv12_expect one = nv12_images ? NV12_IMAGE : NV12_BUFFER;
	enum nv12_expect two = nv12_disjoint ? NV12_IMAGE
			       : nv12_images ? NV12_NO_IMAGE : NV12_BUFFER;
	nv12_case(pipe, one, false, 64, 48, (struct cr_rect){ 0 }, DRM_FORMAT_XRGB8888, 64, 48,
		  CR_COLOR_BT709, false);
	nv12_case(pipe, one, false, 96, 72, (struct cr_rect){ 11, 7, 70, 50 }, DRM_FORMAT_ABGR8888,
		  35, 25, CR_COLOR_BT601, true);
	nv12_case(pipe, two, true, 64, 48, (struct cr_rect){ 0 }, DRM_FORMAT_ABGR8888, 64, 48,
		  CR_COLOR_BT601, false);
	nv12_case(pipe, two, true, 100, 66, (struct cr_rect){ 9, 5, 84, 56 }, DRM_FORMAT_XRGB8888,
		  21, 14, CR_COLOR_BT709, true);
	/* without the switch: buffers, whatever the device's modifiers */
	nv12_case(plain, NV12_BUFFER, false, 64, 48, (struct cr_rect){ 0 }, DRM_FORMAT_XRGB8888,
		  64, 48, CR_COLOR_BT709, false);
	nv12_case(plain, NV12_BUFFER, true, 64, 48, (struct cr_rect){ 0 }, DRM_FORMAT_ABGR8888, 64,
		  48, CR_COLOR_BT601, true);
	cr_test_log("   %u of %u checks passed", cr_test_state()->checks - checks -
		    (cr_test_failures() - failures), cr_test_state()->checks - checks);
out:
	cr_pipeline_destroy(plain);
	cr_pipeline_destroy(pipe);
	cr_kernels_destroy(kernels);
	cr_vk_device_destroy(dev);
	return cr_test_result();
}
