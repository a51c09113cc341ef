--- FSx and STS endpoints from the AWS endpoint rule sets, and URL parsing.
--
-- Layer: Lua layer; depends on `fsx.error`, `fsx.endpoint_rules` (the
-- interpreter) and the generated data of `fsx.endpoint_data` (botocore's
-- partitions.json and the FSx and STS rule sets, see tools/gen_endpoints.lua).
-- Which host a region, FIPS, dual-stack and a custom endpoint give is decided
-- by the rule sets alone: a new region or partition is a data update
-- (`make endpoints`), not a change here.
--
-- Custom endpoints (option, environment, profile) are chosen by `fsx.config`;
-- this module validates and parses them (`check_custom`, `parse_url`) and
-- passes them to the rule set, which refuses them with FIPS or dual-stack.
-- @module fsx.endpoint
local errors = require("fsx.error")
local rules = require("fsx.endpoint_rules")

local M = {}

-- service -> rule set module
local RULESETS = { fsx = "fsx.endpoint_data.fsx", sts = "fsx.endpoint_data.sts" }

local function partitions()
  return require("fsx.endpoint_data.partitions")
end

--- The partition of a region, as the rule sets' `aws.partition` sees it.
-- @tparam string region
-- @treturn table `name` (the partition id), `dnsSuffix`, `dualStackDnsSuffix`,
--   `supportsFIPS`, `supportsDualStack`, `implicitGlobalRegion`
function M.partition(region)
  return rules.partition(partitions(), region)
end

--- True when a region name is a valid host label (botocore's check).
function M.valid_region(region)
  if type(region) ~= "string" or region == "" or #region > 63 then return false end
  if #region == 1 then return region:match("^%w$") ~= nil end
  return region:match("^%w[%w%-]*%w$") ~= nil
end

local function config_error(field, msg)
  errors.raise{ kind = "validation", code = "InvalidConfiguration",
                message = "endpoint: " .. field .. ": " .. msg, field = field }
end

-- What was asked, for an error message: the settings that reach the rule set.
local function describe(args)
  local parts = { "region " .. (args.region and string.format("%q", args.region) or "unset") }
  if args.use_fips then parts[#parts + 1] = "use_fips_endpoint" end
  if args.use_dualstack then parts[#parts + 1] = "use_dualstack_endpoint" end
  if args.use_global_endpoint then parts[#parts + 1] = "sts_regional_endpoints=legacy" end
  if args.endpoint_url then
    parts[#parts + 1] = "custom endpoint from " .. (args.endpoint_field or "endpoint_url")
  end
  return table.concat(parts, ", ")
end

--- Resolve the endpoint of a service through its rule set.
-- @tparam table args `service` (`"fsx"`, the default, or `"sts"`), `region`,
--   `use_fips`, `use_dualstack`, `endpoint_url` (a custom endpoint, checked
--   with `check_custom`), `endpoint_field` (where it came from, for
--   messages), `use_global_endpoint` (STS: the global endpoint for the
--   regions that had it)
-- @treturn table `url`, `signing_region` and `signing_name` (from the rule
--   set's `sigv4` auth scheme; nil when it names none: sign for the client's
--   region and the service's signing name), `properties`, `headers`
-- @raise validation error (code `InvalidConfiguration`, field `endpoint`)
--   with the rule set's message, e.g. a custom endpoint with FIPS, FIPS or
--   dual-stack in a partition without it, no region
function M.resolve(args)
  local service = args.service or "fsx"
  local ruleset = require(assert(RULESETS[service], "fsx.endpoint: unknown service"))
  if args.region ~= nil and not M.valid_region(args.region) then
    config_error("region", string.format("invalid region %q", tostring(args.region)))
  end
  local params = {
    Region = args.region, UseFIPS = args.use_fips == true,
    UseDualStack = args.use_dualstack == true, Endpoint = args.endpoint_url,
  }
  if service == "sts" then params.UseGlobalEndpoint = args.use_global_endpoint == true end
  local ep, msg = rules.resolve(ruleset, params, partitions())
  if not ep then
    errors.raise{ kind = "validation", code = "InvalidConfiguration", field = "endpoint",
                  message = string.format("endpoint: %s: %s (%s)", service, msg, describe(args)) }
  end
  for _, scheme in ipairs(ep.properties.authSchemes or {}) do
    if scheme.name == "sigv4" then
      ep.signing_region, ep.signing_name = scheme.signingRegion, scheme.signingName
    end
  end
  return ep
end

--- Split an http(s) URL into its parts.
-- @tparam string url
-- @treturn table `scheme`, `host` (IPv6 without brackets), `port` (number),
--   `path` (path and query, at least `/`), `host_header` (`host[:port]` as sent)
-- @return or `nil, message`
function M.parse_url(url)
  if type(url) ~= "string" then return nil, "not a string" end
  if url:find("[%s%c]") then return nil, "contains whitespace or control characters" end
  local scheme, rest = url:match("^(%a[%w+.-]*)://(.*)$")
  if not scheme then return nil, "not an absolute URL (scheme://host)" end
  scheme = scheme:lower()
  if scheme ~= "http" and scheme ~= "https" then
    return nil, "scheme must be http or https"
  end
  local authority, path = rest:match("^([^/?#]*)(.*)$")
  if authority:find("@", 1, true) then return nil, "user information is not allowed" end
  local host, port
  if authority:sub(1, 1) == "[" then
    local h, p = authority:match("^%[([%x:.]+)%](.*)$")
    if not h then return nil, "bad IPv6 address" end
    host = h
    if p ~= "" then
      port = p:match("^:(%d+)$")
      if not port then return nil, "bad port" end
    end
  else
    host, port = authority:match("^([^:]*):(%d+)$")
    if not host then
      host = authority
      if host:find(":", 1, true) then return nil, "bad port" end
    end
  end
  if host == "" then return nil, "missing host" end
  -- a DNS name is at most 253 characters, in ASCII (IDNs in punycode)
  if #host > 253 then return nil, "host name too long" end
  if host:find("[\128-\255]") then return nil, "host must be ASCII (use punycode)" end
  local default_port = scheme == "https" and 443 or 80
  local nport = port and tonumber(port) or default_port
  if nport < 1 or nport > 65535 then return nil, "bad port" end
  path = path:gsub("#.*$", "")
  if path == "" then path = "/" end
  if path:sub(1, 1) == "?" then path = "/" .. path end
  local host_header = authority:lower()
  if port and nport == default_port then
    -- the default port is not repeated in the Host header
    host_header = host_header:gsub(":%d+$", "")
  end
  return { scheme = scheme, host = host:lower(), port = nport, path = path,
           host_header = host_header }
end

--- Validate a custom endpoint URL; returns it without a trailing slash.
-- @tparam string url
-- @tparam string field the setting it came from, for the error message
-- @raise validation error naming `field`
function M.check_custom(url, field)
  local parsed, err = M.parse_url(url)
  if not parsed then
    local shown = tostring(url)
    if #shown > 100 then shown = shown:sub(1, 100) .. "..." end
    config_error(field, string.format("invalid endpoint URL %q: %s", shown, err))
  end
  return (url:gsub("/+$", ""))
end

return M
