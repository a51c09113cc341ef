-- fsx.endpoint: FSx and STS endpoints through the rule sets (every case of
-- botocore's endpoint tests is in spec/endpoint_rules_spec.lua), the fsx
-- errors of the rule sets, the signing region of an auth scheme, URL parsing.
local endpoint = require("fsx.endpoint")
local errors = require("fsx.error")

local function url(args) return endpoint.resolve(args).url end

local function raises(fn, field, pattern)
  local ok, err = pcall(fn)
  assert.is_false(ok)
  assert.is_true(errors.is_error(err), tostring(err))
  assert.are.equal("validation", err.kind)
  assert.are.equal("InvalidConfiguration", err.code)
  assert.are.equal(field, err.field)
  if pattern then assert.truthy(err.message:find(pattern, 1, true), err.message) end
  return err
end

describe("fsx.endpoint", function()
  describe("resolve", function()
    it("gives FSx endpoints from the region, FIPS and dual-stack", function()
      assert.are.equal("https://fsx.us-east-1.amazonaws.com", url{ region = "us-east-1" })
      assert.are.equal("https://fsx-fips.us-gov-west-1.api.aws",
                       url{ region = "us-gov-west-1", use_fips = true, use_dualstack = true })
      assert.are.equal("https://fsx.cn-north-1.api.amazonwebservices.com.cn",
                       url{ region = "cn-north-1", use_dualstack = true })
      -- a region no partition lists or matches belongs to aws
      assert.are.equal("https://fsx.xx-future-1.amazonaws.com", url{ region = "xx-future-1" })
      -- the new-region case: a listed region is a data update
      assert.are.equal("https://fsx.ap-southeast-7.amazonaws.com", url{ region = "ap-southeast-7" })
    end)

    it("gives a custom endpoint as it is, and signs for the client's region", function()
      local ep = endpoint.resolve{ region = "eu-west-1", endpoint_url = "http://127.0.0.1:9000" }
      assert.are.equal("http://127.0.0.1:9000", ep.url)
      assert.is_nil(ep.signing_region)
      assert.are.equal("http://127.0.0.1:9000", url{ endpoint_url = "http://127.0.0.1:9000" })
    end)

    it("turns the rule sets' errors into validation errors with their message", function()
      local err = raises(function()
        endpoint.resolve{ region = "us-east-1", use_fips = true, endpoint_url = "https://x",
                          endpoint_field = "AWS_ENDPOINT_URL_FSX" }
      end, "endpoint", "Invalid Configuration: FIPS and custom endpoint are not supported")
      assert.are.equal('endpoint: fsx: Invalid Configuration: FIPS and custom endpoint are not '
                       .. 'supported (region "us-east-1", use_fips_endpoint, custom endpoint from '
                       .. 'AWS_ENDPOINT_URL_FSX)', err.message)
      raises(function() endpoint.resolve{ use_dualstack = true, endpoint_url = "https://x" } end,
             "endpoint", "Invalid Configuration: Dualstack and custom endpoint are not supported")
      raises(function() endpoint.resolve{} end, "endpoint", "Invalid Configuration: Missing Region")
      raises(function() endpoint.resolve{ service = "sts" } end, "endpoint",
             "sts: Invalid Configuration: Missing Region")
    end)

    it("refuses a region that is not a host label before it reaches a URL", function()
      for _, bad in ipairs{ "us east 1", "us-east-1/../x", "-us-east-1", "evil.com#", "" } do
        raises(function() endpoint.resolve{ region = bad } end, "region")
      end
    end)
  end)

  describe("sts", function()
    it("gives the regional endpoint, and the global one where the rule set says so", function()
      assert.are.equal("https://sts.eu-west-1.amazonaws.com",
                       url{ service = "sts", region = "eu-west-1" })
      assert.are.equal("https://sts.us-gov-west-1.amazonaws.com",
                       url{ service = "sts", region = "us-gov-west-1", use_fips = true })
      local ep = endpoint.resolve{ service = "sts", region = "aws-global" }
      assert.are.equal("https://sts.amazonaws.com", ep.url)
      assert.are.equal("us-east-1", ep.signing_region)
      assert.are.equal("sts", ep.signing_name)
      ep = endpoint.resolve{ service = "sts", region = "eu-west-1", use_global_endpoint = true }
      assert.are.equal("https://sts.amazonaws.com", ep.url)
      assert.are.equal("us-east-1", ep.signing_region)
      ep = endpoint.resolve{ service = "sts", region = "us-east-3", use_global_endpoint = true }
      assert.are.equal("https://sts.us-east-3.amazonaws.com", ep.url)
      assert.are.equal("us-east-3", ep.signing_region)
    end)
  end)

  describe("auth schemes", function()
    -- The FSx rule set names no auth scheme today; a rule set that does (as
    -- STS's global endpoint does) must decide the client's signing region.
    -- The real fsx_server.py checks the signature and its region.
    local helpers = require("helpers")
    local server, saved

    lazy_setup(function()
      server = helpers.start_fsx_server{ region = "us-west-2" }
      saved = package.loaded["fsx.endpoint_data.fsx"]
      package.loaded["fsx.endpoint_data.fsx"] = {
        parameters = { Region = { type = "string" }, Endpoint = { type = "string" },
                       UseFIPS = { type = "boolean", required = true, default = false },
                       UseDualStack = { type = "boolean", required = true, default = false } },
        rules = { { type = "endpoint", conditions = {}, endpoint = {
          url = server.url,
          properties = { authSchemes = { { name = "sigv4", signingName = "fsx",
                                           signingRegion = "us-west-2" } } } } } },
      }
    end)
    lazy_teardown(function()
      package.loaded["fsx.endpoint_data.fsx"] = saved
      if server then server:stop() end
    end)

    it("signs for the scheme's region, not the client's", function()
      local fsx = require("fsx")
      local c = fsx.new{ region = "eu-west-1", credentials = helpers.credentials(),
                         max_attempts = 1 }
      assert.are.equal(server.url, c.endpoint_url)
      assert.is_table(c:describe_backups{})
      assert.are.equal("us-west-2", c.signing_region)
    end)
  end)

  describe("partition", function()
    it("maps regions to partitions", function()
      assert.are.equal("aws", endpoint.partition("us-east-1").name)
      assert.are.equal("aws", endpoint.partition("mars-base-9").name)
      assert.are.equal("aws-cn", endpoint.partition("cn-north-1").name)
      assert.are.equal("aws-us-gov", endpoint.partition("us-gov-east-1").name)
      assert.are.equal("aws-iso-b", endpoint.partition("us-isob-east-1").name)
      assert.are.equal("aws-eusc", endpoint.partition("eusc-de-east-1").name)
      assert.are.equal("amazonaws.eu", endpoint.partition("eusc-de-east-1").dnsSuffix)
      assert.are.equal("aws-cn", endpoint.partition("aws-cn-global").name)
    end)
  end)
end)
