/*
 * lua_sign.c - core.sign, core.key_derivations and LuaJIT's FFI entry
 * (binding layer, module `fsx.core`).
 *
 * One signer per Lua state holds the derived-key cache. A signature is made
 * into a sign state (the result buffers and the scratch header array), a
 * userdata of its own: core.sign takes the state its closure keeps as an
 * upvalue and leaves `false` there until it puts the state back after its
 * last read. A second signature that starts meanwhile (a __gc finalizer run
 * by one of the first one's allocations) finds no state and makes its own,
 * so no call can overwrite the buffers another call is copying from. The FFI
 * side (lua/fsx/sigv4_ffi.lua) keeps one state per nesting depth for the
 * same reason. The cache is only touched inside the C signing call, which
 * runs no Lua.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "binding.h"
#include "sign_call.h"
#include "sigv4.h"

#if defined(__has_include)
#if __has_include("luajit.h")
#include "luajit.h"
#endif
#endif

#define SIGNER_MT "fsx.Signer"
#define SIGN_STATE_MT "fsx.SignState"

struct signer {
    struct fsx_sigv4_cache *cache;
};

struct sign_state {
    struct fsx_sigv4_result result;
    struct fsx_sigv4_header *headers; /* scratch array, grown as needed */
    size_t headers_cap;
};

static int signer_gc(lua_State *L)
{
    struct signer *s = (struct signer *)luaL_checkudata(L, 1, SIGNER_MT);
    fsx_sigv4_cache_free(s->cache);
    s->cache = NULL;
    return 0;
}

/* Free what a state holds (wiped: the result may hold the session token); it stays usable. */
static void state_release(struct sign_state *st)
{
    fsx_sigv4_result_free(&st->result);
    free(st->headers);
    st->headers = NULL;
    st->headers_cap = 0;
}

static int sign_state_gc(lua_State *L)
{
    state_release((struct sign_state *)luaL_checkudata(L, 1, SIGN_STATE_MT));
    return 0;
}

/* A new, empty sign state, pushed. */
static struct sign_state *new_state(lua_State *L)
{
    struct sign_state *st = (struct sign_state *)fsx_newuserdata(L, sizeof(*st)); /* st */
    memset(st, 0, sizeof(*st));
    fsx_sigv4_result_init(&st->result);
    luaL_getmetatable(L, SIGN_STATE_MT);
    lua_setmetatable(L, -2);
    return st;
}

static struct signer *signer_upvalue(lua_State *L)
{
    return (struct signer *)luaL_checkudata(L, lua_upvalueindex(1), SIGNER_MT);
}

/*
 * The keys core.sign reads and writes, interned once at load time and kept
 * as upvalues of core.sign (upvalue 1 is the signer, 2 the spare sign
 * state): pushing an upvalue and a raw get is all a field costs. The
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

#define SPARE_INDEX lua_upvalueindex(2)
#define KEY_INDEX(k) lua_upvalueindex(3 + (int)(k))

static const char *const sign_extra_keys[K_COUNT - FSX_SIGN_SLOTS] = {
    "headers",           "authorization",  "signature",
    "canonical_request", "string_to_sign", "signed_headers",
};

static const char *sign_key_name(int k)
{
    return k < FSX_SIGN_SLOTS ? fsx_sign_slot_names[k] : sign_extra_keys[k - FSX_SIGN_SLOTS];
}

/*
 * Read req.headers (the array at index hidx, or nil: none) into the state's
 * scratch array; n gets the count. The strings stay referenced by their
 * pair tables, held by the array, itself on the stack. Returns 0, or the
 * number of values pushed for an error (nil, kind, code, message, field).
 */
