-- fsx.endpoint_rules: the endpoint rule-set interpreter, against every case
-- of botocore's FSx and STS endpoint tests (read from the vendored
-- model/tests at test time), against botocore's own interpreter over the same
-- vendored data, and on rule sets written here for what the AWS data does not
-- exercise (templates, attribute paths, scopes, region overrides).
local cjson = require("cjson")
local rules = require("fsx.endpoint_rules")
local endpoint = require("fsx.endpoint")
local errors = require("fsx.error")
local helpers = require("helpers")

local DATA = {
  fsx = require("fsx.endpoint_data.fsx"),
  sts = require("fsx.endpoint_data.sts"),
}
local PARTITIONS = require("fsx.endpoint_data.partitions")

local function load_json(path)
  return cjson.decode((assert(helpers.read_file(path), "cannot read " .. path)))
end

-- cjson decodes JSON null as a sentinel; the test files have none, but a
-- case with one must not pass as "set".
local function plain(t)
  for _, v in pairs(t) do assert(v ~= cjson.null, "null in a test case") end
  return t
end

-- The rule-set parameters of an operation input: its built-ins mapped
-- through the rule set's `builtIn` declarations.
local function builtin_params(ruleset, builtins)
  local by_builtin = {}
  for name, decl in pairs(ruleset.parameters) do
    if decl.builtIn then by_builtin[decl.builtIn] = name end
  end
  local params = {}
  for k, v in pairs(builtins) do params[assert(by_builtin[k], "unknown built-in " .. k)] = v end
  return params
end

-- The same case through the public API of fsx.endpoint.
local function public_args(service, params)
  return { service = service, region = params.Region, use_fips = params.UseFIPS,
           use_dualstack = params.UseDualStack, endpoint_url = params.Endpoint,
           use_global_endpoint = params.UseGlobalEndpoint }
end

local function check(service, params, expect)
  local ep, msg = rules.resolve(DATA[service], params, PARTITIONS)
  local ok, got = pcall(endpoint.resolve, public_args(service, params))
  if expect.error then
    assert.is_nil(ep)
    assert.are.equal(expect.error, msg)
    assert.is_false(ok)
    assert.is_true(errors.is_error(got), tostring(got))
    assert.are.equal("validation", got.kind)
    assert.are.equal("InvalidConfiguration", got.code)
    assert.are.equal("endpoint", got.field)
    assert.truthy(got.message:find(expect.error, 1, true), got.message)
  else
    assert.is_table(ep, msg)
    assert.are.equal(expect.endpoint.url, ep.url)
    assert.are.same(expect.endpoint.properties or {}, ep.properties)
    assert.are.same(expect.endpoint.headers or {}, ep.headers)
    assert.is_true(ok, tostring(got))
    assert.are.equal(expect.endpoint.url, got.url)
  end
end

