--- Waiting for backups, file systems and volumes to be ready.
--
-- Layer: Lua helpers. No AWS SDK ships a waiter for FSx backups; this one
-- polls DescribeBackups (DescribeFileSystems, DescribeVolumes) with a delay
-- growing from `min_delay` to `max_delay` (x1.5 a round, x2 after a failed
-- round) with +-25% jitter, until every resource is ready or `timeout`
-- seconds have passed on the monotonic clock.
--
--     local backup = client:wait_for_backup("backup-0123456789abcdef0", {
--       timeout = 1800,
--       on_progress = function(b) print(b.lifecycle, b.progress_percent) end,
--       on_error = function(err, info) print("poll failed", info.failures, err) end,
--     })
--
-- Options (all optional):
--
-- * `timeout` (3600 s) bounds the whole wait: every poll, the pages inside a
--   poll and the client's retries inside a page (each call gets what is left
--   of the wait as its deadline), so a listing that never ends or an endpoint
--   that hangs ends the wait at the timeout. Only a poll made at the deadline
--   (the last one, or the only one with `timeout = 0`) gets up to `FINAL_POLL`
--   (5) seconds more;
-- * `min_delay` (2 s) and `max_delay` (30 s): the poll interval starts at
--   `min_delay` and never exceeds `max_delay`, so a resource that became ready
--   is noticed within `max_delay` seconds;
-- * `on_progress(resource)`: called on the first sight and whenever the state
--   text (`state_text`) changes: lifecycle, progress, a pending administrative
--   action's progress. Returning `false` stops waiting with `WaiterCancelled`;
-- * `on_error(err, info)`: called for every failed poll (a retryable error
--   left after the client's own retries: throttling, 5xx, transport), with
--   `info = { failures =, max_failures =, polls =, elapsed = }`;
-- * `max_failures` (5): after that many failed polls in a row the wait gives up
--   and raises the last poll's error itself (kind `transport`, `service`, ...;
--   never a `waiter` timeout), with `failed_polls` set and a message ending in
--   "gave up waiting after N failed polls in a row";
-- * `not_found_grace` (30 s): a "not found" answer for a resource never seen
--   within that long of the start is taken for eventual consistency right
--   after creation; later it is raised as the service's error (BackupNotFound);
-- * `sleep(s)`, `monotime()` (a monotonic clock, seconds), `random()` (jitter):
--   default to the client's, so `ngx.sleep` is used inside OpenResty (`now` is
--   refused: it names the wall clock).
--
-- Which states end a wait:
--
-- * backups: AVAILABLE returns; FAILED raises `BackupFailed` (with
--   `failure_message` from FailureDetails), DELETED raises `BackupDeleted`;
--   CREATING, PENDING, TRANSFERRING, COPYING and unknown states are waited on;
-- * file systems: AVAILABLE returns; FAILED raises `FileSystemFailed` (with
--   FailureDetails' message), DELETING `FileSystemDeleted`; MISCONFIGURED and
--   MISCONFIGURED_UNAVAILABLE are recoverable: reported and waited on;
-- * volumes: ready when AVAILABLE or CREATED (ONTAP) **and** no
--   DOWNLOAD_DATA_FROM_BACKUP administrative action is pending: a volume
--   restored on a second-generation ONTAP file system is CREATED while its data
--   is still downloaded, and clients have read-only access until that action
--   is COMPLETED. The action FAILED or CANCELLED raises `VolumeRestoreFailed`.
--   FAILED raises `VolumeFailed` (with LifecycleTransitionReason's message),
--   DELETING `VolumeDeleted`; MISCONFIGURED is recoverable: waited on.
--
-- A resource that was seen and then is "not found" was deleted while waited
-- on: `BackupDeleted` (`FileSystemDeleted`, `VolumeDeleted`) at once. Every
-- waiter error has `kind = "waiter"`, the id field (`backup_id`, ...),
-- `last_state`, the last seen table (`backup`, ...), `polls` and `elapsed`;
-- WaiterTimeout also `pending`, `states` and `last_error`.
-- @module fsx.waiter
local errors = require "fsx.error"
local set = require("fsx.util").set

local M = {}

--- Defaults of the waiter options.
M.DEFAULTS = { timeout = 3600, min_delay = 2, max_delay = 30, not_found_grace = 30, max_failures = 5 }
M.GROWTH = 1.5          -- delay factor per round
M.THROTTLED_GROWTH = 2  -- delay factor after a round with a failed poll
M.JITTER = 0.25         -- the delay is scaled by a random factor in [1 - J, 1 + J]
M.BATCH = 50            -- ids per Describe* call (the API's limit)
M.FINAL_POLL = 5        -- seconds a poll made at the deadline may still take

-- A number as text, whole numbers without ".0" (cjson under 5.4 gives floats).
local function num(v)
  if type(v) == "number" and v == math.floor(v) and v > -2 ^ 53 and v < 2 ^ 53 then
    return string.format("%d", v)
  end
  return tostring(v)
end

local function message_of(t)
  return type(t) == "table" and type(t.message) == "string" and t.message or nil
end

--- The DOWNLOAD_DATA_FROM_BACKUP administrative action of a volume, if any.
-- @tparam table volume a snake_case volume
-- @treturn table the action (`status`, `progress_percent`, ...) or nil
function M.download_action(volume)
  local list = type(volume) == "table" and volume.administrative_actions
  if type(list) ~= "table" then return nil end
  for _, a in ipairs(list) do
    if type(a) == "table" and a.administrative_action_type == "DOWNLOAD_DATA_FROM_BACKUP" then
      return a
    end
  end
  return nil
end

local DOWNLOAD_FAILED = set{ "FAILED", "CANCELLED" }

--- What each waiter knows about its resource: `done` states return,
-- `failures` raise (state -> code), `recoverable` states are waited on and
-- reported, anything else is waited on. `failure_message(item)` reads why a
-- resource failed; `pending(item)` says what still keeps a resource in a done
-- state from being ready (nil: ready; a text: waiting; raises on failure).
M.SPECS = {
  backup = {
    kind = "backup", op = "wait_for_backup", ops = "wait_for_backups", noun = "backup",
    id_field = "backup_id", item_field = "backup", ids_arg = "backup_ids",
    iterator = "each_backup", not_found = "BackupNotFound", vanished = "BackupDeleted",
    done = set{ "AVAILABLE" },
    recoverable = {},
    failures = { FAILED = "BackupFailed", DELETED = "BackupDeleted" },
    failure_message = function(item) return message_of(item.failure_details) end,
  },
  file_system = {
    kind = "file_system", op = "wait_for_file_system", ops = "wait_for_file_systems", noun = "file system",
    id_field = "file_system_id", item_field = "file_system", ids_arg = "file_system_ids",
    iterator = "each_file_system", not_found = "FileSystemNotFound", vanished = "FileSystemDeleted",
    done = set{ "AVAILABLE" },
    recoverable = set{ "MISCONFIGURED", "MISCONFIGURED_UNAVAILABLE" },
    failures = { FAILED = "FileSystemFailed", DELETING = "FileSystemDeleted" },
    failure_message = function(item) return message_of(item.failure_details) end,
  },
  volume = {
    kind = "volume", op = "wait_for_volume", ops = "wait_for_volumes", noun = "volume",
    id_field = "volume_id", item_field = "volume", ids_arg = "volume_ids",
    iterator = "each_volume", not_found = "VolumeNotFound", vanished = "VolumeDeleted",
    done = set{ "AVAILABLE", "CREATED" },
    recoverable = set{ "MISCONFIGURED" },
    failures = { FAILED = "VolumeFailed", DELETING = "VolumeDeleted" },
    failure_message = function(item) return message_of(item.lifecycle_transition_reason) end,
    pending = function(item)
      local a = M.download_action(item)
      if not a or a.status == "COMPLETED" then return nil end
      if DOWNLOAD_FAILED[a.status] then
        return nil, "VolumeRestoreFailed", "downloading its data from the backup is " ..
          tostring(a.status), message_of(a.failure_details) or message_of(a)
      end
      local text = "downloading data from the backup (" .. tostring(a.status)
      if a.progress_percent ~= nil then text = text .. ", " .. num(a.progress_percent) .. "%" end
      return text .. "; read-only until COMPLETED)"
    end,
  },
}

local OPTION_TYPES = {
  timeout = "number", min_delay = "number", max_delay = "number", not_found_grace = "number",
  max_failures = "number", on_progress = "function", on_error = "function",
  sleep = "function", monotime = "function", random = "function",
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
  if type(opts) ~= "table" then errors.raise_validation(op, field or "opts", "must be true or a table") end
  errors.check_plain(op, field or "opts", opts)
  for k, v in pairs(opts) do
    local want = OPTION_TYPES[k]
    if k == "now" then
      errors.raise_validation(op, prefix .. "now", "the waiter's clock is monotonic: pass it as monotime")
    end
    if not want then errors.raise_validation(op, prefix .. tostring(k), "unknown waiter option") end
    if type(v) ~= want then errors.raise_validation(op, prefix .. k, "must be a " .. want) end
    if want == "number" and (v ~= v or v < 0 or v == math.huge) then
      errors.raise_validation(op, prefix .. k, "must be a finite number >= 0")
    end
  end
  local mf = opts.max_failures
  if mf ~= nil and (mf < 1 or mf ~= math.floor(mf)) then
    errors.raise_validation(op, prefix .. "max_failures", "must be a whole number >= 1")
  end
  local o = {}
  for k, v in pairs(M.DEFAULTS) do o[k] = opts[k] == nil and v or opts[k] end
  if opts.max_delay == nil and o.max_delay < o.min_delay then o.max_delay = o.min_delay end
  if o.max_delay < o.min_delay then
    errors.raise_validation(op, prefix .. "max_delay", "must not be less than min_delay")
  end
  o.on_progress = opts.on_progress
  o.on_error = opts.on_error
  o.sleep = opts.sleep or (client and client.sleep)
  o.monotime = opts.monotime or (client and client.monotime)
  o.random = opts.random or (client and client.random)
  if not o.sleep or not o.monotime then
    local clock = require "fsx.clock"
    o.sleep = o.sleep or clock.sleep
    o.monotime = o.monotime or clock.monotime
  end
  o.random = o.random or math.random
  return o
end

--- A one-line description of a resource's state as the waiter sees it
-- (`CREATING (40%)`, `CREATED, downloading data from the backup (IN_PROGRESS,
-- 40%; read-only until COMPLETED)`, `MISCONFIGURED (recoverable: waiting)`).
-- @tparam string kind `"backup"`, `"file_system"` or `"volume"`
-- @param item the resource table (or nil: not seen yet)
-- @treturn string
function M.state_text(kind, item)
  local spec = M.SPECS[kind]
  if type(item) ~= "table" then return "not seen yet" end
  local state = item.lifecycle
  local text = tostring(state)
  if item.progress_percent ~= nil then text = text .. " (" .. num(item.progress_percent) .. "%)" end
  if spec.recoverable[state] then text = text .. " (recoverable: waiting)" end
  if spec.pending and spec.done[state] then
    local waiting = spec.pending(item)
    if waiting then text = text .. ", " .. waiting end
  end
  return text
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

-- The deadline of the wait reached inside a call (the client's DeadlineExceeded).
local function is_deadline(err)
  return errors.is_error(err, "DeadlineExceeded")
end

-- One round: describe every pending id (50 per call). Returns found (id ->
-- item), missing (id -> error or true), the last failed call's error and
-- whether the wait's deadline stopped the round.
-- `suspect` holds the ids a batch call recently failed on with "not found"
-- (the error does not say which id it means): they are asked for one by one,
-- so one backup not visible yet does not fail the batch of the others.
local function round(spec, describe, pending, suspect)
  local found, missing, fail_err, out_of_time = {}, {}, nil, false
  local function one_call(chunk)
    if out_of_time then return "deadline" end
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
    if is_deadline(res) then
      out_of_time = true
      fail_err = res
      for _, item in ipairs(res.partial or {}) do
        if item[spec.id_field] then found[item[spec.id_field]] = item end
      end
      res.partial = nil
      return "deadline"
    end
    if errors.is_error(res) and res.retryable then
      fail_err = res
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
  return found, missing, fail_err, out_of_time
end

-- The state of one found item: "done", "wait", or raises its failure.
local function judge(spec, op, id, item, info)
  local state = item.lifecycle
  if spec.failures[state] then
    local fm = spec.failure_message(item)
    error(waiter_error(spec, op, spec.failures[state], id, item, info,
      spec.noun .. " " .. id .. " is " .. tostring(state) .. (fm and (": " .. fm) or ""),
      { failure_message = fm }), 0)
  end
  if not spec.done[state] then return "wait" end
  if spec.pending then
    local waiting, code, what, fm = spec.pending(item)
    if code then
      error(waiter_error(spec, op, code, id, item, info,
        spec.noun .. " " .. id .. " is " .. tostring(state) .. ", but " .. what ..
        (fm and (": " .. fm) or ""), { failure_message = fm }), 0)
    end
    if waiting then return "wait" end
  end
  return "done"
end

--- Wait for resources; the engine behind every `wait_for_*` method.
-- @tparam table spec one of `M.SPECS`
-- @tparam table ids list of ids (duplicates allowed)
-- @tparam table o options resolved by `M.options`
-- @tparam function describe `describe(ids, deadline) -> list of items` (raises fsx
--   errors); `deadline` is the wait's end on the `o.monotime` clock
-- @tparam[opt] string op the operation named in errors (default `spec.ops`)
-- @treturn table list of final items, in the order of ids
-- @treturn table `{ polls =, elapsed = }`
function M.run(spec, ids, o, describe, op)
  op = op or spec.ops
  local kind = spec.kind
  local monotime, sleep = o.monotime, o.sleep
  local started = monotime()
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
  local last_error, last_failure   -- the last poll error; the last one counted as a failure
  local failures = 0
  local function describe_chunk(chunk) return describe(chunk, deadline) end
  while true do
    info.polls = info.polls + 1
    local found, missing, fail_err, out_of_time = round(spec, describe_chunk, pending, suspect)
    local t = monotime()
    info.elapsed = t - started
    local still = {}
    for _, id in ipairs(pending) do
      local item = found[id]
      if item then
        last[id] = item
        local text = M.state_text(kind, item)
        if text ~= sig[id] then
          sig[id] = text
          if o.on_progress and o.on_progress(item) == false then
            error(waiter_error(spec, op, "WaiterCancelled", id, item, info,
              "on_progress stopped the wait for " .. spec.noun .. " " .. id .. " (" .. text .. ")"), 0)
          end
        end
        if judge(spec, op, id, item, info) == "done" then
          final[id] = item
        else
          still[#still + 1] = id
        end
      else
        if missing[id] and last[id] then
          error(waiter_error(spec, op, spec.vanished, id, last[id], info,
            spec.noun .. " " .. id .. " was " .. M.state_text(kind, last[id]) ..
            " and is gone: it was deleted while waited on"), 0)
        end
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
    if fail_err and not out_of_time then
      failures = failures + 1
      last_error, last_failure = fail_err, fail_err
      if o.on_error then
        o.on_error(fail_err, { failures = failures, max_failures = o.max_failures,
                               polls = info.polls, elapsed = info.elapsed })
      end
      if failures >= o.max_failures then
        fail_err.failed_polls = failures
        fail_err.message = tostring(fail_err.message) .. " (" .. op .. ": gave up waiting after " ..
          failures .. " failed polls in a row)"
        error(fail_err, 0)
      end
    elseif fail_err then
      last_error = fail_err
    else
      failures = 0
    end
    if (t >= deadline or out_of_time) and failures > 0 then
      -- the state is unknown: the failure says why, "still running" would not
      last_failure.failed_polls = failures
      last_failure.message = tostring(last_failure.message) .. " (" .. op .. ": the wait's timeout of " ..
        num(o.timeout) .. " s passed while polls failed)"
      error(last_failure, 0)
    end
    if t >= deadline or out_of_time then
      local id = pending[1]
      local states = {}
      for _, pid in ipairs(pending) do states[pid] = last[pid] and last[pid].lifecycle or nil end
      local what = spec.noun .. " " .. id .. " is " .. M.state_text(kind, last[id])
      if not last[id] then what = spec.noun .. " " .. id .. " was not seen" end
      if #pending > 1 then what = what .. " (and " .. (#pending - 1) .. " more pending)" end
      error(waiter_error(spec, op, "WaiterTimeout", id, last[id], info,
        what .. " after " .. num(o.timeout) .. " s" ..
        (last_error and ("; last poll error: " .. tostring(last_error)) or ""),
        { pending = pending, states = states, last_error = last_error }), 0)
    end
    local d = delay * (1 - M.JITTER + 2 * M.JITTER * o.random())
    if d < o.min_delay then d = o.min_delay end
    if d > o.max_delay then d = o.max_delay end
    if d > deadline - t then d = deadline - t end
    sleep(d)
    delay = math.min(o.max_delay, delay * (fail_err and M.THROTTLED_GROWTH or M.GROWTH))
  end
end

-- The client as seen by one poll: every call it makes gets what is left of
-- the wait (on the waiter's clock) as its deadline, the client's own deadline
-- applying when shorter. A poll starting at or after the deadline (the last
-- one, or the only one with timeout = 0) has FINAL_POLL seconds instead.
-- Nothing else differs: state the calls record (a clock offset, the
-- credentials seen) goes to the client itself, and requests are signed by the
-- client itself, so its secrets are registered under the client for scrubbing.
-- The client is never modified to carry the deadline: another coroutine may
-- use it meanwhile (OpenResty).
local function bounded(client, monotime, deadline)
  local own = client.deadline
  local start = monotime()
  local poll_end = deadline > start and deadline or start + M.FINAL_POLL
  local function request(_, ...) return client:_request(...) end
  return setmetatable({}, {
    __index = function(_, k)
      if k == "deadline" then
        local left = poll_end - monotime()
        if own and own < left then return own end
        return left
      end
      if k == "_request" then return request end
      return client[k]
    end,
    __newindex = function(_, k, v) client[k] = v end,
  })
end

-- A describe function over the client's paginated iterator. Only the wanted
-- ids are kept (the last description of each), so a listing that repeats
-- items or never ends holds no more memory than the ids asked for.
local function describer(client, spec, monotime)
  return function(chunk, deadline)
    local wanted = set(chunk)
    local by_id, list = {}, {}
    local c = bounded(client, monotime, deadline)
    local ok, err = pcall(function()
      for item in c[spec.iterator](c, { [spec.ids_arg] = chunk }) do
        local id = type(item) == "table" and item[spec.id_field]
        if id and wanted[id] then
          if not by_id[id] then list[#list + 1] = id end
          by_id[id] = item
        end
      end
    end)
    for i, id in ipairs(list) do list[i] = by_id[id] end
    if not ok then
      -- the items of the pages before the deadline still tell the last state
      if is_deadline(err) then err.partial = list end
      error(err, 0)
    end
    return list
  end
end

local function check_id(op, field, id)
  if type(id) ~= "string" or id == "" then errors.raise_validation(op, field, "must be a non-empty string") end
end

local function check_ids(op, field, ids)
  if type(ids) ~= "table" or #errors.check_plain(op, field, ids) == 0 then
    errors.raise_validation(op, field, "must be a non-empty list of ids")
  end
  local n = 0
  for _ in pairs(ids) do n = n + 1 end
  if n ~= #ids then errors.raise_validation(op, field, "must be a list of ids (keys 1..n only)") end
  for i, id in ipairs(ids) do check_id(op, field .. "[" .. i .. "]", id) end
end

-- The waiters call the client's paginated iterator: refuse anything else.
local function check_client(client, op, spec)
  if type(client) ~= "table" or type(client[spec.iterator]) ~= "function" then
    errors.raise_validation(op, nil, "call it as client:" .. op .. "(...)")
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
  local items, info = M.run(spec, { id }, o, describer(client, spec, o.monotime), op)
  return items[1], info
end

--- Wait for several resources of a kind; one Describe* call per 50 ids a round.
-- @return list of final items in the order of ids, `{ polls =, elapsed = }`
function M.wait_many(client, kind, ids, opts)
  local spec = M.SPECS[kind]
  check_client(client, spec.ops, spec)
  check_ids(spec.ops, "ids", ids)
  local o = M.options(opts, spec.ops, client)
  return M.run(spec, ids, o, describer(client, spec, o.monotime), spec.ops)
end

return M
