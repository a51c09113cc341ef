--- The credential provider chain, its cache and its refresh.
--
-- Layer: Lua layer; depends on `fsx.config` and the sources in
-- `fsx.credentials.*`. Sources, in the SDKs' default order:
--
-- 1. `explicit`: the `credentials` option (table or function);
-- 2. `env`: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN
--    (skipped when the `profile` option names a profile);
-- 3. `web-identity`: AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN (after the
--    selected profile's `role_arn` with `source_profile` or
--    `credential_source`, which botocore tries first);
-- 4. `profile`: the shared files (roles, IAM Identity Center, static keys,
--    credential_process);
-- 5. `container`: AWS_CONTAINER_CREDENTIALS_RELATIVE_URI / _FULL_URI;
-- 6. `imds`: EC2 instance metadata, IMDSv2.
--
-- The first source that yields credentials is kept; later refreshes ask that
-- source again. A source that is configured but fails raises its error; when
-- no source yields anything the error `CredentialsNotFound` lists every source
-- and why it gave nothing (field `tried`). No message carries a secret: every
-- secret key, session token and bearer token obtained is registered with
-- `fsx.error.add_secret`.
--
-- Cache and refresh: credentials without an expiration are kept for the life
-- of the provider. Temporary ones are refreshed once fewer than
-- `advisory` seconds (default 300) remain; while one refresh is in flight,
-- other callers keep using the current credentials as long as more than
-- `mandatory` seconds (default 60) remain, and otherwise wait for that
-- refresh instead of starting another. A failed refresh while the old
-- credentials are still good keeps them and waits 10 s before trying again.
--
-- Concurrency: under OpenResty several light threads of one worker may call
-- `get()` at once and the transport yields while a refresh is in flight.
-- There is at most one refresh in flight (a "flight": the load, its outcome
-- and a semaphore for its waiters); every caller that needs fresh
-- credentials waits for it instead of starting another. Inside Nginx the load
-- runs in a timer of its own (`ngx.timer.at(0, ...)`), not in the request's
-- light thread: a client abort that kills that thread cannot kill the load,
-- so the waiters get its outcome within the source's own timeouts; and a
-- caller whose credentials are still good past `mandatory` does not wait for
-- it at all. Elsewhere
-- (or through `deps.spawn`) the caller runs the load itself. Waiters block on
-- a semaphore made for the flight (`deps.semaphore()`, or `ngx.semaphore`
-- inside Nginx) or else sleep in 10 ms steps on `deps.sleep`. A flight that
-- has not ended after `wait_limit` seconds (default 30; its caller never came
-- back) is abandoned: the first waiter to notice starts one new flight and
-- the others wait for that one; when that one runs over too, the error
-- `CredentialsRefreshTimeout` is raised. Plain Lua 5.1 cannot yield across
-- `pcall`, so concurrent refresh through yielding transports needs LuaJIT or
-- Lua 5.2+.
-- @module fsx.credentials
local config = require("fsx.config")

local M = {}

-- A source in the chain before its module is loaded: its name, and a `load`
-- that requires the module when the chain first reaches it (other fields
-- read through to the module). A client with explicit or environment
-- credentials thus never loads the profile, STS (and lua-expat), container
-- or IMDS code.
local function lazy_source(name, module)
  local source = { name = name, module = module }
  function source.load(ctx)
    return require(module).load(ctx)
  end
  return setmetatable(source, { __index = function(_, k) return require(module)[k] end })
end

--- The sources in chain order: each has `name` (as in the `tried` list of
-- `CredentialsNotFound`), `module` and `load(ctx)`, which loads its module
-- (`fsx.credentials.static`, ...) on first use.
M.SOURCES = {
  lazy_source("explicit", "fsx.credentials.static"),
  lazy_source("env", "fsx.credentials.env"),
  lazy_source("web-identity", "fsx.credentials.web_identity"),
  lazy_source("profile", "fsx.credentials.profile"),
  lazy_source("container", "fsx.credentials.container"),
  lazy_source("imds", "fsx.credentials.imds"),
}

local Provider = {}
Provider.__index = Provider

-- Seconds of static stability (see Provider:extend).
local STABILITY = 300
-- Seconds a CredentialsExpired error stands before the source is asked again.
local HOLD = 10

local function default_now()
  local ok, clock = pcall(require, "fsx.clock")
  if ok and type(clock) == "table" and clock.now then return clock.now end
  local cok, core = pcall(require, "fsx.core")
  if cok and type(core) == "table" and core.time then return core.time end
  return os.time
end

local function default_sleep()
  local ok, clock = pcall(require, "fsx.clock")
  if ok and type(clock) == "table" and clock.sleep then return clock.sleep end
  local cok, core = pcall(require, "fsx.core")
  if cok and type(core) == "table" and core.sleep then return core.sleep end
  return nil
end

