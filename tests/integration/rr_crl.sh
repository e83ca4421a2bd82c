#!/usr/bin/env bash
# rr_crl: revocation and the CRL (RFC 9483 4.2, RFC 5280 5). A device revokes
# one of its certificates with an rr signed by that certificate or by another
# valid certificate of the same device: the rp accepts, `cmpca cert list`
# shows "revoked", and the CRL served at GET /crl/ca.crl (DER,
# application/pkix-crl, signed by the issuing CA, nextUpdate = thisUpdate +
# crl_validity, cRLNumber growing) lists the serial with the reason of
# -revreason. `cmpca cert revoke SERIAL --reason R` (names and numbers) does
# the same from the command line while the server runs, and `cmpca crl`
# prints the CRL (PEM, or DER with --out). With `crl_name` the CRL moves to
# /crl/<crl_name>.crl, and `crl_refresh` makes the server publish a newer one
# on its own. Refusals of rr are in lifecycle_rejections.sh.
. "$(dirname "$0")/lib.sh" "$@"

CRL_VALIDITY=7200
LAST_CRL_NUMBER=0

# header NAME: the first header NAME in $T/crl.headers (curl -D).
header() {
    sed -n "s/^$1: *//Ip" "$T/crl.headers" | tr -d '\r' | sed -n 1p
}

# crl_after WHAT: fetches the served CRL into $T/crl.der, checks it like
# crl_fetch, that its cRLNumber grew and its validity is crl_validity.
crl_after() {
    local n this next
    crl_fetch "$T/crl.der" "$1"
    n=$(crl_number "$T/crl.der")
    check "$1: cRLNumber present and greater than the previous one ($LAST_CRL_NUMBER)"
    [ -n "$n" ] || fail "$1: the CRL has no cRLNumber"
    [ "$n" -gt "$LAST_CRL_NUMBER" ] || fail "$1: cRLNumber $n is not greater than $LAST_CRL_NUMBER"
    LAST_CRL_NUMBER=$n
    this=$(date -u -d "$(openssl crl -inform DER -in "$T/crl.der" -noout -lastupdate | sed 's/^lastUpdate=//')" +%s)
    next=$(date -u -d "$(openssl crl -inform DER -in "$T/crl.der" -noout -nextupdate | sed 's/^nextUpdate=//')" +%s)
    check "$1: nextUpdate - thisUpdate = crl_validity ($CRL_VALIDITY s), thisUpdate about now"
    assert_eq "$CRL_VALIDITY" "$((next - this))" "$1: CRL validity in seconds"
    if [ $(($(date -u +%s) - this)) -ge 600 ] || [ $((this - $(date -u +%s))) -ge 600 ]; then
        fail "$1: thisUpdate $(date -u -d "@$this") is not about now"
    fi
}

# expect_revoked_in_crl WHAT SERIAL REASON: SERIAL is revoked in the store
# and in the last fetched CRL with REASON (as openssl prints it).
expect_revoked_in_crl() {
    check "$1: $2 revoked in cert list and in the CRL with reason $3"
    assert_eq revoked "$(cert_status "$2")" "$1: status of $2"
    crl_has "$T/crl.der" "$2" || fail "$1: $2 not in the CRL ($(crl_serials "$T/crl.der" | tr '\n' ' '))"
    assert_eq "$3" "$(crl_reason "$T/crl.der" "$2")" "$1: CRL reason of $2"
}

# check_rp RUN: the client got an rp (body 12) accepting the revocation.
check_rp() {
    check "$1: rr (11) answered by rp (12) with status accepted"
    expect_body "$1" req1 11 "rr"
    expect_body "$1" rsp1 12 "rp"
    assert_eq 0 "$(pkistatus_of "$OUT/$1/rsp1.der")" "$1: rp PKIStatus (0 = accepted)"
    [ ! -e "$OUT/$1/req2.der" ] || fail "$1: a second request was sent"
}

log "setting up"
ca_init
conf_set ca crl_validity "$CRL_VALIDITY"
setup_acme dev1=SN0001 dev2=SN0002
server_start

log "before any revocation the CRL is served and empty"
crl_after "initial CRL"
assert_eq "" "$(crl_serials "$T/crl.der")" "serials in the initial CRL"
check "CRL caching headers (docs/crl.md): Last-Modified = thisUpdate, Expires = nextUpdate, Cache-Control max-age"
curl -s -D "$T/crl.headers" -o "$T/crl-h.der" --max-time 30 "http://127.0.0.1:$PORT/crl/ca.crl" >/dev/null ||
    fail "GET /crl/ca.crl failed"
