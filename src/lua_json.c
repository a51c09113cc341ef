/*
 * lua_json.c - the JSON writer of fsx.json: core.json_writer (binding layer,
 * module `fsx.core`).
 *
 * One walk writes both texts of lua/fsx/json.lua (whose header gives the
 * rules): compact for the wire and indented for people. An object's keys
 * come in a fixed order, so the same value always gives the same bytes: the
 * keys its order list names first, in that order, then the others sorted
 * byte-wise by their text. On the wire, strings and numbers come out byte for
 * byte as lua-cjson 2.1.0 writes them with encode_number_precision 14, the
 * text the service has always been sent.
 *
 * A call's memory (the text, the keys being sorted) is Lua's: userdata
 * without finalizers on the call's stack, replaced by a larger copy as they
 * grow. Whatever unwinds the call (a Lua error: out of memory), the collector
 * takes them, and nothing of the module runs after the call: a finalizer that
 * encodes, even while the state closes and C modules are unloaded, leaves
 * nothing to free. A call made from inside another (a __gc finalizer that
 * encodes) shares nothing with it. A
 * value JSON cannot hold comes back as nil and a message. Tables are read
 * with raw accesses only, so no metamethod of the caller's runs, and the
 * keys being sorted are kept in a Lua table of the call's: a finalizer that
 * changes the table being written cannot free a key's bytes while the sort
 * holds them.
 */
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "binding.h"

#define JSON_MAX_DEPTH 200
/* room for "%.14g" of any double: sign, 14 digits, point, "e-308", NUL */
#define JSON_NUMBER_MAX 32

/* the writer's upvalues: core.json_writer's arguments */
#define ORDERS lua_upvalueindex(1)
#define EMPTY_ARRAY lua_upvalueindex(2)
#define JSON_NULL lua_upvalueindex(3)
/* the writer's stack: v indent out keybuf keys */
#define SLOT_OUT 3    /* the text's userdata */
#define SLOT_KEYBUF 4 /* the key stack's userdata (nil until needed) */
#define SLOT_KEYS 5   /* the keys being sorted, by slot (a table; nil until needed) */
/* the text's first size */
#define JSON_OUT_FIRST 256

/* An object's key in the sort: a string key's bytes, or a number key's text. */
struct json_key {
    const char *str; /* a string key's bytes (anchored in SLOT_KEYS), NULL for a number */
    size_t len;
    double num;                 /* a number key's value (ties of text are sorted by it) */
    char text[JSON_NUMBER_MAX]; /* a number key's text */
    int slot;                   /* the key's index in the SLOT_KEYS table */
};

struct writer {
    lua_State *L;
    char *out; /* the text so far: len bytes of cap, at SLOT_OUT */
    size_t len, cap;
    struct json_key *keys; /* a stack: each object being sorted holds a run at its top */
    size_t nkeys, kcap;    /* at SLOT_KEYBUF */
    const char *indent;    /* the unit of indentation for people; NULL on the wire */
    size_t indent_len;
    const char *err;
    char errbuf[64];
};

static int write_value(struct writer *w, int idx, int depth);

static int fail(struct writer *w, const char *message)
{
    w->err = message;
    return -1;
}

static int fail_memory(struct writer *w)
{
    return fail(w, "not enough memory");
}

/*
 * Room for n more bytes of text: a larger userdata replaces the text's at
 * SLOT_OUT when it lacks them (the old one is left to the collector).
 */
static int reserve(struct writer *w, size_t n)
{
    size_t cap = w->cap;
    char *p;

    if (n <= cap - w->len)
        return 0;
    if (n > SIZE_MAX / 2 - w->len)
        return fail_memory(w);
    while (cap - w->len < n)
        cap = cap * 2;
    p = (char *)fsx_newuserdata(w->L, cap); /* ... out */
    memcpy(p, w->out, w->len);
    lua_replace(w->L, SLOT_OUT); /* ... */
    w->out = p;
    w->cap = cap;
    return 0;
}

