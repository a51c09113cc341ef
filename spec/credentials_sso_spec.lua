-- IAM Identity Center (SSO) profiles against a real loopback portal
-- (spec/support/sso_server.py): the token is read from the AWS CLI's cache
-- file, named here with the `sha1sum` command (not our own SHA-1), and
-- exchanged for role credentials; expired, missing and refused tokens,
-- broken settings and a failing portal give credentials errors that name the
-- login command and never the token; a client signs a create_backup with
-- the credentials, checked by the local FSx server with botocore.
local config = require("fsx.config")
local credentials = require("fsx.credentials")
local errors = require("fsx.error")
local fsx = require("fsx")
local helpers = require("helpers")
local procs = require("support.procs")

local TOKEN = "sso-access-token-0123456789-SECRETPART"
local CLIENT_ID, CLIENT_SECRET = "sso-client-id-1", "sso-client-secret-SECRETPART"
local REFRESH = "sso-refresh-token-0-SECRETPART"
local ACCOUNT, ROLE = "111122223333", "BackupOperator"
local START_URL = "https://corp.awsapps.com/start"

local dir, sso

local function sha1_name(s)
  local path = procs.write(dir .. "/sha1-input", s)
  local out = helpers.run("sha1sum " .. path)
  return assert(out:match("^(%x+)"), out)
end

local function iso(t) return os.date("!%Y-%m-%dT%H:%M:%SZ", math.floor(t)) end

local function cache_path(key)
  return dir .. "/.aws/sso/cache/" .. sha1_name(key) .. ".json"
end

-- Write the token cache file the AWS CLI would write for `key` (with what a
-- refresh needs when `refreshable`).
local function cache_token(key, token, expires_at, refreshable)
  os.execute("mkdir -p " .. dir .. "/.aws/sso/cache")
  local extra = ""
  if refreshable then
    extra = string.format(', "clientId": "%s", "clientSecret": "%s", "refreshToken": "%s", '
      .. '"registrationExpiresAt": "%s"', CLIENT_ID, CLIENT_SECRET, REFRESH,
      os.date("!%Y-%m-%dT%H:%M:%SZ", os.time() + 86400 * 30))
  end
  return procs.write(cache_path(key),
    string.format('{"startUrl": "%s", "region": "us-east-1", "accessToken": "%s", "expiresAt": "%s"%s}',
                  START_URL, token, expires_at, extra))
end

local counter = 0
local function provider(config_text, env, opts)
  counter = counter + 1
  local e = { HOME = dir, AWS_EC2_METADATA_DISABLED = "true", AWS_REGION = "us-east-1",
              AWS_CONFIG_FILE = procs.write(dir .. "/config" .. counter, config_text),
              AWS_SHARED_CREDENTIALS_FILE = dir .. "/no-credentials",
              AWS_ENDPOINT_URL_SSO = sso.url, AWS_ENDPOINT_URL_SSO_OIDC = sso.url }
  for k, v in pairs(env or {}) do
    if v == false then e[k] = nil else e[k] = v end
  end
  local o = { getenv = procs.env(e), profile = "dev", sts_timeout = 5 }
  for k, v in pairs(opts or {}) do o[k] = v end
  return credentials.new(o, config.resolve(o), procs.deps())
end

local function get_error(p, code)
  local ok, err = pcall(p.get, p)
  assert.is_false(ok, "expected an error")
  assert.is_true(errors.is_error(err), tostring(err))
  assert.are.equal("credentials", err.kind, tostring(err))
  if code then assert.are.equal(code, err.code, tostring(err)) end
  assert.is_nil(tostring(err):find("SECRETPART", 1, true), "the token leaked: " .. tostring(err))
  assert.is_nil(tostring(err.message):find("SECRETPART", 1, true))
  return err
end

