/*
 * fsx_core.c - luaopen_fsx_core, the module `fsx.core` (binding layer).
 *
 * The binding is the only C code that includes Lua headers (binding.h
 * says what its files share): it checks arguments, calls the signing core
 * (sigv4.h, sign_call.h, crypto.h) or the transport (http.h), and pushes
 * the results. It holds no AWS logic and builds no error objects: failures
 * come back as the plain values nil, kind, code, message, and the Lua layer
 * (lua/fsx/error.lua) wraps them.
 */
#include "binding.h"
#include "http.h"

FSX_EXPORT int luaopen_fsx_core(lua_State *L);

int luaopen_fsx_core(lua_State *L)
{
    struct fsx_error err;

    luaL_checkstack(L, 8, "fsx.core");
    fsx_error_clear(&err);
    if (fsx_http_global_init(&err) != 0)
        return luaL_error(L, "fsx.core: %s", err.message);
    lua_newtable(L); /* M */
    fsx_lua_open_util(L);
    fsx_lua_open_http(L);
    fsx_lua_open_sign(L);
    fsx_lua_open_convert(L);
    fsx_lua_open_json(L);
    lua_pushliteral(L, "fsx.core");
    lua_setfield(L, -2, "_NAME"); /* M */
    return 1;
}
