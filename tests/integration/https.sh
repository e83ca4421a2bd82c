#!/usr/bin/env bash
# https: `cmpca serve` over TLS, through libmicrohttpd's own TLS support.
#
# 1. --tls-cert/--tls-key: `openssl cmp -tls_used -tls_trusted` enrolls a
#    device; the server presents the configured certificate; plain HTTP to
#    the TLS port gets no HTTP answer and a plain `openssl cmp` fails; TLS
#    1.0 and 1.1 handshakes are refused by the server (the same s_client
#    command completes TLS 1.0 against `openssl s_server -tls1`, and TLS 1.2
#    against cmpca), TLS 1.2 and 1.3 are accepted.
# 2. [server] tls_cert/tls_key/tls_client_ca in cmpca.conf: a client without
#    a certificate, or with one from another CA, gets 403 and nothing is
#    issued; with a certificate from the client CA the enrollment succeeds.
# 3. Mistakes stop the server at start: a key without a certificate (usage
#    error), a key that is not the certificate's.
. "$(dirname "$0")/lib.sh" "$@"

cat >>"$PKI/ext.cnf" <<'EOF'
[tls_server]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1
[tls_client]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = clientAuth
EOF

ca_init
setup_acme dev1=TLS001 dev2=TLS002 dev3=TLS003
log "making the TLS PKI"
pki_root tlsca "/O=cmpca test/CN=TLS CA"
pki_sign tls-server "/O=cmpca test/CN=127.0.0.1" tlsca tls_server
pki_root clientca "/O=cmpca test/CN=TLS Client CA"
pki_sign tls-client "/O=cmpca test/CN=RA client" clientca tls_client
pki_sign tls-stranger "/O=cmpca test/CN=stranger" tlsca tls_client
TLS_TRUST=(-tls_used -tls_trusted "$PKI/tlsca.pem")

# s_client VERSION [CIPHERS] [PORT]: one handshake with `openssl s_client
# -VERSION` to the server (or PORT), output in $T/s_client.VERSION; returns
# its exit status.
s_client() {
    local v=$1 out=$T/s_client.$1
    local cipher=()
    [ -z "${2:-}" ] || cipher=(-cipher "$2")
    timeout 20 openssl s_client -connect "127.0.0.1:${3:-$PORT}" "-$v" "${cipher[@]}" \
        -CAfile "$PKI/tlsca.pem" -verify_return_error </dev/null >"$out" 2>&1
}

# ---- 1. HTTPS from the command line -------------------------------------------

SERVER_ARGS="--tls-cert $PKI/tls-server.pem --tls-key $PKI/tls-server.key" server_start_https

log "enrolling over HTTPS"
run_ir a dev1 -subject "/CN=eNodeB" "${TLS_TRUST[@]}"
expect_enrolled a TLS001 "ir over HTTPS"

check "the server presents the configured TLS certificate"
s_client tls1_3 || fail "TLS 1.3 handshake failed: $(grep -m2 -i error "$T/s_client.tls1_3" | tr '\n' ' ')"
assert_eq "$(fingerprint "$PKI/tls-server.pem")" \
    "$(openssl x509 -in "$T/s_client.tls1_3" -noout -fingerprint -sha256 2>/dev/null | sed 's/.*=//')" \
    "fingerprint of the certificate presented"
grep -q 'Protocol: TLSv1.3\|Protocol  : TLSv1.3\|New, TLSv1.3' "$T/s_client.tls1_3" ||
    fail "TLS 1.3 was not negotiated: $(grep -m1 'New,' "$T/s_client.tls1_3")"

check "plain HTTP to the TLS port gets no HTTP answer"
assert_eq 000 "$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 "http://127.0.0.1:$PORT/health" || true)" \
    "HTTP status of GET /health over plain HTTP"
assert_eq 000 "$(http_post "$OUT/a/req1.der")" "HTTP status of a CMP POST over plain HTTP"
run_ir plain dev2 -subject "/CN=eNodeB"
[ "$RUN_RC" -ne 0 ] || fail "openssl cmp without -tls_used succeeded against the TLS port"
[ ! -s "$OUT/plain/cert.pem" ] || fail "a certificate was issued over plain HTTP"
check "over HTTPS the same GET answers 200"
assert_eq 200 "$(curl -s -o "$T/health" -w '%{http_code}' --max-time 10 --cacert "$PKI/tlsca.pem" \
    "https://127.0.0.1:$PORT/health" || true)" "HTTP status of GET /health over HTTPS"

log "TLS versions"
check "control: this s_client offers TLS 1.0 when told to (against openssl s_server -tls1)"
: >"$T/s_server.out"
# s_server quits when its stdin ends, so it gets a sleep that holds nothing
# of ours (ctest waits until every copy of the test's output is closed)
sleep 20 2>/dev/null | openssl s_server -accept 127.0.0.1:0 -cert "$PKI/tls-server.pem" \
    -key "$PKI/tls-server.key" -tls1 -cipher 'DEFAULT@SECLEVEL=0' -naccept 1 \
    >"$T/s_server.out" 2>&1 &
EXTRA_PIDS+=($!)
for _ in $(seq 50); do
    grep -q '^ACCEPT ' "$T/s_server.out" && break
    sleep 0.1
