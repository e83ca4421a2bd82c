/*
 * audit.c: the protocol's entries in the audit log (docs/audit.md). Every
 * decision on a request is recorded with who asked (the RA, the device, or
 * the certificate or secret that signed, as far as it was established when
 * the decision fell), what it was, and why it was refused. A failure to
 * write the log is logged, never turned into a failed request: the
 * certificate row itself is the record of an issuance. Refusals of requests
 * whose signer was never trusted go to the server log only.
 */
#include <stdio.h>
#include <string.h>

#include "cmp/cmp_local.h"
#include "util/log.h"

static void actor_of(const struct cmp_req *rq, char *buf, size_t cap)
{
    char *subject = NULL;

    if (rq->ra != NULL) {
        snprintf(buf, cap, "ra %s", rq->ra->name);
    } else if (rq->dev.vendor[0] != '\0') {
        snprintf(buf, cap, "device %s/%s%s", rq->dev.vendor, rq->dev.serial,
                 rq->mac_secret != NULL ? " (shared secret)" : "");
    } else if (rq->signer != NULL &&
               (subject = cmp_name_text(
                    X509_get_subject_name(rq->signer))) != NULL) {
        snprintf(buf, cap, "signer %s", subject);
    } else {
        snprintf(buf, cap, "unauthenticated");
    }
    OPENSSL_free(subject);
}

void cmp_audit(const struct cmp_req *rq, const char *outcome,
               const char *serial, const struct cmpca_err *why)
{
    struct cmpca_err err = CMPCA_ERR_INIT;
    struct store_audit e;
    char actor[POLICY_NAME_MAX + POLICY_SERIAL_MAX + 64];
    char detail[CMPCA_ERR_MSG_LEN + 32];

    actor_of(rq, actor, sizeof(actor));
    memset(&e, 0, sizeof(e));
    e.at = rq->now;
    e.actor = actor;
    e.action = (char *)cmp_asn1_body_name(rq->body_type);
    e.outcome = (char *)outcome;
    e.vendor = rq->dev.vendor[0] != '\0' ? (char *)rq->dev.vendor : NULL;
    e.device = rq->dev.serial[0] != '\0' ? (char *)rq->dev.serial : NULL;
    e.serial = (char *)serial;
    if (why != NULL) {
        snprintf(detail, sizeof(detail), "%s: %s",
                 cmpca_failinfo_name(why->failinfo), why->msg);
        e.detail = detail;
    }
    if (store_audit_append(rq->srv->st, &e, &err) != 0)
        log_error("audit log not written (%s %s): %s", e.action, outcome,
                  err.msg);
}

void cmp_audit_server(struct cmp_srv *srv, const char *action,
                      const char *outcome, const char *serial,
                      const char *detail)
{
    struct cmpca_err err = CMPCA_ERR_INIT;
    struct store_audit e;

    memset(&e, 0, sizeof(e));
    e.actor = (char *)"server";
    e.action = (char *)action;
    e.outcome = (char *)outcome;
    e.serial = (char *)serial;
    e.detail = (char *)detail;
    if (store_audit_append(srv->st, &e, &err) != 0)
        log_error("audit log not written (%s %s): %s", action, outcome,
                  err.msg);
}

void cmp_rejected(const struct cmp_req *rq, const struct cmpca_err *why)
{
    log_info("%s rejected (%s): %s", cmp_asn1_body_name(rq->body_type),
             cmpca_failinfo_name(why->failinfo), why->msg);
    /* a request nobody trusted is logged, not audited: otherwise anyone
     * could grow the audit log (and cost a durable write) per request */
    if (rq->ra != NULL || rq->dev.vendor[0] != '\0')
        cmp_audit(rq, "rejected", NULL, why);
}
