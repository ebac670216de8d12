/* SPDX-License-Identifier: MIT */
/*
 * The test consumer's own logic, without PipeWire: the plane layouts it derives from a chunk
 * stride, its approximate YUV to RGB conversion, the test pattern in every source format
 * (pattern-frame.h), and castrelay-sink --verify (verify.c) fed with frames of a simulated
 * relay. The relay computes its frames with the CPU reference of the kernel from a source in
 * any input format (8-bit, 10-bit, NV12), optionally with a fault (wrong matrix, swapped
 * chroma, no cursor, a 10-bit source read as 8 bits, ...), and lays them out with a padded
 * stride; it also passes the cursor on as metadata, mapped into
 * the output (optionally wrongly: unmapped, a frame late, hidden, another bitmap, ...).
 * Verification must pass the faithful relay and fail every faulty one.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "color.h"
#include "cursor-pattern.h"
#include "dmabuf.h"
#include "frame.h"
#include "pattern-frame.h"
#include "pattern.h"
#include "reference.h"
#include "test.h"
#include "verify.h"

#define N_ELEMENTS(a) (sizeof(a) / sizeof((a)[0]))
#define SRC_W 96
#define SRC_H 64

/* --- layouts ------------------------------------------------------------------------------ */

static void test_layouts(void)
{
	static const char *const names[] = { "BGRx", "RGBA", "NV12", "I420" };
	static const uint32_t sizes[][2] = { { 320, 240 }, { 41, 31 }, { 1, 1 }, { 642, 3 } };

	cr_test_log("default strides give cr_format_plane_layout()");
	for (size_t i = 0; i < N_ELEMENTS(names); i++) {
		const struct cr_format_info *fmt = cr_format_info_from_name(names[i]);
		for (size_t j = 0; j < N_ELEMENTS(sizes); j++) {
			struct cr_plane_layout want, got0, got;
			uint32_t w = sizes[j][0], h = sizes[j][1];
			cr_format_plane_layout(fmt, w, h, &want);
			CHECK(cr_frame_layout(fmt, w, h, 0, &got0));
			CHECK(cr_frame_layout(fmt, w, h, want.stride[0], &got));
			CHECK_EQ_MEM(&got0, &want, sizeof(want));
			CHECK_EQ_MEM(&got, &want, sizeof(want));
			CHECK(cr_frame_extent(fmt, w, h, &got) <= want.size);
		}
	}

	cr_test_log("padded strides: chroma derived from the Y stride as GStreamer does");
	struct cr_plane_layout l;
	const struct cr_format_info *nv12 = cr_format_info_from_name("NV12");
	const struct cr_format_info *i420 = cr_format_info_from_name("I420");
	const struct cr_format_info *bgrx = cr_format_info_from_name("BGRx");
	CHECK(cr_frame_layout(nv12, 320, 240, 384, &l));
	CHECK_EQ_UINT(l.n_planes, 2);
	CHECK_EQ_UINT(l.stride[0], 384);
	CHECK_EQ_UINT(l.offset[1], 384 * 240);
	CHECK_EQ_UINT(l.stride[1], 384);
	CHECK_EQ_UINT(l.size, 384 * 240 + 384 * 120);
	CHECK(cr_frame_layout(i420, 321, 241, 400, &l));
	CHECK_EQ_UINT(l.n_planes, 3);
	CHECK_EQ_UINT(l.offset[1], 400 * 242);
	CHECK_EQ_UINT(l.stride[1], 200);
	CHECK_EQ_UINT(l.stride[2], 200);
	CHECK_EQ_UINT(l.offset[2], 400 * 242 + 200 * 121);
	CHECK_EQ_UINT(l.size, 400 * 242 + 2 * 200 * 121);
	/* the last V row needs 161 bytes, not the stride */
	CHECK_EQ_UINT(cr_frame_extent(i420, 321, 241, &l), 400 * 242 + 200 * 121 + 200 * 120 + 161);
	CHECK(cr_frame_layout(i420, 320, 240, 330, &l));
	CHECK_EQ_UINT(l.stride[1], 168);
	CHECK(cr_frame_layout(bgrx, 320, 240, 1288, &l));
	CHECK_EQ_UINT(l.stride[0], 1288);
	CHECK_EQ_UINT(cr_frame_extent(bgrx, 320, 240, &l), 1288 * 239 + 1280);

	cr_test_log("strides shorter than a row are refused");
	CHECK(!cr_frame_layout(bgrx, 320, 240, 1276, &l));
	CHECK(!cr_frame_layout(nv12, 320, 240, 319, &l));
}

/* --- colour ------------------------------------------------------------------------------- */

static void test_color(void)
{
	static const uint8_t colors[][3] = {
		{ 0, 0, 0 }, { 255, 255, 255 }, { 255, 0, 0 }, { 0, 255, 0 }, { 0, 0, 255 },
		{ 12, 200, 77 }, { 250, 128, 3 },
	};

	for (int m = 0; m < 2; m++) {
		for (int full = 0; full < 2; full++) {
			struct cr_frame f = { 0 };
			float y[4], u[4], v[4];
			enum cr_color_matrix matrix = m ? CR_COLOR_BT709 : CR_COLOR_BT601;
			cr_test_log("%s %s: to_rgb inverts cr_color_yuv_rows()",
				    cr_color_matrix_name(matrix), full ? "full" : "limited");
			cr_frame_set_color(&f, true, matrix, full);
			cr_color_yuv_rows(matrix, full, y, u, v);
			const float *rows[3] = { y, u, v };
			for (size_t k = 0; k < N_ELEMENTS(colors); k++) {
				float code[3], rgb[3];
				for (int i = 0; i < 3; i++)
					code[i] = rows[i][0] * colors[k][0] +
						  rows[i][1] * colors[k][1] +
						  rows[i][2] * colors[k][2] + rows[i][3];
				for (int i = 0; i < 3; i++) {
					const float *row = f.to_rgb[i];
					rgb[i] = row[0] * code[0] + row[1] * code[1] +
						 row[2] * code[2] + row[3];
					CHECK_NEAR(rgb[i], colors[k][i], 0.01);
				}
			}
		}
	}

	cr_test_log("unknown colour: BT.601 limited rows, flagged unknown");
	struct cr_frame f = { 0 };
	cr_frame_set_color(&f, false, CR_COLOR_BT709, true);
	CHECK(!f.color_known);
	CHECK_EQ_INT(f.matrix, CR_COLOR_BT601);
	CHECK(!f.full_range);
}

