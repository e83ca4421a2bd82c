#!/usr/bin/env bash
# ir_rejections: requests the CA must refuse, each answered with HTTP 200 and
# a signed CMP rejection carrying exactly the failInfo the SPEC names, and
# none of them may leave a certificate in the store:
#   unregistered serial            -> notAuthorized
#   vendor root not configured     -> signerNotTrusted
#   flipped byte in the protection -> badMessageCheck (via curl and client)
#   POPO signature that fails      -> badPOP (message protection still valid)
#   raVerified POP from a device   -> notAuthorized
#   no POP at all                  -> badPOP
#   replayed ir, byte-exact        -> transactionIdInUse (issue 6: whole
#                                     requests are remembered)
#   replayed nonce, fresh tid      -> badSenderNonce
#   SHA-1 / MD5 protection and POP -> badAlg
. "$(dirname "$0")/lib.sh" "$@"

# expect_curl_failinfo WHAT NAME: the last http_post got 200 and a rejection
# with exactly failInfo NAME.
expect_curl_failinfo() {
    local what=$1 want=$2 body
    check "$what: HTTP 200 with a rejection carrying $want"
    assert_eq 200 "$HTTP_STATUS" "$what: HTTP status"
    body=$(bodytype_of "$T/http.body")
    case $body in
    1 | 23) ;;
    *) fail "$what: response body type '$body', expected ip (1) or error (23)" ;;
    esac
    assert_eq 2 "$(pkistatus_of "$T/http.body")" "$what: PKIStatus (2 = rejection)"
    assert_eq "$want" "$(failinfo_of "$T/http.body")" "$what: failInfo"
}

# expect_count N WHAT: the store holds N certificates.
expect_count() {
    check "$2: certificate count stays $1"
    assert_eq "$1" "$(cert_count)" "$2: certificates in the store"
}

log "setting up"
ca_init
pki_root vroot "/O=Acme Vendor/CN=Acme Vendor Root CA"
pki_root other "/O=Other Vendor/CN=Other Root CA"
pki_device unreg SN9999 vroot       # valid vendor cert, serial not registered
pki_device foreign SN0002 other     # registered serial, unknown vendor root
pki_device dev3 SN0003 vroot        # tampering victims
pki_device dev4 SN0004 vroot        # replay
pki_device dev5 SN0005 vroot        # weak digests
pki_device dev6 SN0006 vroot rsa2048 # MD5 needs RSA (no ECDSA-with-MD5)
cli vendor add acme "$PKI/vroot.pem" >/dev/null || fail "vendor add failed"
cli device add acme SN0002 SN0003 SN0004 SN0005 SN0006 >/dev/null || fail "device add failed"
server_start
[ -x "$CLIENT" ] || fail "noroot_client binary not given (argument 2)"

log "unregistered serial"
run_ir unreg unreg
expect_failinfo unreg notAuthorized
expect_count 0 "unregistered serial"

log "device certificate from a vendor root that is not configured"
run_ir foreign foreign
expect_failinfo foreign signerNotTrusted
expect_count 0 "foreign vendor"

log "tampered protection, sent with curl"
genkey "$PKI/dev3-new.key"
mkdir -p "$OUT/tamper-curl"
"$CLIENT" --server "127.0.0.1:$PORT" --cert "$PKI/dev3.pem" --key "$PKI/dev3.key" \
    --newkey "$PKI/dev3-new.key" --tamper protection \
    --save-req "$OUT/tamper-curl/req.der" --no-send >"$OUT/tamper-curl/client.log" 2>&1 ||
    fail "noroot_client could not build a tampered ir: $(cat "$OUT/tamper-curl/client.log")"
HTTP_STATUS=$(http_post "$OUT/tamper-curl/req.der")
expect_curl_failinfo "tampered protection (curl)" badMessageCheck
expect_count 0 "tampered protection (curl)"

log "tampered protection, sent by the client"
run_noroot tamper-client --cert "$PKI/dev3.pem" --key "$PKI/dev3.key" \
    --newkey "$PKI/dev3-new.key" --trusted "$D/root.pem" --tamper protection \
    --trace "$OUT/tamper-client"
check "tampered protection (client): rejected with badMessageCheck"
[ "$RUN_RC" -ne 0 ] || fail "tampered protection (client): enrollment succeeded"
assert_eq badMessageCheck "$(failinfo_of "$OUT/tamper-client/rsp-1.der")" "tampered protection (client): failInfo in the response"
assert_eq badMessageCheck "$(client_failinfo "$OUT/tamper-client/client.log")" "tampered protection (client): failInfo the client accepted"
expect_count 0 "tampered protection (client)"

