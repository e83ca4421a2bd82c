#!/usr/bin/env bash
# concurrent: many devices enroll at the same moment. Wave 1: 16 `openssl
# cmp` processes started together (ir, certConf). Wave 2: 16 enrollments on
# 16 threads of one noroot_client process (implicitConfirm). Every one must
# succeed, every certificate must carry its own device's serial and key, the
# store must list 32 distinct certificate serials, all confirmed, every device
# must be enrolled, and the server log must hold no error or sanitizer report.
. "$(dirname "$0")/lib.sh" "$@"

N=16
log "setting up $N + $N devices"
ca_init
pki_root vroot "/O=Acme Vendor/CN=Acme Vendor Root CA"
serials=()
for i in $(seq $N); do
    pki_device "p$i" "SNP$(printf %03d "$i")" vroot
    pki_device "t$i" "SNT$(printf %03d "$i")" vroot
    genkey "$PKI/t$i-new.key"
    serials+=("SNP$(printf %03d "$i")" "SNT$(printf %03d "$i")")
done
cli vendor add acme "$PKI/vroot.pem" >/dev/null || fail "vendor add failed"
printf '%s\n' "${serials[@]}" >"$T/serials.txt"
cli device import acme "$T/serials.txt" >/dev/null || fail "device import failed"
assert_eq $((2 * N)) "$(cli device list | tail -n +2 | grep -c 'registered')" "registered devices"

SERVER_ARGS="--threads 8" server_start

log "wave 1: $N openssl cmp processes at once"
pids=()
for i in $(seq $N); do
    run_ir "p$i" "p$i" &
    pids+=($!)
done
# run_ir records the client's status in its log directory only through files:
# wait for the subshells, then judge each run by its outputs.
for p in "${pids[@]}"; do wait "$p" || true; done
for i in $(seq $N); do
    o=$OUT/p$i
    check "p$i: enrolled, certConf confirmed"
    [ -s "$o/cert.pem" ] || fail "p$i: no certificate: $(grep -m3 error "$o/client.log" | tr '\n' ' ')"
    assert_eq 19 "$(bodytype_of "$o/rsp2.der")" "p$i: pkiConf after certConf"
    subject_has "$o/cert.pem" "SNP$(printf %03d "$i")" ||
        fail "p$i: certificate subject lacks SNP$(printf %03d "$i")"
    assert_eq "$(pubkey_of "$o/new.key")" "$(pubkey_of "$o/cert.pem")" "p$i: public key"
done

log "wave 2: $N threads of noroot_client"
mkdir -p "$OUT/t"
run_noroot t --count $N --cert "$PKI/t{n}.pem" --key "$PKI/t{n}.key" \
    --newkey "$PKI/t{n}-new.key" --trusted "$D/root.pem" --implicit-confirm \
    --certout "$OUT/t/cert{n}.pem"
check "wave 2: all $N enrollments succeeded"
[ "$RUN_RC" -eq 0 ] || fail "wave 2: noroot_client exited $RUN_RC: $(grep -v ': enrolled$' "$OUT/t/client.log" | sed -n 1,5p | tr '\n' ' ')"
for i in $(seq $N); do
    subject_has "$OUT/t/cert$i.pem" "SNT$(printf %03d "$i")" ||
        fail "t$i: certificate subject lacks SNT$(printf %03d "$i")"
    assert_eq "$(pubkey_of "$PKI/t$i-new.key")" "$(pubkey_of "$OUT/t/cert$i.pem")" "t$i: public key"
done

check "the store lists $((2 * N)) distinct serials, all confirmed"
cli cert list >"$T/certs.txt"
assert_eq $((2 * N)) "$(tail -n +2 "$T/certs.txt" | cut -f1 | sort -u | wc -l | tr -d ' ')" "distinct serials"
assert_eq $((2 * N)) "$(tail -n +2 "$T/certs.txt" | awk -F '\t' '$4 == "confirmed"' | wc -l | tr -d ' ')" "confirmed certificates"
{ for i in $(seq $N); do serial_of "$OUT/p$i/cert.pem"; serial_of "$OUT/t/cert$i.pem"; done; } | sort -u >"$T/issued.txt"
assert_eq $((2 * N)) "$(wc -l <"$T/issued.txt" | tr -d ' ')" "distinct serials received by the clients"
tail -n +2 "$T/certs.txt" | cut -f1 | tr a-f A-F | sort -u | diff - <(tr a-f A-F <"$T/issued.txt") >/dev/null ||
    fail "the store's serials differ from those the clients received"
check "every device is enrolled"
assert_eq $((2 * N)) "$(cli device list | tail -n +2 | awk -F '\t' '$3 == "enrolled"' | wc -l | tr -d ' ')" "enrolled devices"

server_stop
check "no errors in the server log"
assert_no_grep "$SERVER_LOG" ' ERROR ' "server log"
log "PASS"
