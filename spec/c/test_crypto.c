/*
 * test_crypto.c - unit cases for the SHA-256 and HMAC-SHA256 of src/crypto.c.
 *
 * Table-driven, no Lua. src/crypto.c hashes through one reused EVP context
 * per thread and builds HMAC over it, so its output is checked against
 * OpenSSL's own one-shot EVP_Digest and HMAC() on every length around the
 * block boundaries (55/56/64 bytes), on long runs, in a second thread, and on
 * keys of every interesting length (empty, short, one block, longer than a
 * block). Prepared keys (fsx_hmac_sha256_prepare/_prepared) must give the
 * same MACs as keying from scratch, and a key given in two parts the same as
 * in one.
 */
#include <stdio.h>
#include <stdlib.h>
#include <pthread.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "crypto.h"
#include "test_util.h"

#define BIG 70000

static unsigned char *data;  /* BIG pseudo-random bytes */
static unsigned char key[256]; /* pseudo-random key bytes */

static void fill(unsigned char *p, size_t n, unsigned seed)
{
    size_t i;

    for (i = 0; i < n; i++) {
        seed = seed * 1103515245u + 12345u;
        p[i] = (unsigned char)(seed >> 16);
    }
}

static void ref_sha256(const unsigned char *d, size_t n, unsigned char out[32])
{
    unsigned int len = 0;

    EVP_Digest(d, n, out, &len, EVP_sha256(), NULL);
}

static void ref_hmac(const unsigned char *k, size_t kl, const unsigned char *d, size_t n,
                     unsigned char out[32])
{
    unsigned int len = 0;

    HMAC(EVP_sha256(), k, (int)kl, d, n, out, &len);
}

/* Lengths that exercise the padding: every length up to three blocks and a few beyond. */
static const size_t extra_lengths[] = {255, 256, 511, 512, 513, 575, 576, 577, 4103, 65536, BIG};

struct sha_job {
    unsigned char want[32];
    int ok;
};

static void *sha_thread(void *arg)
{
    struct sha_job *job = (struct sha_job *)arg;
    unsigned char got[32];
    job->ok = fsx_sha256(data, 100, got) == 0 && memcmp(got, job->want, 32) == 0;
    return NULL;
}

static void test_sha256(void)
{
    unsigned char got[32], want[32];
    size_t n, i, bad = 0, first_bad = 0;

    for (n = 0; n <= 200; n++) {
        ref_sha256(data, n, want);
        if (fsx_sha256(data, n, got) != 0 || memcmp(got, want, 32) != 0) {
            if (bad++ == 0)
                first_bad = n;
        }
    }
    tu_ok(bad == 0, "sha256 of 0..200 bytes matches EVP", "%lu lengths differ, first %lu",
          (unsigned long)bad, (unsigned long)first_bad);
    for (i = 0; i < sizeof(extra_lengths) / sizeof(extra_lengths[0]); i++) {
        n = extra_lengths[i];
        ref_sha256(data, n, want);
        tu_ok(fsx_sha256(data, n, got) == 0 && memcmp(got, want, 32) == 0,
              "sha256 of a long run matches EVP", "length %lu differs", (unsigned long)n);
    }
    /* from another thread (each thread hashes through a context of its own) */
    {
        struct sha_job job;
        pthread_t th;

        job.ok = 0;
        ref_sha256(data, 100, job.want);
        tu_ok(pthread_create(&th, NULL, sha_thread, &job) == 0 && pthread_join(th, NULL) == 0 &&
                  job.ok,
              "sha256 in a second thread", "differs");
    }
}

/* fsx_sha1_hex against the FIPS 180 example answers. */
static void test_sha1_hex(void)
{
    static const struct {
        const char *in, *want;
    } cases[] = {
        {"", "da39a3ee5e6b4b0d3255bfef95601890afd80709"},
        {"abc", "a9993e364706816aba3e25717850c26c9cd0d89d"},
        {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
         "84983e441c3bd26ebaae4aa1f95129e5e54670f1"},
    };
    char out[41];
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        memset(out, 'x', sizeof(out));
        tu_ok(fsx_sha1_hex(cases[i].in, strlen(cases[i].in), out) == 0 &&
                  strcmp(out, cases[i].want) == 0,
              "sha1_hex: FIPS 180 example", "case %lu gave %.41s", (unsigned long)i, out);
    }
}

static const size_t key_lengths[] = {0, 1, 4, 20, 31, 32, 33, 44, 55, 56, 63, 64, 65, 100, 131, 200};

