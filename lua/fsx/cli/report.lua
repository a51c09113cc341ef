--- How `fsx-backup` ends: exit statuses, usage errors, the one line an error
-- prints, and every write to stderr.
--
-- Layer: CLI, over `fsx.error`. Everything written to stderr goes through
-- `diag`, which scrubs the secrets in use from it.
-- @module fsx.cli.report
local errors = require "fsx.error"
local options = require "fsx.cli.options"
local output = require "fsx.cli.output"

local M = {}

local PROGRAM = options.PROGRAM

--- Exit statuses.
M.EXIT = { OK = 0, ERROR = 1, USAGE = 2, TIMEOUT = 3, FAILED = 4 }
local EXIT = M.EXIT

--- Write a line to stderr, scrubbed of secrets, its control characters
-- escaped (the text may quote the service).
function M.diag(text)
  io.stderr:write(output.escape(errors.scrub(text)), "\n")
  io.stderr:flush()
end

--- Print a notice (`fsx-backup: text`) unless --quiet.
function M.notice(ctx, text)
  if not ctx.opts.quiet then M.diag(PROGRAM .. ": " .. text) end
end

--- A value as one line of text: line breaks as spaces, other control
-- characters escaped.
function M.one_line(s)
  return output.escape((tostring(s):gsub("[\r\n]+", " ")))
end
local one_line = M.one_line

-- A usage error: raised inside the CLI, caught by `fsx.cli.run` (exit 2).
local UsageError = {}
UsageError.__index = UsageError
UsageError.__tostring = function(e) return e.message end

--- Raise a usage error of a command (nil: of the program).
function M.usage_error(command, message)
  error(setmetatable({ command = command, message = message }, UsageError), 0)
end

-- A failed write of the result: raised by `fsx.cli.context.emit`, reported
-- by `fsx.cli.run` (exit 1).
local WriteError = {}
WriteError.__index = WriteError
WriteError.__tostring = function(e) return e.message end

--- Raise a write error for stdout (`reason`: the system's message).
function M.write_error(reason)
  error(setmetatable({ message = "could not write the result to stdout: "
    .. tostring(reason or "unknown error") }, WriteError), 0)
end

--- True for a write error.
function M.is_write_error(err)
  return getmetatable(err) == WriteError
end

--- True for a usage error.
function M.is_usage_error(err)
  return getmetatable(err) == UsageError
end

--- The signals that stop a run (`core.catch_signals` records them) by number.
M.SIGNALS = { [1] = "SIGHUP", [2] = "SIGINT", [15] = "SIGTERM" }

--- True when a signal stopped the work: the transport's INTERRUPTED failure
-- (or the wait's, see `fsx.cli.wait`), or the error the standalone
-- interpreters raise on SIGINT when signals are not caught.
function M.is_interrupt(err)
  if errors.is_error(err, "INTERRUPTED") then return true end
  return type(err) == "string" and err:find("interrupted", 1, true) ~= nil
end

--- The exit status of a run a signal stopped: 128 + its number (SIGINT when
-- the number is not known).
function M.signal_status(signal)
  return 128 + (signal or 2)
end

--- The exit status for an error value.
-- @param err the error
-- @tparam[opt] number signal the signal recorded during the run
function M.exit_code(err, signal)
  if M.is_usage_error(err) then return EXIT.USAGE end
  if M.is_interrupt(err) then return M.signal_status(signal) end
  if errors.is_error(err) then
    if err.kind == "validation" then return EXIT.USAGE end
    if err.kind == "waiter" then
      if err.code == "WaiterTimeout" then return EXIT.TIMEOUT end
      if err.code == "WaiterCancelled" then return M.signal_status(signal) end
      -- BackupFailed, BackupDeleted, FileSystemFailed, VolumeRestoreFailed, ...
      return EXIT.FAILED
    end
  end
  return EXIT.ERROR
end

-- An error's message in the tool's terms (its options, not `fsx.new`'s).
local function cli_words(err)
  if err.code == "NoRegion" then
    return "no region: give --region, or set AWS_REGION or the profile's region"
  end
  return (tostring(err.message):gsub("the profile option", "--profile"))
end

--- The one line an error prints: code, message, HTTP status, request ID.
-- @param err the error
-- @tparam[opt] string done what the run did before the error (a write error
--   says it: "backup backup-... was created (token ...)")
function M.error_line(err, done)
  if M.is_write_error(err) then
    return PROGRAM .. ": " .. err.message .. (done and ("; " .. done) or "")
  end
  if M.is_usage_error(err) then
    local where = err.command and (PROGRAM .. " " .. err.command) or PROGRAM
    return where .. ": " .. err.message .. " (see '" .. where .. " --help')"
  end
  if errors.is_error(err) then
    local extra = {}
    if err.backup_id and not tostring(err.message or ""):find(err.backup_id, 1, true) then
      extra[#extra + 1] = "backup " .. tostring(err.backup_id)
    end
    if err.status then extra[#extra + 1] = "HTTP " .. tostring(err.status) end
    if err.request_id then extra[#extra + 1] = "request ID " .. tostring(err.request_id) end
    local msg = err.message and err.message ~= "" and (": " .. one_line(cli_words(err))) or ""
    return PROGRAM .. ": " .. tostring(err.code or err.kind) .. msg
      .. (#extra > 0 and (" (" .. table.concat(extra, ", ") .. ")") or "")
  end
  if M.is_interrupt(err) then return PROGRAM .. ": interrupted" end
  return PROGRAM .. ": internal error: " .. one_line(tostring(err))
end

--- An IncompatibleParameterError of a create that sent a given token, its
-- message in the tool's terms: what happened and what to do (the library's
-- own explanation, `token_reused`, speaks of its Lua API). Other errors are
-- returned unchanged.
function M.explain_token_reuse(err, ctx)
  local o = ctx.opts
  if not errors.is_error(err, "IncompatibleParameterError") or not (o.token or o["token-from"]) then
    return err
  end
  local what = o["volume-id"] and "volume" or "file system"
  local id = o["volume-id"] or o["file-system-id"]
  local why
  if o["copy-tags"] and o["copy-tags"] ~= "none" then
    why = "--copy-tags " .. o["copy-tags"] .. " reads the " .. what .. "'s tags at every run, and they "
      .. "changed since the first run with this token, so this request differs from that one"
  else
    why = "the first run sent it with other parameters (another " .. what .. " or other tags)"
  end
  err.message = "the token of " .. (o["token-from"] and "--token-from" or "--token")
    .. " was used before and FSx refuses it with other parameters: " .. why
    .. ". The first run's backup exists: find it with '" .. PROGRAM .. " describe --"
    .. (o["volume-id"] and "volume-id" or "file-system-id") .. " " .. tostring(id)
    .. "'; to make a new backup, use a new --token-from text"
  return err
end

--- The fields of an error on one line, for --debug.
function M.error_details(err)
  local keys = {}
  for k, v in pairs(err) do
    if type(v) ~= "table" and type(v) ~= "function" then keys[#keys + 1] = tostring(k) end
  end
  table.sort(keys)
  local parts = {}
  for _, k in ipairs(keys) do parts[#parts + 1] = k .. "=" .. one_line(tostring(err[k])) end
  return table.concat(parts, " ")
end

return M
