--- Argument parsing of `fsx-backup`: a small hand parser over the
-- declarations of `fsx.cli.options` (lua-argparse prints its own messages and
-- exits by itself; the tool's contract is one line on stderr and exit 2).
--
-- Layer: CLI.
-- @module fsx.cli.args
local ini = require "fsx.ini"
local options = require "fsx.cli.options"
local report = require "fsx.cli.report"

local M = {}

local OPTIONS, COMMANDS = options.OPTIONS, options.COMMANDS
local usage_error = report.usage_error

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

-- Pass 1 of parse: the command (nil when there is none) and its index;
-- options, with their values, may come before it ("--" ends them).
local function find_command(argv)
  local i, n = 1, #argv
  while i <= n do
    local a = argv[i]
    if a == "--" then return argv[i + 1], i end
    if a:sub(1, 2) == "--" or a == "-h" then
      local name, value = option_name(a)
      if value == nil and OPTIONS[name] and OPTIONS[name].arg then i = i + 1 end
    else
      return a, i
    end
    i = i + 1
  end
  return nil, i
end

--- Parse the arguments.
-- @tparam table argv the arguments (argv[1..n])
-- @treturn table `{ command =, opts = { name = value }, args = { positional... },
--   help =, version = }`
-- @raise a usage error (see `run`)
function M.parse(argv)
  local command, i = find_command(argv)
  local n = #argv
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
      .. table.concat(options.COMMAND_ORDER, ", ") .. ")")
  end
  local allowed = {}
  for _, name in ipairs(options.COMMON) do allowed[name] = true end
  allowed.version = true
  if command then
    for _, name in ipairs(COMMANDS[command].options) do allowed[name] = true end
  end
  -- pass 2: every argument, options before or after the command
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

--- A word quoted for a POSIX shell (as it is when nothing needs quoting).
function M.quote(word)
  word = tostring(word)
  if word:match("^[%w@%%+=:,./_-]+$") then return word end
  return ini.shell_quote(word)
end

--- Words quoted for a POSIX shell and joined with spaces.
function M.words(list)
  local out = {}
  for i, w in ipairs(list) do out[i] = M.quote(w) end
  return table.concat(out, " ")
end

-- A number as the parser took it (whole numbers without ".0").
local function value_text(v)
  if type(v) == "number" and v == math.floor(v) then return string.format("%d", v) end
  return tostring(v)
end

--- A command line that runs `command` with `words` and the options of this
-- run marked `resume` (region, profile, endpoint, ...), shell-quoted, so it
-- reaches the same service the same way when pasted.
-- @tparam table opts the parsed options of this run
-- @tparam string command the command to print
-- @tparam table words its arguments (already options and values, unquoted)
-- @treturn string the command line
function M.command_line(opts, command, words)
  local parts = { options.PROGRAM, command, M.words(words) }
  local names = {}
  for _, name in ipairs(options.COMMON) do names[#names + 1] = name end
  for _, name in ipairs(COMMANDS[command].options) do names[#names + 1] = name end
  for _, name in ipairs(names) do
    local v = opts[name]
    if v ~= nil and OPTIONS[name].resume then
      parts[#parts + 1] = "--" .. name
      parts[#parts + 1] = M.quote(value_text(v))
    end
  end
  return table.concat(parts, " ")
end

return M
