/*
 * fuzz_sigv4.c - libFuzzer target for the SigV4 signing core.
 *
 * Build and run (from the project root; copy the seeds so the committed
 * corpus is not flooded with new inputs):
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -Isrc spec/fuzz/fuzz_sigv4.c \
 *       src/buf.c src/error.c src/crypto.c src/sigv4.c -lcrypto -o build/fuzz_sigv4
 *   cp -r spec/fuzz/corpus/sigv4 /tmp/sigv4-corpus
 *   ./build/fuzz_sigv4 -max_total_time=60 /tmp/sigv4-corpus
 *
 * Input layout:
 *   byte 0          flags: 0x01 no path normalization, 0x02 sign body,
 *                   0x04 omit session token, 0x08 session token, 0x10 explicit
 *                   payload hash, 0x20 add a Host header, 0x40 sign through
 *                   the cache
 *   then fields separated by 0x1D: method, path, query, headers, amz_date,
 *   body (the rest, 0x1D included). Header lines are separated by 0x1E,
 *   name and value by 0x1F (or the first ':' when there is no 0x1F), so CR,
 *   LF and NUL can all reach names and values. An empty amz_date field means
 *   a valid fixed date.
 *
 * Checks: no crash or sanitizer report; a failure is a validation error
 * and leaves the result empty; a success has a well-formed Authorization
 * (fixed prefix and scope, the signed-header list, 64 lowercase hex digits),
 * a canonical request whose path and query lines hold only encoded bytes,
 * sorted distinct lowercase signed headers, and the same answer with and
 * without the derived-key cache.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_check.h"
#include "sigv4.h"
#include "sigv4_stages.h"

#define MAX_FUZZ_HEADERS 64
#define FIELD_SEP 0x1d
#define LINE_SEP 0x1e
#define NAME_SEP 0x1f

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct fsx_sigv4_cache *cache;

/* Next field of [*p, end) up to sep (or the end); advances *p past sep. */
static const char *next_field(const char **p, const char *end, int sep, size_t *len)
{
    const char *s = *p, *q = s;

    while (q < end && (unsigned char)*q != sep)
        q++;
    *len = (size_t)(q - s);
    *p = q < end ? q + 1 : end;
    return s;
}

static int encoded_char(char c, int query)
{
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
        return 1;
    if (c == '-' || c == '.' || c == '_' || c == '~' || c == '%')
        return 1;
    return query ? (c == '=' || c == '&') : c == '/';
}

/* Path and query lines of the canonical request hold only encoded bytes. */
static void check_canonical(const struct fsx_sigv4_result *res)
{
    const char *cr = res->canonical_request.data;
    const char *path = strchr(cr, '\n') + 1;
    const char *query = strchr(path, '\n') + 1;
    const char *p;

    CHECK(memchr(cr, '\r', res->canonical_request.len) == NULL);
    CHECK(memchr(cr, '\0', res->canonical_request.len) == NULL);
    CHECK(path[0] == '/');
    for (p = path; *p != '\n'; p++)
        CHECK(encoded_char(*p, 0));
    for (p = query; *p != '\n'; p++)
        CHECK(encoded_char(*p, 1));
    /* ends with "\n<signed headers>\n<payload hash>" */
    CHECK(res->canonical_request.len > 66);
    CHECK(memcmp(cr + res->canonical_request.len - 64, res->payload_hash, 64) == 0);
}

/* Lowercase tokens separated by ';', strictly ascending. */
static void check_signed_headers(const struct fsx_buf *sh)
{
    const char *s = sh->data, *prev = NULL;
    size_t prev_len = 0;

    CHECK(sh->len > 0);
    while (s != NULL) {
        const char *semi = strchr(s, ';');
        size_t n = semi != NULL ? (size_t)(semi - s) : strlen(s), i;

        CHECK(n > 0);
        for (i = 0; i < n; i++)
            CHECK(!(s[i] >= 'A' && s[i] <= 'Z') && s[i] > 0x20 && s[i] < 0x7f);
        if (prev != NULL) {
            size_t m = prev_len < n ? prev_len : n;
            int c = memcmp(prev, s, m);

            CHECK(c < 0 || (c == 0 && prev_len < n));
        }
        prev = s;
        prev_len = n;
        s = semi != NULL ? semi + 1 : NULL;
    }
}

