/*
 * http.c - HTTP transport over one libcurl easy handle (transport layer).
 *
 * No Lua. One easy handle per struct fsx_http, reused for every perform so
 * that its connection cache keeps connections alive. The handle is never
 * curl_easy_reset(): options that never change are set once in
 * fsx_http_new(); the ones that vary (URL, headers, method, body, timeouts,
 * TLS) are set again before each transfer, so nothing leaks from one request
 * into the next.
 *
 * Request headers go to libcurl as a curl_slist built with curl_slist_append
 * for each transfer, then wiped (it holds the Authorization and session
 * token lines) and freed. Three empty entries ("Expect:", "Accept:",
 * "Content-Type:") follow the caller's lines; libcurl finds the caller's
 * header first when there is one, and otherwise the empty entry stops it
 * from adding its own.
 *
 * The handle watches the sockets libcurl opens (sockopt_cb, closesocket_cb)
 * and keeps one idle connection. Before each transfer it polls them: an idle
 * connection with bytes or an end waiting holds nothing this request asked
 * for, so the transfer takes a new connection and the old one is closed.
 *
 * The write and header callbacks only hand their bytes to
 * fsx_http_response_on_body / fsx_http_response_on_header, which capture the
 * final response into capped buffers and can be driven without a network.
 */
#include "http.h"

#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>

#include "crypto.h"
#include "interrupt.h"
#include "text.h"

/* values of fsx_http_response.too_large */
#define TOO_LARGE_BODY 1
#define TOO_LARGE_HEADERS 2

/* a reset keeps the body allocation for the next response up to this size */
#define KEEP_BODY_BYTES (1024u * 1024u)

/*
 * Room for the sockets one handle holds at once: the idle connection plus
 * the two a connect races (IPv4 and IPv6), with a spare.
 */
#define MAX_SOCKETS 4

/* empty entries appended to every header list (see the file comment) */
static const char *const extra_headers[] = {"Expect:", "Accept:", "Content-Type:"};

struct fsx_http {
    CURL *curl;
    struct fsx_http_response resp;
    struct curl_slist *list; /* the last request's header lines, wiped and freed after it */
    char *ca_file;           /* CAINFO set by the last request, NULL: default */
    char *default_ca;        /* libcurl's built-in CAINFO (may be NULL) */
    char *default_capath;    /* libcurl's built-in CAPATH (may be NULL) */
    curl_socket_t socks[MAX_SOCKETS]; /* libcurl's open sockets, CURL_SOCKET_BAD: free slot */
    char errbuf[CURL_ERROR_SIZE];
};

