--- Input validation driven by the generated model (`fsx.api`).
--
-- Layer: Lua helpers. Reads the model through `fsx.shape`; uses `fsx.names`
-- (through the model's snake names), `fsx.pattern`, `fsx.json` and
-- `fsx.error`. Used by the client before anything is sent.
--
-- * `input(op, args, extra)`: snake_case Lua arguments -> API-named params.
-- * `input_api(op, params)`: the same checks for API-named params (what
--   `client:call` receives).
--
-- What is checked catches the caller's mistakes, never a newer API (the
-- service is the authority on what it accepts, and AWS widens enums and
-- limits without notice; docs/validation.md):
--
-- * checked: the structure (a table where the model has one, a list without
--   holes, string map keys), unknown members in snake_case arguments, the
--   types of members, required members, lengths of strings (in code points)
--   and lists, the model's patterns (identifiers, ARNs), valid UTF-8 without
--   NUL characters (`fsx.json` relies on that), integral numbers within the
--   wire type's range for integers (32-bit) and longs (64-bit), and tag keys
--   starting with `aws:` (reserved by AWS);
-- * not checked: enum values (open: a value AWS added after this model is
--   sent), numeric minima and maxima (AWS raises them), and, with API names,
--   members the model does not know (sent as they are, so that a member AWS
--   adds tomorrow is usable today; only a snake_case spelling of a known
--   member is refused there, as the typo it is).
--
-- Errors are `fsx.error` validation errors naming the operation and the
-- field path (`create_backup: tags[3].key: must be 1..128 characters`).
--
-- Tables given by the caller are only ever read with `next` and `rawget`
-- (never `pairs`, indexing or `#`), so no metamethod of theirs runs during
-- validation: a proxy or a table whose metatable raises is judged by its raw
-- contents (and a missing required field then says so). Cyclic tables are
-- detected along the current path.
--
-- The params are new tables throughout. Each structure is marked with its
-- members in model order (`fsx.json.order`), so the request body lists them
-- in that order. An empty list becomes `fsx.json.EMPTY_ARRAY`, sent as `[]`.
-- Timestamps are epoch seconds (numbers). A list of tags (structures of
-- exactly `Key` and `Value`) may also be given as a map `{ Name = "x" }`,
-- converted to a list sorted by key.
-- @module fsx.validate
local shape = require("fsx.shape")
local json = require("fsx.json")
local errors = require("fsx.error")

local M = {}

local type, next, rawget, tostring = type, next, rawget, tostring
local floor, huge = math.floor, math.huge
local byte, find = string.byte, string.find
local concat, sort = table.concat, table.sort

local NULL = json.null
local EMPTY_ARRAY = json.EMPTY_ARRAY
local order = json.order
local MAX_DEPTH = 100

-- fsx.pattern, loaded with the first shape that has a pattern (or the first
-- non-ASCII string whose length is checked)
local pattern
local function pattern_module()
  pattern = pattern or require("fsx.pattern")
  return pattern
end

-- ---------------------------------------------------------------------------
-- Per-shape facts, computed on first use and kept (the model is finite)

local facts_cache = {}

local function is_tag_struct(s)
  local ms = s.type == "structure" and s.members
  if not ms or #ms ~= 2 then return false end
  local a, b = ms[1].name, ms[2].name
  return (a == "Key" and b == "Value") or (a == "Value" and b == "Key")
end

local function range_text(lo, hi, unit)
  if lo and hi then
    if lo == hi then return string.format("exactly %d %s", lo, unit) end
    return string.format("%d..%d %s", lo, hi, unit)
  elseif lo then
    return string.format("at least %d %s", lo, unit)
  end
  return string.format("at most %d %s", hi, unit)
end

local checkers -- shape type -> checker function (defined with the checkers)

local function facts(name)
  local f = facts_cache[name]
  if f then return f end
  local s = shape.get(name)
  f = { shape = s }
  local t = s.type
  if t == "structure" then
    local by_snake, by_api, api_names = {}, {}, {}
    local members = s.members or {}
    for i = 1, #members do
      local m = members[i]
      by_snake[m.snake], by_api[m.name], api_names[i] = m, m, m.name
    end
    f.members, f.by_snake, f.by_api, f.api_names = members, by_snake, by_api, api_names
    f.required = s.required or {}
  elseif t == "list" then
    f.tags = is_tag_struct(shape.get(s.member))
    if s.min or s.max then f.count_text = "must have " .. range_text(s.min, s.max, "items") end
  elseif t == "string" then
    if s.pattern then f.pat = pattern_module().compile(s.pattern) end
    if s.min or s.max then f.len_text = "must be " .. range_text(s.min, s.max, "characters") end
  end
  f.check = checkers[t] or checkers.any
  facts_cache[name] = f
  return f
