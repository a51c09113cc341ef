--- JSON encoding and decoding for the wire, over a private lua-cjson instance.
--
-- A private instance (`cjson.new()`) keeps our settings away from the
-- application's own use of cjson. lua-cjson 2.1 cannot tell an empty array
-- from an empty object, so the validator puts `EMPTY_ARRAY` where a list is
-- empty and `encode` turns it into `[]`.
-- @module fsx.json
local cjson_mod = require "cjson"
local replace_plain = require("fsx.strings").replace

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
local EMPTY_ENCODED = cjson.encode(M.EMPTY_ARRAY)


--- Encode a value; an empty table is `{}`, `EMPTY_ARRAY` is `[]`.
-- @return string, or nil and an error message
function M.encode(v)
  local ok, s = pcall(cjson.encode, v)
  if not ok then return nil, s end
  if string.find(s, EMPTY_ENCODED, 1, true) then s = replace_plain(s, EMPTY_ENCODED, "[]") end
  return s
end

--- Decode a JSON text. JSON null becomes `fsx.json.null`.
-- @return value, or nil and an error message
function M.decode(s)
  local ok, v = pcall(cjson.decode, s)
  if not ok then return nil, v end
  return v
end

--- Copy a decoded value without its nulls (null members are dropped).
function M.strip_nulls(v)
  if type(v) ~= "table" then
    if v == cjson.null then return nil end
    return v
  end
  local out = {}
  for k, x in pairs(v) do
    if x ~= cjson.null then out[k] = M.strip_nulls(x) end
  end
  return out
end

return M
