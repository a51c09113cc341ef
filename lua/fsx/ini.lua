--- INI reader for the AWS shared files (`~/.aws/config`, `~/.aws/credentials`).
--
-- Layer: Lua layer, no dependencies. Follows the rules botocore's parser
-- (Python's configparser) applies to these files, so that a file means the
-- same to lua-fsx as to the AWS CLI:
--
-- * a `[section]` header is the text between the first `[` and the last `]`
--   of the line, kept as it is (no trimming: `[ default ]` is not
--   `[default]`); text after that `]` is ignored;
-- * `key = value` (or `key: value`) lines; keys are lowercased, values trimmed;
-- * whole-line comments starting with `#` or `;`; no inline comments in values
--   (`value # x` keeps the `# x`);
-- * indented lines continue the previous key: when that key's value is empty
--   they form one nested level of `sub = value` pairs
--   (`fsx =\n  endpoint_url = ...` gives `{ fsx = { endpoint_url = ... } }`),
--   otherwise they are appended to the value after a newline;
-- * a section or a key repeated within a section, a UTF-8 byte order mark,
--   a line that is neither, are errors (the AWS CLI refuses them too).
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
  local at = line:find("[=:]")
  if not at then return nil end
  local key = trim(line:sub(1, at - 1))
  if key == "" then return nil end
  return key:lower(), trim(line:sub(at + 1))
end

local SPACE = { [" "] = true, ["\t"] = true, ["\r"] = true, ["\n"] = true }

--- Split text into words as Python's `shlex.split` does (POSIX rules, no
-- comments), which botocore applies to `[profile NAME]` headers and to
-- `credential_process`: words end at blanks; `'...'` keeps everything
-- literally; in `"..."` a backslash escapes only `"` and `\`; outside
-- quotes a backslash escapes any character; quoted parts join the word
-- around them; `$`, `;`, `|`, `#` are ordinary characters.
-- @tparam string s the text
-- @treturn ?table the words, or nil and the reason (an open quote, a
--   trailing backslash)
function M.shell_split(s)
  local words, cur, in_word = {}, {}, false
  local i, n = 1, #s
  while i <= n do
    local ch = s:sub(i, i)
    if SPACE[ch] then
      if in_word then
        words[#words + 1] = table.concat(cur)
        cur, in_word = {}, false
      end
    elseif ch == "\\" then
      if i == n then return nil, "no character after the last backslash" end
      i = i + 1
      cur[#cur + 1] = s:sub(i, i)
      in_word = true
    elseif ch == "'" then
      local j = s:find("'", i + 1, true)
      if not j then return nil, "no closing quotation" end
      cur[#cur + 1] = s:sub(i + 1, j - 1)
      i, in_word = j, true
    elseif ch == '"' then
      in_word = true
      i = i + 1
      while true do
        if i > n then return nil, "no closing quotation" end
        local c = s:sub(i, i)
        if c == '"' then break end
        if c == "\\" then
          if i == n then return nil, "no closing quotation" end
          local nx = s:sub(i + 1, i + 1)
          if nx == '"' or nx == "\\" then
            c = nx
            i = i + 1
          end
        end
        cur[#cur + 1] = c
        i = i + 1
      end
    else
      cur[#cur + 1] = ch
      in_word = true
    end
    i = i + 1
  end
  if in_word then words[#words + 1] = table.concat(cur) end
  return words
end

--- Quote a word for a POSIX shell, the inverse of `shell_split`: the word in
-- single quotes, each `'` in it written `'\''`.
-- @tparam string|number s the word
-- @treturn string the quoted word
function M.shell_quote(s)
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end

--- Parse INI text.
-- @tparam string text the file contents
-- @tparam[opt] string name the file name used in error messages
-- @treturn table sections: `{ [section] = { [key] = value or nested table } }`
-- @treturn table section names in the order of the file
-- @return or `nil, message` on a syntax error (message names file and line)
function M.parse(text, name)
  name = name or "ini"
  if type(text) ~= "string" then return nil, name .. ": not text" end
  if text:find("\0", 1, true) then return nil, name .. ": binary data, not an INI file" end
  if text:sub(1, 3) == "\239\187\191" then
    return nil, name .. ":1: starts with a UTF-8 byte order mark (the AWS CLI refuses it too);"
      .. " save the file without it"
  end
  local sections, order = {}, {}
  local current, last_key, nested = nil, nil, nil
  local lineno = 0
  local function fail(fmt, ...)
    return nil, string.format("%s:%d: " .. fmt, name, lineno, ...)
  end
  -- normalise line endings, then walk line by line
  text = text:gsub("\r\n", "\n"):gsub("\r", "\n")
  if text:sub(-1) ~= "\n" then text = text .. "\n" end
  for line in text:gmatch("([^\n]*)\n") do
    lineno = lineno + 1
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
        -- botocore's nested pairs: split at the first "=", keys as written
        local eq = stripped:find("=", 1, true)
        if not eq then
          return fail("expected 'key = value' in the nested block of %q", last_key)
        end
        nested[trim(stripped:sub(1, eq - 1))] = trim(stripped:sub(eq + 1))
      elseif type(value) == "string" then
        current[last_key] = value .. "\n" .. stripped
      end
    elseif stripped:sub(1, 1) == "[" then
      local header = stripped:match("^%[(.+)%]")
      if not header then
        return fail(stripped:match("^%[%]") and "empty section name"
                    or "section header without a closing ']'")
      end
      if sections[header] then
        return fail("section [%s] appears a second time (the AWS CLI refuses this too)", header)
      end
      sections[header] = {}
      order[#order + 1] = header
      current, last_key, nested = sections[header], nil, nil
    else
      local k, v = split_pair(stripped)
      if not k then
        return fail("expected '[section]' or 'key = value'")
      end
      if not current then
        return fail("'key = value' before any [section]")
      end
      if current[k] ~= nil then
        return fail("%s is set a second time in this section (the AWS CLI refuses this too)", k)
      end
      current[k] = v
      last_key, nested = k, nil
    end
  end
  return sections, order
end

--- Read and parse a file.
-- @tparam string path the file
-- @treturn table|nil sections (as `parse`), or nil when the file does not
--   exist or is a directory (botocore ignores both)
-- @treturn ?string an error message when it exists but cannot be read or parsed
-- @treturn ?table the section names in file order (as `parse`)
function M.read(path)
  local f, err, errno = io.open(path, "rb")
  if not f then
    if errno == 2 then return nil end -- ENOENT: a missing file is not an error
    return nil, string.format("%s: cannot open: %s", path, tostring(err))
  end
  local text, rerr, rerrno = f:read("*a")
  f:close()
  if not text then
    if rerrno == 21 then return nil end -- EISDIR
    return nil, string.format("%s: cannot read: %s", path, tostring(rerr))
  end
  local sections, order = M.parse(text, path)
  if not sections then return nil, order end
  return sections, nil, order
end

return M
