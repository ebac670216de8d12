/* SPDX-License-Identifier: MIT */
#include "verify.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "color.h"
#include "pattern-frame.h"
#include "pattern.h"
#include "reference.h"

/* Enough detail to debug a failure without flooding the terminal. */
#define MAX_REPORTS 5
/*
 * Pixels whose R channel proposes frame numbers: a GRID_VOTE x GRID_VOTE grid, fine enough
 * that a small part of the frame left uncovered by redaction still gets votes.
 */
#define GRID_VOTE 15
/* Pixels this dark (all of R, G, B) are taken for redaction and do not vote. */
#define BLACK_MAX 2
/* Pixels each candidate frame number is scored on: up to GRID_SCORE x GRID_SCORE. */
#define GRID_SCORE 64
/* Packed frames: this many of the most proposed values become candidates. */
#define PACKED_CANDIDATES 4
/*
 * YUV frames, and frames of a YUV source: R estimated through the inverse matrix (or decoded
 * from the source's YUV) is off by a few units (rounding of three codes, chroma shared by 2x2
 * pixels); the candidates are the best-supported estimate and this many values either side
 * of it.
 */
#define YUV_WINDOW 4
#define MAX_CANDIDATES (PACKED_CANDIDATES + 2 * YUV_WINDOW + 3)
/* Black, opaque: the fill colour castrelayd uses for --redact (R in the low byte). */
#define REDACT_COLOR 0xff000000u

static bool rect_fits(const uint32_t r[4], uint32_t width, uint32_t height)
{
	return r[2] > 0 && r[3] > 0 && r[0] + r[2] <= width && r[1] + r[3] <= height;
}

