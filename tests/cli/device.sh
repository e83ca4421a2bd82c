#!/usr/bin/env bash
# device.sh: `cmpca device add|import|list`, including an import of 100,000
# serials that must finish well under a minute.
# shellcheck source=tests/cli/lib.sh
. "$(dirname "$0")/lib.sh"

export CMPCA_DIR=$T/data
"$CMPCA" init >/dev/null 2>&1 || fail "init failed"
cd "$T" || exit 1
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout v.key -out v.pem -days 30 -subj "/CN=Vendor Root" 2>/dev/null
"$CMPCA" vendor add acme v.pem 2>/dev/null || fail "vendor add acme failed"
"$CMPCA" vendor add zeta v.pem 2>/dev/null || fail "vendor add zeta failed"

run 0 "$CMPCA" device list
out_is "$(printf 'VENDOR\tSERIAL\tSTATE\tAPPROVAL')"
run 0 "$CMPCA" device add acme SN-1 SN-2
out_is "added 2, skipped 0 (already registered)"
run 0 "$CMPCA" device add acme SN-2 SN-3
out_is "added 1, skipped 1 (already registered)"
err_like 'SN-2.*already registered'
run 1 "$CMPCA" device add nosuch SN-1
err_like '^cmpca: device add: no vendor nosuch$'
run 1 "$CMPCA" device add acme "$(printf 'bad\tserial')"
run 2 "$CMPCA" device add acme
run 0 "$CMPCA" device add zeta SN-1
run 0 "$CMPCA" device list
out_is "$(printf 'VENDOR\tSERIAL\tSTATE\tAPPROVAL\nacme\tSN-1\tregistered\tauto\nacme\tSN-2\tregistered\tauto\nacme\tSN-3\tregistered\tauto\nzeta\tSN-1\tregistered\tauto')"
run 0 "$CMPCA" device list zeta
out_is "$(printf 'VENDOR\tSERIAL\tSTATE\tAPPROVAL\nzeta\tSN-1\tregistered\tauto')"
run 1 "$CMPCA" device list nosuch

# import: trimming, comments, blank lines, stdin
printf '# shipping list 42\n\n  SN-3  \nSN-4\r\n\t# indented comment\nSN-5\n' >small.txt
run 0 "$CMPCA" device import zeta small.txt
out_is "imported 3, skipped 0 (already registered)"
run 0 "$CMPCA" device import acme - <small.txt
out_is "imported 2, skipped 1 (already registered)"
run 0 "$CMPCA" device list acme
ok "[ \$(wc -l < out) -eq 6 ] && grep -qP '^acme\tSN-5\tregistered\tauto$' out" \
    "imported serials missing from the list"
run 1 "$CMPCA" device import nosuch small.txt
run 1 "$CMPCA" device import acme missing.txt
err_like 'missing.txt: No such file'
# a bad line anywhere means nothing is imported
printf 'NEW-1\nNEW-2\n%0200d\n' 0 >bad.txt
run 1 "$CMPCA" device import acme bad.txt
err_like 'bad.txt: line 3: serial longer'
run 0 "$CMPCA" device list acme
ok "! grep -q NEW- out" "a failed import registered serials"

# 100,000 serials
seq -f 'BULK%07g' 1 100000 >bulk.txt
start=$(date +%s.%N)
run 0 "$CMPCA" device import acme bulk.txt
end=$(date +%s.%N)
secs=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.2f", b - a }')
echo "import of 100000 serials took $secs s"
out_is "imported 100000, skipped 0 (already registered)"
ok "awk -v s='$secs' 'BEGIN { exit !(s < 30) }'" "import took $secs s (limit 30 s)"
run 0 "$CMPCA" device list acme
ok "[ \$(wc -l < out) -eq 100006 ]" "device list has $(wc -l <out) lines, want 100006"
run 0 "$CMPCA" device import acme bulk.txt
out_is "imported 0, skipped 100000 (already registered)"
finish
