/* SPDX-License-Identifier: MIT */
#pragma once
/**
 * Damage (SPA_META_VideoDamage): which part of a frame changed since the previous one. A
 * source's damage, in source pixels, is carried through the kernel's geometry (crop,
 * VideoTransform, scale; shaders/process.comp) into output pixels, conservatively: every
 * output pixel whose value can depend on a damaged source pixel (bilinear and box footprints
 * included) lies inside the mapped rectangle. Pure functions; any thread.
 */
#include <stdbool.h>
#include <stdint.h>

#include "pipeline.h"

/** The most rectangles a damage list keeps; more are merged into their bounding box. */
#define CR_DAMAGE_MAX 16

struct cr_damage {
	/** No rectangles and @full false: nothing changed. */
	bool full; /**< everything changed (also when the list overflowed) */
	uint32_t n_rects;
	struct cr_rect rects[CR_DAMAGE_MAX];
};

/** Empties @d (nothing damaged). */
void cr_damage_clear(struct cr_damage *d);

/** Marks everything damaged. */
void cr_damage_set_full(struct cr_damage *d);

/** Adds @r (ignored when empty); past CR_DAMAGE_MAX rectangles the list becomes one box. */
void cr_damage_add(struct cr_damage *d, const struct cr_rect *r);

/** Adds every rectangle of @src to @d (and fullness). */
void cr_damage_merge(struct cr_damage *d, const struct cr_damage *src);

/**
 * Maps @r, in pixels of a source whose @crop (inside the source) is shown at @out_w x @out_h
 * after @transform (CR_TRANSFORM_*), into output pixels in *@out. Returns false when no
 * output pixel depends on @r (it lies outside the crop's reach).
 */
bool cr_damage_map_rect(const struct cr_rect *r, const struct cr_rect *crop, uint32_t transform,
			uint32_t out_w, uint32_t out_h, struct cr_rect *out);
