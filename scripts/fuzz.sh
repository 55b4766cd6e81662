#!/usr/bin/env bash
# Runs the libFuzzer harnesses (Sources/EdgeFuzzing): scripts/fuzz.sh [TARGET|all] [SECONDS] [RUNS]
#   TARGET   exposition statsd otlp replay config promapi http gzip, or all (default)
#   SECONDS  time limit per target (default 60); RUNS caps executions (default: no cap)
# Builds .build-fuzz with -sanitize=fuzzer,address, seeds each corpus (.fuzz/corpus/TARGET)
# from Tests/EdgeFuzzingTests/Corpus, and prints one line per target:
#   TARGET execs exec/s coverage features crashes
# A crash input lands in .fuzz/crashes/TARGET/; copy it to
# Tests/EdgeFuzzingTests/Corpus/regressions/TARGET/ with the fix, so `swift test` keeps it.
# FUZZ_SMOKE=1 (CI): skip quietly, exit 0, when the toolchain has no fuzzer runtime.
# FUZZ_MAX_LEN: the longest input tried (default 4096 bytes).
set -euo pipefail
cd "$(dirname "$0")/.."
targets=(exposition statsd otlp replay config promapi http gzip)
want="${1:-all}"; seconds="${2:-60}"; runs="${3:--1}"
if [[ "$want" != all ]]; then
  [[ " ${targets[*]} " == *" $want "* ]] || { echo "fuzz.sh: unknown target $want (${targets[*]})" >&2; exit 2; }
  targets=("$want")
fi
swift_bin="$(dirname "$(readlink -f "$(command -v swift)")")"
runtime="$swift_bin/../lib/swift/clang/lib/linux/libclang_rt.fuzzer-$(uname -m).a"
if [[ ! -f "$runtime" ]]; then
  echo "fuzz.sh: this toolchain has no libFuzzer runtime ($runtime); nothing fuzzed" >&2
  [[ "${FUZZ_SMOKE:-}" == 1 ]] && exit 0 || exit 3
fi
# FUZZ_NO_ASAN=1: coverage only, 2-4x the executions per second (long campaigns).
sanitizers="fuzzer,address" scratch=.build-fuzz
if [[ "${FUZZ_NO_ASAN:-}" == 1 ]]; then sanitizers="fuzzer" scratch=.build-fuzz-plain; fi
if ! swift build -c release --scratch-path "$scratch" --product edgetop-fuzz \
     -Xswiftc -sanitize="$sanitizers" -Xswiftc -DEDGETOP_FUZZ > .build-fuzz.log 2>&1; then
  tail -20 .build-fuzz.log >&2
  if [[ "${FUZZ_SMOKE:-}" == 1 ]]; then echo "fuzz.sh: fuzz build failed; smoke skipped" >&2; exit 0; fi
  exit 1
fi
bin=$scratch/release/edgetop-fuzz
status=0
printf '%-11s %12s %9s %6s %8s %7s\n' target execs exec/s cov features crashes
for t in "${targets[@]}"; do
  corpus=.fuzz/corpus/$t crashes=.fuzz/crashes/$t
  mkdir -p "$corpus" "$crashes"
  log=.fuzz/$t.log
  set +e
  EDGETOP_FUZZ_TARGET=$t SWIFT_BACKTRACE=enable=no ASAN_OPTIONS=detect_leaks=0:allocator_may_return_null=1 \
    "$bin" "$corpus" Tests/EdgeFuzzingTests/Corpus/seeds/$t \
    -max_total_time="$seconds" -runs="$runs" -max_len="${FUZZ_MAX_LEN:-4096}" -rss_limit_mb=3072 -timeout=10 \
    -artifact_prefix="$crashes/" -print_final_stats=1 > "$log" 2>&1
  rc=$?
  set -e
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo 0)
  speed=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo 0)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*' || echo 0)
  ft=$(grep -o 'ft: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*' || echo 0)
  found=$(find "$crashes" -type f | wc -l)
  printf '%-11s %12s %9s %6s %8s %7s\n' "$t" "$execs" "$speed" "$cov" "$ft" "$found"
  if [[ $rc -ne 0 || $found -ne 0 ]]; then
    status=1
    grep -m3 -E 'invariant broken|ERROR: AddressSanitizer|Fatal error|deadly signal' "$log" >&2 || tail -5 "$log" >&2
  fi
done
exit $status
