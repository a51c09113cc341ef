-- The runnable examples, run as the user would run them, against the local
-- FSx server, so that they never rot:
--
--   examples/nightly.lua        nightly backups of the file systems with a tag (merge policy)
--   examples/wait_progress.lua  waiting with an on_progress callback
--   examples/demo.lua           the README's demo (and scripts/demo.sh, `make demo`)
--
-- examples/playbook.sh is run by spec/cli_spec.lua ("examples/playbook.sh"),
-- examples/nginx.conf by spec/nginx_spec.lua ("examples/nginx.conf").
--
-- Each example runs as a child process of the interpreter running busted
-- (lua5.4 or luajit) with the source tree's modules, the seed's key pair and
-- FSX_ENDPOINT_URL pointing at the server; the server checks every signature.
local cjson = require "cjson"
local helpers = require "helpers"

local q = helpers.q
local LUA = helpers.LUA
local BUILD = helpers.BUILD

local server

-- Run a command in the repository root with the example environment.
-- Returns { code =, stdout =, stderr = }.
local function sh(cmd, env)
  local creds = helpers.credentials()
  local vars = {
    LUA_PATH = helpers.ROOT .. "/lua/?.lua;" .. helpers.ROOT .. "/lua/?/init.lua;;",
    LUA_CPATH = helpers.ROOT .. "/" .. BUILD .. "/?.so;;",
    FSX_ENDPOINT_URL = server.url,
    AWS_ACCESS_KEY_ID = creds.access_key_id,
    AWS_SECRET_ACCESS_KEY = creds.secret_access_key,
    AWS_REGION = "us-east-1",
    -- nothing from the developer's own AWS setup
    AWS_CONFIG_FILE = "/dev/null", AWS_SHARED_CREDENTIALS_FILE = "/dev/null",
    AWS_EC2_METADATA_DISABLED = "true",
  }
  for k, v in pairs(env or {}) do vars[k] = v end
  local parts = { "cd", q(helpers.ROOT), "&&", "env",
                  "-u AWS_PROFILE -u AWS_SESSION_TOKEN -u AWS_ENDPOINT_URL -u AWS_ENDPOINT_URL_FSX",
                  "-u AWS_DEFAULT_REGION -u AWS_MAX_ATTEMPTS -u AWS_RETRY_MODE" }
  local names = {}
  for k in pairs(vars) do names[#names + 1] = k end
  table.sort(names)
  for _, k in ipairs(names) do parts[#parts + 1] = k .. "=" .. q(vars[k]) end
  local dir = helpers.tmpdir()
  local out, err = dir .. "/stdout", dir .. "/stderr"
  local _, code = helpers.run(table.concat(parts, " ") .. " " .. cmd .. " >" .. q(out) .. " 2>" ..
                              q(err) .. " </dev/null")
  local r = { code = code, stdout = helpers.read_file(out) or "", stderr = helpers.read_file(err) or "" }
  helpers.rmdir(dir)
  return r
end

local function example(name, args)
  local parts = { LUA, "examples/" .. name }
  for _, a in ipairs(args or {}) do parts[#parts + 1] = q(a) end
  return sh(table.concat(parts, " "))
end

local function lines(s)
  local out = {}
  for line in s:gmatch("[^\n]+") do out[#out + 1] = line end
  return out
end

-- The backups the server holds for a resource id (file system or volume).
local function backups_of(id)
  local out = {}
  for _, b in ipairs(server:state().backups) do
    local vol = b.Volume and b.Volume.VolumeId
    if b.FileSystemId == id or (b.FileSystem and b.FileSystem.FileSystemId == id) or vol == id then
      out[#out + 1] = b
    end
  end
  return out
end

local function tag_map(list)
  local m = {}
  for _, t in ipairs(list or {}) do m[t.Key] = t.Value end
  return m
end

local function assert_signatures_ok()
  assert.equal(0, server:state().counters.bad_signatures)
end

lazy_setup(function()
  server = helpers.start_fsx_server{ seed = helpers.SEED, backup_seconds = 0 }
end)

lazy_teardown(function()
  if server then server:stop() end
end)

describe("examples/nightly.lua", function()
  local NIGHTLY_A, NIGHTLY_B, WEEKLY = "fs-0aaaaaaaaaaaaaaa1", "fs-0aaaaaaaaaaaaaaa2", "fs-0aaaaaaaaaaaaaaa3"

  before_each(function()
    server:reset()
    server:seed{ file_systems = {
      { FileSystemId = NIGHTLY_A, FileSystemType = "WINDOWS",
        WindowsConfiguration = { CopyTagsToBackups = true },
        Tags = { { Key = "backup-policy", Value = "nightly" }, { Key = "cost-center", Value = "42" },
                 { Key = "aws:cloudformation:stack-name", Value = "storage" } } },
      { FileSystemId = NIGHTLY_B, FileSystemType = "OPENZFS",
        OpenZFSConfiguration = { CopyTagsToBackups = false },
        Tags = { { Key = "backup-policy", Value = "nightly" }, { Key = "Name", Value = "db" } } },
      { FileSystemId = WEEKLY, FileSystemType = "WINDOWS",
        WindowsConfiguration = { CopyTagsToBackups = true },
        Tags = { { Key = "backup-policy", Value = "weekly" } } },
    } }
  end)

  it("backs up every file system with the tag, merging its tags with the run's", function()
    local r = example("nightly.lua", { "backup-policy=nightly", "2024-05-01" })
    assert.equal(0, r.code, r.stderr)
    local out = lines(r.stdout)
    assert.equal(2, #out, r.stdout)
    local seen = {}
    for _, line in ipairs(out) do
      local id, backup_id, lifecycle = line:match("^(%S+) (backup%-%x+) (%u+)$")
      assert.truthy(id, line)
      assert.equal("AVAILABLE", lifecycle)
      seen[id] = backup_id
    end
    assert.truthy(seen[NIGHTLY_A] and seen[NIGHTLY_B], r.stdout)
    assert.same({}, backups_of(WEEKLY))

    -- merge: the file system's tags (without the reserved aws: ones) plus ours
    local a = backups_of(NIGHTLY_A)
    assert.equal(1, #a)
    assert.same({ ["backup-policy"] = "nightly", ["cost-center"] = "42", ["nightly-run"] = "2024-05-01" },
                tag_map(a[1].Tags))
    local b = backups_of(NIGHTLY_B)
    assert.equal(1, #b)
    assert.same({ ["backup-policy"] = "nightly", Name = "db", ["nightly-run"] = "2024-05-01" },
                tag_map(b[1].Tags))
    assert.equal("nightly-2024-05-01-" .. NIGHTLY_A, a[1].ClientRequestToken)
    assert_signatures_ok()
  end)

  it("gets the same backups back when re-run for the same night", function()
    local first = example("nightly.lua", { "backup-policy=nightly", "2024-05-01" })
    local again = example("nightly.lua", { "backup-policy=nightly", "2024-05-01" })
    assert.equal(0, first.code, first.stderr)
    assert.equal(0, again.code, again.stderr)
    assert.equal(first.stdout, again.stdout)
    assert.equal(1, #backups_of(NIGHTLY_A))
    assert.equal(1, #backups_of(NIGHTLY_B))
    -- another night is another backup
    local next_night = example("nightly.lua", { "backup-policy=nightly", "2024-05-02" })
    assert.equal(0, next_night.code, next_night.stderr)
    assert.equal(2, #backups_of(NIGHTLY_A))
  end)

  it("selects by key alone, and backs up ONTAP file systems volume by volume", function()
    local r = example("nightly.lua", { "Name=ontap", "2024-05-01" })
    assert.equal(0, r.code, r.stderr)
    local out = lines(r.stdout)
    assert.equal(2, #out, r.stdout)
    for _, line in ipairs(out) do assert.truthy(line:match("^fsvol%-%x+ backup%-%x+ "), line) end
    local vol = backups_of("fsvol-0123456789abcdef0")
    assert.equal(1, #vol)
    local tags = tag_map(vol[1].Tags)
    assert.equal("2024-05-01", tags["nightly-run"])
    assert.equal("storage", tags.team)  -- the volume's own tags, merged

    r = example("nightly.lua", { "backup-policy", "2024-05-01" })
    assert.equal(0, r.code, r.stderr)
    assert.equal(3, #lines(r.stdout))
    assert_signatures_ok()
  end)

  it("reports a file system it cannot back up, goes on with the others, exits 1", function()
    -- the 50-tag file system: merging one more tag would exceed the FSx limit
    local r = example("nightly.lua", { "tag02", "2024-05-01" })
    assert.equal(1, r.code)
    assert.truthy(r.stderr:find("fs-00000000000000050", 1, true), r.stderr)
    assert.truthy(r.stderr:find("more than the 50", 1, true), r.stderr)
    assert.truthy(r.stdout:match("^fs%-00000000000000049 backup%-"), r.stdout)
    assert.same({}, backups_of("fs-00000000000000050"))
  end)

  it("prints its usage and exits 2 without an argument", function()
    local r = example("nightly.lua", {})
    assert.equal(2, r.code)
    assert.truthy(r.stderr:find("usage:", 1, true))
    assert.equal(0, #server:requests())
  end)
end)

describe("examples/wait_progress.lua", function()
  local FS = "fs-0123456789abcdef0"

  before_each(function()
    server:reset()
    server:config{ backup_seconds = 2.5 }
  end)

  it("creates a backup and prints its progress until it is AVAILABLE", function()
    local r = example("wait_progress.lua", { FS })
    assert.equal(0, r.code, r.stderr)
    local out = lines(r.stdout)
    assert.is_true(#out >= 3, r.stdout)
    local first = out[1]:match("^(backup%-%x+) CREATING ")
    assert.truthy(first, r.stdout)
    local last = out[#out - 1]
    assert.equal(first, last:sub(1, #first), r.stdout)
    assert.truthy(last:sub(#first + 1):match("^ AVAILABLE%s+100%% %[##########%]"), r.stdout)
    assert.equal(first .. " is AVAILABLE", out[#out])
    assert.equal(1, #server:requests("CreateBackup"))
    assert.is_true(#server:requests("DescribeBackups") >= 2)
    assert_signatures_ok()
  end)

  it("stops waiting when the callback returns false, and resumes from the backup id", function()
    local r = example("wait_progress.lua", { FS, "1" })
    assert.equal(3, r.code, r.stdout .. r.stderr)
    assert.truthy(r.stderr:find("WaiterCancelled", 1, true), r.stderr)
    local id = r.stderr:match("resume with: wait_progress%.lua (backup%-%x+)")
    assert.truthy(id, r.stderr)
    assert.equal("CREATING", backups_of(FS)[1].Lifecycle)  -- the backup goes on

    local again = example("wait_progress.lua", { id })
    assert.equal(0, again.code, again.stderr)
    assert.equal(id .. " is AVAILABLE", lines(again.stdout)[#lines(again.stdout)])
    assert.equal(1, #server:requests("CreateBackup"))
  end)

  it("exits 4 when the backup fails", function()
    local r = example("wait_progress.lua", { FS, "1" })
    local id = assert(r.stderr:match("(backup%-%x+)"), r.stderr)
    server:set_backup(id, { lifecycle = "FAILED", message = "the disk caught fire" })
    r = example("wait_progress.lua", { id })
    assert.equal(4, r.code, r.stdout .. r.stderr)
    assert.truthy(r.stderr:find("BackupFailed", 1, true), r.stderr)
    assert.truthy(r.stderr:find("the disk caught fire", 1, true), r.stderr)
  end)
end)

describe("examples/demo.lua", function()
  before_each(function()
    server:reset()
    server:config{ backup_seconds = 1 }
  end)

  it("creates a backup with the file system's tags merged in, waits, prints it as JSON", function()
    local r = example("demo.lua")
    assert.equal(0, r.code, r.stderr)
    local out = lines(r.stdout)
    assert.truthy(out[1]:match("^created backup%-%x+ %(CREATING%)"), r.stdout)
    local final = cjson.decode(out[#out])
    assert.equal("AVAILABLE", final.lifecycle)
    local tags = {}
    for _, t in ipairs(final.tags) do tags[t.key] = t.value end
    assert.same({ Name = "nightly", team = "storage" }, tags)
    assert_signatures_ok()
  end)
end)

-- `make demo` (the README's first command after scripts/deps.sh) starts its
-- own server; it runs lua5.4, so it is run once, from the lua5.4 busted run.
local describe_demo = rawget(_G, "jit") and pending or describe
describe_demo("scripts/demo.sh (make demo)", function()
  it("builds, starts the local server, creates a backup, waits and prints it", function()
    local r = sh("bash scripts/demo.sh")
    assert.equal(0, r.code, r.stdout .. r.stderr)
    assert.truthy(r.stdout:match("local FSx server at http://127%.0%.0%.1:%d+"), r.stdout)
    local out = lines(r.stdout)
    assert.equal("AVAILABLE", cjson.decode(out[#out]).lifecycle)
  end)
end)
