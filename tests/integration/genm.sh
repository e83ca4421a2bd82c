#!/usr/bin/env bash
# genm: general messages of RFC 9483 4.3, signed by an operator certificate,
# answered by a genp (body 22) the client accepts:
#   caCerts          -> one id-it-caCerts ITAV: the issuing CA, then the root
#   rootCaKeyUpdate  -> one id-it-rootCaKeyUpdate ITAV without value (the
#                       root has not changed)
#   certReqTemplate  -> one id-it-certReqTemplate ITAV whose
#                       CertReqTemplateContent describes the URL's profile
#                       (docs/genm.md): 3gpp and a profile "sensor"
#   crlStatusList    -> one id-it-crls ITAV holding the current CRL when a
#                       CRLStatus names it (our issuer, or a profile's
#                       crl_url) without thisUpdate or with an older one; no
#                       value when thisUpdate is the current one or when
#                       nothing names our CRL
# `openssl cmp` 3.0 has no name for crlStatusList (-infotype takes names of
# id-it-* only) and cannot send a CRLStatus value, so that genm is built here
# from a caCerts genm the client wrote without sending it: the ITAV is
# replaced and the client re-protects it (-reqin -reqin_new_tid).
. "$(dirname "$0")/lib.sh" "$@"

# only_itav RUN INFOTYPE: run RUN got a genp with exactly one ITAV, of type
# INFOTYPE; sets ITAV to its genp_itavs line ("TYPE [OFFSET LENGTH]").
only_itav() {
    check "$1: a genp with exactly one ITAV, $2"
    expect_body "$1" rsp1 22 "genp"
    ITAV=$(genp_itavs "$OUT/$1/rsp1.der")
    assert_eq 1 "$(grep -c . <<<"$ITAV" || true)" "$1: ITAVs in the genp ($ITAV)"
    assert_eq "$2" "${ITAV%% *}" "$1: infoType"
}

