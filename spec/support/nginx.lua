--- A real Nginx for the specs: config in a private prefix, start, stop, HTTP.
--
-- Layer: test support. `start{...}` writes `PREFIX/conf/nginx.conf` into a
-- fresh temporary prefix (loopback only, one worker, the Lua module loaded
-- with `load_module` because a private config does not read
-- /etc/nginx/modules-enabled), starts `nginx -p PREFIX -c conf/nginx.conf`
-- (it daemonizes once its listening socket is open), and returns a handle:
-- `url(path)`, `get(path)`, `log()`, `stop()`. Requests go through the
-- `curl` command line tool, so the spec driving Nginx runs under any Lua.
-- Works under Lua 5.1/LuaJIT and 5.4.
--
-- The workers read the checkout (lua/, build/luajit/) and the temporary
-- prefix, wherever they are: started by root, the workers run as root too
-- (`-g "user root;"`), since a checkout under /root (mode 0700) or a prefix
-- made by mktemp (0700) is closed to Nginx's default user, nobody. Started
-- by anyone else, the master cannot switch users and its workers run as
-- that user, who can read both.
local helpers = require "helpers"

local M = {}

-- Debian installs nginx in /usr/sbin, which is not on an ordinary user's PATH.
local function find_nginx()
  if io.popen("command -v nginx 2>/dev/null"):read("*l") then return "nginx" end
  local f = io.open("/usr/sbin/nginx")
  if f then f:close() return "/usr/sbin/nginx" end
  return "nginx"
end
M.NGINX = os.getenv("FSX_NGINX") or find_nginx()
M.MODULES = os.getenv("FSX_NGINX_MODULES") or "/usr/lib/nginx/modules"
M.PYTHON = "/usr/bin/python3"

-- The repository root: two levels above this file.
local function repo_root()
  local src = debug.getinfo(1, "S").source:gsub("^@", "")
  local dir = src:match("^(.*)/spec/support/[^/]*$") or "."
  if dir:sub(1, 1) ~= "/" then
    local pwd = io.popen("pwd"):read("*l")
    dir = dir == "." and pwd or (pwd .. "/" .. dir)
  end
  return dir
end
M.ROOT = repo_root()

--- Quote a string for /bin/sh (helpers.q).
M.q = helpers.q
local q = M.q

--- Run a shell command; true when it exited 0 (Lua 5.1 and 5.2+ results).
function M.execute(cmd)
  local a, _, c = os.execute(cmd)
  if type(a) == "number" then return a == 0, a end
  return a == true, c
end

--- Run a shell command and return its whole standard output.
function M.capture(cmd)
  local f = assert(io.popen(cmd, "r"))
  local out = f:read("*a")
  f:close()
  return out
end

-- file helpers shared with the FSx server's spec helpers
local read_file, write_file = helpers.read_file, helpers.write_file
M.read_file, M.write_file = read_file, write_file

--- Sleep s seconds (the spec process only).
function M.sleep(s)
  M.execute("sleep " .. string.format("%.3f", s))
end

