#!/usr/bin/env bash
# genm: general messages of RFC 9483 4.3, signed by an operator certificate,
# answered by a genp (body 22) the client accepts:
#   caCerts          -> one id-it-caCerts ITAV: the issuing CA, then the root
#   rootCaKeyUpdate  -> one id-it-rootCaKeyUpdate ITAV without value (the
#                       root has not changed)
#   certReqTemplate  -> one id-it-certReqTemplate ITAV, its value (when there
#                       is a template) a CertReqTemplateContent
#   crlStatusList    -> one id-it-crls ITAV holding the current CRL, and no
#                       value when the client's thisUpdate is the current one
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
setup_acme dev1=SN0001
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
genm_run tmpl certReqTemplate
only_itav tmpl id-it-certReqTemplate
if [ "$ITAV" = id-it-certReqTemplate ]; then
    log "certReqTemplate: the genp says there is no template (value absent)"
else
    itav_value tmpl "$ITAV" "$T/tmpl.der"
    check "certReqTemplate: the value is a CertReqTemplateContent (SEQUENCE { CertTemplate SEQUENCE, ... })"
    v=$(asn1_lines "$T/tmpl.der")
    grep -q '^ *0:d=0 .*cons: SEQUENCE' <<<"$v" || fail "certReqTemplate: value is not a SEQUENCE"
    [[ $(grep -m1 ':d=1 ' <<<"$v") == *"cons: SEQUENCE"* ]] ||
        fail "certReqTemplate: the value does not start with a CertTemplate SEQUENCE"
fi
assert_cert_count 1 "genm issues nothing"

log "crlStatusList (built by hand, see above)"
crl_fetch "$T/current.crl" "crlStatusList: the current CRL"
# make_crlstatus_genm OUT.der [THISUPDATE-HEX]: a caCerts genm the client
# writes without sending it (-rspin makes it stop before any transfer; each
# has a fresh senderNonce), its ITAV replaced by
# crlStatusList { CRLStatus { issuer [1] { [4] CA name } [thisUpdate] } }
make_crlstatus_genm() {
    local t=$1.tmpl issuer status itav
    : >"$T/empty.der"
    openssl cmp -cmd genm -infotype caCerts -server "127.0.0.1:$PORT" -path "$CMP_PATH" \
        -cert "$OUT/op/cert.pem" -key "$OUT/op/new.key" -trusted "$D/root.pem" \
        -reqout "$t" -rspin "$T/empty.der" >"$t.log" 2>&1 || true
    [ -s "$t" ] || fail "crlStatusList: the client wrote no genm to rebuild ($(client_errors "$t.log"))"
    issuer=$(der_child_hex "$T/current.crl" 2 3) || fail "crlStatusList: no issuer in the CRL"
    status=$(der_tlv 30 "$(der_tlv a1 "$(der_tlv 30 "$(der_tlv a4 "$issuer")")")${2:-}")
    itav=$(der_tlv 30 "06082b06010505070416$(der_tlv 30 "$status")")
    hex_write "$(der_tlv 30 "$(der_child_hex "$t" 1 1)$(der_tlv b5 "$(der_tlv 30 "$itav")")$(der_child_hex "$t" 1 3)$(der_child_hex "$t" 1 4)")" "$1"
    grep -q '1.3.6.1.5.5.7.4.22' <<<"$(asn1_lines "$1")" || fail "crlStatusList: the rebuilt genm does not parse"
}
# crlstatus_run RUN [THISUPDATE-HEX]: sends that genm, re-protected.
crlstatus_run() {
    mkdir -p "$OUT/$1"
    make_crlstatus_genm "$OUT/$1/genm.der" "${2:-}"
    run_cmp "$1" genm -cert "$OUT/op/cert.pem" -key "$OUT/op/new.key" \
        -reqin "$OUT/$1/genm.der" -reqin_new_tid
    [ -s "$OUT/$1/rsp1.der" ] || fail "$1: no response ($(client_errors "$OUT/$1/client.log"))"
    expect_ok "$1" "the client accepts the genp (protection, nonces)"
}
crlstatus_run crls
only_itav crls 1.3.6.1.5.5.7.4.23
itav_value crls "$ITAV" "$T/crls.der"
check "crlStatusList without thisUpdate: crls holds exactly the served CRL"
assert_eq 1 "$(asn1_lines "$T/crls.der" | grep -c ':d=1 ')" "CRLs in the crls value"
assert_eq "$(hex_of "$T/current.crl")" "$(der_child_hex "$T/crls.der" 1 1)" "CRL in crls vs GET /crl/ca.crl"
crlstatus_run crls-current "$(der_child_hex "$T/current.crl" 2 4)"
only_itav crls-current 1.3.6.1.5.5.7.4.23
check "crlStatusList with the current thisUpdate: crls without value (no newer CRL)"
assert_eq 1.3.6.1.5.5.7.4.23 "$ITAV" "crls ITAV"

server_stop
log "PASS"