/* --- the pattern in every source format --------------------------------------------------- */

static void test_pattern_frame(void)
{
	enum { W = 7, H = 5, STRIDE = 7 * 4 + 8 };
	uint8_t buf[STRIDE * H], rgba[4];

	cr_test_log("10-bit pattern: the 8-bit pattern on top, x & 3 and y & 3 below G and B");
	for (int k = 0; k < 2; k++) {
		const struct cr_format_info *fmt = cr_format_info_from_name(k ? "xBGR_210LE"
									      : "xRGB_210LE");
		uint8_t *planes[2] = { buf, buf };
		uint32_t strides[2] = { STRIDE, 0 };
		int sh[3];
		cr_pattern_frame_fill(fmt, W, H, 300, CR_COLOR_BT601, false, planes, strides);
		cr_reference_layout_shifts10(fmt->layout, sh);
		uint32_t wrong = 0;
		for (uint32_t y = 0; y < H; y++) {
			for (uint32_t x = 0; x < W; x++) {
				uint32_t w;
				memcpy(&w, buf + y * STRIDE + x * 4, 4);
				cr_pattern_rgba(x, y, 300, rgba);
				uint32_t want[3] = { (uint32_t)rgba[0] << 2 | rgba[0] >> 6,
						     (uint32_t)rgba[1] << 2 | (x & 3),
						     (uint32_t)rgba[2] << 2 | (y & 3) };
				for (int c = 0; c < 3; c++)
					wrong += ((w >> sh[c]) & 0x3ff) != want[c];
				wrong += w >> 30 != 3;
			}
			wrong += buf[y * STRIDE + W * 4] != 0x5a;
			wrong += buf[y * STRIDE + STRIDE - 1] != 0x5a;
		}
		CHECK_EQ_UINT(wrong, 0);
	}

	cr_test_log("NV12 pattern: Y per pixel, U V of the 2x2 average, padding 0x5a");
	const struct cr_format_info *nv12 = cr_format_info_from_name("NV12");
	uint8_t y_plane[8 * H], uv_plane[12 * 3];
	uint8_t *planes[2] = { y_plane, uv_plane };
	uint32_t strides[2] = { 8, 12 };
	float ry[4], ru[4], rv[4];
	cr_color_yuv_rows(CR_COLOR_BT709, true, ry, ru, rv);
	cr_pattern_frame_fill(nv12, W, H, 9, CR_COLOR_BT709, true, planes, strides);
	cr_pattern_rgba(3, 2, 9, rgba);
	CHECK_EQ_UINT(y_plane[2 * 8 + 3],
		      (uint32_t)floorf(ry[0] * rgba[0] + ry[1] * rgba[1] + ry[2] * rgba[2] + ry[3] +
				       0.5f));
	/* the last chroma column (x = 6 only) and row (y = 4 only) repeat the edge pixels */
	cr_pattern_rgba(6, 4, 9, rgba);
	CHECK_EQ_UINT(uv_plane[2 * 12 + 6],
		      (uint32_t)floorf(ru[0] * rgba[0] + ru[1] * rgba[1] + ru[2] * rgba[2] + ru[3] +
				       0.5f));
	CHECK_EQ_UINT(uv_plane[2 * 12 + 7],
		      (uint32_t)floorf(rv[0] * rgba[0] + rv[1] * rgba[1] + rv[2] * rgba[2] + rv[3] +
				       0.5f));
	CHECK_EQ_UINT(y_plane[4 * 8 + 7], 0x5a);
	CHECK_EQ_UINT(uv_plane[12 + 8], 0x5a);
	CHECK_EQ_UINT(uv_plane[12 + 11], 0x5a);
}

/* --- a simulated relay -------------------------------------------------------------------- */

enum fault {
	FAULT_NONE,
	FAULT_MATRIX,    /* converts with the other matrix than it announces */
	FAULT_RANGE,     /* converts with the other range than it announces */
	FAULT_SWAP_UV,   /* chroma planes (or bytes) swapped */
	FAULT_NO_CURSOR, /* does not embed the cursor */
	FAULT_TRANSFORM, /* applies transform + 1 */
	FAULT_NO_REDACT, /* forgets the redaction */
	FAULT_SWAP_RB,   /* packed: R and B swapped */
	FAULT_NO_COLOR,  /* announces no colour description */
	/* the cursor passed on as metadata */
	FAULT_META_MISSING,   /* buffers without the meta */
	FAULT_META_HIDDEN,    /* id 0: no cursor */
	FAULT_META_UNMAPPED,  /* the source position, not mapped into the output */
	FAULT_META_TOPLEFT,   /* the bitmap's corner instead of the hotspot */
	FAULT_META_LATE,      /* the position of the previous frame */
	FAULT_META_FLOOR,     /* mapped with rounding down instead of towards zero */
	FAULT_META_HOTSPOT,   /* the hotspot scaled like the position */
	FAULT_META_BITMAP,    /* one byte of the bitmap changed */
	FAULT_META_FORMAT,    /* BGRA bytes announced as RGBA */
	FAULT_META_SIZE,      /* a 16x16 bitmap (the top-left quarter) */
	FAULT_META_EMBEDDED,  /* the cursor drawn into the frames as well */
	/* the source's format */
	FAULT_SRC_MATRIX,     /* an NV12 source decoded with the other matrix */
	FAULT_8BIT,           /* a 10-bit source read as its top 8 bits */
};

/* Bytes per row of the simulated relay's cursor bitmap: padded, as a producer may. */
#define BITMAP_STRIDE (CR_CURSOR_SIZE * 4 + 8)

