/*
 * crypto.c - the few OpenSSL primitives the upper layers need (signing core layer).
 *
 * Pure C over libcrypto's EVP interface. SHA-256 is fetched once per
 * process (EVP_MD_fetch), and each thread hashes through contexts of its
 * own, kept for the thread's life (pthread_getspecific): `work`, which every
 * digest goes through, and `fresh`, which holds SHA-256 just initialised. A
 * digest starts by copying `fresh` into `work` (EVP_MD_CTX_copy_ex): under
 * OpenSSL 3.0 both that copy and EVP_DigestInit_ex2 replace the provider's
 * SHA-256 state (a free and an allocation), and the copy skips Init's
 * ENGINE lookup. EVP_Digest would allocate the EVP_MD_CTX as well, and the
 * SHA256() one-shot fetches the digest on every call: overheads that
 * dominate on SigV4's short strings.
 *
 * HMAC is RFC 2104 over those digests. A prepared key keeps two contexts
 * that have absorbed the ipad and opad blocks; a MAC copies them into the
 * thread's context instead of hashing the pads again. The key chain of a
 * SigV4 signing key (fsx_hmac_sha256_chain) runs in one call, so its
 * intermediate keys stay in one struct here.
 *
 * Secrets: the pad blocks and intermediate keys sit in one struct per call,
 * wiped once before returning; OpenSSL clears a SHA-256 state when it frees
 * it. Digests of public data and the MAC's inner digest are no key material
 * and are not wiped.
 */
#include "crypto.h"

#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "text.h"

#define SHA256_LEN 32
#define BLOCK 64

static pthread_once_t once = PTHREAD_ONCE_INIT;
static pthread_key_t work_key;
static int work_key_ok;
static EVP_MD *sha256_md; /* NULL when the fetch failed: every hash fails */

/* A thread's contexts (see the top of the file). */
struct thread_ctx {
    EVP_MD_CTX *work;
    EVP_MD_CTX *fresh;
};

static void free_work(void *p)
{
    struct thread_ctx *t = (struct thread_ctx *)p;

    EVP_MD_CTX_free(t->work);
    EVP_MD_CTX_free(t->fresh);
    free(t);
}

static void init_once(void)
{
    work_key_ok = pthread_key_create(&work_key, free_work) == 0;
    sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
}

/* The calling thread's contexts, made and registered on its first digest; or NULL. */
static struct thread_ctx *thread_ctx_new(void)
{
    struct thread_ctx *t = (struct thread_ctx *)calloc(1, sizeof(*t));

    if (t == NULL)
        return NULL;
    t->work = EVP_MD_CTX_new();
    t->fresh = EVP_MD_CTX_new();
    if (t->work == NULL || t->fresh == NULL || EVP_DigestInit_ex2(t->fresh, sha256_md, NULL) != 1 ||
        pthread_setspecific(work_key, t) != 0) {
        free_work(t);
        return NULL;
    }
    return t;
}

/* The calling thread's contexts, or NULL. */
static struct thread_ctx *work_ctx(void)
{
    struct thread_ctx *t;

    (void)pthread_once(&once, init_once);
    if (!work_key_ok || sha256_md == NULL)
        return NULL;
    t = (struct thread_ctx *)pthread_getspecific(work_key);
    return t != NULL ? t : thread_ctx_new();
}

/* SHA-256 of a || b into out through tc (b may be NULL when b_len is 0). */
static int digest2(struct thread_ctx *tc, const void *a, size_t a_len, const void *b, size_t b_len,
                   unsigned char out[SHA256_LEN])
{
    EVP_MD_CTX *ctx = tc->work;

    return EVP_MD_CTX_copy_ex(ctx, tc->fresh) == 1 && EVP_DigestUpdate(ctx, a, a_len) == 1 &&
                   (b_len == 0 || EVP_DigestUpdate(ctx, b, b_len) == 1) &&
                   EVP_DigestFinal_ex(ctx, out, NULL) == 1
               ? 0
               : -1;
}

int fsx_sha256(const void *data, size_t len, unsigned char out[32])
{
    struct thread_ctx *tc = work_ctx();
    return tc != NULL ? digest2(tc, data, len, NULL, 0, out) : -1;
}

int fsx_sha256_hex(const void *data, size_t len, char out[65])
{
    unsigned char d[SHA256_LEN];

    if (fsx_sha256(data, len, d) != 0)
        return -1;
    *fsx_hex(out, d, SHA256_LEN) = '\0';
    return 0;
}

/* ---- HMAC-SHA256 ------------------------------------------------------- */

/*
 * Everything one HMAC computation holds that derives from the key. The outer
 * hash's input, K ^ opad and then the inner digest, is one array: one update.
 */
struct hmac_tmp {
    unsigned char ipad[BLOCK];
    unsigned char opad[BLOCK + SHA256_LEN];
};

/* t's pads from the key k1 || k2 (hashed when longer than a block). */
static int make_pads(struct thread_ctx *tc, struct hmac_tmp *t, const void *k1, size_t k1_len,
                     const void *k2, size_t k2_len)
{
    size_t i;

    memset(t->ipad, 0, sizeof(t->ipad));
    if (k1_len > BLOCK || k2_len > BLOCK - k1_len) {
        if (digest2(tc, k1, k1_len, k2, k2_len, t->ipad) != 0)
            return -1;
    } else {
        if (k1_len > 0)
            memcpy(t->ipad, k1, k1_len);
        if (k2_len > 0)
            memcpy(t->ipad + k1_len, k2, k2_len);
    }
    for (i = 0; i < BLOCK; i++) {
        t->opad[i] = (unsigned char)(t->ipad[i] ^ 0x5c);
        t->ipad[i] ^= 0x36;
    }
    return 0;
}