local SESSION_CONFIG = table.concat({
  "[profile dev]",
  "sso_session = corp",
  "sso_account_id = " .. ACCOUNT,
  "sso_role_name = " .. ROLE,
  "region = us-east-1",
  "[sso-session corp]",
  "sso_region = us-east-1",
  "sso_start_url = " .. START_URL,
  "sso_registration_scopes = sso:account:access",
  "" }, "\n")

local LEGACY_CONFIG = table.concat({
  "[profile dev]",
  "sso_start_url = " .. START_URL,
  "sso_region = us-east-1",
  "sso_account_id = " .. ACCOUNT,
  "sso_role_name = " .. ROLE,
  "" }, "\n")

describe("fsx.credentials: IAM Identity Center (SSO) profiles", function()
  lazy_setup(function()
    dir = procs.tmpdir()
    sso = procs.start("sso_server.py", string.format(
      "--token %s --account %s --role %s --client-id %s --client-secret %s --refresh-token %s",
      TOKEN, ACCOUNT, ROLE, CLIENT_ID, CLIENT_SECRET, REFRESH))
  end)

  lazy_teardown(function()
    procs.stop(sso)
    procs.rmdir(dir)
  end)

  before_each(function()
    os.execute("rm -rf " .. dir .. "/.aws")
    procs.control(sso, { mode = "normal", token = TOKEN, expires_in = 3600, reset = true,
                         fixed = require("cjson").null, refresh_token = REFRESH })
  end)

  it("exchanges the cached token of an sso-session for role credentials", function()
    cache_token("corp", TOKEN, iso(os.time() + 3600))
    local c = provider(SESSION_CONFIG):get()
    assert.are.equal("sso", c.source)
    assert.matches("^ASIASSO%d+$", c.access_key_id)
    assert.matches("^sso%-session%-token%-", c.session_token)
    assert.is_true(math.abs(c.expiration - (os.time() + 3600)) < 60, tostring(c.expiration))
    local st = procs.stats(sso)
    assert.are.equal(1, st.count)
    assert.is_true(st.last_token_ok)
    assert.are.same({ account_id = ACCOUNT, role_name = ROLE }, st.last_query)
  end)

  it("reads the older form: sso_start_url and sso_region in the profile", function()
    cache_token(START_URL, TOKEN, iso(os.time() + 600))
    local c = provider(LEGACY_CONFIG):get()
    assert.are.equal("sso", c.source)
    -- the AWS CLI's older expiresAt format
    cache_token(START_URL, TOKEN, os.date("!%Y-%m-%dT%H:%M:%SUTC", os.time() + 600))
    assert.are.equal("sso", provider(LEGACY_CONFIG):get().source)
  end)

  it("comes before static keys of the same profile, as in botocore", function()
    cache_token("corp", TOKEN, iso(os.time() + 3600))
    local c = provider(SESSION_CONFIG .. "", {
      AWS_SHARED_CREDENTIALS_FILE = procs.write(dir .. "/creds-static",
        "[dev]\naws_access_key_id = AKIDSTATIC\naws_secret_access_key = static-secret-key-1\n") }):get()
    assert.are.equal("sso", c.source)
  end)

  it("says to sign in when the cached token is missing or expired", function()
    local err = get_error(provider(SESSION_CONFIG), "SSOTokenNotFound")
    assert.matches("aws sso login %-%-profile dev", err.message)
    cache_token("corp", TOKEN, iso(os.time() - 60))
    err = get_error(provider(SESSION_CONFIG), "SSOTokenExpired")
    assert.matches("expired at", err.message)
    assert.matches("aws sso login %-%-profile dev", err.message)
    cache_token("corp", TOKEN, "not a time")
    get_error(provider(SESSION_CONFIG), "SSOTokenNotFound")
    procs.write(dir .. "/.aws/sso/cache/" .. sha1_name("corp") .. ".json", "{ broken")
    get_error(provider(SESSION_CONFIG), "SSOTokenNotFound")
    assert.are.equal(0, procs.stats(sso).count)
  end)

  describe("refresh (sso-session tokens)", function()
    local cjson = require("cjson")

    it("refreshes a token due within 15 minutes and writes it back, owner-only", function()
      cache_token("corp", TOKEN, iso(os.time() + 300), true)
      local c = provider(SESSION_CONFIG):get()
      assert.are.equal("sso", c.source)
      local st = procs.stats(sso)
      assert.are.equal(1, st.refreshes)
      assert.is_true(st.last_token_ok) -- the portal took the new token (the old one is refused now)
      local cached = cjson.decode(helpers.read_file(cache_path("corp")))
      assert.are.equal(st.token, cached.accessToken)
      assert.are.equal(st.refresh_token, cached.refreshToken)
      assert.are.equal(CLIENT_ID, cached.clientId)
      assert.are.equal(START_URL, cached.startUrl)
      -- expiresIn 3600 from now, written as the AWS CLI writes it
      assert.matches("^%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d:%d%dZ$", cached.expiresAt)
      local expires = require("fsx.credentials.util").parse_time(cached.expiresAt)
      assert.is_true(math.abs(expires - os.time() - 3600) < 120, cached.expiresAt)
      assert.are.equal("600", helpers.run("stat -c %a " .. cache_path("corp")):match("%d+"))
      -- the next process uses the refreshed token as it is
      assert.are.equal("sso", provider(SESSION_CONFIG):get().source)
      assert.are.equal(1, procs.stats(sso).refreshes)
    end)

    it("refreshes an expired token", function()
      cache_token("corp", TOKEN, iso(os.time() - 600), true)
      assert.are.equal("sso", provider(SESSION_CONFIG):get().source)
      assert.are.equal(1, procs.stats(sso).refreshes)
    end)

    it("keeps a still valid token when the refresh fails", function()
      cache_token("corp", TOKEN, iso(os.time() + 600), true)
      procs.control(sso, { mode = "refresh_fail" })
      assert.are.equal("sso", provider(SESSION_CONFIG):get().source)
      local st = procs.stats(sso)
      assert.are.equal(0, st.refreshes)
      assert.is_true(st.last_token_ok)
      assert.are.equal(TOKEN, cjson.decode(helpers.read_file(cache_path("corp"))).accessToken)
    end)

    it("says why when an expired token cannot be refreshed", function()
      cache_token("corp", TOKEN, iso(os.time() - 60), true)
      procs.control(sso, { refresh_token = "not-the-cached-one" })
      local err = get_error(provider(SESSION_CONFIG), "SSOTokenExpired")
      assert.matches("refreshing it failed %(.*HTTP 400: invalid_grant%)", err.message)
      assert.matches("aws sso login %-%-profile dev", err.message)
      assert.are.equal(0, procs.stats(sso).count)
    end)

    it("does not refresh the older form, or a token far from expiry", function()
      cache_token(START_URL, TOKEN, iso(os.time() - 60), true)
      get_error(provider(LEGACY_CONFIG), "SSOTokenExpired")
      cache_token("corp", TOKEN, iso(os.time() + 3600), true)
      assert.are.equal("sso", provider(SESSION_CONFIG):get().source)
      assert.are.equal(0, procs.stats(sso).refreshes)
    end)
  end)

  it("reports a token the portal refuses, without the token", function()
    cache_token("corp", TOKEN, iso(os.time() + 3600))
    procs.control(sso, { token = "another-token" })
    local err = get_error(provider(SESSION_CONFIG), "SSOTokenRefused")
    assert.are.equal(401, err.status)
    assert.matches("UnauthorizedException", err.message)
    assert.matches("aws sso login", err.message)
    assert.is_false(procs.stats(sso).last_token_ok)
  end)

  it("reports an account or role the token may not use", function()
    cache_token("corp", TOKEN, iso(os.time() + 3600))
    local err = get_error(provider((SESSION_CONFIG:gsub(ROLE, "OtherRole"))), "SSOTokenRefused")
    assert.are.equal(403, err.status)
    assert.matches("ForbiddenException", err.message)
  end)

  it("retries a portal error and gives up after three attempts", function()
    cache_token("corp", TOKEN, iso(os.time() + 3600))
    procs.control(sso, { mode = "error500once" })
    assert.are.equal("sso", provider(SESSION_CONFIG):get().source)
    assert.are.equal(2, procs.stats(sso).count)
    procs.control(sso, { mode = "error500", reset = true })
    local err = get_error(provider(SESSION_CONFIG), "SSOError")
    assert.are.equal(500, err.status)
    assert.are.equal(3, procs.stats(sso).count)
    procs.control(sso, { mode = "garbage", reset = true })
    err = get_error(provider(SESSION_CONFIG), "SSOError")
    assert.matches("not a JSON object", err.message)
  end)

  it("refuses broken settings before reading any token", function()
    local err = get_error(provider("[profile dev]\nsso_session = corp\n"), "InvalidConfig")
    assert.matches("no %[sso%-session corp%] section", err.message)
    err = get_error(provider((SESSION_CONFIG:gsub("sso_account_id = %d+\n", ""))), "InvalidConfig")
    assert.matches("sso_account_id is missing", err.message)
    err = get_error(provider((SESSION_CONFIG:gsub("sso_region = us%-east%-1\n", ""))), "InvalidConfig")
    assert.matches("sso_region is missing", err.message)
    err = get_error(provider((SESSION_CONFIG:gsub("%[sso%-session corp%]",
                                                  "sso_region = eu-west-1\n[sso-session corp]"))),
                    "InvalidConfig")
    assert.matches("sso_region differs", err.message)
    err = get_error(provider((LEGACY_CONFIG:gsub("us%-east%-1", "not a region"))), "InvalidConfig")
    assert.matches("not a valid region", err.message)
    assert.are.equal(0, procs.stats(sso).count)
  end)

  it("uses the partition's portal host without an endpoint override", function()
    local sso_mod = require("fsx.credentials.sso")
    local ctx = { getenv = procs.env{}, shared = { services = {} }, settings = {} }
    assert.are.equal("https://portal.sso.eu-west-1.amazonaws.com",
                     sso_mod.portal(ctx, { region = "eu-west-1" }))
    assert.are.equal("https://portal.sso.cn-north-1.amazonaws.com.cn",
                     sso_mod.portal(ctx, { region = "cn-north-1" }))
  end)

  it("signs a create_backup that the local FSx server accepts", function()
    local server = helpers.start_fsx_server()
    local ok, err = pcall(function()
      local keys = { accessKeyId = "ASIASSOFIXED0001", secretAccessKey = "sso-fixed-secret-key-0001",
                     sessionToken = "sso-fixed-session-token-0001" }
      procs.control(sso, { fixed = keys })
      server:seed{ credentials = { { access_key_id = keys.accessKeyId,
                                     secret_access_key = keys.secretAccessKey,
                                     session_token = keys.sessionToken } } }
      cache_token("corp", TOKEN, iso(os.time() + 3600))
      local env = { HOME = dir, AWS_EC2_METADATA_DISABLED = "true",
                    AWS_CONFIG_FILE = procs.write(dir .. "/config-e2e", SESSION_CONFIG),
                    AWS_SHARED_CREDENTIALS_FILE = dir .. "/no-credentials",
                    AWS_ENDPOINT_URL_SSO = sso.url }
      local client = fsx.new{ profile = "dev", endpoint_url = server.url, getenv = procs.env(env) }
      local backup = client:create_backup{ file_system_id = "fs-0123456789abcdef0" }
      assert.matches("^backup%-", backup.backup_id)
      assert.are.equal(1, #server:requests("CreateBackup"))
    end)
    server:stop()
    assert(ok, err)
  end)
end)
