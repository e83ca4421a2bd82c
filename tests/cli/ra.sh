#!/usr/bin/env bash
# ra.sh: `cmpca ra add|list|remove`: an RA is its pinned certificate
# (self-signed or from any CA), usable for signing, not one of our own CA
# certificates, held by one RA only, serving vendors that exist; the store
# keeps our own PEM encoding of it.
# shellcheck source=tests/cli/lib.sh
. "$(dirname "$0")/lib.sh"

D=$T/data
cd "$T" || exit 1

# help needs no data directory, and a missing one is reported as such
for sub in "" add list remove; do
    # shellcheck disable=SC2086
    run 0 "$CMPCA" --dir "$T/nowhere" ra $sub --help
    ok "grep -q '^usage: cmpca ra' out" "ra $sub --help prints no usage"
done
ok "[ ! -e '$T/nowhere' ]" "--help created the data directory"
run 0 "$CMPCA" --help
ok "grep -q '^  ra ' out" "cmpca --help does not list ra"
run 1 "$CMPCA" --dir "$T/nowhere" ra list
err_like "^cmpca: no CA in $T/nowhere: run cmpca init$"

"$CMPCA" init --dir "$D" >/dev/null 2>&1 || fail "init failed"
export CMPCA_DIR=$D

ec() { echo "-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes"; }
# the RA's own self-signed certificate, no keyUsage at all
# shellcheck disable=SC2046
openssl req -x509 $(ec) -keyout ra1.key -out ra1.pem -days 30 \
    -subj "/O=Field Ops/CN=RA One" 2>/dev/null
# an RA certificate from some other CA, keyUsage digitalSignature
# shellcheck disable=SC2046
openssl req -x509 $(ec) -keyout vroot.key -out vroot.pem -days 30 \
    -subj "/CN=Acme Root" 2>/dev/null
# shellcheck disable=SC2046
openssl req -new $(ec) -keyout ra2.key -out ra2.csr -subj "/CN=RA Two" 2>/dev/null
printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n' >ee.ext
openssl x509 -req -in ra2.csr -CA vroot.pem -CAkey vroot.key -set_serial 7 \
    -days 20 -extfile ee.ext -out ra2.pem 2>/dev/null
# keyUsage without digitalSignature
printf 'keyUsage=critical,keyEncipherment\n' >kenc.ext
openssl x509 -req -in ra2.csr -CA vroot.pem -CAkey vroot.key -set_serial 8 \
    -days 20 -extfile kenc.ext -out kenc.pem 2>/dev/null
# expired yesterday
openssl x509 -in ra1.pem -signkey ra1.key -days -1 -out expired.pem 2>/dev/null
# a certificate of the issuing CA's own key
openssl req -x509 -key "$D/ca.key" -out cakey.pem -days 30 -subj "/CN=Not An RA" \
    2>/dev/null
for f in ra1.pem vroot.pem ra2.pem kenc.pem expired.pem cakey.pem; do
    [ -s "$f" ] || fail "could not make test certificate $f"
done
cat ra1.pem ra2.pem >two.pem
head -c 600 /dev/urandom >garbage.pem
# stray text and the private key around the certificate: neither is kept
{ echo "RA one, keep safe"; cat ra1.key ra1.pem; } >noisy-ra1.pem

"$CMPCA" vendor add acme vroot.pem >/dev/null 2>&1 || fail "vendor add acme"
"$CMPCA" vendor add beta ra1.pem >/dev/null 2>&1 || fail "vendor add beta"

fp() { openssl x509 -in "$1" -noout -fingerprint -sha256 | sed 's/^.*=//'; }

# add: subject and fingerprint on stdout, repeated vendors dropped
run 0 "$CMPCA" ra add field-1 noisy-ra1.pem --vendors acme,beta,acme --may-raverify
out_is "$(printf 'RA subject: CN=RA One,O=Field Ops\nRA SHA-256 fingerprint: %s' "$(fp ra1.pem)")"
err_like '^cmpca: RA field-1 added'
run 0 "$CMPCA" ra add --may-revoke Alpha.2 ra2.pem --vendors '*'
out_is "$(printf 'RA subject: CN=RA Two\nRA SHA-256 fingerprint: %s' "$(fp ra2.pem)")"
run 0 "$CMPCA" ra list
out_is "$(printf 'NAME\tVENDORS\tRAVERIFY\tREVOKE\tSUBJECT\nAlpha.2\t*\tno\tyes\tCN=RA Two\nfield-1\tacme,beta\tyes\tno\tCN=RA One,O=Field Ops')"

# the stored certificate is our re-encoding: no text, no key
if command -v sqlite3 >/dev/null; then
    ok "[ \"\$(sqlite3 '$D/cmpca.db' \"SELECT cert_pem FROM ras WHERE name = 'field-1'\")\" = \"\$(openssl x509 -in ra1.pem)\" ]" \
        "stored RA certificate is not the re-encoded certificate"
    ok "! sqlite3 '$D/cmpca.db' .dump | grep -q -e 'PRIVATE KEY' -e 'keep safe'" \
        "ra add copied text or a key from the certificate file"
fi

