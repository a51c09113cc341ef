-- fsx.core, the C binding, called directly: argument errors are Lua errors
-- (never crashes), the http handle's lifecycle (close, double close, use
-- after close, __gc after close, __close under Lua 5.4), and the small
-- utilities against known answers (FIPS 180-2 SHA-256, RFC 4231 HMAC-SHA256).
-- Runs under lua5.4 and LuaJIT; the `<close>` test is compiled with load()
-- so that LuaJIT can still parse this file.
local core = require "fsx.core"
local helpers = require "helpers"

local function hex(s)
  return (s:gsub(".", function(c) return string.format("%02x", c:byte()) end))
end

-- a call that must raise a plain Lua error (not return, not crash)
local function raises(pattern, f, ...)
  local ok, err = pcall(f, ...)
  assert.is_false(ok, "expected an error")
  assert.equal("string", type(err))
  if pattern then assert.matches(pattern, err) end
  return err
end

local SIGN = {
  method = "POST", path = "/", query = "", body = "{}",
  headers = { { "Host", "fsx.us-east-1.amazonaws.com" } },
  region = "us-east-1", service = "fsx", access_key_id = "AKIDEXAMPLE",
  secret_access_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", amz_date = "20150830T123600Z",
}

local function with(base, k, v)
  local t = {}
  for key, x in pairs(base) do t[key] = x end
  t[k] = v
  return t
end

