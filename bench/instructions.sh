#!/usr/bin/env bash
# bench/instructions.sh - machine instructions per create_backup call and per
# signature, ours, counted by valgrind's callgrind: a count, not a time, so it
# holds on a loaded machine where the timings of `make bench` drift. A
# diagnostic for comparing two versions of the code, not one of the goals of
# bench/README.md.
#
# Each figure is (I(N2) - I(N1)) / (N2 - N1), the instructions of a run of N2
# minus those of a run of N1, which leaves out start-up and warm-up.
# Instructions in the kernel (the socket calls) are not counted; OpenSSL's
# SHA-256 runs its generic code under valgrind, so the signing share is
# larger than on the real CPU.
#
#   calls: for each interpreter (lua5.4, luajit), bench/calls_lua.lua in
#     `count` mode against bench/fixed_server:
#       <rt>.instructions_per_call
#   sign: the typical CreateBackup request of bench/bench.h signed from Lua
#     (bench/sign_lua.lua `count`, a fresh request table each time, as the
#     client does) and from C (bench/sign_c.c `count`):
#       lua5.4.sign.instructions_per_sign       fsx.sigv4.sign
#       lua5.4.core_sign.instructions_per_sign  fsx.core.sign (Lua C API)
#       luajit.sign.instructions_per_sign       fsx.sigv4.sign (over the FFI)
#       luajit.ffi_sign.instructions_per_sign   fsx.sigv4_ffi.sign
#       luajit.core_sign.instructions_per_sign  fsx.core.sign (Lua C API)
#       <rt>.req_table.instructions_per_sign    building the request table
#                                               alone (part of each Lua figure)
#       c.cached.instructions_per_sign          fsx_sigv4_sign, derived-key cache
#       c.uncached.instructions_per_sign        fsx_sigv4_sign, no cache
#   stages: for each interpreter, each stage of bench/profile_call.lua
#     alone (its `count` mode, against bench/fixed_server; needs a checkout
#     with fsx.validate and fsx.output, 08317f3 or later):
#       <rt>.stage.<name>.instructions_per_call
#     (shape.input validation, protocol.build the JSON body, protocol.parse
#     the cjson decode, shape.output the answer's check and conversion,
#     transport.send the binding and libcurl, total the whole call)
#   all: calls and sign.
#
# Usage: bash bench/instructions.sh [calls|sign|stages|all] [N1 N2]
#   (default calls; N1 N2 default 300 1300 for calls and stages, about a
#   minute per interpreter and figure, and 1000 11000 for signing, about 10 s per figure; under `all` they
#   set the calls only). Environment:
#   FSX_TREE=<checkout>  counts the library of another checkout of lua-fsx
#       (its lua/, its fsx/core.so built there by its own Makefile, its src/
#       for sign_c) with this checkout's bench programs, e.g. a worktree of
#       an older commit: `git worktree add --detach /tmp/old <commit>`, then
#       `FSX_TREE=/tmp/old bash bench/instructions.sh all`.
#   REPEAT=<k>  (default 1) counts each figure k times and prints the median
#       and every count: LuaJIT's figures vary by a few percent from run to
#       run (its string hashes and machine-code addresses are randomised, so
#       which traces it compiles varies); Lua 5.4's and C's hardly move.
#   CALLGRIND_DIR=<dir>  keeps each run's callgrind.out.<rt>.<measure>.<N>.<i>
#       there, for callgrind_annotate.
# The first line printed is `commit <id>` of the code counted. Needs valgrind;
# builds what it needs (fsx/core.so per runtime with make, fixed_server and
# sign_c-<commit> into build/instructions/).
set -eu
cd "$(dirname "$0")/.."
mode=calls
REPEAT=${REPEAT:-1}
case "${1:-}" in calls|sign|stages|all) mode=$1; shift ;; esac
T=$(cd "${FSX_TREE:-.}" && pwd)
B=build/instructions
command -v valgrind >/dev/null || { echo "instructions: needs valgrind (Debian package valgrind)" >&2; exit 1; }
mkdir -p "$B"
commit=$(git -C "$T" rev-parse --short HEAD)
echo "commit $commit"
make -s -C "$T" LUA=lua5.4 all >/dev/null
make -s -C "$T" LUA=luajit all >/dev/null

