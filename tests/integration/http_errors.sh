#!/usr/bin/env bash
# http_errors: the HTTP face of the server (RFC 9811 as summarised in SPEC.md).
# A valid ir posted with curl gets 200 and an ip, also under the /p/3gpp
# profile and the /initialization label; bodies that are not a PKIMessage get
# 400; unknown paths, profiles and labels 404; other methods 405 with
# "Allow: POST"; other content types 415; oversized bodies 413 (with and
# without Content-Length); an ir under the /revocation label is a CMP
# badRequest. None of these may issue a certificate except the valid ones.
. "$(dirname "$0")/lib.sh" "$@"

# status_of_request CURL-ARGS...: prints the HTTP status; headers in
# $T/http.headers, body in $T/http.body.
status_of_request() {
    curl -s -o "$T/http.body" -D "$T/http.headers" -w '%{http_code}' --max-time 30 "$@" || true
}

# make_ir NAME DEVICE: a valid, unsent ir from DEVICE in $OUT/NAME.der.
make_ir() {
    genkey "$PKI/$1-new.key"
    "$CLIENT" --server "127.0.0.1:$PORT" --cert "$PKI/$2.pem" --key "$PKI/$2.key" \
        --newkey "$PKI/$1-new.key" --implicit-confirm \
        --save-req "$OUT/$1.der" --no-send >"$OUT/$1.log" 2>&1 ||
        fail "noroot_client could not build an ir: $(cat "$OUT/$1.log")"
}

# expect_ip WHAT: the last request got 200, application/pkixcmp and an ip
# that accepted the request.
expect_ip() {
    check "$1: HTTP 200, application/pkixcmp, ip accepted"
    assert_eq 200 "$HTTP_STATUS" "$1: HTTP status"
    grep -qi '^content-type: *application/pkixcmp' "$T/http.headers" ||
        fail "$1: Content-Type is '$(grep -i '^content-type' "$T/http.headers" | tr -d '\r')'"
    assert_eq 1 "$(bodytype_of "$T/http.body")" "$1: body type (ip)"
    case $(pkistatus_of "$T/http.body") in
    0 | 1) ;;
    *) fail "$1: PKIStatus $(pkistatus_of "$T/http.body") failInfo $(failinfo_of "$T/http.body")" ;;
    esac
}

expect_status() {
    check "$2: HTTP $1"
    assert_eq "$1" "$HTTP_STATUS" "$2: HTTP status"
}

log "setting up"
ca_init
conf_set server max_body 65536
pki_root vroot "/O=Acme Vendor/CN=Acme Vendor Root CA"
for i in 1 2 3 4; do pki_device "dev$i" "SN000$i" vroot; done
cli vendor add acme "$PKI/vroot.pem" >/dev/null || fail "vendor add failed"
cli device add acme SN0001 SN0002 SN0003 SN0004 >/dev/null || fail "device add failed"
[ -x "$CLIENT" ] || fail "noroot_client binary not given (argument 2)"
server_start

log "valid requests through curl"
make_ir ir1 dev1
HTTP_STATUS=$(status_of_request -H 'Content-Type: application/pkixcmp' --data-binary "@$OUT/ir1.der" "$URL")
expect_ip "valid ir at $CMP_PATH"
make_ir ir2 dev2
HTTP_STATUS=$(status_of_request -H 'Content-Type: application/pkixcmp' --data-binary "@$OUT/ir2.der" "$URL/p/3gpp/initialization")
expect_ip "valid ir at $CMP_PATH/p/3gpp/initialization"
assert_eq 2 "$(cert_count)" "certificates after the valid requests"

log "an ir under a label it does not fit"
make_ir ir3 dev3
HTTP_STATUS=$(status_of_request -H 'Content-Type: application/pkixcmp' --data-binary "@$OUT/ir3.der" "$URL/revocation")
check "ir at /revocation: HTTP 200 with badRequest"
assert_eq 200 "$HTTP_STATUS" "ir at /revocation: HTTP status"
assert_eq 2 "$(pkistatus_of "$T/http.body")" "ir at /revocation: PKIStatus"
assert_eq badRequest "$(failinfo_of "$T/http.body")" "ir at /revocation: failInfo"

log "bodies that are not a PKIMessage"
head -c 300 /dev/urandom >"$T/random.bin"
HTTP_STATUS=$(status_of_request -H 'Content-Type: application/pkixcmp' --data-binary "@$T/random.bin" "$URL")
expect_status 400 "random bytes"
{ printf '\060\202\001\000'; head -c 256 /dev/urandom; } >"$T/derish.bin"
HTTP_STATUS=$(status_of_request -H 'Content-Type: application/pkixcmp' --data-binary "@$T/derish.bin" "$URL")
expect_status 400 "SEQUENCE header + random contents"
openssl x509 -in "$D/ca.pem" -outform DER -out "$T/cert.der"
HTTP_STATUS=$(status_of_request -H 'Content-Type: application/pkixcmp' --data-binary "@$T/cert.der" "$URL")
expect_status 400 "a DER certificate"
head -c 100 "$OUT/ir1.der" >"$T/truncated.der"
HTTP_STATUS=$(status_of_request -H 'Content-Type: application/pkixcmp' --data-binary "@$T/truncated.der" "$URL")
expect_status 400 "a truncated ir"
: >"$T/empty.bin"
HTTP_STATUS=$(status_of_request -H 'Content-Type: application/pkixcmp' --data-binary "@$T/empty.bin" "$URL")
expect_status 400 "an empty body"

log "paths, methods, content types, sizes"
for p in /foo /.well-known/cmpx "$CMP_PATH/p/nosuchprofile" "$CMP_PATH/nosuchlabel" "$CMP_PATH/p/3gpp/nosuchlabel"; do
    HTTP_STATUS=$(status_of_request -H 'Content-Type: application/pkixcmp' --data-binary "@$OUT/ir1.der" "http://127.0.0.1:$PORT$p")
    expect_status 404 "POST $p"
done
for m in GET PUT DELETE; do
    HTTP_STATUS=$(status_of_request -X "$m" "$URL")
    expect_status 405 "$m $CMP_PATH"
    grep -qi '^allow: *POST' "$T/http.headers" || fail "$m: 405 without 'Allow: POST'"
done
for ct in text/plain application/octet-stream application/json; do
    HTTP_STATUS=$(status_of_request -H "Content-Type: $ct" --data-binary "@$OUT/ir1.der" "$URL")
    expect_status 415 "Content-Type $ct"
done
HTTP_STATUS=$(status_of_request --data-binary "@$OUT/ir1.der" -H 'Content-Type:' "$URL")
expect_status 415 "no Content-Type"
head -c 70000 /dev/zero >"$T/big.bin"
HTTP_STATUS=$(status_of_request -H 'Content-Type: application/pkixcmp' --data-binary "@$T/big.bin" "$URL")
expect_status 413 "70000 bytes with Content-Length (max_body 65536)"
HTTP_STATUS=$(status_of_request -H 'Content-Type: application/pkixcmp' -H 'Transfer-Encoding: chunked' --data-binary "@$T/big.bin" "$URL")
expect_status 413 "70000 bytes chunked (max_body 65536)"

check "the server still answers a valid ir afterwards"
make_ir ir4 dev4
HTTP_STATUS=$(status_of_request -H 'Content-Type: application/pkixcmp' --data-binary "@$OUT/ir4.der" "$URL")
expect_ip "valid ir after the errors"
assert_eq 3 "$(cert_count)" "certificates at the end"

server_stop
log "PASS"
