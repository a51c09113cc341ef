local errors = require "fsx.error"

describe("fsx.error", function()
  it("builds errors with one metatable and a readable tostring", function()
    local e = errors.new{ kind = "service", code = "BackupInProgress", status = 400,
                          request_id = "req-1", message = "another backup is running",
                          operation = "CreateBackup" }
    assert.is_true(errors.is_error(e))
    assert.is_true(errors.is_error(e, "BackupInProgress"))
    assert.is_false(errors.is_error(e, "Other"))
    assert.equal("fsx service error BackupInProgress (HTTP 400, request req-1): another backup is running",
                 tostring(e))
    assert.is_false(e.retryable)
  end)

  it("raises with error(err, 0): no position prefix", function()
    local ok, e = pcall(errors.raise, { kind = "transport", code = "CURLE_COULDNT_CONNECT", message = "x" })
    assert.is_false(ok)
    assert.is_true(errors.is_error(e))
    assert.equal("x", e.message)
  end)

  it("validation errors name the operation and field", function()
    local ok, e = pcall(errors.raise_validation, "create_backup", "tags[3].key", "must be 1..128 characters")
    assert.is_false(ok)
    assert.equal("validation", e.kind)
    assert.equal("create_backup: tags[3].key: must be 1..128 characters", e.message)
    assert.equal("tags[3].key", e.field)
  end)

  it("is(...) checks one code or several", function()
    local e = errors.new{ kind = "service", code = "BackupInProgress" }
    assert.is_true(e:is("BackupInProgress"))
    assert.is_true(e:is("BackupRestoring", "BackupInProgress"))
    assert.is_false(e:is("BackupRestoring", "BackupNotFound"))
    assert.is_false(e:is())
  end)

  it("scrubs every string an error carries, nested ones too, leaving the caller's tables alone", function()
    errors.add_secret("nested-secret-value-0123")
    local owner = {}
    errors.add_secret("owned-secret-value-4567", owner)
    local backup = { tags = { { key = "k", value = "owned-secret-value-4567" } } }
    local e = errors.new{ kind = "service", code = "X", parameter = "nested-secret-value-0123?",
                          backup = backup, message = "m owned-secret-value-4567" }
    assert.equal("<redacted>?", e.parameter)
    assert.equal("<redacted>", e.backup.tags[1].value)
    assert.equal("m <redacted>", e.message)
    assert.equal("owned-secret-value-4567", backup.tags[1].value)
    assert.truthy(owner)
  end)

  it("rejects unknown kinds", function()
    assert.has_error(function() errors.new{ kind = "weird" } end)
  end)

  it("is_error is false for plain values", function()
    assert.is_false(errors.is_error("x"))
    assert.is_false(errors.is_error({ kind = "service" }))
    assert.is_false(errors.is_error(nil))
  end)

  it("scrubs registered secrets and signatures from messages", function()
    local secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY-scrub-test"
    errors.add_secret(secret)
    local e = errors.new{ kind = "transport", message = "oops " .. secret ..
      " Authorization: AWS4-HMAC-SHA256 Credential=A/B, SignedHeaders=host, Signature=abcdef0123" }
    assert.is_nil(e.message:find(secret, 1, true))
    assert.is_nil(e.message:find("abcdef0123", 1, true))
    assert.truthy(e.message:find("<redacted>", 1, true))
  end)

  it("keeps scrubbing a secret still in use while 100 others come and go", function()
    local function scrubbed(secret)
      local e = errors.new{ kind = "transport", message = "x " .. secret .. " y" }
      return e.message:find(secret, 1, true) == nil
    end
    -- secrets sharing no 12 characters: a piece of one is not a piece of another
    local function rotated(i) return ("rotated-%04d-%08x%08x"):format(i, i * 7919, i * 104729) end
    local in_use = "in-use-secret-" .. ("s"):rep(20)
    local gone = "forgotten-secret-" .. ("g"):rep(20)
    errors.add_secret(gone)
    errors.add_secret(in_use)
    assert.is_true(scrubbed(gone))
    for i = 1, 100 do
      errors.add_secret(rotated(i))
      errors.add_secret(in_use) -- as every signature registers its secrets
    end
    assert.is_true(scrubbed(in_use))
    assert.is_true(scrubbed(rotated(100)))
    -- the least recently registered were forgotten, and come back when registered again
    assert.is_false(scrubbed(gone))
    assert.is_false(scrubbed(rotated(1)))
    errors.add_secret(gone)
    assert.is_true(scrubbed(gone))
    assert.is_true(scrubbed(in_use))
  end)

  it("finds a secret in any spelling, also across the windows a large text is read in", function()
    local secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYwindowTESTkey"
    errors.add_secret(secret)
    local pct = secret:gsub("[/+]", function(c) return ("%%%02X"):format(c:byte()) end)
    local wrapped = secret:sub(1, 20) .. "\r\n  " .. secret:sub(21)
    for _, form in ipairs{ secret, pct, wrapped, secret:gsub("/", "\\/"), secret:sub(1, 18) .. "..." } do
      for _, at in ipairs{ 1, 65536 - 10, 65536 + 16384 - 20, 200000 } do
        local text = ("x\n"):rep(math.floor(at / 2)) .. form .. ("y\n"):rep(100)
        local out = errors.scrub(text)
        assert.is_nil(out:find(secret:sub(5, 20), 1, true), form .. " at " .. at)
        assert.truthy(out:find("<redacted>", 1, true))
      end
    end
  end)

  it("reads a large text a window at a time (bounded memory)", function()
    local body = ('{"BackupId":"backup-0123456789abcdef0","Message":"50%% done\\/"},\n'):rep(120000)
    collectgarbage()
    local before, peak = collectgarbage("count"), 0
    -- the heap sampled as the scrub runs, the collector at work
    debug.sethook(function()
      peak = math.max(peak, collectgarbage("count") - before)
    end, "", 1000)
    local out = errors.scrub(body)
    debug.sethook()
    assert.equal(body, out)
    -- a per-character map of the whole text would take hundreds of MiB
    assert.is_true(peak < 100 * 1024, ("%.0f KiB"):format(peak))
  end)

  it("finds a piece of a secret at any place of a long run of token characters", function()
    local secret = "QkVHSU4gU0VDUkVUIGtleSBtYXRlcmlhbCBmb3IgdGhlIHJ1bg"
    errors.add_secret(secret)
    local filler = ("ABCDEFGHabcdefgh0123"):rep(50)
    for shift = 0, 17 do
      for _, piece in ipairs{ secret:sub(3, 18), secret:sub(20, 40), secret } do
        local text = filler:sub(1, 100 + shift) .. piece .. filler:sub(1, 37)
        local out = errors.scrub(text)
        assert.is_nil(out:find(piece, 1, true), "shift " .. shift)
        assert.equal("<redacted>", out)
      end
    end
    -- and nothing else: a run sharing only 15 characters stays
    local near = filler .. secret:sub(1, 15) .. filler
    assert.equal(near, errors.scrub(near))
  end)
end)

