/*
 * sign_floor.c - the floor for SigV4 signing: only the hashing SigV4 needs.
 *
 * Benchmark program (bench/, not part of the library). For the typical
 * CreateBackup request of bench.h it does exactly the SHA-256 and
 * HMAC-SHA256 work a signature requires, and nothing else:
 *
 *   hash the payload -> hex; canonical request = one fixed string plus that
 *   hex (memcpy); hash it -> hex; string to sign = fixed string plus hex
 *   (memcpy); signing key = 4 chained HMACs; signature = 1 HMAC -> hex.
 *
 * "cached" skips the 4-HMAC key chain (the key is derived once up front),
 * as a signer with a derived-key cache does. Three ways of asking OpenSSL 3
 * for the same work are timed, because their fixed costs differ:
 *
 *   evp       one reused EVP_MD_CTX over a SHA-256 fetched once, HMAC built
 *             by hand (RFC 2104: two digests over ipad/opad blocks)
 *   lowlevel  the SHA256_Init/Update/Final functions (deprecated in 3.0 but
 *             still shipped), HMAC by hand: no EVP dispatch at all
 *   mac       EVP_MAC "HMAC" with one reused EVP_MAC_CTX, re-keyed per MAC
 *
 * The floor is the fastest of them. Output, one "name value" per line:
 *   floor.<way>.<uncached|cached> <signatures per CPU second>
 *   signature <hex>       (bench/run.sh checks every signer agrees)
 *
 * Usage: sign_floor [seconds per measurement]  (default $BENCH_SECONDS or 0.4)
 */
#define OPENSSL_SUPPRESS_DEPRECATED 1 /* SHA256_Init & co. for "lowlevel" */

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/sha.h>

#include "bench.h"
#include "lowlevel_hmac.h"

#define CR_PREFIX                                                                 \
    "POST\n/\n\ncontent-type:" B_CONTENT_TYPE "\nhost:" B_HOST "\nx-amz-date:" B_AMZ_DATE \
    "\nx-amz-target:" B_TARGET "\n\ncontent-type;host;x-amz-date;x-amz-target\n"
#define STS_PREFIX \
    "AWS4-HMAC-SHA256\n" B_AMZ_DATE "\n" B_DATE8 "/" B_REGION "/" B_SERVICE "/aws4_request\n"

static const char hexd[] = "0123456789abcdef";

static void to_hex(const unsigned char *d, size_t n, char *out)
{
    size_t i;

    for (i = 0; i < n; i++) {
        out[2 * i] = hexd[d[i] >> 4];
        out[2 * i + 1] = hexd[d[i] & 15];
    }
    out[2 * n] = '\0';
}

/* One way of computing SHA-256 and HMAC-SHA256 (key at most 64 bytes). */
struct way {
    const char *name;
    void (*sha256)(const void *d, size_t n, unsigned char out[32]);
    void (*hmac)(const void *k, size_t kl, const void *d, size_t n, unsigned char out[32]);
};

/* ---- evp: reused EVP_MD_CTX, HMAC by hand -------------------------------- */

static EVP_MD *md;
static EVP_MD_CTX *mdc;

static void evp_sha256(const void *d, size_t n, unsigned char out[32])
{
    EVP_DigestInit_ex2(mdc, md, NULL);
    EVP_DigestUpdate(mdc, d, n);
    EVP_DigestFinal_ex(mdc, out, NULL);
}

static void evp_hmac(const void *k, size_t kl, const void *d, size_t n, unsigned char out[32])
{
    unsigned char pad[64], inner[32];
    size_t i;

    memset(pad, 0, sizeof(pad));
    memcpy(pad, k, kl);
    for (i = 0; i < 64; i++)
        pad[i] ^= 0x36;
    EVP_DigestInit_ex2(mdc, md, NULL);
    EVP_DigestUpdate(mdc, pad, 64);
    EVP_DigestUpdate(mdc, d, n);
    EVP_DigestFinal_ex(mdc, inner, NULL);
    for (i = 0; i < 64; i++)
        pad[i] ^= 0x36 ^ 0x5c;
    EVP_DigestInit_ex2(mdc, md, NULL);
    EVP_DigestUpdate(mdc, pad, 64);
    EVP_DigestUpdate(mdc, inner, 32);
    EVP_DigestFinal_ex(mdc, out, NULL);
}

/* ---- lowlevel: SHA256_CTX, HMAC by hand (ll_hmac, lowlevel_hmac.h) ------- */

