--- Bounded caches: the one way the Lua layer keeps results it may see again.
--
-- Layer: Lua helpers, no dependencies. A cache keyed by what a peer sends
-- (response keys, strings matched against a pattern, TLS session pools)
-- must not grow without limit, and a plain table with an entry count that
-- starts over when full is enough for what is cached here: results that are
-- cheap to compute again. A hot path may read `cache.entries[key]` instead
-- of calling `get` (the table is replaced when the cache starts over, so it
-- is read through the cache each time).
-- @module fsx.cache
local M = {}

local Cache = {}
Cache.__index = Cache

--- A cache that holds at most `max` entries; the next `put` after that
-- starts over with an empty one.
-- @tparam number max
-- @treturn table with `get(key)`, `put(key, value)` and `count()`
function M.new(max)
  return setmetatable({ entries = {}, n = 0, max = max }, Cache)
end

--- The value cached for key, or nil.
function Cache:get(key)
  return self.entries[key]
end

--- Cache value under key (a new key counts against the bound).
function Cache:put(key, value)
  local entries = self.entries
  if entries[key] == nil then
    if self.n >= self.max then
      entries = {}
      self.entries, self.n = entries, 0
    end
    self.n = self.n + 1
  end
  entries[key] = value
end

--- The number of entries held.
function Cache:count()
  return self.n
end

return M
