# scripts/check.d/bench.sh (make check) - the benchmark suite itself works (bench/, issue 9).
#
# Sourced by scripts/test-all.sh, which defines `suite NAME MODE CMD...`.
#   bench-smoke  make bench-smoke: bench/run.sh on a short run (its own loopback
#                servers, started and stopped by it), then a TAP check of the
#                RESULTS.md it wrote: every figure measured, every goal judged,
#                every signer agreeing. No timing is asserted.
suite bench-smoke tap make --no-print-directory bench-smoke
