# shellcheck shell=bash disable=SC2015,SC2034
# lib.sh: shared helpers of the integration tests, sourced by every script.
#
# Usage in a test:   . "$(dirname "$0")/lib.sh" "$@"
# Arguments:         $1 the cmpca binary, $2 the noroot_client binary.
#
# It makes a temp directory ($T, removed on exit unless CMPCA_KEEP_TMP=1),
# knows how to build a vendor PKI with the openssl CLI, runs `cmpca serve` in
# the background on 127.0.0.1 and a free port, stops it by PID on exit, and
# runs enrollments with `openssl cmp`. Assertions print what they check and
# end the test with a clear message on the first failure.
set -euo pipefail

# grep_all ARGS...: grep that reads its whole input. `producer | grep -q`
# fails under pipefail when grep stops at the first match and the producer
# then dies of SIGPIPE; use `producer | grep_all -q ...` instead.
grep_all() {
    local rc=0
    grep "$@" || rc=$?
    cat >/dev/null
    return "$rc"
}

CMPCA=${1:?usage: $0 CMPCA_BINARY [NOROOT_CLIENT_BINARY]}
CLIENT=${2:-}
case $CMPCA in /*) ;; *) CMPCA=$PWD/$CMPCA ;; esac
case $CLIENT in /* | "") ;; *) CLIENT=$PWD/$CLIENT ;; esac
[ -x "$CMPCA" ] || { echo "FAIL: $CMPCA is not executable" >&2; exit 1; }

TEST_NAME=$(basename "$0" .sh)
T=$(mktemp -d "${TMPDIR:-/tmp}/cmpca-$TEST_NAME.XXXXXX")
D=$T/ca         # the cmpca data directory
PKI=$T/pki      # vendor PKIs and device keys
OUT=$T/out      # client outputs, one subdirectory per run
mkdir -p "$PKI" "$OUT"
SERVER_PID=""
EXTRA_PIDS=()   # other background processes to stop on exit (clients)
SERVER_NUM=0    # servers started so far; logs are server-N.log
SERVER_LOG=""
PORT=""
URL=""
CMP_PATH=/.well-known/cmp
export OPENSSL_CONF=/dev/null # no site defaults in the client

# ---- reporting ------------------------------------------------------------

log() { printf '%s: %s\n' "$TEST_NAME" "$*"; }
check() { printf '%s: check: %s\n' "$TEST_NAME" "$*"; }

fail() {
    printf '%s: FAIL: %s\n' "$TEST_NAME" "$*" >&2
    if [ -n "$SERVER_LOG" ] && [ -f "$SERVER_LOG" ]; then
        echo "---- last lines of $SERVER_LOG ----" >&2
        tail -n 30 "$SERVER_LOG" >&2
    fi
    exit 1
}

# assert_eq EXPECTED ACTUAL WHAT
assert_eq() {
    [ "$1" = "$2" ] || fail "$3: expected '$1', got '$2'"
}

# assert_no_grep FILE REGEX WHAT: no line of FILE matches REGEX.
assert_no_grep() {
    if grep -Eq -- "$2" "$1"; then
        fail "$3: /$2/ found in $1: $(grep -E -m1 -- "$2" "$1")"
    fi
}

# ---- lifecycle ------------------------------------------------------------

cleanup() {
    local rc=$? p
    for p in ${EXTRA_PIDS[@]+"${EXTRA_PIDS[@]}"}; do
        kill -TERM "$p" 2>/dev/null || true
    done
    server_kill
    pg_drop_db
    if [ "${CMPCA_KEEP_TMP:-0}" = 1 ] || { [ $rc -ne 0 ] && [ "${CMPCA_KEEP_TMP:-}" = fail ]; }; then
        echo "$TEST_NAME: kept $T" >&2
    else
        rm -rf "$T"
    fi
    exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# cli WORDS... ARGS...: runs cmpca with --dir after the command words, e.g.
# `cli vendor add acme root.pem` runs `cmpca vendor add --dir $D acme root.pem`.
cli() {
    case $1 in
    init | serve) "$CMPCA" "$1" --dir "$D" "${@:2}" ;;
    *) "$CMPCA" "$1" "$2" --dir "$D" "${@:3}" ;;
    esac
}

# ---- PostgreSQL (tests registered a second time, label pg) ------------------
# CMPCA_TEST_DB names a PostgreSQL server (postgresql://USER@HOST:PORT/DB of a
# database we may CREATE DATABASE from), or CMPCA_TEST_DB_FILE a file holding
# that URI (the CTest fixture `pg` writes one). Then ca_init gives the CA a
# fresh database of its own on that server, dropped again on exit. Unset: the
# CA keeps the default SQLite file in $D.
PG_DB=""      # the database this test created
PG_BASE=""    # the server's URI

pg_base_uri() {
    if [ -n "${CMPCA_TEST_DB:-}" ]; then
        printf '%s\n' "$CMPCA_TEST_DB"
    elif [ -n "${CMPCA_TEST_DB_FILE:-}" ]; then
        [ -s "$CMPCA_TEST_DB_FILE" ] || fail "CMPCA_TEST_DB_FILE $CMPCA_TEST_DB_FILE is empty or missing"
        head -n 1 "$CMPCA_TEST_DB_FILE"
    fi
}

pg_psql() {
    PGOPTIONS="-c client_min_messages=warning" psql "$PG_BASE" -X -q -v ON_ERROR_STOP=1 "$@"
}

# pg_new_db: creates a database for this test, prints its URI.
pg_new_db() {
    PG_DB=$(printf 'it_%s_%s' "$TEST_NAME" "$$" | tr -c 'a-zA-Z0-9_\n' _ | tr '[:upper:]' '[:lower:]')
    pg_psql -c "DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)" -c "CREATE DATABASE $PG_DB" >&2 ||
        fail "cannot create database $PG_DB on $PG_BASE"
    printf '%s/%s\n' "${PG_BASE%/*}" "$PG_DB"
}

pg_drop_db() {
    [ -n "$PG_DB" ] || return 0
    pg_psql -c "DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)" >/dev/null 2>&1 || true
    PG_DB=""
}

# ca_init [ARGS]: `cmpca init` into $D; checks the files it promises. On
# PostgreSQL (see above) with `--db URI` of a fresh database.
ca_init() {
    local db=()
    PG_BASE=$(pg_base_uri)
    if [ -n "$PG_BASE" ]; then
        db=(--db "$(pg_new_db)")
        log "database: ${db[1]}"
    fi
    cli init ${db[@]+"${db[@]}"} "$@" >"$T/init.out" 2>&1 || { cat "$T/init.out" >&2; fail "cmpca init $* failed"; }
    local f
    for f in cmpca.conf root.pem ca.pem ca.key; do
        [ -s "$D/$f" ] || fail "cmpca init did not write $D/$f"
    done
}

# conf_set SECTION KEY VALUE: sets KEY in [SECTION] of cmpca.conf, adding the
# key (or the section) when missing.
conf_set() {
    local sec=$1 key=$2 val=$3 f=$D/cmpca.conf
    awk -v sec="$sec" -v key="$key" -v val="$val" '
        function flush() { if (insec && !done) { print key " = " val; done = 1 } }
        /^[ \t]*\[/ { flush(); insec = ($0 ~ "^[ \t]*\\[[ \t]*" sec "[ \t]*\\]") }
        insec && $0 ~ "^[ \t]*" key "[ \t]*=" { if (!done) print key " = " val; done = 1; next }
        { print }
        END { if (!done) { if (!insec) print "[" sec "]"; print key " = " val } }
    ' "$f" >"$f.new" && mv "$f.new" "$f"
    grep -Eq "^$key = $val\$" "$f" || fail "could not set $key in $f"
}

# ---- vendor PKI (openssl CLI) -----------------------------------------------

cat >"$PKI/ext.cnf" <<'EOF'
[ca_ext]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[dev_ext]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
EOF

# genkey FILE [ec|ec384|rsa2048]: a new private key, PEM.
genkey() {
    case ${2:-ec} in
    ec) openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null ;;
    ec384) openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 -out "$1" 2>/dev/null ;;
    rsa2048) openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$1" 2>/dev/null ;;
    *) fail "genkey: unknown key type $2" ;;
    esac || fail "cannot generate key $1"
}

# pki_root NAME SUBJECT: self-signed CA $PKI/NAME.{key,pem}.
pki_root() {
    genkey "$PKI/$1.key"
    openssl req -new -key "$PKI/$1.key" -subj "$2" -out "$PKI/$1.csr" 2>/dev/null &&
        openssl x509 -req -in "$PKI/$1.csr" -signkey "$PKI/$1.key" -days 3650 \
            -sha256 -extfile "$PKI/ext.cnf" -extensions ca_ext \
            -out "$PKI/$1.pem" 2>/dev/null || fail "cannot create root $1"
}

# pki_sign NAME SUBJECT ISSUER EXT [KEYTYPE]: $PKI/NAME.{key,pem} signed by
# $PKI/ISSUER with extension section EXT of ext.cnf.
pki_sign() {
    genkey "$PKI/$1.key" "${5:-ec}"
    openssl req -new -key "$PKI/$1.key" -subj "$2" -out "$PKI/$1.csr" 2>/dev/null &&
        openssl x509 -req -in "$PKI/$1.csr" -CA "$PKI/$3.pem" -CAkey "$PKI/$3.key" \
            -set_serial "0x$(openssl rand -hex 12)" -days "${PKI_DAYS:-365}" \
            -sha256 -extfile "$PKI/ext.cnf" -extensions "$4" \
            -out "$PKI/$1.pem" 2>/dev/null || fail "cannot create certificate $1"
}

# pki_inter NAME SUBJECT ISSUER: a vendor intermediate CA.
pki_inter() { pki_sign "$1" "$2" "$3" ca_ext; }

# pki_device NAME SERIAL ISSUER [KEYTYPE]: a device certificate with subject
# /CN=eNodeB/serialNumber=SERIAL.
pki_device() { pki_sign "$1" "/CN=eNodeB/serialNumber=$2" "$3" dev_ext "${4:-ec}"; }

# ---- the server -------------------------------------------------------------

# server_start [LISTEN]: starts `cmpca serve` (default 127.0.0.1:0) and waits
# for its one "listening" line; sets PORT, URL, SERVER_PID, SERVER_LOG.
server_start() {
    local listen=${1:-127.0.0.1:0} line="" i
    SERVER_NUM=$((SERVER_NUM + 1))
    SERVER_LOG=$T/server-$SERVER_NUM.log
    local sout=$T/server-$SERVER_NUM.out
    : >"$sout"
    # CMPCA_SERVER_WRAPPER, when set, goes before the server command (e.g.
    # scripts/valgrind.sh's valgrind); it must exec the server in its own
    # process, so that the SIGTERM to $! reaches the server itself.
    # shellcheck disable=SC2086 # SERVER_ARGS and the wrapper: several words
    ${CMPCA_SERVER_WRAPPER:-} "$CMPCA" serve --dir "$D" --listen "$listen" ${SERVER_ARGS:-} >"$sout" 2>"$SERVER_LOG" &
    SERVER_PID=$!
    for i in $(seq 100); do
        # a whole line only: the newline shows the write is complete
        if [ "$(wc -l <"$sout")" -ge 1 ]; then
            line=$(head -n 1 "$sout")
            break
        fi
        kill -0 "$SERVER_PID" 2>/dev/null || break
        sleep 0.1
    done
    if [[ ! $line =~ ^cmpca:\ listening\ on\ http://127\.0\.0\.1:([0-9]+)/\.well-known/cmp$ ]]; then
        server_kill
        fail "server did not report 'cmpca: listening on http://127.0.0.1:PORT/.well-known/cmp' (got '$line')"
    fi
    PORT=${BASH_REMATCH[1]}
    URL=http://127.0.0.1:$PORT$CMP_PATH
    log "server $SERVER_NUM (pid $SERVER_PID) listening on port $PORT"
}

# server_stop: SIGTERM, then expects exit status 0 within 10 s and a log
# free of sanitizer reports.
server_stop() {
    [ -n "$SERVER_PID" ] || return 0
    local pid=$SERVER_PID rc=0 i
    kill -TERM "$pid" 2>/dev/null || true
    for i in $(seq 100); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        server_kill
        fail "server did not stop within 10 s of SIGTERM"
    fi
    wait "$pid" || rc=$?
    SERVER_PID=""
    check "server exited with status 0 on SIGTERM"
    [ "$rc" -eq 0 ] || fail "server exited with status $rc"
    assert_no_grep "$SERVER_LOG" 'AddressSanitizer|LeakSanitizer|runtime error:' "sanitizer report in server log"
}

# server_kill: stops the server without judging it (used on exit).
server_kill() {
    [ -n "$SERVER_PID" ] || return 0
    local pid=$SERVER_PID i
    SERVER_PID=""
    kill -TERM "$pid" 2>/dev/null || return 0
    for i in $(seq 50); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

# ---- clients ------------------------------------------------------------------

# run_ir RUN DEVICE [openssl cmp options...]: one ir by `openssl cmp` with the
# vendor credentials $PKI/DEVICE.{pem,key} and a new EC key (unless -newkey
# is among the options). Outputs land in $OUT/RUN: cert.pem capubs.pem
# extra.pem new.key req1.der req2.der rsp1.der rsp2.der client.log.
# Sets RUN_RC to the client's exit status; never fails by itself.
run_ir() {
    local dev=$2 o=$OUT/$1
    shift 2
    mkdir -p "$o"
    local newkey=(-newkey "$o/new.key")
    case " $* " in *" -newkey "*) newkey=() ;; *) genkey "$o/new.key" ;; esac
    RUN_RC=0
    openssl cmp -cmd ir -server "127.0.0.1:$PORT" -path "$CMP_PATH" \
        -cert "$PKI/$dev.pem" -key "$PKI/$dev.key" "${newkey[@]}" \
        -trusted "$D/root.pem" -certout "$o/cert.pem" \
        -cacertsout "$o/capubs.pem" -extracertsout "$o/extra.pem" \
        -reqout "$o/req1.der,$o/req2.der,$o/req3.der" \
        -rspout "$o/rsp1.der,$o/rsp2.der,$o/rsp3.der" \
        -msg_timeout 30 -total_timeout 60 "$@" >"$o/client.log" 2>&1 || RUN_RC=$?
}

# run_noroot RUN [noroot_client options...]: like run_ir for noroot_client;
# outputs in $OUT/RUN, client log $OUT/RUN/client.log, status in RUN_RC.
run_noroot() {
    local o=$OUT/$1
    shift
    [ -x "$CLIENT" ] || fail "noroot_client binary not given (argument 2)"
    mkdir -p "$o"
    RUN_RC=0
    "$CLIENT" --server "127.0.0.1:$PORT" --path "$CMP_PATH" "$@" >"$o/client.log" 2>&1 || RUN_RC=$?
}

# client_failinfo LOG: the failInfo names the openssl client printed
# ("PKIFailureInfo: badPOP" -> "badPOP"; several are comma-separated).
client_failinfo() {
    sed -n 's/.*PKIFailureInfo: \([A-Za-z, ]*\).*/\1/p' "$1" | sed -n 1p | tr -d ' '
}