describe("fsx.core", function()
  it("is the module the binding exports", function()
    assert.equal("fsx.core", core._NAME)
    for _, f in ipairs{ "sign", "key_derivations", "http_new", "random_bytes", "sha256_hex", "sha1_hex", "write_private",
                        "hmac_sha256", "time", "monotime", "sleep", "isatty" } do
      assert.equal("function", type(core[f]), f)
    end
  end)

  describe("sign", function()
    it("signs a well-formed request", function()
      local r = assert(core.sign(SIGN))
      assert.matches("^AWS4%-HMAC%-SHA256 Credential=AKIDEXAMPLE/20150830/us%-east%-1/fsx/aws4_request",
                     r.authorization)
      assert.equal(64, #r.signature)
      assert.equal("table", type(r.headers))
    end)

    -- nil, "validation", "InvalidField", "<field> <what>", field
    local function refused(field, what, req)
      local r, kind, code, msg, f = core.sign(req)
      assert.is_nil(r, field)
      assert.equal("validation", kind, field)
      assert.equal("InvalidField", code, field)
      assert.equal(field .. " " .. what, msg)
      assert.equal(field, f)
    end

    it("raises Lua errors for a missing request table only", function()
      raises(nil, core.sign)
      raises(nil, core.sign, "POST")
    end)

    it("returns a validation failure naming the field of a wrong type", function()
      refused("method", "must be a non-empty string", {})
      for _, k in ipairs{ "method", "path", "region", "service", "access_key_id",
                          "secret_access_key" } do
        refused(k, "must be a non-empty string", with(SIGN, k, nil))
        refused(k, "must be a non-empty string", with(SIGN, k, ""))
        refused(k, "must be a non-empty string", with(SIGN, k, 1))
        refused(k, "must be a non-empty string", with(SIGN, k, {}))
        refused(k, "must be a non-empty string", with(SIGN, k, true))
      end
      for _, k in ipairs{ "query", "body", "payload_hash", "session_token", "amz_date" } do
        refused(k, "must be a string", with(SIGN, k, 5))
        refused(k, "must be a string", with(SIGN, k, function() end))
      end
      for _, k in ipairs{ "normalize_path", "sign_body", "omit_session_token", "stages" } do
        refused(k, "must be a boolean", with(SIGN, k, "yes"))
        refused(k, "must be a boolean", with(SIGN, k, 0))
      end
    end)

    it("gives only authorization, amz_date and headers with stages = false", function()
      local full = assert(core.sign(SIGN))
      local lean = assert(core.sign(with(SIGN, "stages", false)))
      local keys = {}
      for k in pairs(lean) do keys[#keys + 1] = k end
      table.sort(keys)
      assert.are.same({ "amz_date", "authorization", "headers" }, keys)
      assert.equal(full.authorization, lean.authorization)
      assert.are.same(full.headers, lean.headers)
      assert.is_string(full.canonical_request)
      assert.equal(64, #full.payload_hash)
    end)

    it("takes the date from time when amz_date is absent", function()
      local want = assert(core.sign(SIGN))
      local r = assert(core.sign(with(with(SIGN, "amz_date", nil), "time", 1440938160)))
      assert.equal(SIGN.amz_date, r.amz_date)
      assert.equal(want.signature, r.signature)
      r = assert(core.sign(with(with(SIGN, "amz_date", nil), "time", SIGN.amz_date)))
      assert.equal(want.signature, r.signature)
      r = assert(core.sign(with(SIGN, "amz_date", nil)))
      assert.equal(os.date("!%Y%m%dT", os.time()), r.amz_date:sub(1, 9))
      local bad = "must be epoch seconds or \"YYYYMMDDTHHMMSSZ\""
      refused("time", bad, with(with(SIGN, "amz_date", nil), "time", "20150830T123600"))
      refused("time", bad, with(with(SIGN, "amz_date", nil), "time", "2015083XT123600Z"))
      refused("time", bad, with(with(SIGN, "amz_date", nil), "time", {}))
      for _, t in ipairs{ -1, 0 / 0, math.huge, 253402300800 } do
        refused("time", "must be epoch seconds in range", with(with(SIGN, "amz_date", nil), "time", t))
      end
    end)

    it("returns a validation failure for malformed header lists", function()
      local pairs_msg = "must be a {name, value} pair of strings"
      refused("headers", "must be a table of {name, value} pairs", with(SIGN, "headers", "Host: x"))
      refused("headers[1]", pairs_msg, with(SIGN, "headers", { "Host: x" }))
      refused("headers[2]", pairs_msg, with(SIGN, "headers", { { "Host", "x" }, { 1, 2 } }))
      refused("headers[1]", pairs_msg, with(SIGN, "headers", { { "Host" } }))
      refused("headers[1]", pairs_msg, with(SIGN, "headers", { { "Host", {} } }))
      local mixed = "must be an array of {name, value} pairs (it mixes pairs with named keys, or has holes)"
      refused("headers", mixed, with(SIGN, "headers", { { "Host", "x" }, Extra = "y" }))
      refused("headers", mixed, with(SIGN, "headers", { [1] = { "Host", "x" }, [3] = { "A", "b" } }))
    end)

    it("never runs metamethods of the request (raw reads)", function()
      local mt = { __index = function() error("metamethod ran") end }
      local req = setmetatable(with(SIGN, "headers", setmetatable({ { "Host", "h" } }, mt)), mt)
      assert.truthy(core.sign(req))
      -- a field only reachable through __index is missing, not read
      refused("region", "must be a non-empty string", setmetatable(with(SIGN, "region", nil),
        { __index = { region = "us-east-1" } }))
    end)

    it("refuses NUL bytes in fields handed on as C strings", function()
      for _, k in ipairs{ "method", "region", "service", "access_key_id", "secret_access_key",
                          "session_token", "amz_date", "payload_hash" } do
        local r, kind, code, msg = core.sign(with(SIGN, k, (SIGN[k] or "x") .. "\0tail"))
        assert.is_nil(r, k)
        assert.equal("validation", kind)
        assert.equal("InvalidField", code)
        assert.equal(k .. " holds a NUL byte", msg)
      end
    end)

    it("returns nil, kind, code, message for a request the signer refuses", function()
      local r, kind, code, msg = core.sign(with(SIGN, "headers", { { "X-A", "v" } }))
      assert.is_nil(r)
      assert.equal("validation", kind)
      assert.equal("string", type(code))
      assert.equal("string", type(msg))
    end)

    it("survives many signatures and header lists of changing sizes", function()
      local before = core.key_derivations()
      for i = 1, 300 do
        local headers = { { "Host", "h" } }
        for j = 1, i % 40 do headers[#headers + 1] = { "X-H" .. j, string.rep("v", j) } end
        assert.truthy(core.sign(with(SIGN, "headers", headers)))
      end
      -- one key for the day/region/service/secret
      assert.is_true(core.key_derivations() - before <= 1)
      collectgarbage()
    end)
  end)

  describe("http handle", function()
    local server

    lazy_setup(function() server = helpers.start_fsx_server() end)
    lazy_teardown(function() if server then server:stop() end end)

    local function state_req(extra)
      local r = { method = "GET", url = server.url .. "/_fsx/state", timeout = 10,
                  connect_timeout = 5, headers = { { "Accept", "application/json" } } }
      for k, v in pairs(extra or {}) do r[k] = v end
      return r
    end

    -- any allocation may run a __gc finalizer; one that sends on the same
    -- handle while perform copies its answer out must not change that answer
    -- (it is refused: HandleBusy) (spec/support/reentrant.lua, against
    -- raw_http_server.py's /echo and /repeat)
    it("keeps each answer its own when a finalizer sends on the same handle meanwhile", function()
      local procs = require "support.procs"
      local raw = procs.start("raw_http_server.py")
      local ok, calls, nested, outer_bad, inner_bad, out =
        pcall(helpers.reentrant, "perform", raw.url .. "/echo", raw.url .. "/repeat")
      procs.stop(raw)
      assert(ok, calls)
      assert.is_true(nested > 0, "no finalizer sent inside a perform: " .. out)
      assert.same({ 0, 0 }, { outer_bad, inner_bad }, out)
    end)

    -- a finalizer that closes the handle while a perform reads its request or
    -- copies its answer: the perform finishes on live memory (ASan-checked under
    -- make asan-busted), then the handle is closed
    it("finishes a perform whose handle a finalizer closes meanwhile", function()
      local procs = require "support.procs"
      local raw = procs.start("raw_http_server.py")
      local ok, calls, nested, outer_bad, inner_bad, out =
        pcall(helpers.reentrant, "perform_close", raw.url .. "/echo")
      procs.stop(raw)
      assert(ok, calls)
      assert.is_true(nested > 0, "no finalizer closed the handle inside a perform: " .. out)
      assert.same({ 0, 0 }, { outer_bad, inner_bad }, out)
    end)

    it("performs a request and reuses its connection", function()
      local h = assert(core.http_new())
      local status, headers, body, conns = h:perform(state_req())
      assert.equal(200, status)
      assert.equal("table", type(headers))
      assert.is_nil(headers[1])
      assert.matches("json", headers["content-type"])
      assert.matches("requests_total", body)
      assert.equal(1, conns)
      local status2, _, _, conns2 = h:perform(state_req())
      assert.equal(200, status2)
      assert.equal(0, conns2)
      h:close()
    end)

    it("raises Lua errors for wrong argument types", function()
      local h = assert(core.http_new())
      raises(nil, h.perform, h)
      raises(nil, h.perform, h, "GET http://x/")
      raises(nil, h.perform, "not a handle", state_req())
      raises(nil, h.perform, {}, state_req())
      raises("'method' is required", h.perform, h, { url = server.url })
      raises("'url' is required", h.perform, h, { method = "GET" })
      raises("'url' must be a string", h.perform, h, state_req{ url = 80 })
      raises("'body' must be a string", h.perform, h, state_req{ body = {} })
      raises("'ca_file' must be a string", h.perform, h, state_req{ ca_file = true })
      raises("'insecure' must be a boolean", h.perform, h, state_req{ insecure = 1 })
      raises("'timeout' must be a number", h.perform, h, state_req{ timeout = "10" })
      raises("'timeout' must be a non%-negative number", h.perform, h, state_req{ timeout = 0 / 0 })
      raises("'connect_timeout' must be a non%-negative number", h.perform, h,
             state_req{ connect_timeout = -1 })
      raises("'max_body' must be a non%-negative number", h.perform, h, state_req{ max_body = -5 })
      raises("'headers' must be an array", h.perform, h, state_req{ headers = "Accept: */*" })
      raises("headers%[1%]", h.perform, h, state_req{ headers = { "Accept: */*" } })
      raises("headers%[1%]", h.perform, h, state_req{ headers = { { "Accept", 1 } } })
      -- the handle still works after all that
      assert.equal(200, (h:perform(state_req())))
      h:close()
    end)

    it("reports refused requests as nil, kind, code, message", function()
      local h = assert(core.http_new())
      local cases = {
        { state_req{ method = "HEAD" }, "InvalidMethod" },
        { state_req{ method = "GET\r\nX: y" }, "InvalidMethod" },
        { state_req{ method = "" }, "InvalidMethod" },
        { state_req{ method = "GET\0" }, "InvalidField" },
        { state_req{ url = server.url .. "/\0/evil" }, "InvalidField" },
        { state_req{ ca_file = "/etc/ssl\0x" }, "InvalidField" },
        { state_req{ headers = { { "X-A", "a\r\nX-Injected: 1" } } }, "InvalidHeader" },
        { state_req{ headers = { { "X-A\r\nX-Injected", "1" } } }, "InvalidHeader" },
        { state_req{ headers = { { "X-A:B", "1" } } }, "InvalidHeader" },
        -- the signer's rules on the HTTP path too: names are tokens, no control characters
        { state_req{ headers = { { "X A", "1" } } }, "InvalidHeader" },
        { state_req{ headers = { { "X-A", "a\1b" } } }, "InvalidHeader" },
        { state_req{ headers = { { "", "1" } } }, "InvalidHeader" },
        { state_req{ headers = { { "X-A", "a\0b" } } }, "InvalidHeader" },
      }
      for i, c in ipairs(cases) do
        local status, kind, code, msg = h:perform(c[1])
        assert.is_nil(status, "case " .. i)
        assert.equal("validation", kind, "case " .. i)
        assert.equal(c[2], code, "case " .. i)
        assert.equal("string", type(msg), "case " .. i)
      end
      -- a URL libcurl cannot use is a transport failure, not a crash
      for _, url in ipairs{ "ftp://127.0.0.1/", "http://[::1", "not a url", "http://127.0.0.1:0/",
                            "http://127.0.0.1/\r\nX: y" } do
        local status, kind, code = h:perform(state_req{ url = url, timeout = 2 })
        assert.is_nil(status, url)
        assert.truthy(kind == "transport" or kind == "validation", url .. ": " .. tostring(kind))
        assert.equal("string", type(code))
      end
      assert.equal(200, (h:perform(state_req())))
      h:close()
    end)

    it("takes huge limits and timeouts without undefined conversions", function()
      local h = assert(core.http_new())
      for _, v in ipairs{ 2 ^ 63, 2 ^ 64, 1e308, math.huge } do
        local status = h:perform(state_req{ max_body = v, max_header_bytes = v, timeout = v,
                                            connect_timeout = v })
        assert.equal(200, status)
      end
      -- a tiny cap refuses the body cleanly (kind too_large: the Lua layer
      -- reports it as a transport error)
      local status, kind, code = h:perform(state_req{ max_body = 10 })
      assert.is_nil(status)
      assert.equal("too_large", kind)
      assert.equal("ResponseTooLarge", code)
      h:close()
    end)

    it("closes: close() twice is fine, use after close raises 'closed'", function()
      do
        local h = assert(core.http_new())
        h:close()
        h:close()
        raises("closed", h.perform, h, state_req())
        h:close()
      end
      -- __gc after close does nothing more
      collectgarbage()
      collectgarbage()
    end)

    it("is freed by __gc with or without a request, many times over", function()
      for i = 1, 200 do
        local h = assert(core.http_new())
        if i % 50 == 0 then assert.equal(200, (h:perform(state_req()))) end
        if i % 3 == 0 then h:close() end
      end
      collectgarbage()
      collectgarbage()
    end)

    it("is closed by a <close> variable under Lua 5.4", function()
      if _VERSION ~= "Lua 5.4" or rawget(_G, "jit") then return end
      local chunk = assert(load([[
        local core = ...
        local kept
        do
          local h <close> = assert(core.http_new())
          kept = h
        end
        return kept
      ]]))
      local h = chunk(core)
      raises("closed", h.perform, h, state_req())
      h:close()
      -- an error inside the block still closes the handle
      local failing = assert(load([[
        local core, out = ...
        local h <close> = assert(core.http_new())
        out.h = h
        error("inside")
      ]]))
      local out = {}
      assert.is_false(pcall(failing, core, out))
      raises("closed", out.h.perform, out.h, state_req())
    end)

    it("has one metatable: handles are not interchangeable with other userdata", function()
      local h = assert(core.http_new())
      raises(nil, h.close, io.stdout)
      raises(nil, h.perform, io.stdout, state_req())
      assert.is_nil(getmetatable(h).perform)
      assert.equal("function", type(getmetatable(h).__index.perform))
      h:close()
    end)
  end)

  it("offers sign_ffi under LuaJIT only (raw pointers are for the FFI)", function()
    assert.equal(rawget(_G, "jit") ~= nil, core.sign_ffi ~= nil)
  end)

  it("no longer has convert (fsx.shape converts answers in Lua)", function()
    assert.is_nil(core.convert)
  end)

  describe("signals", function()
    -- a child catches the signals, then waits on a server that never answers
    -- (timeout 30 s); the signal must end the wait with INTERRUPTED, and the
    -- child's next perform must fail the same way without sending
    local function interrupted_by(signal)
      local procs = require "support.procs"
      local raw = procs.start("raw_http_server.py")
      local dir = helpers.tmpdir()
      local ready, out = dir .. "/ready", dir .. "/out"
      os.execute(helpers.lua_command("spec/support/interrupt.lua", raw.url .. "/hang", ready)
        .. " > " .. helpers.q(out) .. " 2>&1 &")
      local pid, text
      for _ = 1, 400 do
        pid = helpers.read_file(ready)
        if pid then break end
        helpers.sleep(0.05)
      end
      if pid then
        helpers.sleep(0.3) -- the child is in its perform by now
        os.execute("kill -" .. signal .. " " .. pid)
        for _ = 1, 400 do
          text = helpers.read_file(out)
          if text and text:find("caught") then break end
          helpers.sleep(0.05)
        end
      end
      procs.stop(raw)
      helpers.rmdir(dir)
      assert(pid, "the child never got ready")
      return text
    end

    for _, case in ipairs{ { "INT", 2 }, { "TERM", 15 }, { "HUP", 1 } } do
      it("SIG" .. case[1] .. " stops a perform in flight with INTERRUPTED, not a retry", function()
        local text = interrupted_by(case[1])
        assert.matches("first nil transport INTERRUPTED second transport INTERRUPTED caught "
          .. case[2], text, 1, true)
      end)
    end

    it("INTERRUPTED is a transport failure the client never retries", function()
      assert.is_false((require("fsx.retry").classify{ kind = "transport", code = "INTERRUPTED" }))
    end)

    it("caught_signal is nil when none was caught", function()
      assert.is_nil(core.caught_signal())
    end)
  end)

  describe("utilities", function()
    it("random_bytes: 0..256 bytes, anything else is an error", function()
      assert.equal("", core.random_bytes(0))
      assert.equal(1, #core.random_bytes(1))
      assert.equal(256, #core.random_bytes(256))
      assert.are_not.equal(core.random_bytes(32), core.random_bytes(32))
      raises("0%.%.256", core.random_bytes, 257)
      raises("0%.%.256", core.random_bytes, -1)
      raises(nil, core.random_bytes, "x")
      if rawget(math, "type") then
        -- (Lua 5.1's luaL_checkinteger, LuaJIT's too, truncates instead)
        raises(nil, core.random_bytes, 2 ^ 63)
        raises(nil, core.random_bytes, 1.5)
      end
      raises(nil, core.random_bytes)
    end)

    it("write_private: replaces a file whole, owner-only", function()
      local d = os.tmpname()
      os.remove(d)
      os.execute("mkdir -p " .. d)
      local path = d .. "/token.json"
      local f = assert(io.open(path, "w"))
      f:write("old contents, longer than the new ones")
      f:close()
      os.execute("chmod 644 " .. path)
      assert.is_true(core.write_private(path, "new\0bytes"))
      f = assert(io.open(path, "rb"))
      assert.equal("new\0bytes", f:read("*a"))
      f:close()
      local p = io.popen("stat -c %a " .. path)
      assert.equal("600", p:read("*l"))
      p:close()
      local ok, msg = core.write_private(d .. "/missing/dir/x.json", "x")
      assert.is_nil(ok)
      assert.matches("No such file or directory", msg)
      raises("NUL", core.write_private, path .. "\0x", "x")
      os.execute("rm -rf " .. d)
    end)

    it("sha1_hex: FIPS 180 answers (names of the SSO token cache files)", function()
      assert.equal("da39a3ee5e6b4b0d3255bfef95601890afd80709", core.sha1_hex(""))
      assert.equal("a9993e364706816aba3e25717850c26c9cd0d89d", core.sha1_hex("abc"))
      assert.equal("84983e441c3bd26ebaae4aa1f95129e5e54670f1",
                   core.sha1_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"))
      raises(nil, core.sha1_hex, {})
    end)

    it("sha256_hex: FIPS 180-2 answers", function()
      assert.equal("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", core.sha256_hex(""))
      assert.equal("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", core.sha256_hex("abc"))
      assert.equal("248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
                   core.sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"))
      assert.equal("cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0",
                   core.sha256_hex(string.rep("a", 1000000)))
      assert.equal(64, #core.sha256_hex("a\0b"))
      raises(nil, core.sha256_hex)
      raises(nil, core.sha256_hex, {})
    end)

    it("hmac_sha256: RFC 4231 test cases 1, 2 and 6", function()
      assert.equal("b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
                   hex(core.hmac_sha256(string.rep("\11", 20), "Hi There")))
      -- test case 2: a key shorter than the block
      assert.equal("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
                   hex(core.hmac_sha256("Jefe", "what do ya want for nothing?")))
      -- test case 6: a key longer than the block is hashed first
      assert.equal("60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
                   hex(core.hmac_sha256(string.rep("\170", 131),
                                        "Test Using Larger Than Block-Size Key - Hash Key First")))
      assert.equal(32, #core.hmac_sha256("", ""))
      raises(nil, core.hmac_sha256, "key")
      raises(nil, core.hmac_sha256, nil, "data")
      raises(nil, core.hmac_sha256, {}, "data")
    end)

    it("time is the epoch, monotime never goes back", function()
      assert.is_true(math.abs(core.time() - os.time()) < 2)
      local last = core.monotime()
      for _ = 1, 10000 do
        local t = core.monotime()
        assert(t >= last, "monotime went back")
        last = t
      end
    end)

    it("sleep returns true after about the time asked; odd values return at once", function()
      local t0 = core.monotime()
      assert.is_true(core.sleep(0.05))
      local dt = core.monotime() - t0
      assert.is_true(dt >= 0.045 and dt < 2, "slept " .. dt)
      t0 = core.monotime()
      for _, v in ipairs{ 0, -1, -math.huge, 0 / 0 } do assert.is_true(core.sleep(v)) end
      assert.is_true(core.monotime() - t0 < 0.5)
      raises(nil, core.sleep, "soon")
      raises(nil, core.sleep)
    end)

    it("isatty: booleans for any integer", function()
      for _, fd in ipairs{ 0, 1, 2, -1, 1023, 1024, 99999, 2 ^ 40 } do
        assert.equal("boolean", type(core.isatty(fd)), tostring(fd))
      end
      assert.is_false(core.isatty(-1))
      assert.is_false(core.isatty(99999))
      raises(nil, core.isatty, "stdout")
      if rawget(math, "type") then raises(nil, core.isatty, 0.5) end  -- 5.1 API: truncated
    end)
  end)
end)
