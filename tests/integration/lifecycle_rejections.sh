#!/usr/bin/env bash
# lifecycle_rejections: kur, cr, p10cr and rr requests the CA must refuse,
# each with a signed rejection carrying exactly the failInfo of the contract
# (checked in the saved response and in what the client printed), and none
# may add a certificate or change one:
#   kur with the old certificate's key (no kur_key_reuse)  -> badCertTemplate
#   kur signed by a revoked operator certificate           -> certRevoked
#   kur signed by the vendor certificate (not ours)        -> notAuthorized
#   kur whose oldCertID is not the signer (SPEC)           -> badCertId
#   ir, cr, kur, p10cr asking for CA:TRUE                  -> badCertTemplate
#   rr of a serial we never issued (issuer DN is ours)     -> badCertId
#   rr of a certificate already revoked                    -> certRevoked
#   rr protected by a MAC                                  -> wrongIntegrity
#   rr of another device's certificate                     -> notAuthorized
# kur signed by an expired operator certificate (signerNotTrusted) is not
# tested: validity_days is at least 1, so no certificate of ours expires
# during a test.
. "$(dirname "$0")/lib.sh" "$@"

# expect_refused RUN FAILINFO COUNT: the run failed with exactly FAILINFO
# and the store still holds COUNT certificates.
expect_refused() {
    expect_failinfo "$1" "$2"
    assert_cert_count "$3" "$1"
}

log "setting up"
ca_init
setup_acme dev1=SN0001 dev2=SN0002 dev3=SN0003
cat >"$PKI/reqexts.cnf" <<'EOF'
[ca_true]
basicConstraints = critical,CA:TRUE
EOF
server_start

enroll a dev1
enroll b dev2
mkdir -p "$OUT/a2" && genkey "$OUT/a2/new.key"
run_cmp a2 cr -cert "$OUT/a/cert.pem" -key "$OUT/a/new.key" -newkey "$OUT/a2/new.key"
expect_ok a2 "a second certificate for SN0001 (cr)"
A=$(serial_of "$OUT/a/cert.pem")
A2=$(serial_of "$OUT/a2/cert.pem")
B=$(serial_of "$OUT/b/cert.pem")
assert_cert_count 3 "after the enrollments"

log "kur with the key of the old certificate"
run_cmp kur-samekey kur -cert "$OUT/a/cert.pem" -key "$OUT/a/new.key" -newkey "$OUT/a/new.key"
expect_refused kur-samekey badCertTemplate 3
assert_eq confirmed "$(cert_status "$A")" "kur-samekey: the old certificate stays confirmed"

log "kur signed by the vendor certificate"
mkdir -p "$OUT/kur-vendor" && genkey "$OUT/kur-vendor/new.key"
run_cmp kur-vendor kur -cert "$PKI/dev1.pem" -key "$PKI/dev1.key" -newkey "$OUT/kur-vendor/new.key"
expect_refused kur-vendor notAuthorized 3

log "kur whose oldCertID names another certificate of the device than the signer"
mkdir -p "$OUT/kur-oldcert" && genkey "$OUT/kur-oldcert/new.key"
run_cmp kur-oldcert kur -cert "$OUT/a/cert.pem" -key "$OUT/a/new.key" -oldcert "$OUT/a2/cert.pem" \
    -newkey "$OUT/kur-oldcert/new.key"
expect_refused kur-oldcert badCertId 3
assert_eq confirmed "$(cert_status "$A2")" "kur-oldcert: $A2 stays confirmed"

log "templates asking for CA:TRUE"
mkdir -p "$OUT/ca-ir" "$OUT/ca-cr" "$OUT/ca-kur" "$OUT/ca-p10"
run_ir ca-ir dev3 -config "$PKI/reqexts.cnf" -reqexts ca_true
check "ca-ir: the ir really asks for CA:TRUE"
grep -q 'X509v3 Basic Constraints' <<<"$(asn1_lines "$OUT/ca-ir/req1.der")" || fail "ca-ir: no basicConstraints in the ir"
expect_refused ca-ir badCertTemplate 3
assert_eq registered "$(device_state acme SN0003)" "ca-ir: SN0003 stays registered"
genkey "$OUT/ca-cr/new.key"
run_cmp ca-cr cr -cert "$OUT/a/cert.pem" -key "$OUT/a/new.key" -newkey "$OUT/ca-cr/new.key" \
    -config "$PKI/reqexts.cnf" -reqexts ca_true
