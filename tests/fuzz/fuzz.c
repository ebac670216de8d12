/* SPDX-License-Identifier: MIT */
#include "fuzz.h"

#include <string.h>

enum cr_fuzz_verdict cr_fuzz_verdict;

void cr_fuzz_fail(const char *cond, const char *file, int line)
{
	fprintf(stderr, "fuzz check failed: %s (%s:%d)\n", cond, file, line);
	fflush(stderr);
	abort();
}

uint8_t cr_fuzz_u8(struct cr_fuzz_reader *r)
{
	uint8_t v = 0;
	cr_fuzz_bytes(r, &v, 1);
	return v;
}

uint16_t cr_fuzz_u16(struct cr_fuzz_reader *r)
{
	uint8_t b[2];
	cr_fuzz_bytes(r, b, sizeof(b));
	return (uint16_t)(b[0] | b[1] << 8);
}

uint32_t cr_fuzz_u32(struct cr_fuzz_reader *r)
{
	uint8_t b[4];
	cr_fuzz_bytes(r, b, sizeof(b));
	return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

void cr_fuzz_bytes(struct cr_fuzz_reader *r, void *out, size_t n)
{
	size_t take = n < r->left ? n : r->left;
	if (take)
		memcpy(out, r->p, take);
	memset((uint8_t *)out + take, 0, n - take);
	r->p += take;
	r->left -= take;
}

void cr_fuzz_skip(struct cr_fuzz_reader *r, size_t n)
{
	size_t take = n < r->left ? n : r->left;
	r->p += take;
	r->left -= take;
}