bool cr_verify_init(struct cr_verify *v, const struct cr_verify_options *opt)
{
	uint32_t crop[4] = { 0, 0, opt->src_width, opt->src_height };

	if (opt->crop[2] != 0)
		memcpy(crop, opt->crop, sizeof(crop));
	if (!rect_fits(crop, opt->src_width, opt->src_height)) {
		fprintf(stderr, "verify: crop %u,%u,%u,%u does not fit the %ux%u source\n",
			crop[0], crop[1], crop[2], crop[3], opt->src_width, opt->src_height);
		return false;
	}
	if (opt->transform > CR_TRANSFORM_FLIPPED_270) {
		fprintf(stderr, "verify: transform %u is not one of 0..7\n", opt->transform);
		return false;
	}
	if (opt->cursor_meta && (opt->cursor || opt->transform != CR_TRANSFORM_NONE)) {
		/* Where a cursor passed on as metadata goes under a transform is not defined. */
		fprintf(stderr, "verify: a cursor passed on as metadata cannot be embedded too, "
			"nor checked under a transform\n");
		return false;
	}
	if (opt->n_redact > CR_MAX_REDACT) {
		fprintf(stderr, "verify: more than %u redaction rectangles\n", CR_MAX_REDACT);
		return false;
	}
	for (uint32_t i = 0; i < opt->n_redact; i++) {
		const uint32_t *r = opt->redact[i];
		if (!rect_fits(r, opt->src_width, opt->src_height)) {
			fprintf(stderr, "verify: redaction %u,%u,%u,%u does not fit the %ux%u "
				"source\n", r[0], r[1], r[2], r[3], opt->src_width,
				opt->src_height);
			return false;
		}
	}

	const struct cr_format_info *src_fmt =
		opt->src_format ? opt->src_format : cr_format_info_from_name("BGRx");
	if (!src_fmt->readable) {
		fprintf(stderr, "verify: %s is not a source format castrelayd reads\n",
			src_fmt->name);
		return false;
	}
	struct cr_plane_layout src_layout;
	cr_format_plane_layout(src_fmt, opt->src_width, opt->src_height, &src_layout);
	bool nv12 = src_fmt->out_kind == CR_OUT_NV12;

	*v = (struct cr_verify){
		.opt = *opt,
		.src_fmt = src_fmt,
		.src_layout = src_layout,
		.params = {
			.src_kind = nv12 ? CR_OUT_NV12 : CR_OUT_PACKED,
			.src_offset = 0,
			.src_stride = nv12 ? src_layout.stride[0] : src_layout.stride[0] / 4,
			.src_offset1 = src_layout.offset[1],
			.src_stride1 = src_layout.stride[1],
			.src_width = opt->src_width,
			.src_height = opt->src_height,
			.src_layout = src_fmt->layout,
			.crop_x = crop[0],
			.crop_y = crop[1],
			.crop_w = crop[2],
			.crop_h = crop[3],
			.transform = opt->transform,
			.n_redact = opt->n_redact,
			.redact_mode = CR_REDACT_FILL,
			.redact_color = REDACT_COLOR,
			.cursor_enabled = opt->cursor ? 1u : 0u,
			.cursor_w = CR_CURSOR_SIZE,
			.cursor_h = CR_CURSOR_SIZE,
			.cursor_stride = CR_CURSOR_SIZE,
			.cursor_layout = CR_LAYOUT_RGBA,
		},
		.src_frame = -1,
	};
	memcpy(v->opt.crop, crop, sizeof(crop));
	if (nv12)
		cr_color_rgb_rows(opt->src_matrix, opt->src_full_range, v->params.rgb_r,
				  v->params.rgb_g, v->params.rgb_b);
	for (uint32_t i = 0; i < opt->n_redact; i++)
		memcpy(v->params.redact[i], opt->redact[i], sizeof(v->params.redact[i]));
	for (uint32_t y = 0; y < CR_CURSOR_SIZE; y++) {
		for (uint32_t x = 0; x < CR_CURSOR_SIZE; x++) {
			uint8_t rgba[4];
			cr_cursor_pattern_rgba(x, y, rgba);
			/* CR_LAYOUT_RGBA: the bytes in memory are R, G, B, A */
			memcpy(&v->cursor[y * CR_CURSOR_SIZE + x], rgba, sizeof(rgba));
		}
	}

	v->src = calloc((size_t)(src_layout.size + 3) / 4, sizeof(*v->src));
	if (v->src == NULL) {
		fprintf(stderr, "verify: out of memory for a %ux%u source\n", opt->src_width,
			opt->src_height);
		return false;
	}
	return true;
}

void cr_verify_finish(struct cr_verify *v)
{
	free(v->src);
	v->src = NULL;
	free(v->ref);
	v->ref = NULL;
}

bool cr_verify_set_source_size(struct cr_verify *v, uint32_t width, uint32_t height)
{
	struct cr_verify_options opt = v->opt;
	struct cr_verify next;

	if (opt.src_width == width && opt.src_height == height)
		return true;
	opt.src_width = width;
	opt.src_height = height;
	memset(opt.crop, 0, sizeof(opt.crop));
	if (!cr_verify_init(&next, &opt))
		return false;
	/* What was learnt so far carries over; the destination is set again next. */
	next.ref = v->ref;
	next.have_previous = v->have_previous;
	next.previous = v->previous;
	next.reported = v->reported;
	next.checked = v->checked;
	next.mismatched_frames = v->mismatched_frames;
	next.max_error = v->max_error;
	next.stale = v->stale;
	next.cursor_checked = v->cursor_checked;
	free(v->src);
	*v = next;
	return true;
}

