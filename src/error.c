/*
 * error.c - the error record filled by the signing core and the transport.
 *
 * Pure C. Formatting never fails: code and message are truncated to their
 * fixed-size fields and always NUL-terminated. Callers are responsible for
 * never passing key material, tokens or Authorization values in the
 * message arguments.
 */
#include "error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void fsx_error_set(struct fsx_error *err, enum fsx_error_kind kind, const char *code,
                   const char *fmt, ...)
{
    va_list ap;
    size_t n;

    if (err == NULL)
        return;
    err->kind = kind;
    n = code != NULL ? strlen(code) : 0;
    if (n >= sizeof(err->code))
        n = sizeof(err->code) - 1;
    if (n > 0)
        memcpy(err->code, code, n);
    err->code[n] = '\0';
    err->message[0] = '\0';
    if (fmt != NULL) {
        va_start(ap, fmt);
        (void)vsnprintf(err->message, sizeof(err->message), fmt, ap);
        va_end(ap);
    }
}

void fsx_error_clear(struct fsx_error *err)
{
    if (err == NULL)
        return;
    err->kind = FSX_OK;
    err->code[0] = '\0';
    err->message[0] = '\0';
}

const char *fsx_error_kind_name(enum fsx_error_kind kind)
{
    switch (kind) {
    case FSX_OK:
        return "ok";
    case FSX_ERR_VALIDATION:
        return "validation";
    case FSX_ERR_MEMORY:
        return "memory";
    case FSX_ERR_TRANSPORT:
        return "transport";
    case FSX_ERR_TIMEOUT:
        return "timeout";
    case FSX_ERR_TOO_LARGE:
        return "too_large";
    case FSX_ERR_CRYPTO:
        return "crypto";
    }
    return "unknown";
}
