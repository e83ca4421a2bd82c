#!/usr/bin/env bash
# run.sh: the cmpca benchmark, one command, one machine (docs/benchmark.md).
#
#   1. crypto limit: `openssl speed` sign/verify per second per core for the
#      key types in use, turned into enrollments/s per core for the public-key
#      operations of one cmpca enrollment (3 signatures + 5 verifications);
#   2. peer baseline: OpenSSL's mock CMP server (`openssl cmp -port`) in a
#      private network namespace, on the workload it can serve;
#   3. cmpca at concurrency 1, 8, 64 and 256, the server given every core,
#      and at 64 for the other key types;
#   4. cost growth at concurrency 64: 1,000 registered devices, then
#      1,000,000, then 1,000,000 and 10,000,000 issued certificates already
#      in the store (preloaded with sqlite3, not through the server);
#   5. for reference, concurrency 64 with the store on tmpfs (no fsync cost).
#
# Prints a table and the ratios, writes bench/results/<date>.md, and ends
# with one machine-readable line (concurrency 64, P-256):
#   summary: limit_ratio=R mock_ratio=M p99_ms=P rate=N/s cpu_us=C
# Exit status 1 when any run reported an error.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ROOT/bench/lib.sh"

DURATION=20
DEVICES=1000
BIG_DEVICES=1000000
CERTS=10000000
CONCURRENCY="1 8 64 256"
KEY_TYPES="ec-p256 ec-p384 rsa-2048 ed25519"
SPEED_SECONDS=3
BUILD=$ROOT/build-bench
DO_BUILD=1 DO_MOCK=1 DO_GROWTH=1 DO_TMPFS=1 KEEP=0 WAIT_IDLE=0
OUT=""
CACHE=${CMPCA_LOAD_CACHE:-${HOME:-$ROOT}/.cache/cmpca-load}

usage() {
    cat <<EOF
usage: bench/run.sh [options]
  --duration S         seconds per measured run (default $DURATION)
  --devices N          device identities for the concurrency runs ($DEVICES)
  --big-devices N      registered devices of the growth run ($BIG_DEVICES)
  --certs N            issued certificates preloaded for growth ($CERTS)
  --concurrency LIST   worker counts (default "$CONCURRENCY")
  --key-types LIST     key types measured at concurrency 64 (default
                       "$KEY_TYPES"; ec-p256 is always measured)
  --quick              --duration 5 --big-devices 100000 --certs 1000000
  --build DIR          build directory (default build-bench, Release)
  --no-build           use DIR as it is
  --skip-mock | --skip-growth | --skip-tmpfs
  --wait-idle S        first wait up to S seconds for the machine to be idle
  --out FILE           results file (default bench/results/<date>.md)
  --keep               keep the work directory
EOF
}

while [ $# -gt 0 ]; do
    case $1 in
    --duration) DURATION=$2; shift ;;
    --devices) DEVICES=$2; shift ;;
    --big-devices) BIG_DEVICES=$2; shift ;;
    --certs) CERTS=$2; shift ;;
    --concurrency) CONCURRENCY=$2; shift ;;
    --key-types) KEY_TYPES=$2; shift ;;
    --quick) DURATION=5 BIG_DEVICES=100000 CERTS=1000000 ;;
    --build) BUILD=$2; shift ;;
    --no-build) DO_BUILD=0 ;;
    --skip-mock) DO_MOCK=0 ;;
    --skip-growth) DO_GROWTH=0 ;;
    --skip-tmpfs) DO_TMPFS=0 ;;
    --out) OUT=$2; shift ;;
    --wait-idle) WAIT_IDLE=$2; shift ;;
    --keep) KEEP=1 ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; exit 2 ;;
    esac
    shift
done
case " $CONCURRENCY " in *" 64 "*) ;; *) CONCURRENCY="$CONCURRENCY 64" ;; esac
# shellcheck disable=SC2086 # a list
KTS=$(printf '%s\n' ec-p256 $KEY_TYPES | awk '!seen[$0]++' | tr '\n' ' ')
MAXC=$(tr ' ' '\n' <<<"$CONCURRENCY" | sort -n | tail -n 1)
[ "$DEVICES" -ge "$MAXC" ] || die "--devices must be at least the largest concurrency ($MAXC)"
[ "$BIG_DEVICES" -gt "$DEVICES" ] || die "--big-devices must exceed --devices"

NPROC=$(nproc)
if [ "$WAIT_IDLE" -gt 0 ]; then
    log "busy cores before the run: $(wait_idle "$WAIT_IDLE")"
fi
DATE=$(date -u +%Y-%m-%d)
STARTED=$(date -u +%Y-%m-%dT%H:%M:%SZ)
LOAD_BEFORE=$(cut -d ' ' -f 1-3 /proc/loadavg)
[ -n "$OUT" ] || OUT=$ROOT/bench/results/$DATE.md
W=$(mktemp -d "${TMPDIR:-/tmp}/cmpca-bench.XXXXXX")
SERVER_PID=""
LOAD_FAILURES=0
export OPENSSL_CONF=/dev/null
declare -A SPEED NOTE

