#!/usr/bin/env bash
# bench/run.sh - lua-fsx against its peers, measured side by side (`make bench`).
#
# Builds what it needs into build/bench/ (fsx/core.so for lua5.4 and luajit,
# the C programs), starts two loopback servers (bench/fixed_server for the
# call rates, spec/support/fsx_server.py for the start-up runs), then runs
# every benchmark ROUNDS times, interleaved (each round runs each program
# once, in a rotating order), and hands the medians to bench/report.lua,
# which prints one table (figure | ours | peer | ratio | goal | met?) and
# writes bench/RESULTS.md with the machine and the date.
#
# Installs what it measures against from Debian packages when they are
# missing and it runs as root with apt-get (BENCH_INSTALL=0: never); peers
# still missing after that are named with their Debian package, and their
# rows show "n/a".
#
# Environment: ROUNDS (5), STARTUP_ROUNDS (10), BENCH_SECONDS (per timed
# loop: 0.4 for signing, 1 for calls), SIGN_SLICES (4: the floor and our C
# signer alternate in that many slices of BENCH_SECONDS/4 per round),
# MEM_CALLS (100000), RESULTS (file to write, bench/RESULTS.md). About three
# minutes on 2 cores.
set -u
cd "$(dirname "$0")/.."
ROOT=$PWD
B=build/bench
ROUNDS=${ROUNDS:-5}
STARTUP_ROUNDS=${STARTUP_ROUNDS:-10}
MEM_CALLS=${MEM_CALLS:-100000}
RESULTS=${RESULTS:-bench/RESULTS.md}
SIGN_SECONDS=${BENCH_SECONDS:-0.4}
CALL_SECONDS=${BENCH_SECONDS:-1}
PY=/usr/bin/python3
AWS=/usr/bin/aws
mkdir -p "$B"
RAW=$B/raw.txt          # every "name value" line measured, all rounds
DIAG=$B/diagnosis.txt   # per-stage profile of one call
: > "$RAW"
: > "$DIAG"
MISSING=()

say() { printf '%s\n' "$*" >&2; }
need() { # need CMD PACKAGE: 0 when CMD exists, else records it as missing
  if command -v "$1" >/dev/null 2>&1 || [ -x "$1" ]; then return 0; fi
  MISSING+=("$1 (Debian package $2)")
  return 1
}

# ---- peers and tools ---------------------------------------------------------
# The Debian packages of the peers and of what builds the programs here.
PEER_PACKAGES="gcc pkg-config libc6-dev libssl-dev libcurl4-openssl-dev lua5.4 liblua5.4-dev
  luajit2 libluajit2-5.1-dev lua-cjson python3 python3-botocore python3-boto3 awscli"
