-- fsx.url, the one URL parser of the Lua layer: its parts (IPv6 hosts bare,
-- brackets only where they are sent), what it refuses, and an IPv6 loopback
-- endpoint through both transports' ways of connecting.
local url = require "fsx.url"
local helpers = require "helpers"

describe("fsx.url.parse", function()
  it("splits URLs", function()
    local u = assert(url.parse("http://127.0.0.1:8080/a/b?x=1"))
    assert.are.same({ scheme = "http", host = "127.0.0.1", port = 8080, path = "/a/b?x=1",
                      host_header = "127.0.0.1:8080", url = "http://127.0.0.1:8080/a/b?x=1" }, u)
    u = assert(url.parse("https://fsx.us-east-1.amazonaws.com"))
    assert.are.equal(443, u.port)
    assert.are.equal("/", u.path)
    assert.are.equal("fsx.us-east-1.amazonaws.com", u.host_header)
    u = assert(url.parse("https://example.com:443/"))
    assert.are.equal("example.com", u.host_header)
    assert.are.equal("https://example.com/", u.url)
    u = assert(url.parse("http://[fd00:ec2::23]/creds"))
    assert.are.equal("fd00:ec2::23", u.host)
    assert.are.equal("[fd00:ec2::23]", u.host_header)
  end)

  it("gives an IPv6 host without brackets, lowercased, and keeps them in host_header and url", function()
    local u = assert(url.parse("HTTP://[FD00:EC2::23]:8080/Path?Q=A#frag"))
    assert.are.same({ scheme = "http", host = "fd00:ec2::23", port = 8080, path = "/Path?Q=A",
                      host_header = "[fd00:ec2::23]:8080",
                      url = "http://[fd00:ec2::23]:8080/Path?Q=A" }, u)
    u = assert(url.parse("http://[::1]:80?x"))
    assert.are.equal("::1", u.host)
    assert.are.equal("[::1]", u.host_header)
    assert.are.equal("http://[::1]/?x", u.url)
  end)

  it("lowercases a host name, leaves out the default port and normalises the port number", function()
    local u = assert(url.parse("https://FSX.Example.COM:0443"))
    assert.are.equal("fsx.example.com", u.host)
    assert.are.equal("fsx.example.com", u.host_header)
    u = assert(url.parse("http://Example.com:08080/"))
    assert.are.equal(8080, u.port)
    assert.are.equal("example.com:8080", u.host_header)
  end)

  it("refuses what is not an http(s) URL", function()
    for _, bad in ipairs({ "fsx.amazonaws.com", "ftp://x/", "http://", "http://a b/",
                           "http://user@host/", "http://host:99999/", "http://host:x/",
                           "http://[zz]/", "http://[]/", "http://[127.0.0.1]/", "http://[::1]x/",
                           "http://[::1", "http://host:0/", "http://host:/", "http://a:b:c/",
                           "http://" .. ("a"):rep(254) .. "/", "http://h\195\169/", "http://h/\n" }) do
      assert.is_nil((url.parse(bad)), bad)
    end
    assert.is_nil((url.parse(nil)))
    assert.is_nil((url.parse(80)))
  end)

  it("is the parser of endpoint checks, credential sources and configuration", function()
    assert.is_nil(require("fsx.endpoint").parse_url)
    assert.is_nil(require("fsx.util").parse_url)
    local container = require "fsx.credentials.container"
    assert.is_true(container.allowed_host(url.parse("http://[::1]:9/creds").host))
    assert.has_error(function() require("fsx.endpoint").check_custom("http://[::1]x/", "endpoint_url") end)
  end)
end)

