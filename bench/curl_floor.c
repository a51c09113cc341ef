/*
 * curl_floor.c - the floor for a call: raw libcurl posting the same bytes.
 *
 * Benchmark program (bench/, not part of the library). One easy handle,
 * reused for every call, posts the CreateBackup body of bench.h with the
 * headers our client sends (fixed values: nothing is signed, encoded or
 * decoded per call) and collects the response in a growing buffer, which is
 * what any client must at least do. With "forbid" the handle closes the
 * connection after each call (CURLOPT_FORBID_REUSE): a new connection per
 * call.
 *
 * Usage: curl_floor URL [reuse|forbid] [SECONDS]   (default $BENCH_SECONDS or 1)
 * Output, one "name value" per line:
 *   curl.<mode>.calls_per_s   calls per wall-clock second
 *   curl.<mode>.cpu_us        client CPU microseconds per call (getrusage:
 *                             ru_utime + ru_stime of this process)
 *   curl.<mode>.connections   new connections during the timed calls
 */
#include <sys/resource.h>

#include <curl/curl.h>

#include "bench.h"

struct sink {
    char *data;
    size_t len, cap;
};

static size_t on_write(char *p, size_t size, size_t n, void *ud)
{
    struct sink *s = (struct sink *)ud;
    size_t add = size * n;

    if (s->len + add > s->cap) {
        size_t cap = s->cap ? s->cap : 4096;
        char *q;

        while (cap < s->len + add)
            cap *= 2;
        q = (char *)realloc(s->data, cap);
        if (q == NULL)
            return 0;
        s->data = q;
        s->cap = cap;
    }
    memcpy(s->data + s->len, p, add);
    s->len += add;
    return add;
}

static double rusage_cpu(void)
{
    struct rusage ru;

    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec * 1e-6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec * 1e-6;
}

static void perform(CURL *c, struct sink *s, long *connections)
{
    CURLcode rc;
    long status = 0, conns = 0;

    s->len = 0;
    rc = curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_getinfo(c, CURLINFO_NUM_CONNECTS, &conns);
    if (rc != CURLE_OK || status != 200 || s->len == 0) {
        fprintf(stderr, "curl_floor: %s (status %ld)\n", curl_easy_strerror(rc), status);
        exit(1);
    }
    *connections += conns;
}

int main(int argc, char **argv)
{
    const char *url = argc > 1 ? argv[1] : NULL;
    const char *mode = argc > 2 ? argv[2] : "reuse";
    double seconds = argc > 3 ? atof(argv[3]) : b_seconds(1.0);
    static const char *const lines[] = {
        B_SIGNED_LINES,
        "Expect:",
        "Accept:",
    };
    struct curl_slist *hdrs = NULL;
    struct sink s = {NULL, 0, 0};
    long connections = 0, n = 0, i;
    double w0, c0, w;
    CURL *c;

    if (url == NULL || (strcmp(mode, "reuse") != 0 && strcmp(mode, "forbid") != 0)) {
        fprintf(stderr, "usage: curl_floor URL [reuse|forbid] [SECONDS]\n");
        return 2;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    c = curl_easy_init();
    for (i = 0; i < (long)(sizeof(lines) / sizeof(lines[0])); i++)
        hdrs = curl_slist_append(hdrs, lines[i]);
    if (c == NULL || hdrs == NULL) {
        fprintf(stderr, "curl_floor: no curl handle\n");
        return 1;
    }
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, B_BODY);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)(sizeof(B_BODY) - 1));
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, (void *)&s);
    curl_easy_setopt(c, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
    if (strcmp(mode, "forbid") == 0)
        curl_easy_setopt(c, CURLOPT_FORBID_REUSE, 1L);

    for (i = 0; i < 200; i++) /* warm-up */
        perform(c, &s, &connections);
    connections = 0;
    w0 = b_wall();
    c0 = rusage_cpu();
    do {
        for (i = 0; i < 100; i++)
            perform(c, &s, &connections);
        n += 100;
        w = b_wall() - w0;
    } while (w < seconds);
    printf("curl.%s.calls_per_s %.1f\n", mode, (double)n / w);
    printf("curl.%s.cpu_us %.2f\n", mode, (rusage_cpu() - c0) / (double)n * 1e6);
    printf("curl.%s.connections %ld\n", mode, connections);
    curl_easy_cleanup(c);
    curl_slist_free_all(hdrs);
    free(s.data);
    curl_global_cleanup();
    return 0;
}