log "bad POP: POPO signature corrupted, message re-protected"
run_noroot badpop --cert "$PKI/dev3.pem" --key "$PKI/dev3.key" \
    --newkey "$PKI/dev3-new.key" --trusted "$D/root.pem" --tamper popo \
    --trace "$OUT/badpop"
check "bad POP: rejected with badPOP"
[ "$RUN_RC" -ne 0 ] || fail "bad POP: enrollment succeeded"
assert_eq badPOP "$(failinfo_of "$OUT/badpop/rsp-1.der")" "bad POP: failInfo in the response"
assert_eq badPOP "$(client_failinfo "$OUT/badpop/client.log")" "bad POP: failInfo the client accepted"
expect_count 0 "bad POP"

log "raVerified POP claimed by a device that is no RA"
run_ir raverified dev3 -popo 0
expect_failinfo raverified notAuthorized
expect_count 0 "raVerified"

log "no POP at all"
run_ir nopop dev3 -popo -1
expect_failinfo nopop badPOP
expect_count 0 "no POP"

log "replay: a completed ir sent again"
run_ir first dev4
check "replay: the first enrollment succeeds"
[ "$RUN_RC" -eq 0 ] || fail "replay: first enrollment failed: $(grep -m3 error "$OUT/first/client.log" | tr '\n' ' ')"
expect_count 1 "first enrollment"
HTTP_STATUS=$(http_post "$OUT/first/req1.der")
expect_curl_failinfo "replay (byte-exact, transaction closed)" transactionIdInUse
expect_count 1 "replay (same transactionID)"
# a fresh transactionID, re-protected by the client, but the old senderNonce
mkdir -p "$OUT/replay-tid"
openssl cmp -cmd ir -server "127.0.0.1:$PORT" -path "$CMP_PATH" \
    -cert "$PKI/dev4.pem" -key "$PKI/dev4.key" -newkey "$OUT/first/new.key" \
    -trusted "$D/root.pem" -certout "$OUT/replay-tid/cert.pem" \
    -reqin "$OUT/first/req1.der" -reqin_new_tid -rspout "$OUT/replay-tid/rsp1.der" \
    -msg_timeout 30 >"$OUT/replay-tid/client.log" 2>&1 || true
check "replay (fresh transactionID): a saved response"
[ -s "$OUT/replay-tid/rsp1.der" ] || fail "replay (fresh transactionID): no response: $(grep -m3 error "$OUT/replay-tid/client.log" | tr '\n' ' ')"
assert_eq 2 "$(pkistatus_of "$OUT/replay-tid/rsp1.der")" "replay (fresh transactionID): PKIStatus"
assert_eq badSenderNonce "$(failinfo_of "$OUT/replay-tid/rsp1.der")" "replay (fresh transactionID): failInfo"
expect_count 1 "replay (fresh transactionID)"

log "weak digests for protection and POP"
run_ir sha1 dev5 -digest sha1
expect_failinfo sha1 badAlg
genkey "$PKI/dev6-new.key" rsa2048
run_ir md5 dev6 -digest md5 -newkey "$PKI/dev6-new.key"
expect_failinfo md5 badAlg
expect_count 1 "weak digests"

check "devices refused above are still registered"
for s in SN0002 SN0003 SN0005 SN0006; do
    assert_eq registered "$(device_state acme "$s")" "state of $s"
done

log "registry changes reach the running server at once"
cli device add acme SN9999 >/dev/null || fail "device add SN9999 failed"
run_ir unreg-now-registered unreg
check "SN9999 enrolls after 'cmpca device add' without a restart"
[ "$RUN_RC" -eq 0 ] || fail "SN9999 did not enroll: $(tail -3 "$OUT/unreg-now-registered/client.log" | tr '\n' ' ')"
expect_count 2 "SN9999 registered while serving"
cli vendor add other "$PKI/other.pem" >/dev/null || fail "vendor add other failed"
cli device add other SN0002 >/dev/null || fail "device add other SN0002 failed"
run_ir foreign-now-trusted foreign
check "a device of a vendor added while serving enrolls"
[ "$RUN_RC" -eq 0 ] || fail "SN0002 of vendor other did not enroll: $(tail -3 "$OUT/foreign-now-trusted/client.log" | tr '\n' ' ')"
expect_count 3 "vendor added while serving"
assert_eq registered "$(device_state acme SN0002)" "acme/SN0002 untouched by other/SN0002"

server_stop
log "PASS"
