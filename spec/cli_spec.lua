-- fsx-backup: the modules in process, then the real command as a process
-- against the local FSx server (spec/support/fsx_server.py).
--
-- The command runs under the interpreter running busted (lua5.4 or luajit
-- bin/fsx-backup), so both interpreters' SIGINT handling is exercised. The
-- environment is cleared of the host's AWS settings and given the test
-- credentials; every command gets --endpoint-url pointing at the server.
local cjson = require "cjson"
local helpers = require "helpers"

local LUA = helpers.LUA
local FS = "fs-0123456789abcdef0"
local OTHER_FS = "fs-0fedcba9876543210"
local VOLUME = "fsvol-0123456789abcdef0"
local CREDS = helpers.credentials()
local SESSION = helpers.session_credentials()
local KEY_ID, SECRET = CREDS.access_key_id, CREDS.secret_access_key

local q = helpers.q

-- a file's text, "" when there is none
local function read_file(path) return helpers.read_file(path) or "" end

local function shell(cmd)
  local p = io.popen(cmd)
  local out = p:read("*a")
  p:close()
  return out
end

local function lines_of(s)
  local t = {}
  for line in s:gmatch("[^\n]+") do t[#t + 1] = line end
  return t
end

local function contains(s, needle)
  return string.find(s, needle, 1, true) ~= nil
end

local server

-- The environment of the command: nothing from the host's AWS set-up.
local function env_prefix(extra)
  local vars = {
    AWS_ACCESS_KEY_ID = KEY_ID, AWS_SECRET_ACCESS_KEY = SECRET, AWS_REGION = "us-east-1",
    AWS_CONFIG_FILE = "/nonexistent/config", AWS_SHARED_CREDENTIALS_FILE = "/nonexistent/credentials",
    AWS_EC2_METADATA_DISABLED = "true",
  }
  for k, v in pairs(extra or {}) do vars[k] = v end
  local parts = { "env" }
  for _, name in ipairs{ "AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_DEFAULT_OUTPUT",
                         "AWS_SECURITY_TOKEN", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_FSX",
                         "AWS_DEFAULT_REGION", "AWS_MAX_ATTEMPTS", "AWS_RETRY_MODE",
                         "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE",
                         "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
                         "AWS_CONTAINER_CREDENTIALS_FULL_URI" } do
    if vars[name] == nil then parts[#parts + 1] = "-u " .. name end
  end
  for name, v in pairs(vars) do
    if v == false then parts[#parts + 1] = "-u " .. name end
  end
  local names = {}
  for k in pairs(vars) do names[#names + 1] = k end
  table.sort(names)
  for _, k in ipairs(names) do
    if vars[k] ~= false then parts[#parts + 1] = k .. "=" .. q(vars[k]) end
  end
  return table.concat(parts, " ")
end

-- The full command line: `env ... lua bin/fsx-backup ARGS --endpoint-url URL`.
local function command(args, opts)
  opts = opts or {}
  local parts = { env_prefix(opts.env), LUA, "bin/fsx-backup" }
  for _, a in ipairs(args) do parts[#parts + 1] = q(a) end
  if not opts.no_endpoint then
    parts[#parts + 1] = "--endpoint-url"
    parts[#parts + 1] = q(server.url)
  end
  return table.concat(parts, " ")
end

-- Run the command; stdout is a pipe, stderr a file. Returns
-- { code =, stdout =, stderr = }.
local function run(args, opts)
  local out, err = os.tmpname(), os.tmpname()
  local status = shell(command(args, opts) .. " >" .. out .. " 2>" .. err .. " </dev/null; echo $?")
  local r = { code = tonumber(status:match("%d+")), stdout = read_file(out), stderr = read_file(err) }
  os.remove(out)
  os.remove(err)
  return r
end

local function json_of(r)
  local ok, v = pcall(cjson.decode, r.stdout)
  assert(ok, "stdout is not one JSON document: " .. r.stdout .. "\nstderr: " .. r.stderr)
  return v
end

local function requests()
  return server:requests()
end

local function count_operation(op)
  return #server:requests(op)
end

-- Waits (up to 10 s) until the server has seen a request of the operation.
local function wait_for_request(op)
  for _ = 1, 200 do
    if count_operation(op) > 0 then return end
    helpers.sleep(0.05)
  end
  error("no " .. op .. " reached the server")
end

local function create(extra, opts)
  local args = { "create", "--file-system-id", FS }
  for _, a in ipairs(extra or {}) do args[#args + 1] = a end
  return run(args, opts)
end

-- Start the command in the background: returns its process id and a
-- function that waits for it and returns { code =, stdout =, stderr = }.
local function start(args, opts)
  local out, err = os.tmpname(), os.tmpname()
  local script = command(args, opts) .. " >" .. out .. " 2>" .. err .. " </dev/null & echo $!; wait $!; echo \"exit=$?\""
  local p = io.popen("sh -c " .. q(script))
  local pid = tonumber(p:read("*l"))
  return pid, function()
    local rest = p:read("*a")
    p:close()
    local r = { code = tonumber(rest:match("exit=(%d+)")), stdout = read_file(out), stderr = read_file(err) }
    os.remove(out)
    os.remove(err)
    return r
  end
end

-- Run a command line fsx-backup printed (`fsx-backup ...`) as the shell would.
local function run_printed(line, opts)
  assert(line and line:match("^fsx%-backup "), tostring(line))
  local out, err = os.tmpname(), os.tmpname()
  local cmd = env_prefix(opts and opts.env) .. " " .. LUA .. " bin/" .. line
  local status = shell(cmd .. " >" .. out .. " 2>" .. err .. " </dev/null; echo $?")
  local r = { code = tonumber(status:match("%d+")), stdout = read_file(out), stderr = read_file(err) }
  os.remove(out)
  os.remove(err)
  return r
end

local function expect_code(r, code)
  assert(r.code == code, string.format("exit %s (wanted %d)\nstdout: %s\nstderr: %s",
    tostring(r.code), code, r.stdout, r.stderr))
end

---------------------------------------------------------------------------

describe("fsx.cli modules", function()
  local cli = require "fsx.cli"
  local output = require "fsx.cli.output"
  local progress = require "fsx.cli.progress"
  local errors = require "fsx.error"

  describe("--token-from", function()
    it("derives a stable, valid ClientRequestToken", function()
      local t = cli.token_from("run-42/" .. FS)
      assert.equal(t, cli.token_from("run-42/" .. FS))
      assert.not_equal(t, cli.token_from("run-43/" .. FS))
      assert.equal(63, #t)
      assert.truthy(t:match("^tf%-[0-9a-f]+$"))
      assert.is_nil(t:find("[^A-Za-z0-9_.-]"))
    end)

    it("is the SHA-256 of the text, reproducible with sha256sum", function()
      local text = "nightly/2024-05-01/" .. FS
      local hex = shell("printf %s " .. q(text) .. " | sha256sum"):match("^(%x+)")
      assert.equal("tf-" .. hex:sub(1, 60), cli.token_from(text))
    end)
  end)

  describe("argument parsing", function()
    it("takes common options before or after the command, and --opt=value", function()
      local p = cli.parse{ "--region", "eu-west-1", "create", "--file-system-id=" .. FS,
                           "--output", "text", "--wait" }
      assert.equal("create", p.command)
      assert.equal("eu-west-1", p.opts.region)
      assert.equal(FS, p.opts["file-system-id"])
      assert.equal("text", p.opts.output)
      assert.is_true(p.opts.wait)
    end)

    it("collects repeated --tag, lets the last of other options win, stops at --", function()
      local p = cli.parse{ "create", "--tag", "a=1", "--tag=b=2", "--output", "json",
                           "--output", "table", "--", "--not-an-option" }
      assert.same({ "a=1", "b=2" }, p.opts.tag)
      assert.equal("table", p.opts.output)
      assert.same({ "--not-an-option" }, p.args)
    end)

    it("converts and checks numbers", function()
      local p = cli.parse{ "wait", "backup-0", "--timeout", "2.5", "--max-attempts", "4" }
      assert.equal(2.5, p.opts.timeout)
      assert.equal(4, p.opts["max-attempts"])
      for _, bad in ipairs{ { "--timeout", "0" }, { "--timeout", "soon" }, { "--timeout", "-1" },
                            { "--max-attempts", "0" }, { "--max-attempts", "1.5" } } do
        local ok, err = pcall(cli.parse, { "wait", "backup-0", bad[1], bad[2] })
        assert.is_false(ok)
        assert.equal(2, cli.exit_code(err))
      end
    end)

    it("refuses unknown options and commands, options of other commands", function()
      for _, argv in ipairs{ { "create", "--bogus" }, { "frobnicate" }, { "wait", "--tag", "a=b" },
                             { "create", "--output" }, { "create", "--wait=yes" },
                             { "create", "-x" } } do
        local ok, err = pcall(cli.parse, argv)
        assert.is_false(ok, table.concat(argv, " "))
        assert.equal(2, cli.exit_code(err))
        assert.truthy(cli.error_line(err):match("^fsx%-backup"))
      end
    end)

    it("recognises help for a command", function()
      assert.is_true(cli.parse{ "create", "--help" }.help)
      assert.is_true(cli.parse{ "-h" }.help)
      local p = cli.parse{ "help", "prune" }
      assert.is_true(p.help)
      assert.equal("prune", p.command)
    end)
  end)

  describe("exit codes and error lines", function()
    it("maps each kind of failure to its exit status", function()
      local function e(t) return errors.new(t) end
      assert.equal(2, cli.exit_code(e{ kind = "validation", code = "ValidationError", message = "x" }))
      assert.equal(1, cli.exit_code(e{ kind = "service", code = "FileSystemNotFound", message = "x" }))
      assert.equal(1, cli.exit_code(e{ kind = "transport", code = "CURLE_COULDNT_CONNECT" }))
      assert.equal(1, cli.exit_code(e{ kind = "credentials", code = "NoCredentials" }))
      assert.equal(3, cli.exit_code(e{ kind = "waiter", code = "WaiterTimeout" }))
      assert.equal(4, cli.exit_code(e{ kind = "waiter", code = "BackupFailed" }))
      assert.equal(4, cli.exit_code(e{ kind = "waiter", code = "BackupDeleted" }))
      assert.equal(130, cli.exit_code(e{ kind = "waiter", code = "WaiterCancelled" }))
      assert.equal(130, cli.exit_code("bin/fsx-backup:1: interrupted!"))
      assert.equal(1, cli.exit_code("some bug"))
    end)

    it("prints code, message, status and request ID on one line", function()
      local line = cli.error_line(errors.new{ kind = "service", code = "BackupInProgress",
        message = "another backup\nis running", status = 400, request_id = "req-1" })
      assert.is_nil(line:find("\n"))
      assert.truthy(contains(line, "BackupInProgress"))
      assert.truthy(contains(line, "another backup is running"))
      assert.truthy(contains(line, "request ID req-1"))
      assert.truthy(contains(line, "HTTP 400"))
    end)
  end)

  describe("docs/cli.md's exit-status table", function()
    it("lists exactly the statuses the tool uses, with the signals' numbers", function()
      local f = assert(io.open("docs/cli.md"))
      local doc = f:read("*a")
      f:close()
      local section = assert(doc:match("\n## Exit status\n(.-)\n## "))
      local rows = {}
      for status in section:gmatch("\n| ([^|]-) |") do
        if status ~= "Status" and not status:match("^%-+$") then rows[#rows + 1] = status end
      end
      assert.same({ "0", "1", "2", "3", "4", "128 + N" }, rows)
      local report = require "fsx.cli.report"
      assert.same({ OK = 0, ERROR = 1, USAGE = 2, TIMEOUT = 3, FAILED = 4 }, report.EXIT)
      for sig, status in pairs{ [2] = 130, [15] = 143, [1] = 129 } do
        assert.equal(status, report.signal_status(sig))
        assert.truthy(section:find(status .. " " .. report.SIGNALS[sig], 1, true), report.SIGNALS[sig])
      end
    end)
  end)

  describe("output", function()
    it("encodes JSON with sorted keys, escapes and nulls", function()
      assert.equal('{\n  "a": 1,\n  "b": [\n    "x\\"y\\n",\n    2.5,\n    true\n  ],\n  "c": null\n}',
        output.json{ b = { 'x"y\n', 2.5, true }, a = 1, c = cjson.null })
      assert.equal('"\\u001b[31m"', output.json("\27[31m"))
    end)

    it("tells empty lists from empty objects by the shape", function()
      output.shape_lookup = require("fsx.shape").get
      local s = output.json({ backups = { { backup_id = "b-1", tags = {}, file_system = {} } } },
        output.DOCUMENT_SHAPES.backups)
      assert.truthy(contains(s, '"tags": []'))
      assert.truthy(contains(s, '"file_system": {}'))
      assert.equal('{\n  "backups": []\n}', output.json({ backups = {} }, output.DOCUMENT_SHAPES.backups))
    end)

    it("renders text as tab-separated lines and table with a header", function()
      local doc = { backups = { { backup_id = "backup-1", lifecycle = "CREATING", progress_percent = 42.0,
        type = "USER_INITIATED", file_system = { file_system_id = FS }, creation_time = 0,
        size_in_bytes = 1610612736 } } }
      assert.equal("backup-1\tCREATING\t42%\tUSER_INITIATED\t" .. FS .. "\t1970-01-01T00:00:00Z\t1.5 GiB\n",
        output.render("backups", doc, "text"))
      local t = lines_of(output.render("backups", doc, "table"))
      assert.equal(2, #t)
      assert.truthy(t[1]:match("^BACKUP_ID%s+LIFECYCLE%s+PROGRESS"))
      assert.equal("", output.render("backups", { backups = {} }, "text"))
    end)
  end)

  describe("progress", function()
    local function stream()
      local s = { buf = {} }
      function s:write(...) for i = 1, select("#", ...) do self.buf[#self.buf + 1] = select(i, ...) end end
      function s.flush() end
      function s:text() return table.concat(self.buf) end
      return s
    end
    local function clock() return 100 end
    local states = { { "CREATING", nil }, { "CREATING", 10 }, { "CREATING", 10 }, { "CREATING", 55 },
                     { "AVAILABLE", 100 } }

    it("redraws one line in place on a terminal", function()
      local s = stream()
      local p = progress.new{ stream = s, tty = true, clock = clock }
      for _, st in ipairs(states) do
        p:update{ backup_id = "backup-1", lifecycle = st[1], progress_percent = st[2] }
      end
      p:finish()
      local text = s:text()
      local _, redraws = text:gsub("\r", "")
      assert.equal(#states, redraws)
      assert.equal(1, select(2, text:gsub("\n", "")))  -- only the final newline
      assert.truthy(text:match("\n$"))
      assert.truthy(contains(text, "[############"))
    end)

    it("prints one plain line per change elsewhere, with no control characters", function()
      local s = stream()
      local p = progress.new{ stream = s, tty = false, clock = clock }
      for _, st in ipairs(states) do
        p:update{ backup_id = "backup-1", lifecycle = st[1], progress_percent = st[2] }
      end
      p:finish()
      local text = s:text()
      assert.is_nil(text:find("[\r\27]"))
      local l = lines_of(text)
      assert.equal(4, #l)
      assert.truthy(l[4]:match("^backup%-1%s+AVAILABLE%s+%[#+%]%s+100%%"))
    end)

    it("ticks the elapsed time between polls on a terminal only", function()
      local now = 100
      local function moving() return now end
      local s, plain = stream(), stream()
      local p = progress.new{ stream = s, tty = true, clock = moving }
      local q2 = progress.new{ stream = plain, tty = false, clock = moving }
      p:tick()
      assert.equal("", s:text())
      p:update{ backup_id = "backup-1", lifecycle = "CREATING", progress_percent = 5 }
      q2:update{ backup_id = "backup-1", lifecycle = "CREATING", progress_percent = 5 }
      now = 161
      p:tick()
      q2:tick()
      assert.truthy(s:text():find("\r[^\r]*1:01$"))
      assert.equal(1, #lines_of(plain:text()))
    end)

    it("prints nothing with --quiet, and cleans what the service sends", function()
      local s = stream()
      progress.new{ stream = s, tty = false, quiet = true, clock = clock }:update{ backup_id = "b" }
      assert.equal("", s:text())
      progress.new{ stream = s, tty = false, clock = clock }:update{
        backup_id = "b\27[2J", lifecycle = "X\rY" }
      assert.is_nil(s:text():find("[\r\27]", 1))
    end)
  end)
end)

---------------------------------------------------------------------------

describe("fsx-backup command", function()
  lazy_setup(function()
    server = helpers.start_fsx_server()
  end)

  lazy_teardown(function()
    if server then server:stop() end
  end)

  before_each(function()
    server:reset()
    server:config{ backup_seconds = 1 }
  end)

  describe("help and version", function()
    it("prints the version from fsx.version", function()
      local r = run({ "--version" }, { no_endpoint = true })
      expect_code(r, 0)
      assert.truthy(r.stdout:match("^fsx%-backup " .. require("fsx.version"):gsub("%.", "%%.") .. " "))
    end)

    it("has --help for the program and for each command", function()
      local r = run({ "--help" }, { no_endpoint = true })
      expect_code(r, 0)
      assert.truthy(contains(r.stdout, "Usage: fsx-backup COMMAND"))
      for _, c in ipairs{ "create", "wait", "describe", "delete", "prune" } do
        r = run({ c, "--help" }, { no_endpoint = true })
        expect_code(r, 0)
        assert.truthy(contains(r.stdout, "Usage: fsx-backup " .. c), c)
      end
      r = run({ "create", "--help" }, { no_endpoint = true })
      assert.truthy(contains(r.stdout, "--token-from TEXT"))
    end)

    it("exits 2 with the usage on stderr when no command is given", function()
      local r = run({}, { no_endpoint = true })
      expect_code(r, 2)
      assert.equal("", r.stdout)
      assert.truthy(contains(r.stderr, "Usage:"))
    end)
  end)

  describe("usage errors", function()
    it("exit 2, print one line and send nothing", function()
      local cases = {
        { "create" },
        { "create", "--file-system-id", FS, "--volume-id", VOLUME },
        { "create", "--file-system-id", FS, "--token", "a", "--token-from", "b" },
        { "create", "--file-system-id", FS, "--token", "bad token!" },
        { "create", "--file-system-id", FS, "--tag", "novalue" },
        { "create", "--file-system-id", FS, "--tag", "=v" },
        { "create", "--file-system-id", FS, "--timeout", "5" },
        { "create", "--file-system-id", FS, "--copy-tags", "all" },
        { "create", "--file-system-id", FS, "--output", "yaml" },
        { "create", "--file-system-id", FS, "--bogus" },
        { "wait" },
        { "delete" },
        { "delete", "backup-1", "backup-2" },
        { "describe", "--tag", "a=b" },
        { "prune", "--file-system-id", FS },
        { "prune", "--keep-last", "3" },
        { "frobnicate" },
        -- rejected by the library's validation before anything is sent
        { "create", "--file-system-id", "fs-nothex" },
      }
      local before = #requests()
      for _, args in ipairs(cases) do
        local r = run(args)
        expect_code(r, 2)
        assert.equal("", r.stdout, table.concat(args, " "))
        local l = lines_of(r.stderr)
        assert.equal(1, #l, r.stderr)
        assert.truthy(l[1]:match("^fsx%-backup"), r.stderr)
      end
      assert.equal(before, #requests())
    end)
  end)

  describe("create", function()
    it("prints the backup as one JSON document in snake_case", function()
      local r = create{ "--tag", "Name=nightly", "--tag", "owner=ops" }
      expect_code(r, 0)
      local doc = json_of(r)
      local b = doc.backup
      assert.truthy(b.backup_id:match("^backup%-"))
      assert.equal(FS, b.file_system.file_system_id)
      assert.equal("USER_INITIATED", b.type)
      local tags = {}
      for _, t in ipairs(b.tags) do tags[t.key] = t.value end
      assert.equal("nightly", tags.Name)
      assert.equal("ops", tags.owner)
      assert.is_nil(r.stdout:find("BackupId", 1, true))
      assert.equal(1, count_operation("CreateBackup"))
    end)

    it("prints tab-separated text and a table", function()
      local r = create({ "--output", "text", "--wait" })
      expect_code(r, 0)
      local l = lines_of(r.stdout)
      assert.equal(1, #l)
      local f = {}
      for field in (l[1] .. "\t"):gmatch("([^\t]*)\t") do f[#f + 1] = field end
      assert.equal(7, #f)
      assert.truthy(f[1]:match("^backup%-"))
      assert.equal("AVAILABLE", f[2])
      assert.equal("100%", f[3])
      assert.equal(FS, f[5])
      r = run{ "describe", "--file-system-id", FS, "--output", "table" }
      expect_code(r, 0)
      l = lines_of(r.stdout)
      assert.equal(2, #l)
      assert.truthy(l[1]:match("^BACKUP_ID%s+LIFECYCLE"))
    end)

    it("waits with --wait and prints the AVAILABLE backup", function()
      local r = create{ "--wait" }
      expect_code(r, 0)
      local b = json_of(r).backup
      assert.equal("AVAILABLE", b.lifecycle)
      assert.truthy(count_operation("DescribeBackups") >= 1)
    end)

    it("backs up a volume", function()
      local r = run{ "create", "--volume-id", VOLUME, "--output", "text" }
      expect_code(r, 0)
      assert.truthy(r.stdout:match("^backup%-%S+\t"))
    end)

    it("returns the same backup when re-run with the same --token-from", function()
      local text = "playbook-run-7/" .. FS
      local r1 = create{ "--token-from", text, "--output", "text" }
      expect_code(r1, 0)
      local r2 = create{ "--token-from", text, "--output", "text", "--wait" }
      expect_code(r2, 0)
      local id1, id2 = r1.stdout:match("^(%S+)"), r2.stdout:match("^(%S+)")
      assert.equal(id1, id2)
      local r3 = create{ "--token-from", "playbook-run-8/" .. FS, "--output", "text" }
      expect_code(r3, 0)
      assert.not_equal(id1, r3.stdout:match("^(%S+)"))
      -- the token on the wire is the documented derivation
      local cli = require "fsx.cli"
      local d = json_of(create{ "--token-from", text, "--dry-run" })
      assert.truthy(contains(d.body, cli.token_from(text)))
    end)

    it("exits 1 with one error line for a service error", function()
      local r = run{ "create", "--file-system-id", "fs-0000000000000dead" }
      expect_code(r, 1)
      assert.equal("", r.stdout)
      local l = lines_of(r.stderr)
      assert.equal(1, #l)
      assert.truthy(contains(l[1], "FileSystemNotFound"))
      assert.truthy(l[1]:match("request ID %S+"))
    end)

    it("exits 1 for a transport error", function()
      local r = run({ "describe", "--endpoint-url", "http://127.0.0.1:9", "--max-attempts", "1" },
                    { no_endpoint = true })
      expect_code(r, 1)
      assert.equal(1, #lines_of(r.stderr))
    end)
  end)

  describe("--dry-run", function()
    it("signs and prints the request and sends nothing", function()
      local before = #requests()
      local r = create{ "--tag", "a=b", "--dry-run" }
      expect_code(r, 0)
      local d = json_of(r)
      assert.is_true(d.dry_run)
      assert.equal("CreateBackup", d.operation)
      assert.equal("POST", d.method)
      local names = {}
      for _, h in ipairs(d.headers) do names[h[1]] = h[2] end
      assert.equal("AWSSimbaAPIService_v20180301.CreateBackup", names["X-Amz-Target"])
      assert.truthy(contains(names.Authorization, "Signature=<redacted>"))
      assert.truthy(contains(d.body, '"FileSystemId":"' .. FS .. '"'))
      r = run{ "delete", "backup-0123456789abcdef0", "--dry-run", "--output", "text" }
      expect_code(r, 0)
      assert.truthy(r.stdout:match("^POST "))
      assert.truthy(contains(r.stdout, "DeleteBackup"))
      r = run{ "describe", "--file-system-id", FS, "--dry-run" }
      expect_code(r, 0)
      r = run{ "wait", "backup-0123456789abcdef0", "--dry-run" }
      expect_code(r, 0)
      for _, out in ipairs{ r.stdout, r.stderr } do
        assert.is_nil(out:find(SECRET, 1, true))
      end
      assert.equal(before, #requests())
    end)
  end)

  describe("--debug", function()
    local function no_secrets(r)
      local all = r.stdout .. r.stderr
      for _, s in ipairs{ SECRET, SESSION.secret_access_key, SESSION.session_token } do
        assert.is_nil(all:find(s, 1, true), "a secret was printed")
      end
      assert.is_nil(all:find("Signature=%x%x%x%x"), "a signature was printed")
    end

    it("prints requests and responses with secrets redacted", function()
      local r = create({ "--debug", "--wait" }, { env = {
        AWS_ACCESS_KEY_ID = SESSION.access_key_id, AWS_SECRET_ACCESS_KEY = SESSION.secret_access_key,
        AWS_SESSION_TOKEN = SESSION.session_token } })
      expect_code(r, 0)
      assert.truthy(contains(r.stderr, "> POST " .. server.url))
      assert.truthy(contains(r.stderr, "X-Amz-Target: AWSSimbaAPIService_v20180301.CreateBackup"))
      assert.truthy(contains(r.stderr, "X-Amz-Security-Token: <redacted>"))
      assert.truthy(contains(r.stderr, "< HTTP 200"))
      assert.equal("AVAILABLE", json_of(r).backup.lifecycle)
      no_secrets(r)
    end)

    it("shows the error's details and still no secret", function()
      local r = run({ "create", "--file-system-id", "fs-0000000000000dead", "--debug" }, { env = {
        AWS_ACCESS_KEY_ID = SESSION.access_key_id, AWS_SECRET_ACCESS_KEY = SESSION.secret_access_key,
        AWS_SESSION_TOKEN = SESSION.session_token } })
      expect_code(r, 1)
      assert.truthy(contains(r.stderr, "< HTTP 400"))
      assert.truthy(contains(r.stderr, "debug: error"))
      no_secrets(r)
      r = run({ "describe", "--debug", "--dry-run" })
      expect_code(r, 0)
      no_secrets(r)
    end)
  end)

  describe("waiting", function()
    it("exits 3 when --timeout passes, leaving the backup alone", function()
      server:config{ backup_seconds = 60 }
      local r = create{ "--wait", "--timeout", "1" }
      expect_code(r, 3)
      assert.truthy(contains(r.stderr, "WaiterTimeout"))
      local b = json_of(r).backup
      assert.equal("CREATING", b.lifecycle)
      assert.truthy(contains(r.stderr, "fsx-backup wait " .. b.backup_id))
      assert.equal(0, count_operation("DeleteBackup"))
      r = run{ "wait", b.backup_id, "--timeout", "1", "--output", "text" }
      expect_code(r, 3)
    end)

    it("exits 4 when the backup FAILED", function()
      server:config{ backup_seconds = 60 }
      local id = json_of(create()).backup.backup_id
      server:set_backup(id, { lifecycle = "FAILED", message = "disk on fire" })
      local r = run{ "wait", id }
      expect_code(r, 4)
      assert.truthy(contains(r.stderr, "BackupFailed"))
      assert.truthy(contains(r.stderr, "disk on fire"))
      assert.equal("FAILED", json_of(r).backups[1].lifecycle)
    end)

    it("exits 4 when the backup FAILED during create --wait", function()
      server:config{ backup_seconds = 60 }
      local out, err = os.tmpname(), os.tmpname()
      -- fail the backup from a second process once the wait is under way
      local script = command{ "create", "--file-system-id", FS, "--wait", "--output", "text" }
        .. " >" .. out .. " 2>" .. err .. " & pid=$!; sleep 1.5; echo started"
        .. "; wait $pid; echo \"exit=$?\""
      local p = io.popen("sh -c " .. q(script))
      assert.equal("started", p:read("*l"))
      local id = json_of(run{ "describe", "--file-system-id", FS }).backups[1].backup_id
      server:set_backup(id, { lifecycle = "FAILED", message = "boom" })
      local rest = p:read("*a")
      p:close()
      assert.equal("4", rest:match("exit=(%d+)"), read_file(err))
      assert.truthy(contains(read_file(err), "boom"))
      assert.truthy(read_file(out):match("^" .. id:gsub("%-", "%%-") .. "\tFAILED"))
      os.remove(out)
      os.remove(err)
    end)

    it("exits 130 on Ctrl-C, prints the ID and the resume command, deletes nothing", function()
      server:config{ backup_seconds = 60 }
      local out, err = os.tmpname(), os.tmpname()
      local script = command{ "create", "--file-system-id", FS, "--wait" }
        .. " >" .. out .. " 2>" .. err .. " & pid=$!; sleep 1.5; kill -INT $pid; wait $pid; echo $?"
      local started = os.time()
      local status = shell("sh -c " .. q(script))
      local took = os.time() - started
      local stderr = read_file(err)
      os.remove(out)
      os.remove(err)
      assert.equal("130", status:match("%d+"), stderr)
      assert.truthy(took < 10, "the interrupt was not prompt")
      local id = stderr:match("fsx%-backup wait (backup%-%S+)")
      assert.truthy(id, stderr)
      assert.truthy(contains(stderr, "interrupted"))
      assert.equal(0, count_operation("DeleteBackup"))
      local r = run{ "describe", id }
      expect_code(r, 0)
      assert.equal("CREATING", json_of(r).backups[1].lifecycle)
      -- and the wait resumes
      server:set_backup(id, { duration = 0 })
      r = run{ "wait", id, "--output", "text" }
      expect_code(r, 0)
      assert.truthy(r.stdout:match("\tAVAILABLE\t"))
    end)

    it("waits for several backups", function()
      local a = json_of(create{ "--wait" }).backup.backup_id
      local b = json_of(run{ "create", "--volume-id", VOLUME }).backup.backup_id
      local r = run{ "wait", a, b }
      expect_code(r, 0)
      local list = json_of(r).backups
      assert.equal(2, #list)
      assert.equal(a, list[1].backup_id)
      assert.equal(b, list[2].backup_id)
      assert.equal("AVAILABLE", list[2].lifecycle)
    end)
  end)

  describe("progress display", function()
    it("redraws in place on a pseudo-terminal", function()
      server:config{ backup_seconds = 3 }
      local cmd = command{ "create", "--file-system-id", FS, "--wait", "--output", "text" }
      local out = shell("script -qec " .. q(cmd) .. " /dev/null </dev/null")
      assert.truthy(out:find("\r[^\n]"), "no in-place redraw: " .. out)
      assert.truthy(out:find("%[#+%]%s+100%%"), out)
      assert.truthy(out:find("\tAVAILABLE\t"), out)
    end)

    it("prints one plain line per change on a pipe", function()
      server:config{ backup_seconds = 3 }
      local r = create{ "--wait", "--output", "text" }
      expect_code(r, 0)
      assert.is_nil(r.stderr:find("[\r\27]"))
      assert.is_nil(r.stdout:find("[\r\27]"))
      local l = lines_of(r.stderr)
      assert.truthy(#l >= 2, r.stderr)
      local seen = {}
      for _, line in ipairs(l) do
        local state = line:match("^(backup%-%S+%s+%S+%s+%S+%s+%S+)")
        assert.truthy(state, line)
        assert.is_nil(seen[state], "a line without a change: " .. line)
        seen[state] = true
      end
      assert.truthy(l[#l]:match("AVAILABLE%s+%[#+%]%s+100%%"))
    end)

    it("prints no progress with --quiet", function()
      local r = create{ "--wait", "--quiet" }
      expect_code(r, 0)
      assert.equal("", r.stderr)
    end)
  end)

  describe("describe and delete", function()
    it("describes by file system and by ID", function()
      local id = json_of(create{ "--wait" }).backup.backup_id
      local r = run{ "describe", "--file-system-id", FS }
      expect_code(r, 0)
      local list = json_of(r).backups
      assert.equal(1, #list)
      assert.equal(id, list[1].backup_id)
      r = run{ "describe", id, "--output", "text" }
      expect_code(r, 0)
      assert.truthy(r.stdout:match("^" .. id:gsub("%-", "%%-") .. "\t"))
      r = run{ "describe", "--file-system-id", OTHER_FS }
      expect_code(r, 0)
      assert.truthy(contains(r.stdout, '"backups": []'))
      r = run{ "describe", "--file-system-id", OTHER_FS, "--output", "text" }
      assert.equal("", r.stdout)
    end)

    it("deletes a backup, again on a re-run (token from the ID), and reports an unknown one", function()
      local id = json_of(create{ "--wait" }).backup.backup_id
      for _ = 1, 2 do
        local r = run{ "delete", id }
        expect_code(r, 0)
        local d = json_of(r)
        assert.equal(id, d.backup_id)
        assert.equal("DELETED", d.lifecycle)
      end
      local r = run{ "delete", "backup-0123456789abcdef9" }
      expect_code(r, 1)
      assert.truthy(contains(r.stderr, "BackupNotFound"))
    end)
  end)

  describe("prune", function()
    -- a history: five USER_INITIATED/AUTOMATIC AVAILABLE backups and one CREATING
    local function id(n) return string.format("backup-%017d", n) end
    local function seed_history()
      local function b(n, t, env, lifecycle)
        return { BackupId = id(n), FileSystemId = FS, Type = t, Lifecycle = lifecycle,
                 CreationTime = string.format("2024-01-%02dT00:00:00Z", n),
                 Tags = env and { { Key = "env", Value = env } } or nil }
      end
      server:seed{ backups = {
        b(1, "USER_INITIATED", "prod"), b(2, "USER_INITIATED", "prod"), b(3, "USER_INITIATED", "test"),
        b(4, "AUTOMATIC"), b(5, "USER_INITIATED", "prod"), b(6, "USER_INITIATED", "prod", "CREATING"),
      } }
    end
    local function ids_of(list)
      local out = {}
      for _, e in ipairs(list) do out[#out + 1] = e.backup.backup_id end
      table.sort(out)
      return out
    end

    it("plans by default and with --dry-run (no DeleteBackup), deletes only with --apply", function()
      seed_history()
      for _, extra in ipairs{ {}, { "--dry-run" } } do
        local args = { "prune", "--file-system-id", FS, "--keep-last", "2" }
        for _, a in ipairs(extra) do args[#args + 1] = a end
        local r = run(args)
        expect_code(r, 0)
        local doc = json_of(r)
        assert.is_true(doc.dry_run)
        assert.same({ id(1), id(2) }, ids_of(doc.deleted))
        assert.same({ id(3), id(4), id(5), id(6) }, ids_of(doc.kept))
        for _, e in ipairs(doc.kept) do assert.equal("string", type(e.reason)) end
        assert.truthy(contains(r.stderr, "--apply"), r.stderr)
        assert.equal(0, count_operation("DeleteBackup"))
      end
      expect_code(run{ "prune", "--file-system-id", FS, "--keep-last", "2", "--apply", "--dry-run" }, 2)
      local r = run{ "prune", "--file-system-id", FS, "--keep-last", "2", "--output", "text", "--apply" }
      expect_code(r, 0)
      local actions = {}
      for _, line in ipairs(lines_of(r.stdout)) do
        local bid, action = line:match("^(backup%-%S+)\t(%S+)\t")
        actions[bid] = action
      end
      assert.equal("deleted", actions[id(1)])
      assert.equal("deleted", actions[id(2)])
      assert.equal("keep", actions[id(5)])
      assert.equal(2, count_operation("DeleteBackup"))
      local left = {}
      for _, b in ipairs(json_of(run{ "describe", "--file-system-id", FS }).backups) do
        left[#left + 1] = b.backup_id
      end
      table.sort(left)
      assert.same({ id(3), id(4), id(5), id(6) }, left)
    end)

    it("filters by tag and includes other types only when asked", function()
      seed_history()
      local doc = json_of(run{ "prune", "--file-system-id", FS, "--keep-last", "1", "--tag", "env=prod",
                               "--dry-run" })
      assert.same({ id(1), id(2) }, ids_of(doc.deleted))
      doc = json_of(run{ "prune", "--file-system-id", FS, "--keep-last", "1", "--tag", "env=prod",
                         "--tag", "env=test", "--dry-run" })
      assert.same({ id(1), id(2), id(3) }, ids_of(doc.deleted))
      doc = json_of(run{ "prune", "--file-system-id", FS, "--keep-last", "1",
                         "--include-type", "AUTOMATIC", "--dry-run", "--output", "json" })
      assert.same({ id(1), id(2), id(3), id(4) }, ids_of(doc.deleted))
      local r = run{ "prune", "--file-system-id", FS, "--keep-days", "0", "--dry-run", "--output", "table" }
      expect_code(r, 0)
      assert.truthy(lines_of(r.stdout)[1]:match("^BACKUP_ID%s+ACTION"))
      assert.equal(0, count_operation("DeleteBackup"))
    end)

    it("SIGHUP during delete exits 129 with the line that re-runs it (same token)", function()
      seed_history()
      server:faults({ { kind = "delay_after", operation = "DeleteBackup", seconds = 30 } })
      local pid, finish = start{ "delete", id(1) }
      wait_for_request("DeleteBackup")
      os.execute("kill -HUP " .. pid)
      local r = finish()
      assert.equal(129, r.code, r.stderr)
      local line = r.stderr:match("re%-run with the same token %(fsx%-prune%-%x+%): ([^\n]+)")
      assert.truthy(line, r.stderr)
      server:faults({})
      local again = run_printed(line)
      expect_code(again, 0)
      assert.equal("DELETED", json_of(again).lifecycle)
    end)

    it("SIGTERM during --apply exits 143 with the line that re-runs it", function()
      seed_history()
      server:faults({ { kind = "delay_after", operation = "DeleteBackup", seconds = 30 } })
      local pid, finish = start{ "prune", "--file-system-id", FS, "--keep-last", "2", "--apply" }
      wait_for_request("DeleteBackup")
      os.execute("kill -TERM " .. pid)
      local r = finish()
      assert.equal(143, r.code, r.stderr)
      local line = r.stderr:match("re%-run with: (fsx%-backup prune [^\n]-) %(the deletions")
      assert.truthy(line and contains(line, "--apply"), r.stderr)
      assert.equal(1, count_operation("DeleteBackup"))
      server:faults({})
      expect_code(run_printed(line), 0)
      local left = {}
      for _, b in ipairs(json_of(run{ "describe", "--file-system-id", FS }).backups) do
        left[#left + 1] = b.backup_id
      end
      table.sort(left)
      assert.same({ id(3), id(4), id(5), id(6) }, left)
    end)

    it("exits 1 and lists the refused deletions, the others still go ahead", function()
      seed_history()
      server:faults({ { kind = "throttle", operation = "DeleteBackup", nth = 1 } })
      local r = run{ "prune", "--file-system-id", FS, "--keep-last", "2", "--max-attempts", "1", "--apply" }
      expect_code(r, 1)
      local doc = json_of(r)
      assert.equal(1, #doc.failed)
      assert.equal(1, #doc.deleted)
      assert.equal("string", type(doc.failed[1].error.code))
      local l = lines_of(r.stderr)
      assert.equal(1, #l)
      assert.truthy(l[1]:match("could not delete backup%-"))
    end)
  end)

  describe("the result cannot be written", function()
    it("exits 1 with the backup ID and the token on stderr (full disk)", function()
      local out, err = os.tmpname(), os.tmpname()
      local status = shell(command{ "create", "--file-system-id", FS, "--token-from", "full/" .. FS }
        .. " >/dev/full 2>" .. err .. "; echo $?")
      local stderr = read_file(err)
      os.remove(out)
      os.remove(err)
      assert.equal("1", status:match("%d+"), stderr)
      local l = lines_of(stderr)
      assert.equal(1, #l, stderr)
      local id = json_of(run{ "describe", "--file-system-id", FS }).backups[1].backup_id
      assert.truthy(contains(l[1], "No space left on device"), l[1])
      assert.truthy(contains(l[1], id), l[1])
      assert.truthy(contains(l[1], require("fsx.cli").token_from("full/" .. FS)), l[1])
    end)

    it("exits 1 on a broken pipe, SIGPIPE at its default or ignored (as under some CI runners)", function()
      for _, trap in ipairs{ "", "trap '' PIPE; " } do
        server:reset()
        local st, err = os.tmpname(), os.tmpname()
        local script = trap .. "{ sleep 0.3; " .. command{ "create", "--file-system-id", FS }
          .. " 2>" .. err .. "; echo $? >" .. st .. "; } | true"
        shell("sh -c " .. q(script))
        local status, stderr = read_file(st), read_file(err)
        os.remove(st)
        os.remove(err)
        assert.equal("1", status:match("%d+"), stderr)
        local id = json_of(run{ "describe", "--file-system-id", FS }).backups[1].backup_id
        assert.equal(1, #lines_of(stderr), stderr)
        assert.truthy(contains(stderr, "Broken pipe"), stderr)
        assert.truthy(contains(stderr, id), stderr)
        assert.truthy(stderr:match("token cli%-%x+"), stderr)
      end
    end)

    it("exits 1 and sends nothing when stdout is closed", function()
      local err = os.tmpname()
      local status = shell(command{ "create", "--file-system-id", FS } .. " >&- 2>" .. err .. "; echo $?")
      local stderr = read_file(err)
      os.remove(err)
      assert.equal("1", status:match("%d+"), stderr)
      assert.equal(1, #lines_of(stderr), stderr)
      assert.truthy(contains(stderr, "closed"), stderr)
      assert.equal(0, count_operation("CreateBackup"))
    end)
  end)

  describe("resume lines", function()
    it("carry the run's global options, quoted, and run as printed", function()
      server:config{ backup_seconds = 60 }
      local env = { AWS_REGION = false }
      local r = create({ "--wait", "--timeout", "1", "--region", "us-east-1", "--max-attempts", "2",
                         "--output", "text" }, { env = env })
      expect_code(r, 3)
      local line = r.stderr:match("resume with: ([^\n]+)")
      assert.truthy(contains(line, "--region us-east-1"), line)
      assert.truthy(contains(line, "--endpoint-url " .. server.url), line)
      assert.truthy(contains(line, "--output text"), line)
      local id = r.stdout:match("^(backup%-%S+)")
      server:set_backup(id, { duration = 0 })
      local again = run_printed(line, { env = env })
      expect_code(again, 0)
      assert.truthy(again.stdout:match("^" .. id:gsub("%-", "%%-") .. "\tAVAILABLE\t"), again.stdout)
      -- without the printed --region the same command fails: the option is needed
      local bare = run_printed("fsx-backup wait " .. id .. " --endpoint-url " .. server.url, { env = env })
      expect_code(bare, 1)
    end)
  end)

  describe("signals", function()
    local core = require "fsx.core"
    local NUMBERS = { INT = 2, TERM = 15, HUP = 1 }

    for _, sig in ipairs{ "INT", "TERM", "HUP" } do
      it("SIG" .. sig .. " during CreateBackup stops the transfer at once and prints a re-run line "
         .. "that gets the same backup", function()
        -- the service makes the backup and answers only 30 s later
        server:faults({ { kind = "delay_after", operation = "CreateBackup", seconds = 30 } })
        local pid, finish = start({ "create", "--file-system-id", FS, "--wait", "--region", "us-east-1" },
                                  { env = { AWS_REGION = false } })
        wait_for_request("CreateBackup")
        helpers.sleep(0.2)
        local sent = core.monotime()
        os.execute("kill -" .. sig .. " " .. pid .. "; sleep 0.1; kill -" .. sig .. " " .. pid .. " 2>/dev/null")
        local r = finish()
        local took = core.monotime() - sent
        assert.equal(128 + NUMBERS[sig], r.code, r.stderr)
        assert.truthy(took < 2.5, "exit took " .. took .. " s")
        assert.equal("", r.stdout)
        local line = r.stderr:match("instead of a second one: ([^\n]+)")
        assert.truthy(line, r.stderr)
        assert.truthy(line:match("%-%-token cli%-%x+"), line)
        server:faults({})
        server:config{ backup_seconds = 0 }
        local again = run_printed(line, { env = { AWS_REGION = false } })
        expect_code(again, 0)
        local list = json_of(run{ "describe", "--file-system-id", FS }).backups
        assert.equal(1, #list)
        assert.equal(list[1].backup_id, json_of(again).backup.backup_id)
        assert.equal(1, count_operation("CreateBackup") - 1)
      end)
    end

    it("SIGTERM while waiting exits 143 with a resume line that works", function()
      server:config{ backup_seconds = 60 }
      local pid, finish = start{ "create", "--file-system-id", FS, "--wait", "--output", "text" }
      wait_for_request("DescribeBackups")
      local sent = core.monotime()
      os.execute("kill -TERM " .. pid .. "; kill -TERM " .. pid .. " 2>/dev/null")
      local r = finish()
      assert.equal(143, r.code, r.stderr)
      assert.truthy(core.monotime() - sent < 2.5)
      local line = r.stderr:match("resume with: ([^\n]+)")
      local id = line and line:match("wait (backup%-%S+)")
      assert.truthy(id, r.stderr)
      assert.equal(0, count_operation("DeleteBackup"))
      server:set_backup(id, { duration = 0 })
      local again = run_printed(line)
      expect_code(again, 0)
      assert.truthy(again.stdout:match("\tAVAILABLE\t"))
    end)
  end)

  describe("prune --include-failed and describe filters", function()
    local function id(n) return string.format("backup-%017d", n) end
    local function seed()
      local function b(n, t, env, lifecycle)
        return { BackupId = id(n), FileSystemId = FS, Type = t, Lifecycle = lifecycle or "AVAILABLE",
                 CreationTime = string.format("2024-01-%02dT00:00:00Z", n),
                 Tags = env and { { Key = "env", Value = env } } or nil }
      end
      server:seed{ backups = {
        b(1, "USER_INITIATED", "prod", "FAILED"), b(2, "USER_INITIATED", "prod"), b(3, "AUTOMATIC", "test"),
        b(4, "USER_INITIATED", "test"), b(5, "USER_INITIATED", "prod"),
      } }
    end
    local function ids(list, field)
      local out = {}
      for _, e in ipairs(list) do out[#out + 1] = field and e[field].backup_id or e.backup_id end
      table.sort(out)
      return out
    end

    it("prunes FAILED backups past the keep window only with --include-failed", function()
      seed()
      local plain = json_of(run{ "prune", "--file-system-id", FS, "--keep-last", "1" })
      assert.same({ id(2), id(4) }, ids(plain.deleted, "backup"))
      local with = json_of(run{ "prune", "--file-system-id", FS, "--keep-last", "1", "--include-failed" })
      assert.same({ id(1), id(2), id(4) }, ids(with.deleted, "backup"))
      local r = run{ "prune", "--file-system-id", FS, "--keep-last", "1", "--include-failed", "--apply" }
      expect_code(r, 0)
      assert.equal(3, count_operation("DeleteBackup"))
      -- AWS_BACKUP backups cannot be deleted through FSx: not a choice
      expect_code(run{ "prune", "--file-system-id", FS, "--keep-last", "1", "--include-type", "AWS_BACKUP" }, 2)
    end)

    it("describe filters by --type (sent to the service) and --tag-filter", function()
      seed()
      local auto = json_of(run{ "describe", "--file-system-id", FS, "--type", "AUTOMATIC" }).backups
      assert.same({ id(3) }, ids(auto))
      local body = json_of(run{ "describe", "--type", "AUTOMATIC", "--dry-run" }).body
      assert.truthy(contains(body, '"Name":"backup-type"'), body)
      local prod = json_of(run{ "describe", "--file-system-id", FS, "--tag-filter", "env=prod" }).backups
      assert.same({ id(1), id(2), id(5) }, ids(prod))
      local both = json_of(run{ "describe", "--tag-filter", "env=test", "--type", "USER_INITIATED" }).backups
      assert.same({ id(4) }, ids(both))
      local any = json_of(run{ "describe", "--tag-filter", "Key=env,Value=prod", "--tag-filter", "env=test" })
      assert.same({ id(1), id(2), id(3), id(4), id(5) }, ids(any.backups))
      expect_code(run{ "describe", "--type", "MANUAL" }, 2)
      expect_code(run{ "describe", id(1), "--type", "AUTOMATIC" }, 2)
    end)
  end)

  describe("messages", function()
    it("a mistyped --profile names the profile, a missing region names --region", function()
      local dir = helpers.tmpdir()
      local f = assert(io.open(dir .. "/config", "w"))
      f:write("[profile prod]\nregion = eu-west-1\n")
      f:close()
      local env = { AWS_REGION = false, AWS_CONFIG_FILE = dir .. "/config" }
      local r = run({ "describe", "--profile", "prdo" }, { env = env })
      expect_code(r, 1)
      assert.truthy(contains(r.stderr, "ProfileNotFound"), r.stderr)
      assert.truthy(contains(r.stderr, "prdo (from --profile)"), r.stderr)
      r = run({ "describe" }, { env = env })
      expect_code(r, 1)
      assert.truthy(contains(r.stderr, "--region"), r.stderr)
      assert.is_nil(r.stderr:find("fsx.new", 1, true), r.stderr)
      os.remove(dir .. "/config")
      os.remove(dir)
    end)

    it("--token-from with --copy-tags merge explains a refused re-run after the tags changed", function()
      local text = "run-9/" .. FS
      local first = create{ "--token-from", text, "--copy-tags", "merge", "--tag", "run=9" }
      expect_code(first, 0)
      local fs = server:signed_request("DescribeFileSystems", { FileSystemIds = { FS } }).json.FileSystems[1]
      local res = server:signed_request("TagResource", { ResourceARN = fs.ResourceARN,
                                                         Tags = { { Key = "team", Value = "new" } } })
      assert.equal(200, res.status, res.body)
      local again = create{ "--token-from", text, "--copy-tags", "merge", "--tag", "run=9" }
      expect_code(again, 1)
      local l = lines_of(again.stderr)
      assert.equal(1, #l, again.stderr)
      assert.truthy(contains(l[1], "IncompatibleParameterError"), l[1])
      assert.truthy(contains(l[1], "--copy-tags merge reads the file system's tags"), l[1])
      assert.truthy(contains(l[1], "fsx-backup describe --file-system-id " .. FS), l[1])
    end)
  end)

  describe("terminal safety", function()
    it("escapes control characters from the service in text, table and stderr; JSON stays JSON", function()
      -- the service's validation would refuse such a tag from us: it comes from elsewhere
      local evil = "\27]0;owned\7\27[1A\27[2K\194\155"
      local id = "backup-0000000000000000e"
      server:seed{ backups = { { BackupId = id, FileSystemId = FS, Type = "USER_INITIATED",
        Lifecycle = "CREATING", CreationTime = "2024-01-01T00:00:00Z", Tags = { { Key = "note", Value = evil } } } } }
      local r = run{ "describe", id, "--output", "text" }
      expect_code(r, 0)
      r = run{ "describe", id, "--output", "table" }
      expect_code(r, 0)
      for _, fmt in ipairs{ "text", "table" } do
        local out = run{ "describe", id, "--output", fmt }.stdout
        assert.is_nil(out:find("[\27\7]"), fmt)
        assert.is_nil(out:find("\194\155", 1, true), fmt)
      end
      local doc = json_of(run{ "describe", id })
      assert.equal(evil, doc.backups[1].tags[1].value)
      server:set_backup(id, { lifecycle = "FAILED", message = "disk\27[2J on fire\r\nreally" })
      r = run{ "wait", id, "--output", "text" }
      expect_code(r, 4)
      assert.is_nil(r.stderr:find("[\27\r]"), r.stderr)
      assert.truthy(contains(r.stderr, "disk\\x1b[2J on fire"), r.stderr)
      assert.is_nil(r.stdout:find("\27", 1, true))
    end)
  end)

  describe("AWS CLI conventions", function()
    it("takes --tag Key=K,Value=V as well as K=V", function()
      local b = json_of(create{ "--tag", "Key=Name,Value=a=b", "--tag", "owner=ops" }).backup
      local tags = {}
      for _, t in ipairs(b.tags) do tags[t.key] = t.value end
      assert.equal("a=b", tags.Name)
      assert.equal("ops", tags.owner)
    end)

    it("reads the format from AWS_DEFAULT_OUTPUT, then the profile; --output wins", function()
      json_of(create{ "--wait" })
      local dir = helpers.tmpdir()
      local f = assert(io.open(dir .. "/config", "w"))
      -- a named profile takes its credentials from the files, not the environment
      local keys = "aws_access_key_id = " .. KEY_ID .. "\naws_secret_access_key = " .. SECRET .. "\n"
      f:write("[profile ops]\nregion = us-east-1\noutput = table\n" .. keys
        .. "[profile y]\noutput = yaml\n" .. keys)
      f:close()
      local r = run({ "describe" }, { env = { AWS_DEFAULT_OUTPUT = "text" } })
      assert.truthy(r.stdout:match("^backup%-%S+\tAVAILABLE\t"), r.stdout)
      r = run({ "describe", "--profile", "ops" }, { env = { AWS_CONFIG_FILE = dir .. "/config" } })
      assert.truthy(r.stdout:match("^BACKUP_ID%s+LIFECYCLE"), r.stdout)
      r = run({ "describe", "--profile", "ops", "--output", "json" }, { env = { AWS_CONFIG_FILE = dir .. "/config" } })
      json_of(r)
      r = run({ "describe", "--profile", "y" }, { env = { AWS_CONFIG_FILE = dir .. "/config" } })
      json_of(r)
      r = run({ "describe" }, { env = { AWS_DEFAULT_OUTPUT = "yaml" } })
      json_of(r)
      os.remove(dir .. "/config")
      os.remove(dir)
    end)
  end)

  describe("a wait during an outage", function()
    it("reports each failed poll on stderr, then exits 1 with the poll's error, not 3", function()
      local down = "http://127.0.0.1:9"
      local r = run({ "wait", "backup-0123456789abcdef0", "--endpoint-url", down, "--max-attempts", "1",
                      "--max-interval", "1", "--timeout", "600" }, { no_endpoint = true })
      expect_code(r, 1)
      local polls, last = 0, nil
      for _, line in ipairs(lines_of(r.stderr)) do
        if line:match("^fsx%-backup: poll %d+ failed %(%d of 5 in a row") then polls = polls + 1 end
        last = line
      end
      assert.equal(5, polls, r.stderr)
      assert.truthy(contains(r.stderr, "CURLE_COULDNT_CONNECT"), r.stderr)
      assert.truthy(contains(r.stderr, "gave up waiting after 5 failed polls"), r.stderr)
      assert.is_nil(r.stderr:find("WaiterTimeout", 1, true))
      assert.truthy(last:match("resume with: fsx%-backup wait backup%-0123456789abcdef0 .*%-%-endpoint%-url "
        .. down:gsub("%p", "%%%0")), last)
    end)

    it("create --wait against an endpoint that fails every poll exits 1 with the resume line", function()
      server:config{ backup_seconds = 60 }
      server:faults({ { kind = "error500", operation = "DescribeBackups" } })
      local r = create{ "--wait", "--max-attempts", "1", "--max-interval", "1", "--output", "text" }
      expect_code(r, 1)
      local line = r.stderr:match("resume with: ([^\n]+)")
      assert.truthy(line, r.stderr)
      assert.truthy(contains(r.stderr, "InternalServerError"), r.stderr)
      server:faults({})
      local id = line:match("wait (backup%-%S+)")
      server:set_backup(id, { duration = 0 })
      expect_code(run_printed(line), 0)
    end)
  end)

  describe("copy and restore", function()
    local LUSTRE = "fs-0fedcba9876543210"
    local SVM = "svm-0123456789abcdef0"

    local function backup_of(args)
      local r = run(args)
      expect_code(r, 0)
      return json_of(r).backup.backup_id
    end

    it("copy makes the copy in --region from --source-region, and waits for it there", function()
      -- a server answering for two Regions, each with its own backups
      local main = server
      server = helpers.start_fsx_server{ backup_seconds = 0, args = { "--extra-region", "eu-west-1" } }
      local ok, err = pcall(function()
        local id = backup_of{ "create", "--file-system-id", LUSTRE, "--region", "eu-west-1" }
        local r = run{ "copy", id, "--source-region", "eu-west-1", "--region", "us-east-1", "--wait",
                       "--copy-source-tags" }
        expect_code(r, 0)
        local copy = json_of(r).backup
        assert.equal("AVAILABLE", copy.lifecycle)
        assert.not_equal(id, copy.backup_id)
        assert.equal("eu-west-1", copy.source_backup_region)
        local sent = server:requests("CopyBackup")
        assert.equal(1, #sent)
        assert.equal("eu-west-1", sent[1].params.SourceRegion)
        assert.is_true(sent[1].params.CopyTags)
        -- the copy is in us-east-1, the source stays in eu-west-1
        expect_code(run{ "describe", copy.backup_id, "--region", "us-east-1" }, 0)
        expect_code(run{ "describe", id, "--region", "eu-west-1" }, 0)
        -- without --source-region the source is looked for in --region: not a silent copy in place
        r = run{ "copy", id, "--region", "us-east-1" }
        expect_code(r, 1)
        assert.truthy(contains(r.stderr, "BackupNotFound"), r.stderr)
      end)
      server:stop()
      server = main
      assert(ok, err)
      expect_code(run{ "copy" }, 2)
    end)

    it("restore makes a file system or a volume, and waits until it is ready", function()
      server:config{ backup_seconds = 0, restore_seconds = 1 }
      local id = backup_of{ "create", "--file-system-id", LUSTRE }
      local r = run{ "restore", id, "--subnet-id", "subnet-0123456789abcdef0", "--wait", "--tag", "from=" .. id }
      expect_code(r, 0)
      local fs = json_of(r).file_system
      assert.equal("AVAILABLE", fs.lifecycle)
      assert.equal("LUSTRE", fs.file_system_type)
      local vid = backup_of{ "create", "--volume-id", VOLUME }
      r = run{ "restore", vid, "--volume-name", "restored", "--storage-virtual-machine-id", SVM, "--wait",
               "--output", "table" }
      expect_code(r, 0)
      local l = lines_of(r.stdout)
      assert.truthy(l[1]:match("^VOLUME_ID%s+LIFECYCLE%s+NAME"), r.stdout)
      assert.truthy(l[2]:match("^fsvol%-%S+%s+CREATED%s+restored%s"), r.stdout)
      assert.truthy(contains(r.stderr, "fsvol-"), r.stderr)
      for _, bad in ipairs{ { "restore", id }, { "restore", id, "--volume-name", "x" },
                            { "restore", id, "--subnet-id", "s", "--volume-name", "x" },
                            { "restore", id, "--subnet-id", "s", "--input-json", "[1" },
                            { "restore", id, "--subnet-id", "s", "--timeout", "3" } } do
        expect_code(run(bad), 2)
      end
      -- a Windows file system needs its configuration: the service says so, exit 1
      local wid = backup_of{ "create", "--file-system-id", FS }
      r = run{ "restore", wid, "--subnet-id", "subnet-0123456789abcdef0" }
      expect_code(r, 1)
      assert.truthy(contains(r.stderr, "MissingFileSystemConfiguration"), r.stderr)
    end)

    it("SIGTERM during a restore's wait prints a re-run line that returns the same file system", function()
      server:config{ backup_seconds = 0, restore_seconds = 60 }
      local id = backup_of{ "create", "--file-system-id", LUSTRE }
      local pid, finish = start{ "restore", id, "--subnet-id", "subnet-0123456789abcdef0", "--wait" }
      wait_for_request("DescribeFileSystems")
      os.execute("kill -TERM " .. pid)
      local r = finish()
      assert.equal(143, r.code, r.stderr)
      local line = r.stderr:match("instead of a second one: ([^\n]+)")
      assert.truthy(line and line:match("%-%-token cli%-%x+"), r.stderr)
      local fs_id
      for _, f in ipairs(server:state().file_systems) do
        if f.Lifecycle == "CREATING" then fs_id = f.FileSystemId end
      end
      assert.truthy(fs_id, r.stderr)
      server:control("POST", "/_fsx/resource/" .. fs_id, { Lifecycle = "AVAILABLE" })
      local again = run_printed(line)
      expect_code(again, 0)
      assert.equal(1, count_operation("CreateFileSystemFromBackup") - 1)
      local made = server:requests("CreateFileSystemFromBackup")
      assert.equal(made[1].params.ClientRequestToken, made[2].params.ClientRequestToken)
      assert.equal(fs_id, json_of(again).file_system.file_system_id)
      assert.equal("AVAILABLE", json_of(again).file_system.lifecycle)
    end)
  end)

  describe("examples/playbook.sh", function()
    it("gets the same backup back when the step is re-run", function()
      local function step()
        return shell(env_prefix{ FSX_BACKUP = LUA .. " bin/fsx-backup", FSX_ENDPOINT_URL = server.url }
          .. " sh examples/playbook.sh " .. FS .. " run-1234 2>/dev/null; echo \"exit=$?\"")
      end
      local a, b = step(), step()
      assert.equal("0", a:match("exit=(%d+)"), a)
      assert.equal("0", b:match("exit=(%d+)"), b)
      local id = a:match("^(backup%-%S+)\n")
      assert.truthy(id, a)
      assert.equal(id, b:match("^(backup%-%S+)\n"))
      assert.equal(1, #json_of(run{ "describe", "--file-system-id", FS }).backups)
    end)
  end)
end)

describe("fsx-backup against answers FSx should not give", function()
  local canned, canned_pid

  lazy_setup(function()
    local dir = helpers.tmpdir()
    local port_file = dir .. "/port"
    canned_pid = tonumber(shell("sh -c " .. q(helpers.PYTHON .. " spec/support/canned_server.py --port-file "
      .. q(port_file) .. " >/dev/null 2>&1 </dev/null & echo $!")))
    local port
    for _ = 1, 200 do
      port = tonumber(read_file(port_file):match("%d+") or "")
      if port then break end
      helpers.sleep(0.05)
    end
    assert(port, "canned_server.py did not start")
    canned = "http://127.0.0.1:" .. port
    server = { url = canned }
  end)

  lazy_teardown(function()
    if canned_pid then os.execute("kill " .. canned_pid) end
  end)

  local function answer(t)
    local body = cjson.encode(t)
    local out = shell("curl -s -X POST --data-binary " .. q(body) .. " " .. canned .. "/_set")
    assert(out == "{}", out)
  end

  local BAD = '{"BackupId":"backup-0123456789abcdef0","Lifecycle":"AVAILABLE","Type":"USER_INITIATED",'
    .. '"ProgressPercent":1e999,"CreationTime":1e999,"SizeInBytes":1e999,'
    .. '"FileSystem":{"FileSystemId":"' .. FS .. '"}}'

  it("create --wait: a 2xx without a backup is exit 1 (a request was sent), with the token", function()
    answer{ CreateBackup = { status = 200, body = "{}" } }
    local r = create{ "--wait" }
    expect_code(r, 1)
    local l = lines_of(r.stderr)
    assert.equal(1, #l, r.stderr)
    assert.truthy(contains(l[1], "no Backup") or contains(l[1], "MissingBackup"), l[1])
    assert.truthy(l[1]:match("re%-run with the same token .*%-%-token cli%-%x+"), l[1])
    assert.is_nil(l[1]:find("nothing was sent", 1, true))
  end)

  it("numbers like 1e999 do not crash text or table output", function()
    answer{ CreateBackup = { status = 200, body = '{"Backup":' .. BAD .. '}' },
            DescribeBackups = { status = 200, body = '{"Backups":[' .. BAD .. ']}' } }
    for _, fmt in ipairs{ "text", "table", "json" } do
      local r = create{ "--output", fmt }
      expect_code(r, 0)
      assert.truthy(contains(r.stdout, "backup-0123456789abcdef0"), r.stdout)
      r = run{ "describe", "--output", fmt }
      expect_code(r, 0)
    end
    local doc = json_of(run{ "describe" })
    assert.equal(cjson.null, doc.backups[1].size_in_bytes)
  end)

  it("a signal during a wait whose progress is 1e999 still prints the resume line", function()
    local creating = BAD:gsub('"Lifecycle":"AVAILABLE"', '"Lifecycle":"CREATING"')
    answer{ CreateBackup = { status = 200, body = '{"Backup":' .. creating .. '}' },
            DescribeBackups = { status = 200, body = '{"Backups":[' .. creating .. ']}' } }
    local pid, finish = start{ "create", "--file-system-id", FS, "--wait", "--output", "text" }
    helpers.sleep(1.5)
    os.execute("kill -INT " .. pid)
    local r = finish()
    assert.equal(130, r.code, r.stderr)
    assert.truthy(r.stderr:match("interrupted while waiting for backup%-0123456789abcdef0 %(CREATING%)"), r.stderr)
    assert.truthy(r.stderr:match("resume with: [^\n]+wait backup%-0123456789abcdef0"), r.stderr)
  end)

  it("escapes what the service sends in text, table, progress and stderr", function()
    local id = "backup-0123456789abcdef0"
    local evil = '\\u001b]0;owned\\u0007\\u001b[1A\\u001b[2K\\u009b31m'
    answer{ DescribeBackups = { status = 200, body = '{"Backups":[{"BackupId":"' .. id .. '","Lifecycle":"CREATING'
            .. evil .. '","Type":"USER' .. evil .. '","ProgressPercent":5,"SizeInBytes":2048,'
            .. '"FileSystem":{"FileSystemId":"' .. FS .. '"}}]}' } }
    for _, fmt in ipairs{ "text", "table" } do
      local r = run{ "describe", "--output", fmt }
      expect_code(r, 0)
      assert.is_nil(r.stdout:find("[\27\7]"), r.stdout)
      assert.is_nil(r.stdout:find("\194\155", 1, true), r.stdout)
      assert.truthy(contains(r.stdout, "\\x1b]0;owned\\x07"), r.stdout)
      assert.truthy(contains(r.stdout, "2 KiB"), r.stdout)
    end
    local r = run{ "describe" }
    assert.truthy(contains(json_of(r).backups[1].lifecycle, "\27]0;owned\7"))
    -- the progress lines (stderr, not a terminal) and the timeout's error line
    r = run{ "wait", id, "--timeout", "1" }
    expect_code(r, 3)
    assert.truthy(contains(r.stderr, "CREATING\\x1b]0;owned"), r.stderr)
    assert.is_nil(r.stderr:find("[\27\7]"), r.stderr)
    assert.is_nil(r.stderr:find("\194\155", 1, true), r.stderr)
    answer{ DescribeBackups = { status = 400, body = '{"__type":"BadRequest","message":"no\\u001b[2J\\r\\nway"}' } }
    r = run{ "describe", "--max-attempts", "1" }
    expect_code(r, 1)
    assert.is_nil(r.stderr:find("[\27\r]"), r.stderr)
    assert.truthy(contains(r.stderr, "no\\x1b[2J way"), r.stderr)
  end)
end)
