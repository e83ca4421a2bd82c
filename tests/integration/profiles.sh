#!/usr/bin/env bash
# profiles: certificate profiles, `[profile NAME]` sections of cmpca.conf
# reachable at /.well-known/cmp/p/NAME (RFC 9811). Each key changes what is
# issued or refused there, and nothing else:
#   unknown NAME                          -> HTTP 404, nothing issued
#   subject = template                    -> the requested subject
#   validity_days = 30                    -> 30 days
#   clamp = yes, -days 400                -> grantedWithMods, 30 days
#   clamp = no,  -days 400                -> badCertTemplate
#   allowed_rdns = CN, O                  -> OU dropped (clamp = yes,
#                                            grantedWithMods) or refused
#                                            (clamp = no, badCertTemplate)
#   san = template                        -> the requested subjectAltName
#   san = none                            -> a requested SAN cut (clamp =
#                                            yes) or refused (clamp = no)
#   key_usage = digitalSignature, keyAgreement, keyEncipherment
#                                         -> EC: digitalSignature,
#                                            keyAgreement; RSA:
#                                            digitalSignature, keyEncipherment
#   extended_key_usage = clientAuth       -> exactly that EKU
#   crl_url = URL                         -> a CRL distribution point URL
#                                            that serves the CRL
#   key_types = ec-p384                   -> P-256 refused (badCertTemplate)
#   implicit_confirm = no                 -> not granted, certConf needed
#   renewal_by_ir = yes / no              -> an ir signed by an operator
#                                            certificate renews / is refused
. "$(dirname "$0")/lib.sh" "$@"

# expect_issued RUN STATUS: the ir of RUN succeeded with PKIStatus STATUS.
expect_issued() {
    expect_ok "$1" "enrollment succeeds"
    expect_body "$1" rsp1 1 "ip"
    assert_eq "$2" "$(pkistatus_of "$OUT/$1/rsp1.der")" "$1: PKIStatus (0 accepted, 1 grantedWithMods)"
    check_op_cert "$1" "$OUT/$1/cert.pem" "$OUT/$1/new.key" "issued certificate"
}

# expect_days RUN N: the certificate of RUN is valid for N days.
expect_days() {
    check "$1: valid for $2 days"
    assert_eq "$2" "$(cert_days "$OUT/$1/cert.pem")" "$1: validity in days"
}

# key_usage_of CERT.pem: "critical " (when critical) and the keyUsage names.
key_usage_of() {
    openssl x509 -in "$1" -noout -ext keyUsage 2>/dev/null |
        awk 'NR == 1 { c = ($0 ~ /critical/) ? "critical " : "" } NR == 2 { sub(/^ +/, ""); print c $0 }'
}

# refused RUN FAILINFO: the run failed with FAILINFO, the count unchanged.
refused() {
    expect_failinfo "$1" "$2"
    assert_cert_count "$COUNT" "$1"
}

# issued RUN: one more certificate in the store.
issued() {
    COUNT=$((COUNT + 1))
    assert_cert_count "$COUNT" "$1"
}

log "setting up"
ca_init
setup_acme dev1=SN0001 dev2=SN0002
conf_set "profile tmpl" subject template
conf_set "profile tmpl" validity_days 30
conf_set "profile tmpl" clamp yes
conf_set "profile tmpl" allowed_rdns "CN, O"
conf_set "profile strict" validity_days 30
conf_set "profile strict" clamp no
conf_set "profile rdns" subject template
conf_set "profile rdns" allowed_rdns "CN, O"
conf_set "profile rdns" clamp no
conf_set "profile sans" san template
conf_set "profile eku" extended_key_usage clientAuth
conf_set "profile ku" key_usage "digitalSignature, keyAgreement, keyEncipherment"
conf_set "profile p384" key_types ec-p384
conf_set "profile noic" implicit_confirm no
conf_set "profile renew" renewal_by_ir yes
conf_set "profile norenew" renewal_by_ir no
# crl_url names the port: learn one, then serve on it
server_start
cdp_port=$PORT
CDP=http://127.0.0.1:$cdp_port/crl/ca.crl
server_stop
conf_set "profile cdp" crl_url "$CDP"
server_start "127.0.0.1:$cdp_port"
COUNT=0
# the subject `subject = device` gives SN0001 (docs/config.md); asking for
# exactly it lets those profiles answer "accepted" rather than grantedWithMods
DEV1=/CN=SN0001/serialNumber=SN0001

