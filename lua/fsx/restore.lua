--- Copies and restores of backups: `copy_backup` (in-Region and cross-Region),
-- `restore_file_system` and `restore_volume`, each optionally waiting.
--
-- Layer: Lua helpers, over `fsx.backup`'s shared argument helpers and
-- `fsx.waiter`. Each sends its operation exactly once through
-- `client:_operation` (one ClientRequestToken across retries).
--
-- **Regions of a copy.** FSx makes a copy in the Region the CopyBackup request
-- is sent to, from the backup in `SourceRegion` (the same Region when left
-- out). A client built for the source Region therefore makes a same-Region
-- copy without complaint. So `copy_backup` names its Regions: give
-- `source_region` (where the backup is) and/or `destination_region` (where the
-- copy is made); the destination must be the client's own Region (the request
-- and the wait both go there), else it is a `validation` error saying so.
--
--     local east = fsx.new{ region = "us-east-1" }             -- the destination
--     local copy = east:copy_backup{ source_backup_id = id, source_region = "eu-west-1",
--                                    source_client = fsx.new{ region = "eu-west-1" },
--                                    wait = { timeout = 7200 } }
--
-- Checked before anything is sent (FSx would refuse it), each a `validation`
-- error with FSx's error code: the Regions are in different partitions
-- (`InvalidRegion`); a cross-Region copy to or from an opt-in Region
-- (`UnsupportedOperation`, see `OPT_IN_REGIONS`); and, when the source backup
-- can be described (a same-Region copy, or `source_client` given for the
-- source Region), a source that is not AVAILABLE (`SourceBackupUnavailable`)
-- or of a file system using the Intelligent-Tiering storage class
-- (`UnsupportedOperation`). A source that does not exist raises FSx's
-- `BackupNotFound` before sending; a describe that fails otherwise (no
-- permission, an outage) leaves the checks to FSx.
-- @module fsx.restore
local api = require "fsx.api"
local backup = require "fsx.backup"
local errors = require "fsx.error"

local M = {}

--- Regions that must be enabled for an account (opt-in Regions): FSx makes
-- no cross-Region copies to or from them (in-Region copies work there).
M.OPT_IN_REGIONS = {
  ["af-south-1"] = true, ["ap-east-1"] = true, ["ap-east-2"] = true, ["ap-south-2"] = true,
  ["ap-southeast-3"] = true, ["ap-southeast-4"] = true, ["ap-southeast-5"] = true,
  ["ap-southeast-6"] = true, ["ap-southeast-7"] = true, ["ca-west-1"] = true,
  ["eu-central-2"] = true, ["eu-south-1"] = true, ["eu-south-2"] = true,
  ["il-central-1"] = true, ["me-central-1"] = true, ["me-south-1"] = true,
  ["mx-central-1"] = true,
}

-- Send an operation that creates something, then wait for it when `o` (waiter
-- options) is given: `kind` names the waiter ("backup", "file_system",
-- "volume") and `id_field` the result's id member; `skip` the fields of
-- `send` the operation does not take.
local function create_then_wait(client, o, send, skip, op, decl, kind, id_field)
  local made, meta = client:_operation(decl, backup.without(send, skip), skip)
  if not o then return made, meta end
  return backup.wait_after(client, kind, made[id_field], o, op, meta)
end

local WAIT_SKIP = { wait = true }

local function refuse(op, code, message)
  errors.raise{ kind = "validation", code = code, operation = op, message = op .. ": " .. message }
end

local function check_region(op, field, region)
  local endpoint = require "fsx.endpoint"
  if type(region) ~= "string" or not endpoint.valid_region(region) then
    errors.raise_validation(op, field, "must be a Region name such as us-east-1")
  end
end

-- What FSx refuses about a copy's source backup (a snake_case backup).
local function check_source(op, src, id)
  if src.lifecycle ~= "AVAILABLE" then
    refuse(op, "SourceBackupUnavailable", "source backup " .. id .. " is " ..
      tostring(src.lifecycle) .. ": FSx copies only AVAILABLE backups")
  end
  local fs = type(src.file_system) == "table" and src.file_system or {}
  if fs.storage_type == "INTELLIGENT_TIERING" then
    refuse(op, "UnsupportedOperation", "source backup " .. id .. " is of a file system " ..
      "using the Intelligent-Tiering storage class, whose backups FSx cannot copy")
  end
end

local COPY_SKIP = { wait = true, source_region = true, destination_region = true, source_client = true }

