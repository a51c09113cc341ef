-- fsx.config, fsx.ini and fsx.useragent: settings from options, environment
-- and the shared files, in the SDKs' order.
local config = require("fsx.config")
local ini = require("fsx.ini")
local useragent = require("fsx.useragent")
local errors = require("fsx.error")
local procs = require("support.procs")

local dir

-- Resolve with an environment table; the shared files live in `dir`.
local function resolve(opts, env, files)
  env = env or {}
  files = files or {}
  local cfg = dir .. "/config-" .. tostring(math.random(1, 1e9))
  local cred = dir .. "/credentials-" .. tostring(math.random(1, 1e9))
  if files.config then procs.write(cfg, files.config) end
  if files.credentials then procs.write(cred, files.credentials) end
  local e = { AWS_CONFIG_FILE = cfg, AWS_SHARED_CREDENTIALS_FILE = cred, HOME = dir }
  for k, v in pairs(env) do e[k] = v end
  local o = { getenv = procs.env(e) }
  for k, v in pairs(opts or {}) do o[k] = v end
  return config.resolve(o)
end

local function raises(fn, field, pattern)
  local ok, err = pcall(fn)
  assert.is_false(ok, "expected an error")
  assert.is_true(errors.is_error(err), tostring(err))
  assert.are.equal("validation", err.kind)
  if field then assert.are.equal(field, err.field) end
  if pattern then assert.matches(pattern, err.message) end
  return err
end

