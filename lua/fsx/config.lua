--- Client settings resolved the way the AWS SDKs resolve them.
--
-- Layer: Lua layer; depends on `fsx.error`, `fsx.ini`, `fsx.endpoint`,
-- `fsx.useragent`. Every setting comes from, in order: the option passed to
-- `fsx.new`, the environment, the selected profile of the shared files,
-- a default. The environment is read through `opts.getenv` when given (tests
-- inject a table-backed function), else `os.getenv`.
--
-- Shared files: `AWS_CONFIG_FILE` (default `~/.aws/config`, sections
-- `[default]`, `[profile NAME]`, `[services NAME]`, `[sso-session NAME]`) and
-- `AWS_SHARED_CREDENTIALS_FILE` (default `~/.aws/credentials`, sections
-- `[NAME]`; NAME may be quoted: `[profile "my prof"]`). Both paths get
-- `$VAR`/`${VAR}` and a leading `~` expanded. For a profile present in both
-- files, the credentials file's keys win. A missing file or a directory is
-- ignored; a file that exists but cannot be read or parsed raises a
-- `validation` error `InvalidConfigFile`, as botocore does. A profile named
-- by the `profile` option, AWS_PROFILE or AWS_DEFAULT_PROFILE that is in
-- neither file raises the `credentials` error `ProfileNotFound`.
-- @module fsx.config
local errors = require("fsx.error")
local ini = require("fsx.ini")
local endpoint = require("fsx.endpoint")
local parse_url = require("fsx.url").parse

local M = {}

--- The service id used in `AWS_ENDPOINT_URL_<ID>` and `[services]` sections.
M.SERVICE_ENV_ID = "FSX"
M.SERVICE_CONFIG_ID = "fsx"

local function invalid(field, msg)
  errors.raise{ kind = "validation", code = "InvalidConfiguration",
                message = "config: " .. field .. ": " .. msg, field = field }
end

--- Build the environment reader: `opts.getenv` or `os.getenv`; empty values
-- count as unset.
-- @tparam ?table opts
-- @treturn function name -> string or nil
function M.getenv_of(opts)
  local raw = (opts and opts.getenv) or os.getenv
  return function(name)
    local v = raw(name)
    if v == nil or v == "" then return nil end
    return v
  end
end

