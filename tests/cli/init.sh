#!/usr/bin/env bash
# shellcheck disable=SC2034,SC2317 # variables and functions are used in ok's eval
# init.sh: `cmpca init` creates the data directory and refuses to touch one
# that already holds a CA.
# shellcheck source=tests/cli/lib.sh
. "$(dirname "$0")/lib.sh"

D=$T/data
run 0 "$CMPCA" init --dir "$D"
for f in cmpca.conf root.pem ca.pem ca.key cmpca.db; do
    ok "[ -s '$D/$f' ]" "init did not create $f"
done
ok "[ \"\$(stat -c %a '$D')\" = 700 ]" "data directory is not mode 0700"
ok "[ \"\$(stat -c %a '$D/ca.key')\" = 600 ]" "ca.key is not mode 0600"
ok "openssl verify -CAfile '$D/root.pem' '$D/ca.pem' >/dev/null" \
    "issuing CA does not verify against the root"
ok "openssl pkey -in '$D/ca.key' -noout -text | grep -q 'NIST CURVE: P-256'" \
    "default key is not EC P-256"
ok "openssl x509 -in '$D/root.pem' -noout -subject | grep -q 'O = cmpca Demo'" \
    "default organization missing from the root subject"
fp=$(openssl x509 -in "$D/root.pem" -noout -fingerprint -sha256 | cut -d= -f2)
ok "grep -q '$fp' '$T/out'" "stdout lacks the root's SHA-256 fingerprint"
subj=$(openssl x509 -in "$D/root.pem" -noout -subject -nameopt RFC2253 |
    sed 's/^subject=//')
ok "grep -qF '$subj' '$T/out'" "stdout lacks the root subject"

# a second init changes nothing
before=$(cd "$D" && sha256sum cmpca.conf root.pem ca.pem ca.key cmpca.db)
run 1 "$CMPCA" init --dir "$D"
err_like '^cmpca: .*cmpca.conf exists'
ok "[ \$(wc -l < '$T/err') -eq 1 ]" "refusal is not exactly one line"
after=$(cd "$D" && sha256sum cmpca.conf root.pem ca.pem ca.key cmpca.db)
ok "[ \"\$before\" = \"\$after\" ]" "files changed after a refused init"

# any one existing CA file is enough to refuse, and nothing is created
for f in root.pem ca.pem ca.key; do
    E=$T/only-$f
    mkdir -p "$E" && echo keep >"$E/$f"
    run 1 "$CMPCA" init --dir "$E"
    err_like "$f exists"
    ok "[ \"\$(ls '$E')\" = '$f' ] && [ \"\$(cat '$E/$f')\" = keep ]" \
        "refused init touched $E"
done

# options: key type and organization; $CMPCA_DIR and the ./cmpca-data default
run 0 "$CMPCA" init --dir "$T/rsa" --key rsa-2048 --org "Example Mobile"
ok "openssl pkey -in '$T/rsa/ca.key' -noout -text | grep -q 'Private-Key: (2048 bit'" \
    "--key rsa-2048 did not make an RSA-2048 key"
ok "openssl x509 -in '$T/rsa/root.pem' -noout -subject | grep -q 'O = Example Mobile'" \
    "--org not in the root subject"
run 0 "$CMPCA" init --key=ec-p384 --dir="$T/p384"
ok "openssl pkey -in '$T/p384/ca.key' -noout -text | grep -q 'NIST CURVE: P-384'" \
    "--key ec-p384 did not make a P-384 key"
run 2 "$CMPCA" init --dir "$T/bad" --key dsa
ok "[ ! -e '$T/bad' ]" "init with a bad --key created the directory"
CMPCA_DIR=$T/env run 0 "$CMPCA" init
ok "[ -s '$T/env/ca.key' ]" "\$CMPCA_DIR was not used"
(cd "$T" && run 0 "$CMPCA" init) # subshell: counts are lost, so check files
ok "[ -s '$T/cmpca-data/ca.key' ]" "./cmpca-data was not the default"
ok "[ \"\$(stat -c %a '$T/cmpca-data')\" = 700 ]" "default dir not 0700"
run 0 "$CMPCA" --dir "$T/global" init
ok "[ -s '$T/global/ca.key' ]" "--dir before the command was not used"
finish
