#!/usr/bin/env bash
# smoke.sh: cmpca-load against a fresh `cmpca serve` (CTest load.smoke).
# Three short runs: 20 irs from 4 workers over 20 devices; 8 irs by devices
# with no pre-provisioned operator root; 8 kurs (after one ir per device).
# Each must report zero errors and exit 0, and the store must then hold
# exactly the certificates the runs claim, every one confirmed.
#
# Usage: smoke.sh CMPCA_BINARY CMPCA_LOAD_BINARY
set -euo pipefail

CMPCA=${1:?usage: $0 CMPCA CMPCA_LOAD}
LOAD=${2:?usage: $0 CMPCA CMPCA_LOAD}
case $CMPCA in /*) ;; *) CMPCA=$PWD/$CMPCA ;; esac
case $LOAD in /*) ;; *) LOAD=$PWD/$LOAD ;; esac
T=$(mktemp -d "${TMPDIR:-/tmp}/cmpca-load-smoke.XXXXXX")
D=$T/ca
SERVER_PID=""
export OPENSSL_CONF=/dev/null

cleanup() {
    local rc=$?
    if [ -n "$SERVER_PID" ]; then
        kill -TERM "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    if [ $rc -ne 0 ] && [ -f "$T/server.log" ]; then
        echo "---- server log (last lines) ----" >&2
        tail -n 20 "$T/server.log" >&2
    fi
    rm -rf "$T"
    exit $rc
}
trap cleanup EXIT

fail() {
    echo "load.smoke: FAIL: $*" >&2
    exit 1
}

# field LOGFILE KEY: a value of cmpca-load's "result:" line.
field() {
    sed -n 's/^result: .*\<'"$2"'=\([^ ]*\).*/\1/p' "$1"
}

# run NAME [cmpca-load options]: one run that must succeed with zero errors.
run() {
    local name=$1 rc=0
    shift
    "$LOAD" --url "$URL" --cache "$T/cache" --cmpca "$CMPCA" --dir "$D" \
        --server-pid "$SERVER_PID" --timeout 20 "$@" >"$T/$name.out" 2>"$T/$name.err" || rc=$?
    cat "$T/$name.out"
    [ $rc -eq 0 ] || fail "$name: cmpca-load exited $rc: $(tail -n 5 "$T/$name.err" "$T/$name.out" | tr '\n' ' ')"
    [ "$(field "$T/$name.out" failed)" = 0 ] || fail "$name: failures reported"
    grep -q '^errors by failInfo: none$' "$T/$name.out" || fail "$name: errors listed"
}

"$CMPCA" init --dir "$D" >/dev/null 2>&1 || fail "cmpca init"
"$CMPCA" serve --dir "$D" --listen 127.0.0.1:0 --threads 2 >"$T/server.out" 2>"$T/server.log" &
SERVER_PID=$!
for _ in $(seq 100); do
    [ "$(wc -l <"$T/server.out")" -ge 1 ] && break
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.1
done
line=$(head -n 1 "$T/server.out")
[[ $line =~ ^cmpca:\ listening\ on\ (http://127\.0\.0\.1:[0-9]+/\.well-known/cmp)$ ]] ||
    fail "server did not start: '$line'"
URL=${BASH_REMATCH[1]}

run ir --devices 20 --workers 4 --count 20
[ "$(field "$T/ir.out" ok)" = 20 ] || fail "ir: expected ok=20"
# workers share the 20 enrollments unevenly, so count what the store says:
# 20 certificates, and every device that got one (and no other) enrolled
"$CMPCA" cert list --dir "$D" | tail -n +2 >"$T/certs1.txt"
[ "$(wc -l <"$T/certs1.txt")" = 20 ] || fail "ir: expected 20 certificates, store has $(wc -l <"$T/certs1.txt")"
"$CMPCA" device list --dir "$D" >"$T/devices.txt"
with_cert=$(cut -f2 "$T/certs1.txt" | sed 's/^serialNumber=\([^,]*\),.*/\1/' | sort -u)
enrolled=$(awk -F '\t' '$1 ~ /^load-ec-p256-/ && $3 == "enrolled" { print $2 }' "$T/devices.txt" | sort)
if [ -z "$enrolled" ] || [ "$with_cert" != "$enrolled" ]; then
    fail "ir: enrolled devices ($(tr '\n' ' ' <<<"$enrolled")) differ from those with a certificate ($(tr '\n' ' ' <<<"$with_cert"))"
fi
cpu=$(field "$T/ir.out" server_cpu_us)
awk -v c="$cpu" 'BEGIN { exit !(c > 0) }' || fail "ir: no server CPU time measured ($cpu)"

run noroot --devices 20 --workers 4 --count 8 --no-root
[ "$(field "$T/noroot.out" ok)" = 8 ] || fail "noroot: expected ok=8"

run kur --devices 20 --workers 4 --count 8 --kur
[ "$(field "$T/kur.out" ok)" = 8 ] || fail "kur: expected ok=8"

# 20 + 8 irs, 20 irs preparing the kur run, 8 kurs
"$CMPCA" cert list --dir "$D" | tail -n +2 >"$T/certs.txt"
[ "$(wc -l <"$T/certs.txt")" = 56 ] || fail "expected 56 certificates, store has $(wc -l <"$T/certs.txt")"
if awk -F '\t' '$4 == "issued" || $4 == "rejected"' "$T/certs.txt" | grep -q .; then
    fail "unconfirmed or rejected certificates in the store"
fi

kill -TERM "$SERVER_PID"
wait "$SERVER_PID" || fail "server exited non-zero"
SERVER_PID=""
if grep -Eq 'AddressSanitizer|runtime error:| ERROR ' "$T/server.log"; then
    fail "errors in the server log: $(grep -Em1 'AddressSanitizer|runtime error:| ERROR ' "$T/server.log")"
fi
echo "load.smoke: PASS"
