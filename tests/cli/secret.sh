#!/usr/bin/env bash
# shellcheck disable=SC2034,SC2317 # variables and functions are used in ok's eval
# secret.sh: shared secrets for MAC protection from the command line:
# `cmpca device add ... --secret-file F [--kid KID]` and `cmpca device
# secret`. The secret is sealed (the database holds neither it nor its hex),
# never printed, kids name one device, and bad input changes nothing.
# shellcheck source=tests/cli/lib.sh
. "$(dirname "$0")/lib.sh"

export CMPCA_DIR=$T/data
D=$CMPCA_DIR
"$CMPCA" init >/dev/null 2>&1 || fail "init failed"
cd "$T" || exit 1
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout v.key -out v.pem -days 30 -subj "/CN=Vendor Root" 2>/dev/null
"$CMPCA" vendor add acme v.pem 2>/dev/null || fail "vendor add acme failed"
"$CMPCA" vendor add zeta v.pem 2>/dev/null || fail "vendor add zeta failed"

# init made the sealing key: 32 octets, owner only
ok "[ \"\$(stat -c %a '$D/secrets.key')\" = 600 ]" "secrets.key is not 0600"
ok "[ \"\$(stat -c %s '$D/secrets.key')\" = 32 ]" "secrets.key is not 32 bytes"

S1=Sup3r-Secret-Value-One
S2=An0ther-Secret-Value-Two
umask 077
printf '%s\n' "$S1" >s1.txt
printf '%s' "$S2" >s2.txt
HEX1=$(printf '%s' "$S1" | od -An -tx1 | tr -d ' \n' | tr a-f A-F)
HEX2=$(printf '%s' "$S2" | od -An -tx1 | tr -d ' \n' | tr a-f A-F)
db() { sqlite3 "$D/cmpca.db" "$1"; }
hexof() { printf '%s' "$1" | od -An -tx1 | tr -d ' \n' | tr a-f A-F; }

# no secret anywhere: outputs, sealed column (hex and text), database files
no_leak() {
    ok "! grep -qF -e '$S1' -e '$S2' '$T/out' '$T/err'" "$1: secret printed"
    ok "! db 'select hex(sealed) from secrets' | grep -q -e '$HEX1' -e '$HEX2'" \
        "$1: secret in clear (hex) in the database"
    ok "! cat '$D'/cmpca.db* | grep -aqF -e '$S1' -e '$S2'" \
        "$1: secret in clear in the database files"
}

run 0 "$CMPCA" device add acme SN1 --secret-file s1.txt
out_is "$(printf 'added 1, skipped 0 (already registered)\nsecret set for acme/SN1 (kid SN1, single use)')"
no_leak "device add"
ok "[ \"\$(db 'select hex(kid), vendor, device, single_use, used from secrets')\" = '$(hexof SN1)|acme|SN1|1|0' ]" \
    "secrets row is not kid SN1 of acme/SN1, single use, unused"
# nonce (12) + secret + tag (16)
ok "[ \"\$(db 'select length(sealed) from secrets')\" = $((12 + ${#S1} + 16)) ]" \
    "sealed value has the wrong length"
sealed1=$(db 'select hex(sealed) from secrets')

# usage errors: more serials, --kid alone, secrets on import
run 2 "$CMPCA" device add acme SN2 SN3 --secret-file s1.txt
run 2 "$CMPCA" device add acme SN2 --kid K
run 2 "$CMPCA" device import acme s1.txt --secret-file s1.txt
run 2 "$CMPCA" device secret acme SN1
run 2 "$CMPCA" device secret acme SN1 --secret-file s1.txt --approval manual
run 2 "$CMPCA" device secret acme --secret-file s1.txt

# bad secret files register nothing
printf 'short\n' >short.txt
run 1 "$CMPCA" device add acme SN2 --secret-file short.txt
err_like 'short.txt: a secret must be 8-1024 bytes'
head -c 1025 /dev/zero | tr '\0' x >long.txt
run 1 "$CMPCA" device add acme SN2 --secret-file long.txt
head -c 1024 /dev/zero | tr '\0' y >max.txt
printf 'line-one-xx\nline-two-xx\n' >two.txt
run 1 "$CMPCA" device add acme SN2 --secret-file two.txt
err_like 'line break'
run 1 "$CMPCA" device add acme SN2 --secret-file missing.txt
err_like 'missing.txt: No such file'
run 0 "$CMPCA" device list acme
ok "! grep -q SN2 out" "a refused secret registered the device"

