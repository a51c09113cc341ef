-- The User-Agent options say what they do: `user_agent` replaces the
-- library's User-Agent, `user_agent_extra` appends to it (botocore's
-- meaning of the two names). Checked on the header a request carries.
local fsx = require "fsx"
local helpers = require "helpers"

-- The User-Agent header of one describe_backups call of a client made with opts.
local function sent_user_agent(opts)
  local sent
  local o = { region = "us-east-1", endpoint_url = "http://127.0.0.1:1",
              credentials = helpers.credentials(),
              transport = function(req)
                sent = req
                return { status = 200, headers = { ["x-amzn-requestid"] = "r" }, body = '{"Backups":[]}' }
              end }
  for k, v in pairs(opts) do o[k] = v end
  local c = fsx.new(o)
  c:describe_backups{}
  for _, h in ipairs(sent.headers) do
    if h[1]:lower() == "user-agent" then return h[2], c end
  end
end

describe("User-Agent options", function()
  it("by default the header is the library's SDK-style User-Agent", function()
    local ua = sent_user_agent{}
    assert.matches("^lua%-fsx/[^ ]+ lua/[^ ]+ os/[^ ]+ cfg/retry%-mode#standard$", ua)
  end)

  it("user_agent replaces the library's User-Agent", function()
    local ua, c = sent_user_agent{ user_agent = "my-app/2.0", app_id = "nightly" }
    assert.equal("my-app/2.0", ua)
    assert.equal("my-app/2.0", c.user_agent)
  end)

  it("user_agent_extra is appended to the library's, or to a replacement", function()
    local ua = sent_user_agent{ user_agent_extra = "my-app/2.0" }
    assert.matches("^lua%-fsx/[^ ]+ .* cfg/retry%-mode#standard my%-app/2%.0$", ua)
    assert.equal("my-app/2.0 extra/1", sent_user_agent{ user_agent = "my-app/2.0", user_agent_extra = "extra/1" })
  end)

  it("credential sources send the same User-Agent", function()
    local _, c = sent_user_agent{ user_agent = "my-app/2.0", user_agent_extra = "extra/1" }
    assert.equal("my-app/2.0 extra/1", c.credentials.ctx.user_agent)
  end)
end)
