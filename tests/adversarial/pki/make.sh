#!/bin/bash
# make.sh: rebuilds the fixed vendor PKI of the adversarial suite in this
# directory. The output is committed: the cases need certificates with dates
# fixed in the past and future (expired, not yet valid) and deliberate flaws,
# and a reviewer should be able to read them with `openssl x509 -text`.
# Nothing here is secret; every key is a test key.
#
# Usage: tests/adversarial/pki/make.sh BUILD/tests/adversarial/adv_gen
# (needs `openssl`). Re-running replaces every file; the cases only rely on
# the names, subjects and dates below, so they keep working.
set -euo pipefail

GEN=${1:?usage: $0 ADV_GEN_BINARY}
case $GEN in /*) ;; *) GEN=$PWD/$GEN ;; esac
cd "$(dirname "$0")"
export OPENSSL_CONF=/dev/null

LONG=(--from 20250101000000Z --to 21250101000000Z) # valid for a century

key() { # key NAME [ec|rsa2048|rsa512]
    case ${2:-ec} in
    ec) openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1.key" ;;
    rsa2048) openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$1.key" ;;
    rsa512) openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:512 -out "$1.key" ;;
    esac 2>/dev/null
}

cert() { # cert NAME SUBJECT ARGS... (adv_gen mkcert)
    local name=$1 subject=$2
    shift 2
    "$GEN" -I . mkcert "$name.pem" --key "$name" --subject "$subject" "$@"
}

# device NAME SERIAL ISSUER [more mkcert args]: a factory certificate.
device() {
    local name=$1 serial=$2 issuer=$3
    shift 3
    [ -e "$name.key" ] || key "$name"
    cert "$name" "/CN=eNodeB/serialNumber=$serial" --issuer "$issuer" --leaf "$@"
}

rm -f ./*.pem ./*.key ./*.crl

# Vendor "acme": root and issuing intermediate (registered with --chain).
key vendor-root
cert vendor-root "/O=Acme Vendor/CN=Acme Vendor Root CA" --self --ca "${LONG[@]}"
key vendor-int
cert vendor-int "/O=Acme Vendor/CN=Acme Vendor Issuing CA" --issuer vendor-root --ca "${LONG[@]}"

# Vendor "beta": only its root; device SN-BETA-0001 is registered under it.
key beta-root
cert beta-root "/O=Beta Vendor/CN=Beta Vendor Root CA" --self --ca "${LONG[@]}"

# Good acme devices (registered).
device dev1 SN-ADV-0001 vendor-int "${LONG[@]}"
device dev2 SN-ADV-0002 vendor-int "${LONG[@]}"
device dev3 SN-ADV-0003 vendor-int "${LONG[@]}"
key dev-rsa rsa2048
device dev-rsa SN-ADV-RSA vendor-int "${LONG[@]}"

# Flawed acme devices (all registered unless said otherwise).
device dev-expired SN-ADV-EXP vendor-int --from 20200101000000Z --to 20210101000000Z
device dev-future SN-ADV-FUT vendor-int --from 20900101000000Z --to 21000101000000Z
device dev-revoked SN-ADV-REV vendor-int "${LONG[@]}"
device dev-noku SN-ADV-NOKU vendor-int --leaf-noku "${LONG[@]}"
device dev-unreg SN-ADV-UNREG vendor-int "${LONG[@]}"       # not registered
device dev-beta-serial SN-BETA-0001 vendor-int "${LONG[@]}" # beta's serial
# A device certificate issued by another device certificate (CA:FALSE).
device dev-leafchild SN-ADV-0001 dev2 "${LONG[@]}"
# Self-signed "vendor" certificate naming a registered serial.
key dev-selfsigned
cert dev-selfsigned "/CN=eNodeB/serialNumber=SN-ADV-0001" --self --leaf "${LONG[@]}"

# A forged intermediate: the name of acme's issuing CA, issued in the name
# of acme's root, signed by the attacker's own key; and a device under it.
key rogue-root
key rogue-int
cert rogue-int "/O=Acme Vendor/CN=Acme Vendor Issuing CA" --issuer vendor-root \
    --sign-key rogue-root --ca "${LONG[@]}"
device dev-rogue SN-ADV-0001 rogue-int "${LONG[@]}"

# acme's CRL (a "configured vendor CRL"): dev-revoked is on it.
"$GEN" -I . mkcrl vendor-int.crl --issuer vendor-int --from 20250101000000Z \
    --to 21250101000000Z --revoke dev-revoked

# Keys without certificates: the wrong key for signatures and POPs, and a
# key too weak to certify.
key other
key rsa512 rsa512
echo "make.sh: test PKI written to $PWD"