describe("fsx.config", function()
  lazy_setup(function() dir = procs.tmpdir() end)
  lazy_teardown(function() procs.rmdir(dir) end)

  describe("region", function()
    local files = { config = "[default]\nregion = ap-south-1\n[profile other]\nregion = sa-east-1\n" }
    it("takes the option first", function()
      local s = resolve({ region = "eu-west-3" },
                        { AWS_REGION = "us-west-2", AWS_DEFAULT_REGION = "us-east-2" }, files)
      assert.are.equal("eu-west-3", s.region)
      assert.are.equal("https://fsx.eu-west-3.amazonaws.com", s.endpoint_url)
      assert.are.equal("resolved", s.endpoint_source)
    end)
    it("then AWS_REGION, AWS_DEFAULT_REGION, the profile", function()
      assert.are.equal("us-west-2", resolve(nil, { AWS_REGION = "us-west-2",
                                                   AWS_DEFAULT_REGION = "us-east-2" }, files).region)
      assert.are.equal("us-east-2", resolve(nil, { AWS_DEFAULT_REGION = "us-east-2" }, files).region)
      assert.are.equal("ap-south-1", resolve(nil, {}, files).region)
      assert.are.equal("sa-east-1", resolve(nil, { AWS_PROFILE = "other" }, files).region)
      assert.are.equal("sa-east-1", resolve({ profile = "other" }, {}, files).region)
    end)
    it("is nil, and so is the endpoint, when nothing gives one", function()
      local s = resolve(nil, {}, {})
      assert.is_nil(s.region)
      assert.is_nil(s.endpoint_url)
      assert.is_nil(s.endpoint_source)
    end)
    it("refuses a region that is not a host label", function()
      raises(function() resolve({ region = "us-east-1/evil" }) end, "region")
      raises(function() resolve(nil, { AWS_REGION = "us east 1" }) end, "region", "from env")
    end)
    it("turns fips-<region> and <region>-fips into FIPS", function()
      local s = resolve({ region = "fips-us-east-2" })
      assert.are.equal("us-east-2", s.region)
      assert.is_true(s.use_fips)
      assert.are.equal("https://fsx-fips.us-east-2.amazonaws.com", s.endpoint_url)
      assert.are.equal("us-west-1", resolve({ region = "us-west-1-fips" }).region)
    end)
  end)

  describe("profiles", function()
    it("selects option, AWS_PROFILE, AWS_DEFAULT_PROFILE, default", function()
      local files = { config = "[default]\nregion=us-east-1\n[profile a]\nregion=eu-west-1\n"
                               .. "[profile b]\nregion=eu-west-2\n" }
      local s = resolve({ profile = "a" }, { AWS_PROFILE = "b" }, files)
      assert.are.equal("a", s.profile)
      assert.is_true(s.profile_explicit)
      assert.are.equal("option", s.profile_source)
      s = resolve(nil, { AWS_PROFILE = "b", AWS_DEFAULT_PROFILE = "a" }, files)
      assert.are.equal("b", s.profile)
      assert.is_false(s.profile_explicit)
      assert.are.equal("a", resolve(nil, { AWS_DEFAULT_PROFILE = "a" }, files).profile)
      s = resolve(nil, {}, files)
      assert.are.equal("default", s.profile)
      assert.is_nil(s.profile_source)
      assert.are.equal("us-east-1", s.profile_data.region)
    end)
    it("merges the credentials file over the config file", function()
      local s = resolve({ profile = "dev" }, {}, {
        config = "[profile dev]\nregion = eu-north-1\naws_access_key_id = FROMCONFIG\n",
        credentials = "[dev]\naws_access_key_id = FROMCREDS\naws_secret_access_key = s\n",
      })
      assert.are.equal("eu-north-1", s.profile_data.region)
      assert.are.equal("FROMCREDS", s.profile_data.aws_access_key_id)
      assert.are.equal("FROMCONFIG", s.shared.config_profiles.dev.aws_access_key_id)
      assert.are.equal("FROMCREDS", s.shared.credentials_profiles.dev.aws_access_key_id)
    end)
    it("prefers [profile default] over [default] and ignores other sections", function()
      local s = resolve(nil, {}, { config = "[default]\nregion = us-east-1\n"
        .. "[profile default]\nregion = us-east-2\n[preview]\nregion = xx\n" })
      assert.are.equal("us-east-2", s.region)
      assert.is_nil(s.shared.profiles.preview)
    end)
    it("uses ~/.aws/* under HOME by default", function()
      os.execute("mkdir -p " .. procs.shell_quote(dir .. "/.aws"))
      procs.write(dir .. "/.aws/config", "[default]\nregion = me-south-1\n")
      local s = config.resolve{ getenv = procs.env({ HOME = dir }) }
      assert.are.equal("me-south-1", s.region)
      assert.are.equal(dir .. "/.aws/config", s.shared.config_file)
      assert.are.equal(dir .. "/.aws/credentials", s.shared.credentials_file)
      os.remove(dir .. "/.aws/config")
    end)
  end)

  describe("the fixture files", function()
    local function fixture(opts, env)
      local e = { AWS_CONFIG_FILE = "spec/fixtures/creds/config",
                  AWS_SHARED_CREDENTIALS_FILE = "spec/fixtures/creds/credentials" }
      for k, v in pairs(env or {}) do e[k] = v end
      local o = { getenv = procs.env(e) }
      for k, v in pairs(opts or {}) do o[k] = v end
      return config.resolve(o)
    end
    it("resolve the default profile", function()
      local s = fixture()
      assert.are.equal("us-east-1", s.region)
      assert.are.equal("adaptive", s.retry_mode)
      assert.are.equal(5, s.max_attempts)
      assert.are.equal("nightly-backups", s.app_id)
      assert.are.equal("AKIDFIXTUREDEFAULT", s.profile_data.aws_access_key_id)
      assert.are.equal("https://fsx.us-east-1.amazonaws.com", s.endpoint_url)
    end)
    it("resolve a profile with a services section, merged with the credentials file", function()
      local s = fixture({ profile = "dev" })
      assert.are.equal("ap-northeast-1", s.region)   -- the credentials file wins
      assert.are.equal("http://localhost:4566", s.endpoint_url)
      assert.are.equal("profile", s.endpoint_source)
      assert.are.equal("/etc/ssl/dev-ca.pem", s.ca_file)
      assert.are.equal("http://localhost:4567", s.shared.services["dev-endpoints"].sts.endpoint_url)
      assert.are.equal(3, s.max_attempts)
      assert.are.equal("standard", s.retry_mode)
    end)
    it("resolve GovCloud FIPS and keep other profiles for the credential chain", function()
      local s = fixture(nil, { AWS_PROFILE = "gov" })
      assert.are.equal("https://fsx-fips.us-gov-west-1.amazonaws.com", s.endpoint_url)
      assert.are.equal("dev", s.shared.profiles.role.source_profile)
      assert.are.equal('/usr/local/bin/get-creds --profile "process"',
                       s.shared.profiles.process.credential_process)
    end)
  end)

  describe("shared files as botocore reads them", function()
    it("give the same profiles and sso-sessions, or an error for the same files", function()
      local cases = {
        "[default]\nregion = a\n[profile default]\nregion = b\n",
        "[profile default]\nregion = b\nx = 1\n[default]\nregion = a\n",
        '[profile "my prof"]\nregion = a\n[profile \'single q\']\nregion = b\n',
        '[profile x]\nregion = 1\ny = 2\n[profile "x"]\nregion = 3\n',
        "[profile   spaced  ]\nregion = a\n[ default ]\nregion = b\n",
        "[default] trailing text\nregion = a\n[profile t] ; comment\nregion = b\n",
        "[profile a b]\nregion = a\n[profilex y]\nregion = b\n[profile]\nregion = c\n",
        '[profile "open]\nregion = a\n[profile x] [y]\nregion = b\n',
        '[sso-session "corp sso"]\nsso_region = us-east-1\n[sso-session]\nsso_region = x\n',
        "[profile d]\nregion = a\n[profile d]\nregion = b\n",
        "[default]\nregion = a\nRegion = b\n",
        "\239\187\191[default]\nregion = a\n",
        "[default]\ns3 =\n  addressing_style = path\n  Max_Concurrency = 3\n",
      }
      local files, got = {}, {}
      for i, text in ipairs(cases) do
        files[i] = procs.write(dir .. "/botocore-" .. i, text)
        local ok, shared = pcall(config.load_shared, { getenv = procs.env{
          AWS_CONFIG_FILE = files[i], AWS_SHARED_CREDENTIALS_FILE = dir .. "/none" } })
        got[i] = ok and { profiles = shared.config_profiles, sso_sessions = shared.sso_sessions }
          or { error = true }
      end
      local want = procs.python_json([[
import json, sys
import botocore.configloader as cl
out = []
for path in json.load(sys.stdin):
    try:
        c = cl.load_config(path)
        out.append({"profiles": c["profiles"], "sso_sessions": c["sso_sessions"]})
    except Exception:
        out.append({"error": True})
print(json.dumps(out))
]], files)
      for i, text in ipairs(cases) do
        assert.are.same(want[i], got[i], text)
      end
    end)

    it("expand $VAR, ${VAR} and ~ in the file paths", function()
      os.execute("mkdir -p " .. procs.shell_quote(dir .. "/.aws"))
      procs.write(dir .. "/.aws/cfg-x", "[default]\nregion = me-central-1\n")
      for _, path in ipairs({ "$HOME/.aws/cfg-x", "${HOME}/.aws/cfg-$SUFFIX", "~/.aws/cfg-x" }) do
        local s = config.resolve{ getenv = procs.env({ HOME = dir, SUFFIX = "x",
                                                       AWS_CONFIG_FILE = path }) }
        assert.are.equal("me-central-1", s.region, path)
        assert.are.equal(dir .. "/.aws/cfg-x", s.shared.config_file)
      end
      local s = config.resolve{ getenv = procs.env({ HOME = dir, AWS_CONFIG_FILE = "$UNSET/x" }) }
      assert.are.equal("$UNSET/x", s.shared.config_file)
    end)
  end)

  describe("shared files that are broken", function()
    it("name the file and line of a syntax error", function()
      local err = raises(function()
        resolve(nil, {}, { config = "[default]\nregion = us-east-1\nthis line is wrong\n" })
      end, "config_file", ":3: expected")
      assert.are.equal("InvalidConfigFile", err.code)
      err = raises(function()
        resolve(nil, {}, { credentials = "[default\naws_access_key_id = x\n" })
      end, "credentials_file", ":1: section header without a closing")
      assert.are.equal("InvalidConfigFile", err.code)
      raises(function() resolve(nil, {}, { config = "region = us-east-1\n" }) end,
             "config_file", "before any %[section%]")
    end)
    it("ignore a directory given as a file, as botocore does", function()
      local d = dir .. "/a-directory"
      os.execute("mkdir -p " .. procs.shell_quote(d))
      local s = config.resolve{ getenv = procs.env({ AWS_CONFIG_FILE = d,
                                                     AWS_SHARED_CREDENTIALS_FILE = d, HOME = dir }) }
      assert.is_false(s.shared.config_exists)
      assert.is_false(s.shared.credentials_exists)
    end)
    it("accept missing files", function()
      local s = config.resolve{ getenv = procs.env({ AWS_CONFIG_FILE = dir .. "/nope",
        AWS_SHARED_CREDENTIALS_FILE = dir .. "/nope2" }) }
      assert.is_false(s.shared.config_exists)
      assert.is_false(s.shared.credentials_exists)
    end)
  end)

  describe("endpoint", function()
    local files = {
      config = "[default]\nregion = us-east-1\nendpoint_url = http://profile-global:1\n"
        .. "services = local\n"
        .. "[services local]\nfsx =\n  endpoint_url = http://profile-services:2\n"
        .. "sts =\n  endpoint_url = http://sts-local:3\n"
        .. "[profile plain]\nregion = us-east-1\nendpoint_url = http://profile-global:1\n",
    }
    local env = { AWS_ENDPOINT_URL_FSX = "http://env-fsx:4", AWS_ENDPOINT_URL = "http://env-all:5" }
    it("follows option > AWS_ENDPOINT_URL_FSX > AWS_ENDPOINT_URL > services > endpoint_url", function()
      local s = resolve({ endpoint_url = "http://option:6/" }, env, files)
      assert.are.equal("http://option:6", s.endpoint_url)
      assert.are.equal("option", s.endpoint_source)
      s = resolve(nil, env, files)
      assert.are.equal("http://env-fsx:4", s.endpoint_url)
      assert.are.equal("env", s.endpoint_source)
      s = resolve(nil, { AWS_ENDPOINT_URL = "http://env-all:5" }, files)
      assert.are.equal("http://env-all:5", s.endpoint_url)
      s = resolve(nil, {}, files)
      assert.are.equal("http://profile-services:2", s.endpoint_url)
      assert.are.equal("profile", s.endpoint_source)
      s = resolve({ profile = "plain" }, {}, files)
      assert.are.equal("http://profile-global:1", s.endpoint_url)
      assert.are.equal("profile", s.endpoint_source)
      s = resolve({ region = "us-east-1" }, {}, {})
      assert.are.equal("https://fsx.us-east-1.amazonaws.com", s.endpoint_url)
      assert.are.equal("resolved", s.endpoint_source)
    end)
    it("gives a custom endpoint even without a region", function()
      local s = resolve({ endpoint_url = "http://127.0.0.1:9000" })
      assert.is_nil(s.region)
      assert.are.equal("http://127.0.0.1:9000", s.endpoint_url)
    end)
    it("skips configured endpoints with AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", function()
      local e = { AWS_IGNORE_CONFIGURED_ENDPOINT_URLS = "true" }
      for k, v in pairs(env) do e[k] = v end
      local s = resolve(nil, e, files)
      assert.are.equal("https://fsx.us-east-1.amazonaws.com", s.endpoint_url)
      s = resolve({ endpoint_url = "http://option:6" }, e, files)
      assert.are.equal("http://option:6", s.endpoint_url)
    end)
    it("refuses a custom endpoint with FIPS or dual-stack (the rule set's errors)", function()
      raises(function() resolve({ endpoint_url = "http://x:1", use_fips_endpoint = true }) end,
             "endpoint", "FIPS and custom endpoint are not supported")
      raises(function() resolve({ region = "us-east-1" },
                                { AWS_ENDPOINT_URL = "http://x:1", AWS_USE_FIPS_ENDPOINT = "true" })
      end, "endpoint", "custom endpoint from AWS_ENDPOINT_URL%)")
      raises(function() resolve({ endpoint_url = "http://x:1" }, { AWS_USE_DUALSTACK_ENDPOINT = "true" })
      end, "endpoint", "Dualstack and custom endpoint are not supported")
    end)
    it("refuses a malformed custom endpoint, naming where it came from", function()
      raises(function() resolve({ endpoint_url = "not a url" }) end, "endpoint_url")
      raises(function() resolve(nil, { AWS_ENDPOINT_URL_FSX = "ftp://x" }) end,
             "AWS_ENDPOINT_URL_FSX")
    end)
    it("resolves FIPS and dual-stack from options, environment and profile", function()
      local s = resolve({ region = "us-west-2", use_fips_endpoint = true,
                          use_dualstack_endpoint = true })
      assert.are.equal("https://fsx-fips.us-west-2.api.aws", s.endpoint_url)
      s = resolve({ region = "us-west-2" }, { AWS_USE_DUALSTACK_ENDPOINT = "TRUE" })
      assert.are.equal("https://fsx.us-west-2.api.aws", s.endpoint_url)
      s = resolve({ region = "cn-north-1" }, {}, { config = "[default]\nuse_fips_endpoint = true\n" })
      assert.are.equal("https://fsx-fips.cn-north-1.amazonaws.com.cn", s.endpoint_url)
      s = resolve({ region = "us-west-2", use_fips_endpoint = false },
                  { AWS_USE_FIPS_ENDPOINT = "true" })
      assert.is_false(s.use_fips)
      raises(function() resolve({ region = "us-west-2" }, { AWS_USE_FIPS_ENDPOINT = "yes" }) end,
             "use_fips_endpoint")
      s = resolve({ region = "us-iso-east-1", use_dualstack_endpoint = true })
      assert.are.equal("https://fsx.us-iso-east-1.api.aws.ic.gov", s.endpoint_url)
    end)
  end)

  describe("retries", function()
    it("reads max_attempts from option, env, profile; default 3", function()
      assert.are.equal(3, resolve().max_attempts)
      assert.are.equal(5, resolve({ max_attempts = 5 }, { AWS_MAX_ATTEMPTS = "7" }).max_attempts)
      assert.are.equal(7, resolve(nil, { AWS_MAX_ATTEMPTS = "7" }).max_attempts)
      assert.are.equal(2, resolve(nil, {}, { config = "[default]\nmax_attempts = 2\n" }).max_attempts)
    end)
    it("refuses bad max_attempts", function()
      raises(function() resolve(nil, { AWS_MAX_ATTEMPTS = "x" }) end, "max_attempts", "\"x\"")
      raises(function() resolve({ max_attempts = 0 }) end, "max_attempts")
      raises(function() resolve({ max_attempts = 2.5 }) end, "max_attempts")
      raises(function() resolve(nil, {}, { config = "[default]\nmax_attempts = -1\n" }) end,
             "max_attempts", "from profile")
    end)
    it("reads retry_mode; refuses unknown modes", function()
      assert.are.equal("standard", resolve().retry_mode)
      assert.are.equal("adaptive", resolve(nil, { AWS_RETRY_MODE = "adaptive" }).retry_mode)
      assert.are.equal("standard", resolve({ retry_mode = "standard" },
                                           { AWS_RETRY_MODE = "adaptive" }).retry_mode)
      assert.are.equal("adaptive", resolve(nil, {}, { config = "[default]\nretry_mode = adaptive\n" })
                                   .retry_mode)
      assert.are.equal("standard", resolve(nil, { AWS_RETRY_MODE = "legacy" }).retry_mode)
      raises(function() resolve({ retry_mode = "fast" }) end, "retry_mode", "\"fast\"")
    end)
  end)

  describe("every setting from the environment or a profile is checked", function()
    -- each case: environment or config text, field, words of the message
    local BAD = {
      { { AWS_METADATA_SERVICE_TIMEOUT = "0" }, "metadata_service_timeout",
        "above 0, at most 120, got \"0\" %(from AWS_METADATA_SERVICE_TIMEOUT%)" },
      { { AWS_METADATA_SERVICE_TIMEOUT = "-1" }, "metadata_service_timeout", "\"%-1\"" },
      { { AWS_METADATA_SERVICE_TIMEOUT = "100000" }, "metadata_service_timeout", "\"100000\"" },
      { { AWS_METADATA_SERVICE_TIMEOUT = "1e999" }, "metadata_service_timeout", "\"1e999\"" },
      { { AWS_METADATA_SERVICE_TIMEOUT = "inf" }, "metadata_service_timeout", "\"inf\"" },
      { { AWS_METADATA_SERVICE_TIMEOUT = "nan" }, "metadata_service_timeout", "\"nan\"" },
      { { AWS_METADATA_SERVICE_TIMEOUT = "0x10" }, "metadata_service_timeout", "\"0x10\"" },
      { "[default]\nmetadata_service_timeout = 0\n", "metadata_service_timeout",
        "%(from profile default metadata_service_timeout%)" },
      { { AWS_METADATA_SERVICE_NUM_ATTEMPTS = "1e999" }, "metadata_service_num_attempts",
        "an integer from 1 to 20, got \"1e999\" %(from AWS_METADATA_SERVICE_NUM_ATTEMPTS%)" },
      { { AWS_METADATA_SERVICE_NUM_ATTEMPTS = "0" }, "metadata_service_num_attempts", "\"0\"" },
      { { AWS_METADATA_SERVICE_NUM_ATTEMPTS = "1.5" }, "metadata_service_num_attempts", "\"1.5\"" },
      { "[default]\nmetadata_service_num_attempts = many\n", "metadata_service_num_attempts",
        "from profile default metadata_service_num_attempts" },
      { { AWS_EC2_METADATA_DISABLED = "yes" }, "AWS_EC2_METADATA_DISABLED",
        "must be true or false, got \"yes\"" },
      { { AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE = "IPv5" }, "ec2_metadata_service_endpoint_mode",
        "must be IPv4 or IPv6, got \"IPv5\" %(from AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE%)" },
      { { AWS_EC2_METADATA_SERVICE_ENDPOINT = "ftp://169.254.169.254" },
        "ec2_metadata_service_endpoint", "an http or https URL" },
      { "[default]\nec2_metadata_service_endpoint = not a url\n", "ec2_metadata_service_endpoint",
        "from profile default ec2_metadata_service_endpoint" },
      { { AWS_MAX_ATTEMPTS = "1e999" }, "max_attempts",
        "an integer from 1 to 100, got \"1e999\" %(from AWS_MAX_ATTEMPTS%)" },
      { { AWS_MAX_ATTEMPTS = "0x10" }, "max_attempts", "\"0x10\"" },
      { { AWS_MAX_ATTEMPTS = "nan" }, "max_attempts", "\"nan\"" },
      { "[default]\nmax_attempts = 0\n", "max_attempts", "from profile default max_attempts" },
      { { AWS_RETRY_MODE = "fast" }, "retry_mode", "%(from AWS_RETRY_MODE%)" },
      { { AWS_USE_FIPS_ENDPOINT = "yes" }, "use_fips_endpoint", "%(from AWS_USE_FIPS_ENDPOINT%)" },
      { "[default]\nuse_dualstack_endpoint = 1\n", "use_dualstack_endpoint",
        "%(from profile default use_dualstack_endpoint%)" },
      { { AWS_IGNORE_CONFIGURED_ENDPOINT_URLS = "1" }, "ignore_configured_endpoint_urls",
        "from AWS_IGNORE_CONFIGURED_ENDPOINT_URLS" },
      { "[default]\nsts_regional_endpoints = global\n", "sts_regional_endpoints",
        "must be regional or legacy, got \"global\" %(from profile default sts_regional_endpoints%)" },
    }
    it("with a configuration error naming the setting and where it came from", function()
      for _, c in ipairs(BAD) do
        local env, files = c[1], nil
        if type(env) == "string" then env, files = {}, { config = env } end
        local err = raises(function() resolve(nil, env, files) end, c[2], c[3])
        assert.are.equal("InvalidConfiguration", err.code)
      end
    end)
    it("the same through fsx.new, before any I/O", function()
      local fsx = require("fsx")
      for _, c in ipairs(BAD) do
        if type(c[1]) == "table" then
          local env = { AWS_CONFIG_FILE = dir .. "/none", AWS_SHARED_CREDENTIALS_FILE = dir .. "/none" }
          for k, v in pairs(c[1]) do env[k] = v end
          local ok, err = pcall(fsx.new, { region = "us-east-1", getenv = procs.env(env) })
          assert.is_false(ok)
          assert.is_true(errors.is_error(err), tostring(err))
          assert.are.equal(c[2], err.field)
        end
      end
      for _, k in ipairs({ "sts_timeout", "sts_connect_timeout", "credentials_wait_limit" }) do
        local ok, err = pcall(fsx.new, { region = "us-east-1", [k] = 0,
                                         getenv = procs.env({ HOME = dir }) })
        assert.is_false(ok, k)
        assert.are.equal("validation", err.kind)
        assert.matches(k .. ": must be a number of seconds above 0", err.message)
      end
    end)
    it("and good values are read", function()
      local s = resolve(nil, { AWS_METADATA_SERVICE_TIMEOUT = "2.5",
                               AWS_METADATA_SERVICE_NUM_ATTEMPTS = "3",
                               AWS_EC2_METADATA_DISABLED = "TRUE",
                               AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE = "IPv6" })
      assert.are.equal(2.5, s.metadata_timeout)
      assert.are.equal(3, s.metadata_attempts)
      assert.is_true(s.imds_disabled)
      assert.are.equal("ipv6", s.imds_endpoint_mode)
      s = resolve(nil, {}, { config = "[default]\nmetadata_service_timeout = 7\n"
        .. "ec2_metadata_service_endpoint = http://127.0.0.1:1234\n" })
      assert.are.equal(7, s.metadata_timeout)
      assert.are.equal("http://127.0.0.1:1234", s.imds_endpoint)
      assert.is_false(s.imds_disabled)
    end)
  end)

  describe("ca_file, app id and user agent", function()
    it("reads ca_file from option, AWS_CA_BUNDLE, profile ca_bundle", function()
      assert.are.equal("/opt/a.pem", resolve({ ca_file = "/opt/a.pem" },
                                             { AWS_CA_BUNDLE = "/opt/b.pem" }).ca_file)
      assert.are.equal("/opt/b.pem", resolve(nil, { AWS_CA_BUNDLE = "/opt/b.pem" }).ca_file)
      assert.are.equal(dir .. "/c.pem",
                       resolve(nil, {}, { config = "[default]\nca_bundle = ~/c.pem\n" }).ca_file)
      assert.is_nil(resolve().ca_file)
    end)
    it("reads the app id and puts it in the user agent", function()
      local s = resolve(nil, { AWS_SDK_UA_APP_ID = "backup-job" })
      assert.are.equal("backup-job", s.app_id)
      assert.matches(" app/backup%-job$", s.user_agent)
      s = resolve(nil, {}, { config = "[default]\nsdk_ua_app_id = from profile\n" })
      assert.are.equal("from profile", s.app_id)
      assert.matches(" app/from%-profile$", s.user_agent)
      assert.are.equal("opt", resolve({ app_id = "opt" }, { AWS_SDK_UA_APP_ID = "env" }).app_id)
    end)
    it("builds the SDK-style user agent", function()
      local ua = useragent.build{ app_id = "x", retry_mode = "adaptive" }
      local version = require("fsx.version")
      local lua_token = jit and ("LuaJIT%-[%w%.%-]+") or (_VERSION:gsub("Lua ", ""):gsub("%.", "%%."))
      assert.matches("^lua%-fsx/" .. version:gsub("%.", "%%.") .. " lua/" .. lua_token
                     .. " os/linux cfg/retry%-mode#adaptive app/x$", ua)
      assert.are.equal("lua-fsx/" .. version .. " lua/" .. useragent.lua_version() .. " os/linux",
                       useragent.build{})
      assert.matches(" extra/1$", useragent.build{ user_agent_extra = "extra/1" })
    end)
  end)
end)

