--- What spec/wire_spec.lua and spec/wire_nginx_spec.lua script into
-- spec/support/wire_server.py: raw HTTP answers, byte for byte, and the
-- control call that queues them (each step's bytes travel base64-encoded).
local procs = require "support.procs"

local M = {}

M.FS = "fs-0123456789abcdef0"
M.BACKUP = "backup-0123456789abcdef0"
M.CT = "Content-Type: application/x-amz-json-1.1"

--- The CreateBackup result of M.BACKUP, CREATING.
M.CREATED = '{"Backup":{"BackupId":"' .. M.BACKUP .. '","Lifecycle":"CREATING",'
  .. '"Type":"USER_INITIATED","CreationTime":1700000000,"FileSystem":{"FileSystemId":"' .. M.FS .. '"}}}'

local B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
local function base64(s)
  local out = {}
  for i = 1, #s, 3 do
    local a, b, c = s:byte(i, i + 2)
    local n = a * 65536 + (b or 0) * 256 + (c or 0)
    local q = {}
    for k = 1, 4 do
      local d = math.floor(n / 64 ^ (4 - k)) % 64
      q[k] = B64:sub(d + 1, d + 1)
    end
    if not b then q[3] = "=" end
    if not c then q[4] = "=" end
    out[#out + 1] = table.concat(q)
  end
  return table.concat(out)
end

--- A raw HTTP/1.1 answer: status line, header lines, blank line, body.
function M.response(status, headers, body)
  return "HTTP/1.1 " .. status .. "\r\n" .. table.concat(headers, "\r\n")
    .. (#headers > 0 and "\r\n" or "") .. "\r\n" .. (body or "")
end

--- A 200 JSON answer with a request id and its Content-Length.
function M.ok_json(body)
  return M.response("200 OK", { M.CT, "x-amzn-RequestId: wire-1", "Content-Length: " .. #body }, body)
end

--- Queue the answers of the next connections on a running wire_server.py:
-- each step's `raw` bytes, `then` (what the server does next), `trickle`,
-- `extra` bytes and `extra_after`.
function M.script(server, steps)
  local out = {}
  for i, s in ipairs(steps) do
    out[i] = { raw = base64(s.raw or ""), ["then"] = s["then"], trickle = s.trickle,
               extra = s.extra and base64(s.extra), extra_after = s.extra_after }
  end
  procs.control(server, { steps = out })
end

return M
