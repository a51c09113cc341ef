/*
 * test_sigv4_fast.c - unit cases for the signer's fast paths (src/sigv4.c).
 *
 * Table-driven, no Lua. The canonical headers are built from names
 * lowercased once (eight bytes at a time) and sorted by insertion up to 32
 * entries, by qsort past that; they are checked against a plain reference
 * (lowercase byte by byte, stable sort, merge) on names holding every byte
 * value, on repeated names in mixed case, past 32 entries and past the 1 KiB
 * of names kept on the stack. The derived-key cache compares secrets eight
 * bytes at a time: secrets of every length up to a slot's 128 bytes must hit
 * when equal and miss when one byte differs, wherever it is. A cached
 * signature (prepared HMAC states) must equal an uncached one.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sigv4.h"
#include "sigv4_stages.h"
#include "test_util.h"

#define DATE "20150830T123600Z"

/* ---- reference canonical headers -------------------------------------- */

struct ref_entry {
    char name[300];
    size_t name_len;
    const char *value;
    size_t value_len;
    size_t order;
};

static int ref_cmp(const void *pa, const void *pb)
{
    const struct ref_entry *a = (const struct ref_entry *)pa;
    const struct ref_entry *b = (const struct ref_entry *)pb;
    size_t n = a->name_len < b->name_len ? a->name_len : b->name_len;
    int c = memcmp(a->name, b->name, n);

    if (c != 0)
        return c;
    if (a->name_len != b->name_len)
        return a->name_len < b->name_len ? -1 : 1;
    return a->order < b->order ? -1 : 1;
}

/* The canonical headers and signed headers of h[0..n), computed the slow way. */
static void ref_headers(const struct fsx_sigv4_header *h, size_t n, struct fsx_buf *out,
                        struct fsx_buf *sig)
{
    struct ref_entry *e = (struct ref_entry *)calloc(n ? n : 1, sizeof(*e));
    size_t i, j, k;

    for (i = 0; i < n; i++) {
        for (k = 0; k < h[i].name_len; k++) {
            unsigned char c = (unsigned char)h[i].name[k];

            e[i].name[k] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
        }
        e[i].name_len = h[i].name_len;
        e[i].value = h[i].value;
        e[i].value_len = h[i].value_len;
        e[i].order = i;
    }
    qsort(e, n, sizeof(*e), ref_cmp);
    for (i = 0; i < n; i = j) {
        for (j = i + 1; j < n && e[j].name_len == e[i].name_len &&
                        memcmp(e[j].name, e[i].name, e[i].name_len) == 0;
             j++)
            ;
        if (i > 0)
            fsx_buf_append_char(sig, ';');
        fsx_buf_append(sig, e[i].name, e[i].name_len);
        fsx_buf_append(out, e[i].name, e[i].name_len);
        fsx_buf_append_char(out, ':');
        for (k = i; k < j; k++) {
            if (k > i)
                fsx_buf_append_char(out, ',');
            fsx_sigv4_append_trimmed(out, e[k].value, e[k].value_len);
        }
        fsx_buf_append_char(out, '\n');
    }
    free(e);
}

static int same_as_ref(const char *name, const struct fsx_sigv4_header *h, size_t n)
{
    struct fsx_buf got, got_sig, want, want_sig;
    int ok;

    fsx_buf_init(&got);
    fsx_buf_init(&got_sig);
    fsx_buf_init(&want);
    fsx_buf_init(&want_sig);
    ok = fsx_sigv4_canonical_headers(&got, &got_sig, h, n, NULL, 0) == 0;
    ref_headers(h, n, &want, &want_sig);
    ok = ok && tu_same(name, "canonical headers", fsx_buf_cstr(&got), got.len,
                       fsx_buf_cstr(&want), want.len);
    ok = ok && tu_same(name, "signed headers", fsx_buf_cstr(&got_sig), got_sig.len,
                       fsx_buf_cstr(&want_sig), want_sig.len);
    fsx_buf_free(&got);
    fsx_buf_free(&got_sig);
    fsx_buf_free(&want);
    fsx_buf_free(&want_sig);
    return ok;
}

