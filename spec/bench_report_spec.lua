-- bench/report.lua, the benchmarks' arithmetic, on made-up measurements:
-- medians over rounds, ratios as the median of per-round ratios, the goal
-- verdicts at their bounds, missing peers and disagreeing signatures.
-- (No timing here: `make bench-smoke` runs the benchmarks themselves.)
local helpers = require "helpers"

local ROOT = helpers.ROOT

-- Runs report.lua on RAW lines; returns its stdout, exit status and RESULTS.md.
local function report(raw_lines, facts)
  local dir = helpers.tmpdir()
  helpers.write_file(dir .. "/raw.txt", table.concat(raw_lines, "\n") .. "\n")
  helpers.write_file(dir .. "/diag.txt", "lua5.4.stage.total 80\nlua5.4.stage.total 90\n"
                                         .. "luajit.stage.total 60\n")
  local cmd = "cd " .. helpers.q(ROOT) .. " && lua5.4 bench/report.lua " .. helpers.q(dir .. "/raw.txt")
    .. " " .. helpers.q(dir .. "/diag.txt") .. " " .. helpers.q(dir .. "/RESULTS.md")
  for _, f in ipairs(facts or { "mem_calls=100000", "rounds=3" }) do cmd = cmd .. " " .. helpers.q(f) end
  local out, rc = helpers.run(cmd .. " 2>&1")
  local md = helpers.read_file(dir .. "/RESULTS.md")
  helpers.rmdir(dir)
  return out, rc, md
end

-- The table row whose first cell is figure and whose peer cell starts with peer.
local function row(text, figure, peer)
  for line in text:gmatch("[^\n]+") do
    local cells = {}
    for c in line:gmatch("|%s([^|]*)%s") do cells[#cells + 1] = c end
    if cells[1] == figure and cells[3] and cells[3]:sub(1, #peer) == peer then
      return { ours = cells[2], peer = cells[3], ratio = cells[4], goal = cells[5], met = cells[6] }
    end
  end
  return nil
end

-- name value lines, one per round: series("c.cached", {1, 2, 3})
local function series(lines, name, values)
  for _, v in ipairs(values) do lines[#lines + 1] = name .. " " .. v end
end

describe("bench/report.lua", function()
  it("takes a ratio as the median of the per-round ratios, not the ratio of the medians", function()
    local raw = {}
    -- ours/peer per round (rates): 1/1, 1/2, 2/1 -> cost ratios peer/ours 1, 2, 0.5 -> median 1
    series(raw, "c.cached", { 100, 200, 300 })
    series(raw, "floor.lowlevel.uncached", { 100, 400, 150 })
    series(raw, "floor.evp.uncached", { 50, 50, 50 })
    series(raw, "floor.mac.uncached", { 40, 40, 40 })
    local out, rc, md = report(raw)
    assert.equal(0, rc, out)
    local r = assert(row(out, "Signing: C signer, cached key", "floor (lowlevel, uncached)"), out)
    assert.equal("200/s", r.ours)                 -- median of 100, 200, 300
    assert.equal("floor (lowlevel, uncached): 150/s", r.peer)
    assert.equal("1.00x faster", r.ratio)         -- the ratio of the medians would say 1.33x
    assert.equal("MISSED", r.met)                 -- goal "faster": 1.00x is not faster
    assert.truthy(md:find("| c.cached | 200.00 | 3 |", 1, true), md)
  end)

  it("judges 'within' with <= and 'faster' with > at their bounds", function()
    local raw = {}
    -- fsx.sigv4.sign at exactly half the C signer's rate: 2.0x the cost, goal <= 2.0x
    series(raw, "c.cached", { 1000, 1000 })
    series(raw, "lua5.4.sign", { 500, 500 })
    -- exactly 20x botocore, goal > 20x; LuaJIT a little over it
    series(raw, "botocore.sign", { 25, 25 })
    series(raw, "luajit.sign", { 501, 501 })
    local out, rc = report(raw)
    assert.equal(0, rc, out)
    local within = assert(row(out, "Signing: fsx.sigv4.sign, Lua 5.4", "C signer"), out)
    assert.same({ "2.00x the cost", "≤ 2.0x the cost", "met" }, { within.ratio, within.goal, within.met })
    local at = assert(row(out, "Signing: fsx.sigv4.sign, Lua 5.4", "botocore"), out)
    assert.same({ "20.00x faster", "> 20x faster", "MISSED" }, { at.ratio, at.goal, at.met })
    local over = assert(row(out, "Signing: fsx.sigv4.sign, LuaJIT", "botocore"), out)
    assert.equal("met", over.met)
  end)

  it("reads CPU costs (lower is better), the absolute start-up bound and flat memory", function()
    local raw = {}
    series(raw, "lua5.4.reuse.cpu_us", { 60, 70, 80 })
    series(raw, "boto3.reuse.cpu_us", { 700, 700, 700 })
    series(raw, "curl.reuse.cpu_us", { 50, 50, 50 })
    series(raw, "startup.ours.wall_ms", { 29.9, 31, 29 })
    series(raw, "lua5.4.rss_kb.1000", { 10000 })
    series(raw, "lua5.4.rss_kb.100000", { 10600 })
    series(raw, "luajit.rss_kb.1000", { 10000 })
    series(raw, "luajit.rss_kb.100000", { 10400 })
    local out, rc = report(raw)
    assert.equal(0, rc, out)
    local boto = assert(row(out, "Calls: client CPU per call, Lua 5.4", "boto3"), out)
    assert.same({ "70.0 µs", "10.00x faster", "MISSED" }, { boto.ours, boto.ratio, boto.met })
    local floor = assert(row(out, "Calls: client CPU per call, Lua 5.4", "raw libcurl"), out)
    assert.same({ "1.40x the cost", "MISSED" }, { floor.ratio, floor.met })
    local start = assert(row(out, "Start-up: one-shot wall time, Lua 5.4", "-"), out)
    assert.same({ "29.9 ms", "met" }, { start.ours, start.met })
    local mem54 = assert(row(out, "Memory: RSS after 100,000 calls, Lua 5.4", "after 1,000"), out)
    assert.same({ "1.060x", "MISSED" }, { mem54.ratio, mem54.met })
    local memjit = assert(row(out, "Memory: RSS after 100,000 calls, LuaJIT", "after 1,000"), out)
    assert.same({ "1.040x", "met" }, { memjit.ratio, memjit.met })
  end)

  it("shows a missing peer as n/a and leaves it out of the count of goals", function()
    local raw = {}
    series(raw, "c.cached", { 1000 })
    series(raw, "lua5.4.sign", { 400 })
    local out, rc = report(raw)
    assert.equal(0, rc, out)
    local r = assert(row(out, "Signing: fsx.sigv4.sign, Lua 5.4", "botocore"), out)
    assert.same({ "botocore SigV4Auth: n/a", "", "n/a" }, { r.peer, r.ratio, r.met })
    local mine = assert(row(out, "Signing: fsx.sigv4.sign, Lua 5.4", "C signer"), out)
    assert.equal("MISSED", mine.met) -- 2.5x the cost
    assert.truthy(out:find("goals met: 0, missed: 1", 1, true), out)
  end)

  it("says so when the signers disagree", function()
    local same = report({ "signature abc", "signature abc", "c.cached 1" })
    assert.truthy(same:find("All signers produced the same signature (abc...)", 1, true), same)
    local differ = report({ "signature abc", "signature abd", "c.cached 1" })
    assert.truthy(differ:find("WARNING: the signers disagree", 1, true), differ)
  end)
end)