# itav_value RUN ITAV-LINE OUT.der: writes the infoValue TLV to OUT.der.
itav_value() {
    # shellcheck disable=SC2086 # "TYPE OFFSET LENGTH"
    set -- "$1" $2 "$3"
    [ $# -eq 5 ] || fail "$1: the $2 ITAV has no value"
    der_cut "$OUT/$1/rsp1.der" "$3" "$4" >"$5"
}

# genm_run RUN INFOTYPE: a genm for INFOTYPE signed by the operator
# certificate, which must succeed with a genp.
genm_run() {
    run_cmp "$1" genm -infotype "$2" -cert "$OUT/op/cert.pem" -key "$OUT/op/new.key"
    expect_ok "$1" "genm $2 answered and accepted"
    expect_body "$1" req1 21 "genm"
}

log "setting up"
ca_init
SENSOR_CRL=http://pki.example.net/crl/ca.crl
conf_set "profile sensor" subject template
conf_set "profile sensor" san template
conf_set "profile sensor" key_types ec-p384
conf_set "profile sensor" extended_key_usage clientAuth
conf_set "profile sensor" crl_url "$SENSOR_CRL"
setup_acme dev1=SN0001
openssl x509 -in "$PKI/vroot.pem" -outform DER -out "$PKI/vroot.der"
server_start
enroll op dev1
assert_cert_count 1 "after the ir"

log "caCerts"
genm_run cacerts caCerts
only_itav cacerts id-it-caCerts
itav_value cacerts "$ITAV" "$T/cacerts.der"
der_certs "$T/cacerts.der" "$T/cacerts.pem"
check "caCerts: the issuing CA, then the operator root"
assert_eq 2 "$(pem_count "$T/cacerts.pem")" "certificates in caCerts"
assert_eq "$(fingerprint "$D/ca.pem")" "$(fingerprint "$T/cacerts.pem" 1)" "caCerts[0]"
assert_eq "$(fingerprint "$D/root.pem")" "$(fingerprint "$T/cacerts.pem" 2)" "caCerts[1]"

log "rootCaKeyUpdate"
genm_run rootupd rootCaKeyUpdate
only_itav rootupd id-it-rootCaKeyUpdate
check "rootCaKeyUpdate: no value (no root key update)"
assert_eq id-it-rootCaKeyUpdate "$ITAV" "rootCaKeyUpdate ITAV"

log "certReqTemplate"
# tmpl_items TEMPLATE.der: a CertReqTemplateContent one item a line: the
# subject's length, the extensions (sorted), then keySpec controls in order.
tmpl_items() {
    local items
    items=$(asn1_lines "$1" | awk "$_ASN1_WALK"'
        d == 1 { part++; next }
        part == 1 && d == 2 && /cont \[ *5 *\]/ { print "subject(" l ")" }
        part == 1 && d == 2 && /cont \[ *6 *\]/ { print "publicKey" }
        part == 1 && d == 4 && /OBJECT/ { e = $0; sub(/.*OBJECT *:/, "", e); c = "" }
        part == 1 && d == 4 && /BOOLEAN/ { c = "critical," }
        part == 1 && d == 4 && /OCTET STRING/ {
            v = $0; if (v ~ /HEX DUMP/) sub(/.*HEX DUMP\]:/, "", v); else v = ""
            print "ext(" e ":" c v ")" }
        part == 2 && d == 2 { if (ks != "") print ks ")"; ks = "keySpec("; sp = "" }
        part == 2 && d >= 3 && /prim:/ { v = $0; sub(/.*prim: *[A-Z ]*:/, "", v); ks = ks sp v; sp = " " }
        END { if (ks != "") print ks ")" }')
    grep -v '^ext(\|^keySpec(' <<<"$items" || true
    grep '^ext(' <<<"$items" | LC_ALL=C sort || true
    grep '^keySpec(' <<<"$items" || true
}
genm_run tmpl certReqTemplate
only_itav tmpl id-it-certReqTemplate
itav_value tmpl "$ITAV" "$T/tmpl.der"
check "certReqTemplate of 3gpp (docs/genm.md): no subject, EKU serverAuth+clientAuth, keySpec P-256, P-384, RSA 2048"
assert_eq "$(printf '%s\n' \
    'ext(X509v3 Extended Key Usage:301406082B0601050507030106082B06010505070302)' \
    'keySpec(1.3.6.1.5.5.7.5.1.11 id-ecPublicKey prime256v1)' \
    'keySpec(1.3.6.1.5.5.7.5.1.11 id-ecPublicKey secp384r1)' \
    'keySpec(1.3.6.1.5.5.7.5.1.12 0800)')" "$(tmpl_items "$T/tmpl.der")" "certReqTemplate of 3gpp"
run_cmp tmpl-sensor genm -infotype certReqTemplate -path "$CMP_PATH/p/sensor" \
    -cert "$OUT/op/cert.pem" -key "$OUT/op/new.key"
expect_ok tmpl-sensor "genm certReqTemplate at /p/sensor"
only_itav tmpl-sensor id-it-certReqTemplate
itav_value tmpl-sensor "$ITAV" "$T/tmpl-sensor.der"
check "certReqTemplate of sensor: empty subject to fill in, keyUsage digitalSignature (critical), EKU clientAuth, empty SAN, keySpec P-384"
assert_eq "$(printf '%s\n' 'subject(2)' \
    'ext(X509v3 Extended Key Usage:300A06082B06010505070302)' \
    'ext(X509v3 Key Usage:critical,03020780)' \
    'ext(X509v3 Subject Alternative Name:)' \
    'keySpec(1.3.6.1.5.5.7.5.1.11 id-ecPublicKey secp384r1)')" \
    "$(tmpl_items "$T/tmpl-sensor.der")" "certReqTemplate of sensor"
assert_cert_count 1 "genm issues nothing"

log "crlStatusList (built by hand, see above)"
crl_fetch "$T/current.crl" "crlStatusList: the current CRL"
CRL_ISSUER=$(der_child_hex "$T/current.crl" 2 3) || fail "crlStatusList: no issuer in the CRL"
CRL_THIS=$(der_child_hex "$T/current.crl" 2 4) || fail "crlStatusList: no thisUpdate in the CRL"
this=$(date -u -d "$(openssl crl -inform DER -in "$T/current.crl" -noout -lastupdate | sed 's/^lastUpdate=//')" +%s)
HOUR_BEFORE=$(der_tlv 17 "$(printf '%s' "$(date -u -d "@$((this - 3600))" +%y%m%d%H%M%SZ)" | od -An -v -tx1 | tr -d ' \n')")
# by_issuer NAME-HEX [TIME-HEX] / by_dpn URI [TIME-HEX]: one CRLStatus
by_issuer() { der_tlv 30 "$(der_tlv a1 "$(der_tlv 30 "$(der_tlv a4 "$1")")")${2:-}"; }
by_dpn() {
    der_tlv 30 "$(der_tlv a0 "$(der_tlv a0 "$(der_tlv 86 "$(printf '%s' "$1" | od -An -v -tx1 | tr -d ' \n')")")")${2:-}"
}
# make_crlstatus_genm OUT.der CRLSTATUS-HEX: a caCerts genm the client
# writes without sending it (-rspin makes it stop before any transfer; each
# has a fresh senderNonce), its ITAV replaced by crlStatusList { CRLSTATUS }
make_crlstatus_genm() {
    local t=$1.tmpl itav
    : >"$T/empty.der"
    openssl cmp -cmd genm -infotype caCerts -server "127.0.0.1:$PORT" -path "$CMP_PATH" \
        -cert "$OUT/op/cert.pem" -key "$OUT/op/new.key" -trusted "$D/root.pem" \
        -reqout "$t" -rspin "$T/empty.der" >"$t.log" 2>&1 || true
    [ -s "$t" ] || fail "crlStatusList: the client wrote no genm to rebuild ($(client_errors "$t.log"))"
    itav=$(der_tlv 30 "06082b06010505070416$(der_tlv 30 "$2")")
    hex_write "$(der_tlv 30 "$(der_child_hex "$t" 1 1)$(der_tlv b5 "$(der_tlv 30 "$itav")")$(der_child_hex "$t" 1 3)$(der_child_hex "$t" 1 4)")" "$1"
    grep -q '1.3.6.1.5.5.7.4.22' <<<"$(asn1_lines "$1")" || fail "crlStatusList: the rebuilt genm does not parse"
}
# crlstatus_run RUN CRLSTATUS-HEX WANT: sends that genm, re-protected; WANT
# "crl": the crls ITAV holds exactly the served CRL, "none": no value.
crlstatus_run() {
    mkdir -p "$OUT/$1"
    make_crlstatus_genm "$OUT/$1/genm.der" "$2"
    run_cmp "$1" genm -cert "$OUT/op/cert.pem" -key "$OUT/op/new.key" \
        -reqin "$OUT/$1/genm.der" -reqin_new_tid
    [ -s "$OUT/$1/rsp1.der" ] || fail "$1: no response ($(client_errors "$OUT/$1/client.log"))"
    expect_ok "$1" "the client accepts the genp (protection, nonces)"
    only_itav "$1" 1.3.6.1.5.5.7.4.23
    if [ "$3" = none ]; then
        check "$1: crls without value (nothing newer)"
        assert_eq 1.3.6.1.5.5.7.4.23 "$ITAV" "$1: crls ITAV"
        return 0
    fi
    itav_value "$1" "$ITAV" "$T/$1.der"
    check "$1: crls holds exactly the served CRL"
    assert_eq 1 "$(asn1_lines "$T/$1.der" | grep -c ':d=1 ')" "$1: CRLs in the crls value"
    assert_eq "$(hex_of "$T/current.crl")" "$(der_child_hex "$T/$1.der" 1 1)" "$1: CRL in crls vs GET /crl/ca.crl"
}
crlstatus_run crls-issuer "$(by_issuer "$CRL_ISSUER")" crl
crlstatus_run crls-older "$(by_issuer "$CRL_ISSUER" "$HOUR_BEFORE")" crl
crlstatus_run crls-current "$(by_issuer "$CRL_ISSUER" "$CRL_THIS")" none
crlstatus_run crls-dpn "$(by_dpn "$SENSOR_CRL")" crl
crlstatus_run crls-dpn-current "$(by_dpn "$SENSOR_CRL" "$CRL_THIS")" none
crlstatus_run crls-other-dpn "$(by_dpn http://elsewhere.example/x.crl)" none
crlstatus_run crls-other-issuer "$(by_issuer "$(der_child_hex "$PKI/vroot.der" 2 4)")" none

log "an empty crlStatusList is malformed (docs/genm.md: badDataFormat)"
mkdir -p "$OUT/crls-empty"
make_crlstatus_genm "$OUT/crls-empty/genm.der" ""
run_cmp crls-empty genm -cert "$OUT/op/cert.pem" -key "$OUT/op/new.key" \
    -reqin "$OUT/crls-empty/genm.der" -reqin_new_tid
expect_body crls-empty rsp1 23 "error"
expect_failinfo crls-empty badDataFormat

server_stop
log "PASS"
