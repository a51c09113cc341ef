/*
 * fuzz_sign_call.c - libFuzzer target for src/sign_call.c: the checks,
 * X-Amz-Date from `time` and the signing that core.sign and LuaJIT's FFI
 * path share (every field comes from a Lua caller: any type, any bytes).
 *
 * Build and run: `make fuzz` (or build/fuzz/fuzz_sign_call after it, on a
 * copy of spec/fuzz/corpus/sign_call/).
 *
 * Input layout, one record per slot in slot order (method ... time), then
 * the headers. A record is one selector byte, then its data:
 *   0, 7  the slot's ordinary value (method "POST", path "/", ... time
 *         absent), no data; so is every slot once the input runs out
 *   1     nil
 *   2     a string: the bytes up to 0x1D (or the end), any byte allowed
 *   3     a boolean: one byte, its low bit
 *   4     a number: 8 bytes, a double as they lie (NaN, infinities, -0...)
 *   5     a value of another type (a table, a function)
 *   6     a number: 5 bytes, an integer in 0 .. 2^40 - 1 (epoch seconds
 *         on both sides of year 9999)
 * The rest is the headers: lines separated by 0x1E, name and value by 0x1F
 * (or the first ':'), after a Host header.
 *
 * Checks, against a model written here from the rules sign_call.h states
 * (not from its code): the outcome (0, 1 or -1) and, on 1, the field the
 * model expects to fail first; on 0, the X-Amz-Date (epoch seconds turned
 * into a date by this file's own civil calendar, not gmtime), the
 * Authorization's shape from the views, the added headers, the stages flag
 * and the same answer from a second call; on -1, a validation error with a
 * message. Strings are copied with a NUL after them, as Lua keeps them.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../c/sign_call_expect.h"
#include "fuzz_check.h"
#include "sign_call.h"

#define MAX_FUZZ_HEADERS 32
#define STR_SEP 0x1d
#define LINE_SEP 0x1e
#define NAME_SEP 0x1f

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct fsx_sigv4_cache *cache;

/* The ordinary value of each slot: enough for a call that signs. */
static const char *const ordinary[FSX_SIGN_SLOTS] = {
    "POST",
    "/",
    "",
    "{\"FileSystemId\":\"fs-1\"}",
    NULL,
    "us-east-1",
    "fsx",
    "AKIDEXAMPLE",
    "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
    NULL,
    NULL,
    NULL,
    NULL,
    NULL,
    NULL,
    NULL,
};

/* The model's rules (sign_call.h), written out again. */
enum want { W_NONEMPTY, W_STRING, W_BOOL, W_TIME };
static const enum want want[FSX_SIGN_SLOTS] = {
    W_NONEMPTY, W_NONEMPTY, W_STRING, W_STRING, W_STRING, W_NONEMPTY, W_NONEMPTY, W_NONEMPTY,
    W_NONEMPTY, W_STRING,   W_STRING, W_BOOL,   W_BOOL,   W_BOOL,     W_BOOL,     W_TIME,
};

static int is_string(const struct fsx_sign_value *v)
{
    return v->type == FSX_SIGN_STRING;
}

static int num2(const char *s)
{
    return (s[0] - '0') * 10 + (s[1] - '0');
}

/* YYYYMMDDTHHMMSSZ, digits in their places, each field in its range */
static int date_shaped(const char *s, size_t len)
{
    size_t i;
    if (len != 16 || s[8] != 'T' || s[15] != 'Z')
        return 0;
    for (i = 0; i < 15; i++)
        if (i != 8 && (s[i] < '0' || s[i] > '9'))
            return 0;
    return num2(s + 4) >= 1 && num2(s + 4) <= 12 && num2(s + 6) >= 1 && num2(s + 6) <= 31 &&
           num2(s + 9) <= 23 && num2(s + 11) <= 59 && num2(s + 13) <= 60;
}

/* The slot the model expects to fail first, or -1 when every check passes. */
static int model_failure(const struct fsx_sign_call *c)
{
    const struct fsx_sign_value *v = c->v;
    const struct fsx_sign_value *t = &v[FSX_SIGN_TIME];
    size_t i;
    int k;

    for (i = 0; i < N_EXPECT_CSTRING_SLOTS; i++) {
        const struct fsx_sign_value *s = &v[expect_cstring_slots[i]];
        if (is_string(s) && memchr(s->s, '\0', s->len) != NULL)
            return expect_cstring_slots[i];
    }
    for (k = 0; k < FSX_SIGN_SLOTS; k++) {
        int ty = v[k].type, ok;
        switch (want[k]) {
        case W_NONEMPTY:
            ok = ty == FSX_SIGN_STRING && v[k].len > 0;
            break;
        case W_STRING:
            ok = ty == FSX_SIGN_STRING || ty == FSX_SIGN_NIL;
            break;
        case W_BOOL:
            ok = ty == FSX_SIGN_BOOLEAN || ty == FSX_SIGN_NIL;
            break;
        default:
            ok = ty == FSX_SIGN_NUMBER || ty == FSX_SIGN_STRING || ty == FSX_SIGN_NIL;
            break;
        }
        if (!ok)
            return k;
    }
    if (is_string(&v[FSX_SIGN_AMZ_DATE]))
        return -1;
    if (is_string(t) && !date_shaped(t->s, t->len))
        return FSX_SIGN_TIME;
    /* year 9999 ends at 253402300800 s; NaN compares false */
    if (t->type == FSX_SIGN_NUMBER && !(t->num >= 0 && t->num < 253402300800.0))
        return FSX_SIGN_TIME;
    return -1;
}

