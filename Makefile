# lua-fsx build. Variable names follow luarocks (LUA_INCDIR, LUA_LIBDIR, CFLAGS,
# LIBFLAG, LIBDIR, LUADIR) so a `make` build type works too.
#
#   make                 build fsx/core.so for Lua 5.4 into build/lua5.4/
#   make LUA=luajit      build it for LuaJIT (Lua 5.1 API) into build/luajit/
#                        (also LUA=lua5.1, LUA=lua5.3: build/<LUA>/)
#   make test            the everyday suite, a few minutes: builds for every Lua,
#                        the C unit tests, busted under lua5.1, lua5.3, lua5.4 and
#                        LuaJIT, Nginx, lint, docs, packaging (scripts/test.d/)
#   make check           the long checks: sanitizers, valgrind, fuzzing, bench
#                        smoke run (scripts/check.d/); CI runs both (.ci/run)
#   make ctest           C unit tests of the signing core and transport (no Lua)

LUA ?= lua5.4
# LUA names the interpreter: lua5.1, lua5.3, lua5.4 (Debian's names) or luajit;
# the headers and the install directories follow from it.
ifeq ($(notdir $(LUA)),luajit)
LUA_INCDIR ?= /usr/include/luajit-2.1
LUA_VERSION ?= 5.1
else
LUA_VERSION ?= $(patsubst lua%,%,$(notdir $(LUA)))
LUA_INCDIR ?= /usr/include/lua$(LUA_VERSION)
endif

PKG_CONFIG ?= pkg-config
ifeq ($(shell $(PKG_CONFIG) --exists libcrypto libcurl 2>/dev/null && echo yes),)
$(warning pkg-config finds no libcrypto or libcurl: install their development files (Debian: libssl-dev libcurl4-openssl-dev), or set OPENSSL_CFLAGS/OPENSSL_LIBS and CURL_CFLAGS/CURL_LIBS)
endif
OPENSSL_CFLAGS ?= $(shell $(PKG_CONFIG) --cflags libcrypto 2>/dev/null)
OPENSSL_LIBS ?= $(shell $(PKG_CONFIG) --libs libcrypto 2>/dev/null || echo -lcrypto)
CURL_CFLAGS ?= $(shell $(PKG_CONFIG) --cflags libcurl 2>/dev/null)
CURL_LIBS ?= $(shell $(PKG_CONFIG) --libs libcurl 2>/dev/null || echo -lcurl)

CC ?= cc
OPT ?= -O2 -g
WARN ?= -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wstrict-prototypes -Wmissing-prototypes
CFLAGS ?= $(OPT)
ALL_CFLAGS = -std=c99 -D_POSIX_C_SOURCE=200809L -fPIC $(WARN) $(CFLAGS) $(OPENSSL_CFLAGS) $(CURL_CFLAGS)
LIBFLAG ?= -shared
LDFLAGS ?=

