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
#include <fcntl.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "compat.h"
#include "crypto.h"
#include "http.h"
#include "interrupt.h"
#include "sigv4.h"
#include "sign_call.h"

#define SIGNER_MT "fsx.Signer"
#define HTTP_MT "fsx.Http"
#define HTTP_RESPONSE_MT "fsx.HttpResponse"

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

/* nil, "validation", "InvalidField", "<field> <what>", field */
static int push_field_error(lua_State *L, const char *field, const char *what)
{
    luaL_pushfail(L);
    lua_pushliteral(L, "validation");
    lua_pushliteral(L, "InvalidField");
    lua_pushfstring(L, "%s %s", field, what);
    lua_pushstring(L, field);
    return 5;
}

static int push_nul_field(lua_State *L, const char *key)
{
    return push_field_error(L, key, "holds a NUL byte");
}

/* ------------------------------------------------------------------------ */
/* signer: one derived-key cache and one reusable result per Lua state      */

struct signer {
    struct fsx_sigv4_cache *cache;
    struct fsx_sigv4_result result;
    struct fsx_sigv4_header *headers; /* scratch array, grown as needed */
    size_t headers_cap;
    int ready; /* result initialised */
    /*
     * Signatures made into result (and headers filled) so far. A call reads
     * it before it starts and again once it has copied the result into Lua
     * strings: any other count means another signature ran in between (a
     * __gc finalizer that signs, run by an allocation of this call) and
     * overwrote the buffers, so the call signs again.
     */
    unsigned int gen;
};

/* Tries of one call before it gives up on a result no finalizer overwrites. */
#define SIGN_TRIES 64

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
 * a raw get is all a field costs, with no string hashing per call. The
 * request's fields come first, in the slots of sign_call.h.
 */
enum sign_key {
    K_HEADERS = FSX_SIGN_SLOTS,
    K_AUTHORIZATION,
    K_SIGNATURE,
    K_CANONICAL_REQUEST,
    K_STRING_TO_SIGN,
    K_SIGNED_HEADERS,
    K_COUNT
};

#define KEY_INDEX(k) lua_upvalueindex(2 + (int)(k))

static const char *const sign_extra_keys[K_COUNT - FSX_SIGN_SLOTS] = {
    "headers",           "authorization",  "signature",
    "canonical_request", "string_to_sign", "signed_headers",
};

static const char *sign_key_name(int k)
{
    return k < FSX_SIGN_SLOTS ? fsx_sign_slot_names[k] : sign_extra_keys[k - FSX_SIGN_SLOTS];
}

/*
 * Read req.headers (the array at index hidx, or nil: none) into the
 * signer's scratch array; n gets the count. The strings stay referenced by
 * their pair tables, held by the array, itself on the stack. Returns 0, or
 * the number of values pushed for an error (nil, kind, code, message, field).
 */
static int read_sign_headers(lua_State *L, int hidx, struct signer *s, size_t *count)
{
    size_t i, n, entries = 0;
    *count = 0;
    if (lua_isnil(L, hidx))
        return 0;
    if (!lua_istable(L, hidx))
        return push_field_error(L, "headers", "must be a table of {name, value} pairs");
    n = fsx_rawlen(L, hidx);
    lua_pushnil(L);
    while (lua_next(L, hidx) != 0) { /* ... k v */
        lua_pop(L, 1);
        entries++;
    }
    if (entries != n)
        return push_field_error(L, "headers",
                                "must be an array of {name, value} pairs "
                                "(it mixes pairs with named keys, or has holes)");
    if (n > s->headers_cap) {
        struct fsx_sigv4_header *p = (struct fsx_sigv4_header *)realloc(s->headers, n * sizeof(*p));
        if (p == NULL)
            luaL_error(L, "out of memory");
        s->headers = p;
        s->headers_cap = n;
    }
    for (i = 0; i < n; i++) {
        struct fsx_sigv4_header *h = &s->headers[i];
        int ok = 0;
        lua_rawgeti(L, hidx, (int)i + 1); /* ... pair */
        if (lua_istable(L, -1)) {
            lua_rawgeti(L, -1, 1); /* ... pair name */
            lua_rawgeti(L, -2, 2); /* ... pair name value */
            ok = lua_type(L, -2) == LUA_TSTRING && lua_type(L, -1) == LUA_TSTRING;
        }
        if (!ok) {
            char field[48];
            (void)snprintf(field, sizeof(field), "headers[%d]", (int)i + 1);
            return push_field_error(L, field, "must be a {name, value} pair of strings");
        }
        h->name = lua_tolstring(L, -2, &h->name_len);
        h->value = lua_tolstring(L, -1, &h->value_len);
        lua_pop(L, 3); /* ... */
    }
    *count = n;
    return 0;
}

