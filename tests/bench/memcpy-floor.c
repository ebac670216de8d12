/* SPDX-License-Identifier: MIT */
/*
 * The memcpy floor of tools/bench.sh: how long one CPU copy of a frame takes on this machine,
 * the cost every copy on the SHM path adds. Copies SIZE bytes between two buffers touched
 * beforehand (so page faults are not counted), ROUNDS times, and prints the median and the
 * best in milliseconds, and the bandwidth of the median.
 *
 * Usage: memcpy-floor SIZE [ROUNDS]   e.g. memcpy-floor 8294400 (1920x1080 BGRx)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int compare(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	char *end;
	unsigned long long size = argc > 1 ? strtoull(argv[1], &end, 10) : 0;
	unsigned long rounds = argc > 2 ? strtoul(argv[2], NULL, 10) : 50;
	if (argc < 2 || argc > 3 || *end || size == 0 || size > (1ull << 32) || rounds == 0 ||
	    rounds > 100000) {
		fprintf(stderr, "usage: memcpy-floor SIZE [ROUNDS]  (SIZE: 1 to 4294967296 bytes, "
				"ROUNDS: 1 to 100000, default 50)\n");
		return 2;
	}
	uint8_t *src = malloc(size), *dst = malloc(size);
	uint64_t *t = calloc(rounds, sizeof(*t));
	if (!src || !dst || !t) {
		fprintf(stderr, "memcpy-floor: out of memory for %llu bytes\n", size);
		return 1;
	}
	memset(src, 0x5a, size);
	memset(dst, 0, size);
	for (unsigned long i = 0; i < rounds; i++) {
		uint64_t t0 = now_ns();
		memcpy(dst, src, size);
		t[i] = now_ns() - t0;
		/* Keep the copy observable. */
		src[i % size] = dst[(i * 7) % size] + 1;
	}
	qsort(t, rounds, sizeof(*t), compare);
	double median = (double)t[rounds / 2] / 1e6;
	printf("memcpy: bytes=%llu median_ms=%.3f best_ms=%.3f GBps=%.2f\n", size, median,
	       (double)t[0] / 1e6, (double)size / (median * 1e6));
	free(src);
	free(dst);
	free(t);
	return 0;
}
