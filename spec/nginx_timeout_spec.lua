-- Inside Nginx `timeout` bounds the whole attempt.
--
-- A real Nginx runs the client with the cosocket transport against
-- spec/support/hostile_server.py: a valid body trickled 4 bytes every 0.5 s
-- (50 s in all), headers trickled one line a second (60 s), and a body that
-- trickles chunks for ever. Each call, with `timeout = 1.5` and two
-- attempts, ends with a `timeout` error after both attempts (retried per the
-- retry policy) within 2 x 1.5 s plus slack, where per-read cosocket
-- timeouts alone would have run for the whole trickle. A well-behaved answer
-- through the same location is the control.
local cjson = require "cjson"
local core = require "fsx.core"
local nginx = require "support.nginx"

local describe_nginx = nginx.describe_nginx(describe, pending)

local TIMEOUT = 1.5

local SERVER = [[
        location = /call {
            content_by_lua_block {
                local cjson = require "cjson"
                local fsx = require "fsx"
                local args = ngx.req.get_uri_args()
                local c = fsx.new{ region = "us-east-1", endpoint_url = args.url, transport = "ngx",
                    credentials = { access_key_id = "AKIDEXAMPLE",
                                    secret_access_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY" },
                    timeout = tonumber(args.timeout), connect_timeout = 1,
                    max_attempts = 2, retry_base = 0.01 }
                ngx.update_time()
                local t0 = ngx.now()
                local ok, res = pcall(c.describe_backups, c, {})
                ngx.update_time()
                local out = { ok = ok, elapsed = ngx.now() - t0 }
                if not ok then
                    out.kind, out.code, out.attempts = res.kind, res.code, res.attempts
                    out.message = tostring(res)
                end
                ngx.header["Content-Type"] = "application/json"
                ngx.say(cjson.encode(out))
            }
        }
]]

describe_nginx("the Nginx transport's timeout bounds the whole attempt", function()
  local env = nginx.with_backend("hostile_server.py", { server = SERVER })
  setup(env.start)
  teardown(env.stop)

  local function get(path)
    local h = assert(core.http_new())
    local _, _, body = h:perform{ method = "GET", url = env.backend.url .. path, timeout = 5 }
    h:close()
    return body
  end

  before_each(function() get("/reset") end)

  local function call(path)
    local url = env.backend.url .. path
    local status, body = env.srv:get("/call?timeout=" .. TIMEOUT .. "&url=" .. url, { max_time = 120 })
    assert.equal(200, status, body .. "\n" .. env.srv:log(2000))
    return cjson.decode(body), tonumber(get("/count"):match('"requests":%s*(%d+)'))
  end

  for _, path in ipairs{ "/trickle-body", "/trickle-headers", "/body-trickle" } do
    it(path .. ": a timeout error after two attempts of at most `timeout` each", function()
      local out, seen = call(path)
      assert.is_false(out.ok)
      assert.equal("timeout", out.kind, out.message)
      assert.equal("ETIMEDOUT", out.code)
      assert.equal(2, out.attempts)
      assert.equal(2, seen)
      assert.is_true(out.elapsed >= 2 * TIMEOUT - 0.1, "ended early: " .. out.elapsed)
      assert.is_true(out.elapsed < 2 * TIMEOUT + 1.5, "ran " .. out.elapsed .. " s")
    end)
  end

  it("(control) a prompt answer through the same location succeeds", function()
    local out, seen = call("/json/100")
    assert.is_true(out.ok, out.message)
    assert.equal(1, seen)
  end)
end)
