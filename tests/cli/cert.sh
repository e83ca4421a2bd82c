#!/usr/bin/env bash
# cert.sh: `cmpca cert list|show` on a store without certificates (issuing
# needs CMP traffic; the integration tests cover listing issued ones).
# shellcheck source=tests/cli/lib.sh
. "$(dirname "$0")/lib.sh"

export CMPCA_DIR=$T/data
"$CMPCA" init >/dev/null 2>&1 || fail "init failed"

run 0 "$CMPCA" cert list
out_is "$(printf 'SERIAL\tSUBJECT\tNOT_AFTER\tSTATUS')"
run 1 "$CMPCA" cert show 0x0123ABcd
err_like '^cmpca: cert show: no certificate with serial 0x0123ABcd$'
ok "[ \$(wc -l < '$T/err') -eq 1 ] && [ ! -s '$T/out' ]" \
    "unknown serial: not exactly one line on stderr and nothing on stdout"
run 1 "$CMPCA" cert show not-hex
err_like 'bad serial'
run 2 "$CMPCA" cert show
run 2 "$CMPCA" cert show 01 02
run 2 "$CMPCA" cert list extra
run 1 "$CMPCA" cert revoke 01 # exists now; tests/cli/crl.sh covers it
finish
