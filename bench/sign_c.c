/*
 * sign_c.c - our C signer (fsx_sigv4_sign) on the typical CreateBackup request.
 *
 * Benchmark program (bench/, not part of the library). Signs the request of
 * bench.h the way the binding does (one fsx_sigv4_result reused across
 * calls), with no cache (cache NULL: the 4-HMAC key chain every time) and
 * with a derived-key cache. Output, one "name value" per line:
 *   c.uncached <signatures per CPU second>
 *   c.cached   <signatures per CPU second>
 *   signature <hex>
 *
 * Usage: sign_c [seconds per measurement]  (default $BENCH_SECONDS or 0.4)
 *        sign_c count cached|uncached N   exactly N signatures and no output
 *        (bench/instructions.sh runs it under callgrind)
 */
#include "sigv4.h"

#include "bench.h"

#define HDR(n, v) {n, sizeof(n) - 1, v, sizeof(v) - 1}

static const struct fsx_sigv4_header headers[] = {
    HDR("Host", B_HOST),
    HDR("Content-Type", B_CONTENT_TYPE),
    HDR("X-Amz-Target", B_TARGET),
};

static void init_request(struct fsx_sigv4_request *req)
{
    memset(req, 0, sizeof(*req));
    req->method = "POST";
    req->path = "/";
    req->path_len = 1;
    req->query = "";
    req->headers = headers;
    req->n_headers = sizeof(headers) / sizeof(headers[0]);
    req->body = B_BODY;
    req->body_len = sizeof(B_BODY) - 1;
    req->region = B_REGION;
    req->service = B_SERVICE;
    req->access_key_id = B_ACCESS_KEY;
    req->secret_access_key = B_SECRET;
    req->amz_date = B_AMZ_DATE;
}

/* N signatures, with the cache or without; 0 when all succeed. */
static int count(const struct fsx_sigv4_request *req, struct fsx_sigv4_cache *cache,
                 struct fsx_sigv4_result *res, long n)
{
    struct fsx_error err;
    long i;

    for (i = 0; i < n; i++) {
        if (fsx_sigv4_sign(req, cache, res, &err) != 0) {
            fprintf(stderr, "sign_c: %s\n", err.message);
            return 1;
        }
    }
    return 0;
}

static double measure(const struct fsx_sigv4_request *req, struct fsx_sigv4_cache *cache,
                      struct fsx_sigv4_result *res, double seconds)
{
    double t0, t;
    long n = 0;

    t0 = b_cpu();
    do {
        if (count(req, cache, res, 1000) != 0)
            exit(1);
        n += 1000;
        t = b_cpu() - t0;
    } while (t < seconds);
    return (double)n / t;
}

int main(int argc, char **argv)
{
    double seconds = argc > 1 ? atof(argv[1]) : b_seconds(0.4);
    struct fsx_sigv4_request req;
    struct fsx_sigv4_result res;
    struct fsx_sigv4_cache *cache = fsx_sigv4_cache_new();
    char uncached_sig[65];

    if (cache == NULL) {
        fprintf(stderr, "sign_c: no cache\n");
        return 1;
    }
    init_request(&req);
    fsx_sigv4_result_init(&res);
    if (argc == 4 && strcmp(argv[1], "count") == 0) {
        int cached = strcmp(argv[2], "cached") == 0;
        int rc;

        if (!cached && strcmp(argv[2], "uncached") != 0) {
            fprintf(stderr, "usage: sign_c count cached|uncached N\n");
            return 2;
        }
        rc = count(&req, cached ? cache : NULL, &res, atol(argv[3]));
        fsx_sigv4_result_free(&res);
        fsx_sigv4_cache_free(cache);
        return rc;
    }
    printf("c.uncached %.1f\n", measure(&req, NULL, &res, seconds));
    memcpy(uncached_sig, res.signature, sizeof(uncached_sig));
    printf("c.cached %.1f\n", measure(&req, cache, &res, seconds));
    if (strcmp(uncached_sig, res.signature) != 0) {
        fprintf(stderr, "sign_c: cached and uncached signatures differ\n");
        return 1;
    }
    printf("signature %s\n", res.signature);
    printf("c.derivations %lu\n", fsx_sigv4_cache_derivations(cache));
    fsx_sigv4_result_free(&res);
    fsx_sigv4_cache_free(cache);
    return 0;
}
