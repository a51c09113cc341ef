--- `fsx-backup`: the command-line tool for playbooks (shell scripts, cron,
-- Ansible, CI).
--
-- Layer: CLI, over the public Lua API (`fsx.new`, the client methods, the
-- waiter and retention helpers, `fsx.error`). Argument parsing is written
-- here, with no argparse dependency. Results go to stdout as one document
-- (see `fsx.cli.output`); progress, notices and errors go to stderr.
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
local output = require "fsx.cli.output"
local progress = require "fsx.cli.progress"

local M = {}

-- fsx.core is loaded on first use: --help and --version work without it.
local core = setmetatable({}, { __index = function(t, k)
  local v = require("fsx.core")[k]
  rawset(t, k, v)
  return v
end })

M.PROGRAM = "fsx-backup"

--- Exit statuses.
M.EXIT = { OK = 0, ERROR = 1, USAGE = 2, TIMEOUT = 3, FAILED = 4, INTERRUPTED = 130 }
local EXIT = M.EXIT

-- ---------------------------------------------------------------------------
-- Options and commands
-- ---------------------------------------------------------------------------

-- Option declarations. `arg`: the value's placeholder (nil for a flag);
-- `check`: the value's kind; `repeated`: collected into a list.
local OPTIONS = {
  region = { arg = "REGION", help = "AWS region (default: AWS_REGION, the profile)" },
  profile = { arg = "NAME", help = "shared config/credentials profile (default: AWS_PROFILE)" },
  ["endpoint-url"] = { arg = "URL", help = "send requests to this URL instead of the FSx endpoint" },
  output = { arg = "FORMAT", choices = { "json", "text", "table" },
             help = "json (default), text (tab-separated) or table" },
  ["max-attempts"] = { arg = "N", check = "count", help = "attempts per request, retries included" },
  quiet = { help = "no progress or notices on stderr (errors still print)" },
  debug = { help = "print each request and response (secrets redacted) to stderr" },
  ["dry-run"] = { help = "validate, sign and print the request; send nothing" },
  help = { help = "show help" },
  version = { help = "print the version" },
  ["file-system-id"] = { arg = "ID", help = "the file system (fs-...)" },
  ["volume-id"] = { arg = "ID", help = "the volume (fsvol-...)" },
  tag = { arg = "KEY=VALUE", repeated = true, help = "a tag for the backup (repeatable)" },
  ["copy-tags"] = { arg = "POLICY", choices = { "none", "file_system", "merge", "replace" },
                    help = "combine the file system's or volume's tags with --tag: "
                           .. "none (default), file_system, merge or replace" },
  token = { arg = "TOKEN", help = "ClientRequestToken (1-63 of A-Z a-z 0-9 _ . -)" },
  ["token-from"] = { arg = "TEXT", help = "derive a stable ClientRequestToken from TEXT" },
  wait = { help = "wait until the backup is AVAILABLE, showing progress" },
  timeout = { arg = "SECONDS", check = "positive", help = "give up waiting after SECONDS (exit 3)" },
  ["keep-last"] = { arg = "N", check = "count0", help = "keep the N newest backups" },
  ["keep-days"] = { arg = "DAYS", check = "nonneg", help = "keep backups younger than DAYS days" },
  ["include-type"] = { arg = "TYPE", choices = { "AUTOMATIC", "AWS_BACKUP" }, repeated = true,
                       help = "also prune backups of this type: AUTOMATIC or AWS_BACKUP "
                              .. "(repeatable; by default only USER_INITIATED ones)" },
}
M.OPTIONS = OPTIONS

local COMMON = { "region", "profile", "endpoint-url", "output", "max-attempts", "quiet",
                 "debug", "dry-run", "help" }

