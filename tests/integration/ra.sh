#!/usr/bin/env bash
# ra: RA mode (RFC 9483 5) with the real `openssl cmp` client. A registration
# authority is a certificate registered with `cmpca ra add` (here
# self-signed); it signs requests on behalf of devices, which it names in
# the template subject through their vendor's identity attribute.
#   ir for a registered device of a vendor it serves -> ip, certConf, pkiConf;
#     the certificate holds the device's subject (not the RA's) and key, the
#     store records it under the device, the device becomes enrolled
#   the same for a vendor with --id-attr CN
#   a device of a vendor it does not serve, an unregistered serial,
#     a template with the RA's own subject            -> notAuthorized
#   an RA certificate that is not registered (or removed while serving)
#                                                      -> signerNotTrusted
#   raVerified POP (-popo 0): with --may-raverify accepted; from an RA
#     without it and from a device                     -> notAuthorized
#   rr of a device certificate: with --may-revoke accepted (revoked, in the
#     CRL); without it, or of a vendor it does not serve -> notAuthorized
#   kur with oldCertID naming the device's certificate -> kup with the
#     device's subject and the new key; the old certificate revoked; a kur
#     for a vendor it does not serve                  -> notAuthorized
#   an RA removed with `cmpca ra remove` while serving -> signerNotTrusted
# OpenSSL 3.0's client leaves a self-signed -cert out of extraCerts
# (X509_ADD_FLAG_NO_SS), so the self-signed RA ra1 also passes it with
# -extracerts; the last section sends the plain `-cert ra.pem -key ra.key`
# commands, which work only if the server finds the pinned RA certificate
# by sender and senderKID. ra2 is issued by a CA and is always sent.
. "$(dirname "$0")/lib.sh" "$@"

# ra_creds RA: sets RA_CREDS to the client options that sign as RA: -cert
# and -key, plus -extracerts with the certificate itself when it is
# self-signed, unless RA_PLAIN=1.
ra_creds() {
    RA_CREDS=(-cert "$PKI/$1.pem" -key "$PKI/$1.key")
    if [ "${RA_PLAIN:-0}" != 1 ] &&
        [ "$(openssl x509 -in "$PKI/$1.pem" -noout -subject)" = \
            "$(openssl x509 -in "$PKI/$1.pem" -noout -issuer | sed 's/^issuer=/subject=/')" ]; then
        RA_CREDS+=(-extracerts "$PKI/$1.pem")
    fi
}

# ra_cmp RUN CMD RA [options]: run_cmp signed by RA (see ra_creds).
ra_cmp() {
    local run=$1 cmd=$2
    ra_creds "$3"
    shift 3
    run_cmp "$run" "$cmd" "${RA_CREDS[@]}" "$@"
}

# ra_ir RUN RA SERIAL [options]: an ir signed by RA for the device SERIAL
# (template subject /CN=SERIAL/serialNumber=SERIAL), new key $OUT/RUN/new.key.
ra_ir() {
    local run=$1 ra=$2 serial=$3
    shift 3
    mkdir -p "$OUT/$run" && genkey "$OUT/$run/new.key"
    ra_cmp "$run" ir "$ra" -newkey "$OUT/$run/new.key" -subject "/CN=$serial/serialNumber=$serial" "$@"
}

# check_device_cert RUN VENDOR SERIAL WHAT: the certificate of run RUN is the
# device's: right key, chain and subject, nothing of the RA in it, recorded
# in the store under VENDOR/SERIAL and confirmed.
check_device_cert() {
    local run=$1 o=$OUT/$1 ser subj
    check_op_cert "$run" "$o/cert.pem" "$o/new.key" "$4"
    check "$run: the subject is the device's ($3), not the RA's"
    subj=$(subject_of "$o/cert.pem")
    subject_has "$o/cert.pem" "CN=$3" || fail "$run: subject '$subj' lacks CN=$3"
    if [ "$2" = acme ]; then
        subject_has "$o/cert.pem" "serialNumber=$3" || fail "$run: subject '$subj' lacks serialNumber=$3"
    fi
    case $subj in *"RA "*) fail "$run: subject '$subj' names the RA" ;; esac
    check "$run: cmpca cert list shows it confirmed with that subject, cert show names $2 / $3"
    ser=$(serial_of "$o/cert.pem")
    assert_eq confirmed "$(cert_status "$ser")" "$run: status of $ser"
    assert_eq "$subj" "$(cli cert list | awk -F '\t' -v s="$ser" 'NR > 1 && $1 == s { print $2 }')" \
        "$run: SUBJECT column of cert list"
    cli cert show "$ser" >"$o/show.txt" 2>&1 || fail "$run: cmpca cert show $ser failed"
    assert_eq "$2 / $3" "$(sed -n 's/^Device: *//p' "$o/show.txt")" "$run: Device line of cert show"
    assert_eq enrolled "$(device_state "$2" "$3")" "$run: state of $2/$3"
}

