-- Waiting for a backup with a progress callback.
--
--   lua5.4 examples/wait_progress.lua FILE_SYSTEM_ID | VOLUME_ID | BACKUP_ID [STOP_AT_PERCENT]
--
-- Given a file-system or volume ID it starts a backup (tagged
-- `Name=wait-progress-example`) and waits for it; given a backup ID it waits
-- for that backup. Every change of lifecycle or progress is printed on stdout
-- as it is seen:
--
--   backup-0123456789abcdef0 CREATING      0% [..........]  0.0 s
--   backup-0123456789abcdef0 CREATING     60% [######....]  2.1 s
--   backup-0123456789abcdef0 AVAILABLE   100% [##########]  4.6 s
--
-- The callback can also end the wait: returning `false` from `on_progress`
-- stops waiting (the backup itself goes on) with a `waiter` error coded
-- `WaiterCancelled`. Here that happens once the backup reaches
-- STOP_AT_PERCENT, when given.
--
-- Exit status: 0 AVAILABLE, 3 timed out or stopped early (the backup is left
-- as it is: run the script again with its ID to keep waiting), 4 the backup
-- FAILED or was deleted, 1 any other error. Region, credentials and
-- FSX_ENDPOINT_URL as in examples/nightly.lua.
local fsx = require "fsx"
local clock = require "fsx.clock"

local id, stop_at = arg[1], tonumber(arg[2])
if not id or id == "" then
  io.stderr:write("usage: wait_progress.lua FILE_SYSTEM_ID|VOLUME_ID|BACKUP_ID [STOP_AT_PERCENT]\n")
  os.exit(2)
end

local client = fsx.new{ endpoint_url = os.getenv("FSX_ENDPOINT_URL") }
local started = clock.monotime()

local function bar(percent)
  local full = math.floor((percent or 0) / 10 + 0.5)
  return "[" .. string.rep("#", full) .. string.rep(".", 10 - full) .. "]"
end

-- Called on the first sight of the backup and whenever its lifecycle or
-- progress_percent changes.
local function on_progress(backup)
  local pct = tonumber(backup.progress_percent) or (backup.lifecycle == "AVAILABLE" and 100 or 0)
  print(("%s %-10s %4d%% %s %4.1f s"):format(backup.backup_id, tostring(backup.lifecycle),
        pct, bar(pct), clock.monotime() - started))
  io.stdout:flush()
  if stop_at and pct >= stop_at and backup.lifecycle ~= "AVAILABLE" then
    return false                      -- stop waiting: WaiterCancelled
  end
end

local wait = { timeout = 3600, min_delay = 1, max_delay = 15, on_progress = on_progress }

local ok, res = pcall(function()
  if id:match("^backup%-") then
    return client:wait_for_backup(id, wait)
  end
  local args = { tags = { Name = "wait-progress-example" }, wait = wait }
  if id:match("^fsvol%-") then args.volume_id = id else args.file_system_id = id end
  -- create_backup{ wait = ... } is create_backup followed by wait_for_backup
  return client:create_backup(args)
end)

if ok then
  print(("%s is AVAILABLE"):format(res.backup_id))
  os.exit(0)
end

local err = res
if not fsx.is_error(err) then error(err, 0) end
io.stderr:write("wait_progress: ", tostring(err), "\n")
if err.kind == "waiter" then
  if err.code == "WaiterTimeout" or err.code == "WaiterCancelled" then
    io.stderr:write("wait_progress: resume with: wait_progress.lua ", tostring(err.backup_id), "\n")
    os.exit(3)
  end
  os.exit(4)                          -- BackupFailed, BackupDeleted
end
os.exit(1)
