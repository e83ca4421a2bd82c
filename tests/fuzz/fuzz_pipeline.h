/*
 * fuzz_pipeline.h: shared between the two halves of the pipeline fuzz
 * target: fuzz_pipeline_env.c (the fixed test PKI, the config and the store
 * in a temp dir) and fuzz_pipeline.c (the input format, re-signing and the
 * checks on every answer).
 *
 * libFuzzer calls LLVMFuzzerTestOneInput with no context argument, so the
 * environment is the one piece of process-wide mutable state in this
 * program; it lives in fuzz_pipeline.c and is passed down from there.
 */
#ifndef CMPCA_FUZZ_PIPELINE_H
#define CMPCA_FUZZ_PIPELINE_H

#include <limits.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "asn1/cmp_asn1.h"
#include "ca/ca.h"
#include "cmp/cmp.h"
#include "store/store.h"
#include "util/config.h"

/* Signers a record can name (flags & 7): index into fuzz_env.signer_*.
 * 0 means "send the bytes as they are". */
enum fuzz_signer {
    FUZZ_SIGNER_NONE = 0,
    FUZZ_SIGNER_DEV1 = 1, /* vendor cert of FUZZ0001 (registered, auto) */
    FUZZ_SIGNER_OP = 2,   /* operator cert of FUZZ0001 issued by our CA */
    FUZZ_SIGNER_RA = 3,   /* the registered RA (may raVerify and revoke) */
    FUZZ_SIGNER_DEV2 = 4, /* vendor cert of FUZZ0002 (manual approval) */
    FUZZ_SIGNER_DEV3 = 5, /* vendor cert of FUZZ0003 (not registered) */
    FUZZ_NUM_SIGNERS = 6, /* signers with a certificate and a key */
    FUZZ_SIGNER_MAC = 6   /* the shared secret of FUZZ0004 (MAC) */
};

/* FUZZ0004 enrolls with a shared secret (make_seeds.sh registers the same
 * one with `cmpca device add --secret-file`); its senderKID is its serial. */
#define FUZZ_MAC_KID    "FUZZ0004"
#define FUZZ_MAC_SECRET "fuzz-mac-secret-0004"

struct fuzz_env {
    char pki[PATH_MAX]; /* the committed PKI: tests/fuzz/pki */
    char dir[PATH_MAX]; /* temp data dir: cmpca.conf and the store */
    struct cmpca_config *cfg;
    struct ca *ca;
    struct store *st;
    struct cmp_srv *srv;
    X509 *signer_cert[FUZZ_NUM_SIGNERS]; /* [0] unused; NULL if missing */
    EVP_PKEY *signer_key[FUZZ_NUM_SIGNERS];
    unsigned long runs; /* inputs since the store was last renewed */
    uint64_t counter;   /* makes fresh nonces and transactionIDs */
};

/* fuzz_env_init builds everything under a new temp dir (tmpfs when there is
 * one, so SQLite's fsyncs cost nothing). `pki` is the PKI directory.
 * Returns 0, or -1 with a message on stderr. */
int fuzz_env_init(struct fuzz_env *env, const char *pki);

/* fuzz_env_renew throws the store away and starts a new one with the same
 * registrations, so a long run does not grow the database without bound. */
int fuzz_env_renew(struct fuzz_env *env);

/* fuzz_env_op_usable returns 1 while the operator certificate op.pem is
 * still confirmed and unrevoked in the store (a kur or rr among the inputs
 * revokes it, and every later op-signed input would stop at certRevoked). */
int fuzz_env_op_usable(struct fuzz_env *env);

/* fuzz_env_set_dev2 sets the state of FUZZ0002 (manual approval) as
 * `cmpca device approve|reject` would; failures are ignored. */
void fuzz_env_set_dev2(struct fuzz_env *env, int state);

/* fuzz_mac_alg_kind: 1 PasswordBasedMac, 2 PBMAC1, 0 anything else. */
int fuzz_mac_alg_kind(const X509_ALGOR *alg);

/* fuzz_mac_compute computes the MAC of `m` under its own protectionAlg and
 * `sec`; *out is new (OPENSSL_free). Returns 0, or 1 when the algorithm or
 * its parameters are not computed here (unknown, unreadable, too many
 * iterations). */
int fuzz_mac_compute(const CMPCA_PKIMESSAGE *m, const uint8_t *sec,
                     size_t sec_len, uint8_t **out, size_t *out_len);

/* fuzz_mac_protect sets senderKID to `kid`, a default PasswordBasedMac
 * when protectionAlg is not a MAC, and the protection computed with `sec`
 * (left as it was when fuzz_mac_compute declines). Returns 0 or -1. */
int fuzz_mac_protect(CMPCA_PKIMESSAGE *m, const char *kid, const uint8_t *sec,
                     size_t sec_len);

/* fuzz_env_free releases everything and removes the temp dir. */
void fuzz_env_free(struct fuzz_env *env);

#endif
