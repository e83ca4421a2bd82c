#!/bin/sh
# pg-test-cluster.sh: a private, throw-away PostgreSQL server for the tests.
#
#   pg-test-cluster.sh start STATE_DIR   initdb into a new temp directory, start
#                                        on 127.0.0.1 and a free port, write the
#                                        server URI to STATE_DIR/uri and print it
#   pg-test-cluster.sh stop STATE_DIR    stop the server, delete its files
#   pg-test-cluster.sh down STATE_DIR    stop the server, keep its files
#   pg-test-cluster.sh up STATE_DIR      start it again on the same port
#   pg-test-cluster.sh newdb STATE_DIR NAME
#                                        create database NAME (dropped first if
#                                        it exists), print its URI
#
# Installs Debian's postgresql package when the server is missing and we are
# root. initdb refuses to run as root, so as root the cluster belongs to the
# `postgres` user, or to a system user `cmpca-pgtest` created for it. The
# cluster trusts every local connection (it listens on 127.0.0.1 only, lives
# for one test run, and holds nothing but test data), and trades durability
# for speed: fsync and synchronous_commit are off.
set -eu

die() {
    echo "pg-test-cluster: $*" >&2
    exit 1
}

usage() {
    die "usage: $0 start|stop|down|up STATE_DIR | newdb STATE_DIR NAME"
}

# find_bindir prints the directory of initdb, newest version first.
find_bindir() {
    best="" best_v=0
    for d in /usr/lib/postgresql/*/bin; do
        if [ ! -x "$d/initdb" ] || [ ! -x "$d/pg_ctl" ]; then
            continue
        fi
        v=${d#/usr/lib/postgresql/}
        v=${v%%/*}
        case $v in *[!0-9]* | "") continue ;; esac
        [ "$v" -gt "$best_v" ] && best=$d best_v=$v
    done
    if [ -n "$best" ]; then
        echo "$best"
        return 0
    fi
    if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
        dirname "$(command -v initdb)"
        return 0
    fi
    return 1
}

install_server() {
    [ "$(id -u)" -eq 0 ] ||
        die "PostgreSQL server not found (install Debian's postgresql package, or run as root)"
    echo "pg-test-cluster: installing postgresql" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q >&2
    apt-get install -y -q postgresql >&2
}

# as_owner runs a command as the cluster's owner.
as_owner() {
    if [ "$OWNER" = "$(id -un)" ]; then
        "$@"
    elif command -v runuser >/dev/null 2>&1; then
        runuser -u "$OWNER" -- "$@"
    else
        # shellcheck disable=SC2016 # expanded by the owner's shell
        su -s /bin/sh "$OWNER" -c '"$0" "$@"' "$@"
    fi
}

pick_owner() {
    if [ "$(id -u)" -ne 0 ]; then
        id -un
    elif id postgres >/dev/null 2>&1; then
        echo postgres
    else
        id cmpca-pgtest >/dev/null 2>&1 ||
            useradd --system --no-create-home --shell /usr/sbin/nologin cmpca-pgtest
        echo cmpca-pgtest
    fi
}

# port_free: nobody listens on port $1 (without ss, a taken port shows when
# the server fails to start, and the next port is tried).
port_free() {
    ! command -v ss >/dev/null 2>&1 || [ -z "$(ss -Hltn "sport = :$1" 2>/dev/null)" ]
}

random_port() {
    echo $((20000 + $(od -An -N2 -tu2 /dev/urandom) % 40000))
}

load_state() {
    [ -f "$STATE/datadir" ] || die "no cluster in $STATE"
    TMP=$(cat "$STATE/datadir")
    OWNER=$(cat "$STATE/owner")
    BIN=$(cat "$STATE/bindir")
    PORT=$(cat "$STATE/port")
}

server_start() {
    as_owner "$BIN/pg_ctl" -D "$TMP/data" -l "$TMP/server.log" -w -t 60 \
        -o "-p $PORT" start >/dev/null
}

cmd_start() {
    mkdir -p "$STATE"
    # a cluster left behind by a run that never got to `stop`
    [ ! -f "$STATE/datadir" ] || cmd_stop
    BIN=$(find_bindir) || { install_server; BIN=$(find_bindir) || die "no initdb after installing"; }
    OWNER=$(pick_owner)
    # the owner must reach it: as root, /tmp rather than a private TMPDIR
    if [ "$OWNER" = "$(id -un)" ]; then
        TMP=$(mktemp -d "${TMPDIR:-/tmp}/cmpca-pg.XXXXXX")
    else
        TMP=$(mktemp -d /tmp/cmpca-pg.XXXXXX)
    fi
    chmod 0755 "$TMP"
    chown "$OWNER" "$TMP"
    echo "$TMP" >"$STATE/datadir"
    echo "$OWNER" >"$STATE/owner"
    echo "$BIN" >"$STATE/bindir"
    as_owner "$BIN/initdb" -D "$TMP/data" -U cmpca --auth=trust -E UTF8 \
        --no-locale --no-sync >"$STATE/initdb.log" 2>&1 ||
        { cat "$STATE/initdb.log" >&2; die "initdb failed"; }
    cat >>"$TMP/data/postgresql.conf" <<EOF
listen_addresses = '127.0.0.1'
unix_socket_directories = '$TMP'
max_connections = 400
shared_buffers = 64MB
fsync = off
synchronous_commit = off
full_page_writes = off
EOF
    for _try in 1 2 3 4 5 6 7 8; do
        PORT=$(random_port)
        port_free "$PORT" || continue
        echo "$PORT" >"$STATE/port"
        if server_start; then
            echo "postgresql://cmpca@127.0.0.1:$PORT/postgres" >"$STATE/uri"
            cat "$STATE/uri"
            return 0
        fi
    done
    cat "$TMP/server.log" >&2 || true
    die "could not start PostgreSQL"
}

cmd_stop() {
    [ -f "$STATE/datadir" ] || return 0
    load_state
    as_owner "$BIN/pg_ctl" -D "$TMP/data" -m immediate -w stop >/dev/null 2>&1 || true
    rm -rf "$TMP"
    rm -f "$STATE/datadir" "$STATE/owner" "$STATE/bindir" "$STATE/port" \
        "$STATE/uri" "$STATE/initdb.log"
}

cmd_newdb() {
    name=$1
    case $name in *[!a-z0-9_]* | "") die "database names here are [a-z0-9_]+" ;; esac
    load_state
    base=$(cat "$STATE/uri")
    PSQL="$BIN/psql"
    [ -x "$PSQL" ] || PSQL=psql
    PGOPTIONS="-c client_min_messages=warning" "$PSQL" "$base" -X -q -v ON_ERROR_STOP=1 \
        -c "DROP DATABASE IF EXISTS $name WITH (FORCE)" \
        -c "CREATE DATABASE $name" >/dev/null
    echo "${base%/postgres}/$name"
}

[ $# -ge 2 ] || usage
STATE=$2
case $1 in
start) cmd_start ;;
stop) cmd_stop ;;
down)
    load_state
    as_owner "$BIN/pg_ctl" -D "$TMP/data" -m fast -w stop >/dev/null
    ;;
up)
    load_state
    server_start
    ;;
newdb)
    [ $# -eq 3 ] || usage
    cmd_newdb "$3"
    ;;
*) usage ;;
esac
