-- fsx.endpoint: partition table, FSx and STS endpoints, URL parsing.
local endpoint = require("fsx.endpoint")
local errors = require("fsx.error")

local function resolve(region, fips, dual)
  return endpoint.resolve{ region = region, use_fips = fips, use_dualstack = dual }
end

local function raises(fn, code, field)
  local ok, err = pcall(fn)
  assert.is_false(ok)
  assert.is_true(errors.is_error(err), tostring(err))
  assert.are.equal("validation", err.kind)
  if code then assert.are.equal(code, err.code) end
  if field then assert.are.equal(field, err.field) end
  return err
end

-- region, fips, dualstack, expected URL (or false for an error)
local CASES = {
  { "us-east-1", false, false, "https://fsx.us-east-1.amazonaws.com" },
  { "us-east-1", true, false, "https://fsx-fips.us-east-1.amazonaws.com" },
  { "us-east-1", false, true, "https://fsx.us-east-1.api.aws" },
  { "us-east-1", true, true, "https://fsx-fips.us-east-1.api.aws" },
  { "eu-west-1", false, false, "https://fsx.eu-west-1.amazonaws.com" },
  { "ap-southeast-2", false, true, "https://fsx.ap-southeast-2.api.aws" },
  { "il-central-1", false, false, "https://fsx.il-central-1.amazonaws.com" },
  { "xx-future-1", false, false, "https://fsx.xx-future-1.amazonaws.com" },
  { "cn-north-1", false, false, "https://fsx.cn-north-1.amazonaws.com.cn" },
  { "cn-northwest-1", true, false, "https://fsx-fips.cn-northwest-1.amazonaws.com.cn" },
  { "cn-north-1", false, true, "https://fsx.cn-north-1.api.amazonwebservices.com.cn" },
  { "cn-north-1", true, true, "https://fsx-fips.cn-north-1.api.amazonwebservices.com.cn" },
  { "us-gov-west-1", false, false, "https://fsx.us-gov-west-1.amazonaws.com" },
  { "us-gov-east-1", true, false, "https://fsx-fips.us-gov-east-1.amazonaws.com" },
  { "us-gov-west-1", false, true, "https://fsx.us-gov-west-1.api.aws" },
  { "us-gov-west-1", true, true, "https://fsx-fips.us-gov-west-1.api.aws" },
  { "us-iso-east-1", false, false, "https://fsx.us-iso-east-1.c2s.ic.gov" },
  { "us-iso-west-1", true, false, "https://fsx-fips.us-iso-west-1.c2s.ic.gov" },
  { "us-iso-east-1", false, true, false },
  { "us-iso-east-1", true, true, false },
  { "us-isob-east-1", false, false, "https://fsx.us-isob-east-1.sc2s.sgov.gov" },
  { "us-isob-east-1", true, false, "https://fsx-fips.us-isob-east-1.sc2s.sgov.gov" },
  { "us-isob-east-1", false, true, false },
  { "eu-isoe-west-1", false, false, "https://fsx.eu-isoe-west-1.cloud.adc-e.uk" },
  { "eu-isoe-west-1", true, false, "https://fsx-fips.eu-isoe-west-1.cloud.adc-e.uk" },
  { "eu-isoe-west-1", false, true, false },
  { "us-isof-south-1", false, false, "https://fsx.us-isof-south-1.csp.hci.ic.gov" },
  { "us-isof-east-1", true, false, "https://fsx-fips.us-isof-east-1.csp.hci.ic.gov" },
  { "us-isof-south-1", false, true, false },
  { "prod-us-east-1", true, false, "https://fsx-fips.us-east-1.amazonaws.com" },
  { "prod-us-east-1", false, false, "https://fsx.prod-us-east-1.amazonaws.com" },
}

