/* SPDX-License-Identifier: MIT */
/*
 * Damage mapping (src/core/damage.c) against the kernel's arithmetic (the CPU reference): for
 * every transform, upscales, bilinear and box downscales and crops, a source frame is changed
 * inside a random rectangle and both versions are run through cr_reference_rgba(); every
 * output pixel that differs must lie inside the rectangle cr_damage_map_rect() gives (and
 * when it says no output pixel depends on the change, none may differ). Also the damage list
 * itself: overflow into a bounding box, fullness, merging.
 */
#include <stdlib.h>
#include <string.h>

#include "damage.h"
#include "reference.h"
#include "test.h"

#define SRC_W 48
#define SRC_H 36

static uint32_t rng = 12345;

static uint32_t next(void)
{
	rng = rng * 1103515245u + 12345u;
	return rng >> 8;
}

static bool inside(const struct cr_rect *r, uint32_t x, uint32_t y)
{
	return x >= r->x && y >= r->y && x < r->x + r->w && y < r->y + r->h;
}

static void check_case(uint32_t transform, struct cr_rect crop, uint32_t dst_w, uint32_t dst_h,
		       const uint32_t *a, uint32_t *b)
{
	struct cr_process_params p = {
		.src_stride = SRC_W,
		.src_width = SRC_W,
		.src_height = SRC_H,
		.src_layout = CR_LAYOUT_BGRX,
		.crop_x = crop.x,
		.crop_y = crop.y,
		.crop_w = crop.w,
		.crop_h = crop.h,
		.transform = transform,
		.out_kind = CR_OUT_PACKED,
		.dst_width = dst_w,
		.dst_height = dst_h,
		.dst_layout = CR_LAYOUT_BGRX,
		.dst_stride = dst_w,
	};
	p.filter_mode = cr_reference_choose_filter(&p);

	/* A damaged rectangle anywhere in the source, sometimes outside the crop. */
	struct cr_rect d = { next() % SRC_W, next() % SRC_H, 0, 0 };
	d.w = 1 + next() % (SRC_W - d.x < 12 ? SRC_W - d.x : 12);
	d.h = 1 + next() % (SRC_H - d.y < 12 ? SRC_H - d.y : 12);
	memcpy(b, a, sizeof(uint32_t) * SRC_W * SRC_H);
	for (uint32_t y = d.y; y < d.y + d.h; y++)
		for (uint32_t x = d.x; x < d.x + d.w; x++)
			b[y * SRC_W + x] = a[y * SRC_W + x] ^ 0x00ffffffu;

	struct cr_rect m = { 0 };
	bool mapped = cr_damage_map_rect(&d, &crop, transform, dst_w, dst_h, &m);
	if (mapped)
		CHECK_MSG(m.x + m.w <= dst_w && m.y + m.h <= dst_h,
			  "mapped rect %u,%u %ux%u outside %ux%u", m.x, m.y, m.w, m.h, dst_w, dst_h);
	uint32_t outside = 0, changed = 0;
	for (uint32_t y = 0; y < dst_h; y++) {
		for (uint32_t x = 0; x < dst_w; x++) {
			float ca[4], cb[4];
			cr_reference_rgba(&p, a, NULL, x, y, ca);
			cr_reference_rgba(&p, b, NULL, x, y, cb);
			if (memcmp(ca, cb, sizeof(ca)) == 0)
				continue;
			changed++;
			if (!mapped || !inside(&m, x, y))
				outside++;
		}
	}
	CHECK_MSG(outside == 0,
		  "transform %u crop %u,%u %ux%u -> %ux%u (filter %u), damage %u,%u %ux%u: %u of "
		  "%u changed pixels outside the mapped %s%u,%u %ux%u", transform, crop.x, crop.y,
		  crop.w, crop.h, dst_w, dst_h, p.filter_mode, d.x, d.y, d.w, d.h, outside, changed,
		  mapped ? "" : "(none) ", m.x, m.y, m.w, m.h);
}

static void test_mapping(void)
{
	uint32_t *a = malloc(sizeof(uint32_t) * SRC_W * SRC_H);
	uint32_t *b = malloc(sizeof(uint32_t) * SRC_W * SRC_H);
	for (uint32_t i = 0; i < SRC_W * SRC_H; i++)
		a[i] = next() | 0xff000000u;
	static const struct {
		struct cr_rect crop;
		uint32_t w, h;
	} cases[] = {
		{ { 0, 0, SRC_W, SRC_H }, SRC_W, SRC_H },   /* identity */
		{ { 0, 0, SRC_W, SRC_H }, 100, 70 },        /* bilinear upscale */
		{ { 0, 0, SRC_W, SRC_H }, 30, 24 },         /* bilinear downscale */
		{ { 0, 0, SRC_W, SRC_H }, 11, 7 },          /* box downscale */
		{ { 5, 7, 20, 15 }, 20, 15 },               /* crop */
		{ { 5, 7, 20, 15 }, 64, 33 },               /* crop, upscale */
		{ { 10, 3, 30, 30 }, 9, 9 },                /* crop, box */
	};
	for (uint32_t t = 0; t < 8; t++)
		for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++)
			for (int k = 0; k < 12; k++) {
				/* 90/270 swap the output axes of the same picture. */
				bool swap = t & 1u;
				check_case(t, cases[c].crop, swap ? cases[c].h : cases[c].w,
					   swap ? cases[c].w : cases[c].h, a, b);
			}
	free(a);
	free(b);
}

static void test_list(void)
{
	struct cr_damage d;
	cr_damage_clear(&d);
	CHECK(!d.full);
	CHECK_EQ_INT(d.n_rects, 0);
	cr_damage_add(&d, &(struct cr_rect){ 1, 1, 0, 5 }); /* empty: ignored */
	CHECK_EQ_INT(d.n_rects, 0);
	for (uint32_t i = 0; i < CR_DAMAGE_MAX; i++)
		cr_damage_add(&d, &(struct cr_rect){ 10 * i, 2 * i, 3, 4 });
	CHECK_EQ_INT(d.n_rects, CR_DAMAGE_MAX);
	cr_damage_add(&d, &(struct cr_rect){ 500, 1, 2, 2 });
	CHECK_EQ_INT(d.n_rects, 1);
	CHECK_EQ_INT(d.rects[0].x, 0);
	CHECK_EQ_INT(d.rects[0].y, 0);
	CHECK_EQ_INT(d.rects[0].w, 502);
	CHECK_EQ_INT(d.rects[0].h, 2 * (CR_DAMAGE_MAX - 1) + 4);
	struct cr_damage e;
	cr_damage_clear(&e);
	cr_damage_add(&e, &(struct cr_rect){ 7, 7, 1, 1 });
	cr_damage_merge(&e, &d);
	CHECK_EQ_INT(e.n_rects, 2);
	cr_damage_set_full(&d);
	cr_damage_merge(&e, &d);
	CHECK(e.full);
	CHECK_EQ_INT(e.n_rects, 0);
	cr_damage_add(&e, &(struct cr_rect){ 1, 1, 1, 1 });
	CHECK_EQ_INT(e.n_rects, 0);
	/* A rectangle beyond the crop's reach maps to nothing. */
	struct cr_rect m;
	CHECK(!cr_damage_map_rect(&(struct cr_rect){ 40, 0, 4, 4 }, &(struct cr_rect){ 0, 0, 20, 20 },
				  0, 20, 20, &m));
}

int main(void)
{
	test_list();
	test_mapping();
	return cr_test_result();
}
