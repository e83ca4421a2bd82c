#!/usr/bin/env bash
# mac: MAC-protected enrollment (RFC 4210 5.1.3.1 PasswordBasedMac, RFC 9483
# 4.1.1 with a shared secret) with the real `openssl cmp` client. A device
# without a vendor certificate is registered with a secret
# (`cmpca device add acme SN --secret-file F [--kid K]`, kid = serial by
# default) and enrolls with `openssl cmp -cmd ir -secret pass:S -ref KID`.
#   the right secret     -> ip accepted, protected with PasswordBasedMac
#                           (1.2.840.113533.7.66.13), which the client
#                           verified; certConf/pkiConf MAC-protected too; the
#                           certificate holds the device's subject and key
#   a wrong secret       -> badMessageCheck (answer signed, not MACed),
#                           the secret stays good
#   the same single-use secret a second time -> notAuthorized (MAC-protected
#                           answer); a new secret (`cmpca device secret`)
#                           enrolls again and the old one no longer works
#   --kid names the secret by another senderKID
#   kur and rr protected by a MAC -> wrongIntegrity
#   secret_single_use = no -> the same secret enrolls twice
# The secret never appears in clear in the store or in `device list`.
. "$(dirname "$0")/lib.sh" "$@"

if ! "$CMPCA" device add --help 2>&1 | grep_all -q -- --secret-file; then
    echo "$TEST_NAME: SKIP: cmpca device add has no --secret-file" >&2
    exit 77
fi

MAC_ALG="password based MAC" # PasswordBasedMac as `openssl asn1parse` names it

# mac_ir RUN KID SECRET SERIAL [options]: an ir protected with SECRET under
# senderKID KID, asking for the subject the CA gives SERIAL.
mac_ir() {
    local run=$1 kid=$2 secret=$3 serial=$4
    shift 4
    mkdir -p "$OUT/$run" && genkey "$OUT/$run/new.key"
    run_cmp "$run" ir -secret "pass:$secret" -ref "$kid" -mac hmacWithSHA256 \
        -newkey "$OUT/$run/new.key" \
        -subject "/CN=$serial/serialNumber=$serial" "$@"
}

# check_mac_enrolled RUN SERIAL: run RUN enrolled SERIAL over MAC protection.
check_mac_enrolled() {
    local run=$1 o=$OUT/$1 ser
    expect_ok "$run" "MAC-protected ir of $2 succeeds"
    check_certrep "$run" 1 "ip"
    check "$run: ir, ip, certConf and pkiConf are all protected with PasswordBasedMac"
    assert_eq "$MAC_ALG" "$(protection_alg_of "$o/req1.der")" "$run: protectionAlg of the ir"
    assert_eq "$MAC_ALG" "$(protection_alg_of "$o/rsp1.der")" "$run: protectionAlg of the ip"
    assert_eq "$MAC_ALG" "$(protection_alg_of "$o/req2.der")" "$run: protectionAlg of the certConf"
    assert_eq "$MAC_ALG" "$(protection_alg_of "$o/rsp2.der")" "$run: protectionAlg of the pkiConf"
    check "$run: the ip carries the operator root in caPubs"
    assert_eq "$(fingerprint "$D/root.pem")" "$(fingerprint "$o/capubs.pem")" "$run: caPubs"
    check_op_cert "$run" "$o/cert.pem" "$o/new.key" "certificate issued over MAC protection"
    subject_has "$o/cert.pem" "serialNumber=$2" || fail "$run: subject '$(subject_of "$o/cert.pem")' lacks $2"
    ser=$(serial_of "$o/cert.pem")
    assert_eq confirmed "$(cert_status "$ser")" "$run: status of $ser"
    cli cert show "$ser" >"$o/show.txt" 2>&1 || fail "$run: cmpca cert show $ser failed"
    assert_eq "acme / $2" "$(sed -n 's/^Device: *//p' "$o/show.txt")" "$run: Device line of cert show"
    assert_eq enrolled "$(device_state acme "$2")" "$run: state of acme/$2"
}

# secret_file NAME VALUE [nl]: $PKI/NAME.txt holding VALUE (and a newline
# with nl), readable by its owner only.
secret_file() {
    (umask 077 && printf '%s%s' "$2" "${3:+$'\n'}" >"$PKI/$1.txt") || fail "cannot write $PKI/$1.txt"
}

# expect_answer_alg RUN ALG WHAT: the first answer of RUN is protected with ALG.
expect_answer_alg() {
    check "$1: $3"
    assert_eq "$2" "$(protection_alg_of "$OUT/$1/rsp1.der")" "$1: protectionAlg of the answer"
}

