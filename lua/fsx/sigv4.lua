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
local util = require "fsx.util"

local M = {}

local function fail(field, msg)
  errors.validation("sigv4.sign", field, msg)
end

-- A pair {name, value} of strings in a table that runs none of the caller's code.
local function check_pair(p, i)
  if type(p) ~= "table" or (getmetatable(p) ~= nil and errors.is_proxy(p))
     or type(p[1]) ~= "string" or type(p[2]) ~= "string" then
    fail("headers[" .. i .. "]", "must be a {name, value} pair of strings")
  end
end

-- Headers as an array of {name, value} (kept in order, the pairs used as
-- given) or a map (sorted by name so the result is deterministic).
local function header_pairs(h)
  if h == nil then return {} end
  if type(h) ~= "table" then fail("headers", "must be a table") end
  if getmetatable(h) ~= nil then errors.plain("sigv4.sign", "headers", h) end
  local n = #h
  if n > 0 then
    for i = 1, n do check_pair(h[i], i) end
    for k in pairs(h) do
      if type(k) ~= "number" then fail("headers", "mixes a list of pairs with named keys") end
    end
    return h
  end
  local names = {}
  for k, v in pairs(h) do
    if type(k) ~= "string" or type(v) ~= "string" then
      fail("headers", "must map string names to string values")
    end
    names[#names + 1] = k
  end
  table.sort(names)
  local out = {}
  for i, k in ipairs(names) do out[i] = { k, h[k] } end
  return out
end

local function required(req, k)
  local v = req[k]
  if type(v) ~= "string" or v == "" then fail(k, "must be a non-empty string") end
  return v
end

local function optional(req, k)
  local v = req[k]
  if v ~= nil and type(v) ~= "string" then fail(k, "must be a string") end
  return v
end

local function flag(req, k)
  local v = req[k]
  if v ~= nil and type(v) ~= "boolean" then fail(k, "must be a boolean") end
  return v
end

local function amz_date(t)
  if t == nil then return util.amz_date(core.time()) end
  if type(t) == "number" then
    if t ~= t or t < 0 or t >= 253402300800 then fail("time", "must be epoch seconds in range") end
    return util.amz_date(t)
  end
  if type(t) == "string" and t:match("^%d%d%d%d%d%d%d%dT%d%d%d%d%d%dZ$") then return t end
  fail("time", 'must be epoch seconds or "YYYYMMDDTHHMMSSZ"')
end

--- Sign a request.
-- @tparam table req `method`, `path`, `query`, `headers` (pairs or map),
--   `body`, `region`, `service`, `access_key_id`, `secret_access_key`,
--   optional `session_token`, `time` (epoch or `"20150830T123600Z"`; default
--   now), `normalize_path` (default true), `sign_body`, `omit_session_token`.
-- @treturn table `authorization`, `signature`, `canonical_request`,
--   `string_to_sign`, `signed_headers`, `payload_hash`, and `headers`: the
--   headers to send (the given ones, then X-Amz-Date, the token and
--   x-amz-content-sha256 where added, then Authorization).
function M.sign(req)
  if type(req) ~= "table" then fail(nil, "request must be a table") end
  if getmetatable(req) ~= nil then errors.plain("sigv4.sign", nil, req) end
  local token = optional(req, "session_token")
  if token == "" then token = nil end
  local c = {
    method = required(req, "method"), path = required(req, "path"),
    region = required(req, "region"), service = required(req, "service"),
    access_key_id = required(req, "access_key_id"),
    secret_access_key = required(req, "secret_access_key"),
    query = optional(req, "query"), body = optional(req, "body"), session_token = token,
    payload_hash = optional(req, "payload_hash"),
    normalize_path = flag(req, "normalize_path"), sign_body = flag(req, "sign_body"),
    omit_session_token = flag(req, "omit_session_token"),
    headers = header_pairs(req.headers), amz_date = amz_date(req.time),
  }
  errors.add_secret(c.secret_access_key)
  errors.add_secret(c.session_token)
  local r, kind, code, msg = core.sign(c)
  if not r then
    errors.raise{ kind = kind == "validation" and "validation" or "credentials",
                  code = code, message = "sigv4.sign: " .. tostring(msg), operation = "sigv4.sign" }
  end
  -- r.headers is already the full list: the given pairs, the added ones, Authorization
  r.amz_date = c.amz_date
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
  local r, kind, code, msg = core.sign(c)
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

return M