describe("an IPv6 loopback endpoint", function()
  local server

  setup(function()
    server = helpers.start_fsx_server{ args = { "--host", "::1" } }
  end)
  teardown(function()
    if server then server:stop() end
  end)

  it("answers through the curl transport (http://[::1]:PORT)", function()
    local fsx = require "fsx"
    local c = fsx.new{ region = "us-east-1", endpoint_url = "http://[::1]:" .. server.port,
                       credentials = helpers.credentials(), max_attempts = 1 }
    local out = c:describe_backups{}
    assert.is_table(out.backups)
    assert.are.equal("[::1]:" .. server.port, c.endpoint.host_header)
    assert.are.equal("::1", c.endpoint.host)
  end)

  it("is connected to by the ngx transport as [::1], with Host [::1]:PORT and no SNI", function()
    local seen = {}
    local function tcp()
      local s = {}
      function s.settimeouts() end
      function s.connect(_, host, port) seen.host, seen.port = host, port return 1 end
      function s.getreusedtimes() return 0 end
      function s.sslhandshake(_, _, sni) seen.sni = sni or false return "session" end
      function s.send(_, data)
        seen.sent = type(data) == "table" and table.concat(data) or data
        s.buf = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
        return #seen.sent
      end
      function s.receive(_, n)
        local out = s.buf:sub(1, n)
        s.buf = s.buf:sub(n + 1)
        return out
      end
      function s.receiveany(_, max)
        if s.buf == "" then return nil, "closed" end
        local out = s.buf:sub(1, max)
        s.buf = s.buf:sub(max + 1)
        return out
      end
      function s.receiveuntil(_, pattern)
        return function()
          local i = s.buf:find(pattern, 1, true)
          if not i then return nil, "closed" end
          local out = s.buf:sub(1, i - 1)
          s.buf = s.buf:sub(i + #pattern)
          if out == "" then return nil end
          return out
        end
      end
      function s.setkeepalive() return 1 end
      function s.close() return 1 end
      return s
    end
    local send = require("fsx.transport.ngx").new{ ngx = { tcp = tcp, now = function() return 0 end } }
    for _, scheme in ipairs{ "http", "https" } do
      local u = assert(url.parse(scheme .. "://[::1]:" .. server.port .. "/"))
      local resp, kind, code, msg = send{ method = "GET", scheme = u.scheme, host = u.host,
                                          port = u.port, path = u.path, timeout = 5 }
      assert(resp, tostring(kind) .. " " .. tostring(code) .. " " .. tostring(msg))
      assert.are.equal("[::1]", seen.host)
      assert.are.equal(server.port, seen.port)
      assert.truthy(seen.sent:find("\r\nHost: [::1]:" .. server.port .. "\r\n", 1, true), seen.sent)
    end
    assert.is_false(seen.sni)
  end)
end)

local nginx = require "spec.support.nginx"
local describe_nginx = nginx.describe_nginx(describe, pending)

describe_nginx("an IPv6 loopback endpoint inside a real Nginx", function()
  local server, srv

  setup(function()
    server = helpers.start_fsx_server{ args = { "--host", "::1" } }
    local creds = helpers.credentials()
    local err
    srv, err = nginx.start{ server = string.format([[
        location = /transport {
            content_by_lua_block {
                local u = assert(require("fsx.url").parse("http://[::1]:%d/"))
                local send = require("fsx.transport.ngx").new()
                local resp, kind, code, msg = send{ method = "GET", scheme = u.scheme, host = u.host,
                                                    port = u.port, path = u.path, timeout = 5 }
                ngx.say(resp and ("status " .. resp.status) or (kind .. " " .. code .. " " .. msg))
            }
        }
        location = /client {
            content_by_lua_block {
                local c = require("fsx").new{ region = "us-east-1", transport = "ngx",
                  endpoint_url = "http://[::1]:%d",
                  credentials = { access_key_id = %q, secret_access_key = %q } }
                local ok, out = pcall(c.describe_backups, c, {})
                ngx.say(ok and ("backups " .. #out.backups) or tostring(out))
            }
        }
    ]], server.port, server.port, creds.access_key_id, creds.secret_access_key) }
    assert(srv, err)
  end)

  teardown(function()
    if srv then srv:stop() end
    if server then server:stop() end
  end)

  it("the ngx transport connects to a host fsx.url gives bare (::1)", function()
    local status, body = srv:get("/transport")
    assert.equal(200, status, body)
    assert.matches("^status %d%d%d", body)
  end)

  it("a client on http://[::1]:PORT answers through cosockets", function()
    local status, body = srv:get("/client")
    assert.equal(200, status, body)
    assert.matches("^backups %d+", body)
  end)
end)
