/*
 * test_util.c - shared helpers of the C unit tests in spec/c (no Lua).
 *
 * Failure output escapes control characters so a difference in a canonical
 * request (newlines, tabs) is visible on one line.
 */
#include "test_util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int tu_passed = 0;
int tu_failed = 0;

void tu_ok(int ok, const char *name, const char *fmt, ...)
{
    va_list ap;

    if (ok) {
        tu_passed++;
        return;
    }
    tu_failed++;
    printf("FAIL %s: ", name);
    if (fmt != NULL) {
        va_start(ap, fmt);
        vprintf(fmt, ap);
        va_end(ap);
    }
    printf("\n");
}

/* Print s[0..len) with \n, \r, \t and other bytes < 0x20 or >= 0x7f escaped. */
static void print_escaped(const char *s, size_t len)
{
    size_t i;

    putchar('"');
    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];

        if (c == '\n')
            fputs("\\n", stdout);
        else if (c == '\r')
            fputs("\\r", stdout);
        else if (c == '\t')
            fputs("\\t", stdout);
        else if (c == '"' || c == '\\')
            printf("\\%c", c);
        else if (c < 0x20 || c >= 0x7f)
            printf("\\x%02x", c);
        else
            putchar(c);
    }
    putchar('"');
}

int tu_same(const char *name, const char *what, const char *got, size_t got_len,
            const char *want, size_t want_len)
{
    size_t i = 0;

    if (got == NULL)
        got = "";
    if (want == NULL)
        want = "";
    if (got_len == want_len && memcmp(got, want, got_len) == 0)
        return 1;
    while (i < got_len && i < want_len && got[i] == want[i])
        i++;
    printf("  %s: %s differs at byte %lu\n    got:  ", name, what, (unsigned long)i);
    print_escaped(got, got_len);
    printf("\n    want: ");
    print_escaped(want, want_len);
    printf("\n");
    return 0;
}

void tu_expect_str(const char *name, const char *got, const char *want)
{
    int ok;

    if (got == NULL)
        got = "(null)";
    ok = tu_same(name, "value", got, strlen(got), want, strlen(want));
    tu_ok(ok, name, "string mismatch");
}

void tu_expect_int(const char *name, long got, long want)
{
    tu_ok(got == want, name, "got %ld, want %ld", got, want);
}

char *tu_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *data = NULL, *p;
    size_t n = 0, cap = 0, r;

    if (f == NULL)
        return NULL;
    for (;;) {
        if (cap - n < 4096) {
            cap = cap == 0 ? 8192 : cap * 2;
            p = (char *)realloc(data, cap + 1);
            if (p == NULL) {
                free(data);
                fclose(f);
                return NULL;
            }
            data = p;
        }
        r = fread(data + n, 1, cap - n, f);
        n += r;
        if (r == 0)
            break;
    }
    if (ferror(f)) {
        free(data);
        fclose(f);
        return NULL;
    }
    fclose(f);
    data[n] = '\0';
    if (len != NULL)
        *len = n;
    return data;
}

int tu_report(const char *suite)
{
    printf("%s: %d passed, %d failed\n", suite, tu_passed, tu_failed);
    return tu_failed == 0 ? 0 : 1;
}
