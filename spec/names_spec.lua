-- fsx.names: the one snake_case rule (API names -> Lua names).
local names = require("fsx.names")

describe("fsx.names.to_snake", function()
  local cases = {
    BackupId = "backup_id",
    ResourceARN = "resource_arn",
    DNSName = "dns_name",
    FileSystemId = "file_system_id",
    KmsKeyId = "kms_key_id",
    OntapConfiguration = "ontap_configuration",
    NetBiosName = "net_bios_name",
    Iops = "iops",
    IpAddressRange = "ip_address_range",
    SVMActiveDirectoryConfiguration = "svm_active_directory_configuration",
    CreateBackup = "create_backup",
    DescribeBackups = "describe_backups",
    ListTagsForResource = "list_tags_for_resource",
    ClientRequestToken = "client_request_token",
    OpenZFSConfiguration = "open_zfs_configuration",
    UUID = "uuid",
    NFS = "nfs",
    Nfs = "nfs",
    S3 = "s3",
    Ipv6Address = "ipv6_address",
    ReleaseFileSystemNfsV3Locks = "release_file_system_nfs_v3_locks",
    StorageCapacityQuotaGiB = "storage_capacity_quota_gi_b",
    RecordSizeKiB = "record_size_ki_b",
    SnapshotARN = "snapshot_arn",
    Id = "id",
    A = "a",
    [""] = "",
  }
  for api, snake in pairs(cases) do
    it(string.format("%q -> %q", api, snake), function()
      assert.are.equal(snake, names.to_snake(api))
    end)
  end

  it("leaves snake_case names unchanged", function()
    for _, s in ipairs({ "backup_id", "file_system_id", "x", "a1_b2" }) do
      assert.are.equal(s, names.to_snake(s))
    end
  end)

  it("is stable across repeated calls (cache)", function()
    for _ = 1, 3 do assert.are.equal("dns_name", names.to_snake("DNSName")) end
  end)

  it("handles more names than the cache holds", function()
    for i = 1, 5000 do
      assert.are.equal("field" .. i .. "_name", names.to_snake("Field" .. i .. "Name"))
    end
  end)

  it("rejects non-strings", function()
    assert.has_error(function() names.to_snake(42) end)
  end)
end)
