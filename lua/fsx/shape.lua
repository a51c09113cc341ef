--- Validation and conversion driven by the generated model (`fsx.api`).
--
-- Layer: Lua helpers. Reads `fsx.api`; uses `fsx.names`, `fsx.pattern` and
-- `fsx.error`. Used by the client (input validation before anything is sent),
-- the JSON protocol (output and error conversion) and the CLI.
--
-- * `input(op, args, extra)`: snake_case Lua arguments -> API-named params,
--   after checking every rule of the model; errors are `fsx.error`
--   validation errors naming the operation and the field path
--   (`create_backup: tags[3].key: must be 1..128 characters`).
-- * `input_api(op, params)`: the same checks for API-named params.
-- * `output(op, decoded)`: a decoded JSON response -> snake_case tables.
-- * `error_fields(code, body)`: the extra members of a modelled error.
-- * `operation(name)`, `operations()`, `get(shape_name)`.
--
-- Tables given by the caller are only ever read with `next` and `rawget`
-- (never `pairs`, indexing or `#`), so no metamethod of theirs runs during
-- validation: a proxy or a table whose metatable raises cannot raise through
-- here, it is judged by its raw contents (and a missing required field then
-- says so). Cyclic tables are detected along the current path.
--
-- Strings: valid UTF-8 without NUL characters (`fsx.json` relies on that),
-- lengths counted in code points, the model's pattern (see `fsx.pattern` for
-- its semantics), enums. An empty list becomes `fsx.json.EMPTY_ARRAY` in the
-- params, so that it is sent as `[]`. Numbers for integers and longs
-- must be finite and integral. Timestamps are epoch seconds (numbers) and are
-- sent as numbers. A list of tags (structures with exactly `Key` and `Value`)
-- may also be given as a map `{ Name = "x" }`, converted to a list sorted by
-- key; in input, tag keys starting with `aws:` (any case) are rejected since
-- FSx reserves them.
-- @module fsx.shape
local api = require("fsx.api")
local names = require("fsx.names")
local errors = require("fsx.error")

-- fsx.pattern, loaded with the first shape that has a pattern (or the first
-- non-ASCII string whose length is checked)
local pattern
local function pattern_module()
  pattern = pattern or require("fsx.pattern")
  return pattern
end

local M = {}

local SHAPES, OPS = api.shapes, api.operations
local type, next, rawget, tostring = type, next, rawget, tostring
local floor, huge = math.floor, math.huge
local byte, find = string.byte, string.find
local concat, sort = table.concat, table.sort
local to_snake = names.to_snake

local json = require("fsx.json")
local NULL = json.null               -- JSON null (cjson.null)
local EMPTY_ARRAY = json.EMPTY_ARRAY -- what an empty list becomes in params

local MAX_DEPTH = 100

-- ---------------------------------------------------------------------------
-- Presized tables: filling a table that already has room for its items
-- skips the rehashes on the way (a third of the cost of building a small
-- table in Lua 5.4). Output tables are sized like the last table built for
-- the same shape; sizes only change speed, never results.

local MAX_PRESIZE = 64
local tnew -- LuaJIT's table.new
if type(jit) == "table" then
  local ok, f = pcall(require, "table.new")
  if ok then tnew = f end
end
local sized_cache = {}
local load_string = rawget(_G, "loadstring") or load -- Lua 5.1's load takes no string

local function new_sized(key, narr, nhash)
  local f
  if tnew then
    f = function() return tnew(narr, nhash) end
  else
    f = assert(load_string("return function() return { " .. string.rep("nil, ", narr)
                           .. string.rep("x = nil, ", nhash) .. "} end"))()
  end
  sized_cache[key] = f
  return f
end

-- sized(narr, nhash): a function returning an empty table with room for
-- narr array items and nhash other keys (a table constructor made once per
-- size where table.new is missing).
local function sized(narr, nhash)
  if narr > MAX_PRESIZE then narr = MAX_PRESIZE end
  if nhash > MAX_PRESIZE then nhash = MAX_PRESIZE end
  local key = narr * (MAX_PRESIZE + 1) + nhash
  return sized_cache[key] or new_sized(key, narr, nhash)
