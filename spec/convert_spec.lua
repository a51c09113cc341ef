-- Output conversion (fsx.shape.output) against a plain recursive reference
-- written here from the rule in fsx/shape.lua:
-- structure members renamed to their snake names and converted by their own
-- shape, other keys through names.to_snake (recursively), lists kept in
-- order, map keys kept, JSON nulls dropped, nesting past 200 tables gives nil.
-- Random answers are generated from the real output shapes of the model,
-- with nulls, keys the model does not declare, values of the wrong type and
-- tables that are not arrays mixed in.
local api = require "fsx.api"
local names = require "fsx.names"
local shape = require "fsx.shape"
local cjson = require "cjson"

local NULL = cjson.null
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

local function ref_value(name, v, depth)
  if v == NULL then return nil end
  if type(v) ~= "table" then return v end
  local s = SHAPES[name]
  if not s then return v end
  depth = depth + 1
  if depth > 200 then return nil end
  if s.type == "structure" then
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
    if v[1] == nil and next(v) ~= nil then return ref_generic(v, depth) end
    local o, n = {}, 0
    for i = 1, #v do
      if v[i] ~= NULL then n = n + 1; o[n] = ref_value(s.member, v[i], depth) end
    end
    return o
  elseif s.type == "map" then
    local o = {}
    for k, x in pairs(v) do
      if x ~= NULL then o[k] = ref_value(s.value, x, depth) end
    end
    return o
  end
  return ref_generic(v, depth)
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

function gen_value(name, depth)
  local s = SHAPES[name]
  if rnd(25) == 1 then return NULL end
  if rnd(40) == 1 then return gen_unknown(depth) end -- a value of the wrong type
  if not s or depth > 6 then return gen_scalar() end
  if s.type == "structure" then
    local o = {}
    for _, m in ipairs(s.members or {}) do
      if rnd(3) ~= 1 then o[m.name] = gen_value(m.shape, depth + 1) end
    end
    if rnd(4) == 1 then o[unknown_key()] = gen_unknown(depth) end
    return o
  elseif s.type == "list" then
    if rnd(30) == 1 then return { NotAnArray = gen_scalar() } end
    local o = {}
    for i = 1, rnd(4) - 1 do o[i] = gen_value(s.member, depth + 1) end
    return o
  elseif s.type == "map" then
    local o = {}
    for _ = 1, rnd(3) do o["Key" .. rnd(9)] = gen_value(s.value, depth + 1) end
    return o
  end
  return gen_scalar()
end

describe("output conversion", function()
  local OPS = { "DescribeFileSystems", "DescribeBackups", "DescribeVolumes", "CreateBackup",
                "DescribeStorageVirtualMachines", "DescribeSnapshots", "CopyBackup",
                "DescribeDataRepositoryTasks", "UpdateFileSystem", "DescribeFileCaches" }

  it("matches the reference on 600 generated answers of 10 operations", function()
    local compared = 0
    for round = 1, 60 do
      for _, op in ipairs(OPS) do
        local decl = api.operations[op]
        local v = gen_value(decl.output, 0)
        if type(v) == "table" then
          local want = ref_value(decl.output, v, 0)
          assert.are.same(want, shape.output(op, v), op .. " round " .. round)
          compared = compared + 1
        end
      end
    end
    assert.is_true(compared >= 500, compared .. " answers compared")
  end)

  it("drops nulls, renames keys the model lacks, keeps map keys", function()
    local out = shape.output("DescribeBackups", {
      Backups = { NULL, { BackupId = "backup-1", NewFieldX = { DeepKey = NULL, OtherKey = 1 },
                          Tags = { { Key = "k", Value = NULL } } } },
      NextToken = NULL })
    assert.are.same({ backups = { { backup_id = "backup-1", new_field_x = { other_key = 1 },
                                    tags = { { key = "k" } } } } }, out)
  end)

  it("gives nil past 200 nested tables, as the reference does", function()
    local deep = { Leaf = 1 }
    for _ = 1, 250 do deep = { Down = deep } end
    local out = shape.output("CreateBackup", { Backup = { Unknown = deep } })
    local want = ref_value(api.operations.CreateBackup.output, { Backup = { Unknown = deep } }, 0)
    assert.are.same(want, out)
    local t, levels = out.backup.unknown, 0
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
    local out = shape.output("DescribeFileSystems", answer)
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
    local out = shape.output("CreateBackup", { Backup = backup })
    assert.equal("backup-1", out.backup.backup_id)
    assert.equal(5000, out.backup.future_field5000)
    assert.equal(1, out.backup.future_field1)
    local n = 0
    for _ in pairs(out.backup) do n = n + 1 end
    assert.equal(5001, n)
  end)
end)
