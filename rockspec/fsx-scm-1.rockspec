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
-- Build and install into a tree (see README.md, "Install"):
--   luarocks make rockspec/fsx-scm-1.rockspec --tree=/tmp/x --deps-mode=none
--   luarocks --lua-version=5.1 make rockspec/fsx-scm-1.rockspec --tree=/tmp/x \
--       --deps-mode=none LUA_INCDIR=/usr/include/luajit-2.1        # LuaJIT
-- lua-cjson is a Debian package (lua-cjson), not a rock, on Debian: use
-- --deps-mode=none there, or declare it in rocks_provided (README.md).
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
   "lua-cjson",
}

external_dependencies = {
   OPENSSL = {
      header = "openssl/evp.h",
      library = "crypto",
   },
   CURL = {
      header = "curl/curl.h",
      library = "curl",
   },
}

build = {
   type = "builtin",
   modules = {
      ["fsx.core"] = {
         sources = {
            "src/buf.c", "src/error.c", "src/crypto.c", "src/sigv4.c", "src/sign_call.c",
            "src/http.c", "src/interrupt.c", "src/fsx_core.c",
         },
         defines = { "_POSIX_C_SOURCE=200809L" },
         incdirs = { "src", "$(OPENSSL_INCDIR)", "$(CURL_INCDIR)" },
         libdirs = { "$(OPENSSL_LIBDIR)", "$(CURL_LIBDIR)" },
         libraries = { "crypto", "curl" },
      },
      -- every lua/fsx/**/*.lua (`make version-check` compares this list with the tree)
      ["fsx"] = "lua/fsx/init.lua",
      ["fsx.api"] = "lua/fsx/api.lua",
      ["fsx.ansible"] = "lua/fsx/ansible.lua",
      ["fsx.backup"] = "lua/fsx/backup.lua",
      ["fsx.cli"] = "lua/fsx/cli/init.lua",
      ["fsx.cli.args"] = "lua/fsx/cli/args.lua",
      ["fsx.cli.commands"] = "lua/fsx/cli/commands.lua",
      ["fsx.cli.context"] = "lua/fsx/cli/context.lua",
      ["fsx.cli.help"] = "lua/fsx/cli/help.lua",
      ["fsx.cli.options"] = "lua/fsx/cli/options.lua",
      ["fsx.cli.output"] = "lua/fsx/cli/output.lua",
      ["fsx.cli.progress"] = "lua/fsx/cli/progress.lua",
      ["fsx.cli.report"] = "lua/fsx/cli/report.lua",
      ["fsx.cli.tags"] = "lua/fsx/cli/tags.lua",
      ["fsx.cli.tokens"] = "lua/fsx/cli/tokens.lua",
      ["fsx.cli.wait"] = "lua/fsx/cli/wait.lua",
      ["fsx.client"] = "lua/fsx/client.lua",
      ["fsx.clock"] = "lua/fsx/clock.lua",
      ["fsx.config"] = "lua/fsx/config.lua",
      ["fsx.credentials"] = "lua/fsx/credentials/init.lua",
      ["fsx.credentials.container"] = "lua/fsx/credentials/container.lua",
      ["fsx.credentials.env"] = "lua/fsx/credentials/env.lua",
      ["fsx.credentials.imds"] = "lua/fsx/credentials/imds.lua",
      ["fsx.credentials.process"] = "lua/fsx/credentials/process.lua",
      ["fsx.credentials.profile"] = "lua/fsx/credentials/profile.lua",
      ["fsx.credentials.sso"] = "lua/fsx/credentials/sso.lua",
      ["fsx.credentials.static"] = "lua/fsx/credentials/static.lua",
      ["fsx.credentials.sts"] = "lua/fsx/credentials/sts.lua",
      ["fsx.credentials.util"] = "lua/fsx/credentials/util.lua",
      ["fsx.credentials.web_identity"] = "lua/fsx/credentials/web_identity.lua",
      ["fsx.date"] = "lua/fsx/date.lua",
      ["fsx.endpoint"] = "lua/fsx/endpoint.lua",
      ["fsx.endpoint_data.fsx"] = "lua/fsx/endpoint_data/fsx.lua",
      ["fsx.endpoint_data.partitions"] = "lua/fsx/endpoint_data/partitions.lua",
      ["fsx.endpoint_data.sts"] = "lua/fsx/endpoint_data/sts.lua",
      ["fsx.endpoint_rules"] = "lua/fsx/endpoint_rules.lua",
      ["fsx.error"] = "lua/fsx/error.lua",
      ["fsx.ini"] = "lua/fsx/ini.lua",
      ["fsx.json"] = "lua/fsx/json.lua",
      ["fsx.names"] = "lua/fsx/names.lua",
      ["fsx.paginate"] = "lua/fsx/paginate.lua",
      ["fsx.pattern"] = "lua/fsx/pattern.lua",
      ["fsx.protocol.json"] = "lua/fsx/protocol/json.lua",
      ["fsx.retention"] = "lua/fsx/retention.lua",
      ["fsx.retry"] = "lua/fsx/retry.lua",
      ["fsx.shape"] = "lua/fsx/shape.lua",
      ["fsx.shape_lines"] = "lua/fsx/shape_lines.lua",
      ["fsx.sigv4"] = "lua/fsx/sigv4.lua",
      ["fsx.sigv4_ffi"] = "lua/fsx/sigv4_ffi.lua",
      ["fsx.strings"] = "lua/fsx/strings.lua",
      ["fsx.tags"] = "lua/fsx/tags.lua",
      ["fsx.transport"] = "lua/fsx/transport/init.lua",
      ["fsx.transport.curl"] = "lua/fsx/transport/curl.lua",
      ["fsx.transport.ngx"] = "lua/fsx/transport/ngx.lua",
      ["fsx.unicode_data"] = "lua/fsx/unicode_data.lua",
      ["fsx.useragent"] = "lua/fsx/useragent.lua",
      ["fsx.util"] = "lua/fsx/util.lua",
      ["fsx.version"] = "lua/fsx/version.lua",
      ["fsx.waiter"] = "lua/fsx/waiter.lua",
      ["fsx.xml"] = "lua/fsx/xml.lua",
   },
   install = {
      bin = {
         ["fsx-backup"] = "bin/fsx-backup",
      },
   },
   copy_directories = { "docs", "examples" },
}
