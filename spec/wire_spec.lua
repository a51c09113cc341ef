-- Answers a real network, proxy or service can give, byte for byte, from
-- spec/support/wire_server.py over real sockets and the libcurl transport:
-- an answer cut off at any byte, a 2xx that parses but carries no result (or
-- another resource's), and a service quoting the caller's secrets in other
-- spellings (percent-encoded, JSON-escaped, wrapped over lines, cut short).
-- No such answer is ever a success; each is retried with the same
-- ClientRequestToken and invocation id; no secret reaches an error or the
-- debug hook.
local fsx = require "fsx"
local procs = require "support.procs"
local answers = require "support.wire"

local FS, BACKUP, CT, CREATED = answers.FS, answers.BACKUP, answers.CT, answers.CREATED
local response, ok_json = answers.response, answers.ok_json

describe("answers off the wire", function()
  local srv

  lazy_setup(function() srv = procs.start("wire_server.py") end)
  lazy_teardown(function() if srv then procs.stop(srv) end end)

  -- steps: list of { raw =, ["then"] = } (see wire_server.py)
  local function script(steps) answers.script(srv, steps) end

  local function requests() return procs.stats(srv).log end

  -- Tests make hundreds of clients: each new one closes the last one's
  -- connection (a closed client reconnects if used again), so the server and
  -- the specs stay within an ordinary user's 1024 descriptors.
  local last
  local function client(extra)
    if last then last:close() end
    local o = { region = "us-east-1", endpoint_url = srv.url .. "/", max_attempts = 3,
                credentials = { access_key_id = "AKIDEXAMPLE",
                                secret_access_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY" },
                sleep = function() end, timeout = 5, connect_timeout = 2 }
    for k, v in pairs(extra or {}) do o[k] = v end
    last = fsx.new(o)
    return last
  end

  -- Every request of the call carried one token and one invocation id.
  local function assert_same_call(log, n, where)
    assert(#log == n, ("%s: %d requests, not %d"):format(where or "the call", #log, n))
    for i = 2, #log do
      assert.equal(log[1].invocation_id, log[i].invocation_id)
      assert.equal(log[1].client_request_token, log[i].client_request_token)
    end
  end

  local CALLS = {
    create_backup = function(c) return c:create_backup{ file_system_id = FS } end,
    delete_backup = function(c) return c:delete_backup{ backup_id = BACKUP } end,
    describe_backups = function(c) return c:describe_backups{} end,
    call_delete = function(c) return c:call("DeleteBackup", { BackupId = BACKUP }) end,
    call_describe = function(c) return c:call("DescribeBackups", {}) end,
  }

  describe("a 2xx that is no result is a decode error, retried with the same token", function()
    local bodies = { "", "{}", "null", "[]", '"{}"', "  [ ]  ", '{"Unknown":1}' }
    for name, call in pairs(CALLS) do
      for _, body in ipairs(bodies) do
        it(name .. " answered " .. ("%q"):format(body), function()
          script{ { raw = ok_json(body) } }
          local ok, err = pcall(call, client())
          assert.is_false(ok, "taken as a success")
          assert.is_true(fsx.is_error(err), tostring(err))
          assert.equal("decode", err.kind)
          assert.equal("InvalidResponse", err.code)
          assert.equal(3, err.attempts)
          assert_same_call(requests(), 3)
        end)
      end
    end

    it("a listing whose list is null", function()
      script{ { raw = ok_json('{"Backups":null,"NextToken":null}') } }
      local ok, err = pcall(CALLS.describe_backups, client())
      assert.is_false(ok)
      assert.equal("InvalidResponse", err.code)
    end)

    it("a DeleteBackup answer naming another backup (a mixed-up answer)", function()
      for _, call in ipairs{ CALLS.delete_backup, CALLS.call_delete } do
        script{ { raw = ok_json('{"BackupId":"backup-0fedcba9876543210","Lifecycle":"DELETED"}') } }
        local ok, err = pcall(call, client())
        assert.is_false(ok, "another backup's deletion taken as this one's")
        assert.equal("InvalidResponse", err.code)
        assert.truthy(err.message:find("backup-0fedcba9876543210", 1, true))
        assert_same_call(requests(), 3)
      end
    end)

    it("recovers when the retry brings the result", function()
      script{ { raw = ok_json("{}") }, { raw = ok_json(CREATED) } }
      local backup, meta = CALLS.create_backup(client())
      assert.equal(BACKUP, backup.backup_id)
      assert.equal(2, meta.attempts)
      assert_same_call(requests(), 2)
      script{ { raw = ok_json("{}") }, { raw = ok_json('{"BackupId":"' .. BACKUP .. '","Lifecycle":"DELETED"}') } }
      local out = CALLS.delete_backup(client())
      assert.equal(BACKUP, out.backup_id)
    end)
  end)

  describe("an answer nobody asked for, left on a kept-alive connection", function()
    local function answer(id)
      local at = CREATED:find(BACKUP, 1, true)
      return ok_json(CREATED:sub(1, at - 1) .. id .. CREATED:sub(at + #BACKUP))
    end
    local STALE, FRESH = "backup-0bbbbbbbbbbbbbbbb", "backup-0cccccccccccccccc"

    local function second_answer(first_step)
      script{ first_step, { raw = answer(FRESH) } }
      local c = client()
      assert.equal(BACKUP, CALLS.create_backup(c).backup_id)
      require("fsx.clock").sleep(0.2)
      return CALLS.create_backup(c).backup_id
    end

    it("in the same write as the answer, is never the next call's answer", function()
      assert.equal(FRESH, second_answer{ raw = answer(BACKUP) .. answer(STALE), ["then"] = "keep" })
    end)

    it("after the answer, is never the next call's answer", function()
      -- the unasked answer is waiting on the idle connection when the second
      -- call starts; that call goes out once, on a new connection
      local got = second_answer{ raw = answer(BACKUP), extra = answer(STALE), extra_after = 0.05,
                                 ["then"] = "keep" }
      assert.equal(FRESH, got)
      local log = requests()
      assert.equal(2, #log)
      assert.are_not.equal(log[1].client_request_token, log[2].client_request_token)
    end)
  end)

  describe("a CreateBackup answer cut off at any byte", function()
    local framings = {
      ["Content-Length"] = ok_json(CREATED),
      chunked = response("200 OK", { CT, "Transfer-Encoding: chunked" },
                         ("%x\r\n%s\r\n0\r\n\r\n"):format(#CREATED, CREATED)),
    }
    for framing, full in pairs(framings) do
      it("framed by " .. framing .. ": never a success, the same token on every attempt", function()
        for n = 0, #full - 1 do
          script{ { raw = full:sub(1, n) } }
          -- a new client each time: the retry quota of one would run out
          local ok, err = pcall(CALLS.create_backup, client())
          -- only (part of) the blank line ending the chunked trailers may be
          -- missing from an answer taken: the last chunk came, the body is whole
          if ok and framing == "chunked" and n >= #full - 2 then
            assert.equal(BACKUP, err.backup_id)
            break
          end
          assert(not ok, "cut at byte " .. n .. " taken as a success")
          assert(err.retryable and err.attempts == 3, "cut at byte " .. n .. ": " .. tostring(err))
          assert_same_call(requests(), 3, "cut at byte " .. n)
        end
        script{ { raw = full } }
        assert.equal(BACKUP, CALLS.create_backup(client()).backup_id)
      end)
    end
  end)

  describe("a load balancer's or proxy's own answer", function()
    local function html(status)
      local page = "<html><body><h1>" .. status .. "</h1></body></html>"
      return response(status, { "Content-Type: text/html", "Content-Length: " .. #page }, page)
    end

    it("a 429, 502, 503 or 504 HTML page is retried, with the same token, as throttling or a fault", function()
      for _, status in ipairs{ "429 Too Many Requests", "502 Bad Gateway", "503 Service Unavailable",
                               "504 Gateway Timeout" } do
        script{ { raw = html(status) }, { raw = ok_json(CREATED) } }
        local backup, meta = CALLS.create_backup(client())
        assert.equal(BACKUP, backup.backup_id)
        assert.equal(2, meta.attempts, status)
        assert_same_call(requests(), 2)
        script{ { raw = html(status) } }
        local ok, err = pcall(CALLS.create_backup, client())
        assert.is_false(ok)
        assert.equal("HTTP" .. status:sub(1, 3), err.code)
        assert.is_true(err.retryable)
        assert.equal(3, err.attempts)
      end
    end)

    it("a 407 from a proxy, or a 200 HTML page, is never a success", function()
      script{ { raw = html("407 Proxy Authentication Required") } }
      local ok, err = pcall(CALLS.create_backup, client())
      assert.is_false(ok)
      assert.equal("HTTP407", err.code)
      script{ { raw = html("200 OK") } }
      ok, err = pcall(CALLS.delete_backup, client())
      assert.is_false(ok)
      assert.equal("InvalidResponse", err.code)
    end)
  end)

  describe("an error answer", function()
    local function error_answer(body, extra)
      local headers = { CT, "Content-Length: " .. #body }
      for _, h in ipairs(extra or {}) do headers[#headers + 1] = h end
      return response("400 Bad Request", headers, body)
    end

    it("with a message of megabytes keeps its first 4 KiB", function()
      script{ { raw = error_answer('{"__type":"BadRequest","message":"' .. ("m"):rep(7000000) .. '"}') } }
      local ok, err = pcall(CALLS.create_backup, client())
      assert.is_false(ok)
      assert.equal("BadRequest", err.code)
      assert.is_true(#err.message < 4200, #err.message)
      assert.truthy(err.message:find("7000000 bytes", 1, true))
    end)

    it("whose code holds control characters, or is huge, has no code from it", function()
      for _, t in ipairs{ "com.amazon#Bad\\nRequest:http://x", "Bad\\u0000Request", ("X"):rep(100000) } do
        script{ { raw = error_answer('{"__type":"' .. t .. '","message":"no"}',
                                     { "x-amzn-ErrorType: BadRequest:http://internal.amazon.com/" }) } }
        local ok, err = pcall(CALLS.create_backup, client())
        assert.is_false(ok)
        -- the header's code, the body's being no code
        assert.equal("BadRequest", err.code)
        script{ { raw = error_answer('{"__type":"' .. t .. '","message":"no"}') } }
        ok, err = pcall(CALLS.create_backup, client())
        assert.equal("HTTP400", err.code)
      end
    end)
  end)

  describe("a listing", function()
    local function page(ids, token)
      local items = {}
      for i, id in ipairs(ids) do
        items[i] = ('{"BackupId":"%s","Lifecycle":"AVAILABLE","Type":"USER_INITIATED",'
          .. '"CreationTime":1700000000,"FileSystem":{"FileSystemId":"%s"}}'):format(id, FS)
      end
      local body = '{"Backups":[' .. table.concat(items, ",") .. "]"
        .. (token and (',"NextToken":"' .. token .. '"') or "") .. "}"
      return { raw = ok_json(body) }
    end

    it("handing out a token the API refuses ends with a decode error, not the caller's validation error", function()
      for _, token in ipairs{ "not base64!", ("QUFB"):rep(100), ("QUFB"):rep(500000) } do
        script{ page({ BACKUP }, token), page({ BACKUP }) }
        local seen = {}
        local ok, err = pcall(function()
          for b in client():each_backup{} do seen[#seen + 1] = b.backup_id end
        end)
        assert.is_false(ok)
        assert.equal("decode", err.kind)
        assert.equal("InvalidResponse", err.code)
        assert.same({ BACKUP }, seen)
        assert.equal(1, #requests())
      end
    end)

    it("cycling between tokens, or the same page under new tokens, ends", function()
      script{ page({ BACKUP }, "QUFB"), page({ BACKUP }, "QkJC"), page({ BACKUP }, "QUFB") }
      local ok, err = pcall(function() for _ in client():each_backup{} do end end)
      assert.is_false(ok)
      assert.equal("PaginationLoop", err.code)
      script{ page({ BACKUP }, "QUFB"), page({ BACKUP }, "QkJC"), page({ BACKUP }, "Q0ND"), page({}, "RERE") }
      ok, err = pcall(function() for _ in client():each_backup({}, { max_pages = 20 }) do end end)
      assert.is_false(ok)
      assert.truthy(err.code == "PaginationLoop" or err.code == "PaginationLimitExceeded", err.code)
      assert.is_true(#requests() <= 20)
    end)
  end)

  describe("a clock-skew error", function()
    local function amz(t) return os.date("!%Y%m%dT%H%M%SZ", t) end
    local function epoch_of(stamp) return require("fsx.date").parse_amz(stamp) end
    -- AWS's wording, with the service's clock at `server`
    local function skew_error(server, date_header)
      local body = ('{"__type":"InvalidSignatureException","message":"Signature expired: %s is now '
        .. 'earlier than %s (%s - 5 min.)"}'):format(amz(os.time()), amz(server - 300), amz(server))
      local headers = { CT, "Content-Length: " .. #body }
      if date_header then table.insert(headers, 1, "Date: " .. date_header) end
      return response("403 Forbidden", headers, body)
    end

    local function corrected(date_header, server)
      script{ { raw = skew_error(server, date_header) }, { raw = ok_json(CREATED) } }
      local backup = CALLS.create_backup(client{ max_attempts = 1 })
      assert.equal(BACKUP, backup.backup_id)
      local log = requests()
      assert_same_call(log, 2)
      assert.is_true(math.abs(epoch_of(log[2].amz_date) - server) < 30, log[2].amz_date)
    end

    it("is corrected by the Date forms servers and proxies write", function()
      local server = os.time() + 3600
      for _, form in ipairs{ "!%a, %d %b %Y %H:%M:%S UTC", "!%a, %d %b %Y %H:%M:%S +0000",
                             "!%A, %d-%b-%y %H:%M:%S GMT", "!%a %b %d %H:%M:%S %Y" } do
        corrected(os.date(form, server), server)
      end
      corrected(os.date("!%a, %d %b %Y %H:%M:%S GMT", server):lower(), server)
    end)

    it("without a Date header, by the service's time in AWS's message", function()
      corrected(nil, os.time() - 7200)
    end)

    it("with neither, or with a Date no service could mean, is raised after one attempt", function()
      for _, header in ipairs{ "yesterday at noon", "Fri, 31 Dec 9999 23:59:59 GMT" } do
        script{ { raw = skew_error(os.time() + 3600, header) }, { raw = ok_json(CREATED) } }
        local ok, err = pcall(CALLS.create_backup, client())
        assert.is_false(ok)
        assert.equal("InvalidSignatureException", err.code)
        assert.equal(1, #requests())
      end
      local body = '{"__type":"InvalidSignatureException","message":"Signature expired"}'
      script{ { raw = response("403 Forbidden", { CT, "Content-Length: " .. #body }, body) } }
      local ok, err = pcall(CALLS.create_backup, client())
      assert.is_false(ok)
      assert.equal(1, err.attempts)
    end)
  end)

  describe("secrets the service quotes back in other spellings", function()
    local SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzzWIREzzKEY"
    local TOKEN = "IQoJb3JpZ2luX2VjEHsaCXVzLWVhc3QtMSJGMEQCIBn+xqR/zoLx2w8V9A1bJrD4gXHvdqi1zq5t"
      .. "BqLYRn2ZAiB5bc1sKjGm4nT2wireSPECtoken/abc+def=="
    local pieces = {}
    for _, s in ipairs{ SECRET, TOKEN } do
      pieces[#pieces + 1] = s:sub(5, 20)
      pieces[#pieces + 1] = s:sub(#s - 15)
    end
    -- in any case: header names come lowercased
    local function leak(text)
      for _, p in ipairs(pieces) do
        if text:lower():find(p:lower(), 1, true) then return p end
      end
    end
    local function pct(s, fmt)
      return (s:gsub("[^%w%-%._~]", function(ch) return fmt:format(ch:byte()) end))
    end
    local function wrap(s, n, nl)
      local out = {}
      for i = 1, #s, n do out[#out + 1] = s:sub(i, i + n - 1) end
      return table.concat(out, nl)
    end
    -- each form as it stands inside a JSON string
    local forms = {
      ["percent-encoded"] = pct(TOKEN, "%%%02X"),
      ["percent-encoded, lower case"] = pct(SECRET, "%%%02x"),
      ["JSON-escaped slashes"] = (TOKEN:gsub("/", "\\/")),
      ["JSON \\u escapes"] = (SECRET:gsub("[/+]", function(ch) return ("\\u%04x"):format(ch:byte()) end)),
      ["wrapped with \\n escapes"] = wrap(TOKEN, 40, "\\n"),
      ["wrapped with \\r\\n escapes and indented"] = wrap(SECRET, 16, "\\r\\n    "),
      ["cut short"] = TOKEN:sub(1, 30) .. "...",
      ["its end only"] = "..." .. SECRET:sub(-20),
    }
    local function text_of(v, out, seen)
      out, seen = out or {}, seen or {}
      if type(v) == "table" then
        if seen[v] then return out end
        seen[v] = true
        for k, x in pairs(v) do
          text_of(k, out, seen)
          text_of(x, out, seen)
        end
      else
        out[#out + 1] = tostring(v)
      end
      return out
    end
    for name, form in pairs(forms) do
      it(name .. ": in the error, its fields and the debug hook", function()
        local body = '{"__type":"UnrecognizedClientException","message":"The token ' .. form
          .. ' is invalid","Detail":"' .. form .. '"}'
        local header = form:gsub("\\[rn]", "")
        script{ { raw = response("400 Bad Request", { CT, "X-Echo: " .. header,
                                                      "X-" .. TOKEN:gsub("[^%w]", "-") .. ": as a name",
                                                      "Content-Length: " .. #body }, body) } }
        local seen = {}
        local c = client{ max_attempts = 1,
          credentials = { access_key_id = "AKIDEXAMPLE", secret_access_key = SECRET, session_token = TOKEN },
          debug = function(_, data) seen[#seen + 1] = table.concat(text_of(data), "\n") end }
        local ok, err = pcall(CALLS.create_backup, c)
        assert.is_false(ok)
        assert.equal("UnrecognizedClientException", err.code)
        local shown = leak(tostring(err) .. "\n" .. table.concat(text_of(err), "\n"))
        assert(shown == nil, "the error shows a piece of a secret: " .. tostring(shown and shown:sub(1, 4)))
        shown = leak(table.concat(seen, "\n"))
        assert(shown == nil, "the debug hook got a piece of a secret: " .. tostring(shown and shown:sub(1, 4)))
        assert.truthy(tostring(err):find("<redacted>", 1, true))
      end)
    end
  end)
end)
