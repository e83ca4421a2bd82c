#!/usr/bin/env bash
# shellcheck disable=SC2034,SC2317 # variables and functions are used in ok's eval
# crl.sh: `cmpca crl` and `cmpca cert revoke`. First on a CA that issued
# nothing (CRL numbers, an empty list, output forms, refusals); then one real
# certificate, enrolled with `openssl cmp` against `cmpca serve --demo`, is
# revoked from the command line while the server runs: the server must then
# serve the CLI's CRL listing it, and `openssl verify -crl_check` must call
# the certificate revoked.
# shellcheck source=tests/cli/lib.sh
. "$(dirname "$0")/lib.sh"
export OPENSSL_CONF=/dev/null

export CMPCA_DIR=$T/data
"$CMPCA" init >/dev/null 2>&1 || fail "init failed"
NEXT_RE='next update 20[0-9][0-9]-[01][0-9]-[0-3][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]Z$'

# crl_number FILE [DER|PEM]: the cRLNumber as openssl prints it (decimal).
crl_number() {
    openssl crl -inform "${2:-DER}" -in "$1" -noout -text 2>/dev/null |
        awk '/X509v3 CRL Number:/ { getline; gsub(/[ \t]/, ""); print; exit }'
}

# ---- no certificates ----------------------------------------------------------
run 0 "$CMPCA" crl --out "$T/f.der"
err_like "^CRL number 1, 0 revoked certificates, $NEXT_RE"
ok "[ ! -s '$T/out' ]" "crl --out printed on stdout"
ok "[ \"\$(crl_number '$T/f.der')\" = 1 ]" "first CRL is not number 1"
ok "openssl crl -inform DER -in '$T/f.der' -noout -text | grep -q 'No Revoked Certificates'" \
    "first CRL lists revoked certificates"
ok "openssl crl -inform DER -in '$T/f.der' -noout -text | grep -q 'Version 2 (0x1)'" \
    "first CRL is not v2"
ok "openssl crl -inform DER -in '$T/f.der' -noout -CAfile '$T/data/ca.pem' 2>&1 | grep -q 'verify OK'" \
    "first CRL does not verify with the issuing CA"
ok "[ \"\$(openssl crl -inform DER -in '$T/f.der' -noout -issuer)\" = \"\$(openssl x509 -in '$T/data/ca.pem' -noout -subject | sed 's/^subject/issuer/')\" ]" \
    "CRL issuer is not the issuing CA"

run 0 "$CMPCA" crl --out "$T/f.der"
err_like "^CRL number 2, 0 revoked certificates, "
ok "[ \"\$(crl_number '$T/f.der')\" = 2 ]" "second CRL is not number 2"
ok "[ -z \"\$(ls '$T' | grep 'f.der.tmp')\" ]" "crl --out left a temp file"

run 0 "$CMPCA" crl
err_like "^CRL number 3, 0 revoked certificates, "
ok "head -n 1 '$T/out' | grep -qx -- '-----BEGIN X509 CRL-----'" "crl without --out: no PEM on stdout"
ok "[ \"\$(crl_number '$T/out' PEM)\" = 3 ]" "PEM CRL is not number 3"

run 2 "$CMPCA" crl extra
run 2 "$CMPCA" crl --out
run 2 "$CMPCA" crl --bogus
run 0 "$CMPCA" crl --help
ok "grep -q '^usage: cmpca crl' '$T/out'" "crl --help: no usage on stdout"
run 1 "$CMPCA" crl --out "$T/no/such/dir/f.der"
run 1 "$CMPCA" crl --dir "$T/nothing-here"
err_like 'no CA in'

run 1 "$CMPCA" cert revoke 0A0B
err_like '^cmpca: cert revoke: no certificate with serial 0A0B$'
ok "[ ! -s '$T/out' ]" "revoke of an unknown serial printed on stdout"
run 1 "$CMPCA" cert revoke not-hex
err_like 'bad serial'
run 2 "$CMPCA" cert revoke 0A0B --reason bogus
err_like 'unknown reason bogus'
run 2 "$CMPCA" cert revoke 0A0B --reason 7
run 2 "$CMPCA" cert revoke 0A0B --reason 11
run 2 "$CMPCA" cert revoke
run 2 "$CMPCA" cert revoke 01 02
run 0 "$CMPCA" cert revoke --help
ok "grep -q 'keyCompromise' '$T/out'" "cert revoke --help does not list the reasons"