BUILD ?= build/$(notdir $(LUA))
CORE_SRC = src/buf.c src/error.c src/text.c src/crypto.c src/sigv4.c src/sign_call.c
HTTP_SRC = src/http.c src/interrupt.c
BIND_SRC = src/fsx_core.c src/lua_util.c src/lua_http.c src/lua_sign.c src/lua_convert.c src/lua_json.c
HEADERS = $(wildcard src/*.h)

# install locations (luarocks passes LIBDIR/LUADIR; make install uses these)
PREFIX ?= /usr/local
LUA_CMODULE_DIR ?= $(PREFIX)/lib/lua/$(LUA_VERSION)
LUA_MODULE_DIR ?= $(PREFIX)/share/lua/$(LUA_VERSION)
BIN_DIR ?= $(PREFIX)/bin
LIBDIR ?= $(LUA_CMODULE_DIR)
LUADIR ?= $(LUA_MODULE_DIR)

.PHONY: all check test ctest clean install install-lib uninstall api api-check update-model endpoints endpoints-check

all: $(BUILD)/fsx/core.so

$(BUILD)/fsx/core.so: $(CORE_SRC) $(HTTP_SRC) $(BIND_SRC) $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -I$(LUA_INCDIR) $(LIBFLAG) -o $@ $(CORE_SRC) $(HTTP_SRC) $(BIND_SRC) $(LDFLAGS) $(OPENSSL_LIBS) $(CURL_LIBS)

# ---- C unit tests of the core (no Lua) ----
CTEST_BUILD = build/ctest
CTESTS = $(patsubst spec/c/%.c,$(CTEST_BUILD)/%,$(filter-out spec/c/test_util.c,$(wildcard spec/c/test_*.c)))

$(CTEST_BUILD)/%: spec/c/%.c spec/c/test_util.c $(wildcard spec/c/*.h) $(CORE_SRC) $(HTTP_SRC) $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Isrc -o $@ $< spec/c/test_util.c $(CORE_SRC) $(HTTP_SRC) $(LDFLAGS) $(OPENSSL_LIBS) $(CURL_LIBS)

# every program prints "name: N passed, N failed"; the last line adds them up
ctest: $(CTESTS)
	@rc=0; for t in $(CTESTS); do echo "== $$t"; $$t | tee $(CTEST_BUILD)/last.log || rc=1; \
	  cat $(CTEST_BUILD)/last.log >> $(CTEST_BUILD)/all.log; done; \
	awk '/ passed, [0-9]+ failed/ { for (i = 1; i <= NF; i++) { if ($$(i+1) ~ /^passed/) p += $$i; if ($$(i+1) ~ /^failed/) f += $$i } } \
	  END { printf "c-tests: %d passed, %d failed\n", p, f }' $(CTEST_BUILD)/all.log; rm -f $(CTEST_BUILD)/all.log; exit $$rc

test:
	bash scripts/test-all.sh test

check:
	bash scripts/test-all.sh check

# ---- generated operation declarations ----
api:
	$(LUA) tools/gen_api.lua > lua/fsx/api.lua.tmp && mv lua/fsx/api.lua.tmp lua/fsx/api.lua

api-check:
	$(LUA) tools/gen_api.lua | cmp - lua/fsx/api.lua

# A newer AWS model in one command: copies the FSx, STS and partition files
# from botocore's data directory into model/, regenerates lua/fsx/api.lua and
# the endpoint data, and prints what changed (tools/update_model.lua).
#   make update-model BOTOCORE_DATA=/path/to/botocore/data [BOTOCORE_VERSION=x.y.z]
update-model:
	@test -n "$(BOTOCORE_DATA)" || { echo "usage: make update-model BOTOCORE_DATA=<botocore's data directory> [BOTOCORE_VERSION=x.y.z]" >&2; exit 2; }
	$(LUA) tools/update_model.lua "$(BOTOCORE_DATA)" $(if $(BOTOCORE_VERSION),--version "$(BOTOCORE_VERSION)")

# ---- generated endpoint data (tools/gen_endpoints.lua) ----
#   make endpoints        lua/fsx/endpoint_data/*.lua from model/partitions.json and the
#                         FSx and STS endpoint-rule-set-1.json under model/
#   make endpoints-check  fails when they differ from what the JSON gives
endpoints:
	$(LUA) tools/gen_endpoints.lua

endpoints-check:
	$(LUA) tools/gen_endpoints.lua --check

clean:
	rm -rf build

# The installed fsx-backup starts with `#!/usr/bin/env $(LUA_INTERP)`: the
# interpreter the C module was built for (lua5.4, or luajit with LUA=luajit).
LUA_INTERP ?= $(LUA)

# install-lib: fsx/core.so and the Lua modules (what the rockspec's make build
# installs; LuaRocks wraps bin/fsx-backup itself). install: the same plus
# fsx-backup, whose second and third lines put LUADIR and LIBDIR first on
# package.path and package.cpath, as LuaRocks' wrappers do: it runs from any
# PREFIX without LUA_PATH (DESTDIR is not part of those paths).
install: install-lib
	install -d $(DESTDIR)$(BIN_DIR)
	sed -e '1s|^#!.*|#!/usr/bin/env $(LUA_INTERP)|' \
	  -e '1a package.path = [==[$(LUADIR)/?.lua;$(LUADIR)/?/init.lua;]==] .. package.path' \
	  -e '1a package.cpath = [==[$(LIBDIR)/?.so;]==] .. package.cpath' \
	  bin/fsx-backup > $(DESTDIR)$(BIN_DIR)/fsx-backup.tmp
	chmod 0755 $(DESTDIR)$(BIN_DIR)/fsx-backup.tmp
	mv $(DESTDIR)$(BIN_DIR)/fsx-backup.tmp $(DESTDIR)$(BIN_DIR)/fsx-backup

install-lib: all
	install -d $(DESTDIR)$(LIBDIR)/fsx $(DESTDIR)$(LUADIR)/fsx
	install -m 0755 $(BUILD)/fsx/core.so $(DESTDIR)$(LIBDIR)/fsx/core.so
	cd lua && find fsx -name '*.lua' -exec install -D -m 0644 {} $(DESTDIR)$(LUADIR)/{} \;

uninstall:
	rm -f $(DESTDIR)$(LIBDIR)/fsx/core.so $(DESTDIR)$(BIN_DIR)/fsx-backup
	rm -rf $(DESTDIR)$(LUADIR)/fsx
	if [ -d $(DESTDIR)$(LIBDIR)/fsx ]; then rmdir $(DESTDIR)$(LIBDIR)/fsx; fi

.PHONY: demo
demo:
	bash scripts/demo.sh

# ---- hardening: sanitizers, valgrind, fuzzing (C only) ----
#   make asan          asan-ctest + asan-lua
#   make asan-ctest    the C tests built with clang ASan+UBSan in build/asan-ctest/, run
#   make asan-lua      fsx/core.so for lua5.4 with the same flags in build/asan-lua5.4/
#                      (to load it: LD_PRELOAD=$$(clang -print-file-name=libclang_rt.asan-x86_64.so))
#   make valgrind      the C tests (plain build in build/valgrind-ctest/) under valgrind
#   make fuzz          every spec/fuzz/fuzz_*.c, FUZZ_SECONDS (300) each, on a temp copy
#                      of spec/fuzz/corpus/<name>/; crashes land in build/fuzz/artifacts/
#   make fuzz-ci       the same with FUZZ_SECONDS=60
#   make apicheck      the binding's specs (APICHECK_SPECS) under Debian's Lua 5.4
#                      sources built with -DLUA_USE_APICHECK into build/apicheck/
#                      (apt-get source with a private sources list: needs the
#                      Debian mirror), which aborts on any misuse of the C API
#                      (scripts/apicheck.sh); prints busted's TAP output
# Each run ends with "<target>: N passed, N failed" (scripts/test.d/hardening.sh).
SAN_CC ?= clang
SAN_FLAGS ?= -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
SAN_ALL_CFLAGS = -std=c99 -D_POSIX_C_SOURCE=200809L -fPIC $(WARN) $(SAN_FLAGS) $(OPENSSL_CFLAGS) $(CURL_CFLAGS)
SAN_ENV ?= ASAN_OPTIONS=detect_leaks=1:check_initialization_order=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
ASAN_CTEST_BUILD = build/asan-ctest
ASAN_LUA_BUILD = build/asan-lua5.4
ASAN_LUA_INCDIR ?= /usr/include/lua5.4
VALGRIND_CTEST_BUILD = build/valgrind-ctest
VALGRIND ?= valgrind
VALGRIND_FLAGS ?= --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite,indirect
HARDEN_CTEST_NAMES = $(patsubst spec/c/%.c,%,$(filter-out spec/c/test_util.c,$(wildcard spec/c/test_*.c)))
ASAN_CTESTS = $(addprefix $(ASAN_CTEST_BUILD)/,$(HARDEN_CTEST_NAMES))
VALGRIND_CTESTS = $(addprefix $(VALGRIND_CTEST_BUILD)/,$(HARDEN_CTEST_NAMES))
FUZZ_SECONDS ?= 300
FUZZ_CC ?= clang
FUZZ_FLAGS ?= -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
FUZZ_BUILD = build/fuzz
FUZZ_TARGETS = $(patsubst spec/fuzz/%.c,$(FUZZ_BUILD)/%,$(wildcard spec/fuzz/fuzz_*.c))

# harden_run RUNNER,BINARIES,NAME: runs each binary (through RUNNER), adds up
# the last "N passed, N failed" line of each (a binary that exits non-zero
# without reporting a failure counts one), prints "NAME: N passed, N failed"
define harden_run
	@p=0; f=0; for t in $(2); do \
	  echo "== $$t"; \
	  $(1) $$t > $$t.log 2>&1; rc=$$?; cat $$t.log; \
	  line=$$(grep -E '^([A-Za-z0-9_-]+: )?[0-9]+ passed, [0-9]+ failed' $$t.log | tail -n 1); \
	  tp=$$(echo "$$line" | sed -nE 's/^([A-Za-z0-9_-]+: )?([0-9]+) passed, ([0-9]+) failed.*/\2/p'); \
	  tf=$$(echo "$$line" | sed -nE 's/^([A-Za-z0-9_-]+: )?([0-9]+) passed, ([0-9]+) failed.*/\3/p'); \
	  tp=$${tp:-0}; tf=$${tf:-0}; \
	  if [ $$rc -ne 0 ] && [ $$tf -eq 0 ]; then tf=1; fi; \
	  p=$$((p + tp)); f=$$((f + tf)); \
	done; \
	echo "$(3): $$p passed, $$f failed"; [ $$f -eq 0 ]
endef

.PHONY: asan asan-ctest asan-lua valgrind fuzz fuzz-ci apicheck

$(ASAN_CTEST_BUILD)/%: spec/c/%.c spec/c/test_util.c $(wildcard spec/c/*.h) $(CORE_SRC) $(HTTP_SRC) $(HEADERS)
	@mkdir -p $(dir $@)
	$(SAN_CC) $(SAN_ALL_CFLAGS) -Isrc -o $@ $< spec/c/test_util.c $(CORE_SRC) $(HTTP_SRC) $(LDFLAGS) $(OPENSSL_LIBS) $(CURL_LIBS)

asan-ctest: $(ASAN_CTESTS)
	$(call harden_run,$(SAN_ENV),$(ASAN_CTESTS),asan-ctest)

$(ASAN_LUA_BUILD)/fsx/core.so: $(CORE_SRC) $(HTTP_SRC) $(BIND_SRC) $(HEADERS)
	@mkdir -p $(dir $@)
	$(SAN_CC) $(SAN_ALL_CFLAGS) -I$(ASAN_LUA_INCDIR) -shared -shared-libasan -o $@ $(CORE_SRC) $(HTTP_SRC) $(BIND_SRC) $(LDFLAGS) $(OPENSSL_LIBS) $(CURL_LIBS)

asan-lua: $(ASAN_LUA_BUILD)/fsx/core.so

asan: asan-ctest asan-lua

$(VALGRIND_CTEST_BUILD)/%: spec/c/%.c spec/c/test_util.c $(wildcard spec/c/*.h) $(CORE_SRC) $(HTTP_SRC) $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Isrc -o $@ $< spec/c/test_util.c $(CORE_SRC) $(HTTP_SRC) $(LDFLAGS) $(OPENSSL_LIBS) $(CURL_LIBS)

valgrind: $(VALGRIND_CTESTS)
	$(call harden_run,$(VALGRIND) $(VALGRIND_FLAGS),$(VALGRIND_CTESTS),valgrind)

$(FUZZ_BUILD)/fuzz_%: spec/fuzz/fuzz_%.c spec/fuzz/fuzz_check.h spec/c/sign_call_expect.h $(CORE_SRC) $(HTTP_SRC) $(HEADERS)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) -std=c99 -D_POSIX_C_SOURCE=200809L $(FUZZ_FLAGS) $(OPENSSL_CFLAGS) $(CURL_CFLAGS) -Isrc -o $@ $< $(CORE_SRC) $(HTTP_SRC) $(OPENSSL_LIBS) $(CURL_LIBS)

fuzz: $(FUZZ_TARGETS)
	@mkdir -p $(FUZZ_BUILD)/artifacts; p=0; f=0; for t in $(FUZZ_TARGETS); do \
	  name=$${t##*/fuzz_}; log=$(FUZZ_BUILD)/$$name.log; corpus=$$(mktemp -d); \
	  if [ -d spec/fuzz/corpus/$$name ]; then cp -R spec/fuzz/corpus/$$name/. $$corpus/; fi; \
	  echo "== $$t: $(FUZZ_SECONDS) s on a copy of spec/fuzz/corpus/$$name/"; \
	  if $$t -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
	       -artifact_prefix=$(FUZZ_BUILD)/artifacts/$$name- $$corpus > $$log 2>&1; then \
	    p=$$((p + 1)); grep -E '^(Done|stat::number_of_executed_units|stat::peak_rss_mb)' $$log; \
	  else \
	    f=$$((f + 1)); tail -n 60 $$log; echo "FAIL $$name (log $$log, artifacts $(FUZZ_BUILD)/artifacts/)"; \
	  fi; \
	  rm -rf $$corpus; \
	done; \
	echo "fuzz: $$p passed, $$f failed"; [ $$f -eq 0 ]

fuzz-ci:
	@$(MAKE) --no-print-directory fuzz FUZZ_SECONDS=60

apicheck:
	@bash scripts/apicheck.sh

# ---- docs, lint, version (CI: scripts/test.d/docs_lint.sh) ----
#   make docs          the API reference (LDoc, config.ld) in build/doc/, from the
#                      doc comments plus the operations page that
#                      tools/gen_api_doc.lua generates from lua/fsx/api.lua;
#                      fails on any LDoc warning
#   make lint          luacheck, cppcheck, clang-tidy, the clang-format check and
#                      crypto-api-check (src/ builds with OPENSSL_API_COMPAT=30000
#                      and OPENSSL_NO_DEPRECATED);
#                      ends with "lint: N passed, N failed"
#   make format        rewrite src/ with clang-format (.clang-format)
#   make version-check spec/packaging_spec.lua: the version lives only in
#                      lua/fsx/version.lua, the rockspec lists every module, the
#                      README covers every operation, option and variable
LDOC ?= ldoc
LUACHECK ?= luacheck
CPPCHECK ?= cppcheck
CLANG_TIDY ?= clang-tidy
CLANG_FORMAT ?= clang-format
BUSTED ?= /usr/bin/busted
DOC_SRC = build/doc-src
LUACHECK_PATHS ?= lua bin/fsx-backup ansible/library tools examples spec bench .busted
C_LINT_SRC = $(wildcard src/*.c)
FORMAT_FILES ?= $(wildcard src/*.c src/*.h)
# cppcheck: variableScope asks for C99 block-scoped declarations where the code
# declares at the top of the function on purpose; http.c's parse_status is only
# called with len >= 5, which cppcheck's value flow cannot see.
CPPCHECK_FLAGS ?= --enable=warning,style,performance,portability --std=c99 --inline-suppr \
	--error-exitcode=1 --quiet -D_POSIX_C_SOURCE=200809L -Isrc \
	--suppress=variableScope --suppress=knownConditionTrueFalse:src/http.c
# clang-tidy: the flags of the real build (Lua 5.4 headers), and luaL_error
# declared as not returning (it longjmps) for the analyzer.
TIDY_CFLAGS ?= -std=c99 -D_POSIX_C_SOURCE=200809L -Isrc -I$(LUA_INCDIR) $(OPENSSL_CFLAGS) $(CURL_CFLAGS) \
	'-DluaL_error(L,...)=(luaL_error(L,__VA_ARGS__),__builtin_unreachable(),0)'

.PHONY: docs lint luacheck cppcheck tidy format-check format version-check crypto-api-check

# LDoc renders Markdown with Debian's lua-markdown (for Lua 5.1, LDoc's
# interpreter); without it the pages are built with plain `code` spans.
LDOC_FLAGS ?= $(shell lua5.1 -e 'require "markdown"' >/dev/null 2>&1 || echo "-f backtick")

docs:
	@mkdir -p $(DOC_SRC)
	$(LUA) tools/gen_api_doc.lua > $(DOC_SRC)/operations.md
	@rm -rf build/doc
	@if [ -n "$(LDOC_FLAGS)" ]; then echo "docs: note: no lua-markdown, building with $(LDOC_FLAGS)"; fi
	@$(LDOC) $(LDOC_FLAGS) . > build/ldoc.log 2>&1; rc=$$?; cat build/ldoc.log; \
	if [ $$rc -ne 0 ] || grep -v -e '^reading configuration from ' -e '^output written to ' build/ldoc.log | grep -q .; then \
	  echo "docs: LDoc reported problems (above)"; exit 1; \
	fi; \
	echo "docs: build/doc/index.html, no warnings"

luacheck:
	$(LUACHECK) --no-color --codes -q $(LUACHECK_PATHS)

cppcheck:
	$(CPPCHECK) $(CPPCHECK_FLAGS) src/

tidy:
	$(CLANG_TIDY) --quiet $(C_LINT_SRC) -- $(TIDY_CFLAGS)

format-check:
	$(CLANG_FORMAT) --dry-run --Werror $(FORMAT_FILES)

format:
	$(CLANG_FORMAT) -i $(FORMAT_FILES)

# src/ against OpenSSL 3's API with every deprecated function hidden
crypto-api-check:
	$(CC) -std=c99 -D_POSIX_C_SOURCE=200809L -DOPENSSL_API_COMPAT=30000 -DOPENSSL_NO_DEPRECATED \
	  -Werror=deprecated-declarations -Werror=implicit-function-declaration -fsyntax-only \
	  $(OPENSSL_CFLAGS) $(CURL_CFLAGS) $(CORE_SRC) $(HTTP_SRC)

lint:
	@p=0; f=0; for t in luacheck cppcheck tidy format-check crypto-api-check; do \
	  echo "== make $$t"; \
	  if $(MAKE) --no-print-directory $$t; then p=$$((p + 1)); else f=$$((f + 1)); echo "FAIL make $$t"; fi; \
	done; \
	echo "lint: $$p passed, $$f failed"; [ $$f -eq 0 ]

version-check:
	$(LUA) $(BUSTED) spec/packaging_spec.lua

# ---- benchmarks against the peers (bench/README.md) ----
#   make bench         bench/run.sh: builds into build/bench/, measures signing, calls,
#                      start-up and memory against the floors, botocore/boto3 and the
#                      AWS CLI, prints one table and writes bench/RESULTS.md
#   make bench-smoke   the same benchmarks on a short run (one round, tiny loops,
#                      about a minute), into build/bench-smoke/RESULTS.md, then
#                      spec/support/bench_results_check.lua: every figure measured,
#                      every goal judged, every signer agreeing (no timing checked)
.PHONY: bench bench-smoke
bench:
	bash bench/run.sh

BENCH_SMOKE = build/bench-smoke
bench-smoke:
	@mkdir -p $(BENCH_SMOKE)
	ROUNDS=1 STARTUP_ROUNDS=1 MEM_CALLS=2000 BENCH_SECONDS=0.05 BENCH_INSTALL=0 \
	  RESULTS=$(BENCH_SMOKE)/RESULTS.md bash bench/run.sh
	lua5.4 spec/support/bench_results_check.lua $(BENCH_SMOKE)/RESULTS.md

# ---- hardening over busted: the Lua specs on the C module ----
#   make asan-busted      ASAN_BUSTED_SPECS under lua5.4 and LuaJIT with fsx/core.so
#                         built with ASan+UBSan (build/asan-lua5.4/, build/asan-luajit/)
#                         and clang's ASan runtime preloaded into the interpreter;
#                         LeakSanitizer on, spec/support/lsan.supp
#   make valgrind-busted  VALGRIND_BUSTED_SPECS under valgrind memcheck (lua5.4, the
#                         plain build), spec/support/valgrind.supp
# Both print busted's TAP output (a "not ok 0" line when an interpreter exits
# non-zero without a failing test: a sanitizer or valgrind report, shown above
# it) and end with "<target>: N passed, N failed".
# The runtime is preloaded with `ld.so --preload`, not LD_PRELOAD: it reaches
# the interpreter only, and the servers, curl and CLI processes the specs start
# run without it (their own leaks would fail them under LeakSanitizer). A spec
# that starts another interpreter on the same module (helpers.reentrant) puts
# FSX_SPEC_LUA_WRAP, the same preload, before it.
ASAN_RT ?= $(shell $(SAN_CC) -print-file-name=libclang_rt.asan-x86_64.so)
LDSO ?= /lib64/ld-linux-x86-64.so.2
ASAN_LUAJIT_BUILD = build/asan-luajit
ASAN_LUAJIT_INCDIR ?= /usr/include/luajit-2.1
ASAN_BUSTED_LUAS ?= lua5.4 luajit
BUSTED_C_SPECS = spec/sigv4_spec.lua spec/binding_spec.lua spec/client_spec.lua spec/json_spec.lua \
	spec/protocol_spec.lua spec/limits_spec.lua spec/integration/faults_spec.lua \
	spec/convert_spec.lua spec/validate_spec.lua spec/sigv4_ffi_spec.lua spec/cut_response_spec.lua \
	spec/credentials_proxy_spec.lua
ASAN_BUSTED_SPECS ?= $(BUSTED_C_SPECS) spec/sigv4_botocore_spec.lua spec/backup_spec.lua \
	spec/waiter_spec.lua spec/credentials_spec.lua spec/hostile_spec.lua spec/secrets_spec.lua \
	spec/answer_spec.lua
VALGRIND_BUSTED_SPECS ?= $(BUSTED_C_SPECS)
ASAN_BUSTED_ENV ?= FSX_FAULT_CALLS=100 ASAN_OPTIONS=detect_leaks=1:check_initialization_order=1 \
	LSAN_OPTIONS=suppressions=$(CURDIR)/spec/support/lsan.supp:print_suppressions=0 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
VALGRIND_BUSTED_ENV ?= FSX_FAULT_CALLS=40
VALGRIND_BUSTED_FLAGS ?= $(VALGRIND_FLAGS) --num-callers=40 --suppressions=spec/support/valgrind.supp

# busted_tap NAME,LOG: after a busted run whose exit status is in $$rc and whose
# output is in LOG, adds its ok / not ok lines to $$p / $$f; an exit status
# other than 0 without a "not ok" line becomes one.
define busted_tap
	cat $(2); \
	tp=$$(grep -cE '^ok [0-9]+' $(2)); tf=$$(grep -cE '^not ok [0-9]+' $(2)); \
	if [ $$rc -ne 0 ] && [ $$tf -eq 0 ]; then \
	  echo "not ok 0 - $(1) exited with status $$rc (report above)"; tf=1; \
	fi; \
	p=$$((p + tp)); f=$$((f + tf))
endef

.PHONY: asan-busted valgrind-busted

$(ASAN_LUAJIT_BUILD)/fsx/core.so: $(CORE_SRC) $(HTTP_SRC) $(BIND_SRC) $(HEADERS)
	@mkdir -p $(dir $@)
	$(SAN_CC) $(SAN_ALL_CFLAGS) -I$(ASAN_LUAJIT_INCDIR) -shared -shared-libasan -o $@ $(CORE_SRC) $(HTTP_SRC) $(BIND_SRC) $(LDFLAGS) $(OPENSSL_LIBS) $(CURL_LIBS)

asan-busted: $(ASAN_LUA_BUILD)/fsx/core.so $(ASAN_LUAJIT_BUILD)/fsx/core.so
	@$(MAKE) --no-print-directory -s LUA=lua5.4 all >/dev/null
	@$(MAKE) --no-print-directory -s LUA=luajit all >/dev/null
	@p=0; f=0; for lua in $(ASAN_BUSTED_LUAS); do \
	  case $$lua in luajit) dir=$(ASAN_LUAJIT_BUILD) ;; *) dir=$(ASAN_LUA_BUILD) ;; esac; \
	  log=build/asan-busted-$$lua.log; \
	  echo "# asan-busted: $$lua with $$dir/fsx/core.so and $(ASAN_RT)"; \
	  env $(ASAN_BUSTED_ENV) FSX_SPEC_LUA_WRAP="$(LDSO) --preload $(ASAN_RT)" \
	    $(LDSO) --preload $(ASAN_RT) $$(command -v $$lua) $(BUSTED) \
	    --cpath="$$dir/?.so" -o TAP $(ASAN_BUSTED_SPECS) > $$log 2>&1; rc=$$?; \
	  $(call busted_tap,$$lua,$$log); \
	done; \
	echo "asan-busted: $$p passed, $$f failed"; [ $$f -eq 0 ]

valgrind-busted:
	@$(MAKE) --no-print-directory -s LUA=lua5.4 all >/dev/null
	@p=0; f=0; log=build/valgrind-busted.log; \
	echo "# valgrind-busted: lua5.4 with build/lua5.4/fsx/core.so"; \
	env $(VALGRIND_BUSTED_ENV) $(VALGRIND) $(VALGRIND_BUSTED_FLAGS) $$(command -v lua5.4) $(BUSTED) \
	  --cpath='build/lua5.4/?.so' -o TAP $(VALGRIND_BUSTED_SPECS) > $$log 2>&1; rc=$$?; \
	$(call busted_tap,valgrind,$$log); \
	echo "valgrind-busted: $$p passed, $$f failed"; [ $$f -eq 0 ]
