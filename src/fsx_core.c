/*
 * fsx_core.c - the Lua binding, module `fsx.core` (binding layer).
 *
 * The only C file that includes Lua headers. It checks arguments, calls the
 * signing core (sigv4.h, crypto.h) or the transport (http.h), and pushes the
 * results. It holds no AWS logic and builds no error objects: failures come
 * back as the plain values nil, kind, code, message, and the Lua layer
 * (lua/fsx/error.lua) wraps them.
 *
 * Memory rule: every C resource is owned by a userdata created (zeroed, with
 * its metatable set) before the resource is acquired, so a Lua error raised at
 * any point is cleaned up by __gc. Argument tables are read with raw accesses
 * only, so no metamethod of the caller's runs while C holds pointers into
 * Lua strings.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "compat.h"
#include "crypto.h"
#include "http.h"
#include "sigv4.h"

#define SIGNER_MT "fsx.Signer"
#define HTTP_MT "fsx.Http"

/* ------------------------------------------------------------------------ */
/* helpers for reading argument tables                                      */

/* Push t[key] (raw) and return its type. */
static int raw_field(lua_State *L, int t, const char *key)
{
    lua_pushstring(L, key);
    lua_rawget(L, t); /* ... value */
    return lua_type(L, -1);
}

/*
 * A string field of table t, or NULL when absent. The pointer stays valid
 * while t holds the string (raw read: the caller's code never runs).
 */
static const char *opt_string_field(lua_State *L, int t, const char *key, size_t *len)
{
    const char *s = NULL;
    int ty = raw_field(L, t, key);
    if (ty == LUA_TSTRING)
        s = lua_tolstring(L, -1, len);
    else if (ty != LUA_TNIL)
        luaL_error(L, "field '%s' must be a string", key);
    else if (len)
        *len = 0;
    lua_pop(L, 1);
    return s;
}

static const char *string_field(lua_State *L, int t, const char *key, size_t *len)
{
    const char *s = opt_string_field(L, t, key, len);
    if (s == NULL)
        luaL_error(L, "field '%s' is required", key);
    return s;
}

static int bool_field(lua_State *L, int t, const char *key, int dflt)
{
    int ty = raw_field(L, t, key), v = dflt;
    if (ty == LUA_TBOOLEAN)
        v = lua_toboolean(L, -1);
    else if (ty != LUA_TNIL)
        luaL_error(L, "field '%s' must be a boolean", key);
    lua_pop(L, 1);
    return v;
}

static double number_field(lua_State *L, int t, const char *key, double dflt)
{
    int ty = raw_field(L, t, key);
    double v = dflt;
    if (ty == LUA_TNUMBER)
        v = (double)lua_tonumber(L, -1);
    else if (ty != LUA_TNIL)
        luaL_error(L, "field '%s' must be a number", key);
    lua_pop(L, 1);
    if (v != v || v < 0)
        luaL_error(L, "field '%s' must be a non-negative number", key);
    return v;
}

/*
 * A byte count from a non-negative number: values past SIZE_MAX (including
 * inf) saturate, since converting an out-of-range double is undefined.
 */
static size_t size_field(lua_State *L, int t, const char *key)
{
    double v = number_field(L, t, key, 0);
    if (v >= (double)SIZE_MAX)
        return SIZE_MAX;
    return (size_t)v;
}

/*
 * The first of keys (NULL-terminated) whose string value in table t holds a
 * NUL byte, or NULL. Those fields are handed on as C strings, which would be
 * cut silently at the NUL.
 */
static const char *nul_field(lua_State *L, int t, const char *const *keys)
{
    size_t len;
    const char *s;
    for (; *keys != NULL; keys++) {
        if (raw_field(L, t, *keys) == LUA_TSTRING) { /* ... value */
            s = lua_tolstring(L, -1, &len);
            if (memchr(s, '\0', len) != NULL) {
                lua_pop(L, 1);
                return *keys;
            }
        }
        lua_pop(L, 1); /* ... */
    }
    return NULL;
}

static const char *const http_cstring_fields[] = {"method", "url", "ca_file", NULL};

/* Convert seconds to milliseconds for libcurl, capped to a sane range. */
static long seconds_to_ms(double s)
{
    double ms = ceil(s * 1000.0);
    if (ms > 86400000.0 * 30)
        ms = 86400000.0 * 30;
    return (long)ms;
}

