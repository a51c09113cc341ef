--- AWS Signature Version 4 from Lua, over the C signer in `fsx.core`.
--
-- This is how the client signs, and how a user debugs a
-- SignatureDoesNotMatch: the result shows every stage.
--
--     local sigv4 = require "fsx.sigv4"
--     local r = sigv4.sign{ method = "POST", path = "/", query = "",
--       headers = { { "Host", "fsx.us-east-1.amazonaws.com" } }, body = "{}",
--       region = "us-east-1", service = "fsx", access_key_id = "...",
--       secret_access_key = "...", time = os.time() }
--     print(r.canonical_request, r.string_to_sign, r.authorization)
--
-- @module fsx.sigv4
local core = require "fsx.core"
local errors = require "fsx.error"
-- core.sign, or the same through LuaJIT's FFI (fsx.sigv4_ffi) where it runs
local sigv4_ffi = require "fsx.sigv4_ffi"
local core_sign = sigv4_ffi and sigv4_ffi.sign or core.sign
local add_secret = errors.add_secret
local type, getmetatable, rawget, next = type, getmetatable, rawget, next

local M = {}

local function fail(field, msg)
  errors.raise_validation("sigv4.sign", field, msg)
end

-- Headers given as a map: a request copy with them as {name, value} pairs,
-- sorted by name so the result is deterministic.
local function with_header_pairs(req, h)
  local names = {}
  for k, v in next, h do
    if type(k) ~= "string" or type(v) ~= "string" then
      fail("headers", "must map string names to string values")
    end
    names[#names + 1] = k
  end
  table.sort(names)
  local pairs_list = {}
  for i = 1, #names do pairs_list[i] = { names[i], h[names[i]] } end
  local copy = {}
  for k, v in next, req do copy[k] = v end
  copy.headers = pairs_list
  return copy
end

--- Sign a request.
-- @tparam table req `method`, `path`, `query`, `headers` (pairs or map),
--   `body`, `region`, `service`, `access_key_id`, `secret_access_key`,
--   optional `session_token`, `time` (epoch or `"20150830T123600Z"`; default
--   now; `amz_date`, the X-Amz-Date string itself, wins over it),
--   `normalize_path` (default true), `sign_body`, `omit_session_token`,
--   `stages` (default true; false leaves out all but `authorization`,
--   `amz_date` and `headers`).
-- @treturn table `authorization`, `signature`, `canonical_request`,
--   `string_to_sign`, `signed_headers`, `payload_hash`, `amz_date`, and
--   `headers`: the headers to send (the given ones, then X-Amz-Date, the
--   token and x-amz-content-sha256 where added, then Authorization).
function M.sign(req)
  if type(req) ~= "table" then fail(nil, "request must be a table") end
  if getmetatable(req) ~= nil then errors.check_plain("sigv4.sign", nil, req) end
  -- core.sign reads with raw gets only and checks every field itself
  local h = rawget(req, "headers")
  if type(h) == "table" then
    if getmetatable(h) ~= nil then errors.check_plain("sigv4.sign", "headers", h) end
    if rawget(h, 1) == nil and next(h) ~= nil then req = with_header_pairs(req, h) end
  end
  add_secret(rawget(req, "secret_access_key"))
  local token = rawget(req, "session_token")
  if token ~= nil then add_secret(token) end
  local r, kind, code, msg, field = core_sign(req)
  if not r then
    if field then fail(field, msg:sub(#field + 2)) end
    errors.raise{ kind = kind == "validation" and "validation" or "credentials",
                  code = code, message = "sigv4.sign: " .. tostring(msg), operation = "sigv4.sign" }
  end
  -- r.headers is the full list: the given pairs, the added ones, Authorization
  return r
end

--- The client's fast path: sign a request table the client built itself.
-- Unlike `sign`, it trusts its input (strings where strings are due, `headers`
-- an array of `{name, value}` pairs, `amz_date` formatted), makes no copies
-- and skips the canonical request and string to sign in the answer.
-- @local
-- @tparam table c the fields of `core.sign`; `stages` is set to false
-- @treturn table the headers to send: the given pairs, the added ones, then Authorization
function M.sign_request(c)
  c.stages = false
  local r, kind, code, msg = core_sign(c)
  if not r then
    errors.raise{ kind = kind == "validation" and "validation" or "credentials",
                  code = code, message = "sigv4.sign: " .. tostring(msg), operation = "sigv4.sign" }
  end
  return r.headers
end

--- Signing keys derived so far by this Lua state (the cache makes this grow
-- once per day/region/service/secret, not once per call).
function M.key_derivations()
  return core.key_derivations()
end

--- Which way signing goes: "ffi" (LuaJIT) or "core.sign".
-- @local
M.path = sigv4_ffi and "ffi" or "core.sign"

return M
