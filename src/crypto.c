/*
 * crypto.c - the few OpenSSL primitives the upper layers need (signing core layer).
 *
 * Pure C over libcrypto. SHA-256 is OpenSSL's low-level SHA256_* interface:
 * it dispatches straight to the block function OpenSSL picked for this CPU
 * (SHA-NI, AVX2, ...) with no EVP method lookup, provider dispatch or context
 * allocation, which is the fastest way libcrypto offers to hash the short
 * strings SigV4 hashes (bench/sign_floor.c times it against EVP). OpenSSL
 * 3.0 deprecates these functions but ships them; OPENSSL_SUPPRESS_DEPRECATED
 * below silences that for this file only, and nothing else in the project
 * uses a deprecated call. (They bypass the provider layer, so an OpenSSL
 * configured to enforce its FIPS provider does not see these digests.)
 *
 * Every message is finished by hand: whole blocks go to SHA256_Update or
 * SHA256_Transform, the last one or two blocks (data, 0x80, zeros, the bit
 * length) are built in a stack buffer and compressed with SHA256_Transform,
 * and the digest is read from the chaining state. That skips SHA256_Init's
 * and SHA256_Final's bookkeeping (a message starts by setting the eight
 * state words), and it lets an HMAC resume from a stored chaining state: a
 * prepared key (struct fsx_hmac_sha256_key) is the state after the ipad block
 * and the state after the opad block, so a MAC under it costs the message's
 * blocks plus one outer block.
 *
 * Secrets: every temporary that held key material (pad blocks, chaining
 * states, the inner digest) sits in one struct per call, wiped with one
 * OPENSSL_cleanse before returning. Plain digests are not wiped.
 */
#define OPENSSL_SUPPRESS_DEPRECATED 1 /* SHA256_Init/Update/Transform, this file only */

#include "crypto.h"

#include "text.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#if defined(OPENSSL_NO_DEPRECATED_3_0)
#error "src/crypto.c needs OpenSSL's SHA256_* functions (OpenSSL built with no-deprecated?)"
#endif

#define SHA256_LEN 32
#define BLOCK 64

/* The chaining state is eight 32-bit words, as struct fsx_hmac_sha256_key stores it. */
typedef char sha256_state_is_8_words[sizeof(((SHA256_CTX *)0)->h) == 8 * 4 ? 1 : -1];

/* ---- SHA-256 over the block function ----------------------------------- */

/* FIPS 180-4's initial hash value for SHA-256. */
static const uint32_t sha256_iv[8] = {0x6a09e667u, 0xbb67ae85u, 0x3c6ef372u, 0xa54ff53au,
                                      0x510e527fu, 0x9b05688cu, 0x1f83d9abu, 0x5be0cd19u};

/*
 * Start c from a chaining state h (sha256_iv for a new message). Only the
 * chaining state is set: SHA256_Transform reads nothing else, and absorb()
 * initialises the rest before it hands SHA256_Update a run of blocks.
 */
static void sha_begin(SHA256_CTX *c, const uint32_t h[8])
{
    int i;

    for (i = 0; i < 8; i++)
        c->h[i] = h[i];
}

static void sha_save(const SHA256_CTX *c, uint32_t h[8])
{
    int i;

    for (i = 0; i < 8; i++)
        h[i] = (uint32_t)c->h[i];
}

/*
 * Compress n whole blocks at p into c's chaining state. A few blocks go
 * through SHA256_Transform one by one; a long run goes to SHA256_Update on
 * a freshly initialised context carrying c's state, whose buffer then stays
 * empty, so it hands the whole run to the block function in one call (its
 * byte count is never read: sha_finish writes the length itself).
 */
static void absorb(SHA256_CTX *c, const unsigned char *p, size_t n)
{
    uint32_t h[8];

    if (n <= 8) {
        for (; n > 0; n--, p += BLOCK)
            SHA256_Transform(c, p);
        return;
    }
    sha_save(c, h);
    SHA256_Init(c);
    sha_begin(c, h);
    SHA256_Update(c, p, n * BLOCK);
}

