/*
 * test_util.h - shared helpers of the C unit tests in spec/c (no Lua).
 *
 * Each test program is table-driven: it records one result per case with
 * tu_ok()/tu_expect_*(), prints every failure as it happens, and ends with
 * tu_report(), which prints the summary line "<suite>: N passed, M failed"
 * (the format scripts/test-all.sh reads) and returns the exit status.
 */
#ifndef FSX_TEST_UTIL_H
#define FSX_TEST_UTIL_H

#include <stddef.h>

extern int tu_passed;
extern int tu_failed;

/* Record one case: ok != 0 passes; on failure prints "FAIL <name>: <fmt...>". */
void tu_ok(int ok, const char *name, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/*
 * Compare got[0..got_len) with want[0..want_len) without recording anything;
 * on a mismatch print where they differ (prefixed by name and what) and
 * return 0; return 1 when equal. Used to build one case out of several stages.
 */
int tu_same(const char *name, const char *what, const char *got, size_t got_len,
            const char *want, size_t want_len);

/* tu_same on NUL-terminated strings, recorded as one case. */
void tu_expect_str(const char *name, const char *got, const char *want);

/* Record one case checking an int. */
void tu_expect_int(const char *name, long got, long want);

/*
 * Read a whole file into a malloc'ed, NUL-terminated buffer (len excludes
 * the NUL). NULL when it cannot be read. The caller frees it.
 */
char *tu_read_file(const char *path, size_t *len);

/* Print "<suite>: N passed, M failed"; return 0 when nothing failed, else 1. */
int tu_report(const char *suite);

#endif
