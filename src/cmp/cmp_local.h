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
};

/* header.c: checks 2-6 of SPEC.md on the request header. */
int cmp_check_header(struct cmp_req *rq, struct cmpca_err *err);
/* header.c: did the client ask for implicitConfirm in generalInfo? */
int cmp_header_asks_implicit_confirm(const struct cmp_req *rq);
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
/* respond.c: ip/cp/kup. `cert` may be NULL for a rejection, then `err`
 * gives the reason; status is accepted or grantedWithMods when `cert` is
 * set. set1 semantics for cert and ca_pubs. */
CMPCA_PKIMESSAGE *cmp_certrep_new(struct cmp_req *rq, int body_type,
                                  long cert_req_id, int status, X509 *cert,
                                  STACK_OF(X509) *ca_pubs,
                                  const struct cmpca_err *err);

/* certreq.c: ir handler. Returns the response (never NULL unless out of
 * memory), unprotected. */
CMPCA_PKIMESSAGE *cmp_handle_ir(struct cmp_req *rq);
/* certconf.c: certConf handler. */
CMPCA_PKIMESSAGE *cmp_handle_certconf(struct cmp_req *rq);
/* genm.c: genm -> genp (RFC 9483 4.3: caCerts, rootCaKeyUpdate,
 * certReqTemplate, crlStatusList). The request is authenticated already. */
CMPCA_PKIMESSAGE *cmp_handle_genm(struct cmp_req *rq);

/* util: `name` in RFC 2253 form as a new string (OPENSSL_free) or NULL. */
char *cmp_name_text(const X509_NAME *name);
int cmp_octets_eq(const ASN1_OCTET_STRING *a, const uint8_t *b, size_t len);

#endif