-- Inside Nginx, in a phase that may yield: the ngx table, else nil.
local function yielding_ngx()
  local ngx_ = rawget(_G, "ngx")
  if type(ngx_) ~= "table" or type(ngx_.get_phase) ~= "function" then return nil end
  local ok, clock = pcall(require, "fsx.clock")
  if ok and clock.can_yield() then return ngx_ end
  return nil
end

-- A new semaphore for a flight's waiters, or nil when waiters must sleep.
local function default_semaphore()
  if not yielding_ngx() then return nil end
  local ok, sem = pcall(require, "ngx.semaphore")
  if ok and sem then return (sem.new(0)) end
  return nil
end

-- Run fn detached from the caller (an Nginx timer); false when that is not
-- possible here and the caller must run it.
local function default_spawn(fn)
  local ngx_ = yielding_ngx()
  if not (ngx_ and ngx_.timer and ngx_.timer.at) then return false end
  return ngx_.timer.at(0, function() fn() end) ~= nil
end

-- Options that are lengths of time: a zero would mean "no limit" to the
-- transport (a black-holed STS would hang the caller for ever).
local POSITIVE = { "sts_timeout", "sts_connect_timeout", "credentials_wait_limit" }

--- Create a provider.
-- @tparam ?table opts the options of `fsx.new` (`credentials`, `profile`,
--   `sts_timeout`, `credentials_advisory_window`, `credentials_mandatory_window`,
--   `credentials_wait_limit`, `sts_endpoint_url`, `getenv`)
-- @tparam ?table settings from `fsx.config.resolve` (resolved here when nil)
-- @tparam ?table deps `transport`, `now`, `sleep`, `sign`, `user_agent`,
--   `semaphore` (returns a new `ngx.semaphore`-like object: `wait(timeout)`,
--   `post(n)`), `spawn(fn)` (runs fn detached, true when it will)
-- @treturn table provider with `get()`, `invalidate()`
function M.new(opts, settings, deps)
  opts = opts or {}
  for _, k in ipairs(POSITIVE) do
    local v = opts[k]
    if v ~= nil and not (type(v) == "number" and v > 0 and v < math.huge) then
      require("fsx.error").raise_validation("new", k, "must be a number of seconds above 0")
    end
  end
  settings = settings or config.resolve(opts)
  deps = deps or {}
  local getenv = settings.getenv or config.getenv_of(opts)
  local ctx = {
    opts = opts, settings = settings, deps = deps, getenv = getenv,
    shared = settings.shared or config.load_shared(opts),
    now = deps.now or default_now(),
    user_agent = deps.user_agent or settings.user_agent,
    timeouts = {
      imds = 1,
      container = settings.metadata_timeout or 2,
      sts_connect = opts.sts_connect_timeout or 3,
      sts = opts.sts_timeout or 10,
    },
  }
  local self = setmetatable({
    ctx = ctx,
    sleep = deps.sleep or default_sleep(),
    new_semaphore = deps.semaphore or default_semaphore,
    -- an ngx.semaphore may only be waited on in a phase that can yield
    can_block = deps.semaphore and function() return true end
      or function() return yielding_ngx() ~= nil end,
    spawn = deps.spawn or default_spawn,
    advisory = tonumber(opts.credentials_advisory_window) or 300,
    mandatory = tonumber(opts.credentials_mandatory_window) or 60,
    wait_limit = opts.credentials_wait_limit or 30,
    sources = M.SOURCES,
  }, Provider)
  return self
end

