--- Shared helpers for the busted specs: the local FSx server, test
-- credentials, temporary directories, and raw HTTP through the curl CLI.
--
-- Layer: test support. Nothing here uses the library under test: the
-- server is driven with the `curl` command line tool and cjson, and
-- reference signatures come from botocore (spec/support/botocore_sign.py),
-- so a spec can check the library against independent implementations.
-- Common subset of Lua 5.1-5.4 (runs under busted on lua5.1, lua5.3, lua5.4
-- and luajit).
--
--   local helpers = require "helpers"          -- or require "spec.helpers"
--   local server
--   lazy_setup(function() server = helpers.start_fsx_server() end)
--   lazy_teardown(function() if server then server:stop() end end)
--   ... server.url, server:reset(), server:faults{...}, server:state() ...
local cjson = require "cjson"

local M = {}

M.PYTHON = "/usr/bin/python3"  -- Debian's Python: the one with botocore

-- The repository root: one level above this file, absolute.
local function repo_root()
  local src = debug.getinfo(1, "S").source:gsub("^@", "")
  local dir = src:match("^(.*)/spec/helpers%.lua$")
  if not dir then dir = "." end
  if dir:sub(1, 1) ~= "/" then
    local f = io.popen("pwd")
    local pwd = f:read("*l")
    f:close()
    dir = (dir == ".") and pwd or (pwd .. "/" .. dir)
  end
  return dir
end
M.ROOT = repo_root()
M.SUPPORT = M.ROOT .. "/spec/support"

-- The interpreter running the specs, by its Debian command name (lua5.1,
-- lua5.3, lua5.4 or luajit), and the build directory of its fsx/core.so
-- (`make LUA=<that name>`), relative to ROOT.
M.LUA = rawget(_G, "jit") and "luajit" or ("lua" .. _VERSION:match("%d+%.%d+"))
M.BUILD = "build/" .. M.LUA
M.SEED = M.SUPPORT .. "/fsx_seed.json"

--- Quote a string for /bin/sh.
local function q(s)
  return "'" .. (tostring(s):gsub("'", "'\\''")) .. "'"
end
M.q = q

--- Runs a shell command; returns its standard output and exit status.
--- The Lua VM instructions f() runs (a count, not a time: the same on a
-- loaded machine), to the nearest 100; raises once `budget` is passed, so a
-- runaway computation fails the spec instead of hanging it. On LuaJIT the
-- compiler is off meanwhile (hooks do not see compiled traces).
-- @return the count, then what f returned (its first value)
function M.vm_steps(f, budget)
  local count, over = 0, false
  local jit_was_on = type(jit) == "table" and jit.status()
  if jit_was_on then jit.off(); jit.flush() end
  debug.sethook(function()
    count = count + 100
    if count > budget and not over then
      over = true
      error("over the budget of " .. budget .. " VM instructions", 2)
    end
  end, "", 100)
  local ok, r = pcall(f)
  debug.sethook()
  if jit_was_on then jit.on() end
  if not ok then error(r, 2) end
  return count, r
end

--- A small deterministic generator (an LCG), the same under Lua 5.4 and
-- LuaJIT, so generated cases do not depend on math.random's state:
-- rng(seed) returns r, and r(n) an integer in 1..n.
function M.rng(seed)
  local state = seed
  return function(n)
    state = (state * 1103515245 + 12345) % 2147483648
    return state % n + 1
  end
end

function M.run(cmd)
  local f = assert(io.popen(cmd .. "; printf '\\n%s' \"$?\"", "r"))
  local out = f:read("*a")
  f:close()
  local body, rc = out:match("^(.*)\n(%d+)$")
  return body or out, tonumber(rc) or -1
end

--- Run a shell command: its output (stderr included) and whether it succeeded.
function M.run_ok(cmd)
  local out, rc = M.run("{ " .. cmd .. "; } 2>&1")
  return out, rc == 0
end