log "setting up: vendors acme (serialNumber) and other, beta (CN), three RAs"
ca_init
setup_acme dev103=SN0103
cli device add acme SN0100 SN0101 SN0102 SN0104 SN0199 >/dev/null || fail "device add acme failed"
pki_root oroot "/O=Other Vendor/CN=Other Root CA"
pki_device oth1 OT0001 oroot
cli vendor add other "$PKI/oroot.pem" >/dev/null || fail "vendor add other failed"
cli device add other OT0001 OT0002 >/dev/null || fail "device add other failed"
pki_root broot "/O=Beta Vendor/CN=Beta Root CA"
cli vendor add beta "$PKI/broot.pem" --id-attr CN >/dev/null || fail "vendor add beta failed"
cli device add beta BX-7 >/dev/null || fail "device add beta failed"
pki_selfsigned ra1 "/O=Example Mobile/CN=RA One"
pki_root racaroot "/O=Example Mobile/CN=Example RA CA"
pki_sign ra2 "/O=Example Mobile/CN=RA Two" racaroot dev_ext
pki_selfsigned ra3 "/O=Example Mobile/CN=RA Three"
ra_add ra1 "$PKI/ra1.pem" --vendors acme,beta --may-raverify --may-revoke
ra_add ra2 "$PKI/ra2.pem" --vendors acme
# ra3 is never registered

check "cmpca ra list shows both RAs with their vendors and privileges"
assert_eq "$(printf 'NAME\tVENDORS\tRAVERIFY\tREVOKE\tSUBJECT')" "$(cli ra list | sed -n 1p)" "ra list header"
assert_eq acme,beta "$(ra_field ra1 2)" "VENDORS of ra1"
assert_eq yes "$(ra_field ra1 3)" "RAVERIFY of ra1"
assert_eq yes "$(ra_field ra1 4)" "REVOKE of ra1"
assert_eq acme "$(ra_field ra2 2)" "VENDORS of ra2"
assert_eq no "$(ra_field ra2 3)" "RAVERIFY of ra2"
assert_eq no "$(ra_field ra2 4)" "REVOKE of ra2"
assert_eq "$(subject_of "$PKI/ra1.pem")" "$(ra_field ra1 5)" "SUBJECT of ra1"
assert_eq "" "$(ra_field ra3 1)" "ra3 is not listed"
server_start

log "an RA enrolls a registered device"
ra_ir ra-ir ra1 SN0100
expect_ok ra-ir "ir signed by ra1 for acme/SN0100 succeeds"
check_certrep ra-ir 1 "ip"
check "ra-ir: the ip carries the operator root in caPubs"
assert_eq "$(fingerprint "$D/root.pem")" "$(fingerprint "$OUT/ra-ir/capubs.pem")" "ra-ir: caPubs"
check_device_cert ra-ir acme SN0100 "device certificate issued through the RA"
assert_cert_count 1 "after the RA's ir"

