/*
 * fuzz_check.h - what the libFuzzer targets of spec/fuzz/ share: CHECK, which
 * aborts (libFuzzer then saves the input) when an invariant does not hold,
 * and small predicates on the signer's output.
 */
#ifndef FUZZ_CHECK_H
#define FUZZ_CHECK_H

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "check failed: %s (line %d)\n", #cond, __LINE__);                      \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* n bytes of lowercase hex digits: 1, else 0. */
static inline int fuzz_hex_lower(const char *s, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return 0;
    return 1;
}

#endif
