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
-- this module validates them (`check_custom`, through `fsx.url`) and
-- passes them to the rule set, which refuses them with FIPS or dual-stack.
-- @module fsx.endpoint
local errors = require("fsx.error")
local rules = require("fsx.endpoint_rules")
local url_parse = require("fsx.url").parse

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

--- Validate a custom endpoint URL; returns it without a trailing slash.
-- @tparam string url
-- @tparam string field the setting it came from, for the error message
-- @raise validation error naming `field`
function M.check_custom(url, field)
  local parsed, err = url_parse(url)
  if not parsed then
    local shown = tostring(url)
    if #shown > 100 then shown = shown:sub(1, 100) .. "..." end
    config_error(field, string.format("invalid endpoint URL %q: %s", shown, err))
  end
  return (url:gsub("/+$", ""))
end

return M
