--- Dates: the one calendar of the Lua layer.
--
-- Layer: Lua helpers. Parsing of the time stamps the library reads (ISO 8601
-- / RFC 3339 from credential sources and the service, the HTTP `Date`
-- header) to epoch seconds, by proleptic Gregorian arithmetic that does not
-- depend on the local time zone. Fields out of range (month 13, hour 24,
-- April 31, February 29 of a common year) make a text no time stamp.
-- @module fsx.date
local M = {}

local floor = math.floor

--- Days from 1970-01-01 to the civil date y-m-d (proleptic Gregorian).
function M.days_from_civil(y, m, d)
  if m <= 2 then y = y - 1 end
  local era = floor(y / 400)
  local yoe = y - era * 400
  local mp = (m + 9) % 12
  local doy = floor((153 * mp + 2) / 5) + d - 1
  local doe = yoe * 365 + floor(yoe / 4) - floor(yoe / 100) + doy
  return era * 146097 + doe - 719468
end

local MONTH_DAYS = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 }

local function leap(y)
  return y % 4 == 0 and (y % 100 ~= 0 or y % 400 == 0)
end

-- Epoch seconds of a UTC date and time, nil when a field is out of range
-- (a day the month does not have included: Feb 29 in a common year).
local function epoch(y, mo, d, h, mi, sec)
  if mo < 1 or mo > 12 or d < 1 or d > MONTH_DAYS[mo] or h > 23 or mi > 59 or sec > 60 then
    return nil
  end
  if mo == 2 and d == 29 and not leap(y) then return nil end
  return M.days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec
end

--- Parse an ISO 8601 / RFC 3339 time stamp (`2024-05-01T12:00:00Z`,
-- `2024-05-01T12:00:00.123Z`, `2024-05-01T14:00:00+02:00`) to epoch seconds.
-- A number is returned as is.
-- @treturn ?number epoch seconds, nil when the text is not a time stamp
function M.parse_iso8601(s)
  if type(s) == "number" then return s end
  if type(s) ~= "string" then return nil end
  local y, mo, d, h, mi, sec, rest =
    s:match("^%s*(%d%d%d%d)%-(%d%d)%-(%d%d)[Tt ](%d%d):(%d%d):(%d%d)(.-)%s*$")
  if not y then return nil end
  local t = epoch(tonumber(y), tonumber(mo), tonumber(d), tonumber(h), tonumber(mi), tonumber(sec))
  if not t then return nil end
  local frac = rest:match("^(%.%d+)")
  if frac then rest = rest:sub(#frac + 1) end
  local offset
  if rest == "Z" or rest == "z" or rest == "" then
    offset = 0
  else
    local sign, oh, om = rest:match("^([+-])(%d%d):?(%d%d)$")
    if not sign then return nil end
    offset = (tonumber(oh) * 3600 + tonumber(om) * 60) * (sign == "+" and 1 or -1)
  end
  return t - offset + (frac and tonumber(frac) or 0)
end

--- Format epoch seconds as ISO 8601 UTC, `2024-05-01T12:00:00Z` (whole
-- seconds: a fraction is dropped).
-- @tparam number t epoch seconds
-- @treturn string
function M.format_iso8601(t)
  return os.date("!%Y-%m-%dT%H:%M:%SZ", floor(t))
end

local MONTHS = { jan = 1, feb = 2, mar = 3, apr = 4, may = 5, jun = 6,
                 jul = 7, aug = 8, sep = 9, oct = 10, nov = 11, dec = 12 }

-- Seconds east of UTC of a zone a Date header may carry: GMT (the standard
-- one), UTC, UT, Z or a numeric +hhmm; nil for anything else.
local function zone_offset(z)
  z = z:upper()
  if z == "GMT" or z == "UTC" or z == "UT" or z == "Z" then return 0 end
  local sign, h, m = z:match("^([+-])(%d%d)(%d%d)$")
  if not sign then return nil end
  return (tonumber(h) * 3600 + tonumber(m) * 60) * (sign == "+" and 1 or -1)
end

--- Parse an HTTP `Date` header (RFC 9110 IMF-fixdate, `Sun, 06 Nov 1994
-- 08:49:37 GMT`; also the obsolete RFC 850 and asctime forms) to epoch
-- seconds. Names are read in any case, and a zone other than GMT that
-- servers and proxies write (UTC, `+0000`, `-0500`) is applied.
-- @treturn ?number epoch seconds, nil when the text is no HTTP date
function M.parse_http(s)
  if type(s) ~= "string" then return nil end
  local d, mon, y, h, mi, sec, z = s:match("^%s*%a+, (%d%d?) (%a%a%a) (%d%d%d%d) (%d%d):(%d%d):(%d%d) (%S+)%s*$")
  if not d then
    -- RFC 850: Sunday, 06-Nov-94 08:49:37 GMT (a two-digit year is 19xx/20xx, nearest)
    d, mon, y, h, mi, sec, z = s:match("^%s*%a+, (%d%d)%-(%a%a%a)%-(%d%d) (%d%d):(%d%d):(%d%d) (%S+)%s*$")
    if y then y = tonumber(y) + (tonumber(y) < 70 and 2000 or 1900) end
  end
  if not d then
    -- asctime: Sun Nov  6 08:49:37 1994
    mon, d, h, mi, sec, y = s:match("^%s*%a%a%a (%a%a%a) +(%d%d?) (%d%d):(%d%d):(%d%d) (%d%d%d%d)%s*$")
    z = "GMT"
  end
  local m = mon and MONTHS[mon:lower()]
  local offset = z and zone_offset(z)
  if not (m and offset) then return nil end
  local t = epoch(tonumber(y), m, tonumber(d), tonumber(h), tonumber(mi), tonumber(sec))
  return t and t - offset
end

--- Parse a SigV4 time stamp (`20240501T120000Z`, as X-Amz-Date and AWS's
-- signature errors write it) to epoch seconds.
-- @treturn ?number epoch seconds, nil when the text is no such time stamp
function M.parse_amz(s)
  if type(s) ~= "string" then return nil end
  local y, mo, d, h, mi, sec = s:match("^(%d%d%d%d)(%d%d)(%d%d)T(%d%d)(%d%d)(%d%d)Z$")
  if not y then return nil end
  return epoch(tonumber(y), tonumber(mo), tonumber(d), tonumber(h), tonumber(mi), tonumber(sec))
end

return M
