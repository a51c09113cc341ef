--- Time and sleeping, the same API in a plain Lua process and inside Nginx.
--
-- `now()` is wall-clock epoch seconds (what SigV4 signs), `monotime()` is a
-- monotonic clock for timeouts and deadlines, `sleep(s)` yields to the Nginx
-- event loop (`ngx.sleep`) in phases where that is allowed and sleeps the
-- process otherwise. Nothing here runs at require time.
-- @module fsx.clock
local core = require "fsx.core"

local M = {}

-- Nginx phases in which ngx.sleep (and cosockets) may be used.
local YIELDABLE = {
  rewrite = true, access = true, content = true, timer = true,
  ssl_cert = true, ssl_session_fetch = true, ssl_client_hello = true,
  preread = true,
}

--- True when running inside Nginx in a phase where cosockets and ngx.sleep work.
function M.can_yield()
  local ngx = rawget(_G, "ngx")
  if type(ngx) ~= "table" or type(ngx.get_phase) ~= "function" then return false end
  return YIELDABLE[ngx.get_phase()] == true
end

--- Wall-clock time, epoch seconds with a fraction.
function M.now()
  return core.time()
end

--- Monotonic seconds (only differences are meaningful).
function M.monotime()
  return core.monotime()
end

--- Sleep for s seconds without blocking an Nginx worker where that is possible.
function M.sleep(s)
  if not s or s <= 0 then return end
  if M.can_yield() then
    rawget(_G, "ngx").sleep(s)
  else
    core.sleep(s)
  end
end

return M
