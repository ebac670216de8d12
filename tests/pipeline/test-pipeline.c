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
 * The image path (VK_EXT_image_drm_format_modifier), where the device has modifiers for packed
 * formats (real GPUs; lavapipe in the vm guest, LINEAR only): for every sampled-image modifier
 * of every packed format, a source image (filled by a copy: tiled layouts have no CPU view)
 * read into a host buffer and into an output image of the storage modifiers in turn, and
 * buffer sources into output images of every storage modifier (read back by a copy), for an
 * identity, a crop with bilinear and one with box downscaling, across bit depths; NV12 source
 * images of every sampled modifier (planes copied apart) likewise, into packed and planar host
 * buffers and packed output images, with both matrices and ranges; per modifier the checks
 * passed are printed. An image source refuses frames of another layout (NV12: of either
 * plane). Every importable modifier is offered as an input modifier. Where the
 * device has no image modifiers (the host's lavapipe), the documented fallback is asserted
 * instead: input and output modifier lists of exactly LINEAR (or nothing where DMA-BUFs do not
 * import or export), no image can be made, LINEAR imports are storage buffers.
 *
 * Usage: test-pipeline [--require-gpu] [--images-only]   (CR_TEST_VK_DEVICE selects the device)
 * --require-gpu: skip (77) unless the device is a real GPU; the gpu suite uses it.
 * --images-only: only the image path and the modifier lists (quick runs on slow devices).
 */
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include <drm_fourcc.h>

#include "frame-compare.h"
#include "image-io.h"
#include "kernels.h"
#include "log.h"
#include "reference.h"
#include "run-sync.h"
#include "test.h"
#include "vk-objects-test.h"
#include "vk-device.h"
#include "vk-format.h"
#include "vk-image.h"

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
	IMAGE,        /* an image with a DRM format modifier, filled by a copy (NV12: per plane) */
};

static const char *const transport_names[] = {
	"shm", "shm, planes apart", "dmabuf", "dmabuf, dup fd", "dmabuf, disjoint", "image",
};

/* The image path of one case: the modifier of the source image (transport IMAGE) and, when
 * @dst_image, an output image of @dst_modifier read back after the job. With @readback the
 * source image is made TRANSFER_SRC too and read back after its upload: it must hold the
 * planes exactly (the copies are checked apart from the kernel). */
struct images {
	struct cr_vk_device *dev;
	uint64_t src_modifier;
	bool readback;
	bool dst_image;
	uint64_t dst_modifier;
};

static uint32_t rng_state = 12345;
static uint32_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 17;
	rng_state ^= rng_state << 5;
	return rng_state;
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

/* An image of @fourcc at @w x @h with @modifier for @usage (not exported), or NULL. Its layout
 * names the modifier, the size and planes with room for a row (NV12: Y, then UV). */
static struct cr_vk_image *test_image(struct cr_vk_device *dev, uint32_t fourcc, uint32_t w,
				      uint32_t h, uint64_t modifier, VkImageUsageFlags usage)
{
	struct cr_vk_image *img = cr_vk_image_create(dev, fourcc, w, h, &modifier, 1, usage, false);
	if (!CHECK_MSG(img != NULL, "%.4s %ux%u image with modifier 0x%" PRIx64 " usage 0x%x",
		       (const char *)&fourcc, w, h, modifier, usage))
		return NULL;
	const struct cr_format_info *f = cr_format_info_from_fourcc(fourcc);
	CHECK_EQ_HEX(img->layout.modifier, modifier);
	CHECK_EQ_UINT(img->layout.fourcc, fourcc);
	CHECK(img->layout.width == w && img->layout.height == h);
	CHECK_GE_INT(img->layout.n_planes, f->n_planes);
	CHECK_GE_INT(img->layout.planes[0].stride, w * f->bytes_per_pixel);
	if (f->out_kind == CR_OUT_NV12)
		CHECK_GE_INT(img->layout.planes[1].stride, (w + 1) / 2 * 2);
	CHECK(img->view != VK_NULL_HANDLE);
	CHECK((img->view1 != VK_NULL_HANDLE) == (f->out_kind == CR_OUT_NV12));
	return img;
}

/*
 * run_sync() with a deadline of two minutes: llvmpipe compiles a kernel for each image format
 * at its first dispatch, which in the vm guest (TCG) outlasts run_sync()'s 10 s.
 */
static bool run_patient(struct cr_pipeline *pipe, const struct cr_pipeline_frame *in,
			const struct cr_pipeline_target *out, struct run_sync_result *r)
{
	return run_sync_within(pipe, in, out, r, 120000);
}

