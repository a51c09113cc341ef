#!/usr/bin/env bash
# The README's demo: build, start the local FSx-compatible server, create a
# backup with lua-fsx (tags merged with the file system's), wait for it, print
# it, stop the server.
set -euo pipefail
cd "$(dirname "$0")/.."
make --no-print-directory >/dev/null
tmp=$(mktemp -d)
/usr/bin/python3 spec/support/fsx_server.py --port 0 --port-file "$tmp/port" \
  --seed spec/support/fsx_seed.json --backup-seconds 2 >"$tmp/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null; rm -rf "$tmp"' EXIT
for _ in $(seq 100); do [ -s "$tmp/port" ] && break; sleep 0.1; done
export FSX_ENDPOINT_URL="http://127.0.0.1:$(cat "$tmp/port")"
# the local server's example key pair (see spec/support/fsx_seed.json)
export AWS_ACCESS_KEY_ID=AKIDEXAMPLE
export AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY
export AWS_REGION=us-east-1
echo "local FSx server at $FSX_ENDPOINT_URL"
LUA_PATH="lua/?.lua;lua/?/init.lua;;" LUA_CPATH="build/lua5.4/?.so;;" lua5.4 examples/demo.lua
