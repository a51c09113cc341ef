-- What a one-shot script loads: `require "fsx"`, `fsx.new{...}` and one
-- create_backup load only the modules that call needs. Credential sources
-- are required when the chain reaches them (STS and lua-expat only for
-- roles), the Unicode tables only for a non-ASCII character tested against
-- a `\p{..}` class, the shape declarations only as they are used.
--
-- Each case runs in a fresh child process of the interpreter running busted
-- (the spec's own process has loaded everything already), with a transport
-- function answering CreateBackup, so no server is needed.
local helpers = require "helpers"

local q = helpers.q
local LUA = helpers.LUA
local BUILD = helpers.BUILD

-- The child: builds a client from `opts` (Lua source), creates one backup,
-- prints `loaded <module>` for every fsx module and lxp, then `shapes <n>`.
local CHILD = [[
local fsx = require "fsx"
local opts = %s
opts.region, opts.endpoint_url = "us-east-1", "http://127.0.0.1:9"
opts.transport = function(req)
  assert(req.body:find('"FileSystemId"', 1, true))
  return { status = 200, headers = { ["x-amzn-requestid"] = "r-1" },
           body = '{"Backup":{"BackupId":"backup-0123456789abcdef0","Lifecycle":"CREATING",'
             .. '"Type":"USER_INITIATED","CreationTime":1700000000,"Tags":[{"Key":"Name","Value":"nightly"}],"FileSystem":{"FileSystemId":'
             .. '"fs-0123456789abcdef0","Lifecycle":"AVAILABLE","StorageCapacity":32}}}' }
end
local client = fsx.new(opts)
local backup = client:create_backup{ file_system_id = "fs-0123456789abcdef0", tags = %s }
assert(backup.backup_id == "backup-0123456789abcdef0", "unexpected answer")
assert(backup.file_system.storage_capacity == 32)
for name in pairs(package.loaded) do
  if name:match("^fsx") or name == "lxp" then print("loaded " .. name) end
end
local n = 0
for _ in pairs(require("fsx.api").shapes) do n = n + 1 end
print("shapes " .. n)
]]

-- Run the child; returns the set of loaded modules and the number of shapes read.
local function loaded_by(opts, tags, env)
  local script = os.tmpname()
  helpers.write_file(script, CHILD:format(opts, tags or '{ { key = "Name", value = "nightly" } }'))
  local vars = {
    "LUA_PATH=" .. q(helpers.ROOT .. "/lua/?.lua;" .. helpers.ROOT .. "/lua/?/init.lua;;"),
    "LUA_CPATH=" .. q(helpers.ROOT .. "/" .. BUILD .. "/?.so;;"),
    "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null",
    "AWS_EC2_METADATA_DISABLED=true",
  }
  for k, v in pairs(env or {}) do vars[#vars + 1] = k .. "=" .. q(v) end
  local out, rc = helpers.run("env -u AWS_PROFILE -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY "
    .. "-u AWS_SESSION_TOKEN -u AWS_ENDPOINT_URL -u AWS_ENDPOINT_URL_FSX -u AWS_REGION "
    .. table.concat(vars, " ") .. " " .. LUA .. " " .. q(script) .. " 2>&1")
  os.remove(script)
  assert.are.equal(0, rc, out)
  local set = {}
  for name in out:gmatch("loaded (%S+)") do set[name] = true end
  return set, tonumber(out:match("shapes (%d+)"))
end

-- Modules no plain create_backup with explicit or environment keys needs.
local NOT_NEEDED = {
  "fsx.credentials.profile", "fsx.credentials.process", "fsx.credentials.sts",
  "fsx.credentials.web_identity", "fsx.credentials.container", "fsx.credentials.imds",
  "fsx.xml", "lxp", "fsx.unicode_data", "fsx.waiter", "fsx.tags", "fsx.retention",
}

local function assert_not_loaded(set, list)
  for _, name in ipairs(list) do assert.is_nil(set[name], name .. " was loaded") end
end

describe("a one-shot create_backup", function()
  it("with explicit credentials loads no other credential source", function()
    local set, shapes = loaded_by('{ credentials = { access_key_id = "AKIDEXAMPLE", '
      .. 'secret_access_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY" } }')
    assert_not_loaded(set, NOT_NEEDED)
    assert_not_loaded(set, { "fsx.credentials.env" })
    assert.is_true(set["fsx.credentials.static"])
    assert.is_true(set["fsx.pattern"])
    -- the shapes of this call, not the 399 of the model
    assert.is_true(shapes > 0 and shapes < 40, tostring(shapes))
  end)

  it("with environment credentials loads the explicit and env sources only", function()
    local set = loaded_by("{}", nil, { AWS_ACCESS_KEY_ID = "AKIDEXAMPLE",
                                      AWS_SECRET_ACCESS_KEY = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY" })
    assert_not_loaded(set, NOT_NEEDED)
    assert.is_true(set["fsx.credentials.static"])
    assert.is_true(set["fsx.credentials.env"])
  end)

  it("with a profile's static keys loads the profile source but not STS", function()
    local creds = os.tmpname()
    helpers.write_file(creds, "[default]\naws_access_key_id = AKIDEXAMPLE\n"
      .. "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY\n")
    local set = loaded_by("{ credentials_file = " .. string.format("%q", creds) .. " }")
    os.remove(creds)
    assert.is_true(set["fsx.credentials.profile"])
    -- web identity comes before the profile: its module is asked, STS is not
    assert.is_true(set["fsx.credentials.web_identity"])
    assert_not_loaded(set, { "fsx.credentials.sts",
                             "fsx.credentials.process", "fsx.xml", "lxp",
                             "fsx.credentials.container", "fsx.credentials.imds" })
  end)

  it("loads the Unicode tables for non-ASCII tags only", function()
    local opts = '{ credentials = { access_key_id = "AKIDEXAMPLE", '
      .. 'secret_access_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY" } }'
    local set = loaded_by(opts, '{ Name = "nightly backup 42" }')
    assert.is_nil(set["fsx.unicode_data"])
    set = loaded_by(opts, '{ ["Größe"] = "groß" }')
    assert.is_true(set["fsx.unicode_data"])
  end)
end)

describe("fsx.credentials.SOURCES", function()
  it("names each source as its module does, in the chain's order", function()
    local credentials = require "fsx.credentials"
    local want = {
      { "explicit", "fsx.credentials.static" }, { "env", "fsx.credentials.env" },
      { "web-identity", "fsx.credentials.web_identity" }, { "profile", "fsx.credentials.profile" },
      { "container", "fsx.credentials.container" }, { "imds", "fsx.credentials.imds" },
    }
    assert.are.equal(#want, #credentials.SOURCES)
    for i, w in ipairs(want) do
      local src = credentials.SOURCES[i]
      assert.are.equal(w[1], src.name)
      assert.are.equal(w[2], src.module)
      assert.are.equal(require(w[2]).name, src.name)
      assert.is_function(src.load)
    end
    -- other fields read through to the module
    assert.are.equal(require("fsx.credentials.container").allowed_host,
                     credentials.SOURCES[5].allowed_host)
  end)
end)
