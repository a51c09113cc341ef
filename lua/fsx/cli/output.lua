--- Renderers for `fsx-backup`: one document on stdout per command, as JSON,
-- tab-separated text or an aligned table.
--
-- Layer: CLI. Depends on `fsx.json` (and `fsx.date`). JSON is the API's response
-- shape in snake_case, as the Lua API returns it, with object keys sorted so
-- that the same result always prints the same bytes. Text output is one line
-- per item with tab-separated fields (first field the ID, for `cut -f1`);
-- table output is the same fields under a header, padded into columns.
-- @module fsx.cli.output
local json = require("fsx.json")

local M = {}

--- The formats, by name.
M.FORMATS = { json = true, text = true, table = true }

-- ---------------------------------------------------------------------------
-- Terminal safety
-- ---------------------------------------------------------------------------

local NAMED = { ["\n"] = "\\n", ["\r"] = "\\r", ["\t"] = "\\t" }

--- A string with every control character escaped, for the human formats
-- and stderr: the C0 controls and DEL as `\n`, `\r`, `\t` or `\xNN`, the
-- C1 controls (U+0080..U+009F, which some terminals obey like ESC) as
-- `\u0080`..`\u009f`. Whatever the service sends, it cannot move the cursor,
-- rewrite a line or change the terminal's state.
function M.escape(v)
  local s = tostring(v):gsub("%c", function(c)
    return NAMED[c] or string.format("\\x%02x", c:byte())
  end)
  return (s:gsub("\194([\128-\159])", function(c) return string.format("\\u%04x", c:byte()) end))
end

--- True for a number that is not NaN or infinite.
function M.finite(n)
  return type(n) == "number" and n == n and n ~= math.huge and n ~= -math.huge
end

-- ---------------------------------------------------------------------------
-- JSON
-- ---------------------------------------------------------------------------

-- Shape declarations (as in `fsx.api`) that say whether an empty table is a
-- list or an object. `M.shape_lookup(name)` returns a declaration; the CLI
-- sets it to `fsx.shape.get`. The documents' own wrappers are declared here.
M.shape_lookup = function() return nil end

local PRUNE_ENTRY = { type = "structure", members = {
  { snake = "backup", shape = "Backup" }, { snake = "reason" } } }
local PRUNE_LIST = { type = "list", member = PRUNE_ENTRY }

--- The shape of each kind of document (see `render`).
M.DOCUMENT_SHAPES = {
  backup = { type = "structure", members = { { snake = "backup", shape = "Backup" } } },
  backups = { type = "structure", members = { { snake = "backups", shape = "Backups" } } },
  delete = "DeleteBackupResponse",
  file_system = { type = "structure", members = { { snake = "file_system", shape = "FileSystem" } } },
  volume = { type = "structure", members = { { snake = "volume", shape = "Volume" } } },
  prune = { type = "structure", members = { { snake = "kept", shape = PRUNE_LIST },
                                            { snake = "deleted", shape = PRUNE_LIST },
                                            { snake = "failed", shape = PRUNE_LIST } } },
  request = { type = "structure", members = { { snake = "headers",
    shape = { type = "list", member = { type = "list" } } } } },
}

local function resolve_shape(sh)
  if type(sh) == "string" then return M.shape_lookup(sh) end
  return sh
end

-- The shape of a member (by snake name) of a structure shape, or of the
-- items of a list, the values of a map.
local function child_shape(sh, key)
  if not sh then return nil end
  if sh.type == "structure" then
    for _, m in ipairs(sh.members or {}) do
      if m.snake == key then return resolve_shape(m.shape) end
    end
    return nil
  elseif sh.type == "list" then
    return resolve_shape(sh.member)
  elseif sh.type == "map" then
    return resolve_shape(sh.value)
  end
end

-- A copy of v for `fsx.json.encode_pretty`: an empty table becomes
-- `fsx.json.EMPTY_ARRAY` unless its shape says structure or map (unknown:
-- FSx outputs have more lists, tags and IDs, that can be empty than objects
-- that can be), function values go, nil is JSON null.
local function for_json(v, sh, seen)
  if v == nil then return json.null end
  if type(v) ~= "table" then return v end
  if seen[v] then error("fsx.cli.output: cannot encode a cyclic table", 0) end
  if next(v) == nil then
    if sh and (sh.type == "structure" or sh.type == "map") then return {} end
    return json.EMPTY_ARRAY
  end
  seen[v] = true
  local copy = {}
  for k, x in pairs(v) do
    if type(x) ~= "function" then
      copy[k] = for_json(x, child_shape(sh, k), seen)
    end
  end
  seen[v] = nil
  return copy
end

--- Encode a value as indented JSON with sorted object keys
-- (`fsx.json.encode_pretty`: C1 controls escaped, non-finite numbers null).
-- @param v a string, number, boolean, table or nil/JSON null
-- @param[opt] shape a shape name or declaration (decides `[]` or `{}` for
--   empty tables)
-- @treturn string the JSON text (no trailing newline)
function M.json(v, shape)
  return assert(json.encode_pretty(for_json(v, resolve_shape(shape), {})))
end

-- ---------------------------------------------------------------------------
-- Fields of the text and table formats
-- ---------------------------------------------------------------------------

--- An API timestamp (epoch seconds, or a string already) as ISO 8601 UTC.
function M.time(t)
  if M.finite(t) then
    local ok, text = pcall(require("fsx.date").format_iso8601, t)
    if ok and text then return text end
  end
  if type(t) == "string" and t ~= "" then return M.escape(t) end
  return "-"
end

--- A percent as `42%` (`-` when it is not a finite number).
function M.percent(p)
  if not M.finite(p) then return "-" end
  return string.format("%d%%", p < 0 and 0 or p > 100 and 100 or math.floor(p))
