#!/bin/bash
# fuzz-ci.sh: fuzzing as CI runs it: every libFuzzer target for 120 s
# (FUZZ_SECONDS) under ASan+UBSan, through scripts/fuzz.sh, failing on any
# crash, leak, timeout or broken invariant. On a fresh Debian machine it
# first installs, as root, the build dependencies (scripts/deps.sh) and
# clang with libFuzzer's runtime (clang, libclang-rt-14-dev) when a trial
# link of a fuzzer shows they are missing. Four targets take about ten
# minutes, the build included.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh

# can clang link a libFuzzer binary here?
fuzzer_links() {
    local d rc
    command -v clang >/dev/null || return 1
    d=$(mktemp -d)
    printf '%s\n' '#include <stddef.h>' '#include <stdint.h>' \
        'int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);' \
        'int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)' \
        '{ return d == NULL && n > 0; }' >"$d/t.c"
    rc=0
    clang -fsanitize=fuzzer,address,undefined "$d/t.c" -o "$d/t" 2>/dev/null || rc=1
    rm -rf "$d"
    return $rc
}

if ! fuzzer_links; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "fuzz-ci: clang with libFuzzer is missing (install clang libclang-rt-14-dev)" >&2
        exit 1
    fi
    echo "fuzz-ci: installing clang and libclang-rt-14-dev" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q >&2
    apt-get install -y -q clang libclang-rt-14-dev >&2
    fuzzer_links || { echo "fuzz-ci: clang still cannot link a fuzzer" >&2; exit 1; }
fi

exec scripts/fuzz.sh --seconds "${FUZZ_SECONDS:-120}" "$@"
