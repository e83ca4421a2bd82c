#!/bin/sh
# Runs every test, twice: a normal build with warnings as errors, then an
# AddressSanitizer + UndefinedBehaviorSanitizer build. Installs what it needs
# (as root) first. This is the README's test command and what CI runs.
set -eu
cd "$(dirname "$0")/.."
scripts/deps.sh
make test CMAKE_FLAGS="-DCMPCA_WERROR=ON"
make asan
