--- The ClientRequestTokens `fsx-backup` sends: given (--token), derived
-- (--token-from) or random, so that every create can be resumed.
--
-- Layer: CLI.
-- @module fsx.cli.tokens
local context = require "fsx.cli.context"
local report = require "fsx.cli.report"

local M = {}

local core = context.core
local one_line, usage_error = report.one_line, report.usage_error

--- The ClientRequestToken `--token-from TEXT` derives: `tf-` and the first
-- 60 hex digits of SHA-256(TEXT), 63 characters (the API's maximum), the
-- same on every run and every machine (`printf %s TEXT | sha256sum`).
function M.token_from(text)
  return "tf-" .. core.sha256_hex(text):sub(1, 60)
end

--- A random token (`cli-` and 32 hex digits).
function M.random()
  local hex = core.random_bytes(16):gsub(".", function(c) return string.format("%02x", c:byte()) end)
  return "cli-" .. hex
end

local function check_token(command, token)
  if #token < 1 or #token > 63 or token:find("[^A-Za-z0-9_.-]") then
    usage_error(command, "--token must be 1 to 63 characters of A-Z a-z 0-9 _ . - (got '"
      .. one_line(token) .. "')")
  end
  return token
end

--- The token of a create or delete: --token, --token-from or nil.
function M.of(ctx)
  local o = ctx.opts
  if o.token and o["token-from"] then
    usage_error(ctx.command, "give --token or --token-from, not both")
  end
  if o.token then return check_token(ctx.command, o.token) end
  if o["token-from"] then return M.token_from(o["token-from"]) end
  return nil
end

return M
