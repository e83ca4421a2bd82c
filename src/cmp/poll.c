/*
 * poll.c: the rest of a transaction. pollReq (RFC 9483 4.4) asks about a
 * request held for an operator: the answer is pollRep with checkAfter until
 * the operator decides, then the ip/cp/kup itself. An error message from the
 * client (RFC 9483 4.6) aborts the transaction: a certificate it was about to
 * confirm is revoked, and the client gets pkiConf.
 */
#include <string.h>

#include "cmp/cmp_local.h"
#include "util/log.h"

static CMPCA_PKIMESSAGE *pollrep_new(struct cmp_req *rq, long req_id)
{
    CMPCA_PKIMESSAGE *rsp = cmp_rsp_new(rq, CMPCA_BODY_POLLREP);
    CMPCA_POLL_REP *pr = NULL;
    ASN1_UTF8STRING *why = NULL;

    if (rsp == NULL)
        return NULL;
    if ((rsp->body->value.pollRep = sk_CMPCA_POLL_REP_new_null()) == NULL ||
        (pr = CMPCA_POLL_REP_new()) == NULL ||
        !ASN1_INTEGER_set(pr->certReqId, req_id) ||
        !ASN1_INTEGER_set(pr->checkAfter, rq->srv->cfg->poll_interval) ||
        (pr->reason = sk_ASN1_UTF8STRING_new_null()) == NULL ||
        (why = ASN1_UTF8STRING_new()) == NULL ||
        !ASN1_STRING_set(why, "waiting for an operator to approve", -1) ||
        !sk_ASN1_UTF8STRING_push(pr->reason, why))
        goto err;
    why = NULL;
    if (!sk_CMPCA_POLL_REP_push(rsp->body->value.pollRep, pr))
        goto err;
    return rsp;
err:
    ASN1_UTF8STRING_free(why);
    CMPCA_POLL_REP_free(pr);
    CMPCA_PKIMESSAGE_free(rsp);
    return NULL;
}

static int check_pollreq(const struct cmp_req *rq, const struct store_txn *t,
                         struct cmpca_err *err)
{
    STACK_OF(CMPCA_POLL_REQ) *list = rq->msg->body->value.pollReq;

    if (t->state != TXN_WAITING)
        return cmpca_err_set(err, FI_BAD_REQUEST,
                             "no request of this transaction is waiting");
    if (sk_CMPCA_POLL_REQ_num(list) != 1 ||
        ASN1_INTEGER_get(sk_CMPCA_POLL_REQ_value(list, 0)->certReqId) !=
            t->cert_req_id)
        return cmpca_err_set(err, FI_BAD_REQUEST,
                             "pollReq must name the certReqId of the request");
    return 0;
}

CMPCA_PKIMESSAGE *cmp_handle_pollreq(struct cmp_req *rq)
{
    struct cmpca_err err = CMPCA_ERR_INIT;
    struct store_txn t;
    X509 *pinned = NULL;
    CMPCA_PKIMESSAGE *stored = NULL, *rsp = NULL;
    int outcome = CMP_RELEASE_WAITING, rc;

    if (cmp_followup_load(rq, &t, &pinned, &err) != 0 ||
        check_pollreq(rq, &t, &err) != 0)
        goto fail;
    if ((stored = cmp_asn1_decode_msg(t.request, t.request_len)) == NULL) {
        cmpca_err_set(&err, FI_SYSTEM_FAILURE, "held request damaged");
        goto fail;
    }
    rsp = cmp_certreq_release(rq, stored, &outcome);
    if (outcome == CMP_RELEASE_ISSUED)
        goto done; /* store_issue replaced the transaction */
    rc = store_txn_update(rq->srv->st, t.tid, t.tid_len,
                          outcome == CMP_RELEASE_WAITING ? TXN_WAITING
                                                         : TXN_DONE,
                          rq->nonce, sizeof(rq->nonce), &err);
    if (rc != 0)
        log_warn("pollReq: transaction not updated: %s", err.msg);
    if (outcome == CMP_RELEASE_WAITING)
        rsp = pollrep_new(rq, t.cert_req_id);
    goto done;
fail:
    cmp_rejected(rq, &err);
    rsp = cmp_error_new(rq, &err);
done:
    CMPCA_PKIMESSAGE_free(stored);
    X509_free(pinned);
    store_txn_clear(&t);
    return rsp;
}

static void log_client_error(const struct cmp_req *rq)
{
    const CMPCA_ERROR_MSG_CONTENT *e = rq->msg->body->value.error;
    const STACK_OF(ASN1_UTF8STRING) *text = e->pKIStatusInfo->statusString;
    const ASN1_UTF8STRING *first = sk_ASN1_UTF8STRING_value(text, 0);

    log_info("client aborted the transaction: status %ld%s%.*s",
             ASN1_INTEGER_get(e->pKIStatusInfo->status),
             first != NULL ? ": " : "",
             first != NULL ? ASN1_STRING_length(first) : 0,
             first != NULL ? (const char *)ASN1_STRING_get0_data(first) : "");
}

CMPCA_PKIMESSAGE *cmp_handle_client_error(struct cmp_req *rq)
{
    struct cmpca_err err = CMPCA_ERR_INIT;
    struct store_txn t;
    X509 *pinned = NULL;
    CMPCA_PKIMESSAGE *rsp = NULL;
    int rc = 0;

    if (cmp_followup_load(rq, &t, &pinned, &err) != 0) {
        cmp_rejected(rq, &err);
        rsp = cmp_error_new(rq, &err);
        goto done;
    }
    log_client_error(rq);
    cmp_audit(rq, "aborted by the client", t.cert_serial, NULL);
    if (t.state == TXN_WAIT_CONF) {
        rc = store_txn_finish(rq->srv->st, t.tid, t.tid_len, t.cert_serial,
                              CERT_REJECTED, &err);
        if (rc == 0)
            cmp_unconfirmed(rq->srv, t.cert_serial, CERT_REJECTED);
    } else if (t.state == TXN_WAITING) {
        rc = store_txn_update(rq->srv->st, t.tid, t.tid_len, TXN_DONE, NULL,
                              0, &err);
    }
    if (rc != 0 && rc != STORE_NOTFOUND)
        log_warn("error message: transaction not closed: %s", err.msg);
    rsp = cmp_pkiconf_new(rq);
done:
    X509_free(pinned);
    store_txn_clear(&t);
    return rsp;
}
