/* SPDX-License-Identifier: MIT */
#pragma once
/**
 * Minimal check helpers for castrelay's C tests (meson "exitcode" protocol).
 *
 * Every CHECK_* is an expression of type bool: true when the check passed. A failed check
 * prints the file, the line, the expression and the value of both sides to stderr and is
 * recorded; the test goes on. The macros never return, goto or continue (STYLE.md): a test
 * that cannot go on after a failure says so itself, e.g.
 *
 *	struct cr_foo *foo = cr_foo_create();
 *	if (!CHECK(foo != NULL))
 *		return cr_test_result();
 *
 * and main() ends with `return cr_test_result();` (0 when every check passed, 1 otherwise).
 * Exit with CR_TEST_SKIP when the environment lacks something the test needs (reported as
 * skipped, and CI fails on an unexpected skip) and CR_TEST_BROKEN when the test's own setup
 * failed (not a verdict on the code under test).
 *
 * Arguments are evaluated exactly once. Single-threaded: the failure count is not atomic.
 */
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/** Exit status meaning "skipped" for meson and tools/test.sh. */
#define CR_TEST_SKIP 77
/** Exit status meaning "the test's setup is broken" (meson: ERROR). */
#define CR_TEST_BROKEN 99

/** Storage of the counters; one instance per test executable. */
struct cr_test_state {
	unsigned checks;
	unsigned failures;
};

static inline struct cr_test_state *cr_test_state(void)
{
	static struct cr_test_state state;
	return &state;
}

/** Prints a progress line ("# ...") to stdout; use it to name the case being checked. */
__attribute__((format(printf, 1, 2)))
static inline void cr_test_log(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("# ", stdout);
	vprintf(fmt, ap);
	fputc('\n', stdout);
	va_end(ap);
	fflush(stdout);
}

/**
 * Records the outcome of one check; on failure prints "FILE:LINE: check failed: WHAT" and the
 * detail line built from @fmt. Returns @ok.
 */
__attribute__((format(printf, 5, 6)))
static inline bool cr_test_record(bool ok, const char *file, int line, const char *what,
				  const char *fmt, ...)
{
	struct cr_test_state *s = cr_test_state();
	s->checks++;
	if (ok)
		return true;
	s->failures++;
	fflush(stdout);
	fprintf(stderr, "%s:%d: check failed: %s\n", file, line, what);
	if (fmt != NULL) {
		va_list ap;
		va_start(ap, fmt);
		fputs("    ", stderr);
		vfprintf(stderr, fmt, ap);
		fputc('\n', stderr);
		va_end(ap);
	}
	fflush(stderr);
	return false;
}

/** Number of failed checks so far. */
static inline unsigned cr_test_failures(void)
{
	return cr_test_state()->failures;
}

/** Prints the summary; returns the exit status for main(): 0 if every check passed, else 1. */
static inline int cr_test_result(void)
{
	struct cr_test_state *s = cr_test_state();
	if (s->failures == 0) {
		printf("ok: %u checks passed\n", s->checks);
		fflush(stdout);
		return 0;
	}
	fflush(stdout);
	fprintf(stderr, "FAIL: %u of %u checks failed\n", s->failures, s->checks);
	return 1;
}

/** Prints why the test is skipped; returns CR_TEST_SKIP for `return cr_test_skip(...)`. */
__attribute__((format(printf, 1, 2)))
static inline int cr_test_skip(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("SKIP: ", stdout);
	vprintf(fmt, ap);
	fputc('\n', stdout);
	va_end(ap);
	fflush(stdout);
	return CR_TEST_SKIP;
}