static void test_hmac(void)
{
    unsigned char got[32], want[32], got2[32];
    struct fsx_hmac_sha256_key pk;
    size_t i, n;

    for (i = 0; i < sizeof(key_lengths) / sizeof(key_lengths[0]); i++) {
        size_t kl = key_lengths[i], bad = 0, bad_prep = 0, bad_split = 0, first = 0;

        fsx_hmac_sha256_prepare(&pk, key, kl);
        for (n = 0; n <= 200 + 11; n++) {
            size_t len = n <= 200 ? n : extra_lengths[n - 201];

            ref_hmac(key, kl, data, len, want);
            if (fsx_hmac_sha256(key, kl, data, len, got) != 0 || memcmp(got, want, 32) != 0) {
                if (bad++ == 0)
                    first = len;
            }
            if (fsx_hmac_sha256_prepared(&pk, data, len, got2) != 0 ||
                memcmp(got2, want, 32) != 0)
                bad_prep++;
            /* the key split in two at a length-dependent place */
            if (fsx_hmac_sha256_2(key, len % (kl + 1), key + len % (kl + 1),
                                  kl - len % (kl + 1), data, len, got2) != 0 ||
                memcmp(got2, want, 32) != 0)
                bad_split++;
        }
        tu_ok(bad == 0, "hmac matches OpenSSL HMAC()", "key of %lu bytes: %lu lengths differ, first %lu",
              (unsigned long)kl, (unsigned long)bad, (unsigned long)first);
        tu_ok(bad_prep == 0, "prepared-key hmac matches OpenSSL HMAC()",
              "key of %lu bytes: %lu lengths differ", (unsigned long)kl, (unsigned long)bad_prep);
        tu_ok(bad_split == 0, "two-part key hmac matches OpenSSL HMAC()",
              "key of %lu bytes: %lu lengths differ", (unsigned long)kl, (unsigned long)bad_split);
        fsx_hmac_sha256_key_free(&pk);
    }
    /* a prepared key holds no pointer to the key */
    {
        unsigned char k2[32];

        memcpy(k2, key, 32);
        fsx_hmac_sha256_prepare(&pk, k2, 32);
        memset(k2, 0, sizeof(k2));
        ref_hmac(key, 32, data, 134, want);
        tu_ok(fsx_hmac_sha256_prepared(&pk, data, 134, got) == 0 && memcmp(got, want, 32) == 0,
              "a prepared key works after the key is gone", "differs");
        fsx_hmac_sha256_key_free(&pk);
        fsx_hmac_sha256_key_free(&pk); /* idempotent */
        tu_ok(pk.inner == NULL && pk.outer == NULL &&
                  fsx_hmac_sha256_prepared(&pk, data, 134, got) == -1,
              "a freed prepared key is refused", "used");
    }
    /* RFC 4231 test case 2: a key shorter than the block, prepared */
    {
        static const unsigned char want2[32] = {
            0x5b, 0xdc, 0xc1, 0x46, 0xbf, 0x60, 0x75, 0x4e, 0x6a, 0x04, 0x24, 0x26, 0x08, 0x95, 0x75, 0xc7,
            0x5a, 0x00, 0x3f, 0x08, 0x9d, 0x27, 0x39, 0x83, 0x9d, 0xec, 0x58, 0xb9, 0x64, 0xec, 0x38, 0x43};

        fsx_hmac_sha256_prepare(&pk, "Jefe", 4);
        tu_ok(fsx_hmac_sha256_prepared(&pk, "what do ya want for nothing?", 28, got) == 0 &&
                  memcmp(got, want2, 32) == 0,
              "prepared hmac, rfc4231 case 2", "differs");
        fsx_hmac_sha256_key_free(&pk);
        tu_ok(fsx_hmac_sha256_2("Je", 2, "fe", 2, "what do ya want for nothing?", 28, got) == 0 &&
                  memcmp(got, want2, 32) == 0,
              "hmac from a two-part key, rfc4231 case 2", "differs");
    }
}

/* The chain against one reference HMAC per step, for chains of 1 to 6 messages. */
static void test_hmac_chain(void)
{
    struct fsx_bytes msgs[6];
    unsigned char got[32], want[32];
    size_t n, i, bad = 0;

    for (i = 0; i < 6; i++) {
        msgs[i].data = data + 100 * i;
        msgs[i].len = i * 37 % 90; /* 0 to 89 bytes: short, empty, over a block */
    }
    for (n = 1; n <= 6; n++) {
        ref_hmac(key, 44, msgs[0].data, msgs[0].len, want);
        for (i = 1; i < n; i++)
            ref_hmac(want, 32, msgs[i].data, msgs[i].len, want);
        if (fsx_hmac_sha256_chain(key, 4, key + 4, 40, msgs, n, got) != 0 ||
            memcmp(got, want, 32) != 0)
            bad++;
    }
    tu_ok(bad == 0, "hmac chain matches one OpenSSL HMAC() per step", "%lu of 6 chains differ",
          (unsigned long)bad);
    tu_ok(fsx_hmac_sha256_chain(key, 4, NULL, 0, msgs, 0, got) == -1, "hmac chain of nothing",
          "accepted");
}

int main(void)
{
    data = (unsigned char *)malloc(BIG);
    if (data == NULL)
        return 1;
    fill(data, BIG, 1);
    fill(key, sizeof(key), 2);
    test_sha256();
    test_sha1_hex();
    test_hmac();
    test_hmac_chain();
    free(data);
    return tu_report("crypto");
}