struct relay {
	struct cr_process_params p;
	struct cr_frame frame;   /* as announced; planes with a padded stride */
	struct cr_plane_layout tight;
	const struct cr_format_info *src_fmt; /* NULL: the 8-bit pattern in RGBx */
	struct cr_plane_layout src_layout;    /* of src_fmt, tight */
	uint32_t *src;
	uint32_t cursor[CR_CURSOR_PIXELS];
	uint8_t *tmp;            /* tight output of the reference */
	uint8_t *buf;            /* the published block */
	enum fault fault;
	const struct cr_verify_options *opt;
	bool noise;              /* one byte in 8 off by one, as GPU float rounding may do */
	uint32_t rng;
	bool no_bitmap;          /* the cursor meta has a position only */
	struct cr_verify_cursor meta; /* of the last frame */
	uint8_t bitmap[CR_CURSOR_SIZE * BITMAP_STRIDE]; /* BGRA */
};

struct relay_setup {
	const char *format;
	uint32_t width, height;
	enum cr_color_matrix matrix;
	bool full_range;
};

static bool relay_init(struct relay *r, const struct cr_verify_options *opt,
		       const struct relay_setup *s, enum fault fault)
{
	const struct cr_format_info *fmt = cr_format_info_from_name(s->format);
	struct cr_process_params *p = &r->p;
	uint32_t crop[4] = { 0, 0, opt->src_width, opt->src_height };
	bool yuv_full = s->full_range ^ (fault == FAULT_RANGE);
	enum cr_color_matrix yuv_matrix = s->matrix;

	if (opt->crop[2] != 0)
		memcpy(crop, opt->crop, sizeof(crop));
	if (fault == FAULT_MATRIX)
		yuv_matrix = s->matrix == CR_COLOR_BT601 ? CR_COLOR_BT709 : CR_COLOR_BT601;

	*r = (struct relay){ .fault = fault, .opt = opt };
	r->frame.fmt = fmt;
	r->frame.width = s->width;
	r->frame.height = s->height;
	cr_frame_set_color(&r->frame, fault != FAULT_NO_COLOR, s->matrix, s->full_range);
	cr_format_plane_layout(fmt, s->width, s->height, &r->tight);
	/* a Y/packed stride 40 bytes longer than the default */
	if (!cr_frame_layout(fmt, s->width, s->height, r->tight.stride[0] + 40, &r->frame.planes))
		return false;

	*p = (struct cr_process_params){
		.src_stride = opt->src_width, .src_width = opt->src_width,
		.src_height = opt->src_height, .src_layout = CR_LAYOUT_RGBX,
		.crop_x = crop[0], .crop_y = crop[1], .crop_w = crop[2], .crop_h = crop[3],
		.transform = (opt->transform + (fault == FAULT_TRANSFORM)) & 7u,
		.out_kind = fmt->out_kind, .dst_width = s->width, .dst_height = s->height,
		.dst_layout = fmt->layout,
		.dst_stride = fmt->out_kind == CR_OUT_PACKED ? r->tight.stride[0] / 4 :
							       r->tight.stride[0],
		.dst_offset1 = r->tight.offset[1], .dst_stride1 = r->tight.stride[1],
		.dst_offset2 = r->tight.offset[2], .dst_stride2 = r->tight.stride[2],
		.n_redact = fault == FAULT_NO_REDACT ? 0 : opt->n_redact,
		.redact_mode = CR_REDACT_FILL, .redact_color = 0xff000000u,
		.cursor_enabled = (opt->cursor && fault != FAULT_NO_CURSOR) ||
				  fault == FAULT_META_EMBEDDED,
		.cursor_w = CR_CURSOR_SIZE, .cursor_h = CR_CURSOR_SIZE,
		.cursor_stride = CR_CURSOR_SIZE, .cursor_layout = CR_LAYOUT_BGRA,
	};
	if (fault == FAULT_SWAP_RB)
		p->dst_layout = fmt->layout ^ 1u; /* BGRx <-> RGBx, BGRA <-> RGBA */
	if (fault == FAULT_SWAP_UV && fmt->out_kind == CR_OUT_I420) {
		p->dst_offset1 = r->tight.offset[2];
		p->dst_offset2 = r->tight.offset[1];
	}
	for (uint32_t i = 0; i < opt->n_redact; i++)
		memcpy(p->redact[i], opt->redact[i], sizeof(p->redact[i]));
	cr_color_yuv_rows(yuv_matrix, yuv_full, p->yuv_y, p->yuv_u, p->yuv_v);
	p->filter_mode = cr_reference_choose_filter(p);
	for (uint32_t i = 0; i < CR_CURSOR_PIXELS; i++) {
		uint8_t c[4], bgra[4];
		cr_cursor_pattern_rgba(i % CR_CURSOR_SIZE, i / CR_CURSOR_SIZE, c);
		bgra[0] = c[2];
		bgra[1] = c[1];
		bgra[2] = c[0];
		bgra[3] = c[3];
		memcpy(&r->cursor[i], bgra, 4);
		memcpy(&r->bitmap[i / CR_CURSOR_SIZE * BITMAP_STRIDE + i % CR_CURSOR_SIZE * 4],
		       bgra, 4);
	}
	if (fault == FAULT_META_BITMAP)
		r->bitmap[25 * BITMAP_STRIDE + 20 * 4 + 1] ^= 0x10; /* G of pixel 20,25 */

	/* The source in its format, or (FAULT_8BIT, or none given) the 8-bit pattern in RGBx. */
	r->src_fmt = fault == FAULT_8BIT ? NULL : opt->src_format;
	if (r->src_fmt) {
		bool nv12 = r->src_fmt->out_kind == CR_OUT_NV12;
		enum cr_color_matrix m = opt->src_matrix;
		if (fault == FAULT_SRC_MATRIX)
			m = m == CR_COLOR_BT601 ? CR_COLOR_BT709 : CR_COLOR_BT601;
		cr_format_plane_layout(r->src_fmt, opt->src_width, opt->src_height,
				       &r->src_layout);
		p->src_kind = nv12 ? CR_OUT_NV12 : CR_OUT_PACKED;
		p->src_layout = r->src_fmt->layout;
		p->src_stride = nv12 ? r->src_layout.stride[0] : r->src_layout.stride[0] / 4;
		p->src_offset1 = r->src_layout.offset[1];
		p->src_stride1 = r->src_layout.stride[1];
		if (nv12)
			cr_color_rgb_rows(m, opt->src_full_range, p->rgb_r, p->rgb_g, p->rgb_b);
	}
	r->src = calloc(r->src_fmt ? (r->src_layout.size + 3) / 4
				   : (size_t)opt->src_width * opt->src_height, sizeof(*r->src));
	r->tmp = calloc(1, r->tight.size);
	r->buf = malloc(r->frame.planes.size);
	r->frame.data = r->buf;
	return r->src != NULL && r->tmp != NULL && r->buf != NULL;
}

