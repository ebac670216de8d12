/* SPDX-License-Identifier: MIT */
#pragma once
/**
 * A capture-time stamp in the pixels, for latencies through relays that do not carry the
 * producer's SPA_META_Header.pts (GStreamer's pipewiresrc ! ... ! pipewiresink restamps it with
 * its running time). castrelay-testsrc --stamp writes the low 32 bits of the frame's pts in
 * microseconds (CLOCK_MONOTONIC) as 32 blocks side by side in a rectangle, most significant
 * bit first, each block white (1) or black (0); castrelay-sink --stamp reads the centre of each
 * block in the rectangle the stamp lands in after crop and scale, and the age is its own clock
 * minus the stamp, modulo 2^32 us (71 minutes). Blocks of a few pixels survive bilinear and
 * box scaling and YUV conversion at their centres. Header only; no PipeWire.
 */
#include <stdint.h>

#define CR_STAMP_BITS 32u

/** The stamp of a frame whose pts is @pts_ns. */
static inline uint32_t cr_stamp_value(uint64_t pts_ns)
{
	return (uint32_t)(pts_ns / 1000u);
}

/** Left edge of block @i (0 = the most significant bit) of the stamp in rectangle @r. */
static inline uint32_t cr_stamp_block_x(const uint32_t r[4], uint32_t i)
{
	return r[0] + (uint32_t)((uint64_t)i * r[2] / CR_STAMP_BITS);
}

/** Microseconds from the capture of a frame stamped @stamp to @now_ns (same clock). */
static inline uint32_t cr_stamp_age_us(uint32_t stamp, uint64_t now_ns)
{
	return (uint32_t)(now_ns / 1000u) - stamp;
}