--- A free loopback TCP port (asked of the kernel; used right away).
function M.free_port()
  local out = M.capture(M.PYTHON .. [[ -c "import socket; s=socket.socket(); ]] ..
    [[s.bind(('127.0.0.1', 0)); print(s.getsockname()[1]); s.close()"]])
  return assert(tonumber(out), "cannot find a free port: " .. out)
end

-- True when the specs run as root (see the header).
local function is_root()
  return M.capture("id -u"):match("^%s*0%s*$") ~= nil
end
M.AS_ROOT = is_root()

--- A new temporary directory.
function M.tempdir(tag)
  local dir = M.capture("mktemp -d /tmp/fsx-" .. (tag or "nginx") .. ".XXXXXX"):gsub("%s+$", "")
  assert(dir ~= "", "mktemp failed")
  return dir
end

--- True when Nginx and its Lua module are installed (with a reason otherwise).
function M.available()
  if not M.execute("command -v " .. M.NGINX .. " >/dev/null 2>&1") then
    return false, "no nginx binary"
  end
  if not io.open(M.MODULES .. "/ngx_http_lua_module.so") then
    return false, "no " .. M.MODULES .. "/ngx_http_lua_module.so (libnginx-mod-http-lua)"
  end
  if not M.execute("command -v curl >/dev/null 2>&1") then return false, "no curl command" end
  return true
end

--- busted's `describe` for the blocks that need a real Nginx, or one that
-- marks them pending with the reason. Nginx embeds LuaJIT whatever
-- interpreter runs busted, so they test the same thing under lua5.4 and
-- luajit: `make test` runs them once, in the luajit run
-- (FSX_NGINX_SPEC_ALL=1 runs them anyway).
function M.describe_nginx(describe, pending)
  local available, why = M.available()
  if available and not jit and os.getenv("FSX_NGINX_SPEC_ALL") ~= "1" then
    available, why = false, "run once, under luajit busted (Nginx embeds LuaJIT either way); " ..
                            "FSX_NGINX_SPEC_ALL=1 runs them here too"
  end
  if available then return describe end
  return function(name) pending(name .. " (skipped: " .. why .. ")") end
end

--- The module path for the Lua VM inside Nginx: this repository's lua/
-- first, then the defaults (`;;`), which hold Debian's resty.core: the Lua
-- module of Nginx requires resty.core at startup and refuses to start
-- without it.
function M.lua_paths(root)
  root = root or M.ROOT
  return string.format('lua_package_path "%s/lua/?.lua;%s/lua/?/init.lua;;";\n' ..
                       '    lua_package_cpath "%s/?.so;;";', root, root, M.build_dir(root))
end

--- The directory holding fsx/core.so for LuaJIT (`make LUA=luajit`), or
-- FSX_NGINX_BUILD when set.
function M.build_dir(root)
  return os.getenv("FSX_NGINX_BUILD") or ((root or M.ROOT) .. "/build/luajit")
end

local CONF = [[
# written by spec/support/nginx.lua
load_module ${modules}/ndk_http_module.so;
load_module ${modules}/ngx_http_lua_module.so;
daemon on;
master_process on;
worker_processes ${workers};
error_log ${prefix}/logs/error.log ${log_level};
pid ${prefix}/logs/nginx.pid;
${main}
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path ${prefix}/tmp/body;
    proxy_temp_path ${prefix}/tmp/proxy;
    fastcgi_temp_path ${prefix}/tmp/fastcgi;
    uwsgi_temp_path ${prefix}/tmp/uwsgi;
    scgi_temp_path ${prefix}/tmp/scgi;
    ${lua_paths}
${http}
    server {
        listen 127.0.0.1:${port};
        location = /__harness { return 200 "up\n"; }
${server}
    }
}
]]

local function expand(template, vars)
  return (template:gsub("%${([%w_]+)}", function(k)
    local v = vars[k]
    assert(v ~= nil, "no value for ${" .. k .. "}")
    return tostring(v)
  end))
end
M.expand = expand

-- The files Nginx opens by default, in the temporary prefix: a whole config
-- (an example) that leaves them out would have Nginx open Debian's
-- /var/log/nginx/access.log and /var/lib/nginx/*, which an ordinary user
-- cannot, and root's runs would write there.
local DEFAULT_PATHS = {
  { "access_log", "logs/access.log" }, { "client_body_temp_path", "tmp/body" },
  { "proxy_temp_path", "tmp/proxy" }, { "fastcgi_temp_path", "tmp/fastcgi" },
  { "uwsgi_temp_path", "tmp/uwsgi" }, { "scgi_temp_path", "tmp/scgi" },
}
local function private_paths(conf, prefix)
  local add = {}
  for _, d in ipairs(DEFAULT_PATHS) do
    if not conf:find("%f[%w_]" .. d[1] .. "%s") then
      add[#add + 1] = "    " .. d[1] .. " " .. prefix .. "/" .. d[2] .. ";"
    end
  end
  if #add == 0 then return conf end
  local out, n = conf:gsub("\nhttp%s*{", function(open)
    return open .. "\n" .. table.concat(add, "\n")
  end, 1)
  assert(n == 1, "no http block in the nginx config")
  return out
end

local Server = {}
Server.__index = Server

--- The test server `script` (spec/support/procs.lua) and Nginx with `opts`
-- (as `start`), for one `describe` block:
--     local env = nginx.with_backend("wire_server.py", { server = SERVER })
--     setup(env.start)
--     teardown(env.stop)
-- @treturn table `start` and `stop`, and after `start`: `backend` (the
--   procs handle) and `srv` (the Nginx handle)
function M.with_backend(script, opts)
  local procs = require "support.procs"
  local h = {}
  function h.start()
    h.backend = procs.start(script)
    local err
    h.srv, err = M.start(opts)
    assert(h.srv, err)
  end
  function h.stop()
    if h.srv then h.srv:stop() end
    procs.stop(h.backend)
  end
  return h
end

--- Start Nginx.
-- @tparam table opts `main` (main-context directives, e.g. `env`), `http`
--   (http-context directives), `server` (directives of the one server),
--   `conf` (a whole config instead: a string in which `${port}`,
--   `${prefix}`, `${modules}`, `${root}` and `${lua_paths}` are expanded,
--   or a function(vars) -> string), `vars` (more values), `env` (map of variables set for the
--   nginx process), `workers` (default 1), `log_level` (default "info")
-- @return a server handle, or nil and a message (with the error log, or
--   saying that the LuaJIT build of fsx/core.so is missing)
function M.start(opts)
  opts = opts or {}
  local so = io.open(M.build_dir(opts.root) .. "/fsx/core.so")
  if not so then return nil, "build the C module for LuaJIT first: make LUA=luajit" end
  so:close()
  local prefix = M.tempdir("nginx")
  for _, d in ipairs{ "conf", "logs", "tmp" } do
    assert(M.execute("mkdir -p " .. q(prefix .. "/" .. d)))
  end
  local last_err
  for _ = 1, 5 do
    local port = M.free_port()
    local vars = {
      modules = M.MODULES, prefix = prefix, port = port, workers = opts.workers or 1,
      log_level = opts.log_level or "info", main = opts.main or "", http = opts.http or "",
      server = opts.server or "", lua_paths = M.lua_paths(opts.root), root = M.ROOT,
    }
    for k, v in pairs(opts.vars or {}) do vars[k] = v end
    local conf
    if type(opts.conf) == "function" then
      conf = opts.conf(vars)
    else
      conf = expand(opts.conf or CONF, vars)
    end
    conf = private_paths(conf, prefix)
    write_file(prefix .. "/conf/nginx.conf", conf)
    local envs = {}
    for k, v in pairs(opts.env or {}) do envs[#envs + 1] = k .. "=" .. q(v) end
    table.sort(envs)
    local cmd = "cd " .. q(M.ROOT) .. " && env " .. table.concat(envs, " ") .. " " ..
      M.NGINX .. " -p " .. q(prefix) .. " -c conf/nginx.conf " ..
      (M.AS_ROOT and "-g 'user root;' " or "") .. "-e " ..
      q(prefix .. "/logs/error.log") .. " > " .. q(prefix .. "/logs/startup.log") .. " 2>&1"
    local ok = M.execute(cmd)
    local srv = setmetatable({ prefix = prefix, port = port, conf = conf,
                               base = "http://127.0.0.1:" .. port }, Server)
    if ok then
      -- the master daemonized with its socket open; wait for a worker to answer
      for _ = 1, 100 do
        local status = srv:get("/__harness", { max_time = 1 })
        if status ~= 0 then return srv end
        M.sleep(0.05)
      end
      last_err = "nginx started but did not answer"
      srv:stop()
    else
      last_err = "nginx did not start"
    end
    local startup = (read_file(prefix .. "/logs/startup.log") or "") ..
                    (read_file(prefix .. "/logs/error.log") or "")
    last_err = last_err .. ":\n" .. startup
    if not startup:find("Address already in use", 1, true) then break end
  end
  return nil, last_err
end

--- The URL of a path on this server.
function Server:url(path)
  return self.base .. (path or "/")
end

--- The error log (whole, or the last n bytes).
function Server:log(n)
  local s = read_file(self.prefix .. "/logs/error.log") or ""
  if n and #s > n then s = s:sub(-n) end
  return s
end

--- GET (or `opts.method`) a path with curl: status, body, seconds taken.
-- @tparam table opts `method`, `data` (request body), `max_time` (s)
function Server:get(path, opts)
  return M.http(self:url(path), opts)
end

--- One HTTP request with the curl command line tool: status (0 when there
-- was no answer), body, seconds taken.
function M.http(url, opts)
  opts = opts or {}
  local body_file = os.tmpname()
  local cmd = "curl -sS --noproxy '*' --max-time " .. (opts.max_time or 60) ..
    " -o " .. q(body_file) .. " -w '%{http_code} %{time_total}'"
  if opts.method then cmd = cmd .. " -X " .. q(opts.method) end
  if opts.data then cmd = cmd .. " --data-binary " .. q(opts.data) end
  cmd = cmd .. " " .. q(url) .. " 2>/dev/null"
  local out = M.capture(cmd)
  local body = read_file(body_file) or ""
  os.remove(body_file)
  local status, secs = out:match("(%d+) ([%d.]+)")
  return tonumber(status) or 0, body, tonumber(secs)
end

--- `n` concurrent requests to `url` (one curl process each), and meanwhile
-- `pings` sequential requests to `ping_url`. Returns a table: `total`
-- (seconds, wall clock, from the first start to the last answer),
-- `results` (array of {status, seconds, body}), `pings` (array of
-- {status, seconds}).
function Server:parallel(opts)
  local dir = M.tempdir("par")
  local script = {
    "t0=$(date +%s%N)",
    "i=1",
    "while [ $i -le " .. opts.n .. " ]; do",
    "  curl -sS --noproxy '*' --max-time " .. (opts.max_time or 60) ..
      " -o " .. dir .. "/body.$i -w '%{http_code} %{time_total}\\n' " ..
      q(self:url(opts.path)) .. " > " .. dir .. "/meta.$i 2>/dev/null &",
    "  i=$((i+1))",
    "done",
  }
  if opts.ping_path and (opts.pings or 0) > 0 then
    script[#script + 1] = "sleep " .. (opts.ping_delay or 0.05)
    script[#script + 1] = "j=1"
    script[#script + 1] = "while [ $j -le " .. opts.pings .. " ]; do"
    script[#script + 1] = "  curl -sS --noproxy '*' --max-time 60 -o /dev/null -w " ..
      "'%{http_code} %{time_total}\\n' " .. q(self:url(opts.ping_path)) ..
      " >> " .. dir .. "/pings 2>/dev/null"
    script[#script + 1] = "  sleep " .. (opts.ping_gap or 0.02)
    script[#script + 1] = "  j=$((j+1))"
    script[#script + 1] = "done"
  end
  script[#script + 1] = "wait"
  script[#script + 1] = "t1=$(date +%s%N)"
  script[#script + 1] = "echo $(( (t1 - t0) / 1000000 ))"
  write_file(dir .. "/run.sh", table.concat(script, "\n") .. "\n")
  local ms = tonumber((M.capture("sh " .. q(dir .. "/run.sh")):match("(%d+)%s*$")))
  local out = { total = (ms or 0) / 1000, results = {}, pings = {} }
  for i = 1, opts.n do
    local meta = read_file(dir .. "/meta." .. i) or ""
    local status, secs = meta:match("(%d+) ([%d.]+)")
    out.results[i] = { tonumber(status) or 0, tonumber(secs), read_file(dir .. "/body." .. i) or "" }
  end
  for line in (read_file(dir .. "/pings") or ""):gmatch("[^\n]+") do
    local status, secs = line:match("(%d+) ([%d.]+)")
    out.pings[#out.pings + 1] = { tonumber(status) or 0, tonumber(secs) }
  end
  M.execute("rm -rf " .. q(dir))
  return out
end

local function pid_alive(pid)
  return M.execute("kill -0 " .. pid .. " 2>/dev/null")
end

--- Stop Nginx: graceful quit (the signal `nginx -s quit` sends), then
-- TERM, then KILL of the master and its workers. The prefix is removed
-- unless FSX_KEEP_NGINX is set or `keep` is true.
function Server:stop(keep)
  local pid = tonumber((read_file(self.prefix .. "/logs/nginx.pid") or ""):match("%d+"))
  if pid then
    local children = M.capture("pgrep -P " .. pid .. " 2>/dev/null")
    for _, sig in ipairs{ "QUIT", "TERM", "KILL" } do
      if not pid_alive(pid) then break end
      M.execute("kill -" .. sig .. " " .. pid .. " 2>/dev/null")
      for _ = 1, 50 do
        if not pid_alive(pid) then break end
        M.sleep(0.05)
      end
    end
    for child in children:gmatch("%d+") do
      M.execute("kill -KILL " .. child .. " 2>/dev/null")
    end
  end
  if not keep and not os.getenv("FSX_KEEP_NGINX") then
    M.execute("rm -rf " .. q(self.prefix))
  end
end

--- Run fn; when it raises, print the tail of the error log (so a failing
-- test shows what Nginx said) and raise again.
function Server:check(fn)
  local ok, err = pcall(fn)
  if not ok then
    io.stderr:write("\n---- nginx error log (" .. self.prefix .. "/logs/error.log, tail) ----\n",
                    self:log(8000), "\n---- end of nginx error log ----\n")
    error(err, 0)
  end
end

--- Start a helper process in the background (a Python test server).
-- @tparam string cmd the command line (already quoted)
-- @tparam string port_file the file the process writes its port(s) to
-- @return a handle `{ pid =, ports = {...}, stop = fn }` or nil and a message
function M.spawn(cmd, port_file)
  local pid = M.capture(cmd .. " >/dev/null 2>&1 & echo $!"):match("%d+")
  if not pid then return nil, "could not start: " .. cmd end
  for _ = 1, 200 do
    local s = read_file(port_file)
    if s and s:find("%d") then  -- written whole (rename) by every server here
      local ports = {}
      for p in s:gmatch("%d+") do ports[#ports + 1] = tonumber(p) end
      return {
        pid = pid, ports = ports,
        stop = function()
          M.execute("kill " .. pid .. " 2>/dev/null")
          os.remove(port_file)
        end,
      }
    end
    if not pid_alive(pid) then return nil, "exited early: " .. cmd end
    M.sleep(0.05)
  end
  M.execute("kill " .. pid .. " 2>/dev/null")
  return nil, "no port file from: " .. cmd
end

--- Start spec/support/chunked_server.py (with a TLS port when cert/key are given).
function M.start_raw_server(dir, cert, key)
  local port_file = dir .. "/raw.port"
  local cmd = M.PYTHON .. " " .. q(M.ROOT .. "/spec/support/chunked_server.py") ..
    " --port-file " .. q(port_file)
  if cert then cmd = cmd .. " --tls-cert " .. q(cert) .. " --tls-key " .. q(key) end
  local h, err = M.spawn(cmd, port_file)
  if not h then return nil, err end
  h.port, h.tls_port = h.ports[1], h.ports[2]
  return h
end

--- A self-signed certificate for `localhost` / 127.0.0.1 into dir/<name>.{pem,key}.
function M.make_cert(dir, name, cn)
  local cert, key = dir .. "/" .. name .. ".pem", dir .. "/" .. name .. ".key"
  local ok = M.execute("openssl req -x509 -newkey rsa:2048 -nodes -days 2 -sha256 -subj " ..
    q("/CN=" .. (cn or "localhost")) .. " -addext " ..
    q("subjectAltName=DNS:" .. (cn or "localhost") .. ",IP:127.0.0.1") ..
    " -keyout " .. q(key) .. " -out " .. q(cert) .. " >/dev/null 2>&1")
  if not ok then return nil end
  return cert, key
end

return M
