/*
 * crypto.c - the few OpenSSL primitives the upper layers need (signing core layer).
 *
 * Pure C over OpenSSL 3 libcrypto, non-deprecated calls only. The SHA-256
 * implementation is fetched once per process (EVP_MD_fetch under
 * CRYPTO_THREAD_run_once) so no call pays for an implicit fetch. HMAC-SHA256
 * is the RFC 2104 construction over that EVP digest: with a reusable
 * EVP_MD_CTX it costs two digest rounds and no allocation, about twice as
 * fast as re-keying an EVP_MAC context, which matters because a SigV4
 * signature without a cached key is five MACs. Every buffer that held key
 * material is wiped with OPENSSL_cleanse before the function returns.
 */
#include "crypto.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#define SHA256_LEN 32
#define SHA256_BLOCK 64

struct fsx_crypto_ctx {
    EVP_MD_CTX *md_ctx;
};

static CRYPTO_ONCE sha256_once = CRYPTO_ONCE_STATIC_INIT;
static EVP_MD *sha256_md; /* fetched once, kept for the life of the process */

static const char hex_digits[16] = {'0', '1', '2', '3', '4', '5', '6', '7',
                                    '8', '9', 'a', 'b', 'c', 'd', 'e', 'f'};

static void fetch_sha256(void)
{
    sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
}

/* The fetched SHA-256, or NULL when OpenSSL cannot provide it. */
static const EVP_MD *get_sha256(void)
{
    if (!CRYPTO_THREAD_run_once(&sha256_once, fetch_sha256))
        return NULL;
    return sha256_md;
}

static int digest_on(EVP_MD_CTX *c, const EVP_MD *md, const void *data, size_t len,
                     unsigned char out[SHA256_LEN])
{
    unsigned int n = 0;

    if (EVP_DigestInit_ex2(c, md, NULL) != 1 || EVP_DigestUpdate(c, data, len) != 1 ||
        EVP_DigestFinal_ex(c, out, &n) != 1 || n != SHA256_LEN)
        return -1;
    return 0;
}

/*
 * HMAC-SHA256 keyed with k1 || k2 on a caller-provided digest context:
 * H((K ^ opad) || H((K ^ ipad) || data)), K zero-padded to the block size or
 * replaced by its digest when longer than a block.
 */
static int hmac_on(EVP_MD_CTX *c, const EVP_MD *md, const void *k1, size_t k1_len,
                   const void *k2, size_t k2_len, const void *data, size_t len,
                   unsigned char out[SHA256_LEN])
{
    struct {
        unsigned char pad[SHA256_BLOCK];
        unsigned char inner[SHA256_LEN];
    } t; /* one block of key-derived bytes, wiped with one call */
    unsigned int n = 0;
    size_t i;
    int rc = -1;

    memset(t.pad, 0, sizeof(t.pad));
    if (k1_len > SHA256_BLOCK || k2_len > SHA256_BLOCK - k1_len) {
        if (EVP_DigestInit_ex2(c, md, NULL) != 1 || EVP_DigestUpdate(c, k1, k1_len) != 1 ||
            EVP_DigestUpdate(c, k2, k2_len) != 1 || EVP_DigestFinal_ex(c, t.pad, &n) != 1)
            goto done;
    } else {
        if (k1_len > 0)
            memcpy(t.pad, k1, k1_len);
        if (k2_len > 0)
            memcpy(t.pad + k1_len, k2, k2_len);
    }
    for (i = 0; i < SHA256_BLOCK; i++)
        t.pad[i] ^= 0x36;
    if (EVP_DigestInit_ex2(c, md, NULL) != 1 || EVP_DigestUpdate(c, t.pad, SHA256_BLOCK) != 1 ||
        EVP_DigestUpdate(c, data, len) != 1 || EVP_DigestFinal_ex(c, t.inner, &n) != 1)
        goto done;
    for (i = 0; i < SHA256_BLOCK; i++)
        t.pad[i] ^= 0x36 ^ 0x5c;
    if (EVP_DigestInit_ex2(c, md, NULL) != 1 || EVP_DigestUpdate(c, t.pad, SHA256_BLOCK) != 1 ||
        EVP_DigestUpdate(c, t.inner, SHA256_LEN) != 1 || EVP_DigestFinal_ex(c, out, &n) != 1)
        goto done;
    rc = 0;
done:
    OPENSSL_cleanse(&t, sizeof(t));
    return rc;
}

int fsx_sha256(const void *data, size_t len, unsigned char out[32])
{
    const EVP_MD *md = get_sha256();
    unsigned int n = 0;

    if (md == NULL || EVP_Digest(data, len, out, &n, md, NULL) != 1 || n != SHA256_LEN)
        return -1;
    return 0;
}

int fsx_sha256_hex(const void *data, size_t len, char out[65])
{
    unsigned char d[SHA256_LEN];
    int i;

    if (fsx_sha256(data, len, d) != 0)
        return -1;
    for (i = 0; i < SHA256_LEN; i++) {
        out[2 * i] = hex_digits[d[i] >> 4];
        out[2 * i + 1] = hex_digits[d[i] & 0x0f];
    }
    out[64] = '\0';
    return 0;
}

int fsx_hmac_sha256(const void *key, size_t key_len, const void *data, size_t len,
                    unsigned char out[32])
{
    struct fsx_crypto_ctx *ctx = fsx_crypto_ctx_new();
    int rc;

    if (ctx == NULL)
        return -1;
    rc = fsx_crypto_hmac_sha256(ctx, key, key_len, NULL, 0, data, len, out);
    fsx_crypto_ctx_free(ctx);
    return rc;
}

int fsx_random_bytes(unsigned char *out, size_t len)
{
    while (len > 0) {
        int chunk = len > (size_t)INT_MAX ? INT_MAX : (int)len;

        if (RAND_bytes(out, chunk) != 1)
            return -1;
        out += chunk;
        len -= (size_t)chunk;
    }
    return 0;
}

void fsx_wipe(void *p, size_t len)
{
    if (p != NULL && len > 0)
        OPENSSL_cleanse(p, len);
}

struct fsx_crypto_ctx *fsx_crypto_ctx_new(void)
{
    struct fsx_crypto_ctx *ctx;

    if (get_sha256() == NULL)
        return NULL;
    ctx = (struct fsx_crypto_ctx *)malloc(sizeof(*ctx));
    if (ctx == NULL)
        return NULL;
    ctx->md_ctx = EVP_MD_CTX_new();
    if (ctx->md_ctx == NULL) {
        free(ctx);
        return NULL;
    }
    return ctx;
}

void fsx_crypto_ctx_free(struct fsx_crypto_ctx *ctx)
{
    if (ctx == NULL)
        return;
    EVP_MD_CTX_free(ctx->md_ctx);
    free(ctx);
}

int fsx_crypto_sha256(struct fsx_crypto_ctx *ctx, const void *data, size_t len,
                      unsigned char out[32])
{
    return digest_on(ctx->md_ctx, sha256_md, data, len, out);
}

int fsx_crypto_hmac_sha256(struct fsx_crypto_ctx *ctx, const void *key1, size_t key1_len,
                           const void *key2, size_t key2_len, const void *data, size_t len,
                           unsigned char out[32])
{
    return hmac_on(ctx->md_ctx, sha256_md, key1, key1_len, key2, key2_len, data, len, out);
}
