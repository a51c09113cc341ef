-- fsx.waiter: the polling engine with a scripted service and an injected clock
-- (no server, no real sleeping), then the client methods over a fake
-- transport. Against the local FSx server: backup_spec.lua.
local waiter = require "fsx.waiter"
local errors = require "fsx.error"

local SPEC = waiter.SPECS.backup

-- A clock whose sleep advances it; records every sleep.
local function fake_clock()
  local c = { t = 1000, sleeps = {} }
  c.now = function() return c.t end
  c.sleep = function(s)
    assert(s >= 0, "negative sleep")
    c.sleeps[#c.sleeps + 1] = s
    c.t = c.t + s
  end
  return c
end

-- A scripted DescribeBackups: script[id](elapsed) -> item table, nil (not
-- found), or an error to raise. Records the ids of every call.
local function fake_service(clock, script)
  local svc = { calls = {} }
  local start = clock.t
  svc.describe = function(ids)
    svc.calls[#svc.calls + 1] = ids
    local out = {}
    for _, id in ipairs(ids) do
      local f = script[id]
      local item = f and f(clock.t - start)
      if errors.is_error(item) then error(item, 0) end
      if item == nil then
        error(errors.new{ kind = "service", code = "BackupNotFound", status = 400,
                          message = "Backup(s) not found: " .. id }, 0)
      end
      item.backup_id = id
      out[#out + 1] = item
    end
    return out
  end
  return svc
end

-- CREATING with progress `rate` % per second, AVAILABLE after `secs`.
local function creating(secs, rate)
  return function(t)
    if t >= secs then return { lifecycle = "AVAILABLE", progress_percent = 100 } end
    return { lifecycle = "CREATING", progress_percent = math.floor(t * (rate or 0)) }
  end
end

local function opts(clock, extra)
  local o = { sleep = clock.sleep, monotime = clock.now, random = function() return 0.5 end }
  for k, v in pairs(extra or {}) do o[k] = v end
  return waiter.options(o, "wait_for_backup")
end

local function run(clock, svc, ids, extra)
  return waiter.run(SPEC, ids, opts(clock, extra), svc.describe, "wait_for_backup")
end

local function werr(f, ...)
  local ok, err = pcall(f, ...)
  assert.is_false(ok, "expected an error")
  assert.is_true(errors.is_error(err), "not an fsx error: " .. tostring(err))
  return err
end

describe("waiter engine", function()
  it("polls a lifecycle run with growing delays and reports each change once", function()
    local clock = fake_clock()
    local svc = fake_service(clock, { ["backup-1"] = creating(40, 2) })
    local seen = {}
    local items, info = run(clock, svc, { "backup-1" }, {
      on_progress = function(b) seen[#seen + 1] = b.lifecycle .. " " .. b.progress_percent end,
    })
    assert.equal("AVAILABLE", items[1].lifecycle)
    assert.equal("backup-1", items[1].backup_id)
    -- min_delay 2, x1.5 a round, capped at max_delay 30 (random 0.5: no jitter)
    assert.same({ 2, 3, 4.5, 6.75, 10.125, 15.1875 }, clock.sleeps)
    assert.same({ "CREATING 0", "CREATING 4", "CREATING 10", "CREATING 19", "CREATING 32",
                  "CREATING 52", "AVAILABLE 100" }, seen)
    assert.equal(7, info.polls)
    assert.equal(7, #svc.calls)
    assert.near(41.5625, info.elapsed, 1e-9)
  end)

  it("calls on_progress only when lifecycle or progress changes", function()
    local clock = fake_clock()
    local svc = fake_service(clock, { ["backup-1"] = function(t)
      if t < 10 then return { lifecycle = "PENDING" } end
      if t < 20 then return { lifecycle = "CREATING", progress_percent = 50 } end
      return { lifecycle = "AVAILABLE", progress_percent = 100 }
    end })
    local n = 0
    run(clock, svc, { "backup-1" }, { on_progress = function() n = n + 1 end })
    assert.is_true(#svc.calls >= 5)
    assert.equal(3, n)
  end)

  it("caps the delay at max_delay and keeps jitter within +-25% and [min, max]", function()
    local clock = fake_clock()
    local svc = fake_service(clock, { ["backup-1"] = creating(200) })
    local r = { 0, 1, 0.25, 0.75 }
    local i = 0
    run(clock, svc, { "backup-1" }, { min_delay = 4, max_delay = 10, random = function()
      i = i + 1
      return r[(i - 1) % #r + 1]
    end })
    assert.equal(4, clock.sleeps[1])              -- 4 * 0.75 = 3, raised to min_delay
    assert.equal(7.5, clock.sleeps[2])            -- 6 * 1.25
    assert.equal(9 * 0.875, clock.sleeps[3])
    for k = 4, #clock.sleeps do
      assert.is_true(clock.sleeps[k] >= 4 and clock.sleeps[k] <= 10, "sleep " .. clock.sleeps[k])
    end
    assert.equal(10, clock.sleeps[6])             -- 10 * 1.25 capped
  end)

  it("keeps waiting through TRANSFERRING, COPYING and states it does not know", function()
    local clock = fake_clock()
    local states = { "PENDING", "TRANSFERRING", "COPYING", "SOMETHING_NEW", "AVAILABLE" }
    local k = 0
    local svc = fake_service(clock, { ["backup-1"] = function()
      k = math.min(k + 1, #states)
      return { lifecycle = states[k] }
    end })
    local items = run(clock, svc, { "backup-1" })
    assert.equal("AVAILABLE", items[1].lifecycle)
    assert.equal(5, #svc.calls)
  end)

  it("raises BackupFailed with the failure message", function()
    local clock = fake_clock()
    local svc = fake_service(clock, { ["backup-1"] = function(t)
      if t < 5 then return { lifecycle = "CREATING", progress_percent = 10 } end
      return { lifecycle = "FAILED", failure_details = { message = "Volume is offline" } }
    end })
    local e = werr(run, clock, svc, { "backup-1" })
    assert.equal("waiter", e.kind)
    assert.equal("BackupFailed", e.code)
    assert.equal("backup-1", e.backup_id)
    assert.equal("FAILED", e.last_state)
    assert.equal("Volume is offline", e.failure_message)
    assert.equal("FAILED", e.backup.lifecycle)
    assert.equal("wait_for_backup: backup backup-1 is FAILED: Volume is offline", e.message)
    assert.matches("^fsx waiter error BackupFailed: ", tostring(e))
  end)

  it("raises BackupDeleted", function()
    local clock = fake_clock()
    local svc = fake_service(clock, { ["backup-1"] = function(t)
      return { lifecycle = t < 3 and "CREATING" or "DELETED" }
    end })
    local e = werr(run, clock, svc, { "backup-1" })
    assert.equal("BackupDeleted", e.code)
    assert.equal("DELETED", e.last_state)
  end)

  it("times out with the last state, never sleeping past the deadline", function()
    local clock = fake_clock()
    local svc = fake_service(clock, { ["backup-1"] = creating(10000, 0.01) })
    local e = werr(run, clock, svc, { "backup-1" }, { timeout = 100, max_delay = 30 })
    assert.equal("waiter", e.kind)
    assert.equal("WaiterTimeout", e.code)
    assert.equal("backup-1", e.backup_id)
    assert.equal("CREATING", e.last_state)
    assert.equal("CREATING", e.backup.lifecycle)
    assert.matches("backup backup%-1 is CREATING %(1%%%) after 100 s", e.message)
    assert.equal(100, clock.t - 1000)            -- the last poll is at the deadline exactly
    assert.equal(100, e.elapsed)
    local total = 0
    for _, s in ipairs(clock.sleeps) do total = total + s end
    assert.equal(100, total)
  end)

  it("polls once with timeout = 0", function()
    local clock = fake_clock()
    local svc = fake_service(clock, { ["backup-1"] = creating(10) })
    local e = werr(run, clock, svc, { "backup-1" }, { timeout = 0 })
    assert.equal("WaiterTimeout", e.code)
    assert.equal(1, #svc.calls)
    assert.same({}, clock.sleeps)
  end)

  it("stops when on_progress returns false", function()
    local clock = fake_clock()
    local svc = fake_service(clock, { ["backup-1"] = creating(100, 1) })
    local calls = 0
    local e = werr(run, clock, svc, { "backup-1" }, { on_progress = function(b)
      calls = calls + 1
      if b.progress_percent >= 5 then return false end
    end })
    assert.equal("WaiterCancelled", e.code)
    assert.equal("waiter", e.kind)
    assert.equal("CREATING", e.last_state)
    assert.is_true(e.backup.progress_percent >= 5)
    assert.equal(calls, #svc.calls)
    -- nil and true continue
    clock = fake_clock()
    svc = fake_service(clock, { ["backup-1"] = creating(10, 1) })
    assert.equal("AVAILABLE", run(clock, svc, { "backup-1" }, { on_progress = function() return nil end })[1].lifecycle)
  end)

  it("tolerates not found within the grace period", function()
    local clock = fake_clock()
    local svc = fake_service(clock, { ["backup-1"] = function(t)
      if t < 20 then return nil end
      return creating(25)(t)
    end })
    local items = run(clock, svc, { "backup-1" })
    assert.equal("AVAILABLE", items[1].lifecycle)
  end)

  it("re-raises BackupNotFound past the grace period as the service error", function()
    local clock = fake_clock()
    local svc = fake_service(clock, { ["backup-1"] = function() return nil end })
    local e = werr(run, clock, svc, { "backup-1" }, { not_found_grace = 10 })
    assert.equal("service", e.kind)
    assert.equal("BackupNotFound", e.code)
    assert.is_true(clock.t - 1000 >= 10)
    assert.is_true(clock.t - 1000 < 20)
    -- grace 0: the first answer counts
    clock = fake_clock()
    svc = fake_service(clock, { ["backup-1"] = function() return nil end })
    e = werr(run, clock, svc, { "backup-1" }, { not_found_grace = 0 })
    assert.equal("BackupNotFound", e.code)
    assert.equal(1, #svc.calls)
  end)

  it("keeps polling through retryable errors, backing off faster, until the timeout", function()
    local clock = fake_clock()
    local throttled = errors.new{ kind = "service", code = "ThrottlingException", status = 400,
                                  retryable = true, attempts = 3, message = "Rate exceeded" }
    local svc = fake_service(clock, { ["backup-1"] = function(t)
      if t < 10 then return throttled end
      return creating(30)(t)
    end })
    local items = run(clock, svc, { "backup-1" })
    assert.equal("AVAILABLE", items[1].lifecycle)
    assert.same({ 2, 4, 8 }, { clock.sleeps[1], clock.sleeps[2], clock.sleeps[3] })
  end)

  it("reports failed polls and gives up with the error after max_failures in a row", function()
    local function throttled()
      return errors.new{ kind = "service", code = "ThrottlingException", status = 400,
                         retryable = true, attempts = 3, message = "Rate exceeded" }
    end
    local clock = fake_clock()
    local svc = fake_service(clock, { ["backup-1"] = throttled })
    local reports = {}
    local e = werr(run, clock, svc, { "backup-1" }, { timeout = 600, on_error = function(err, info)
      reports[#reports + 1] = { err.code, info.failures, info.max_failures, info.polls }
    end })
    assert.equal("ThrottlingException", e.code)
    assert.equal("service", e.kind)
    assert.equal(5, e.failed_polls)
    assert.matches("gave up waiting after 5 failed polls in a row", e.message)
    assert.same({ "ThrottlingException", 1, 5, 1 }, reports[1])
    assert.same({ "ThrottlingException", 5, 5, 5 }, reports[5])
    assert.equal(5, #svc.calls)
    -- a success in between starts the count again; max_failures is configurable
    clock = fake_clock()
    local n = 0
    svc = fake_service(clock, { ["backup-1"] = function()
      n = n + 1
      if n % 2 == 0 then return { lifecycle = "CREATING", progress_percent = n } end
      if n > 9 then return { lifecycle = "AVAILABLE" } end
      return throttled()
    end })
    assert.equal("AVAILABLE", run(clock, svc, { "backup-1" }, { max_failures = 2 })[1].lifecycle)
    clock = fake_clock()
    svc = fake_service(clock, { ["backup-1"] = throttled })
    e = werr(run, clock, svc, { "backup-1" }, { max_failures = 2 })
    assert.equal(2, e.failed_polls)
    -- the timeout passing while polls fail gives the error, not "timed out"
    clock = fake_clock()
    svc = fake_service(clock, { ["backup-1"] = throttled })
    e = werr(run, clock, svc, { "backup-1" }, { timeout = 10 })
    assert.equal("ThrottlingException", e.code)
    assert.matches("the wait's timeout of 10 s passed while polls failed", e.message)
  end)

  it("caps the poll interval at max_delay even after failed polls", function()
    local clock = fake_clock()
    local n = 0
    local svc = fake_service(clock, { ["backup-1"] = function()
      n = n + 1
      if n % 3 == 0 then
        return errors.new{ kind = "transport", code = "CURLE_COULDNT_CONNECT", retryable = true }
      end
      return n > 12 and { lifecycle = "AVAILABLE" } or { lifecycle = "CREATING" }
    end })
    run(clock, svc, { "backup-1" }, { max_delay = 7 })
    for _, d in ipairs(clock.sleeps) do assert.is_true(d <= 7) end
    assert.equal(7, clock.sleeps[#clock.sleeps])
  end)

  it("raises non-retryable errors at once", function()
    local clock = fake_clock()
    local denied = errors.new{ kind = "service", code = "AccessDeniedException", status = 400 }
    local svc = fake_service(clock, { ["backup-1"] = function() return denied end })
    local e = werr(run, clock, svc, { "backup-1" })
    assert.equal(denied, e)
    assert.equal(1, #svc.calls)
    -- and errors that are not fsx errors (bugs) too
    svc = fake_service(clock, { ["backup-1"] = function() error("boom") end })
    local ok, err = pcall(run, clock, svc, { "backup-1" })
    assert.is_false(ok)
    assert.matches("boom", tostring(err))
  end)

  describe("many ids", function()
    it("describes up to 50 ids per call and returns results in the order of ids", function()
      local clock = fake_clock()
      local script, ids = {}, {}
      for i = 1, 120 do
        local id = string.format("backup-%08d", i)
        ids[i] = id
        script[id] = creating(i % 7 * 3)
      end
      ids[121] = ids[5]   -- a duplicate
      local svc = fake_service(clock, script)
      local items, info = run(clock, svc, ids)
      assert.equal(121, #items)
      for i, id in ipairs(ids) do
        assert.equal(id, items[i].backup_id)
        assert.equal("AVAILABLE", items[i].lifecycle)
      end
      assert.same({ 50, 50, 20 }, { #svc.calls[1], #svc.calls[2], #svc.calls[3] })
      -- later rounds ask only for the ones still pending
      local last = svc.calls[#svc.calls]
      assert.is_true(#last < 50)
      assert.is_true(info.polls >= 2)
    end)

    it("finds which id is missing when a batch call says not found", function()
      local clock = fake_clock()
      local svc = fake_service(clock, {
        ["backup-a"] = creating(5),
        ["backup-b"] = function(t) if t >= 6 then return creating(8)(t) end end,
      })
      local items = run(clock, svc, { "backup-a", "backup-b" })
      assert.same({ "AVAILABLE", "AVAILABLE" }, { items[1].lifecycle, items[2].lifecycle })
      assert.same({ "backup-a", "backup-b" }, svc.calls[1])
      assert.same({ "backup-a" }, svc.calls[2])
      assert.same({ "backup-b" }, svc.calls[3])
      -- the next round asks for the suspect alone first, the others in a batch
      assert.same({ "backup-b" }, svc.calls[4])
      assert.same({ "backup-a" }, svc.calls[5])
    end)

    it("batches the others while one id stays not found", function()
      local clock = fake_clock()
      local script, ids = {}, {}
      for i = 1, 40 do
        ids[i] = string.format("backup-%08d", i)
        script[ids[i]] = creating(100)
      end
      script[ids[40]] = function(t) if t >= 20 then return creating(100)(t) end end
      local svc = fake_service(clock, script)
      run(clock, svc, ids, { max_delay = 10 })
      -- round 1: the batch of 40 fails, then 40 single calls
      assert.equal(40, #svc.calls[1])
      for i = 2, 41 do assert.equal(1, #svc.calls[i]) end
      -- then while backup 40 is not found: it alone, and a batch of the other 39;
      -- once it is found, one batch of 40 a round
      local sizes = {}
      for i = 42, #svc.calls do sizes[#sizes + 1] = #svc.calls[i] end
      local k = 1
      while sizes[k] == 1 do
        assert.equal(39, sizes[k + 1])
        k = k + 2
      end
      assert.is_true(k > 3, "the not-found phase lasted more than one round")
      for i = k, #sizes do assert.equal(40, sizes[i]) end
      assert.is_true(#sizes - k >= 2)
    end)

    it("raises for the first backup that fails, naming it", function()
      local clock = fake_clock()
      local svc = fake_service(clock, {
        ["backup-a"] = creating(5),
        ["backup-b"] = function(t)
          return t < 4 and { lifecycle = "CREATING" }
            or { lifecycle = "FAILED", failure_details = { message = "no space" } }
        end,
      })
      local e = werr(run, clock, svc, { "backup-a", "backup-b" })
      assert.equal("BackupFailed", e.code)
      assert.equal("backup-b", e.backup_id)
    end)

    it("times out naming the pending ones and their states", function()
      local clock = fake_clock()
      local svc = fake_service(clock, {
        ["backup-a"] = creating(5), ["backup-b"] = creating(500), ["backup-c"] = creating(600),
      })
      local e = werr(run, clock, svc, { "backup-a", "backup-b", "backup-c" }, { timeout = 50 })
      assert.equal("WaiterTimeout", e.code)
      assert.same({ "backup-b", "backup-c" }, e.pending)
      assert.same({ ["backup-b"] = "CREATING", ["backup-c"] = "CREATING" }, e.states)
      assert.matches("%(and 1 more pending%)", e.message)
    end)
  end)

  describe("state_text", function()
    it("says what a resource is and what it still waits for", function()
      assert.equal("not seen yet", waiter.state_text("backup", nil))
      assert.equal("CREATING (40%)", waiter.state_text("backup", { lifecycle = "CREATING", progress_percent = 40 }))
      assert.equal("MISCONFIGURED_UNAVAILABLE (recoverable: waiting)",
                   waiter.state_text("file_system", { lifecycle = "MISCONFIGURED_UNAVAILABLE" }))
      local vol = { lifecycle = "CREATED", administrative_actions = {
        { administrative_action_type = "VOLUME_UPDATE", status = "IN_PROGRESS" },
        { administrative_action_type = "DOWNLOAD_DATA_FROM_BACKUP", status = "IN_PROGRESS", progress_percent = 12 },
      } }
      assert.equal("CREATED, downloading data from the backup (IN_PROGRESS, 12%; read-only until COMPLETED)",
                   waiter.state_text("volume", vol))
      assert.equal("IN_PROGRESS", waiter.download_action(vol).status)
      vol.administrative_actions[2].status = "COMPLETED"
      assert.equal("CREATED", waiter.state_text("volume", vol))
      -- a download still pending on a volume that is not CREATED yet is not mentioned
      assert.equal("CREATING", waiter.state_text("volume", { lifecycle = "CREATING", administrative_actions = {
        { administrative_action_type = "DOWNLOAD_DATA_FROM_BACKUP", status = "PENDING" } } }))
      assert.is_nil(waiter.download_action({ administrative_actions = "bogus" }))
    end)
  end)

  describe("options", function()
    it("fills the documented defaults", function()
      local o = waiter.options(nil, "wait_for_backup", { sleep = print, monotime = os.clock,
                                                         random = math.random })
      assert.same({ 3600, 2, 30, 30, 5 }, { o.timeout, o.min_delay, o.max_delay, o.not_found_grace,
                                            o.max_failures })
      assert.equal(print, o.sleep)
      assert.equal(os.clock, o.monotime)
      assert.same(o.timeout, waiter.options(true, "x", { sleep = print, monotime = os.clock }).timeout)
    end)

    it("rejects unknown options, bad types and max_delay < min_delay", function()
      local function verr(o, field)
        local e = werr(waiter.options, o, "create_backup", nil, "wait")
        assert.equal("validation", e.kind)
        assert.matches("^create_backup: wait%." .. field, e.message)
      end
      verr({ timout = 5 }, "timout: unknown waiter option")
      verr({ timeout = "5" }, "timeout: must be a number")
      verr({ min_delay = -1 }, "min_delay: must be a finite number")
      verr({ min_delay = 5, max_delay = 1 }, "max_delay: must not be less than min_delay")
      verr({ on_progress = true }, "on_progress: must be a function")
      verr({ on_error = "print" }, "on_error: must be a function")
      verr({ max_failures = 0 }, "max_failures: must be a whole number >= 1")
      verr({ max_failures = 2.5 }, "max_failures: must be a whole number >= 1")
      local e = werr(waiter.options, 5, "wait_for_backup")
      assert.equal("validation", e.kind)
      -- a min_delay above the default max_delay raises the max along with it
      assert.equal(60, waiter.options({ min_delay = 60 }, "x", { sleep = print, monotime = os.clock }).max_delay)
    end)
  end)
end)

-- ---------------------------------------------------------------------------
-- The client methods over a fake transport emulating FSx

describe("client waiters over a fake transport", function()
  local fsx = require "fsx"
  local json = require "cjson"
  local CREDS = { access_key_id = "AKIDEXAMPLE", secret_access_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY" }

  local function target(req)
    for _, h in ipairs(req.headers) do
      if h[1]:lower() == "x-amz-target" then return (h[2]:gsub("^.*%.", "")) end
    end
  end

  -- handlers[operation](params, elapsed) -> status, body table
  local function fake_client(handlers, extra)
    local clock = fake_clock()
    local start = clock.t
    local sent = {}
    local o = {
      region = "us-east-1", credentials = CREDS, endpoint_url = "http://127.0.0.1:1",
      max_attempts = 2, sleep = clock.sleep, now = clock.now, monotime = clock.now, random = function() return 0.5 end,
      transport = function(req)
        local op = target(req)
        local params = json.decode(req.body)
        sent[#sent + 1] = { op = op, params = params }
        local status, body = handlers[op](params, clock.t - start)
        return { status = status, headers = { ["x-amzn-requestid"] = "r" .. #sent }, body = json.encode(body) }
      end,
    }
    for k, v in pairs(extra or {}) do o[k] = v end
    return fsx.new(o), sent, clock
  end

  local function backup_doc(id, state, pct, extra)
    local b = { BackupId = id, Lifecycle = state, ProgressPercent = pct, Type = "USER_INITIATED",
                CreationTime = 1700000000, FileSystem = { FileSystemId = "fs-0123456789abcdef0" } }
    for k, v in pairs(extra or {}) do b[k] = v end
    return b
  end

  local ID = "backup-0123456789abcdef0"

  it("wait_for_backup polls DescribeBackups with the client's clock until AVAILABLE", function()
    local c, sent, clock = fake_client{
      DescribeBackups = function(p, t)
        assert.same({ ID }, p.BackupIds)
        if t < 10 then return 200, { Backups = { backup_doc(ID, "CREATING", math.floor(t * 9)) } } end
        return 200, { Backups = { backup_doc(ID, "AVAILABLE", 100) } }
      end,
    }
    local progress = {}
    local b, info = c:wait_for_backup(ID, {
      on_progress = function(x) progress[#progress + 1] = x.progress_percent end,
    })
    assert.equal("AVAILABLE", b.lifecycle)
    assert.equal(ID, b.backup_id)
    assert.equal("fs-0123456789abcdef0", b.file_system.file_system_id)
    assert.same({ 2, 3, 4.5, 6.75 }, clock.sleeps)
    assert.same({ 0, 18, 45, 85, 100 }, progress)
    assert.equal(5, #sent)
    assert.equal(5, info.polls)
  end)

  it("keeps polling when DescribeBackups stays throttled past the client's retries", function()
    local c, sent = fake_client{
      DescribeBackups = function(_, t)
        if t < 20 then return 400, { __type = "ThrottlingException", message = "Rate exceeded" } end
        return 200, { Backups = { backup_doc(ID, "AVAILABLE", 100) } }
      end,
    }
    local b = c:wait_for_backup(ID)
    assert.equal("AVAILABLE", b.lifecycle)
    assert.is_true(#sent > 4)   -- each round made 2 attempts (max_attempts = 2)
  end)

  it("re-raises BackupNotFound after the grace period", function()
    local c = fake_client{
      DescribeBackups = function()
        return 400, { __type = "BackupNotFound", message = "Backup(s) not found" }
      end,
    }
    local e = werr(c.wait_for_backup, c, ID, { not_found_grace = 5 })
    assert.equal("service", e.kind)
    assert.equal("BackupNotFound", e.code)
    assert.equal("DescribeBackups", e.operation)
  end)

  it("wait_for_backups sends one DescribeBackups per 50 ids a round", function()
    local ids = {}
    for i = 1, 60 do ids[i] = string.format("backup-%017x", i) end
    local c, sent = fake_client{
      DescribeBackups = function(p, t)
        local out = {}
        for _, id in ipairs(p.BackupIds) do
          out[#out + 1] = backup_doc(id, t >= 2 and "AVAILABLE" or "CREATING", t >= 2 and 100 or 0)
        end
        return 200, { Backups = out }
      end,
    }
    local list = c:wait_for_backups(ids)
    assert.equal(60, #list)
    for i, b in ipairs(list) do assert.equal(ids[i], b.backup_id) end
    assert.equal(4, #sent)
    assert.same({ 50, 10, 50, 10 }, { #sent[1].params.BackupIds, #sent[2].params.BackupIds,
                                     #sent[3].params.BackupIds, #sent[4].params.BackupIds })
    local e = werr(c.wait_for_backups, c, {})
    assert.equal("validation", e.kind)
    e = werr(c.wait_for_backup, c, 42)
    assert.matches("^wait_for_backup: backup_id: must be a non%-empty string", e.message)
  end)

  it("create_backup{ wait = } sends CreateBackup once, then waits for that backup", function()
    local c, sent = fake_client{
      CreateBackup = function(p)
        return 200, { Backup = backup_doc(ID, "CREATING", 0, { Tags = p.Tags }) }
      end,
      DescribeBackups = function(_, t)
        if t < 3 then return 400, { __type = "BackupNotFound", message = "not yet" } end
        return 200, { Backups = { backup_doc(ID, t < 6 and "CREATING" or "AVAILABLE", t < 6 and 50 or 100) } }
      end,
    }
    local b, meta = c:create_backup{ file_system_id = "fs-0123456789abcdef0", tags = { Name = "x" },
                                     client_request_token = "tok-1", wait = { min_delay = 1 } }
    assert.equal("AVAILABLE", b.lifecycle)
    assert.equal("tok-1", meta.client_request_token)
    assert.equal(1, meta.attempts)
    assert.is_true(meta.wait.polls >= 3)
    assert.equal("CreateBackup", sent[1].op)
    assert.equal("tok-1", sent[1].params.ClientRequestToken)
    assert.is_nil(sent[1].params.wait)
    for i = 2, #sent do assert.equal("DescribeBackups", sent[i].op) end
  end)

  it("create_backup{ wait = } failing carries the new backup's id", function()
    local c = fake_client{
      CreateBackup = function() return 200, { Backup = backup_doc(ID, "CREATING", 0) } end,
      DescribeBackups = function()
        return 200, { Backups = { backup_doc(ID, "FAILED", 0, { FailureDetails = { Message = "disk full" } }) } }
      end,
    }
    local e = werr(c.create_backup, c, { file_system_id = "fs-0123456789abcdef0", wait = true })
    assert.equal("BackupFailed", e.code)
    assert.equal(ID, e.backup_id)
    assert.equal("disk full", e.failure_message)
    assert.is_true(e.created)
    assert.equal("create_backup: backup " .. ID .. " is FAILED: disk full", e.message)
  end)

  it("create_backup rejects bad wait options before sending anything", function()
    local c, sent = fake_client{}
    local e = werr(c.create_backup, c, { file_system_id = "fs-0123456789abcdef0", wait = { timeout = -1 } })
    assert.equal("validation", e.kind)
    assert.matches("^create_backup: wait%.timeout", e.message)
    e = werr(c.create_backup, c, { file_system_id = "fs-0123456789abcdef0", wait = "yes" })
    assert.equal("validation", e.kind)
    assert.equal(0, #sent)
  end)
end)
