-- The Ansible modules (ansible/library/) run by the real ansible-playbook
-- (Debian's ansible-core, connection local) against the local FSx server.
--
-- Each playbook writes the results it registers into a directory (a task with
-- check_mode: false, so check-mode runs record too); the spec reads them and
-- the server's request log. The modules run under the interpreter running
-- busted (ansible_lua_interpreter), with this checkout's modules.
local cjson = require "cjson"
local helpers = require "helpers"

local q = helpers.q
local LUA = helpers.LUA
local FS = "fs-0123456789abcdef0"
local CREDS = helpers.session_credentials()

local function have_ansible()
  local _, rc = helpers.run("command -v ansible-playbook >/dev/null 2>&1")
  return rc == 0
end

local server, dir

-- A search path with its relative entries made absolute (the modules run in
-- Ansible's temporary directory).
local function absolute(path)
  return (path:gsub("[^;]+", function(e)
    if e:sub(1, 1) == "/" then return e end
    return helpers.ROOT .. "/" .. e:gsub("^%./", "")
  end))
end

-- Runs a playbook (YAML text) with extra ansible-playbook flags; returns the
-- output, the exit status and a function reading a result file by name.
local function playbook(text, flags, extra_env)
  local path = dir .. "/play.yml"
  local results = dir .. "/results"
  os.execute("rm -rf " .. q(results) .. " && mkdir -p " .. q(results))
  helpers.write_file(path, text)
  local env = table.concat({
    "ANSIBLE_LIBRARY=" .. q(helpers.ROOT .. "/ansible/library"),
    "ANSIBLE_LOCAL_TEMP=" .. q(dir .. "/tmp"), "ANSIBLE_REMOTE_TEMP=" .. q(dir .. "/tmp"),
    "ANSIBLE_HOME=" .. q(dir .. "/home"), "ANSIBLE_NOCOLOR=1", "ANSIBLE_FORCE_COLOR=0",
    "ANSIBLE_RETRY_FILES_ENABLED=0", "ANSIBLE_PYTHON_INTERPRETER=/usr/bin/python3",
    "LUA_PATH=" .. q(absolute(package.path)), "LUA_CPATH=" .. q(absolute(package.cpath)),
    "AWS_CONFIG_FILE=/nonexistent/config", "AWS_SHARED_CREDENTIALS_FILE=/nonexistent/credentials",
    "AWS_EC2_METADATA_DISABLED=true",
  }, " ")
  for k, v in pairs(extra_env or {}) do env = env .. " " .. k .. "=" .. q(v) end
  local cmd = "cd " .. q(dir) .. " && env -u AWS_PROFILE -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY"
    .. " -u AWS_SESSION_TOKEN -u AWS_REGION -u AWS_DEFAULT_REGION " .. env
    .. " ansible-playbook -i localhost, -c local " .. (flags or "") .. " " .. q(path) .. " 2>&1"
  local out, rc = helpers.run(cmd)
  local function result(name)
    local s = helpers.read_file(results .. "/" .. name .. ".json")
    assert(s, "no result " .. name .. " in:\n" .. out)
    return cjson.decode(s)
  end
  return out, rc, result
end

-- A playbook of tasks (YAML text, indented by 4) with the connection options
-- as play variables and `record NAME` steps after registered tasks.
local function play(tasks)
  return ([[
- hosts: localhost
  gather_facts: false
  vars:
    ansible_lua_interpreter: %s
    fsx: &fsx
      endpoint_url: %s
      region: us-east-1
      aws_access_key_id: %s
      aws_secret_access_key: %s
      session_token: %s
  tasks:
%s
]]):format(LUA, server.url, CREDS.access_key_id, CREDS.secret_access_key, CREDS.session_token, tasks)
end

-- A task running `module` with the connection options and `args` (YAML
-- lines), registered and recorded under `name`.
local function task(name, module, args, extra)
  return ([[
    - name: %s
      %s:
        <<: *fsx
%s
      register: %s
      ignore_errors: true
%s
    - name: record %s
      copy: { content: "{{ %s | to_json }}", dest: "{{ playbook_dir }}/results/%s.json" }
      check_mode: false
]]):format(name, module, args, name, extra or "", name, name, name)
end

-- The yaml block of docs/ansible.md.
local function doc_playbook()
  local text = assert(helpers.read_file(helpers.ROOT .. "/docs/ansible.md"))
  return assert(text:match("```yaml\n(.-)```"), "no yaml block in docs/ansible.md")
end

local function count(op)
  return #server:requests(op)
end

describe("fsx.ansible", function()
  local ansible = require "fsx.ansible"
  local SPEC = { options = ansible.with_connection{
    n = { type = "int" }, flag = { type = "bool", default = false }, names = { type = "list" },
    mode = { type = "str", choices = { "a", "b" } } } }

  it("converts argument types as Ansible does and ignores its internal arguments", function()
    local args = assert(ansible.check_args("m", SPEC, { n = "42", flag = "yes", names = "x, y",
      mode = "b", _ansible_check_mode = true, _ansible_verbosity = 3 }))
    assert.are.same({ n = 42, flag = true, names = { "x", "y" }, mode = "b" }, args)
    local _, _, msg = ansible.check_args("m", SPEC, { n = "4.5" })
    assert.are.equal("argument 'n' is of type string and we were unable to convert to int", msg)
    _, _, msg = ansible.check_args("m", SPEC, { mode = "c" })
    assert.are.equal("value of mode must be one of: a, b, got: c", msg)
  end)

  it("removes the secrets it was given from everything it returns", function()
    local dir2 = helpers.tmpdir()
    local path = dir2 .. "/args.json"
    helpers.write_file(path, cjson.encode{ aws_secret_access_key = "s3cr3t-VALUE",
                                           session_token = "T0KEN-value" })
    local text, status = ansible.execute("m", SPEC, function()
      error("failed with s3cr3t-VALUE and T0KEN-value inside", 0)
    end, path)
    helpers.rmdir(dir2)
    assert.are.equal(1, status)
    local r = cjson.decode(text)
    assert.is_true(r.failed)
    assert.is_nil(r.msg:find("s3cr3t-VALUE", 1, true), r.msg)
    assert.is_nil(r.msg:find("T0KEN-value", 1, true), r.msg)
    assert.truthy(r.msg:find("^failed with .+ and .+ inside$"), r.msg)
  end)
end)

describe("ansible modules", function()
  if not have_ansible() then
    pending("ansible-playbook is not installed (scripts/deps.sh installs ansible-core)")
    return
  end

  lazy_setup(function()
    server = helpers.start_fsx_server{ backup_seconds = 1 }
    dir = helpers.tmpdir()
  end)
  lazy_teardown(function()
    if server then server:stop() end
    helpers.rmdir(dir)
  end)
  before_each(function() server:reset() end)

  local create = [[
        file_system_id: ]] .. FS .. [[

        name: nightly
        tags: { team: storage }
        wait: true
        wait_timeout: 60]]

  it("creates once, reports the second run unchanged, deletes, and leaks no secret", function()
    local out, rc, result = playbook(play(
      task("first", "fsx_backup", create) ..
      task("second", "fsx_backup", create) ..
      task("info", "fsx_backup_info", "        file_system_id: " .. FS) ..
      task("delete", "fsx_backup", "        state: absent\n        backup_id: \"{{ first.backup.backup_id }}\"") ..
      task("delete_again", "fsx_backup",
        "        state: absent\n        backup_id: \"{{ first.backup.backup_id }}\"")), "-vvv")
    assert.are.equal(0, rc, out)
    local first, second = result("first"), result("second")
    assert.is_true(first.changed)
    assert.are.equal("AVAILABLE", first.backup.lifecycle)
    assert.matches("^backup%-", first.backup.backup_id)
    local tags = {}
    for _, t in ipairs(first.backup.tags) do tags[t.key] = t.value end
    assert.are.same({ Name = "nightly", team = "storage" }, tags)
    assert.is_false(second.changed)
    assert.are.equal(first.backup.backup_id, second.backup.backup_id)
    assert.are.equal(1, count("CreateBackup"))
    local info = result("info")
    assert.is_false(info.changed)
    assert.are.equal(1, #info.backups)
    assert.are.equal(first.backup.backup_id, info.backups[1].backup_id)
    assert.is_true(result("delete").changed, cjson.encode(result("delete")))
    assert.is_false(result("delete_again").changed)
    assert.are.equal(1, count("DeleteBackup"))
    assert.are.equal(0, server:state().counters.bad_signatures)
    -- -vvv shows the module arguments Ansible passes and every result
    assert.is_nil(out:find(CREDS.secret_access_key, 1, true))
    assert.is_nil(out:find(CREDS.session_token, 1, true))
  end)

  it("a create cut short and run again gets the same backup (derived token)", function()
    -- the first run's backup exists but carries no Name tag the module could
    -- find (as when the run died between CreateBackup and its answer, under a
    -- tag policy that rewrote the tags): the token alone must dedupe it
    local _, rc1, r1 = playbook(play(task("one", "fsx_backup", create)))
    assert.are.equal(0, rc1)
    local id = r1("one").backup.backup_id
    server:set_backup(id, { tags = { { Key = "other", Value = "x" } } })
    local out, rc2, r2 = playbook(play(task("two", "fsx_backup", create)))
    assert.are.equal(0, rc2, out)
    assert.are.equal(id, r2("two").backup.backup_id)
    local ops = server:requests("CreateBackup")
    assert.are.equal(2, #ops)
    assert.are.equal(ops[1].client_request_token, ops[2].client_request_token)
  end)

  it("check mode sends nothing that changes state and says what would change", function()
    local out, rc, result = playbook(play(
      task("would_create", "fsx_backup", create)), "--check")
    assert.are.equal(0, rc, out)
    local r = result("would_create")
    assert.is_true(r.changed)
    assert.are.equal(0, count("CreateBackup"))
    assert.are.equal(0, count("DeleteBackup"))
  end)

  it("prunes in check mode (nothing deleted), then for real", function()
    local ids = {}
    for i = 1, 3 do
      local b = server:signed_request("CreateBackup", { FileSystemId = FS,
        ClientRequestToken = "prune-seed-" .. i }).json.Backup
      ids[i] = b.BackupId
      server:set_backup(b.BackupId, { lifecycle = "AVAILABLE",
        creation_time = ("2026-01-0%dT00:00:00Z"):format(i) })
    end
    local prune = "        file_system_id: " .. FS .. "\n        keep_last: 1"
    local out, rc, result = playbook(play(task("plan", "fsx_backup_prune", prune)), "--check")
    assert.are.equal(0, rc, out)
    local plan = result("plan")
    assert.is_true(plan.changed)
    assert.are.equal(2, #plan.deleted)
    assert.are.equal(1, #plan.kept)
    assert.are.equal(ids[3], plan.kept[1].backup_id)
    assert.are.equal(0, count("DeleteBackup"))
    out, rc, result = playbook(play(task("real", "fsx_backup_prune", prune)))
    assert.are.equal(0, rc, out)
    local real = result("real")
    assert.is_true(real.changed)
    assert.are.equal(2, #real.deleted)
    for _, d in ipairs(real.deleted) do assert.is_string(d.reason) end
    assert.are.equal(2, count("DeleteBackup"))
    out, rc, result = playbook(play(task("again", "fsx_backup_prune", prune)))
    assert.are.equal(0, rc, out)
    assert.is_false(result("again").changed)
  end)

  it("fails on bad arguments before sending anything, in Ansible's words", function()
    local out, rc, result = playbook(play(
      task("unknown", "fsx_backup", create .. "\n        colour: blue") ..
      task("both", "fsx_backup", "        file_system_id: " .. FS
        .. "\n        volume_id: fsvol-0123456789abcdef0\n        name: x") ..
      task("no_name", "fsx_backup", "        file_system_id: " .. FS) ..
      task("bad_type", "fsx_backup", "        file_system_id: " .. FS
        .. "\n        name: x\n        wait: perhaps") ..
      task("no_id", "fsx_backup", "        state: absent")))
    assert.are.equal(0, rc, out)  -- each task ignores its error: the results say failed
    local r = result("unknown")
    assert.is_true(r.failed)
    assert.matches("Unsupported parameters for %(fsx_backup%) module: colour", r.msg)
    assert.matches("mutually exclusive: file_system_id|volume_id", result("both").msg, 1, true)
    assert.matches("state is present but all of the following are missing: name", result("no_name").msg, 1, true)
    assert.matches("argument 'wait' is of type string and we were unable to convert to bool",
                   result("bad_type").msg, 1, true)
    assert.matches("state is absent but all of the following are missing: backup_id",
                   result("no_id").msg, 1, true)
    assert.are.equal(0, #server:requests())
  end)

  it("runs the example playbook of docs/ansible.md as written", function()
    local out, rc = playbook(doc_playbook(), "-e ansible_lua_interpreter=" .. LUA, {
      AWS_ACCESS_KEY_ID = CREDS.access_key_id, AWS_SECRET_ACCESS_KEY = CREDS.secret_access_key,
      AWS_SESSION_TOKEN = CREDS.session_token, AWS_REGION = "us-east-1", AWS_ENDPOINT_URL = server.url,
    })
    assert.are.equal(0, rc, out)
    assert.matches("backup%-%x+ is AVAILABLE", out)
    assert.are.equal(1, count("CreateBackup"))
    assert.are.equal(0, server:state().counters.bad_signatures)
  end)

  it("reports a service failure with the library's error fields and no secret", function()
    local out, rc, result = playbook(play(task("missing", "fsx_backup",
      "        file_system_id: fs-0aaaaaaaaaaaaaaaa\n        name: nightly")), "-vvv")
    assert.are.equal(0, rc, out)
    local r = result("missing")
    assert.is_true(r.failed)
    assert.are.equal("FileSystemNotFound", r.code)
    assert.are.equal("service", r.kind)
    assert.is_string(r.request_id)
    assert.is_false(r.retryable)
    assert.is_nil(out:find(CREDS.secret_access_key, 1, true))
    assert.is_nil(out:find(CREDS.session_token, 1, true))
  end)
end)
