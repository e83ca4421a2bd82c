/*
 * cmp_local.h: shared inside the cmp room only. The request context that
 * travels through one request's checks, handler and response, and the
 * helpers of each file of the room.
 */
#ifndef CMPCA_CMP_LOCAL_H
#define CMPCA_CMP_LOCAL_H

#include <stdint.h>
#include <time.h>

#include "asn1/cmp_asn1.h"
#include "cmp/cmp.h"
#include "policy/policy.h"

#define CMP_NONCE_LEN     16
#define CMP_MIN_TID_LEN   16
#define CMP_MIN_NONCE_LEN 16
#define CMP_MAX_TID_LEN   128
#define CMP_MAX_NONCE_LEN 128
#define CMP_MAX_EXTRACERTS 16

struct cmp_srv {
    const struct cmpca_config *cfg;
    const struct ca *ca;
    struct store *st;
    ASN1_OBJECT *oid_implicit_confirm; /* id-it-implicitConfirm */
    unsigned char seal_key[CA_SEAL_KEY_LEN]; /* unseals device secrets */
    int have_seal_key;
};

/* One request on its way through the engine. Everything is borrowed from
 * `msg` or `srv` except what is marked owned. */
struct cmp_req {
    struct cmp_srv *srv;
    const CMPCA_PKIMESSAGE *msg;
    const char *operation;  /* URL operation label or NULL */
    const struct cmpca_profile *profile; /* from the URL; may be NULL until
                                            profiles are configured */
    int body_type;
    int pvno;               /* what we answer with */
    time_t now;
    X509 *signer;           /* the certificate whose key protects msg */
    int authenticated;      /* protection verified */
    int implicit_confirm;   /* asked for and granted */
    uint8_t nonce[CMP_NONCE_LEN]; /* our senderNonce in the response,
                                     drawn before the handler runs */
    struct policy_device dev;     /* set once a vendor chain is verified */
    struct store_ra *ra;          /* owned: the RA that signed, if one did */
    X509 *owned_signer;           /* owned: a pinned RA certificate used as
                                     signer when extraCerts had none */
    uint8_t *mac_secret;          /* owned (cleansed): the shared secret of a
                                     MAC-protected request; the answer is
                                     MAC-protected with it */
    size_t mac_secret_len;
    int mac_single_use;           /* the secret is good for one enrollment */
    int fresh_recorded;           /* transactionID and nonce recorded */
};

/* The "auth_id" pinned in a transaction opened by a MAC-protected request
 * is this prefix followed by the senderKID; otherwise it is the DER of the
 * protecting certificate. */
#define CMP_MAC_AUTH_PREFIX     "mac:"
#define CMP_MAC_AUTH_PREFIX_LEN 4

/* What a certificate request (ir, cr, kur, p10cr) asks for, taken from its
 * CertReqMsg or PKCS#10 request. Pointers are borrowed from the message
 * except those marked owned. */
struct cmp_certreq {
    long req_id;                /* certReqId: 0, or -1 for p10cr */
    EVP_PKEY *key;              /* owned: the key to certify */
    const X509_NAME *subject;   /* requested subject, may be NULL */
    const STACK_OF(X509_EXTENSION) *exts;   /* requested extensions */
    STACK_OF(X509_EXTENSION) *owned_exts;   /* owned (p10cr) */
    const CMPCA_OPTIONAL_VALIDITY *validity; /* may be NULL */
    const CMPCA_CERT_REQ_MSG *crm;          /* NULL for p10cr */
    int renewal;                /* renews old_cert: the new certificate
                                   keeps its subject */
    X509 *old_cert;             /* owned: the certificate renewed (the
                                   signer, or for an RA's kur the one its
                                   oldCertID names) */
    char *old_serial;           /* owned: kur, the certificate it replaces */
};

/* issue.c: decides what to issue for `cr` under the request's profile,
 * signs it and commits it with its transaction. *out_status is accepted or
 * grantedWithMods. Rejections fill err (badCertTemplate...). */
