# shellcheck shell=bash
# lib.sh: helpers shared by the CLI shell tests (sourced, not a test itself).
# Each test sources it with the cmpca binary as $1; it makes a private temp
# directory ($T) removed on exit, and counts failed checks so one run shows
# every broken case. End each test with `finish`.

set -u
CMPCA=${1:?usage: $0 PATH/TO/cmpca}
CMPCA=$(cd "$(dirname "$CMPCA")" && pwd)/$(basename "$CMPCA")
T=$(mktemp -d "${TMPDIR:-/tmp}/cmpca-cli.XXXXXX")
trap 'rm -rf "$T"' EXIT
unset CMPCA_DIR
FAILS=0
CHECKS=0

fail() {
    FAILS=$((FAILS + 1))
    echo "FAIL: $*" >&2
}

ok() {
    CHECKS=$((CHECKS + 1))
    if ! eval "$1"; then
        fail "$2"
    fi
}

# run EXPECTED_RC CMD...: runs CMD with stdout in $T/out, stderr in $T/err.
run() {
    local want=$1 got
    shift
    CHECKS=$((CHECKS + 1))
    "$@" >"$T/out" 2>"$T/err"
    got=$?
    if [ "$got" != "$want" ]; then
        fail "exit $got (want $want): $*"
        sed 's/^/    stderr: /' "$T/err" >&2
    fi
}

# The first line of $T/err must match the extended regexp $1.
err_like() {
    CHECKS=$((CHECKS + 1))
    if ! head -n 1 "$T/err" | grep -Eq -- "$1"; then
        fail "stderr does not match /$1/: $(head -n 1 "$T/err")"
    fi
}

# $T/out must equal the text $1 exactly.
out_is() {
    CHECKS=$((CHECKS + 1))
    if [ "$(cat "$T/out")" != "$1" ]; then
        fail "stdout is [$(cat "$T/out")], want [$1]"
    fi
}

finish() {
    if [ "$FAILS" -ne 0 ]; then
        echo "$FAILS of $CHECKS checks failed" >&2
        exit 1
    fi
    echo "all $CHECKS checks passed"
    exit 0
}
