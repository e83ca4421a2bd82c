#!/usr/bin/env bash
# mock.sh: the peer baseline of bench/run.sh, OpenSSL's own mock CMP server
# (`openssl cmp -port`) on the workload it can serve, driven by the same
# cmpca-load. Meant to run inside a private network namespace (run.sh calls
# it through `unshare -n`): OpenSSL 3.0's mock binds every interface, and
# inside the namespace only loopback exists, brought up here.
#
# The mock answers every ir with one fixed certificate (-rsp_cert), so the
# certificate must certify the key the client asks for: one device with one
# enrollment key, which also keeps clear of the 3.0.19 mock's crash on
# consecutive irs from different device certificates. It still verifies the
# ir's signature protection against the vendor root and the POP, signs the
# ip and the pkiConf, and checks the certConf hash; it issues nothing.
#
# Usage: mock.sh CMPCA_LOAD CACHE WORKDIR DURATION
# Prints cmpca-load's report on stdout; exits with cmpca-load's status.
set -euo pipefail

LOAD=$1 CACHE=$2 M=$3 DURATION=$4
case $LOAD in /*) ;; *) LOAD=$PWD/$LOAD ;; esac
case $CACHE in /*) ;; *) CACHE=$PWD/$CACHE ;; esac
PORT=18080
export OPENSSL_CONF=/dev/null

ip link set lo up 2>/dev/null || ip link set dev lo up
mkdir -p "$M"
cd "$M"

# the cached device 1 (P-256): vendor certificate is PEM block 1, its
# enrollment key A block 3 (tools/load/ident.c); the vendor root block 1
C=$CACHE/ec-p256
awk '/-----BEGIN/ { n++ } n == 1' "$C/vendor.pem" >vroot.pem
awk '/-----BEGIN/ { n++ } n == 3' "$C/dev-0000001.pem" >new.key

cat >ext.cnf <<'EOF'
[req]
distinguished_name = dn
[dn]
[root]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[ica]
basicConstraints = critical,CA:TRUE,pathlen:0
keyUsage = critical,digitalSignature,keyCertSign,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[ee]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
EOF
# the same shape as cmpca's PKI: a root, and an issuing CA that signs the
# certificate and the CMP messages
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out root.key 2>/dev/null
openssl req -new -x509 -key root.key -subj "/O=mock/CN=Mock Root" -days 3650 \
    -config ext.cnf -extensions root -out root.pem 2>/dev/null
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out ica.key 2>/dev/null
openssl req -new -key ica.key -subj "/O=mock/CN=Mock Issuing CA" -config ext.cnf -out ica.csr 2>/dev/null
openssl x509 -req -in ica.csr -CA root.pem -CAkey root.key -set_serial 2 -days 3650 \
    -extfile ext.cnf -extensions ica -out ica.pem 2>/dev/null
openssl req -new -key new.key -subj "/CN=LOAD-P256-0000001/serialNumber=LOAD-P256-0000001" \
    -config ext.cnf -out ee.csr 2>/dev/null
openssl x509 -req -in ee.csr -CA ica.pem -CAkey ica.key -set_serial 3 -days 365 \
    -extfile ext.cnf -extensions ee -out ee.pem 2>/dev/null

openssl cmp -port "$PORT" -srv_cert ica.pem -srv_key ica.key -srv_trusted vroot.pem \
    -rsp_cert ee.pem -rsp_extracerts ica.pem -rsp_capubs root.pem >mock.out 2>mock.log &
MOCK=$!
trap 'kill -TERM $MOCK 2>/dev/null || true; wait $MOCK 2>/dev/null || true' EXIT
for _ in $(seq 100); do
    grep -q '^ACCEPT' mock.out mock.log 2>/dev/null && break
    kill -0 "$MOCK" 2>/dev/null || break
    sleep 0.1
done
grep -q '^ACCEPT' mock.out mock.log || {
    echo "mock.sh: the mock server did not start: $(tail -n 3 mock.log | tr '\n' ' ')" >&2
    exit 1
}

rc=0
"$LOAD" --url "http://127.0.0.1:$PORT/" --cache "$CACHE" --trusted root.pem \
    --devices 1 --workers 1 --duration "$DURATION" --server-pid "$MOCK" --quiet || rc=$?
kill -0 "$MOCK" 2>/dev/null || {
    echo "mock.sh: the mock server died: $(tail -n 3 mock.log | tr '\n' ' ')" >&2
    rc=1
}
exit $rc
