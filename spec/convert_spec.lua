-- Output conversion (fsx.output.convert) against a plain recursive reference
-- written here from the rule in fsx/output.lua:
-- structure members renamed to their snake names and converted by their own
-- shape, other keys through names.to_snake (recursively), lists kept in
-- order, map keys kept, JSON nulls dropped, nesting past 200 tables gives nil;
-- a value of another JSON type than the model's, or an operation's required
-- result missing, is a decode error.
-- Random answers are generated from the real output shapes of the model,
-- with nulls, keys the model does not declare, values of the wrong type and
-- tables that are not arrays mixed in.
local api = require "fsx.api"
local names = require "fsx.names"
local output = require "fsx.output"
local cjson = require "cjson"

local NULL = cjson.null
local FS = "fs-0123456789abcdef0"
local SHAPES = api.shapes

-- The reference conversion.
local ref_generic
function ref_generic(v, depth)
  if type(v) ~= "table" then return v end
  depth = depth + 1
  if depth > 200 then return nil end
  local o = {}
  if v[1] ~= nil then
    local n = 0
    for i = 1, #v do
      if v[i] ~= NULL then n = n + 1; o[n] = ref_generic(v[i], depth) end
    end
    return o
  end
  for k, x in pairs(v) do
    if x ~= NULL then o[type(k) == "string" and names.to_snake(k) or k] = ref_generic(x, depth) end
  end
  return o
end

-- The reference raises WRONG where the answer does not fit the model.
local WRONG = {}
local JSON_TYPE = { structure = "table", map = "table", list = "table", string = "string",
                    integer = "number", long = "number", double = "number", float = "number",
                    boolean = "boolean", blob = "string" }

local function ref_value(name, v, depth)
  if v == NULL then return nil end
  local s = SHAPES[name]
  if not s then return ref_generic(v, depth) end
  local want = JSON_TYPE[s.type]
  if want and type(v) ~= want then error(WRONG) end
  if s.type == "timestamp" and type(v) ~= "number" and type(v) ~= "string" then error(WRONG) end
  if type(v) ~= "table" then
    local tointeger = rawget(math, "tointeger")
    if (s.type == "integer" or s.type == "long") and tointeger then return tointeger(v) or v end
    return v
  end
  depth = depth + 1
  if depth > 200 then return nil end
  if s.type == "structure" then
    if v[1] ~= nil then error(WRONG) end
    local by = {}
    for _, m in ipairs(s.members or {}) do by[m.name] = m end
    local o = {}
    for k, x in pairs(v) do
      if x ~= NULL then
        local m = by[k]
        if m then o[m.snake] = ref_value(m.shape, x, depth)
        else o[type(k) == "string" and names.to_snake(k) or k] = ref_generic(x, depth) end
      end
    end
    return o
  elseif s.type == "list" then
    if v[1] == nil and next(v) ~= nil then error(WRONG) end
    local o, n = {}, 0
    for i = 1, #v do
      if v[i] ~= NULL then n = n + 1; o[n] = ref_value(s.member, v[i], depth) end
    end
    return o
  elseif s.type == "map" then
    if v[1] ~= nil then error(WRONG) end
    local o = {}
    for k, x in pairs(v) do
      if x ~= NULL then o[k] = ref_value(s.value, x, depth) end
    end
    return o
  end
  return ref_generic(v, depth - 1)
end

-- The whole answer of an operation: its result, when the operation must
-- return one, is there with the members its structure requires.
local function ref_answer(decl, v)
  if decl.result_required then
    local r = v[decl.result_key]
    if r == nil or r == NULL then error(WRONG) end
    if type(r) == "table" then
      local rs = SHAPES[SHAPES[decl.output].members[1].shape]
      for name in pairs(rs.required or {}) do
        if r[name] == nil or r[name] == NULL then error(WRONG) end
      end
    end
  end
  return ref_value(decl.output, v, 0)
end

