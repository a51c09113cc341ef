/*
 * sigv4.h - AWS Signature Version 4 request signing (signing core layer).
 *
 * Pure C over OpenSSL libcrypto: no Lua, no curl, no clock. The caller passes
 * every input, the timestamp included, and owns every output. Canonicalization
 * follows the SigV4 rules for services other than S3: the path is taken as it
 * stands on the request line, normalized (dot segments removed, runs of '/'
 * collapsed) unless FSX_SIGV4_NO_NORMALIZE_PATH, and encoded once more, '%'
 * included ("/50%25" signs as "/50%2525", as botocore and aws-c-auth do);
 * with FSX_SIGV4_NO_NORMALIZE_PATH (S3 style) valid %XX escapes are decoded
 * and the path encoded once. Query parameters are decoded, re-encoded with
 * the unreserved set and sorted by name then value; header names are
 * lowercased, values trimmed with inner runs of spaces collapsed, repeated
 * names merged with ',' in order; signed headers sorted. The full rule is in
 * sigv4_stages.h.
 *
 * The staged functions in sigv4_stages.h expose each step for the tests.
 */
#ifndef FSX_SIGV4_H
#define FSX_SIGV4_H

#include <stddef.h>

#include "buf.h"
#include "error.h"

#define FSX_SIGV4_NO_NORMALIZE_PATH 0x1u  /* sign the path as given (S3 style) */
#define FSX_SIGV4_SIGN_BODY 0x2u          /* add and sign x-amz-content-sha256 */
#define FSX_SIGV4_OMIT_SESSION_TOKEN 0x4u /* add X-Amz-Security-Token unsigned */

/* A header as given by the caller: not NUL-terminated, may repeat a name. */
struct fsx_sigv4_header {
    const char *name;
    size_t name_len;
    const char *value;
    size_t value_len;
};

struct fsx_sigv4_request {
    const char *method; /* "POST"; NUL-terminated */
    const char *path;   /* as on the request line: raw, may hold spaces or UTF-8 */
    size_t path_len;
    const char *query; /* raw query string without '?', may be empty */
    size_t query_len;
    const struct fsx_sigv4_header *headers; /* must include Host */
    size_t n_headers;
    const char *body; /* may be NULL when body_len is 0 */
    size_t body_len;
    const char *payload_hash;      /* optional lowercase hex SHA-256; NULL: hash body */
    const char *region;            /* NUL-terminated, non-empty */
    const char *service;           /* NUL-terminated, non-empty */
    const char *access_key_id;     /* NUL-terminated, non-empty */
    const char *secret_access_key; /* NUL-terminated, non-empty */
    const char *session_token;     /* NULL or "" when none */
    const char *amz_date;          /* exactly "YYYYMMDDTHHMMSSZ" */
    unsigned flags;                /* FSX_SIGV4_* */
};

/*
 * Everything signing produces. Initialise with fsx_sigv4_result_init, release
 * with fsx_sigv4_result_free (idempotent). The result may be reused across
 * calls: fsx_sigv4_sign resets it first.
 */
struct fsx_sigv4_result {
    struct fsx_buf canonical_request;
    struct fsx_buf string_to_sign;
    struct fsx_buf signed_headers; /* "host;x-amz-date" */
    struct fsx_buf authorization;  /* full Authorization header value */
    char signature[65];            /* lowercase hex, NUL-terminated */
    char payload_hash[65];         /* the hash that was signed */
    /*
     * Headers the caller must add to the request before sending, in this
     * order, skipping any the request already had: X-Amz-Date,
     * X-Amz-Security-Token (when a token is given), x-amz-content-sha256
     * (with FSX_SIGV4_SIGN_BODY). Names and values point into the request's
     * strings or into this result; valid while both live.
     */
    struct fsx_sigv4_header added[3];
    size_t n_added;
};

/*
 * Cache of derived signing keys keyed by (secret, date, region, service), so a
 * steady stream of calls costs one HMAC for the key instead of four. Keys and
 * any secret-derived lookup data are wiped (OPENSSL_cleanse) when replaced and
 * on free. Not thread-safe: one cache per Lua state / per thread.
 */
struct fsx_sigv4_cache;

/* NULL on allocation failure. */
struct fsx_sigv4_cache *fsx_sigv4_cache_new(void);
/* Wipes and frees; NULL is fine. */
void fsx_sigv4_cache_free(struct fsx_sigv4_cache *cache);
/* Number of key derivations performed (for tests and benchmarks). */
unsigned long fsx_sigv4_cache_derivations(const struct fsx_sigv4_cache *cache);

void fsx_sigv4_result_init(struct fsx_sigv4_result *res);
void fsx_sigv4_result_free(struct fsx_sigv4_result *res);

/*
 * Sign req. cache may be NULL (derive the key every time). Returns 0 and fills
 * res, or -1 and fills err: FSX_ERR_VALIDATION for bad input (missing field,
 * malformed amz_date, CR/LF/NUL in a header name or value, a header name that
 * is not a token), FSX_ERR_MEMORY, FSX_ERR_CRYPTO. On failure res holds no
 * partial secret-derived data.
 */
int fsx_sigv4_sign(const struct fsx_sigv4_request *req, struct fsx_sigv4_cache *cache,
                   struct fsx_sigv4_result *res, struct fsx_error *err);

#endif
