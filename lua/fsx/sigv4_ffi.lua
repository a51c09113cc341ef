--- core.sign through LuaJIT's FFI (binding layer).
--
-- Under LuaJIT this module gives `sign(req)`, the same function as
-- `fsx.core.sign`, with the same results and the same errors, at a lower
-- cost (bench/README.md, "Lua path within 2x of the C path"): a call
-- through the classic Lua C API cannot be compiled,
-- and core.sign spends more time reading and building tables than signing.
-- Here the compiled Lua reads the request and fills the
-- `struct fsx_sign_call` of src/sign_call.h, the C code checks and signs it
-- exactly as core.sign does (same checks, same order, same cache), and the
-- result table is built in Lua from the views the call returns.
--
-- Anything the fast reader does not take as it is (headers that are not a
-- plain array of string pairs) and any failure go to core.sign itself, so
-- errors come from one place. Under PUC Lua, or when the struct layout of
-- the loaded fsx.core does not match the declaration below, `require`
-- returns false and callers keep core.sign.
-- @module fsx.sigv4_ffi
-- @local
local ok_ffi, ffi = pcall(require, "ffi")
if not ok_ffi then return false end
local core = require "fsx.core"
if not core.sign_ffi then return false end

local CALL = "struct fsx_sign_call"
if not pcall(ffi.typeof, CALL) then
  -- src/sign_call.h, src/sigv4.h (struct fsx_sigv4_header), src/error.h
  ffi.cdef [[
struct fsx_sigv4_header { const char *name; size_t name_len; const char *value; size_t value_len; };
struct fsx_sign_error { int kind; char code[48]; char message[256]; };
struct fsx_sign_value { const char *s; size_t len; double num; int type; };
struct fsx_sign_call {
  struct fsx_sign_value v[16];
  const struct fsx_sigv4_header *headers;
  size_t n_headers;
  int stages;
  const char *field;
  const char *what;
  char date[17];
  const char *amz_date;
  struct fsx_sign_error err;
  const char *out[6];
  size_t out_len[6];
  struct fsx_sigv4_header added[3];
  size_t n_added;
};
struct fsx_sign_ffi_entry { int (*sign)(void *signer, void *state, struct fsx_sign_call *c); };
]]
end

local entry_ptr, signer_ptr, size, n_added_at, new_state = core.sign_ffi()
if ffi.sizeof(CALL) ~= size or ffi.offsetof(CALL, "n_added") ~= n_added_at
  or type(new_state) ~= "function" then
  return false -- a fsx.core built from another sign_call.h: keep core.sign
end
local csign = core.sign
local run = ffi.cast("struct fsx_sign_ffi_entry *", entry_ptr).sign
local signer = ffi.cast("void *", signer_ptr)
local ffi_string = ffi.string
local type, rawget = type, rawget
local ok_nkeys, nkeys = pcall(require, "table.nkeys")
if not ok_nkeys then
  nkeys = function(t)
    local n = 0
    for _ in next, t do n = n + 1 end
    return n
  end
end

-- src/sign_call.h: enum fsx_sign_type, enum fsx_sign_out
local T_NIL, T_STRING, T_BOOLEAN, T_NUMBER, T_OTHER = 0, 1, 2, 3, 4
local OUT_AUTH, OUT_SIG, OUT_CREQ, OUT_STS, OUT_SH, OUT_PH = 0, 1, 2, 3, 4, 5

-- One context per nesting depth of sign(): the call struct, the header
-- array and the sign state (the C result buffers, a userdata) that a
-- signature at that depth fills. A __gc finalizer that signs while another
-- sign() copies its answer out runs one depth deeper, with buffers of its
-- own, so it cannot change that answer. `req` keeps the request reachable
-- while C holds pointers into its strings (the compiled code may otherwise
-- consider it dead, and a collection could free a string C still reads).
local contexts = {}
local depth = 0

local function context(d)
  local ctx = contexts[d]
  if not ctx then
    ctx = { call = ffi.new(CALL), hcap = 8, state = new_state(), req = false }
    ctx.harr = ffi.new("struct fsx_sigv4_header[?]", ctx.hcap)
    contexts[d] = ctx
  end
  return ctx
end

local function out(call, k)
  return ffi_string(call.out[k], call.out_len[k])
end