/* CURLcode names, as libcurl 7.88 defines them. */
static const char *const curl_code_names[] = {
    "CURLE_OK",
    "CURLE_UNSUPPORTED_PROTOCOL",
    "CURLE_FAILED_INIT",
    "CURLE_URL_MALFORMAT",
    "CURLE_NOT_BUILT_IN",
    "CURLE_COULDNT_RESOLVE_PROXY",
    "CURLE_COULDNT_RESOLVE_HOST",
    "CURLE_COULDNT_CONNECT",
    "CURLE_WEIRD_SERVER_REPLY",
    "CURLE_REMOTE_ACCESS_DENIED",
    "CURLE_FTP_ACCEPT_FAILED", /* 10 */
    "CURLE_FTP_WEIRD_PASS_REPLY",
    "CURLE_FTP_ACCEPT_TIMEOUT",
    "CURLE_FTP_WEIRD_PASV_REPLY",
    "CURLE_FTP_WEIRD_227_FORMAT",
    "CURLE_FTP_CANT_GET_HOST",
    "CURLE_HTTP2",
    "CURLE_FTP_COULDNT_SET_TYPE",
    "CURLE_PARTIAL_FILE",
    "CURLE_FTP_COULDNT_RETR_FILE",
    "CURLE_OBSOLETE20", /* 20 */
    "CURLE_QUOTE_ERROR",
    "CURLE_HTTP_RETURNED_ERROR",
    "CURLE_WRITE_ERROR",
    "CURLE_OBSOLETE24",
    "CURLE_UPLOAD_FAILED",
    "CURLE_READ_ERROR",
    "CURLE_OUT_OF_MEMORY",
    "CURLE_OPERATION_TIMEDOUT",
    "CURLE_OBSOLETE29",
    "CURLE_FTP_PORT_FAILED", /* 30 */
    "CURLE_FTP_COULDNT_USE_REST",
    "CURLE_OBSOLETE32",
    "CURLE_RANGE_ERROR",
    "CURLE_HTTP_POST_ERROR",
    "CURLE_SSL_CONNECT_ERROR",
    "CURLE_BAD_DOWNLOAD_RESUME",
    "CURLE_FILE_COULDNT_READ_FILE",
    "CURLE_LDAP_CANNOT_BIND",
    "CURLE_LDAP_SEARCH_FAILED",
    "CURLE_OBSOLETE40", /* 40 */
    "CURLE_FUNCTION_NOT_FOUND",
    "CURLE_ABORTED_BY_CALLBACK",
    "CURLE_BAD_FUNCTION_ARGUMENT",
    "CURLE_OBSOLETE44",
    "CURLE_INTERFACE_FAILED",
    "CURLE_OBSOLETE46",
    "CURLE_TOO_MANY_REDIRECTS",
    "CURLE_UNKNOWN_OPTION",
    "CURLE_SETOPT_OPTION_SYNTAX",
    "CURLE_OBSOLETE50", /* 50 */
    "CURLE_OBSOLETE51",
    "CURLE_GOT_NOTHING",
    "CURLE_SSL_ENGINE_NOTFOUND",
    "CURLE_SSL_ENGINE_SETFAILED",
    "CURLE_SEND_ERROR",
    "CURLE_RECV_ERROR",
    "CURLE_OBSOLETE57",
    "CURLE_SSL_CERTPROBLEM",
    "CURLE_SSL_CIPHER",
    "CURLE_PEER_FAILED_VERIFICATION", /* 60 */
    "CURLE_BAD_CONTENT_ENCODING",
    "CURLE_OBSOLETE62",
    "CURLE_FILESIZE_EXCEEDED",
    "CURLE_USE_SSL_FAILED",
    "CURLE_SEND_FAIL_REWIND",
    "CURLE_SSL_ENGINE_INITFAILED",
    "CURLE_LOGIN_DENIED",
    "CURLE_TFTP_NOTFOUND",
    "CURLE_TFTP_PERM",
    "CURLE_REMOTE_DISK_FULL", /* 70 */
    "CURLE_TFTP_ILLEGAL",
    "CURLE_TFTP_UNKNOWNID",
    "CURLE_REMOTE_FILE_EXISTS",
    "CURLE_TFTP_NOSUCHUSER",
    "CURLE_OBSOLETE75",
    "CURLE_OBSOLETE76",
    "CURLE_SSL_CACERT_BADFILE",
    "CURLE_REMOTE_FILE_NOT_FOUND",
    "CURLE_SSH",
    "CURLE_SSL_SHUTDOWN_FAILED", /* 80 */
    "CURLE_AGAIN",
    "CURLE_SSL_CRL_BADFILE",
    "CURLE_SSL_ISSUER_ERROR",
    "CURLE_FTP_PRET_FAILED",
    "CURLE_RTSP_CSEQ_ERROR",
    "CURLE_RTSP_SESSION_ERROR",
    "CURLE_FTP_BAD_FILE_LIST",
    "CURLE_CHUNK_FAILED",
    "CURLE_NO_CONNECTION_AVAILABLE",
    "CURLE_SSL_PINNEDPUBKEYNOTMATCH", /* 90 */
    "CURLE_SSL_INVALIDCERTSTATUS",
    "CURLE_HTTP2_STREAM",
    "CURLE_RECURSIVE_API_CALL",
    "CURLE_AUTH_ERROR",
    "CURLE_HTTP3",
    "CURLE_QUIC_CONNECT_ERROR",
    "CURLE_PROXY",
    "CURLE_SSL_CLIENTCERT",
    "CURLE_UNRECOVERABLE_POLL", /* 99 */
};

/* ------------------------------------------------------------------------ */
/* response capture                                                         */

/* Fill the response with no data, the given limits (0: the default). */
void fsx_http_response_init(struct fsx_http_response *r, size_t max_body, size_t max_header_bytes)
{
    memset(r, 0, sizeof(*r));
    /* a response may carry credentials (STS, SSO, container, IMDS) */
    fsx_buf_init_secret(&r->body);
    fsx_buf_init_secret(&r->header_data);
    r->headers = NULL;
    r->max_body = max_body ? max_body : FSX_HTTP_DEFAULT_MAX_BODY;
    r->max_header_bytes = max_header_bytes ? max_header_bytes : FSX_HTTP_DEFAULT_MAX_HEADER_BYTES;
}

