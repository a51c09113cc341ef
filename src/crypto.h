/*
 * crypto.h - the few OpenSSL primitives the upper layers need (signing core layer).
 *
 * Pure C over libcrypto's EVP interface (nothing deprecated in OpenSSL 3:
 * the build checks it with OPENSSL_API_COMPAT=30000 and
 * OPENSSL_NO_DEPRECATED, `make crypto-api-check`). Return 0 on success, -1
 * on failure (memory, or a provider that refused).
 */
#ifndef FSX_CRYPTO_H
#define FSX_CRYPTO_H

#include <stddef.h>

/* out receives 32 bytes. */
int fsx_sha256(const void *data, size_t len, unsigned char out[32]);
/* out receives 65 bytes: 64 lowercase hex digits and a NUL. */
int fsx_sha256_hex(const void *data, size_t len, char out[65]);
/*
 * out receives 41 bytes: 40 lowercase hex digits of the SHA-1 and a NUL. For
 * names only (the AWS CLI's SSO token cache files are named by it), never
 * for signing. Returns 0, or -1 when OpenSSL has no SHA-1.
 */
int fsx_sha1_hex(const void *data, size_t len, char out[41]);
/*
 * HMAC-SHA256 (RFC 2104) keyed with key1 || key2 (so "AWS4" + secret needs no
 * copy); key2 may be NULL when key2_len is 0. out receives 32 bytes. Every
 * temporary that held key material is wiped.
 */
int fsx_hmac_sha256_2(const void *key1, size_t key1_len, const void *key2, size_t key2_len,
                      const void *data, size_t len, unsigned char out[32]);
/* A byte string. */
struct fsx_bytes {
    const void *data;
    size_t len;
};

/*
 * The HMAC-SHA256 chain that derives a SigV4 signing key: the first MAC is
 * keyed with key1 || key2 over msgs[0], each next one is keyed with the MAC
 * before it over the next message; out receives the last MAC (32 bytes).
 * n >= 1. Every intermediate key and pad is wiped; returns 0 or -1.
 */
int fsx_hmac_sha256_chain(const void *key1, size_t key1_len, const void *key2, size_t key2_len,
                          const struct fsx_bytes *msgs, size_t n, unsigned char out[32]);
/* fsx_hmac_sha256_2 with one key. */
int fsx_hmac_sha256(const void *key, size_t key_len, const void *data, size_t len,
                    unsigned char out[32]);
/* Cryptographically strong random bytes (RAND_bytes). */
int fsx_random_bytes(unsigned char *out, size_t len);
/* Wipe memory so the compiler cannot elide it (OPENSSL_cleanse). */
void fsx_wipe(void *p, size_t len);

/*
 * A prepared HMAC-SHA256 key: two digest contexts that have absorbed the
 * key's ipad block and its opad block (RFC 2104). A MAC under it copies them
 * instead of hashing the pads again, which is what a cached signing key
 * saves per signature. Key material: fsx_hmac_sha256_key_free wipes and
 * frees it (OpenSSL clears a SHA-256 context when it frees it). Zeroed
 * (memset 0) is the empty state; free is idempotent.
 */
struct fsx_hmac_sha256_key {
    void *inner; /* EVP_MD_CTX * */
    void *outer; /* EVP_MD_CTX * */
};

/* Prepare k (empty or freed) from key[0..key_len). Returns 0, or -1 (k stays empty). */
int fsx_hmac_sha256_prepare(struct fsx_hmac_sha256_key *k, const void *key, size_t key_len);
/* HMAC-SHA256 of data under a prepared key into out (32 bytes). */
int fsx_hmac_sha256_prepared(const struct fsx_hmac_sha256_key *k, const void *data, size_t len,
                             unsigned char out[32]);
void fsx_hmac_sha256_key_free(struct fsx_hmac_sha256_key *k);

#endif