install_peers() {
  local missing=() p
  for p in $PEER_PACKAGES; do
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
  done
  [ ${#missing[@]} -gt 0 ] || return 0
  if [ "${BENCH_INSTALL:-1}" = 0 ] || [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    say "bench: not installing ${missing[*]} (BENCH_INSTALL=0, not root, or no apt-get)"
    return 0
  fi
  say "bench: installing the peers' Debian packages: ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 &&
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2 ||
    say "bench: apt-get failed; the peers it could not install show n/a"
}
command -v dpkg >/dev/null 2>&1 && install_peers

HAVE_CC=0; HAVE_LUA54=0; HAVE_LUAJIT=0; HAVE_BOTOCORE=0; HAVE_BOTO3=0; HAVE_AWS=0
CC=${CC:-cc}
need "$CC" gcc && need pkg-config pkg-config && HAVE_CC=1
if [ $HAVE_CC = 1 ] && ! pkg-config --exists libcrypto libcurl; then
  MISSING+=("OpenSSL/libcurl headers (Debian packages libssl-dev libcurl4-openssl-dev)"); HAVE_CC=0
fi
if [ $HAVE_CC = 0 ]; then
  say "bench: cannot build without a C compiler and the OpenSSL/libcurl headers"
  printf 'missing: %s\n' "${MISSING[@]}" >&2
  exit 1
fi
if need lua5.4 lua5.4; then
  if lua5.4 -e 'require "cjson"' 2>/dev/null; then HAVE_LUA54=1
  else MISSING+=("cjson for lua5.4 (Debian package lua-cjson)"); fi
  [ -e /usr/include/lua5.4/lua.h ] || { MISSING+=("Lua 5.4 headers (Debian package liblua5.4-dev)"); HAVE_LUA54=0; }
fi
if [ $HAVE_LUA54 = 0 ]; then
  say "bench: lua5.4 with cjson is needed (the report runs on it)"
  printf 'missing: %s\n' "${MISSING[@]}" >&2
  exit 1
fi
if need luajit luajit2; then
  if luajit -e 'require "cjson"' 2>/dev/null && [ -e /usr/include/luajit-2.1/lua.h ]; then HAVE_LUAJIT=1
  else MISSING+=("cjson or headers for luajit (Debian packages lua-cjson libluajit2-5.1-dev)"); fi
fi
if need "$PY" python3; then
  "$PY" -c 'import botocore.auth' 2>/dev/null && HAVE_BOTOCORE=1 \
    || MISSING+=("botocore (Debian package python3-botocore)")
  "$PY" -c 'import boto3' 2>/dev/null && HAVE_BOTO3=1 \
    || MISSING+=("boto3 (Debian package python3-boto3)")
fi
need "$AWS" awscli && HAVE_AWS=1
if [ ${#MISSING[@]} -gt 0 ]; then
  say "bench: missing peers/tools (their rows will show n/a; install with apt-get):"
  printf '  %s\n' "${MISSING[@]}" >&2
fi

# ---- build ---------------------------------------------------------------------
say "bench: building into $B/"
CFL="-std=c99 -D_POSIX_C_SOURCE=200809L -O2 -g -Wall -Wextra"
CRYPTO_CF=$(pkg-config --cflags libcrypto); CRYPTO_L=$(pkg-config --libs libcrypto)
CURL_CF=$(pkg-config --cflags libcurl); CURL_L=$(pkg-config --libs libcurl)
build() { # build OUT SOURCES... -- FLAGS...
  local out=$1; shift
  "$@" -o "$out" >"$B/build.log" 2>&1 || { cat "$B/build.log" >&2; say "bench: build of $out failed"; exit 1; }
}
make --no-print-directory -s BUILD=$B/lua5.4 >"$B/build.log" 2>&1 \
  || { cat "$B/build.log" >&2; say "bench: make (lua5.4) failed"; exit 1; }
if [ $HAVE_LUAJIT = 1 ]; then
  make --no-print-directory -s LUA=luajit BUILD=$B/luajit >"$B/build.log" 2>&1 \
    || { cat "$B/build.log" >&2; say "bench: make LUA=luajit failed"; exit 1; }
fi
CORE="src/buf.c src/error.c src/text.c src/crypto.c src/sigv4.c"
# shellcheck disable=SC2086
{
  build $B/sign_floor "$CC" $CFL $CRYPTO_CF bench/sign_floor.c $CRYPTO_L
  build $B/sign_c "$CC" $CFL -Isrc -Ibench $CRYPTO_CF bench/sign_c.c $CORE $CRYPTO_L
  build $B/fixed_server "$CC" $CFL bench/fixed_server.c
  build $B/curl_floor "$CC" $CFL -Ibench $CURL_CF bench/curl_floor.c $CURL_L
  build $B/http_c "$CC" $CFL -Isrc -Ibench $CRYPTO_CF $CURL_CF bench/http_c.c $CORE src/http.c src/interrupt.c $CURL_L $CRYPTO_L
  build $B/startup_runner "$CC" $CFL bench/startup_runner.c
  build $B/sign_stages "$CC" $CFL -Isrc -Ibench $CRYPTO_CF bench/sign_stages.c $CORE $CRYPTO_L
  build $B/dlopen_cost "$CC" $CFL bench/dlopen_cost.c -ldl
}

# ---- servers -------------------------------------------------------------------
PIDS=()
cleanup() {
  local p
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
}
trap cleanup EXIT
trap 'exit 130' INT TERM
wait_port() { # wait_port FILE: prints the port once FILE exists
  local i
  for i in $(seq 1 100); do
    if [ -s "$1" ]; then cat "$1"; return 0; fi
    sleep 0.1
  done
  return 1
}
rm -f $B/fixed.port $B/fsx.port
$B/fixed_server --port-file $B/fixed.port --lifetime 900 2>$B/fixed_server.log &
PIDS+=($!)
FIXED_PORT=$(wait_port $B/fixed.port) || { say "bench: fixed_server did not start"; exit 1; }
FIXED=http://127.0.0.1:$FIXED_PORT
FSX=
if [ $HAVE_BOTOCORE = 1 ]; then
  "$PY" spec/support/fsx_server.py --port 0 --port-file $B/fsx.port \
    --seed spec/support/fsx_seed.json --backup-seconds 0 --parent-pid $$ >$B/fsx_server.log 2>&1 &
  PIDS+=($!)
  if FSX_PORT=$(wait_port $B/fsx.port); then
    FSX=http://127.0.0.1:$FSX_PORT
    "$PY" -c 'import sys, urllib.request as u; u.urlopen(u.Request(sys.argv[1] + "/_fsx/config",
      data=b"{\"limit\": 1000000}", method="POST", headers={"Content-Type": "application/json"})).read()' \
      "$FSX" || { say "bench: could not lift the backup limit"; FSX=; }
  else
    say "bench: spec/support/fsx_server.py did not start (see $B/fsx_server.log)"
  fi
else
  say "bench: no botocore: the local FSx server cannot run, start-up rows are n/a"
fi

# ---- environment shared by every client -----------------------------------------
export LUA_PATH="$ROOT/lua/?.lua;$ROOT/lua/?/init.lua;;"
export AWS_ACCESS_KEY_ID=AKIDEXAMPLE AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY
export AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true
export AWS_CONFIG_FILE=$ROOT/$B/no-aws-config AWS_SHARED_CREDENTIALS_FILE=$ROOT/$B/no-aws-credentials
export AWS_PAGER=
unset AWS_SESSION_TOKEN AWS_PROFILE AWS_ENDPOINT_URL AWS_CA_BUNDLE LUA_PATH_5_4 LUA_CPATH_5_4 LUA_INIT LUA_INIT_5_4
CP54="$ROOT/$B/lua5.4/?.so;;"
CPJIT="$ROOT/$B/luajit/?.so;;"
lua54() { LUA_CPATH=$CP54 lua5.4 "$@"; }
luaj() { LUA_CPATH=$CPJIT luajit "$@"; }

# run NAME CMD...: appends the command's "name value" lines to RAW
run() {
  local name=$1; shift
  if ! "$@" >>"$RAW" 2>"$B/last.err"; then
    say "bench: $name failed:"; cat "$B/last.err" >&2
    return 1
  fi
}

# ---- 1. signing and 2. calls, interleaved rounds ---------------------------------------
sign_jobs=(floor_c lua54)
[ $HAVE_LUAJIT = 1 ] && sign_jobs+=(luajit)
[ $HAVE_BOTOCORE = 1 ] && sign_jobs+=(botocore)
call_jobs=(curl curl_forbid http_c lua54 lua54_fresh lua54_min)
[ $HAVE_LUAJIT = 1 ] && call_jobs+=(luajit luajit_fresh luajit_min)
[ $HAVE_BOTO3 = 1 ] && call_jobs+=(boto3)
# the floor and our C signer alternate in short slices (SIGN_SLICES per round)
# so that each of their per-round pairs is measured under the same noise
SIGN_SLICES=${SIGN_SLICES:-4}
SLICE_SECONDS=$(awk -v s="$SIGN_SECONDS" -v n="$SIGN_SLICES" 'BEGIN { printf "%.3f", s / n }')
sign_job() {
  local k
  case $1 in
    floor_c)
      for k in $(seq 1 "$SIGN_SLICES"); do
        run sign_floor $B/sign_floor "$SLICE_SECONDS" || return 1
        run sign_c $B/sign_c "$SLICE_SECONDS" || return 1
      done ;;
    lua54) run sign_lua lua54 bench/sign_lua.lua "$SIGN_SECONDS" ;;
    luajit) run sign_lua luaj bench/sign_lua.lua "$SIGN_SECONDS" ;;
    botocore) run sign_botocore "$PY" bench/sign_botocore.py "$SIGN_SECONDS" ;;
  esac
}
call_job() {
  case $1 in
    curl) run curl_floor $B/curl_floor "$FIXED/" reuse "$CALL_SECONDS" ;;
    curl_forbid) run curl_floor $B/curl_floor "$FIXED/" forbid "$CALL_SECONDS" ;;
    http_c) run http_c $B/http_c "$FIXED/" "$CALL_SECONDS" ;;
    lua54) run calls_lua lua54 bench/calls_lua.lua "$FIXED" reuse "$CALL_SECONDS" ;;
    lua54_fresh) run calls_lua lua54 bench/calls_lua.lua "$FIXED" fresh "$CALL_SECONDS" ;;
    luajit) run calls_lua luaj bench/calls_lua.lua "$FIXED" reuse "$CALL_SECONDS" ;;
    luajit_fresh) run calls_lua luaj bench/calls_lua.lua "$FIXED" fresh "$CALL_SECONDS" ;;
    lua54_min) run calls_lua lua54 bench/calls_lua.lua "$FIXED" minimal "$CALL_SECONDS" ;;
    luajit_min) run calls_lua luaj bench/calls_lua.lua "$FIXED" minimal "$CALL_SECONDS" ;;
    boto3) run calls_boto3 "$PY" bench/calls_boto3.py "$FIXED" "$CALL_SECONDS" ;;
  esac
}
for r in $(seq 1 "$ROUNDS"); do
  say "bench: round $r/$ROUNDS: signing (${sign_jobs[*]}), calls (${call_jobs[*]})"
  n=${#sign_jobs[@]}
  for i in $(seq 0 $((n - 1))); do sign_job "${sign_jobs[$(((i + r) % n))]}" || exit 1; done
  n=${#call_jobs[@]}
  for i in $(seq 0 $((n - 1))); do call_job "${call_jobs[$(((i + r) % n))]}" || exit 1; done
done

# ---- 3. start-up ---------------------------------------------------------------------
if [ -n "$FSX" ]; then
  say "bench: start-up, $STARTUP_ROUNDS interleaved rounds against the local FSx server"
  set -- ours "lua5.4 $ROOT/bench/oneshot.lua $FSX"
  [ $HAVE_LUAJIT = 1 ] && set -- "$@" ours_luajit "luajit $ROOT/bench/oneshot.lua $FSX"
  [ $HAVE_BOTO3 = 1 ] && set -- "$@" boto3 "$PY $ROOT/bench/oneshot_boto3.py $FSX"
  [ $HAVE_AWS = 1 ] && set -- "$@" awscli "$AWS fsx create-backup --endpoint-url $FSX --file-system-id fs-0123456789abcdef0 --tags Key=Name,Value=nightly --output json"
  # the client alone: the same script against the fixed C server (no botocore check)
  set -- "$@" ours_fixed "lua5.4 $ROOT/bench/oneshot.lua $FIXED"
  # where ours goes: the interpreter alone, loading fsx.core, loading fsx
  set -- "$@" lua_empty "lua5.4 -e x=1" require_core "lua5.4 -e require('fsx.core')" \
    require_fsx "lua5.4 -e require('fsx')"
  # lua5.4 reads LUA_CPATH_5_4 before LUA_CPATH; luajit reads LUA_CPATH only
  LUA_CPATH_5_4=$CP54 LUA_CPATH=$CPJIT run startup_runner $B/startup_runner "$STARTUP_ROUNDS" "$@" \
    || exit 1
fi

# ---- 4. memory -------------------------------------------------------------------------
say "bench: memory, RSS after 1,000 and $MEM_CALLS calls on one client"
run memory lua54 bench/calls_lua.lua "$FIXED" memory 1000 "$MEM_CALLS" || exit 1
if [ $HAVE_LUAJIT = 1 ]; then
  run memory luaj bench/calls_lua.lua "$FIXED" memory 1000 "$MEM_CALLS" || exit 1
fi

# ---- where the time goes (for the misses) ---------------------------------------------------
say "bench: diagnosis: C signer stages, load costs, per-stage profile of one call"
run sign_stages $B/sign_stages 0.2 || exit 1
for r in $(seq 1 5); do
  for lib in libcrypto.so.3 libssl.so.3 libcurl.so.4; do
    if [ $lib = libcurl.so.4 ]; then run dlopen $B/dlopen_cost $lib init || exit 1
    else run dlopen $B/dlopen_cost $lib || exit 1; fi
  done
done
for r in 1 2 3; do
  run require_cost lua54 bench/require_cost.lua || exit 1
done
for r in 1 2 3; do
  lua54 bench/profile_call.lua "$FIXED" >>"$DIAG" 2>&1
  [ $HAVE_LUAJIT = 1 ] && luaj bench/profile_call.lua "$FIXED" >>"$DIAG" 2>&1
done

# ---- the table -----------------------------------------------------------------------------
MACHINE_CPU=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
lua5.4 bench/report.lua "$RAW" "$DIAG" "$RESULTS" \
  "nproc=$(nproc)" "cpu=$MACHINE_CPU" "kernel=$(uname -sr)" \
  "date=$(date -u '+%Y-%m-%d %H:%M UTC')" "rounds=$ROUNDS" "startup_rounds=$STARTUP_ROUNDS" \
  "mem_calls=$MEM_CALLS" "load=$(cut -d' ' -f1-3 /proc/loadavg)" \
  "commit=$(git rev-parse --short HEAD 2>/dev/null)$(git diff --quiet HEAD -- src lua 2>/dev/null || echo ' plus uncommitted changes in src/ or lua/')" \
  "versions=$(lua5.4 -v 2>&1 | cut -d' ' -f1-2); $(luajit -v 2>/dev/null | cut -d' ' -f1-2); OpenSSL $(pkg-config --modversion libcrypto); libcurl $(pkg-config --modversion libcurl); $("$PY" -c 'import boto3, botocore; print("boto3", boto3.__version__, "botocore", botocore.__version__)' 2>/dev/null); $("$AWS" --version 2>/dev/null | cut -d' ' -f1)" \
  "missing=$(IFS=';'; echo "${MISSING[*]:-}")"
