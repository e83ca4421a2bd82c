#!/bin/bash
# run.sh: the adversarial suite's runner (docs/adversarial.md).
#
#   run.sh CMPCA ADV_GEN [--group NN | CASE...]
#
# Makes an operator CA in a temp directory, registers the fixed vendor PKI
# of pki/ (vendors acme and beta and their devices), starts `cmpca serve` on
# 127.0.0.1 and a free port, and runs each case: its setup steps, then a
# snapshot of the store (`cmpca cert list`, `cmpca device list`), the hostile
# request, the answer decoded (HTTP status, body type, PKIStatus, failInfo,
# statusString), a second snapshot and a /health probe. A case passes when
# everything it names matches. One line per case:
#   PASS   as expected
#   FAIL   not as expected (the line says what differed)
#   XFAIL  not as expected, and the case says `xfail REASON`: the server
#          lacks the behaviour; listed so it stays visible
#   XPASS  as expected although marked xfail: remove the xfail line (a case
#          also marked `racy` only reports it: its failure needs bad timing)
# Exit status 1 if any case FAILed or XPASSed, or the server did not stop
# cleanly (sanitizer report, non-zero exit on SIGTERM).
# CASE is a .expect file or a case name (0101-pvno-1); no CASE: all cases.
# CMPCA_ADV_VERBOSE=1 prints each answer (status, failInfo, statusString).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
GEN=${2:?usage: $0 CMPCA ADV_GEN [--group NN | CASE...]}
case $GEN in /*) ;; *) GEN=$PWD/$GEN ;; esac
[ -x "$GEN" ] || { echo "FAIL: $GEN is not executable" >&2; exit 1; }

CASES=()
GROUP=""
if [ "${3:-}" = --group ]; then
    GROUP=${4:?--group needs a number}
    CASES=("$HERE"/cases/"$GROUP"??-*.expect)
elif [ $# -gt 2 ]; then
    for c in "${@:3}"; do
        case $c in
        */*) CASES+=("$c") ;;
        *) CASES+=("$HERE/cases/${c%.expect}.expect") ;;
        esac
    done
else
    CASES=("$HERE"/cases/*.expect)
fi

# Every refused request still costs the server durable writes (the
# transactionID and senderNonce it has seen): with a slow fsync the 10,000
# requests of 0903 take minutes. The suite tests logic, not the disk, so it
# runs in memory when it can (CMPCA_ADV_TMPDIR overrides).
if [ -z "${CMPCA_ADV_TMPDIR:-}" ] && [ -d /dev/shm ] && [ -w /dev/shm ]; then
    CMPCA_ADV_TMPDIR=/dev/shm
fi
[ -z "${CMPCA_ADV_TMPDIR:-}" ] || export TMPDIR=$CMPCA_ADV_TMPDIR

# shellcheck source=../integration/lib.sh
. "$HERE/../integration/lib.sh" "$1"
# shellcheck source=lib.sh
. "$HERE/lib.sh"
TEST_NAME=adversarial${GROUP:+-$GROUP}
ADV_PKI=$HERE/pki

# world: the CA, a strict profile (refuse instead of clamp), two vendors.
world() {
    local acme=(SN-ADV-0001 SN-ADV-0002 SN-ADV-0003 SN-ADV-RSA SN-ADV-EXP
        SN-ADV-FUT SN-ADV-REV SN-ADV-NOKU)
    ca_init
    conf_set "profile strict" clamp no
    cli vendor add acme "$ADV_PKI/vendor-root.pem" --chain "$ADV_PKI/vendor-int.pem" \
        >/dev/null 2>&1 || fail "vendor add acme"
    cli vendor add beta "$ADV_PKI/beta-root.pem" >/dev/null 2>&1 || fail "vendor add beta"
    cli device add acme "${acme[@]}" >/dev/null 2>&1 || fail "device add acme"
    cli device add beta SN-BETA-0001 >/dev/null 2>&1 || fail "device add beta"
    cli vendor crl acme "$ADV_PKI/vendor-int.crl" >/dev/null 2>&1 ||
        fail "vendor crl acme"
}

# one_case FILE: runs one case and prints its verdict line.
one_case() {
    local f=$1 i verdict
    if ! case_load "$f"; then
        echo "FAIL   $C_NAME: bad case file: $C_ERROR"
        N_FAIL=$((N_FAIL + 1))
        return
    fi
    W=$T/cases/$C_NAME
    mkdir -p "$W"
    for i in "${!C_SETUP[@]}"; do
        if ! run_setup "${C_SETUP[i]}"; then
            echo "FAIL   $C_NAME: setup '${C_SETUP[i]}': $STEP_ERROR"
            N_FAIL=$((N_FAIL + 1))
            return
        fi
    done
    snapshot "$W/store.before"
    [ -z "$C_SEEN" ] || SEEN_BEFORE=$(seen_rows)
    if ! send_request; then
        echo "FAIL   $C_NAME: cannot make the request ($(tail -n 2 "$W/gen.log" 2>/dev/null | tr '\n' ' '))"
        N_FAIL=$((N_FAIL + 1))
        return
    fi
    snapshot "$W/store.after"
    judge "$W/store.before" "$W/store.after"
    if [ -z "$MISMATCH" ]; then
        verdict=$([ -z "$C_XFAIL" ] && echo PASS || echo XPASS)
    else
        verdict=$([ -z "$C_XFAIL" ] && echo FAIL || echo XFAIL)
    fi
    # a racy xfail (the failure needs unlucky timing) may pass by luck
    [ "$verdict" != XPASS ] || [ -z "$C_RACY" ] || verdict=XPASS_RACY
    case $verdict in
    PASS) echo "PASS   $C_NAME" ;;
    XPASS) echo "XPASS  $C_NAME: passes now; remove 'xfail $C_XFAIL'" ;;
    XPASS_RACY)
        echo "XPASS  $C_NAME: passed this time; the race ($C_XFAIL) did not show"
        verdict=XFAIL
        ;;
    FAIL) echo "FAIL   $C_NAME: $MISMATCH" ;;
    XFAIL) echo "XFAIL  $C_NAME ($C_XFAIL): $MISMATCH" ;;
    esac
    [ -z "${CMPCA_ADV_VERBOSE:-}" ] || echo "       answer: ${REQ_GOT%% *} $GOT_BODY $GOT_STATUS $GOT_FAILINFO: $GOT_TEXT"
    eval "N_$verdict=\$((N_$verdict + 1))"
}

N_PASS=0 N_FAIL=0 N_XFAIL=0 N_XPASS=0
world
server_start
for f in "${CASES[@]}"; do
    [ -e "$f" ] || fail "no case $f"
    one_case "$f"
done
server_stop
echo "$TEST_NAME: ${#CASES[@]} cases: $N_PASS passed, $N_FAIL failed," \
    "$N_XFAIL expected failures, $N_XPASS unexpected passes"
[ $((N_FAIL + N_XPASS)) -eq 0 ]
