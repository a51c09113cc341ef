/*
 * test_http.c - tests of the HTTP transport (src/http.c), no Lua.
 *
 * Two parts. The response capture (fsx_http_response_on_header/on_body) is
 * driven directly with table-like cases. The transport is run against
 * spec/support/raw_http_server.py, started here on a free loopback port
 * (and a TLS port when the openssl tool can make a throwaway certificate)
 * and stopped at the end. Run from the repository root. Ends with the line
 * "http: N passed, N failed" (test_util.h); exits 1 when anything failed.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "http.h"
#include "test_util.h"

/* one recorded case per check, named by its condition and line */
#define CHECK(cond) tu_ok((cond) != 0, #cond, "test_http.c:%d", __LINE__)

/* memcmp of a stored header field against a C string */
static int field_is(const char *p, size_t len, const char *s)
{
    return len == strlen(s) && memcmp(p, s, len) == 0 && p[len] == '\0';
}

/* The index of the n-th (0-based) header named name, or -1. */
static long find_header(const struct fsx_http_response *r, const char *name, int nth)
{
    size_t i;
    for (i = 0; i < r->n_headers; i++) {
        if (r->headers[i].name_len == strlen(name) &&
            memcmp(fsx_http_header_name(r, i), name, r->headers[i].name_len) == 0 && nth-- == 0)
            return (long)i;
    }
    return -1;
}

/* The value of header name equals want (the first one with that name). */
static int header_is(const struct fsx_http_response *r, const char *name, const char *want)
{
    long i = find_header(r, name, 0);
    return i >= 0 && field_is(fsx_http_header_value(r, i), r->headers[i].value_len, want);
}

