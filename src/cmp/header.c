/*
 * header.c: the checks every request header goes through before its body is
 * looked at (SPEC.md "Checks on every request", 2 to 6), and replay
 * protection. Cheap checks first: nothing here touches a key, and only
 * cmp_check_nonce_fresh touches the store, after the protection verified,
 * so unauthenticated traffic cannot fill the nonce table.
 */
#include <string.h>

#include <openssl/objects.h>

#include "cmp/cmp_local.h"

int cmp_octets_eq(const ASN1_OCTET_STRING *a, const uint8_t *b, size_t len)
{
    return a != NULL && (size_t)ASN1_STRING_length(a) == len &&
           memcmp(ASN1_STRING_get0_data(a), b, len) == 0;
}

static int check_octets(const ASN1_OCTET_STRING *s, int min, int max,
                        int failinfo, const char *what,
                        struct cmpca_err *err)
{
    if (s == NULL)
        return cmpca_err_set(err, failinfo, "%s missing", what);
    if (ASN1_STRING_length(s) < min || ASN1_STRING_length(s) > max)
        return cmpca_err_set(err, failinfo, "%s must be %d to %d octets",
                             what, min, max);
    return 0;
}

static int check_time(const struct cmp_req *rq, struct cmpca_err *err)
{
    const ASN1_GENERALIZEDTIME *t = rq->msg->header->messageTime;
    int days = 0, secs = 0;
    long long diff;
    ASN1_TIME *now = NULL;

    if (t == NULL)
        return 0;
    if ((now = ASN1_TIME_set(NULL, rq->now)) == NULL)
        return cmpca_err_ossl(err, FI_SYSTEM_FAILURE, "time");
    if (!ASN1_TIME_diff(&days, &secs, now, t)) {
        ASN1_TIME_free(now);
        return cmpca_err_ossl(err, FI_BAD_TIME, "messageTime unreadable");
    }
    ASN1_TIME_free(now);
    diff = (long long)days * 86400 + secs;
    if (diff > rq->srv->cfg->time_skew || -diff > rq->srv->cfg->time_skew)
        return cmpca_err_set(err, FI_BAD_TIME,
                             "messageTime is %lld s off (limit %d s)", diff,
                             rq->srv->cfg->time_skew);
    return 0;
}

/* Is the request the first of its transaction (recipNonce must be absent)? */
static int is_first_message(int body_type)
{
    return body_type != CMPCA_BODY_CERTCONF &&
           body_type != CMPCA_BODY_POLLREQ && body_type != CMPCA_BODY_ERROR;
}

int cmp_check_header(struct cmp_req *rq, struct cmpca_err *err)
{
    const CMPCA_PKIHEADER *h = rq->msg->header;
    long pvno = ASN1_INTEGER_get(h->pvno);

    if (pvno != 2 && pvno != 3)
        return cmpca_err_set(err, FI_UNSUPPORTED_VERSION,
                             "pvno %ld not supported (2 or 3)", pvno);
    rq->pvno = (int)pvno;
    if (h->sender == NULL || h->recipient == NULL)
        return cmpca_err_set(err, FI_BAD_DATA_FORMAT, "sender missing");
    /* RFC 9483 3.5: a missing or short transactionID is badDataFormat */
    if (check_octets(h->transactionID, CMP_MIN_TID_LEN, CMP_MAX_TID_LEN,
                     FI_BAD_DATA_FORMAT, "transactionID", err) != 0)
        return -1;
    if (check_octets(h->senderNonce, CMP_MIN_NONCE_LEN, CMP_MAX_NONCE_LEN,
                     FI_BAD_SENDER_NONCE, "senderNonce", err) != 0)
        return -1;
    if (is_first_message(rq->body_type) && h->recipNonce != NULL)
        return cmpca_err_set(err, FI_BAD_RECIPIENT_NONCE,
                             "recipNonce in the first message of a transaction");
    if (check_time(rq, err) != 0)
        return -1;
    if (h->protectionAlg == NULL || rq->msg->protection == NULL)
        return cmpca_err_set(err, FI_BAD_MESSAGE_CHECK,
                             "message is not protected");
    return 0;
}

int cmp_header_asks_implicit_confirm(const struct cmp_req *rq)
{
    const STACK_OF(CMPCA_ITAV) *gi = rq->msg->header->generalInfo;

    for (int i = 0; i < sk_CMPCA_ITAV_num(gi); i++)
        if (OBJ_cmp(sk_CMPCA_ITAV_value(gi, i)->infoType,
                    rq->srv->oid_implicit_confirm) == 0)
            return 1;
    return 0;
}

int cmp_check_tid_fresh(struct cmp_req *rq, struct cmpca_err *err)
{
    const ASN1_OCTET_STRING *t = rq->msg->header->transactionID;
    int rc;

    rc = store_tid_use(rq->srv->st, ASN1_STRING_get0_data(t),
                       (size_t)ASN1_STRING_length(t),
                       rq->now + rq->srv->cfg->nonce_window, err);
    if (rc == STORE_EXISTS)
        return cmpca_err_set(err, FI_TRANSACTION_ID_IN_USE,
                             "transactionID was used before (a replayed "
                             "request?)");
    return rc == 0 ? 0 : -1;
}

int cmp_record_fresh(struct cmp_req *rq, struct cmpca_err *err)
{
    if (rq->fresh_recorded)
        return 0;
    if (cmp_check_tid_fresh(rq, err) != 0 || cmp_check_nonce_fresh(rq, err) != 0)
        return -1;
    rq->fresh_recorded = 1;
    return 0;
}

int cmp_check_nonce_fresh(struct cmp_req *rq, struct cmpca_err *err)
{
    const ASN1_OCTET_STRING *n = rq->msg->header->senderNonce;
    int rc;

    rc = store_nonce_use(rq->srv->st, ASN1_STRING_get0_data(n),
                         (size_t)ASN1_STRING_length(n),
                         rq->now + rq->srv->cfg->nonce_window, err);
    if (rc == STORE_EXISTS)
        return cmpca_err_set(err, FI_BAD_SENDER_NONCE,
                             "senderNonce was used before (replay)");
    return rc == 0 ? 0 : -1;
}