static void relay_finish(struct relay *r)
{
	free(r->src);
	free(r->tmp);
	free(r->buf);
}

/* @a / @b (b > 0) rounded down rather than towards zero. */
static int64_t floor_div(int64_t a, int64_t b)
{
	return a / b - (a % b < 0);
}

/* The cursor meta of frame @n, mapped into the output as castrelayd does (or a fault). */
static void relay_cursor_meta(struct relay *r, uint64_t n)
{
	const struct cr_process_params *p = &r->p;
	int64_t dx, dy, out_w = r->frame.width, out_h = r->frame.height;
	int32_t x, y;

	cr_cursor_pattern_position(r->fault == FAULT_META_LATE ? n - 1 : n, p->src_width,
				   p->src_height, &x, &y);
	if (r->fault == FAULT_META_TOPLEFT) {
		x -= CR_CURSOR_HOTSPOT_X;
		y -= CR_CURSOR_HOTSPOT_Y;
	}
	dx = (int64_t)x - p->crop_x;
	dy = (int64_t)y - p->crop_y;
	r->meta = (struct cr_verify_cursor){
		.visible = r->fault != FAULT_META_HIDDEN,
		.x = (int32_t)(dx * out_w / p->crop_w),
		.y = (int32_t)(dy * out_h / p->crop_h),
		.hotspot_x = CR_CURSOR_HOTSPOT_X,
		.hotspot_y = CR_CURSOR_HOTSPOT_Y,
		.has_bitmap = !r->no_bitmap,
		.format = cr_format_info_from_name(r->fault == FAULT_META_FORMAT ? "RGBA" : "BGRA"),
		.width = r->fault == FAULT_META_SIZE ? CR_CURSOR_SIZE / 2 : CR_CURSOR_SIZE,
		.height = r->fault == FAULT_META_SIZE ? CR_CURSOR_SIZE / 2 : CR_CURSOR_SIZE,
		.stride = BITMAP_STRIDE,
		.pixels = r->no_bitmap ? NULL : r->bitmap,
	};
	if (r->fault == FAULT_META_UNMAPPED) {
		r->meta.x = x;
		r->meta.y = y;
	} else if (r->fault == FAULT_META_FLOOR) {
		r->meta.x = (int32_t)floor_div(dx * out_w, p->crop_w);
		r->meta.y = (int32_t)floor_div(dy * out_h, p->crop_h);
	} else if (r->fault == FAULT_META_HOTSPOT) {
		r->meta.hotspot_x = (int32_t)(CR_CURSOR_HOTSPOT_X * out_w / p->crop_w);
		r->meta.hotspot_y = (int32_t)(CR_CURSOR_HOTSPOT_Y * out_h / p->crop_h);
	}
}

/* The cursor meta of the last frame as a consumer finds it: NULL when the buffer has none. */
static const struct cr_verify_cursor *relay_meta(const struct relay *r)
{
	return r->fault == FAULT_META_MISSING ? NULL : &r->meta;
}

/* Publishes frame @n: source pattern in RGBx, reference output, copied into padded planes. */
static void relay_frame(struct relay *r, uint64_t n)
{
	const struct cr_format_info *fmt = r->frame.fmt;
	int32_t x, y;

	for (uint32_t j = 0; !r->src_fmt && j < r->p.src_height; j++) {
		for (uint32_t i = 0; i < r->p.src_width; i++) {
			uint8_t rgba[4];
			cr_pattern_rgba(i, j, n, rgba);
			memcpy(&r->src[j * r->p.src_stride + i], rgba, 4);
		}
	}
	if (r->src_fmt) {
		uint8_t *base = (uint8_t *)r->src;
		uint8_t *planes[2] = { base, base + r->src_layout.offset[1] };
		/* the producer encodes with the matrix it announces (opt), whatever the relay
		 * decodes with */
		cr_pattern_frame_fill(r->src_fmt, r->p.src_width, r->p.src_height, n,
				      r->opt->src_matrix, r->opt->src_full_range, planes,
				      r->src_layout.stride);
	}
	cr_cursor_pattern_position(n, r->opt->src_width, r->opt->src_height, &x, &y);
	r->p.cursor_x = x - CR_CURSOR_HOTSPOT_X;
	r->p.cursor_y = y - CR_CURSOR_HOTSPOT_Y;
	cr_reference_process(&r->p, r->src, r->cursor, r->tmp);
	relay_cursor_meta(r, n);
	for (uint64_t i = 0; r->noise && fmt->depth == 8 && i < r->tight.size; i++) {
		r->rng = r->rng * 1664525u + 1013904223u;
		uint32_t k = r->rng >> 24;
		if (k < 16 && r->tmp[i] < 255)
			r->tmp[i]++;
		else if (k >= 16 && k < 32 && r->tmp[i] > 0)
			r->tmp[i]--;
	}
	/* 10-bit outputs: the same noise on the 10-bit fields */
	for (uint64_t i = 0; r->noise && fmt->depth == 10 && i < r->tight.size / 4; i++) {
		uint32_t w;
		memcpy(&w, r->tmp + 4 * i, 4);
		for (int c = 0; c < 3; c++) {
			r->rng = r->rng * 1664525u + 1013904223u;
			uint32_t k = r->rng >> 24, f = (w >> (10 * c)) & 0x3ff;
			if (k < 16 && f < 1023)
				f++;
			else if (k >= 16 && k < 32 && f > 0)
				f--;
			w = (w & ~(0x3ffu << (10 * c))) | f << (10 * c);
		}
		memcpy(r->tmp + 4 * i, &w, 4);
	}

	memset(r->buf, 0xa5, r->frame.planes.size);
	uint32_t cw = cr_frame_chroma_size(r->frame.width);
	uint32_t ch = cr_frame_chroma_size(r->frame.height);
	for (uint32_t i = 0; i < r->tight.n_planes; i++) {
		bool luma = i == 0;
		uint32_t rows = luma ? r->frame.height : ch;
		uint32_t bytes = luma ? r->frame.width * fmt->bytes_per_pixel :
					(fmt->out_kind == CR_OUT_NV12 ? 2 * cw : cw);
		for (uint32_t j = 0; j < rows; j++) {
			uint8_t *to = r->buf + r->frame.planes.offset[i] +
				      (size_t)j * r->frame.planes.stride[i];
			memcpy(to, r->tmp + r->tight.offset[i] + (size_t)j * r->tight.stride[i],
			       bytes);
			if (r->fault == FAULT_SWAP_UV && fmt->out_kind == CR_OUT_NV12 && !luma) {
				for (uint32_t k = 0; k + 1 < bytes; k += 2) {
					uint8_t t = to[k];
					to[k] = to[k + 1];
					to[k + 1] = t;
				}
			}
		}
	}
}

