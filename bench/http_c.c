/*
 * http_c.c - our transport (fsx_http_perform) called from C, no Lua.
 *
 * Diagnostic benchmark (bench/, not part of the library): the same request
 * as bench/curl_floor.c (same URL, body and header lines), sent through
 * src/http.c's reused handle as the binding does (method, url, headers,
 * body, timeouts, max_body given on every call). Its CPU per call minus
 * curl_floor's is what src/http.c adds to raw libcurl; ours from Lua minus
 * this is what the binding and the Lua layer add.
 *
 * Usage: http_c URL [SECONDS]   (default $BENCH_SECONDS or 1)
 * Output: cHTTP.reuse.calls_per_s, cHTTP.reuse.cpu_us ("name value" lines)
 */
#include <sys/resource.h>

#include "http.h"

#include "bench.h"

static double rusage_cpu(void)
{
    struct rusage ru;

    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec * 1e-6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec * 1e-6;
}

static void perform(struct fsx_http *h, const struct fsx_http_request *req)
{
    const struct fsx_http_response *resp;
    struct fsx_error err;

    if (fsx_http_perform(h, req, &resp, &err) != 0 || resp->status != 200) {
        fprintf(stderr, "http_c: %s\n", err.message);
        exit(1);
    }
}

int main(int argc, char **argv)
{
    static const char *const lines[] = {
        "Host: " B_HOST,
        B_SIGNED_LINES,
    };
    const char *url = argc > 1 ? argv[1] : NULL;
    double seconds = argc > 2 ? atof(argv[2]) : b_seconds(1.0);
    struct fsx_http_request req;
    struct fsx_error err;
    struct fsx_http *h;
    long n = 0, i;
    double w0, c0, w;

    if (url == NULL) {
        fprintf(stderr, "usage: http_c URL [SECONDS]\n");
        return 2;
    }
    if (fsx_http_global_init(&err) != 0 || (h = fsx_http_new(&err)) == NULL) {
        fprintf(stderr, "http_c: %s\n", err.message);
        return 1;
    }
    memset(&req, 0, sizeof(req));
    req.method = "POST";
    req.url = url;
    req.headers = lines;
    req.n_headers = sizeof(lines) / sizeof(lines[0]);
    req.body = B_BODY;
    req.body_len = sizeof(B_BODY) - 1;
    req.connect_timeout_ms = 10000;
    req.timeout_ms = 60000;
    req.max_body = 8 * 1024 * 1024;
    for (i = 0; i < 200; i++) /* warm-up */
        perform(h, &req);
    w0 = b_wall();
    c0 = rusage_cpu();
    do {
        for (i = 0; i < 100; i++)
            perform(h, &req);
        n += 100;
    } while (b_wall() - w0 < seconds);
    w = b_wall() - w0;
    printf("cHTTP.reuse.calls_per_s %.1f\n", (double)n / w);
    printf("cHTTP.reuse.cpu_us %.2f\n", (rusage_cpu() - c0) / (double)n * 1e6);
    fsx_http_free(h);
    return 0;
}