static void check_authorization(const struct fsx_sigv4_result *res, const char *amz_date)
{
    char want[256];
    const struct fsx_buf *a = &res->authorization;
    int n;

    n = snprintf(want, sizeof(want),
                 "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/%.8s/us-east-1/service/aws4_request, "
                 "SignedHeaders=",
                 amz_date);
    CHECK(n > 0 && (size_t)n < sizeof(want));
    CHECK(a->len == (size_t)n + res->signed_headers.len + 12 + 64);
    CHECK(memcmp(a->data, want, (size_t)n) == 0);
    CHECK(memcmp(a->data + n, res->signed_headers.data, res->signed_headers.len) == 0);
    CHECK(memcmp(a->data + (size_t)n + res->signed_headers.len, ", Signature=", 12) == 0);
    CHECK(strlen(res->signature) == 64 && fuzz_hex_lower(res->signature, 64));
    CHECK(memcmp(a->data + a->len - 64, res->signature, 64) == 0);
    CHECK(memcmp(res->string_to_sign.data, "AWS4-HMAC-SHA256\n", 17) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fsx_sigv4_header headers[MAX_FUZZ_HEADERS];
    struct fsx_sigv4_request req;
    struct fsx_sigv4_result res, res2;
    struct fsx_error err;
    struct fsx_buf path_out;
    const char *p, *end, *f, *hdrs;
    char method[64], amz_date[64];
    size_t n, hlen;
    unsigned flags;
    int rc, rc2;

    if (size < 1)
        return 0;
    if (cache == NULL && (cache = fsx_sigv4_cache_new()) == NULL)
        abort();
    flags = data[0];
    p = (const char *)data + 1;
    end = (const char *)data + size;
    memset(&req, 0, sizeof(req));

    f = next_field(&p, end, FIELD_SEP, &n);
    if (n >= sizeof(method))
        n = sizeof(method) - 1;
    memcpy(method, f, n);
    method[n] = '\0';
    req.method = method;
    req.path = next_field(&p, end, FIELD_SEP, &req.path_len);
    req.query = next_field(&p, end, FIELD_SEP, &req.query_len);
    hdrs = next_field(&p, end, FIELD_SEP, &hlen);
    f = next_field(&p, end, FIELD_SEP, &n);
    if (n == 0) {
        strcpy(amz_date, "20150830T123600Z");
    } else {
        if (n >= sizeof(amz_date))
            n = sizeof(amz_date) - 1;
        memcpy(amz_date, f, n);
        amz_date[n] = '\0';
    }
    req.body = p;
    req.body_len = (size_t)(end - p);

    req.n_headers = 0;
    if (flags & 0x20) {
        headers[0].name = "Host";
        headers[0].name_len = 4;
        headers[0].value = "example.amazonaws.com";
        headers[0].value_len = 21;
        req.n_headers = 1;
    }
    {
        const char *hp = hdrs, *hend = hdrs + hlen;

        while (hp < hend && req.n_headers < MAX_FUZZ_HEADERS) {
            size_t ll, i;
            const char *line = next_field(&hp, hend, LINE_SEP, &ll);
            struct fsx_sigv4_header *h = &headers[req.n_headers++];
            size_t split = ll;

            for (i = 0; i < ll; i++)
                if ((unsigned char)line[i] == NAME_SEP)
                    break;
            split = i;
            if (split == ll)
                for (split = 0; split < ll && line[split] != ':'; split++)
                    ;
            h->name = line;
            h->name_len = split;
            h->value = split < ll ? line + split + 1 : line + ll;
            h->value_len = split < ll ? ll - split - 1 : 0;
        }
    }
    req.headers = headers;
    req.region = "us-east-1";
    req.service = "service";
    req.access_key_id = "AKIDEXAMPLE";
    req.secret_access_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
    req.session_token = (flags & 0x08) ? "FQoGZXIvYXdzEXAMPLETOKEN//+=" : NULL;
    req.payload_hash = (flags & 0x10)
                           ? "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
                           : NULL;
    req.amz_date = amz_date;
    req.flags = flags & 0x07u;

    /* the path stage alone, both modes, on the raw bytes */
    fsx_buf_init(&path_out);
    CHECK(fsx_sigv4_canonical_path(&path_out, req.path, req.path_len, 0) == 0);
    CHECK(path_out.len > 0 && path_out.data[0] == '/');
    fsx_buf_reset(&path_out);
    CHECK(fsx_sigv4_canonical_path(&path_out, req.path, req.path_len,
                                   FSX_SIGV4_NO_NORMALIZE_PATH) == 0);
    CHECK(path_out.len > 0 && path_out.data[0] == '/');
    fsx_buf_free(&path_out);

    fsx_sigv4_result_init(&res);
    fsx_sigv4_result_init(&res2);
    fsx_error_clear(&err);
    rc = fsx_sigv4_sign(&req, (flags & 0x40) ? cache : NULL, &res, &err);
    if (rc != 0) {
        CHECK(err.kind == FSX_ERR_VALIDATION);
        CHECK(res.authorization.len == 0 && res.signature[0] == '\0');
    } else {
        check_canonical(&res);
        check_signed_headers(&res.signed_headers);
        check_authorization(&res, amz_date);
        CHECK(res.n_added <= 3);
        /* same answer the other way round (cache vs none) */
        rc2 = fsx_sigv4_sign(&req, (flags & 0x40) ? NULL : cache, &res2, &err);
        CHECK(rc2 == 0);
        CHECK(res2.authorization.len == res.authorization.len &&
              memcmp(res2.authorization.data, res.authorization.data, res.authorization.len) ==
                  0);
    }
    fsx_sigv4_result_free(&res);
    fsx_sigv4_result_free(&res2);
    return 0;
}
