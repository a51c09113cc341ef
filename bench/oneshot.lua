-- oneshot.lua - a one-shot script: create one backup and exit (start-up benchmark).
--
-- Benchmark program (bench/, not part of the library). What a playbook runs
-- once per file system: load the library, build a client from the
-- environment (credentials and region from AWS_* variables), create one
-- backup, print its id. bench/oneshot_boto3.py and `aws fsx create-backup`
-- do the same.
--
-- Usage: lua5.4 bench/oneshot.lua ENDPOINT [FILE_SYSTEM_ID]
local fsx = require "fsx"

local client = fsx.new{ endpoint_url = arg[1] }
local backup = client:create_backup{
  file_system_id = arg[2] or "fs-0123456789abcdef0",
  tags = { { key = "Name", value = "nightly" } },
}
print(backup.backup_id)
