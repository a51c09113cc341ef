--- The AWS JSON 1.1 protocol as FSx speaks it.
--
-- Requests: `POST /`, `X-Amz-Target: <prefix>.<Operation>`,
-- `Content-Type: application/x-amz-json-1.1`, the input as a JSON object
-- (`{}` when empty). Responses: a JSON object on 2xx; on errors a JSON body
-- with `__type` (or `code`) and `message` (or `Message`), or the
-- `x-amzn-ErrorType` header, and `x-amzn-RequestId`.
-- @module fsx.protocol.json
local json = require "fsx.json"
local errors = require "fsx.error"

local M = {}

M.CONTENT_TYPE = "application/x-amz-json-1.1"

-- The protocol's header pairs, made once (callers must not change them).
local CONTENT_TYPE_HEADER = { "Content-Type", M.CONTENT_TYPE }
local targets = {}

--- The body and the protocol headers of a request.
-- @tparam string target_prefix e.g. `AWSSimbaAPIService_v20180301`
-- @tparam string operation API name, e.g. `CreateBackup`
-- @tparam table params API-named input (already validated)
-- @treturn string body
-- @treturn table headers, array of {name, value}
function M.build(target_prefix, operation, params)
  local body, err = json.encode(params or {})
  if not body then
    errors.raise{ kind = "validation", code = "SerializationError", operation = operation,
                  message = "cannot encode the input as JSON: " .. tostring(err) }
  end
  if body == "[]" then body = "{}" end
  local target = targets[operation]
  if not target or target[2] ~= target_prefix .. "." .. operation then
    target = { "X-Amz-Target", target_prefix .. "." .. operation }
    targets[operation] = target
  end
  return body, { CONTENT_TYPE_HEADER, target }
end

-- Longest error code and message taken from an answer: AWS's are far
-- shorter, and an error travels into logs and terminals.
M.MAX_CODE = 128
M.MAX_MESSAGE = 4096

--- The AWS error name without `namespace#` prefix and `:` suffix; nil when
-- what is left is no name (empty, too long, or other characters than
-- letters, digits, `.`, `_` and `-`: a control character would reach logs).
function M.error_code(raw)
  if type(raw) ~= "string" or raw == "" then return nil end
  raw = raw:gsub("^.*#", "")
  raw = raw:gsub(":.*$", "")
  raw = raw:gsub("^%s+", ""):gsub("%s+$", "")
  if raw == "" or #raw > M.MAX_CODE or raw:find("[^%w._%-]") then return nil end
  return raw
end

-- A service's message, at most MAX_MESSAGE bytes.
local function bounded(message)
  if message and #message > M.MAX_MESSAGE then
    return message:sub(1, M.MAX_MESSAGE) .. " ... (" .. #message .. " bytes, cut)"
  end
  return message
end

local function first_string(...)
  for i = 1, select("#", ...) do
    local v = select(i, ...)
    if type(v) == "string" and v ~= "" then return v end
  end
end

local function reason(status)
  if status >= 500 then return "the service answered HTTP " .. status end
  return "the request was refused with HTTP " .. status
end

--- Turn a response into the decoded result (2xx) or a structured error.
-- @tparam string operation API name
-- @tparam table resp `status`, `headers` (lowercase map), `body`
-- @tparam ?function extra_fields `(code, body) -> table` of the error shape's
--   extra members in snake_case
-- @return the decoded table, or nil and an error table (not raised)
function M.parse(operation, resp, extra_fields)
  local status = resp.status
  local headers = resp.headers or {}
  local request_id = headers["x-amzn-requestid"] or headers["x-amz-request-id"]
  local body = resp.body or ""
  if status >= 200 and status < 300 then
    if body == "" then return {} end
    local ctype = headers["content-type"] or ""
    local v, derr = json.decode(body)
    -- an array decodes to a table too, `[]` to an empty one
    if type(v) ~= "table" or not body:find("^[ \t\r\n]*{") then
      local what = v == nil and ("malformed JSON (" .. tostring(derr) .. ")") or "JSON that is not an object"
      if not ctype:find("json", 1, true) then
        what = what .. ", content type " .. (ctype == "" and "missing" or ("'" .. ctype .. "'"))
      end
      return nil, errors.new{ kind = "decode", code = "InvalidResponse", status = status,
                              request_id = request_id, operation = operation, retryable = true,
                              message = "the service sent " .. what }
    end
    return v
  end
  local decoded = nil
  if body ~= "" then
    local v = json.decode(body)
    if type(v) == "table" then decoded = v end
  end
  local code = M.error_code(decoded and first_string(decoded.__type, decoded.code, decoded.Code))
    or M.error_code(headers["x-amzn-errortype"])
  local message = bounded(decoded and first_string(decoded.message, decoded.Message, decoded.errorMessage))
  local e = {
    kind = "service", code = code or ("HTTP" .. status), status = status,
    request_id = request_id, operation = operation,
    message = message or reason(status),
  }
  if code and decoded and extra_fields then
    local extra = extra_fields(code, decoded)
    if extra then
      for k, v in pairs(extra) do
        if e[k] == nil then e[k] = v end
      end
    end
  end
  return nil, errors.new(e)
end

return M
