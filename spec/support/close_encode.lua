-- close_encode.lua - __gc finalizers that call fsx.json.encode while the
-- interpreter closes: lua_close runs them after (LuaJIT) or while (PUC Lua)
-- it unloads C modules and stops registering finalizers, so anything the
-- encode leaves for a finalizer of fsx.core's would run in unloaded code or
-- never run. Prints "ok N" (N values encoded before the close); the exit
-- status and the sanitizers' output say how the close went.
local json = require "fsx.json"

local finalizable = require "support.finalizable"

local VALUE = { b = { 1, 2, { c = "x" } }, a = "y", [3] = true, d = json.EMPTY_ARRAY }
-- kept in the registry-reachable package.loaded, so that only the close collects them
local keep = {}
package.loaded["close_encode.keep"] = keep
for i = 1, 200 do
  keep[i] = finalizable(function() assert(json.encode(VALUE)) end)
end
local n = 0
for _ = 1, 200 do
  if json.encode(VALUE) then n = n + 1 end
end
print("ok " .. n)
