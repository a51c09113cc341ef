-- Recovering like the best SDKs do.
--
-- Clock skew, against the local FSx server with its clock moved
-- (`clock_skew`): the service refuses the signature as expired or not yet
-- current and its Date header is an hour off, so the client records the
-- offset, retries at once with the corrected time (same idempotency token,
-- same invocation id) and signs later calls with it; a skew error whose Date
-- is within 5 minutes of the local clock changes nothing.
--
-- Expired session credentials, against spec/support/hostile_server.py's
-- /expired-first (ExpiredTokenException for a token starting "expired") and
-- a credential_process that hands out an expired set first and a fresh one
-- after: the client drops its cached credentials, asks the process again and
-- retries once with the same token; a provider that keeps handing out the
-- expired set gets exactly one retry.
local cjson = require "cjson"
local fsx = require "fsx"
local core = require "fsx.core"
local helpers = require "helpers"
local procs = require "support.procs"

local FS = "fs-0123456789abcdef0"

describe("recovery", function()
  describe("clock skew", function()
    local server

    lazy_setup(function()
      server = helpers.start_fsx_server()
    end)

    lazy_teardown(function()
      if server then server:stop() end
    end)

    before_each(function()
      server:reset()
      server:config{ backup_seconds = 0 }
    end)

    local function new_client(extra)
      local o = { region = "us-east-1", endpoint_url = server.url, credentials = helpers.credentials(),
                  max_attempts = 1 }
      for k, v in pairs(extra or {}) do o[k] = v end
      return fsx.new(o)
    end

    for _, skew in ipairs{ 3600, -3600, 86400 * 2 } do
      it(("corrects a clock %d s off, retrying once with the same token and invocation id"):format(skew),
         function()
        server:config{ clock_skew = skew }
        local events = {}
        local c = new_client{ debug = function(event, data)
          if event == "retry" then events[#events + 1] = data.reason end
        end }
        local backup, meta = c:create_backup{ file_system_id = FS }
        assert.is_string(backup.backup_id)
        assert.same({ "clock_skew" }, events)
        local reqs = server:requests("CreateBackup")
        assert.equal(2, #reqs)
        assert.equal("InvalidSignatureException", reqs[1].error)
        assert.is_nil(reqs[2].error)
        assert.equal(reqs[1].client_request_token, reqs[2].client_request_token)
        assert.equal(meta.client_request_token, reqs[2].client_request_token)
        assert.equal(reqs[1].headers["amz-sdk-invocation-id"], reqs[2].headers["amz-sdk-invocation-id"])
        assert.equal(2, meta.attempts)
        -- later calls are signed with the corrected clock: one request each
        c:describe_backups{}
        c:describe_file_systems{}
        assert.equal(4, #server:requests())
        -- another client has its own clock, and corrects it on its first call
        new_client():describe_backups{}
        assert.equal(6, #server:requests())
      end)
    end

    it("changes nothing when the service's Date is within 5 minutes of the local clock", function()
      server:config{ clock_skew = 120, max_skew_seconds = 60 }
      local c = new_client{ max_attempts = 3, retry_base = 0.01 }
      for _ = 1, 2 do
        local ok, err = pcall(c.describe_backups, c, {})
        assert.is_false(ok)
        assert.equal("InvalidSignatureException", err.code)
        assert.truthy(err.message:find("Signature expired", 1, true))
      end
      assert.equal(2, #server:requests())
    end)

    it("corrects once per call: a service whose clock runs away is not chased", function()
      server:config{ clock_skew = 3600 }
      local c = new_client{ debug = function(event)
        -- the clock moves again between the first answer and the retry
        if event == "retry" then server:config{ clock_skew = 7200 } end
      end }
      local ok, err = pcall(c.describe_backups, c, {})
      assert.is_false(ok)
      assert.equal("InvalidSignatureException", err.code)
      assert.equal(2, #server:requests())
    end)
  end)

  describe("clock skew, by the Date a hostile server sends", function()
    local hostile

    lazy_setup(function() hostile = procs.start("hostile_server.py") end)
    lazy_teardown(function() procs.stop(hostile) end)

    local function get(path)
      local h = assert(core.http_new())
      local _, _, body = h:perform{ method = "GET", url = hostile.url .. path, timeout = 5 }
      h:close()
      return body
    end

    local function amz_epoch(s)
      local y, mo, d, h, mi, sec = s:match("^(%d%d%d%d)(%d%d)(%d%d)T(%d%d)(%d%d)(%d%d)Z$")
      return require("fsx.date").parse_iso8601(("%s-%s-%sT%s:%s:%sZ"):format(y, mo, d, h, mi, sec))
    end

    -- one call against /skew-error/<date>; the log of what the server saw
    local function call_with_date(t)
      get("/reset")
      local c = fsx.new{ region = "us-east-1", endpoint_url = hostile.url .. "/skew-error/" .. t,
                         credentials = helpers.credentials(), max_attempts = 1 }
      local ok, err = pcall(c.describe_backups, c, {})
      assert.is_false(ok)
      assert.equal("InvalidSignatureException", err.code)
      return cjson.decode(get("/log")).log
    end

    it("signs the retry with the service's time", function()
      local now = os.time()
      local log = call_with_date(now + 3600)
      assert.equal(2, #log)
      assert.is_true(math.abs(amz_epoch(log[1].amz_date) - now) < 30)
      assert.is_true(math.abs(amz_epoch(log[2].amz_date) - (now + 3600)) < 30)
      assert.equal(log[1].invocation_id, log[2].invocation_id)
    end)

    it("ignores a Date within 5 minutes, and one no service could mean", function()
      local now = os.time()
      for _, t in ipairs{ now + 120, now - 200, 631152000, 253402300799 } do
        assert.equal(1, #call_with_date(t), "Date " .. t)
      end
    end)
  end)

  describe("expired session credentials", function()
    local hostile, dir

    lazy_setup(function()
      hostile = procs.start("hostile_server.py")
      dir = procs.tmpdir()
    end)

    lazy_teardown(function()
      procs.stop(hostile)
      procs.rmdir(dir)
    end)

    local function get(path)
      local h = assert(core.http_new())
      local _, _, body = h:perform{ method = "GET", url = hostile.url .. path, timeout = 5 }
      h:close()
      return body
    end

    before_each(function()
      get("/reset")
      os.remove(dir .. "/count")
    end)

    -- A credential_process handing out set 1 (expired when `first_expired`),
    -- then set 2, 3, ... (fresh); each with a far expiration so only the
    -- service's answer can make the client ask again.
    local function process_client(opts)
      local script = procs.write(dir .. "/creds.sh", ([[
#!/bin/sh
n=$(cat %s/count 2>/dev/null || echo 0)
n=$((n + 1))
echo $n > %s/count
kind=fresh
if [ "$n" = 1 ] || [ "%s" = always ]; then kind=expired; fi
printf '{"Version": 1, "AccessKeyId": "AKIAPROCESS%%04d", ' $n
printf '"SecretAccessKey": "process-secret-%%04d-xxxxxxxxxxxxxxxx", ' $n
printf '"SessionToken": "%%s-token-%%04d-yyyyyyyyyyyyyyyy", ' $kind $n
printf '"Expiration": "2099-01-01T00:00:00Z"}'
]]):format(dir, dir, opts.expired or "first"))
      os.execute("chmod +x " .. procs.shell_quote(script))
      local config = procs.write(dir .. "/config", "[profile proc]\ncredential_process = " .. script .. "\n")
      return fsx.new{ region = "us-east-1", endpoint_url = hostile.url .. "/expired-first",
                      profile = "proc", config_file = config, credentials_file = "/nonexistent",
                      getenv = procs.env{}, max_attempts = opts.max_attempts or 1, retry_base = 0.01 }
    end

    local function log()
      return cjson.decode(get("/log")).log
    end

    local function count()
      local f = io.open(dir .. "/count")
      local n = f and tonumber(f:read("*l"))
      if f then f:close() end
      return n
    end

    it("drops the cached set, asks the provider again and retries once with the same token", function()
      local c = process_client{}
      local out, meta = c:call("CreateBackup", { FileSystemId = FS })
      assert.equal("backup-0123456789abcdef0", out.Backup.BackupId)
      local l = log()
      assert.equal(2, #l)
      assert.truthy(l[1].token:find("^expired%-token%-0001"))
      assert.truthy(l[2].token:find("^fresh%-token%-0002"))
      assert.is_string(l[1].client_request_token)
      assert.equal(l[1].client_request_token, l[2].client_request_token)
      assert.equal(meta.client_request_token, l[2].client_request_token)
      assert.equal(l[1].invocation_id, l[2].invocation_id)
      assert.equal(2, count())
      -- the fresh set stays cached: the next call asks nobody
      c:call("CreateBackup", { FileSystemId = FS })
      assert.equal(3, #log())
      assert.equal(2, count())
    end)

    it("retries only once when the provider keeps handing out expired credentials", function()
      local c = process_client{ expired = "always", max_attempts = 3 }
      local ok, err = pcall(c.call, c, "CreateBackup", { FileSystemId = FS })
      assert.is_false(ok)
      assert.equal("ExpiredTokenException", err.code)
      local l = log()
      assert.equal(2, #l)
      assert.equal(l[1].client_request_token, l[2].client_request_token)
      assert.equal(l[1].invocation_id, l[2].invocation_id)
      assert.equal(2, count())
    end)

    it("static credentials: one retry with the same set, then the error", function()
      local c = fsx.new{ region = "us-east-1", endpoint_url = hostile.url .. "/expired-first",
                         credentials = { access_key_id = "AKIASTATIC", secret_access_key =
                           "static-secret-xxxxxxxxxxxxxxxxxxxxxxxx", session_token = "expired-static-token" },
                         max_attempts = 1 }
      local ok, err = pcall(c.create_backup, c, { file_system_id = FS })
      assert.is_false(ok)
      assert.equal("ExpiredTokenException", err.code)
      assert.equal(2, #log())
    end)
  end)
end)
