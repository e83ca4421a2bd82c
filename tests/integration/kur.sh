#!/usr/bin/env bash
# kur: key update (RFC 4210 5.3.5, RFC 9483 4.1.3, TS 33.310 renewal). A
# device renews its operator certificate with a kur signed by that
# certificate (-oldcert defaults to -cert). The answer is a kup with a new
# certificate for the same subject and the new key, without caPubs; after
# certConf/pkiConf the new certificate is confirmed and the old one revoked
# with reason superseded, as `cmpca cert list` and the served CRL show. The
# renewed certificate can itself be renewed, and a profile with
# `kur_key_reuse = yes` lets a kur keep the old key. Refusals (same key
# without kur_key_reuse, revoked or foreign signer) are in
# lifecycle_rejections.sh.
. "$(dirname "$0")/lib.sh" "$@"

# check_renewed RUN OLD-CERT NEW-KEY: everything a completed kur must leave.
check_renewed() {
    local run=$1 old=$2 o=$OUT/$1 old_ser new_ser
    check_certrep "$run" 8 "kup"
    check "$run: the kup carries no caPubs"
    if has_capubs "$o/rsp1.der"; then fail "$run: the kup carries caPubs"; fi
    assert_eq 0 "$(pem_count "$o/capubs.pem")" "$run: caPubs certificates the client saved"
    check_op_cert "$run" "$o/cert.pem" "$3" "renewed certificate"
    check "$run: same subject as the old certificate, a new serial"
    assert_eq "$(subject_of "$old")" "$(subject_of "$o/cert.pem")" "$run: subject"
    old_ser=$(serial_of "$old")
    new_ser=$(serial_of "$o/cert.pem")
    [ "$old_ser" != "$new_ser" ] || fail "$run: the renewed certificate has the old serial $old_ser"
    check "$run: new certificate confirmed, old one revoked"
    assert_eq confirmed "$(cert_status "$new_ser")" "$run: status of the new certificate $new_ser"
    assert_eq revoked "$(cert_status "$old_ser")" "$run: status of the old certificate $old_ser"
    check "$run: the served CRL lists the old certificate as superseded, not the new one"
    crl_fetch "$T/$run.crl" "$run"
    crl_has "$T/$run.crl" "$old_ser" || fail "$run: old serial $old_ser not in the CRL ($(crl_serials "$T/$run.crl" | tr '\n' ' '))"
    assert_eq Superseded "$(crl_reason "$T/$run.crl" "$old_ser")" "$run: CRL reason of $old_ser"
    if crl_has "$T/$run.crl" "$new_ser"; then fail "$run: the new certificate $new_ser is in the CRL"; fi
    assert_eq enrolled "$(device_state acme SN0001)" "$run: device state"
}

log "setting up"
ca_init
conf_set "profile reuse" kur_key_reuse yes
setup_acme dev1=SN0001
server_start

log "initial enrollment gives the operator certificate"
enroll op dev1
assert_cert_count 1 "after the ir"

log "kur with a new key, signed by the operator certificate"
mkdir -p "$OUT/kur1" && genkey "$OUT/kur1/new.key"
run_cmp kur1 kur -cert "$OUT/op/cert.pem" -key "$OUT/op/new.key" -newkey "$OUT/kur1/new.key"
expect_ok kur1 "kur signed by the operator certificate succeeds"
check "kur1: the client sent a kur (7)"
expect_body kur1 req1 7 "kur"
check_renewed kur1 "$OUT/op/cert.pem" "$OUT/kur1/new.key"
assert_cert_count 2 "after the first kur"

log "the renewed certificate renews again (P-384 key)"
mkdir -p "$OUT/kur2" && genkey "$OUT/kur2/new.key" ec384
run_cmp kur2 kur -cert "$OUT/kur1/cert.pem" -key "$OUT/kur1/new.key" -newkey "$OUT/kur2/new.key"
expect_ok kur2 "kur signed by the renewed certificate succeeds"
check_renewed kur2 "$OUT/kur1/cert.pem" "$OUT/kur2/new.key"
check "kur2: the CRL still lists the first certificate"
crl_has "$T/kur2.crl" "$(serial_of "$OUT/op/cert.pem")" || fail "kur2: first certificate dropped from the CRL"
assert_cert_count 3 "after the second kur"

log "kur keeping the key, on a profile with kur_key_reuse = yes"
run_cmp reuse kur -path "$CMP_PATH/p/reuse" -cert "$OUT/kur2/cert.pem" -key "$OUT/kur2/new.key" \
    -newkey "$OUT/kur2/new.key"
expect_ok reuse "kur with the old key succeeds under kur_key_reuse = yes"
check_renewed reuse "$OUT/kur2/cert.pem" "$OUT/kur2/new.key"
assert_cert_count 4 "after the kur with key reuse"

check "cert list: one confirmed certificate, three revoked"
assert_eq "confirmed 1 revoked 3" \
    "$(cli cert list | tail -n +2 | cut -f4 | sort | uniq -c | awk '{ printf "%s%s %s", sep, $2, $1; sep = " " }')" \
    "statuses in cert list"

server_stop
log "PASS"
