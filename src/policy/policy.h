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
 * vendor and in a state that allows initial enrollment (notAuthorized). */
int policy_device_may_enroll(struct store *st, const struct cmpca_config *cfg,
                             const struct policy_device *dev,
                             struct cmpca_err *err);

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

/* policy_subject decides the operator certificate's subject. Without
 * subject_from_template (the default) it is "CN=<id>, serialNumber=<id>"
 * and *modified is set when the device asked for something else; with it,
 * the requested subject is used when present. *out is new. */
int policy_subject(const struct cmpca_config *cfg,
                   const struct policy_device *dev, const X509_NAME *requested,
                   X509_NAME **out, int *modified, struct cmpca_err *err);

#endif