/* Runs @count frames from @first (numbers in @seq when non-NULL) through a fresh verifier. */
static bool run(const struct cr_verify_options *opt, const struct relay_setup *s,
		enum fault fault, bool noise, uint64_t first, uint32_t count, const uint64_t *seq,
		struct cr_verify *out)
{
	struct relay r;
	struct cr_verify v;
	bool ok = false;

	if (!relay_init(&r, opt, s, fault))
		goto out_relay;
	r.noise = noise;
	if (!cr_verify_init(&v, opt))
		goto out_relay;
	if (!cr_verify_set_destination(&v, &r.frame))
		goto out_verify;
	for (uint32_t i = 0; i < count; i++) {
		relay_frame(&r, seq ? seq[i] : first + i);
		cr_verify_frame(&v, &r.frame, relay_meta(&r));
	}
	*out = v;
	out->src = NULL;
	out->ref = NULL;
	ok = true;
out_verify:
	cr_verify_finish(&v);
out_relay:
	relay_finish(&r);
	return ok;
}

struct scenario {
	const char *what;
	struct relay_setup setup;
	struct cr_verify_options opt;
	const char *src; /* the source format, NULL: 8-bit packed (opt.src_format is set
			  * from it: a static table cannot point into dmabuf.c's) */
};

static const struct scenario scenarios[] = {
	{ "BGRx identity", { "BGRx", SRC_W, SRC_H, CR_COLOR_BT601, false },
	  { SRC_W, SRC_H, .tolerance = 0 } },
	{ "RGBA half size, cursor, redaction", { "RGBA", 48, 32, CR_COLOR_BT601, false },
	  { SRC_W, SRC_H, .n_redact = 1, .redact = { { 10, 20, 30, 12 } }, .cursor = true,
	    .tolerance = 0 } },
	{ "BGRx crop, box downscale, flipped", { "BGRx", 20, 16, CR_COLOR_BT601, false },
	  { SRC_W, SRC_H, .crop = { 8, 4, 80, 56 }, .transform = CR_TRANSFORM_FLIPPED,
	    .cursor = true, .tolerance = 0 } },
	{ "NV12 bt709 limited, odd size, crop, 90", { "NV12", 41, 31, CR_COLOR_BT709, false },
	  { SRC_W, SRC_H, .crop = { 8, 4, 80, 56 }, .transform = CR_TRANSFORM_90,
	    .tolerance = 0 } },
	{ "NV12 bt601 limited identity, cursor, redaction",
	  { "NV12", SRC_W, SRC_H, CR_COLOR_BT601, false },
	  { SRC_W, SRC_H, .n_redact = 2, .redact = { { 0, 0, 40, 30 }, { 60, 40, 36, 24 } },
	    .cursor = true, .tolerance = 0 } },
	{ "I420 bt601 full, box, flipped 180, cursor, redaction",
	  { "I420", 24, 16, CR_COLOR_BT601, true },
	  { SRC_W, SRC_H, .transform = CR_TRANSFORM_FLIPPED_180, .n_redact = 1,
	    .redact = { { 30, 10, 20, 20 } }, .cursor = true, .tolerance = 0 } },
	{ "I420 bt709 full, 270, upscale", { "I420", 100, 150, CR_COLOR_BT709, true },
	  { SRC_W, SRC_H, .transform = CR_TRANSFORM_270, .cursor = true, .tolerance = 0 } },
	{ "NV12 bt709 limited, all but 16x14 pixels redacted",
	  { "NV12", SRC_W, SRC_H, CR_COLOR_BT709, false },
	  { SRC_W, SRC_H, .n_redact = 2, .redact = { { 0, 0, 96, 50 }, { 0, 50, 80, 14 } },
	    .tolerance = 0 } },
	{ "BGRA, all but 16x14 pixels redacted", { "BGRA", SRC_W, SRC_H, CR_COLOR_BT601, false },
	  { SRC_W, SRC_H, .n_redact = 2, .redact = { { 0, 0, 96, 50 }, { 0, 50, 80, 14 } },
	    .cursor = true, .tolerance = 0 } },
	/* 9, 10: the cursor as metadata */
	{ "BGRx crop, half size, cursor meta", { "BGRx", 40, 28, CR_COLOR_BT601, false },
	  { SRC_W, SRC_H, .crop = { 8, 4, 80, 56 }, .cursor_meta = true, .tolerance = 0 } },
	{ "I420 bt709 limited, crop, double size, cursor meta, redaction",
	  { "I420", 160, 112, CR_COLOR_BT709, false },
	  { SRC_W, SRC_H, .crop = { 8, 4, 80, 56 }, .n_redact = 1,
	    .redact = { { 40, 20, 30, 20 } }, .cursor_meta = true, .tolerance = 0 } },
	/* 11..16: sources in other formats, 10-bit outputs */
	{ "NV12 source bt709 limited, BGRx identity",
	  { "BGRx", SRC_W, SRC_H, CR_COLOR_BT601, false },
	  { SRC_W, SRC_H, .src_matrix = CR_COLOR_BT709, .tolerance = 0 }, "NV12" },
	{ "NV12 source bt601 full, xRGB_210LE, crop, 90, cursor, redaction",
	  { "xRGB_210LE", 28, 40, CR_COLOR_BT601, false },
	  { SRC_W, SRC_H, .src_matrix = CR_COLOR_BT601, .src_full_range = true,
	    .crop = { 8, 4, 80, 56 }, .transform = CR_TRANSFORM_90, .n_redact = 1,
	    .redact = { { 30, 10, 20, 20 } }, .cursor = true, .tolerance = 0 }, "NV12" },
	{ "xRGB_210LE source, xBGR_210LE identity",
	  { "xBGR_210LE", SRC_W, SRC_H, CR_COLOR_BT601, false },
	  { SRC_W, SRC_H, .tolerance = 0 }, "xRGB_210LE" },
	{ "xBGR_210LE source, NV12 bt709 limited, half size",
	  { "NV12", 48, 32, CR_COLOR_BT709, false },
	  { SRC_W, SRC_H, .tolerance = 0 }, "xBGR_210LE" },
	{ "BGRx source, xRGB_210LE, box downscale, flipped, cursor",
	  { "xRGB_210LE", 20, 16, CR_COLOR_BT601, false },
	  { SRC_W, SRC_H, .crop = { 8, 4, 80, 56 }, .transform = CR_TRANSFORM_FLIPPED,
	    .cursor = true, .tolerance = 0 } },
	{ "NV12 source bt709 limited, I420 bt601 full, odd size",
	  { "I420", 41, 31, CR_COLOR_BT601, true },
	  { SRC_W, SRC_H, .src_matrix = CR_COLOR_BT709, .tolerance = 0 }, "NV12" },
};

