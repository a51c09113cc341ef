-- finalizable.lua - a new value whose __gc runs f: a userdata under Lua 5.1
-- and LuaJIT (their tables have no __gc), a table under 5.2 and later. For
-- the scripts that make finalizers call the library (reentrant.lua,
-- close_encode.lua).
local newproxy = rawget(_G, "newproxy")

return function(f)
  if newproxy then
    local u = newproxy(true)
    getmetatable(u).__gc = f
    return u
  end
  return setmetatable({}, { __gc = f })
end
