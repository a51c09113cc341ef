--- Output conversion driven by the generated model (`fsx.api`): a decoded
-- JSON response -> snake_case Lua tables, checked against the model.
--
-- Layer: Lua helpers. Reads the model through `fsx.shape`; uses `fsx.names`,
-- `fsx.json` and `fsx.error`. Used by the client on every answer and for the
-- extra members of service errors.
--
-- The conversion, by the shape the model gives each value:
--
-- * structure: members known to the model get their snake name and their
--   own shape's conversion; other keys (members newer than the model) are
--   converted generically;
-- * list: items in order; map: keys kept, values by the value shape;
-- * integer and long: Lua integers where the interpreter has them
--   (`math.tointeger`: `progress_percent` is 100, not 100.0);
-- * generic: keys through `fsx.names.to_snake`, arrays kept as arrays.
--
-- JSON nulls are dropped everywhere; tables nested deeper than 200 give nil.
-- The decoded tables are `fsx.json.decode`'s, without metatables, and are
-- read with plain indexing.
--
-- Two walkers apply that rule over the same plans (below): the one here in
-- Lua, and `fsx.core.answer_walker` (src/lua_convert.c). Under PUC Lua the
-- C one is used: there every `next` step and `type` test of the Lua walker
-- is a call into C, and each table it builds grows by rehashing, while the
-- C walker makes its tables at their size and pays no such calls. Under
-- LuaJIT the Lua walker is used: it runs as compiled traces, where the C
-- walker would pay a call through the C API for every access.
-- bench/README.md has the instruction counts of both.
--
-- What the service sends is checked where a wrong answer would pass for a
-- right one (docs/validation.md): every value the model describes must have
-- the model's JSON type (an object for a structure or a map, an array for a
-- list, a string, a number, a boolean; a timestamp is a number or a string),
-- and an operation whose output is a single structure member (CreateBackup
-- -> Backup, and every other Create*, Copy*, Update* that returns the
-- resource; `result_required` in `fsx.api`) must return that member with
-- the members its structure requires. Anything else is a `decode` error
-- (code `InvalidResponse`), never an empty success. Enum values and numeric
-- ranges are not checked: AWS widens them.
-- @module fsx.output
local core = require("fsx.core")
local shape = require("fsx.shape")
local names = require("fsx.names")
local json = require("fsx.json")
local errors = require("fsx.error")

local M = {}

local type, next, rawget = type, next, rawget
local concat = table.concat
local to_snake = names.to_snake
local NULL = json.null
local MAX_DEPTH = 200

-- math.tointeger where the interpreter has integers (5.3+); elsewhere every
-- number already prints without a fraction when it has none.
local tointeger = rawget(math, "tointeger") or function(x) return x end

-- The JSON type each shape type needs, and its name for messages.
local JSON_TYPE = {
  structure = "table", map = "table", list = "table", string = "string", blob = "string",
  integer = "number", long = "number", float = "number", double = "number",
  boolean = "boolean",
}
local TYPE_NAME = { string = "a string", number = "a number",
                    boolean = "a boolean" }

-- Per-shape plans, made on first use and kept (the model is finite):
-- `want` is the Lua type of the shape's JSON value (nil for a timestamp,
-- which may be a number or a string), `int` whether numbers become
-- integers, `members` (structures) maps API names to `{ snake =, shape =,
-- plan = }` and `size` is their count (the C walker makes a structure's
-- table with room for them), `item` (lists, maps) is the shape of the items
-- or values. A plan's own `plan` fields are filled on first use: `false`
-- where the model lacks the shape (converted generically).
local plans = {}

local function plan_of(name)
  local p = plans[name]
  if p ~= nil then return p end
  local s = shape.get(name)
  if not s then return false end
  local t = s.type
  p = { name = name, type = t, want = JSON_TYPE[t], int = t == "integer" or t == "long" }
  if t == "structure" then
    local by_api, ms = {}, s.members or {}
    for i = 1, #ms do by_api[ms[i].name] = { snake = ms[i].snake, shape = ms[i].shape } end
    p.members, p.size = by_api, #ms
  elseif t == "list" then
    p.item = { shape = s.member }
  elseif t == "map" then
    p.item = { shape = s.value }
  end
  plans[name] = p
  return p
end

-- The plan of a member or item entry (see `plans`).
local function entry_plan(e)
  local p = e.plan
  if p == nil then
    p = plan_of(e.shape)
    e.plan = p
  end
  return p
end

-- The path of the value being converted, for messages: member snake names
-- (strings), list indexes (numbers) and map keys (in `map_key`), written out
-- only when an answer is refused. The Lua walker keeps it as it goes; the C
-- walker writes it when it stops at a refused value. Neither calls caller
-- code, so module-level state is safe.
local path, map_key, depth_now = {}, {}, 0
local cur_op, cur_meta

