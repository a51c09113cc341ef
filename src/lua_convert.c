/*
 * lua_convert.c - core.answer_walker: fsx.output's answer walker in C
 * (binding layer, module `fsx.core`).
 *
 * fsx.output converts a decoded JSON answer into snake_case Lua tables by
 * the plans it builds from the model, checking each value's JSON type (its
 * header gives the rule). This is the same walk over the same plan tables;
 * fsx.output says when it uses which. The plans are read with raw accesses,
 * their field names kept as upvalues, so no lookup makes a string. Two
 * things are left to Lua, called from here: an entry whose plan is not made
 * yet (its `plan` is nil) gets it from fsx.output's entry_plan, and a key
 * the model does not know is renamed by fsx.names.to_snake. Neither yields
 * nor touches the answer, so calling them in the middle of a walk is safe,
 * under OpenResty too.
 *
 * A value that does not have the model's type is not raised here: the walk
 * stops and returns nil, the value, its plan and the length of its path,
 * having written the path into fsx.output's `path` and `map_key` tables on
 * the way out, and fsx.output words the message, the same one for both
 * walkers. Everything the walk makes lives on the Lua stack or in the new
 * tables, so an error raised inside (out of memory, a failing callback)
 * leaves nothing behind.
 */
#include <limits.h>
#include <string.h>

#include "binding.h"

/* Tables nested deeper give nil (fsx.output's MAX_DEPTH). */
#define WALK_MAX_DEPTH 200
/*
 * An output structure is made with room for its plan's member count, up to
 * this many: most answers carry fewer members than the model has.
 */
#define WALK_SIZE_CAP 16
/* Stack slots one table level uses at most, with what walk_value adds. */
#define WALK_LEVEL_SLOTS 12

/* The walker's name in errors: a full stack, a malformed plan. */
#define WALK_STACK "fsx.core: answer walker"

/*
 * The walker's upvalues: core.answer_walker's arguments (fsx.output's
 * helpers and tables), the plan field names, then the name of each Lua
 * type (what a plan's `want` is compared with).
 */
enum walk_up {
    UP_ENTRY_PLAN = 1,
    UP_TO_SNAKE,
    UP_NULL,
    UP_PATH,
    UP_MAP_KEY,
    UP_PLAN,
    UP_TYPE,
    UP_WANT,
    UP_INT,
    UP_MEMBERS,
    UP_ITEM,
    UP_SNAKE,
    UP_SIZE,
    UP_TYPE_NAMES,
    UP_LAST = UP_TYPE_NAMES + LUA_TTHREAD
};

#define UP_FIRST_KEY UP_PLAN
static const char *const walk_keys[] = {"plan",    "type", "want",  "int",
                                        "members", "item", "snake", "size"};

/*
 * The walker call's stack: its arguments, where a refused value is kept,
 * then a copy of each upvalue (the API reaches a stack slot faster than an
 * upvalue).
 */
enum walk_slot { SLOT_PLAN = 1, SLOT_VALUE, SLOT_BAD_VALUE, SLOT_BAD_PLAN, SLOT_BAD_AT };
#define SLOT(up) (SLOT_BAD_AT + (up))

/* The shape types the walk tells apart (a plan's `type`). */
enum walk_kind { KIND_OTHER, KIND_STRUCTURE, KIND_LIST, KIND_MAP, KIND_TIMESTAMP };

/* How a value fits a plan's `want` (the Lua type of the shape's JSON values). */
enum walk_want { WANT_ANY, WANT_FITS, WANT_OTHER };

/* Push t[the name in slot up] (raw); returns its type. t is an absolute index. */
static int plan_field(lua_State *L, int t, int up)
{
    lua_pushvalue(L, SLOT(up));
    return fsx_rawget(L, t); /* ... value */
}

/*
 * Whether plan p's `want` is nil (a timestamp, a document), the Lua type tx,
 * or another type. A type past LUA_TTHREAD (LuaJIT's cdata) is never wanted.
 */
