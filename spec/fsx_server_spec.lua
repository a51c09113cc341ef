-- The local FSx server itself (spec/support/fsx_server.py), driven without
-- the library under test: the curl CLI for HTTP, botocore for signatures
-- (spec/support/botocore_sign.py) and botocore's own FSx client.
local helpers = require "helpers"

describe("local FSx server", function()
  local server

  lazy_setup(function()
    server = helpers.start_fsx_server{ backup_seconds = 0 }
  end)

  lazy_teardown(function()
    if server then server:stop() end
  end)

  before_each(function()
    server:reset()
    server:config{ backup_seconds = 0 }
  end)

  it("serves the seed through the control API", function()
    local state = server:state()
    assert.equal("us-east-1", state.region)
    local by_id = {}
    for _, fs in ipairs(state.file_systems) do by_id[fs.FileSystemId] = fs end
    local win = by_id["fs-0123456789abcdef0"]
    assert.equal("WINDOWS", win.FileSystemType)
    assert.is_true(win.WindowsConfiguration.CopyTagsToBackups)
    assert.equal(0, #by_id["fs-0fedcba9876543210"].Tags)
    assert.equal(50, #by_id["fs-00000000000000050"].Tags)
    assert.equal("fsvol-0123456789abcdef0", state.volumes[1].VolumeId)
    assert.equal(0, #state.backups)
    assert.equal(0, state.counters.requests_total)
  end)

  it("asks for authentication when a request is unsigned", function()
    local res = helpers.curl{ method = "POST", url = server.url .. "/", body = "{}", headers = {
      { "Content-Type", "application/x-amz-json-1.1" },
      { "X-Amz-Target", "AWSSimbaAPIService_v20180301.DescribeBackups" } } }
    assert.equal(400, res.status)
    assert.matches('"__type":"MissingAuthenticationTokenException"', res.body, 1, true)
    assert.equal("application/x-amz-json-1.1", res.headers["content-type"])
    assert.matches("^%x+%-%x+%-%x+%-%x+%-%x+$", res.headers["x-amzn-requestid"])
  end)

  it("rejects a wrong signature with 403 and an unknown key with 400", function()
    local date = helpers.amz_date()
    local headers = {
      { "Content-Type", "application/x-amz-json-1.1" },
      { "X-Amz-Target", "AWSSimbaAPIService_v20180301.DescribeBackups" },
      { "X-Amz-Date", date },
      { "Authorization", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/" .. date:sub(1, 8)
        .. "/us-east-1/fsx/aws4_request, SignedHeaders=host;x-amz-date, Signature="
        .. string.rep("0", 64) } }
    local res = helpers.curl{ method = "POST", url = server.url .. "/", body = "{}", headers = headers }
    assert.equal(403, res.status)
    assert.equal("InvalidSignatureException", res.headers["x-amzn-errortype"])
    assert.matches("The request signature we calculated does not match", res.body, 1, true)

    local other = helpers.credentials()
    other.access_key_id = "AKIDUNKNOWN"
    res = server:signed_request("DescribeBackups", {}, { credentials = other })
    assert.equal(400, res.status)
    assert.equal("UnrecognizedClientException", res.json.__type)
    assert.equal("The security token included in the request is invalid.", res.json.message)

    local counters = server:state().counters
    assert.equal(2, counters.bad_signatures)
  end)

  it("accepts a request signed by botocore and copies the file system's tags", function()
    local res = server:signed_request("CreateBackup",
      { FileSystemId = "fs-0123456789abcdef0", ClientRequestToken = "spec-token-1" })
    assert.equal(200, res.status, res.body)
    local backup = res.json.Backup
    assert.matches("^backup%-%x+$", backup.BackupId)
    assert.equal(24, #backup.BackupId)
    assert.equal("USER_INITIATED", backup.Type)
    assert.equal("FILE_SYSTEM", backup.ResourceType)
    assert.equal(2, #backup.Tags)

    -- same token, other parameters
    res = server:signed_request("CreateBackup",
      { FileSystemId = "fs-0fedcba9876543210", ClientRequestToken = "spec-token-1" })
    assert.equal(400, res.status)
    assert.equal("IncompatibleParameterError", res.json.__type)
    assert.equal("ClientRequestToken", res.json.Parameter)

    local log = server:requests("CreateBackup")
    assert.equal(2, #log)
    assert.is_true(log[1].signature_ok)
    assert.equal("AKIDEXAMPLE", log[1].access_key)
    assert.equal("spec-token-1", log[1].client_request_token)
  end)

  it("accepts temporary credentials with their session token", function()
    local res = server:signed_request("DescribeFileSystems", { MaxResults = 2 },
                                      { credentials = helpers.session_credentials() })
    assert.equal(200, res.status, res.body)
    assert.equal(2, #res.json.FileSystems)
    assert.is_string(res.json.NextToken)
  end)

  it("injects faults by position and by operation", function()
    server:faults({ { kind = "throttle", nth = 1, operation = "DescribeBackups" },
                    { kind = "reset_before", nth = 2, operation = "DescribeBackups" } }, 7)
    local res = server:signed_request("DescribeBackups", {})
    assert.equal(400, res.status)
    assert.equal("ThrottlingException", res.json.__type)
    assert.equal("Rate exceeded", res.json.message)
    res = server:signed_request("DescribeBackups", {})
    assert.equal(0, res.status)
    assert.equal(56, res.curl_exit)  -- connection reset
    res = server:signed_request("DescribeFileSystems", {})
    assert.equal(200, res.status)
    res = server:signed_request("DescribeBackups", {})
    assert.equal(200, res.status)
    assert.equal(2, server:state().counters.faults_fired)
  end)

  it("speaks the protocol botocore's own FSx client expects", function()
    local creds = helpers.credentials()
    local script = table.concat({
      "import sys, botocore.session",
      "from botocore.config import Config",
      "c = botocore.session.get_session().create_client('fsx', region_name='us-east-1',",
      "    endpoint_url=sys.argv[1], aws_access_key_id=sys.argv[2], aws_secret_access_key=sys.argv[3],",
      "    config=Config(retries={'total_max_attempts': 1}))",
      "b = c.create_backup(VolumeId='fsvol-0123456789abcdef0')['Backup']",
      "n = sum(len(p['Backups']) for p in c.get_paginator('describe_backups').paginate(",
      "    PaginationConfig={'PageSize': 1}))",
      "try:",
      "    c.describe_backups(BackupIds=['backup-0123456789abcdef0'])",
      "except c.exceptions.BackupNotFound as e:",
      "    code = e.response['Error']['Code']",
      "print(b['ResourceType'], b['Volume']['VolumeId'], n, code)",
    }, "\n")
    local out, rc = helpers.run(helpers.q(helpers.PYTHON) .. " -c " .. helpers.q(script) .. " "
      .. helpers.q(server.url) .. " " .. helpers.q(creds.access_key_id) .. " "
      .. helpers.q(creds.secret_access_key) .. " 2>&1")
    assert.equal(0, rc, out)
    assert.equal("VOLUME fsvol-0123456789abcdef0 1 BackupNotFound", (out:gsub("%s+$", "")))
  end)

  it("forces a backup's lifecycle and seeds a dated history", function()
    local added = server:seed{ backups = {
      { FileSystemId = "fs-0123456789abcdef0", CreationTime = "2024-01-01T03:00:00Z", Type = "AUTOMATIC" },
      { FileSystemId = "fs-0123456789abcdef0", CreationTime = 1704164400 },
    } }
    assert.equal(2, #added.backups)
    local desc = server:set_backup(added.backups[2], { lifecycle = "FAILED", message = "disk full" })
    assert.equal("FAILED", desc.Lifecycle)
    assert.equal("disk full", desc.FailureDetails.Message)
    local res = server:signed_request("DescribeBackups",
      { Filters = { { Name = "backup-type", Values = { "AUTOMATIC" } } } })
    assert.equal(200, res.status)
    assert.equal(1, #res.json.Backups)
    assert.equal(1704078000, res.json.Backups[1].CreationTime)
  end)

  describe("paging modes", function()
    local function seed_five()
      local list = {}
      for i = 1, 5 do
        list[i] = { BackupId = string.format("backup-%017x", 0xe00 + i), FileSystemId = "fs-0123456789abcdef0",
                    CreationTime = 1704067200 + i }
      end
      server:seed{ backups = list }
    end
    -- every BackupId of every page, following NextToken up to `limit` pages
    local function listing(limit)
      local ids, pages, token = {}, 0, nil
      repeat
        local res = server:signed_request("DescribeBackups", { MaxResults = 2, NextToken = token })
        assert.equal(200, res.status)
        for _, b in ipairs(res.json.Backups) do ids[#ids + 1] = b.BackupId:sub(-1) end
        token = res.json.NextToken
        pages = pages + 1
      until token == nil or pages >= limit
      return table.concat(ids, " "), pages, token
    end

    it("repeats items across pages (page_overlap) and within one (page_repeat)", function()
      seed_five()
      assert.equal("1 2 3 4 5", (listing(10)))
      server:config{ page_overlap = 1 }
      assert.equal("1 2 2 3 3 4 4 5", (listing(10)))
      server:config{ page_overlap = 0, page_repeat = 1 }
      assert.equal("1 1 2 2 3 3 4 4 5 5", (listing(10)))
    end)

    it("hands out fresh NextTokens forever with endless_pages", function()
      seed_five()
      server:config{ endless_pages = 1 }
      local ids, pages, token = listing(8)
      assert.equal("1 2 3 4 5", ids)
      assert.equal(8, pages)
      assert.truthy(token)
    end)
  end)

  it("refuses DeleteBackup for an AWS_BACKUP backup", function()
    local id = server:seed{ backups = { { FileSystemId = "fs-0123456789abcdef0", Type = "AWS_BACKUP" } } }.backups[1]
    local res = server:signed_request("DeleteBackup", { BackupId = id })
    assert.equal(400, res.status)
    assert.equal("BadRequest", res.json.__type)
    assert.equal(1, #server:signed_request("DescribeBackups", { BackupIds = { id } }).json.Backups)
  end)

  it("downloads a restored volume's data on second-generation ONTAP, then COMPLETED", function()
    server:config{ backup_seconds = 0, restore_seconds = 0, download_seconds = 1000 }
    server:seed{
      file_systems = { { FileSystemId = "fs-0abcdef0123456782", FileSystemType = "ONTAP",
                         OntapConfiguration = { DeploymentType = "MULTI_AZ_2" } } },
      storage_virtual_machines = { { StorageVirtualMachineId = "svm-0123456789abcdef2",
                                     FileSystemId = "fs-0abcdef0123456782" } },
      backups = { { BackupId = "backup-0000000000000e201", VolumeId = "fsvol-0123456789abcdef0" } },
    }
    local res = server:signed_request("CreateVolumeFromBackup", { BackupId = "backup-0000000000000e201",
      Name = "r", OntapConfiguration = { StorageVirtualMachineId = "svm-0123456789abcdef2" } })
    assert.equal(200, res.status, res.body)
    local vid = res.json.Volume.VolumeId
    local vol = server:signed_request("DescribeVolumes", { VolumeIds = { vid } }).json.Volumes[1]
    assert.equal("CREATED", vol.Lifecycle)
    assert.equal("DOWNLOAD_DATA_FROM_BACKUP", vol.AdministrativeActions[1].AdministrativeActionType)
    assert.equal("IN_PROGRESS", vol.AdministrativeActions[1].Status)
    server:control("POST", "/_fsx/resource/" .. vid, { AdministrativeActions = { {
      AdministrativeActionType = "DOWNLOAD_DATA_FROM_BACKUP", Status = "COMPLETED", ProgressPercent = 100 } } })
    vol = server:signed_request("DescribeVolumes", { VolumeIds = { vid } }).json.Volumes[1]
    assert.equal("COMPLETED", vol.AdministrativeActions[1].Status)
    -- a first-generation file system has no download
    res = server:signed_request("CreateVolumeFromBackup", { BackupId = "backup-0000000000000e201",
      Name = "r1", OntapConfiguration = { StorageVirtualMachineId = "svm-0123456789abcdef0" } })
    vol = server:signed_request("DescribeVolumes", { VolumeIds = { res.json.Volume.VolumeId } }).json.Volumes[1]
    assert.is_nil(vol.AdministrativeActions)
  end)
end)
