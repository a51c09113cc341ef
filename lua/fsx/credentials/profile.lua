--- Credentials from a profile of the shared files.
--
-- Layer: Lua layer (credential source 4). The profile is the `profile`
-- option, AWS_PROFILE, or `default`. Within a profile, in botocore's order:
--
-- 1. `role_arn` + `web_identity_token_file`: AssumeRoleWithWebIdentity;
-- 2. `role_arn` + `source_profile` (resolved recursively, loops refused; a
--    profile may name itself when it holds static keys) or
--    `credential_source` (`Environment`, `Ec2InstanceMetadata`,
--    `EcsContainer`): AssumeRole signed with those credentials, with
--    `external_id`, `duration_seconds`, `role_session_name`; `mfa_serial` is
--    not supported and says so;
-- 3. IAM Identity Center: `sso_session` or `sso_start_url` (fsx.credentials.sso);
-- 4. static keys from the credentials file;
-- 5. `credential_process`;
-- 6. static keys from the config file.
--
-- A source profile that has static keys gives them as they are, without
-- assuming its own `role_arn` (botocore). A named profile that does not exist
-- (`fsx.config` raises `ProfileNotFound`), partial keys, a loop or an
-- unknown `credential_source` raise `credentials` errors; an absent `default`
-- profile just gives nothing.
-- @module fsx.credentials.profile
local setting = require("fsx.config").setting
local util = require("fsx.credentials.util")
local env = require("fsx.credentials.env")
-- fsx.credentials.process, .sso, .sts (with lua-expat) and .web_identity
-- are required where a profile needs them: static keys need none of them

local M = { name = "profile" }

local function invalid(profile, msg, code)
  util.raise{ code = code or "InvalidConfig", source = "profile", profile = profile,
              message = "profile " .. profile .. ": " .. msg }
end

local function files_text(shared)
  return string.format("%s (%s), %s (%s)",
    shared.credentials_file, shared.credentials_exists and "read" or "missing",
    shared.config_file, shared.config_exists and "read" or "missing")
end

-- Static keys of one profile table: creds, or nil; raises on partial keys.
local function static_keys(name, p)
  if not p then return nil end
  local akid, secret = p.aws_access_key_id, p.aws_secret_access_key
  if type(akid) ~= "string" or akid == "" then akid = nil end
  if type(secret) ~= "string" or secret == "" then secret = nil end
  util.register{ secret_access_key = secret, session_token = p.aws_session_token }
  if not akid and not secret then return nil end
  if not akid then invalid(name, "aws_secret_access_key is set but aws_access_key_id is missing",
                           "PartialCredentials") end
  if not secret then invalid(name, "aws_access_key_id is set but aws_secret_access_key is missing",
                             "PartialCredentials") end
  local c = util.make{ access_key_id = akid, secret_access_key = secret,
                       session_token = p.aws_session_token, source = "profile", profile = name }
  return c
end

local CREDENTIAL_SOURCES = {
  Environment = function(ctx, name)
    local c, why = env.read(ctx, "profile " .. name .. " credential_source Environment")
    if not c then invalid(name, "credential_source Environment: " .. why) end
    return c
  end,
  Ec2InstanceMetadata = function(ctx, name)
    local c, why = require("fsx.credentials.imds").load(ctx)
    if not c then invalid(name, "credential_source Ec2InstanceMetadata: " .. why) end
    return c
  end,
  EcsContainer = function(ctx, name)
    local c, why = require("fsx.credentials.container").load(ctx)
    if not c then invalid(name, "credential_source EcsContainer: " .. why) end
    return c
  end,
}

local function duration(name, p)
  local d = p.duration_seconds
  if d == nil or d == "" then return nil end
  local n = tonumber(d)
  if not n or n ~= math.floor(n) or n < 900 or n > 43200 then
    invalid(name, "duration_seconds must be an integer from 900 to 43200")
  end
  return string.format("%d", n)
end

--- True when a profile sets any of the static key settings (botocore's test
-- for a source profile that is used as it is).
function M.has_static_keys(p)
  return setting(p, "aws_access_key_id") ~= nil or setting(p, "aws_secret_access_key") ~= nil
    or setting(p, "aws_session_token") ~= nil
end

