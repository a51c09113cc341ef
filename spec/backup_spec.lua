-- create_backup with copy_tags and wait, the waiters, each_backup pagination,
-- copy_backup and the restore helpers, against the local FSx server
-- (spec/support/fsx_server.py). Waits use an injected clock whose sleep
-- drives the server (or waits a fraction of a second for real).
local fsx = require "fsx"
local helpers = require "helpers"
local tags = require "fsx.tags"

local FS_WINDOWS = "fs-0123456789abcdef0"   -- 2 tags, CopyTagsToBackups on
local FS_NONE = "fs-0fedcba9876543210"      -- Lustre, 0 tags, CopyTagsToBackups off
local FS_ONE = "fs-0000000000000a001"       -- seeded below: 1 tag, CopyTagsToBackups on
local FS_49 = "fs-00000000000000049"        -- OpenZFS, 49 tags, CopyTagsToBackups on
local FS_50 = "fs-00000000000000050"        -- 50 tags (FSx's maximum), CopyTagsToBackups on
local FS_UNICODE = "fs-0a1b2c3d4e5f6a7b8"   -- non-ASCII keys and values
local FS_AWS = "fs-0c0ffee0123456789"       -- has an aws:cloudformation:stack-name tag
local VOL_ONTAP = "fsvol-0123456789abcdef0" -- ONTAP volume, 2 tags, CopyTagsToBackups on

local server, client

local function new_client(extra)
  local o = { region = "us-east-1", endpoint_url = server.url, credentials = helpers.credentials() }
  for k, v in pairs(extra or {}) do o[k] = v end
  return fsx.new(o)
end

local function err_of(f, ...)
  local ok, err = pcall(f, ...)
  assert.is_false(ok, "expected an error")
  assert.is_true(fsx.is_error(err), "not an fsx error: " .. tostring(err))
  return err
end

local function as_map(list)
  local m = {}
  for _, t in ipairs(list or {}) do m[t.key or t.Key] = t.value or t.Value end
  return m
end

local function count(map)
  local n = 0
  for _ in pairs(map) do n = n + 1 end
  return n
end

-- The backup as the server holds it (API names).
local function server_backup(id)
  for _, b in ipairs(server:state().backups) do
    if b.BackupId == id then return b end
  end
end

local function fs_tags(id)
  for _, fs in ipairs(server:state().file_systems) do
    if fs.FileSystemId == id then return as_map(fs.Tags) end
  end
end

-- A clock for the waiter: `sleep` advances it and calls step(n) so the test
-- can move the server's state along.
local function driven_clock(step)
  local c = { t = 0, n = 0 }
  c.now = function() return c.t end
  c.sleep = function(s)
    c.t = c.t + s
    c.n = c.n + 1
    if step then step(c.n) end
  end
  return c
end

lazy_setup(function()
  server = helpers.start_fsx_server()
end)

lazy_teardown(function()
  if server then server:stop() end
end)

before_each(function()
  server:reset()
  server:config{ backup_seconds = 0 }
  server:seed{ file_systems = { {
    FileSystemId = FS_ONE, FileSystemType = "WINDOWS",
    Tags = { { Key = "Name", Value = "one-tag" } },
    WindowsConfiguration = { CopyTagsToBackups = true },
  } } }
  client = new_client()
end)

describe("create_backup copy_tags against the local server", function()
  local CALLER = { job = "nightly", Name = "from-caller" }

  -- create, then check what the response and the server hold agree
  local function create(args)
    local b = client:create_backup(args)
    local held = as_map(server_backup(b.backup_id).Tags)
    assert.same(held, as_map(b.tags))
    return held, b
  end

  it("reads the tags once and sends CreateBackup once, with one token", function()
    local held = create{ file_system_id = FS_WINDOWS, tags = { job = "nightly" }, copy_tags = "merge" }
    assert.same({ Name = "windows-share", team = "storage", job = "nightly" }, held)
    local reqs = server:requests()
    local ops = {}
    for i, r in ipairs(reqs) do ops[i] = r.operation end
    assert.same({ "DescribeFileSystems", "CreateBackup" }, ops)
    assert.truthy(reqs[2].client_request_token)
    assert.same({ FS_WINDOWS }, reqs[1].params.FileSystemIds)
  end)

  for _, case in ipairs{
    { FS_NONE, 0 }, { FS_ONE, 1 }, { FS_49, 49 }, { FS_50, 50 },
  } do
    local id, n = case[1], case[2]

    describe("on a file system with " .. n .. " tags", function()
      local function own() return fs_tags(id) end

      it("none: exactly the caller's tags, or FSx's CopyTagsToBackups without them", function()
        assert.same({ job = "nightly", Name = "from-caller" },
                    create{ file_system_id = id, tags = CALLER, copy_tags = "none" })
        local held = create{ file_system_id = id, copy_tags = "none" }
        -- FSx itself copies the tags when none are given and CopyTagsToBackups is on
        assert.same(id == FS_NONE and {} or own(), held)
        -- "none" reads nothing
        for _, r in ipairs(server:requests()) do assert.equal("CreateBackup", r.operation) end
      end)

      it("file_system: the file system's tags; refused with caller tags", function()
        local held = create{ file_system_id = id, copy_tags = "file_system" }
        assert.same(own(), held)
        assert.equal(n, count(held))
        local before = #server:requests()
        local e = err_of(client.create_backup, client,
                         { file_system_id = id, tags = CALLER, copy_tags = "file_system" })
        assert.equal("validation", e.kind)
        assert.matches("policy 'file_system'", e.message)
        assert.equal(before, #server:requests())   -- refused before reading anything
      end)

      it("merge: both, the caller winning, within 50 tags", function()
        local want = own()
        for k, v in pairs(CALLER) do want[k] = v end
        if count(want) > 50 then
          local e = err_of(client.create_backup, client,
                           { file_system_id = id, tags = CALLER, copy_tags = "merge" })
          assert.equal("validation", e.kind)
          assert.matches("^create_backup: copy_tags: policy 'merge' gives 51 tags", e.message)
          assert.equal(0, #server:requests("CreateBackup"))
          -- overriding an existing key (Name) still fits
          local held = create{ file_system_id = id, tags = { Name = "mine" }, copy_tags = "merge" }
          assert.equal(50, count(held))
          assert.equal("mine", held.Name)
        else
          local held = create{ file_system_id = id, tags = CALLER, copy_tags = "merge" }
          assert.same(want, held)
          assert.equal("from-caller", held.Name)
        end
        -- without caller tags, merge gives the file system's
        assert.same(own(), create{ file_system_id = id, copy_tags = "merge" })
      end)

      it("replace: the caller's tags only; refused when FSx would copy anyway", function()
        assert.same({ job = "nightly", Name = "from-caller" },
                    create{ file_system_id = id, tags = CALLER, copy_tags = "replace" })
        if n == 0 then
          assert.same({}, create{ file_system_id = id, copy_tags = "replace" })
        else
          local e = err_of(client.create_backup, client, { file_system_id = id, copy_tags = "replace" })
          assert.matches("policy 'replace' leaves no tag, so FSx would copy all " .. n .. " tags", e.message)
        end
      end)

      it("include/exclude and a function policy", function()
        local held = create{ file_system_id = id, tags = { job = "x" },
                             copy_tags = { include = { "Name", "tag0?" }, exclude = { "tag05" } } }
        local want = { job = "x" }
        for k, v in pairs(own()) do
          if (k == "Name" or k:match("^tag0%d$")) and k ~= "tag05" then want[k] = v end
        end
        assert.same(want, held)
        held = create{ file_system_id = id, tags = { job = "x" }, copy_tags = function(f, c, fs)
          assert.equal(id, fs.file_system_id)
          return { copied = tostring(#f), given = c[1].value, type = fs.file_system_type }
        end }
        assert.same({ copied = tostring(n), given = "x", type = held.type }, held)
      end)
    end)
  end

  it("keeps unicode keys and values byte for byte", function()
    local own = fs_tags(FS_UNICODE)
    local held = create{ file_system_id = FS_UNICODE, tags = { ["équipe"] = "sauvegarde", ["ключ"] = "значение" },
                         copy_tags = "merge" }
    local want = own
    want["équipe"] = "sauvegarde"
    want["ключ"] = "значение"
    assert.same(want, held)
    assert.equal("バックアップ", held["プロジェクト"])
    -- include patterns match characters, not bytes
    held = create{ file_system_id = FS_UNICODE, tags = { x = "1" },
                   copy_tags = { include = { "?quipe", "プロ*" } } }
    assert.same({ ["équipe"] = "stockage", ["プロジェクト"] = "バックアップ", x = "1" }, held)
  end)

  it("drops aws: tags (which FSx would reject) from the copied ones", function()
    assert.truthy(fs_tags(FS_AWS)["aws:cloudformation:stack-name"])
    local held = create{ file_system_id = FS_AWS, tags = { job = "n" }, copy_tags = "merge" }
    assert.same({ Name = "cfn-managed", job = "n" }, held)
    held = create{ file_system_id = FS_AWS, copy_tags = "file_system" }
    assert.same({ Name = "cfn-managed" }, held)
    -- without a policy, a caller's aws: tag is refused before sending
    local e = err_of(client.create_backup, client, { file_system_id = FS_AWS, tags = { ["aws:x"] = "1" } })
    assert.equal("validation", e.kind)
  end)

  it("copies a volume's own tags for volume_id", function()
    local held = create{ volume_id = VOL_ONTAP, tags = { job = "n" }, copy_tags = "merge" }
    assert.same({ Name = "vol1", team = "storage", job = "n" }, held)
    local ops = {}
    for i, r in ipairs(server:requests()) do ops[i] = r.operation end
    assert.same({ "DescribeVolumes", "CreateBackup" }, ops)
  end)

  it("validates before reading anything", function()
    local e = err_of(client.create_backup, client, { file_system_id = "fs-nope", copy_tags = "merge" })
    assert.equal("validation", e.kind)
    e = err_of(client.create_backup, client, { copy_tags = "merge" })
    assert.matches("exactly one of file_system_id, volume_id", e.message)
    e = err_of(client.create_backup, client, { file_system_id = FS_WINDOWS, copy_tags = "all" })
    assert.matches("^create_backup: copy_tags: must be one of", e.message)
    e = err_of(client.create_backup, client, { file_system_id = FS_WINDOWS, wait = { delay = 1 } })
    assert.matches("^create_backup: wait%.delay: unknown waiter option", e.message)
    assert.same({}, server:requests())
  end)

  it("raises the service's error for an unknown file system", function()
    local e = err_of(client.create_backup, client,
                     { file_system_id = "fs-0000000000000dead", copy_tags = "merge" })
    assert.equal("service", e.kind)
    assert.equal("FileSystemNotFound", e.code)
    assert.equal(0, #server:requests("CreateBackup"))
  end)
end)

describe("waiting against the local server", function()
  it("follows a real lifecycle run with progress (about a second)", function()
    server:config{ backup_seconds = 1 }
    local seen = {}
    local b, meta = client:create_backup{ file_system_id = FS_WINDOWS, wait = {
      min_delay = 0.1, max_delay = 0.2,
      on_progress = function(x) seen[#seen + 1] = x end,
    } }
    assert.equal("AVAILABLE", b.lifecycle)
    assert.equal(100, b.progress_percent)
    assert.is_true(#seen >= 3, "saw " .. #seen .. " changes")
    assert.equal("CREATING", seen[1].lifecycle)
    for i = 2, #seen - 1 do
      assert.equal("CREATING", seen[i].lifecycle)
      assert.is_true(seen[i].progress_percent > seen[i - 1].progress_percent)
    end
    assert.equal("AVAILABLE", seen[#seen].lifecycle)
    assert.is_true(meta.wait.polls >= #seen)
    assert.equal(1, #server:requests("CreateBackup"))
  end)

  it("reports progress the test drives through the control API, with an injected clock", function()
    server:config{ backup_seconds = 1000 }
    local b = client:create_backup{ file_system_id = FS_WINDOWS }
    local script = {
      { lifecycle = "PENDING", progress = 0 }, { lifecycle = "CREATING", progress = 30 },
      { lifecycle = "CREATING", progress = 30 }, { lifecycle = "TRANSFERRING", progress = 80 },
      { lifecycle = "AVAILABLE", progress = 100 },
    }
    local clock = driven_clock(function(n) server:set_backup(b.backup_id, script[n]) end)
    local seen = {}
    local final = client:wait_for_backup(b.backup_id, { sleep = clock.sleep, monotime = clock.now,
      on_progress = function(x)
        seen[#seen + 1] = x.lifecycle .. ":" .. string.format("%d", x.progress_percent)
      end })
    assert.equal("AVAILABLE", final.lifecycle)
    assert.same({ "CREATING:0", "PENDING:0", "CREATING:30", "TRANSFERRING:80", "AVAILABLE:100" }, seen)
    assert.equal(5, clock.n)
  end)

  it("raises BackupFailed with the service's failure message", function()
    server:config{ backup_seconds = 1000 }
    local b = client:create_backup{ file_system_id = FS_WINDOWS }
    local clock = driven_clock(function(n)
      if n == 2 then server:set_backup(b.backup_id, { lifecycle = "FAILED", message = "The volume is offline." }) end
    end)
    local e = err_of(client.wait_for_backup, client, b.backup_id, { sleep = clock.sleep, monotime = clock.now })
    assert.equal("waiter", e.kind)
    assert.equal("BackupFailed", e.code)
    assert.equal(b.backup_id, e.backup_id)
    assert.equal("The volume is offline.", e.failure_message)
    assert.matches("is FAILED: The volume is offline%.$", e.message)
    assert.equal("FAILED", e.backup.lifecycle)
  end)

  it("raises BackupDeleted at once for a backup seen and then deleted while waited on", function()
    server:config{ backup_seconds = 1000 }
    local b = client:create_backup{ file_system_id = FS_WINDOWS }
    local clock = driven_clock(function(n)
      if n == 1 then server:set_backup(b.backup_id, { lifecycle = "DELETED" }) end
    end)
    local e = err_of(client.wait_for_backup, client, b.backup_id,
                     { sleep = clock.sleep, monotime = clock.now, not_found_grace = 30 })
    assert.equal("waiter", e.kind)
    assert.equal("BackupDeleted", e.code)
    assert.equal(b.backup_id, e.backup_id)
    assert.equal("CREATING", e.last_state)
    assert.matches("was CREATING %(%d+%%%) and is gone: it was deleted while waited on", e.message)
    assert.equal(2, e.polls)
    assert.is_true(clock.t < 30, "gave up at " .. clock.t)
  end)

  it("raises BackupNotFound past the grace period for a backup never seen", function()
    local clock = driven_clock()
    local e = err_of(client.wait_for_backup, client, "backup-0000000000000dead",
                     { sleep = clock.sleep, monotime = clock.now, not_found_grace = 30 })
    assert.equal("service", e.kind)
    assert.equal("BackupNotFound", e.code)
    assert.is_true(clock.t >= 30 and clock.t < 60, "gave up at " .. clock.t)
  end)

  it("keeps what its polls learn on the client: a clock offset is corrected once", function()
    server:config{ backup_seconds = 0.4, clock_skew = 900 }
    local b = new_client():create_backup{ file_system_id = FS_WINDOWS }
    local c = new_client()
    local final = c:wait_for_backup(b.backup_id, { min_delay = 0.05, max_delay = 0.1 })
    assert.equal("AVAILABLE", final.lifecycle)
    local skewed, polls = 0, 0
    for _, r in ipairs(server:requests("DescribeBackups")) do
      polls = polls + 1
      if r.error == "InvalidSignatureException" then skewed = skewed + 1 end
    end
    assert.is_true(polls >= 4, "polls: " .. polls)
    assert.equal(1, skewed)
    assert.is_true(math.abs(c.clock_offset - 900) < 60, tostring(c.clock_offset))
  end)

  it("ends at the timeout when the listing hands out NextTokens forever", function()
    server:config{ backup_seconds = 1000, endless_pages = 1 }
    local b = client:create_backup{ file_system_id = FS_WINDOWS }
    local e = err_of(client.wait_for_backup, client, b.backup_id, { timeout = 1 })
    assert.equal("WaiterTimeout", e.code)
    assert.equal("CREATING", e.last_state)
    assert.equal("DeadlineExceeded", e.last_error.code)
    assert.equal(1, e.polls)
    assert.is_true(#server:requests("DescribeBackups") > 1)   -- it did page
  end)

  it("ends at the timeout when the endpoint answers slower than the wait lasts", function()
    server:config{ backup_seconds = 1000 }
    local b = client:create_backup{ file_system_id = FS_WINDOWS }
    server:config{ delay = 4 }
    local c = new_client{ timeout = 30 }
    local e = err_of(c.wait_for_backup, c, b.backup_id, { timeout = 1 })
    server:config{ delay = 0 }
    assert.equal("WaiterTimeout", e.code)
    assert.equal("DeadlineExceeded", e.last_error.code)
    assert.equal(1, e.polls)
  end)

  it("raises the polls' own failure when the timeout passes while they fail", function()
    server:config{ backup_seconds = 1000 }
    local b = client:create_backup{ file_system_id = FS_WINDOWS }
    server:config{ delay = 1 }
    local c = new_client{ timeout = 0.3, max_attempts = 1 }
    local e = err_of(c.wait_for_backup, c, b.backup_id, { timeout = 1.5, min_delay = 0.1, max_delay = 0.1,
                                                           max_failures = 100 })
    server:config{ delay = 0 }
    assert.equal("timeout", e.kind)   -- the transport's own timeout, not the waiter's
    assert.equal("CURLE_OPERATION_TIMEDOUT", e.code)
    assert.matches("the wait's timeout of 1%.5 s passed while polls failed%)$", e.message)
    assert.is_true(e.failed_polls >= 2)
  end)

  it("reports failed polls while the endpoint is down and gives up with the error", function()
    local dead = fsx.new{ region = "us-east-1", endpoint_url = "http://127.0.0.1:1",
                          credentials = helpers.credentials(), max_attempts = 1 }
    local reports = {}
    local e = err_of(dead.wait_for_backup, dead, "backup-0123456789abcdef0", {
      min_delay = 0.01, max_delay = 0.02, max_failures = 3,
      on_error = function(err, info) reports[#reports + 1] = { err.kind, info.failures } end,
      on_progress = function() error("no progress without an answer") end,
    })
    assert.equal("transport", e.kind)
    assert.equal(3, e.failed_polls)
    assert.matches("gave up waiting after 3 failed polls in a row", e.message)
    assert.same({ { "transport", 1 }, { "transport", 2 }, { "transport", 3 } }, reports)
  end)

  it("tolerates a backup that is not found yet", function()
    server:config{ backup_seconds = 1000 }
    local b = client:create_backup{ file_system_id = FS_WINDOWS }
    server:set_backup(b.backup_id, { lifecycle = "DELETED" })
    local clock = driven_clock(function(n)
      if n == 3 then server:set_backup(b.backup_id, { lifecycle = "AVAILABLE" }) end
    end)
    local final = client:wait_for_backup(b.backup_id, { sleep = clock.sleep, monotime = clock.now })
    assert.equal("AVAILABLE", final.lifecycle)
  end)

  it("times out with the last state, with an injected clock", function()
    server:config{ backup_seconds = 100000 }
    local b = client:create_backup{ file_system_id = FS_WINDOWS }
    server:set_backup(b.backup_id, { lifecycle = "CREATING", progress = 42 })
    local clock = driven_clock()
    local e = err_of(client.wait_for_backup, client, b.backup_id,
                     { sleep = clock.sleep, monotime = clock.now, timeout = 600 })
    assert.equal("waiter", e.kind)
    assert.equal("WaiterTimeout", e.code)
    assert.equal(b.backup_id, e.backup_id)
    assert.equal("CREATING", e.last_state)
    assert.equal(42, e.backup.progress_percent)
    assert.equal(600, clock.t)
    assert.equal(e.polls, #server:requests("DescribeBackups"))
  end)

  it("cancels when on_progress returns false", function()
    server:config{ backup_seconds = 100000 }
    local b = client:create_backup{ file_system_id = FS_WINDOWS }
    local clock = driven_clock(function(n) server:set_backup(b.backup_id, { progress = n * 10 }) end)
    server:set_backup(b.backup_id, { lifecycle = "CREATING", progress = 0 })
    local e = err_of(client.wait_for_backup, client, b.backup_id, { sleep = clock.sleep, monotime = clock.now,
      on_progress = function(x) return x.progress_percent < 30 end })
    assert.equal("WaiterCancelled", e.code)
    assert.equal(30, e.backup.progress_percent)
    assert.equal(4, #server:requests("DescribeBackups"))
  end)

  it("keeps polling through throttling after the client's own retries", function()
    server:config{ backup_seconds = 0 }
    local b = client:create_backup{ file_system_id = FS_WINDOWS }
    server:faults({ { kind = "throttle", operation = "DescribeBackups", nth = { 1, 2, 3, 4 } } })
    local clock = driven_clock()
    local c = new_client{ max_attempts = 2, sleep = clock.sleep, monotime = clock.now }
    local final, info = c:wait_for_backup(b.backup_id)
    assert.equal("AVAILABLE", final.lifecycle)
    assert.equal(3, info.polls)                 -- 2 throttled rounds of 2 attempts, then success
    assert.equal(5, #server:requests("DescribeBackups"))
  end)

  it("waits for many backups across pages, one call a round", function()
    server:config{ backup_seconds = 1000, page_size = 5 }
    local ids, seed = {}, {}
    for i = 1, 12 do
      ids[i] = string.format("backup-%017x", 0xb000 + i)
      seed[i] = { BackupId = ids[i], FileSystemId = FS_WINDOWS, Lifecycle = "CREATING", ProgressPercent = 50 }
    end
    server:seed{ backups = seed }
    local clock = driven_clock(function(n)
      for i = 1, 12 do
        if i <= n * 6 then server:set_backup(ids[i], { lifecycle = "AVAILABLE" }) end
      end
    end)
    local list = client:wait_for_backups(ids, { sleep = clock.sleep, monotime = clock.now })
    assert.equal(12, #list)
    for i, b in ipairs(list) do
      assert.equal(ids[i], b.backup_id)
      assert.equal("AVAILABLE", b.lifecycle)
    end
    -- round 1: 12 ids in 3 pages (all CREATING); round 2: 12 ids in 3 pages
    -- (1..6 done); round 3: the other 6 in 2 pages
    local reqs = server:requests("DescribeBackups")
    assert.equal(8, #reqs)
    assert.equal(12, #reqs[1].params.BackupIds)
    assert.truthy(reqs[2].params.NextToken)
    assert.equal(12, #reqs[4].params.BackupIds)
    assert.equal(6, #reqs[7].params.BackupIds)
    assert.equal(ids[7], reqs[7].params.BackupIds[1])
  end)
end)

describe("each_backup against the local server", function()
  it("pages through more than 3 pages with filters", function()
    server:config{ page_size = 4 }
    local seed = {}
    for i = 1, 30 do
      seed[i] = { FileSystemId = i % 3 == 0 and FS_NONE or FS_WINDOWS,
                  Type = i % 5 == 0 and "AUTOMATIC" or "USER_INITIATED",
                  CreationTime = 1700000000 + i * 60 }
    end
    server:seed{ backups = seed }
    local seen = {}
    for b in client:each_backup{ filters = { { name = "file-system-id", values = { FS_WINDOWS } },
                                             { name = "backup-type", values = { "USER_INITIATED" } } } } do
      assert.equal(FS_WINDOWS, b.file_system.file_system_id)
      assert.equal("USER_INITIATED", b.type)
      assert.is_nil(seen[b.backup_id])
      seen[b.backup_id] = true
    end
    -- i in 1..30, not a multiple of 3, not a multiple of 5: 16 backups
    assert.equal(16, count(seen))
    assert.equal(4, #server:requests("DescribeBackups"))
  end)
end)

describe("copy_backup and restores against the local server", function()
  it("copy_backup waits for the copy", function()
    server:config{ backup_seconds = 0.3 }
    local src = client:create_backup{ file_system_id = FS_WINDOWS, tags = { Name = "src" },
                                      wait = { min_delay = 0.1, max_delay = 0.2 } }
    local copy, meta = client:copy_backup{ source_backup_id = src.backup_id, destination_region = "us-east-1",
                                           copy_tags = true, wait = { min_delay = 0.1, max_delay = 0.2 } }
    assert.equal("AVAILABLE", copy.lifecycle)
    assert.are_not.equal(src.backup_id, copy.backup_id)
    assert.equal(src.backup_id, copy.source_backup_id)
    assert.same({ Name = "src" }, as_map(copy.tags))
    assert.truthy(meta.client_request_token)
    local req = server:requests("CopyBackup")[1]
    assert.is_true(req.params.CopyTags)
    assert.is_nil(req.params.wait)
    -- without wait: returns at once, COPYING
    server:config{ backup_seconds = 1000 }
    copy = client:copy_backup{ source_backup_id = src.backup_id, source_region = "us-east-1" }
    assert.equal("COPYING", copy.lifecycle)
    assert.is_nil(server:requests("CopyBackup")[2].params.SourceRegion)   -- an in-Region copy
  end)

  it("restore_file_system waits for AVAILABLE", function()
    server:config{ backup_seconds = 0, restore_seconds = 0.3 }
    local src = client:create_backup{ file_system_id = FS_NONE }
    local fs, meta = client:restore_file_system{ backup_id = src.backup_id,
      subnet_ids = { "subnet-0a1b2c3d4e5f60718" }, tags = { Name = "restored" },
      wait = { min_delay = 0.1, max_delay = 0.2 } }
    assert.equal("AVAILABLE", fs.lifecycle)
    assert.equal("LUSTRE", fs.file_system_type)
    assert.same({ Name = "restored" }, as_map(fs.tags))
    assert.is_true(meta.wait.polls >= 2)
    assert.equal(1, #server:requests("CreateFileSystemFromBackup"))
    local again = client:restore_file_system{ backup_id = src.backup_id,
                                              subnet_ids = { "subnet-0a1b2c3d4e5f60718" } }
    assert.equal("CREATING", again.lifecycle)
    local e = err_of(client.restore_file_system, client, { backup_id = src.backup_id,
      subnet_ids = { "subnet-0a1b2c3d4e5f60718" }, wait = { timeout = 0 } })
    assert.equal("WaiterTimeout", e.code)
    assert.truthy(e.file_system_id)
    assert.is_true(e.created)
  end)

  it("restore_volume waits for the volume to be ready (CREATED on ONTAP)", function()
    server:config{ backup_seconds = 0, restore_seconds = 0.3 }
    local src = client:create_backup{ volume_id = VOL_ONTAP }
    local vol = client:restore_volume{ backup_id = src.backup_id, name = "restored",
      ontap_configuration = { storage_virtual_machine_id = "svm-0123456789abcdef0",
                              size_in_megabytes = 1024 },
      wait = { min_delay = 0.1, max_delay = 0.2 } }
    assert.equal("CREATED", vol.lifecycle)
    assert.equal("restored", vol.name)
    assert.truthy(vol.volume_id:match("^fsvol%-"))
  end)

  describe("on a second-generation ONTAP file system", function()
    local FS2, SVM2, VOL2 = "fs-0abcdef0123456782", "svm-0123456789abcdef2", "fsvol-0123456789abcdef2"
    before_each(function()
      server:seed{
        file_systems = { { FileSystemId = FS2, FileSystemType = "ONTAP",
                           OntapConfiguration = { DeploymentType = "SINGLE_AZ_2" } } },
        storage_virtual_machines = { { StorageVirtualMachineId = SVM2, FileSystemId = FS2 } },
        volumes = { { VolumeId = VOL2, FileSystemId = FS2, Name = "gen2",
                      OntapConfiguration = { StorageVirtualMachineId = SVM2 } } },
      }
    end)

    local function restore(extra)
      local src = client:create_backup{ volume_id = VOL2 }
      local args = { backup_id = src.backup_id, name = "restored2",
        ontap_configuration = { storage_virtual_machine_id = SVM2, size_in_megabytes = 1024 } }
      for k, v in pairs(extra or {}) do args[k] = v end
      return client:restore_volume(args)
    end

    it("restore_volume waits until DOWNLOAD_DATA_FROM_BACKUP is COMPLETED, reporting it", function()
      server:config{ backup_seconds = 0, restore_seconds = 0.2, download_seconds = 0.6 }
      local seen = {}
      local vol, meta = restore{ wait = { min_delay = 0.05, max_delay = 0.1, on_progress = function(v)
        seen[#seen + 1] = require("fsx.waiter").state_text("volume", v)
      end } }
      assert.equal("CREATED", vol.lifecycle)
      local action = vol.administrative_actions[1]
      assert.equal("DOWNLOAD_DATA_FROM_BACKUP", action.administrative_action_type)
      assert.equal("COMPLETED", action.status)
      local downloading = 0
      for _, text in ipairs(seen) do
        if text:match("^CREATED, downloading data from the backup %(IN_PROGRESS, %d+%%; " ..
                      "read%-only until COMPLETED%)$") then
          downloading = downloading + 1
        end
      end
      assert.is_true(downloading >= 1, table.concat(seen, " | "))
      assert.equal("CREATED", seen[#seen])
      assert.is_true(meta.wait.polls >= 3)
    end)

    it("raises VolumeRestoreFailed when the download fails", function()
      server:config{ backup_seconds = 0, restore_seconds = 0, download_seconds = 1000 }
      local vol = restore()
      server:control("POST", "/_fsx/resource/" .. vol.volume_id, { AdministrativeActions = { {
        AdministrativeActionType = "DOWNLOAD_DATA_FROM_BACKUP", Status = "FAILED",
        FailureDetails = { Message = "The backup could not be read." } } } })
      local e = err_of(client.wait_for_volume, client, vol.volume_id, { min_delay = 0.01 })
      assert.equal("VolumeRestoreFailed", e.code)
      assert.equal("The backup could not be read.", e.failure_message)
      assert.matches("is CREATED, but downloading its data from the backup is FAILED: The backup", e.message)
    end)
  end)

  it("reports a failed volume's LifecycleTransitionReason", function()
    server:control("POST", "/_fsx/resource/" .. VOL_ONTAP, { Lifecycle = "FAILED",
      LifecycleTransitionReason = { Message = "The aggregate is full." } })
    local e = err_of(client.wait_for_volume, client, VOL_ONTAP, { min_delay = 0.01 })
    assert.equal("VolumeFailed", e.code)
    assert.equal("The aggregate is full.", e.failure_message)
    assert.matches("volume " .. VOL_ONTAP:gsub("%-", "%%-") .. " is FAILED: The aggregate is full%.$", e.message)
  end)

  it("keeps waiting through MISCONFIGURED states and reports them", function()
    for _, case in ipairs{ { "file_system", FS_WINDOWS, "MISCONFIGURED_UNAVAILABLE", "AVAILABLE" },
                           { "file_system", FS_WINDOWS, "MISCONFIGURED", "AVAILABLE" },
                           { "volume", VOL_ONTAP, "MISCONFIGURED", "CREATED" } } do
      local kind, id, bad, good = case[1], case[2], case[3], case[4]
      server:control("POST", "/_fsx/resource/" .. id, { Lifecycle = bad })
      local seen = {}
      local clock = driven_clock(function(n)
        if n == 2 then server:control("POST", "/_fsx/resource/" .. id, { Lifecycle = good }) end
      end)
      local final = client["wait_for_" .. kind](client, id, { sleep = clock.sleep, monotime = clock.now,
        on_progress = function(x) seen[#seen + 1] = require("fsx.waiter").state_text(kind, x) end })
      assert.equal(good, final.lifecycle)
      assert.same({ bad .. " (recoverable: waiting)", good }, seen)
    end
  end)

  it("wait_for_file_system and wait_for_volume raise the service error for unknown ids", function()
    local clock = driven_clock()
    local e = err_of(client.wait_for_file_system, client, "fs-0000000000000dead",
                     { sleep = clock.sleep, monotime = clock.now })
    assert.equal("FileSystemNotFound", e.code)
    e = err_of(client.wait_for_volume, client, "fsvol-0000000000000dead",
               { sleep = clock.sleep, monotime = clock.now, not_found_grace = 0 })
    assert.equal("VolumeNotFound", e.code)
    assert.equal("AVAILABLE", client:wait_for_file_system(FS_WINDOWS).lifecycle)
  end)
end)

describe("tags module and the server agree", function()
  it("tags.apply on the seed's file systems matches what merge sends", function()
    for _, id in ipairs{ FS_NONE, FS_ONE, FS_49, FS_UNICODE, FS_AWS } do
      local fs = client:describe_file_systems{ file_system_ids = { id } }.file_systems[1]
      local want = tags.apply("merge", fs.tags, { job = "n" }, fs)
      server:reset()
      server:config{ backup_seconds = 0 }
      server:seed{ file_systems = { { FileSystemId = FS_ONE, FileSystemType = "WINDOWS",
        Tags = { { Key = "Name", Value = "one-tag" } }, WindowsConfiguration = { CopyTagsToBackups = true } } } }
      local b = client:create_backup{ file_system_id = id, tags = { job = "n" }, copy_tags = "merge" }
      assert.same(want, b.tags)
    end
  end)
end)

describe("copy_backup across Regions against a server answering for several", function()
  local multi, east, west
  local FS = "fs-0123456789abcdef0"
  local function backup_in(region, extra)
    local doc = { FileSystemId = FS, Region = region, CreationTime = "2024-01-01T00:00:00Z" }
    for k, v in pairs(extra or {}) do doc[k] = v end
    return multi:seed{ backups = { doc } }.backups[1]
  end
  local function client_for(region)
    return fsx.new{ region = region, endpoint_url = multi.url, credentials = helpers.credentials() }
  end
  local function refused(c, args, code, pattern)
    local e = err_of(c.copy_backup, c, args)
    assert.equal("validation", e.kind, tostring(e))
    assert.equal(code, e.code)
    assert.matches(pattern, e.message)
    assert.same({}, multi:requests("CopyBackup"))
    return e
  end

  lazy_setup(function()
    multi = helpers.start_fsx_server{ args = { "--extra-region", "eu-west-1", "--extra-region",
      "af-south-1", "--extra-region", "cn-north-1" } }
  end)
  lazy_teardown(function() if multi then multi:stop() end end)
  before_each(function()
    multi:reset()
    multi:config{ backup_seconds = 0.2 }
    east, west = client_for("us-east-1"), client_for("eu-west-1")
  end)

  it("is sent in the destination Region with SourceRegion, and waits there", function()
    local id = backup_in("eu-west-1")
    local copy = east:copy_backup{ source_backup_id = id, source_region = "eu-west-1",
                                   source_client = west, wait = { min_delay = 0.05, max_delay = 0.1 } }
    assert.equal("AVAILABLE", copy.lifecycle)
    assert.equal("eu-west-1", copy.source_backup_region)
    assert.equal(id, copy.source_backup_id)
    assert.matches("^arn:aws:fsx:us%-east%-1:", copy.resource_arn)
    local req = multi:requests("CopyBackup")
    assert.equal(1, #req)
    assert.equal("eu-west-1", req[1].params.SourceRegion)
    assert.equal("us-east-1", req[1].region)   -- the Region the request was signed for
    -- the source was checked in its Region, the copy waited for in the destination
    local regions = {}
    for _, r in ipairs(multi:requests("DescribeBackups")) do regions[#regions + 1] = r.params.BackupIds[1] end
    assert.same(id, regions[1])
    for i = 2, #regions do assert.equal(copy.backup_id, regions[i]) end
    for _, r in ipairs(multi:requests("DescribeBackups")) do
      assert.equal(r.params.BackupIds[1] == id and "eu-west-1" or "us-east-1", r.region)
    end
    -- the server keeps the Regions apart: the source is not in us-east-1, the copy not in eu-west-1
    assert.equal("BackupNotFound", err_of(east.describe_backups, east, { backup_ids = { id } }).code)
    assert.equal("BackupNotFound", err_of(west.describe_backups, west, { backup_ids = { copy.backup_id } }).code)
  end)

  it("names its Regions: none given, or a destination that is not the client's, is refused", function()
    local id = backup_in("eu-west-1")
    local e = err_of(west.copy_backup, west, { source_backup_id = id })
    assert.equal("validation", e.kind)
    assert.matches("give source_region %(the Region of the backup%) and/or destination_region", e.message)
    -- a client built for the source Region cannot make the copy elsewhere
    e = err_of(west.copy_backup, west, { source_backup_id = id, destination_region = "us-east-1" })
    assert.matches("destination_region: is us%-east%-1 but this client is for eu%-west%-1: CopyBackup " ..
                   "is sent in the destination Region", e.message)
    e = err_of(east.copy_backup, east, { source_backup_id = id, source_region = "eu-west-1",
                                         source_client = east })
    assert.matches("source_client: is for us%-east%-1, not the source Region eu%-west%-1", e.message)
    assert.same({}, multi:requests("CopyBackup"))
  end)

  it("leaves the source checks to FSx when the source cannot be described", function()
    local id = backup_in("eu-west-1")
    multi:faults({ { kind = "error500", operation = "DescribeBackups", times = 10 } })
    local copy = east:copy_backup{ source_backup_id = id, source_region = "eu-west-1",
                                   source_client = client_for("eu-west-1") }
    assert.equal("COPYING", copy.lifecycle)
    multi:faults({})
    local e = err_of(east.copy_backup, east, { source_backup_id = "backup-0000000000000dead",
                                               source_region = "eu-west-1", source_client = west })
    assert.equal("BackupNotFound", e.code)
    assert.equal(1, #multi:requests("CopyBackup"))
  end)

  it("refuses before sending what FSx refuses, and the server refuses it too", function()
    local cn = backup_in("cn-north-1")
    refused(east, { source_backup_id = cn, source_region = "cn-north-1" }, "InvalidRegion",
            "cannot copy from cn%-north%-1 %(partition aws%-cn%) to us%-east%-1 %(partition aws%)")
    local opt = backup_in("af-south-1")
    refused(east, { source_backup_id = opt, source_region = "af-south-1" }, "UnsupportedOperation",
            "af%-south%-1 is an opt%-in Region")
    local creating = backup_in("eu-west-1", { Lifecycle = "CREATING" })
    refused(east, { source_backup_id = creating, source_region = "eu-west-1", source_client = west },
            "SourceBackupUnavailable", "source backup " .. creating:gsub("%-", "%%-") .. " is CREATING")
    local same_region = backup_in("us-east-1", { Lifecycle = "CREATING" })
    refused(east, { source_backup_id = same_region, destination_region = "us-east-1" },
            "SourceBackupUnavailable", "FSx copies only AVAILABLE backups")
    local tiered = backup_in("us-east-1", { StorageType = "INTELLIGENT_TIERING",
                                            FileSystemId = "fs-0000000000000e001", FileSystemType = "OPENZFS" })
    refused(east, { source_backup_id = tiered, source_region = "us-east-1" }, "UnsupportedOperation",
            "Intelligent%-Tiering storage class")
    -- the local server answers as FSx does when the checks are bypassed
    for _, case in ipairs{ { cn, "cn-north-1", "InvalidRegion" }, { opt, "af-south-1", "UnsupportedOperation" },
                           { creating, "eu-west-1", "SourceBackupUnavailable" },
                           { tiered, "us-east-1", "UnsupportedOperation" } } do
      local res = multi:signed_request("CopyBackup", { SourceBackupId = case[1], SourceRegion = case[2] })
      assert.equal(400, res.status)
      assert.equal(case[3], res.json.__type)
    end
  end)
end)

describe("list_backups, token reuse and AWS_BACKUP against the local server", function()
  it("filters by backup type and tag", function()
    server:seed{ backups = {
      { BackupId = "backup-000000000000b0001", FileSystemId = FS_WINDOWS, Type = "AUTOMATIC",
        Tags = { { Key = "job", Value = "nightly" } } },
      { BackupId = "backup-000000000000b0002", FileSystemId = FS_WINDOWS, Type = "USER_INITIATED",
        Tags = { { Key = "job", Value = "nightly" } } },
      { BackupId = "backup-000000000000b0003", FileSystemId = FS_WINDOWS, Type = "USER_INITIATED",
        Tags = { { Key = "job", Value = "weekly" } } },
      { BackupId = "backup-000000000000b0004", FileSystemId = FS_NONE, Type = "AWS_BACKUP" },
    } }
    server:config{ page_size = 1, page_overlap = 0, page_repeat = 1 }
    local function ids(list)
      local out = {}
      for i, b in ipairs(list) do out[i] = b.backup_id end
      table.sort(out)
      return out
    end
    assert.same({ "backup-000000000000b0002", "backup-000000000000b0003" },
                ids(client:list_backups{ file_system_id = FS_WINDOWS, types = { "USER_INITIATED" } }))
    assert.same({ "backup-000000000000b0001", "backup-000000000000b0002" },
                ids(client:list_backups{ tag_filter = { job = "nightly" } }))
    assert.same({ "backup-000000000000b0002" },
                ids(client:list_backups{ types = { "USER_INITIATED" }, tag_filter = { job = { "nightly" } } }))
    assert.same({ "backup-000000000000b0004" }, ids(client:list_backups{ types = { "AWS_BACKUP" } }))
    local q = server:requests("DescribeBackups")
    assert.same({ { Name = "backup-type", Values = { "AWS_BACKUP" } } }, q[#q].params.Filters)
    local e = err_of(client.list_backups, client, { types = { "MANUAL" } })
    assert.matches("list_backups: types%[1%]: must be USER_INITIATED, AUTOMATIC or AWS_BACKUP", e.message)
  end)

  it("explains IncompatibleParameterError when copy_tags merge meets a re-used token", function()
    local args = { file_system_id = FS_WINDOWS, tags = { job = "nightly" }, copy_tags = "merge",
                   client_request_token = "nightly-2024-01-01" }
    local first = client:create_backup(args)
    -- the same call again is the same backup
    assert.equal(first.backup_id, client:create_backup(args).backup_id)
    client:tag_resource{ resource_arn = "arn:aws:fsx:us-east-1:123456789012:file-system/" .. FS_WINDOWS,
                         tags = { { key = "cost-center", value = "42" } } }
    local e = err_of(client.create_backup, client, args)
    assert.equal("IncompatibleParameterError", e.code)
    assert.is_true(e.token_reused)
    assert.matches("client_request_token nightly%-2024%-01%-01 was used before with other parameters: " ..
                   "with copy_tags the tags sent are computed from the file system's current tags", e.message)
    assert.matches("to make another backup, use a new token", e.message)
  end)

  it("the server refuses DeleteBackup for an AWS_BACKUP backup, and prune never sends it", function()
    server:seed{ backups = { { BackupId = "backup-000000000000c0001", FileSystemId = FS_NONE, Type = "AWS_BACKUP",
                               CreationTime = "2020-01-01T00:00:00Z" } } }
    local e = err_of(client.delete_backup, client, { backup_id = "backup-000000000000c0001" })
    assert.equal("BadRequest", e.code)
    assert.matches("AWS Backup", e.message)
    local r = client:prune_backups{ file_system_id = FS_NONE, keep_last = 0, dry_run = false }
    assert.same({}, r.deleted)
    assert.equal(1, #server:requests("DeleteBackup"))
  end)
end)

describe("backup.read_resource", function()
  local backup = require "fsx.backup"

  -- a client whose Describe* calls answer with an empty list, as a service
  -- may for an id it has just forgotten
  local function forgetful()
    local asked = {}
    local c = {}
    function c.describe_volumes(self, args)
      assert.equal(c, self)
      asked[#asked + 1] = { "describe_volumes", args }
      return { volumes = {} }
    end
    function c.describe_file_systems(self, args)
      assert.equal(c, self)
      asked[#asked + 1] = { "describe_file_systems", args }
      return { file_systems = {} }
    end
    return c, asked
  end

  it("names the volume or file system that an empty listing leaves out", function()
    local c, asked = forgetful()
    local e = err_of(backup.read_resource, c, { volume_id = VOL_ONTAP })
    assert.same({ "service", "VolumeNotFound", "DescribeVolumes" }, { e.kind, e.code, e.operation })
    assert.equal("create_backup: volume " .. VOL_ONTAP .. " was not found", e.message)
    e = err_of(backup.read_resource, c, { file_system_id = FS_WINDOWS }, "copy_backup")
    assert.same({ "service", "FileSystemNotFound", "DescribeFileSystems" },
                { e.kind, e.code, e.operation })
    assert.equal("copy_backup: file system " .. FS_WINDOWS .. " was not found", e.message)
    assert.same({ { "describe_volumes", { volume_ids = { VOL_ONTAP } } },
                  { "describe_file_systems", { file_system_ids = { FS_WINDOWS } } } }, asked)
  end)
end)
