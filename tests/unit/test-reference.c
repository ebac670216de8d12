/* SPDX-License-Identifier: MIT */
/*
 * The CPU reference of the processing kernel (src/core/reference.c) against values
 * computed by hand. Everything else (GPU results, relayed frames) is checked against this
 * reference, so it must be right on its own terms. Pixel layouts are byte orders in memory,
 * so expectations are written as bytes, not as 32-bit words.
 */
#include <stdlib.h>

#include "color.h"
#include "reference.h"
#include "pattern.h"
#include "test.h"

/* Packs R, G, B, A into the memory byte order of @layout. */
static uint32_t pack(uint32_t layout, uint8_t r, uint8_t g, uint8_t b, uint8_t a)
{
	uint8_t bytes[4];
	uint32_t px;
	int off[4];
	cr_reference_layout_offsets(layout, off);
	bytes[off[0]] = r;
	bytes[off[1]] = g;
	bytes[off[2]] = b;
	bytes[off[3]] = a;
	memcpy(&px, bytes, sizeof(px));
	return px;
}

/* Byte @i (in memory order) of a packed pixel. */
static uint8_t byte_of(uint32_t px, int i)
{
	uint8_t bytes[4];
	memcpy(bytes, &px, sizeof(bytes));
	return bytes[i];
}

/* Channel @c (0 = R … 3 = A) of a packed pixel of @layout. */
static uint8_t channel(uint32_t px, uint32_t layout, int c)
{
	int off[4];
	cr_reference_layout_offsets(layout, off);
	return byte_of(px, off[c]);
}

static struct cr_process_params params(uint32_t src_w, uint32_t src_h, uint32_t src_layout,
				     uint32_t dst_w, uint32_t dst_h, uint32_t dst_layout)
{
	return (struct cr_process_params){
		.src_offset = 0, .src_stride = src_w, .src_width = src_w, .src_height = src_h,
		.src_layout = src_layout,
		.crop_x = 0, .crop_y = 0, .crop_w = src_w, .crop_h = src_h,
		.dst_stride = dst_w, .dst_width = dst_w, .dst_height = dst_h,
		.dst_layout = dst_layout, .out_kind = CR_OUT_PACKED,
		.filter_mode = CR_FILTER_BILINEAR,
	};
}

/* The packed-output kernel over the whole destination (no cursor). */
static void scale(const struct cr_process_params *p, const uint32_t *src, uint32_t *dst)
{
	cr_reference_process(p, src, NULL, (uint8_t *)dst);
}

/* One destination pixel as R, G, B, A bytes, rounded as the kernel writes them. */
static void scale_pixel(const struct cr_process_params *p, const uint32_t *src, uint32_t x,
			uint32_t y, uint8_t rgba[4])
{
	float v[4];
	cr_reference_rgba(p, src, NULL, x, y, v);
	for (int c = 0; c < 4; c++)
		rgba[c] = (uint8_t)floorf(v[c] + 0.5f);
	if (!cr_reference_layout_has_alpha(p->dst_layout))
		rgba[3] = 0xff;
}

static uint32_t lcg(uint32_t *state)
{
	*state = *state * 1664525u + 1013904223u;
	return *state >> 8;
}

static void test_layouts(void)
{
	int off[4];
	cr_test_log("layout byte offsets");
	cr_reference_layout_offsets(CR_LAYOUT_BGRX, off);
	CHECK_EQ_INT(off[0], 2);
	CHECK_EQ_INT(off[1], 1);
	CHECK_EQ_INT(off[2], 0);
	CHECK_EQ_INT(off[3], 3);
	cr_reference_layout_offsets(CR_LAYOUT_BGRA, off);
	CHECK_EQ_INT(off[0], 2);
	CHECK_EQ_INT(off[2], 0);
	CHECK_EQ_INT(off[3], 3);
	cr_reference_layout_offsets(CR_LAYOUT_RGBX, off);
	CHECK_EQ_INT(off[0], 0);
	CHECK_EQ_INT(off[1], 1);
	CHECK_EQ_INT(off[2], 2);
	CHECK_EQ_INT(off[3], 3);
	cr_reference_layout_offsets(CR_LAYOUT_RGBA, off);
	CHECK_EQ_INT(off[0], 0);
	CHECK_EQ_INT(off[2], 2);
	CHECK(!cr_reference_layout_has_alpha(CR_LAYOUT_BGRX));
	CHECK(!cr_reference_layout_has_alpha(CR_LAYOUT_RGBX));
	CHECK(cr_reference_layout_has_alpha(CR_LAYOUT_BGRA));
	CHECK(cr_reference_layout_has_alpha(CR_LAYOUT_RGBA));
}

/* Same size, same layout, full crop: every byte is copied unchanged. */
static void test_identity(uint32_t layout, const char *name)
{
	enum { W = 37, H = 23 };
	uint32_t src[W * H], dst[W * H];
	uint32_t seed = 12345;
	bool alpha = cr_reference_layout_has_alpha(layout);
	cr_test_log("identity copy %ux%u %s is exact", W, H, name);
	for (unsigned i = 0; i < W * H; i++) {
		/* The x byte of an opaque layout is "don't care" in the input, 0xff out. */
		src[i] = lcg(&seed);
		if (!alpha)
			src[i] = pack(layout, channel(src[i], layout, 0), channel(src[i], layout, 1),
				      channel(src[i], layout, 2), 0xff);
	}
	struct cr_process_params p = params(W, H, layout, W, H, layout);
	memset(dst, 0, sizeof(dst));
	scale(&p, src, dst);
	CHECK_EQ_MEM(dst, src, sizeof(src));
	for (uint32_t d = 0; d < W; d++)
		CHECK_NEAR(cr_reference_sample_pos(d, 0, W, W), (float)d, 0.0);
}

