#!/usr/bin/env bash
# vendor.sh: `cmpca vendor add|list` accepts only a self-signed CA root and
# intermediates that chain to it, and stores its own PEM encoding.
# shellcheck source=tests/cli/lib.sh
. "$(dirname "$0")/lib.sh"

D=$T/data
"$CMPCA" init --dir "$D" >/dev/null 2>&1 || fail "init failed"
cd "$T" || exit 1

ec() { echo "-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes"; }
# shellcheck disable=SC2046
openssl req -x509 $(ec) -keyout root.key -out root.pem -days 30 \
    -subj "/O=Acme Networks/CN=Acme Device Root" 2>/dev/null
# shellcheck disable=SC2046
openssl req -x509 $(ec) -keyout other.key -out other.pem -days 30 \
    -subj "/CN=Other Root" 2>/dev/null
# shellcheck disable=SC2046
openssl req -x509 $(ec) -keyout ee.key -out ee.pem -days 30 \
    -subj "/CN=self-signed end entity" \
    -addext basicConstraints=critical,CA:FALSE 2>/dev/null
printf 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign\n' >ca.ext
# shellcheck disable=SC2046
openssl req -new $(ec) -keyout sub1.key -out sub1.csr -subj "/CN=Acme Sub 1" 2>/dev/null
openssl x509 -req -in sub1.csr -CA root.pem -CAkey root.key -set_serial 1 \
    -days 20 -extfile ca.ext -out sub1.pem 2>/dev/null
# shellcheck disable=SC2046
openssl req -new $(ec) -keyout sub2.key -out sub2.csr -subj "/CN=Acme Sub 2" 2>/dev/null
openssl x509 -req -in sub2.csr -CA sub1.pem -CAkey sub1.key -set_serial 2 \
    -days 10 -extfile ca.ext -out sub2.pem 2>/dev/null
openssl x509 -req -in sub2.csr -CA other.pem -CAkey other.key -set_serial 3 \
    -days 10 -extfile ca.ext -out foreign.pem 2>/dev/null
for f in root.pem other.pem ee.pem sub1.pem sub2.pem foreign.pem; do
    [ -s "$f" ] || fail "could not make test certificate $f"
done
head -c 600 /dev/urandom >garbage.pem
# stray text and a private key around the root: only the certificate is kept
{ echo "Acme root, handle with care"; cat root.key root.pem; } >noisy-root.pem
cat sub2.pem sub1.pem >chain.pem # deeper intermediate first on purpose

run 0 "$CMPCA" vendor add --dir "$D" acme noisy-root.pem --chain chain.pem
run 0 "$CMPCA" vendor list --dir "$D"
out_is "$(printf 'NAME\tID_ATTR\tROOT_SUBJECT\nacme\tserialNumber\tCN=Acme Device Root,O=Acme Networks')"
run 1 "$CMPCA" vendor add --dir "$D" acme root.pem
err_like '^cmpca: .*vendor acme exists$'
ok "[ \$(wc -l < err) -eq 1 ]" "duplicate vendor error is not one line"

export CMPCA_DIR=$D
run 0 "$CMPCA" vendor add other-1.x other.pem --id-attr CN
run 0 "$CMPCA" vendor list
ok "grep -qP '^other-1.x\tCN\tCN=Other Root$' out" "vendor list lacks other-1.x"
ok "[ \$(wc -l < out) -eq 3 ]" "vendor list does not have 3 lines"

# the stored root is our re-encoding: no text, no key
if command -v sqlite3 >/dev/null; then
    ok "sqlite3 '$D/cmpca.db' .dump | grep -q 'BEGIN CERTIFICATE'" \
        "no PEM in the database"
    ok "! sqlite3 '$D/cmpca.db' .dump | grep -q -e 'PRIVATE KEY' -e 'handle with care'" \
        "vendor add copied text or a key from the root file"
fi

# roots that must be rejected, each leaving nothing behind
run 1 "$CMPCA" vendor add bad ee.pem
err_like 'not a CA'
run 1 "$CMPCA" vendor add bad sub1.pem
err_like 'not a self-signed'
run 1 "$CMPCA" vendor add bad garbage.pem
err_like 'no PEM certificate'
cat root.pem other.pem >two.pem
run 1 "$CMPCA" vendor add bad two.pem
err_like '2 certificates'
run 1 "$CMPCA" vendor add bad missing.pem
err_like 'missing.pem: No such file'
# chains that must be rejected
run 1 "$CMPCA" vendor add bad root.pem --chain foreign.pem
err_like 'does not chain to the root'
run 1 "$CMPCA" vendor add bad root.pem --chain sub2.pem
err_like 'does not chain to the root'
run 1 "$CMPCA" vendor add bad root.pem --chain ee.pem
err_like 'not a CA'
run 1 "$CMPCA" vendor add bad root.pem --chain garbage.pem
err_like 'no PEM certificate'
# names and options
run 1 "$CMPCA" vendor add "bad name" root.pem
err_like 'bad vendor name'
run 1 "$CMPCA" vendor add "$(printf 'x%.0s' $(seq 65))" root.pem
err_like 'bad vendor name'
run 2 "$CMPCA" vendor add bad root.pem --id-attr O
run 2 "$CMPCA" vendor add bad
run 2 "$CMPCA" vendor frob
run 0 "$CMPCA" vendor list
ok "! grep -q '^bad' out && [ \$(wc -l < out) -eq 3 ]" "a rejected vendor was stored"
# vendor CRLs: signed by the vendor's root or chain only, stored re-encoded
cat >crl.cnf <<'CNF'
[ca]
default_ca = d
[d]
database = index.txt
crlnumber = crlnumber
default_md = sha256
default_crl_days = 30
CNF
: >index.txt
echo 01 >crlnumber
openssl ca -config crl.cnf -gencrl -keyfile root.key -cert root.pem -out root.crl 2>/dev/null
openssl ca -config crl.cnf -gencrl -keyfile other.key -cert other.pem -out other.crl 2>/dev/null
openssl crl -in root.crl -outform DER -out root.crl.der
run 0 "$CMPCA" vendor crl acme root.crl
err_like 'vendor acme: CRL set'
run 0 "$CMPCA" vendor crl acme root.crl.der
run 1 "$CMPCA" vendor crl acme other.crl
err_like 'not signed by vendor acme'
run 1 "$CMPCA" vendor crl acme garbage.pem
err_like 'not a CRL'
run 1 "$CMPCA" vendor crl nosuch root.crl
err_like 'no such vendor'
run 2 "$CMPCA" vendor crl acme
run 0 "$CMPCA" vendor crl acme --remove
err_like 'vendor acme: CRL removed'
finish