/* Reads @img back (filled from @planes, @strides) and compares every byte of its planes. */
static bool check_readback(struct cr_vk_device *dev, const struct cr_vk_image *img,
			   const void *const *planes, const uint32_t *strides, const char *how)
{
	const struct cr_format_info *f = cr_format_info_from_fourcc(img->layout.fourcc);
	uint32_t w = img->layout.width, h = img->layout.height;
	uint8_t *copy[2] = { NULL, NULL };
	bool ok = true;
	for (uint32_t i = 0; i < f->n_planes && i < 2; i++)
		ok = ok && (copy[i] = calloc(h, strides[i])) != NULL;
	if (ok)
		ok = CHECK_MSG(cr_image_io_download_planes(dev, img, (void *const *)copy, strides),
			       "read back the %s source image", how);
	for (uint32_t i = 0; ok && i < f->n_planes && i < 2; i++) {
		uint32_t row_bytes, rows;
		cr_format_plane_size(f, i, w, h, &row_bytes, &rows);
		uint32_t bad = 0;
		for (uint32_t y = 0; y < rows; y++)
			bad += memcmp(copy[i] + (size_t)y * strides[i],
				      (const uint8_t *)planes[i] + (size_t)y * strides[i],
				      row_bytes) != 0;
		ok = CHECK_MSG(bad == 0, "%s %ux%u (%s): %u of %u rows of plane %u differ after "
			       "upload and download", f->name, w, h, how, bad, rows, i);
	}
	free(copy[0]);
	free(copy[1]);
	return ok;
}

/* @im: NULL, or the images of a case of the image path (transport IMAGE for the source). */
static void run_case_images(struct cr_pipeline *pipe, const struct case_def *c,
			    uint32_t src_fourcc, uint32_t dst_fourcc, enum transport t,
			    bool full_range, enum cr_color_matrix m, const struct images *im)
{
	const struct cr_format_info *sf = cr_format_info_from_fourcc(src_fourcc);
	const struct cr_format_info *df = cr_format_info_from_fourcc(dst_fourcc);
	bool nv12 = sf->out_kind == CR_OUT_NV12, dmabuf = t >= DMABUF && t <= DMABUF_SPLIT;
	bool shm = t == SHM || t == SHM_SPLIT;
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
		.stride = stride0, .data = shm ? mem[0].data : NULL, .size = mem[0].size,
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
	char how[80];
	snprintf(how, sizeof(how), "%s", transport_names[t]);
	struct cr_vk_image *src_img = NULL, *dst_img = NULL;
	if (t == IMAGE) {
		snprintf(how, sizeof(how), "image 0x%" PRIx64, im->src_modifier);
		src_img = test_image(im->dev, src_fourcc, c->src_w, c->src_h, im->src_modifier,
				     VK_IMAGE_USAGE_SAMPLED_BIT | VK_IMAGE_USAGE_TRANSFER_DST_BIT |
				     (im->readback ? VK_IMAGE_USAGE_TRANSFER_SRC_BIT : 0));
		const void *at[2] = { mem[0].data + off0, mem[0].data + off1 };
		uint32_t strides[2] = { stride0, stride1 };
		if (src_img &&
		    (!CHECK(cr_image_io_upload_planes(im->dev, src_img, at, strides)) ||
		     (im->readback && !check_readback(im->dev, src_img, at, strides, how)))) {
			cr_vk_image_destroy(im->dev, src_img);
			src_img = NULL;
		}
		if (src_img) {
			in.offset = src_img->layout.planes[0].offset;
			in.stride = src_img->layout.planes[0].stride;
			if (nv12)
				in.extra[0] = (struct cr_pipeline_plane){
					.offset = src_img->layout.planes[1].offset,
					.stride = src_img->layout.planes[1].stride,
				};
			source = cr_pipeline_source_from_image(pipe, src_img); /* takes it */
			if (CHECK_MSG(source != NULL, "wrap the %s source image", how))
				CHECK(cr_pipeline_source_is_image(source));
			in.source = source;
		}
	}
	struct cr_pipeline_output *output = NULL;
	if (im && im->dst_image) {
		size_t at = strlen(how);
		snprintf(how + at, sizeof(how) - at, " -> image 0x%" PRIx64, im->dst_modifier);
		dst_img = test_image(im->dev, dst_fourcc, c->dst_w, c->dst_h, im->dst_modifier,
				     VK_IMAGE_USAGE_STORAGE_BIT | VK_IMAGE_USAGE_TRANSFER_SRC_BIT);
		if (dst_img) {
			output = cr_pipeline_output_from_image(pipe, dst_img); /* takes it */
			if (CHECK_MSG(output != NULL, "wrap the output image (%s)", how))
				CHECK(cr_pipeline_output_is_image(output));
			else
				dst_img = NULL;
			out.output = output;
		}
	}
	/* An output image is read back from the GPU; a host output comes with the result. */
	struct run_sync_result r = { .pixels = output ? NULL : got };
	bool ready = (dmabuf || t == IMAGE ? source != NULL : true) &&
		     (im && im->dst_image ? output != NULL : true);
	if (ready) {
		bool ran = im ? run_patient(pipe, &in, &out, &r) : run_sync(pipe, &in, &out, &r);
		CHECK_MSG(ran, "job did not complete (%s)", how);
		if (ran && output)
			ran = CHECK(cr_image_io_download(im->dev, dst_img, got, l.stride[0]));
		if (ran) {
			int err = frame_compare(df, &l, c->dst_w, c->dst_h, got, want);
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
				  full_range ? "full" : "limited", how, err);
		}
	}
	cr_pipeline_output_destroy(pipe, output);
	cr_pipeline_source_destroy(pipe, source);
	if (dup_fd >= 0)
		close(dup_fd);
	free(got);
	free(want);