--- Resolve the credentials of one profile.
-- @tparam table ctx the chain context
-- @tparam string name profile name
-- @tparam table chain profile names already being resolved (loop detection)
-- @tparam boolean top true for the selected profile, false for a source profile
-- @treturn ?table credentials, or (top only) nil and the reason
function M.resolve(ctx, name, chain, top)
  local shared = ctx.shared
  local p = shared.profiles[name]
  if not p then
    invalid(name, "not found in " .. files_text(shared), "ProfileNotFound")
  end
  chain[#chain + 1] = name

  -- a source profile with static keys gives its own credentials, even when
  -- it has a role_arn (botocore): the role is assumed once, not chained
  if setting(p, "role_arn") and (top or not M.has_static_keys(p)) then
    local label = "profile " .. name .. ": role " .. p.role_arn
    if p.web_identity_token_file and p.web_identity_token_file ~= "" then
      local c = require("fsx.credentials.web_identity").assume(ctx, {
        role_arn = p.role_arn, token_file = p.web_identity_token_file,
        session_name = p.role_session_name, duration_seconds = duration(name, p), label = label,
      })
      c.profile = name
      return c
    end
    if p.mfa_serial and p.mfa_serial ~= "" then
      invalid(name, "mfa_serial is set, but MFA-protected roles are not supported"
              .. " (no way to prompt for a token code)", "MfaNotSupported")
    end
    local src, csrc = p.source_profile, p.credential_source
    if src == "" then src = nil end
    if csrc == "" then csrc = nil end
    if src and csrc then
      invalid(name, "source_profile and credential_source are both set; use one")
    end
    local source_creds
    if src then
      if src == name then
        source_creds = static_keys(name, p)
        if not source_creds then
          invalid(name, "source_profile names the profile itself, which has no static keys")
        end
      else
        for _, seen in ipairs(chain) do
          if seen == src then
            invalid(name, "source_profile loop: " .. table.concat(chain, " -> ") .. " -> " .. src,
                    "ProfileLoop")
          end
        end
        if not shared.profiles[src] then
          invalid(name, "source_profile " .. src .. " not found in " .. files_text(shared),
                  "ProfileNotFound")
        end
        source_creds = M.resolve(ctx, src, chain, false)
      end
    elseif csrc then
      local get = CREDENTIAL_SOURCES[csrc]
      if not get then
        invalid(name, "unsupported credential_source " .. csrc
                .. " (use Environment, Ec2InstanceMetadata or EcsContainer)")
      end
      source_creds = get(ctx, name)
    else
      invalid(name, "role_arn needs source_profile, credential_source or web_identity_token_file")
    end
    local c = require("fsx.credentials.sts").assume_role(ctx, {
      role_arn = p.role_arn, session_name = p.role_session_name,
      external_id = p.external_id ~= "" and p.external_id or nil,
      duration_seconds = duration(name, p),
    }, source_creds, label)
    c.source = "assume-role"
    c.profile = name
    return c
  end

  if setting(p, "web_identity_token_file") and not setting(p, "role_arn") then
    invalid(name, "web_identity_token_file is set but role_arn is missing")
  end
  if setting(p, "sso_session") or setting(p, "sso_start_url") then
    return require("fsx.credentials.sso").load(ctx, name, p)
  end
  local c = static_keys(name, shared.credentials_profiles[name])
  if c then return c end
  if p.credential_process and p.credential_process ~= "" then
    c = require("fsx.credentials.process").run(ctx, p.credential_process, name)
    c.profile = name
    return c
  end
  c = static_keys(name, p)
  if c then return c end

  local why = "has no aws_access_key_id, credential_process, sso_session or role_arn"
  if top then return nil, "profile " .. name .. " " .. why end
  invalid(name, "source profile " .. why)
end

--- Load the selected profile's credentials.
-- @tparam table ctx the chain context
-- @treturn ?table credentials, or nil and the reason
function M.load(ctx)
  local s = ctx.settings
  local name = s.profile or "default"
  -- a profile named by the option or the environment exists: fsx.config
  -- checked it; only `default` may be missing
  if not ctx.shared.profiles[name] then
    return nil, "profile " .. name .. " not found in " .. files_text(ctx.shared)
  end
  return M.resolve(ctx, name, {}, true)
end

return M