/* "YYYYMMDDTHHMMSSZ" of whole epoch seconds, by the proleptic Gregorian calendar. */
static void civil_date(long long secs, char out[17])
{
    long long days = secs / 86400, rem = secs % 86400;
    long long year = 1970;
    int month = 0, leap;
    static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

    for (;;) {
        long long ylen;
        leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
        ylen = leap ? 366 : 365;
        if (days < ylen)
            break;
        days -= ylen;
        year++;
    }
    for (;;) {
        int mlen = mdays[month] + (month == 1 && leap);
        if (days < mlen)
            break;
        days -= mlen;
        month++;
    }
    snprintf(out, 17, "%04lld%02d%02lldT%02lld%02lld%02lldZ", year, month + 1, days + 1, rem / 3600,
             rem / 60 % 60, rem % 60);
}

static void check_date(const struct fsx_sign_call *c, long long before, long long after)
{
    const struct fsx_sign_value *d = &c->v[FSX_SIGN_AMZ_DATE], *t = &c->v[FSX_SIGN_TIME];
    char want_date[17], hi[17];

    CHECK(c->amz_date != NULL);
    if (is_string(d)) {
        CHECK(c->amz_date == d->s);
        return;
    }
    if (is_string(t)) {
        CHECK(c->amz_date == t->s);
        return;
    }
    CHECK(strlen(c->amz_date) == 16);
    if (t->type == FSX_SIGN_NUMBER) {
        civil_date((long long)t->num, want_date);
        CHECK(strcmp(c->amz_date, want_date) == 0);
        return;
    }
    /* absent: the clock, read between before and after */
    civil_date(before, want_date);
    civil_date(after, hi);
    CHECK(strcmp(c->amz_date, want_date) >= 0 && strcmp(c->amz_date, hi) <= 0);
}

static void check_signed(const struct fsx_sign_call *c)
{
    const char *auth = c->out[FSX_SIGN_OUT_AUTHORIZATION];
    size_t alen = c->out_len[FSX_SIGN_OUT_AUTHORIZATION];
    const char *sh = c->out[FSX_SIGN_OUT_SIGNED_HEADERS];
    size_t shlen = c->out_len[FSX_SIGN_OUT_SIGNED_HEADERS], i;
    char prefix[1024];
    int n;

    n = snprintf(prefix, sizeof(prefix),
                 "AWS4-HMAC-SHA256 Credential=%s/%.8s/%s/%s/aws4_request, SignedHeaders=",
                 c->v[FSX_SIGN_ACCESS_KEY_ID].s, c->amz_date, c->v[FSX_SIGN_REGION].s,
                 c->v[FSX_SIGN_SERVICE].s);
    CHECK(n > 0);
    if ((size_t)n < sizeof(prefix)) {
        CHECK(alen == (size_t)n + shlen + 12 + 64);
        CHECK(memcmp(auth, prefix, (size_t)n) == 0);
    }
    CHECK(alen > shlen + 12 + 64);
    CHECK(memcmp(auth + alen - 76 - shlen, sh, shlen) == 0);
    CHECK(memcmp(auth + alen - 76, ", Signature=", 12) == 0);
    CHECK(c->out_len[FSX_SIGN_OUT_SIGNATURE] == 64 &&
          fuzz_hex_lower(c->out[FSX_SIGN_OUT_SIGNATURE], 64));
    CHECK(memcmp(auth + alen - 64, c->out[FSX_SIGN_OUT_SIGNATURE], 64) == 0);
    CHECK(c->out_len[FSX_SIGN_OUT_PAYLOAD_HASH] == 64 &&
          fuzz_hex_lower(c->out[FSX_SIGN_OUT_PAYLOAD_HASH], 64));
    CHECK(c->n_added <= 3);
    for (i = 0; i < c->n_added; i++) {
        const struct fsx_sigv4_header *h = &c->added[i];
        CHECK((h->name_len == 10 && memcmp(h->name, "X-Amz-Date", 10) == 0 && h->value_len == 16 &&
               memcmp(h->value, c->amz_date, 16) == 0) ||
              (h->name_len == 20 && memcmp(h->name, "X-Amz-Security-Token", 20) == 0) ||
              (h->name_len == 20 && memcmp(h->name, "x-amz-content-sha256", 20) == 0 &&
               h->value_len == 64));
    }
}