out_mem:
	source_mem_finish(&mem[0]);
	source_mem_finish(&mem[1]);
}

static void run_case(struct cr_pipeline *pipe, const struct case_def *c, uint32_t src_fourcc,
		     uint32_t dst_fourcc, enum transport t, bool full_range, enum cr_color_matrix m)
{
	run_case_images(pipe, c, src_fourcc, dst_fourcc, t, full_range, m, NULL);
}

/* Every case through buffers (SHM and memfd imports), and the frames and imports refused. */
static void test_buffer_path(struct cr_pipeline *pipe, bool can_dmabuf)
{
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
}

/* --- the image path (VK_EXT_image_drm_format_modifier) ------------------------------------ */

/* The formats the kernel reads and writes as images; 8-bit first, then 10-bit. */
static const uint32_t packed_fourccs[] = {
	DRM_FORMAT_XRGB8888, DRM_FORMAT_XBGR8888, DRM_FORMAT_ARGB8888, DRM_FORMAT_ABGR8888,
	DRM_FORMAT_XRGB2101010, DRM_FORMAT_XBGR2101010,
};
#define N_PACKED (sizeof(packed_fourccs) / sizeof(packed_fourccs[0]))
/* Another order of the same depth, and a format of the other depth. */
#define SAME_DEPTH(f) ((f) < 4 ? ((f) + 1) % 4 : 4 + ((f) - 3) % 2)
#define OTHER_DEPTH(f) ((f) < 4 ? 4 + (f) % 2 : (f) - 4)

/* identity (exact), crop + bilinear 2x down, crop + box down at odd ratios */
static const size_t image_cases[] = { 0, 4, 7 };
#define N_IMAGE_CASES (sizeof(image_cases) / sizeof(image_cases[0]))

#define MAX_MODIFIERS 32

/* Checks run and failed per modifier, as the source and as the output image (NV12 source
 * images: into host buffers and into output images). */
struct tally {
	uint64_t modifier;
	unsigned checks[2], failures[2];
};

static void tally_add(struct tally *t, uint32_t *n, uint64_t modifier, int as_output,
		      unsigned checks_before, unsigned failures_before)
{
	uint32_t i = 0;
	while (i < *n && t[i].modifier != modifier)
		i++;
	if (i == *n) {
		if (*n == MAX_MODIFIERS)
			return;
		t[(*n)++] = (struct tally){ .modifier = modifier };
	}
	t[i].checks[as_output] += cr_test_state()->checks - checks_before;
	t[i].failures[as_output] += cr_test_failures() - failures_before;
}

static uint32_t image_modifiers(struct cr_vk_device *dev, uint32_t fourcc, bool output,
				struct cr_vk_modifier *mods)
{
	VkImageUsageFlags usage = output
		? VK_IMAGE_USAGE_STORAGE_BIT | VK_IMAGE_USAGE_TRANSFER_SRC_BIT
		: VK_IMAGE_USAGE_SAMPLED_BIT | VK_IMAGE_USAGE_TRANSFER_DST_BIT;
	uint32_t n = cr_vk_format_modifiers(dev, fourcc, usage, 0, mods, MAX_MODIFIERS);
	for (uint32_t k = 0; k < n; k++)
		CHECK_MSG(mods[k].modifier != DRM_FORMAT_MOD_INVALID && mods[k].n_planes >= 1,
			  "%.4s: modifier 0x%" PRIx64 " with %u planes", (const char *)&fourcc,
			  mods[k].modifier, mods[k].n_planes);
	return n;
}

/*
 * Every packed format from a source image of every sampled modifier, into a host buffer and
 * into an output image (the output modifiers taken in turn), and from a buffer source into an
 * output image of every storage modifier, against the reference as the buffer path is.
 * Returns whether the device has modifiers for any packed format.
 */
