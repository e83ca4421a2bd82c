/*
 * certreq.c: initial enrollment (ir -> ip), the 3GPP TS 33.310 9.5.4 flow.
 * Order matters: everything that can reject (vendor chain, registry, the
 * template, the POP) runs before the CA signs anything, and the certificate
 * and its transaction are committed to the store together before the ip is
 * built, so a device never holds a certificate the store does not know.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "ca/ca.h"
#include "cmp/cmp_local.h"
#include "util/log.h"

#define ISSUE_ATTEMPTS 3 /* serial collisions at 127 bits: never, in practice */

static int get_single_crm(const struct cmp_req *rq, CMPCA_CERT_REQ_MSG **out,
                          struct cmpca_err *err)
{
    STACK_OF(CMPCA_CERT_REQ_MSG) *msgs = rq->msg->body->value.ir;

    *out = NULL;
    if (sk_CMPCA_CERT_REQ_MSG_num(msgs) != 1)
        return cmpca_err_set(err, FI_BAD_REQUEST,
                             "exactly one CertReqMsg is required, got %d",
                             sk_CMPCA_CERT_REQ_MSG_num(msgs));
    *out = sk_CMPCA_CERT_REQ_MSG_value(msgs, 0);
    return 0;
}

static int check_template(const CMPCA_CERT_TEMPLATE *t, EVP_PKEY **out_key,
                          struct cmpca_err *err)
{
    BASIC_CONSTRAINTS *bc;
    int crit = 0;

    *out_key = NULL;
    if (t->publicKey == NULL)
        return cmpca_err_set(err, FI_BAD_CERT_TEMPLATE,
                             "template has no publicKey");
    if ((*out_key = X509_PUBKEY_get(t->publicKey)) == NULL)
        return cmpca_err_ossl(err, FI_BAD_CERT_TEMPLATE,
                              "template publicKey unusable");
    if (policy_check_public_key(*out_key, err) != 0)
        return -1;
    bc = X509V3_get_d2i(t->extensions, NID_basic_constraints, &crit, NULL);
    if (bc == NULL && crit == -2)
        return cmpca_err_set(err, FI_BAD_CERT_TEMPLATE,
                             "duplicate basicConstraints in template");
    if (bc != NULL && bc->ca) {
        BASIC_CONSTRAINTS_free(bc);
        return cmpca_err_set(err, FI_BAD_CERT_TEMPLATE,
                             "a CA certificate cannot be requested");
    }
    BASIC_CONSTRAINTS_free(bc);
    ERR_clear_error();
    return 0;
}

static int verify_pop(const CMPCA_CERT_REQ_MSG *crm, EVP_PKEY *key,
                      struct cmpca_err *err)
{
    const CMPCA_POPO *popo = crm->popo;
    const CMPCA_POPOSIGNINGKEY *sk;
    int ok;

    if (popo == NULL)
        return cmpca_err_set(err, FI_BAD_POP, "no proof of possession");
    if (popo->type == CMPCA_POPO_RAVERIFIED)
        return cmpca_err_set(err, FI_NOT_AUTHORIZED,
                             "raVerified is accepted only from an "
                             "authorized RA");
    if (popo->type != CMPCA_POPO_SIGNATURE)
        return cmpca_err_set(err, FI_BAD_POP,
                             "only signature proof of possession is "
                             "supported");
    sk = popo->value.signature;
    if (policy_check_sig_alg(sk->algorithmIdentifier, err) != 0)
        return -1;
    if (sk->poposkInput != NULL) {
        /* RFC 4211 4.1: the signature covers poposkInput, whose key must
         * be the one being certified */
        if (X509_PUBKEY_eq(sk->poposkInput->publicKey,
                           crm->certReq->certTemplate->publicKey) != 1)
            return cmpca_err_set(err, FI_BAD_POP,
                                 "poposkInput names another key");
        ok = ASN1_item_verify(ASN1_ITEM_rptr(CMPCA_POPOSK_INPUT),
                              sk->algorithmIdentifier, sk->signature,
                              sk->poposkInput, key);
    } else {
        ok = ASN1_item_verify(ASN1_ITEM_rptr(CMPCA_CERT_REQUEST),
                              sk->algorithmIdentifier, sk->signature,
                              crm->certReq, key);
    }
    ERR_clear_error();
    if (ok <= 0)
        return cmpca_err_set(err, FI_BAD_POP,
                             "POP signature does not verify with the "
                             "requested key");
    return 0;
}

static time_t time_of(const ASN1_TIME *t)
{
    ASN1_TIME *epoch = ASN1_TIME_set(NULL, 0);
    int days = 0, secs = 0;

    if (epoch == NULL || !ASN1_TIME_diff(&days, &secs, epoch, t))
        days = secs = 0;
    ASN1_TIME_free(epoch);
    return (time_t)days * 86400 + secs;
}

