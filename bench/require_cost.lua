-- require_cost.lua - what each module costs a one-shot script to load.
--
-- Diagnostic program (bench/, not part of the library); runs under lua5.4
-- with LUA_PATH/LUA_CPATH as in bench/oneshot.lua. Wraps `require` to time
-- every module that `require "fsx"` and `fsx.new{}` load (CPU time, self
-- time: nested requires are not counted twice), then prints them.
--
-- Output: "require.<module> <CPU ms, self>" lines (modules of 0.15 ms or
-- more), then "require.step.require_fsx" and "require.step.fsx_new" (CPU ms
-- of each step, nested requires included).
-- Usage: lua5.4 bench/require_cost.lua
local clock = os.clock
local plain_require = require
local stack, self_ms = {}, {}

-- the wrapper is installed as the global `require` for this run only
_G.require = function(name)
  if package.loaded[name] ~= nil then return package.loaded[name] end
  local t0 = clock()
  stack[#stack + 1] = 0
  local mod = plain_require(name)
  local nested = table.remove(stack)
  local total = clock() - t0
  if #stack > 0 then stack[#stack] = stack[#stack] + total end
  self_ms[name] = (total - nested) * 1e3
  return mod
end

local t0 = clock()
local fsx = require "fsx"
local t1 = clock()
fsx.new{ endpoint_url = "http://127.0.0.1:9" }
local t2 = clock()

local names = {}
for k in pairs(self_ms) do names[#names + 1] = k end
table.sort(names, function(a, b) return self_ms[a] > self_ms[b] end)
for _, k in ipairs(names) do
  if self_ms[k] >= 0.15 then io.write(string.format("require.%s %.2f\n", k, self_ms[k])) end
end
io.write(string.format("require.step.require_fsx %.2f\n", (t1 - t0) * 1e3))
io.write(string.format("require.step.fsx_new %.2f\n", (t2 - t1) * 1e3))
