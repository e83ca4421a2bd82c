#!/usr/bin/env bash
# usage.sh: help, version, usage errors and the "no CA" message, the parts of
# the CLI contract that scripts and the integration tests rely on.
# shellcheck source=tests/cli/lib.sh
. "$(dirname "$0")/lib.sh"

run 0 "$CMPCA" --help
for c in init vendor device cert ca serve; do
    ok "grep -q '^  $c ' '$T/out'" "cmpca --help does not list $c"
done
run 0 "$CMPCA" -h
run 0 "$CMPCA" --version
ok "grep -Eq '^cmpca [0-9]+\.[0-9]+' '$T/out'" "--version prints no version"

# every command's help: stdout, exit 0, even without a data directory
cd "$T" || exit 1
for cmd in "init" "vendor" "vendor add" "vendor list" "device" "device add" \
    "device import" "device list" "cert" "cert list" "cert show" "ca" \
    "ca export" "serve"; do
    for h in --help -h; do
        # shellcheck disable=SC2086
        run 0 "$CMPCA" $cmd $h
        ok "grep -q '^usage: cmpca' '$T/out' && [ ! -s '$T/err' ]" \
            "'cmpca $cmd $h' did not print usage on stdout only"
    done
done
ok "[ ! -e '$T/cmpca-data' ]" "a --help created the data directory"

# usage errors: exit 2, usage on stderr, nothing on stdout
for args in "frobnicate" "" "--frob" "init --frob" "init extra" \
    "vendor --frob" "vendor list --frob" "vendor add x" "device list --frob" \
    "device import acme" "device" "cert show" "cert list -x" "ca export --x" \
    "ca" "serve --frob" "serve --threads 0" "serve --log-level loud" \
    "init --key ec-p521" "serve extra" "init --dir"; do
    # shellcheck disable=SC2086
    run 2 "$CMPCA" $args
    ok "grep -q 'usage: cmpca' '$T/err' && [ ! -s '$T/out' ]" \
        "'cmpca $args': no usage on stderr, or output on stdout"
done

# without a CA every command but init says so in one line, exit 1
for args in "vendor list" "device list" "cert list" "cert show 01" \
    "ca export" "device add v s" "device import v -" "serve"; do
    # shellcheck disable=SC2086
    run 1 "$CMPCA" --dir "$T/none" $args </dev/null
    err_like "^cmpca: no CA in $T/none: run cmpca init$"
    ok "[ \$(wc -l < '$T/err') -eq 1 ]" "'$args' without a CA: not one line"
done
export CMPCA_DIR=$T/env
run 1 "$CMPCA" vendor list
err_like "^cmpca: no CA in $T/env: run cmpca init$"
unset CMPCA_DIR
run 1 "$CMPCA" cert list
err_like "^cmpca: no CA in cmpca-data: run cmpca init$"
finish
