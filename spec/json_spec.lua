-- fsx.json: the one JSON writer, compact for the wire and indented for people.
local json = require "fsx.json"

describe("fsx.json.encode_pretty", function()
  it("indents the same walk as encode, keys in the same order", function()
    local v = json.order({ z = { 1, "x", json.EMPTY_ARRAY }, b = {}, a = json.null }, { "z" })
    assert.equal('{"z":[1,"x",[]],"a":null,"b":{}}', json.encode(v))
    assert.equal('{\n  "z": [\n    1,\n    "x",\n    []\n  ],\n  "a": null,\n  "b": {}\n}',
      json.encode_pretty(v))
    assert.equal('[\n\t"a"\n]', json.encode_pretty({ "a" }, "\t"))
  end)

  it("escapes the C1 controls and leaves / plain, where the wire keeps cjson's bytes", function()
    local s = "a/b\\/c\194\133d\27"
    assert.equal('"a\\/b\\\\\\/c\194\133d\\u001b"', json.encode(s))
    assert.equal('"a/b\\\\/c\\u0085d\\u001b"', json.encode_pretty(s))
    assert.equal(s, json.decode(json.encode_pretty(s)))
  end)

  it("writes non-finite numbers as null and integral ones in full", function()
    assert.equal('[\n  null,\n  null,\n  4503599627370496,\n  2.5\n]',
      json.encode_pretty({ 1 / 0, -1 / 0, 2 ^ 52, 2.5 }))
    assert.is_nil(json.encode({ 1 / 0 }))
  end)

  it("refuses a cycle as encode does", function()
    local t = {}
    t.t = t
    local s, err = json.encode_pretty(t)
    assert.is_nil(s)
    assert.truthy(err:find("nesting deeper than 200", 1, true))
  end)
end)