static bool test_image_path(struct cr_vk_device *dev, struct cr_pipeline *pipe, bool can_dmabuf)
{
	struct tally tally[MAX_MODIFIERS];
	uint32_t n_tally = 0;
	struct cr_vk_modifier mods[MAX_MODIFIERS], out_mods[MAX_MODIFIERS];
	bool any = false;
	for (size_t f = 0; f < N_PACKED; f++) {
		uint32_t fourcc = packed_fourccs[f];
		uint32_t n = image_modifiers(dev, fourcc, false, mods);
		any = any || n > 0;
		cr_test_log("%.4s: %u sampled-image modifiers", (const char *)&fourcc, n);
		for (uint32_t k = 0; k < n; k++) {
			unsigned checks = cr_test_state()->checks, failed = cr_test_failures();
			for (size_t i = 0; i < N_IMAGE_CASES; i++) {
				uint32_t dst = packed_fourccs[i == 0 ? f : i == 1 ? SAME_DEPTH(f)
										: OTHER_DEPTH(f)];
				struct images im = { .dev = dev, .src_modifier = mods[k].modifier };
				const struct case_def *c = &cases[image_cases[i]];
				run_case_images(pipe, c, fourcc, dst, IMAGE, false, CR_COLOR_BT709,
						&im);
				uint32_t n_out = image_modifiers(dev, dst, true, out_mods);
				if (n_out == 0)
					continue;
				im.dst_image = true;
				im.dst_modifier = out_mods[(k + i) % n_out].modifier;
				run_case_images(pipe, c, fourcc, dst, IMAGE, false, CR_COLOR_BT709,
						&im);
			}
			tally_add(tally, &n_tally, mods[k].modifier, 0, checks, failed);
		}
	}
	for (size_t f = 0; f < N_PACKED; f++) {
		uint32_t fourcc = packed_fourccs[f];
		uint32_t n = image_modifiers(dev, fourcc, true, mods);
		any = any || n > 0;
		cr_test_log("%.4s: %u storage-image modifiers", (const char *)&fourcc, n);
		for (uint32_t k = 0; k < n; k++) {
			unsigned checks = cr_test_state()->checks, failed = cr_test_failures();
			for (size_t i = 0; i < N_IMAGE_CASES; i++) {
				uint32_t src = packed_fourccs[i == 0 ? f : i == 1 ? SAME_DEPTH(f)
										: OTHER_DEPTH(f)];
				struct images im = { .dev = dev, .dst_image = true,
						     .dst_modifier = mods[k].modifier };
				run_case_images(pipe, &cases[image_cases[i]], src, fourcc,
						can_dmabuf ? DMABUF : SHM, false, CR_COLOR_BT709,
						&im);
			}
			tally_add(tally, &n_tally, mods[k].modifier, 1, checks, failed);
		}
	}
	for (uint32_t i = 0; i < n_tally; i++)
		cr_test_log("modifier 0x%016" PRIx64 ": source images %u of %u checks passed, "
			    "output images %u of %u", tally[i].modifier,
			    tally[i].checks[0] - tally[i].failures[0], tally[i].checks[0],
			    tally[i].checks[1] - tally[i].failures[1], tally[i].checks[1]);
	return any;
}

/* NV12 source images: sizes even in both directions (Vulkan's 4:2:0 formats need them), an
 * identity, a crop with bilinear 2x down, a crop at odd coordinates with box downscaling. */
static const struct case_def nv12_image_cases[] = {
	{ 64, 48, 0, { 0 }, 64, 48, 0, 0, false, false },
	{ 640, 480, 64, { 100, 50, 400, 300 }, 200, 150, 0, 0, false, false },
	{ 302, 204, 4, { 7, 9, 250, 180 }, 61, 37, 0, 0, false, false },
};
/* Host outputs of NV12 image sources: packed of both depths and both planar formats. */
static const uint32_t nv12_host_fourccs[] = {
	DRM_FORMAT_XRGB8888, DRM_FORMAT_NV12, DRM_FORMAT_XBGR2101010, DRM_FORMAT_YUV420,
	DRM_FORMAT_ABGR8888,
};

/* Whether @modifier is among the @n @mods. */
static bool has_modifier(const struct cr_vk_modifier *mods, uint32_t n, uint64_t modifier)
{
	for (uint32_t i = 0; i < n; i++)
		if (mods[i].modifier == modifier)
			return true;
	return false;
}

/*
 * NV12 from a source image of every sampled modifier (planes uploaded apart, as
 * VK_IMAGE_ASPECT_PLANE_0/1), into a host buffer and into an output image of a packed format
 * (the storage modifiers in turn), against the reference as NV12 buffer sources are: within
 * 1, both input matrices and both ranges per modifier. Where the modifier can also be read
 * back, the uploaded planes are checked first. Returns the number of modifiers.
 */