bool cr_verify_set_destination(struct cr_verify *v, const struct cr_frame *format)
{
	struct cr_process_params *p = &v->params;
	const struct cr_format_info *fmt = format->fmt;
	struct cr_plane_layout layout;

	v->have_dst = false;
	cr_format_plane_layout(fmt, format->width, format->height, &layout);
	uint8_t *ref = realloc(v->ref, layout.size);
	if (ref == NULL) {
		fprintf(stderr, "verify: out of memory for a %ux%u %s frame\n", format->width,
			format->height, fmt->name);
		return false;
	}
	v->ref = ref;
	v->ref_layout = layout;

	v->dst = *format;
	v->dst.planes = layout;
	v->dst.data = NULL;

	p->out_kind = fmt->out_kind;
	p->dst_width = format->width;
	p->dst_height = format->height;
	if (fmt->out_kind == CR_OUT_PACKED) {
		p->dst_layout = fmt->layout;
		p->dst_stride = layout.stride[0] / 4;
	} else {
		p->dst_layout = 0;
		p->dst_stride = layout.stride[0];
	}
	p->dst_offset1 = layout.offset[1];
	p->dst_stride1 = layout.stride[1];
	p->dst_offset2 = layout.offset[2];
	p->dst_stride2 = layout.stride[2];
	cr_color_yuv_rows(v->dst.matrix, v->dst.full_range, p->yuv_y, p->yuv_u, p->yuv_v);
	p->filter_mode = cr_reference_choose_filter(p);
	v->have_dst = true;
	return true;
}

static void generate_source(struct cr_verify *v, uint8_t frame)
{
	const struct cr_process_params *p = &v->params;
	uint32_t *row0 = v->src;
	uint8_t rgba[4];
	int off[4];

	if (v->src_frame == frame)
		return;
	if (v->src_fmt->depth != 8 || v->src_fmt->out_kind != CR_OUT_PACKED) {
		uint8_t *base = (uint8_t *)v->src;
		uint8_t *planes[2] = { base, base + v->src_layout.offset[1] };
		cr_pattern_frame_fill(v->src_fmt, p->src_width, p->src_height, frame,
				      v->opt.src_matrix, v->opt.src_full_range, planes,
				      v->src_layout.stride);
		v->src_frame = frame;
		return;
	}
	cr_reference_layout_offsets(p->src_layout, off);
	/* Rows differ only in G = y: build row 0, then copy it with G or-ed in. */
	for (uint32_t x = 0; x < p->src_width; x++) {
		uint32_t px = 0;
		cr_pattern_rgba(x, 0, frame, rgba);
		for (int c = 0; c < 4; c++)
			px |= (uint32_t)rgba[c] << (8 * off[c]);
		row0[x] = px;
	}
	for (uint32_t y = 1; y < p->src_height; y++) {
		uint32_t *row = v->src + (size_t)y * p->src_stride;
		cr_pattern_rgba(0, y, frame, rgba);
		uint32_t g = (uint32_t)rgba[1] << (8 * off[1]);
		for (uint32_t x = 0; x < p->src_width; x++)
			row[x] = row0[x] | g;
	}
	v->src_frame = frame;
}

static void set_cursor(struct cr_verify *v, uint8_t frame)
{
	int32_t x, y;

	cr_cursor_pattern_position(frame, v->opt.src_width, v->opt.src_height, &x, &y);
	v->params.cursor_x = x - CR_CURSOR_HOTSPOT_X;
	v->params.cursor_y = y - CR_CURSOR_HOTSPOT_Y;
}

static float clamp_255(float x)
{
	return x < 0.0f ? 0.0f : (x > 255.0f ? 255.0f : x);
}

/*
 * How far the received frame lies from the reference of frame @frame on a grid of pixels:
 * the sum of absolute differences of R, G, B (packed) or Y (planar), unrounded.
 */
