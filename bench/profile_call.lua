-- profile_call.lua - where the client CPU of one create_backup call goes.
--
-- Diagnostic program (bench/, not part of the library); runs under lua5.4
-- and luajit like bench/calls_lua.lua. It times each stage of the call
-- pipeline on its own, in a loop, with the inputs a real call gives it
-- (captured from one real call against ENDPOINT, bench/fixed_server), then
-- the whole create_backup call. The stages in the order a call runs them:
--
--   shape.input       validate and convert the snake_case arguments (fsx.validate)
--   util.uuid4 x2     ClientRequestToken and amz-sdk-invocation-id
--   protocol.build    JSON-encode the body (fsx.json over cjson)
--   sigv4.sign        the Lua wrapper plus core.sign (shown apart too)
--   transport send    h:perform (C: libcurl, binding, the header map)
--   protocol.parse    JSON-decode the answer (and cjson.decode alone)
--   shape.output      check and convert the answer to snake_case (fsx.output)
--   the rest          client/_send/_request bookkeeping: the whole call
--                     minus the stages above
--
-- Output: "<rt>.stage.<name> <CPU microseconds per call>" lines, then
-- "<rt>.stage.total" for the whole call. os.clock is process CPU time.
-- Usage: profile_call.lua ENDPOINT [SECONDS per stage]  (default 0.3)
--        profile_call.lua ENDPOINT count STAGE N  (STAGE run N times, silently;
--        "total" is the whole call: for bench/instructions.sh `stages`)
local endpoint, seconds = arg[1], tonumber(arg[2]) or 0.3
assert(endpoint, "usage: profile_call.lua ENDPOINT [SECONDS]")
local rt = jit and "luajit" or ("lua" .. _VERSION:match("%d+%.%d+"))

local core = require "fsx.core"
local fsx = require "fsx"
local shape = require "fsx.shape"
local validate = require "fsx.validate"
local output = require "fsx.output"
local protocol = require "fsx.protocol.json"
local sigv4 = require "fsx.sigv4"
local util = require "fsx.util"
local curl = require "fsx.transport.curl"
local api = require "fsx.api"
local cjson = require("cjson").new()

local ARGS = { file_system_id = "fs-0123456789abcdef0",
               tags = { { key = "Name", value = "nightly" }, { key = "Owner", value = "ops" } } }

-- capture one real request and response
local captured_req, captured_resp
local send = curl.new()
local client = fsx.new{
  region = "us-east-1", endpoint_url = endpoint,
  credentials = { access_key_id = "AKIDEXAMPLE",
                  secret_access_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY" },
  transport = function(req)
    local resp, a, b, c = send(req)
    captured_req, captured_resp = req, resp
    return resp, a, b, c
  end,
}
client:create_backup(ARGS)
assert(captured_resp and captured_resp.status == 200, "no answer from " .. endpoint)

local decl = shape.operation("CreateBackup")
local params = validate.input(decl, ARGS)
params.ClientRequestToken = util.uuid4()
local body = protocol.build(api.metadata.target_prefix, "CreateBackup", params)
local decoded = protocol.parse("CreateBackup", captured_resp)
local handle = core.http_new()

local function sign_req()
  return {
    method = "POST", path = "/", query = "",
    headers = { { "Host", captured_req.headers[1][2] },
                { "Content-Type", "application/x-amz-json-1.1" },
                { "X-Amz-Target", "AWSSimbaAPIService_v20180301.CreateBackup" } },
    body = body, region = "us-east-1", service = "fsx", access_key_id = "AKIDEXAMPLE",
    secret_access_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", time = core.time(),
  }
end
local function core_req()
  local r = sign_req()
  r.amz_date, r.time = util.amz_date(r.time), nil
  return r
end

local function per_call(fn)
  for _ = 1, 200 do fn() end
  local n, t0 = 0, os.clock()
  local t
  repeat
    for _ = 1, 100 do fn() end
    n = n + 100
    t = os.clock() - t0
  until t >= seconds
  return t / n * 1e6
end

local stages = {
  { "shape.input", function() validate.input(decl, ARGS) end },
  { "util.uuid4_x2", function() util.uuid4(); util.uuid4() end },
  { "core.random_bytes16_x2", function() core.random_bytes(16); core.random_bytes(16) end },
  { "protocol.build", function() protocol.build(api.metadata.target_prefix, "CreateBackup", params) end },
  { "sigv4.sign", function() sigv4.sign(sign_req()) end },
  { "core.sign_only", function() core.sign(core_req()) end },
  { "transport.send", function() send(captured_req) end },
  { "http.perform_only", function() handle:perform(captured_req) end },
  { "protocol.parse", function() protocol.parse("CreateBackup", captured_resp) end },
  { "cjson.decode_only", function() cjson.decode(captured_resp.body) end },
  { "shape.output", function() output.convert(decl, decoded) end },
}
-- stages that are parts of another one, left out of the sum
local part_of = { ["core.random_bytes16_x2"] = true, ["core.sign_only"] = true,
                  ["http.perform_only"] = true, ["cjson.decode_only"] = true }

-- count mode: one stage (or "total", the whole call), exactly N times, no
-- output (bench/instructions.sh `stages` runs it under callgrind)
if arg[2] == "count" then
  local name, n = arg[3], assert(tonumber(arg[4]), "usage: profile_call.lua ENDPOINT count STAGE N")
  local fn = name == "total" and function() client:create_backup(ARGS) end
  for _, s in ipairs(stages) do
    if s[1] == name then fn = s[2] end
  end
  assert(fn, "no stage " .. tostring(name))
  for _ = 1, n do fn() end
  os.exit(0)
end

local sum = 0
for _, s in ipairs(stages) do
  local us = per_call(s[2])
  if not part_of[s[1]] then sum = sum + us end
  io.write(string.format("%s.stage.%s %.2f\n", rt, s[1], us))
end
local total = per_call(function() client:create_backup(ARGS) end)
io.write(string.format("%s.stage.rest %.2f\n", rt, total - sum))
io.write(string.format("%s.stage.total %.2f\n", rt, total))
