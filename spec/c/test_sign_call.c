/*
 * test_sign_call.c - unit cases for src/sign_call.c, the checks and the
 * signing that core.sign and LuaJIT's FFI share.
 *
 * Table-driven, no Lua. A call is built from typed values the way a reader
 * fills it; each case checks the first failure reported (field and what it
 * must be) or the signed result. The signature of the valid request is the
 * one the AWS SigV4 test suite gives for get-vanilla (its request, date and
 * example credentials), so the checked values reach the signer intact.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "sign_call.h"
#include "sign_call_expect.h"
#include "test_util.h"

#define DATE "20150830T123600Z"
#define EPOCH 1440938160.0 /* DATE as epoch seconds */
#define VANILLA_SIG "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
#define TIME_FORMS "must be epoch seconds or \"YYYYMMDDTHHMMSSZ\""

static const struct fsx_sigv4_header host = {"Host", 4, "example.amazonaws.com", 21};

static void set_str(struct fsx_sign_call *c, int slot, const char *s, size_t len)
{
    c->v[slot].type = FSX_SIGN_STRING;
    c->v[slot].s = s;
    c->v[slot].len = len;
}

static void set_cstr(struct fsx_sign_call *c, int slot, const char *s)
{
    set_str(c, slot, s, strlen(s));
}

static void set_num(struct fsx_sign_call *c, int slot, int type, double num)
{
    c->v[slot].type = type;
    c->v[slot].s = NULL;
    c->v[slot].len = 0;
    c->v[slot].num = num;
}

/* get-vanilla, every optional field absent but amz_date. */
static void vanilla(struct fsx_sign_call *c)
{
    memset(c, 0, sizeof(*c));
    set_cstr(c, FSX_SIGN_METHOD, "GET");
    set_cstr(c, FSX_SIGN_PATH, "/");
    set_cstr(c, FSX_SIGN_REGION, "us-east-1");
    set_cstr(c, FSX_SIGN_SERVICE, "service");
    set_cstr(c, FSX_SIGN_ACCESS_KEY_ID, "AKIDEXAMPLE");
    set_cstr(c, FSX_SIGN_SECRET_ACCESS_KEY, "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY");
    set_cstr(c, FSX_SIGN_AMZ_DATE, DATE);
    c->headers = &host;
    c->n_headers = 1;
}

static struct fsx_sigv4_cache *cache;
static struct fsx_sigv4_result res;

/* Run c; expect a check failure naming field with what. */
static void expect_fail(const char *name, struct fsx_sign_call *c, const char *field,
                        const char *what)
{
    int rc = fsx_sign_call_run(c, cache, &res);
    tu_ok(rc == 1 && c->field != NULL && strcmp(c->field, field) == 0 && c->what != NULL &&
              strcmp(c->what, what) == 0,
          name, "rc %d, field %s, what %s (want %s %s)", rc, c->field ? c->field : "(none)",
          c->what ? c->what : "(none)", field, what);
}

/* Run c; expect the get-vanilla signature with X-Amz-Date date. */
static void expect_vanilla(const char *name, struct fsx_sign_call *c, const char *date)
{
    int rc = fsx_sign_call_run(c, cache, &res);
    int ok = rc == 0 && c->out_len[FSX_SIGN_OUT_SIGNATURE] == 64 &&
             memcmp(c->out[FSX_SIGN_OUT_SIGNATURE], VANILLA_SIG, 64) == 0 &&
             memcmp(c->amz_date, date, 16) == 0;
    tu_ok(ok, name, "rc %d, field %s %s", rc, c->field ? c->field : "-", c->what ? c->what : "-");
}

