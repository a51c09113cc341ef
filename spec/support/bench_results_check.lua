-- bench_results_check.lua - checks a RESULTS.md that bench/run.sh wrote on a
-- short run (`make bench-smoke`): every benchmark ran and reported, not how
-- fast anything was. Prints TAP ("ok N - ..." / "not ok N - ...").
--
-- Checks: the main table has every figure, each with our number and, where
-- a peer is named, the peer's number and a ratio; each goal row has a verdict
-- (met or MISSED, never n/a) and the count line adds up; every signer (C,
-- both Lua paths, the floor's inputs, botocore) produced the same signature;
-- no peer was missing; the diagnostic tables under it have no n/a cell.
--
-- Usage: lua5.4 spec/support/bench_results_check.lua RESULTS.md
local path = assert(arg[1], "usage: bench_results_check.lua RESULTS.md")
local f = assert(io.open(path, "r"), "cannot read " .. path)
local text = f:read("*a")
f:close()

local n, failed = 0, 0
local function check(ok, what, detail)
  n = n + 1
  if ok then
    io.write("ok ", n, " - ", what, "\n")
  else
    failed = failed + 1
    io.write("not ok ", n, " - ", what, detail and (": " .. detail) or "", "\n")
  end
end

local function cells(line)
  local list = {}
  for c in (line .. "|"):gmatch("|%s*([^|]-)%s*%f[|]") do list[#list + 1] = c end
  return list
end

-- the main table: from its header line to the first blank line
local rows, in_main = {}, false
local diag_na = {}
for line in (text .. "\n"):gmatch("([^\n]*)\n") do
  if line == "| figure | ours | peer | ratio | goal | met? |" then
    in_main = true
  elseif in_main and line == "" then
    in_main = false
  elseif in_main and line:match("^| ") then
    rows[#rows + 1] = cells(line)
  elseif not in_main and line:match("^| ") and line:find("n/a", 1, true) then
    diag_na[#diag_na + 1] = line
  end
end

local number = "^[%d,.]+"
check(#rows >= 30, "the main table has every figure", #rows .. " rows")
local goals = 0
for _, r in ipairs(rows) do
  local figure, ours, peer, ratio, goal, met = r[1], r[2], r[3], r[4], r[5], r[6]
  local label = figure .. " / " .. tostring(peer)
  check(ours and ours:match(number) ~= nil, "ours measured: " .. label, ours)
  local peer_value = peer and peer:match(": (.*)$")
  if peer_value then
    check(peer_value:match(number) ~= nil, "peer measured: " .. label, peer_value)
    check(ratio ~= nil and ratio:match("^%d+%.%d+x") ~= nil, "ratio given: " .. label, ratio)
  end
  if goal and goal ~= "—" then
    goals = goals + 1
    check(met == "met" or met == "MISSED", "goal judged: " .. label, met)
  end
end
local met_n, missed_n = text:match("Goals met: (%d+), missed: (%d+)%.")
check(met_n ~= nil and tonumber(met_n) + tonumber(missed_n) == goals,
      "the count of goals adds up", tostring(met_n) .. " + " .. tostring(missed_n) .. " vs " .. goals)
check(text:find("All signers produced the same signature", 1, true) ~= nil,
      "every signer produced the same signature")
check(not text:find("* missing peers:", 1, true), "no peer missing")
check(#diag_na == 0, "the diagnostic tables are complete", diag_na[1])

io.write(string.format("bench-smoke: %d passed, %d failed\n", n - failed, failed))
os.exit(failed == 0 and 0 or 1)
