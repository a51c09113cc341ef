--- What the build tools share: failing with a message, reading files,
-- quoting for the shell, and writing Lua literals that every Lua reads back
-- the same, so a generated file is byte-identical whichever Lua wrote it.
--
-- Layer: build tool (not installed). A tool finds it through
-- `package.path = root .. "/tools/?.lua;" .. ...`.
local M = {}

--- A `die(msg)` that prints `name: msg` on stderr and exits with status 1.
-- @tparam string name the tool's name
function M.die_as(name)
  return function(msg)
    io.stderr:write(name, ": ", msg, "\n")
    os.exit(1)
  end
end

--- The whole file.
-- @treturn ?string its bytes, or nil and the error
function M.read_file(path)
  local f, err = io.open(path, "rb")
  if not f then return nil, err end
  local s = f:read("*a")
  f:close()
  return s
end

--- s as one word of a POSIX shell command.
function M.shell_quote(s)
  return "'" .. s:gsub("'", "'\\''") .. "'"
end

--- The keys of t, sorted.
function M.sorted_keys(t)
  local ks = {}
  for k in pairs(t) do ks[#ks + 1] = k end
  table.sort(ks)
  return ks
end

-- Lua's reserved words in every version (goto from 5.2 on).
local KEYWORDS = {}
for w in ([[and break do else elseif end false for function goto if in local nil not or
            repeat return then true until while]]):gmatch("%a+") do KEYWORDS[w] = true end

--- A string literal: `"` and `\` escaped, control characters as decimal
-- escapes (`%q` writes them differently under Lua 5.4 and LuaJIT).
function M.quote(s)
  return '"' .. s:gsub('[%c"\\]', function(c)
    if c == '"' then return '\\"' end
    if c == "\\" then return "\\\\" end
    return string.format("\\%03d", c:byte())
  end) .. '"'
end

--- A table key: bare when it is a name in every Lua, else `["..."]`.
function M.key(k)
  if k:match("^[%a_][%w_]*$") and not KEYWORDS[k] then return k end
  return "[" .. M.quote(k) .. "]"
end

return M
