/*
 * certconf.c: certConf -> pkiConf. The confirmation must come from the same
 * sender with the same credential as the request that opened the
 * transaction (the protecting certificate is pinned in the transaction), must
 * echo our last senderNonce, and must carry the hash of exactly the
 * certificate we issued. Only then does the certificate become "confirmed"
 * (or "rejected", when the device says so).
 */
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>

#include "cmp/cmp_local.h"
#include "util/log.h"

#define CRL_REASON_UNSPECIFIED 0
#define CRL_REASON_SUPERSEDED  4

/* certHash: over the DER certificate, with hashAlg (pvno 3) or else the
 * digest of the certificate's signature algorithm (RFC 9810 5.3.18). */
static int check_hash(const struct cmp_req *rq, const CMPCA_CERT_STATUS *cs,
                      X509 *cert, struct cmpca_err *err)
{
    ASN1_OCTET_STRING *mine = NULL;
    const ASN1_OBJECT *obj = NULL;
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int md_len = 0;
    const EVP_MD *type;
    int rc;

    if (cs->hashAlg != NULL) {
        if (rq->pvno < 3)
            return cmpca_err_set(err, FI_BAD_REQUEST,
                                 "hashAlg requires pvno 3");
        X509_ALGOR_get0(&obj, NULL, NULL, cs->hashAlg);
        if (policy_check_hash_nid(OBJ_obj2nid(obj), err) != 0)
            return -1;
        if ((type = EVP_get_digestbyobj(obj)) == NULL ||
            !X509_digest(cert, type, md, &md_len))
            return cmpca_err_ossl(err, FI_BAD_ALG, "cannot use hashAlg");
        rc = cmp_octets_eq(cs->certHash, md, md_len);
    } else {
        if ((mine = X509_digest_sig(cert, NULL, NULL)) == NULL)
            return cmpca_err_ossl(err, FI_SYSTEM_FAILURE, "certificate hash");
        rc = ASN1_OCTET_STRING_cmp(mine, cs->certHash) == 0;
        ASN1_OCTET_STRING_free(mine);
    }
    if (!rc)
        return cmpca_err_set(err, FI_BAD_CERT_ID,
                             "certHash does not match the issued certificate");
    return 0;
}

/* Loads the issued certificate, and notes whose it is in rq->dev. */
static int load_cert(struct cmp_req *rq, const char *serial, X509 **out,
                     struct cmpca_err *err)
{
    struct store_cert c;
    const unsigned char *p;

    memset(&c, 0, sizeof(c));
    if (store_cert_get(rq->srv->st, serial, &c, err) != 0)
        return cmpca_err_set(err, FI_SYSTEM_FAILURE,
                             "issued certificate not found");
    p = c.der;
    *out = d2i_X509(NULL, &p, (long)c.der_len);
    if (c.vendor != NULL && c.device != NULL && rq->dev.vendor[0] == '\0') {
        /* the device the certificate is for, for the audit log */
        snprintf(rq->dev.vendor, sizeof(rq->dev.vendor), "%s", c.vendor);
        snprintf(rq->dev.serial, sizeof(rq->dev.serial), "%s", c.device);
    }
    store_cert_clear(&c);
    if (*out == NULL)
        return cmpca_err_ossl(err, FI_SYSTEM_FAILURE, "stored cert damaged");
    return 0;
}

