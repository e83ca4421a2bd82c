#!/usr/bin/env bash
# approval: devices registered with `--approval manual` wait for an operator
# (RFC 4210 5.3.22 polling, RFC 9483 4.4). Their ir is answered by an ip
# with PKIStatus waiting; the client polls (pollReq/pollRep with checkAfter =
# poll_interval) and nothing is issued meanwhile. After `cmpca device approve`
# the next pollReq gets the ip with the certificate, confirmed by certConf;
# after `cmpca device reject` it gets a rejection with failInfo
# notAuthorized and nothing is issued; the device stays `rejected` and its
# next ir is refused at once. A device with the default (auto)
# approval enrolls at once on the same server. Every wait is bounded: the
# clients have -total_timeout and the loops a maximum count.
. "$(dirname "$0")/lib.sh" "$@"

POLL=1

# pollrep_check_after RSP.der: checkAfter of the first entry of a pollRep.
pollrep_check_after() {
    asn1_lines "$1" | awk "$_ASN1_WALK"'
        d == 1 || top != 2 || body != 26 { next }
        d == 3 { n3++ }
        n3 == 1 && d == 4 && /prim: *INTEGER/ { n4++; if (n4 == 2) { v = $0; sub(/.*INTEGER *:/, "", v); print v; exit } }' |
        while read -r v; do printf '%d\n' "0x$v"; done
}

# start_waiting RUN DEVICE: starts the ir of DEVICE in the background and
# checks its first answer: an ip with PKIStatus waiting, nothing issued,
# then at least one pollReq answered by pollRep (checkAfter = $POLL).
start_waiting() {
    local run=$1 o=$OUT/$1 before i
    before=$(cert_count)
    mkdir -p "$o" && genkey "$o/new.key"
    RUN_MSGS=40 run_cmp_bg "$run" ir -cert "$PKI/$2.pem" -key "$PKI/$2.key" -newkey "$o/new.key" \
        -total_timeout 40
    check "$run: the first answer is an ip with PKIStatus waiting (3)"
    wait_for_file "$o/rsp1.der" "$BG_PID" 20 || fail "$run: no first response ($(client_errors "$o/client.log"))"
    sleep 0.2 # the file is complete once the client moves on
    expect_body "$run" rsp1 1 "ip"
    assert_eq 3 "$(pkistatus_of "$o/rsp1.der")" "$run: PKIStatus of the first ip"
    check "$run: the client polls: pollReq (25) answered by pollRep (26), checkAfter $POLL"
    wait_for_file "$o/rsp3.der" "$BG_PID" 10 || fail "$run: fewer than two polls ($(client_errors "$o/client.log"))"
    kill -0 "$BG_PID" 2>/dev/null || fail "$run: the client stopped while waiting: $(client_errors "$o/client.log")"
    for i in 2 3; do
        expect_body "$run" "req$i" 25 "pollReq"
        expect_body "$run" "rsp$i" 26 "pollRep"
        assert_eq "$POLL" "$(pollrep_check_after "$o/rsp$i.der")" "$run: checkAfter in rsp$i"
    done
    assert_cert_count "$before" "$run: nothing issued while waiting"
}

log "setting up"
ca_init
conf_set cmp poll_interval "$POLL"
setup_acme auto=SN0001
pki_device m1 SN0100 vroot
pki_device m2 SN0101 vroot
cli device add acme SN0100 SN0101 --approval manual >/dev/null || fail "device add --approval manual failed"
server_start

log "a device with automatic approval enrolls at once"
enroll auto auto
check "auto: the first answer is the ip with the certificate"
expect_body auto rsp1 1 "ip"
case $(pkistatus_of "$OUT/auto/rsp1.der") in
0 | 1) ;;
*) fail "auto: PKIStatus of the ip is '$(pkistatus_of "$OUT/auto/rsp1.der")', expected accepted or grantedWithMods" ;;
esac
assert_cert_count 1 "after the automatic enrollment"

log "manual approval: approved while the client polls"
start_waiting appr m1
cli device approve acme SN0100 >"$T/approve.out" 2>&1 || fail "cmpca device approve failed: $(cat "$T/approve.out")"
wait_pid "$BG_PID" 40
RUN_RC=$WAIT_RC
expect_ok appr "the client receives the certificate after the approval"
expect_nonces appr
last=$(last_rsp appr)
n=${last##*/rsp}
n=${n%.der}
check "appr: ... then an accepted ip with the certificate, certConf, pkiConf ($n responses)"
expect_body appr "rsp$n" 19 "pkiConf (last)"
expect_body appr "req$n" 24 "certConf (last request)"
expect_body appr "req$((n - 1))" 25 "pollReq before the certificate"
expect_body appr "rsp$((n - 1))" 1 "ip with the certificate"
case $(pkistatus_of "$OUT/appr/rsp$((n - 1)).der") in
0 | 1) ;;
*) fail "appr: PKIStatus of the final ip is '$(pkistatus_of "$OUT/appr/rsp$((n - 1)).der")'" ;;
esac
certrep_cert "$OUT/appr/rsp$((n - 1)).der" "$OUT/appr/final.pem" || fail "appr: no certificate in the final ip"
assert_eq "$(fingerprint "$OUT/appr/cert.pem")" "$(fingerprint "$OUT/appr/final.pem")" "appr: certificate saved by the client"
check_op_cert appr "$OUT/appr/cert.pem" "$OUT/appr/new.key" "approved certificate"
subject_has "$OUT/appr/cert.pem" SN0100 || fail "appr: subject $(subject_of "$OUT/appr/cert.pem") lacks SN0100"
assert_eq confirmed "$(cert_status "$(serial_of "$OUT/appr/cert.pem")")" "appr: certificate status"
assert_eq enrolled "$(device_state acme SN0100)" "appr: device state"
assert_cert_count 2 "after the approval"

log "manual approval: rejected while the client polls"
start_waiting rej m2
cli device reject acme SN0101 >"$T/reject.out" 2>&1 || fail "cmpca device reject failed: $(cat "$T/reject.out")"
wait_pid "$BG_PID" 40
RUN_RC=$WAIT_RC
check "rej: the client got an answer in time"
[ "$RUN_RC" -ne 124 ] || fail "rej: the client was still polling 40 s after the rejection"
check "rej: the rejection answers the last pollReq"
expect_body rej "$(basename "$(last_rsp rej)" .der)" 1 "ip (rejection)"
expect_nonces rej
expect_failinfo_in rej "$(last_rsp rej)" notAuthorized
[ ! -s "$OUT/rej/cert.pem" ] || fail "rej: the client saved a certificate"
assert_cert_count 2 "after the rejection"
assert_eq rejected "$(device_state acme SN0101)" "rej: device state"

log "a rejected device may not enroll: its next ir is refused at once"
run_ir rej-again m2
expect_failinfo rej-again notAuthorized
assert_cert_count 2 "after the ir of the rejected device"

server_stop
log "PASS"
