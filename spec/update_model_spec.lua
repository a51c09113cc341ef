-- make update-model: a newer botocore model in one command. Against a copy
-- of the tree (lua/, tools/, model/, the Makefile) and a botocore data
-- directory made from model/ with one operation removed, one added (with a
-- paginator and a new error type) and one shape changed: the printed report
-- names each, lua/fsx/api.lua is regenerated (the client gets the new
-- method and iterator) and `make api-check` agrees with it.
local helpers = require "helpers"
local procs = require "support.procs"

local LUA = helpers.LUA
local q = procs.shell_quote

local read = helpers.read_file

local run = helpers.run_ok

-- botocore's data directory, from model/, changed by Python's json (which
-- keeps the key order, as botocore's files have it).
local CHANGE = [[
import json, sys
src, dst = sys.argv[1], sys.argv[2]
with open(src + "/fsx/2018-03-01/service-2.json") as f:
    m = json.load(f)
del m["operations"]["DeleteSnapshot"]
m["operations"]["DescribeWidgets"] = {
    "name": "DescribeWidgets", "http": {"method": "POST", "requestUri": "/"},
    "input": {"shape": "DescribeWidgetsRequest"}, "output": {"shape": "DescribeWidgetsResponse"},
    "errors": [{"shape": "BadRequest"}, {"shape": "WidgetNotFound"}]}
m["shapes"]["DescribeWidgetsRequest"] = {"type": "structure", "members": {
    "MaxResults": {"shape": "MaxResults"}, "NextToken": {"shape": "NextToken"}}}
m["shapes"]["DescribeWidgetsResponse"] = {"type": "structure", "members": {
    "Widgets": {"shape": "Widgets"}, "NextToken": {"shape": "NextToken"}}}
m["shapes"]["Widgets"] = {"type": "list", "member": {"shape": "Widget"}}
m["shapes"]["Widget"] = {"type": "structure", "members": {"WidgetId": {"shape": "WidgetId"}}}
m["shapes"]["WidgetId"] = {"type": "string", "max": 32}
m["shapes"]["WidgetNotFound"] = {"type": "structure", "members": {
    "Message": {"shape": "ErrorMessage"}}, "exception": True}
m["shapes"]["Backup"]["members"]["WidgetCount"] = {"shape": "TotalCount"}
with open(dst + "/fsx/2018-03-01/service-2.json", "w") as f:
    json.dump(m, f, indent=2)
with open(src + "/fsx/2018-03-01/paginators-1.json") as f:
    p = json.load(f)
p["pagination"]["DescribeWidgets"] = {"input_token": "NextToken", "output_token": "NextToken",
                                      "limit_key": "MaxResults", "result_key": "Widgets"}
with open(dst + "/fsx/2018-03-01/paginators-1.json", "w") as f:
    json.dump(p, f, indent=2)
]]

describe("make update-model", function()
  local tmp, tree, data

  lazy_setup(function()
    tmp = procs.tmpdir()
    tree, data = tmp .. "/tree", tmp .. "/data"
    assert(os.execute("mkdir -p " .. q(tree) .. " " .. q(data .. "/fsx/2018-03-01")))
    assert(os.execute("cp -r lua tools model Makefile " .. q(tree)))
    local script = procs.write(tmp .. "/change.py", CHANGE)
    local out, ok = run(procs.PYTHON .. " " .. q(script) .. " model " .. q(data))
    assert(ok, out)
    assert(os.execute("cp -r model/sts model/partitions.json " .. q(data)))
    assert(os.execute("cp model/fsx/2018-03-01/endpoint-rule-set-1.json " .. q(data .. "/fsx/2018-03-01/")))
  end)
  lazy_teardown(function() procs.rmdir(tmp) end)

  it("refuses a directory without the FSx model, and writes nothing", function()
    local before = read(tree .. "/lua/fsx/api.lua")
    local out, ok = run("make -s -C " .. q(tree) .. " update-model LUA=" .. LUA
                        .. " BOTOCORE_DATA=" .. q(tmp .. "/nowhere") .. " BOTOCORE_VERSION=9.9.9")
    assert.is_false(ok)
    assert.truthy(out:find("no fsx/2018-03-01/service-2.json", 1, true), out)
    assert.equal(before, read(tree .. "/lua/fsx/api.lua"))
    assert.equal(read("model/botocore-version"), read(tree .. "/model/botocore-version"))
    out, ok = run("make -s -C " .. q(tree) .. " update-model LUA=" .. LUA)
    assert.is_false(ok)
    assert.truthy(out:find("usage: make update-model BOTOCORE_DATA=", 1, true), out)
  end)

  it("copies the model, regenerates api.lua and prints what changed", function()
    local out, ok = run("make -s -C " .. q(tree) .. " update-model LUA=" .. LUA
                        .. " BOTOCORE_DATA=" .. q(data) .. " BOTOCORE_VERSION=9.9.9")
    assert(ok, out)
    assert.truthy(out:find("botocore 1.43.67 -> 9.9.9\n", 1, true), out)
    assert.truthy(out:find("files changed: fsx/2018-03-01/service-2.json, "
                           .. "fsx/2018-03-01/paginators-1.json\n", 1, true), out)
    assert.truthy(out:find("operations: 48 (was 48)\n  added: DescribeWidgets\n  removed: DeleteSnapshot\n",
                           1, true), out)
    assert.truthy(out:find("paginators: 8 (was 7)\n  added: DescribeWidgets\n", 1, true), out)
    assert.truthy(out:find("error types: 41 (was 40)\n  added: WidgetNotFound\n", 1, true), out)
    assert.truthy(out:find("  added: DescribeWidgetsRequest, DescribeWidgetsResponse, Widget, "
                           .. "WidgetId, WidgetNotFound, Widgets\n", 1, true), out)
    assert.truthy(out:find("  removed: DeleteSnapshotRequest, DeleteSnapshotResponse\n", 1, true), out)
    assert.truthy(out:find("  changed: Backup\n", 1, true), out)

    assert.equal("9.9.9\n", read(tree .. "/model/botocore-version"))
    assert.equal(read(data .. "/fsx/2018-03-01/service-2.json"),
                 read(tree .. "/model/fsx/2018-03-01/service-2.json"))
    local api_text = read(tree .. "/lua/fsx/api.lua")
    assert.truthy(api_text:find("^%-%- GENERATED by tools/gen_api.lua from botocore 9.9.9 "), api_text:sub(1, 120))
    -- what CI checks agrees with the regenerated file
    local check, cok = run("make -s -C " .. q(tree) .. " api-check LUA=" .. LUA)
    assert(cok, check)
    -- the regenerated tree's client has the new method and iterator, not the removed one
    local probe = table.concat({
      "package.path = " .. string.format("%q", tree .. "/lua/?.lua;" .. tree .. "/lua/?/init.lua;") .. " .. package.path",
      "package.cpath = " .. string.format("%q", package.cpath),
      "local C = require('fsx.client').Client",
      "print(type(C.describe_widgets), type(C.each_widget), type(C.delete_snapshot))",
      "local api = require('fsx.api')",
      "print(api.shapes.Backup.members[#api.shapes.Backup.members].name, api.shapes.WidgetNotFound.exception)",
    }, "\n")
    local pout, pok = run(LUA .. " -e " .. q(probe))
    assert(pok, pout)
    assert.equal("function\tfunction\tnil\nWidgetCount\ttrue\n", pout)
  end)

  it("says nothing changed when run again on the same data", function()
    local out, ok = run("make -s -C " .. q(tree) .. " update-model LUA=" .. LUA
                        .. " BOTOCORE_DATA=" .. q(data) .. " BOTOCORE_VERSION=9.9.9")
    assert(ok, out)
    assert.truthy(out:find("files changed: none\noperations: 48 (was 48)\npaginators: 8 (was 8)\n"
                           .. "error types: 41 (was 41)\nshapes: ", 1, true), out)
    assert.falsy(out:find("added:", 1, true), out)
  end)
end)