static void test_valid(void)
{
    struct fsx_sign_call c;
    const char *auth;
    char want_auth[256];

    vanilla(&c);
    expect_vanilla("vanilla", &c, DATE);
    auth = c.out[FSX_SIGN_OUT_AUTHORIZATION];
    (void)snprintf(want_auth, sizeof(want_auth),
                   "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/"
                   "aws4_request, SignedHeaders=host;x-amz-date, Signature=%s",
                   VANILLA_SIG);
    tu_ok(c.out_len[FSX_SIGN_OUT_AUTHORIZATION] == strlen(want_auth) &&
              memcmp(auth, want_auth, strlen(want_auth)) == 0,
          "authorization view", "got %.*s", (int)c.out_len[FSX_SIGN_OUT_AUTHORIZATION], auth);
    tu_ok(c.out_len[FSX_SIGN_OUT_SIGNED_HEADERS] == 15 &&
              memcmp(c.out[FSX_SIGN_OUT_SIGNED_HEADERS], "host;x-amz-date", 15) == 0,
          "signed headers view", "got %.*s", (int)c.out_len[FSX_SIGN_OUT_SIGNED_HEADERS],
          c.out[FSX_SIGN_OUT_SIGNED_HEADERS]);
    tu_ok(c.out_len[FSX_SIGN_OUT_CANONICAL_REQUEST] > 0 &&
              memcmp(c.out[FSX_SIGN_OUT_CANONICAL_REQUEST], "GET\n/\n\n", 7) == 0,
          "canonical request view", "wrong start");
    tu_ok(c.out_len[FSX_SIGN_OUT_STRING_TO_SIGN] > 0 &&
              memcmp(c.out[FSX_SIGN_OUT_STRING_TO_SIGN], "AWS4-HMAC-SHA256\n" DATE "\n", 34) == 0,
          "string to sign view", "wrong start");
    tu_expect_int("stages by default", c.stages, 1);
    tu_expect_int("one header added", (long)c.n_added, 1);
    tu_ok(c.added[0].name_len == 10 && memcmp(c.added[0].name, "X-Amz-Date", 10) == 0 &&
              c.added[0].value_len == 16 && memcmp(c.added[0].value, DATE, 16) == 0,
          "X-Amz-Date added", "got %.*s", (int)c.added[0].name_len, c.added[0].name);

    vanilla(&c);
    set_num(&c, FSX_SIGN_STAGES, FSX_SIGN_BOOLEAN, 0);
    expect_vanilla("stages = false still signs", &c, DATE);
    tu_expect_int("stages = false", c.stages, 0);

    vanilla(&c);
    set_cstr(&c, FSX_SIGN_SESSION_TOKEN, "");
    expect_vanilla("an empty session token is none", &c, DATE);
    tu_expect_int("no token header for \"\"", (long)c.n_added, 1);

    vanilla(&c);
    set_num(&c, FSX_SIGN_SIGN_BODY, FSX_SIGN_BOOLEAN, 1);
    tu_expect_int("sign_body signs", fsx_sign_call_run(&c, cache, &res), 0);
    tu_ok(c.n_added == 2 && c.added[1].name_len == 20 &&
              memcmp(c.added[1].name, "x-amz-content-sha256", 20) == 0,
          "sign_body adds x-amz-content-sha256", "n_added %zu", c.n_added);
}

static void test_time(void)
{
    struct fsx_sign_call c;

    vanilla(&c);
    c.v[FSX_SIGN_AMZ_DATE].type = FSX_SIGN_NIL;
    set_num(&c, FSX_SIGN_TIME, FSX_SIGN_NUMBER, EPOCH);
    expect_vanilla("time as epoch seconds", &c, DATE);
    tu_ok(c.amz_date == c.date, "epoch formats into date", "amz_date not the call's date");

    set_num(&c, FSX_SIGN_TIME, FSX_SIGN_NUMBER, EPOCH + 0.75);
    expect_vanilla("fractional epoch seconds round down", &c, DATE);

    set_cstr(&c, FSX_SIGN_TIME, DATE);
    expect_vanilla("time as the date string", &c, DATE);
    tu_ok(c.amz_date == c.v[FSX_SIGN_TIME].s, "a time string is used as it is",
          "amz_date not the time string");

    set_cstr(&c, FSX_SIGN_TIME, "2015-08-30T12:36:00Z");
    expect_fail("time string malformed", &c, "time", TIME_FORMS);
    set_cstr(&c, FSX_SIGN_TIME, "20150830X123600Z");
    expect_fail("time string without T", &c, "time", TIME_FORMS);
    set_num(&c, FSX_SIGN_TIME, FSX_SIGN_NUMBER, -1);
    expect_fail("negative epoch", &c, "time", "must be epoch seconds in range");
    set_num(&c, FSX_SIGN_TIME, FSX_SIGN_NUMBER, 253402300800.0);
    expect_fail("epoch past year 9999", &c, "time", "must be epoch seconds in range");
    set_num(&c, FSX_SIGN_TIME, FSX_SIGN_NUMBER, nan(""));
    expect_fail("NaN epoch", &c, "time", "must be epoch seconds in range");
    set_num(&c, FSX_SIGN_TIME, FSX_SIGN_BOOLEAN, 1);
    expect_fail("time as a boolean", &c, "time", TIME_FORMS);
    set_num(&c, FSX_SIGN_TIME, FSX_SIGN_OTHER, 0);
    expect_fail("time as a table", &c, "time", TIME_FORMS);

    set_num(&c, FSX_SIGN_TIME, FSX_SIGN_NIL, 0);
    tu_expect_int("no time: now", fsx_sign_call_run(&c, cache, &res), 0);
    tu_ok(c.amz_date == c.date && c.date[8] == 'T' && c.date[15] == 'Z' &&
              strncmp(c.date, "20", 2) == 0,
          "now formats into date", "date %s", c.date);

    vanilla(&c);
    set_cstr(&c, FSX_SIGN_TIME, "not a date");
    expect_vanilla("amz_date wins over a bad time string", &c, DATE);

    vanilla(&c);
    set_cstr(&c, FSX_SIGN_AMZ_DATE, "2015");
    tu_ok(fsx_sign_call_run(&c, cache, &res) == -1 && c.err.kind == FSX_ERR_VALIDATION,
          "malformed amz_date fails in the signer", "kind %d", (int)c.err.kind);
}

