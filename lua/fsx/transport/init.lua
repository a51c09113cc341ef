--- Choosing a transport.
--
-- A transport is a function `send(request) -> response` or
-- `nil, kind, code, message` (see CONTRIBUTING.md). `"curl"` uses libcurl,
-- `"ngx"` uses Nginx cosockets, a function is used as given, and `nil`
-- (automatic) picks per call: cosockets inside Nginx where they are allowed,
-- libcurl elsewhere.
-- @module fsx.transport
local clock = require "fsx.clock"

local M = {}

local function no_op() end

--- Build the send function for a client.
-- @param choice nil, "auto", "curl", "ngx" or a function
-- @tparam table opts client options passed on to the ngx transport
-- @treturn function send, or nil and a message for a bad choice
-- @treturn function close: releases the connections held for the client
--   (the libcurl handle; pooled cosockets belong to the Nginx worker); the
--   next send opens new ones
function M.select(choice, opts)
  if type(choice) == "function" then return choice, no_op end
  if choice == "curl" then return require("fsx.transport.curl").new() end
  if choice == "ngx" then return require("fsx.transport.ngx").new(opts) end
  if choice ~= nil and choice ~= "auto" then
    return nil, 'must be "auto", "curl", "ngx" or a function'
  end
  local curl_send, curl_close, ngx_send
  local function send(req)
    if clock.can_yield() then
      ngx_send = ngx_send or require("fsx.transport.ngx").new(opts)
      return ngx_send(req)
    end
    if not curl_send then curl_send, curl_close = require("fsx.transport.curl").new() end
    return curl_send(req)
  end
  local function close()
    if curl_close then curl_close() end
  end
  return send, close
end

return M