end

local SIZE_UNITS = { "B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" }

--- A size in bytes for people: `512 B`, `1.5 GiB` (`-` when unknown).
function M.size(bytes)
  if not M.finite(bytes) or bytes < 0 then return "-" end
  local unit = 1
  while bytes >= 1024 and unit < #SIZE_UNITS do
    bytes = bytes / 1024
    unit = unit + 1
  end
  if unit == 1 then return string.format("%d B", math.floor(bytes)) end
  return (string.format("%.1f", bytes):gsub("%.0$", "")) .. " " .. SIZE_UNITS[unit]
end

local function field(v)
  if v == nil or type(v) == "userdata" then return "-" end
  if type(v) == "number" and not M.finite(v) then return "-" end
  local s = M.escape(v)
  if s == "" then return "-" end
  return s
end

--- The file system or volume a backup belongs to.
function M.resource_id(b)
  if type(b.volume) == "table" and b.volume.volume_id then return b.volume.volume_id end
  if type(b.file_system) == "table" and b.file_system.file_system_id then
    return b.file_system.file_system_id
  end
  return b.file_system_id or b.volume_id
end

local BACKUP_HEADER = { "BACKUP_ID", "LIFECYCLE", "PROGRESS", "TYPE", "RESOURCE", "CREATED", "SIZE" }

local function backup_row(b)
  return { field(b.backup_id), field(b.lifecycle), M.percent(b.progress_percent),
           field(b.type), field(M.resource_id(b)), M.time(b.creation_time), M.size(b.size_in_bytes) }
end

-- Rows (header first) for each kind of document.
local ROWS = {}

function ROWS.backup(doc)
  return { BACKUP_HEADER, backup_row(doc.backup or {}) }
end

function ROWS.backups(doc)
  local rows = { BACKUP_HEADER }
  for _, b in ipairs(doc.backups or {}) do rows[#rows + 1] = backup_row(b) end
  return rows
end

function ROWS.file_system(doc)
  local f = doc.file_system or {}
  return { { "FILE_SYSTEM_ID", "LIFECYCLE", "TYPE", "STORAGE", "CREATED" },
           { field(f.file_system_id), field(f.lifecycle), field(f.file_system_type),
             M.finite(f.storage_capacity) and M.size(f.storage_capacity * 1024 ^ 3) or "-",
             M.time(f.creation_time) } }
end

function ROWS.volume(doc)
  local v = doc.volume or {}
  return { { "VOLUME_ID", "LIFECYCLE", "NAME", "FILE_SYSTEM", "CREATED" },
           { field(v.volume_id), field(v.lifecycle), field(v.name), field(v.file_system_id),
             M.time(v.creation_time) } }
end

function ROWS.delete(doc)
  return { { "BACKUP_ID", "LIFECYCLE" }, { field(doc.backup_id), field(doc.lifecycle) } }
end

function ROWS.prune(doc)
  local rows = { { "BACKUP_ID", "ACTION", "LIFECYCLE", "TYPE", "CREATED", "REASON" } }
  local del = doc.dry_run and "would-delete" or "deleted"
  local function add(list, action)
    for _, e in ipairs(list or {}) do
      local b = e.backup or {}
      rows[#rows + 1] = { field(b.backup_id), action, field(b.lifecycle), field(b.type),
                          M.time(b.creation_time), field(e.reason) }
    end
  end
  add(doc.deleted, del)
  add(doc.failed, "failed")
  add(doc.kept, "keep")
  return rows
end

local function pad(s, width)
  return s .. string.rep(" ", width - #s)
end

local function render_rows(rows, format)
  local lines = {}
  if format == "text" then
    for i = 2, #rows do lines[#lines + 1] = table.concat(rows[i], "\t") end
  else
    local widths = {}
    for _, row in ipairs(rows) do
      for c, cell in ipairs(row) do
        if not widths[c] or #cell > widths[c] then widths[c] = #cell end
      end
    end
    for _, row in ipairs(rows) do
      local cells = {}
      for c, cell in ipairs(row) do
        cells[c] = c == #row and cell or pad(cell, widths[c])
      end
      lines[#lines + 1] = table.concat(cells, "  ")
    end
  end
  return lines
end

-- The dry-run document in text form: the request as it would go on the wire.
local function request_lines(doc)
  local lines = { doc.method .. " " .. doc.url }
  for _, h in ipairs(doc.headers or {}) do lines[#lines + 1] = h[1] .. ": " .. h[2] end
  lines[#lines + 1] = ""
  lines[#lines + 1] = doc.body or ""
  return lines
end

--- Render a document.
-- @tparam string kind `backup` (`{ backup = }`), `backups` (`{ backups = }`),
--   `file_system` (`{ file_system = }`), `volume` (`{ volume = }`),
--   `delete` (`{ backup_id =, lifecycle = }`), `prune` (`{ kept =, deleted =,
--   dry_run = }`) or `request` (a dry-run request: `method`, `url`, `headers`
--   as {name, value} pairs, `body`, `operation`)
-- @tparam table doc the document
-- @tparam string format `json`, `text` or `table`
-- @treturn string the text to print, ending in a newline (empty for an empty
--   text listing)
function M.render(kind, doc, format)
  local lines
  if format == "json" then
    lines = { M.json(doc, M.DOCUMENT_SHAPES[kind]) }
  elseif kind == "request" then
    lines = request_lines(doc)
  else
    local rows = assert(ROWS[kind], "fsx.cli.output: unknown document kind")(doc)
    lines = render_rows(rows, format)
  end
  if #lines == 0 then return "" end
  return table.concat(lines, "\n") .. "\n"
end

return M