/* An opaque layout's padding byte is not read: garbage in it comes out as 0xff. */
static void test_x_byte_ignored(void)
{
	uint32_t src[4], dst[4];
	cr_test_log("BGRx padding byte is ignored on input and written as 0xff");
	for (int i = 0; i < 4; i++)
		src[i] = pack(CR_LAYOUT_BGRX, (uint8_t)(10 * i), 20, 30, (uint8_t)(i * 40));
	struct cr_process_params p = params(2, 2, CR_LAYOUT_BGRX, 2, 2, CR_LAYOUT_BGRX);
	scale(&p, src, dst);
	for (int i = 0; i < 4; i++) {
		CHECK_EQ_HEX(byte_of(dst[i], 3), 0xff);
		CHECK_EQ_INT(channel(dst[i], CR_LAYOUT_BGRX, 0), 10 * i);
		CHECK_EQ_INT(channel(dst[i], CR_LAYOUT_BGRX, 1), 20);
		CHECK_EQ_INT(channel(dst[i], CR_LAYOUT_BGRX, 2), 30);
	}
}

/*
 * 4x4 -> 2x2: each destination pixel samples the centre of a 2x2 source block
 * (sample position 2d + 0.5), i.e. the average of four texels, rounded half up. The values
 * are chosen to exercise the rounding: 0.25 -> 0, 0.5 -> 1, 0.75 -> 1, 8.5 -> 9, 63.75 -> 64.
 */
static void test_downscale_2x(void)
{
	static const uint8_t r[4][4] = {
		{ 0, 1, 100, 200 },
		{ 0, 0, 50, 250 },
		{ 1, 1, 255, 255 },
		{ 1, 0, 255, 254 },
	};
	static const uint8_t g[4][4] = {
		{ 10, 20, 1, 0 },
		{ 30, 40, 0, 1 },
		{ 7, 8, 255, 0 },
		{ 9, 10, 0, 0 },
	};
	static const uint8_t a[4][4] = {
		{ 0, 255, 9, 9 },
		{ 255, 0, 9, 9 },
		{ 255, 255, 0, 0 },
		{ 255, 255, 0, 1 },
	};
	/* Hand-computed: [y][x] of the 2x2 result. */
	static const uint8_t want_r[2][2] = { { 0, 150 }, { 1, 255 } };
	static const uint8_t want_g[2][2] = { { 25, 1 }, { 9, 64 } };
	static const uint8_t want_a[2][2] = { { 128, 9 }, { 255, 0 } };
	uint32_t src[16], dst[4];

	cr_test_log("2x downscale of a known 4x4 RGBA image");
	CHECK_NEAR(cr_reference_sample_pos(0, 0, 4, 2), 0.5, 0.0);
	CHECK_NEAR(cr_reference_sample_pos(1, 0, 4, 2), 2.5, 0.0);
	for (int y = 0; y < 4; y++)
		for (int x = 0; x < 4; x++)
			src[y * 4 + x] = pack(CR_LAYOUT_RGBA, r[y][x], g[y][x], 77, a[y][x]);
	struct cr_process_params p = params(4, 4, CR_LAYOUT_RGBA, 2, 2, CR_LAYOUT_RGBA);
	scale(&p, src, dst);
	for (int y = 0; y < 2; y++) {
		for (int x = 0; x < 2; x++) {
			uint32_t px = dst[y * 2 + x];
			CHECK_MSG(channel(px, CR_LAYOUT_RGBA, 0) == want_r[y][x],
				  "R at (%d,%d): got %u, want %u", x, y,
				  channel(px, CR_LAYOUT_RGBA, 0), want_r[y][x]);
			CHECK_MSG(channel(px, CR_LAYOUT_RGBA, 1) == want_g[y][x],
				  "G at (%d,%d): got %u, want %u", x, y,
				  channel(px, CR_LAYOUT_RGBA, 1), want_g[y][x]);
			CHECK_MSG(channel(px, CR_LAYOUT_RGBA, 2) == 77,
				  "B at (%d,%d): got %u, want 77", x, y,
				  channel(px, CR_LAYOUT_RGBA, 2));
			CHECK_MSG(channel(px, CR_LAYOUT_RGBA, 3) == want_a[y][x],
				  "A at (%d,%d): got %u, want %u", x, y,
				  channel(px, CR_LAYOUT_RGBA, 3), want_a[y][x]);
		}
	}
	/* The per-pixel entry point agrees with the whole-image one. */
	uint8_t rgba[4];
	scale_pixel(&p, src, 1, 0, rgba);
	CHECK_EQ_INT(rgba[0], 150);
	CHECK_EQ_INT(rgba[1], 1);
	CHECK_EQ_INT(rgba[2], 77);
	CHECK_EQ_INT(rgba[3], 9);
}

