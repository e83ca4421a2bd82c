#!/usr/bin/env bash
# approval.sh: the operator's side of manual approval: `device add|import
# --approval`, `device approve|reject` and the APPROVAL column of `device
# list`. The server's side (ir answered "waiting", polling) is tested in
# tests/integration.
# shellcheck source=tests/cli/lib.sh
. "$(dirname "$0")/lib.sh"

export CMPCA_DIR=$T/data
"$CMPCA" init >/dev/null 2>&1 || fail "init failed"
cd "$T" || exit 1
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout v.key -out v.pem -days 30 -subj "/CN=Vendor Root" 2>/dev/null
"$CMPCA" vendor add acme v.pem 2>/dev/null || fail "vendor add acme failed"
"$CMPCA" vendor add zeta v.pem 2>/dev/null || fail "vendor add zeta failed"

# row VENDOR SERIAL: the device's line of `device list` (columns 2-4 joined
# by spaces), or "none"
row() {
    "$CMPCA" device list | awk -F '\t' -v v="$1" -v s="$2" '
        NR > 1 && $1 == v && $2 == s { r = $3 " " $4 }
        END { print (r == "" ? "none" : r) }'
}

# is VENDOR SERIAL "STATE APPROVAL": checks the device's row
is() {
    local got
    got=$(row "$1" "$2")
    CHECKS=$((CHECKS + 1))
    [ "$got" = "$3" ] || fail "$1/$2 is [$got], want [$3]"
}

# --approval on add: new devices only; default auto
run 0 "$CMPCA" device list
out_is "$(printf 'VENDOR\tSERIAL\tSTATE\tAPPROVAL')"
run 0 "$CMPCA" device add --approval manual acme M1 M2
out_is "added 2, skipped 0 (already registered)"
run 0 "$CMPCA" device add acme A1
run 0 "$CMPCA" device add acme M1 A2 --approval=auto
out_is "added 1, skipped 1 (already registered)"
err_like 'acme/M1: already registered, skipped'
run 0 "$CMPCA" device add acme A1 M3 --approval manual
out_is "added 1, skipped 1 (already registered)"
is acme M1 "registered manual"
is acme M2 "registered manual"
is acme M3 "registered manual"
is acme A1 "registered auto"
is acme A2 "registered auto"
run 0 "$CMPCA" device list acme
out_is "$(printf 'VENDOR\tSERIAL\tSTATE\tAPPROVAL\nacme\tA1\tregistered\tauto\nacme\tA2\tregistered\tauto\nacme\tM1\tregistered\tmanual\nacme\tM2\tregistered\tmanual\nacme\tM3\tregistered\tmanual')"
# the first three columns read as before (tests/integration/lib.sh)
ok "[ \"\$(\"\$CMPCA\" device list | awk -F '\t' '\$1 == \"acme\" && \$2 == \"M1\" { print \$3 }')\" = registered ]" \
    "column 3 of device list is not the state"

# bad --approval values are usage errors and change nothing
for args in "add --approval maybe acme X1" "add --approval acme X1" \
    "add acme X1 --approval" "import --approval MANUAL acme -" \
    "add --approval= acme X1"; do
    # shellcheck disable=SC2086
    run 2 "$CMPCA" device $args </dev/null
    ok "grep -q 'usage: cmpca device' '$T/err' && [ ! -s '$T/out' ]" \
        "'device $args': no usage on stderr, or output on stdout"
done
is acme X1 "none"
run 0 "$CMPCA" device add -h
ok "grep -q -- '--approval manual' '$T/out'" "device add --help does not explain --approval"

# --approval on import: new serials only, repeats in the file counted once
printf 'A1\nM1\nI1\n# comment\nI2\nI1\n' >list.txt
run 0 "$CMPCA" device import --approval manual acme list.txt
out_is "imported 2, skipped 3 (already registered)"
is acme A1 "registered auto"
is acme M1 "registered manual"
is acme I1 "registered manual"
is acme I2 "registered manual"
printf 'I2\nI3\n' | "$CMPCA" device import acme - >"$T/out" 2>"$T/err" ||
    fail "import from stdin failed"
