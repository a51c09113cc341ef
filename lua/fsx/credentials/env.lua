--- Credentials from the environment: AWS_ACCESS_KEY_ID,
-- AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN (and the optional
-- AWS_CREDENTIAL_EXPIRATION, ISO 8601).
--
-- Layer: Lua layer (credential source 2). Skipped when a profile was named
-- explicitly with the `profile` option (botocore does the same; AWS_PROFILE
-- does not skip it). One of the two keys without the other is an error
-- (`PartialCredentials`), not a silent fall-through.
-- @module fsx.credentials.env
local util = require("fsx.credentials.util")

local M = { name = "env" }

--- Read the keys from the environment.
-- @tparam table ctx the chain context (`getenv`, `settings`)
-- @tparam[opt] string source_label the source named in errors (default `"env"`)
-- @treturn ?table credentials, or nil and the reason
-- @raise credentials error `PartialCredentials`
function M.read(ctx, source_label)
  local getenv = ctx.getenv
  local akid = getenv("AWS_ACCESS_KEY_ID")
  local secret = getenv("AWS_SECRET_ACCESS_KEY")
  local token = getenv("AWS_SESSION_TOKEN")
  util.register{ secret_access_key = secret, session_token = token }
  if not akid and not secret then
    return nil, "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set"
  end
  if not akid or not secret then
    util.raise{ code = "PartialCredentials", source = source_label or "env",
                message = string.format("%s: %s is set but %s is not", source_label or "env",
                  akid and "AWS_ACCESS_KEY_ID" or "AWS_SECRET_ACCESS_KEY",
                  akid and "AWS_SECRET_ACCESS_KEY" or "AWS_ACCESS_KEY_ID") }
  end
  local c, why = util.make{ access_key_id = akid, secret_access_key = secret,
                            session_token = token,
                            expiration = getenv("AWS_CREDENTIAL_EXPIRATION"),
                            source = "env" }
  if not c then
    util.raise{ code = "InvalidCredentials", source = source_label or "env",
                message = (source_label or "env") .. ": AWS_CREDENTIAL_EXPIRATION: " .. why }
  end
  return c
end

--- Load environment credentials unless a profile was named explicitly.
function M.load(ctx)
  if ctx.settings.profile_explicit then
    return nil, "skipped: profile " .. ctx.settings.profile .. " was named explicitly"
  end
  return M.read(ctx)
end

return M