-- A small deterministic generator (the same cases on every run and interpreter).
local seed = 12345
local function rnd(n)
  seed = (seed * 16807) % 2147483647 -- exact in doubles too (LuaJIT)
  return seed % n + 1
end

local function unknown_key()
  local parts = { "Future", "New", "DNS", "Arn", "Extra", "V2", "Ip", "Zone" }
  return parts[rnd(#parts)] .. parts[rnd(#parts)] .. rnd(50)
end

local gen_value
local function gen_scalar()
  local r = rnd(5)
  if r == 1 then return "v" .. rnd(1000) elseif r == 2 then return rnd(100000) + 0.5
  elseif r == 3 then return rnd(2) == 1 elseif r == 4 then return NULL end
  return rnd(100)
end

local function gen_unknown(depth)
  if depth > 3 or rnd(3) == 1 then return gen_scalar() end
  if rnd(2) == 1 then return { gen_unknown(depth + 1), gen_unknown(depth + 1), NULL } end
  return { [unknown_key()] = gen_unknown(depth + 1), Inner = gen_scalar() }
end

-- A scalar of the shape's type (numbers as cjson decodes them: floats).
local function gen_typed(s)
  local t = s.type
  if t == "string" then return "v" .. rnd(1000) end
  if t == "integer" or t == "long" then return rnd(3000) + 0.0 end
  if t == "boolean" then return rnd(2) == 1 end
  if t == "timestamp" then return 1700000000 + rnd(1000) + 0.5 end
  return rnd(100000) + 0.5
end

function gen_value(name, depth)
  local s = SHAPES[name]
  if rnd(25) == 1 then return NULL end
  if rnd(400) == 1 then return gen_unknown(depth) end -- most likely a value of the wrong type
  if not s then return gen_scalar() end
  if depth > 6 then return s.type == "structure" and {} or s.type == "list" and {} or gen_typed(s) end
  if s.type == "structure" then
    local o = {}
    for _, m in ipairs(s.members or {}) do
      if rnd(3) ~= 1 then o[m.name] = gen_value(m.shape, depth + 1) end
    end
    if rnd(4) == 1 then o[unknown_key()] = gen_unknown(depth) end
    return o
  elseif s.type == "list" then
    if rnd(300) == 1 then return { NotAnArray = gen_scalar() } end
    local o = {}
    for i = 1, rnd(4) - 1 do o[i] = gen_value(s.member, depth + 1) end
    return o
  elseif s.type == "map" then
    local o = {}
    for _ = 1, rnd(3) do o["Key" .. rnd(9)] = gen_value(s.value, depth + 1) end
    return o
  end
  return gen_typed(s)
end

describe("output conversion", function()
  local OPS = { "DescribeFileSystems", "DescribeBackups", "DescribeVolumes", "CreateBackup",
                "DescribeStorageVirtualMachines", "DescribeSnapshots", "CopyBackup",
                "DescribeDataRepositoryTasks", "UpdateFileSystem", "DescribeFileCaches" }

  it("matches the reference on 600 generated answers of 10 operations", function()
    local converted, refused = 0, 0
    for round = 1, 60 do
      for _, op in ipairs(OPS) do
        local decl = api.operations[op]
        local v = gen_value(decl.output, 0)
        if type(v) == "table" then
          local fits, want = pcall(ref_answer, decl, v)
          local ok, got = pcall(output.convert, op, v)
          if fits then
            assert.is_true(ok, tostring(got))
            assert.are.same(want, got, op .. " round " .. round)
            converted = converted + 1
          else
            assert(want == WRONG, tostring(want))
            assert.is_false(ok, op .. " round " .. round .. ": converted an answer that does not fit")
            assert.are.equal("decode", got.kind)
            assert.are.equal("InvalidResponse", got.code)
            assert.are.equal(op, got.operation)
            refused = refused + 1
          end
        end
      end
    end
    assert.is_true(converted >= 250, converted .. " answers converted")
    assert.is_true(refused >= 50, refused .. " answers refused")
  end)

  it("gives Integer and Long members as integers (Lua 5.3+), other numbers as they are", function()
    local out = output.convert("DescribeBackups", cjson.decode(
      '{"Backups":[{"BackupId":"backup-01234567","ProgressPercent":100,"SizeInBytes":1099511627776,'
      .. '"CreationTime":1700000000,"FileSystem":{"StorageCapacity":1200,'
      .. '"LustreConfiguration":{"PerUnitStorageThroughput":125}},"NewCount":7}]}'))
    local b = out.backups[1]
    assert.equal(100, b.progress_percent)
    assert.equal("100", tostring(b.progress_percent))
    assert.equal("1200", tostring(b.file_system.storage_capacity))
    assert.equal("1099511627776", tostring(b.size_in_bytes))
    local math_type = rawget(math, "type")
    if math_type then
      assert.equal("integer", math_type(b.progress_percent))
      assert.equal("integer", math_type(b.size_in_bytes))
      assert.equal("integer", math_type(b.file_system.storage_capacity))
      assert.equal("integer", math_type(b.file_system.lustre_configuration.per_unit_storage_throughput))
      -- a timestamp is a number of seconds, and a member the model lacks is as cjson gives it
      assert.equal("float", math_type(b.creation_time))
      assert.equal("float", math_type(b.new_count))
    end
  end)

  it("drops nulls, renames keys the model lacks, keeps map keys", function()
    local out = output.convert("DescribeBackups", {
      Backups = { NULL, { BackupId = "backup-1", NewFieldX = { DeepKey = NULL, OtherKey = 1 },
                          Tags = { { Key = "k", Value = NULL } } } },
      NextToken = NULL })
    assert.are.same({ backups = { { backup_id = "backup-1", new_field_x = { other_key = 1 },
                                    tags = { { key = "k" } } } } }, out)
  end)

  it("gives nil past 200 nested tables, as the reference does", function()
    local deep = { Leaf = 1 }
    for _ = 1, 250 do deep = { Down = deep } end
    local out = output.convert("DescribeBackups", { Backups = { { Unknown = deep } } })
    local want = ref_value(api.operations.DescribeBackups.output, { Backups = { { Unknown = deep } } }, 0)
    assert.are.same(want, out)
    local t, levels = out.backups[1].unknown, 0
    while type(t) == "table" do t, levels = t.down, levels + 1 end
    assert.is_true(levels > 150 and levels < 200, levels .. " levels")
  end)

  it("gives nil past 200 nested tables of modelled (recursive) shapes too", function()
    local fs = { FileSystemId = "fs-leaf" }
    for i = 1, 120 do
      fs = { FileSystemId = "fs-" .. i,
             AdministrativeActions = { { AdministrativeActionType = "FILE_SYSTEM_UPDATE",
                                         TargetFileSystemValues = fs } } }
    end
    local answer = { FileSystems = { fs } }
    local out = output.convert("DescribeFileSystems", answer)
    assert.are.same(ref_value(api.operations.DescribeFileSystems.output, answer, 0), out)
    local t, levels = out.file_systems[1], 0
    while type(t) == "table" do
      t = t.administrative_actions and t.administrative_actions[1]
      t = t and t.target_file_system_values
      levels = levels + 1
    end
    assert.is_true(levels > 50 and levels < 100, levels .. " levels")
  end)

  it("converts an answer with more unknown keys than the name cache holds", function()
    local backup = { BackupId = "backup-1" }
    for i = 1, 5000 do backup["FutureField" .. i] = i end
    local out = output.convert("DescribeBackups", { Backups = { backup } }).backups[1]
    assert.equal("backup-1", out.backup_id)
    assert.equal(5000, out.future_field5000)
    assert.equal(1, out.future_field1)
    local n = 0
    for _ in pairs(out) do n = n + 1 end
    assert.equal(5001, n)
  end)

  describe("output", function()
    local response = [[{
      "Backup": {
        "BackupId": "backup-0123456789abcdef0",
        "Lifecycle": "CREATING",
        "Type": "USER_INITIATED",
        "ProgressPercent": 0,
        "CreationTime": 1700000000.123,
        "KmsKeyId": "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
        "ResourceARN": "arn:aws:fsx:us-east-1:123456789012:backup/backup-0123456789abcdef0",
        "Tags": [ { "Key": "Name", "Value": "nightly" }, { "Key": "Größe", "Value": "日本語 テスト" } ],
        "OwnerId": "123456789012",
        "ResourceType": "FILE_SYSTEM",
        "FailureDetails": null,
        "BrandNewField": { "SomeValue": 1, "NestedList": [ { "InnerKey": "x" } ] },
        "FileSystem": {
          "OwnerId": "123456789012",
          "CreationTime": 1690000000,
          "FileSystemId": "fs-0123456789abcdef0",
          "FileSystemType": "LUSTRE",
          "Lifecycle": "AVAILABLE",
          "StorageCapacity": 1200,
          "StorageType": "SSD",
          "VpcId": "vpc-01234567",
          "SubnetIds": [ "subnet-01234567" ],
          "NetworkInterfaceIds": [ "eni-01234567", "eni-89abcdef" ],
          "DNSName": "fs-0123456789abcdef0.fsx.us-east-1.amazonaws.com",
          "KmsKeyId": null,
          "ResourceARN": "arn:aws:fsx:us-east-1:123456789012:file-system/fs-0123456789abcdef0",
          "Tags": [],
          "LustreConfiguration": {
            "WeeklyMaintenanceStartTime": "1:05:00",
            "DataRepositoryConfiguration": {
              "Lifecycle": "AVAILABLE",
              "ImportPath": "s3://bucket/prefix",
              "ImportedFileChunkSize": 1024,
              "AutoImportPolicy": "NEW_CHANGED"
            },
            "DeploymentType": "PERSISTENT_2",
            "PerUnitStorageThroughput": 125,
            "MountName": "abcdefgh",
            "CopyTagsToBackups": true,
            "LogConfiguration": { "Level": "WARN_ERROR",
              "Destination": "arn:aws:logs:us-east-1:123456789012:log-group:/aws/fsx/lustre" }
          },
          "AdministrativeActions": [ {
            "AdministrativeActionType": "FILE_SYSTEM_UPDATE",
            "ProgressPercent": 50,
            "RequestTime": 1690000500,
            "Status": "IN_PROGRESS",
            "TargetFileSystemValues": { "StorageCapacity": 2400, "OntapConfiguration": null }
          } ],
          "FileSystemTypeVersion": "2.12"
        }
      }
    }]]

    it("converts a CreateBackup response to snake_case", function()
      local out = output.convert("create_backup", cjson.decode(response))
      assert.are.same({
        backup = {
          backup_id = "backup-0123456789abcdef0",
          lifecycle = "CREATING",
          type = "USER_INITIATED",
          progress_percent = 0,
          creation_time = 1700000000.123,
          kms_key_id = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
          resource_arn = "arn:aws:fsx:us-east-1:123456789012:backup/backup-0123456789abcdef0",
          tags = { { key = "Name", value = "nightly" }, { key = "Größe", value = "日本語 テスト" } },
          owner_id = "123456789012",
          resource_type = "FILE_SYSTEM",
          brand_new_field = { some_value = 1, nested_list = { { inner_key = "x" } } },
          file_system = {
            owner_id = "123456789012",
            creation_time = 1690000000,
            file_system_id = "fs-0123456789abcdef0",
            file_system_type = "LUSTRE",
            lifecycle = "AVAILABLE",
            storage_capacity = 1200,
            storage_type = "SSD",
            vpc_id = "vpc-01234567",
            subnet_ids = { "subnet-01234567" },
            network_interface_ids = { "eni-01234567", "eni-89abcdef" },
            dns_name = "fs-0123456789abcdef0.fsx.us-east-1.amazonaws.com",
            resource_arn = "arn:aws:fsx:us-east-1:123456789012:file-system/fs-0123456789abcdef0",
            tags = {},
            lustre_configuration = {
              weekly_maintenance_start_time = "1:05:00",
              data_repository_configuration = {
                lifecycle = "AVAILABLE",
                import_path = "s3://bucket/prefix",
                imported_file_chunk_size = 1024,
                auto_import_policy = "NEW_CHANGED",
              },
              deployment_type = "PERSISTENT_2",
              per_unit_storage_throughput = 125,
              mount_name = "abcdefgh",
              copy_tags_to_backups = true,
              log_configuration = { level = "WARN_ERROR",
                destination = "arn:aws:logs:us-east-1:123456789012:log-group:/aws/fsx/lustre" },
            },
            administrative_actions = { {
              administrative_action_type = "FILE_SYSTEM_UPDATE",
              progress_percent = 50,
              request_time = 1690000500,
              status = "IN_PROGRESS",
              target_file_system_values = { storage_capacity = 2400 },
            } },
            file_system_type_version = "2.12",
          },
        },
      }, out)
    end)

    it("accepts the declaration and handles empty or missing bodies", function()
      assert.are.same({}, output.convert(api.operations.DeleteBackup, {}))
      assert.are.same({}, output.convert("delete_backup", nil))
      assert.are.same({}, output.convert("delete_backup", cjson.null))
    end)

    it("converts paginated list responses", function()
      local out = output.convert("DescribeBackups", cjson.decode(
        '{"Backups":[{"BackupId":"backup-01234567","Tags":[{"Key":"k","Value":"v"}]}],"NextToken":"QUJD"}'))
      assert.are.same({ backups = { { backup_id = "backup-01234567", tags = { { key = "k", value = "v" } } } },
                        next_token = "QUJD" }, out)
    end)

    it("converts large listings, every item alike", function()
      local body = cjson.decode(response)
      local list = {}
      for i = 1, 200 do list[i] = body.Backup end
      local out = output.convert("describe_backups", { Backups = list })
      assert.are.equal(200, #out.backups)
      assert.are.same(out.backups[1], out.backups[200])
      assert.are.equal(body.Backup.BackupId, out.backups[200].backup_id)
    end)
  end)

  describe("error_fields", function()
    it("returns the extra members in snake_case", function()
      assert.are.same({ parameter = "StorageCapacity" },
        output.error_fields("IncompatibleParameterError", { Parameter = "StorageCapacity", Message = "bad" }))
      assert.are.same({ limit = "TOTAL_USER_INITIATED_BACKUPS" },
        output.error_fields("ServiceLimitExceeded", { Limit = "TOTAL_USER_INITIATED_BACKUPS", Message = "m" }))
      assert.are.same({ limit = "TOTAL_STORAGE" },
        output.error_fields("com.amazonaws.fsx#ServiceLimitExceeded",
                           { __type = "com.amazonaws.fsx#ServiceLimitExceeded", Limit = "TOTAL_STORAGE" }))
      assert.are.same({ parameter = "X" },
        output.error_fields("IncompatibleParameterError:http://internal.amazon.com/", { Parameter = "X" }))
    end)

    it("returns nothing for errors without extra members or unknown codes", function()
      assert.are.same({}, output.error_fields("BackupInProgress", { Message = "busy" }))
      assert.are.same({}, output.error_fields("ThrottlingException", { message = "slow down" }))
      assert.are.same({}, output.error_fields("IncompatibleParameterError", nil))
      assert.are.same({}, output.error_fields(nil, {}))
      assert.are.same({}, output.error_fields("IncompatibleParameterError", { Parameter = cjson.null }))
      assert.are.same({}, output.error_fields("CreateBackupRequest", { FileSystemId = FS }))
    end)
  end)
end)
