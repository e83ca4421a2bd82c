#!/usr/bin/env bash
# ca_export.sh: `cmpca ca export` prints the operator root, or the issuing CA
# followed by the root.
# shellcheck source=tests/cli/lib.sh
. "$(dirname "$0")/lib.sh"

D=$T/data
"$CMPCA" init --dir "$D" >/dev/null 2>&1 || fail "init failed"

run 0 "$CMPCA" ca export --dir "$D"
ok "cmp -s '$T/out' '$D/root.pem'" "ca export differs from root.pem"
run 0 "$CMPCA" ca export --dir "$D" --root
ok "cmp -s '$T/out' '$D/root.pem'" "ca export --root differs from root.pem"
run 0 "$CMPCA" ca export --dir "$D" --chain
cp "$T/out" "$T/chain.pem"
ok "[ \$(grep -c 'BEGIN CERTIFICATE' '$T/chain.pem') -eq 2 ]" \
    "--chain does not hold two certificates"
# split: first the issuing CA, then the root
awk '/BEGIN CERT/ { n++ } { print > ("'"$T"'/part" n ".pem") }' "$T/chain.pem"
ok "cmp -s '$T/part1.pem' '$D/ca.pem'" "first certificate of --chain is not ca.pem"
ok "cmp -s '$T/part2.pem' '$D/root.pem'" "second certificate of --chain is not root.pem"
ok "openssl verify -CAfile '$T/part2.pem' '$T/part1.pem' >/dev/null" \
    "issuing CA does not verify against the exported root"
ok "! grep -q 'PRIVATE' '$T/chain.pem'" "export leaked a private key"
run 2 "$CMPCA" ca export --dir "$D" --root --chain
run 2 "$CMPCA" ca export --dir "$D" --key
run 1 "$CMPCA" ca export --dir "$T/nothing"
err_like "^cmpca: no CA in $T/nothing: run cmpca init$"
finish
