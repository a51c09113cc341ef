/*
 * test_buf.c - unit cases for the growable byte buffer (src/buf.c).
 *
 * Table-driven, no Lua: the empty state, appends of every kind, growth
 * across many reallocations, hex encoding, reset keeping the allocation,
 * overflow refusal leaving the buffer intact, and secure/idempotent free.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "test_util.h"

struct hex_case {
    const char *name;
    const unsigned char *data;
    size_t len;
    const char *want;
};

static const unsigned char hex_all[] = {0x00, 0x01, 0x7f, 0x80, 0xab, 0xcd, 0xef, 0xff};
static const unsigned char hex_one[] = {0x0f};

static const struct hex_case hex_cases[] = {
    {"hex of nothing", hex_all, 0, ""},
    {"hex of one byte", hex_one, 1, "0f"},
    {"hex of mixed bytes", hex_all, sizeof(hex_all), "00017f80abcdefff"},
};

static void test_empty(void)
{
    struct fsx_buf b;

    fsx_buf_init(&b);
    tu_ok(b.data == NULL && b.len == 0 && b.cap == 0, "init is empty", "not empty");
    tu_expect_str("cstr of an empty buffer", fsx_buf_cstr(&b), "");
    tu_ok(fsx_buf_append(&b, "", 0) == 0 && b.data == NULL, "empty append allocates nothing",
          "allocated");
    fsx_buf_reset(&b); /* on a never-used buffer */
    fsx_buf_free(&b);
    fsx_buf_free(&b); /* idempotent */
    fsx_buf_free_secure(&b);
    tu_ok(b.data == NULL && b.len == 0 && b.cap == 0, "free is idempotent", "state left");
}

static void test_appends(void)
{
    struct fsx_buf b;
    size_t i;

    fsx_buf_init(&b);
    tu_ok(fsx_buf_append(&b, "ab", 2) == 0 && fsx_buf_append_str(&b, "cd") == 0 &&
              fsx_buf_append_char(&b, 'e') == 0 && fsx_buf_append(&b, "f\0g", 3) == 0,
          "appends succeed", "failed");
    tu_ok(b.len == 8 && memcmp(b.data, "abcdef\0g", 8) == 0 && b.data[8] == '\0',
          "appends concatenate, NUL-terminated", "len %lu", (unsigned long)b.len);
    for (i = 0; i < sizeof(hex_cases) / sizeof(hex_cases[0]); i++) {
        fsx_buf_reset(&b);
        fsx_buf_append_hex(&b, hex_cases[i].data, hex_cases[i].len);
        tu_expect_str(hex_cases[i].name, fsx_buf_cstr(&b), hex_cases[i].want);
    }
    fsx_buf_reset(&b);
    fsx_buf_append_str(&b, "x=");
    fsx_buf_append_hex(&b, hex_all, 2);
    tu_expect_str("hex appends after content", fsx_buf_cstr(&b), "x=0001");
    fsx_buf_free(&b);
}

