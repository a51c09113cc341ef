--- The --tag values of `fsx-backup`: tags for a new backup (create) and a
-- tag filter (prune).
--
-- Layer: CLI.
-- @module fsx.cli.tags
local report = require "fsx.cli.report"

local M = {}

local one_line, usage_error = report.one_line, report.usage_error

-- A --tag value as its key and value: `KEY=VALUE` or the AWS CLI's
-- shorthand `Key=KEY,Value=VALUE`; `KEY` alone gives a nil value.
local function split(text)
  local k, v = text:match("^Key=(.-),Value=(.*)$")
  if k then return k, v end
  k, v = text:match("^([^=]*)=(.*)$")
  if k then return k, v end
  return text, nil
end

--- Tags from repeated --tag KEY=VALUE (or Key=KEY,Value=VALUE), as a map.
function M.of(ctx)
  local list = ctx.opts.tag
  if not list then return nil end
  local map = {}
  for _, kv in ipairs(list) do
    local k, v = split(kv)
    if v == nil then
      usage_error(ctx.command, "--tag must be KEY=VALUE or Key=KEY,Value=VALUE (got '" .. one_line(kv) .. "')")
    end
    if k == "" then usage_error(ctx.command, "--tag needs a key (got '" .. one_line(kv) .. "')") end
    if map[k] ~= nil then usage_error(ctx.command, "--tag " .. one_line(k) .. " is given twice") end
    map[k] = v
  end
  return map
end

--- A tag filter from a repeated option (prune's --tag, describe's
-- --tag-filter) of KEY[=VALUE] values: `{ key = "v" }`, `{ key = true }` (any
-- value), `{ key = { "a", "b" } }` (any of these).
function M.filter_of(ctx, option)
  option = option or "tag"
  local list = ctx.opts[option]
  if not list then return nil end
  local filter = {}
  for _, kv in ipairs(list) do
    local k, v = split(kv)
    if v == nil then v = true end
    if k == "" then usage_error(ctx.command, "--" .. option .. " needs a key (got '" .. one_line(kv) .. "')") end
    local have = filter[k]
    if have == nil or v == true then
      filter[k] = v
    elseif have ~= true then
      if type(have) ~= "table" then have = { have } end
      have[#have + 1] = v
      filter[k] = have
    end
  end
  return filter
end

--- A tag map as a list sorted by key (nil stays nil).
function M.sorted_list(map)
  if not map then return nil end
  local keys = {}
  for k in pairs(map) do keys[#keys + 1] = k end
  table.sort(keys)
  local list = {}
  for i, k in ipairs(keys) do list[i] = { key = k, value = map[k] } end
  return list
end

return M
