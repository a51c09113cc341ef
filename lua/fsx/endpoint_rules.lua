--- An interpreter of the AWS endpoint rule-set language (Smithy `smithy.rules`).
--
-- Layer: Lua layer; depends on `fsx.pattern` (the partitions' region
-- regexes, loaded only for a region no partition lists). It knows the
-- language, not any service: `fsx.endpoint` hands it a rule set and the
-- partitions (both generated data modules under `fsx.endpoint_data`) and
-- turns its answers into fsx errors.
--
-- The language, as this module reads it:
--
-- * a rule set has `parameters` (name -> `type`, `required`, `default`) and
--   `rules`; each rule has `conditions` and a `type`: `endpoint` (gives the
--   endpoint), `error` (gives the message) or `tree` (its own `rules`);
-- * rules are tried in order; the first whose conditions all hold decides.
--   A tree whose conditions hold is final: when none of its rules holds,
--   resolution fails (the language requires every tree to end in a rule that
--   always holds);
-- * a condition is a function call `{ fn = name, argv = {...} }`; it holds
--   when its value is neither nil nor false. `assign` binds the value to a
--   name seen by the later conditions and the rules below, not by siblings;
-- * an expression is a literal, `{ ref = name }` (a parameter or an assigned
--   name), a function call, or a list or object of expressions (endpoint
--   properties). Every string is a template: `{Name}` inserts a string,
--   `{Name#path}` an attribute (as `getAttr`), `{{` and `}}` are braces.
--
-- A malformed rule set (an unknown function or rule type, a template naming
-- nothing) raises a plain error string: it is a bug in the data, not in the
-- caller's settings.
-- @module fsx.endpoint_rules
local M = {}

local unpack = rawget(table, "unpack") or rawget(_G, "unpack")

local function malformed(msg)
  error("fsx.endpoint_rules: malformed rule set: " .. msg, 0)
end

--- `getAttr`: follow a path of `.`-separated names, each optionally followed
-- by a zero-based `[index]`; nil when any step is missing.
-- @param value a table (object or list)
-- @tparam string path e.g. `dnsSuffix` or `authSchemes[0].signingRegion`
-- @return the attribute or nil
function M.get_attr(value, path)
  for part in path:gmatch("[^.]+") do
    local name, index = part:match("^([^%[]*)%[(%d+)%]$")
    if not name then name = part end
    if name ~= "" then
      if type(value) ~= "table" then return nil end
      value = value[name]
    end
    if index then
      if type(value) ~= "table" then return nil end
      value = value[tonumber(index) + 1]
    end
  end
  return value
end

