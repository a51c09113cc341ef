/*
 * sign_call.h - one call of core.sign, as plain C (binding layer, no Lua).
 *
 * The binding reads a Lua request table into a struct fsx_sign_call: one
 * typed value per field, in slot order, and the {name, value} header pairs.
 * The checks, the X-Amz-Date from `time`, the flags and the signing are done
 * here, once, for both ways in: core.sign (the Lua C API, fsx_core.c) and
 * LuaJIT's FFI (lua/fsx/sigv4_ffi.lua), which fills this very struct. So
 * both apply the same rules, in the same order, with the same messages.
 *
 * The layout is shared with LuaJIT (ffi.cdef in lua/fsx/sigv4_ffi.lua):
 * change both together. core.sign_ffi() reports sizeof and an offset so
 * the Lua side refuses a struct it does not match.
 */
#ifndef FSX_SIGN_CALL_H
#define FSX_SIGN_CALL_H

#include <stddef.h>

#include "error.h"
#include "sigv4.h"

/* A value's type, as the reader saw it. */
enum fsx_sign_type {
    FSX_SIGN_NIL = 0,
    FSX_SIGN_STRING = 1,
    FSX_SIGN_BOOLEAN = 2, /* num: 0 or 1 */
    FSX_SIGN_NUMBER = 3,  /* num */
    FSX_SIGN_OTHER = 4    /* a table, function, ...: never valid */
};

/* The request's fields, in the order they are checked. */
enum fsx_sign_slot {
    FSX_SIGN_METHOD,
    FSX_SIGN_PATH,
    FSX_SIGN_QUERY,
    FSX_SIGN_BODY,
    FSX_SIGN_PAYLOAD_HASH,
    FSX_SIGN_REGION,
    FSX_SIGN_SERVICE,
    FSX_SIGN_ACCESS_KEY_ID,
    FSX_SIGN_SECRET_ACCESS_KEY,
    FSX_SIGN_SESSION_TOKEN,
    FSX_SIGN_AMZ_DATE,
    FSX_SIGN_NORMALIZE_PATH,
    FSX_SIGN_SIGN_BODY,
    FSX_SIGN_OMIT_SESSION_TOKEN,
    FSX_SIGN_STAGES,
    FSX_SIGN_TIME,
    FSX_SIGN_SLOTS
};

/* The field names, indexed by slot ("method", ..., "time"). */
extern const char *const fsx_sign_slot_names[FSX_SIGN_SLOTS];

/* The signed strings a call exposes, indexed in out[] and out_len[]. */
enum fsx_sign_out {
    FSX_SIGN_OUT_AUTHORIZATION,
    FSX_SIGN_OUT_SIGNATURE,
    FSX_SIGN_OUT_CANONICAL_REQUEST,
    FSX_SIGN_OUT_STRING_TO_SIGN,
    FSX_SIGN_OUT_SIGNED_HEADERS,
    FSX_SIGN_OUT_PAYLOAD_HASH,
    FSX_SIGN_OUTS
};

struct fsx_sign_value {
    const char *s; /* FSX_SIGN_STRING: the bytes (may hold NUL: checked) */
    size_t len;
    double num; /* FSX_SIGN_BOOLEAN, FSX_SIGN_NUMBER */
    int type;   /* enum fsx_sign_type */
};

struct fsx_sign_call {
    /* in */
    struct fsx_sign_value v[FSX_SIGN_SLOTS];
    const struct fsx_sigv4_header *headers; /* fsx_sign_call_run only */
    size_t n_headers;
    /* out: the checks */
    int stages;        /* the result wants every stage (default 1) */
    const char *field; /* on a check failure: the field, and what it must be */
    const char *what;
    char date[17];        /* X-Amz-Date made from `time` */
    const char *amz_date; /* the X-Amz-Date signed: the request's or date */
    /* out: signing */
    struct fsx_error err;
    /* Views of the result (valid until it is signed into again): */
    const char *out[FSX_SIGN_OUTS];
    size_t out_len[FSX_SIGN_OUTS];
    struct fsx_sigv4_header added[3]; /* fsx_sigv4_result.added: they may point */
    size_t n_added;                   /* into the request's strings */
};

/*
 * Check the values in a fixed order (NUL bytes in the fields passed on as C
 * strings first, then each field's type in slot order, then `time`) and
 * fill req from them (all but headers, n_headers). Returns 0, or 1 with
 * c->field and c->what set ("must be a non-empty string", ...). `time`
 * absent and amz_date absent: the current time.
 */
int fsx_sign_call_check(struct fsx_sign_call *c, struct fsx_sigv4_request *req);

/*
 * Sign the checked request into res (re-used across calls) and set the
 * views. Returns 0, or -1 with c->err set.
 */
int fsx_sign_call_sign(struct fsx_sign_call *c, const struct fsx_sigv4_request *req,
                       struct fsx_sigv4_cache *cache, struct fsx_sigv4_result *res);

/* Check, take c->headers, then sign: 0, 1 (a check failed) or -1 (signing). */
int fsx_sign_call_run(struct fsx_sign_call *c, struct fsx_sigv4_cache *cache,
                      struct fsx_sigv4_result *res);

#endif