local COMMANDS = {
  create = {
    summary = "create a backup of a file system or volume",
    usage = "create (--file-system-id ID | --volume-id ID)\n"
         .. "       [--tag KEY=VALUE ...] [--copy-tags none|file_system|merge|replace]\n"
         .. "       [--token TOKEN | --token-from TEXT] [--wait [--timeout SECONDS]]",
    options = { "file-system-id", "volume-id", "tag", "copy-tags", "token", "token-from",
                "wait", "timeout" },
    min_args = 0, max_args = 0,
    text = "Prints the backup (or, with --wait, the AVAILABLE backup). Re-running with the\n"
        .. "same --token or --token-from returns the same backup instead of a second one:\n"
        .. "use --token-from \"$RUN_ID/$FILE_SYSTEM_ID\" in playbooks that may be re-run.",
  },
  wait = {
    summary = "wait until backups are AVAILABLE",
    usage = "wait BACKUP_ID... [--timeout SECONDS]",
    options = { "timeout" },
    min_args = 1, max_args = math.huge, arg_name = "BACKUP_ID",
    text = "Prints the AVAILABLE backups. Exit 3 when --timeout passes, 4 when a backup\n"
        .. "FAILED or was deleted, 130 on Ctrl-C (the backups are left alone).",
  },
  describe = {
    summary = "describe backups (every page)",
    usage = "describe [BACKUP_ID...]\n       [--file-system-id ID] [--volume-id ID]",
    options = { "file-system-id", "volume-id" },
    min_args = 0, max_args = math.huge, arg_name = "BACKUP_ID",
    text = "Without arguments, describes every backup the account can see in the region.",
  },
  delete = {
    summary = "delete a backup",
    usage = "delete BACKUP_ID [--token TOKEN | --token-from TEXT]",
    options = { "token", "token-from" },
    min_args = 1, max_args = 1, arg_name = "BACKUP_ID",
    text = "Prints the DeleteBackup result (backup_id and lifecycle DELETED).",
  },
  prune = {
    summary = "delete old backups by a retention rule",
    usage = "prune (--file-system-id ID | --volume-id ID)\n"
         .. "       [--keep-last N] [--keep-days DAYS] [--tag KEY[=VALUE] ...]\n"
         .. "       [--include-type AUTOMATIC|AWS_BACKUP ...] [--dry-run]",
    options = { "file-system-id", "volume-id", "keep-last", "keep-days", "tag",
                "include-type" },
    overrides = {
      tag = { arg = "KEY[=VALUE]", help = "only prune backups with this tag (repeatable)" },
      ["dry-run"] = { help = "list what would be deleted (sends only DescribeBackups)" },
    },
    min_args = 0, max_args = 0,
    text = "Keeps the --keep-last newest backups and those younger than --keep-days (at\n"
        .. "least one of the two is required). Never deletes a backup that is not\n"
        .. "AVAILABLE, nor the newest AVAILABLE one, nor AUTOMATIC or AWS_BACKUP backups\n"
        .. "unless --include-type names them. --tag limits pruning to backups carrying\n"
        .. "every given tag (KEY alone: any value; a KEY given twice: any of the values).\n"
        .. "With --dry-run, prune lists what it would delete: it sends read-only\n"
        .. "DescribeBackups requests and never DeleteBackup. Prints what was kept and\n"
        .. "deleted and why; exit 1 when the service refused any deletion.",
  },
}
M.COMMANDS = COMMANDS
local COMMAND_ORDER = { "create", "wait", "describe", "delete", "prune" }

-- ---------------------------------------------------------------------------
-- Diagnostics
-- ---------------------------------------------------------------------------

-- Everything written to stderr goes through here: scrubbed of secrets.
local function diag(text)
  io.stderr:write(errors.scrub(text), "\n")
  io.stderr:flush()
end

local function one_line(s)
  return (tostring(s):gsub("[\r\n]+", " "))
end

-- A usage error: raised inside the CLI, caught by `run` (exit 2).
local UsageError = {}
UsageError.__index = UsageError
UsageError.__tostring = function(e) return e.message end

local function usage_error(command, message)
  error(setmetatable({ command = command, message = message }, UsageError), 0)
end

local function is_interrupt(err)
  return type(err) == "string" and err:find("interrupted", 1, true) ~= nil
end
M.is_interrupt = is_interrupt

-- ---------------------------------------------------------------------------
-- Help
-- ---------------------------------------------------------------------------