static int read_sign_headers(lua_State *L, int hidx, struct sign_state *st, size_t *count)
{
    size_t i, n, entries = 0;
    *count = 0;
    if (lua_isnil(L, hidx))
        return 0;
    if (!lua_istable(L, hidx))
        return fsx_lua_field_error(L, "headers", "must be a table of {name, value} pairs");
    n = fsx_rawlen(L, hidx);
    lua_pushnil(L);
    while (lua_next(L, hidx) != 0) { /* ... k v */
        lua_pop(L, 1);
        entries++;
    }
    if (entries != n)
        return fsx_lua_field_error(L, "headers",
                                   "must be an array of {name, value} pairs "
                                   "(it mixes pairs with named keys, or has holes)");
    if (n > st->headers_cap) {
        struct fsx_sigv4_header *p =
            (struct fsx_sigv4_header *)realloc(st->headers, n * sizeof(*p));
        if (p == NULL)
            return luaL_error(L, "out of memory");
        st->headers = p;
        st->headers_cap = n;
    }
    for (i = 0; i < n; i++) {
        struct fsx_sigv4_header *h = &st->headers[i];
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
            return fsx_lua_field_error(L, field, "must be a {name, value} pair of strings");
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
 * The call's state at index sidx is done with: it becomes the closure's
 * spare again, unless a nested call left its own there meanwhile; then its
 * buffers go at once rather than with the userdata's collection (the
 * collector does not see their size).
 */
static void put_back(lua_State *L, int sidx)
{
    if (lua_touserdata(L, SPARE_INDEX) == NULL) {
        lua_pushvalue(L, sidx);
        lua_replace(L, SPARE_INDEX);
    } else {
        state_release((struct sign_state *)lua_touserdata(L, sidx));
    }
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
    struct sign_state *st;
    struct fsx_sign_call c;
    struct fsx_sigv4_request req;
    size_t i, n;
    int k, hidx, aidx;

    luaL_checktype(L, 1, LUA_TTABLE);
    lua_settop(L, 1);
    luaL_checkstack(L, FSX_SIGN_SLOTS + 16, "core.sign");
    lua_pushvalue(L, SPARE_INDEX); /* req spare|false */
    st = (struct sign_state *)lua_touserdata(L, 2);
    if (st == NULL) {
        /* another signature holds the spare: this one gets its own */
        lua_pop(L, 1);
        st = new_state(L); /* req st */
    } else {
        lua_pushboolean(L, 0);
        lua_replace(L, SPARE_INDEX); /* taken until put_back */
    }
    memset(&c, 0, sizeof(c));
    for (k = 0; k < FSX_SIGN_SLOTS; k++) {
        lua_pushvalue(L, KEY_INDEX(k));
        lua_rawget(L, 1); /* req st values... (stack index k + 3) */
        read_sign_value(L, &c.v[k]);
    }
    lua_pushvalue(L, KEY_INDEX(K_HEADERS));
    lua_rawget(L, 1); /* req st values... headers */
    hidx = lua_gettop(L);
    if (fsx_sign_call_check(&c, &req) != 0) {
        put_back(L, 2);
        return fsx_lua_field_error(L, c.field, c.what);
    }
    if ((k = read_sign_headers(L, hidx, st, &n)) != 0) {
        put_back(L, 2);
        return k;
    }
    req.n_headers = n;
    req.headers = st->headers;
    if (fsx_sign_call_sign(&c, &req, s->cache, &st->result) != 0) {
        put_back(L, 2);
        return fsx_lua_failure(L, &c.err);
    }

    /* the views point into st (ours alone until put_back) and into the
     * request's strings, which the stack holds */
    lua_pushlstring(L, c.out[FSX_SIGN_OUT_AUTHORIZATION], c.out_len[FSX_SIGN_OUT_AUTHORIZATION]);
    aidx = lua_gettop(L);     /* req st values... headers auth */
    lua_createtable(L, 0, 9); /* req st values... headers auth res */
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
    lua_createtable(L, 2, 0); /* ... list pair */
    lua_pushliteral(L, "Authorization");
    lua_rawseti(L, -2, 1);
    lua_pushvalue(L, aidx);
    lua_rawseti(L, -2, 2);
    lua_rawseti(L, -2, (int)(n + c.n_added) + 1); /* ... res "headers" list */
    lua_rawset(L, -3);                            /* req st values... headers auth res */
    put_back(L, 2);
    return 1;
}

/* core.key_derivations() -> number of signing keys derived so far */
static int core_key_derivations(lua_State *L)
{
    struct signer *s = signer_upvalue(L);
    lua_pushnumber(L, (lua_Number)fsx_sigv4_cache_derivations(s->cache));
    return 1;
}

#if defined(LUAJIT_VERSION)
/*
 * LuaJIT's FFI way into the same work (lua/fsx/sigv4_ffi.lua): it fills a
 * struct fsx_sign_call from the request table itself and calls
 * sign_ffi_entry.sign(signer, state, call) through the FFI, which signs with
 * this Lua state's cache into the sign state it passes (one per nesting
 * depth), as core.sign does. No Lua API is used on that path.
 */
struct sign_ffi_entry {
    /* cppcheck-suppress unusedStructMember ; called from Lua, through the FFI */
    int (*sign)(void *signer, void *state, struct fsx_sign_call *c);
};

static int sign_ffi(void *signer, void *state, struct fsx_sign_call *c)
{
    struct signer *s = (struct signer *)signer;
    struct sign_state *st = (struct sign_state *)state;
    return fsx_sign_call_run(c, s->cache, &st->result);
}

static struct sign_ffi_entry sign_ffi_entry = {sign_ffi}; /* never written */

/* new_state() -> a sign state userdata, for one nesting depth of the FFI side */
static int sign_ffi_new_state(lua_State *L)
{
    new_state(L);
    return 1;
}

/*
 * core.sign_ffi() -> entry, signer, sizeof(struct fsx_sign_call),
 * offsetof(struct fsx_sign_call, n_added), new_state: two light userdata for
 * ffi.cast, the numbers the Lua side checks its ffi.cdef against, and the
 * function that makes the sign states (userdata: the FFI passes their
 * payload as a void *). Registered under LuaJIT only: elsewhere no FFI can
 * use the raw pointers.
 */
static int core_sign_ffi(lua_State *L)
{
    struct signer *s = signer_upvalue(L);
    lua_pushlightuserdata(L, &sign_ffi_entry);
    lua_pushlightuserdata(L, s);
    lua_pushinteger(L, (lua_Integer)sizeof(struct fsx_sign_call));
    lua_pushinteger(L, (lua_Integer)offsetof(struct fsx_sign_call, n_added));
    lua_pushcfunction(L, sign_ffi_new_state);
    return 5;
}
#endif

static const luaL_Reg signer_meta[] = {
    {"__gc", signer_gc},
    {NULL, NULL},
};

static const luaL_Reg sign_state_meta[] = {
    {"__gc", sign_state_gc},
    {NULL, NULL},
};

/* Add sign, key_derivations (and sign_ffi under LuaJIT) to the table at the top. */
void fsx_lua_open_sign(lua_State *L)
{
    struct signer *s;
    int k;

    luaL_checkstack(L, K_COUNT + 8, "fsx.core");
    luaL_newmetatable(L, SIGNER_MT); /* M mt */
    luaL_setfuncs(L, signer_meta, 0);
    lua_pop(L, 1);
    luaL_newmetatable(L, SIGN_STATE_MT); /* M mt */
    luaL_setfuncs(L, sign_state_meta, 0);
    lua_pop(L, 1); /* M */

    s = (struct signer *)fsx_newuserdata(L, sizeof(*s)); /* M signer */
    memset(s, 0, sizeof(*s));
    luaL_getmetatable(L, SIGNER_MT);
    lua_setmetatable(L, -2);
    s->cache = fsx_sigv4_cache_new();
    if (s->cache == NULL)
        luaL_error(L, "fsx.core: out of memory");

    lua_pushvalue(L, -1);                         /* M signer signer */
    lua_pushcclosure(L, core_key_derivations, 1); /* M signer f */
    lua_setfield(L, -3, "key_derivations");       /* M signer */
#if defined(LUAJIT_VERSION)
    lua_pushvalue(L, -1);
    lua_pushcclosure(L, core_sign_ffi, 1);
    lua_setfield(L, -3, "sign_ffi");
#endif
    new_state(L); /* M signer spare */
    for (k = 0; k < K_COUNT; k++)
        lua_pushstring(L, sign_key_name(k));     /* M signer spare keys... */
    lua_pushcclosure(L, core_sign, 2 + K_COUNT); /* M sign */
    lua_setfield(L, -2, "sign");                 /* M */
}