static int confirm(struct cmp_req *rq, const struct store_txn *t,
                   int *accepted, struct cmpca_err *err)
{
    STACK_OF(CMPCA_CERT_STATUS) *list = rq->msg->body->value.certConf;
    const CMPCA_CERT_STATUS *cs;
    X509 *cert = NULL;
    long st;
    int rc = -1;

    if (t->state != TXN_WAIT_CONF)
        return cmpca_err_set(err, FI_CERT_CONFIRMED,
                             t->state == TXN_DONE
                                 ? "certificate already confirmed"
                                 : "nothing to confirm yet");
    if (sk_CMPCA_CERT_STATUS_num(list) != 1)
        return cmpca_err_set(err, FI_BAD_REQUEST,
                             "certConf must hold exactly one CertStatus");
    cs = sk_CMPCA_CERT_STATUS_value(list, 0);
    if (ASN1_INTEGER_get(cs->certReqId) != t->cert_req_id)
        return cmpca_err_set(err, FI_BAD_REQUEST, "wrong certReqId");
    if (load_cert(rq, t->cert_serial, &cert, err) != 0 ||
        check_hash(rq, cs, cert, err) != 0)
        goto done;
    st = cs->statusInfo != NULL ? ASN1_INTEGER_get(cs->statusInfo->status)
                                : CMPCA_STATUS_ACCEPTED;
    *accepted = st == CMPCA_STATUS_ACCEPTED ||
                st == CMPCA_STATUS_GRANTED_WITH_MODS;
    rc = store_txn_finish(rq->srv->st, t->tid, t->tid_len, t->cert_serial,
                          *accepted ? CERT_CONFIRMED : CERT_REJECTED, err);
    if (rc == STORE_NOTFOUND) /* a concurrent certConf won, or it expired */
        cmpca_err_set(err, FI_CERT_CONFIRMED, "transaction no longer open");
    if (rc != 0) {
        rc = -1;
        goto done;
    }
    log_info("certConf: certificate %s %s", t->cert_serial,
             *accepted ? "confirmed" : "rejected by the client");
done:
    X509_free(cert);
    return rc;
}

void cmp_confirmed(struct cmp_srv *srv, const char *serial,
                   const char *old_serial)
{
    struct cmpca_err err = CMPCA_ERR_INIT;
    struct store_cert c;
    int rc;

    memset(&c, 0, sizeof(c));
    if (store_cert_get(srv->st, serial, &c, &err) == 0 && c.vendor != NULL &&
        c.device != NULL &&
        store_device_set_state(srv->st, c.vendor, c.device, DEVICE_ENROLLED,
                               &err) != 0)
        log_warn("device state not updated: %s", err.msg);
    store_cert_clear(&c);
    if (old_serial == NULL)
        return;
    /* kur: the replaced certificate goes once the new one is confirmed */
    rc = store_cert_revoke(srv->st, old_serial, CERT_REVOKED,
                           CRL_REASON_SUPERSEDED, time(NULL), &err);
    if (rc == 0) {
        log_info("certificate %s revoked: superseded by %s", old_serial,
                 serial);
        cmp_publish_crl(srv);
    } else if (rc != STORE_EXISTS) {
        log_error("certificate %s not revoked after kur: %s", old_serial,
                  err.msg);
    }
}

void cmp_unconfirmed(struct cmp_srv *srv, const char *serial, int status)
{
    struct cmpca_err err = CMPCA_ERR_INIT;
    int rc;

    rc = store_cert_revoke(srv->st, serial, status, CRL_REASON_UNSPECIFIED,
                           time(NULL), &err);
    if (rc == 0)
        cmp_publish_crl(srv);
    else if (rc != STORE_EXISTS)
        log_error("certificate %s not revoked: %s", serial, err.msg);
}

CMPCA_PKIMESSAGE *cmp_handle_certconf(struct cmp_req *rq)
{
    struct cmpca_err err = CMPCA_ERR_INIT;
    struct store_txn t;
    X509 *pinned = NULL;
    CMPCA_PKIMESSAGE *rsp = NULL;
    int accepted = 0;

    if (cmp_followup_load(rq, &t, &pinned, &err) != 0 ||
        confirm(rq, &t, &accepted, &err) != 0) {
        cmp_rejected(rq, &err);
        rsp = cmp_error_new(rq, &err);
        goto done;
    }
    cmp_audit(rq, accepted ? "confirmed" : "refused by the client",
              t.cert_serial, NULL);
    if (accepted)
        cmp_confirmed(rq->srv, t.cert_serial, t.old_serial);
    else
        cmp_unconfirmed(rq->srv, t.cert_serial, CERT_REJECTED);
    rsp = cmp_pkiconf_new(rq);
done:
    X509_free(pinned);
    store_txn_clear(&t);
    return rsp;
}
