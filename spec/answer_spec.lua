-- What the client makes of a 2xx answer (fsx.output), over real sockets and
-- libcurl against spec/support/answer_server.py, which answers each request
-- with the exact body the test names: an answer without the operation's
-- result, or with members of the wrong JSON type, is a `decode` error, never
-- a success; a right one comes back with the model's integers as integers.
local fsx = require "fsx"
local output = require "fsx.output"
local helpers = require "helpers"
local procs = require "support.procs"

local function hex(s)
  return (s:gsub(".", function(c) return string.format("%02x", c:byte()) end))
end

local FS = "fs-0123456789abcdef0"
local BACKUP = '{"BackupId":"backup-0123456789abcdef0","Lifecycle":"AVAILABLE","Type":"USER_INITIATED",'
  .. '"CreationTime":1700000000.5,"ProgressPercent":100,"SizeInBytes":1099511627776,'
  .. '"FileSystem":{"FileSystemId":"' .. FS .. '","StorageCapacity":1200,"FileSystemType":"LUSTRE"}}'

describe("a 2xx answer", function()
  local srv

  lazy_setup(function() srv = procs.start("answer_server.py") end)
  lazy_teardown(function() if srv then procs.stop(srv) end end)

  local function client(body)
    return fsx.new{ region = "us-east-1", endpoint_url = srv.url .. "/hex/" .. hex(body),
                    credentials = helpers.credentials(), max_attempts = 1 }
  end

  local function refused(op, args, body)
    local c = client(body)
    local ok, err = pcall(c[op], c, args)
    assert.is_false(ok, "took " .. body .. " as an answer")
    assert.is_true(fsx.is_error(err), tostring(err))
    assert.equal("decode", err.kind)
    assert.equal("InvalidResponse", err.code)
    return err
  end

  local cases = {
    { "without its result", "{}", "has no Backup" },
    { "with a null result", '{"Backup":null}', "has no Backup" },
    { "with the result a string", '{"Backup":"backup-0123456789abcdef0"}', "a string at .backup" },
    { "with the result an array", '{"Backup":[' .. BACKUP .. ']}', "an array at .backup" },
    { "with an empty result", '{"Backup":{}}', "without BackupId, CreationTime, FileSystem" },
    { "with BackupId a number", '{"Backup":' .. BACKUP:gsub('"backup%-0123456789abcdef0"', "1234", 1) .. "}",
      "a number at .backup.backup_id where the model has a string" },
    { "with Tags an object", '{"Backup":' .. BACKUP:gsub("^{", '{"Tags":{"Name":"x"},', 1) .. "}",
      "an object at .backup.tags" },
    { "with ProgressPercent a string",
      '{"Backup":' .. BACKUP:gsub('"ProgressPercent":100', '"ProgressPercent":"100"', 1) .. "}",
      "a string at .backup.progress_percent" },
    { "with FileSystem a number", '{"Backup":' .. BACKUP:gsub('"FileSystem":{.-}}$', '"FileSystem":7}', 1) .. "}",
      "a number at .backup.file_system" },
  }
  -- fsx.output's two answer walkers (each runtime uses one of them)
  for _, walker in ipairs{ "lua", "c" } do
    for _, case in ipairs(cases) do
      it(case[1] .. " is a decode error for create_backup, never a success (" .. walker .. " walker)", function()
        output._use_walker(walker)
        finally(function() output._use_walker() end)
        local err = refused("create_backup", { file_system_id = FS }, case[2])
        assert.equal("CreateBackup", err.operation)
        assert.equal("answer-server-1", err.request_id)
        assert.equal(200, err.status)
        assert.equal(1, err.attempts)
        assert.is_true(err.retryable)
        -- the token that lets the caller repeat the call without a second backup
        assert.matches("^%x+%-%x+%-%x+%-%x+%-%x+$", err.client_request_token)
        assert.truthy(err.message:find(case[3], 1, true), err.message)
      end)
    end
  end

  it("without its result or of the wrong type is a decode error through client:call too", function()
    for _, body in ipairs({ "{}", '{"Backup":"backup-0123456789abcdef0"}' }) do
      local c = client(body)
      local ok, err = pcall(c.call, c, "CreateBackup", { FileSystemId = FS })
      assert.is_false(ok, body)
      assert.equal("decode", err.kind)
      assert.equal("InvalidResponse", err.code)
    end
    local c = client('{"Backup":' .. BACKUP .. '}')
    local raw = c:call("CreateBackup", { FileSystemId = FS })
    assert.equal("backup-0123456789abcdef0", raw.Backup.BackupId) -- API names, as sent
  end)

  it("that does not fit is retried with the same token, then a decode error", function()
    local tokens = {}
    local c = fsx.new{ region = "us-east-1", endpoint_url = srv.url .. "/hex/" .. hex('{"Backup":"x"}'),
                       credentials = helpers.credentials(), max_attempts = 3, sleep = function() end,
                       debug = function(event, data)
                         if event == "request" then
                           tokens[#tokens + 1] = data.body:match('"ClientRequestToken":"([^"]+)"')
                         end
                       end }
    local ok, err = pcall(c.create_backup, c, { file_system_id = FS })
    assert.is_false(ok)
    assert.equal("decode", err.kind)
    assert.equal(3, err.attempts)
    assert.equal(3, #tokens)
    assert.equal(tokens[1], tokens[2])
    assert.equal(tokens[1], tokens[3])
    assert.equal(tokens[1], err.client_request_token)
  end)

  it("without Backup is a decode error for copy_backup too", function()
    refused("copy_backup", { source_backup_id = "backup-0123456789abcdef0", source_region = "us-west-2" },
            '{"Lifecycle":"COPYING"}')
  end)

  it("of the wrong JSON type inside a listing is a decode error", function()
    refused("describe_backups", {}, '{"Backups":{"BackupId":"backup-0123456789abcdef0"}}')
    refused("describe_backups", {}, '{"Backups":[' .. BACKUP .. '],"NextToken":5}')
  end)

  for _, walker in ipairs{ "lua", "c" } do
    it("that is right converts, with the model's integers as integers (" .. walker .. " walker)", function()
      output._use_walker(walker)
      finally(function() output._use_walker() end)
      local c = client('{"Backup":' .. BACKUP .. '}')
      local backup = c:create_backup{ file_system_id = FS }
      assert.equal("backup-0123456789abcdef0", backup.backup_id)
      assert.equal(100, backup.progress_percent)
      assert.equal(1099511627776, backup.size_in_bytes)
      assert.equal(1200, backup.file_system.storage_capacity)
      assert.equal(1700000000.5, backup.creation_time)
      local math_type = rawget(math, "type")
      if math_type then -- Lua 5.3+: integers are a subtype
        assert.equal("integer", math_type(backup.progress_percent))
        assert.equal("integer", math_type(backup.size_in_bytes))
        assert.equal("integer", math_type(backup.file_system.storage_capacity))
        assert.equal("float", math_type(backup.creation_time))
        assert.equal("100", tostring(backup.progress_percent))
      else
        assert.equal("100", tostring(backup.progress_percent))
        assert.equal("1200", tostring(backup.file_system.storage_capacity))
      end
    end)
  end

  it("of an operation without a required result carries what the request named, and nothing more", function()
    local c = client('{"BackupId":"backup-0123456789abcdef0"}')
    local out = c:delete_backup{ backup_id = "backup-0123456789abcdef0" }
    assert.same({ backup_id = "backup-0123456789abcdef0" }, out)
    -- the backup it deleted is the one it was asked to delete
    refused("delete_backup", { backup_id = "backup-0123456789abcdef0" }, "{}")
    refused("delete_backup", { backup_id = "backup-0123456789abcdef0" },
            '{"BackupId":"backup-0fedcba9876543210","Lifecycle":"DELETED"}')
    -- a listing carries its list, empty when nothing matches
    assert.same({ backups = {} }, client('{"Backups":[]}'):describe_backups{})
    refused("describe_backups", {}, "{}")
  end)
end)
