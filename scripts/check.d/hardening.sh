# scripts/check.d/hardening.sh (make check) - sanitizer, valgrind and fuzz suites.
#
# Sourced by scripts/test-all.sh, which defines `suite NAME MODE CMD...`.
# The C-only targets end with "<target>: N passed, N failed" (plain mode):
#   c-tests-asan      the C tests built with clang ASan+UBSan (make asan-ctest)
#   c-tests-valgrind  the C tests under valgrind (make valgrind)
#   fuzz              every libFuzzer target for 60 s (make fuzz-ci)
# The busted ones print busted's TAP output, counted line by line (tap mode;
# a sanitizer or valgrind report turns into a "not ok 0" line):
#   busted-asan       the specs on the C module under lua5.4 and LuaJIT with the
#                     ASan+UBSan build and LeakSanitizer (make asan-busted)
#   busted-valgrind   the specs on the C module under valgrind memcheck
#                     (make valgrind-busted)
#   busted-apicheck   the binding's specs under a Lua 5.4 built with
#                     LUA_USE_APICHECK (make apicheck)
suite c-tests-asan plain make asan-ctest
suite c-tests-valgrind plain make valgrind
suite fuzz plain make fuzz-ci
suite busted-asan tap make -s asan-busted
suite busted-valgrind tap make -s valgrind-busted
suite busted-apicheck tap make -s apicheck