/* Channel order conversions between every pair of layouts, on one pixel. */
static void test_swizzles(void)
{
	static const struct {
		uint32_t layout;
		const char *name;
	} layouts[] = {
		{ CR_LAYOUT_BGRX, "BGRx" },
		{ CR_LAYOUT_RGBX, "RGBx" },
		{ CR_LAYOUT_BGRA, "BGRA" },
		{ CR_LAYOUT_RGBA, "RGBA" },
	};
	cr_test_log("layout swizzles between BGRx, RGBx, BGRA, RGBA");

	/* The canonical case spelled out in bytes: BGRx 11 22 33 00 -> RGBx 33 22 11 ff. */
	uint8_t in_bytes[4] = { 0x11, 0x22, 0x33, 0x00 };
	uint32_t in, out;
	memcpy(&in, in_bytes, sizeof(in));
	struct cr_process_params p = params(1, 1, CR_LAYOUT_BGRX, 1, 1, CR_LAYOUT_RGBX);
	scale(&p, &in, &out);
	CHECK_EQ_HEX(byte_of(out, 0), 0x33);
	CHECK_EQ_HEX(byte_of(out, 1), 0x22);
	CHECK_EQ_HEX(byte_of(out, 2), 0x11);
	CHECK_EQ_HEX(byte_of(out, 3), 0xff);
	/* And back. */
	uint32_t back;
	p = params(1, 1, CR_LAYOUT_RGBX, 1, 1, CR_LAYOUT_BGRX);
	scale(&p, &out, &back);
	CHECK_EQ_HEX(byte_of(back, 0), 0x11);
	CHECK_EQ_HEX(byte_of(back, 1), 0x22);
	CHECK_EQ_HEX(byte_of(back, 2), 0x33);
	CHECK_EQ_HEX(byte_of(back, 3), 0xff);

	for (size_t i = 0; i < 4; i++) {
		for (size_t j = 0; j < 4; j++) {
			uint32_t s = pack(layouts[i].layout, 0xa1, 0xb2, 0xc3, 0x44), d = 0;
			p = params(1, 1, layouts[i].layout, 1, 1, layouts[j].layout);
			scale(&p, &s, &d);
			/* Alpha survives only from an alpha layout into an alpha layout. */
			uint8_t want_a = cr_reference_layout_has_alpha(layouts[i].layout) &&
					 cr_reference_layout_has_alpha(layouts[j].layout) ?
					 0x44 : 0xff;
			bool ok = channel(d, layouts[j].layout, 0) == 0xa1 &&
				  channel(d, layouts[j].layout, 1) == 0xb2 &&
				  channel(d, layouts[j].layout, 2) == 0xc3 &&
				  channel(d, layouts[j].layout, 3) == want_a;
			CHECK_MSG(ok, "%s -> %s: bytes %02x %02x %02x %02x, want R=a1 G=b2 B=c3 "
				  "A=%02x", layouts[i].name, layouts[j].name, byte_of(d, 0),
				  byte_of(d, 1), byte_of(d, 2), byte_of(d, 3), want_a);
		}
	}
}

/*
 * Crop without scaling, from a source with row padding and a start offset: every output
 * pixel is the source pixel shifted by the crop origin; padding is never read.
 */
static void test_crop_offsets(void)
{
	enum { W = 16, H = 12, STRIDE = 20, OFFSET = 7, CX = 3, CY = 2, CW = 9, CH = 5 };
	uint32_t src[OFFSET + STRIDE * H], dst[CW * CH];
	cr_test_log("crop %d,%d,%d,%d of %dx%d with stride %d and offset %d", CX, CY, CW, CH,
		    W, H, STRIDE, OFFSET);
	/* Padding and the bytes before the offset are a colour no pixel has. */
	for (size_t i = 0; i < sizeof(src) / sizeof(src[0]); i++)
		src[i] = pack(CR_LAYOUT_BGRX, 0xee, 0xee, 0xee, 0xff);
	for (uint32_t y = 0; y < H; y++)
		for (uint32_t x = 0; x < W; x++)
			src[OFFSET + y * STRIDE + x] =
				pack(CR_LAYOUT_BGRX, (uint8_t)x, (uint8_t)y, (uint8_t)(x + y), 0xff);
	struct cr_process_params p = params(W, H, CR_LAYOUT_BGRX, CW, CH, CR_LAYOUT_BGRX);
	p.src_offset = OFFSET;
	p.src_stride = STRIDE;
	p.crop_x = CX;
	p.crop_y = CY;
	p.crop_w = CW;
	p.crop_h = CH;
	scale(&p, src, dst);
	unsigned bad = 0;
	for (uint32_t y = 0; y < CH; y++) {
		for (uint32_t x = 0; x < CW; x++) {
			uint32_t px = dst[y * CW + x];
			uint8_t r = channel(px, CR_LAYOUT_BGRX, 0), g = channel(px, CR_LAYOUT_BGRX, 1);
			if (!CHECK_MSG(r == x + CX && g == y + CY,
				       "dst (%u,%u): got source (%u,%u), want (%u,%u)",
				       x, y, r, g, x + CX, y + CY))
				bad++;
			if (bad > 5)
				break;
		}
	}
	CHECK_NEAR(cr_reference_sample_pos(0, CX, CW, CW), CX, 0.0);
	CHECK_NEAR(cr_reference_sample_pos(CW - 1, CX, CW, CW), CX + CW - 1, 0.0);
}

/* The destination stride's padding is left alone. */
static void test_dst_stride(void)
{
	enum { W = 3, H = 2, DSTRIDE = 5 };
	uint32_t src[W * H], dst[DSTRIDE * H];
	cr_test_log("destination row padding is not written");
	for (int i = 0; i < W * H; i++)
		src[i] = pack(CR_LAYOUT_RGBA, (uint8_t)i, 0, 0, 0xff);
	for (int i = 0; i < DSTRIDE * H; i++)
		dst[i] = 0xdeadbeef;
	struct cr_process_params p = params(W, H, CR_LAYOUT_RGBA, W, H, CR_LAYOUT_RGBA);
	p.dst_stride = DSTRIDE;
	scale(&p, src, dst);
	for (int y = 0; y < H; y++) {
		for (int x = 0; x < W; x++)
			CHECK_EQ_HEX(dst[y * DSTRIDE + x], src[y * W + x]);
		for (int x = W; x < DSTRIDE; x++)
			CHECK_EQ_HEX(dst[y * DSTRIDE + x], 0xdeadbeef);
	}
}

