--- STS calls for role credentials: AssumeRole (signed) and
-- AssumeRoleWithWebIdentity (unsigned).
--
-- Layer: Lua layer; depends on `fsx.config` (custom endpoint order),
-- `fsx.endpoint`, `fsx.xml` (lua-expat) and the injected `deps.transport` /
-- `deps.sign`. STS speaks the AWS Query protocol: a form-encoded POST
-- `Action=...&Version=2011-06-15&...` answered with XML in the namespace
-- `https://sts.amazonaws.com/doc/2011-06-15/`, or an `ErrorResponse`.
--
-- Endpoint: the STS endpoint rule set's answer for the region (us-east-1
-- without one), FIPS, dual-stack and `sts_regional_endpoints`, with the
-- custom endpoint of `AWS_ENDPOINT_URL_STS`, `AWS_ENDPOINT_URL`, the
-- profile's `services` section (`sts =`) or its `endpoint_url` (the SDKs'
-- order for service endpoints).
-- Retries: up to `max_attempts` for HTTP 5xx, throttling, connection
-- failures (and IDPCommunicationError / InvalidIdentityToken for web
-- identity), with a short backoff; timeouts are not retried so a hanging
-- endpoint stalls a caller for one timeout only.
-- @module fsx.credentials.sts
local config = require("fsx.config")
local endpoint = require("fsx.endpoint")
local xml = require("fsx.xml")
local parse_url = require("fsx.url").parse
local amz_date = require("fsx.util").amz_date
local util = require("fsx.credentials.util")

local M = {}

M.VERSION = "2011-06-15"

local RETRYABLE = {
  Throttling = true, ThrottlingException = true, RequestLimitExceeded = true,
  ServiceUnavailable = true, InternalFailure = true, InternalError = true,
}
local WEB_RETRYABLE = { IDPCommunicationError = true, InvalidIdentityToken = true }

-- botocore's `sts_regional_endpoints`: `legacy` sends the regions that once
-- had only the global endpoint to https://sts.amazonaws.com; `regional` (the
-- default) keeps every region on its own endpoint.
-- (`fsx.config` reads and checks the setting.)
local function use_global_endpoint(ctx)
  return ctx.settings.sts_regional_endpoints == "legacy"
end

--- The STS endpoint and signing region for this chain, from the STS rule set
-- (us-east-1 when no region is set).
-- @tparam table ctx the chain context
-- @treturn string URL
-- @treturn string signing region
function M.endpoint(ctx)
  local s = ctx.settings
  local url, _, field = config.custom_endpoint{
    option = ctx.opts.sts_endpoint_url, getenv = ctx.getenv, profile = s.profile_data,
    shared = ctx.shared, env_id = "STS", config_id = "sts",
  }
  if url then url = endpoint.check_custom(url, field) end
  local region = s.region or "us-east-1"
  local ep = endpoint.resolve{
    service = "sts", region = region, use_fips = s.use_fips, use_dualstack = s.use_dualstack,
    endpoint_url = url, endpoint_field = field, use_global_endpoint = use_global_endpoint(ctx),
  }
  return ep.url, ep.signing_region or region
end

--- A default role session name: `lua-fsx-<epoch>`.
function M.session_name(ctx)
  return "lua-fsx-" .. string.format("%d", math.floor(ctx.now()))
end

