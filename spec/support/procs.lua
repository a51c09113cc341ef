--- Spec support for the credential and config specs: start/stop the local
-- Python servers (IMDS, container, STS), temporary files, an injectable
-- environment, and the `deps` table handed to `fsx.credentials.new`.
--
-- Servers run as `/usr/bin/python3 spec/support/<name>.py --port 0
-- --port-file FILE ...` on 127.0.0.1; `start` waits for the port file and
-- `stop` sends SIGTERM to that one process id.
local M = {}

-- fsx.clock needs the C module; load it only when a server or deps are used
local function clock() return require("fsx.clock") end

M.PYTHON = "/usr/bin/python3"

local shell_quote = require("helpers").q
M.shell_quote = shell_quote

--- Sleep (blocking) for s seconds.
function M.sleep(s) clock().sleep(s) end

--- A new temporary directory, and the removal of one (helpers.tmpdir, helpers.rmdir).
M.tmpdir, M.rmdir = require("helpers").tmpdir, require("helpers").rmdir

--- Write a file.
function M.write(path, text)
  local f = assert(io.open(path, "wb"))
  f:write(text)
  f:close()
  return path
end

--- Start a server script from spec/support.
-- @tparam string script file name, e.g. `"imds_server.py"`
-- @tparam ?string args extra command-line arguments (already quoted)
-- @treturn table `{ pid =, port =, url = "http://127.0.0.1:PORT" }`
function M.start(script, args)
  local port_file = os.tmpname()
  os.remove(port_file)
  local log = port_file .. ".log"
  local cmd = string.format("%s spec/support/%s --port 0 --port-file %s %s >/dev/null 2>%s & echo $!",
                            M.PYTHON, script, shell_quote(port_file), args or "", shell_quote(log))
  local p = assert(io.popen(cmd, "r"))
  local pid = tonumber(p:read("*l"))
  p:close()
  assert(pid, "could not start " .. script)
  local port
  for _ = 1, 200 do
    local f = io.open(port_file, "r")
    if f then
      port = tonumber((f:read("*a") or ""):match("^%s*(%d+)")) -- the first number
      f:close()
      if port then break end
    end
    M.sleep(0.05)
  end
  if not port then
    os.execute("kill " .. pid .. " 2>/dev/null")
    local f = io.open(log, "r")
    local text = f and f:read("*a") or ""
    if f then f:close() end
    error("server " .. script .. " did not start: " .. text)
  end
  os.remove(port_file)
  return { pid = pid, port = port, url = "http://127.0.0.1:" .. port, log = log, script = script }
end

--- Stop a server started by `start` (SIGTERM to its own pid only).
function M.stop(srv)
  if srv and srv.pid then
    os.execute("kill " .. srv.pid .. " 2>/dev/null")
    os.remove(srv.log)
    srv.pid = nil
  end
end

--- The transport used by the specs: the real libcurl transport of lua-fsx.
-- Everything that builds deps goes through here, so switching is one line.
function M.transport()
  return (require("fsx.transport.curl").new())
end

--- The `deps` table for `fsx.credentials.new`, with overrides.
function M.deps(over)
  local d = {
    transport = M.transport(),
    now = clock().now,
    sleep = clock().sleep,
    sign = require("fsx.sigv4").sign,
    user_agent = "lua-fsx-spec/1.0",
  }
  for k, v in pairs(over or {}) do d[k] = v end
  return d
end

local control_send
--- Talk to a server's control endpoints.
-- @tparam table srv from `start`
-- @tparam table|nil ctl JSON object to POST to /_control; nil to GET /_stats
-- @treturn table decoded JSON answer
function M.control(srv, ctl)
  local cjson = require("cjson")
  control_send = control_send or M.transport()
  local req = {
    method = ctl and "POST" or "GET", url = srv.url .. (ctl and "/_control" or "/_stats"),
    scheme = "http", host = "127.0.0.1", port = srv.port,
    path = ctl and "/_control" or "/_stats",
    headers = { { "Content-Type", "application/json" } },
    -- a script of answers can be megabytes long, and make test runs four
    -- interpreters' suites at once: the limits leave room for a loaded machine
    body = ctl and cjson.encode(ctl) or nil, connect_timeout = 5, timeout = 60,
  }
  local resp, kind, code, msg = control_send(req)
  assert(resp, "control request failed: " .. tostring(kind) .. " " .. tostring(code) .. " "
         .. tostring(msg))
  return cjson.decode(resp.body)
end

--- Server statistics (GET /_stats).
function M.stats(srv) return M.control(srv, nil) end

--- Run a Python script (Debian's python3, with botocore) with `input` as
-- JSON on its stdin; returns what it printed, decoded from JSON.
function M.python_json(script, input)
  local cjson = require("cjson")
  local base = os.tmpname()
  M.write(base .. ".py", script)
  M.write(base .. ".json", cjson.encode(input))
  local p = assert(io.popen(M.PYTHON .. " " .. shell_quote(base .. ".py") .. " < "
                            .. shell_quote(base .. ".json") .. " 2>&1", "r"))
  local out = p:read("*a")
  p:close()
  os.remove(base)
  os.remove(base .. ".py")
  os.remove(base .. ".json")
  local ok, v = pcall(cjson.decode, out)
  assert(ok, "python printed: " .. out)
  return v
end

--- An environment reader backed by a table (for `opts.getenv`).
function M.env(t)
  return function(name) return t[name] end
end

return M
