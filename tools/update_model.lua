#!/usr/bin/env lua5.4
--- `make update-model`: take a newer AWS model from botocore, regenerate
-- everything made from it, and say what changed.
--
-- Layer: build tool (not installed).
--
--   lua5.4 tools/update_model.lua BOTOCORE_DATA [--version X.Y.Z]
--
-- BOTOCORE_DATA is botocore's `data` directory (a checkout's
-- botocore/data, or an installed package's). Copied into model/ of the tree
-- this script belongs to (model/README.md lists the files):
--
--   fsx/2018-03-01/service-2.json, paginators-1.json   (required)
--   fsx/2018-03-01/endpoint-rule-set-1.json, sts/2011-06-15/endpoint-rule-set-1.json,
--   partitions.json                                     (when present)
--
-- The version goes to model/botocore-version: --version, or botocore's
-- __version__ read from BOTOCORE_DATA/../__init__.py. Then lua/fsx/api.lua
-- is regenerated (tools/gen_api.lua) and so is the endpoint data
-- (tools/gen_endpoints.lua, which prints its own changes), and this prints
-- the operations, paginators, error types and shapes added, removed or
-- changed. Nothing is written when a required file is missing or a
-- generator fails (exit status 1).

local root = ((arg and arg[0] or ""):match("^(.*)/[^/]*$") or ".") .. "/.."
package.path = root .. "/lua/?.lua;" .. root .. "/tools/?.lua;" .. package.path
local toolkit = require("toolkit")

local LUA = arg[-1] or "lua5.4"

local die = toolkit.die_as("update-model")
local read_file, shell_quote = toolkit.read_file, toolkit.shell_quote

local function write_file(path, text)
  local tmp = path .. ".tmp"
  local f, err = io.open(tmp, "wb")
  if not f then die(err) end
  f:write(text)
  f:close()
  local ok, rerr = os.rename(tmp, path)
  if not ok then die(rerr) end
end

-- Run a command; its output, and whether it succeeded (the shell echoes the
-- status, which LuaJIT's popen close does not report).
local function run(cmd)
  local p = assert(io.popen("{ " .. cmd .. "; } 2>&1; echo \"@exit=$?\"", "r"))
  local out = p:read("*a")
  p:close()
  local body, code = out:match("^(.*)@exit=(%d+)\n$")
  return body or out, tonumber(code) == 0
end

-- The facts of a generated api.lua that a model update changes: each shape's
-- line (its declaration as text) and the operations.
local function facts(text)
  local load_text = rawget(_G, "loadstring") or load  -- Lua 5.1's load takes no string
  local chunk = assert(load_text(text, "=api.lua"))
  local api = chunk()
  local lines = {}
  local body = text:match("\nlocal SHAPES = %[(=*)%[\n")
  assert(body, "no shape lines in api.lua")
  local block = text:match("\nlocal SHAPES = %[" .. body .. "%[\n(.-)%]" .. body .. "%]")
  for line in block:gmatch("[^\n]+") do
    local name, rest = line:match("^(%S+) (.*)$")
    lines[name] = rest
  end
  local ops, pags, errs = {}, {}, {}
  for name, decl in pairs(api.operations) do
    ops[name] = true
    if decl.paginator then pags[name] = true end
  end
  for name, rest in pairs(lines) do
    if (" " .. rest .. " "):find(" exception ", 1, true) then errs[name] = true end
  end
  return { operations = ops, paginators = pags, errors = errs, shapes = lines,
           version = api.metadata.botocore_version }
end

local function sorted(set)
  local list = {}
  for k in pairs(set) do list[#list + 1] = k end
  table.sort(list)
  return list
end

-- "  added: A, B" / "  removed: C" lines for one kind of thing.
local function report(title, old, new, changed)
  local added, removed, modified = {}, {}, {}
  for k in pairs(new) do if old[k] == nil then added[#added + 1] = k end end
  for k in pairs(old) do if new[k] == nil then removed[#removed + 1] = k end end
  if changed then
    for k, v in pairs(new) do
      if old[k] ~= nil and old[k] ~= v then modified[#modified + 1] = k end
    end
  end
  table.sort(added)
  table.sort(removed)
  table.sort(modified)
  local out = { string.format("%s: %d (was %d)", title, #sorted(new), #sorted(old)) }
  if #added > 0 then out[#out + 1] = "  added: " .. table.concat(added, ", ") end
  if #removed > 0 then out[#out + 1] = "  removed: " .. table.concat(removed, ", ") end
  if #modified > 0 then out[#out + 1] = "  changed: " .. table.concat(modified, ", ") end
  return table.concat(out, "\n")
end

local data = arg[1]
if not data or data == "" or data:sub(1, 1) == "-" then
  die("usage: update_model.lua BOTOCORE_DATA [--version X.Y.Z]")
end
local version
if arg[2] == "--version" then version = arg[3] end

local FILES = {
  { "fsx/2018-03-01/service-2.json", required = true },
  { "fsx/2018-03-01/paginators-1.json", required = true },
  { "fsx/2018-03-01/endpoint-rule-set-1.json" },
  { "sts/2011-06-15/endpoint-rule-set-1.json" },
  { "partitions.json" },
}

-- read everything first: nothing is written when a required file is missing
local texts = {}
for _, f in ipairs(FILES) do
  local text = read_file(data .. "/" .. f[1])
  if not text and f.required then die("no " .. f[1] .. " under " .. data) end
  texts[f[1]] = text
end
if not version then
  local init = read_file(data .. "/../__init__.py")
  version = init and init:match("__version__%s*=%s*['\"]([^'\"]+)['\"]")
  if not version then die("cannot tell botocore's version: give --version (BOTOCORE_VERSION=)") end
end

local api_path = root .. "/lua/fsx/api.lua"
local before = facts(assert(read_file(api_path), "no lua/fsx/api.lua"))

local copied = {}
for _, f in ipairs(FILES) do
  local text = texts[f[1]]
  if text then
    local dest = root .. "/model/" .. f[1]
    if read_file(dest) ~= text then copied[#copied + 1] = f[1] end
    write_file(dest, text)
  end
end
write_file(root .. "/model/botocore-version", version .. "\n")

local out, ok = run("FSX_MODEL_DIR=" .. shell_quote(root .. "/model/fsx/2018-03-01") .. " "
                    .. shell_quote(LUA) .. " " .. shell_quote(root .. "/tools/gen_api.lua"))
if not ok then die("tools/gen_api.lua failed:\n" .. out) end
write_file(api_path, out)
local after = facts(out)

local endpoints_out
if read_file(root .. "/tools/gen_endpoints.lua") then
  local eok
  endpoints_out, eok = run(shell_quote(LUA) .. " " .. shell_quote(root .. "/tools/gen_endpoints.lua")
                           .. " --root " .. shell_quote(root))
  if not eok then die("tools/gen_endpoints.lua failed:\n" .. endpoints_out) end
end

print(string.format("botocore %s -> %s", before.version, version))
print("files changed: " .. (#copied > 0 and table.concat(copied, ", ") or "none"))
print(report("operations", before.operations, after.operations))
print(report("paginators", before.paginators, after.paginators))
print(report("error types", before.errors, after.errors))
print(report("shapes", before.shapes, after.shapes, true))
if endpoints_out and endpoints_out ~= "" then io.write(endpoints_out) end
print("regenerated lua/fsx/api.lua; now run the specs and update docs/api.md for new operations")