int cmp_issue(struct cmp_req *rq, const struct cmp_certreq *cr,
              X509 **out_cert, int *out_status, struct cmpca_err *err);
/* issue.c: releases what cmp_certreq_* filled. */
void cmp_certreq_clear(struct cmp_certreq *cr);
/* certconf.c: what follows a confirmation (certConf or implicitConfirm):
 * the device becomes enrolled and a replaced certificate (kur) is revoked
 * as superseded. Failures are logged. */
void cmp_confirmed(struct cmp_srv *srv, const char *serial,
                   const char *old_serial);
/* certconf.c: a certificate the client refused or never confirmed is
 * revoked with status `status` (CERT_REJECTED or CERT_REVOKED) and the CRL
 * regenerated. Failures are logged. */
void cmp_unconfirmed(struct cmp_srv *srv, const char *serial, int status);

/* header.c: checks 2-6 of SPEC.md on the request header. */
int cmp_check_header(struct cmp_req *rq, struct cmpca_err *err);
/* header.c: did the client ask for implicitConfirm in generalInfo? */
int cmp_header_asks_implicit_confirm(const struct cmp_req *rq);
/* header.c: records the transactionID of a first message for the replay
 * window; transactionIdInUse when it was seen (a byte-exact replay). */
int cmp_check_tid_fresh(struct cmp_req *rq, struct cmpca_err *err);
/* header.c: both of the above, once per request, for a first message whose
 * signer is trusted (so untrusted traffic cannot fill the tables). */
int cmp_record_fresh(struct cmp_req *rq, struct cmpca_err *err);
/* header.c: records the request's senderNonce; badSenderNonce on replay. */
int cmp_check_nonce_fresh(struct cmp_req *rq, struct cmpca_err *err);

/* protect.c: finds the protecting certificate among extraCerts (subject =
 * sender, SKI = senderKID when given) and verifies the signature; sets
 * rq->signer. `pinned` (may be NULL) is a certificate to use when
 * extraCerts is absent (follow-up messages). */
int cmp_verify_signature(struct cmp_req *rq, X509 *pinned,
                         struct cmpca_err *err);
/* protect.c: signs `rsp` with the CA key and sets its extraCerts. */
int cmp_protect(const struct cmp_req *rq, CMPCA_PKIMESSAGE *rsp);

/* protect.c: is the request MAC-protected (PasswordBasedMac, PBMAC1)? */
int cmp_protection_is_mac(const CMPCA_PKIMESSAGE *msg);
/* protect.c: verifies a follow-up message (certConf, pollReq, error) with
 * the certificate pinned in its transaction; *pinned is new. Fails with
 * notAuthorized when another credential protected it. */
int cmp_verify_pinned(struct cmp_req *rq, const struct store_txn *t,
                      X509 **pinned, struct cmpca_err *err);

/* followup.c: loads the transaction a certConf/pollReq/error continues
 * and applies the follow-up rules (pinned credential, fresh nonce, same
 * sender, recipNonce). *t is filled (store_txn_clear) and *pinned new, also
 * on failure. */
int cmp_followup_load(struct cmp_req *rq, struct store_txn *t, X509 **pinned,
                      struct cmpca_err *err);

/* mac.c: MAC protection, PasswordBasedMac (RFC 9810 5.1.3.1) and PBMAC1
 * (RFC 9481 6.1.2, PBKDF2 + HMAC-SHA2). */
/* cmp_mac_check_params checks the parameters of MAC algorithm `alg`
 * against the [mac] limits of `cfg` without deriving any key, so an
 * oversized iteration count is refused at no cost: badAlg for an algorithm
 * or OWF/MAC we do not accept (SHA-1 and MD5 included), badMessageCheck for
 * counts or lengths out of bounds or unreadable parameters. */
int cmp_mac_check_params(const X509_ALGOR *alg, const struct cmpca_config *cfg,
                         struct cmpca_err *err);
/* cmp_mac_verify checks the protection of `msg` with `secret` (after
 * cmp_mac_check_params). badMessageCheck when it does not match. */