static int on_header_str(struct fsx_http_response *r, const char *line)
{
    return fsx_http_response_on_header(r, line, strlen(line));
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ------------------------------------------------------------------------ */
/* response capture, no network                                             */

static void test_capture_basics(void)
{
    struct fsx_http_response r;

    fsx_http_response_init(&r, 0, 0);
    CHECK(r.max_body == FSX_HTTP_DEFAULT_MAX_BODY);
    CHECK(r.max_header_bytes == FSX_HTTP_DEFAULT_MAX_HEADER_BYTES);
    CHECK(r.n_headers == 0 && r.status == 0 && r.too_large == 0 && r.body.len == 0);

    CHECK(on_header_str(&r, "HTTP/1.1 200 OK\r\n") == 0);
    CHECK(r.status == 200);
    CHECK(on_header_str(&r, "Content-Type:  application/json \r\n") == 0);
    CHECK(on_header_str(&r, "x-amzn-RequestId:abc\r\n") == 0);
    CHECK(on_header_str(&r, "X-Tab:\tv1\t \r\n") == 0);
    CHECK(on_header_str(&r, "X-LF: lf only\n") == 0);
    CHECK(on_header_str(&r, "X-Bare: no eol") == 0);
    CHECK(on_header_str(&r, "X-Colon: a:b: c\r\n") == 0);
    CHECK(on_header_str(&r, "\r\n") == 0);
    CHECK(r.n_headers == 6);
    CHECK(field_is(fsx_http_header_name(&r, 0), r.headers[0].name_len, "Content-Type"));
    CHECK(header_is(&r, "Content-Type", "application/json"));
    CHECK(header_is(&r, "x-amzn-RequestId", "abc"));
    CHECK(header_is(&r, "X-Tab", "v1"));
    CHECK(header_is(&r, "X-LF", "lf only"));
    CHECK(header_is(&r, "X-Bare", "no eol"));
    CHECK(header_is(&r, "X-Colon", "a:b: c"));
    CHECK(find_header(&r, "content-type", 0) == -1); /* names kept as received */

    CHECK(fsx_http_response_on_body(&r, "hello ", 6) == 0);
    CHECK(fsx_http_response_on_body(&r, "", 0) == 0);
    CHECK(fsx_http_response_on_body(&r, "world", 5) == 0);
    CHECK(r.body.len == 11 && memcmp(r.body.data, "hello world", 11) == 0);

    CHECK(r.headers_done == 1);
    fsx_http_response_reset(&r);
    CHECK(r.n_headers == 0 && r.status == 0 && r.body.len == 0 && r.header_data.len == 0);
    CHECK(r.headers_done == 0);
    CHECK(r.max_body == FSX_HTTP_DEFAULT_MAX_BODY);
    fsx_http_response_free(&r);
    fsx_http_response_free(&r); /* idempotent */
}

static void test_capture_status_lines(void)
{
    struct fsx_http_response r;

    fsx_http_response_init(&r, 0, 0);
    /* a status line starts a new block: the 100 and the redirect go */
    CHECK(on_header_str(&r, "HTTP/1.1 100 Continue\r\n") == 0);
    CHECK(r.status == 100);
    CHECK(on_header_str(&r, "X-Interim: 1\r\n") == 0);
    CHECK(on_header_str(&r, "\r\n") == 0);
    CHECK(on_header_str(&r, "HTTP/1.1 302 Found\r\n") == 0);
    CHECK(r.n_headers == 0 && r.status == 302);
    CHECK(on_header_str(&r, "Location: /x\r\n") == 0);
    CHECK(on_header_str(&r, "\r\n") == 0);
    CHECK(on_header_str(&r, "HTTP/2 404\r\n") == 0);
    CHECK(r.status == 404 && r.n_headers == 0);
    CHECK(r.headers_done == 0); /* the 302 block ended; this one has not */
    CHECK(on_header_str(&r, "X-Final: yes\r\n") == 0);
    CHECK(r.n_headers == 1 && header_is(&r, "X-Final", "yes"));
    CHECK(r.headers_done == 0);
    CHECK(on_header_str(&r, "\r\n") == 0);
    CHECK(r.headers_done == 1);
    CHECK(find_header(&r, "X-Interim", 0) == -1 && find_header(&r, "Location", 0) == -1);

    /* malformed status lines still start a block but give status 0 */
    CHECK(on_header_str(&r, "HTTP/1.1 abc\r\n") == 0);
    CHECK(r.status == 0 && r.n_headers == 0 && r.headers_done == 0);
    CHECK(on_header_str(&r, "HTTP/1.1 2000 Too long\r\n") == 0);
    CHECK(r.status == 0);
    CHECK(on_header_str(&r, "HTTP/") == 0);
    CHECK(r.status == 0);
    CHECK(on_header_str(&r, "HTTP/1.0 503\r\n") == 0);
    CHECK(r.status == 503);
    fsx_http_response_free(&r);
}

static void test_capture_odd_lines(void)
{
    struct fsx_http_response r;

    fsx_http_response_init(&r, 0, 0);
    /* folds before any header are dropped */
    CHECK(on_header_str(&r, "  orphan fold\r\n") == 0);
    CHECK(r.n_headers == 0);
    /* no colon, empty name: skipped */
    CHECK(on_header_str(&r, "no colon here\r\n") == 0);
    CHECK(on_header_str(&r, ": no name\r\n") == 0);
    CHECK(r.n_headers == 0);
    /* empty and blank values */
    CHECK(on_header_str(&r, "X-Empty:\r\n") == 0);
    CHECK(on_header_str(&r, "X-Blank:  \t \r\n") == 0);
    CHECK(r.n_headers == 2);
    CHECK(header_is(&r, "X-Empty", "") && header_is(&r, "X-Blank", ""));
    /* obs-fold continues the last value with one space */
    CHECK(on_header_str(&r, "X-Fold: one\r\n") == 0);
    CHECK(on_header_str(&r, "   two  \r\n") == 0);
    CHECK(on_header_str(&r, "\tthree\r\n") == 0);
    CHECK(on_header_str(&r, " \t \r\n") == 0); /* blank fold adds nothing */
    CHECK(header_is(&r, "X-Fold", "one two three"));
    /* folding onto an empty value adds no leading space */
    CHECK(on_header_str(&r, "X-Late:\r\n") == 0);
    CHECK(on_header_str(&r, " later\r\n") == 0);
    CHECK(header_is(&r, "X-Late", "later"));
    /* embedded NUL is kept with its length */
    CHECK(fsx_http_response_on_header(&r, "X-Nul: a\0b\r\n", 12) == 0);
    {
        long i = find_header(&r, "X-Nul", 0);
        CHECK(i >= 0 && r.headers[i].value_len == 3 && memcmp(fsx_http_header_value(&r, i), "a\0b", 3) == 0);
    }
    /* repeated names stay in order */
    CHECK(on_header_str(&r, "Set-Cookie: a=1\r\n") == 0);
    CHECK(on_header_str(&r, "X-Mid: m\r\n") == 0);
    CHECK(on_header_str(&r, "Set-Cookie: b=2\r\n") == 0);
    {
        long a = find_header(&r, "Set-Cookie", 0), b = find_header(&r, "Set-Cookie", 1);
        CHECK(a >= 0 && b > a && field_is(fsx_http_header_value(&r, a), r.headers[a].value_len, "a=1") &&
              field_is(fsx_http_header_value(&r, b), r.headers[b].value_len, "b=2"));
    }
    CHECK(r.too_large == 0);
    fsx_http_response_free(&r);
}

static void test_capture_growth(void)
{
    struct fsx_http_response r;
    char line[64], want[32];
    int i, ok = 1;

    /* many headers: the storage moves several times, earlier views follow */
    fsx_http_response_init(&r, 0, 0);
    CHECK(on_header_str(&r, "HTTP/1.1 200 OK\r\n") == 0);
    for (i = 0; i < 500; i++) {
        snprintf(line, sizeof(line), "X-H%d: value-%d\r\n", i, i);
        if (on_header_str(&r, line) != 0)
            ok = 0;
        if (i == 250 && on_header_str(&r, " folded\r\n") != 0)
            ok = 0;
    }
    CHECK(ok);
    CHECK(r.n_headers == 500);
    for (i = 0; i < 500 && ok; i++) {
        snprintf(line, sizeof(line), "X-H%d", i);
        snprintf(want, sizeof(want), i == 250 ? "value-%d folded" : "value-%d", i);
        ok = field_is(fsx_http_header_name(&r, i), r.headers[i].name_len, line) &&
             field_is(fsx_http_header_value(&r, i), r.headers[i].value_len, want);
    }
    CHECK(ok);
    fsx_http_response_free(&r);
}

static void test_capture_caps(void)
{
    struct fsx_http_response r;
    char line[200];
    int i, rc = 0;

    fsx_http_response_init(&r, 10, 64);
    CHECK(fsx_http_response_on_body(&r, "123456", 6) == 0);
    CHECK(fsx_http_response_on_body(&r, "7890", 4) == 0); /* exactly the cap */
    CHECK(r.too_large == 0);
    CHECK(fsx_http_response_on_body(&r, "x", 1) == -1);
    CHECK(r.too_large != 0 && r.body.len == 10);

    fsx_http_response_reset(&r);
    CHECK(r.too_large == 0 && r.max_body == 10 && r.max_header_bytes == 64);
    /* one line longer than the cap */
    memset(line, 'a', sizeof(line));
    memcpy(line, "X-Long: ", 8);
    CHECK(fsx_http_response_on_header(&r, line, 65) == -1);
    CHECK(r.too_large != 0);
    /* lines under the cap are fine again after a reset */
    fsx_http_response_reset(&r);
    CHECK(fsx_http_response_on_header(&r, "HTTP/1.1 200 OK\r\n", 17) == 0);
    /* the block fills up */
    for (i = 0; i < 20 && rc == 0; i++)
        rc = on_header_str(&r, "X-A: 12345\r\n");
    CHECK(rc == -1 && r.too_large != 0);
    CHECK(r.header_data.len <= 64);
    CHECK(r.n_headers > 0 && r.n_headers < 20);
    /* a fold over the cap */
    fsx_http_response_reset(&r);
    CHECK(on_header_str(&r, "X-F: 1234567890123456789012345678901234567890\r\n") == 0);
    CHECK(on_header_str(&r, " 1234567890123456789012345678901234567890\r\n") == -1);
    CHECK(r.too_large != 0 && r.header_data.len <= 64);
    /* the cap is per block: each status line frees the room again */
    fsx_http_response_reset(&r);
    for (i = 0, rc = 0; i < 10; i++) {
        rc |= on_header_str(&r, "HTTP/1.1 100 Continue\r\n");
        rc |= on_header_str(&r, "X-Some: 1234567890123456789012345\r\n");
    }
    CHECK(rc == 0 && r.too_large == 0 && r.n_headers == 1);
    fsx_http_response_free(&r);
}

/* ------------------------------------------------------------------------ */
/* the loopback server                                                      */

static pid_t server_pid = -1;
static int port, tls_port;
static char tmpdir[64];
static char port_file[96], cert_file[96], key_file[96];

/* Run argv with stdout/stderr to /dev/null; 0 when it exits with status 0. */
static int run_quiet(char *const argv[])
{
    int status;
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        int fd = open("/dev/null", O_WRONLY);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        execv(argv[0], argv);
        _exit(127);
    }
    if (waitpid(pid, &status, 0) != pid)
        return -1;
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

/* A self-signed certificate for 127.0.0.1, or -1 without the openssl tool. */
static int make_cert(void)
{
    char *argv[] = {"/usr/bin/openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key_file,
                    "-out", cert_file, "-days", "2", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1", NULL};
    if (access(argv[0], X_OK) != 0)
        return -1;
    return run_quiet(argv);
}

/* Start raw_http_server.py and wait for its port file (10 s at most). */
static int start_server(int with_tls)
{
    char *argv[] = {"/usr/bin/python3", "spec/support/raw_http_server.py", "--port-file", port_file,
                    "--tls-cert", cert_file, "--tls-key", key_file, NULL};
    struct timespec pause = {0, 20000000L};
    double deadline;

    if (!with_tls)
        argv[4] = NULL;
    if (access(argv[1], R_OK) != 0) {
        printf("cannot find %s: run from the repository root\n", argv[1]);
        return -1;
    }
    server_pid = fork();
    if (server_pid < 0)
        return -1;
    if (server_pid == 0) {
        execv(argv[0], argv);
        execvp("python3", argv);
        _exit(127);
    }
    deadline = now_s() + 10;
    while (now_s() < deadline) {
        FILE *f = fopen(port_file, "r");
        if (f != NULL) {
            int n = fscanf(f, "%d %d", &port, &tls_port);
            fclose(f);
            if (n == 2 && port > 0)
                return 0;
        }
        if (waitpid(server_pid, NULL, WNOHANG) == server_pid) {
            server_pid = -1;
            return -1;
        }
        nanosleep(&pause, NULL);
    }
    return -1;
}

static void stop_server(void)
{
    if (server_pid > 0) {
        kill(server_pid, SIGTERM);
        waitpid(server_pid, NULL, 0);
        server_pid = -1;
    }
    unlink(port_file);
    unlink(cert_file);
    unlink(key_file);
    rmdir(tmpdir);
}

/* A loopback port with nothing listening on it. */
static int closed_port(void)
{
    struct sockaddr_in a;
    socklen_t len = sizeof(a);
    int p = 0, fd = socket(AF_INET, SOCK_STREAM, 0);

    if (fd < 0)
        return 1;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        p = ntohs(a.sin_port);
    close(fd);
    return p > 0 ? p : 1;
}

/* ------------------------------------------------------------------------ */
/* the transport                                                            */

static char url_buf[256];

static const char *url(const char *scheme, int p, const char *path)
{
    snprintf(url_buf, sizeof(url_buf), "%s://127.0.0.1:%d%s", scheme, p, path);
    return url_buf;
}

/* A request with everything zero and a 10 s safety timeout. */
static struct fsx_http_request req_of(const char *method, const char *u)
{
    struct fsx_http_request q;
    memset(&q, 0, sizeof(q));
    q.method = method;
    q.url = u;
    q.timeout_ms = 10000;
    return q;
}

/* The body of a successful response as a C string ("" otherwise). */
static const char *body_of(const struct fsx_http_response *r)
{
    return r != NULL ? fsx_buf_cstr(&r->body) : "";
}

static int perform(struct fsx_http *h, const struct fsx_http_request *q,
                   const struct fsx_http_response **r, struct fsx_error *err)
{
    fsx_error_clear(err);
    return fsx_http_perform(h, q, r, err);
}

static void test_basic_and_keepalive(struct fsx_http *h)
{
    struct fsx_http_request q = req_of("GET", url("http", port, "/echo"));
    const struct fsx_http_response *r = NULL;
    struct fsx_error err;
    long conn1, conn2;

    CHECK(perform(h, &q, &r, &err) == 0);
    CHECK(r != NULL && r->status == 200);
    CHECK(r != NULL && r->new_connections == 1);
    CHECK(strncmp(body_of(r), "GET /echo\n", 10) == 0);
    CHECK(r != NULL && header_is(r, "Content-Type", "text/plain"));
    conn1 = r != NULL ? find_header(r, "X-Conn-Id", 0) : -1;
    conn1 = conn1 >= 0 ? strtol(fsx_http_header_value(r, conn1), NULL, 10) : -1;

    CHECK(perform(h, &q, &r, &err) == 0);
    CHECK(r != NULL && r->status == 200 && r->new_connections == 0);
    conn2 = r != NULL ? find_header(r, "X-Conn-Id", 0) : -1;
    conn2 = conn2 >= 0 ? strtol(fsx_http_header_value(r, conn2), NULL, 10) : -2;
    CHECK(conn1 > 0 && conn1 == conn2);
}

/* The X-Conn-Id of a response, or -1. */
static long conn_id_of(const struct fsx_http_response *r)
{
    long i = r != NULL ? find_header(r, "X-Conn-Id", 0) : -1;
    return i >= 0 ? strtol(fsx_http_header_value(r, (size_t)i), NULL, 10) : -1;
}

/* An answer nobody asked for, waiting on the idle connection, is never the next one's. */
static void test_unasked_answer(struct fsx_http *h)
{
    struct fsx_http_request q = req_of("GET", url("http", port, "/extra"));
    const struct fsx_http_response *r = NULL;
    struct fsx_error err;
    struct timespec pause = {0, 200000000L};
    long first, second;

    CHECK(perform(h, &q, &r, &err) == 0);
    CHECK(strcmp(body_of(r), "asked") == 0);
    first = conn_id_of(r);
    /* the server's second answer arrives meanwhile */
    nanosleep(&pause, NULL);
    q.url = url("http", port, "/echo");
    CHECK(perform(h, &q, &r, &err) == 0);
    CHECK(strncmp(body_of(r), "GET /echo\n", 10) == 0);
    CHECK(r != NULL && r->new_connections == 1);
    second = conn_id_of(r);
    CHECK(first > 0 && second > 0 && first != second);
    /* the new connection is the one kept */
    CHECK(perform(h, &q, &r, &err) == 0);
    CHECK(r != NULL && r->new_connections == 0 && conn_id_of(r) == second);
}

static void test_methods(struct fsx_http *h)
{
    static const char *hdrs[] = {"X-Amz-Target: AWSSimbaAPIService_v20180301.DescribeBackups",
                                 "Content-Type: application/x-amz-json-1.1",
                                 "Authorization: AWS4-HMAC-SHA256 Credential=SECRETVALUE"};
    struct fsx_http_request q = req_of("POST", url("http", port, "/echo"));
    const struct fsx_http_response *r = NULL;
    struct fsx_error err;
    const char *b;

    q.headers = hdrs;
    q.n_headers = 3;
    q.body = "{\"a\":1}";
    q.body_len = 7;
    CHECK(perform(h, &q, &r, &err) == 0);
    b = body_of(r);
    CHECK(strncmp(b, "POST /echo\n", 11) == 0);
    CHECK(strstr(b, "\nContent-Length: 7\n") != NULL);
    CHECK(strstr(b, "\nContent-Type: application/x-amz-json-1.1\n") != NULL);
    CHECK(strstr(b, "Content-Type: application/x-www") == NULL);
    CHECK(strstr(b, "\nX-Amz-Target: AWSSimbaAPIService_v20180301.DescribeBackups\n") != NULL);
    CHECK(strstr(b, "\nAuthorization: AWS4-HMAC-SHA256 Credential=SECRETVALUE\n") != NULL);
    CHECK(strstr(b, "Expect") == NULL && strstr(b, "Accept") == NULL);
    CHECK(strlen(b) > 7 && strcmp(b + strlen(b) - 7, "{\"a\":1}") == 0);

    /* PUT with a body, then GET: no body, no custom method left over */
    q.method = "PUT";
    q.headers = NULL;
    q.n_headers = 0;
    q.body = "put-body";
    q.body_len = 8;
    CHECK(perform(h, &q, &r, &err) == 0);
    b = body_of(r);
    CHECK(strncmp(b, "PUT /echo\n", 10) == 0);
    CHECK(strstr(b, "\nContent-Length: 8\n") != NULL);
    CHECK(strstr(b, "Content-Type") == NULL && strstr(b, "Accept") == NULL);
    CHECK(strlen(b) > 8 && strcmp(b + strlen(b) - 8, "put-body") == 0);

    q = req_of("GET", url("http", port, "/echo?x=1"));
    CHECK(perform(h, &q, &r, &err) == 0);
    b = body_of(r);
    CHECK(strncmp(b, "GET /echo?x=1\n", 14) == 0);
    CHECK(strstr(b, "Content-Length") == NULL && strstr(b, "put-body") == NULL);
    CHECK(strstr(b, "Accept") == NULL);

    q.method = "DELETE";
    CHECK(perform(h, &q, &r, &err) == 0);
    b = body_of(r);
    CHECK(strncmp(b, "DELETE /echo?x=1\n", 17) == 0);
    CHECK(strstr(b, "Content-Length") == NULL);

    /* POST with an empty body sends Content-Length: 0; no form Content-Type */
    q.method = "POST";
    CHECK(perform(h, &q, &r, &err) == 0);
    b = body_of(r);
    CHECK(strncmp(b, "POST /echo?x=1\n", 15) == 0);
    CHECK(strstr(b, "\nContent-Length: 0\n") != NULL && strstr(b, "Content-Type") == NULL);

    /* custom method with a body */
    q.method = "PATCH";
    q.body = "p";
    q.body_len = 1;
    CHECK(perform(h, &q, &r, &err) == 0);
    CHECK(strncmp(body_of(r), "PATCH /echo?x=1\n", 16) == 0);
    CHECK(r != NULL && r->new_connections == 0); /* all of them on one connection */
}

static void test_request_headers(struct fsx_http *h)
{
    static const char *hdrs[] = {"Host: fsx.example.test:1234", "X-Empty:", "X-Blank:   ",
                                 "Accept: application/json", "X-Spaced:  v  "};
    struct fsx_http_request q = req_of("POST", url("http", port, "/echo"));
    const struct fsx_http_response *r = NULL;
    struct fsx_error err;
    const char *b;
    char *big;
    size_t big_len = 2u * 1024u * 1024u;

    q.headers = hdrs;
    q.n_headers = 5;
    CHECK(perform(h, &q, &r, &err) == 0);
    b = body_of(r);
    CHECK(strstr(b, "\nHost: fsx.example.test:1234\n") != NULL);
    CHECK(strstr(b, "Host: 127.0.0.1") == NULL);
    CHECK(strstr(b, "\nX-Empty: \n") != NULL);
    CHECK(strstr(b, "\nX-Blank: \n") != NULL);
    CHECK(strstr(b, "\nAccept: application/json\n") != NULL);
    CHECK(strstr(b, "\nX-Spaced: v\n") != NULL);

    /* a large body: still no Expect: 100-continue */
    big = (char *)malloc(big_len);
    if (big == NULL)
        return;
    memset(big, 'b', big_len);
    q = req_of("POST", url("http", port, "/echo"));
    q.body = big;
    q.body_len = big_len;
    CHECK(perform(h, &q, &r, &err) == 0);
    b = body_of(r);
    CHECK(strstr(b, "Expect") == NULL);
    CHECK(strstr(b, "\nContent-Length: 2097152\n") != NULL);
    CHECK(r != NULL && r->body.len > big_len);
    free(big);
}

static void test_responses(struct fsx_http *h)
{
    struct fsx_http_request q = req_of("GET", url("http", port, "/status/404"));
    const struct fsx_http_response *r = NULL;
    struct fsx_error err;
    long a, b, c, m;

    CHECK(perform(h, &q, &r, &err) == 0);
    CHECK(r != NULL && r->status == 404 && header_is(r, "X-Status", "404"));
    CHECK(strcmp(body_of(r), "status 404") == 0);
    q.url = url("http", port, "/status/503");
    CHECK(perform(h, &q, &r, &err) == 0);
    CHECK(r != NULL && r->status == 503 && strcmp(body_of(r), "status 503") == 0);
    q.url = url("http", port, "/status/400");
    CHECK(perform(h, &q, &r, &err) == 0);
    CHECK(r != NULL && r->status == 400 && header_is(r, "X-Status", "400"));

    q.url = url("http", port, "/chunked");
    CHECK(perform(h, &q, &r, &err) == 0);
    CHECK(r != NULL && r->status == 200 && strcmp(body_of(r), "hello chunked world") == 0);
    CHECK(r != NULL && header_is(r, "Transfer-Encoding", "chunked"));

    q.url = url("http", port, "/continue");
    CHECK(perform(h, &q, &r, &err) == 0);
    CHECK(r != NULL && r->status == 200 && strcmp(body_of(r), "after continue") == 0);
    CHECK(r != NULL && header_is(r, "X-Final", "yes") && find_header(r, "X-Interim", 0) == -1);

    q.url = url("http", port, "/trim");
    CHECK(perform(h, &q, &r, &err) == 0);
    CHECK(r != NULL && header_is(r, "X-Trim", "padded value"));
    CHECK(r != NULL && header_is(r, "X-Empty", "") && header_is(r, "X-Blank", ""));
    CHECK(r != NULL && header_is(r, "X-Tight", "v") && header_is(r, "X-Colon", "a:b"));
    CHECK(strcmp(body_of(r), "ok") == 0);

    q.url = url("http", port, "/repeat");
    CHECK(perform(h, &q, &r, &err) == 0);
    if (r != NULL) {
        a = find_header(r, "X-Rep", 0);
        b = find_header(r, "X-Rep", 1);
        c = find_header(r, "X-Rep", 2);
        m = find_header(r, "X-Other", 0);
        CHECK(a >= 0 && a < b && b < m && m < c && find_header(r, "X-Rep", 3) == -1);
        CHECK(a >= 0 && field_is(fsx_http_header_value(r, a), r->headers[a].value_len, "one"));
        CHECK(b >= 0 && field_is(fsx_http_header_value(r, b), r->headers[b].value_len, "two"));
        CHECK(c >= 0 && field_is(fsx_http_header_value(r, c), r->headers[c].value_len, "three"));
        CHECK(r->body.len == 0);
    }
}

static void test_caps(struct fsx_http *h)
{
    struct fsx_http_request q = req_of("GET", url("http", port, "/big/1000"));
    const struct fsx_http_response *r = NULL;
    struct fsx_error err;

    q.max_body = 1000;
    CHECK(perform(h, &q, &r, &err) == 0);
    CHECK(r != NULL && r->body.len == 1000);

    q.url = url("http", port, "/big/100000");
    CHECK(perform(h, &q, &r, &err) == -1);
    CHECK(r == NULL && err.kind == FSX_ERR_TOO_LARGE && strcmp(err.code, "ResponseTooLarge") == 0);

    q.url = url("http", port, "/bigchunked/100000");
    CHECK(perform(h, &q, &r, &err) == -1);
    CHECK(err.kind == FSX_ERR_TOO_LARGE && strcmp(err.code, "ResponseTooLarge") == 0);

    q.url = url("http", port, "/bigheaders/200");
    q.max_body = 0;
    q.max_header_bytes = 1024;
    CHECK(perform(h, &q, &r, &err) == -1);
    CHECK(err.kind == FSX_ERR_TOO_LARGE && strcmp(err.code, "HeadersTooLarge") == 0);

    /* the default cap lets them through */
    q.max_header_bytes = 0;
    CHECK(perform(h, &q, &r, &err) == 0);
    CHECK(r != NULL && r->n_headers >= 200 && header_is(r, "X-Header-0199", "vvvvvvvvvvvvvvvvvvvvvvvv"));

    /* and the handle still works after the failures */
    q = req_of("GET", url("http", port, "/echo"));
    CHECK(perform(h, &q, &r, &err) == 0);
    CHECK(r != NULL && r->status == 200);
}

static void test_failures(struct fsx_http *h)
{
    static const char *secret[] = {"Authorization: AWS4-HMAC-SHA256 Signature=SECRETVALUE"};
    struct fsx_http_request q = req_of("GET", url("http", closed_port(), "/"));
    const struct fsx_http_response *r = NULL;
    struct fsx_error err;
    double t0, dt;

    q.headers = secret;
    q.n_headers = 1;
    CHECK(perform(h, &q, &r, &err) == -1);
    CHECK(r == NULL && err.kind == FSX_ERR_TRANSPORT && strcmp(err.code, "CURLE_COULDNT_CONNECT") == 0);
    CHECK(err.message[0] != '\0' && strstr(err.message, "SECRETVALUE") == NULL);
    CHECK(!(err.message[0] >= 'A' && err.message[0] <= 'Z' && err.message[1] >= 'a'));

    q.url = url("http", port, "/hang");
    q.timeout_ms = 300;
    t0 = now_s();
    CHECK(perform(h, &q, &r, &err) == -1);
    dt = now_s() - t0;
    CHECK(err.kind == FSX_ERR_TIMEOUT && strcmp(err.code, "CURLE_OPERATION_TIMEDOUT") == 0);
    CHECK(dt >= 0.25 && dt < 3.0);
    CHECK(strstr(err.message, "SECRETVALUE") == NULL);

    q.timeout_ms = 10000;
    q.url = url("http", port, "/reset");
    CHECK(perform(h, &q, &r, &err) == -1);
    CHECK(err.kind == FSX_ERR_TRANSPORT && strcmp(err.code, "CURLE_RECV_ERROR") == 0);

    q.url = url("http", port, "/partial");
    CHECK(perform(h, &q, &r, &err) == -1);
    CHECK(err.kind == FSX_ERR_TRANSPORT && strcmp(err.code, "CURLE_PARTIAL_FILE") == 0);

    /* a close inside the header block, or before the last chunk: never a response */
    q.url = url("http", port, "/cutheaders");
    CHECK(perform(h, &q, &r, &err) == -1);
    CHECK(r == NULL && err.kind == FSX_ERR_TRANSPORT && strcmp(err.code, "IncompleteResponse") == 0);
    q.url = url("http", port, "/cutchunked");
    CHECK(perform(h, &q, &r, &err) == -1);
    CHECK(err.kind == FSX_ERR_TRANSPORT && strcmp(err.code, "CURLE_PARTIAL_FILE") == 0);

    q.url = url("http", port, "/nothing");
    CHECK(perform(h, &q, &r, &err) == -1);
    CHECK(err.kind == FSX_ERR_TRANSPORT && strcmp(err.code, "CURLE_GOT_NOTHING") == 0);

    q.url = url("https", port, "/echo"); /* TLS to a plain HTTP port */
    CHECK(perform(h, &q, &r, &err) == -1);
    CHECK(err.kind == FSX_ERR_TRANSPORT && strcmp(err.code, "CURLE_SSL_CONNECT_ERROR") == 0);

    q.url = "ftp://127.0.0.1/"; /* http and https only */
    CHECK(perform(h, &q, &r, &err) == -1);
    CHECK(err.kind == FSX_ERR_TRANSPORT && strcmp(err.code, "CURLE_UNSUPPORTED_PROTOCOL") == 0);

    q.url = "http://";
    CHECK(perform(h, &q, &r, &err) == -1);
    CHECK(err.kind == FSX_ERR_TRANSPORT && strcmp(err.code, "CURLE_URL_MALFORMAT") == 0);

    /* validation happens before anything is sent */
    q = req_of("GE T", url("http", port, "/echo"));
    CHECK(perform(h, &q, &r, &err) == -1);
    CHECK(err.kind == FSX_ERR_VALIDATION && strcmp(err.code, "InvalidMethod") == 0);
    q.method = "HEAD";
    CHECK(perform(h, &q, &r, &err) == -1 && strcmp(err.code, "InvalidMethod") == 0);
    q.method = "";
    CHECK(perform(h, &q, &r, &err) == -1 && strcmp(err.code, "InvalidMethod") == 0);
    q.method = "GET";
    {
        static const char *crlf[] = {"X-Ok: 1", "X-Bad: SECRETVALUE\r\nX-Injected: 1"};
        static const char *nocolon[] = {"NoColonSECRETVALUE"};
        static const char *noname[] = {": SECRETVALUE"};
        static const char *notoken[] = {"X Bad: SECRETVALUE"};
        static const char *ctl[] = {"X-Bad: SECRET\x01VALUE"};
        q.headers = crlf;
        q.n_headers = 2;
        CHECK(perform(h, &q, &r, &err) == -1);
        CHECK(err.kind == FSX_ERR_VALIDATION && strcmp(err.code, "InvalidHeader") == 0);
        CHECK(strstr(err.message, "SECRETVALUE") == NULL && strstr(err.message, "2") != NULL);
        q.headers = nocolon;
        q.n_headers = 1;
        CHECK(perform(h, &q, &r, &err) == -1 && strcmp(err.code, "InvalidHeader") == 0);
        CHECK(strstr(err.message, "SECRETVALUE") == NULL);
        q.headers = noname;
        CHECK(perform(h, &q, &r, &err) == -1 && strcmp(err.code, "InvalidHeader") == 0);
        /* the signer's rules: names are tokens, values hold no control characters */
        q.headers = notoken;
        CHECK(perform(h, &q, &r, &err) == -1 && strcmp(err.code, "InvalidHeader") == 0);
        CHECK(strstr(err.message, "SECRETVALUE") == NULL);
        q.headers = ctl;
        CHECK(perform(h, &q, &r, &err) == -1 && strcmp(err.code, "InvalidHeader") == 0);
    }
    q = req_of("POST", url("http", port, "/echo"));
    q.body_len = 3; /* and body NULL */
    CHECK(perform(h, &q, &r, &err) == -1 && err.kind == FSX_ERR_VALIDATION);

    /* the handle is still good */
    q = req_of("GET", url("http", port, "/echo"));
    CHECK(perform(h, &q, &r, &err) == 0 && r != NULL && r->status == 200);
}

static void test_tls(struct fsx_http *h)
{
    struct fsx_http_request q = req_of("GET", url("https", tls_port, "/echo"));
    const struct fsx_http_response *r = NULL;
    struct fsx_error err;

    q.ca_file = cert_file;
    CHECK(perform(h, &q, &r, &err) == 0);
    CHECK(r != NULL && r->status == 200 && strncmp(body_of(r), "GET /echo\n", 10) == 0);
    CHECK(perform(h, &q, &r, &err) == 0 && r != NULL && r->new_connections == 0);

    /* back to the system bundle: the self-signed certificate is refused */
    q.ca_file = NULL;
    CHECK(perform(h, &q, &r, &err) == -1);
    CHECK(err.kind == FSX_ERR_TRANSPORT && strcmp(err.code, "CURLE_PEER_FAILED_VERIFICATION") == 0);

    q.insecure = 1;
    CHECK(perform(h, &q, &r, &err) == 0 && r != NULL && r->status == 200);
    q.insecure = 0; /* verification is back on */
    CHECK(perform(h, &q, &r, &err) == -1 && strcmp(err.code, "CURLE_PEER_FAILED_VERIFICATION") == 0);

    q.ca_file = "/nonexistent/ca.pem";
    CHECK(perform(h, &q, &r, &err) == -1 && strcmp(err.code, "CURLE_SSL_CACERT_BADFILE") == 0);
    q.ca_file = cert_file;
    CHECK(perform(h, &q, &r, &err) == 0 && r != NULL && r->status == 200);
}

static void test_handles(void)
{
    struct fsx_error err;
    struct fsx_http *a, *b;
    const struct fsx_http_response *r = NULL;
    struct fsx_http_request q = req_of("GET", url("http", port, "/echo"));

    fsx_error_clear(&err);
    CHECK(fsx_http_global_init(&err) == 0); /* again: no-op */
    a = fsx_http_new(&err);
    b = fsx_http_new(&err);
    CHECK(a != NULL && b != NULL);
    if (a != NULL && b != NULL) {
        /* each handle keeps its own connection and response */
        CHECK(perform(a, &q, &r, &err) == 0 && r != NULL && r->new_connections == 1);
        CHECK(perform(b, &q, &r, &err) == 0 && r != NULL && r->new_connections == 1);
        CHECK(perform(a, &q, &r, &err) == 0 && r != NULL && r->new_connections == 0);
    }
    fsx_http_free(a);
    fsx_http_free(b);
    fsx_http_free(NULL);
}

int main(void)
{
    struct fsx_error err;
    struct fsx_http *h;
    int with_tls;

    test_capture_basics();
    test_capture_status_lines();
    test_capture_odd_lines();
    test_capture_growth();
    test_capture_caps();

    strcpy(tmpdir, "/tmp/fsx-test-http-XXXXXX");
    if (mkdtemp(tmpdir) == NULL) {
        printf("mkdtemp failed\n");
        return 1;
    }
    snprintf(port_file, sizeof(port_file), "%s/port", tmpdir);
    snprintf(cert_file, sizeof(cert_file), "%s/cert.pem", tmpdir);
    snprintf(key_file, sizeof(key_file), "%s/key.pem", tmpdir);
    with_tls = make_cert() == 0;
    if (!with_tls)
        printf("# no openssl tool: TLS cases skipped\n");

    fsx_error_clear(&err);
    CHECK(fsx_http_global_init(&err) == 0);
    if (start_server(with_tls) != 0) {
        tu_ok(0, "server", "could not start spec/support/raw_http_server.py");
    } else {
        h = fsx_http_new(&err);
        CHECK(h != NULL);
        if (h != NULL) {
            test_basic_and_keepalive(h);
            test_unasked_answer(h);
            test_methods(h);
            test_request_headers(h);
            test_responses(h);
            test_caps(h);
            test_failures(h);
            if (with_tls && tls_port > 0)
                test_tls(h);
            fsx_http_free(h);
        }
        test_handles();
    }
    stop_server();
    curl_global_cleanup();
    return tu_report("http");
}