log "setting up: devices registered with shared secrets"
ca_init
setup_acme
S200=Secret-SN0200-one
S201=Secret-SN0201-one
S202=Secret-SN0202-one
secret_file s200 "$S200"
secret_file s201 "$S201" nl # one trailing newline is not part of it
secret_file s202 "$S202"
secret_file s203a Secret-SN0203-old
secret_file s203b Secret-SN0203-new
secret_file s200b Secret-SN0200-two
cli device add acme SN0200 --secret-file "$PKI/s200.txt" >/dev/null || fail "device add SN0200 --secret-file failed"
cli device add acme SN0201 --secret-file "$PKI/s201.txt" >/dev/null || fail "device add SN0201 --secret-file failed"
cli device add acme SN0202 --secret-file "$PKI/s202.txt" --kid kid-0202 >/dev/null ||
    fail "device add SN0202 --secret-file --kid failed"
cli device add acme SN0203 --secret-file "$PKI/s203a.txt" >/dev/null || fail "device add SN0203 --secret-file failed"
cli device secret acme SN0203 --secret-file "$PKI/s203b.txt" >/dev/null || fail "device secret SN0203 failed"
check "the devices are registered; no secret appears in clear in device list or the store"
assert_eq registered "$(device_state acme SN0200)" "state of SN0200"
for s in "$S200" "$S201" "$S202" Secret-SN0203-old Secret-SN0203-new; do
    if cli device list | grep_all -qF -- "$s"; then fail "device list shows a secret"; fi
    if grep -rqaF -- "$s" "$D"; then fail "a secret is stored in clear under $D"; fi
done
server_start

log "enrollment with the registered secret (kid = serial)"
mac_ir mac SN0200 "$S200" SN0200
check_mac_enrolled mac SN0200
assert_cert_count 1 "after the MAC enrollment"

log "a wrong secret"
mac_ir wrong SN0201 "$S201-wrong" SN0201
expect_failinfo wrong badMessageCheck
expect_answer_alg wrong ecdsa-with-SHA256 "the rejection of an unauthenticated request is signed, not MACed"
assert_eq registered "$(device_state acme SN0201)" "state of SN0201 after the wrong secret"
mac_ir right SN0201 "$S201" SN0201
check_mac_enrolled right SN0201
assert_cert_count 2 "after the wrong and the right secret"

log "a single-use secret used a second time"
mac_ir reuse SN0200 "$S200" SN0200
expect_failinfo reuse notAuthorized
expect_answer_alg reuse "$MAC_ALG" "the rejection of an authenticated request is MAC-protected"
assert_cert_count 2 "after the reused secret"
cli device secret acme SN0200 --secret-file "$PKI/s200b.txt" >/dev/null || fail "device secret SN0200 failed"
mac_ir old-secret SN0200 "$S200" SN0200
expect_failinfo old-secret badMessageCheck
mac_ir new-secret SN0200 Secret-SN0200-two SN0200
check_mac_enrolled new-secret SN0200
assert_cert_count 3 "after the new secret"

log "a secret named by --kid, and a secret replaced before its first use"
mac_ir kid kid-0202 "$S202" SN0202
check_mac_enrolled kid SN0202
mac_ir replaced SN0203 Secret-SN0203-old SN0203
expect_failinfo replaced badMessageCheck
mac_ir replacement SN0203 Secret-SN0203-new SN0203
check_mac_enrolled replacement SN0203
assert_cert_count 5 "after --kid and the replaced secret"

log "kur and rr protected by a MAC"
mkdir -p "$OUT/mac-kur" && genkey "$OUT/mac-kur/new.key"
run_cmp mac-kur kur -secret "pass:Secret-SN0200-two" -ref SN0200 -oldcert "$OUT/new-secret/cert.pem" \
    -newkey "$OUT/mac-kur/new.key"
expect_failinfo mac-kur wrongIntegrity
run_cmp mac-rr rr -secret "pass:Secret-SN0200-two" -ref SN0200 -oldcert "$OUT/new-secret/cert.pem" -revreason 1
expect_failinfo mac-rr wrongIntegrity
assert_eq confirmed "$(cert_status "$(serial_of "$OUT/new-secret/cert.pem")")" "status after the MAC rr"
assert_cert_count 5 "after the MAC kur and rr"
server_stop

log "secret_single_use = no: a secret enrolls more than once"
conf_set mac secret_single_use no
secret_file s204 Secret-SN0204-multi
cli device add acme SN0204 --secret-file "$PKI/s204.txt" >/dev/null || fail "device add SN0204 --secret-file failed"
server_start
mac_ir multi1 SN0204 Secret-SN0204-multi SN0204
check_mac_enrolled multi1 SN0204
mac_ir multi2 SN0204 Secret-SN0204-multi SN0204
check_mac_enrolled multi2 SN0204
assert_cert_count 7 "after two enrollments with one secret"

server_stop
log "PASS"