end

-- new_array(n): an empty table with room for n array items.
local function new_array(n)
  if tnew then return tnew(n, 0) end
  return sized(n, 0)()
end

-- ---------------------------------------------------------------------------
-- Per-shape lookups, computed on first use and cached

local info_cache = {}

local function is_tag_struct(s)
  local ms = s.type == "structure" and s.members
  if not ms or #ms ~= 2 then return false end
  local a, b = ms[1].name, ms[2].name
  return (a == "Key" and b == "Value") or (a == "Value" and b == "Key")
end

local function enum_text(list)
  local t = {}
  for i = 1, #list do t[i] = string.format("%q", list[i]) end
  return concat(t, ", ")
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

local function info(name)
  local inf = info_cache[name]
  if inf then return inf end
  local s = SHAPES[name]
  inf = { shape = s, type = s.type }
  local t = s.type
  if t == "structure" then
    local by_snake, by_api, req = {}, {}, s.required or {}
    local members = s.members or {}
    local api_names, snake_names = {}, {}
    for i = 1, #members do
      local m = members[i]
      by_snake[m.snake] = m
      by_api[m.name] = m
      api_names[i], snake_names[i] = m.name, m.snake
    end
    inf.members, inf.by_snake, inf.by_api, inf.required = members, by_snake, by_api, req
    inf.api_names, inf.snake_names, inf.n = api_names, snake_names, #members
    inf.kids = {} -- member index -> info of its shape, filled on first use
    inf.make, inf.size = sized(0, 0), 0 -- sized like the last output
    inf.is_tag = is_tag_struct(s)
  elseif t == "list" then
    inf.item = s.member
    inf.tags = is_tag_struct(SHAPES[s.member])
    if s.min or s.max then inf.count_text = "must have " .. range_text(s.min, s.max, "items") end
  elseif t == "string" then
    inf.ok, inf.ok_n = {}, 0
    if s.pattern then inf.pat = pattern_module().compile(s.pattern) end
    if s.enum then
      local set = {}
      for i = 1, #s.enum do set[s.enum[i]] = true end
      inf.enum, inf.enum_text = set, "must be one of " .. enum_text(s.enum)
    end
    if s.min or s.max then inf.len_text = "must be " .. range_text(s.min, s.max, "characters") end
  elseif t == "integer" or t == "long" then
    if s.min and s.max then
      inf.range_text = string.format("must be between %d and %d", s.min, s.max)
    elseif s.min then
      inf.range_text = string.format("must be at least %d", s.min)
    elseif s.max then
      inf.range_text = string.format("must be at most %d", s.max)
    end
  end
  inf.fn = checkers[t] or checkers.any
  info_cache[name] = inf
  return inf
end

--- The declaration of a shape by name (from `fsx.api`), or nil.
function M.get(name)
  return SHAPES[name]
end

-- ---------------------------------------------------------------------------
-- Operations

local ops_by_snake, ops_sorted

--- The declaration of an operation, by API name (`CreateBackup`) or snake
-- name (`create_backup`).
-- @treturn ?table the declaration from `fsx.api`, nil when unknown
function M.operation(name)
  local d = OPS[name]
  if d then return d end
  if not ops_by_snake then
    ops_by_snake = {}
    for _, decl in pairs(OPS) do ops_by_snake[decl.snake] = decl end
  end
  return ops_by_snake[name]
end

