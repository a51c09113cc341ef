-- Nightly backups of every FSx file system that carries a given tag.
--
--   lua5.4 examples/nightly.lua TAG[=VALUE] [RUN_ID]
--
--   lua5.4 examples/nightly.lua backup-policy=nightly      # from cron, once a night
--
-- For each file system whose tags include TAG (with that VALUE, when given)
-- it starts one backup tagged `nightly-run=RUN_ID` and, through the "merge"
-- tag policy, with all of the file system's own tags too: FSx itself would
-- copy none of them once the call carries a tag, whatever CopyTagsToBackups
-- says. RUN_ID defaults to today's UTC date. Each backup's ClientRequestToken
-- is derived from RUN_ID and the file-system ID, so re-running the script the
-- same night (after a crash, or by a retrying scheduler) gets the backups of
-- the first run back instead of a second set.
--
-- ONTAP file systems are backed up per volume (FSx backs up ONTAP volumes,
-- not whole ONTAP file systems): every volume of the file system gets its own
-- backup, with the volume's tags merged in.
--
-- Prints one line per backup on stdout: `RESOURCE_ID BACKUP_ID LIFECYCLE`.
-- A file system that cannot be backed up (e.g. a scratch Lustre file system)
-- is reported on stderr and the others still go ahead; the exit status is then 1.
--
-- Region, credentials and endpoint come from the usual places (AWS_REGION,
-- AWS_PROFILE, the shared config files, instance or container credentials);
-- FSX_ENDPOINT_URL, when set, sends the requests there instead (the tests
-- point it at the local FSx server).
local fsx = require "fsx"

local filter, run_id = arg[1], arg[2]
if not filter or filter == "" or filter:sub(1, 1) == "-" then
  io.stderr:write("usage: nightly.lua TAG[=VALUE] [RUN_ID]\n")
  os.exit(2)
end
local want_key, want_value = filter:match("^([^=]+)=(.*)$")
if not want_key then want_key = filter end
run_id = run_id or os.date("!%Y-%m-%d")

local client = fsx.new{ endpoint_url = os.getenv("FSX_ENDPOINT_URL") }

-- True when a resource's tag list (`{ { key =, value = } }`) matches the filter.
local function selected(tags)
  for _, tag in ipairs(tags or {}) do
    if tag.key == want_key and (want_value == nil or tag.value == want_value) then return true end
  end
  return false
end

-- A ClientRequestToken (1..63 of [A-Za-z0-9_.-]) stable for this run and resource.
local function token_for(resource_id)
  local token = ("nightly-" .. run_id .. "-" .. resource_id):gsub("[^%w_.-]", "-")
  return token:sub(1, 63)
end

local failures = 0

local function backup(args, resource_id)
  args.tags = { ["nightly-run"] = run_id }
  args.copy_tags = "merge"                 -- the resource's tags + ours (ours win)
  args.client_request_token = token_for(resource_id)
  local ok, b = pcall(client.create_backup, client, args)
  if ok then
    print(("%s %s %s"):format(resource_id, b.backup_id, b.lifecycle))
  else
    failures = failures + 1
    -- fsx errors print as one line (kind, code, status, request id, message)
    io.stderr:write(("nightly: %s: %s\n"):format(resource_id, tostring(b)))
  end
end

local ok, err = pcall(function()
  for fs in client:each_file_system() do
    if selected(fs.tags) then
      if fs.file_system_type == "ONTAP" then
        local volumes = { { name = "file-system-id", values = { fs.file_system_id } } }
        for vol in client:each_volume{ filters = volumes } do
          backup({ volume_id = vol.volume_id }, vol.volume_id)
        end
      else
        backup({ file_system_id = fs.file_system_id }, fs.file_system_id)
      end
    end
  end
end)
if not ok then
  io.stderr:write("nightly: cannot list the file systems: ", tostring(err), "\n")
  os.exit(1)
end
os.exit(failures == 0 and 0 or 1)
