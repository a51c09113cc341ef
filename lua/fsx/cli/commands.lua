--- The commands of `fsx-backup`: each takes the run's context and returns
-- its exit status, or raises (see `fsx.cli.run`).
--
-- Layer: CLI, over the client's backup, waiter and retention methods.
-- @module fsx.cli.commands
local errors = require "fsx.error"
local context = require "fsx.cli.context"
local options = require "fsx.cli.options"
local report = require "fsx.cli.report"
local wait = require "fsx.cli.wait"
local args = require "fsx.cli.args"
local tokens = require "fsx.cli.tokens"
local cli_tags = require "fsx.cli.tags"

local M = {}

local PROGRAM = options.PROGRAM
local EXIT, diag, usage_error = report.EXIT, report.diag, report.usage_error
local emit, dry_run, notice = context.emit, context.dry_run, report.notice

-- Exactly one of --file-system-id and --volume-id.
local function target_of(ctx, required)
  local fs, vol = ctx.opts["file-system-id"], ctx.opts["volume-id"]
  if fs and vol then usage_error(ctx.command, "give --file-system-id or --volume-id, not both") end
  if required and not fs and not vol then
    usage_error(ctx.command, "--file-system-id or --volume-id is required")
  end
  return fs, vol
end

-- The command line that repeats this create with the token it sent.
local function rerun_line(ctx, token_given, token)
  local line = {}
  for i, w in ipairs(ctx.argv) do line[i] = w end
  if not token_given then
    line[#line + 1] = "--token"
    line[#line + 1] = token
  end
  return PROGRAM .. " " .. args.words(line)
end

-- The request of a create, copy or restore failed: a signal prints the
-- line that repeats it with the same token (the service may have acted).
local function sent_and_failed(ctx, err, token_given, token)
  if report.is_interrupt(err) then
    diag(PROGRAM .. ": " .. report.error_line(err):gsub("^[^:]*: ", "")
      .. "; the service may have acted on the request")
    diag(PROGRAM .. ": re-run with the same token (" .. token .. ") to get that result "
      .. "instead of a second one: " .. rerun_line(ctx, token_given, token))
    return report.signal_status(context.signal())
  end
  if errors.is_error(err) and err.kind == "decode" then
    -- an answer that cannot be read: the request was sent and may have been acted on
    err.message = tostring(err.message) .. "; the request was sent and may have been acted on: re-run "
      .. "with the same token to get the result (" .. rerun_line(ctx, token_given, token) .. ")"
  end
  error(report.explain_token_reuse(err, ctx), 0)
end

-- A 2xx answer without what was made: the request was sent and something may exist.
local function check_made(ctx, made, id_field, operation, token_given, token)
  if type(made) ~= "table" or type(made[id_field]) ~= "string" then
    errors.raise{ kind = "decode", code = "Missing" .. (id_field == "backup_id" and "Backup" or "Resource"),
      operation = operation,
      message = ctx.command .. ": the service answered without " .. id_field .. "; it may have acted: "
        .. "re-run with the same token to get the result (" .. rerun_line(ctx, token_given, token) .. ")" }
  end
end

-- Send a request that makes a backup (create, copy), always with a token we
-- know, then print the backup or wait for it.
local function make_backup(ctx, token, send)
  local own_token = token or tokens.random()
  local ok, backup = pcall(send, own_token)
  if not ok then return sent_and_failed(ctx, backup, token, own_token) end
  check_made(ctx, backup, "backup_id", ctx.command == "copy" and "CopyBackup" or "CreateBackup",
             token, own_token)
  ctx.done = "backup " .. backup.backup_id .. " was " .. (ctx.command == "copy" and "copied" or "created")
    .. " (token " .. own_token .. ")"
  if not ctx.opts.wait then
    emit(ctx, "backup", { backup = backup })
    return EXIT.OK
  end
  local code, final = wait.backups(ctx, { backup.backup_id }, backup)
  if code ~= EXIT.OK then return code end
  emit(ctx, "backup", { backup = final[1] })
  return EXIT.OK
end

local function check_wait_options(ctx)
  local o = ctx.opts
  if o.timeout and not o.wait then usage_error(ctx.command, "--timeout needs --wait") end
  if o["max-interval"] and not o.wait then usage_error(ctx.command, "--max-interval needs --wait") end
end

function M.create(ctx)
  local o = ctx.opts
  local fs, vol = target_of(ctx, true)
  local tags = cli_tags.of(ctx)
  check_wait_options(ctx)
  local token = tokens.of(ctx)
  if ctx.opts["dry-run"] then
    if o["copy-tags"] and o["copy-tags"] ~= "none" then
      notice(ctx, "dry run: --copy-tags " .. o["copy-tags"] .. " adds the "
        .. (vol and "volume's" or "file system's") .. " tags at run time; they are not shown")
    end
    return dry_run(ctx, "CreateBackup", { file_system_id = fs, volume_id = vol,
      tags = cli_tags.sorted_list(tags), client_request_token = token })
  end
  local client = context.client(ctx)
  return make_backup(ctx, token, function(own_token)
    return (client:create_backup{ file_system_id = fs, volume_id = vol, tags = tags,
                                  copy_tags = o["copy-tags"], client_request_token = own_token })
  end)
end

function M.copy(ctx)
  local o = ctx.opts
  check_wait_options(ctx)
  local token = tokens.of(ctx)
  local client = context.client(ctx)
  -- the copy is made where the request goes (--region); the source Region is
  -- always named, so a client of the source Region cannot copy in place by mistake
  local request = { source_backup_id = ctx.args[1], source_region = o["source-region"] or client.region,
                    copy_tags = o["copy-source-tags"] or nil, kms_key_id = o["kms-key-id"],
                    tags = cli_tags.sorted_list(cli_tags.of(ctx)) }
  if o["dry-run"] then
    request.client_request_token = token
    return dry_run(ctx, "CopyBackup", request)
  end
  return make_backup(ctx, token, function(own_token)
    request.client_request_token = own_token
    return (client:copy_backup(request))
  end)
end

function M.restore(ctx)
  local o = ctx.opts
  check_wait_options(ctx)
  local token = tokens.of(ctx)
  local volume = o["volume-name"] ~= nil
  if volume and (o["subnet-id"] or o["security-group-id"]) then
    usage_error(ctx.command, "--subnet-id and --security-group-id are for a file system, "
      .. "--volume-name for a volume: not both")
  end
  if volume and not o["storage-virtual-machine-id"] then
    usage_error(ctx.command, "--volume-name needs --storage-virtual-machine-id")
  end
  if not volume and not o["subnet-id"] then
    usage_error(ctx.command, "give --subnet-id (a new file system) or --volume-name (a new volume)")
  end
  local request = {}
  if o["input-json"] then
    local extra = require("fsx.json").decode(o["input-json"])
    if type(extra) ~= "table" then
      usage_error(ctx.command, "--input-json must be a JSON object")
    end
    for k, v in pairs(extra) do request[k] = v end
  end
  request.backup_id = ctx.args[1]
  request.tags = cli_tags.sorted_list(cli_tags.of(ctx)) or request.tags
  local operation, method, kind, id_field
  if volume then
    operation, method, kind, id_field = "CreateVolumeFromBackup", "restore_volume", "volume", "volume_id"
    request.name = o["volume-name"]
    local ontap = request.ontap_configuration or {}
    ontap.storage_virtual_machine_id = o["storage-virtual-machine-id"]
    request.ontap_configuration = ontap
  else
    operation, method, kind, id_field =
      "CreateFileSystemFromBackup", "restore_file_system", "file_system", "file_system_id"
    request.subnet_ids = o["subnet-id"]
    request.security_group_ids = o["security-group-id"] or request.security_group_ids
  end
  if o["dry-run"] then
    request.client_request_token = token
    return dry_run(ctx, operation, request)
  end
  local own_token = token or tokens.random()
  request.client_request_token = own_token
  local client = context.client(ctx)
  local display = o.wait and context.progress(ctx)
  if display then request.wait = wait.options(ctx, display) end
  local ok, made = pcall(function()
    context.check_signal()
    return (client[method](client, request))
  end)
  if display then display:finish() end
  if not ok then
    if errors.is_error(made) and made.created and not report.is_interrupt(made) then
      ctx.resume = "the " .. (volume and "volume" or "file system") .. " was left as it is; re-run to "
        .. "wait again (the same token returns it): " .. rerun_line(ctx, token, own_token)
    end
    return sent_and_failed(ctx, made, token, own_token)
  end
  check_made(ctx, made, id_field, operation, token, own_token)
  ctx.done = (volume and "volume " or "file system ") .. made[id_field] .. " was created (token "
    .. own_token .. ")"
  emit(ctx, kind, { [kind] = made })
  return EXIT.OK
end

function M.wait(ctx)
  if ctx.opts["dry-run"] then
    return dry_run(ctx, "DescribeBackups", { backup_ids = ctx.args })
  end
  local code, final = wait.backups(ctx, ctx.args)
  if code ~= EXIT.OK then return code end
  emit(ctx, "backups", { backups = final or {} })
  return EXIT.OK
end

function M.describe(ctx)
  local o = ctx.opts
  local fs, vol, types = o["file-system-id"], o["volume-id"], o.type
  local tag_filter = cli_tags.filter_of(ctx, "tag-filter")
  local ids = #ctx.args > 0 and ctx.args or nil
  if ids and (types or tag_filter) then
    usage_error(ctx.command, "--type and --tag-filter filter a listing: give them without BACKUP_ID")
  end
  local filters = {}
  if fs then filters[#filters + 1] = { name = "file-system-id", values = { fs } } end
  if vol then filters[#filters + 1] = { name = "volume-id", values = { vol } } end
  if o["dry-run"] then
    if types then filters[#filters + 1] = { name = "backup-type", values = types } end
    return dry_run(ctx, "DescribeBackups", { backup_ids = ids, filters = #filters > 0 and filters or nil })
  end
  local client = context.client(ctx)
  local list = {}
  if ids then
    for b in client:each_backup{ backup_ids = ids, filters = #filters > 0 and filters or nil } do
      list[#list + 1] = b
    end
  else
    -- the library's listing: each backup once, the type filter sent, the tags matched
    for _, b in ipairs(client:list_backups{ file_system_id = fs, volume_id = vol, types = types,
                                            tag_filter = tag_filter }) do
      list[#list + 1] = b
    end
  end
  emit(ctx, "backups", { backups = list })
  return EXIT.OK
end

function M.delete(ctx)
  local id = ctx.args[1]
  -- without --token, the token prune uses: a re-run repeats the same
  -- idempotent request and reports the backup DELETED again
  local token = tokens.of(ctx) or require("fsx.retention").delete_token(id)
  local request = { backup_id = id, client_request_token = token }
  if ctx.opts["dry-run"] then return dry_run(ctx, "DeleteBackup", request) end
  local client = context.client(ctx)
  local ok, res = pcall(client.delete_backup, client, request)
  if not ok then
    if report.is_interrupt(res) then
      diag(report.error_line(res) .. "; the backup may be deleted")
      diag(PROGRAM .. ": re-run with the same token (" .. token .. "): " .. rerun_line(ctx, true))
      return report.signal_status(context.signal())
    end
    error(res, 0)
  end
  ctx.done = "backup " .. id .. " was deleted (token " .. token .. ")"
  emit(ctx, "delete", { backup_id = res.backup_id or id, lifecycle = res.lifecycle })
  return EXIT.OK
end

function M.prune(ctx)
  local o = ctx.opts
  local fs, vol = target_of(ctx, true)
  if o["keep-last"] == nil and o["keep-days"] == nil then
    usage_error(ctx.command, "give --keep-last, --keep-days or both")
  end
  if o.apply and o["dry-run"] then usage_error(ctx.command, "give --apply or --dry-run, not both") end
  local types = o["include-type"]
  local res = context.client(ctx):prune_backups{
    file_system_id = fs, volume_id = vol, keep_last = o["keep-last"], keep_days = o["keep-days"],
    only_user_initiated = types == nil, include_types = types, tag_filter = cli_tags.filter_of(ctx),
    include_failed = o["include-failed"] == true, dry_run = o.apply ~= true,
  }
  local doc = { dry_run = res.dry_run == true, kept = {}, deleted = {}, failed = {} }
  for _, e in ipairs(res.kept or {}) do doc.kept[#doc.kept + 1] = e end
  for _, e in ipairs(res.deleted or {}) do doc.deleted[#doc.deleted + 1] = e end
  for _, e in ipairs(res.failed or {}) do
    -- the error as plain fields (the JSON document carries no metatables)
    local err = e.error
    local plain = errors.is_error(err) and { kind = err.kind, code = err.code,
      message = err.message, status = err.status, request_id = err.request_id } or tostring(err)
    doc.failed[#doc.failed + 1] = { backup = e.backup, reason = e.reason, rule = e.rule,
                                    error = plain }
  end
  if not doc.dry_run then ctx.done = #doc.deleted .. " backup(s) were deleted" end
  emit(ctx, "prune", doc)
  if context.signal() then
    -- the deletions a signal stopped are listed under failed (INTERRUPTED)
    diag(PROGRAM .. ": interrupted by " .. (report.SIGNALS[context.signal()] or "a signal") .. " after "
      .. #doc.deleted .. " deletion(s); re-run with: " .. rerun_line(ctx, true)
      .. " (the deletions repeat with the same tokens)")
    return report.signal_status(context.signal())
  end
  if doc.dry_run then
    notice(ctx, "plan only, nothing was deleted: add --apply to delete the " .. #doc.deleted
      .. " backup(s) listed")
  end
  for _, e in ipairs(res.failed or {}) do
    local id = type(e.backup) == "table" and e.backup.backup_id or "?"
    diag(PROGRAM .. ": could not delete " .. tostring(id) .. ": "
      .. (errors.is_error(e.error) and report.error_line(e.error):gsub("^[^:]*: ", "") or tostring(e.error)))
  end
  return #doc.failed > 0 and EXIT.ERROR or EXIT.OK
end

return M
