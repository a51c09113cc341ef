-- sign_lua.lua - fsx.sigv4.sign from Lua on the typical CreateBackup request.
--
-- Benchmark program (bench/, not part of the library); runs under lua5.4 and
-- luajit with LUA_PATH/LUA_CPATH pointing at lua/ and a build of fsx.core.
-- Signs the request of bench/bench.h (same strings) through the public Lua
-- function, and through core.sign directly (to split the Lua wrapper's cost
-- from the binding's). Both use the per-state derived-key cache, as every
-- client call does. Output, one "name value" per line:
--   <rt>.sign       <signatures per CPU second>   (fsx.sigv4.sign)
--   <rt>.core_sign  <signatures per CPU second>   (fsx.core.sign)
--   <rt>.req_table  <request tables built per CPU second> (the argument alone)
--   signature <hex>
-- where <rt> is "luajit" or "lua5.4". Usage: sign_lua.lua [seconds]
--
--   sign_lua.lua count WHICH N   exactly N signatures of fresh request
--       tables and no output (bench/instructions.sh runs it under
--       callgrind); WHICH is `sign` (fsx.sigv4.sign), `core_sign`
--       (fsx.core.sign through the Lua C API) or `ffi_sign`
--       (fsx.sigv4_ffi.sign, LuaJIT only), or `req_table` (building the
--       request table alone, which every count includes)
local sigv4 = require "fsx.sigv4"
local core = require "fsx.core"

local seconds = tonumber(arg and arg[1]) or tonumber(os.getenv("BENCH_SECONDS")) or 0.4
local rt = jit and "luajit" or ("lua" .. _VERSION:match("%d+%.%d+"))

local BODY = '{"FileSystemId":"fs-0123456789abcdef0","ClientRequestToken":' ..
  '"5b9c3e0a-6f0e-4a57-9d1c-2f4f7d1f0c11","Tags":[{"Key":"Name","Value":' ..
  '"nightly"},{"Key":"Owner","Value":"ops"}]}'

-- What fsx.client passes for each attempt (a fresh headers list every time).
local function public_request()
  return {
    method = "POST", path = "/", query = "",
    headers = {
      { "Host", "fsx.us-east-1.amazonaws.com" },
      { "Content-Type", "application/x-amz-json-1.1" },
      { "X-Amz-Target", "AWSSimbaAPIService_v20180301.CreateBackup" },
    },
    body = BODY, region = "us-east-1", service = "fsx",
    access_key_id = "AKIDEXAMPLE",
    secret_access_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
    time = "20240115T120000Z",
  }
end

local function core_request()
  local r = public_request()
  r.amz_date, r.time = r.time, nil
  return r
end

if arg and arg[1] == "count" then
  local ffi_sign = require "fsx.sigv4_ffi"
  local which = { sign = { sigv4.sign, public_request }, core_sign = { core.sign, core_request },
                  ffi_sign = ffi_sign and { ffi_sign.sign, core_request } or nil,
                  req_table = { function(t) return t end, public_request } }
  local run = assert(which[arg[2]], "usage: sign_lua.lua count sign|core_sign|ffi_sign|req_table N")
  local fn, make = run[1], run[2]
  for _ = 1, assert(tonumber(arg[3]), "usage: sign_lua.lua count WHICH N") do fn(make()) end
  os.exit(0)
end

local function measure(fn, make)
  local n, t0 = 0, os.clock()
  local t
  local last
  repeat
    for _ = 1, 500 do last = fn(make()) end
    n = n + 500
    t = os.clock() - t0
  until t >= seconds
  return n / t, last
end

local function noop(t) return t end
local trate = measure(noop, public_request)
io.write(string.format("%s.req_table %.1f\n", rt, trate))
local rate, r = measure(sigv4.sign, public_request)
io.write(string.format("%s.sign %.1f\n", rt, rate))
local crate, cr = measure(core.sign, core_request)
io.write(string.format("%s.core_sign %.1f\n", rt, crate))
assert(cr.signature == r.signature, "core.sign and fsx.sigv4.sign disagree")
io.write("signature ", r.signature, "\n")
