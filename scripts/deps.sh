#!/bin/sh
# Installs the Debian packages cmpca needs to build and test, when they are
# missing and we are root. Quiet when everything is present.
set -eu
PKGS="build-essential cmake pkg-config libssl-dev openssl libsqlite3-dev sqlite3 libmicrohttpd-dev libgnutls28-dev curl libpq-dev postgresql"
missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
    echo "deps: missing packages:$missing (run as root, or install them)" >&2
    exit 1
fi
echo "deps: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >&2
apt-get install -y -q $missing >&2