static uint32_t test_nv12_images(struct cr_vk_device *dev, struct cr_pipeline *pipe)
{
	struct tally tally[MAX_MODIFIERS];
	uint32_t n_tally = 0;
	struct cr_vk_modifier mods[MAX_MODIFIERS], out_mods[MAX_MODIFIERS], rb_mods[MAX_MODIFIERS];
	uint32_t n = image_modifiers(dev, DRM_FORMAT_NV12, false, mods);
	uint32_t n_rb = cr_vk_format_modifiers(dev, DRM_FORMAT_NV12,
					       VK_IMAGE_USAGE_SAMPLED_BIT |
					       VK_IMAGE_USAGE_TRANSFER_DST_BIT |
					       VK_IMAGE_USAGE_TRANSFER_SRC_BIT, 0, rb_mods,
					       MAX_MODIFIERS);
	cr_test_log("NV12: %u sampled-image modifiers (%u also read back)", n, n_rb);
	for (uint32_t k = 0; k < n; k++) {
		cr_test_log("   0x%016" PRIx64 ": %u memory planes, features 0x%x%s",
			    mods[k].modifier, mods[k].n_planes, mods[k].features,
			    mods[k].features & VK_FORMAT_FEATURE_DISJOINT_BIT ? " (disjoint)" : "");
		uint32_t run = 0;
		for (size_t i = 0; i < sizeof(nv12_image_cases) / sizeof(nv12_image_cases[0]);
		     i++) {
			const struct case_def *c = &nv12_image_cases[i];
			struct images im = {
				.dev = dev, .src_modifier = mods[k].modifier,
				.readback = has_modifier(rb_mods, n_rb, mods[k].modifier),
			};
			/* runs 0..3 of a modifier: every output matrix and range, so the input
			 * (decoded with the other ones) gets every one too */
			uint32_t dst = nv12_host_fourccs[(k + i) % (sizeof(nv12_host_fourccs) /
								    sizeof(nv12_host_fourccs[0]))];
			unsigned checks = cr_test_state()->checks, failed = cr_test_failures();
			run_case_images(pipe, c, DRM_FORMAT_NV12, dst, IMAGE, run % 2,
					run / 2 % 2 ? CR_COLOR_BT709 : CR_COLOR_BT601, &im);
			tally_add(tally, &n_tally, mods[k].modifier, 0, checks, failed);
			run++;
			dst = packed_fourccs[(k + i) % N_PACKED];
			uint32_t n_out = image_modifiers(dev, dst, true, out_mods);
			if (n_out == 0)
				continue;
			im.readback = false;
			im.dst_image = true;
			im.dst_modifier = out_mods[(k + i) % n_out].modifier;
			checks = cr_test_state()->checks;
			failed = cr_test_failures();
			run_case_images(pipe, c, DRM_FORMAT_NV12, dst, IMAGE, run % 2,
					run / 2 % 2 ? CR_COLOR_BT709 : CR_COLOR_BT601, &im);
			tally_add(tally, &n_tally, mods[k].modifier, 1, checks, failed);
			run++;
		}
	}
	for (uint32_t i = 0; i < n_tally; i++)
		cr_test_log("NV12 modifier 0x%016" PRIx64 ": source images into host buffers %u of "
			    "%u checks passed, into output images %u of %u", tally[i].modifier,
			    tally[i].checks[0] - tally[i].failures[0], tally[i].checks[0],
			    tally[i].checks[1] - tally[i].failures[1], tally[i].checks[1]);
	return n;
}

/* An NV12 source image's frames keep its layout: another Y or UV offset or stride is
 * refused; the frame with the image's layout goes through. */
