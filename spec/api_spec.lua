-- fsx.api (generated): checked against the botocore model read independently
-- here with cjson, and against a fresh run of tools/gen_api.lua.
local cjson = require("cjson")
local api = require("fsx.api")
local names = require("fsx.names")
local helpers = require("helpers")

-- the vendored model (model/README.md), never Debian's botocore
local MODEL_DIR = "model/fsx/2018-03-01"
local LUA = helpers.LUA

local read = helpers.read_file

local run = helpers.run_ok

local model = cjson.decode(read(MODEL_DIR .. "/service-2.json"))
local pag = cjson.decode(read(MODEL_DIR .. "/paginators-1.json")).pagination

local function set_of(list)
  local s = {}
  for _, v in ipairs(list or {}) do s[v] = true end
  return s
end

local function member_names(decl)
  local out = {}
  for i, m in ipairs(decl.members) do out[i] = m.name end
  return out
end

describe("fsx.api", function()
  it("has the model's metadata", function()
    local md = api.metadata
    assert.are.equal(model.metadata.apiVersion, md.api_version)
    assert.are.equal("2018-03-01", md.api_version)
    assert.are.equal(model.metadata.targetPrefix, md.target_prefix)
    assert.are.equal("AWSSimbaAPIService_v20180301", md.target_prefix)
    assert.are.equal(model.metadata.signingName, md.signing_name)
    assert.are.equal(model.metadata.endpointPrefix, md.endpoint_prefix)
    assert.are.equal(model.metadata.jsonVersion, md.json_version)
    local sha = run("sha256sum " .. MODEL_DIR .. "/service-2.json"):match("^(%x+)")
    assert.are.equal(sha, md.model_sha256)
    assert.are.equal(read("model/botocore-version"):match("^[^\n]+"), md.botocore_version)
    assert.are.equal("1.43.67", md.botocore_version)
  end)

  it("declares all 48 operations, with snake names from fsx.names", function()
    local n = 0
    for name in pairs(model.operations) do
      n = n + 1
      local op = api.operations[name]
      assert.is_table(op, name)
      assert.are.equal(name, op.name)
      assert.are.equal(names.to_snake(name), op.snake)
      assert.are.equal(model.operations[name].input.shape, op.input)
      assert.are.equal(model.operations[name].output.shape, op.output)
      local errs = {}
      for i, e in ipairs(model.operations[name].errors or {}) do errs[i] = e.shape end
      assert.are.same(errs, op.errors)
    end
    assert.are.equal(48, n)
    local m = 0
    for _ in pairs(api.operations) do m = m + 1 end
    assert.are.equal(48, m)
  end)

  it("declares CreateBackup as in the model", function()
    local op = api.operations.CreateBackup
    assert.are.equal("create_backup", op.snake)
    assert.are.equal("CreateBackupRequest", op.input)
    assert.are.equal("CreateBackupResponse", op.output)
    assert.are.equal("ClientRequestToken", op.idempotency_token)
    assert.are.equal("Backup", op.result_key)
    assert.is_nil(op.paginator)
    local req = api.shapes.CreateBackupRequest
    local mreq = model.shapes.CreateBackupRequest
    assert.are.equal("structure", req.type)
    -- member order as in the model text
    assert.are.same({ "FileSystemId", "ClientRequestToken", "Tags", "VolumeId" }, member_names(req))
    for _, m in ipairs(req.members) do
      assert.are.equal(mreq.members[m.name].shape, m.shape)
      assert.are.equal(names.to_snake(m.name), m.snake)
      if mreq.members[m.name].idempotencyToken then
        assert.are.equal(m.name, op.idempotency_token)
      end
    end
    assert.are.same(set_of(mreq.required), req.required or {})
  end)

  it("has idempotency tokens and result keys exactly where the model says", function()
    for name, op in pairs(api.operations) do
      local mop = model.operations[name]
      local token
      for mname, m in pairs(model.shapes[mop.input.shape].members) do
        if m.idempotencyToken then token = mname end
      end
      assert.are.equal(token, op.idempotency_token, name)
      local outm, count = nil, 0
      for mname in pairs(model.shapes[mop.output.shape].members) do
        outm, count = mname, count + 1
      end
      assert.are.equal(count == 1 and outm or nil, op.result_key, name)
      -- the resource an answer must carry (fsx.output): a sole structure member
      local member = count == 1 and model.shapes[mop.output.shape].members[outm]
      local is_struct = member and model.shapes[member.shape].type == "structure" or nil
      assert.are.equal(is_struct, op.result_required, name)
    end
    assert.is_true(api.operations.CreateBackup.result_required)
    assert.is_true(api.operations.CopyBackup.result_required)
    assert.is_nil(api.operations.DeleteBackup.result_required)
    assert.is_nil(api.operations.AssociateFileSystemAliases.result_required) -- a list
  end)

  it("has the shapes' constraints", function()
    local tags = api.shapes.Tags
    assert.are.same({ type = "list", member = "Tag", min = model.shapes.Tags.min,
                      max = model.shapes.Tags.max }, tags)
    assert.are.equal(1, tags.min)
    assert.are.equal(50, tags.max)
    local key = api.shapes.TagKey
    assert.are.equal(model.shapes.TagKey.pattern, key.pattern)
    assert.are.equal("^([\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*)$", key.pattern)
    assert.are.equal(1, key.min)
    assert.are.equal(128, key.max)
    local fs = api.shapes.FileSystemId
    assert.are.equal(model.shapes.FileSystemId.pattern, fs.pattern)
    assert.are.equal("^(fs-[0-9a-f]{8,})$", fs.pattern)
    assert.are.equal(11, fs.min)
    assert.are.equal(21, fs.max)
    local tag = api.shapes.Tag
    assert.are.same({ "Key", "Value" }, member_names(tag))
    assert.are.same({ Key = true, Value = true }, tag.required)
    assert.are.same(model.shapes.BackupLifecycle.enum, api.shapes.BackupLifecycle.enum)
    assert.are.equal(0, api.shapes.AutomaticBackupRetentionDays.min)
    assert.are.equal(90, api.shapes.AutomaticBackupRetentionDays.max)
    assert.is_true(api.shapes.AdminPassword.sensitive)
  end)

  it("declares the paginators", function()
    assert.are.same({ input_token = "NextToken", output_token = "NextToken",
                      limit_key = "MaxResults", result_key = "Backups" },
                    api.operations.DescribeBackups.paginator)
    local n = 0
    for name, p in pairs(pag) do
      n = n + 1
      assert.are.same({ input_token = p.input_token, output_token = p.output_token,
                        limit_key = p.limit_key, result_key = p.result_key },
                      api.operations[name].paginator)
    end
    for name, op in pairs(api.operations) do
      if not pag[name] then assert.is_nil(op.paginator, name) end
    end
    assert.is_true(n >= 5)
  end)

  it("declares error shapes with their extra members", function()
    local e = api.shapes.IncompatibleParameterError
    assert.is_true(e.exception)
    assert.are.same({ "Parameter", "Message" }, member_names(e))
    assert.are.same({ Parameter = true }, e.required)
    local l = api.shapes.ServiceLimitExceeded
    assert.is_true(l.exception)
    assert.are.same({ "Limit", "Message" }, member_names(l))
    assert.is_true(api.shapes.InternalServerError.fault)
    assert.is_nil(api.shapes.BadRequest.fault)
  end)

  it("matches the model for every shape (members, required, constraints)", function()
    local n = 0
    for _, name in ipairs(api.shape_names()) do
      local s = api.shapes[name]
      n = n + 1
      local ms = model.shapes[name]
      assert.is_table(ms, name)
      assert.are.equal(ms.type, s.type, name)
      assert.are.equal(ms.min, s.min, name)
      assert.are.equal(ms.max, s.max, name)
      assert.are.equal(ms.pattern, s.pattern, name)
      assert.are.same(ms.enum, s.enum, name)
      assert.are.equal(ms.exception or nil, s.exception, name)
      if ms.type == "structure" then
        local count = 0
        for _ in pairs(ms.members) do count = count + 1 end
        assert.are.equal(count, #s.members, name)
        local snakes = {}
        for _, m in ipairs(s.members) do
          assert.are.equal(ms.members[m.name].shape, m.shape, name .. "." .. m.name)
          assert.is_nil(snakes[m.snake], name .. ": duplicate snake name " .. m.snake)
          snakes[m.snake] = true
        end
        local req = set_of(ms.required)
        assert.are.same(next(req) and req or nil, s.required, name)
      elseif ms.type == "list" then
        assert.are.equal(ms.member.shape, s.member, name)
      elseif ms.type == "map" then
        assert.are.equal(ms.key.shape, s.key, name)
        assert.are.equal(ms.value.shape, s.value, name)
      end
    end
    -- every shape reachable from the operations (here: all of them)
    local reach = {}
    local function walk(name)
      if reach[name] then return end
      reach[name] = true
      local s = model.shapes[name]
      if s.type == "structure" then
        for _, m in pairs(s.members) do walk(m.shape) end
      elseif s.type == "list" then
        walk(s.member.shape)
      end
    end
    for _, op in pairs(model.operations) do
      walk(op.input.shape)
      walk(op.output.shape)
      for _, e in ipairs(op.errors or {}) do walk(e.shape) end
    end
    local r = 0
    for _ in pairs(reach) do r = r + 1 end
    assert.are.equal(r, n)
  end)

  it("reads each shape on first use, once", function()
    local names_list = api.shape_names()
    assert.are.equal("AWSAccountId", names_list[1])
    for i = 2, #names_list do assert.is_true(names_list[i - 1] < names_list[i]) end
    local fresh = assert(loadfile("lua/fsx/api.lua"))()
    assert.is_nil(rawget(fresh.shapes, "Backup"))
    local backup = fresh.shapes.Backup
    assert.are.equal(backup, rawget(fresh.shapes, "Backup"))
    assert.are.equal(backup, fresh.shapes.Backup)
    assert.are.same(api.shapes.Backup, backup)
    for _, bad in ipairs({ "NoSuchShape", "", "Tag ", "Tag\nTagKey", "backup", 1, true }) do
      assert.is_nil(fresh.shapes[bad], tostring(bad))
    end
    -- escaped characters in patterns come back as they were
    assert.are.equal("^[^\\u0000\\u0085\\u2028\\u2029\\r\\n]{8,50}$", fresh.shapes.AdminPassword.pattern)
  end)

  it("carries no documentation text", function()
    local text = read("lua/fsx/api.lua")
    text = text:sub((assert(text:find("\nlocal api = {", 1, true))))
    assert.is_nil(text:find("documentation", 1, true))
    assert.is_nil(text:find("<p>", 1, true))
  end)

  it("regenerates byte-identically", function()
    local out, ok = run(LUA .. " tools/gen_api.lua")
    assert.is_true(ok)
    assert.are.equal(read("lua/fsx/api.lua"), out)
  end)

  it("regenerates the same file under the other interpreter", function()
    local other = jit and "lua5.4" or "luajit"
    local out, ok = run(other .. " tools/gen_api.lua 2>/dev/null")
    if ok then assert.are.equal(read("lua/fsx/api.lua"), out) end
  end)

  it("refuses a model where two members map to one snake name", function()
    local dir = os.tmpname()
    os.remove(dir)
    assert.is_true(os.execute("mkdir -p " .. dir) ~= false)
    local f = assert(io.open(dir .. "/service-2.json", "wb"))
    f:write(cjson.encode({
      metadata = { apiVersion = "2018-03-01", endpointPrefix = "fsx", jsonVersion = "1.1",
                   protocol = "json", serviceId = "FSx", signingName = "fsx",
                   targetPrefix = "AWSSimbaAPIService_v20180301" },
      operations = { Op = { name = "Op", input = { shape = "OpRequest" },
                            output = { shape = "OpResponse" } } },
      shapes = {
        OpRequest = { type = "structure", members = { NFS = { shape = "S" }, Nfs = { shape = "S" } } },
        OpResponse = { type = "structure", members = {} },
        S = { type = "string" },
      },
    }))
    f:close()
    f = assert(io.open(dir .. "/paginators-1.json", "wb"))
    f:write('{"pagination":{}}')
    f:close()
    local out, ok = run("FSX_MODEL_DIR=" .. dir .. " " .. LUA .. " tools/gen_api.lua 2>&1")
    os.execute("rm -rf " .. dir)
    assert.is_false(ok)
    assert.truthy(out:find("both map to snake_case", 1, true))
  end)

  it("refuses a model whose names the shape lines cannot hold", function()
    local dir = os.tmpname()
    os.remove(dir)
    assert.is_true(os.execute("mkdir -p " .. dir) ~= false)
    local f = assert(io.open(dir .. "/service-2.json", "wb"))
    f:write(cjson.encode({
      metadata = { apiVersion = "2018-03-01", endpointPrefix = "fsx", jsonVersion = "1.1",
                   protocol = "json", serviceId = "FSx", signingName = "fsx",
                   targetPrefix = "AWSSimbaAPIService_v20180301" },
      operations = { Op = { name = "Op", input = { shape = "OpRequest" },
                            output = { shape = "OpResponse" } } },
      shapes = {
        OpRequest = { type = "structure", members = { ["Bad Name"] = { shape = "S" } } },
        OpResponse = { type = "structure", members = {} },
        S = { type = "string" },
      },
    }))
    f:close()
    f = assert(io.open(dir .. "/paginators-1.json", "wb"))
    f:write('{"pagination":{}}')
    f:close()
    local out, ok = run("FSX_MODEL_DIR=" .. dir .. " " .. LUA .. " tools/gen_api.lua 2>&1")
    os.execute("rm -rf " .. dir)
    assert.is_false(ok)
    assert.truthy(out:find("is not an identifier", 1, true))
  end)
end)

describe("fsx.shape_lines", function()
  local lines = require "fsx.shape_lines"

  it("decodes one shape line: members, required, enum, bounds, escapes, flags", function()
    local s = lines.decode("structure required=Key members=Key:TagKey,Value,DNSName:DNSName "
                           .. "exception min=1 max=50 enum=A%2CB,C pattern=^[a%20b]$")
    assert.equal("structure", s.type)
    assert.are.same({ { name = "Key", snake = "key", shape = "TagKey" },
                      { name = "Value", snake = "value", shape = "Value" },
                      { name = "DNSName", snake = "dns_name", shape = "DNSName" } }, s.members)
    assert.are.same({ Key = true }, s.required)
    assert.is_true(s.exception)
    assert.equal(1, s.min)
    assert.equal(50, s.max)
    assert.are.same({ "A,B", "C" }, s.enum)
    assert.equal("^[a b]$", s.pattern)
  end)

  it("installs shapes read on first use, and their names", function()
    local m = {}
    lines.install(m, "\nAlpha string min=2\nBeta list member=Alpha\n")
    assert.equal(2, m.shapes.Alpha.min)
    assert.equal("Alpha", m.shapes.Beta.member)
    assert.is_nil(m.shapes.Gamma)
    assert.is_nil(m.shapes["Al"])
    assert.is_nil(m.shapes["a b"])
    assert.are.same({ "Alpha", "Beta" }, m.shape_names())
  end)
end)