/* @sc's options with its source format. */
static struct cr_verify_options scenario_opt(const struct scenario *sc)
{
	struct cr_verify_options opt = sc->opt;
	opt.src_format = sc->src ? cr_format_info_from_name(sc->src) : NULL;
	return opt;
}

static void test_faithful(void)
{
	for (size_t i = 0; i < N_ELEMENTS(scenarios); i++) {
		const struct scenario *sc = &scenarios[i];
		struct cr_verify_options opt = scenario_opt(sc);
		struct cr_verify v;
		cr_test_log("faithful relay passes: %s", sc->what);
		/* across the wrap of the frame number, with the cursor leaving the frame */
		if (!CHECK(run(&opt, &sc->setup, FAULT_NONE, false, 250, 12, NULL, &v)))
			continue;
		CHECK_EQ_UINT(v.checked, 12);
		CHECK_EQ_UINT(v.mismatched_frames, 0);
		CHECK_EQ_UINT(v.stale, 0);
		CHECK_EQ_UINT(v.max_error, 0);
		CHECK_EQ_UINT(v.previous, (250 + 11) & 0xff);
		CHECK_EQ_UINT(v.cursor_checked, sc->opt.cursor_meta ? 12 : 0);
	}
}

static void test_faults(void)
{
	static const struct {
		size_t scenario;
		enum fault fault;
		const char *what;
	} cases[] = {
		{ 3, FAULT_MATRIX, "NV12 converted with bt601, announced bt709" },
		{ 5, FAULT_MATRIX, "I420 converted with bt709, announced bt601" },
		{ 3, FAULT_RANGE, "NV12 full range announced limited" },
		{ 5, FAULT_RANGE, "I420 limited range announced full" },
		{ 4, FAULT_SWAP_UV, "NV12 with V before U" },
		{ 5, FAULT_SWAP_UV, "I420 with the V plane first" },
		{ 4, FAULT_NO_COLOR, "NV12 without colour description" },
		{ 1, FAULT_NO_CURSOR, "RGBA without the cursor" },
		{ 4, FAULT_NO_CURSOR, "NV12 without the cursor" },
		{ 2, FAULT_TRANSFORM, "BGRx flipped 90 instead of flipped" },
		{ 3, FAULT_TRANSFORM, "NV12 180 instead of 90" },
		{ 1, FAULT_NO_REDACT, "RGBA without redaction" },
		{ 4, FAULT_NO_REDACT, "NV12 without redaction" },
		{ 0, FAULT_SWAP_RB, "RGBx bytes announced as BGRx" },
		{ 1, FAULT_SWAP_RB, "BGRA bytes announced as RGBA" },
		{ 9, FAULT_META_MISSING, "BGRx without cursor meta" },
		{ 10, FAULT_META_MISSING, "I420 without cursor meta" },
		{ 9, FAULT_META_HIDDEN, "BGRx with the cursor meta saying 'no cursor'" },
		{ 9, FAULT_META_UNMAPPED, "BGRx with the cursor at its source position" },
		{ 10, FAULT_META_UNMAPPED, "I420 with the cursor at its source position" },
		{ 9, FAULT_META_TOPLEFT, "BGRx with the bitmap corner as position" },
		{ 10, FAULT_META_LATE, "I420 with the previous frame's cursor position" },
		{ 9, FAULT_META_HOTSPOT, "BGRx with a scaled hotspot" },
		{ 10, FAULT_META_HOTSPOT, "I420 with a scaled hotspot" },
		{ 9, FAULT_META_BITMAP, "BGRx with one bitmap byte changed" },
		{ 10, FAULT_META_FORMAT, "I420 with BGRA bitmap bytes announced as RGBA" },
		{ 9, FAULT_META_SIZE, "BGRx with a 16x16 bitmap" },
		{ 9, FAULT_META_EMBEDDED, "BGRx with the cursor drawn in the frames too" },
		{ 10, FAULT_META_EMBEDDED, "I420 with the cursor drawn in the frames too" },
		{ 11, FAULT_SRC_MATRIX, "NV12 source decoded with bt601, announced bt709" },
		{ 12, FAULT_SRC_MATRIX, "NV12 source decoded with bt709, announced bt601" },
		{ 16, FAULT_SRC_MATRIX, "NV12 source to I420 decoded with the other matrix" },
		{ 12, FAULT_NO_CURSOR, "xRGB_210LE from NV12 without the cursor" },
		{ 12, FAULT_TRANSFORM, "xRGB_210LE from NV12, 180 instead of 90" },
		{ 13, FAULT_8BIT, "10-bit source read as 8 bits into a 10-bit output" },
		{ 13, FAULT_SWAP_RB, "xRGB_210LE words announced as xBGR_210LE" },
		{ 15, FAULT_SWAP_RB, "xBGR_210LE words announced as xRGB_210LE" },
		{ 14, FAULT_SWAP_UV, "NV12 from a 10-bit source with V before U" },
	};

	for (size_t i = 0; i < N_ELEMENTS(cases); i++) {
		const struct scenario *sc = &scenarios[cases[i].scenario];
		struct cr_verify_options opt = scenario_opt(sc);
		struct cr_verify v;
		cr_test_log("faulty relay fails: %s", cases[i].what);
		opt.tolerance = 2; /* castrelay-sink's default */
		/* frames 40..47: the cursor is inside the frame */
		if (!CHECK(run(&opt, &sc->setup, cases[i].fault, false, 40, 8, NULL, &v)))
			continue;
		CHECK_EQ_UINT(v.checked, 8);
		CHECK_MSG(v.mismatched_frames == 8, "%u of 8 frames mismatched (max_error %u)",
			  v.mismatched_frames, v.max_error);
	}
}

