--- `fsx-backup`: the command-line tool for playbooks (shell scripts, cron,
-- Ansible, CI).
--
-- Layer: CLI, over the public Lua API (`fsx.new`, the client methods, the
-- waiter and retention helpers, `fsx.error`). Results go to stdout as one
-- document (see `fsx.cli.output`); progress, notices and errors go to stderr.
-- The parts, by file: `options` (what the tool accepts), `args` (parsing),
-- `help`, `commands` (one function per command), `wait` (waiting with
-- progress), `context` (the client and the output of a run), `report` (exit
-- statuses and error lines), `tokens`, `tags`, `output` and `progress`
-- (rendering).
--
-- Exit status (docs/cli.md): 0 success, 1 service, transport or credentials
-- error, or the result could not be written, 2 usage or validation error
-- (nothing was sent), 3 the wait timed out, 4 what was waited for FAILED or
-- was deleted, 128 + the signal's number when SIGINT, SIGTERM or SIGHUP
-- stopped it.
--
-- Signals: bin/fsx-backup has `core.catch_signals` record them, so a request
-- in flight stops within about a second and a wait's sleep at once; the run
-- then prints the token or the command that resumes the wait, touches
-- nothing, and exits 128 + the signal. A second signal changes nothing.
-- @module fsx.cli
local errors = require "fsx.error"
local options = require "fsx.cli.options"
local args = require "fsx.cli.args"
local help = require "fsx.cli.help"
local report = require "fsx.cli.report"
local context = require "fsx.cli.context"
local commands = require "fsx.cli.commands"

local M = {}

M.PROGRAM = options.PROGRAM
M.EXIT = report.EXIT
M.OPTIONS = options.OPTIONS
M.COMMANDS = options.COMMANDS
M.parse = args.parse
M.help = help.help
M.version_line = help.version_line
M.exit_code = report.exit_code
M.error_line = report.error_line
M.is_interrupt = report.is_interrupt
M.token_from = require("fsx.cli.tokens").token_from

local EXIT, COMMANDS = report.EXIT, options.COMMANDS
local diag, one_line, usage_error = report.diag, report.one_line, report.usage_error
local is_interrupt = report.is_interrupt

-- Print an error and, for a failed or timed-out wait, the backup as last seen.
local function report_error(ctx, err)
  diag(report.error_line(err, ctx and ctx.done))
  if ctx and ctx.opts.debug then
    if errors.is_error(err) then
      diag(M.PROGRAM .. ": debug: error " .. report.error_details(err))
    elseif ctx.traceback then
      diag(M.PROGRAM .. ": debug: " .. ctx.traceback)
    end
  end
  if ctx and ctx.resume and not (errors.is_error(err) and err.kind == "validation") then
    diag(M.PROGRAM .. ": " .. ctx.resume)
  end
  if ctx and errors.is_error(err) and err.kind == "waiter" and type(err.backup) == "table" then
    local ok = pcall(context.emit, ctx, ctx.command == "create" and "backup" or "backups",
      ctx.command == "create" and { backup = err.backup } or { backups = { err.backup } })
    local _ = ok
  end
end

-- The file descriptor of stdout is closed (`>&-`): the first file the run
-- opens (a socket) would take its number and receive the result.
local function stdout_closed()
  local ok, _, code = io.stdout:seek("cur")
  return not ok and code == 9  -- EBADF
end

--- Run the tool; returns the exit status (does not exit).
-- @tparam table argv the arguments
-- @tparam[opt] table how `{ signals = true }`: catch SIGINT, SIGTERM and
--   SIGHUP (`core.catch_signals`) so a signal ends the run with its resume
--   line and 128 + its number (bin/fsx-backup; the process-wide handlers are
--   not installed when the tool runs inside another program)
-- @treturn number exit status
function M.run(argv, how)
  argv = argv or {}
  -- secrets from the environment never reach the output, whatever happens
  errors.add_secret(os.getenv("AWS_SECRET_ACCESS_KEY"))
  errors.add_secret(os.getenv("AWS_SESSION_TOKEN"))
  errors.add_secret(os.getenv("AWS_SECURITY_TOKEN"))
  local ctx
  local ok, res = xpcall(function()
    local parsed = args.parse(argv)
    if parsed.version then
      io.stdout:write(help.version_line(), "\n")
      return EXIT.OK
    end
    if parsed.help then
      io.stdout:write(help.help(parsed.command))
      return EXIT.OK
    end
    if not parsed.command then
      io.stderr:write(help.help(nil))
      return EXIT.USAGE
    end
    local spec = COMMANDS[parsed.command]
    local nargs = #parsed.args
    if nargs < spec.min_args then
      usage_error(parsed.command, spec.arg_name .. " is required")
    elseif nargs > spec.max_args then
      usage_error(parsed.command, "unexpected argument '" .. one_line(parsed.args[spec.max_args + 1]) .. "'")
    end
    if stdout_closed() then report.write_error("it is closed; nothing was sent") end
    ctx = { command = parsed.command, opts = parsed.opts, args = parsed.args, argv = argv }
    if how and how.signals then
      local caught, why = context.core.catch_signals()
      if not caught then report.notice(ctx, "signals are not caught: " .. tostring(why)) end
    end
    return commands[parsed.command](ctx)
  end, function(e)
    if ctx and not errors.is_error(e) and not report.is_usage_error(e) and not is_interrupt(e)
        and not report.is_write_error(e) then
      ctx.traceback = one_line(debug.traceback(tostring(e), 2))
    end
    return e
  end)
  if ok then return res end
  report_error(ctx, res)
  return report.exit_code(res, context.signal())
end

--- The entry point of bin/fsx-backup: run and exit with the status.
function M.main(argv)
  local code = M.run(argv, { signals = true })
  io.stdout:flush()
  io.stderr:flush()
  os.exit(code)
end

return M
