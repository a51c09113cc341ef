/*
 * binding.h - what the files of the Lua binding share (binding layer).
 *
 * The module `fsx.core` is built from fsx_core.c (luaopen_fsx_core, the only
 * exported symbol), lua_sign.c (core.sign and LuaJIT's FFI entry),
 * lua_http.c (the http handle), lua_convert.c (fsx.output's answer walker),
 * lua_json.c (fsx.json's writer) and lua_util.c (argument readers, failure
 * values and the small utilities). Each lua_*.c adds its functions to the
 * module table; the helpers below are hidden from the shared object's
 * symbol table.
 *
 * Conventions for every binding function: argument tables are read with raw
 * accesses only (no metamethod of the caller's runs), failures of the
 * request are returned as nil, kind, code, message[, field] and never
 * raised, and every C resource is owned by a userdata created (zeroed, with
 * its metatable set) before the resource is acquired.
 */
#ifndef FSX_BINDING_H
#define FSX_BINDING_H

#include <stddef.h>

#include "compat.h"
#include "error.h"

#if defined(__GNUC__)
#define FSX_HIDDEN __attribute__((visibility("hidden")))
#define FSX_EXPORT __attribute__((visibility("default")))
#else
#define FSX_HIDDEN
#define FSX_EXPORT
#endif

/* ---- argument tables (lua_util.c) ---- */

/* Push t[key] (raw) and return its type. */
FSX_HIDDEN int fsx_lua_raw_field(lua_State *L, int t, const char *key);
/*
 * A string field of table t, or NULL when absent (a Lua error for another
 * type). The pointer stays valid while t holds the string.
 */
FSX_HIDDEN const char *fsx_lua_opt_string(lua_State *L, int t, const char *key, size_t *len);
/* The same, a Lua error when absent. */
FSX_HIDDEN const char *fsx_lua_string(lua_State *L, int t, const char *key, size_t *len);
/* A boolean field, dflt when absent. */
FSX_HIDDEN int fsx_lua_bool(lua_State *L, int t, const char *key, int dflt);
/* A non-negative number field, dflt when absent. */
FSX_HIDDEN double fsx_lua_number(lua_State *L, int t, const char *key, double dflt);
/* A byte count field (absent: 0); values past SIZE_MAX saturate. */
FSX_HIDDEN size_t fsx_lua_size(lua_State *L, int t, const char *key);
/* The first of keys (NULL-terminated) whose string value holds a NUL byte, or NULL. */
FSX_HIDDEN const char *fsx_lua_nul_field(lua_State *L, int t, const char *const *keys);

/* ---- failures: nil, kind, code, message[, field] ---- */

FSX_HIDDEN int fsx_lua_failure(lua_State *L, const struct fsx_error *err);
FSX_HIDDEN int fsx_lua_validation(lua_State *L, const char *code, const char *message);
/* nil, "validation", "InvalidField", "<field> <what>", field: returns 5 */
FSX_HIDDEN int fsx_lua_field_error(lua_State *L, const char *field, const char *what);

/* ---- each file's part of the module table (at the top of the stack) ---- */

FSX_HIDDEN void fsx_lua_open_sign(lua_State *L);
FSX_HIDDEN void fsx_lua_open_http(lua_State *L);
FSX_HIDDEN void fsx_lua_open_util(lua_State *L);
FSX_HIDDEN void fsx_lua_open_convert(lua_State *L);
FSX_HIDDEN void fsx_lua_open_json(lua_State *L);

#endif