/* Forget the last response, keeping the limits and (bounded) allocations. */
void fsx_http_response_reset(struct fsx_http_response *r)
{
    r->status = 0;
    if (r->body.cap > KEEP_BODY_BYTES)
        fsx_buf_free(&r->body);
    else
        fsx_buf_reset(&r->body);
    fsx_buf_reset(&r->header_data);
    r->n_headers = 0;
    r->new_connections = 0;
    r->too_large = 0;
    r->headers_done = 0;
}

const struct fsx_http_response *fsx_http_response_of(const struct fsx_http *h)
{
    return &h->resp;
}

/* Release everything; the body and headers are wiped (they may hold credentials). */
void fsx_http_response_free(struct fsx_http_response *r)
{
    fsx_buf_free_secure(&r->body);
    fsx_buf_free_secure(&r->header_data);
    free(r->headers);
    r->headers = NULL;
    r->n_headers = 0;
    r->headers_cap = 0;
    r->status = 0;
    r->too_large = 0;
}

const char *fsx_http_header_name(const struct fsx_http_response *r, size_t i)
{
    return r->header_data.data + r->headers[i].name_off;
}

const char *fsx_http_header_value(const struct fsx_http_response *r, size_t i)
{
    return r->header_data.data + r->headers[i].value_off;
}

/* Bytes still allowed under a cap (0 when already at or past it). */
static size_t room(size_t cap, size_t used)
{
    return used < cap ? cap - used : 0;
}

/* Parse "HTTP/x.y NNN reason": the status code, or 0 when malformed. */
static long parse_status(const char *line, size_t len)
{
    size_t i = 5;
    while (i < len && line[i] != ' ')
        i++;
    while (i < len && line[i] == ' ')
        i++;
    if (len - i < 3 || line[i] < '1' || line[i] > '9' || line[i + 1] < '0' || line[i + 1] > '9' ||
        line[i + 2] < '0' || line[i + 2] > '9' || (len - i > 3 && line[i + 3] != ' '))
        return 0;
    return (line[i] - '0') * 100L + (line[i + 1] - '0') * 10L + (line[i + 2] - '0');
}

/* Append an obs-fold continuation (already trimmed) to the last header's value. */
static int fold_header(struct fsx_http_response *r, const char *s, size_t n)
{
    struct fsx_http_header *last;
    size_t add;

    if (r->n_headers == 0 || n == 0)
        return 0;
    last = &r->headers[r->n_headers - 1];
    add = n + (last->value_len > 0 ? 1 : 0);
    if (add > room(r->max_header_bytes, r->header_data.len)) {
        r->too_large = TOO_LARGE_HEADERS;
        return -1;
    }
    /* room first: the appends below then cannot fail halfway */
    if (fsx_buf_reserve(&r->header_data, add) != 0)
        return -1;
    /* the value is the last thing stored: drop its NUL and extend it */
    r->header_data.len--;
    if (last->value_len > 0)
        (void)fsx_buf_append_char(&r->header_data, ' ');
    (void)fsx_buf_append(&r->header_data, s, n);
    (void)fsx_buf_append_char(&r->header_data, '\0');
    last->value_len += add;
    return 0;
}

/* Give headers[] room for one more entry. */
static int grow_headers(struct fsx_http_response *r)
{
    struct fsx_http_header *p;
    size_t cap;

    if (r->n_headers < r->headers_cap)
        return 0;
    cap = r->headers_cap ? r->headers_cap * 2 : 16;
    if (cap > SIZE_MAX / sizeof(*p))
        return -1;
    p = (struct fsx_http_header *)realloc(r->headers, cap * sizeof(*p));
    if (p == NULL)
        return -1;
    r->headers = p;
    r->headers_cap = cap;
    return 0;
}

/*
 * One header line as libcurl delivers it. A status line starts a new block;
 * the blank line ends it (headers_done); lines without a name are skipped;
 * a line starting with a
 * space or tab continues the previous value. The cap bounds both any single
 * line and the bytes kept for the block (names and values, NUL-terminated).
 */
