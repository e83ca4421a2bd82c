/*
 * ca_local.h: what the files of the ca room share and nobody else sees: the
 * layout of struct ca and the certificate building blocks used both for the
 * operator PKI (ca_create.c) and for end-entity certificates (ca_issue.c), so
 * the two cannot drift apart in how they encode an extension.
 */
#ifndef CMPCA_CA_CA_LOCAL_H
#define CMPCA_CA_CA_LOCAL_H

#include "ca/ca.h"

/* Read-only after ca_load; every member is owned unless marked. */
/* (clang-format would read STACK_OF(X509) * as a multiplication) */
/* clang-format off */
struct ca {
    X509 *root;              /* the operator root (self-signed) */
    X509 *cert;              /* the issuing CA certificate */
    EVP_PKEY *key;           /* the issuing CA private key */
    STACK_OF(X509) *chain;   /* cert, root: each with its own reference */
    const EVP_MD *md;        /* static, not freed */
    ASN1_OCTET_STRING *skid; /* SHA-1 key identifier of `key` */
};
/* clang-format on */

/* Octets of every serial we draw (RFC 5280 allows up to 20). */
#define CA_SERIAL_LEN 16

/* ca_key_check accepts the key algorithms cmpca signs with (EC P-256/P-384,
 * RSA of 2048 bits or more) and sets *out_md to the digest to sign with:
 * SHA-384 for P-384, else SHA-256 (static). Returns 0, or -1 with `err`. */
int ca_key_check(const EVP_PKEY *key, const EVP_MD **out_md,
                 struct cmpca_err *err);

/* ca_cert_begin makes an unsigned v3 certificate: fresh serial
 * (ca_serial_new), issuer and subject names, the public part of `pubkey`,
 * notBefore = not_before (0: now) and notAfter `days` later, cut back to
 * `cap` when that is earlier (cap may be NULL). *out is new. */
int ca_cert_begin(const X509_NAME *issuer, const X509_NAME *subject,
                  EVP_PKEY *pubkey, time_t not_before, int days,
                  const ASN1_TIME *cap, X509 **out, struct cmpca_err *err);

/* ca_ext_basic_constraints adds a critical basicConstraints: cA = is_ca,
 * pathLenConstraint = pathlen unless pathlen < 0. */
int ca_ext_basic_constraints(X509 *x, int is_ca, int pathlen,
                             struct cmpca_err *err);

/* ca_ext_key_usage adds a critical keyUsage; `ku` is a mask of OpenSSL's
 * KU_* flags (KU_DIGITAL_SIGNATURE, KU_KEY_CERT_SIGN...). */
int ca_ext_key_usage(X509 *x, unsigned int ku, struct cmpca_err *err);

/* ca_ext_skid adds subjectKeyIdentifier: SHA-1 of the subjectPublicKey bits
 * (RFC 5280 4.2.1.2 method 1). If out_skid is not NULL, *out_skid is a new
 * copy of the identifier. */
int ca_ext_skid(X509 *x, ASN1_OCTET_STRING **out_skid, struct cmpca_err *err);

/* ca_ext_akid adds authorityKeyIdentifier with keyIdentifier only. */
int ca_ext_akid(X509 *x, const ASN1_OCTET_STRING *keyid, struct cmpca_err *err);

/* ca_ext_eku adds a non-critical extendedKeyUsage listing `nids`; nothing
 * when num_nids is 0. */
int ca_ext_eku(X509 *x, const int *nids, int num_nids, struct cmpca_err *err);

/* ca_ext_san adds subjectAltName, critical when the subject is empty
 * (RFC 5280 4.2.1.6). */
int ca_ext_san(X509 *x, const GENERAL_NAMES *san, struct cmpca_err *err);

#endif
