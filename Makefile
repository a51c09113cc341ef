# lua-fsx build. Variable names follow luarocks (LUA_INCDIR, LUA_LIBDIR, CFLAGS,
# LIBFLAG, LIBDIR, LUADIR) so a `make` build type works too.
#
#   make                 build fsx/core.so for Lua 5.4 into build/lua5.4/
#   make LUA=luajit      build it for LuaJIT (Lua 5.1 API) into build/luajit/
#   make check           C unit tests of the signing core (no Lua)
#   make test            every suite (C, busted under lua5.4 and luajit, nginx, ...)

LUA ?= lua5.4
ifeq ($(LUA),luajit)
LUA_INCDIR ?= /usr/include/luajit-2.1
LUA_VERSION ?= 5.1
else
LUA_INCDIR ?= /usr/include/lua5.4
LUA_VERSION ?= 5.4
endif

PKG_CONFIG ?= pkg-config
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

BUILD ?= build/$(LUA)
CORE_SRC = src/buf.c src/error.c src/crypto.c src/sigv4.c
HTTP_SRC = src/http.c
BIND_SRC = src/fsx_core.c
HEADERS = $(wildcard src/*.h)

# install locations (luarocks passes LIBDIR/LUADIR; make install uses these)
PREFIX ?= /usr/local
LUA_CMODULE_DIR ?= $(PREFIX)/lib/lua/$(LUA_VERSION)
LUA_MODULE_DIR ?= $(PREFIX)/share/lua/$(LUA_VERSION)
BIN_DIR ?= $(PREFIX)/bin
LIBDIR ?= $(LUA_CMODULE_DIR)
LUADIR ?= $(LUA_MODULE_DIR)

.PHONY: all check test clean install uninstall api api-check

all: $(BUILD)/fsx/core.so

$(BUILD)/fsx/core.so: $(CORE_SRC) $(HTTP_SRC) $(BIND_SRC) $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -I$(LUA_INCDIR) $(LIBFLAG) -o $@ $(CORE_SRC) $(HTTP_SRC) $(BIND_SRC) $(LDFLAGS) $(OPENSSL_LIBS) $(CURL_LIBS)

# ---- C unit tests of the core (no Lua) ----
CTEST_BUILD = build/ctest
CTESTS = $(patsubst spec/c/%.c,$(CTEST_BUILD)/%,$(filter-out spec/c/test_util.c,$(wildcard spec/c/test_*.c)))

$(CTEST_BUILD)/%: spec/c/%.c spec/c/test_util.c $(CORE_SRC) $(HTTP_SRC) $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Isrc -o $@ $< spec/c/test_util.c $(CORE_SRC) $(HTTP_SRC) $(LDFLAGS) $(OPENSSL_LIBS) $(CURL_LIBS)

check: $(CTESTS)
	@set -e; for t in $(CTESTS); do echo "== $$t"; $$t; done

test:
	bash scripts/test-all.sh

# ---- generated operation declarations ----
api:
	$(LUA) tools/gen_api.lua > lua/fsx/api.lua.tmp && mv lua/fsx/api.lua.tmp lua/fsx/api.lua

api-check:
	$(LUA) tools/gen_api.lua | cmp - lua/fsx/api.lua

clean:
	rm -rf build

install: all
	install -d $(DESTDIR)$(LIBDIR)/fsx $(DESTDIR)$(LUADIR)/fsx $(DESTDIR)$(BIN_DIR)
	install -m 0755 $(BUILD)/fsx/core.so $(DESTDIR)$(LIBDIR)/fsx/core.so
	cd lua && find fsx -name '*.lua' -exec install -D -m 0644 {} $(DESTDIR)$(LUADIR)/{} \;
	install -m 0755 bin/fsx-backup $(DESTDIR)$(BIN_DIR)/fsx-backup

uninstall:
	rm -f $(DESTDIR)$(LIBDIR)/fsx/core.so $(DESTDIR)$(BIN_DIR)/fsx-backup
	rm -rf $(DESTDIR)$(LUADIR)/fsx
	-rmdir $(DESTDIR)$(LIBDIR)/fsx

.PHONY: demo
demo:
	bash scripts/demo.sh