static double score(struct cr_verify *v, const struct cr_frame *f, uint8_t frame)
{
	const struct cr_process_params *p = &v->params;
	uint32_t nx = f->width < GRID_SCORE ? f->width : GRID_SCORE;
	uint32_t ny = f->height < GRID_SCORE ? f->height : GRID_SCORE;
	bool packed = f->fmt->out_kind == CR_OUT_PACKED;
	double sum = 0.0;

	generate_source(v, frame);
	set_cursor(v, frame);
	for (uint32_t j = 0; j < ny; j++) {
		uint32_t y = (uint32_t)(((uint64_t)2 * j + 1) * f->height / (2 * ny));
		for (uint32_t i = 0; i < nx; i++) {
			uint32_t x = (uint32_t)(((uint64_t)2 * i + 1) * f->width / (2 * nx));
			float rgba[4];
			cr_reference_rgba(p, v->src, v->cursor, x, y, rgba);
			if (packed) {
				uint8_t rgb[3];
				cr_frame_rgb(f, x, y, rgb);
				for (int c = 0; c < 3; c++)
					sum += fabsf((float)rgb[c] - clamp_255(rgba[c]));
			} else {
				uint8_t yuv[3];
				cr_frame_yuv(f, x, y, yuv);
				float want = p->yuv_y[0] * clamp_255(rgba[0]) +
					     p->yuv_y[1] * clamp_255(rgba[1]) +
					     p->yuv_y[2] * clamp_255(rgba[2]) + p->yuv_y[3];
				sum += fabsf((float)yuv[0] - clamp_255(want));
			}
		}
	}
	return sum;
}

static void add_candidate(uint8_t *list, uint32_t *n, uint8_t frame)
{
	for (uint32_t i = 0; i < *n; i++) {
		if (list[i] == frame)
			return;
	}
	if (*n < MAX_CANDIDATES)
		list[(*n)++] = frame;
}

uint8_t cr_verify_identify(struct cr_verify *v, const struct cr_frame *f)
{
	uint32_t votes[256] = { 0 };
	uint8_t list[MAX_CANDIDATES];
	uint32_t n = 0;

	for (uint32_t j = 0; j < GRID_VOTE; j++) {
		uint32_t y = (uint32_t)(((uint64_t)2 * j + 1) * f->height / (2 * GRID_VOTE));
		for (uint32_t i = 0; i < GRID_VOTE; i++) {
			uint32_t x = (uint32_t)(((uint64_t)2 * i + 1) * f->width / (2 * GRID_VOTE));
			uint8_t rgb[3];
			cr_frame_rgb(f, x, y, rgb);
			if (rgb[0] > BLACK_MAX || rgb[1] > BLACK_MAX || rgb[2] > BLACK_MAX)
				votes[rgb[0]]++;
		}
	}

	if (f->fmt->out_kind == CR_OUT_PACKED && !v->src_fmt->is_yuv) {
		/* R is exact wherever neither a redaction nor the cursor covers the pixel. */
		for (uint32_t k = 0; k < PACKED_CANDIDATES; k++) {
			uint32_t best = 0;
			for (uint32_t c = 1; c < 256; c++) {
				if (votes[c] > votes[best])
					best = c;
			}
			if (votes[best] == 0)
				break;
			add_candidate(list, &n, (uint8_t)best);
			votes[best] = 0;
		}
	} else {
		uint32_t best = 0, best_support = 0;
		for (uint32_t c = 0; c < 256; c++) {
			uint32_t support = 0;
			for (int d = -YUV_WINDOW + 1; d < YUV_WINDOW; d++)
				support += votes[(uint8_t)(c + (uint32_t)d)];
			if (support > best_support) {
				best = c;
				best_support = support;
			}
		}
		for (uint32_t d = 0; best_support > 0 && d <= YUV_WINDOW; d++) {
			add_candidate(list, &n, (uint8_t)(best - d));
			add_candidate(list, &n, (uint8_t)(best + d));
		}
	}
	/* The likely answers even when redaction covers the whole grid. */
	if (v->have_previous) {
		add_candidate(list, &n, (uint8_t)(v->previous + 1));
		add_candidate(list, &n, v->previous);
	}
	if (n == 0)
		add_candidate(list, &n, 0);

	uint8_t result = list[0];
	double best_score = INFINITY;
	for (uint32_t i = 0; i < n; i++) {
		double s = score(v, f, list[i]);
		if (s < best_score) {
			best_score = s;
			result = list[i];
		}
	}
	generate_source(v, result);
	set_cursor(v, result);
	return result;
}

