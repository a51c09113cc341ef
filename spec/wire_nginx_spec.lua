-- The answers of spec/wire_spec.lua, through the Nginx cosocket transport:
-- a real Nginx runs the client (transport = "ngx") against
-- spec/support/wire_server.py. An answer cut off at any byte, framed by
-- Content-Length or chunked, a 2xx that parses but is no result, interim 1xx
-- answers, both Transfer-Encoding and Content-Length, a redirect: never a
-- success without the result, every retry with the same ClientRequestToken
-- and invocation id.
local cjson = require "cjson"
local nginx = require "support.nginx"
local procs = require "support.procs"
local answers = require "support.wire"

local describe_nginx = nginx.describe_nginx(describe, pending)

local FS, BACKUP, CT, CREATED = answers.FS, answers.BACKUP, answers.CT, answers.CREATED
local response, ok_json = answers.response, answers.ok_json

-- /call?url=U&op=O: the call through the ngx transport, as JSON; with
-- twice=1 the call is made twice, the answer being the second one's.
local SERVER = [[
        location = /call {
            content_by_lua_block {
                local cjson = require "cjson"
                local fsx = require "fsx"
                local args = ngx.req.get_uri_args()
                local c = fsx.new{ region = "us-east-1", endpoint_url = args.url, transport = "ngx",
                    credentials = { access_key_id = "AKIDEXAMPLE",
                                    secret_access_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY" },
                    timeout = 3, connect_timeout = 1, max_attempts = 3, retry_base = 0.001 }
                local calls = {
                    create = function() return c:create_backup{ file_system_id = "]] .. FS .. [[" } end,
                    delete = function() return c:delete_backup{ backup_id = "]] .. BACKUP .. [[" } end,
                    describe = function() return c:describe_backups{} end,
                }
                local ok, res = pcall(calls[args.op])
                if args.twice then
                    ngx.sleep(0.2)
                    ok, res = pcall(calls[args.op])
                end
                local out = { ok = ok }
                if ok then
                    out.backup_id = res.backup_id
                else
                    out.kind, out.code, out.attempts = res.kind, res.code, res.attempts
                    out.retryable, out.message = res.retryable, tostring(res)
                end
                ngx.header["Content-Type"] = "application/json"
                ngx.say(cjson.encode(out))
            }
        }
]]

describe_nginx("answers off the wire, inside Nginx", function()
  local env = nginx.with_backend("wire_server.py", { server = SERVER })
  setup(env.start)
  teardown(env.stop)

  local function script(steps) answers.script(env.backend, steps) end

  local function call(op, twice)
    local status, body = env.srv:get("/call?op=" .. op .. (twice and "&twice=1" or "") .. "&url=" .. env.backend.url .. "/",
                                 { max_time = 60 })
    assert.equal(200, status, body .. "\n" .. env.srv:log(2000))
    return cjson.decode(body), procs.stats(env.backend).log
  end

  local function assert_same_call(log, n)
    assert.equal(n, #log)
    for i = 2, #log do
      assert.equal(log[1].invocation_id, log[i].invocation_id)
      assert.equal(log[1].client_request_token, log[i].client_request_token)
    end
  end

  local function refused(op, steps, code)
    script(steps)
    local out, log = call(op)
    assert.is_false(out.ok, "taken as a success")
    if code then assert.equal(code, out.code, out.message) end
    assert.is_true(out.retryable, out.message)
    assert.equal(3, out.attempts, out.message)
    assert_same_call(log, 3)
    return out
  end

  it("a 2xx that is no result is a decode error, retried with the same token", function()
    for _, op in ipairs{ "create", "delete", "describe" } do
      for _, body in ipairs{ "", "{}", "null", "[]", '"{}"' } do
        refused(op, { { raw = ok_json(body) } }, "InvalidResponse")
      end
    end
    refused("delete", { { raw = ok_json('{"BackupId":"backup-0fedcba9876543210","Lifecycle":"DELETED"}') } },
            "InvalidResponse")
  end)

  it("a CreateBackup answer cut off at any byte is never a success", function()
    local framings = {
      ok_json(CREATED),
      response("200 OK", { CT, "Transfer-Encoding: chunked" },
               ("%x\r\n%s\r\n0\r\n\r\n"):format(#CREATED, CREATED)),
    }
    for _, full in ipairs(framings) do
      for n = 0, #full - 1 do
        script{ { raw = full:sub(1, n) } }
        local out, log = call("create")
        if not (out.ok and n >= #full - 2 and full:find("chunked", 1, true)) then
          assert(not out.ok, "cut at byte " .. n .. " taken as a success")
          assert(out.retryable and out.attempts == 3, "cut at byte " .. n .. ": " .. out.message)
          assert_same_call(log, 3)
        end
      end
      script{ { raw = full } }
      assert.equal(BACKUP, call("create").backup_id)
    end
  end)

  it("interim 1xx answers before the answer", function()
    script{ { raw = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </x>\r\n\r\n"
                    .. ok_json(CREATED) } }
    local out = call("create")
    assert.is_true(out.ok, out.message)
    assert.equal(BACKUP, out.backup_id)
    -- only interim answers, then the connection closes
    refused("create", { { raw = "HTTP/1.1 100 Continue\r\n\r\n" } })
  end)

  it("a 101 Switching Protocols is no answer", function()
    refused("create", { { raw = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n\r\n" } })
  end)

  it("a chunked body that also has a Content-Length is read as chunked, or refused", function()
    local chunked = ("%x\r\n%s\r\n0\r\n\r\n"):format(#CREATED, CREATED)
    script{ { raw = response("200 OK", { CT, "Transfer-Encoding: chunked", "Content-Length: 5" }, chunked) } }
    local out = call("create")
    assert.is_true(out.ok == false or out.backup_id == BACKUP, out.message)
  end)

  it("a redirect is not followed", function()
    script{ { raw = response("307 Temporary Redirect", { "Location: http://127.0.0.2:9/", "Content-Length: 0" }) },
            { raw = ok_json(CREATED) } }
    local out, log = call("create")
    assert.is_false(out.ok)
    assert.equal(1, #log)
  end)

  it("an answer nobody asked for, left on a kept-alive connection, is never the next call's answer", function()
    local function answer(id)
      local at = CREATED:find(BACKUP, 1, true)
      return ok_json(CREATED:sub(1, at - 1) .. id .. CREATED:sub(at + #BACKUP))
    end
    local first, stale, fresh = BACKUP, "backup-0bbbbbbbbbbbbbbbb", "backup-0cccccccccccccccc"
    -- sent after the answer, and in the same write as the answer
    for _, step in ipairs{ { raw = answer(first), extra = answer(stale), extra_after = 0.05, ["then"] = "keep" },
                           { raw = answer(first) .. answer(stale), ["then"] = "keep" } } do
      script{ step, { raw = answer(fresh) } }
      local out = call("create", true)
      assert.is_true(out.ok, out.message)
      assert.equal(fresh, out.backup_id)
    end
  end)
end)