--- Raise the decode error of an answer that does not fit what the operation
-- returns: retryable (the same request may get a readable answer), with the
-- call's meta (request id, status, attempts, token).
-- @tparam string operation the operation's API name
-- @tparam ?table meta the call's meta
-- @tparam string problem what is wrong, e.g. `"has no Backup"`
function M.raise_invalid(operation, meta, problem)
  local m = meta or {}
  errors.raise{ kind = "decode", code = "InvalidResponse", operation = operation, retryable = true,
                request_id = m.request_id, status = m.status, attempts = m.attempts,
                client_request_token = m.client_request_token,
                message = "the service's answer " .. problem }
end

local function invalid(message) M.raise_invalid(cur_op, cur_meta, message) end

local function json_type_of(v)
  if type(v) == "table" then
    if rawget(v, 1) ~= nil then return "an array" end
    return "an object"
  end
  if v == NULL then return "null" end
  return TYPE_NAME[type(v)] or type(v)
end

local function wrong(v, want)
  local parts = {}
  for i = 1, depth_now do
    local seg = path[i]
    if map_key[i] then
      parts[i] = "[" .. string.format("%q", tostring(seg)) .. "]"
    elseif type(seg) == "number" then
      parts[i] = "[" .. seg .. "]"
    else
      parts[i] = "." .. seg
    end
  end
  local where = concat(parts)
  invalid("has " .. json_type_of(v) .. " at " .. (where == "" and "the top" or where)
          .. " where the model has " .. want)
end

-- Refuse the value v, which does not fit plan p, at the current path: a
-- value of another type than the plan's `want`, a timestamp that is neither
-- a number nor a string, an array where a structure or map is, an object
-- where a list is. Both walkers stop here.
local function refuse(p, v)
  local want, what = p.want
  if not want then
    what = "a timestamp"
  elseif p.type == "list" then
    what = "an array"
  elseif want == "table" then
    what = "an object"
  else
    what = TYPE_NAME[want]
  end
  wrong(v, what .. " (" .. p.name .. ")")
end

local generic

-- Generic conversion (members the model does not describe).
function generic(v, depth)
  depth = depth + 1
  if depth > MAX_DEPTH then return nil end
  local o = {}
  if v[1] ~= nil then
    local n = 0
    for i = 1, #v do
      local x = v[i]
      if x ~= NULL then
        n = n + 1
        if type(x) == "table" then x = generic(x, depth) end
        o[n] = x
      end
    end
    return o
  end
  for k, x in next, v do
    if x ~= NULL then
      if type(k) == "string" then k = to_snake(k) end
      if type(x) == "table" then x = generic(x, depth) end
      o[k] = x
    end
  end
  return o
end

local convert

-- The value x (not null, of Lua type tx) of an entry with plan p: scalars of
-- the right type are taken here (the common case, without a call), the rest
-- by `convert`.
local function converted(p, x, tx, depth)
  if p and tx == p.want and tx ~= "table" then
    if p.int then return tointeger(x) or x end
    return x
  end
  if p or tx == "table" then return convert(p, x, tx, depth) end
  return x
end

local function convert_struct(p, v, depth)
  if v[1] ~= nil then refuse(p, v) end
  local by_api = p.members
  local o = {}
  for k, x in next, v do
    if x ~= NULL then
      local m = by_api[k]
      if m then
        local mp = m.plan
        if mp == nil then mp = entry_plan(m) end
        local tx = type(x)
        if mp and tx == mp.want and tx ~= "table" then
          if mp.int then x = tointeger(x) or x end
        else
          local d = depth_now + 1
          depth_now, path[d], map_key[d] = d, m.snake, false
          x = converted(mp, x, tx, depth)
          depth_now = d - 1
        end
        o[m.snake] = x
      else
        if type(k) == "string" then k = to_snake(k) end
        if type(x) == "table" then x = generic(x, depth) end
        o[k] = x
      end
    end
  end
  return o
end

local function convert_list(p, v, depth)
  if v[1] == nil and next(v) ~= nil then refuse(p, v) end
  local ip = entry_plan(p.item)
  local o, n = {}, 0
  local d = depth_now + 1
  for i = 1, #v do
    local x = v[i]
    if x ~= NULL then
      n = n + 1
      depth_now, path[d], map_key[d] = d, i, false
      o[n] = converted(ip, x, type(x), depth)
    end
  end
  depth_now = d - 1
  return o
end

local function convert_map(p, v, depth)
  if v[1] ~= nil then refuse(p, v) end
  local ip = entry_plan(p.item)
  local o = {}
  local d = depth_now + 1
  for k, x in next, v do
    if x ~= NULL then
      depth_now, path[d], map_key[d] = d, k, true
      o[k] = converted(ip, x, type(x), depth)
    end
  end
  depth_now = d - 1
  return o
