/*
 * lua_util.c - the binding's argument readers and failure values, and the
 * small utilities of `fsx.core` (binding layer): random bytes, UUIDs,
 * digests, clocks, sleep, isatty, private files and signals.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "binding.h"
#include "crypto.h"
#include "interrupt.h"
#include "text.h"

/* ------------------------------------------------------------------------ */
/* argument tables                                                          */

/* Push t[key] (raw) and return its type. */
int fsx_lua_raw_field(lua_State *L, int t, const char *key)
{
    lua_pushstring(L, key);
    lua_rawget(L, t); /* ... value */
    return lua_type(L, -1);
}

/*
 * A string field of table t, or NULL when absent. The value stays pushed
 * (nil when absent), so the string lives while the stack holds it, whatever
 * happens to t meanwhile.
 */
const char *fsx_lua_opt_string(lua_State *L, int t, const char *key, size_t *len)
{
    const char *s = NULL;
    int ty = fsx_lua_raw_field(L, t, key); /* ... value */
    if (ty == LUA_TSTRING)
        s = lua_tolstring(L, -1, len);
    else if (ty != LUA_TNIL)
        luaL_error(L, "field '%s' must be a string", key);
    else if (len)
        *len = 0;
    return s;
}

const char *fsx_lua_string(lua_State *L, int t, const char *key, size_t *len)
{
    const char *s = fsx_lua_opt_string(L, t, key, len);
    if (s == NULL)
        luaL_error(L, "field '%s' is required", key);
    return s;
}

int fsx_lua_bool(lua_State *L, int t, const char *key, int dflt)
{
    int ty = fsx_lua_raw_field(L, t, key), v = dflt;
    if (ty == LUA_TBOOLEAN)
        v = lua_toboolean(L, -1);
    else if (ty != LUA_TNIL)
        luaL_error(L, "field '%s' must be a boolean", key);
    lua_pop(L, 1);
    return v;
}

double fsx_lua_number(lua_State *L, int t, const char *key, double dflt)
{
    int ty = fsx_lua_raw_field(L, t, key);
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
size_t fsx_lua_size(lua_State *L, int t, const char *key)
{
    double v = fsx_lua_number(L, t, key, 0);
    if (v >= (double)SIZE_MAX)
        return SIZE_MAX;
    return (size_t)v;
}

/*
 * The first of keys (NULL-terminated) whose string value in table t holds a
 * NUL byte, or NULL. Those fields are handed on as C strings, which would be
 * cut silently at the NUL.
 */
const char *fsx_lua_nul_field(lua_State *L, int t, const char *const *keys)
{
    size_t len;
    const char *s;
    for (; *keys != NULL; keys++) {
        if (fsx_lua_raw_field(L, t, *keys) == LUA_TSTRING) { /* ... value */
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

/* ------------------------------------------------------------------------ */
/* failures                                                                 */

/* Push nil, kind, code, message from an error record; returns 4. */
int fsx_lua_failure(lua_State *L, const struct fsx_error *err)
{
    luaL_pushfail(L);
    lua_pushstring(L, fsx_error_kind_name(err->kind));
    lua_pushstring(L, err->code);
    lua_pushstring(L, err->message);
    return 4;
}

int fsx_lua_validation(lua_State *L, const char *code, const char *message)
{
    struct fsx_error err;
    fsx_error_set(&err, FSX_ERR_VALIDATION, code, "%s", message);
    return fsx_lua_failure(L, &err);
}

/* nil, "validation", "InvalidField", "<field> <what>", field */
int fsx_lua_field_error(lua_State *L, const char *field, const char *what)
{
    luaL_pushfail(L);
    lua_pushliteral(L, "validation");
    lua_pushliteral(L, "InvalidField");
    lua_pushfstring(L, "%s %s", field, what);
    lua_pushstring(L, field);
    return 5;
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
    struct uuid_pool *p = (struct uuid_pool *)luaL_checkudata(L, lua_upvalueindex(1), UUID_POOL_MT);
    unsigned char *b;
    char out[36];
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
    /* 8-4-4-4-12 hex digits */
    fsx_hex(out, b, 4);
    out[8] = '-';
    fsx_hex(out + 9, b + 4, 2);
    out[13] = '-';
    fsx_hex(out + 14, b + 6, 2);
    out[18] = '-';
    fsx_hex(out + 19, b + 8, 2);
    out[23] = '-';
    fsx_hex(out + 24, b + 10, 6);
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
 * From then on SIGINT, SIGTERM and SIGHUP only record their number (the
 * process is not stopped and the interpreter's own Ctrl-C hook does not
 * run): core.caught_signal() tells it, core.sleep returns early, and every
 * h:perform in flight stops within about a second and fails with
 * nil, "transport", "INTERRUPTED", message (a failure the client does not
 * retry); a perform asked for later fails the same way without sending.
 * SIGPIPE is ignored: a write to a closed pipe fails with EPIPE.
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

static const luaL_Reg util_funcs[] = {
    {"random_bytes", core_random_bytes},
    {"sha256_hex", core_sha256_hex},
    {"sha1_hex", core_sha1_hex},
    {"hmac_sha256", core_hmac_sha256},
    {"time", core_time},
    {"monotime", core_monotime},
    {"sleep", core_sleep},
    {"isatty", core_isatty},
    {"write_private", core_write_private},
    {"catch_signals", core_catch_signals},
    {"caught_signal", core_caught_signal},
    {NULL, NULL},
};

/* Add the utilities (and uuid4 with its pool) to the table at the top. */
void fsx_lua_open_util(lua_State *L)
{
    struct uuid_pool *pool;

    luaL_checkstack(L, 4, "fsx.core");
    luaL_setfuncs(L, util_funcs, 0);
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
}
