/*
 * respond.c: builders for response messages. The header rules of SPEC.md
 * "Responses" live here once: sender is our certificate's subject, recipient
 * the request's sender, transactionID copied, a fresh senderNonce, recipNonce
 * = the request's senderNonce, messageTime now, senderKID = our SKI.
 */
#include <string.h>

#include <openssl/err.h>

#include "ca/ca.h"
#include "cmp/cmp_local.h"

static int set_octets(ASN1_OCTET_STRING **dst, const ASN1_OCTET_STRING *src)
{
    if (src == NULL)
        return 0;
    *dst = ASN1_OCTET_STRING_dup(src);
    return *dst != NULL ? 0 : -1;
}

/* Replaces *gn with a directoryName holding a copy of `name` (NULL: the
 * empty NULL-DN). OpenSSL 3.0 keeps its helper for this private. */
static int set_dirname(GENERAL_NAME **gn, const X509_NAME *name)
{
    GENERAL_NAME *n = GENERAL_NAME_new();

    if (n == NULL)
        return -1;
    n->type = GEN_DIRNAME;
    n->d.directoryName = name != NULL ? X509_NAME_dup(name) : X509_NAME_new();
    if (n->d.directoryName == NULL) {
        GENERAL_NAME_free(n);
        return -1;
    }
    GENERAL_NAME_free(*gn);
    *gn = n;
    return 0;
}

static int fill_header(struct cmp_req *rq, CMPCA_PKIHEADER *h)
{
    const CMPCA_PKIHEADER *rh = rq->msg != NULL ? rq->msg->header : NULL;
    X509 *me = ca_get0_cert(rq->srv->ca);
    const ASN1_OCTET_STRING *skid = ca_get0_skid(rq->srv->ca);
    CMPCA_ITAV *itav = NULL;

    if (!ASN1_INTEGER_set(h->pvno, rq->pvno > 0 ? rq->pvno : 2) ||
        set_dirname(&h->sender, X509_get_subject_name(me)) != 0)
        return -1;
    GENERAL_NAME_free(h->recipient);
    h->recipient = rh != NULL && rh->sender != NULL
                       ? GENERAL_NAME_dup(rh->sender)
                       : NULL;
    if (h->recipient == NULL && set_dirname(&h->recipient, NULL) != 0)
        return -1;
    if ((h->messageTime = ASN1_GENERALIZEDTIME_set(NULL, rq->now)) == NULL)
        return -1;
    if (skid != NULL && (h->senderKID = ASN1_OCTET_STRING_dup(skid)) == NULL)
        return -1;
    if ((h->senderNonce = ASN1_OCTET_STRING_new()) == NULL ||
        !ASN1_OCTET_STRING_set(h->senderNonce, rq->nonce, sizeof(rq->nonce)))
        return -1;
    if (rh != NULL && (set_octets(&h->transactionID, rh->transactionID) != 0 ||
                       set_octets(&h->recipNonce, rh->senderNonce) != 0))
        return -1;
    if (rq->implicit_confirm) {
        if ((h->generalInfo = sk_CMPCA_ITAV_new_null()) == NULL ||
            (itav = CMPCA_ITAV_new()) == NULL)
            return -1;
        ASN1_OBJECT_free(itav->infoType);
        itav->infoType = OBJ_dup(rq->srv->oid_implicit_confirm);
        itav->infoValue = ASN1_TYPE_new();
        if (itav->infoType == NULL || itav->infoValue == NULL ||
            !ASN1_TYPE_set1(itav->infoValue, V_ASN1_NULL, NULL) ||
            !sk_CMPCA_ITAV_push(h->generalInfo, itav)) {
            CMPCA_ITAV_free(itav);
            return -1;
        }
    }
    return 0;
}

CMPCA_PKIMESSAGE *cmp_rsp_new(struct cmp_req *rq, int body_type)
{
    CMPCA_PKIMESSAGE *rsp = CMPCA_PKIMESSAGE_new();

    if (rsp == NULL || fill_header(rq, rsp->header) != 0) {
        CMPCA_PKIMESSAGE_free(rsp);
        ERR_clear_error();
        return NULL;
    }
    rsp->body->type = body_type;
    return rsp;
}

static STACK_OF(ASN1_UTF8STRING) *freetext_new(const char *text)
{
    STACK_OF(ASN1_UTF8STRING) *sk = sk_ASN1_UTF8STRING_new_null();
    ASN1_UTF8STRING *s = ASN1_UTF8STRING_new();

    if (sk == NULL || s == NULL || !ASN1_STRING_set(s, text, -1) ||
        !sk_ASN1_UTF8STRING_push(sk, s)) {
        ASN1_UTF8STRING_free(s);
        sk_ASN1_UTF8STRING_free(sk);
        return NULL;
    }
    return sk;
}

