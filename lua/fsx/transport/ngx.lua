--- The Nginx transport: HTTP/1.1 over cosockets (`ngx.socket.tcp`).
--
-- Layer: Lua layer, transport. Inside Nginx a blocking libcurl call would
-- freeze every connection the worker serves, so this transport does all its
-- network I/O through cosockets, which yield to the event loop. It works in
-- the phases where cosockets do (rewrite, access, content, ngx.timer, ...;
-- see `fsx.clock.can_yield`), never at require time.
--
-- What it does: one request per call on a pooled connection (`setkeepalive`,
-- one pool per scheme/host/port and, for TLS, SNI name and verify flag),
-- TLS through `sslhandshake` with SNI and certificate verification on by
-- default, the request's `timeout` bounding the whole attempt (connect, TLS,
-- send, head and body: every wait is cut to the time left), Content-Length
-- request bodies, Content-Length, chunked or read-until-close response
-- bodies, a cap on header bytes and on body bytes.
--
-- Error codes (`send` returns `nil, kind, code, message`):
--
--   timeout   ETIMEDOUT               connect, TLS handshake, send or read timed out,
--                                     or the request's total `timeout` ran out
--   transport ECONNREFUSED            nothing listens on host:port
--   transport ECONNRESET              the peer closed or reset the connection
--                                     while the response was awaited
--   transport EPIPE                   the peer closed the connection while the
--                                     request was being written
--   transport EHOSTUNREACH, ENETUNREACH
--   transport NoResolver              a host name but no `resolver` in nginx.conf
--   transport EAI_NONAME              the host name could not be resolved
--   transport CertificateVerifyFailed the server certificate failed verification
--   transport TLSHandshakeFailed      any other TLS handshake failure
--   transport HeadersTooLarge         response head over `max_header_bytes`
--   transport ResponseTooLarge        response body over the request's `max_body`
--   transport InvalidResponse         not a parseable HTTP/1.x response
--   transport ESOCKET                 any other socket error (message has nginx's text)
--   validation InvalidMethod, InvalidHeader, InvalidPath  (a malformed request;
--                                     nothing is sent)
--
-- Messages name the stage and `host:port`, never a header value.
-- @module fsx.transport.ngx
local M = {}

local concat = table.concat
local lower = string.lower
local tonumber = tonumber
local min = math.min
local floor = math.floor

--- Defaults of the options `new` accepts.
M.DEFAULTS = {
  keepalive_timeout = 30,       -- seconds an idle pooled connection is kept
  pool_size = 30,               -- pooled connections per pool and worker
  max_header_bytes = 64 * 1024, -- bytes of status line + headers accepted
  ssl_session_reuse = true,     -- resume TLS sessions on new connections
}

local BLOCK = 65536             -- bytes asked of one receive call

-- Socket error text (from nginx / lua-nginx-module) -> code.
local SOCKET_CODES = {
  { "connection refused", "ECONNREFUSED" },
  { "connection reset", "ECONNRESET" },
  { "broken pipe", "EPIPE" },
  { "no route to host", "EHOSTUNREACH" },
  { "network is unreachable", "ENETUNREACH" },
  { "no resolver defined", "NoResolver" },
  { "could not be resolved", "EAI_NONAME" },
  { "timed out", "ETIMEDOUT" },
}

-- X509 verification results meaning "no trusted issuer" (2, 18, 19, 20, 21).
local UNTRUSTED = { [2] = true, [18] = true, [19] = true, [20] = true, [21] = true }

--- Map a cosocket error string to `kind, code, message`.
-- @tparam string err the error cosockets returned (`"timeout"`, `"closed"`, ...)
-- @tparam string stage `"connect"`, `"tls"`, `"send"` or `"read"`
-- @tparam string target `host:port`
function M.map_error(err, stage, target)
  err = tostring(err)
  local what = ({ connect = "connecting to ", tls = "TLS handshake with ",
                  send = "sending the request to ", read = "reading the response from " })[stage]
               or (stage .. " ")
  if err == "timeout" then
    return "timeout", "ETIMEDOUT", what .. target .. " timed out"
  end
  if err == "closed" then
    if stage == "send" then
      return "transport", "EPIPE", what .. target .. " failed: the connection was closed"
    end
    return "transport", "ECONNRESET", what .. target .. " failed: the server closed the connection"
  end
  local e = lower(err)
  for i = 1, #SOCKET_CODES do
    if e:find(SOCKET_CODES[i][1], 1, true) then
      local code = SOCKET_CODES[i][2]
      local kind = code == "ETIMEDOUT" and "timeout" or "transport"
      return kind, code, what .. target .. " failed: " .. err
    end
  end
  if stage == "tls" then
    -- lua-resty-core reports verification failures as "<X509 code>: <text>";
    -- lua-nginx-module reports a name mismatch as "certificate host mismatch"
    local x509 = tonumber(e:match("^(%d+): "))
    if x509 or e:find("certificate", 1, true) then
      -- unknown issuer / self-signed: usually no or the wrong trust store
      local hint = UNTRUSTED[x509] and " (is lua_ssl_trusted_certificate set in nginx.conf?)" or ""
      return "transport", "CertificateVerifyFailed", what .. target ..
        " failed: certificate verification: " .. err .. hint
    end
    return "transport", "TLSHandshakeFailed", what .. target .. " failed: " .. err
  end
  return "transport", "ESOCKET", what .. target .. " failed: " .. err
end

-- True when the comma-separated header value has the token (case-insensitive).
local function has_token(value, token)
  if not value then return false end
  for t in lower(value):gmatch("[^,%s]+") do
    if t == token then return true end
  end
  return false
end
M.has_token = has_token

--- Parse a response head (status line and header lines, without the blank line).
-- @treturn table `{ status =, major =, minor =, headers = map }` or nil, message
function M.parse_head(block)
  local status_line, rest = block:match("^([^\r\n]*)\r?\n?(.*)$")
  local major, minor, status, after = status_line:match("^HTTP/(%d)%.(%d) (%d%d%d)(.*)$")
  if not major or (after ~= "" and after:sub(1, 1) ~= " ") then
    return nil, "malformed status line"
  end
  local headers, last = {}, nil
  for line in rest:gmatch("([^\n]*)\n?") do
    line = line:gsub("\r$", "")
    if line ~= "" then
      local first = line:sub(1, 1)
      if (first == " " or first == "\t") and last then
        -- obsolete line folding: a continuation of the previous value
        headers[last] = headers[last] .. " " .. line:match("^%s*(.-)%s*$")
      else
        local name, value = line:match("^([!#$%%&'*+.^_`|~%w-]+):(.*)$")
        if not name then return nil, "malformed header line" end
        name = lower(name)
        value = value:match("^[ \t]*(.-)[ \t]*$")
        local old = headers[name]
        headers[name] = old and (old .. ", " .. value) or value
        last = name
      end
    end
  end
  return { status = tonumber(status), major = tonumber(major), minor = tonumber(minor),
           headers = headers }
end

-- The Content-Length of a response: a number, false when absent, or nil and
-- a message when malformed (repeated values must agree).
local function content_length(value)
  if value == nil then return false end
  local n
  for v in value:gmatch("[^,]+") do
    local digits = v:match("^%s*(%d+)%s*$")
    if not digits or #digits > 15 then return nil, "malformed Content-Length" end
    local m = tonumber(digits)
    if n and m ~= n then return nil, "conflicting Content-Length values" end
    n = m
  end
  if not n then return nil, "malformed Content-Length" end
  return n
end
M.content_length = content_length

local TOKEN = "^[!#$%%&'*+.^_`|~%w-]+$"

-- The request bytes as an array of strings, or nil, code, message.
local function build_request(req)
  local method = req.method or "GET"
  if type(method) ~= "string" or not method:find(TOKEN) then
    return nil, "InvalidMethod", "the method is not an HTTP token"
  end
  local path = req.path or "/"
  if type(path) ~= "string" or path == "" or path:find("[%c ]") then
    return nil, "InvalidPath", "the request path is empty or has spaces or control characters"
  end
  local body = req.body
  if body ~= nil and type(body) ~= "string" then
    return nil, "InvalidHeader", "the body must be a string"
  end
  local host
  local out = { method, " ", path, " HTTP/1.1\r\n", "", "" }
  local list = req.headers or {}
  for i = 1, #list do
    local name, value = list[i][1], list[i][2]
    if type(name) ~= "string" or not name:find(TOKEN) then
      return nil, "InvalidHeader", "header " .. i .. " has a malformed name"
    end
    value = tostring(value)
    if value:find("[%z\r\n]") then
      return nil, "InvalidHeader", "header " .. name .. " has a CR, LF or NUL in its value"
    end
    local lname = lower(name)
    if lname == "host" then
      host = host or value
    elseif lname ~= "content-length" and lname ~= "transfer-encoding" and lname ~= "connection" then
      out[#out + 1] = name
      out[#out + 1] = ": "
      out[#out + 1] = value
      out[#out + 1] = "\r\n"
    end
  end
  if not host then
    local default = req.scheme == "https" and 443 or 80
    host = req.host
    if req.port and req.port ~= default then host = host .. ":" .. req.port end
  end
  out[5] = "Host: "
  out[6] = host .. "\r\n"
  if body or (method ~= "GET" and method ~= "HEAD" and method ~= "DELETE"
              and method ~= "OPTIONS") then
    out[#out + 1] = "Content-Length: " .. (body and #body or 0) .. "\r\n"
  end
  out[#out + 1] = "\r\n"
  if body and body ~= "" then out[#out + 1] = body end
  return out
end
M.build_request = build_request

-- The reads of one attempt. Every receive waits at most for the time left
-- to the attempt's deadline and returns as soon as any bytes arrive
-- (`receiveany`), so a server trickling its head or body a few bytes at a
-- time cannot stretch the attempt past its `timeout`: cosocket timeouts
-- alone restart on every byte. Failures are `nil, "deadline"` or the socket's
-- error (`"closed"`, `"timeout"`, ...).
local function new_reader(sock, deadline, now, connect_ms)
  -- the bytes received and not yet consumed are buf:sub(pos)
  local buf, pos = "", 1
  local r = { received = false }

  -- one receive appended to the unconsumed bytes
  local function more()
    local left = deadline - now()
    if left <= 0 then return nil, "deadline" end
    local ms = floor(left * 1000) + 1
    sock:settimeouts(connect_ms, ms, ms)
    local data, err = sock:receiveany(BLOCK)
    if not data then return nil, err end
    r.received = true
    if pos > #buf then
      buf = data
    else
      buf = buf:sub(pos) .. data
    end
    pos = 1
    return true
  end

  --- The bytes up to `pattern` (consumed, not returned); nil, "limit" past
  -- `limit` bytes without it.
  function r.till(pattern, limit)
    local from = pos
    while true do
      local i = buf:find(pattern, from, true)
      if i then
        local out = buf:sub(pos, i - 1)
        pos = i + #pattern
        return out
      end
      if #buf - pos + 1 > limit then return nil, "limit" end
      local seen = #buf - pos + 1
      local ok, err = more()
      if not ok then return nil, err end
      from = math.max(1, seen - #pattern + 2)
    end
  end

  --- One line without its CRLF (or bare LF).
  function r.line(limit)
    local line, err = r.till("\n", limit)
    if not line then return nil, err end
    return (line:gsub("\r$", ""))
  end

  --- Exactly n bytes, appended to parts.
  function r.exact(n, parts)
    while true do
      local have = #buf - pos + 1
      if have >= n then
        parts[#parts + 1] = buf:sub(pos, pos + n - 1)
        pos = pos + n
        return true
      end
      if have > 0 then parts[#parts + 1] = buf:sub(pos) end
      n = n - have
      buf, pos = "", 1
      local ok, err = more()
      if not ok then return nil, err end
    end
  end

  --- Everything up to the server's close, appended to parts; nil, "limit"
  -- past `limit` bytes.
  function r.rest(limit, parts)
    local size = 0
    while true do
      local have = #buf - pos + 1
      size = size + have
      if size > limit then return nil, "limit" end
      if have > 0 then parts[#parts + 1] = buf:sub(pos) end
      buf, pos = "", 1
      local ok, err = more()
      if not ok then
        if err == "closed" then return size end
        return nil, err
      end
    end
  end

  return r
end

-- Per worker: the last TLS session of each pool, for session resumption.
local sessions = require("fsx.cache").new(256)

-- Cosockets verify against lua_ssl_trusted_certificate only: a request's
-- ca_file (the ca_file option, AWS_CA_BUNDLE) cannot apply. Said once per worker.
local warned_ca_file = false
local function warn_ca_file()
  if warned_ca_file then return end
  warned_ca_file = true
  local ngx_ = rawget(_G, "ngx")
  if type(ngx_) == "table" and ngx_.log then
    ngx_.log(ngx_.WARN, "fsx: ca_file (option or AWS_CA_BUNDLE) does not apply to the Nginx ",
             "transport; certificates are verified against lua_ssl_trusted_certificate")
  end
end

--- A new transport function.
-- @tparam[opt] table opts options; those under `opts.ngx` (the client's `ngx`
--   option) take precedence: `keepalive_timeout` (s), `pool_size`,
--   `max_header_bytes`, `ssl_session_reuse`, `pool` (prefix of the pool
--   names), and for tests `tcp` (socket constructor) and `now` (seconds).
-- @treturn function send(request) -> response | nil, kind, code, message
-- @treturn function close (no-op: pooled connections belong to the worker)
-- @treturn table stats `requests`, `connections` (new TCP connections)
function M.new(opts)
  local o = {}
  for k, v in pairs(M.DEFAULTS) do o[k] = v end
  if type(opts) == "table" then
    for k, v in pairs(opts) do if k ~= "ngx" then o[k] = v end end
    if type(opts.ngx) == "table" then
      for k, v in pairs(opts.ngx) do o[k] = v end
    end
  end
  local stats = { requests = 0, connections = 0 }
  local keepalive_ms = floor(o.keepalive_timeout * 1000)
  local pool_size = o.pool_size
  local max_header = o.max_header_bytes

  local function now()
    if o.now then return o.now() end
    return ngx.now()
  end

  -- One attempt on one connection. Returns response, or nil, kind, code,
  -- message, stale (true when a reused connection failed before any
  -- response byte arrived: the caller may try a fresh connection).
  local function attempt(req, request_bytes, deadline, pool, target)
    local sock, serr = (o.tcp or ngx.socket.tcp)()
    if not sock then return nil, "transport", "ESOCKET", "cannot create a socket: " .. tostring(serr) end

    local function left_ms()
      local left = deadline - now()
      if left <= 0 then return nil end
      return floor(left * 1000) + 1
    end
    local function fail(err, stage, reused, received)
      sock:close()
      local kind, code, msg = M.map_error(err, stage, target)
      return nil, kind, code, msg,
             reused and not received and (code == "ECONNRESET" or code == "EPIPE")
    end
    local function timed_out(stage)
      sock:close()
      return nil, "timeout", "ETIMEDOUT", "the request to " .. target .. " timed out (" .. stage .. ")"
    end

    local ms = left_ms()
    if not ms then return timed_out("connect") end
    local connect_ms = min(ms, floor((req.connect_timeout or 60) * 1000) + 1)
    sock:settimeouts(connect_ms, ms, ms)
    local ok, err = sock:connect(req.host, req.port, { pool = pool, pool_size = pool_size })
    if not ok then return fail(err, "connect") end
    local reused = (sock:getreusedtimes() or 0) > 0
    if not reused then stats.connections = stats.connections + 1 end

    if req.scheme == "https" and req.ca_file and not req.insecure then warn_ca_file() end
    if req.scheme == "https" and not reused then
      ms = left_ms()
      if not ms then return timed_out("tls") end
      sock:settimeouts(min(ms, connect_ms), ms, ms)
      local host = req.host
      local sni = req.server_name
      if sni == nil and not host:find("^[%d.]+$") and not host:find(":", 1, true) then sni = host end
      local prev = false
      if o.ssl_session_reuse then prev = sessions:get(pool) end
      local session, herr = sock:sslhandshake(prev, sni, not req.insecure)
      if not session then return fail(herr, "tls") end
      if o.ssl_session_reuse and type(session) ~= "boolean" then
        sessions:put(pool, session)
      end
    end

    ms = left_ms()
    if not ms then return timed_out("send") end
    sock:settimeouts(connect_ms, ms, ms)
    local sent, werr = sock:send(request_bytes)
    if not sent then return fail(werr, "send", reused, false) end

    local rd = new_reader(sock, deadline, now, connect_ms)
    local function read_failed(rerr)
      if rerr == "deadline" then return timed_out("read") end
      return fail(rerr, "read", reused, rd.received)
    end

    -- the head: status line and headers up to the blank line (1xx skipped)
    local head
    repeat
      local block, rerr = rd.till("\r\n\r\n", max_header)
      if not block then
        if rerr == "limit" then
          sock:close()
          return nil, "transport", "HeadersTooLarge",
            "the response head from " .. target .. " is over " .. max_header .. " bytes"
        end
        return read_failed(rerr)
      end
      local perr
      head, perr = M.parse_head(block)
      if not head then
        sock:close()
        return nil, "transport", "InvalidResponse", "the response from " .. target .. " has a " .. perr
      end
    until head.status >= 200 or head.status == 101
    -- no request of ours asks for an upgrade: a 101 (a proxy or server
    -- switching to another protocol) is no answer, like a closed connection
    if head.status == 101 then
      sock:close()
      return nil, "transport", "InvalidResponse",
        "the response from " .. target .. " is a 101 Switching Protocols to a request that asked for no upgrade"
    end

    -- the body
    local headers = head.headers
    local max_body = req.max_body or math.huge
    local method = req.method or "GET"
    local body_parts, size = {}, 0
    local framed = true
    local function too_large()
      sock:close()
      return nil, "transport", "ResponseTooLarge",
        "the response body from " .. target .. " is over max_body (" .. max_body .. " bytes)"
    end
    local function invalid(what)
      sock:close()
      return nil, "transport", "InvalidResponse", "the response from " .. target .. " has " .. what
    end

    local te = headers["transfer-encoding"]
    local status = head.status
    local bodiless = method == "HEAD" or status == 204 or status == 304
    if not bodiless and te and not has_token(te, "identity") then
      local codings = lower(te):gsub("%s", "")
      if codings:match("([^,]*)$") ~= "chunked" then
        framed = false  -- not chunked last: the body runs until the connection closes
      else
        while true do
          local line, rerr = rd.line(max_header)
          if not line then
            if rerr == "limit" then return invalid("a malformed chunk size line") end
            return read_failed(rerr)
          end
          local hex, ext = line:match("^(%x+)[ \t]*(.*)$")
          if not hex or #hex > 12 or (ext ~= "" and ext:sub(1, 1) ~= ";") then
            return invalid("a malformed chunk size line")
          end
          local n = tonumber(hex, 16)
          if n == 0 then break end
          if size + n > max_body then return too_large() end
          size = size + n
          local okr, rerr2 = rd.exact(n, body_parts)
          if not okr then return read_failed(rerr2) end
          local crlf, rerr3 = rd.line(max_header)
          if not crlf then return read_failed(rerr3) end
          if crlf ~= "" then return invalid("no CRLF after a chunk") end
        end
        -- trailer fields (ignored) up to the blank line
        local trailer_bytes = 0
        while true do
          local line, rerr = rd.line(max_header - trailer_bytes)
          if line == "" then break end
          if line then trailer_bytes = trailer_bytes + #line + 2 end
          if rerr == "limit" or trailer_bytes > max_header then
            sock:close()
            return nil, "transport", "HeadersTooLarge",
              "the response trailers from " .. target .. " are over " .. max_header .. " bytes"
          end
          if not line then return read_failed(rerr) end
        end
      end
    elseif not bodiless then
      local n, cerr = content_length(headers["content-length"])
      if n == nil then return invalid("a " .. cerr) end
      if n then
        if n > max_body then return too_large() end
        local okr, rerr = rd.exact(n, body_parts)
        if not okr then return read_failed(rerr) end
      else
        framed = false
      end
    end
    if not framed and method ~= "HEAD" then
      -- no length: the body is everything up to the server's close
      local got, rerr = rd.rest(max_body, body_parts)
      if not got then
        if rerr == "limit" then return too_large() end
        return read_failed(rerr)
      end
    end

    -- reuse the connection when the body was delimited and nobody asked to close
    local conn = headers["connection"]
    local keep = framed and not has_token(conn, "close")
                 and (head.major * 10 + head.minor >= 11 or has_token(conn, "keep-alive"))
    if keep and keepalive_ms > 0 then
      local kok = sock:setkeepalive(keepalive_ms, pool_size)
      if not kok then sock:close() end
    else
      sock:close()
    end
    return { status = status, headers = headers, body = concat(body_parts),
             new_connections = reused and 0 or 1 }
  end

  local function send(req)
    if type(req) ~= "table" or type(req.host) ~= "string" or req.host == "" then
      return nil, "validation", "InvalidRequest", "the request has no host"
    end
    local scheme = req.scheme or "http"
    if scheme ~= "http" and scheme ~= "https" then
      return nil, "validation", "InvalidRequest", "the scheme must be http or https"
    end
    local port = tonumber(req.port) or (scheme == "https" and 443 or 80)
    -- fsx.url gives an IPv6 address without brackets; nginx reads the host
    -- it connects to as `host[:port]`, so an IPv6 address needs them
    local host = req.host
    if host:find(":", 1, true) and host:sub(1, 1) ~= "[" then host = "[" .. host .. "]" end
    local r = req
    if req.port ~= port or req.scheme ~= scheme or host ~= req.host then
      r = setmetatable({ port = port, scheme = scheme, host = host }, { __index = req })
    end
    local bytes, code, msg = build_request(r)
    if not bytes then return nil, "validation", code, msg end
    local target = r.host .. ":" .. port
    local pool = (o.pool or "fsx") .. ":" .. scheme .. "://" .. target
    if scheme == "https" then
      pool = pool .. ":" .. tostring(r.server_name or r.host) ..
             (r.insecure and ":noverify" or ":verify")
    end
    local deadline = now() + (r.timeout or 60)
    stats.requests = stats.requests + 1
    -- a pooled connection the server closed meanwhile fails before any byte
    -- of the response: try again on another one (at most pool_size + 1 times)
    local tries = 0
    while true do
      tries = tries + 1
      local resp, kind, ecode, emsg, stale = attempt(r, bytes, deadline, pool, target)
      if resp then return resp end
      if not stale or tries > pool_size then return nil, kind, ecode, emsg end
    end
  end

  local function close() end
  return send, close, stats
end

return M