end

-- The output value of v (not null, of Lua type tv) by plan p (false: a
-- shape the model lacks, converted generically).
function convert(p, v, tv, depth)
  if not p then
    if tv == "table" then return generic(v, depth) end
    return v
  end
  local want = p.want
  if want then
    if tv ~= want then refuse(p, v) end
  elseif p.type == "timestamp" and tv ~= "number" and tv ~= "string" then
    refuse(p, v)
  end
  if tv ~= "table" then
    if p.int then return tointeger(v) or v end
    return v
  end
  depth = depth + 1
  if depth > MAX_DEPTH then return nil end
  local t = p.type
  if t == "structure" then return convert_struct(p, v, depth) end
  if t == "list" then return convert_list(p, v, depth) end
  if t == "map" then return convert_map(p, v, depth) end
  return generic(v, depth - 1)
end

-- The walkers: the output value of v (not null) by plan p (false:
-- generic), raising the decode error where v does not fit.
local function walk_lua(p, v)
  return convert(p, v, type(v), 0)
end

local answer_walk = core.answer_walker(entry_plan, to_snake, NULL, path, map_key)

local function walk_c(p, v)
  local out, bad, bad_plan, at = answer_walk(p, v)
  if at then
    depth_now = at
    refuse(bad_plan, bad)
  end
  return out
end

local chosen = type(jit) == "table" and walk_lua or walk_c
local walk = chosen

-- For specs only: the two walkers by name, and `_use_walker(name)` to make
-- `convert` and `error_fields` use one of them (nil: the one chosen above).
M._walkers = { lua = walk_lua, c = walk_c }
function M._use_walker(name)
  walk = name == nil and chosen or assert(M._walkers[name], "fsx.output: no such walker")
end

-- The result member of an operation with `result_required`: present, an
-- object, with its structure's required members.
local function check_result(decl, decoded)
  local key = decl.result_key
  local v = decoded[key]
  local out_shape = shape.get(decl.output)
  local member_shape = out_shape.members[1].shape
  if v == nil or v == NULL then
    invalid("has no " .. key .. " (the " .. member_shape .. " this operation returns)")
  end
  if type(v) ~= "table" or v[1] ~= nil then return end -- the walk names the wrong type
  local req = shape.get(member_shape).required
  if not req then return end
  local missing = {}
  for name in next, req do
    local x = v[name]
    if x == nil or x == NULL then missing[#missing + 1] = name end
  end
  if #missing > 0 then
    table.sort(missing)
    invalid("has a " .. key .. " without " .. concat(missing, ", "))
  end
end

--- Convert a decoded JSON response to snake_case, checked against the
-- output shape (see the module's header).
-- @tparam string|table op operation API name, snake name or declaration
-- @tparam ?table decoded the decoded body (nil or JSON null: an empty answer)
-- @tparam ?table meta the call's meta (`request_id`, `status`, `attempts`,
--   `client_request_token`), copied into a decode error
-- @treturn table the result
-- @raise `fsx.error` of kind decode (code `InvalidResponse`) when the answer
--   does not have the model's types or lacks the operation's result
function M.convert(op, decoded, meta)
  local decl = shape.resolve(op)
  if decoded == nil or decoded == NULL then decoded = {} end
  cur_op, cur_meta, depth_now = decl.name, meta, 0
  if type(decoded) ~= "table" then wrong(decoded, "an object") end
  if decl.result_required then check_result(decl, decoded) end
  return walk(decl.output and plan_of(decl.output) or false, decoded)
end

--- The extra members of a modelled error body, in snake_case: for
-- `IncompatibleParameterError`, `{ parameter = "..." }`; for
-- `ServiceLimitExceeded`, `{ limit = "..." }`. Message members are left out,
-- and so is a member whose value does not have the model's type.
-- @tparam string code the error code (a `namespace#` prefix or `:...` suffix
--   is ignored)
-- @tparam ?table body the decoded error body
-- @treturn table the fields (empty when the code is not modelled)
function M.error_fields(code, body)
  local out = {}
  if type(code) ~= "string" or type(body) ~= "table" then return out end
  code = code:gsub("^.*#", ""):gsub(":.*$", "")
  local s = shape.get(code)
  if not s or s.type ~= "structure" or not s.exception then return out end
  local members = s.members
  for i = 1, #members do
    local m = members[i]
    if m.name ~= "Message" and m.name ~= "message" then
      local x = rawget(body, m.name)
      if x ~= nil and x ~= NULL then
        cur_op, cur_meta, depth_now = code, nil, 0
        local ok, v = pcall(walk, plan_of(m.shape), x)
        if ok then out[m.snake] = v end
      end
    end
  end
  return out
end

return M