# duplicates: the name, and the certificate under another name
run 1 "$CMPCA" ra add field-1 vroot.pem --vendors acme
err_like '^cmpca: ra add: RA field-1 exists$'
run 1 "$CMPCA" ra add field-1 ra2.pem --vendors acme
err_like '^cmpca: ra add: RA field-1 exists$'
run 1 "$CMPCA" ra add field-9 ra1.pem --vendors acme
err_like '^cmpca: ra add: certificate already registered as RA field-1$'
ok "[ \$(wc -l < err) -eq 1 ]" "duplicate certificate error is not one line"

# vendors: each must exist, the first missing one is named
run 1 "$CMPCA" ra add new1 vroot.pem --vendors acme,nope,gone
err_like '^cmpca: ra add: no vendor nope$'
run 1 "$CMPCA" ra add new1 vroot.pem --vendors 'bad vendor'
err_like '^cmpca: ra add: no vendor bad vendor$'
run 2 "$CMPCA" ra add new1 vroot.pem
err_like '^cmpca: ra add: --vendors is required'
ok "grep -q '^usage: cmpca ra add' err" "usage error without usage"
for bad in "" "acme,,beta" "acme," ",acme" "*,acme" "acme,*"; do
    run 2 "$CMPCA" ra add new1 vroot.pem --vendors "$bad"
    err_like '^cmpca: ra add: --vendors takes'
done

# certificates that must be refused
run 1 "$CMPCA" ra add new1 "$D/root.pem" --vendors acme
err_like 'root.pem: is the operator root CA certificate of this cmpca$'
run 1 "$CMPCA" ra add new1 "$D/ca.pem" --vendors acme
err_like 'ca.pem: is the issuing CA certificate of this cmpca$'
run 1 "$CMPCA" ra add new1 cakey.pem --vendors acme
err_like '^cmpca: cakey.pem: certifies the key of the issuing CA'
run 1 "$CMPCA" ra add new1 expired.pem --vendors acme
err_like '^cmpca: expired.pem: certificate expired \(notAfter [0-9-]+T[0-9:]+Z\)$'
run 1 "$CMPCA" ra add new1 kenc.pem --vendors acme
err_like '^cmpca: kenc.pem: keyUsage does not allow digitalSignature$'
run 1 "$CMPCA" ra add new1 two.pem --vendors acme
err_like '^cmpca: two.pem: holds 2 certificates, expected one$'
run 1 "$CMPCA" ra add new1 garbage.pem --vendors acme
err_like 'no PEM certificate'
run 1 "$CMPCA" ra add new1 missing.pem --vendors acme
err_like 'missing.pem: No such file'
# names, arguments and options
run 1 "$CMPCA" ra add "bad name" vroot.pem --vendors acme
err_like "^cmpca: ra add: bad RA name 'bad name'"
run 1 "$CMPCA" ra add "$(printf 'x%.0s' $(seq 65))" vroot.pem --vendors acme
err_like 'bad RA name'
run 2 "$CMPCA" ra add new1 --vendors acme
run 2 "$CMPCA" ra add new1 vroot.pem extra --vendors acme
run 2 "$CMPCA" ra add new1 vroot.pem --vendors
run 2 "$CMPCA" ra add new1 vroot.pem --vendors acme --may-everything
err_like 'unknown option --may-everything'
run 2 "$CMPCA" ra list extra
run 2 "$CMPCA" ra remove
run 2 "$CMPCA" ra remove a b
run 2 "$CMPCA" ra frob
err_like 'unknown subcommand frob'
run 2 "$CMPCA" ra
run 0 "$CMPCA" ra list
ok "[ \$(wc -l < out) -eq 3 ]" "a refused RA was stored"

# --dir in each position (the environment points elsewhere)
CMPCA_DIR=$T/nowhere run 1 "$CMPCA" ra list
err_like "^cmpca: no CA in $T/nowhere"
CMPCA_DIR=$T/nowhere run 0 "$CMPCA" ra list --dir "$D"
ok "[ \$(wc -l < out) -eq 3 ]" "ra list --dir read another directory"
CMPCA_DIR=$T/nowhere run 0 "$CMPCA" ra --dir "$D" list
ok "[ \$(wc -l < out) -eq 3 ]" "ra --dir list read another directory"

# remove: unknown names fail and change nothing; a removed RA's
# certificate may be registered again
run 0 "$CMPCA" ra remove field-1
out_is "removed RA field-1"
run 1 "$CMPCA" ra remove field-1
err_like '^cmpca: ra remove: no RA field-1$'
run 1 "$CMPCA" ra remove never
err_like '^cmpca: ra remove: no RA never$'
run 0 "$CMPCA" ra list
out_is "$(printf 'NAME\tVENDORS\tRAVERIFY\tREVOKE\tSUBJECT\nAlpha.2\t*\tno\tyes\tCN=RA Two')"
run 0 "$CMPCA" ra add field-2 ra1.pem --vendors beta --may-raverify --may-revoke
run 0 "$CMPCA" ra list
ok "grep -qP '^field-2\tbeta\tyes\tyes\tCN=RA One,O=Field Ops$' out" \
    "re-registered RA missing from the list"
finish