/* Fills the store rows for `cert` issued in this request. Strings and DER in
 * the rows are new (freed by rows_clear) or borrowed from rq. */
static int rows_for(const struct cmp_req *rq, X509 *cert, long cert_req_id,
                    struct store_cert *c, struct store_txn *t)
{
    const CMPCA_PKIHEADER *h = rq->msg->header;
    unsigned char *der = NULL, *sender = NULL, *signer = NULL;
    int der_len, sender_len, signer_len;

    memset(c, 0, sizeof(*c));
    memset(t, 0, sizeof(*t));
    der_len = i2d_X509(cert, &der);
    sender_len = i2d_GENERAL_NAME(h->sender, &sender);
    signer_len = i2d_X509(rq->signer, &signer);
    c->der = der;
    t->sender = sender;
    t->auth_id = signer; /* the protecting certificate itself, pinned */
    c->serial_hex = ca_serial_hex(X509_get0_serialNumber(cert));
    c->subject = cmp_name_text(X509_get_subject_name(cert));
    c->issuer = cmp_name_text(X509_get_issuer_name(cert));
    if (der_len <= 0 || sender_len <= 0 || signer_len <= 0 ||
        c->serial_hex == NULL || c->subject == NULL || c->issuer == NULL)
        return -1;
    c->der_len = (size_t)der_len;
    c->not_before = time_of(X509_get0_notBefore(cert));
    c->not_after = time_of(X509_get0_notAfter(cert));
    c->vendor = (char *)rq->dev.vendor;
    c->device = (char *)rq->dev.serial;
    c->status = rq->implicit_confirm ? CERT_CONFIRMED : CERT_ISSUED;
    c->created = rq->now;
    t->tid = (uint8_t *)ASN1_STRING_get0_data(h->transactionID);
    t->tid_len = (size_t)ASN1_STRING_length(h->transactionID);
    t->state = rq->implicit_confirm ? TXN_DONE : TXN_WAIT_CONF;
    t->body_type = rq->body_type;
    t->sender_len = (size_t)sender_len;
    t->auth_id_len = (size_t)signer_len;
    t->last_nonce = (uint8_t *)rq->nonce;
    t->last_nonce_len = sizeof(rq->nonce);
    t->cert_serial = c->serial_hex;
    t->cert_req_id = cert_req_id;
    t->pvno = rq->pvno;
    t->expires = rq->now + rq->srv->cfg->txn_expiry;
    return 0;
}

static void rows_clear(struct store_cert *c, struct store_txn *t)
{
    OPENSSL_free(c->der);
    free(c->serial_hex); /* ca_serial_hex uses malloc */
    OPENSSL_free(c->subject);
    OPENSSL_free(c->issuer);
    OPENSSL_free(t->sender);
    OPENSSL_free(t->auth_id);
}

/* Signs and records the certificate; retries on a serial collision. */
static int issue_and_store(struct cmp_req *rq, const struct ca_issue_req *ir,
                           long cert_req_id, X509 **out,
                           struct cmpca_err *err)
{
    struct store_cert c;
    struct store_txn t;
    X509 *cert = NULL;
    int attempt, rc = -1, in_use = 0;

    *out = NULL;
    for (attempt = 0; attempt < ISSUE_ATTEMPTS; attempt++) {
        if (ca_issue(rq->srv->ca, ir, &cert, err) != 0)
            return -1;
        if (rows_for(rq, cert, cert_req_id, &c, &t) != 0) {
            rows_clear(&c, &t);
            X509_free(cert);
            return cmpca_err_ossl(err, FI_SYSTEM_FAILURE,
                                  "cannot encode certificate");
        }
        rc = store_issue(rq->srv->st, &c, &t, &in_use, err);
        rows_clear(&c, &t);
        if (rc == 0) {
            *out = cert;
            return 0;
        }
        X509_free(cert);
        cert = NULL;
        if (rc != STORE_EXISTS)
            return -1;
        if (in_use)
            return cmpca_err_set(err, FI_TRANSACTION_ID_IN_USE,
                                 "transactionID is in use");
        log_warn("serial collision, drawing a new serial");
    }
    return cmpca_err_set(err, FI_SYSTEM_FAILURE, "no free serial number");
}

/* SPEC check 3: a first message may not reuse an open transaction. Checked
 * early for a precise answer; store_issue checks again atomically. */
