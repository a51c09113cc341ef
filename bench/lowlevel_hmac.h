/*
 * lowlevel_hmac.h - HMAC-SHA256 by hand (RFC 2104) over OpenSSL's plain
 * SHA256_Init/Update/Final, the reference the benchmarks compare with
 * (sign_floor.c's floor, sign_stages.c's primitives). Benchmark code only;
 * the includer defines OPENSSL_SUPPRESS_DEPRECATED before any OpenSSL header.
 */
#ifndef FSX_BENCH_LOWLEVEL_HMAC_H
#define FSX_BENCH_LOWLEVEL_HMAC_H

#include <string.h>

#include <openssl/sha.h>

/* key: at most 64 bytes (the SigV4 keys are 4 + 40 and 32 bytes) */
static void ll_hmac(const void *k, size_t kl, const void *d, size_t n, unsigned char out[32])
{
    unsigned char pad[64], inner[32];
    SHA256_CTX c;
    size_t i;

    memset(pad, 0, sizeof(pad));
    memcpy(pad, k, kl);
    for (i = 0; i < 64; i++)
        pad[i] ^= 0x36;
    SHA256_Init(&c);
    SHA256_Update(&c, pad, 64);
    SHA256_Update(&c, d, n);
    SHA256_Final(inner, &c);
    for (i = 0; i < 64; i++)
        pad[i] ^= 0x36 ^ 0x5c;
    SHA256_Init(&c);
    SHA256_Update(&c, pad, 64);
    SHA256_Update(&c, inner, 32);
    SHA256_Final(out, &c);
}

#endif