# ---- decoding responses -------------------------------------------------------

FAILINFO_NAMES=(badAlg badMessageCheck badRequest badTime badCertId badDataFormat
    wrongAuthority incorrectData missingTimeStamp badPOP certRevoked certConfirmed
    wrongIntegrity badRecipientNonce timeNotAvailable unacceptedPolicy
    unacceptedExtension addInfoNotAvailable badSenderNonce badCertTemplate
    signerNotTrusted transactionIdInUse unsupportedVersion notAuthorized
    systemUnavail systemFailure duplicateCertReq)

# bodytype_of RSP.der: the PKIBody choice number (1 ip, 19 pkiConf, 23 error).
bodytype_of() {
    asn1_lines "$1" |
        awk '/d=1 / { n++; if (n == 2) { sub(/.*cont \[ */, ""); sub(/ *\].*/, ""); print } }'
}

# asn1_lines FILE: `openssl asn1parse` of a DER file, empty if it does not
# parse. Read whole before any consumer stops early, so no SIGPIPE can make
# a pipeline fail under pipefail.
asn1_lines() {
    local text
    text=$(openssl asn1parse -inform DER -in "$1" 2>/dev/null) || true
    [ -z "$text" ] || printf '%s\n' "$text"
}

# _pkisi_of RSP.der: prints "STATUS" or "STATUS OFFSET HL LEN", the status
# (hex) of the first PKIStatusInfo of an error/ip/cp/kup/rp and where its
# failInfo BIT STRING is. Walks `openssl asn1parse` output by depth:
#   error: body > ErrorMsgContent > PKIStatusInfo
#   ip/cp/kup: body > CertRepMessage > response > CertResponse[0] > status
#   rp: body > RevRepContent > status > PKIStatusInfo[0]
_pkisi_of() {
    asn1_lines "$1" | awk '
        {
            x = $0; sub(/.*d=/, "", x); d = x + 0
            off = $0; sub(/:.*/, "", off); off += 0
            hl = $0; sub(/.*hl= */, "", hl); hl += 0
            l = $0; sub(/.* l= */, "", l); l += 0
        }
        d == 1 {
            top++
            if (top == 2) { b = $0; sub(/.*cont \[ */, "", b); sub(/ *\].*/, "", b); body = b + 0 }
            next
        }
        top != 2 || fin { next }
        {
            cnt[d]++; for (k = d + 1; k < 32; k++) cnt[k] = 0
            kind[d] = ($0 ~ /cons: *cont/) ? "cont" : ($0 ~ /SEQUENCE/ ? "seq" : "x")
        }
        !pk {
            if ((body == 23 && d == 3 && cnt[2] == 1 && cnt[3] == 1) ||
                ((body == 1 || body == 3 || body == 8) && d == 5 &&
                 kind[3] == "seq" && cnt[4] == 1 && cnt[5] == 2) ||
                (body == 12 && d == 4 && cnt[3] == 1 && cnt[4] == 1))
                pk = d
            next
        }
        d <= pk { fin = 1; next }
        d == pk + 1 && /prim: *INTEGER/ && status == "" { v = $0; sub(/.*INTEGER *:/, "", v); status = v }
        d == pk + 1 && /prim: *BIT STRING/ { bits = off " " hl " " l }
        END { if (status != "") print status, bits }'
}

