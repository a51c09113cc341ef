#!/bin/sh
# Installs every Debian package lua-fsx needs to build, demo and test.
# Run as root on Debian 12. Idempotent. lua-cjson serves every Lua (5.1-5.4).
set -e
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends \
  build-essential pkg-config ca-certificates git \
  lua5.1 liblua5.1-0-dev lua5.3 liblua5.3-dev lua5.4 liblua5.4-dev \
  luajit2 libluajit2-5.1-dev lua-argparse ansible-core \
  lua-cjson lua-busted lua-expat luarocks lua-check lua-ldoc lua-markdown \
  libcurl4-openssl-dev libssl-dev \
  nginx libnginx-mod-http-lua \
  curl openssl python3 python3-botocore python3-boto3 awscli \
  clang llvm libclang-rt-14-dev valgrind cppcheck clang-tidy clang-format \
  util-linux procps hyperfine ansible-core
