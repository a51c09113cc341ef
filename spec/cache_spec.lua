-- fsx.cache, the one bounded cache of the Lua layer (names, pattern results,
-- TLS sessions of the Nginx transport).
local cache = require "fsx.cache"

describe("fsx.cache", function()
  it("holds at most max entries and starts over when full", function()
    local c = cache.new(3)
    for i = 1, 3 do c:put("k" .. i, i) end
    assert.equal(3, c:count())
    assert.equal(2, c:get("k2"))
    c:put("k4", 4)
    assert.equal(1, c:count())
    assert.is_nil(c:get("k1"))
    assert.equal(4, c:get("k4"))
  end)

  it("counts a key once however often it is put, and keeps false", function()
    local c = cache.new(2)
    for _ = 1, 10 do c:put("same", false) end
    assert.equal(1, c:count())
    assert.is_false(c:get("same"))
  end)

  it("bounds its users: a stream of distinct names and matched strings", function()
    local names = require "fsx.names"
    for i = 1, 5000 do assert.equal("name_x" .. i, names.to_snake("NameX" .. i)) end
    local pattern = require "fsx.pattern"
    local p = pattern.compile("^[a-z0-9]+$")
    for i = 1, 1000 do assert.is_true(pattern.match(p, "x" .. i)) end
    assert.is_true(p.cache:count() <= 256)
  end)
end)