describe("fsx.endpoint_rules", function()
  for _, service in ipairs{ "fsx", "sts" } do
    local file = "model/tests/" .. service .. "/endpoint-tests-1.json"
    describe(file, function()
      local cases = load_json(file).testCases
      it("has the cases botocore ships", function()
        assert.is_true(#cases >= 48)
      end)
      for i, case in ipairs(cases) do
        it(string.format("%d: %s", i, case.documentation), function()
          check(service, plain(case.params or {}), case.expect)
          for _, input in ipairs(case.operationInputs or {}) do
            check(service, plain(builtin_params(DATA[service], input.builtInParams)), case.expect)
          end
        end)
      end
    end)
  end

  it("agrees with botocore's interpreter over the vendored data, region by region", function()
    -- every listed region, every partition's pattern with an unlisted name,
    -- and names no pattern matches; each with FIPS, dual-stack, both, none
    local regions = { "xx-future-1", "mars-base-9", "us-gov-future-7", "eusc-de-south-2",
                      "eusc-fr-east-1", "us-isob-west-3", "eu-isoe-north-2", "us-isof-east-9",
                      "cn-south-5" }
    for _, p in ipairs(PARTITIONS.partitions) do
      for r in pairs(p.regions) do regions[#regions + 1] = r end
    end
    table.sort(regions)
    local cases = {}
    for _, service in ipairs{ "fsx", "sts" } do
      for _, r in ipairs(regions) do
        for _, f in ipairs{ false, true } do
          for _, d in ipairs{ false, true } do
            cases[#cases + 1] = { service = service,
                                  params = { Region = r, UseFIPS = f, UseDualStack = d } }
          end
        end
        if service == "sts" then
          cases[#cases + 1] = { service = service,
                                params = { Region = r, UseGlobalEndpoint = true } }
        end
      end
    end
    local dir = helpers.tmpdir()
    helpers.write_file(dir .. "/in.json", cjson.encode(cases))
    local out, rc = helpers.run("/usr/bin/python3 spec/support/botocore_endpoints.py < "
                                .. dir .. "/in.json 2>" .. dir .. "/err")
    local err = helpers.read_file(dir .. "/err")
    helpers.rmdir(dir)
    assert.are.equal(0, rc, err)
    local want = cjson.decode(out)
    assert.are.equal(#cases, #want)
    for i, c in ipairs(cases) do
      local ep, msg = rules.resolve(DATA[c.service], c.params, PARTITIONS)
      local label = c.service .. " " .. cjson.encode(c.params)
      if want[i].error then
        assert.are.equal(want[i].error, msg, label)
      else
        assert.is_table(ep, label .. ": " .. tostring(msg))
        assert.are.equal(want[i].url, ep.url, label)
        assert.are.same(want[i].properties, ep.properties, label)
      end
    end
  end)

  it("resolves the European Sovereign Cloud and the isolated partitions' dual-stack hosts", function()
    local want = {
      { "eusc-de-east-1", false, false, "https://fsx.eusc-de-east-1.amazonaws.eu" },
      { "eusc-de-east-1", true, false, "https://fsx-fips.eusc-de-east-1.amazonaws.eu" },
      { "eusc-de-east-1", false, true, "https://fsx.eusc-de-east-1.api.amazonwebservices.eu" },
      { "us-iso-east-1", false, true, "https://fsx.us-iso-east-1.api.aws.ic.gov" },
      { "us-iso-east-1", true, true, "https://fsx-fips.us-iso-east-1.api.aws.ic.gov" },
      { "us-isob-east-1", false, true, "https://fsx.us-isob-east-1.api.aws.scloud" },
      { "eu-isoe-west-1", false, true, "https://fsx.eu-isoe-west-1.api.cloud-aws.adc-e.uk" },
      { "us-isof-south-1", false, true, "https://fsx.us-isof-south-1.api.aws.hci.ic.gov" },
    }
    for _, c in ipairs(want) do
      local ep = endpoint.resolve{ region = c[1], use_fips = c[2], use_dualstack = c[3] }
      assert.are.equal(c[4], ep.url)
    end
    assert.are.equal("aws-eusc", endpoint.partition("eusc-de-east-1").name)
  end)

  it("generated the data modules from the vendored JSON (make endpoints-check)", function()
    local lua = helpers.LUA
    local out, rc = helpers.run(lua .. " tools/gen_endpoints.lua --check 2>&1")
    assert.are.equal(0, rc, out)
  end)

  it("takes a new region or partition as a data update (tools/gen_endpoints.lua)", function()
    local lua = helpers.LUA
    local dir = helpers.tmpdir()
    assert(os.execute("mkdir -p " .. dir .. "/lua/fsx && cp -R model " .. dir
                      .. " && cp -R lua/fsx/endpoint_data " .. dir .. "/lua/fsx/"))
    local parts = load_json("model/partitions.json")
    local aws = parts.partitions[1]
    aws.regions["us-north-9"] = { description = "US North (new)" }
    local new = cjson.decode(cjson.encode(aws))
    new.id, new.regionRegex, new.regions = "aws-zz", "^zz\\-\\w+\\-\\d+$", { ["zz-east-1"] = {} }
    new.outputs.dnsSuffix, new.outputs.supportsDualStack = "example.zz", false
    parts.partitions[#parts.partitions + 1] = new
    helpers.write_file(dir .. "/model/partitions.json", cjson.encode(parts))
    local out, rc = helpers.run(lua .. " tools/gen_endpoints.lua --root " .. dir .. " 2>&1")
    assert.are.equal(0, rc, out)
    assert.truthy(out:find("gen_endpoints: partition added: aws-zz", 1, true), out)
    assert.truthy(out:find("gen_endpoints: region (aws) added: us-north-9", 1, true), out)
    assert.truthy(out:find("gen_endpoints: wrote lua/fsx/endpoint_data/partitions.lua", 1, true), out)
    assert.is_nil(out:find("endpoint_data/fsx.lua", 1, true), out)
    out, rc = helpers.run(lua .. " tools/gen_endpoints.lua --check --root " .. dir .. " 2>&1")
    assert.are.equal(0, rc, out)
    local data = dofile(dir .. "/lua/fsx/endpoint_data/partitions.lua")
    local function url(region, dual)
      local ep, msg = rules.resolve(DATA.fsx, { Region = region, UseDualStack = dual }, data)
      return ep and ep.url or msg
    end
    assert.are.equal("https://fsx.us-north-9.amazonaws.com", url("us-north-9"))
    assert.are.equal("https://fsx.zz-west-4.example.zz", url("zz-west-4"))
    assert.are.equal("DualStack is enabled but this partition does not support DualStack",
                     url("zz-east-1", true))

    -- a rule set that needs a function the interpreter lacks stops the update
    local fsx_rules = load_json("model/fsx/2018-03-01/endpoint-rule-set-1.json")
    table.insert(fsx_rules.rules, 1, { type = "error", error = "x", conditions = {
      { fn = "aws.parseArn", argv = { { ref = "Region" } } } } })
    helpers.write_file(dir .. "/model/fsx/2018-03-01/endpoint-rule-set-1.json", cjson.encode(fsx_rules))
    out, rc = helpers.run(lua .. " tools/gen_endpoints.lua --root " .. dir .. " 2>&1")
    helpers.rmdir(dir)
    assert.are_not.equal(0, rc)
    assert.truthy(out:find("function aws.parseArn is not implemented", 1, true), out)
  end)

  describe("the language", function()
    local PARTS = { partitions = {
      { id = "aws", regionRegex = "^(us|eu)\\-\\w+\\-\\d+$",
        outputs = { dnsSuffix = "example.com", supportsFIPS = true },
        regions = { ["us-east-1"] = { description = "x" },
                    ["us-nofips-1"] = { supportsFIPS = false } } },
      { id = "other", regionRegex = "^zz\\-\\w+\\-\\d+$",
        outputs = { dnsSuffix = "example.net", supportsFIPS = false },
        regions = { ["eu-moved-1"] = {} } },
    } }
    local function rs(rule_list, parameters)
      return { version = "1.0", rules = rule_list,
               parameters = parameters or { Region = { type = "String" } } }
    end
    local function ep_rule(url, conditions, properties)
      return { type = "endpoint", conditions = conditions or {},
               endpoint = { url = url, properties = properties } }
    end
    local partition_of = { fn = "aws.partition", argv = { { ref = "Region" } }, assign = "P" }

    it("picks a listed region's partition first, with the region's own overrides", function()
      local set = rs{ ep_rule("https://{Region}.{P#dnsSuffix}", { partition_of },
                              { fips = { fn = "getAttr", argv = { { ref = "P" }, "supportsFIPS" } },
                                name = "{P#name}" }) }
      local ep = assert(rules.resolve(set, { Region = "eu-moved-1" }, PARTS))
      assert.are.equal("https://eu-moved-1.example.net", ep.url)
      ep = assert(rules.resolve(set, { Region = "us-nofips-1" }, PARTS))
      assert.are.same({ fips = false, name = "aws" }, ep.properties)
      ep = assert(rules.resolve(set, { Region = "us-east-1" }, PARTS))
      assert.are.same({ fips = true, name = "aws" }, ep.properties)
      ep = assert(rules.resolve(set, { Region = "zz-top-3" }, PARTS))
      assert.are.equal("https://zz-top-3.example.net", ep.url)
      -- no pattern matches: the aws partition
      ep = assert(rules.resolve(set, { Region = "nowhere" }, PARTS))
      assert.are.equal("https://nowhere.example.com", ep.url)
    end)

    it("expands templates: {{ }} are braces, # paths with indexes", function()
      local set = rs({ ep_rule("https://h/{{x}}/{Region}/{L#a.b[1]}", {
        { fn = "getAttr", argv = { { ref = "Obj" }, "list" }, assign = "L" },
      }) }, { Region = { type = "string" }, Obj = { type = "string" } })
      -- a parameter of the wrong type is the caller's error, not a crash
      local ep, msg = rules.resolve(set, { Region = "r", Obj = { list = {} } }, PARTS)
      assert.is_nil(ep)
      assert.matches("Obj must be a string", msg)
      assert.are.equal("x", rules.get_attr({ a = { b = { "w", "x" } } }, "a.b[1]"))
      assert.is_nil(rules.get_attr({ a = { b = { "w" } } }, "a.b[1]"))
      assert.is_nil(rules.get_attr({ a = "s" }, "a.b"))
      assert.are.equal("y", rules.get_attr({ "y" }, "[0]"))
      set = rs{ ep_rule("https://h/{{x}}/{Region}") }
      assert.are.equal("https://h/{x}/r", assert(rules.resolve(set, { Region = "r" }, PARTS)).url)
    end)

    it("binds an assignment for later conditions and the rules below, never for siblings", function()
      local is_set = function(name) return { fn = "isSet", argv = { { ref = name } } } end
      local set = rs{
        { type = "tree", conditions = { partition_of }, rules = {
          { type = "tree", conditions = { { fn = "booleanEquals", argv = { false, true } } },
            rules = {} },
          ep_rule("https://{P#dnsSuffix}", { is_set("P") }),
        } },
      }
      assert.are.equal("https://example.com", assert(rules.resolve(set, { Region = "us-east-1" }, PARTS)).url)
      set = rs{
        ep_rule("https://never", { partition_of, { fn = "booleanEquals", argv = { true, false } } }),
        { type = "error", conditions = { is_set("P") }, error = "P leaked" },
        { type = "error", conditions = {}, error = "no P for {Region}" },
      }
      local ep, msg = rules.resolve(set, { Region = "us-east-1" }, PARTS)
      assert.is_nil(ep)
      assert.are.equal("no P for us-east-1", msg)
    end)

    it("ends at a tree whose conditions hold even when none of its rules does", function()
      local set = rs{
        { type = "tree", conditions = {}, rules = {
          ep_rule("https://a", { { fn = "not", argv = { true } } }) } },
        ep_rule("https://b"),
      }
      local ep, msg = rules.resolve(set, {}, PARTS)
      assert.is_nil(ep)
      assert.matches("no endpoint rule matched", msg)
    end)

    it("applies defaults and refuses missing, unknown or mistyped parameters", function()
      local params = { Flag = { type = "Boolean", required = true, default = true },
                       Need = { type = "String", required = true } }
      local set = rs({ ep_rule("https://x", { { fn = "booleanEquals",
                                                argv = { { ref = "Flag" }, true } } }) }, params)
      assert.are.equal("https://x", assert(rules.resolve(set, { Need = "n" }, PARTS)).url)
      assert.are.same({ nil, "missing required parameter Need" },
                      { rules.resolve(set, {}, PARTS) })
      assert.are.same({ nil, "unknown parameter Other" },
                      { rules.resolve(set, { Need = "n", Other = 1 }, PARTS) })
      assert.are.same({ nil, "parameter Flag must be a boolean, got string" },
                      { rules.resolve(set, { Need = "n", Flag = "true" }, PARTS) })
    end)

    it("raises on a malformed rule set instead of resolving something", function()
      local bad = {
        rs{ ep_rule("https://x", { { fn = "aws.isVirtualHostableS3Bucket", argv = {} } }) },
        rs{ { type = "mystery", conditions = {} } },
        rs{ ep_rule("https://{Nope}") },
        rs{ ep_rule("https://{Region") },
      }
      for _, set in ipairs(bad) do
        local ok, err = pcall(rules.resolve, set, { Region = "r" }, PARTS)
        assert.is_false(ok)
        assert.matches("^fsx%.endpoint_rules: malformed rule set", err)
      end
    end)
  end)
end)
