-- report.lua - the benchmark table from bench/run.sh's raw measurements.
--
-- Benchmark tool (bench/, not part of the library); runs under lua5.4.
-- Reads RAW ("name value" lines, one per measurement, several rounds) and
-- DIAG (the per-stage profile lines of bench/profile_call.lua), prints one
-- table (figure | ours | peer | ratio | goal | met?) and writes it, with
-- the machine, the date, every median and the per-stage profile, to OUT.
--
-- Values are medians over the rounds. A ratio between two figures measured
-- in the same rounds is the median of the per-round ratios (each pair was
-- measured side by side, seconds apart); otherwise the ratio of the medians.
--
-- Usage: lua5.4 bench/report.lua RAW DIAG OUT key=value...
--   (machine facts: nproc, cpu, kernel, date, rounds, startup_rounds,
--   mem_calls, load, commit, versions, missing)
local raw_path, diag_path, out_path = arg[1], arg[2], arg[3]
assert(raw_path and diag_path and out_path, "usage: report.lua RAW DIAG OUT key=value...")
local facts = {}
for i = 4, #arg do
  local k, v = arg[i]:match("^([%w_]+)=(.*)$")
  if k then facts[k] = v end
end

-- ---- read ---------------------------------------------------------------------
local samples, signatures = {}, {}
for line in io.lines(raw_path) do
  local k, v = line:match("^(%S+)%s+(%S+)$")
  if k == "signature" then
    signatures[v] = (signatures[v] or 0) + 1
  elseif k and tonumber(v) then
    samples[k] = samples[k] or {}
    table.insert(samples[k], tonumber(v))
  end
end
local diag = {}
local f = io.open(diag_path)
if f then
  for line in f:lines() do
    local rt, stage, v = line:match("^(%S-)%.stage%.(%S+)%s+(%S+)$")
    if rt and tonumber(v) then
      diag[stage] = diag[stage] or {}
      diag[stage][rt] = diag[stage][rt] or {}
      table.insert(diag[stage][rt], tonumber(v))
    end
  end
  f:close()
end

local function median(list)
  if not list or #list == 0 then return nil end
  local t = {}
  for i, v in ipairs(list) do t[i] = v end
  table.sort(t)
  local n = #t
  if n % 2 == 1 then return t[(n + 1) / 2] end
  return (t[n / 2] + t[n / 2 + 1]) / 2
end

local function med(key) return median(samples[key]) end

-- ---- the floor: the fastest way of doing the hashing ----------------------------
local floor_way, floor_rate
for _, way in ipairs({ "evp", "lowlevel", "mac" }) do
  local r = med("floor." .. way .. ".uncached")
  if r and (not floor_rate or r > floor_rate) then floor_way, floor_rate = way, r end
end
if floor_way then
  -- per-round floor: the best way of that round
  local best = {}
  for _, way in ipairs({ "evp", "lowlevel", "mac" }) do
    for i, v in ipairs(samples["floor." .. way .. ".uncached"] or {}) do
      if not best[i] or v > best[i] then best[i] = v end
    end
  end
  samples["floor.best.uncached"] = best
  local bestc = {}
  for i, v in ipairs(samples["floor." .. floor_way .. ".cached"] or {}) do bestc[i] = v end
  if #bestc > 0 then samples["floor.best.cached"] = bestc end
end

-- ---- formatting ------------------------------------------------------------------
local function group(n)
  local s = string.format("%.0f", n)
  local out = s:reverse():gsub("(%d%d%d)", "%1,"):reverse()
  return (out:gsub("^,", ""))
end

local UNITS = {
  rate = function(v) return group(v) .. "/s" end,
  us = function(v) return string.format("%.1f µs", v) end,
  ms = function(v) return string.format("%.1f ms", v) end,
  kb = function(v) return string.format("%.1f MB", v / 1024) end,
}
-- metric kinds: rate (higher is better) or cost (lower is better)
local HIGHER_BETTER = { rate = true }

-- ratio of ours to peer as "cost" (ours time / peer time) from per-round pairs
local function cost_ratio(ours, peer, unit)
  local a, b = samples[ours], samples[peer]
  if not a or not b then return nil end
  local function cost(v) return HIGHER_BETTER[unit] and 1 / v or v end
  if #a == #b and #a > 1 then
    local r = {}
    for i = 1, #a do r[i] = cost(a[i]) / cost(b[i]) end
    return median(r)
  end
  return cost(median(a)) / cost(median(b))
end

