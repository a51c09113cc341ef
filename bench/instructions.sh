#!/usr/bin/env bash
# bench/instructions.sh - machine instructions per create_backup call, ours,
# counted by valgrind's callgrind: a count, not a time, so it holds on a
# loaded machine where the timings of `make bench` drift. A diagnostic for
# comparing two versions of the code, not one of the goals of bench/README.md.
#
# For each interpreter (lua5.4, luajit), runs bench/calls_lua.lua in `count`
# mode for N1 and for N2 calls against bench/fixed_server and prints
#   <rt>.instructions_per_call <(I(N2) - I(N1)) / (N2 - N1)>
# which leaves out start-up and warm-up. Instructions in the kernel (the
# socket calls) are not counted; OpenSSL's SHA-256 runs its generic code
# under valgrind, so the signing share is larger than on the real CPU.
#
# Usage: bash bench/instructions.sh [N1 N2]   (default 300 1300; about a
# minute per interpreter). Needs valgrind and a `make bench` build (or builds
# the pieces it needs: build/bench/fixed_server and fsx/core.so per runtime).
set -eu
cd "$(dirname "$0")/.."
N1=${1:-300}
N2=${2:-1300}
B=build/bench
command -v valgrind >/dev/null || { echo "instructions: needs valgrind (Debian package valgrind)" >&2; exit 1; }
[ -x $B/fixed_server ] || { mkdir -p $B; cc -O2 -o $B/fixed_server bench/fixed_server.c; }
make -s LUA=lua5.4 all >/dev/null
make -s LUA=luajit all >/dev/null
port_file=$(mktemp)
rm -f "$port_file"
$B/fixed_server --port-file "$port_file" >/dev/null 2>&1 &
server=$!
trap 'kill $server 2>/dev/null' EXIT
for _ in $(seq 100); do [ -s "$port_file" ] && break; sleep 0.05; done
url="http://127.0.0.1:$(cat "$port_file")"
count() { # count RT N -> instructions
  LUA_PATH='lua/?.lua;lua/?/init.lua;;' LUA_CPATH="build/$1/?.so;;" \
    valgrind --tool=callgrind --callgrind-out-file=/dev/null "$1" bench/calls_lua.lua "$url" count "$2" 2>&1 \
    | sed -n 's/.*refs: *\([0-9,]*\).*/\1/p' | tr -d ,
}
for rt in lua5.4 luajit; do
  command -v $rt >/dev/null || continue
  a=$(count $rt "$N1")
  b=$(count $rt "$N2")
  echo "$rt.instructions_per_call $(( (b - a) / (N2 - N1) ))"
done
