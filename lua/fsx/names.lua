--- The one snake_case rule: AWS API names (PascalCase) to Lua names.
--
-- Layer: Lua helpers (pure Lua, no dependencies). Used by `tools/gen_api.lua`
-- (every `snake` field of `fsx.api` comes from here) and by `fsx.shape` for
-- response members the model does not know.
--
-- The rule, applied to ASCII letters and digits only:
--
-- 1. insert `_` before the last capital of a run of capitals that is followed
--    by a lowercase letter (`DNSName` -> `DNS_Name`,
--    `SVMActiveDirectory...` -> `SVM_Active...`);
-- 2. insert `_` between a lowercase letter or digit and a following capital
--    (`BackupId` -> `Backup_Id`, `Ipv6Address` -> `Ipv6_Address`);
-- 3. lowercase everything.
--
-- A capital directly followed by a digit gets no `_` (`S3` -> `s3`); a digit
-- followed by a lowercase letter gets none either (`NfsV3Locks` ->
-- `nfs_v3_locks`). Names that are already snake_case come back unchanged.
-- The rule is not invertible in general (`NFS` and `Nfs` both give `nfs`);
-- the generator refuses a model where two members of one structure collide.
-- @module fsx.names
local M = {}

local gsub, lower = string.gsub, string.lower

-- Results for names seen so far; bounded so that arbitrary response keys
-- cannot grow it without limit.
local cache = require("fsx.cache").new(2048)

--- Convert an API name to snake_case with the rule above.
-- @tparam string name e.g. `ResourceARN`
-- @treturn string e.g. `resource_arn`
function M.to_snake(name)
  local r = cache.entries[name]
  if r then return r end
  assert(type(name) == "string", "fsx.names.to_snake: name must be a string")
  r = gsub(name, "(%u)(%u%l)", "%1_%2")
  r = gsub(r, "([%l%d])(%u)", "%1_%2")
  r = lower(r)
  cache:put(name, r)
  return r
end

return M
