# scripts/test.d/docs_lint.sh - the habits: linters, API docs, generated code, version.
#
# Sourced by scripts/test-all.sh, which defines `suite NAME MODE CMD...`.
#   lint       make lint: luacheck, cppcheck, clang-tidy, clang-format check
#              (one test per tool: "lint: N passed, N failed")
#   docs       make docs: the LDoc API reference builds without a warning
#   api-check  make api-check: lua/fsx/api.lua is what tools/gen_api.lua generates
#              from the model vendored in model/
#   endpoints-check  make endpoints-check: lua/fsx/endpoint_data/*.lua are what
#              tools/gen_endpoints.lua generates from model/
#   version    make version-check: spec/packaging_spec.lua (one version string in
#              lua/fsx/version.lua; the rockspec lists every module; README.md covers
#              every operation, option, variable and error kind)
suite lint plain make --no-print-directory lint
suite docs check make --no-print-directory docs
suite api-check check make --no-print-directory api-check
suite endpoints-check check make --no-print-directory endpoints-check
suite version tap make --no-print-directory version-check BUSTED="/usr/bin/busted -o TAP"