/*
 * Upscaling 2x2 -> 4x4: sample positions -0.25, 0.25, 0.75, 1.25 clamp to 0, 0.25, 0.75, 1,
 * so the corners reproduce the source corners and the inner pixels interpolate.
 */
static void test_clamp_upscale(void)
{
	uint32_t src[4], dst[16];
	/* R varies along x (0, 100), G along y (0, 200). */
	static const uint8_t want_r[4] = { 0, 25, 75, 100 };
	static const uint8_t want_g[4] = { 0, 50, 150, 200 };
	cr_test_log("upscale 2x2 -> 4x4 clamps sample positions to the edge texels");
	CHECK_NEAR(cr_reference_sample_pos(0, 0, 2, 4), 0.0, 0.0);
	CHECK_NEAR(cr_reference_sample_pos(1, 0, 2, 4), 0.25, 0.0);
	CHECK_NEAR(cr_reference_sample_pos(2, 0, 2, 4), 0.75, 0.0);
	CHECK_NEAR(cr_reference_sample_pos(3, 0, 2, 4), 1.0, 0.0);
	src[0] = pack(CR_LAYOUT_BGRX, 0, 0, 9, 0xff);
	src[1] = pack(CR_LAYOUT_BGRX, 100, 0, 9, 0xff);
	src[2] = pack(CR_LAYOUT_BGRX, 0, 200, 9, 0xff);
	src[3] = pack(CR_LAYOUT_BGRX, 100, 200, 9, 0xff);
	struct cr_process_params p = params(2, 2, CR_LAYOUT_BGRX, 4, 4, CR_LAYOUT_BGRX);
	scale(&p, src, dst);
	for (int y = 0; y < 4; y++) {
		for (int x = 0; x < 4; x++) {
			uint32_t px = dst[y * 4 + x];
			CHECK_MSG(channel(px, CR_LAYOUT_BGRX, 0) == want_r[x] &&
				  channel(px, CR_LAYOUT_BGRX, 1) == want_g[y] &&
				  channel(px, CR_LAYOUT_BGRX, 2) == 9,
				  "(%d,%d): got R=%u G=%u B=%u, want R=%u G=%u B=9", x, y,
				  channel(px, CR_LAYOUT_BGRX, 0), channel(px, CR_LAYOUT_BGRX, 1),
				  channel(px, CR_LAYOUT_BGRX, 2), want_r[x], want_g[y]);
		}
	}
}

/*
 * A crop in the middle of an image, upscaled: texels outside the crop window (bright) must
 * never leak in at the edges, and the output corners are the crop corners.
 */
static void test_clamp_crop_edges(void)
{
	enum { W = 8, H = 8, CX = 2, CY = 3, CW = 3, CH = 2, DW = 13, DH = 7 };
	uint32_t src[W * H], dst[DW * DH];
	cr_test_log("crop %d,%d,%d,%d upscaled to %dx%d never samples outside the crop",
		    CX, CY, CW, CH, DW, DH);
	for (uint32_t y = 0; y < H; y++)
		for (uint32_t x = 0; x < W; x++) {
			bool inside = x >= CX && x < CX + CW && y >= CY && y < CY + CH;
			uint8_t v = inside ? (uint8_t)(10 * (x - CX) + 40 * (y - CY)) : 250;
			src[y * W + x] = pack(CR_LAYOUT_RGBX, v, v, v, 0xff);
		}
	struct cr_process_params p = params(W, H, CR_LAYOUT_RGBX, DW, DH, CR_LAYOUT_RGBX);
	p.crop_x = CX;
	p.crop_y = CY;
	p.crop_w = CW;
	p.crop_h = CH;
	scale(&p, src, dst);
	uint8_t max = 0;
	for (int i = 0; i < DW * DH; i++) {
		uint8_t v = channel(dst[i], CR_LAYOUT_RGBX, 0);
		max = v > max ? v : max;
	}
	/* The largest value inside the crop is 10 * 2 + 40 * 1 = 60. */
	CHECK_EQ_INT(max, 60);
	CHECK_EQ_INT(channel(dst[0], CR_LAYOUT_RGBX, 0), 0);
	CHECK_EQ_INT(channel(dst[DW - 1], CR_LAYOUT_RGBX, 0), 20);
	CHECK_EQ_INT(channel(dst[(DH - 1) * DW], CR_LAYOUT_RGBX, 0), 40);
	CHECK_EQ_INT(channel(dst[DH * DW - 1], CR_LAYOUT_RGBX, 0), 60);
	for (uint32_t d = 0; d < DW; d++) {
		float s = cr_reference_sample_pos(d, CX, CW, DW);
		CHECK_MSG(s >= CX && s <= CX + CW - 1, "x sample %u at %f, outside [%d, %d]", d,
			  (double)s, CX, CX + CW - 1);
	}
}

/*
 * The test pattern through a crop + scale like the integration tests use: R holds the frame
 * number and must survive any scaling exactly, G (= y) is monotonic where it does not wrap.
 */
