#!/bin/bash
# valgrind.sh: memcheck where ASan cannot look. The sanitizer build (`make
# asan`) already runs every test; this runs the real server of the
# integration tests, and some unit tests, under valgrind's memcheck in a
# build without sanitizers (the two do not mix), and fails on any memory
# error and on any definite or indirect leak, in particular one left at the
# server's shutdown: tests/integration/lib.sh starts `cmpca serve` behind
# $CMPCA_SERVER_WRAPPER and stops it with SIGTERM, so valgrind sees the
# normal exit path. `make valgrind` calls it.
#
#   scripts/valgrind.sh [--build DIR] [--jobs N] [--all] [--no-build]
#                       [--integration "ir_basic kur"] [--unit "asn1 mac"]
#
# --all runs every integration test and every unit test (about 25 minutes
# on 2 cores; the default subset about 8). Extra valgrind options can go in
# $VALGRIND_OPTS (valgrind reads it itself), e.g. --track-origins=yes.
# The logs stay in DIR/valgrind/<test>/*.log. Exits 1 when a test failed
# or a valgrind log reports an error or has no summary (process killed).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

BUILD=${VALGRIND_BUILD:-build-valgrind}
JOBS=${VALGRIND_JOBS:-$(nproc)}
DO_BUILD=1
# Integration tests run by default: every protocol path (ir, cr/p10cr, kur,
# rr and CRLs, genm, polling, MAC, RA and nested, HTTPS, rejections, restart)
# at least once. Left out: concurrent (32 enrollments, the same code paths
# as ir_basic, 2-3 minutes under valgrind), profiles (RSA key generation
# per case, slow under valgrind, code paths covered by cr_p10cr and genm),
# slowloris and txn_expiry (they time the server: valgrind's slowdown
# makes them measure valgrind). --all or --integration runs them too.
INTEGRATION="ir_basic ir_implicit_confirm ir_rejections http_errors noroot
    restart_certconf kur cr_p10cr rr_crl genm approval lifecycle_rejections
    certconf_reject https mac ra nested"
INTEGRATION_ALL="$INTEGRATION concurrent profiles slowloris txn_expiry"
# Unit tests run by default: the decoders and everything fed by a client
# (asn1, genm, mac, config, policy) plus the SQLite store and transport.
# Left out: ca, ca_crl and profile (2-3 minutes each under valgrind, mostly
# key generation inside libcrypto) and store, which --all runs.
UNIT="asn1 config genm mac policy seal store_approval store_audit store_ra
    store_revoke store_secret transport transport_crl transport_tls"
UNIT_ALL="$UNIT ca ca_crl profile store"

while [ $# -gt 0 ]; do
    case $1 in
    --build) BUILD=$2; shift 2 ;;
    --jobs) JOBS=$2; shift 2 ;;
    --all) INTEGRATION=$INTEGRATION_ALL; UNIT=$UNIT_ALL; shift ;;
    --integration) INTEGRATION=$2; shift 2 ;;
    --unit) UNIT=$2; shift 2 ;;
    --no-build) DO_BUILD=0; shift ;;
    -h | --help) sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "valgrind.sh: unknown option $1" >&2; exit 2 ;;
    esac
done
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
LOGS=$BUILD/valgrind
case $LOGS in *[[:space:]]*)
    # the wrapper is split into words by lib.sh
    echo "valgrind.sh: the build path must not contain blanks: $LOGS" >&2
    exit 2 ;;
esac

# ---- tools and build ---------------------------------------------------------

scripts/deps.sh
if ! command -v valgrind >/dev/null; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "valgrind.sh: valgrind is missing (run as root, or install it)" >&2
        exit 1
    fi
    echo "valgrind.sh: installing valgrind" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q >&2
    apt-get install -y -q valgrind >&2
fi

if [ $DO_BUILD = 1 ]; then
    if [ -f "$BUILD/CMakeCache.txt" ] &&
        grep -q '^CMPCA_SANITIZE:BOOL=ON' "$BUILD/CMakeCache.txt"; then
        echo "valgrind.sh: $BUILD is a sanitizer build; valgrind needs its own" >&2
        exit 2
    fi
    # Debug: -O0 -g, so leak and error stacks name every frame
    cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Debug -DCMPCA_WERROR=ON \
        -DCMPCA_SANITIZE=OFF >/dev/null
    targets=(cmpca noroot_client nested_client)
    for u in $UNIT; do targets+=("test_$u"); done
    cmake --build "$BUILD" -j "$(nproc)" --target "${targets[@]}" >/dev/null