# pkistatus_of RSP.der: the first PKIStatus in a saved response (0 accepted,
# 1 grantedWithMods, 2 rejection, 3 waiting...), empty when there is none.
pkistatus_of() {
    local s
    s=$(_pkisi_of "$1")
    s=${s%% *}
    [ -n "$s" ] && printf '%d\n' "0x$s" || echo ""
}

# failinfo_of RSP.der: the names of the failInfo bits of the first
# PKIStatusInfo of a saved response, comma-separated; empty when absent.
failinfo_of() {
    local f=$1 info names="" i=0 byte bit
    info=$(_pkisi_of "$f")
    # shellcheck disable=SC2086 # split "STATUS OFFSET HL LEN"
    set -- $info
    if [ $# -ne 4 ]; then echo ""; return 0; fi
    # contents: one byte of unused-bit count, then the bits, bit 0 = MSB
    for byte in $(od -An -v -tu1 -j $(($2 + $3 + 1)) -N $(($4 - 1)) "$f"); do
        for bit in 0 1 2 3 4 5 6 7; do
            if [ $((byte & (0x80 >> bit))) -ne 0 ]; then
                names+=${names:+,}${FAILINFO_NAMES[i + bit]:-bit$((i + bit))}
            fi
        done
        i=$((i + 8))
    done
    echo "$names"
}

# expect_failinfo RUN NAME: the client of run RUN failed, printed failInfo
# NAME, and its saved first response carries exactly NAME.
expect_failinfo() {
    local o=$OUT/$1 want=$2 got
    check "$1: client fails with failInfo $want"
    [ "$RUN_RC" -ne 0 ] || fail "$1: client succeeded, expected failInfo $want"
    [ -s "$o/rsp1.der" ] || fail "$1: no response saved ($(tail -n 3 "$o/client.log" | tr '\n' ' '))"
    got=$(failinfo_of "$o/rsp1.der")
    assert_eq "$want" "$got" "$1: failInfo in the response"
    assert_eq 2 "$(pkistatus_of "$o/rsp1.der")" "$1: PKIStatus (2 = rejection)"
    got=$(client_failinfo "$o/client.log")
    assert_eq "$want" "$got" "$1: failInfo reported by the client"
}

# ---- HTTP ---------------------------------------------------------------------

# http_post FILE [PATH] [CONTENT-TYPE]: POSTs FILE with curl; prints the HTTP
# status; the body is in $T/http.body.
http_post() {
    curl -s -o "$T/http.body" -w '%{http_code}' --max-time 30 \
        -H "Content-Type: ${3:-application/pkixcmp}" --data-binary "@$1" \
        "http://127.0.0.1:$PORT${2:-$CMP_PATH}" || true
}

# ---- the store as the CLI shows it ---------------------------------------------

# cert_count: certificates in `cmpca cert list` (lines after the header).
cert_count() {
    local out
    out=$(cli cert list) || fail "cmpca cert list failed"
    [ "${out%%$'\n'*}" = "$(printf 'SERIAL\tSUBJECT\tNOT_AFTER\tSTATUS')" ] ||
        fail "cmpca cert list: unexpected header '${out%%$'\n'*}'"
    printf '%s\n' "$out" | tail -n +2 | grep -c . || true
}

# cert_status SERIAL: the STATUS column of `cmpca cert list` for SERIAL.
cert_status() {
    cli cert list | awk -F '\t' -v s="$1" 'NR > 1 && toupper($1) == toupper(s) { print $4 }'
}

# serial_of CERT.pem: the serial as `openssl x509 -serial` prints it.
serial_of() {
    openssl x509 -in "$1" -noout -serial | sed 's/^serial=//'
}

# device_state VENDOR SERIAL: the STATE column of `cmpca device list`.
device_state() {
    cli device list | awk -F '\t' -v v="$1" -v s="$2" 'NR > 1 && $1 == v && $2 == s { print $3 }'
}

# fingerprint CERT.pem [INDEX]: SHA-256 fingerprint of the INDEX-th (from 1)
# certificate in a PEM file.
fingerprint() {
    awk -v want="${2:-1}" '/-----BEGIN CERTIFICATE-----/ { n++ } n == want { print } /-----END CERTIFICATE-----/ && n == want { exit }' "$1" |
        openssl x509 -noout -fingerprint -sha256 2>/dev/null | sed 's/.*=//'
}

# subject_of CERT.pem: the subject in RFC 2253 form.
subject_of() {
    openssl x509 -in "$1" -noout -subject -nameopt RFC2253 | sed 's/^subject=//'
}

# subject_has CERT.pem STRING: the subject contains STRING.
subject_has() {
    grep -qF -- "$2" <<<"$(subject_of "$1")"
}

# pem_count FILE: number of certificates in a PEM file.
pem_count() {
    grep -c -- '-----BEGIN CERTIFICATE-----' "$1" 2>/dev/null || true
}

# pubkey_of FILE: the DER public key (hex) of a certificate or private key.
pubkey_of() {
    if grep -q 'BEGIN CERTIFICATE' "$1"; then
        openssl x509 -in "$1" -noout -pubkey | openssl pkey -pubin -outform DER | od -An -v -tx1 | tr -d ' \n'
    else
        openssl pkey -in "$1" -pubout -outform DER | od -An -v -tx1 | tr -d ' \n'
    fi
}

# ---- lifecycle: kur, cr, p10cr, rr, genm, CRLs, polling ------------------------

# run_cmp RUN CMD [openssl cmp options...]: one `openssl cmp -cmd CMD` that
# trusts the operator root for the responses; credentials (-cert/-key, or
# -secret/-ref) and everything else come from the options (later options
# override earlier ones, e.g. -total_timeout). Outputs in $OUT/RUN (old ones
# removed first): cert.pem capubs.pem extra.pem reqN.der rspN.der (N =
# 1..RUN_MSGS, default 8; a polling client needs more, and the client fails
# when it runs out of names) client.log. Sets RUN_RC; never fails by itself.
run_cmp() {
    _cmp_prepare "$1" "$2"
    shift 2
    RUN_RC=0
    openssl cmp "${CMP_ARGS[@]}" "$@" >"$CMP_LOG" 2>&1 || RUN_RC=$?
}

# run_cmp_bg RUN CMD [options...]: run_cmp in the background; sets BG_PID
# (also stopped on exit). Collect it with `wait_pid $BG_PID S; RUN_RC=$WAIT_RC`.
run_cmp_bg() {
    _cmp_prepare "$1" "$2"
    shift 2
    openssl cmp "${CMP_ARGS[@]}" "$@" >"$CMP_LOG" 2>&1 &
    BG_PID=$!
    EXTRA_PIDS+=("$BG_PID")
}

# _cmp_prepare RUN CMD: the output directory and CMP_ARGS, CMP_LOG for run_cmp.
_cmp_prepare() {
    local o=$OUT/$1 n=${RUN_MSGS:-8} i reqs="" rsps=""
    mkdir -p "$o"
    rm -f "$o"/req*.der "$o"/rsp*.der "$o/cert.pem" "$o/capubs.pem" "$o/extra.pem" "$o/client.log"
    for i in $(seq "$n"); do
        reqs+=${reqs:+,}$o/req$i.der
        rsps+=${rsps:+,}$o/rsp$i.der
    done
    CMP_LOG=$o/client.log
    CMP_ARGS=(-cmd "$2" -server "127.0.0.1:$PORT" -path "$CMP_PATH"
        -trusted "$D/root.pem" -certout "$o/cert.pem"
        -cacertsout "$o/capubs.pem" -extracertsout "$o/extra.pem"
        -reqout "$reqs" -rspout "$rsps" -msg_timeout 30 -total_timeout 60)
}

# client_errors LOG: the client's error, status and failInfo lines, joined.
client_errors() {
    grep -E 'error|PKIStatus|PKIFailureInfo|status' "$1" | head -n 4 | tr '\n' ' ' || true
}

# expect_ok RUN WHAT: the client of run RUN exited 0.
expect_ok() {
    check "$1: $2"
    [ "$RUN_RC" -eq 0 ] || fail "$1: openssl cmp exited $RUN_RC: $(client_errors "$OUT/$1/client.log")"
}

# enroll RUN DEVICE [openssl cmp options]: run_ir that must succeed; the
# operator certificate is $OUT/RUN/cert.pem and its key $OUT/RUN/new.key.
enroll() {
    run_ir "$@"
    expect_ok "$1" "initial enrollment of $2 succeeds"
    [ -s "$OUT/$1/cert.pem" ] || fail "$1: no certificate written by -certout"
}

# assert_cert_count N WHAT: the store holds N certificates.
assert_cert_count() {
    check "$2: $1 certificate(s) in the store"
    assert_eq "$1" "$(cert_count)" "$2: certificates in the store"
}

# last_rsp RUN: the last response run RUN saved (rspN.der, largest N).
last_rsp() {
    local i last=""
    for i in $(seq 100); do
        [ -e "$OUT/$1/rsp$i.der" ] || break
        last=$OUT/$1/rsp$i.der
    done
    echo "$last"
}

# expect_failinfo_in RUN RSP.der NAME: like expect_failinfo, for the saved
# response RSP.der of run RUN (say the last one after polling).
expect_failinfo_in() {
    local o=$OUT/$1 f=$2 want=$3
    check "$1: client fails with failInfo $want ($(basename "$f"))"
    [ "$RUN_RC" -ne 0 ] || fail "$1: client succeeded, expected failInfo $want"
    [ -s "$f" ] || fail "$1: no response $f saved ($(client_errors "$o/client.log"))"
    assert_eq "$want" "$(failinfo_of "$f")" "$1: failInfo in $(basename "$f")"
    assert_eq 2 "$(pkistatus_of "$f")" "$1: PKIStatus in $(basename "$f") (2 = rejection)"
    assert_eq "$want" "$(client_failinfo "$o/client.log")" "$1: failInfo reported by the client"
}

# expect_body RUN N TYPE WHAT: request (reqN) or response (rspN) N of RUN
# has PKIBody TYPE; N is like "rsp1" or "req2".
expect_body() {
    assert_eq "$3" "$(bodytype_of "$OUT/$1/$2.der")" "$1: body type of $2 ($4)"
}

# shellcheck disable=SC2016 # awk code, expanded by awk
# _ASN1_WALK: awk prelude for `openssl asn1parse` lines: d (depth), off, hl,
# l, and top (count of depth-1 elements, 2 = the PKIBody) and body.
_ASN1_WALK='
    {
        x = $0; sub(/.*d=/, "", x); d = x + 0
        off = $0; sub(/:.*/, "", off); off += 0
        hl = $0; sub(/.*hl= */, "", hl); hl += 0
        l = $0; sub(/.* l= */, "", l); l += 0
    }
    d == 1 {
        top++
        if (top == 2) { b = $0; sub(/.*cont \[ */, "", b); sub(/ *\].*/, "", b); body = b + 0 }
    }'

# certreqid_of RSP.der: the certReqId of the first CertResponse of an
# ip/cp/kup, in decimal (-1 for a p10cr answer); empty when there is none.
certreqid_of() {
    local v
    v=$(asn1_lines "$1" | awk "$_ASN1_WALK"'
        d == 1 || top != 2 || (body != 1 && body != 3 && body != 8) { next }
        { cnt[d]++; for (k = d + 1; k < 32; k++) cnt[k] = 0
          kind[d] = ($0 ~ /cons: *cont/) ? "cont" : ($0 ~ /SEQUENCE/ ? "seq" : "x") }
        d == 5 && kind[3] == "seq" && cnt[4] == 1 && cnt[5] == 1 && /prim: *INTEGER/ {
            v = $0; sub(/.*INTEGER *:/, "", v); print v; exit }')
    case $v in
    "") echo "" ;;
    -*) printf -- '-%d\n' "0x${v#-}" ;;
    *) printf '%d\n' "0x$v" ;;
    esac
}