static void test_nv12_image_rejections(struct cr_vk_device *dev, struct cr_pipeline *pipe)
{
	struct cr_vk_modifier mods[MAX_MODIFIERS];
	if (image_modifiers(dev, DRM_FORMAT_NV12, false, mods) == 0)
		return;
	static uint8_t y_px[32 * 16], uv_px[32 * 8];
	struct cr_vk_image *img = test_image(dev, DRM_FORMAT_NV12, 32, 16, mods[0].modifier,
					     VK_IMAGE_USAGE_SAMPLED_BIT |
					     VK_IMAGE_USAGE_TRANSFER_DST_BIT);
	const void *planes[2] = { y_px, uv_px };
	uint32_t strides[2] = { 32, 32 };
	if (!img || !CHECK(cr_image_io_upload_planes(dev, img, planes, strides))) {
		cr_vk_image_destroy(dev, img);
		return;
	}
	struct cr_pipeline_frame in = {
		.format = cr_format_info_from_fourcc(DRM_FORMAT_NV12), .width = 32, .height = 16,
		.offset = img->layout.planes[0].offset, .stride = img->layout.planes[0].stride,
		.extra[0] = { .offset = img->layout.planes[1].offset,
			      .stride = img->layout.planes[1].stride },
	};
	cr_test_log("NV12 image 0x%016" PRIx64 ": Y at %u stride %u, UV at %u stride %u, "
		    "%u memory planes", mods[0].modifier, in.offset, in.stride,
		    in.extra[0].offset, in.extra[0].stride, img->layout.n_planes);
	struct cr_pipeline_source *source = cr_pipeline_source_from_image(pipe, img);
	if (!CHECK(source != NULL))
		return;
	in.source = source;
	struct cr_pipeline_target out = {
		.format = cr_format_info_from_fourcc(DRM_FORMAT_XRGB8888), .width = 16, .height = 8,
	};
	struct run_sync_result r = { 0 };
	CHECK(run_patient(pipe, &in, &out, &r));
	in.extra[0].stride += 64;
	CHECK_MSG(!cr_pipeline_submit(pipe, &in, &out, NULL), "UV stride %u accepted",
		  in.extra[0].stride);
	in.extra[0].stride -= 64;
	in.extra[0].offset += 256;
	CHECK_MSG(!cr_pipeline_submit(pipe, &in, &out, NULL), "UV offset %u accepted",
		  in.extra[0].offset);
	in.extra[0].offset -= 256;
	in.offset += 256;
	CHECK_MSG(!cr_pipeline_submit(pipe, &in, &out, NULL), "Y offset %u accepted", in.offset);
	in.offset -= 256;
	CHECK(cr_pipeline_can_submit(pipe));
	CHECK(run_patient(pipe, &in, &out, &r));
	cr_pipeline_source_destroy(pipe, source);
}

/* A source image's frames keep its layout: another stride or offset is refused. */
static void test_image_rejections(struct cr_vk_device *dev, struct cr_pipeline *pipe)
{
	struct cr_vk_modifier mods[MAX_MODIFIERS];
	if (image_modifiers(dev, DRM_FORMAT_XRGB8888, false, mods) == 0)
		return;
	static uint32_t px[32 * 16];
	struct cr_vk_image *img = test_image(dev, DRM_FORMAT_XRGB8888, 32, 16, mods[0].modifier,
					     VK_IMAGE_USAGE_SAMPLED_BIT |
					     VK_IMAGE_USAGE_TRANSFER_DST_BIT);
	if (!img || !CHECK(cr_image_io_upload(dev, img, px, 32 * 4))) {
		cr_vk_image_destroy(dev, img);
		return;
	}
	const struct cr_format_info *bgrx = cr_format_info_from_fourcc(DRM_FORMAT_XRGB8888);
	struct cr_pipeline_frame in = {
		.format = bgrx, .width = 32, .height = 16,
		.offset = img->layout.planes[0].offset, .stride = img->layout.planes[0].stride,
	};
	struct cr_pipeline_source *source = cr_pipeline_source_from_image(pipe, img);
	if (!CHECK(source != NULL))
		return;
	in.source = source;
	struct cr_pipeline_target out = { .format = bgrx, .width = 16, .height = 8 };
	struct run_sync_result r = { 0 };
	CHECK(run_patient(pipe, &in, &out, &r));
	in.stride += 64;
	CHECK(!cr_pipeline_submit(pipe, &in, &out, NULL));
	in.stride -= 64;
	in.offset += 256;
	CHECK(!cr_pipeline_submit(pipe, &in, &out, NULL));
	CHECK(cr_pipeline_can_submit(pipe));
	cr_pipeline_source_destroy(pipe, source);
}

/* @mods[0..n-1] has neither DRM_FORMAT_MOD_INVALID nor a duplicate; returns whether it holds
 * LINEAR. */
static bool check_list(const char *what, uint32_t fourcc, const uint64_t *mods, uint32_t n)
{
	bool linear = false;
	for (uint32_t i = 0; i < n; i++) {
		CHECK_MSG(mods[i] != DRM_FORMAT_MOD_INVALID, "%s %.4s: [%u] is INVALID", what,
			  (const char *)&fourcc, i);
		for (uint32_t j = 0; j < i; j++)
			CHECK_MSG(mods[i] != mods[j], "%s %.4s: 0x%" PRIx64 " twice", what,
				  (const char *)&fourcc, mods[i]);
		linear = linear || mods[i] == DRM_FORMAT_MOD_LINEAR;
	}
	return linear;
}