-- The writer is fsx.core's (src/lua_json.c). On the wire its scalars must be
-- lua-cjson's bytes: compared here with plain cjson.encode wherever cjson's
-- own key order cannot differ (one key per object, arrays, scalars).
describe("fsx.json.encode against lua-cjson", function()
  local cjson = require("cjson").new()
  pcall(cjson.encode_number_precision, 14)

  it("escapes every byte of a string as cjson does", function()
    for b = 0, 255 do
      local s = string.char(b)
      assert.equal(cjson.encode(s), json.encode(s), "byte " .. b)
      assert.equal(cjson.encode("a" .. s .. "z"), json.encode("a" .. s .. "z"), "byte " .. b)
    end
    local all = {}
    for b = 0, 255 do all[#all + 1] = string.char(b) end
    all = table.concat(all)
    assert.equal(cjson.encode(all), json.encode(all))
    assert.equal(cjson.encode({ all, { [all] = all } }), json.encode({ all, { [all] = all } }))
  end)

  it("writes numbers as cjson does (%.14g)", function()
    local numbers = { 0, -0.0, 1, -1, 0.1, -0.1, 1 / 3, 2 / 3, 1e300, -1e300, 1e-300, 5e-324,
                      2 ^ 53, 2 ^ 53 + 2, -2 ^ 53, 2 ^ 63, 1e15, 1e16, 123456789012345, 1234567890123456,
                      0.5, 2.5, 1e21, 1e-7, 1700000000.123, 1.7976931348623157e308 }
    if rawget(math, "type") then -- Lua 5.3+: integers, written as their nearest double
      numbers[#numbers + 1] = rawget(math, "maxinteger")
      numbers[#numbers + 1] = rawget(math, "mininteger")
      numbers[#numbers + 1] = 9007199254740993 -- 2^53 + 1 as an integer
    end
    for _, v in ipairs(numbers) do
      assert.equal(cjson.encode(v), json.encode(v), tostring(v))
      assert.equal(cjson.encode({ v }), json.encode({ v }), tostring(v))
      assert.equal(cjson.encode({ [v] = v }), json.encode({ [v] = v }), tostring(v))
    end
  end)

  it("writes nested one-key objects, arrays, booleans and null as cjson does", function()
    local values = {
      { a = { b = { c = { 1, 2.5, "x", true, false, json.null } } } },
      { { { { "deep" } } }, {}, { k = {} } },
      { true, false, json.null, "", 0 },
      { [""] = "" },
      { ["k\0ey"] = { "v\0al" } },
    }
    for i, v in ipairs(values) do assert.equal(cjson.encode(v), json.encode(v), "value " .. i) end
  end)
end)

describe("fsx.json.encode", function()
  it("writes the ordered keys first, then the rest sorted byte-wise by text", function()
    local t = json.order({ b = 1, a = 2, B = 3, ["\200"] = 4, [""] = 5, z = 6, [10] = 7, [9] = 8, [1.5] = 9 },
      { "z", "absent", "b" })
    assert.equal('{"z":6,"b":1,"":5,"1.5":9,"10":7,"9":8,"B":3,"a":2,"\200":4}', json.encode(t))
    -- a number key named by the order list is written as a string too
    assert.equal('{"1.5":"x","b":1}', json.encode(json.order({ [1.5] = "x", b = 1 }, { 1.5, "b" })))
    -- every key listed: the order list alone
    assert.equal('{"y":1,"x":2}', json.encode(json.order({ x = 2, y = 1 }, { "y", "x" })))
    -- a prefix sorts first
    assert.equal('{"a":1,"a\\u0000":2,"ab":3}', json.encode({ ab = 3, ["a\0"] = 2, a = 1 }))
  end)

  it("tells arrays from objects by key count and length", function()
    assert.equal("{}", json.encode({}))
    assert.equal("[]", json.encode(json.EMPTY_ARRAY))
    assert.equal('{"a":[],"b":[[]]}', json.encode({ a = json.EMPTY_ARRAY, b = { json.EMPTY_ARRAY } }))
    assert.equal("[1,2,3]", json.encode({ 1, 2, 3 }))
    assert.equal('{"1":1,"2":2,"x":3}', json.encode({ 1, 2, x = 3 }))
    assert.equal('{"1":"a","3":"c"}', json.encode({ [1] = "a", [3] = "c" }))
    assert.equal('{"2":"b"}', json.encode({ [2] = "b" }))
    assert.equal("null", json.encode(json.null))
    assert.equal("[null,true,false]", json.encode({ json.null, true, false }))
  end)

  it("reads tables raw: no metamethod runs", function()
    local mt = {
      __index = function() error("__index ran") end,
      __len = function() error("__len ran") end,
      __pairs = function() error("__pairs ran") end,
    }
    local t = setmetatable({ 1, 2 }, mt)
    assert.equal("[1,2]", json.encode(t))
    assert.equal('{"a":1}', json.encode(setmetatable({ a = 1 }, mt)))
    local ordered = json.order(setmetatable({ b = 2 }, mt), { "a", "b" })
    assert.equal('{"b":2}', json.encode(ordered))
  end)

  it("returns nil and a message for what JSON cannot hold", function()
    local function err(v, pretty)
      local s, e
      if pretty then s, e = json.encode_pretty(v) else s, e = json.encode(v) end
      assert.is_nil(s)
      return e
    end
    assert.equal("cannot serialise a function", err(print))
    assert.equal("cannot serialise a function", err({ a = { print } }))
    assert.equal("cannot serialise a thread", err({ coroutine.create(function() end) }))
    assert.equal("cannot serialise a userdata", err({ io.stdout }))
    assert.equal("cannot serialise a boolean key", err({ [true] = 1 }))
    assert.equal("cannot serialise a table key", err({ [{}] = 1 }, true))
    for _, v in ipairs({ 0 / 0, 1 / 0, -1 / 0 }) do
      assert.equal("cannot serialise a number: must not be NaN or Inf", err({ x = { v } }))
    end
    -- a non-finite key has no text in either mode
    assert.equal("cannot serialise a number: must not be NaN or Inf", err({ [1 / 0] = 1 }, true))
    -- an array with a hole where its length says an item is (4 keys, length 4)
    local holed = { 1, 2, 3, 4 }
    holed[2], holed.x = nil, 1
    assert.equal(4, #holed)
    assert.equal("cannot serialise a nil", err(holed))
  end)

  it("refuses nesting deeper than 200 tables, and cycles", function()
    local function nested(n, key)
      local t = {}
      for _ = 2, n do t = key and { [key] = t } or { t } end
      return t
    end
    assert.equal(string.rep("[", 199) .. "{}" .. string.rep("]", 199), json.encode(nested(200)))
    assert.truthy(json.encode_pretty(nested(200, "k")))
    local depth = "cannot serialise: nesting deeper than 200 (a cycle?)"
    assert.same({ nil, depth }, { json.encode(nested(201)) })
    assert.same({ nil, depth }, { json.encode(nested(201, "k")) })
    assert.same({ nil, depth }, { json.encode_pretty(nested(201)) })
    local a, b = {}, {}
    a[1], b.a = b, a
    assert.same({ nil, depth }, { json.encode(a) })
    -- strings and EMPTY_ARRAY at the deepest level are not tables
    local t = nested(200)
    local inner = t
    for _ = 1, 199 do inner = inner[1] end
    inner[1], inner[2] = "s", json.EMPTY_ARRAY
    assert.truthy(json.encode(t):find('["s",[]]', 1, true))
  end)

  it("writes long texts whole, and the next call starts afresh", function()
    local big = {}
    for i = 1, 5000 do big[i] = { id = i, name = string.rep("n", i % 50), tag = "\1/" } end
    local s = json.encode(big)
    assert.equal(5000, #json.decode(s))
    assert.equal(string.rep("x", 200000), json.decode(json.encode({ string.rep("x", 200000) }))[1])
    assert.equal('{"a":1}', json.encode({ a = 1 }))
    assert.equal("[]", json.encode(json.EMPTY_ARRAY))
  end)
end)

describe("fsx.json.encode_pretty, hand-written", function()
  it("lays out nested arrays and objects, empty ones on one line", function()
    local v = json.order({ list = { 1, { a = json.EMPTY_ARRAY, b = {} } }, name = "x", none = json.null }, { "name" })
    assert.equal(table.concat({
      "{",
      '  "name": "x",',
      '  "list": [',
      "    1,",
      "    {",
      '      "a": [],',
      '      "b": {}',
      "    }",
      "  ],",
      '  "none": null',
      "}" }, "\n"), json.encode_pretty(v))
    assert.equal("{}", json.encode_pretty({}))
    assert.equal('"s"', json.encode_pretty("s"))
    assert.equal("[\n--1\n]", json.encode_pretty({ 1 }, "--"))
    assert.equal("[\n1,\n2\n]", json.encode_pretty({ 1, 2 }, ""))
  end)

  it("writes numbers for people: integral in full below 2^53, others as on the wire", function()
    assert.equal("[\n  0,\n  0,\n  1000000000000000,\n  -9007199254740991,\n  9.007199254741e+15,\n"
      .. "  0.1,\n  1e+300,\n  0.33333333333333\n]",
      json.encode_pretty({ 0, -0.0, 1e15, -(2 ^ 53 - 1), 2 ^ 53, 0.1, 1e300, 1 / 3 }))
    assert.equal('{\n  "1e+15": null\n}', json.encode_pretty({ [1e15] = 0 / 0 }))
  end)

  it("escapes the C1 controls, leaves / and other UTF-8 plain, and escapes the rest as the wire", function()
    assert.equal('"\\u0080\\u009f\194\160\194\\u0085/\\"\\\\\\n\\u007f\195\169"',
      json.encode_pretty("\194\128\194\159\194\160\194\194\133/\"\\\n\127\195\169"))
    assert.equal('"\194"', json.encode_pretty("\194"))
    assert.equal('{\n  "k/\\u0085": "v/"\n}', json.encode_pretty({ ["k/\194\133"] = "v/" }))
  end)
end)
