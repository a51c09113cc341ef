-- reentrant.lua - a call of the library while __gc finalizers make the same
-- kind of call in the middle of it. Any allocation may run a finalizer, and
-- one that reaches state the outer call shares (the signer's result buffers,
-- LuaJIT's FFI call struct, an http handle's answer, the JSON writer's
-- buffer) could change the outer call's answer. The specs run this in a
-- fresh interpreter: in its small heap a collector forced to work at every
-- allocation finishes its cycles, and so runs finalizers, often.
--
-- Usage: reentrant.lua CASE [ARGS...]
--   sign WAY STAGES           WAY: sigv4 (fsx.sigv4.sign, the FFI under
--                             LuaJIT) or core (fsx.core.sign); STAGES: true
--                             or false; two requests that differ in body
--   encode                    fsx.json.encode of two different values
--   perform OUTER_URL INNER_URL   h:perform on one handle, GET each URL (the
--                             nested perform on the busy handle is refused:
--                             HandleBusy)
--   perform_close URL         h:perform, while finalizers close that handle
-- The outer call runs until finalizers have made the inner call inside 500
-- outer calls (or 20,000 outer calls), then it prints
--   calls N nested N outer_bad N inner_bad N
-- where a bad answer differs from the first answer to the same call.
local case = arg[1]

local outer, inner -- each returns its answer as one string
local inner_ok -- inner_ok(answer, nested): true for an accepted answer other than the first
local outer_ok -- true for an answer of the outer call other than its first one

local function flat_sign(r)
  local t = {}
  for _, k in ipairs{ "authorization", "signature", "canonical_request", "string_to_sign",
                      "signed_headers", "payload_hash", "amz_date" } do
    t[#t + 1] = k .. "=" .. tostring(r[k])
  end
  for _, h in ipairs(r.headers) do t[#t + 1] = h[1] .. ":" .. h[2] end
  return table.concat(t, "\n")
end

if case == "sign" then
  local sign = arg[2] == "core" and require("fsx.core").sign or require("fsx.sigv4").sign
  local stages = arg[3] ~= "false"
  local function request(body)
    return { method = "POST", path = "/", query = "", body = body, stages = stages,
             headers = { { "Host", "fsx.us-east-1.amazonaws.com" } },
             region = "us-east-1", service = "fsx", access_key_id = "AKIDEXAMPLE",
             secret_access_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
             time = "20240115T120000Z", sign_body = true }
  end
  -- each of the first inner calls signs a request twice as large as the
  -- one before: its signature needs longer buffers than any before it
  local big, n = request("inner"), 0
  outer = function() return flat_sign(sign(request("outer"))) end
  inner = function()
    n = n + 1
    big.headers[2] = { "X-Big", string.rep("b", 1000 * 2 ^ (n % 8)) }
    return flat_sign(sign(big))
  end
  inner_ok = function() return true end -- each one differs
elseif case == "encode" then
  local json = require "fsx.json"
  local value = { FileSystemIds = { "fs-0123456789abcdef0" }, MaxResults = 5 }
  outer = function() return json.encode(value) end
  inner = function() return json.encode({}) end
elseif case == "perform" then
  local core = require "fsx.core"
  local h = assert(core.http_new())
  local function get(url)
    local r = { method = "GET", url = url, timeout = 10, connect_timeout = 5 }
    return function()
      local status, headers, body = h:perform(r)
      return tostring(status) .. "\n" .. tostring(headers and headers["content-length"])
        .. "\n" .. tostring(body)
    end
  end
  outer, inner = get(assert(arg[2])), get(assert(arg[3]))
  -- a perform nested in a perform on the same handle is refused
  inner_ok = function(answer, nested) return nested and answer == "nil\nnil\nHandleBusy" end
elseif case == "perform_close" then
  local core = require "fsx.core"
  local h, closed = assert(core.http_new()), false
  local r = { method = "GET", url = assert(arg[2]), timeout = 10, connect_timeout = 5 }
  outer = function()
    if closed then h, closed = assert(core.http_new()), false end
    local ok, status, headers, body = pcall(h.perform, h, r)
    if not ok then return tostring(status) end
    return tostring(status) .. "\n" .. tostring(headers and headers["content-length"])
      .. "\n" .. tostring(body)
  end
  -- a handle closed before its transfer starts raises; one closed later
  -- answers, then closes
  outer_ok = function(answer) return answer:find("attempt to use a closed fsx http handle", 1, true) end
  inner = function()
    h:close()
    closed = true
    return "closed"
  end
else
  error("usage: reentrant.lua sign WAY STAGES | encode | perform OUTER_URL INNER_URL"
    .. " | perform_close URL")
end

local want, inner_want = outer(), inner()
assert(want ~= inner_want, "the outer and inner calls must answer differently")
local in_outer, nested, inner_bad, outer_bad, calls = false, 0, 0, 0, 0
local function finalizer()
  if in_outer then nested = nested + 1 end
  local got = inner()
  if got ~= inner_want and not (inner_ok and inner_ok(got, in_outer)) then
    inner_bad = inner_bad + 1
  end
end
local finalizable = require "support.finalizable"

collectgarbage()
collectgarbage("setpause", 0)
collectgarbage("setstepmul", 1000)
repeat
  finalizable(finalizer)
  in_outer = true
  local got = outer()
  in_outer = false
  calls = calls + 1
  if got ~= want and not (outer_ok and outer_ok(got)) then outer_bad = outer_bad + 1 end
until nested >= 500 or calls >= 20000
io.write(string.format("calls %d nested %d outer_bad %d inner_bad %d\n", calls, nested, outer_bad, inner_bad))