int cmp_mac_verify(const CMPCA_PKIMESSAGE *msg, const uint8_t *secret,
                   size_t secret_len, const struct cmpca_config *cfg,
                   struct cmpca_err *err);
/* cmp_mac_protect sets protectionAlg and protection of `rsp`: the same
 * algorithm, OWF/PRF, MAC and iteration count as `like` (the request's
 * protectionAlg), a fresh random salt. Returns 0 or -1. */
int cmp_mac_protect(CMPCA_PKIMESSAGE *rsp, const X509_ALGOR *like,
                    const uint8_t *secret, size_t secret_len);

/* macauth.c: authenticates a MAC-protected request with the device secret
 * its senderKID names (when `want_kid` is given, it must be that one):
 * sets rq->mac_secret, rq->dev and rq->mac_single_use. An unknown senderKID
 * and a wrong MAC get the same answer (badMessageCheck) at the same cost,
 * so secrets cannot be enumerated. */
int cmp_auth_mac(struct cmp_req *rq, const uint8_t *want_kid, size_t want_len,
                 struct cmpca_err *err);
/* macauth.c: the credential to pin in a transaction: "mac:"+kid or the
 * signer's DER. *out new (OPENSSL_free); returns its length or -1. */
int cmp_auth_id(const struct cmp_req *rq, unsigned char **out);
/* protect.c: protects an answer the way the request was protected: MAC
 * with the same secret, or else the CA's signature. */
int cmp_protect_rsp(const struct cmp_req *rq, CMPCA_PKIMESSAGE *rsp);
/* auth.c: the registered RA certificate whose subject is the header's
 * sender, for an RA that sent no extraCerts (OpenSSL leaves a self-signed
 * one out); borrowed into rq->owned_signer. 0 found, 1 none, -1 error. */
int cmp_ra_cert_for_sender(struct cmp_req *rq, struct cmpca_err *err);

/* auth.c: was the protecting certificate issued by this CA? */
int cmp_signer_is_ours(const struct cmp_req *rq);
/* auth.c: the signer is a confirmed, unrevoked, valid operator certificate
 * of this CA (notAuthorized / certRevoked / signerNotTrusted). Fills *row
 * (clear with store_cert_clear) and rq->dev from it. */
int cmp_auth_operator(struct cmp_req *rq, struct store_cert *row,
                      struct cmpca_err *err);
/* auth.c: operator certificate, or else a vendor certificate (rq->dev). */
int cmp_auth_any(struct cmp_req *rq, struct cmpca_err *err);
/* auth.c: is the signer a registered RA (pinned certificate)? 1 with
 * rq->ra set, 0 when not, -1 when it is but may not sign now
 * (signerNotTrusted). */
int cmp_auth_ra(struct cmp_req *rq, struct cmpca_err *err);
/* auth.c: frees what cmp_auth_ra put in rq->ra. Accepts NULL. */
void cmp_ra_free(struct store_ra *ra);
/* auth.c: may `ra` serve devices of `vendor`? */
int cmp_ra_serves(const struct store_ra *ra, const char *vendor);
/* auth.c: the device an RA request names in `subject` (through each
 * vendor's identity attribute), registered under a vendor the RA serves;
 * fills rq->dev. notAuthorized otherwise. */
int cmp_ra_device(struct cmp_req *rq, const X509_NAME *subject,
                  struct cmpca_err *err);

/* respond.c: a new response with the header filled from the request. */
CMPCA_PKIMESSAGE *cmp_rsp_new(struct cmp_req *rq, int body_type);
/* respond.c: PKIStatusInfo with status, optional failInfo bit (-1 none) and
 * text. New. */
CMPCA_PKISTATUSINFO *cmp_statusinfo_new(int status, int failinfo,
                                        const char *text);
/* respond.c: an error message for `err`. New, unprotected (the caller
 * protects it). */
CMPCA_PKIMESSAGE *cmp_error_new(struct cmp_req *rq,
                                const struct cmpca_err *err);