CMPCA_PKISTATUSINFO *cmp_statusinfo_new(int status, int failinfo,
                                        const char *text)
{
    CMPCA_PKISTATUSINFO *si = CMPCA_PKISTATUSINFO_new();

    if (si == NULL || !ASN1_INTEGER_set(si->status, status))
        goto err;
    if (failinfo >= 0 &&
        ((si->failInfo = ASN1_BIT_STRING_new()) == NULL ||
         !ASN1_BIT_STRING_set_bit(si->failInfo, failinfo, 1)))
        goto err;
    if (text != NULL && *text != '\0' &&
        (si->statusString = freetext_new(text)) == NULL)
        goto err;
    return si;
err:
    CMPCA_PKISTATUSINFO_free(si);
    return NULL;
}

CMPCA_PKIMESSAGE *cmp_error_new(struct cmp_req *rq,
                                const struct cmpca_err *err)
{
    CMPCA_PKIMESSAGE *rsp = cmp_rsp_new(rq, CMPCA_BODY_ERROR);
    CMPCA_ERROR_MSG_CONTENT *ec = NULL;

    if (rsp == NULL)
        return NULL;
    if ((ec = CMPCA_ERROR_MSG_CONTENT_new()) == NULL)
        goto err;
    rsp->body->value.error = ec;
    CMPCA_PKISTATUSINFO_free(ec->pKIStatusInfo);
    ec->pKIStatusInfo =
        cmp_statusinfo_new(CMPCA_STATUS_REJECTION, err->failinfo, err->msg);
    if (ec->pKIStatusInfo == NULL)
        goto err;
    return rsp;
err:
    CMPCA_PKIMESSAGE_free(rsp);
    return NULL;
}

static CMPCA_CERT_RESPONSE *cert_response_new(long cert_req_id, int status,
                                              X509 *cert,
                                              const struct cmpca_err *err)
{
    CMPCA_CERT_RESPONSE *cr = CMPCA_CERT_RESPONSE_new();
    CMPCA_CERTIFIED_KEY_PAIR *kp;

    if (cr == NULL || !ASN1_INTEGER_set(cr->certReqId, cert_req_id))
        goto err;
    CMPCA_PKISTATUSINFO_free(cr->status);
    cr->status = cert != NULL || err == NULL
                     ? cmp_statusinfo_new(status, -1, NULL)
                     : cmp_statusinfo_new(CMPCA_STATUS_REJECTION,
                                          err->failinfo, err->msg);
    if (cr->status == NULL)
        goto err;
    if (cert == NULL)
        return cr;
    if ((kp = CMPCA_CERTIFIED_KEY_PAIR_new()) == NULL)
        goto err;
    cr->certifiedKeyPair = kp;
    kp->certOrEncCert->type = CMPCA_CERTORENC_CERTIFICATE;
    if (!X509_up_ref(cert))
        goto err;
    kp->certOrEncCert->value.certificate = cert;
    return cr;
err:
    CMPCA_CERT_RESPONSE_free(cr);
    return NULL;
}

CMPCA_PKIMESSAGE *cmp_certrep_new(struct cmp_req *rq, int body_type,
                                  long cert_req_id, int status, X509 *cert,
                                  STACK_OF(X509) *ca_pubs,
                                  const struct cmpca_err *err)
{
    CMPCA_PKIMESSAGE *rsp = cmp_rsp_new(rq, body_type);
    CMPCA_CERT_REP_MESSAGE *rep = NULL;
    CMPCA_CERT_RESPONSE *cr = NULL;

    if (rsp == NULL)
        return NULL;
    if ((rep = CMPCA_CERT_REP_MESSAGE_new()) == NULL)
        goto err;
    rsp->body->value.ip = rep; /* ip, cp and kup share the union slot type */
    if (cert != NULL && ca_pubs != NULL &&
        (rep->caPubs = X509_chain_up_ref(ca_pubs)) == NULL)
        goto err;
    if ((cr = cert_response_new(cert_req_id, status, cert, err)) == NULL ||
        !sk_CMPCA_CERT_RESPONSE_push(rep->response, cr))
        goto err;
    return rsp;
err:
    CMPCA_CERT_RESPONSE_free(cr);
    CMPCA_PKIMESSAGE_free(rsp);
    ERR_clear_error();
    return NULL;
}

CMPCA_PKIMESSAGE *cmp_pkiconf_new(struct cmp_req *rq)
{
    CMPCA_PKIMESSAGE *rsp = cmp_rsp_new(rq, CMPCA_BODY_PKICONF);

    /* PKIConfirmContent is NULL; OpenSSL represents it by a non-NULL
     * marker that is never dereferenced */
    if (rsp != NULL && (rsp->body->value.pkiconf = ASN1_NULL_new()) == NULL) {
        CMPCA_PKIMESSAGE_free(rsp);
        rsp = NULL;
    }
    return rsp;
}
