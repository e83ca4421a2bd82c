#!/usr/bin/env bash
# cr_p10cr: an enrolled device asks for more certificates with its operator
# certificate (RFC 9483 4.1.2 cr, 4.1.4 p10cr). A cr gets a cp without caPubs
# holding a new certificate for the same device (the old certificate's
# subject) and the new key; a p10cr carrying a PKCS#10 CSR gets a cp whose
# CertResponse has certReqId -1 and whose certificate holds the CSR's key;
# the subject is the device's, so a CSR asking for another one is answered
# grantedWithMods (docs/config.md, subject = device).
# Both are confirmed by certConf/pkiConf; the earlier certificates stay
# valid (an additional certificate supersedes nothing).
. "$(dirname "$0")/lib.sh" "$@"

# check_cp RUN KEY CERTREQID: a cp accepted and confirmed, no caPubs, a
# certificate for device SN0001 with KEY, confirmed in the store.
check_cp() {
    local run=$1 o=$OUT/$1
    check_certrep "$run" 3 "cp" "$3"
    check "$run: the cp carries no caPubs"
    if has_capubs "$o/rsp1.der"; then fail "$run: the cp carries caPubs"; fi
    check_op_cert "$run" "$o/cert.pem" "$2" "new certificate"
    check "$run: the certificate is for the device (subject of its operator certificate)"
    assert_eq "$(subject_of "$OUT/op/cert.pem")" "$(subject_of "$o/cert.pem")" "$run: subject"
    assert_eq confirmed "$(cert_status "$(serial_of "$o/cert.pem")")" "$run: status of the new certificate"
}

log "setting up"
ca_init
setup_acme dev1=SN0001
server_start

enroll op dev1
assert_cert_count 1 "after the ir"

log "cr signed by the operator certificate"
mkdir -p "$OUT/cr" && genkey "$OUT/cr/new.key"
run_cmp cr cr -cert "$OUT/op/cert.pem" -key "$OUT/op/new.key" -newkey "$OUT/cr/new.key"
expect_ok cr "cr signed by the operator certificate succeeds"
expect_body cr req1 2 "cr"
check_cp cr "$OUT/cr/new.key" 0
check "cr: the first certificate is still valid (confirmed, not in the CRL)"
assert_eq confirmed "$(cert_status "$(serial_of "$OUT/op/cert.pem")")" "cr: status of the first certificate"
assert_cert_count 2 "after the cr"

log "cr signed by the certificate the cr gave (RSA-2048 key)"
mkdir -p "$OUT/cr2" && genkey "$OUT/cr2/new.key" rsa2048
run_cmp cr2 cr -cert "$OUT/cr/cert.pem" -key "$OUT/cr/new.key" -newkey "$OUT/cr2/new.key"
expect_ok cr2 "cr signed by the second certificate succeeds"
check_cp cr2 "$OUT/cr2/new.key" 0
assert_cert_count 3 "after the second cr"

log "p10cr with a CSR for the device's subject, signed by the operator certificate"
mkdir -p "$OUT/p10" && genkey "$OUT/p10/csr.key"
openssl req -new -key "$OUT/p10/csr.key" \
    -subj "$(openssl x509 -in "$OUT/op/cert.pem" -noout -subject -nameopt compat | sed 's/^subject=//')" \
    -out "$OUT/p10/dev.csr" 2>/dev/null || fail "cannot make the CSR"
run_cmp p10 p10cr -csr "$OUT/p10/dev.csr" -cert "$OUT/op/cert.pem" -key "$OUT/op/new.key"
expect_ok p10 "p10cr succeeds"
expect_body p10 req1 4 "p10cr"
check_cp p10 "$OUT/p10/csr.key" -1
assert_cert_count 4 "after the p10cr"

log "p10cr with a CSR asking for another subject: the device's subject, grantedWithMods"
mkdir -p "$OUT/p10b" && genkey "$OUT/p10b/csr.key"
openssl req -new -key "$OUT/p10b/csr.key" -subj "/CN=something-else/O=Elsewhere" \
    -out "$OUT/p10b/dev.csr" 2>/dev/null || fail "cannot make the CSR"
run_cmp p10b p10cr -csr "$OUT/p10b/dev.csr" -cert "$OUT/op/cert.pem" -key "$OUT/op/new.key"
expect_ok p10b "p10cr succeeds"
check "p10b: cp with status grantedWithMods (1), certReqId -1"
expect_body p10b rsp1 3 "cp"
assert_eq 1 "$(pkistatus_of "$OUT/p10b/rsp1.der")" "p10b: PKIStatus"
assert_eq -1 "$(certreqid_of "$OUT/p10b/rsp1.der")" "p10b: certReqId"
check_op_cert p10b "$OUT/p10b/cert.pem" "$OUT/p10b/csr.key" "new certificate"
assert_eq "$(subject_of "$OUT/op/cert.pem")" "$(subject_of "$OUT/p10b/cert.pem")" "p10b: subject"
assert_cert_count 5 "after the second p10cr"

check "five distinct serials, all confirmed"
assert_eq 5 "$(cli cert list | tail -n +2 | cut -f1 | sort -u | wc -l | tr -d ' ')" "distinct serials"
assert_eq 5 "$(cli cert list | tail -n +2 | cut -f4 | grep -c '^confirmed$')" "confirmed certificates"

server_stop
log "PASS"