/** Prints why the setup is broken; returns CR_TEST_BROKEN. */
__attribute__((format(printf, 1, 2)))
static inline int cr_test_broken(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fflush(stdout);
	fputs("BROKEN: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	return CR_TEST_BROKEN;
}

enum cr_test_cmp { CR_TEST_EQ, CR_TEST_NE, CR_TEST_LT, CR_TEST_LE, CR_TEST_GT, CR_TEST_GE };

static inline const char *cr_test_cmp_str(enum cr_test_cmp op)
{
	static const char *const str[] = { "==", "!=", "<", "<=", ">", ">=" };
	return str[op];
}

#define CR_TEST_CMP_(op, a, b) \
	((op) == CR_TEST_EQ ? (a) == (b) : (op) == CR_TEST_NE ? (a) != (b) : \
	 (op) == CR_TEST_LT ? (a) < (b) : (op) == CR_TEST_LE ? (a) <= (b) : \
	 (op) == CR_TEST_GT ? (a) > (b) : (a) >= (b))

static inline bool cr_test_cmp_int(int64_t a, int64_t b, enum cr_test_cmp op, const char *ea,
				   const char *eb, const char *file, int line)
{
	char what[256];
	snprintf(what, sizeof(what), "%s %s %s", ea, cr_test_cmp_str(op), eb);
	return cr_test_record(CR_TEST_CMP_(op, a, b), file, line, what,
			      "left: %" PRId64 ", right: %" PRId64, a, b);
}

static inline bool cr_test_cmp_uint(uint64_t a, uint64_t b, enum cr_test_cmp op, bool hex,
				    const char *ea, const char *eb, const char *file, int line)
{
	char what[256];
	snprintf(what, sizeof(what), "%s %s %s", ea, cr_test_cmp_str(op), eb);
	if (hex)
		return cr_test_record(CR_TEST_CMP_(op, a, b), file, line, what,
				      "left: 0x%08" PRIx64 ", right: 0x%08" PRIx64, a, b);
	return cr_test_record(CR_TEST_CMP_(op, a, b), file, line, what,
			      "left: %" PRIu64 ", right: %" PRIu64, a, b);
}

static inline bool cr_test_eq_str(const char *a, const char *b, const char *ea, const char *eb,
				  const char *file, int line)
{
	char what[256];
	bool ok = (a == NULL || b == NULL) ? a == b : strcmp(a, b) == 0;
	snprintf(what, sizeof(what), "%s == %s", ea, eb);
	return cr_test_record(ok, file, line, what, "left: %s%s%s, right: %s%s%s",
			      a ? "\"" : "", a ? a : "NULL", a ? "\"" : "",
			      b ? "\"" : "", b ? b : "NULL", b ? "\"" : "");
}

static inline bool cr_test_near(double a, double b, double tol, const char *ea, const char *eb,
				const char *etol, const char *file, int line)
{
	char what[256];
	double diff = fabs(a - b);
	snprintf(what, sizeof(what), "|%s - %s| <= %s", ea, eb, etol);
	return cr_test_record(diff <= tol, file, line, what,
			      "left: %.9g, right: %.9g, difference: %.9g, tolerance: %.9g",
			      a, b, diff, tol);
}

static inline bool cr_test_eq_mem(const void *a, const void *b, size_t len, const char *ea,
				  const char *eb, const char *file, int line)
{
	char what[256];
	const uint8_t *pa = a, *pb = b;
	size_t i = 0;
	while (i < len && pa[i] == pb[i])
		i++;
	snprintf(what, sizeof(what), "memcmp(%s, %s, %zu) == 0", ea, eb, len);
	if (i == len)
		return cr_test_record(true, file, line, what, NULL);
	return cr_test_record(false, file, line, what,
			      "first difference at byte %zu: left 0x%02x, right 0x%02x",
			      i, pa[i], pb[i]);
}

/** @cond is true. */
#define CHECK(cond) \
	cr_test_record((cond) ? true : false, __FILE__, __LINE__, #cond, NULL)
/** @cond is true; on failure also prints the printf-style detail. */
#define CHECK_MSG(cond, ...) \
	cr_test_record((cond) ? true : false, __FILE__, __LINE__, #cond, __VA_ARGS__)

/** Signed integers (compared as int64_t). */
#define CHECK_EQ_INT(a, b) \
	cr_test_cmp_int((int64_t)(a), (int64_t)(b), CR_TEST_EQ, #a, #b, __FILE__, __LINE__)
#define CHECK_NE_INT(a, b) \
	cr_test_cmp_int((int64_t)(a), (int64_t)(b), CR_TEST_NE, #a, #b, __FILE__, __LINE__)
#define CHECK_LT_INT(a, b) \
	cr_test_cmp_int((int64_t)(a), (int64_t)(b), CR_TEST_LT, #a, #b, __FILE__, __LINE__)
#define CHECK_LE_INT(a, b) \
	cr_test_cmp_int((int64_t)(a), (int64_t)(b), CR_TEST_LE, #a, #b, __FILE__, __LINE__)
#define CHECK_GT_INT(a, b) \
	cr_test_cmp_int((int64_t)(a), (int64_t)(b), CR_TEST_GT, #a, #b, __FILE__, __LINE__)
#define CHECK_GE_INT(a, b) \
	cr_test_cmp_int((int64_t)(a), (int64_t)(b), CR_TEST_GE, #a, #b, __FILE__, __LINE__)

/** Unsigned integers (compared as uint64_t); _HEX prints both sides in hexadecimal. */
#define CHECK_EQ_UINT(a, b) \
	cr_test_cmp_uint((uint64_t)(a), (uint64_t)(b), CR_TEST_EQ, false, #a, #b, \
			 __FILE__, __LINE__)
#define CHECK_EQ_HEX(a, b) \
	cr_test_cmp_uint((uint64_t)(a), (uint64_t)(b), CR_TEST_EQ, true, #a, #b, \
			 __FILE__, __LINE__)

/** Strings (NULL equals only NULL). */
#define CHECK_EQ_STR(a, b) cr_test_eq_str((a), (b), #a, #b, __FILE__, __LINE__)

/** |a - b| <= tol, as doubles. */
#define CHECK_NEAR(a, b, tol) \
	cr_test_near((double)(a), (double)(b), (double)(tol), #a, #b, #tol, __FILE__, __LINE__)

/** @len bytes at @a and @b are equal; prints the first differing offset. */
#define CHECK_EQ_MEM(a, b, len) cr_test_eq_mem((a), (b), (len), #a, #b, __FILE__, __LINE__)
