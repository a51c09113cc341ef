--- Structured errors: the one constructor and the one metatable.
--
-- Every failure the library raises is a table built here, raised with
-- `error(err, 0)`. Fields: `kind` (validation, credentials, transport,
-- timeout, service, decode, waiter, limit), `code`, `message`, `status`,
-- `request_id`, `operation`, `retryable`, `attempts`, and the service's extra
-- fields in snake_case. Secrets never go into an error: `new` scrubs known
-- secret values from the message (see `add_secret`).
-- @module fsx.error

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
-- bumped when a secret is registered: the fragment index below is rebuilt
local version = 0

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
    version = version + 1
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
  version = version + 1
  if #secret_list > MAX_SECRETS then
    local oldest = 1
    for i = 2, #secret_list do
      if secrets[secret_list[i]] < secrets[secret_list[oldest]] then oldest = i end
    end
    secrets[table.remove(secret_list, oldest)] = nil
    version = version + 1
  end
end

-- A secret also leaks in pieces and in other spellings: cut short ("IQoJb3Jp...")
-- or quoted by a service as percent-encoding, JSON escapes (`\/`, `\u002b`)
-- or wrapped over lines. The scrub reads the text as it would be decoded
-- (`decoded`), and redacts every run of token characters that shares
-- FRAGMENT characters with a secret, in any case (a transport lowercases
-- header names), and every secret found whole.
local FRAGMENT = 16
-- the characters of keys, session tokens, JWTs and bearer tokens
local RUN = "[%w%+/=_%-%.]+"
local index, index_version = nil, -1

-- Every registered secret, the global ones and those of live owners.
local function each_secret(f)
  for i = 1, #secret_list do f(secret_list[i]) end
  for _, list in pairs(owned) do
    for i = 1, #list do f(list[i]) end
  end
end

-- The sets of the FRAGMENT-long pieces of the secrets' runs and of their
-- pieces half as long (lowercased), rebuilt after a secret was registered.
local HALF = FRAGMENT / 2
local halves
local function fragments()
  if index_version == version then return index, halves end
  index, halves = {}, {}
  each_secret(function(s)
    for run in s:lower():gmatch(RUN) do
      for i = 1, #run - FRAGMENT + 1 do index[run:sub(i, i + FRAGMENT - 1)] = true end
      if #run >= FRAGMENT then
        for i = 1, #run - HALF + 1 do halves[run:sub(i, i + HALF - 1)] = true end
      end
    end
  end)
  index_version = version
  return index, halves
end

