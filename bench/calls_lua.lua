-- calls_lua.lua - create_backup calls per second and client CPU per call, ours.
--
-- Benchmark program (bench/, not part of the library); runs under lua5.4 and
-- luajit with LUA_PATH/LUA_CPATH pointing at lua/ and a build of fsx.core.
-- Calls client:create_backup in a loop against ENDPOINT (bench/fixed_server,
-- which answers every request with the same CreateBackup response), with
-- explicit credentials and endpoint_url, as a service would.
--
--   calls_lua.lua ENDPOINT reuse [SECONDS]   one client for every call
--       (one libcurl handle: the connection is kept alive)
--   calls_lua.lua ENDPOINT fresh [SECONDS]   a new client per call (a new
--       connection each time, plus building the client)
--   calls_lua.lua ENDPOINT minimal [SECONDS] the least any Lua client of this
--       JSON service does per call, with no client around it: core.sign
--       (under LuaJIT the same through the FFI, fsx.sigv4_ffi) on a request
--       table made once, h:perform on one handle, cjson.decode of the answer
--       (no validation, token, retries or snake_case conversion); a floor for
--       ours, measured the same way
--   calls_lua.lua ENDPOINT count N           one client, exactly N calls and
--       no output (bench/instructions.sh runs it under callgrind)
--   calls_lua.lua ENDPOINT memory [N1 N2]    one client; VmRSS after N1
--       (1,000) and after N2 (100,000) calls
--
-- Output, one "name value" per line, <rt> = lua5.4 or luajit:
--   <rt>.<mode>.calls_per_s   calls per wall-clock second
--   <rt>.<mode>.cpu_us        client CPU microseconds per call (os.clock:
--                             user + system time of this process)
--   <rt>.<mode>.connections   new connections opened during the timed calls
--   <rt>.rss_kb.<N>           VmRSS (kB) after N calls  (memory mode)
--   <rt>.lua_kb.<N>           Lua heap (kB) after N calls (memory mode)
local fsx = require "fsx"
local core = require "fsx.core"

local endpoint, mode = arg[1], arg[2] or "reuse"
assert(endpoint, "usage: calls_lua.lua ENDPOINT reuse|fresh|memory [SECONDS | N1 N2]")
local rt = jit and "luajit" or ("lua" .. _VERSION:match("%d+%.%d+"))

-- the libcurl transport with its connection counter, so the output can show reuse
local stats = { connections = 0 }
local function new_client()
  local send = require("fsx.transport.curl").new()
  local counted = function(req)
    local resp, a, b, c = send(req)
    stats.connections = stats.connections + ((resp and resp.new_connections) or 0)
    return resp, a, b, c
  end
  return fsx.new{
    region = "us-east-1", endpoint_url = endpoint, transport = counted,
    credentials = { access_key_id = "AKIDEXAMPLE",
                    secret_access_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY" },
  }
end

local ARGS = { file_system_id = "fs-0123456789abcdef0",
               tags = { { key = "Name", value = "nightly" }, { key = "Owner", value = "ops" } } }

local function call(client)
  local backup = client:create_backup(ARGS)
  if backup.backup_id ~= "backup-0a1b2c3d4e5f60718" then error("unexpected answer") end
end

local function rss_kb()
  local f = assert(io.open("/proc/self/status"))
  local s = f:read("*a")
  f:close()
  return tonumber(s:match("VmRSS:%s*(%d+)"))
end

local function out(name, fmt, v)
  io.write(string.format("%s.%s " .. fmt .. "\n", rt, name, v))
end

if mode == "count" then
  local client = new_client()
  for _ = 1, tonumber(arg[3]) do call(client) end
  os.exit(0)
end

if mode == "memory" then
  local n1, n2 = tonumber(arg[3]) or 1000, tonumber(arg[4]) or 100000
  local client = new_client()
  for _ = 1, n1 do call(client) end
  out("rss_kb." .. n1, "%d", rss_kb())
  out("lua_kb." .. n1, "%.0f", collectgarbage("count"))
  for _ = n1 + 1, n2 do call(client) end
  out("rss_kb." .. n2, "%d", rss_kb())
  out("lua_kb." .. n2, "%.0f", collectgarbage("count"))
  os.exit(0)
end

local seconds = tonumber(arg[3]) or tonumber(os.getenv("BENCH_SECONDS")) or 1

-- fn() 200 times (warm-up: modules loaded, traces compiled, buffers grown),
-- then in batches until `seconds` of wall time; prints <mode>.calls_per_s
-- and <mode>.cpu_us.
local function timed(fn, batch)
  for _ = 1, 200 do fn() end
  stats.connections = 0
  local n, w0, c0 = 0, core.monotime(), os.clock()
  local w
  repeat
    for _ = 1, batch do fn() end
    n = n + batch
    w = core.monotime() - w0
  until w >= seconds
  local cpu = os.clock() - c0
  out(mode .. ".calls_per_s", "%.1f", n / w)
  out(mode .. ".cpu_us", "%.2f", cpu / n * 1e6)
end

if mode == "minimal" then
  local cjson = require "cjson"
  local h = assert(core.http_new())
  local sign = (require("fsx.sigv4_ffi") or core).sign
  local sreq = {
    method = "POST", path = "/", query = "", stages = false,
    headers = { { "Host", endpoint:match("^https?://([^/]+)") },
                { "Content-Type", "application/x-amz-json-1.1" },
                { "X-Amz-Target", "AWSSimbaAPIService_v20180301.CreateBackup" } },
    body = '{"FileSystemId":"fs-0123456789abcdef0","ClientRequestToken":' ..
      '"5b9c3e0a-6f0e-4a57-9d1c-2f4f7d1f0c11","Tags":[{"Key":"Name","Value":"nightly"},' ..
      '{"Key":"Owner","Value":"ops"}]}',
    region = "us-east-1", service = "fsx", access_key_id = "AKIDEXAMPLE",
    secret_access_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
  }
  local hreq = { method = "POST", url = endpoint .. "/", body = sreq.body, timeout = 60,
                 connect_timeout = 10 }
  local last_second
  local function minimal_call()
    local now = math.floor(core.time())
    if now ~= last_second then -- X-Amz-Date changes once a second
      sreq.amz_date, last_second = os.date("!%Y%m%dT%H%M%SZ", now), now
    end
    hreq.headers = assert(sign(sreq)).headers
    local status, _, body = h:perform(hreq)
    if status ~= 200 or cjson.decode(body).Backup.BackupId ~= "backup-0a1b2c3d4e5f60718" then
      error("unexpected answer")
    end
  end
  timed(minimal_call, 100)
  os.exit(0)
end

local client = new_client()
if mode == "fresh" then
  timed(function() call(new_client()) end, 20)
else
  timed(function() call(client) end, 100)
end
out(mode .. ".connections", "%d", stats.connections)