static int check_tid_free(struct cmp_req *rq, struct cmpca_err *err)
{
    const ASN1_OCTET_STRING *tid = rq->msg->header->transactionID;
    struct store_txn t;
    int rc, open;

    memset(&t, 0, sizeof(t));
    rc = store_txn_get(rq->srv->st, ASN1_STRING_get0_data(tid),
                       (size_t)ASN1_STRING_length(tid), &t, err);
    if (rc == STORE_NOTFOUND)
        return 0;
    if (rc != 0)
        return -1;
    open = t.state == TXN_WAIT_CONF;
    store_txn_clear(&t);
    if (open)
        return cmpca_err_set(err, FI_TRANSACTION_ID_IN_USE,
                             "transactionID belongs to an open transaction");
    return 0;
}

/* The checks and the issuance; on success *out_cert and *out_status. */
static int enroll(struct cmp_req *rq, const CMPCA_CERT_REQ_MSG *crm,
                  X509 **out_cert, int *out_status, struct cmpca_err *err)
{
    const struct cmpca_config *cfg = rq->srv->cfg;
    const CMPCA_CERT_TEMPLATE *tmpl = crm->certReq->certTemplate;
    struct ca_issue_req ir;
    EVP_PKEY *key = NULL;
    X509_NAME *subject = NULL;
    int modified = 0, rc = -1;

    if (check_tid_free(rq, err) != 0 ||
        policy_vendor_authenticate(rq->srv->st, rq->signer,
                                   rq->msg->extraCerts, rq->now, &rq->dev,
                                   err) != 0 ||
        policy_device_may_enroll(rq->srv->st, cfg, &rq->dev, err) != 0)
        goto done;
    if (check_template(tmpl, &key, err) != 0 || verify_pop(crm, key, err) != 0)
        goto done;
    if (policy_subject(cfg, &rq->dev, tmpl->subject, &subject, &modified,
                       err) != 0)
        goto done;
    rq->implicit_confirm =
        cfg->implicit_confirm && cmp_header_asks_implicit_confirm(rq);
    memset(&ir, 0, sizeof(ir));
    ir.subject = subject;
    ir.pubkey = key;
    ir.validity_days = cfg->validity_days;
    ir.eku_nids = cfg->eku_nids;
    ir.num_eku = cfg->num_eku;
    if (issue_and_store(rq, &ir, 0, out_cert, err) != 0)
        goto done;
    *out_status = modified ? CMPCA_STATUS_GRANTED_WITH_MODS
                           : CMPCA_STATUS_ACCEPTED;
    if (rq->implicit_confirm &&
        store_device_set_state(rq->srv->st, rq->dev.vendor, rq->dev.serial,
                               DEVICE_ENROLLED, err) != 0)
        log_warn("device %s/%s: state not updated: %s", rq->dev.vendor,
                 rq->dev.serial, err->msg);
    rc = 0;
done:
    EVP_PKEY_free(key);
    X509_NAME_free(subject);
    return rc;
}

CMPCA_PKIMESSAGE *cmp_handle_ir(struct cmp_req *rq)
{
    struct cmpca_err err = CMPCA_ERR_INIT;
    CMPCA_CERT_REQ_MSG *crm = NULL;
    CMPCA_PKIMESSAGE *rsp = NULL;
    STACK_OF(X509) *ca_pubs = NULL;
    X509 *cert = NULL;
    long req_id = -1;
    int status = CMPCA_STATUS_REJECTION;

    if (get_single_crm(rq, &crm, &err) != 0)
        return cmp_error_new(rq, &err);
    req_id = ASN1_INTEGER_get(crm->certReq->certReqId);
    if (req_id != 0) {
        cmpca_err_set(&err, FI_BAD_REQUEST, "certReqId must be 0");
        return cmp_error_new(rq, &err);
    }
    if (enroll(rq, crm, &cert, &status, &err) != 0) {
        log_info("ir rejected (%s): %s", cmpca_failinfo_name(err.failinfo),
                 err.msg);
        rq->implicit_confirm = 0;
        return cmp_certrep_new(rq, CMPCA_BODY_IP, req_id, status, NULL, NULL,
                               &err);
    }
    log_info("ir: issued to %s/%s%s", rq->dev.vendor, rq->dev.serial,
             rq->implicit_confirm ? " (implicitConfirm)" : "");
    /* 3GPP TS 33.310 9.5.4.3: the operator root goes in caPubs */
    if ((ca_pubs = sk_X509_new_null()) != NULL &&
        sk_X509_push(ca_pubs, ca_get0_root(rq->srv->ca)))
        rsp = cmp_certrep_new(rq, CMPCA_BODY_IP, req_id, status, cert, ca_pubs,
                              &err);
    sk_X509_free(ca_pubs);
    X509_free(cert);
    return rsp;
}
