-- fsx.credentials: the provider chain against real local servers (IMDSv2,
-- container credentials, STS with SigV4 verification by botocore), temporary
-- shared files and a real credential_process script.
local config = require("fsx.config")
local credentials = require("fsx.credentials")
local errors = require("fsx.error")
local procs = require("support.procs")

local PROCESS = os.getenv("PWD") .. "/spec/fixtures/credential_process.sh"

-- Source keys the STS server knows (it verifies their signatures).
local SOURCE_AKID, SOURCE_SECRET = "AKIDSOURCE0000000001", "source-secret-key-999"
local WEB_TOKEN = "web-identity-token-xyz-0123456789"
local CONTAINER_TOKEN = "container-auth-token-777"

-- Substrings of every secret the servers, files and environments of this
-- spec hand out; none may ever show in an error.
local SECRET_MARKERS = {
  SOURCE_SECRET, WEB_TOKEN, CONTAINER_TOKEN, "env-secret-key-abcdef", "env-session-token-abcdef",
  "profile-secret-key-555", "config-secret-key-666", "process-secret-key-123",
  "process-session-token-456", "leaked-secret-on-stdout", "junk-secret-value",
  "version-two-secret", "short-secret-", "short-token-", "sts-secret-", "sts-token-",
  "imds-secret-", "imds-token-", "container-secret-", "container-token-", "wrong-secret-key-000",
  "explicit-secret-key-888", "fail-leak-secret-4242", "container-echo-secret-",
}

local dir, imds, container, sts
local seen_errors = {}