static void test_growth(void)
{
    struct fsx_buf b;
    size_t i, cap;
    int ok = 1;

    fsx_buf_init(&b);
    /* one byte at a time through many doublings, content checked at the end */
    for (i = 0; i < 100000; i++)
        ok &= fsx_buf_append_char(&b, (char)('a' + i % 26)) == 0;
    for (i = 0; i < 100000 && ok; i++)
        ok = b.data[i] == (char)('a' + i % 26);
    tu_ok(ok && b.len == 100000 && b.data[b.len] == '\0' && b.cap > b.len,
          "growth by single chars", "len %lu cap %lu", (unsigned long)b.len,
          (unsigned long)b.cap);
    /* a large append in one go */
    {
        char *big = (char *)malloc(1 << 20);

        if (big != NULL) {
            memset(big, 'z', 1 << 20);
            fsx_buf_reset(&b);
            ok = fsx_buf_append(&b, big, 1 << 20) == 0 && b.len == (1u << 20) &&
                 memcmp(b.data, big, 1 << 20) == 0 && b.data[b.len] == '\0';
            tu_ok(ok, "one 1 MiB append", "failed");
            free(big);
        }
    }
    /* reset keeps the allocation, so refilling does not reallocate */
    cap = b.cap;
    fsx_buf_reset(&b);
    tu_ok(b.len == 0 && b.cap == cap && b.data != NULL && fsx_buf_cstr(&b)[0] == '\0',
          "reset keeps the allocation", "cap %lu", (unsigned long)b.cap);
    {
        char *before = b.data;

        fsx_buf_append_str(&b, "again");
        tu_ok(b.data == before && strcmp(b.data, "again") == 0, "reuse after reset",
              "reallocated or wrong");
    }
    /* reserve makes room up front */
    fsx_buf_free(&b);
    tu_ok(fsx_buf_reserve(&b, 1000) == 0 && b.cap >= 1001 && b.len == 0,
          "reserve allocates for len + NUL", "cap %lu", (unsigned long)b.cap);
    fsx_buf_free(&b);
}

static void test_overflow(void)
{
    struct fsx_buf b;

    fsx_buf_init(&b);
    fsx_buf_append_str(&b, "keep");
    tu_ok(fsx_buf_reserve(&b, SIZE_MAX) == -1 && fsx_buf_reserve(&b, SIZE_MAX - 4) == -1,
          "reserve refuses sizes that wrap", "accepted");
    tu_ok(fsx_buf_append_hex(&b, (const unsigned char *)"x", SIZE_MAX / 2 + 1) == -1,
          "hex refuses a length that doubles past SIZE_MAX", "accepted");
    tu_ok(b.len == 4 && strcmp(b.data, "keep") == 0, "failure keeps the contents", "changed");
    fsx_buf_free(&b);
}

static void test_secure_free(void)
{
    struct fsx_buf b;

    fsx_buf_init(&b);
    fsx_buf_append_str(&b, "secret key material");
    fsx_buf_free_secure(&b);
    tu_ok(b.data == NULL && b.len == 0 && b.cap == 0, "secure free resets", "state left");
    fsx_buf_free_secure(&b); /* idempotent, NULL data */
    tu_ok(b.data == NULL, "secure free twice", "state left");
}

/* A buffer that may hold credentials leaves none of its bytes behind. */
static void test_secret(void)
{
    struct fsx_buf b;
    size_t i, zero = 1;
    const char *secret = "X-Amz-Security-Token: SECRETVALUE";
    size_t n = strlen(secret);

    fsx_buf_init_secret(&b);
    tu_ok(b.secret == 1 && b.data == NULL, "secret init is empty and secret", "not");
    tu_ok(fsx_buf_append(&b, secret, n) == 0, "secret append", "failed");
    for (i = 0; i < 200; i++) /* grows through several blocks, each old one wiped */
        if (fsx_buf_append(&b, secret, n) != 0)
            break;
    tu_ok(b.len == 201 * n && memcmp(b.data + 200 * n, secret, n) == 0,
          "secret buffer grows with its contents intact", "len %zu", b.len);
    fsx_buf_reset(&b);
    for (i = 1; i < 201 * n; i++)
        if (b.data[i] != 0)
            zero = 0;
    tu_ok(b.len == 0 && b.data[0] == '\0' && zero, "reset wipes a secret buffer's bytes",
          "bytes left");
    fsx_buf_free(&b);
    tu_ok(b.data == NULL && b.secret == 1, "free keeps the buffer secret for its next use",
          "secret %d", b.secret);
    tu_ok(fsx_buf_append(&b, "x", 1) == 0 && b.secret == 1, "a freed secret buffer is reusable",
          "failed");
    fsx_buf_free_secure(&b);
}

int main(void)
{
    test_secret();
    test_empty();
    test_appends();
    test_growth();
    test_overflow();
    test_secure_free();
    return tu_report("buf");
}
