--- Credentials from a profile's `credential_process` command.
--
-- Layer: Lua layer (part of credential source 4). The command is split into
-- words as botocore splits it (`fsx.ini.shell_split`: POSIX shell quoting,
-- no variables, no `;` or pipes) and the program runs with exactly those
-- arguments, through `io.popen` with every word quoted. It must print a JSON
-- object on stdout:
-- `{"Version": 1, "AccessKeyId": ..., "SecretAccessKey": ...,
--   "SessionToken": ..., "Expiration": "2024-05-01T12:00:00Z"}`
-- (SessionToken and Expiration optional). A non-zero exit status, output
-- that is not such an object, or an unsupported Version raise a
-- `credentials` error `CredentialProcessError`. The output itself is never
-- copied into an error message: it may hold secrets, and any secret it holds
-- is registered before a failure is reported. The first line of stderr is
-- quoted (scrubbed, short) when the command fails.
--
-- The command blocks the calling process while it runs (no coroutine
-- yield), so inside OpenResty prefer a source that uses the transport. It
-- runs under coreutils' `timeout` (when installed): a command still running
-- after `M.timeout` seconds (default 60, as the AWS SDK for Go allows) is
-- killed with its process group, and the call raises
-- `CredentialProcessError` instead of hanging.
-- @module fsx.credentials.process
local util = require("fsx.credentials.util")
local errors = require("fsx.error")
local ini = require("fsx.ini")

local M = { name = "process" }

--- Seconds a command may run before it is killed (see the module's header).
M.timeout = 60

local MARK = "\n__fsx_exit_status="
local MAX_OUTPUT = 1048576

local shell_quote = ini.shell_quote

local function fail(profile, msg)
  util.raise{ code = "CredentialProcessError", source = "process", profile = profile,
              message = "profile " .. profile .. ": credential_process " .. msg }
end

-- First line of stderr, if it is short and does not look like data. The
-- error built with it scrubs it again, once the output's secrets are known.
local function stderr_hint(path)
  local f = io.open(path, "rb")
  if not f then return "" end
  local text = f:read(4096) or ""
  f:close()
  local line = text:match("^%s*([^\r\n]*)") or ""
  line = line:gsub("%s+$", "")
  if line == "" or #line > 200 or line:find("[{}]") then return "" end
  return ": " .. errors.scrub(line)
end

--- Run the command and parse its output.
-- @tparam table _ctx the chain context (unused)
-- @tparam string command the `credential_process` value
-- @tparam string profile the profile name, for messages
-- @treturn table credentials (`source = "process"`)
-- @raise credentials error `CredentialProcessError`
function M.run(_ctx, command, profile)
  local words, serr = ini.shell_split(command)
  if not words then fail(profile, "cannot be split into words: " .. serr) end
  if #words == 0 then fail(profile, "is empty") end
  for i, w in ipairs(words) do
    if w:find("%z") then fail(profile, "contains a NUL byte") end
    words[i] = shell_quote(w)
  end
  local errfile = os.tmpname()
  local limit = math.max(1, math.floor(tonumber(M.timeout) or 60))
  local argv = table.concat(words, " ")
  -- timeout(1) exits 124 when it stopped the command (137 when the command
  -- ignored SIGTERM and got SIGKILL 2 s later)
  -- (the shell's own stderr goes nowhere: it would report "Killed" there)
  local cmd = "exec 2>/dev/null; (if command -v timeout >/dev/null 2>&1; then timeout -k 2 "
    .. limit .. " " .. argv .. "; else " .. argv .. "; fi) 2>" .. shell_quote(errfile)
    .. " </dev/null; printf '" .. MARK:gsub("\n", "\\n") .. "%d' $?"
  local started = os.time()
  local pipe, perr = io.popen(cmd, "r")
  if not pipe then
    os.remove(errfile)
    fail(profile, "could not be started: " .. tostring(perr))
  end
  local out = pipe:read(MAX_OUTPUT + 64) or ""
  -- drain anything beyond the limit so the child is not blocked on a full pipe
  repeat local more = pipe:read(65536) until not more
  pipe:close()
  local hint = stderr_hint(errfile)
  os.remove(errfile)
  local at = out:find(MARK, 1, true)
  local last
  while at do
    last = at
    at = out:find(MARK, at + 1, true)
  end
  local status = last and tonumber(out:sub(last + #MARK):match("^(%d+)"))
  if not status then fail(profile, "produced too much output or was killed") end
  local body = out:sub(1, last - 1)
  -- decoding registers whatever secrets it printed: they are scrubbed from
  -- every message from now on, its stderr line included
  local obj, why = util.decode_object(body)
  if (status == 124 or status == 137) and os.difftime(os.time(), started) >= limit - 1 then
    fail(profile, string.format("did not finish within %d s and was stopped", limit))
  end
  if status ~= 0 then
    fail(profile, string.format("exited with status %d%s", status, hint))
  end
  if not obj then
    fail(profile, string.format("printed output that is %s (%d bytes; not shown)", why, #body))
  end
  if obj.Version ~= 1 then
    local v = obj.Version
    local shown = (type(v) == "number") and string.format("%g", v)
      or (v == nil and "none" or type(v))
    fail(profile, "printed Version " .. shown .. "; only Version 1 is supported")
  end
  local c, mwhy = util.make{
    access_key_id = obj.AccessKeyId, secret_access_key = obj.SecretAccessKey,
    session_token = obj.SessionToken, expiration = obj.Expiration,
    source = "process", profile = profile,
  }
  if not c then fail(profile, "output is incomplete: " .. mwhy) end
  return c
end

return M
