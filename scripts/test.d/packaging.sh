# scripts/test.d/packaging.sh - the install story, tested for real.
#
# Sourced by scripts/test-all.sh, which defines `suite NAME MODE CMD...`.
#   packaging-lint                 luarocks lint rockspec/fsx-scm-1.rockspec
#   packaging-luarocks-lua5.1      the plain `luarocks make rockspec/fsx-scm-1.rockspec`
#                                  (Debian's LuaRocks builds for 5.1 by default) into a
#                                  temporary tree, then the smoke test under lua5.1
#   packaging-luarocks-luajit      the same command, the smoke test under LuaJIT
#                                  (one Lua 5.1 ABI)
#   packaging-luarocks-lua5.3/5.4  `luarocks --lua-version=5.x make ...`, the smoke test
#   packaging-make-lua5.4/luajit   make install PREFIX=/usr/local DESTDIR=<tmp>, the smoke
#                                  test, make uninstall, and no file left behind
#   packaging-prefix-<lua>         make install PREFIX=<tmp> for each Lua, then the
#                                  installed fsx-backup run from / with LUA_PATH and
#                                  LUA_CPATH unset: it finds its modules by itself
#
# No extra variable and no LuaRocks config anywhere: the rockspec hands the
# build to the Makefile (pkg-config finds curl.h under /usr/include/<multiarch>)
# and lists no lua-cjson dependency (Debian's lua-cjson package serves every Lua,
# and Debian's LuaRocks cannot see it).
# The smoke test runs from an empty directory with only the installed tree and
# the system's Lua paths: require "fsx" (the version is lua/fsx/version.lua's),
# sign the AWS suite's get-vanilla request, one create_backup against the
# local FSx server, and the installed fsx-backup (--version, create).
# luarocks make builds in the source directory, so it runs on a copy.

_pkg_root=$(pwd)
_pkg_version=$(lua5.4 -e 'io.write(dofile("lua/fsx/version.lua"))')

# _pkg_server_start DIR: starts the local FSx server, sets _pkg_url and _pkg_pid
_pkg_server_start() {
  local dir=$1 i
  /usr/bin/python3 "$_pkg_root/spec/support/fsx_server.py" --port 0 --port-file "$dir/port" \
    --seed "$_pkg_root/spec/support/fsx_seed.json" --backup-seconds 0 \
    --parent-pid $$ >"$dir/server.log" 2>&1 &
  _pkg_pid=$!
  for i in $(seq 100); do [ -s "$dir/port" ] && break; sleep 0.1; done
  if [ ! -s "$dir/port" ]; then echo "the local FSx server did not start:"; cat "$dir/server.log"; return 1; fi
  _pkg_url="http://127.0.0.1:$(cat "$dir/port")"
}

_pkg_server_stop() {
  if [ -n "${_pkg_pid:-}" ]; then kill "$_pkg_pid" 2>/dev/null; wait "$_pkg_pid" 2>/dev/null; fi
  _pkg_pid=
}

