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
