--- Small helpers shared by the Lua layer: UUIDs, random numbers, SigV4 dates.
-- @module fsx.util
local core = require "fsx.core"

local M = {}

--- A random UUID version 4 from OpenSSL's RAND_bytes, e.g.
-- `"3f0f6d0e-8c1a-4b7e-9f3e-2a6b1c9d0e4f"` (36 characters, valid as a
-- ClientRequestToken), formatted by the binding (`fsx.core.uuid4`).
-- @function uuid4
M.uuid4 = core.uuid4

--- A set of the values of a list: `set{ "a", "b" }` is `{ a = true, b = true }`.
-- @tparam table list
-- @treturn table
function M.set(list)
  local s = {}
  for _, v in ipairs(list) do s[v] = true end
  return s
end

--- A random number in [0, 1) from the OS random source.
function M.random()
  local a, b, c, d, e, f = core.random_bytes(6):byte(1, 6)
  return ((((((a * 256 + b) * 256 + c) * 256 + d) * 256 + e) * 256) + f) / 2 ^ 48
end

local last_second, last_date
--- Format epoch seconds as a SigV4 date-time, `20150830T123600Z` (the last
-- one is kept: a steady stream of calls formats once a second).
function M.amz_date(epoch)
  local second = math.floor(epoch)
  if second ~= last_second then
    last_second, last_date = second, os.date("!%Y%m%dT%H%M%SZ", second)
  end
  return last_date
end

return M
