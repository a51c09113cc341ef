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

--- True when the error is of this code, or of one of several:
-- `err:is("BackupInProgress", "BackupRestoring")`.
function mt:is(...)
  for i = 1, select("#", ...) do
    if self.code == select(i, ...) then return true end
  end
  return false
end

-- Secret values scrubbed from every message. A secret registered with an
-- owner (a client) stays as long as that owner lives, however many other
-- owners exist: the owners are weak keys, each with its last MAX_OWNED
-- secrets (a rotating credential does not grow the list). A secret without
-- an owner goes to a process-wide list of the last MAX_SECRETS registered,
-- each with the tick of its last registration: past the limit the one
-- registered least recently is forgotten.
local MAX_SECRETS = 64
local MAX_OWNED = 8
local secrets = {}
local secret_list = {}
local owned = setmetatable({}, { __mode = "k" })
local tick = 0

--- Register a secret value that must never appear in an error message.
-- @tparam string s the secret (ignored when shorter than 8 bytes)
-- @param[opt] owner a table (the client) whose lifetime the secret shares
function M.add_secret(s, owner)
  if type(s) ~= "string" or #s < 8 then return end
  if owner ~= nil then
    local list = owned[owner]
    if not list then
      list = {}
      owned[owner] = list
    end
    for i = 1, #list do
      if list[i] == s then return end
    end
    list[#list + 1] = s
    if #list > MAX_OWNED then table.remove(list, 1) end
    return
  end
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

local function scrub_list(s, list)
  for i = 1, #list do
    if string.find(s, list[i], 1, true) then s = replace_plain(s, list[i], "<redacted>") end
  end
  return s
end

--- Remove every registered secret, anything that looks like a SigV4
-- signature and the value of a security token header (as an echoed
-- canonical request shows it) from a string.
function M.scrub(s)
  if type(s) ~= "string" then return s end
  s = scrub_list(s, secret_list)
  for _, list in pairs(owned) do s = scrub_list(s, list) end
  s = s:gsub("(Signature=)%x+", "%1<redacted>")
  s = s:gsub("([Xx]%-[Aa][Mm][Zz]%-[Ss][Ee][Cc][Uu][Rr][Ii][Tt][Yy]%-[Tt][Oo][Kk][Ee][Nn][\"']?%s*[:=]%s*[\"']?)"
             .. "[^%s\"',;]+", "%1<redacted>")
  return s
end

-- Headers whose whole value is a credential.
local SECRET_HEADERS = {
  ["x-amz-security-token"] = true, ["x-aws-ec2-metadata-token"] = true,
  ["x-amz-sso_bearer_token"] = true, ["proxy-authorization"] = true,
}

local function redact_header(name, value)
  local lname = string.lower(tostring(name))
  value = tostring(value)
  if lname == "authorization" then
    if value:find("^AWS4%-HMAC%-SHA256 ") then
      value = value:gsub("Signature=[^,%s]*", "Signature=<redacted>")
      value = value:gsub("Credential=(%w%w%w%w)[%w]*", "Credential=%1<redacted>")
    else
      value = "<redacted>"
    end
  elseif SECRET_HEADERS[lname] then
    value = "<redacted>"
  end
  return M.scrub(value)
end

--- A copy of headers safe to show: an array of `{name, value}` pairs or a
-- map of name -> value, with the Authorization signature, tokens and every
-- registered secret redacted. The one redaction of the library's `debug`
-- hook, `client:prepare` and `fsx-backup --debug`.
function M.redact_headers(headers)
  local out = {}
  if type(headers) ~= "table" then return out end
  if headers[1] ~= nil then
    for i, h in ipairs(headers) do out[i] = { h[1], redact_header(h[1], h[2]) } end
  else
    for k, v in pairs(headers) do out[k] = redact_header(k, v) end
  end
  return out
end

-- v with every string in it scrubbed: strings directly, tables (read with
-- `next`, so no metamethod runs) as copies when something in them changed,
-- to a depth of 6; fsx errors are scrubbed already.
local function scrub_value(v, depth, copies)
  if type(v) == "string" then return M.scrub(v) end
  if type(v) ~= "table" or depth > 6 or getmetatable(v) == mt then return v end
  if copies[v] then return copies[v] end
  copies[v] = v
  local out
  local k, x = next(v)
  while k ~= nil do
    local nk, nx = scrub_value(k, depth + 1, copies), scrub_value(x, depth + 1, copies)
    if (nk ~= k or nx ~= x) and not out then
      out = {}
      local k2, x2 = next(v)
      while k2 ~= nil do
        out[k2] = x2
        k2, x2 = next(v, k2)
      end
      copies[v] = out
    end
    if out and nk ~= k then out[k] = nil end
    if out then out[nk] = nx end
    k, x = next(v, k)
  end
  if out then
    local vmt = getmetatable(v)
    if type(vmt) == "table" then setmetatable(out, vmt) end
    return out
  end
  return v
end

--- Build an error table (not raised).
-- @tparam table t fields; `kind` is required; every string in it (the
--   message, the service's extra fields, nested tables) is scrubbed of secrets
-- @treturn table the error
function M.new(t)
  assert(type(t) == "table" and KINDS[t.kind], "fsx.error.new: unknown kind")
  local e = {}
  local copies = {}
  for k, v in pairs(t) do e[k] = scrub_value(v, 1, copies) end
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