/* How the bytes of one plane are checked. */
struct plane_check {
	const char *what;   /* "pixel", "chroma sample" */
	uint32_t index;     /* plane index in the layouts */
	uint32_t elements;  /* per row */
	uint32_t rows;
	uint32_t bytes;     /* per element */
	char names[5];      /* one character per byte of an element; ' ' = not checked */
};

/* Compares one plane; returns the largest difference and reports the first mismatches. */
static uint32_t compare_plane(struct cr_verify *v, const struct cr_frame *f, uint8_t frame,
			      const struct plane_check *pc, bool *mismatch)
{
	const struct cr_plane_layout *got_l = &f->planes, *want_l = &v->ref_layout;
	uint32_t worst = 0;

	for (uint32_t y = 0; y < pc->rows; y++) {
		const uint8_t *got = f->data + got_l->offset[pc->index] +
				     (size_t)y * got_l->stride[pc->index];
		const uint8_t *want = v->ref + want_l->offset[pc->index] +
				      (size_t)y * want_l->stride[pc->index];
		for (uint32_t b = 0; b < pc->elements * pc->bytes; b++) {
			char name = pc->names[b % pc->bytes];
			if (name == ' ')
				continue;
			uint32_t e = (uint32_t)abs((int)got[b] - (int)want[b]);
			if (e > worst)
				worst = e;
			if (e <= v->opt.tolerance || *mismatch)
				continue;
			*mismatch = true;
			if (v->reported++ < MAX_REPORTS)
				fprintf(stderr, "verify: frame %u (checked #%u): %s %u,%u %c is "
					"%u, expected %u\n", frame, v->checked, pc->what,
					b / pc->bytes, y, name, got[b], want[b]);
		}
	}
	return worst;
}

/* compare_plane() for a 10-bit packed frame: the R, G and B fields of each pixel word. */
static uint32_t compare_packed10(struct cr_verify *v, const struct cr_frame *f, uint8_t frame,
				 bool *mismatch)
{
	const struct cr_plane_layout *got_l = &f->planes, *want_l = &v->ref_layout;
	uint32_t worst = 0;
	int sh[3];

	cr_reference_layout_shifts10(f->fmt->layout, sh);
	for (uint32_t y = 0; y < f->height; y++) {
		const uint8_t *got = f->data + got_l->offset[0] + (size_t)y * got_l->stride[0];
		const uint8_t *want = v->ref + want_l->offset[0] + (size_t)y * want_l->stride[0];
		for (uint32_t x = 0; x < f->width; x++) {
			uint32_t g = 0, w = 0;
			for (int b = 0; b < 4; b++) {
				g |= (uint32_t)got[x * 4 + b] << (8 * b);
				w |= (uint32_t)want[x * 4 + b] << (8 * b);
			}
			for (int c = 0; c < 3; c++) {
				uint32_t gc = (g >> sh[c]) & 0x3ffu, wc = (w >> sh[c]) & 0x3ffu;
				uint32_t e = (uint32_t)abs((int)gc - (int)wc);
				if (e > worst)
					worst = e;
				if (e <= v->opt.tolerance || *mismatch)
					continue;
				*mismatch = true;
				if (v->reported++ < MAX_REPORTS)
					fprintf(stderr, "verify: frame %u (checked #%u): "
						"pixel %u,%u %c is %u, expected %u (10 bits)\n",
						frame, v->checked, x, y, "RGB"[c], gc, wc);
			}
		}
	}
	return worst;
}

