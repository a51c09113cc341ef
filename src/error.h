/*
 * error.h - the error record filled by the signing core and the transport.
 *
 * Pure C. The layers below the binding never raise and never print: on
 * failure a function returns a non-zero status and fills a caller-owned
 * struct fsx_error. The binding turns it into Lua values (nil, kind, code,
 * message); the Lua layer builds the structured error table. A message never
 * contains key material, a session token or an Authorization value.
 */
#ifndef FSX_ERROR_H
#define FSX_ERROR_H

enum fsx_error_kind {
    FSX_OK = 0,
    FSX_ERR_VALIDATION, /* bad input (e.g. CR/LF in a header value) */
    FSX_ERR_MEMORY,     /* allocation failed */
    FSX_ERR_TRANSPORT,  /* network/TLS/protocol failure */
    FSX_ERR_TIMEOUT,    /* connect or total timeout */
    FSX_ERR_TOO_LARGE,  /* response over the configured cap */
    FSX_ERR_CRYPTO      /* OpenSSL failure */
};

struct fsx_error {
    enum fsx_error_kind kind;
    char code[48];     /* e.g. "CURLE_COULDNT_CONNECT", "InvalidHeader" */
    char message[256]; /* human-readable, lowercase, no secrets */
};

/* Set all fields; message is printf-style and truncated to fit. */
void fsx_error_set(struct fsx_error *err, enum fsx_error_kind kind, const char *code,
                   const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;
/* Reset to FSX_OK with empty strings. */
void fsx_error_clear(struct fsx_error *err);
/* "validation", "memory", "transport", "timeout", "too_large", "crypto". */
const char *fsx_error_kind_name(enum fsx_error_kind kind);

#endif