--- CopyBackup with explicit Regions, checks before sending, and waiting (in
-- the destination Region).
-- @param client a client for the destination Region
-- @tparam table args `source_backup_id`, `source_region` and/or
--   `destination_region` (at least one), `source_client` (optional: a client
--   for the source Region, to check the source before sending), `wait`, and
--   CopyBackup's `kms_key_id`, `copy_tags` (its own boolean), `tags`,
--   `client_request_token`
-- @treturn table the copy (AVAILABLE when waited for), meta
function M.copy_backup(client, args)
  local op = "copy_backup"
  backup.check_self(client, op)
  args = backup.check_args(args, op)
  local src_region, dest_region = args.source_region, args.destination_region
  if src_region == nil and dest_region == nil then
    errors.raise_validation(op, nil, "give source_region (the Region of the backup) and/or " ..
      "destination_region (the Region of the copy, which must be this client's): FSx makes the " ..
      "copy in the Region the request is sent to")
  end
  if src_region ~= nil then check_region(op, "source_region", src_region) end
  if dest_region ~= nil then check_region(op, "destination_region", dest_region) end
  dest_region = dest_region or client.region
  if dest_region ~= client.region then
    errors.raise_validation(op, "destination_region", "is " .. dest_region .. " but this client is for " ..
      tostring(client.region) .. ": CopyBackup is sent in the destination Region, so call " ..
      "copy_backup on a client for " .. dest_region)
  end
  src_region = src_region or dest_region
  local id = args.source_backup_id
  if type(id) ~= "string" or id == "" then errors.raise_validation(op, "source_backup_id", "is required") end
  if src_region ~= dest_region then
    local endpoint = require "fsx.endpoint"
    local sp, dp = endpoint.partition(src_region), endpoint.partition(dest_region)
    if sp.name ~= dp.name then
      refuse(op, "InvalidRegion", "cannot copy from " .. src_region .. " (partition " .. sp.name ..
        ") to " .. dest_region .. " (partition " .. dp.name .. "): FSx copies across Regions " ..
        "only within one partition")
    end
    for _, r in ipairs{ src_region, dest_region } do
      if M.OPT_IN_REGIONS[r] then
        refuse(op, "UnsupportedOperation", r .. " is an opt-in Region: FSx makes no " ..
          "cross-Region backup copies to or from opt-in Regions")
      end
    end
  end
  local source_client = args.source_client
  if src_region == dest_region then
    source_client = client
  elseif source_client ~= nil then
    backup.check_self(source_client, op)
    if source_client.region ~= src_region then
      errors.raise_validation(op, "source_client", "is for " .. tostring(source_client.region) ..
        ", not the source Region " .. src_region)
    end
  end
  local o = backup.wait_options(client, args.wait, op)
  -- validate the request itself before reading anything
  local send = backup.without(args, COPY_SKIP)
  if src_region ~= dest_region then send.source_region = src_region end
  require("fsx.validate").input(api.operations.CopyBackup, send)
  if source_client then
    -- a source that cannot be described (no DescribeBackups permission, an
    -- outage) is left for FSx to judge; one that does not exist is not copied
    local ok, out = pcall(source_client.describe_backups, source_client, { backup_ids = { id } })
    if not ok and errors.is_error(out, "BackupNotFound") then error(out, 0) end
    local src = ok and type(out) == "table" and out.backups and out.backups[1]
    if src then check_source(op, src, id) end
  end
  return create_then_wait(client, o, send, {}, op, api.operations.CopyBackup, "backup", "backup_id")
end

-- A restore helper: the operation `decl`, then a wait of `kind` for the
-- result's `id_field` when `wait` is given.
local function restorer(op, decl, kind, id_field)
  return function(client, args)
    backup.check_self(client, op)
    args = backup.check_args(args, op)
    return create_then_wait(client, backup.wait_options(client, args.wait, op), args, WAIT_SKIP, op,
                            decl, kind, id_field)
  end
end

--- CreateFileSystemFromBackup, optionally waiting for the file system to be AVAILABLE.
-- @function restore_file_system
-- @param client the client
-- @tparam table args the CreateFileSystemFromBackup arguments (`backup_id`,
--   `subnet_ids`, ...) plus `wait`
-- @treturn table the file system, meta
M.restore_file_system = restorer("restore_file_system", api.operations.CreateFileSystemFromBackup,
                                 "file_system", "file_system_id")

--- CreateVolumeFromBackup, optionally waiting for the volume to be ready: CREATED
-- (ONTAP) or AVAILABLE, and, on a second-generation ONTAP file system, its data
-- downloaded from the backup (the DOWNLOAD_DATA_FROM_BACKUP administrative
-- action COMPLETED; until then clients have read-only access). See `fsx.waiter`.
-- @function restore_volume
-- @param client the client
-- @tparam table args the CreateVolumeFromBackup arguments (`backup_id`, `name`, ...) plus `wait`
-- @treturn table the volume, meta
M.restore_volume = restorer("restore_volume", api.operations.CreateVolumeFromBackup,
                            "volume", "volume_id")

return M
