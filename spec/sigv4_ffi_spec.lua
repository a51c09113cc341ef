-- fsx.sigv4_ffi: core.sign through LuaJIT's FFI. Under LuaJIT it must be the
-- path fsx.sigv4 takes, and it must answer exactly what core.sign answers:
-- the same result tables (the caller's own header pairs, then new pairs for
-- the added headers, then Authorization) and the same errors, on generated
-- requests, valid and invalid, and under a collector forced to work at
-- every allocation, on requests that only the call holds.
-- Under Lua 5.4 the module must decline (core.sign stays).
local core = require "fsx.core"
local sigv4 = require "fsx.sigv4"
local sigv4_ffi = require "fsx.sigv4_ffi"
local helpers = require "helpers"

local JIT = rawget(_G, "jit") ~= nil

local BASE = {
  method = "POST", path = "/", query = "", body = '{"FileSystemId":"fs-0123456789abcdef0"}',
  headers = {
    { "Host", "fsx.us-east-1.amazonaws.com" },
    { "Content-Type", "application/x-amz-json-1.1" },
    { "X-Amz-Target", "AWSSimbaAPIService_v20180301.CreateBackup" },
  },
  region = "us-east-1", service = "fsx", access_key_id = "AKIDEXAMPLE",
  secret_access_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", amz_date = "20150830T123600Z",
}

local function copy(t)
  local c = {}
  for k, v in pairs(t) do c[k] = v end
  return c
end

local function pack(...)
  return { n = select("#", ...), ... }
end

-- Both answers, packed with their count.
local function both(req)
  return pack(sigv4_ffi.sign(req)), pack(core.sign(req))
end

