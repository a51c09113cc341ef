local protocol = require "fsx.protocol.json"
local json = require "fsx.json"

describe("fsx.protocol.json", function()
  it("builds the JSON 1.1 request with {} for empty input", function()
    local body, headers = protocol.build("AWSSimbaAPIService_v20180301", "DescribeBackups", {})
    assert.equal("{}", body)
    assert.same({ { "Content-Type", "application/x-amz-json-1.1" },
                  { "X-Amz-Target", "AWSSimbaAPIService_v20180301.DescribeBackups" } }, headers)
  end)

  it("encodes the empty-array marker as []", function()
    local body = protocol.build("P", "Op", { BackupIds = json.EMPTY_ARRAY, X = "y" })
    local v = json.decode(body)
    assert.equal("y", v.X)
    assert.truthy(body:find('"BackupIds":[]', 1, true))
  end)

  it("strips namespace prefixes and suffixes from error codes", function()
    assert.equal("BackupInProgress", protocol.error_code("com.amazonaws.fsx#BackupInProgress"))
    assert.equal("ValidationException",
                 protocol.error_code("ValidationException:http://internal.amazon.com/coral/"))
    assert.equal("X", protocol.error_code("aws.protocoltests#X:y"))
    assert.is_nil(protocol.error_code(""))
    assert.is_nil(protocol.error_code(nil))
  end)

  local function resp(status, body, headers)
    return { status = status, body = body, headers = headers or { ["x-amzn-requestid"] = "rid" } }
  end

  it("parses a 200 JSON object", function()
    local v = protocol.parse("CreateBackup", resp(200, '{"Backup":{"BackupId":"backup-1"}}'))
    assert.equal("backup-1", v.Backup.BackupId)
  end)

  it("treats an empty 200 body as {}", function()
    assert.same({}, protocol.parse("TagResource", resp(200, "")))
  end)

  it("maps a 200 with malformed JSON to a retryable decode error", function()
    local v, e = protocol.parse("CreateBackup", resp(200, '{"Backup":', { ["content-type"] = "text/plain" }))
    assert.is_nil(v)
    assert.equal("decode", e.kind)
    assert.is_true(e.retryable)
    assert.truthy(e.message:find("text/plain", 1, true))
  end)

  it("maps __type and message, with extra fields", function()
    local v, e = protocol.parse("CreateBackup",
      resp(400, '{"__type":"com.amazonaws.fsx#IncompatibleParameterError","Message":"bad","Parameter":"ClientRequestToken"}'),
      function(code, body)
        assert.equal("IncompatibleParameterError", code)
        return { parameter = body.Parameter }
      end)
    assert.is_nil(v)
    assert.equal("service", e.kind)
    assert.equal("IncompatibleParameterError", e.code)
    assert.equal("bad", e.message)
    assert.equal("ClientRequestToken", e.parameter)
    assert.equal(400, e.status)
    assert.equal("rid", e.request_id)
    assert.equal("CreateBackup", e.operation)
  end)

  it("uses code or the x-amzn-ErrorType header when __type is missing", function()
    local _, e = protocol.parse("Op", resp(400, '{"code":"ThrottlingException","message":"slow"}'))
    assert.equal("ThrottlingException", e.code)
    local _, e2 = protocol.parse("Op", resp(403, "", { ["x-amzn-errortype"] = "AccessDeniedException:http://x/" }))
    assert.equal("AccessDeniedException", e2.code)
  end)

  it("gives a clean error for an HTML or empty error body", function()
    local _, e = protocol.parse("Op", resp(503, "<html><body>Service Unavailable</body></html>",
                                           { ["content-type"] = "text/html" }))
    assert.equal("service", e.kind)
    assert.equal("HTTP503", e.code)
    assert.equal(503, e.status)
    assert.truthy(e.message:find("503"))
    local _, e2 = protocol.parse("Op", resp(500, ""))
    assert.equal("HTTP500", e2.code)
  end)
end)

-- A __gc finalizer can run inside the push of an encoded string, before the
-- bytes are copied: one that encodes too must not write into the buffer the
-- outer encode is being copied from. spec/support/reentrant.lua runs it in a
-- fresh interpreter.
describe("fsx.json.encode while a finalizer encodes", function()
  it("leaves nothing to a finalizer of its own when finalizers encode as the interpreter closes", function()
    local helpers = require("helpers")
    local out, rc = helpers.run(helpers.lua_command("spec/support/close_encode.lua") .. " 2>&1")
    assert.equal(0, rc, out)
    assert.equal("ok 200\n", out)
  end)

  it("gives each call its own text", function()
    local _, nested, outer_bad, inner_bad, out = require("helpers").reentrant("encode")
    assert.is_true(nested > 0, "no finalizer encoded inside an encode: " .. out)
    assert.same({ 0, 0 }, { outer_bad, inner_bad }, out)
  end)
end)