cleanup() {
    local rc=$?
    server_stop
    rm -rf "${SHM_DIR:-/nonexistent}"
    if [ "$KEEP" = 1 ]; then log "kept $W"; else rm -rf "$W"; fi
    exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- build ---------------------------------------------------------------------
if [ "$DO_BUILD" = 1 ]; then
    log "building cmpca and cmpca-load (Release) in $BUILD"
    if ! cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release >"$W/cmake.log" 2>&1 ||
        ! cmake --build "$BUILD" --target cmpca cmpca-load -j "$NPROC" >>"$W/cmake.log" 2>&1; then
        die "build failed: $(tail -n 5 "$W/cmake.log" | tr '\n' ' ')"
    fi
fi
CMPCA=$BUILD/cmpca
LOAD=$BUILD/tools/load/cmpca-load
if [ ! -x "$CMPCA" ] || [ ! -x "$LOAD" ]; then die "no $CMPCA or $LOAD"; fi

# ---- the machine and the crypto limit --------------------------------------------
FSYNC=$(fsync_rate "$W")
log "disk: $FSYNC synchronous 4 KiB writes/s in $W"
for kt in $KTS; do
    log "openssl speed $(speed_alg "$kt") (${SPEED_SECONDS}s per operation)"
    SPEED[$kt]=$(speed_of "$(speed_alg "$kt")")
done
LIMIT_CORE=$(limit_per_core ec-p256)
LIMIT_MACHINE=$(calc "$LIMIT_CORE * $NPROC")
CRYPTO_US=$(crypto_us ec-p256)

log "device identities: $DEVICES (cache $CACHE)"
"$LOAD" --setup-only --cache "$CACHE" --devices "$DEVICES" >/dev/null ||
    die "cannot create device identities"

# ---- OpenSSL's mock server -----------------------------------------------------------
MOCK_RATE=n/a MOCK_CPU=n/a
if [ "$DO_MOCK" = 1 ] && [ "$(id -u)" = 0 ] && command -v unshare >/dev/null; then
    log "mock: openssl cmp -port in a private network namespace, 1 worker, ${DURATION}s"
    if unshare -n bash "$ROOT/bench/mock.sh" "$LOAD" "$CACHE" "$W/mock" "$DURATION" \
        >"$W/mock.out" 2>"$W/mock.err"; then
        MOCK_RATE=$(result_field "$W/mock.out" rate)
        MOCK_CPU=$(result_field "$W/mock.out" server_cpu_us)
    else
        LOAD_FAILURES=$((LOAD_FAILURES + 1))
        log "mock: failed: $(tail -n 3 "$W/mock.err" | tr '\n' ' ')"
    fi
elif [ "$DO_MOCK" = 1 ]; then
    log "mock: skipped (needs root and unshare for a private network namespace)"
fi

# ---- cmpca: concurrency and key types -------------------------------------------------
A=$W/ca
new_ca "$A"
setup_devices "$A" ec-p256 "$DEVICES" >/dev/null
server_start "$A" "$NPROC"
log "cmpca serve --threads $NPROC at $URL (pid $SERVER_PID)"
for c in $CONCURRENCY; do
    load_run "c$c" "$A" ec-p256 "$DEVICES" "$c"
done
for kt in $KTS; do
    [ "$kt" = ec-p256 ] && continue
    setup_devices "$A" "$kt" 64 >/dev/null
    load_run "kt-$kt" "$A" "$kt" 64 64
done
server_stop

# ---- cmpca: cost growth -------------------------------------------------------------------
if [ "$DO_GROWTH" = 1 ]; then
    G=$W/growth
    new_ca "$G"
    VENDOR=$(setup_devices "$G" ec-p256 "$DEVICES")
    server_start "$G" "$NPROC"
    load_run g-small "$G" ec-p256 "$DEVICES" 64
    log "registering $((BIG_DEVICES - DEVICES)) more devices (cmpca device import)"
    t0=$(date +%s)
    preload_devices "$G" "$VENDOR" "$((BIG_DEVICES - DEVICES))"
    NOTE[import]="$(($(date +%s) - t0)) s"
    load_run g-devices "$G" ec-p256 "$DEVICES" 64
    server_stop
    log "preloading $CERTS certificates with sqlite3 (server stopped)"
    t0=$(date +%s)
    preload_certs "$G" "$CERTS"
    NOTE[preload]="$(($(date +%s) - t0)) s"
    NOTE[dbsize]=$(du -sh "$G/cmpca.db" | cut -f1)
    server_start "$G" "$NPROC"
    load_run g-certs "$G" ec-p256 "$DEVICES" 64
    server_stop
fi

# ---- reference: the store on tmpfs ------------------------------------------------------
if [ "$DO_TMPFS" = 1 ] && [ -d /dev/shm ] && [ -w /dev/shm ]; then
    SHM_DIR=$(mktemp -d /dev/shm/cmpca-bench.XXXXXX)
    new_ca "$SHM_DIR/ca"
    setup_devices "$SHM_DIR/ca" ec-p256 "$DEVICES" >/dev/null
    server_start "$SHM_DIR/ca" "$NPROC"
    load_run tmpfs "$SHM_DIR/ca" ec-p256 "$DEVICES" 64
    server_stop
fi

. "$ROOT/bench/report.sh"
