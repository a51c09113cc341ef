--- Hand-written extensions of the generated backup operations: tag policies
-- and waiting on create_backup, waiting on copy_backup, and the restore
-- helpers.
--
-- Layer: Lua helpers. The client's `create_backup` and `copy_backup` methods
-- are these versions taking a `wait` argument (and, for create_backup,
-- `copy_tags`), beside `restore_file_system` and `restore_volume`. Everything else about a call
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
local shape = require "fsx.shape"

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

local function check_self(self, op)
  if type(self) ~= "table" or type(self._operation) ~= "function" then
    errors.validation(op, nil, "call it as client:" .. op .. "{...}")
  end
end

local function check_args(args, op)
  if args == nil then return {} end
  if type(args) ~= "table" then errors.validation(op, nil, "arguments must be a table") end
  return errors.plain(op, nil, args)
end

-- A shallow copy of args without the fields this module handles.
local function without(args, skip)
  local out = {}
  for k, v in pairs(args) do
    if not skip[k] then out[k] = v end
  end
  return out
end

-- Resolve `wait` (nil/false: no wait; true or a table: waiter options).
local function wait_options(self, wait, op)
  if wait == nil or wait == false then return nil end
  return waiter.options(wait, op, self, "wait")
end

-- Every tag of a resource through ListTagsForResource (paginated).
local function list_tags(self, arn)
  local out = {}
  for tag in self:each_tag{ resource_arn = arn } do out[#out + 1] = tag end
  return out
end

--- The resource create_backup would back up and its tags.
-- @param client the client
-- @tparam table args `file_system_id` or `volume_id`
-- @tparam[opt] string op the operation named in errors (default `"create_backup"`)
-- @treturn table the snake_case file system or volume
-- @treturn table its tags, a list of `{ key =, value = }`
function M.read_resource(client, args, op)
  op = op or "create_backup"
  local resource
  if args.volume_id ~= nil then
    local out = client:describe_volumes{ volume_ids = { args.volume_id } }
    resource = out.volumes and out.volumes[1]
    if not resource then
      errors.raise{ kind = "service", code = "VolumeNotFound", operation = "DescribeVolumes",
        message = op .. ": volume " .. args.volume_id .. " was not found" }
    end
  else
    local out = client:describe_file_systems{ file_system_ids = { args.file_system_id } }
    resource = out.file_systems and out.file_systems[1]
    if not resource then
      errors.raise{ kind = "service", code = "FileSystemNotFound", operation = "DescribeFileSystems",
        message = op .. ": file system " .. args.file_system_id .. " was not found" }
    end
  end
  local list = resource.tags
  if list == nil and resource.resource_arn then list = list_tags(client, resource.resource_arn) end
  return resource, list or {}
end

-- Wait after a create call; a failure carries the id of what was created.
local function wait_after(client, kind, id, o, op, meta)
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
  check_self(client, op)
  args = check_args(args, op)
  local decl = api.operations.CreateBackup
  -- the model makes both optional; FSx refuses a call with neither or both
  if (args.file_system_id == nil) == (args.volume_id == nil) then
    errors.validation(op, nil, "give exactly one of file_system_id, volume_id")
  end
  local o = wait_options(client, args.wait, op)
  local send = without(args, CREATE_SKIP)
  local policy = args.copy_tags
  if policy ~= nil and policy ~= "none" then
    tags.precheck(policy, send.tags, op)
    -- validate everything, the caller's tags included (as they would be sent:
    -- without the aws: keys every policy drops), before reading anything
    local check = without(send, { tags = true })
    local caller = {}
    for _, tag in ipairs(tags.normalize(send.tags, "tags", op)) do
      if not tags.is_reserved(tag.key) then caller[#caller + 1] = tag end
    end
    if #caller > 0 then check.tags = caller end
    shape.input(decl, check)
    local resource, resource_tags = M.read_resource(client, send, op)
    local list = tags.apply(policy, resource_tags, send.tags, resource, op)
    send.tags = #list > 0 and list or nil
  end
  local backup, meta = client:_operation(decl, send, CREATE_SKIP)
  if not o then return backup, meta end
  return wait_after(client, "backup", backup.backup_id, o, op, meta)
end

-- An operation that creates something, then optionally waits for it: `kind`
-- names the waiter ("backup", "file_system", "volume") and `id_field` the
-- result's id member.
local function create_then_wait(client, args, op, decl, kind, id_field)
  check_self(client, op)
  args = check_args(args, op)
  local o = wait_options(client, args.wait, op)
  local made, meta = client:_operation(decl, without(args, { wait = true }), { wait = true })
  if not o then return made, meta end
  return wait_after(client, kind, made[id_field], o, op, meta)
end

--- CopyBackup, optionally waiting for the copy (in the client's region) to be AVAILABLE.
-- `copy_tags` here is CopyBackup's own boolean flag, passed through.
-- @treturn table the copy, meta
function M.copy_backup(client, args)
  return create_then_wait(client, args, "copy_backup", api.operations.CopyBackup,
                          "backup", "backup_id")
end

--- CreateFileSystemFromBackup, optionally waiting for the file system to be AVAILABLE.
-- @param client the client
-- @tparam table args the CreateFileSystemFromBackup arguments (`backup_id`,
--   `subnet_ids`, ...) plus `wait`
-- @treturn table the file system, meta
function M.restore_file_system(client, args)
  return create_then_wait(client, args, "restore_file_system",
                          api.operations.CreateFileSystemFromBackup, "file_system", "file_system_id")
end

--- CreateVolumeFromBackup, optionally waiting for the volume to be AVAILABLE
-- (or CREATED, ONTAP's ready state).
-- @param client the client
-- @tparam table args the CreateVolumeFromBackup arguments (`backup_id`, `name`, ...) plus `wait`
-- @treturn table the volume, meta
function M.restore_volume(client, args)
  return create_then_wait(client, args, "restore_volume", api.operations.CreateVolumeFromBackup,
                          "volume", "volume_id")
end

return M
