-- One client class: `require("fsx.client").new{}`,
-- `fsx.new{}`, `fsx.default_client()` and the module shortcuts
-- (`fsx.create_backup{...}`) give the same object with the same methods and
-- the same behaviour, whatever was required first, and requiring `fsx`
-- changes no client that exists.
--
-- The order of requires matters, so each case runs in a fresh interpreter
-- (the one running this spec) against the local FSx server; the child prints
-- what it saw as JSON.
--
-- Argument tables with a metatable are read through normal
-- indexing: defaults through `__index`, class instances, for the generated
-- methods, `call`, the add-ons and the iterators; a metamethod that raises is
-- a validation error naming `args`, and nothing is sent.
local cjson = require "cjson"
local helpers = require "helpers"

local LUA = helpers.LUA
local BUILD = helpers.BUILD
local q = helpers.q
local FS = "fs-0123456789abcdef0"

-- The child's common part: the method names of a client, and a run of the
-- add-on methods (create_backup with copy_tags and a wait, each_backup,
-- wait_for_backup, prune_backups, paginate) through whatever `c` is.
local PRELUDE = [[
local cjson = require "cjson"
local function methods(c)
  local names = {}
  local mt = getmetatable(c)
  for k, v in pairs(mt.__index) do
    if type(v) == "function" and k:sub(1, 1) ~= "_" then names[#names + 1] = k end
  end
  table.sort(names)
  return names
end
local function exercise(c)
  local b = c:create_backup{ file_system_id = FS, copy_tags = "merge", tags = { Name = "cls" },
                             wait = { timeout = 30, min_delay = 0.05, max_delay = 0.1 } }
  local n = 0
  for _ in c:each_backup{ backup_ids = { b.backup_id } } do n = n + 1 end
  local w = c:wait_for_backup(b.backup_id, { timeout = 5, min_delay = 0.05, max_delay = 0.1 })
  local plan = c:prune_backups{ file_system_id = FS, keep_last = 100, dry_run = true }
  local pages = 0
  for _ in c:paginate("describe_backups", {}) do pages = pages + 1 end
  return { lifecycle = b.lifecycle, tagged = b.tags ~= nil, each = n, waited = w.lifecycle,
           pruned = type(plan) == "table", pages = pages }
end
local out = {}
]]

local function run_child(server, body)
  local code = "FS = " .. string.format("%q", FS) .. "\n" .. PRELUDE .. body ..
               "\nio.write(cjson.encode(out))\n"
  local dir = helpers.tmpdir()
  helpers.write_file(dir .. "/child.lua", code)
  local env = table.concat({
    "LUA_PATH=" .. q(helpers.ROOT .. "/lua/?.lua;" .. helpers.ROOT .. "/lua/?/init.lua;;"),
    "LUA_CPATH=" .. q(helpers.ROOT .. "/" .. BUILD .. "/?.so;;"),
    "AWS_REGION=us-east-1", "AWS_ENDPOINT_URL=" .. q(server.url),
    "AWS_ACCESS_KEY_ID=" .. q(helpers.credentials().access_key_id),
    "AWS_SECRET_ACCESS_KEY=" .. q(helpers.credentials().secret_access_key),
    "AWS_CONFIG_FILE=/nonexistent", "AWS_SHARED_CREDENTIALS_FILE=/nonexistent",
    "AWS_EC2_METADATA_DISABLED=true",
  }, " ")
  local out, rc = helpers.run("env -i PATH=/usr/bin:/bin " .. env .. " " .. LUA .. " " ..
                              q(dir .. "/child.lua") .. " 2>&1")
  helpers.rmdir(dir)
  assert(rc == 0, "the child failed: " .. out)
  return cjson.decode(out)
end

describe("one client class", function()
  local server

  lazy_setup(function()
    server = helpers.start_fsx_server()
    server:config{ backup_seconds = 0 }
  end)

  lazy_teardown(function()
    if server then server:stop() end
  end)

  it("fsx.client.new before anything requires fsx: the whole class, unchanged by require 'fsx'", function()
    local out = run_child(server, [[
      local c = require("fsx.client").new{}
      out.before = methods(c)
      out.loaded_fsx_before = package.loaded.fsx ~= nil
      out.run = exercise(c)
      local fsx = require "fsx"
      out.after = methods(c)
      out.same_mt = getmetatable(fsx.new{}) == getmetatable(c)
    ]])
    assert.is_false(out.loaded_fsx_before)
    assert.same(out.before, out.after)
    assert.is_true(out.same_mt)
    for _, m in ipairs{ "wait_for_backup", "wait_for_backups", "wait_for_file_system",
                        "wait_for_volumes", "each_backup", "each_file_system", "prune_backups",
                        "restore_volume", "copy_backup", "paginate", "close" } do
      local found = false
      for _, name in ipairs(out.before) do found = found or name == m end
      assert.is_true(found, "fsx.client.new{} has no " .. m)
    end
    assert.same({ lifecycle = "AVAILABLE", tagged = true, each = 1, waited = "AVAILABLE",
                  pruned = true, pages = 1 }, out.run)
  end)

  describe("argument tables with a metatable", function()
    local fsx = require "fsx"
    local c

    before_each(function()
      c = fsx.new{ region = "us-east-1", endpoint_url = server.url, credentials = helpers.credentials() }
    end)

    local function with_defaults(own, defaults)
      return setmetatable(own, { __index = defaults })
    end

    it("are read through __index by every kind of method", function()
      local b = c:create_backup(with_defaults({ tags = { Name = "mt" } }, { file_system_id = FS }))
      assert.equal(FS, b.file_system.file_system_id)
      local Query = {}
      Query.__index = Query
      Query.backup_ids = { b.backup_id }
      local found = c:describe_backups(setmetatable({}, Query))
      assert.equal(b.backup_id, found.backups[1].backup_id)
      local raw = c:call("DescribeBackups", with_defaults({}, { BackupIds = { b.backup_id } }))
      assert.equal(b.backup_id, raw.Backups[1].BackupId)
      local n = 0
      for item in c:each_backup(setmetatable({}, Query)) do
        n = n + 1
        assert.equal(b.backup_id, item.backup_id)
      end
      assert.equal(1, n)
      for page in c:paginate("describe_backups", setmetatable({}, Query)) do
        assert.equal(b.backup_id, page.backups[1].backup_id)
      end
      local plan = c:prune_backups(with_defaults({ dry_run = true }, { file_system_id = FS, keep_last = 100 }))
      assert.is_true(plan.dry_run)
      local copy = c:copy_backup(with_defaults({}, { source_backup_id = b.backup_id,
                                                     source_region = "us-east-1" }))
      assert.is_string(copy.backup_id)
    end)

    it("a metamethod that raises is a validation error naming args, and nothing is sent", function()
      local before = #server:requests()
      local raising = setmetatable({}, { __index = function() error("boom") end })
      for _, f in ipairs{
        function() return c:create_backup(raising) end,
        function() return c:describe_backups(raising) end,
        function() return c:call("DescribeBackups", raising) end,
        function() return c:each_backup(raising) end,
        function() return c:prune_backups(raising) end,
      } do
        local ok, err = pcall(f)
        assert.is_false(ok)
        assert.equal("validation", err.kind, tostring(err))
        assert.truthy(err.message:find("args", 1, true), err.message)
      end
      assert.equal(before, #server:requests())
    end)
  end)

  it("fsx.new, fsx.client.new, fsx.default_client and the shortcuts behave the same", function()
    local out = run_child(server, [[
      local fsx = require "fsx"
      local made = { fsx.new{}, require("fsx.client").new{}, fsx.default_client() }
      out.methods = {}
      out.runs = {}
      for i, c in ipairs(made) do
        out.methods[i] = methods(c)
        out.runs[i] = exercise(c)
      end
      out.same_default = fsx.default_client() == made[3]
      local b = fsx.create_backup{ file_system_id = FS, copy_tags = "merge", wait = { timeout = 30, min_delay = 0.05, max_delay = 0.1 } }
      out.shortcut = b.lifecycle
      local n = 0
      for _ in fsx.each_backup{ backup_ids = { b.backup_id } } do n = n + 1 end
      out.shortcut_each = n
      out.shortcut_wait = fsx.wait_for_backup(b.backup_id, { timeout = 5 }).lifecycle
      fsx.reset_default_client()
      out.fresh_default = fsx.default_client() ~= made[3]
    ]])
    assert.same(out.methods[1], out.methods[2])
    assert.same(out.methods[1], out.methods[3])
    for i = 1, 3 do
      assert.same({ lifecycle = "AVAILABLE", tagged = true, each = 1, waited = "AVAILABLE",
                    pruned = true, pages = 1 }, out.runs[i])
    end
    assert.is_true(out.same_default)
    assert.equal("AVAILABLE", out.shortcut)
    assert.equal(1, out.shortcut_each)
    assert.equal("AVAILABLE", out.shortcut_wait)
    assert.is_true(out.fresh_default)
  end)
end)
