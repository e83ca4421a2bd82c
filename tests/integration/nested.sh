#!/usr/bin/env bash
# nested: an RA's nested messages (RFC 9483 5.2.2), built by nested_client
# (OpenSSL 3.0's client cannot send them) around irs that `openssl cmp`
# saved without sending (-reqout, see save_req in lib.sh), each with
# -implicit_confirm so no certConf is needed afterwards.
#   a batch of three device irs (two registered, one unregistered serial)
#     -> a nested answer with three ips in the same order: two accepted
#        with the devices' certificates, one rejection notAuthorized; the
#        two certificates are confirmed in the store
#   the same batch again -> the two admitted irs refused as replays of their
#     transactionIDs (transactionIdInUse); the unregistered device's ir was
#     never trusted, so nothing of it was recorded: notAuthorized again
#   a batch of the RA's own RA-mode irs -> two ips accepted
#   one device ir with the RA's added protection, at /nested -> one ip
#   a nested message signed by a certificate that is no RA (self-signed,
#     or a registered device's vendor certificate) -> error notAuthorized
#   a nested message whose protection does not verify -> error badMessageCheck
# Every answer, outer and inner, is signed by the CA (checked against
# root.pem) and echoes the senderNonce of the message it answers.
. "$(dirname "$0")/lib.sh" "$@"
NESTED_CLIENT=${3:-}
case $NESTED_CLIENT in /* | "") ;; *) NESTED_CLIENT=$PWD/$NESTED_CLIENT ;; esac

# device_req RUN DEVICE SERIAL: an ir of DEVICE (vendor-signed, asking for
# the subject the CA gives SERIAL, implicitConfirm) saved as
# $OUT/RUN/req.der; its new key is $OUT/RUN/new.key.
device_req() {
    save_req "$1" ir -cert "$PKI/$2.pem" -key "$PKI/$2.key" -trusted "$D/root.pem" \
        -subject "/CN=$3/serialNumber=$3" -implicit_confirm
}

# expect_outer RUN BODY WHAT: nested_client of RUN got an outer answer of
# body BODY, signed by the CA, echoing the transactionID and senderNonce.
expect_outer() {
    check "$1: $3: the outer answer is $2, CA-signed, same transactionID, recipNonce = our senderNonce"
    [ "$RUN_RC" -eq 0 ] || fail "$1: nested_client exited $RUN_RC: $(tr '\n' ' ' <"$OUT/$1/client.log")"
    assert_eq "$2" "$(nested_field "$1" outer body)" "$1: outer body"
    assert_eq ok "$(nested_field "$1" outer protection)" "$1: outer protection"
    assert_eq ok "$(nested_field "$1" outer tid)" "$1: outer transactionID"
    assert_eq ok "$(nested_field "$1" outer nonce)" "$1: outer recipNonce"
}

# expect_outer_reject RUN FAILINFO WHAT: the outer answer is an error with
# status rejection and exactly FAILINFO, and no inner answer came back.
expect_outer_reject() {
    expect_outer "$1" error "$3"
    assert_eq 2 "$(nested_field "$1" outer status)" "$1: outer PKIStatus"
    assert_eq "$2" "$(nested_field "$1" outer failInfo)" "$1: outer failInfo"
    assert_eq "$2" "$(failinfo_of "$OUT/$1/rsp.der")" "$1: failInfo decoded from rsp.der by lib.sh"
    assert_eq 0 "$(nested_inner_count "$1")" "$1: inner answers"
}

# expect_inner_ip RUN N REQRUN SERIAL: inner answer N of RUN is an accepted
# ip for the request of REQRUN: CA-signed, echoing its senderNonce, with a
# certificate of SERIAL for REQRUN's new key, implicitConfirm granted and the
# certificate confirmed in the store.
expect_inner_ip() {
    local run=$1 n=$2 o=$OUT/$1 cert=$OUT/$1/cert-$2.pem
    check "$run: inner $n is an accepted ip for $4, CA-signed, echoing its request's senderNonce"
    assert_eq ip "$(nested_field "$run" "$n" body)" "$run: inner $n body"
    assert_eq ok "$(nested_field "$run" "$n" protection)" "$run: inner $n protection"
    assert_eq ok "$(nested_field "$run" "$n" nonce)" "$run: inner $n recipNonce"
    assert_eq 0 "$(nested_field "$run" "$n" status)" "$run: inner $n PKIStatus"
    assert_eq "$cert" "$(nested_field "$run" "$n" cert)" "$run: inner $n certificate file"
    assert_eq "$(header_nonce "$OUT/$3/req.der" 5)" "$(header_nonce "$o/inner-$n.der" 6)" \
        "$run: inner $n recipNonce (decoded by lib.sh)"
    check_op_cert "$run" "$cert" "$OUT/$3/new.key" "inner $n certificate"
    subject_has "$cert" "serialNumber=$4" || fail "$run: inner $n subject '$(subject_of "$cert")' lacks $4"
    check "$run: inner $n grants implicitConfirm; the certificate is confirmed, $4 enrolled"
    grep -q 'implicitConfirm\|Implicit Confirm' <<<"$(asn1_lines "$o/inner-$n.der")" ||
        fail "$run: inner $n does not grant implicitConfirm"
    assert_eq confirmed "$(cert_status "$(serial_of "$cert")")" "$run: status of the inner $n certificate"
    assert_eq enrolled "$(device_state acme "$4")" "$run: state of acme/$4"
}

# expect_inner_reject RUN N BODY FAILINFO: inner answer N of RUN is BODY
# with status rejection and exactly FAILINFO, CA-signed, and no certificate.
expect_inner_reject() {
    local run=$1 n=$2
    check "$run: inner $n is $3 rejection $4, CA-signed"
    assert_eq "$3" "$(nested_field "$run" "$n" body)" "$run: inner $n body"
    assert_eq ok "$(nested_field "$run" "$n" protection)" "$run: inner $n protection"
    assert_eq ok "$(nested_field "$run" "$n" nonce)" "$run: inner $n recipNonce"
    assert_eq 2 "$(nested_field "$run" "$n" status)" "$run: inner $n PKIStatus"
    assert_eq "$4" "$(nested_field "$run" "$n" failInfo)" "$run: inner $n failInfo"
    assert_eq "$4" "$(failinfo_of "$OUT/$run/inner-$n.der")" "$run: inner $n failInfo decoded by lib.sh"
    assert_eq "" "$(nested_field "$run" "$n" cert)" "$run: inner $n certificate"
}

log "setting up: vendor acme, devices, RA ra1, a self-signed non-RA"
ca_init
setup_acme n1=SN0301 n2=SN0302 n4=SN0304 n6=SN0306
cli device add acme SN0311 SN0312 >/dev/null || fail "device add failed"
pki_device bad SN0399 vroot # a valid vendor certificate, serial not registered
pki_selfsigned ra1 "/O=Example Mobile/CN=RA One"
pki_selfsigned rogue "/O=Example Mobile/CN=Not An RA"
ra_add ra1 "$PKI/ra1.pem" --vendors acme
server_start

log "a batch of three irs: two registered devices, one unregistered serial"
device_req b1 n1 SN0301
device_req b2 bad SN0399
device_req b3 n2 SN0302
check "the saved requests are irs (body 0) asking for implicitConfirm"
for r in b1 b2 b3; do
    assert_eq 0 "$(bodytype_of "$OUT/$r/req.der")" "$r: body type"
done
run_nested batch --cert "$PKI/ra1.pem" --key "$PKI/ra1.key" \
    "$OUT/b1/req.der" "$OUT/b2/req.der" "$OUT/b3/req.der"
expect_outer batch nested "batch of three"
check "batch: the request was a nested message (body 20) signed by ra1 with its certificate in extraCerts"
assert_eq 20 "$(bodytype_of "$OUT/batch/req.der")" "batch: request body type"
assert_eq ecdsa-with-SHA256 "$(protection_alg_of "$OUT/batch/req.der")" "batch: request protectionAlg"
assert_eq 20 "$(bodytype_of "$OUT/batch/rsp.der")" "batch: response body type (decoded by lib.sh)"
assert_eq 3 "$(nested_inner_count batch)" "batch: inner answers"
expect_inner_ip batch 1 b1 SN0301
expect_inner_reject batch 2 ip notAuthorized
expect_inner_ip batch 3 b3 SN0302
assert_cert_count 2 "after the batch"
check "batch: cmpca cert list shows exactly the two certificates, both confirmed"
assert_eq "confirmed confirmed" "$(cli cert list | awk -F '\t' 'NR > 1 { printf "%s%s", sep, $4; sep = " " }')" \
    "batch: statuses in cert list"
assert_eq "" "$(device_state acme SN0399)" "batch: SN0399 is not registered"

log "the same batch again: every inner ir is a replay"
run_nested replay --cert "$PKI/ra1.pem" --key "$PKI/ra1.key" \
    "$OUT/b1/req.der" "$OUT/b2/req.der" "$OUT/b3/req.der"
expect_outer replay nested "replayed batch"
assert_eq 3 "$(nested_inner_count replay)" "replay: inner answers"
for n in 1 3; do
    expect_inner_reject replay "$n" error transactionIdInUse
done
expect_inner_reject replay 2 ip notAuthorized
assert_cert_count 2 "after the replayed batch"

log "a batch of the RA's own RA-mode irs"
for s in SN0311 SN0312; do
    save_req "ra-$s" ir -cert "$PKI/ra1.pem" -key "$PKI/ra1.key" -extracerts "$PKI/ra1.pem" \
        -trusted "$D/root.pem" -subject "/CN=$s/serialNumber=$s" -implicit_confirm
done
run_nested ra-batch --cert "$PKI/ra1.pem" --key "$PKI/ra1.key" \
    "$OUT/ra-SN0311/req.der" "$OUT/ra-SN0312/req.der"
expect_outer ra-batch nested "batch of RA-mode irs"
assert_eq 2 "$(nested_inner_count ra-batch)" "ra-batch: inner answers"
expect_inner_ip ra-batch 1 ra-SN0311 SN0311
expect_inner_ip ra-batch 2 ra-SN0312 SN0312
assert_cert_count 4 "after the RA-mode batch"

log "nested messages from signers that are no RA"
device_req r1 n4 SN0304
run_nested rogue --cert "$PKI/rogue.pem" --key "$PKI/rogue.key" "$OUT/r1/req.der"
expect_outer_reject rogue notAuthorized "signed by a self-signed certificate that is no RA"
run_nested by-device --cert "$PKI/n6.pem" --key "$PKI/n6.key" "$OUT/r1/req.der"
expect_outer_reject by-device notAuthorized "signed by a registered device's vendor certificate"
run_nested tampered --cert "$PKI/ra1.pem" --key "$PKI/ra1.key" --tamper "$OUT/r1/req.der"
expect_outer_reject tampered badMessageCheck "outer protection that does not verify"
assert_cert_count 4 "after the refused nested messages"
assert_eq registered "$(device_state acme SN0304)" "SN0304 after the refused nested messages"

log "one device ir with the RA's added protection, at the /nested operation label"
CMP_PATH=/.well-known/cmp/nested run_nested single --cert "$PKI/ra1.pem" --key "$PKI/ra1.key" "$OUT/r1/req.der"
expect_outer single nested "added protection around one ir"
assert_eq 1 "$(nested_inner_count single)" "single: inner answers"
expect_inner_ip single 1 r1 SN0304
assert_cert_count 5 "after the single request"

server_stop
log "PASS"
