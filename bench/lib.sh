# shellcheck shell=bash
# lib.sh: helpers of bench/run.sh (sourced). Servers are started on
# 127.0.0.1 with a port they pick, stopped by PID, and every number comes
# from cmpca-load's machine-readable "result:" line.

log() { printf 'bench: %s\n' "$*" >&2; }
die() {
    printf 'bench: FAIL: %s\n' "$*" >&2
    exit 1
}

# result_field FILE KEY: a value of the last "result:" line in FILE.
result_field() {
    sed -n 's/^result: .*\<'"$2"'=\([^ ]*\).*/\1/p' "$1" | tail -n 1
}

# calc EXPR: floating-point arithmetic by awk ("n/a" if an operand is).
calc() {
    case " $* " in *n/a*) echo n/a; return ;; esac
    awk "BEGIN { v = $*; if (v == int(v) && v < 1e15) printf \"%d\\n\", v; else printf \"%.4g\\n\", v }"
}

# fmt NUM DIGITS: NUM with DIGITS decimals ("n/a" stays).
fmt() {
    case $1 in n/a | "") echo n/a ;; *) awk -v v="$1" -v d="$2" 'BEGIN { printf "%.*f\n", d, v }' ;; esac
}

# ---- the machine -----------------------------------------------------------

# fsync_rate DIR: synchronous 4 KiB writes per second in DIR (dd, 2 s max).
fsync_rate() {
    local f=$1/fsync-probe out
    out=$(dd if=/dev/zero of="$f" bs=4k count=200 oflag=dsync 2>&1 | tail -n 1)
    rm -f "$f"
    awk -v l="$out" 'BEGIN { n = split(l, w, " "); for (i = 1; i <= n; i++) if (w[i] == "s,") { printf "%.0f\n", 200 / w[i - 1]; exit } print "n/a" }'
}

# busy_cores SECONDS: cores busy (not idle, not iowait) over SECONDS.
busy_cores() {
    local a b
    a=$(head -n 1 /proc/stat)
    sleep "$1"
    b=$(head -n 1 /proc/stat)
    awk -v a="$a" -v b="$b" -v s="$1" -v hz="$(getconf CLK_TCK)" 'BEGIN {
        split(a, x, " "); split(b, y, " ")
        busy = 0
        for (i = 2; i <= 9; i++) if (i != 5 && i != 6) busy += y[i] - x[i]
        printf "%.2f\n", busy / hz / s }'
}

# wait_idle MAX_SECONDS: waits until fewer than 0.3 cores are busy over 5 s,
# at most MAX_SECONDS; prints the last reading.
wait_idle() {
    local end=$((SECONDS + $1)) busy
    while :; do
        busy=$(busy_cores 5)
        if awk -v b="$busy" 'BEGIN { exit !(b < 0.3) }' || [ "$SECONDS" -ge "$end" ]; then
            echo "$busy"
            return 0
        fi
        log "machine busy ($busy cores used by others), waiting"
    done
}

cpu_model() {
    sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1
}

# ---- crypto limit ------------------------------------------------------------

# speed_of ALG: "SIGN_PER_S VERIFY_PER_S" for one core from `openssl speed`
# (ALG: ecdsap256, ecdsap384, rsa2048, ed25519).
speed_of() {
    openssl speed -seconds "$SPEED_SECONDS" "$1" 2>/dev/null |
        awk -v a="$1" '
            a ~ /^ecdsa/ && /bits ecdsa/ { s = $(NF - 1); v = $NF }
            a ~ /^rsa/ && /^rsa [0-9]+ bits/ { s = $(NF - 1); v = $NF }
            a == "ed25519" && /EdDSA \(Ed25519\)/ { s = $(NF - 1); v = $NF }
            END { if (s == "") print "n/a n/a"; else print s, v }'
}

# speed_alg KEYTYPE: the openssl speed name of a cmpca-load key type.
speed_alg() {
    case $1 in
    ec-p256) echo ecdsap256 ;;
    ec-p384) echo ecdsap384 ;;
    rsa-2048) echo rsa2048 ;;
    ed25519) echo ed25519 ;;
    esac
}

# vendor_type KEYTYPE: the key type of the vendor certificate and the ir
# protection (cmpca-load keeps EdDSA for the new key only; OpenSSL 3.0's
# CMP client cannot protect with it).
vendor_type() {
    case $1 in ed25519) echo ec-p256 ;; *) echo "$1" ;; esac
}

# limit_per_core KEYTYPE: enrollments/s one core could do if it did nothing
# but cmpca's public-key operations of one enrollment (CA key P-256):
#   signatures:    certificate, ip protection, pkiConf protection  (3, CA)
#   verifications: ir protection, vendor certificate, certConf protection
#                  (3, vendor key type), POP (1, new key type),
#                  issued-certificate self-check (1, CA)
limit_per_core() {
    local ca v n
    ca=${SPEED[ec-p256]}
    v=${SPEED[$(vendor_type "$1")]}
    n=${SPEED[$1]}
    case "$ca $v $n" in *n/a*) echo n/a; return ;; esac
    awk -v cs="${ca% *}" -v cv="${ca#* }" -v vv="${v#* }" -v nv="${n#* }" \
        'BEGIN { printf "%.0f\n", 1 / (3 / cs + 1 / cv + 3 / vv + 1 / nv) }'
}

