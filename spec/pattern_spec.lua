-- fsx.pattern: the model's Java-style regexes over UTF-8 code points.
local pattern = require("fsx.pattern")
local cjson = require("cjson")
local helpers = require("helpers")

local MODEL_DIR = "model/fsx/2018-03-01" -- the vendored model (model/README.md)

local function read_model()
  local f = assert(io.open(MODEL_DIR .. "/service-2.json", "rb"))
  local model = cjson.decode(f:read("*a"))
  f:close()
  return model
end

local function model_shape_pattern(name)
  return read_model().shapes[name].pattern
end

local function model_patterns()
  local model = read_model()
  local set, list = {}, {}
  for _, s in pairs(model.shapes) do
    if s.pattern and not set[s.pattern] then
      set[s.pattern] = true
      list[#list + 1] = s.pattern
    end
  end
  table.sort(list)
  return list
end

local U = pattern.char
local NUL = "\0"
local NEL, LS, PS = U(0x85), U(0x2028), U(0x2029)

-- Positive and negative cases for every pattern of the model.
local NOT_LINE = "^[^\\u0000\\u0085\\u2028\\u2029\\r\\n]"
local CASES = {
  ["[A-za-z0-9_.-]{0,63}$"] = { -- unanchored, but matched whole; A-z also spans [\]^_`
    yes = { "", "abc-123_x.y", "8c6f0d1e-1234-4c5d-9e8f-0123456789ab", "[\\]^`" },
    no = { "bad token!", "tok\n", ("a"):rep(64), "caf\195\169" },
  },
  ["^(([0-9]|[1-9][0-9]|1[0-9]{2}|2[0-4][0-9]|25[0-5])\\.){3}([0-9]|[1-9][0-9]|1[0-9]{2}|2[0-4][0-9]|25[0-5])$"] = {
    yes = { "10.0.0.1", "255.255.255.255", "0.0.0.0", "192.168.1.20" },
    no = { "256.1.1.1", "10.0.0", "10.0.0.01", "1.2.3.4.5", "a.b.c.d", "10.0.0.1\n" },
  },
  ["^((fs)?volsnap-[0-9a-f]{8,})$"] = {
    yes = { "volsnap-0123456789abcdef0", "fsvolsnap-1234567890abcdef" },
    no = { "snap-01234567", "volsnap-0123", "fsvolsnap-0123456G" },
  },
  ["^((fs|fc)i?-[0-9a-f]{8,}\\..{4,253})$"] = {
    yes = { "fs-0123456789abcdef0.fsx.us-east-1.amazonaws.com", "fci-01234567.abcd" },
    no = { "fs-0123456789abcdef0", "fx-01234567.fsx.aws", "fs-01234567.abc", "fs-01234567.fsx\nx" },
  },
  ["^(?:[A-Za-z0-9+\\/]{4})*(?:[A-Za-z0-9+\\/]{2}==|[A-Za-z0-9+\\/]{3}=)?$"] = {
    yes = { "", "QUJD", "QUJDRA==", "QUJDREU=", "ab+/cd//" },
    no = { "QUJDRA=", "QUJ", "QU JD", "QUJD\n" },
  },
  ["^([0-9\\[\\]\\-]*\\.){3}([0-9\\[\\]\\-]*)@tcp$"] = {
    yes = { "10.0.1.6@tcp", "10.0.[2-10].[1-255]@tcp" },
    no = { "10.0.1@tcp", "10.0.1.6@udp", "10.a.1.6@tcp" },
  },
  ["^([0-9]{1,10}):([0-9]{1,10})$"] = {
    yes = { "365534:65534", "0:0" },
    no = { "1:", ":1", "12345678901:1", "a:b" },
  },
  ["^([01]\\d|2[0-3]):?([0-5]\\d)$"] = {
    yes = { "05:00", "2359", "23:59", "00:00" },
    no = { "24:00", "5:00", "05:60", "05::00" },
  },
  ["^([A-Za-z0-9_-]{1,8})$"] = {
    yes = { "fsx", "abc_-123" },
    no = { "", "abcdefghi", "a.b" },
  },
  ["^([\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*)$"] = {
    yes = { "", "Name", "Größe", "日本語 テスト", "x_y.z:/=+-@ 1", "Ωμέγα", "Привет", "٣٤٥", "½²",
            "a" .. U(0xA0) .. "b", "a" .. U(0x3000) .. "b", "한국어" },
    no = { "a!b", "a\0b", "tab\there", "line\nbreak", "emoji " .. U(0x1F600), "e" .. U(0x301),
           "€", "a*b", "(x)" },
  },
  ["^(backup-[0-9a-f]{8,})$"] = {
    yes = { "backup-0123456789abcdef0", "backup-01234567" },
    no = { "backup-0123456", "backup-0123456789ABCDEF", "xbackup-01234567", "backup-01234567 " },
  },
  ["^(dra-[0-9a-f]{8,})$"] = { yes = { "dra-0123456789abcdef0" }, no = { "dra-0123", "dra_01234567" } },
  ["^(eni-[0-9a-f]{8,})$"] = { yes = { "eni-01234567" }, no = { "eni-0123456" } },
  ["^(fc-[0-9a-f]{8,})$"] = { yes = { "fc-0123456789abcdef0" }, no = { "fc-012345" } },
  ["^(fs-[0-9a-f]{8,})$"] = {
    yes = { "fs-0123456789abcdef0", "fs-01234567" },
    no = { "fs-0123456", "fs-0123456789abcdeg0", "FS-01234567", "fs-01234567\n", "\nfs-01234567",
           " fs-01234567", "fs-01234567" .. NUL },
  },
  ["^(fsvol-[0-9a-f]{17,})$"] = {
    yes = { "fsvol-0123456789abcdef0" },
    no = { "fsvol-0123456789abcdef", "fsvol-0123456789abcdeX0" },
  },
  ["^(rtb-[0-9a-f]{8,})$"] = { yes = { "rtb-01234567" }, no = { "rtb-0123" } },
  ["^(sg-[0-9a-f]{8,})$"] = { yes = { "sg-01234567" }, no = { "sg-0123" } },
  ["^(subnet-[0-9a-f]{8,})$"] = { yes = { "subnet-01234567" }, no = { "subnet-0123" } },
  ["^(svm-[0-9a-f]{17,})$"] = { yes = { "svm-0123456789abcdef0" }, no = { "svm-0123456789abcdef" } },
  ["^(task-[0-9a-f]{17,})$"] = { yes = { "task-0123456789abcdef0" }, no = { "task-01234567" } },
  ["^(vpc-[0-9a-f]{8,})$"] = { yes = { "vpc-01234567" }, no = { "vpc-0123" } },
  ["^.{1,2048}$"] = {
    yes = { "alias/aws/fsx", "arn:aws:kms:us-east-1:123456789012:key/x", string.rep("é", 2048) },
    no = { "", "a\nb", "a\rb", "a" .. NEL, "a" .. LS, "a" .. PS, string.rep("k", 2049) },
  },
  ["^.{1,256}$"] = { yes = { "p@ss w0rd!", "日本" }, no = { "", "a\n", string.rep("x", 257) } },
  ["^[ -~]{1,128}$"] = { yes = { "rw,crossmnt", "~ !" }, no = { "", "a\tb", "é", string.rep("x", 129) } },
  ["^[0-9](.[0-9]*)*$"] = { yes = { "2.10", "2.12", "1", "2x1" }, no = { "", "a2.10", ".1" } },
  ["^[0-9a-zA-Z\\*\\.\\\\/\\?\\-\\_]*$"] = {
    yes = { "", "fs-0123*", "a.b\\c/d?e-f_g" },
    no = { "a b", "a:b", "é" },
  },
  ["^[1-7]:([01]\\d|2[0-3]):?([0-5]\\d)$"] = {
    yes = { "1:05:00", "7:2359" },
    no = { "0:05:00", "8:05:00", "1:24:00", "105:00" },
  },
  ["^[A-za-z0-9\\_\\.\\:\\-\\/]*$"] = {
    yes = { "/vol1", "vol_1.a:b-c", "[x]^`" }, -- A-z includes [ \ ] ^ _ `
    no = { "vol 1", "vol@1", "é" },
  },
  ["^[a-z0-9-]{1,20}$"] = { yes = { "us-east-1" }, no = { "US-EAST-1", "", string.rep("a", 21) } },
  ["^[a-zA-Z0-9_:.-]{1,203}$"] = { yes = { "snap_1:a.b-c" }, no = { "snap 1", "" } },
  ["^\\d{12}$"] = { yes = { "123456789012" }, no = { "12345678901", "1234567890123", "١٢٣٤٥٦٧٨٩٠١٢" } },
  ["^arn:(?=[^:]+:fsx:[^:]+:\\d{12}:)((|(?=[a-z0-9-.]{1,63})(?!\\d{1,3}(\\.\\d{1,3}){3})(?![^:]*-{2})(?![^:]*-\\.)(?![^:]*\\.-)[a-z0-9].*(?<!-)):){4}(?!/).{0,1024}$"] = {
    yes = {
      "arn:aws:fsx:us-east-1:123456789012:file-system/fs-0123456789abcdef0",
      "arn:aws:fsx:us-east-1:123456789012:backup/backup-0123456789abcdef0",
      "arn:aws-cn:fsx:cn-north-1:123456789012:volume/fs-01234567/fsvol-0123456789abcdef0",
    },
    no = {
      "arn:aws:s3:us-east-1:123456789012:backup/x",       -- not fsx
      "arn:aws:fsx:us-east-1:12345678901:backup/x",       -- 11-digit account
      "arn:aws-:fsx:us-east-1:123456789012:backup/x",     -- label ends with '-'
      "arn:a--b:fsx:us-east-1:123456789012:backup/x",     -- '--' in a label
      "arn:aws:fsx:1.2.3.4:123456789012:backup/x",        -- IP-like label
      "arn:aws:fsx:us-east-1:123456789012:/x",            -- resource starts with '/'
      "arn:aws:fsx:us-east-1:123456789012:x\n",           -- line terminator
      "fs-01234567",
    },
  },
  ["^arn:[^:]{1,63}:[^:]{0,63}:[^:]{0,63}:(?:|\\d{12}):[^/].{0,1023}$"] = {
    yes = { "arn:aws:logs:us-east-1:123456789012:log-group:/aws/fsx/x", "arn:aws:s3:::bucket" },
    no = { "arn:aws:s3:::/bucket", "arn::s3:::bucket", "arn:aws:logs:us-east-1:12345:x" },
  },
  ["^d-[0-9a-f]{10}$"] = { yes = { "d-1234567890" }, no = { "d-123456789", "d-12345678901" } },
  ["^(?i)(true|false)$"] = { -- (?i): either case of every letter
    yes = { "true", "false", "TRUE", "False", "tRuE" },
    no = { "", "yes", "truee", "true\n", "t" .. U(0x131) .. "ue" },
  },
  ["^(?=[a-z0-9])[a-z0-9-]{1,48}[a-z0-9]$"] = {
    yes = { "ab", "nightly-ap1", ("a"):rep(49) },
    no = { "-ab", "ab-", "Ab", "a", ("a"):rep(50), "a_b" },
  },
  ["^(aggr[0-9]{1,2})$"] = { yes = { "aggr1", "aggr42" }, no = { "aggr", "aggr123", "Aggr1" } },
  ["^[0-9a-z\\\\-]{1,63}"] = { -- a class of 0-9, a-z, backslash and '-'
    yes = { "my-ap-1234", "a\\b", ("a"):rep(63) },
    no = { "", "My-ap", "a.b", ("a"):rep(64) },
  },
  ["^arn:[^:]{1,63}:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:[a-zA-Z0-9/_+=.@-]+-[a-zA-Z0-9]{6}$"] = {
    yes = { "arn:aws:secretsmanager:us-east-1:123456789012:secret:fsx/ad-admin-AbC123" },
    no = { "arn:aws:secretsmanager:us-east-1:123456789012:secret:fsx/ad-admin",
           "arn:aws:kms:us-east-1:123456789012:secret:x-AbC123",
           "arn:aws:secretsmanager:us-east-1:12345678901:secret:x-AbC123" },
  },
}
-- IpAddress: an IPv4 or IPv6 address (alternatives of the model's pattern)
CASES[model_shape_pattern("IpAddress")] = {
  yes = { "10.0.0.1", "255.255.255.255", "2001:db8::1", "::1", "::", "fe80::1%eth0",
          "2001:0db8:0000:0000:0000:ff00:0042:8329", "::ffff:192.0.2.1" },
  no = { "256.1.1.1", "10.0.0", "2001:db8:::1", "gggg::1", "10.0.0.1\n", "fs-01234567" },
}
-- the [^\u0000\u0085\u2028\u2029\r\n]{m,n} family
for _, mn in ipairs({ { 0, 4096 }, { 1, 2000 }, { 1, 203 }, { 1, 255 }, { 1, 256 }, { 1, 36 }, { 4, 43 },
                      { 1, 4096 }, { 1, 47 }, { 3, 4357 }, { 4, 253 }, { 8, 50 }, { 9, 17 } }) do
  local lo, hi = mn[1], mn[2]
  local src = NOT_LINE .. "{" .. lo .. "," .. hi .. "}$"
  local ok = string.rep("é", math.max(lo, 1))
  CASES[src] = {
    yes = { ok, string.rep("x", hi), string.rep("日", hi) },
    no = { string.rep("x", hi + 1), ok .. "\n", ok .. "\r", ok .. NUL, ok .. NEL, ok .. LS, ok .. PS,
           lo > 0 and string.rep("x", lo - 1) or ok .. "\n" },
  }
end

describe("fsx.pattern", function()
  local patterns = model_patterns()

  it("finds the 53 distinct patterns of the model", function()
    assert.are.equal(53, #patterns)
  end)

  for _, src in ipairs(patterns) do
    describe(src, function()
      it("compiles and has test cases", function()
        assert.is_table(pattern.compile(src))
        assert.is_table(CASES[src], "no test cases for " .. src)
      end)
      local c = CASES[src] or { yes = {}, no = {} }
      for i, s in ipairs(c.yes) do
        it("matches case " .. i, function()
          assert.is_true(pattern.match(src, s), string.format("%q should match", s))
        end)
      end
      for i, s in ipairs(c.no) do
        it("rejects case " .. i, function()
          assert.is_false(pattern.match(src, s), string.format("%q should not match", s))
        end)
      end
    end)
  end

  describe("semantics", function()
    it("matches the whole string, anchored or not (Java's matches)", function()
      assert.is_false(pattern.match("b+", "aaabbbccc"))
      assert.is_true(pattern.match("b+", "bbb"))
      assert.is_false(pattern.match("^b+", "aaabbb"))
      assert.is_false(pattern.match("b+$", "aaabbb"))
      assert.is_true(pattern.match("a+b+$", "aaabbb"))
      assert.is_true(pattern.match("^$", ""))
      assert.is_false(pattern.match("[A-za-z0-9_.-]{0,63}$", "bad token!"))
      assert.is_false(pattern.match("[A-za-z0-9_.-]{0,63}$", "tok\n"))
      assert.is_true(pattern.match("[A-za-z0-9_.-]{0,63}$", "fault-run-12.a_b"))
    end)

    it("$ does not match before a trailing newline", function()
      assert.is_false(pattern.match("^abc$", "abc\n"))
      assert.is_false(pattern.match("^abc$", "abc\r\n"))
    end)

    it(". excludes line terminators only", function()
      for _, s in ipairs({ "\n", "\r", NEL, LS, PS }) do
        assert.is_false(pattern.match("^.$", s))
      end
      for _, s in ipairs({ "\0", "\t", "é", "日", U(0x1F600), U(0x10FFFF) }) do
        assert.is_true(pattern.match("^.$", s))
      end
    end)

    it("counts code points, not bytes", function()
      assert.is_true(pattern.match("^.{3}$", "日本語"))
      assert.is_false(pattern.match("^.{9}$", "日本語"))
      assert.is_true(pattern.match("^[^a]{2}$", U(0x1F600) .. "é"))
    end)

    it("\\p{L} \\p{N} \\p{Z} follow Unicode categories", function()
      for _, s in ipairs({ "é", "ß", "Ω", "Ж", "日", "한", "ا", "ǅ", "ʰ" }) do
        assert.is_true(pattern.match("^\\p{L}$", s), s)
      end
      for _, s in ipairs({ "1", "٣", "²", "½", "Ⅻ", U(0xFF11) }) do
        assert.is_true(pattern.match("^\\p{N}$", s), s)
        assert.is_false(pattern.match("^\\p{L}$", s), s)
      end
      for _, s in ipairs({ " ", U(0xA0), U(0x2003), U(0x3000), LS, PS }) do
        assert.is_true(pattern.match("^\\p{Z}$", s), s)
      end
      for _, s in ipairs({ "\t", "_", "€", U(0x1F600), U(0x301), "!" }) do
        assert.is_false(pattern.match("^[\\p{L}\\p{N}\\p{Z}]$", s), s)
      end
      assert.is_true(pattern.match("^\\pL+$", "abcé"))
      assert.is_true(pattern.match("^\\P{L}+$", "123 !"))
      assert.is_false(pattern.match("^\\P{L}+$", "12a"))
    end)

    it("supports the usual escapes and shorthands", function()
      assert.is_true(pattern.match("^\\d\\w\\s$", "1_ "))
      assert.is_false(pattern.match("^\\d$", "٣")) -- ASCII digits only, as in Java
      assert.is_true(pattern.match("^\\D\\W\\S$", "a!x"))
      assert.is_true(pattern.match("^\\u00e9\\x41\\x{1F600}\\t$", "éA" .. U(0x1F600) .. "\t"))
      assert.is_true(pattern.match("^[\\u0041-\\u0043]+$", "ABCCBA"))
      assert.is_true(pattern.match("^a\\.b\\\\c$", "a.b\\c"))
    end)

    it("supports quantifier forms", function()
      assert.is_true(pattern.match("^a{3}$", "aaa"))
      assert.is_false(pattern.match("^a{3}$", "aaaa"))
      assert.is_true(pattern.match("^a{2,}$", "aaaaaa"))
      assert.is_false(pattern.match("^a{2,}$", "a"))
      assert.is_true(pattern.match("^(ab){1,2}c?$", "ababc"))
      assert.is_false(pattern.match("^(ab){1,2}c?$", "abababc"))
      assert.is_true(pattern.match("^(?:a|bc)+$", "abcbca"))
    end)

    it("supports lookahead and lookbehind", function()
      assert.is_true(pattern.match("^(?=.*1)[a-z0-9]+$", "abc1"))
      assert.is_false(pattern.match("^(?=.*1)[a-z0-9]+$", "abc2"))
      assert.is_true(pattern.match("^(?!x)\\w+$", "yes"))
      assert.is_false(pattern.match("^(?!x)\\w+$", "xno"))
      assert.is_true(pattern.match("^\\w+(?<=c)$", "abc"))
      assert.is_false(pattern.match("^\\w+(?<!c)$", "abc"))
      assert.is_true(pattern.match("^[\\w-]+(?<!-)$", "ab-c"))
      assert.is_false(pattern.match("^[\\w-]+(?<!-)$", "abc-"))
    end)

    it("(?i) makes ASCII letters match either case to the end of its group", function()
      assert.is_true(pattern.match("^(?i)ab$", "aB"))
      assert.is_true(pattern.match("^a(?:(?i)b)c$", "aBc"))
      assert.is_false(pattern.match("^a(?:(?i)b)c$", "aBC"))
      assert.is_false(pattern.match("^(?i)[^a]$", "A"))
      assert.is_true(pattern.match("^(?i)[a-c]$", "C"))
      assert.is_false(pattern.match("^(?i)\\u00e9$", "\195\137")) -- ASCII only: é is not É
    end)

    it("rejects unsupported constructs at compile time", function()
      for _, src in ipairs({ "a*?", "a++", "(?s)a", "(?-i)a", "(?i:a)", "(?<n>a)", "\\1", "[a&&b]", "a{2", "(a", "a)",
                             "*a", "\\p{Lu}", "\\q", "[[a]]", "^*", "(?<=a*)b", "[z-a]" }) do
        assert.has_error(function() pattern.compile(src) end, nil, src)
      end
    end)

    it("never matches invalid UTF-8", function()
      assert.is_false(pattern.match("^.*$", "a\255b"))
      assert.is_false(pattern.match("b", "a\192\128b"))
    end)

    it("knows the ASCII members of \\p{L} \\p{N} \\p{Z} without the Unicode tables", function()
      local data = require("fsx.unicode_data")
      for _, cat in ipairs({ "L", "N", "Z" }) do
        local ascii, r = {}, data[cat]
        for i = 1, #r, 2 do
          if r[i] < 128 then
            ascii[#ascii + 1] = r[i]
            ascii[#ascii + 1] = math.min(r[i + 1], 127)
          end
        end
        assert.are.same(ascii, pattern.CATEGORY_ASCII[cat], cat)
      end
    end)

    it("loads fsx.unicode_data only for a non-ASCII character tested against \\p{..}", function()
      local saved = package.loaded["fsx.unicode_data"]
      package.loaded["fsx.pattern"], package.loaded["fsx.unicode_data"] = nil, nil
      local fresh = require("fsx.pattern")
      local ok, err = pcall(function()
        assert.is_true(fresh.match("^([\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*)$", "Name 42_x"))
        assert.is_false(fresh.match("^\\p{L}+$", "a!"))
        assert.is_true(fresh.match("^\\P{N}+$", "abc"))
        assert.is_nil(package.loaded["fsx.unicode_data"])
        assert.is_true(fresh.match("^\\p{L}+$", "Größe"))
        assert.is_false(fresh.match("^\\p{L}+$", "x\226\130\172")) -- U+20AC is not a letter
        assert.is_table(package.loaded["fsx.unicode_data"])
      end)
      package.loaded["fsx.pattern"], package.loaded["fsx.unicode_data"] = pattern, saved
      assert(ok, err)
    end)

    it("caches compiled patterns and results", function()
      assert.are.equal(pattern.compile("^x+$"), pattern.compile("^x+$"))
      for i = 1, 600 do assert.is_true(pattern.match("^x+$", string.rep("x", i % 300 + 1))) end
      assert.is_false(pattern.match("^x+$", "xy"))
    end)
  end)

  describe("UTF-8 helpers", function()
    it("length counts code points and rejects invalid sequences", function()
      assert.are.equal(5, pattern.length("Größe"))
      assert.are.equal(3, pattern.length("日本語"))
      assert.are.equal(0, pattern.length(""))
      assert.are.equal(1, pattern.length(U(0x10FFFF)))
      for _, s in ipairs({ "\128", "\192\128", "\224\128\128", "\237\160\128", "\244\144\128\128",
                           "\245\128\128\128", "a\226\130", "\255", "\195" }) do
        local n, at = pattern.length(s)
        assert.is_nil(n)
        assert.is_number(at)
      end
      local _, at = pattern.length("ab\255")
      assert.are.equal(3, at)
    end)

    it("length stops counting past a limit", function()
      assert.are.equal(4, pattern.length(string.rep("é", 100), 3))
    end)

    it("decode and char round-trip", function()
      local cps = { 0, 0x41, 0x7F, 0x80, 0x7FF, 0x800, 0xFFFF, 0x10000, 0x10FFFF }
      local s = {}
      for i, cp in ipairs(cps) do s[i] = pattern.char(cp) end
      local out, n = pattern.decode(table.concat(s))
      assert.are.equal(#cps, n)
      assert.are.same(cps, out)
    end)
  end)

  -- Step counts (Lua VM instructions, helpers.vm_steps), not times: the
  -- matcher memoises (instruction, position) and caches the runs a
  -- repetition scans, so its work grows linearly with the input's length,
  -- never exponentially or quadratically (nested quantifiers included). The
  -- budgets per input character are about 2-4 times the counts measured on
  -- 2026-11-26, and the same at every length.
  describe("complexity", function()
    local function steps(pat, s, budget)
      return helpers.vm_steps(function() return pattern.match(pat, s) end, budget)
    end

    it("does not backtrack catastrophically", function()
      local evil = {
        { "^(a|a)*$", string.rep("a", 2000) .. "b", 800 },
        { "^(a*)*$", string.rep("a", 5000) .. "b", 800 },
        { "^[0-9](.[0-9]*)*$", "1" .. string.rep("1", 20000) .. "\n", 800 },
      }
      for _, e in ipairs(evil) do
        local _, r = steps(e[1], e[2], e[3] * #e[2])
        assert.is_false(r)
      end
      -- nested quantifiers: linear too, at every length (once quadratic: each
      -- entry of the inner repetition rescanned the run of a's)
      for _, n in ipairs{ 500, 5000 } do
        local _, r = steps("^(a+)+b$", string.rep("a", n), 800 * n)
        assert.is_false(r)
      end
    end)

    -- (fsx.shape checks lengths first, so in practice patterns only see strings
    -- within the model's max length; this checks the matcher stays linear.)
    it("stays linear on the model's patterns with huge inputs", function()
      local arn = "^arn:(?=[^:]+:fsx:[^:]+:\\d{12}:)((|(?=[a-z0-9-.]{1,63})(?!\\d{1,3}(\\.\\d{1,3}){3})"
        .. "(?![^:]*-{2})(?![^:]*-\\.)(?![^:]*\\.-)[a-z0-9].*(?<!-)):){4}(?!/).{0,1024}$"
      local big = string.rep("a", 1024 * 1024)
      local cases = {
        { arn, "arn:aws:fsx:us-east-1:123456789012:" .. big:sub(1, 256 * 1024), false, 1200 },
        { "[A-za-z0-9_.-]{0,63}$", big, false, 1 },
        { NOT_LINE .. "{1,4096}$", big, false, 1 },
        { "^([\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*)$", string.rep("é", 512 * 1024) .. "!", false, 400 },
        { "^(?:[A-Za-z0-9+\\/]{4})*(?:[A-Za-z0-9+\\/]{2}==|[A-Za-z0-9+\\/]{3}=)?$", big .. "=", false, 400 },
      }
      for _, c in ipairs(cases) do
        local _, r = steps(c[1], c[2], c[4] * #c[2])
        assert.are.equal(c[3], r)
      end
      -- a repeated group with `.*` inside, at two lengths
      for _, reps in ipairs{ 300, 3000 } do
        local many = "arn:aws:fsx:us-east-1:123456789012:" .. string.rep("a:", reps) .. "x\n"
        local _, r = steps(arn, many, 6000 * #many)
        assert.is_false(r)
      end
    end)
  end)

  -- Against an independent engine: Python's re (Debian's /usr/bin/python3),
  -- full-match, on generated strings over the characters these patterns
  -- care about. The patterns use only what both engines read alike (ASCII
  -- classes, groups, alternation, counted and nested repetition, lookahead
  -- and lookbehind).
  describe("against Python's re", function()
    local PATTERNS = { "(a+)+b", "(a|ab)*b", "(a*)*:", "a*b*a*", "(a+:)*b", "[ab]*(?<!-):",
      "(?=[ab]{1,3}:)[ab]+:.*", "(ab+)+", "((a|b)+:){2}.*", "[^:]*-{2}", "(a{1,3})+b",
      "([a-z0-9].*(?<!-):){2}(?!/).{0,5}", "a{2,}b?a*", "(?!a)[ab:]{0,4}", "(a|b|:)*b" }
    local ALPHA = { "a", "b", ":", "-", "/" }

    it("agrees on 3,000 generated matches", function()
      local seed = 4242
      local function rnd(n)
        seed = (seed * 16807) % 2147483647
        return seed % n + 1
      end
      local lines, cases = {}, {}
      for _, p in ipairs(PATTERNS) do
        for _ = 1, 200 do
          local t = {}
          for i = 1, rnd(15) - 1 do t[i] = ALPHA[rnd(#ALPHA)] end
          local str = table.concat(t)
          cases[#cases + 1] = { p, str, pattern.match(p, str) }
          lines[#lines + 1] = p .. "\t" .. str
        end
      end
      local path = os.tmpname()
      local f = assert(io.open(path, "wb"))
      f:write(table.concat(lines, "\n"), "\n")
      f:close()
      local out = helpers.run("/usr/bin/python3 -c " .. "'import re,sys\n"
        .. "for l in open(sys.argv[1]):\n"
        .. "  p, s = l.rstrip(\"\\n\").split(\"\\t\")\n"
        .. "  print(re.fullmatch(p, s) is not None)' " .. path)
      os.remove(path)
      local i, differ = 0, {}
      for word in out:gmatch("%a+") do
        i = i + 1
        local c = cases[i]
        if tostring(c[3]) ~= word:lower() then differ[#differ + 1] = c[1] .. " on '" .. c[2] .. "'" end
      end
      assert.are.equal(#cases, i, "python answered " .. i .. " of " .. #cases)
      assert.are.same({}, differ)
    end)
  end)
end)
