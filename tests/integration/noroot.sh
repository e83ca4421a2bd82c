#!/usr/bin/env bash
# noroot: a device with no operator root provisioned (3GPP TS 33.310
# 9.5.4.3). noroot_client starts with an empty trust store and OpenSSL's
# OSSL_CMP_OPT_PERMIT_TA_IN_EXTRACERTS_FOR_IR, so it can only accept the ip if
# the server puts its signing certificate and the self-signed operator root in
# extraCerts, and the new certificate chains to that root. The test then
# checks that the root the device learned is cmpca's root.pem and that the
# certificate verifies against it. Run with implicitConfirm and, separately,
# with certConf (the client installs the caPubs root after accepting the ip,
# so it can verify the pkiConf).
. "$(dirname "$0")/lib.sh" "$@"

# check_noroot RUN SERIAL
check_noroot() {
    local run=$1 serial=$2 o=$OUT/$1
    check "$run: noroot_client enrolled with an empty trust store"
    [ "$RUN_RC" -eq 0 ] || fail "$run: noroot_client exited $RUN_RC: $(tail -n 5 "$o/client.log" | tr '\n' ' ')"
    [ -s "$o/cert.pem" ] || fail "$run: no certificate written"
    check "$run: the root learned from caPubs is cmpca's root.pem"
    assert_eq 1 "$(pem_count "$o/capubs.pem")" "$run: certificates in caPubs"
    assert_eq "$(fingerprint "$D/root.pem")" "$(fingerprint "$o/capubs.pem")" "$run: caPubs fingerprint"
    check "$run: the certificate chains to that root"
    openssl verify -CAfile "$o/capubs.pem" -untrusted "$o/extra.pem" "$o/cert.pem" >"$o/verify.log" 2>&1 ||
        fail "$run: openssl verify: $(cat "$o/verify.log")"
    check "$run: the certificate is for $serial, with the new key, confirmed"
    subject_has "$o/cert.pem" "$serial" ||
        fail "$run: subject lacks $serial"
    assert_eq "$(pubkey_of "$o/new.key")" "$(pubkey_of "$o/cert.pem")" "$run: public key"
    assert_eq confirmed "$(cert_status "$(serial_of "$o/cert.pem")")" "$run: status"
}

log "setting up"
ca_init
pki_root vroot "/O=Acme Vendor/CN=Acme Vendor Root CA"
pki_inter vint "/O=Acme Vendor/CN=Acme Vendor Issuing CA" vroot
pki_device dev1 SN0001 vroot
pki_device dev2 SN0002 vint
cli vendor add acme "$PKI/vroot.pem" >/dev/null || fail "vendor add failed"
cli device add acme SN0001 SN0002 >/dev/null || fail "device add failed"
conf_set cmp implicit_confirm yes
server_start

log "A: implicitConfirm, vendor root issued the device certificate"
mkdir -p "$OUT/a"
genkey "$OUT/a/new.key"
run_noroot a --cert "$PKI/dev1.pem" --key "$PKI/dev1.key" --newkey "$OUT/a/new.key" \
    --implicit-confirm --certout "$OUT/a/cert.pem" --cacertsout "$OUT/a/capubs.pem" \
    --extracertsout "$OUT/a/extra.pem" --trace "$OUT/a"
check_noroot a SN0001
check "A: one exchange only"
[ ! -e "$OUT/a/req-2.der" ] || fail "A: a second request was sent"

log "B: certConf/pkiConf, device certificate from a vendor intermediate"
mkdir -p "$OUT/b"
genkey "$OUT/b/new.key"
run_noroot b --cert "$PKI/dev2.pem" --key "$PKI/dev2.key" --chain "$PKI/vint.pem" \
    --newkey "$OUT/b/new.key" --certout "$OUT/b/cert.pem" --cacertsout "$OUT/b/capubs.pem" \
    --extracertsout "$OUT/b/extra.pem" --trace "$OUT/b"
check_noroot b SN0002
check "B: certConf answered by pkiConf"
assert_eq 24 "$(bodytype_of "$OUT/b/req-2.der")" "B: second request (certConf)"
assert_eq 19 "$(bodytype_of "$OUT/b/rsp-2.der")" "B: second response (pkiConf)"

server_stop
log "PASS"
