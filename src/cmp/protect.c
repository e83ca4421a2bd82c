/*
 * protect.c: message protection, both ways. Requests: find the protecting
 * certificate by what the header says (sender, senderKID), not by position,
 * since TS 33.310 9.5.2 lets extraCerts come in any order, then verify the
 * signature over ProtectedPart. Responses: sign ProtectedPart with the CA key
 * and send our certificate and its chain up to the operator root.
 */
#include <string.h>

#include <openssl/err.h>
#include <openssl/rand.h>

#include "ca/ca.h"
#include "cmp/cmp_local.h"
#include "util/log.h"

static int verify_with(const struct cmp_req *rq, X509 *cert)
{
    CMPCA_PROTECTED_PART pp;
    EVP_PKEY *pkey = X509_get0_pubkey(cert);
    int ok;

    if (pkey == NULL)
        return 0;
    pp.header = rq->msg->header;
    pp.body = rq->msg->body;
    ok = ASN1_item_verify(ASN1_ITEM_rptr(CMPCA_PROTECTED_PART),
                          rq->msg->header->protectionAlg,
                          rq->msg->protection, &pp, pkey);
    ERR_clear_error();
    return ok > 0;
}

/* Does `cert` claim to be the sender the header names? */
static int names_sender(const struct cmp_req *rq, X509 *cert)
{
    const CMPCA_PKIHEADER *h = rq->msg->header;
    const ASN1_OCTET_STRING *skid;

    if (h->sender->type != GEN_DIRNAME ||
        X509_NAME_cmp(h->sender->d.directoryName,
                      X509_get_subject_name(cert)) != 0)
        return 0;
    if (h->senderKID != NULL) {
        skid = X509_get0_subject_key_id(cert);
        if (skid == NULL || ASN1_OCTET_STRING_cmp(skid, h->senderKID) != 0)
            return 0;
    }
    return 1;
}

int cmp_verify_signature(struct cmp_req *rq, X509 *pinned,
                         struct cmpca_err *err)
{
    STACK_OF(X509) *extra = rq->msg->extraCerts;
    int i, n = extra != NULL ? sk_X509_num(extra) : 0, named = 0;

    if (policy_check_sig_alg(rq->msg->header->protectionAlg, err) != 0)
        return -1;
    if (n > CMP_MAX_EXTRACERTS)
        return cmpca_err_set(err, FI_BAD_REQUEST, "more than %d extraCerts",
                             CMP_MAX_EXTRACERTS);
    if (rq->msg->header->sender->type != GEN_DIRNAME)
        return cmpca_err_set(err, FI_BAD_MESSAGE_CHECK,
                             "sender must be a directoryName");
    for (i = 0; i < n; i++) {
        X509 *c = sk_X509_value(extra, i);

        if (!names_sender(rq, c))
            continue;
        named = 1;
        if (verify_with(rq, c)) {
            rq->signer = c;
            rq->authenticated = 1;
            return 0;
        }
    }
    if (n == 0 && pinned != NULL && names_sender(rq, pinned)) {
        named = 1;
        if (verify_with(rq, pinned)) {
            rq->signer = pinned;
            rq->authenticated = 1;
            return 0;
        }
    }
    if (!named)
        return cmpca_err_set(err, FI_BAD_MESSAGE_CHECK,
                             "no certificate in extraCerts matches the "
                             "sender%s",
                             rq->msg->header->senderKID ? " and senderKID"
                                                        : "");
    return cmpca_err_set(err, FI_BAD_MESSAGE_CHECK,
                         "signature protection does not verify");
}

