-- create_backup end to end against the local FSx server (which checks every
-- signature with botocore): success, and every CreateBackup error of the
-- model plus the common ones, each as a structured error.
local fsx = require "fsx"
local helpers = require "helpers"

describe("create_backup against the local FSx server", function()
  local server, creds

  local function client(opts)
    local o = { region = "us-east-1", endpoint_url = server.url, credentials = creds,
                retry_base = 0.001, timeout = 5 }
    for k, v in pairs(opts or {}) do o[k] = v end
    return fsx.new(o)
  end

  local function fails(c, args)
    local ok, e = pcall(c.create_backup, c, args)
    assert.is_false(ok, "expected an error")
    assert.is_true(fsx.is_error(e), tostring(e))
    return e
  end

  lazy_setup(function()
    server = helpers.start_fsx_server()
    creds = helpers.credentials()
  end)

  lazy_teardown(function()
    if server then server:stop() end
  end)

  before_each(function()
    server:reset()
  end)

  it("creates a backup of a file system and returns it with meta", function()
    local backup, meta = client():create_backup{ file_system_id = "fs-0123456789abcdef0",
                                                 tags = { Name = "nightly", team = "storage" } }
    assert.truthy(backup.backup_id:match("^backup%-%x+$"))
    assert.equal("CREATING", backup.lifecycle)
    assert.equal("USER_INITIATED", backup.type)
    assert.equal("fs-0123456789abcdef0", backup.file_system.file_system_id)
    assert.is_number(backup.creation_time)
    local tags = {}
    for _, t in ipairs(backup.tags) do tags[t.key] = t.value end
    assert.same({ Name = "nightly", team = "storage" }, tags)
    assert.is_string(meta.request_id)
    assert.equal(200, meta.status)
    assert.equal(1, meta.attempts)
    local reqs = server:requests("CreateBackup")
    assert.equal(1, #reqs)
    assert.is_true(reqs[1].signature_ok)
    assert.equal(meta.client_request_token, reqs[1].client_request_token)
  end)

  it("creates a backup of a volume", function()
    local backup = client():create_backup{ volume_id = "fsvol-0123456789abcdef0" }
    assert.equal("fsvol-0123456789abcdef0", backup.volume.volume_id)
  end)

  it("signs with session credentials", function()
    local c = client{ credentials = helpers.session_credentials() }
    local b = c:create_backup{ file_system_id = "fs-0123456789abcdef0" }
    assert.truthy(b.backup_id)
  end)

  it("returns the same backup for the same token", function()
    local c = client()
    local a = c:create_backup{ file_system_id = "fs-0123456789abcdef0", client_request_token = "same-1" }
    local b = c:create_backup{ file_system_id = "fs-0123456789abcdef0", client_request_token = "same-1" }
    assert.equal(a.backup_id, b.backup_id)
  end)

  it("IncompatibleParameterError: same token, other parameters", function()
    local c = client()
    c:create_backup{ file_system_id = "fs-0123456789abcdef0", client_request_token = "same-2" }
    local e = fails(c, { file_system_id = "fs-0123456789abcdef0", client_request_token = "same-2",
                         tags = { Name = "other" } })
    assert.equal("service", e.kind)
    assert.equal("IncompatibleParameterError", e.code)
    assert.equal("ClientRequestToken", e.parameter)
    assert.equal(400, e.status)
    assert.is_false(e.retryable)
  end)

  it("FileSystemNotFound", function()
    local e = fails(client(), { file_system_id = "fs-0000000000000dead" })
    assert.equal("FileSystemNotFound", e.code)
    assert.equal("CreateBackup", e.operation)
    assert.is_string(e.request_id)
    assert.truthy(e.message:find("fs-0000000000000dead", 1, true))
  end)

  it("VolumeNotFound", function()
    local e = fails(client(), { volume_id = "fsvol-000000000000000ff" })
    assert.equal("VolumeNotFound", e.code)
  end)

  it("UnsupportedOperation: an ONTAP file system is backed up per volume", function()
    local e = fails(client(), { file_system_id = "fs-0abcdef0123456789" })
    assert.equal("UnsupportedOperation", e.code)
  end)

  it("BadRequest: a file system that is not AVAILABLE", function()
    server:seed{ file_systems = { { FileSystemId = "fs-0000000000000b0b0", FileSystemType = "WINDOWS",
                                    Lifecycle = "CREATING", Tags = {} } } }
    local e = fails(client(), { file_system_id = "fs-0000000000000b0b0" })
    assert.equal("BadRequest", e.code)
  end)

  it("BackupInProgress while another user backup is CREATING", function()
    server:config{ backup_seconds = 60 }
    local c = client()
    c:create_backup{ file_system_id = "fs-0123456789abcdef0" }
    local e = fails(c, { file_system_id = "fs-0123456789abcdef0" })
    assert.equal("BackupInProgress", e.code)
    assert.is_false(e.retryable)
    assert.equal(1, e.attempts)
  end)

  it("ServiceLimitExceeded with its limit", function()
    server:config{ backup_seconds = 0, limit = 1 }
    local c = client()
    c:create_backup{ file_system_id = "fs-0123456789abcdef0" }
    local e = fails(c, { file_system_id = "fs-0123456789abcdef0" })
    assert.equal("ServiceLimitExceeded", e.code)
    assert.is_string(e.limit)
  end)

  it("InternalServerError is retried, then raised as retryable", function()
    server:faults({ { kind = "error500", operation = "CreateBackup" } }, 1)
    local e = fails(client(), { file_system_id = "fs-0123456789abcdef0" })
    assert.equal("InternalServerError", e.code)
    assert.equal(500, e.status)
    assert.equal(3, e.attempts)
    assert.is_true(e.retryable)
    assert.equal(3, #server:requests("CreateBackup"))
  end)

  it("ThrottlingException is retried, and the call succeeds when it stops", function()
    server:faults({ { kind = "throttle", operation = "CreateBackup", times = 2 } }, 1)
    local b, meta = client():create_backup{ file_system_id = "fs-0123456789abcdef0" }
    assert.truthy(b.backup_id)
    assert.equal(3, meta.attempts)
  end)

  it("an HTML 503 gives a clean error with the status", function()
    server:faults({ { kind = "html503" } }, 1)
    local e = fails(client{ max_attempts = 1 }, { file_system_id = "fs-0123456789abcdef0" })
    assert.equal("service", e.kind)
    assert.equal(503, e.status)
    assert.equal("HTTP503", e.code)
  end)

  it("UnrecognizedClientException for an unknown access key", function()
    local e = fails(client{ credentials = { access_key_id = "AKIDUNKNOWN0000", secret_access_key = "x" } },
                    { file_system_id = "fs-0123456789abcdef0" })
    assert.equal("UnrecognizedClientException", e.code)
    assert.is_false(e.retryable)
  end)

  it("InvalidSignatureException for a wrong secret, without the secret in the error", function()
    local secret = "not-the-right-secret-key-0123456789"
    local e = fails(client{ credentials = { access_key_id = creds.access_key_id, secret_access_key = secret } },
                    { file_system_id = "fs-0123456789abcdef0" })
    assert.equal("InvalidSignatureException", e.code)
    assert.is_nil(tostring(e):find(secret, 1, true))
  end)

  it("InvalidSignatureException when the clock is skewed less than the client corrects", function()
    -- the service allows 60 s; 120 s is within the 5 minutes the client leaves alone
    server:config{ max_skew_seconds = 60 }
    local c = client{ now = function() return os.time() - 120 end }
    local e = fails(c, { file_system_id = "fs-0123456789abcdef0" })
    assert.equal("InvalidSignatureException", e.code)
    assert.truthy(e.message:lower():find("expired", 1, true))
  end)

  it("a clock an hour behind is corrected from the service's Date (one extra request)", function()
    local c = client{ now = function() return os.time() - 3600 end }
    local backup, meta = c:create_backup{ file_system_id = "fs-0123456789abcdef0" }
    assert.is_string(backup.backup_id)
    assert.equal(2, meta.attempts)
    assert.equal(2, #server:requests("CreateBackup"))
  end)

  it("a refused connection is a transport error after the retries", function()
    local c = fsx.new{ region = "us-east-1", endpoint_url = "http://127.0.0.1:1", credentials = creds,
                       retry_base = 0.001, transport = "curl" }
    local e = fails(c, { file_system_id = "fs-0123456789abcdef0" })
    assert.equal("transport", e.kind)
    assert.equal("CURLE_COULDNT_CONNECT", e.code)
    assert.equal(3, e.attempts)
    assert.is_true(e.retryable)
  end)

  it("validation errors are raised before anything is sent", function()
    local c = client()
    local before = server:state().counters.requests_total
    for _, args in ipairs{
      {},
      { file_system_id = "fs-0123456789abcdef0", volume_id = "fsvol-0123456789abcdef0" },
      { file_system_id = "fs-XYZ" },
      { volume_id = "fsvol-123" },
      { file_system_id = "fs-0123456789abcdef0", client_request_token = "bad token!" },
      { file_system_id = "fs-0123456789abcdef0", tags = { ["aws:reserved"] = "x" } },
      { file_system_id = "fs-0123456789abcdef0", tags = { { key = "", value = "x" } } },
      { file_system_id = "fs-0123456789abcdef0", tags = { Name = ("v"):rep(257) } },
      { file_system_id = "fs-0123456789abcdef0", colour = "blue" },
    } do
      local e = fails(c, args)
      assert.equal("validation", e.kind, tostring(e))
      assert.truthy(e.message:find("^create_backup: "), e.message)
    end
    assert.equal(before, server:state().counters.requests_total)
  end)

  it("the server saw a valid signature on every request of this file", function()
    client():create_backup{ file_system_id = "fs-0123456789abcdef0" }
    for _, r in ipairs(server:requests()) do
      assert.is_true(r.signature_ok, "request " .. tostring(r.seq) .. " had a bad signature")
    end
  end)
end)
