#!/usr/bin/env bash
# ir_basic: 3GPP initial enrollment with the real `openssl cmp` client.
# A registered device authenticates with its vendor certificate and gets an
# operator certificate: the certificate chains to the operator root the
# client received in caPubs, carries the client's new key and a subject
# derived from the vendor identity, is confirmed by certConf/pkiConf and is
# recorded in the store; the device is then "enrolled". Variants: a vendor
# intermediate sent in extraCerts (only the vendor root is configured) and an
# RSA-2048 new key (keyEncipherment appears for RSA only).
. "$(dirname "$0")/lib.sh" "$@"

# check_enrolled RUN SERIAL KEYTYPE: everything an enrolled device must have.
check_enrolled() {
    local run=$1 serial=$2 ktype=$3 o=$OUT/$1 text ser

    check "$run: openssl cmp succeeded"
    [ "$RUN_RC" -eq 0 ] || fail "$run: openssl cmp exited $RUN_RC: $(grep -m3 'error' "$o/client.log" | tr '\n' ' ')"
    [ -s "$o/cert.pem" ] || fail "$run: no certificate written by -certout"

    check "$run: ip (body 1) accepted, then certConf answered by pkiConf (body 19)"
    assert_eq 1 "$(bodytype_of "$o/rsp1.der")" "$run: first response body type"
    case $(pkistatus_of "$o/rsp1.der") in
    0 | 1) ;;
    *) fail "$run: ip PKIStatus is '$(pkistatus_of "$o/rsp1.der")', expected accepted/grantedWithMods" ;;
    esac
    [ -s "$o/req2.der" ] || fail "$run: the client sent no certConf"
    assert_eq 24 "$(bodytype_of "$o/req2.der")" "$run: second request body type (certConf)"
    assert_eq 19 "$(bodytype_of "$o/rsp2.der")" "$run: second response body type (pkiConf)"
    [ ! -e "$o/req3.der" ] || fail "$run: a third request was sent"

    check "$run: caPubs holds exactly the operator root"
    assert_eq 1 "$(pem_count "$o/capubs.pem")" "$run: certificates in caPubs"
    assert_eq "$(fingerprint "$D/root.pem")" "$(fingerprint "$o/capubs.pem")" "$run: caPubs fingerprint"

    check "$run: extraCerts start with the issuing CA and include the root"
    assert_eq "$(fingerprint "$D/ca.pem")" "$(fingerprint "$o/extra.pem" 1)" "$run: extraCerts[0]"
    local i found=0 root_fp
    root_fp=$(fingerprint "$D/root.pem")
    for i in $(seq "$(pem_count "$o/extra.pem")"); do
        [ "$(fingerprint "$o/extra.pem" "$i")" = "$root_fp" ] && found=1
    done
    assert_eq 1 "$found" "$run: operator root present in extraCerts"

    check "$run: the certificate verifies against caPubs (extraCerts, then ca export --chain, as intermediates)"
    openssl verify -CAfile "$o/capubs.pem" -untrusted "$o/extra.pem" "$o/cert.pem" >"$o/verify.log" 2>&1 ||
        fail "$run: openssl verify with extraCerts: $(cat "$o/verify.log")"
    openssl verify -CAfile "$o/capubs.pem" -untrusted "$T/chain.pem" "$o/cert.pem" >"$o/verify.log" 2>&1 ||
        fail "$run: openssl verify with ca export --chain: $(cat "$o/verify.log")"
    assert_eq "$(openssl x509 -in "$D/ca.pem" -noout -subject | sed 's/^subject=//')" \
        "$(openssl x509 -in "$o/cert.pem" -noout -issuer | sed 's/^issuer=//')" "$run: issuer is the issuing CA"

    check "$run: the certificate holds the client's new public key"
    assert_eq "$(pubkey_of "$o/new.key")" "$(pubkey_of "$o/cert.pem")" "$run: public key"

    check "$run: the subject contains the device serial $serial"
    subject_has "$o/cert.pem" "$serial" ||
        fail "$run: subject '$(subject_of "$o/cert.pem")' lacks $serial"

    check "$run: end-entity extensions for a $ktype key"
    text=$(openssl x509 -in "$o/cert.pem" -noout -text)
    grep -q 'Digital Signature' <<<"$text" || fail "$run: keyUsage lacks digitalSignature"
    if grep -q 'CA:TRUE' <<<"$text"; then fail "$run: certificate is a CA"; fi
    if grep -q 'Certificate Sign' <<<"$text"; then fail "$run: keyUsage allows keyCertSign"; fi
    case $ktype in
    ec) if grep -q 'Key Encipherment' <<<"$text"; then fail "$run: keyEncipherment on an EC key"; fi ;;
    rsa) grep -q 'Key Encipherment' <<<"$text" || fail "$run: keyUsage lacks keyEncipherment for RSA" ;;
    esac

    check "$run: cmpca cert list shows the certificate as confirmed"
    ser=$(serial_of "$o/cert.pem")
    assert_eq confirmed "$(cert_status "$ser")" "$run: status of $ser"
    cli cert show "$ser" >"$o/show.txt" 2>&1 || fail "$run: cmpca cert show $ser failed"
    grep -q -- "$serial" "$o/show.txt" || fail "$run: cmpca cert show does not mention $serial"

    check "$run: device $serial is enrolled"
    assert_eq enrolled "$(device_state acme "$serial")" "$run: device state"
}

