# shellcheck shell=bash disable=SC2034
# lib.sh: the adversarial runner's helpers: reading a case file, running its
# setup steps, sending its request, decoding the answer and judging it.
# Sourced by run.sh after tests/integration/lib.sh, whose server control
# (server_start/server_stop), CLI wrapper (cli) and response decoders
# (bodytype_of, pkistatus_of, failinfo_of, asn1_lines, serial_of) it uses.
# docs/adversarial.md describes the case format.

BODY_NAMES=(ir ip cr cp p10cr popdecc popdecr kur kup krr krp rr rp ccr ccp
    ckuann cann rann crlann pkiConf nested genm genp error certConf pollReq
    pollRep)
STATUS_NAMES=(accepted grantedWithMods rejection waiting revocationWarning
    revocationNotification keyUpdateWarning)
CASE_KEYS=" setup request path http body status failinfo stored seen within reason xfail racy "

# ---- reading a case ------------------------------------------------------------

# case_load FILE: fills C_* from FILE. Returns 1 (with C_ERROR) when the file
# is malformed: an unknown key, a missing request or http, a key twice.
case_load() {
    local line key rest
    C_NAME=$(basename "$1" .expect)
    C_SETUP=()
    C_REQUEST="" C_PATH="" C_HTTP="" C_BODY="" C_STATUS="" C_FAILINFO=""
    C_STORED="" C_SEEN="" C_WITHIN="" C_REASON="" C_XFAIL="" C_RACY=""
    C_ERROR=""
    while IFS= read -r line || [ -n "$line" ]; do
        line=${line#"${line%%[![:space:]]*}"}
        [ -z "$line" ] || [ "${line:0:1}" = "#" ] && continue
        key=${line%%[[:space:]]*}
        rest=${line#"$key"}
        rest=${rest#"${rest%%[![:space:]]*}"}
        case $CASE_KEYS in *" $key "*) ;; *)
            C_ERROR="unknown key '$key'"
            return 1
            ;;
        esac
        if [ "$key" = setup ]; then
            C_SETUP+=("$rest")
            continue
        fi
        local var=C_${key^^}
        if [ -n "${!var}" ]; then
            C_ERROR="key '$key' given twice"
            return 1
        fi
        printf -v "$var" '%s' "$rest"
    done <"$1"
    [ -n "$C_REQUEST" ] || C_ERROR="no request"
    [ -n "$C_HTTP" ] || C_ERROR="no http"
    [ -n "$C_STORED" ] || C_ERROR="no stored"
    [ -z "$C_ERROR" ]
}

# ---- running adv_gen and curl ----------------------------------------------------

# words ARGS: splits a case line into WORDS, with @W (the case's work
# directory) and @D (the cmpca data directory) replaced.
words() {
    local - w
    set -f # a word is never a glob
    WORDS=()
    for w in $1; do
        w=${w//@W/$W}
        WORDS+=("${w//@D/$D}")
    done
}

# gen ARGS...: adv_gen with the case's work directory and the PKI to look in.
gen() {
    "$GEN" -I "$W" -I "$ADV_PKI" "$@" 2>>"$W/gen.log"
}

# post FILE OUT [PATH]: POSTs FILE; the answer goes to OUT, and
# "HTTP_STATUS SECONDS" to stdout ("000 ..." when no answer came).
post() {
    curl -s -o "$2" -w '%{http_code} %{time_total}' --max-time 120 \
        -H 'Content-Type: application/pkixcmp' --data-binary "@$1" \
        "http://127.0.0.1:$PORT${3:-$CMP_PATH}" 2>>"$W/curl.log" || true
}

# ---- decoding an answer -----------------------------------------------------------

# decode RSP: sets GOT_BODY, GOT_STATUS, GOT_FAILINFO, GOT_TEXT ("none"
# where the answer has no such part).
decode() {
    local b s
    GOT_BODY=none GOT_STATUS=none GOT_FAILINFO=none GOT_TEXT=""
    [ -s "$1" ] || return 0
    b=$(bodytype_of "$1")
    [ -n "$b" ] || return 0
    GOT_BODY=${BODY_NAMES[b]:-body$b}
    s=$(pkistatus_of "$1")
    [ -z "$s" ] || GOT_STATUS=${STATUS_NAMES[s]:-status$s}
    GOT_FAILINFO=$(failinfo_of "$1")
    GOT_FAILINFO=${GOT_FAILINFO:-none}
    GOT_TEXT=$("$GEN" statustext "$1" 2>/dev/null || true)
}

# snapshot FILE: what the operator sees of the store: every certificate
# with its status, and every device with its state.
snapshot() {
    { cli cert list && cli device list; } >"$1" 2>&1 || echo "snapshot failed" >>"$1"
}

# seen_rows: "NONCES TIDS", the rows of the server's replay tables: the
# senderNonces and transactionIDs it has recorded. Not visible in the CLI;
# read with sqlite3 (the server keeps running, WAL mode).
seen_rows() {
    sqlite3 "$D/cmpca.db" "PRAGMA busy_timeout = 5000;
        SELECT (SELECT count(*) FROM nonces) || ' ' || (SELECT count(*) FROM tids);" 2>&1 |
        tail -n 1
}

# snap_certs FILE: number of certificates in a snapshot.
snap_certs() {
    awk '/^SERIAL\t/ { on = 1; next } /^VENDOR\t/ { on = 0 } on && NF { n++ } END { print n + 0 }' "$1"
}

healthy() {
    [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 \
        "http://127.0.0.1:$PORT/health" 2>/dev/null || true)" = 200 ]
}

# ---- setup steps: what must exist before the hostile request ---------------------

# step_send NAME ARGS...: builds request NAME with adv_gen and posts it;
# the answer is NAME.rsp.der. The request must get HTTP 200.
step_send() {
    local name=$1 got
    shift
    gen msg "$W/$name.der" "$@" || { STEP_ERROR="adv_gen failed for $name"; return 1; }
    got=$(post "$W/$name.der" "$W/$name.rsp.der")
    [ "${got%% *}" = 200 ] || { STEP_ERROR="$name: HTTP ${got%% *}"; return 1; }
}

# step_enroll NAME DEVICE: an ir with implicitConfirm by DEVICE's vendor
# credentials; the operator certificate is NAME.pem, its key NAME.key.
step_enroll() {
    step_send "$1" --signer "$2" --implicit-confirm --newkey-out "$W/$1.key" || return 1
    decode "$W/$1.rsp.der"
    case $GOT_BODY/$GOT_STATUS in ip/accepted | ip/grantedWithMods) ;; *)
        STEP_ERROR="enroll $1: got $GOT_BODY/$GOT_STATUS/$GOT_FAILINFO $GOT_TEXT"
        return 1
        ;;
    esac
    gen certout "$W/$1.rsp.der" "$W/$1.pem" || { STEP_ERROR="certout $1"; return 1; }
}