/* Push nil, kind, code, message from an error record; returns 4. */
static int push_failure(lua_State *L, const struct fsx_error *err)
{
    luaL_pushfail(L);
    lua_pushstring(L, fsx_error_kind_name(err->kind));
    lua_pushstring(L, err->code);
    lua_pushstring(L, err->message);
    return 4;
}

static int push_validation(lua_State *L, const char *code, const char *message)
{
    struct fsx_error err;
    fsx_error_set(&err, FSX_ERR_VALIDATION, code, "%s", message);
    return push_failure(L, &err);
}

static int push_nul_field(lua_State *L, const char *key)
{
    struct fsx_error err;
    fsx_error_set(&err, FSX_ERR_VALIDATION, "InvalidField", "%s holds a NUL byte", key);
    return push_failure(L, &err);
}

/* ------------------------------------------------------------------------ */
/* signer: one derived-key cache and one reusable result per Lua state      */

struct signer {
    struct fsx_sigv4_cache *cache;
    struct fsx_sigv4_result result;
    struct fsx_sigv4_header *headers; /* scratch array, grown as needed */
    size_t headers_cap;
    int ready; /* result initialised */
};

static int signer_close(lua_State *L)
{
    struct signer *s = (struct signer *)luaL_checkudata(L, 1, SIGNER_MT);
    if (s->ready) {
        fsx_sigv4_result_free(&s->result);
        s->ready = 0;
    }
    fsx_sigv4_cache_free(s->cache);
    s->cache = NULL;
    free(s->headers);
    s->headers = NULL;
    s->headers_cap = 0;
    return 0;
}

static struct signer *signer_upvalue(lua_State *L)
{
    return (struct signer *)luaL_checkudata(L, lua_upvalueindex(1), SIGNER_MT);
}

/*
 * The keys core.sign reads and writes, interned once at load time and kept
 * as upvalues of core.sign (upvalue 1 is the signer): pushing an upvalue and
 * a raw get is all a field costs, with no string hashing per call.
 */
enum sign_key {
    K_METHOD,
    K_PATH,
    K_QUERY,
    K_BODY,
    K_PAYLOAD_HASH,
    K_REGION,
    K_SERVICE,
    K_ACCESS_KEY_ID,
    K_SECRET_ACCESS_KEY,
    K_SESSION_TOKEN,
    K_AMZ_DATE,
    K_NORMALIZE_PATH,
    K_SIGN_BODY,
    K_OMIT_SESSION_TOKEN,
    K_STAGES,
    K_HEADERS, /* the request's fields, read in this order */
    K_AUTHORIZATION,
    K_SIGNATURE,
    K_CANONICAL_REQUEST,
    K_STRING_TO_SIGN,
    K_SIGNED_HEADERS,
    K_COUNT
};

#define K_INPUTS (K_HEADERS + 1)
#define KEY_INDEX(k) lua_upvalueindex(2 + (int)(k))

static const char *const sign_keys[K_COUNT] = {
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
    "headers",
    "authorization",
    "signature",
    "canonical_request",
    "string_to_sign",
    "signed_headers",
};

/* Fields handed on as C strings: a NUL would cut them short (first one reported). */
static const unsigned char sign_cstring_keys[] = {
    K_METHOD,        K_REGION,   K_SERVICE,      K_ACCESS_KEY_ID, K_SECRET_ACCESS_KEY,
    K_SESSION_TOKEN, K_AMZ_DATE, K_PAYLOAD_HASH,
};

/* One field of the request as read: its type, and its string or boolean. */
struct sign_field {
    int type;
    const char *s;
    size_t len;
};

/*
 * Read req.headers (the array at index hidx) into the signer's scratch
 * array. The strings stay referenced by their pair tables, held by the
 * array, itself on the stack.
 */
static size_t read_sign_headers(lua_State *L, int hidx, struct signer *s)
{
    size_t i, n = fsx_rawlen(L, hidx);
    if (n > s->headers_cap) {
        struct fsx_sigv4_header *p = (struct fsx_sigv4_header *)realloc(s->headers, n * sizeof(*p));
        if (p == NULL)
            luaL_error(L, "out of memory");
        s->headers = p;
        s->headers_cap = n;
    }
    for (i = 0; i < n; i++) {
        struct fsx_sigv4_header *h = &s->headers[i];
        lua_rawgeti(L, hidx, (int)i + 1); /* ... pair */
        if (!lua_istable(L, -1))
            luaL_error(L, "headers[%d] must be a {name, value} pair", (int)i + 1);
        lua_rawgeti(L, -1, 1); /* ... pair name */
        lua_rawgeti(L, -2, 2); /* ... pair name value */
        if (lua_type(L, -2) != LUA_TSTRING || lua_type(L, -1) != LUA_TSTRING)
            luaL_error(L, "headers[%d] name and value must be strings", (int)i + 1);
        h->name = lua_tolstring(L, -2, &h->name_len);
        h->value = lua_tolstring(L, -1, &h->value_len);
        lua_pop(L, 3); /* ... */
    }
    return n;
}