static enum walk_want plan_want(lua_State *L, int p, int tx)
{
    enum walk_want w = WANT_ANY;
    if (plan_field(L, p, UP_WANT) != LUA_TNIL) /* ... want */
        w = tx >= 0 && tx <= LUA_TTHREAD && lua_rawequal(L, -1, SLOT(UP_TYPE_NAMES + tx))
                ? WANT_FITS
                : WANT_OTHER;
    lua_pop(L, 1);
    return w;
}

static enum walk_kind plan_kind(lua_State *L, int p)
{
    enum walk_kind k = KIND_OTHER;
    if (plan_field(L, p, UP_TYPE) == LUA_TSTRING) { /* ... type */
        const char *s = lua_tostring(L, -1);
        if (strcmp(s, "structure") == 0)
            k = KIND_STRUCTURE;
        else if (strcmp(s, "list") == 0)
            k = KIND_LIST;
        else if (strcmp(s, "map") == 0)
            k = KIND_MAP;
        else if (strcmp(s, "timestamp") == 0)
            k = KIND_TIMESTAMP;
    }
    lua_pop(L, 1);
    return k;
}

static int plan_is_int(lua_State *L, int p)
{
    int r;
    plan_field(L, p, UP_INT); /* ... int */
    r = lua_toboolean(L, -1);
    lua_pop(L, 1);
    return r;
}

/* The hash size to make an output structure of plan p with. */
static int plan_size(lua_State *L, int p)
{
    lua_Number n = 0;
    if (plan_field(L, p, UP_SIZE) == LUA_TNUMBER) /* ... size */
        n = lua_tonumber(L, -1);
    lua_pop(L, 1);
    if (!(n > 0))
        return 0;
    return n < WALK_SIZE_CAP ? (int)n : WALK_SIZE_CAP;
}

/* Push the plan of the member or item entry e: its `plan`, made by entry_plan on first use. */
static void entry_plan(lua_State *L, int e)
{
    if (plan_field(L, e, UP_PLAN) != LUA_TNIL) /* ... plan */
        return;
    lua_pop(L, 1);
    lua_pushvalue(L, SLOT(UP_ENTRY_PLAN));
    lua_pushvalue(L, e);
    lua_call(L, 1, 1); /* ... plan */
}

/* Whether the value at idx, of type t, is the JSON null (a light userdata). */
static int is_null(lua_State *L, int idx, int t)
{
    return t == LUA_TLIGHTUSERDATA && lua_rawequal(L, idx, SLOT(UP_NULL));
}

/* Whether t[1] is not nil: the walk's test for an array. */
static int has_first(lua_State *L, int t)
{
    int r = fsx_rawgeti(L, t, 1) != LUA_TNIL; /* ... t[1] */
    lua_pop(L, 1);
    return r;
}

/* #t (no metatable is consulted: the answer's tables have none). */
static int length(lua_State *L, int t)
{
    size_t n = fsx_rawlen(L, t);
    return n > INT_MAX ? INT_MAX : (int)n;
}

/* Replace the string at the top with fsx.names.to_snake of it. */
static void to_snake(lua_State *L)
{
    lua_pushvalue(L, SLOT(UP_TO_SNAKE)); /* ... k f */
    lua_insert(L, -2);                   /* ... f k */
    lua_call(L, 1, 1);                   /* ... snake */
}

/* Push the number at x as an integer where it has an integer value (math.tointeger). */
static void push_integer(lua_State *L, int x)
{
#if LUA_VERSION_NUM >= 503
    int ok;
    lua_Integer n = lua_tointegerx(L, x, &ok);
    if (ok) {
        lua_pushinteger(L, n);
        return;
    }
#endif
    /* before 5.3 every number prints without a fraction when it has none */
    lua_pushvalue(L, x);
}

/* Keep the refused value v, its plan p and its path length pd in the call's slots; returns 1. */
static int refuse(lua_State *L, int p, int v, int pd)
{
    lua_pushvalue(L, v);
    lua_replace(L, SLOT_BAD_VALUE);
    lua_pushvalue(L, p);
    lua_replace(L, SLOT_BAD_PLAN);
    lua_pushinteger(L, pd);
    lua_replace(L, SLOT_BAD_AT);
    return 1;
}

