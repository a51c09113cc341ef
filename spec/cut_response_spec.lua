-- A response cut off by the server closing the connection (inside the header
-- block, before Content-Length's end, before the last chunk) is never an
-- answer: create_backup retries it with the same token, then fails with kind
-- "transport" (never returns `{}`). Against raw_http_server.py over real
-- sockets, through fsx.new{...} and the libcurl transport.
local fsx = require "fsx"
local helpers = require "helpers"
local procs = require "support.procs"

describe("a response cut off by a closed connection", function()
  local raw

  lazy_setup(function() raw = procs.start("raw_http_server.py") end)
  lazy_teardown(function() if raw then procs.stop(raw) end end)

  local cases = {
    { "/cutheaders", "inside its header block", "IncompleteResponse" },
    { "/partial", "before the Content-Length's end", "CURLE_PARTIAL_FILE" },
    { "/cutchunked", "before the last chunk", "CURLE_PARTIAL_FILE" },
  }
  for _, case in ipairs(cases) do
    it(case[2] .. " is retried with the same token, then a transport failure", function()
      local tokens = {}
      local c = fsx.new{
        region = "us-east-1", endpoint_url = raw.url .. case[1],
        credentials = helpers.credentials(), max_attempts = 3, sleep = function() end,
        debug = function(event, data)
          if event == "request" then
            tokens[#tokens + 1] = data.body:match('"ClientRequestToken":"([^"]+)"')
          end
        end,
      }
      local ok, err = pcall(c.create_backup, c, { file_system_id = "fs-0123456789abcdef0" })
      assert.is_false(ok, "a cut response was taken as an answer")
      assert.equal("table", type(err))
      assert.equal("transport", err.kind)
      assert.equal(case[3], err.code)
      assert.equal(3, err.attempts)
      assert.is_true(err.retryable)
      assert.equal(3, #tokens)
      assert.equal(tokens[1], tokens[2])
      assert.equal(tokens[1], tokens[3])
    end)
  end
end)