/*
 * The modifier lists the pipeline offers, on every device: never INVALID, no duplicates,
 * LINEAR where storage buffers import or export, nothing where DMA-BUFs do not import or
 * export at all. Without image modifiers (the host's lavapipe): exactly {LINEAR} or nothing,
 * and no image can be made.
 */
static void test_modifier_lists(struct cr_vk_device *dev, struct cr_pipeline *pipe,
				bool have_images)
{
	bool can_import = cr_pipeline_can_import_dmabuf(pipe);
	bool can_export = cr_pipeline_can_export_dmabuf(pipe);
	cr_test_log("modifier lists: image modifiers %s, DMA-BUF import %s, export %s",
		    have_images ? "yes" : "none", can_import ? "yes" : "no",
		    can_export ? "yes" : "no");
	for (size_t d = 0; d < N_OUT; d++) {
		uint32_t fourcc = out_fourccs[d];
		const struct cr_format_info *fmt = cr_format_info_from_fourcc(fourcc);
		uint64_t mods[MAX_MODIFIERS];
		uint32_t n = cr_pipeline_input_modifiers(pipe, fourcc, mods, MAX_MODIFIERS);
		bool linear = check_list("input", fourcc, mods, n);
		if (fmt->readable && can_import)
			CHECK_MSG(linear, "input %.4s: LINEAR missing", (const char *)&fourcc);
		if (!can_import || !fmt->readable)
			CHECK_MSG(n == 0, "input %.4s: %u modifiers", (const char *)&fourcc, n);
		if (!have_images && fmt->readable && can_import)
			CHECK_MSG(n == 1 && mods[0] == DRM_FORMAT_MOD_LINEAR,
				  "input %.4s: %u modifiers, expected exactly LINEAR",
				  (const char *)&fourcc, n);
		/* every importable sampled-image modifier but LINEAR (read as a buffer) is
		 * offered: packed formats and NV12 */
		struct cr_vk_modifier importable[MAX_MODIFIERS];
		uint32_t n_imp = fmt->readable && can_import
			? cr_vk_format_modifiers(dev, fourcc, VK_IMAGE_USAGE_SAMPLED_BIT,
						 VK_EXTERNAL_MEMORY_FEATURE_IMPORTABLE_BIT,
						 importable, MAX_MODIFIERS)
			: 0;
		for (uint32_t i = 0; i < n_imp; i++) {
			bool listed = false;
			for (uint32_t j = 0; j < n; j++)
				listed = listed || mods[j] == importable[i].modifier;
			CHECK_MSG(listed, "input %.4s: importable modifier 0x%" PRIx64 " not offered",
				  (const char *)&fourcc, importable[i].modifier);
		}

		n = cr_pipeline_output_modifiers(pipe, fourcc, 64, 48, mods, MAX_MODIFIERS);
		linear = check_list("output", fourcc, mods, n);
		if (can_export)
			CHECK_MSG(linear, "output %.4s: LINEAR missing", (const char *)&fourcc);
		else
			CHECK_MSG(n == 0, "output %.4s: %u modifiers without DMA-BUF export",
				  (const char *)&fourcc, n);
		if (!have_images && can_export)
			CHECK_MSG(n == 1 && mods[0] == DRM_FORMAT_MOD_LINEAR,
				  "output %.4s: %u modifiers, expected exactly LINEAR",
				  (const char *)&fourcc, n);
	}
	if (have_images)
		return;

	/* No image modifiers: none for any usage, and no image of any modifier can be made. */
	CHECK_MSG(!dev->ext.image_drm_format_modifier,
		  "VK_EXT_image_drm_format_modifier present, yet no packed format has a "
		  "sampled-image modifier");
	struct cr_vk_modifier vk_mods[MAX_MODIFIERS];
	for (size_t f = 0; f < N_PACKED; f++) {
		CHECK_EQ_UINT(cr_vk_format_modifiers(dev, packed_fourccs[f],
						     VK_IMAGE_USAGE_STORAGE_BIT, 0, vk_mods,
						     MAX_MODIFIERS), 0);
		CHECK_EQ_UINT(cr_vk_format_modifiers(dev, packed_fourccs[f],
						     VK_IMAGE_USAGE_SAMPLED_BIT,
						     VK_EXTERNAL_MEMORY_FEATURE_IMPORTABLE_BIT,
						     vk_mods, MAX_MODIFIERS), 0);
	}
	CHECK_EQ_UINT(cr_vk_format_modifiers(dev, DRM_FORMAT_NV12, VK_IMAGE_USAGE_SAMPLED_BIT,
					     VK_EXTERNAL_MEMORY_FEATURE_IMPORTABLE_BIT, vk_mods,
					     MAX_MODIFIERS), 0);
	uint64_t linear = DRM_FORMAT_MOD_LINEAR, tiled = 0x300000000606010ull;
	struct cr_vk_image *img = cr_vk_image_create(dev, DRM_FORMAT_XRGB8888, 64, 48, &linear, 1,
						     VK_IMAGE_USAGE_SAMPLED_BIT |
						     VK_IMAGE_USAGE_TRANSFER_DST_BIT, false);
	CHECK_MSG(img == NULL, "a LINEAR source image without the modifier extension");
	cr_vk_image_destroy(dev, img);
	img = cr_vk_image_create(dev, DRM_FORMAT_XBGR2101010, 64, 48, &linear, 1,
				 VK_IMAGE_USAGE_STORAGE_BIT | VK_IMAGE_USAGE_TRANSFER_SRC_BIT,
				 false);
	CHECK_MSG(img == NULL, "a LINEAR output image without the modifier extension");
	cr_vk_image_destroy(dev, img);

	/* Exports: a tiled modifier never works here, LINEAR only where buffers export. */
	const struct cr_format_info *bgrx = cr_format_info_from_fourcc(DRM_FORMAT_XRGB8888);
	struct cr_dmabuf desc;
	struct cr_pipeline_output *out = cr_pipeline_export_frame(pipe, bgrx, 64, 48, &tiled, 1,
								  &desc);
	CHECK_MSG(out == NULL, "a tiled output without the modifier extension");
	cr_pipeline_output_destroy(pipe, out);
	out = cr_pipeline_export_frame(pipe, bgrx, 64, 48, &linear, 1, &desc);
	CHECK_MSG((out != NULL) == can_export, "LINEAR export: %s, can export: %d",
		  out ? "made" : "refused", can_export);
	if (out) {
		CHECK(!cr_pipeline_output_is_image(out));
		CHECK_EQ_HEX(desc.modifier, DRM_FORMAT_MOD_LINEAR);
		for (uint32_t p = 0; p < desc.n_planes; p++)
			close(desc.planes[p].fd);
	}
	cr_pipeline_output_destroy(pipe, out);

	/* A LINEAR import is read as a storage buffer. */
	if (!can_import)
		return;
	int fd = memfd_create("test-linear", MFD_CLOEXEC);
	if (!CHECK(fd >= 0 && ftruncate(fd, 64 * 48 * 4) == 0))
		return;
	struct cr_dmabuf buf = {
		.width = 64, .height = 48, .fourcc = DRM_FORMAT_XRGB8888,
		.modifier = DRM_FORMAT_MOD_LINEAR, .n_planes = 1, .planes[0] = { fd, 0, 64 * 4 },
	};
	struct cr_pipeline_source *src = cr_pipeline_import_dmabuf(pipe, &buf);
	if (CHECK(src != NULL))
		CHECK(!cr_pipeline_source_is_image(src));
	cr_pipeline_source_destroy(pipe, src);
	/* A tiled modifier cannot be imported without the extension. */
	buf.modifier = tiled;
	src = cr_pipeline_import_dmabuf(pipe, &buf);
	CHECK_MSG(src == NULL, "a tiled import without the modifier extension");
	cr_pipeline_source_destroy(pipe, src);
	close(fd);
}

