-- fsx.tags: normal form, globs, the copy_tags policies and their limits (pure,
-- no server; create_backup with these policies against the local server is in
-- backup_spec.lua).
local tags = require "fsx.tags"
local errors = require "fsx.error"

-- the error raised by f(...), asserting it is an fsx validation error
local function verr(f, ...)
  local ok, err = pcall(f, ...)
  assert.is_false(ok, "expected an error")
  assert.is_true(errors.is_error(err), "not an fsx error: " .. tostring(err))
  assert.equal("validation", err.kind)
  return err
end

local function keys(list)
  local out = {}
  for i, t in ipairs(list) do out[i] = t.key end
  return out
end

local function n_tags(n, prefix)
  local list = {}
  for i = 1, n do list[i] = { key = string.format("%s%02d", prefix or "tag", i), value = "v" .. i } end
  return list
end

describe("tags.normalize", function()
  it("turns a map into a list sorted by key", function()
    assert.same({ { key = "Name", value = "x" }, { key = "env", value = "prod" } },
                tags.normalize{ env = "prod", Name = "x" })
  end)

  it("keeps a list's order and accepts API names and numbers", function()
    assert.same({ { key = "b", value = "1" }, { key = "a", value = "" }, { key = "c", value = "30" } },
                tags.normalize{ { key = "b", value = "1" }, { Key = "a", Value = "" },
                                { key = "c", value = 30 } })
  end)

  it("gives an empty list for nil and {}", function()
    assert.same({}, tags.normalize(nil))
    assert.same({}, tags.normalize({}))
  end)

  it("rejects duplicate keys, mixed tables and bad values, naming the field", function()
    local e = verr(tags.normalize, { { key = "a", value = "1" }, { key = "a", value = "2" } },
                   "tags", "create_backup")
    assert.matches("^create_backup: tags%[2%]: key 'a' given twice", e.message)
    e = verr(tags.normalize, { { key = "a", value = "1" }, b = "2" })
    assert.matches("either a map or a list", e.message)
    e = verr(tags.normalize, { a = {} })
    assert.matches("tags.a: value must be a string", e.message)
    verr(tags.normalize, "Name=x")
    verr(tags.normalize, { { value = "x" } })
  end)

  it("does not alias the input", function()
    local input = { { key = "a", value = "1" } }
    local out = tags.normalize(input)
    out[1].value = "changed"
    assert.equal("1", input[1].value)
  end)
end)