this=$(date -u -d "$(openssl crl -inform DER -in "$T/crl-h.der" -noout -lastupdate | sed 's/^lastUpdate=//')" +%s)
next=$(date -u -d "$(openssl crl -inform DER -in "$T/crl-h.der" -noout -nextupdate | sed 's/^nextUpdate=//')" +%s)
assert_eq "$this" "$(date -u -d "$(header Last-Modified)" +%s)" "Last-Modified vs thisUpdate"
assert_eq "$next" "$(date -u -d "$(header Expires)" +%s)" "Expires vs nextUpdate"
cc=$(header Cache-Control)
[[ $cc =~ ^public,\ *max-age=([0-9]+)$ ]] || fail "Cache-Control is '$cc', expected 'public, max-age=N'"
age=${BASH_REMATCH[1]}
left=$((next - $(date -u +%s)))
if [ "$age" -gt "$CRL_VALIDITY" ] || [ "$age" -lt $((left - 60)) ]; then
    fail "Cache-Control max-age=$age, expected about $left (seconds until nextUpdate)"
fi
check "HEAD /crl/ca.crl: 200, application/pkix-crl, no body; POST: 405 with Allow: GET, HEAD"
assert_eq "200 application/pkix-crl 0" \
    "$(curl -s -I -o /dev/null -w '%{http_code} %{content_type} %{size_download}' --max-time 30 "http://127.0.0.1:$PORT/crl/ca.crl")" \
    "HEAD /crl/ca.crl"
assert_eq 405 "$(curl -s -D "$T/post.headers" -o /dev/null -w '%{http_code}' --max-time 30 --data-binary x \
    "http://127.0.0.1:$PORT/crl/ca.crl")" "POST /crl/ca.crl"
grep -qi '^Allow: *GET, *HEAD' "$T/post.headers" || fail "POST /crl/ca.crl: no 'Allow: GET, HEAD' header"
check "an unknown CRL name is 404"
assert_eq 404 "$(crl_get "$T/none.crl" other | cut -d' ' -f1)" "GET /crl/other.crl"

log "device SN0001 gets three certificates (ir, cr, cr), SN0002 one"
enroll a dev1
for r in b c; do
    mkdir -p "$OUT/$r" && genkey "$OUT/$r/new.key"
    run_cmp "$r" cr -cert "$OUT/a/cert.pem" -key "$OUT/a/new.key" -newkey "$OUT/$r/new.key"
    expect_ok "$r" "cr for a further certificate succeeds"
done
enroll d dev2
assert_cert_count 4 "after the enrollments"
A=$(serial_of "$OUT/a/cert.pem")
B=$(serial_of "$OUT/b/cert.pem")
C=$(serial_of "$OUT/c/cert.pem")
E=$(serial_of "$OUT/d/cert.pem")

log "rr of certificate a, signed by the same device's certificate b, keyCompromise"
run_cmp rr1 rr -oldcert "$OUT/a/cert.pem" -cert "$OUT/b/cert.pem" -key "$OUT/b/new.key" -revreason 1
expect_ok rr1 "rr signed by another certificate of the device succeeds"
check_rp rr1
crl_after rr1
expect_revoked_in_crl rr1 "$A" "Key Compromise"
check "rr1: b, c and d are not revoked"
for s in "$B" "$C" "$E"; do
    assert_eq confirmed "$(cert_status "$s")" "rr1: status of $s"
    if crl_has "$T/crl.der" "$s"; then fail "rr1: $s is in the CRL"; fi
done

log "rr of certificate c signed by itself, cessationOfOperation"
run_cmp rr2 rr -oldcert "$OUT/c/cert.pem" -cert "$OUT/c/cert.pem" -key "$OUT/c/new.key" -revreason 5
expect_ok rr2 "rr signed by the certificate itself succeeds"
check_rp rr2
crl_after rr2
expect_revoked_in_crl rr2 "$C" "Cessation Of Operation"
expect_revoked_in_crl rr2 "$A" "Key Compromise"

log "rr of SN0002's certificate signed by itself, affiliationChanged"
run_cmp rr3 rr -oldcert "$OUT/d/cert.pem" -cert "$OUT/d/cert.pem" -key "$OUT/d/new.key" -revreason 3
expect_ok rr3 "rr of the other device's own certificate succeeds"
check_rp rr3
crl_after rr3
expect_revoked_in_crl rr3 "$E" "Affiliation Changed"
assert_cert_count 4 "revocations add no certificates"

