--- Tag lists and the tag-copying policies of `create_backup{ copy_tags = ... }`.
--
-- Layer: Lua helpers (pure Lua; needs only `fsx.error`). Nothing here talks to
-- the service: `fsx.backup` reads the tags and calls `apply`.
--
-- **Why these policies exist.** A file system (or an ONTAP volume) created with
-- `CopyTagsToBackups = true` has FSx copy its tags onto every backup, but
-- only when the CreateBackup call carries *no* tag at all: as soon as the
-- caller passes a single tag, FSx copies nothing and the backup gets the
-- caller's tags only. So "my nightly tag plus the cost-allocation tags of the
-- file system" cannot be had from FSx alone. The policies compute the tag list
-- on the client side and send it explicitly, so the result does not depend
-- on the CopyTagsToBackups setting:
--
-- * `"none"`: the caller's tags only (what `create_backup` does without
--   `copy_tags`; with no tags, FSx's CopyTagsToBackups still applies);
-- * `"file_system"`: the resource's tags only; giving tags too is a
--   `validation` error (use `"merge"`), since that is exactly the case where
--   FSx would silently drop them;
-- * `"merge"`: the resource's tags plus the caller's, the caller winning on
--   equal keys: the way to get both whatever CopyTagsToBackups says;
-- * `"replace"`: the caller's tags only, never relying on CopyTagsToBackups;
-- * a function `f(fs_tags, caller_tags, resource) -> tags` (map or list);
-- * a table `{ policy = "merge" (default) | name | function, include = {patterns},
--   exclude = {patterns} }`: the key patterns filter the *copied* tags only.
--   A pattern is a glob (`*` any run of characters, `?` one character,
--   everything else literal, case-sensitive) or a function `f(key) -> bool`.
--   A key is copied when it matches some `include` pattern (all keys when
--   there is no `include`) and no `exclude` pattern.
--
-- Rules common to every policy (`apply`): keys starting with `aws:` (in any
-- letter case: the prefix is reserved and AWS rejects it) are dropped from
-- both sides; the result must have at most 50 tags, keys of 1..128 and values
-- of 0..256 Unicode characters (valid UTF-8), no key twice; otherwise a
-- `validation` error names the policy. When the result is empty while the
-- resource has CopyTagsToBackups on and tags of its own, FSx would copy those
-- tags behind the policy's back (e.g. `exclude = {"*"}`): that is a
-- `validation` error too, so a policy's result is always what the backup gets.
-- @module fsx.tags
local errors = require "fsx.error"
local fsx_pattern = require "fsx.pattern"

local M = {}

--- FSx limits on a resource's tags.
M.MAX_TAGS = 50
M.MAX_KEY_CHARS = 128
M.MAX_VALUE_CHARS = 256

-- ---------------------------------------------------------------------------
-- UTF-8

-- The characters of a UTF-8 string as an array of strings, or nil when the
-- string is not valid UTF-8 (decoded by fsx.pattern, the one UTF-8 decoder).
local function utf8_chars(s)
  local cps = fsx_pattern.decode(s)
  if not cps then return nil end
  for i = 1, #cps do cps[i] = fsx_pattern.char(cps[i]) end
  return cps
end

--- Length of a string in Unicode characters, or nil when it is not valid UTF-8.
function M.char_length(s)
  return (fsx_pattern.length(s))
end

-- ---------------------------------------------------------------------------
-- Normal form: an array of { key = string, value = string }

local function is_reserved(key)
  return key:sub(1, 4):lower() == "aws:"
end
M.is_reserved = is_reserved

local function scalar(v)
  if type(v) == "string" then return v end
  if type(v) == "number" then
    if v == math.floor(v) and v > -2 ^ 53 and v < 2 ^ 53 then return string.format("%d", v) end
    return tostring(v)
  end
  return nil
end

