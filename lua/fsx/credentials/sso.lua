--- Credentials of an IAM Identity Center (SSO) profile, from the token that
-- `aws sso login` left in the AWS CLI's cache.
--
-- Layer: Lua layer (part of credential source 3). A profile names either an
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
-- Not done: signing in (`aws sso login` does it, in a browser) and refreshing
-- an expired token with its refresh token; both raise `SSOTokenExpired` /
-- `SSOTokenNotFound` naming the login command to run. The token never
-- appears in an error.
-- @module fsx.credentials.sso
local core = require("fsx.core")
local config = require("fsx.config")
local endpoint = require("fsx.endpoint")
local errors = require("fsx.error")
local util = require("fsx.credentials.util")

local M = { name = "sso" }

local function fail(profile, code, msg, extra)
  local t = { code = code, source = "sso", profile = profile,
              message = "profile " .. profile .. ": sso: " .. msg }
  for k, v in pairs(extra or {}) do t[k] = v end
  util.raise(t)
end

local function value(t, k)
  local v = t and t[k]
  if type(v) == "string" and v ~= "" then return v end
  return nil
end

--- True when a profile is set up for IAM Identity Center.
function M.configured(p)
  return value(p, "sso_session") ~= nil or value(p, "sso_start_url") ~= nil
end

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

--- The cached token of the settings: `token`, `expires` (epoch seconds).
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
  if token then errors.add_secret(token) end
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
  if expires <= ctx.now() then
    fail(name, "SSOTokenExpired", "the cached token expired at " .. util.format_time(expires)
         .. "; sign in again with `" .. s.login .. "`", { expired_at = expires })
  end
  return { token = token, expires = expires }
end

--- The portal URL for the settings.
function M.portal(ctx, s)
  local url, _, field = config.custom_endpoint{
    getenv = ctx.getenv, profile = ctx.settings and ctx.settings.profile_data,
    shared = ctx.shared, env_id = "SSO", config_id = "sso",
  }
  if url then return endpoint.check_custom(url, field) end
  local p = endpoint.partition(s.region)
  return "https://portal.sso." .. s.region .. "." .. p.dns_suffix
end

local ATTEMPTS = 3

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
  for attempt = 1, ATTEMPTS do
    local resp, kind, code, msg = util.http(ctx, {
      method = "GET", url = url, max_body = 65536,
      headers = { { "Accept", "application/json" }, { "x-amz-sso_bearer_token", t.token } },
      connect_timeout = ctx.timeouts.sts_connect, timeout = timeout,
    })
    if resp and resp.status == 200 then
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
    if resp then
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
      if resp.status < 500 and resp.status ~= 429 or attempt == ATTEMPTS then
        fail(name, "SSOError", text, { status = resp.status })
      end
    else
      local text = base .. ": " .. util.describe_failure(kind, code, msg, timeout)
      if kind == "timeout" or attempt == ATTEMPTS then
        fail(name, kind == "timeout" and "SSOTimeout" or "SSOError", text)
      end
    end
    if ctx.deps.sleep then ctx.deps.sleep(0.1 * attempt) end
  end
end

return M
