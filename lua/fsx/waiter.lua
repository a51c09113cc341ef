--- Waiting for backups, file systems and volumes to become available.
--
-- Layer: Lua helpers. No AWS SDK ships a waiter for FSx backups; this one
-- polls DescribeBackups (DescribeFileSystems, DescribeVolumes) with a delay
-- growing from `min_delay` to `max_delay` (x1.5 a round, x2 after a throttled
-- round) with +-25% jitter, until every resource is in its final state or
-- `timeout` seconds have passed on the monotonic clock.
--
--     local backup = client:wait_for_backup("backup-0123456789abcdef0", {
--       timeout = 1800,
--       on_progress = function(b) print(b.lifecycle, b.progress_percent) end,
--     })
--
-- Options (all optional): `timeout` (3600 s), `min_delay` (2 s), `max_delay`
-- (30 s), `on_progress(resource)` (called on the first sight and whenever the
-- lifecycle or progress_percent changes; returning `false` stops waiting with
-- `WaiterCancelled`), `not_found_grace` (30 s: a "not found" answer within that
-- long of the start is taken for eventual consistency right after creation,
-- later it is raised as the service's error), `sleep(s)` and `now()`
-- (monotonic seconds), `random()` (jitter) -- the last three default to the
-- client's, so `ngx.sleep` is used inside OpenResty.
--
-- Backup lifecycles: CREATING, PENDING, TRANSFERRING, COPYING wait; AVAILABLE
-- returns; FAILED raises `BackupFailed` (with `failure_details.message`),
-- DELETED raises `BackupDeleted`. Any state the library does not know is
-- waited on. File systems: AVAILABLE returns; FAILED, DELETING, MISCONFIGURED*
-- raise. Volumes: AVAILABLE or CREATED (ONTAP) return; FAILED, DELETING,
-- MISCONFIGURED raise. Every waiter error has `kind = "waiter"`, the id field
-- (`backup_id`, ...), `last_state`, the last seen table (`backup`, ...),
-- `polls` and `elapsed`. A poll failing with a retryable error (throttling,
-- 5xx, transport) after the client's own retries does not end the wait: the
-- next round comes later, and the error is kept in `last_error`.
-- @module fsx.waiter
local errors = require "fsx.error"

local M = {}

--- Defaults of the waiter options.
M.DEFAULTS = { timeout = 3600, min_delay = 2, max_delay = 30, not_found_grace = 30 }
M.GROWTH = 1.5          -- delay factor per round
M.THROTTLED_GROWTH = 2  -- delay factor after a round with a retryable error
M.JITTER = 0.25         -- the delay is scaled by a random factor in [1 - J, 1 + J]
M.BATCH = 50            -- ids per Describe* call (the API's limit)

local function set(list)
  local s = {}
  for _, v in ipairs(list) do s[v] = true end
  return s
end

--- What each waiter knows about its resource.
M.SPECS = {
  backup = {
    op = "wait_for_backup", ops = "wait_for_backups", noun = "backup",
    id_field = "backup_id", item_field = "backup", ids_arg = "backup_ids",
    iterator = "each_backup", not_found = "BackupNotFound",
    done = set{ "AVAILABLE" },
    waiting = set{ "CREATING", "PENDING", "TRANSFERRING", "COPYING" },
    failures = { FAILED = "BackupFailed", DELETED = "BackupDeleted" },
  },
  file_system = {
    op = "wait_for_file_system", ops = "wait_for_file_systems", noun = "file system",
    id_field = "file_system_id", item_field = "file_system", ids_arg = "file_system_ids",
    iterator = "each_file_system", not_found = "FileSystemNotFound",
    done = set{ "AVAILABLE" },
    waiting = set{ "CREATING", "UPDATING" },
    failures = { FAILED = "FileSystemFailed", DELETING = "FileSystemDeleted",
                 MISCONFIGURED = "FileSystemMisconfigured",
                 MISCONFIGURED_UNAVAILABLE = "FileSystemMisconfigured" },
  },
  volume = {
    op = "wait_for_volume", ops = "wait_for_volumes", noun = "volume",
    id_field = "volume_id", item_field = "volume", ids_arg = "volume_ids",
    iterator = "each_volume", not_found = "VolumeNotFound",
    done = set{ "AVAILABLE", "CREATED" },
    waiting = set{ "CREATING", "PENDING" },
    failures = { FAILED = "VolumeFailed", DELETING = "VolumeDeleted",
                 MISCONFIGURED = "VolumeMisconfigured" },
  },
}

local OPTION_TYPES = {
  timeout = "number", min_delay = "number", max_delay = "number", not_found_grace = "number",
  on_progress = "function", sleep = "function", now = "function", random = "function",
}
M.OPTION_TYPES = OPTION_TYPES

--- Check waiter options and fill in the defaults.
-- @param opts `true`, nil or a table of the options above
-- @tparam string op the operation named in errors
-- @tparam[opt] table client supplies `sleep`, `monotime` and `random` defaults
-- @tparam[opt] string field the argument named in errors (`"wait"` inside create_backup)
-- @treturn table resolved options
function M.options(opts, op, client, field)
  if opts == nil or opts == true then opts = {} end
  local prefix = field and (field .. ".") or ""
  if type(opts) ~= "table" then errors.validation(op, field or "opts", "must be true or a table") end
  errors.plain(op, field or "opts", opts)
  for k, v in pairs(opts) do
    local want = OPTION_TYPES[k]
    if not want then errors.validation(op, prefix .. tostring(k), "unknown waiter option") end
    if type(v) ~= want then errors.validation(op, prefix .. k, "must be a " .. want) end
    if want == "number" and (v ~= v or v < 0 or v == math.huge) then
      errors.validation(op, prefix .. k, "must be a finite number >= 0")
    end
  end
  local o = {}
  for k, v in pairs(M.DEFAULTS) do o[k] = opts[k] == nil and v or opts[k] end
  if opts.max_delay == nil and o.max_delay < o.min_delay then o.max_delay = o.min_delay end
  if o.max_delay < o.min_delay then
    errors.validation(op, prefix .. "max_delay", "must not be less than min_delay")
  end
  o.on_progress = opts.on_progress
  o.sleep = opts.sleep or (client and client.sleep)
  o.now = opts.now or (client and client.monotime)
  o.random = opts.random or (client and client.random)
  if not o.sleep or not o.now then
    local clock = require "fsx.clock"
    o.sleep = o.sleep or clock.sleep
    o.now = o.now or clock.monotime
  end
  o.random = o.random or math.random
  return o
end

-- A number as text, whole numbers without ".0" (cjson under 5.4 gives floats).
local function num(v)
  if type(v) == "number" and v == math.floor(v) and v > -2 ^ 53 and v < 2 ^ 53 then
    return string.format("%d", v)
  end
  return tostring(v)
end

-- The state of a resource and a one-line description of it.
local function describe_state(item)
  if type(item) ~= "table" then return nil, "not seen yet" end
  local state = item.lifecycle
  local text = tostring(state)
  if item.progress_percent ~= nil then text = text .. " (" .. num(item.progress_percent) .. "%)" end
  return state, text
end

local function waiter_error(spec, op, code, id, item, info, message, extra)
  local e = {
    kind = "waiter", code = code, operation = op, message = op .. ": " .. message,
    last_state = type(item) == "table" and item.lifecycle or nil,
    polls = info.polls, elapsed = info.elapsed,
  }
  e[spec.id_field] = id
  e[spec.item_field] = item
  for k, v in pairs(extra or {}) do e[k] = v end
  return errors.new(e)
end

local function failure_message(item)
  local fd = type(item) == "table" and item.failure_details
  return type(fd) == "table" and fd.message or nil
end

-- One round: describe every pending id (50 per call). Returns found (id ->
-- item), missing (id -> error or true) and the last retryable error.
-- `suspect` holds the ids a batch call recently failed on with "not found"
-- (the error does not say which id it means): they are asked for one by one,
-- so one backup not visible yet does not fail the batch of the others.
local function round(spec, describe, pending, suspect)
  local found, missing, retry_err = {}, {}, nil
  local function one_call(chunk)
    local ok, res = pcall(describe, chunk)
    if ok then
      local wanted = set(chunk)
      for _, item in ipairs(res or {}) do
        local id = type(item) == "table" and item[spec.id_field]
        if id and wanted[id] then found[id] = item end
      end
      for _, id in ipairs(chunk) do
        if not found[id] then missing[id] = true end
      end
      return "ok"
    end
    if errors.is_error(res, spec.not_found) then return "not_found", res end
    if errors.is_error(res) and res.retryable then
      retry_err = res
      return "retry"
    end
    error(res, 0)
  end
  local function alone(id)
    local status, err = one_call({ id })
    if status == "not_found" then missing[id] = err end
  end
  local batch = {}
  for _, id in ipairs(pending) do
    if suspect[id] then alone(id) else batch[#batch + 1] = id end
  end
  for first = 1, #batch, M.BATCH do
    local chunk = {}
    for i = first, math.min(first + M.BATCH - 1, #batch) do chunk[#chunk + 1] = batch[i] end
    local status, err = one_call(chunk)
    if status == "not_found" then
      if #chunk == 1 then
        missing[chunk[1]] = err
      else
        for _, id in ipairs(chunk) do alone(id) end
      end
    end
  end
  for id in pairs(missing) do suspect[id] = true end
  for id in pairs(found) do suspect[id] = nil end
  return found, missing, retry_err
end

--- Wait for resources; the engine behind every `wait_for_*` method.
-- @tparam table spec one of `M.SPECS`
-- @tparam table ids list of ids (duplicates allowed)
-- @tparam table o options resolved by `M.options`
-- @tparam function describe `describe(ids) -> list of items` (raises fsx errors)
-- @tparam[opt] string op the operation named in errors (default `spec.ops`)
-- @treturn table list of final items, in the order of ids
-- @treturn table `{ polls =, elapsed = }`
function M.run(spec, ids, o, describe, op)
  op = op or spec.ops
  local now, sleep = o.now, o.sleep
  local started = now()
  local deadline = started + o.timeout
  local pending, final, last, sig, queued, suspect = {}, {}, {}, {}, {}, {}
  for _, id in ipairs(ids) do
    if not queued[id] then
      queued[id] = true
      pending[#pending + 1] = id
    end
  end
  local delay = o.min_delay
  local info = { polls = 0, elapsed = 0 }
  local last_error
  while true do
    info.polls = info.polls + 1
    local found, missing, retry_err = round(spec, describe, pending, suspect)
    local t = now()
    info.elapsed = t - started
    local still = {}
    for _, id in ipairs(pending) do
      local item = found[id]
      if item then
        last[id] = item
        local state = item.lifecycle
        local s = tostring(state) .. "|" .. num(item.progress_percent)
        if s ~= sig[id] then
          sig[id] = s
          if o.on_progress and o.on_progress(item) == false then
            error(waiter_error(spec, op, "WaiterCancelled", id, item, info,
              "on_progress stopped the wait for " .. spec.noun .. " " .. id ..
              " (" .. select(2, describe_state(item)) .. ")"), 0)
          end
        end
        if spec.done[state] then
          final[id] = item
        elseif spec.failures[state] then
          local code = spec.failures[state]
          local fm = failure_message(item)
          error(waiter_error(spec, op, code, id, item, info,
            spec.noun .. " " .. id .. " is " .. tostring(state) .. (fm and (": " .. fm) or ""),
            { failure_message = fm }), 0)
        else
          still[#still + 1] = id
        end
      else
        if missing[id] and info.elapsed >= o.not_found_grace then
          local err = missing[id]
          if err == true then
            err = errors.new{ kind = "service", code = spec.not_found, operation = op,
              message = op .. ": " .. spec.noun .. " " .. id .. " was not found" }
          end
          error(err, 0)
        end
        still[#still + 1] = id
      end
    end
    pending = still
    if #pending == 0 then
      local out = {}
      for i, id in ipairs(ids) do out[i] = final[id] end
      return out, info
    end
    if retry_err then last_error = retry_err end
    if t >= deadline then
      local id = pending[1]
      local states = {}
      for _, pid in ipairs(pending) do states[pid] = last[pid] and last[pid].lifecycle or nil end
      local _, text = describe_state(last[id])
      local what = spec.noun .. " " .. id .. " is " .. text
      if not last[id] then what = spec.noun .. " " .. id .. " was not seen" end
      if #pending > 1 then what = what .. " (and " .. (#pending - 1) .. " more pending)" end
      error(waiter_error(spec, op, "WaiterTimeout", id, last[id], info,
        what .. " after " .. string.format("%.0f", o.timeout) .. " s" ..
        (last_error and ("; last poll error: " .. tostring(last_error)) or ""),
        { pending = pending, states = states, last_error = last_error }), 0)
    end
    local d = delay * (1 - M.JITTER + 2 * M.JITTER * o.random())
    if d < o.min_delay then d = o.min_delay end
    if d > o.max_delay then d = o.max_delay end
    if d > deadline - t then d = deadline - t end
    sleep(d)
    delay = math.min(o.max_delay, delay * (retry_err and M.THROTTLED_GROWTH or M.GROWTH))
  end
end

-- A describe function over the client's paginated iterator.
local function describer(client, spec)
  return function(chunk)
    local out = {}
    for item in client[spec.iterator](client, { [spec.ids_arg] = chunk }) do out[#out + 1] = item end
    return out
  end
end

local function check_id(op, field, id)
  if type(id) ~= "string" or id == "" then errors.validation(op, field, "must be a non-empty string") end
end

local function check_ids(op, field, ids)
  if type(ids) ~= "table" or #errors.plain(op, field, ids) == 0 then
    errors.validation(op, field, "must be a non-empty list of ids")
  end
  local n = 0
  for _ in pairs(ids) do n = n + 1 end
  if n ~= #ids then errors.validation(op, field, "must be a list of ids (keys 1..n only)") end
  for i, id in ipairs(ids) do check_id(op, field .. "[" .. i .. "]", id) end
end

-- The waiters call the client's paginated iterator: refuse anything else.
local function check_client(client, op, spec)
  if type(client) ~= "table" or type(client[spec.iterator]) ~= "function" then
    errors.validation(op, nil, "call it as client:" .. op .. "(...)")
  end
end

--- Wait for one resource of a kind (`"backup"`, `"file_system"`, `"volume"`).
-- @param client the client
-- @tparam string kind `"backup"`, `"file_system"` or `"volume"` (a key of `SPECS`)
-- @tparam string id the resource id
-- @param[opt] opts `true`, nil or a table of waiter options (see `options`)
-- @tparam[opt] string op the operation named in errors (default `wait_for_<kind>`)
-- @return the final item, `{ polls =, elapsed = }`
function M.wait_one(client, kind, id, opts, op)
  local spec = M.SPECS[kind]
  op = op or spec.op
  check_client(client, op, spec)
  check_id(op, spec.id_field, id)
  local o = M.options(opts, op, client)
  local items, info = M.run(spec, { id }, o, describer(client, spec), op)
  return items[1], info
end

--- Wait for several resources of a kind; one Describe* call per 50 ids a round.
-- @return list of final items in the order of ids, `{ polls =, elapsed = }`
function M.wait_many(client, kind, ids, opts)
  local spec = M.SPECS[kind]
  check_client(client, spec.ops, spec)
  check_ids(spec.ops, "ids", ids)
  local o = M.options(opts, spec.ops, client)
  return M.run(spec, ids, o, describer(client, spec), spec.ops)
end

return M
