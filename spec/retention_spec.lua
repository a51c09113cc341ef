-- fsx.retention: the pure decision function on tables of backup histories,
-- then prune_backups against the local FSx server (dry run and real deletion).
local retention = require "fsx.retention"
local errors = require "fsx.error"

local DAY = 86400
local NOW = 1700000000  -- 2023-11-14T22:13:20Z

local seq = 0
-- a backup `age` days old (snake_case, as DescribeBackups returns it)
local function b(age, fields)
  seq = seq + 1
  local t = {
    backup_id = string.format("backup-%017x", seq),
    lifecycle = "AVAILABLE", type = "USER_INITIATED",
    creation_time = NOW - age * DAY,
    file_system = { file_system_id = "fs-0123456789abcdef0" },
    tags = {},
  }
  for k, v in pairs(fields or {}) do t[k] = v end
  return t
end

-- a copy of backup t with fields replaced
local function copy(t, fields)
  local out = {}
  for k, v in pairs(t) do out[k] = v end
  for k, v in pairs(fields or {}) do out[k] = v end
  return out
end

local function ids(list)
  local out = {}
  for i, d in ipairs(list) do out[i] = d.backup.backup_id end
  return out
end

local function rule_of(plan, backup)
  for _, d in ipairs(plan.kept) do
    if d.backup == backup then return "kept", d.rule, d.reason end
  end
  for _, d in ipairs(plan.deleted) do
    if d.backup == backup then return "deleted", d.rule, d.reason end
  end
end

-- where, rule and reason of the backup with this id (whichever description the plan reports)
local function rule_of_id(plan, id)
  for _, where in ipairs{ "kept", "deleted" } do
    for _, d in ipairs(plan[where]) do
      if d.backup.backup_id == id then return where, d.rule, d.reason end
    end
  end
end

-- where ("kept"/"deleted") and rule only
local function wr(plan, backup)
  local where, rule = rule_of(plan, backup)
  return { where, rule }
end

local function verr(f, ...)
  local ok, err = pcall(f, ...)
  assert.is_false(ok, "expected an error")
  assert.is_true(errors.is_error(err, "ValidationError"), tostring(err))
  return err
end

