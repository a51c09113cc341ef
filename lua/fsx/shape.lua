--- The generated model (`fsx.api`) by name: operations and shapes.
--
-- Layer: Lua helpers. Reads `fsx.api`. Used by `fsx.validate` (input),
-- `fsx.output` (answers), the client and the CLI.
-- @module fsx.shape
local api = require("fsx.api")
local errors = require("fsx.error")

local M = {}

local SHAPES, OPS = api.shapes, api.operations

--- The declaration of a shape by name (from `fsx.api`), or nil.
function M.get(name)
  return SHAPES[name]
end

local ops_by_snake, ops_sorted

--- The declaration of an operation, by API name (`CreateBackup`) or snake
-- name (`create_backup`).
-- @treturn ?table the declaration from `fsx.api`, nil when unknown
function M.operation(name)
  local d = OPS[name]
  if d then return d end
  if not ops_by_snake then
    ops_by_snake = {}
    for _, decl in pairs(OPS) do ops_by_snake[decl.snake] = decl end
  end
  return ops_by_snake[name]
end

--- The declaration of an operation given as a declaration, an API name or
-- a snake name; raises a validation error when there is none.
-- @tparam string|table op
-- @treturn table the declaration
function M.resolve(op)
  if type(op) == "table" then return op end
  local d = M.operation(op)
  if not d then errors.raise_validation(type(op) == "string" and op or nil, nil, "unknown operation") end
  return d
end

--- Iterate over all operations, sorted by API name:
-- `for name, decl in shape.operations() do ... end`.
function M.operations()
  if not ops_sorted then
    ops_sorted = {}
    for name in pairs(OPS) do ops_sorted[#ops_sorted + 1] = name end
    table.sort(ops_sorted)
  end
  local i = 0
  return function()
    i = i + 1
    local name = ops_sorted[i]
    if name then return name, OPS[name] end
  end
end

return M
