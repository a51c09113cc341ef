-- proxy_creds.lua - load credentials from the container endpoint or IMDS in a
-- process whose environment names a proxy (http_proxy, HTTP_PROXY, ALL_PROXY:
-- libcurl reads them from the real environment), for
-- spec/credentials_proxy_spec.lua.
--
-- Usage: proxy_creds.lua container URL TOKEN | proxy_creds.lua imds URL
-- Prints "source <name> key <access key id>", or "error <text>".
-- proxy_creds.lua plain URL: one plain h:perform GET of URL (which may go
-- through the proxy); prints "status <status>".
local config = require "fsx.config"
local credentials = require "fsx.credentials"

local which, url, token = arg[1], arg[2], arg[3]
local function plain()
  local h = assert(require("fsx.core").http_new())
  print("status " .. tostring(h:perform{ method = "GET", url = url, timeout = 5 }))
  h:close()
end
local env = { HOME = "/nonexistent", AWS_CONFIG_FILE = "/nonexistent/config",
              AWS_SHARED_CREDENTIALS_FILE = "/nonexistent/credentials",
              AWS_REGION = "us-east-1", AWS_EC2_METADATA_DISABLED = "true" }
if which == "container" then
  env.AWS_CONTAINER_CREDENTIALS_FULL_URI = url
  env.AWS_CONTAINER_AUTHORIZATION_TOKEN = token
else
  env.AWS_EC2_METADATA_DISABLED = nil
  env.AWS_EC2_METADATA_SERVICE_ENDPOINT = url
end
local function load()
  local opts = { getenv = function(name) return env[name] end }
  local clock = require "fsx.clock"
  local p = credentials.new(opts, config.resolve(opts), {
    transport = require("fsx.transport.curl").new(), now = clock.now, sleep = clock.sleep,
    sign = require("fsx.sigv4").sign, user_agent = "lua-fsx-spec/1.0",
  })
  local ok, c = pcall(p.get, p)
  if ok then
    print("source " .. tostring(c.source) .. " key " .. tostring(c.access_key_id))
  else
    print("error " .. tostring(c))
  end
end

if which == "plain" then plain() else load() end
