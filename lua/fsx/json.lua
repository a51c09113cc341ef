--- JSON encoding and decoding for the wire, over a private lua-cjson instance.
--
-- A private instance (`cjson.new()`) keeps our settings away from the
-- application's own use of cjson. Decoding is cjson's. Encoding is a small
-- walk here that gives every object its keys in a fixed order, so that the
-- same value always gives the same bytes (lua-cjson writes keys in hash
-- order, which changes between runs): the keys named by `order(t, keys)`
-- first, in that order (the validator names a structure's members in model
-- order), then the others sorted. Scalars are written by cjson, so strings
-- and numbers come out exactly as cjson writes them. lua-cjson cannot tell an
-- empty array from an empty object, nor can a Lua table: `EMPTY_ARRAY` is the
-- one way to say "empty array" (the validator puts it where a list is empty,
-- the CLI where a shape says list) and both writers write it as `[]`.
--
-- `encode_pretty` is the same walk for people (the CLI's JSON output):
-- indented, strings with the C1 controls escaped too (some terminals obey
-- them like ESC) and `/` left plain, non-finite numbers as `null`, integral
-- numbers in full.
local cjson_mod = require "cjson"

local M = {}

local cjson = cjson_mod.new and cjson_mod.new() or cjson_mod
cjson.encode_sparse_array(false)
-- A buffer per encode, not one per instance: LuaJIT may run a __gc finalizer
-- inside the push of the encoded string, before the copy, and a finalizer
-- that encodes too would overwrite the shared buffer first.
cjson.encode_keep_buffer(false)
cjson.decode_invalid_numbers(false)
pcall(cjson.encode_number_precision, 14)
pcall(cjson.decode_max_depth, 200)
pcall(cjson.encode_max_depth, 200)

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

local MAX_DEPTH = 200
local cjson_encode, sort, concat, find = cjson.encode, table.sort, table.concat, string.find
local gsub, format, byte, rep = string.gsub, string.format, string.byte, string.rep
local floor, huge = math.floor, math.huge
local EMPTY_ARRAY, NULL = M.EMPTY_ARRAY, cjson.null

local function key_text(k)
  if type(k) == "string" then return k end
  if type(k) == "number" then return cjson_encode(k) end -- as cjson writes a number key
  error("cannot serialise a " .. type(k) .. " key", 0)
end

local function less(a, b)
  return key_text(a) < key_text(b)
end

-- A string as JSON, as cjson writes it.
local function quoted(v)
  return cjson_encode(v)
end

-- A string as JSON for people: as `quoted`, with `/` plain and the C1
-- controls (UTF-8 C2 80..C2 9F) as `\u0080`..`\u009f`. Every backslash-slash
-- in cjson's text is its escape of a `/`: an escaped backslash is followed by
-- another escape or the closing quote, never by a bare `/`.
local function pretty_quoted(v)
  local s = quoted(v)
  if find(s, "\\/") then s = gsub(s, "\\/", "/") end
  if find(s, "\194[\128-\159]") then
    s = gsub(s, "\194([\128-\159])", function(c) return format("\\u%04x", byte(c)) end)
  end
  return s
end

-- A number for people: `null` when not finite (cjson refuses those), an
-- integral one in full, any other as cjson writes it.
local function pretty_number(v)
  if v ~= v or v == huge or v == -huge then return "null" end
  if v == floor(v) and v > -2 ^ 53 and v < 2 ^ 53 then return format("%d", v) end
  return cjson_encode(v)
end

-- An order list -> its keys written as `"Key":`, made once per list.
local prefixes = setmetatable({}, { __mode = "k" })

local function prefixes_of(keys)
  local p = {}
  for i = 1, #keys do p[i] = quoted(keys[i]) .. ":" end
  prefixes[keys] = p
  return p
end

-- The writers append to `out` after its item n and return the new n.
-- `indent` is nil for the wire (compact) or the unit of indentation for
-- people: then each item goes on its own line, indented by its depth.
local write

-- A new line indented for depth d (for people; nothing on the wire).
local function newline(indent, d)
  if indent then return "\n" .. rep(indent, d) end
  return ""
end

local function write_array(t, len, out, n, depth, indent)
  local nl = indent and newline(indent, depth) or ""
  n = n + 1
  out[n] = "[" .. nl
  for i = 1, len do
    if i > 1 then
      n = n + 1
      out[n] = "," .. nl
    end
    n = write(t[i], out, n, depth, indent)
  end
  n = n + 1
  out[n] = indent and newline(indent, depth - 1) .. "]" or "]"
  return n
end

-- `"key":` for the wire, `"key": ` for people.
local function key_prefix(k, indent)
  if indent then return pretty_quoted(key_text(k)) .. ": " end
  return quoted(key_text(k)) .. ":"
end

-- The object t (with `count` keys): the keys of orders[t] first, then the
-- rest sorted.
local function write_object(t, count, out, n, depth, indent)
  local nl = indent and newline(indent, depth) or ""
  local sep = "{" .. nl
  local first, done = orders[t], 0
  if first then
    local pre = not indent and (prefixes[first] or prefixes_of(first))
    for i = 1, #first do
      local x = t[first[i]]
      if x ~= nil then
        out[n + 1], out[n + 2] = sep, pre and pre[i] or key_prefix(first[i], indent)
        n = write(x, out, n + 2, depth, indent)
        sep, done = "," .. nl, done + 1
      end
    end
  end
  if done < count then
    local listed = {}
    if first then
      for i = 1, #first do listed[first[i]] = true end
    end
    local rest = {}
    for k in next, t do
      if not listed[k] then rest[#rest + 1] = k end
    end
    sort(rest, less)
    for i = 1, #rest do
      local k = rest[i]
      out[n + 1], out[n + 2] = sep, key_prefix(k, indent)
      n = write(t[k], out, n + 2, depth, indent)
      sep = "," .. nl
    end
  end
  if count == 0 then
    out[n + 1] = "{}"
  else
    out[n + 1] = indent and newline(indent, depth - 1) .. "}" or "}"
  end
  return n + 1
end

function write(v, out, n, depth, indent)
  local tv = type(v)
  if tv == "string" then
    if v == EMPTY_ARRAY then
      out[n + 1] = "[]"
    elseif indent then
      out[n + 1] = pretty_quoted(v)
    else
      out[n + 1] = quoted(v)
    end
    return n + 1
  elseif tv == "table" then
    if depth >= MAX_DEPTH then error("cannot serialise: nesting deeper than 200 (a cycle?)", 0) end
    local len, count = #v, 0
    for _ in next, v do count = count + 1 end
    if count > 0 and count == len then return write_array(v, len, out, n, depth + 1, indent) end
    return write_object(v, count, out, n, depth + 1, indent)
  elseif tv == "number" and indent then
    out[n + 1] = pretty_number(v)
    return n + 1
  elseif tv == "boolean" then
    out[n + 1] = v and "true" or "false"
    return n + 1
  elseif tv == "number" or v == NULL then
    out[n + 1] = cjson_encode(v)
    return n + 1
  end
  error("cannot serialise a " .. tv, 0)
end

local function encode(v, indent)
  local out = {}
  local ok, err = pcall(write, v, out, 0, 0, indent)
  if not ok then return nil, err end
  return concat(out)
end

--- Encode a value for the wire: compact; an empty table is `{}`,
-- `EMPTY_ARRAY` is `[]`, objects have their keys in a fixed order (see the
-- module's header).
-- @return string, or nil and an error message
function M.encode(v)
  return encode(v)
end

--- Encode a value for people: as `encode`, indented by `indent` (default two
-- spaces) per level, with the differences the module's header lists.
-- @tparam[opt] string indent
-- @return string (no trailing newline), or nil and an error message
function M.encode_pretty(v, indent)
  return encode(v, indent or "  ")
end

--- Decode a JSON text. JSON null becomes `fsx.json.null`.
-- @return value, or nil and an error message
function M.decode(s)
  local ok, v = pcall(cjson.decode, s)
  if not ok then return nil, v end
  return v
end

return M
