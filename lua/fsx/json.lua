--- JSON for the wire and for people: decoding by a private lua-cjson
-- instance, encoding by the C writer of `fsx.core`.
--
-- A private instance (`cjson.new()`) keeps our settings away from the
-- application's own use of cjson. The writer (src/lua_json.c) gives every
-- object its keys in a fixed order, so that the same value always gives the
-- same bytes (lua-cjson writes keys in hash order, which changes between
-- runs): the keys named by `order(t, keys)` first, in that order (the
-- validator names a structure's members in model order), then the others
-- sorted byte-wise by their text (a number key's text is the number as
-- written). A table whose key count is its length (more than 0) is an array,
-- any other an object; `{}` is the empty object. Strings and numbers come out
-- byte for byte as lua-cjson 2.1.0 writes them (`%.14g` numbers; `"`, `\\`,
-- `/` and the controls escaped, DEL as `\u007f`, bytes from 0x80 as they are);
-- NaN and the infinities are refused. Nesting deeper than 200 tables is
-- refused too (a cycle). Tables are read with raw accesses. lua-cjson cannot
-- tell an empty array from an empty object, nor can a Lua table: `EMPTY_ARRAY`
-- is the one way to say "empty array" (the validator puts it where a list is
-- empty, the CLI where a shape says list) and both modes write it as `[]`.
--
-- `encode_pretty` is the same walk for people (the CLI's JSON output):
-- indented, strings with the C1 controls escaped too (some terminals obey
-- them like ESC) and `/` left plain, non-finite numbers as `null`, integral
-- numbers below 2^53 in full.
local cjson_mod = require "cjson"
local core = require "fsx.core"

local M = {}

local cjson = cjson_mod.new and cjson_mod.new() or cjson_mod
cjson.decode_invalid_numbers(false)
pcall(cjson.decode_max_depth, 200)

M.null = cjson.null

-- A marker string no caller can produce by accident: made of NUL bytes, which
-- the validator refuses in every string, and a random part.
local function marker()
  local seed = tostring({}):gsub("[^%x]", "") .. tostring(os.time())
  return "\0fsx-empty-array-" .. seed .. "\0"
end

--- Put this value where an empty JSON array must be sent.
M.EMPTY_ARRAY = marker()


-- table -> the keys its object is written with first, in order
local orders = setmetatable({}, { __mode = "k" })

--- Write the object `t` with these keys first, in this order (the keys of t
-- not listed follow, sorted). Returns t.
-- @tparam table t
-- @tparam table keys a list of key names
function M.order(t, keys)
  orders[t] = keys
  return t
end

local write = core.json_writer(orders, M.EMPTY_ARRAY, M.null)

--- Encode a value for the wire: compact; an empty table is `{}`,
-- `EMPTY_ARRAY` is `[]`, objects have their keys in a fixed order (see the
-- module's header).
-- @return string, or nil and an error message
function M.encode(v)
  return write(v)
end

--- Encode a value for people: as `encode`, indented by `indent` (default two
-- spaces) per level, with the differences the module's header lists.
-- @tparam[opt] string indent
-- @return string (no trailing newline), or nil and an error message
function M.encode_pretty(v, indent)
  return write(v, indent or "  ")
end

--- Decode a JSON text. JSON null becomes `fsx.json.null`.
-- @return value, or nil and an error message
function M.decode(s)
  local ok, v = pcall(cjson.decode, s)
  if not ok then return nil, v end
  return v
end

return M