out_is "imported 1, skipped 1 (already registered)"
is acme I2 "registered manual"
is acme I3 "registered auto"
printf 'Z1\nZ2\n' | "$CMPCA" device import zeta - --approval=manual >"$T/out" 2>"$T/err" ||
    fail "manual import from stdin failed"
out_is "imported 2, skipped 0 (already registered)"
is zeta Z1 "registered manual"
is zeta Z2 "registered manual"
# a failed import leaves nothing behind, manual or not
printf 'N1\n\001bad\n' >bad.txt
run 1 "$CMPCA" device import --approval manual acme bad.txt
is acme N1 "none"

# approve / reject
run 0 "$CMPCA" device approve acme M1
out_is "approved acme/M1"
is acme M1 "approved manual"
run 0 "$CMPCA" device reject acme M2
out_is "rejected acme/M2"
is acme M2 "rejected manual"
# the operator may change their mind, both ways
run 0 "$CMPCA" device approve acme M2
out_is "approved acme/M2"
is acme M2 "approved manual"
run 0 "$CMPCA" device reject acme M1
is acme M1 "rejected manual"
run 0 "$CMPCA" device reject acme M1
is acme M1 "rejected manual"
# other vendors' devices with the same serial are not touched
run 0 "$CMPCA" device add zeta M1
run 0 "$CMPCA" device approve zeta Z1
is zeta Z1 "approved manual"
is zeta Z2 "registered manual"
is zeta M1 "registered auto"
is acme M3 "registered manual"

# only devices in manual mode
run 1 "$CMPCA" device approve acme A1
err_like '^cmpca: device approve: device acme/A1 is not in manual approval mode$'
run 1 "$CMPCA" device reject acme A1
err_like '^cmpca: device reject: device acme/A1 is not in manual approval mode$'
run 1 "$CMPCA" device approve zeta M1
err_like 'device zeta/M1 is not in manual approval mode'
is acme A1 "registered auto"
is zeta M1 "registered auto"
ok "[ ! -s '$T/out' ]" "a refused approve printed on stdout"

# unknown devices and vendors
run 1 "$CMPCA" device approve acme NOPE
err_like '^cmpca: device approve: no device acme/NOPE$'
run 1 "$CMPCA" device reject nosuch M1
err_like '^cmpca: device reject: no device nosuch/M1$'
is acme NOPE "none"

# usage
run 2 "$CMPCA" device approve acme
run 2 "$CMPCA" device reject acme M1 extra
run 2 "$CMPCA" device approve --frob acme M1
run 2 "$CMPCA" device approve --approval manual acme M1
is acme M1 "rejected manual"
for sub in approve reject; do
    run 0 "$CMPCA" device $sub --help
    ok "grep -q '^usage: cmpca device $sub' '$T/out' && [ ! -s '$T/err' ]" \
        "device $sub --help prints no usage"
done
run 0 "$CMPCA" device --help
ok "grep -q 'approve' '$T/out' && grep -q 'reject' '$T/out'" \
    "device --help does not list approve and reject"
run 1 "$CMPCA" --dir "$T/none" device approve acme M1
err_like "^cmpca: no CA in $T/none: run cmpca init$"

# re-admission: an enrolled device in manual mode may be approved again.
# The server marks devices enrolled; stand in for it with sqlite3.
if command -v sqlite3 >/dev/null; then
    sqlite3 "$CMPCA_DIR/cmpca.db" \
        "UPDATE devices SET state = 1 WHERE vendor = 'acme' AND serial = 'M3'" ||
        fail "sqlite3 could not mark acme/M3 enrolled"
    is acme M3 "enrolled manual"
    run 0 "$CMPCA" device approve acme M3
    out_is "approved acme/M3"
    is acme M3 "approved manual"
else
    echo "sqlite3 not installed: re-admission of an enrolled device not tested"
fi

# the listing after all this, for humans reading the log
"$CMPCA" device list
finish