-- True when run (lowercased) shares FRAGMENT characters with a secret. A
-- shared piece holds a HALF-long piece starting at a multiple of HALF
-- (plus one) of run, so only those are looked up first.
local function shares_fragment(run, pieces, half_pieces)
  for i = 1, #run - HALF + 1, HALF do
    if half_pieces[run:sub(i, i + HALF - 1)] then
      for j = math.max(1, i - HALF), math.min(i, #run - FRAGMENT + 1) do
        if pieces[run:sub(j, j + FRAGMENT - 1)] then return true end
      end
    end
  end
  return false
end

local HEX = "^[%da-fA-F][%da-fA-F]$"
local JSON_ESCAPES = { ["/"] = "/", ["\\"] = "\\", ['"'] = '"', b = "\b", f = "\f" }
local BREAK_ESCAPES = { n = true, r = true, t = true }

-- s as a service's quoting would decode: percent escapes and JSON escapes
-- decoded, line breaks (real or escaped) and the indentation after them
-- dropped. Returns the text and, for each of its characters, the first and
-- last position in s it comes from; nil when s has nothing to decode.
local function decoded(s)
  if not s:find("[%%\\\r\n]") then return nil end
  local out, from, to = {}, {}, {}
  local i, n, broke = 1, #s, false
  local sub, char = string.sub, string.char
  while i <= n do
    local c = sub(s, i, i)
    local ch, last, is_break = nil, i, false
    if c == "%" and sub(s, i + 1, i + 2):find(HEX) then
      ch, last = char(tonumber(sub(s, i + 1, i + 2), 16)), i + 2
    elseif c == "\\" then
      local e = sub(s, i + 1, i + 1)
      if JSON_ESCAPES[e] then
        ch, last = JSON_ESCAPES[e], i + 1
      elseif BREAK_ESCAPES[e] then
        last, is_break = i + 1, true
      elseif e == "u" and sub(s, i + 2, i + 5):find("^%x%x%x%x$") then
        local code = tonumber(sub(s, i + 2, i + 5), 16)
        ch, last = code < 128 and char(code) or "?", i + 5
      else
        ch = c
      end
    elseif c == "\r" or c == "\n" then
      is_break = true
    elseif broke and (c == " " or c == "\t") then
      is_break = true
    else
      ch = c
    end
    if ch then
      out[#out + 1] = ch
      from[#out], to[#out] = i, last
    end
    broke = is_break
    i = last + 1
  end
  return table.concat(out), from, to
end

-- Texts are read in windows of WINDOW bytes overlapping by OVERLAP (more
-- than any secret takes even percent-encoded and wrapped), so a large body
-- given to the debug hook costs memory for one window only.
local WINDOW, OVERLAP = 65536, 16384

-- Appends to spans the {first, last} positions in s (plus offset) of every
-- secret and piece of one in s.
local function find_spans(s, offset, spans, pieces, half_pieces)
  local text, from, to = decoded(s)
  text = text or s
  local found = {}
  if next(pieces) then
    for a, run, b in text:gmatch("()(" .. RUN .. ")()") do
      if #run >= FRAGMENT and shares_fragment(run:lower(), pieces, half_pieces) then
        found[#found + 1] = { a, b - 1 }
      end
    end
  end
  each_secret(function(secret)
    local a, b = string.find(text, secret, 1, true)
    while a do
      found[#found + 1] = { a, b }
      a, b = string.find(text, secret, b + 1, true)
    end
  end)
  for _, sp in ipairs(found) do
    if from then sp[1], sp[2] = from[sp[1]], to[sp[2]] end
    spans[#spans + 1] = { sp[1] + offset, sp[2] + offset }
  end
end

--- Remove every registered secret (whole, in pieces of FRAGMENT characters or
-- more, percent-encoded, JSON-escaped or wrapped over lines), anything that
-- looks like a SigV4 signature and the value of a security token header (as
-- an echoed canonical request shows it) from a string.
function M.scrub(s)
  if type(s) ~= "string" then return s end
  local spans = {}
  local pieces, half_pieces = fragments()
  local first = 1
  while true do
    local last = math.min(#s, first + WINDOW + OVERLAP - 1)
    find_spans(first == 1 and last == #s and s or s:sub(first, last), first - 1, spans, pieces, half_pieces)
    if last == #s then break end
    first = first + WINDOW
  end
  if #spans > 0 then
    table.sort(spans, function(x, y) return x[1] < y[1] end)
    local out, pos = {}, 1
    for _, sp in ipairs(spans) do
      if sp[1] >= pos then
        out[#out + 1] = s:sub(pos, sp[1] - 1)
        out[#out + 1] = "<redacted>"
      end
      -- a span overlapping the previous one extends its redaction
      if sp[2] >= pos then pos = sp[2] + 1 end
    end
    out[#out + 1] = s:sub(pos)
    s = table.concat(out)
  end
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
  -- names too: a service can echo a secret as a header's name
  if headers[1] ~= nil then
    for i, h in ipairs(headers) do out[i] = { M.scrub(h[1]), redact_header(h[1], h[2]) } end
  else
    for k, v in pairs(headers) do out[M.scrub(k)] = redact_header(k, v) end
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

--- Raise a validation error for `operation: field: message` (never returns).
-- @tparam string op snake_case operation or function name (`create_backup`)
-- @tparam ?string field the field path (`tags[3].key`), may be nil
-- @tparam string msg what is wrong
function M.raise_validation(op, field, msg)
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

--- Check that v is a plain table: raise a validation error naming `op` and
-- `field` when v is a proxy table (see `is_proxy`): the helpers read their
-- arguments with plain indexing, `pairs` and `#`, and a proxy must neither
-- raise through them nor change what they read. Returns v.
function M.check_plain(op, field, v)
  if M.is_proxy(v) then
    M.raise_validation(op, field, "must be a plain table (metatables with __index, __newindex, "
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
