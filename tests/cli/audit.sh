#!/usr/bin/env bash
# shellcheck disable=SC2034,SC2317 # variables and functions are used in ok's eval
# audit.sh: `cmpca audit verify|show` and the entries operator commands
# leave. Operator commands (init, vendor add, crl, cert revoke; done and
# failed alike) must appear with their arguments; `show` must filter by
# device, serial and time; and editing, deleting or swapping rows with the
# sqlite3 shell, as anyone holding the database file could, must make
# `verify` fail and name the entry.
# shellcheck source=tests/cli/lib.sh
. "$(dirname "$0")/lib.sh"
export OPENSSL_CONF=/dev/null

if ! command -v sqlite3 >/dev/null; then
    echo "sqlite3 shell not found: cannot tamper with the database" >&2
    exit 1
fi

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$T/v.key" -out "$T/v.pem" -days 30 -subj "/O=Acme/CN=Acme Root" \
    -addext basicConstraints=critical,CA:TRUE \
    -addext keyUsage=critical,keyCertSign,cRLSign >/dev/null 2>&1 ||
    fail "cannot make a vendor root"

# line N: field F (1-based, tab-separated) of line N of $T/out
field() {
    sed -n "${1}p" "$T/out" | cut -f "$2"
}

# a CA with a few operator actions behind it: entries 1-7
setup() {
    export CMPCA_DIR=$1
    "$CMPCA" init >/dev/null 2>&1 || fail "init failed"
    "$CMPCA" vendor add acme "$T/v.pem" >/dev/null 2>&1 || fail "vendor add failed"
    "$CMPCA" vendor add acme "$T/v.pem" >/dev/null 2>&1 && fail "vendor add twice worked"
    "$CMPCA" crl --out "$T/c.der" >/dev/null 2>&1 || fail "crl failed"
    "$CMPCA" cert revoke 0A0B >/dev/null 2>&1 && fail "revoke of nothing worked"
    # a certificate row as the server would have written it
    sqlite3 "$CMPCA_DIR/cmpca.db" "INSERT INTO certs (serial_hex, subject,
        issuer, not_before, not_after, status, vendor, device, der, created)
        VALUES ('1234', 'CN=x', 'CN=y', 0, 4102444800, 1, 'acme', 'SN1',
        x'00', 0)" || fail "cannot insert a certificate row"
    "$CMPCA" cert revoke 1234 --reason keyCompromise >/dev/null 2>&1 ||
        fail "revoke failed"
}

# ---- what operator commands record -------------------------------------------
setup "$T/a"
run 0 "$CMPCA" audit show
ok "[ \"\$(wc -l <'$T/out')\" = 8 ]" "audit show: not a header and 7 entries"
out_hdr=$(printf 'SEQ\tTIME\tACTOR\tACTION\tOUTCOME\tVENDOR/DEVICE\tSERIAL\tDETAIL')
ok "[ \"\$(sed -n 1p '$T/out')\" = \"\$out_hdr\" ]" "audit show: wrong header"
ok "[ \"\$(cut -f 1 '$T/out' | tail -n +2 | tr '\\n' ' ')\" = '1 2 3 4 5 6 7 ' ]" \
    "audit show: entries are not numbered 1-7 in order"
ok "! tail -n +2 '$T/out' | cut -f 2 | grep -Evq '^20[0-9]{2}-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-5][0-9]Z\$'" \
    "audit show: a TIME is not YYYY-MM-DDTHH:MM:SSZ"
ok "[ \"\$(tail -n +2 '$T/out' | cut -f 3 | sort -u)\" = operator ]" \
    "audit show: an actor is not operator"
ok "[ \"\$(field 2 4-7)\" = \"\$(printf 'init\tdone\t-\t-')\" ]" "entry 1 is not init"
ok "field 2 8 | grep -Eq '^org=cmpca Demo key=ec-p256\$'" "init detail: $(field 2 8)"
ok "[ \"\$(field 3 4-7)\" = \"\$(printf 'vendor add\tdone\tacme\t-')\" ]" "entry 2 is not vendor add"
ok "field 3 8 | grep -q '^root=CN=Acme Root,O=Acme id_attr=serialNumber chain=no\$'" \
    "vendor add detail: $(field 3 8)"
ok "[ \"\$(field 4 4-5)\" = \"\$(printf 'vendor add\tfailed')\" ]" "entry 3 is not a failed vendor add"
ok "field 4 8 | grep -q 'vendor exists\$'" "failed vendor add does not say why: $(field 4 8)"
ok "[ \"\$(field 5 4-5,8)\" = \"\$(printf 'crl\tdone\tnumber=1 revoked=0')\" ]" "entry 4 is not the CRL"
ok "[ \"\$(field 6 4-8)\" = \"\$(printf 'cert revoke\tfailed\t-\t0A0B\treason=unspecified: no such certificate')\" ]" \
    "entry 5 is not the failed revoke: $(field 6 4-8)"