/* A string field: required ones raise when absent; NULL when optional and absent. */
static const char *check_string(lua_State *L, const struct sign_field *f, enum sign_key k,
                                int required, size_t *len)
{
    if (f->type == LUA_TSTRING) {
        if (len)
            *len = f->len;
        return f->s;
    }
    if (f->type != LUA_TNIL)
        luaL_error(L, "field '%s' must be a string", sign_keys[k]);
    if (required)
        luaL_error(L, "field '%s' is required", sign_keys[k]);
    if (len)
        *len = 0;
    return NULL;
}

static int check_bool(lua_State *L, const struct sign_field *f, enum sign_key k, int dflt)
{
    if (f->type == LUA_TBOOLEAN)
        return f->len != 0;
    if (f->type != LUA_TNIL)
        luaL_error(L, "field '%s' must be a boolean", sign_keys[k]);
    return dflt;
}

/* res[key] = the string s (on the table at the top). */
static void set_string(lua_State *L, enum sign_key k, const char *s, size_t len)
{
    lua_pushvalue(L, KEY_INDEX(k));
    lua_pushlstring(L, s, len);
    lua_rawset(L, -3);
}

/* A new {name, value} pair from two C strings, pushed. */
static void push_pair(lua_State *L, const char *name, size_t name_len, const char *value,
                      size_t value_len)
{
    lua_createtable(L, 2, 0); /* ... pair */
    lua_pushlstring(L, name, name_len);
    lua_rawseti(L, -2, 1);
    lua_pushlstring(L, value, value_len);
    lua_rawseti(L, -2, 2);
}

/*
 * core.sign(req) -> result | nil, kind, code, message
 *
 * req: see CONTRIBUTING.md; `stages = false` leaves canonical_request and
 * string_to_sign out of the result (the client never reads them). The
 * result's `headers` is the full list to send, in order: the caller's own
 * {name, value} pair tables (the same tables, not copies), then a new pair
 * for each header the signer added (X-Amz-Date, X-Amz-Security-Token,
 * x-amz-content-sha256), then {"Authorization", value}. `amz_date` is the
 * request's own string. The fields are read in one pass of raw gets with
 * interned keys; the checks then run in a fixed order (NUL bytes first,
 * then types), so the first error reported does not depend on table order.
 */
