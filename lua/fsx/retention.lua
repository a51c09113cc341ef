--- Backup retention: which backups to keep, which to delete, and why.
--
-- Layer: Lua helpers. `plan` is a pure function over a list of backups (the
-- snake_case tables DescribeBackups returns); `prune_backups` lists a file
-- system's or volume's backups, plans, and (only with `dry_run = false`)
-- deletes.
--
--     local r = client:prune_backups{ file_system_id = "fs-0123456789abcdef0",
--                                     keep_last = 7, keep_days = 30 }   -- dry run
--     for _, d in ipairs(r.deleted) do print(d.backup.backup_id, d.reason) end
--
-- The plan decides over distinct backup ids: a listing that holds a backup
-- twice (a listing that changed while it was paged) counts it once, so no
-- backup takes two places in a ranking and none is deleted twice.
-- Descriptions that agree in every field the rules read are one backup (the
-- one seen last is reported). Descriptions that disagree in one (creation
-- time, type, lifecycle, file system, volume, and the tags when `tag_filter`
-- is given) leave the plan no way to know which is true, so the backup is
-- kept (rule `conflict`) and the others are planned as if it were not listed:
-- it takes no rank, and so never takes the place of the newest backup or one
-- of the `keep_last` from another backup. That keeps at least what the plan
-- over either description would keep. The rules, for each backup, first
-- match wins:
--
-- 1. a backup without a backup id, or of another file system / volume than
--    the one asked for, or of no readable file system, is kept; so is a
--    backup whose descriptions disagree (see above);
-- 2. a backup whose type is not eligible is kept: only USER_INITIATED backups
--    are, unless `only_user_initiated = false` and `include_types` names
--    AUTOMATIC too (FSx deletes automatic backups itself). AWS_BACKUP backups
--    are always kept: AWS Backup owns them and FSx refuses to delete them
--    (`include_types = { "AWS_BACKUP" }` is a `validation` error);
-- 3. a backup not matching `tag_filter` is kept (see `fsx.tags.check_filter`:
--    `{ key = "value" }`, `{ key = { "a", "b" } }`, `{ key = true }`);
-- 4. a backup without a readable creation time is kept;
-- 5. a FAILED backup is kept unless `include_failed = true`; then it is
--    deleted once it is outside the keep window: older than every backup the
--    ranking below keeps, and (with `keep_days`) older than `keep_days`. It
--    never counts towards `keep_last`: a failed backup protects nothing.
--    When some backup's descriptions disagree, every FAILED backup is kept
--    (that backup could have been the one that bounds the window);
-- 6. any other backup that is not AVAILABLE (CREATING, COPYING, ...) is kept.
--
-- The remaining AVAILABLE backups (the candidates) are ranked newest first
-- (equal creation times: the greater backup id first), separately for each
-- volume and for the file system itself, and for each group: the newest
-- candidate is always kept, and so is the newest USER_INITIATED one (automatic
-- backups expire on their own), so a resource never loses its last backup that
-- FSx keeps for it; then the
-- `keep_last` newest are kept, then those younger than `keep_days` days; the
-- others are deleted. With both limits a backup is kept when either keeps it.
-- At least one of `keep_last`, `keep_days` is required.
--
-- Deletion is idempotent: DeleteBackup gets a client request token derived from
-- the backup id (`delete_token`), so running the same prune again (after a
-- crash, a timeout) repeats the same requests, and a backup already gone
-- counts as deleted.
-- @module fsx.retention
local errors = require "fsx.error"
local parse_iso8601 = require("fsx.date").parse_iso8601
local tags = require "fsx.tags"

local M = {}

--- The backup types prune can be asked to delete (`include_types`).
M.TYPES = { USER_INITIATED = true, AUTOMATIC = true }
M.DAY = 86400

local function finite(n)
  if n and n == n and n ~= math.huge and n ~= -math.huge then return n end
  return nil
end

--- A creation time as epoch seconds: a finite number, a numeric string or an
-- ISO 8601 date-time (`2024-05-01T12:00:00Z`, fractions and `+hh:mm` offsets allowed).
-- @return number or nil
function M.epoch(t)
  if type(t) == "number" then return finite(t) end
  if type(t) ~= "string" then return nil end
  local n = tonumber(t)
  if n then return finite(n) end
  return parse_iso8601(t)
end

local PLAN_FIELDS = {
  keep_last = true, keep_days = true, only_user_initiated = true, include_types = true,
  include_failed = true, tag_filter = true, now = true, file_system_id = true, volume_id = true,
}
M.PLAN_FIELDS = PLAN_FIELDS

