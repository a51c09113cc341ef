--- The shape lines of `fsx.api`, read into tables on first use.
--
-- `lua/fsx/api.lua` (written by tools/gen_api.lua) holds every shape of the
-- model as one text line, `<Name> <type> <field> <field> ...`, where a field
-- is `key=value` or a bare flag; `%XX` escapes the characters the format
-- uses. Decoding a line only when its shape is first asked for keeps loading
-- the module cheap.
-- @module fsx.shape_lines
local find, match, gmatch, gsub = string.find, string.match, string.gmatch, string.gsub
local to_snake = require("fsx.names").to_snake

local M = {}

local function unescape(v)
  if not find(v, "%", 1, true) then return v end
  return (gsub(v, "%%(%x%x)", function(h) return string.char(tonumber(h, 16)) end))
end

--- The table of one shape line ("<type> <field> <field> ...", after the name).
-- @tparam string line
-- @treturn table `type`, and `members` (`{ name, snake, shape }` in order),
--   `required` (a set), `enum` (a list), `min`, `max`, `pattern`, flags...
function M.decode(line)
  local s = { type = match(line, "^%S+") }
  for k, eq, v in gmatch(line, " ([%a_]+)(=?)([^ ]*)") do
    if eq == "" then
      s[k] = true
    elseif k == "members" then
      local members = {}
      for name, shape in gmatch(v, "([^,:]+):?([^,]*)") do
        members[#members + 1] = { name = name, snake = to_snake(name),
                                  shape = shape ~= "" and shape or name }
      end
      s.members = members
    elseif k == "required" then
      local set = {}
      for name in gmatch(v, "[^,]+") do set[name] = true end
      s.required = set
    elseif k == "enum" then
      local list = {}
      for item in gmatch(v, "[^,]+") do list[#list + 1] = unescape(item) end
      s.enum = list
    elseif k == "min" or k == "max" then
      s[k] = tonumber(v)
    elseif k == "pattern" then
      s.pattern = unescape(v)
    else
      s[k] = v
    end
  end
  return s
end

--- Install `api.shapes` (a table filled on first use of each name) and
-- `api.shape_names()` over the text `lines` (one shape per line, each after
-- a newline).
-- @tparam table api the module table of `fsx.api`
-- @tparam string lines the shape lines
function M.install(api, lines)
  local decode = M.decode
  api.shapes = setmetatable({}, { __index = function(shapes, name)
    if type(name) ~= "string" or find(name, "[^%w_]") or name == "" then return nil end
    local at = find(lines, "\n" .. name .. " ", 1, true)
    if not at then return nil end
    local s = decode(match(lines, "^[^\n]*", at + #name + 2))
    shapes[name] = s
    return s
  end })

  function api.shape_names()
    local list = {}
    for name in gmatch(lines, "\n([%w_]+) ") do list[#list + 1] = name end
    return list
  end
end

return M
