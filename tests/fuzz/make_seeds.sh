#!/bin/bash
# make_seeds.sh: (re)creates the fixed test PKI of the pipeline fuzz target
# (tests/fuzz/pki/) and its seed corpus (tests/fuzz/corpus/pipeline/)
# from real `openssl cmp` exchanges with a real `cmpca serve`.
#
# Why a committed PKI: the pipeline target re-signs each mutated request
# with the key its flags name, so it must hold the same keys the seeds were
# made with; a PKI generated at start-up would make every seed a stranger.
#
#   tests/fuzz/make_seeds.sh BUILD_DIR        # BUILD_DIR has cmpca and
#                                             # tests/fuzz_seed_tool
#   FUZZ_NEW_PKI=1 tests/fuzz/make_seeds.sh BUILD_DIR   # also a new PKI
#
# The PKI is kept when it exists (FUZZ_NEW_PKI=1 replaces it). op.pem is the
# operator certificate cmpca issued to FUZZ0001 in this run's ir; the
# target inserts it in its store as confirmed, so kur, cr, p10cr, rr and
# genm signed with op.key are authorised there.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
BUILD=$(cd "${1:?usage: make_seeds.sh BUILD_DIR}" && pwd)
CMPCA=$BUILD/cmpca
TOOL=$BUILD/tests/fuzz_seed_tool
PKI=$HERE/pki
CORPUS=$HERE/corpus/pipeline
DAYS=10950 # 30 years: the seeds must stay inside the PKI's validity

[ -x "$CMPCA" ] || { echo "no $CMPCA" >&2; exit 1; }
[ -x "$TOOL" ] || { echo "no $TOOL (cmake --build $BUILD --target fuzz_seed_tool)" >&2; exit 1; }

T=$(mktemp -d /tmp/cmpca-fuzz-seeds.XXXXXX)
SERVER_PID=
cleanup() {
    [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null
    if [ "${FUZZ_KEEP:-0}" = 1 ]; then echo "kept $T" >&2; else rm -rf "$T"; fi
}
trap cleanup EXIT

genkey() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }

# cert NAME SUBJECT ISSUER(or "self") EXTSECTION: $T/pki/NAME.{key,pem}
cert() {
    local name=$1 subj=$2 issuer=$3 ext=$4
    genkey "$T/pki/$name.key"
    openssl req -new -key "$T/pki/$name.key" -subj "$subj" -out "$T/pki/$name.csr" 2>/dev/null
    if [ "$issuer" = self ]; then
        openssl x509 -req -in "$T/pki/$name.csr" -signkey "$T/pki/$name.key" -days $DAYS \
            -sha256 -extfile "$T/pki/ext.cnf" -extensions "$ext" -out "$T/pki/$name.pem" 2>/dev/null
    else
        openssl x509 -req -in "$T/pki/$name.csr" -CA "$T/pki/$issuer.pem" \
            -CAkey "$T/pki/$issuer.key" -set_serial "0x$(openssl rand -hex 12)" -days $DAYS \
            -sha256 -extfile "$T/pki/ext.cnf" -extensions "$ext" -out "$T/pki/$name.pem" 2>/dev/null
    fi
}

new_pki() {
    mkdir -p "$T/pki"
    cat >"$T/pki/ext.cnf" <<'EOF'
[ca_ext]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[issuing_ext]
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, digitalSignature, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[dev_ext]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
EOF
    cert root "/O=Fuzz Operator/CN=Fuzz Operator Root CA" self ca_ext
    cert ca "/O=Fuzz Operator/CN=Fuzz Issuing CA" root issuing_ext
    cert vroot "/O=Fuzz Vendor/CN=Fuzz Vendor Root CA" self ca_ext
    cert dev1 "/CN=eNodeB/serialNumber=FUZZ0001" vroot dev_ext
    cert dev2 "/CN=eNodeB/serialNumber=FUZZ0002" vroot dev_ext
    cert dev3 "/CN=eNodeB/serialNumber=FUZZ0003" vroot dev_ext
    # openssl cmp leaves a self-signed certificate out of extraCerts
    cert rca "/O=Fuzz Operator/CN=Fuzz RA CA" self ca_ext
    cert ra "/O=Fuzz Operator/CN=Fuzz RA" rca dev_ext
    genkey "$T/pki/op.key"
    genkey "$T/pki/new.key"
    mkdir -p "$PKI"
    for f in root.pem ca.pem ca.key vroot.pem dev1.pem dev1.key dev2.pem dev2.key \
        dev3.pem dev3.key ra.pem ra.key op.key new.key; do
        cp "$T/pki/$f" "$PKI/$f"
    done
    rm -f "$PKI/op.pem"
}

