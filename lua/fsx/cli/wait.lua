--- Waiting in `fsx-backup create --wait` and `fsx-backup wait`: the
-- library's waiter with the progress display, and what an interrupted wait
-- prints.
--
-- Layer: CLI, over the client's `wait_for_backup(s)`.
-- @module fsx.cli.wait
local errors = require "fsx.error"
local args = require "fsx.cli.args"
local context = require "fsx.cli.context"
local options = require "fsx.cli.options"
local output = require "fsx.cli.output"
local report = require "fsx.cli.report"

local M = {}

--- The longest pause between two polls unless --max-interval says otherwise:
-- a backup that became AVAILABLE is noticed within this long.
M.MAX_INTERVAL = 15

local PROGRAM = options.PROGRAM
local EXIT, diag = report.EXIT, report.diag
local core = context.core

-- After an interrupted wait: say which backups to resume, touch nothing.
local function report_interrupt(ctx, pending, last)
  local ids = {}
  for _, id in ipairs(pending) do
    local b = last[id]
    if not (b and b.lifecycle == "AVAILABLE") then ids[#ids + 1] = id end
  end
  if #ids == 0 then ids = pending end
  for _, id in ipairs(ids) do
    local b = last[id]
    local pct = b and output.percent(b.progress_percent)
    local state = b and (" (" .. output.escape(tostring(b.lifecycle))
      .. (pct and pct ~= "-" and " " .. pct or "") .. ")") or ""
    diag(PROGRAM .. ": interrupted while waiting for " .. id .. state
      .. "; the backup was left as it is")
  end
  diag(PROGRAM .. ": resume with: " .. M.resume_line(ctx, ids))
  return report.signal_status(context.signal())
end

--- The command line that resumes waiting for backups.
function M.resume_line(ctx, ids)
  return args.command_line(ctx.opts, "wait", ids)
end

--- The waiter options of a run: its --timeout and --max-interval, progress
-- on the display, failed polls on stderr, and a sleep that a signal ends
-- (see `core.catch_signals`: a poll in flight then fails with INTERRUPTED).
-- @tparam table ctx the run
-- @param display the progress display (`fsx.cli.progress`)
-- @tparam[opt] function seen called with each state the waiter reports
-- @treturn table waiter options
function M.options(ctx, display, seen)
  local function on_progress(item)
    if seen then seen(item) end
    display:update(item)
    return true
  end
  -- sleep between polls in steps of a second so the elapsed time ticks on a
  -- terminal; a signal cuts core.sleep short and ends the wait
  local function sleep(s)
    local stop = core.monotime() + s
    while true do
      context.check_signal()
      local left = stop - core.monotime()
      if left <= 0 then break end
      core.sleep(left < 1 and left or 1)
      display:tick()
    end
  end
  -- a failed poll (endpoint down, credentials expired, throttled) is shown
  -- at once; after the waiter's max_failures in a row it raises that error
  local function on_error(err, info)
    display:finish()
    diag(PROGRAM .. ": poll " .. tostring(info.polls) .. " failed (" .. tostring(info.failures) .. " of "
      .. tostring(info.max_failures) .. " in a row before giving up): "
      .. report.error_line(err):gsub("^[^:]*: ", ""))
  end
  local max_delay = ctx.opts["max-interval"] or M.MAX_INTERVAL
  return { timeout = ctx.opts.timeout, on_progress = on_progress, on_error = on_error,
           sleep = sleep, max_delay = max_delay,
           min_delay = math.min(require("fsx.waiter").DEFAULTS.min_delay, max_delay) }
end

--- Wait for backups with the progress display. A signal (see
-- `core.catch_signals`) ends the wait at once: the sleep between polls stops,
-- a poll in flight fails with INTERRUPTED.
-- @tparam table ctx the run
-- @tparam table ids backup IDs
-- @tparam[opt] table first the backup as CreateBackup returned it
-- @treturn number the exit status
-- @treturn ?table the final backups (on success)
function M.backups(ctx, ids, first)
  local client = context.client(ctx)
  local display = context.progress(ctx)
  local last = {}
  local opts = M.options(ctx, display, function(b)
    if type(b) == "table" and b.backup_id then last[b.backup_id] = b end
  end)
  if first then opts.on_progress(first) end
  local ok, res = pcall(function()
    context.check_signal()
    if #ids == 1 then return { (client:wait_for_backup(ids[1], opts)) } end
    return client:wait_for_backups(ids, opts)
  end)
  display:finish()
  if ok then return EXIT.OK, res end
  if report.is_interrupt(res) then return report_interrupt(ctx, ids, last) end
  -- the backups are left as they are: unless one FAILED or is gone, say how
  -- to resume (after a timeout, an outage, expired credentials)
  if not (errors.is_error(res, "BackupFailed") or errors.is_error(res, "BackupDeleted")) then
    local pending = errors.is_error(res, "WaiterTimeout") and type(res.pending) == "table"
      and #res.pending > 0 and res.pending or ids
    ctx.resume = "the backup was left as it is; resume with: " .. M.resume_line(ctx, pending)
  end
  error(res, 0)
end

return M