int cmp_protect(const struct cmp_req *rq, CMPCA_PKIMESSAGE *rsp)
{
    const struct ca *ca = rq->srv->ca;
    STACK_OF(X509) *chain = ca_get0_chain(ca);
    CMPCA_PROTECTED_PART pp;
    int i;

    X509_ALGOR_free(rsp->header->protectionAlg);
    if ((rsp->header->protectionAlg = X509_ALGOR_new()) == NULL)
        return -1;
    ASN1_BIT_STRING_free(rsp->protection);
    if ((rsp->protection = ASN1_BIT_STRING_new()) == NULL)
        return -1;
    pp.header = rsp->header;
    pp.body = rsp->body;
    /* ASN1_item_sign writes protectionAlg into the header before it encodes
     * the header, so the signature covers the algorithm it names */
    if (ASN1_item_sign(ASN1_ITEM_rptr(CMPCA_PROTECTED_PART),
                       rsp->header->protectionAlg, NULL, rsp->protection, &pp,
                       ca_get0_key(ca), ca_get0_md(ca)) <= 0) {
        log_error("cannot sign response");
        ERR_clear_error();
        return -1;
    }
    if (rsp->extraCerts == NULL &&
        (rsp->extraCerts = sk_X509_new_null()) == NULL)
        return -1;
    for (i = 0; i < sk_X509_num(chain); i++)
        if (!X509_add_cert(rsp->extraCerts, sk_X509_value(chain, i),
                           X509_ADD_FLAG_UP_REF | X509_ADD_FLAG_NO_DUP))
            return -1;
    return 0;
}

int cmp_protection_is_mac(const CMPCA_PKIMESSAGE *msg)
{
    const ASN1_OBJECT *obj = NULL;
    int nid;

    if (msg->header->protectionAlg == NULL)
        return 0;
    X509_ALGOR_get0(&obj, NULL, NULL, msg->header->protectionAlg);
    nid = OBJ_obj2nid(obj);
    return nid == NID_id_PasswordBasedMAC || nid == NID_pbmac1 ||
           nid == NID_id_DHBasedMac;
}

int cmp_verify_pinned(struct cmp_req *rq, const struct store_txn *t,
                      X509 **pinned, struct cmpca_err *err)
{
    const unsigned char *p = t->auth_id;
    unsigned char *der = NULL;
    int len, same;

    *pinned = NULL;
    if (t->auth_id_len >= CMP_MAC_AUTH_PREFIX_LEN && p != NULL &&
        memcmp(p, CMP_MAC_AUTH_PREFIX, CMP_MAC_AUTH_PREFIX_LEN) == 0) {
        if (!cmp_protection_is_mac(rq->msg))
            return cmpca_err_set(err, FI_NOT_AUTHORIZED,
                                 "the transaction is MAC-protected");
        return cmp_auth_mac(rq, p + CMP_MAC_AUTH_PREFIX_LEN,
                            t->auth_id_len - CMP_MAC_AUTH_PREFIX_LEN, err);
    }
    if (cmp_protection_is_mac(rq->msg))
        return cmpca_err_set(err, FI_NOT_AUTHORIZED,
                             "the transaction is signature-protected");
    if (p == NULL || (*pinned = d2i_X509(NULL, &p, (long)t->auth_id_len)) ==
                         NULL)
        return cmpca_err_ossl(err, FI_SYSTEM_FAILURE, "transaction damaged");
    if (cmp_verify_signature(rq, *pinned, err) != 0)
        return -1;
    len = i2d_X509(rq->signer, &der);
    same = len > 0 && (size_t)len == t->auth_id_len &&
           memcmp(der, t->auth_id, t->auth_id_len) == 0;
    OPENSSL_free(der);
    if (!same)
        return cmpca_err_set(err, FI_NOT_AUTHORIZED,
                             "protected with another credential than the "
                             "request that opened the transaction");
    return 0;
}

int cmp_protect_rsp(const struct cmp_req *rq, CMPCA_PKIMESSAGE *rsp)
{
    const ASN1_OCTET_STRING *kid = rq->msg->header->senderKID;
    STACK_OF(X509) *chain = ca_get0_chain(rq->srv->ca);

    if (rq->mac_secret == NULL)
        return cmp_protect(rq, rsp);
    /* the same secret answers, named by the same senderKID (RFC 9483
     * 3.1); extraCerts still carry our chain for the new certificate */
    ASN1_OCTET_STRING_free(rsp->header->senderKID);
    if ((rsp->header->senderKID = ASN1_OCTET_STRING_dup(kid)) == NULL)
        return -1;
    if (rsp->extraCerts == NULL &&
        (rsp->extraCerts = sk_X509_new_null()) == NULL)
        return -1;
    for (int i = 0; i < sk_X509_num(chain); i++)
        if (!X509_add_cert(rsp->extraCerts, sk_X509_value(chain, i),
                           X509_ADD_FLAG_UP_REF | X509_ADD_FLAG_NO_DUP))
            return -1;
    return cmp_mac_protect(rsp, rq->msg->header->protectionAlg,
                           rq->mac_secret, rq->mac_secret_len);
}
