#!/usr/bin/env bash
# certconf_reject: a device that refuses the certificate it received (RFC
# 4210 5.3.18: certConf with status rejection). `openssl cmp -out_trusted`
# with a root that is not ours makes the client unable to verify the new
# certificate, so it sends certConf with a rejecting CertStatus; the server
# answers pkiConf, marks the certificate `rejected` (not confirmed, the device
# not enrolled by it), and lists its serial in the CRL, since a certificate
# that was signed but refused must never be taken as valid. The same for a
# cr and a kur: a rejected kur certificate leaves the old one valid.
. "$(dirname "$0")/lib.sh" "$@"

# check_rejected RUN TYPE: the client rejected the certificate of run RUN
# (TYPE 1 ip, 3 cp, 8 kup) in certConf and the server accepted that.
check_rejected() {
    local run=$1 o=$OUT/$1 ser
    check "$run: the client refused the certificate"
    [ "$RUN_RC" -ne 0 ] || fail "$run: the client accepted a certificate it cannot verify"
    expect_body "$run" rsp1 "$2" "certificate response"
    case $(pkistatus_of "$o/rsp1.der") in
    0 | 1) ;;
    *) fail "$run: PKIStatus of the certificate response is '$(pkistatus_of "$o/rsp1.der")'" ;;
    esac
    check "$run: certConf (24) with status rejection, answered by pkiConf (19)"
    expect_body "$run" req2 24 "certConf"
    assert_eq 2 "$(certconf_status "$o/req2.der")" "$run: CertStatus status in the certConf (2 = rejection)"
    expect_body "$run" rsp2 19 "pkiConf"
    certrep_cert "$o/rsp1.der" "$o/refused.pem" || fail "$run: no certificate in the response"
    ser=$(serial_of "$o/refused.pem")
    check "$run: certificate $ser is rejected and in the CRL"
    assert_eq rejected "$(cert_status "$ser")" "$run: status of $ser"
    crl_fetch "$T/$run.crl" "$run"
    crl_has "$T/$run.crl" "$ser" || fail "$run: $ser is not in the CRL ($(crl_serials "$T/$run.crl" | tr '\n' ' '))"
}

# certconf_status CERTCONF.der: the PKIStatus in the first CertStatus of a
# certConf (empty when absent, i.e. accepted by default).
certconf_status() {
    asn1_lines "$1" | awk "$_ASN1_WALK"'
        d == 1 || top != 2 { next }
        d == 3 { n3++ }
        n3 == 1 && d == 4 { n4++ }
        n3 == 1 && n4 == 3 && d == 5 && /prim: *INTEGER/ && !done { v = $0; sub(/.*INTEGER *:/, "", v); print v + 0; done = 1 }'
}

log "setting up"
ca_init
pki_root stranger "/O=Elsewhere/CN=Some Other Root"
setup_acme dev1=SN0001 dev2=SN0002
server_start

log "ir whose certificate the device refuses"
run_ir ir dev1 -out_trusted "$PKI/stranger.pem"
check_rejected ir 1
assert_eq registered "$(device_state acme SN0001)" "ir: SN0001 is not enrolled by a refused certificate"
assert_cert_count 1 "after the refused ir"

log "SN0002 enrolls, then refuses a cr and a kur certificate"
enroll op dev2
OP=$(serial_of "$OUT/op/cert.pem")
mkdir -p "$OUT/cr" && genkey "$OUT/cr/new.key"
run_cmp cr cr -cert "$OUT/op/cert.pem" -key "$OUT/op/new.key" -newkey "$OUT/cr/new.key" \
    -out_trusted "$PKI/stranger.pem"
check_rejected cr 3
mkdir -p "$OUT/kur" && genkey "$OUT/kur/new.key"
run_cmp kur kur -cert "$OUT/op/cert.pem" -key "$OUT/op/new.key" -newkey "$OUT/kur/new.key" \
    -out_trusted "$PKI/stranger.pem"
check_rejected kur 8
check "kur: the old certificate $OP stays confirmed and out of the CRL"
assert_eq confirmed "$(cert_status "$OP")" "kur: status of $OP"
if crl_has "$T/kur.crl" "$OP"; then fail "kur: $OP is in the CRL"; fi
assert_cert_count 4 "at the end"

server_stop
log "PASS"
