--- Retries as the AWS SDKs do them: "standard" and "adaptive" modes.
--
-- Standard: up to `max_attempts` attempts; throttling, transient errors,
-- HTTP 500/502/503/504, transport failures and garbled responses are retried
-- after a full-jitter backoff `random() * min(max_backoff, base * 2^(attempt-1))`;
-- a retry quota per client (500 tokens, a retry costs 5, a retry after a
-- timeout 10, a success gives 1 back or the cost of its own retries) stops a
-- failing endpoint from being hammered. Adaptive adds a client-side token
-- bucket whose rate follows CUBIC: cut on throttling, regrown on success.
-- @module fsx.retry
local set = require("fsx.util").set

local M = {}

M.THROTTLING = set{
  "Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException",
  "TooManyRequestsException", "ProvisionedThroughputExceededException",
  "TransactionInProgressException", "RequestLimitExceeded", "BandwidthLimitExceeded",
  "LimitExceededException", "RequestThrottled", "SlowDown", "PriorRequestNotComplete",
  "EC2ThrottledException",
}
M.TRANSIENT = set{ "RequestTimeout", "RequestTimeoutException", "PriorRequestNotComplete",
                   "InternalServerError" }
M.TRANSIENT_STATUS = { [500] = true, [502] = true, [503] = true, [504] = true }
-- Transport failures that another attempt cannot fix.
M.PERMANENT_TRANSPORT = set{
  "CURLE_UNSUPPORTED_PROTOCOL", "CURLE_URL_MALFORMAT", "CURLE_PEER_FAILED_VERIFICATION",
  "CURLE_SSL_CACERT_BADFILE", "CURLE_SSL_CERTPROBLEM", "CURLE_SSL_CIPHER",
  "CURLE_SSL_ISSUER_ERROR", "CURLE_SSL_CRL_BADFILE", "CURLE_SSL_PINNEDPUBKEYNOTMATCH",
  "CURLE_NOT_BUILT_IN", "CURLE_FUNCTION_NOT_FOUND", "CURLE_BAD_FUNCTION_ARGUMENT",
  "CURLE_OUT_OF_MEMORY", "ResponseTooLarge", "HeadersTooLarge", "InvalidHeader",
  "InvalidMethod", "CertificateVerifyFailed", "NoResolver", "InvalidPath", "InvalidRequest",
  "INTERRUPTED",
}

-- Clock skew (as the AWS SDKs for JavaScript v3 and Go v2 read it): these
-- codes always, the signature ones when their message says the signature
-- expired or is not yet current.
M.CLOCK_SKEW = set{ "RequestTimeTooSkewed", "RequestExpired", "RequestInTheFuture" }
M.CLOCK_SKEW_SIGNATURE = set{ "InvalidSignatureException", "SignatureDoesNotMatch" }
--- Seconds between the service's `Date` and the local clock past which a
-- clock-skew error corrects the client's clock.
M.MAX_SKEW = 300
-- Session credentials the service says have expired.
M.EXPIRED_TOKEN = set{ "ExpiredToken", "ExpiredTokenException", "TokenRefreshRequired" }

--- True when a service error says the request's time was too far from the service's.
function M.is_clock_skew(err)
  if err.kind ~= "service" then return false end
  if M.CLOCK_SKEW[err.code] then return true end
  if not M.CLOCK_SKEW_SIGNATURE[err.code] then return false end
  local msg = string.lower(tostring(err.message or ""))
  return msg:find("signature expired", 1, true) ~= nil
    or msg:find("not yet current", 1, true) ~= nil
    or msg:find("signature not yet valid", 1, true) ~= nil
end

--- True when a service error says the session credentials have expired.
function M.is_expired_token(err)
  return err.kind == "service" and M.EXPIRED_TOKEN[err.code] == true
end

