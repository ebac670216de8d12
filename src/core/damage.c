/* SPDX-License-Identifier: MIT */
#include "damage.h"

#include <math.h>

#include "cr-params.h"

void cr_damage_clear(struct cr_damage *d)
{
	d->full = false;
	d->n_rects = 0;
}

void cr_damage_set_full(struct cr_damage *d)
{
	d->full = true;
	d->n_rects = 0;
}

static struct cr_rect bounds(const struct cr_rect *a, const struct cr_rect *b)
{
	uint32_t x0 = a->x < b->x ? a->x : b->x, y0 = a->y < b->y ? a->y : b->y;
	uint32_t x1 = a->x + a->w > b->x + b->w ? a->x + a->w : b->x + b->w;
	uint32_t y1 = a->y + a->h > b->y + b->h ? a->y + a->h : b->y + b->h;
	return (struct cr_rect){ x0, y0, x1 - x0, y1 - y0 };
}

void cr_damage_add(struct cr_damage *d, const struct cr_rect *r)
{
	if (d->full || r->w == 0 || r->h == 0)
		return;
	if (d->n_rects < CR_DAMAGE_MAX) {
		d->rects[d->n_rects++] = *r;
		return;
	}
	struct cr_rect box = *r;
	for (uint32_t i = 0; i < d->n_rects; i++)
		box = bounds(&box, &d->rects[i]);
	d->rects[0] = box;
	d->n_rects = 1;
}

void cr_damage_merge(struct cr_damage *d, const struct cr_damage *src)
{
	if (src->full) {
		cr_damage_set_full(d);
		return;
	}
	for (uint32_t i = 0; i < src->n_rects; i++)
		cr_damage_add(d, &src->rects[i]);
}

/*
 * The kernel's transform (reference.c's transform_point() on the unit square): normalised
 * output position (u, v) to crop-normalised (s, t). Every transform is a symmetry of the
 * square, s = b + u * a1 + v * a2 with orthonormal a1, a2, so its inverse is the transpose.
 */
static void forward(uint32_t transform, float u, float v, float *s, float *t)
{
	switch (transform & 7u) {
	case CR_TRANSFORM_90: *s = 1.0f - v; *t = u; break;
	case CR_TRANSFORM_180: *s = 1.0f - u; *t = 1.0f - v; break;
	case CR_TRANSFORM_270: *s = v; *t = 1.0f - u; break;
	case CR_TRANSFORM_FLIPPED: *s = 1.0f - u; *t = v; break;
	case CR_TRANSFORM_FLIPPED_90: *s = v; *t = u; break;
	case CR_TRANSFORM_FLIPPED_180: *s = u; *t = 1.0f - v; break;
	case CR_TRANSFORM_FLIPPED_270: *s = 1.0f - v; *t = 1.0f - u; break;
	default: *s = u; *t = v; break;
	}
}

static void inverse(uint32_t transform, float s, float t, float *u, float *v)
{
	float bs, bt, s1, t1, s2, t2;
	forward(transform, 0.0f, 0.0f, &bs, &bt);
	forward(transform, 1.0f, 0.0f, &s1, &t1);
	forward(transform, 0.0f, 1.0f, &s2, &t2);
	*u = (s - bs) * (s1 - bs) + (t - bt) * (t1 - bt);
	*v = (s - bs) * (s2 - bs) + (t - bt) * (t2 - bt);
}

static float clamp01(float x)
{
	return x < 0.0f ? 0.0f : x > 1.0f ? 1.0f : x;
}

bool cr_damage_map_rect(const struct cr_rect *r, const struct cr_rect *crop, uint32_t transform,
			uint32_t out_w, uint32_t out_h, struct cr_rect *out)
{
	if (r->w == 0 || r->h == 0 || crop->w == 0 || crop->h == 0 || out_w == 0 || out_h == 0)
		return false;
	/* One texel of margin: a bilinear sample reads its neighbours too. */
	float s0 = ((float)r->x - 1.0f - (float)crop->x) / (float)crop->w;
	float s1 = ((float)r->x + (float)r->w + 1.0f - (float)crop->x) / (float)crop->w;
	float t0 = ((float)r->y - 1.0f - (float)crop->y) / (float)crop->h;
	float t1 = ((float)r->y + (float)r->h + 1.0f - (float)crop->y) / (float)crop->h;
	if (s1 <= 0.0f || t1 <= 0.0f || s0 >= 1.0f || t0 >= 1.0f)
		return false;
	s0 = clamp01(s0), s1 = clamp01(s1), t0 = clamp01(t0), t1 = clamp01(t1);
	float ua, va, ub, vb;
	inverse(transform, s0, t0, &ua, &va);
	inverse(transform, s1, t1, &ub, &vb);
	float u0 = fminf(ua, ub), u1 = fmaxf(ua, ub), v0 = fminf(va, vb), v1 = fmaxf(va, vb);
	/* Outward to whole output pixels, plus one for the rounding of the kernel's sampling. */
	float x0 = floorf(u0 * (float)out_w) - 1.0f, x1 = ceilf(u1 * (float)out_w) + 1.0f;
	float y0 = floorf(v0 * (float)out_h) - 1.0f, y1 = ceilf(v1 * (float)out_h) + 1.0f;
	x0 = fmaxf(x0, 0.0f), y0 = fmaxf(y0, 0.0f);
	x1 = fminf(x1, (float)out_w), y1 = fminf(y1, (float)out_h);
	if (x1 <= x0 || y1 <= y0)
		return false;
	*out = (struct cr_rect){ (uint32_t)x0, (uint32_t)y0, (uint32_t)(x1 - x0),
				 (uint32_t)(y1 - y0) };
	return true;
}
