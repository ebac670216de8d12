/* SPDX-License-Identifier: MIT */
#pragma once
/**
 * The castrelay test pattern. Every pixel encodes its own coordinates and the frame number, so
 * a consumer can check geometry (crop, scale), channel order and freshness against a CPU
 * reference without knowing anything else about the producer:
 *
 *   R = frame & 0xff                (constant over a frame: survives any scaling exactly)
 *   G = y & 0xff
 *   B = (x + 2 * frame) & 0xff      (moves 2 px per frame: a person sees motion)
 *   A = 0xff
 *
 * Header only; used by castrelay-testsrc, castrelay-sink and the tests.
 */
#include <stdint.h>

/** Pattern colour of pixel (x, y) in frame @frame, as R, G, B, A bytes. */
static inline void cr_pattern_rgba(uint32_t x, uint32_t y, uint64_t frame, uint8_t rgba[4])
{
	rgba[0] = (uint8_t)(frame & 0xff);
	rgba[1] = (uint8_t)(y & 0xff);
	rgba[2] = (uint8_t)((x + 2 * frame) & 0xff);
	rgba[3] = 0xff;
}
