--- lua-fsx: Amazon FSx backups from Lua.
--
--     local fsx = require "fsx"
--     local client = fsx.new{ region = "us-east-1" }
--     local backup, meta = client:create_backup{ file_system_id = "fs-0123456789abcdef0",
--                                                tags = { Name = "nightly" } }
--
-- Every operation of the FSx API is a client method with snake_case input
-- and output; failures raise structured errors (see `fsx.error`). The
-- module-level functions (`fsx.create_backup{...}`, ...) use a default client
-- built from the environment on first use. Nothing does I/O at require time.
-- @module fsx
local client = require "fsx.client"
local errors = require "fsx.error"

local M = {}

--- The library version.
M._VERSION = require "fsx.version"

--- Create a client (see `fsx.client.new`).
M.new = client.new

--- True when v is an fsx error (and, with code, of that code).
M.is_error = errors.is_error

--- The error module (constructor, kinds).
M.error = errors

local Client = client.Client

local default
--- The default client, built from the environment on first use.
function M.default_client()
  if not default then default = client.new() end
  return default
end

--- Forget the default client (the next shortcut call builds a new one).
function M.reset_default_client()
  default = nil
end

local lazy = { sigv4 = "fsx.sigv4", tags = "fsx.tags", waiter = "fsx.waiter", retention = "fsx.retention" }

setmetatable(M, {
  __index = function(t, k)
    if lazy[k] then
      local mod = require(lazy[k])
      rawset(t, k, mod)
      return mod
    end
    if type(k) == "string" and type(Client[k]) == "function" and k:sub(1, 1) ~= "_" then
      local f = function(...)
        local c = M.default_client()
        return c[k](c, ...)
      end
      rawset(t, k, f)
      return f
    end
  end,
})

return M
