--- The FSx client: options, the per-call pipeline, and one method per operation.
--
-- A call goes: validate and convert the input (fsx.validate, from the
-- generated declarations) -> fill the idempotency token -> encode once (JSON
-- 1.1) -> for each attempt: credentials, headers, sign (fsx.sigv4), send (the
-- transport), parse (fsx.protocol.json) -> on a retryable failure, back off
-- and try again with the SAME body, token and invocation id, re-signed ->
-- check and convert the answer (fsx.output).
-- @module fsx.client
local api = require "fsx.api"
local clock = require "fsx.clock"
local date = require "fsx.date"
local errors = require "fsx.error"
local json = require "fsx.json"
local paginate = require "fsx.paginate"
local protocol = require "fsx.protocol.json"
local retry = require "fsx.retry"
local shape = require "fsx.shape"
local validate = require "fsx.validate"
local output = require "fsx.output"
local sigv4 = require "fsx.sigv4"
local transport = require "fsx.transport"
local url = require "fsx.url"
local util = require "fsx.util"

local M = {}

local Client = {}
Client.__index = Client
M.Client = Client

local META = api.metadata
local SIGNING_NAME = META.signing_name
local DEFAULTS = {
  connect_timeout = 10,      -- seconds to establish a connection
  timeout = 60,              -- seconds for one attempt
  max_body = 8 * 1024 * 1024 -- bytes of response body accepted
}
--- Defaults of `connect_timeout` (10 s), `timeout` (60 s) and `max_body` (8 MiB);
-- the other defaults are resolved by `fsx.config` and `fsx.credentials`.
M.DEFAULTS = DEFAULTS

-- Client options, with the check each one must pass.
local OPTIONS = {
  region = "string", endpoint_url = "string", profile = "string", credentials = "table|function",
  max_attempts = "number", retry_mode = "string", retry_base = "number", max_backoff = "number",
  connect_timeout = "number", timeout = "number", deadline = "number", transport = "string|function",
  sleep = "function", random = "function", now = "function", monotime = "function",
  ca_file = "string", insecure = "boolean", max_body = "number", debug = "function",
  use_fips_endpoint = "boolean", use_dualstack_endpoint = "boolean", app_id = "string",
  getenv = "function", user_agent_extra = "string", ngx = "table", retry_quota = "number",
  max_pages = "number",
  -- read by fsx.config and fsx.credentials
  sts_timeout = "number", sts_connect_timeout = "number", sts_endpoint_url = "string",
  credentials_advisory_window = "number", credentials_mandatory_window = "number",
  credentials_wait_limit = "number", config_file = "string", credentials_file = "string",
  user_agent = "string",
}
--- The options `new` accepts, each with the Lua type(s) it must have.
M.OPTIONS = OPTIONS

local function check_options(opts)
  if opts == nil then return {} end
  if type(opts) ~= "table" then errors.raise_validation("new", nil, "options must be a table") end
  errors.check_plain("new", nil, opts)
  for k, v in pairs(opts) do
    if type(k) ~= "string" then errors.raise_validation("new", nil, "option names must be strings") end
    local want = OPTIONS[k]
    if not want then errors.raise_validation("new", k, "unknown option") end
    local ok = false
    for t in want:gmatch("[^|]+") do
      if type(v) == t then ok = true end
    end
    if not ok then errors.raise_validation("new", k, "must be a " .. want:gsub("|", " or ")) end
    if type(v) == "number" and (v ~= v or v < 0 or v == math.huge) then
      errors.raise_validation("new", k, "must be a finite number >= 0")
    end
    if type(v) == "string" and (v:find("[%z\r\n]")) then
      errors.raise_validation("new", k, "must not contain NUL, CR or LF")
    end
  end
  return opts
end