# step_revoke NAME: `cmpca cert revoke` of operator certificate NAME.
step_revoke() {
    cli cert revoke "$(serial_of "$W/$1.pem")" >"$W/revoke.log" 2>&1 ||
        { STEP_ERROR="cert revoke $1: $(tr '\n' ' ' <"$W/revoke.log")"; return 1; }
}

# step_expire NAME: operator certificate NAME becomes one that expired
# yesterday. Time cannot be moved for a running server, so the certificate
# is signed again by the issuing CA key with past dates and its store row is
# updated to match (same serial, subject, key): what the server would hold
# for a certificate issued 30 days ago with a 29-day validity.
step_expire() {
    local pem=$W/$1.pem serial hex nb na n
    gen reissue "$pem" "$pem" --ca "$D/ca.key" --from -30 --to -1 ||
        { STEP_ERROR="reissue $1"; return 1; }
    serial=$(serial_of "$pem")
    hex=$(openssl x509 -in "$pem" -outform DER | od -An -v -tx1 | tr -d ' \n')
    nb=$(date -u -d "$(openssl x509 -in "$pem" -noout -startdate | sed 's/^notBefore=//')" +%s)
    na=$(date -u -d "$(openssl x509 -in "$pem" -noout -enddate | sed 's/^notAfter=//')" +%s)
    n=$(sqlite3 "$D/cmpca.db" "PRAGMA busy_timeout = 5000;
        UPDATE certs SET der = X'$hex', not_before = $nb, not_after = $na
        WHERE serial_hex = '$serial'; SELECT changes();" 2>&1 | tail -n 1)
    [ "$n" = 1 ] || { STEP_ERROR="expire $1: store row of $serial not updated ($n)"; return 1; }
}

# run_setup LINE: one `setup` line of a case: send NAME ARGS, enroll NAME
# DEVICE, revoke NAME, expire NAME, or gen ARGS (any adv_gen command).
run_setup() {
    words "$1"
    STEP_ERROR=""
    case ${WORDS[0]} in
    send) step_send "${WORDS[@]:1}" ;;
    enroll) step_enroll "${WORDS[1]}" "${WORDS[2]}" ;;
    revoke) step_revoke "${WORDS[1]}" ;;
    expire) step_expire "${WORDS[1]}" ;;
    gen) gen "${WORDS[@]:1}" || STEP_ERROR="adv_gen ${WORDS[1]} failed" ;;
    *) STEP_ERROR="unknown setup step '${WORDS[0]}'"; false ;;
    esac
}

# ---- the hostile request ---------------------------------------------------------