/* A copy of n bytes with a NUL after them (freed with the call). */
static const char *keep(char **pool, int *used, const char *s, size_t n)
{
    char *p = (char *)malloc(n + 1);
    if (p == NULL)
        abort();
    memcpy(p, s, n);
    p[n] = '\0';
    pool[(*used)++] = p;
    return p;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fsx_sigv4_header headers[MAX_FUZZ_HEADERS];
    struct fsx_sigv4_result res;
    struct fsx_sign_call c, again;
    char *pool[FSX_SIGN_SLOTS];
    const uint8_t *p = data, *end = data + size;
    long long before, after;
    size_t nh = 0;
    int k, used = 0, rc, expect;

    if (cache == NULL && (cache = fsx_sigv4_cache_new()) == NULL)
        abort();
    memset(&c, 0, sizeof(c));
    for (k = 0; k < FSX_SIGN_SLOTS; k++) {
        struct fsx_sign_value *v = &c.v[k];
        int sel = p < end ? *p++ % 8 : 0;
        if (sel == 0 || sel == 7) {
            if (ordinary[k] != NULL) {
                v->type = FSX_SIGN_STRING;
                v->s = ordinary[k];
                v->len = strlen(ordinary[k]);
            }
        } else if (sel == 2) {
            const uint8_t *q = p;
            while (q < end && *q != STR_SEP)
                q++;
            v->type = FSX_SIGN_STRING;
            v->len = (size_t)(q - p);
            v->s = keep(pool, &used, (const char *)p, v->len);
            p = q < end ? q + 1 : end;
        } else if (sel == 3) {
            v->type = FSX_SIGN_BOOLEAN;
            v->num = p < end ? (*p++ & 1) : 0;
        } else if (sel == 4) {
            double d = 0;
            if (end - p >= 8) {
                memcpy(&d, p, 8);
                p += 8;
            }
            v->type = FSX_SIGN_NUMBER;
            v->num = d;
        } else if (sel == 5) {
            v->type = FSX_SIGN_OTHER;
        } else if (sel == 6) {
            long long x = 0;
            int i;
            for (i = 0; i < 5 && p < end; i++)
                x = x * 256 + *p++;
            v->type = FSX_SIGN_NUMBER;
            v->num = (double)x;
        } /* 1: nil, as memset left it */
    }
    headers[nh].name = "Host";
    headers[nh].name_len = 4;
    headers[nh].value = "fsx.us-east-1.amazonaws.com";
    headers[nh++].value_len = 27;
    while (p < end && nh < MAX_FUZZ_HEADERS) {
        const uint8_t *line = p, *q = p, *split;
        while (q < end && *q != LINE_SEP)
            q++;
        for (split = line; split < q && *split != NAME_SEP; split++)
            ;
        if (split == q)
            for (split = line; split < q && *split != ':'; split++)
                ;
        headers[nh].name = (const char *)line;
        headers[nh].name_len = (size_t)(split - line);
        headers[nh].value = (const char *)(split < q ? split + 1 : q);
        headers[nh].value_len = split < q ? (size_t)(q - split - 1) : 0;
        nh++;
        p = q < end ? q + 1 : end;
    }
    c.headers = headers;
    c.n_headers = nh;
    again = c;

    expect = model_failure(&c);
    fsx_sigv4_result_init(&res);
    before = (long long)time(NULL);
    rc = fsx_sign_call_run(&c, cache, &res);
    after = (long long)time(NULL);
    if (expect >= 0) {
        CHECK(rc == 1);
        CHECK(c.field != NULL && strcmp(c.field, fsx_sign_slot_names[expect]) == 0);
        CHECK(c.what != NULL && c.what[0] != '\0');
    } else if (rc == -1) {
        /* the signer refused what the checks let through (a header, the date) */
        CHECK(c.err.kind == FSX_ERR_VALIDATION && c.err.message[0] != '\0');
        CHECK(c.amz_date != NULL);
    } else {
        CHECK(rc == 0);
        check_date(&c, before, after);
        check_signed(&c);
        CHECK(c.stages ==
              (c.v[FSX_SIGN_STAGES].type == FSX_SIGN_BOOLEAN ? c.v[FSX_SIGN_STAGES].num != 0 : 1));
        /* the same call again signs the same (through the warm cache); a
         * request without its own date may cross a second: compare then
         * only when the dates agree. The views point into res, which the
         * second call overwrites: keep a copy of the first answer. */
        {
            size_t alen = c.out_len[FSX_SIGN_OUT_AUTHORIZATION];
            char *first = (char *)malloc(alen + 1), *date = strdup(c.amz_date);
            if (first == NULL || date == NULL)
                abort();
            memcpy(first, c.out[FSX_SIGN_OUT_AUTHORIZATION], alen);
            rc = fsx_sign_call_run(&again, cache, &res);
            CHECK(rc == 0);
            if (strcmp(again.amz_date, date) == 0)
                CHECK(again.out_len[FSX_SIGN_OUT_AUTHORIZATION] == alen &&
                      memcmp(again.out[FSX_SIGN_OUT_AUTHORIZATION], first, alen) == 0);
            free(first);
            free(date);
        }
    }
    fsx_sigv4_result_free(&res);
    while (used > 0)
        free(pool[--used]);
    return 0;
}
