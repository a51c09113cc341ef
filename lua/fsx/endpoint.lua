--- FSx (and STS) endpoint resolution from a region, FIPS and dual-stack flags.
--
-- Layer: Lua layer; depends on `fsx.error` only. The facts come from
-- botocore's `partitions.json`, `endpoints.json` and the FSx rule set
-- `fsx/2018-03-01/endpoint-rule-set-1.json` (read when this file was written,
-- never at run time):
--
-- * a region belongs to the partition that lists it, else to the first
--   partition whose region pattern matches it, else to `aws`;
-- * standard: `https://fsx.<region>.<dnsSuffix>`;
-- * FIPS: `https://fsx-fips.<region>.<dnsSuffix>`;
-- * dual-stack: `https://fsx.<region>.<dualStackDnsSuffix>`;
-- * both: `https://fsx-fips.<region>.<dualStackDnsSuffix>`;
-- * a partition without FIPS or dual-stack support makes the request an error;
-- * the legacy `prod-<region>` names resolve to `fsx-fips.<region>` with FIPS.
--
-- Custom endpoints (option, environment, profile) are chosen by `fsx.config`;
-- this module only validates and parses them (`parse_url`).
-- @module fsx.endpoint
local errors = require("fsx.error")

local M = {}

--- The partitions: id, DNS suffixes, FIPS/dual-stack support, explicit
-- regions and the region pattern (a Lua pattern equivalent to botocore's
-- regex; `%w+` stands for `\w+`, which has no `-`).
M.partitions = {
  { id = "aws", dns_suffix = "amazonaws.com", dualstack_dns_suffix = "api.aws",
    supports_fips = true, supports_dualstack = true,
    prefixes = { "us", "eu", "ap", "sa", "ca", "me", "af", "il", "mx" },
    regions = { "af-south-1", "ap-east-1", "ap-northeast-1", "ap-northeast-2",
                "ap-northeast-3", "ap-south-1", "ap-south-2", "ap-southeast-1",
                "ap-southeast-2", "ap-southeast-3", "ap-southeast-4", "aws-global",
                "ca-central-1", "eu-central-1", "eu-central-2", "eu-north-1",
                "eu-south-1", "eu-south-2", "eu-west-1", "eu-west-2", "eu-west-3",
                "il-central-1", "me-central-1", "me-south-1", "sa-east-1",
                "us-east-1", "us-east-2", "us-west-1", "us-west-2" } },
  { id = "aws-cn", dns_suffix = "amazonaws.com.cn",
    dualstack_dns_suffix = "api.amazonwebservices.com.cn",
    supports_fips = true, supports_dualstack = true,
    pattern = "^cn%-%w+%-%d+$",
    regions = { "aws-cn-global", "cn-north-1", "cn-northwest-1" } },
  { id = "aws-us-gov", dns_suffix = "amazonaws.com", dualstack_dns_suffix = "api.aws",
    supports_fips = true, supports_dualstack = true,
    pattern = "^us%-gov%-%w+%-%d+$",
    regions = { "aws-us-gov-global", "us-gov-east-1", "us-gov-west-1" } },
  { id = "aws-iso", dns_suffix = "c2s.ic.gov", dualstack_dns_suffix = "c2s.ic.gov",
    supports_fips = true, supports_dualstack = false,
    pattern = "^us%-iso%-%w+%-%d+$",
    regions = { "aws-iso-global", "us-iso-east-1", "us-iso-west-1" } },
  { id = "aws-iso-b", dns_suffix = "sc2s.sgov.gov", dualstack_dns_suffix = "sc2s.sgov.gov",
    supports_fips = true, supports_dualstack = false,
    pattern = "^us%-isob%-%w+%-%d+$",
    regions = { "aws-iso-b-global", "us-isob-east-1" } },
  { id = "aws-iso-e", dns_suffix = "cloud.adc-e.uk", dualstack_dns_suffix = "cloud.adc-e.uk",
    supports_fips = true, supports_dualstack = false,
    pattern = "^eu%-isoe%-%w+%-%d+$",
    regions = {} },
  { id = "aws-iso-f", dns_suffix = "csp.hci.ic.gov", dualstack_dns_suffix = "csp.hci.ic.gov",
    supports_fips = true, supports_dualstack = false,
    pattern = "^us%-isof%-%w+%-%d+$",
    regions = {} },
}

