--- The User-Agent header, shaped like the AWS SDKs' one.
--
-- Layer: Lua layer; depends on `fsx.version`. Example:
-- `lua-fsx/<version> lua/5.4 os/linux cfg/retry-mode#standard app/my-app`.
-- Under LuaJIT the language token is `lua/LuaJIT-2.1.0-beta3`; inside
-- OpenResty `md/openresty#<ngx_lua version>` is added. The application id
-- comes from `AWS_SDK_UA_APP_ID` or the profile's `sdk_ua_app_id` (see
-- `fsx.config`). A caller's `user_agent` replaces all of it (as botocore's
-- `user_agent` does); a caller's `user_agent_extra` is appended last.
-- @module fsx.useragent
local M = {}

-- Characters allowed in a User-Agent token (RFC 9110 tchar), plus `/` and `#`
-- used by the SDK format as separators; anything else becomes `-`.
local function token(s)
  return (tostring(s):gsub("[^%w!#$%%&'*+%-.^_`|~/]", "-"))
end

--- The language token: `5.4` or `LuaJIT-2.1.0-beta3`.
function M.lua_version()
  if type(jit) == "table" and type(jit.version) == "string" then
    return (jit.version:gsub("%s+", "-"))
  end
  return (_VERSION:gsub("^Lua%s*", ""))
end

local os_name
--- The operating system token (`linux`, `macos`, `windows`, `other`).
function M.os()
  if os_name then return os_name end
  if type(jit) == "table" and type(jit.os) == "string" then
    local n = jit.os:lower()
    os_name = (n == "osx") and "macos" or n
    return os_name
  end
  if package.config:sub(1, 1) == "\\" then
    os_name = "windows"
    return os_name
  end
  local f = io.open("/proc/sys/kernel/ostype", "r")
  if f then
    local t = f:read("*l")
    f:close()
    if t then
      os_name = t:lower()
      return os_name
    end
  end
  os_name = "other"
  return os_name
end

-- Text for the header: control characters become spaces.
local function text(s)
  return (tostring(s):gsub("%c", " "))
end

--- Build the User-Agent string.
-- @tparam ?table settings `app_id`, `retry_mode`, `user_agent` (replaces the
--   library's part), `user_agent_extra` (appended)
-- @treturn string
function M.build(settings)
  settings = settings or {}
  local extra = settings.user_agent_extra
  if extra == "" then extra = nil end
  if settings.user_agent and settings.user_agent ~= "" then
    return text(settings.user_agent) .. (extra and " " .. text(extra) or "")
  end
  local parts = {
    "lua-fsx/" .. token(require("fsx.version")),
    "lua/" .. token(M.lua_version()),
    "os/" .. token(M.os()),
  }
  local ngx_ = rawget(_G, "ngx")
  if type(ngx_) == "table" and type(ngx_.config) == "table" and ngx_.config.ngx_lua_version then
    parts[#parts + 1] = "md/openresty#" .. token(ngx_.config.ngx_lua_version)
  end
  if settings.retry_mode then
    parts[#parts + 1] = "cfg/retry-mode#" .. token(settings.retry_mode)
  end
  if settings.app_id and settings.app_id ~= "" then
    parts[#parts + 1] = "app/" .. token(settings.app_id)
  end
  if extra then parts[#parts + 1] = text(extra) end
  return table.concat(parts, " ")
end

return M
