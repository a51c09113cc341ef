--- The runtime of the Ansible modules in ansible/library/: arguments, results
-- and connections, as Ansible's own modules handle them.
--
-- Layer: Lua helpers, above the client. Ansible runs a non-Python module that
-- says WANT_JSON with the path of a JSON file holding its arguments; the
-- module prints one JSON object and exits. Each module file is a few lines
-- that call `M.run(spec, main)`: this module reads and checks the arguments
-- (Ansible's messages for unknown, missing, mutually exclusive and mistyped
-- options), builds the client from the connection options, runs `main`, and
-- prints its result or the failure, with every secret the run was given
-- removed (Ansible's no_log cannot reach inside a non-Python module).
-- @module fsx.ansible
local errors = require "fsx.error"
local json = require "fsx.json"

local M = {}

--- The connection options every module takes, in Ansible's amazon.aws names;
-- `no_log` ones are secrets.
M.CONNECTION = {
  region = { type = "str" },
  endpoint_url = { type = "str" },
  profile = { type = "str" },
  aws_access_key_id = { type = "str", no_log = true },
  aws_secret_access_key = { type = "str", no_log = true },
  session_token = { type = "str", no_log = true },
}

-- Ansible's boolean spellings (module_utils.parsing.convert_bool).
local TRUE = { ["1"] = true, ["on"] = true, ["true"] = true, ["t"] = true, ["y"] = true, ["yes"] = true }
local FALSE = { ["0"] = true, ["off"] = true, ["false"] = true, ["f"] = true, ["n"] = true, ["no"] = true }

local function is_list(v)
  if type(v) ~= "table" then return false end
  local n = 0
  for _ in pairs(v) do n = n + 1 end
  return n == #v
end

-- The converters of the option types: value -> converted, or nil and why.
local CONVERT = {
  str = function(v)
    if type(v) == "string" then return v end
    if type(v) == "number" or type(v) == "boolean" then return tostring(v) end
    return nil, "str"
  end,
  bool = function(v)
    if type(v) == "boolean" then return v end
    local s = string.lower(tostring(v))
    if TRUE[s] then return true end
    if FALSE[s] then return false end
    return nil, "bool"
  end,
  int = function(v)
    local n = tonumber(v)
    if n and n == math.floor(n) and n > -math.huge and n < math.huge
       and (type(v) == "number" or tostring(v):match("^%s*[+-]?%d+%s*$")) then
      return n
    end
    return nil, "int"
  end,
  dict = function(v)
    if type(v) == "table" and (next(v) == nil or not is_list(v)) then return v end
    return nil, "dict"
  end,
  list = function(v)
    if type(v) == "table" and is_list(v) then return v end
    if type(v) == "string" then
      local out = {}
      for item in v:gmatch("[^,]+") do out[#out + 1] = item:match("^%s*(.-)%s*$") end
      return out
    end
    return nil, "list"
  end,
}

local function sorted_keys(t)
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = k end
  table.sort(keys)
  return keys
end

-- Ansible's message when the converted arguments out break one of the
-- spec's rules over several options, or nil.
local function group_error(spec, out)
  for _, group in ipairs(spec.mutually_exclusive or {}) do
    local given = {}
    for _, k in ipairs(group) do if out[k] ~= nil then given[#given + 1] = k end end
    if #given > 1 then return "parameters are mutually exclusive: " .. table.concat(group, "|") end
  end
  for _, group in ipairs(spec.required_one_of or {}) do
    local any = false
    for _, k in ipairs(group) do if out[k] ~= nil then any = true end end
    if not any then return "one of the following is required: " .. table.concat(group, ", ") end
  end
  for _, rule in ipairs(spec.required_if or {}) do
    local key, value, names = rule[1], rule[2], rule[3]
    if out[key] == value then
      local absent = {}
      for _, k in ipairs(names) do if out[k] == nil then absent[#absent + 1] = k end end
      if #absent > 0 then
        return ("%s is %s but all of the following are missing: %s")
          :format(key, tostring(value), table.concat(absent, ", "))
      end
    end
  end
  return nil
end

--- Check and convert raw module arguments against a spec.
-- `spec.options` maps names to `{ type =, required =, default =, choices =,
-- no_log = }`; `spec.mutually_exclusive` and `spec.required_one_of` are lists
-- of name lists; `spec.required_if` is a list of `{ name, value, { names } }`.
-- @treturn table the arguments, converted and defaulted
-- @treturn table the secret values given (for scrubbing)
-- @return nil and Ansible's message when the arguments are wrong
function M.check_args(name, spec, raw)
  local opts, out, secrets = spec.options, {}, {}
  local unknown = {}
  for k in pairs(raw) do
    if type(k) ~= "string" or (not opts[k] and not k:find("^_ansible_")) then
      unknown[#unknown + 1] = tostring(k)
    end
  end
  if #unknown > 0 then
    table.sort(unknown)
    return nil, nil, ("Unsupported parameters for (%s) module: %s. Supported parameters include: %s.")
      :format(name, table.concat(unknown, ", "), table.concat(sorted_keys(opts), ", "))
  end
  local missing = {}
  for _, k in ipairs(sorted_keys(opts)) do
    local o, v = opts[k], raw[k]
    if v == json.null then v = nil end
    if v ~= nil then
      local conv, want = CONVERT[o.type or "str"](v)
      if conv == nil then
        return nil, nil, ("argument '%s' is of type %s and we were unable to convert to %s")
          :format(k, type(v), want)
      end
      if o.choices then
        local found = false
        for _, c in ipairs(o.choices) do if c == conv then found = true end end
        if not found then
          return nil, nil, ("value of %s must be one of: %s, got: %s")
            :format(k, table.concat(o.choices, ", "), tostring(conv))
        end
      end
      if o.no_log and type(conv) == "string" and conv ~= "" then secrets[#secrets + 1] = conv end
      out[k] = conv
    elseif o.required then
      missing[#missing + 1] = k
    else
      out[k] = o.default
    end
  end
  if #missing > 0 then
    return nil, nil, "missing required arguments: " .. table.concat(missing, ", ")
  end
  local why = group_error(spec, out)
  if why then return nil, nil, why end
  return out, secrets
end

--- The client the connection options describe (the library reads the rest:
-- environment, profiles, instance roles).
function M.client(args)
  local opts = { region = args.region, endpoint_url = args.endpoint_url, profile = args.profile }
  if args.aws_access_key_id or args.aws_secret_access_key then
    opts.credentials = { access_key_id = args.aws_access_key_id,
                         secret_access_key = args.aws_secret_access_key,
                         session_token = args.session_token }
  end
  return require("fsx").new(opts)
end

-- A copy of v with the registered secrets removed from its strings (keys
-- included), by fsx.error's one scrub: whole, in pieces or encoded.
local function scrub(v, seen)
  if type(v) == "string" then return errors.scrub(v) end
  if type(v) ~= "table" or v == json.null then return v end
  if seen[v] then return seen[v] end
  local out = {}
  seen[v] = out
  for k, x in pairs(v) do out[scrub(k, seen)] = scrub(x, seen) end
  return out
end

--- The result fields of a failure from an fsx error (or any value).
function M.failure(err)
  if errors.is_error(err) then
    return { failed = true, msg = tostring(err), code = err.code, kind = err.kind,
             status = err.status, request_id = err.request_id, retryable = err.retryable,
             operation = err.operation }
  end
  return { failed = true, msg = tostring(err) }
end

local function read_args(path)
  local f = path and io.open(path, "rb")
  if not f then return nil, "no arguments file (the module must be run by Ansible, WANT_JSON)" end
  local text = f:read("*a")
  f:close()
  local args, why = json.decode(text)
  if type(args) ~= "table" then return nil, "arguments are not a JSON object: " .. tostring(why) end
  return args
end

--- Run a module: read the arguments file (`path`), check them against
-- `spec`, call `main(args, ctx)` with `ctx = { check_mode =, client = fn,
-- module = name }`, and write its result table (or the failure) as JSON.
-- @treturn string the JSON written
-- @treturn number the exit status (0, or 1 for a failure)
function M.execute(name, spec, main, path)
  local raw, why = read_args(path)
  local result
  if not raw then
    result = { failed = true, msg = why }
  else
    local args, found, err = M.check_args(name, spec, raw)
    if not args then
      result = { failed = true, msg = err }
    else
      for _, secret in ipairs(found) do errors.add_secret(secret, M) end
      local ctx = { check_mode = raw._ansible_check_mode == true, module = name }
      function ctx.client() return M.client(args) end
      local ok, res = pcall(main, args, ctx)
      if ok then result = res else result = M.failure(res) end
    end
  end
  result.changed = result.changed == true
  local text = assert(json.encode(scrub(result, {})))
  return text, result.failed and 1 or 0
end

--- The module entry point: `M.run(name, spec, main)` at the end of a module
-- file; prints the result and exits.
function M.run(name, spec, main)
  local text, status = M.execute(name, spec, main, arg and arg[1])
  io.stdout:write(text, "\n")
  io.stdout:flush()
  os.exit(status)
end

--- A spec's options with the connection options added.
function M.with_connection(options)
  for k, v in pairs(M.CONNECTION) do options[k] = v end
  return options
end

return M
