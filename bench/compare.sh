#!/usr/bin/env bash
# bench/compare.sh - this checkout's CPU per call and per signature against
# another checkout's, timed the way `make bench` times (interleaved rounds,
# the median of the per-round ratios), so that "within the bench's noise of
# commit X" can be answered with timings and not only with callgrind counts.
#
# Usage: bash bench/compare.sh <other checkout>   (e.g. a worktree of an
#   older commit: `git worktree add --detach /tmp/old <commit>`)
# Environment: ROUNDS (default 7), SECONDS_EACH (default 1.5: per program
#   per round), OUT (default build/compare/results.txt).
#
# Both libraries run with this checkout's bench programs (bench/calls_lua.lua
# reuse, bench/sign_lua.lua, bench/sign_c.c built against each tree's src/)
# against one bench/fixed_server. Every round runs each figure for "other"
# and "this" back to back, in an order that alternates between rounds.
# Figures: <rt>.calls (client CPU µs per create_backup call), <rt>.sign
# (µs per fsx.sigv4.sign), c.cached and c.uncached (µs per fsx_sigv4_sign).
#
# Output, per figure: the median of each side, the median ratio this/other
# and the lowest and highest per-round ratio. Running it with the same
# checkout on both sides (`bash bench/compare.sh .`) shows the noise: how far
# from 1.00 the ratio of two identical programs strays on this machine now.
set -eu
cd "$(dirname "$0")/.."
[ $# = 1 ] || { echo "usage: bash bench/compare.sh <other checkout>" >&2; exit 2; }
O=$(cd "$1" && pwd)
H=$(pwd)
ROUNDS=${ROUNDS:-7}
SECONDS_EACH=${SECONDS_EACH:-1.5}
B=build/compare
OUT=${OUT:-$B/results.txt}
mkdir -p "$B"
LUAS=()
for rt in lua5.4 luajit; do command -v $rt >/dev/null && LUAS+=("$rt"); done

build_tree() { # build_tree TREE NAME
  local t=$1 name=$2 srcs=() f
  for rt in "${LUAS[@]}"; do make -s -C "$t" LUA="$rt" all >/dev/null; done
  for f in buf error text crypto sigv4; do [ -e "$t/src/$f.c" ] && srcs+=("$t/src/$f.c"); done
  # shellcheck disable=SC2046
  cc -std=c99 -D_POSIX_C_SOURCE=200809L -O2 -I"$t/src" -Ibench $(pkg-config --cflags libcrypto) \
    -o "$B/sign_c.$name" bench/sign_c.c "${srcs[@]}" $(pkg-config --libs libcrypto)
}
build_tree "$O" other
build_tree "$H" this
cc -O2 -o "$B/fixed_server" bench/fixed_server.c

port_file=$(mktemp)
rm -f "$port_file"
"$B/fixed_server" --port-file "$port_file" >/dev/null 2>&1 &
server=$!
trap 'kill $server 2>/dev/null' EXIT
for _ in $(seq 100); do [ -s "$port_file" ] && break; sleep 0.05; done
url="http://127.0.0.1:$(cat "$port_file")"
rm -f "$port_file"

# one SIDE TREE: every figure once for that side, as "<round> <side> <figure> <µs>" lines
one() {
  local round=$1 side=$2 t=$3 rt v
  for rt in "${LUAS[@]}"; do
    v=$(LUA_PATH="$t/lua/?.lua;$t/lua/?/init.lua;;" LUA_CPATH="$t/build/$rt/?.so;;" \
        $rt bench/calls_lua.lua "$url" reuse "$SECONDS_EACH" | sed -n "s/^$rt\.reuse\.cpu_us //p")
    echo "$round $side $rt.calls $v"
    v=$(LUA_PATH="$t/lua/?.lua;$t/lua/?/init.lua;;" LUA_CPATH="$t/build/$rt/?.so;;" \
        $rt bench/sign_lua.lua "$SECONDS_EACH" | sed -n "s/^$rt\.sign //p")
    echo "$round $side $rt.sign $(awk -v r="$v" 'BEGIN { printf "%.3f", 1e6 / r }')"
  done
  "$B/sign_c.$side" "$SECONDS_EACH" | awk -v round="$round" -v side="$side" \
    '$1 == "c.cached" || $1 == "c.uncached" { printf "%s %s %s %.3f\n", round, side, $1, 1e6 / $2 }'
}

: > "$B/raw.txt"
for r in $(seq "$ROUNDS"); do
  if [ $((r % 2)) = 1 ]; then
    one "$r" other "$O" >> "$B/raw.txt"; one "$r" this "$H" >> "$B/raw.txt"
  else
    one "$r" this "$H" >> "$B/raw.txt"; one "$r" other "$O" >> "$B/raw.txt"
  fi
done

{
  echo "compare: this $(git rev-parse --short HEAD) against other $(git -C "$O" rev-parse --short HEAD)" \
       "($ROUNDS rounds, $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%FT%TZ))"
  lua5.4 - "$B/raw.txt" <<'EOF'
local by = {}
local figures = {}
for line in io.lines(arg[1]) do
  local round, side, fig, v = line:match("^(%d+) (%S+) (%S+) (%S+)$")
  if round and tonumber(v) then
    if not by[fig] then by[fig] = {}; figures[#figures + 1] = fig end
    by[fig][round] = by[fig][round] or {}
    by[fig][round][side] = tonumber(v)
  end
end
local function median(t)
  table.sort(t)
  local n = #t
  if n == 0 then return 0 / 0 end
  if n % 2 == 1 then return t[(n + 1) / 2] end
  return (t[n / 2] + t[n / 2 + 1]) / 2
end
print(string.format("%-14s %12s %12s %8s %15s", "figure (µs)", "other", "this", "ratio", "round range"))
for _, fig in ipairs(figures) do
  local o, h, r = {}, {}, {}
  for _, sides in pairs(by[fig]) do
    if sides.other and sides.this then
      o[#o + 1], h[#h + 1], r[#r + 1] = sides.other, sides.this, sides.this / sides.other
    end
  end
  local lo, hi = math.huge, -math.huge
  for _, x in ipairs(r) do lo, hi = math.min(lo, x), math.max(hi, x) end
  print(string.format("%-14s %12.3f %12.3f %8.3f %7.3f-%-7.3f", fig, median(o), median(h), median(r), lo, hi))
end
EOF
} | tee "$OUT"
