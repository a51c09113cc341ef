--- Credentials of an IAM Identity Center (SSO) profile, from the token that
-- `aws sso login` left in the AWS CLI's cache.
--
-- Layer: Lua layer (part of credential source 4). A profile names either an
-- `[sso-session NAME]` section (`sso_session = NAME`; the section holds
-- `sso_start_url` and `sso_region`) or, in the older form, `sso_start_url`
-- and `sso_region` itself; it always names `sso_account_id` and
-- `sso_role_name`. The token is read from
-- `~/.aws/sso/cache/<sha1 of the session name, or of the start URL>.json`
-- (`accessToken`, `expiresAt`) and exchanged for role credentials with the
-- portal's GetRoleCredentials (`GET /federation/credentials`, the token in
-- `x-amz-sso_bearer_token`; no signature) at
-- `https://portal.sso.<sso_region>.<partition suffix>`, or at
-- `AWS_ENDPOINT_URL_SSO` / `AWS_ENDPOINT_URL` / a profile `services` section
-- (`sso` service) when set. The credentials expire when the portal says, and
-- the chain asks again from the cached token then.
--
-- A token of an sso-session that expires within 15 minutes (or has expired)
-- is refreshed as botocore does, when the cache holds `refreshToken`,
-- `clientId` and `clientSecret` and the client registration has not
-- expired: SSO OIDC CreateToken (`POST /token`, grant `refresh_token`) at
-- `https://oidc.<sso_region>.<suffix>` (or `AWS_ENDPOINT_URL_SSO_OIDC`), and
-- the new token is written back to the cache file (owner-only, replaced
-- whole). A failed refresh keeps a token that is still valid.
--
-- Not done: signing in (`aws sso login` does it, in a browser); a token that
-- cannot be used raises `SSOTokenExpired` / `SSOTokenNotFound` naming the
-- login command to run. No token appears in an error.
-- @module fsx.credentials.sso
local core = require("fsx.core")
local config = require("fsx.config")
local endpoint = require("fsx.endpoint")
local errors = require("fsx.error")
local json = require("fsx.json")
local util = require("fsx.credentials.util")

local M = { name = "sso" }

--- Seconds before expiry from which an sso-session token is refreshed.
M.REFRESH_WINDOW = 15 * 60

local function fail(profile, code, msg, extra)
  local t = { code = code, source = "sso", profile = profile,
              message = "profile " .. profile .. ": sso: " .. msg }
  for k, v in pairs(extra or {}) do t[k] = v end
  util.raise(t)
end

local value = config.setting

--- The SSO settings of a profile: `start_url`, `region`, `account_id`,
-- `role_name`, `cache_key` (what the token cache file is named by) and
-- `login` (the command that signs in).
-- @raise credentials error `InvalidConfig`
function M.settings(ctx, name, p)
  local s = { account_id = value(p, "sso_account_id"), role_name = value(p, "sso_role_name"),
              login = "aws sso login --profile " .. name }
  local session = value(p, "sso_session")
  if session then
    local block = ctx.shared.sso_sessions and ctx.shared.sso_sessions[session]
    if not block then
      fail(name, "InvalidConfig", "sso_session " .. session .. " has no [sso-session "
           .. session .. "] section in " .. tostring(ctx.shared.config_file))
    end
    s.start_url, s.region = value(block, "sso_start_url"), value(block, "sso_region")
    for _, k in ipairs{ "sso_start_url", "sso_region" } do
      local mine = value(p, k)
      if mine and mine ~= value(block, k) then
        fail(name, "InvalidConfig", k .. " differs between the profile and [sso-session "
             .. session .. "]")
      end
    end
    s.cache_key = session
    s.session = session
  else
    s.start_url, s.region = value(p, "sso_start_url"), value(p, "sso_region")
    s.cache_key = s.start_url
  end
  for _, f in ipairs{ { "start_url", "sso_start_url" }, { "region", "sso_region" },
                      { "account_id", "sso_account_id" }, { "role_name", "sso_role_name" } } do
    if not s[f[1]] then fail(name, "InvalidConfig", f[2] .. " is missing") end
  end
  if not endpoint.valid_region(s.region) then
    fail(name, "InvalidConfig", "sso_region " .. s.region .. " is not a valid region name")
  end
  return s