-- region name -> partition, for the explicitly listed regions
local by_region = {}
for _, p in ipairs(M.partitions) do
  for _, r in ipairs(p.regions) do by_region[r] = p end
end

-- The FSx rule set maps these legacy names to a FIPS host in another region.
local PROD_ALIASES = {
  ["prod-ca-central-1"] = "ca-central-1", ["prod-us-east-1"] = "us-east-1",
  ["prod-us-east-2"] = "us-east-2", ["prod-us-west-1"] = "us-west-1",
  ["prod-us-west-2"] = "us-west-2", ["prod-us-gov-east-1"] = "us-gov-east-1",
  ["prod-us-gov-west-1"] = "us-gov-west-1",
}

local function matches(p, region)
  if p.pattern then return region:match(p.pattern) ~= nil end
  local prefix = region:match("^(%l+)%-%w+%-%d+$")
  if not prefix then return false end
  for _, x in ipairs(p.prefixes) do
    if x == prefix then return true end
  end
  return false
end

--- The partition of a region (explicit list, then patterns, then `aws`).
-- @tparam string region
-- @treturn table the partition entry of `M.partitions`
function M.partition(region)
  local p = by_region[region]
  if p then return p end
  -- the specific patterns first: `us-gov-west-1` must not fall into `aws`
  for i = 2, #M.partitions do
    if matches(M.partitions[i], region) then return M.partitions[i] end
  end
  return M.partitions[1]
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

--- Resolve the endpoint of a service from the region and partition.
-- @tparam table args `region` (required), `use_fips`, `use_dualstack`,
--   `service` (default `"fsx"`)
-- @treturn string the endpoint URL (`https://fsx.us-east-1.amazonaws.com`)
-- @raise validation error for a missing or invalid region, or a flag the
--   region's partition does not support
function M.resolve(args)
  local region = args and args.region
  local service = (args and args.service) or "fsx"
  if region == nil or region == "" then config_error("region", "a region is required") end
  if not M.valid_region(region) then
    config_error("region", string.format("invalid region %q", tostring(region)))
  end
  local fips, dual = args.use_fips == true, args.use_dualstack == true
  local p = M.partition(region)
  if fips and PROD_ALIASES[region] and service == "fsx" then
    local real = PROD_ALIASES[region]
    local rp = M.partition(real)
    if not dual then return "https://" .. service .. "-fips." .. real .. "." .. rp.dns_suffix end
  end
  if fips and dual then
    if not (p.supports_fips and p.supports_dualstack) then
      config_error("use_fips_endpoint", "FIPS and dual-stack are enabled, but partition "
                   .. p.id .. " does not support one or both")
    end
    return "https://" .. service .. "-fips." .. region .. "." .. p.dualstack_dns_suffix
  elseif fips then
    if not p.supports_fips then
      config_error("use_fips_endpoint", "partition " .. p.id .. " does not support FIPS")
    end
    return "https://" .. service .. "-fips." .. region .. "." .. p.dns_suffix
  elseif dual then
    if not p.supports_dualstack then
      config_error("use_dualstack_endpoint", "partition " .. p.id
                   .. " does not support dual-stack")
    end
    return "https://" .. service .. "." .. region .. "." .. p.dualstack_dns_suffix
  end
  return "https://" .. service .. "." .. region .. "." .. p.dns_suffix
end

--- The regional STS endpoint used for AssumeRole calls.
-- `aws` FIPS uses `sts-fips.<region>`; GovCloud's regular host already is
-- FIPS. Without a region, `us-east-1` (STS's global region) is used.
-- @tparam ?string region
-- @tparam ?boolean use_fips
-- @treturn string URL
-- @treturn string the signing region
function M.sts(region, use_fips)
  if region == nil or region == "" or region == "aws-global" then region = "us-east-1" end
  if not M.valid_region(region) then
    config_error("region", string.format("invalid region %q", tostring(region)))
  end
  local p = M.partition(region)
  local host
  if use_fips and p.id ~= "aws-us-gov" and p.supports_fips then
    host = "sts-fips." .. region .. "." .. p.dns_suffix
  else
    host = "sts." .. region .. "." .. p.dns_suffix
  end
  return "https://" .. host, region
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