int fsx_http_response_on_header(struct fsx_http_response *r, const char *line, size_t len)
{
    const char *colon;
    size_t end = len, name_len, vs, need;
    struct fsx_http_header *h;

    if (len > r->max_header_bytes) {
        r->too_large = TOO_LARGE_HEADERS;
        return -1;
    }
    while (end > 0 && (line[end - 1] == '\n' || line[end - 1] == '\r'))
        end--;
    if (end >= 5 && memcmp(line, "HTTP/", 5) == 0) {
        r->status = parse_status(line, end);
        r->headers_done = 0;
        r->n_headers = 0;
        fsx_buf_reset(&r->header_data);
        return 0;
    }
    if (end == 0) {
        r->headers_done = 1;
        return 0;
    }
    if (line[0] == ' ' || line[0] == '\t') {
        vs = 1;
        while (vs < end && (line[vs] == ' ' || line[vs] == '\t'))
            vs++;
        while (end > vs && (line[end - 1] == ' ' || line[end - 1] == '\t'))
            end--;
        return fold_header(r, line + vs, end - vs);
    }
    colon = (const char *)memchr(line, ':', end);
    if (colon == NULL || colon == line)
        return 0;
    name_len = (size_t)(colon - line);
    vs = name_len + 1;
    while (vs < end && (line[vs] == ' ' || line[vs] == '\t'))
        vs++;
    while (end > vs && (line[end - 1] == ' ' || line[end - 1] == '\t'))
        end--;

    need = name_len + (end - vs) + 2;
    if (need > room(r->max_header_bytes, r->header_data.len)) {
        r->too_large = TOO_LARGE_HEADERS;
        return -1;
    }
    /* room first: the appends below then cannot fail halfway */
    if (grow_headers(r) != 0 || fsx_buf_reserve(&r->header_data, need) != 0)
        return -1;
    h = &r->headers[r->n_headers];
    h->name_off = r->header_data.len;
    h->name_len = name_len;
    h->value_off = h->name_off + name_len + 1;
    h->value_len = end - vs;
    (void)fsx_buf_append(&r->header_data, line, name_len);
    (void)fsx_buf_append_char(&r->header_data, '\0');
    (void)fsx_buf_append(&r->header_data, line + vs, end - vs);
    (void)fsx_buf_append_char(&r->header_data, '\0');
    r->n_headers++;
    return 0;
}

/* One body chunk: appended unless the body would pass max_body. */
int fsx_http_response_on_body(struct fsx_http_response *r, const char *data, size_t len)
{
    if (len > room(r->max_body, r->body.len)) {
        r->too_large = TOO_LARGE_BODY;
        return -1;
    }
    if (len == 0)
        return 0;
    return fsx_buf_append(&r->body, data, len) == 0 ? 0 : -1;
}

/* libcurl write callback: a non-full count makes the transfer fail. */
static size_t write_cb(char *data, size_t size, size_t nmemb, void *ud)
{
    size_t n = size * nmemb;
    return fsx_http_response_on_body((struct fsx_http_response *)ud, data, n) == 0 ? n : 0;
}

/* libcurl header callback: one complete line per call. */
static size_t header_cb(char *data, size_t size, size_t nmemb, void *ud)
{
    size_t n = size * nmemb;
    return fsx_http_response_on_header((struct fsx_http_response *)ud, data, n) == 0 ? n : 0;
}

/*
 * libcurl progress callback: libcurl calls it at least once a second, also
 * while a server sends nothing, so a recorded signal (interrupt.h) stops the
 * transfer within about a second.
 */
static int progress_cb(void *ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
    (void)ud;
    (void)dltotal;
    (void)dlnow;
    (void)ultotal;
    (void)ulnow;
    return fsx_interrupt_signal() != 0;
}

/*
 * libcurl socket option callback, called for every socket libcurl opens: the
 * handle keeps each one until closesocket_cb so that a perform can look at
 * an idle connection before reusing it. A socket finding no free slot fails
 * its connect rather than go unwatched.
 */
static int sockopt_cb(void *ud, curl_socket_t fd, curlsocktype purpose)
{
    struct fsx_http *h = (struct fsx_http *)ud;
    size_t i;

    (void)purpose;
    for (i = 0; i < MAX_SOCKETS; i++) {
        if (h->socks[i] == CURL_SOCKET_BAD) {
            h->socks[i] = fd;
            return CURL_SOCKOPT_OK;
        }
    }
    return CURL_SOCKOPT_ERROR;
}

/* libcurl close callback: the socket leaves its slot, so its number is never polled again. */
static int closesocket_cb(void *ud, curl_socket_t fd)
{
    struct fsx_http *h = (struct fsx_http *)ud;
    size_t i;

    for (i = 0; i < MAX_SOCKETS; i++)
        if (h->socks[i] == fd)
            h->socks[i] = CURL_SOCKET_BAD;
    return close(fd);
}

