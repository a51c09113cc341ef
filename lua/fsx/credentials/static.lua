--- Explicit credentials: the `credentials` option of `fsx.new`.
--
-- Layer: Lua layer (credential source 1). The option is either a table
-- `{ access_key_id =, secret_access_key =, session_token =, expiration = }`
-- (expiration as epoch seconds or ISO 8601 text, optional) or a function
-- returning such a table. A function's result is cached like any temporary
-- credentials when it carries an expiration; without one the function is
-- called again on every `get()`, so it stays in charge of rotation.
-- @module fsx.credentials.static
local errors = require("fsx.error")
local util = require("fsx.credentials.util")

local M = { name = "explicit" }

local function check(t, what)
  if type(t) ~= "table" then
    util.raise{ code = "InvalidCredentials", source = "explicit",
                message = "explicit: " .. what .. " must be a table, got " .. type(t) }
  end
  if errors.is_proxy(t) then
    util.raise{ code = "InvalidCredentials", source = "explicit",
                message = "explicit: " .. what .. " must be a plain table (no __index, __pairs "
                  .. "or __len metamethods)" }
  end
  local c, why = util.make{
    access_key_id = t.access_key_id, secret_access_key = t.secret_access_key,
    session_token = t.session_token, expiration = t.expiration, source = "explicit",
  }
  if not c then
    util.raise{ code = "InvalidCredentials", source = "explicit",
                message = "explicit: " .. what .. ": " .. why }
  end
  return c
end

--- Load the explicit credentials.
-- @tparam table ctx the chain context
-- @treturn ?table credentials, or nil and the reason when none were given
-- @raise credentials error `InvalidCredentials` for a malformed value or a
--   provider function that fails
function M.load(ctx)
  local given = ctx.opts.credentials
  if given == nil then return nil, "no credentials option given" end
  if type(given) == "function" then
    local ok, res = pcall(given)
    if not ok then
      local msg = type(res) == "table" and res.message or tostring(res)
      util.raise{ code = "InvalidCredentials", source = "explicit",
                  message = "explicit: the credentials function failed: " .. tostring(msg) }
    end
    local c = check(res, "the credentials function's result")
    -- without an expiration the function is asked again next time
    if not c.expiration then c.no_cache = true end
    return c
  end
  return check(given, "the credentials option")
end

return M