end

-- A service endpoint: the configured one, or https://<host>.<region>.<suffix>.
local function service_url(ctx, s, env_id, config_id, host)
  local url, _, field = config.custom_endpoint{
    getenv = ctx.getenv, profile = ctx.settings and ctx.settings.profile_data,
    shared = ctx.shared, env_id = env_id, config_id = config_id,
  }
  if url then return (endpoint.check_custom(url, field):gsub("/+$", "")) end
  return "https://" .. host .. "." .. s.region .. "." .. endpoint.partition(s.region).dnsSuffix
end

--- The portal URL for the settings.
function M.portal(ctx, s)
  return service_url(ctx, s, "SSO", "sso", "portal.sso")
end

--- The SSO OIDC URL for the settings.
function M.oidc(ctx, s)
  return service_url(ctx, s, "SSO_OIDC", "sso_oidc", "oidc")
end

-- Ask SSO OIDC for a new token with the cached refresh token: the new cache
-- object, or nil and why.
local function refresh(ctx, s, obj)
  local base = M.oidc(ctx, s)
  local body = json.encode{ grantType = "refresh_token", clientId = obj.clientId,
                            clientSecret = obj.clientSecret, refreshToken = obj.refreshToken }
  local resp, kind, code, msg = util.http(ctx, {
    method = "POST", url = base .. "/token", body = body, max_body = 65536,
    headers = { { "Content-Type", "application/json" }, { "Accept", "application/json" } },
    connect_timeout = ctx.timeouts.sts_connect, timeout = ctx.timeouts.sts,
  })
  if not resp then return nil, base .. ": " .. util.describe_failure(kind, code, msg) end
  local got = util.decode_object(resp.body)
  if resp.status ~= 200 then
    local detail = got and type(got.error) == "string" and (": " .. got.error:sub(1, 100)) or ""
    return nil, string.format("%s answered HTTP %d%s", base, resp.status, detail)
  end
  local token, expires_in = got and value(got, "accessToken"), got and tonumber(got.expiresIn)
  if not token or not expires_in or expires_in <= 0 then
    return nil, base .. " answered without accessToken and expiresIn"
  end
  errors.add_secret(token)
  local new = {}
  for k, v in pairs(obj) do new[k] = v end
  new.accessToken = token
  new.expiresAt = util.format_time(ctx.now() + expires_in)
  if value(got, "refreshToken") then
    errors.add_secret(got.refreshToken)
    new.refreshToken = got.refreshToken
  end
  return new
end

local function can_refresh(ctx, s, obj)
  if not s.session then return false end
  for _, k in ipairs{ "refreshToken", "clientId", "clientSecret" } do
    if not value(obj, k) then return false end
  end
  local reg = value(obj, "registrationExpiresAt")
  local reg_t = reg and util.parse_time((reg:gsub("UTC$", "Z")))
  return not reg or (reg_t ~= nil and reg_t > ctx.now())
end