# has_capubs RSP.der: an ip/cp/kup carries caPubs ([1] in CertRepMessage).
has_capubs() {
    asn1_lines "$1" | awk "$_ASN1_WALK"'
        top == 2 && d == 3 && /cons: *cont \[ *1 *\]/ { found = 1 }
        END { exit !found }'
}

# certrep_cert RSP.der OUT.pem: the certificate of the first CertResponse of
# an ip/cp/kup (also when the client refused it) as PEM; returns 1 if none.
certrep_cert() {
    local pos
    pos=$(asn1_lines "$1" | awk "$_ASN1_WALK"'
        d == 1 || top != 2 || (body != 1 && body != 3 && body != 8) { next }
        { cnt[d]++; for (k = d + 1; k < 32; k++) cnt[k] = 0
          kind[d] = ($0 ~ /cons: *cont/) ? "cont" : ($0 ~ /SEQUENCE/ ? "seq" : "x") }
        d == 7 && kind[3] == "seq" && cnt[4] == 1 && cnt[5] == 3 && kind[6] == "cont" && cnt[6] == 1 && cnt[7] == 1 {
            print off, hl + l; exit }')
    [ -n "$pos" ] || return 1
    der_cut "$1" "${pos% *}" "${pos#* }" | openssl x509 -inform DER -out "$2" 2>/dev/null
}

# header_nonce MSG.der 5|6: the senderNonce (5) or recipNonce (6) of a saved
# PKIMessage, uppercase hex; empty when absent.
header_nonce() {
    asn1_lines "$1" | awk -v tag="$2" "$_ASN1_WALK"'
        top == 1 && d == 2 { want = ($0 ~ ("cont \\[ *" tag " *\\]")); next }
        want && d == 3 { v = $0; sub(/.*\[HEX DUMP\]:/, "", v); print v; exit }'
}

# expect_nonces RUN: every saved response N of RUN echoes request N's
# senderNonce as recipNonce (RFC 4210 5.1.1), which the client checks.
expect_nonces() {
    local i
    check "$1: each response's recipNonce is the senderNonce of the request it answers"
    for i in $(seq 100); do
        [ -e "$OUT/$1/rsp$i.der" ] || break
        assert_eq "$(header_nonce "$OUT/$1/req$i.der" 5)" "$(header_nonce "$OUT/$1/rsp$i.der" 6)" \
            "$1: recipNonce of rsp$i ($(bodytype_of "$OUT/$1/rsp$i.der")) vs senderNonce of req$i ($(bodytype_of "$OUT/$1/req$i.der"))"
    done
}

# der_cut FILE OFFSET LENGTH: LENGTH bytes of FILE from OFFSET, on stdout.
der_cut() {
    head -c $(($2 + $3)) "$1" | tail -c "$3"
}

# genp_itavs RSP.der: one line per InfoTypeAndValue of a genp: the infoType
# as asn1parse names it (id-it-caCerts, or dotted when it has no name), then
# "OFFSET LENGTH" of the whole infoValue TLV when there is one.
genp_itavs() {
    asn1_lines "$1" | awk "$_ASN1_WALK"'
        d == 1 || top != 2 || body != 22 { next }
        d == 3 { if (cur != "") print cur; cur = ""; n = 0; next }
        d == 4 {
            n++
            if (n == 1) { o = $0; sub(/.*OBJECT *:/, "", o); cur = o }
            else if (n == 2) cur = cur " " off " " (hl + l)
        }
        END { if (cur != "") print cur }'
}

# der_certs DER OUT.pem: the certificates directly inside the SEQUENCE in
# file DER (e.g. a caCerts infoValue), in order, as PEM into OUT.pem.
der_certs() {
    local line
    : >"$2"
    while read -r line; do
        # shellcheck disable=SC2086 # "OFFSET LENGTH"
        set -- "$1" "$2" $line
        der_cut "$1" "$3" "$4" | openssl x509 -inform DER >>"$2" 2>/dev/null ||
            fail "der_certs: element at offset $3 of $1 is not a certificate"
    done < <(asn1_lines "$1" | awk "$_ASN1_WALK"' d == 1 { print off, hl + l }')
}

# ---- CRLs -------------------------------------------------------------------

# crl_get FILE [NAME]: GETs /crl/NAME.crl (default ca) into FILE; prints
# "HTTP_STATUS CONTENT_TYPE".
crl_get() {
    curl -s -o "$1" -w '%{http_code} %{content_type}' --max-time 30 \
        "http://127.0.0.1:$PORT/crl/${2:-ca}.crl" || true
}

# crl_fetch FILE WHAT: crl_get that must give 200, application/pkix-crl and
# a DER CRL signed by the issuing CA (whose subject is its issuer).
crl_fetch() {
    local got
    got=$(crl_get "$1")
    check "$2: GET /crl/ca.crl gives 200 application/pkix-crl"
    assert_eq "200 application/pkix-crl" "$got" "$2: HTTP status and Content-Type of the CRL"
    crl_verify "$1" DER "$2"
}

# crl_verify FILE DER|PEM WHAT: FILE is a CRL issued by the issuing CA and
# its signature verifies with the CA's key.
crl_verify() {
    check "$3: the CRL is issued and signed by the issuing CA"
    openssl crl -inform "$2" -in "$1" -noout -CAfile "$D/ca.pem" >"$T/crl-verify.log" 2>&1 ||
        fail "$3: openssl crl cannot read or verify the CRL: $(tr '\n' ' ' <"$T/crl-verify.log")"
    grep -q 'verify OK' "$T/crl-verify.log" ||
        fail "$3: CRL signature does not verify: $(tr '\n' ' ' <"$T/crl-verify.log")"
    assert_eq "$(openssl x509 -in "$D/ca.pem" -noout -subject -nameopt RFC2253 | sed 's/^subject=//')" \
        "$(openssl crl -inform "$2" -in "$1" -noout -issuer -nameopt RFC2253 | sed 's/^issuer=//')" \
        "$3: CRL issuer"
}

# crl_text FILE [DER|PEM]: `openssl crl -text` of FILE (empty if unreadable).
crl_text() {
    local text
    text=$(openssl crl -inform "${2:-DER}" -in "$1" -noout -text 2>/dev/null) || true
    [ -z "$text" ] || printf '%s\n' "$text"
}

# crl_serials FILE [DER|PEM]: the revoked serials, uppercase hex, one a line.
crl_serials() {
    crl_text "$@" | sed -n 's/^ *Serial Number: *//p'
}

# crl_has FILE SERIAL [DER|PEM]: SERIAL is listed in the CRL.
crl_has() {
    crl_serials "$1" "${3:-DER}" | grep_all -qix -- "$2"
}

# crl_reason FILE SERIAL [DER|PEM]: the reason code of SERIAL's entry as
# openssl prints it ("Superseded", "Key Compromise"), "none" when the entry
# has none, empty when SERIAL is not listed.
crl_reason() {
    crl_text "$1" "${3:-DER}" | awk -v s="$2" '
        /^ *Serial Number:/ { if (in_e) exit; in_e = (toupper($3) == toupper(s)); if (in_e) found = 1; next }
        in_e && /CRL Reason Code/ { getline; gsub(/^ +| +$/, ""); reason = $0 }
        END { if (found) print (reason == "" ? "none" : reason) }'
}

# crl_number FILE [DER|PEM]: the cRLNumber in decimal (empty without one).
crl_number() {
    local v
    v=$(openssl crl -inform "${2:-DER}" -in "$1" -noout -crlnumber 2>/dev/null | sed -n 's/^crlNumber=//p')
    case $v in
    "" | "<NONE>") echo "" ;;
    0x* | 0X*) printf '%d\n' "$v" ;;
    *) printf '%d\n' "0x$v" ;;
    esac
}

