/*
 * issue.c: from an accepted request to a stored certificate. Decides the
 * certificate's contents under the profile (subject, validity, key usage,
 * extended key usage, CRL distribution point), has the CA sign it, and
 * commits the certificate and its transaction in one store transaction
 * before anything is sent, so a device never holds a certificate the store
 * does not know.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "ca/ca.h"
#include "cmp/cmp_local.h"
#include "util/log.h"

#define ISSUE_ATTEMPTS 3 /* serial collisions at 127 bits: never, in practice */

void cmp_certreq_clear(struct cmp_certreq *cr)
{
    EVP_PKEY_free(cr->key);
    sk_X509_EXTENSION_pop_free(cr->owned_exts, X509_EXTENSION_free);
    free(cr->old_serial);
    X509_free(cr->old_cert);
    memset(cr, 0, sizeof(*cr));
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
 * the rows are new (freed by rows_clear) or borrowed from rq and cr. */
static int rows_for(const struct cmp_req *rq, const struct cmp_certreq *cr,
                    X509 *cert, struct store_cert *c, struct store_txn *t)
{
    const CMPCA_PKIHEADER *h = rq->msg->header;
    unsigned char *der = NULL, *sender = NULL, *signer = NULL;
    int der_len, sender_len, signer_len;

    memset(c, 0, sizeof(*c));
    memset(t, 0, sizeof(*t));
    der_len = i2d_X509(cert, &der);
    sender_len = i2d_GENERAL_NAME(h->sender, &sender);
    signer_len = cmp_auth_id(rq, &signer);
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
    c->vendor = rq->dev.vendor[0] != '\0' ? (char *)rq->dev.vendor : NULL;
    c->device = rq->dev.serial[0] != '\0' ? (char *)rq->dev.serial : NULL;
    c->status = rq->implicit_confirm ? CERT_CONFIRMED : CERT_ISSUED;
    c->created = rq->now;
    c->profile = rq->profile != NULL ? rq->profile->name : NULL;
    c->ra = rq->ra != NULL ? rq->ra->name : NULL; /* who asked, for audit */
    t->tid = (uint8_t *)ASN1_STRING_get0_data(h->transactionID);
    t->tid_len = (size_t)ASN1_STRING_length(h->transactionID);
    t->state = rq->implicit_confirm ? TXN_DONE : TXN_WAIT_CONF;
    t->body_type = rq->body_type;
    t->sender_len = (size_t)sender_len;
    t->auth_id_len = (size_t)signer_len;
    t->last_nonce = (uint8_t *)rq->nonce;
    t->last_nonce_len = sizeof(rq->nonce);
    t->cert_serial = c->serial_hex;
    t->cert_req_id = cr->req_id;
    t->pvno = rq->pvno;
    t->expires = rq->now + rq->srv->cfg->txn_expiry;
    t->old_serial = cr->old_serial;
    t->profile = c->profile;
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

/* Reserves the serial of the prepared (unsigned) `x`, recording who it is
 * for and the key it certifies. STORE_EXISTS: the serial is taken. */
static int reserve(const struct cmp_req *rq, X509 *x, struct cmpca_err *err)
{
    struct store_cert c;
    unsigned char *spki = NULL;
    int len, rc = -1;

    memset(&c, 0, sizeof(c));
    len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &spki);
    c.serial_hex = ca_serial_hex(X509_get0_serialNumber(x));
    c.subject = cmp_name_text(X509_get_subject_name(x));
    c.issuer = cmp_name_text(X509_get_issuer_name(x));
    if (len > 0 && c.serial_hex != NULL && c.subject != NULL &&
        c.issuer != NULL) {
        c.der = spki;
        c.der_len = (size_t)len;
        c.not_before = time_of(X509_get0_notBefore(x));
        c.not_after = time_of(X509_get0_notAfter(x));
        c.status = CERT_RESERVED;
        c.vendor = rq->dev.vendor[0] != '\0' ? (char *)rq->dev.vendor : NULL;
        c.device = rq->dev.serial[0] != '\0' ? (char *)rq->dev.serial : NULL;
        c.created = rq->now;
        c.profile = rq->profile != NULL ? rq->profile->name : NULL;
        c.ra = rq->ra != NULL ? rq->ra->name : NULL;
        rc = store_cert_reserve(rq->srv->st, &c, err);
    } else {
        cmpca_err_ossl(err, FI_SYSTEM_FAILURE, "cannot encode reservation");
    }
    OPENSSL_free(spki);
    free(c.serial_hex);
    OPENSSL_free(c.subject);
    OPENSSL_free(c.issuer);
    return rc;
}

/* Issues in the order of careful public CAs: reserve the serial with what
 * is about to be signed, sign and check the result, commit the certificate
 * with its transaction, and only then answer. A crash at any point leaves a
 * reservation (revoked by housekeeping) or a complete record. */
static int issue_and_store(struct cmp_req *rq, const struct cmp_certreq *cr,
                           const struct ca_issue_req *ir, X509 **out,
                           struct cmpca_err *err)
{
    struct store_cert c;
    struct store_txn t;
    X509 *cert = NULL;
    int attempt, rc = STORE_EXISTS, in_use = 0;

    *out = NULL;
    for (attempt = 0; attempt < ISSUE_ATTEMPTS && rc == STORE_EXISTS;
         attempt++) {
        X509_free(cert);
        cert = NULL;
        if (ca_issue_prepare(rq->srv->ca, ir, &cert, err) != 0)
            return -1;
        if ((rc = reserve(rq, cert, err)) == STORE_EXISTS)
            log_warn("serial collision, drawing a new serial");
    }
    if (rc != 0 || ca_issue_sign(rq->srv->ca, cert, err) != 0) {
        if (rc == STORE_EXISTS)
            cmpca_err_set(err, FI_SYSTEM_FAILURE, "no free serial number");
        X509_free(cert);
        return -1;
    }
    if (rows_for(rq, cr, cert, &c, &t) != 0) {
        rows_clear(&c, &t);
        X509_free(cert);
        return cmpca_err_ossl(err, FI_SYSTEM_FAILURE,
                              "cannot encode certificate");
    }
    rc = store_issue(rq->srv->st, &c, &t, &in_use, err);
    rows_clear(&c, &t);
    if (rc != 0) {
        X509_free(cert);
        if (rc == STORE_EXISTS && in_use)
            return cmpca_err_set(err, FI_TRANSACTION_ID_IN_USE,
                                 "transactionID is in use");
        return rc == STORE_EXISTS
                   ? cmpca_err_set(err, FI_SYSTEM_FAILURE,
                                   "reserved serial was taken")
                   : -1;
    }
    *out = cert;
    return 0;
}

/* A renewal keeps the old certificate's subject; asking for another one is
 * a modification the client is told about. */
static int renewal_renames(const struct cmp_req *rq,
                           const struct cmp_certreq *cr)
{
    return cr->renewal && cr->subject != NULL &&
           X509_NAME_entry_count(cr->subject) > 0 &&
           X509_NAME_cmp(cr->subject, X509_get_subject_name(cr->old_cert)) != 0;
}

int cmp_issue(struct cmp_req *rq, const struct cmp_certreq *cr,
              X509 **out_cert, int *out_status, struct cmpca_err *err)
{
    const struct cmpca_profile *p = rq->profile;
    struct policy_request pr;
    struct policy_grant *g = NULL;
    struct ca_issue_req ir;
    int rc = -1;

    *out_cert = NULL;
    memset(&pr, 0, sizeof(pr));
    pr.subject =
        cr->renewal ? X509_get_subject_name(cr->old_cert) : cr->subject;
    pr.pubkey = cr->key;
    pr.exts = cr->exts;
    pr.not_before = cr->validity != NULL ? cr->validity->notBefore : NULL;
    pr.not_after = cr->validity != NULL ? cr->validity->notAfter : NULL;
    if (p == NULL)
        return cmpca_err_set(err, FI_SYSTEM_FAILURE, "no profile");
    if (policy_grant_new(p, cr->renewal ? NULL : &rq->dev, &pr, rq->now, &g,
                         err) != 0)
        return -1;
    rq->implicit_confirm = rq->srv->cfg->implicit_confirm &&
                           p->implicit_confirm &&
                           cmp_header_asks_implicit_confirm(rq);
    memset(&ir, 0, sizeof(ir));
    ir.subject = g->subject;
    ir.pubkey = cr->key;
    ir.validity_days = g->validity_days;
    ir.not_before = g->not_before;
    ir.eku_nids = g->eku_nids;
    ir.num_eku = g->num_eku;
    ir.san = g->san;
    ir.crl_url = g->crl_url;
    ir.key_usage = g->key_usage;
    if (issue_and_store(rq, cr, &ir, out_cert, err) != 0)
        goto done;
    *out_status = g->modified || renewal_renames(rq, cr)
                      ? CMPCA_STATUS_GRANTED_WITH_MODS
                      : CMPCA_STATUS_ACCEPTED;
    if (rq->implicit_confirm) {
        char *hex = ca_serial_hex(X509_get0_serialNumber(*out_cert));

        if (hex != NULL)
            cmp_confirmed(rq->srv, hex, cr->old_serial);
        free(hex);
    }
    rc = 0;
done:
    if (rc != 0)
        rq->implicit_confirm = 0;
    policy_grant_free(g);
    return rc;
}
