--- `each_<thing>` iterators over every page of a paginated operation.
--
-- For each operation with a paginator in the model (DescribeBackups ->
-- `each_backup`, DescribeFileSystems -> `each_file_system`, ...) the client
-- gets a method returning an iterator:
--
--     for backup in client:each_backup{ filters = { { name = "file-system-id", values = { id } } } } do
--       print(backup.backup_id)
--     end
--
-- Pages are fetched lazily, one call when the previous page is used up.
-- @module fsx.paginate
local api = require "fsx.api"
local errors = require "fsx.error"
local names = require "fsx.names"

local M = {}

--- The iterator method name for a paginated operation (`each_backup`).
function M.method_name(decl)
  local key = names.to_snake(decl.paginator.result_key)
  local singular = key:gsub("ies$", "y"):gsub("([^s])s$", "%1")
  return "each_" .. singular
end

--- Iterate over the items of every page.
-- @param client the client
-- @tparam table decl the operation declaration
-- @tparam[opt] table args the operation's snake_case arguments (a `next_token` starts mid-way)
-- @treturn function iterator returning one item per call, then nil
function M.iterate(client, decl, args)
  local pg = decl.paginator
  local token_field = names.to_snake(pg.input_token)
  local out_token = names.to_snake(pg.output_token)
  local result_key = names.to_snake(pg.result_key)
  if args ~= nil and type(args) ~= "table" then
    errors.validation(M.method_name(decl), nil, "arguments must be a table")
  end
  local base = {}
  for k, v in pairs(args or {}) do base[k] = v end
  local page, index, token, done = nil, 0, base[token_field], false
  local seen = {}
  return function()
    while true do
      if page and index < #page then
        index = index + 1
        return page[index]
      end
      if done then return nil end
      base[token_field] = token
      local out = client:_operation(decl, base)
      page, index = out[result_key] or {}, 0
      token = out[out_token]
      if token == nil or token == "" then
        done = true
      elseif seen[token] then
        -- a service that hands back a token it gave before would loop forever
        errors.raise{ kind = "decode", code = "PaginationLoop", operation = decl.name,
                      message = "the service returned the same pagination token twice" }
      else
        seen[token] = true
      end
    end
  end
end

--- Add the `each_*` methods to the client class.
function M.install(Client)
  for _, decl in pairs(api.operations) do
    if decl.paginator then
      local method = M.method_name(decl)
      Client[method] = function(self, args)
        return M.iterate(self, decl, args)
      end
    end
  end
end

return M
