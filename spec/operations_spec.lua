-- Every operation of the FSx model is a client method: built from a minimal
-- valid input derived from the generated declarations, validated, sent with
-- the right X-Amz-Target, and its output converted to snake_case. A scripted
-- transport answers with an empty object (or the result the operation must
-- return, with its required members), so this covers
-- the 48 operations whether or not the local server implements them.
local fsx = require "fsx"
local api = require "fsx.api"
local json = require "cjson"

-- Sample values for the patterned strings a required member can hold.
local SAMPLES = {
  FileSystemId = "fs-0123456789abcdef0",
  ResourceARN = "arn:aws:fsx:us-east-1:123456789012:file-system/fs-0123456789abcdef0",
  TagKey = "Name", TagValue = "nightly",
  AlternateDNSName = "fs.example.com",
  StorageVirtualMachineId = "svm-0123456789abcdef0",
  FileCacheId = "fc-0123456789abcdef0",
  SubnetId = "subnet-0123456789abcdef0",
  BackupId = "backup-0123456789abcdef0", SourceBackupId = "backup-0123456789abcdef0",
  FileSystemTypeVersion = "2.15",
  StorageVirtualMachineName = "svm1",
  ArchivePath = "s3://bucket/prefix",
  VolumeId = "fsvol-0123456789abcdef0",
  SnapshotName = "snap1", SnapshotId = "fsvolsnap-0123456789abcdef0",
  DataRepositoryAssociationId = "dra-0123456789abcdef0",
  VolumeName = "vol1", TaskId = "task-0123456789abcdef0",
  S3AccessPointAttachmentName = "nightly-ap1",
}

-- What the model cannot say: CreateBackup needs one of two optional members;
-- copy_backup (fsx.restore) names the Region it copies from.
local EXTRA = { create_backup = { file_system_id = SAMPLES.FileSystemId },
                copy_backup = { source_region = "us-west-2" } }

-- A minimal valid value for a shape (required members only), with
-- snake_case names (or API names when `api_names`).
local function sample(name, depth, api_names)
  local sh = api.shapes[name]
  assert(depth < 12, "shape nesting too deep at " .. name)
  if sh.type == "structure" then
    local t = {}
    for _, m in ipairs(sh.members) do
      if sh.required and sh.required[m.name] then
        t[api_names and m.name or m.snake] = sample(m.shape, depth + 1, api_names)
      end
    end
    return t
  elseif sh.type == "list" then
    return { sample(sh.member, depth + 1, api_names) }
  elseif sh.type == "map" then
    return { k = sample(sh.value, depth + 1, api_names) }
  elseif sh.type == "string" then
    if sh.enum then return sh.enum[1] end
    if sh.pattern then return (assert(SAMPLES[name], "no sample for string shape " .. name)) end
    return ("a"):rep(math.max(sh.min or 1, 1))
  elseif sh.type == "integer" or sh.type == "long" then
    return sh.min or 1
  elseif sh.type == "boolean" then
    return true
  elseif sh.type == "timestamp" then
    return 1700000000
  end
  error("no sample for type " .. tostring(sh.type) .. " (" .. name .. ")")
end

describe("every FSx operation", function()
  local names = {}
  for name in pairs(api.operations) do names[#names + 1] = name end
  table.sort(names)

  it("the model has 48 operations, all declared", function()
    assert.equal(48, #names)
  end)

  for _, name in ipairs(names) do
    local decl = api.operations[name]
    it(decl.snake .. " sends " .. name, function()
      -- the answer: the operation's result, where it must return one (fsx.output)
      -- and a listing its list (fsx.client)
      local answer = {}
      if decl.result_required then
        local member = api.shapes[decl.output].members[1]
        answer[member.name] = sample(member.shape, 0, true)
      end
      for _, member in ipairs(decl.output and api.shapes[decl.output].members or {}) do
        if decl.paginator and member.name == decl.paginator.result_key then
          answer[member.name] = sample(member.shape, 0, true)
        end
      end
      local sent = {}
      local c = fsx.new{
        region = "us-east-1", endpoint_url = "https://fsx.us-east-1.amazonaws.com",
        credentials = { access_key_id = "AKIDEXAMPLE", secret_access_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY" },
        transport = function(req)
          sent[#sent + 1] = req
          -- the ids the request named, named back as the service does (fsx.client)
          local named = json.decode(req.body)
          for _, member in ipairs(decl.output and api.shapes[decl.output].members or {}) do
            if member.name:find("Id$") or member.name == "Name" then answer[member.name] = named[member.name] end
          end
          return { status = 200, headers = { ["x-amzn-requestid"] = "r1" }, body = json.encode(answer) }
        end,
      }
      local args = sample(decl.input, 0)
      for k, v in pairs(EXTRA[decl.snake] or {}) do args[k] = v end
      local out, meta = c[decl.snake](c, args)
      assert.equal(1, #sent)
      local target
      for _, h in ipairs(sent[1].headers) do if h[1] == "X-Amz-Target" then target = h[2] end end
      assert.equal("AWSSimbaAPIService_v20180301." .. name, target)
      local body = json.decode(sent[1].body)
      assert.is_table(body)
      -- the auto-filled idempotency token, where the operation has one
      if decl.idempotency_token then
        assert.is_string(body[decl.idempotency_token])
        assert.equal(body[decl.idempotency_token], meta.client_request_token)
      end
      -- every required member went out under its API name
      local sh = api.shapes[decl.input]
      for _, m in ipairs(sh.members) do
        if sh.required and sh.required[m.name] then assert.is_not_nil(body[m.name], m.name) end
      end
      assert.is_table(out)
      assert.equal("r1", meta.request_id)
    end)

    local sh = api.shapes[decl.input]
    local first_required
    for _, m in ipairs(sh.members) do
      if sh.required and sh.required[m.name] then first_required = first_required or m end
    end
    if first_required then
      it(decl.snake .. " refuses a missing " .. first_required.snake .. " before sending", function()
        local sent = 0
        local c = fsx.new{ region = "us-east-1", endpoint_url = "https://fsx.us-east-1.amazonaws.com",
          credentials = { access_key_id = "AKIDEXAMPLE", secret_access_key = "secret-secret" },
          transport = function() sent = sent + 1 end }
        local args = sample(decl.input, 0)
        for k, v in pairs(EXTRA[decl.snake] or {}) do args[k] = v end
        args[first_required.snake] = nil
        local ok, e = pcall(c[decl.snake], c, args)
        assert.is_false(ok)
        assert.equal("validation", e.kind)
        assert.truthy(e.message:find(first_required.snake, 1, true), e.message)
        assert.equal(0, sent)
      end)
    end
  end

  it("each paginated operation has an each_ iterator", function()
    local c = fsx.new{ region = "us-east-1", endpoint_url = "https://x.example.com",
      credentials = { access_key_id = "AKIDEXAMPLE", secret_access_key = "secret-secret" },
      transport = function() end }
    local n = 0
    for _, decl in pairs(api.operations) do
      if decl.paginator then
        local method = require("fsx.paginate").method_name(decl)
        assert.is_function(c[method], method)
        n = n + 1
      end
    end
    assert.equal(7, n)
    assert.is_function(c.each_backup)
    assert.is_function(c.each_file_system)
    assert.is_function(c.each_volume)
  end)
end)
