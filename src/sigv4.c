/*
 * sigv4.c - AWS Signature Version 4 request signing (signing core layer).
 *
 * Pure C over libcrypto (through crypto.h): no Lua, no curl, no clock. The
 * public entry point fsx_sigv4_sign() validates the request, then runs the
 * stages declared in sigv4_stages.h over one caller-owned result:
 *
 *   canonical request -> string to sign -> signing key (cached) -> signature
 *   -> Authorization value.
 *
 * Path encoding: for every service but S3 the path is taken as it appears
 * on the request line (already encoded once) and encoded again, '%'
 * included, which is AWS's "encode twice" rule and what botocore and
 * aws-c-auth compute (spec/sigv4_botocore_spec.lua checks it); only the
 * S3-style mode (FSX_SIGV4_NO_NORMALIZE_PATH) decodes valid escapes first
 * and encodes once. See fsx_sigv4_canonical_path in sigv4_stages.h.
 *
 * Header values must arrive unfolded: CR, LF, NUL and other control
 * characters but HT are rejected (FSX_ERR_VALIDATION, "InvalidHeaderValue");
 * a caller holding obs-folded lines replaces each line break with a space,
 * and the SP/HT run collapsing here then gives the suite's expected value.
 *
 * Speed (bench/sign_stages.c times each stage): the result's buffers are
 * reused across calls, so a warmed-up result grows no buffer, and hashing
 * goes through SHA-256 contexts each thread keeps (see crypto.c).
 * Validation records what it learns (scope lengths, which X-Amz-* headers
 * the request already has) so later stages do not scan again; class checks
 * read text.h's table. Header names are lowercased once into a scratch area
 * and sorted by insertion (qsort past 32 entries); a value is trimmed by
 * copying its runs of non-blanks whole; percent-encoding reserves its worst
 * case (3 bytes per input byte) once and writes through a pointer; the
 * string to sign and the Authorization value are written in one pass into a
 * buffer reserved once.
 * The derived-key cache turns the four-HMAC key chain into a table lookup
 * and keeps each key prepared for HMAC (its ipad/opad states), so a cached
 * signature's MAC costs only the string to sign's blocks plus one outer
 * block: fewer SHA-256 blocks than a from-scratch HMAC.
 *
 * Secrets: a derived key not held by the cache never leaves crypto.c's
 * HMAC chain (the signature is the chain's last MAC), which wipes it; the
 * cache keeps keys, prepared states and a masked copy of each secret (see
 * below), wiped on replacement and on free. The result's buffers may hold
 * the session token (in the canonical request): a signature overwrites the
 * last one's bytes and wipes what they left past its end (result_reuse),
 * and a failure or fsx_sigv4_result_free wipes them all.
 */
#include "sigv4.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "sigv4_stages.h"
#include "text.h"

static const char hex_upper[16] = {'0', '1', '2', '3', '4', '5', '6', '7',
                                   '8', '9', 'A', 'B', 'C', 'D', 'E', 'F'};
#define ALGORITHM "AWS4-HMAC-SHA256"
#define SCOPE_TERMINATOR "aws4_request"
#define AMZ_DATE_LEN 16
#define STACK_ENTRIES 32 /* sort arrays up to this size live on the stack */

static unsigned char to_lower(unsigned char c)
{
    return FSX_IS(c, FSX_C_UPPER) ? (unsigned char)(c | 0x20u) : c;
}

/* Copy n bytes to o and return o + n. */
static char *put(char *o, const char *s, size_t n)
{
    if (n > 0)
        memcpy(o, s, n);
    return o + n;
}

