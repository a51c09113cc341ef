/*
 * sign_stages.c - where the C signer's time goes, stage by stage.
 *
 * Diagnostic benchmark (bench/, not part of the library). Times, on the
 * request of bench.h, each stage of fsx_sigv4_sign through the staged API of
 * src/sigv4_stages.h, and the two primitives (our fsx_sha256 and
 * fsx_hmac_sha256, EVP with one reused context per thread, against OpenSSL's
 * plain SHA256_Init/Update/Final and a textbook HMAC over them) on the sizes
 * SigV4 hashes.
 *
 * Output: "c.stage.<name> <nanoseconds per operation>" lines:
 *   sign_uncached, sign_cached   the whole fsx_sigv4_sign
 *   validate, canonical_request (payload hash included), string_to_sign
 *   (hash of the canonical request included), derive_key (4 HMACs),
 *   signature (1 HMAC + hex)
 *   prim.sha256_<n>_ours / _lowlevel, prim.hmac_<n>_ours / _lowlevel
 * Usage: sign_stages [seconds per measurement]  (default 0.2)
 */
#define OPENSSL_SUPPRESS_DEPRECATED 1 /* SHA256_* as the reference */

#include <openssl/sha.h>

#include "crypto.h"
#include "sigv4.h"
#include "sigv4_stages.h"

#include "bench.h"
#include "lowlevel_hmac.h"

#define HDR(n, v) {n, sizeof(n) - 1, v, sizeof(v) - 1}

static const struct fsx_sigv4_header headers[] = {
    HDR("Host", B_HOST),
    HDR("Content-Type", B_CONTENT_TYPE),
    HDR("X-Amz-Target", B_TARGET),
};

static struct fsx_sigv4_request req;
static struct fsx_sigv4_result res;
static struct fsx_sigv4_cache *cache;
static unsigned char key[32];
static char sig[65];
static const char data[512] = {0};
static size_t prim_len;
static volatile unsigned sink;

static void s_sign_uncached(void)
{
    struct fsx_error err;

    if (fsx_sigv4_sign(&req, NULL, &res, &err) != 0)
        exit(1);
}

static void s_sign_cached(void)
{
    struct fsx_error err;

    if (fsx_sigv4_sign(&req, cache, &res, &err) != 0)
        exit(1);
}

static void s_validate(void)
{
    struct fsx_error err;

    if (fsx_sigv4_validate(&req, &err) != 0)
        exit(1);
}

static void s_canonical_request(void)
{
    struct fsx_error err;

    if (fsx_sigv4_canonical_request(&req, &res, &err) != 0)
        exit(1);
}

static struct fsx_buf sts;
static struct fsx_buf creq;

static void s_string_to_sign(void)
{
    if (fsx_sigv4_string_to_sign(&sts, B_AMZ_DATE, B_REGION, B_SERVICE, creq.data,
                                 creq.len) != 0)
        exit(1);
}

static void s_derive_key(void)
{
    if (fsx_sigv4_derive_key(B_SECRET, sizeof(B_SECRET) - 1, B_DATE8, B_REGION, B_SERVICE,
                             key) != 0)
        exit(1);
}

static void s_signature(void)
{
    if (fsx_sigv4_signature(key, sts.data, sts.len, sig) != 0)
        exit(1);
}

static void p_sha_ours(void)
{
    unsigned char d[32];

    fsx_sha256(data, prim_len, d);
    sink += d[0];
}

static void p_sha_ll(void)
{
    unsigned char d[32];
    SHA256_CTX c;

    SHA256_Init(&c);
    SHA256_Update(&c, data, prim_len);
    SHA256_Final(d, &c);
    sink += d[0];
}

static void p_hmac_ours(void)
{
    unsigned char d[32];

    fsx_hmac_sha256(key, 32, data, prim_len, d);
    sink += d[0];
}

static void p_hmac_ll(void)
{
    unsigned char d[32];

    ll_hmac(key, 32, data, prim_len, d);
    sink += d[0];
}

static double ns_per_op(void (*fn)(void), double seconds)
{
    double t0, t;
    long n = 0, i;

    for (i = 0; i < 1000; i++)
        fn();
    t0 = b_cpu();
    do {
        for (i = 0; i < 1000; i++)
            fn();
        n += 1000;
        t = b_cpu() - t0;
    } while (t < seconds);
    return t / (double)n * 1e9;
}

int main(int argc, char **argv)
{
    double seconds = argc > 1 ? atof(argv[1]) : 0.2;
    static const size_t sizes[] = {12, 165, 330}; /* a key-chain step, the sts, the creq */
    struct fsx_error err;
    size_t i;

    memset(&req, 0, sizeof(req));
    req.method = "POST";
    req.path = "/";
    req.path_len = 1;
    req.query = "";
    req.headers = headers;
    req.n_headers = sizeof(headers) / sizeof(headers[0]);
    req.body = B_BODY;
    req.body_len = sizeof(B_BODY) - 1;
    req.region = B_REGION;
    req.service = B_SERVICE;
    req.access_key_id = B_ACCESS_KEY;
    req.secret_access_key = B_SECRET;
    req.amz_date = B_AMZ_DATE;
    fsx_sigv4_result_init(&res);
    fsx_buf_init(&sts);
    fsx_buf_init(&creq);
    cache = fsx_sigv4_cache_new();
    if (cache == NULL || fsx_sigv4_sign(&req, NULL, &res, &err) != 0 ||
        fsx_buf_append(&creq, res.canonical_request.data, res.canonical_request.len) != 0) {
        fprintf(stderr, "sign_stages: setup failed\n");
        return 1;
    }
    s_string_to_sign();
    s_derive_key();

    printf("c.stage.sign_uncached %.0f\n", ns_per_op(s_sign_uncached, seconds));
    printf("c.stage.sign_cached %.0f\n", ns_per_op(s_sign_cached, seconds));
    printf("c.stage.validate %.0f\n", ns_per_op(s_validate, seconds));
    printf("c.stage.canonical_request %.0f\n", ns_per_op(s_canonical_request, seconds));
    printf("c.stage.string_to_sign %.0f\n", ns_per_op(s_string_to_sign, seconds));
    printf("c.stage.derive_key %.0f\n", ns_per_op(s_derive_key, seconds));
    printf("c.stage.signature %.0f\n", ns_per_op(s_signature, seconds));
    for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        prim_len = sizes[i];
        printf("c.stage.prim.sha256_%zu_ours %.0f\n", prim_len, ns_per_op(p_sha_ours, seconds));
        printf("c.stage.prim.sha256_%zu_lowlevel %.0f\n", prim_len, ns_per_op(p_sha_ll, seconds));
        printf("c.stage.prim.hmac_%zu_ours %.0f\n", prim_len, ns_per_op(p_hmac_ours, seconds));
        printf("c.stage.prim.hmac_%zu_lowlevel %.0f\n", prim_len, ns_per_op(p_hmac_ll, seconds));
    }
    printf("c.stage.creq_bytes %zu\n", creq.len);
    printf("c.stage.sts_bytes %zu\n", sts.len);
    fsx_buf_free(&sts);
    fsx_buf_free(&creq);
    fsx_sigv4_cache_free(cache);
    fsx_sigv4_result_free(&res);
    return 0;
}