/* Pop the segment at the top into step pd of the path, a map key or not; returns 1. */
static int path_step(lua_State *L, int pd, int is_map_key)
{
    lua_rawseti(L, SLOT(UP_PATH), pd);
    lua_pushboolean(L, is_map_key);
    lua_rawseti(L, SLOT(UP_MAP_KEY), pd);
    return 1;
}

/*
 * Push the generic conversion of the table v (depth: tables above it):
 * arrays stay arrays, string keys go through to_snake, nulls are dropped.
 */
/* NOLINTNEXTLINE(misc-no-recursion): the depth is capped at WALK_MAX_DEPTH */
static void walk_generic(lua_State *L, int v, int depth)
{
    int o, tx;
    if (++depth > WALK_MAX_DEPTH) {
        lua_pushnil(L);
        return;
    }
    luaL_checkstack(L, WALK_LEVEL_SLOTS, WALK_STACK);
    if (has_first(L, v)) {
        int i, n = length(L, v), count = 0;
        lua_createtable(L, n, 0); /* ... o */
        o = lua_gettop(L);
        for (i = 1; i <= n; i++) {
            tx = fsx_rawgeti(L, v, i); /* ... o x */
            if (is_null(L, o + 1, tx)) {
                lua_pop(L, 1);
                continue;
            }
            if (tx == LUA_TTABLE) {
                walk_generic(L, o + 1, depth); /* ... o x out */
                lua_remove(L, o + 1);          /* ... o out */
            }
            lua_rawseti(L, o, ++count); /* ... o */
        }
        return;
    }
    lua_newtable(L); /* ... o */
    o = lua_gettop(L);
    lua_pushnil(L);
    while (lua_next(L, v) != 0) { /* ... o k x */
        tx = lua_type(L, o + 2);
        if (is_null(L, o + 2, tx)) {
            lua_pop(L, 1);
            continue;
        }
        lua_pushvalue(L, o + 1); /* ... o k x k */
        if (lua_type(L, o + 1) == LUA_TSTRING)
            to_snake(L); /* ... o k x newk */
        if (tx == LUA_TTABLE)
            walk_generic(L, o + 2, depth); /* ... o k x newk out */
        else
            lua_pushvalue(L, o + 2); /* ... o k x newk x */
        lua_rawset(L, o);            /* ... o k x */
        lua_pop(L, 1);               /* ... o k */
    }
}

/*
 * Room for one table level, then push plan p's field up, a table a
 * well-made plan always has there (what names it in the error); returns its
 * index.
 */
static int push_plan_table(lua_State *L, int p, int up, const char *what)
{
    luaL_checkstack(L, WALK_LEVEL_SLOTS, WALK_STACK);
    if (plan_field(L, p, up) != LUA_TTABLE) /* ... t */
        luaL_error(L, "%s: %s", WALK_STACK, what);
    return lua_gettop(L);
}

/* For a list or map plan p: push its item entry and the items' plan; returns the entry's index. */
static int push_item(lua_State *L, int p)
{
    int e = push_plan_table(L, p, UP_ITEM, "a list or map plan without item"); /* ... e */
    entry_plan(L, e);                                                          /* ... e ip */
    return e;
}

static int walk_value(lua_State *L, int p, int x, int tx, int depth, int pd);

/*
 * Push the structure of plan p from the table v: members the model knows
 * under their snake names, by their own plans; other keys generically.
 */