describe("fsx.endpoint", function()
  describe("resolve", function()
    for _, c in ipairs(CASES) do
      local region, fips, dual, want = c[1], c[2], c[3], c[4]
      local name = string.format("%s fips=%s dualstack=%s -> %s", region, tostring(fips),
                                 tostring(dual), want or "error")
      it(name, function()
        if want then
          assert.are.equal(want, resolve(region, fips, dual))
        else
          local err = raises(function() resolve(region, fips, dual) end, "InvalidConfiguration")
          assert.matches("does not support", err.message)
        end
      end)
    end

    it("requires a valid region", function()
      raises(function() endpoint.resolve{} end, "InvalidConfiguration", "region")
      raises(function() resolve("us east 1") end, nil, "region")
      raises(function() resolve("us-east-1/../x") end, nil, "region")
      raises(function() resolve("-us-east-1") end, nil, "region")
    end)

    it("agrees with botocore's FSx rule set for the partitions botocore ships", function()
      local cjson = require("cjson")
      local cases = {}
      for _, c in ipairs(CASES) do
        if not c[1]:match("isoe") and not c[1]:match("isof") then cases[#cases + 1] = c end
      end
      local input = os.tmpname()
      local f = assert(io.open(input, "w"))
      f:write(cjson.encode(cases))
      f:close()
      local script = [[
import json, sys
from botocore.endpoint_provider import EndpointProvider
base = "/usr/lib/python3/dist-packages/botocore/data/"
ep = EndpointProvider(json.load(open(base + "fsx/2018-03-01/endpoint-rule-set-1.json")),
                      json.load(open(base + "partitions.json")))
out = []
for c in json.load(open(sys.argv[1])):
    try:
        out.append(ep.resolve_endpoint(Region=c[0], UseFIPS=c[1], UseDualStack=c[2]).url)
    except Exception:
        out.append(False)
print(json.dumps(out))
]]
      local p = assert(io.popen("/usr/bin/python3 -c '" .. script .. "' " .. input))
      local answer = p:read("*a")
      p:close()
      os.remove(input)
      local urls = cjson.decode(answer)
      assert.are.equal(#cases, #urls)
      for i, c in ipairs(cases) do
        assert.are.equal(urls[i], c[4], c[1] .. " " .. tostring(c[2]) .. " " .. tostring(c[3]))
      end
    end)
  end)

  describe("partition", function()
    it("maps regions to partitions", function()
      assert.are.equal("aws", endpoint.partition("us-east-1").id)
      assert.are.equal("aws", endpoint.partition("mars-base-9").id)
      assert.are.equal("aws-cn", endpoint.partition("cn-north-1").id)
      assert.are.equal("aws-us-gov", endpoint.partition("us-gov-east-1").id)
      assert.are.equal("aws-iso", endpoint.partition("us-iso-east-1").id)
      assert.are.equal("aws-iso-b", endpoint.partition("us-isob-east-1").id)
      assert.are.equal("aws-iso-e", endpoint.partition("eu-isoe-west-1").id)
      assert.are.equal("aws-iso-f", endpoint.partition("us-isof-south-1").id)
      assert.are.equal("aws-cn", endpoint.partition("aws-cn-global").id)
    end)
  end)

  describe("sts", function()
    it("gives the regional STS endpoint and signing region", function()
      local url, region = endpoint.sts("eu-west-1")
      assert.are.equal("https://sts.eu-west-1.amazonaws.com", url)
      assert.are.equal("eu-west-1", region)
      assert.are.equal("https://sts.cn-north-1.amazonaws.com.cn", (endpoint.sts("cn-north-1")))
      assert.are.equal("https://sts.us-east-1.amazonaws.com", (endpoint.sts(nil)))
      assert.are.equal("https://sts-fips.us-east-2.amazonaws.com", (endpoint.sts("us-east-2", true)))
      assert.are.equal("https://sts.us-gov-west-1.amazonaws.com",
                       (endpoint.sts("us-gov-west-1", true)))
      assert.are.equal("https://sts.us-iso-east-1.c2s.ic.gov", (endpoint.sts("us-iso-east-1")))
    end)
  end)

  describe("parse_url", function()
    it("splits URLs", function()
      local u = assert(endpoint.parse_url("http://127.0.0.1:8080/a/b?x=1"))
      assert.are.same({ scheme = "http", host = "127.0.0.1", port = 8080, path = "/a/b?x=1",
                        host_header = "127.0.0.1:8080" }, u)
      u = assert(endpoint.parse_url("https://fsx.us-east-1.amazonaws.com"))
      assert.are.equal(443, u.port)
      assert.are.equal("/", u.path)
      assert.are.equal("fsx.us-east-1.amazonaws.com", u.host_header)
      u = assert(endpoint.parse_url("https://example.com:443/"))
      assert.are.equal("example.com", u.host_header)
      u = assert(endpoint.parse_url("http://[fd00:ec2::23]/creds"))
      assert.are.equal("fd00:ec2::23", u.host)
      assert.are.equal("[fd00:ec2::23]", u.host_header)
    end)

    it("refuses what is not an http(s) URL", function()
      for _, bad in ipairs({ "fsx.amazonaws.com", "ftp://x/", "http://", "http://a b/",
                             "http://user@host/", "http://host:99999/", "http://host:x/",
                             "http://[zz]/" }) do
        assert.is_nil((endpoint.parse_url(bad)), bad)
      end
    end)
  end)
end)
