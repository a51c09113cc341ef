--- Small helpers shared by the Lua layer: UUIDs, URL parsing, SigV4 dates.
-- @module fsx.util
local core = require "fsx.core"

local M = {}

local HEX = "0123456789abcdef"

local function hex_byte(b)
  local hi = math.floor(b / 16) + 1
  local lo = b % 16 + 1
  return HEX:sub(hi, hi) .. HEX:sub(lo, lo)
end

--- A random UUID version 4 from OpenSSL's RAND_bytes, e.g.
-- `"3f0f6d0e-8c1a-4b7e-9f3e-2a6b1c9d0e4f"` (36 characters, valid as a
-- ClientRequestToken). Formatted in C where the binding offers it.
function M.uuid4()
  if core.uuid4 then return core.uuid4() end
  local b = { core.random_bytes(16):byte(1, 16) }
  b[7] = b[7] % 16 + 64          -- version 4
  b[9] = b[9] % 64 + 128         -- RFC 4122 variant
  local h = {}
  for i = 1, 16 do h[i] = hex_byte(b[i]) end
  return table.concat(h, "", 1, 4) .. "-" .. table.concat(h, "", 5, 6) .. "-" ..
         table.concat(h, "", 7, 8) .. "-" .. table.concat(h, "", 9, 10) .. "-" ..
         table.concat(h, "", 11, 16)
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

--- Split an absolute URL into scheme, host, port, path (with query) and the
-- Host header value. Returns nil and a message when it is not http(s).
function M.parse_url(url)
  if type(url) ~= "string" then return nil, "must be a string" end
  local scheme, rest = url:match("^(%a[%w+.-]*)://(.*)$")
  if not scheme then return nil, "must be an absolute http:// or https:// URL" end
  scheme = scheme:lower()
  if scheme ~= "http" and scheme ~= "https" then return nil, "scheme must be http or https" end
  if rest:find("[%c%s]") then return nil, "must not contain spaces or control characters" end
  local authority, path = rest:match("^([^/?#]*)(.*)$")
  if authority:find("@", 1, true) then return nil, "must not contain user information" end
  local host, port
  if authority:sub(1, 1) == "[" then
    host, port = authority:match("^(%[[%x:.]+%])(.*)$")
  else
    host, port = authority:match("^([^:]*)(.*)$")
  end
  if not host or host == "" then return nil, "has no host" end
  if port ~= "" then
    port = port:match("^:(%d+)$")
    if not port then return nil, "has a malformed port" end
    port = tonumber(port)
    if port < 1 or port > 65535 then return nil, "has a port out of range" end
  else
    port = nil
  end
  path = path:gsub("#.*$", "")
  if path == "" then path = "/" end
  if path:sub(1, 1) == "?" then path = "/" .. path end
  local default = scheme == "https" and 443 or 80
  local host_header = host
  if port and port ~= default then host_header = host .. ":" .. port end
  return { scheme = scheme, host = host, port = port or default, path = path,
           host_header = host_header, base = scheme .. "://" .. authority }
end

return M