--- Iterate over all operations, sorted by API name:
-- `for name, decl in shape.operations() do ... end`.
function M.operations()
  if not ops_sorted then
    ops_sorted = {}
    for name in pairs(OPS) do ops_sorted[#ops_sorted + 1] = name end
    sort(ops_sorted)
  end
  local i = 0
  return function()
    i = i + 1
    local name = ops_sorted[i]
    if name then return name, OPS[name] end
  end
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
  errors.validation(cur_op, path(), msg)
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

local check -- check(shape_name, value) -> converted value

-- Strings that passed every check of a shape, per shape; bounded (a full
-- cache is dropped and started again). Strings are values, so this is exact.
local OK_CACHE_MAX, OK_CACHE_LEN = 256, 512

local function check_string(inf, v)
  if type(v) ~= "string" then fail("must be a string") end
  local ok = inf.ok
  if ok[v] then return v end
  local s = inf.shape
  local mx = s.max
  if inf.len_text or not inf.enum then
    local len, bad
    if mx and #v > 4 * mx then
      len = mx + 1 -- more than 4 * max bytes: certainly more than max code points
    else
      if not find(v, "[\128-\255]") then
        len = #v -- ASCII: one code point per byte (fsx.pattern.length's own shortcut)
      else
        len, bad = pattern_module().length(v, mx)
      end
      if not len then fail("must be valid UTF-8 (invalid byte sequence at byte " .. bad .. ")") end
    end
    if (s.min and len < s.min) or (mx and len > mx) then fail(inf.len_text) end
  end
  if find(v, "\0", 1, true) then fail("must not contain NUL characters") end
  local pat = inf.pat
  if pat and not pattern.match(pat, v) then fail("must match " .. s.pattern) end
  if inf.enum and not inf.enum[v] then fail(inf.enum_text) end
  if #v <= OK_CACHE_LEN then
    if inf.ok_n >= OK_CACHE_MAX then
      ok = {}
      inf.ok, inf.ok_n = ok, 0
    end
    ok[v] = true
    inf.ok_n = inf.ok_n + 1
  end
  return v
end

local function check_number(inf, v)
  if type(v) ~= "number" then fail("must be a number") end
  if v ~= v or v == huge or v == -huge then fail("must be a finite number") end
  if v ~= floor(v) then fail("must be an integer") end
  local s = inf.shape
  if (s.min and v < s.min) or (s.max and v > s.max) then fail(inf.range_text) end
  return v
end

local function missing(v)
  local mt = getmetatable(v)
  if type(mt) == "table" and rawget(mt, "__index") ~= nil then
    fail("is required (fields are read with rawget; proxy tables are not supported)")
  end
  fail("is required")
end

local function unknown_fields(v, lookup, other, extra)
  -- collect every unknown key, report the first in sorted order
  local bad = {}
  local k = next(v)
  while k ~= nil do
    if type(k) ~= "string" then
      fail("unexpected " .. key_text(k) .. " key (field names are strings)")
    end
    if not lookup[k] and not (extra and extra[k]) then bad[#bad + 1] = k end
    k = next(v, k)
  end
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

-- The info of a structure's member i, cached on the structure's info.
local function member_info(inf, i)
  local ci = info(inf.members[i].shape)
  inf.kids[i] = ci
  return ci
end

local function check_struct(inf, v, extra)
  if type(v) ~= "table" then
    if pd == 0 then fail("arguments must be a table") end
    fail("must be a table")
  end
  if active[v] then fail("cyclic table") end
  active[v] = true
  local lookup = api_mode and inf.by_api or inf.by_snake
  -- pass 1: every key must be a known member (or handled by the caller)
  -- (lookup's keys are all strings: a key found there needs no type check)
  local k = next(v)
  while k ~= nil do
    if not lookup[k] and (type(k) ~= "string" or not (extra and extra[k])) then
      unknown_fields(v, lookup, api_mode and inf.by_snake or inf.by_api, extra)
    end
    k = next(v, k)
  end
  -- pass 2: members in model order (deterministic error order); push and
  -- pop of the field path are written out inline (this is the hot loop)
  local out = inf.make()
  local req, kids, api_names = inf.required, inf.kids, inf.api_names
  local fields = api_mode and api_names or inf.snake_names
  local d, count = pd + 1, 0
  for i = 1, inf.n do
    local field = fields[i]
    local fv = rawget(v, field)
    if fv ~= nil and fv ~= NULL then
      pd = d
      pk[d], pv[d] = 1, field
      if d > MAX_DEPTH then fail("nesting too deep") end
      local ci = kids[i] or member_info(inf, i)
      local ok = ci.ok
      if ok and ok[fv] then
        out[api_names[i]] = fv -- a string this shape already accepted
      else
        out[api_names[i]] = ci.fn(ci, fv)
      end
      count = count + 1
      pd = d - 1
    elseif req[api_names[i]] then
      push(1, field)
      missing(v)
    end
  end
  if count ~= inf.size then inf.make, inf.size = sized(0, count), count end
  active[v] = nil
  return out
end

local function check_tag_key(out)
  local a, w, s, c = byte(out.Key, 1, 4)
  if c == 58 and (a == 97 or a == 65) and (w == 119 or w == 87) and (s == 115 or s == 83) then
    push(1, api_mode and "Key" or "key")
    fail('must not start with "aws:" (reserved for AWS)')
  end
end

-- The info of a list's item shape, cached on the list's info.
local function list_item_info(inf)
  local ci = info(inf.item)
  inf.kid = ci
  return ci
end

local function check_list(inf, v)
  if type(v) ~= "table" then fail("must be a table") end
  enter(v)
  -- classify the keys: 1..n (a list) or, for tags only, strings (a map)
  local n, maxk, strings = 0, 0, false
  -- (k == n + 1, the usual case, is an integer key >= 1: no type check)
  local k = next(v)
  while k ~= nil do
    if k == n + 1 or (type(k) == "number" and k >= 1 and k == floor(k)) then
      if k > maxk then maxk = k end
    elseif type(k) == "string" and inf.tags then
      strings = true
    else
      if inf.tags then
        fail("must be a list of tags or a map of tag keys to values (unexpected "
             .. key_text(k) .. " key)")
      end
      fail("must be a list (array with keys 1..n), found a " .. key_text(k) .. " key")
    end
    n = n + 1
    k = next(v, k)
  end
  local s = inf.shape
  local out = new_array(n)
  if strings then
    if maxk > 0 then fail("must be either a list of tags or a map of tag keys to values, not both") end
    local keys = {}
    k = next(v)
    while k ~= nil do
      keys[#keys + 1] = k
      k = next(v, k)
    end
    sort(keys)
    if (s.min and n < s.min) or (s.max and n > s.max) then fail(inf.count_text) end
    local kname, vname = "key", "value"
    if api_mode then kname, vname = "Key", "Value" end
    local ci = inf.kid or list_item_info(inf)
    for i = 1, n do
      local tk = keys[i]
      push(3, tk)
      local item = ci.fn(ci, { [kname] = tk, [vname] = rawget(v, tk) })
      check_tag_key(item)
      pop()
      out[i] = item
    end
  else
    if maxk ~= n then fail("must be a list without holes (keys 1.." .. n .. ")") end
    if (s.min and n < s.min) or (s.max and n > s.max) then fail(inf.count_text) end
    if n == 0 then
      leave(v)
      return EMPTY_ARRAY
    end
    local ci, tags = inf.kid or list_item_info(inf), inf.tags
    local ok = ci.ok -- string items: the strings already accepted
    local d = pd + 1
    for i = 1, n do
      pd = d
      pk[d], pv[d] = 2, i
      if d > MAX_DEPTH then fail("nesting too deep") end
      local x = rawget(v, i)
      local item
      if ok and ok[x] then item = x else item = ci.fn(ci, x) end
      if tags then check_tag_key(item) end
      pd = d - 1
      out[i] = item
    end
  end
  leave(v)
  return out
end

local function check_map(inf, v)
  if type(v) ~= "table" then fail("must be a table") end
  enter(v)
  local s = inf.shape
  local out, n = {}, 0
  local keys = {}
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

local function check_boolean(_, v)
  if type(v) ~= "boolean" then fail("must be a boolean") end
  return v
end

local function check_timestamp(_, v)
  if type(v) ~= "number" or v ~= v or v == huge or v == -huge then
    fail("must be a number (epoch seconds)")
  end
  return v
end

local function check_double(_, v)
  if type(v) ~= "number" or v ~= v or v == huge or v == -huge then fail("must be a finite number") end
  return v
end

local function check_any(_, v)
  return v
end

-- The checker of each shape type (`info` stores it as `inf.fn`), called as
-- `inf.fn(inf, value, extra)`; types the model may add later pass unchecked.
checkers = {
  string = check_string, structure = check_struct, list = check_list, map = check_map,
  integer = check_number, long = check_number, boolean = check_boolean,
  timestamp = check_timestamp, double = check_double, float = check_double, any = check_any,
}

function check(name, v, extra)
  local inf = info_cache[name] or info(name)
  return inf.fn(inf, v, extra)
end

local function resolve(op)
  if type(op) == "table" then return op end
  local d = M.operation(op)
  if not d then
    errors.validation(type(op) == "string" and op or nil, nil, "unknown operation")
  end
  return d
end

local function run(op, args, extra, use_api)
  local decl = resolve(op)
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
    local inf = info(decl.input)
    for i = 1, #inf.members do
      local m = inf.members[i]
      if inf.required[m.name] then
        fail("arguments must be a table (" .. (use_api and m.name or m.snake) .. " is required)")
      end
    end
    out = {}
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

--- Validate API-named params (as `client:call` receives them).
-- @tparam string|table op operation API name, snake name or declaration
-- @tparam ?table params e.g. `{ FileSystemId = "fs-..." }`
-- @treturn table a validated copy (a tag map becomes a sorted tag list)
-- @raise `fsx.error` of kind validation; field paths use API names
function M.input_api(op, params)
  return run(op, params, nil, true)
end

-- ---------------------------------------------------------------------------
-- Output conversion

-- Output conversion walks the decoded answer over plans built here from
-- the model, one per shape, on first use and kept (`out_value` below applies
-- them):
--
-- * structure: members known to the model get their snake name and go
--   through their own shape's plan; other keys are converted generically;
-- * list: items in order, nulls dropped; a table that is not an array is
--   converted generically;
-- * map: keys kept, values through the value shape's plan;
-- * any other shape: a table there is converted generically.
--
-- Generic conversion: keys through names.to_snake, arrays kept as arrays.
-- Nulls are dropped everywhere; nesting deeper than 200 tables gives nil
-- (a table's depth counts the tables above it and itself).

local plans = {}
local VALUE_PLAN, GENERIC_PLAN = { 4 }, { 0 }
local snake_names = {} -- key -> snake name, for keys no plan declares
local snake_count, MAX_SNAKE_NAMES = 0, 4096

-- The plan of shape `name`, or true (values kept as they are) for a shape
-- the model lacks (not cached: it may be declared later).
local function plan_of(name)
  local p = plans[name]
  if p then return p end
  local s = SHAPES[name]
  if not s then return true end
  local t = s.type
  if t == "structure" then
    local by_api = {}
    local members = s.members or {}
    for i = 1, #members do
      local m = members[i]
      by_api[m.name] = { m.snake, false, m.shape }
    end
    p = { 1, by_api, 0 }
  elseif t == "list" then
    p = { 2, false, s.member }
  elseif t == "map" then
    p = { 3, false, s.value }
  else
    p = VALUE_PLAN
  end
  plans[name] = p
  return p
end

local function snake_of(k)
  local sn = snake_names[k]
  if sn then return sn end
  if snake_count >= MAX_SNAKE_NAMES then snake_names, snake_count = {}, 0 end
  sn = to_snake(k)
  snake_names[k] = sn
  snake_count = snake_count + 1
  return sn
end

local function walk_generic(v, depth)
  depth = depth + 1
  if depth > 200 then return nil end
  local o = {}
  if rawget(v, 1) ~= nil then
    local n = 0
    for i = 1, #v do
      local x = rawget(v, i)
      if x ~= NULL then
        n = n + 1
        if type(x) == "table" then x = walk_generic(x, depth) end
        o[n] = x
      end
    end
    return o
  end
  for k, x in next, v do
    if x ~= NULL then
      if type(k) == "string" then k = snake_of(k) end
      if type(x) == "table" then x = walk_generic(x, depth) end
      o[k] = x
    end
  end
  return o
end

local walk

-- A table value found under the slot holder e: by the slot's plan, or kept.
local function walk_slot(e, x, depth)
  local p = e[2]
  if p == false then
    p = plan_of(e[3])
    e[2] = p
  end
  if p == true then return x end
  return walk(p, x, depth)
end

function walk(p, v, depth)
  depth = depth + 1
  if depth > 200 then return nil end
  local kind = p[1]
  if kind == 1 then
    local members, hint = p[2], p[3]
    local o = sized(0, hint)()
    local n = 0
    for k, x in next, v do
      if x ~= NULL then
        n = n + 1
        local m = members[k]
        if m then
          if type(x) == "table" then x = walk_slot(m, x, depth) end
          o[m[1]] = x
        else
          if type(k) == "string" then k = snake_of(k) end
          if type(x) == "table" then x = walk_generic(x, depth) end
          o[k] = x
        end
      end
    end
    if n ~= hint then p[3] = n end
    return o
  elseif kind == 2 then
    if rawget(v, 1) == nil and next(v) ~= nil then return walk_generic(v, depth) end
    local o, n = new_array(#v), 0
    for i = 1, #v do
      local x = rawget(v, i)
      if x ~= NULL then
        n = n + 1
        if type(x) == "table" then x = walk_slot(p, x, depth) end
        o[n] = x
      end
    end
    return o
  elseif kind == 3 then
    local o = {}
    for k, x in next, v do
      if x ~= NULL then
        if type(x) == "table" then x = walk_slot(p, x, depth) end
        o[k] = x
      end
    end
    return o
  elseif kind == 4 then
    return walk_generic(v, depth)
  end
  return walk_generic(v, depth - 1)
end

local function convert_by(p, v)
  return walk(p, v, 0)
end

-- The output value of v for shape `name`.
local function out_value(name, v)
  if v == NULL then return nil end
  if type(v) ~= "table" then return v end
  local p = plan_of(name)
  if p == true then return v end
  return convert_by(p, v)
end

--- Convert a decoded JSON response to snake_case, driven by the output shape
-- (map keys are kept; members unknown to the model go through
-- `fsx.names.to_snake`; `cjson.null` values are dropped; timestamps stay
-- numbers; tags stay a list of `{ key =, value = }`).
-- @tparam string|table op operation API name, snake name or declaration
-- @tparam ?table decoded the decoded body
-- @treturn table the result
function M.output(op, decoded)
  local decl = resolve(op)
  if type(decoded) ~= "table" then return {} end
  local name = decl.output
  if not name then return convert_by(GENERIC_PLAN, decoded) end
  return out_value(name, decoded)
end

--- The extra members of a modelled error body, in snake_case: for
-- `IncompatibleParameterError`, `{ parameter = "..." }`; for
-- `ServiceLimitExceeded`, `{ limit = "..." }`. Message members are left out.
-- @tparam string code the error code (a `namespace#` prefix or `:...` suffix
--   is ignored)
-- @tparam ?table body the decoded error body
-- @treturn table the fields (empty when the code is not modelled)
function M.error_fields(code, body)
  local out = {}
  if type(code) ~= "string" or type(body) ~= "table" then return out end
  code = code:gsub("^.*#", ""):gsub(":.*$", "")
  local s = SHAPES[code]
  if not s or s.type ~= "structure" or not s.exception then return out end
  local members = s.members
  for i = 1, #members do
    local m = members[i]
    if m.name ~= "Message" and m.name ~= "message" then
      local x = rawget(body, m.name)
      if x ~= nil and x ~= NULL then out[m.snake] = out_value(m.shape, x) end
    end
  end
  return out
end

return M
