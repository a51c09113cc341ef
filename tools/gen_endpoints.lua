#!/usr/bin/env lua5.4
--- Generator of the endpoint data modules `lua/fsx/endpoint_data/*.lua`.
--
-- Layer: build tool (not installed). Reads the vendored JSON under model/
-- with lua-cjson and writes each file as a Lua table (documentation strings
-- left out), so the installed library resolves endpoints without reading
-- JSON or the source tree at run time:
--
--   model/partitions.json                           -> endpoint_data/partitions.lua
--   model/fsx/2018-03-01/endpoint-rule-set-1.json   -> endpoint_data/fsx.lua
--   model/sts/2011-06-15/endpoint-rule-set-1.json   -> endpoint_data/sts.lua
--
--   lua5.4 tools/gen_endpoints.lua            write them      (make endpoints)
--   lua5.4 tools/gen_endpoints.lua --check    compare them    (make endpoints-check)
--   --root DIR                                another tree's model/ and lua/
--
-- Writing prints what changed: partitions and regions added or removed,
-- partition outputs or patterns changed, rule-set parameters or rules changed.
--
-- Output is deterministic (sorted keys), so regenerating from the same JSON
-- is byte-identical. Generation fails (exit status 1) when a rule set calls a
-- function or uses a rule type `fsx.endpoint_rules` does not implement, or a
-- partition's regionRegex is outside what `fsx.pattern` compiles: a model
-- update that needs more of the language fails here, not at a user's call.

-- Find lua/fsx relative to this script, whatever the cwd.
local root = ((arg and arg[0] or ""):match("^(.*)/[^/]*$") or ".") .. "/.."
package.path = root .. "/lua/?.lua;" .. package.path

local cjson = require("cjson")
local rules = require("fsx.endpoint_rules")
local pattern = require("fsx.pattern")

local FILES = {
  { json = "model/partitions.json", lua = "lua/fsx/endpoint_data/partitions.lua",
    what = "the partitions (botocore's partitions.json)" },
  { json = "model/fsx/2018-03-01/endpoint-rule-set-1.json", lua = "lua/fsx/endpoint_data/fsx.lua",
    what = "the FSx endpoint rule set (botocore's fsx/2018-03-01/endpoint-rule-set-1.json)",
    ruleset = true, name = "fsx" },
  { json = "model/sts/2011-06-15/endpoint-rule-set-1.json", lua = "lua/fsx/endpoint_data/sts.lua",
    what = "the STS endpoint rule set (botocore's sts/2011-06-15/endpoint-rule-set-1.json)",
    ruleset = true, name = "sts" },
}

local function die(msg)
  io.stderr:write("gen_endpoints: ", msg, "\n")
  os.exit(1)
end

local function read_file(path)
  local f, err = io.open(path, "rb")
  if not f then return nil, err end
  local s = f:read("*a")
  f:close()
  return s
end

-- A string literal; control characters would be written differently by
-- Lua 5.4 and LuaJIT, and the data has none.
local function quote(s)
  if s:find("%c") then die("control character in " .. string.format("%q", s)) end
  return string.format("%q", s)
end

-- A table key: bare when Lua reads it as a name (not a keyword), else ["..."].
local function key(k)
  local loader = rawget(_G, "loadstring") or load -- Lua 5.1 load takes no string
  if k:match("^[%a_][%w_]*$") and loader("return { " .. k .. " = 1 }") then return k end
  return "[" .. quote(k) .. "]"
end

