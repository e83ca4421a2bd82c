/*
 * ca.h: the certificate authority proper. Creates the operator PKI (a
 * self-signed operator root and an issuing CA signed by it), loads it, draws
 * serial numbers and signs certificates. Knows nothing of CMP or the store:
 * callers decide what to issue and record it.
 *
 * A struct ca is read-only after ca_load and safe to share between threads
 * (EVP_PKEY signing with a shared key is thread-safe in OpenSSL 3).
 */
#ifndef CMPCA_CA_CA_H
#define CMPCA_CA_CA_H

#include <stddef.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "store/store.h"
#include "util/err.h"

struct ca;

/* Key algorithms for the operator PKI (names as on the command line). */
enum ca_key_type { CA_KEY_EC_P256, CA_KEY_EC_P384, CA_KEY_RSA2048, CA_KEY_RSA3072 };

/* ca_key_type_from_name parses "ec-p256|ec-p384|rsa-2048|rsa-3072"; -1 if
 * unknown. */
int ca_key_type_from_name(const char *name);

/* ca_key_generate makes a new key of `type`; *out is new. */
int ca_key_generate(int type, EVP_PKEY **out, struct cmpca_err *err);

struct ca_create_opts {
    int key_type;           /* enum ca_key_type, for both root and issuing */
    const char *org;        /* O= of both subjects */
    int root_days;          /* validity of the root, e.g. 7300 */
    int issuing_days;       /* validity of the issuing CA, e.g. 3650 */
    const char *root_path;  /* where to write the root certificate (PEM) */
    const char *cert_path;  /* the issuing CA certificate (PEM) */
    const char *key_path;   /* its private key (PEM, mode 0600) */
};

/* ca_create generates the operator root and issuing CA and writes the three
 * files, each created exclusively (an existing file is an error, nothing is
 * overwritten). The root key is not kept: it exists only to sign the issuing
 * CA (offline-root operation comes later). */
int ca_create(const struct ca_create_opts *o, struct cmpca_err *err);

/* ca_load reads the root, issuing certificate and key, and checks that the
 * key matches the certificate and the issuing CA chains to the root. */
int ca_load(const char *root_path, const char *cert_path, const char *key_path,
            struct ca **out, struct cmpca_err *err);
void ca_free(struct ca *ca);

/* Borrowed pointers, valid while `ca` lives. */
X509 *ca_get0_root(const struct ca *ca);
X509 *ca_get0_cert(const struct ca *ca);
EVP_PKEY *ca_get0_key(const struct ca *ca);
/* The issuing certificate followed by the root: what goes in extraCerts
 * after the protecting certificate (which is the issuing certificate). */
STACK_OF(X509) *ca_get0_chain(const struct ca *ca);
/* The digest the CA signs with: SHA-384 for P-384 keys, else SHA-256. */
const EVP_MD *ca_get0_md(const struct ca *ca);
/* SHA-1 key identifier of the issuing CA's key (its SKI), borrowed. */
const ASN1_OCTET_STRING *ca_get0_skid(const struct ca *ca);

/* What to put in an end-entity certificate. */
struct ca_issue_req {
    const X509_NAME *subject;     /* required */
    EVP_PKEY *pubkey;             /* required; only the public part is used */
    int validity_days;            /* > 0 */
    time_t not_before;            /* 0: now */
    const int *eku_nids;          /* extendedKeyUsage, may be empty */
    int num_eku;
    const GENERAL_NAMES *san;     /* may be NULL */
    const char *crl_url;          /* CRL distribution point URI, may be NULL */
    int key_usage;                /* KU_* bits; 0: digitalSignature, plus
                                     keyEncipherment for RSA keys */
};

/* ca_issue signs a new end-entity certificate: random positive serial of
 * 16 octets (ca_serial_new), basicConstraints CA:FALSE (critical), keyUsage
 * digitalSignature (+ keyEncipherment for RSA keys only, RFC 8813),
 * extendedKeyUsage, SKI, AKI, SAN. *out is new. */
int ca_issue(const struct ca *ca, const struct ca_issue_req *r, X509 **out,
             struct cmpca_err *err);

/* ca_issue in two steps, so the caller can record what it is about to sign
 * before it signs (docs/issuance.md). ca_issue_prepare builds the
 * certificate with its serial and every extension, unsigned; *out new.
 * ca_issue_sign signs it and checks the result with ca_check_issued. */
int ca_issue_prepare(const struct ca *ca, const struct ca_issue_req *r,
                     X509 **out, struct cmpca_err *err);
int ca_issue_sign(const struct ca *ca, X509 *x, struct cmpca_err *err);

/* ca_check_issued: what no end-entity certificate may leave the CA without
 * (RFC 5280 and our own rules): the signature verifies with our key, v3,
 * issuer = our subject, serial positive and at most 20 octets, validity
 * inside ours, basicConstraints CA:FALSE, keyUsage present without
 * keyCertSign or cRLSign, SKI present, AKI keyid = our SKI, no extension
 * twice. systemFailure naming the rule otherwise. */
int ca_check_issued(const struct ca *ca, X509 *x, struct cmpca_err *err);

/* ca_crl_publish builds a CRL over every certificate revoked in `st`
 * (status revoked or rejected, with its reason), numbered with
 * store_crl_next_number, thisUpdate now and nextUpdate `validity_secs`
 * later, signs it with the issuing CA key and saves it in `st` as CRL
 * `name`. *out (when out is not NULL) is the new CRL. */
int ca_crl_publish(const struct ca *ca, struct store *st, const char *name,
                   int validity_secs, X509_CRL **out, struct cmpca_err *err);

/* ---- sealed shared secrets (src/ca/seal.c) ----
 * Device secrets for MAC protection are stored encrypted with a 256-bit key
 * kept in a file of its own (mode 0600), so a copy of the database alone
 * reveals no secret. AES-256-GCM, a fresh 96-bit nonce per secret. */
#define CA_SEAL_KEY_LEN 32

/* ca_seal_key_load reads the key file `path`; when it does not exist and
 * `create` is set, makes a new random key and writes it (O_EXCL, 0600). */
int ca_seal_key_load(const char *path, int create,
                     unsigned char out[CA_SEAL_KEY_LEN], struct cmpca_err *err);
/* ca_secret_seal encrypts `plain`; *out is new (OPENSSL_free). */
int ca_secret_seal(const unsigned char key[CA_SEAL_KEY_LEN],
                   const uint8_t *plain, size_t plain_len, uint8_t **out,
                   size_t *out_len, struct cmpca_err *err);
/* ca_secret_unseal decrypts and authenticates `sealed`; *out is new, free
 * with OPENSSL_clear_free(*out, *out_len). */
int ca_secret_unseal(const unsigned char key[CA_SEAL_KEY_LEN],
                     const uint8_t *sealed, size_t sealed_len, uint8_t **out,
                     size_t *out_len, struct cmpca_err *err);

/* ca_serial_new draws a positive serial of 16 random octets (CSPRNG) with
 * the top bit clear and the top byte non-zero, so its DER is always 16
 * octets. *out is new. */
int ca_serial_new(ASN1_INTEGER **out, struct cmpca_err *err);

/* ca_serial_hex formats a serial as `openssl x509 -serial` does (uppercase
 * hex, even length). Returns a new string (free()) or NULL. */
char *ca_serial_hex(const ASN1_INTEGER *serial);

#endif
