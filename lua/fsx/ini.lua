--- INI reader for the AWS shared files (`~/.aws/config`, `~/.aws/credentials`).
--
-- Layer: Lua layer, no dependencies. Follows the rules botocore's parser
-- applies to these files:
--
-- * `[section]` headers (inner whitespace trimmed, names case-sensitive, a
--   trailing `#` or `;` comment allowed after the closing bracket);
-- * `key = value` (or `key: value`) lines; keys are lowercased, values trimmed;
-- * whole-line comments starting with `#` or `;`; no inline comments in values
--   (`value # x` keeps the `# x`, as configparser does);
-- * indented lines continue the previous key: when that key's value is empty
--   they form one nested level of `sub = value` pairs
--   (`fsx =\n  endpoint_url = ...` gives `{ fsx = { endpoint_url = ... } }`),
--   otherwise they are appended to the value after a newline;
-- * a section repeated later is merged into the first one (later keys win).
--
-- Errors are returned, never raised: `nil, "FILE:LINE: what is wrong"`.
-- @module fsx.ini
local M = {}

local function trim(s)
  return (s:gsub("^%s+", ""):gsub("%s+$", ""))
end

-- Split "key = value" / "key: value" at the first delimiter; nil when the
-- line has none or the key is empty.
local function split_pair(line)
  local eq = line:find("=", 1, true)
  local colon = line:find(":", 1, true)
  local at = eq
  if colon and (not at or colon < at) then at = colon end
  if not at then return nil end
  local key = trim(line:sub(1, at - 1))
  if key == "" then return nil end
  return key:lower(), trim(line:sub(at + 1))
end

--- Parse INI text.
-- @tparam string text the file contents
-- @tparam[opt] string name the file name used in error messages
-- @treturn table sections: `{ [section] = { [key] = value or nested table } }`
-- @treturn table section names in order of first appearance
-- @return or `nil, message` on a syntax error (message names file and line)
function M.parse(text, name)
  name = name or "ini"
  if type(text) ~= "string" then return nil, name .. ": not text" end
  if text:find("\0", 1, true) then return nil, name .. ": binary data, not an INI file" end
  local sections, order = {}, {}
  local current, last_key, nested = nil, nil, nil
  local lineno = 0
  -- normalise line endings, then walk line by line
  text = text:gsub("\r\n", "\n"):gsub("\r", "\n")
  if text:sub(-1) ~= "\n" then text = text .. "\n" end
  for line in text:gmatch("([^\n]*)\n") do
    lineno = lineno + 1
    if lineno == 1 then line = line:gsub("^\239\187\191", "") end -- UTF-8 BOM
    local stripped = trim(line)
    local indented = line:match("^[ \t]") ~= nil
    if stripped == "" or stripped:match("^[#;]") then
      -- blank or comment line: skipped; like configparser it does not end a
      -- continuation block
    elseif indented and current and last_key then
      -- continuation of the previous key
      local value = current[last_key]
      if nested or value == "" then
        if type(value) ~= "table" then
          value = {}
          current[last_key] = value
          nested = value
        end
        local k, v = split_pair(stripped)
        if not k then
          return nil, string.format("%s:%d: expected 'key = value' in the nested block of %q",
                                    name, lineno, last_key)
        end
        nested[k] = v
      elseif type(value) == "string" then
        current[last_key] = value .. "\n" .. stripped
      end
    elseif stripped:sub(1, 1) == "[" then
      local inner, rest = stripped:match("^%[([^%]]*)%](.*)$")
      if not inner then
        return nil, string.format("%s:%d: section header without a closing ']'", name, lineno)
      end
      rest = trim(rest)
      if rest ~= "" and not rest:match("^[#;]") then
        return nil, string.format("%s:%d: unexpected text after the section header", name, lineno)
      end
      inner = trim(inner)
      if inner == "" then
        return nil, string.format("%s:%d: empty section name", name, lineno)
      end
      if not sections[inner] then
        sections[inner] = {}
        order[#order + 1] = inner
      end
      current, last_key, nested = sections[inner], nil, nil
    else
      local k, v = split_pair(stripped)
      if not k then
        return nil, string.format("%s:%d: expected '[section]' or 'key = value'", name, lineno)
      end
      if not current then
        return nil, string.format("%s:%d: 'key = value' before any [section]", name, lineno)
      end
      current[k] = v
      last_key, nested = k, nil
    end
  end
  return sections, order
end

--- Read and parse a file.
-- @tparam string path the file
-- @treturn table|nil sections (as `parse`), or nil when the file does not exist
-- @treturn ?string an error message when it exists but cannot be read or parsed
function M.read(path)
  local f, err, errno = io.open(path, "rb")
  if not f then
    if errno == 2 then return nil end -- ENOENT: a missing file is not an error
    return nil, string.format("%s: cannot open: %s", path, tostring(err))
  end
  local text, rerr = f:read("*a")
  f:close()
  if not text then
    return nil, string.format("%s: cannot read: %s", path, tostring(rerr))
  end
  local sections, perr = M.parse(text, path)
  if not sections then return nil, perr end
  return sections
end

return M