log "an unknown profile is a 404 and issues nothing"
run_ir first dev1
expect_ok first "enrollment on the default profile"
issued first
HTTP_STATUS=$(http_post "$OUT/first/req1.der" "$CMP_PATH/p/nosuch")
check "POST to $CMP_PATH/p/nosuch: HTTP 404"
assert_eq 404 "$HTTP_STATUS" "HTTP status for an unknown profile"
run_ir unknown dev1 -path "$CMP_PATH/p/nosuch"
check "unknown: openssl cmp fails"
[ "$RUN_RC" -ne 0 ] || fail "unknown: enrollment on an unknown profile succeeded"
assert_cert_count "$COUNT" "unknown profile"

log "subject = template, validity_days = 30"
run_ir tmpl dev1 -path "$CMP_PATH/p/tmpl" -subject "/CN=enb-custom/O=Operator"
expect_issued tmpl 0
check "tmpl: the requested subject"
assert_eq "O=Operator,CN=enb-custom" "$(subject_of "$OUT/tmpl/cert.pem")" "tmpl: subject"
expect_days tmpl 30
issued tmpl

log "clamp = yes: a longer requested validity is shortened"
run_ir clamp dev1 -path "$CMP_PATH/p/tmpl" -subject "/CN=enb-custom/O=Operator" -days 400
expect_issued clamp 1
expect_days clamp 30
issued clamp

log "clamp = yes: an RDN outside allowed_rdns is dropped"
run_ir clamp-ou dev1 -path "$CMP_PATH/p/tmpl" -subject "/CN=enb-custom/OU=Radio/O=Operator"
expect_issued clamp-ou 1
assert_eq "O=Operator,CN=enb-custom" "$(subject_of "$OUT/clamp-ou/cert.pem")" "clamp-ou: subject without OU"
issued clamp-ou

log "clamp = no: a longer requested validity is refused"
run_ir strict-long dev1 -path "$CMP_PATH/p/strict" -subject "$DEV1" -days 400
refused strict-long badCertTemplate
run_ir strict dev1 -path "$CMP_PATH/p/strict" -subject "$DEV1"
expect_issued strict 0
expect_days strict 30
issued strict

log "allowed_rdns = CN, O with clamp = no"
run_ir rdns-ou dev1 -path "$CMP_PATH/p/rdns" -subject "/CN=enb-custom/OU=Radio/O=Operator"
refused rdns-ou badCertTemplate
run_ir rdns dev1 -path "$CMP_PATH/p/rdns" -subject "/CN=enb-custom/O=Operator"
expect_issued rdns 0
assert_eq "O=Operator,CN=enb-custom" "$(subject_of "$OUT/rdns/cert.pem")" "rdns: subject"
issued rdns

log "san = template"
run_ir sans dev1 -path "$CMP_PATH/p/sans" -subject "$DEV1" -sans "enb1.example.net 192.0.2.7"
expect_issued sans 0
check "sans: subjectAltName holds the requested DNS name and IP address"
san=$(openssl x509 -in "$OUT/sans/cert.pem" -noout -ext subjectAltName 2>/dev/null | tail -n +2 | tr -d ' ')
assert_eq "DNS:enb1.example.net,IPAddress:192.0.2.7" "$san" "sans: subjectAltName"
issued sans

log "san = none (the default): a requested SAN is cut (clamp = yes) or refused (clamp = no)"
run_ir sans-cut dev1 -subject "$DEV1" -sans "enb1.example.net"
expect_issued sans-cut 1
check "sans-cut: no subjectAltName"
if openssl x509 -in "$OUT/sans-cut/cert.pem" -noout -text | grep_all -q 'Subject Alternative Name'; then
    fail "sans-cut: the certificate has a subjectAltName"
fi
issued sans-cut
run_ir sans-strict dev1 -path "$CMP_PATH/p/strict" -subject "$DEV1" -sans "enb1.example.net"
refused sans-strict badCertTemplate

