-- The fault-injection suite: 500 create_backup calls against the local
-- FSx server injecting ~30% faults of every kind, and not one duplicate backup.
local fsx = require "fsx"
local helpers = require "helpers"

local CALLS = tonumber(os.getenv("FSX_FAULT_CALLS") or "500")

describe("exactly-once backups under faults", function()
  local server

  lazy_setup(function()
    server = helpers.start_fsx_server()
  end)

  lazy_teardown(function()
    if server then server:stop() end
  end)

  it("creates one backup per successful call and none extra", function()
    server:reset()
    -- instant backups, so a file system is never busy with a CREATING one
    server:config{ backup_seconds = 0, limit = 100000 }
    local kinds = { "throttle", "error500", "html503", "reset_before", "reset_after",
                    "delay_after", "truncated", "malformed_json", "wrong_content_type" }
    local faults = {}
    for _, k in ipairs(kinds) do
      faults[#faults + 1] = { kind = k, rate = 0.3 / #kinds, operation = "CreateBackup",
                              seconds = k == "delay_after" and 0.6 or nil }
    end
    server:faults(faults, 20261126)

    local creds = helpers.credentials()
    local client = fsx.new{ region = "us-east-1", endpoint_url = server.url, credentials = creds,
                            timeout = 0.3, connect_timeout = 1, retry_base = 0.002,
                            max_attempts = 3, retry_quota = 100000, transport = "curl" }
    local ok_calls, failed_calls = {}, {}
    for i = 1, CALLS do
      local args = { file_system_id = "fs-0123456789abcdef0", tags = { Name = "fault-" .. i } }
      -- half the calls bring their own token, half rely on the auto-filled one
      if i % 2 == 0 then args.client_request_token = "fault-run-" .. i end
      local ok, backup, meta = pcall(client.create_backup, client, args)
      if ok then
        ok_calls[#ok_calls + 1] = { token = meta.client_request_token, id = backup.backup_id }
      else
        local e = backup
        assert.is_true(fsx.is_error(e), tostring(e))
        assert.is_true(e.retryable, "a non-retryable error slipped through: " .. tostring(e))
        assert.equal(3, e.attempts)
        assert.is_string(e.client_request_token)
        failed_calls[#failed_calls + 1] = { token = e.client_request_token, code = e.code }
      end
    end

    local state = server:state()
    local by_token, extra = {}, 0
    for _, b in ipairs(state.backups) do
      if b.ClientRequestToken then
        by_token[b.ClientRequestToken] = (by_token[b.ClientRequestToken] or 0) + 1
      else
        extra = extra + 1
      end
    end
    local duplicates = 0
    for _, n in pairs(by_token) do if n > 1 then duplicates = duplicates + 1 end end
    assert.equal(0, duplicates)
    assert.equal(0, extra)
    -- every successful call's backup is the server's one backup for its token
    local ids = {}
    for _, b in ipairs(state.backups) do ids[b.ClientRequestToken] = b.BackupId end
    for _, c in ipairs(ok_calls) do assert.equal(ids[c.token], c.id) end
    -- and every backup the server holds belongs to a call we made
    local known = {}
    for _, c in ipairs(ok_calls) do known[c.token] = true end
    for _, c in ipairs(failed_calls) do known[c.token] = true end
    local strays = 0
    for token in pairs(by_token) do if not known[token] then strays = strays + 1 end end
    assert.equal(0, strays)
    local faults_seen = state.counters and state.counters.faults_injected
    print(("\n  faults suite: %d calls, %d succeeded, %d raised retryable errors, %d backups on the server, %s faults injected, 0 duplicates")
      :format(CALLS, #ok_calls, #failed_calls, #state.backups, tostring(faults_seen)))
    assert.is_true(#ok_calls >= CALLS * 0.9)
  end)
end)
