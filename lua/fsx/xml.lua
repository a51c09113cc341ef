--- A small XML reader over lua-expat (`lxp`), enough for AWS Query responses.
--
-- Layer: Lua layer; depends on `lxp` (Debian lua-expat). Builds a tree of
-- elements `{ name = local name, ns = namespace URI or nil, attrs = {...},
-- children = { element, ... }, text = concatenated character data }`.
-- Namespaces are split with expat's namespace mode so `name` never carries
-- a prefix. Documents with a DOCTYPE are refused (no entity expansion
-- surprises), and the input size is bounded by the caller.
-- @module fsx.xml
local lxp = require("lxp")

local M = {}

local SEP = "\1"

local function split_name(full)
  local ns, name = full:match("^(.-)" .. SEP .. "(.*)$")
  if ns then return name, ns end
  return full, nil
end

--- Parse an XML document.
-- @tparam string text
-- @treturn table the root element
-- @return or `nil, message` when the text is not well-formed XML
function M.parse(text)
  if type(text) ~= "string" or text == "" then return nil, "empty document" end
  local root
  local stack = {}
  local parts = {}   -- character data buffers, parallel to stack
  local refused
  local callbacks = {
    StartElement = function(_, name, attrs)
      local local_name, ns = split_name(name)
      local a = {}
      for k, v in pairs(attrs) do
        if type(k) == "string" then a[(split_name(k))] = v end
      end
      local el = { name = local_name, ns = ns, attrs = a, children = {} }
      local parent = stack[#stack]
      if parent then
        parent.children[#parent.children + 1] = el
      else
        root = el
      end
      stack[#stack + 1] = el
      parts[#parts + 1] = {}
    end,
    EndElement = function()
      local el = table.remove(stack)
      el.text = table.concat(table.remove(parts))
    end,
    CharacterData = function(_, s)
      local buf = parts[#parts]
      if buf then buf[#buf + 1] = s end
    end,
    StartDoctypeDecl = function()
      refused = "DOCTYPE declarations are not accepted"
    end,
  }
  local p = lxp.new(callbacks, SEP)
  local ok, msg, line = p:parse(text)
  if ok then ok, msg, line = p:parse() end
  pcall(p.close, p)
  if refused then return nil, refused end
  if not ok then
    return nil, string.format("malformed XML%s: %s", line and (" at line " .. line) or "",
                              tostring(msg))
  end
  if not root then return nil, "no root element" end
  return root
end

--- The first child element with this local name.
-- @tparam table el
-- @tparam string name
-- @treturn ?table
function M.child(el, name)
  if not el then return nil end
  for _, c in ipairs(el.children) do
    if c.name == name then return c end
  end
  return nil
end

--- Follow a path of child names: `xml.find(root, "AssumeRoleResult", "Credentials")`.
-- @treturn ?table the element or nil
function M.find(el, ...)
  local n = select("#", ...)
  for i = 1, n do
    el = M.child(el, (select(i, ...)))
    if not el then return nil end
  end
  return el
end

--- Text of the element at a path, trimmed; nil when absent.
function M.text(el, ...)
  local found = M.find(el, ...)
  if not found then return nil end
  return (found.text:gsub("^%s+", ""):gsub("%s+$", ""))
end

return M