static void test_header_order(void)
{
    static char names[64][300];
    struct fsx_sigv4_header h[64];
    size_t i, k;

    /* names holding every byte value 1..255, at every offset of an 8-byte word */
    for (i = 0; i < 32; i++) {
        for (k = 0; k < 17; k++)
            names[i][k] = (char)(1 + (i * 17 + k * 7) % 255);
        h[i].name = names[i];
        h[i].name_len = 9 + i % 9;
        h[i].value = " v  a ";
        h[i].value_len = 6;
    }
    tu_ok(same_as_ref("every byte value in names", h, 32), "names of every byte value",
          "differs");
    /* the same names, uppercase letters spread over word boundaries */
    for (i = 0; i < 26; i++) {
        for (k = 0; k < 20; k++)
            names[i][k] = (char)((k + i) % 3 == 0 ? 'A' + (k + i) % 26 : 'a' + (k * i) % 26);
        h[i].name = names[i];
        h[i].name_len = 1 + i % 20;
    }
    tu_ok(same_as_ref("mixed case", h, 26), "mixed-case names", "differs");
    /* repeated names in mixed case keep the given order of their values */
    {
        static const char *const ns[] = {"X-Dup", "host", "x-dup", "X-DUP", "A", "x-Dup", "a"};
        static const char *const vs[] = {"1", "h", "2", "3", "a1", "4", "a2"};

        for (i = 0; i < 7; i++) {
            h[i].name = ns[i];
            h[i].name_len = strlen(ns[i]);
            h[i].value = vs[i];
            h[i].value_len = strlen(vs[i]);
        }
        tu_ok(same_as_ref("repeats", h, 7), "repeated names merge in order", "differs");
    }
    /* past 32 entries (qsort) and past 1 KiB of names (heap), with repeats */
    for (i = 0; i < 64; i++) {
        size_t len = 20 + i % 7;

        for (k = 0; k < len; k++)
            names[i][k] = (char)(k == 0 ? 'A' + (i % 5) : 'a' + (i * 3 + k) % 26);
        if (i % 9 == 0 && i > 0) {
            /* the name of entry i - 9 again, its first letter in the other case */
            memcpy(names[i], names[i - 9], len = 20 + (i - 9) % 7);
            names[i][0] = (char)(names[i][0] | 0x20);
        }
        h[i].name = names[i];
        h[i].name_len = len;
        h[i].value = i % 2 ? "odd" : "even";
        h[i].value_len = i % 2 ? 3 : 4;
    }
    tu_ok(same_as_ref("64 headers", h, 64), "64 headers, 1.4 KiB of names", "differs");
    tu_ok(same_as_ref("33 headers", h, 33), "33 headers", "differs");
    /* names longer than the stack scratch on their own */
    for (i = 0; i < 4; i++) {
        memset(names[i], 'A' + (int)i, 299);
        h[i].name = names[i];
        h[i].name_len = 299;
    }
    tu_ok(same_as_ref("long names", h, 4), "four 299-byte names", "differs");
    tu_ok(same_as_ref("no headers", h, 0), "no headers", "differs");
}

/* ---- cache ---------------------------------------------------------------- */

static const struct fsx_sigv4_header host[] = {{"Host", 4, "example.amazonaws.com", 21}};

static void request(struct fsx_sigv4_request *req, const char *secret)
{
    memset(req, 0, sizeof(*req));
    req->method = "POST";
    req->path = "/";
    req->path_len = 1;
    req->query = "";
    req->headers = host;
    req->n_headers = 1;
    req->body = "{}";
    req->body_len = 2;
    req->region = "us-east-1";
    req->service = "fsx";
    req->access_key_id = "AKIDEXAMPLE";
    req->secret_access_key = secret;
    req->amz_date = DATE;
}