# cert_days CERT.pem: notAfter - notBefore in whole days (rounded).
cert_days() {
    local nb na
    nb=$(date -u -d "$(openssl x509 -in "$1" -noout -startdate | sed 's/^notBefore=//')" +%s)
    na=$(date -u -d "$(openssl x509 -in "$1" -noout -enddate | sed 's/^notAfter=//')" +%s)
    echo $(((na - nb + 43200) / 86400))
}

# wait_for_file FILE PID SECONDS: waits until FILE exists, while PID runs,
# at most SECONDS; returns 1 when FILE did not appear.
wait_for_file() {
    local i
    for i in $(seq $(($3 * 10))); do
        [ -e "$1" ] && return 0
        kill -0 "$2" 2>/dev/null || break
        sleep 0.1
    done
    [ -e "$1" ]
}

# wait_pid PID SECONDS: waits at most SECONDS for background PID to end and
# sets WAIT_RC to its exit status (124 when it had to be killed).
wait_pid() {
    local i
    WAIT_RC=0
    for i in $(seq $(($2 * 10))); do
        kill -0 "$1" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$1" 2>/dev/null; then
        kill -TERM "$1" 2>/dev/null || true
        wait "$1" 2>/dev/null || true
        WAIT_RC=124
        return 0
    fi
    wait "$1" || WAIT_RC=$?
}