static void ll_sha256(const void *d, size_t n, unsigned char out[32])
{
    SHA256_CTX c;

    SHA256_Init(&c);
    SHA256_Update(&c, d, n);
    SHA256_Final(out, &c);
}

/* ---- mac: EVP_MAC HMAC, one context re-keyed ------------------------------ */

static EVP_MAC_CTX *macc;

static void mac_hmac(const void *k, size_t kl, const void *d, size_t n, unsigned char out[32])
{
    size_t outl = 0;

    EVP_MAC_init(macc, (const unsigned char *)k, kl, NULL);
    EVP_MAC_update(macc, (const unsigned char *)d, n);
    EVP_MAC_final(macc, out, &outl, 32);
}

static const struct way ways[] = {
    {"evp", evp_sha256, evp_hmac},
    {"lowlevel", ll_sha256, ll_hmac},
    {"mac", evp_sha256, mac_hmac},
};

/* ---- one signature -------------------------------------------------------- */

static char cr[sizeof(CR_PREFIX) + 64];
static char sts[sizeof(STS_PREFIX) + 64];

static void derive(const struct way *w, unsigned char key[32])
{
    unsigned char k[32];

    w->hmac("AWS4" B_SECRET, sizeof("AWS4" B_SECRET) - 1, B_DATE8, 8, k);
    w->hmac(k, 32, B_REGION, sizeof(B_REGION) - 1, k);
    w->hmac(k, 32, B_SERVICE, sizeof(B_SERVICE) - 1, k);
    w->hmac(k, 32, "aws4_request", 12, key);
}

/* cached_key NULL: derive the key too. */
static void sign_once(const struct way *w, const unsigned char *cached_key, char sig[65])
{
    unsigned char d[32], key[32];

    w->sha256(B_BODY, sizeof(B_BODY) - 1, d);
    to_hex(d, 32, cr + sizeof(CR_PREFIX) - 1);
    w->sha256(cr, sizeof(cr) - 1, d);
    to_hex(d, 32, sts + sizeof(STS_PREFIX) - 1);
    if (cached_key == NULL) {
        derive(w, key);
        cached_key = key;
    }
    w->hmac(cached_key, 32, sts, sizeof(sts) - 1, d);
    to_hex(d, 32, sig);
}

static double measure(const struct way *w, int cached, double seconds, char sig[65])
{
    unsigned char key[32];
    double t0, t;
    long n = 0, i;

    derive(w, key);
    t0 = b_cpu();
    do {
        for (i = 0; i < 1000; i++)
            sign_once(w, cached ? key : NULL, sig);
        n += 1000;
        t = b_cpu() - t0;
    } while (t < seconds);
    return (double)n / t;
}

int main(int argc, char **argv)
{
    double seconds = argc > 1 ? atof(argv[1]) : b_seconds(0.4);
    EVP_MAC *mac;
    OSSL_PARAM params[2];
    char sig[65], first[65] = "";
    size_t i;

    md = EVP_MD_fetch(NULL, "SHA256", NULL);
    mdc = EVP_MD_CTX_new();
    mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    macc = mac != NULL ? EVP_MAC_CTX_new(mac) : NULL;
    if (md == NULL || mdc == NULL || macc == NULL) {
        fprintf(stderr, "sign_floor: OpenSSL has no SHA-256/HMAC\n");
        return 1;
    }
    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0);
    params[1] = OSSL_PARAM_construct_end();
    EVP_MAC_CTX_set_params(macc, params);
    memcpy(cr, CR_PREFIX, sizeof(CR_PREFIX) - 1);
    memcpy(sts, STS_PREFIX, sizeof(STS_PREFIX) - 1);

    for (i = 0; i < sizeof(ways) / sizeof(ways[0]); i++) {
        printf("floor.%s.uncached %.1f\n", ways[i].name, measure(&ways[i], 0, seconds, sig));
        if (first[0] == '\0')
            memcpy(first, sig, 65);
        else if (strcmp(first, sig) != 0) {
            fprintf(stderr, "sign_floor: way %s disagrees: %s\n", ways[i].name, sig);
            return 1;
        }
        printf("floor.%s.cached %.1f\n", ways[i].name, measure(&ways[i], 1, seconds, sig));
        if (strcmp(first, sig) != 0) {
            fprintf(stderr, "sign_floor: cached %s disagrees: %s\n", ways[i].name, sig);
            return 1;
        }
    }
    printf("signature %s\n", first);
    EVP_MAC_CTX_free(macc);
    EVP_MAC_free(mac);
    EVP_MD_CTX_free(mdc);
    EVP_MD_free(md);
    return 0;
}
