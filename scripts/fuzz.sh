#!/bin/bash
# fuzz.sh: builds the libFuzzer targets (clang, -DCMPCA_FUZZ=ON: the project
# under -fsanitize=fuzzer-no-link,address,undefined, the targets with
# -fsanitize=fuzzer) and runs each for a fixed time on a copy of its corpus
# with the CMP dictionary. `make fuzz` calls it; docs/fuzzing.md explains.
#
#   scripts/fuzz.sh [--seconds N] [--runs N] [--build DIR] [--jobs N]
#                   [--targets "pkimessage path"] [--no-build]
#
# --runs N also stops a target after N executions (whichever comes first).
# --jobs N runs N libFuzzer processes per target (-fork=N) sharing its
# corpus. Exits 1 when a target crashed, leaked, timed out or broke one of
# its invariants; the input is then saved as tests/fuzz/corpus/<target>/
# crash-<sha1> (so CTest replays it from now on) and the command that
# reproduces it is printed. The inputs each run adds to the corpus stay in
# DIR/fuzz-work/<target>/corpus: copy the interesting ones into tests/fuzz/
# corpus/<target>/ after minimising (`-merge=1`, see docs/fuzzing.md).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

SECONDS_EACH=${FUZZ_SECONDS:-60}
BUILD=${FUZZ_BUILD:-build-fuzz}
TARGETS=${FUZZ_TARGETS:-"pkimessage genm_itav path pipeline"}
JOBS=${FUZZ_JOBS:-1}
RUNS=${FUZZ_RUNS:--1}
DO_BUILD=1
while [ $# -gt 0 ]; do
    case $1 in
    --seconds) SECONDS_EACH=$2; shift 2 ;;
    --build) BUILD=$2; shift 2 ;;
    --targets) TARGETS=$2; shift 2 ;;
    --jobs) JOBS=$2; shift 2 ;;
    --runs) RUNS=$2; shift 2 ;;
    --no-build) DO_BUILD=0; shift ;;
    -h | --help) sed -n '2,20p' "$0"; exit 0 ;;
    *) echo "fuzz.sh: unknown option $1" >&2; exit 2 ;;
    esac
done
case $SECONDS_EACH in '' | *[!0-9]*) echo "fuzz.sh: --seconds needs a number" >&2; exit 2 ;; esac

# the largest input each target is given: a PKIMessage of the seeds is
# under 2 KiB; four pipeline records with certificates stay under 16 KiB
max_len() {
    case $1 in
    path) echo 512 ;;
    pipeline) echo 16384 ;;
    *) echo 8192 ;;
    esac
}

if [ "$DO_BUILD" = 1 ]; then
    command -v clang >/dev/null || { echo "fuzz.sh: clang is not installed" >&2; exit 2; }
    CC=clang cmake -S . -B "$BUILD" -DCMPCA_FUZZ=ON -DCMPCA_WERROR=OFF \
        -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
    bins=()
    for t in $TARGETS; do bins+=("fuzz_$t"); done
    cmake --build "$BUILD" -j "$(nproc)" --target "${bins[@]}"
fi

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:symbolize=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export CMPCA_FUZZ_PKI=$ROOT/tests/fuzz/pki

failed=""
for t in $TARGETS; do
    bin=$BUILD/tests/fuzz_$t
    work=$BUILD/fuzz-work/$t
    mkdir -p "$work/corpus" "$work/artifacts"
    mkdir -p tests/fuzz/corpus/"$t"
    cp -n tests/fuzz/corpus/"$t"/* "$work/corpus/" 2>/dev/null || true
    echo "== fuzz_$t: ${SECONDS_EACH}s, $(find "$work/corpus" -type f | wc -l) inputs in the corpus"
    fork=()
    [ "$JOBS" -gt 1 ] && fork=(-fork="$JOBS" -ignore_crashes=0)
    set +e
    "$bin" -max_total_time="$SECONDS_EACH" -runs="$RUNS" -dict=tests/fuzz/cmp.dict \
        -max_len="$(max_len "$t")" -timeout=25 -rss_limit_mb=2048 \
        -print_final_stats=1 -artifact_prefix="$work/artifacts/" "${fork[@]}" \
        "$work/corpus" >"$work/log" 2>&1
    rc=$?
    set -e
    # one process prints stat:: lines; -fork=N prints "#EXECS: cov: ..."
    grep -E '^stat::number_of_executed_units|^stat::average_exec_per_sec|^#[0-9]+.*DONE' \
        "$work/log" || grep -E '^#[0-9]+: cov' "$work/log" | tail -n 1 || tail -n 3 "$work/log"
    if [ $rc -ne 0 ]; then
        failed="$failed $t"
        echo "!! fuzz_$t failed (exit $rc); its log: $work/log"
        grep -E 'ERROR: |SUMMARY: |invariant broken|runtime error' "$work/log" | head -n 5
        for a in "$work"/artifacts/*; do
            [ -f "$a" ] || continue
            name=$(basename "$a")
            sum=$(sha1sum "$a" | cut -d' ' -f1)
            dest=tests/fuzz/corpus/$t/${name%%-*}-$sum
            cp "$a" "$dest"
            echo "   saved $dest; reproduce: $bin $dest"
        done
    fi
done
if [ -n "$failed" ]; then
    echo "fuzz.sh: failed:$failed"
    exit 1
fi
echo "fuzz.sh: no crash in $TARGETS"