void cr_verify_map_cursor(const uint32_t crop[4], uint32_t dst_width, uint32_t dst_height,
			  int32_t src_x, int32_t src_y, int32_t *x, int32_t *y)
{
	/* C division truncates towards zero, as the relay's does: -1 * 140 / 280 is 0, not -1. */
	*x = (int32_t)(((int64_t)src_x - (int64_t)crop[0]) * (int64_t)dst_width /
		       (int64_t)crop[2]);
	*y = (int32_t)(((int64_t)src_y - (int64_t)crop[1]) * (int64_t)dst_height /
		       (int64_t)crop[3]);
}

static void report_cursor(struct cr_verify *v, uint8_t frame, const char *format, ...)
	__attribute__((format(printf, 3, 4)));

static void report_cursor(struct cr_verify *v, uint8_t frame, const char *format, ...)
{
	va_list args;

	if (v->reported++ >= MAX_REPORTS)
		return;
	fprintf(stderr, "verify: frame %u (checked #%u): ", frame, v->checked);
	va_start(args, format);
	vfprintf(stderr, format, args);
	va_end(args);
	fputc('\n', stderr);
}

/*
 * The bitmap is metadata: copied, never computed, so it must match exactly. It is compared
 * as colours decoded through its announced format rather than as raw bytes, since the source's
 * byte order (BGRA or RGBA, following its frames) is not known here.
 */
static bool check_cursor_bitmap(struct cr_verify *v, uint8_t frame,
				const struct cr_verify_cursor *c)
{
	int off[4];

	if (c->format == NULL || c->format->out_kind != CR_OUT_PACKED) {
		report_cursor(v, frame, "cursor bitmap in a format other than packed RGB%s%s",
			      c->format ? ": " : "", c->format ? c->format->name : "");
		return false;
	}
	if (c->pixels == NULL) {
		report_cursor(v, frame, "cursor bitmap does not fit inside the meta");
		return false;
	}
	if (c->width != CR_CURSOR_SIZE || c->height != CR_CURSOR_SIZE) {
		report_cursor(v, frame, "cursor bitmap is %ux%u, expected %ux%u", c->width,
			      c->height, CR_CURSOR_SIZE, CR_CURSOR_SIZE);
		return false;
	}
	if (c->stride < CR_CURSOR_SIZE * 4) {
		report_cursor(v, frame, "cursor bitmap stride %u is shorter than a row", c->stride);
		return false;
	}
	cr_reference_layout_offsets(c->format->layout, off);
	for (uint32_t y = 0; y < CR_CURSOR_SIZE; y++) {
		const uint8_t *row = c->pixels + (size_t)y * c->stride;
		for (uint32_t x = 0; x < CR_CURSOR_SIZE; x++) {
			const uint8_t *got = row + x * 4;
			/* v->cursor is CR_LAYOUT_RGBA: R, G, B, A in memory */
			const uint8_t *want = (const uint8_t *)&v->cursor[y * CR_CURSOR_SIZE + x];
			for (int k = 0; k < 4; k++) {
				/* without alpha the bitmap is opaque, which ours is not */
				uint8_t value = k == 3 && !c->format->has_alpha ? 255 : got[off[k]];
				if (value == want[k])
					continue;
				report_cursor(v, frame, "cursor bitmap (%s) pixel %u,%u %c is %u, "
					      "expected %u", c->format->name, x, y, "RGBA"[k],
					      value, want[k]);
				return false;
			}
		}
	}
	return true;
}

