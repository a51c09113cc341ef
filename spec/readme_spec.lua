-- README.md's examples, run as written, so that the first page a newcomer
-- reads never rots. Every code block of README.md has its check here, in
-- order (a new block needs one):
--
--   sh     the two set-up commands: `make demo` runs here (scripts/deps.sh
--          and `make test` are what CI runs, .ci/run)
--   sh     "Try it locally", run by sh from the repository root; the only
--          change is a free port instead of 8700 (the suites run side by side)
--   lua    the script, in the environment that block exports, against the
--          local FSx server
--   nginx  an excerpt: it must be verbatim in examples/nginx.conf, which
--          spec/nginx_spec.lua runs
--   yaml   the playbook, run by ansible-playbook with the ansible/library
--          modules and the interpreter running busted
--   sh     the install commands: the packaging suite runs each of them
--          (scripts/test.d/packaging.sh)
local helpers = require "helpers"

local q = helpers.q
local ROOT = helpers.ROOT
local README = assert(helpers.read_file(ROOT .. "/README.md"))

local blocks = {}
for lang, body in README:gmatch("\n```(%w*)\n(.-)\n```") do
  blocks[#blocks + 1] = { lang = lang, body = body }
end

-- The environment of a README command: nothing from the developer's own AWS
-- setup, Debian's python3 (with botocore) first on PATH.
local function clean_env(vars)
  local parts = { "env", "-u AWS_PROFILE -u AWS_SESSION_TOKEN -u AWS_ENDPOINT_URL",
                  "-u AWS_ENDPOINT_URL_FSX -u AWS_DEFAULT_REGION -u AWS_ACCESS_KEY_ID",
                  "-u AWS_SECRET_ACCESS_KEY -u AWS_REGION -u LUA_PATH -u LUA_CPATH",
                  "AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null",
                  "AWS_EC2_METADATA_DISABLED=true", "PATH=" .. q("/usr/bin:" .. os.getenv("PATH")) }
  local names = {}
  for k in pairs(vars or {}) do names[#names + 1] = k end
  table.sort(names)
  for _, k in ipairs(names) do parts[#parts + 1] = k .. "=" .. q(vars[k]) end
  return table.concat(parts, " ")
end

-- Runs a shell command from the repository root; output (both streams) and status.
local function sh(cmd, vars)
  return helpers.run("cd " .. q(ROOT) .. " && " .. clean_env(vars) .. " sh -c " .. q(cmd)
                     .. " 2>&1 </dev/null")
end

describe("README.md", function()
  it("has the code blocks this spec runs, in this order", function()
    local langs = {}
    for i, b in ipairs(blocks) do langs[i] = b.lang end
    assert.same({ "sh", "sh", "lua", "nginx", "yaml", "sh" }, langs)
  end)

  it("is short: a page a newcomer reads in five minutes", function()
    local lines = select(2, README:gsub("\n", ""))
    assert.is_true(lines <= 320, "README.md has " .. lines .. " lines")
  end)

  -- The set-up commands and the try-it block run lua5.4 whatever runs busted:
  -- one of make test's four busted runs is enough.
  local function lua54_only()
    if helpers.LUA == "lua5.4" then return false end
    pending("README's commands run lua5.4 itself: checked in the lua5.4 busted run")
    return true
  end

  it("opens with the two set-up commands; make demo runs", function()
    assert.equal("sh scripts/deps.sh && make demo\nsh scripts/deps.sh && make test", blocks[1].body)
    local ci = assert(helpers.read_file(ROOT .. "/.ci/run"))
    assert.truthy(ci:find("sh scripts/deps.sh", 1, true) and ci:find("make --no-print-directory \"$set\"", 1, true))
    if lua54_only() then return end
    local out, rc = sh("make --no-print-directory demo")
    assert.equal(0, rc, out)
    assert.truthy(out:find('"lifecycle":"AVAILABLE"', 1, true), out)
  end)

  it("runs \"Try it locally\" as written (on a free port)", function()
    if lua54_only() then return end
    local port = tostring(require("support.nginx").free_port())
    local block = blocks[2].body
    assert.truthy(block:find("8700", 1, true))
    local out, rc = sh((block:gsub("8700", port)))
    assert.equal(0, rc, out)
    -- fsx-backup's text line, then the module-level call's line
    assert.truthy(out:find("\nbackup%-%x+\tAVAILABLE") or out:find("^backup%-%x+\tAVAILABLE"), out)
    assert.truthy(out:find("backup%-%x+\tCREATING"), out)
    assert.falsy(out:find("NoRegion", 1, true), out)
  end)

  describe("with the local FSx server", function()
    local server
    lazy_setup(function() server = helpers.start_fsx_server{ backup_seconds = 0 } end)
    lazy_teardown(function() if server then server:stop() end end)

    local function readme_env()
      local creds = helpers.credentials()
      return {
        AWS_ACCESS_KEY_ID = creds.access_key_id, AWS_SECRET_ACCESS_KEY = creds.secret_access_key,
        AWS_REGION = "us-east-1", AWS_ENDPOINT_URL_FSX = server.url,
      }
    end

    it("runs the Lua script", function()
      local dir = helpers.tmpdir()
      helpers.write_file(dir .. "/readme.lua", blocks[3].body)
      local vars = readme_env()
      vars.LUA_PATH = ROOT .. "/lua/?.lua;" .. ROOT .. "/lua/?/init.lua;;"
      vars.LUA_CPATH = ROOT .. "/" .. helpers.BUILD .. "/?.so;;"
      local out, rc = sh(helpers.LUA .. " " .. q(dir .. "/readme.lua"), vars)
      helpers.rmdir(dir)
      assert.equal(0, rc, out)
      assert.truthy(out:match("^backup%-%x+\tAVAILABLE\n"), out)
      assert.truthy(out:find("\nservice\tBackupNotFound\t", 1, true), out)
      assert.truthy(out:find("%d+ kept, %d+ would be deleted\n$"), out)
    end)

    it("runs the playbook", function()
      local _, have = helpers.run("command -v ansible-playbook >/dev/null 2>&1")
      if have ~= 0 then
        pending("ansible-playbook is not installed (scripts/deps.sh installs ansible-core)")
        return
      end
      assert.truthy(README:find("ANSIBLE_LIBRARY=ansible/library", 1, true))
      local dir = helpers.tmpdir()
      helpers.write_file(dir .. "/play.yml", blocks[5].body .. "\n")
      local vars = readme_env()
      vars.ANSIBLE_LIBRARY = ROOT .. "/ansible/library"
      vars.ANSIBLE_LOCAL_TEMP, vars.ANSIBLE_REMOTE_TEMP = dir .. "/tmp", dir .. "/tmp"
      vars.ANSIBLE_HOME, vars.ANSIBLE_NOCOLOR = dir .. "/home", "1"
      vars.ANSIBLE_PYTHON_INTERPRETER = "/usr/bin/python3"
      vars.LUA_PATH = ROOT .. "/lua/?.lua;" .. ROOT .. "/lua/?/init.lua;;"
      vars.LUA_CPATH = ROOT .. "/" .. helpers.BUILD .. "/?.so;;"
      local out, rc = sh("ansible-playbook -i localhost, -e ansible_lua_interpreter="
                         .. helpers.LUA .. " " .. q(dir .. "/play.yml"), vars)
      helpers.rmdir(dir)
      assert.equal(0, rc, out)
      assert.truthy(out:find("backup%-%x+ is AVAILABLE"), out)
    end)
  end)

  it("shows an excerpt of examples/nginx.conf as it is", function()
    local conf = assert(helpers.read_file(ROOT .. "/examples/nginx.conf"))
    assert.truthy(conf:find(blocks[4].body, 1, true),
                  "README.md's nginx block is not verbatim in examples/nginx.conf")
  end)

  it("lists install commands the packaging suite runs", function()
    local pkg = assert(helpers.read_file(ROOT .. "/scripts/test.d/packaging.sh"))
    for line in blocks[6].body:gmatch("[^\n]+") do
      local cmd = line:gsub("%s+#.*$", "")
      for part in (cmd .. " && "):gmatch("(.-) && ") do
        local words = part:gsub("^make LUA=%S+", "make")
        if words:find("^luarocks") then
          assert.truthy(pkg:find("luarocks $lv_flag make rockspec/fsx-scm-1.rockspec", 1, true), part)
        elseif words == "make install" then
          assert.truthy(pkg:find("install PREFIX=", 1, true), part)
        else
          assert.equal("make", words, part)
        end
      end
    end
  end)
end)
