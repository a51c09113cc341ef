--- The commands of `fsx-backup`: each takes the run's context and returns
-- its exit status, or raises (see `fsx.cli.run`).
--
-- Layer: CLI, over the client's backup, waiter and retention methods.
-- @module fsx.cli.commands
local errors = require "fsx.error"
local output = require "fsx.cli.output"
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

local function array(t) return output.array(t) end

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

function M.create(ctx)
  local o = ctx.opts
  local fs, vol = target_of(ctx, true)
  local tags = cli_tags.of(ctx)
  if o.timeout and not o.wait then usage_error(ctx.command, "--timeout needs --wait") end
  if o["max-interval"] and not o.wait then usage_error(ctx.command, "--max-interval needs --wait") end
  local token = tokens.of(ctx)
  if ctx.opts["dry-run"] then
    if o["copy-tags"] and o["copy-tags"] ~= "none" then
      notice(ctx, "dry run: --copy-tags " .. o["copy-tags"] .. " adds the "
        .. (vol and "volume's" or "file system's") .. " tags at run time; they are not shown")
    end
    return dry_run(ctx, "CreateBackup", { file_system_id = fs, volume_id = vol,
      tags = cli_tags.sorted_list(tags), client_request_token = token })
  end
  -- always send a token we know, so an interrupted create can be resumed
  local own_token = token or tokens.random()
  local client = context.client(ctx)
  local ok, backup = pcall(function()
    return (client:create_backup{ file_system_id = fs, volume_id = vol, tags = tags,
                                  copy_tags = o["copy-tags"], client_request_token = own_token })
  end)
  if not ok then
    if report.is_interrupt(backup) then
      diag(PROGRAM .. ": " .. report.error_line(backup):gsub("^[^:]*: ", "")
        .. "; the service may have made the backup")
      diag(PROGRAM .. ": re-run with the same token (" .. own_token .. ") to get that backup "
        .. "instead of a second one: " .. rerun_line(ctx, token, own_token))
      return report.signal_status(context.signal())
    end
    error(report.explain_token_reuse(backup, ctx), 0)
  end
  if type(backup) ~= "table" or type(backup.backup_id) ~= "string" then
    -- a 2xx answer without the backup: the request was sent and a backup may exist
    errors.raise{ kind = "decode", code = "MissingBackup", operation = "CreateBackup",
      message = "create_backup: the service answered without a backup ID; a backup may have been "
        .. "made: re-run with the same token to get it (" .. rerun_line(ctx, token, own_token) .. ")" }
  end
  ctx.done = "backup " .. backup.backup_id .. " was created (token " .. own_token .. ")"
  if not o.wait then
    emit(ctx, "backup", { backup = backup })
    return EXIT.OK
  end
  local code, final = wait.backups(ctx, { backup.backup_id }, backup)
  if code ~= EXIT.OK then return code end
  emit(ctx, "backup", { backup = final[1] })
  return EXIT.OK
end

function M.wait(ctx)
  if ctx.opts["dry-run"] then
    return dry_run(ctx, "DescribeBackups", { backup_ids = ctx.args })
  end
  local code, final = wait.backups(ctx, ctx.args)
  if code ~= EXIT.OK then return code end
  emit(ctx, "backups", { backups = array(final) })
  return EXIT.OK
end

function M.describe(ctx)
  local o = ctx.opts
  local fs, vol, types = o["file-system-id"], o["volume-id"], o.type
  local filters
  if fs or vol or types then
    filters = {}
    if fs then filters[#filters + 1] = { name = "file-system-id", values = { fs } } end
    if vol then filters[#filters + 1] = { name = "volume-id", values = { vol } } end
    if types then filters[#filters + 1] = { name = "backup-type", values = types } end
  end
  local tag_filter = cli_tags.filter_of(ctx, "tag-filter")
  local ids = #ctx.args > 0 and ctx.args or nil
  if ctx.opts["dry-run"] then
    return dry_run(ctx, "DescribeBackups", { backup_ids = ids, filters = filters })
  end
  local fsx_tags = require "fsx.tags"
  if tag_filter then fsx_tags.check_filter(tag_filter, "describe", "--tag-filter") end
  local list = array({})
  for b in context.client(ctx):each_backup{ backup_ids = ids, filters = filters } do
    if not tag_filter or fsx_tags.matches_filter(b.tags, tag_filter) then list[#list + 1] = b end
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
  local res = context.client(ctx):delete_backup(request)
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
  local doc = { dry_run = res.dry_run == true, kept = array({}), deleted = array({}),
                failed = array({}) }
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