/*
 * 1 when a socket libcurl holds between transfers has bytes, an end or an
 * error waiting, else 0. Nothing is owed on an idle connection: bytes there
 * are an answer nobody asked for, which libcurl 7.88 (it counts a readable
 * connection as alive) would take for the next request's answer. A failed
 * poll counts as waiting: a new connection is always safe.
 */
static int idle_socket_waiting(const struct fsx_http *h)
{
    struct pollfd p[MAX_SOCKETS];
    nfds_t n = 0;
    size_t i;

    for (i = 0; i < MAX_SOCKETS; i++) {
        if (h->socks[i] != CURL_SOCKET_BAD) {
            p[n].fd = h->socks[i];
            p[n].events = POLLIN;
            p[n].revents = 0;
            n++;
        }
    }
    return n > 0 && poll(p, n, 0) != 0;
}

/* ------------------------------------------------------------------------ */
/* errors                                                                   */

static void set_interrupted(struct fsx_error *err, int sig)
{
    fsx_error_set(err, FSX_ERR_TRANSPORT, "INTERRUPTED", "interrupted by signal %d", sig);
}

/* Fill err from a CURLcode and the error buffer (or libcurl's generic text). */
static void set_curl_error(struct fsx_error *err, CURLcode rc, const char *detail)
{
    char code[32];
    char msg[CURL_ERROR_SIZE];
    size_t n;
    const char *name;

    if ((size_t)rc < sizeof(curl_code_names) / sizeof(curl_code_names[0])) {
        name = curl_code_names[rc];
    } else {
        (void)snprintf(code, sizeof(code), "CURLE_%d", (int)rc);
        name = code;
    }
    if (detail == NULL || detail[0] == '\0')
        detail = curl_easy_strerror(rc);
    n = strlen(detail);
    if (n >= sizeof(msg))
        n = sizeof(msg) - 1;
    memcpy(msg, detail, n);
    while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
        n--;
    msg[n] = '\0';
    /* messages are lowercase: "Failed to connect" -> "failed to connect", "SSL" stays */
    if (msg[0] >= 'A' && msg[0] <= 'Z' && msg[1] >= 'a' && msg[1] <= 'z')
        msg[0] = (char)(msg[0] - 'A' + 'a');
    fsx_error_set(err, rc == CURLE_OPERATION_TIMEDOUT ? FSX_ERR_TIMEOUT : FSX_ERR_TRANSPORT, name,
                  "%s", msg);
}

/* ------------------------------------------------------------------------ */
/* handle                                                                   */

static void free_list(struct fsx_http *h);

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_rc = CURLE_FAILED_INIT;

