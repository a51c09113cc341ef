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

-- The operations of the generated answers.
local OPS = { "DescribeFileSystems", "DescribeBackups", "DescribeVolumes", "CreateBackup",
              "DescribeStorageVirtualMachines", "DescribeSnapshots", "CopyBackup",
              "DescribeDataRepositoryTasks", "UpdateFileSystem", "DescribeFileCaches" }

-- A CreateBackup answer as the service writes it.
local RESPONSE = [[{
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

-- fsx.output has two walkers (the Lua one and fsx.core.answer_walker) and
-- uses one per runtime: every case of this block runs through each of them,
-- on every runtime.
local WALKERS = { "lua", "c" }

for _, walker in ipairs(WALKERS) do describe("output conversion (" .. walker .. " walker)", function()
  setup(function() output._use_walker(walker) end)
  teardown(function() output._use_walker() end)

  it("matches the reference on 600 generated answers of 10 operations", function()
    seed = 12345 -- the same answers for each walker
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
    it("converts a CreateBackup response to snake_case", function()
      local out = output.convert("create_backup", cjson.decode(RESPONSE))
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
      local body = cjson.decode(RESPONSE)
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
end) end

-- The two walkers side by side: each case goes through both, which must give
-- the same result, with numbers of the same subtype (Lua 5.3+), or the same
-- error.
describe("the Lua and C answer walkers", function()
  local math_type = rawget(math, "type")

  local function identical(v, w, where)
    assert.equal(type(v), type(w), where)
    if type(v) == "number" and math_type then assert.equal(math_type(v), math_type(w), where) end
    if type(v) ~= "table" then
      assert.equal(v, w, where)
      return
    end
    for k, x in pairs(v) do identical(x, w[k], where .. "[" .. tostring(k) .. "]") end
    for k in pairs(w) do assert(v[k] ~= nil, where .. ": only the C walker has " .. tostring(k)) end
  end

  -- fn() under each walker: the same result or the same error. Returns the
  -- Lua walker's pcall results.
  local function through_both(fn)
    local runs = {}
    for i, w in ipairs(WALKERS) do
      output._use_walker(w)
      runs[i] = { pcall(fn) }
    end
    output._use_walker()
    local l, c = runs[1], runs[2]
    assert.equal(l[1], c[1], "lua: " .. tostring(l[2]) .. ", c: " .. tostring(c[2]))
    if l[1] then
      identical(l[2], c[2], "result")
    else
      assert.equal(tostring(l[2]), tostring(c[2]))
      for _, f in ipairs{ "kind", "code", "operation", "message", "retryable" } do
        assert.equal(l[2][f], c[2][f], f)
      end
    end
    return l[1], l[2]
  end

  local function both(op, answer)
    return through_both(function() return output.convert(op, answer) end)
  end

  local function refused_by_both(op, answer)
    local ok, err = both(op, answer)
    assert.is_false(ok, "converted by both")
    return err.message
  end

  local function copy(v)
    if type(v) ~= "table" then return v end
    local o = {}
    for k, x in pairs(v) do o[k] = copy(x) end
    return o
  end

  it("give the same results and messages on the 600 generated answers", function()
    seed = 12345
    local refused = 0
    for _ = 1, 60 do
      for _, op in ipairs(OPS) do
        local v = gen_value(api.operations[op].output, 0)
        if type(v) == "table" and not both(op, v) then refused = refused + 1 end
      end
    end
    assert.is_true(refused >= 50, refused .. " answers refused")
  end)

  it("drop JSON nulls everywhere", function()
    local _, out = both("DescribeBackups", {
      Backups = { NULL, { BackupId = NULL, Tags = { NULL, { Key = "k", Value = NULL } },
                          NewFieldX = { DeepKey = NULL, List = { NULL, 1, NULL, { A = NULL } } } }, NULL },
      NextToken = NULL })
    assert.are.same({ backups = { { tags = { { key = "k" } }, new_field_x = { list = { 1, {} } } } } }, out)
  end)

  it("convert members the model lacks generically, nested objects and arrays", function()
    local _, out = both("DescribeBackups", {
      Backups = { { BackupId = "b",
                    FutureThing = { InnerObject = { DeepKey = "x", ArrayOfObjects = { { KeyA = 1 }, { 2, { KeyB = true } } } },
                                    EmptyArray = {}, [7] = "number key", ["Odd\0Key\255"] = 1, DNSName2 = "x" } } },
      BrandNewTop = { { SomeKey = 1 }, "two" } })
    assert.are.same({ backups = { { backup_id = "b",
                      future_thing = { inner_object = { deep_key = "x", array_of_objects = { { key_a = 1 }, { 2, { key_b = true } } } },
                                       empty_array = {}, [7] = "number key", ["odd\0key\255"] = 1, dns_name2 = "x" } } },
                      brand_new_top = { { some_key = 1 }, "two" } }, out)
    -- an operation without an output shape: the whole answer generically
    both("DeleteBackup", { BackupId = "b", Lifecycle = "DELETED", Extra = { { A = NULL, B = { 1 } } } })
  end)

  it("give Integer and Long members as integers where they have integer values", function()
    local _, out = both("DescribeBackups", { Backups = {
      { BackupId = "b", ProgressPercent = 100.0, SizeInBytes = 2 ^ 53, CreationTime = 1700000000.0, NewCount = 7.0,
        FileSystem = { StorageCapacity = 1.5, LustreConfiguration = { PerUnitStorageThroughput = -0.0 } } },
      { BackupId = "c", ProgressPercent = 100, SizeInBytes = 1e300 } } })
    local b = out.backups[1]
    assert.equal("100", tostring(b.progress_percent))
    assert.equal("9007199254740992", string.format("%.0f", b.size_in_bytes))
    assert.equal(1.5, b.file_system.storage_capacity)
    if math_type then
      assert.equal("integer", math_type(b.progress_percent))
      assert.equal("integer", math_type(b.size_in_bytes))
      assert.equal("integer", math_type(b.file_system.lustre_configuration.per_unit_storage_throughput))
      assert.equal("float", math_type(b.creation_time))
      assert.equal("float", math_type(b.new_count))
      assert.equal("integer", math_type(out.backups[2].progress_percent))
      assert.equal("float", math_type(out.backups[2].size_in_bytes))
    end
  end)

  it("keep empty arrays and objects", function()
    both("DescribeBackups", {})
    both("DescribeBackups", { Backups = {} })
    local _, out = both("DescribeBackups", { Backups = { {}, { Tags = {}, FileSystem = {}, NewThing = {} } } })
    assert.are.same({ backups = { {}, { tags = {}, file_system = {}, new_thing = {} } } }, out)
  end)

  it("give nil from the same depth on (201 nested tables)", function()
    local function chain(n)
      local t = { Leaf = 1 }
      for _ = 2, n do t = { Down = t } end
      return t
    end
    -- the answer, its list and the backup are 3 tables: Unknown's chain starts at depth 4
    for n = 195, 200 do
      local _, out = both("DescribeBackups", { Backups = { { Unknown = chain(n) } } })
      local t, levels = out.backups[1].unknown, 0
      while type(t) == "table" do t, levels = t.down, levels + 1 end
      assert.equal(math.min(n, 197), levels, n .. " nested")
    end
    local fs = { FileSystemId = "fs-leaf" }
    for i = 1, 70 do
      fs = { FileSystemId = "fs-" .. i, AdministrativeActions = { { TargetFileSystemValues = fs } } }
      if i >= 62 then both("DescribeFileSystems", { FileSystems = { fs } }) end
    end
  end)

  it("refuse a value of the wrong type at every place of an answer, with the same message", function()
    local answer = cjson.decode(RESPONSE)
    local wrongs = { "s", 1, true, {}, { 1 }, { K = 1 }, { { K = 1 } } }
    local places, refused = 0, 0
    -- every path of the answer, each replaced by each wrong value
    local function each_place(v, trail)
      for k, x in pairs(v) do
        local at = { k }
        for i = #trail, 1, -1 do table.insert(at, 1, trail[i]) end
        for _, bad in ipairs(wrongs) do
          local a = copy(answer)
          local t = a
          for i = 1, #at - 1 do t = t[at[i]] end
          t[at[#at]] = copy(bad)
          places = places + 1
          if not both("CreateBackup", a) then refused = refused + 1 end
        end
        if type(x) == "table" then each_place(x, at) end
      end
    end
    each_place(answer, {})
    assert.is_true(places > 300, places .. " places")
    assert.is_true(refused > 150, refused .. " refused")
  end)

  it("word the refusals alike", function()
    local function backup(extra)
      local b = { BackupId = "b", Lifecycle = "AVAILABLE", Type = "USER_INITIATED", CreationTime = 1,
                  FileSystem = { FileSystemId = FS } }
      for k, v in pairs(extra) do b[k] = v end
      return { Backup = b }
    end
    local prefix = "the service's answer has "
    assert.equal(prefix .. "an array at the top where the model has an object (DescribeBackupsResponse)",
                 refused_by_both("DescribeBackups", { 1, 2 }))
    assert.equal(prefix .. "an array at .backup.tags[2] where the model has an object (Tag)",
                 refused_by_both("CreateBackup", backup{ Tags = { { Key = "k" }, { "x" } } }))
    assert.equal(prefix .. "an object at .backup.tags where the model has an array (Tags)",
                 refused_by_both("CreateBackup", backup{ Tags = { Key = "k" } }))
    assert.equal(prefix .. "a string at .backup.tags where the model has an array (Tags)",
                 refused_by_both("CreateBackup", backup{ Tags = "k" }))
    assert.equal(prefix .. "a boolean at .backup.creation_time where the model has a timestamp (CreationTime)",
                 refused_by_both("CreateBackup", backup{ CreationTime = true }))
    assert.equal(prefix .. "a string at .backups[3].file_system.storage_capacity where the model has a number "
                 .. "(StorageCapacity)",
                 refused_by_both("DescribeBackups", { Backups = { NULL, {}, { FileSystem = { StorageCapacity = "1" } } } }))
  end)

  describe("on maps and documents", function()
    local put, take = require("helpers").shapes{
      SpecWalkResponse = { type = "structure", members = {
        { name = "Labels", snake = "labels", shape = "SpecWalkMap" },
        { name = "Nodes", snake = "nodes", shape = "SpecWalkNodes" } } },
      SpecWalkMap = { type = "map", key = "TagKey", value = "SpecWalkNode" },
      SpecWalkNodes = { type = "list", member = "SpecWalkNode" },
      SpecWalkNode = { type = "structure", members = {
        { name = "Count", snake = "count", shape = "SpecWalkCount" },
        { name = "When", snake = "when", shape = "SpecWalkTime" },
        { name = "Children", snake = "children", shape = "SpecWalkMap" },
        { name = "Doc", snake = "doc", shape = "SpecWalkDoc" } } },
      SpecWalkCount = { type = "integer" },
      SpecWalkDoc = { type = "document" },
      SpecWalkTime = { type = "timestamp" },
    }
    setup(put)
    teardown(take)
    local decl = { name = "SpecWalk", snake = "spec_walk", output = "SpecWalkResponse" }
    local ODD = { 'a"b', "\0", "\255\254", "line\nbreak", "日本", "", "1", "\\", "%s" }

    it("keep the keys, odd bytes and all, and convert the values", function()
      local labels = {}
      for i, k in ipairs(ODD) do labels[k] = { Count = i + 0.0, When = "2026-12-06", Children = { [k] = { Count = 1 } } } end
      labels.gone = NULL
      local _, out = both(decl, { Labels = labels, Nodes = { { Children = labels } } })
      for i, k in ipairs(ODD) do
        assert.equal(i, out.labels[k].count)
        assert.equal(1, out.nodes[1].children[k].children[k].count)
      end
      assert.is_nil(out.labels.gone)
    end)

    it("name a refused value by its map keys", function()
      for _, k in ipairs(ODD) do
        local msg = refused_by_both(decl, { Labels = { ok = { Count = 1 }, [k] = { Children = { [k] = { Count = "x" } } } } })
        local q = string.format("%q", k)
        assert.equal("the service's answer has a string at .labels[" .. q .. "].children[" .. q .. "].count "
                     .. "where the model has a number (SpecWalkCount)", msg)
        refused_by_both(decl, { Nodes = { { Children = { [k] = { When = {} } } } } })
      end
      assert.equal("the service's answer has an array at .labels where the model has an object (SpecWalkMap)",
                   refused_by_both(decl, { Labels = { { Count = 1 } } }))
    end)

    it("convert a document generically, to the same depth", function()
      local _, out = both(decl, { Nodes = { { Doc = "x" }, { Doc = 5 }, { Doc = { SomeKey = { NULL, { InnerKey = 1 } } } } } })
      assert.are.same({ nodes = { { doc = "x" }, { doc = 5 }, { doc = { some_key = { { inner_key = 1 } } } } } }, out)
      -- the answer, its list and the node are 3 tables: the document starts at depth 4
      for n = 195, 200 do
        local doc = { Leaf = 1 }
        for _ = 2, n do doc = { Down = doc } end
        _, out = both(decl, { Nodes = { { Doc = doc } } })
        local t, levels = out.nodes[1].doc, 0
        while type(t) == "table" do t, levels = t.down, levels + 1 end
        assert.equal(math.min(n, 197), levels, n .. " nested")
      end
    end)
  end)

  it("fill a shape's plan on its first use, in the middle of a walk", function()
    -- fresh copies of fsx.output have no plans yet
    local function fresh(walker)
      local saved = package.loaded["fsx.output"]
      package.loaded["fsx.output"] = nil
      local m = require "fsx.output"
      package.loaded["fsx.output"] = saved
      m._use_walker(walker)
      return m
    end
    local answer = cjson.decode(RESPONSE)
    local l, c = fresh("lua"), fresh("c")
    for _ = 1, 2 do identical(l.convert("CreateBackup", answer), c.convert("CreateBackup", answer), "result") end
    local bad = { Backups = { { BackupId = "b", Tags = { { Key = "k" } },
                                FileSystem = { LustreConfiguration = { LogConfiguration = { Level = 5 } } } } } }
    l, c = fresh("lua"), fresh("c")
    local lok, lerr = pcall(l.convert, "DescribeBackups", bad)
    local cok, cerr = pcall(c.convert, "DescribeBackups", bad)
    assert.is_false(lok)
    assert.is_false(cok)
    assert.equal(lerr.message, cerr.message)
    assert.truthy(cerr.message:find("at .backups[1].file_system.lustre_configuration.log_configuration.level", 1, true))
  end)

  it("C walker: returns a refused value with its plan and path; raises on a malformed plan", function()
    local core = require "fsx.core"
    local path, map_key = {}, {}
    local walk = core.answer_walker(function() return false end, names.to_snake, NULL, path, map_key)
    local str = { name = "S", type = "string", want = "string" }
    local list = { name = "L", type = "list", want = "table", item = { plan = str } }
    local out, bad, plan, at = walk(list, { "a", NULL, 5 })
    assert.is_nil(out)
    assert.equal(5, bad)
    assert.equal(str, plan)
    assert.equal(1, at)
    assert.equal(3, path[1])
    assert.is_false(map_key[1])
    assert.are.same({ "a", "b" }, walk(list, { "a", NULL, "b" }))
    assert.has_error(function() walk({ name = "X", type = "structure", want = "table" }, { A = 1 }) end,
                     "fsx.core: answer walker: a structure plan without members")
    assert.has_error(function() walk({ name = "X", type = "map", want = "table" }, { A = 1 }) end,
                     "fsx.core: answer walker: a list or map plan without item")
    assert.has_error(function() core.answer_walker(nil, names.to_snake, NULL, path, map_key) end)
    assert.has_error(function() core.answer_walker(print, names.to_snake, {}, path, map_key) end)
  end)

  it("give the same error_fields", function()
    for _, case in ipairs{
      { "IncompatibleParameterError", { Parameter = "StorageCapacity", Message = "bad" }, { parameter = "StorageCapacity" } },
      { "IncompatibleParameterError", { Parameter = 5 }, {} },
      { "IncompatibleParameterError", { Parameter = { "x" } }, {} },
      { "com.amazonaws.fsx#ServiceLimitExceeded", { Limit = "TOTAL_STORAGE", Extra = 1 }, { limit = "TOTAL_STORAGE" } },
      { "ServiceLimitExceeded", { Limit = { A = 1 } }, {} },
      { "BackupInProgress", { Message = "m" }, {} },
      { "NoSuchCode", { A = 1 }, {} },
    } do
      local ok, out = through_both(function() return output.error_fields(case[1], case[2]) end)
      assert.is_true(ok)
      assert.are.same(case[3], out)
    end
  end)
end)
