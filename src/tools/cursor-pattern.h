/* SPDX-License-Identifier: MIT */
#pragma once
/**
 * The cursor castrelay-testsrc attaches to its frames with --cursor (SPA_META_Cursor with a
 * bitmap, as xdg-desktop-portal's cursor_mode=metadata producers send it), and which
 * castrelay-sink --cursor expects to find embedded in relayed frames. Like pattern.h,
 * everything is a pure function of the frame number modulo 256, so a consumer that recovered
 * the frame number knows where the cursor was without any side channel.
 *
 * The bitmap: an arrow with its tip at the hotspot (opaque white body, opaque black outline),
 * a semi-transparent black shadow, and a square of semi-transparent colour whose alpha ramps
 * from 64 to 218. Colours never exceed their alpha, so the picture means the same whether a
 * relay reads it as straight or premultiplied alpha.
 *
 * The position (of the hotspot, in source pixels) sweeps the whole width once every 256
 * frames and the height three times, from 20 pixels before the top-left corner to 20 past the
 * bottom-right one: the bitmap is sometimes partly, sometimes wholly outside the frame.
 *
 * Header only; used by castrelay-testsrc, castrelay-sink and the tests.
 */
#include <stdint.h>

#define CR_CURSOR_SIZE 32 /* width and height of the bitmap, pixels */
#define CR_CURSOR_PIXELS (CR_CURSOR_SIZE * CR_CURSOR_SIZE)
#define CR_CURSOR_HOTSPOT_X 4
#define CR_CURSOR_HOTSPOT_Y 4
#define CR_CURSOR_MARGIN 20 /* how far past each edge the hotspot goes */

/** Colour of bitmap pixel (x, y), 0 <= x, y < CR_CURSOR_SIZE, as R, G, B, A bytes. */
static inline void cr_cursor_pattern_rgba(uint32_t x, uint32_t y, uint8_t rgba[4])
{
	/* arrow: the triangle 0 <= u <= v < 18 in coordinates relative to the tip */
	int32_t u = (int32_t)x - CR_CURSOR_HOTSPOT_X, v = (int32_t)y - CR_CURSOR_HOTSPOT_Y;
	int32_t su = u - 2, sv = v - 2; /* the shadow: the same triangle, 2 px down-right */
	uint8_t r = 0, g = 0, b = 0, a = 0;

	if (u >= 0 && v >= 0 && u <= v && v < 18) {
		/* outline on the three edges, white inside */
		uint8_t c = (u == 0 || u == v || v == 17) ? 0 : 255;
		r = g = b = c;
		a = 255;
	} else if (su >= 0 && sv >= 0 && su <= sv && sv < 18) {
		a = 96;
	} else if (x >= 20 && y >= 20) {
		a = (uint8_t)(64 + 14 * (x - 20));
		r = a;
		g = (uint8_t)(a / 4);
		b = (uint8_t)((a * (y - 20)) / 12);
	}
	rgba[0] = r;
	rgba[1] = g;
	rgba[2] = b;
	rgba[3] = a;
}

/**
 * Hotspot position in frame @frame of a @src_width x @src_height source (what goes into
 * spa_meta_cursor.position). The bitmap's top-left corner is this minus the hotspot.
 */
static inline void cr_cursor_pattern_position(uint64_t frame, uint32_t src_width,
					      uint32_t src_height, int32_t *x, int32_t *y)
{
	int64_t m = (int64_t)(frame & 0xff);
	int64_t span_x = (int64_t)src_width + 2 * CR_CURSOR_MARGIN;
	int64_t span_y = (int64_t)src_height + 2 * CR_CURSOR_MARGIN;

	*x = (int32_t)(m * span_x / 256 - CR_CURSOR_MARGIN);
	*y = (int32_t)(((m * 3) & 0xff) * span_y / 256 - CR_CURSOR_MARGIN);
}
