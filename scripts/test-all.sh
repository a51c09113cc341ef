#!/usr/bin/env bash
# Runs every test suite of lua-fsx and ends with one line "N passed, N failed".
# Each suite's output goes to build/test-logs/<suite>.log and is echoed.
# Suites are independent: a failing one does not stop the others.
set -u
cd "$(dirname "$0")/.."
LOGS=build/test-logs
mkdir -p "$LOGS"
PASSED=0
FAILED=0
SUITES_FAILED=()

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
  line=$(grep -E '^([A-Za-z-]+: )?[0-9]+ passed, [0-9]+ failed' "$1" | tail -n 1)
  if [ -z "$line" ]; then echo "0 1"; return; fi
  echo "$line" | sed -E 's/^([A-Za-z-]+: )?([0-9]+) passed, ([0-9]+) failed.*/\2 \3/'
}

# suite NAME MODE CMD...: MODE is tap, plain (a "N passed, N failed" line) or
# check (the command's exit status is one test)
suite() {
  local name=$1 mode=$2; shift 2
  local log="$LOGS/$name.log" rc p f
  echo "=== $name: $*"
  "$@" >"$log" 2>&1
  rc=$?
  cat "$log"
  case "$mode" in
    tap) read -r p f < <(count_tap "$log") ;;
    plain) read -r p f < <(count_plain "$log") ;;
    check) if [ $rc -eq 0 ]; then p=1; f=0; else p=0; f=1; fi ;;
  esac
  # a runner that crashed or exited non-zero without reporting a failure still fails
  if [ $rc -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
  if [ "$p" -eq 0 ] && [ "$f" -eq 0 ]; then f=1; fi
  PASSED=$((PASSED + p)); FAILED=$((FAILED + f))
  [ "$f" -eq 0 ] || SUITES_FAILED+=("$name")
  echo "--- $name: $p passed, $f failed (exit $rc)"
}

suite build-lua5.4 check make LUA=lua5.4 CFLAGS="-O2 -g -Werror"
suite build-luajit check make LUA=luajit CFLAGS="-O2 -g -Werror"
suite c-tests plain make check
suite busted-lua5.4 tap lua5.4 /usr/bin/busted -o TAP
suite busted-luajit tap luajit /usr/bin/busted -o TAP
for extra in scripts/test.d/*.sh; do
  [ -e "$extra" ] || continue
  # each file defines one or more suites with the suite function
  # shellcheck source=/dev/null
  . "$extra"
done

if [ ${#SUITES_FAILED[@]} -gt 0 ]; then echo "failed suites: ${SUITES_FAILED[*]}"; fi
echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