--- Turn a map (`{ Name = "x" }`) or a list (`{ { key = "Name", value = "x" } }`,
-- API names `Key`/`Value` accepted too) into a list of `{ key =, value = }`.
-- A map comes out sorted by key; a list keeps its order; a missing value is
-- `""`; numbers become strings. A key given twice is a `validation` error.
-- @param t map, list or nil
-- @tparam[opt] string where the field named in errors (default `"tags"`)
-- @tparam[opt] string op the operation named in errors (`"create_backup"`)
-- @treturn table list of fresh `{ key =, value = }` tables
function M.normalize(t, where, op)
  where = where or "tags"
  if t == nil then return {} end
  if type(t) ~= "table" then errors.raise_validation(op, where, "must be a map or a list of tags") end
  local n = #errors.check_plain(op, where, t)
  local count = 0
  for _ in pairs(t) do count = count + 1 end
  local out, seen = {}, {}
  local function add(key, value, at)
    if type(key) ~= "string" then errors.raise_validation(op, at, "key must be a string") end
    local v = value == nil and "" or scalar(value)
    if not v then errors.raise_validation(op, at, "value must be a string") end
    if seen[key] then errors.raise_validation(op, at, "key '" .. key .. "' given twice") end
    seen[key] = true
    out[#out + 1] = { key = key, value = v }
  end
  if n > 0 or count == 0 then
    if count ~= n then errors.raise_validation(op, where, "must be either a map or a list, not both") end
    for i = 1, n do
      local tag = t[i]
      local at = where .. "[" .. i .. "]"
      if type(tag) ~= "table" then errors.raise_validation(op, at, "must be a { key =, value = } table") end
      errors.check_plain(op, at, tag)
      local key, value = tag.key, tag.value
      if key == nil then key, value = tag.Key, tag.Value end
      add(key, value, at)
    end
  else
    local keys = {}
    for k in pairs(t) do
      if type(k) ~= "string" then errors.raise_validation(op, where, "map keys must be strings") end
      keys[#keys + 1] = k
    end
    table.sort(keys)
    for _, k in ipairs(keys) do add(k, t[k], where .. "." .. k) end
  end
  return out
end

-- ---------------------------------------------------------------------------
-- Tag filters: `{ key = "value" }`, `{ key = { "a", "b" } }` (any of several
-- values), `{ key = true }` (any value); every key must match. Used by
-- prune's `tag_filter` and `list_backups`'s `tags`.

--- Check a tag filter; raises a `validation` error naming `field`.
function M.check_filter(tf, op, field)
  if type(tf) ~= "table" then errors.raise_validation(op, field, "must be a map of key = value") end
  errors.check_plain(op, field, tf)
  for k, v in pairs(tf) do
    local at = field .. "." .. tostring(k)
    if type(k) ~= "string" then errors.raise_validation(op, field, "keys must be strings") end
    if type(v) == "table" then
      errors.check_plain(op, at, v)
      if #v == 0 then errors.raise_validation(op, at, "must list at least one value") end
      for i, x in ipairs(v) do
        if type(x) ~= "string" then errors.raise_validation(op, at .. "[" .. i .. "]", "must be a string") end
      end
    elseif type(v) ~= "string" and v ~= true then
      errors.raise_validation(op, at, "must be a string, a list of strings or true")
    end
  end
  return tf
end

--- True when a tag list (`{ { key =, value = } }`, as a resource carries it;
-- anything else counts as no tags) matches a filter checked by `check_filter`.
function M.matches_filter(list, tf)
  if not tf then return true end
  local have = {}
  for _, tag in ipairs(type(list) == "table" and list or {}) do
    if type(tag) == "table" and tag.key ~= nil then have[tag.key] = tag.value end
  end
  for key, want in pairs(tf) do
    local value = have[key]
    if value == nil then return false end
    if type(want) == "string" then
      if value ~= want then return false end
    elseif type(want) == "table" then
      local any = false
      for _, w in ipairs(want) do
        if w == value then any = true end
      end
      if not any then return false end
    end
  end
  return true
end

local function drop_reserved(list)
  local out = {}
  for _, tag in ipairs(list) do
    if not is_reserved(tag.key) then out[#out + 1] = { key = tag.key, value = tag.value } end
  end
  return out
end

local function copy_list(list)
  local out = {}
  for i, tag in ipairs(list) do out[i] = { key = tag.key, value = tag.value } end
  return out
end

-- ---------------------------------------------------------------------------
-- Key patterns (globs)

-- Match the characters p[pi..] against s[si..]; `*` backtracks.
local function glob_match(p, pi, s, si)
  while pi <= #p do
    local c = p[pi]
    if c == "*" then
      while p[pi + 1] == "*" do pi = pi + 1 end
      if pi == #p then return true end
      for k = si, #s + 1 do
        if glob_match(p, pi + 1, s, k) then return true end
      end
      return false
    end
    if si > #s then return false end
    if c ~= "?" and c ~= s[si] then return false end
    pi, si = pi + 1, si + 1
  end
  return si > #s
end

--- True when key matches the glob pattern (`*`, `?`, the rest literal), or when
-- the pattern is a function returning true for the key.
function M.match(pattern, key)
  if type(pattern) == "function" then return pattern(key) == true end
  local p = utf8_chars(pattern) or {}
  local s = utf8_chars(key) or {}
  return glob_match(p, 1, s, 1)
end

local function check_patterns(list, where, op)
  if list == nil then return nil end
  if type(list) == "string" or type(list) == "function" then list = { list } end
  if type(list) ~= "table" then errors.raise_validation(op, where, "must be a list of patterns") end
  errors.check_plain(op, where, list)
  for i, p in ipairs(list) do
    if type(p) ~= "string" and type(p) ~= "function" then
      errors.raise_validation(op, where .. "[" .. i .. "]", "must be a glob string or a function")
    end
    if type(p) == "string" and not utf8_chars(p) then
      errors.raise_validation(op, where .. "[" .. i .. "]", "is not valid UTF-8")
    end
  end
  return list
end

local function any_match(patterns, key)
  for _, p in ipairs(patterns) do
    if M.match(p, key) then return true end
  end
  return false
end

--- Keep the tags whose key matches some `include` pattern (every tag when
-- include is nil or empty) and no `exclude` pattern.
function M.filter(list, include, exclude)
  local out = {}
  for _, tag in ipairs(list) do
    local ok = true
    if include and #include > 0 then ok = any_match(include, tag.key) end
    if ok and exclude and any_match(exclude, tag.key) then ok = false end
    if ok then out[#out + 1] = { key = tag.key, value = tag.value } end
  end
  return out
end

-- ---------------------------------------------------------------------------
-- Policies

--- The named policies: `f(fs_tags, caller_tags, resource) -> list`, over
-- normalized lists (already without `aws:` keys, the copied tags already
-- filtered). They never modify their arguments. `apply` adds the checks.
M.POLICIES = {
  none = function(_, caller)
    return copy_list(caller)
  end,
  replace = function(_, caller)
    return copy_list(caller)
  end,
  file_system = function(fs)
    return copy_list(fs)
  end,
  merge = function(fs, caller)
    local out, index = {}, {}
    for _, tag in ipairs(fs) do
      out[#out + 1] = { key = tag.key, value = tag.value }
      index[tag.key] = #out
    end
    for _, tag in ipairs(caller) do
      local at = index[tag.key]
      if at then
        out[at].value = tag.value
      else
        out[#out + 1] = { key = tag.key, value = tag.value }
        index[tag.key] = #out
      end
    end
    return out
  end,
}

--- The policy names, sorted (for help texts).
function M.policy_names()
  local names = {}
  for name in pairs(M.POLICIES) do names[#names + 1] = name end
  table.sort(names)
  return names
end

--- True when the resource (a snake_case file system or volume table) has
-- CopyTagsToBackups on, false when off, nil when the table does not say.
function M.copy_tags_to_backups(resource)
  if type(resource) ~= "table" then return nil end
  local found
  for _, conf in ipairs{ "windows_configuration", "lustre_configuration",
                         "open_zfs_configuration", "ontap_configuration" } do
    local c = resource[conf]
    if type(c) == "table" and c.copy_tags_to_backups ~= nil then
      if c.copy_tags_to_backups == true then return true end
      found = false
    end
  end
  return found
end

local POLICY_FIELDS = { policy = true, include = true, exclude = true }

--- Resolve a `copy_tags` value into its parts.
-- @return name (`"merge"`, ..., or `"function"`), the policy function, include, exclude
function M.resolve(policy, op)
  local where = "copy_tags"
  local include, exclude
  if type(policy) == "table" then
    errors.check_plain(op, where, policy)
    for k in pairs(policy) do
      if not POLICY_FIELDS[k] then
        errors.raise_validation(op, where, "unknown field '" .. tostring(k) .. "' (policy, include, exclude)")
      end
    end
    include = check_patterns(policy.include, where .. ".include", op)
    exclude = check_patterns(policy.exclude, where .. ".exclude", op)
    policy = policy.policy
    if policy == nil then policy = "merge" end
  end
  if type(policy) == "function" then return "function", policy, include, exclude end
  if type(policy) ~= "string" or not M.POLICIES[policy] then
    errors.raise_validation(op, where, "must be one of " .. table.concat(M.policy_names(), ", ") ..
      ", a function or a { policy =, include =, exclude = } table")
  end
  return policy, M.POLICIES[policy], include, exclude
end

local function fail(op, name, msg)
  errors.raise_validation(op, "copy_tags", "policy '" .. name .. "' " .. msg)
end

-- Check the final list against the FSx limits.
local function check_limits(list, op, name)
  if #list > M.MAX_TAGS then
    fail(op, name, "gives " .. #list .. " tags, more than the " .. M.MAX_TAGS ..
      " FSx allows (leave some out with exclude = { ... })")
  end
  for i, tag in ipairs(list) do
    local klen, vlen = M.char_length(tag.key), M.char_length(tag.value)
    if not klen then fail(op, name, "gives tag " .. i .. " a key that is not valid UTF-8") end
    if not vlen then fail(op, name, "gives tag '" .. tag.key .. "' a value that is not valid UTF-8") end
    if klen < 1 or klen > M.MAX_KEY_CHARS then
      fail(op, name, "gives tag " .. i .. " a key of " .. klen .. " characters (1.." ..
        M.MAX_KEY_CHARS .. ")")
    end
    if vlen > M.MAX_VALUE_CHARS then
      fail(op, name, "gives tag '" .. tag.key .. "' a value of " .. vlen .. " characters (0.." ..
        M.MAX_VALUE_CHARS .. ")")
    end
  end
end

--- The checks of a policy that need only the caller's tags (run by
-- create_backup before it reads anything): `"file_system"` with tags given.
-- @return the policy name (as `resolve`)
function M.precheck(policy, caller_tags, op)
  op = op or "tags.apply"
  local name = M.resolve(policy, op)
  if name == "file_system" and #drop_reserved(M.normalize(caller_tags, "tags", op)) > 0 then
    fail(op, name, "copies the file system's tags only, but tags were given too " ..
      "(FSx would then copy nothing either): use \"merge\" to get both")
  end
  return name
end

--- Combine a resource's tags with the caller's under a policy.
-- @param policy a policy name, a function or a `{ policy =, include =, exclude = }` table
-- @param fs_tags the file system's (or volume's) tags, map or list
-- @param caller_tags the caller's tags, map or list (or nil)
-- @tparam[opt] table resource the snake_case file system or volume (passed to a
--   function policy; its CopyTagsToBackups setting is checked)
-- @tparam[opt] string op operation named in errors (default `"tags.apply"`)
-- @treturn table list of `{ key =, value = }`, possibly empty
function M.apply(policy, fs_tags, caller_tags, resource, op)
  op = op or "tags.apply"
  local name, fn, include, exclude = M.resolve(policy, op)
  local all_fs = drop_reserved(M.normalize(fs_tags, "resource tags", op))
  local fs = M.filter(all_fs, include, exclude)
  local caller = drop_reserved(M.normalize(caller_tags, "tags", op))
  M.precheck(policy, caller, op)
  local raw = fn(copy_list(fs), copy_list(caller), resource)
  if name == "function" and type(raw) ~= "table" and raw ~= nil then
    fail(op, name, "must return a map or a list of tags, not a " .. type(raw))
  end
  local ok, result = pcall(M.normalize, raw, "result", nil)
  if not ok then
    if errors.is_error(result) then fail(op, name, "returned bad tags: " .. result.message) end
    error(result, 0)
  end
  result = drop_reserved(result)
  check_limits(result, op, name)
  if #result == 0 and #all_fs > 0 and M.copy_tags_to_backups(resource) then
    fail(op, name, "leaves no tag, so FSx would copy all " .. #all_fs .. " tags of the " ..
      "resource (CopyTagsToBackups is on): give at least one tag")
  end
  return result
end

return M