/* HMAC of data under k1 || k2 into out through tc, t as scratch (the caller wipes it). */
static int hmac_on(struct thread_ctx *tc, struct hmac_tmp *t, const void *k1, size_t k1_len,
                   const void *k2, size_t k2_len, const void *data, size_t len,
                   unsigned char out[SHA256_LEN])
{
    return make_pads(tc, t, k1, k1_len, k2, k2_len) == 0 &&
                   digest2(tc, t->ipad, BLOCK, data, len, t->opad + BLOCK) == 0 &&
                   digest2(tc, t->opad, BLOCK + SHA256_LEN, NULL, 0, out) == 0
               ? 0
               : -1;
}

int fsx_hmac_sha256_2(const void *key1, size_t key1_len, const void *key2, size_t key2_len,
                      const void *data, size_t len, unsigned char out[32])
{
    struct thread_ctx *tc = work_ctx();
    struct hmac_tmp t;
    int rc = -1;

    if (tc != NULL)
        rc = hmac_on(tc, &t, key1, key1_len, key2, key2_len, data, len, out);
    OPENSSL_cleanse(&t, sizeof(t));
    return rc;
}

int fsx_hmac_sha256_chain(const void *key1, size_t key1_len, const void *key2, size_t key2_len,
                          const struct fsx_bytes *msgs, size_t n, unsigned char out[32])
{
    struct thread_ctx *tc = work_ctx();
    struct {
        struct hmac_tmp t;
        unsigned char k[2][SHA256_LEN]; /* the key of each step and the next one */
    } s;
    size_t i;
    int rc = -1;

    if (tc == NULL || n == 0 ||
        hmac_on(tc, &s.t, key1, key1_len, key2, key2_len, msgs[0].data, msgs[0].len, s.k[0]) != 0)
        goto done;
    for (i = 1; i < n; i++)
        if (hmac_on(tc, &s.t, s.k[(i - 1) % 2], SHA256_LEN, NULL, 0, msgs[i].data, msgs[i].len,
                    s.k[i % 2]) != 0)
            goto done;
    memcpy(out, s.k[(n - 1) % 2], SHA256_LEN);
    rc = 0;
done:
    OPENSSL_cleanse(&s, sizeof(s));
    return rc;
}

int fsx_hmac_sha256(const void *key, size_t key_len, const void *data, size_t len,
                    unsigned char out[32])
{
    return fsx_hmac_sha256_2(key, key_len, NULL, 0, data, len, out);
}

/* A new context that has absorbed one pad block, or NULL. */
static EVP_MD_CTX *absorbed(const unsigned char pad[BLOCK])
{
    EVP_MD_CTX *c = EVP_MD_CTX_new();

    if (c == NULL || EVP_DigestInit_ex2(c, sha256_md, NULL) != 1 ||
        EVP_DigestUpdate(c, pad, BLOCK) != 1) {
        EVP_MD_CTX_free(c);
        return NULL;
    }
    return c;
}

int fsx_hmac_sha256_prepare(struct fsx_hmac_sha256_key *k, const void *key, size_t key_len)
{
    struct thread_ctx *tc = work_ctx();
    struct hmac_tmp t;
    int rc = -1;

    k->inner = k->outer = NULL;
    if (tc != NULL && make_pads(tc, &t, key, key_len, NULL, 0) == 0) {
        k->inner = absorbed(t.ipad);
        k->outer = absorbed(t.opad);
        if (k->inner != NULL && k->outer != NULL)
            rc = 0;
        else
            fsx_hmac_sha256_key_free(k);
    }
    OPENSSL_cleanse(&t, sizeof(t));
    return rc;
}

int fsx_hmac_sha256_prepared(const struct fsx_hmac_sha256_key *k, const void *data, size_t len,
                             unsigned char out[32])
{
    struct thread_ctx *tc = work_ctx();
    EVP_MD_CTX *ctx = tc != NULL ? tc->work : NULL;
    unsigned char inner[SHA256_LEN];

    return ctx != NULL && k->inner != NULL &&
                   EVP_MD_CTX_copy_ex(ctx, (const EVP_MD_CTX *)k->inner) == 1 &&
                   EVP_DigestUpdate(ctx, data, len) == 1 &&
                   EVP_DigestFinal_ex(ctx, inner, NULL) == 1 &&
                   EVP_MD_CTX_copy_ex(ctx, (const EVP_MD_CTX *)k->outer) == 1 &&
                   EVP_DigestUpdate(ctx, inner, SHA256_LEN) == 1 &&
                   EVP_DigestFinal_ex(ctx, out, NULL) == 1
               ? 0
               : -1;
}

void fsx_hmac_sha256_key_free(struct fsx_hmac_sha256_key *k)
{
    EVP_MD_CTX_free((EVP_MD_CTX *)k->inner);
    EVP_MD_CTX_free((EVP_MD_CTX *)k->outer);
    k->inner = k->outer = NULL;
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
