/*
 * sign_call.c - one call of core.sign, as plain C: the checks, X-Amz-Date
 * and the signing that core.sign and LuaJIT's FFI share (sign_call.h).
 */
#include "sign_call.h"

#include <string.h>
#include <time.h>

#include "text.h"

const char *const fsx_sign_slot_names[FSX_SIGN_SLOTS] = {
    "method",
    "path",
    "query",
    "body",
    "payload_hash",
    "region",
    "service",
    "access_key_id",
    "secret_access_key",
    "session_token",
    "amz_date",
    "normalize_path",
    "sign_body",
    "omit_session_token",
    "stages",
    "time",
};

/* Fields handed on as C strings: a NUL would cut them short (first one reported). */
static const unsigned char cstring_slots[] = {
    FSX_SIGN_METHOD,
    FSX_SIGN_REGION,
    FSX_SIGN_SERVICE,
    FSX_SIGN_ACCESS_KEY_ID,
    FSX_SIGN_SECRET_ACCESS_KEY,
    FSX_SIGN_SESSION_TOKEN,
    FSX_SIGN_AMZ_DATE,
    FSX_SIGN_PAYLOAD_HASH,
};

/* What each field must be. */
enum rule { R_REQUIRED, R_STRING, R_BOOL, R_TIME };

static const unsigned char rules[FSX_SIGN_SLOTS] = {
    R_REQUIRED, /* method */
    R_REQUIRED, /* path */
    R_STRING,   /* query */
    R_STRING,   /* body */
    R_STRING,   /* payload_hash */
    R_REQUIRED, /* region */
    R_REQUIRED, /* service */
    R_REQUIRED, /* access_key_id */
    R_REQUIRED, /* secret_access_key */
    R_STRING,   /* session_token */
    R_STRING,   /* amz_date */
    R_BOOL,     /* normalize_path */
    R_BOOL,     /* sign_body */
    R_BOOL,     /* omit_session_token */
    R_BOOL,     /* stages */
    R_TIME,     /* time */
};

#define TIME_FORMS "must be epoch seconds or \"YYYYMMDDTHHMMSSZ\""

static int fail(struct fsx_sign_call *c, int slot, const char *what)
{
    c->field = fsx_sign_slot_names[slot];
    c->what = what;
    return 1;
}

/* The X-Amz-Date when amz_date is absent: `time` (a date string, epoch seconds, or now). */
static int date_from_time(struct fsx_sign_call *c)
{
    const struct fsx_sign_value *t = &c->v[FSX_SIGN_TIME];
    double secs;
    time_t tt;
    struct tm tm;

    if (t->type == FSX_SIGN_STRING) {
        if (!fsx_is_amz_date(t->s, t->len))
            return fail(c, FSX_SIGN_TIME, TIME_FORMS);
        c->amz_date = t->s;
        return 0;
    }
    secs = t->type == FSX_SIGN_NUMBER ? t->num : (double)time(NULL);
    if (!(secs >= 0 && secs < 253402300800.0)) /* NaN fails too */
        return fail(c, FSX_SIGN_TIME, "must be epoch seconds in range");
    tt = (time_t)secs; /* secs >= 0: truncation is floor */
    if (gmtime_r(&tt, &tm) == NULL ||
        strftime(c->date, sizeof(c->date), "%Y%m%dT%H%M%SZ", &tm) != 16)
        return fail(c, FSX_SIGN_TIME, "must be epoch seconds in range");
    c->amz_date = c->date;
    return 0;
}

static int check_types(struct fsx_sign_call *c)
{
    int k;
    for (k = 0; k < FSX_SIGN_SLOTS; k++) {
        const struct fsx_sign_value *v = &c->v[k];
        int t = v->type;
        switch (rules[k]) {
        case R_REQUIRED:
            if (t != FSX_SIGN_STRING || v->len == 0)
                return fail(c, k, "must be a non-empty string");
            break;
        case R_STRING:
            if (t != FSX_SIGN_STRING && t != FSX_SIGN_NIL)
                return fail(c, k, "must be a string");
            break;
        case R_BOOL:
            if (t != FSX_SIGN_BOOLEAN && t != FSX_SIGN_NIL)
                return fail(c, k, "must be a boolean");
            break;
        default: /* R_TIME */
            if (t != FSX_SIGN_NUMBER && t != FSX_SIGN_STRING && t != FSX_SIGN_NIL)
                return fail(c, k, TIME_FORMS);
            break;
        }
    }
    return 0;
}

/* An optional string field: its bytes, or NULL when absent. */
static const char *opt_string(const struct fsx_sign_value *v, size_t *len)
{
    if (len)
        *len = v->len;
    return v->type == FSX_SIGN_STRING ? v->s : NULL;
}

