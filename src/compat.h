/*
 * compat.h - the few Lua 5.2+ API functions the binding uses, for Lua 5.1 and
 * LuaJIT (binding layer). Each shim is prefixed (fsx_*) and mapped with a
 * #define, so it never collides with LuaJIT 2.1's own partial 5.2 API.
 */
#ifndef FSX_COMPAT_H
#define FSX_COMPAT_H

#include <lauxlib.h>
#include <lua.h>

#if LUA_VERSION_NUM < 502
static inline void fsx_setfuncs(lua_State *L, const luaL_Reg *l, int nup)
{
    luaL_checkstack(L, nup + 1, "too many upvalues");
    for (; l->name != NULL; l++) {
        int i;
        for (i = 0; i < nup; i++) /* copy the upvalues to the top */
            lua_pushvalue(L, -nup);
        lua_pushcclosure(L, l->func, nup);
        lua_setfield(L, -(nup + 2), l->name);
    }
    lua_pop(L, nup); /* remove upvalues */
}
#define luaL_setfuncs fsx_setfuncs

#define fsx_rawlen(L, i) lua_objlen((L), (i))
/* LuaJIT 2.1 defines these two macros already */
#ifndef luaL_newlibtable
#define luaL_newlibtable(L, l) lua_createtable((L), 0, (int)(sizeof(l) / sizeof((l)[0]) - 1))
#endif
#ifndef luaL_newlib
#define luaL_newlib(L, l) (luaL_newlibtable((L), (l)), luaL_setfuncs((L), (l), 0))
#endif
#else
#define fsx_rawlen(L, i) lua_rawlen((L), (i))
#endif

/* lua_rawget and lua_rawgeti, returning the type of the value pushed (as 5.3+ do) */
#if LUA_VERSION_NUM < 503
static inline int fsx_rawget(lua_State *L, int t)
{
    lua_rawget(L, t);
    return lua_type(L, -1);
}
static inline int fsx_rawgeti(lua_State *L, int t, int n)
{
    lua_rawgeti(L, t, n);
    return lua_type(L, -1);
}
#else
#define fsx_rawget(L, t) lua_rawget((L), (t))
#define fsx_rawgeti(L, t, n) lua_rawgeti((L), (t), (n))
#endif

#if LUA_VERSION_NUM < 504
#define luaL_pushfail(L) lua_pushnil(L)
#define fsx_newuserdata(L, sz) lua_newuserdata((L), (sz))
#else
#define fsx_newuserdata(L, sz) lua_newuserdatauv((L), (sz), 0)
#endif

#endif
