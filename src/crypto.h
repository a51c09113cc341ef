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

#endif