/* "cannot serialise a <type><what>" */
static int fail_type(struct writer *w, int type, const char *what)
{
    (void)snprintf(w->errbuf, sizeof(w->errbuf), "cannot serialise a %s%s",
                   lua_typename(w->L, type), what);
    return fail(w, w->errbuf);
}

static int append(struct writer *w, const char *s, size_t len)
{
    if (reserve(w, len) != 0)
        return -1;
    memcpy(w->out + w->len, s, len);
    w->len += len;
    return 0;
}

static int append_char(struct writer *w, char c)
{
    return append(w, &c, 1);
}

/* For people, a new line indented for depth; nothing on the wire. */
static int newline(struct writer *w, int depth)
{
    int i;
    if (w->indent == NULL)
        return 0;
    if (append_char(w, '\n') != 0)
        return -1;
    for (i = 0; i < depth; i++) {
        if (append(w, w->indent, w->indent_len) != 0)
            return -1;
    }
    return 0;
}

/*
 * How lua-cjson 2.1.0 writes each byte of a string: 0 as itself, 'u' as
 * \u00XX, any other as a backslash and that character; a C2 ('c') goes as
 * it is, as every byte from 0x80 does. For people, `/` stays plain and a C2
 * that starts a C1 control is written with the byte after it as
 * \u0080..\u009f (escape_in_mode).
 */
static const char json_escape[256] = {
    'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'b', 't', 'n', 'u', 'f',  'r', 'u', 'u', /* 0x00 */
    'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u',  'u', 'u', 'u', /* 0x10 */
    0,   0,   '"', 0,   0,   0,   0,   0,   0,   0,   0,   0,   0,    0,   0,   '/', /* 0x20 */
    0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,    0,   0,   0,   /* 0x30 */
    0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,    0,   0,   0,   /* 0x40 */
    0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   '\\', 0,   0,   0,   /* 0x50 */
    0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,    0,   0,   0,   /* 0x60 */
    0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,    0,   0,   'u', /* 0x70 */
    0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,    0,   0,   0,   /* 0x80 */
    0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,    0,   0,   0,   /* 0x90 */
    0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,    0,   0,   0,   /* 0xa0 */
    0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,    0,   0,   0,   /* 0xb0 */
    0,   0,   'c', 0,   0,   0,   0,   0,   0,   0,   0,   0,   0,    0,   0,   0,   /* 0xc0 */
    0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,    0,   0,   0,   /* 0xd0 */
    0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,    0,   0,   0,   /* 0xe0 */
    0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,    0,   0,   0,   /* 0xf0 */
};

/* 1 for the second byte of a C1 control's UTF-8 (C2 80..C2 9F) */
static int is_c1_second(int c)
{
    return c >= 0x80 && c <= 0x9f;
}

/*
 * The escape of a byte whose json_escape entry is e (not 0), given the mode
 * and the byte after it (-1 at the end): 0 for none, 'C' for a C2 written
 * with its C1 byte.
 */
static char escape_in_mode(char e, int people, int next)
{
    if (e == 'c')
        return people && is_c1_second(next) ? 'C' : 0;
    if (e == '/' && people)
        return 0;
    return e;
}

static char *put_u00(char *p, unsigned char c)
{
    static const char hex[] = "0123456789abcdef";
    p[0] = '\\';
    p[1] = 'u';
    p[2] = '0';
    p[3] = '0';
    p[4] = hex[c >> 4];
    p[5] = hex[c & 15];
    return p + 6;
}

/* A string as JSON: on the wire as lua-cjson writes it, for people with the escapes above. */
static int write_string(struct writer *w, const char *s, size_t len)
{
    int people = w->indent != NULL;
    size_t i;
    char *p;

    /* the longest text: every byte as \u00XX, in quotes */
    if (len > (SIZE_MAX - 3) / 6)
        return fail_memory(w);
    if (reserve(w, len * 6 + 2) != 0)
        return -1;
    p = w->out + w->len;
    *p++ = '"';
    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        char e = json_escape[c];
        if (e != 0)
            e = escape_in_mode(e, people, i + 1 < len ? (unsigned char)s[i + 1] : -1);
        if (e == 0) {
            *p++ = (char)c;
        } else if (e == 'u') {
            p = put_u00(p, c);
        } else if (e == 'C') {
            p = put_u00(p, (unsigned char)s[++i]);
        } else {
            *p++ = '\\';
            *p++ = e;
        }
    }
    *p++ = '"';
    w->len = (size_t)(p - w->out);
    return 0;
}