/* The digest: the chaining state, big-endian. */
static void digest_out(const SHA256_CTX *c, unsigned char out[SHA256_LEN])
{
    int i;

    for (i = 0; i < 8; i++) {
        uint32_t v = (uint32_t)c->h[i];

        out[4 * i] = (unsigned char)(v >> 24);
        out[4 * i + 1] = (unsigned char)(v >> 16);
        out[4 * i + 2] = (unsigned char)(v >> 8);
        out[4 * i + 3] = (unsigned char)v;
    }
}

/*
 * Hash the last len bytes at p of a message of total bytes (c has absorbed
 * the first total - len, whole blocks) and write the digest to out, which may
 * be tail. tail is a two-block scratch buffer that the caller wipes if the
 * message is secret. total below 2^61 bytes.
 */
static void sha_finish(SHA256_CTX *c, unsigned char tail[2 * BLOCK], const void *p, size_t len,
                       uint64_t total, unsigned char *out)
{
    size_t full = len / BLOCK, rem = len % BLOCK;
    size_t n = rem < BLOCK - 8 ? BLOCK : 2 * BLOCK;
    uint64_t bits = total * 8;
    int i;

    if (full > 0)
        absorb(c, (const unsigned char *)p, full);
    if (rem > 0)
        memcpy(tail, (const unsigned char *)p + full * BLOCK, rem);
    tail[rem] = 0x80;
    memset(tail + rem + 1, 0, n - 8 - rem - 1);
    for (i = 0; i < 8; i++)
        tail[n - 1 - (size_t)i] = (unsigned char)(bits >> (8 * i));
    absorb(c, tail, n / BLOCK);
    digest_out(c, out);
}

/*
 * The outer hash of an HMAC: c holds the state after the opad block and
 * tail[0..32) the inner digest; the rest of the block is constant padding
 * (0x80, zeros, the length 96 bytes = 768 bits).
 */
static void outer_finish(SHA256_CTX *c, unsigned char tail[BLOCK], unsigned char out[SHA256_LEN])
{
    tail[SHA256_LEN] = 0x80;
    memset(tail + SHA256_LEN + 1, 0, BLOCK - SHA256_LEN - 3);
    tail[BLOCK - 2] = 0x03;
    tail[BLOCK - 1] = 0x00;
    SHA256_Transform(c, tail);
    digest_out(c, out);
}

/* ---- HMAC-SHA256 ------------------------------------------------------- */

/* Everything one HMAC computation holds that derives from the key. */
struct hmac_tmp {
    SHA256_CTX c;
    unsigned char pad[BLOCK];
    unsigned char tail[2 * BLOCK];
};

/* t->pad = (k1 || k2, hashed when longer than a block, zero-padded) ^ ipad */
static void key_ipad(struct hmac_tmp *t, const void *k1, size_t k1_len, const void *k2,
                     size_t k2_len)
{
    size_t i;

    memset(t->pad, 0, sizeof(t->pad));
    if (k1_len > BLOCK || k2_len > BLOCK - k1_len) {
        SHA256_Init(&t->c);
        if (k1_len > 0)
            SHA256_Update(&t->c, k1, k1_len);
        if (k2_len > 0)
            SHA256_Update(&t->c, k2, k2_len);
        SHA256_Final(t->pad, &t->c);
    } else {
        if (k1_len > 0)
            memcpy(t->pad, k1, k1_len);
        if (k2_len > 0)
            memcpy(t->pad + k1_len, k2, k2_len);
    }
    for (i = 0; i < BLOCK; i++)
        t->pad[i] ^= 0x36;
}

/* Turn t->pad from K ^ ipad into K ^ opad. */
static void ipad_to_opad(struct hmac_tmp *t)
{
    size_t i;

    for (i = 0; i < BLOCK; i++)
        t->pad[i] ^= 0x36 ^ 0x5c;
}