static int hex_value(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Case-insensitive equality of a header name with a lowercase literal. */
static int name_is(const struct fsx_sigv4_header *h, const char *lit, size_t lit_len)
{
    size_t i;

    if (h->name_len != lit_len)
        return 0;
    for (i = 0; i < lit_len; i++)
        if (to_lower((unsigned char)h->name[i]) != (unsigned char)lit[i])
            return 0;
    return 1;
}

/* ---- percent-encoding -------------------------------------------------- */

/*
 * Read one logical byte of s at i: a valid %XX escape decodes to its byte
 * (3 input bytes), anything else is itself (1 input byte).
 */
static size_t next_byte(const char *s, size_t i, size_t len, unsigned char *b)
{
    if (s[i] == '%' && len - i > 2) {
        int hi = hex_value((unsigned char)s[i + 1]);
        int lo = hex_value((unsigned char)s[i + 2]);

        if (hi >= 0 && lo >= 0) {
            *b = (unsigned char)((hi << 4) | lo);
            return 3;
        }
    }
    *b = (unsigned char)s[i];
    return 1;
}

static char *encode_byte(char *o, unsigned char b)
{
    if (FSX_IS(b, FSX_C_UNRESERVED)) {
        *o++ = (char)b;
    } else {
        *o++ = '%';
        *o++ = hex_upper[b >> 4];
        *o++ = hex_upper[b & 0x0f];
    }
    return o;
}

/* Decode s[0..len) and re-encode it at o; o needs 3 * len bytes. */
static char *encode_run(char *o, const char *s, size_t len)
{
    size_t i = 0;
    unsigned char b;

    while (i < len) {
        i += next_byte(s, i, len, &b);
        o = encode_byte(o, b);
    }
    return o;
}

/* Encode s[0..len) byte by byte, '%' included; o needs 3 * len bytes. */
static char *encode_raw(char *o, const char *s, size_t len)
{
    size_t i;

    for (i = 0; i < len; i++)
        o = encode_byte(o, (unsigned char)s[i]);
    return o;
}

/* 1 for the segment ".", 2 for "..", 0 otherwise (compared as given). */
static int dot_kind(const char *s, size_t len)
{
    if (len == 1 && s[0] == '.')
        return 1;
    if (len == 2 && s[0] == '.' && s[1] == '.')
        return 2;
    return 0;
}

/* Reserve room for 3 * len + slack bytes, checking the multiplication. */
static int reserve_encoded(struct fsx_buf *b, size_t len, size_t slack)
{
    if (len > (SIZE_MAX - slack - 2) / 3)
        return -1;
    return fsx_buf_reserve(b, 3 * len + slack);
}

static void finish_at(struct fsx_buf *b, const char *o)
{
    b->len = (size_t)(o - b->data);
    b->data[b->len] = '\0';
}

int fsx_sigv4_canonical_path(struct fsx_buf *out, const char *path, size_t len, unsigned flags)
{
    char *start, *o;
    size_t i, seg, seg_end;

    if (path == NULL || len == 0)
        return fsx_buf_append_char(out, '/');
    /* worst case: a leading '/', 3 bytes per input byte, a trailing '/' */
    if (reserve_encoded(out, len, 2) != 0)
        return -1;
    start = out->data + out->len;
    o = start;
    if (flags & FSX_SIGV4_NO_NORMALIZE_PATH) {
        /* S3 style: segments as given, encoded once (valid escapes kept) */
        if (path[0] != '/')
            *o++ = '/';
        seg = 0;
        for (i = 0; i <= len; i++) {
            if (i == len || path[i] == '/') {
                o = encode_run(o, path + seg, i - seg);
                if (i < len)
                    *o++ = '/';
                seg = i + 1;
            }
        }
        finish_at(out, o);
        return 0;
    }
    /*
     * Other services: dot segments and empty segments go, then the path as
     * given (already encoded on the request line) is encoded again, '%'
     * included: AWS's "encode twice" rule, as botocore and aws-c-auth do.
     * Every segment written to o starts with '/', so ".." pops to the last '/'.
     */
    seg = 0;
    while (seg <= len) {
        int dots;

        seg_end = seg;
        while (seg_end < len && path[seg_end] != '/')
            seg_end++;
        dots = dot_kind(path + seg, seg_end - seg);
        if (dots == 2) {
            while (o > start && *--o != '/')
                ;
        } else if (seg_end > seg && dots == 0) {
            *o++ = '/';
            o = encode_raw(o, path + seg, seg_end - seg);
        }
        seg = seg_end + 1;
    }
    if (o == start || path[len - 1] == '/')
        *o++ = '/';
    finish_at(out, o);
    return 0;
}

/* ---- query ------------------------------------------------------------- */

struct qparam {
    const char *name;
    size_t name_len;
    const char *value;
    size_t value_len;
};

static int cmp_bytes(const char *a, size_t al, const char *b, size_t bl)
{
    int c;

    /* most names already differ in their first byte */
    if (al > 0 && bl > 0 && a[0] != b[0])
        return (unsigned char)a[0] < (unsigned char)b[0] ? -1 : 1;
    c = memcmp(a, b, al < bl ? al : bl);

    if (c != 0)
        return c;
    return al < bl ? -1 : al > bl ? 1 : 0;
}

static int cmp_qparam(const void *pa, const void *pb)
{
    const struct qparam *a = (const struct qparam *)pa;
    const struct qparam *b = (const struct qparam *)pb;
    int c = cmp_bytes(a->name, a->name_len, b->name, b->name_len);

    return c != 0 ? c : cmp_bytes(a->value, a->value_len, b->value, b->value_len);
}

int fsx_sigv4_canonical_query(struct fsx_buf *out, struct fsx_buf *scratch, const char *query,
                              size_t len)
{
    struct qparam stack_params[STACK_ENTRIES];
    struct qparam *params = stack_params;
    size_t n_pieces = 1, n = 0, i, start, total = 0;
    char *o;
    int rc = -1;

    fsx_buf_reset(scratch);
    if (query == NULL || len == 0)
        return 0;
    for (i = 0; i < len; i++)
        if (query[i] == '&')
            n_pieces++;
    if (n_pieces > STACK_ENTRIES) {
        params = (struct qparam *)malloc(n_pieces * sizeof(*params));
        if (params == NULL)
            goto done;
    }
    /* encode every name and value into scratch, which never moves afterwards */
    if (reserve_encoded(scratch, len, 1) != 0)
        goto done;
    o = scratch->data;
    start = 0;
    for (i = 0; i <= len; i++) {
        size_t eq;

        if (i < len && query[i] != '&')
            continue;
        if (i > start) {
            struct qparam *p = &params[n++];

            for (eq = start; eq < i && query[eq] != '='; eq++)
                ;
            p->name = o;
            o = encode_run(o, query + start, eq - start);
            p->name_len = (size_t)(o - p->name);
            p->value = o;
            if (eq < i)
                o = encode_run(o, query + eq + 1, i - eq - 1);
            p->value_len = (size_t)(o - p->value);
            total += p->name_len + p->value_len + 2;
        }
        start = i + 1;
    }
    finish_at(scratch, o);
    if (n > 1)
        qsort(params, n, sizeof(*params), cmp_qparam);
    if (fsx_buf_reserve(out, total) != 0)
        goto done;
    o = out->data + out->len;
    for (i = 0; i < n; i++) {
        if (i > 0)
            *o++ = '&';
        memcpy(o, params[i].name, params[i].name_len);
        o += params[i].name_len;
        *o++ = '=';
        memcpy(o, params[i].value, params[i].value_len);
        o += params[i].value_len;
    }
    finish_at(out, o);
    rc = 0;
done:
    if (params != stack_params)
        free(params);
    return rc;
}

/* ---- headers ----------------------------------------------------------- */

/*
 * Write value trimmed, inner blank runs collapsed to one SP; returns the new
 * end. Each run of other bytes is copied whole.
 */
static char *trim_into(char *o, const char *v, size_t len)
{
    size_t i = 0, run;

    while (len > 0 && FSX_IS(v[len - 1], FSX_C_BLANK))
        len--;
    while (i < len && FSX_IS(v[i], FSX_C_BLANK))
        i++;
    while (i < len) {
        run = i;
        while (i < len && !FSX_IS(v[i], FSX_C_BLANK))
            i++;
        o = put(o, v + run, i - run);
        if (i < len) {
            /* the trimmed value ends in a non-blank, so this run ends before len */
            *o++ = ' ';
            while (FSX_IS(v[i], FSX_C_BLANK))
                i++;
        }
    }
    return o;
}

int fsx_sigv4_append_trimmed(struct fsx_buf *out, const char *value, size_t len)
{
    if (len == 0)
        return 0;
    if (fsx_buf_reserve(out, len) != 0)
        return -1;
    finish_at(out, trim_into(out->data + out->len, value, len));
    return 0;
}

/*
 * One header in the sort: its name lowercased once into a scratch area (so
 * comparisons compare bytes), its value as given.
 */
struct hentry {
    const char *name; /* lowercase, not NUL-terminated */
    size_t name_len;
    const char *value;
    size_t value_len;
    size_t order; /* position in the caller's order: ties keep it */
};

static int cmp_hentry(const void *pa, const void *pb)
{
    const struct hentry *a = (const struct hentry *)pa;
    const struct hentry *b = (const struct hentry *)pb;
    int c = cmp_bytes(a->name, a->name_len, b->name, b->name_len);

    if (c != 0)
        return c;
    return a->order < b->order ? -1 : a->order > b->order ? 1 : 0;
}

static int same_name(const struct hentry *a, const struct hentry *b)
{
    return a->name_len == b->name_len &&
           (a->name_len == 0 ||
            (a->name[0] == b->name[0] && memcmp(a->name, b->name, a->name_len) == 0));
}

/* Stable insertion sort by name: a request has a handful of headers. */
static void sort_small(struct hentry *e, size_t n)
{
    size_t i, j;

    for (i = 1; i < n; i++) {
        struct hentry x = e[i];

        for (j = i; j > 0 && cmp_bytes(e[j - 1].name, e[j - 1].name_len, x.name, x.name_len) > 0;
             j--)
            e[j] = e[j - 1];
        e[j] = x;
    }
}

/* dst = src with A-Z lowercased (other bytes as they are). */
static void lower_into(char *dst, const char *src, size_t len)
{
    size_t i;

    for (i = 0; i < len; i++)
        dst[i] = (char)to_lower((unsigned char)src[i]);
}

#define NAMES_STACK 1024 /* lowercased names up to this many bytes live on the stack */

int fsx_sigv4_canonical_headers(struct fsx_buf *out, struct fsx_buf *signed_headers,
                                const struct fsx_sigv4_header *headers, size_t n,
                                const struct fsx_sigv4_header *extra, size_t n_extra)
{
    struct hentry stack_entries[STACK_ENTRIES];
    char stack_names[NAMES_STACK];
    struct hentry *e = stack_entries;
    char *names = stack_names, *nm;
    size_t total = n + n_extra, i, j, k, out_need = 0, sig_need = 0;
    char *o, *s;
    int rc = -1;

    if (total < n)
        return -1;
    if (total > STACK_ENTRIES) {
        if (total > SIZE_MAX / sizeof(*e))
            return -1;
        e = (struct hentry *)malloc(total * sizeof(*e));
        if (e == NULL)
            return -1;
    }
    for (i = 0; i < total; i++) {
        const struct fsx_sigv4_header *h = i < n ? &headers[i] : &extra[i - n];
        size_t line;

        /* name + ':' (or ';') + value + ',' (or '\n'), checked against wrapping */
        if (h->name_len > SIZE_MAX - 2 - h->value_len)
            goto done;
        line = h->name_len + h->value_len + 2;
        if (out_need > SIZE_MAX - line || sig_need > SIZE_MAX - line)
            goto done;
        out_need += line;
        sig_need += h->name_len + 1;
        e[i].name = h->name;
        e[i].name_len = h->name_len;
        e[i].value = h->value;
        e[i].value_len = h->value_len;
        e[i].order = i;
    }
    /* sig_need bounds the names' total length */
    if (sig_need > NAMES_STACK && (names = (char *)malloc(sig_need)) == NULL)
        goto done;
    for (i = 0, nm = names; i < total; i++) {
        lower_into(nm, e[i].name, e[i].name_len);
        e[i].name = nm;
        nm += e[i].name_len;
    }
    if (total <= STACK_ENTRIES)
        sort_small(e, total);
    else
        qsort(e, total, sizeof(*e), cmp_hentry);
    if (fsx_buf_reserve(out, out_need) != 0 || fsx_buf_reserve(signed_headers, sig_need) != 0)
        goto done;
    o = out->data + out->len;
    s = signed_headers->data + signed_headers->len;
    for (i = 0; i < total; i = j) {
        for (j = i + 1; j < total && same_name(&e[i], &e[j]); j++)
            ;
        if (s != signed_headers->data + signed_headers->len)
            *s++ = ';';
        s = put(s, e[i].name, e[i].name_len);
        o = put(o, e[i].name, e[i].name_len);
        *o++ = ':';
        for (k = i; k < j; k++) {
            if (k > i)
                *o++ = ',';
            o = trim_into(o, e[k].value, e[k].value_len);
        }
        *o++ = '\n';
    }
    finish_at(out, o);
    finish_at(signed_headers, s);
    rc = 0;
done:
    if (e != stack_entries)
        free(e);
    if (names != stack_names)
        free(names);
    return rc;
}

/* ---- validation -------------------------------------------------------- */

static int bad(struct fsx_error *err, const char *code, const char *what)
{
    fsx_error_set(err, FSX_ERR_VALIDATION, code, "sigv4: %s", what);
    return -1;
}

/*
 * The length of a credential-scope field (printable ASCII without space, '/'
 * or ','), or 0 when it is empty or holds another byte. The classes are
 * ANDed over the whole string: one branch per byte (the terminator test).
 */
static size_t scope_part_len(const char *s)
{
    unsigned all = FSX_C_SCOPE;
    size_t i;

    for (i = 0; s[i] != '\0'; i++)
        all &= fsx_char_class[(unsigned char)s[i]];
    return all & FSX_C_SCOPE ? i : 0;
}

/* Compare a header value, trimmed, with s. */
static int trimmed_equals(const char *v, size_t len, const char *s)
{
    size_t sl = strlen(s);

    while (len > 0 && FSX_IS(v[0], FSX_C_BLANK)) {
        v++;
        len--;
    }
    while (len > 0 && FSX_IS(v[len - 1], FSX_C_BLANK))
        len--;
    return len == sl && (sl == 0 || memcmp(v, s, sl) == 0);
}

/*
 * What validation learns on the way, so the signer does not scan again: the
 * scope strings' lengths and which of the headers it may add the request
 * already carries.
 */
struct req_info {
    size_t method_len;
    size_t region_len;
    size_t service_len;
    size_t akid_len;
    size_t token_len; /* 0: no session token */
    int has_date;     /* an X-Amz-Date header was given */
    int has_token;    /* an X-Amz-Security-Token header was given */
    int has_sha;      /* an x-amz-content-sha256 header was given */
};

/* Which of the headers the signer adds req already has (any case). */
static void scan_amz_headers(const struct fsx_sigv4_request *req, struct req_info *info)
{
    size_t i;

    info->has_date = info->has_token = info->has_sha = 0;
    for (i = 0; i < req->n_headers; i++) {
        const struct fsx_sigv4_header *h = &req->headers[i];

        if (h->name_len < 10 || (h->name[0] != 'x' && h->name[0] != 'X'))
            continue;
        if (name_is(h, "x-amz-date", 10))
            info->has_date = 1;
        else if (name_is(h, "x-amz-security-token", 20))
            info->has_token = 1;
        else if (name_is(h, "x-amz-content-sha256", 20))
            info->has_sha = 1;
    }
}

/* req_info of an unvalidated request, for the staged functions. */
static void fill_info(const struct fsx_sigv4_request *req, struct req_info *info)
{
    info->method_len = req->method != NULL ? strlen(req->method) : 0;
    info->region_len = req->region != NULL ? strlen(req->region) : 0;
    info->service_len = req->service != NULL ? strlen(req->service) : 0;
    info->akid_len = req->access_key_id != NULL ? strlen(req->access_key_id) : 0;
    info->token_len = req->session_token != NULL ? strlen(req->session_token) : 0;
    scan_amz_headers(req, info);
}

static int validate_on(const struct fsx_sigv4_request *req, struct fsx_error *err,
                       struct req_info *info)
{
    size_t i, k;
    int has_host = 0;

    if (req == NULL)
        return bad(err, "MissingField", "no request");
    if (req->method == NULL || req->method[0] == '\0')
        return bad(err, "MissingField", "method is required");
    info->method_len = strlen(req->method);
    if (!fsx_is_token(req->method, info->method_len))
        return bad(err, "InvalidMethod", "method is not a token");
    if (req->path == NULL && req->path_len > 0)
        return bad(err, "MissingField", "path is NULL with a non-zero length");
    if (req->query == NULL && req->query_len > 0)
        return bad(err, "MissingField", "query is NULL with a non-zero length");
    if (req->body == NULL && req->body_len > 0)
        return bad(err, "MissingField", "body is NULL with a non-zero length");
    if (req->headers == NULL && req->n_headers > 0)
        return bad(err, "MissingField", "headers is NULL with a non-zero count");
    if (req->region == NULL || req->region[0] == '\0')
        return bad(err, "MissingField", "region is required");
    if (req->service == NULL || req->service[0] == '\0')
        return bad(err, "MissingField", "service is required");
    if (req->access_key_id == NULL || req->access_key_id[0] == '\0')
        return bad(err, "MissingField", "access_key_id is required");
    if (req->secret_access_key == NULL || req->secret_access_key[0] == '\0')
        return bad(err, "MissingField", "secret_access_key is required");
    if (req->amz_date == NULL)
        return bad(err, "MissingField", "amz_date is required");
    if ((info->region_len = scope_part_len(req->region)) == 0)
        return bad(err, "InvalidScope", "region holds a character not allowed in a scope");
    if ((info->service_len = scope_part_len(req->service)) == 0)
        return bad(err, "InvalidScope", "service holds a character not allowed in a scope");
    if ((info->akid_len = scope_part_len(req->access_key_id)) == 0)
        return bad(err, "InvalidScope", "access_key_id holds a character not allowed");
    if (!fsx_is_amz_date(req->amz_date, strlen(req->amz_date)))
        return bad(err, "InvalidDate", "amz_date must be YYYYMMDDTHHMMSSZ");
    info->token_len = req->session_token != NULL ? strlen(req->session_token) : 0;
    if (!fsx_is_field_value(req->session_token, info->token_len))
        return bad(err, "InvalidHeaderValue", "session_token holds a control character");
    if (req->payload_hash != NULL) {
        const char *ph = req->payload_hash;

        for (k = 0; k < 64 && FSX_IS(ph[k], FSX_C_HEXLOWER); k++)
            ;
        if (k != 64 || ph[64] != '\0')
            return bad(err, "InvalidPayloadHash", "payload_hash must be 64 lowercase hex digits");
    }
    info->has_date = info->has_token = info->has_sha = 0;
    for (i = 0; i < req->n_headers; i++) {
        const struct fsx_sigv4_header *h = &req->headers[i];

        if (h->name == NULL || h->name_len == 0) {
            fsx_error_set(err, FSX_ERR_VALIDATION, "InvalidHeaderName",
                          "sigv4: header %lu has an empty name", (unsigned long)i + 1);
            return -1;
        }
        if (!fsx_is_token(h->name, h->name_len)) {
            fsx_error_set(err, FSX_ERR_VALIDATION, "InvalidHeaderName",
                          "sigv4: header %lu name is not a token", (unsigned long)i + 1);
            return -1;
        }
        if ((h->value == NULL && h->value_len > 0) || !fsx_is_field_value(h->value, h->value_len)) {
            fsx_error_set(err, FSX_ERR_VALIDATION, "InvalidHeaderValue",
                          "sigv4: header %.*s: value holds CR, LF, NUL or another control "
                          "character (unfold continuation lines first)",
                          h->name_len > 64 ? 64 : (int)h->name_len, h->name);
            return -1;
        }
        if (h->name_len == 4) {
            if (name_is(h, "host", 4))
                has_host = 1;
        } else if (h->name_len == 10) {
            if (name_is(h, "x-amz-date", 10)) {
                info->has_date = 1;
                if (!trimmed_equals(h->value, h->value_len, req->amz_date))
                    return bad(err, "ConflictingHeader", "x-amz-date header differs from amz_date");
            }
        } else if (h->name_len == 20) {
            if (name_is(h, "x-amz-security-token", 20)) {
                info->has_token = 1;
                if (info->token_len > 0 &&
                    !trimmed_equals(h->value, h->value_len, req->session_token))
                    return bad(err, "ConflictingHeader",
                               "x-amz-security-token header differs from session_token");
            } else if (name_is(h, "x-amz-content-sha256", 20)) {
                info->has_sha = 1;
            }
        }
    }
    if (!has_host)
        return bad(err, "MissingHost", "the host header is required");
    return 0;
}

int fsx_sigv4_validate(const struct fsx_sigv4_request *req, struct fsx_error *err)
{
    struct req_info info;

    return validate_on(req, err, &info);
}

/* ---- results ----------------------------------------------------------- */

void fsx_sigv4_result_init(struct fsx_sigv4_result *res)
{
    /* the canonical request holds the session token */
    fsx_buf_init_secret(&res->canonical_request);
    fsx_buf_init_secret(&res->string_to_sign);
    fsx_buf_init(&res->signed_headers);
    fsx_buf_init_secret(&res->authorization);
    memset(res->signature, 0, sizeof(res->signature));
    memset(res->payload_hash, 0, sizeof(res->payload_hash));
    memset(res->added, 0, sizeof(res->added));
    res->n_added = 0;
}

void fsx_sigv4_result_free(struct fsx_sigv4_result *res)
{
    if (res == NULL)
        return;
    fsx_buf_free_secure(&res->canonical_request);
    fsx_buf_free_secure(&res->string_to_sign);
    fsx_buf_free_secure(&res->signed_headers);
    fsx_buf_free_secure(&res->authorization);
    fsx_wipe(res->signature, sizeof(res->signature));
    fsx_sigv4_result_init(res);
}

/* Empty every output, keeping the allocations; wipe=1 also clears the bytes. */
static void result_clear(struct fsx_sigv4_result *res, int wipe)
{
    struct fsx_buf *bufs[4];
    size_t i;

    bufs[0] = &res->canonical_request;
    bufs[1] = &res->string_to_sign;
    bufs[2] = &res->signed_headers;
    bufs[3] = &res->authorization;
    for (i = 0; i < 4; i++) {
        if (wipe && bufs[i]->data != NULL)
            fsx_wipe(bufs[i]->data, bufs[i]->len);
        fsx_buf_reset(bufs[i]);
    }
    if (wipe)
        fsx_wipe(res->signature, sizeof(res->signature));
    res->signature[0] = '\0';
    res->payload_hash[0] = '\0';
    memset(res->added, 0, sizeof(res->added));
    res->n_added = 0;
}

/*
 * The result's buffers that may hold secrets (the canonical request holds
 * the session token; the string to sign is scratch for the encoded query).
 */
#define N_SECRET_BUFS 3

static void secret_bufs(struct fsx_sigv4_result *res, struct fsx_buf *b[N_SECRET_BUFS])
{
    b[0] = &res->canonical_request;
    b[1] = &res->string_to_sign;
    b[2] = &res->authorization;
}

/*
 * result_clear(res, 0) for a signature that rewrites every output: the
 * secret buffers' bytes are not wiped but overwritten, and high[] receives
 * how far each reached, so that result_wipe_rest clears only what the new
 * signature leaves of them. Each byte is then written or wiped once.
 */
static void result_reuse(struct fsx_sigv4_result *res, size_t high[N_SECRET_BUFS])
{
    struct fsx_buf *b[N_SECRET_BUFS];
    size_t i;

    secret_bufs(res, b);
    for (i = 0; i < N_SECRET_BUFS; i++) {
        high[i] = b[i]->len;
        b[i]->len = 0;
    }
    result_clear(res, 0); /* wipes nothing now: every secret buffer is empty */
}

/* Wipe what an earlier, longer content left past the end of each secret buffer. */
static void result_wipe_rest(struct fsx_sigv4_result *res, const size_t high[N_SECRET_BUFS])
{
    struct fsx_buf *b[N_SECRET_BUFS];
    size_t i;

    secret_bufs(res, b);
    for (i = 0; i < N_SECRET_BUFS; i++)
        if (high[i] > b[i]->len)
            fsx_wipe(b[i]->data + b[i]->len, high[i] - b[i]->len);
}

/* ---- canonical request, string to sign, key, signature ---------------- */

static void hex32(const unsigned char d[32], char out[65])
{
    *fsx_hex(out, d, 32) = '\0';
}

static void add_header(struct fsx_sigv4_result *res, const char *name, size_t name_len,
                       const char *value, size_t value_len)
{
    struct fsx_sigv4_header *h = &res->added[res->n_added++];

    h->name = name;
    h->name_len = name_len;
    h->value = value;
    h->value_len = value_len;
}

#define LIT(s) s, sizeof(s) - 1

/* The canonical request of a validated req into a cleared res (see fsx_sigv4_canonical_request). */
static int canonical_request_on(const struct fsx_sigv4_request *req, const struct req_info *info,
                                struct fsx_sigv4_result *res, struct fsx_error *err)
{
    struct fsx_sigv4_header extra[3];
    struct fsx_buf *cr = &res->canonical_request;
    unsigned char digest[32];
    size_t n_extra = 0;

    if (req->payload_hash != NULL) {
        memcpy(res->payload_hash, req->payload_hash, 64);
        res->payload_hash[64] = '\0';
    } else {
        if (fsx_sha256(req->body, req->body_len, digest) != 0) {
            fsx_error_set(err, FSX_ERR_CRYPTO, "CryptoFailure", "sigv4: sha-256 failed");
            return -1;
        }
        hex32(digest, res->payload_hash);
    }
    /* added[] in the documented order; extra[] is the signed subset */
    if (!info->has_date) {
        add_header(res, LIT("X-Amz-Date"), req->amz_date, AMZ_DATE_LEN);
        extra[n_extra++] = res->added[res->n_added - 1];
    }
    if (info->token_len > 0 && !info->has_token) {
        add_header(res, LIT("X-Amz-Security-Token"), req->session_token, info->token_len);
        if (!(req->flags & FSX_SIGV4_OMIT_SESSION_TOKEN))
            extra[n_extra++] = res->added[res->n_added - 1];
    }
    if ((req->flags & FSX_SIGV4_SIGN_BODY) && !info->has_sha) {
        add_header(res, LIT("x-amz-content-sha256"), res->payload_hash, 64);
        extra[n_extra++] = res->added[res->n_added - 1];
    }
    if (fsx_buf_append(cr, req->method, info->method_len) != 0 ||
        fsx_buf_append_char(cr, '\n') != 0 ||
        fsx_sigv4_canonical_path(cr, req->path, req->path_len, req->flags) != 0 ||
        fsx_buf_append_char(cr, '\n') != 0 ||
        fsx_sigv4_canonical_query(cr, &res->string_to_sign, req->query, req->query_len) != 0 ||
        fsx_buf_append_char(cr, '\n') != 0 ||
        fsx_sigv4_canonical_headers(cr, &res->signed_headers, req->headers, req->n_headers, extra,
                                    n_extra) != 0 ||
        fsx_buf_reserve(cr, res->signed_headers.len + 66) != 0) {
        fsx_error_set(err, FSX_ERR_MEMORY, "OutOfMemory",
                      "sigv4: out of memory building the canonical request");
        return -1;
    }
    /* "\n" signed headers "\n" payload hash: room reserved above */
    {
        char *o = cr->data + cr->len;

        *o++ = '\n';
        o = put(o, res->signed_headers.data, res->signed_headers.len);
        *o++ = '\n';
        memcpy(o, res->payload_hash, 64);
        finish_at(cr, o + 64);
    }
    fsx_buf_reset(&res->string_to_sign);
    return 0;
}

int fsx_sigv4_canonical_request(const struct fsx_sigv4_request *req, struct fsx_sigv4_result *res,
                                struct fsx_error *err)
{
    struct req_info info;

    result_clear(res, 0);
    fill_info(req, &info);
    return canonical_request_on(req, &info, res, err);
}

/*
 * Reset out and write the string to sign, in one pass into a buffer
 * reserved once: ALGORITHM, the date-time, the scope, the hex digest.
 */
static int string_to_sign_on(struct fsx_buf *out, const char *amz_date, const char *region,
                             size_t region_len, const char *service, size_t service_len,
                             const char *creq, size_t creq_len, struct fsx_error *err)
{
    unsigned char digest[32];
    char *o;

    fsx_buf_reset(out);
    if (fsx_sha256(creq, creq_len, digest) != 0) {
        fsx_error_set(err, FSX_ERR_CRYPTO, "CryptoFailure", "sigv4: sha-256 failed");
        return -1;
    }
    if (region_len > SIZE_MAX / 4 || service_len > SIZE_MAX / 4 ||
        fsx_buf_reserve(out, sizeof(ALGORITHM) + AMZ_DATE_LEN + 1 + 8 + 1 + region_len + 1 +
                                 service_len + sizeof(SCOPE_TERMINATOR) + 1 + 64) != 0) {
        fsx_error_set(err, FSX_ERR_MEMORY, "OutOfMemory",
                      "sigv4: out of memory building the string to sign");
        return -1;
    }
    o = out->data;
    memcpy(o, ALGORITHM "\n", sizeof(ALGORITHM));
    o += sizeof(ALGORITHM);
    memcpy(o, amz_date, AMZ_DATE_LEN);
    o += AMZ_DATE_LEN;
    *o++ = '\n';
    memcpy(o, amz_date, 8);
    o += 8;
    *o++ = '/';
    o = put(o, region, region_len);
    *o++ = '/';
    o = put(o, service, service_len);
    memcpy(o, "/" SCOPE_TERMINATOR "\n", sizeof(SCOPE_TERMINATOR) + 1);
    o += sizeof(SCOPE_TERMINATOR) + 1;
    finish_at(out, fsx_hex(o, digest, sizeof(digest)));
    return 0;
}

int fsx_sigv4_string_to_sign(struct fsx_buf *out, const char *amz_date, const char *region,
                             const char *service, const char *creq, size_t creq_len)
{
    return string_to_sign_on(out, amz_date, region, strlen(region), service, strlen(service), creq,
                             creq_len, NULL);
}

/*
 * The signing key into out (msg NULL), or the MAC of msg under it: one HMAC
 * chain over the scope's parts (and msg), so a key that no cache keeps never
 * leaves crypto.c, which wipes it.
 */
static int key_chain(const char *secret, size_t secret_len, const char *date8, const char *region,
                     size_t region_len, const char *service, size_t service_len, const char *msg,
                     size_t msg_len, unsigned char out[32])
{
    struct fsx_bytes m[5];

    m[0].data = date8;
    m[0].len = 8;
    m[1].data = region;
    m[1].len = region_len;
    m[2].data = service;
    m[2].len = service_len;
    m[3].data = SCOPE_TERMINATOR;
    m[3].len = sizeof(SCOPE_TERMINATOR) - 1;
    m[4].data = msg;
    m[4].len = msg_len;
    return fsx_hmac_sha256_chain("AWS4", 4, secret, secret_len, m, msg != NULL ? 5 : 4, out);
}

static int derive_key_on(const char *secret, size_t secret_len, const char *date8,
                         const char *region, size_t region_len, const char *service,
                         size_t service_len, unsigned char key[32])
{
    return key_chain(secret, secret_len, date8, region, region_len, service, service_len, NULL, 0,
                     key);
}

int fsx_sigv4_derive_key(const char *secret, size_t secret_len, const char *date8,
                         const char *region, const char *service, unsigned char key[32])
{
    return derive_key_on(secret, secret_len, date8, region, strlen(region), service,
                         strlen(service), key);
}

int fsx_sigv4_signature(const unsigned char key[32], const char *sts, size_t sts_len, char out[65])
{
    unsigned char mac[32];

    if (fsx_hmac_sha256(key, 32, sts, sts_len, mac) != 0)
        return -1;
    hex32(mac, out);
    return 0;
}

/* ---- derived-key cache -------------------------------------------------- */

/*
 * A slot is keyed by (secret, date, region, service). The secret is not kept
 * in plain text: the slot stores secret XOR a random pad drawn once per cache
 * (fsx_random_bytes), and a lookup compares in constant time by XOR-ing the
 * candidate with the pad on the fly. This costs nothing per call (a hash
 * fingerprint would cost a SHA-256, a quarter of a cached signature) and
 * keeps the secret out of memory scans and core-dump greps; it is not a
 * defence against someone who can read the whole cache (pad included).
 *
 * Besides the signing key, a slot keeps it prepared for HMAC (the SHA-256
 * states after its ipad and opad blocks, fsx_hmac_sha256_prepare), so a
 * cached signature's HMAC costs the string to sign's blocks plus one outer
 * block. Slots, pad, keys and prepared states are wiped on replacement and
 * on free. Secrets longer than SECRET_MAX and scopes longer than SCOPE_MAX
 * bypass the cache.
 */
#define CACHE_SLOTS 4
#define SECRET_MAX 128
#define SCOPE_MAX 64

struct cache_slot {
    int used;
    unsigned long last_use;
    size_t secret_len;
    unsigned char secret_masked[SECRET_MAX];
    char date[8];
    size_t region_len;
    size_t service_len;
    char region[SCOPE_MAX];
    char service[SCOPE_MAX];
    unsigned char key[32];
    struct fsx_hmac_sha256_key prepared; /* key's ipad/opad states */
};

struct fsx_sigv4_cache {
    unsigned long derivations;
    unsigned long tick;
    unsigned char pad[SECRET_MAX];
    struct cache_slot slots[CACHE_SLOTS];
};

struct fsx_sigv4_cache *fsx_sigv4_cache_new(void)
{
    struct fsx_sigv4_cache *cache = (struct fsx_sigv4_cache *)calloc(1, sizeof(*cache));

    if (cache == NULL)
        return NULL;
    if (fsx_random_bytes(cache->pad, sizeof(cache->pad)) != 0) {
        fsx_sigv4_cache_free(cache);
        return NULL;
    }
    return cache;
}

void fsx_sigv4_cache_free(struct fsx_sigv4_cache *cache)
{
    size_t i;

    if (cache == NULL)
        return;
    for (i = 0; i < CACHE_SLOTS; i++)
        fsx_hmac_sha256_key_free(&cache->slots[i].prepared);
    fsx_wipe(cache, sizeof(*cache));
    free(cache);
}

unsigned long fsx_sigv4_cache_derivations(const struct fsx_sigv4_cache *cache)
{
    return cache != NULL ? cache->derivations : 0;
}

static int slot_matches(const struct fsx_sigv4_cache *cache, const struct cache_slot *s,
                        const char *secret, size_t secret_len, const char *date8,
                        const char *region, size_t region_len, const char *service,
                        size_t service_len)
{
    unsigned char diff = 0;
    size_t i;

    if (!s->used || s->secret_len != secret_len || s->region_len != region_len ||
        s->service_len != service_len || memcmp(s->date, date8, 8) != 0 ||
        memcmp(s->region, region, region_len) != 0 || memcmp(s->service, service, service_len) != 0)
        return 0;
    /* no early exit */
    for (i = 0; i < secret_len; i++)
        diff |= (unsigned char)(s->secret_masked[i] ^ cache->pad[i] ^ (unsigned char)secret[i]);
    return diff == 0;
}

/*
 * The slot holding the key for (secret, date8, region, service): a hit, or
 * the least recently used slot refilled (key derived, counted, prepared).
 * *slot is NULL when there is no cache or the strings are too long for a
 * slot; the caller then derives the key itself. Returns 0, or -1 when the
 * derivation failed.
 */
static int cache_get(struct fsx_sigv4_cache *cache, const char *secret, size_t secret_len,
                     const char *date8, const char *region, size_t region_len, const char *service,
                     size_t service_len, struct cache_slot **slot)
{
    struct cache_slot *victim;
    size_t i;

    *slot = NULL;
    if (cache == NULL || secret_len > SECRET_MAX || region_len >= SCOPE_MAX ||
        service_len >= SCOPE_MAX)
        return 0;
    cache->tick++;
    victim = &cache->slots[0];
    for (i = 0; i < CACHE_SLOTS; i++) {
        struct cache_slot *s = &cache->slots[i];

        if (slot_matches(cache, s, secret, secret_len, date8, region, region_len, service,
                         service_len)) {
            s->last_use = cache->tick;
            *slot = s;
            return 0;
        }
        if (!s->used ? victim->used : (victim->used && s->last_use < victim->last_use))
            victim = s;
    }
    /* only the key, its prepared states and the masked secret are sensitive */
    fsx_wipe(victim->key, sizeof(victim->key));
    fsx_hmac_sha256_key_free(&victim->prepared);
    if (victim->used)
        fsx_wipe(victim->secret_masked, victim->secret_len);
    victim->used = 0;
    if (derive_key_on(secret, secret_len, date8, region, region_len, service, service_len,
                      victim->key) != 0 ||
        fsx_hmac_sha256_prepare(&victim->prepared, victim->key, sizeof(victim->key)) != 0) {
        fsx_wipe(victim->key, sizeof(victim->key));
        return -1;
    }
    cache->derivations++;
    for (i = 0; i < secret_len; i++)
        victim->secret_masked[i] = (unsigned char)((unsigned char)secret[i] ^ cache->pad[i]);
    victim->secret_len = secret_len;
    memcpy(victim->date, date8, 8);
    memcpy(victim->region, region, region_len);
    victim->region_len = region_len;
    memcpy(victim->service, service, service_len);
    victim->service_len = service_len;
    victim->last_use = cache->tick;
    victim->used = 1;
    *slot = victim;
    return 0;
}

int fsx_sigv4_cache_lookup(struct fsx_sigv4_cache *cache, const char *secret, const char *date8,
                           const char *region, const char *service, unsigned char key[32])
{
    size_t secret_len = strlen(secret), region_len = strlen(region);
    size_t service_len = strlen(service);
    struct cache_slot *slot;

    if (cache_get(cache, secret, secret_len, date8, region, region_len, service, service_len,
                  &slot) != 0)
        return -1;
    if (slot != NULL) {
        memcpy(key, slot->key, 32);
        return 0;
    }
    if (derive_key_on(secret, secret_len, date8, region, region_len, service, service_len, key) !=
        0)
        return -1;
    if (cache != NULL)
        cache->derivations++;
    return 0;
}

/* ---- the whole signature ----------------------------------------------- */

/* res->authorization (empty) = the Authorization value, reserved once. */
static int authorization_on(const struct fsx_sigv4_request *req, const struct req_info *info,
                            struct fsx_sigv4_result *res, struct fsx_error *err)
{
    static const char cred[] = ALGORITHM " Credential=";
    struct fsx_buf *auth = &res->authorization;
    /* the scope is the string to sign's third line */
    const char *scope = res->string_to_sign.data + sizeof(ALGORITHM) + AMZ_DATE_LEN + 1;
    size_t scope_len =
        8 + 1 + info->region_len + 1 + info->service_len + 1 + sizeof(SCOPE_TERMINATOR) - 1;
    char *o;

    if (fsx_buf_reserve(auth, sizeof(cred) - 1 + info->akid_len + 1 + scope_len + 16 +
                                  res->signed_headers.len + 12 + 64) != 0) {
        fsx_error_set(err, FSX_ERR_MEMORY, "OutOfMemory",
                      "sigv4: out of memory building the authorization");
        return -1;
    }
    o = auth->data + auth->len;
    memcpy(o, cred, sizeof(cred) - 1);
    o += sizeof(cred) - 1;
    o = put(o, req->access_key_id, info->akid_len);
    *o++ = '/';
    o = put(o, scope, scope_len);
    memcpy(o, ", SignedHeaders=", 16);
    o += 16;
    o = put(o, res->signed_headers.data, res->signed_headers.len);
    memcpy(o, ", Signature=", 12);
    o += 12;
    memcpy(o, res->signature, 64);
    finish_at(auth, o + 64);
    return 0;
}

int fsx_sigv4_sign(const struct fsx_sigv4_request *req, struct fsx_sigv4_cache *cache,
                   struct fsx_sigv4_result *res, struct fsx_error *err)
{
    struct req_info info;
    struct cache_slot *slot = NULL;
    unsigned char mac[32];
    size_t secret_len, high[N_SECRET_BUFS];
    int rc = -1;

    if (res == NULL) {
        fsx_error_set(err, FSX_ERR_VALIDATION, "MissingField", "sigv4: no result");
        return -1;
    }
    result_reuse(res, high);
    if (validate_on(req, err, &info) != 0)
        goto done;
    if (canonical_request_on(req, &info, res, err) != 0 ||
        string_to_sign_on(&res->string_to_sign, req->amz_date, req->region, info.region_len,
                          req->service, info.service_len, res->canonical_request.data,
                          res->canonical_request.len, err) != 0)
        goto done;
    secret_len = strlen(req->secret_access_key);
    if (cache_get(cache, req->secret_access_key, secret_len, req->amz_date, req->region,
                  info.region_len, req->service, info.service_len, &slot) != 0)
        goto crypto_failed;
    if (slot != NULL) {
        if (fsx_hmac_sha256_prepared(&slot->prepared, res->string_to_sign.data,
                                     res->string_to_sign.len, mac) != 0)
            goto crypto_failed;
    } else {
        if (key_chain(req->secret_access_key, secret_len, req->amz_date, req->region,
                      info.region_len, req->service, info.service_len, res->string_to_sign.data,
                      res->string_to_sign.len, mac) != 0)
            goto crypto_failed;
        if (cache != NULL)
            cache->derivations++;
    }
    hex32(mac, res->signature);
    if (authorization_on(req, &info, res, err) != 0)
        goto done;
    rc = 0;
    goto done;
crypto_failed:
    fsx_error_set(err, FSX_ERR_CRYPTO, "CryptoFailure", "sigv4: hmac-sha256 failed");
done:
    result_wipe_rest(res, high);
    if (rc != 0)
        result_clear(res, 1);
    return rc;
}