# flood N P ARGS...: N requests from adv_gen (fresh transactionID and nonce
# each), sent over one keep-alive connection (P = 1) or P connections at
# once; REQ_RSP is the answer to the last request.
flood() {
    local n=$1 p=$2 i cfg=$W/flood.curl par=()
    shift 2
    [ "$p" -le 1 ] || par=(-Z --parallel-max "$p")
    gen msg "$W/req.der" --repeat "$n" "$@" || return 1
    : >"$cfg"
    # options after a `next` belong to the next transfer only: repeat them
    for ((i = 1; i <= n; i++)); do
        [ "$i" -eq 1 ] || echo next >>"$cfg"
        printf 'url = "http://127.0.0.1:%s%s"\ndata-binary = "@%s"\noutput = "%s"\n' \
            "$PORT" "${C_PATH:-$CMP_PATH}" "$W/req.der.$i" "$W/rsp.$i" >>"$cfg"
        printf 'header = "Content-Type: application/pkixcmp"\nwrite-out = "%%{http_code} %%{time_total}\\n"\nmax-time = 60\n' >>"$cfg"
    done
    REQ_GOT=$(curl -s "${par[@]}" -K "$cfg" 2>>"$W/curl.log" | tail -n 1 || true)
    cp "$W/rsp.$n" "$REQ_RSP" 2>/dev/null || : >"$REQ_RSP"
}

# zeros N [chunked]: a body of N zero octets, with Content-Length (and
# `Expect: 100-continue`, as curl sends for large bodies, so the refusal
# arrives before the body) or chunked (no Expect: the body just streams).
zeros() {
    local te=()
    [ "${2:-}" != chunked ] || te=(-H 'Transfer-Encoding: chunked' -H 'Expect:')
    REQ_GOT=$(head -c "$1" /dev/zero | curl -s -o "$REQ_RSP" -w '%{http_code} %{time_total}' \
        --max-time 120 -H 'Content-Type: application/pkixcmp' "${te[@]}" \
        --data-binary @- "http://127.0.0.1:$PORT${C_PATH:-$CMP_PATH}" 2>>"$W/curl.log" || true)
}

# send_request: produces and sends the case's request; sets REQ_GOT
# ("HTTP_STATUS SECONDS") and leaves the answer in REQ_RSP.
send_request() {
    local req=$W/req.der
    REQ_RSP=$W/rsp.der
    REQ_GOT="000 0"
    words "$C_REQUEST"
    case ${WORDS[0]} in
    gen) gen msg "$req" "${WORDS[@]:1}" || return 1 ;;
    file) req=$W/${WORDS[1]}.der ;;
    empty) : >"$req" ;;
    zeros) zeros "${WORDS[1]}" "${WORDS[2]:-}"; return 0 ;;
    flood) flood "${WORDS[@]:1}"; return ;;
    *) return 1 ;;
    esac
    REQ_GOT=$(post "$req" "$REQ_RSP" "${C_PATH:-}")
}

# ---- judging --------------------------------------------------------------------

# expect WHAT WANT GOT: records a mismatch in MISMATCH.
expect() {
    [ -z "$2" ] || [ "$2" = "$3" ] || MISMATCH+="${MISMATCH:+; }$1 '$3' (want '$2')"
}

# judge_store BEFORE AFTER: the `stored` expectation.
judge_store() {
    local delta=$(($(snap_certs "$2") - $(snap_certs "$1")))
    case $C_STORED in
    none)
        cmp -s "$1" "$2" || MISMATCH+="${MISMATCH:+; }store changed: $({ diff "$1" "$2" || true; } | grep '^[<>]' | head -n 3 | tr '\n\t' '  ')"
        ;;
    certs+\<=*)
        [ "$delta" -le "${C_STORED#certs+<=}" ] || MISMATCH+="${MISMATCH:+; }$delta certificates stored (want at most ${C_STORED#certs+<=})"
        ;;
    certs+*)
        [ "$delta" -eq "${C_STORED#certs+}" ] || MISMATCH+="${MISMATCH:+; }$delta certificates stored (want ${C_STORED#certs+})"
        ;;
    *) MISMATCH+="${MISMATCH:+; }bad stored '$C_STORED'" ;;
    esac
}

# judge BEFORE AFTER: compares the answer and the store with the case.
judge() {
    local secs=${REQ_GOT#* }
    MISMATCH=""
    decode "$REQ_RSP"
    expect http "$C_HTTP" "${REQ_GOT%% *}"
    expect body "$C_BODY" "$GOT_BODY"
    expect status "$C_STATUS" "$GOT_STATUS"
    expect failinfo "$C_FAILINFO" "$GOT_FAILINFO"
    if [ -n "$C_REASON" ] && ! grep -Eqi -- "$C_REASON" <<<"$GOT_TEXT"; then
        MISMATCH+="${MISMATCH:+; }statusString '$GOT_TEXT' (want /$C_REASON/)"
    fi
    if [ -n "$C_WITHIN" ] && awk -v s="$secs" -v w="$C_WITHIN" 'BEGIN { exit !(s > w) }'; then
        MISMATCH+="${MISMATCH:+; }answered in ${secs}s (want at most ${C_WITHIN}s)"
    fi
    judge_store "$1" "$2"
    if [ "$C_SEEN" = none ] && [ "$SEEN_BEFORE" != "$(seen_rows)" ]; then
        MISMATCH+="${MISMATCH:+; }replay tables grew: nonces/tids $SEEN_BEFORE -> $(seen_rows)"
    fi
    healthy || MISMATCH+="${MISMATCH:+; }server no longer answers /health"
}
