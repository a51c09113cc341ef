--- URLs: the one URL parser of the Lua layer.
--
-- Layer: Lua helpers, no dependencies. The client's endpoint, the credential
-- sources' URLs (container, IMDS, SSO, STS) and the configuration's checks
-- of endpoint settings all read URLs through `parse`, so they agree on what
-- a URL is and on its parts.
-- @module fsx.url
local M = {}

--- Split an absolute http(s) URL into its parts.
-- Scheme and host are lowercased (both are case-insensitive); an IPv6 host
-- comes without its brackets, which only `host_header` and `url` carry.
-- @tparam string url
-- @treturn table `scheme` (`"http"` or `"https"`), `host` (name or address,
--   IPv6 without brackets), `port` (number, the scheme's default when
--   absent), `path` (path and query, at least `/`, no fragment),
--   `host_header` (`host[:port]` as sent: IPv6 in brackets, the default port
--   left out) and `url` (the URL to send: scheme, `host_header` and `path`)
-- @return or `nil, message`
function M.parse(url)
  if type(url) ~= "string" then return nil, "not a string" end
  if url:find("[%s%c]") then return nil, "contains whitespace or control characters" end
  local scheme, rest = url:match("^(%a[%w+.-]*)://(.*)$")
  if not scheme then return nil, "not an absolute URL (scheme://host)" end
  scheme = scheme:lower()
  if scheme ~= "http" and scheme ~= "https" then return nil, "scheme must be http or https" end
  local authority, path = rest:match("^([^/?#]*)(.*)$")
  if authority:find("@", 1, true) then return nil, "user information is not allowed" end
  local host, port, ipv6
  if authority:sub(1, 1) == "[" then
    host, port = authority:match("^%[([%x:.]*:[%x:.]*)%](.*)$")
    if not host then return nil, "bad IPv6 address" end
    ipv6 = true
  else
    host, port = authority:match("^([^:]*)(.*)$")
  end
  if host == "" then return nil, "missing host" end
  -- a DNS name is at most 253 characters, in ASCII (IDNs in punycode)
  if #host > 253 then return nil, "host name too long" end
  if host:find("[\128-\255]") then return nil, "host must be ASCII (use punycode)" end
  local default_port = scheme == "https" and 443 or 80
  if port == "" then
    port = default_port
  else
    port = tonumber(port:match("^:(%d+)$"))
    if not port or port < 1 or port > 65535 then return nil, "bad port" end
  end
  host = host:lower()
  local host_header = ipv6 and "[" .. host .. "]" or host
  if port ~= default_port then host_header = host_header .. ":" .. port end
  path = path:gsub("#.*$", "")
  if path == "" then path = "/" end
  if path:sub(1, 1) == "?" then path = "/" .. path end
  return { scheme = scheme, host = host, port = port, path = path,
           host_header = host_header, url = scheme .. "://" .. host_header .. path }
end

return M