static void test_pattern_crop_scale(void)
{
	enum { W = 640, H = 480, CX = 100, CY = 50, CW = 400, CH = 300, DW = 200, DH = 150 };
	const uint64_t frame = 37;
	uint32_t *src = malloc(sizeof(uint32_t) * W * H);
	uint32_t *dst = malloc(sizeof(uint32_t) * DW * DH);
	cr_test_log("pattern frame %u cropped %d,%d,%d,%d and scaled to %dx%d", (unsigned)frame,
		    CX, CY, CW, CH, DW, DH);
	if (!CHECK(src != NULL && dst != NULL)) {
		free(src);
		free(dst);
		return;
	}
	for (uint32_t y = 0; y < H; y++)
		for (uint32_t x = 0; x < W; x++) {
			uint8_t c[4];
			cr_pattern_rgba(x, y, frame, c);
			src[y * W + x] = pack(CR_LAYOUT_BGRX, c[0], c[1], c[2], c[3]);
		}
	struct cr_process_params p = params(W, H, CR_LAYOUT_BGRX, DW, DH, CR_LAYOUT_BGRX);
	p.crop_x = CX;
	p.crop_y = CY;
	p.crop_w = CW;
	p.crop_h = CH;
	scale(&p, src, dst);
	unsigned wrong_r = 0, wrong_g = 0;
	for (uint32_t y = 0; y < DH; y++) {
		/* 2x downscale: dst row y samples source row CY + 2y + 0.5. */
		float sy = cr_reference_sample_pos(y, CY, CH, DH);
		CHECK_NEAR(sy, CY + 2.0 * y + 0.5, 1e-3);
		for (uint32_t x = 0; x < DW; x++) {
			uint32_t px = dst[y * DW + x];
			wrong_r += channel(px, CR_LAYOUT_BGRX, 0) != frame;
			/* Rows 255/256 wrap (G = y & 0xff): skip the one row that mixes them. */
			uint32_t y0 = (uint32_t)sy;
			if ((y0 & 0xff) != 0xff)
				wrong_g += channel(px, CR_LAYOUT_BGRX, 1) !=
					   (uint8_t)((y0 & 0xff) + 1);
		}
	}
	/* G at sample y0 + 0.5 is y0 + 0.5, which rounds half up to y0 + 1. */
	CHECK_EQ_INT(wrong_r, 0);
	CHECK_EQ_INT(wrong_g, 0);
	free(src);
	free(dst);
}


/* 3x2 picture rotated 90 degrees counter-clockwise: its top-right pixel becomes top-left. */
static void test_transform_90(void)
{
	uint32_t src[6], dst[6];
	cr_test_log("transform 90 rotates counter-clockwise; FLIPPED mirrors horizontally");
	for (uint32_t i = 0; i < 6; i++)
		src[i] = pack(CR_LAYOUT_RGBA, (uint8_t)(10 * i), 0, 0, 255);
	struct cr_process_params p = params(3, 2, CR_LAYOUT_RGBA, 2, 3, CR_LAYOUT_RGBA);
	p.transform = CR_TRANSFORM_90;
	scale(&p, src, dst);
	/* source  0 10 20      output 20 50
	 *        30 40 50             10 40
	 *                              0 30 */
	static const uint8_t want[6] = { 20, 50, 10, 40, 0, 30 };
	for (int i = 0; i < 6; i++)
		CHECK_EQ_INT(channel(dst[i], CR_LAYOUT_RGBA, 0), want[i]);
	p = params(3, 2, CR_LAYOUT_RGBA, 3, 2, CR_LAYOUT_RGBA);
	p.transform = CR_TRANSFORM_FLIPPED;
	scale(&p, src, dst);
	static const uint8_t mirrored[6] = { 20, 10, 0, 50, 40, 30 };
	for (int i = 0; i < 6; i++)
		CHECK_EQ_INT(channel(dst[i], CR_LAYOUT_RGBA, 0), mirrored[i]);
}

/* A 6x1 -> 2x1 box filter averages three pixels each; bilinear would read only two. */
static void test_box(void)
{
	uint32_t src[6], dst[2];
	static const uint8_t v[6] = { 0, 30, 90, 200, 100, 0 };
	cr_test_log("box filter averages the whole footprint");
	for (int i = 0; i < 6; i++)
		src[i] = pack(CR_LAYOUT_RGBX, v[i], 0, 0, 255);
	struct cr_process_params p = params(6, 1, CR_LAYOUT_RGBX, 2, 1, CR_LAYOUT_RGBX);
	CHECK_EQ_INT(cr_reference_choose_filter(&p), CR_FILTER_BOX);
	p.filter_mode = CR_FILTER_BOX;
	scale(&p, src, dst);
	CHECK_EQ_INT(channel(dst[0], CR_LAYOUT_RGBX, 0), 40);  /* (0 + 30 + 90) / 3 */
	CHECK_EQ_INT(channel(dst[1], CR_LAYOUT_RGBX, 0), 100); /* (200 + 100 + 0) / 3 */
	p = params(4, 4, CR_LAYOUT_RGBX, 2, 2, CR_LAYOUT_RGBX);
	CHECK_EQ_INT(cr_reference_choose_filter(&p), CR_FILTER_BILINEAR); /* exactly 2x */
}

