#!/usr/bin/env bash
# shellcheck disable=SC2034,SC2317 # variables and functions are used in ok's eval
# serve.sh: `cmpca serve` prints the listening line tests parse, stops
# cleanly on SIGTERM/SIGINT, reports bind failures, and `--demo` sets up a
# demo vendor PKI and prints the enrollment command. No CMP traffic here.
# shellcheck source=tests/cli/lib.sh
. "$(dirname "$0")/lib.sh"

export CMPCA_DIR=$T/data
"$CMPCA" init >/dev/null 2>&1 || fail "init failed"
LINE_RE='^cmpca: listening on http://127\.0\.0\.1:[1-9][0-9]*/\.well-known/cmp$'

# wait_for FILE REGEXP: up to 10 s for a line of FILE to match.
wait_for() {
    for _ in $(seq 100); do
        grep -Eq -- "$2" "$1" 2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}

# stop PID SIGNAL: sends SIGNAL, waits up to 10 s; sets $rc to the status.
stop() {
    kill -"$2" "$1" 2>/dev/null
    for _ in $(seq 100); do
        kill -0 "$1" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$1" 2>/dev/null; then
        fail "cmpca serve (pid $1) ignored SIG$2"
        kill -9 "$1"
    fi
    wait "$1"
    rc=$?
}

# start OUT ERR ARGS...: cmpca serve in the background; sets $pid.
start() {
    local out=$1 err=$2
    shift 2
    "$CMPCA" serve "$@" >"$out" 2>"$err" &
    pid=$!
}

start "$T/s1.out" "$T/s1.err" --listen 127.0.0.1:0 --threads 2 --log-level debug
ok "wait_for '$T/s1.out' '$LINE_RE'" "no listening line"
ok "[ \$(wc -l < '$T/s1.out') -eq 1 ]" "serve printed more than one line on stdout"
port=$(sed -n 's|.*127\.0\.0\.1:\([0-9]*\)/.*|\1|p' "$T/s1.out")
ok "(exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null" "nothing accepts on port $port"

# a second server on the same port fails to bind: exit 1, one line
run 1 timeout 20 "$CMPCA" serve --listen "127.0.0.1:$port"
ok "grep -Eq '^cmpca: serve: .*127\.0\.0\.1:$port' '$T/err'" \
    "bind failure: no 'cmpca: serve:' line naming the address"
ok "[ ! -s '$T/out' ]" "a server that could not bind printed on stdout"

stop "$pid" TERM
ok "[ '$rc' = 0 ]" "SIGTERM: exit status $rc, want 0"
ok "[ \"\$(tail -n 1 '$T/s1.err')\" = 'cmpca: stopped' ]" \
    "SIGTERM: last stderr line is not 'cmpca: stopped'"

start "$T/s2.out" "$T/s2.err" --listen 127.0.0.1:0
ok "wait_for '$T/s2.out' '$LINE_RE'" "second start: no listening line"
stop "$pid" INT
ok "[ '$rc' = 0 ] && grep -qx 'cmpca: stopped' '$T/s2.err'" \
    "SIGINT: exit status $rc or no 'cmpca: stopped'"

run 1 "$CMPCA" serve --listen 'not-an-address'
ok "[ \$(wc -l < '$T/err') -eq 1 ] && grep -q '^cmpca: serve: ' '$T/err'" \
    "bad --listen: not one 'cmpca: serve:' line"

