#!/usr/bin/env bash
# slowloris: one client holds 1,000 half-open connections to `cmpca serve`
# (each sends the start of a POST, then one more header line every two
# seconds, and never finishes; a connection the server cuts is opened again
# at once), and an `openssl cmp` enrollment started while they are held must
# complete.
#
# 1. Default [server] settings: max_connections (4096) is above the attack,
#    so nobody waits. The server starts with the soft open-file limit at
#    1024, the usual default, so this also shows that `cmpca serve` raises
#    its own limit far enough.
# 2. max_connections = 512, as in a cmpca.conf written before the default
#    was raised: the attacker fills every slot, and the request deadline
#    (read_timeout) is what lets the enrollment in. The server log must show
#    connections cut.
#
# Knobs, for measuring (docs/transport.md): SLOWLORIS_CONNS (1000),
# SLOWLORIS_TRICKLE (seconds between header lines, 2), and
# SLOWLORIS_MAX_CONNECTIONS / SLOWLORIS_READ_TIMEOUT to override the config
# of phase 1.
. "$(dirname "$0")/lib.sh" "$@"

N=${SLOWLORIS_CONNS:-1000}
TRICKLE=${SLOWLORIS_TRICKLE:-2}
LIMIT=${SLOWLORIS_ENROLL_LIMIT:-45} # seconds the enrollment may take

ca_init
setup_acme dev1=SLOW001 dev2=SLOW002
[ -z "${SLOWLORIS_MAX_CONNECTIONS:-}" ] ||
    conf_set server max_connections "$SLOWLORIS_MAX_CONNECTIONS"
[ -z "${SLOWLORIS_READ_TIMEOUT:-}" ] ||
    conf_set server read_timeout "$SLOWLORIS_READ_TIMEOUT"

hard=$(ulimit -Hn)
[ "$hard" = unlimited ] || [ "$hard" -ge $((N + 100)) ] ||
    fail "the hard open-file limit ($hard) is below the $((N + 100)) this test needs"

# slow_open: opens one connection on fd $fd and sends the start of a POST.
slow_open() {
    exec {fd}<>"/dev/tcp/127.0.0.1/$PORT" || return 1
    printf 'POST %s HTTP/1.1\r\nHost: 127.0.0.1:%s\r\nContent-Type: application/pkixcmp\r\n' \
        "$CMP_PATH" "$PORT" 1>&"$fd" 2>/dev/null || true
}

# attacker: opens N connections, says so in $T/ready, then sends one more
# header line on each every TRICKLE seconds. A write that fails means the
# server cut the connection; it is opened again.
attacker() {
    trap '' PIPE
    local fds=() fd i round=0
    for i in $(seq "$N"); do
        slow_open || { echo "connect $i failed" >"$T/attacker.err"; exit 1; }
        fds+=("$fd")
    done
    echo "${#fds[@]}" >"$T/ready"
    while :; do
        sleep "$TRICKLE"
        round=$((round + 1))
        for i in "${!fds[@]}"; do
            fd=${fds[i]}
            if ! printf 'X-Slow-%d: %d\r\n' "$round" "$i" 1>&"$fd" 2>/dev/null; then
                exec {fd}>&-
                slow_open || continue
                fds[i]=$fd
            fi
        done
    done
}

# attack_and_enroll RUN DEVICE SERIAL WHAT: starts the attacker against the
# running server, enrolls DEVICE while it holds its connections, checks the
# enrollment, stops the attacker. Sets TOOK (seconds) and CUT (connections
# the server cut by its deadline meanwhile).
attack_and_enroll() {
    local pid held start
    rm -f "$T/ready"
    log "opening $N slow connections"
    attacker &
    pid=$!
    EXTRA_PIDS+=("$pid")
    wait_for_file "$T/ready" "$pid" 120 ||
        fail "the attacker did not open its connections: $(cat "$T/attacker.err" 2>/dev/null)"
    sleep "$((TRICKLE + 1))"
    held=$(find "/proc/$SERVER_PID/fd" -mindepth 1 -maxdepth 1 | wc -l)
    log "the server has $held open descriptors, RSS $(awk '/^VmRSS/ { print $2, $3 }' "/proc/$SERVER_PID/status")"

    log "enrolling while the connections are held"
    start=$(date +%s)
    run_ir "$1" "$2" -subject "/CN=eNodeB" -msg_timeout "$LIMIT" -total_timeout "$LIMIT"
    TOOK=$(($(date +%s) - start))
    CUT=$(sed -n 's/.*transport: closed \([0-9]*\) connection.*/\1/p' "$SERVER_LOG" |
        awk '{ n += $1 } END { print n + 0 }')
    log "enrollment took $TOOK s; meanwhile the server cut $CUT slow connections"
    kill -0 "$pid" 2>/dev/null || fail "the attacker stopped before the enrollment ended"
    expect_enrolled "$1" "$3" "$4"
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

log "1. default settings"
ulimit -Sn 1024
server_start
ulimit -Sn $((N + 100))
attack_and_enroll def dev1 SLOW001 "ir during a slowloris attack, default settings"
server_stop

log "2. max_connections = 512: the deadline lets the enrollment in"
conf_set server max_connections 512
server_start
attack_and_enroll small dev2 SLOW002 "ir during a slowloris attack, 512 connections"
check "the server cut slow connections at their deadline"
[ "$CUT" -ge 1 ] || fail "no connection was cut, yet 512 slots were held"
grep -Eq 'transport: closed [0-9]+ connections? that had not sent a whole request within 10000 ms' "$SERVER_LOG" ||
    fail "no deadline cut in the server log"
server_stop
log "PASS"
