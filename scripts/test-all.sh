#!/usr/bin/env bash
# Runs one set of lua-fsx's test suites and ends with one line
# "SET: N passed, N failed":
#
#   bash scripts/test-all.sh test    the everyday suite (`make test`): builds for
#                                    every Lua, then busted under lua5.1, lua5.3,
#                                    lua5.4 and LuaJIT in the background (side by
#                                    side: the specs mostly wait on servers) while
#                                    the C unit tests and scripts/test.d/*.sh run
#   bash scripts/test-all.sh check   the long checks (`make check`):
#                                    scripts/check.d/*.sh (sanitizers, valgrind,
#                                    fuzzing, bench smoke run)
#
# Each suite's output goes to build/test-logs/<suite>.log and is echoed; the
# totals also go to build/test-logs/SET.count ("PASSED FAILED") for .ci/run.
# Suites are independent: a failing one does not stop the others.
set -u
cd "$(dirname "$0")/.."
SET=${1:-test}
case $SET in test | check) ;; *) echo "usage: $0 test|check" >&2; exit 2 ;; esac
LOGS=build/test-logs
mkdir -p "$LOGS"
rm -f "$LOGS/$SET.count"
PASSED=0
FAILED=0
SUITES_FAILED=()
START=$(date +%s)

# count_tap FILE: adds the ok / not ok lines of a TAP log
count_tap() {
  local ok notok
  ok=$(grep -cE '^ok [0-9]+' "$1" || true)
  notok=$(grep -cE '^not ok [0-9]+' "$1" || true)
  echo "$ok $notok"
}

# count_plain FILE: reads the last "N passed, N failed" line of a log
count_plain() {
  local line
  line=$(grep -E '^([A-Za-z0-9_-]+: )?[0-9]+ passed, [0-9]+ failed' "$1" | tail -n 1)
  if [ -z "$line" ]; then echo "0 1"; return; fi
  echo "$line" | sed -E 's/^([A-Za-z0-9_-]+: )?([0-9]+) passed, ([0-9]+) failed.*/\2 \3/'
}

# suite_report NAME MODE RC: counts the finished suite NAME's log. MODE is tap,
# plain (a "N passed, N failed" line) or check (the exit status is one test)
suite_report() {
  local name=$1 mode=$2 rc=$3 log="$LOGS/$1.log" p f
  cat "$log"
  case "$mode" in
    tap) read -r p f < <(count_tap "$log") ;;
    plain) read -r p f < <(count_plain "$log") ;;
    check) if [ "$rc" -eq 0 ]; then p=1; f=0; else p=0; f=1; fi ;;
  esac
  # a runner that crashed or exited non-zero without reporting a failure still fails
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
  if [ "$p" -eq 0 ] && [ "$f" -eq 0 ]; then f=1; fi
  PASSED=$((PASSED + p)); FAILED=$((FAILED + f))
  [ "$f" -eq 0 ] || SUITES_FAILED+=("$name")
  echo "--- $name: $p passed, $f failed (exit $rc)"
}

# suite NAME MODE CMD...: runs CMD, then reports it
suite() {
  local name=$1 mode=$2 rc; shift 2
  echo "=== $name: $*"
  "$@" >"$LOGS/$name.log" 2>&1 </dev/null
  rc=$?
  suite_report "$name" "$mode" $rc
}

# suite_bg NAME MODE CMD...: starts CMD in the background; suites_wait reports
# every started suite, in the order they were started
BG_NAMES=()
BG_MODES=()
BG_PIDS=()
suite_bg() {
  local name=$1 mode=$2; shift 2
  echo "=== $name (in the background): $*"
  "$@" >"$LOGS/$name.log" 2>&1 </dev/null &
  BG_PIDS+=($!); BG_NAMES+=("$name"); BG_MODES+=("$mode")
}
suites_wait() {
  local i rc
  for i in "${!BG_PIDS[@]}"; do
    wait "${BG_PIDS[$i]}"; rc=$?
    echo "=== ${BG_NAMES[$i]} (finished)"
    suite_report "${BG_NAMES[$i]}" "${BG_MODES[$i]}" $rc
  done
  BG_NAMES=(); BG_MODES=(); BG_PIDS=()
}

# The interpreters of the everyday suite (Debian's command names).
LUAS=${FSX_TEST_LUAS:-lua5.1 lua5.3 lua5.4 luajit}

if [ "$SET" = test ]; then
  for lua in $LUAS; do
    suite "build-$lua" check make --no-print-directory LUA="$lua" CFLAGS="-O2 -g -Werror"
  done
  # the busted runs mostly wait on servers and timeouts: the other suites run
  # meanwhile, and the busted runs are reported at the end
  for lua in $LUAS; do
    suite_bg "busted-$lua" tap "$lua" /usr/bin/busted -o TAP
  done
  suite c-tests plain make --no-print-directory ctest
fi
for extra in scripts/"$SET".d/*.sh; do
  [ -e "$extra" ] || continue
  # each file defines one or more suites with the suite function
  # shellcheck source=/dev/null
  . "$extra"
done
suites_wait

if [ ${#SUITES_FAILED[@]} -gt 0 ]; then echo "failed suites: ${SUITES_FAILED[*]}"; fi
echo "$SET took $(( $(date +%s) - START )) s"
echo "$PASSED $FAILED" >"$LOGS/$SET.count"
echo "$SET: $PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