/* The value at the top of the stack, as sign_call.h takes it. */
static void read_sign_value(lua_State *L, struct fsx_sign_value *v)
{
    v->s = NULL;
    v->len = 0;
    v->num = 0;
    switch (lua_type(L, -1)) {
    case LUA_TNIL:
        v->type = FSX_SIGN_NIL;
        break;
    case LUA_TSTRING:
        v->type = FSX_SIGN_STRING;
        v->s = lua_tolstring(L, -1, &v->len);
        break;
    case LUA_TBOOLEAN:
        v->type = FSX_SIGN_BOOLEAN;
        v->num = lua_toboolean(L, -1);
        break;
    case LUA_TNUMBER:
        v->type = FSX_SIGN_NUMBER;
        v->num = (double)lua_tonumber(L, -1);
        break;
    default:
        v->type = FSX_SIGN_OTHER;
        break;
    }
}

/* res[key] = the view k of the call (on the table at the top). */
static void set_out(lua_State *L, enum sign_key key, const struct fsx_sign_call *c, int k)
{
    lua_pushvalue(L, KEY_INDEX(key));
    lua_pushlstring(L, c->out[k], c->out_len[k]);
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
 * core.sign(req) -> result | nil, kind, code, message[, field]
 *
 * req: see CONTRIBUTING.md; with `stages = false` the result holds only
 * authorization, amz_date and headers (all the client reads). The
 * result's `headers` is the full list to send, in order: the caller's own
 * {name, value} pair tables (the same tables, not copies), then a new pair
 * for each header the signer added (X-Amz-Date, X-Amz-Security-Token,
 * x-amz-content-sha256), then {"Authorization", value}. The fields are read
 * in one pass of raw gets with interned keys; sign_call.c then checks them
 * in a fixed order (NUL bytes first, then types, then the headers), so the
 * first error reported does not depend on table order.
 */
static int core_sign(lua_State *L)
{
    struct signer *s = signer_upvalue(L);
    struct fsx_sign_call c;
    struct fsx_sigv4_request req;
    size_t i, n;
    int k, hidx, aidx, tries = 0;
    unsigned int gen;

    luaL_checktype(L, 1, LUA_TTABLE);
again:
    lua_settop(L, 1);
    gen = s->gen;
    luaL_checkstack(L, FSX_SIGN_SLOTS + 9, "core.sign");
    memset(&c, 0, sizeof(c));
    for (k = 0; k < FSX_SIGN_SLOTS; k++) {
        lua_pushvalue(L, KEY_INDEX(k));
        lua_rawget(L, 1); /* req values... (stack index k + 2) */
        read_sign_value(L, &c.v[k]);
    }
    lua_pushvalue(L, KEY_INDEX(K_HEADERS));
    lua_rawget(L, 1); /* req values... headers */
    hidx = lua_gettop(L);
    if (fsx_sign_call_check(&c, &req) != 0)
        return push_field_error(L, c.field, c.what);
    if ((k = read_sign_headers(L, hidx, s, &n)) != 0)
        return k;
    req.n_headers = n;
    req.headers = s->headers;

    if (!s->ready) {
        fsx_sigv4_result_init(&s->result);
        s->ready = 1;
    }
    s->gen++;
    if (fsx_sign_call_sign(&c, &req, s->cache, &s->result) != 0)
        return push_failure(L, &c.err);

    /* from here only pushes: the result buffers belong to the signer userdata,
     * and every push may run a finalizer that signs into them (see gen) */
    lua_pushlstring(L, c.out[FSX_SIGN_OUT_AUTHORIZATION], c.out_len[FSX_SIGN_OUT_AUTHORIZATION]);
    aidx = lua_gettop(L);     /* req values... headers auth */
    lua_createtable(L, 0, 9); /* req values... headers auth res */
    lua_pushvalue(L, KEY_INDEX(K_AUTHORIZATION));
    lua_pushvalue(L, aidx);
    lua_rawset(L, -3);
    if (c.stages) {
        set_out(L, K_SIGNATURE, &c, FSX_SIGN_OUT_SIGNATURE);
        set_out(L, K_CANONICAL_REQUEST, &c, FSX_SIGN_OUT_CANONICAL_REQUEST);
        set_out(L, K_STRING_TO_SIGN, &c, FSX_SIGN_OUT_STRING_TO_SIGN);
        set_out(L, K_SIGNED_HEADERS, &c, FSX_SIGN_OUT_SIGNED_HEADERS);
        set_out(L, (enum sign_key)FSX_SIGN_PAYLOAD_HASH, &c, FSX_SIGN_OUT_PAYLOAD_HASH);
    }
    lua_pushvalue(L, KEY_INDEX(FSX_SIGN_AMZ_DATE));
    lua_pushlstring(L, c.amz_date, 16); /* ... res "amz_date" value */
    lua_rawset(L, -3);
    lua_pushvalue(L, KEY_INDEX(K_HEADERS));
    lua_createtable(L, (int)(n + c.n_added + 1), 0); /* ... res "headers" list */
    for (i = 0; i < n; i++) {
        lua_rawgeti(L, hidx, (int)i + 1); /* ... list pair */
        lua_rawseti(L, -2, (int)i + 1);
    }
    for (i = 0; i < c.n_added; i++) {
        const struct fsx_sigv4_header *h = &c.added[i];
        push_pair(L, h->name, h->name_len, h->value, h->value_len); /* ... list pair */
        lua_rawseti(L, -2, (int)(n + i) + 1);
    }
    /* every read of the shared buffers is done: were they overwritten? */
    if (s->gen != gen + 1) {
        if (++tries < SIGN_TRIES)
            goto again;
        return luaL_error(L, "core.sign: every try was overwritten by another signature "
                             "(a __gc finalizer that signs each time?)");
    }
    lua_createtable(L, 2, 0); /* ... list pair */
    lua_pushliteral(L, "Authorization");
    lua_rawseti(L, -2, 1);
    lua_pushvalue(L, aidx);
    lua_rawseti(L, -2, 2);
    lua_rawseti(L, -2, (int)(n + c.n_added) + 1); /* ... res "headers" list */
    lua_rawset(L, -3);                            /* req values... headers auth res */
    return 1;
}

/*
 * LuaJIT's FFI way into the same work (lua/fsx/sigv4_ffi.lua): it fills a
 * struct fsx_sign_call from the request table itself and calls
 * sign_ffi_entry.sign(signer, call) through the FFI, which signs with this
 * Lua state's cache and result, as core.sign does. No Lua API is used on
 * that path, so no Lua value is created or freed while C reads the strings.
 */
struct sign_ffi_entry {
    /* cppcheck-suppress unusedStructMember ; called from Lua, through the FFI */
    int (*sign)(void *signer, struct fsx_sign_call *c);
};

static int sign_ffi(void *signer, struct fsx_sign_call *c)
{
    struct signer *s = (struct signer *)signer;
    if (!s->ready) {
        fsx_sigv4_result_init(&s->result);
        s->ready = 1;
    }
    s->gen++;
    return fsx_sign_call_run(c, s->cache, &s->result);
}

static struct sign_ffi_entry sign_ffi_entry = {sign_ffi}; /* never written */

/*
 * core.sign_ffi() -> entry, signer, sizeof(struct fsx_sign_call),
 * offsetof(struct fsx_sign_call, n_added), gen: three light userdata for
 * ffi.cast (gen points to the signer's count of signatures, an unsigned
 * int: see struct signer), and the numbers the Lua side checks its
 * ffi.cdef against.
 */
static int core_sign_ffi(lua_State *L)
{
    struct signer *s = signer_upvalue(L);
    lua_pushlightuserdata(L, &sign_ffi_entry);
    lua_pushlightuserdata(L, s);
    lua_pushinteger(L, (lua_Integer)sizeof(struct fsx_sign_call));
    lua_pushinteger(L, (lua_Integer)offsetof(struct fsx_sign_call, n_added));
    lua_pushlightuserdata(L, &s->gen);
    return 5;
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

/* A response taken out of its handle while it is copied into Lua values. */
static int http_response_gc(lua_State *L)
{
    fsx_http_response_free((struct fsx_http_response *)lua_touserdata(L, 1));
    return 0;
}

static int http_perform(lua_State *L)
{
    struct http *p;
    struct fsx_http_request req;
    const struct fsx_http_response *resp = NULL;
    struct fsx_http_response *taken;
    struct fsx_http *hh;
    struct fsx_error err;
    const char *bad = NULL;
    size_t n_lines = 0;
    int rc;

    luaL_checktype(L, 2, LUA_TTABLE);
    lua_settop(L, 2);
    /*
     * Where the response goes once received, made first: any allocation may
     * run a __gc finalizer, and one that sends on this handle between the
     * transfer and the last copy out of its buffers would overwrite them.
     * From the transfer to the copies' end nothing is allocated but the
     * copies, which read `taken`, no longer the handle's buffers.
     */
    taken = (struct fsx_http_response *)fsx_newuserdata(L, sizeof(*taken)); /* h req taken */
    fsx_http_response_init(taken, 0, 0);
    luaL_getmetatable(L, HTTP_RESPONSE_MT);
    lua_setmetatable(L, 3);
    p = check_http(L);
    hh = p->h;
    if ((bad = nul_field(L, 2, http_cstring_fields)) != NULL)
        return push_nul_field(L, bad);
    memset(&req, 0, sizeof(req));
    req.method = string_field(L, 2, "method", NULL);
    req.url = string_field(L, 2, "url", NULL);
    req.body = opt_string_field(L, 2, "body", &req.body_len);
    req.ca_file = opt_string_field(L, 2, "ca_file", NULL);
    req.insecure = bool_field(L, 2, "insecure", 0);
    req.no_proxy = bool_field(L, 2, "no_proxy", 0);
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
    rc = fsx_http_perform(hh, &req, &resp, &err);
    /* the lines held the Authorization header: wipe them now */
    fsx_wipe(p->lines.data, p->lines.len);
    fsx_buf_reset(&p->lines);
    if (rc != 0)
        return push_failure(L, &err);

    (void)resp; /* the handle's response: taken out of it now */
    fsx_http_swap_response(hh, taken);
    lua_pushinteger(L, (lua_Integer)taken->status);
    push_header_map(L, taken); /* h req taken status headers */
    lua_pushlstring(L, fsx_buf_cstr(&taken->body), taken->body.len);
    lua_pushinteger(L, (lua_Integer)taken->new_connections);
    /* give the grown buffers back for the next transfer (unless a finalizer
     * closed the handle meanwhile); `taken` frees what it holds then */
    if (p->h == hh)
        fsx_http_swap_response(hh, taken);
    return 4;
}

/* ------------------------------------------------------------------------ */
/* core.convert: decoded JSON tables to new tables with renamed keys        */

/*
 * core.convert(v, plan, names, null) -> result | nil, missing_names, missing_plans
 *
 * Builds from the table v (a decoded JSON value) a new table whose keys are
 * renamed as the plan says. What the names mean belongs to the Lua layer
 * (fsx.shape builds the plans from the model); this only walks tables. A plan:
 *
 *   {1, members, size}   an object: members[key] = {new_key, plan slot, ...};
 *                        other keys are converted generically; size is the
 *                        hash size of the last result (a hint, kept updated)
 *   {2, slot, ...}       an array: items in order, `null` items dropped
 *   {3, slot, ...}       an object whose keys are kept
 *   {4}                  a value of a shape that is not a table (a table there
 *                        is converted generically, one level deeper)
 *   {0}                  converted generically
 *
 * A slot ([2] of a member or of an array/object plan) is the plan of the
 * table values found there, `true` (keep them as they are) or `false` (not
 * built yet). Generic conversion keeps arrays (v[1] ~= nil) as arrays and
 * renames string keys by names[key]. Values equal to `null` are dropped
 * everywhere; nesting deeper than 200 tables gives nil.
 *
 * Nothing here calls back into Lua. A walk that meets a slot not built yet,
 * or a string key missing from names, finishes anyway (keeping such keys
 * and values as they are) and returns nil, the list of the keys missing from
 * names and the list of the member/plan tables whose slot is false; the
 * caller fills them in and calls again, so a repeat call happens once per
 * new depth reached, not once per missing key.
 */
#define CONV_MAX_DEPTH 200

enum conv_kind { CONV_OBJECT = 1, CONV_ARRAY = 2, CONV_MAP = 3, CONV_VALUE = 4 };

struct conv {
    int names;   /* stack index of the names table */
    int misses;  /* stack index of {names = {...}, plans = {...}} or nil */
    int n_names; /* entries in misses' lists */
    int n_plans;
    const void *null;
};

static int conv_is_null(lua_State *L, const struct conv *c, int idx)
{
    return lua_type(L, idx) == LUA_TLIGHTUSERDATA && lua_touserdata(L, idx) == c->null;
}

/* Append the value at idx to the misses list i (1: names, 2: plans). */
static void conv_miss(lua_State *L, struct conv *c, int idx, int i)
{
    int n;
    if (idx < 0)
        idx = lua_gettop(L) + idx + 1;
    if (lua_isnil(L, c->misses)) {
        lua_createtable(L, 2, 0); /* ... misses */
        lua_newtable(L);
        lua_rawseti(L, -2, 1);
        lua_newtable(L);
        lua_rawseti(L, -2, 2);
        lua_replace(L, c->misses); /* ... */
    }
    n = i == 1 ? ++c->n_names : ++c->n_plans;
    lua_rawgeti(L, c->misses, i); /* ... list */
    lua_pushvalue(L, idx);        /* ... list value */
    lua_rawseti(L, -2, n);        /* ... list */
    lua_pop(L, 1);                /* ... */
}

static void conv_value(lua_State *L, struct conv *c, int plan, int depth);

/* The new key of the string key at the top: names[key], or the key (a miss). */
static void conv_generic_key(lua_State *L, struct conv *c)
{
    lua_pushvalue(L, -1);
    lua_rawget(L, c->names); /* ... key new */
    if (lua_type(L, -1) == LUA_TSTRING) {
        lua_remove(L, -2); /* ... new */
        return;
    }
    lua_pop(L, 1); /* ... key */
    conv_miss(L, c, -1, 1);
}

static void conv_generic(lua_State *L, struct conv *c, int depth);
static void conv_slot(lua_State *L, struct conv *c, int holder, int depth);

/*
 * Replace the array v (at the top) with a new array of its items, nulls
 * dropped; table items through the slot of the table at index holder, or
 * generically when holder is 0.
 */
/* NOLINTNEXTLINE(misc-no-recursion): the depth is capped at CONV_MAX_DEPTH */
static void conv_items(lua_State *L, struct conv *c, int v, int holder, int depth)
{
    size_t i, n = fsx_rawlen(L, v);
    int m = 0, o;

    lua_createtable(L, (int)n, 0); /* v o */
    o = v + 1;
    for (i = 1; i <= n; i++) {
        lua_rawgeti(L, v, (int)i); /* v o x */
        if (conv_is_null(L, c, -1)) {
            lua_pop(L, 1);
            continue;
        }
        m++;
        if (lua_istable(L, -1)) {
            if (holder != 0)
                conv_slot(L, c, holder, depth);
            else
                conv_generic(L, c, depth);
        }
        lua_rawseti(L, o, m); /* v o */
    }
    lua_replace(L, v); /* o */
}

/*
 * Replace the table v (at the top) with a new table of its entries, nulls
 * dropped: with holder 0, string keys renamed by names and table values
 * converted generically; else keys kept and table values through the slot
 * of the table at index holder.
 */
/* NOLINTNEXTLINE(misc-no-recursion): the depth is capped at CONV_MAX_DEPTH */
static void conv_entries(lua_State *L, struct conv *c, int v, int holder, int depth)
{
    int o;
    lua_newtable(L); /* v o */
    o = v + 1;
    lua_pushnil(L);
    while (lua_next(L, v) != 0) { /* v o k x */
        if (conv_is_null(L, c, -1)) {
            lua_pop(L, 1);
            continue;
        }
        lua_pushvalue(L, -2); /* v o k x k */
        if (holder == 0 && lua_type(L, -1) == LUA_TSTRING)
            conv_generic_key(L, c); /* v o k x newk */
        lua_insert(L, -2);          /* v o k newk x */
        if (lua_istable(L, -1)) {
            if (holder != 0)
                conv_slot(L, c, holder, depth);
            else
                conv_generic(L, c, depth);
        }
        lua_rawset(L, o); /* v o k */
    }
    lua_replace(L, v); /* o */
}

/* Replace the table at the top with its generic conversion (depth: tables above it). */
/* NOLINTNEXTLINE(misc-no-recursion): the depth is capped at CONV_MAX_DEPTH */
static void conv_generic(lua_State *L, struct conv *c, int depth)
{
    int v = lua_gettop(L);
    if (++depth > CONV_MAX_DEPTH) {
        lua_pop(L, 1);
        lua_pushnil(L);
        return;
    }
    luaL_checkstack(L, 8, "fsx.core.convert");
    lua_rawgeti(L, v, 1); /* v first */
    if (!lua_isnil(L, -1)) {
        lua_pop(L, 1);
        conv_items(L, c, v, 0, depth);
        return;
    }
    lua_pop(L, 1);
    conv_entries(L, c, v, 0, depth);
}

/*
 * Replace the value at the top, found where the table at index holder has
 * its slot ([2]), with what the slot says: its plan's conversion, the value
 * itself (true), or the value itself and a miss (false: not built yet).
 */
/* NOLINTNEXTLINE(misc-no-recursion): the depth is capped at CONV_MAX_DEPTH */
static void conv_slot(lua_State *L, struct conv *c, int holder, int depth)
{
    lua_rawgeti(L, holder, 2); /* ... x slot */
    if (lua_istable(L, -1)) {
        lua_insert(L, -2); /* ... slot x */
        conv_value(L, c, lua_gettop(L) - 1, depth);
        lua_remove(L, -2); /* ... result */
        return;
    }
    if (!lua_toboolean(L, -1))
        conv_miss(L, c, holder, 2);
    lua_pop(L, 1); /* ... x */
}

/* An object plan: members renamed, their values through their slots. */
/* NOLINTNEXTLINE(misc-no-recursion): the depth is capped at CONV_MAX_DEPTH */
static void conv_object(lua_State *L, struct conv *c, int plan, int v, int depth)
{
    int members, o;
    lua_Integer hint, n = 0;

    lua_rawgeti(L, plan, 2); /* v members */
    members = v + 1;
    lua_rawgeti(L, plan, 3); /* v members hint */
    hint = lua_tointeger(L, -1);
    lua_pop(L, 1);
    lua_createtable(L, 0, (int)(hint > 0 && hint < 64 ? hint : 0)); /* v members o */
    o = v + 2;
    lua_pushnil(L);
    while (lua_next(L, v) != 0) { /* v members o k x */
        if (conv_is_null(L, c, -1)) {
            lua_pop(L, 1);
            continue;
        }
        n++;
        lua_pushvalue(L, -2);
        lua_rawget(L, members); /* v members o k x m */
        if (!lua_istable(L, -1)) {
            /* a key the plan does not know */
            lua_pop(L, 1);
            lua_pushvalue(L, -2); /* v members o k x k */
            if (lua_type(L, -1) == LUA_TSTRING)
                conv_generic_key(L, c); /* v members o k x newk */
            lua_insert(L, -2);          /* v members o k newk x */
            if (lua_istable(L, -1))
                conv_generic(L, c, depth);
            lua_rawset(L, o); /* v members o k */
            continue;
        }
        lua_rawgeti(L, -1, 1); /* v members o k x m newk */
        lua_pushvalue(L, -3);  /* v members o k x m newk x */
        if (lua_istable(L, -1))
            conv_slot(L, c, lua_gettop(L) - 2, depth);
        lua_rawset(L, o); /* v members o k x m */
        lua_pop(L, 2);    /* v members o k */
    }
    if (n != hint) {
        lua_pushinteger(L, n);
        lua_rawseti(L, plan, 3);
    }
    lua_replace(L, v); /* o members */
    lua_pop(L, 1);     /* o */
}

/* An array plan: items in order, nulls dropped; not an array: generic. */
/* NOLINTNEXTLINE(misc-no-recursion): the depth is capped at CONV_MAX_DEPTH */
static void conv_array(lua_State *L, struct conv *c, int plan, int v, int depth)
{
    lua_rawgeti(L, v, 1); /* v first */
    if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        lua_pushnil(L);
        if (lua_next(L, v) != 0) { /* v k x: not empty, not an array */
            lua_pop(L, 2);
            conv_generic(L, c, depth);
            return;
        }
    } else {
        lua_pop(L, 1);
    }
    conv_items(L, c, v, plan, depth);
}

/* A map plan: keys kept, values through the slot, nulls dropped. */
/* NOLINTNEXTLINE(misc-no-recursion): the depth is capped at CONV_MAX_DEPTH */
static void conv_map(lua_State *L, struct conv *c, int plan, int v, int depth)
{
    conv_entries(L, c, v, plan, depth);
}

/* Replace the table at the top with its conversion by the plan at index plan. */
/* NOLINTNEXTLINE(misc-no-recursion): the depth is capped at CONV_MAX_DEPTH */
static void conv_value(lua_State *L, struct conv *c, int plan, int depth)
{
    int v = lua_gettop(L);
    lua_Integer kind;

    if (++depth > CONV_MAX_DEPTH) {
        lua_pop(L, 1);
        lua_pushnil(L);
        return;
    }
    luaL_checkstack(L, 10, "fsx.core.convert");
    lua_rawgeti(L, plan, 1);
    kind = lua_tointeger(L, -1);
    lua_pop(L, 1);
    if (kind == CONV_OBJECT)
        conv_object(L, c, plan, v, depth);
    else if (kind == CONV_ARRAY)
        conv_array(L, c, plan, v, depth);
    else if (kind == CONV_MAP)
        conv_map(L, c, plan, v, depth);
    else if (kind == CONV_VALUE)
        conv_generic(L, c, depth);
    else
        conv_generic(L, c, depth - 1);
}

static int core_convert(lua_State *L)
{
    struct conv c;

    luaL_checktype(L, 1, LUA_TTABLE);
    luaL_checktype(L, 2, LUA_TTABLE);
    luaL_checktype(L, 3, LUA_TTABLE);
    luaL_checktype(L, 4, LUA_TLIGHTUSERDATA);
    lua_settop(L, 4);
    lua_pushnil(L); /* v plan names null misses */
    c.names = 3;
    c.misses = 5;
    c.n_names = c.n_plans = 0;
    c.null = lua_touserdata(L, 4);
    lua_pushvalue(L, 1); /* v plan names null misses v */
    conv_value(L, &c, 2, 0);
    if (lua_isnil(L, c.misses))
        return 1;
    lua_pushnil(L);
    lua_rawgeti(L, c.misses, 1);
    lua_rawgeti(L, c.misses, 2);
    return 3;
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

/* Push the hex digest of the string argument 1, made by fn (hexlen digits). */
static int push_hex_digest(lua_State *L, int (*fn)(const void *, size_t, char *), size_t hexlen,
                           const char *what)
{
    size_t len;
    const char *s = luaL_checklstring(L, 1, &len);
    char hex[65];
    if (fn(s, len, hex) != 0)
        return luaL_error(L, "%s failed", what);
    lua_pushlstring(L, hex, hexlen);
    return 1;
}

/* core.sha256_hex(s) -> 64 hex digits */
static int core_sha256_hex(lua_State *L)
{
    return push_hex_digest(L, fsx_sha256_hex, 64, "sha256");
}

/* core.sha1_hex(s) -> 40 lowercase hex digits (names, never signatures) */
static int core_sha1_hex(lua_State *L)
{
    return push_hex_digest(L, fsx_sha1_hex, 40, "sha1");
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

/*
 * core.catch_signals() -> true | nil, message
 *
 * From now on SIGINT, SIGTERM and SIGHUP only record their number (the
 * process is not stopped and the interpreter's own Ctrl-C hook no longer
 * runs): core.caught_signal() tells it, core.sleep returns early, and every
 * h:perform in flight stops within about a second and fails with
 * nil, "transport", "INTERRUPTED", message (a failure the client does not
 * retry); a perform asked for later fails the same way without sending.
 * The caller decides how to exit (fsx-backup: 128 + the signal's number).
 */
static int core_catch_signals(lua_State *L)
{
    if (fsx_interrupt_catch() != 0) {
        lua_pushnil(L);
        lua_pushfstring(L, "installing signal handlers failed: %s", strerror(errno));
        return 2;
    }
    lua_pushboolean(L, 1);
    return 1;
}

/* core.caught_signal() -> the number of the signal recorded, or nil */
static int core_caught_signal(lua_State *L)
{
    int sig = fsx_interrupt_signal();
    if (sig == 0)
        lua_pushnil(L);
    else
        lua_pushinteger(L, sig);
    return 1;
}

/* core.isatty(fd) -> boolean */
static int core_isatty(lua_State *L)
{
    lua_Integer fd = luaL_checkinteger(L, 1);
    lua_pushboolean(L, fd >= 0 && fd < 1024 && isatty((int)fd));
    return 1;
}

/*
 * core.write_private(path, data) -> true | nil, message
 *
 * Replaces the file at path with data, readable by its owner only (0600):
 * written to "<path>.<pid>.tmp" (created new, O_EXCL, never through a
 * symbolic link), then renamed over path, so a reader sees the old file or
 * the whole new one. For cache files that hold tokens.
 */
static int core_write_private(lua_State *L)
{
    size_t plen, len, done = 0;
    const char *path = luaL_checklstring(L, 1, &plen);
    const char *data = luaL_checklstring(L, 2, &len);
    char tmp[4096];
    int fd, n, err = 0;

    if (memchr(path, '\0', plen) != NULL)
        return luaL_argerror(L, 1, "holds a NUL byte");
    n = snprintf(tmp, sizeof(tmp), "%s.%ld.tmp", path, (long)getpid());
    if (n < 0 || (size_t)n >= sizeof(tmp))
        return luaL_argerror(L, 1, "too long");
    fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        err = errno;
    } else {
        while (done < len) {
            ssize_t w = write(fd, data + done, len - done);
            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0) {
                err = w < 0 ? errno : EIO;
                break;
            }
            done += (size_t)w;
        }
        if (close(fd) != 0 && err == 0)
            err = errno;
        if (err == 0 && rename(tmp, path) != 0)
            err = errno;
        if (err != 0)
            (void)unlink(tmp);
    }
    if (err != 0) {
        lua_pushnil(L);
        lua_pushfstring(L, "%s: %s", path, strerror(err));
        return 2;
    }
    lua_pushboolean(L, 1);
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
    {"sign_ffi", core_sign_ffi},
    {NULL, NULL},
};

static const luaL_Reg core_funcs[] = {
    {"http_new", core_http_new},
    {"random_bytes", core_random_bytes},
    {"sha256_hex", core_sha256_hex},
    {"sha1_hex", core_sha1_hex},
    {"hmac_sha256", core_hmac_sha256},
    {"time", core_time},
    {"monotime", core_monotime},
    {"sleep", core_sleep},
    {"isatty", core_isatty},
    {"write_private", core_write_private},
    {"convert", core_convert},
    {"catch_signals", core_catch_signals},
    {"caught_signal", core_caught_signal},
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

    luaL_newmetatable(L, HTTP_RESPONSE_MT); /* mt */
    lua_pushcfunction(L, http_response_gc);
    lua_setfield(L, -2, "__gc");
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
        lua_pushstring(L, sign_key_name(k));     /* M signer keys... */
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
