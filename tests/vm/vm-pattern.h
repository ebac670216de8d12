/* SPDX-License-Identifier: MIT */
#pragma once
/**
 * Test patterns of the vm test bed: 32-bit pixels that differ per position and per @seed, so
 * that a read of the wrong generation, a wrong stride or a shifted copy is told apart from the
 * right content. Header-only, pure functions.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/** The pixel at (@x, @y) of pattern @seed. */
static inline uint32_t cr_vm_pattern_pixel(uint32_t seed, uint32_t x, uint32_t y)
{
	return (seed * 0x9e3779b9u) ^ (y << 16) ^ x;
}

/** Writes pattern @seed into a @width x @height image of rows @stride bytes apart. */
static inline void cr_vm_pattern_fill(void *data, uint32_t stride, uint32_t width,
				      uint32_t height, uint32_t seed)
{
	for (uint32_t y = 0; y < height; y++) {
		volatile uint32_t *row =
			(volatile uint32_t *)((uint8_t *)data + (size_t)y * stride);
		for (uint32_t x = 0; x < width; x++)
			row[x] = cr_vm_pattern_pixel(seed, x, y);
	}
}

/**
 * Compares an image with pattern @seed. Returns true when every pixel matches; otherwise
 * false with the first differing position in @at_x/@at_y and its value in @got.
 */
static inline bool cr_vm_pattern_check(const void *data, uint32_t stride, uint32_t width,
				       uint32_t height, uint32_t seed, uint32_t *at_x,
				       uint32_t *at_y, uint32_t *got)
{
	for (uint32_t y = 0; y < height; y++) {
		const uint32_t *row =
			(const uint32_t *)((const uint8_t *)data + (size_t)y * stride);
		for (uint32_t x = 0; x < width; x++) {
			if (row[x] != cr_vm_pattern_pixel(seed, x, y)) {
				*at_x = x;
				*at_y = y;
				*got = row[x];
				return false;
			}
		}
	}
	return true;
}

/**
 * Which of the patterns @seeds (n of them) the image holds entirely: its index, or -1 when
 * it is none of them (torn or garbage).
 */
static inline int cr_vm_pattern_which(const void *data, uint32_t stride, uint32_t width,
				      uint32_t height, const uint32_t *seeds, int n)
{
	uint32_t x = 0, y = 0, got = 0;
	for (int i = 0; i < n; i++)
		if (cr_vm_pattern_check(data, stride, width, height, seeds[i], &x, &y, &got))
			return i;
	return -1;
}