static int core_sign(lua_State *L)
{
    struct signer *s = signer_upvalue(L);
    struct sign_field f[K_INPUTS];
    struct fsx_sigv4_request req;
    struct fsx_error err;
    const struct fsx_sigv4_result *r = &s->result;
    size_t i, n;
    int k, hidx, aidx, stages;

    luaL_checktype(L, 1, LUA_TTABLE);
    lua_settop(L, 1);
    luaL_checkstack(L, K_INPUTS + 8, "core.sign");
    for (k = 0; k < K_INPUTS; k++) {
        lua_pushvalue(L, KEY_INDEX(k));
        lua_rawget(L, 1); /* req values... (stack index k + 2) */
        f[k].type = lua_type(L, -1);
        f[k].s = NULL;
        f[k].len = 0;
        if (f[k].type == LUA_TSTRING)
            f[k].s = lua_tolstring(L, -1, &f[k].len);
        else if (f[k].type == LUA_TBOOLEAN)
            f[k].len = (size_t)lua_toboolean(L, -1);
    }
    hidx = K_HEADERS + 2; /* req values... (headers at hidx) */
    for (i = 0; i < sizeof(sign_cstring_keys); i++) {
        const struct sign_field *c = &f[sign_cstring_keys[i]];
        if (c->type == LUA_TSTRING && memchr(c->s, '\0', c->len) != NULL)
            return push_nul_field(L, sign_keys[sign_cstring_keys[i]]);
    }
    memset(&req, 0, sizeof(req));
    req.method = check_string(L, &f[K_METHOD], K_METHOD, 1, NULL);
    req.path = check_string(L, &f[K_PATH], K_PATH, 1, &req.path_len);
    req.query = check_string(L, &f[K_QUERY], K_QUERY, 0, &req.query_len);
    if (req.query == NULL)
        req.query = "";
    req.body = check_string(L, &f[K_BODY], K_BODY, 0, &req.body_len);
    req.payload_hash = check_string(L, &f[K_PAYLOAD_HASH], K_PAYLOAD_HASH, 0, NULL);
    req.region = check_string(L, &f[K_REGION], K_REGION, 1, NULL);
    req.service = check_string(L, &f[K_SERVICE], K_SERVICE, 1, NULL);
    req.access_key_id = check_string(L, &f[K_ACCESS_KEY_ID], K_ACCESS_KEY_ID, 1, NULL);
    req.secret_access_key = check_string(L, &f[K_SECRET_ACCESS_KEY], K_SECRET_ACCESS_KEY, 1, NULL);
    req.session_token = check_string(L, &f[K_SESSION_TOKEN], K_SESSION_TOKEN, 0, NULL);
    req.amz_date = check_string(L, &f[K_AMZ_DATE], K_AMZ_DATE, 1, NULL);
    if (!check_bool(L, &f[K_NORMALIZE_PATH], K_NORMALIZE_PATH, 1))
        req.flags |= FSX_SIGV4_NO_NORMALIZE_PATH;
    if (check_bool(L, &f[K_SIGN_BODY], K_SIGN_BODY, 0))
        req.flags |= FSX_SIGV4_SIGN_BODY;
    if (check_bool(L, &f[K_OMIT_SESSION_TOKEN], K_OMIT_SESSION_TOKEN, 0))
        req.flags |= FSX_SIGV4_OMIT_SESSION_TOKEN;
    stages = check_bool(L, &f[K_STAGES], K_STAGES, 1);
    if (f[K_HEADERS].type != LUA_TTABLE)
        luaL_error(L, "field 'headers' must be an array of {name, value}");
    req.n_headers = n = read_sign_headers(L, hidx, s);
    req.headers = s->headers;

    if (!s->ready) {
        fsx_sigv4_result_init(&s->result);
        s->ready = 1;
    }
    fsx_error_clear(&err);
    if (fsx_sigv4_sign(&req, s->cache, &s->result, &err) != 0)
        return push_failure(L, &err);

    /* from here only pushes: the result buffers belong to the signer userdata */
    lua_pushlstring(L, fsx_buf_cstr(&r->authorization), r->authorization.len);
    aidx = lua_gettop(L);     /* req values... auth */
    lua_createtable(L, 0, 9); /* req values... auth res */
    lua_pushvalue(L, KEY_INDEX(K_AUTHORIZATION));
    lua_pushvalue(L, aidx);
    lua_rawset(L, -3);
    set_string(L, K_SIGNATURE, r->signature, 64);
    if (stages) {
        set_string(L, K_CANONICAL_REQUEST, fsx_buf_cstr(&r->canonical_request),
                   r->canonical_request.len);
        set_string(L, K_STRING_TO_SIGN, fsx_buf_cstr(&r->string_to_sign), r->string_to_sign.len);
    }
    set_string(L, K_SIGNED_HEADERS, fsx_buf_cstr(&r->signed_headers), r->signed_headers.len);
    set_string(L, K_PAYLOAD_HASH, r->payload_hash, 64);
    lua_pushvalue(L, KEY_INDEX(K_AMZ_DATE));
    lua_pushvalue(L, K_AMZ_DATE + 2); /* req values... auth res "amz_date" value */
    lua_rawset(L, -3);
    lua_pushvalue(L, KEY_INDEX(K_HEADERS));
    lua_createtable(L, (int)(n + r->n_added + 1), 0); /* ... res "headers" list */
    for (i = 0; i < n; i++) {
        lua_rawgeti(L, hidx, (int)i + 1); /* ... list pair */
        lua_rawseti(L, -2, (int)i + 1);
    }
    for (i = 0; i < r->n_added; i++) {
        const struct fsx_sigv4_header *h = &r->added[i];
        push_pair(L, h->name, h->name_len, h->value, h->value_len); /* ... list pair */
        lua_rawseti(L, -2, (int)(n + i) + 1);
    }
    lua_createtable(L, 2, 0); /* ... list pair */
    lua_pushliteral(L, "Authorization");
    lua_rawseti(L, -2, 1);
    lua_pushvalue(L, aidx);
    lua_rawseti(L, -2, 2);
    lua_rawseti(L, -2, (int)(n + r->n_added) + 1); /* ... res "headers" list */
    lua_rawset(L, -3);                             /* req values... auth res */
    return 1;
}