ok "[ \"\$(field 7 4-8)\" = \"\$(printf 'cert revoke\tdone\tacme/SN1\t1234\treason=keyCompromise')\" ]" \
    "entry 6 is not the revoke: $(field 7 4-8)"
ok "[ \"\$(field 8 4-5,8)\" = \"\$(printf 'crl\tdone\tnumber=2 revoked=1')\" ]" \
    "entry 7 is not the CRL after the revoke: $(field 8 4-8)"
ok "! grep -q 'BEGIN\\|PRIVATE' '$T/out'" "audit show prints key or certificate material"

run 0 "$CMPCA" audit verify
out_is "audit log intact: 7 entries"

# ---- filters ------------------------------------------------------------------
run 0 "$CMPCA" audit show --device acme
ok "[ \"\$(tail -n +2 '$T/out' | cut -f 1 | tr '\\n' ' ')\" = '2 3 6 ' ]" "--device acme: $(cut -f 1 "$T/out" | tr '\n' ' ')"
run 0 "$CMPCA" audit show --device acme/SN1
ok "[ \"\$(tail -n +2 '$T/out' | cut -f 1 | tr '\\n' ' ')\" = '6 ' ]" "--device acme/SN1: $(cut -f 1 "$T/out" | tr '\n' ' ')"
run 0 "$CMPCA" audit show --device acme/SN2
ok "[ \"\$(wc -l <'$T/out')\" = 1 ]" "--device acme/SN2 found entries"
run 0 "$CMPCA" audit show --serial 0x0a0b
ok "[ \"\$(tail -n +2 '$T/out' | cut -f 1 | tr '\\n' ' ')\" = '5 ' ]" "--serial 0x0a0b: $(cut -f 1 "$T/out" | tr '\n' ' ')"
run 0 "$CMPCA" audit show --serial 12:34
ok "[ \"\$(tail -n +2 '$T/out' | cut -f 1 | tr '\\n' ' ')\" = '6 ' ]" "--serial 12:34: $(cut -f 1 "$T/out" | tr '\n' ' ')"
today=$(date -u +%Y-%m-%d)
run 0 "$CMPCA" audit show --since "$today" --until "$today"
ok "[ \"\$(wc -l <'$T/out')\" = 8 ]" "--since/--until today does not show all 7 entries"
run 0 "$CMPCA" audit show --until 2000-01-01
ok "[ \"\$(wc -l <'$T/out')\" = 1 ]" "--until 2000-01-01 found entries"
run 0 "$CMPCA" audit show --since 2999-01-01T00:00:00Z
ok "[ \"\$(wc -l <'$T/out')\" = 1 ]" "--since 2999 found entries"
run 0 "$CMPCA" audit show --since 2000-01-01T00:00:00Z --device acme --serial 1234
ok "[ \"\$(tail -n +2 '$T/out' | cut -f 1 | tr '\\n' ' ')\" = '6 ' ]" "combined filters: $(cut -f 1 "$T/out" | tr '\n' ' ')"
run 0 "$CMPCA" audit show --hash
ok "[ \"\$(sed -n 1p '$T/out' | cut -f 9)\" = HASH ]" "--hash: no HASH column"
ok "[ \"\$(tail -n +2 '$T/out' | cut -f 9 | grep -Ec '^[0-9a-f]{64}\$')\" = 7 ]" "--hash: not 7 hashes"

run 2 "$CMPCA" audit show --since 2024-02-30
err_like "bad time '2024-02-30'"
run 2 "$CMPCA" audit show --until 2024-01-01T25:00:00Z
run 2 "$CMPCA" audit show --since yesterday
run 2 "$CMPCA" audit show --since 2024-02-01 --until 2024-01-01
err_like "since is after"
run 2 "$CMPCA" audit show --device /SN1
run 2 "$CMPCA" audit show --device acme/
run 2 "$CMPCA" audit show --serial xyz
run 2 "$CMPCA" audit show extra
run 2 "$CMPCA" audit verify extra
run 2 "$CMPCA" audit
run 2 "$CMPCA" audit bogus
run 0 "$CMPCA" audit --help
ok "grep -q '^usage: cmpca audit' '$T/out'" "audit --help: no usage"
run 0 "$CMPCA" audit verify --help
ok "grep -q 'audit log intact' '$T/out'" "audit verify --help does not say what it prints"
run 1 "$CMPCA" audit verify --dir "$T/nothing-here"
err_like 'no CA in'

