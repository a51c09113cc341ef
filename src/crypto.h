/*
 * crypto.h - the few OpenSSL primitives the upper layers need (signing core layer).
 *
 * Pure C over libcrypto. Return 0 on success, -1 on failure.
 */
#ifndef FSX_CRYPTO_H
#define FSX_CRYPTO_H

#include <stddef.h>

/* out receives 32 bytes. */
int fsx_sha256(const void *data, size_t len, unsigned char out[32]);
/* out receives 65 bytes: 64 lowercase hex digits and a NUL. */
int fsx_sha256_hex(const void *data, size_t len, char out[65]);
/* out receives 32 bytes. */
int fsx_hmac_sha256(const void *key, size_t key_len, const void *data, size_t len,
                    unsigned char out[32]);
/* Cryptographically strong random bytes (RAND_bytes). */
int fsx_random_bytes(unsigned char *out, size_t len);
/* Wipe memory so the compiler cannot elide it (OPENSSL_cleanse). */
void fsx_wipe(void *p, size_t len);

/*
 * Reusable digest context (added for the signer's hot path). The one-shot
 * functions above allocate an OpenSSL context per call; a signer that does
 * two digests and up to five MACs per request keeps one of these instead
 * (the derived-key cache owns one). Not thread-safe: one per thread.
 * fsx_crypto_ctx_new returns NULL on failure; fsx_crypto_ctx_free accepts
 * NULL. The functions return 0 on success, -1 on failure.
 */
struct fsx_crypto_ctx;

struct fsx_crypto_ctx *fsx_crypto_ctx_new(void);
void fsx_crypto_ctx_free(struct fsx_crypto_ctx *ctx);
/* SHA-256 of data into out (32 bytes). */
int fsx_crypto_sha256(struct fsx_crypto_ctx *ctx, const void *data, size_t len,
                      unsigned char out[32]);
/*
 * HMAC-SHA256 (RFC 2104) keyed with the concatenation key1 || key2, so a
 * prefixed key ("AWS4" + secret) needs no temporary copy. key2 may be NULL
 * when key2_len is 0. Intermediate key blocks are wiped before returning.
 */
int fsx_crypto_hmac_sha256(struct fsx_crypto_ctx *ctx, const void *key1, size_t key1_len,
                           const void *key2, size_t key2_len, const void *data, size_t len,
                           unsigned char out[32]);

#endif