/* core.key_derivations() -> number of signing keys derived so far */
static int core_key_derivations(lua_State *L)
{
    struct signer *s = signer_upvalue(L);
    lua_pushnumber(L, (lua_Number)fsx_sigv4_cache_derivations(s->cache));
    return 1;
}

/* ------------------------------------------------------------------------ */
/* http handle                                                              */

struct http {
    struct fsx_http *h;
    struct fsx_buf lines;   /* "Name: value" lines, NUL-separated */
    const char **line_ptrs; /* pointers into lines */
    size_t line_cap;
};

static struct http *check_http(lua_State *L)
{
    struct http *p = (struct http *)luaL_checkudata(L, 1, HTTP_MT);
    if (p->h == NULL)
        luaL_error(L, "attempt to use a closed fsx http handle");
    return p;
}

/* close(), __gc and __close share this; idempotent. */
static int http_close(lua_State *L)
{
    struct http *p = (struct http *)luaL_checkudata(L, 1, HTTP_MT);
    fsx_http_free(p->h);
    p->h = NULL;
    fsx_buf_free_secure(&p->lines);
    free(p->line_ptrs);
    p->line_ptrs = NULL;
    p->line_cap = 0;
    return 0;
}

/* core.http_new() -> handle */
static int core_http_new(lua_State *L)
{
    struct fsx_error err;
    struct http *p = (struct http *)fsx_newuserdata(L, sizeof(*p)); /* ud */
    memset(p, 0, sizeof(*p));
    luaL_getmetatable(L, HTTP_MT);
    lua_setmetatable(L, -2);
    fsx_error_clear(&err);
    p->h = fsx_http_new(&err);
    if (p->h == NULL)
        return push_failure(L, &err);
    return 1;
}

static int has_ctl(const char *s, size_t len)
{
    size_t i;
    for (i = 0; i < len; i++)
        if (s[i] == '\r' || s[i] == '\n' || s[i] == '\0')
            return 1;
    return 0;
}

/*
 * Build the "Name: value" lines of req.headers into p->lines. Returns 0, or -1
 * with a message in *bad when a header is malformed (no exception: the
 * caller reports it as a validation failure).
 */
static int build_lines(lua_State *L, int t, struct http *p, size_t *count, const char **bad)
{
    size_t i, n, off;
    *count = 0;
    fsx_buf_reset(&p->lines);
    if (raw_field(L, t, "headers") == LUA_TNIL) {
        lua_pop(L, 1);
        return 0;
    }
    if (!lua_istable(L, -1))
        luaL_error(L, "field 'headers' must be an array of {name, value}");
    n = fsx_rawlen(L, -1); /* ... headers */
    if (n > p->line_cap) {
        const char **q = (const char **)realloc((void *)p->line_ptrs, n * sizeof(*q));
        if (q == NULL)
            luaL_error(L, "out of memory");
        p->line_ptrs = q;
        p->line_cap = n;
    }
    for (i = 0; i < n; i++) {
        const char *name, *value;
        size_t nl, vl;
        lua_rawgeti(L, -1, (int)i + 1); /* ... headers pair */
        if (!lua_istable(L, -1))
            luaL_error(L, "headers[%d] must be a {name, value} pair", (int)i + 1);
        lua_rawgeti(L, -1, 1);
        lua_rawgeti(L, -2, 2); /* ... headers pair name value */
        if (lua_type(L, -2) != LUA_TSTRING || lua_type(L, -1) != LUA_TSTRING)
            luaL_error(L, "headers[%d] name and value must be strings", (int)i + 1);
        name = lua_tolstring(L, -2, &nl);
        value = lua_tolstring(L, -1, &vl);
        if (nl == 0 || has_ctl(name, nl) || memchr(name, ':', nl) != NULL || has_ctl(value, vl)) {
            lua_pop(L, 4);
            *bad = "header name or value holds CR, LF, NUL or a bad name";
            return -1;
        }
        if (fsx_buf_append(&p->lines, name, nl) || fsx_buf_append(&p->lines, ": ", 2) ||
            fsx_buf_append(&p->lines, value, vl) || fsx_buf_append_char(&p->lines, '\0'))
            luaL_error(L, "out of memory");
        lua_pop(L, 3); /* ... headers */
    }
    lua_pop(L, 1); /* ... */
    /* point at each line only now: appends may have moved the buffer */
    for (i = 0, off = 0; i < n; i++) {
        p->line_ptrs[i] = p->lines.data + off;
        off += strlen(p->lines.data + off) + 1;
    }
    *count = n;
    return 0;
}

