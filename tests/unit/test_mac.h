/*
 * test_mac.h: what the MAC protection tests share: a small DER writer that
 * builds PasswordBasedMac and PBMAC1 AlgorithmIdentifiers byte by byte
 * (independent of the templates under test, so any value can be sent,
 * broken ones included), and reference MACs computed with OpenSSL's own PBM
 * (OSSL_CRMF_pbm_new) and with PBKDF2 + HMAC called directly.
 */
#ifndef CMPCA_TEST_MAC_H
#define CMPCA_TEST_MAC_H

#include <stddef.h>
#include <stdint.h>

#include "cmp/cmp_local.h"

/* PasswordBasedMac parameters to encode. NULL strings are left out. */
struct pbm_spec {
    size_t salt_len;
    const char *owf; /* dotted OID */
    int64_t iter;
    const char *mac; /* dotted OID */
    int iter_octets; /* > 0: iterationCount as this many 0x7f octets */
};

/* PBMAC1 parameters to encode. */
struct pbmac1_spec {
    const char *kdf; /* dotted OID, normally PBKDF2 */
    size_t salt_len;
    int salt_other; /* salt as otherSource AlgorithmIdentifier */
    int64_t iter;
    int64_t key_len; /* 0: keyLength absent */
    const char *prf; /* NULL: prf absent (the hmacWithSHA1 default) */
    const char *mac;
};

#define OID_SHA1            "1.3.14.3.2.26"
#define OID_MD5             "1.2.840.113549.2.5"
#define OID_SHA256          "2.16.840.1.101.3.4.2.1"
#define OID_SHA384          "2.16.840.1.101.3.4.2.2"
#define OID_SHA512          "2.16.840.1.101.3.4.2.3"
#define OID_HMAC_SHA1       "1.2.840.113549.2.7"
#define OID_HMAC_SHA1_IPSEC "1.3.6.1.5.5.8.1.2"
#define OID_HMAC_SHA256     "1.2.840.113549.2.9"
#define OID_HMAC_SHA384     "1.2.840.113549.2.10"
#define OID_HMAC_SHA512     "1.2.840.113549.2.11"
#define OID_PBM             "1.2.840.113533.7.66.13"
#define OID_DHBM            "1.2.840.113533.7.66.30"
#define OID_PBMAC1          "1.2.840.113549.1.5.14"
#define OID_PBKDF2          "1.2.840.113549.1.5.12"
#define OID_SCRYPT          "1.3.6.1.4.1.11591.4.11"
#define OID_ECDSA_SHA256    "1.2.840.10045.4.3.2"

/* New AlgorithmIdentifiers (X509_ALGOR_free), NULL on failure. */
X509_ALGOR *pbm_alg(const struct pbm_spec *s);
X509_ALGOR *pbmac1_alg(const struct pbmac1_spec *s);
/* `oid` with raw DER `params` (NULL: absent). */
X509_ALGOR *raw_alg(const char *oid, const uint8_t *params, size_t params_len);

/* Replaces the protectionAlg of `m` by `alg` (taken over). */
void set_alg(CMPCA_PKIMESSAGE *m, X509_ALGOR *alg);

/* Sets the protection of `m` (PasswordBasedMac protectionAlg) with
 * OpenSSL's OSSL_CRMF_pbm_new. 0 or -1. */
int ref_protect_pbm(CMPCA_PKIMESSAGE *m, const char *secret);
/* Sets the protection of `m` (PBMAC1 built from `s`) with PBKDF2 + HMAC
 * called directly. 0 or -1. */
int ref_protect_pbmac1(CMPCA_PKIMESSAGE *m, const struct pbmac1_spec *s,
                       const char *secret);
/* 1 when the protection of `m` equals the reference MAC for its
 * PasswordBasedMac protectionAlg. */
int ref_check_pbm(const CMPCA_PKIMESSAGE *m, const char *secret);
/* 1 when the protection of `m` equals PBKDF2 + HMAC over it with the salt
 * its PBMAC1 protectionAlg carries (read with OpenSSL's PBE2PARAM and
 * PBKDF2PARAM), the iteration count and key length of `s` (checked to be
 * those of the message) and the hashes of `s`. Copies the salt into
 * `salt_out` (at least 512 octets) and its length into *salt_len. */
int ref_check_pbmac1(const CMPCA_PKIMESSAGE *m, const struct pbmac1_spec *s,
                     const char *secret, uint8_t *salt_out, size_t *salt_len);

/* The message encoded and decoded again (as a peer would see it). */
CMPCA_PKIMESSAGE *reparse(const CMPCA_PKIMESSAGE *m);

#endif