# crypto_us KEYTYPE: the CPU microseconds of those operations.
crypto_us() {
    local l
    l=$(limit_per_core "$1")
    [ "$l" = n/a ] && { echo n/a; return; }
    awk -v l="$l" 'BEGIN { printf "%.0f\n", 1e6 / l }'
}

# ---- cmpca ---------------------------------------------------------------------

# server_start DIR THREADS: `cmpca serve` in the background; sets SERVER_PID
# and URL.
server_start() {
    local dir=$1 out=$1/serve.out line=""
    : >"$out"
    "$CMPCA" serve --dir "$dir" --listen 127.0.0.1:0 --threads "$2" >"$out" 2>>"$dir/serve.log" &
    SERVER_PID=$!
    for _ in $(seq 300); do
        [ "$(wc -l <"$out")" -ge 1 ] && break
        kill -0 "$SERVER_PID" 2>/dev/null || break
        sleep 0.1
    done
    line=$(head -n 1 "$out")
    [[ $line =~ ^cmpca:\ listening\ on\ (http://127\.0\.0\.1:[0-9]+/\.well-known/cmp)$ ]] ||
        die "cmpca serve did not start: '$line' $(tail -n 3 "$dir/serve.log" | tr '\n' ' ')"
    URL=${BASH_REMATCH[1]}
}

server_stop() {
    [ -n "${SERVER_PID:-}" ] || return 0
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=""
}

# new_ca DIR: a fresh cmpca (P-256) whose profile also certifies Ed25519.
new_ca() {
    "$CMPCA" init --dir "$1" --key ec-p256 --org "cmpca bench" >/dev/null 2>&1 ||
        die "cmpca init --dir $1 failed"
    sed -i 's/^key_types[[:space:]]*=.*/key_types = ec-p256, ec-p384, rsa-2048, ed25519/' "$1/cmpca.conf"
}

# setup_devices DIR KEYTYPE N: N cached identities registered in DIR;
# prints the vendor name.
setup_devices() {
    local out
    out=$("$LOAD" --setup-only --cache "$CACHE" --cmpca "$CMPCA" --dir "$1" \
        --key-type "$2" --devices "$3") || die "cmpca-load --setup-only failed"
    sed -n 's/.*(vendor \(.*\))$/\1/p' <<<"$out"
}

# load_run NAME DIR KEYTYPE DEVICES WORKERS [more cmpca-load options]: a
# measured run against the server running on DIR; output in $W/NAME.out.
# A run with errors is reported, and counted in LOAD_FAILURES.
load_run() {
    local name=$1 dir=$2 kt=$3 n=$4 k=$5 rc=0
    shift 5
    log "$name: $k workers, $kt, ${DURATION}s"
    "$LOAD" --url "$URL" --cache "$CACHE" --trusted "$dir/root.pem" --key-type "$kt" \
        --devices "$n" --workers "$k" --duration "$DURATION" --server-pid "$SERVER_PID" \
        --timeout 60 "$@" >"$W/$name.out" 2>"$W/$name.err" || rc=$?
    if [ $rc -ne 0 ]; then
        LOAD_FAILURES=$((LOAD_FAILURES + 1))
        log "$name: cmpca-load exited $rc: $(grep '^errors' "$W/$name.out" || tail -n 2 "$W/$name.err")"
    fi
}

# ---- bulk preloading -----------------------------------------------------------

# preload_devices DIR VENDOR N: registers N filler serials (FILL-0000001...)
# under VENDOR through `cmpca device import`, the operator's path.
preload_devices() {
    local f=$W/fill-serials.txt
    awk -v n="$3" 'BEGIN { for (i = 1; i <= n; i++) printf "FILL-%08d\n", i }' >"$f"
    "$CMPCA" device import --dir "$1" "$2" "$f" >/dev/null || die "device import of $3 serials failed"
    rm -f "$f"
}

# preload_certs DIR N: N issued-certificate rows written straight into the
# SQLite store with the server stopped, in transactions of a million:
# random 16-octet serials in cmpca's format (uppercase hex, positive, no
# leading zero octet), a subject and device per row, status confirmed and a
# 5-byte dummy DER (not a certificate: the rows exist to make the tables
# and indexes as large as a real 10-million-certificate store).
preload_certs() {
    local db=$1/cmpca.db n=$2 done=0 batch issuer now
    issuer=$(openssl x509 -in "$1/ca.pem" -noout -subject -nameopt RFC2253 | sed 's/^subject=//')
    now=$(date +%s)
    sqlite3 "$db" 'PRAGMA journal_mode = DELETE;' >/dev/null || die "sqlite3 cannot open $db"
    while [ "$done" -lt "$n" ]; do
        batch=$((n - done < 1000000 ? n - done : 1000000))
        sqlite3 "$db" >/dev/null <<EOF || die "bulk insert into $db failed"
PRAGMA journal_mode = OFF;
PRAGMA synchronous = OFF;
PRAGMA cache_size = -1000000;
BEGIN;
WITH RECURSIVE c(x) AS (SELECT $done + 1 UNION ALL SELECT x + 1 FROM c WHERE x < $done + $batch)
INSERT INTO certs (serial_hex, subject, issuer, not_before, not_after, status, vendor, device, der, created)
SELECT '7' || substr(hex(randomblob(16)), 2), 'serialNumber=OLD-' || x || ',CN=OLD-' || x,
       '$issuer', $now - 86400, $now + 31536000, 1, 'bench-old', 'OLD-' || x, X'3003020100', $now - 86400
FROM c;
COMMIT;
EOF
        done=$((done + batch))
        log "preloaded $done of $n certificates"
    done
}
