-- The two clocks have one name each: `now` is the wall clock (epoch seconds,
-- what SigV4 signs), `monotime` the monotonic clock (timeouts, deadlines,
-- backoff, waits). A custom `now` never drives the monotonic clock.
local fsx = require "fsx"
local clock = require "fsx.clock"
local helpers = require "helpers"

-- A transport answering every request with a retryable 503.
local function unavailable()
  return { status = 503, headers = { ["x-amzn-requestid"] = "r" },
           body = '{"__type":"ServiceUnavailableException","message":"busy"}' }
end

local function client(opts)
  local o = { region = "us-east-1", endpoint_url = "http://127.0.0.1:1",
              credentials = helpers.credentials(), transport = unavailable }
  for k, v in pairs(opts or {}) do o[k] = v end
  return fsx.new(o)
end

describe("clocks", function()
  it("a custom now is the wall clock only: the monotonic clock stays the library's", function()
    local wall = function() return 1700000000 end
    local c = client{ now = wall }
    assert.equal(wall, c.now)
    assert.equal(clock.monotime, c.monotime)
    local mono = function() return 5 end
    c = client{ now = wall, monotime = mono }
    assert.equal(mono, c.monotime)
  end)

  it("a frozen wall clock does not freeze the call's deadline", function()
    -- deadline 0.3 s, backoff up to 0.02 s, 50 attempts allowed: only a
    -- deadline measured on the monotonic clock ends the call before them
    local c = client{ now = function() return 1700000000 end, deadline = 0.3, max_attempts = 50,
                      retry_base = 0.01, max_backoff = 0.02, retry_quota = 10000 }
    local ok, err = pcall(c.describe_backups, c, {})
    assert.is_false(ok)
    assert.equal("DeadlineExceeded", err.code, tostring(err))
    assert.is_true(err.attempts < 50)
  end)

  it("the waiter's clock option is monotime; now is refused with that hint", function()
    local waiter = require "fsx.waiter"
    local mono = function() return 1 end
    assert.equal(mono, waiter.options({ monotime = mono }, "wait_for_backup").monotime)
    assert.equal(clock.monotime, waiter.options({}, "wait_for_backup").monotime)
    local ok, err = pcall(waiter.options, { now = os.time }, "wait_for_backup")
    assert.is_false(ok)
    assert.equal("validation", err.kind)
    assert.truthy(err.message:find("monotime", 1, true), err.message)
  end)

  it("the adaptive retry limiter reads the monotonic clock", function()
    local retry = require "fsx.retry"
    local t, reads = 100, 0
    retry.new{ mode = "adaptive", monotime = function() reads = reads + 1 return t end }
    assert.is_true(reads > 0)
    assert.equal(clock.monotime, retry.new{ mode = "adaptive" }.limiter.monotime)
  end)
end)
