/* SPDX-License-Identifier: MIT */
#include "png.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* A stored deflate block carries at most 65535 bytes (LEN is 16 bits, RFC 1951 §3.2.4). */
#define STORED_MAX 65535u

/* CRC-32 four bits at a time: a 16-entry table is enough for a debugging tool. */
static const uint32_t crc_nibble[16] = {
	0x00000000, 0x1db71064, 0x3b6e20c8, 0x26d930ac, 0x76dc4190, 0x6b6b51f4, 0x4db26158,
	0x5005713c, 0xedb88320, 0xf00f9344, 0xd6d6a3e8, 0xcb61b38c, 0x9b64c2b0, 0x86d3d2d4,
	0xa00ae278, 0xbdbdf21c,
};

uint32_t cr_png_crc32(uint32_t crc, const void *data, size_t len)
{
	const uint8_t *p = data;

	crc = ~crc;
	for (size_t i = 0; i < len; i++) {
		crc ^= p[i];
		crc = (crc >> 4) ^ crc_nibble[crc & 0xf];
		crc = (crc >> 4) ^ crc_nibble[crc & 0xf];
	}
	return ~crc;
}

uint32_t cr_png_adler32(uint32_t adler, const void *data, size_t len)
{
	const uint8_t *p = data;
	uint32_t a = adler & 0xffff, b = adler >> 16;

	while (len > 0) {
		/* 5552 is the largest n keeping b below 2^32 before the modulo (zlib's NMAX). */
		size_t n = len < 5552 ? len : 5552;
		len -= n;
		while (n--) {
			a += *p++;
			b += a;
		}
		a %= 65521;
		b %= 65521;
	}
	return (b << 16) | a;
}

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* Writes one chunk; @type_data is the 4-byte type followed by @len bytes of data. */
static bool write_chunk(FILE *f, const uint8_t *type_data, uint32_t len)
{
	uint8_t be[4];

	put_be32(be, len);
	if (fwrite(be, 1, 4, f) != 4 || fwrite(type_data, 1, 4 + (size_t)len, f) != 4 + len)
		return false;
	put_be32(be, cr_png_crc32(0, type_data, 4 + (size_t)len));
	return fwrite(be, 1, 4, f) == 4;
}

/* The filtered image stream (a 0 filter byte before each row), read in pieces. */
struct scanlines {
	const uint8_t *rgb;
	size_t stride;
	uint32_t row_bytes;
	uint32_t height;
	uint32_t y;
	uint32_t pos; /* 0: the filter byte is next; else 1 + column byte */
};

static size_t read_scanlines(struct scanlines *s, uint8_t *dst, size_t max)
{
	size_t done = 0;

	while (done < max && s->y < s->height) {
		if (s->pos == 0) {
			dst[done++] = 0;
			s->pos = 1;
			continue;
		}
		size_t n = s->row_bytes + 1 - s->pos;
		if (n > max - done)
			n = max - done;
		memcpy(dst + done, s->rgb + s->y * s->stride + (s->pos - 1), n);
		done += n;
		s->pos += (uint32_t)n;
		if (s->pos == s->row_bytes + 1) {
			s->pos = 0;
			s->y++;
		}
	}
	return done;
}

bool cr_png_write_rgb(const char *path, uint32_t width, uint32_t height, const uint8_t *rgb,
		      size_t stride)
{
	static const uint8_t signature[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
	/* IDAT type + zlib header + stored block header + data + Adler-32 */
	uint8_t chunk[4 + 2 + 5 + STORED_MAX + 4];
	struct scanlines lines = {
		.rgb = rgb, .stride = stride, .row_bytes = width * 3, .height = height,
	};
	uint64_t remaining = (uint64_t)height * ((uint64_t)width * 3 + 1);
	uint32_t adler = 1;
	bool first = true;
	int err = 0;

	FILE *f = fopen(path, "wbe");
	if (f == NULL)
		return false;

	if (fwrite(signature, 1, sizeof(signature), f) != sizeof(signature))
		goto fail_close;

	memcpy(chunk, "IHDR", 4);
	put_be32(chunk + 4, width);
	put_be32(chunk + 8, height);
	chunk[12] = 8; /* bit depth */
	chunk[13] = 2; /* colour type: truecolour */
	chunk[14] = 0; /* compression: deflate */
	chunk[15] = 0; /* filter method 0 */
	chunk[16] = 0; /* no interlace */
	if (!write_chunk(f, chunk, 13))
		goto fail_close;

	/* One IDAT per stored block; the zlib header leads the first, Adler-32 ends the last. */
	while (remaining > 0) {
		uint32_t len = 0;
		memcpy(chunk, "IDAT", 4);
		if (first) {
			chunk[4] = 0x78; /* CM 8 (deflate), CINFO 7 (32 KiB window) */
			chunk[5] = 0x01; /* FLEVEL 0, FCHECK: 0x7801 is a multiple of 31 */
			len = 2;
			first = false;
		}
		uint16_t n = (uint16_t)(remaining < STORED_MAX ? remaining : STORED_MAX);
		uint16_t nlen = (uint16_t)~n;
		bool final = n == remaining;
		uint8_t *hdr = chunk + 4 + len;
		hdr[0] = final ? 1 : 0; /* BFINAL, BTYPE 00; the rest of the byte is padding */
		hdr[1] = (uint8_t)n;
		hdr[2] = (uint8_t)(n >> 8);
		hdr[3] = (uint8_t)nlen;
		hdr[4] = (uint8_t)(nlen >> 8);
		len += 5;
		if (read_scanlines(&lines, chunk + 4 + len, n) != n) {
			errno = EINVAL;
			goto fail_close;
		}
		adler = cr_png_adler32(adler, chunk + 4 + len, n);
		len += n;
		remaining -= n;
		if (final) {
			put_be32(chunk + 4 + len, adler);
			len += 4;
		}
		if (!write_chunk(f, chunk, len))
			goto fail_close;
	}

	if (!write_chunk(f, (const uint8_t *)"IEND", 0))
		goto fail_close;

	if (fclose(f) != 0)
		return false;
	return true;

fail_close:
	err = errno;
	fclose(f);
	errno = err;
	return false;
}
