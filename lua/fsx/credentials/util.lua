--- Helpers shared by the credential sources: errors, time stamps, JSON,
-- HTTP through the injected transport, and secret registration.
--
-- Layer: Lua layer; depends on `fsx.error`, `fsx.url` and `fsx.json`.
-- No source logic lives here.
-- @module fsx.credentials.util
local errors = require("fsx.error")
local json = require("fsx.json")
local parse_url = require("fsx.url").parse

local M = {}

--- Raise a `credentials` error. `t.message` gets the `credentials: ` prefix.
-- @tparam table t `code`, `message`, `source`, and any extra fields
function M.raise(t)
  local e = {}
  for k, v in pairs(t) do e[k] = v end
  e.kind = "credentials"
  e.message = "credentials: " .. tostring(t.message)
  error(errors.new(e), 0)
end

--- Register every secret value of a credentials table with `fsx.error` so
-- that no later error message can show it.
function M.register(creds)
  errors.add_secret(creds.secret_access_key)
  errors.add_secret(creds.session_token)
  return creds
end

--- Parse an ISO 8601 / RFC 3339 time stamp to epoch seconds (see
-- `fsx.date.parse_iso8601`, the one parser).
M.parse_time = require("fsx.date").parse_iso8601

--- Format epoch seconds as `2024-05-01T12:00:00Z` (`fsx.date.format_iso8601`).
M.format_time = require("fsx.date").format_iso8601

-- The fields of the JSON answers (container, IMDS, credential_process, IAM
-- Identity Center, its token cache) that hold secrets.
local SECRET_FIELDS = {
  "SecretAccessKey", "Token", "SessionToken", "secretAccessKey", "sessionToken",
  "accessToken", "refreshToken", "clientSecret",
}

local function register_fields(obj, depth)
  for _, k in ipairs(SECRET_FIELDS) do errors.add_secret(rawget(obj, k)) end
  if depth < 2 then
    for _, v in pairs(obj) do
      if type(v) == "table" then register_fields(v, depth + 1) end
    end
  end
end

--- Decode a JSON object; nil, reason when the text is not one. The reason
-- never contains the text (it may hold secrets). The secrets of the object
-- (`SecretAccessKey`, `Token`, `accessToken`, ... at its top and the level
-- below) are registered at once, so that no error built afterwards, on a
-- failure path too, can show them.
function M.decode_object(text)
  if type(text) ~= "string" then return nil, "no body" end
  local v = json.decode(text)
  if type(v) ~= "table" then return nil, "not a JSON object" end
  register_fields(v, 1)
  return v
end

--- Build a credentials table from string fields and check it.
-- @tparam table f `access_key_id`, `secret_access_key`, `session_token`,
--   `expiration` (epoch or ISO text), `source`, and extra fields to keep
-- @treturn ?table credentials (secrets registered)
-- @treturn ?string what is missing or wrong (no values in it)
function M.make(f)
  M.register(f)
  if type(f.access_key_id) ~= "string" or f.access_key_id == "" then
    return nil, "access key id missing"
  end
  if type(f.secret_access_key) ~= "string" or f.secret_access_key == "" then
    return nil, "secret access key missing"
  end
  if f.session_token ~= nil and type(f.session_token) ~= "string" then
    return nil, "session token is not a string"
  end
  local c = {}
  for k, v in pairs(f) do c[k] = v end
  if c.session_token == "" then c.session_token = nil end
  if f.expiration ~= nil and f.expiration ~= "" then
    local t = M.parse_time(f.expiration)
    if not t then return nil, "expiration is not an ISO 8601 time stamp" end
    c.expiration = t
  else
    c.expiration = nil
  end
  return c
end

--- Read a whole file.
-- @treturn ?string contents
-- @treturn ?string error message
function M.read_file(path)
  local f, err = io.open(path, "rb")
  if not f then return nil, tostring(err) end
  local data, rerr = f:read("*a")
  f:close()
  if not data then return nil, path .. ": " .. tostring(rerr) end
  return data
end

--- Percent-encode for an `application/x-www-form-urlencoded` body (RFC 3986
-- unreserved characters kept).
function M.urlencode(s)
  return (tostring(s):gsub("[^%w%-%._~]", function(c)
    return string.format("%%%02X", string.byte(c))
  end))
end

--- Form-encode a table of parameters in sorted key order.
function M.form(params)
  local keys = {}
  for k in pairs(params) do keys[#keys + 1] = k end
  table.sort(keys)
  local out = {}
  for i, k in ipairs(keys) do out[i] = M.urlencode(k) .. "=" .. M.urlencode(params[k]) end
  return table.concat(out, "&")
end

--- Send one HTTP request through `ctx.deps.transport`.
-- @tparam table ctx the chain context (`deps.transport`, `user_agent`, `ca_file`)
-- @tparam table r `method`, `url`, `headers` (array of `{name, value}`), `body`,
--   `connect_timeout`, `timeout`, `max_body`, `no_proxy` (true: never through a proxy)
-- @return the transport's answer: `response` or `nil, kind, code, message`
function M.http(ctx, r)
  local u, err = parse_url(r.url)
  if not u then return nil, "transport", "InvalidURL", "invalid URL: " .. err end
  local headers = { { "Host", u.host_header } }
  for _, h in ipairs(r.headers or {}) do headers[#headers + 1] = h end
  if ctx.user_agent then headers[#headers + 1] = { "User-Agent", ctx.user_agent } end
  local transport = ctx.deps.transport
  if not transport then
    return nil, "transport", "NoTransport", "no transport available"
  end
  return transport{
    method = r.method, url = r.url, scheme = u.scheme, host = u.host, port = u.port,
    path = u.path, headers = headers, body = r.body,
    connect_timeout = r.connect_timeout, timeout = r.timeout,
    ca_file = ctx.settings and ctx.settings.ca_file, max_body = r.max_body or 1048576,
    no_proxy = r.no_proxy,
  }
end

--- `M.http` with up to `attempts` tries: a transport failure other than a
-- timeout, HTTP 429 and HTTP 5xx are tried again after a short sleep
-- (`deps.sleep`, 0.1 s times the attempt number).
-- @return the last response (any status), or `nil, kind, code, message`
function M.fetch(ctx, r, attempts)
  for attempt = 1, attempts do
    local resp, kind, code, msg = M.http(ctx, r)
    local again
    if resp then
      again = resp.status >= 500 or resp.status == 429
    else
      again = kind ~= "timeout"
    end
    if not again or attempt == attempts then return resp, kind, code, msg end
    if ctx.deps.sleep then ctx.deps.sleep(0.1 * attempt) end
  end
end

--- Describe a transport failure in a few words (`timeout after 1 s`).
function M.describe_failure(kind, code, message, timeout)
  if kind == "timeout" then
    return string.format("timed out%s", timeout and (" after " .. timeout .. " s") or "")
  end
  local text = tostring(code or kind or "error")
  if message and message ~= "" then text = text .. " (" .. tostring(message) .. ")" end
  return text
end

--- A response header (lowercase map from the transport).
function M.header(resp, name)
  local h = resp and resp.headers
  if type(h) ~= "table" then return nil end
  return h[name]
end

return M