# --demo in an empty directory: CA, demo PKI, registration, command
export CMPCA_DIR=$T/demo-data
start "$T/d1.out" "$T/d1.err" --demo --listen 127.0.0.1:0
ok "wait_for '$T/d1.out' '^openssl cmp '" "--demo printed no command"
ok "head -n 1 '$T/d1.out' | grep -Eq '$LINE_RE'" "--demo: first stdout line is not the listening line"
port=$(sed -n '1s|.*127\.0\.0\.1:\([0-9]*\)/.*|\1|p' "$T/d1.out")
cmd=$(sed -n 2p "$T/d1.out")
stop "$pid" TERM
ok "[ '$rc' = 0 ]" "--demo: exit status $rc"
D=$CMPCA_DIR
want="openssl cmp -cmd ir -server http://127.0.0.1:$port/.well-known/cmp -cert $D/demo/device.pem -key $D/demo/device.key -newkey $D/demo/new.key -subject \"/CN=DEMO-0001/serialNumber=DEMO-0001\" -trusted $D/root.pem -certout $D/demo/operator.pem -cacertsout $D/demo/operator-root.pem"
ok "[ \"\$cmd\" = \"\$want\" ]" "--demo command is [$cmd], want [$want]"
for f in root.pem ca.pem ca.key demo/vendor-root.pem demo/device.pem \
    demo/device.key demo/new.key; do
    ok "[ -s '$D/$f' ]" "--demo did not create $f"
done
ok "[ \"\$(stat -c %a '$D/demo/new.key')\" = 600 ]" "new.key is not mode 0600"
ok "openssl verify -CAfile '$D/demo/vendor-root.pem' '$D/demo/device.pem' >/dev/null" \
    "demo device certificate does not verify against the vendor root"
ok "openssl x509 -in '$D/demo/device.pem' -noout -subject -nameopt RFC2253 | grep -qx 'subject=serialNumber=DEMO-0001,CN=Demo eNodeB'" \
    "demo device subject is wrong"
ok "openssl x509 -in '$D/demo/device.pem' -noout -ext basicConstraints,keyUsage | tr -d ' ' | grep -qx 'CA:FALSE'" \
    "demo device certificate is not CA:FALSE"
ok "openssl x509 -in '$D/demo/device.pem' -noout -ext keyUsage | grep -qx ' *Digital Signature'" \
    "demo device keyUsage is not digitalSignature"
ok "openssl x509 -in '$D/demo/vendor-root.pem' -noout -subject | grep -q 'CN = Demo Vendor Root CA'" \
    "demo vendor root subject is wrong"
ok "openssl pkey -in '$D/demo/device.key' -pubout | cmp -s - <(openssl x509 -in '$D/demo/device.pem' -noout -pubkey)" \
    "device.key does not match device.pem"
ok "! cmp -s '$D/demo/new.key' '$D/demo/device.key'" "new.key is the device key"
"$CMPCA" vendor list >"$T/vl" 2>&1
ok "grep -qP '^demo-vendor\tserialNumber\tCN=Demo Vendor Root CA$' '$T/vl'" \
    "demo-vendor not registered"
"$CMPCA" device list demo-vendor >"$T/dl" 2>&1
ok "grep -qP '^demo-vendor\tDEMO-0001\tregistered\tauto$' '$T/dl'" "DEMO-0001 not registered"

# --demo again: same PKI, command printed again
sum=$(sha256sum "$D/demo/device.pem")
start "$T/d2.out" "$T/d2.err" --demo --listen 127.0.0.1:0
ok "wait_for '$T/d2.out' '^openssl cmp .*/demo/device.pem'" "second --demo printed no command"
# the printed command really enrolls the demo device, without modifications
grep '^openssl cmp ' "$T/d2.out" >"$T/enroll.sh" || true
ok "OPENSSL_CONF=/dev/null bash '$T/enroll.sh' >'$T/enroll.log' 2>&1" \
    "the printed demo command did not enroll (see enroll.log)"
ok "! grep -q grantedWithMods '$T/enroll.log'" "demo enrollment was granted with modifications"
ok "openssl verify -CAfile '$D/root.pem' -untrusted '$D/ca.pem' '$D/demo/operator.pem' >/dev/null" \
    "demo operator certificate does not verify against the operator root"
ok "cmp -s '$D/root.pem' '$D/demo/operator-root.pem'" "caPubs root differs from root.pem"
stop "$pid" TERM
ok "[ '$rc' = 0 ]" "second --demo: exit status $rc"
ok "[ \"\$(sha256sum '$D/demo/device.pem')\" = \"\$sum\" ]" "second --demo replaced the demo PKI"
finish