log "setting up the operator CA and the vendor PKI"
ca_init
pki_root vroot "/O=Acme Vendor/CN=Acme Vendor Root CA"
pki_inter vint "/O=Acme Vendor/CN=Acme Vendor Issuing CA" vroot
pki_device dev1 SN0001 vroot
pki_device dev2 SN0002 vint
pki_device dev3 SN0003 vroot
cli vendor add acme "$PKI/vroot.pem" >/dev/null || fail "vendor add failed"
cli device add acme SN0001 SN0002 SN0003 >/dev/null || fail "device add failed"
grep -q '^acme' <<<"$(cli vendor list)" || fail "vendor list does not show acme"
check "devices start registered; device list has its header"
assert_eq "$(printf 'VENDOR\tSERIAL\tSTATE\tAPPROVAL')" "$(cli device list | sed -n 1p)" "device list header"
assert_eq registered "$(device_state acme SN0001)" "state of SN0001 before enrollment"
assert_eq 0 "$(cert_count)" "certificates before enrollment"

check "cmpca ca export: --root equals root.pem, --chain is issuing CA then root"
cli ca export --root >"$T/root-export.pem" || fail "ca export --root failed"
assert_eq "$(fingerprint "$D/root.pem")" "$(fingerprint "$T/root-export.pem")" "ca export --root"
cli ca export --chain >"$T/chain.pem" || fail "ca export --chain failed"
assert_eq 2 "$(pem_count "$T/chain.pem")" "certificates in ca export --chain"
assert_eq "$(fingerprint "$D/ca.pem")" "$(fingerprint "$T/chain.pem" 1)" "ca export --chain [0]"
assert_eq "$(fingerprint "$D/root.pem")" "$(fingerprint "$T/chain.pem" 2)" "ca export --chain [1]"

server_start

log "enrollment A: device certificate issued by the vendor root, EC P-256 new key"
# the requested subject lacks the serial: the CA must derive it (default)
run_ir a dev1 -subject "/CN=eNodeB"
check_enrolled a SN0001 ec
assert_eq 1 "$(cert_count)" "certificates after enrollment A"

log "enrollment B: device certificate issued by a vendor intermediate sent in extraCerts"
run_ir b dev2 -subject "/CN=eNodeB" -extracerts "$PKI/vint.pem"
check_enrolled b SN0002 ec
assert_eq 2 "$(cert_count)" "certificates after enrollment B"

log "enrollment C: RSA-2048 new key"
mkdir -p "$OUT/c"
genkey "$OUT/c/new.key" rsa2048
run_ir c dev3 -newkey "$OUT/c/new.key"
check_enrolled c SN0003 rsa
assert_eq 3 "$(cert_count)" "certificates after enrollment C"

check "the three certificates have distinct serials"
assert_eq 3 "$(for r in a b c; do serial_of "$OUT/$r/cert.pem"; done | sort -u | wc -l | tr -d ' ')" "distinct serials"

check "the audit log records the decisions and its chain verifies"
audit=$(cli audit show --device acme/SN0001) || fail "audit show failed"
grep -qP '\tir\tissued\t' <<<"$audit" || fail "no 'ir issued' entry for SN0001: $audit"
grep -qP '\tcertConf\tconfirmed\t' <<<"$audit" || fail "no 'certConf confirmed' entry for SN0001: $audit"
grep -q "device acme/SN0001" <<<"$audit" || fail "the device is not named as actor: $audit"
cli audit verify >/dev/null || fail "audit verify failed"

server_stop
log "PASS"