fi

# shellcheck disable=SC2054 # the commas are valgrind's, not array syntax
VG=(valgrind --leak-check=full --show-leak-kinds=definite,indirect
    --errors-for-leak-kinds=definite,indirect --error-exitcode=99
    --num-callers=30 --child-silent-after-fork=yes)

# ---- one test ------------------------------------------------------------------

# vg_verdict DIR: checks every valgrind log in DIR; prints problems, returns
# 1 if any log reports an error or lacks its summary (a killed process).
vg_verdict() {
    local f n bad=0
    for f in "$1"/*.log; do
        [ -e "$f" ] || continue
        n=$(sed -n 's/.*ERROR SUMMARY: \([0-9]*\) errors.*/\1/p' "$f" | tail -n 1)
        if [ -z "$n" ]; then
            echo "  $f: no ERROR SUMMARY (the process did not exit normally)"
            bad=1
        elif [ "$n" != 0 ]; then
            echo "  $f: $n errors"
            grep -E 'definitely lost|indirectly lost|Invalid|uninitialised|Mismatched' "$f" |
                head -n 5 | sed 's/^/    /'
            bad=1
        fi
    done
    return $bad
}

# run_one KIND NAME: runs one test; writes "KIND.NAME RESULT SECONDS" to
# $LOGS/KIND.NAME/result, its output to $LOGS/KIND.NAME/output.
run_one() {
    local kind=$1 name=$2 dir=$LOGS/$1.$2 rc=0 start result
    mkdir -p "$dir"
    start=$(date +%s)
    if [ "$kind" = integration ]; then
        CMPCA_SERVER_WRAPPER="${VG[*]} --log-file=$dir/server-%p.log" \
            bash "tests/integration/$name.sh" "$BUILD/cmpca" \
            "$BUILD/tests/noroot_client" "$BUILD/tests/nested_client" \
            >"$dir/output" 2>&1 || rc=$?
    else
        (cd "$BUILD/tests" && "${VG[@]}" --log-file="$dir/unit-%p.log" \
            "./test_$name") >"$dir/output" 2>&1 || rc=$?
    fi
    if [ $rc = 77 ]; then
        result=skipped
    elif [ $rc != 0 ]; then
        result="failed(exit-$rc)"
    else
        result=passed
    fi
    if [ $rc != 77 ] && ! vg_verdict "$dir" >"$dir/verdict"; then
        result=valgrind-errors
    fi
    echo "$kind.$name $result $(($(date +%s) - start))" >"$dir/result"
}

# ---- all of them -----------------------------------------------------------------

rm -rf "$LOGS"
mkdir -p "$LOGS"
T0=$(date +%s)
ran=()
for t in $UNIT; do ran+=("unit $t"); done
for t in $INTEGRATION; do ran+=("integration $t"); done
running=0
for t in "${ran[@]}"; do
    echo "valgrind: ${t/ /.}" >&2
    # shellcheck disable=SC2086 # "KIND NAME"
    run_one $t &
    running=$((running + 1))
    if [ $running -ge "$JOBS" ]; then
        wait -n || true
        running=$((running - 1))
    fi
done
wait

pass=0 fail=0 skip=0
printf '\n%-36s %-18s %s\n' TEST RESULT SECONDS
for t in "${ran[@]}"; do
    t=${t/ /.}
    name=$t result=no-result secs=0
    [ ! -f "$LOGS/$t/result" ] || read -r name result secs <"$LOGS/$t/result"
    printf '%-36s %-18s %s\n' "$name" "$result" "$secs"
    case $result in
    passed) pass=$((pass + 1)) ;;
    skipped) skip=$((skip + 1)) ;;
    *)
        fail=$((fail + 1))
        cat "$LOGS/$t/verdict" 2>/dev/null || true
        [ "$result" = valgrind-errors ] || tail -n 15 "$LOGS/$t/output" | sed 's/^/    /'
        ;;
    esac
done
echo "valgrind: $(($(date +%s) - T0)) s, logs in $LOGS"
echo "$pass passed, $fail failed, $skip skipped"
[ $fail -eq 0 ]