# server_log_tail N: the last N lines of the server log, for reports.
server_log_tail() {
    tail -n "${1:-5}" "$SERVER_LOG" 2>/dev/null | tr '\n' ' ' || true
}

# setup_acme NAME=SERIAL...: vendor "acme" (root $PKI/vroot) trusted, and for
# each pair a device certificate $PKI/NAME.{pem,key} with serial SERIAL,
# registered. Needs ca_init first.
setup_acme() {
    local p
    [ -s "$PKI/vroot.pem" ] || pki_root vroot "/O=Acme Vendor/CN=Acme Vendor Root CA"
    for p in "$@"; do
        pki_device "${p%%=*}" "${p#*=}" vroot
    done
    cli vendor list | grep_all -q '^acme' || cli vendor add acme "$PKI/vroot.pem" >/dev/null ||
        fail "vendor add acme failed"
    for p in "$@"; do
        cli device add acme "${p#*=}" >/dev/null || fail "device add acme ${p#*=} failed"
    done
}

# check_op_cert RUN CERT.pem KEY WHAT: CERT chains to the operator root
# through the issuing CA, is issued by it and certifies the public key of
# KEY (a private key or a CSR's key given as a certificate-less PEM key).
check_op_cert() {
    local o=$OUT/$1
    check "$1: $4: chains to the operator root, issued by the issuing CA, holds the requested key"
    [ -s "$2" ] || fail "$1: no certificate in $2"
    openssl verify -CAfile "$D/root.pem" -untrusted "$D/ca.pem" "$2" >"$o/verify.log" 2>&1 ||
        fail "$1: openssl verify: $(tr '\n' ' ' <"$o/verify.log")"
    assert_eq "$(openssl x509 -in "$D/ca.pem" -noout -subject -nameopt RFC2253 | sed 's/^subject=//')" \
        "$(openssl x509 -in "$2" -noout -issuer -nameopt RFC2253 | sed 's/^issuer=//')" "$1: issuer"
    assert_eq "$(pubkey_of "$3")" "$(pubkey_of "$2")" "$1: public key"
}