/*
 * The text of a finite v as lua-cjson writes it: "%.14g", with a '.' for
 * the decimal point whatever the locale's is. Returns its length.
 */
static size_t number_text(char *out, double v)
{
    int n = snprintf(out, JSON_NUMBER_MAX, "%.14g", v);
    int i;
    for (i = 0; i < n; i++) {
        char c = out[i];
        if (!(c >= '0' && c <= '9') && c != '-' && c != '+' && c != 'e')
            out[i] = '.';
    }
    return (size_t)n;
}

static int is_finite(double v)
{
    return v == v && v != HUGE_VAL && v != -HUGE_VAL;
}

/*
 * A number. On the wire a non-finite one is an error (as in lua-cjson); for
 * people it is `null`, and an integral one below 2^53 is written in full.
 */
static int write_number(struct writer *w, double v)
{
    char text[JSON_NUMBER_MAX];
    size_t n;

    if (!is_finite(v)) {
        if (w->indent == NULL)
            return fail(w, "cannot serialise a number: must not be NaN or Inf");
        return append(w, "null", 4);
    }
    if (w->indent != NULL && v == floor(v) && v > -9007199254740992.0 && v < 9007199254740992.0)
        n = (size_t)snprintf(text, sizeof(text), "%lld", (long long)v);
    else
        n = number_text(text, v);
    return append(w, text, n);
}

/* `"key":` on the wire, `"key": ` for people: the key at idx, a string or a number. */
static int write_key(struct writer *w, int idx)
{
    size_t len;
    const char *s;
    char text[JSON_NUMBER_MAX];
    int type = lua_type(w->L, idx);

    if (type == LUA_TSTRING) {
        s = lua_tolstring(w->L, idx, &len);
    } else if (type == LUA_TNUMBER) {
        double v = (double)lua_tonumber(w->L, idx);
        if (!is_finite(v))
            return fail(w, "cannot serialise a number: must not be NaN or Inf");
        len = number_text(text, v);
        s = text;
    } else {
        return fail_type(w, type, " key");
    }
    if (write_string(w, s, len) != 0)
        return -1;
    return w->indent != NULL ? append(w, ": ", 2) : append_char(w, ':');
}

/* The separator before an object's member: `,` but before the first, then the new line. */
static int member_start(struct writer *w, int *first, int depth)
{
    if (!*first && append_char(w, ',') != 0)
        return -1;
    *first = 0;
    return newline(w, depth);
}

/* NOLINTBEGIN(misc-no-recursion): the walk recurses once per level of nesting, at
 * most JSON_MAX_DEPTH levels deep */
static int write_array(struct writer *w, int t, size_t len, int depth)
{
    lua_State *L = w->L;
    size_t i;
    int rc;

    if (append_char(w, '[') != 0 || newline(w, depth) != 0)
        return -1;
    for (i = 1; i <= len; i++) {
        if (i > 1 && (append_char(w, ',') != 0 || newline(w, depth) != 0))
            return -1;
        lua_rawgeti(L, t, (int)i); /* ... item */
        rc = write_value(w, lua_gettop(L), depth);
        lua_pop(L, 1); /* ... */
        if (rc != 0)
            return -1;
    }
    if (newline(w, depth - 1) != 0)
        return -1;
    return append_char(w, ']');
}

static int compare_keys(const void *pa, const void *pb)
{
    const struct json_key *a = (const struct json_key *)pa, *b = (const struct json_key *)pb;
    size_t n = a->len < b->len ? a->len : b->len;
    int c = memcmp(a->str ? a->str : a->text, b->str ? b->str : b->text, n);

    if (c != 0)
        return c;
    if (a->len != b->len)
        return a->len < b->len ? -1 : 1;
    /* the same text: a string key before a number key, numbers by value */
    if ((a->str == NULL) != (b->str == NULL))
        return a->str != NULL ? -1 : 1;
    return (a->num > b->num) - (a->num < b->num);
}