int fsx_hmac_sha256_prepare(struct fsx_hmac_sha256_key *k, const void *key1, size_t key1_len,
                            const void *key2, size_t key2_len)
{
    struct hmac_tmp t;

    if (k == NULL)
        return -1;
    key_ipad(&t, key1, key1_len, key2, key2_len);
    sha_begin(&t.c, sha256_iv);
    SHA256_Transform(&t.c, t.pad);
    sha_save(&t.c, k->inner);
    ipad_to_opad(&t);
    sha_begin(&t.c, sha256_iv);
    SHA256_Transform(&t.c, t.pad);
    sha_save(&t.c, k->outer);
    OPENSSL_cleanse(&t, sizeof(t));
    return 0;
}

int fsx_hmac_sha256_prepared(const struct fsx_hmac_sha256_key *k, const void *data, size_t len,
                             unsigned char out[32])
{
    struct {
        SHA256_CTX c;
        unsigned char tail[2 * BLOCK];
    } t;

    sha_begin(&t.c, k->inner);
    sha_finish(&t.c, t.tail, data, len, (uint64_t)len + BLOCK, t.tail);
    sha_begin(&t.c, k->outer);
    outer_finish(&t.c, t.tail, out);
    OPENSSL_cleanse(&t, sizeof(t));
    return 0;
}

int fsx_crypto_hmac_sha256(struct fsx_crypto_ctx *ctx, const void *key1, size_t key1_len,
                           const void *key2, size_t key2_len, const void *data, size_t len,
                           unsigned char out[32])
{
    struct hmac_tmp t;

    (void)ctx;
    key_ipad(&t, key1, key1_len, key2, key2_len);
    sha_begin(&t.c, sha256_iv);
    SHA256_Transform(&t.c, t.pad);
    sha_finish(&t.c, t.tail, data, len, (uint64_t)len + BLOCK, t.tail);
    ipad_to_opad(&t);
    sha_begin(&t.c, sha256_iv);
    SHA256_Transform(&t.c, t.pad);
    outer_finish(&t.c, t.tail, out);
    OPENSSL_cleanse(&t, sizeof(t));
    return 0;
}

int fsx_hmac_sha256(const void *key, size_t key_len, const void *data, size_t len,
                    unsigned char out[32])
{
    return fsx_crypto_hmac_sha256(NULL, key, key_len, NULL, 0, data, len, out);
}

/* ---- SHA-256 ----------------------------------------------------------- */

int fsx_crypto_sha256(struct fsx_crypto_ctx *ctx, const void *data, size_t len,
                      unsigned char out[32])
{
    SHA256_CTX c;
    unsigned char tail[2 * BLOCK];

    (void)ctx;
    sha_begin(&c, sha256_iv);
    sha_finish(&c, tail, data, len, (uint64_t)len, out);
    return 0;
}

int fsx_sha256(const void *data, size_t len, unsigned char out[32])
{
    return fsx_crypto_sha256(NULL, data, len, out);
}

int fsx_sha256_hex(const void *data, size_t len, char out[65])
{
    unsigned char d[SHA256_LEN];

    fsx_crypto_sha256(NULL, data, len, d);
    *fsx_hex(out, d, SHA256_LEN) = '\0';
    return 0;
}

/* ---- the rest ---------------------------------------------------------- */

int fsx_sha1_hex(const void *data, size_t len, char out[41])
{
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    const EVP_MD *md = EVP_sha1();

    if (md == NULL || EVP_Digest(data, len, d, &n, md, NULL) != 1 || n != 20)
        return -1;
    *fsx_hex(out, d, 20) = '\0';
    return 0;
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

/* No state: the token only keeps the old interface working. */
struct fsx_crypto_ctx {
    int unused;
};

struct fsx_crypto_ctx *fsx_crypto_ctx_new(void)
{
    return (struct fsx_crypto_ctx *)calloc(1, sizeof(struct fsx_crypto_ctx));
}

void fsx_crypto_ctx_free(struct fsx_crypto_ctx *ctx)
{
    free(ctx);
}