int main(int argc, char **argv)
{
	bool require_gpu = false, images_only = false;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--require-gpu") == 0)
			require_gpu = true;
		else if (strcmp(argv[i], "--images-only") == 0)
			images_only = true;
		else
			return cr_test_broken("unknown argument %s", argv[i]);
	}
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
	/* Before the first job, as the daemon does before READY (kernels.h). */
	struct cr_kernels *kernels = cr_kernels_create(dev, NULL);
	if (kernels && !cr_kernels_wait(kernels, CR_KERNELS_ALL))
		fprintf(stderr, "some kernel variants failed to build\n");
	struct cr_pipeline *pipe = cr_pipeline_create(kernels, run_sync_done, NULL);
	if (!CHECK(pipe != NULL))
		return cr_test_result();
	bool can_dmabuf = cr_pipeline_can_import_dmabuf(pipe);
	cr_test_log("DMA-BUF (memfd) import: %s", can_dmabuf ? "tested" : "not supported here");
	if (!images_only)
		test_buffer_path(pipe, can_dmabuf);
	bool have_images = test_image_path(dev, pipe, can_dmabuf);
	if (test_nv12_images(dev, pipe) > 0)
		CHECK_MSG(have_images, "NV12 image modifiers, yet none for packed formats");
	if (have_images) {
		test_image_rejections(dev, pipe);
		test_nv12_image_rejections(dev, pipe);
	}
	test_modifier_lists(dev, pipe, have_images);

	cr_pipeline_destroy(pipe);
	cr_kernels_destroy(kernels);
	cr_vk_device_destroy(dev);
	check_no_vk_objects();
	return cr_test_result();
}
