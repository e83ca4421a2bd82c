#!/bin/bash
# lint.sh: the static analysers, as CI runs them: cppcheck and clang-tidy
# over src/ with the flags of a real build (its compile_commands.json), every
# finding an error. `make lint` calls it.
#
#   scripts/lint.sh [--build DIR] [--jobs N] [--no-cppcheck] [--no-tidy]
#                   [FILE.c...]
#
# DIR (default build, as `make`) is configured first when it has no
# compile_commands.json; nothing is compiled. FILE.c... limits clang-tidy
# to those files (cppcheck always reads all of src/: it takes seconds).
# clang-tidy's checks are in .clang-tidy; cppcheck runs with
# --enable=warning,performance,portability. A false positive gets an inline
# suppression with its reason: /* cppcheck-suppress ID: why */ on the line
# before, or NOLINT(check) / NOLINTNEXTLINE(check) for clang-tidy. cppcheck
# and clang-tidy are installed with apt when missing (as root). Exits 1 when
# either tool reports anything; the full reports are in DIR/lint/.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

BUILD=${LINT_BUILD:-build}
JOBS=${LINT_JOBS:-$(nproc)}
DO_CPPCHECK=1
DO_TIDY=1
FILES=()
while [ $# -gt 0 ]; do
    case $1 in
    --build) BUILD=$2; shift 2 ;;
    --jobs) JOBS=$2; shift 2 ;;
    --no-cppcheck) DO_CPPCHECK=0; shift ;;
    --no-tidy) DO_TIDY=0; shift ;;
    -h | --help) sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "lint.sh: unknown option $1" >&2; exit 2 ;;
    *) FILES+=("$1"); shift ;;
    esac
done
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
OUT=$BUILD/lint
DB=$BUILD/compile_commands.json

# ---- tools -------------------------------------------------------------------

missing=""
[ $DO_CPPCHECK = 0 ] || command -v cppcheck >/dev/null || missing="$missing cppcheck"
[ $DO_TIDY = 0 ] || command -v clang-tidy >/dev/null || missing="$missing clang-tidy"
if [ -n "$missing" ]; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "lint.sh: missing:$missing (run as root, or install them)" >&2
        exit 1
    fi
    echo "lint.sh: installing$missing" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q >&2
    # shellcheck disable=SC2086 # a list of package names
    apt-get install -y -q $missing >&2
fi

if [ ! -f "$DB" ]; then
    scripts/deps.sh
    cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
fi
[ -f "$DB" ] || { echo "lint.sh: no $DB" >&2; exit 1; }
rm -rf "$OUT"
mkdir -p "$OUT"
T0=$(date +%s)
status=0

# ---- cppcheck ------------------------------------------------------------------

# cppcheck does not read the system headers (that costs 10 s a file), so
# the OpenSSL macros we use at file scope are declared here; without them
# it stops at the first DEFINE_STACK_OF ("unknownMacro") and checks
# nothing. The ASN.1 template tables become plain arrays: there is no code
# in them to check.
write_cppcheck_cfg() {
    local m
    {
        echo '<?xml version="1.0"?>'
        echo '<def format="2">'
        echo '  <define name="STACK_OF(t)" value="struct stack_st_##t"/>'
        for m in DEFINE_STACK_OF DECLARE_ASN1_FUNCTIONS DECLARE_ASN1_DUP_FUNCTION \
            DECLARE_ASN1_ITEM IMPLEMENT_ASN1_FUNCTIONS IMPLEMENT_ASN1_DUP_FUNCTION; do
            echo "  <define name=\"$m(t)\" value=\"\"/>"
        done
        echo '  <define name="ASN1_ITEM_rptr(t)" value="((const ASN1_ITEM *)0)"/>'
        for m in SEQUENCE CHOICE; do
            echo "  <define name=\"ASN1_$m(t)\" value=\"static const int t##_tt[]\"/>"
            echo "  <define name=\"ASN1_${m}_END(t)\" value=\";\"/>"
            echo "  <define name=\"static_ASN1_${m}_END(t)\" value=\";\"/>"
        done
        echo '  <define name="ASN1_ITEM_TEMPLATE(t)" value="static const int t##_tt"/>'
        echo '  <define name="ASN1_ITEM_TEMPLATE_END(t)" value=";"/>'
        echo '  <define name="ASN1_EX_TEMPLATE_TYPE(fl,tag,name,t)" value="0"/>'
        for m in SIMPLE EMBED OPT SEQUENCE_OF SEQUENCE_OF_OPT; do
            echo "  <define name=\"ASN1_$m(st,f,t)\" value=\"0\"/>"
        done
        for m in IMP IMP_OPT EXP EXP_OPT IMP_SEQUENCE_OF IMP_SEQUENCE_OF_OPT \
            EXP_SEQUENCE_OF EXP_SEQUENCE_OF_OPT; do
            echo "  <define name=\"ASN1_$m(st,f,t,tag)\" value=\"0\"/>"
        done
        echo '</def>'
    } >"$OUT/cmpca.cfg"
}

