--- The help texts of `fsx-backup` (`--help`, `COMMAND --help`) and its
-- `--version` line.
--
-- Layer: CLI; built from the declarations of `fsx.cli.options`.
-- @module fsx.cli.help
local options = require "fsx.cli.options"

local M = {}

local OPTIONS, COMMANDS = options.OPTIONS, options.COMMANDS

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
    if #left > 26 then
      -- a long option on a line of its own, its description under the column
      lines[#lines + 1] = "  " .. left
      row = string.rep(" ", width - 1)
    end
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
  local p = options.PROGRAM
  if command then
    local c = COMMANDS[command]
    return string.format("Usage: %s %s\n\n%s.\n%s\n\nOptions:\n%s\n\nCommon options:\n%s\n",
      p, c.usage, c.summary:gsub("^%l", string.upper), c.text,
      option_lines(c.options, c.overrides), option_lines(options.COMMON, c.overrides))
  end
  local lines = {
    "Usage: " .. p .. " COMMAND [OPTIONS]",
    "",
    "Amazon FSx backups from playbooks (lua-fsx " .. require("fsx.version") .. ").",
    "",
    "Commands:",
  }
  for _, name in ipairs(options.COMMAND_ORDER) do
    lines[#lines + 1] = string.format("  %-10s %s", name, COMMANDS[name].summary)
  end
  lines[#lines + 1] = ""
  lines[#lines + 1] = "Common options:"
  lines[#lines + 1] = option_lines(options.COMMON)
  lines[#lines + 1] = string.format("  %-26s %s", "--version", OPTIONS.version.help)
  lines[#lines + 1] = ""
  lines[#lines + 1] = "Exit status: 0 success, 1 service or transport error or unwritable output,"
  lines[#lines + 1] = "2 usage error, 3 wait timed out, 4 what was waited for FAILED or was deleted,"
  lines[#lines + 1] = "128+N stopped by signal N (130 Ctrl-C, 143 SIGTERM, 129 SIGHUP)."
  lines[#lines + 1] = "Run '" .. p .. " COMMAND --help' for a command's options."
  return table.concat(lines, "\n") .. "\n"
end

--- The `--version` line.
function M.version_line()
  return options.PROGRAM .. " " .. require("fsx.version") .. " ("
      .. (rawget(_G, "jit") and jit.version or _VERSION) .. ")"
end

return M
