/*
 * sigv4_stages.h - the stages of SigV4 signing, one function each (signing core
 * layer, internal header).
 *
 * fsx_sigv4_sign() in sigv4.c is these stages run in order over one result
 * struct. They are exposed so the C tests can check every intermediate value
 * against the AWS suite and feed edge cases to a single stage; nothing
 * outside the signing core and its tests includes this header.
 *
 * Conventions shared by every function here:
 *   - "append" functions add to the end of a caller-owned struct fsx_buf and
 *     never reset it; they return 0, or -1 when memory ran out (the buffer
 *     then holds a truncated but NUL-terminated prefix and must be discarded);
 *   - inputs are not validated again: run fsx_sigv4_validate() first (the
 *     canonicalizers are nevertheless memory-safe on any bytes).
 */
#ifndef FSX_SIGV4_STAGES_H
#define FSX_SIGV4_STAGES_H

#include <stddef.h>

#include "buf.h"
#include "crypto.h"
#include "error.h"
#include "sigv4.h"

/*
 * Check every input of req (see fsx_sigv4_sign for the rules). Returns 0, or
 * -1 with err set to FSX_ERR_VALIDATION and a code such as "MissingField",
 * "InvalidDate", "InvalidHeaderName", "InvalidHeaderValue", "MissingHost",
 * "InvalidPayloadHash", "InvalidMethod", "InvalidScope", "ConflictingHeader".
 * Messages never quote a header value, the secret or the token.
 */
int fsx_sigv4_validate(const struct fsx_sigv4_request *req, struct fsx_error *err);

/*
 * Append the canonical URI of path (len bytes, as on the request line; may
 * be NULL when len is 0). Two modes:
 *
 *   default (every service but S3): dot segments are removed (RFC 3986
 *   5.2.4 on the path as given, so "%2E" is not a dot), empty segments
 *   (runs of '/') are dropped, and a trailing slash is kept when the path
 *   ends with '/' ("/a/b/.." is "/a", "/a/b/../" is "/a/"; botocore's rule);
 *   then every byte but the unreserved
 *   A-Za-z0-9-._~ and '/' is percent-encoded with uppercase hex, '%'
 *   included. The request line's path is already encoded once, so this is
 *   AWS's "URI-encode twice" rule ("/a%20b" -> "/a%2520b"), as botocore and
 *   aws-c-auth compute it; a raw path ("/a b", the AWS suite) gets "/a%20b".
 *
 *   FSX_SIGV4_NO_NORMALIZE_PATH (S3 style): segments kept as given, encoded
 *   once: valid %XX escapes are kept (hex uppercased), every other byte but
 *   unreserved and '/' is encoded, a malformed '%' becomes %25.
 *
 * An empty path, or one that normalizes to nothing, is "/"; a path not
 * starting with '/' gets one.
 */
int fsx_sigv4_canonical_path(struct fsx_buf *out, const char *path, size_t len, unsigned flags);

/*
 * Append the canonical query string of the raw query (no leading '?').
 * Parameters are split on '&' (empty pieces are dropped) and each on its
 * first '='; a parameter without '=' gets an empty value. Names and values
 * are percent-decoded ('+' is a literal plus) and re-encoded with the
 * unreserved set, then sorted by encoded name, then encoded value, and
 * joined as "name=value&...". scratch is reset and used as work space (its
 * contents afterwards are unspecified); it must not be out.
 */
int fsx_sigv4_canonical_query(struct fsx_buf *out, struct fsx_buf *scratch, const char *query,
                              size_t len);

/*
 * Append value with leading and trailing blanks (SP, HT) removed and every
 * inner run of blanks replaced by one space.
 */
int fsx_sigv4_append_trimmed(struct fsx_buf *out, const char *value, size_t len);

/*
 * Append the canonical headers of headers[0..n) followed by extra[0..n_extra)
 * to out (one "name:value\n" line per distinct lowercase name, sorted by
 * name; values of a repeated name trimmed and joined with ',' in the order
 * given) and the matching signed-header list ("host;x-amz-date") to
 * signed_headers. extra carries the headers the signer adds; none of its
 * names may also appear in headers. Names must be valid tokens.
 */
int fsx_sigv4_canonical_headers(struct fsx_buf *out, struct fsx_buf *signed_headers,
                                const struct fsx_sigv4_header *headers, size_t n,
                                const struct fsx_sigv4_header *extra, size_t n_extra);

/*
 * Build the whole canonical request of a validated req: resets res, fills
 * res->payload_hash (req->payload_hash or the SHA-256 of the body),
 * res->added (the headers to add, see struct fsx_sigv4_result),
 * res->signed_headers and res->canonical_request. res->string_to_sign is used
 * as scratch and left empty. Returns 0, or -1 with err set (FSX_ERR_MEMORY,
 * FSX_ERR_CRYPTO).
 */
int fsx_sigv4_canonical_request(const struct fsx_sigv4_request *req, struct fsx_sigv4_result *res,
                                struct fsx_error *err);

/*
 * Reset out and write the string to sign:
 * "AWS4-HMAC-SHA256\n<amz_date>\n<date>/<region>/<service>/aws4_request\n<hex sha256(creq)>".
 * amz_date must be a valid 16-character timestamp. Returns 0 or -1.
 */
int fsx_sigv4_string_to_sign(struct fsx_buf *out, const char *amz_date, const char *region,
                             const char *service, const char *creq, size_t creq_len);

/*
 * Derive the signing key: kDate = HMAC("AWS4" + secret, date8), kRegion,
 * kService, kSigning = HMAC(kService, "aws4_request"). date8 is the 8
 * digits YYYYMMDD (need not be NUL-terminated). Intermediate keys are wiped;
 * the caller wipes key when done. Returns 0 or -1.
 */
int fsx_sigv4_derive_key(const char *secret, size_t secret_len, const char *date8,
                         const char *region, const char *service, unsigned char key[32]);

/* out = lowercase hex of HMAC(key, sts); 65 bytes with the NUL. Returns 0 or -1. */
int fsx_sigv4_signature(const unsigned char key[32], const char *sts, size_t sts_len, char out[65]);

/*
 * The signing key for (secret, date8, region, service) through the cache:
 * a hit copies the cached key, a miss derives it (counted), stores it in
 * the least recently used slot (wiping the previous key), prepares it for
 * HMAC (fsx_hmac_sha256_prepare, kept in the slot for fsx_sigv4_sign) and
 * copies it. cache may be NULL (always derive, nothing counted). Returns 0
 * or -1; the caller wipes key.
 */
int fsx_sigv4_cache_lookup(struct fsx_sigv4_cache *cache, const char *secret, const char *date8,
                           const char *region, const char *service, unsigned char key[32]);

#endif
