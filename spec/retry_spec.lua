local retry = require "fsx.retry"

describe("fsx.retry", function()
  it("classifies errors", function()
    local function c(e) return { retry.classify(e) } end
    assert.same({ true, true, false }, c{ kind = "service", code = "ThrottlingException", status = 400 })
    assert.same({ true, false, false }, c{ kind = "service", code = "InternalServerError", status = 500 })
    assert.same({ true, false, false }, c{ kind = "service", code = "HTTP503", status = 503 })
    assert.same({ false, false, false }, c{ kind = "service", code = "BadRequest", status = 400 })
    assert.same({ false, false, false }, c{ kind = "service", code = "FileSystemNotFound", status = 400 })
    assert.same({ true, false, true }, c{ kind = "timeout", code = "CURLE_OPERATION_TIMEDOUT" })
    assert.same({ true, false, false }, c{ kind = "transport", code = "CURLE_COULDNT_CONNECT" })
    assert.same({ false, false, false }, c{ kind = "transport", code = "CURLE_PEER_FAILED_VERIFICATION" })
    assert.same({ true, false, false }, c{ kind = "decode", code = "InvalidResponse" })
    assert.same({ false, false, false }, c{ kind = "validation" })
    assert.same({ false, false, false }, c{ kind = "credentials" })
    for code in pairs(retry.THROTTLING) do
      assert.is_true((retry.classify{ kind = "service", code = code, status = 400 }))
    end
  end)

  it("backs off with full jitter capped at max_backoff", function()
    local r = 1
    local s = retry.new{ random = function() return r end, base = 1, max_backoff = 20 }
    assert.equal(1, s:backoff(1))
    assert.equal(2, s:backoff(2))
    assert.equal(4, s:backoff(3))
    assert.equal(16, s:backoff(5))
    assert.equal(20, s:backoff(6))
    assert.equal(20, s:backoff(30))
    r = 0.5
    assert.equal(2, s:backoff(3))
    local b = retry.new{ random = function() return 1 end, base = 0.1 }
    assert.equal(0.4, b:backoff(3))
  end)

  it("spends and refills the retry quota", function()
    local s = retry.new{}
    assert.equal(500, s.tokens)
    assert.equal(5, s:acquire(false))
    assert.equal(10, s:acquire(true))
    assert.equal(485, s.tokens)
    s:succeeded(10)        -- a retried success gives its cost back
    assert.equal(495, s.tokens)
    s:succeeded(nil)       -- a first-try success gives 1
    assert.equal(496, s.tokens)
    s:succeeded(nil); s:succeeded(nil); s:succeeded(nil); s:succeeded(nil); s:succeeded(nil)
    assert.equal(500, s.tokens)  -- capped at capacity
  end)

  it("runs out of quota after 100 plain retries", function()
    local s = retry.new{}
    local n = 0
    while s:acquire(false) do n = n + 1 end
    assert.equal(100, n)
    assert.is_nil(s:acquire(false))
  end)

  describe("adaptive", function()
    it("does not limit before the first throttle", function()
      local t = 0
      local s = retry.new{ mode = "adaptive", monotime = function() return t end }
      for _ = 1, 50 do
        assert.equal(0, s:before_send())
        s:after_response(false)
        t = t + 0.01
      end
    end)

    it("slows down after throttling and recovers after successes", function()
      local t = 0
      local s = retry.new{ mode = "adaptive", monotime = function() return t end }
      -- a steady 20 requests per second
      for _ = 1, 40 do s:after_response(false); t = t + 0.05 end
      s:after_response(true)
      local lim = s.limiter
      assert.is_true(lim.enabled)
      local throttled_rate = lim.fill_rate
      assert.is_true(throttled_rate < 20)
      -- sending faster than the rate means waiting
      local waited = 0
      for _ = 1, 10 do waited = waited + s:before_send() end
      assert.is_true(waited > 0)
      -- much later, successes let the rate grow back
      for _ = 1, 100 do
        t = t + 0.1
        s:before_send()
        s:after_response(false)
      end
      assert.is_true(lim.fill_rate > throttled_rate)
    end)
  end)
end)
