--- The libcurl transport: one reused easy handle per client (keep-alive).
--
-- Blocking: outside Nginx only (inside Nginx, `fsx.transport.ngx`).
-- @module fsx.transport.curl
local core = require "fsx.core"

local M = {}

--- A new transport function `send(request) -> response | nil, kind, code, message`.
-- The handle is created on first use, never at require time.
-- @treturn function send
-- @treturn function close (frees the handle; the next send makes a new one)
function M.new()
  local handle
  local stats = { connections = 0, requests = 0 }
  local function send(req)
    if not handle then
      local h, kind, code, msg = core.http_new()
      if not h then return nil, kind or "transport", code, msg end
      handle = h
    end
    -- headers: a map, names in lowercase, repeated names joined with ", "
    local status, headers, body, new_conns = handle:perform(req)
    if not status then return nil, headers, body, new_conns end
    stats.requests = stats.requests + 1
    stats.connections = stats.connections + new_conns
    return { status = status, headers = headers, body = body,
             new_connections = new_conns }
  end
  local function close()
    if handle then handle:close() end
    handle = nil
  end
  return send, close, stats
end

return M
