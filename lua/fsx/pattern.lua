--- The model's regular expressions, matched over UTF-8 code points.
--
-- Layer: Lua helpers (pure Lua; `fsx.unicode_data` is loaded only when a
-- `\p{..}` class meets a non-ASCII character). Used by `fsx.shape` to check
-- string members.
--
-- The FSx model's patterns are Java-style regexes. This is a small compiler
-- for exactly the constructs they use, and a backtracking matcher that
-- memoises (instruction, position) pairs, so a match costs at most
-- O(program size x string length) steps, whatever the pattern: no
-- catastrophic backtracking on nested quantifiers.
--
-- Semantics (decided here, tested in spec/pattern_spec.lua):
--
-- * **full match** (Java's `Pattern.matches`, which is how the AWS services
--   validate members): the whole string must match, as if the pattern were
--   written `^(?:...)$`. Almost every FSx pattern is written `^...$` anyway;
--   the one that is not (`ClientRequestToken`, `[A-za-z0-9_.-]{0,63}$`) thus
--   accepts only tokens of those characters, as the service enforces.
-- * `^` matches only at the start and `$` only at the very end of the string
--   (no multi-line mode, and unlike Java `$` does not match before a final
--   line terminator), so a trailing newline never sneaks through.
-- * `.` matches any code point except the line terminators `\n`, `\r`,
--   U+0085, U+2028, U+2029 (Java's definition).
-- * `\d` `\w` `\s` (and `\D` `\W` `\S`) are ASCII-only, as in Java by default:
--   `[0-9]`, `[A-Za-z0-9_]`, `[ \t\n\x0B\f\r]`.
-- * `\p{L}` `\p{N}` `\p{Z}` (also `\pL`, and `\P{..}` negated) are the Unicode
--   general categories L*, N*, Z*, from `fsx.unicode_data` (generated from
--   Python's unicodedata, see that file for the Unicode version).
-- * Classes `[...]` with ranges, negation `[^...]`, escapes inside; `&&`
--   (Java intersection) is not supported and is a compile error.
-- * Escapes: `\\`, any escaped punctuation, `\t \n \r \f \a \e`, `\uXXXX`,
--   `\xHH`, `\x{H..}`.
-- * Greedy quantifiers `* + ? {m} {m,} {m,n}`; groups `( )` and `(?: )`
--   (nothing is captured); alternation `|`; lookahead `(?= )` `(?! )` and
--   bounded lookbehind `(?<= )` `(?<! )`.
-- * The flag `(?i)`: ASCII letters match either case from there to the end
--   of the enclosing group (Java's CASE_INSENSITIVE without UNICODE_CASE).
-- * Anything else (lazy or possessive quantifiers, back-references, other
--   flags, named groups) is a compile error, so a model update that brings a new
--   construct fails loudly in the tests instead of matching wrongly.
--
-- Strings must be valid UTF-8 (`fsx.shape` checks that first); an invalid
-- string never matches.
-- @module fsx.pattern
local M = {}

local byte, find = string.byte, string.find
local floor = math.floor
local bounded_cache = require("fsx.cache").new

-- ---------------------------------------------------------------------------
-- UTF-8

-- Decode one code point at byte index i. Returns cp, next index; or nil when
-- the sequence is not valid UTF-8 (overlong, surrogate, > U+10FFFF,
-- truncated).
local function decode_at(s, i)
  local c = byte(s, i)
  if c < 0x80 then return c, i + 1 end
  local c2 = byte(s, i + 1)
  if c < 0xC2 or not c2 then return nil end
  if c < 0xE0 then
    if c2 < 0x80 or c2 > 0xBF then return nil end
    return (c - 0xC0) * 64 + (c2 - 0x80), i + 2
  end
  local c3 = byte(s, i + 2)
  if not c3 or c3 < 0x80 or c3 > 0xBF then return nil end
  if c < 0xF0 then
    local lo, hi = 0x80, 0xBF
    if c == 0xE0 then lo = 0xA0 elseif c == 0xED then hi = 0x9F end
    if c2 < lo or c2 > hi then return nil end
    return (c - 0xE0) * 4096 + (c2 - 0x80) * 64 + (c3 - 0x80), i + 3
  end
  local c4 = byte(s, i + 3)
  if c > 0xF4 or not c4 or c4 < 0x80 or c4 > 0xBF then return nil end
  local lo, hi = 0x80, 0xBF
  if c == 0xF0 then lo = 0x90 elseif c == 0xF4 then hi = 0x8F end
  if c2 < lo or c2 > hi then return nil end
  return (c - 0xF0) * 262144 + (c2 - 0x80) * 4096 + (c3 - 0x80) * 64 + (c4 - 0x80), i + 4
end

--- Number of code points in a UTF-8 string.
-- @tparam string s
-- @tparam[opt] number limit stop counting (and return limit + 1) once the
--   count exceeds it; validity is then only checked up to that point
-- @treturn ?number the length, or nil when s is not valid UTF-8
-- @treturn ?number the byte offset of the first invalid sequence
function M.length(s, limit)
  if not find(s, "[\128-\255]") then return #s end
  local i, n, len = 1, 0, #s
  while i <= len do
    local c = byte(s, i)
    if c < 0x80 then
      i = i + 1
    else
      local cp, j = decode_at(s, i)
      if not cp then return nil, i end
      i = j
    end
    n = n + 1
    if limit and n > limit then return n end
  end
  return n
end

--- Decode a UTF-8 string to an array of code points.
-- @tparam string s
-- @treturn ?table the code points (nil when s is not valid UTF-8)
-- @treturn number the count, or the byte offset of the invalid sequence
function M.decode(s)
  local out, n, i, len = {}, 0, 1, #s
  while i <= len do
    local cp, j = decode_at(s, i)
    if not cp then return nil, i end
    n = n + 1
    out[n] = cp
    i = j
  end
  return out, n
end

--- Encode a code point as UTF-8 (used by the tests and error messages).
function M.char(cp)
  if cp < 0x80 then return string.char(cp) end
  if cp < 0x800 then
    return string.char(0xC0 + floor(cp / 64), 0x80 + cp % 64)
  end
  if cp < 0x10000 then
    return string.char(0xE0 + floor(cp / 4096), 0x80 + floor(cp / 64) % 64, 0x80 + cp % 64)
  end
  return string.char(0xF0 + floor(cp / 262144), 0x80 + floor(cp / 4096) % 64,
                     0x80 + floor(cp / 64) % 64, 0x80 + cp % 64)
end

-- ---------------------------------------------------------------------------
-- Character classes
--
-- A class is { neg = bool, ranges = { lo1, hi1, lo2, hi2, ... },
-- subs = { class, ... }, cat = "L"|"N"|"Z"|nil, ascii = { [0..127] = bool } }.
-- `ascii` is the precomputed answer (negation included) for code points
-- below 128; the rest goes through `class_high`. `cat` names a Unicode
-- category (`\p{L}`): its ASCII members are in CATEGORY_ASCII, the whole
-- table in `fsx.unicode_data`, loaded when a code point >= 128 is tested.

local unicode -- fsx.unicode_data, loaded on first use

-- The ASCII part of each category's ranges in fsx.unicode_data
-- (spec/pattern_spec.lua checks that they agree).
local CATEGORY_ASCII = { L = { 65, 90, 97, 122 }, N = { 48, 57 }, Z = { 32, 32 } }

-- The ranges of category `name` that matter for code point c.
local function category_ranges(name, c)
  if c < 128 then return CATEGORY_ASCII[name] end
  unicode = unicode or require("fsx.unicode_data")
  return unicode[name]
end

local function in_ranges(r, c)
  -- binary search over sorted, non-overlapping { lo, hi, lo, hi, ... }
  local lo, hi = 1, #r / 2
  while lo <= hi do
    local mid = floor((lo + hi) / 2)
    local a = r[2 * mid - 1]
    if c < a then
      hi = mid - 1
    elseif c > r[2 * mid] then
      lo = mid + 1
    else
      return true
    end
  end
  return false
end

local function class_test(cl, c)
  local r = false
  local ranges = cl.ranges
  for i = 1, #ranges, 2 do
    if c >= ranges[i] and c <= ranges[i + 1] then r = true break end
  end
  if not r and cl.cat then r = in_ranges(category_ranges(cl.cat, c), c) end
  if not r then
    local subs = cl.subs
    for i = 1, #subs do
      if class_test(subs[i], c) then r = true break end
    end
  end
  if cl.neg then return not r end
  return r
end

local class_high = class_test -- code points >= 128 (no ASCII table)

local function finish_class(cl)
  local ascii = {}
  for c = 0, 127 do ascii[c] = class_test(cl, c) end
  cl.ascii = ascii
  return cl
end

local function new_class(neg, ranges, subs, cat)
  return finish_class({ neg = neg or false, ranges = ranges or {}, subs = subs or {}, cat = cat })
end

local SHORTHAND = {
  d = { 48, 57 },
  w = { 48, 57, 65, 90, 95, 95, 97, 122 },
  s = { 9, 13, 32, 32 },
}

local CATEGORIES = { L = true, N = true, Z = true }

--- The ASCII members of the categories `\p{L}`, `\p{N}`, `\p{Z}` (flat
-- `{ lo, hi, ... }` ranges), for the tests.
M.CATEGORY_ASCII = CATEGORY_ASCII

local function category_class(name, neg)
  if not CATEGORIES[name] then
    error("fsx.pattern: unsupported Unicode class \\p{" .. name .. "}", 0)
  end
  return new_class(neg, {}, {}, name)
end

-- '.' : anything but a line terminator
local DOT = new_class(true, { 10, 10, 13, 13, 0x85, 0x85, 0x2028, 0x2029 })

-- ---------------------------------------------------------------------------
-- Parser: pattern source (array of code points) -> syntax tree
--
-- Nodes: { t = "set", cl = class } | { t = "seq", ... } | { t = "alt", ... }
-- | { t = "rep", node, min, max (nil = unbounded) } | { t = "bol" }
-- | { t = "eol" } | { t = "look", node, behind = bool, neg = bool }

-- The ranges with the other case of their ASCII letters added (for `(?i)`).
local function both_cases(ranges)
  local out = {}
  for k = 1, #ranges, 2 do
    local lo, hi = ranges[k], ranges[k + 1]
    out[#out + 1], out[#out + 2] = lo, hi
    for _, span in ipairs({ { 65, 90, 32 }, { 97, 122, -32 } }) do
      local a, b = math.max(lo, span[1]), math.min(hi, span[2])
      if a <= b then out[#out + 1], out[#out + 2] = a + span[3], b + span[3] end
    end
  end
  return out
end

local function parse(src)
  local p, n = M.decode(src)
  if not p then error("fsx.pattern: pattern is not valid UTF-8", 0) end
  local i = 1
  local icase = false -- inside (?i)

  local function fail(msg)
    error(string.format("fsx.pattern: %s at offset %d in %s", msg, i, src), 0)
  end
  local function ch(c) return byte(c) end

  local function hex_digits(count)
    local v = 0
    for _ = 1, count do
      local c = p[i]
      local d = c and tonumber(string.char(c), 16)
      if not d or c > 127 then fail("bad hex escape") end
      v = v * 16 + d
      i = i + 1
    end
    return v
  end

  -- Parse an escape after '\'. Returns ("char", cp) or ("class", class).
  local function escape()
    local c = p[i]
    if not c then fail("trailing backslash") end
    i = i + 1
    if c > 127 then return "char", c end
    local e = string.char(c)
    local lower = e:lower()
    if SHORTHAND[lower] then
      return "class", new_class(e ~= lower, SHORTHAND[lower])
    elseif e == "p" or e == "P" then
      local name
      if p[i] == ch("{") then
        local j = i + 1
        while p[j] and p[j] ~= ch("}") do j = j + 1 end
        if not p[j] then fail("unterminated \\p{") end
        local t = {}
        for k = i + 1, j - 1 do t[#t + 1] = string.char(p[k]) end
        name = table.concat(t)
        i = j + 1
      else
        if not p[i] then fail("bad \\p") end
        name = string.char(p[i])
        i = i + 1
      end
      return "class", category_class(name, e == "P")
    elseif e == "u" then
      return "char", hex_digits(4)
    elseif e == "x" then
      if p[i] == ch("{") then
        i = i + 1
        local v, k = 0, 0
        while p[i] and p[i] ~= ch("}") do
          v = v * 16 + hex_digits(1)
          k = k + 1
        end
        if k == 0 or not p[i] or v > 0x10FFFF then fail("bad \\x{...}") end
        i = i + 1
        return "char", v
      end
      return "char", hex_digits(2)
    elseif e == "t" then return "char", 9
    elseif e == "n" then return "char", 10
    elseif e == "r" then return "char", 13
    elseif e == "f" then return "char", 12
    elseif e == "a" then return "char", 7
    elseif e == "e" then return "char", 27
    elseif e:match("%w") then
      fail("unsupported escape \\" .. e)
    end
    return "char", c -- escaped punctuation is itself
  end

  local function class()
    -- at p[i] just after '['
    local neg = false
    if p[i] == ch("^") then neg = true; i = i + 1 end
    local ranges, subs = {}, {}
    local first = true
    while true do
      local c = p[i]
      if not c then fail("unterminated class") end
      if c == ch("]") and not first then i = i + 1 break end
      if c == ch("[") then fail("nested classes are not supported") end
      if c == ch("&") and p[i + 1] == ch("&") then fail("class intersection is not supported") end
      first = false
      local kind, v
      i = i + 1
      if c == ch("\\") then kind, v = escape() else kind, v = "char", c end
      if kind == "class" then
        subs[#subs + 1] = v
      elseif p[i] == ch("-") and p[i + 1] and p[i + 1] ~= ch("]") then
        i = i + 1
        local c2 = p[i]
        i = i + 1
        local k2, v2 = "char", c2
        if c2 == ch("\\") then k2, v2 = escape() end
        if k2 ~= "char" or v2 < v then fail("bad class range") end
        ranges[#ranges + 1] = v
        ranges[#ranges + 1] = v2
      else
        ranges[#ranges + 1] = v
        ranges[#ranges + 1] = v
      end
    end
    if icase then ranges = both_cases(ranges) end
    return new_class(neg, ranges, subs)
  end

  -- the class of one literal code point
  local function literal(v)
    local ranges = { v, v }
    if icase then ranges = both_cases(ranges) end
    return new_class(false, ranges)
  end

  local alt

  local function number()
    local v, k = 0, 0
    while p[i] and p[i] >= 48 and p[i] <= 57 do
      v = v * 10 + (p[i] - 48)
      i = i + 1
      k = k + 1
    end
    if k == 0 then return nil end
    return v
  end

  local function quantifier(node)
    local c = p[i]
    local lo, hi
    if c == ch("*") then lo, hi = 0, nil; i = i + 1
    elseif c == ch("+") then lo, hi = 1, nil; i = i + 1
    elseif c == ch("?") then lo, hi = 0, 1; i = i + 1
    elseif c == ch("{") then
      i = i + 1
      lo = number()
      if not lo then fail("bad {m,n} quantifier") end
      if p[i] == ch(",") then
        i = i + 1
        hi = number() -- nil = unbounded
      else
        hi = lo
      end
      if p[i] ~= ch("}") then fail("bad {m,n} quantifier") end
      i = i + 1
      if hi and hi < lo then fail("bad {m,n} quantifier") end
    else
      return node
    end
    if p[i] == ch("?") or p[i] == ch("+") then fail("lazy/possessive quantifiers are not supported") end
    if node.t == "bol" or node.t == "eol" or node.t == "look" then fail("quantifier on an assertion") end
    return quantifier({ t = "rep", node, min = lo, max = hi })
  end

  local function atom()
    local c = p[i]
    i = i + 1
    if c == ch("(") then
      local look
      if p[i] == ch("?") then
        local c2, c3 = p[i + 1], p[i + 2]
        if c2 == ch(":") then i = i + 2
        elseif c2 == ch("=") then look = { behind = false, neg = false }; i = i + 2
        elseif c2 == ch("!") then look = { behind = false, neg = true }; i = i + 2
        elseif c2 == ch("<") and c3 == ch("=") then look = { behind = true, neg = false }; i = i + 3
        elseif c2 == ch("<") and c3 == ch("!") then look = { behind = true, neg = true }; i = i + 3
        elseif c2 == ch("i") and c3 == ch(")") then
          icase = true
          i = i + 3
          return { t = "seq" }
        else fail("unsupported group construct") end
      end
      local outer = icase
      local node = alt()
      if p[i] ~= ch(")") then fail("missing )") end
      i = i + 1
      icase = outer
      if look then
        return { t = "look", node, behind = look.behind, neg = look.neg }
      end
      return node
    elseif c == ch("[") then
      return { t = "set", cl = class() }
    elseif c == ch(".") then
      return { t = "set", cl = DOT }
    elseif c == ch("^") then
      return { t = "bol" }
    elseif c == ch("$") then
      return { t = "eol" }
    elseif c == ch("\\") then
      local kind, v = escape()
      if kind == "class" then return { t = "set", cl = v } end
      return { t = "set", cl = literal(v) }
    elseif c == ch("*") or c == ch("+") or c == ch("?") or c == ch("{") then
      i = i - 1
      fail("nothing to repeat")
    elseif c == ch(")") then
      i = i - 1
      fail("unbalanced )")
    end
    return { t = "set", cl = literal(c) }
  end

  local function seq()
    local node = { t = "seq" }
    while p[i] and p[i] ~= ch("|") and p[i] ~= ch(")") do
      node[#node + 1] = quantifier(atom())
    end
    return node
  end

  function alt()
    local first = seq()
    if p[i] ~= ch("|") then return first end
    local node = { t = "alt", first }
    while p[i] == ch("|") do
      i = i + 1
      node[#node + 1] = seq()
    end
    return node
  end

  local tree = alt()
  if i <= n then fail("unbalanced )") end
  return tree
end

-- Minimum and maximum width (in code points) of a node; max nil = unbounded.
local function width(node)
  local t = node.t
  if t == "set" then return 1, 1 end
  if t == "bol" or t == "eol" or t == "look" then return 0, 0 end
  if t == "seq" then
    local lo, hi = 0, 0
    for k = 1, #node do
      local a, b = width(node[k])
      lo = lo + a
      hi = hi and b and hi + b or nil
    end
    return lo, hi
  end
  if t == "alt" then
    local lo, hi = math.huge, 0
    for k = 1, #node do
      local a, b = width(node[k])
      if a < lo then lo = a end
      if hi and b then if b > hi then hi = b end else hi = nil end
    end
    return lo, hi
  end
  -- rep
  local a, b = width(node[1])
  return a * node.min, (node.max and b) and b * node.max or nil
end

-- ---------------------------------------------------------------------------
-- Program: instructions in parallel arrays, compiled back to front
-- (each node is compiled knowing the pc of its continuation).

local CHAR, SPLIT, BOL, EOL, STAR, LOOK, MATCH = 1, 2, 3, 4, 5, 6, 7

local function codegen(tree)
  local prog = { op = {}, x = {}, y = {}, cl = {}, min = {}, max = {},
                 behind = {}, neg = {}, n = 0 }
  local op, x, y, cl = prog.op, prog.x, prog.y, prog.cl

  local function emit(o, nx)
    local pc = prog.n + 1
    prog.n = pc
    op[pc] = o
    x[pc] = nx
    return pc
  end

  local compile
  function compile(node, k)
    local t = node.t
    if t == "set" then
      local pc = emit(CHAR, k)
      cl[pc] = node.cl
      return pc
    elseif t == "seq" then
      for j = #node, 1, -1 do k = compile(node[j], k) end
      return k
    elseif t == "alt" then
      local e = compile(node[#node], k)
      for j = #node - 1, 1, -1 do
        local pc = emit(SPLIT, compile(node[j], k))
        y[pc] = e
        e = pc
      end
      return e
    elseif t == "bol" then
      return emit(BOL, k)
    elseif t == "eol" then
      return emit(EOL, k)
    elseif t == "look" then
      local pc = emit(LOOK, k)
      local done = emit(MATCH, nil)
      y[pc] = compile(node[1], done)
      prog.behind[pc] = node.behind
      prog.neg[pc] = node.neg
      if node.behind then
        local lo, hi = width(node[1])
        if not hi then error("fsx.pattern: unbounded lookbehind", 0) end
        prog.min[pc], prog.max[pc] = lo, hi
      end
      return pc
    end
    -- rep
    local body, lo, hi = node[1], node.min, node.max
    if body.t == "set" then
      local pc = emit(STAR, k)
      cl[pc] = body.cl
      prog.min[pc], prog.max[pc] = lo, hi or math.huge
      return pc
    end
    local entry
    if not hi then
      local loop = emit(SPLIT, nil)
      x[loop] = compile(body, loop)
      y[loop] = k
      entry = loop
    else
      entry = k
      for _ = 1, hi - lo do
        local pc = emit(SPLIT, compile(body, entry))
        y[pc] = k
        entry = pc
      end
    end
    for _ = 1, lo do entry = compile(body, entry) end
    return entry
  end

  local final = emit(MATCH, nil)
  prog.entry = compile(tree, final)
  -- follow[pc] for a STAR: the class the character right after its
  -- repetitions must be in, when the continuation starts (after zero-width
  -- lookarounds) with a CHAR or a STAR of min >= 1; retries skip every count
  -- whose next character is not in it.
  local follow = {}
  for pc = 1, prog.n do
    if op[pc] == STAR then
      local t = x[pc]
      while op[t] == LOOK do t = x[t] end
      if op[t] == CHAR or (op[t] == STAR and prog.min[t] >= 1) then follow[pc] = cl[t] end
    end
  end
  prog.follow = follow
  prog.anchored = op[prog.entry] == BOL
  return prog
end

-- ---------------------------------------------------------------------------
-- Matcher

local huge = math.huge

-- Per-search memo, created on the first branch (a single path needs none):
-- [pc * (n + 2) + pos] = true for every state already explored (all of them
-- failed), and for each STAR instruction three interval caches under
-- negative keys, so that re-entering a STAR at a nearby position costs O(1)
-- instead of rescanning and retrying the same positions:
--   [-6pc] = e, [-6pc-1] = s : from any pos in [s, e] the run of class
--     characters ends at e (first non-class index, or n + 1);
--   [-6pc-2] = b, [-6pc-3] = a : no position in [a, b] holds a character of
--     the STAR's follow class (see `follow` in codegen);
--   [-6pc-4] = lo, [-6pc-5] = hi : end positions [lo, hi] after this STAR
--     already tried or scheduled on the stack (each is tried once).

local function test(k, c)
  if c < 128 then return k.ascii[c] end
  return class_high(k, c)
end

-- Largest q in [lo, q] whose character is in class f (positions past n never
-- are), or lo - 1.
local function back(memo, pc, f, q, lo, s, cps, n)
  local ka, kb = -6 * pc - 3, -6 * pc - 2
  local a, b = memo[ka], memo[kb]
  local hi = q
  while q >= lo do
    if a and q >= a and q <= b then
      if b > hi then hi = b end
      q = a - 1
    elseif q <= n and test(f, cps and cps[q] or byte(s, q)) then
      break
    else
      q = q - 1
    end
  end
  if q < hi then
    memo[ka], memo[kb] = q + 1, hi
  end
  return q
end

-- Run the program from (pc, pos). cps is the code point array, or nil when s
-- is ASCII (code points are then the bytes of s). target: for lookbehind,
-- the position the sub-match must end at. memo: shared between the start
-- positions of one search.
local run

local function look(prog, pc, pos, s, cps, n)
  local entry = prog.y[pc]
  local ok = false
  if prog.behind[pc] then
    local first = pos - prog.max[pc]
    if first < 1 then first = 1 end
    for j = pos - prog.min[pc], first, -1 do
      if run(prog, entry, j, s, cps, n, pos, nil) then ok = true break end
    end
  else
    ok = run(prog, entry, pos, s, cps, n, nil, nil)
  end
  if prog.neg[pc] then return not ok end
  return ok
end

function run(prog, pc, pos, s, cps, n, target, memo)
  local op, x, cl, mins, follow = prog.op, prog.x, prog.cl, prog.min, prog.follow
  local stride = n + 2
  local stack, sp = nil, 0
  local lookres
  while true do
    -- follow one path until it fails
    while true do
      if memo then
        local key = pc * stride + pos
        if memo[key] then break end
        memo[key] = true
      end
      local o = op[pc]
      if o == CHAR then
        if pos > n then break end
        if not test(cl[pc], cps and cps[pos] or byte(s, pos)) then break end
        pc, pos = x[pc], pos + 1
      elseif o == STAR then
        local k, mx, mn = cl[pc], prog.max[pc], mins[pc]
        -- length of the run of class characters from pos (cached when memo)
        local e, ce, cs
        if memo then
          ce, cs = memo[-6 * pc], memo[-6 * pc - 1]
          if ce and pos >= cs and pos <= ce then e = ce end
        end
        if not e then
          local limit = n
          if mx ~= huge and pos + mx - 1 < limit then limit = pos + mx - 1 end
          -- a cached run that starts after pos: scanning up to its start is
          -- enough (entries at falling positions then cost O(1) each, not
          -- a rescan of the whole run)
          local joins = ce and pos < cs and cs <= limit
          if joins then limit = cs - 1 end
          local j = pos
          local ascii = k.ascii
          while j <= limit do
            local c = cps and cps[j] or byte(s, j)
            local ok
            if c < 128 then ok = ascii[c] else ok = class_high(k, c) end
            if not ok then break end
            j = j + 1
          end
          if joins and j == cs then
            e = ce
            memo[-6 * pc - 1] = pos
          else
            e = j
            if memo and (j <= limit or j > n) then
              memo[-6 * pc], memo[-6 * pc - 1] = j, pos
            end
          end
        end
        local count = e - pos
        if count > mx then count = mx end
        if count < mn then break end
        local nx = x[pc]
        local lo, hi = pos + mn, pos + count -- candidate end positions
        if lo < hi and op[nx] ~= EOL then
          -- several candidates: skip those another entry already covers
          memo = memo or {}
          local kl, kh = -6 * pc - 4, -6 * pc - 5
          local clo, chi = memo[kl], memo[kh]
          if clo and chi >= hi and clo <= hi + 1 then
            if clo <= lo then break end
            hi = clo - 1
            memo[kl] = lo
          elseif clo and clo <= lo and chi >= lo - 1 then
            lo = chi + 1
            memo[kh] = hi
          else
            memo[kl], memo[kh] = lo, hi
          end
          local f = follow[pc]
          if f then
            hi = back(memo, pc, f, hi, lo, s, cps, n)
            if hi < lo then break end
          end
          if hi > lo then
            -- retry shorter runs later: a STAR resume record
            stack = stack or {}
            stack[sp + 1], stack[sp + 2], stack[sp + 3], stack[sp + 4] = pc, pos, hi - 1, lo
            sp = sp + 4
          end
        end
        pc, pos = nx, hi
      elseif o == SPLIT then
        if not stack then stack = {}; memo = memo or {} end
        stack[sp + 1], stack[sp + 2], stack[sp + 3], stack[sp + 4] = prog.y[pc], pos, -1, 0
        sp = sp + 4
        pc = x[pc]
      elseif o == BOL then
        if pos ~= 1 then break end
        pc = x[pc]
      elseif o == EOL then
        if pos ~= n + 1 then break end
        pc = x[pc]
      elseif o == LOOK then
        lookres = lookres or {}
        local key = pc * stride + pos
        local r = lookres[key]
        if r == nil then
          r = look(prog, pc, pos, s, cps, n)
          lookres[key] = r
        end
        if not r then break end
        pc = x[pc]
      else -- MATCH
        if target == nil or pos == target then return true end
        break
      end
    end
    -- backtrack: pop states until one is worth following
    local resumed = false
    while sp > 0 and not resumed do
      local q, lo = stack[sp - 1], stack[sp]
      pc, pos = stack[sp - 3], stack[sp - 2]
      sp = sp - 4
      if q < 0 then
        resumed = true
      else
        -- STAR resume: the next candidate end position <= q
        local f = follow[pc]
        if f then q = back(memo, pc, f, q, lo, s, cps, n) end
        if q >= lo then
          if q > lo then
            stack[sp + 1], stack[sp + 2], stack[sp + 3], stack[sp + 4] = pc, pos, q - 1, lo
            sp = sp + 4
          end
          pc, pos = x[pc], q
          resumed = true
        end
      end
    end
    if not resumed then return false end
  end
end

-- ---------------------------------------------------------------------------
-- Public API

local compiled = {}
-- results cached per pattern, for strings up to CACHE_MAX_LEN bytes
local CACHE_MAX_ENTRIES, CACHE_MAX_LEN = 256, 256

--- Compile a pattern (cached by source text).
-- @tparam string src the model's pattern
-- @treturn table the compiled pattern; raises a plain error string
--   (`fsx.pattern: ...`) for a construct this module does not support
function M.compile(src)
  local c = compiled[src]
  if c then return c end
  -- full-match semantics: anchor the whole pattern at both ends
  local tree = parse("^(?:" .. src .. ")$")
  c = { source = src, prog = codegen(tree), cache = bounded_cache(CACHE_MAX_ENTRIES) }
  -- A search for a pattern that ends with `$` and has a bounded width W can
  -- only succeed from the last W + 1 start positions.
  local last = tree.t == "seq" and tree[#tree]
  if last and last.t == "eol" then
    local _, hi = width(tree)
    c.tail = hi
  end
  compiled[src] = c
  return c
end

--- Match the whole of s against the pattern (see the semantics at the top).
-- @tparam string|table pat source text or a compiled pattern
-- @tparam string s a valid UTF-8 string
-- @treturn boolean
function M.match(pat, s)
  if type(pat) == "string" then pat = M.compile(pat) end
  local r = pat.cache:get(s)
  if r ~= nil then return r end
  local cps, n
  if find(s, "[\128-\255]") then
    cps, n = M.decode(s)
    if not cps then return false end
  else
    n = #s
  end
  local prog = pat.prog
  r = false
  if prog.anchored then
    r = run(prog, prog.entry, 1, s, cps, n, nil, nil)
  else
    local memo = {}
    local first = 1
    if pat.tail and n + 1 - pat.tail > first then first = n + 1 - pat.tail end
    for start = first, n + 1 do
      if run(prog, prog.entry, start, s, cps, n, nil, memo) then r = true break end
    end
  end
  if #s <= CACHE_MAX_LEN then pat.cache:put(s, r) end
  return r
end

return M
