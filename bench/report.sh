# shellcheck shell=bash disable=SC2153 # the variables come from run.sh
# report.sh: the table, the ratios and the summary line of bench/run.sh
# (sourced at its end; reads the cmpca-load outputs in $W).

# cell NAME KEY DIGITS: a result field of run NAME, rounded; n/a when the
# run did not happen.
cell() {
    local f=$W/$1.out v
    [ -s "$f" ] || { echo n/a; return; }
    v=$(result_field "$f" "$2")
    case $v in "" | -1) echo n/a ;; *) fmt "$v" "$3" ;; esac
}

errors_of() {
    local f=$W/$1.out
    [ -s "$f" ] || { echo n/a; return; }
    sed -n 's/^errors by failInfo: //p' "$f"
}

# row NAME LABEL WORKERS: one table row of run NAME.
row() {
    local f=$W/$1.out busy=n/a
    [ -s "$f" ] || return 0
    busy=$(sed -n 's/.*, \([0-9.]*\) cores busy$/\1/p' "$f")
    printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$2" "$3" \
        "$(cell "$1" rate 1)" "$(cell "$1" p50_ms 1)" "$(cell "$1" p90_ms 1)" \
        "$(cell "$1" p99_ms 1)" "$(cell "$1" max_ms 1)" "$(cell "$1" server_cpu_us 0)" \
        "${busy:-n/a}" "$(cell "$1" client_cpu_us 0)" "$(cell "$1" other_cores 2)" \
        "$(errors_of "$1")"
}

ratio() {
    case "$1 $2" in *n/a* | *" 0" | *" ") echo n/a ;; *) awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f\n", a / b }' ;; esac
}

RATE64=$(cell c64 rate 1)
P99_64=$(cell c64 p99_ms 1)
CPU64=$(cell c64 server_cpu_us 0)
LIMIT_RATIO=$(ratio "$RATE64" "$LIMIT_MACHINE")
CPU_RATIO=$(ratio "$CRYPTO_US" "$CPU64")
MOCK_RATIO=$(ratio "$RATE64" "$MOCK_RATE")
MOCK_CPU_RATIO=$(ratio "$CPU64" "$MOCK_CPU")
COMMIT=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
git -C "$ROOT" diff --quiet HEAD 2>/dev/null || COMMIT="$COMMIT + uncommitted changes"

{
    echo "# cmpca benchmark, $DATE"
    echo
    echo "Run by \`bench/run.sh\` at $STARTED (UTC), cmpca $COMMIT."
    echo
    echo "- Machine: $(cpu_model), $NPROC cores, $(uname -sr), $(openssl version)."
    echo "- Load average (1, 5, 15 min) when the run started: $LOAD_BEFORE; well above 0"
    echo "  means other processes were using the CPU and every rate below is low."
    echo "- Disk under the store: $FSYNC synchronous 4 KiB writes/s (dd oflag=dsync)."
    echo "- Server: \`cmpca serve --threads $NPROC\`, SQLite store, Release build;"
    echo "  client \`cmpca-load\` (OpenSSL's CMP client, one keep-alive connection per"
    echo "  worker) on the same machine, sharing its $NPROC cores with the server."
    echo "- Every run: ${DURATION} s, full enrollments (ir, ip, certConf, pkiConf), signature"
    echo "  protection and signature POP; the concurrency runs use $DEVICES devices."
    echo
    echo "## Crypto limit (openssl speed, one core)"
    echo
    echo "One cmpca enrollment costs 3 signatures with the CA key (certificate, ip,"
    echo "pkiConf) and 5 verifications: ir protection, vendor certificate and certConf"
    echo "protection with the vendor key, the POP with the new key, and cmpca's"
    echo "self-check of the issued certificate with the CA key (counted with uprobes on"
    echo "ECDSA_sign_ex/ECDSA_verify; the protocol needs 3 + 4). CA key: P-256."
    echo
    echo "| new key | vendor key | sign/s | verify/s | enrollments/s per core | crypto us/enrollment |"
    echo "|---|---|---|---|---|---|"
    for kt in $KTS; do
        s=${SPEED[$kt]}
        echo "| $kt | $(vendor_type "$kt") | ${s% *} | ${s#* } | $(limit_per_core "$kt") | $(crypto_us "$kt") |"
    done
    echo
    echo "Crypto limit of the machine for P-256: $LIMIT_CORE x $NPROC cores = $LIMIT_MACHINE enrollments/s."
    echo
    echo "## Results"
    echo
    echo "Server cores busy: the server's CPU time / the run's time. Other cores:"
    echo "CPU time of every other process on the machine during the run (/proc/stat"
    echo "minus server and client), in cores; when it is well above 0 the rates are"
    echo "lower than this machine can do."
    echo
    echo "| run | workers | enrollments/s | p50 ms | p90 ms | p99 ms | max ms | server CPU us/enr. | server cores busy | client CPU us/enr. | other cores | errors |"
    echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
    row mock "openssl cmp mock server (1 device, 1 key)" 1
    for c in $CONCURRENCY; do row "c$c" "cmpca, ec-p256" "$c"; done
    for kt in $KTS; do [ "$kt" = ec-p256 ] || row "kt-$kt" "cmpca, $kt" 64; done
    row g-small "cmpca, $DEVICES registered devices" 64
    row g-devices "cmpca, $BIG_DEVICES registered devices" 64
    row g-certs "cmpca, $BIG_DEVICES devices + $CERTS certificates" 64
    row tmpfs "cmpca, store on tmpfs (reference)" 64
    echo
    echo "## Ratios (concurrency 64, P-256)"
    echo
    echo "- cmpca / crypto limit of the machine: $RATE64 / $LIMIT_MACHINE = $LIMIT_RATIO"
    echo "- crypto share of cmpca's CPU per enrollment: $CRYPTO_US us / $CPU64 us = $CPU_RATIO"
    echo "- cmpca / mock server (enrollments/s): $RATE64 / $(fmt "$MOCK_RATE" 1) = $MOCK_RATIO"
    echo "- server CPU per enrollment, cmpca / mock: $CPU64 us / $(fmt "$MOCK_CPU" 0) us = $MOCK_CPU_RATIO"
    if [ "$DO_GROWTH" = 1 ]; then
        echo "- $BIG_DEVICES vs $DEVICES registered devices: $(ratio "$(cell g-devices rate 1)" "$(cell g-small rate 1)")"
        echo "- plus $CERTS certificates vs $DEVICES devices: $(ratio "$(cell g-certs rate 1)" "$(cell g-small rate 1)")"
        echo
        echo "Growth: $((BIG_DEVICES - DEVICES)) serials registered through \`cmpca device import\`"
        echo "in ${NOTE[import]}; $CERTS certificate rows inserted directly with sqlite3 in"
        echo "${NOTE[preload]} (random serials, a 5-byte dummy DER, server stopped), store"
        echo "${NOTE[dbsize]} afterwards."
    fi
    if [ "$LOAD_FAILURES" -gt 0 ]; then
        echo
        echo "**$LOAD_FAILURES run(s) reported errors; see the errors column.**"
    fi
    echo
    echo "summary: limit_ratio=$LIMIT_RATIO mock_ratio=$MOCK_RATIO p99_ms=$P99_64 rate=$RATE64/s cpu_us=$CPU64"
} >"$W/report.md"

mkdir -p "$(dirname "$OUT")"
cp "$W/report.md" "$OUT"
cat "$W/report.md"
log "results written to $OUT"
[ "$LOAD_FAILURES" -eq 0 ]
