/*
 * followup.c: messages that continue a transaction (certConf, pollReq,
 * error). They must name an existing transaction, be protected with the
 * credential pinned when it opened, come from the same sender, carry a fresh
 * senderNonce and echo the senderNonce of our last answer (RFC 9810 5.1.1).
 * One place for those rules, so no follow-up can skip one.
 */
#include <string.h>

#include "cmp/cmp_local.h"

int cmp_followup_load(struct cmp_req *rq, struct store_txn *t, X509 **pinned,
                      struct cmpca_err *err)
{
    const CMPCA_PKIHEADER *h = rq->msg->header;
    unsigned char *sender = NULL;
    int rc, len, same;

    memset(t, 0, sizeof(*t));
    *pinned = NULL;
    rc = store_txn_get(rq->srv->st, ASN1_STRING_get0_data(h->transactionID),
                       (size_t)ASN1_STRING_length(h->transactionID), t, err);
    if (rc == STORE_NOTFOUND)
        return cmpca_err_set(err, FI_BAD_REQUEST, "unknown transactionID");
    if (rc != 0)
        return -1;
    if (cmp_verify_pinned(rq, t, pinned, err) != 0 ||
        cmp_check_nonce_fresh(rq, err) != 0)
        return -1;
    len = i2d_GENERAL_NAME(h->sender, &sender);
    same = len > 0 && (size_t)len == t->sender_len &&
           memcmp(sender, t->sender, t->sender_len) == 0;
    OPENSSL_free(sender);
    if (!same)
        return cmpca_err_set(err, FI_NOT_AUTHORIZED,
                             "%s from another sender than the request",
                             cmp_asn1_body_name(rq->body_type));
    if (!cmp_octets_eq(h->recipNonce, t->last_nonce, t->last_nonce_len))
        return cmpca_err_set(err, FI_BAD_RECIPIENT_NONCE,
                             "recipNonce does not match our senderNonce");
    return 0;
}
