-- Response limits and timeouts against a server that misbehaves on purpose
-- (spec/support/hostile_server.py): a body over the cap (`max_body`, default
-- 8 MiB) is refused with a clean error and not retried, whether announced by
-- Content-Length or streamed chunked; endless headers are refused by the
-- header cap; a server that trickles headers or body forever, stalls in the
-- middle of a body or never answers is cut off by the client's `timeout`,
-- within a bounded time.
local fsx = require "fsx"
local core = require "fsx.core"
local helpers = require "helpers"
local procs = require "support.procs"

local MiB = 1024 * 1024

describe("response limits and timeouts", function()
  local srv

  lazy_setup(function()
    srv = procs.start("hostile_server.py")
  end)

  lazy_teardown(function()
    procs.stop(srv)
  end)

  local function get(path)
    local h = assert(core.http_new())
    local status, _, body = h:perform{ method = "GET", url = srv.url .. path, timeout = 5 }
    h:close()
    assert.equal(200, status)
    return body
  end

  local function requests_seen()
    return tonumber(get("/count"):match('"requests":%s*(%d+)'))
  end

  before_each(function() get("/reset") end)

  -- A client whose endpoint is one behaviour of the hostile server.
  local function client_for(path, opts)
    local o = { region = "us-east-1", endpoint_url = srv.url .. path,
                credentials = helpers.credentials(), retry_base = 0.01, connect_timeout = 2 }
    for k, v in pairs(opts or {}) do o[k] = v end
    return fsx.new(o)
  end

  -- Runs a call; returns the error, the elapsed seconds and the requests the
  -- server saw.
  local function fails(c)
    local t0 = core.monotime()
    local ok, err = pcall(c.describe_backups, c, {})
    local elapsed = core.monotime() - t0
    assert.is_false(ok, "the call succeeded")
    assert.is_true(fsx.is_error(err), tostring(err))
    return err, elapsed, requests_seen()
  end

  it("gives the response headers as a map: lowercase names, repeats joined in order", function()
    local h = assert(core.http_new())
    local status, headers, body = h:perform{ method = "GET", url = srv.url .. "/repeated-headers",
                                            timeout = 5 }
    h:close()
    assert.equal(200, status)
    assert.equal("{}", body)
    assert.equal("a, b, c", headers["x-multi"])
    assert.equal("long", headers["x-" .. string.rep("long", 24) .. "-name"])
    assert.equal("hostile-1", headers["x-amzn-requestid"])
    assert.is_nil(headers["X-Multi"])
  end)

  describe("body cap", function()
    it("accepts a body of exactly max_body bytes", function()
      local out = client_for("/json/1000", { max_body = 1000 }):describe_backups{}
      assert.equal("table", type(out))
      assert.equal(1, requests_seen())
    end)

    it("refuses one byte more, announced by Content-Length, once", function()
      local err, _, seen = fails(client_for("/json/1001", { max_body = 1000 }))
      assert.equal("transport", err.kind)
      assert.equal("ResponseTooLarge", err.code)
      assert.matches("1000 bytes", err.message)
      assert.equal(1, err.attempts)
      assert.is_false(err.retryable)
      assert.equal(1, seen)
    end)

    it("refuses a chunked body over the cap while reading it", function()
      local err, _, seen = fails(client_for("/big-chunked/5000", { max_body = 1000 }))
      assert.equal("transport", err.kind)
      assert.equal("ResponseTooLarge", err.code)
      assert.equal(1, seen)
    end)

    it("has a default cap of 8 MiB: 8 MiB + 1 is refused", function()
      assert.equal(8 * MiB, require("fsx.client").DEFAULTS.max_body)
      local err = fails(client_for("/big/" .. (8 * MiB + 1)))
      assert.equal("ResponseTooLarge", err.code)
      err = fails(client_for("/big-chunked/" .. (8 * MiB + 1)))
      assert.equal("ResponseTooLarge", err.code)
    end)

    it("does not read a huge body to the end: 2 GiB announced or streamed ends at once", function()
      for _, path in ipairs{ "/big/2147483648", "/big-chunked/2147483648" } do
        local err, elapsed = fails(client_for(path, { max_body = 64 * 1024 }))
        assert.equal("ResponseTooLarge", err.code, path)
        assert.is_true(elapsed < 5, path .. " took " .. elapsed .. " s")
      end
    end)
  end)

  describe("header cap", function()
    it("refuses headers that never end, without waiting for the timeout", function()
      local err, elapsed, seen = fails(client_for("/headers-fast", { timeout = 30 }))
      assert.equal("transport", err.kind)
      assert.equal("HeadersTooLarge", err.code)
      assert.equal(1, seen)
      assert.is_true(elapsed < 10, "took " .. elapsed .. " s")
    end)

    it("names one header line that never ends as too large, not as out of memory", function()
      local err, elapsed, seen = fails(client_for("/header-line-endless", { timeout = 30 }))
      assert.equal("transport", err.kind)
      assert.equal("HeadersTooLarge", err.code)
      assert.matches("header", err.message)
      assert.equal(1, seen)
      assert.is_true(elapsed < 10, "took " .. elapsed .. " s")
    end)
  end)

  describe("timeouts (timeout = 1)", function()
    local cases = {
      { "/headers-slow", "header lines trickle forever" },
      { "/body-stall", "the body stops half way" },
      { "/body-trickle", "the body trickles forever" },
      { "/silent", "no answer at all" },
    }
    for _, c in ipairs(cases) do
      it("cuts off " .. c[2] .. " (one attempt)", function()
        local err, elapsed, seen = fails(client_for(c[1], { timeout = 1, max_attempts = 1 }))
        assert.equal("timeout", err.kind, tostring(err))
        assert.equal("CURLE_OPERATION_TIMEDOUT", err.code)
        assert.equal(1, seen)
        assert.is_true(elapsed >= 0.9 and elapsed < 3, "took " .. elapsed .. " s")
      end)
    end

    it("bounds the whole call with retries: attempts x timeout + backoff", function()
      local err, elapsed, seen = fails(client_for("/headers-slow", { timeout = 1, max_attempts = 3,
                                                                      max_backoff = 0.1 }))
      assert.equal("timeout", err.kind)
      assert.equal(3, err.attempts)
      assert.equal(3, seen)
      assert.is_true(elapsed < 3 * 1 + 3, "took " .. elapsed .. " s")
    end)

    it("a deadline caps the call below the attempts' timeouts", function()
      local err, elapsed = fails(client_for("/silent", { timeout = 10, deadline = 1.5,
                                                         max_attempts = 3 }))
      assert.equal("timeout", err.kind)
      assert.is_true(elapsed < 4, "took " .. elapsed .. " s")
    end)
  end)
end)
