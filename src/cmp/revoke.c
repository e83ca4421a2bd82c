/*
 * revoke.c: rr -> rp (RFC 9483 4.2). Only the holder revokes: the request
 * must be signed with a valid operator certificate of the same device as the
 * certificate it names (RAs come with RA mode). Exactly one RevDetails,
 * naming issuer and serial of a certificate this CA issued. The CRL is
 * regenerated before the answer leaves, so a client that fetches it right
 * after the rp sees the revocation.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "ca/ca.h"
#include "cmp/cmp_local.h"
#include "util/log.h"

#define CRL_REASON_UNUSED_7 7 /* RFC 5280 5.3.1: value 7 is not used */
#define CRL_REASON_MAX      10

static CMPCA_PKIMESSAGE *rp_new(struct cmp_req *rq, const struct cmpca_err *err)
{
    CMPCA_PKIMESSAGE *rsp = cmp_rsp_new(rq, CMPCA_BODY_RP);
    CMPCA_REV_REP_CONTENT *rp = NULL;
    CMPCA_PKISTATUSINFO *si = NULL;

    if (rsp == NULL)
        return NULL;
    si = err == NULL ? cmp_statusinfo_new(CMPCA_STATUS_ACCEPTED, -1, NULL)
                     : cmp_statusinfo_new(CMPCA_STATUS_REJECTION,
                                          err->failinfo, err->msg);
    if (si == NULL || (rp = CMPCA_REV_REP_CONTENT_new()) == NULL)
        goto err;
    rsp->body->value.rp = rp;
    if (!sk_CMPCA_PKISTATUSINFO_push(rp->status, si))
        goto err;
    return rsp;
err:
    CMPCA_PKISTATUSINFO_free(si);
    CMPCA_PKIMESSAGE_free(rsp);
    return NULL;
}

static int get_reason(const CMPCA_REV_DETAILS *d, int *out,
                      struct cmpca_err *err)
{
    ASN1_ENUMERATED *e;
    int crit = 0;
    long v;

    *out = 0;
    /* d is set: target_of() fails through cmpca_err_set(), which returns -1
     * in another file, so the analyzer also tries a 0 there */
    /* NOLINTNEXTLINE(clang-analyzer-core.NullDereference) */
    e = X509V3_get_d2i(d->crlEntryDetails, NID_crl_reason, &crit, NULL);
    ERR_clear_error();
    if (e == NULL)
        return crit == -1 ? 0 : cmpca_err_set(err, FI_BAD_REQUEST,
                                               "unreadable CRLReason");
    v = ASN1_ENUMERATED_get(e);
    ASN1_ENUMERATED_free(e);
    if (v < 0 || v > CRL_REASON_MAX || v == CRL_REASON_UNUSED_7)
        return cmpca_err_set(err, FI_BAD_REQUEST,
                             "CRLReason %ld is not an RFC 5280 reason", v);
    *out = (int)v;
    return 0;
}

/* The one certificate the request names; *hex new (free). */
static int target_of(const struct cmp_req *rq, const CMPCA_REV_DETAILS **out,
                     char **hex, struct cmpca_err *err)
{
    STACK_OF(CMPCA_REV_DETAILS) *list = rq->msg->body->value.rr;
    const CMPCA_CERT_TEMPLATE *t;

    *hex = NULL;
    if (sk_CMPCA_REV_DETAILS_num(list) != 1)
        return cmpca_err_set(err, FI_ADD_INFO_NOT_AVAILABLE,
                             "exactly one RevDetails is required");
    *out = sk_CMPCA_REV_DETAILS_value(list, 0);
    t = (*out)->certDetails;
    if (t->issuer == NULL || t->serialNumber == NULL)
        return cmpca_err_set(err, FI_ADD_INFO_NOT_AVAILABLE,
                             "RevDetails must name issuer and serialNumber");
    if (X509_NAME_cmp(t->issuer,
                      X509_get_subject_name(ca_get0_cert(rq->srv->ca))) != 0)
        return cmpca_err_set(err, FI_BAD_CERT_ID,
                             "certificate not issued by this CA");
    if ((*hex = ca_serial_hex(t->serialNumber)) == NULL)
        return cmpca_err_set(err, FI_SYSTEM_FAILURE, "out of memory");
    return 0;
}

static int same_device(const struct store_cert *a, const struct store_cert *b)
{
    if (strcmp(a->serial_hex, b->serial_hex) == 0)
        return 1;
    return a->vendor != NULL && a->device != NULL && b->vendor != NULL &&
           b->device != NULL && strcmp(a->vendor, b->vendor) == 0 &&
           strcmp(a->device, b->device) == 0;
}

static int revoke(struct cmp_req *rq, struct cmpca_err *err)
{
    const CMPCA_REV_DETAILS *d = NULL;
    struct store_cert signer, target;
    char *hex = NULL;
    int reason = 0, rc = -1, ra;

    memset(&signer, 0, sizeof(signer));
    memset(&target, 0, sizeof(target));
    if ((ra = cmp_auth_ra(rq, err)) < 0)
        goto done;
    if (ra && !rq->ra->may_revoke) {
        cmpca_err_set(err, FI_NOT_AUTHORIZED, "RA %s may not revoke",
                      rq->ra->name);
        goto done;
    }
    if ((!ra && cmp_auth_operator(rq, &signer, err) != 0) ||
        cmp_record_fresh(rq, err) != 0 || target_of(rq, &d, &hex, err) != 0 || get_reason(d, &reason, err) != 0)
        goto done;
    rc = store_cert_get(rq->srv->st, hex, &target, err);
    if (rc != 0) {
        if (rc == STORE_NOTFOUND)
            cmpca_err_set(err, FI_BAD_CERT_ID, "no certificate %s", hex);
        rc = -1;
        goto done;
    }
    rc = -1;
    if (ra ? target.vendor == NULL || !cmp_ra_serves(rq->ra, target.vendor)
           : !same_device(&signer, &target)) {
        cmpca_err_set(err, FI_NOT_AUTHORIZED,
                      "only the holder may revoke certificate %s", hex);
        goto done;
    }
    rc = target.revoked_at != 0
             ? STORE_EXISTS
             : store_cert_revoke(rq->srv->st, hex, CERT_REVOKED, reason,
                                 rq->now, err);
    if (rc == STORE_EXISTS)
        cmpca_err_set(err, FI_CERT_REVOKED, "certificate %s already revoked",
                      hex);
    if (rc != 0) {
        rc = -1;
        goto done;
    }
    log_info("rr: certificate %s revoked (reason %d)%s%s", hex, reason,
             ra ? " by RA " : "", ra ? rq->ra->name : "");
    cmp_audit(rq, "revoked", hex, NULL);
    cmp_publish_crl(rq->srv);
    rc = 0;
done:
    store_cert_clear(&signer);
    store_cert_clear(&target);
    free(hex);
    return rc;
}

CMPCA_PKIMESSAGE *cmp_handle_rr(struct cmp_req *rq)
{
    struct cmpca_err err = CMPCA_ERR_INIT;

    if (revoke(rq, &err) != 0) {
        cmp_rejected(rq, &err);
        return rp_new(rq, &err);
    }
    return rp_new(rq, NULL);
}