static void test_checks(void)
{
    static const int required[] = {FSX_SIGN_METHOD,        FSX_SIGN_PATH,
                                   FSX_SIGN_REGION,        FSX_SIGN_SERVICE,
                                   FSX_SIGN_ACCESS_KEY_ID, FSX_SIGN_SECRET_ACCESS_KEY};
    static const int strings[] = {FSX_SIGN_QUERY, FSX_SIGN_BODY, FSX_SIGN_PAYLOAD_HASH,
                                  FSX_SIGN_SESSION_TOKEN, FSX_SIGN_AMZ_DATE};
    static const int bools[] = {FSX_SIGN_NORMALIZE_PATH, FSX_SIGN_SIGN_BODY,
                                FSX_SIGN_OMIT_SESSION_TOKEN, FSX_SIGN_STAGES};
    struct fsx_sign_call c;
    struct fsx_sigv4_request req;
    char name[96];
    size_t i;

    for (i = 0; i < sizeof(required) / sizeof(required[0]); i++) {
        const char *f = fsx_sign_slot_names[required[i]];
        vanilla(&c);
        c.v[required[i]].type = FSX_SIGN_NIL;
        (void)snprintf(name, sizeof(name), "%s missing", f);
        expect_fail(name, &c, f, "must be a non-empty string");
        set_str(&c, required[i], "", 0);
        (void)snprintf(name, sizeof(name), "%s empty", f);
        expect_fail(name, &c, f, "must be a non-empty string");
        set_num(&c, required[i], FSX_SIGN_NUMBER, 1);
        (void)snprintf(name, sizeof(name), "%s a number", f);
        expect_fail(name, &c, f, "must be a non-empty string");
    }
    for (i = 0; i < sizeof(strings) / sizeof(strings[0]); i++) {
        const char *f = fsx_sign_slot_names[strings[i]];
        vanilla(&c);
        set_num(&c, strings[i], FSX_SIGN_BOOLEAN, 1);
        (void)snprintf(name, sizeof(name), "%s a boolean", f);
        expect_fail(name, &c, f, "must be a string");
    }
    for (i = 0; i < sizeof(bools) / sizeof(bools[0]); i++) {
        const char *f = fsx_sign_slot_names[bools[i]];
        vanilla(&c);
        set_cstr(&c, bools[i], "yes");
        (void)snprintf(name, sizeof(name), "%s a string", f);
        expect_fail(name, &c, f, "must be a boolean");
    }
    for (i = 0; i < N_EXPECT_CSTRING_SLOTS; i++) {
        const char *f = fsx_sign_slot_names[expect_cstring_slots[i]];
        vanilla(&c);
        set_str(&c, expect_cstring_slots[i], "ab\0cd", 5);
        (void)snprintf(name, sizeof(name), "%s holds NUL", f);
        expect_fail(name, &c, f, "holds a NUL byte");
    }

    /* the order does not depend on anything but the rules */
    vanilla(&c);
    c.v[FSX_SIGN_METHOD].type = FSX_SIGN_NIL;
    set_str(&c, FSX_SIGN_REGION, "us\0east", 7);
    expect_fail("a NUL byte is reported before a missing field", &c, "region", "holds a NUL byte");
    vanilla(&c);
    set_num(&c, FSX_SIGN_SERVICE, FSX_SIGN_OTHER, 0);
    set_num(&c, FSX_SIGN_PATH, FSX_SIGN_BOOLEAN, 1);
    expect_fail("types are checked in slot order", &c, "path", "must be a non-empty string");
    vanilla(&c);
    set_num(&c, FSX_SIGN_STAGES, FSX_SIGN_NUMBER, 1);
    set_num(&c, FSX_SIGN_TIME, FSX_SIGN_OTHER, 0);
    expect_fail("stages before time", &c, "stages", "must be a boolean");
    vanilla(&c);
    set_str(&c, FSX_SIGN_PATH, "/a\0b", 4);
    tu_expect_int("the checks pass a NUL in path (it has a length)", fsx_sign_call_check(&c, &req),
                  0);
}

int main(void)
{
    cache = fsx_sigv4_cache_new();
    if (cache == NULL) {
        fprintf(stderr, "test_sign_call: no memory\n");
        return 1;
    }
    fsx_sigv4_result_init(&res);
    test_valid();
    test_time();
    test_checks();
    fsx_sigv4_result_free(&res);
    fsx_sigv4_cache_free(cache);
    return tu_report("c-sign-call");
}
