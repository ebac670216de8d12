/* SPDX-License-Identifier: MIT */
#pragma once
/**
 * The fuzz targets' common part. Each tests/fuzz/fuzz-NAME.c defines LLVMFuzzerTestOneInput()
 * over code that the daemon runs (linked from the same static libraries). With -Dfuzz=enabled
 * (clang) it is linked with libFuzzer; in every build it is also linked with seeds.c, a main()
 * that feeds it each file of its seed corpus tests/fuzz/NAME/ (the unit suite).
 *
 * A target checks what must hold of the parser's result with CR_FUZZ_CHECK (a failure prints
 * the condition and abort()s: libFuzzer reports it as a crash and keeps the input) and says
 * through cr_fuzz_verdict whether the input was accepted; what "accepted" means is said in the
 * target's header comment. seeds.c compares it with the seed's name: valid-* seeds must be
 * accepted, invalid-* seeds rejected, any other name (edge-*, crash-*) only has to pass the
 * checks.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

enum cr_fuzz_verdict {
	CR_FUZZ_NONE,     /**< not set by the target */
	CR_FUZZ_ACCEPTED,
	CR_FUZZ_REJECTED,
};

/** Set by LLVMFuzzerTestOneInput() for each input; seeds.c resets it before each. */
extern enum cr_fuzz_verdict cr_fuzz_verdict;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/** Prints "fuzz check failed: COND (FILE:LINE)" and aborts. */
__attribute__((noreturn)) void cr_fuzz_fail(const char *cond, const char *file, int line);

/** Aborts (libFuzzer: a crash, the input kept) when @cond does not hold. */
#define CR_FUZZ_CHECK(cond) ((cond) ? (void)0 : cr_fuzz_fail(#cond, __FILE__, __LINE__))

/**
 * Little-endian fields read from a fuzz input: what is missing reads as zero, so every input
 * decodes into something (the encodings are documented per target and written by
 * make-seeds.c).
 */
struct cr_fuzz_reader {
	const uint8_t *p;
	size_t left;
};

uint8_t cr_fuzz_u8(struct cr_fuzz_reader *r);
uint16_t cr_fuzz_u16(struct cr_fuzz_reader *r);
uint32_t cr_fuzz_u32(struct cr_fuzz_reader *r);

/** Copies up to @n bytes into @out, zero-filling what the input lacks. */
void cr_fuzz_bytes(struct cr_fuzz_reader *r, void *out, size_t n);

/** Skips up to @n bytes. */
void cr_fuzz_skip(struct cr_fuzz_reader *r, size_t n);