if [ $DO_CPPCHECK = 1 ]; then
    write_cppcheck_cfg
    echo "lint: cppcheck $(cppcheck --version | sed 's/^Cppcheck //')" >&2
    rc=0
    # --file-filter matches the paths of the database: absolute like $DB
    cppcheck --project="$DB" --file-filter="$ROOT/src/*" \
        --library=posix --library=openssl --library=sqlite3 \
        --library="$OUT/cmpca.cfg" \
        --enable=warning,performance,portability --inline-suppr \
        --error-exitcode=1 -q -j "$JOBS" \
        --template='{file}:{line}:{column}: {severity}: {message} [{id}]' \
        2>&1 | sed "s|^$ROOT/||" >"$OUT/cppcheck.txt" || rc=$?
    grep -E '^[^ ]+:[0-9]+:[0-9]+: [a-z]+: .*\]$' "$OUT/cppcheck.txt" |
        sort -u >"$OUT/cppcheck.findings" || true
    n=$(wc -l <"$OUT/cppcheck.findings")
    cat "$OUT/cppcheck.findings"
    echo "lint: cppcheck: $n findings (exit $rc)" >&2
    [ "$rc" = 0 ] && [ "$n" = 0 ] || status=1
fi

# ---- clang-tidy ------------------------------------------------------------------

if [ $DO_TIDY = 1 ]; then
    # only the files this build compiles: a room left out of the build (a
    # backend whose library is not installed) has no flags to check with
    grep -o '"file": "[^"]*"' "$DB" | sed 's/^"file": "//; s/"$//' |
        grep "^$ROOT/src/.*\.c\$" | sort -u >"$OUT/tidy-files.txt" || true
    if [ ${#FILES[@]} -gt 0 ]; then
        for f in "${FILES[@]}"; do
            case $f in /*) ;; *) f=$ROOT/$f ;; esac
            grep -qxF "$f" "$OUT/tidy-files.txt" ||
                { echo "lint.sh: $f is not in $DB" >&2; exit 2; }
            echo "$f"
        done >"$OUT/tidy-files.sel"
        mv "$OUT/tidy-files.sel" "$OUT/tidy-files.txt"
    else
        for f in src/*/*.c; do
            grep -qxF "$ROOT/$f" "$OUT/tidy-files.txt" ||
                echo "lint: clang-tidy: skipping $f (not in this build)" >&2
        done
    fi
    echo "lint: $(clang-tidy --version | sed -n 's/.*LLVM version/clang-tidy/p')," \
        "$(wc -l <"$OUT/tidy-files.txt") files" >&2
    rc=0
    # one file per process, $JOBS at once; --quiet drops the per-file counts
    xargs -P "$JOBS" -n 1 clang-tidy -p "$BUILD" --quiet \
        --extra-arg=-Wno-unknown-warning-option <"$OUT/tidy-files.txt" \
        >"$OUT/clang-tidy.txt" 2>"$OUT/clang-tidy.err" || rc=$?
    # a header's finding shows once per file that includes it: count once
    grep -E '^/.*:[0-9]+:[0-9]+: (warning|error): .*\]$' "$OUT/clang-tidy.txt" |
        sed "s|^$ROOT/||" | sort -u >"$OUT/clang-tidy.findings" || true
    n=$(wc -l <"$OUT/clang-tidy.findings")
    cat "$OUT/clang-tidy.findings"
    echo "lint: clang-tidy: $n findings (exit $rc)" >&2
    if [ "$rc" != 0 ] && [ "$n" = 0 ]; then
        # failed without a finding: a tool or compile problem
        tail -n 20 "$OUT/clang-tidy.err" >&2
    fi
    [ "$rc" = 0 ] && [ "$n" = 0 ] || status=1
fi

echo "lint: $(($(date +%s) - T0)) s; reports in $OUT" >&2
exit $status
