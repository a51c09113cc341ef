-- interrupt.lua - a process that catches termination signals and then waits
-- on a server that never answers (raw_http_server.py's /hang), for the
-- signal specs of spec/binding_spec.lua.
--
-- Usage: interrupt.lua URL READY_FILE
-- Calls core.catch_signals(), writes its process id to READY_FILE, then performs a GET of URL
-- with a 30-second timeout, then a second GET of URL. Prints
--   first <status|nil> <kind> <code> second <kind> <code> caught <n>
-- and exits 0.
local core = require "fsx.core"

local url, ready = arg[1], arg[2]
assert(core.caught_signal() == nil, "a signal recorded before any was caught")
assert(core.catch_signals())
local h = assert(core.http_new())
local stat = assert(io.open("/proc/self/stat"))
local pid = assert(stat:read("*l"):match("^(%d+)"))
stat:close()
local f = assert(io.open(ready .. ".tmp", "w"))
f:write(pid)
f:close()
assert(os.rename(ready .. ".tmp", ready))
local req = { method = "GET", url = url, timeout = 30, connect_timeout = 5 }
local s1, k1, c1 = h:perform(req)
local s2, k2, c2 = h:perform(req)
h:close()
print(string.format("first %s %s %s second %s %s caught %s", tostring(s1), tostring(k1),
  tostring(c1), tostring(s2 and "status" or k2), tostring(c2), tostring(core.caught_signal())))