done
ctl_port=$(sed -n 's/^ACCEPT .*:\([0-9]*\)$/\1/p' "$T/s_server.out")
[ -n "$ctl_port" ] || fail "openssl s_server did not start: $(tr '\n' ' ' <"$T/s_server.out")"
s_client tls1 'DEFAULT@SECLEVEL=0' "$ctl_port" ||
    fail "s_client could not do TLS 1.0 even with s_server -tls1: $(grep -m2 -i error "$T/s_client.tls1" | tr '\n' ' ')"
grep -q 'New, TLSv1.0, ' "$T/s_client.tls1" || fail "control: TLS 1.0 was not negotiated with s_server"

for v in tls1 tls1_1; do
    check "cmpca refuses a $v handshake the client offered"
    if s_client "$v" 'DEFAULT@SECLEVEL=0'; then
        fail "$v handshake succeeded: $(grep -m1 'New,' "$T/s_client.$v")"
    fi
    grep -Eq 'written [1-9][0-9]* bytes' "$T/s_client.$v" ||
        fail "$v: the client sent no ClientHello: $(grep -m2 -i error "$T/s_client.$v" | tr '\n' ' ')"
    grep -q 'Cipher is (NONE)' "$T/s_client.$v" || fail "$v: a cipher was agreed"
done
check "cmpca accepts TLS 1.2 with the same client options"
s_client tls1_2 'DEFAULT@SECLEVEL=0' ||
    fail "TLS 1.2 handshake failed: $(grep -m2 -i error "$T/s_client.tls1_2" | tr '\n' ' ')"
grep -q 'New, TLSv1.2, ' "$T/s_client.tls1_2" || fail "TLS 1.2 was not negotiated"
assert_cert_count 1 "after HTTPS, plain HTTP and handshake tests"
server_stop

# ---- 2. client certificates, configured in cmpca.conf -------------------------

log "client certificates, from cmpca.conf"
mkdir -p "$D/tls"
cp "$PKI/tls-server.pem" "$PKI/tls-server.key" "$PKI/clientca.pem" "$D/tls/"
conf_set server tls_cert tls/tls-server.pem
conf_set server tls_key tls/tls-server.key
conf_set server tls_client_ca tls/clientca.pem
SERVER_ARGS="" server_start_https

run_ir nocert dev2 -subject "/CN=eNodeB" "${TLS_TRUST[@]}"
check "nocert: refused with 403"
[ "$RUN_RC" -ne 0 ] || fail "nocert: enrollment without a client certificate succeeded"
grep -q '403' "$OUT/nocert/client.log" || fail "nocert: no 403 in the client log: $(client_errors "$OUT/nocert/client.log")"
grep -q 'client certificate refused: no client certificate' "$SERVER_LOG" ||
    fail "nocert: the server log does not say why"

run_ir stranger dev2 -subject "/CN=eNodeB" "${TLS_TRUST[@]}" \
    -tls_cert "$PKI/tls-stranger.pem" -tls_key "$PKI/tls-stranger.key"
check "stranger: a client certificate from another CA is refused with 403"
[ "$RUN_RC" -ne 0 ] || fail "stranger: enrollment succeeded"
grep -q '403' "$OUT/stranger/client.log" || fail "stranger: no 403 in the client log"
grep -q 'client certificate refused: .*issuer is unknown' "$SERVER_LOG" ||
    fail "stranger: the server log does not say why"
assert_cert_count 1 "after the refused clients"

run_ir good dev2 -subject "/CN=eNodeB" "${TLS_TRUST[@]}" \
    -tls_cert "$PKI/tls-client.pem" -tls_key "$PKI/tls-client.key"
expect_enrolled good TLS002 "ir with a client certificate"
check "GET /health: 403 without a client certificate, 200 with one"
assert_eq 403 "$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 --cacert "$PKI/tlsca.pem" \
    "https://127.0.0.1:$PORT/health" || true)" "status without a client certificate"
assert_eq 200 "$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 --cacert "$PKI/tlsca.pem" \
    --cert "$PKI/tls-client.pem" --key "$PKI/tls-client.key" "https://127.0.0.1:$PORT/health" || true)" \
    "status with a client certificate"
server_stop

# ---- 3. mistakes stop the server at start --------------------------------------

log "bad TLS settings"
check "--tls-key without --tls-cert is a usage error"
rc=0
timeout 20 "$CMPCA" serve --dir "$D" --listen 127.0.0.1:0 --tls-key "$PKI/tls-server.key" \
    >"$T/bad1.out" 2>&1 || rc=$?
assert_eq 2 "$rc" "exit status"
check "a key that is not the certificate's stops the server"
rc=0
timeout 20 "$CMPCA" serve --dir "$D" --listen 127.0.0.1:0 --tls-cert "$PKI/tls-server.pem" \
    --tls-key "$PKI/tls-client.key" >"$T/bad2.out" 2>&1 || rc=$?
assert_eq 1 "$rc" "exit status"
grep -q 'not the key of the (first) TLS certificate' "$T/bad2.out" ||
    fail "no reason given: $(tail -n 2 "$T/bad2.out" | tr '\n' ' ')"
assert_no_grep "$T/bad2.out" 'AddressSanitizer|LeakSanitizer|runtime error:' "sanitizer report"
log "PASS"
