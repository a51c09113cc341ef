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

local STRING_FIELDS = { "method", "path", "region", "service", "access_key_id", "secret_access_key" }
local OPTIONAL_STRINGS = { "query", "body", "session_token", "payload_hash" }
local FLAGS = { "normalize_path", "sign_body", "omit_session_token" }

local function fail(field, msg)
  errors.validation("sigv4.sign", field, msg)
end

-- Headers as an array of {name, value} (kept in order) or a map (sorted by
-- name so the result is deterministic).
local function header_pairs(h)
  if h == nil then return {} end
  if type(h) ~= "table" then fail("headers", "must be a table") end
  local out = {}
  local n = #errors.plain("sigv4.sign", "headers", h)
  if n > 0 then
    for i = 1, n do
      local p = h[i]
      if type(p) ~= "table" or errors.is_proxy(p) or type(p[1]) ~= "string" or type(p[2]) ~= "string" then
        fail("headers[" .. i .. "]", "must be a {name, value} pair of strings")
      end
      out[i] = { p[1], p[2] }
    end
    for k in pairs(h) do
      if type(k) ~= "number" then fail("headers", "mixes a list of pairs with named keys") end
    end
  else
    local names = {}
    for k, v in pairs(h) do
      if type(k) ~= "string" or type(v) ~= "string" then
        fail("headers", "must map string names to string values")
      end
      names[#names + 1] = k
    end
    table.sort(names)
    for i, k in ipairs(names) do out[i] = { k, h[k] } end
  end
  return out
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
  errors.plain("sigv4.sign", nil, req)
  local c = {}
  for _, k in ipairs(STRING_FIELDS) do
    local v = req[k]
    if type(v) ~= "string" or v == "" then fail(k, "must be a non-empty string") end
    c[k] = v
  end
  for _, k in ipairs(OPTIONAL_STRINGS) do
    local v = req[k]
    if v ~= nil and type(v) ~= "string" then fail(k, "must be a string") end
    c[k] = v
  end
  for _, k in ipairs(FLAGS) do
    local v = req[k]
    if v ~= nil and type(v) ~= "boolean" then fail(k, "must be a boolean") end
    c[k] = v
  end
  if c.session_token == "" then c.session_token = nil end
  c.headers = header_pairs(req.headers)
  c.amz_date = amz_date(req.time)
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
