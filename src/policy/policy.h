/*
 * policy.h: the TS 33.310 rules that decide who may enroll and what they get.
 * Vendor trust (a device's vendor certificate must chain to a configured
 * vendor root), device identity (the serialNumber or CN attribute of that
 * certificate) and registration, algorithm rules (no MD5/SHA-1), key rules,
 * and the subject of the operator certificate.
 *
 * Reads the registry from the store on every call, so `cmpca vendor add` and
 * `cmpca device add` take effect on a running server at once.
 */
#ifndef CMPCA_POLICY_POLICY_H
#define CMPCA_POLICY_POLICY_H

#include <time.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "store/store.h"
#include "util/config.h"
#include "util/err.h"

#define POLICY_NAME_MAX   64
#define POLICY_SERIAL_MAX 256

/* An authenticated device: the vendor whose root its certificate chains to,
 * and its identity under that vendor. */
struct policy_device {
    char vendor[POLICY_NAME_MAX + 1];
    char serial[POLICY_SERIAL_MAX + 1];
};

/* policy_vendor_authenticate validates `signer` now against the configured
 * vendor roots, with the vendors' stored intermediates and `untrusted`
 * (the request's extraCerts, in any order) for path building; requires the
 * digitalSignature key usage when keyUsage is present; extracts the identity
 * attribute the vendor is configured for. Fills *out. Fails with
 * signerNotTrusted (no vendor root reaches it, or it is expired, revoked
 * by chain rules, or not usable for signing) or badMessageCheck. */
int policy_vendor_authenticate(struct store *st, X509 *signer,
                               STACK_OF(X509) *untrusted, time_t now,
                               struct policy_device *out,
                               struct cmpca_err *err);

/* policy_device_may_enroll checks that the device is registered under its
 * vendor and in a state that allows initial enrollment (notAuthorized:
 * unknown, disabled, rejected by an operator, or enrolled when `reenroll`
 * is off). *needs_approval (may be NULL) is set to 1 when the device is in
 * manual approval mode and no operator has approved it yet. */
int policy_device_may_enroll(struct store *st, const struct cmpca_config *cfg,
                             const struct policy_device *dev,
                             int *needs_approval, struct cmpca_err *err);

/* policy_check_sig_alg checks a signature AlgorithmIdentifier used for
 * message protection or POP: a known signature algorithm with SHA-2 (or
 * EdDSA). MD2/MD4/MD5/SHA-1 and unknown algorithms fail with badAlg. */
int policy_check_sig_alg(const X509_ALGOR *alg, struct cmpca_err *err);

/* policy_check_hash_nid: the same rule for a bare digest (certConf hashAlg). */
int policy_check_hash_nid(int md_nid, struct cmpca_err *err);

/* policy_check_public_key accepts EC P-256/P-384/P-521, RSA 2048..8192 bits
 * with a sane exponent, Ed25519 and Ed448; anything else fails with
 * badCertTemplate (weak size) or badAlg (unknown type). */
int policy_check_public_key(const EVP_PKEY *key, struct cmpca_err *err);

/* ---- certificate profiles (src/policy/profile.c) ------------------------
 * A request's template against a struct cmpca_profile (util/config.h):
 * what is refused, what is changed (grantedWithMods), what is issued. */
#include <openssl/x509v3.h>

#define POLICY_MAX_TEMPLATE_EXTS 64 /* more: badCertTemplate */
#define POLICY_MAX_SUBJECT_ATTRS 64 /* more: badCertTemplate */
/* A requested notAfter up to this many seconds past a whole number of days
 * is rounded down to it (client clock, request latency). */
#define POLICY_VALIDITY_SLACK_SEC 3600

/* What the requester asked for, borrowed from the certTemplate. */
struct policy_request {
    const X509_NAME *subject;                /* may be NULL; for a renewal by
                                                a non-device (dev == NULL): the
                                                old certificate's subject */
    EVP_PKEY *pubkey;                        /* required */
    const STACK_OF(X509_EXTENSION) *exts;    /* may be NULL */
    const ASN1_TIME *not_before, *not_after; /* may be NULL */
};

/* What to issue; fields map one to one onto struct ca_issue_req. */
struct policy_grant {
    X509_NAME *subject;  /* owned */
    GENERAL_NAMES *san;  /* owned; NULL: no subjectAltName */
    int validity_days;   /* >= 1 */
    time_t not_before;   /* `now` of policy_grant_new */
    int key_usage;       /* KU_* bits fit for the key; 0: CA default */
    const int *eku_nids; /* borrowed from the profile */
    int num_eku;
    const char *crl_url; /* borrowed from the profile, may be NULL */
    int modified;        /* 1: answer grantedWithMods */
};

/* policy_check_profile_key checks `key` against p->key_types, after the
 * rules of policy_check_public_key: an unknown type or curve fails with
 * badAlg; RSA outside 2048..8192 bits, an unusable RSA exponent, or a type
 * the profile does not list fails with badCertTemplate. */
int policy_check_profile_key(const struct cmpca_profile *p, const EVP_PKEY *key,
                             struct cmpca_err *err);

/* policy_grant_new applies profile `p` to request `r` at time `now` (see
 * docs/config.md): key type, subject (from `dev`, kept as r->subject when
 * dev is NULL, or from the template filtered by allowed_rdns), extensions
 * (CA:TRUE always refused; SAN per p->san; others ignored: the profile sets
 * them), validity (a shorter one honoured, a longer one clamped or
 * refused). Forbidden parts are dropped under p->clamp (modified = 1), else
 * refused with badCertTemplate. *out is new, free with policy_grant_free();
 * it borrows from `p`, so it may not outlive the config. */
int policy_grant_new(const struct cmpca_profile *p,
                     const struct policy_device *dev,
                     const struct policy_request *r, time_t now,
                     struct policy_grant **out, struct cmpca_err *err);

void policy_grant_free(struct policy_grant *g);
/* ---- end of certificate profiles ---------------------------------------- */

#endif