local function read_file(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("*a")
  f:close()
  return s
end
M.read_file = read_file

local function write_file(path, s)
  local f = assert(io.open(path, "wb"))
  f:write(s)
  f:close()
end
M.write_file = write_file

--- Shapes the model lacks (name -> declaration, as in fsx.api), for a
-- describe block: returns `put` and `take`, which put them into `fsx.api`'s
-- shapes and take them out again (`setup(put) teardown(take)`: busted's
-- setup and teardown are the spec file's, not this module's).
function M.shapes(shapes)
  local api = require "fsx.api"
  local function put()
    for name, decl in pairs(shapes) do api.shapes[name] = decl end
  end
  local function take()
    for name in pairs(shapes) do api.shapes[name] = nil end
  end
  return put, take
end

--- The shell command that runs a Lua script of the repository in a fresh
-- interpreter like the one running the specs, with the same module paths
-- (and, under `make asan-busted`, the same sanitizer runtime:
-- FSX_SPEC_LUA_WRAP), from the repository root; the arguments are quoted.
function M.lua_command(script, ...)
  local args = {}
  for i, a in ipairs{ ... } do args[i] = q(a) end
  local lua = M.LUA
  local wrap = os.getenv("FSX_SPEC_LUA_WRAP")
  if wrap and wrap ~= "" then lua = wrap .. " $(command -v " .. lua .. ")" end
  return "cd " .. q(M.ROOT) .. " && LUA_PATH=" .. q(package.path) .. " LUA_CPATH="
    .. q(package.cpath) .. " " .. lua .. " " .. q(script) .. " " .. table.concat(args, " ")
end

--- Runs spec/support/reentrant.lua (a call while __gc finalizers make the
-- same kind of call inside it) in a fresh interpreter like the one running
-- the specs, with the same module paths (and, under `make asan-busted`, the
-- same sanitizer runtime: FSX_SPEC_LUA_WRAP). Returns calls, nested,
-- outer_bad, inner_bad (numbers) and the output.
function M.reentrant(...)
  local out, rc = M.run(M.lua_command("spec/support/reentrant.lua", ...) .. " 2>&1")
  assert(rc == 0, out)
  local calls, nested, outer_bad, inner_bad =
    out:match("calls (%d+) nested (%d+) outer_bad (%d+) inner_bad (%d+)")
  assert(calls, out)
  return tonumber(calls), tonumber(nested), tonumber(outer_bad), tonumber(inner_bad), out
end

--- Sleeps for s seconds (fractions allowed) without the library under test.
function M.sleep(s)
  os.execute("sleep " .. string.format("%.3f", s))
end

--- A fresh private temporary directory (mktemp -d).
function M.tmpdir()
  local out, rc = M.run("mktemp -d \"${TMPDIR:-/tmp}/lua-fsx-spec.XXXXXX\"")
  assert(rc == 0, "mktemp failed: " .. out)
  return (out:gsub("%s+$", ""))
end

--- Removes a directory made by tmpdir().
function M.rmdir(dir)
  if dir and dir:match("lua%-fsx%-spec%.") then os.execute("rm -rf " .. q(dir)) end
end

-- decoded seed document (read once)
local seed_doc
function M.seed()
  if not seed_doc then seed_doc = cjson.decode((assert(read_file(M.SEED), "cannot read " .. M.SEED))) end
  return seed_doc
end

local function seed_credential(want_token)
  for _, c in ipairs(M.seed().credentials) do
    local has = type(c.session_token) == "string"
    if has == want_token then return c end
  end
  error("the seed has no " .. (want_token and "session" or "long-term") .. " credential")
end

--- The seed's long-term test key pair: {access_key_id, secret_access_key}.
function M.credentials()
  local c = seed_credential(false)
  return { access_key_id = c.access_key_id, secret_access_key = c.secret_access_key }
end

--- The seed's temporary key pair: {access_key_id, secret_access_key, session_token}.
function M.session_credentials()
  local c = seed_credential(true)
  return { access_key_id = c.access_key_id, secret_access_key = c.secret_access_key,
           session_token = c.session_token }
end

-- pid of the Lua process running the specs (the parent of popen's shell)
local function own_pid()
  local out = M.run("echo $PPID")
  return tonumber(out:match("%d+"))
end

-- true while pid runs (a zombie counts as gone)
local function alive(pid)
  local stat = read_file("/proc/" .. pid .. "/stat")
  if stat then return stat:match("%)%s+(%a)") ~= "Z" end
  local _, rc = M.run("kill -0 " .. pid .. " 2>/dev/null")
  return rc == 0
end

--- Raw HTTP through the curl CLI.
-- opts: `method` (default GET, or POST with a body), `url`, `headers` (array
-- of {name, value}), `body`, `timeout` (seconds, default 30).
-- Returns {status, headers (lowercase name -> value), body, curl_exit}; a
-- transport failure gives status 0 and curl's exit code (56: reset, 18:
-- truncated body, 28: timeout).
function M.curl(opts)
  local dir = M.tmpdir()
  local args = { "curl", "-sS", "--http1.1", "-o", q(dir .. "/body"), "-D", q(dir .. "/headers"),
                 "-w", q("%{http_code}"), "--max-time", tostring(opts.timeout or 30),
                 "-H", q("Expect:"), "-H", q("Accept:"), "-H", q("User-Agent:") }
  local method = opts.method or (opts.body and "POST" or "GET")
  args[#args + 1] = "-X " .. q(method)
  for _, h in ipairs(opts.headers or {}) do
    args[#args + 1] = "-H " .. q(h[1] .. ": " .. h[2])
  end
  if opts.body then
    write_file(dir .. "/request", opts.body)
    args[#args + 1] = "--data-binary " .. q("@" .. dir .. "/request")
    -- curl adds a form Content-Type unless told otherwise
    local has_ct = false
    for _, h in ipairs(opts.headers or {}) do
      if h[1]:lower() == "content-type" then has_ct = true end
    end
    if not has_ct then args[#args + 1] = "-H " .. q("Content-Type:") end
  end
  args[#args + 1] = q(opts.url)
  local out, rc = M.run(table.concat(args, " ") .. " 2>" .. q(dir .. "/stderr"))
  local res = { status = tonumber(out:match("(%d+)%s*$")) or 0, headers = {},
                body = read_file(dir .. "/body") or "", curl_exit = rc,
                stderr = read_file(dir .. "/stderr") or "" }
  -- headers of the last response (after any 100 Continue)
  local raw = read_file(dir .. "/headers") or ""
  for line in raw:gmatch("[^\r\n]+") do
    if line:match("^HTTP/") then
      res.headers = {}
    else
      local name, value = line:match("^([^:]+):%s*(.-)%s*$")
      if name then
        name = name:lower()
        res.headers[name] = res.headers[name] and (res.headers[name] .. ", " .. value) or value
      end
    end
  end
  M.rmdir(dir)
  return res
end

--- Reference SigV4 results from botocore for an array of requests (see
-- spec/support/botocore_sign.py for the fields and botocore's quirks).
function M.botocore_sign(requests)
  local dir = M.tmpdir()
  write_file(dir .. "/in.json", cjson.encode(requests))
  local out, rc = M.run(q(M.PYTHON) .. " " .. q(M.SUPPORT .. "/botocore_sign.py") .. " < "
                        .. q(dir .. "/in.json") .. " 2>" .. q(dir .. "/err"))
  local err = read_file(dir .. "/err")
  M.rmdir(dir)
  assert(rc == 0, "botocore_sign.py failed: " .. tostring(err))
  return cjson.decode(out)
end

--- The current time as an X-Amz-Date value.
function M.amz_date(t)
  return os.date("!%Y%m%dT%H%M%SZ", t or os.time())
end

-- ---------------------------------------------------------------------------
-- The local FSx server
-- ---------------------------------------------------------------------------

local Server = {}
Server.__index = Server

--- Starts spec/support/fsx_server.py on a free loopback port.
-- opts: `seed` (path), `region` (default us-east-1), `backup_seconds`,
-- `verbose` (log requests into the server log), `args` (extra arguments).
-- Returns a server object: `url`, `port`, `pid`, `region`, `log_file`.
-- It stops by itself when the Lua process exits, should `stop` be missed.
function M.start_fsx_server(opts)
  opts = opts or {}
  local dir = M.tmpdir()
  local port_file = dir .. "/port"
  local log_file = dir .. "/server.log"
  local region = opts.region or "us-east-1"
  local args = { q(M.PYTHON), q(M.SUPPORT .. "/fsx_server.py"), "--port 0",
                 "--port-file", q(port_file), "--region", q(region) }
  if opts.seed then args[#args + 1] = "--seed " .. q(opts.seed) end
  if opts.backup_seconds then args[#args + 1] = "--backup-seconds " .. tostring(opts.backup_seconds) end
  if opts.verbose then args[#args + 1] = "--verbose" end
  local parent = own_pid()
  if parent then args[#args + 1] = "--parent-pid " .. parent end
  for _, a in ipairs(opts.args or {}) do args[#args + 1] = q(a) end
  local cmd = table.concat(args, " ") .. " >" .. q(log_file) .. " 2>&1 </dev/null & echo $!"
  local out = M.run("sh -c " .. q(cmd))
  local pid = tonumber(out:match("%d+"))
  assert(pid, "could not start fsx_server.py: " .. out)

  local port
  for _ = 1, 200 do  -- 10 s
    local text = read_file(port_file)
    port = text and tonumber(text:match("%d+"))
    if port then break end
    if not alive(pid) then break end
    M.sleep(0.05)
  end
  if not port then
    os.execute("kill " .. pid .. " 2>/dev/null")
    error("fsx_server.py did not start: " .. (read_file(log_file) or "(no log)"))
  end
  return setmetatable({
    pid = pid, port = port, url = "http://127.0.0.1:" .. port, region = region,
    dir = dir, log_file = log_file,
  }, Server)
end

--- A control API call: method, path under /_fsx/ (e.g. "/_fsx/state"),
-- optional table sent as JSON. Returns the decoded answer and the status;
-- raises on a non-200 answer unless `allow_error` is true.
function Server:control(method, path, tbl, allow_error)
  local body
  if tbl ~= nil then body = type(tbl) == "string" and tbl or cjson.encode(tbl) end
  local res = M.curl{ method = method, url = self.url .. path, body = body,
                      headers = { { "Content-Type", "application/json" } } }
  local ok, doc = pcall(cjson.decode, res.body)
  if not ok then doc = nil end
  if res.status ~= 200 and not allow_error then
    error(("control %s %s: HTTP %s %s"):format(method, path, tostring(res.status),
          doc and doc.error or res.body .. res.stderr), 2)
  end
  return doc, res.status
end

--- Everything the server holds: backups (with the control-only
-- ClientRequestToken), file_systems, volumes, faults, config, counters
-- (requests_total, by_operation, by_status, bad_signatures, connections,
-- faults_fired).
function Server:state()
  return (self:control("GET", "/_fsx/state"))
end

--- The request log (array), optionally only one operation's requests.
function Server:requests(operation)
  local path = "/_fsx/requests"
  if operation then path = path .. "?operation=" .. operation end
  return (self:control("GET", path)).requests
end

--- Back to the seed: resources, config, faults, logs and counters.
function Server:reset()
  return (self:control("POST", "/_fsx/reset"))
end

--- Replaces the injected faults. list: array of {kind=, rate= | nth=,
-- operation=, seconds=, times=}; seed: the random seed for rates.
function Server:faults(list, seed)
  local body
  if list == nil or next(list) == nil then
    body = '{"faults":[],"seed":' .. tostring(seed or 0) .. '}'
  else
    body = cjson.encode{ faults = list, seed = seed or 0 }
  end
  return (self:control("POST", "/_fsx/faults", body)).faults
end

--- Changes settings: backup_seconds, restore_seconds, limit, copy_limit,
-- delay, clock_skew, page_size, max_skew_seconds. Returns the config.
function Server:config(tbl)
  return (self:control("POST", "/_fsx/config", tbl or {}))
end

--- Adds file_systems, volumes, backups (e.g. a dated history) to the state.
function Server:seed(tbl)
  return (self:control("POST", "/_fsx/seed", tbl))
end

--- Forces a backup's lifecycle: {lifecycle = "FAILED", message = "..."},
-- {lifecycle = "DELETED"}, {duration = 5}, {progress = 40}, ...
function Server:set_backup(id, tbl)
  return (self:control("POST", "/_fsx/backup/" .. id, tbl))
end

--- Sends one FSx API request signed by botocore (not by the library).
-- opts: `credentials` (default helpers.credentials()), `amz_date`,
-- `headers` (extra {name, value}), `region`. Returns the curl result with
-- `json` (the decoded body, when it is JSON).
function Server:signed_request(operation, params, opts)
  opts = opts or {}
  local creds = opts.credentials or M.credentials()
  local body = params and cjson.encode(params) or "{}"
  if body == "[]" then body = "{}" end
  local date = opts.amz_date or M.amz_date()
  local headers = {
    { "Host", "127.0.0.1:" .. self.port },
    { "Content-Type", "application/x-amz-json-1.1" },
    { "X-Amz-Target", "AWSSimbaAPIService_v20180301." .. operation },
    { "X-Amz-Date", date },
  }
  if creds.session_token then headers[#headers + 1] = { "X-Amz-Security-Token", creds.session_token } end
  for _, h in ipairs(opts.headers or {}) do headers[#headers + 1] = h end
  local signed = M.botocore_sign{ {
    method = "POST", path = "/", headers = headers, body = body,
    region = opts.region or self.region, service = "fsx", amz_date = date,
    access_key_id = creds.access_key_id, secret_access_key = creds.secret_access_key,
    session_token = creds.session_token,
  } }[1]
  assert(signed.authorization, signed.error)
  headers[#headers + 1] = { "Authorization", signed.authorization }
  local res = M.curl{ method = "POST", url = self.url .. "/", headers = headers, body = body }
  local ok, doc = pcall(cjson.decode, res.body)
  if ok then res.json = doc end
  return res
end

--- Stops the server (SIGTERM, then SIGKILL after 5 s) and removes its files.
function Server:stop()
  if not self.pid then return end
  os.execute("kill -TERM " .. self.pid .. " 2>/dev/null")
  for _ = 1, 100 do
    if not alive(self.pid) then break end
    M.sleep(0.05)
  end
  if alive(self.pid) then os.execute("kill -KILL " .. self.pid .. " 2>/dev/null") end
  self.pid = nil
  M.rmdir(self.dir)
end

return M
