-- The STS endpoint of role credentials comes from the STS rule set: the
-- global endpoint signed for us-east-1 (aws-global, sts_regional_endpoints =
-- legacy), FIPS, dual-stack, and the rule set's refusals. The calls go
-- through the real libcurl transport to the local STS server, which checks
-- each SigV4 signature with botocore; the transport only redirects the
-- connection to it and keeps the Host header the endpoint named.
local config = require("fsx.config")
local credentials = require("fsx.credentials")
local errors = require("fsx.error")
local procs = require("support.procs")

local AKID, SECRET = "AKIDSOURCE0000000002", "source-secret-key-sts-endpoint"
local ROLE = "arn:aws:iam::123456789012:role/backup"
local FILES = {
  credentials = "[source]\naws_access_key_id = " .. AKID .. "\naws_secret_access_key = "
    .. SECRET .. "\n",
  config = "[profile role]\nrole_arn = " .. ROLE .. "\nsource_profile = source\n",
}

local dir, sts, asked

-- A role provider with this environment; every STS request goes to the
-- local server, and `asked` records the URL the library meant to reach.
local function provider(env, extra_config)
  asked = {}
  local cfg = procs.write(dir .. "/config", FILES.config .. (extra_config or ""))
  local cred = procs.write(dir .. "/credentials", FILES.credentials)
  local e = { HOME = dir, AWS_CONFIG_FILE = cfg, AWS_SHARED_CREDENTIALS_FILE = cred,
              AWS_EC2_METADATA_DISABLED = "true" }
  for k, v in pairs(env) do e[k] = v end
  local o = { getenv = procs.env(e), profile = "role", sts_timeout = 5 }
  local real = procs.transport()
  local function redirect(req)
    asked[#asked + 1] = req.url
    local r = {}
    for k, v in pairs(req) do r[k] = v end
    r.url, r.scheme, r.host, r.port = sts.url .. req.path, "http", "127.0.0.1", sts.port
    return real(r)
  end
  return credentials.new(o, config.resolve(o), procs.deps{ transport = redirect })
end

local function failure(p)
  local ok, err = pcall(p.get, p)
  assert.is_false(ok, "expected an error")
  assert.is_true(errors.is_error(err), tostring(err))
  return err
end

describe("STS endpoint of role credentials", function()
  lazy_setup(function()
    dir = procs.tmpdir()
    sts = procs.start("sts_server.py", "--key " .. AKID .. ":" .. SECRET)
  end)
  lazy_teardown(function()
    procs.stop(sts)
    procs.rmdir(dir)
  end)
  before_each(function()
    procs.control(sts, { mode = "normal", expires_in = 3600, reset = true })
  end)

  local function assumed(env, url, signing_region, extra_config)
    local c = provider(env, extra_config):get()
    assert.matches("^ASIASTS", c.access_key_id)
    assert.are.same({ url }, asked)
    local last = procs.stats(sts).last
    assert.is_true(last.verified)
    assert.are.equal(signing_region, last.region)
  end

  it("signs the global endpoint of aws-global for us-east-1", function()
    assumed({ AWS_REGION = "aws-global" }, "https://sts.amazonaws.com", "us-east-1")
  end)

  it("sends the legacy global regions to the global endpoint with sts_regional_endpoints = legacy",
     function()
    assumed({ AWS_REGION = "eu-west-1", AWS_STS_REGIONAL_ENDPOINTS = "legacy" },
            "https://sts.amazonaws.com", "us-east-1")
    assumed({ AWS_REGION = "ap-south-1" }, "https://sts.amazonaws.com", "us-east-1",
            "sts_regional_endpoints = legacy\n")
    -- a region that never had the global endpoint stays regional
    assumed({ AWS_REGION = "ap-east-1", AWS_STS_REGIONAL_ENDPOINTS = "legacy" },
            "https://sts.ap-east-1.amazonaws.com", "ap-east-1")
  end)

  it("stays regional by default, and follows FIPS and dual-stack", function()
    assumed({ AWS_REGION = "eu-west-1" }, "https://sts.eu-west-1.amazonaws.com", "eu-west-1")
    assumed({ AWS_REGION = "us-east-2", AWS_USE_FIPS_ENDPOINT = "true" },
            "https://sts-fips.us-east-2.amazonaws.com", "us-east-2")
    assumed({ AWS_REGION = "eu-isoe-west-1", AWS_USE_DUALSTACK_ENDPOINT = "true" },
            "https://sts.eu-isoe-west-1.api.cloud-aws.adc-e.uk", "eu-isoe-west-1")
    assumed({ AWS_REGION = "eusc-de-east-1" }, "https://sts.eusc-de-east-1.amazonaws.eu",
            "eusc-de-east-1")
  end)

  it("refuses what the rule set refuses, before sending anything", function()
    local err = failure(provider{ AWS_REGION = "us-east-1", AWS_USE_FIPS_ENDPOINT = "true",
                                  AWS_ENDPOINT_URL_STS = "http://127.0.0.1:1" })
    assert.are.equal("validation", err.kind)
    assert.matches("FIPS and custom endpoint are not supported", err.message)
    assert.matches("AWS_ENDPOINT_URL_STS", err.message)
    -- fsx.config checks the setting when the client is created
    local ok
    ok, err = pcall(provider, { AWS_REGION = "us-east-1", AWS_STS_REGIONAL_ENDPOINTS = "global" })
    assert.is_false(ok)
    assert.are.equal("validation", err.kind)
    assert.are.equal("InvalidConfiguration", err.code)
    assert.matches("sts_regional_endpoints: must be regional or legacy, got \"global\" "
                   .. "%(from AWS_STS_REGIONAL_ENDPOINTS%)", err.message)
    assert.are.same({}, asked)
  end)
end)
