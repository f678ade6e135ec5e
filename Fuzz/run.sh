#!/bin/bash
# Runs every libFuzzer target for SECONDS each (default 10), starting from the
# seed corpus (small valid images from the unit tests' builders) plus what earlier
# runs found (build/fuzz/corpus/TARGET). A crash, a leak or a broken invariant fails
# the run; its input is saved as build/fuzz/crashes/TARGET-crash-* (reproduce with
# `build/fuzz/fuzz-TARGET FILE`) and should become a unit test in Tests/MachineTests/.
#   Fuzz/run.sh [SECONDS] [TARGET...]
set -uo pipefail
cd "$(dirname "$0")/.."
SECONDS_EACH=${1:-10}; shift || true
TARGETS=${*:-$(cat Fuzz/targets)}
OUT=build/fuzz
export SWIFT_BACKTRACE=enable=no    # libFuzzer and ASan report crashes; the Swift backtracer only adds noise
failed=()
for target in $TARGETS; do
    corpus=$OUT/corpus/$target
    seeds=$OUT/seeds/$target
    mkdir -p "$corpus" "$seeds" "$OUT/crashes"
    SWIFTVISOR_FUZZ_SEEDS=$seeds "$OUT/fuzz-$target" >/dev/null || { failed+=("$target (seeds)"); continue; }
    log=$OUT/$target.log
    "$OUT/fuzz-$target" "$corpus" "$seeds" -max_total_time="$SECONDS_EACH" -timeout=10 -rss_limit_mb=2048 \
        -max_len=65536 -print_final_stats=1 -artifact_prefix="$OUT/crashes/$target-" >"$log" 2>&1
    status=$?
    runs=$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$')
    cov=$(grep -oE '(cov|ft): [0-9]+' "$log" | tail -2 | tr '\n' ' ')
    if [[ $status -ne 0 ]]; then
        echo "fuzz $target: FAILED (status $status) after ${runs:-?} inputs; log $log"
        grep -E 'ERROR|invariant|Fatal error|SUMMARY|Test unit written' "$log" | head -8 | sed 's/^/    /'
        failed+=("$target")
    else
        echo "fuzz $target: ${runs:-?} inputs in ${SECONDS_EACH} s, no crash (${cov}corpus $(ls "$corpus" | wc -l))"
    fi
done
if [[ ${#failed[@]} -ne 0 ]]; then
    echo "fuzz: failures in ${failed[*]}"
    exit 1
fi