/* NOLINTNEXTLINE(misc-no-recursion): the depth is capped at WALK_MAX_DEPTH */
static int walk_struct(lua_State *L, int p, int v, int depth, int pd)
{
    int members, o, tx;
    if (has_first(L, v))
        return refuse(L, p, v, pd);
    members =
        push_plan_table(L, p, UP_MEMBERS, "a structure plan without members"); /* ... members */
    lua_createtable(L, 0, plan_size(L, p));                                    /* ... members o */
    o = members + 1;
    lua_pushnil(L);
    while (lua_next(L, v) != 0) { /* ... members o k x */
        const int x = o + 2;
        tx = lua_type(L, x);
        if (is_null(L, x, tx)) {
            lua_pop(L, 1);
            continue;
        }
        lua_pushvalue(L, x - 1);
        if (fsx_rawget(L, members) == LUA_TTABLE) { /* ... members o k x m */
            const int m = x + 1;
            entry_plan(L, m);           /* ... k x m mp */
            plan_field(L, m, UP_SNAKE); /* ... k x m mp snake */
            if (walk_value(L, m + 1, x, tx, depth, pd + 1) != 0) {
                lua_pushvalue(L, m + 2);
                return path_step(L, pd + 1, 0);
            }
            lua_rawset(L, o); /* ... k x m mp */
            lua_pop(L, 3);    /* ... k */
        } else {
            lua_pop(L, 1);           /* ... k x */
            lua_pushvalue(L, x - 1); /* ... k x k */
            if (lua_type(L, x - 1) == LUA_TSTRING)
                to_snake(L); /* ... k x newk */
            if (tx == LUA_TTABLE)
                walk_generic(L, x, depth); /* ... k x newk out */
            else
                lua_pushvalue(L, x); /* ... k x newk x */
            lua_rawset(L, o);        /* ... k x */
            lua_pop(L, 1);           /* ... k */
        }
    }
    lua_replace(L, members); /* ... o */
    return 0;
}

/* Push the list of plan p from the table v: items in order by the item plan, nulls dropped. */
/* NOLINTNEXTLINE(misc-no-recursion): the depth is capped at WALK_MAX_DEPTH */
static int walk_list(lua_State *L, int p, int v, int depth, int pd)
{
    int i, n, count = 0, e, o, tx;
    if (!has_first(L, v)) {
        lua_pushnil(L);
        if (lua_next(L, v) != 0) /* ... k x: an object, not an empty array */
            return refuse(L, p, v, pd);
    }
    e = push_item(L, p); /* ... e ip */
    n = length(L, v);
    lua_createtable(L, n, 0); /* ... e ip o */
    o = e + 2;
    for (i = 1; i <= n; i++) {
        tx = fsx_rawgeti(L, v, i); /* ... e ip o x */
        if (is_null(L, o + 1, tx)) {
            lua_pop(L, 1);
            continue;
        }
        if (walk_value(L, e + 1, o + 1, tx, depth, pd + 1) != 0) {
            lua_pushinteger(L, i);
            return path_step(L, pd + 1, 0);
        }
        lua_rawseti(L, o, ++count); /* ... e ip o x */
        lua_pop(L, 1);              /* ... e ip o */
    }
    lua_replace(L, e); /* ... o ip */
    lua_pop(L, 1);     /* ... o */
    return 0;
}

/* Push the map of plan p from the table v: keys kept, values by the value plan, nulls dropped. */
/* NOLINTNEXTLINE(misc-no-recursion): the depth is capped at WALK_MAX_DEPTH */
static int walk_map(lua_State *L, int p, int v, int depth, int pd)
{
    int e, o, tx;
    if (has_first(L, v))
        return refuse(L, p, v, pd);
    e = push_item(L, p); /* ... e ip */
    lua_newtable(L);     /* ... e ip o */
    o = e + 2;
    lua_pushnil(L);
    while (lua_next(L, v) != 0) { /* ... e ip o k x */
        tx = lua_type(L, o + 2);
        if (is_null(L, o + 2, tx)) {
            lua_pop(L, 1);
            continue;
        }
        lua_pushvalue(L, o + 1); /* ... o k x k */
        if (walk_value(L, e + 1, o + 2, tx, depth, pd + 1) != 0) {
            lua_pushvalue(L, o + 1);
            return path_step(L, pd + 1, 1);
        }
        lua_rawset(L, o); /* ... o k x */
        lua_pop(L, 1);    /* ... o k */
    }
    lua_replace(L, e); /* ... o ip */
    lua_pop(L, 1);     /* ... o */
    return 0;
}

/*
 * Push the output value of the value at index x (not null, of type tx) by
 * the plan at index p (a plan, or false: a shape the model lacks, converted
 * generically); depth counts the tables above x, pd is the length of x's
 * path. Returns 0, or 1 when a value does not have the model's type (the
 * stack is then left as it is: the walk is over).
 */
