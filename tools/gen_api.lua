#!/usr/bin/env lua5.4
--- Generator of `lua/fsx/api.lua` (and `lua/fsx/unicode_data.lua`).
--
-- Layer: build tool (not installed). Reads the FSx model vendored in model/
-- (botocore's JSON files) with lua-cjson and writes the operation and shape declarations that `fsx.shape`, the
-- client and the docs read. Output is deterministic (sorted keys, fixed
-- field order), so regenerating from the same model is byte-identical.
--
--   lua5.4 tools/gen_api.lua > lua/fsx/api.lua            (make api)
--   lua5.4 tools/gen_api.lua | cmp - lua/fsx/api.lua      (make api-check)
--   lua5.4 tools/gen_api.lua --unicode > lua/fsx/unicode_data.lua
--
-- Environment: FSX_MODEL_DIR (default model/fsx/2018-03-01 of this
-- repository), the directory holding service-2.json and paginators-1.json;
-- BOTOCORE_VERSION (default: the first line of botocore-version two
-- directories above FSX_MODEL_DIR, i.e. model/botocore-version); PYTHON
-- (default /usr/bin/python3, for --unicode only).
--
-- Generation fails (exit status 1) when two members of one structure map to
-- the same snake_case name, or when a required member is not a member.

-- Find lua/fsx/names.lua relative to this script, whatever the cwd.
local root = ((arg and arg[0] or ""):match("^(.*)/[^/]*$") or ".") .. "/.."
package.path = root .. "/lua/?.lua;" .. root .. "/tools/?.lua;" .. package.path

local cjson = require("cjson")
local names = require("fsx.names")
local toolkit = require("toolkit")

local DEFAULT_DIR = root .. "/model/fsx/2018-03-01"

local die = toolkit.die_as("gen_api")
local shell_quote, quote, key = toolkit.shell_quote, toolkit.quote, toolkit.key
local sorted_keys = toolkit.sorted_keys

local function read_file(path)
  local s, err = toolkit.read_file(path)
  if not s then die(err) end
  return s
end

local function command_output(cmd)
  local p = io.popen(cmd, "r")
  if not p then die("cannot run " .. cmd) end
  local s = p:read("*a")
  p:close()
  return s
end

-- ---------------------------------------------------------------------------
-- Lua literal writers (deterministic, identical under 5.4 and LuaJIT; the
-- strings and keys are toolkit's)

local function number(x)
  if x == math.floor(x) and math.abs(x) < 2 ^ 53 then return string.format("%.0f", x) end
  return string.format("%.17g", x)
end

local function string_list(list)
  local out = {}
  for i = 1, #list do out[i] = quote(list[i]) end
  return "{ " .. table.concat(out, ", ") .. " }"
end

-- Shape lines (see READER): names are identifiers; in pattern and enum
-- values, the characters the line format uses (`%`, `,`, space) and control
-- characters are written %XX.
local function ident(s, what)
  if type(s) ~= "string" or not s:match("^[%w_]+$") then
    die(what .. " " .. tostring(s) .. " is not an identifier; extend the generator")
  end
  return s
end

local function escape(s)
  return (s:gsub("[%%,%s%c]", function(c) return string.format("%%%02X", c:byte()) end))
end

-- The end of lua/fsx/api.lua: the shapes' lines are read by fsx.shape_lines
-- into their tables on first use.
local READER = [[

require("fsx.shape_lines").install(api, SHAPES)

return api
]]

-- ---------------------------------------------------------------------------
-- Key order of every shape's "members" object. cjson gives the values but
-- not the order of object keys; this scans the JSON text structurally
-- (strings, brackets, colons) and records the keys of each
-- shapes.<Name>.members object in document order.

local function member_order(text)
  local order = {}
  local frames = {}      -- open containers: { obj = bool, name = key that holds it, key = last key }
  local i = 1
  while true do
    i = text:find('[{}%[%]"]', i)
    if not i then break end
    local c = text:sub(i, i)
    if c == '"' then
      local j = i + 1
      while true do
        local q = text:find('["\\]', j)
        if not q then die("unterminated string in JSON") end
        if text:sub(q, q) == "\\" then j = q + 2 else j = q break end
      end
      local s = text:sub(i + 1, j - 1)
      local after = text:find("%S", j + 1)
      local top = frames[#frames]
      if top and top.obj and after and text:sub(after, after) == ":" then
        top.key = cjson.decode('"' .. s .. '"')
        if #frames == 4 and top.name == "members" and frames[2].name == "shapes" then
          local shape = frames[3].name
          order[shape] = order[shape] or {}
          table.insert(order[shape], top.key)
        end
      end
      i = j + 1
    elseif c == "{" or c == "[" then
      local parent = frames[#frames]
      frames[#frames + 1] = { obj = (c == "{"), name = parent and parent.obj and parent.key or nil }
      i = i + 1
    else
      frames[#frames] = nil
      i = i + 1
    end
  end
  return order
end

-- ---------------------------------------------------------------------------
-- Unicode tables for fsx.pattern (\p{L}, \p{N}, \p{Z})

local PY_UNICODE = [[
import unicodedata
cats = {"L": [], "N": [], "Z": []}
for cp in range(0x110000):
    c = unicodedata.category(chr(cp))[0]
    r = cats.get(c)
    if r is None:
        continue
    if r and r[-1][1] == cp - 1:
        r[-1][1] = cp
    else:
        r.append([cp, cp])
print(unicodedata.unidata_version)
for k in "LNZ":
    print(k, " ".join("%d %d" % (a, b) for a, b in cats[k]))
]]

local function gen_unicode()
  local python = os.getenv("PYTHON") or "/usr/bin/python3"
  local out = command_output(shell_quote(python) .. " -c " .. shell_quote(PY_UNICODE))
  local lines = {}
  for l in out:gmatch("[^\n]+") do lines[#lines + 1] = l end
  if #lines ~= 4 then die("unexpected output from " .. python) end
  local w = {}
  w[#w + 1] = "-- GENERATED by tools/gen_api.lua --unicode from Python's unicodedata (Unicode "
    .. lines[1] .. ").\n"
  w[#w + 1] = "-- DO NOT EDIT. Regenerate with: lua5.4 tools/gen_api.lua --unicode > lua/fsx/unicode_data.lua\n"
  w[#w + 1] = "--\n-- Code point ranges of the general categories L* (letters), N* (numbers) and\n"
  w[#w + 1] = "-- Z* (separators), as flat sorted arrays { lo1, hi1, lo2, hi2, ... }, for\n"
  w[#w + 1] = "-- \\p{L} \\p{N} \\p{Z} in fsx.pattern.\n"
  w[#w + 1] = "return {\nversion = " .. quote(lines[1]) .. ",\n"
  for li = 2, 4 do
    local cat, nums = lines[li]:match("^(%a) (.*)$")
    w[#w + 1] = cat .. " = {\n"
    local row, rowlen = {}, 0
    for num in nums:gmatch("%d+") do
      row[#row + 1] = num
      rowlen = rowlen + #num + 1
      if rowlen > 90 then
        w[#w + 1] = table.concat(row, ",") .. ",\n"
        row, rowlen = {}, 0
      end
    end
    if #row > 0 then w[#w + 1] = table.concat(row, ",") .. ",\n" end
    w[#w + 1] = "},\n"
  end
  w[#w + 1] = "}\n"
  io.write(table.concat(w))
end

-- ---------------------------------------------------------------------------
-- The API declarations

local function gen_api()
  local dir = os.getenv("FSX_MODEL_DIR") or DEFAULT_DIR
  local service_path = dir .. "/service-2.json"
  local text = read_file(service_path)
  local model = cjson.decode(text)
  local pag = cjson.decode(read_file(dir .. "/paginators-1.json")).pagination or {}
  local order = member_order(text)

  local botocore_version = os.getenv("BOTOCORE_VERSION")
  if not botocore_version then
    local f = io.open(dir .. "/../../botocore-version", "rb")
    botocore_version = f and f:read("*l") or "unknown"
    if f then f:close() end
  end
  local sha = command_output("sha256sum " .. shell_quote(service_path)):match("^(%x+)")
  if not sha or #sha ~= 64 then die("sha256sum failed on " .. service_path) end

  local md, shapes, ops = model.metadata, model.shapes, model.operations

  -- shapes reachable from the operations' inputs, outputs and errors
  local reach = {}
  local function walk(name)
    if reach[name] then return end
    local s = shapes[name]
    if not s then die("unknown shape " .. name) end
    reach[name] = true
    if s.type == "structure" then
      for _, m in pairs(s.members or {}) do walk(m.shape) end
    elseif s.type == "list" then
      walk(s.member.shape)
    elseif s.type == "map" then
      walk(s.key.shape)
      walk(s.value.shape)
    end
  end
  for _, op in pairs(ops) do
    if op.input then walk(op.input.shape) end
    if op.output then walk(op.output.shape) end
    for _, e in ipairs(op.errors or {}) do walk(e.shape) end
  end

  local out = {}
  local function w(s) out[#out + 1] = s end

  w("-- GENERATED by tools/gen_api.lua from botocore " .. botocore_version .. " (fsx "
    .. md.apiVersion .. ", service-2.json sha256 " .. sha .. ").\n")
  w([[
-- DO NOT EDIT: regenerate with `make api` (check with `make api-check`).
--
-- Format (documented in CONTRIBUTING.md, "Operation declarations"):
--   metadata   = { api_version, target_prefix, signing_name, endpoint_prefix, json_version,
--                  protocol, service_id, botocore_version, model_sha256 }
--   operations = { <ApiName> = { name, snake, input, output, idempotency_token?,
--                  result_key? (the sole member of the output structure),
--                  result_required? (true when that member is a structure: the
--                  resource the operation returns, which an answer must carry),
--                  errors = { ... },
--                  paginator? = { input_token, output_token, limit_key, result_key } } }
--   shapes     = { <ShapeName> = { type = "structure"|"list"|"map"|"string"|"integer"|"long"|
--                  "boolean"|"timestamp"|..., plus, when present:
--                  members = { { name = ApiName, snake = snake_name, shape = ShapeName }, ... }
--                            (in model order), required = { ApiName = true, ... } (a SET),
--                  member = ShapeName (list), key = ShapeName, value = ShapeName (map),
--                  min/max (length of strings and lists, value of integers and longs),
--                  enum = { ... }, pattern = "...", exception = true, fault = true,
--                  sensitive = true } }
--   shape_names() -> every shape name, sorted
-- Only shapes reachable from the operations are included; no documentation text.
--
-- The shapes are stored as text, one line each, and each becomes the table
-- above the first time `shapes[name]` is read, so loading this file builds
-- only the shapes a program uses (bench/RESULTS.md, require costs). A line is
-- "<ShapeName> <type>" followed by space-separated fields: `members=` the
-- members in model order, `Name` or `Name:ShapeName` when the shape has
-- another name (snake names come from fsx.names.to_snake, as here),
-- `required=A,B`, `member=`, `key=`, `value=`, `min=`, `max=`, `pattern=`,
-- `enum=A,B`, and the flags `exception`, `fault`, `sensitive`. In `pattern`
-- and `enum` values, `%`, `,`, spaces and control characters are written
-- `%XX` (hex).
]])
  w("local api = {\n")
  w("metadata = { api_version = " .. quote(md.apiVersion)
    .. ", botocore_version = " .. quote(botocore_version)
    .. ", endpoint_prefix = " .. quote(md.endpointPrefix)
    .. ", json_version = " .. quote(md.jsonVersion)
    .. ", model_sha256 = " .. quote(sha)
    .. ", protocol = " .. quote(md.protocol)
    .. ", service_id = " .. quote(md.serviceId)
    .. ", signing_name = " .. quote(md.signingName or md.endpointPrefix)
    .. ", target_prefix = " .. quote(md.targetPrefix) .. " },\n")

  w("operations = {\n")
  for _, name in ipairs(sorted_keys(ops)) do
    local op = ops[name]
    local parts = { "name = " .. quote(name), "snake = " .. quote(names.to_snake(name)) }
    if op.input then
      parts[#parts + 1] = "input = " .. quote(op.input.shape)
      local inp = shapes[op.input.shape]
      for _, m in ipairs(order[op.input.shape] or {}) do
        if inp.members[m].idempotencyToken then
          parts[#parts + 1] = "idempotency_token = " .. quote(m)
        end
      end
    end
    if op.output then
      parts[#parts + 1] = "output = " .. quote(op.output.shape)
      local mo = order[op.output.shape] or {}
      if #mo == 1 then
        parts[#parts + 1] = "result_key = " .. quote(mo[1])
        local member_shape = shapes[shapes[op.output.shape].members[mo[1]].shape]
        if member_shape.type == "structure" then parts[#parts + 1] = "result_required = true" end
      end
    end
    local errs = {}
    for _, e in ipairs(op.errors or {}) do errs[#errs + 1] = e.shape end
    parts[#parts + 1] = "errors = " .. string_list(errs)
    local p = pag[name]
    if p then
      local pp = {}
      for _, k in ipairs({ "input_token", "output_token", "limit_key", "result_key" }) do
        local v = p[k]
        if type(v) == "table" then
          die("paginator " .. name .. "." .. k .. " is a list; extend the generator")
        end
        if v then pp[#pp + 1] = k .. " = " .. quote(v) end
      end
      parts[#parts + 1] = "paginator = { " .. table.concat(pp, ", ") .. " }"
    end
    w(key(name) .. " = { " .. table.concat(parts, ", ") .. " },\n")
  end
  w("},\n")

  local lines = {}
  for _, name in ipairs(sorted_keys(reach)) do
    local s = shapes[name]
    ident(name, "shape name")
    if not s.type:match("^%a+$") then die(name .. ": unexpected type " .. s.type) end
    local parts = { s.type }
    if s.type == "structure" then
      local mo = order[name] or {}
      local seen, count = {}, 0
      for _ in pairs(s.members or {}) do count = count + 1 end
      if count ~= #mo then die("member order scan disagrees with cjson for " .. name) end
      local members = {}
      for _, m in ipairs(mo) do
        local sn = names.to_snake(m)
        if seen[sn] then
          die(string.format("%s: members %s and %s both map to snake_case %q",
                            name, seen[sn], m, sn))
        end
        seen[sn] = m
        local shape = ident(s.members[m].shape, name .. "." .. m .. " shape")
        members[#members + 1] = ident(m, name .. " member") .. (shape == m and "" or ":" .. shape)
      end
      if s.required and #s.required > 0 then
        local rs = {}
        for _, r in ipairs(s.required) do
          if not s.members[r] then die(name .. ": required " .. r .. " is not a member") end
          rs[r] = true
        end
        parts[#parts + 1] = "required=" .. table.concat(sorted_keys(rs), ",")
      end
      parts[#parts + 1] = "members=" .. table.concat(members, ",")
      if s.exception then parts[#parts + 1] = "exception" end
      if s.fault then parts[#parts + 1] = "fault" end
    elseif s.type == "list" then
      parts[#parts + 1] = "member=" .. ident(s.member.shape, name .. " member")
    elseif s.type == "map" then
      parts[#parts + 1] = "key=" .. ident(s.key.shape, name .. " key")
      parts[#parts + 1] = "value=" .. ident(s.value.shape, name .. " value")
    end
    if s.min then parts[#parts + 1] = "min=" .. number(s.min) end
    if s.max then parts[#parts + 1] = "max=" .. number(s.max) end
    if s.pattern then parts[#parts + 1] = "pattern=" .. escape(s.pattern) end
    if s.enum then
      local e = {}
      for k, v in ipairs(s.enum) do
        if v == "" then die(name .. ": empty enum value; extend the generator") end
        e[k] = escape(v)
      end
      parts[#parts + 1] = "enum=" .. table.concat(e, ",")
    end
    if s.sensitive then parts[#parts + 1] = "sensitive" end
    lines[#lines + 1] = name .. " " .. table.concat(parts, " ") .. "\n"
  end
  local shape_text = table.concat(lines)
  -- a long bracket that the text cannot close
  local level = 1
  while shape_text:find("]" .. ("="):rep(level) .. "]", 1, true) do level = level + 1 end
  local eq = ("="):rep(level)
  w("}\n\n")
  w("-- One line per shape (see the format above).\n")
  w("local SHAPES = [" .. eq .. "[\n\n" .. shape_text .. "]" .. eq .. "]\n")
  w(READER)
  io.write(table.concat(out))
end

if arg and arg[1] == "--unicode" then
  gen_unicode()
else
  gen_api()
end