log "key_usage = digitalSignature, keyAgreement, keyEncipherment: cut to what the key may do"
run_ir ku-ec dev1 -path "$CMP_PATH/p/ku" -subject "$DEV1"
expect_issued ku-ec 0
check "ku-ec: an EC key gets digitalSignature and keyAgreement"
assert_eq "critical Digital Signature, Key Agreement" "$(key_usage_of "$OUT/ku-ec/cert.pem")" "ku-ec: keyUsage"
issued ku-ec
mkdir -p "$OUT/ku-rsa" && genkey "$OUT/ku-rsa/new.key" rsa2048
run_ir ku-rsa dev1 -path "$CMP_PATH/p/ku" -subject "$DEV1" -newkey "$OUT/ku-rsa/new.key"
expect_issued ku-rsa 0
check "ku-rsa: an RSA key gets digitalSignature and keyEncipherment"
assert_eq "critical Digital Signature, Key Encipherment" "$(key_usage_of "$OUT/ku-rsa/cert.pem")" "ku-rsa: keyUsage"
issued ku-rsa

log "extended_key_usage = clientAuth"
run_ir eku dev1 -path "$CMP_PATH/p/eku" -subject "$DEV1"
expect_issued eku 0
check "eku: extendedKeyUsage is exactly clientAuth"
assert_eq "TLS Web Client Authentication" \
    "$(openssl x509 -in "$OUT/eku/cert.pem" -noout -ext extendedKeyUsage 2>/dev/null | tail -n +2 | sed 's/^ *//')" \
    "eku: extendedKeyUsage"
issued eku

log "crl_url = $CDP"
run_ir cdp dev1 -path "$CMP_PATH/p/cdp" -subject "$DEV1"
expect_issued cdp 0
check "cdp: one CRL distribution point, $CDP, which serves the CRL"
assert_eq "URI:$CDP" \
    "$(openssl x509 -in "$OUT/cdp/cert.pem" -noout -ext crlDistributionPoints 2>/dev/null | grep -o 'URI:.*' | tr -d ' ')" \
    "cdp: CRL distribution point"
curl -s -o "$T/cdp.crl" --max-time 30 "$CDP" || fail "cdp: cannot GET $CDP"
crl_verify "$T/cdp.crl" DER "cdp: CRL at the distribution point"
check "cdp: the default profile puts no distribution point"
if openssl x509 -in "$OUT/first/cert.pem" -noout -text | grep_all -q 'CRL Distribution'; then
    fail "cdp: a certificate of the default profile has a CRL distribution point"
fi
issued cdp

log "key_types = ec-p384"
run_ir p256 dev1 -path "$CMP_PATH/p/p384" -subject "$DEV1"
refused p256 badCertTemplate
mkdir -p "$OUT/p384" && genkey "$OUT/p384/new.key" ec384
run_ir p384 dev1 -path "$CMP_PATH/p/p384" -subject "$DEV1" -newkey "$OUT/p384/new.key"
expect_issued p384 0
issued p384

log "implicit_confirm = no: not granted even when asked"
run_ir noic dev1 -path "$CMP_PATH/p/noic" -subject "$DEV1" -implicit_confirm
expect_ok noic "enrollment succeeds"
check "noic: the ip does not grant implicitConfirm; certConf and pkiConf follow"
if grep -q 'id-it-implicitConfirm' <<<"$(asn1_lines "$OUT/noic/rsp1.der")"; then
    fail "noic: the ip grants implicitConfirm"
fi
expect_body noic req2 24 "certConf"
expect_body noic rsp2 19 "pkiConf"
issued noic

log "renewal_by_ir: an ir signed by the operator certificate (3GPP renewal)"
enroll op dev2
issued op
mkdir -p "$OUT/renew" && genkey "$OUT/renew/new.key"
run_cmp renew ir -path "$CMP_PATH/p/renew" -cert "$OUT/op/cert.pem" -key "$OUT/op/new.key" \
    -newkey "$OUT/renew/new.key"
expect_issued renew 0
check "renew: the renewed certificate is for the same device"
assert_eq "$(subject_of "$OUT/op/cert.pem")" "$(subject_of "$OUT/renew/cert.pem")" "renew: subject"
issued renew
mkdir -p "$OUT/norenew" && genkey "$OUT/norenew/new.key"
run_cmp norenew ir -path "$CMP_PATH/p/norenew" -cert "$OUT/renew/cert.pem" -key "$OUT/renew/new.key" \
    -newkey "$OUT/norenew/new.key"
got=$(failinfo_of "$OUT/norenew/rsp1.der")
log "norenew: the server answers failInfo '$got'"
case $got in
notAuthorized | signerNotTrusted) refused norenew "$got" ;;
*) fail "norenew: failInfo '$got', expected notAuthorized or signerNotTrusted ($(client_errors "$OUT/norenew/client.log"))" ;;
esac

server_stop
log "PASS"