--- The cached token of the settings (refreshed when it is due and can be):
-- `token`, `expires` (epoch seconds).
-- @raise credentials error `SSOTokenNotFound` or `SSOTokenExpired`
function M.token(ctx, name, s)
  local home = ctx.getenv("HOME") or ""
  local path = home .. "/.aws/sso/cache/" .. core.sha1_hex(s.cache_key) .. ".json"
  local text, rerr = util.read_file(path)
  if not text then
    fail(name, "SSOTokenNotFound", "no cached token (" .. tostring(rerr) .. "); sign in with `"
         .. s.login .. "`", { path = path })
  end
  local obj, why = util.decode_object(text)
  local token = obj and value(obj, "accessToken")
  if obj then
    errors.add_secret(token)
    errors.add_secret(value(obj, "refreshToken"))
    errors.add_secret(value(obj, "clientSecret"))
  end
  if not token then
    fail(name, "SSOTokenNotFound", "the cached token file " .. path .. " is "
         .. (why or "missing accessToken") .. "; sign in again with `" .. s.login .. "`")
  end
  local at = value(obj, "expiresAt")
  local expires = at and util.parse_time((at:gsub("UTC$", "Z")))
  if not expires then
    fail(name, "SSOTokenNotFound", "the cached token in " .. path
         .. " has no valid expiresAt; sign in again with `" .. s.login .. "`")
  end
  local now, refresh_failure = ctx.now(), nil
  if expires - now < M.REFRESH_WINDOW and can_refresh(ctx, s, obj) then
    local new, ferr = refresh(ctx, s, obj)
    if new then
      local ok, werr = core.write_private(path, json.encode(new))
      if not ok then
        -- still usable now; the next process signs in again if the refresh token rotated
        local debug = ctx.opts and ctx.opts.debug
        if debug then debug("warning", { message = "sso: the refreshed token was not cached: " .. werr }) end
      end
      return { token = new.accessToken, expires = util.parse_time(new.expiresAt) }
    end
    refresh_failure = ferr
  end
  if expires <= now then
    fail(name, "SSOTokenExpired", "the cached token expired at " .. util.format_time(expires)
         .. (refresh_failure and (" and refreshing it failed (" .. refresh_failure .. ")") or "")
         .. "; sign in again with `" .. s.login .. "`", { expired_at = expires })
  end
  return { token = token, expires = expires }
end


--- Resolve the role credentials of an SSO profile.
-- @tparam table ctx the chain context
-- @tparam string name profile name
-- @tparam table p the profile's merged settings
-- @treturn table credentials (`source = "sso"`)
-- @raise credentials errors `InvalidConfig`, `SSOTokenNotFound`,
--   `SSOTokenExpired`, `SSOTokenRefused`, `SSOError`
function M.load(ctx, name, p)
  local s = M.settings(ctx, name, p)
  local t = M.token(ctx, name, s)
  local base = M.portal(ctx, s):gsub("/+$", "")
  local url = base .. "/federation/credentials?account_id=" .. util.urlencode(s.account_id)
    .. "&role_name=" .. util.urlencode(s.role_name)
  local timeout = ctx.timeouts.sts
  local resp, kind, code, msg = util.fetch(ctx, {
    method = "GET", url = url, max_body = 65536,
    headers = { { "Accept", "application/json" }, { "x-amz-sso_bearer_token", t.token } },
    connect_timeout = ctx.timeouts.sts_connect, timeout = timeout,
  }, 3)
  if not resp then
    fail(name, kind == "timeout" and "SSOTimeout" or "SSOError",
         base .. ": " .. util.describe_failure(kind, code, msg, timeout))
  end
  if resp.status ~= 200 then
    local obj = util.decode_object(resp.body)
    local detail = ""
    if obj then
      local ecode = util.header(resp, "x-amzn-errortype") or obj.__type or obj.code
      local emsg = obj.message or obj.Message
      if type(ecode) == "string" then detail = ": " .. ecode:gsub(":.*$", "") end
      if type(emsg) == "string" then detail = detail .. ": " .. emsg:sub(1, 200) end
    end
    local text = string.format("%s answered HTTP %d%s", base, resp.status, detail)
    if resp.status == 401 or resp.status == 403 then
      fail(name, "SSOTokenRefused", text .. "; sign in again with `" .. s.login .. "`",
           { status = resp.status })
    end
    fail(name, "SSOError", text, { status = resp.status })
  end
  local obj, jerr = util.decode_object(resp.body)
  local rc = obj and obj.roleCredentials
  if type(rc) ~= "table" then
    fail(name, "SSOError", base .. " answered with a body that is "
         .. (jerr or "without roleCredentials"))
  end
  local exp = tonumber(rc.expiration)
  local c, merr = util.make{
    access_key_id = rc.accessKeyId, secret_access_key = rc.secretAccessKey,
    session_token = rc.sessionToken, expiration = exp and exp / 1000,
    source = "sso", profile = name,
  }
  if not c then fail(name, "SSOError", base .. " answered with incomplete credentials: " .. merr) end
  return c
end

return M