# callgrind NAME N CMD... -> instructions of one run of CMD
callgrind() {
  local out=/dev/null name=$1 n=$2
  shift 2
  [ -n "${CALLGRIND_DIR:-}" ] && { mkdir -p "$CALLGRIND_DIR"; out=$CALLGRIND_DIR/callgrind.out.$name.$n; }
  valgrind --tool=callgrind --callgrind-out-file="$out" "$@" 2>&1 \
    | sed -n 's/.*refs: *\([0-9,]*\).*/\1/p' | tr -d ,
}
# per NAME N1 N2 CMD... -> (I(N2) - I(N1)) / (N2 - N1) for each of REPEAT
# pairs of runs: "<median>  (<REPEAT> runs: <each>)"; CMD gets N appended
per() {
  local name=$1 n1=$2 n2=$3 a b i all=()
  shift 3
  for i in $(seq "$REPEAT"); do
    a=$(callgrind "$name" "$n1.$i" "$@" "$n1")
    b=$(callgrind "$name" "$n2.$i" "$@" "$n2")
    if [ -z "$a" ] || [ -z "$b" ]; then echo "instructions: $name: no count from valgrind" >&2; return 1; fi
    all+=($(( (b - a) / (n2 - n1) )))
  done
  if [ "$REPEAT" = 1 ]; then echo "${all[0]}"; return; fi
  echo "$(printf '%s\n' "${all[@]}" | sort -n | sed -n "$(( (REPEAT + 1) / 2 ))p")  ($REPEAT runs: ${all[*]})"
}
lua_env() { # lua_env RT: the tree's modules for RT
  export LUA_PATH="$T/lua/?.lua;$T/lua/?/init.lua;;" LUA_CPATH="$T/build/$1/?.so;;"
}

if [ "$mode" = calls ] || [ "$mode" = stages ] || [ "$mode" = all ]; then
  N1=${1:-300}
  N2=${2:-1300}
  [ -x $B/fixed_server ] || cc -O2 -o $B/fixed_server bench/fixed_server.c
  port_file=$(mktemp)
  rm -f "$port_file"
  $B/fixed_server --port-file "$port_file" >/dev/null 2>&1 &
  server=$!
  trap 'kill $server 2>/dev/null' EXIT
  for _ in $(seq 100); do [ -s "$port_file" ] && break; sleep 0.05; done
  url="http://127.0.0.1:$(cat "$port_file")"
  rm -f "$port_file"
  for rt in lua5.4 luajit; do
    command -v $rt >/dev/null || continue
    lua_env $rt
    if [ "$mode" = stages ]; then
      for stage in shape.input protocol.build protocol.parse shape.output transport.send total; do
        v=$(per "$rt.stage.$stage" "$N1" "$N2" $rt bench/profile_call.lua "$url" count "$stage")
        echo "$rt.stage.$stage.instructions_per_call $v"
      done
    else
      v=$(per "$rt.calls" "$N1" "$N2" $rt bench/calls_lua.lua "$url" count)
      echo "$rt.instructions_per_call $v"
    fi
  done
fi

if [ "$mode" = sign ] || [ "$mode" = all ]; then
  S1=${1:-1000}
  S2=${2:-11000}
  [ "$mode" = all ] && { S1=1000; S2=11000; }
  srcs=()
  for f in buf error text crypto sigv4; do [ -e "$T/src/$f.c" ] && srcs+=("$T/src/$f.c"); done
  # shellcheck disable=SC2046
  cc -std=c99 -D_POSIX_C_SOURCE=200809L -O2 -g -I"$T/src" -Ibench $(pkg-config --cflags libcrypto) \
    -o "$B/sign_c-$commit" bench/sign_c.c "${srcs[@]}" $(pkg-config --libs libcrypto)
  for rt in lua5.4 luajit; do
    command -v $rt >/dev/null || continue
    lua_env $rt
    for which in sign core_sign ffi_sign req_table; do
      [ $which = ffi_sign ] && [ $rt != luajit ] && continue
      v=$(per "$rt.$which" "$S1" "$S2" $rt bench/sign_lua.lua count $which)
      echo "$rt.$which.instructions_per_sign $v"
    done
  done
  for which in cached uncached; do
    v=$(per "c.$which" "$S1" "$S2" "$B/sign_c-$commit" count $which)
    echo "c.$which.instructions_per_sign $v"
  done
fi