-- Every string inside an error (message, tostring, nested fields).
local function strings_of(v, out, depth)
  out = out or {}
  depth = depth or 0
  if type(v) == "string" then
    out[#out + 1] = v
  elseif type(v) == "table" and depth < 5 then
    for k, x in pairs(v) do
      strings_of(k, out, depth + 1)
      strings_of(x, out, depth + 1)
    end
  end
  return out
end

local function assert_no_secret(err)
  local texts = strings_of(err)
  texts[#texts + 1] = tostring(err)
  for _, t in ipairs(texts) do
    for _, m in ipairs(SECRET_MARKERS) do
      assert.is_nil(t:find(m, 1, true), "secret " .. m .. " leaked in: " .. t)
    end
  end
end

-- pcall a provider's get(); returns the error, checked to be a credentials error.
local function get_error(p, code)
  local ok, err = pcall(p.get, p)
  assert.is_false(ok, "expected an error")
  assert.is_true(errors.is_error(err), tostring(err))
  seen_errors[#seen_errors + 1] = err
  assert.are.equal("credentials", err.kind, tostring(err))
  if code then assert.are.equal(code, err.code, tostring(err)) end
  assert_no_secret(err)
  return err
end

local counter = 0
local function file(text)
  counter = counter + 1
  return procs.write(dir .. "/f" .. counter, text)
end

-- Build a provider. env: extra environment; opts: extra options; deps:
-- overrides; files: { config =, credentials = } contents.
local function provider(env, opts, deps, files)
  files = files or {}
  local e = {
    HOME = dir, AWS_EC2_METADATA_DISABLED = "true",
    AWS_CONFIG_FILE = files.config and file(files.config) or (dir .. "/no-config"),
    AWS_SHARED_CREDENTIALS_FILE = files.credentials and file(files.credentials)
      or (dir .. "/no-credentials"),
    AWS_ENDPOINT_URL_STS = sts.url, AWS_REGION = "us-east-1",
  }
  for k, v in pairs(env or {}) do
    if v == false then e[k] = nil else e[k] = v end
  end
  local o = { getenv = procs.env(e), sts_timeout = 5 }
  for k, v in pairs(opts or {}) do o[k] = v end
  local settings = config.resolve(o)
  return credentials.new(o, settings, procs.deps(deps))
end

local function imds_env(extra)
  local e = { AWS_EC2_METADATA_DISABLED = false, AWS_EC2_METADATA_SERVICE_ENDPOINT = imds.url }
  for k, v in pairs(extra or {}) do e[k] = v end
  return e
end

local function elapsed(fn)
  local clock = require("fsx.clock")
  local t0 = clock.monotime()
  local a, b = fn()
  return clock.monotime() - t0, a, b
end

describe("fsx.credentials", function()
  lazy_setup(function()
    dir = procs.tmpdir()
    imds = procs.start("imds_server.py")
    container = procs.start("container_server.py", "--token " .. CONTAINER_TOKEN)
    sts = procs.start("sts_server.py", "--key " .. SOURCE_AKID .. ":" .. SOURCE_SECRET
                      .. " --web-token " .. WEB_TOKEN .. " --region us-east-1")
  end)

  lazy_teardown(function()
    procs.stop(imds)
    procs.stop(container)
    procs.stop(sts)
    procs.rmdir(dir)
  end)

  before_each(function()
    procs.control(imds, { mode = "normal", expires_in = 3600, reset = true })
    procs.control(container, { mode = "normal", expires_in = 3600, token = CONTAINER_TOKEN,
                               reset = true })
    procs.control(sts, { mode = "normal", expires_in = 3600, reset = true,
                         accept_unknown_keys = false })
  end)

  local ENV_KEYS = { AWS_ACCESS_KEY_ID = "AKIDENV", AWS_SECRET_ACCESS_KEY = "env-secret-key-abcdef",
                     AWS_SESSION_TOKEN = "env-session-token-abcdef" }
  local STATIC_PROFILE = { credentials = "[default]\naws_access_key_id = AKIDPROFILE\n"
    .. "aws_secret_access_key = profile-secret-key-555\n"
    .. "[named]\naws_access_key_id = AKIDNAMED\naws_secret_access_key = profile-secret-key-555\n" }

  local function with(a, b)
    local t = {}
    for k, v in pairs(a or {}) do t[k] = v end
    for k, v in pairs(b or {}) do t[k] = v end
    return t
  end

  describe("precedence", function()
    it("explicit credentials come first", function()
      local p = provider(ENV_KEYS, { credentials = { access_key_id = "AKIDEXPLICIT",
        secret_access_key = "explicit-secret-key-888" } }, nil, STATIC_PROFILE)
      local c = p:get()
      assert.are.equal("AKIDEXPLICIT", c.access_key_id)
      assert.are.equal("explicit", c.source)
      assert.is_nil(c.expiration)
    end)

    it("calls a credentials function; again each time unless it gives an expiration", function()
      local calls = 0
      local p = provider(nil, { credentials = function()
        calls = calls + 1
        return { access_key_id = "AKIDFN" .. calls, secret_access_key = "explicit-secret-key-888" }
      end })
      assert.are.equal("AKIDFN1", p:get().access_key_id)
      assert.are.equal("AKIDFN2", p:get().access_key_id)
      calls = 0
      p = provider(nil, { credentials = function()
        calls = calls + 1
        return { access_key_id = "AKIDFN" .. calls, secret_access_key = "explicit-secret-key-888",
                 session_token = "x", expiration = os.time() + 3600 }
      end })
      assert.are.equal("AKIDFN1", p:get().access_key_id)
      assert.are.equal("AKIDFN1", p:get().access_key_id)
      assert.are.equal(1, calls)
    end)

    it("refuses malformed explicit credentials", function()
      local err = get_error(provider(nil, { credentials = { access_key_id = "A" } }),
                            "InvalidCredentials")
      assert.matches("secret access key missing", err.message)
      err = get_error(provider(nil, { credentials = function() error("boom") end }),
                      "InvalidCredentials")
      assert.matches("boom", err.message)
      get_error(provider(nil, { credentials = function() return "x" end }), "InvalidCredentials")
    end)

    it("then the environment", function()
      local c = provider(ENV_KEYS, nil, nil, STATIC_PROFILE):get()
      assert.are.equal("AKIDENV", c.access_key_id)
      assert.are.equal("env-session-token-abcdef", c.session_token)
      assert.are.equal("env", c.source)
    end)

    it("skips the environment when the profile option names a profile", function()
      local c = provider(ENV_KEYS, { profile = "named" }, nil, STATIC_PROFILE):get()
      assert.are.equal("AKIDNAMED", c.access_key_id)
      assert.are.equal("profile", c.source)
      -- AWS_PROFILE does not skip it (as in botocore)
      c = provider(with(ENV_KEYS, { AWS_PROFILE = "named" }), nil, nil, STATIC_PROFILE):get()
      assert.are.equal("AKIDENV", c.access_key_id)
    end)

    it("refuses half of the environment keys", function()
      local err = get_error(provider({ AWS_ACCESS_KEY_ID = "AKIDENV" }), "PartialCredentials")
      assert.matches("AWS_SECRET_ACCESS_KEY is not", err.message)
    end)

    it("then web identity, before the profile, container and IMDS (botocore's order)", function()
      local token_file = file(WEB_TOKEN)
      local env = imds_env{ AWS_WEB_IDENTITY_TOKEN_FILE = token_file,
                            AWS_ROLE_ARN = "arn:aws:iam::123456789012:role/web",
                            AWS_CONTAINER_CREDENTIALS_FULL_URI = container.url .. "/creds",
                            AWS_CONTAINER_AUTHORIZATION_TOKEN = CONTAINER_TOKEN }
      -- a stray credentials file does not win over the pod's web identity
      local c = provider(env, nil, nil, STATIC_PROFILE):get()
      assert.are.equal("web-identity", c.source)
      assert.matches("^ASIASTS", c.access_key_id)
      -- without web identity: the profile
      env.AWS_WEB_IDENTITY_TOKEN_FILE = false
      c = provider(env, nil, nil, STATIC_PROFILE):get()
      assert.are.equal("AKIDPROFILE", c.access_key_id)
      -- without the profile: the container
      c = provider(env):get()
      assert.are.equal("container", c.source)
      -- without the container: IMDS
      env.AWS_CONTAINER_CREDENTIALS_FULL_URI = false
      c = provider(env):get()
      assert.are.equal("imds", c.source)
      assert.are.equal("test-role", c.role)
      assert.are.equal(1, procs.stats(imds).counts.creds)
      assert.are.equal(1, procs.stats(container).count)
    end)

    it("lets a selected profile's role_arn come before web identity, as botocore", function()
      local env = { AWS_WEB_IDENTITY_TOKEN_FILE = file(WEB_TOKEN),
                    AWS_ROLE_ARN = "arn:aws:iam::123456789012:role/web" }
      local c = provider(env, nil, nil, {
        credentials = "[source]\naws_access_key_id = " .. SOURCE_AKID
          .. "\naws_secret_access_key = " .. SOURCE_SECRET .. "\n",
        config = "[default]\nrole_arn = arn:aws:iam::123456789012:role/profile-role\n"
          .. "source_profile = source\n" }):get()
      assert.are.equal("assume-role", c.source)
      assert.are.equal("AssumeRole", procs.stats(sts).last.Action)
      assert.are.equal("arn:aws:iam::123456789012:role/profile-role", procs.stats(sts).last.RoleArn)
    end)

    it("lists every source and why it gave nothing", function()
      local p = provider()
      local err = get_error(p, "CredentialsNotFound")
      assert.are.equal(6, #err.tried)
      local names = {}
      for i, t in ipairs(err.tried) do names[i] = t.source end
      assert.are.same({ "explicit", "env", "web-identity", "profile", "container", "imds" }, names)
      for _, want in ipairs({ "explicit: no credentials option", "env: AWS_ACCESS_KEY_ID",
                              "profile: profile default not found", "no%-config %(missing%)",
                              "web%-identity: AWS_WEB_IDENTITY_TOKEN_FILE is not set",
                              "container: AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
                              "imds: disabled by AWS_EC2_METADATA_DISABLED" }) do
        assert.matches(want, err.message)
      end
    end)
  end)

  describe("shared files", function()
    it("read static keys from the config file too", function()
      local c = provider(nil, { profile = "cfg" }, nil, { config = "[profile cfg]\n"
        .. "aws_access_key_id = AKIDCONFIG\naws_secret_access_key = config-secret-key-666\n"
        .. "aws_session_token = tok-config-session\n" }):get()
      assert.are.equal("AKIDCONFIG", c.access_key_id)
      assert.are.equal("tok-config-session", c.session_token)
      assert.are.equal("cfg", c.profile)
    end)

    it("prefer credentials-file keys to credential_process", function()
      local c = provider(nil, nil, nil, {
        config = "[default]\ncredential_process = " .. PROCESS .. " ok\n",
        credentials = STATIC_PROFILE.credentials }):get()
      assert.are.equal("AKIDPROFILE", c.access_key_id)
    end)

    it("report a named profile that does not exist, even when other sources have keys", function()
      for _, case in ipairs({ { nil, { profile = "ghost" }, "the profile option" },
                              { { AWS_PROFILE = "ghost" }, nil, "AWS_PROFILE" },
                              { with(ENV_KEYS, { AWS_PROFILE = "ghost" }), nil, "AWS_PROFILE" },
                              { { AWS_DEFAULT_PROFILE = "ghost" }, nil, "AWS_DEFAULT_PROFILE" },
                              { nil, { profile = "ghost", credentials = {
                                  access_key_id = "AKIDEXPLICIT",
                                  secret_access_key = "explicit-secret-key-888" } },
                                "the profile option" } }) do
        local ok, err = pcall(provider, case[1], case[2], nil, STATIC_PROFILE)
        assert.is_false(ok, case[3])
        assert.are.equal("credentials", err.kind)
        assert.are.equal("ProfileNotFound", err.code)
        assert.are.equal("ghost", err.profile)
        assert.matches("profile ghost %(from " .. case[3] .. "%) not found", err.message)
        assert_no_secret(err)
      end
      -- botocore raises the same for a client with environment keys
      local out = procs.python_json([[
import json, sys, os
import botocore.session, botocore.exceptions
os.environ.update(json.load(sys.stdin))
try:
    botocore.session.get_session().create_client("fsx", region_name="us-east-1")
    print(json.dumps("created"))
except botocore.exceptions.ProfileNotFound:
    print(json.dumps("ProfileNotFound"))
]], with(ENV_KEYS, { AWS_PROFILE = "ghost", AWS_CONFIG_FILE = dir .. "/none",
                     AWS_SHARED_CREDENTIALS_FILE = file(STATIC_PROFILE.credentials) }))
      assert.are.equal("ProfileNotFound", out)
    end)

    it("report missing keys", function()
      local err = get_error(provider(nil, nil, nil, { credentials = "[default]\n"
        .. "aws_access_key_id = AKIDHALF\n" }), "PartialCredentials")
      assert.matches("aws_secret_access_key is missing", err.message)
      err = get_error(provider(nil, nil, nil, { config = "[default]\n"
        .. "aws_secret_access_key = config-secret-key-666\n" }), "PartialCredentials")
      assert.matches("aws_access_key_id is missing", err.message)
    end)

    it("give nothing for a profile without credentials", function()
      local err = get_error(provider(nil, nil, nil, { config = "[default]\nregion = eu-west-1\n" }),
                            "CredentialsNotFound")
      assert.matches("profile default has no aws_access_key_id", err.message)
      -- (IAM Identity Center profiles: spec/credentials_sso_spec.lua)
      err = get_error(provider(nil, nil, nil, { config = "[default]\nsso_session = x\n" }),
                      "InvalidConfig")
      assert.matches("no %[sso%-session x%] section", err.message)
    end)

    it("refuse a malformed file", function()
      local function resolve_with(env)
        local e = { HOME = dir }
        for k, v in pairs(env) do e[k] = v end
        return pcall(credentials.new, { getenv = procs.env(e) }, nil, procs.deps())
      end
      local ok, err = resolve_with{ AWS_SHARED_CREDENTIALS_FILE = file("[default]\nbroken\n") }
      assert.is_false(ok)
      assert.are.equal("InvalidConfigFile", err.code)
      assert.matches(":2: expected", err.message)
      -- a directory is ignored, as botocore ignores it
      os.execute("mkdir -p " .. procs.shell_quote(dir .. "/dir-as-file"))
      ok, err = resolve_with{ AWS_CONFIG_FILE = dir .. "/dir-as-file" }
      assert.is_true(ok, tostring(err))
    end)
  end)

  describe("credential_process", function()
    local function process_provider(mode, extra)
      return provider(nil, nil, nil, { config = "[default]\ncredential_process = " .. PROCESS
                                                .. " " .. mode .. (extra or "") .. "\n" })
    end

    it("runs the command and reads Version 1 JSON", function()
      local c = process_provider("ok"):get()
      assert.are.equal("AKIDPROCESS", c.access_key_id)
      assert.are.equal("process-secret-key-123", c.secret_access_key)
      assert.are.equal("process-session-token-456", c.session_token)
      assert.are.equal("process", c.source)
      assert.is_number(c.expiration)
      assert.is_true(c.expiration > os.time() + 3000)
      c = process_provider("static"):get()
      assert.is_nil(c.session_token)
      assert.is_nil(c.expiration)
    end)

    it("reports a failing command with its status and stderr, never stdout", function()
      local err = get_error(process_provider("fail"), "CredentialProcessError")
      assert.matches("exited with status 3", err.message)
      assert.matches("sso session expired", err.message)
    end)

    it("never shows a secret it printed, not even through its stderr", function()
      local err = get_error(process_provider("fail_leak"), "CredentialProcessError")
      assert.matches("exited with status 1: key <redacted> was refused", err.message)
      assert.is_nil(tostring(err):find("fail-leak-secret-4242", 1, true))
    end)

    it("splits the command into words like botocore, without a shell", function()
      local args_file = dir .. "/argv"
      local rest = [[ 'two words' "dq \"x\"" $HOME ; echo injected > ]] .. dir
        .. [[/injected | cat `id` back\ slash #hash]]
      local c = process_provider("argv " .. args_file, rest):get()
      assert.are.equal("AKIDARGV", c.access_key_id)
      local f = assert(io.open(args_file))
      local got = {}
      for line in f:lines() do got[#got + 1] = line end
      f:close()
      local want = procs.python_json([[
import json, sys
from botocore.compat import compat_shell_split
print(json.dumps(compat_shell_split(json.load(sys.stdin))[3:]))
]], PROCESS .. " argv " .. args_file .. rest)
      assert.are.same(want, got)
      assert.are.equal("$HOME", got[3])
      assert.is_nil(io.open(dir .. "/injected"))
      local err = get_error(process_provider("ok", " 'unterminated"), "CredentialProcessError")
      assert.matches("cannot be split into words: no closing quotation", err.message)
    end)

    it("stops a command that does not finish within its time limit", function()
      local process = require("fsx.credentials.process")
      local saved = process.timeout
      process.timeout = 1
      local started = os.time()
      local ok, err = pcall(function() return process_provider("hang"):get() end)
      process.timeout = saved
      assert.is_false(ok)
      assert.are.equal("CredentialProcessError", err.code)
      assert.matches("did not finish within 1 s", err.message)
      assert.is_true(os.time() - started < 15, "the call took " .. (os.time() - started) .. " s")
    end)

    it("reports junk output without echoing it", function()
      local err = get_error(process_provider("junk"), "CredentialProcessError")
      assert.matches("not a JSON object", err.message)
      assert.matches("not shown", err.message)
      err = get_error(process_provider("version2"), "CredentialProcessError")
      assert.matches("Version 2; only Version 1", err.message)
      err = get_error(process_provider("partial"), "CredentialProcessError")
      assert.matches("secret access key missing", err.message)
      err = get_error(provider(nil, nil, nil, { config = "[default]\ncredential_process = "
                                                 .. dir .. "/does-not-exist\n" }),
                      "CredentialProcessError")
      assert.matches("exited with status 127", err.message)
    end)
  end)

  describe("roles through STS", function()
    local ROLE = "arn:aws:iam::123456789012:role/backup"
    local SOURCE = "[source]\naws_access_key_id = " .. SOURCE_AKID .. "\naws_secret_access_key = "
      .. SOURCE_SECRET .. "\n"

    it("assumes role_arn with source_profile, signed with SigV4", function()
      local p = provider(nil, { profile = "role" }, nil, {
        credentials = SOURCE,
        config = "[profile role]\nrole_arn = " .. ROLE .. "\nsource_profile = source\n"
          .. "external_id = ext-123\nduration_seconds = 1800\nrole_session_name = nightly\n" })
      local c = p:get()
      assert.matches("^ASIASTS", c.access_key_id)
      assert.matches("^sts%-token%-", c.session_token)
      assert.are.equal("assume-role", c.source)
      assert.are.equal("role", c.profile)
      assert.is_true(c.expiration > os.time() + 1700 and c.expiration < os.time() + 1900)
      local last = procs.stats(sts).last
      assert.are.equal("AssumeRole", last.Action)
      assert.are.equal(ROLE, last.RoleArn)
      assert.are.equal("nightly", last.RoleSessionName)
      assert.are.equal("ext-123", last.ExternalId)
      assert.are.equal("1800", last.DurationSeconds)
      assert.are.equal(SOURCE_AKID, last.signed_by)
      assert.is_true(last.verified)
      assert.are.equal("lua-fsx-spec/1.0", last.user_agent)
    end)

    it("chains roles, and lets a profile be its own source", function()
      local p = provider(nil, { profile = "a" }, nil, {
        credentials = SOURCE,
        config = "[profile a]\nrole_arn = " .. ROLE .. "-a\nsource_profile = b\n"
          .. "[profile b]\nrole_arn = " .. ROLE .. "-b\nsource_profile = source\n" })
      local c = p:get()
      local stats = procs.stats(sts)
      assert.are.equal(2, stats.counts.AssumeRole)
      assert.are.equal(ROLE .. "-a", stats.last.RoleArn)
      -- the second call is signed with the first call's temporary credentials
      assert.matches("^ASIASTS", stats.last.signed_by)
      assert.is_true(stats.last.verified)
      assert.are_not.equal(stats.last.signed_by, c.access_key_id)

      c = provider(nil, { profile = "self" }, nil, { config = "[profile self]\nrole_arn = " .. ROLE
        .. "\nsource_profile = self\naws_access_key_id = " .. SOURCE_AKID
        .. "\naws_secret_access_key = " .. SOURCE_SECRET .. "\n" }):get()
      assert.are.equal("assume-role", c.source)
      assert.are.equal(SOURCE_AKID, procs.stats(sts).last.signed_by)
    end)

    it("refuses loops between profiles", function()
      local err = get_error(provider(nil, { profile = "x" }, nil, { config =
        "[profile x]\nrole_arn = " .. ROLE .. "\nsource_profile = y\n"
        .. "[profile y]\nrole_arn = " .. ROLE .. "\nsource_profile = z\n"
        .. "[profile z]\nrole_arn = " .. ROLE .. "\nsource_profile = x\n" }), "ProfileLoop")
      assert.matches("x %-> y %-> z %-> x", err.message)
      assert.are.equal(0, (procs.stats(sts).counts.AssumeRole or 0))
    end)

    it("reports bad role configurations", function()
      local cases = {
        { "role_arn = " .. ROLE .. "\n", "InvalidConfig", "needs source_profile" },
        { "role_arn = " .. ROLE .. "\nsource_profile = nope\n", "ProfileNotFound", "nope not found" },
        { "role_arn = " .. ROLE .. "\nsource_profile = source\ncredential_source = Environment\n",
          "InvalidConfig", "both set" },
        { "role_arn = " .. ROLE .. "\ncredential_source = Laptop\n", "InvalidConfig",
          "unsupported credential_source Laptop" },
        { "role_arn = " .. ROLE .. "\nsource_profile = source\nmfa_serial = arn:aws:iam::1:mfa/u\n",
          "MfaNotSupported", "not supported" },
        { "role_arn = " .. ROLE .. "\nsource_profile = source\nduration_seconds = 5\n",
          "InvalidConfig", "duration_seconds" },
        { "web_identity_token_file = /x\n", "InvalidConfig", "role_arn is missing" },
        { "role_arn = " .. ROLE .. "\nsource_profile = self\n", "InvalidConfig", "itself" },
        { "role_arn = " .. ROLE .. "\nsource_profile = empty\n", "InvalidConfig",
          "source profile has no" },
      }
      for _, c in ipairs(cases) do
        local err = get_error(provider(nil, { profile = "self" }, nil, { credentials = SOURCE,
          config = "[profile self]\n" .. c[1] .. "[profile empty]\nregion = us-east-1\n" }), c[2])
        assert.matches(c[3], err.message)
      end
    end)

    it("uses credential_source Environment, Ec2InstanceMetadata and EcsContainer", function()
      local cfg = { config = "[profile env]\nrole_arn = " .. ROLE .. "\ncredential_source = Environment\n"
        .. "[profile ec2]\nrole_arn = " .. ROLE .. "\ncredential_source = Ec2InstanceMetadata\n"
        .. "[profile ecs]\nrole_arn = " .. ROLE .. "\ncredential_source = EcsContainer\n" }
      local c = provider({ AWS_ACCESS_KEY_ID = SOURCE_AKID, AWS_SECRET_ACCESS_KEY = SOURCE_SECRET },
                         { profile = "env" }, nil, cfg):get()
      assert.are.equal("assume-role", c.source)
      assert.are.equal(SOURCE_AKID, procs.stats(sts).last.signed_by)
      assert.is_true(procs.stats(sts).last.verified)

      procs.control(sts, { accept_unknown_keys = true })
      c = provider(imds_env(), { profile = "ec2" }, nil, cfg):get()
      assert.are.equal("assume-role", c.source)
      assert.matches("^ASIAIMDS", procs.stats(sts).last.signed_by)
      provider({ AWS_CONTAINER_CREDENTIALS_FULL_URI = container.url .. "/v2/creds",
                     AWS_CONTAINER_AUTHORIZATION_TOKEN = CONTAINER_TOKEN },
                   { profile = "ecs" }, nil, cfg):get()
      assert.matches("^ASIACONT", procs.stats(sts).last.signed_by)

      local err = get_error(provider(nil, { profile = "env" }, nil, cfg), "InvalidConfig")
      assert.matches("credential_source Environment: AWS_ACCESS_KEY_ID", err.message)
      err = get_error(provider(nil, { profile = "ec2" }, nil, cfg), "InvalidConfig")
      assert.matches("Ec2InstanceMetadata: disabled", err.message)
    end)

    it("assumes a role with web_identity_token_file from the profile (unsigned)", function()
      local c = provider(nil, { profile = "web" }, nil, { config = "[profile web]\nrole_arn = "
        .. ROLE .. "\nweb_identity_token_file = " .. file(WEB_TOKEN .. "\n")
        .. "\nrole_session_name = pod-1\n" }):get()
      assert.are.equal("web-identity", c.source)
      local last = procs.stats(sts).last
      assert.are.equal("AssumeRoleWithWebIdentity", last.Action)
      assert.is_true(last.token_ok)
      assert.are.equal("pod-1", last.RoleSessionName)
    end)

    it("reports STS errors with their code, status and request id", function()
      local cfg = { credentials = SOURCE, config = "[profile role]\nrole_arn = " .. ROLE
        .. "\nsource_profile = source\n" }
      procs.control(sts, { mode = "deny" })
      local err = get_error(provider(nil, { profile = "role" }, nil, cfg), "AccessDenied")
      assert.are.equal(403, err.status)
      assert.is_string(err.request_id)
      assert.matches("role " .. ROLE:gsub("%p", "%%%0"), err.message)
      assert.matches("not authorized", err.message)
      assert.are.equal(1, procs.stats(sts).counts.AssumeRole)

      procs.control(sts, { mode = "normal" })
      err = get_error(provider(nil, { profile = "role" }, nil, { config = "[profile role]\nrole_arn = "
        .. ROLE .. "\nsource_profile = source\n[profile source]\naws_access_key_id = " .. SOURCE_AKID
        .. "\naws_secret_access_key = wrong-secret-key-000\n" }), "SignatureDoesNotMatch")
      assert.are.equal(403, err.status)
    end)

    it("retries throttling and 5xx up to max_attempts", function()
      local cfg = { credentials = SOURCE, config = "[profile role]\nrole_arn = " .. ROLE
        .. "\nsource_profile = source\n" }
      procs.control(sts, { mode = "throttle", reset = true })
      get_error(provider(nil, { profile = "role" }, nil, cfg), "Throttling")
      assert.are.equal(3, procs.stats(sts).counts.AssumeRole)
      procs.control(sts, { mode = "fail_once", reset = true })
      local c = provider(nil, { profile = "role" }, nil, cfg):get()
      assert.matches("^ASIASTS", c.access_key_id)
      assert.are.equal(2, procs.stats(sts).counts.AssumeRole)
      procs.control(sts, { mode = "html500", reset = true })
      local err = get_error(provider({ AWS_MAX_ATTEMPTS = "2" }, { profile = "role" }, nil, cfg),
                            "InvalidStsResponse")
      assert.are.equal(500, err.status)
      assert.are.equal(2, procs.stats(sts).counts.AssumeRole)
      assert.are.equal(2, err.attempts)
    end)

    it("reports the attempts that really happened", function()
      local cfg = { credentials = SOURCE, config = "[profile role]\nrole_arn = " .. ROLE
        .. "\nsource_profile = source\n" }
      procs.control(sts, { mode = "deny", reset = true })
      local err = get_error(provider({ AWS_MAX_ATTEMPTS = "5" }, { profile = "role" }, nil, cfg),
                            "AccessDenied")
      assert.are.equal(1, procs.stats(sts).counts.AssumeRole)
      assert.are.equal(1, err.attempts)
      assert.is_nil(tostring(err):find("attempts", 1, true))
      procs.control(sts, { mode = "throttle", reset = true })
      err = get_error(provider({ AWS_MAX_ATTEMPTS = "4" }, { profile = "role" }, nil, cfg),
                      "Throttling")
      assert.are.equal(4, procs.stats(sts).counts.AssumeRole)
      assert.are.equal(4, err.attempts)
    end)

    it("uses a source profile's static keys as they are, not its own role_arn", function()
      local p = provider(nil, { profile = "a" }, nil, { config = "[profile a]\nrole_arn = "
        .. ROLE .. "-a\nsource_profile = b\n[profile b]\nrole_arn = " .. ROLE .. "-b\n"
        .. "source_profile = c\naws_access_key_id = " .. SOURCE_AKID
        .. "\naws_secret_access_key = " .. SOURCE_SECRET .. "\n"
        .. "[profile c]\nregion = us-east-1\n" })
      local c = p:get()
      assert.are.equal("assume-role", c.source)
      local stats = procs.stats(sts)
      assert.are.equal(1, stats.counts.AssumeRole)
      assert.are.equal(ROLE .. "-a", stats.last.RoleArn)
      assert.are.equal(SOURCE_AKID, stats.last.signed_by)
      assert.is_true(stats.last.verified)
    end)

    it("refuses role credentials that STS hands out already expired", function()
      procs.control(sts, { expires_in = -3600, reset = true })
      local p = provider(nil, { profile = "role" }, nil, { credentials = SOURCE,
        config = "[profile role]\nrole_arn = " .. ROLE .. "\nsource_profile = source\n" })
      local err = get_error(p, "CredentialsExpired")
      assert.matches("profile: the credentials it gave expired at", err.message)
      assert.is_nil(p.cached)
    end)

    it("reports garbage and incomplete answers", function()
      local cfg = { credentials = SOURCE, config = "[profile role]\nrole_arn = " .. ROLE
        .. "\nsource_profile = source\n" }
      procs.control(sts, { mode = "garbage" })
      local err = get_error(provider(nil, { profile = "role" }, nil, cfg), "InvalidStsResponse")
      assert.matches("malformed XML", err.message)
      procs.control(sts, { mode = "no_creds" })
      err = get_error(provider(nil, { profile = "role" }, nil, cfg), "InvalidStsResponse")
      assert.matches("root element AssumeRoleResponse", err.message)
    end)

    it("gives up on a hanging STS after one timeout", function()
      procs.control(sts, { mode = "hang" })
      local p = provider(nil, { profile = "role", sts_timeout = 1 }, nil, { credentials = SOURCE,
        config = "[profile role]\nrole_arn = " .. ROLE .. "\nsource_profile = source\n" })
      local t = elapsed(function() get_error(p) end)
      assert.is_true(t < 3, "took " .. t .. " s")
      assert.are.equal(1, procs.stats(sts).counts.AssumeRole)
    end)
  end)

  describe("web identity from the environment", function()
    local ROLE = "arn:aws:iam::123456789012:role/eks"
    it("exchanges the token file", function()
      local c = provider{ AWS_WEB_IDENTITY_TOKEN_FILE = file(WEB_TOKEN),
                          AWS_ROLE_ARN = ROLE, AWS_ROLE_SESSION_NAME = "eks-pod" }:get()
      assert.are.equal("web-identity", c.source)
      assert.is_number(c.expiration)
      local last = procs.stats(sts).last
      assert.are.equal(ROLE, last.RoleArn)
      assert.are.equal("eks-pod", last.RoleSessionName)
      assert.is_true(last.token_ok)
      provider{ AWS_WEB_IDENTITY_TOKEN_FILE = file(WEB_TOKEN), AWS_ROLE_ARN = ROLE }:get()
      assert.matches("^lua%-fsx%-%d+$", procs.stats(sts).last.RoleSessionName)
    end)

    it("reports configuration and token problems", function()
      local err = get_error(provider{ AWS_WEB_IDENTITY_TOKEN_FILE = file(WEB_TOKEN) }, "InvalidConfig")
      assert.matches("AWS_ROLE_ARN is not", err.message)
      err = get_error(provider{ AWS_WEB_IDENTITY_TOKEN_FILE = dir .. "/missing-token",
                                AWS_ROLE_ARN = ROLE }, "InvalidConfig")
      assert.matches("cannot be read", err.message)
      err = get_error(provider{ AWS_WEB_IDENTITY_TOKEN_FILE = file("wrong-token-value"),
                                AWS_ROLE_ARN = ROLE }, "InvalidIdentityToken")
      assert.are.equal(400, err.status)
    end)
  end)

  describe("container credentials", function()
    it("uses the full URI with the authorization token", function()
      local c = provider{ AWS_CONTAINER_CREDENTIALS_FULL_URI = container.url .. "/v2/credentials/abc",
                          AWS_CONTAINER_AUTHORIZATION_TOKEN = CONTAINER_TOKEN }:get()
      assert.are.equal("container", c.source)
      assert.matches("^ASIACONT", c.access_key_id)
      local stats = procs.stats(container)
      assert.are.equal("/v2/credentials/abc", stats.last_path)
      assert.is_true(stats.last_auth_ok)
    end)

    it("reads the token file, which wins over the token variable", function()
      local c = provider{ AWS_CONTAINER_CREDENTIALS_FULL_URI = container.url .. "/creds",
                          AWS_CONTAINER_AUTHORIZATION_TOKEN = "not-the-token",
                          AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE = file(CONTAINER_TOKEN .. "\n") }:get()
      assert.are.equal("container", c.source)
    end)

    it("asks 169.254.170.2 for the relative URI", function()
      local real = procs.transport()
      local asked
      local p = provider({ AWS_CONTAINER_CREDENTIALS_RELATIVE_URI = "/v2/credentials/rel",
                           AWS_CONTAINER_AUTHORIZATION_TOKEN = CONTAINER_TOKEN }, nil,
        { transport = function(req)
          asked = req.url
          -- the link-local address is not reachable here: send it to the local server
          local r = {}
          for k, v in pairs(req) do r[k] = v end
          r.url = req.url:gsub("^http://169%.254%.170%.2", container.url)
          r.host, r.port = "127.0.0.1", container.port
          return real(r)
        end })
      assert.are.equal("container", p:get().source)
      assert.are.equal("http://169.254.170.2/v2/credentials/rel", asked)
      assert.are.equal("/v2/credentials/rel", procs.stats(container).last_path)
    end)

    it("refuses a full URI to a host that is not allowed", function()
      local err = get_error(provider{ AWS_CONTAINER_CREDENTIALS_FULL_URI = "http://example.com/creds" },
                            "InvalidConfig")
      assert.matches("not allowed", err.message)
      local container_mod = require("fsx.credentials.container")
      for _, h in ipairs({ "127.0.0.1", "127.1.2.3", "localhost", "::1", "169.254.170.2",
                           "169.254.170.23", "fd00:ec2::23" }) do
        assert.is_true(container_mod.allowed_host(h), h)
      end
      for _, h in ipairs({ "10.0.0.1", "169.254.169.254", "example.com", "128.0.0.1" }) do
        assert.is_false(container_mod.allowed_host(h), h)
      end
      local url = container_mod.url{ getenv = procs.env{
        AWS_CONTAINER_CREDENTIALS_FULL_URI = "https://creds.example.com/x" } }
      assert.are.equal("https://creds.example.com/x", url)
    end)

    it("reports a wrong token, garbage, 5xx and a hang", function()
      local env = { AWS_CONTAINER_CREDENTIALS_FULL_URI = container.url .. "/creds",
                    AWS_CONTAINER_AUTHORIZATION_TOKEN = "container-auth-token-777-wrong",
                    AWS_METADATA_SERVICE_TIMEOUT = "1" }
      local err = get_error(provider(env), "ContainerCredentialsError")
      assert.are.equal(401, err.status)
      assert.matches("AccessDenied", err.message)
      env.AWS_CONTAINER_AUTHORIZATION_TOKEN = CONTAINER_TOKEN
      procs.control(container, { mode = "garbage" })
      err = get_error(provider(env), "ContainerCredentialsError")
      assert.matches("not a JSON object", err.message)
      procs.control(container, { mode = "partial" })
      err = get_error(provider(env), "ContainerCredentialsError")
      assert.matches("incomplete", err.message)
      procs.control(container, { mode = "error500", reset = true })
      err = get_error(provider(env), "ContainerCredentialsError")
      assert.are.equal(500, err.status)
      assert.are.equal(3, procs.stats(container).count)
      -- a failure that shows a secret of its own body: scrubbed
      procs.control(container, { mode = "error_echo", reset = true })
      err = get_error(provider(env), "ContainerCredentialsError")
      assert.matches("HTTP 500: InternalError: could not hand out <redacted>", err.message)
      procs.control(container, { mode = "hang", reset = true })
      local t = elapsed(function() get_error(provider(env), "ContainerCredentialsTimeout") end)
      assert.is_true(t < 2.5, "took " .. t .. " s")
      assert.are.equal(1, procs.stats(container).count)
    end)
  end)

  describe("instance metadata", function()
    it("does the IMDSv2 dance once per load", function()
      local c = provider(imds_env()):get()
      assert.are.equal("imds", c.source)
      assert.matches("^imds%-token%-", c.session_token)
      local counts = procs.stats(imds).counts
      assert.are.same({ token = 1, role = 1, creds = 1, other = 0 }, counts)
    end)

    it("gives nothing, quickly, when the service hangs or misbehaves", function()
      local cases = {
        { "hang", "timed out after 1 s" },
        { "hang_creds", "credentials of role test%-role: .*timed out" },
        { "garbage", "not a JSON object" },
        { "error500", "HTTP 500" },
        { "no_role", "no IAM role" },
        { "token_forbidden", "HTTP 403 %(IMDSv2 is required%)" },
        { "failure_code", "Code AssumeRoleUnauthorizedAccess" },
      }
      for _, c in ipairs(cases) do
        procs.control(imds, { mode = c[1] })
        local t, err = elapsed(function() return get_error(provider(imds_env()), "CredentialsNotFound") end)
        assert.is_true(t < 2.5, c[1] .. " took " .. t .. " s")
        assert.matches("imds: .*" .. c[2], err.message)
      end
      -- one attempt per request: the hanging token request was asked once
      procs.control(imds, { mode = "hang", reset = true })
      get_error(provider(imds_env()), "CredentialsNotFound")
      assert.are.equal(1, procs.stats(imds).counts.token)
    end)

    it("reports a closed port without waiting", function()
      local t, err = elapsed(function()
        return get_error(provider({ AWS_EC2_METADATA_DISABLED = false,
                                    AWS_EC2_METADATA_SERVICE_ENDPOINT = "http://127.0.0.1:9" }),
                         "CredentialsNotFound")
      end)
      assert.is_true(t < 1.5)
      assert.matches("imds: no session token", err.message)
    end)

    it("is skipped with AWS_EC2_METADATA_DISABLED", function()
      get_error(provider(imds_env{ AWS_EC2_METADATA_DISABLED = "TRUE" }), "CredentialsNotFound")
      assert.are.equal(0, procs.stats(imds).counts.token)
    end)
  end)

  describe("cache and refresh", function()
    it("keeps static credentials and refreshes temporary ones a few minutes ahead", function()
      local now = os.time()
      local p = provider(imds_env(), nil, { now = function() return now end })
      local first = p:get()
      assert.are.equal(first, p:get())
      now = first.expiration - 400
      assert.are.equal(first, p:get())
      assert.are.equal(1, procs.stats(imds).counts.creds)
      procs.control(imds, { expires_in = 7200 })
      now = first.expiration - 200        -- inside the 5-minute window
      local second = p:get()
      assert.are_not.equal(first.access_key_id, second.access_key_id)
      assert.are.equal(2, procs.stats(imds).counts.creds)
      assert.are.equal(second, p:get())

      local calls = 0
      local sp = provider(ENV_KEYS, nil, { now = function() return now end })
      local c = sp:get()
      now = now + 10 * 365 * 86400
      assert.are.equal(c, sp:get())
      assert.is_nil(c.expiration)
      assert.are.equal(0, calls)
    end)

    it("refreshes short-lived credentials on every call", function()
      local count_file = dir .. "/process-count"
      os.remove(count_file)
      local p = provider(nil, nil, nil, { config = "[default]\ncredential_process = " .. PROCESS
                                           .. " short " .. count_file .. "\n" })
      assert.are.equal("AKIDSHORT1", p:get().access_key_id)
      assert.are.equal("AKIDSHORT2", p:get().access_key_id)
      procs.control(container, { expires_in = 30, reset = true })
      local cp = provider{ AWS_CONTAINER_CREDENTIALS_FULL_URI = container.url .. "/creds",
                           AWS_CONTAINER_AUTHORIZATION_TOKEN = CONTAINER_TOKEN }
      cp:get()
      cp:get()
      cp:get()
      assert.are.equal(3, procs.stats(container).count)
    end)

    it("uses IMDS credentials close to expiry a few more minutes (static stability)", function()
      -- IMDS serves credentials that expire in 30 s, or expired an hour ago
      for _, expires_in in ipairs({ 30, -3600 }) do
        local now = os.time()
        procs.control(imds, { expires_in = expires_in, reset = true })
        local p = provider(imds_env(), nil, { now = function() return now end })
        local c = p:get()
        assert.are.equal("imds", c.source)
        assert.is_true(math.abs(c.reported_expiration - (now + expires_in)) < 5)
        -- next refresh 5 to 10 minutes later, past the 5-minute advisory window
        assert.is_true(c.expiration >= now + 600 and c.expiration <= now + 900, c.expiration - now)
        for _ = 1, 5 do assert.are.equal(c, p:get()) end
        assert.are.equal(1, procs.stats(imds).counts.creds)
        now = c.expiration - 250
        p:get()
        assert.are.equal(2, procs.stats(imds).counts.creds)
      end
    end)

    it("extends IMDS credentials when their refresh fails (static stability)", function()
      local now = os.time()
      local p = provider(imds_env(), nil, { now = function() return now end })
      local first = p:get()
      procs.control(imds, { mode = "error500", reset = true })
      now = first.expiration - 30                -- inside the mandatory minute
      local c = p:get()
      assert.are.equal(first.access_key_id, c.access_key_id)
      assert.are.equal(first.expiration, c.reported_expiration)
      assert.is_true(c.expiration >= now + 600 and c.expiration <= now + 900)
      for _ = 1, 5 do assert.are.equal(c, p:get()) end
      assert.are.equal(1, procs.stats(imds).counts.token)
      procs.control(imds, { mode = "normal" })
      now = c.expiration - 250
      assert.are_not.equal(first.access_key_id, p:get().access_key_id)
    end)

    it("raises for credentials that arrive already expired, instead of using them", function()
      local count_file = dir .. "/expired-count"
      os.remove(count_file)
      local function runs()
        local f = assert(io.open(count_file))
        local n = f:read("*l")
        f:close()
        return n
      end
      local now = os.time()
      local p = provider(nil, nil, { now = function() return now end },
        { config = "[default]\ncredential_process = " .. PROCESS .. " expired " .. count_file .. "\n" })
      local err = get_error(p, "CredentialsExpired")
      assert.matches("credentials: profile: the credentials it gave expired at "
                     .. "%d%d%d%d%-%d%d%-%d%dT", err.message)
      assert.is_number(err.expiration)
      -- the process is not run again on every call: the error stands 10 s
      for _ = 1, 3 do assert.are.equal(err, get_error(p, "CredentialsExpired")) end
      assert.are.equal("1", runs())
      now = now + 11
      get_error(p, "CredentialsExpired")
      assert.are.equal("2", runs())
      p:invalidate()
      get_error(p, "CredentialsExpired")
      assert.are.equal("3", runs())
      err = get_error(provider(with(ENV_KEYS, { AWS_CREDENTIAL_EXPIRATION = "2001-01-01T00:00:00Z" })),
                      "CredentialsExpired")
      assert.matches("env: the credentials it gave expired at 2001%-01%-01T00:00:00Z", err.message)
    end)

    it("keeps good credentials when a refresh fails, and raises once they run out", function()
      local now = os.time()
      local p = provider({ AWS_CONTAINER_CREDENTIALS_FULL_URI = container.url .. "/creds",
                           AWS_CONTAINER_AUTHORIZATION_TOKEN = CONTAINER_TOKEN }, nil,
                         { now = function() return now end, sleep = function() end })
      local first = p:get()
      procs.control(container, { mode = "error500", reset = true })
      now = first.expiration - 200
      assert.are.equal(first, p:get())           -- refresh failed, old ones still good
      assert.are.equal(3, procs.stats(container).count)
      assert.are.equal(first, p:get())           -- no new attempt within 10 s
      assert.are.equal(3, procs.stats(container).count)
      now = now + 11
      assert.are.equal(first, p:get())
      assert.are.equal(6, procs.stats(container).count)
      now = first.expiration - 30                -- inside the mandatory minute
      local err = get_error(p, "ContainerCredentialsError")
      assert.are.equal(500, err.status)
      procs.control(container, { mode = "normal" })
      assert.are_not.equal(first.access_key_id, p:get().access_key_id)
    end)

    it("reloads after invalidate()", function()
      local p = provider(imds_env())
      local first = p:get()
      p:invalidate()
      assert.are_not.equal(first.access_key_id, p:get().access_key_id)
      assert.are.equal("imds", p:source_name())
    end)
  end)

  describe("concurrent refresh", function()
    -- Callers only run concurrently as coroutines that yield inside pcall
    -- (cosockets under OpenResty's LuaJIT); PUC Lua 5.1 cannot yield
    -- across pcall, so there a refresh never interleaves with another.
    if _VERSION == "Lua 5.1" and not rawget(_G, "jit") then
      it("needs yields across pcall (LuaJIT, Lua 5.2+)", function()
        pending("PUC Lua 5.1 cannot yield across pcall")
      end)
      return
    end
    -- A tiny scheduler: every coroutine runs until it yields; the transport
    -- yields before each request and sleep yields, as cosockets and ngx.sleep do.
    local function run_all(fns)
      local threads, results = {}, {}
      for i, fn in ipairs(fns) do threads[i] = coroutine.create(fn) end
      local live = #threads
      local rounds = 0
      while live > 0 do
        rounds = rounds + 1
        assert(rounds < 100000, "scheduler did not finish")
        live = 0
        for i, co in ipairs(threads) do
          if coroutine.status(co) == "suspended" then
            local ok, a = coroutine.resume(co)
            if coroutine.status(co) == "dead" then
              results[i] = { ok = ok, value = a }
            else
              live = live + 1
            end
          end
        end
      end
      return results
    end

    local function yielding_deps(over)
      local real = procs.transport()
      local d = {
        transport = function(req)
          coroutine.yield("io")
          return real(req)
        end,
        sleep = function() coroutine.yield("sleep") end,
      }
      for k, v in pairs(over or {}) do d[k] = v end
      return d
    end

    local function getters(p, n)
      local fns = {}
      for i = 1, n do fns[i] = function() return p:get() end end
      return fns
    end

    it("loads once when many callers start together (IMDS)", function()
      local p = provider(imds_env(), nil, yielding_deps())
      local results = run_all(getters(p, 8))
      for i = 1, 8 do
        assert.is_true(results[i].ok, tostring(results[i].value))
        assert.are.equal(results[1].value.access_key_id, results[i].value.access_key_id)
      end
      assert.are.same({ token = 1, role = 1, creds = 1, other = 0 }, procs.stats(imds).counts)
    end)

    it("refreshes once: others keep the old credentials or wait", function()
      local now = os.time()
      local p = provider(imds_env(), nil, yielding_deps{ now = function() return now end })
      local first = run_all(getters(p, 1))[1].value
      -- advisory window: one refreshes, the others use the still-valid ones
      procs.control(imds, { expires_in = 7200 })
      now = first.expiration - 200
      local results = run_all(getters(p, 6))
      assert.are_not.equal(first.access_key_id, results[1].value.access_key_id)
      for i = 2, 6 do assert.are.equal(first.access_key_id, results[i].value.access_key_id) end
      assert.are.equal(2, procs.stats(imds).counts.creds)
      -- expired: everyone waits for the one refresh
      local second = results[1].value
      procs.control(imds, { expires_in = 20000 })
      now = second.expiration + 5
      results = run_all(getters(p, 6))
      for i = 1, 6 do
        assert.is_true(results[i].ok)
        assert.are.equal(results[1].value.access_key_id, results[i].value.access_key_id)
        assert.are_not.equal(second.access_key_id, results[i].value.access_key_id)
      end
      assert.are.equal(3, procs.stats(imds).counts.creds)
    end)

    it("calls STS once for a role", function()
      local p = provider(nil, { profile = "role" }, yielding_deps(), {
        credentials = "[source]\naws_access_key_id = " .. SOURCE_AKID .. "\naws_secret_access_key = "
          .. SOURCE_SECRET .. "\n",
        config = "[profile role]\nrole_arn = arn:aws:iam::123456789012:role/r\nsource_profile = source\n" })
      local results = run_all(getters(p, 10))
      for i = 1, 10 do
        assert.is_true(results[i].ok, tostring(results[i].value))
        assert.are.equal(results[1].value, results[i].value)
      end
      assert.are.equal(1, procs.stats(sts).counts.AssumeRole)
    end)

    it("hands one failure to every waiter", function()
      procs.control(imds, { mode = "error500" })
      local p = provider(imds_env(), nil, yielding_deps())
      local results = run_all(getters(p, 5))
      for i = 1, 5 do
        assert.is_false(results[i].ok)
        assert.are.equal("CredentialsNotFound", results[i].value.code)
      end
      assert.are.equal(1, procs.stats(imds).counts.token)
    end)

    it("waits on a semaphore made for each refresh (deps.semaphore)", function()
      local made = {}
      local function semaphore()
        local sem = { count = 0, waits = 0, posts = 0 }
        function sem.wait(self)
          self.waits = self.waits + 1
          while self.count == 0 do coroutine.yield("sem") end
          self.count = self.count - 1
          return true
        end
        function sem.post(self, n)
          self.posts = self.posts + 1
          self.count = self.count + (n or 1)
        end
        made[#made + 1] = sem
        return sem
      end
      local p = provider(imds_env(), nil, yielding_deps{ semaphore = semaphore,
        sleep = function() error("sleep must not be used with a semaphore") end })
      local results = run_all(getters(p, 4))
      for i = 1, 4 do assert.is_true(results[i].ok, tostring(results[i].value)) end
      assert.are.equal(1, #made)
      assert.are.equal(3, made[1].waits)
      assert.are.equal(1, made[1].posts)
      assert.are.equal(1, procs.stats(imds).counts.creds)
    end)

    it("runs the load detached when deps.spawn can: a caller that dies does not stall it", function()
      local pending = {}
      local p = provider(imds_env(), nil, yielding_deps{
        spawn = function(fn)
          pending[#pending + 1] = coroutine.create(fn)
          return true
        end })
      -- the first caller starts the load, then is never resumed again (killed)
      local dead = coroutine.create(function() return p:get() end)
      coroutine.resume(dead)
      assert.are.equal(1, #pending)
      local fns = getters(p, 5)
      fns[#fns + 1] = function()
        while coroutine.status(pending[1]) ~= "dead" do coroutine.resume(pending[1]) end
      end
      local results = run_all(fns)
      for i = 1, 5 do
        assert.is_true(results[i].ok, tostring(results[i].value))
        assert.are.equal("imds", results[i].value.source)
      end
      assert.are.equal(1, #pending)
      assert.are.equal(1, procs.stats(imds).counts.creds)
    end)

    it("inside Nginx, never waits on a semaphore in a phase that cannot yield", function()
      -- a model of ngx: ngx.semaphore's wait raises outside the yielding phases
      local phase = "content"
      local fake_ngx = { get_phase = function() return phase end,
                         timer = { at = function() return nil, "too many pending timers" end } }
      local fake_sem = { new = function()
        return { wait = function()
                   if phase ~= "content" then error("API disabled in the context of " .. phase) end
                   coroutine.yield("sem")
                   return true
                 end,
                 post = function() end }
      end }
      local saved_ngx, saved_sem = rawget(_G, "ngx"), package.loaded["ngx.semaphore"]
      _G.ngx, package.loaded["ngx.semaphore"] = fake_ngx, fake_sem
      local ok, err = pcall(function()
        local p = provider(imds_env(), nil, yielding_deps())
        local first = coroutine.create(function() return p:get() end)
        coroutine.resume(first)                -- loading in the content phase, yielded
        assert.is_table(p.flight.sem)
        phase = "log"
        local second = coroutine.create(function() return p:get() end)
        local res
        repeat res = { coroutine.resume(second) } until coroutine.status(second) == "dead"
        assert(res[1], tostring(res[2]))       -- cannot wait here: it loaded by itself
        assert.are.equal("imds", res[2].source)
      end)
      _G.ngx, package.loaded["ngx.semaphore"] = saved_ngx, saved_sem
      assert(ok, err)
    end)

    it("does not wait for a detached refresh while the old credentials are good", function()
      local now = os.time()
      local pending, detach = {}, false
      local p = provider(imds_env(), nil, { now = function() return now end,
        spawn = function(fn)
          if not detach then return false end
          pending[#pending + 1] = fn
          return true
        end })
      local c1 = p:get()                        -- the first load, run by the caller
      detach = true
      now = c1.expiration - 200                 -- inside the advisory window
      assert.are.equal(c1, p:get())             -- starts the refresh, does not wait for it
      assert.are.equal(c1, p:get())             -- nor does the next caller
      assert.are.equal(1, #pending)
      assert.are.equal(1, procs.stats(imds).counts.creds)
      pending[1]()
      local c2 = p:get()
      assert.are_not.equal(c1, c2)
      assert.are.equal(2, procs.stats(imds).counts.creds)
    end)

    it("takes over a refresh whose caller never came back, once for all waiters", function()
      local p = provider(imds_env(), { credentials_wait_limit = 0.05 }, yielding_deps())
      local stuck = coroutine.create(function() return p:get() end)
      coroutine.resume(stuck)                  -- yields inside the transport, never resumed
      assert.is_table(p.flight)
      local results = run_all(getters(p, 6))
      for i = 1, 6 do
        assert.is_true(results[i].ok, tostring(results[i].value))
        assert.are.equal(results[1].value, results[i].value)
      end
      -- one load by the waiter that took over (the stuck one never sent its request)
      assert.are.same({ token = 1, role = 1, creds = 1, other = 0 }, procs.stats(imds).counts)
    end)

    it("gives up when the flight it took over runs over too", function()
      local p = provider(imds_env(), { credentials_wait_limit = 0.05 }, yielding_deps{
        transport = function() while true do coroutine.yield("io") end end })
      local stuck = coroutine.create(function() return p:get() end)
      coroutine.resume(stuck)
      -- two waiters: one takes over (its load never ends either), the other
      -- waits for that flight and then gives up
      local a = coroutine.create(function() return p:get() end)
      local b = coroutine.create(function() return p:get() end)
      local out
      for _ = 1, 1000 do
        coroutine.resume(a)
        out = { coroutine.resume(b) }
        if coroutine.status(b) == "dead" then break end
      end
      assert.are.equal("dead", coroutine.status(b))
      assert.are.equal("suspended", coroutine.status(a))   -- the one running the second load
      assert.is_false(out[1])
      assert.are.equal("CredentialsRefreshTimeout", out[2].code)
      seen_errors[#seen_errors + 1] = out[2]
    end)
  end)

  describe("helpers", function()
    local util = require("fsx.credentials.util")
    local xml = require("fsx.xml")
    it("parse ISO 8601 time stamps", function()
      assert.are.equal(1714564800, util.parse_time("2024-05-01T12:00:00Z"))
      assert.are.equal(1714564800.25, util.parse_time("2024-05-01T12:00:00.250Z"))
      assert.are.equal(1714564800, util.parse_time("2024-05-01T14:00:00+02:00"))
      assert.are.equal(1714564800, util.parse_time("2024-05-01T07:00:00-0500"))
      assert.are.equal(951782400, util.parse_time("2000-02-29T00:00:00Z"))
      assert.are.equal(0, util.parse_time("1970-01-01T00:00:00Z"))
      assert.are.equal("2024-05-01T12:00:00Z", util.format_time(1714564800))
      for _, bad in ipairs({ "2024-05-01", "2024-13-01T00:00:00Z", "soon", "2024-05-01T12:00:00Q" }) do
        assert.is_nil(util.parse_time(bad), bad)
      end
    end)
    it("form-encode STS parameters", function()
      assert.are.equal("Action=AssumeRole&RoleArn=arn%3Aaws%3Aiam%3A%3A1%3Arole%2Fa%20b&Version=2011-06-15",
        util.form{ Version = "2011-06-15", Action = "AssumeRole", RoleArn = "arn:aws:iam::1:role/a b" })
    end)
    it("read XML with namespaces and refuse a DOCTYPE", function()
      local root = assert(xml.parse('<?xml version="1.0"?><a:R xmlns:a="urn:x"><a:B> t </a:B></a:R>'))
      assert.are.equal("R", root.name)
      assert.are.equal("urn:x", root.ns)
      assert.are.equal("t", xml.text(root, "B"))
      assert.is_nil(xml.text(root, "C"))
      local r, err = xml.parse('<!DOCTYPE r [<!ENTITY e "x">]><r>&e;</r>')
      assert.is_nil(r)
      assert.matches("DOCTYPE", err)
      r, err = xml.parse("<r><open></r>")
      assert.is_nil(r)
      assert.matches("malformed XML", err)
    end)
  end)

  it("never put a secret into any error raised by this spec", function()
    assert.is_true(#seen_errors > 30)
    for _, err in ipairs(seen_errors) do assert_no_secret(err) end
  end)
end)