log "an RA enrolls a device of a vendor that names devices by CN"
mkdir -p "$OUT/ra-cn" && genkey "$OUT/ra-cn/new.key"
ra_cmp ra-cn ir ra1 -newkey "$OUT/ra-cn/new.key" -subject "/CN=BX-7"
expect_ok ra-cn "ir signed by ra1 for beta/BX-7 (CN) succeeds"
check "ra-cn: ip grantedWithMods (the CA adds serialNumber to the requested /CN=BX-7), certConf, pkiConf"
expect_body ra-cn rsp1 1 "ip"
assert_eq 1 "$(pkistatus_of "$OUT/ra-cn/rsp1.der")" "ra-cn: PKIStatus (1 = grantedWithMods)"
expect_body ra-cn req2 24 "certConf"
expect_body ra-cn rsp2 19 "pkiConf"
check_device_cert ra-cn beta BX-7 "CN-named device certificate issued through the RA"
assert_cert_count 2 "after the RA's ir for beta"

log "an RA may not enroll devices it does not serve, or that are not registered"
ra_ir ra-foreign ra1 OT0002
expect_failinfo ra-foreign notAuthorized
ra_ir ra2-beta ra2 BX-7
expect_failinfo ra2-beta notAuthorized
ra_ir ra-unreg ra1 SN0666
expect_failinfo ra-unreg notAuthorized
# the RA's own subject in the template names no registered device
ra_ir ra-own-subj ra1 x -subject "/O=Example Mobile/CN=RA One"
expect_failinfo ra-own-subj notAuthorized
assert_cert_count 2 "after the refused RA requests"
assert_eq registered "$(device_state other OT0002)" "state of other/OT0002"

log "an RA that is not registered is not trusted"
ra_ir ra-unknown ra3 SN0199
expect_failinfo ra-unknown signerNotTrusted
assert_cert_count 2 "after the unregistered RA"

log "raVerified POP"
ra_ir rav-ok ra1 SN0101 -popo 0
expect_ok rav-ok "raVerified from ra1 (--may-raverify) is accepted"
check "rav-ok: the ir carried raVerified (popo [0])"
grep -Eq 'l= *0 prim: cont \[ 0 \]' <<<"$(asn1_lines "$OUT/rav-ok/req1.der")" || fail "rav-ok: no raVerified in the ir"
check_certrep rav-ok 1 "ip"
check_device_cert rav-ok acme SN0101 "certificate issued on the RA's raVerified"
ra_ir rav-noprv ra2 SN0102 -popo 0
expect_failinfo rav-noprv notAuthorized
run_ir rav-device dev103 -popo 0
expect_failinfo rav-device notAuthorized
assert_cert_count 3 "after the raVerified requests"
assert_eq registered "$(device_state acme SN0102)" "state of acme/SN0102"
assert_eq registered "$(device_state acme SN0103)" "state of acme/SN0103"

log "a device of vendor other enrolls itself (for the RA's rr and kur below)"
enroll oth oth1
assert_cert_count 4 "after other/OT0001 enrolled"

log "RA kur: renewal of a device certificate named by oldCertID"
old=$OUT/rav-ok/cert.pem
mkdir -p "$OUT/ra-kur" && genkey "$OUT/ra-kur/new.key"
ra_cmp ra-kur kur ra1 -oldcert "$old" -newkey "$OUT/ra-kur/new.key"
expect_ok ra-kur "kur signed by ra1 for the certificate of acme/SN0101 succeeds"
check "ra-kur: the kur's oldCertID names the device's certificate, not the RA's"
expect_body ra-kur req1 7 "kur"
asn1_lines "$OUT/ra-kur/req1.der" | grep_all -q 'oldCertID' || fail "ra-kur: no oldCertID control in the kur"
grep -qi "INTEGER *:$(serial_of "$old")\$" <<<"$(asn1_lines "$OUT/ra-kur/req1.der")" ||
    fail "ra-kur: the kur does not carry the serial $(serial_of "$old") of the device's certificate"