/* 1 when the key at the top is one of the first n names of the order list at list. */
static int is_listed(lua_State *L, int list, size_t n)
{
    size_t i;
    int found = 0;

    for (i = 1; i <= n && !found; i++) {
        lua_rawgeti(L, list, (int)i); /* ... key name */
        found = lua_rawequal(L, -1, -2);
        lua_pop(L, 1); /* ... key */
    }
    return found;
}

/* Put the key at the top on the state's key stack, anchored in SLOT_KEYS. */
static int push_key(struct writer *w)
{
    lua_State *L = w->L;
    struct json_key *k;
    int type = lua_type(L, -1);

    if (type != LUA_TSTRING && type != LUA_TNUMBER)
        return fail_type(w, type, " key");
    if (w->nkeys == w->kcap) {
        /* a larger userdata replaces the key stack's (the old one is left to the collector) */
        size_t cap = w->kcap ? w->kcap * 2 : 16;
        struct json_key *keys;
        /* slots are ints, and cap * sizeof cannot wrap */
        if (cap > (size_t)INT_MAX / sizeof(*keys))
            return fail_memory(w);
        keys = (struct json_key *)fsx_newuserdata(L, cap * sizeof(*keys)); /* ... key buf */
        if (w->nkeys > 0)
            memcpy(keys, w->keys, w->nkeys * sizeof(*keys));
        lua_replace(L, SLOT_KEYBUF); /* ... key */
        w->keys = keys;
        w->kcap = cap;
    }
    k = &w->keys[w->nkeys];
    k->slot = (int)w->nkeys + 1;
    lua_pushvalue(L, -1);               /* ... key key */
    lua_rawseti(L, SLOT_KEYS, k->slot); /* ... key */
    if (type == LUA_TSTRING) {
        k->str = lua_tolstring(L, -1, &k->len);
        k->num = 0;
    } else {
        k->num = (double)lua_tonumber(L, -1);
        if (!is_finite(k->num))
            return fail(w, "cannot serialise a number: must not be NaN or Inf");
        k->str = NULL;
        k->len = number_text(k->text, k->num);
    }
    w->nkeys++;
    return 0;
}

/*
 * The members of the object t whose keys the order list at list (its first
 * listed names; list is nil when t has none) does not name, sorted by their
 * keys' text.
 */
static int write_rest(struct writer *w, int t, int list, size_t listed, int *first, int depth)
{
    lua_State *L = w->L;
    size_t base = w->nkeys, i, n;

    if (lua_isnil(L, SLOT_KEYS)) {
        lua_newtable(L);
        lua_replace(L, SLOT_KEYS);
    }
    lua_pushnil(L);               /* ... nil */
    while (lua_next(L, t) != 0) { /* ... key value */
        lua_pop(L, 1);            /* ... key */
        if (!is_listed(L, list, listed) && push_key(w) != 0)
            return -1;
    }
    n = w->nkeys - base;
    qsort(w->keys + base, n, sizeof(*w->keys), compare_keys);
    for (i = 0; i < n; i++) {
        int rc;
        lua_rawgeti(L, SLOT_KEYS, w->keys[base + i].slot); /* ... key */
        lua_pushvalue(L, -1);
        lua_rawget(L, t); /* ... key value */
        if (member_start(w, first, depth) != 0 || write_key(w, -2) != 0)
            return -1;
        rc = write_value(w, lua_gettop(L), depth);
        lua_pop(L, 2); /* ... */
        if (rc != 0)
            return -1;
    }
    w->nkeys = base;
    return 0;
}

