--- Hand-written extensions of the generated backup operations: tag policies
-- and waiting on create_backup, and `list_backups` (DescribeBackups filtered by
-- type and tag). Copies and restores are in `fsx.restore`.
--
-- Layer: Lua helpers. The client's `create_backup` method is this version
-- taking a `wait` argument and `copy_tags`. Everything else about a call
-- (validation, idempotency token, retries) stays in `fsx.client`: each of these
-- sends its operation exactly once through `client:_operation`, which fills
-- the ClientRequestToken once and keeps it across retries.
--
--     local backup = client:create_backup{
--       file_system_id = "fs-0123456789abcdef0",
--       tags = { Name = "nightly" },
--       copy_tags = "merge",                     -- see fsx.tags
--       wait = { timeout = 1800, on_progress = print },
--     }
--
-- Where `copy_tags` reads the tags from: with `file_system_id`, the file
-- system's tags (DescribeFileSystems); with `volume_id`, the **volume's own**
-- tags (DescribeVolumes, or ListTagsForResource on the volume's ARN when the
-- description carries none), since a volume backup is what the volume's
-- CopyTagsToBackups setting would tag. A function policy gets that file system
-- or volume table as its third argument.
-- @module fsx.backup
local api = require "fsx.api"
local errors = require "fsx.error"
local validate = require "fsx.validate"

-- fsx.tags and fsx.waiter, loaded on the first use of copy_tags or wait (a
-- plain create_backup needs neither)
local function lazy(name)
  return setmetatable({}, { __index = function(proxy, k)
    local mod = require(name)
    setmetatable(proxy, { __index = mod })
    return mod[k]
  end })
end
local tags = lazy("fsx.tags")
local waiter = lazy("fsx.waiter")

local M = {}

--- Refuse a call not made as `client:op{...}`. (Shared with `fsx.restore`.)
-- @local
function M.check_self(self, op)
  if type(self) ~= "table" or type(self._operation) ~= "function" then
    errors.raise_validation(op, nil, "call it as client:" .. op .. "{...}")
  end
end

--- The arguments table (nil: empty), checked to be plain data.
-- @local
function M.check_args(args, op)
  if args == nil then return {} end
  if type(args) ~= "table" then errors.raise_validation(op, nil, "arguments must be a table") end
  return errors.check_plain(op, nil, args)
end

--- A shallow copy of args without the fields a helper handles itself.
-- @local
function M.without(args, skip)
  local out = {}
  for k, v in pairs(args) do
    if not skip[k] then out[k] = v end
  end
  return out
end

--- Resolve `wait` (nil/false: no wait; true or a table: waiter options).
-- @local
function M.wait_options(self, wait, op)
  if wait == nil or wait == false then return nil end
  return waiter.options(wait, op, self, "wait")
end