describe("fsx.ini", function()
  it("parses sections, comments, nested blocks and continuations", function()
    local text = table.concat({
      "# comment", "; another", "[default]", "region = us-east-1", "  ",
      "[profile dev]  # trailing comment", "Role_Arn=arn:aws:iam::1:role/x",
      "credential_process = /bin/x --a=b # not a comment", "s3 =", "  max = 10",
      "  Style = path:x", "", "multi = first", "  second", "key: colon value", "empty =",
      "[ spaced name ] trailing text", "a = 1",
    }, "\r\n")
    local s, order = assert(ini.parse(text, "t"))
    assert.are.same({ "default", "profile dev", " spaced name " }, order)
    assert.are.equal("us-east-1", s.default.region)
    local dev = s["profile dev"]
    assert.are.equal("arn:aws:iam::1:role/x", dev.role_arn)
    assert.are.equal("/bin/x --a=b # not a comment", dev.credential_process)
    assert.are.same({ max = "10", Style = "path:x" }, dev.s3)
    assert.are.equal("first\nsecond", dev.multi)
    assert.are.equal("colon value", dev.key)
    assert.are.equal("", dev.empty)
    assert.are.equal("1", s[" spaced name "].a)
  end)

  it("reports errors with the line number", function()
    local cases = {
      { "[a]\nno equals sign\n", "t:2: expected" },
      { "x = 1\n", "t:1: 'key = value' before any" },
      { "[a\n", "t:1: section header without a closing" },
      { "[]\n", "t:1: empty section name" },
      { "[a]\n= value\n", "t:2: expected" },
      { "[a]\ns3 =\n  nested without equals\n", "t:3: expected 'key = value' in the nested block" },
      { "[a]\nx=\0\n", "binary data" },
      { "\239\187\191[a]\nx = 1\n", "t:1: starts with a UTF-8 byte order mark" },
      { "[a]\nx = 1\n[b]\n[a]\ny = 2\n", "t:4: section [a] appears a second time" },
      { "[a]\nx = 1\nX = 2\n", "t:3: x is set a second time" },
    }
    for _, c in ipairs(cases) do
      local s, err = ini.parse(c[1], "t")
      assert.is_nil(s, c[1])
      assert.matches(c[2], err, 1, true)
    end
  end)

  it("splits words as botocore's shlex.split does", function()
    local cases = {
      "/bin/get-creds --profile dev", [[a "b c" 'd e' f\ g]], [[x"y z"w]], "$HOME ; rm -rf /",
      [["a\"b" "c\\d" "e\f" 'g\h']], "  lead  trail  ", "tab\tsep\nnl", [[''  ""]],
      "a#b # c", "p|q&r>s", [[profile "my prof"]], "profile  'x'", [["unterminated]], [[trail\]],
      [['open]], "",
    }
    local got = {}
    for i, c in ipairs(cases) do
      local words, err = ini.shell_split(c)
      got[i] = words or { error = err ~= nil }
    end
    local want = procs.python_json([[
import json, sys
from botocore.compat import compat_shell_split
out = []
for c in json.load(sys.stdin):
    try:
        out.append(compat_shell_split(c))
    except ValueError:
        out.append({"error": True})
print(json.dumps(out))
]], cases)
    for i, c in ipairs(cases) do
      assert.are.same(want[i], got[i], c)
    end
  end)

  it("reads files: nil for a missing one or a directory (botocore ignores both)", function()
    local s, err = ini.read("/nonexistent/file")
    assert.is_nil(s)
    assert.is_nil(err)
    s, err = ini.read("/")
    assert.is_nil(s)
    assert.is_nil(err)
  end)
end)
