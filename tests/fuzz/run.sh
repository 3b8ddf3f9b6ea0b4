#!/bin/bash
# Builds vigie's libFuzzer targets (clang, VIGIE_FUZZ=ON) in BUILD and fuzzes each
# in turn, one process at a time, for its share of TOTAL seconds. Fails when any
# target crashes, leaks, times out or runs out of memory: the input is left in
# BUILD/fuzz-artifacts/<target>/ (keep it in tests/fuzz/regress/<target>/ once
# the bug is fixed). The corpus grows in BUILD/fuzz-corpus/<target>/ across runs.
#
#   tests/fuzz/run.sh BUILD TOTAL_SECONDS [TARGET...]
#   (run_short.sh: 300 s in all; run_long.sh: a number of hours)
set -u
if [ $# -lt 2 ]; then
    echo "usage: $0 BUILD TOTAL_SECONDS [TARGET...]" >&2
    exit 2
fi
SRC=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=$1
TOTAL=$2
shift 2
ALL="scan_mime scan_office scan_markup scan_pdf scan_archive scan_text detect charset zip_map config rules control"
TARGETS=${*:-$ALL}
JOBS=${JOBS:-2}
CC=${CC:-clang}

command -v "$CC" >/dev/null || { echo "run.sh: $CC not found (apt-get install clang)" >&2; exit 2; }
CC=$CC cmake -S "$SRC" -B "$BUILD" -DVIGIE_FUZZ=ON -DVIGIE_TESTS=OFF >"$BUILD.cmake.log" 2>&1 ||
    { cat "$BUILD.cmake.log" >&2; exit 2; }
rm -f "$BUILD.cmake.log"
cmake --build "$BUILD" -j "$JOBS" --target fuzz-targets >/dev/null || exit 2
python3 "$SRC/tests/fuzz/make_seeds.py" "$BUILD/fuzz-seeds" >/dev/null || exit 2

n=$(echo $TARGETS | wc -w)
share=$((TOTAL / n))
[ "$share" -ge 1 ] || share=1
failed=""
printf '%-14s %8s %12s %8s %6s %s\n' target seconds execs cov corpus result
for t in $TARGETS; do
    case $t in
        scan_*) max_len=65536 ;;
        control) max_len=8192 ;;
        *) max_len=16384 ;;
    esac
    corpus=$BUILD/fuzz-corpus/$t
    art=$BUILD/fuzz-artifacts/$t
    mkdir -p "$corpus" "$art"
    log=$BUILD/fuzz-logs/$t.log
    mkdir -p "$(dirname "$log")"
    # The engine's own scan time limit is 10 s in the harness: -timeout above it
    # catches only what ignores that limit. Inputs are read from the seeds and
    # regress folders; new ones are written to the corpus folder only.
    start=$(date +%s)
    LSAN_OPTIONS=suppressions=$SRC/tests/fuzz/lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS} \
    "$BUILD/fuzz_$t" -max_total_time="$share" -max_len="$max_len" -rss_limit_mb=512 \
        -timeout=30 -print_final_stats=1 -artifact_prefix="$art/" \
        "$corpus" "$BUILD/fuzz-seeds/$t" "$SRC/tests/fuzz/regress/$t" >"$log" 2>&1
    rc=$?
    secs=$(($(date +%s) - start))
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
    size=$(ls "$corpus" | wc -l)
    if [ $rc -eq 0 ]; then
        res=ok
    else
        res="FAILED (exit $rc, see $log and $art)"
        failed="$failed $t"
    fi
    printf '%-14s %8s %12s %8s %6s %s\n' "$t" "$secs" "${execs:-?}" "${cov:-?}" "$size" "$res"
done
if [ -n "$failed" ]; then
    echo "fuzz: failures in:$failed" >&2
    exit 1
fi
echo "fuzz: $n target(s), ${share} s each, no crash"