# an existing device keeps its secret; `device secret` replaces it
run 1 "$CMPCA" device add acme SN1 --secret-file s2.txt
err_like 'already registered: set its secret with'
ok "[ \"\$(db 'select hex(sealed) from secrets')\" = '$sealed1' ]" \
    "refused add changed the secret"
db "update secrets set used = 1"
run 0 "$CMPCA" device secret acme SN1 --secret-file s2.txt
out_is "secret set for acme/SN1 (kid SN1, single use)"
no_leak "device secret"
ok "[ \"\$(db 'select hex(sealed) from secrets')\" != '$sealed1' ]" \
    "device secret did not replace the secret"
ok "[ \"\$(db 'select used, length(sealed) from secrets')\" = '0|$((12 + ${#S2} + 16))' ]" \
    "replaced secret is not fresh (used cleared, new length)"
run 1 "$CMPCA" device secret acme NOPE --secret-file s1.txt
err_like 'no device acme/NOPE'
run 1 "$CMPCA" device secret nosuch SN1 --secret-file s1.txt

# kids: the serial by default, so zeta/SN1 needs its own
run 1 "$CMPCA" device add zeta SN1 --secret-file s1.txt
err_like 'kid SN1 names the secret of acme/SN1'
run 0 "$CMPCA" device list zeta
ok "! grep -q SN1 out" "a refused kid registered the device"
run 0 "$CMPCA" device add zeta SN1 --secret-file s1.txt --kid zeta-SN1
ok "grep -q 'kid zeta-SN1' out" "--kid not reported"
run 1 "$CMPCA" device secret acme SN1 --secret-file s1.txt --kid zeta-SN1
err_like 'kid zeta-SN1 names the secret of another device'
# a new kid for acme/SN1 replaces the old one
run 0 "$CMPCA" device secret acme SN1 --secret-file s1.txt --kid K-NEW
ok "[ \"\$(db \"select hex(kid) from secrets where vendor = 'acme'\")\" = '$(hexof K-NEW)' ]" \
    "the old kid of acme/SN1 survived a new one"
no_leak "device secret --kid"

# stdin, the longest secret, a world-readable file (a warning only)
run 0 "$CMPCA" device secret acme SN1 --secret-file - <s2.txt
run 0 "$CMPCA" device secret acme SN1 --secret-file max.txt
chmod 644 s2.txt
run 0 "$CMPCA" device secret acme SN1 --secret-file s2.txt
ok "grep -q 'warning: s2.txt is readable by everyone' err" "no warning"
no_leak "world-readable"

# [mac] secret_single_use = no
sed -i 's/^secret_single_use = yes/secret_single_use = no/' "$D/cmpca.conf"
run 0 "$CMPCA" device add acme SN5 --secret-file s1.txt
ok "grep -q 'kid SN5, reusable' out" "secret_single_use = no not honoured"
ok "[ \"\$(db \"select single_use from secrets where device = 'SN5'\")\" = 0 ]" \
    "stored secret is single use"

# a missing sealing key is made on first use, 0600
rm "$D/secrets.key"
run 0 "$CMPCA" device add acme SN6 --secret-file s1.txt
ok "[ \"\$(stat -c %a '$D/secrets.key')\" = 600 ]" "new secrets.key is not 0600"
# a damaged one is refused
head -c 31 /dev/urandom >"$D/secrets.key"
run 1 "$CMPCA" device secret acme SN6 --secret-file s1.txt
err_like 'not a sealing key'

run 0 "$CMPCA" device --help
ok "grep -q 'secret VENDOR SERIAL --secret-file' out" "help lacks device secret"
run 0 "$CMPCA" device secret --help
ok "grep -q 'never' out" "device secret --help missing"
finish
