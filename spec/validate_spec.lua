-- fsx.validate: input validation (snake_case and API names), driven by the
-- generated fsx.api; and fsx.shape, the model by name.
local helpers = require("helpers")
local validate = require("fsx.validate")
local output = require("fsx.output")
local shape = require("fsx.shape")
local api = require("fsx.api")
local json = require("fsx.json")
local cjson = require("cjson")
local errors = require("fsx.error")

local FS = "fs-0123456789abcdef0"
local VOL = "fsvol-0123456789abcdef0"
local ARN = "arn:aws:fsx:us-east-1:123456789012:file-system/" .. FS

-- The validation error raised by f, or fails the test.
local function verr(f, ...)
  local ok, e = pcall(f, ...)
  assert.is_false(ok, "expected a validation error")
  assert.is_true(errors.is_error(e), "not an fsx error: " .. tostring(e))
  assert.are.equal("validation", e.kind)
  return e
end

-- Expect validate.input(op, args, extra) to fail with exactly this message.
local function rejects(msg, op, args, extra)
  local e = verr(validate.input, op, args, extra)
  assert.are.equal(msg, e.message)
  return e
end

local function rep(s, n) return string.rep(s, n) end

describe("fsx.validate", function()
  describe("operations", function()
    it("finds declarations by API or snake name", function()
      assert.are.equal(api.operations.CreateBackup, shape.operation("CreateBackup"))
      assert.are.equal(api.operations.CreateBackup, shape.operation("create_backup"))
      assert.are.equal(api.operations.DescribeBackups, shape.operation("describe_backups"))
      assert.is_nil(shape.operation("create_bakup"))
      assert.is_nil(shape.operation("CreateBakup"))
    end)

    it("iterates all 48 operations in sorted order", function()
      local list = {}
      for name, decl in shape.operations() do
        assert.are.equal(name, decl.name)
        list[#list + 1] = name
      end
      assert.are.equal(48, #list)
      for i = 2, #list do assert.is_true(list[i - 1] < list[i]) end
    end)

    it("get returns shape declarations", function()
      assert.are.equal(api.shapes.Tags, shape.get("Tags"))
      assert.is_nil(shape.get("NoSuchShape"))
    end)

    it("rejects an unknown operation", function()
      local e = verr(validate.input, "create_bakup", {})
      assert.truthy(e.message:find("unknown operation", 1, true))
    end)
  end)

  describe("input (create_backup)", function()
    it("converts valid snake_case arguments to API names", function()
      local token = "8c6f0d1e-1234-4c5d-9e8f-0123456789ab"
      local p = validate.input("create_backup", {
        file_system_id = FS, client_request_token = token,
        tags = { { key = "Name", value = "nightly" }, { key = "env", value = "" } },
      })
      assert.are.same({ FileSystemId = FS, ClientRequestToken = token,
                        Tags = { { Key = "Name", Value = "nightly" }, { Key = "env", Value = "" } } }, p)
      assert.are.same({ VolumeId = VOL }, validate.input("create_backup", { volume_id = VOL }))
    end)

    it("accepts the declaration instead of a name", function()
      assert.are.same({ FileSystemId = FS },
                      validate.input(api.operations.CreateBackup, { file_system_id = FS }))
    end)

    it("returns new tables and leaves the arguments alone", function()
      local tags = { { key = "a", value = "b" } }
      local args = { file_system_id = FS, tags = tags }
      local p = validate.input("create_backup", args)
      assert.are_not.equal(tags, p.Tags)
      assert.are.same({ file_system_id = FS, tags = { { key = "a", value = "b" } } }, args)
    end)

    it("accepts nil or {} when nothing is required", function()
      assert.are.same({}, validate.input("create_backup", nil))
      assert.are.same({}, validate.input("create_backup", {}))
      assert.are.same({}, validate.input("describe_backups"))
    end)

    it("requires a table", function()
      rejects("create_backup: arguments must be a table", "create_backup", "fs-1")
      rejects("create_backup: arguments must be a table", "create_backup", 42)
    end)

    it("rejects unknown fields, naming them", function()
      local e = rejects('describe_backups: unknown field "bakup_ids"', "describe_backups",
                        { bakup_ids = { "backup-01234567" } })
      assert.are.equal("describe_backups", e.operation)
      rejects('create_backup: unknown field "FileSystemId" (did you mean "file_system_id"?)',
              "create_backup", { FileSystemId = FS })
      rejects('create_backup: unknown field "a" (and 1 more)', "create_backup", { b = 1, a = 2 })
      rejects('create_backup: tags[1]: unknown field "name"', "create_backup",
              { tags = { { name = "x", key = "k", value = "v" } } })
    end)

    it("skips the fields the caller handles itself (extra), at the top level only", function()
      local p = validate.input("create_backup", { file_system_id = FS, wait = true, copy_tags = "all" },
                            { wait = true, copy_tags = true })
      assert.are.same({ FileSystemId = FS }, p)
      rejects('create_backup: tags[1]: unknown field "wait"', "create_backup",
              { tags = { { key = "k", value = "v", wait = true } } }, { wait = true })
    end)

    it("rejects non-string keys", function()
      rejects("create_backup: unexpected number 1 key (field names are strings)", "create_backup",
              { FS })
      rejects("create_backup: unexpected boolean true key (field names are strings)",
              "create_backup", { [true] = 1 })
      rejects("create_backup: unexpected table key (field names are strings)", "create_backup",
              { [{}] = 1 })
    end)

    it("enforces required members", function()
      rejects("tag_resource: tags: is required", "tag_resource", { resource_arn = ARN })
      rejects("tag_resource: arguments must be a table (resource_arn is required)", "tag_resource", nil)
      rejects("create_backup: tags[2].value: is required", "create_backup",
              { tags = { { key = "a", value = "b" }, { key = "c" } } })
      rejects("create_backup: tags[1].key: is required", "create_backup",
              { tags = { { key = cjson.null, value = "b" } } })
    end)

    it("treats JSON null as absent", function()
      assert.are.same({ FileSystemId = FS },
                      validate.input("create_backup", { file_system_id = FS, volume_id = cjson.null }))
    end)

    describe("strings", function()
      it("must be strings", function()
        rejects("create_backup: file_system_id: must be a string", "create_backup", { file_system_id = 12 })
        rejects("create_backup: tags[1].value: must be a string", "create_backup",
                { tags = { { key = "a", value = 1 } } })
      end)

      it("checks lengths", function()
        rejects("create_backup: file_system_id: must be 11..21 characters", "create_backup",
                { file_system_id = "fs-0123" })
        rejects("create_backup: volume_id: must be exactly 23 characters", "create_backup",
                { volume_id = "fsvol-0123456789abcdef01" })
        rejects("create_backup: tags[3].key: must be 1..128 characters", "create_backup",
                { tags = { { key = "a", value = "" }, { key = "b", value = "" },
                           { key = rep("k", 129), value = "" } } })
        rejects("create_backup: tags[1].key: must be 1..128 characters", "create_backup",
                { tags = { { key = "", value = "" } } })
        rejects("create_backup: tags[1].value: must be 0..256 characters", "create_backup",
                { tags = { { key = "k", value = rep("v", 257) } } })
      end)

      it("checks the model's pattern", function()
        rejects("create_backup: file_system_id: must match ^(fs-[0-9a-f]{8,})$", "create_backup",
                { file_system_id = "fs-0123456789ABCDEF0" })
        rejects("create_backup: file_system_id: must match ^(fs-[0-9a-f]{8,})$", "create_backup",
                { file_system_id = "vol-0123456789abcdef" })
        rejects("create_backup: tags[1].key: must match ^([\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*)$",
                "create_backup", { tags = { { key = "a!b", value = "" } } })
      end)

      it("allows CR/LF only where the pattern does", function()
        rejects("create_backup: file_system_id: must match ^(fs-[0-9a-f]{8,})$", "create_backup",
                { file_system_id = "fs-01234567\n" })
        rejects("create_backup: tags[1].value: must match ^([\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*)$",
                "create_backup", { tags = { { key = "k", value = "a\r\nb" } } })
        -- ClientRequestToken's pattern is not anchored, but members match whole
        rejects("create_backup: client_request_token: must match [A-za-z0-9_.-]{0,63}$",
                "create_backup", { client_request_token = "tok\n" })
      end)

      it("treats enums as open: a value newer than the model is sent", function()
        assert.are.same({ Filters = { { Name = "file-system-id", Values = { FS } } } },
                        validate.input("describe_backups",
                                       { filters = { { name = "file-system-id", values = { FS } } } }))
        assert.are.same({ Filters = { { Name = "owner-account", Values = { "x" } } } },
                        validate.input("describe_backups",
                                       { filters = { { name = "owner-account", values = { "x" } } } }))
        -- still a string, though
        rejects("describe_backups: filters[1].name: must be a string", "describe_backups",
                { filters = { { name = 1, values = { "x" } } } })
      end)

      it("counts Unicode characters, not bytes", function()
        local p = validate.input("create_backup", { tags = { ["Größe"] = "日本語 テスト" } })
        assert.are.same({ Tags = { { Key = "Größe", Value = "日本語 テスト" } } }, p)
        -- 128 two-byte letters (256 bytes) pass, 129 fail
        validate.input("create_backup", { tags = { { key = rep("é", 128), value = rep("日", 256) } } })
        rejects("create_backup: tags[1].key: must be 1..128 characters", "create_backup",
                { tags = { { key = rep("é", 129), value = "" } } })
        rejects("create_backup: tags[1].value: must be 0..256 characters", "create_backup",
                { tags = { { key = "k", value = rep("日", 257) } } })
        -- four-byte characters: letters outside the BMP
        validate.input("create_backup", { tags = { { key = rep("\240\144\128\128", 128), value = "" } } })
      end)

      it("rejects invalid UTF-8", function()
        for _, bad in ipairs({ "a\255", "\192\175", "\237\160\128", "\226\130", "\244\144\128\128" }) do
          local e = verr(validate.input, "create_backup", { tags = { { key = "k", value = bad } } })
          assert.truthy(e.message:find("^create_backup: tags%[1%]%.value: must be valid UTF%-8"), e.message)
        end
        rejects("create_backup: tags[1].key: must be valid UTF-8 (invalid byte sequence at byte 3)",
                "create_backup", { tags = { { key = "ab\128", value = "" } } })
      end)

      it("rejects embedded NUL characters", function()
        rejects("create_backup: tags[1].value: must not contain NUL characters", "create_backup",
                { tags = { { key = "k", value = "a\0b" } } })
        -- even where the pattern would let it through (`.` matches NUL)
        rejects("copy_backup: kms_key_id: must not contain NUL characters", "copy_backup",
                { source_backup_id = "backup-01234567", kms_key_id = "key\0" })
      end)

      it("rejects 1 MB strings by length, before any pattern runs", function()
        local big = rep("a", 1024 * 1024)
        -- VM instructions, not time: matching a pattern over 1 MB would take
        -- tens of millions
        helpers.vm_steps(function()
          rejects("create_backup: file_system_id: must be 11..21 characters", "create_backup",
                  { file_system_id = big })
          rejects("create_backup: client_request_token: must be 1..63 characters", "create_backup",
                  { client_request_token = big })
          rejects("create_backup: tags[1].key: must be 1..128 characters", "create_backup",
                  { tags = { { key = big, value = "" } } })
          rejects("create_backup: tags[1].value: must be 0..256 characters", "create_backup",
                  { tags = { { key = "k", value = rep("日", 300000) } } })
          rejects("tag_resource: resource_arn: must be 8..512 characters", "tag_resource",
                  { resource_arn = big, tags = { a = "b" } })
        end, 100000) -- about 12,000 measured
      end)
    end)

    describe("numbers and booleans", function()
      it("checks integers", function()
        rejects("describe_backups: max_results: must be a number", "describe_backups", { max_results = "5" })
        rejects("describe_backups: max_results: must be an integer", "describe_backups", { max_results = 1.5 })
        rejects("describe_backups: max_results: must be a finite number", "describe_backups",
                { max_results = 0 / 0 })
        rejects("describe_backups: max_results: must be a finite number", "describe_backups",
                { max_results = math.huge })
        -- no numeric minimum or maximum: the service decides (AWS raises limits)
        assert.are.same({ MaxResults = 0 }, validate.input("describe_backups", { max_results = 0 }))
        assert.are.same({ MaxResults = 2 ^ 31 - 1 }, validate.input("describe_backups", { max_results = 2 ^ 31 - 1 }))
        -- but within the wire type: MaxResults is a 32-bit integer, Iops a 64-bit long
        rejects("describe_backups: max_results: must be a 32-bit integer", "describe_backups",
                { max_results = 2 ^ 31 })
        rejects("describe_backups: max_results: must be a 32-bit integer", "describe_backups",
                { max_results = -2 ^ 31 - 1 })
        rejects("describe_backups: max_results: must be a 32-bit integer", "describe_backups",
                { max_results = 1e308 })
        local iops = function(n)
          return { file_system_type = "ONTAP", subnet_ids = { "subnet-01234567" },
                   ontap_configuration = { deployment_type = "MULTI_AZ_2",
                                           disk_iops_configuration = { iops = n } } }
        end
        assert.is_table(validate.input("create_file_system", iops(2 ^ 40)))
        rejects("create_file_system: ontap_configuration.disk_iops_configuration.iops: must be a 64-bit integer",
                "create_file_system", iops(2 ^ 63))
        assert.are.same({ MaxResults = 25 }, validate.input("describe_backups", { max_results = 25 }))
        assert.are.same({ MaxResults = 25 }, validate.input("describe_backups", { max_results = 25.0 }))
      end)

      it("checks booleans", function()
        rejects("copy_backup: copy_tags: must be a boolean", "copy_backup",
                { source_backup_id = "backup-01234567", copy_tags = "yes" })
        assert.are.same({ SourceBackupId = "backup-01234567", CopyTags = false },
                        validate.input("copy_backup", { source_backup_id = "backup-01234567", copy_tags = false }))
      end)
    end)

    describe("lists", function()
      it("must be tables", function()
        rejects("create_backup: tags: must be a table", "create_backup", { tags = "Name=x" })
        rejects("describe_backups: backup_ids: must be a table", "describe_backups", { backup_ids = "backup-01234567" })
      end)

      it("must be arrays without holes", function()
        rejects("describe_backups: backup_ids: must be a list without holes (keys 1..2)", "describe_backups",
                { backup_ids = { [1] = "backup-01234567", [3] = "backup-01234568" } })
        rejects("describe_backups: backup_ids: must be a list (array with keys 1..n), found a string key",
                "describe_backups", { backup_ids = { x = "backup-01234567" } })
        rejects("describe_backups: backup_ids: must be a list (array with keys 1..n), found a number 1.5 key",
                "describe_backups", { backup_ids = { [1.5] = "backup-01234567" } })
        rejects("describe_backups: backup_ids[2]: must match ^(backup-[0-9a-f]{8,})$", "describe_backups",
                { backup_ids = { "backup-01234567", "backup-nothex!!" } })
      end)

      it("checks item counts", function()
        rejects("create_backup: tags: must have 1..50 items", "create_backup", { tags = {} })
        local many = {}
        for i = 1, 51 do many[i] = { key = "k" .. i, value = "v" } end
        rejects("create_backup: tags: must have 1..50 items", "create_backup", { tags = many })
        many[51] = nil
        assert.are.equal(50, #validate.input("create_backup", { tags = many }).Tags)
        local ids = {}
        for i = 1, 51 do ids[i] = string.format("backup-%08x", i) end
        rejects("describe_backups: backup_ids: must have at most 50 items", "describe_backups",
                { backup_ids = ids })
      end)

      it("sends an empty list as fsx.json.EMPTY_ARRAY", function()
        local p = validate.input("describe_backups", { backup_ids = {} })
        assert.are.equal(json.EMPTY_ARRAY, p.BackupIds)
        assert.are.equal('{"BackupIds":[]}', json.encode(p))
      end)
    end)

    describe("tags", function()
      it("accepts a map, converted to a list sorted by key", function()
        local p = validate.input("create_backup", { tags = { b = "2", a = "1", Name = "x", ["日本"] = "" } })
        assert.are.same({ { Key = "Name", Value = "x" }, { Key = "a", Value = "1" },
                          { Key = "b", Value = "2" }, { Key = "日本", Value = "" } }, p.Tags)
        p = validate.input("tag_resource", { resource_arn = ARN, tags = { Name = "x" } })
        assert.are.same({ ResourceARN = ARN, Tags = { { Key = "Name", Value = "x" } } }, p)
      end)

      it("names map entries in errors by their key", function()
        rejects('create_backup: tags["Name"].value: must be a string', "create_backup",
                { tags = { Name = 1 } })
        rejects('create_backup: tags["a!b"].key: must match ^([\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*)$',
                "create_backup", { tags = { ["a!b"] = "x" } })
        rejects('create_backup: tags["' .. rep("k", 64) .. '..."].key: must be 1..128 characters',
                "create_backup", { tags = { [rep("k", 200)] = "x" } })
        rejects('create_backup: tags["a\\x0ab"].key: must match ^([\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*)$',
                "create_backup", { tags = { ["a\nb"] = "x" } })
      end)

      it("rejects a mix of list and map", function()
        rejects("create_backup: tags: must be either a list of tags or a map of tag keys to values, not both",
                "create_backup", { tags = { { key = "a", value = "b" }, Name = "x" } })
        rejects("create_backup: tags: must be a list of tags or a map of tag keys to values "
                .. "(unexpected boolean true key)", "create_backup", { tags = { [true] = "x" } })
      end)

      it("rejects keys starting with aws:", function()
        rejects('create_backup: tags[2].key: must not start with "aws:" (reserved for AWS)',
                "create_backup", { tags = { { key = "a", value = "" }, { key = "aws:x", value = "" } } })
        rejects('create_backup: tags["AWS:Name"].key: must not start with "aws:" (reserved for AWS)',
                "create_backup", { tags = { ["AWS:Name"] = "x" } })
        rejects('tag_resource: tags["aws:cloudformation:stack"].key: must not start with "aws:" (reserved for AWS)',
                "tag_resource", { resource_arn = ARN, tags = { ["aws:cloudformation:stack"] = "x" } })
        validate.input("create_backup", { tags = { awsome = "x", ["x:aws:"] = "y", aws = "z" } })
      end)
    end)

    describe("hostile tables", function()
      it("detects cycles", function()
        local t = { file_system_id = FS }
        t.tags = { t }
        rejects("create_backup: tags[1]: cyclic table", "create_backup", t)
        local tags = {}
        tags[1] = tags
        rejects("create_backup: tags[1]: cyclic table", "create_backup", { tags = tags })
        -- the same table twice (no cycle) is fine
        local tag = { key = "a", value = "b" }
        assert.are.same({ Tags = { { Key = "a", Value = "b" }, { Key = "a", Value = "b" } } },
                        validate.input("create_backup", { tags = { tag, tag } }))
      end)

      it("reads only raw contents: raising metamethods never run", function()
        local function boom() error("boom") end
        local hostile = { __index = boom, __newindex = boom, __len = boom, __pairs = boom,
                          __ipairs = boom, __call = boom, __tostring = boom, __eq = boom }
        local tags = setmetatable({ setmetatable({ key = "a", value = "b" }, hostile) }, hostile)
        local args = setmetatable({ file_system_id = FS, tags = tags }, hostile)
        assert.are.same({ FileSystemId = FS, Tags = { { Key = "a", Value = "b" } } },
                        validate.input("create_backup", args))
      end)

      it("names the field when a proxy hides it", function()
        local proxy = setmetatable({}, { __index = function() error("boom") end })
        rejects("tag_resource: resource_arn: is required (fields are read with rawget; proxy tables "
                .. "are not supported)", "tag_resource", proxy)
        rejects("create_backup: tags[1].key: is required (fields are read with rawget; proxy tables "
                .. "are not supported)", "create_backup", { tags = { proxy } })
        local proxy_list = setmetatable({}, { __index = function() error("boom") end,
                                              __len = function() return 3 end })
        rejects("create_backup: tags: must have 1..50 items", "create_backup", { tags = proxy_list })
      end)

      it("handles a key whose __tostring raises", function()
        local k = setmetatable({}, { __tostring = function() error("boom") end })
        rejects("create_backup: unexpected table key (field names are strings)", "create_backup", { [k] = 1 })
      end)

      it("recovers after an error in the middle of a nested table", function()
        local tag = { key = "k", value = 1 }
        verr(validate.input, "create_backup", { tags = { tag } })
        -- the same tables again: no stale cycle marks
        tag.value = "v"
        assert.are.same({ Tags = { { Key = "k", Value = "v" } } }, validate.input("create_backup", { tags = { tag } }))
      end)
    end)

    describe("synthetic shapes (timestamps, maps, recursion)", function()
      local put, take = helpers.shapes{
        TestRequest = { type = "structure", required = { When = true }, members = {
          { name = "When", snake = "when", shape = "TestTime" },
          { name = "Labels", snake = "labels", shape = "TestMap" },
          { name = "Node", snake = "node", shape = "TestNode" } } },
        TestTime = { type = "timestamp" },
        TestMap = { type = "map", key = "TagKey", value = "TagValue", max = 2 },
        TestNode = { type = "structure", members = {
          { name = "Child", snake = "child", shape = "TestNode" },
          { name = "Name", snake = "name", shape = "TagValue" } } },
      }
      setup(put)
      teardown(take)
      local decl = { name = "Test", snake = "test", input = "TestRequest", output = "TestRequest" }

      it("timestamps are epoch numbers", function()
        assert.are.same({ When = 1700000000.5 }, validate.input(decl, { when = 1700000000.5 }))
        rejects("test: when: must be a number (epoch seconds)", decl, { when = "2023-01-01T00:00:00Z" })
        rejects("test: when: must be a number (epoch seconds)", decl, { when = 0 / 0 })
      end)

      it("maps keep their keys and check keys and values", function()
        assert.are.same({ When = 1, Labels = { ["Größe"] = "x", Name = "y" } },
                        validate.input(decl, { when = 1, labels = { ["Größe"] = "x", Name = "y" } }))
        rejects('test: labels["a!"]: must match ^([\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*)$', decl,
                { when = 1, labels = { ["a!"] = "x" } })
        rejects("test: labels: unexpected number 1 key (map keys are strings)", decl,
                { when = 1, labels = { "x" } })
        rejects("test: labels: must have at most 2 entries", decl,
                { when = 1, labels = { a = "1", b = "2", c = "3" } })
      end)

      it("recursive shapes with cyclic tables give an error, not a stack overflow", function()
        local n = { name = "a" }
        n.child = n
        rejects("test: node.child: cyclic table", decl, { when = 1, node = n })
        local deep = { name = "leaf" }
        for _ = 1, 500 do deep = { child = deep } end
        local e = verr(validate.input, decl, { when = 1, node = deep })
        assert.truthy(e.message:find("nesting too deep", 1, true))
        local ok = { name = "leaf" }
        for _ = 1, 20 do ok = { child = ok } end
        assert.is_table(validate.input(decl, { when = 1, node = ok }))
      end)

      it("output keeps map keys", function()
        assert.are.same({ when = 5, labels = { FooBar = "x" } },
                        output.convert(decl, { When = 5, Labels = { FooBar = "x", Nope = cjson.null } }))
      end)
    end)
  end)

  describe("input_api", function()
    it("validates API-named params and returns a copy", function()
      local params = { FileSystemId = FS, Tags = { { Key = "Name", Value = "x" } } }
      local p = validate.input_api("CreateBackup", params)
      assert.are.same(params, p)
      assert.are_not.equal(params, p)
      assert.are.same({ Tags = { { Key = "a", Value = "1" } } },
                      validate.input_api("CreateBackup", { Tags = { a = "1" } }))
      assert.are.same({}, validate.input_api("DescribeBackups", nil))
    end)

    it("names fields with API names", function()
      local e = verr(validate.input_api, "CreateBackup",
                     { Tags = { { Key = "a", Value = "b" }, { Key = "", Value = "b" } } })
      assert.are.equal("create_backup: Tags[2].Key: must be 1..128 characters", e.message)
      e = verr(validate.input_api, "CreateBackup", { file_system_id = FS })
      assert.are.equal('create_backup: unknown field "file_system_id" (did you mean "FileSystemId"?)', e.message)
      e = verr(validate.input_api, "TagResource", { ResourceARN = ARN })
      assert.are.equal("tag_resource: Tags: is required", e.message)
      e = verr(validate.input_api, "CreateBackup", { Tags = { { Key = "aws:x", Value = "b" } } })
      assert.are.equal('create_backup: Tags[1].Key: must not start with "aws:" (reserved for AWS)', e.message)
    end)
  end)
end)
