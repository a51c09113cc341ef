--- The progress display of `fsx-backup create --wait` and `fsx-backup wait`.
--
-- Layer: CLI. On a terminal, one line redrawn in place with a carriage
-- return: backup ID, lifecycle, a bar for the progress percent and the
-- elapsed time. Anywhere else (a pipe, a file, a CI log) one plain line per
-- change of lifecycle or percent, with no carriage returns and no escape
-- codes. The display writes to stderr (stdout carries the one result
-- document); `fsx.cli` picks the mode from `core.isatty`.
-- @module fsx.cli.progress
local output = require "fsx.cli.output"

local M = {}

local Progress = {}
Progress.__index = Progress

M.BAR_WIDTH = 24

--- Elapsed seconds as `m:ss` (or `h:mm:ss`).
function M.elapsed(s)
  s = math.floor(s > 0 and s or 0)
  local h, m, sec = math.floor(s / 3600), math.floor(s / 60) % 60, s % 60
  if h > 0 then return string.format("%d:%02d:%02d", h, m, sec) end
  return string.format("%d:%02d", m, sec)
end

--- A bar of `width` cells for a percent (nil: unknown, an empty bar).
function M.bar(pct, width)
  width = width or M.BAR_WIDTH
  local filled = 0
  if output.finite(pct) then
    if pct < 0 then pct = 0 elseif pct > 100 then pct = 100 end
    filled = math.floor(pct * width / 100 + 0.5)
  end
  return "[" .. string.rep("#", filled) .. string.rep("-", width - filled) .. "]"
end

--- Create a display.
-- @tparam table opts `stream` (default io.stderr), `tty` (boolean: redraw
--   in place), `quiet` (print nothing), `clock` (monotonic seconds function,
--   required), `bar_width`
-- @return the display
function M.new(opts)
  local self = setmetatable({}, Progress)
  self.stream = opts.stream or io.stderr
  self.tty = opts.tty == true
  self.quiet = opts.quiet == true
  self.clock = assert(opts.clock, "fsx.cli.progress: clock is required")
  self.bar_width = opts.bar_width or M.BAR_WIDTH
  self.started = self.clock()
  self.last = {}           -- backup ID -> "LIFECYCLE pct" last shown
  self.drawn = 0           -- length of the line on the terminal
  self.open = false        -- a redrawn line is on the screen without its newline
  return self
end

--- The progress line for a backup (without any control character).
function Progress:line(backup)
  local pct = backup.progress_percent
  local id = backup.backup_id or backup.volume_id or backup.file_system_id or "?"
  return string.format("%s  %-12s %s %4s  %s", output.escape(id),
    output.escape(backup.lifecycle or "?"), M.bar(pct, self.bar_width), output.percent(pct),
    M.elapsed(self.clock() - self.started))
end

-- Write text over the terminal line (blanking what is left of a longer one).
function Progress:redraw(text)
  local padding = self.drawn > #text and string.rep(" ", self.drawn - #text) or ""
  self.stream:write("\r", text, padding)
  self.drawn = #text
  self.open = true
end

--- Show a backup's state: redraw on a terminal, or print a line when its
-- lifecycle or percent changed since the last one shown.
-- @tparam table backup the backup as the waiter reports it
function Progress:update(backup)
  if self.quiet or type(backup) ~= "table" then return end
  local id = tostring(backup.backup_id or backup.volume_id or backup.file_system_id or "?")
  local key = tostring(backup.lifecycle) .. " " .. tostring(backup.progress_percent)
  local changed = self.last[id] ~= key
  self.last[id] = key
  self.current = backup
  local text = self:line(backup)
  if self.tty then
    self:redraw(text)
  elseif changed then
    self.stream:write(text, "\n")
  else
    return
  end
  self.stream:flush()
end

--- Redraw the terminal line with the elapsed time brought up to date (between
-- polls). Does nothing off a terminal or before the first update.
function Progress:tick()
  if self.quiet or not self.tty or not self.current then return end
  self:redraw(self:line(self.current))
  self.stream:flush()
end

--- End the display: on a terminal, move past the redrawn line so the next
-- output starts on a line of its own. Safe to call more than once.
function Progress:finish()
  if self.open then
    self.stream:write("\n")
    self.stream:flush()
    self.open = false
    self.drawn = 0
  end
end

M.Progress = Progress
return M