-- ---- the rows ----------------------------------------------------------------------------
-- goal kinds: within = cost ratio <= x; faster = speedup > x; flat = after/before <= x;
-- under = ours < x (absolute); info = no goal
local rows = {}
local function row(t) rows[#rows + 1] = t end

local floor_label = floor_way and ("floor (" .. floor_way .. ", uncached)") or "floor"
row{ "Signing: C signer, no key cache", "c.uncached", floor_label, "floor.best.uncached", "rate",
     "within", 1.3 }
row{ "Signing: C signer, no key cache", "c.uncached", "floor over EVP (evp, uncached)",
     "floor.evp.uncached", "rate", "info" }
row{ "Signing: C signer, cached key", "c.cached", floor_label, "floor.best.uncached", "rate",
     "faster", 1.0 }
row{ "Signing: C signer, cached key", "c.cached", "floor (" .. (floor_way or "?") .. ", cached)",
     "floor.best.cached", "rate", "info" }
row{ "Signing: fsx.sigv4.sign, Lua 5.4", "lua5.4.sign", "C signer (cached)", "c.cached", "rate",
     "within", 2.0 }
row{ "Signing: fsx.sigv4.sign, LuaJIT", "luajit.sign", "C signer (cached)", "c.cached", "rate",
     "within", 2.0 }
row{ "Signing: core.sign alone, Lua 5.4", "lua5.4.core_sign", "C signer (cached)", "c.cached",
     "rate", "info" }
row{ "Signing: fsx.sigv4.sign, Lua 5.4", "lua5.4.sign", "botocore SigV4Auth", "botocore.sign",
     "rate", "faster", 20 }
row{ "Signing: fsx.sigv4.sign, LuaJIT", "luajit.sign", "botocore SigV4Auth", "botocore.sign",
     "rate", "faster", 20 }
row{ "Signing: C signer, cached key", "c.cached", "botocore SigV4Auth", "botocore.sign", "rate",
     "faster", 20 }
row{ "Calls: client CPU per call, Lua 5.4", "lua5.4.reuse.cpu_us", "raw libcurl, one handle",
     "curl.reuse.cpu_us", "us", "within", 1.3 }
row{ "Calls: client CPU per call, LuaJIT", "luajit.reuse.cpu_us", "raw libcurl, one handle",
     "curl.reuse.cpu_us", "us", "within", 1.3 }
row{ "Calls: client CPU per call, Lua 5.4", "lua5.4.reuse.cpu_us",
     "minimal Lua loop (core.sign, h:perform, cjson.decode)", "lua5.4.minimal.cpu_us", "us", "info" }
row{ "Calls: client CPU per call, LuaJIT", "luajit.reuse.cpu_us",
     "minimal Lua loop (FFI sign, h:perform, cjson.decode)", "luajit.minimal.cpu_us", "us", "info" }
row{ "Calls: minimal Lua loop, Lua 5.4", "lua5.4.minimal.cpu_us", "raw libcurl, one handle",
     "curl.reuse.cpu_us", "us", "info" }
row{ "Calls: minimal Lua loop, LuaJIT", "luajit.minimal.cpu_us", "raw libcurl, one handle",
     "curl.reuse.cpu_us", "us", "info" }
row{ "Calls: transport alone (src/http.c from C)", "cHTTP.reuse.cpu_us", "raw libcurl, one handle",
     "curl.reuse.cpu_us", "us", "info" }
row{ "Calls: calls/s, Lua 5.4", "lua5.4.reuse.calls_per_s", "raw libcurl, one handle",
     "curl.reuse.calls_per_s", "rate", "info" }
row{ "Calls: calls/s, LuaJIT", "luajit.reuse.calls_per_s", "raw libcurl, one handle",
     "curl.reuse.calls_per_s", "rate", "info" }
row{ "Calls: client CPU per call, Lua 5.4", "lua5.4.reuse.cpu_us", "boto3", "boto3.reuse.cpu_us",
     "us", "faster", 10 }
row{ "Calls: client CPU per call, LuaJIT", "luajit.reuse.cpu_us", "boto3", "boto3.reuse.cpu_us",
     "us", "faster", 10 }
row{ "Calls: calls/s, Lua 5.4", "lua5.4.reuse.calls_per_s", "boto3", "boto3.reuse.calls_per_s",
     "rate", "faster", 10 }
row{ "Calls: calls/s, LuaJIT", "luajit.reuse.calls_per_s", "boto3", "boto3.reuse.calls_per_s",
     "rate", "faster", 10 }
row{ "Calls: CPU/call, one client (kept alive), Lua 5.4", "lua5.4.reuse.cpu_us",
     "new client + connection per call", "lua5.4.fresh.cpu_us", "us", "info" }
row{ "Calls: calls/s, one client (kept alive), Lua 5.4", "lua5.4.reuse.calls_per_s",
     "new client + connection per call", "lua5.4.fresh.calls_per_s", "rate", "info" }
row{ "Calls: CPU/call, one client (kept alive), LuaJIT", "luajit.reuse.cpu_us",
     "new client + connection per call", "luajit.fresh.cpu_us", "us", "info" }
row{ "Calls: raw libcurl CPU/call, reused connection", "curl.reuse.cpu_us",
     "libcurl, FORBID_REUSE (new conn.)", "curl.forbid.cpu_us", "us", "info" }
row{ "Start-up: one-shot wall time, Lua 5.4", "startup.ours.wall_ms", "-", nil, "ms", "under", 30 }
row{ "Start-up: one-shot wall time, Lua 5.4", "startup.ours.wall_ms", "boto3 script",
     "startup.boto3.wall_ms", "ms", "faster", 10 }
row{ "Start-up: one-shot wall time, Lua 5.4", "startup.ours.wall_ms", "aws fsx create-backup",
     "startup.awscli.wall_ms", "ms", "info" }
row{ "Start-up: one-shot wall time, LuaJIT", "startup.ours_luajit.wall_ms", "boto3 script",
     "startup.boto3.wall_ms", "ms", "info" }
row{ "Start-up: one-shot CPU time, Lua 5.4", "startup.ours.cpu_ms", "boto3 script",
     "startup.boto3.cpu_ms", "ms", "info" }
row{ "Start-up: same script, fixed C server", "startup.ours_fixed.wall_ms", "Lua 5.4, FSx server",
     "startup.ours.wall_ms", "ms", "info" }
row{ "Start-up: peak RSS, Lua 5.4", "startup.ours.rss_kb", "boto3 script", "startup.boto3.rss_kb",
     "kb", "info" }
row{ "Start-up: peak RSS, Lua 5.4", "startup.ours.rss_kb", "aws fsx create-backup",
     "startup.awscli.rss_kb", "kb", "info" }
local mem_n = facts.mem_calls or "100000"
row{ "Memory: RSS after " .. group(tonumber(mem_n)) .. " calls, Lua 5.4", "lua5.4.rss_kb." .. mem_n,
     "after 1,000 calls", "lua5.4.rss_kb.1000", "kb", "flat", 1.05 }
row{ "Memory: RSS after " .. group(tonumber(mem_n)) .. " calls, LuaJIT", "luajit.rss_kb." .. mem_n,
     "after 1,000 calls", "luajit.rss_kb.1000", "kb", "flat", 1.05 }

local out = {}
local met_n, missed_n = 0, 0
local header = "| figure | ours | peer | ratio | goal | met? |"
out[#out + 1] = header
out[#out + 1] = "|---|---|---|---|---|---|"
for _, r in ipairs(rows) do
  local figure, ours_key, peer_name, peer_key, unit, goal, x = r[1], r[2], r[3], r[4], r[5], r[6], r[7]
  local ours, peer = med(ours_key), peer_key and med(peer_key)
  local fmt = UNITS[unit]
  local ours_s = ours and fmt(ours) or "n/a"
  local peer_s = peer_key and (peer and (peer_name .. ": " .. fmt(peer)) or (peer_name .. ": n/a"))
    or peer_name
  local ratio_s, goal_s, met_s = "", "—", ""
  local cr = peer_key and ours and peer and cost_ratio(ours_key, peer_key, unit)
  if goal == "within" then
    goal_s = string.format("≤ %.1fx the cost", x)
    if cr then
      ratio_s = string.format("%.2fx the cost", cr)
      met_s = cr <= x and "met" or "MISSED"
    end
  elseif goal == "faster" then
    goal_s = x == 1.0 and "faster" or string.format("> %gx faster", x)
    if cr then
      ratio_s = string.format("%.2fx faster", 1 / cr)
      met_s = 1 / cr > x and "met" or "MISSED"
    end
  elseif goal == "flat" then
    goal_s = string.format("flat (≤ %.2fx)", x)
    if ours and peer then
      ratio_s = string.format("%.3fx", ours / peer)
      met_s = ours / peer <= x and "met" or "MISSED"
    end
  elseif goal == "under" then
    goal_s = string.format("< %g ms", x)
    if ours then met_s = ours < x and "met" or "MISSED" end
  elseif cr then
    local less, more = "faster", "the cost"
    if unit == "kb" then less, more = "less", "as much" end
    if cr >= 1 then ratio_s = string.format("%.2fx %s", cr, more)
    else ratio_s = string.format("%.2fx %s", 1 / cr, less) end
  end
  if (ours == nil or (peer_key and peer == nil)) and goal ~= "info" then met_s = "n/a" end
  if met_s == "met" then met_n = met_n + 1 elseif met_s == "MISSED" then missed_n = missed_n + 1 end
  out[#out + 1] = string.format("| %s | %s | %s | %s | %s | %s |", figure, ours_s, peer_s, ratio_s,
                                goal_s, met_s)
end
local table_text = table.concat(out, "\n")

-- the signatures must all agree (every signer signed the same request)
local sig_list = {}
for s in pairs(signatures) do sig_list[#sig_list + 1] = s end
local sig_line
if #sig_list == 1 then
  sig_line = "All signers produced the same signature (" .. sig_list[1]:sub(1, 16) .. "...)."
else
  sig_line = "WARNING: the signers disagree: " .. table.concat(sig_list, ", ")
end

io.write(table_text, "\n\n", string.format("goals met: %d, missed: %d\n", met_n, missed_n),
         sig_line, "\n")

-- ---- RESULTS.md ------------------------------------------------------------------------------
local md = {}
local function w(s) md[#md + 1] = s or "" end
w("# Benchmark results")
w()
w("Written by `make bench` (bench/run.sh, bench/report.lua); the last run's numbers, "
  .. "as measured. Do not edit by hand.")
w()
w("* date: " .. (facts.date or "?"))
w("* machine: " .. (facts.nproc or "?") .. " CPUs, " .. (facts.cpu or "?") .. ", "
  .. (facts.kernel or "?") .. "; load average at the end " .. (facts.load or "?")
  .. " (a shared machine: absolute numbers drift, ratios measured side by side hold)")
w("* code: commit " .. (facts.commit or "?"))
w("* software: " .. (facts.versions or "?"))
w("* method: " .. (facts.rounds or "?") .. " interleaved rounds (each round runs every program "
  .. "once, in a rotating order); values are medians over the rounds, ratios the median of the "
  .. "per-round ratios. Start-up: " .. (facts.startup_rounds or "?") .. " interleaved rounds "
  .. "after one warm-up run each. CPU time is the client process's user + system time.")
if facts.missing and facts.missing ~= "" then w("* missing peers: " .. facts.missing) end
w()
w(table_text)
w()
w(string.format("Goals met: %d, missed: %d. %s", met_n, missed_n, sig_line))
w()
w("How each figure is measured: bench/README.md.")
w()
w("## Where the C signer's time goes")
w()
w("bench/sign_stages.c: each stage of fsx_sigv4_sign on the same request, alone, through "
  .. "src/sigv4_stages.h (nanoseconds per operation, one run), and the hash primitives: ours "
  .. "(src/crypto.c: EVP with one reused context per thread, prepared HMAC pads) against "
  .. "OpenSSL's plain SHA256_Init/Update/Final, on the sizes SigV4 hashes.")
w()
w("| stage | ns |")
w("|---|---|")
local floor_ns = floor_rate and 1e9 / floor_rate
local C_STAGES = {
  { "c.stage.sign_uncached", "fsx_sigv4_sign, no cache" },
  { "c.stage.sign_cached", "fsx_sigv4_sign, cached key" },
  { "c.stage.validate", "fsx_sigv4_validate" },
  { "c.stage.canonical_request", "canonical request (payload SHA-256 included)" },
  { "c.stage.string_to_sign", "string to sign (SHA-256 of the canonical request included)" },
  { "c.stage.derive_key", "signing key: 4 HMACs" },
  { "c.stage.signature", "signature: 1 HMAC + hex" },
}
for _, s in ipairs(C_STAGES) do
  local v = med(s[1])
  w(string.format("| %s | %s |", s[2], v and string.format("%.0f", v) or "n/a"))
end
if floor_ns then
  w(string.format("| the floor (%s), a whole uncached signature | %.0f |", floor_way, floor_ns))
  local evp = med("floor.evp.uncached")
  if evp then w(string.format("| the floor over EVP, a whole uncached signature | %.0f |", 1e9 / evp)) end
end
w()
w("| primitive (bytes) | ours (src/crypto.c) ns | plain SHA256_* ns |")
w("|---|---|---|")
for _, n in ipairs({ 12, 165, 330 }) do
  for _, p in ipairs({ "sha256", "hmac" }) do
    local a, b = med("c.stage.prim." .. p .. "_" .. n .. "_ours"),
      med("c.stage.prim." .. p .. "_" .. n .. "_lowlevel")
    w(string.format("| %s of %d | %s | %s |", p == "hmac" and "HMAC-SHA256" or "SHA-256", n,
                    a and string.format("%.0f", a) or "n/a", b and string.format("%.0f", b) or "n/a"))
  end
end
w()
w("## Where the start-up time goes")
w()
w("Interleaved with the start-up runs above (medians, wall and CPU ms), and the CPU cost "
  .. "of loading each library fsx/core.so links, in a fresh process (bench/dlopen_cost.c, "
  .. "median of 5).")
w()
w("| step | wall ms | CPU ms |")
w("|---|---|---|")
for _, s in ipairs({ { "lua_empty", "lua5.4 -e x=1 (the interpreter alone)" },
                     { "require_core", "lua5.4 -e require('fsx.core')" },
                     { "require_fsx", "lua5.4 -e require('fsx')" },
                     { "ours_fixed", "bench/oneshot.lua against the fixed C server" },
                     { "ours", "bench/oneshot.lua against the FSx server" } }) do
  local a, b = med("startup." .. s[1] .. ".wall_ms"), med("startup." .. s[1] .. ".cpu_ms")
  w(string.format("| %s | %s | %s |", s[2], a and string.format("%.1f", a) or "n/a",
                  b and string.format("%.1f", b) or "n/a"))
end
w()
w("Loading the modules (bench/require_cost.lua, median of 3): CPU ms of each module's own "
  .. "chunk, for `require \"fsx\"` then `fsx.new{}`; modules of 0.15 ms or more.")
w()
w("| module | CPU ms |")
w("|---|---|")
local mods = {}
for k in pairs(samples) do
  local m = k:match("^require%.(.+)$")
  if m and not m:match("^step%.") then mods[#mods + 1] = m end
end
table.sort(mods, function(a, b) return med("require." .. a) > med("require." .. b) end)
for _, m in ipairs(mods) do w(string.format("| %s | %.2f |", m, med("require." .. m))) end
for _, st in ipairs({ { "require_fsx", "all of `require \"fsx\"`" }, { "fsx_new", "`fsx.new{}`" } }) do
  local v = med("require.step." .. st[1])
  w(string.format("| %s | %s |", st[2], v and string.format("%.2f", v) or "n/a"))
end
w()
w("| library | CPU ms to load |")
w("|---|---|")
for _, lib in ipairs({ "libcrypto.so.3", "libssl.so.3", "libcurl.so.4+init" }) do
  local v = med("dlopen." .. lib)
  w(string.format("| %s | %s |", lib, v and string.format("%.2f", v / 1000) or "n/a"))
end
w()
w("## Where one call's client CPU goes")
w()
w("bench/profile_call.lua, median of 3 runs: each stage of a create_backup call timed on "
  .. "its own, in a loop, with the inputs of a real call (CPU µs per call); \"rest\" is the whole call minus the "
  .. "listed stages (client/_send/_request bookkeeping and cache effects). Rows marked ↳ are "
  .. "parts of the row above them.")
w()
w("| stage | Lua 5.4 | LuaJIT |")
w("|---|---|---|")
local STAGES = {
  { "shape.input", "shape.input (validate, convert arguments)" },
  { "util.uuid4_x2", "util.uuid4 x2 (token, invocation id)" },
  { "core.random_bytes16_x2", "↳ of which core.random_bytes(16) x2" },
  { "protocol.build", "protocol.build (JSON encode)" },
  { "sigv4.sign", "sigv4.sign (Lua wrapper + core.sign)" },
  { "core.sign_only", "↳ of which core.sign" },
  { "transport.send", "transport send (perform, header map in C)" },
  { "http.perform_only", "↳ of which h:perform (C: binding + libcurl)" },
  { "protocol.parse", "protocol.parse (JSON decode)" },
  { "cjson.decode_only", "↳ of which cjson.decode (a fresh cjson instance)" },
  { "shape.output", "shape.output (check and convert the answer, fsx.output)" },
  { "rest", "rest of the call" },
  { "total", "whole create_backup call" },
}
for _, s in ipairs(STAGES) do
  local d = diag[s[1]] or {}
  local function v(x) return x and string.format("%.1f", median(x)) or "n/a" end
  w(string.format("| %s | %s | %s |", s[2], v(d["lua5.4"]), v(d.luajit)))
end
w()
w("## Every median")
w()
w("| measurement | median | samples |")
w("|---|---|---|")
local keys = {}
for k, list in pairs(samples) do
  if #list > 0 then keys[#keys + 1] = k end
end
table.sort(keys)
for _, k in ipairs(keys) do
  w(string.format("| %s | %.2f | %d |", k, median(samples[k]), #samples[k]))
end
w()
local fh = assert(io.open(out_path, "w"))
fh:write(table.concat(md, "\n"))
fh:close()
io.write("written: ", out_path, "\n")