local function option_lines(names, overrides)
  local lines = {}
  for _, name in ipairs(names) do
    local o = OPTIONS[name]
    local over = overrides and overrides[name] or {}
    local arg, help = over.arg or o.arg, over.help or o.help
    local left = "--" .. name .. (arg and (" " .. arg) or "")
    if name == "help" then left = "-h, --help" end
    -- wrap the description at 79 columns, under its own column
    local row, width = string.format("  %-26s", left), 29
    for word in help:gmatch("%S+") do
      if #row + 1 + #word > 79 and #row > width then
        lines[#lines + 1] = row
        row = string.rep(" ", width - 1)
      end
      row = row .. " " .. word
    end
    lines[#lines + 1] = row
  end
  return table.concat(lines, "\n")
end

--- The help text of a command (or of the program when command is nil).
function M.help(command)
  local p = M.PROGRAM
  if command then
    local c = COMMANDS[command]
    return string.format("Usage: %s %s\n\n%s.\n%s\n\nOptions:\n%s\n\nCommon options:\n%s\n",
      p, c.usage, c.summary:gsub("^%l", string.upper), c.text,
      option_lines(c.options, c.overrides), option_lines(COMMON, c.overrides))
  end
  local lines = {
    "Usage: " .. p .. " COMMAND [OPTIONS]",
    "",
    "Amazon FSx backups from playbooks (lua-fsx " .. require("fsx.version") .. ").",
    "",
    "Commands:",
  }
  for _, name in ipairs(COMMAND_ORDER) do
    lines[#lines + 1] = string.format("  %-10s %s", name, COMMANDS[name].summary)
  end
  lines[#lines + 1] = ""
  lines[#lines + 1] = "Common options:"
  lines[#lines + 1] = option_lines(COMMON)
  lines[#lines + 1] = string.format("  %-26s %s", "--version", OPTIONS.version.help)
  lines[#lines + 1] = ""
  lines[#lines + 1] = "Exit status: 0 success, 1 service or transport error, 2 usage error,"
  lines[#lines + 1] = "3 wait timed out, 4 backup FAILED or deleted while waiting, 130 interrupted."
  lines[#lines + 1] = "Run '" .. p .. " COMMAND --help' for a command's options."
  return table.concat(lines, "\n") .. "\n"
end

--- The `--version` line.
function M.version_line()
  return M.PROGRAM .. " " .. require("fsx.version") .. " ("
      .. (rawget(_G, "jit") and jit.version or _VERSION) .. ")"
end

-- ---------------------------------------------------------------------------
-- Parsing
-- ---------------------------------------------------------------------------

local function check_value(command, name, value)
  local o = OPTIONS[name]
  if o.choices then
    for _, c in ipairs(o.choices) do
      if c == value then return value end
    end
    usage_error(command, "--" .. name .. " must be one of " .. table.concat(o.choices, ", ")
      .. " (got '" .. value .. "')")
  end
  local check = o.check
  if not check then
    if value == "" then usage_error(command, "--" .. name .. " needs a non-empty value") end
    return value
  end
  local n = tonumber(value)
  local whole = value:match("^%d+$") ~= nil
  local real = value:match("^%d+%.?%d*$") ~= nil or value:match("^%.%d+$") ~= nil
  if check == "count" and (not whole or n < 1) then
    usage_error(command, "--" .. name .. " must be a whole number >= 1 (got '" .. value .. "')")
  elseif check == "count0" and not whole then
    usage_error(command, "--" .. name .. " must be a whole number >= 0 (got '" .. value .. "')")
  elseif check == "positive" and (not real or n <= 0) then
    usage_error(command, "--" .. name .. " must be a number of seconds > 0 (got '" .. value .. "')")
  elseif check == "nonneg" and not real then
    usage_error(command, "--" .. name .. " must be a number >= 0 (got '" .. value .. "')")
  end
  if n > 2 ^ 53 then usage_error(command, "--" .. name .. " is too large") end
  return n
end

-- Split "--name=value" / "--name" / "-h".
local function option_name(a)
  if a == "-h" then return "help" end
  local name, value = a:match("^%-%-([^=]+)=(.*)$")
  if name then return name, value end
  return a:sub(3)
end

--- Parse the arguments.
-- @tparam table argv the arguments (argv[1..n])
-- @treturn table `{ command =, opts = { name = value }, args = { positional... },
--   help =, version = }`
-- @raise a usage error (see `run`)
function M.parse(argv)
  -- pass 1: find the command; options may come before or after it
  local command, i = nil, 1
  local n = #argv
  while i <= n do
    local a = argv[i]
    if a == "--" then
      command = argv[i + 1]
      break
    elseif a:sub(1, 2) == "--" or a == "-h" then
      local name, value = option_name(a)
      if value == nil and OPTIONS[name] and OPTIONS[name].arg then i = i + 1 end
    else
      command = a
      break
    end
    i = i + 1
  end
  if command == "help" then
    local topic = nil
    for j = i + 1, n do
      if argv[j]:sub(1, 1) ~= "-" then topic = argv[j]; break end
    end
    if topic and not COMMANDS[topic] then usage_error(nil, "unknown command '" .. topic .. "'") end
    return { command = topic, help = true, opts = {}, args = {} }
  end
  if command and not COMMANDS[command] then
    usage_error(nil, "unknown command '" .. command .. "' (commands: "
      .. table.concat(COMMAND_ORDER, ", ") .. ")")
  end
  local allowed = {}
  for _, name in ipairs(COMMON) do allowed[name] = true end
  allowed.version = true
  if command then
    for _, name in ipairs(COMMANDS[command].options) do allowed[name] = true end
  end
  -- pass 2: every argument
  local result = { command = command, opts = {}, args = {} }
  local seen_command, only_args = false, false
  i = 1
  while i <= n do
    local a = argv[i]
    if only_args then
      if not seen_command and a == command then seen_command = true
      else result.args[#result.args + 1] = a end
    elseif a == "--" then
      only_args = true
    elseif (a:sub(1, 2) == "--" and #a > 2) or a == "-h" then
      local name, value = option_name(a)
      local o = OPTIONS[name]
      if not o or not allowed[name] then
        if o and command then
          usage_error(command, "--" .. name .. " is not an option of '" .. command .. "'")
        elseif o then
          usage_error(nil, "--" .. name .. " needs a command before it")
        end
        usage_error(command, "unknown option --" .. name)
      end
      if o.arg then
        if value == nil then
          i = i + 1
          value = argv[i]
          if value == nil then usage_error(command, "--" .. name .. " needs a value (" .. o.arg .. ")") end
        end
        value = check_value(command, name, value)
        if o.repeated then
          local list = result.opts[name] or {}
          list[#list + 1] = value
          result.opts[name] = list
        else
          result.opts[name] = value  -- the last one wins
        end
      else
        if value ~= nil then usage_error(command, "--" .. name .. " takes no value") end
        result.opts[name] = true
      end
    elseif a:sub(1, 1) == "-" and #a > 1 then
      usage_error(command, "unknown option " .. a)
    elseif not seen_command and a == command then
      seen_command = true
    else
      result.args[#result.args + 1] = a
    end
    i = i + 1
  end
  result.help = result.opts.help == true
  result.version = result.opts.version == true
  return result
end

-- ---------------------------------------------------------------------------
-- Helpers of the commands
-- ---------------------------------------------------------------------------

--- The ClientRequestToken `--token-from TEXT` derives: `tf-` and the first
-- 60 hex digits of SHA-256(TEXT), 63 characters (the API's maximum), the
-- same on every run and every machine (`printf %s TEXT | sha256sum`).
function M.token_from(text)
  return "tf-" .. core.sha256_hex(text):sub(1, 60)
end

local function random_token()
  local hex = core.random_bytes(16):gsub(".", function(c) return string.format("%02x", c:byte()) end)
  return "cli-" .. hex
end

local function check_token(command, token)
  if #token < 1 or #token > 63 or token:find("[^A-Za-z0-9_.-]") then
    usage_error(command, "--token must be 1 to 63 characters of A-Z a-z 0-9 _ . - (got '"
      .. one_line(token) .. "')")
  end
  return token
end

-- The token of a create or delete: --token, --token-from or nil.
local function token_of(ctx)
  local o = ctx.opts
  if o.token and o["token-from"] then
    usage_error(ctx.command, "give --token or --token-from, not both")
  end
  if o.token then return check_token(ctx.command, o.token) end
  if o["token-from"] then return M.token_from(o["token-from"]) end
  return nil
end

-- Tags from repeated --tag KEY=VALUE, as a map.
local function tags_of(ctx)
  local list = ctx.opts.tag
  if not list then return nil end
  local map = {}
  for _, kv in ipairs(list) do
    local k, v = kv:match("^([^=]*)=(.*)$")
    if not k then usage_error(ctx.command, "--tag must be KEY=VALUE (got '" .. one_line(kv) .. "')") end
    if k == "" then usage_error(ctx.command, "--tag needs a key before '=' (got '" .. one_line(kv) .. "')") end
    if map[k] ~= nil then usage_error(ctx.command, "--tag " .. k .. " is given twice") end
    map[k] = v
  end
  return map
end

-- The tag filter of prune from repeated --tag KEY[=VALUE]: `{ key = "v" }`,
-- `{ key = true }` (any value), `{ key = { "a", "b" } }` (any of these).
local function tag_filter_of(ctx)
  local list = ctx.opts.tag
  if not list then return nil end
  local filter = {}
  for _, kv in ipairs(list) do
    local k, v = kv:match("^([^=]*)=(.*)$")
    if not k then k, v = kv, true end
    if k == "" then usage_error(ctx.command, "--tag needs a key (got '" .. one_line(kv) .. "')") end
    local have = filter[k]
    if have == nil or v == true then
      filter[k] = v
    elseif have ~= true then
      if type(have) ~= "table" then have = { have } end
      have[#have + 1] = v
      filter[k] = have
    end
  end
  return filter
end

local function sorted_tag_list(map)
  if not map then return nil end
  local keys = {}
  for k in pairs(map) do keys[#keys + 1] = k end
  table.sort(keys)
  local list = {}
  for i, k in ipairs(keys) do list[i] = { key = k, value = map[k] } end
  return list
end

-- Exactly one of --file-system-id and --volume-id.
local function target_of(ctx, required)
  local fs, vol = ctx.opts["file-system-id"], ctx.opts["volume-id"]
  if fs and vol then usage_error(ctx.command, "give --file-system-id or --volume-id, not both") end
  if required and not fs and not vol then
    usage_error(ctx.command, "--file-system-id or --volume-id is required")
  end
  return fs, vol
end

local function scrub_headers(list)
  local out = {}
  for i, h in ipairs(list or {}) do
    local name, value = tostring(h[1]), tostring(h[2])
    local lname = name:lower()
    if lname == "authorization" then
      value = value:gsub("Signature=[^,%s]*", "Signature=<redacted>")
    elseif lname == "x-amz-security-token" or lname == "x-aws-ec2-metadata-token" then
      value = "<redacted>"
    end
    out[i] = { name, errors.scrub(value) }
  end
  return out
end

-- The --debug hook: each request, response, failure and retry on stderr.
local function debug_hook(event, data)
  local lines = {}
  local attempt = data.attempt and (" (attempt " .. tostring(data.attempt) .. ")") or ""
  if event == "request" then
    lines[1] = "> " .. tostring(data.method) .. " " .. tostring(data.url) .. attempt
    for _, h in ipairs(scrub_headers(data.headers)) do lines[#lines + 1] = "> " .. h[1] .. ": " .. h[2] end
    lines[#lines + 1] = "> " .. one_line(data.body or "")
  elseif event == "response" then
    lines[1] = "< HTTP " .. tostring(data.status) .. attempt
    local names = {}
    for k in pairs(data.headers or {}) do names[#names + 1] = k end
    table.sort(names)
    local list = {}
    for _, k in ipairs(names) do list[#list + 1] = { k, data.headers[k] } end
    for _, h in ipairs(scrub_headers(list)) do lines[#lines + 1] = "< " .. h[1] .. ": " .. h[2] end
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
  for _, l in ipairs(lines) do diag(M.PROGRAM .. ": debug: " .. l) end
end
M.debug_hook = debug_hook

local function client_of(ctx)
  if ctx.client then return ctx.client end
  local fsx = require "fsx"
  local o = ctx.opts
  ctx.client = fsx.new{
    region = o.region, profile = o.profile, endpoint_url = o["endpoint-url"],
    max_attempts = o["max-attempts"], debug = o.debug and debug_hook or nil,
  }
  return ctx.client
end

local function emit(ctx, kind, doc)
  output.shape_lookup = require("fsx.shape").get
  if kind == "request" then
    io.stdout:write(errors.scrub(output.render(kind, doc, ctx.format)))
    io.stdout:flush()
  else
    output.write(kind, doc, ctx.format)
  end
end

local function notice(ctx, text)
  if not ctx.opts.quiet then diag(M.PROGRAM .. ": " .. text) end
end

-- --dry-run: sign the request an operation would send and print it.
local function dry_run(ctx, operation, args)
  local req = client_of(ctx):prepare(operation, args)
  emit(ctx, "request", { dry_run = true, operation = operation, method = req.method, url = req.url,
                         headers = scrub_headers(req.headers), body = req.body })
  notice(ctx, "dry run: " .. operation .. " was signed but not sent")
  return EXIT.OK
end

local function new_progress(ctx)
  return progress.new{
    stream = io.stderr,
    tty = core.isatty(1) and core.isatty(2),
    quiet = ctx.opts.quiet,
    clock = core.monotime,
  }
end

local function array(t) return output.array(t) end

-- After an interrupted wait: say which backups to resume, touch nothing.
local function report_interrupt(pending, last)
  local ids = {}
  for _, id in ipairs(pending) do
    local b = last[id]
    if not (b and b.lifecycle == "AVAILABLE") then ids[#ids + 1] = id end
  end
  if #ids == 0 then ids = pending end
  for _, id in ipairs(ids) do
    local b = last[id]
    local pct = b and tonumber(b.progress_percent)
    local state = b and (" (" .. tostring(b.lifecycle)
      .. (pct and string.format(" %d%%", math.floor(pct)) or "") .. ")") or ""
    diag(M.PROGRAM .. ": interrupted while waiting for " .. id .. state
      .. "; the backup was left as it is")
  end
  diag(M.PROGRAM .. ": resume with: " .. M.PROGRAM .. " wait " .. table.concat(ids, " "))
  return EXIT.INTERRUPTED
end

-- Wait for backups with the progress display. Returns the exit code and the
-- final backups (or nil).
local function wait_for(ctx, ids, first)
  local client = client_of(ctx)
  local display = new_progress(ctx)
  local last = {}
  local function on_progress(b)
    if type(b) == "table" and b.backup_id then last[b.backup_id] = b end
    display:update(b)
    return true
  end
  if first then on_progress(first) end
  local opts = { timeout = ctx.opts.timeout, on_progress = on_progress }
  if display.tty and not display.quiet then
    -- sleep between polls in steps of a second so the elapsed time ticks;
    -- a signal cuts core.sleep short, so Ctrl-C still stops at once
    opts.sleep = function(s)
      local stop = core.monotime() + s
      while true do
        local left = stop - core.monotime()
        if left <= 0 then break end
        core.sleep(left < 1 and left or 1)
        display:tick()
      end
    end
  end
  -- Ctrl-C raises "interrupted!" inside the wait: caught here, nothing is undone
  local ok, res = pcall(function()
    if #ids == 1 then return { (client:wait_for_backup(ids[1], opts)) } end
    return client:wait_for_backups(ids, opts)
  end)
  display:finish()
  if ok then return EXIT.OK, res end
  if is_interrupt(res) then return report_interrupt(ids, last) end
  error(res, 0)
end

-- ---------------------------------------------------------------------------
-- Commands
-- ---------------------------------------------------------------------------

local run_command = {}

function run_command.create(ctx)
  local o = ctx.opts
  local fs, vol = target_of(ctx, true)
  local tags = tags_of(ctx)
  if o.timeout and not o.wait then usage_error(ctx.command, "--timeout needs --wait") end
  local token = token_of(ctx)
  if ctx.opts["dry-run"] then
    if o["copy-tags"] and o["copy-tags"] ~= "none" then
      notice(ctx, "dry run: --copy-tags " .. o["copy-tags"] .. " adds the "
        .. (vol and "volume's" or "file system's") .. " tags at run time; they are not shown")
    end
    return dry_run(ctx, "CreateBackup", { file_system_id = fs, volume_id = vol,
      tags = sorted_tag_list(tags), client_request_token = token })
  end
  -- always send a token we know, so an interrupted create can be resumed
  local own_token = token or random_token()
  local client = client_of(ctx)
  local ok, backup = pcall(function()
    return (client:create_backup{ file_system_id = fs, volume_id = vol, tags = tags,
                                  copy_tags = o["copy-tags"], client_request_token = own_token })
  end)
  if not ok then
    if is_interrupt(backup) then
      diag(M.PROGRAM .. ": interrupted before the service confirmed the backup; one may exist")
      diag(M.PROGRAM .. ": re-run with " .. (o["token-from"] and "the same --token-from (token "
        .. own_token .. ")" or ("--token " .. own_token))
        .. " to get that backup back instead of a second one")
      return EXIT.INTERRUPTED
    end
    error(backup, 0)
  end
  if not o.wait then
    emit(ctx, "backup", { backup = backup })
    return EXIT.OK
  end
  local code, final = wait_for(ctx, { backup.backup_id }, backup)
  if code ~= EXIT.OK then return code end
  emit(ctx, "backup", { backup = final[1] })
  return EXIT.OK
end

function run_command.wait(ctx)
  if ctx.opts["dry-run"] then
    return dry_run(ctx, "DescribeBackups", { backup_ids = ctx.args })
  end
  local code, final = wait_for(ctx, ctx.args)
  if code ~= EXIT.OK then return code end
  emit(ctx, "backups", { backups = array(final) })
  return EXIT.OK
end

function run_command.describe(ctx)
  local fs, vol = ctx.opts["file-system-id"], ctx.opts["volume-id"]
  local filters
  if fs or vol then
    filters = {}
    if fs then filters[#filters + 1] = { name = "file-system-id", values = { fs } } end
    if vol then filters[#filters + 1] = { name = "volume-id", values = { vol } } end
  end
  local ids = #ctx.args > 0 and ctx.args or nil
  if ctx.opts["dry-run"] then
    return dry_run(ctx, "DescribeBackups", { backup_ids = ids, filters = filters })
  end
  local list = array({})
  for b in client_of(ctx):each_backup{ backup_ids = ids, filters = filters } do
    list[#list + 1] = b
  end
  emit(ctx, "backups", { backups = list })
  return EXIT.OK
end

function run_command.delete(ctx)
  local token = token_of(ctx)
  local args = { backup_id = ctx.args[1], client_request_token = token }
  if ctx.opts["dry-run"] then return dry_run(ctx, "DeleteBackup", args) end
  local res = client_of(ctx):delete_backup(args)
  emit(ctx, "delete", { backup_id = res.backup_id or args.backup_id, lifecycle = res.lifecycle })
  return EXIT.OK
end

function run_command.prune(ctx)
  local o = ctx.opts
  local fs, vol = target_of(ctx, true)
  if o["keep-last"] == nil and o["keep-days"] == nil then
    usage_error(ctx.command, "give --keep-last, --keep-days or both")
  end
  local types = o["include-type"]
  local res = client_of(ctx):prune_backups{
    file_system_id = fs, volume_id = vol, keep_last = o["keep-last"], keep_days = o["keep-days"],
    only_user_initiated = types == nil, include_types = types, tag_filter = tag_filter_of(ctx),
    dry_run = o["dry-run"] == true,
  }
  local doc = { dry_run = res.dry_run == true, kept = array({}), deleted = array({}),
                failed = array({}) }
  for _, e in ipairs(res.kept or {}) do doc.kept[#doc.kept + 1] = e end
  for _, e in ipairs(res.deleted or {}) do doc.deleted[#doc.deleted + 1] = e end
  for _, e in ipairs(res.failed or {}) do
    -- the error as plain fields (the JSON document carries no metatables)
    local err = e.error
    local plain = errors.is_error(err) and { kind = err.kind, code = err.code,
      message = err.message, status = err.status, request_id = err.request_id } or tostring(err)
    doc.failed[#doc.failed + 1] = { backup = e.backup, reason = e.reason, rule = e.rule,
                                    error = plain }
  end
  emit(ctx, "prune", doc)
  for _, e in ipairs(res.failed or {}) do
    local id = type(e.backup) == "table" and e.backup.backup_id or "?"
    diag(M.PROGRAM .. ": could not delete " .. tostring(id) .. ": "
      .. (errors.is_error(e.error) and M.error_line(e.error):gsub("^[^:]*: ", "") or tostring(e.error)))
  end
  return #doc.failed > 0 and EXIT.ERROR or EXIT.OK
end

-- ---------------------------------------------------------------------------
-- Errors and the entry points
-- ---------------------------------------------------------------------------

--- The exit status for an error value.
function M.exit_code(err)
  if getmetatable(err) == UsageError then return EXIT.USAGE end
  if is_interrupt(err) then return EXIT.INTERRUPTED end
  if errors.is_error(err) then
    if err.kind == "validation" then return EXIT.USAGE end
    if err.kind == "waiter" then
      if err.code == "WaiterTimeout" then return EXIT.TIMEOUT end
      if err.code == "BackupFailed" or err.code == "BackupDeleted" then return EXIT.FAILED end
      if err.code == "WaiterCancelled" then return EXIT.INTERRUPTED end
    end
  end
  return EXIT.ERROR
end

--- The one line an error prints: code, message, HTTP status, request ID.
function M.error_line(err)
  if getmetatable(err) == UsageError then
    local where = err.command and (M.PROGRAM .. " " .. err.command) or M.PROGRAM
    return where .. ": " .. err.message .. " (see '" .. where .. " --help')"
  end
  if errors.is_error(err) then
    local extra = {}
    if err.backup_id and not tostring(err.message or ""):find(err.backup_id, 1, true) then
      extra[#extra + 1] = "backup " .. tostring(err.backup_id)
    end
    if err.status then extra[#extra + 1] = "HTTP " .. tostring(err.status) end
    if err.request_id then extra[#extra + 1] = "request ID " .. tostring(err.request_id) end
    local msg = err.message and err.message ~= "" and (": " .. one_line(err.message)) or ""
    return M.PROGRAM .. ": " .. tostring(err.code or err.kind) .. msg
      .. (#extra > 0 and (" (" .. table.concat(extra, ", ") .. ")") or "")
  end
  return M.PROGRAM .. ": internal error: " .. one_line(tostring(err))
end

-- The fields of an error, for --debug.
local function error_details(err)
  local keys = {}
  for k, v in pairs(err) do
    if type(v) ~= "table" and type(v) ~= "function" then keys[#keys + 1] = tostring(k) end
  end
  table.sort(keys)
  local parts = {}
  for _, k in ipairs(keys) do parts[#parts + 1] = k .. "=" .. one_line(tostring(err[k])) end
  return table.concat(parts, " ")
end

-- Print an error and, for a failed or timed-out wait, the backup as last seen.
local function report_error(ctx, err)
  diag(M.error_line(err))
  if ctx and ctx.opts.debug then
    if errors.is_error(err) then
      diag(M.PROGRAM .. ": debug: error " .. error_details(err))
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
    local ok = pcall(emit, ctx, ctx.command == "create" and "backup" or "backups",
      ctx.command == "create" and { backup = err.backup } or { backups = array({ err.backup }) })
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
    local parsed = M.parse(argv)
    if parsed.version then
      io.stdout:write(M.version_line(), "\n")
      return EXIT.OK
    end
    if parsed.help then
      io.stdout:write(M.help(parsed.command))
      return EXIT.OK
    end
    if not parsed.command then
      io.stderr:write(M.help(nil))
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
    return run_command[parsed.command](ctx)
  end, function(e)
    if ctx and not errors.is_error(e) and getmetatable(e) ~= UsageError and not is_interrupt(e) then
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
