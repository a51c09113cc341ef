/*
 * http.h - HTTP transport over one libcurl easy handle (transport layer).
 *
 * No Lua. One struct fsx_http per client: the easy handle is reused so that
 * connections stay alive between calls. Status, headers and body are captured
 * into C buffers with size caps. Failures fill a struct fsx_error with kind
 * FSX_ERR_TRANSPORT / FSX_ERR_TIMEOUT / FSX_ERR_TOO_LARGE, code = curl's
 * code name ("CURLE_COULDNT_CONNECT") and message = CURLOPT_ERRORBUFFER text.
 * A non-2xx status is not a failure: it is returned as a normal response.
 * A response is complete only when its header block ended with the blank
 * line and its body matched its framing (Content-Length, the last chunk, or
 * the close of a response framed by it); a connection closed before that is
 * a transport failure (code "IncompleteResponse" for a cut header block,
 * libcurl's CURLE_PARTIAL_FILE for a cut body).
 * While a termination signal is recorded (interrupt.h) a transfer stops
 * within about a second, and none starts: kind FSX_ERR_TRANSPORT, code
 * "INTERRUPTED" (the Lua retry layer never retries it).
 * Proxies come from the usual environment variables (libcurl's defaults),
 * except for a request with no_proxy set.
 */
#ifndef FSX_HTTP_H
#define FSX_HTTP_H

#include <stddef.h>

#include "buf.h"
#include "error.h"

#define FSX_HTTP_DEFAULT_MAX_BODY (8u * 1024u * 1024u)
#define FSX_HTTP_DEFAULT_MAX_HEADER_BYTES (64u * 1024u)

struct fsx_http_request {
    const char *method;         /* "POST", "GET", "PUT" ... */
    const char *url;            /* absolute http:// or https:// URL */
    const char *const *headers; /* "Name: value" lines (fsx_http_check_header) */
    size_t n_headers;
    const char *body; /* may be NULL when body_len is 0 */
    size_t body_len;
    long connect_timeout_ms; /* 0: libcurl default */
    long timeout_ms;         /* whole transfer; 0: none */
    const char *ca_file;     /* NULL: system default bundle */
    int insecure;            /* 1: skip TLS peer/host verification */
    int no_proxy;            /* 1: connect directly, whatever the proxy variables say */
    size_t max_body;         /* 0: FSX_HTTP_DEFAULT_MAX_BODY */
    size_t max_header_bytes; /* 0: FSX_HTTP_DEFAULT_MAX_HEADER_BYTES */
};

/* Where a header's name (as received) and value (trimmed) sit in header_data. */
struct fsx_http_header {
    size_t name_off;
    size_t name_len;
    size_t value_off;
    size_t value_len;
};

/*
 * Owned by the handle; valid until the next perform on it or its free. Only
 * the final response's headers are kept (1xx and redirect blocks dropped).
 */
struct fsx_http_response {
    long status;
    struct fsx_buf body;
    struct fsx_buf header_data; /* storage behind headers[] */
    struct fsx_http_header *headers;
    size_t n_headers;
    size_t headers_cap;
    long new_connections; /* CURLINFO_NUM_CONNECTS of this transfer */
    size_t max_body;      /* limits in force for the callbacks */
    size_t max_header_bytes;
    int too_large;    /* set by the callbacks when a cap was hit */
    int headers_done; /* the last header block ended with its blank line */
};

struct fsx_http;

/* Call once per process before any other function (safe to call again). */
int fsx_http_global_init(struct fsx_error *err);
/* NULL and err filled on failure. */
struct fsx_http *fsx_http_new(struct fsx_error *err);
/* Frees the handle and its buffers; NULL is fine. */
void fsx_http_free(struct fsx_http *h);
/*
 * Perform one request. On success returns 0 and points *resp at the handle's
 * response; on failure returns -1 and fills err.
 */
int fsx_http_perform(struct fsx_http *h, const struct fsx_http_request *req,
                     const struct fsx_http_response **resp, struct fsx_error *err);

/* The handle's last response (valid until the next perform on it or its free). */
const struct fsx_http_response *fsx_http_response_of(const struct fsx_http *h);

/*
 * 0 when name[0..name_len) is a token and value[0..value_len) may be sent as
 * a header value (text.h's rules, the signer's too), else -1.
 */
int fsx_http_check_header(const char *name, size_t name_len, const char *value, size_t value_len);

/* Header i's name and value, NUL-terminated, in r's storage (valid until r changes). */
const char *fsx_http_header_name(const struct fsx_http_response *r, size_t i);
const char *fsx_http_header_value(const struct fsx_http_response *r, size_t i);

/*
 * The callback logic, exposed so it can be fuzzed without a network. A
 * response set up with fsx_http_response_init accepts header lines (one per
 * call, CR/LF included, as libcurl delivers them; a status line starts a new
 * header block) and body chunks. Each returns 0, or -1 when a cap is hit or
 * memory runs out (too_large tells which).
 */
void fsx_http_response_init(struct fsx_http_response *r, size_t max_body, size_t max_header_bytes);
void fsx_http_response_reset(struct fsx_http_response *r);
void fsx_http_response_free(struct fsx_http_response *r);
int fsx_http_response_on_header(struct fsx_http_response *r, const char *line, size_t len);
int fsx_http_response_on_body(struct fsx_http_response *r, const char *data, size_t len);

#endif