static void test_cache_secrets(void)
{
    struct fsx_sigv4_cache *cache = fsx_sigv4_cache_new();
    struct fsx_sigv4_request req;
    struct fsx_sigv4_result res, ref;
    struct fsx_error err;
    char secret[129], other[129];
    size_t len, pos, bad_hit = 0, bad_miss = 0, bad_sig = 0;
    unsigned long before;

    fsx_sigv4_result_init(&res);
    fsx_sigv4_result_init(&ref);
    for (len = 1; len <= 128; len++) {
        memset(secret, 0, sizeof(secret));
        for (pos = 0; pos < len; pos++)
            secret[pos] = (char)('!' + (len * 7 + pos * 13) % 90);
        request(&req, secret);
        fsx_sigv4_sign(&req, cache, &res, &err);
        before = fsx_sigv4_cache_derivations(cache);
        fsx_sigv4_sign(&req, cache, &res, &err);
        if (fsx_sigv4_cache_derivations(cache) != before)
            bad_hit++;
        /* one byte changed: first, last, and inside a middle word */
        for (pos = 0; pos < len; pos = len > 9 && pos < len / 2 ? len / 2 :
                                       len > 9 && pos < len - 1 ? len - 1 : pos + 1) {
            memcpy(other, secret, sizeof(other));
            other[pos] = other[pos] == 'x' ? 'y' : 'x';
            request(&req, other);
            before = fsx_sigv4_cache_derivations(cache);
            fsx_sigv4_sign(&req, cache, &res, &err);
            if (fsx_sigv4_cache_derivations(cache) != before + 1)
                bad_miss++;
            fsx_sigv4_sign(&req, NULL, &ref, &err);
            if (strcmp(fsx_buf_cstr(&res.authorization), fsx_buf_cstr(&ref.authorization)) != 0)
                bad_sig++;
            request(&req, secret); /* back to the first secret: may have been evicted */
            fsx_sigv4_sign(&req, cache, &res, &err);
            fsx_sigv4_sign(&req, NULL, &ref, &err);
            if (strcmp(fsx_buf_cstr(&res.authorization), fsx_buf_cstr(&ref.authorization)) != 0)
                bad_sig++;
        }
    }
    tu_ok(bad_hit == 0, "equal secrets of 1..128 bytes hit the cache", "%lu missed",
          (unsigned long)bad_hit);
    tu_ok(bad_miss == 0, "a secret one byte off misses the cache", "%lu hit",
          (unsigned long)bad_miss);
    tu_ok(bad_sig == 0, "cached signatures equal uncached ones", "%lu differ",
          (unsigned long)bad_sig);
    fsx_sigv4_cache_free(cache);
    fsx_sigv4_result_free(&res);
    fsx_sigv4_result_free(&ref);
}

/* The signature through the stages (key, plain HMAC) equals the one-call signer's. */
static void test_stages_agree(void)
{
    struct fsx_sigv4_cache *cache = fsx_sigv4_cache_new();
    struct fsx_sigv4_request req;
    struct fsx_sigv4_result res;
    struct fsx_error err;
    struct fsx_buf sts;
    unsigned char key[32];
    char sig[65];
    int ok;

    fsx_sigv4_result_init(&res);
    fsx_buf_init(&sts);
    request(&req, "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY");
    ok = fsx_sigv4_sign(&req, cache, &res, &err) == 0 &&
         fsx_sigv4_string_to_sign(&sts, DATE, "us-east-1", "fsx",
                                  res.canonical_request.data, res.canonical_request.len) == 0 &&
         fsx_sigv4_cache_lookup(cache, req.secret_access_key, DATE, "us-east-1", "fsx",
                                key) == 0 &&
         fsx_sigv4_signature(key, sts.data, sts.len, sig) == 0;
    tu_ok(ok && strcmp(fsx_buf_cstr(&sts), fsx_buf_cstr(&res.string_to_sign)) == 0,
          "string to sign stage equals the signer's", "differs");
    tu_ok(ok && strcmp(sig, res.signature) == 0, "signature stage equals the cached signer's",
          "%s vs %s", sig, res.signature);
    tu_expect_int("one derivation for both", (long)fsx_sigv4_cache_derivations(cache), 1);
    fsx_buf_free(&sts);
    fsx_sigv4_result_free(&res);
    fsx_sigv4_cache_free(cache);
}

int main(void)
{
    test_header_order();
    test_cache_secrets();
    test_stages_agree();
    return tu_report("sigv4-fast");
}