-- Every tag of a resource through ListTagsForResource (paginated).
local function list_tags(self, arn)
  local out = {}
  for tag in self:each_tag{ resource_arn = arn } do out[#out + 1] = tag end
  return out
end

-- How each kind of backed-up resource is described by its id.
local RESOURCES = {
  volume = { id_arg = "volume_id", describe = "describe_volumes", ids_arg = "volume_ids",
             list = "volumes", not_found = "VolumeNotFound", operation = "DescribeVolumes",
             noun = "volume" },
  file_system = { id_arg = "file_system_id", describe = "describe_file_systems",
                  ids_arg = "file_system_ids", list = "file_systems",
                  not_found = "FileSystemNotFound", operation = "DescribeFileSystems",
                  noun = "file system" },
}

--- The resource create_backup would back up and its tags.
-- @param client the client
-- @tparam table args `file_system_id` or `volume_id`
-- @tparam[opt] string op the operation named in errors (default `"create_backup"`)
-- @treturn table the snake_case file system or volume
-- @treturn table its tags, a list of `{ key =, value = }`
function M.read_resource(client, args, op)
  op = op or "create_backup"
  local r = args.volume_id ~= nil and RESOURCES.volume or RESOURCES.file_system
  local id = args[r.id_arg]
  local out = client[r.describe](client, { [r.ids_arg] = { id } })
  local resource = out[r.list] and out[r.list][1]
  if not resource then
    errors.raise{ kind = "service", code = r.not_found, operation = r.operation,
      message = op .. ": " .. r.noun .. " " .. id .. " was not found" }
  end
  local list = resource.tags
  if list == nil and resource.resource_arn then list = list_tags(client, resource.resource_arn) end
  return resource, list or {}
end

--- Wait after a create call; a failure carries the id of what was created
-- and `created = true`.
-- @local
function M.wait_after(client, kind, id, o, op, meta)
  local ok, final, info = pcall(waiter.wait_one, client, kind, id, o, op)
  if not ok then
    local err = final
    if errors.is_error(err) then
      local field = waiter.SPECS[kind].id_field
      if err[field] == nil then err[field] = id end
      err.created = true
    end
    error(err, 0)
  end
  meta.wait = info
  return final, meta
end

local CREATE_SKIP = { copy_tags = true, wait = true }

--- CreateBackup with tag policies and waiting.
-- @param client the client
-- @tparam table args the CreateBackup arguments (`file_system_id` or `volume_id`,
--   `tags` as a map or a list, `client_request_token`) plus `copy_tags` (a
--   policy of `fsx.tags`; default `"none"`) and `wait` (`true` or waiter options)
-- @treturn table the backup (AVAILABLE when waited for)
-- @treturn table meta of the CreateBackup call (`meta.wait = { polls =, elapsed = }`
--   after a wait)
function M.create_backup(client, args)
  local op = "create_backup"
  M.check_self(client, op)
  args = M.check_args(args, op)
  local decl = api.operations.CreateBackup
  -- the model makes both optional; FSx refuses a call with neither or both
  if (args.file_system_id == nil) == (args.volume_id == nil) then
    errors.raise_validation(op, nil, "give exactly one of file_system_id, volume_id")
  end
  local o = M.wait_options(client, args.wait, op)
  local send = M.without(args, CREATE_SKIP)
  local policy = args.copy_tags
  if policy ~= nil and policy ~= "none" then
    tags.precheck(policy, send.tags, op)
    -- validate everything, the caller's tags included (as they would be sent:
    -- without the aws: keys every policy drops), before reading anything
    local check = M.without(send, { tags = true })
    local caller = {}
    for _, tag in ipairs(tags.normalize(send.tags, "tags", op)) do
      if not tags.is_reserved(tag.key) then caller[#caller + 1] = tag end
    end
    if #caller > 0 then check.tags = caller end
    validate.input(decl, check)
    local resource, resource_tags = M.read_resource(client, send, op)
    local list = tags.apply(policy, resource_tags, send.tags, resource, op)
    send.tags = #list > 0 and list or nil
  end
  local ok, backup, meta = pcall(client._operation, client, decl, send, CREATE_SKIP)
  if not ok then
    if policy ~= nil and policy ~= "none" and args.client_request_token ~= nil
       and errors.is_error(backup, "IncompatibleParameterError") then
      backup.message = op .. ": client_request_token " .. tostring(args.client_request_token) ..
        " was used before with other parameters: with copy_tags the tags sent are computed " ..
        "from the " .. (args.volume_id and "volume" or "file system") .. "'s current tags, " ..
        "which changed since that call, so FSx refuses the repeat. The backup of the first " ..
        "call exists: find it with list_backups or describe_backups (its tags are those of " ..
        "the first call); to make another backup, use a new token (" .. tostring(backup.message) .. ")"
      backup.token_reused = true
    end
    error(backup, 0)
  end
  if not o then return backup, meta end
  return M.wait_after(client, "backup", backup.backup_id, o, op, meta)
end

local BACKUP_TYPES = { AUTOMATIC = true, USER_INITIATED = true, AWS_BACKUP = true }
local LIST_FIELDS = { file_system_id = true, volume_id = true, types = true, tag_filter = true,
                      max_pages = true }
--- The argument names of `list_backups` (read through an arguments table's metatable).
M.LIST_ARGS = { "file_system_id", "max_pages", "tag_filter", "types", "volume_id" }

--- DescribeBackups filtered by resource, backup type and tags: every page,
-- each backup once (a listing that repeats a backup gives it once, as last
-- described), in the order first listed.
-- @param client the client
-- @tparam[opt] table args `file_system_id`, `volume_id` (filters of DescribeBackups),
--   `types` (a list of `USER_INITIATED`, `AUTOMATIC`, `AWS_BACKUP`: the
--   `backup-type` filter), `tag_filter` (as prune's: `{ key = "value" }`,
--   `{ key = { "a", "b" } }`, `{ key = true }`; matched here, DescribeBackups has
--   no tag filter), `max_pages` (the listing's page cap)
-- @treturn table list of snake_case backups
function M.list_backups(client, args)
  local op = "list_backups"
  M.check_self(client, op)
  args = M.check_args(args, op)
  for k in pairs(args) do
    if not LIST_FIELDS[k] then errors.raise_validation(op, tostring(k), "unknown argument") end
  end
  local filters = {}
  for _, f in ipairs{ { "file_system_id", "file-system-id" }, { "volume_id", "volume-id" } } do
    local v = args[f[1]]
    if v ~= nil then
      if type(v) ~= "string" or v == "" then errors.raise_validation(op, f[1], "must be a non-empty string") end
      filters[#filters + 1] = { name = f[2], values = { v } }
    end
  end
  if args.types ~= nil then
    if type(args.types) ~= "table" or #errors.check_plain(op, "types", args.types) == 0 then
      errors.raise_validation(op, "types", "must be a non-empty list of backup types")
    end
    for i, t in ipairs(args.types) do
      if not BACKUP_TYPES[t] then
        errors.raise_validation(op, "types[" .. i .. "]", "must be USER_INITIATED, AUTOMATIC or AWS_BACKUP")
      end
    end
    filters[#filters + 1] = { name = "backup-type", values = args.types }
  end
  local tf = args.tag_filter
  if tf ~= nil then tags.check_filter(tf, op, "tag_filter") end
  local call = { filters = #filters > 0 and filters or nil }
  local config = args.max_pages and { max_pages = args.max_pages } or nil
  local list, at = {}, {}
  for b in client:each_backup(call, config) do
    local id = b.backup_id
    if at[id] then
      list[at[id]] = b
    else
      list[#list + 1] = b
      at[id] = #list
    end
  end
  local out = {}
  for _, b in ipairs(list) do
    if tags.matches_filter(b.tags, tf) then out[#out + 1] = b end
  end
  return out
end

return M