/* h:perform(req) -> status, headers, body, new_connections | nil, kind, code, message */
/*
 * The response headers as a map, pushed: names in lowercase, the values of a
 * repeated name joined with ", " in the order they came (RFC 9110, 5.3).
 */
static void push_header_map(lua_State *L, const struct fsx_http_response *resp)
{
    char small[64];
    size_t i, j;

    lua_createtable(L, 0, (int)resp->n_headers); /* map */
    for (i = 0; i < resp->n_headers; i++) {
        const struct fsx_http_header *h = &resp->headers[i];
        char *name = small;
        if (h->name_len > sizeof(small)) {
            name = (char *)lua_newuserdata(L, h->name_len); /* map scratch */
        }
        for (j = 0; j < h->name_len; j++) {
            unsigned char c = (unsigned char)h->name[j];
            name[j] = (char)((c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c);
        }
        lua_pushlstring(L, name, h->name_len); /* map [scratch] name */
        if (name != small)
            lua_remove(L, -2); /* map name */
        lua_pushvalue(L, -1);
        lua_rawget(L, -3); /* map name old */
        if (lua_type(L, -1) == LUA_TSTRING) {
            lua_pushliteral(L, ", ");
            lua_pushlstring(L, h->value, h->value_len);
            lua_concat(L, 3); /* map name "old, value" */
        } else {
            lua_pop(L, 1);
            lua_pushlstring(L, h->value, h->value_len); /* map name value */
        }
        lua_rawset(L, -3); /* map */
    }
}

static int http_perform(lua_State *L)
{
    struct http *p = check_http(L);
    struct fsx_http_request req;
    const struct fsx_http_response *resp = NULL;
    struct fsx_error err;
    const char *bad = NULL;
    size_t n_lines = 0;
    int rc;

    luaL_checktype(L, 2, LUA_TTABLE);
    if ((bad = nul_field(L, 2, http_cstring_fields)) != NULL)
        return push_nul_field(L, bad);
    memset(&req, 0, sizeof(req));
    req.method = string_field(L, 2, "method", NULL);
    req.url = string_field(L, 2, "url", NULL);
    req.body = opt_string_field(L, 2, "body", &req.body_len);
    req.ca_file = opt_string_field(L, 2, "ca_file", NULL);
    req.insecure = bool_field(L, 2, "insecure", 0);
    req.connect_timeout_ms = seconds_to_ms(number_field(L, 2, "connect_timeout", 0));
    req.timeout_ms = seconds_to_ms(number_field(L, 2, "timeout", 0));
    req.max_body = size_field(L, 2, "max_body");
    req.max_header_bytes = size_field(L, 2, "max_header_bytes");
    if (has_ctl(req.method, strlen(req.method)))
        return push_validation(L, "InvalidMethod", "method holds CR, LF or NUL");
    if (build_lines(L, 2, p, &n_lines, &bad) != 0) {
        /* the lines built so far may hold the Authorization header */
        fsx_wipe(p->lines.data, p->lines.len);
        fsx_buf_reset(&p->lines);
        return push_validation(L, "InvalidHeader", bad);
    }
    req.headers = p->line_ptrs;
    req.n_headers = n_lines;

    fsx_error_clear(&err);
    rc = fsx_http_perform(p->h, &req, &resp, &err);
    /* the lines held the Authorization header: wipe them now */
    fsx_wipe(p->lines.data, p->lines.len);
    fsx_buf_reset(&p->lines);
    if (rc != 0)
        return push_failure(L, &err);

    lua_pushinteger(L, (lua_Integer)resp->status);
    push_header_map(L, resp); /* status headers */
    lua_pushlstring(L, fsx_buf_cstr(&resp->body), resp->body.len);
    lua_pushinteger(L, (lua_Integer)resp->new_connections);
    return 4;
}

/* ------------------------------------------------------------------------ */
/* small utilities                                                          */

/* core.random_bytes(n) -> string of n random bytes */
static int core_random_bytes(lua_State *L)
{
    lua_Integer n = luaL_checkinteger(L, 1);
    unsigned char buf[256];
    if (n < 0 || n > (lua_Integer)sizeof(buf))
        return luaL_argerror(L, 1, "must be 0..256");
    if (fsx_random_bytes(buf, (size_t)n) != 0)
        return luaL_error(L, "random source failed");
    lua_pushlstring(L, (const char *)buf, (size_t)n);
    fsx_wipe(buf, sizeof(buf));
    return 1;
}

/*
 * core.uuid4() -> a random UUID (version 4, RFC 9562), lowercase:
 * "xxxxxxxx-xxxx-4xxx-Vxxx-xxxxxxxxxxxx" with V one of 8, 9, a, b.
 *
 * The 16 bytes come from a pool of RAND_bytes output (one per Lua state, an
 * upvalue), refilled when used up: one RAND_bytes call per 256 UUIDs instead
 * of one per UUID. A pool filled before a fork() would hand both processes
 * the same UUIDs (think of nginx forking its workers after init_by_lua), so
 * the pool remembers the pid that filled it and is refilled in a new
 * process. UUIDs are not secrets; the pool is wiped when collected anyway.
 */
#define UUID_POOL_MT "fsx.UuidPool"
#define UUID_POOL_BYTES 4096

struct uuid_pool {
    size_t used; /* bytes handed out; UUID_POOL_BYTES: empty */
    pid_t pid;   /* the process that filled it */
    unsigned char bytes[UUID_POOL_BYTES];
};

static int uuid_pool_gc(lua_State *L)
{
    struct uuid_pool *p = (struct uuid_pool *)luaL_checkudata(L, 1, UUID_POOL_MT);
    fsx_wipe(p->bytes, sizeof(p->bytes));
    p->used = UUID_POOL_BYTES;
    return 0;
}

static int core_uuid4(lua_State *L)
{
    static const char hex[] = "0123456789abcdef";
    struct uuid_pool *p = (struct uuid_pool *)luaL_checkudata(L, lua_upvalueindex(1), UUID_POOL_MT);
    unsigned char *b;
    char out[36];
    int i, o;
    pid_t pid = getpid();

    if (p->used > UUID_POOL_BYTES - 16 || p->pid != pid) {
        if (fsx_random_bytes(p->bytes, sizeof(p->bytes)) != 0)
            return luaL_error(L, "random source failed");
        p->used = 0;
        p->pid = pid;
    }
    b = p->bytes + p->used;
    p->used += 16;
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40); /* version 4 */
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80); /* variant 10 */
    for (i = 0, o = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[o++] = '-';
        out[o++] = hex[b[i] >> 4];
        out[o++] = hex[b[i] & 0x0f];
    }
    memset(b, 0, 16); /* handed out: not kept */
    lua_pushlstring(L, out, sizeof(out));
    return 1;
}