static int opt_bool(const struct fsx_sign_value *v, int dflt)
{
    return v->type == FSX_SIGN_BOOLEAN ? v->num != 0 : dflt;
}

int fsx_sign_call_check(struct fsx_sign_call *c, struct fsx_sigv4_request *req)
{
    const struct fsx_sign_value *v = c->v;
    size_t i;

    c->field = c->what = NULL;
    for (i = 0; i < sizeof(cstring_slots); i++) {
        const struct fsx_sign_value *s = &v[cstring_slots[i]];
        if (s->type == FSX_SIGN_STRING && memchr(s->s, '\0', s->len) != NULL)
            return fail(c, cstring_slots[i], "holds a NUL byte");
    }
    if (check_types(c) != 0)
        return 1;
    if (v[FSX_SIGN_AMZ_DATE].type == FSX_SIGN_STRING)
        c->amz_date = v[FSX_SIGN_AMZ_DATE].s;
    else if (date_from_time(c) != 0)
        return 1;

    memset(req, 0, sizeof(*req));
    req->method = v[FSX_SIGN_METHOD].s;
    req->path = v[FSX_SIGN_PATH].s;
    req->path_len = v[FSX_SIGN_PATH].len;
    req->query = opt_string(&v[FSX_SIGN_QUERY], &req->query_len);
    if (req->query == NULL)
        req->query = "";
    req->body = opt_string(&v[FSX_SIGN_BODY], &req->body_len);
    req->payload_hash = opt_string(&v[FSX_SIGN_PAYLOAD_HASH], NULL);
    req->region = v[FSX_SIGN_REGION].s;
    req->service = v[FSX_SIGN_SERVICE].s;
    req->access_key_id = v[FSX_SIGN_ACCESS_KEY_ID].s;
    req->secret_access_key = v[FSX_SIGN_SECRET_ACCESS_KEY].s;
    req->session_token = opt_string(&v[FSX_SIGN_SESSION_TOKEN], NULL);
    if (req->session_token != NULL && v[FSX_SIGN_SESSION_TOKEN].len == 0)
        req->session_token = NULL; /* "" is no token */
    req->amz_date = c->amz_date;
    if (!opt_bool(&v[FSX_SIGN_NORMALIZE_PATH], 1))
        req->flags |= FSX_SIGV4_NO_NORMALIZE_PATH;
    if (opt_bool(&v[FSX_SIGN_SIGN_BODY], 0))
        req->flags |= FSX_SIGV4_SIGN_BODY;
    if (opt_bool(&v[FSX_SIGN_OMIT_SESSION_TOKEN], 0))
        req->flags |= FSX_SIGV4_OMIT_SESSION_TOKEN;
    c->stages = opt_bool(&v[FSX_SIGN_STAGES], 1);
    return 0;
}

static void set_out(struct fsx_sign_call *c, int k, const char *s, size_t len)
{
    c->out[k] = s;
    c->out_len[k] = len;
}

int fsx_sign_call_sign(struct fsx_sign_call *c, const struct fsx_sigv4_request *req,
                       struct fsx_sigv4_cache *cache, struct fsx_sigv4_result *res)
{
    fsx_error_clear(&c->err);
    if (fsx_sigv4_sign(req, cache, res, &c->err) != 0)
        return -1;
    set_out(c, FSX_SIGN_OUT_AUTHORIZATION, fsx_buf_cstr(&res->authorization),
            res->authorization.len);
    set_out(c, FSX_SIGN_OUT_SIGNATURE, res->signature, 64);
    set_out(c, FSX_SIGN_OUT_CANONICAL_REQUEST, fsx_buf_cstr(&res->canonical_request),
            res->canonical_request.len);
    set_out(c, FSX_SIGN_OUT_STRING_TO_SIGN, fsx_buf_cstr(&res->string_to_sign),
            res->string_to_sign.len);
    set_out(c, FSX_SIGN_OUT_SIGNED_HEADERS, fsx_buf_cstr(&res->signed_headers),
            res->signed_headers.len);
    set_out(c, FSX_SIGN_OUT_PAYLOAD_HASH, res->payload_hash, 64);
    memcpy(c->added, res->added, sizeof(c->added));
    c->n_added = res->n_added;
    return 0;
}

int fsx_sign_call_run(struct fsx_sign_call *c, struct fsx_sigv4_cache *cache,
                      struct fsx_sigv4_result *res)
{
    struct fsx_sigv4_request req;
    if (fsx_sign_call_check(c, &req) != 0)
        return 1;
    req.headers = c->headers;
    req.n_headers = c->n_headers;
    return fsx_sign_call_sign(c, &req, cache, res);
}
