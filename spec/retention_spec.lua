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

  it("never deletes AUTOMATIC or AWS_BACKUP backups unless asked", function()
    local auto = b(90, { type = "AUTOMATIC" })
    local awsb = b(80, { type = "AWS_BACKUP" })
    local user_old, user_new = b(70), b(1)
    local h = { auto, awsb, user_old, user_new }
    local p = retention.plan(h, { keep_last = 1, now = NOW })
    assert.same({ user_old.backup_id }, ids(p.deleted))
    local _, rule, reason = rule_of(p, auto)
    assert.equal("type", rule)
    assert.matches("type AUTOMATIC is not pruned %(set only_user_initiated = false", reason)
    assert.equal("type", select(2, rule_of(p, awsb)))
    -- asked for: AUTOMATIC becomes eligible, AWS_BACKUP stays
    p = retention.plan(h, { keep_last = 1, only_user_initiated = false,
                            include_types = { "AUTOMATIC" }, now = NOW })
    assert.same({ user_old.backup_id, auto.backup_id }, ids(p.deleted))
    assert.equal("type", select(2, rule_of(p, awsb)))
    -- include_types alone means only_user_initiated = false
    p = retention.plan(h, { keep_last = 1, include_types = { "AWS_BACKUP", "AUTOMATIC" }, now = NOW })
    assert.same({ user_old.backup_id, awsb.backup_id, auto.backup_id }, ids(p.deleted))
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

  it("never deletes a backup that is not AVAILABLE", function()
    local h = { b(1) }
    for i, state in ipairs{ "CREATING", "PENDING", "TRANSFERRING", "COPYING", "FAILED", "DELETED" } do
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
    local want = { "lifecycle", "type", "newest", "keep_last", "keep_days", "lifecycle", "keep_days",
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
    want = { "lifecycle", "type", "newest", "keep_days", "expired", "lifecycle", "expired",
             "expired", "type", "expired", "scope", "scope" }
    for i, x in ipairs(h) do
      assert.equal(want[i], select(2, rule_of(p, x)), "backup #" .. i)
    end
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

describe("retention.token", function()
  it("is stable per backup, distinct across backups and a valid ClientRequestToken", function()
    local ok, core = pcall(require, "fsx.core")
    if not ok then pending("fsx.core not built") return end
    local _ = core
    local t1 = retention.token("backup-0123456789abcdef0")
    assert.equal(t1, retention.token("backup-0123456789abcdef0"))
    assert.are_not.equal(t1, retention.token("backup-0123456789abcdef1"))
    assert.is_true(#t1 <= 63)
    assert.matches("^[A-Za-z0-9_.-]+$", t1)
  end)
end)