end

-- ---------------------------------------------------------------------------
-- Validation state of the current call. Validation never calls caller code,
-- so module-level state is safe; it is reset at the start of every call.

local cur_op          -- snake name of the operation, for messages
local api_mode        -- true: API member names; false: snake_case
local pk, pv, pd = {}, {}, 0 -- field path: kinds (1 field, 2 index, 3 map key), values, depth
local active, dirty = {}, false -- tables on the current path (cycle detection)

local function display(s)
  -- a caller-supplied string, shown quoted, shortened and escaped
  if #s > 64 then
    local cut = 64
    while cut > 1 and s:byte(cut + 1) and s:byte(cut + 1) >= 0x80 and s:byte(cut + 1) < 0xC0 do
      cut = cut - 1
    end
    s = s:sub(1, cut) .. "..."
  end
  return '"' .. s:gsub('[%c"\\]', function(c)
    if c == '"' then return '\\"' end
    if c == "\\" then return "\\\\" end
    return string.format("\\x%02x", c:byte())
  end) .. '"'
end

local function path()
  if pd == 0 then return nil end
  local t = {}
  for i = 1, pd do
    local k, v = pk[i], pv[i]
    if k == 1 then
      t[#t + 1] = (i > 1 and "." or "") .. v
    elseif k == 2 then
      t[#t + 1] = "[" .. v .. "]"
    else
      t[#t + 1] = "[" .. display(v) .. "]"
    end
  end
  return concat(t)
end

local function fail(msg)
  errors.raise_validation(cur_op, path(), msg)
end

local function push(kind, v)
  pd = pd + 1
  pk[pd], pv[pd] = kind, v
  if pd > MAX_DEPTH then fail("nesting too deep") end
end

local function pop()
  pd = pd - 1
end

local function enter(t)
  if active[t] then fail("cyclic table") end
  active[t] = true
end

local function leave(t)
  active[t] = nil
end

local function key_text(k)
  local tk = type(k)
  if tk == "number" then return "number " .. tostring(k) end
  if tk == "boolean" then return "boolean " .. tostring(k) end
  return tk
end

local function check(name, v, extra)
  local f = facts_cache[name] or facts(name)
  return f.check(f, v, extra)
end

local function check_string(f, v)
  if type(v) ~= "string" then fail("must be a string") end
  local s = f.shape
  local mx = s.max
  local len, nul = #v, false
  -- ASCII without NUL (the common case) is valid UTF-8 of #v code points
  if find(v, "[^\1-\127]") then
    if mx and len > 4 * mx then
      len = mx + 1 -- more than 4 * max bytes: certainly more than max code points
    else
      local bad
      len, bad = pattern_module().length(v, mx)
      if not len then fail("must be valid UTF-8 (invalid byte sequence at byte " .. bad .. ")") end
    end
    nul = find(v, "\0", 1, true) ~= nil
  end
  if f.len_text and ((s.min and len < s.min) or (mx and len > mx)) then fail(f.len_text) end
  if nul then fail("must not contain NUL characters") end
  local pat = f.pat
  if pat then
    local ok = pat.cache.entries[v] -- fsx.cache's documented hot-path read
    if ok == nil then ok = pattern.match(pat, v) end
    if not ok then fail("must match " .. s.pattern) end
  end
  return v
end

-- The range of the wire types (Smithy's 32-bit integer and 64-bit long): a
-- limit of the type, not of the model, so AWS cannot widen it.
local INT_LIMIT = { integer = 2 ^ 31, long = 2 ^ 63 }
local INT_TEXT = { integer = "must be a 32-bit integer", long = "must be a 64-bit integer" }

local function check_integer(f, v)
  if type(v) ~= "number" then fail("must be a number") end
  if v ~= v or v == huge or v == -huge then fail("must be a finite number") end
  if v ~= floor(v) then fail("must be an integer") end
  local t = f.shape.type
  if v >= INT_LIMIT[t] or v < -INT_LIMIT[t] then fail(INT_TEXT[t]) end
  return v
end

local function check_double(_, v)
  if type(v) ~= "number" or v ~= v or v == huge or v == -huge then fail("must be a finite number") end
  return v
end

local function check_timestamp(_, v)
  if type(v) ~= "number" or v ~= v or v == huge or v == -huge then
    fail("must be a number (epoch seconds)")
  end
  return v
end

local function check_boolean(_, v)
  if type(v) ~= "boolean" then fail("must be a boolean") end
  return v
end

local function check_any(_, v)
  return v
end

local function missing(v)
  local mt = getmetatable(v)
  if type(mt) == "table" and rawget(mt, "__index") ~= nil then
    fail("is required (fields are read with rawget; proxy tables are not supported)")
  end
  fail("is required")
end

-- Refuse the unknown keys of v: every one is collected, the first in sorted
-- order is named. In API mode only snake_case spellings of known members get
-- here (other unknown members pass through).
local function refuse_unknown(bad, other)
  sort(bad)
  local k1 = bad[1]
  local msg = "unknown field " .. display(k1)
  local m = other[k1]
  if m then
    msg = msg .. " (did you mean " .. display(api_mode and m.name or m.snake) .. "?)"
  end
  if #bad > 1 then msg = msg .. " (and " .. (#bad - 1) .. " more)" end
  fail(msg)
end

local function check_struct(f, v, extra)
  if type(v) ~= "table" then
    if pd == 0 then fail("arguments must be a table") end
    fail("must be a table")
  end
  enter(v)
  local lookup = api_mode and f.by_api or f.by_snake
  local other = api_mode and f.by_snake or f.by_api
  -- every key must be a string; unknown ones are refused (snake_case) or
  -- passed through (API names)
  local bad, pass
  local k = next(v)
  while k ~= nil do
    if type(k) ~= "string" then
      fail("unexpected " .. key_text(k) .. " key (field names are strings)")
    end
    if not lookup[k] and not (extra and extra[k]) then
      if api_mode and not other[k] then
        pass = pass or {}
        pass[#pass + 1] = k
      else
        bad = bad or {}
        bad[#bad + 1] = k
      end
    end
    k = next(v, k)
  end
  if bad then refuse_unknown(bad, other) end
  -- known members in model order (deterministic error order)
  local out = order({}, f.api_names)
  local members, req = f.members, f.required
  for i = 1, #members do
    local m = members[i]
    local field = api_mode and m.name or m.snake
    local fv = rawget(v, field)
    if fv ~= nil and fv ~= NULL then
      push(1, field)
      local mf = facts_cache[m.shape] or facts(m.shape)
      out[m.name] = mf.check(mf, fv)
      pop()
    elseif req[m.name] then
      push(1, field)
      missing(v)
    end
  end
  if pass then
    for i = 1, #pass do
      local x = rawget(v, pass[i])
      if x ~= NULL then out[pass[i]] = x end
    end
  end
  leave(v)
  return out
end

local function check_tag_key(out)
  local a, w, s, c = byte(out.Key, 1, 4)
  if c == 58 and (a == 97 or a == 65) and (w == 119 or w == 87) and (s == 115 or s == 83) then
    push(1, api_mode and "Key" or "key")
    fail('must not start with "aws:" (reserved for AWS)')
  end
end

local function check_count(f, n)
  local s = f.shape
  if (s.min and n < s.min) or (s.max and n > s.max) then fail(f.count_text) end
end

-- A tag map `{ Name = "x" }`: tags sorted by key.
local function check_tag_map(f, v, n)
  local keys = {}
  local k = next(v)
  while k ~= nil do
    keys[#keys + 1] = k
    k = next(v, k)
  end
  sort(keys)
  check_count(f, n)
  local kname, vname = "key", "value"
  if api_mode then kname, vname = "Key", "Value" end
  local out = {}
  for i = 1, n do
    local tk = keys[i]
    push(3, tk)
    local item = check(f.shape.member, { [kname] = tk, [vname] = rawget(v, tk) })
    check_tag_key(item)
    pop()
    out[i] = item
  end
  return out
end

local function check_list(f, v)
  if type(v) ~= "table" then fail("must be a table") end
  enter(v)
  -- classify the keys: 1..n (a list) or, for tags only, strings (a map)
  local n, maxk, strings = 0, 0, false
  local k = next(v)
  while k ~= nil do
    if type(k) == "number" and k >= 1 and k % 1 == 0 then
      if k > maxk then maxk = k end
    elseif type(k) == "string" and f.tags then
      strings = true
    else
      if f.tags then
        fail("must be a list of tags or a map of tag keys to values (unexpected "
             .. key_text(k) .. " key)")
      end
      fail("must be a list (array with keys 1..n), found a " .. key_text(k) .. " key")
    end
    n = n + 1
    k = next(v, k)
  end
  local out
  if strings then
    if maxk > 0 then fail("must be either a list of tags or a map of tag keys to values, not both") end
    out = check_tag_map(f, v, n)
  else
    if maxk ~= n then fail("must be a list without holes (keys 1.." .. n .. ")") end
    check_count(f, n)
    if n == 0 then
      out = EMPTY_ARRAY
    else
      out = {}
      local item_shape = f.shape.member
      local itf = facts_cache[item_shape] or facts(item_shape)
      for i = 1, n do
        push(2, i)
        local item = itf.check(itf, rawget(v, i))
        if f.tags then check_tag_key(item) end
        pop()
        out[i] = item
      end
    end
  end
  leave(v)
  return out
end

local function check_map(f, v)
  if type(v) ~= "table" then fail("must be a table") end
  enter(v)
  local s = f.shape
  local keys, n = {}, 0
  local k = next(v)
  while k ~= nil do
    if type(k) ~= "string" then fail("unexpected " .. key_text(k) .. " key (map keys are strings)") end
    n = n + 1
    keys[n] = k
    k = next(v, k)
  end
  sort(keys)
  if (s.min and n < s.min) or (s.max and n > s.max) then
    fail("must have " .. range_text(s.min, s.max, "entries"))
  end
  local out = {}
  for i = 1, n do
    k = keys[i]
    push(3, k)
    check(s.key, k)
    local x = rawget(v, k)
    if x ~= NULL then out[k] = check(s.value, x) end
    pop()
  end
  leave(v)
  return out
end

-- The checker of each shape type, called as `f.check(f, value, extra)`;
-- types the model may add later pass unchecked.
checkers = {
  string = check_string, structure = check_struct, list = check_list, map = check_map,
  integer = check_integer, long = check_integer, boolean = check_boolean,
  timestamp = check_timestamp, double = check_double, float = check_double, any = check_any,
}

local function run(op, args, extra, use_api)
  local decl = shape.resolve(op)
  cur_op, api_mode, pd = decl.snake, use_api, 0
  if dirty then active = {} end
  dirty = true -- stays set when the call raises
  local out
  if not decl.input then
    if args ~= nil and (type(args) ~= "table" or next(args) ~= nil) then
      fail("takes no arguments")
    end
    out = {}
  elseif args == nil then
    local f = facts(decl.input)
    for i = 1, #f.members do
      local m = f.members[i]
      if f.required[m.name] then
        fail("arguments must be a table (" .. (use_api and m.name or m.snake) .. " is required)")
      end
    end
    out = order({}, f.api_names)
  else
    out = check(decl.input, args, extra)
  end
  dirty = false
  return out
end

--- Validate snake_case arguments and convert them to API-named params.
-- @tparam string|table op operation API name, snake name or declaration
-- @tparam ?table args e.g. `{ file_system_id = "fs-...", tags = { Name = "x" } }`;
--   nil when the operation requires nothing
-- @tparam ?table extra set of top-level field names the caller handles itself
--   (skipped, not copied), e.g. `{ wait = true }`
-- @treturn table params with API names, new tables throughout
--   (`{ FileSystemId = "fs-...", Tags = { { Key = "Name", Value = "x" } } }`)
-- @raise `fsx.error` of kind validation
function M.input(op, args, extra)
  return run(op, args, extra, false)
end

--- Validate API-named params (as `client:call` receives them); members the
-- model does not know are passed through unchanged.
-- @tparam string|table op operation API name, snake name or declaration
-- @tparam ?table params e.g. `{ FileSystemId = "fs-..." }`
-- @treturn table a validated copy (a tag map becomes a sorted tag list)
-- @raise `fsx.error` of kind validation; field paths use API names
function M.input_api(op, params)
  return run(op, params, nil, true)
end

return M