/* --- the cursor as metadata --------------------------------------------------------------- */

static void test_map_cursor(void)
{
	static const struct {
		uint32_t crop[4], out_w, out_h;
		int32_t src_x, src_y, x, y;
	} cases[] = {
		/* castrelayd --crop 20,10,280,200 --scale 140x100, as cursor-meta.sh runs it */
		{ { 20, 10, 280, 200 }, 140, 100, 20, 10, 0, 0 },
		{ { 20, 10, 280, 200 }, 140, 100, 300, 210, 140, 100 },
		{ { 20, 10, 280, 200 }, 140, 100, 161, 77, 70, 33 },   /* 70.5, 33.5 */
		{ { 20, 10, 280, 200 }, 140, 100, 19, 9, 0, 0 },       /* -0.5: towards zero */
		{ { 20, 10, 280, 200 }, 140, 100, 17, 7, -1, -1 },     /* -1.5 */
		{ { 20, 10, 280, 200 }, 140, 100, -20, -20, -20, -15 }, /* the pattern's first */
		{ { 20, 10, 280, 200 }, 140, 100, 340, 260, 160, 125 }, /* beyond the crop */
		/* identity */
		{ { 0, 0, 96, 64 }, 96, 64, -20, -7, -20, -7 },
		{ { 0, 0, 96, 64 }, 96, 64, 115, 83, 115, 83 },
		/* upscale, unequal factors */
		{ { 8, 4, 80, 56 }, 100, 150, 7, 3, -1, -2 },           /* -1.25, -2.68 */
		{ { 8, 4, 80, 56 }, 100, 150, 50, 30, 52, 69 },         /* 52.5, 69.6 */
		{ { 8, 4, 80, 56 }, 100, 150, 88, 60, 100, 150 },
		/* products beyond 32 bits do not wrap */
		{ { 0, 0, 3, 3 }, 16384, 16384, 300000, -300000, 1638400000, -1638400000 },
	};

	cr_test_log("cursor positions mapped into the output, truncated towards zero");
	for (size_t i = 0; i < N_ELEMENTS(cases); i++) {
		int32_t x, y;
		cr_verify_map_cursor(cases[i].crop, cases[i].out_w, cases[i].out_h,
				     cases[i].src_x, cases[i].src_y, &x, &y);
		CHECK_EQ_INT(x, cases[i].x);
		CHECK_EQ_INT(y, cases[i].y);
	}
}

/* A cursor meta without a bitmap is fine; ignored without cursor_meta; bad options refused. */
static void test_cursor_meta_misc(void)
{
	const struct scenario *sc = &scenarios[9];
	struct relay r;
	struct cr_verify v;

	cr_test_log("cursor meta with a position only (no bitmap) passes");
	if (CHECK(relay_init(&r, &sc->opt, &sc->setup, FAULT_NONE)) &&
	    CHECK(cr_verify_init(&v, &sc->opt))) {
		r.no_bitmap = true;
		CHECK(cr_verify_set_destination(&v, &r.frame));
		for (uint64_t n = 40; n < 48; n++) {
			relay_frame(&r, n);
			cr_verify_frame(&v, &r.frame, relay_meta(&r));
		}
		CHECK_EQ_UINT(v.checked, 8);
		CHECK_EQ_UINT(v.cursor_checked, 8);
		CHECK_EQ_UINT(v.mismatched_frames, 0);
		cr_verify_finish(&v);
	}
	relay_finish(&r);

	cr_test_log("without cursor_meta a missing cursor meta is not looked at");
	struct cr_verify_options plain = sc->opt;
	plain.cursor_meta = false;
	struct cr_verify out;
	if (CHECK(run(&plain, &sc->setup, FAULT_META_MISSING, false, 40, 8, NULL, &out))) {
		CHECK_EQ_UINT(out.mismatched_frames, 0);
		CHECK_EQ_UINT(out.cursor_checked, 0);
	}

	cr_test_log("rounding down instead of towards zero fails where the two differ");
	/* frames 0..7: the cursor is up and left of the crop, where the two roundings part */
	uint32_t differ = 0;
	for (uint64_t n = 0; n < 8; n++) {
		int32_t x, y;
		cr_cursor_pattern_position(n, SRC_W, SRC_H, &x, &y);
		int64_t px = ((int64_t)x - 8) * 40, py = ((int64_t)y - 4) * 28;
		differ += px / 80 != floor_div(px, 80) || py / 56 != floor_div(py, 56);
	}
	CHECK(differ >= 4);
	if (CHECK(run(&sc->opt, &sc->setup, FAULT_META_FLOOR, false, 0, 8, NULL, &out)))
		CHECK_EQ_UINT(out.mismatched_frames, differ);

	cr_test_log("cursor meta with an embedded cursor or a transform is refused");
	struct cr_verify_options bad = sc->opt;
	bad.cursor = true;
	CHECK(!cr_verify_init(&v, &bad));
	bad = sc->opt;
	bad.transform = CR_TRANSFORM_90;
	CHECK(!cr_verify_init(&v, &bad));
}

