/*
 * lua_http.c - the http handle: core.http_new, h:perform, h:close (binding
 * layer, module `fsx.core`).
 *
 * A handle is busy from the moment h:perform takes its transport pointer
 * until the answer has been copied into Lua values. Everything that can
 * run Lua (a __gc finalizer, run by any allocation) happens either before
 * that moment (reading the request, which keeps every string it uses on the
 * stack) or inside a protected call that ends the busy time whatever
 * happens (copying the answer out). Meanwhile a perform on the same handle
 * gets nil, "transport", "HandleBusy", and a close is carried out when the
 * perform ends. So no transfer can overwrite or free the buffers another
 * call of the same handle is reading.
 */
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "binding.h"
#include "crypto.h"
#include "http.h"

#define HTTP_MT "fsx.Http"

struct http {
    struct fsx_http *h;
    struct fsx_buf lines;   /* "Name: value" lines, NUL-terminated, one after another */
    const char **line_ptrs; /* pointers into lines */
    size_t line_cap;
    int busy;          /* a perform is between taking h and its last copy */
    int close_pending; /* close() came while busy: done when the perform ends */
};

static void http_release(struct http *p)
{
    fsx_http_free(p->h);
    p->h = NULL;
    fsx_buf_free_secure(&p->lines);
    free(p->line_ptrs);
    p->line_ptrs = NULL;
    p->line_cap = 0;
    p->close_pending = 0;
}

/* close(), __gc and __close share this; idempotent. */
static int http_close(lua_State *L)
{
    struct http *p = (struct http *)luaL_checkudata(L, 1, HTTP_MT);
    if (p->busy)
        p->close_pending = 1;
    else
        http_release(p);
    return 0;
}

/* core.http_new() -> handle */
static int core_http_new(lua_State *L)
{
    struct fsx_error err;
    struct http *p = (struct http *)fsx_newuserdata(L, sizeof(*p)); /* ud */
    memset(p, 0, sizeof(*p));
    fsx_buf_init_secret(&p->lines); /* they hold the Authorization and token lines */
    luaL_getmetatable(L, HTTP_MT);
    lua_setmetatable(L, -2);
    fsx_error_clear(&err);
    p->h = fsx_http_new(&err);
    if (p->h == NULL)
        return fsx_lua_failure(L, &err);
    return 1;
}

/*
 * Seconds to milliseconds for libcurl, capped at 30 days and at LONG_MAX (a
 * 32-bit long holds about 24.8 days of milliseconds).
 */
static long seconds_to_ms(double s)
{
    double ms = ceil(s * 1000.0);
    if (ms > 86400000.0 * 30)
        ms = 86400000.0 * 30;
    if (ms > (double)LONG_MAX)
        return LONG_MAX;
    return (long)ms;
}

static const char *const http_cstring_fields[] = {"method", "url", "ca_file", NULL};

/*
 * Copy the "Name: value" lines of the headers array at index hidx (or nil)
 * into p->lines and point p->line_ptrs at them; runs no Lua (raw reads, C
 * memory) but to raise on an entry that is not a pair of strings. Returns
 * 0, or -1 with a message in *bad (nothing of a value in it). The lines
 * built so far are wiped on every failure.
 */
static int build_lines(lua_State *L, int hidx, struct http *p, size_t *count, const char **bad)
{
    size_t i, n, off;
    *count = 0;
    fsx_buf_reset(&p->lines);
    if (lua_isnil(L, hidx))
        return 0;
    n = fsx_rawlen(L, hidx);
    if (n > p->line_cap) {
        const char **q = (const char **)realloc((void *)p->line_ptrs, n * sizeof(*q));
        if (q == NULL) {
            *bad = "out of memory";
            return -1;
        }
        p->line_ptrs = q;
        p->line_cap = n;
    }
    for (i = 0; i < n; i++) {
        const char *name = NULL, *value = NULL;
        size_t nl = 0, vl = 0;
        lua_rawgeti(L, hidx, (int)i + 1); /* ... pair */
        if (lua_istable(L, -1)) {
            lua_rawgeti(L, -1, 1);
            lua_rawgeti(L, -2, 2); /* ... pair name value */
            if (lua_type(L, -2) == LUA_TSTRING && lua_type(L, -1) == LUA_TSTRING) {
                name = lua_tolstring(L, -2, &nl);
                value = lua_tolstring(L, -1, &vl);
            }
            lua_pop(L, 2);
        }
        lua_pop(L, 1); /* ... (the pair table still holds name and value) */
        if (name == NULL) {
            fsx_wipe(p->lines.data, p->lines.len);
            fsx_buf_reset(&p->lines);
            return luaL_error(L, "headers[%d] must be a {name, value} pair of strings", (int)i + 1);
        }
        if (fsx_http_check_header(name, nl, value, vl) != 0) {
            *bad = "header name is not a token, or its value holds CR, LF or NUL";
            goto fail;
        }
        if (fsx_buf_append(&p->lines, name, nl) || fsx_buf_append(&p->lines, ": ", 2) ||
            fsx_buf_append(&p->lines, value, vl) || fsx_buf_append_char(&p->lines, '\0')) {
            *bad = "out of memory";
            goto fail;
        }
    }
    /* point at each line only now: appends may have moved the buffer */
    for (i = 0, off = 0; i < n; i++) {
        p->line_ptrs[i] = p->lines.data + off;
        off += strlen(p->lines.data + off) + 1;
    }
    *count = n;
    return 0;
fail:
    /* the lines built so far may hold the Authorization header */
    fsx_wipe(p->lines.data, p->lines.len);
    fsx_buf_reset(&p->lines);
    return -1;
}