describe("retention.plan", function()
  it("keeps the newest keep_last and deletes the rest, newest first", function()
    local h = { b(5), b(1), b(3), b(2), b(4) }   -- out of order on purpose
    local p = retention.plan(h, { keep_last = 2, now = NOW })
    assert.same({ h[2].backup_id, h[4].backup_id }, ids(p.kept))
    assert.same({ h[3].backup_id, h[5].backup_id, h[1].backup_id }, ids(p.deleted))
    assert.same({ "kept", "newest" }, wr(p, h[2]))
    assert.same({ "kept", "keep_last" }, wr(p, h[4]))
    local _, rule, reason = rule_of(p, h[1])
    assert.equal("expired", rule)
    assert.equal("not one of the 2 newest", reason)
  end)

  it("keeps backups younger than keep_days", function()
    local h = { b(0.5), b(6.9), b(7.1), b(30) }
    local p = retention.plan(h, { keep_days = 7, now = NOW })
    assert.same({ h[1].backup_id, h[2].backup_id }, ids(p.kept))
    assert.same({ h[3].backup_id, h[4].backup_id }, ids(p.deleted))
    assert.same({ "kept", "keep_days" }, wr(p, h[2]))
    assert.matches("^7%.1 days old, older than 7 days$", select(3, rule_of(p, h[3])))
  end)

  it("keeps what either limit keeps when both are given", function()
    local h = { b(1), b(2), b(10), b(20), b(40) }
    local p = retention.plan(h, { keep_last = 3, keep_days = 15, now = NOW })
    assert.same({ h[1].backup_id, h[2].backup_id, h[3].backup_id }, ids(p.kept))
    assert.same({ h[4].backup_id, h[5].backup_id }, ids(p.deleted))
    assert.matches("not one of the 3 newest and 20%.0 days old", select(3, rule_of(p, h[4])))
    p = retention.plan(h, { keep_last = 1, keep_days = 15, now = NOW })
    assert.same({ h[4].backup_id, h[5].backup_id }, ids(p.deleted))
  end)

  it("never deletes the newest AVAILABLE backup, even with keep_last = 0", function()
    local h = { b(100), b(200), b(300) }
    local p = retention.plan(h, { keep_last = 0, now = NOW })
    assert.same({ h[1].backup_id }, ids(p.kept))
    assert.same({ "kept", "newest" }, wr(p, h[1]))
    p = retention.plan(h, { keep_days = 0, now = NOW })
    assert.same({ h[1].backup_id }, ids(p.kept))
    -- the newest AVAILABLE one, not the newest one: a newer CREATING backup does not count
    local creating = b(0, { lifecycle = "CREATING", progress_percent = 10 })
    p = retention.plan({ creating, h[1], h[2] }, { keep_last = 0, now = NOW })
    assert.same({ creating.backup_id, h[1].backup_id }, ids(p.kept))
    assert.same({ "kept", "newest" }, wr(p, h[1]))
  end)

  it("never deletes AUTOMATIC backups unless asked, nor AWS_BACKUP ones at all", function()
    local auto = b(90, { type = "AUTOMATIC" })
    local awsb = b(80, { type = "AWS_BACKUP" })
    local user_old, user_new = b(70), b(1)
    local h = { auto, awsb, user_old, user_new }
    local p = retention.plan(h, { keep_last = 1, now = NOW })
    assert.same({ user_old.backup_id }, ids(p.deleted))
    local _, rule, reason = rule_of(p, auto)
    assert.equal("type", rule)
    assert.matches("type AUTOMATIC is not pruned %(set only_user_initiated = false", reason)
    _, rule, reason = rule_of(p, awsb)
    assert.equal("type", rule)
    assert.matches("AWS Backup owns it and FSx cannot delete it", reason)
    -- asked for: AUTOMATIC becomes eligible, AWS_BACKUP stays
    p = retention.plan(h, { keep_last = 1, only_user_initiated = false,
                            include_types = { "AUTOMATIC" }, now = NOW })
    assert.same({ user_old.backup_id, auto.backup_id }, ids(p.deleted))
    assert.equal("type", select(2, rule_of(p, awsb)))
    -- include_types alone means only_user_initiated = false
    p = retention.plan(h, { keep_last = 1, include_types = { "AUTOMATIC" }, now = NOW })
    assert.same({ user_old.backup_id, auto.backup_id }, ids(p.deleted))
    local e = verr(retention.plan, h, { keep_last = 1, include_types = { "AUTOMATIC", "AWS_BACKUP" } })
    assert.matches("include_types%[2%]: AWS_BACKUP backups cannot be deleted through FSx", e.message)
  end)

  it("protects the newest backup it could delete itself, never an AWS_BACKUP one", function()
    -- an AWS_BACKUP backup newer than every user backup must not take the
    -- "newest" protection: the newest USER_INITIATED one keeps it
    local awsb = b(0.5, { type = "AWS_BACKUP" })
    local u1, u2 = b(10), b(20)
    local p = retention.plan({ awsb, u1, u2 }, { keep_last = 0, now = NOW })
    assert.same({ u2.backup_id }, ids(p.deleted))
    assert.same({ "kept", "newest" }, wr(p, u1))
    -- the same with AUTOMATIC ones pruned too: the newest of those it may
    -- delete, and the newest USER_INITIATED one, since automatic backups
    -- expire on their own
    local auto, auto_old = b(5, { type = "AUTOMATIC" }), b(30, { type = "AUTOMATIC" })
    p = retention.plan({ awsb, auto, u1, u2, auto_old }, { keep_days = 1, include_types = { "AUTOMATIC" },
                                                         now = NOW })
    assert.same({ "kept", "newest" }, wr(p, auto))
    assert.same({ "kept", "newest" }, wr(p, u1))
    assert.matches("newest USER_INITIATED backup of file system", select(3, rule_of(p, u1)))
    assert.same({ u2.backup_id, auto_old.backup_id }, ids(p.deleted))
  end)

  it("refuses contradictory type options", function()
    local e = verr(retention.plan, {}, { keep_last = 1, only_user_initiated = true,
                                         include_types = { "AUTOMATIC" } })
    assert.matches("include_types: names AUTOMATIC but only_user_initiated is true", e.message)
    e = verr(retention.plan, {}, { keep_last = 1, only_user_initiated = false })
    assert.matches("only_user_initiated: is false but include_types names no other type", e.message)
    verr(retention.plan, {}, { keep_last = 1, include_types = { "MANUAL" } })
    -- USER_INITIATED in include_types is no contradiction
    assert.same({ kept = {}, deleted = {} },
                retention.plan({}, { keep_last = 1, only_user_initiated = true,
                                     include_types = { "USER_INITIATED" } }))
  end)

  it("never deletes a backup that is not AVAILABLE (FAILED ones unless asked)", function()
    local h = { b(1) }
    for i, state in ipairs{ "CREATING", "PENDING", "TRANSFERRING", "COPYING", "DELETED" } do
      h[#h + 1] = b(100 + i, { lifecycle = state })
    end
    local p = retention.plan(h, { keep_last = 0, now = NOW })
    assert.same({}, p.deleted)
    for i = 2, #h do
      local where, rule, reason = rule_of(p, h[i])
      assert.equal("kept", where)
      assert.equal("lifecycle", rule)
      assert.matches("only AVAILABLE backups are pruned", reason)
    end
  end)

  it("only touches backups matching tag_filter, ranking them among themselves", function()
    local n1 = b(1, { tags = { { key = "job", value = "nightly" } } })
    local w1 = b(2, { tags = { { key = "job", value = "weekly" } } })
    local n2 = b(3, { tags = { { key = "job", value = "nightly" }, { key = "x", value = "y" } } })
    local n3 = b(4, { tags = { { key = "job", value = "nightly" } } })
    local none = b(5)
    local h = { n1, w1, n2, n3, none }
    local p = retention.plan(h, { keep_last = 1, tag_filter = { job = "nightly" }, now = NOW })
    assert.same({ n2.backup_id, n3.backup_id }, ids(p.deleted))
    assert.same({ "kept", "tag_filter" }, wr(p, w1))
    assert.equal("tag_filter", select(2, rule_of(p, none)))
    p = retention.plan(h, { keep_last = 1, tag_filter = { job = { "nightly", "weekly" } }, now = NOW })
    assert.same({ w1.backup_id, n2.backup_id, n3.backup_id }, ids(p.deleted))
    p = retention.plan(h, { keep_last = 0, tag_filter = { job = true, x = "y" }, now = NOW })
    assert.same({}, p.deleted)   -- n2 is the only match, so the newest
    verr(retention.plan, h, { keep_last = 1, tag_filter = { job = 1 } })
    verr(retention.plan, h, { keep_last = 1, tag_filter = { job = {} } })
  end)

  it("ranks each volume and the file system separately", function()
    local fs_a, fs_b = b(10), b(20)
    local v1a = b(1, { volume = { volume_id = "fsvol-0123456789abcdef0" } })
    local v1b = b(5, { volume = { volume_id = "fsvol-0123456789abcdef0" } })
    local v2a = b(30, { volume = { volume_id = "fsvol-0fedcba9876543210" } })
    local p = retention.plan({ fs_a, fs_b, v1a, v1b, v2a }, { keep_last = 1, now = NOW })
    assert.same({ v1b.backup_id, fs_b.backup_id }, ids(p.deleted))
    assert.matches("newest AVAILABLE backup of volume fsvol%-0fedcba9876543210", select(3, rule_of(p, v2a)))
  end)

  it("keeps backups of other resources when scoped", function()
    local mine, mine_old = b(1), b(9)
    local other = b(50, { file_system = { file_system_id = "fs-0fedcba9876543210" } })
    local p = retention.plan({ mine, mine_old, other },
                             { keep_last = 1, file_system_id = "fs-0123456789abcdef0", now = NOW })
    assert.same({ mine_old.backup_id }, ids(p.deleted))
    assert.equal("scope", select(2, rule_of(p, other)))
    local vol = b(40, { volume = { volume_id = "fsvol-0123456789abcdef0" } })
    local vol_old = b(41, { volume = { volume_id = "fsvol-0123456789abcdef0" } })
    p = retention.plan({ mine, vol, vol_old }, { keep_last = 1, volume_id = "fsvol-0123456789abcdef0",
                                                 now = NOW })
    assert.same({ vol_old.backup_id }, ids(p.deleted))
    assert.equal("scope", select(2, rule_of(p, mine)))
  end)

  it("reads ISO 8601 creation times and keeps backups without one", function()
    local iso = b(0, { creation_time = "2023-11-04T22:13:20Z" })            -- 10 days
    local iso_off = b(0, { creation_time = "2023-11-14T23:13:20.500+01:00" }) -- 0 days
    local bad = b(0, { creation_time = "yesterday" })
    local missing = b(0, { creation_time = false })
    local p = retention.plan({ iso, iso_off, bad, missing }, { keep_days = 5, now = NOW })
    assert.same({ iso.backup_id }, ids(p.deleted))
    assert.equal("creation_time", select(2, rule_of(p, bad)))
    assert.equal("creation_time", select(2, rule_of(p, missing)))
    assert.equal(NOW - 10 * DAY, retention.epoch("2023-11-04T22:13:20Z"))
    assert.equal(NOW + 0.5, retention.epoch("2023-11-14T23:13:20.500+01:00"))
    assert.equal(NOW, retention.epoch("1700000000"))
    assert.is_nil(retention.epoch("2023-11-14T23:13:20+1"))
  end)

  it("is a pure function of its input", function()
    local h = { b(3), b(1), b(2) }
    local before = {}
    for i, x in ipairs(h) do before[i] = x.backup_id end
    local p1 = retention.plan(h, { keep_last = 1, now = NOW })
    local p2 = retention.plan(h, { keep_last = 1, now = NOW })
    assert.same(ids(p1.deleted), ids(p2.deleted))
    for i, x in ipairs(h) do assert.equal(before[i], x.backup_id) end
  end)

  it("decides a mixed history of types, states, ages and tags", function()
    local other = { file_system_id = "fs-0fedcba9876543210" }
    local h = {
      b(0.1, { lifecycle = "CREATING" }),                        -- 1
      b(1, { type = "AUTOMATIC" }),                              -- 2
      b(2),                                                      -- 3
      b(3, { tags = { { key = "keep", value = "forever" } } }),  -- 4
      b(8),                                                      -- 5
      b(9, { lifecycle = "FAILED" }),                            -- 6
      b(12),                                                     -- 7
      b(20),                                                     -- 8
      b(35, { type = "AWS_BACKUP" }),                            -- 9
      b(60),                                                     -- 10
      b(61, { file_system = other }),                            -- 11 (its own group)
      b(90, { file_system = other }),                            -- 12
    }
    local p = retention.plan(h, { keep_last = 2, keep_days = 14, now = NOW })
    local want = { "lifecycle", "type", "newest", "keep_last", "keep_days", "failed", "keep_days",
                   "expired", "type", "expired", "newest", "keep_last" }
    for i, x in ipairs(h) do
      assert.equal(want[i], select(2, rule_of(p, x)), "backup #" .. i)
    end
    assert.same({ h[8].backup_id, h[10].backup_id }, ids(p.deleted))
    -- only the untagged user backups of the first file system: #4 drops out of the ranking
    p = retention.plan(h, { keep_last = 2, keep_days = 14, now = NOW,
                            file_system_id = "fs-0123456789abcdef0",
                            tag_filter = { keep = "never" } })
    assert.same({}, p.deleted)
    p = retention.plan(h, { keep_last = 1, keep_days = 5, now = NOW,
                            file_system_id = "fs-0123456789abcdef0" })
    want = { "lifecycle", "type", "newest", "keep_days", "expired", "failed", "expired",
             "expired", "type", "expired", "scope", "scope" }
    for i, x in ipairs(h) do
      assert.equal(want[i], select(2, rule_of(p, x)), "backup #" .. i)
    end
  end)

  it("decides over distinct backup ids: a backup listed twice counts once", function()
    local h1, h2, h3, h4 = b(1), b(2), b(3), b(4)
    -- the listing repeats h1 and h2 (a page overlap) and h3 within a page
    local listing = { h1, h2, h2, h1, h3, h3, h4 }
    local p = retention.plan(listing, { keep_last = 2, now = NOW })
    assert.same({ h1.backup_id, h2.backup_id }, ids(p.kept))
    assert.same({ h3.backup_id, h4.backup_id }, ids(p.deleted))
    -- equal descriptions in other tables (and times in other notations) are one backup
    local h3_again = copy(h3, { creation_time = os.date("!%Y-%m-%dT%H:%M:%SZ", h3.creation_time) })
    p = retention.plan({ h1, h2, h3, h3_again, h4 }, { keep_last = 2, now = NOW })
    assert.same({ h3_again.backup_id, h4.backup_id }, ids(p.deleted))
  end)

  -- A backup listed twice with descriptions that disagree is kept, and the
  -- others are planned as if it were not listed: it takes no rank.
  it("keeps a backup whose descriptions disagree in creation time, ranking the others without it", function()
    local h1, h2, h3 = b(1), b(2), b(3)
    local x_new = b(0.5)                                   -- the newest, by its first description
    local x_old = copy(x_new, { creation_time = NOW - 10 * DAY })
    for _, listing in ipairs{ { x_new, h1, h2, h3, x_old }, { x_old, h1, h2, x_new, h3 } } do
      local p = retention.plan(listing, { keep_last = 1, now = NOW })
      local where, rule, reason = rule_of_id(p, x_new.backup_id)
      assert.same({ "kept", "conflict" }, { where, rule })
      assert.equal("its descriptions in the listing disagree (creation_time); kept", reason)
      -- h1 is the newest of the rest and keeps its place
      assert.same({ "kept", "newest" }, wr(p, h1))
      assert.same({ h2.backup_id, h3.backup_id }, ids(p.deleted))
      assert.equal(4, #p.kept + #p.deleted)
    end
    -- a time in another notation is the same time, not a conflict
    local x_iso = copy(x_old, { creation_time = os.date("!%Y-%m-%dT%H:%M:%S.000Z", x_old.creation_time) })
    local p = retention.plan({ x_old, h1, x_iso }, { keep_last = 1, now = NOW })
    assert.same({ x_iso.backup_id }, ids(p.deleted))
  end)

  it("keeps a backup whose descriptions disagree in lifecycle", function()
    local h1, h2 = b(1), b(2)
    for _, state in ipairs{ "DELETED", "CREATING", "FAILED" } do
      local x = b(5)
      local x_other = copy(x, { lifecycle = state })
      for _, listing in ipairs{ { h1, x_other, h2, x }, { h1, x, h2, x_other } } do
        for _, extra in ipairs{ {}, { include_failed = true } } do
          local opts = { keep_last = 1, now = NOW, include_failed = extra.include_failed }
          local p = retention.plan(listing, opts)
          assert.same({ h2.backup_id }, ids(p.deleted), state)
          local _, rule, reason = rule_of_id(p, x.backup_id)
          assert.equal("conflict", rule)
          assert.matches("(lifecycle)", reason, 1, true)
        end
      end
    end
  end)

  it("keeps a backup whose descriptions disagree in the tags tag_filter reads, only under a filter", function()
    local nightly = { { key = "job", value = "nightly" } }
    local h1, h2 = b(1, { tags = nightly }), b(2, { tags = nightly })
    local x = b(5, { tags = nightly })
    local x_untagged = copy(x, { tags = { { key = "job", value = "weekly" } } })
    local p = retention.plan({ h1, x, h2, x_untagged }, { keep_last = 1, tag_filter = { job = "nightly" }, now = NOW })
    assert.same({ h2.backup_id }, ids(p.deleted))
    assert.same({ "kept", "conflict" }, wr(p, x_untagged))
    assert.matches("(tags)", select(3, rule_of(p, x_untagged)), 1, true)
    -- both match (or no filter): the tags do not matter to the plan
    p = retention.plan({ h1, x, h2, x_untagged }, { keep_last = 1, tag_filter = { job = true }, now = NOW })
    assert.same({ h2.backup_id, x_untagged.backup_id }, ids(p.deleted))
    p = retention.plan({ h1, x, h2, x_untagged }, { keep_last = 1, now = NOW })
    assert.same({ h2.backup_id, x_untagged.backup_id }, ids(p.deleted))
  end)

  it("keeps FAILED backups when some backup's descriptions disagree (the keep window is unknown)", function()
    local opts = { keep_last = 1, only_user_initiated = false, include_types = { "AUTOMATIC" },
                   include_failed = true, now = NOW }
    local a = b(1, { type = "AUTOMATIC" })
    local x = b(3)                                     -- the only USER_INITIATED one: it bounds the window
    local x_older = copy(x, { creation_time = NOW - 3.5 * DAY })
    local c = b(10, { type = "AUTOMATIC" })
    local f = b(2, { lifecycle = "FAILED" })           -- inside the window that x makes
    for _, listing in ipairs{ { a, x, c, f }, { a, x_older, c, f } } do
      assert.same({ c.backup_id }, ids(retention.plan(listing, opts).deleted))
    end
    local p = retention.plan({ a, x, c, f, x_older }, opts)
    assert.same({ c.backup_id }, ids(p.deleted))
    assert.same({ "kept", "failed" }, wr(p, f))
    assert.matches("descriptions disagree", select(3, rule_of(p, f)))
  end)

  it("keeps a backup whose descriptions disagree in type, file system or volume, naming every field", function()
    local h1 = b(1)
    local x = b(5)
    local cases = {
      { copy(x, { type = "AUTOMATIC" }), "type" },
      { copy(x, { file_system = { file_system_id = "fs-0fedcba9876543210" } }), "file_system" },
      { copy(x, { volume = { volume_id = "fsvol-0123456789abcdef0" } }), "volume" },
      { copy(x, { lifecycle = "DELETED", creation_time = NOW - 1 * DAY }), "creation_time, lifecycle" },
    }
    for _, c in ipairs(cases) do
      local p = retention.plan({ h1, x, c[1] }, { keep_last = 0, now = NOW,
                                                  only_user_initiated = false, include_types = { "AUTOMATIC" } })
      assert.same({}, p.deleted, c[2])
      assert.equal("its descriptions in the listing disagree (" .. c[2] .. "); kept", select(3, rule_of(p, c[1])))
    end
  end)

  it("breaks ties of equal creation times by backup id, whatever the order", function()
    local x = b(5, { backup_id = "backup-0000000000000000a" })
    local y = b(5, { backup_id = "backup-0000000000000000b" })
    local z = b(5, { backup_id = "backup-0000000000000000c" })
    for _, order in ipairs{ { x, y, z }, { z, y, x }, { y, x, z }, { y, z, x } } do
      local p = retention.plan(order, { keep_last = 1, now = NOW })
      assert.same({ z.backup_id }, ids(p.kept))
      assert.same({ y.backup_id, x.backup_id }, ids(p.deleted))
    end
  end)

  it("keeps backups whose fields are missing or malformed, with a reason", function()
    local function without(t, field)
      t[field] = nil
      return t
    end
    local good = b(1)
    local no_id = without(b(50), "backup_id")
    local empty_id = b(51, { backup_id = "" })
    local no_fs = without(b(52), "file_system")
    local bad_fs = b(53, { file_system = "fs-0123456789abcdef0" })
    local nan = b(54, { creation_time = 0 / 0 })
    local inf = b(55, { creation_time = math.huge })
    local huge = b(56, { creation_time = "1e999" })
    local no_type = without(b(57), "type")
    local no_state = without(b(58), "lifecycle")
    local p = retention.plan({ good, no_id, empty_id, no_fs, bad_fs, nan, inf, huge, no_type, no_state },
                             { keep_last = 0, now = NOW })
    assert.same({}, p.deleted)
    assert.equal(10, #p.kept)
    assert.equal("backup_id", select(2, rule_of(p, no_id)))
    assert.equal("backup_id", select(2, rule_of(p, empty_id)))
    assert.equal("scope", select(2, rule_of(p, no_fs)))
    assert.equal("scope", select(2, rule_of(p, bad_fs)))
    assert.equal("creation_time", select(2, rule_of(p, nan)))
    assert.equal("creation_time", select(2, rule_of(p, inf)))
    assert.equal("creation_time", select(2, rule_of(p, huge)))
    assert.equal("type", select(2, rule_of(p, no_type)))
    assert.equal("lifecycle", select(2, rule_of(p, no_state)))
  end)

  it("prunes FAILED backups past the keep window only with include_failed", function()
    local a1, a2, a3 = b(1), b(5), b(30)
    local f_new = b(0.5, { lifecycle = "FAILED" })   -- newer than everything kept
    local f_mid = b(3, { lifecycle = "FAILED" })     -- inside the window of keep_last = 2
    local f_old = b(10, { lifecycle = "FAILED" })    -- older than every kept backup
    local f_other = b(40, { lifecycle = "FAILED", type = "AWS_BACKUP" })
    local h = { a1, a2, a3, f_new, f_mid, f_old, f_other }
    local p = retention.plan(h, { keep_last = 2, now = NOW })
    assert.same({ a3.backup_id }, ids(p.deleted))
    assert.matches("include_failed", select(3, rule_of(p, f_old)))
    p = retention.plan(h, { keep_last = 2, include_failed = true, now = NOW })
    assert.same({ f_old.backup_id, a3.backup_id }, ids(p.deleted))
    assert.same({ "deleted", "failed_expired" }, wr(p, f_old))
    assert.same({ "kept", "failed" }, wr(p, f_new))
    assert.same({ "kept", "failed" }, wr(p, f_mid))
    assert.same({ "kept", "type" }, wr(p, f_other))
    -- keep_days keeps young failed ones too
    p = retention.plan(h, { keep_last = 1, keep_days = 20, include_failed = true, now = NOW })
    assert.same({ a3.backup_id }, ids(p.deleted))
    -- fewer AVAILABLE backups than keep_last: the window reaches back to the start
    p = retention.plan({ a1, f_old }, { keep_last = 3, include_failed = true, now = NOW })
    assert.same({}, p.deleted)
    -- no AVAILABLE backup at all and only keep_days: old failed ones go
    p = retention.plan({ f_old, f_new }, { keep_days = 7, include_failed = true, now = NOW })
    assert.same({ f_old.backup_id }, ids(p.deleted))
    verr(retention.plan, h, { keep_last = 1, include_failed = "yes" })
  end)

  describe("over generated listings (property checks)", function()
    -- a small deterministic generator: no dependence on math.random's state
    local state = 12345
    local function rnd(n)
      state = (state * 1103515245 + 12345) % 2147483648
      return state % n + 1
    end
    local FSS = { "fs-0123456789abcdef0", "fs-0fedcba9876543210" }
    local VOLS = { false, "fsvol-0123456789abcdef0" }
    local TYPES = { "USER_INITIATED", "USER_INITIATED", "USER_INITIATED", "AUTOMATIC", "AWS_BACKUP" }
    local STATES = { "AVAILABLE", "AVAILABLE", "AVAILABLE", "AVAILABLE", "FAILED", "CREATING" }

    local function generate()
      local pool = {}
      for i = 1, rnd(25) do
        local t = {
          backup_id = string.format("backup-%017x", 0x5000 + i),
          lifecycle = STATES[rnd(#STATES)], type = TYPES[rnd(#TYPES)],
          creation_time = NOW - rnd(12) * DAY,   -- few distinct times: many ties
          file_system = { file_system_id = FSS[rnd(2)] },
          tags = rnd(3) == 1 and { { key = "job", value = "nightly" } } or {},
        }
        local v = VOLS[rnd(2)]
        if v then t.volume = { volume_id = v } end
        if rnd(15) == 1 then t.creation_time = nil end
        pool[#pool + 1] = t
      end
      -- the listing: every backup once, some twice or three times, shuffled
      local listing = {}
      for _, t in ipairs(pool) do
        for _ = 1, (rnd(3) == 1 and rnd(3) or 1) do listing[#listing + 1] = t end
      end
      for i = #listing, 2, -1 do
        local j = rnd(i)
        listing[i], listing[j] = listing[j], listing[i]
      end
      return pool, listing
    end

    local function id_set(list)
      local out = {}
      for _, d in ipairs(list) do out[#out + 1] = d.backup.backup_id end
      table.sort(out)
      return out
    end

    -- plan options; one in `tag_odds` has a tag filter
    local function generate_opts(tag_odds)
      local opts = { keep_last = rnd(4) - 1, now = NOW, include_failed = rnd(2) == 1 }
      if rnd(2) == 1 then opts.keep_days = rnd(8) end
      if rnd(3) == 1 then opts.include_types = { "AUTOMATIC" } end
      if rnd(tag_odds) == 1 then opts.tag_filter = { job = "nightly" } end
      return opts
    end

    it("gives the same decision as over the distinct backups, in any order", function()
      for _ = 1, 300 do
        local pool, listing = generate()
        local opts = generate_opts(4)
        local want = retention.plan(pool, opts)
        local got = retention.plan(listing, opts)
        assert.same(id_set(want.deleted), id_set(got.deleted))
        assert.same(id_set(want.kept), id_set(got.kept))
        -- each id once, and every backup of the pool decided
        local seen = {}
        for _, d in ipairs(got.kept) do seen[d.backup.backup_id] = (seen[d.backup.backup_id] or 0) + 1 end
        for _, d in ipairs(got.deleted) do seen[d.backup.backup_id] = (seen[d.backup.backup_id] or 0) + 1 end
        for _, t in ipairs(pool) do assert.equal(1, seen[t.backup_id]) end
        -- what the rule keeps is kept: per group, the newest candidate and
        -- min(keep_last, candidates) candidates stay; nothing deleted is
        -- AWS_BACKUP, unlisted by type, or not AVAILABLE/FAILED
        local per_group = {}
        for _, d in ipairs(got.deleted) do
          local x = d.backup
          assert.are_not.equal("AWS_BACKUP", x.type)
          assert.is_true(x.lifecycle == "AVAILABLE" or (opts.include_failed and x.lifecycle == "FAILED"))
          if x.lifecycle == "AVAILABLE" then
            local g = x.volume and x.volume.volume_id or x.file_system.file_system_id
            per_group[g] = per_group[g] or {}
            per_group[g][#per_group[g] + 1] = x
          end
        end
        local user_kept = {}
        for _, d in ipairs(got.kept) do
          local x = d.backup
          local g = x.file_system and (x.volume and x.volume.volume_id or x.file_system.file_system_id)
          if x.type == "USER_INITIATED" and x.lifecycle == "AVAILABLE" then user_kept[g] = true end
          -- ranked ones: newer than everything deleted of the same type class
          if d.rule == "keep_last" or (d.rule == "newest" and d.reason:match("^newest AVAILABLE")) then
            for _, gone in ipairs(per_group[g] or {}) do
              assert.is_true(x.creation_time > gone.creation_time or
                (x.creation_time == gone.creation_time and x.backup_id > gone.backup_id))
            end
          end
        end
        -- a group never loses its last USER_INITIATED AVAILABLE backup
        for g, list in pairs(per_group) do
          for _, gone in ipairs(list) do
            if gone.type == "USER_INITIATED" then assert.is_true(user_kept[g], "lost every user backup of " .. g) end
          end
        end
      end
    end)

    -- a description of t that differs in one field the plan reads
    local CHANGES = {
      function(t) t.creation_time = (t.creation_time or NOW) - rnd(5) * DAY end,
      function(t) t.lifecycle = t.lifecycle == "AVAILABLE" and STATES[5 + rnd(2) - 1] or "AVAILABLE" end,
      function(t) t.type = t.type == "USER_INITIATED" and "AUTOMATIC" or "USER_INITIATED" end,
      function(t) t.tags = #t.tags > 0 and {} or { { key = "job", value = "nightly" } } end,
      function(t) t.volume = not t.volume and { volume_id = VOLS[2] } or nil end,
    }

    it("never deletes a backup whose descriptions disagree, and plans the rest as if it were not listed", function()
      for _ = 1, 300 do
        local pool, listing = generate()
        local opts = generate_opts(2)
        -- some backups get a second, different description at a random place
        local conflicted, changed, rest = {}, {}, {}
        for i, t in ipairs(pool) do
          changed[i] = t
          if rnd(3) == 1 then
            local other = {}
            for k, v in pairs(t) do other[k] = v end
            local c = rnd(#CHANGES)
            CHANGES[c](other)
            table.insert(listing, rnd(#listing + 1), other)
            changed[i] = other
            -- tags matter only under a tag filter
            if c ~= 4 or opts.tag_filter then conflicted[t.backup_id] = true end
          end
          if not conflicted[t.backup_id] then rest[#rest + 1] = t end
        end
        local got = retention.plan(listing, opts)
        local seen = {}
        for _, where in ipairs{ "kept", "deleted" } do
          for _, d in ipairs(got[where]) do
            local id = d.backup.backup_id
            assert.is_nil(seen[id], "decided twice: " .. id)
            seen[id] = where
            if conflicted[id] then
              assert.equal("kept", where, id)
              assert.equal("conflict", d.rule, id)
            end
          end
        end
        for _, t in ipairs(pool) do assert.truthy(seen[t.backup_id], t.backup_id) end
        -- the others decided as if the conflicting backups were not listed,
        -- except that FAILED ones are kept then ...
        local want = {}
        for _, d in ipairs(retention.plan(rest, opts).deleted) do
          if not next(conflicted) or d.backup.lifecycle ~= "FAILED" then want[#want + 1] = d end
        end
        assert.same(id_set(want), id_set(got.deleted))
        -- ... so nothing is deleted that a listing with either description alone keeps
        for _, alone in ipairs{ pool, changed } do
          local gone = {}
          for _, id in ipairs(id_set(retention.plan(alone, opts).deleted)) do gone[id] = true end
          for _, d in ipairs(got.deleted) do assert.is_true(gone[d.backup.backup_id], d.backup.backup_id) end
        end
      end
    end)
  end)

  it("validates its options", function()
    verr(retention.plan, {}, { now = NOW })
    verr(retention.plan, {}, { keep_last = -1 })
    verr(retention.plan, {}, { keep_last = 1.5 })
    verr(retention.plan, {}, { keep_days = "7" })
    verr(retention.plan, {}, { keep_last = 1, now = "today" })
    local e = verr(retention.plan, {}, { keep_last = 1, keep_dyas = 3 })
    assert.matches("keep_dyas: unknown argument", e.message)
    verr(retention.plan, { "backup-1" }, { keep_last = 1 })
  end)
end)

describe("retention.delete_token", function()
  it("is stable per backup, distinct across backups and a valid ClientRequestToken", function()
    local t1 = retention.delete_token("backup-0123456789abcdef0")
    assert.equal(t1, retention.delete_token("backup-0123456789abcdef0"))
    assert.are_not.equal(t1, retention.delete_token("backup-0123456789abcdef1"))
    assert.is_true(#t1 <= 63)
    assert.matches("^[A-Za-z0-9_.-]+$", t1)
  end)
end)

-- ---------------------------------------------------------------------------
-- prune_backups against the local FSx server

describe("prune_backups against the local server", function()
  local fsx = require "fsx"
  local helpers = require "helpers"
  local FS = "fs-0123456789abcdef0"
  local OTHER = "fs-0fedcba9876543210"
  local VOL = "fsvol-0123456789abcdef0"
  local server, client

  -- a seeded history: id suffix, age in days, and API fields
  local function hist_id(n) return string.format("backup-%017x", 0xa000 + n) end
  local HISTORY = {
    { 1, 0.5 }, { 2, 3 }, { 3, 10 }, { 4, 20 }, { 5, 40 }, { 6, 80 },
    { 7, 90, Type = "AUTOMATIC" }, { 8, 95, Type = "AWS_BACKUP" },
    { 9, 100, Lifecycle = "FAILED" }, { 10, 0.1, Lifecycle = "CREATING", ProgressPercent = 20 },
    { 11, 200, Tags = { { Key = "retain", Value = "forever" } } },
    { 12, 300, FileSystemId = OTHER },
  }

  local function seed_history()
    local list = {}
    for i, h in ipairs(HISTORY) do
      local doc = { BackupId = hist_id(h[1]), FileSystemId = FS, CreationTime = NOW - h[2] * DAY }
      for k, v in pairs(h) do
        if type(k) == "string" then doc[k] = v end
      end
      list[i] = doc
    end
    server:seed{ backups = list }
  end

  local function live_ids()
    local out = {}
    for _, doc in ipairs(server:state().backups) do
      if doc.Lifecycle ~= "DELETED" then out[doc.BackupId] = true end
    end
    return out
  end

  local function sorted_ids(list)
    local out = ids(list)
    table.sort(out)
    return out
  end

  lazy_setup(function()
    server = helpers.start_fsx_server()
  end)

  lazy_teardown(function()
    if server then server:stop() end
  end)

  before_each(function()
    server:reset()
    server:config{ page_size = 3 }
    seed_history()
    client = fsx.new{ region = "us-east-1", endpoint_url = server.url, credentials = helpers.credentials() }
  end)

  it("plans a dry run by default and deletes nothing", function()
    local r = client:prune_backups{ file_system_id = FS, keep_last = 2, keep_days = 15, now = NOW }
    assert.is_true(r.dry_run)
    assert.same({ hist_id(4), hist_id(5), hist_id(6), hist_id(11) }, ids(r.deleted))
    assert.same({}, r.failed)
    -- everything of FS was listed (pages of 3, filtered by file system) and kept with a reason
    assert.equal(7, #r.kept)     -- 11 backups of FS listed, 4 to delete
    for _, k in ipairs(r.kept) do assert.truthy(k.reason) end
    assert.equal(0, #server:requests("DeleteBackup"))
    local live = live_ids()
    for n = 1, 12 do assert.is_true(live[hist_id(n)], hist_id(n)) end
    local reqs = server:requests("DescribeBackups")
    assert.equal(4, #reqs)     -- 11 backups of FS, 3 a page
    assert.same({ { Name = "file-system-id", Values = { FS } } }, reqs[1].params.Filters)
  end)

  it("deletes with dry_run = false, with derived tokens, and a re-run deletes nothing more", function()
    local r = client:prune_backups{ file_system_id = FS, keep_last = 2, keep_days = 15, now = NOW,
                                    dry_run = false }
    assert.is_false(r.dry_run)
    assert.same({ hist_id(4), hist_id(5), hist_id(6), hist_id(11) }, ids(r.deleted))
    for _, d in ipairs(r.deleted) do assert.equal("DELETED", d.lifecycle) end
    local live = live_ids()
    for _, d in ipairs(r.deleted) do assert.is_nil(live[d.backup.backup_id]) end
    for _, k in ipairs(r.kept) do assert.is_true(live[k.backup.backup_id], k.backup.backup_id) end
    assert.is_true(live[hist_id(12)])
    local reqs = server:requests("DeleteBackup")
    assert.equal(4, #reqs)
    for _, q in ipairs(reqs) do
      assert.equal(retention.delete_token(q.params.BackupId), q.client_request_token)
    end
    local again = client:prune_backups{ file_system_id = FS, keep_last = 2, keep_days = 15, now = NOW,
                                        dry_run = false }
    assert.same({}, again.deleted)
    assert.equal(4, #server:requests("DeleteBackup"))
  end)

  it("retries a DeleteBackup whose answer was lost with the same token, deleting once", function()
    server:faults({ { kind = "reset_after", operation = "DeleteBackup", nth = { 1 } } })
    local r = client:prune_backups{ file_system_id = FS, keep_last = 5, now = NOW, dry_run = false }
    assert.same({ hist_id(6), hist_id(11) }, ids(r.deleted))
    assert.same({}, r.failed)
    local reqs = server:requests("DeleteBackup")
    assert.equal(3, #reqs)
    assert.equal(reqs[1].client_request_token, reqs[2].client_request_token)
    assert.equal(reqs[1].params.BackupId, reqs[2].params.BackupId)
  end)

  it("counts a backup already gone as deleted", function()
    local real = client.delete_backup
    client.delete_backup = function(self, args)
      server:set_backup(args.backup_id, { lifecycle = "DELETED" })   -- someone else was faster
      return real(self, args)
    end
    local r = client:prune_backups{ file_system_id = FS, keep_last = 5, now = NOW, dry_run = false }
    assert.same({ hist_id(6), hist_id(11) }, ids(r.deleted))
    for _, d in ipairs(r.deleted) do assert.is_true(d.already_deleted) end
  end)

  it("reports a refused deletion and goes on with the others", function()
    server:config{ restore_seconds = 1000 }
    client:restore_file_system{ backup_id = hist_id(5), subnet_ids = { "subnet-0a1b2c3d4e5f60718" },
                                windows_configuration = { throughput_capacity = 32 } }
    local r = client:prune_backups{ file_system_id = FS, keep_last = 2, keep_days = 15, now = NOW,
                                    dry_run = false }
    assert.same({ hist_id(4), hist_id(6), hist_id(11) }, ids(r.deleted))
    assert.equal(1, #r.failed)
    assert.equal(hist_id(5), r.failed[1].backup.backup_id)
    assert.equal("BackupRestoring", r.failed[1].error.code)
    assert.is_true(live_ids()[hist_id(5)])
  end)

  it("prunes AUTOMATIC backups only when asked, AWS_BACKUP ones never", function()
    local r = client:prune_backups{ file_system_id = FS, keep_last = 1, now = NOW,
                                    only_user_initiated = false, include_types = { "AUTOMATIC" } }
    assert.same({ hist_id(2), hist_id(3), hist_id(4), hist_id(5), hist_id(6), hist_id(7), hist_id(11) },
                ids(r.deleted))
    r = client:prune_backups{ file_system_id = FS, keep_last = 1, now = NOW, tag_filter = { retain = "forever" } }
    assert.same({}, r.deleted)   -- the only match is the newest match
  end)

  it("prunes a volume's backups with volume_id", function()
    local list = {}
    for i = 1, 4 do
      list[i] = { BackupId = hist_id(100 + i), VolumeId = VOL, CreationTime = NOW - i * 10 * DAY }
    end
    server:seed{ backups = list }
    local r = client:prune_backups{ volume_id = VOL, keep_days = 25, now = NOW, dry_run = false }
    assert.same({ hist_id(103), hist_id(104) }, ids(r.deleted))
    assert.same({ hist_id(101), hist_id(102) }, sorted_ids(r.kept))
    assert.same({ { Name = "volume-id", Values = { VOL } } }, server:requests("DescribeBackups")[1].params.Filters)
  end)

  it("never deletes a kept backup nor any backup twice when the listing repeats backups", function()
    -- pages of 3 that each repeat the last item of the page before, and list
    -- every item twice: 11 backups of FS come as far more entries
    server:config{ page_size = 3, page_overlap = 1, page_repeat = 1 }
    local r = client:prune_backups{ file_system_id = FS, keep_last = 2, keep_days = 15, now = NOW,
                                    dry_run = false }
    assert.same({ hist_id(4), hist_id(5), hist_id(6), hist_id(11) }, ids(r.deleted))
    assert.equal(7, #r.kept)
    local reqs = server:requests("DeleteBackup")
    assert.equal(4, #reqs)
    local once = {}
    for _, q in ipairs(reqs) do
      assert.is_nil(once[q.params.BackupId], "DeleteBackup twice for " .. q.params.BackupId)
      once[q.params.BackupId] = true
    end
    local live = live_ids()
    for _, k in ipairs(r.kept) do assert.is_true(live[k.backup.backup_id], k.backup.backup_id) end
  end)

  it("keeps a backup whose description changes while the listing is paged, ranking the rest without it", function()
    -- the listing runs oldest first in pages of 3: right after hist 3 (10
    -- days old) is read, it gets a creation time newer than hist 1, so a
    -- later page lists it again, as the newest backup
    server:config{ page_size = 3, page_overlap = 1 }
    local each_backup, seen = client.each_backup, 0
    client.each_backup = function(self, args)
      local f, s, c = each_backup(self, args)
      return function()
        c = f(s, c)
        if c and c.backup_id == hist_id(3) then
          seen = seen + 1
          if seen == 1 then server:set_backup(hist_id(3), { creation_time = NOW - 0.2 * DAY }) end
        end
        return c
      end
    end
    local r = client:prune_backups{ file_system_id = FS, keep_last = 1, now = NOW, dry_run = false }
    assert.is_true(seen >= 2, "hist 3 listed " .. seen .. " times")
    -- hist 3 is kept, and hist 1, the newest backup by hist 3's first
    -- description, keeps its place as the newest of the others
    local kept = {}
    for _, k in ipairs(r.kept) do kept[k.backup.backup_id] = k end
    assert.same({ "conflict", "its descriptions in the listing disagree (creation_time); kept" },
                { kept[hist_id(3)].rule, kept[hist_id(3)].reason })
    assert.equal("newest", kept[hist_id(1)].rule)
    assert.same({ hist_id(2), hist_id(4), hist_id(5), hist_id(6), hist_id(11) }, ids(r.deleted))
    local live = live_ids()
    assert.is_true(live[hist_id(1)])
    assert.is_true(live[hist_id(3)])
    assert.equal(5, #server:requests("DeleteBackup"))
  end)

  it("ends on a listing that never ends, deleting nothing", function()
    server:config{ page_size = 3, endless_pages = 1 }
    local c = fsx.new{ region = "us-east-1", endpoint_url = server.url, credentials = helpers.credentials(),
                       max_pages = 20 }
    local e = select(2, pcall(c.prune_backups, c, { file_system_id = FS, keep_last = 1, now = NOW,
                                                     dry_run = false }))
    assert.is_true(errors.is_error(e, "PaginationLimitExceeded"), tostring(e))
    assert.equal(20, #server:requests("DescribeBackups"))
    assert.equal(0, #server:requests("DeleteBackup"))
  end)

  it("prunes FAILED backups past the keep window with include_failed", function()
    local r = client:prune_backups{ file_system_id = FS, keep_last = 2, keep_days = 15, now = NOW,
                                    include_failed = true, dry_run = false }
    assert.same({ hist_id(4), hist_id(5), hist_id(6), hist_id(9), hist_id(11) }, ids(r.deleted))
    assert.is_nil(live_ids()[hist_id(9)])
  end)

  it("validates its arguments before sending anything", function()
    local function v(args, pattern)
      local e = select(2, pcall(client.prune_backups, client, args))
      assert.is_true(errors.is_error(e, "ValidationError"), tostring(e))
      assert.matches(pattern, e.message)
    end
    v({ keep_last = 1 }, "exactly one of file_system_id, volume_id")
    v({ file_system_id = FS, volume_id = VOL, keep_last = 1 }, "exactly one of")
    v({ file_system_id = FS }, "give keep_last, keep_days or both")
    v({ file_system_id = FS, keep_last = 1, dry_run = "no" }, "dry_run: must be a boolean")
    v({ file_system_id = FS, keep_last = 1, dryrun = false }, "^prune_backups: dryrun: unknown argument")
    v({ file_system_id = FS, keep_last = 1, include_types = { "AUTOMATIC" }, only_user_initiated = true },
      "include_types")
    assert.same({}, server:requests())
  end)
end)
