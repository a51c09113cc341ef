-- tools/gen_api_doc.lua - the "FSx operations" page of the API reference.
--
-- Layer: build tool (not installed). Reads the generated declarations
-- (lua/fsx/api.lua) and prints a Markdown page with one section per client
-- method: the FSx operation it calls, its snake_case arguments with their
-- types, required flags and limits, what it returns, its `each_*` iterator
-- and the service errors the model lists. `make docs` writes it to
-- build/doc-src/operations.md and LDoc renders it as a topic, so the
-- reference covers the methods `fsx.client` creates from the declarations
-- and can never disagree with them.
--
--   lua5.4 tools/gen_api_doc.lua > build/doc-src/operations.md
--
-- Pure Lua (no fsx.core): runs before the C module is built.
package.path = "lua/?.lua;lua/?/init.lua;" .. package.path

local api = require "fsx.api"
local names = require "fsx.names"
local paginate = require "fsx.paginate"

local SHAPES = api.shapes
local out = {}

local function w(...)
  out[#out + 1] = table.concat({ ... })
end

-- Tables are written as HTML (LDoc's Markdown processors do not all know
-- Markdown tables); inside them `code` spans are turned into <code> here.
local function html(s)
  s = tostring(s):gsub("&", "&amp;"):gsub("<", "&lt;"):gsub(">", "&gt;")
  return (s:gsub("`([^`]*)`", "<code>%1</code>"))
end

local function row(cells, tag)
  tag = tag or "td"
  local parts = {}
  for i, c in ipairs(cells) do parts[i] = "<" .. tag .. ">" .. html(c) .. "</" .. tag .. ">" end
  w("<tr>", table.concat(parts), "</tr>")
end

local function range(lo, hi, unit)
  if lo and hi then
    if lo == hi then return lo .. unit end
    return lo .. ".." .. hi .. unit
  end
  if lo then return ">= " .. lo .. unit end
  if hi then return "<= " .. hi .. unit end
  return nil
end

-- A short description of a shape: type and limits.
local function describe(shape_name)
  local s = SHAPES[shape_name] or {}
  local t = s.type
  local parts = {}
  if t == "string" then
    parts[1] = "string"
    local r = range(s.min, s.max, " chars")
    if r then parts[#parts + 1] = r end
    if s.enum then
      local e = {}
      for i, v in ipairs(s.enum) do e[i] = "`" .. v .. "`" end
      -- enums are open (docs/validation.md): other values are sent too
      parts[#parts + 1] = "values known to the model: " .. table.concat(e, ", ")
    elseif s.pattern then
      parts[#parts + 1] = "pattern `" .. s.pattern .. "`"
    end
  elseif t == "integer" or t == "long" then
    parts[1] = "integer"
    local r = range(s.min, s.max, "")
    -- numeric ranges are FSx's to check (docs/validation.md)
    if r then parts[#parts + 1] = r .. " in the model (checked by FSx)" end
  elseif t == "list" then
    local m = SHAPES[s.member] or {}
    local what = m.type == "structure" and ("`" .. s.member .. "` tables") or (m.type or "value") .. "s"
    if s.member == "Tag" then what = "tags (`{ key =, value = }`, or a map `{ Key = \"value\" }`)" end
    parts[1] = "list of " .. what
    local r = range(s.min, s.max, " items")
    if r then parts[#parts + 1] = r end
  elseif t == "structure" then
    parts[1] = "table (`" .. shape_name .. "`)"
  elseif t == "timestamp" then
    parts[1] = "number (epoch seconds)"
  elseif t == "map" then
    parts[1] = "map"
  else
    parts[1] = t or "value"
  end
  return table.concat(parts, ", ")
end

local ops = {}
for _, decl in pairs(api.operations) do ops[#ops + 1] = decl end
table.sort(ops, function(a, b) return a.snake < b.snake end)

local meta = api.metadata
w("# FSx operations")
w("")
w("Every operation of the Amazon FSx API (", meta.api_version, ", botocore ",
  tostring(meta.botocore_version), ") is a method of the client: `client:<name>{ ... }` takes ",
  "snake_case arguments, checks them against the model before anything is sent (a `validation` ",
  "error names the field), fills a missing idempotency token with a random UUID kept across ",
  "retries, and returns the response converted to snake_case (the sole member of the response ",
  "when it has only one, e.g. the backup of `create_backup`) and a meta table (`request_id`, ",
  "`status`, `attempts`, `invocation_id`, `client_request_token`). Failures raise `fsx.error` ",
  "tables. The module-level shortcuts (`fsx.create_backup{ ... }`) call the same methods on a ",
  "default client built from the environment.")
w("")
w("This page is generated from `lua/fsx/api.lua` by `tools/gen_api_doc.lua` (`make docs`).")
w("")
w("<table>")
row({ "Method", "FSx operation", "Returns", "Idempotency token", "Iterator" }, "th")
for _, d in ipairs(ops) do
  local ret = d.result_key and ("`" .. names.to_snake(d.result_key) .. "`") or "the response table"
  local iter = d.paginator and ("`" .. paginate.method_name(d) .. "`") or ""
  local tok = d.idempotency_token and ("`" .. names.to_snake(d.idempotency_token) .. "`") or ""
  w("<tr><td><a href=\"#", d.snake, "\"><code>", d.snake, "</code></a></td><td>", d.name,
    "</td><td>", html(ret), "</td><td>", html(tok), "</td><td>", html(iter), "</td></tr>")
end
w("</table>")
w("")
w("Methods written by hand on top of these (see the modules `fsx.backup`, `fsx.waiter`, ",
  "`fsx.retention`, `fsx.paginate` and `fsx.client`):")
w("")
w("* `create_backup{ ..., copy_tags =, wait = }`: tag-copying policies (`fsx.tags`) and waiting;")
w("* `copy_backup{ ..., wait = }`, `restore_file_system{ backup_id =, ..., wait = }` ",
  "(CreateFileSystemFromBackup), `restore_volume{ backup_id =, ..., wait = }` (CreateVolumeFromBackup);")
w("* `wait_for_backup(id, opts)`, `wait_for_backups(ids, opts)`, `wait_for_file_system(s)`, ",
  "`wait_for_volume(s)` (`fsx.waiter`);")
w("* `prune_backups{ file_system_id = | volume_id =, keep_last =, keep_days =, ... }` (`fsx.retention`);")
w("* `each_*` iterators over every page of the paginated operations (`fsx.paginate`);")
w("* `call(\"ApiName\", params)`: any operation with API names in and out; ",
  "`prepare(\"ApiName\", args)`: the signed request, redacted, without sending it.")
w("")

-- The arguments the hand-written methods of fsx.backup add to an operation's
-- own (lua/fsx/backup.lua takes them out before the call).
local EXTRA_ARGS = {
  create_backup = {
    { "`copy_tags`", "a tag policy (`fsx.tags`): `\"none\"` (default), `\"file_system\"`, " ..
      "`\"merge\"`, `\"replace\"`, a function `f(fs_tags, caller_tags, resource)`, or " ..
      "`{ policy =, include =, exclude = }`; the resource's tags are read first" },
    { "`wait`", "`true` or the options of `client:wait_for_backup` (`timeout`, `min_delay`, " ..
      "`max_delay`, `on_progress`, ...): return once the backup is AVAILABLE" },
  },
  copy_backup = {
    { "`wait`", "`true` or the options of `client:wait_for_backup`: wait for the copy " ..
      "(in the destination region's client)" },
  },
}

-- Each section's heading is HTML: in a Markdown heading LDoc's lua-markdown
-- reads the underscores of a snake_case name as emphasis, and the table
-- above already links every method (a contents list would repeat it).
for _, d in ipairs(ops) do
  w("<h2><a name=\"", d.snake, "\"></a><code>", d.snake, "</code></h2>")
  w("")
  w("`client:", d.snake, "{ ... }` calls **", d.name, "**.")
  w("")
  local input = SHAPES[d.input]
  local members = input and input.members or {}
  local extra = EXTRA_ARGS[d.snake] or {}
  if #members == 0 and #extra == 0 then
    w("No arguments.")
  else
    w("<table>")
    row({ "Argument", "Type", "Required" }, "th")
    local required = input and input.required or {}
    for _, m in ipairs(members) do
      local note = ""
      if d.idempotency_token == m.name then note = " (filled with a random UUID when left out)" end
      row({ "`" .. m.snake .. "`", describe(m.shape) .. note, required[m.name] and "yes" or "" })
    end
    for _, e in ipairs(extra) do row({ e[1], e[2] .. " (lua-fsx)", "" }) end
    w("</table>")
  end
  w("")
  if d.result_key then
    w("Returns the response's `", names.to_snake(d.result_key), "` (", (describe(
      (function()
        for _, m in ipairs((SHAPES[d.output] or {}).members or {}) do
          if m.name == d.result_key then return m.shape end
        end
        return d.result_key
      end)())), ") and the meta table.")
  else
    local outs = {}
    for _, m in ipairs((SHAPES[d.output] or {}).members or {}) do outs[#outs + 1] = "`" .. m.snake .. "`" end
    if #outs > 0 then
      w("Returns a table with ", table.concat(outs, ", "), ", and the meta table.")
    else
      w("Returns an empty table and the meta table.")
    end
  end
  if d.paginator then
    w("")
    w("`client:", paginate.method_name(d), "{ ... }` (same arguments) iterates over every `",
      names.to_snake(d.paginator.result_key), "` item of every page.")
  end
  if d.errors and #d.errors > 0 then
    w("")
    local errs = {}
    for i, e in ipairs(d.errors) do errs[i] = "`" .. e .. "`" end
    w("Service errors: ", table.concat(errs, ", "), ".")
  end
  w("")
end

io.write(table.concat(out, "\n"), "\n")