--- Create a client.
--
-- Options (all optional; README.md, "Client options", gives each one's
-- environment variable and profile setting):
--
-- * where and who: `region`, `endpoint_url`, `profile`, `credentials` (a table
--   `{ access_key_id =, secret_access_key =, session_token =, expiration = }` or a
--   function returning one), `config_file`, `credentials_file`,
--   `use_fips_endpoint`, `use_dualstack_endpoint`;
-- * retries and time limits: `max_attempts` (3), `retry_mode` (`"standard"` or
--   `"adaptive"`), `retry_base` (1 s), `max_backoff` (20 s), `retry_quota` (500),
--   `connect_timeout` (10 s), `timeout` (60 s per attempt), `deadline` (none: the
--   whole call, retries included);
-- * transport: `transport` (`"auto"`, `"curl"`, `"ngx"` or a function), `ngx`
--   (pool tuning, see `fsx.transport.ngx`), `ca_file`, `insecure` (false),
--   `max_body` (8 MiB);
-- * identification: `app_id`, `user_agent` (replaces the library's User-Agent),
--   `user_agent_extra` (appended to it);
-- * hooks, mostly for tests: `debug(event, data)`, `sleep(s)`, `now()`,
--   `monotime()`, `random()`, `getenv(name)`;
-- * credential refresh: `sts_endpoint_url`, `sts_timeout` (10 s),
--   `sts_connect_timeout` (3 s), `credentials_advisory_window` (300 s),
--   `credentials_mandatory_window` (60 s), `credentials_wait_limit` (30 s).
--
-- Creating a client reads the environment and the shared config files only;
-- credentials and connections come on the first call.
-- @tparam[opt] table opts the options above (`OPTIONS` holds their types)
-- @treturn Client
-- @raise validation error naming an unknown option or a bad value
function M.new(opts)
  opts = check_options(opts)
  local config = require "fsx.config"
  local settings = config.resolve(opts)
  local self = setmetatable({}, Client)
  self.settings = settings
  self.region = settings.region
  -- the endpoint rule set may sign for another region or name than the client's
  self.signing_region = settings.signing_region or settings.region
  self.signing_name = settings.signing_name or SIGNING_NAME
  self.connect_timeout = opts.connect_timeout or DEFAULTS.connect_timeout
  self.timeout = opts.timeout or DEFAULTS.timeout
  self.deadline = opts.deadline
  self.max_body = opts.max_body or DEFAULTS.max_body
  if opts.max_pages and (opts.max_pages < 1 or opts.max_pages ~= math.floor(opts.max_pages)) then
    errors.raise_validation("new", "max_pages", "must be a whole number >= 1")
  end
  self.max_pages = opts.max_pages or paginate.DEFAULT_MAX_PAGES
  self.ca_file = settings.ca_file
  self.insecure = opts.insecure == true
  if self.insecure then
    io.stderr:write("fsx: warning: TLS certificate verification is disabled (insecure = true)\n")
  end
  self.debug = opts.debug
  self.sleep = opts.sleep or clock.sleep
  self.now = opts.now or clock.now
  -- seconds added to the local clock when signing, learnt from clock-skew errors
  self.clock_offset = 0
  self.monotime = opts.monotime or clock.monotime
  self.random = opts.random or util.random
  local send, close_or_err = transport.select(opts.transport, { ngx = opts.ngx })
  if not send then errors.raise_validation("new", "transport", close_or_err) end
  self.send = send
  self._close_transport = close_or_err
  local max_attempts = settings.max_attempts or 3
  if max_attempts < 1 or max_attempts ~= math.floor(max_attempts) then
    errors.raise_validation("new", "max_attempts", "must be a whole number >= 1")
  end
  self.retry = retry.new{
    mode = settings.retry_mode or "standard", max_attempts = max_attempts,
    base = opts.retry_base or 1, max_backoff = opts.max_backoff or 20,
    random = self.random, monotime = self.monotime, quota = opts.retry_quota,
  }
  self.user_agent = settings.user_agent
  self.endpoint_url = settings.endpoint_url
  if self.endpoint_url then
    local u, uerr = url.parse(self.endpoint_url)
    if not u then errors.raise_validation("new", "endpoint_url", uerr) end
    self.endpoint = u
    -- made once: every request of this client uses them
    self._url = u.url
    self._sign_path = u.path:match("^[^?]*")
    self._sign_query = u.path:match("%?(.*)$") or ""
    self._host_header = { "Host", u.host_header }
  end
  self._ua_header = { "User-Agent", self.user_agent }
  self.credentials = require("fsx.credentials").new(opts, settings, {
    transport = send,
    now = self.now,
    sleep = self.sleep,
    sign = sigv4.sign,
    user_agent = self.user_agent,
  })
  return self
end

-- The endpoint and region, or a `credentials` error before anything is sent.
function Client:_target()
  if not self.region then
    errors.raise{ kind = "credentials", code = "NoRegion",
      message = "no region: pass region to fsx.new, or set AWS_REGION or a profile region" }
  end
  if not self.endpoint then
    errors.raise{ kind = "credentials", code = "NoEndpoint",
      message = "no endpoint could be resolved for region " .. tostring(self.region) }
  end
  return self.endpoint
end

--- Build and sign one attempt of a request; returns the transport request.
-- @local
function Client:_request(operation, body, proto_headers, ctx, attempt, timeout)
  local ep = self.endpoint
  if not (ep and self.region) then ep = self:_target() end
  local creds = self.credentials:get()
  if creds ~= self._seen_creds then
    -- scrub these from every error message for as long as this client lives
    errors.add_secret(creds.secret_access_key, self)
    errors.add_secret(creds.session_token, self)
    self._seen_creds = creds
  end
  local send_headers = sigv4.sign_request{
    method = "POST", path = self._sign_path, query = self._sign_query,
    headers = { self._host_header, proto_headers[1], proto_headers[2] }, body = body,
    region = self.signing_region, service = self.signing_name,
    access_key_id = creds.access_key_id, secret_access_key = creds.secret_access_key,
    session_token = creds.session_token, amz_date = util.amz_date(self.now() + self.clock_offset),
  }
  local n = #send_headers
  send_headers[n + 1] = self._ua_header
  send_headers[n + 2] = ctx.invocation_header
  send_headers[n + 3] = { "amz-sdk-request", "attempt=" .. attempt .. "; max=" .. self.retry.max_attempts }
  return {
    method = "POST", url = self._url, scheme = ep.scheme, host = ep.host,
    port = ep.port, path = ep.path, headers = send_headers, body = body,
    connect_timeout = math.min(self.connect_timeout, timeout), timeout = timeout,
    ca_file = self.ca_file, insecure = self.insecure, max_body = self.max_body,
    operation = operation,
  }
end

local function transport_error(operation, kind, code, message)
  return errors.new{
    kind = kind == "timeout" and "timeout" or (kind == "validation" and "validation" or "transport"),
    code = code or "TransportError", operation = operation,
    message = message or "the request could not be sent",
  }
end

local function raise_final(err, attempts, retryable, call)
  err.attempts = attempts
  err.retryable = retryable
  -- the token lets a caller retry later without risking a second resource
  err.client_request_token = call and call.client_request_token
  error(err, 0)
end

-- After a clock-skew error whose response's Date is more than MAX_SKEW
-- seconds from the (corrected) local clock: the new offset, else nil. An
-- answer without a Date (a proxy dropped it) may still tell the service's
-- time: AWS's signature errors end "(20240501T120500Z - 5 min.)" or
-- "(... + 5 min.)", that time being the service's clock.
function Client:_skew_offset(err, resp)
  if not (resp and retry.is_clock_skew(err)) then return nil end
  local header = resp.headers and resp.headers["date"]
  local server
  if header then
    server = date.parse_http(header)
  else
    server = date.parse_amz(tostring(err.message):match("%((%d+T%d+Z) [-+] %d+ min%.?%)"))
  end
  -- a Date no service could mean (before 2000 or past 9000) corrects nothing
  if not server or server < 946684800 or server > 221845392000 then return nil end
  local now = self.now()
  if math.abs(server - (now + self.clock_offset)) <= retry.MAX_SKEW then return nil end
  return server - now
end

-- What an answer must carry beyond the model's types (fsx.output checks
-- those, and the resource of a `result_required` operation): a listing its
-- list (empty when nothing matches), and an answer naming the resource the
-- request named (an id or name member in both: DeleteBackup's BackupId,
-- DeleteVolume's VolumeId, DetachAndDeleteS3AccessPoint's Name) that very
-- resource. An empty object, or another call's answer handed over by a
-- proxy or a mixed-up connection, is no success.
local answer_rules = {}
local function rules_of(decl)
  local rules = answer_rules[decl]
  if rules then return rules end
  rules = { echo = {} }
  local pg = decl.paginator
  if pg then rules.list = pg.result_key end
  local in_shape = decl.input and shape.get(decl.input)
  local out_shape = decl.output and shape.get(decl.output)
  local input_shapes = {}
  for _, m in ipairs(in_shape and in_shape.members or {}) do input_shapes[m.name] = m.shape end
  for _, m in ipairs(out_shape and out_shape.members or {}) do
    local s = shape.get(m.shape)
    if input_shapes[m.name] == m.shape and s and s.type == "string"
        and (m.name:find("Id$") or m.name == "Name") then
      rules.echo[#rules.echo + 1] = m.name
    end
  end
  answer_rules[decl] = rules
  return rules
end

-- The answer `raw` to `params`, converted (fsx.output) after the checks above.
local function checked_answer(decl, params, raw, meta)
  local rules = rules_of(decl)
  local problem
  if rules.list and (raw[rules.list] == nil or raw[rules.list] == json.null) then
    problem = "has no " .. rules.list .. " (the list this operation returns)"
  end
  for _, name in ipairs(rules.echo) do
    local want, got = params[name], raw[name]
    if not problem and want ~= nil and got ~= want then
      problem = type(got) == "string"
        and ("names " .. name .. " " .. got:sub(1, 64) .. " where the request named " .. tostring(want))
        or ("has no " .. name .. " (the request named " .. tostring(want) .. ")")
    end
  end
  if problem then output.raise_invalid(decl.name, meta, problem) end
  return output.convert(decl, raw, meta)
end

--- Send an operation: retries, signing, parsing, the answer checked against
-- the model (fsx.output). Returns the decoded result, the meta table and the
-- result converted to snake_case; raises a structured error.
-- @tparam string operation API name
-- @tparam table params validated API-named input
-- @tparam table call per-call options: `decl` (the operation's declaration),
--   `client_request_token` (recorded in meta)
-- @local
function Client:_send(operation, params, call)
  local body, proto_headers = protocol.build(META.target_prefix, operation, params)
  local invocation_id = util.uuid4()
  local ctx = { invocation_id = invocation_id,
                invocation_header = { "amz-sdk-invocation-id", invocation_id } }
  local strategy = self.retry
  local max = strategy.max_attempts
  local started = self.monotime()
  local deadline = self.deadline and (started + self.deadline)
  local last_cost
  local attempt = 0
  -- at most one immediate retry each after a clock fix and a credential
  -- refresh; they do not count against max_attempts
  local skew_fixed, creds_refreshed, extra = false, false, 0
  while true do
    attempt = attempt + 1
    local wait = strategy:before_send()
    if wait > 0 then self.sleep(wait) end
    local timeout = self.timeout
    if deadline then
      local left = deadline - self.monotime()
      if left <= 0 then
        errors.raise{ kind = "timeout", code = "DeadlineExceeded", operation = operation,
          attempts = attempt - 1, message = "the call's deadline passed before attempt " .. attempt }
      end
      timeout = math.min(timeout, left)
    end
    local req = self:_request(operation, body, proto_headers, ctx, attempt, timeout)
    if self.debug then
      self.debug("request", { method = req.method, url = req.url,
        headers = errors.redact_headers(req.headers), body = errors.scrub(body), attempt = attempt })
    end
    local resp, kind, code, message = self.send(req)
    local result, err
    if resp then
      if self.debug then
        self.debug("response", { status = resp.status, headers = errors.redact_headers(resp.headers),
                                 body = errors.scrub(resp.body), attempt = attempt })
      end
      result, err = protocol.parse(operation, resp, output.error_fields)
    else
      err = transport_error(operation, kind, code, message)
      if self.debug then self.debug("failure", { kind = err.kind, code = err.code,
                                                 message = err.message, attempt = attempt }) end
    end
    local meta, converted
    if result then
      meta = {
        request_id = resp.headers["x-amzn-requestid"], status = resp.status,
        attempts = attempt, invocation_id = ctx.invocation_id,
        client_request_token = call and call.client_request_token,
      }
      -- an answer that does not fit the model or is no result (see
      -- checked_answer) is a decode error, retried (same token) like an
      -- answer that is not JSON
      local ok, out = pcall(checked_answer, call.decl, params, result, meta)
      if ok then
        converted = out
      elseif errors.is_error(out) and out.kind == "decode" then
        result, err = nil, out
      else
        error(out, 0)
      end
    end
    if result then
      strategy:after_response(false)
      strategy:succeeded(last_cost)
      return result, meta, converted
    end
    local retryable, throttled, timed_out = retry.classify(err)
    strategy:after_response(throttled)
    local offset = not skew_fixed and self:_skew_offset(err, resp)
    local recover
    if offset then
      -- sign this call's next attempt and every later call with the service's time
      self.clock_offset, skew_fixed, recover = offset, true, "clock_skew"
    elseif not creds_refreshed and retry.is_expired_token(err) then
      self.credentials:invalidate()
      creds_refreshed, recover = true, "expired_token"
    end
    if recover then
      extra = extra + 1
      if self.debug then self.debug("retry", { attempt = attempt, delay = 0, code = err.code,
                                               reason = recover }) end
    else
      if err.kind == "validation" or not retryable then raise_final(err, attempt, false, call) end
      if attempt - extra >= max then raise_final(err, attempt, true, call) end
      local cost = strategy:acquire(timed_out)
      if not cost then
        err.retry_quota_exceeded = true
        raise_final(err, attempt, true, call)
      end
      last_cost = cost
      local delay = strategy:backoff(attempt - extra)
      if deadline and self.monotime() + delay >= deadline then
        errors.raise{ kind = "timeout", code = "DeadlineExceeded", operation = operation,
          attempts = attempt, retryable = true, status = err.status, request_id = err.request_id,
          last_error = err, client_request_token = call and call.client_request_token,
          message = "the call's deadline would pass during the backoff after: " .. tostring(err) }
      end
      if self.debug then self.debug("retry", { attempt = attempt, delay = delay, code = err.code }) end
      self.sleep(delay)
    end
  end
end

-- Fill an idempotency token the caller left out (same token for every attempt).
local function fill_token(decl, params)
  local member = decl.idempotency_token
  if member and params[member] == nil then params[member] = util.uuid4() end
  return member and params[member]
end

-- The member names of an operation's input (snake_case or API names),
-- made once per operation.
local arg_names = { snake = {}, api = {} }
local function input_names(decl, api_mode)
  local cache = api_mode and arg_names.api or arg_names.snake
  local names = cache[decl]
  if not names then
    names = {}
    local s = shape.get(decl.input)
    for i, m in ipairs(s and s.members or {}) do names[i] = api_mode and m.name or m.snake end
    cache[decl] = names
  end
  return names
end

-- t[k] through its metamethods, for pcall (a named function, not a closure
-- made per field: LuaJIT does not compile a function that makes closures)
local function index(t, k) return t[k] end

--- An argument table with a metatable (a class instance, defaults through
-- `__index`) as a plain table: its own keys, read raw, and each of `names`
-- read through normal indexing. A plain table (or any other value) is
-- returned as it is. Nested tables are read raw by the validation.
-- @tparam string op the method named in errors
-- @param args the caller's arguments
-- @tparam table names the field names to read through the metatable
-- @tparam[opt] table more further names
-- @raise validation error naming `args` when a metamethod raises
function M.plain_args(op, args, names, more)
  if type(args) ~= "table" or getmetatable(args) == nil then return args end
  local out = {}
  local k, v = next(args)
  while k ~= nil do
    out[k] = v
    k, v = next(args, k)
  end
  for _, list in ipairs{ names, more or {} } do
    for i = 1, #list do
      local name = list[i]
      local ok, value = pcall(index, args, name)
      if not ok then
        errors.raise_validation(op, "args", "reading " .. name .. " through the table's metatable raised an error")
      end
      if value ~= nil then out[name] = value end
    end
  end
  return out
end
local plain_args = M.plain_args

--- Release the client's connections (its libcurl handle). The client stays
-- usable: a later call opens a new connection.
function Client:close()
  self._close_transport()
end

--- Call any FSx operation with raw API names in and out.
--     client:call("DescribeBackups", { BackupIds = { "backup-0123..." } })
-- @tparam string operation API name
-- @tparam[opt] table params API-named input
-- @return the decoded response (API names), meta
function Client:call(operation, params)
  if type(operation) ~= "string" then errors.raise_validation("call", "operation", "must be a string") end
  local decl = shape.operation(operation)
  if not decl or decl.name ~= operation then
    local shown = #operation > 64 and (operation:sub(1, 64) .. "...") or operation
    errors.raise_validation("call", "operation", ("unknown FSx operation %q"):format(shown))
  end
  params = validate.input_api(decl, plain_args("call", params, input_names(decl, true)))
  local token = fill_token(decl, params)
  -- the answer is checked as the methods' are; call returns it with API names
  local raw, meta = self:_send(operation, params, { client_request_token = token, decl = decl })
  return raw, meta
end

--- Run one operation with snake_case input and output (what every generated
-- method does). `extra` names fields the caller consumed itself.
-- @local
function Client:_operation(decl, args, extra)
  local params = validate.input(decl, plain_args(decl.snake, args, input_names(decl)), extra)
  local token = fill_token(decl, params)
  local _, meta, out = self:_send(decl.name, params, { client_request_token = token, decl = decl })
  if decl.result_key then
    out = out[decl.result_snake] or out
  end
  return out, meta
end

--- The signed request an operation would send, redacted, without sending it
-- (for `--dry-run` and debugging).
function Client:prepare(operation_name, args)
  local decl = shape.operation(operation_name)
  if not decl then errors.raise_validation("prepare", "operation", "unknown FSx operation") end
  local params = validate.input(decl, args)
  fill_token(decl, params)
  local body, proto_headers = protocol.build(META.target_prefix, decl.name, params)
  local id = util.uuid4()
  local req = self:_request(decl.name, body, proto_headers,
                            { invocation_id = id, invocation_header = { "amz-sdk-invocation-id", id } },
                            1, self.timeout)
  return { method = req.method, url = req.url, headers = errors.redact_headers(req.headers),
           body = body, params = params }
end

-- One method per operation, from the declarations, and one `each_*`
-- iterator per paginated operation.
local to_snake = require("fsx.names").to_snake
for _, decl in pairs(api.operations) do
  local snake = decl.snake
  if decl.result_key then decl.result_snake = to_snake(decl.result_key) end
  Client[snake] = function(self, args)
    if getmetatable(self) ~= Client then
      errors.raise_validation(snake, nil, "call it as client:" .. snake .. "{...}")
    end
    return self:_operation(decl, args)
  end
  if decl.paginator then
    local method = paginate.method_name(decl)
    Client[method] = function(self, args, config)
      return paginate.iterate(self, decl, M.plain_args(method, args, input_names(decl)), config)
    end
  end
end

--- Iterate over the pages of a paginated operation, with their meta (see
-- `fsx.paginate.pages`):
--     for page, meta in client:paginate("describe_backups", {}, { max_items = 50 }) do ... end
-- @tparam string operation snake_case or API name
-- @tparam[opt] table args the operation's snake_case arguments
-- @tparam[opt] table config `max_pages`, `max_items`, `starting_token`, `page_size`
function Client:paginate(operation, args, config)
  local decl = type(operation) == "string" and shape.operation(operation)
  if not (decl and decl.paginator) then
    errors.raise_validation("paginate", "operation", "must name a paginated FSx operation")
  end
  return paginate.pages(self, decl, M.plain_args("paginate", args, input_names(decl)), config)
end

-- The hand-written methods, each in the module that holds its code, loaded
-- on the method's first call: a script that never waits or prunes never
-- loads that code. Waiters also get their kind.
-- `args` names the operation whose input members (and `BACKUP_EXTRA`) are
-- read through an argument table's metatable (`plain_args`); `names` the
-- module's list of argument names for a method that is no operation.
local ADDONS = {
  create_backup = { "fsx.backup", "create_backup", args = "CreateBackup" },
  list_backups = { "fsx.backup", "list_backups", names = "LIST_ARGS" },
  copy_backup = { "fsx.restore", "copy_backup", args = "CopyBackup" },
  restore_file_system = { "fsx.restore", "restore_file_system", args = "CreateFileSystemFromBackup" },
  restore_volume = { "fsx.restore", "restore_volume", args = "CreateVolumeFromBackup" },
  prune_backups = { "fsx.retention", "prune_backups", names = "PRUNE_ARGS" },
  wait_for_backup = { "fsx.waiter", "wait_one", "backup" },
  wait_for_backups = { "fsx.waiter", "wait_many", "backup" },
  wait_for_file_system = { "fsx.waiter", "wait_one", "file_system" },
  wait_for_file_systems = { "fsx.waiter", "wait_many", "file_system" },
  wait_for_volume = { "fsx.waiter", "wait_one", "volume" },
  wait_for_volumes = { "fsx.waiter", "wait_many", "volume" },
}
local BACKUP_EXTRA = { "wait", "copy_tags", "destination_region", "source_client" }
for name, where in pairs(ADDONS) do
  local module, fn, kind, op = where[1], where[2], where[3], where.args
  if kind then
    Client[name] = function(self, a, b)
      return require(module)[fn](self, kind, a, b)
    end
  elseif where.names then
    Client[name] = function(self, a)
      local mod = require(module)
      return mod[fn](self, plain_args(name, a, mod[where.names]))
    end
  else
    local decl = api.operations[op]
    Client[name] = function(self, a)
      return require(module)[fn](self, plain_args(name, a, input_names(decl), BACKUP_EXTRA))
    end
  end
end

return M