[ "${FUZZ_NEW_PKI:-0}" = 1 ] || [ ! -s "$PKI/ca.key" ] && new_pki

# ---- a cmpca data directory over the fixed PKI ----------------------------
D=$T/data
mkdir -p "$D"
cp "$PKI/root.pem" "$PKI/ca.pem" "$PKI/ca.key" "$D/"
chmod 600 "$D/ca.key"
cat >"$D/cmpca.conf" <<'EOF'
[cmp]
implicit_confirm = yes
poll_interval = 1
# op.pem, issued here, must outlive the seeds like the rest of the PKI
[profile 3gpp]
validity_days = 10950
EOF
cli() { "$CMPCA" "$@" --dir "$D" >/dev/null 2>&1; }
cli vendor add fuzzvendor "$PKI/vroot.pem"
cli device add fuzzvendor FUZZ0001
cli device add fuzzvendor FUZZ0002 --approval manual
cli ra add fuzzra "$PKI/ra.pem" --vendors '*' --may-raverify --may-revoke
# the secret and kid fuzz_pipeline.h names (FUZZ_MAC_SECRET, FUZZ_MAC_KID)
printf 'fuzz-mac-secret-0004' >"$T/secret"
cli device add fuzzvendor FUZZ0004 --secret-file "$T/secret"

: >"$T/serve.out"
"$CMPCA" serve --dir "$D" --listen 127.0.0.1:0 >"$T/serve.out" 2>"$T/serve.log" &
SERVER_PID=$!
for _ in $(seq 100); do
    [ "$(wc -l <"$T/serve.out")" -ge 1 ] && break
    sleep 0.1