# ---- one real certificate -------------------------------------------------------
# A short CRL life, so the server's own refresh can be seen within seconds.
export CMPCA_DIR=$T/demo
"$CMPCA" init >/dev/null 2>&1 || fail "init of the demo CA failed"
sed -i 's/^crl_validity = .*/crl_validity = 6/; s/^crl_refresh = .*/crl_refresh = 1/' "$T/demo/cmpca.conf"
ok "grep -qx 'crl_refresh = 1' '$T/demo/cmpca.conf'" "could not set crl_refresh"
"$CMPCA" serve --demo --listen 127.0.0.1:0 >"$T/s.out" 2>"$T/s.err" &
pid=$!
for _ in $(seq 100); do
    grep -q '^openssl cmp ' "$T/s.out" 2>/dev/null && break
    sleep 0.1
done
port=$(sed -n '1s|.*127\.0\.0\.1:\([0-9]*\)/.*|\1|p' "$T/s.out")
cmd=$(sed -n 's/^\(openssl cmp .*\)$/\1/p' "$T/s.out")
ok "[ -n '$port' ] && [ -n \"\$cmd\" ]" "serve --demo did not start"
cert=$(printf '%s\n' "$cmd" | sed -n 's/.*-certout \([^ ]*\).*/\1/p' | tr -d "'")
if [ -n "$cmd" ] && (cd "$T" && eval "$cmd") >"$T/ir.log" 2>&1 && [ -s "$cert" ]; then
    serial=$(openssl x509 -in "$cert" -noout -serial | sed 's/^serial=//')
    run 0 "$CMPCA" cert revoke "$serial" --reason keyCompromise
    out_is "revoked $serial (keyCompromise)"
    run 1 "$CMPCA" cert revoke "$(printf '%s' "$serial" | tr 'A-F' 'a-f')"
    err_like "^cmpca: cert revoke: certificate $serial is already revoked$"
    run 0 "$CMPCA" cert show "$serial"
    ok "grep -qx 'Status:      revoked' '$T/out'" "cert show: status is not revoked"
    ok "grep -Eq '^Revoked:     20.*Z \\(keyCompromise\\)$' '$T/out'" "cert show: no Revoked line"

    # the running server serves the CRL the CLI just made
    ok "curl -sf -o '$T/served.der' -D '$T/served.head' http://127.0.0.1:$port/crl/ca.crl" \
        "GET /crl/ca.crl failed"
    ok "grep -qi '^Content-Type: application/pkix-crl' '$T/served.head'" "served CRL: wrong content type"
    ok "grep -Eqi '^Cache-Control: public, max-age=[0-9]+' '$T/served.head'" "served CRL: no max-age"
    ok "openssl crl -inform DER -in '$T/served.der' -noout -text | grep -q 'Serial Number: $serial'" \
        "served CRL does not list $serial"
    ok "openssl crl -inform DER -in '$T/served.der' -noout -text | grep -q 'Key Compromise'" \
        "served CRL has no keyCompromise reason"
    openssl crl -inform DER -in "$T/served.der" -out "$T/served.pem" 2>/dev/null
    ok "! openssl verify -crl_check -CAfile '$T/demo/root.pem' -untrusted '$T/demo/ca.pem' -CRLfile '$T/served.pem' '$cert' >'$T/verify.log' 2>&1" \
        "openssl verify -crl_check accepts the revoked certificate"
    ok "grep -q 'certificate revoked' '$T/verify.log'" "openssl verify does not say 'certificate revoked'"
    run 0 "$CMPCA" crl --out "$T/g.der"
    err_like "^CRL number [0-9]+, 1 revoked certificates, "

    # the server republishes on its own every crl_refresh (1 s) seconds
    n1=$(crl_number "$T/served.der")
    sleep 2.5
    ok "curl -sf -o '$T/later.der' -D '$T/later.head' http://127.0.0.1:$port/crl/ca.crl" \
        "second GET /crl/ca.crl failed"
    n2=$(crl_number "$T/later.der")
    ok "[ -n '$n1' ] && [ -n '$n2' ] && [ '$n2' -gt '$n1' ]" \
        "the server did not republish (cRLNumber $n1, then $n2)"
    ok "[ \"\$(crl_number '$T/g.der')\" -lt '$n2' ]" "the CLI's CRL is still served"
    ok "tr -d '\\r' <'$T/later.head' | grep -Eqi '^Cache-Control: public, max-age=[0-6]\$'" \
        "max-age is not within crl_validity: $(grep -i cache-control "$T/later.head")"
    ok "openssl crl -inform DER -in '$T/later.der' -noout -text | grep -q 'Serial Number: $serial'" \
        "the republished CRL lost $serial"
else
    fail "enrollment of the demo device failed: $(tail -n 5 "$T/ir.log" 2>/dev/null | tr '\n' ' ')"
fi
kill -TERM "$pid" 2>/dev/null
wait "$pid"
rc=$?
ok "[ '$rc' = 0 ]" "serve exited with status $rc"
ok "! grep -Eq 'AddressSanitizer|LeakSanitizer|runtime error:' '$T/s.err'" "sanitizer report in the server log"
finish
