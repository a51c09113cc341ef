# scripts/test.d/hardening.sh - sanitizer, valgrind and fuzz suites.
#
# Sourced by scripts/test-all.sh, which defines `suite NAME MODE CMD...`.
# Each make target ends with "<target>: N passed, N failed" (plain mode):
#   c-tests-asan      the C tests built with clang ASan+UBSan (make asan-ctest)
#   c-tests-valgrind  the C tests under valgrind (make valgrind)
#   fuzz              every libFuzzer target for 60 s (make fuzz-ci)
suite c-tests-asan plain make asan-ctest
suite c-tests-valgrind plain make valgrind
suite fuzz plain make fuzz-ci
