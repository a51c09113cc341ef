-- Requests valid under the current FSx model (botocore 1.43.67, model/) pass
-- validation and go out, through the generated methods and through
-- client:call with API names: new operations, new enum values, removed
-- requirements, raised limits; and what AWS may add tomorrow (an enum value,
-- a larger number, a member) is sent, not refused (docs/validation.md).
-- The same call gives the same bytes, members in model order.
local fsx = require "fsx"
local json = require "fsx.json"

local FS = "fs-0123456789abcdef0"
local SUBNET = "subnet-0123456789abcdef0"

-- A client whose transport records each body and answers `answer`.
local function recorder(answer)
  local bodies = {}
  local c = fsx.new{
    region = "us-east-1", endpoint_url = "https://fsx.us-east-1.amazonaws.com",
    credentials = { access_key_id = "AKIDEXAMPLE", secret_access_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY" },
    transport = function(req)
      bodies[#bodies + 1] = req.body
      return { status = 200, headers = { ["x-amzn-requestid"] = "r1" }, body = answer or "{}" }
    end,
  }
  return c, bodies
end

local FILE_SYSTEM = '{"FileSystem":{"FileSystemId":"' .. FS .. '"}}'

-- { method, snake_case args, API-named params, answer }
local CORPUS = {
  { "create_file_system", -- ONTAP second generation: MULTI_AZ_2 with HA pairs, IOPS 2.4 million
    { file_system_type = "ONTAP", storage_capacity = 1048576, subnet_ids = { SUBNET },
      storage_type = "SSD", network_type = "DUAL",
      ontap_configuration = { deployment_type = "MULTI_AZ_2", ha_pairs = 12,
                              throughput_capacity_per_ha_pair = 6144,
                              disk_iops_configuration = { mode = "USER_PROVISIONED", iops = 2400000 },
                              endpoint_ipv6_address_range = "fd00:1::/118" } },
    { FileSystemType = "ONTAP", StorageCapacity = 1048576, SubnetIds = { SUBNET },
      StorageType = "SSD", NetworkType = "DUAL",
      OntapConfiguration = { DeploymentType = "MULTI_AZ_2", HAPairs = 12, ThroughputCapacityPerHAPair = 6144,
                             DiskIopsConfiguration = { Mode = "USER_PROVISIONED", Iops = 2400000 },
                             EndpointIpv6AddressRange = "fd00:1::/118" } },
    FILE_SYSTEM },
  { "create_file_system", -- OpenZFS MULTI_AZ_1, INTELLIGENT_TIERING storage without a capacity
    { file_system_type = "OPENZFS", subnet_ids = { SUBNET, "subnet-0123456789abcdef1" },
      storage_type = "INTELLIGENT_TIERING",
      open_zfs_configuration = { deployment_type = "MULTI_AZ_1", throughput_capacity = 160,
                                 preferred_subnet_id = SUBNET,
                                 read_cache_configuration = { sizing_mode = "PROPORTIONAL_TO_THROUGHPUT_CAPACITY" } } },
    { FileSystemType = "OPENZFS", SubnetIds = { SUBNET, "subnet-0123456789abcdef1" },
      StorageType = "INTELLIGENT_TIERING",
      OpenZFSConfiguration = { DeploymentType = "MULTI_AZ_1", ThroughputCapacity = 160,
                               PreferredSubnetId = SUBNET,
                               ReadCacheConfiguration = { SizingMode = "PROPORTIONAL_TO_THROUGHPUT_CAPACITY" } } },
    FILE_SYSTEM },
  { "create_file_system", -- tomorrow's API: an enum value and limits newer than the model
    { file_system_type = "OPENZFS", subnet_ids = { SUBNET }, storage_type = "FUTURE_TIER",
      open_zfs_configuration = { deployment_type = "MULTI_AZ_3", throughput_capacity = 99999999,
                                 disk_iops_configuration = { mode = "AUTOMATIC", iops = 10000000 } } },
    { FileSystemType = "OPENZFS", SubnetIds = { SUBNET }, StorageType = "FUTURE_TIER",
      OpenZFSConfiguration = { DeploymentType = "MULTI_AZ_3", ThroughputCapacity = 99999999,
                               DiskIopsConfiguration = { Mode = "AUTOMATIC", Iops = 10000000 } } },
    FILE_SYSTEM },
  { "describe_backups", -- a filter name newer than the model, MaxResults past the model's maximum
    { filters = { { name = "future-filter", values = { "x" } } }, max_results = 5000 },
    { Filters = { { Name = "future-filter", Values = { "x" } } }, MaxResults = 5000 }, '{"Backups":[]}' },
  { "describe_shared_vpc_configuration", {}, {} },
  { "update_shared_vpc_configuration",
    { enable_fsx_route_table_updates_from_participant_accounts = "true" },
    { EnableFsxRouteTableUpdatesFromParticipantAccounts = "true" } },
  { "start_misconfigured_state_recovery", { file_system_id = FS }, { FileSystemId = FS }, FILE_SYSTEM },
  { "create_and_attach_s3_access_point",
    { name = "nightly-ap1", type = "OPENZFS",
      open_zfs_configuration = { volume_id = "fsvol-0123456789abcdef0",
                                 file_system_identity = { type = "POSIX", posix_user = { uid = 0, gid = 0 } } } },
    { Name = "nightly-ap1", Type = "OPENZFS",
      OpenZFSConfiguration = { VolumeId = "fsvol-0123456789abcdef0",
                               FileSystemIdentity = { Type = "POSIX", PosixUser = { Uid = 0, Gid = 0 } } } },
    '{"S3AccessPointAttachment":{"Name":"nightly-ap1"}}' },
  { "describe_s3_access_point_attachments", { names = { "nightly-ap1" } }, { Names = { "nightly-ap1" } },
    '{"S3AccessPointAttachments":[]}' },
}

-- The body without its generated idempotency token.
local function without_token(body)
  local v = assert(json.decode(body))
  v.ClientRequestToken = nil
  return v
end

describe("a request valid under the current model", function()
  for i, case in ipairs(CORPUS) do
    local method, args, params, answer = case[1], case[2], case[3], case[4]
    it("passes through " .. method .. " (case " .. i .. ")", function()
      local c, bodies = recorder(answer)
      c[method](c, args)
      assert.same(params, without_token(bodies[1]))
    end)
    it("passes through client:call for " .. method .. " (case " .. i .. ")", function()
      local c, bodies = recorder(answer)
      local op = require("fsx.shape").operation(method).name
      c:call(op, params)
      assert.same(params, without_token(bodies[1]))
    end)
  end
end)

describe("client:call", function()
  it("sends members the model does not know, at any depth", function()
    local c, bodies = recorder(FILE_SYSTEM)
    c:call("CreateFileSystem", {
      FileSystemType = "LUSTRE", SubnetIds = { SUBNET }, ClientRequestToken = "t1",
      FutureTopLevel = { Anything = { 1, 2, 3 }, Flag = true },
      LustreConfiguration = { DeploymentType = "PERSISTENT_2", FutureNested = "x" },
    })
    local sent = json.decode(bodies[1])
    assert.same({ Anything = { 1, 2, 3 }, Flag = true }, sent.FutureTopLevel)
    assert.equal("x", sent.LustreConfiguration.FutureNested)
    assert.equal("PERSISTENT_2", sent.LustreConfiguration.DeploymentType)
  end)

  it("still refuses a snake_case spelling of a known member, and wrong types", function()
    local c = recorder()
    local ok, err = pcall(c.call, c, "CreateBackup", { file_system_id = FS })
    assert.is_false(ok)
    assert.equal("validation", err.kind)
    assert.truthy(err.message:find('did you mean "FileSystemId"', 1, true), err.message)
    ok, err = pcall(c.call, c, "CreateBackup", { FileSystemId = 12 })
    assert.is_false(ok)
    assert.equal("create_backup: FileSystemId: must be a string", err.message)
  end)
end)

describe("the methods", function()
  it("still refuse unknown snake_case members (typos)", function()
    local c = recorder()
    local ok, err = pcall(c.create_file_system, c,
                          { file_system_type = "LUSTRE", subnet_ids = { SUBNET }, storage_capacty = 1200 })
    assert.is_false(ok)
    assert.equal('create_file_system: unknown field "storage_capacty"', err.message)
  end)
end)

describe("request bodies", function()
  local ARGS = {
    client_request_token = "token-1", file_system_type = "LUSTRE", storage_capacity = 1200,
    subnet_ids = { SUBNET }, tags = { Owner = "ops", Name = "nightly" },
    lustre_configuration = { per_unit_storage_throughput = 250, deployment_type = "PERSISTENT_2",
                             weekly_maintenance_start_time = "1:05:00", copy_tags_to_backups = true },
  }
  -- the model's order of CreateFileSystemRequest and CreateFileSystemLustreConfiguration
  local WANT = '{"ClientRequestToken":"token-1","FileSystemType":"LUSTRE","StorageCapacity":1200,'
    .. '"SubnetIds":["subnet-0123456789abcdef0"],'
    .. '"Tags":[{"Key":"Name","Value":"nightly"},{"Key":"Owner","Value":"ops"}],'
    .. '"LustreConfiguration":{"WeeklyMaintenanceStartTime":"1:05:00","DeploymentType":"PERSISTENT_2",'
    .. '"PerUnitStorageThroughput":250,"CopyTagsToBackups":true}}'

  it("are byte-identical for the same call, members in model order", function()
    local c, bodies = recorder(FILE_SYSTEM)
    for _ = 1, 5 do c:create_file_system(ARGS) end
    -- a table built in another order, with other keys in between, gives the same bytes
    local args2 = {}
    for _, k in ipairs({ "lustre_configuration", "tags", "subnet_ids", "storage_capacity",
                         "file_system_type", "client_request_token" }) do args2[k] = ARGS[k] end
    c:create_file_system(args2)
    for i = 1, #bodies do assert.equal(WANT, bodies[i]) end
  end)

  it("through client:call list unknown members after the model's, sorted", function()
    local c, bodies = recorder('{"Backups":[]}')
    c:call("DescribeBackups", { Zeta = 1, MaxResults = 5, Alpha = "a", BackupIds = { "backup-0123456789abcdef0" } })
    assert.equal('{"BackupIds":["backup-0123456789abcdef0"],"MaxResults":5,"Alpha":"a","Zeta":1}', bodies[1])
  end)
end)

describe("fsx.json.encode", function()
  local cjson = require("cjson").new()
  it("writes scalars exactly as cjson does, and objects with sorted keys", function()
    local strings = { "", "plain", 'q"uote', "back\\slash", "s/lash", "tab\there", "nl\n", "\1\31\127",
                      "Größe 日本語", "\240\159\152\128", "a\0b" }
    for _, v in ipairs(strings) do assert.equal(cjson.encode(v), json.encode(v)) end
    for _, v in ipairs({ 0, -1, 1200, 2 ^ 53, 0.1, -2.5, 1e300, 1700000000.123, true, false, json.null }) do
      assert.equal(cjson.encode(v), json.encode(v))
    end
    assert.equal('{"a":1,"b":[1,"x",{}],"c":{"d":null,"e":[]}}',
                 json.encode{ c = { e = json.EMPTY_ARRAY, d = json.null }, b = { 1, "x", {} }, a = 1 })
    assert.equal("{}", json.encode({}))
    assert.equal('{"1":"a","3":"c"}', json.encode({ [1] = "a", [3] = "c" }))
  end)

  it("writes the keys named by order first, then the others sorted", function()
    local t = json.order({ z = 1, b = 2, a = 3, y = 4 }, { "y", "missing", "b" })
    assert.equal('{"y":4,"b":2,"a":3,"z":1}', json.encode(t))
  end)

  it("refuses what JSON cannot hold, as an error value", function()
    local cyclic = {}
    cyclic.self = cyclic
    assert.is_nil((json.encode(cyclic)))
    assert.is_nil((json.encode({ f = print })))
    assert.is_nil((json.encode({ [true] = 1 })))
    assert.is_nil((json.encode(0 / 0)))
  end)
end)
