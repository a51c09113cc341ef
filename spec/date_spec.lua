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

  it("reads the Date forms servers and proxies write besides the standard one", function()
    for _, s in ipairs{ "sun, 06 nov 1994 08:49:37 gmt", "SUN, 06 NOV 1994 08:49:37 GMT",
                        "Sun, 06 Nov 1994 08:49:37 UTC", "Sun, 06 Nov 1994 08:49:37 +0000",
                        "Sun, 6 Nov 1994 08:49:37 GMT", "Sun, 06 Nov 1994 03:49:37 -0500",
                        "Sun, 06 Nov 1994 09:49:37 +0100", "Sunday, 06-Nov-94 08:49:37 UTC" } do
      assert.equal(784111777, date.parse_http(s), s)
    end
  end)

  it("parses SigV4 time stamps", function()
    assert.equal(784111777, date.parse_amz("19941106T084937Z"))
    for _, s in ipairs{ "19941106T084937", "1994-11-06T08:49:37Z", "19941306T084937Z", "x", "" } do
      assert.is_nil(date.parse_amz(s), s)
    end
    assert.is_nil(date.parse_amz(nil))
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

  it("ISO 8601 edge cases: calendar limits, leap days, offsets, fractions, lowercase t and z", function()
    -- refused: fields out of range and days the month does not have
    for _, s in ipairs{ "2024-13-01T00:00:00Z", "2024-00-10T00:00:00Z", "2024-05-32T00:00:00Z",
                        "2024-05-00T00:00:00Z", "2024-04-31T00:00:00Z", "2023-02-29T00:00:00Z",
                        "1900-02-29T00:00:00Z", "2024-02-30T00:00:00Z", "2024-05-01T24:00:00Z",
                        "2024-05-01T12:60:00Z", "2024-05-01T12:00:61Z", "2024-5-01T12:00:00Z",
                        "2024-05-01", "2024-05-01T12:00Z", "2024-05-01T12:00:00.Z",
                        "2024-05-01T12:00:00+02", "2024-05-01T12:00:00 +02:00", "2024-05-01T12:00:00ZZ",
                        "2024-05-01T12:00:00Z trailing", "" } do
      assert.is_nil(date.parse_iso8601(s), s)
    end
    -- leap days of leap years, including the 400-year rule
    assert.equal(1709164800, date.parse_iso8601("2024-02-29T00:00:00Z"))
    assert.equal(951782400, date.parse_iso8601("2000-02-29T00:00:00Z"))
    assert.equal(1709251199, date.parse_iso8601("2024-02-29T23:59:59Z"))
    -- the last day of each month length
    assert.equal(1714521600 - 86400, date.parse_iso8601("2024-04-30T00:00:00Z"))
    assert.equal(1735603200, date.parse_iso8601("2024-12-31T00:00:00Z"))
    -- a leap second is read as the next second
    assert.equal(1483228800, date.parse_iso8601("2016-12-31T23:59:60Z"))
    -- offsets either way, with and without the colon, and across a day
    assert.equal(1714564800, date.parse_iso8601("2024-05-01T07:30:00-04:30"))
    assert.equal(1714564800, date.parse_iso8601("2024-05-01T14:00:00+0200"))
    assert.equal(1714564800, date.parse_iso8601("2024-05-02T00:00:00+12:00"))
    assert.equal(1714564800, date.parse_iso8601("2024-05-01T12:00:00+00:00"))
    assert.equal(1714564800, date.parse_iso8601("2024-05-01T12:00:00-00:00"))
    -- fractions of any length, with an offset
    assert.equal(1714564800.5, date.parse_iso8601("2024-05-01T12:00:00.5Z"))
    assert.equal(1714564800.125, date.parse_iso8601("2024-05-01T14:00:00.125000+02:00"))
    -- lowercase t and z, a space for the T, no zone (UTC), surrounding blanks
    assert.equal(1714564800, date.parse_iso8601("2024-05-01t12:00:00z"))
    assert.equal(1714564800, date.parse_iso8601("2024-05-01 12:00:00Z"))
    assert.equal(1714564800, date.parse_iso8601("2024-05-01T12:00:00"))
    assert.equal(1714564800, date.parse_iso8601(" 2024-05-01T12:00:00Z\n"))
    -- before the epoch
    assert.equal(-86400, date.parse_iso8601("1969-12-31T00:00:00Z"))
    -- HTTP dates share the calendar
    assert.is_nil(date.parse_http("Fri, 29 Feb 2019 00:00:00 GMT"))
    assert.is_nil(date.parse_http("Thu, 31 Apr 2024 00:00:00 GMT"))
  end)

  it("formats ISO 8601 UTC in whole seconds, read back by its parser", function()
    assert.equal("2024-05-01T12:00:00Z", date.format_iso8601(1714564800.75))
    assert.equal("1969-12-31T00:00:00Z", date.format_iso8601(-86400))
    for _, t in ipairs{ 0, 951782400, 1709164800, 1735603199 } do
      assert.equal(t, date.parse_iso8601(date.format_iso8601(t)))
    end
    assert.equal(date.format_iso8601, require("fsx.credentials.util").format_time)
  end)

  it("is the parser credentials and retention use", function()
    assert.equal(date.parse_iso8601, require("fsx.credentials.util").parse_time)
    assert.is_nil(require("fsx.retention").epoch("2024-13-01T12:00:00Z"))
  end)
end)
