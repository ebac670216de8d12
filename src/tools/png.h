/* SPDX-License-Identifier: MIT */
#pragma once
/**
 * A minimal PNG writer for the test tools: 8-bit RGB, no interlace, filter 0 on every row, and
 * a zlib stream made of stored (uncompressed) deflate blocks. Files are therefore about
 * width * height * 3 bytes, but the encoder needs no zlib and is easy to check by eye.
 * Specifications: PNG (ISO/IEC 15948, W3C), RFC 1950 (zlib), RFC 1951 §3.2.4 (stored blocks).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/**
 * Writes @rgb as a PNG file at @path (created or truncated, mode 0666 & ~umask).
 * @rgb: @height rows of @width * 3 bytes (R, G, B), @stride bytes apart; borrowed.
 * @width, @height: at least 1.
 * Returns false with errno set when the file cannot be created or written; a partial file may
 * be left behind. Allocates nothing beyond stdio's buffer; uses about 64 KiB of stack.
 */
bool cr_png_write_rgb(const char *path, uint32_t width, uint32_t height, const uint8_t *rgb,
		      size_t stride);

/**
 * CRC-32 as used by PNG chunks (ISO 3309, reflected polynomial 0xedb88320), continuing from
 * @crc over @len bytes of @data. Start with @crc = 0. Pure.
 */
uint32_t cr_png_crc32(uint32_t crc, const void *data, size_t len);

/** Adler-32 of RFC 1950, continuing from @adler over @len bytes. Start with @adler = 1. */
uint32_t cr_png_adler32(uint32_t adler, const void *data, size_t len);