# check_certrep RUN TYPE WHAT [CERTREQID]: run RUN got TYPE (1 ip, 3 cp,
# 8 kup) with status accepted and certReqId CERTREQID (default 0), sent
# certConf (24) and got pkiConf (19); no third request.
check_certrep() {
    local o=$OUT/$1
    check "$1: $3: body $2 accepted, certConf answered by pkiConf"
    expect_body "$1" rsp1 "$2" "$3"
    assert_eq 0 "$(pkistatus_of "$o/rsp1.der")" "$1: PKIStatus (0 = accepted)"
    assert_eq "${4:-0}" "$(certreqid_of "$o/rsp1.der")" "$1: certReqId"
    expect_body "$1" req2 24 "certConf"
    expect_body "$1" rsp2 19 "pkiConf"
    [ ! -e "$o/req3.der" ] || fail "$1: a third request was sent"
}

# ---- building DER by hand (for what `openssl cmp` 3.0 cannot send) ------------

# hex_of FILE: the bytes of FILE as one lowercase hex string.
hex_of() {
    od -An -v -tx1 "$1" | tr -d ' \n'
}

# hex_write HEX FILE: writes the bytes spelled by HEX into FILE.
hex_write() {
    local h=$1 i
    : >"$2"
    # printf in chunks, so no argument grows too long
    for ((i = 0; i < ${#h}; i += 2048)); do
        # shellcheck disable=SC2059,SC2001 # the format is the escaped bytes
        printf "$(sed 's/../\\x&/g' <<<"${h:i:2048}")" >>"$2"
    done
}

# der_tlv TAG HEX: a DER element with tag octet TAG (hex) around HEX.
der_tlv() {
    local n=$((${#2} / 2))
    if [ "$n" -lt 128 ]; then
        printf '%s%02x%s' "$1" "$n" "$2"
    elif [ "$n" -lt 256 ]; then
        printf '%s81%02x%s' "$1" "$n" "$2"
    else
        printf '%s82%04x%s' "$1" "$n" "$2"
    fi
}

# der_child_hex FILE DEPTH INDEX: the whole TLV (hex) of the INDEX-th (from
# 1) element at depth DEPTH of the DER in FILE, counted in document order.
der_child_hex() {
    local pos h
    pos=$(asn1_lines "$1" | awk -v want_d="$2" -v want_i="$3" "$_ASN1_WALK"'
        d == want_d && ++n == want_i { print off, hl + l; exit }')
    [ -n "$pos" ] || return 1
    h=$(hex_of "$1")
    echo "${h:$((2 * ${pos% *})):$((2 * ${pos#* }))}"
}

# ---- RA mode, nested messages, MAC protection --------------------------------

# pki_selfsigned NAME SUBJECT: a self-signed end-entity certificate
# $PKI/NAME.{key,pem} (CA:FALSE, digitalSignature, SKI): an RA's certificate.
pki_selfsigned() {
    genkey "$PKI/$1.key"
    openssl req -new -key "$PKI/$1.key" -subj "$2" -out "$PKI/$1.csr" 2>/dev/null &&
        openssl x509 -req -in "$PKI/$1.csr" -signkey "$PKI/$1.key" -days 365 \
            -sha256 -extfile "$PKI/ext.cnf" -extensions dev_ext \
            -out "$PKI/$1.pem" 2>/dev/null || fail "cannot create self-signed certificate $1"
}

# ra_add NAME CERT.pem [cmpca ra add options]: registers an RA; fails the
# test when `cmpca ra add` fails.
ra_add() {
    cli ra add "$@" >"$T/ra-add.out" 2>&1 || fail "cmpca ra add $*: $(cat "$T/ra-add.out")"
}

# ra_field NAME COLUMN: a column of `cmpca ra list` (1 NAME, 2 VENDORS,
# 3 RAVERIFY, 4 REVOKE, 5 SUBJECT) for RA NAME; empty when not listed.
ra_field() {
    cli ra list | awk -F '\t' -v n="$1" -v c="$2" 'NR > 1 && $1 == n { print $c }'
}

# save_req RUN CMD [openssl cmp options]: the request `openssl cmp -cmd CMD`
# builds, written to $OUT/RUN/req.der without being sent: -rspin names an
# empty file, so the client writes -reqout and then fails at once reading
# the "response" (the server 127.0.0.1:1 is never contacted; connecting
# there would retry until -msg_timeout). New key $OUT/RUN/new.key unless
# -newkey is given. Fails the test when no request was written.
save_req() {
    local run=$1 o=$OUT/$1 cmd=$2 newkey
    shift 2
    mkdir -p "$o"
    rm -f "$o/req.der"
    newkey=(-newkey "$o/new.key")
    case " $* " in *" -newkey "*) newkey=() ;; *) genkey "$o/new.key" ;; esac
    : >"$o/empty.der"
    openssl cmp -cmd "$cmd" -server 127.0.0.1:1 -path "$CMP_PATH" "${newkey[@]}" \
        -certout "$o/never.pem" -reqout "$o/req.der" -rspin "$o/empty.der" \
        -msg_timeout 5 -total_timeout 10 \
        "$@" >"$o/save.log" 2>&1 || true
    [ -s "$o/req.der" ] || fail "$run: openssl cmp wrote no request: $(client_errors "$o/save.log")"
}

# run_nested RUN [nested_client options] REQUEST.der...: nested_client
# ($NESTED_CLIENT) posts the requests in one nested message to the server;
# it trusts root.pem for the answers and names the issuing CA as recipient.
# Outputs in $OUT/RUN (req.der, rsp.der, inner-N.der, cert-N.pem,
# client.log); sets RUN_RC; never fails by itself.
run_nested() {
    local o=$OUT/$1
    shift
    [ -x "${NESTED_CLIENT:-}" ] || fail "nested_client binary not given (argument 3)"
    rm -rf "$o" && mkdir -p "$o"
    RUN_RC=0
    "$NESTED_CLIENT" --server "127.0.0.1:$PORT" --path "$CMP_PATH" --trusted "$D/root.pem" \
        --recipient-cert "$D/ca.pem" --out-dir "$o" --timeout 30 "$@" >"$o/client.log" 2>&1 || RUN_RC=$?
}

# nested_field RUN outer|N KEY: field KEY (body, protection, tid, nonce,
# status, failInfo, cert) of the outer answer or of inner answer N, as
# nested_client of run RUN printed it; empty when the line is missing.
nested_field() {
    local sel=$2
    [ "$sel" = outer ] || sel="inner $sel"
    awk -v sel="$sel " -v key="$3" '
        index($0, sel) == 1 {
            for (i = 1; i <= NF; i++)
                if (index($i, key "=") == 1) { print substr($i, length(key) + 2); exit }
        }' "$OUT/$1/client.log"
}

# nested_inner_count RUN: how many inner answers nested_client printed.
nested_inner_count() {
    grep -c '^inner ' "$OUT/$1/client.log" || true
}

# protection_alg_of MSG.der: the protectionAlg OID of a saved PKIMessage as
# `openssl asn1parse` names it ("password based MAC", "ecdsa-with-SHA256").
protection_alg_of() {
    asn1_lines "$1" | awk "$_ASN1_WALK"'
        top == 1 && d == 2 { want = ($0 ~ /cont \[ *1 *\]/); next }
        want && /prim: *OBJECT/ { sub(/.*OBJECT *:/, ""); print; exit }'
}

# ---- HTTPS and slow clients (https.sh, slowloris.sh) --------------------------

# server_start_https [LISTEN]: like server_start for a server given TLS
# options in SERVER_ARGS (--tls-cert, --tls-key...): waits for its
# "listening on https://..." line; sets PORT, URL, SERVER_PID, SERVER_LOG.
server_start_https() {
    local listen=${1:-127.0.0.1:0} line="" i sout
    SERVER_NUM=$((SERVER_NUM + 1))
    SERVER_LOG=$T/server-$SERVER_NUM.log
    sout=$T/server-$SERVER_NUM.out
    : >"$sout"
    # shellcheck disable=SC2086 # SERVER_ARGS and the wrapper: several words
    ${CMPCA_SERVER_WRAPPER:-} "$CMPCA" serve --dir "$D" --listen "$listen" ${SERVER_ARGS:-} >"$sout" 2>"$SERVER_LOG" &
    SERVER_PID=$!
    for i in $(seq 100); do
        if [ "$(wc -l <"$sout")" -ge 1 ]; then
            line=$(head -n 1 "$sout")
            break
        fi
        kill -0 "$SERVER_PID" 2>/dev/null || break
        sleep 0.1
    done
    if [[ ! $line =~ ^cmpca:\ listening\ on\ https://127\.0\.0\.1:([0-9]+)/\.well-known/cmp$ ]]; then
        server_kill
        fail "server did not report 'cmpca: listening on https://127.0.0.1:PORT/.well-known/cmp' (got '$line'): $(tail -n 3 "$SERVER_LOG" | tr '\n' ' ')"
    fi
    PORT=${BASH_REMATCH[1]}
    URL=https://127.0.0.1:$PORT$CMP_PATH
    log "server $SERVER_NUM (pid $SERVER_PID) listening on port $PORT (HTTPS)"
}

# expect_enrolled RUN SERIAL WHAT: the ir of run_ir RUN succeeded: ip
# accepted (granted with modifications counts: the CA adds the serial),
# certConf answered by pkiConf, and the certificate chains to the operator
# root through the issuing CA, certifies the new key and names SERIAL.
expect_enrolled() {
    local o=$OUT/$1
    check "$1: $3: enrolled"
    [ "$RUN_RC" -eq 0 ] || fail "$1: openssl cmp exited $RUN_RC: $(grep -m3 -i 'error' "$o/client.log" | tr '\n' ' ')"
    assert_eq 1 "$(bodytype_of "$o/rsp1.der")" "$1: first response body type (ip)"
    case $(pkistatus_of "$o/rsp1.der") in
    0 | 1) ;;
    *) fail "$1: ip PKIStatus is '$(pkistatus_of "$o/rsp1.der")', expected accepted or grantedWithMods" ;;
    esac
    assert_eq 19 "$(bodytype_of "$o/rsp2.der")" "$1: answer to certConf (pkiConf)"
    check_op_cert "$1" "$o/cert.pem" "$o/new.key" "$3"
    subject_has "$o/cert.pem" "$2" || fail "$1: certificate subject lacks $2: $(subject_of "$o/cert.pem")"
}