-- A JSON value as a Lua expression, objects with sorted keys, one member a
-- line below the top levels so a data update shows as a readable diff.
local function literal(v, indent)
  local t = type(v)
  if t == "string" then return quote(v) end
  if t == "boolean" then return tostring(v) end
  if t == "number" then
    if v ~= math.floor(v) then die("non-integer number in the data") end
    return string.format("%d", v)
  end
  if t ~= "table" then die("unexpected JSON value " .. tostring(v)) end
  if next(v) == nil then return "{}" end
  local inner, items = indent .. "  ", {}
  if #v > 0 then
    for i = 1, #v do items[i] = literal(v[i], inner) end
  else
    local keys = {}
    for k in pairs(v) do
      if k ~= "documentation" then keys[#keys + 1] = k end
    end
    table.sort(keys)
    for i, k in ipairs(keys) do
      items[i] = key(k) .. " = " .. literal(v[k], inner)
    end
  end
  return "{\n" .. inner .. table.concat(items, ",\n" .. inner) .. ",\n" .. indent .. "}"
end

-- Every function and rule type of a rule set must be known to the interpreter.
local function check_ruleset(node, file)
  if type(node) ~= "table" then return end
  if node.fn ~= nil and not rules.functions[node.fn] then
    die(file .. ": function " .. tostring(node.fn) .. " is not implemented in fsx.endpoint_rules")
  end
  if node.conditions ~= nil and node.type ~= "endpoint" and node.type ~= "error"
     and node.type ~= "tree" then
    die(file .. ": rule type " .. tostring(node.type) .. " is not implemented")
  end
  for _, v in pairs(node) do check_ruleset(v, file) end
end

local function check_partitions(data, file)
  for _, p in ipairs(data.partitions) do
    local ok, err = pcall(pattern.compile, p.regionRegex)
    if not ok then die(file .. ": partition " .. p.id .. ": regionRegex: " .. tostring(err)) end
  end
end

local function generate(spec, dir)
  local text, err = read_file(dir .. "/" .. spec.json)
  if not text then die(err) end
  local data = cjson.decode(text)
  if spec.ruleset then check_ruleset(data, spec.json) else check_partitions(data, spec.json) end
  return table.concat{
    "-- Generated by tools/gen_endpoints.lua from ", spec.json, ": do not edit.\n",
    "-- ", spec.what, ",\n-- Apache-2.0 (model/LICENSE.txt, model/NOTICE).\n",
    "return ", literal(data, ""), "\n",
  }
end

-- What a data update changes, for `make update-model` to print: partitions
-- and regions added or removed, partition outputs changed, rule-set
-- parameters added or removed, or just "rules changed".
local function changes(spec, old_text, new_text)
  local loader = rawget(_G, "loadstring") or load
  local old = old_text and loader(old_text)
  old = old and old() or {}
  local new = loader(new_text)()
  local out = {}
  local function note(fmt, ...) out[#out + 1] = string.format(fmt, ...) end
  local function by_key(list, field)
    local t = {}
    for _, x in ipairs(list or {}) do t[x[field]] = x end
    return t
  end
  local function diff_keys(a, b, what)
    local ks = {}
    for k in pairs(b or {}) do if not (a or {})[k] then ks[#ks + 1] = k end end
    table.sort(ks)
    for _, k in ipairs(ks) do note("%s added: %s", what, k) end
    ks = {}
    for k in pairs(a or {}) do if not (b or {})[k] then ks[#ks + 1] = k end end
    table.sort(ks)
    for _, k in ipairs(ks) do note("%s removed: %s", what, k) end
  end
  if spec.ruleset then
    diff_keys(old.parameters, new.parameters, spec.name .. " parameter")
    if literal(old.rules or {}, "") ~= literal(new.rules, "") then
      note("%s rules changed", spec.name)
    end
    return out
  end
  local op, np = by_key(old.partitions, "id"), by_key(new.partitions, "id")
  diff_keys(op, np, "partition")
  for _, p in ipairs(new.partitions) do
    local o = op[p.id]
    if o then
      diff_keys(o.regions, p.regions, "region (" .. p.id .. ")")
      if o.regionRegex ~= p.regionRegex then
        note("partition %s: regionRegex %s -> %s", p.id, o.regionRegex, p.regionRegex)
      end
      if literal(o.outputs, "") ~= literal(p.outputs, "") then
        note("partition %s: outputs changed", p.id)
      end
    end
  end
  return out
end

local check, dir = false, root
local i = 1
while arg[i] do
  if arg[i] == "--check" then check = true
  elseif arg[i] == "--root" and arg[i + 1] then dir, i = arg[i + 1], i + 1
  else die("usage: gen_endpoints.lua [--check] [--root DIR]") end
  i = i + 1
end
local stale = 0
for _, spec in ipairs(FILES) do
  local want = generate(spec, dir)
  local path = dir .. "/" .. spec.lua
  local have = read_file(path)
  if check then
    if have ~= want then
      io.stderr:write("gen_endpoints: ", spec.lua, " does not match ", spec.json,
                      " (run make endpoints)\n")
      stale = stale + 1
    end
  elseif have ~= want then
    for _, line in ipairs(changes(spec, have, want)) do print("gen_endpoints: " .. line) end
    local f = assert(io.open(path, "wb"))
    f:write(want)
    f:close()
    print("gen_endpoints: wrote " .. spec.lua)
  end
end
if stale > 0 then os.exit(1) end
