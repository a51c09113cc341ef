-- Our signer against botocore's SigV4Auth (an independent implementation) on
-- generated requests: paths with spaces, UTF-8, dots and double slashes;
-- queries with repeats, empty values and encoded reserved characters;
-- repeated and padded headers; session tokens. Every stage must agree.
local sigv4 = require "fsx.sigv4"
local helpers = require "helpers"

local N = tonumber(os.getenv("FSX_BOTOCORE_CASES") or "1000")

local rng = helpers.rng

local function pick(r, list) return list[r(#list)] end

local SEGMENTS = { "a", "b", "example", "with space", "caf\195\169", "\225\136\180", ".", "..",
                   "", "x-y_z~", "Zz09", "sp  two", "%20enc", "50%25", "+plus", "semi;colon",
                   "eq=ual", "com,ma", "!$&'()*", "@at", "\240\159\152\128" }
local Q_KEYS = { "Param", "param", "a", "b", "%E1%88%B4", "key%20space", "x%2Fy", "empty",
                 "Action", "Version", "k~", "%3D", "%26amp" }
local Q_VALUES = { "", "1", "value", "Value2", "%20", "a%2Bb", "%E2%9C%93", "x-y_z.~", "%2F%2F",
                   "AssumeRole", "%3D%3D", "2011-06-15" }
local H_NAMES = { "My-Header", "x-amz-meta-one", "X-Custom", "Content-Type", "X-Amz-Target",
                  "Zeta", "alpha", "Accept", "x-amz-meta-one" }
local H_VALUES = { "value", "  padded  ", "a   b    c", "\tTabbed\t", "application/x-amz-json-1.1",
                   "AWSSimbaAPIService_v20180301.CreateBackup", "", "UPPER lower", "1,2,3",
                   "quote\"d", "x   " }
local TOKENS = { nil, "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQ==",
                 "FwoGZXIvYXdzEJr//////////wEaDExampleSessionToken+/=" }

local function gen(r, i)
  local segs = {}
  for j = 1, r(6) - 1 do segs[j] = pick(r, SEGMENTS) end
  local path = "/" .. table.concat(segs, "/")
  if r(4) == 1 then path = path .. "/" end
  if r(6) == 1 then path = path:gsub("/", "//", 1) end
  local q = {}
  for j = 1, r(5) - 1 do
    local k, v = pick(r, Q_KEYS), pick(r, Q_VALUES)
    q[j] = k .. "=" .. v
    if r(5) == 1 then q[#q + 1] = k .. "=" .. pick(r, Q_VALUES) end  -- repeated key
  end
  local headers = { { "Host", pick(r, { "example.amazonaws.com", "fsx.us-east-1.amazonaws.com",
                                        "127.0.0.1:8080" }) } }
  for _ = 1, r(5) - 1 do headers[#headers + 1] = { pick(r, H_NAMES), pick(r, H_VALUES) } end
  local token = TOKENS[r(3)]
  return {
    method = pick(r, { "GET", "POST", "PUT", "DELETE" }),
    path = path, query = table.concat(q, "&"), headers = headers,
    body = pick(r, { "", "{}", '{"FileSystemId":"fs-0123456789abcdef0"}', "Action=ListUsers&Version=2010-05-08" }),
    region = pick(r, { "us-east-1", "eu-west-3", "cn-north-1", "us-gov-west-1" }),
    service = pick(r, { "fsx", "sts", "service" }),
    access_key_id = "AKIDEXAMPLE" .. i % 7,
    secret_access_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY" .. i % 5,
    session_token = token,
    time = 1440938160 + r(100000) * 3600,
  }
end

describe("signer vs botocore", function()
  it(("agrees on %d generated requests, stage by stage"):format(N), function()
    local r = rng(20261126)
    local ours, theirs_in = {}, {}
    for i = 1, N do
      local req = gen(r, i)
      local res = sigv4.sign(req)
      ours[i] = res
      local headers = {}
      for _, h in ipairs(res.headers) do
        if h[1] ~= "Authorization" then headers[#headers + 1] = h end
      end
      theirs_in[i] = {
        method = req.method, path = req.path, query = req.query, headers = headers,
        body = req.body, region = req.region, service = req.service,
        access_key_id = req.access_key_id, secret_access_key = req.secret_access_key,
        session_token = req.session_token, amz_date = res.amz_date, exact_headers = true,
      }
    end
    local theirs = helpers.botocore_sign(theirs_in)
    assert.equal(N, #theirs)
    local mismatches = {}
    for i = 1, N do
      local a, b = ours[i], theirs[i]
      if b.error or a.canonical_request ~= b.canonical_request or a.string_to_sign ~= b.string_to_sign
         or a.authorization ~= b.authorization then
        mismatches[#mismatches + 1] = i
        if #mismatches <= 3 then
          print(("\nmismatch %d: path %q query %q\n--- ours\n%s\n--- botocore\n%s"):format(
            i, theirs_in[i].path, theirs_in[i].query, a.canonical_request,
            tostring(b.canonical_request or b.error)))
        end
      end
    end
    assert.equal(0, #mismatches)
  end)
end)
