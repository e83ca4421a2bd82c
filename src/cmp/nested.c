/*
 * nested.c: an RA's nested message (RFC 9483 5.2.2): one request with the
 * RA's added protection, or a batch of requests. The outer message must be
 * signed by a registered RA; each inner message is then answered exactly as
 * if it had arrived alone (its own protection, checks and transaction), and
 * the answers travel back in one nested message in the same order. One bad
 * request is answered with its own rejection; it never fails the batch.
 */
#include <openssl/rand.h>

#include "cmp/cmp_local.h"
#include "util/log.h"

#define CMP_MAX_NESTED 64 /* requests in one batch */

static CMPCA_PKIMESSAGE *inner_answer(struct cmp_req *rq,
                                      const CMPCA_PKIMESSAGE *inner)
{
    struct cmpca_err err = CMPCA_ERR_INIT;
    struct cmp_req sub = *rq;
    CMPCA_PKIMESSAGE *rsp;

    if (inner->body->type != CMPCA_BODY_NESTED)
        return cmp_answer(rq->srv, inner, rq->profile, NULL);
    /* one level only: refused in the inner message's own name */
    sub.msg = inner;
    sub.body_type = inner->body->type;
    sub.ra = NULL;
    if (RAND_bytes(sub.nonce, sizeof(sub.nonce)) <= 0)
        return NULL;
    cmpca_err_set(&err, FI_BAD_REQUEST, "nested message inside a nested one");
    if ((rsp = cmp_error_new(&sub, &err)) != NULL &&
        cmp_protect(&sub, rsp) != 0) {
        CMPCA_PKIMESSAGE_free(rsp);
        rsp = NULL;
    }
    return rsp;
}

CMPCA_PKIMESSAGE *cmp_handle_nested(struct cmp_req *rq)
{
    struct cmpca_err err = CMPCA_ERR_INIT;
    STACK_OF(CMPCA_PKIMESSAGE) *in = rq->msg->body->value.nested, *out = NULL;
    CMPCA_PKIMESSAGE *rsp = NULL, *one;
    int i, n = sk_CMPCA_PKIMESSAGE_num(in), ra;

    if ((ra = cmp_auth_ra(rq, &err)) <= 0) {
        if (ra == 0)
            cmpca_err_set(&err, FI_NOT_AUTHORIZED,
                          "nested messages are accepted from registered "
                          "RAs only");
        goto reject;
    }
    if (cmp_record_fresh(rq, &err) != 0)
        goto reject;
    if (n < 1 || n > CMP_MAX_NESTED) {
        cmpca_err_set(&err, FI_BAD_REQUEST,
                      "a nested message holds 1 to %d messages, not %d",
                      CMP_MAX_NESTED, n);
        goto reject;
    }
    log_info("nested: %d message(s) from RA %s", n, rq->ra->name);
    if ((rsp = cmp_rsp_new(rq, CMPCA_BODY_NESTED)) == NULL ||
        (out = sk_CMPCA_PKIMESSAGE_new_reserve(NULL, n)) == NULL)
        goto fail;
    rsp->body->value.nested = out;
    for (i = 0; i < n; i++) {
        if ((one = inner_answer(rq, sk_CMPCA_PKIMESSAGE_value(in, i))) ==
                NULL ||
            !sk_CMPCA_PKIMESSAGE_push(out, one)) {
            CMPCA_PKIMESSAGE_free(one);
            goto fail;
        }
    }
    return rsp;
reject:
    cmp_rejected(rq, &err);
    return cmp_error_new(rq, &err);
fail:
    CMPCA_PKIMESSAGE_free(rsp);
    return NULL;
}