check_certrep ra-kur 8 "kup"
check_op_cert ra-kur "$OUT/ra-kur/cert.pem" "$OUT/ra-kur/new.key" "renewed device certificate"
assert_eq "$(subject_of "$old")" "$(subject_of "$OUT/ra-kur/cert.pem")" "ra-kur: subject of the renewed certificate"
assert_eq confirmed "$(cert_status "$(serial_of "$OUT/ra-kur/cert.pem")")" "ra-kur: status of the new certificate"
assert_eq revoked "$(cert_status "$(serial_of "$old")")" "ra-kur: status of the old certificate"
cli cert show "$(serial_of "$OUT/ra-kur/cert.pem")" >"$OUT/ra-kur/show.txt" || fail "ra-kur: cert show failed"
assert_eq "acme / SN0101" "$(sed -n 's/^Device: *//p' "$OUT/ra-kur/show.txt")" "ra-kur: Device of the renewed certificate"
assert_cert_count 5 "after the RA's kur"
mkdir -p "$OUT/ra-kur-foreign" && genkey "$OUT/ra-kur-foreign/new.key"
ra_cmp ra-kur-foreign kur ra1 -oldcert "$OUT/oth/cert.pem" -newkey "$OUT/ra-kur-foreign/new.key"
expect_failinfo ra-kur-foreign notAuthorized
assert_cert_count 5 "after the refused kur"

log "RA rr: revocation of device certificates"
target=$OUT/ra-ir/cert.pem
ra_cmp rr-noprv rr ra2 -oldcert "$target" -revreason 1
expect_failinfo rr-noprv notAuthorized
assert_eq confirmed "$(cert_status "$(serial_of "$target")")" "rr-noprv: status of the target"
ra_cmp rr-foreign rr ra1 -oldcert "$OUT/oth/cert.pem" -revreason 1
expect_failinfo rr-foreign notAuthorized
assert_eq confirmed "$(cert_status "$(serial_of "$OUT/oth/cert.pem")")" "rr-foreign: status of other/OT0001's certificate"
ra_cmp rr-ok rr ra1 -oldcert "$target" -revreason 1
expect_ok rr-ok "rr signed by ra1 (--may-revoke) for acme/SN0100 succeeds"
expect_body rr-ok rsp1 12 "rp"
assert_eq 0 "$(pkistatus_of "$OUT/rr-ok/rsp1.der")" "rr-ok: PKIStatus (0 = accepted)"
assert_eq revoked "$(cert_status "$(serial_of "$target")")" "rr-ok: status of the target"
crl_fetch "$T/rr.crl" "rr-ok"
crl_has "$T/rr.crl" "$(serial_of "$target")" || fail "rr-ok: revoked serial not in the served CRL"
assert_eq "Key Compromise" "$(crl_reason "$T/rr.crl" "$(serial_of "$target")")" "rr-ok: CRL reason"

log "an RA removed while the server runs is refused at once"
cli ra remove ra2 >/dev/null || fail "cmpca ra remove ra2 failed"
assert_eq "" "$(ra_field ra2 1)" "ra2 after ra remove"
ra_ir ra-removed ra2 SN0104
expect_failinfo ra-removed signerNotTrusted
assert_eq registered "$(device_state acme SN0104)" "state of acme/SN0104"
assert_cert_count 5 "after the removed RA"

log "the plain client commands of a self-signed RA (no -extracerts)"
RA_PLAIN=1
ra_ir plain-ir ra1 SN0199
expect_ok plain-ir "ir signed by the self-signed ra1 without its certificate in extraCerts succeeds"
check "plain-ir: the client sent no extraCerts"
[ -z "$(der_child_hex "$OUT/plain-ir/req1.der" 1 4)" ] || fail "plain-ir: the ir carries extraCerts"
check_certrep plain-ir 1 "ip"
check_device_cert plain-ir acme SN0199 "device certificate issued through the plain RA command"
mkdir -p "$OUT/plain-kur" && genkey "$OUT/plain-kur/new.key"
ra_cmp plain-kur kur ra1 -oldcert "$OUT/ra-kur/cert.pem" -newkey "$OUT/plain-kur/new.key"
expect_ok plain-kur "kur by the plain RA command succeeds"
check_certrep plain-kur 8 "kup"
assert_eq revoked "$(cert_status "$(serial_of "$OUT/ra-kur/cert.pem")")" "plain-kur: status of the old certificate"
ra_cmp plain-rr rr ra1 -oldcert "$OUT/ra-cn/cert.pem" -revreason 5
expect_ok plain-rr "rr by the plain RA command succeeds"
assert_eq revoked "$(cert_status "$(serial_of "$OUT/ra-cn/cert.pem")")" "plain-rr: status of the target"
assert_cert_count 7 "at the end"

server_stop
log "PASS"