-- The value v into slot i (0-based) of call.
local function set_value(call, i, v)
  local slot = call.v[i]
  local t = type(v)
  if t == "string" then
    slot.type, slot.s, slot.len = T_STRING, v, #v
  elseif t == "nil" then
    slot.type = T_NIL
  elseif t == "boolean" then
    slot.type, slot.num = T_BOOLEAN, v and 1 or 0
  elseif t == "number" then
    slot.type, slot.num = T_NUMBER, v
  else
    slot.type = T_OTHER
  end
end

-- The pair {name, value} of the added header i (0-based) of the call.
local function added_pair(call, i)
  local a = call.added[i]
  return { ffi_string(a.name, a.name_len), ffi_string(a.value, a.value_len) }
end

-- Sign req in the context ctx: the result table, or nil when core.sign
-- must answer (an unusual header shape, or any failure).
local function sign_in(ctx, req)
  local h = rawget(req, "headers")
  local n = 0
  if h ~= nil then
    if type(h) ~= "table" then return nil end
    n = #h
    if nkeys(h) ~= n then return nil end
    if n > ctx.hcap then -- grow before any pointer is stored
      while ctx.hcap < n do ctx.hcap = ctx.hcap * 2 end
      ctx.harr = ffi.new("struct fsx_sigv4_header[?]", ctx.hcap)
    end
  end
  local call, harr = ctx.call, ctx.harr
  ctx.req = req
  for i = 1, n do
    local p = rawget(h, i)
    if type(p) ~= "table" then return nil end
    local name, value = rawget(p, 1), rawget(p, 2)
    if type(name) ~= "string" or type(value) ~= "string" then return nil end
    local e = harr[i - 1]
    e.name, e.name_len, e.value, e.value_len = name, #name, value, #value
  end
  -- one line per slot, in the order of enum fsx_sign_slot: each call site
  -- then compiles for the one type its field has
  set_value(call, 0, rawget(req, "method"))
  set_value(call, 1, rawget(req, "path"))
  set_value(call, 2, rawget(req, "query"))
  set_value(call, 3, rawget(req, "body"))
  set_value(call, 4, rawget(req, "payload_hash"))
  set_value(call, 5, rawget(req, "region"))
  set_value(call, 6, rawget(req, "service"))
  set_value(call, 7, rawget(req, "access_key_id"))
  set_value(call, 8, rawget(req, "secret_access_key"))
  set_value(call, 9, rawget(req, "session_token"))
  set_value(call, 10, rawget(req, "amz_date"))
  set_value(call, 11, rawget(req, "normalize_path"))
  set_value(call, 12, rawget(req, "sign_body"))
  set_value(call, 13, rawget(req, "omit_session_token"))
  set_value(call, 14, rawget(req, "stages"))
  set_value(call, 15, rawget(req, "time"))
  call.headers, call.n_headers = harr, n
  if run(signer, ctx.state, call) ~= 0 then return nil end
  local auth, amz_date = out(call, OUT_AUTH), ffi_string(call.amz_date, 16)
  local res
  if call.stages ~= 0 then
    res = {
      authorization = auth, signature = out(call, OUT_SIG),
      canonical_request = out(call, OUT_CREQ), string_to_sign = out(call, OUT_STS),
      signed_headers = out(call, OUT_SH), payload_hash = out(call, OUT_PH),
      amz_date = amz_date, headers = false,
    }
  else
    res = { authorization = auth, amz_date = amz_date, headers = false }
  end
  local n_added = tonumber(call.n_added)
  local list = {}
  for i = 1, n do list[i] = rawget(h, i) end
  for i = 1, n_added do list[n + i] = added_pair(call, i - 1) end -- at most three
  list[n + n_added + 1] = { "Authorization", auth }
  res.headers = list
  return res
end

--- Sign a request: `fsx.core.sign`'s contract (see CONTRIBUTING.md).
-- @tparam table req the request
-- @return the result table, or nil, kind, code, message[, field]
local function sign(req)
  if type(req) ~= "table" then return csign(req) end
  local d = depth + 1
  depth = d
  local ctx = context(d)
  local res = sign_in(ctx, req)
  ctx.req = false
  depth = d - 1
  if res then return res end
  return csign(req) -- the same checks again, to report an error core.sign's way
end

return { sign = sign }
