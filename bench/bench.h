/*
 * bench.h - shared pieces of the C benchmarks in bench/ (not part of the library).
 *
 * The "typical CreateBackup request" every signing benchmark signs (the Lua
 * and Python benchmarks spell out the same strings; bench/run.sh checks that
 * every signer prints the same signature), and the clocks the benchmarks
 * read. Timing is process CPU time (CLOCK_PROCESS_CPUTIME_ID): on a shared,
 * noisy machine it does not count the time this process sat descheduled.
 */
#ifndef FSX_BENCH_H
#define FSX_BENCH_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- the request ---------------------------------------------------------- */

#define B_HOST "fsx.us-east-1.amazonaws.com"
#define B_CONTENT_TYPE "application/x-amz-json-1.1"
#define B_TARGET "AWSSimbaAPIService_v20180301.CreateBackup"
#define B_AMZ_DATE "20240115T120000Z"
#define B_DATE8 "20240115"
#define B_REGION "us-east-1"
#define B_SERVICE "fsx"
#define B_ACCESS_KEY "AKIDEXAMPLE"
#define B_SECRET "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
/* The header lines of the signed CreateBackup request that raw libcurl
 * (curl_floor.c) and our transport (http_c.c) post, after Host: the same
 * bytes for both. */
#define B_SIGNED_LINES                                                                 \
    "Content-Type: " B_CONTENT_TYPE, "X-Amz-Target: " B_TARGET,                         \
        "X-Amz-Date: " B_AMZ_DATE,                                                       \
        "Authorization: AWS4-HMAC-SHA256 Credential=" B_ACCESS_KEY "/" B_DATE8 "/"       \
        B_REGION "/" B_SERVICE "/aws4_request, SignedHeaders=content-type;host;"         \
        "x-amz-date;x-amz-target, Signature="                                            \
        "075ba12305e66ff33bc1716c486c6dc4e2a759c7f206146a24978fa2fd0077d3",              \
        "User-Agent: lua-fsx/0.1.0 lua/5.4 os/linux cfg/retry-mode#standard",           \
        "amz-sdk-invocation-id: 0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9",                  \
        "amz-sdk-request: attempt=1; max=3"

#define B_BODY                                                                       \
    "{\"FileSystemId\":\"fs-0123456789abcdef0\",\"ClientRequestToken\":"           \
    "\"5b9c3e0a-6f0e-4a57-9d1c-2f4f7d1f0c11\",\"Tags\":[{\"Key\":\"Name\",\"Value\":" \
    "\"nightly\"},{\"Key\":\"Owner\",\"Value\":\"ops\"}]}"

/* ---- clocks -------------------------------------------------------------- */

static inline double b_clock(clockid_t id)
{
    struct timespec ts;

    clock_gettime(id, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static inline double b_cpu(void)
{
    return b_clock(CLOCK_PROCESS_CPUTIME_ID);
}

static inline double b_wall(void)
{
    return b_clock(CLOCK_MONOTONIC);
}

/* Seconds of CPU to spend per measurement: $BENCH_SECONDS or the default. */
static inline double b_seconds(double dflt)
{
    const char *s = getenv("BENCH_SECONDS");
    double v = s != NULL ? atof(s) : 0.0;

    return v > 0.0 ? v : dflt;
}

#endif