local function expand_home(path, getenv)
  if type(path) ~= "string" then return path end
  if path:sub(1, 1) == "~" and (path:sub(2, 2) == "/" or #path == 1) then
    local home = getenv("HOME") or ""
    return home .. path:sub(2)
  end
  return path
end

-- A shared file path as botocore reads it: `$NAME` and `${NAME}` replaced by
-- the variable (left as they are when it is unset), then a leading `~`.
local function expand_path(path, getenv)
  if type(path) ~= "string" then return path end
  local function var(whole, name)
    return getenv(name) or whole
  end
  path = path:gsub("(%${([^}]*)})", var):gsub("(%$([%w_]+))", var)
  return expand_home(path, getenv)
end

--- The two shared file paths.
-- @tparam ?table opts may hold `config_file`, `credentials_file`
-- @tparam function getenv
-- @treturn string config file path
-- @treturn string credentials file path
function M.file_paths(opts, getenv)
  opts = opts or {}
  local cfg = opts.config_file or getenv("AWS_CONFIG_FILE") or "~/.aws/config"
  local cred = opts.credentials_file or getenv("AWS_SHARED_CREDENTIALS_FILE")
    or "~/.aws/credentials"
  return expand_path(cfg, getenv), expand_path(cred, getenv)
end

local function copy(t)
  local c = {}
  for k, v in pairs(t) do c[k] = v end
  return c
end

--- Load and merge the shared files.
-- @tparam ?table opts `config_file`, `credentials_file`, `getenv`
-- @treturn table `{ profiles = { name = merged table },
--   config_profiles =, credentials_profiles =, services = { name = table },
--   sso_sessions = { name = table },
--   config_file =, credentials_file =, config_exists =, credentials_exists = }`
-- @raise validation error `InvalidConfigFile` for an unreadable or malformed file
function M.load_shared(opts)
  local getenv = M.getenv_of(opts)
  local cfg_path, cred_path = M.file_paths(opts, getenv)
  local shared = {
    profiles = {}, config_profiles = {}, credentials_profiles = {}, services = {},
    sso_sessions = {},
    config_file = cfg_path, credentials_file = cred_path,
  }
  local cfg, err, cfg_order = ini.read(cfg_path)
  if err then
    errors.raise{ kind = "validation", code = "InvalidConfigFile", field = "config_file",
                  message = "config: config_file: " .. err, path = cfg_path }
  end
  local cred, cerr = ini.read(cred_path)
  if cerr then
    errors.raise{ kind = "validation", code = "InvalidConfigFile", field = "credentials_file",
                  message = "config: credentials_file: " .. cerr, path = cred_path }
  end
  shared.config_exists = cfg ~= nil
  shared.credentials_exists = cred ~= nil
  -- botocore's reading of the config file's sections, in file order: a
  -- header starting with `profile`, `sso-session` or `services` names one
  -- when it splits into exactly two shell words (`[profile "my prof"]`);
  -- `[default]` is the default profile; of two sections naming the same
  -- profile (`[default]` and `[profile default]`), the later one counts
  local kinds = { profile = shared.config_profiles, ["sso-session"] = shared.sso_sessions,
                  services = shared.services }
  for _, section in ipairs(cfg_order or {}) do
    local values = cfg[section]
    local prefix = section:match("^profile") or section:match("^sso%-session")
      or section:match("^services")
    if prefix then
      local words = ini.shell_split(section)
      local into = kinds[prefix]
      if words and #words == 2 then into[words[2]] = values end
    elseif section == "default" then
      shared.config_profiles.default = values
    end
  end
  for section, values in pairs(cred or {}) do
    shared.credentials_profiles[section] = values
  end
  for name, values in pairs(shared.config_profiles) do
    shared.profiles[name] = copy(values)
  end
  for name, values in pairs(shared.credentials_profiles) do
    local merged = shared.profiles[name] or {}
    for k, v in pairs(values) do merged[k] = v end
    shared.profiles[name] = merged
  end
  return shared
end

local TRUE = { ["true"] = true }
local FALSE = { ["false"] = true }

-- Parse a boolean setting (option boolean, or "true"/"false" text); `from`
-- names where it came from, for the message.
local function boolean(value, field, from)
  if value == nil then return nil end
  if type(value) == "boolean" then return value end
  if type(value) == "string" then
    local l = value:lower()
    if TRUE[l] then return true end
    if FALSE[l] then return false end
  end
  invalid(field, string.format("must be true or false, got %q%s", tostring(value),
                               from and (" (from " .. from .. ")") or ""))
end

-- Parse a number setting: nil when unset, else a decimal number (`whole`: an
-- integer) with lo < n <= hi (`lo_inclusive`: lo <= n). Anything else (text,
-- hexadecimal, inf, nan, out of range) is a configuration error naming the
-- setting and where it came from.
local function number(value, field, from, range)
  if value == nil then return nil end
  local n
  if type(value) == "number" then
    n = value
  elseif type(value) == "string" and value:match("^%s*%d*%.?%d+%s*$") then
    n = tonumber(value)
  end
  local ok = n ~= nil and n == n and n < math.huge and n <= range.hi
    and (n > range.lo or (range.lo_inclusive and n == range.lo))
    and (not range.whole or n == math.floor(n))
  if not ok then
    invalid(field, string.format("must be %s, got %q (from %s)", range.text, tostring(value), from))
  end
  return n
end

-- Where a setting came from, for messages: the option, the environment
-- variable, or the profile's key.
local function origin(src, env_name, profile_name, key)
  if src == "option" then return "option" end
  if src == "env" then return env_name end
  return "profile " .. tostring(profile_name) .. " " .. key
end

local ATTEMPTS = { lo = 1, hi = 100, lo_inclusive = true, whole = true,
                   text = "an integer from 1 to 100" }
local METADATA_TIMEOUT = { lo = 0, hi = 120, text = "a number of seconds above 0, at most 120" }
local METADATA_ATTEMPTS = { lo = 1, hi = 20, lo_inclusive = true, whole = true,
                            text = "an integer from 1 to 20" }

-- The first non-nil value among (value, source) pairs.
local function first(...)
  local n = select("#", ...)
  for i = 1, n, 2 do
    local v = select(i, ...)
    if v ~= nil and v ~= "" then return v, select(i + 1, ...) end
  end
  return nil
end

--- A setting of a profile (or of any section of the shared files): its value
-- when it is a non-empty string, else nil.
function M.setting(profile, key)
  local v = profile and profile[key]
  if type(v) == "string" and v ~= "" then return v end
  return nil
end

local profile_value = M.setting

--- The custom endpoint of a service, botocore's order: option,
-- `AWS_ENDPOINT_URL_<ID>`, `AWS_ENDPOINT_URL`, the profile's `services`
-- section, the profile's `endpoint_url`. The environment and the shared
-- files are skipped when `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS` (or the
-- profile's `ignore_configured_endpoint_urls`) is true.
-- @tparam table args `option`, `getenv`, `profile` (merged table), `shared`,
--   `env_id` (`FSX`), `config_id` (`fsx`)
-- @treturn ?string url
-- @treturn ?string source: `option`, `env`, `profile`
-- @treturn ?string the setting it came from (for messages)
function M.custom_endpoint(args)
  if args.option ~= nil then return args.option, "option", "endpoint_url" end
  local getenv, profile = args.getenv, args.profile
  local ignore, isrc = first(getenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"), "env",
                             profile_value(profile, "ignore_configured_endpoint_urls"), "profile")
  if boolean(ignore, "ignore_configured_endpoint_urls",
             isrc == "env" and "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"
             or "the profile's ignore_configured_endpoint_urls") then
    return nil
  end
  local name = "AWS_ENDPOINT_URL_" .. args.env_id
  local v = getenv(name)
  if v then return v, "env", name end
  v = getenv("AWS_ENDPOINT_URL")
  if v then return v, "env", "AWS_ENDPOINT_URL" end
  local services = profile_value(profile, "services")
  if services and args.shared and args.shared.services[services] then
    local block = args.shared.services[services][args.config_id]
    if type(block) == "table" and profile_value(block, "endpoint_url") then
      return block.endpoint_url, "profile", "services " .. services .. " " .. args.config_id
    end
  end
  v = profile_value(profile, "endpoint_url")
  if v then return v, "profile", "endpoint_url" end
  return nil
end

-- Region names with a FIPS marker (`fips-us-east-1`, `us-east-1-fips`) turn
-- FIPS on and are reduced to the plain region, as botocore does.
local function split_fips_region(region)
  local plain = region:match("^fips%-(.+)$") or region:match("^(.+)%-fips$")
  if plain then return plain, true end
  return region, false
end

-- The retry settings of resolve: `max_attempts` and `retry_mode`.
local function resolve_retries(s, opts, pdata)
  local getenv = s.getenv
  local attempts, asrc = first(opts.max_attempts, "option", getenv("AWS_MAX_ATTEMPTS"), "env",
                               profile_value(pdata, "max_attempts"), "profile")
  s.max_attempts = number(attempts, "max_attempts",
                          origin(asrc, "AWS_MAX_ATTEMPTS", s.profile, "max_attempts"), ATTEMPTS) or 3
  local mode, msrc = first(opts.retry_mode, "option", getenv("AWS_RETRY_MODE"), "env",
                           profile_value(pdata, "retry_mode"), "profile")
  if mode == nil then
    s.retry_mode = "standard"
  elseif mode == "standard" or mode == "adaptive" then
    s.retry_mode = mode
  elseif mode == "legacy" then
    -- botocore's old default; the standard mode is its successor
    s.retry_mode = "standard"
  else
    invalid("retry_mode", string.format("must be standard or adaptive, got %q (from %s)",
                                        tostring(mode),
                                        origin(msrc, "AWS_RETRY_MODE", s.profile, "retry_mode")))
  end
end

-- The instance metadata, container and STS settings of resolve (from the
-- environment or the profile).
local function resolve_metadata(s, pdata)
  local getenv = s.getenv
  local function env_or_profile(env_name, key)
    local v, src = first(getenv(env_name), "env", profile_value(pdata, key), "profile")
    return v, origin(src, env_name, s.profile, key)
  end
  local v, from = env_or_profile("AWS_METADATA_SERVICE_TIMEOUT", "metadata_service_timeout")
  s.metadata_timeout = number(v, "metadata_service_timeout", from, METADATA_TIMEOUT)
  v, from = env_or_profile("AWS_METADATA_SERVICE_NUM_ATTEMPTS", "metadata_service_num_attempts")
  s.metadata_attempts = number(v, "metadata_service_num_attempts", from, METADATA_ATTEMPTS)
  -- (an environment variable only, as in botocore)
  s.imds_disabled = boolean(getenv("AWS_EC2_METADATA_DISABLED"), "AWS_EC2_METADATA_DISABLED",
                            "AWS_EC2_METADATA_DISABLED") or false
  v, from = env_or_profile("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE",
                           "ec2_metadata_service_endpoint_mode")
  if v ~= nil and v:lower() ~= "ipv4" and v:lower() ~= "ipv6" then
    invalid("ec2_metadata_service_endpoint_mode",
            string.format("must be IPv4 or IPv6, got %q (from %s)", v, from))
  end
  s.imds_endpoint_mode = v and v:lower() or "ipv4"
  v, from = env_or_profile("AWS_EC2_METADATA_SERVICE_ENDPOINT", "ec2_metadata_service_endpoint")
  if v ~= nil then
    local u = parse_url(v)
    if not u or (u.scheme ~= "http" and u.scheme ~= "https") then
      invalid("ec2_metadata_service_endpoint",
              string.format("must be an http or https URL, got %q (from %s)", v, from))
    end
  end
  s.imds_endpoint = v
  v, from = env_or_profile("AWS_STS_REGIONAL_ENDPOINTS", "sts_regional_endpoints")
  if v ~= nil and v ~= "regional" and v ~= "legacy" then
    invalid("sts_regional_endpoints",
            string.format("must be regional or legacy, got %q (from %s)", v, from))
  end
  s.sts_regional_endpoints = v or "regional"
end

--- Resolve every client setting.
-- @tparam ?table opts the options of `fsx.new`: `region`, `profile`,
--   `endpoint_url`, `max_attempts`, `retry_mode`, `use_fips_endpoint`
--   (or `use_fips`), `use_dualstack_endpoint` (or `use_dualstack`), `ca_file`,
--   `app_id`, `user_agent` (replaces the library's User-Agent),
--   `user_agent_extra` (appended to it), `config_file`,
--   `credentials_file`, `getenv`
-- @treturn table settings: `region`, `profile`, `profile_explicit`,
--   `profile_source` (`option`/`env`/nil), `endpoint_url`, `endpoint_source`
--   (`option`/`env`/`profile`/`resolved`), `signing_region` and
--   `signing_name` (when the endpoint rule set names them),
--   `max_attempts`, `retry_mode`, `use_fips`, `use_dualstack`, `ca_file`,
--   `user_agent`, `app_id`, `profile_data` (merged profile table),
--   `shared` (see `load_shared`), `getenv`
-- @raise validation error naming the bad setting
function M.resolve(opts)
  opts = opts or {}
  local getenv = M.getenv_of(opts)
  local s = { getenv = getenv }

  -- profile
  local profile, psrc = first(opts.profile, "option", getenv("AWS_PROFILE"), "env",
                              getenv("AWS_DEFAULT_PROFILE"), "env")
  local psrc_var = getenv("AWS_PROFILE") and "AWS_PROFILE" or "AWS_DEFAULT_PROFILE"
  if profile ~= nil and type(profile) ~= "string" then
    invalid("profile", "must be a string")
  end
  s.profile = profile or "default"
  s.profile_explicit = psrc == "option"
  s.profile_source = psrc
  s.shared = M.load_shared(opts)
  local pdata = s.shared.profiles[s.profile]
  if psrc and not pdata then
    -- a profile asked for by name must exist, whatever else could give
    -- credentials (botocore's ProfileNotFound)
    local shared = s.shared
    errors.raise{ kind = "credentials", code = "ProfileNotFound", profile = profile,
      message = string.format("credentials: profile %s (from %s) not found in %s (%s), %s (%s)",
        profile, psrc == "option" and "the profile option" or psrc_var,
        shared.config_file, shared.config_exists and "read" or "missing",
        shared.credentials_file, shared.credentials_exists and "read" or "missing") }
  end
  s.profile_data = pdata or {}

  -- region
  local region, rsrc = first(opts.region, "option", getenv("AWS_REGION"), "env",
                             getenv("AWS_DEFAULT_REGION"), "env",
                             profile_value(pdata, "region"), "profile")
  local region_fips = false
  if region ~= nil then
    if type(region) ~= "string" then invalid("region", "must be a string") end
    region, region_fips = split_fips_region(region)
    if not endpoint.valid_region(region) then
      local shown = #region > 64 and (region:sub(1, 64) .. "...") or region
      invalid("region", string.format("invalid region %q (from %s)", shown, rsrc))
    end
  end
  s.region = region

  -- FIPS and dual-stack
  local fips, fsrc = first(opts.use_fips_endpoint, "option", opts.use_fips, "option",
                           getenv("AWS_USE_FIPS_ENDPOINT"), "env",
                           profile_value(pdata, "use_fips_endpoint"), "profile")
  local dual, dsrc = first(opts.use_dualstack_endpoint, "option", opts.use_dualstack, "option",
                           getenv("AWS_USE_DUALSTACK_ENDPOINT"), "env",
                           profile_value(pdata, "use_dualstack_endpoint"), "profile")
  s.use_fips = boolean(fips, "use_fips_endpoint",
    origin(fsrc, "AWS_USE_FIPS_ENDPOINT", s.profile, "use_fips_endpoint")) or region_fips
  s.use_dualstack = boolean(dual, "use_dualstack_endpoint",
    origin(dsrc, "AWS_USE_DUALSTACK_ENDPOINT", s.profile, "use_dualstack_endpoint")) or false

  -- endpoint
  if opts.endpoint_url ~= nil and type(opts.endpoint_url) ~= "string" then
    invalid("endpoint_url", "must be a string")
  end
  local url, esrc, efield = M.custom_endpoint{
    option = opts.endpoint_url, getenv = getenv, profile = pdata, shared = s.shared,
    env_id = M.SERVICE_ENV_ID, config_id = M.SERVICE_CONFIG_ID,
  }
  if url then url = endpoint.check_custom(url, efield) end
  if url or region then
    local ep = endpoint.resolve{ region = region, use_fips = s.use_fips,
                                 use_dualstack = s.use_dualstack, endpoint_url = url,
                                 endpoint_field = efield }
    s.endpoint_url, s.endpoint_source = ep.url, url and esrc or "resolved"
    s.signing_region, s.signing_name = ep.signing_region, ep.signing_name
  end

  resolve_retries(s, opts, pdata)
  resolve_metadata(s, pdata)

  -- TLS, user agent
  s.ca_file = first(opts.ca_file, "option", getenv("AWS_CA_BUNDLE"), "env",
                    profile_value(pdata, "ca_bundle"), "profile")
  if s.ca_file ~= nil then
    if type(s.ca_file) ~= "string" then invalid("ca_file", "must be a path") end
    s.ca_file = expand_home(s.ca_file, getenv)
  end
  s.app_id = first(opts.app_id, "option", getenv("AWS_SDK_UA_APP_ID"), "env",
                   profile_value(pdata, "sdk_ua_app_id"), "profile")
  if s.app_id ~= nil and type(s.app_id) ~= "string" then invalid("app_id", "must be a string") end
  for _, k in ipairs{ "user_agent", "user_agent_extra" } do
    if opts[k] ~= nil and type(opts[k]) ~= "string" then invalid(k, "must be a string") end
  end
  s.user_agent = require("fsx.useragent").build{
    app_id = s.app_id, retry_mode = s.retry_mode,
    user_agent = opts.user_agent, user_agent_extra = opts.user_agent_extra,
  }
  return s
end

return M