/*
 * The response headers as a map, pushed: names in lowercase, the values of a
 * repeated name joined with ", " in the order they came (RFC 9110, 5.3).
 */
static void push_header_map(lua_State *L, const struct fsx_http_response *resp)
{
    luaL_Buffer b;
    size_t i, j;

    lua_createtable(L, 0, (int)resp->n_headers); /* map */
    for (i = 0; i < resp->n_headers; i++) {
        const struct fsx_http_header *h = &resp->headers[i];
        const char *name = fsx_http_header_name(resp, i), *value = fsx_http_header_value(resp, i);
        luaL_buffinit(L, &b);
        for (j = 0; j < h->name_len; j++) {
            unsigned char c = (unsigned char)name[j];
            luaL_addchar(&b, (char)((c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c));
        }
        luaL_pushresult(&b); /* map name */
        lua_pushvalue(L, -1);
        lua_rawget(L, -3); /* map name old */
        if (lua_type(L, -1) == LUA_TSTRING) {
            lua_pushliteral(L, ", ");
            lua_pushlstring(L, value, h->value_len);
            lua_concat(L, 3); /* map name "old, value" */
        } else {
            lua_pop(L, 1);
            lua_pushlstring(L, value, h->value_len); /* map name value */
        }
        lua_rawset(L, -3); /* map */
    }
}

/*
 * Protected part of h:perform: push status, headers, body, new_connections
 * from the busy handle at index 1 (its answer cannot change meanwhile).
 */
static int push_answer(lua_State *L)
{
    struct http *p = (struct http *)lua_touserdata(L, 1);
    const struct fsx_http_response *r = fsx_http_response_of(p->h);
    lua_pushinteger(L, (lua_Integer)r->status);
    push_header_map(L, r);
    lua_pushlstring(L, fsx_buf_cstr(&r->body), r->body.len);
    lua_pushinteger(L, (lua_Integer)r->new_connections);
    return 4;
}

/* h:perform(req) -> status, headers, body, new_connections | nil, kind, code, message */
static int http_perform(lua_State *L)
{
    struct http *p;
    struct fsx_http_request req;
    const struct fsx_http_response *resp = NULL;
    struct fsx_error err;
    const char *bad = NULL;
    size_t n_lines = 0;
    int rc, hidx;

    p = (struct http *)luaL_checkudata(L, 1, HTTP_MT);
    luaL_checktype(L, 2, LUA_TTABLE);
    lua_settop(L, 2);
    if ((bad = fsx_lua_nul_field(L, 2, http_cstring_fields)) != NULL)
        return fsx_lua_field_error(L, bad, "holds a NUL byte");
    /* every string read stays on the stack: a finalizer that changes req
     * cannot free one while it is used */
    memset(&req, 0, sizeof(req));
    req.method = fsx_lua_string(L, 2, "method", NULL);
    req.url = fsx_lua_string(L, 2, "url", NULL);
    req.body = fsx_lua_opt_string(L, 2, "body", &req.body_len);
    req.ca_file = fsx_lua_opt_string(L, 2, "ca_file", NULL);
    req.insecure = fsx_lua_bool(L, 2, "insecure", 0);
    req.no_proxy = fsx_lua_bool(L, 2, "no_proxy", 0);
    req.connect_timeout_ms = seconds_to_ms(fsx_lua_number(L, 2, "connect_timeout", 0));
    req.timeout_ms = seconds_to_ms(fsx_lua_number(L, 2, "timeout", 0));
    req.max_body = fsx_lua_size(L, 2, "max_body");
    req.max_header_bytes = fsx_lua_size(L, 2, "max_header_bytes");
    if (fsx_lua_raw_field(L, 2, "headers") != LUA_TNIL && !lua_istable(L, -1))
        return luaL_error(L, "field 'headers' must be an array of {name, value}");
    hidx = lua_gettop(L); /* h req method url [body] [ca_file] headers */

    /* from here to the protected copy nothing runs Lua */
    if (p->h == NULL)
        return luaL_error(L, "attempt to use a closed fsx http handle");
    if (p->busy)
        return fsx_lua_validation(L, "HandleBusy",
                                  "the http handle is in use by another perform (a __gc "
                                  "finalizer sends on it?)");
    if (build_lines(L, hidx, p, &n_lines, &bad) != 0)
        return fsx_lua_validation(L, "InvalidHeader", bad);
    req.headers = p->line_ptrs;
    req.n_headers = n_lines;
    fsx_error_clear(&err);
    rc = fsx_http_perform(p->h, &req, &resp, &err);
    /* the lines held the Authorization header: wipe them now */
    fsx_wipe(p->lines.data, p->lines.len);
    fsx_buf_reset(&p->lines);
    if (rc != 0)
        return fsx_lua_failure(L, &err);

    p->busy = 1;
    lua_settop(L, 1);
    lua_pushcfunction(L, push_answer); /* h f */
    lua_pushvalue(L, 1);               /* h f h */
    rc = lua_pcall(L, 1, 4, 0);        /* h status headers body conns | h msg */
    p->busy = 0;
    if (p->close_pending)
        http_release(p);
    if (rc != 0)
        return lua_error(L);
    return 4;
}

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

/* Add http_new to the table at the top. */
void fsx_lua_open_http(lua_State *L)
{
    luaL_checkstack(L, 4, "fsx.core");
    luaL_newmetatable(L, HTTP_MT); /* M mt */
    luaL_setfuncs(L, http_meta, 0);
    luaL_newlib(L, http_methods);   /* M mt methods */
    lua_setfield(L, -2, "__index"); /* M mt */
    lua_pop(L, 1);                  /* M */
    lua_pushcfunction(L, core_http_new);
    lua_setfield(L, -2, "http_new");
}
