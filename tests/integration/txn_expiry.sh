#!/usr/bin/env bash
# txn_expiry: a certificate whose certConf never comes is revoked once the
# transaction expires (issue 4 item 7). noroot_client receives the ip and
# pauses before certConf; with transaction_expiry = 2 and housekeeping every
# second (crl_refresh = 1) the server must revoke the certificate by itself,
# list it in the served CRL, and refuse the late certConf.
. "$(dirname "$0")/lib.sh" "$@"

log "setting up"
ca_init
conf_set cmp implicit_confirm no
conf_set cmp transaction_expiry 2
conf_set ca crl_refresh 1
pki_root vroot "/O=Acme Vendor/CN=Acme Vendor Root CA"
pki_device dev1 SN0001 vroot
cli vendor add acme "$PKI/vroot.pem" >/dev/null || fail "vendor add failed"
cli device add acme SN0001 >/dev/null || fail "device add failed"
[ -x "$CLIENT" ] || fail "noroot_client binary not given (argument 2)"
server_start

log "enrolling; the client stops between ip and certConf"
o=$OUT/r
mkdir -p "$o" "$T/pause"
genkey "$o/new.key"
"$CLIENT" --server "127.0.0.1:$PORT" --cert "$PKI/dev1.pem" --key "$PKI/dev1.key" \
    --newkey "$o/new.key" --trusted "$D/root.pem" --certout "$o/cert.pem" \
    --trace "$o" --pause-dir "$T/pause" --timeout 60 >"$o/client.log" 2>&1 &
client_pid=$!
EXTRA_PIDS+=("$client_pid")
for _ in $(seq 300); do
    [ -e "$T/pause/ip-received" ] && break
    kill -0 "$client_pid" 2>/dev/null || break
    sleep 0.1
done
[ -e "$T/pause/ip-received" ] ||
    fail "the client did not get an ip: $(tail -n 5 "$o/client.log" | tr '\n' ' ')"
serial=$(cli cert list | tail -n +2 | cut -f1)
assert_eq issued "$(cert_status "$serial")" "status right after the ip"

log "waiting for the transaction to expire"
for _ in $(seq 100); do
    [ "$(cert_status "$serial")" = revoked ] && break
    sleep 0.1
done
check "the never-confirmed certificate is revoked by the server"
assert_eq revoked "$(cert_status "$serial")" "status after transaction_expiry"

check "it is listed in the served CRL"
curl -s -o "$T/crl.der" "http://127.0.0.1:$PORT/crl/ca.crl" || fail "no CRL served"
openssl crl -inform DER -in "$T/crl.der" -noout -text >"$T/crl.txt" 2>&1 ||
    fail "served CRL does not parse"
grep -q "Serial Number: $serial" "$T/crl.txt" ||
    fail "serial $serial not in the served CRL: $(grep 'Serial Number' "$T/crl.txt" | tr '\n' ' ')"

check "the late certConf is refused"
touch "$T/pause/go"
client_rc=0
wait "$client_pid" || client_rc=$?
[ "$client_rc" -ne 0 ] || fail "the client's late certConf was accepted"
assert_eq 24 "$(bodytype_of "$o/req-2.der")" "second request (certConf)"
assert_eq 23 "$(bodytype_of "$o/rsp-2.der")" "answer to the late certConf (error)"
assert_eq badRequest "$(failinfo_of "$o/rsp-2.der")" "failInfo of the late certConf"
assert_eq revoked "$(cert_status "$serial")" "status at the end"

server_stop
log "PASS"