-- Append headers (array of pairs or a map) to `dst`, skipping names already
-- present and Host (the HTTP helper adds it).
local function add_headers(dst, seen, src)
  if type(src) ~= "table" then return end
  local list = {}
  if src[1] ~= nil then
    for _, h in ipairs(src) do list[#list + 1] = { h[1] or h.name, h[2] or h.value } end
  else
    for k, v in pairs(src) do list[#list + 1] = { k, v } end
  end
  for _, h in ipairs(list) do
    local lname = tostring(h[1]):lower()
    if not seen[lname] and lname ~= "host" then
      seen[lname] = true
      dst[#dst + 1] = h
    end
  end
end

-- Sign the request with the source credentials (`deps.sign`, i.e.
-- `fsx.sigv4.sign`); returns the headers to send besides Host.
local function sign(ctx, url, region, body, creds, label, action)
  local u = assert(parse_url(url))
  local path, query = u.path:match("^([^?]*)%??(.*)$")
  local content_type = { "Content-Type", "application/x-www-form-urlencoded; charset=utf-8" }
  local signer = ctx.deps.sign
  if not signer then
    util.raise{ code = "InvalidConfig", source = "assume-role",
                message = label .. ": sts " .. action .. ": no request signer available" }
  end
  local res, kind, code, msg = signer{
    method = "POST", path = path, query = query,
    headers = { { "Host", u.host_header }, content_type }, body = body,
    region = region, service = "sts",
    access_key_id = creds.access_key_id, secret_access_key = creds.secret_access_key,
    session_token = creds.session_token,
    time = amz_date(ctx.now()),
  }
  if not res then
    util.raise{ code = code or "SigningFailed", source = "assume-role",
                message = string.format("%s: sts %s: signing failed: %s", label, action,
                                        tostring(msg or kind)) }
  end
  local out, seen = { content_type }, { ["content-type"] = true }
  add_headers(out, seen, res.headers)
  if res.authorization and not seen.authorization then
    out[#out + 1] = { "Authorization", res.authorization }
  end
  return out
end

-- Map a non-200 answer to (code, message, request_id).
local function parse_error(resp)
  local root = xml.parse(resp.body or "")
  if root and root.name == "ErrorResponse" then
    return xml.text(root, "Error", "Code") or "UnknownError",
           xml.text(root, "Error", "Message") or "",
           xml.text(root, "RequestId")
  end
  return nil, string.format("HTTP %d with a body that is not an STS error (%d bytes)",
                            resp.status, #(resp.body or ""))
end

--- Call STS and return the credentials of its answer.
-- @tparam table ctx the chain context
-- @tparam string action `AssumeRole` or `AssumeRoleWithWebIdentity`
-- @tparam table params the action's parameters (`RoleArn`, ...)
-- @tparam ?table creds source credentials; nil sends the call unsigned
-- @tparam string label what is being resolved, for messages
--   (`profile dev: role arn:aws:iam::...`)
-- @treturn table credentials with `expiration`
-- @raise credentials error (the STS error code, `InvalidStsResponse`, or the
--   transport code)
function M.call(ctx, action, params, creds, label)
  local url, region = M.endpoint(ctx)
  local form = { Action = action, Version = M.VERSION }
  for k, v in pairs(params) do form[k] = v end
  local body = util.form(form)
  local attempts = tonumber(ctx.settings.max_attempts) or 3
  local connect_timeout = ctx.timeouts.sts_connect
  local timeout = ctx.timeouts.sts
  local source = creds and "assume-role" or "web-identity"
  local last, tried
  for attempt = 1, attempts do
    tried = attempt
    local headers
    if creds then
      headers = sign(ctx, url, region, body, creds, label, action)
    else
      headers = { { "Content-Type", "application/x-www-form-urlencoded; charset=utf-8" } }
    end
    local resp, kind, code, msg = util.http(ctx, {
      method = "POST", url = url, headers = headers, body = body,
      connect_timeout = connect_timeout, timeout = timeout,
    })
    local retry
    if not resp then
      last = { code = code or kind, kind = kind,
               message = string.format("%s: sts %s at %s: %s", label, action, url,
                                       util.describe_failure(kind, code, msg, timeout)) }
      retry = kind ~= "timeout"
    elseif resp.status == 200 then
      local root, xerr = xml.parse(resp.body or "")
      local c = root and xml.find(root, action .. "Result", "Credentials")
      if not c then
        util.raise{ code = "InvalidStsResponse", source = source, status = 200,
                    message = string.format("%s: sts %s: unexpected response (%s, %d bytes)",
                      label, action, root and ("root element " .. root.name) or xerr,
                      #(resp.body or "")) }
      end
      local fields = {
        access_key_id = xml.text(c, "AccessKeyId"),
        secret_access_key = xml.text(c, "SecretAccessKey"),
        session_token = xml.text(c, "SessionToken"),
        expiration = xml.text(c, "Expiration"),
        source = source,
      }
      util.register(fields)
      if not fields.expiration then
        util.raise{ code = "InvalidStsResponse", source = source,
                    message = label .. ": sts " .. action .. ": no Expiration in the answer" }
      end
      local out, why = util.make(fields)
      if not out then
        util.raise{ code = "InvalidStsResponse", source = source,
                    message = label .. ": sts " .. action .. ": " .. why }
      end
      out.role_arn = params.RoleArn
      out.assumed_role_arn = xml.text(root, action .. "Result", "AssumedRoleUser", "Arn")
      return out
    else
      local ecode, emsg, rid = parse_error(resp)
      last = { code = ecode or "InvalidStsResponse", status = resp.status, request_id = rid,
               message = string.format("%s: sts %s: %s%s", label, action,
                 ecode and (ecode .. ": ") or "", emsg) }
      retry = resp.status >= 500 or RETRYABLE[ecode or ""] == true
        or (not creds and WEB_RETRYABLE[ecode or ""] == true)
    end
    if not retry or attempt == attempts then break end
    if ctx.deps.sleep then ctx.deps.sleep(math.min(0.1 * 2 ^ (attempt - 1), 2)) end
  end
  last.source = source
  last.attempts = tried
  util.raise(last)
end

--- AssumeRole with source credentials.
-- @tparam table ctx
-- @tparam table role `role_arn`, `session_name`, `external_id`, `duration_seconds`
-- @tparam table creds the source credentials
-- @tparam string label for messages
-- @treturn table credentials (`source = "assume-role"`)
function M.assume_role(ctx, role, creds, label)
  local params = { RoleArn = role.role_arn, RoleSessionName = role.session_name or M.session_name(ctx) }
  if role.external_id then params.ExternalId = role.external_id end
  if role.duration_seconds then params.DurationSeconds = role.duration_seconds end
  return M.call(ctx, "AssumeRole", params, creds, label)
end

--- AssumeRoleWithWebIdentity (unsigned).
-- @tparam table ctx
-- @tparam table role `role_arn`, `session_name`, `token`, `duration_seconds`
-- @tparam string label
-- @treturn table credentials (`source = "web-identity"`)
function M.assume_role_with_web_identity(ctx, role, label)
  local params = { RoleArn = role.role_arn,
                   RoleSessionName = role.session_name or M.session_name(ctx),
                   WebIdentityToken = role.token }
  if role.duration_seconds then params.DurationSeconds = role.duration_seconds end
  return M.call(ctx, "AssumeRoleWithWebIdentity", params, nil, label)
end

return M
