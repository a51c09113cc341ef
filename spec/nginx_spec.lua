-- The Nginx transport (lua/fsx/transport/ngx.lua) and the library inside a
-- real Nginx.
--
-- Part 1 drives the transport with a scripted fake cosocket: it runs in the
-- busted process under any interpreter. Parts 2 and 3 start Debian's nginx
-- with the Lua module (spec/support/nginx.lua) on loopback, one worker, and
-- drive it over HTTP with the curl command line tool, so they run under
-- lua5.4 and luajit alike; Nginx itself loads build/luajit/fsx/core.so.
-- Part 2 talks to spec/support/chunked_server.py (odd HTTP, TLS); part 3 to
-- the local FSx server (spec/support/fsx_server.py), which verifies every
-- SigV4 signature with botocore.
--
-- The measured numbers (20 concurrent 300 ms calls, the latency of an
-- unrelated location meanwhile, connections against requests) are printed.
local nginx = require "spec.support.nginx"
local cjson = require "cjson"
local ngx_transport = require "fsx.transport.ngx"

local q = nginx.q

---------------------------------------------------------------------------
-- Part 1: the transport against a fake cosocket
---------------------------------------------------------------------------

-- A fake ngx.socket.tcp: `script` is the bytes the "server" sends, or a
-- function(sent) -> bytes; `opts.reused` is getreusedtimes(), `opts.fail`
-- maps a method to an error string.
local function fake_tcp(script, opts)
  opts = opts or {}
  local log = { sent = {}, closed = 0, keepalive = 0, connects = 0 }
  local function new()
    local s = { buf = nil, closed = false }
    function s.settimeouts(_, c, w, r) log.timeouts = { c, w, r } end
    function s.connect(_, host, port, o)
      log.connects = log.connects + 1
      log.host, log.port, log.pool = host, port, o and o.pool
      if opts.fail and opts.fail.connect then return nil, opts.fail.connect end
      return 1
    end
    function s.getreusedtimes() return opts.reused or 0 end
    function s.sslhandshake(_, sess, sni, verify)
      log.sni, log.verify = sni, verify
      if opts.fail and opts.fail.tls then return nil, opts.fail.tls end
      return sess or "session"
    end
    function s.send(_, data)
      local bytes = type(data) == "table" and table.concat(data) or data
      log.sent[#log.sent + 1] = bytes
      if opts.fail and opts.fail.send then return nil, opts.fail.send end
      s.buf = type(script) == "function" and script(bytes) or script
      return #bytes
    end
    local function take(n)
      if #s.buf < n then
        local partial = s.buf
        s.buf = ""
        return nil, opts.eof_error or "closed", partial
      end
      local out = s.buf:sub(1, n)
      s.buf = s.buf:sub(n + 1)
      return out
    end
    function s.receive(_, what)
      if what == "*l" then
        local i = s.buf:find("\n", 1, true)
        if not i then return take(#s.buf + 1) end
        local line = s.buf:sub(1, i - 1):gsub("\r$", "")
        s.buf = s.buf:sub(i + 1)
        return line
      end
      return take(what)
    end
    function s.receiveany(_, max)
      if s.buf == "" then return nil, opts.eof_error or "closed" end
      return take(math.min(max, #s.buf))
    end
    function s.receiveuntil(_, pattern)
      local done = false
      return function(size)
        if done then done = false return nil end
        local i = s.buf:find(pattern, 1, true)
        if not i then return take(#s.buf + 1) end
        local n = math.min(size or (i - 1), i - 1)
        local out = s.buf:sub(1, n)
        s.buf = s.buf:sub(n + 1)
        if n == i - 1 then
          s.buf = s.buf:sub(#pattern + 1)
          done = true
          if out == "" then done = false return nil end
        end
        return out
      end
    end
    function s.setkeepalive() log.keepalive = log.keepalive + 1 return 1 end
    function s.close() log.closed = log.closed + 1 return 1 end
    return s
  end
  return new, log
end

local function request(over)
  local r = { method = "POST", scheme = "http", host = "127.0.0.1", port = 8080, path = "/",
              headers = { { "Content-Type", "application/json" }, { "Authorization", "secret" } },
              body = "{}", timeout = 5, connect_timeout = 1, max_body = 1000 }
  for k, v in pairs(over or {}) do r[k] = v end
  return r
end

local function transport(script, opts, tr_opts)
  local tcp, log = fake_tcp(script, opts)
  local t = { tcp = tcp, now = function() return 1000 end }
  for k, v in pairs(tr_opts or {}) do t[k] = v end
  local send = ngx_transport.new{ ngx = t }
  return send, log
end

describe("fsx.transport.ngx with a fake cosocket", function()
  it("writes Host first, the given headers, Content-Length, no Connection", function()
    local send, log = transport("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
    local resp = assert(send(request{ headers = { { "X-A", "1" }, { "host", "h.example:8080" },
                                                   { "Content-Length", "99" },
                                                   { "Connection", "close" } } }))
    assert.equal("POST / HTTP/1.1\r\nHost: h.example:8080\r\nX-A: 1\r\n" ..
                 "Content-Length: 2\r\n\r\n{}", log.sent[1])
    assert.same({ 200, "ok", 1 }, { resp.status, resp.body, resp.new_connections })
    assert.equal(1, log.keepalive)
    assert.equal(0, log.closed)
  end)

  it("derives Host from host and port (default ports left out)", function()
    local send, log = transport("HTTP/1.1 204 No Content\r\n\r\n")
    local r = request{ headers = {}, port = 80, method = "GET" }
    r.body = nil
    assert(send(r))
    assert.equal("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", log.sent[1])
  end)

  it("names pools by scheme, host and port, and for TLS by SNI and verification", function()
    local send, log = transport("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
    assert(send(request()))
    assert.equal("fsx:http://127.0.0.1:8080", log.pool)
    assert(send(request{ scheme = "https", host = "fsx.us-east-1.amazonaws.com", port = 443 }))
    assert.equal("fsx:https://fsx.us-east-1.amazonaws.com:443:fsx.us-east-1.amazonaws.com:verify",
                 log.pool)
    assert.equal("fsx.us-east-1.amazonaws.com", log.sni)
    assert.is_true(log.verify)
    assert(send(request{ scheme = "https", insecure = true }))
    assert.is_nil(log.sni)            -- no SNI for an IP address
    assert.is_false(log.verify)
    assert.matches(":noverify$", log.pool)
  end)

  it("joins repeated headers, lowercases names, skips 1xx answers", function()
    local send = transport("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nX-Rep: a\r\n" ..
                           "x-rep:  b \r\nContent-Length: 1\r\n\r\nz")
    local resp = assert(send(request()))
    assert.equal("a, b", resp.headers["x-rep"])
    assert.equal("z", resp.body)
  end)

  it("reads chunked bodies with extensions and trailers", function()
    local send, log = transport("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" ..
      "5;a=b\r\nhello\r\n1 ; x=\"y\"\r\n \r\n5\r\nworld\r\n0\r\nX-T: 1\r\n\r\n")
    local resp = assert(send(request()))
    assert.equal("hello world", resp.body)
    assert.equal(1, log.keepalive)
  end)

  it("reads until close without a length, and does not pool that connection", function()
    local send, log = transport("HTTP/1.0 200 OK\r\n\r\nall of it")
    local resp = assert(send(request()))
    assert.equal("all of it", resp.body)
    assert.equal(0, log.keepalive)
    assert.equal(1, log.closed)
  end)

  it("closes when the server says Connection: close", function()
    local send, log = transport("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\nx")
    assert(send(request()))
    assert.same({ 0, 1 }, { log.keepalive, log.closed })
  end)

  it("enforces max_body for every framing", function()
    for _, script in ipairs{
      "HTTP/1.1 200 OK\r\nContent-Length: 1001\r\n\r\n",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3e9\r\n" .. ("x"):rep(1001) .. "\r\n0\r\n\r\n",
      "HTTP/1.1 200 OK\r\n\r\n" .. ("x"):rep(1001),
    } do
      local send = transport(script)
      local resp, kind, code, msg = send(request())
      assert.is_nil(resp)
      assert.same({ "transport", "ResponseTooLarge" }, { kind, code })
      assert.matches("max_body", msg)
    end
  end)

  it("caps the response head", function()
    local send = transport("HTTP/1.1 200 OK\r\n" .. ("X-F: " .. ("f"):rep(60) .. "\r\n"):rep(2000) ..
                           "\r\n", nil, { max_header_bytes = 64 * 1024 })
    local _, kind, code = send(request())
    assert.same({ "transport", "HeadersTooLarge" }, { kind, code })
    -- one header line that does not end within the cap
    send = transport("HTTP/1.1 200 OK\r\nX-F: " .. ("f"):rep(256 * 1024), nil,
                     { max_header_bytes = 64 * 1024 })
    _, kind, code = send(request())
    assert.same({ "transport", "HeadersTooLarge" }, { kind, code })
  end)

  it("rejects garbage, bad chunk sizes and conflicting lengths", function()
    for _, script in ipairs{
      "SSH-2.0-OpenSSH\r\n\r\n",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
      "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!",
      "HTTP/1.1 2000 OK\r\n\r\n",
    } do
      local send = transport(script)
      local _, kind, code = send(request())
      assert.same({ "transport", "InvalidResponse" }, { kind, code })
    end
  end)

  it("maps socket errors to kinds and codes", function()
    local cases = {
      { { fail = { connect = "connection refused" } }, "transport", "ECONNREFUSED" },
      { { fail = { connect = "timeout" } }, "timeout", "ETIMEDOUT" },
      { { fail = { connect = "no resolver defined to resolve \"x\"" } }, "transport", "NoResolver" },
      { { fail = { connect = "x could not be resolved (3: Host not found)" } }, "transport",
        "EAI_NONAME" },
      { { fail = { send = "closed" } }, "transport", "EPIPE" },
      { { fail = { send = "broken pipe" } }, "transport", "EPIPE" },
      { { eof_error = "timeout" }, "timeout", "ETIMEDOUT" },
      { {}, "transport", "ECONNRESET" },
      { { eof_error = "connection reset by peer" }, "transport", "ECONNRESET" },
      { { eof_error = "weird" }, "transport", "ESOCKET" },
    }
    for _, c in ipairs(cases) do
      local send = transport("", c[1])
      local resp, kind, code, msg = send(request())
      assert.is_nil(resp)
      assert.same({ c[2], c[3] }, { kind, code })
      assert.matches("127.0.0.1:8080", msg, 1, true)
      assert.not_matches("secret", msg)
    end
  end)

  it("maps TLS failures: verification versus other handshake errors", function()
    local send = transport("", { fail = { tls = "20: unable to get local issuer certificate" } })
    local _, kind, code, msg = send(request{ scheme = "https" })
    assert.same({ "transport", "CertificateVerifyFailed" }, { kind, code })
    assert.matches("lua_ssl_trusted_certificate", msg)
    send = transport("", { fail = { tls = "certificate host mismatch" } })
    assert.equal("CertificateVerifyFailed", select(3, send(request{ scheme = "https" })))
    send = transport("", { fail = { tls = "handshake failed" } })
    assert.equal("TLSHandshakeFailed", select(3, send(request{ scheme = "https" })))
  end)

  it("retries a stale pooled connection that closes before answering", function()
    local n = 0
    local send, log = transport(function()
      n = n + 1
      if n == 1 then return "" end
      return "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
    end, { reused = 3 })
    assert(send(request()))
    assert.equal(2, log.connects)
    -- a fresh connection that closes is not retried
    n = 0
    send, log = transport(function() n = n + 1 return n == 1 and "" or "HTTP/1.1 200 OK\r\n\r\n" end)
    assert.is_nil((send(request())))
    assert.equal(1, log.connects)
  end)

  it("enforces the request's total timeout", function()
    local t = 1000
    local tcp = fake_tcp("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
    local send = ngx_transport.new{ ngx = { tcp = tcp, now = function() t = t + 3 return t end } }
    local _, kind, code = send(request{ timeout = 5 })
    assert.same({ "timeout", "ETIMEDOUT" }, { kind, code })
  end)

  it("refuses CR/LF in header values and malformed methods before sending", function()
    local send, log = transport("")
    local _, kind, code = send(request{ headers = { { "X-A", "a\r\nInjected: 1" } } })
    assert.same({ "validation", "InvalidHeader" }, { kind, code })
    _, kind, code = send(request{ method = "GE T" })
    assert.same({ "validation", "InvalidMethod" }, { kind, code })
    assert.equal(0, log.connects)
  end)
end)

describe("docs/openresty.md", function()
  local function env_names(text)
    local names, seen = {}, {}
    for name in text:gmatch("env ([%w_]+);") do
      if not seen[name] then names[#names + 1] = name end
      seen[name] = true
    end
    table.sort(names)
    return names
  end

  it("points to examples/nginx.conf (the file the spec runs) instead of repeating it", function()
    local doc = nginx.read_file(nginx.ROOT .. "/docs/openresty.md")
    if not doc then return pending("no docs/openresty.md") end
    assert.truthy(doc:find("examples/nginx.conf", 1, true))
    assert.is_nil(doc:find("init_worker_by_lua_block {", 1, true), "docs/openresty.md repeats the example")
    assert.is_nil(doc:find("\nhttp {", 1, true), "docs/openresty.md repeats the example")
  end)

  it("its env checklist names exactly the example's env directives", function()
    local doc = assert(nginx.read_file(nginx.ROOT .. "/docs/openresty.md"))
    local conf = assert(nginx.read_file(nginx.ROOT .. "/examples/nginx.conf"))
    local checklist = assert(doc:match("%* %*%*`env` directives%.%*%*(.-)\n%* "))
    local want = env_names(checklist)
    for _, name in ipairs{ "AWS_ENDPOINT_URL", "AWS_MAX_ATTEMPTS", "AWS_RETRY_MODE",
                           "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", "AWS_ROLE_SESSION_NAME" } do
      assert.truthy(checklist:find("env " .. name .. ";", 1, true), name)
    end
    assert.same(want, env_names(conf))
  end)
end)

---------------------------------------------------------------------------
-- Parts 2 and 3: a real Nginx
---------------------------------------------------------------------------

local describe_nginx = nginx.describe_nginx(describe, pending)

local function decode(body)
  local ok, v = pcall(cjson.decode, body)
  if not ok then error("not JSON: " .. tostring(body), 2) end
  return v
end

-- content handler that sends one or more requests through the transport
-- and answers with their results as JSON
local RAW_LOCATION = [[
        location = /raw {
            content_by_lua_block {
                local cjson = require "cjson"
                local args = ngx.req.get_uri_args()
                local send = require("fsx.transport.ngx").new{ ngx = { pool_size = 8 } }
                local out = {}
                for i = 1, tonumber(args.n) or 1 do
                    local resp, kind, code, msg = send{
                        method = args.method or "GET", scheme = args.scheme or "http",
                        host = "127.0.0.1", port = tonumber(args.port), path = args.path,
                        headers = { { "X-Test", "1" } }, body = args.body,
                        timeout = tonumber(args.timeout) or 5, connect_timeout = 2,
                        max_body = tonumber(args.max_body) or 1000000,
                        insecure = args.insecure == "1", server_name = args.sni,
                    }
                    if resp then
                        out[i] = { status = resp.status, headers = resp.headers, body = resp.body,
                                   new_connections = resp.new_connections }
                    else
                        out[i] = { kind = kind, code = code, message = msg }
                    end
                end
                ngx.header["Content-Type"] = "application/json"
                ngx.say(cjson.encode(out))
            }
        }
]]

describe_nginx("fsx.transport.ngx inside Nginx", function()
  local srv, raw, dir, ca_cert

  setup(function()
    dir = nginx.tempdir("raw")
    local cert, key = nginx.make_cert(dir, "server", "localhost")
    local other_cert, other_key = nginx.make_cert(dir, "other", "localhost")
    assert(cert and other_cert, "openssl could not make test certificates")
    ca_cert = cert
    raw = assert(nginx.start_raw_server(dir, cert, key))
    -- a second TLS server whose certificate nobody trusts
    local other_dir = dir .. "/other"
    nginx.execute("mkdir -p " .. q(other_dir))
    raw.untrusted = assert(nginx.start_raw_server(other_dir, other_cert, other_key))
    local err
    srv, err = nginx.start{
      http = "    lua_ssl_trusted_certificate " .. ca_cert .. ";\n    lua_ssl_verify_depth 2;\n",
      server = RAW_LOCATION,
    }
    assert(srv, err)
  end)

  teardown(function()
    if srv then srv:stop() end
    if raw then raw.untrusted.stop() raw.stop() end
    if dir then nginx.execute("rm -rf " .. q(dir)) end
  end)

  local function raw_get(params)
    local parts = {}
    for k, v in pairs(params) do parts[#parts + 1] = k .. "=" .. tostring(v) end
    table.sort(parts)
    local status, body = srv:get("/raw?" .. table.concat(parts, "&"))
    assert.equal(200, status, body)
    return decode(body)
  end

  it("parses Content-Length and chunked (extensions, trailers, split writes) bodies", function()
    srv:check(function()
      local r = raw_get{ port = raw.port, path = "/cl" }[1]
      assert.equal(200, r.status)
      assert.equal("hello content-length", r.body)
      r = raw_get{ port = raw.port, path = "/chunked" }[1]
      assert.equal("hello chunked world", r.body)
      r = raw_get{ port = raw.port, path = "/bigchunked/50000" }[1]
      assert.equal(50000, #r.body)
      r = raw_get{ port = raw.port, path = "/big/300000" }[1]
      assert.equal(300000, #r.body)
    end)
  end)

  it("reads HTTP/1.0 and Connection: close bodies until the close", function()
    srv:check(function()
      local r = raw_get{ port = raw.port, path = "/close10", n = 2 }
      assert.equal("until the close", r[1].body)
      -- the first may come from the pool; the close means the second is new
      assert.equal(1, r[2].new_connections)
      r = raw_get{ port = raw.port, path = "/close11" }[1]
      assert.equal("bye", r.body)
    end)
  end)

  it("joins repeated headers, skips 100 Continue, handles 204", function()
    srv:check(function()
      local r = raw_get{ port = raw.port, path = "/repeat" }[1]
      assert.equal("a, b, c", r.headers["x-rep"])
      r = raw_get{ port = raw.port, path = "/continue" }[1]
      assert.same({ 200, "after continue" }, { r.status, r.body })
      r = raw_get{ port = raw.port, path = "/nocontent", n = 2 }
      assert.same({ 204, "" }, { r[2].status, r[2].body })
    end)
  end)

  it("sends Host first and a Content-Length body, and keeps the connection", function()
    srv:check(function()
      local r = raw_get{ port = raw.port, path = "/echo", method = "POST", body = "abc", n = 3 }
      local head = r[1].body
      assert.matches("^POST /echo HTTP/1.1\r\nHost: 127.0.0.1:" .. raw.port .. "\r\n", head)
      assert.matches("\r\nContent%-Length: 3\r\n", head)
      assert.not_matches("[Cc]onnection:", head)
      assert.matches("\r\n\r\nabc$", head)
      -- the same connection served all three
      assert.equal(r[1].headers["x-conn-id"], r[3].headers["x-conn-id"])
      assert.same({ 0, 0 }, { r[2].new_connections, r[3].new_connections })
    end)
  end)

  it("enforces max_body and the header cap", function()
    srv:check(function()
      for _, path in ipairs{ "/big/5000", "/bigchunked/5000", "/bigclose/5000" } do
        local r = raw_get{ port = raw.port, path = path, max_body = 4000 }[1]
        assert.same({ "transport", "ResponseTooLarge" }, { r.kind, r.code }, path)
      end
      local r = raw_get{ port = raw.port, path = "/headers/3000" }[1]
      assert.same({ "transport", "HeadersTooLarge" }, { r.kind, r.code })
      -- the server still works afterwards
      assert.equal(200, raw_get{ port = raw.port, path = "/cl" }[1].status)
    end)
  end)

  it("maps failures: refused, reset, timeout, garbage", function()
    srv:check(function()
      local r = raw_get{ port = nginx.free_port(), path = "/" }[1]
      assert.same({ "transport", "ECONNREFUSED" }, { r.kind, r.code })
      r = raw_get{ port = raw.port, path = "/nothing" }[1]
      assert.same({ "transport", "ECONNRESET" }, { r.kind, r.code })
      r = raw_get{ port = raw.port, path = "/hang", timeout = 0.3 }[1]
      assert.same({ "timeout", "ETIMEDOUT" }, { r.kind, r.code })
      r = raw_get{ port = raw.port, path = "/garbage" }[1]
      assert.same({ "transport", "InvalidResponse" }, { r.kind, r.code })
      r = raw_get{ port = raw.port, path = "/badchunk" }[1]
      assert.same({ "transport", "InvalidResponse" }, { r.kind, r.code })
      r = raw_get{ port = raw.port, path = "/conflict" }[1]
      assert.same({ "transport", "InvalidResponse" }, { r.kind, r.code })
    end)
  end)

  it("verifies TLS certificates against lua_ssl_trusted_certificate (with SNI)", function()
    srv:check(function()
      local r = raw_get{ scheme = "https", port = raw.tls_port, path = "/cl", sni = "localhost",
                         n = 3 }
      assert.equal("hello content-length", r[1].body, r[1].message)
      assert.same({ 1, 0, 0 }, { r[1].new_connections, r[2].new_connections,
                                 r[3].new_connections })
      -- untrusted certificate: a clear error, and insecure = true skips the check
      r = raw_get{ scheme = "https", port = raw.untrusted.tls_port, path = "/cl", sni = "localhost" }[1]
      assert.same({ "transport", "CertificateVerifyFailed" }, { r.kind, r.code })
      print("\n  untrusted certificate: " .. r.message)
      r = raw_get{ scheme = "https", port = raw.untrusted.tls_port, path = "/cl",
                   sni = "localhost", insecure = 1 }[1]
      assert.equal(200, r.status, r.message)
      -- a name the certificate does not carry
      r = raw_get{ scheme = "https", port = raw.tls_port, path = "/cl", sni = "wrong.example" }[1]
      assert.same({ "transport", "CertificateVerifyFailed" }, { r.kind, r.code })
      print("  wrong name: " .. r.message)
    end)
  end)
end)


---------------------------------------------------------------------------
-- Part 3: the library in Nginx against the local FSx server
---------------------------------------------------------------------------

local helpers = require "helpers"

local FS_ID = "fs-0123456789abcdef0"
local OTHER_FS_ID = "fs-0fedcba9876543210"
local MISSING_FS_ID = "fs-00000000000000999"

-- The environment Nginx gets (its workers see only what `env` names).
local function fsx_env(server)
  local creds = helpers.credentials()
  return {
    AWS_ACCESS_KEY_ID = creds.access_key_id, AWS_SECRET_ACCESS_KEY = creds.secret_access_key,
    AWS_REGION = server.region, AWS_ENDPOINT_URL_FSX = server.url,
    AWS_CONFIG_FILE = "/nonexistent/config", AWS_SHARED_CREDENTIALS_FILE = "/nonexistent/creds",
  }
end

local FSX_MAIN = [[
env AWS_ACCESS_KEY_ID;
env AWS_SECRET_ACCESS_KEY;
env AWS_REGION;
env AWS_ENDPOINT_URL_FSX;
env AWS_CONFIG_FILE;
env AWS_SHARED_CREDENTIALS_FILE;
]]

local FSX_HTTP = [[
    lua_shared_dict fsx_test 1m;

    init_by_lua_block {
        -- require in the master: must not do any I/O
        require "fsx"
        local cjson = require "cjson"
        local app = { required_in = ngx.get_phase() }
        package.loaded.fsx_test_app = app

        -- answer with a pcall's results as JSON
        function app.answer(ok, result, meta)
            ngx.header["Content-Type"] = "application/json"
            if ok then
                return ngx.say(cjson.encode{ ok = true, result = result, meta = meta })
            end
            local e = result
            ngx.say(cjson.encode{ ok = false, error = {
                is_fsx = require("fsx").is_error(e), kind = e.kind, code = e.code,
                status = e.status, message = e.message or tostring(e) } })
        end

    }

    init_worker_by_lua_block {
        local app = require "fsx_test_app"
        local fsx = require "fsx"
        app.created_in = ngx.get_phase()
        local ok, c = pcall(fsx.new, { max_attempts = 3, timeout = 10, retry_base = 0.05 })
        if ok then app.client = c else app.init_error = tostring(c) end
        ok, c = pcall(fsx.new, { transport = "curl", max_attempts = 1, timeout = 10 })
        if ok then app.curl_client = c else app.init_error = tostring(c) end
    }
]]

local FSX_SERVER = [[
        location = /ping {
            content_by_lua_block { ngx.say("pong") }
        }
        location = /state {
            content_by_lua_block {
                local app = require "fsx_test_app"
                ngx.say(require("cjson").encode{
                    required_in = app.required_in, created_in = app.created_in,
                    init_error = app.init_error or false,
                    ngx_transport_loaded = package.loaded["fsx.transport.ngx"] ~= nil,
                    sign_path = require("fsx.sigv4").path,
                })
            }
        }
        location = /create {
            content_by_lua_block {
                local app = require "fsx_test_app"
                local c = ngx.var.arg_curl and app.curl_client or app.client
                app.answer(pcall(c.create_backup, c, {
                    file_system_id = ngx.var.arg_fs, tags = { Name = "nginx-spec" } }))
            }
        }
        location = /describe {
            content_by_lua_block {
                local app = require "fsx_test_app"
                local c = ngx.var.arg_curl and app.curl_client or app.client
                local id = ngx.var.arg_id
                app.answer(pcall(c.describe_backups, c, id and { backup_ids = { id } } or {}))
            }
        }
        location = /wait {
            content_by_lua_block {
                local app = require "fsx_test_app"
                local c = app.client
                app.answer(pcall(c.wait_for_backup, c, ngx.var.arg_id,
                                 { timeout = 20, min_delay = 0.1, max_delay = 0.3 }))
            }
        }
        location = /fresh {
            content_by_lua_block {
                -- a client made for this request only
                local app = require "fsx_test_app"
                app.answer(pcall(function()
                    local c = require("fsx").new{ max_attempts = 1 }
                    return c:describe_backups{}
                end))
            }
        }
        location = /timer {
            content_by_lua_block {
                local app = require "fsx_test_app"
                local dict = ngx.shared.fsx_test
                local key = "timer:" .. ngx.var.request_id
                local fs = ngx.var.arg_fs
                assert(ngx.timer.at(0, function(premature)
                    if premature then return end
                    local ok, r = pcall(app.client.create_backup, app.client,
                                        { file_system_id = fs })
                    dict:set(key, ok and r.backup_id or ("error: " .. tostring(r)))
                end))
                for _ = 1, 200 do
                    local v = dict:get(key)
                    if v then return ngx.say(v) end
                    ngx.sleep(0.05)
                end
                ngx.say("no answer from the timer")
            }
        }
]]

describe_nginx("fsx inside Nginx against the local FSx server", function()
  local fsx_server, srv

  setup(function()
    fsx_server = helpers.start_fsx_server()
    fsx_server:config{ backup_seconds = 0.5 }
    local err
    srv, err = nginx.start{ main = FSX_MAIN, http = FSX_HTTP, server = FSX_SERVER,
                            env = fsx_env(fsx_server) }
    assert(srv, err)
  end)

  teardown(function()
    if srv then srv:stop() end
    if fsx_server then fsx_server:stop() end
  end)

  before_each(function()
    fsx_server:reset()
    fsx_server:config{ backup_seconds = 0.5 }
  end)

  local function call(path)
    local status, body = srv:get(path)
    assert.equal(200, status, body)
    return decode(body)
  end

  -- every request the server saw carried a valid signature
  local function assert_signed(min_requests)
    local st = fsx_server:state()
    assert.equal(0, st.counters.bad_signatures)
    local log = fsx_server:requests()
    assert.is_true(#log >= (min_requests or 1))
    for _, r in ipairs(log) do
      assert.is_true(r.signature_ok, r.signature_error)
    end
    return st, log
  end

  it("requires fsx in init_by_lua and creates clients in init_worker with no I/O", function()
    srv:check(function()
      local st = call("/state")
      assert.equal("init", st.required_in)
      assert.equal("init_worker", st.created_in)
      assert.is_false(st.init_error)
      assert.equal("ffi", st.sign_path) -- the workers sign through LuaJIT's FFI
      -- nothing was sent while loading and creating (the server was reset
      -- after Nginx started, so look at the first call instead)
      local s0 = fsx_server:state()
      assert.equal(0, s0.counters.requests_total)
    end)
  end)

  it("create_backup, describe_backups and wait_for_backup, signed and verified", function()
    srv:check(function()
      local r = call("/create?fs=" .. FS_ID)
      assert.is_true(r.ok, r.error and r.error.message)
      local id = r.result.backup_id
      assert.matches("^backup%-", id)
      assert.equal(FS_ID, r.result.file_system.file_system_id)
      r = call("/describe?id=" .. id)
      assert.is_true(r.ok, r.error and r.error.message)
      assert.equal(id, r.result.backups[1].backup_id)
      r = call("/wait?id=" .. id)
      assert.is_true(r.ok, r.error and r.error.message)
      assert.equal("AVAILABLE", r.result.lifecycle)
      local _, log = assert_signed(3)
      local ops = {}
      for _, e in ipairs(log) do ops[e.operation] = (ops[e.operation] or 0) + 1 end
      assert.equal(1, ops.CreateBackup)
      assert.is_true(ops.DescribeBackups >= 2)
      assert.matches("md/openresty", log[1].headers["user-agent"], 1, true)
    end)
  end)

  it("raises the service's structured error (FileSystemNotFound)", function()
    srv:check(function()
      local r = call("/create?fs=" .. MISSING_FS_ID)
      assert.is_false(r.ok)
      assert.is_true(r.error.is_fsx)
      assert.same({ "service", "FileSystemNotFound", 400 },
                  { r.error.kind, r.error.code, r.error.status })
      assert_signed(1)
    end)
  end)

  it("works with a client created per request and from an ngx.timer", function()
    srv:check(function()
      local r = call("/fresh")
      assert.is_true(r.ok, r.error and r.error.message)
      local status, body = srv:get("/timer?fs=" .. FS_ID)
      assert.equal(200, status)
      assert.matches("^backup%-", body)
      assert_signed(2)
    end)
  end)

  it("retries with ngx.sleep backoff inside Nginx", function()
    srv:check(function()
      fsx_server:faults{ { kind = "throttle", nth = { 1 }, operation = "CreateBackup" } }
      local r = call("/create?fs=" .. FS_ID)
      assert.is_true(r.ok, r.error and r.error.message)
      assert.equal(2, r.meta.attempts)
    end)
  end)

  it("never blocks the worker: 20 concurrent 300 ms calls, /ping answers meanwhile", function()
    srv:check(function()
      fsx_server:config{ delay = 0.3 }
      -- DescribeBackups: FSx refuses a second backup of a file system while
      -- one is under way, so concurrent calls must not all be CreateBackup
      local run = srv:parallel{ n = 20, path = "/describe",
                                ping_path = "/ping", pings = 5 }
      local slowest, fastest = 0, math.huge
      for i, res in ipairs(run.results) do
        assert.equal(200, res[1], "request " .. i .. ": " .. res[3])
        local doc = decode(res[3])
        assert.is_true(doc.ok, doc.error and doc.error.message)
        slowest = math.max(slowest, res[2])
        fastest = math.min(fastest, res[2])
      end
      local ping_max = 0
      assert.equal(5, #run.pings)
      for _, p in ipairs(run.pings) do
        assert.equal(200, p[1])
        ping_max = math.max(ping_max, p[2])
      end
      print(string.format("\n  20 concurrent calls, 300 ms server delay each, one worker: " ..
        "total %.3f s (serial would be >= 6.0 s); each %.3f..%.3f s; " ..
        "/ping meanwhile: max %.1f ms over %d requests", run.total, fastest, slowest,
        ping_max * 1000, #run.pings))
      assert.is_true(run.total < 3, "total " .. run.total .. " s")
      assert.is_true(ping_max < 0.25, "ping took " .. ping_max .. " s")
      local st = assert_signed(20)
      assert.equal(20, st.counters.by_operation.DescribeBackups)
    end)
  end)

  it("the measurement catches blocking: the same load through libcurl serialises", function()
    srv:check(function()
      fsx_server:config{ delay = 0.3 }
      local run = srv:parallel{ n = 4, path = "/describe?curl=1",
                                ping_path = "/ping", pings = 1, ping_delay = 0.1 }
      local ping = run.pings[1] and run.pings[1][2] or -1
      print(string.format("\n  4 concurrent calls through the blocking libcurl transport: " ..
        "total %.3f s, /ping meanwhile %.1f ms", run.total, ping * 1000))
      for _, res in ipairs(run.results) do assert.equal(200, res[1]) end
      assert.is_true(run.total >= 1.15, "total " .. run.total .. " s")
    end)
  end)

  it("reuses connections: far fewer TCP connections than requests", function()
    srv:check(function()
      for _ = 1, 3 do
        local run = srv:parallel{ n = 20, path = "/describe" }
        for _, res in ipairs(run.results) do assert.equal(200, res[1]) end
      end
      for _ = 1, 20 do call("/describe") end
      local st = assert_signed(80)
      local requests, connections = st.counters.requests_total, st.counters.connections
      print(string.format("\n  connection reuse: %d requests over %d TCP connections",
                          requests, connections))
      assert.equal(80, requests)
      assert.is_true(connections <= 25, connections .. " connections")
    end)
  end)
end)

-- (credentials from IMDS inside Nginx: spec/nginx_credentials_spec.lua)

---------------------------------------------------------------------------
-- Part 4: examples/nginx.conf, as the README shows it
---------------------------------------------------------------------------

describe_nginx("examples/nginx.conf", function()
  local fsx_server, srv

  -- the example with the port, the module paths and a 1 s timer period
  local function example_conf(vars)
    local conf = assert(nginx.read_file(nginx.ROOT .. "/examples/nginx.conf"))
    local function sub(from, to)
      local n
      conf, n = conf:gsub(from, function() return to end)
      assert(n == 1, "examples/nginx.conf no longer has: " .. from)
    end
    sub("listen 127%.0%.0%.1:8080;", "listen 127.0.0.1:" .. vars.port .. ";")
    sub('lua_package_path "[^"]*";', 'lua_package_path "' .. vars.root .. "/lua/?.lua;" ..
        vars.root .. '/lua/?/init.lua;;";')
    sub('lua_package_cpath "[^"]*";', 'lua_package_cpath "' .. nginx.build_dir() .. '/?.so;;";')
    sub("worker_processes auto;", "worker_processes 2;")
    if not io.open("/etc/ssl/certs/ca-certificates.crt") then
      sub("lua_ssl_trusted_certificate [^;]*;", "")
    end
    return conf
  end

  -- the environment of the example: the generic AWS_ENDPOINT_URL (the
  -- example must pass it to the workers, or requests go to AWS)
  local function example_env(extra)
    local env = fsx_env(fsx_server)
    env.AWS_ENDPOINT_URL, env.AWS_ENDPOINT_URL_FSX = env.AWS_ENDPOINT_URL_FSX, nil
    for k, v in pairs(extra or {}) do env[k] = v end
    return env
  end

  setup(function()
    -- backups complete at once: the start-up backups do not hold up the others
    fsx_server = helpers.start_fsx_server{ backup_seconds = 0 }
    local err
    srv, err = nginx.start{ conf = example_conf, env = example_env() }
    assert(srv, err)
  end)

  teardown(function()
    if srv then srv:stop() end
    if fsx_server then fsx_server:stop() end
  end)

  it("POST /backup creates a backup and answers its JSON; errors map to statuses", function()
    srv:check(function()
      local status, body = srv:get("/backup?file_system_id=" .. FS_ID .. "&name=readme",
                                   { method = "POST" })
      assert.equal(200, status, body)
      local b = decode(body)
      assert.matches("^backup%-", b.backup_id)
      assert.equal(FS_ID, b.file_system.file_system_id)
      status = srv:get("/backup?file_system_id=" .. FS_ID)
      assert.equal(405, status)
      status, body = srv:get("/backup?file_system_id=" .. MISSING_FS_ID, { method = "POST" })
      assert.equal(400, status)
      assert.equal("FileSystemNotFound", decode(body).error.code)
      status, body = srv:get("/backup?file_system_id=nope", { method = "POST" })
      assert.equal(400, status)
      assert.equal("validation", decode(body).error.kind)
    end)
  end)

  -- the nightly CreateBackup requests: { [file system] = { tokens } }
  local function nightly_requests()
    local seen = {}
    for _, r in ipairs(fsx_server:requests("CreateBackup")) do
      local p = r.params or {}
      for _, tag in ipairs(p.Tags or {}) do
        if tag.Key == "Name" and tag.Value:find("^nightly%-") then
          local list = seen[p.FileSystemId] or {}
          list[#list + 1] = p.ClientRequestToken
          seen[p.FileSystemId] = list
        end
      end
    end
    return seen
  end

  local function wait_nightly(count)
    local seen
    for _ = 1, 100 do
      seen = nightly_requests()
      if seen[FS_ID] and #seen[FS_ID] >= count and seen[OTHER_FS_ID] and #seen[OTHER_FS_ID] >= count then
        break
      end
      nginx.sleep(0.1)
    end
    return seen
  end

  it("the timer backs up every listed file system at start-up, one token per day, again on reload", function()
    srv:check(function()
      local day = os.date("!%Y-%m-%d")
      local seen = wait_nightly(1)
      for _, id in ipairs{ FS_ID, OTHER_FS_ID } do
        assert.is_truthy(seen[id], "no nightly backup of " .. id)
        assert.equal(1, #seen[id], "worker 0 only, once")
        assert.equal("nightly-" .. day .. "-" .. id, seen[id][1])
      end
      local function nightly_backups()
        local n = 0
        for _, b in ipairs(fsx_server:signed_request("DescribeBackups", {}).json.Backups) do
          for _, tag in ipairs(b.Tags or {}) do
            if tag.Key == "Name" and tag.Value == "nightly-" .. day then n = n + 1 end
          end
        end
        return n
      end
      assert.equal(2, nightly_backups())
      -- a reload runs the start-up backups again: the same tokens, no second backups
      local pid = assert(tonumber(nginx.read_file(srv.prefix .. "/logs/nginx.pid"):match("%d+")))
      assert(nginx.execute("kill -HUP " .. pid))
      seen = wait_nightly(2)
      assert.equal(2, #seen[FS_ID])
      assert.equal(seen[FS_ID][1], seen[FS_ID][2])
      assert.equal(2, nightly_backups())
      assert.equal(0, fsx_server:state().counters.bad_signatures)
    end)
  end)

  it("logs a client that cannot be made readably and answers 503", function()
    local bad, err = nginx.start{ conf = example_conf, env = example_env{ AWS_MAX_ATTEMPTS = "lots" } }
    assert(bad, err)
    local ok, e = pcall(function()
      local status, body = bad:get("/backup?file_system_id=" .. FS_ID, { method = "POST" })
      assert.equal(503, status, body)
      assert.equal("NoClient", decode(body).error.code)
      local log = bad:log()
      assert.truthy(log:find("lua%-fsx: cannot create the client: [^\n]*max_attempts"), log)
      assert.is_nil(log:find("unknown error", 1, true), log)
    end)
    bad:stop()
    assert(ok, e)
  end)
end)
