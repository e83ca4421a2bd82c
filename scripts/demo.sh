#!/bin/sh
# Quick start: installs what is missing (as root), builds cmpca, and serves a
# demo PKI on http://127.0.0.1:8080/.well-known/cmp. On first run it creates
# ./cmpca-data with an operator root, an issuing CA, a SQLite store, a demo
# vendor CA and one registered demo device, and prints the `openssl cmp`
# command that enrolls that device. Stop with Ctrl-C.
set -eu
cd "$(dirname "$0")/.."
scripts/deps.sh
make >&2
exec build/cmpca serve --demo --dir "${CMPCA_DIR:-$PWD/cmpca-data}" "$@"
