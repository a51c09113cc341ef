--- Web identity credentials (EKS IRSA and the like): a token file exchanged
-- through STS AssumeRoleWithWebIdentity.
--
-- Layer: Lua layer (credential source 3, and the `web_identity_token_file`
-- case of source 4). From the environment: AWS_WEB_IDENTITY_TOKEN_FILE and
-- AWS_ROLE_ARN, optional AWS_ROLE_SESSION_NAME; it comes before the shared
-- files, except a selected profile that assumes a role with `source_profile`
-- or `credential_source` (botocore's order). The token file is read again
-- on every refresh (the orchestrator rotates it). The token is registered as
-- a secret so that it never shows in an error message.
-- @module fsx.credentials.web_identity
local errors = require("fsx.error")
local setting = require("fsx.config").setting
local util = require("fsx.credentials.util")
-- fsx.credentials.sts (with lua-expat) is required when a token is
-- exchanged: the chain passes through this source before the shared files

local M = { name = "web-identity" }

--- Exchange a token file for role credentials.
-- @tparam table ctx the chain context
-- @tparam table args `role_arn`, `token_file`, `session_name`, `duration_seconds`,
--   `label` (for messages)
-- @treturn table credentials (`source = "web-identity"`)
-- @raise credentials error (`InvalidConfig` when the file cannot be read,
--   else what STS answered)
function M.assume(ctx, args)
  local token, err = util.read_file(args.token_file)
  if not token then
    util.raise{ code = "InvalidConfig", source = "web-identity",
                message = string.format("%s: web identity token file %s cannot be read: %s",
                                        args.label, args.token_file, err) }
  end
  token = token:gsub("^%s+", ""):gsub("%s+$", "")
  if token == "" then
    util.raise{ code = "InvalidConfig", source = "web-identity",
                message = string.format("%s: web identity token file %s is empty",
                                        args.label, args.token_file) }
  end
  errors.add_secret(token)
  local c = require("fsx.credentials.sts").assume_role_with_web_identity(ctx, {
    role_arn = args.role_arn, session_name = args.session_name, token = token,
    duration_seconds = args.duration_seconds,
  }, args.label)
  c.source = "web-identity"
  return c
end

--- Web identity from the environment.
-- @tparam table ctx
-- @treturn ?table credentials, or nil and the reason when not configured
-- @raise credentials error `InvalidConfig` when only part is configured
function M.load(ctx)
  local getenv = ctx.getenv
  local file = getenv("AWS_WEB_IDENTITY_TOKEN_FILE")
  local role = getenv("AWS_ROLE_ARN")
  if not file then return nil, "AWS_WEB_IDENTITY_TOKEN_FILE is not set" end
  if not role then
    util.raise{ code = "InvalidConfig", source = "web-identity",
                message = "web identity: AWS_WEB_IDENTITY_TOKEN_FILE is set but AWS_ROLE_ARN is not" }
  end
  local p = ctx.settings.profile_data
  if setting(p, "role_arn") and not setting(p, "web_identity_token_file") then
    return nil, "skipped: profile " .. ctx.settings.profile .. " assumes role_arn, which comes first"
  end
  return M.assume(ctx, { role_arn = role, token_file = file,
                         session_name = getenv("AWS_ROLE_SESSION_NAME"),
                         label = "web identity (environment) role " .. role })
end

return M
