/* A tiny TAP producer for unit tests (run by `prove`).  One test binary per
 * unit-test file; each ok() is one TAP line.  The plan is printed at the
 * end (done_testing), so tests need not count themselves.
 *
 *     int main(void) {
 *         ok(1 + 1 == 2, "arithmetic");
 *         is_int(f(), 3, "f returns 3");
 *         is_str(buf_str(&b), "x", "buffer holds x");
 *         return done_testing();
 *     }
 *
 * skip(n, why) prints "ok N # SKIP why": a skip always says why. */
#ifndef T_TAP_H
#define T_TAP_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int tap__n, tap__failed;

static inline __attribute__((format(printf, 2, 3))) int ok(int cond, const char *fmt, ...)
{
	va_list ap;
	printf("%sok %d - ", cond ? "" : "not ", ++tap__n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (!cond)
		tap__failed++;
	fflush(stdout);
	return cond;
}

#define diag(...) (printf("# "), printf(__VA_ARGS__), printf("\n"))

#define is_int(got, want, ...) do { \
	long long g__ = (long long)(got), w__ = (long long)(want); \
	if (!ok(g__ == w__, __VA_ARGS__)) \
		diag("  got %lld, want %lld  (%s:%d)", g__, w__, __FILE__, __LINE__); \
} while (0)

#define is_str(got, want, ...) do { \
	const char *g__ = (got), *w__ = (want); \
	int eq__ = (g__ && w__) ? strcmp(g__, w__) == 0 : g__ == w__; \
	if (!ok(eq__, __VA_ARGS__)) \
		diag("  got \"%s\", want \"%s\"  (%s:%d)", g__ ? g__ : "(null)", \
		     w__ ? w__ : "(null)", __FILE__, __LINE__); \
} while (0)

#define is_mem(got, want, n, ...) ok(memcmp((got), (want), (n)) == 0, __VA_ARGS__)

static inline void skip(int n, const char *why)
{
	while (n-- > 0)
		printf("ok %d # SKIP %s\n", ++tap__n, why);
}

static inline int done_testing(void)
{
	printf("1..%d\n", tap__n);
	return tap__failed ? 1 : 0;
}

#endif