static void global_init_once(void)
{
    global_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* curl_global_init once per process, whichever thread asks first. */
int fsx_http_global_init(struct fsx_error *err)
{
    (void)pthread_once(&global_once, global_init_once);
    if (global_rc != CURLE_OK) {
        set_curl_error(err, global_rc, NULL);
        return -1;
    }
    return 0;
}

/* A handle with the options that never change already set. */
struct fsx_http *fsx_http_new(struct fsx_error *err)
{
    struct fsx_http *h = (struct fsx_http *)calloc(1, sizeof(*h));
    char *ca = NULL, *capath = NULL;
    size_t i;

    if (h == NULL) {
        fsx_error_set(err, FSX_ERR_MEMORY, "OutOfMemory", "out of memory creating an http handle");
        return NULL;
    }
    fsx_http_response_init(&h->resp, 0, 0);
    for (i = 0; i < MAX_SOCKETS; i++)
        h->socks[i] = CURL_SOCKET_BAD;
    h->curl = curl_easy_init();
    if (h->curl == NULL) {
        fsx_error_set(err, FSX_ERR_TRANSPORT, "CURLE_FAILED_INIT", "curl_easy_init failed");
        free(h);
        return NULL;
    }
#if LIBCURL_VERSION_NUM >= 0x075400
    /* remembered so that a request without ca_file gets the defaults back */
    if ((curl_easy_getinfo(h->curl, CURLINFO_CAINFO, &ca) == CURLE_OK && ca != NULL &&
         (h->default_ca = strdup(ca)) == NULL) ||
        (curl_easy_getinfo(h->curl, CURLINFO_CAPATH, &capath) == CURLE_OK && capath != NULL &&
         (h->default_capath = strdup(capath)) == NULL)) {
        fsx_error_set(err, FSX_ERR_MEMORY, "OutOfMemory", "out of memory creating an http handle");
        fsx_http_free(h);
        return NULL;
    }
#else
    (void)ca;
    (void)capath;
#endif
    if (curl_easy_setopt(h->curl, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
        curl_easy_setopt(h->curl, CURLOPT_ERRORBUFFER, h->errbuf) != CURLE_OK ||
        curl_easy_setopt(h->curl, CURLOPT_WRITEFUNCTION, write_cb) != CURLE_OK ||
        curl_easy_setopt(h->curl, CURLOPT_WRITEDATA, (void *)&h->resp) != CURLE_OK ||
        curl_easy_setopt(h->curl, CURLOPT_HEADERFUNCTION, header_cb) != CURLE_OK ||
        curl_easy_setopt(h->curl, CURLOPT_HEADERDATA, (void *)&h->resp) != CURLE_OK ||
        curl_easy_setopt(h->curl, CURLOPT_XFERINFOFUNCTION, progress_cb) != CURLE_OK ||
        curl_easy_setopt(h->curl, CURLOPT_NOPROGRESS, 0L) != CURLE_OK ||
        curl_easy_setopt(h->curl, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1) != CURLE_OK ||
        curl_easy_setopt(h->curl, CURLOPT_SOCKOPTFUNCTION, sockopt_cb) != CURLE_OK ||
        curl_easy_setopt(h->curl, CURLOPT_SOCKOPTDATA, (void *)h) != CURLE_OK ||
        curl_easy_setopt(h->curl, CURLOPT_CLOSESOCKETFUNCTION, closesocket_cb) != CURLE_OK ||
        curl_easy_setopt(h->curl, CURLOPT_CLOSESOCKETDATA, (void *)h) != CURLE_OK ||
        /* one idle connection: a transfer on a new one closes the one it replaces */
        curl_easy_setopt(h->curl, CURLOPT_MAXCONNECTS, 1L) != CURLE_OK ||
#if LIBCURL_VERSION_NUM >= 0x075500
        curl_easy_setopt(h->curl, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK
#else
        curl_easy_setopt(h->curl, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS)) !=
            CURLE_OK
#endif
    ) {
        fsx_error_set(err, FSX_ERR_TRANSPORT, "CURLE_FAILED_INIT",
                      "setting up the curl handle failed");
        fsx_http_free(h);
        return NULL;
    }
    return h;
}

/* Everything goes; the response memory is wiped first. */
void fsx_http_free(struct fsx_http *h)
{
    if (h == NULL)
        return;
    if (h->curl != NULL)
        curl_easy_cleanup(h->curl);
    fsx_http_response_free(&h->resp);
    free_list(h);
    free(h->ca_file);
    free(h->default_ca);
    free(h->default_capath);
    free(h);
}

/* Method is a token other than HEAD (which libcurl would wait on for a body). */
static int check_method(const char *m, struct fsx_error *err)
{
    size_t len = strlen(m);
    if (len > 32 || !fsx_is_token(m, len)) {
        fsx_error_set(err, FSX_ERR_VALIDATION, "InvalidMethod", "http method is not a valid token");
        return -1;
    }
    if (strcmp(m, "HEAD") == 0) {
        fsx_error_set(err, FSX_ERR_VALIDATION, "InvalidMethod",
                      "http method HEAD is not supported");
        return -1;
    }
    return 0;
}

int fsx_http_check_header(const char *name, size_t name_len, const char *value, size_t value_len)
{
    return fsx_is_token(name, name_len) && fsx_is_field_value(value, value_len) ? 0 : -1;
}

/* Wipe (it may hold credentials) and free the last request's header list. */
static void free_list(struct fsx_http *h)
{
    struct curl_slist *n;
    for (n = h->list; n != NULL; n = n->next)
        fsx_wipe(n->data, strlen(n->data));
    curl_slist_free_all(h->list);
    h->list = NULL;
}

/* Append one line to h->list; 0, or -1 when memory ran out. */
static int append_line(struct fsx_http *h, const char *line)
{
    struct curl_slist *l = curl_slist_append(h->list, line);
    if (l == NULL)
        return -1;
    h->list = l;
    return 0;
}

/*
 * Build h->list from the request's "Name: value" lines, each checked with
 * fsx_http_check_header. A line with an empty value goes as "Name;"
 * (libcurl drops "Name:" lines). No error names a value.
 */
static int build_headers(struct fsx_http *h, const struct fsx_http_request *req,
                         struct fsx_error *err)
{
    size_t i, nl;
    const char *line, *colon, *v;

    free_list(h);
    for (i = 0; i < req->n_headers; i++) {
        line = req->headers[i];
        colon = line ? strchr(line, ':') : NULL;
        if (colon == NULL) {
            fsx_error_set(err, FSX_ERR_VALIDATION, "InvalidHeader",
                          "request header %zu is malformed", i + 1);
            return -1;
        }
        nl = (size_t)(colon - line);
        for (v = colon + 1; *v == ' ' || *v == '\t'; v++)
            ;
        if (fsx_http_check_header(line, nl, v, strlen(v)) != 0) {
            fsx_error_set(err, FSX_ERR_VALIDATION, "InvalidHeader",
                          "request header %zu is malformed", i + 1);
            return -1;
        }
        if (*v == '\0') {
            /* "Name;" */
            char *semi = (char *)malloc(nl + 2);
            int rc;
            if (semi == NULL)
                goto oom;
            memcpy(semi, line, nl);
            semi[nl] = ';';
            semi[nl + 1] = '\0';
            rc = append_line(h, semi);
            free(semi);
            if (rc != 0)
                goto oom;
        } else if (append_line(h, line) != 0) {
            goto oom;
        }
    }
    for (i = 0; i < sizeof(extra_headers) / sizeof(extra_headers[0]); i++)
        if (append_line(h, extra_headers[i]) != 0)
            goto oom;
    return 0;
oom:
    free_list(h);
    fsx_error_set(err, FSX_ERR_MEMORY, "OutOfMemory", "out of memory building request headers");
    return -1;
}

/*
 * The trust roots: the request's ca_file alone (CAINFO set, CAPATH cleared,
 * as botocore's `verify` does), or libcurl's defaults. Set only when they
 * change.
 */
static CURLcode set_ca(struct fsx_http *h, const char *ca_file)
{
    CURLcode rc;
    char *copy = NULL;

    if (ca_file == NULL ? h->ca_file == NULL
                        : (h->ca_file != NULL && strcmp(ca_file, h->ca_file) == 0))
        return CURLE_OK;
    if (ca_file != NULL && (copy = strdup(ca_file)) == NULL)
        return CURLE_OUT_OF_MEMORY;
    rc = curl_easy_setopt(h->curl, CURLOPT_CAINFO, ca_file != NULL ? ca_file : h->default_ca);
    if (rc == CURLE_OK)
        rc = curl_easy_setopt(h->curl, CURLOPT_CAPATH, ca_file != NULL ? NULL : h->default_capath);
    if (rc != CURLE_OK) {
        free(copy);
        return rc;
    }
    free(h->ca_file);
    h->ca_file = copy;
    return CURLE_OK;
}

/* The options that vary per request. */
static CURLcode set_request(struct fsx_http *h, const struct fsx_http_request *req)
{
    CURL *c = h->curl;
    const char *m = req->method;
    CURLcode rc;
    long ct = req->connect_timeout_ms > 0 ? req->connect_timeout_ms : 0;
    long tt = req->timeout_ms > 0 ? req->timeout_ms : 0;
    curl_off_t maxfile = h->resp.max_body <= (size_t)INT64_MAX ? (curl_off_t)h->resp.max_body : 0;

    if ((rc = curl_easy_setopt(c, CURLOPT_URL, req->url)) != CURLE_OK ||
        (rc = curl_easy_setopt(c, CURLOPT_HTTPHEADER, h->list)) != CURLE_OK)
        return rc;
    if (req->body_len > 0 || strcmp(m, "POST") == 0 || strcmp(m, "PUT") == 0 ||
        strcmp(m, "PATCH") == 0) {
        /* size first: setting it can drop a previous POSTFIELDS pointer */
        if ((rc = curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len)) !=
                CURLE_OK ||
            (rc = curl_easy_setopt(c, CURLOPT_POSTFIELDS, req->body_len > 0 ? req->body : "")) !=
                CURLE_OK ||
            (rc = curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, strcmp(m, "POST") == 0 ? NULL : m)) !=
                CURLE_OK)
            return rc;
    } else {
        if ((rc = curl_easy_setopt(c, CURLOPT_HTTPGET, 1L)) != CURLE_OK ||
            (rc = curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, strcmp(m, "GET") == 0 ? NULL : m)) !=
                CURLE_OK)
            return rc;
    }
    if ((rc = curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, ct)) != CURLE_OK ||
        (rc = curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, tt)) != CURLE_OK ||
        (rc = curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, maxfile)) != CURLE_OK ||
        (rc = curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, req->insecure ? 0L : 1L)) != CURLE_OK ||
        (rc = curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, req->insecure ? 0L : 2L)) != CURLE_OK ||
        /* "" turns proxies off; NULL brings back the environment's */
        (rc = curl_easy_setopt(c, CURLOPT_PROXY, req->no_proxy ? "" : NULL)) != CURLE_OK ||
        /* an idle connection with anything waiting is never reused */
        (rc = curl_easy_setopt(c, CURLOPT_FRESH_CONNECT, idle_socket_waiting(h) ? 1L : 0L)) !=
            CURLE_OK)
        return rc;
    return set_ca(h, req->ca_file);
}