expect_refused ca-cr badCertTemplate 3
genkey "$OUT/ca-kur/new.key"
run_cmp ca-kur kur -cert "$OUT/a/cert.pem" -key "$OUT/a/new.key" -newkey "$OUT/ca-kur/new.key" \
    -config "$PKI/reqexts.cnf" -reqexts ca_true
expect_refused ca-kur badCertTemplate 3
assert_eq confirmed "$(cert_status "$A")" "ca-kur: the old certificate stays confirmed"
genkey "$OUT/ca-p10/csr.key"
openssl req -new -key "$OUT/ca-p10/csr.key" -subj "/CN=eNodeB/serialNumber=SN0001" \
    -addext "basicConstraints=critical,CA:TRUE" -out "$OUT/ca-p10/dev.csr" 2>/dev/null ||
    fail "cannot make the CA:TRUE CSR"
run_cmp ca-p10 p10cr -csr "$OUT/ca-p10/dev.csr" -cert "$OUT/a/cert.pem" -key "$OUT/a/new.key"
expect_refused ca-p10 badCertTemplate 3

log "rr of a serial we never issued, under our issuer name"
genkey "$PKI/fakeca.key"
# a self-signed stand-in with our issuing CA's exact subject and another key
openssl x509 -in "$D/ca.pem" -signkey "$PKI/fakeca.key" -days 30 -out "$PKI/fakeca.pem" 2>/dev/null ||
    fail "cannot make the stand-in CA"
pki_sign fake "/CN=eNodeB/serialNumber=SN0001" fakeca dev_ext
assert_eq "$(openssl x509 -in "$D/ca.pem" -noout -subject -nameopt RFC2253 | sed 's/^subject=//')" \
    "$(openssl x509 -in "$PKI/fake.pem" -noout -issuer -nameopt RFC2253 | sed 's/^issuer=//')" \
    "issuer of the unknown certificate"
run_cmp rr-unknown rr -oldcert "$PKI/fake.pem" -cert "$OUT/a/cert.pem" -key "$OUT/a/new.key" -revreason 1
expect_refused rr-unknown badCertId 3

log "rr of another device's certificate"
run_cmp rr-other rr -oldcert "$OUT/b/cert.pem" -cert "$OUT/a/cert.pem" -key "$OUT/a/new.key" -revreason 1
expect_refused rr-other notAuthorized 3
assert_eq confirmed "$(cert_status "$B")" "rr-other: $B stays confirmed"

log "rr protected by a MAC instead of a signature"
run_cmp rr-mac rr -oldcert "$OUT/a/cert.pem" -secret pass:abc -ref x -revreason 1
expect_refused rr-mac wrongIntegrity 3
assert_eq confirmed "$(cert_status "$A")" "rr-mac: $A stays confirmed"

log "rr of a certificate already revoked"
run_cmp rr-first rr -oldcert "$OUT/a2/cert.pem" -cert "$OUT/a2/cert.pem" -key "$OUT/a2/new.key" -revreason 1
expect_ok rr-first "revoking $A2 (precondition)"
assert_eq revoked "$(cert_status "$A2")" "rr-first: status of $A2"
run_cmp rr-again rr -oldcert "$OUT/a2/cert.pem" -cert "$OUT/a/cert.pem" -key "$OUT/a/new.key" -revreason 1
expect_refused rr-again certRevoked 3

log "kur signed by the revoked certificate"
mkdir -p "$OUT/kur-revoked" && genkey "$OUT/kur-revoked/new.key"
run_cmp kur-revoked kur -cert "$OUT/a2/cert.pem" -key "$OUT/a2/new.key" -newkey "$OUT/kur-revoked/new.key"
expect_refused kur-revoked certRevoked 3

log "kur signed by an expired operator certificate: not tested (validity_days >= 1)"

check "statuses at the end: $A, $B confirmed, $A2 revoked"
assert_eq confirmed "$(cert_status "$A")" "status of $A"
assert_eq confirmed "$(cert_status "$B")" "status of $B"
assert_eq revoked "$(cert_status "$A2")" "status of $A2"

server_stop
log "PASS"
