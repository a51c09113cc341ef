--- Container credentials (ECS tasks, EKS Pod Identity, local emulators).
--
-- Layer: Lua layer (credential source 5). Configured by
-- AWS_CONTAINER_CREDENTIALS_RELATIVE_URI (a path on http://169.254.170.2)
-- or AWS_CONTAINER_CREDENTIALS_FULL_URI (any https URL, or http to an allowed
-- host: loopback, 169.254.170.2, 169.254.170.23, fd00:ec2::23). The
-- Authorization header comes from AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE
-- (read on every call; wins) or AWS_CONTAINER_AUTHORIZATION_TOKEN.
-- The answer is JSON: AccessKeyId, SecretAccessKey, Token, Expiration.
--
-- Once configured, a failure is an error (`ContainerCredentialsError`), not a
-- fall-through to instance metadata. Timeout: AWS_METADATA_SERVICE_TIMEOUT
-- (default 2 s); up to 3 attempts for connection failures and HTTP 5xx, none
-- after a timeout.
-- @module fsx.credentials.container
local errors = require("fsx.error")
local parse_url = require("fsx.url").parse
local util = require("fsx.credentials.util")

local M = { name = "container" }

M.BASE = "http://169.254.170.2"
M.ALLOWED_HOSTS = {
  ["169.254.170.2"] = true, ["169.254.170.23"] = true, ["fd00:ec2::23"] = true,
  ["localhost"] = true, ["::1"] = true,
}

local function fail(msg, extra)
  local t = { code = "ContainerCredentialsError", source = "container",
              message = "container: " .. msg }
  for k, v in pairs(extra or {}) do t[k] = v end
  util.raise(t)
end

--- True when a FULL_URI host may be used over plain http.
function M.allowed_host(host)
  if M.ALLOWED_HOSTS[host] then return true end
  -- 127.0.0.0/8
  local a, b, c, d = host:match("^(%d+)%.(%d+)%.(%d+)%.(%d+)$")
  if a and tonumber(a) == 127 and tonumber(b) < 256 and tonumber(c) < 256 and tonumber(d) < 256 then
    return true
  end
  return false
end

--- The URL to ask, or nil and the reason when the source is not configured.
function M.url(ctx)
  local getenv = ctx.getenv
  local rel = getenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")
  if rel then
    if rel:sub(1, 1) ~= "/" then rel = "/" .. rel end
    return M.BASE .. rel
  end
  local full = getenv("AWS_CONTAINER_CREDENTIALS_FULL_URI")
  if not full then
    return nil, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI and AWS_CONTAINER_CREDENTIALS_FULL_URI are not set"
  end
  local u, err = parse_url(full)
  if not u then fail("AWS_CONTAINER_CREDENTIALS_FULL_URI is not a valid URL: " .. err) end
  if u.scheme ~= "https" and not M.allowed_host(u.host) then
    fail("AWS_CONTAINER_CREDENTIALS_FULL_URI host " .. u.host
         .. " is not allowed over http (use https, a loopback address, 169.254.170.2,"
         .. " 169.254.170.23 or fd00:ec2::23)", { code = "InvalidConfig" })
  end
  return full
end

local function auth_token(ctx)
  local getenv = ctx.getenv
  local file = getenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE")
  local token
  if file then
    local data, err = util.read_file(file)
    if not data then
      fail("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE cannot be read: " .. err,
           { code = "InvalidConfig" })
    end
    token = data:gsub("^%s+", ""):gsub("%s+$", "")
  else
    token = getenv("AWS_CONTAINER_AUTHORIZATION_TOKEN")
  end
  if token then
    errors.add_secret(token)
    if token:find("[\r\n]") then
      fail("the authorization token contains a line break", { code = "InvalidConfig" })
    end
  end
  return token
end

--- Fetch credentials from the container endpoint.
-- @tparam table ctx the chain context
-- @treturn ?table credentials, or nil and the reason when not configured
-- @raise credentials error `ContainerCredentialsError` / `InvalidConfig`
function M.load(ctx)
  local url, why = M.url(ctx)
  if not url then return nil, why end
  local token = auth_token(ctx)
  local headers = { { "Accept", "application/json" } }
  if token then headers[#headers + 1] = { "Authorization", token } end
  local timeout = ctx.timeouts.container
  local resp, kind, code, msg = util.fetch(ctx, {
    method = "GET", url = url, headers = headers,
    connect_timeout = timeout, timeout = timeout, max_body = 65536,
    no_proxy = true, -- the token is for the container agent alone (botocore uses no proxy)
  }, 3)
  if not resp then
    fail(url .. ": " .. util.describe_failure(kind, code, msg, timeout),
         { code = kind == "timeout" and "ContainerCredentialsTimeout" or "ContainerCredentialsError" })
  end
  if resp.status ~= 200 then
    local obj = util.decode_object(resp.body)
    local detail = ""
    if obj and type(obj.code) == "string" then
      detail = ": " .. obj.code .. (type(obj.message) == "string" and (": " .. obj.message) or "")
    end
    fail(string.format("%s answered HTTP %d%s", url, resp.status, detail), { status = resp.status })
  end
  local obj, jerr = util.decode_object(resp.body)
  if not obj then
    fail(string.format("%s answered with a body that is %s (%d bytes)", url, jerr,
                       #(resp.body or "")))
  end
  local c, merr = util.make{
    access_key_id = obj.AccessKeyId, secret_access_key = obj.SecretAccessKey,
    session_token = obj.Token, expiration = obj.Expiration, source = "container",
  }
  if not c then fail(url .. " answered with incomplete credentials: " .. merr) end
  return c
end

return M
