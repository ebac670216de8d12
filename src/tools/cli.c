/* SPDX-License-Identifier: MIT */
#include "cli.h"

#include <stdio.h>
#include <string.h>

/* Consumes the decimal digits at *s; fails on no digits or a value above @max. */
static bool take_number(const char **s, uint32_t max, uint32_t *out)
{
	const char *p = *s;
	uint64_t v = 0;

	if (*p < '0' || *p > '9')
		return false;
	for (; *p >= '0' && *p <= '9'; p++) {
		v = v * 10 + (uint64_t)(*p - '0');
		if (v > max)
			return false;
	}
	*s = p;
	*out = (uint32_t)v;
	return true;
}

bool cr_cli_parse_u32(const char *prog, const char *option, const char *text, uint32_t min,
		      uint32_t max, uint32_t *out)
{
	const char *p = text;
	uint32_t v;

	if (!take_number(&p, max, &v) || *p != '\0' || v < min) {
		fprintf(stderr, "%s: invalid %s value '%s': expected an integer from %u to %u\n",
			prog, option, text, min, max);
		return false;
	}
	*out = v;
	return true;
}

bool cr_cli_parse_size(const char *prog, const char *option, const char *text, uint32_t *width,
		       uint32_t *height)
{
	const char *p = text;
	uint32_t w, h;

	if (!take_number(&p, CR_CLI_MAX_DIMENSION, &w) || *p++ != 'x' ||
	    !take_number(&p, CR_CLI_MAX_DIMENSION, &h) || *p != '\0' || w == 0 || h == 0) {
		fprintf(stderr, "%s: invalid %s value '%s': expected WIDTHxHEIGHT, e.g. 640x480, "
			"each from 1 to %u\n", prog, option, text, CR_CLI_MAX_DIMENSION);
		return false;
	}
	*width = w;
	*height = h;
	return true;
}

bool cr_cli_parse_rect(const char *prog, const char *option, const char *text, uint32_t rect[4])
{
	const char *p = text;
	uint32_t v[4];
	bool ok = true;

	for (int i = 0; i < 4 && ok; i++) {
		ok = take_number(&p, CR_CLI_MAX_DIMENSION, &v[i]) && *p == (i < 3 ? ',' : '\0');
		p++;
	}
	if (!ok || v[2] == 0 || v[3] == 0 || v[0] + v[2] > CR_CLI_MAX_DIMENSION ||
	    v[1] + v[3] > CR_CLI_MAX_DIMENSION) {
		fprintf(stderr, "%s: invalid %s value '%s': expected X,Y,WIDTH,HEIGHT, e.g. "
			"0,0,320,240, with WIDTH and HEIGHT at least 1\n", prog, option, text);
		return false;
	}
	memcpy(rect, v, sizeof(v));
	return true;
}
