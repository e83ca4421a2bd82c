#!/usr/bin/env bash
# restart_certconf: transactions survive a server restart. noroot_client
# receives the ip, then pauses before sending certConf; the test checks the
# certificate is stored as "issued" (waiting), stops the server with SIGTERM,
# starts a new one on the same port, and lets the client go on. The certConf
# must be answered by pkiConf from the new process and the certificate must
# end up "confirmed" - so the transaction (transactionID, nonces, certHash)
# was on disk, not in memory.
. "$(dirname "$0")/lib.sh" "$@"

log "setting up"
ca_init
conf_set cmp implicit_confirm no
pki_root vroot "/O=Acme Vendor/CN=Acme Vendor Root CA"
pki_device dev1 SN0001 vroot
cli vendor add acme "$PKI/vroot.pem" >/dev/null || fail "vendor add failed"
cli device add acme SN0001 >/dev/null || fail "device add failed"
[ -x "$CLIENT" ] || fail "noroot_client binary not given (argument 2)"
server_start
first_port=$PORT

log "enrolling; the client pauses between ip and certConf"
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
    { fail "the client did not get an ip: $(tail -n 5 "$o/client.log" | tr '\n' ' ')"; }

check "the ip was accepted and the certificate waits for certConf"
assert_eq 1 "$(bodytype_of "$o/rsp-1.der")" "first response (ip)"
case $(pkistatus_of "$o/rsp-1.der") in 0 | 1) ;; *) fail "ip status $(pkistatus_of "$o/rsp-1.der")" ;; esac
assert_eq 1 "$(cert_count)" "certificates after the ip"
waiting=$(cli cert list | tail -n +2 | cut -f4)
[ "$waiting" = issued ] || { fail "certificate status before certConf is '$waiting', expected issued"; }

log "restarting the server on port $first_port"
server_stop
server_start "127.0.0.1:$first_port"
assert_eq "$first_port" "$PORT" "port after restart"
touch "$T/pause/go"

client_rc=0
wait "$client_pid" || client_rc=$?
check "the certConf sent to the new server process completed"
[ "$client_rc" -eq 0 ] || fail "noroot_client exited $client_rc: $(tail -n 5 "$o/client.log" | tr '\n' ' ')"
assert_eq 24 "$(bodytype_of "$o/req-2.der")" "second request (certConf)"
assert_eq 19 "$(bodytype_of "$o/rsp-2.der")" "second response (pkiConf)"
check "the certificate is confirmed and the device enrolled"
assert_eq confirmed "$(cert_status "$(serial_of "$o/cert.pem")")" "status after certConf"
assert_eq 1 "$(cert_count)" "certificates at the end"
assert_eq enrolled "$(device_state acme SN0001)" "device state"

server_stop
log "PASS"
