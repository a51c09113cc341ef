--- `fsx-backup`: the command-line tool for playbooks (shell scripts, cron,
-- Ansible, CI).
--
-- Layer: CLI, over the public Lua API (`fsx.new`, the client methods, the
-- waiter and retention helpers, `fsx.error`). Results go to stdout as one
-- document (see `fsx.cli.output`); progress, notices and errors go to stderr.
-- The parts, by file: `options` (what the tool accepts), `args` (parsing),
-- `help`, `commands` (one function per command), `wait` (waiting with
-- progress), `context` (the client and the output of a run), `report` (exit
-- statuses and error lines), `output` and `progress` (rendering).
--
-- Exit status: 0 success, 1 service, transport or credentials error, 2 usage
-- or validation error (nothing was sent), 3 the wait timed out, 4 the backup
-- FAILED or was deleted while waiting, 130 interrupted (Ctrl-C).
--
-- Ctrl-C: the standalone interpreters turn SIGINT into a Lua error
-- ("interrupted!") at the next instruction, and `core.sleep` returns early on
-- a signal, so a wait stops promptly. The error is caught here; the backup is
-- left alone and its ID and the command that resumes the wait are printed.
-- @module fsx.cli
local errors = require "fsx.error"
local options = require "fsx.cli.options"
local args = require "fsx.cli.args"
local help = require "fsx.cli.help"
local report = require "fsx.cli.report"
local context = require "fsx.cli.context"
local commands = require "fsx.cli.commands"
local output = require "fsx.cli.output"

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
  diag(report.error_line(err))
  if ctx and ctx.opts.debug then
    if errors.is_error(err) then
      diag(M.PROGRAM .. ": debug: error " .. report.error_details(err))
    elseif ctx.traceback then
      diag(M.PROGRAM .. ": debug: " .. ctx.traceback)
    end
  end
  if ctx and errors.is_error(err, "WaiterTimeout") then
    local ids = type(err.pending) == "table" and #err.pending > 0 and err.pending or { err.backup_id }
    diag(M.PROGRAM .. ": the backup was left as it is; resume with: " .. M.PROGRAM .. " wait "
      .. table.concat(ids, " "))
  end
  if ctx and errors.is_error(err) and err.kind == "waiter" and type(err.backup) == "table" then
    local ok = pcall(context.emit, ctx, ctx.command == "create" and "backup" or "backups",
      ctx.command == "create" and { backup = err.backup } or { backups = output.array({ err.backup }) })
    local _ = ok
  end
end

--- Run the tool; returns the exit status (does not exit).
-- @tparam table argv the arguments
-- @treturn number exit status
function M.run(argv)
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
    ctx = { command = parsed.command, opts = parsed.opts, args = parsed.args,
            format = parsed.opts.output or "json" }
    return commands[parsed.command](ctx)
  end, function(e)
    if ctx and not errors.is_error(e) and not report.is_usage_error(e) and not is_interrupt(e) then
      ctx.traceback = one_line(debug.traceback(tostring(e), 2))
    end
    return e
  end)
  if ok then return res end
  if is_interrupt(res) then
    diag(M.PROGRAM .. ": interrupted")
    return EXIT.INTERRUPTED
  end
  report_error(ctx, res)
  return M.exit_code(res)
end

--- The entry point of bin/fsx-backup: run and exit with the status.
function M.main(argv)
  local code = M.run(argv)
  io.stdout:flush()
  io.stderr:flush()
  os.exit(code)
end

return M
