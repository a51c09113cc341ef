-- Container credentials and IMDS never go through a proxy: with http_proxy,
-- HTTP_PROXY and ALL_PROXY naming a local "proxy" (another credentials server,
-- which would answer with its own credentials), the credentials come from the
-- real servers and the proxy sees no request. libcurl reads the proxy
-- variables from the process environment, so the load runs in a child
-- process (spec/support/proxy_creds.lua).
local helpers = require "helpers"
local procs = require "support.procs"

describe("credential endpoints and proxies", function()
  local proxy, container, imds

  lazy_setup(function()
    proxy = procs.start("container_server.py")
    container = procs.start("container_server.py", "--token container-auth-token-proxy")
    imds = procs.start("imds_server.py")
  end)
  lazy_teardown(function()
    procs.stop(proxy)
    procs.stop(container)
    procs.stop(imds)
  end)

  local function load_behind_proxy(...)
    local p = helpers.q(proxy.url)
    local cmd = "env -u NO_PROXY -u no_proxy http_proxy=" .. p .. " HTTP_PROXY=" .. p
      .. " ALL_PROXY=" .. p .. " all_proxy=" .. p .. " sh -c "
      .. helpers.q(helpers.lua_command("spec/support/proxy_creds.lua", ...))
    return (helpers.run(cmd .. " 2>&1"))
  end

  it("the child's plain requests do go through the proxy (the setting is live)", function()
    local before = procs.stats(proxy).count
    local out = load_behind_proxy("plain", "http://127.0.0.1:9/creds")
    assert.matches("^status 200", out)
    assert.equal(before + 1, procs.stats(proxy).count, out)
  end)

  it("container credentials come from the container endpoint, not the proxy", function()
    local before, real_before = procs.stats(proxy).count, procs.stats(container).count
    local out = load_behind_proxy("container", container.url .. "/v2/credentials",
                                  "container-auth-token-proxy")
    assert.matches("^source container key ASIACONT%d+", out)
    assert.equal(real_before + 1, procs.stats(container).count, out)
    assert.equal(before, procs.stats(proxy).count, "the proxy saw the container request")
  end)

  it("IMDS credentials come from IMDS, not the proxy", function()
    local before = procs.stats(proxy).count
    local out = load_behind_proxy("imds", imds.url)
    assert.matches("^source imds key ASIAIMDS%d+", out)
    assert.equal(before, procs.stats(proxy).count, "the proxy saw an IMDS request")
  end)
end)
