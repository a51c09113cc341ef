--- EC2 instance metadata credentials, IMDSv2 only.
--
-- Layer: Lua layer (credential source 6, the last one). Three requests:
-- `PUT /latest/api/token` with `X-aws-ec2-metadata-token-ttl-seconds`, then
-- `GET /latest/meta-data/iam/security-credentials/` for the role name, then
-- `GET .../<role>` for the JSON credentials, each with the token in
-- `X-aws-ec2-metadata-token`. No IMDSv1 fallback.
--
-- So that a laptop is not stalled, each request has a 1 s timeout
-- (AWS_METADATA_SERVICE_TIMEOUT) and one attempt
-- (AWS_METADATA_SERVICE_NUM_ATTEMPTS). AWS_EC2_METADATA_DISABLED=true skips
-- the source. The base URL is http://169.254.169.254 (http://[fd00:ec2::254]
-- with AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE=IPv6), or
-- AWS_EC2_METADATA_SERVICE_ENDPOINT / the profile's
-- `ec2_metadata_service_endpoint`. `fsx.config` reads and checks all of
-- these settings (`metadata_timeout`, `metadata_attempts`, `imds_disabled`,
-- `imds_endpoint_mode`, `imds_endpoint`).
--
-- `load` never raises for an unreachable or misbehaving service: it returns
-- nil and the reason, and the chain reports it.
-- @module fsx.credentials.imds
local errors = require("fsx.error")
local util = require("fsx.credentials.util")

-- The provider extends these credentials near their expiry (static
-- stability, see fsx.credentials): IMDS keeps serving them during an outage.
local M = { name = "imds", static_stability = true }

M.BASE = "http://169.254.169.254"
M.BASE_IPV6 = "http://[fd00:ec2::254]"
M.TOKEN_TTL = "21600"
M.CREDS_PATH = "/latest/meta-data/iam/security-credentials/"

--- The base URL of the metadata service.
function M.base(ctx)
  local s = ctx.settings
  local base = s.imds_endpoint
    or (s.imds_endpoint_mode == "ipv6" and M.BASE_IPV6 or M.BASE)
  return (base:gsub("/+$", ""))
end

--- Fetch credentials from the metadata service.
-- @tparam table ctx the chain context
-- @treturn ?table credentials, or nil and the reason
function M.load(ctx)
  local s = ctx.settings
  if s.imds_disabled then
    return nil, "disabled by AWS_EC2_METADATA_DISABLED"
  end
  local base = M.base(ctx)
  local timeout = s.metadata_timeout or ctx.timeouts.imds
  local attempts = s.metadata_attempts or 1

  local function request(method, path, headers)
    local resp, kind, code, msg
    for _ = 1, attempts do
      resp, kind, code, msg = util.http(ctx, {
        method = method, url = base .. path, headers = headers,
        connect_timeout = timeout, timeout = timeout, max_body = 65536,
        no_proxy = true, -- the instance's own link-local service, never a proxy's
      })
      if resp and resp.status < 500 then break end
    end
    if not resp then
      return nil, string.format("%s%s: %s", base, path,
                                util.describe_failure(kind, code, msg, timeout))
    end
    return resp
  end

  local resp, err = request("PUT", "/latest/api/token",
                            { { "X-aws-ec2-metadata-token-ttl-seconds", M.TOKEN_TTL } })
  if not resp then return nil, "no session token: " .. err end
  if resp.status ~= 200 then
    return nil, string.format("session token request answered HTTP %d (IMDSv2 is required)",
                              resp.status)
  end
  local token = (resp.body or ""):gsub("^%s+", ""):gsub("%s+$", "")
  if token == "" or token:find("[\r\n]") then return nil, "session token is empty or malformed" end
  errors.add_secret(token)
  local auth = { { "X-aws-ec2-metadata-token", token } }

  resp, err = request("GET", M.CREDS_PATH, auth)
  if not resp then return nil, "role name: " .. err end
  if resp.status == 404 then return nil, "no IAM role is attached to this instance" end
  if resp.status ~= 200 then
    return nil, string.format("role name request answered HTTP %d", resp.status)
  end
  -- the first line is the role name
  local role = ((resp.body or ""):match("^%s*([^\r\n]*)") or ""):gsub("%s+$", "")
  if role == "" or not role:match("^[%w+=,.@_%-]+$") then
    return nil, "role name answer is empty or malformed"
  end

  resp, err = request("GET", M.CREDS_PATH .. role, auth)
  if not resp then return nil, "credentials of role " .. role .. ": " .. err end
  if resp.status ~= 200 then
    return nil, string.format("credentials of role %s: HTTP %d", role, resp.status)
  end
  local obj, jerr = util.decode_object(resp.body)
  if not obj then
    return nil, string.format("credentials of role %s: body is %s (%d bytes)", role, jerr,
                              #(resp.body or ""))
  end
  util.register{ secret_access_key = obj.SecretAccessKey, session_token = obj.Token }
  if obj.Code ~= nil and obj.Code ~= "Success" then
    return nil, string.format("credentials of role %s: Code %s", role,
                              type(obj.Code) == "string" and obj.Code or "?")
  end
  local c, merr = util.make{
    access_key_id = obj.AccessKeyId, secret_access_key = obj.SecretAccessKey,
    session_token = obj.Token, expiration = obj.Expiration, source = "imds", role = role,
  }
  if not c then return nil, "credentials of role " .. role .. ": " .. merr end
  return c
end

return M