--- `aws.partition`: the outputs of a region's partition, with `name` set to
-- the partition id. A region listed by a partition wins (its own entry
-- overrides the partition's outputs), then the first partition whose
-- `regionRegex` matches; otherwise `aws`.
-- @tparam table partitions the data of `partitions.json`
-- @tparam string region
-- @treturn table outputs (`dnsSuffix`, `dualStackDnsSuffix`, `supportsFIPS`,
--   `supportsDualStack`, `implicitGlobalRegion`, `name`)
function M.partition(partitions, region)
  local function outputs(p, overrides)
    local out = {}
    for k, v in pairs(p.outputs) do out[k] = v end
    for k, v in pairs(overrides or {}) do
      if k ~= "description" then out[k] = v end
    end
    out.name = p.id
    return out
  end
  local list = partitions.partitions
  for _, p in ipairs(list) do
    if p.regions[region] then return outputs(p, p.regions[region]) end
  end
  local pattern = require("fsx.pattern")
  for _, p in ipairs(list) do
    if pattern.match(p.regionRegex, region) then return outputs(p) end
  end
  for _, p in ipairs(list) do
    if p.id == "aws" then return outputs(p) end
  end
  malformed("partitions: no partition aws")
end

-- The standard library: name -> function(env, args...). `env.partitions`
-- is the partition data of this resolution.
M.functions = {
  isSet = function(_, v) return v ~= nil end,
  ["not"] = function(_, v) return not v end,
  booleanEquals = function(_, a, b) return a == b end,
  stringEquals = function(_, a, b) return a == b end,
  getAttr = function(_, v, path) return M.get_attr(v, path) end,
  ["aws.partition"] = function(env, region)
    if type(region) ~= "string" then return nil end
    return M.partition(env.partitions, region)
  end,
}

local eval

-- Expand a template string in the scope.
local function template(s, scope)
  if not s:find("[{}]") then return s end
  local out = s:gsub("{{", "\1"):gsub("}}", "\2")
  out = out:gsub("{([^{}]*)}", function(ref)
    local name, path = ref:match("^([^#]+)#(.+)$")
    local v
    if name then v = M.get_attr(scope[name], path) else v = scope[ref] end
    if type(v) ~= "string" then
      malformed(string.format("template %q: {%s} is not a string", s, ref))
    end
    return (v:gsub("[\1\2]", ""))
  end)
  if out:find("[{}]") then malformed(string.format("template %q: unbalanced braces", s)) end
  return (out:gsub("\1", "{"):gsub("\2", "}"))
end

local function call(x, scope, env)
  local fn = M.functions[x.fn]
  if not fn then malformed("unknown function " .. tostring(x.fn)) end
  local argv, args = x.argv or {}, {}
  for i = 1, #argv do args[i] = eval(argv[i], scope, env) end
  return fn(env, unpack(args, 1, #argv))
end

-- The value of an expression.
function eval(x, scope, env)
  local t = type(x)
  if t == "string" then return template(x, scope) end
  if t ~= "table" then return x end
  if x.ref ~= nil then return scope[x.ref] end
  if x.fn ~= nil then return call(x, scope, env) end
  local out = {}
  for k, v in pairs(x) do out[k] = eval(v, scope, env) end
  return out
end

-- The scope below a rule whose conditions all hold, or nil.
local function match(conditions, scope, env)
  local inner = setmetatable({}, { __index = scope })
  for _, c in ipairs(conditions or {}) do
    local v = call(c, inner, env)
    if v == nil or v == false then return nil end
    if c.assign then inner[c.assign] = v end
  end
  return inner
end

local function endpoint_of(e, scope, env)
  local url = eval(e.url, scope, env)
  if type(url) ~= "string" then malformed("an endpoint url is not a string") end
  local headers = {}
  for name, values in pairs(e.headers or {}) do
    headers[name] = eval(values, scope, env)
  end
  return { url = url, properties = eval(e.properties or {}, scope, env), headers = headers }
end

local function run(rules, scope, env)
  for _, rule in ipairs(rules) do
    local inner = match(rule.conditions, scope, env)
    if inner then
      if rule.type == "endpoint" then return endpoint_of(rule.endpoint, inner, env) end
      if rule.type == "error" then return nil, eval(rule.error, inner, env) end
      if rule.type ~= "tree" then malformed("unknown rule type " .. tostring(rule.type)) end
      return run(rule.rules, inner, env)
    end
  end
  return nil, "no endpoint rule matched the parameters"
end

--- Resolve an endpoint.
-- @tparam table ruleset the rule set (`parameters`, `rules`)
-- @tparam table params parameter name -> value (`Region`, `UseFIPS`, ...);
--   unset parameters take their default
-- @tparam table partitions the data of `partitions.json`
-- @treturn table `url`, `properties` (e.g. `authSchemes`), `headers`
--   (name -> list of values)
-- @return or nil and the rule set's message (an error rule, a missing
--   required parameter, a parameter of the wrong type)
function M.resolve(ruleset, params, partitions)
  local scope = {}
  for name, decl in pairs(ruleset.parameters) do
    local v = params[name]
    if v == nil then v = decl.default end
    local want = decl.type:lower()
    if v == nil and decl.required then
      return nil, "missing required parameter " .. name
    elseif v ~= nil and type(v) ~= want then
      return nil, string.format("parameter %s must be a %s, got %s", name, want, type(v))
    end
    scope[name] = v
  end
  for name in pairs(params) do
    if not ruleset.parameters[name] then return nil, "unknown parameter " .. name end
  end
  return run(ruleset.rules, scope, { partitions = partitions })
end

return M