/* core.sha256_hex(s) -> 64 hex digits */
static int core_sha256_hex(lua_State *L)
{
    size_t len;
    const char *s = luaL_checklstring(L, 1, &len);
    char hex[65];
    if (fsx_sha256_hex(s, len, hex) != 0)
        return luaL_error(L, "sha256 failed");
    lua_pushlstring(L, hex, 64);
    return 1;
}

/* core.hmac_sha256(key, s) -> 32 raw bytes */
static int core_hmac_sha256(lua_State *L)
{
    size_t kl, len;
    const char *k = luaL_checklstring(L, 1, &kl);
    const char *s = luaL_checklstring(L, 2, &len);
    unsigned char mac[32];
    if (fsx_hmac_sha256(k, kl, s, len, mac) != 0)
        return luaL_error(L, "hmac failed");
    lua_pushlstring(L, (const char *)mac, sizeof(mac));
    return 1;
}

static double clock_seconds(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* core.time() -> epoch seconds with sub-second precision */
static int core_time(lua_State *L)
{
    lua_pushnumber(L, (lua_Number)clock_seconds(CLOCK_REALTIME));
    return 1;
}

/* core.monotime() -> seconds on a monotonic clock */
static int core_monotime(lua_State *L)
{
    lua_pushnumber(L, (lua_Number)clock_seconds(CLOCK_MONOTONIC));
    return 1;
}

/*
 * core.sleep(seconds) -> true, or false when a signal cut the sleep short. It
 * returns at once on a signal so that the interpreter's SIGINT hook (Ctrl-C)
 * runs promptly; callers measure elapsed time on the monotonic clock anyway.
 */
static int core_sleep(lua_State *L)
{
    double s = (double)luaL_checknumber(L, 1);
    struct timespec ts;
    if (!(s > 0)) {
        lua_pushboolean(L, 1);
        return 1;
    }
    if (s > 86400.0 * 365)
        s = 86400.0 * 365;
    ts.tv_sec = (time_t)s;
    ts.tv_nsec = (long)((s - (double)ts.tv_sec) * 1e9);
    lua_pushboolean(L, !(nanosleep(&ts, NULL) != 0 && errno == EINTR));
    return 1;
}

/* core.isatty(fd) -> boolean */
static int core_isatty(lua_State *L)
{
    lua_Integer fd = luaL_checkinteger(L, 1);
    lua_pushboolean(L, fd >= 0 && fd < 1024 && isatty((int)fd));
    return 1;
}

/* ------------------------------------------------------------------------ */

static const luaL_Reg http_methods[] = {
    {"perform", http_perform},
    {"close", http_close},
    {NULL, NULL},
};

static const luaL_Reg http_meta[] = {
    {"__gc", http_close},
#if LUA_VERSION_NUM >= 504
    {"__close", http_close},
#endif
    {NULL, NULL},
};

static const luaL_Reg signer_meta[] = {
    {"__gc", signer_close},
    {NULL, NULL},
};

/* functions sharing the signer upvalue */
static const luaL_Reg signer_funcs[] = {
    {"sign", core_sign},
    {"key_derivations", core_key_derivations},
    {NULL, NULL},
};

static const luaL_Reg core_funcs[] = {
    {"http_new", core_http_new},
    {"random_bytes", core_random_bytes},
    {"sha256_hex", core_sha256_hex},
    {"hmac_sha256", core_hmac_sha256},
    {"time", core_time},
    {"monotime", core_monotime},
    {"sleep", core_sleep},
    {"isatty", core_isatty},
    {NULL, NULL},
};

int luaopen_fsx_core(lua_State *L);

int luaopen_fsx_core(lua_State *L)
{
    struct fsx_error err;
    struct signer *s;
    struct uuid_pool *pool;
    int k;

    fsx_error_clear(&err);
    if (fsx_http_global_init(&err) != 0)
        return luaL_error(L, "fsx.core: %s", err.message);

    luaL_newmetatable(L, HTTP_MT); /* mt */
    luaL_setfuncs(L, http_meta, 0);
    luaL_newlib(L, http_methods);   /* mt methods */
    lua_setfield(L, -2, "__index"); /* mt */
    lua_pop(L, 1);

    luaL_newmetatable(L, SIGNER_MT); /* mt */
    luaL_setfuncs(L, signer_meta, 0);
    lua_pop(L, 1);

    luaL_newlib(L, core_funcs);                          /* M */
    s = (struct signer *)fsx_newuserdata(L, sizeof(*s)); /* M signer */
    memset(s, 0, sizeof(*s));
    luaL_getmetatable(L, SIGNER_MT);
    lua_setmetatable(L, -2);
    s->cache = fsx_sigv4_cache_new();
    if (s->cache == NULL)
        return luaL_error(L, "fsx.core: out of memory");
    for (k = 0; k < K_COUNT; k++)
        lua_pushstring(L, sign_keys[k]);         /* M signer keys... */
    luaL_setfuncs(L, signer_funcs, 1 + K_COUNT); /* M */

    luaL_newmetatable(L, UUID_POOL_MT); /* M mt */
    lua_pushcfunction(L, uuid_pool_gc);
    lua_setfield(L, -2, "__gc");
    lua_pop(L, 1);                                                /* M */
    pool = (struct uuid_pool *)fsx_newuserdata(L, sizeof(*pool)); /* M pool */
    pool->used = UUID_POOL_BYTES;                                 /* empty: filled on first use */
    pool->pid = 0;
    luaL_getmetatable(L, UUID_POOL_MT);
    lua_setmetatable(L, -2);
    lua_pushcclosure(L, core_uuid4, 1); /* M uuid4 */
    lua_setfield(L, -2, "uuid4");       /* M */

    lua_pushstring(L, "fsx.core");
    lua_setfield(L, -2, "_NAME");
    return 1;
}