--- Classify an error: retryable?, throttling?, timeout?
function M.classify(err)
  local kind, code = err.kind, err.code
  if kind == "service" then
    -- a 429 is throttling whatever its body (a load balancer's HTML page),
    -- as the AWS SDKs for JavaScript v3 and Java v2 count it
    local throttle = M.THROTTLING[code] == true or err.status == 429
    return throttle or M.TRANSIENT[code] == true or M.TRANSIENT_STATUS[err.status] == true,
      throttle, false
  elseif kind == "timeout" then
    return true, false, true
  elseif kind == "transport" then
    return not M.PERMANENT_TRANSPORT[code], false, false
  elseif kind == "decode" then
    return true, false, false
  end
  return false, false, false
end

-- ---------------------------------------------------------------------------
-- Adaptive mode: measured send rate, CUBIC, token bucket.

local Limiter = {}
Limiter.__index = Limiter

local BETA, SCALE, MIN_RATE, SMOOTH, BUCKET = 0.7, 0.4, 0.5, 0.8, 0.5

local function new_limiter(monotime)
  return setmetatable({
    monotime = monotime, enabled = false, tokens = 0, fill_rate = MIN_RATE, capacity = 1,
    last_refill = nil, measured = 0, count = 0, last_bucket = math.floor(monotime() / BUCKET) * BUCKET,
    w_max = 0, last_fail = monotime(), k = 0,
  }, Limiter)
end

function Limiter:refill(t)
  if self.last_refill then
    self.tokens = math.min(self.capacity, self.tokens + (t - self.last_refill) * self.fill_rate)
  end
  self.last_refill = t
end

--- Seconds to wait before the next send (0 when a token is there), taking it.
function Limiter:acquire()
  if not self.enabled then return 0 end
  local t = self.monotime()
  self:refill(t)
  if self.tokens >= 1 then
    self.tokens = self.tokens - 1
    return 0
  end
  local wait = (1 - self.tokens) / self.fill_rate
  self.tokens = 0
  self.last_refill = t + wait
  return wait
end

function Limiter:set_rate(rate)
  local t = self.monotime()
  self:refill(t)
  self.fill_rate = math.max(rate, MIN_RATE)
  self.capacity = math.max(rate, 1)
  self.tokens = math.min(self.tokens, self.capacity)
end

function Limiter:measure(t)
  local bucket = math.floor(t / BUCKET) * BUCKET
  self.count = self.count + 1
  if bucket > self.last_bucket then
    local rate = self.count / (bucket - self.last_bucket)
    self.measured = rate * SMOOTH + self.measured * (1 - SMOOTH)
    self.count = 0
    self.last_bucket = bucket
  end
  return self.measured
end

--- Feed the outcome of one response into the rate.
function Limiter:update(throttled)
  local t = self.monotime()
  local measured = self:measure(t)
  local rate
  if throttled then
    local use = self.enabled and math.min(measured, self.fill_rate) or measured
    self.enabled = true
    self.w_max = use
    self.k = (self.w_max * (1 - BETA) / SCALE) ^ (1 / 3)
    self.last_fail = t
    rate = use * BETA
  else
    if not self.enabled then return end
    rate = SCALE * (t - self.last_fail - self.k) ^ 3 + self.w_max
  end
  self:set_rate(math.min(rate, 2 * math.max(measured, MIN_RATE)))
end

M.new_limiter = new_limiter

-- ---------------------------------------------------------------------------
-- The strategy, one per client.

local Strategy = {}
Strategy.__index = Strategy

--- A retry strategy.
-- @tparam table o `mode` ("standard"|"adaptive"), `max_attempts` (3), `base`
--   (1 s), `max_backoff` (20 s), `random` (function -> [0,1)), `monotime`
--   (the monotonic clock of the adaptive mode's rate limiter), `quota` (500)
function M.new(o)
  o = o or {}
  local s = setmetatable({
    mode = o.mode or "standard",
    max_attempts = o.max_attempts or 3,
    base = o.base or 1,
    max_backoff = o.max_backoff or 20,
    random = o.random or math.random,
    capacity = o.quota or 500,
    retry_cost = 5, timeout_cost = 10, success_credit = 1,
  }, Strategy)
  s.tokens = s.capacity
  if s.mode == "adaptive" then s.limiter = new_limiter(o.monotime or require("fsx.clock").monotime) end
  return s
end

--- Backoff before attempt `attempt + 1`, in seconds.
function Strategy:backoff(attempt)
  local cap = math.min(self.max_backoff, self.base * 2 ^ (attempt - 1))
  return self.random() * cap
end

--- Take the quota a retry after `err` costs; nil when the quota is spent.
function Strategy:acquire(is_timeout)
  local cost = is_timeout and self.timeout_cost or self.retry_cost
  if self.tokens < cost then return nil end
  self.tokens = self.tokens - cost
  return cost
end

--- A call succeeded after having taken `spent` quota on its retries.
function Strategy:succeeded(spent)
  local credit = (spent and spent > 0) and spent or self.success_credit
  self.tokens = math.min(self.capacity, self.tokens + credit)
end

--- Adaptive: seconds to wait before sending (0 in standard mode).
function Strategy:before_send()
  if self.limiter then return self.limiter:acquire() end
  return 0
end

--- Adaptive: tell the limiter how a response went.
function Strategy:after_response(throttled)
  if self.limiter then self.limiter:update(throttled) end
end

return M
