-- fsx.date, the one calendar of the Lua layer: ISO 8601 and HTTP dates to
-- epoch seconds, out-of-range fields refused.
local date = require "fsx.date"

describe("fsx.date", function()
  it("parses the three HTTP date forms to the same second", function()
    for _, s in ipairs{ "Sun, 06 Nov 1994 08:49:37 GMT", "Sunday, 06-Nov-94 08:49:37 GMT",
                        "Sun Nov  6 08:49:37 1994" } do
      assert.equal(784111777, date.parse_http(s), s)
    end
    assert.equal(951782400, date.parse_http("Tue, 29 Feb 2000 00:00:00 GMT"))
    assert.equal(0, date.parse_http("Thu, 01 Jan 1970 00:00:00 GMT"))
  end)

  it("refuses what is no HTTP date", function()
    for _, s in ipairs{ "", "yesterday", "Sun, 06 Nov 1994 08:49:37 PST", "Sun, 06 Foo 1994 08:49:37 GMT",
                        "Sun, 06 Nov 1994 24:49:37 GMT", "Sun, 32 Nov 1994 08:49:37 GMT",
                        "2024-05-01T12:00:00Z" } do
      assert.is_nil(date.parse_http(s), s)
    end
    assert.is_nil(date.parse_http(nil))
    assert.is_nil(date.parse_http(12))
  end)

  it("parses ISO 8601 with fractions and offsets, and refuses month 13", function()
    assert.equal(1714564800, date.parse_iso8601("2024-05-01T12:00:00Z"))
    assert.equal(1714564800.25, date.parse_iso8601("2024-05-01T12:00:00.250Z"))
    assert.equal(1714564800, date.parse_iso8601("2024-05-01T14:00:00+02:00"))
    assert.is_nil(date.parse_iso8601("2024-13-01T12:00:00Z"))
    assert.is_nil(date.parse_iso8601("2024-05-01T12:00:00+1"))
  end)

  it("is the parser credentials and retention use", function()
    assert.equal(date.parse_iso8601, require("fsx.credentials.util").parse_time)
    assert.is_nil(require("fsx.retention").epoch("2024-13-01T12:00:00Z"))
  end)
end)
