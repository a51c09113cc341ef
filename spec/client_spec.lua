-- The request pipeline against a scripted transport: what goes on the wire,
-- retries (same token, same invocation id, re-signed), backoff with an
-- injected clock and sleep, deadlines, the retry quota.
local fsx = require "fsx"
local json = require "cjson"

local CREDS = { access_key_id = "AKIDEXAMPLE", secret_access_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY" }

local function header(req, name)
  for _, h in ipairs(req.headers) do
    if h[1]:lower() == name:lower() then return h[2] end
  end
end

local BACKUP = { Backup = { BackupId = "backup-0123456789abcdef0", Lifecycle = "CREATING",
                            Type = "USER_INITIATED", CreationTime = 1700000000,
                            FileSystem = { FileSystemId = "fs-0123456789abcdef0" },
                            Tags = { { Key = "Name", Value = "nightly" } } } }

local function ok_response(body)
  return { status = 200, headers = { ["x-amzn-requestid"] = "req-ok",
           ["content-type"] = "application/x-amz-json-1.1" }, body = json.encode(body or BACKUP) }
end

local function err_response(status, code, msg)
  return { status = status, headers = { ["x-amzn-requestid"] = "req-" .. code },
           body = json.encode{ __type = code, message = msg or code } }
end

-- A client whose transport plays `script` (a list of responses or
-- {nil, kind, code, message}) and records every request.
local function scripted(script, opts)
  local sent, sleeps = {}, {}
  local t = 1700000000
  local o = {
    region = "us-east-1", endpoint_url = "https://fsx.us-east-1.amazonaws.com",
    credentials = CREDS,
    transport = function(req)
      sent[#sent + 1] = req
      local step = script[#sent] or script[#script]
      if step[1] == false then return nil, step[2], step[3], step[4] end
      return step
    end,
    sleep = function(s) sleeps[#sleeps + 1] = s; t = t + s end,
    now = function() return t end,
    monotime = function() return t end,
    random = function() return 0.5 end,
  }
  for k, v in pairs(opts or {}) do o[k] = v end
  local c = fsx.new(o)
  return c, sent, sleeps, function(dt) t = t + dt end
end

describe("client request", function()
  it("sends a signed JSON 1.1 POST with the SDK headers", function()
    local c, sent = scripted{ ok_response() }
    local backup, meta = c:create_backup{ file_system_id = "fs-0123456789abcdef0", tags = { Name = "nightly" } }
    assert.equal("backup-0123456789abcdef0", backup.backup_id)
    assert.equal("CREATING", backup.lifecycle)
    assert.same({ { key = "Name", value = "nightly" } }, backup.tags)
    assert.equal(1, #sent)
    local req = sent[1]
    assert.equal("POST", req.method)
    assert.equal("https://fsx.us-east-1.amazonaws.com/", req.url)
    assert.equal("fsx.us-east-1.amazonaws.com", header(req, "Host"))
    assert.equal("application/x-amz-json-1.1", header(req, "Content-Type"))
    assert.equal("AWSSimbaAPIService_v20180301.CreateBackup", header(req, "X-Amz-Target"))
    assert.equal("attempt=1; max=3", header(req, "amz-sdk-request"))
    assert.truthy(header(req, "Authorization"):match("^AWS4%-HMAC%-SHA256 Credential=AKIDEXAMPLE/%d+/us%-east%-1/fsx/aws4_request"))
    assert.truthy(header(req, "User-Agent"):match("^lua%-fsx/"))
    local body = json.decode(req.body)
    assert.equal("fs-0123456789abcdef0", body.FileSystemId)
    assert.same({ { Key = "Name", Value = "nightly" } }, body.Tags)
    -- a random UUID v4 token was filled in
    assert.truthy(body.ClientRequestToken:match("^%x+%-%x+%-4%x+%-[89ab]%x+%-%x+$"))
    assert.equal(body.ClientRequestToken, meta.client_request_token)
    assert.equal("req-ok", meta.request_id)
    assert.equal(1, meta.attempts)
    assert.equal(200, meta.status)
  end)

  it("keeps a caller's token", function()
    local c, sent = scripted{ ok_response() }
    c:create_backup{ volume_id = "fsvol-0123456789abcdef0", client_request_token = "my-token-1" }
    assert.equal("my-token-1", json.decode(sent[1].body).ClientRequestToken)
  end)

  it("fills a different token for each call", function()
    local c, sent = scripted{ ok_response() }
    c:create_backup{ file_system_id = "fs-0123456789abcdef0" }
    c:create_backup{ file_system_id = "fs-0123456789abcdef0" }
    assert.are_not.equal(json.decode(sent[1].body).ClientRequestToken, json.decode(sent[2].body).ClientRequestToken)
  end)

  it("call() takes and returns raw API names", function()
    local c, sent = scripted{ ok_response{ Backups = {}, NextToken = "t2" } }
    local out = c:call("DescribeBackups", { BackupIds = { "backup-0123456789abcdef0" } })
    assert.equal("t2", out.NextToken)
    assert.equal("AWSSimbaAPIService_v20180301.DescribeBackups", header(sent[1], "X-Amz-Target"))
    assert.same({ BackupIds = { "backup-0123456789abcdef0" } }, json.decode(sent[1].body))
  end)

  it("sends {} for an operation without input", function()
    local c, sent = scripted{ ok_response{ FileSystems = {} } }
    c:describe_file_systems()
    assert.equal("{}", sent[1].body)
  end)

  it("signs the session token", function()
    local c, sent = scripted({ ok_response() }, { credentials = {
      access_key_id = CREDS.access_key_id, secret_access_key = CREDS.secret_access_key,
      session_token = "FQoGZXIvYXdzEXAMPLETOKEN" } })
    c:create_backup{ file_system_id = "fs-0123456789abcdef0" }
    assert.equal("FQoGZXIvYXdzEXAMPLETOKEN", header(sent[1], "X-Amz-Security-Token"))
    assert.truthy(header(sent[1], "Authorization"):find("x-amz-security-token", 1, true))
  end)
end)

describe("client retries", function()
  it("retries throttling with the same token, invocation id and body, re-signed", function()
    local c, sent, sleeps = scripted{ err_response(400, "ThrottlingException"),
                                      err_response(500, "InternalServerError"), ok_response() }
    local _, meta = c:create_backup{ file_system_id = "fs-0123456789abcdef0" }
    assert.equal(3, #sent)
    assert.equal(3, meta.attempts)
    for i = 2, 3 do
      assert.equal(sent[1].body, sent[i].body)
      assert.equal(header(sent[1], "amz-sdk-invocation-id"), header(sent[i], "amz-sdk-invocation-id"))
    end
    assert.equal("attempt=2; max=3", header(sent[2], "amz-sdk-request"))
    assert.equal("attempt=3; max=3", header(sent[3], "amz-sdk-request"))
    -- the injected clock moved during the backoff: each attempt signed anew
    assert.are_not.equal(header(sent[1], "X-Amz-Date"), header(sent[3], "X-Amz-Date"))
    assert.are_not.equal(header(sent[1], "Authorization"), header(sent[3], "Authorization"))
    -- full jitter with random() = 0.5: 0.5 * 1, then 0.5 * 2
    assert.same({ 0.5, 1 }, sleeps)
  end)

  it("retries transport failures and garbled responses", function()
    local c, sent = scripted{ { false, "transport", "CURLE_RECV_ERROR", "connection reset" },
                              { status = 200, headers = {}, body = "{\"Backup\":" }, ok_response() }
    local b = c:create_backup{ file_system_id = "fs-0123456789abcdef0" }
    assert.equal(3, #sent)
    assert.equal("backup-0123456789abcdef0", b.backup_id)
  end)

  it("raises the last error with attempts and retryable after max_attempts", function()
    local c, sent, sleeps = scripted({ err_response(400, "ThrottlingException", "Rate exceeded") },
                                     { max_attempts = 4 })
    local ok, e = pcall(c.create_backup, c, { file_system_id = "fs-0123456789abcdef0" })
    assert.is_false(ok)
    assert.equal(4, #sent)
    assert.equal(3, #sleeps)
    assert.equal("service", e.kind)
    assert.equal("ThrottlingException", e.code)
    assert.equal(4, e.attempts)
    assert.is_true(e.retryable)
    assert.equal("req-ThrottlingException", e.request_id)
  end)

  it("raises non-retryable errors at once", function()
    local c, sent, sleeps = scripted{ err_response(400, "BackupInProgress", "busy") }
    local ok, e = pcall(c.create_backup, c, { file_system_id = "fs-0123456789abcdef0" })
    assert.is_false(ok)
    assert.equal(1, #sent)
    assert.equal(0, #sleeps)
    assert.equal("BackupInProgress", e.code)
    assert.is_false(e.retryable)
    assert.equal(1, e.attempts)
    assert.equal("CreateBackup", e.operation)
  end)

  it("gives extra error fields in snake_case", function()
    local c = scripted{ { status = 400, headers = {}, body = json.encode{
      __type = "com.amazonaws.fsx#ServiceLimitExceeded", Message = "too many", Limit = "TOTAL_USER_INITIATED_BACKUPS" } } }
    local _, e = pcall(c.create_backup, c, { file_system_id = "fs-0123456789abcdef0" })
    assert.equal("ServiceLimitExceeded", e.code)
    assert.equal("TOTAL_USER_INITIATED_BACKUPS", e.limit)
    assert.equal("too many", e.message)
  end)

  it("stops when the deadline would pass during a backoff", function()
    local c, sent, sleeps = scripted({ err_response(503, "ServiceUnavailable") },
      { deadline = 0.7, max_attempts = 5, random = function() return 1 end })
    local ok, e = pcall(c.create_backup, c, { file_system_id = "fs-0123456789abcdef0" })
    assert.is_false(ok)
    assert.equal("timeout", e.kind)
    assert.equal("DeadlineExceeded", e.code)
    assert.equal(1, #sent)      -- a 1 s backoff cannot fit into 0.7 s
    assert.equal(0, #sleeps)
    assert.equal("ServiceUnavailable", e.last_error.code)
  end)

  it("gives the remaining deadline to the attempt as its timeout", function()
    local c, sent = scripted({ ok_response() }, { deadline = 2.5, timeout = 60 })
    c:create_backup{ file_system_id = "fs-0123456789abcdef0" }
    assert.is_true(sent[1].timeout <= 2.5)
  end)

  it("stops retrying when the retry quota is spent", function()
    local c, sent = scripted({ err_response(500, "InternalServerError") }, { max_attempts = 3, retry_quota = 7 })
    local ok, e = pcall(c.create_backup, c, { file_system_id = "fs-0123456789abcdef0" })
    assert.is_false(ok)
    assert.equal(2, #sent)       -- one retry (5 tokens), then 2 left: not enough for another
    assert.is_true(e.retry_quota_exceeded)
    assert.equal(2, e.attempts)
  end)

  it("never retries validation errors and sends nothing for them", function()
    local c, sent = scripted{ ok_response() }
    local ok, e = pcall(c.create_backup, c, { file_system_id = "not-a-file-system" })
    assert.is_false(ok)
    assert.equal("validation", e.kind)
    assert.equal(0, #sent)
  end)
end)

describe("client configuration errors", function()
  it("rejects unknown options and wrong types", function()
    local ok, e = pcall(fsx.new, { regoin = "us-east-1" })
    assert.is_false(ok)
    assert.equal("validation", e.kind)
    assert.truthy(e.message:find("regoin", 1, true))
    ok, e = pcall(fsx.new, { timeout = "10" })
    assert.equal("timeout", e.field)
  end)

  it("raises a credentials error before sending when the region is missing", function()
    local sent = 0
    local c = fsx.new{ credentials = CREDS, getenv = function() return nil end,
                       transport = function() sent = sent + 1 end }
    local ok, e = pcall(c.create_backup, c, { file_system_id = "fs-0123456789abcdef0" })
    assert.is_false(ok)
    assert.equal("credentials", e.kind)
    assert.equal(0, sent)
  end)
end)
