--- Structured errors: the one constructor and the one metatable.
--
-- Every failure the library raises is a table built here, raised with
-- `error(err, 0)`. Fields: `kind` (validation, credentials, transport,
-- timeout, service, decode, waiter, limit), `code`, `message`, `status`,
-- `request_id`, `operation`, `retryable`, `attempts`, and the service's extra
-- fields in snake_case. Secrets never go into an error: `new` scrubs known
-- secret values from the message (see `add_secret`).
-- @module fsx.error
local replace_plain = require("fsx.strings").replace

local M = {}

local KINDS = {
  validation = true, credentials = true, transport = true, timeout = true,
  service = true, decode = true, waiter = true, limit = true,
}
M.KINDS = KINDS

local mt = {}
mt.__index = mt

--- Readable one-line form: `fsx service error BackupInProgress (HTTP 400, request
-- 1234): message`.
function mt.__tostring(e)
  local parts = { "fsx ", tostring(e.kind), " error" }
  if e.code then parts[#parts + 1] = " " .. tostring(e.code) end
  local extra = {}
  if e.status then extra[#extra + 1] = "HTTP " .. tostring(e.status) end
  if e.request_id then extra[#extra + 1] = "request " .. tostring(e.request_id) end
  if e.attempts and e.attempts > 1 then extra[#extra + 1] = tostring(e.attempts) .. " attempts" end
  if #extra > 0 then parts[#parts + 1] = " (" .. table.concat(extra, ", ") .. ")" end
  if e.message and e.message ~= "" then parts[#parts + 1] = ": " .. tostring(e.message) end
  return table.concat(parts)
end

--- True when the error is of this code (or one of several codes).
function mt:is(code)
  return self.code == code
end

-- Secret values seen by this process (secret keys, session tokens), scrubbed
-- from every message: the last MAX_SECRETS registered, each with the tick of
-- its last registration. Signing registers its secrets on every call, so a
-- secret in use stays; past the limit the one registered least recently is
-- forgotten, from the list and the set alike (a rotating credential must not
-- push out one still in use, nor grow the set without end).
local MAX_SECRETS = 64
local secrets = {}
local secret_list = {}
local tick = 0

--- Register a secret value that must never appear in an error message.
-- @tparam string s the secret (ignored when shorter than 8 bytes)
function M.add_secret(s)
  if type(s) ~= "string" or #s < 8 then return end
  tick = tick + 1
  if secrets[s] then
    secrets[s] = tick
    return
  end
  secrets[s] = tick
  secret_list[#secret_list + 1] = s
  if #secret_list > MAX_SECRETS then
    local oldest = 1
    for i = 2, #secret_list do
      if secrets[secret_list[i]] < secrets[secret_list[oldest]] then oldest = i end
    end
    secrets[table.remove(secret_list, oldest)] = nil
  end
end

--- Remove every registered secret and anything that looks like a SigV4
-- Authorization value from a string.
function M.scrub(s)
  if type(s) ~= "string" then return s end
  for i = 1, #secret_list do
    if string.find(s, secret_list[i], 1, true) then
      s = replace_plain(s, secret_list[i], "<redacted>")
    end
  end
  s = s:gsub("(Signature=)%x+", "%1<redacted>")
  return s
end

--- Build an error table (not raised).
-- @tparam table t fields; `kind` is required, `message` is scrubbed of secrets
-- @treturn table the error
function M.new(t)
  assert(type(t) == "table" and KINDS[t.kind], "fsx.error.new: unknown kind")
  local e = {}
  for k, v in pairs(t) do e[k] = v end
  if e.message ~= nil then e.message = M.scrub(tostring(e.message)) end
  if e.retryable == nil then e.retryable = false end
  return setmetatable(e, mt)
end

--- Build and raise an error with `error(err, 0)`.
function M.raise(t)
  error(M.new(t), 0)
end

--- Raise a validation error for `operation: field: message`.
-- @tparam string op snake_case operation or function name (`create_backup`)
-- @tparam ?string field the field path (`tags[3].key`), may be nil
-- @tparam string msg what is wrong
function M.validation(op, field, msg)
  local text = op and (op .. ": ") or ""
  if field and field ~= "" then text = text .. field .. ": " end
  error(M.new{ kind = "validation", code = "ValidationError", message = text .. msg,
               operation = op, field = field }, 0)
end

--- True when v is a table whose metatable would run the caller's code on
-- access or iteration (`__index`, `__newindex`, `__pairs`, `__len`, or a
-- protected metatable that cannot be inspected).
function M.is_proxy(v)
  if type(v) ~= "table" then return false end
  local vmt = getmetatable(v)
  if vmt == nil then return false end
  return type(vmt) ~= "table" or rawget(vmt, "__index") ~= nil or rawget(vmt, "__newindex") ~= nil
    or rawget(vmt, "__pairs") ~= nil or rawget(vmt, "__len") ~= nil
end

--- Raise a validation error naming `op` and `field` when v is a proxy table
-- (see `is_proxy`): the helpers read their arguments with plain indexing,
-- `pairs` and `#`, and a proxy must neither raise through them nor change
-- what they read. Returns v.
function M.plain(op, field, v)
  if M.is_proxy(v) then
    M.validation(op, field, "must be a plain table (metatables with __index, __newindex, "
                 .. "__pairs or __len are not supported)")
  end
  return v
end

--- True when v is an fsx error, and, with code, of that code.
function M.is_error(v, code)
  if getmetatable(v) ~= mt then return false end
  if code ~= nil then return v.code == code end
  return true
end

M.metatable = mt
return M
