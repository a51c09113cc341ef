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
-- Exactly one caller refreshes (a flag plus a generation number); the others
-- wait on `deps.lock` (an `ngx.semaphore`-like object: `wait(timeout)`,
-- `post(n)`), on an `ngx.semaphore` created on demand inside Nginx, or else in
-- a small loop on `deps.sleep` (10 ms steps). A refresh stuck for longer than
-- `wait_limit` seconds (default 30; e.g. its light thread was killed) is taken
-- over by a waiter. Plain Lua 5.1 cannot yield across `pcall`, so concurrent
-- refresh through yielding transports needs LuaJIT or Lua 5.2+.
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

--- Create a provider.
-- @tparam ?table opts the options of `fsx.new` (`credentials`, `profile`,
--   `sts_timeout`, `credentials_advisory_window`, `credentials_mandatory_window`,
--   `credentials_wait_limit`, `sts_endpoint_url`, `getenv`)
-- @tparam ?table settings from `fsx.config.resolve` (resolved here when nil)
-- @tparam ?table deps `transport`, `now`, `sleep`, `sign`, `user_agent`, `lock`
-- @treturn table provider with `get()`, `invalidate()`
function M.new(opts, settings, deps)
  opts = opts or {}
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
      container = tonumber(getenv("AWS_METADATA_SERVICE_TIMEOUT")) or 2,
      sts_connect = tonumber(opts.sts_connect_timeout) or 3,
      sts = tonumber(opts.sts_timeout) or 10,
    },
  }
  local self = setmetatable({
    ctx = ctx,
    sleep = deps.sleep or default_sleep(),
    lock = deps.lock,
    advisory = tonumber(opts.credentials_advisory_window) or 300,
    mandatory = tonumber(opts.credentials_mandatory_window) or 60,
    wait_limit = tonumber(opts.credentials_wait_limit) or 30,
    sources = M.SOURCES,
    gen = 0, waiters = 0, refreshing = false,
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

-- The semaphore to wait on, if any: deps.lock, else ngx.semaphore in Nginx.
function Provider:semaphore()
  if self.lock then return self.lock end
  if self.lock == false then return nil end
  local ngx_ = rawget(_G, "ngx")
  if type(ngx_) == "table" and type(ngx_.get_phase) == "function" then
    local phase = ngx_.get_phase()
    if phase ~= "init" and phase ~= "init_worker" then
      local ok, sem = pcall(require, "ngx.semaphore")
      if ok and sem then
        local s = sem.new(0)
        if s then
          self.lock = s
          return s
        end
      end
    end
  end
  self.lock = false
  return nil
end

-- Wake every waiter of the semaphore.
function Provider:wake()
  local sem = self.lock
  if sem and self.waiters > 0 then
    local n = self.waiters
    self.waiters = 0
    sem:post(n)
  end
end

-- Wait while another caller refreshes. True when that refresh ended, false
-- when it ran over `wait_limit` (it is then taken over).
function Provider:wait()
  local waited = 0
  while self.refreshing do
    if waited >= self.wait_limit then return false end
    local sem = self:semaphore()
    if sem then
      self.waiters = self.waiters + 1
      local step = math.min(1, self.wait_limit - waited)
      local ok = sem:wait(step)
      if not ok then
        waited = waited + step
        if self.waiters > 0 then self.waiters = self.waiters - 1 end
      end
    elseif self.sleep then
      self.sleep(0.01)
      waited = waited + 0.01
    else
      -- nothing can run concurrently without a way to yield: the flag is stale
      return false
    end
  end
  return true
end

-- Refresh now (this caller owns the refresh).
function Provider:refresh(old)
  self.gen = self.gen + 1
  local my = self.gen
  self.refreshing = true
  local ok, res = pcall(self.load, self)
  if self.gen == my then self.refreshing = false end
  self:wake()
  local now = self.ctx.now()
  if ok then
    self.last_error, self.retry_at = nil, nil
    if res.no_cache then
      res.no_cache = nil
      self.cached = nil
    else
      self.cached = res
    end
    return res
  end
  self.last_error, self.last_error_gen = res, my
  if old and remaining(old, now) > self.mandatory then
    -- the old credentials are still good: use them, try again a bit later
    self.retry_at = now + 10
    return old
  end
  error(res, 0)
end

--- The current credentials, loading or refreshing them when needed.
-- @treturn table `access_key_id`, `secret_access_key`, `session_token`,
--   `expiration` (epoch seconds or nil), `source`; treat it as read-only
-- @raise credentials error (`CredentialsNotFound` or the failing source's)
function Provider:get()
  local now = self.ctx.now()
  local c = self.cached
  if c and remaining(c, now) > self.advisory then return c end
  if c and remaining(c, now) > self.mandatory
     and (self.refreshing or (self.retry_at and now < self.retry_at)) then
    return c
  end
  if self.refreshing then
    local gen = self.gen
    if self:wait() then
      local fresh = self.cached
      if fresh and remaining(fresh, self.ctx.now()) > 0 and fresh ~= c then return fresh end
      if self.last_error and self.last_error_gen == gen then error(self.last_error, 0) end
      if fresh and remaining(fresh, self.ctx.now()) > self.mandatory then return fresh end
    end
  end
  return self:refresh(c)
end

--- Forget the cached credentials; the next `get()` loads them again from the
-- same source (use after an ExpiredToken answer).
function Provider:invalidate()
  self.cached = nil
  self.retry_at = nil
end

--- Name of the source that answered (`env`, `profile`, ...), nil before the
-- first `get()`.
function Provider:source_name()
  return self.source and self.source.name
end

M.Provider = Provider
return M