/* Checks the cursor metadata of frame @frame; false (reported) when it is wrong. */
static bool check_cursor(struct cr_verify *v, uint8_t frame, const struct cr_verify_cursor *c)
{
	int32_t src_x, src_y, x, y;

	v->cursor_checked++;
	if (c == NULL) {
		report_cursor(v, frame, "no cursor meta on the buffer");
		return false;
	}
	if (!c->visible) {
		report_cursor(v, frame, "the cursor meta says there is no cursor (id 0)");
		return false;
	}
	cr_cursor_pattern_position(frame, v->opt.src_width, v->opt.src_height, &src_x, &src_y);
	cr_verify_map_cursor(v->opt.crop, v->dst.width, v->dst.height, src_x, src_y, &x, &y);
	if (c->x != x || c->y != y) {
		report_cursor(v, frame, "cursor at %d,%d, expected %d,%d (%d,%d in the source)",
			      c->x, c->y, x, y, src_x, src_y);
		return false;
	}
	if (c->hotspot_x != CR_CURSOR_HOTSPOT_X || c->hotspot_y != CR_CURSOR_HOTSPOT_Y) {
		report_cursor(v, frame, "cursor hotspot %d,%d, expected %d,%d", c->hotspot_x,
			      c->hotspot_y, CR_CURSOR_HOTSPOT_X, CR_CURSOR_HOTSPOT_Y);
		return false;
	}
	return !c->has_bitmap || check_cursor_bitmap(v, frame, c);
}

void cr_verify_frame(struct cr_verify *v, const struct cr_frame *f,
		     const struct cr_verify_cursor *cursor)
{
	const struct cr_format_info *fmt = v->dst.fmt;
	uint32_t frame_error = 0;
	bool mismatch = false, cursor_ok = true;

	if (!v->have_dst || f->fmt != fmt || f->width != v->dst.width ||
	    f->height != v->dst.height)
		return;

	if (fmt->is_yuv && !v->dst.color_known) {
		/* Without a colour description a consumer cannot decode the frame. */
		if (v->reported++ < MAX_REPORTS)
			fprintf(stderr, "verify: checked #%u: the %s format announces no colour "
				"matrix and range\n", v->checked, fmt->name);
		v->mismatched_frames++;
		v->checked++;
		return;
	}

	uint8_t frame = cr_verify_identify(v, f);
	cr_reference_process(&v->params, v->src, v->cursor, v->ref);

	uint32_t cw = cr_frame_chroma_size(f->width), ch = cr_frame_chroma_size(f->height);
	struct plane_check checks[3];
	uint32_t n_checks = 0;
	if (fmt->out_kind == CR_OUT_PACKED) {
		struct plane_check *pc = &checks[n_checks++];
		int off[4];
		*pc = (struct plane_check){ "pixel", 0, f->width, f->height, 4, "    " };
		cr_reference_layout_offsets(fmt->layout, off);
		for (int c = 0; c < (fmt->has_alpha ? 4 : 3); c++)
			pc->names[off[c]] = "RGBA"[c];
	} else {
		checks[n_checks++] = (struct plane_check){
			"pixel", 0, f->width, f->height, 1, "Y" };
		if (fmt->out_kind == CR_OUT_NV12) {
			checks[n_checks++] = (struct plane_check){
				"chroma sample", 1, cw, ch, 2, "UV" };
		} else {
			checks[n_checks++] = (struct plane_check){
				"chroma sample", 1, cw, ch, 1, "U" };
			checks[n_checks++] = (struct plane_check){
				"chroma sample", 2, cw, ch, 1, "V" };
		}
	}
	for (uint32_t i = 0; i < n_checks; i++) {
		uint32_t e = fmt->depth == 10 ? compare_packed10(v, f, frame, &mismatch)
					      : compare_plane(v, f, frame, &checks[i], &mismatch);
		if (e > frame_error)
			frame_error = e;
	}

	if (v->opt.cursor_meta)
		cursor_ok = check_cursor(v, frame, cursor);

	if (frame_error > v->max_error)
		v->max_error = frame_error;
	if (mismatch || !cursor_ok)
		v->mismatched_frames++;
	/*
	 * Frame numbers are compared mod 256: "advanced" means 1..127 frames ahead. The number of
	 * a frame whose pixels mismatched is only the closest guess: it counts as a failure
	 * already. A wrong cursor alone leaves the number sound.
	 */
	if (!mismatch && v->have_previous && (uint8_t)(frame - v->previous) - 1u >= 127u)
		v->stale++;
	v->previous = frame;
	v->have_previous = true;
	v->checked++;
}
