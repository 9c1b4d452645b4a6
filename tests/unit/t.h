/*
 * t.h - a minimal TAP test helper for unit tests.
 *
 * T_OK(cond, name...) prints "ok - name" or "not ok - name (file:line)".
 * T_STR(got, want, name...) compares strings and shows both on failure.
 * T_INT(got, want, name...) compares integers.
 * Finish main() with "return t_done();" (exit 1 if anything failed).
 */
#ifndef TM_T_H
#define TM_T_H
#include <stdio.h>
#include <string.h>
static int t_failed_, t_count_;
#define T_OK(cond, ...) do { t_count_++; if (cond) { printf("ok %d - ", t_count_); } else { t_failed_++; printf("not ok %d - ", t_count_); } \
	printf(__VA_ARGS__); if (!(cond)) printf(" (%s:%d)", __FILE__, __LINE__); printf("\n"); } while (0)
#define T_STR(got, want, ...) do { const char *g_ = (got), *w_ = (want); int c_ = g_ && w_ && strcmp(g_, w_) == 0; \
	T_OK(c_, __VA_ARGS__); if (!c_) printf("#   got:  \"%s\"\n#   want: \"%s\"\n", g_ ? g_ : "(null)", w_ ? w_ : "(null)"); } while (0)
#define T_INT(got, want, ...) do { long long g_ = (long long)(got), w_ = (long long)(want); \
	T_OK(g_ == w_, __VA_ARGS__); if (g_ != w_) printf("#   got:  %lld\n#   want: %lld\n", g_, w_); } while (0)
static inline int t_done(void) { printf("# %d tests, %d failed\n", t_count_, t_failed_); return t_failed_ ? 1 : 0; }
#endif