/* The object t, of count keys: the keys orders[t] names first, then the rest sorted. */
static int write_object(struct writer *w, int t, size_t count, int depth)
{
    lua_State *L = w->L;
    size_t done = 0, listed = 0, i;
    int first = 1, list;

    if (count == 0)
        return append(w, "{}", 2);
    if (append_char(w, '{') != 0)
        return -1;
    lua_pushvalue(L, t);
    lua_rawget(L, ORDERS); /* ... list|nil */
    list = lua_gettop(L);
    if (lua_istable(L, list))
        listed = fsx_rawlen(L, list);
    for (i = 1; i <= listed; i++) {
        int rc = 0;
        lua_rawgeti(L, list, (int)i); /* ... list key */
        lua_pushvalue(L, -1);
        lua_rawget(L, t); /* ... list key value */
        if (!lua_isnil(L, -1)) {
            if (member_start(w, &first, depth) != 0 || write_key(w, -2) != 0)
                return -1;
            rc = write_value(w, lua_gettop(L), depth);
            done++;
        }
        lua_pop(L, 2); /* ... list */
        if (rc != 0)
            return -1;
    }
    if (done < count && write_rest(w, t, list, listed, &first, depth) != 0)
        return -1;
    lua_pop(L, 1); /* ... */
    if (newline(w, depth - 1) != 0)
        return -1;
    return append_char(w, '}');
}

/* A table: an array when its key count is its length (> 0), otherwise an object. */
static int write_table(struct writer *w, int t, int depth)
{
    lua_State *L = w->L;
    size_t len, count = 0;

    if (depth >= JSON_MAX_DEPTH)
        return fail(w, "cannot serialise: nesting deeper than 200 (a cycle?)");
    if (!lua_checkstack(L, 8))
        return fail(w, "cannot serialise: out of stack space");
    len = fsx_rawlen(L, t);
    lua_pushnil(L);               /* ... nil */
    while (lua_next(L, t) != 0) { /* ... key value */
        count++;
        lua_pop(L, 1); /* ... key */
    }
    if (count > 0 && count == len)
        return write_array(w, t, len, depth + 1);
    return write_object(w, t, count, depth + 1);
}

static int write_value(struct writer *w, int idx, int depth)
{
    lua_State *L = w->L;
    size_t len;
    const char *s;
    int type = lua_type(L, idx);

    switch (type) {
    case LUA_TSTRING:
        if (lua_rawequal(L, idx, EMPTY_ARRAY))
            return append(w, "[]", 2);
        s = lua_tolstring(L, idx, &len);
        return write_string(w, s, len);
    case LUA_TNUMBER:
        return write_number(w, (double)lua_tonumber(L, idx));
    case LUA_TBOOLEAN:
        return lua_toboolean(L, idx) ? append(w, "true", 4) : append(w, "false", 5);
    case LUA_TTABLE:
        return write_table(w, idx, depth);
    default:
        if (lua_rawequal(L, idx, JSON_NULL))
            return append(w, "null", 4);
        return fail_type(w, type, "");
    }
}

/* NOLINTEND(misc-no-recursion) */

/* write(v[, indent]) -> text, or nil and a message */
static int json_write(lua_State *L)
{
    struct writer w;

    memset(&w, 0, sizeof(w));
    w.L = L;
    w.indent = luaL_optlstring(L, 2, NULL, &w.indent_len);
    lua_settop(L, 2);
    w.cap = JSON_OUT_FIRST;
    w.out = (char *)fsx_newuserdata(L, w.cap); /* v indent out */
    lua_pushnil(L);
    lua_pushnil(L); /* v indent out keybuf keys */
    if (write_value(&w, 1, 0) != 0) {
        lua_pushnil(L);
        lua_pushstring(L, w.err); /* ... nil message */
        return 2;
    }
    lua_pushlstring(L, w.out, w.len); /* ... text */
    return 1;
}

/*
 * core.json_writer(orders, empty_array, null) -> write: orders maps a table
 * to its list of keys to write first; empty_array is the string written
 * `[]`; null the value written `null`.
 */
static int core_json_writer(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    luaL_checktype(L, 2, LUA_TSTRING);
    luaL_checkany(L, 3);
    lua_settop(L, 3);
    lua_pushcclosure(L, json_write, 3); /* write */
    return 1;
}

/* Add json_writer to the table at the top. */
void fsx_lua_open_json(lua_State *L)
{
    luaL_checkstack(L, 1, "fsx.core");
    lua_pushcfunction(L, core_json_writer);
    lua_setfield(L, -2, "json_writer");
}