/* One request on the reused handle; see http.h. */
int fsx_http_perform(struct fsx_http *h, const struct fsx_http_request *req,
                     const struct fsx_http_response **resp, struct fsx_error *err)
{
    struct fsx_http_response *r = &h->resp;
    CURLcode rc;
    int sig;

    *resp = NULL;
    if (req->url == NULL || req->method == NULL || (req->body == NULL && req->body_len > 0)) {
        fsx_error_set(err, FSX_ERR_VALIDATION, "InvalidRequest",
                      "http request lacks a url, method or body");
        return -1;
    }
    if ((sig = fsx_interrupt_signal()) != 0) {
        set_interrupted(err, sig);
        return -1;
    }
    if (check_method(req->method, err) != 0 || build_headers(h, req, err) != 0)
        return -1;
    fsx_http_response_reset(r);
    r->max_body = req->max_body ? req->max_body : FSX_HTTP_DEFAULT_MAX_BODY;
    r->max_header_bytes =
        req->max_header_bytes ? req->max_header_bytes : FSX_HTTP_DEFAULT_MAX_HEADER_BYTES;
    rc = set_request(h, req);
    if (rc == CURLE_OK) {
        h->errbuf[0] = '\0';
        rc = curl_easy_perform(h->curl);
    } else {
        h->errbuf[0] = '\0';
    }
    /* the lines held the Authorization header and the session token */
    (void)curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER, (struct curl_slist *)NULL);
    free_list(h);
    if (rc == CURLE_OK && !r->headers_done) {
        /* libcurl takes a close inside the header block for the response's end */
        fsx_error_set(err, FSX_ERR_TRANSPORT, "IncompleteResponse",
                      "the connection closed inside the response's header block");
        return -1;
    }
    if (rc == CURLE_OK) {
        if (curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &r->status) != CURLE_OK ||
            curl_easy_getinfo(h->curl, CURLINFO_NUM_CONNECTS, &r->new_connections) != CURLE_OK) {
            fsx_error_set(err, FSX_ERR_TRANSPORT, "CURLE_BAD_FUNCTION_ARGUMENT",
                          "reading transfer info failed");
            return -1;
        }
        *resp = r;
        return 0;
    }
    if (rc == CURLE_ABORTED_BY_CALLBACK && (sig = fsx_interrupt_signal()) != 0)
        set_interrupted(err, sig);
    else if (r->too_large == TOO_LARGE_BODY || rc == CURLE_FILESIZE_EXCEEDED)
        fsx_error_set(err, FSX_ERR_TOO_LARGE, "ResponseTooLarge", "response body exceeds %zu bytes",
                      r->max_body);
    else if (r->too_large == TOO_LARGE_HEADERS)
        fsx_error_set(err, FSX_ERR_TOO_LARGE, "HeadersTooLarge",
                      "response headers exceed %zu bytes", r->max_header_bytes);
    else if (rc == CURLE_OUT_OF_MEMORY && !r->headers_done)
        /* libcurl refuses a header line longer than CURL_MAX_HTTP_HEADER with
         * this code, before our header callback sees any of it */
        fsx_error_set(err, FSX_ERR_TOO_LARGE, "HeadersTooLarge",
                      "a response header line exceeds %d bytes", CURL_MAX_HTTP_HEADER);
    else if (rc == CURLE_WRITE_ERROR)
        fsx_error_set(err, FSX_ERR_MEMORY, "OutOfMemory", "out of memory receiving the response");
    else
        set_curl_error(err, rc, h->errbuf);
    return -1;
}
