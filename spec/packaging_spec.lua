-- Packaging and documentation checks that need no server and no install
-- (`make version-check` runs this file alone; the busted suites run it too):
--
-- * the version lives only in lua/fsx/version.lua, and fsx._VERSION, the user
--   agent, `fsx-backup --version` and any release rockspec agree with it;
-- * the rockspec hands the build to the Makefile, with no dependency LuaRocks
--   cannot see on Debian;
-- * README.md opens with the two set-up commands and links every file of
--   docs/; docs/ covers every operation, client option, environment variable
--   and error kind (spec/readme_spec.lua runs README's examples);
-- * make docs publishes the public modules only, and names whole;
-- * CONTRIBUTING.md names every function of fsx.core and every module.
--
-- The real install (luarocks make, make install) is exercised by
-- scripts/test.d/packaging.sh.
local helpers = require "helpers"

local ROOT = helpers.ROOT
local LUA = helpers.LUA

local function read(path)
  return assert(helpers.read_file(ROOT .. "/" .. path), "cannot read " .. path)
end

-- Files under a directory of the repository (relative paths, sorted).
local function find(dir, name_pattern)
  local out = helpers.run("cd " .. helpers.q(ROOT) .. " && find " .. dir .. " -type f -name "
                          .. helpers.q(name_pattern) .. " | LC_ALL=C sort")
  local list = {}
  for line in out:gmatch("[^\n]+") do list[#list + 1] = line end
  return list
end

-- A rockspec's fields (rockspecs are Lua assignments to globals).
local function load_rockspec(path)
  local env = {}
  local chunk
  local text = read(path)
  local setfenv = rawget(_G, "setfenv")        -- Lua 5.1 / LuaJIT
  if setfenv then
    chunk = assert(rawget(_G, "loadstring")(text, path))
    setfenv(chunk, env)
  else
    chunk = assert(load(text, path, "t", env))
  end
  chunk()
  return env
end

-- The module name of a file under lua/ (lua/fsx/cli/init.lua -> fsx.cli).
local function module_of(path)
  return (path:gsub("^lua/", ""):gsub("%.lua$", ""):gsub("/init$", ""):gsub("/", "."))
end

local VERSION = dofile(ROOT .. "/lua/fsx/version.lua")

describe("rockspec/fsx-scm-1.rockspec", function()
  local spec = load_rockspec("rockspec/fsx-scm-1.rockspec")

  it("is the development rockspec of the fsx package", function()
    assert.equal("fsx", spec.package)
    assert.equal("scm-1", spec.version)
    assert.equal("MIT", spec.description.license)
  end)

  it("depends on Lua 5.1+ only (lua-cjson is Debian's package, docs/install.md)", function()
    assert.same({ "lua >= 5.1" }, spec.dependencies)
    assert.is_nil(spec.external_dependencies)   -- the Makefile asks pkg-config
  end)

  it("hands the build and the install to the Makefile with LuaRocks' variables", function()
    assert.equal("make", spec.build.type)
    assert.is_nil(spec.build.modules)
    assert.equal("$(LUA)", spec.build.build_variables.LUA)
    assert.equal("$(LUA_INCDIR)", spec.build.build_variables.LUA_INCDIR)
    assert.equal("install-lib", spec.build.install_target)
    assert.equal("$(LIBDIR)", spec.build.install_variables.LIBDIR)
    assert.equal("$(LUADIR)", spec.build.install_variables.LUADIR)
    assert.truthy(read("Makefile"):find("\ninstall%-lib:"))
  end)

  it("installs the fsx-backup script", function()
    assert.same({ ["fsx-backup"] = "bin/fsx-backup" }, spec.build.install.bin)
  end)
end)

describe("the version", function()
  it("is one string in lua/fsx/version.lua", function()
    assert.equal("string", type(VERSION))
    assert.truthy(VERSION:match("^%d+%.%d+%.%d+$"), VERSION)
  end)

  it("is fsx._VERSION and starts the user agent", function()
    local fsx = require "fsx"
    assert.equal(VERSION, fsx._VERSION)
    local ua = require("fsx.useragent").build{ retry_mode = "standard" }
    assert.equal("lua-fsx/" .. VERSION .. " ", ua:sub(1, #VERSION + 9))
  end)

  it("is what fsx-backup --version prints", function()
    local out, code = helpers.run("cd " .. helpers.q(ROOT) .. " && " .. LUA .. " bin/fsx-backup --version")
    assert.equal(0, code, out)
    assert.truthy(out:match("^fsx%-backup " .. VERSION:gsub("%.", "%%.") .. " %("), out)
  end)

  it("is spelled out nowhere else in the code or the rockspecs", function()
    local files = {}
    for _, dir in ipairs{ "lua", "bin", "src", "rockspec", "tools" } do
      for _, f in ipairs(find(dir, "*")) do
        if f ~= "lua/fsx/version.lua" then files[#files + 1] = f end
      end
    end
    local needle = VERSION
    for _, f in ipairs(files) do
      local text = read(f)
      -- a release rockspec carries the version by design: it must be this one
      if not f:match("^rockspec/fsx%-%d") then
        assert.falsy(text:find(needle, 1, true), f .. " spells out the version " .. needle
                     .. ": read it from fsx.version instead")
      end
    end
  end)

  it("matches any release rockspec", function()
    for _, f in ipairs(find("rockspec", "fsx-*.rockspec")) do
      local spec = load_rockspec(f)
      if spec.version ~= "scm-1" then
        assert.equal(VERSION, spec.version:match("^(.-)%-%d+$"), f)
        assert.equal("rockspec/fsx-" .. spec.version .. ".rockspec", f)
      end
    end
  end)
end)

describe("README.md", function()
  local readme = read("README.md")

  it("opens with a paragraph and the two set-up commands", function()
    local first = readme:find("```", 1, true)
    assert.truthy(first, "no code block")
    local intro = readme:sub(1, first - 1)
    assert.truthy(intro:match("^# lua%-fsx\n\n%S"), "README.md must start with its title and a paragraph")
    assert.falsy(intro:find("\n#", 1, true), "nothing but the intro comes before the set-up commands")
    local block = readme:match("^```sh\n(.-)```", first)
    assert.equal("sh scripts/deps.sh && make demo\nsh scripts/deps.sh && make test\n", block)
  end)

  it("links every file of docs/", function()
    for _, f in ipairs(find("docs", "*.md")) do
      assert.truthy(readme:find("(" .. f .. ")", 1, true), "README.md does not link " .. f)
    end
  end)

  it("points at bench/RESULTS.md for the performance figures", function()
    assert.truthy(readme:find("\n## Performance\n", 1, true))
    assert.truthy(readme:find("bench/RESULTS.md", 1, true))
  end)
end)

describe("docs/", function()
  local docs = {}
  for _, f in ipairs(find("docs", "*.md")) do docs[#docs + 1] = read(f) end
  docs = table.concat(docs, "\n")

  local function mentions(word)
    return docs:find(word, 1, true) ~= nil
  end

  it("lists every operation of lua/fsx/api.lua (docs/api.md)", function()
    local api_doc = read("docs/api.md")
    for _, decl in pairs(require("fsx.api").operations) do
      assert.truthy(api_doc:find("`" .. decl.snake .. "`", 1, true), "docs/api.md does not list " .. decl.snake)
    end
  end)

  it("documents every client option (docs/configuration.md)", function()
    local conf = read("docs/configuration.md")
    for name in pairs(require("fsx.client").OPTIONS) do
      assert.truthy(conf:find("`" .. name .. "`", 1, true),
                    "docs/configuration.md does not document the option " .. name)
    end
  end)

  it("documents every environment variable the library reads", function()
    local seen = {}
    for _, f in ipairs(find("lua", "*.lua")) do
      for name in read(f):gmatch('"(AWS_[A-Z0-9_]*[A-Z0-9])"') do
        if name ~= "AWS_BACKUP" then seen[name] = true end
      end
    end
    assert.truthy(seen.AWS_REGION)
    for name in pairs(seen) do
      assert.truthy(mentions(name), "docs/ does not document " .. name)
    end
  end)

  it("explains every error kind (docs/errors.md)", function()
    local errors = read("docs/errors.md")
    for kind in pairs(require("fsx.error").KINDS) do
      assert.truthy(errors:find("`" .. kind .. "`", 1, true), "docs/errors.md does not explain the kind " .. kind)
    end
  end)
end)

describe("the API reference (make docs)", function()
  local config = read("config.ld")
  local files = {}
  for f in config:match("\nfile = (%b{})"):gmatch('"([^"]+)"') do files[#files + 1] = f end

  it("publishes only the public modules, and each exists", function()
    assert.truthy(#files >= 5)
    local internal = { "fsx/ini.lua", "fsx/strings.lua", "fsx/shape_lines.lua", "fsx/api.lua",
                       "fsx/unicode_data.lua", "fsx/cli/", "fsx/transport/", "fsx/util.lua" }
    for _, f in ipairs(files) do
      assert.truthy(helpers.read_file(ROOT .. "/" .. f), f)
      for _, bad in ipairs(internal) do
        assert.falsy(f:find(bad, 1, true), "config.ld publishes the internal " .. f)
      end
    end
  end)

  it("has operation headings Markdown cannot mangle, and create_backup's own arguments", function()
    local page = helpers.run("cd " .. helpers.q(ROOT) .. " && " .. LUA .. " tools/gen_api_doc.lua")
    assert.falsy(page:find("\n#+ [^\n]*_"), "a Markdown heading with an underscore")
    local section = page:match('<h2><a name="create_backup">.-\n(.-)<h2>')
    assert.truthy(section, "no create_backup section")
    for _, arg in ipairs{ "file_system_id", "volume_id", "tags", "client_request_token", "copy_tags", "wait" } do
      assert.truthy(section:find("<code>" .. arg .. "</code>", 1, true), "create_backup does not document " .. arg)
    end
  end)
end)

describe("CONTRIBUTING.md", function()
  local text = read("CONTRIBUTING.md")

  it("names every function of the fsx.core binding", function()
    for name, v in pairs(require("fsx.core")) do
      if type(v) == "function" then
        assert.truthy(text:find("core." .. name .. "(", 1, true), "CONTRIBUTING.md does not describe core." .. name)
      end
    end
  end)

  it("names every Lua module", function()
    for _, path in ipairs(find("lua/fsx", "*.lua")) do
      local name = module_of(path)
      local short = name:match("^fsx%.(.+)$")
      local rel = path:gsub("^lua/fsx/", "")
      local found = text:find("`" .. name .. "`", 1, true)
        or (short and text:find(rel, 1, true))
      assert.truthy(found, "CONTRIBUTING.md does not place " .. name .. " (" .. path .. ")")
    end
  end)
end)