-- Same answer: equal errors, or equal results whose headers start with the
-- very pair tables of the request (req nil: compared by value only).
local function assert_same(req, got, want, what)
  assert.equal(want.n, got.n, what)
  if not want[1] then
    for i = 1, want.n do assert.equal(want[i], got[i], what) end
    return
  end
  local g, w = got[1], want[1]
  local keys = {}
  for k in pairs(w) do keys[#keys + 1] = k end
  for k in pairs(g) do assert.is_not_nil(w[k], what .. ": extra field " .. tostring(k)) end
  for _, k in ipairs(keys) do
    if k ~= "headers" then assert.equal(w[k], g[k], what .. ": " .. k) end
  end
  assert.equal(#w.headers, #g.headers, what .. ": header count")
  local given = req and type(req.headers) == "table" and #req.headers or 0
  for i = 1, #w.headers do
    if i <= given then
      assert.is_true(rawequal(req.headers[i], g.headers[i]), what .. ": pair " .. i .. " is the caller's")
    else
      assert.same(w.headers[i], g.headers[i], what .. ": added pair " .. i)
    end
  end
end

-- A few values of every kind a field may wrongly hold.
local WRONG = { false, true, 0, 1.5, "", "x\0y", {}, print }


local FIELDS = {
  "method", "path", "query", "body", "payload_hash", "region", "service", "access_key_id",
  "secret_access_key", "session_token", "amz_date", "normalize_path", "sign_body",
  "omit_session_token", "stages", "time",
}
local GOOD = {
  query = { "", "b=2&a=1", "x=%zz" }, body = { "", "{}", "\0binary\0" },
  payload_hash = { ("a"):rep(64), "UNSIGNED-PAYLOAD", "short" },
  session_token = { "", "FwoGZXIvYXdzEXAMPLETOKEN", "t\0k" },
  amz_date = { "20150830T123600Z", "2015-08-30", "20150830X123600Z" },
  normalize_path = { true, false }, sign_body = { true, false },
  omit_session_token = { true, false }, stages = { true, false },
  time = { 1440938160, 1440938160.9, "20150830T123600Z", "soon", -5, 1e300 },
  path = { "/", "/a/./b/../c", "/50%25", "/with space" },
  method = { "GET", "POST" },
}

local HEADERS = {
  function() return nil end,
  function() return BASE.headers end,
  function() return {} end,
  function() return "Host: x" end,
  function() return { { "Host", "a.example" }, { "X-Multi", "  a   b  " }, { "x-multi", "c" } } end,
  function() return { { "Host", "a.example" }, x = 1 } end,
  function() return { { "Host", "a.example" }, { "Bad", 1 } } end,
  function() return { { "Host", "a.example" }, "pair" } end,
  function() return { { "Host", "a.example" }, { "Bad\r\nName", "v" } } end,
  function() return { { "Host", "a.example" }, [3] = { "X", "y" } } end,
  function()
    local t = {}
    for i = 1, 40 do t[i] = { "X-H" .. i, "v" .. i } end
    t[41] = { "Host", "many.example" }
    return t
  end,
}

describe("fsx.sigv4_ffi", function()
  it("is what fsx.sigv4 signs with under LuaJIT, and declines under PUC Lua", function()
    if JIT then
      assert.is_table(sigv4_ffi)
      assert.equal("ffi", sigv4.path)
    else
      assert.is_false(sigv4_ffi)
      assert.equal("core.sign", sigv4.path)
    end
  end)

  if not JIT then return end

  it("signs the base request as core.sign does", function()
    local got, want = both(BASE)
    assert.is_table(want[1])
    assert_same(BASE, got, want, "base")
    assert.equal(#BASE.headers + 2, #got[1].headers) -- X-Amz-Date, Authorization
  end)

  it("answers what core.sign answers on 3000 generated requests", function()
    local rnd = helpers.rng(20261126)
    local errors, signed = 0, 0
    for n = 1, 3000 do
      local req = copy(BASE)
      local changes = rnd(4) - 1
      for _ = 1, changes do
        local f = FIELDS[rnd(#FIELDS)]
        if rnd(3) == 1 then
          req[f] = WRONG[rnd(#WRONG)]
        elseif GOOD[f] then
          req[f] = GOOD[f][rnd(#GOOD[f])]
        else
          req[f] = nil
        end
      end
      if rnd(3) == 1 then req.headers = HEADERS[rnd(#HEADERS)]() end
      if req.amz_date == nil and req.time == nil then req.time = 1440938160 end
      local got, want = both(req)
      if want[1] then signed = signed + 1 else errors = errors + 1 end
      assert_same(req, got, want, "request " .. n)
    end
    -- both kinds of answer were compared, in numbers
    assert.is_true(signed > 500, "signed " .. signed)
    assert.is_true(errors > 500, "errors " .. errors)
  end)

  it("formats the current time when neither amz_date nor time is given", function()
    local req = copy(BASE)
    req.amz_date = nil
    local r = sigv4_ffi.sign(req)
    assert.matches("^%d%d%d%d%d%d%d%dT%d%d%d%d%d%dZ$", r.amz_date)
    assert.equal(os.date("!%Y%m%d", os.time()), r.amz_date:sub(1, 8))
  end)

  it("raises core.sign's argument error for a request that is not a table", function()
    local ok1, e1 = pcall(sigv4_ffi.sign, "req")
    local ok2, e2 = pcall(core.sign, "req")
    assert.is_false(ok1)
    assert.is_false(ok2)
    assert.equal(e2, e1)
  end)

  it("answers as core.sign does under a collector working at every allocation", function()
    -- strings made at run time (not constants), in a request only the call holds
    local function make(i)
      local tag = tostring(i)
      return {
        method = "PO" .. "ST", path = "/p" .. tag, query = "q=" .. tag, body = ("b"):rep(i % 50) .. tag,
        headers = { { "Host", "h" .. tag .. ".example" }, { "X-N" .. tag, ("v"):rep(i % 30) .. tag } },
        region = "us-east-" .. (i % 3), service = "fsx", access_key_id = "AKID" .. tag,
        secret_access_key = "secret/" .. tag .. ("k"):rep(20), session_token = "tok" .. tag .. ("t"):rep(i % 40),
        time = string.format("20150830T12%02d%02dZ", i % 60, (i * 7) % 60),
      }
    end
    local pause = collectgarbage("setpause", 0)
    local stepmul = collectgarbage("setstepmul", 1000)
    local ok, err = pcall(function()
      for i = 1, 3000 do
        local got = sigv4_ffi.sign(make(i))
        local want = core.sign(make(i))
        assert_same(nil, pack(got), pack(want), "gc request " .. i)
      end
    end)
    collectgarbage("setpause", pause)
    collectgarbage("setstepmul", stepmul)
    assert(ok, err)
  end)
end)