/* NOLINTNEXTLINE(misc-no-recursion): the depth is capped at WALK_MAX_DEPTH */
static int walk_value(lua_State *L, int p, int x, int tx, int depth, int pd)
{
    if (lua_type(L, p) != LUA_TTABLE) {
        if (tx == LUA_TTABLE)
            walk_generic(L, x, depth);
        else
            lua_pushvalue(L, x);
        return 0;
    }
    switch (plan_want(L, p, tx)) {
    case WANT_OTHER:
        return refuse(L, p, x, pd);
    case WANT_ANY: /* a timestamp is a number or a string */
        if (tx != LUA_TNUMBER && tx != LUA_TSTRING && plan_kind(L, p) == KIND_TIMESTAMP)
            return refuse(L, p, x, pd);
        break;
    case WANT_FITS:
        break;
    }
    if (tx != LUA_TTABLE) {
        if (tx == LUA_TNUMBER && plan_is_int(L, p))
            push_integer(L, x);
        else
            lua_pushvalue(L, x);
        return 0;
    }
    if (++depth > WALK_MAX_DEPTH) {
        lua_pushnil(L);
        return 0;
    }
    switch (plan_kind(L, p)) {
    case KIND_STRUCTURE:
        return walk_struct(L, p, x, depth, pd);
    case KIND_LIST:
        return walk_list(L, p, x, depth, pd);
    case KIND_MAP:
        return walk_map(L, p, x, depth, pd);
    default:
        walk_generic(L, x, depth - 1);
        return 0;
    }
}

/*
 * walk(plan, v) -> the output value of v by plan (false: generic)
 *               | nil, value, its plan, its path length (a value refused)
 */
static int answer_walk(lua_State *L)
{
    int up;
    lua_settop(L, SLOT_VALUE);
    luaL_checkstack(L, UP_LAST + WALK_LEVEL_SLOTS, WALK_STACK);
    lua_pushnil(L);
    lua_pushnil(L);
    lua_pushnil(L); /* plan v bad_value bad_plan bad_at */
    for (up = 1; up <= UP_LAST; up++)
        lua_pushvalue(L, lua_upvalueindex(up)); /* plan v bad... upvalues... */
    if (walk_value(L, SLOT_PLAN, SLOT_VALUE, lua_type(L, SLOT_VALUE), 0, 0) == 0)
        return 1;
    lua_pushnil(L);
    lua_pushvalue(L, SLOT_BAD_VALUE);
    lua_pushvalue(L, SLOT_BAD_PLAN);
    lua_pushvalue(L, SLOT_BAD_AT); /* ... nil value plan at */
    return 4;
}

/*
 * core.answer_walker(entry_plan, to_snake, null, path, map_key) -> walk
 *
 * fsx.output's entry_plan(entry) -> plan, fsx.names.to_snake, fsx.json's
 * null (a light userdata), and the tables a refused value's path is written
 * into (path[i]: a snake name, list index or map key; map_key[i]: whether
 * it is a map key). The arguments become the walker's first upvalues, in
 * the order of enum walk_up.
 */
static int core_answer_walker(lua_State *L)
{
    size_t k;
    int t;
    luaL_checktype(L, UP_ENTRY_PLAN, LUA_TFUNCTION);
    luaL_checktype(L, UP_TO_SNAKE, LUA_TFUNCTION);
    luaL_checktype(L, UP_NULL, LUA_TLIGHTUSERDATA);
    luaL_checktype(L, UP_PATH, LUA_TTABLE);
    luaL_checktype(L, UP_MAP_KEY, LUA_TTABLE);
    lua_settop(L, UP_FIRST_KEY - 1);
    luaL_checkstack(L, UP_LAST, WALK_STACK);
    for (k = 0; k < sizeof(walk_keys) / sizeof(walk_keys[0]); k++)
        lua_pushstring(L, walk_keys[k]); /* helpers... keys... */
    for (t = 0; t <= LUA_TTHREAD; t++)
        lua_pushstring(L, lua_typename(L, t)); /* helpers... keys... type names... */
    lua_pushcclosure(L, answer_walk, UP_LAST); /* walk */
    return 1;
}

/* Add core.answer_walker to the table at the top. */
void fsx_lua_open_convert(lua_State *L)
{
    lua_pushcfunction(L, core_answer_walker);
    lua_setfield(L, -2, "answer_walker");
}