--- Check the retention options; returns the resolved ones (eligible type set,
-- now, ...). Raises `validation` errors naming op.
function M.check(opts, op, fields)
  op = op or "retention.plan"
  fields = fields or PLAN_FIELDS
  if type(opts) ~= "table" then errors.raise_validation(op, nil, "arguments must be a table") end
  errors.check_plain(op, nil, opts)
  for k in pairs(opts) do
    if not fields[k] then errors.raise_validation(op, tostring(k), "unknown argument") end
  end
  local kl, kd = opts.keep_last, opts.keep_days
  if kl == nil and kd == nil then
    errors.raise_validation(op, nil, "give keep_last, keep_days or both")
  end
  if kl ~= nil and (type(kl) ~= "number" or kl < 0 or kl ~= math.floor(kl) or kl >= 2 ^ 31) then
    errors.raise_validation(op, "keep_last", "must be a whole number >= 0")
  end
  if kd ~= nil and (type(kd) ~= "number" or kd ~= kd or kd < 0 or kd == math.huge) then
    errors.raise_validation(op, "keep_days", "must be a number of days >= 0")
  end
  local now = opts.now
  if now ~= nil and (type(now) ~= "number" or now ~= now or now == math.huge or now == -math.huge) then
    errors.raise_validation(op, "now", "must be epoch seconds")
  end
  for _, f in ipairs{ "file_system_id", "volume_id" } do
    if opts[f] ~= nil and (type(opts[f]) ~= "string" or opts[f] == "") then
      errors.raise_validation(op, f, "must be a non-empty string")
    end
  end
  for _, f in ipairs{ "only_user_initiated", "include_failed" } do
    if opts[f] ~= nil and type(opts[f]) ~= "boolean" then
      errors.raise_validation(op, f, "must be a boolean")
    end
  end
  local oui = opts.only_user_initiated
  local eligible = { USER_INITIATED = true }
  local others = {}
  if opts.include_types ~= nil then
    if type(opts.include_types) ~= "table" then
      errors.raise_validation(op, "include_types", "must be a list of backup types")
    end
    errors.check_plain(op, "include_types", opts.include_types)
    for i, t in ipairs(opts.include_types) do
      local at = "include_types[" .. i .. "]"
      if t == "AWS_BACKUP" then
        errors.raise_validation(op, at, "AWS_BACKUP backups cannot be deleted through FSx " ..
          "(AWS Backup owns them: delete their recovery points in AWS Backup)")
      end
      if not M.TYPES[t] then errors.raise_validation(op, at, "must be USER_INITIATED or AUTOMATIC") end
      eligible[t] = true
      if t ~= "USER_INITIATED" then others[#others + 1] = t end
    end
  end
  if oui == nil then oui = #others == 0 end
  if oui and #others > 0 then
    errors.raise_validation(op, "include_types", "names " .. table.concat(others, ", ") ..
      " but only_user_initiated is true: set only_user_initiated = false to prune them")
  end
  if not oui and #others == 0 then
    errors.raise_validation(op, "only_user_initiated", "is false but include_types names no other " ..
      "type to prune (AUTOMATIC)")
  end
  if opts.tag_filter ~= nil then tags.check_filter(opts.tag_filter, op, "tag_filter") end
  return {
    keep_last = kl, keep_days = kd, eligible = eligible, tag_filter = opts.tag_filter,
    include_failed = opts.include_failed == true,
    now = opts.now or os.time(), file_system_id = opts.file_system_id, volume_id = opts.volume_id,
  }
end

local function id_of(t, field)
  local v = type(t) == "table" and t[field] or nil
  if type(v) == "string" and v ~= "" then return v end
  return nil
end

-- The group a backup is ranked in: its volume, else its file system (nil: neither).
local function group_of(backup)
  local v = id_of(backup.volume, "volume_id")
  if v then return "volume " .. v end
  local fs = id_of(backup.file_system, "file_system_id")
  return fs and ("file system " .. fs) or nil
end

local function plural(n, word)
  return n .. " " .. word .. (n == 1 and "" or "s")
end

-- Newest first; equal times: the greater id first (ids are unique in a plan).
local function newer(a, b)
  if a.time ~= b.time then return a.time > b.time end
  return a.id > b.id
end

-- Entries with a time before those without; then `newer`; then id.
local function plan_order(a, b)
  if (a.time ~= nil) ~= (b.time ~= nil) then return a.time ~= nil end
  if a.time and a.time ~= b.time then return a.time > b.time end
  if a.id ~= b.id then return a.id > b.id end
  return a.pos < b.pos
end

-- The fields of a backup the rules read, in the order a conflict names them,
-- each as a value that compares with == (`tag_filter`: whether it matches).
local FACTS = { "creation_time", "type", "lifecycle", "file_system", "volume", "tags" }

local function facts(b, tag_filter)
  return {
    creation_time = M.epoch(b.creation_time), type = b.type, lifecycle = b.lifecycle,
    file_system = id_of(b.file_system, "file_system_id"), volume = id_of(b.volume, "volume_id"),
    tags = tags.matches_filter(b.tags, tag_filter),
  }
end

-- A collector of the distinct backups of a listing: `add(b, i)` takes one
-- backup (`i` its position, for errors); `entries` holds each backup id once
-- with the description seen last, in the order of first sight, and
-- `conflict`, the set of FACTS in which its descriptions disagree; entries
-- without an id stay as they are.
local function collector(tag_filter)
  local entries, at = {}, {}
  local function add(b, i)
    if type(b) ~= "table" then
      errors.raise_validation("retention.plan", "backups[" .. i .. "]", "must be a backup table")
    end
    local id = id_of(b, "backup_id")
    local e = id and entries[at[id]]
    if e then
      local f = facts(b, tag_filter)
      for _, k in ipairs(FACTS) do
        if f[k] ~= e.facts[k] then e.conflict[k] = true end
      end
      e.backup = b
    else
      entries[#entries + 1] = { backup = b, id = id or "", pos = #entries + 1,
                                facts = facts(b, tag_filter), conflict = {} }
      if id then at[id] = #entries end
    end
  end
  return entries, add
end

-- The FACTS in which an entry's descriptions disagree, as "a, b" (nil: none).
local function conflict_of(e)
  local names = {}
  for _, k in ipairs(FACTS) do
    if e.conflict[k] then names[#names + 1] = k end
  end
  return names[1] and table.concat(names, ", ") or nil
end

-- The plan over the collected entries and the checked options (see `plan`).
local function decide(entries, o)
  local groups, order, failed = {}, {}, {}
  local changed = false   -- some backup's descriptions disagree
  for _, e in ipairs(entries) do
    local b = e.backup
    e.time = M.epoch(b.creation_time)
    local g = group_of(b)
    local conflict = conflict_of(e)
    if e.id == "" then
      e.rule, e.reason = "backup_id", "no backup id"
    elseif conflict then
      changed = true
      e.rule, e.reason = "conflict", "its descriptions in the listing disagree (" .. conflict ..
        "); kept"
    elseif o.volume_id and id_of(b.volume, "volume_id") ~= o.volume_id then
      e.rule, e.reason = "scope", "belongs to " .. tostring(g) .. ", not volume " .. o.volume_id
    elseif o.file_system_id and id_of(b.file_system, "file_system_id") ~= o.file_system_id then
      e.rule, e.reason = "scope", "belongs to file system " ..
        tostring(id_of(b.file_system, "file_system_id")) .. ", not " .. o.file_system_id
    elseif not g then
      e.rule, e.reason = "scope", "names no file system or volume"
    elseif b.type == "AWS_BACKUP" then
      e.rule, e.reason = "type", "type AWS_BACKUP: AWS Backup owns it and FSx cannot delete it"
    elseif not o.eligible[b.type] then
      e.rule, e.reason = "type", "type " .. tostring(b.type) .. " is not pruned" ..
        (b.type == "AUTOMATIC" and " (set only_user_initiated = false and include_types to prune it)"
          or "")
    elseif not tags.matches_filter(b.tags, o.tag_filter) then
      e.rule, e.reason = "tag_filter", "does not match tag_filter"
    elseif not e.time then
      e.rule, e.reason = "creation_time", "creation time unknown"
    elseif b.lifecycle == "FAILED" then
      e.rule, e.reason = "failed", "lifecycle FAILED: kept (set include_failed = true to prune " ..
        "failed backups past the keep window)"
      if o.include_failed then
        e.group = g
        failed[#failed + 1] = e
      end
    elseif b.lifecycle ~= "AVAILABLE" then
      e.rule, e.reason = "lifecycle", "lifecycle " .. tostring(b.lifecycle) ..
        ": only AVAILABLE backups are pruned"
    else
      if not groups[g] then
        groups[g] = {}
        order[#order + 1] = g
      end
      table.insert(groups[g], e)
    end
  end
  local window = {}   -- group -> creation time of its oldest kept candidate
  for _, g in ipairs(order) do
    local list = groups[g]
    table.sort(list, newer)
    local user_kept = false
    for rank, e in ipairs(list) do
      local age = o.now - e.time
      local days = age / M.DAY
      if rank == 1 then
        e.rule, e.reason = "newest", "newest AVAILABLE backup of " .. g .. " (never pruned)"
      elseif e.backup.type == "USER_INITIATED" and not user_kept then
        e.rule, e.reason = "newest", "newest USER_INITIATED backup of " .. g .. " (never pruned: " ..
          "the newer automatic ones expire on their own)"
      elseif o.keep_last and rank <= o.keep_last then
        e.rule, e.reason = "keep_last", "one of the " .. plural(o.keep_last, "newest backup") ..
          " of " .. g .. " (#" .. rank .. ")"
      elseif o.keep_days and age < o.keep_days * M.DAY then
        e.rule, e.reason = "keep_days", string.format("%.1f days old, younger than %s", days,
          plural(o.keep_days, "day"))
      else
        e.rule, e.delete = "expired", true
        local why = {}
        if o.keep_last then why[#why + 1] = "not one of the " .. o.keep_last .. " newest" end
        if o.keep_days then
          why[#why + 1] = string.format("%.1f days old, older than %s", days, plural(o.keep_days, "day"))
        end
        e.reason = table.concat(why, " and ")
      end
      if not e.delete then
        window[g] = e.time
        if e.backup.type == "USER_INITIATED" then user_kept = true end
      end
    end
    -- fewer candidates than keep_last: the window reaches back to the beginning
    if o.keep_last and #list < o.keep_last then window[g] = -math.huge end
  end
  for _, e in ipairs(failed) do
    local age = o.now - e.time
    local w = window[e.group]
    if changed then
      e.rule, e.reason = "failed", "lifecycle FAILED: kept, the listing changed while it was " ..
        "paged (a backup's descriptions disagree), so the keep window is unknown"
    elseif w and e.time >= w then
      e.rule, e.reason = "failed", "lifecycle FAILED, within the keep window of " .. e.group
    elseif o.keep_days and age < o.keep_days * M.DAY then
      e.rule, e.reason = "failed", string.format("lifecycle FAILED, %.1f days old, younger than %s",
        age / M.DAY, plural(o.keep_days, "day"))
    elseif not w and o.keep_last and o.keep_last > 0 then
      e.rule, e.reason = "failed", "lifecycle FAILED, and " .. e.group ..
        " has no AVAILABLE backup to rank it against"
    else
      e.rule, e.delete = "failed_expired", true
      e.reason = "lifecycle FAILED, outside the keep window (include_failed)"
    end
  end
  table.sort(entries, plan_order)
  local kept, deleted = {}, {}
  for _, e in ipairs(entries) do
    local out = { backup = e.backup, reason = e.reason, rule = e.rule }
    if e.delete then deleted[#deleted + 1] = out else kept[#kept + 1] = out end
  end
  return { kept = kept, deleted = deleted }
end

--- Decide which backups to keep and which to delete. Pure: no I/O.
-- Any list is accepted: duplicates (decided once, see the module comment), any
-- order, equal creation times, missing or malformed fields (kept with a reason).
-- @tparam table backups list of snake_case backup tables
-- @tparam table opts `keep_last`, `keep_days`, `only_user_initiated`, `include_types`,
--   `include_failed`, `tag_filter`, `now` (epoch seconds, default `os.time()`), and
--   optionally `file_system_id` / `volume_id` to scope the decision
-- @treturn table `{ kept = { { backup =, reason =, rule = } }, deleted = { ... } }`,
--   each list newest first, each backup id once. `rule` is one of `backup_id`,
--   `conflict`, `scope`, `type`, `tag_filter`, `creation_time`, `failed`, `lifecycle`,
--   `newest`, `keep_last`, `keep_days`, `expired`, `failed_expired`.
function M.plan(backups, opts)
  local o = M.check(opts, "retention.plan")
  if type(backups) ~= "table" then errors.raise_validation("retention.plan", "backups", "must be a list") end
  local entries, add = collector(o.tag_filter)
  for i, b in ipairs(backups) do add(b, i) end
  return decide(entries, o)
end

--- The client request token DeleteBackup gets for a backup: the same for every
-- run, so a repeated delete or prune repeats the same idempotent request (and
-- `fsx-backup delete` shares it with prune).
-- @tparam string backup_id
-- @treturn string a valid ClientRequestToken
function M.delete_token(backup_id)
  local core = require "fsx.core"
  return "fsx-prune-" .. core.sha256_hex("fsx-prune:" .. backup_id):sub(1, 40)
end

local PRUNE_FIELDS = { dry_run = true }
for k in pairs(PLAN_FIELDS) do PRUNE_FIELDS[k] = true end
--- The argument names of `prune_backups`, sorted.
M.PRUNE_ARGS = {}
for k in pairs(PRUNE_FIELDS) do M.PRUNE_ARGS[#M.PRUNE_ARGS + 1] = k end
table.sort(M.PRUNE_ARGS)

--- List, plan and (with `dry_run = false`) delete. See the module comment.
-- @param client the client
-- @tparam table args `file_system_id` or `volume_id`, `keep_last`, `keep_days`,
--   `only_user_initiated` (default true), `include_types`, `include_failed`, `tag_filter`,
--   `dry_run` (default **true**), `now` (epoch seconds, default the client's clock)
-- @treturn table `{ kept = {...}, deleted = {...}, failed = {...}, dry_run = bool }`:
--   `deleted` lists what was deleted (or, in a dry run, what would be);
--   each entry is `{ backup =, reason =, rule = }`, deleted ones also carry
--   `lifecycle` (from DeleteBackup) or `already_deleted = true`; `failed` lists
--   `{ backup =, reason =, error = }` for deletions the service refused
--   (e.g. BackupBeingCopied): the others still went ahead.
function M.prune_backups(client, args)
  local op = "prune_backups"
  if type(client) ~= "table" or type(client.each_backup) ~= "function" then
    errors.raise_validation(op, nil, "call it as client:prune_backups{...}")
  end
  if type(args) ~= "table" then errors.raise_validation(op, nil, "arguments must be a table") end
  errors.check_plain(op, nil, args)
  local fs, vol = args.file_system_id, args.volume_id
  if (fs == nil) == (vol == nil) then
    errors.raise_validation(op, nil, "give exactly one of file_system_id, volume_id")
  end
  local dry_run = args.dry_run
  if dry_run == nil then dry_run = true end
  if type(dry_run) ~= "boolean" then errors.raise_validation(op, "dry_run", "must be a boolean") end
  local popts = {}
  for k, v in pairs(args) do
    if not PRUNE_FIELDS[k] then errors.raise_validation(op, tostring(k), "unknown argument") end
    if k ~= "dry_run" then popts[k] = v end
  end
  local o = M.check(popts, op)
  -- the id goes into a DescribeBackups filter, whose pattern is looser: check
  -- it against the model's FileSystemId / VolumeId (both members of CreateBackup)
  require("fsx.validate").input({ snake = op, input = "CreateBackupRequest" },
                             { file_system_id = fs, volume_id = vol })
  if popts.now == nil then o.now = client.now() end
  local filter = fs and { name = "file-system-id", values = { fs } }
                     or { name = "volume-id", values = { vol } }
  -- a listing that repeats backups holds each once here, with the fields its
  -- descriptions disagree in (memory stays with the distinct backups; the
  -- listing's page cap bounds the rest)
  local entries, add = collector(o.tag_filter)
  local n = 0
  for b in client:each_backup{ filters = { filter } } do
    n = n + 1
    add(b, n)
  end
  local plan = decide(entries, o)
  local result = { kept = plan.kept, deleted = {}, failed = {}, dry_run = dry_run }
  if dry_run then
    result.deleted = plan.deleted
    return result
  end
  for _, d in ipairs(plan.deleted) do
    local id = d.backup.backup_id
    local ok, res = pcall(client.delete_backup, client,
      { backup_id = id, client_request_token = M.delete_token(id) })
    if ok then
      d.lifecycle = type(res) == "table" and res.lifecycle or nil
      result.deleted[#result.deleted + 1] = d
    elseif errors.is_error(res, "BackupNotFound") then
      d.already_deleted = true
      result.deleted[#result.deleted + 1] = d
    elseif errors.is_error(res) then
      result.failed[#result.failed + 1] = { backup = d.backup, reason = d.reason, rule = d.rule,
                                            error = res }
    else
      error(res, 0)
    end
  end
  return result
end

return M