/* Redaction fills with opaque black before scaling; the cursor blends with its alpha. */
static void test_redact_cursor(void)
{
	uint32_t src[16], dst[16], cursor[1];
	cr_test_log("redaction fills black, cursor blends by alpha, redaction covers the cursor");
	for (int i = 0; i < 16; i++)
		src[i] = pack(CR_LAYOUT_BGRX, 200, 100, 50, 255);
	cursor[0] = pack(CR_LAYOUT_BGRA, 0, 0, 255, 128); /* half-transparent blue */
	struct cr_process_params p = params(4, 4, CR_LAYOUT_BGRX, 4, 4, CR_LAYOUT_BGRX);
	p.n_redact = 1;
	p.redact[0][0] = 2;
	p.redact[0][1] = 0;
	p.redact[0][2] = 2;
	p.redact[0][3] = 2;
	p.redact_color = 0xff000000u;
	p.cursor_enabled = 1;
	p.cursor_w = p.cursor_h = p.cursor_stride = 1;
	p.cursor_layout = CR_LAYOUT_BGRA;
	p.cursor_x = 1;
	p.cursor_y = 1;
	cr_reference_process(&p, src, cursor, (uint8_t *)dst);
	CHECK_EQ_INT(channel(dst[0], CR_LAYOUT_BGRX, 0), 200); /* untouched */
	CHECK_EQ_INT(channel(dst[2], CR_LAYOUT_BGRX, 0), 0);   /* redacted */
	CHECK_EQ_INT(channel(dst[7], CR_LAYOUT_BGRX, 1), 0);
	CHECK_EQ_INT(channel(dst[8], CR_LAYOUT_BGRX, 0), 200); /* below the rectangle */
	/* Cursor at (1,1): 200 * (1 - 128/255) = 99.6 -> 100; blue 50 + (255 - 50) * 128/255. */
	CHECK_EQ_INT(channel(dst[5], CR_LAYOUT_BGRX, 0), 100);
	CHECK_EQ_INT(channel(dst[5], CR_LAYOUT_BGRX, 2), 153);
	p.cursor_x = 2; /* under the redaction: stays black */
	cr_reference_process(&p, src, cursor, (uint8_t *)dst);
	CHECK_EQ_INT(channel(dst[6], CR_LAYOUT_BGRX, 2), 0);
}

