/*
 * fuzz_http_response.c - libFuzzer target for the response capture of
 * src/http.c (fsx_http_response_on_header / fsx_http_response_on_body).
 *
 * Input layout: byte 0 picks the header cap (1..1024), byte 1 the body cap
 * (1..4096), byte 2 the body chunk size (1..256); the rest is split at '\n'
 * into header lines (the '\n' kept, as libcurl delivers them) until an empty
 * line that is not followed by another status line, and whatever remains is
 * fed as body chunks. The whole sequence runs twice on one response, with a
 * reset in between, as a reused handle would. After every call the target
 * checks the invariants: views inside the storage, values trimmed and
 * NUL-terminated, caps respected.
 *
 * Build: clang -g -O1 -fsanitize=fuzzer,address,undefined -Isrc \
 *   spec/fuzz/fuzz_http_response.c src/http.c src/buf.c src/error.c \
 *   src/crypto.c -lcrypto $(pkg-config --libs libcurl)
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* off..off+n is inside b's data and followed by a NUL there. */
static int inside(const struct fsx_buf *b, size_t off, size_t n)
{
    return b->data != NULL && off < b->len && n < b->len - off && b->data[off + n] == '\0';
}

static void check_invariants(const struct fsx_http_response *r)
{
    size_t i;

    if (r->n_headers > r->headers_cap || r->header_data.len > r->max_header_bytes ||
        r->body.len > r->max_body)
        abort();
    for (i = 0; i < r->n_headers; i++) {
        const struct fsx_http_header *h = &r->headers[i];
        const char *name, *value;
        if (h->name_len == 0 || !inside(&r->header_data, h->name_off, h->name_len) ||
            !inside(&r->header_data, h->value_off, h->value_len))
            abort();
        name = fsx_http_header_name(r, i);
        value = fsx_http_header_value(r, i);
        if (memchr(name, ':', h->name_len) != NULL)
            abort();
        if (h->value_len > 0 && (value[0] == ' ' || value[0] == '\t' ||
                                 value[h->value_len - 1] == ' ' || value[h->value_len - 1] == '\t'))
            abort();
        if (name[0] == ' ' || name[0] == '\t')
            abort();
    }
}

/* Feed the lines and chunks once; stops at the first refusal, like libcurl. */
static void feed(struct fsx_http_response *r, const char *p, size_t n, size_t chunk)
{
    size_t i = 0;
    int in_body = 0;

    while (i < n && !in_body) {
        const char *nl = (const char *)memchr(p + i, '\n', n - i);
        size_t len = nl != NULL ? (size_t)(nl - (p + i)) + 1 : n - i;
        const char *line = p + i;
        int blank = len == 1 || (len == 2 && line[0] == '\r');
        if (fsx_http_response_on_header(r, line, len) != 0) {
            check_invariants(r);
            return;
        }
        check_invariants(r);
        i += len;
        if (blank && !(n - i >= 5 && memcmp(p + i, "HTTP/", 5) == 0))
            in_body = 1;
    }
    while (i < n) {
        size_t len = n - i < chunk ? n - i : chunk;
        int rc = fsx_http_response_on_body(r, p + i, len);
        check_invariants(r);
        if (rc != 0)
            return;
        i += len;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fsx_http_response r;
    size_t max_header, max_body, chunk;

    if (size < 3)
        return 0;
    max_header = 1 + (size_t)data[0] * 4;
    max_body = 1 + (size_t)data[1] * 16;
    chunk = 1 + (size_t)data[2];
    fsx_http_response_init(&r, max_body, max_header);
    feed(&r, (const char *)data + 3, size - 3, chunk);
    fsx_http_response_reset(&r);
    if (r.n_headers != 0 || r.body.len != 0 || r.too_large != 0 || r.status != 0)
        abort();
    feed(&r, (const char *)data + 3, size - 3, chunk);
    fsx_http_response_free(&r);
    return 0;
}
