--- The run of one `fsx-backup` command: its client, the --debug hook, and
-- the one document it writes to stdout.
--
-- Layer: CLI, over `fsx.new` and `fsx.cli.output`. A context is
-- `{ command =, opts =, args =, format = }` (see `fsx.cli.run`); the client
-- is made on first use, so usage errors never load the library.
-- @module fsx.cli.context
local errors = require "fsx.error"
local output = require "fsx.cli.output"
local progress = require "fsx.cli.progress"
local options = require "fsx.cli.options"
local report = require "fsx.cli.report"

local M = {}

local PROGRAM = options.PROGRAM
local diag, one_line = report.diag, report.one_line

--- fsx.core, loaded on first use: --help and --version work without it.
M.core = setmetatable({}, { __index = function(t, k)
  local v = require("fsx.core")[k]
  rawset(t, k, v)
  return v
end })
local core = M.core

--- The signal recorded during the run (a number), or nil.
function M.signal()
  local loaded = package.loaded["fsx.core"]
  return loaded and loaded.caught_signal and loaded.caught_signal() or nil
end

--- Raise the run's INTERRUPTED error when a signal was recorded.
function M.check_signal()
  local sig = M.signal()
  if sig then
    errors.raise{ kind = "transport", code = "INTERRUPTED",
                  message = "interrupted by " .. (report.SIGNALS[sig] or ("signal " .. sig)) }
  end
end

--- Headers with the signature, the tokens and every known secret redacted
-- (the library's one redaction, `fsx.error.redact_headers`).
M.scrub_headers = errors.redact_headers

--- The --debug hook: each request, response, failure and retry on stderr.
function M.debug_hook(event, data)
  local lines = {}
  local attempt = data.attempt and (" (attempt " .. tostring(data.attempt) .. ")") or ""
  if event == "request" then
    lines[1] = "> " .. tostring(data.method) .. " " .. tostring(data.url) .. attempt
    for _, h in ipairs(M.scrub_headers(data.headers)) do lines[#lines + 1] = "> " .. h[1] .. ": " .. h[2] end
    lines[#lines + 1] = "> " .. one_line(data.body or "")
  elseif event == "response" then
    lines[1] = "< HTTP " .. tostring(data.status) .. attempt
    local names = {}
    for k in pairs(data.headers or {}) do names[#names + 1] = k end
    table.sort(names)
    local list = {}
    for _, k in ipairs(names) do list[#list + 1] = { k, data.headers[k] } end
    for _, h in ipairs(M.scrub_headers(list)) do lines[#lines + 1] = "< " .. h[1] .. ": " .. h[2] end
    lines[#lines + 1] = "< " .. one_line(data.body or "")
  elseif event == "failure" then
    lines[1] = "! " .. tostring(data.kind) .. " " .. tostring(data.code) .. ": "
      .. one_line(data.message or "") .. attempt
  elseif event == "retry" then
    lines[1] = string.format("~ retrying after %.2fs (%s)%s", tonumber(data.delay) or 0,
      tostring(data.code), attempt)
  else
    lines[1] = "? " .. tostring(event)
  end
  for _, l in ipairs(lines) do diag(PROGRAM .. ": debug: " .. l) end
end

--- The client of a run (made on first use).
function M.client(ctx)
  if ctx.client then return ctx.client end
  local fsx = require "fsx"
  local o = ctx.opts
  ctx.client = fsx.new{
    region = o.region, profile = o.profile, endpoint_url = o["endpoint-url"],
    max_attempts = o["max-attempts"], debug = o.debug and M.debug_hook or nil,
  }
  return ctx.client
end

--- The output format: --output, else AWS_DEFAULT_OUTPUT, else the profile's
-- `output`, when it is one the tool writes (json, text, table); else json.
function M.format(ctx)
  if ctx.format then return ctx.format end
  local format = ctx.opts.output
  if not format then
    local env = os.getenv("AWS_DEFAULT_OUTPUT")
    if output.FORMATS[env] then format = env end
  end
  if not format then
    local ok, client = pcall(M.client, ctx)
    local settings = ok and client.settings
    local from_profile = settings and settings.profile_data and settings.profile_data.output
    if output.FORMATS[from_profile] then format = from_profile end
  end
  ctx.format = format or "json"
  return ctx.format
end

--- Write the run's one document to stdout. A write that fails (a full disk,
-- a closed pipe) raises a write error (see `fsx.cli.report.write_error`).
function M.emit(ctx, kind, doc)
  output.shape_lookup = require("fsx.shape").get
  local text = output.render(kind, doc, M.format(ctx))
  if kind == "request" then text = errors.scrub(text) end
  local ok, err = io.stdout:write(text)
  if ok then ok, err = io.stdout:flush() end
  if not ok then report.write_error(err) end
end

--- --dry-run: sign the request an operation would send and print it.
function M.dry_run(ctx, operation, args)
  local req = M.client(ctx):prepare(operation, args)
  M.emit(ctx, "request", { dry_run = true, operation = operation, method = req.method, url = req.url,
                         headers = M.scrub_headers(req.headers), body = req.body })
  report.notice(ctx, "dry run: " .. operation .. " was signed but not sent")
  return report.EXIT.OK
end

--- The progress display of a wait.
function M.progress(ctx)
  return progress.new{
    stream = io.stderr,
    tty = core.isatty(1) and core.isatty(2),
    quiet = ctx.opts.quiet,
    clock = core.monotime,
  }
end

return M