static void test_stale(void)
{
	static const uint64_t repeat[] = { 100, 101, 102, 102, 103, 104 };
	static const uint64_t gap[] = { 100, 101, 104, 105, 113, 120 };
	static const uint64_t back[] = { 100, 101, 102, 101, 102, 103 };

	for (size_t i = 0; i < N_ELEMENTS(scenarios); i++) {
		const struct scenario *sc = &scenarios[i];
		struct cr_verify_options opt = scenario_opt(sc);
		struct cr_verify v;
		cr_test_log("freshness, with +-1 noise: %s", sc->what);
		opt.tolerance = 2;
		if (CHECK(run(&opt, &sc->setup, FAULT_NONE, true, 0, 6, repeat, &v)))
			CHECK_MSG(v.stale == 1 && v.mismatched_frames == 0 && v.max_error == 1,
				  "repeated frame: stale %u, mismatched %u, max_error %u", v.stale,
				  v.mismatched_frames, v.max_error);
		if (CHECK(run(&opt, &sc->setup, FAULT_NONE, true, 0, 6, gap, &v)))
			CHECK_MSG(v.stale == 0 && v.mismatched_frames == 0,
				  "dropped frames: stale %u, mismatched %u", v.stale,
				  v.mismatched_frames);
		if (CHECK(run(&opt, &sc->setup, FAULT_NONE, true, 0, 6, back, &v)))
			CHECK_MSG(v.stale == 1 && v.mismatched_frames == 0,
				  "frame from the past: stale %u, mismatched %u", v.stale,
				  v.mismatched_frames);
	}
}

/*
 * cr_verify_set_source_size(): a relay that follows its source from 32x24 to 48x40. The
 * results and the previous frame number carry over (a frame going back is stale across the
 * change); a verifier left at the old size finds the new frames wrong.
 */
static void test_source_size(void)
{
	struct cr_verify_options small = { .src_width = 32, .src_height = 24, .tolerance = 2 };
	struct cr_verify_options large = { .src_width = 48, .src_height = 40, .tolerance = 2 };
	struct relay a, b;
	struct cr_verify v, stuck;

	if (!CHECK(relay_init(&a, &small, &(struct relay_setup){ "BGRx", 32, 24 }, FAULT_NONE) &&
		   relay_init(&b, &large, &(struct relay_setup){ "BGRx", 48, 40 }, FAULT_NONE) &&
		   cr_verify_init(&v, &small) && cr_verify_init(&stuck, &small) &&
		   cr_verify_set_destination(&v, &a.frame) &&
		   cr_verify_set_destination(&stuck, &a.frame)))
		return;
	for (uint64_t n = 10; n < 12; n++) {
		relay_frame(&a, n);
		cr_verify_frame(&v, &a.frame, NULL);
		cr_verify_frame(&stuck, &a.frame, NULL);
	}
	CHECK(cr_verify_set_source_size(&v, 48, 40));
	CHECK(cr_verify_set_destination(&v, &b.frame));
	CHECK(cr_verify_set_destination(&stuck, &b.frame));
	static const uint64_t after[] = { 12, 13, 11 };
	for (size_t i = 0; i < N_ELEMENTS(after); i++) {
		relay_frame(&b, after[i]);
		cr_verify_frame(&v, &b.frame, NULL);
		cr_verify_frame(&stuck, &b.frame, NULL);
	}
	CHECK_EQ_UINT(v.checked, 5);
	CHECK_EQ_UINT(v.mismatched_frames, 0);
	CHECK_EQ_UINT(v.stale, 1);
	CHECK_EQ_UINT(stuck.mismatched_frames, 3);
	cr_verify_finish(&v);
	cr_verify_finish(&stuck);
	relay_finish(&a);
	relay_finish(&b);
}

/* Every frame number is found from scratch, without a previous frame to start from. */
static void test_identify_all(void)
{
	for (size_t i = 0; i < N_ELEMENTS(scenarios); i++) {
		const struct scenario *sc = &scenarios[i];
		struct relay r;
		struct cr_verify v;
		uint32_t wrong = 0;
		cr_test_log("all 256 frame numbers identified, with +-1 noise: %s", sc->what);
		struct cr_verify_options opt = scenario_opt(sc);
		if (!CHECK(relay_init(&r, &opt, &sc->setup, FAULT_NONE))) {
			relay_finish(&r);
			continue;
		}
		r.noise = true;
		if (CHECK(cr_verify_init(&v, &opt))) {
			CHECK(cr_verify_set_destination(&v, &r.frame));
			for (uint32_t n = 0; n < 256; n++) {
				relay_frame(&r, n + 512);
				uint8_t got = cr_verify_identify(&v, &r.frame);
				if (got != n && wrong++ < 3)
					CHECK_EQ_UINT(got, n);
			}
			CHECK_EQ_UINT(wrong, 0);
			cr_verify_finish(&v);
		}
		relay_finish(&r);
	}
}

static void test_frame_rgb(void)
{
	static const struct cr_verify_options plain = { SRC_W, SRC_H };
	const struct scenario *sc = &scenarios[4]; /* NV12 bt601 limited, identity */
	struct relay r = { 0 };
	uint32_t worst = 0;

	cr_test_log("cr_frame_to_rgb() of an NV12 frame is close to the source (for PNGs)");
	uint8_t *rgb = malloc((size_t)SRC_W * SRC_H * 3);
	if (CHECK(rgb != NULL) && CHECK(relay_init(&r, &plain, &sc->setup, FAULT_NONE))) {
		/* frame 77: B = x + 154 does not wrap inside the frame, so every 2x2 chroma
		 * block is smooth and only rounding and subsampling remain */
		relay_frame(&r, 77);
		cr_frame_to_rgb(&r.frame, rgb);
		for (uint32_t y = 0; y < SRC_H; y++) {
			for (uint32_t x = 0; x < SRC_W; x++) {
				uint8_t want[4];
				cr_pattern_rgba(x, y, 77, want);
				for (int c = 0; c < 3; c++) {
					int e = abs((int)rgb[(y * SRC_W + x) * 3 + c] - want[c]);
					worst = e > (int)worst ? (uint32_t)e : worst;
				}
			}
		}
		CHECK_MSG(worst <= 3, "largest difference %u", worst);
	}
	relay_finish(&r);
	free(rgb);
}

int main(void)
{
	test_layouts();
	test_color();
	test_pattern_frame();
	test_faithful();
	test_faults();
	test_map_cursor();
	test_cursor_meta_misc();
	test_stale();
	test_source_size();
	test_identify_all();
	test_frame_rgb();
	return cr_test_result();
}