log "cmpca cert revoke while the server runs"
cli cert revoke "$B" --reason superseded >"$T/revoke.out" 2>&1 ||
    fail "cmpca cert revoke $B --reason superseded failed: $(cat "$T/revoke.out")"
crl_after "cert revoke --reason superseded"
expect_revoked_in_crl "cert revoke" "$B" "Superseded"
enroll f dev2
F=$(serial_of "$OUT/f/cert.pem")
cli cert revoke "$F" --reason 1 >"$T/revoke.out" 2>&1 ||
    fail "cmpca cert revoke $F --reason 1 failed: $(cat "$T/revoke.out")"
crl_after "cert revoke --reason 1"
expect_revoked_in_crl "cert revoke (number)" "$F" "Key Compromise"
check "cert revoke of an unknown serial fails with status 1"
rc=0
cli cert revoke 0123456789ABCDEF --reason keyCompromise >"$T/revoke.out" 2>&1 || rc=$?
assert_eq 1 "$rc" "exit status of cert revoke 0123456789ABCDEF"

log "cmpca crl"
"$CMPCA" crl --dir "$D" --out "$T/cli.der" >"$T/crl-cli.out" 2>&1 || fail "cmpca crl --out failed: $(cat "$T/crl-cli.out")"
crl_verify "$T/cli.der" DER "cmpca crl --out"
"$CMPCA" crl --dir "$D" >"$T/cli.pem" 2>"$T/crl-cli.err" || fail "cmpca crl failed: $(cat "$T/crl-cli.err")"
grep -q -- '-----BEGIN X509 CRL-----' "$T/cli.pem" || fail "cmpca crl: no PEM CRL on stdout"
crl_verify "$T/cli.pem" PEM "cmpca crl"
check "cmpca crl lists the five revoked serials, in both forms"
want=$(printf '%s\n' "$A" "$B" "$C" "$E" "$F" | tr a-f A-F | sort)
assert_eq "$want" "$(crl_serials "$T/cli.der" DER | tr a-f A-F | sort)" "serials in cmpca crl --out"
assert_eq "$want" "$(crl_serials "$T/cli.pem" PEM | tr a-f A-F | sort)" "serials in cmpca crl"
assert_eq "$want" "$(crl_serials "$T/crl.der" | tr a-f A-F | sort)" "serials in the served CRL"
check "the server now serves the CRL cmpca crl made last"
crl_after "after cmpca crl"
assert_eq "$(openssl crl -in "$T/cli.pem" -outform DER | od -An -v -tx1 | tr -d ' \n')" "$(hex_of "$T/crl.der")" \
    "served CRL vs the output of cmpca crl"

log "crl_name and crl_refresh: a restarted server serves /crl/operator.crl and refreshes it"
server_stop
conf_set ca crl_name operator
conf_set ca crl_refresh 2
server_start
check "GET /crl/ca.crl is 404 once crl_name = operator"
assert_eq 404 "$(crl_get "$T/old.crl" | cut -d' ' -f1)" "GET /crl/ca.crl"
check "GET /crl/operator.crl serves the CRL, listing the five serials"
assert_eq "200 application/pkix-crl" "$(crl_get "$T/op1.crl" operator)" "GET /crl/operator.crl"
crl_verify "$T/op1.crl" DER "operator.crl"
assert_eq "$want" "$(crl_serials "$T/op1.crl" | tr a-f A-F | sort)" "serials in operator.crl"
n1=$(crl_number "$T/op1.crl")
check "with crl_refresh = 2 a newer CRL (higher cRLNumber) is served within 10 s"
n2=$n1
for _ in $(seq 50); do
    sleep 0.2
    [ "$(crl_get "$T/op2.crl" operator | cut -d' ' -f1)" = 200 ] || continue
    n2=$(crl_number "$T/op2.crl")
    [ "$n2" -gt "$n1" ] && break
done
[ "$n2" -gt "$n1" ] || fail "cRLNumber still $n2 after 10 s with crl_refresh = 2"
crl_verify "$T/op2.crl" DER "refreshed operator.crl"
assert_eq "$want" "$(crl_serials "$T/op2.crl" | tr a-f A-F | sort)" "serials in the refreshed CRL"

server_stop
log "PASS"