done
URL=$(sed -n 's/^cmpca: listening on //p' "$T/serve.out")
HOSTPORT=${URL#http://}
HOSTPORT=${HOSTPORT%%/*}
[ -n "$HOSTPORT" ] || { echo "server did not start" >&2; cat "$T/serve.log" >&2; exit 1; }

O=$T/out
mkdir -p "$O"
# run NAME ARGS...: one openssl cmp exchange, requests saved as NAME-N.der
run() {
    local name=$1
    shift
    local reqs="" i
    for i in 1 2 3 4 5 6; do reqs="$reqs${reqs:+,}$O/$name-$i.der"; done
    case " $* " in
    *" -certout "* | *" -cmd rr "* | *" -cmd genm "*) ;;
    *) set -- "$@" -certout "$O/$name.pem" ;;
    esac
    openssl cmp -server "$HOSTPORT" -path /.well-known/cmp -trusted "$PKI/root.pem" \
        -reqout "$reqs" -rspout "$O/$name-rsp.der" "$@" >"$O/$name.log" 2>&1 || true
}
DEV="-recipient /CN=cmpca"

# shellcheck disable=SC2086
{
    run ir -cmd ir -cert "$PKI/dev1.pem" -key "$PKI/dev1.key" -newkey "$PKI/op.key" \
        -subject "/CN=FUZZ0001/serialNumber=FUZZ0001" -certout "$O/op.pem" $DEV
    [ -s "$O/op.pem" ] || { cat "$O/ir.log" "$T/serve.log" >&2; exit 1; }
    cp "$O/op.pem" "$PKI/op.pem"
    run irimp -cmd ir -cert "$PKI/dev1.pem" -key "$PKI/dev1.key" -newkey "$PKI/new.key" \
        -subject "/CN=FUZZ0001" -implicit_confirm $DEV
    run cr -cmd cr -cert "$PKI/op.pem" -key "$PKI/op.key" -newkey "$PKI/new.key" \
        -subject "/CN=FUZZ0001" -certout "$O/cr.pem" $DEV
    openssl req -new -key "$PKI/new.key" -subj "/CN=FUZZ0001/serialNumber=FUZZ0001" \
        -out "$T/p10.csr" 2>/dev/null
    run p10cr -cmd p10cr -cert "$PKI/op.pem" -key "$PKI/op.key" -csr "$T/p10.csr" $DEV
    run genm_ca -cmd genm -cert "$PKI/op.pem" -key "$PKI/op.key" -infotype caCerts $DEV
    run genm_root -cmd genm -cert "$PKI/op.pem" -key "$PKI/op.key" -infotype rootCaKeyUpdate $DEV
    run genm_tmpl -cmd genm -cert "$PKI/op.pem" -key "$PKI/op.key" -infotype certReqTemplate $DEV
    run genm_dev -cmd genm -cert "$PKI/dev1.pem" -key "$PKI/dev1.key" -infotype caCerts $DEV
    run rr -cmd rr -cert "$PKI/op.pem" -key "$PKI/op.key" -oldcert "$O/cr.pem" \
        -revreason 1 $DEV
    run ra_ir -cmd ir -cert "$PKI/ra.pem" -key "$PKI/ra.key" -newkey "$PKI/new.key" \
        -subject "/CN=FUZZ0001/serialNumber=FUZZ0001" -popo 0 $DEV
    run poll -cmd ir -cert "$PKI/dev2.pem" -key "$PKI/dev2.key" -newkey "$PKI/new.key" \
        -subject "/CN=FUZZ0002" -total_timeout 3 $DEV
    run unreg -cmd ir -cert "$PKI/dev3.pem" -key "$PKI/dev3.key" -newkey "$PKI/new.key" \
        -subject "/CN=FUZZ0003" $DEV
    run reject -cmd ir -cert "$PKI/dev1.pem" -key "$PKI/dev1.key" -newkey "$PKI/new.key" \
        -subject "/CN=FUZZ0001" -out_trusted "$PKI/vroot.pem" $DEV
    run mac_ir -cmd ir -secret pass:fuzz-mac-secret-0004 -ref FUZZ0004 -mac hmacWithSHA256 -digest sha256 \
        -newkey "$PKI/new.key" -subject "/CN=FUZZ0004" $DEV
    run kur -cmd kur -cert "$PKI/op.pem" -key "$PKI/op.key" -newkey "$PKI/new.key" $DEV
}

# ---- the corpus: records the target understands -----------------------------
# Signers (fuzz_pipeline.c): 1 dev1, 2 op, 3 ra, 4 dev2, 5 dev3, 6 the MAC
# secret of FUZZ0004. Flags: 0x08
# fresh senderNonce, 0x10 follow the previous answer, 0x20 re-sign nested
# contents, 0x40 fresh transactionID, 0x80 messageTime now.
FRESH=$((0x08 | 0x40 | 0x80))
rec() { printf '%d %d %s' "$1" "$2" "$3"; } # FLAGS CTL FILE
pack() {
    local out=$1
    shift
    # shellcheck disable=SC2068
    "$TOOL" pack "$CORPUS/$out" $@
}
mkdir -p "$CORPUS"
rm -f "$CORPUS"/seed-*
have() { [ -s "$O/$1.der" ]; }
have ir-1 && pack seed-ir "$(rec $((1 | FRESH)) 1 "$O/ir-1.der")"
have ir-2 && pack seed-ir-certconf "$(rec $((1 | FRESH)) 1 "$O/ir-1.der")" \
    "$(rec $((1 | 0x08 | 0x10 | 0x80)) 0 "$O/ir-2.der")"
have ir-1 && pack seed-ir-asis "$(rec 0 0 "$O/ir-1.der")"
have irimp-1 && pack seed-ir-implicit "$(rec $((1 | FRESH)) 0x11 "$O/irimp-1.der")"
have cr-1 && pack seed-cr-certconf "$(rec $((2 | FRESH)) 2 "$O/cr-1.der")" \
    "$(rec $((2 | 0x08 | 0x10 | 0x80)) 0 "$O/cr-2.der")"
have p10cr-1 && pack seed-p10cr "$(rec $((2 | FRESH)) 4 "$O/p10cr-1.der")" \
    "$(rec $((2 | 0x08 | 0x10 | 0x80)) 0 "$O/p10cr-2.der")"
for g in genm_ca genm_root genm_tmpl; do
    have $g-1 && pack seed-$g "$(rec $((2 | FRESH)) 6 "$O/$g-1.der")"
done
have genm_dev-1 && pack seed-genm-dev "$(rec $((1 | FRESH)) 0 "$O/genm_dev-1.der")"
have rr-1 && pack seed-rr "$(rec $((2 | FRESH)) 5 "$O/rr-1.der")"
have kur-1 && pack seed-kur-certconf "$(rec $((2 | FRESH)) 3 "$O/kur-1.der")" \
    "$(rec $((2 | 0x08 | 0x10 | 0x80)) 0 "$O/kur-2.der")"
have ra_ir-1 && pack seed-ra-ir "$(rec $((3 | FRESH)) 0 "$O/ra_ir-1.der")"
have poll-2 && pack seed-poll "$(rec $((4 | FRESH)) 0 "$O/poll-1.der")" \
    "$(rec $((4 | 0x08 | 0x10 | 0x80)) 0 "$O/poll-2.der")"
have unreg-1 && pack seed-unregistered "$(rec $((5 | FRESH)) 0 "$O/unreg-1.der")"
have reject-2 && pack seed-certconf-reject "$(rec $((1 | FRESH)) 0 "$O/reject-1.der")" \
    "$(rec $((1 | 0x08 | 0x10 | 0x80)) 0 "$O/reject-2.der")"
have mac_ir-2 && pack seed-mac-ir-certconf "$(rec $((6 | FRESH)) 1 "$O/mac_ir-1.der")" \
    "$(rec $((6 | 0x08 | 0x10 | 0x80)) 0 "$O/mac_ir-2.der")"
# PBMAC1: openssl cmp 3.0 only does PBM; the target computes the MAC
if have mac_ir-1; then
    "$TOOL" pbmac1 "$O/mac_ir-1.der" "$O/mac_ir_pbmac1.der"
    pack seed-mac-ir-pbmac1 "$(rec $((6 | FRESH)) 1 "$O/mac_ir_pbmac1.der")"
fi
# error and nested: openssl cmp 3.0 sends neither; built from captured ones
if have ir-1; then
    "$TOOL" error "$O/ir-1.der" "$O/error.der"
    pack seed-ir-error "$(rec $((1 | FRESH)) 0 "$O/ir-1.der")" \
        "$(rec $((1 | 0x08 | 0x10 | 0x80)) 0 "$O/error.der")"
fi
if have ra_ir-1; then
    "$TOOL" nest "$O/nested.der" "$O/ra_ir-1.der"
    pack seed-nested "$(rec $((3 | FRESH | 0x20)) 10 "$O/nested.der")"
fi
# undecodable and truncated bodies (HTTP 400 path)
have genm_ca-1 && head -c 100 "$O/genm_ca-1.der" >"$O/trunc.der" &&
    pack seed-truncated "$(rec 0 0 "$O/trunc.der")"

# ---- pkimessage: every request and answer above, as bare DER ----------------
PKIMSG=$HERE/corpus/pkimessage
mkdir -p "$PKIMSG"
rm -f "$PKIMSG"/seed-*
for f in "$O"/*.der; do
    case $(basename "$f") in trunc.der) continue ;; esac
    cp "$f" "$PKIMSG/seed-$(basename "$f" .der)"
done
# the asn1 room's captured messages (PBM-protected ir/ip among them)
for f in "$HERE"/../unit/data/asn1/*.der "$HERE"/../unit/data/mac/*.der; do
    [ -s "$f" ] && cp "$f" "$PKIMSG/seed-data-$(basename "$f" .der)"
done
# MAC-protected irs go to the pipeline as they are (re-signing would
# replace the MAC with a signature)
for f in "$HERE"/../unit/data/mac/*.der; do
    [ -s "$f" ] || continue
    pack "seed-mac-$(basename "$f" .der)" "$(rec 0 1 "$f")"
    pack "seed-mac-$(basename "$f" .der)-remac" "$(rec $((6 | FRESH)) 1 "$f")"
done

# ---- genm_itav: selector byte + infoValue DER --------------------------------
GENM=$HERE/corpus/genm_itav
mkdir -p "$GENM"
rm -f "$GENM"/seed-*
for g in genm_ca genm_root genm_tmpl; do
    [ -s "$O/$g-rsp.der" ] && "$TOOL" itavs "$O/$g-rsp.der" "$GENM/seed-$g"
done
curl -sf -o "$O/ca.crl" "http://$HOSTPORT/crl/ca.crl"
openssl x509 -in "$PKI/root.pem" -outform DER -out "$O/root.cer"
openssl x509 -in "$PKI/ca.pem" -outform DER -out "$O/ca.cer"
"$TOOL" seqof 3 "$GENM/seed-crls" "$O/ca.crl"
"$TOOL" seqof 2 "$GENM/seed-cacerts" "$O/ca.cer" "$O/root.cer"
"$TOOL" seqof 4 "$GENM/seed-rootupdate" "$O/root.cer"
"$TOOL" crlstatus "$GENM/seed-crlstatus"
{ printf '\005'; cat "$O/root.cer"; } >"$GENM/seed-oldroot"

# ---- path: capacity byte + request path --------------------------------------
PATHS=$HERE/corpus/path
mkdir -p "$PATHS"
rm -f "$PATHS"/seed-*
n=0
for p in /.well-known/cmp /.well-known/cmp/ /.well-known/cmp/p/3gpp \
    /.well-known/cmp/p/3gpp/initialization /.well-known/cmp/getcacerts/ \
    /.well-known/cmp/p/a.b-c_D9/nested /.well-known/cmp/p/../revocation \
    /.well-known/cmp//keyupdate /.well-known/cmp/%70/x /.well-known/cmpx \
    /.well-known/cmp/p/.../getcrls /.well-known/cmp/pkcs10/extra; do
    n=$((n + 1))
    { printf '\101'; printf '%s' "$p"; } >"$PATHS/seed-$n"
done
echo "seeds: $(find "$CORPUS" "$PKIMSG" "$GENM" "$PATHS" -name 'seed-*' | wc -l)"
