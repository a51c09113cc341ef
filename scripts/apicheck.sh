#!/usr/bin/env bash
# scripts/apicheck.sh (make apicheck) - the binding's specs under a Lua 5.4
# built with LUA_USE_APICHECK, which aborts on any misuse of the C API that
# the normal build lets through (a push past the stack space Lua guarantees,
# a wrong index, ...).
#
# Gets the sources of Debian's lua5.4 (apt-get source, with a private sources
# list and package lists under build/apicheck/apt: the machine's apt
# configuration is left alone), builds the interpreter with
# -DLUA_USE_APICHECK into build/apicheck/, fsx/core.so against its headers,
# and runs APICHECK_SPECS with busted (Debian's, whose Lua and C modules are
# the same Lua 5.4 ABI). Prints busted's TAP output.
set -eu
cd "$(dirname "$0")/.."
B=build/apicheck
SPECS=${APICHECK_SPECS:-spec/binding_spec.lua spec/sigv4_spec.lua spec/client_spec.lua}
mkdir -p "$B"

src=$(find "$B" -maxdepth 1 -type d -name 'lua-5.4.*' | head -n 1)
if [ -z "$src" ]; then
  apt="$PWD/$B/apt"
  mkdir -p "$apt/parts" "$apt/lists/partial"
  cat > "$apt/parts/src.sources" <<'SRC'
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
  opts=(-q -o Dir::Etc::SourceList=/dev/null -o "Dir::Etc::SourceParts=$apt/parts"
        -o "Dir::State::Lists=$apt/lists")
  apt-get "${opts[@]}" update >"$apt/update.log" 2>&1 \
    || { cat "$apt/update.log" >&2; echo "apicheck: apt-get update (deb-src) failed" >&2; exit 1; }
  (cd "$apt" && apt-get "${opts[@]}" source --download-only lua5.4 >download.log 2>&1) \
    || { cat "$apt/download.log" >&2; echo "apicheck: apt-get source lua5.4 failed" >&2; exit 1; }
  tar -xzf "$apt"/lua5.4_*.orig.tar.gz -C "$B"
  src=$(find "$B" -maxdepth 1 -type d -name 'lua-5.4.*' | head -n 1)
fi

if [ ! -x "$B/lua" ]; then
  make -s -C "$src/src" clean >/dev/null
  make -s -C "$src/src" linux MYCFLAGS="-DLUA_USE_APICHECK" >"$B/build.log" 2>&1 \
    || { cat "$B/build.log" >&2; echo "apicheck: building Lua failed" >&2; exit 1; }
  cp "$src/src/lua" "$B/lua"
fi

make -s --no-print-directory all LUA=lua5.4 BUILD="$B" LUA_INCDIR="$src/src" >/dev/null

# Debian's module paths (busted, penlight, luassert, lua-term ...), then ours
sys_path=$(lua5.4 -e 'io.write(package.path)')
sys_cpath=$(lua5.4 -e 'io.write(package.cpath)')
LUA_PATH="$sys_path" LUA_CPATH="$sys_cpath" \
  "$B/lua" /usr/bin/busted --cpath="$B/?.so" -o TAP $SPECS
