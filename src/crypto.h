/*
 * crypto.h - the few OpenSSL primitives the upper layers need (signing core layer).
 *
 * Pure C over libcrypto. Return 0 on success, -1 on failure. No function here
 * allocates or needs a context: every state lives on the caller's stack.
 */
#ifndef FSX_CRYPTO_H
#define FSX_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

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
/* out receives 32 bytes. */
int fsx_hmac_sha256(const void *key, size_t key_len, const void *data, size_t len,
                    unsigned char out[32]);
/* Cryptographically strong random bytes (RAND_bytes). */
int fsx_random_bytes(unsigned char *out, size_t len);
/* Wipe memory so the compiler cannot elide it (OPENSSL_cleanse). */
void fsx_wipe(void *p, size_t len);

/*
 * A prepared HMAC-SHA256 key: the SHA-256 chaining states after absorbing
 * the key's ipad block and its opad block (RFC 2104). A MAC under a prepared
 * key costs only the message's blocks plus one outer block, two compressions
 * fewer than keying from scratch; the signer keeps one per cached signing
 * key. The struct is key material: the owner wipes it (fsx_wipe) when it is
 * replaced or freed. Plain data: copy it with memcpy or assignment.
 */
struct fsx_hmac_sha256_key {
    uint32_t inner[8];
    uint32_t outer[8];
};

/*
 * Prepare the key key1 || key2 (a key longer than a block is hashed first,
 * as RFC 2104 says). key1/key2 may be NULL when their length is 0. Every
 * temporary is wiped. Returns 0 (-1 only on a NULL k).
 */
int fsx_hmac_sha256_prepare(struct fsx_hmac_sha256_key *k, const void *key1, size_t key1_len,
                            const void *key2, size_t key2_len);
/* HMAC-SHA256 of data under a prepared key into out (32 bytes). Returns 0. */
int fsx_hmac_sha256_prepared(const struct fsx_hmac_sha256_key *k, const void *data, size_t len,
                             unsigned char out[32]);

/*
 * Digest context, kept for source compatibility: the functions below no
 * longer need one (SHA-256 states are plain structs on the stack), so ctx
 * may be NULL everywhere. fsx_crypto_ctx_new returns a small token (NULL
 * only when memory ran out); fsx_crypto_ctx_free accepts NULL. Return 0 on
 * success, -1 on failure.
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
