#!/usr/bin/env bash
# ir_implicit_confirm: implicitConfirm (RFC 4210 5.1.1.1) is granted only
# when the client asks and the configuration allows it. Granted: the ip
# carries implicitConfirm, the client sends exactly one request, and the
# certificate is confirmed without certConf. With `implicit_confirm = no` the
# same request still enrolls, but the ip does not grant it, the client sends
# certConf, and the certificate is confirmed only through it.
. "$(dirname "$0")/lib.sh" "$@"

has_implicit_confirm() {
    grep -q 'id-it-implicitConfirm' <<<"$(asn1_lines "$1")"
}

log "setting up"
ca_init
pki_root vroot "/O=Acme Vendor/CN=Acme Vendor Root CA"
pki_device dev1 SN0001 vroot
pki_device dev2 SN0002 vroot
cli vendor add acme "$PKI/vroot.pem" >/dev/null || fail "vendor add failed"
cli device add acme SN0001 SN0002 >/dev/null || fail "device add failed"
conf_set cmp implicit_confirm yes

server_start
log "A: implicit_confirm = yes, client asks for it"
run_ir a dev1 -implicit_confirm
check "A: enrollment succeeded"
[ "$RUN_RC" -eq 0 ] || fail "A: openssl cmp exited $RUN_RC: $(grep -m3 error "$OUT/a/client.log" | tr '\n' ' ')"
[ -s "$OUT/a/cert.pem" ] || fail "A: no certificate"
check "A: the ir asked for implicitConfirm and the ip granted it"
has_implicit_confirm "$OUT/a/req1.der" || fail "A: (client) ir without implicitConfirm"
assert_eq 1 "$(bodytype_of "$OUT/a/rsp1.der")" "A: response body type (ip)"
has_implicit_confirm "$OUT/a/rsp1.der" || fail "A: ip header does not grant implicitConfirm"
check "A: exactly one request was sent (no certConf)"
[ ! -e "$OUT/a/req2.der" ] || fail "A: a second request ($(bodytype_of "$OUT/a/req2.der")) was sent"
assert_no_grep "$OUT/a/client.log" 'sending CERTCONF' "A: client log"
check "A: the certificate is confirmed in the store"
assert_eq confirmed "$(cert_status "$(serial_of "$OUT/a/cert.pem")")" "A: status"
assert_eq enrolled "$(device_state acme SN0001)" "A: device state"
server_stop

log "B: implicit_confirm = no, client still asks for it"
conf_set cmp implicit_confirm no
server_start
run_ir b dev2 -implicit_confirm
check "B: enrollment succeeded"
[ "$RUN_RC" -eq 0 ] || fail "B: openssl cmp exited $RUN_RC: $(grep -m3 error "$OUT/b/client.log" | tr '\n' ' ')"
check "B: the ip does not grant implicitConfirm"
has_implicit_confirm "$OUT/b/req1.der" || fail "B: (client) ir without implicitConfirm"
if has_implicit_confirm "$OUT/b/rsp1.der"; then fail "B: ip grants implicitConfirm although the config forbids it"; fi
check "B: two requests were sent: ir, then certConf answered by pkiConf"
[ -s "$OUT/b/req2.der" ] || fail "B: no certConf was sent"
assert_eq 24 "$(bodytype_of "$OUT/b/req2.der")" "B: second request body type (certConf)"
assert_eq 19 "$(bodytype_of "$OUT/b/rsp2.der")" "B: second response body type (pkiConf)"
[ ! -e "$OUT/b/req3.der" ] || fail "B: a third request was sent"
check "B: the certificate is confirmed in the store"
assert_eq confirmed "$(cert_status "$(serial_of "$OUT/b/cert.pem")")" "B: status"
assert_eq 2 "$(cert_count)" "certificates in the store"
server_stop
log "PASS"