# ---- tampering ----------------------------------------------------------------
# The acceptance test: one byte more in one row.
sqlite3 "$T/a/cmpca.db" "UPDATE audit SET detail = 'x' || detail WHERE seq = 2"
run 1 "$CMPCA" audit verify
out_is "audit log broken at entry 2: edited (its fields do not match its hash)"
# the log stays usable, and the break stays visible
run 0 "$CMPCA" crl --out "$T/c.der"
run 1 "$CMPCA" audit verify
ok "grep -q '^audit log broken at entry 2: ' '$T/out'" "the break moved after an append"
run 0 "$CMPCA" audit show
ok "[ \"\$(wc -l <'$T/out')\" = 9 ]" "the crl after tampering was not recorded"

setup "$T/b"
sqlite3 "$T/b/cmpca.db" "DELETE FROM audit WHERE seq = 3"
run 1 "$CMPCA" audit verify
out_is "audit log broken at entry 4: entry 3 is missing (deleted)"

setup "$T/c"
sqlite3 "$T/c/cmpca.db" "UPDATE audit SET seq = -seq WHERE seq IN (2, 5);
    UPDATE audit SET seq = 7 + seq WHERE seq < 0"
run 1 "$CMPCA" audit verify
out_is "audit log broken at entry 2: reordered (it holds the fields of entry 5)"

setup "$T/d"
sqlite3 "$T/d/cmpca.db" "UPDATE audit SET at = at - 86400 WHERE seq = 6"
run 1 "$CMPCA" audit verify
out_is "audit log broken at entry 6: edited (its fields do not match its hash)"

# ---- device and RA commands --------------------------------------------------
export CMPCA_DIR=$T/e
"$CMPCA" init >/dev/null 2>&1 || fail "init failed"
"$CMPCA" vendor add acme "$T/v.pem" >/dev/null 2>&1 || fail "vendor add failed"
# lines after entry 2 of `audit show`, fields 4-8
since2() {
    "$CMPCA" audit show | tail -n +4 | cut -f 4-8
}
printf 'SN3\nSN1\nSN4\n' >"$T/serials.txt"
printf 'Tr0ub4dor&3-secret\n' >"$T/secret.txt"
"$CMPCA" device add acme SN1 SN2 >/dev/null 2>&1 || fail "device add failed"
"$CMPCA" device add acme SN1 >/dev/null 2>&1
"$CMPCA" device import acme "$T/serials.txt" >/dev/null 2>&1 || fail "import failed"
"$CMPCA" device add --approval manual acme M1 >/dev/null 2>&1 || fail "device add manual failed"
"$CMPCA" device approve acme M1 >/dev/null 2>&1 || fail "approve failed"
"$CMPCA" device reject acme SN1 >/dev/null 2>&1 && fail "reject of an auto device worked"
"$CMPCA" device secret acme SN2 --secret-file "$T/secret.txt" >/dev/null 2>&1 ||
    fail "device secret failed"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$T/ra.key" -out "$T/ra.pem" -days 30 -subj "/CN=RA One" >/dev/null 2>&1
"$CMPCA" ra add gw1 "$T/ra.pem" --vendors acme --may-revoke >/dev/null 2>&1 ||
    fail "ra add failed"
"$CMPCA" ra remove gw1 >/dev/null 2>&1 || fail "ra remove failed"
"$CMPCA" ra remove gw1 >/dev/null 2>&1 && fail "ra remove twice worked"
fp=$(openssl x509 -in "$T/ra.pem" -noout -fingerprint -sha256 | sed 's/^.*=//')
want=$(printf '%s\n' \
    "device add	done	acme/SN1	-	approval=auto" \
    "device add	done	acme/SN2	-	approval=auto" \
    "device add	failed	acme/SN1	-	approval=auto: already registered" \
    "device import	done	acme	-	file=$T/serials.txt approval=auto serials=3 added=2 skipped=1" \
    "device add	done	acme/M1	-	approval=manual" \
    "device approve	done	acme/M1	-	-" \
    "device reject	failed	acme/SN1	-	not in manual approval mode" \
    "device secret	done	acme/SN2	-	secret kid=SN2 single-use" \
    "ra add	done	-	-	name=gw1 cert=$fp raverify=no revoke=yes vendors=acme" \
    "ra remove	done	-	-	name=gw1" \
    "ra remove	failed	-	-	name=gw1: no such RA")
ok "[ \"\$(since2)\" = \"\$want\" ]" "device and RA entries: $(since2 | tr '\n\t' '|,')"
ok "! \"\$CMPCA\" audit show | grep -q 'Tr0ub4dor'" "the audit log holds a secret"
run 0 "$CMPCA" audit verify
out_is "audit log intact: 13 entries"
finish