describe("tags.char_length and globs", function()
  it("counts Unicode characters, not bytes, and rejects bad UTF-8", function()
    assert.equal(3, tags.char_length("été"))
    assert.equal(6, tags.char_length("プロジェクト"))
    assert.equal(1, tags.char_length("\240\159\146\190"))
    assert.is_nil(tags.char_length("\192\128"))      -- overlong NUL
    assert.is_nil(tags.char_length("\237\160\128"))  -- a surrogate
    assert.is_nil(tags.char_length("abc\255"))
  end)

  it("matches * and ? over characters, everything else literally", function()
    assert.is_true(tags.match("cost-*", "cost-center"))
    assert.is_true(tags.match("*", ""))
    assert.is_true(tags.match("a?c", "abc"))
    assert.is_true(tags.match("?quipe", "équipe"))
    assert.is_false(tags.match("a.c", "abc"))        -- '.' is literal
    assert.is_true(tags.match("a.c", "a.c"))
    assert.is_false(tags.match("Name", "name"))      -- case-sensitive
    assert.is_true(tags.match("*:*:*", "aws:cloudformation:stack"))
    assert.is_false(tags.match("a*b", "acd"))
    assert.is_true(tags.match(function(k) return #k == 3 end, "abc"))
  end)

  it("filters with include then exclude", function()
    local list = tags.normalize{ Name = "n", ["cost-center"] = "1", ["cost-owner"] = "2", env = "p" }
    assert.same({ "cost-center", "cost-owner" }, keys(tags.filter(list, { "cost-*" })))
    assert.same({ "cost-owner" }, keys(tags.filter(list, { "cost-*" }, { "*center" })))
    assert.same({ "Name", "env" }, keys(tags.filter(list, nil, { "cost-*" })))
    assert.same({ "Name", "cost-center", "cost-owner", "env" }, keys(tags.filter(list, {}, {})))
  end)
end)

describe("tags.POLICIES", function()
  local fs = tags.normalize{ Name = "share", team = "storage" }
  local caller = tags.normalize{ Name = "nightly", job = "42" }

  it("has the four named policies", function()
    assert.same({ "file_system", "merge", "none", "replace" }, tags.policy_names())
  end)

  it("merge: the file system's tags plus the caller's, the caller winning", function()
    assert.same({ { key = "Name", value = "nightly" }, { key = "team", value = "storage" },
                  { key = "job", value = "42" } }, tags.POLICIES.merge(fs, caller))
  end)

  it("none and replace give the caller's, file_system the file system's", function()
    assert.same(caller, tags.POLICIES.none(fs, caller))
    assert.same(caller, tags.POLICIES.replace(fs, caller))
    assert.same(fs, tags.POLICIES.file_system(fs, {}))
  end)

  it("never modify their arguments", function()
    local f, c = tags.normalize{ a = "1" }, tags.normalize{ a = "2" }
    local out = tags.POLICIES.merge(f, c)
    out[1].value = "x"
    assert.same({ { key = "a", value = "1" } }, f)
    assert.same({ { key = "a", value = "2" } }, c)
  end)
end)

describe("tags.apply", function()
  local FS = { file_system_id = "fs-0123456789abcdef0",
               windows_configuration = { copy_tags_to_backups = true } }
  local FS_OFF = { file_system_id = "fs-0fedcba9876543210",
                   lustre_configuration = { copy_tags_to_backups = false } }

  it("merges with the caller winning, as maps or lists", function()
    local out = tags.apply("merge", { { key = "Name", value = "share" }, { key = "team", value = "s" } },
                           { Name = "nightly" }, FS)
    assert.same({ { key = "Name", value = "nightly" }, { key = "team", value = "s" } }, out)
  end)

  it("always drops aws: keys, in any letter case, on both sides", function()
    local out = tags.apply("merge",
      { { key = "aws:cloudformation:stack-name", value = "s" }, { key = "Name", value = "n" } },
      { ["AWS:x"] = "1", ["Aws:y"] = "2", keep = "3" }, FS_OFF)
    assert.same({ "Name", "keep" }, keys(out))
    out = tags.apply("none", nil, { ["aws:x"] = "1" }, FS_OFF)
    assert.same({}, out)
    -- 'aws' without the colon is an ordinary key
    assert.same({ "awsome" }, keys(tags.apply("replace", nil, { awsome = "1" }, FS_OFF)))
  end)

  it("file_system refuses caller tags and names the policy", function()
    local e = verr(tags.apply, "file_system", { Name = "x" }, { job = "1" }, FS, "create_backup")
    assert.matches("^create_backup: copy_tags: policy 'file_system'", e.message)
    assert.matches("merge", e.message)
    assert.equal("copy_tags", e.field)
    assert.same({ "Name" }, keys(tags.apply("file_system", { Name = "x" }, nil, FS)))
  end)

  it("applies include/exclude to the copied tags only", function()
    local policy = { policy = "merge", include = { "cost-*", "Name" }, exclude = { "cost-secret" } }
    local out = tags.apply(policy,
      { Name = "n", ["cost-center"] = "1", ["cost-secret"] = "2", env = "prod" },
      { ["cost-secret"] = "mine", other = "o" }, FS)
    assert.same({ { key = "Name", value = "n" }, { key = "cost-center", value = "1" },
                  { key = "cost-secret", value = "mine" }, { key = "other", value = "o" } }, out)
  end)

  it("defaults a table policy to merge and accepts a single pattern", function()
    assert.same({ "a1", "c" }, keys(tags.apply({ include = "a*" }, { a1 = "1", b = "2" }, { c = "3" }, FS)))
  end)

  it("runs a function policy with filtered copies and checks its result", function()
    local seen
    local f = function(fs_tags, caller_tags, resource)
      seen = { #fs_tags, #caller_tags, resource }
      fs_tags[1].value = "mutated"
      return { Owner = fs_tags[1].key .. "+" .. caller_tags[1].value, ["aws:nope"] = "x" }
    end
    local fs_tags = { { key = "Name", value = "n" }, { key = "aws:x", value = "y" } }
    local out = tags.apply({ policy = f, exclude = { "skip" } }, fs_tags, { { key = "k", value = "v" } }, FS)
    assert.same({ { key = "Owner", value = "Name+v" } }, out)
    assert.same({ 1, 1, FS }, seen)
    assert.equal("n", fs_tags[1].value)
    local e = verr(tags.apply, function() return "x" end, {}, {}, FS, "create_backup")
    assert.matches("policy 'function' must return a map or a list", e.message)
    e = verr(tags.apply, function() return { { key = 1, value = "x" } } end, {}, {}, FS)
    assert.matches("policy 'function' returned bad tags", e.message)
  end)

  it("rejects unknown policies and policy fields", function()
    local e = verr(tags.apply, "copy", {}, {}, FS, "create_backup")
    assert.matches("^create_backup: copy_tags: must be one of file_system, merge, none, replace", e.message)
    e = verr(tags.apply, { policy = "merge", exlude = { "x" } }, {}, {}, FS)
    assert.matches("unknown field 'exlude'", e.message)
    verr(tags.apply, { include = { 42 } }, {}, {}, FS)
  end)

  describe("limits", function()
    it("allows 49 + 1 and 50 overriding one, refuses 50 + 1 naming the policy", function()
      assert.equal(50, #tags.apply("merge", n_tags(49), { extra = "x" }, FS))
      assert.equal(50, #tags.apply("merge", n_tags(50), { tag07 = "mine" }, FS))
      local e = verr(tags.apply, "merge", n_tags(50), { extra = "x" }, FS, "create_backup")
      assert.matches("^create_backup: copy_tags: policy 'merge' gives 51 tags, more than the 50", e.message)
      -- excluding some makes it fit
      assert.equal(50, #tags.apply({ exclude = { "tag50" } }, n_tags(50), { extra = "x" }, FS))
    end)

    it("counts key and value lengths in characters", function()
      local k128 = string.rep("é", 128)
      local v256 = string.rep("データ", 85) .. "a"
      assert.equal(1, #tags.apply("replace", nil, { [k128] = v256 }, FS))
      local e = verr(tags.apply, "replace", nil, { [k128 .. "x"] = "" }, FS)
      assert.matches("a key of 129 characters", e.message)
      e = verr(tags.apply, "merge", nil, { k = v256 .. "b" }, FS)
      assert.matches("policy 'merge' gives tag 'k' a value of 257 characters", e.message)
      e = verr(tags.apply, function() return { [""] = "x" } end, nil, nil, FS)
      assert.matches("a key of 0 characters", e.message)
      e = verr(tags.apply, "replace", nil, { k = "\255" }, FS)
      assert.matches("not valid UTF%-8", e.message)
    end)

    it("refuses an empty result that FSx would fill with the resource's tags", function()
      local e = verr(tags.apply, { exclude = { "*" } }, { Name = "x" }, nil, FS, "create_backup")
      assert.matches("policy 'merge' leaves no tag, so FSx would copy all 1 tags", e.message)
      e = verr(tags.apply, "replace", { Name = "x" }, nil, FS)
      assert.matches("policy 'replace'", e.message)
      -- fine when CopyTagsToBackups is off, or the resource has no tag of its own
      assert.same({}, tags.apply("replace", { Name = "x" }, nil, FS_OFF))
      assert.same({}, tags.apply("merge", {}, nil, FS))
      assert.same({}, tags.apply("merge", { ["aws:only"] = "x" }, nil, FS))
    end)
  end)
end)

describe("tags.copy_tags_to_backups", function()
  it("reads every configuration that has the flag", function()
    assert.is_true(tags.copy_tags_to_backups{ open_zfs_configuration = { copy_tags_to_backups = true } })
    assert.is_true(tags.copy_tags_to_backups{ ontap_configuration = { copy_tags_to_backups = true } })
    assert.is_false(tags.copy_tags_to_backups{ lustre_configuration = { copy_tags_to_backups = false } })
    assert.is_nil(tags.copy_tags_to_backups{ file_system_id = "fs-1" })
    assert.is_nil(tags.copy_tags_to_backups(nil))
  end)
end)
