-- Secrets stay secret: the secret access key and the session token
-- never appear in tostring(err), in any field of an error (walked
-- recursively), in what the client's `debug` hook is given, in
-- client:prepare's output, or in anything the fsx-backup command prints with
-- --debug or --dry-run (run as a process against the local FSx server). And
-- TLS verification can only be turned off by the explicit `insecure = true`
-- option, which then warns on stderr (checked in a child process).
local fsx = require "fsx"
local helpers = require "helpers"
local procs = require "support.procs"

local LUA = helpers.LUA
local BUILD = helpers.BUILD
local FS = "fs-0123456789abcdef0"
local SESSION = helpers.session_credentials()
local LONG = helpers.credentials()
-- a wrong secret is a secret too
local WRONG_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzzWRONGzzKEY"

local q = helpers.q

-- The strings that must never show: the secrets and long pieces of them.
local SECRETS = {}
local function add_secret(s)
  SECRETS[#SECRETS + 1] = s
  if #s >= 24 then
    SECRETS[#SECRETS + 1] = s:sub(5, 20)
    SECRETS[#SECRETS + 1] = s:sub(#s - 15)
  end
end
add_secret(SESSION.secret_access_key)
add_secret(SESSION.session_token)
add_secret(LONG.secret_access_key)
add_secret(WRONG_SECRET)

local function leaks(text)
  for _, s in ipairs(SECRETS) do
    if string.find(text, s, 1, true) then return s end
  end
  return nil
end

local function assert_clean(text, where)
  local s = leaks(text)
  assert(s == nil, where .. " shows a secret (" .. tostring(s and s:sub(1, 6)) .. "...)")
end

-- Every string reachable from v (keys and values, cycles cut), as one text.
local function serialize(v, seen, out)
  out = out or {}
  seen = seen or {}
  local t = type(v)
  if t == "table" then
    if seen[v] then return out end
    seen[v] = true
    for k, x in pairs(v) do
      serialize(k, seen, out)
      serialize(x, seen, out)
    end
  elseif t ~= "function" and t ~= "thread" and t ~= "userdata" then
    out[#out + 1] = tostring(v)
  end
  return out
end

local function text_of(v)
  return table.concat(serialize(v), "\n")
end

-- Checks an error: tostring and every field.
local function assert_error_clean(err, where)
  assert.is_true(fsx.is_error(err), where .. ": not an fsx error: " .. tostring(err))
  assert_clean(tostring(err), where .. ": tostring(err)")
  assert_clean(text_of(err), where .. ": an error field")
  if type(err.last_error) == "table" then assert_clean(tostring(err.last_error), where) end
end

local function err_of(f, ...)
  local ok, err = pcall(f, ...)
  assert.is_false(ok, "expected an error")
  return err
end

describe("secrets", function()
  local server

  lazy_setup(function()
    server = helpers.start_fsx_server()
  end)

  lazy_teardown(function()
    if server then server:stop() end
  end)

  before_each(function()
    server:reset()
    server:faults({})
  end)

  local function new_client(extra)
    local o = { region = "us-east-1", endpoint_url = server.url, credentials = SESSION,
                max_attempts = 1 }
    for k, v in pairs(extra or {}) do o[k] = v end
    return fsx.new(o)
  end

  it("(the scan finds a secret, or a piece of one, when there is one)", function()
    assert.is_true(#SECRETS >= 8)
    for _, s in ipairs{ SESSION.secret_access_key, SESSION.session_token } do
      assert.truthy(leaks("x" .. s:sub(3, #s - 3) .. "y"))
      assert.is_false(pcall(assert_clean, "before " .. s .. " after", "x"))
    end
  end)

  describe("in errors", function()
    it("a service error", function()
      local c = new_client()
      assert_error_clean(err_of(c.describe_backups, c, { backup_ids = { "backup-00000000000000000" } }),
                         "BackupNotFound")
    end)

    it("a validation error", function()
      local c = new_client()
      assert_error_clean(err_of(c.create_backup, c, { file_system_id = "fs-x" }), "validation")
    end)

    it("a signature the server refuses (wrong secret, real token)", function()
      local c = new_client{ credentials = { access_key_id = SESSION.access_key_id,
        secret_access_key = WRONG_SECRET, session_token = SESSION.session_token } }
      local err = err_of(c.describe_backups, c, {})
      assert.equal("service", err.kind)
      assert_error_clean(err, "bad signature")
    end)

    it("a token the server does not know", function()
      local c = new_client{ credentials = { access_key_id = LONG.access_key_id,
        secret_access_key = LONG.secret_access_key, session_token = SESSION.session_token } }
      assert_error_clean(err_of(c.describe_backups, c, {}), "unknown token")
    end)

    it("transport failures and timeouts, with retries and a deadline", function()
      local c = new_client{ endpoint_url = "http://127.0.0.1:1", max_attempts = 2, retry_base = 0.01 }
      assert_error_clean(err_of(c.describe_backups, c, {}), "connection refused")
      server:faults({ { kind = "delay_after", rate = 1, seconds = 1 } })
      c = new_client{ timeout = 0.3, max_attempts = 3, retry_base = 0.01, deadline = 0.5 }
      local err = err_of(c.describe_backups, c, {})
      assert.equal("timeout", err.kind)
      assert_error_clean(err, "deadline")
    end)

    it("a waiter error carrying the backup and the last poll error", function()
      server:config{ backup_seconds = 30 }
      local c = new_client()
      local err = err_of(c.create_backup, c, { file_system_id = FS, wait = { timeout = 0 } })
      assert.equal("WaiterTimeout", err.code)
      assert_error_clean(err, "WaiterTimeout")
    end)

    it("credential errors: a failing provider, partial keys in the environment", function()
      local c = new_client{ credentials = function()
        error("refresh failed for " .. SESSION.secret_access_key .. " / " .. SESSION.session_token)
      end }
      local err = err_of(c.describe_backups, c, {})
      assert.equal("credentials", err.kind)
      assert_error_clean(err, "credentials function")
      c = fsx.new{ region = "us-east-1", endpoint_url = server.url,
                   config_file = "/nonexistent/config", credentials_file = "/nonexistent/credentials",
                   getenv = procs.env{ AWS_SECRET_ACCESS_KEY = SESSION.secret_access_key,
                                       AWS_SESSION_TOKEN = SESSION.session_token,
                                       AWS_EC2_METADATA_DISABLED = "true" } }
      err = err_of(c.describe_backups, c, {})
      assert.equal("credentials", err.kind)
      assert_error_clean(err, "environment without a key id")
    end)

    it("signer errors about the other fields of a request holding secrets", function()
      local base = { method = "POST", path = "/", headers = { { "Host", "h" } }, region = "us-east-1",
                     service = "fsx", access_key_id = SESSION.access_key_id,
                     secret_access_key = SESSION.secret_access_key,
                     session_token = SESSION.session_token, time = "20150830T123600Z" }
      local spoil = {
        { "session_token", SESSION.session_token .. "\r\nX-Injected: 1" },
        { "session_token", SESSION.session_token .. "\0" },
        { "secret_access_key", SESSION.secret_access_key .. "\0" },
        { "region", "us east 1" },
        { "headers", { { "Host", SESSION.session_token .. "\n" } } },
      }
      for _, s in ipairs(spoil) do
        local req = {}
        for k, v in pairs(base) do req[k] = v end
        req[s[1]] = s[2]
        assert_error_clean(err_of(fsx.sigv4.sign, req), "sigv4.sign " .. s[1])
      end
    end)
  end)

  describe("for as long as the client lives, however many clients exist", function()
    local hostile
    lazy_setup(function() hostile = procs.start("hostile_server.py") end)
    lazy_teardown(function() procs.stop(hostile) end)

    -- n clients with credentials of their own, each making one call to url
    local function others(n, url)
      local last
      for i = 1, n do
        local c = fsx.new{ region = "us-east-1", endpoint_url = url, max_attempts = 1,
          credentials = { access_key_id = "AKIAOTHER" .. i,
                          secret_access_key = ("other-secret-%06d-"):format(i) .. ("s"):rep(20),
                          session_token = ("other-token-%06d-"):format(i) .. ("t"):rep(40) } }
        last = err_of(c.describe_backups, c, {})
        c:close()   -- its connection: 200 clients a test must fit in 1024 descriptors
      end
      return last
    end

    it("a service error echoing the canonical request, after 200 other clients called", function()
      local c = new_client{ credentials = { access_key_id = SESSION.access_key_id,
        secret_access_key = WRONG_SECRET, session_token = SESSION.session_token } }
      assert_error_clean(err_of(c.describe_backups, c, {}), "first call")
      others(200, server.url)
      local err = err_of(c.describe_backups, c, {})
      assert.equal("InvalidSignatureException", err.code)
      assert.truthy(err.message:find("Canonical String", 1, true))
      assert_error_clean(err, "after 200 clients")
    end)

    it("a service error carrying the token in an extra field (Parameter)", function()
      local c = new_client{ endpoint_url = hostile.url .. "/echo-token/param" }
      local err = err_of(c.describe_backups, c, {})
      assert.equal("IncompatibleParameterError", err.code)
      assert.equal("<redacted>", err.parameter)
      assert_error_clean(err, "extra field")
    end)

    it("a service error quoting the token bare, after 200 other clients called", function()
      local c = new_client{ endpoint_url = hostile.url .. "/echo-token" }
      assert_error_clean(err_of(c.describe_backups, c, {}), "first call")
      local last = others(200, hostile.url .. "/echo-token")
      assert.equal("UnrecognizedClientException", last.code)
      assert.is_nil(last.message:find("other-token-000200", 1, true))
      local err = err_of(c.describe_backups, c, {})
      assert.equal("UnrecognizedClientException", err.code)
      assert.truthy(err.message:find("<redacted>", 1, true))
      assert_error_clean(err, "after 200 clients")
    end)
  end)

  describe("in debug output", function()
    it("never reaches the debug hook: requests, responses, failures, retries", function()
      local seen = {}
      local function hook(event, data)
        seen[#seen + 1] = event .. "\n" .. text_of(data)
      end
      server:faults({ { kind = "error500", nth = 1 } })
      local c = new_client{ debug = hook, max_attempts = 3, retry_base = 0.01 }
      c:describe_backups{}
      c:create_backup{ file_system_id = FS, tags = { Name = "secret-scan" } }
      pcall(c.describe_backups, c, { backup_ids = { "backup-00000000000000000" } })
      server:faults({ { kind = "delay_after", rate = 1, seconds = 1 } })
      c = new_client{ debug = hook, timeout = 0.3, max_attempts = 2, retry_base = 0.01 }
      pcall(c.describe_backups, c, {})
      local events = {}
      for _, s in ipairs(seen) do events[s:match("^[^\n]+")] = true end
      for _, e in ipairs{ "request", "response", "retry", "failure" } do
        assert.is_true(events[e] == true, "no " .. e .. " event")
      end
      local all = table.concat(seen, "\n")
      assert_clean(all, "debug data")
      -- the signature is not shown either
      assert.is_nil(all:match("Signature=%x%x%x%x%x%x%x%x"))
    end)

    it("is redacted before the hook: echoed canonical requests, echoed tokens in bodies and headers", function()
      local seen = {}
      local function hook(event, data)
        seen[#seen + 1] = event .. "\n" .. text_of(data)
      end
      local c = new_client{ debug = hook, credentials = { access_key_id = SESSION.access_key_id,
        secret_access_key = WRONG_SECRET, session_token = SESSION.session_token } }
      pcall(c.describe_backups, c, {})
      local hostile = procs.start("hostile_server.py")
      c = new_client{ debug = hook, endpoint_url = hostile.url .. "/echo-token" }
      pcall(c.describe_backups, c, {})
      procs.stop(hostile)
      local all = table.concat(seen, "\n")
      assert.truthy(all:find("Canonical String", 1, true))
      assert.truthy(all:find("x-echo", 1, true))
      assert_clean(all, "debug data")
    end)

    it("the redaction is one function, shared with fsx-backup --debug", function()
      assert.equal(require("fsx.error").redact_headers, require("fsx.cli.context").scrub_headers)
      local out = fsx.error.redact_headers{
        { "Authorization", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/fsx/aws4_request, "
          .. "SignedHeaders=host;x-amz-date, Signature=" .. ("ab"):rep(32) },
        { "X-Amz-Security-Token", "anything-at-all" }, { "Authorization", "Bearer container-token" },
        { "x-aws-ec2-metadata-token", "imds-token-value" }, { "X-Other", "plain" } }
      assert.equal("<redacted>", out[2][2])
      assert.equal("<redacted>", out[3][2])
      assert.equal("<redacted>", out[4][2])
      assert.equal("plain", out[5][2])
      assert.truthy(out[1][2]:find("Signature=<redacted>", 1, true))
      local map = fsx.error.redact_headers{ ["x-amz-security-token"] = "t0ken-value", other = "v" }
      assert.same({ ["x-amz-security-token"] = "<redacted>", other = "v" }, map)
    end)

    it("never reaches client:prepare's output", function()
      local c = new_client()
      for _, call in ipairs{ { "CreateBackup", { file_system_id = FS, tags = { Name = "n" } } },
                             { "DescribeBackups", {} }, { "delete_backup", { backup_id =
                               "backup-0123456789abcdef0" } } } do
        local out = c:prepare(call[1], call[2])
        local text = text_of(out)
        assert_clean(text, "prepare " .. call[1])
        assert.is_nil(text:match("Signature=%x%x%x%x%x%x%x%x"))
        assert.truthy(text:find("X-Amz-Security-Token", 1, true))
      end
    end)
  end)

  describe("in the CLI's output", function()
    local function run(args, env_extra)
      local vars = {
        AWS_ACCESS_KEY_ID = SESSION.access_key_id, AWS_SECRET_ACCESS_KEY = SESSION.secret_access_key,
        AWS_SESSION_TOKEN = SESSION.session_token, AWS_REGION = "us-east-1",
        AWS_CONFIG_FILE = "/nonexistent/config", AWS_SHARED_CREDENTIALS_FILE = "/nonexistent/c",
        AWS_EC2_METADATA_DISABLED = "true",
      }
      for k, v in pairs(env_extra or {}) do vars[k] = v end
      local parts = { "env", "-u AWS_PROFILE", "-u AWS_ENDPOINT_URL", "-u AWS_ENDPOINT_URL_FSX",
                      "-u AWS_DEFAULT_REGION" }
      for k, v in pairs(vars) do parts[#parts + 1] = k .. "=" .. q(v) end
      parts[#parts + 1] = LUA
      parts[#parts + 1] = "bin/fsx-backup"
      for _, a in ipairs(args) do parts[#parts + 1] = q(a) end
      local dir = helpers.tmpdir()
      local _, rc = helpers.run(table.concat(parts, " ") .. " >" .. q(dir .. "/out") .. " 2>"
                                .. q(dir .. "/err") .. " </dev/null")
      local out, err = helpers.read_file(dir .. "/out") or "", helpers.read_file(dir .. "/err") or ""
      helpers.rmdir(dir)
      return out, err, rc
    end

    local runs = {
      { "describe", "--debug" },
      { "describe", "backup-00000000000000000", "--debug" },
      { "create", "--file-system-id", FS, "--tag", "Name=cli", "--debug" },
      { "create", "--file-system-id", FS, "--tag", "Name=cli", "--dry-run" },
      { "create", "--file-system-id", FS, "--dry-run", "--debug", "--output", "text" },
      { "create", "--file-system-id", FS, "--dry-run", "--output", "table" },
      { "delete", "backup-0123456789abcdef0", "--dry-run", "--debug" },
      { "prune", "--file-system-id", FS, "--keep-last", "1", "--dry-run", "--debug" },
      { "wait", "backup-00000000000000000", "--timeout", "1", "--debug" },
    }
    for _, args in ipairs(runs) do
      it(table.concat(args, " "), function()
        local full = {}
        for i, a in ipairs(args) do full[i] = a end
        full[#full + 1] = "--endpoint-url"
        full[#full + 1] = server.url
        local out, err = run(full)
        assert.is_true(#out + #err > 0, "no output at all")
        assert_clean(out, "stdout")
        assert_clean(err, "stderr")
        assert.is_nil(out:match("Signature=%x%x%x%x%x%x%x%x"), "stdout shows a signature")
        assert.is_nil(err:match("Signature=%x%x%x%x%x%x%x%x"), "stderr shows a signature")
      end)
    end

    it("a transport failure with --debug", function()
      local out, err, rc = run({ "describe", "--debug", "--max-attempts", "1",
                                 "--endpoint-url", "http://127.0.0.1:1" })
      assert.are_not.equal(0, rc)
      assert_clean(out, "stdout")
      assert_clean(err, "stderr")
    end)

    it("has no option to turn TLS verification off", function()
      local _, err, rc = run({ "describe", "--insecure", "--endpoint-url", server.url })
      assert.are_not.equal(0, rc)
      assert.truthy(err:find("insecure", 1, true))
    end)
  end)

  describe("TLS verification", function()
    local dir, tls

    lazy_setup(function()
      dir = helpers.tmpdir()
      local cmd = "openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1"
        .. " -addext subjectAltName=IP:127.0.0.1 -keyout " .. q(dir .. "/key.pem")
        .. " -out " .. q(dir .. "/cert.pem") .. " 2>&1"
      local out, rc = helpers.run(cmd)
      assert(rc == 0, "openssl failed: " .. out)
      tls = procs.start("hostile_server.py", "--tls " .. q(dir .. "/cert.pem") .. " "
                        .. q(dir .. "/key.pem"))
      tls.https = "https://127.0.0.1:" .. tls.port
    end)

    lazy_teardown(function()
      procs.stop(tls)
      helpers.rmdir(dir)
    end)

    local function tls_client(extra)
      local o = { region = "us-east-1", endpoint_url = tls.https .. "/json/100", credentials = LONG,
                  max_attempts = 1, timeout = 5 }
      for k, v in pairs(extra or {}) do o[k] = v end
      return fsx.new(o)
    end

    it("refuses a certificate it cannot verify by default", function()
      local c = tls_client()
      local err = err_of(c.describe_backups, c, {})
      assert.equal("transport", err.kind)
      assert.truthy(err.code:find("PEER") or err.code:find("SSL") or err.code:find("CERT"), err.code)
    end)

    it("verifies against ca_file", function()
      local out = tls_client{ ca_file = dir .. "/cert.pem" }:describe_backups{}
      assert.equal("table", type(out))
    end)

    it("no environment variable or profile setting turns it off", function()
      local env = { AWS_INSECURE = "true", FSX_INSECURE = "1", AWS_VERIFY_SSL = "false",
                    SSL_VERIFY = "false", CURL_INSECURE = "1", PYTHONHTTPSVERIFY = "0",
                    AWS_EC2_METADATA_DISABLED = "true" }
      local asked = {}
      local cfg = dir .. "/config"
      helpers.write_file(cfg, "[default]\ninsecure = true\nverify_ssl = false\nverify = false\n"
                              .. "no_verify_ssl = true\n")
      local c = tls_client{ config_file = cfg, credentials_file = cfg,
                            getenv = function(name) asked[#asked + 1] = name; return env[name] end }
      local err = err_of(c.describe_backups, c, {})
      assert.equal("transport", err.kind)
      for _, name in ipairs(asked) do
        assert.is_nil(name:lower():find("insecure") or name:lower():find("verify"), name)
      end
    end)

    it("only the boolean option insecure = true turns it off", function()
      for _, v in ipairs{ "true", 1, "yes", {} } do
        local ok, err = pcall(tls_client, { insecure = v })
        assert.is_false(ok)
        assert.equal("validation", err.kind)
      end
      local sent
      local c = fsx.new{ region = "us-east-1", endpoint_url = tls.https, credentials = LONG,
                         transport = function(req)
                           sent = req
                           return { status = 200, headers = {}, body = '{"Backups":[]}' }
                         end }
      c:describe_backups{}
      assert.is_false(sent.insecure)
      -- (the warning is caught here; the child process test below reads the real stderr)
      local real, warned = io.stderr, {}
      io.stderr = { write = function(_, ...) warned[#warned + 1] = table.concat({ ... }) end }
      local ok, res = pcall(function() return tls_client{ insecure = true }:describe_backups{} end)
      io.stderr = real
      assert.is_true(ok, tostring(res))
      assert.equal("table", type(res))
      assert.matches("verification is disabled", table.concat(warned))
    end)

    -- the client made in a child process: what it writes to stderr
    local function child_stderr(insecure)
      local code = "package.path = 'lua/?.lua;lua/?/init.lua;' .. package.path; "
        .. "package.cpath = '" .. BUILD .. "/?.so;' .. package.cpath; "
        .. "local c = require('fsx').new{ region = 'us-east-1', endpoint_url = '" .. tls.https
        .. "/json/100', credentials = { access_key_id = 'AKID', secret_access_key = 'S' }, "
        .. "max_attempts = 1" .. (insecure ~= nil and (", insecure = " .. tostring(insecure)) or "")
        .. " }; io.stdout:write(type(c:describe_backups{}))"
      local d = helpers.tmpdir()
      local out, rc = helpers.run(LUA .. " -e " .. q(code) .. " 2>" .. q(d .. "/err"))
      local err = helpers.read_file(d .. "/err") or ""
      helpers.rmdir(d)
      return out, err, rc
    end

    it("says so on stderr when insecure = true, and only then", function()
      local out, err, rc = child_stderr(true)
      assert.equal(0, rc, err)
      assert.equal("table", out)
      assert.matches("TLS certificate verification is disabled", err)
      for _, v in ipairs{ false, "omitted" } do
        local _, quiet = child_stderr(v ~= "omitted" and v or nil)
        assert.is_nil(quiet:match("verification is disabled"), tostring(v))
      end
    end)
  end)
end)