/* respond.c: ip/cp/kup. With `cert`, status is accepted or
 * grantedWithMods; without, `err` gives the reason of a rejection, or, when
 * `err` is NULL, `status` stands alone (waiting). set1 semantics for cert
 * and ca_pubs. */
CMPCA_PKIMESSAGE *cmp_certrep_new(struct cmp_req *rq, int body_type,
                                  long cert_req_id, int status, X509 *cert,
                                  STACK_OF(X509) *ca_pubs,
                                  const struct cmpca_err *err);

/* respond.c: pkiConf. */
CMPCA_PKIMESSAGE *cmp_pkiconf_new(struct cmp_req *rq);

/* certreq.c: ir, cr, kur and p10cr. Returns the response (never NULL
 * unless out of memory), unprotected. */
CMPCA_PKIMESSAGE *cmp_handle_certreq(struct cmp_req *rq);
/* certreq.c: answers pollReq `rq` for the request `stored`, held for
 * approval: still held (*outcome CMP_RELEASE_WAITING, returns NULL), or
 * issued (CMP_RELEASE_ISSUED) or refused (CMP_RELEASE_REJECTED) with its
 * ip/cp/kup. The checks of the held request run again, so a device or
 * vendor removed meanwhile is refused. */
#define CMP_RELEASE_WAITING  0
#define CMP_RELEASE_ISSUED   1
#define CMP_RELEASE_REJECTED 2
CMPCA_PKIMESSAGE *cmp_certreq_release(struct cmp_req *rq,
                                      const CMPCA_PKIMESSAGE *stored,
                                      int *outcome);
/* revoke.c: rr -> rp. */
CMPCA_PKIMESSAGE *cmp_handle_rr(struct cmp_req *rq);
/* poll.c: pollReq -> pollRep or the delayed answer; error -> pkiConf. */
CMPCA_PKIMESSAGE *cmp_handle_pollreq(struct cmp_req *rq);
CMPCA_PKIMESSAGE *cmp_handle_client_error(struct cmp_req *rq);
/* server.c: answers one decoded message (checks, handler, protection),
 * as for a request that arrived alone; NULL when not even an error could
 * be built. Used for the messages inside a nested message. */
CMPCA_PKIMESSAGE *cmp_answer(struct cmp_srv *srv, const CMPCA_PKIMESSAGE *msg,
                             const struct cmpca_profile *profile,
                             const char *operation);
/* nested.c: nested -> nested (RFC 9483 5.2.2). */
CMPCA_PKIMESSAGE *cmp_handle_nested(struct cmp_req *rq);

/* audit.c: records a decision on request `rq`: `outcome` ("issued",
 * "rejected", "confirmed", ...), the certificate concerned (may be NULL)
 * and, for a refusal, why. Failures to write are logged only. */
void cmp_audit(const struct cmp_req *rq, const char *outcome,
               const char *serial, const struct cmpca_err *why);
/* audit.c: logs and audits the refusal of `rq` for `why`. */
void cmp_rejected(const struct cmp_req *rq, const struct cmpca_err *why);
/* audit.c: a decision the server takes by itself (housekeeping). */
void cmp_audit_server(struct cmp_srv *srv, const char *action,
                      const char *outcome, const char *serial,
                      const char *detail);

/* server.c: regenerates the CRL after a revocation; failures are logged. */
void cmp_publish_crl(struct cmp_srv *srv);
/* certconf.c: certConf handler. */
CMPCA_PKIMESSAGE *cmp_handle_certconf(struct cmp_req *rq);
/* genm.c: genm -> genp (RFC 9483 4.3: caCerts, rootCaKeyUpdate,
 * certReqTemplate, crlStatusList). The request is authenticated already. */
CMPCA_PKIMESSAGE *cmp_handle_genm(struct cmp_req *rq);

/* util: `name` in RFC 2253 form as a new string (OPENSSL_free) or NULL. */
char *cmp_name_text(const X509_NAME *name);
int cmp_octets_eq(const ASN1_OCTET_STRING *a, const uint8_t *b, size_t len);

#endif