/* Y'CbCr codes of known colours (ITU-R BT.601 / BT.709 tables, 8-bit). */
static void test_yuv(void)
{
	cr_test_log("NV12/I420 codes of white, black and red in BT.601/709, limited and full");
	struct {
		enum cr_color_matrix m;
		bool full;
		uint8_t r, g, b, y, u, v;
	} cases[] = {
		{ CR_COLOR_BT709, false, 255, 255, 255, 235, 128, 128 },
		{ CR_COLOR_BT709, false, 0, 0, 0, 16, 128, 128 },
		{ CR_COLOR_BT709, false, 255, 0, 0, 63, 102, 240 },
		{ CR_COLOR_BT601, false, 255, 0, 0, 81, 90, 240 },
		{ CR_COLOR_BT601, true, 255, 255, 255, 255, 128, 128 },
		{ CR_COLOR_BT601, true, 255, 0, 0, 76, 85, 255 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		/* 2x2 NV12 frame: Y stride 4, UV plane at offset 8. */
		uint32_t src[4];
		uint8_t dst[12];
		memset(dst, 0, sizeof(dst));
		for (int k = 0; k < 4; k++)
			src[k] = pack(CR_LAYOUT_RGBX, cases[i].r, cases[i].g, cases[i].b, 255);
		struct cr_process_params p = params(2, 2, CR_LAYOUT_RGBX, 2, 2, 0);
		p.out_kind = CR_OUT_NV12;
		p.dst_stride = 4;
		p.dst_offset1 = 8;
		p.dst_stride1 = 4;
		cr_color_yuv_rows(cases[i].m, cases[i].full, p.yuv_y, p.yuv_u, p.yuv_v);
		cr_reference_process(&p, src, NULL, dst);
		CHECK_EQ_INT(dst[0], cases[i].y);
		CHECK_EQ_INT(dst[5], cases[i].y);
		CHECK_EQ_INT(dst[8], cases[i].u);
		CHECK_EQ_INT(dst[9], cases[i].v);
	}
}

/* 10-bit words: @x10 (xRGB_210LE) has B in bits 0-9, R in 20-29; xBGR_210LE the reverse. */
static uint32_t word10(uint32_t layout, uint32_t r, uint32_t g, uint32_t b, uint32_t top)
{
	return layout == CR_LAYOUT_XRGB2101010 ? b | g << 10 | r << 20 | top << 30
					       : r | g << 10 | b << 20 | top << 30;
}

static void test_10bit_in(void)
{
	cr_test_log("10-bit sources: fields unpacked to c * 255 / 1023, unused bits ignored");
	int sh[3];
	cr_reference_layout_shifts10(CR_LAYOUT_XRGB2101010, sh);
	CHECK(sh[0] == 20 && sh[1] == 10 && sh[2] == 0);
	cr_reference_layout_shifts10(CR_LAYOUT_XBGR2101010, sh);
	CHECK(sh[0] == 0 && sh[1] == 10 && sh[2] == 20);
	CHECK(cr_reference_layout_is_10bit(CR_LAYOUT_XBGR2101010));
	CHECK(!cr_reference_layout_is_10bit(CR_LAYOUT_RGBA));
	for (uint32_t layout = CR_LAYOUT_XRGB2101010; layout <= CR_LAYOUT_XBGR2101010; layout++) {
		/* 1023 -> 255, 512 -> 127.62 -> 128, 3 -> 0.75 -> 1, whatever the top bits */
		uint32_t src[4] = {
			word10(layout, 1023, 512, 3, 0), word10(layout, 1023, 512, 3, 1),
			word10(layout, 0, 1, 2, 2), word10(layout, 1022, 1021, 4, 3),
		};
		uint32_t dst[4];
		struct cr_process_params p = params(4, 1, layout, 4, 1, CR_LAYOUT_RGBA);
		scale(&p, src, dst);
		for (int i = 0; i < 2; i++) {
			CHECK_EQ_INT(channel(dst[i], CR_LAYOUT_RGBA, 0), 255);
			CHECK_EQ_INT(channel(dst[i], CR_LAYOUT_RGBA, 1), 128);
			CHECK_EQ_INT(channel(dst[i], CR_LAYOUT_RGBA, 2), 1);
			CHECK_EQ_INT(channel(dst[i], CR_LAYOUT_RGBA, 3), 255); /* opaque */
		}
		/* 1 -> 0.249, 2 -> 0.499: both 0; 1022 -> 254.75, 1021 -> 254.50 -> 255 */
		CHECK_EQ_HEX(dst[2], pack(CR_LAYOUT_RGBA, 0, 0, 0, 255));
		CHECK_EQ_HEX(dst[3], pack(CR_LAYOUT_RGBA, 255, 255, 1, 255));
		float v[4];
		cr_reference_rgba(&p, src, NULL, 0, 0, v);
		CHECK_NEAR(v[1], 512.0 * 255.0 / 1023.0, 1e-4); /* not quantised to 8 bits */
	}
}

static void test_10bit_out(void)
{
	cr_test_log("8-bit codes expand to round(c * 1023 / 255) in 10-bit outputs, exactly");
	uint32_t src[256], dst[256];
	for (uint32_t c = 0; c < 256; c++)
		src[c] = pack(CR_LAYOUT_BGRX, (uint8_t)c, (uint8_t)(255 - c), (uint8_t)(c / 2), 0);
	for (uint32_t layout = CR_LAYOUT_XRGB2101010; layout <= CR_LAYOUT_XBGR2101010; layout++) {
		struct cr_process_params p = params(256, 1, CR_LAYOUT_BGRX, 256, 1, layout);
		scale(&p, src, dst);
		uint32_t wrong = 0;
		for (uint32_t c = 0; c < 256; c++) {
			/* integer rounding of c * 1023 / 255 */
			uint32_t r = (c * 2046 + 255) / 510, g = ((255 - c) * 2046 + 255) / 510;
			uint32_t b = (c / 2 * 2046 + 255) / 510;
			wrong += dst[c] != word10(layout, r, g, b, 3);
		}
		CHECK_EQ_UINT(wrong, 0);
		/* not bit replication: 200 -> 802.35 -> 802; (200 << 2) | (200 >> 6) is 803 */
		CHECK_EQ_HEX(dst[200] >> (layout == CR_LAYOUT_XRGB2101010 ? 20 : 0) & 0x3ff, 802);
		CHECK_EQ_HEX(dst[1] >> 30, 3); /* the unused bits written as ones */
		CHECK_EQ_UINT(cr_reference_code10(255.0f), 1023);
		CHECK_EQ_UINT(cr_reference_code10(300.0f), 1023);
		CHECK_EQ_UINT(cr_reference_code10(-3.0f), 0);
	}

	cr_test_log("10 bits in, 10 bits out: every code survives an identity relay");
	uint32_t *src10 = malloc(1024 * sizeof(*src10)), *dst10 = malloc(1024 * sizeof(*dst10));
	if (!CHECK(src10 != NULL && dst10 != NULL)) {
		free(src10);
		free(dst10);
		return;
	}
	for (uint32_t c = 0; c < 1024; c++)
		src10[c] = word10(CR_LAYOUT_XRGB2101010, c, 1023 - c, (c * 7) & 0x3ff, c & 3);
	struct cr_process_params p = params(1024, 1, CR_LAYOUT_XRGB2101010, 1024, 1,
					    CR_LAYOUT_XBGR2101010);
	scale(&p, src10, dst10);
	uint32_t wrong = 0;
	for (uint32_t c = 0; c < 1024; c++)
		wrong += dst10[c] != word10(CR_LAYOUT_XBGR2101010, c, 1023 - c, (c * 7) & 0x3ff, 3);
	CHECK_EQ_UINT(wrong, 0);
	/* and into 8 bits: round(c * 255 / 1023), never near a half */
	p.dst_layout = CR_LAYOUT_RGBX;
	scale(&p, src10, dst10);
	wrong = 0;
	for (uint32_t c = 0; c < 1024; c++)
		wrong += channel(dst10[c], CR_LAYOUT_RGBX, 0) != (c * 510 + 1023) / 2046;
	CHECK_EQ_UINT(wrong, 0);
	free(src10);
	free(dst10);
}

/* An NV12 source of @w x @h in @buf: Y plane at offset 8 (stride @ys), UV plane at @uv_off
 * (stride @uvs) of @uv_buf; as the parameters of a packed RGBA output of the same size. */
static struct cr_process_params nv12_params(uint32_t w, uint32_t h, uint32_t ys, uint32_t uv_off,
					   uint32_t uvs, enum cr_color_matrix m, bool full)
{
	struct cr_process_params p = params(w, h, 0, w, h, CR_LAYOUT_RGBA);
	p.src_kind = CR_OUT_NV12;
	p.src_offset = 8;
	p.src_stride = ys;
	p.src_offset1 = uv_off;
	p.src_stride1 = uvs;
	cr_color_rgb_rows(m, full, p.rgb_r, p.rgb_g, p.rgb_b);
	return p;
}

static void test_nv12_in(void)
{
	cr_test_log("NV12 sources: Y with the chroma of its 2x2 block through the inverse matrix");
	/* 4x2: Y 128 everywhere; left block U = V = 128 (grey), right block U = V = 0 */
	uint32_t buf[16] = { 0 };
	uint8_t *b = (uint8_t *)buf;
	for (int y = 0; y < 2; y++)
		memset(b + 8 + y * 8, 128, 4);
	memset(b + 24, 128, 2);
	memset(b + 26, 0, 2);
	struct cr_process_params p = nv12_params(4, 2, 8, 24, 4, CR_COLOR_BT601, true);
	uint32_t dst[8];
	scale(&p, buf, dst);
	for (int y = 0; y < 2; y++) {
		CHECK_EQ_HEX(dst[y * 4 + 0], pack(CR_LAYOUT_RGBA, 128, 128, 128, 255));
		CHECK_EQ_HEX(dst[y * 4 + 1], pack(CR_LAYOUT_RGBA, 128, 128, 128, 255));
		/* R = 128 - 1.402 * 128 < 0, G = 128 + (0.344 + 0.714) * 128 > 255, B < 0 */
		CHECK_EQ_HEX(dst[y * 4 + 2], pack(CR_LAYOUT_RGBA, 0, 255, 0, 255));
		CHECK_EQ_HEX(dst[y * 4 + 3], pack(CR_LAYOUT_RGBA, 0, 255, 0, 255));
	}

	static const struct {
		enum cr_color_matrix m;
		bool full;
		uint8_t yuv[3], rgb[3];
	} colors[] = {
		{ CR_COLOR_BT601, false, { 235, 128, 128 }, { 255, 255, 255 } },
		{ CR_COLOR_BT601, false, { 16, 128, 128 }, { 0, 0, 0 } },
		{ CR_COLOR_BT709, false, { 235, 128, 128 }, { 255, 255, 255 } },
		/* BT.601 limited red: R = 1.164 * 65 + 1.596 * 112 = 254.44, G -0.48, B -0.97 */
		{ CR_COLOR_BT601, false, { 81, 90, 240 }, { 254, 0, 0 } },
		{ CR_COLOR_BT709, true, { 100, 128, 128 }, { 100, 100, 100 } },
		{ CR_COLOR_BT601, true, { 255, 128, 128 }, { 255, 255, 255 } },
	};
	for (size_t i = 0; i < sizeof(colors) / sizeof(colors[0]); i++) {
		uint32_t one[8] = { 0 };
		uint8_t *o = (uint8_t *)one;
		memset(o + 8, colors[i].yuv[0], 4); /* 2x2 Y, stride 2 */
		o[16] = colors[i].yuv[1];
		o[17] = colors[i].yuv[2];
		struct cr_process_params q = nv12_params(2, 2, 2, 16, 4, colors[i].m,
							 colors[i].full);
		uint32_t out[4];
		scale(&q, one, out);
		CHECK_MSG(out[3] == pack(CR_LAYOUT_RGBA, colors[i].rgb[0], colors[i].rgb[1],
					 colors[i].rgb[2], 255),
			  "%s %s Y %u U %u V %u: got R %u G %u B %u",
			  cr_color_matrix_name(colors[i].m), colors[i].full ? "full" : "limited",
			  colors[i].yuv[0], colors[i].yuv[1], colors[i].yuv[2],
			  channel(out[3], CR_LAYOUT_RGBA, 0), channel(out[3], CR_LAYOUT_RGBA, 1),
			  channel(out[3], CR_LAYOUT_RGBA, 2));
	}

	cr_test_log("NV12 planes in one buffer or two give the same picture, scaled and rotated");
	enum { W = 37, H = 23, YS = 40, UVS = 44 };
	uint32_t state = 7;
	static uint32_t one_buf[(8 + YS * H + 64 + UVS * 12) / 4 + 1];
	static uint32_t y_buf[(8 + YS * H) / 4 + 1], uv_buf[(16 + UVS * 12) / 4 + 1];
	uint8_t *ob = (uint8_t *)one_buf, *yb = (uint8_t *)y_buf, *ub = (uint8_t *)uv_buf;
	uint32_t uv_off = 8 + YS * H + 64;
	for (uint32_t i = 0; i < YS * H; i++)
		yb[8 + i] = ob[8 + i] = (uint8_t)lcg(&state);
	for (uint32_t i = 0; i < UVS * 12; i++)
		ub[16 + i] = ob[uv_off + i] = (uint8_t)lcg(&state);
	struct cr_process_params a = nv12_params(W, H, YS, uv_off, UVS, CR_COLOR_BT709, false);
	a.dst_width = a.dst_stride = 17;
	a.dst_height = 29;
	a.transform = CR_TRANSFORM_90;
	a.crop_x = 3;
	a.crop_w = 31;
	struct cr_process_params c = a;
	c.src_offset1 = 16;
	uint32_t got_one[17 * 29], got_two[17 * 29];
	const uint32_t *two[2] = { y_buf, uv_buf };
	cr_reference_process(&a, one_buf, NULL, (uint8_t *)got_one);
	cr_reference_process_planes(&c, two, NULL, (uint8_t *)got_two);
	CHECK_EQ_MEM(got_one, got_two, sizeof(got_one));
}

int main(void)
{
	test_layouts();
	test_identity(CR_LAYOUT_BGRX, "BGRx");
	test_identity(CR_LAYOUT_RGBX, "RGBx");
	test_identity(CR_LAYOUT_BGRA, "BGRA");
	test_identity(CR_LAYOUT_RGBA, "RGBA");
	test_x_byte_ignored();
	test_downscale_2x();
	test_swizzles();
	test_crop_offsets();
	test_dst_stride();
	test_clamp_upscale();
	test_clamp_crop_edges();
	test_pattern_crop_scale();
	test_transform_90();
	test_box();
	test_redact_cursor();
	test_yuv();
	test_10bit_in();
	test_10bit_out();
	test_nv12_in();
	return cr_test_result();
}
