--- Plain-text string helpers shared by the Lua layer (no patterns, no C).
-- @module fsx.strings
local M = {}

local find, sub, concat = string.find, string.sub, table.concat

--- Replace every occurrence of `needle` in `s` by `repl`, as plain text.
-- @tparam string s the text
-- @tparam string needle what to replace (not a pattern)
-- @tparam string repl the replacement (taken literally)
-- @treturn string
function M.replace(s, needle, repl)
  local a, b = find(s, needle, 1, true)
  if not a then return s end
  local out, i = {}, 1
  while a do
    out[#out + 1] = sub(s, i, a - 1)
    out[#out + 1] = repl
    i = b + 1
    a, b = find(s, needle, i, true)
  end
  out[#out + 1] = sub(s, i)
  return concat(out)
end

return M
