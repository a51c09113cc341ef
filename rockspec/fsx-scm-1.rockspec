-- lua-fsx: Amazon FSx backups from Lua, Nginx/OpenResty and playbooks.
--
-- Why "scm-1": this rockspec builds whatever the working tree holds (the
-- development tip), so it carries LuaRocks' development version instead of a
-- release number. The one version string of the code is in
-- lua/fsx/version.lua (fsx._VERSION, the user agent and
-- `fsx-backup --version` read it). A release rockspec is this file with
-- `version = "<that string>-1"` and `source.tag = "v<that string>"`;
-- `make version-check` (run in CI) fails when a rockspec in rockspec/ names
-- another release version, or when any other file spells the version out.
--
-- Build and install, with no extra variable (docs/install.md):
--   luarocks make rockspec/fsx-scm-1.rockspec                    # Lua 5.1 (Debian's default)
--   luarocks --lua-version=5.4 make rockspec/fsx-scm-1.rockspec  # 5.3, 5.4 alike
-- The build is the Makefile's (build.type "make"): it asks pkg-config for
-- OpenSSL and libcurl, which finds Debian's curl.h under
-- /usr/include/<multiarch>, where LuaRocks' own header search does not look.
-- lua-cjson is not listed as a dependency: on Debian it is the package
-- lua-cjson (for every Lua), which Debian's LuaRocks cannot see, so the
-- dependency would send it to the network for a second copy. Elsewhere:
-- `luarocks install lua-cjson` first.
rockspec_format = "3.0"
package = "fsx"
version = "scm-1"

source = {
   url = "git+https://github.com/lua-fsx/lua-fsx.git",
   branch = "main",
}

description = {
   summary = "Amazon FSx backups from Lua: idempotent, waitable, tag-aware, OpenResty-ready",
   detailed = [[
Every Amazon FSx API operation as a Lua method (generated from the AWS model),
with a C SigV4 signer and libcurl transport, idempotent CreateBackup calls,
a waiter for backups, tag-copying policies, backup retention, a non-blocking
transport for Nginx/OpenResty and the fsx-backup command-line tool.
]],
   homepage = "https://github.com/lua-fsx/lua-fsx",
   license = "MIT",
   labels = { "aws", "fsx", "backup", "openresty" },
}

dependencies = {
   "lua >= 5.1",
}

build = {
   type = "make",
   -- The Makefile builds fsx/core.so for the interpreter LuaRocks targets,
   -- then installs it and every module of lua/fsx/ (install-lib); its
   -- variables have LuaRocks' names. LuaRocks installs bin/fsx-backup.
   build_variables = {
      LUA = "$(LUA)",
      LUA_INCDIR = "$(LUA_INCDIR)",
      CFLAGS = "$(CFLAGS)",
      LIBFLAG = "$(LIBFLAG)",
   },
   install_target = "install-lib",
   install_variables = {
      LUA = "$(LUA)",
      LUA_INCDIR = "$(LUA_INCDIR)",
      CFLAGS = "$(CFLAGS)",
      LIBFLAG = "$(LIBFLAG)",
      LIBDIR = "$(LIBDIR)",
      LUADIR = "$(LUADIR)",
   },
   install = {
      bin = {
         ["fsx-backup"] = "bin/fsx-backup",
      },
   },
   copy_directories = { "docs", "examples" },
}