-- Run the chain; keep the source that answered.
function Provider:resolve_chain()
  local ctx = self.ctx
  local tried = {}
  for _, src in ipairs(self.sources) do
    local c, why = src.load(ctx)
    if c then
      self.source = src
      return c
    end
    tried[#tried + 1] = { source = src.name, reason = why or "nothing found" }
  end
  local lines = {}
  for i, t in ipairs(tried) do lines[i] = t.source .. ": " .. t.reason end
  require("fsx.credentials.util").raise{
    code = "CredentialsNotFound", tried = tried,
    message = "no credentials found; tried " .. table.concat(lines, "; "),
  }
end

-- One load: the kept source, or the whole chain the first time. Credentials
-- that are already expired when they arrive are an error (botocore's too):
-- the service would refuse them with ExpiredToken.
function Provider:load()
  local util = require("fsx.credentials.util")
  local c
  if not self.source then
    c = self:resolve_chain()
  else
    local why
    c, why = self.source.load(self.ctx)
    if not c then
      util.raise{
        code = "CredentialsNotFound", source = self.source.name,
        message = self.source.name .. ": refresh found no credentials: " .. tostring(why),
      }
    end
  end
  local now = self.ctx.now()
  if self.source.static_stability then self:extend(c, now) end
  if c.expiration and c.expiration <= now then
    util.raise{
      code = "CredentialsExpired", source = self.source.name, expiration = c.expiration,
      message = string.format("%s: the credentials it gave expired at %s (now %s)",
        self.source.name, util.format_time(c.expiration), util.format_time(now)),
    }
  end
  return c
end

local function remaining(c, now)
  if not c.expiration then return math.huge end
  return c.expiration - now
end

-- Static stability (botocore, Java v2): credentials from a source that
-- serves them past their time during an outage (IMDS) are used a few more
-- minutes when they come close to expiry or already expired, or when a
-- refresh fails, instead of asking on every call or failing every call. The
-- next refresh comes 5 to 10 minutes later (jittered, so that a fleet does
-- not ask at once); `reported_expiration` keeps what the source said.
function Provider:extend(c, now)
  if c.expiration and c.expiration - now <= self.advisory + STABILITY then
    c.reported_expiration = c.reported_expiration or c.expiration
    c.expiration = now + self.advisory + STABILITY + math.random(0, STABILITY)
  end
  return c
end

-- Record the end of a flight and wake its waiters. A successful load is
-- cached even when the flight was abandoned meanwhile (it is the newest).
function Provider:finish(flight, ok, res)
  local now = self.ctx.now()
  if ok then
    self.retry_at, self.held = nil, nil
    if res.no_cache then
      res.no_cache = nil
      self.cached = nil
    else
      self.cached = res
    end
  else
    local old = flight.old
    if old and remaining(old, now) > self.mandatory then
      -- the old credentials are still good: use them, try again a bit later
      self.retry_at = now + 10
      flight.fallback = old
    elseif old and self.source and self.source.static_stability then
      local copy = {}
      for k, v in pairs(old) do copy[k] = v end
      self.cached = self:extend(copy, now)
      flight.fallback = self.cached
    elseif type(res) == "table" and res.code == "CredentialsExpired" then
      -- asking again at once would give the same expired credentials: the
      -- error stands for HOLD seconds, without running the source again
      self.held = { err = res, ["until"] = now + HOLD }
    end
  end
  flight.ok, flight.value, flight.done = ok, res, true
  if self.flight == flight then self.flight = nil end
  if flight.sem and flight.waiters > 0 then flight.sem:post(flight.waiters) end
end

-- Start a flight: the load runs detached when `spawn` can, else right here.
function Provider:start(old)
  local flight = { old = old, waiters = 0, sem = self.new_semaphore() }
  self.flight = flight
  local function run()
    local ok, res = pcall(self.load, self)
    self:finish(flight, ok, res)
  end
  if not self.spawn(run) then run() end
  return flight
end

-- Wait for a flight to end: true when it did, false when it ran over
-- `wait_limit` or this caller has no way to wait (no sleep; or a phase of
-- Nginx that cannot yield, where blocking would also stop the flight).
function Provider:await(flight)
  local waited = 0
  while not flight.done do
    if waited >= self.wait_limit then return false end
    local step = math.min(1, self.wait_limit - waited)
    if flight.sem then
      if not self.can_block() then return false end
      flight.waiters = flight.waiters + 1
      if not flight.sem:wait(step) then
        flight.waiters = flight.waiters - 1
        waited = waited + step
      end
    elseif self.sleep then
      self.sleep(0.01)
      waited = waited + 0.01
    else
      return false
    end
  end
  return true
end

--- The current credentials, loading or refreshing them when needed.
-- @treturn table `access_key_id`, `secret_access_key`, `session_token`,
--   `expiration` (epoch seconds or nil), `source`; treat it as read-only
-- @raise credentials error (`CredentialsNotFound`, `CredentialsExpired`,
--   `CredentialsRefreshTimeout` or the failing source's)
function Provider:get()
  local now = self.ctx.now()
  local c = self.cached
  if c and remaining(c, now) > self.advisory then return c end
  if c and remaining(c, now) > self.mandatory
     and (self.flight or (self.retry_at and now < self.retry_at)) then
    return c
  end
  local held = self.held
  if held and now < held["until"] and not self.flight then error(held.err, 0) end
  local flight = self.flight or self:start(c)
  -- a detached refresh of credentials that are still good: no need to wait
  if not flight.done and c and remaining(c, now) > self.mandatory then return c end
  if not self:await(flight) then
    -- its caller never came back: one new flight, which all waiters share
    if self.flight == flight then self.flight = nil end
    flight = self.flight or self:start(c)
    if not self:await(flight) then
      if self.flight == flight then self.flight = nil end
      require("fsx.credentials.util").raise{
        code = "CredentialsRefreshTimeout",
        message = string.format("the refresh did not finish within %g s, twice", self.wait_limit),
      }
    end
  end
  if flight.ok then return flight.value end
  if flight.fallback then return flight.fallback end
  error(flight.value, 0)
end

--- Forget the cached credentials; the next `get()` loads them again from the
-- same source (use after an ExpiredToken answer).
function Provider:invalidate()
  self.cached, self.retry_at, self.held = nil, nil, nil
end

--- Name of the source that answered (`env`, `profile`, ...), nil before the
-- first `get()`.
function Provider:source_name()
  return self.source and self.source.name
end

M.Provider = Provider
return M
