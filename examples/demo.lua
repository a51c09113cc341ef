-- The README's demo: create a backup against the endpoint in FSX_ENDPOINT_URL
-- (the local FSx-compatible server started by scripts/demo.sh), wait until it
-- is AVAILABLE while printing progress, and print its main fields as JSON.
local fsx = require "fsx"
local cjson = require "cjson"

local client = fsx.new{ endpoint_url = os.getenv("FSX_ENDPOINT_URL"), region = "us-east-1" }

local backup, meta = client:create_backup{
  file_system_id = "fs-0123456789abcdef0",
  tags = { Name = "nightly" },
  copy_tags = "merge",
}
print(("created %s (%s), request %s, token %s"):format(backup.backup_id, backup.lifecycle,
      meta.request_id, meta.client_request_token))

local final = client:wait_for_backup(backup.backup_id, {
  min_delay = 0.2, max_delay = 0.5,
  on_progress = function(b)
    print(("  %s %s%%"):format(b.lifecycle, tostring(b.progress_percent or 0)))
  end,
})
-- (lua-cjson writes every empty Lua table as {}, even an empty list such as
-- a file system's aliases: print the fields you need, or use the CLI's
-- `fsx-backup describe`, whose JSON follows the model)
print(cjson.encode{
  backup_id = final.backup_id, lifecycle = final.lifecycle, type = final.type,
  progress_percent = final.progress_percent, creation_time = final.creation_time,
  file_system_id = final.file_system and final.file_system.file_system_id,
  tags = final.tags,
})
