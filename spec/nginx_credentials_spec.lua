-- Credentials inside a real Nginx: Debian's nginx with the Lua module
-- (spec/support/nginx.lua), one worker, a client made in init_worker and a
-- location /creds that answers its credentials' key id.
--
-- 1. IMDS (spec/support/imds_server.py): 20 concurrent requests, one fetch
--    through cosockets.
-- 2. A refresh whose request dies: `lua_check_client_abort on` and a slow
--    container credentials endpoint (spec/support/container_server.py, mode
--    "slow"). The first request starts the refresh and its client hangs up
--    meanwhile, so Nginx kills that request's light threads; the requests
--    that came meanwhile must still get the credentials of that one fetch,
--    within the source's own timeout, not after `credentials_wait_limit`.
local nginx = require "spec.support.nginx"
local cjson = require "cjson"

local q = nginx.q

local describe_nginx = nginx.describe_nginx(describe, pending)

-- Start Nginx with the credentials app; `env` is passed to it (each name
-- declared with `env`), `http` is added to the http block.
local function start_app(env, http)
  local main = {}
  for k in pairs(env) do main[#main + 1] = "env " .. k .. ";" end
  table.sort(main)
  return nginx.start{
    main = table.concat(main, "\n") .. "\n",
    http = (http or "") .. [[
    init_by_lua_block { require "fsx" }
    init_worker_by_lua_block {
        package.loaded.fsx_creds_app = { client = require("fsx").new{} }
    }
]],
    server = [[
        location = /creds {
            content_by_lua_block {
                -- ?client=NAME: a client of its own, made on first use
                local app, name = require("fsx_creds_app"), ngx.var.arg_client
                local c = app.client
                if name then
                    app.named = app.named or {}
                    app.named[name] = app.named[name] or require("fsx").new{}
                    c = app.named[name]
                end
                local ok, creds = pcall(c.credentials.get, c.credentials)
                if not ok then ngx.status = 500 return ngx.say(tostring(creds)) end
                -- never the secret: the key id and whether a token came
                ngx.say(creds.access_key_id, " ", creds.session_token and "token" or "no-token")
            }
        }
        location = /ping { content_by_lua_block { ngx.say("pong") } }
]],
    env = env,
  }
end

-- A local test server from spec/support, and its stats.
local function spawn_server(dir, script, args)
  return assert(nginx.spawn(nginx.PYTHON .. " " .. q(nginx.ROOT .. "/spec/support/" .. script)
    .. " --port 0 --port-file " .. q(dir .. "/port") .. " " .. (args or ""), dir .. "/port"))
end

local function server_stats(server)
  local status, body = nginx.http("http://127.0.0.1:" .. server.ports[1] .. "/_stats")
  assert.equal(200, status)
  return cjson.decode(body)
end

local NO_FILES = { AWS_REGION = "us-east-1", AWS_CONFIG_FILE = "/nonexistent/config",
                   AWS_SHARED_CREDENTIALS_FILE = "/nonexistent/creds" }

local function with(t, more)
  local out = {}
  for k, v in pairs(t) do out[k] = v end
  for k, v in pairs(more) do out[k] = v end
  return out
end

describe_nginx("credentials from IMDS inside Nginx", function()
  local imds, srv, dir

  setup(function()
    dir = nginx.tempdir("imds")
    imds = spawn_server(dir, "imds_server.py")
    local err
    srv, err = start_app(with(NO_FILES, {
      AWS_EC2_METADATA_SERVICE_ENDPOINT = "http://127.0.0.1:" .. imds.ports[1] }))
    assert(srv, err)
  end)

  teardown(function()
    if srv then srv:stop() end
    if imds then imds.stop() end
    if dir then nginx.execute("rm -rf " .. q(dir)) end
  end)

  it("fetches them once through cosockets for 20 concurrent requests", function()
    srv:check(function()
      local run = srv:parallel{ n = 20, path = "/creds", ping_path = "/ping", pings = 2 }
      local first
      for i, res in ipairs(run.results) do
        assert.equal(200, res[1], "request " .. i .. ": " .. res[3])
        assert.matches("^%S+ token\n$", res[3])
        first = first or res[3]
        assert.equal(first, res[3])
      end
      local counts = server_stats(imds).counts
      assert.same({ 1, 1 }, { counts.token, counts.creds })
    end)
  end)
end)

-- The container endpoint's answer takes DELAY seconds; each attempt may take
-- TIMEOUT (AWS_METADATA_SERVICE_TIMEOUT), the source's own limit.
local DELAY, TIMEOUT = 1.5, 4

describe_nginx("credentials refresh inside Nginx when the refreshing request is aborted", function()
  local container, srv, dir

  setup(function()
    dir = nginx.tempdir("creds")
    container = spawn_server(dir, "container_server.py", "--mode slow --delay " .. DELAY)
    local err
    srv, err = start_app(with(NO_FILES, {
      AWS_CONTAINER_CREDENTIALS_FULL_URI = "http://127.0.0.1:" .. container.ports[1] .. "/creds",
      AWS_METADATA_SERVICE_TIMEOUT = tostring(TIMEOUT), AWS_EC2_METADATA_DISABLED = "true" }),
      "    lua_check_client_abort on;\n")
    assert(srv, err)
  end)

  teardown(function()
    if srv then srv:stop() end
    if container then container.stop() end
    if dir then nginx.execute("rm -rf " .. q(dir)) end
  end)

  -- One client that hangs up after `abort_after` seconds, then (`gap` later)
  -- n clients that wait up to `max_time`: their {status, seconds, body}.
  local function aborted_then_waiters(n, abort_after, gap, max_time)
    local url = q(srv:url("/creds"))
    local lines = {
      "curl -sS --noproxy '*' --max-time " .. abort_after .. " -o /dev/null " .. url
        .. " 2>/dev/null &",
      "sleep " .. gap,
    }
    for i = 1, n do
      lines[#lines + 1] = "curl -sS --noproxy '*' --max-time " .. max_time .. " -o "
        .. q(dir .. "/body." .. i) .. " -w '%{http_code} %{time_total}' " .. url .. " > "
        .. q(dir .. "/meta." .. i) .. " 2>/dev/null &"
    end
    lines[#lines + 1] = "wait"
    nginx.write_file(dir .. "/run.sh", table.concat(lines, "\n") .. "\n")
    nginx.capture("sh " .. q(dir .. "/run.sh"))
    local out = {}
    for i = 1, n do
      local status, secs = (nginx.read_file(dir .. "/meta." .. i) or ""):match("(%d+) ([%d.]+)")
      out[i] = { tonumber(status) or 0, tonumber(secs), nginx.read_file(dir .. "/body." .. i) or "" }
    end
    return out
  end

  it("hands a failed refresh's error to every waiter, after one load", function()
    srv:check(function()
      local status = nginx.http("http://127.0.0.1:" .. container.ports[1] .. "/_control",
        { method = "POST", data = '{"mode": "error500", "reset": true}' })
      assert.equal(200, status)
      local run = srv:parallel{ n = 8, path = "/creds?client=failing", max_time = 3 * TIMEOUT }
      for i, res in ipairs(run.results) do
        assert.equal(500, res[1], "request " .. i .. ": " .. res[3])
        assert.matches("ContainerCredentialsError %(HTTP 500%)", res[3])
      end
      -- one load: its three attempts
      assert.equal(3, server_stats(container).count)
      nginx.http("http://127.0.0.1:" .. container.ports[1] .. "/_control",
                 { method = "POST", data = '{"mode": "slow", "reset": true}' })
    end)
  end)

  it("hands the one fetch to every waiter within the source's timeout", function()
    srv:check(function()
      local results = aborted_then_waiters(10, 0.4, 0.2, 3 * TIMEOUT)
      local first
      for i, res in ipairs(results) do
        assert.equal(200, res[1], "request " .. i .. " (" .. tostring(res[2]) .. " s): " .. res[3])
        assert.is_true(res[2] < TIMEOUT, "request " .. i .. " waited " .. res[2] .. " s")
        assert.matches("^ASIACONT%d+ token\n$", res[3])
        first = first or res[3]
        assert.equal(first, res[3])
      end
      assert.equal(1, server_stats(container).count)
      -- the first client really was gone before the answer came
      assert.matches("client prematurely closed connection", srv:log())
    end)
  end)
end)