# _pkg_smoke INTERP LUA_PATH LUA_CPATH FSX_BACKUP TREE_PREFIX: the smoke test of an
# install whose modules must all come from under TREE_PREFIX
_pkg_smoke() {
  local interp=$1 lpath=$2 cpath=$3 tool=$4 dir rc=0 out
  dir=$(mktemp -d)
  _pkg_server_start "$dir" || { rm -rf "$dir"; return 1; }
  cat >"$dir/smoke.lua" <<'EOF'
local want_version, url = arg[1], arg[2]
local fsx = require "fsx"
assert(fsx._VERSION == want_version, "fsx._VERSION is " .. tostring(fsx._VERSION))
-- the installed modules, not a source tree
local function searchpath(name, path)       -- package.searchpath, also on Lua 5.1
  for template in path:gmatch("[^;]+") do
    local file = template:gsub("%?", (name:gsub("%.", "/")))
    local f = io.open(file)
    if f then f:close() return file end
  end
end
for _, name in ipairs{ "fsx", "fsx.core" } do
  local path = searchpath(name, name == "fsx.core" and package.cpath or package.path)
  assert(path and path:find(os.getenv("PKG_TREE"), 1, true) == 1, name .. " found at " .. tostring(path))
end
local r = require("fsx.sigv4").sign{
  method = "GET", path = "/", query = "", headers = { { "Host", "example.amazonaws.com" } },
  body = "", region = "us-east-1", service = "service", time = "20150830T123600Z",
  access_key_id = "AKIDEXAMPLE", secret_access_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
}
assert(r.signature == "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31", r.signature)
local client = fsx.new{ endpoint_url = url, region = "us-east-1", credentials = {
  access_key_id = "AKIDEXAMPLE", secret_access_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY" } }
local backup, meta = client:create_backup{ file_system_id = "fs-0123456789abcdef0", tags = { Name = "smoke" } }
assert(backup.backup_id:match("^backup%-%x+$") and meta.status == 200)
assert(client.user_agent:find("lua-fsx/" .. want_version .. " ", 1, true) == 1, client.user_agent)
print(("smoke: %s fsx %s, signed, created %s"):format(_VERSION, fsx._VERSION, backup.backup_id))
EOF
  (
    cd "$dir" || exit 1
    export LUA_PATH="$lpath" LUA_CPATH="$cpath" PKG_TREE="$5"
    export AWS_ACCESS_KEY_ID=AKIDEXAMPLE AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY
    export AWS_REGION=us-east-1 AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
    unset AWS_PROFILE AWS_SESSION_TOKEN AWS_ENDPOINT_URL AWS_ENDPOINT_URL_FSX
    "$interp" smoke.lua "$_pkg_version" "$_pkg_url" || exit 1
    out=$($tool --version) || exit 1
    echo "$out"
    case $out in "fsx-backup $_pkg_version "*) ;; *) echo "fsx-backup --version: $out"; exit 1 ;; esac
    out=$($tool create --file-system-id fs-0fedcba9876543210 --endpoint-url "$_pkg_url" --output text) || exit 1
    echo "fsx-backup create: $out"
    case $out in backup-*) ;; *) exit 1 ;; esac
  ) || rc=1
  if ! curl -s "$_pkg_url/_fsx/state" | /usr/bin/python3 -c \
      'import json, sys; sys.exit(json.load(sys.stdin)["counters"]["bad_signatures"] != 0)'; then
    echo "the server saw bad signatures (or did not answer)"; rc=1
  fi
  _pkg_server_stop
  rm -rf "$dir"
  return $rc
}

# _pkg_luarocks LUA_VERSION INTERP [--lua-version=V]: the plain luarocks make
# (with only a --tree) on a copy of the source, then the smoke test with INTERP
_pkg_luarocks() {
  local lv=$1 interp=$2 lv_flag=${3:-} tmp rc=0
  tmp=$(mktemp -d)
  mkdir -p "$tmp/src"
  cp -R rockspec src lua bin docs examples Makefile "$tmp/src/"
  (
    cd "$tmp/src" || exit 1
    # shellcheck disable=SC2086
    luarocks $lv_flag make rockspec/fsx-scm-1.rockspec --tree="$tmp/tree" || exit 1
    # shellcheck disable=SC2086
    luarocks $lv_flag list --tree="$tmp/tree" --porcelain | grep -q "^fsx	scm-1	installed" \
      || { echo "luarocks list does not show fsx scm-1"; exit 1; }
  ) || rc=1
  if [ $rc -eq 0 ]; then
    _pkg_smoke "$interp" "$tmp/tree/share/lua/$lv/?.lua;$tmp/tree/share/lua/$lv/?/init.lua;;" \
      "$tmp/tree/lib/lua/$lv/?.so;;" "$tmp/tree/bin/fsx-backup" "$tmp/tree/" || rc=1
  fi
  rm -rf "$tmp"
  return $rc
}

