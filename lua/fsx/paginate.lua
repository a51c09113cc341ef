--- Paging: `each_<thing>` item iterators and `client:paginate` page iterators.
--
-- For each operation with a paginator in the model (DescribeBackups ->
-- `each_backup`, DescribeFileSystems -> `each_file_system`, ...) the client
-- has a method returning an iterator over the items of every page:
--
--     for backup in client:each_backup{ filters = { { name = "file-system-id", values = { id } } } } do
--       print(backup.backup_id)
--     end
--
-- and `client:paginate(operation, args, config)` iterates over whole pages
-- with their meta, as boto3's paginators do:
--
--     for page, meta in client:paginate("describe_backups", {}, { max_items = 50 }) do
--       for _, b in ipairs(page.backups) do print(b.backup_id) end
--       resume = meta.next_token   -- nil after the last page
--     end
--
-- Every listing ends: after `max_pages` pages (client option, default
-- `DEFAULT_MAX_PAGES`; `config.max_pages` per call) a listing that still has
-- a next token raises a `limit` error `PaginationLimitExceeded`, and a
-- service handing back a token it gave before raises a `decode` error
-- `PaginationLoop` at once. Pages are fetched lazily, one call when the
-- previous page is used up; nothing but the tokens seen is kept.
-- @module fsx.paginate
local errors = require "fsx.error"
local names = require "fsx.names"

local M = {}

--- Pages one listing may fetch unless the client or the call says otherwise.
M.DEFAULT_MAX_PAGES = 1000

-- A resume token that starts inside a page: the service token of that page
-- and how many of its items were already handed out.
local RESUME_PREFIX = "fsx-resume:"

--- The iterator method name for a paginated operation (`each_backup`).
function M.method_name(decl)
  local key = names.to_snake(decl.paginator.result_key)
  local singular = key:gsub("ies$", "y"):gsub("([^s])s$", "%1")
  return "each_" .. singular
end

local function whole(op, field, v)
  if v == nil then return nil end
  if type(v) ~= "number" or v ~= math.floor(v) or v < 1 or v >= 2 ^ 53 then
    errors.raise_validation(op, field, "must be a whole number >= 1")
  end
  return v
end

-- The paging settings of one call, checked.
local function settings(client, op, config)
  if config ~= nil and type(config) ~= "table" then
    errors.raise_validation(op, nil, "the paging settings must be a table")
  end
  config = config or {}
  for k in pairs(config) do
    if k ~= "max_pages" and k ~= "max_items" and k ~= "starting_token" and k ~= "page_size" then
      errors.raise_validation(op, tostring(k), "unknown paging setting")
    end
  end
  local token = config.starting_token
  if token ~= nil and type(token) ~= "string" then
    errors.raise_validation(op, "starting_token", "must be a string")
  end
  return {
    max_pages = whole(op, "max_pages", config.max_pages) or client.max_pages or M.DEFAULT_MAX_PAGES,
    max_items = whole(op, "max_items", config.max_items),
    page_size = whole(op, "page_size", config.page_size),
    starting_token = token,
  }
end

-- The service token and the items to skip that a resume token stands for.
local function decode_resume(token)
  local skip, inner = token:match("^" .. RESUME_PREFIX:gsub("%-", "%%-") .. "(%d+):(.*)$")
  if not skip then return token, 0 end
  if inner == "" then inner = nil end
  return inner, tonumber(skip)
end

local function encode_resume(token, skip)
  if skip == 0 then return token end
  return RESUME_PREFIX .. skip .. ":" .. (token or "")
end

--- Iterate over pages: `for page, meta in M.pages(client, decl, args, config, op)`.
-- `page` is the operation's snake_case output (its item list cut at
-- `max_items`), `meta` the call's meta plus `page` (1, 2, ...) and
-- `next_token` (the `starting_token` that resumes after this page, nil at the end).
-- @param client the client
-- @tparam table decl the operation declaration (with a paginator)
-- @tparam[opt] table args the operation's snake_case arguments
-- @tparam[opt] table config `max_pages`, `max_items`, `starting_token`, `page_size`
-- @tparam[opt] string op the name errors give (default the operation's snake name)
-- @treturn function iterator
function M.pages(client, decl, args, config, op)
  op = op or decl.snake
  local pg = decl.paginator
  local in_token = names.to_snake(pg.input_token)
  local out_token = names.to_snake(pg.output_token)
  local result_key = names.to_snake(pg.result_key)
  if args ~= nil and type(args) ~= "table" then errors.raise_validation(op, nil, "arguments must be a table") end
  local s = settings(client, op, config)
  local base = {}
  for k, v in pairs(args or {}) do base[k] = v end
  if s.page_size and pg.limit_key then base[names.to_snake(pg.limit_key)] = s.page_size end
  local token, skip = base[in_token], 0
  if s.starting_token then token, skip = decode_resume(s.starting_token) end
  local fetched, handed, done = 0, 0, false
  local seen = {}
  if token ~= nil then seen[token] = true end
  return function()
    if done then return nil end
    if fetched >= s.max_pages then
      errors.raise{ kind = "limit", code = "PaginationLimitExceeded", operation = decl.name,
        pages = fetched, next_token = encode_resume(token, skip),
        message = op .. ": the listing has more than " .. s.max_pages .. " pages (max_pages)" }
    end
    base[in_token] = token
    local ok, page, meta = pcall(client._operation, client, decl, base)
    if not ok then
      -- a token the service handed out that the model refuses is the
      -- service's fault, not a mistake in the caller's arguments
      if fetched > 0 and errors.is_error(page) and page.kind == "validation"
          and page.field == in_token then
        errors.raise{ kind = "decode", code = "InvalidResponse", operation = decl.name,
          message = op .. ": the service handed out a pagination token the API refuses (" .. page.message .. ")" }
      end
      error(page, 0)
    end
    fetched = fetched + 1
    local items = page[result_key] or {}
    local next_token = page[out_token]
    if next_token == "" then next_token = nil end
    if next_token ~= nil then
      if seen[next_token] then
        errors.raise{ kind = "decode", code = "PaginationLoop", operation = decl.name,
          message = op .. ": the service returned the same pagination token twice" }
      end
      seen[next_token] = true
    end
    -- items handed out before (a resume inside this page), then the max_items cut
    local first = skip + 1
    local last = #items
    if s.max_items and handed + (last - first + 1) >= s.max_items then
      last = first + (s.max_items - handed) - 1
      done = true
    end
    if first > 1 or last < #items then
      local cut = {}
      for i = first, last do cut[#cut + 1] = items[i] end
      page[result_key] = cut
    end
    handed = handed + (last - first + 1)
    if last < #items then
      meta.next_token = encode_resume(token, last)
    else
      meta.next_token = next_token
      done = done or next_token == nil
    end
    token, skip = next_token, 0
    meta.page = fetched
    return page, meta
  end
end

--- Iterate over the items of every page (what `client:each_*` returns).
-- @param client the client
-- @tparam table decl the operation declaration
-- @tparam[opt] table args the operation's snake_case arguments (a `next_token` starts mid-way)
-- @tparam[opt] table config as for `pages`
-- @treturn function iterator returning one item per call, then nil
function M.iterate(client, decl, args, config)
  local key = names.to_snake(decl.paginator.result_key)
  local next_page = M.pages(client, decl, args, config, M.method_name(decl))
  local items, index = nil, 0
  return function()
    while true do
      if items and index < #items then
        index = index + 1
        return items[index]
      end
      local page = next_page()
      if not page then return nil end
      items, index = page[key] or {}, 0
    end
  end
end

return M