# _pkg_prefix LUA: make install PREFIX=<tmp>; the installed fsx-backup runs from /
# with no LUA_PATH / LUA_CPATH and creates a backup with the modules of PREFIX
_pkg_prefix() {
  local lua=$1 tmp rc=0 out
  tmp=$(mktemp -d)
  make --no-print-directory LUA="$lua" install PREFIX="$tmp/prefix" >"$tmp/install.log" 2>&1 \
    || { cat "$tmp/install.log"; rm -rf "$tmp"; return 1; }
  if env -u LUA_PATH -u LUA_CPATH "$lua" -e 'require "fsx.cli"' 2>/dev/null; then
    echo "an fsx is installed on $lua's default paths: this test cannot tell it from PREFIX's"
    rm -rf "$tmp"; return 1
  fi
  _pkg_server_start "$tmp" || { rm -rf "$tmp"; return 1; }
  out=$(cd / && env -u LUA_PATH -u LUA_CPATH -u LUA_PATH_5_3 -u LUA_CPATH_5_3 -u LUA_PATH_5_4 \
        -u LUA_CPATH_5_4 -u AWS_PROFILE -u AWS_SESSION_TOKEN AWS_ACCESS_KEY_ID=AKIDEXAMPLE \
        AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY AWS_REGION=us-east-1 \
        AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null \
        "$tmp/prefix/bin/fsx-backup" create --file-system-id fs-0123456789abcdef0 \
        --endpoint-url "$_pkg_url" --output text 2>&1) || rc=1
  echo "$tmp/prefix/bin/fsx-backup create: $out"
  case $out in backup-*) ;; *) rc=1 ;; esac
  _pkg_server_stop
  rm -rf "$tmp"
  return $rc
}

# _pkg_make LUA LUA_VERSION: make install into a DESTDIR, smoke, make uninstall
_pkg_make() {
  local lua=$1 lv=$2 tmp stage rc=0 left
  tmp=$(mktemp -d)
  stage="$tmp/stage"
  make --no-print-directory LUA="$lua" install PREFIX=/usr/local DESTDIR="$stage" || rc=1
  if [ $rc -eq 0 ]; then
    if [ "$(head -1 "$stage/usr/local/bin/fsx-backup")" != "#!/usr/bin/env $lua" ]; then
      echo "installed fsx-backup starts with: $(head -1 "$stage/usr/local/bin/fsx-backup")"; rc=1
    fi
    [ -f "$stage/usr/local/lib/lua/$lv/fsx/core.so" ] || { echo "no fsx/core.so in lib/lua/$lv"; rc=1; }
    [ -f "$stage/usr/local/share/lua/$lv/fsx/cli/init.lua" ] || { echo "no fsx/cli in share/lua/$lv"; rc=1; }
    _pkg_smoke "$lua" "$stage/usr/local/share/lua/$lv/?.lua;$stage/usr/local/share/lua/$lv/?/init.lua;;" \
      "$stage/usr/local/lib/lua/$lv/?.so;;" "$stage/usr/local/bin/fsx-backup" "$stage/usr/local/" || rc=1
  fi
  make --no-print-directory LUA="$lua" uninstall PREFIX=/usr/local DESTDIR="$stage" || rc=1
  left=$(find "$stage" -type f -o -type l -o -type d -name fsx)
  if [ -n "$left" ]; then echo "make uninstall left behind:"; echo "$left"; rc=1; fi
  rm -rf "$tmp"
  return $rc
}

suite packaging-lint check luarocks lint rockspec/fsx-scm-1.rockspec
suite packaging-luarocks-lua5.1 check _pkg_luarocks 5.1 lua5.1
suite packaging-luarocks-luajit check _pkg_luarocks 5.1 luajit
suite packaging-luarocks-lua5.3 check _pkg_luarocks 5.3 lua5.3 --lua-version=5.3
suite packaging-luarocks-lua5.4 check _pkg_luarocks 5.4 lua5.4 --lua-version=5.4
suite packaging-make-lua5.4 check _pkg_make lua5.4 5.4
suite packaging-make-luajit check _pkg_make luajit 5.1
for _pkg_lua in lua5.1 lua5.3 lua5.4 luajit; do
  suite "packaging-prefix-$_pkg_lua" check _pkg_prefix "$_pkg_lua"
done
