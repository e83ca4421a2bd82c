/*
 * certreq.c: certificate requests, ir/cr/kur (CRMF) and p10cr (PKCS#10).
 * Everything that can reject runs before the CA signs anything: the form of
 * the request, who signed it (vendor certificate for an initial enrollment,
 * operator certificate for renewal and additional certificates, TS 33.310
 * 9.5), the registry and approval, the kur rules, the proof of possession.
 * A device in manual approval mode gets "waiting" and its request is kept
 * in the transaction until an operator decides (poll.c).
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "ca/ca.h"
#include "cmp/cmp_local.h"
#include "util/log.h"

static int rep_type(int body_type)
{
    switch (body_type) {
    case CMPCA_BODY_CR:
    case CMPCA_BODY_P10CR:
        return CMPCA_BODY_CP;
    case CMPCA_BODY_KUR:
        return CMPCA_BODY_KUP;
    default:
        return CMPCA_BODY_IP;
    }
}

static int no_ca_request(const STACK_OF(X509_EXTENSION) *exts,
                         struct cmpca_err *err)
{
    BASIC_CONSTRAINTS *bc;
    int crit = 0, is_ca;

    bc = X509V3_get_d2i(exts, NID_basic_constraints, &crit, NULL);
    ERR_clear_error();
    if (bc == NULL && crit == -2)
        return cmpca_err_set(err, FI_BAD_CERT_TEMPLATE,
                             "duplicate basicConstraints requested");
    is_ca = bc != NULL && bc->ca;
    BASIC_CONSTRAINTS_free(bc);
    if (is_ca)
        return cmpca_err_set(err, FI_BAD_CERT_TEMPLATE,
                             "a CA certificate cannot be requested");
    return 0;
}

static int parse_crm(const struct cmp_req *rq, struct cmp_certreq *cr,
                     struct cmpca_err *err)
{
    STACK_OF(CMPCA_CERT_REQ_MSG) *msgs = rq->msg->body->value.ir;
    const CMPCA_CERT_TEMPLATE *t;

    if (sk_CMPCA_CERT_REQ_MSG_num(msgs) != 1)
        return cmpca_err_set(err, FI_BAD_REQUEST,
                             "exactly one CertReqMsg is required, got %d",
                             sk_CMPCA_CERT_REQ_MSG_num(msgs));
    cr->crm = sk_CMPCA_CERT_REQ_MSG_value(msgs, 0);
    if (ASN1_INTEGER_get(cr->crm->certReq->certReqId) != 0)
        return cmpca_err_set(err, FI_BAD_REQUEST, "certReqId must be 0");
    t = cr->crm->certReq->certTemplate;
    cr->req_id = 0;
    cr->subject = t->subject;
    cr->exts = t->extensions;
    cr->validity = t->validity;
    if (t->publicKey == NULL)
        return cmpca_err_set(err, FI_BAD_CERT_TEMPLATE,
                             "template has no publicKey");
    if ((cr->key = X509_PUBKEY_get(t->publicKey)) == NULL)
        return cmpca_err_ossl(err, FI_BAD_CERT_TEMPLATE,
                              "template publicKey unusable");
    return 0;
}

/* p10cr: the CSR's own signature is the proof of possession (RFC 9483
 * 4.1.4), so it is checked here. */
static int parse_p10(const struct cmp_req *rq, struct cmp_certreq *cr,
                     struct cmpca_err *err)
{
    X509_REQ *csr = rq->msg->body->value.p10cr;
    const X509_ALGOR *alg = NULL;
    int ok;

    cr->req_id = -1;
    if (csr == NULL || (cr->key = X509_REQ_get_pubkey(csr)) == NULL)
        return cmpca_err_ossl(err, FI_BAD_CERT_TEMPLATE,
                              "PKCS#10 request without a usable key");
    X509_REQ_get0_signature(csr, NULL, &alg);
    if (policy_check_sig_alg(alg, err) != 0)
        return -1;
    ok = X509_REQ_verify(csr, cr->key);
    ERR_clear_error();
    if (ok <= 0)
        return cmpca_err_set(err, FI_BAD_POP,
                             "PKCS#10 signature does not verify");
    cr->subject = X509_REQ_get_subject_name(csr);
    cr->owned_exts = X509_REQ_get_extensions(csr);
    ERR_clear_error();
    cr->exts = cr->owned_exts;
    return 0;
}

static int verify_pop(const struct cmp_certreq *cr, const struct store_ra *ra,
                      struct cmpca_err *err)
{
    const CMPCA_POPO *popo = cr->crm->popo;
    const CMPCA_POPOSIGNINGKEY *sk;
    int ok;

    if (popo == NULL)
        return cmpca_err_set(err, FI_BAD_POP, "no proof of possession");
    if (popo->type == CMPCA_POPO_RAVERIFIED) {
        /* RFC 9483 5.2.3.2: an RA vouches it checked the POP itself */
        if (ra != NULL && ra->may_raverify)
            return 0;
        return cmpca_err_set(err, FI_NOT_AUTHORIZED,
                             "raVerified is accepted only from an RA "
                             "allowed to vouch for POP");
    }
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
                           cr->crm->certReq->certTemplate->publicKey) != 1)
            return cmpca_err_set(err, FI_BAD_POP,
                                 "poposkInput names another key");
        ok = ASN1_item_verify(ASN1_ITEM_rptr(CMPCA_POPOSK_INPUT),
                              sk->algorithmIdentifier, sk->signature,
                              sk->poposkInput, cr->key);
    } else {
        ok = ASN1_item_verify(ASN1_ITEM_rptr(CMPCA_CERT_REQUEST),
                              sk->algorithmIdentifier, sk->signature,
                              cr->crm->certReq, cr->key);
    }
    ERR_clear_error();
    if (ok <= 0)
        return cmpca_err_set(err, FI_BAD_POP,
                             "POP signature does not verify with the "
                             "requested key");
    return 0;
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
    open = t.state == TXN_WAIT_CONF || t.state == TXN_WAITING;
    store_txn_clear(&t);
    if (open)
        return cmpca_err_set(err, FI_TRANSACTION_ID_IN_USE,
                             "transactionID belongs to an open transaction");
    return 0;
}

/* The oldCertID control of a kur, decoded; *out NULL when absent. */
static int old_cert_id(const struct cmp_certreq *cr, CMPCA_CERT_ID **out,
                       struct cmpca_err *err)
{
    const STACK_OF(CMPCA_ATAV) *ctrls = cr->crm->certReq->controls;
    const CMPCA_ATAV *a;
    const unsigned char *p;
    int i;

    *out = NULL;
    for (i = 0; i < sk_CMPCA_ATAV_num(ctrls); i++) {
        a = sk_CMPCA_ATAV_value(ctrls, i);
        if (OBJ_obj2nid(a->type) != NID_id_regCtrl_oldCertID)
            continue;
        if (*out != NULL || a->value == NULL ||
            a->value->type != V_ASN1_SEQUENCE)
            break;
        p = a->value->value.sequence->data;
        *out = d2i_CMPCA_CERT_ID(NULL, &p, a->value->value.sequence->length);
        if (*out == NULL || (*out)->issuer->type != GEN_DIRNAME)
            break;
    }
    if (i == sk_CMPCA_ATAV_num(ctrls))
        return 0;
    CMPCA_CERT_ID_free(*out);
    *out = NULL;
    ERR_clear_error();
    return cmpca_err_set(err, FI_BAD_DATA_FORMAT, "bad oldCertID control");
}

/* kur (RFC 9483 4.1.3): oldCertID, when present, names the certificate
 * renewed; a new key unless the profile allows reuse. */
static int check_kur(const struct cmp_req *rq, const struct cmp_certreq *cr,
                     struct cmpca_err *err)
{
    CMPCA_CERT_ID *id = NULL;
    int ok = 1;

    if (old_cert_id(cr, &id, err) != 0)
        return -1;
    if (id != NULL)
        ok = X509_NAME_cmp(id->issuer->d.directoryName,
                           X509_get_issuer_name(cr->old_cert)) == 0 &&
             ASN1_INTEGER_cmp(id->serialNumber,
                              X509_get0_serialNumber(cr->old_cert)) == 0;
    CMPCA_CERT_ID_free(id);
    if (!ok)
        return cmpca_err_set(err, FI_BAD_CERT_ID,
                             "oldCertID does not name the certificate "
                             "being renewed");
    if (EVP_PKEY_eq(cr->key, X509_get0_pubkey(cr->old_cert)) == 1 &&
        !rq->profile->kur_key_reuse)
        return cmpca_err_set(err, FI_BAD_CERT_TEMPLATE,
                             "kur must certify a new key");
    return 0;
}

/* An RA's kur names the device's certificate in oldCertID (RFC 9483
 * 5.1.1): it must be ours, valid, and of a vendor the RA serves. */
static int ra_old_cert(struct cmp_req *rq, struct cmp_certreq *cr,
                       struct cmpca_err *err)
{
    struct store_cert row;
    CMPCA_CERT_ID *id = NULL;
    const unsigned char *p;
    char *hex = NULL;
    int rc = -1;

    memset(&row, 0, sizeof(row));
    if (old_cert_id(cr, &id, err) != 0)
        return -1;
    if (id == NULL)
        return cmpca_err_set(err, FI_BAD_CERT_ID,
                             "an RA's kur must carry oldCertID");
    if ((hex = ca_serial_hex(id->serialNumber)) == NULL ||
        store_cert_get(rq->srv->st, hex, &row, err) != 0) {
        cmpca_err_set(err, FI_BAD_CERT_ID, "oldCertID names no certificate "
                                           "of this CA");
        goto done;
    }
    if (row.revoked_at != 0 || row.status != CERT_CONFIRMED) {
        cmpca_err_set(err, FI_CERT_REVOKED, "certificate %s is not valid",
                      hex);
        goto done;
    }
    if (row.vendor == NULL || row.device == NULL ||
        !cmp_ra_serves(rq->ra, row.vendor)) {
        cmpca_err_set(err, FI_NOT_AUTHORIZED,
                      "RA %s may not renew certificate %s", rq->ra->name, hex);
        goto done;
    }
    p = row.der;
    if ((cr->old_cert = d2i_X509(NULL, &p, (long)row.der_len)) == NULL ||
        (cr->old_serial = strdup(hex)) == NULL) {
        cmpca_err_set(err, FI_SYSTEM_FAILURE, "cannot load %s", hex);
        goto done;
    }
    snprintf(rq->dev.vendor, sizeof(rq->dev.vendor), "%s", row.vendor);
    snprintf(rq->dev.serial, sizeof(rq->dev.serial), "%s", row.device);
    cr->renewal = 1;
    rc = 0;
done:
    CMPCA_CERT_ID_free(id);
    store_cert_clear(&row);
    free(hex);
    return rc;
}

/* RA mode (RFC 9483 5): the device is named by the template. */
static int authenticate_ra(struct cmp_req *rq, struct cmp_certreq *cr,
                           int *needs_approval, struct cmpca_err *err)
{
    if (rq->body_type == CMPCA_BODY_KUR)
        return ra_old_cert(rq, cr, err);
    if (cmp_ra_device(rq, cr->subject, err) != 0)
        return -1;
    return policy_device_may_enroll(rq->srv->st, rq->srv->cfg, &rq->dev,
                                    needs_approval, err);
}

/* Who signed decides what the request may be (see the file comment). */
static int authenticate(struct cmp_req *rq, struct cmp_certreq *cr,
                        int *needs_approval, struct cmpca_err *err)
{
    struct store_cert row;
    int ours, ra;

    *needs_approval = 0;
    if (rq->mac_secret != NULL) {
        /* a device's shared secret: the device is the secret's owner */
        if (rq->body_type != CMPCA_BODY_IR && rq->body_type != CMPCA_BODY_P10CR)
            return cmpca_err_set(err, FI_NOT_AUTHORIZED,
                                 "a shared secret serves initial "
                                 "enrollment only");
        return policy_device_may_enroll(rq->srv->st, rq->srv->cfg, &rq->dev,
                                        needs_approval, err);
    }
    if ((ra = cmp_auth_ra(rq, err)) != 0)
        return ra < 0 ? -1 : authenticate_ra(rq, cr, needs_approval, err);
    ours = cmp_signer_is_ours(rq);
    if (rq->body_type == CMPCA_BODY_IR && ours && !rq->profile->renewal_by_ir)
        return cmpca_err_set(err, FI_NOT_AUTHORIZED,
                             "renewal by ir is not allowed here; use kur");
    if (!ours && (rq->body_type == CMPCA_BODY_IR ||
                  rq->body_type == CMPCA_BODY_P10CR)) {
        if (policy_vendor_authenticate(rq->srv->st, rq->signer,
                                       rq->msg->extraCerts, rq->now, &rq->dev,
                                       err) != 0)
            return -1;
        return policy_device_may_enroll(rq->srv->st, rq->srv->cfg, &rq->dev,
                                        needs_approval, err);
    }
    if (cmp_auth_operator(rq, &row, err) != 0)
        return -1;
    cr->renewal = 1;
    cr->old_cert = rq->signer;
    X509_up_ref(cr->old_cert);
    if (rq->body_type == CMPCA_BODY_KUR &&
        (cr->old_serial = strdup(row.serial_hex)) == NULL) {
        store_cert_clear(&row);
        return cmpca_err_set(err, FI_SYSTEM_FAILURE, "out of memory");
    }
    store_cert_clear(&row);
    return 0;
}

/* Resource limits: open transactions in all and per signing credential
 * (an RA signs for many devices and is exempt from the second). */
static int check_capacity(const struct cmp_req *rq, struct cmpca_err *err)
{
    const struct cmpca_config *cfg = rq->srv->cfg;
    unsigned char *der = NULL;
    long long total = 0, mine = 0;
    int len = cmp_auth_id(rq, &der), rc;

    if (len <= 0)
        return cmpca_err_ossl(err, FI_SYSTEM_FAILURE, "signer encoding");
    rc = store_txn_count_open(rq->srv->st, der, (size_t)len, &total, &mine,
                              err);
    OPENSSL_free(der);
    if (rc != 0)
        return -1;
    if (total >= cfg->max_open_txns)
        return cmpca_err_set(err, FI_SYSTEM_UNAVAIL,
                             "too many open transactions; try later");
    if (rq->ra == NULL && mine >= cfg->max_open_txns_per_signer)
        return cmpca_err_set(err, FI_SYSTEM_UNAVAIL,
                             "too many open transactions for this signer; "
                             "confirm or wait for them to expire");
    return 0;
}

/* All checks up to the issuance. */
static int admit(struct cmp_req *rq, struct cmp_certreq *cr,
                 int *needs_approval, struct cmpca_err *err)
{
    if (rq->profile == NULL)
        return cmpca_err_set(err, FI_SYSTEM_FAILURE, "no profile");
    if (authenticate(rq, cr, needs_approval, err) != 0 ||
        cmp_record_fresh(rq, err) != 0 || no_ca_request(cr->exts, err) != 0 ||
        policy_check_profile_key(rq->profile, cr->key, err) != 0)
        return -1;
    if (rq->body_type == CMPCA_BODY_KUR && check_kur(rq, cr, err) != 0)
        return -1;
    if (cr->crm != NULL && verify_pop(cr, rq->ra, err) != 0)
        return -1;
    return check_capacity(rq, err);
}

/* A single-use secret is spent by the request it admits, atomically: of
 * two concurrent requests with one secret, one gets notAuthorized. */
static int use_secret(struct cmp_req *rq, struct cmpca_err *err)
{
    const ASN1_OCTET_STRING *kid = rq->msg->header->senderKID;
    int rc = store_secret_use(rq->srv->st, ASN1_STRING_get0_data(kid),
                              (size_t)ASN1_STRING_length(kid), err);

    if (rc == STORE_EXISTS || rc == STORE_NOTFOUND)
        return cmpca_err_set(err, FI_NOT_AUTHORIZED,
                             "the shared secret was used already");
    return rc == 0 ? 0 : -1;
}

/* Manual approval: keep the request and answer "waiting" (RFC 9483 4.4). */
static CMPCA_PKIMESSAGE *hold(struct cmp_req *rq, const struct cmp_certreq *cr)
{
    struct cmpca_err err = CMPCA_ERR_INIT;
    const CMPCA_PKIHEADER *h = rq->msg->header;
    struct store_txn t;
    unsigned char *req = NULL, *sender = NULL, *signer = NULL;
    int req_len, sender_len, signer_len, rc = -1;

    memset(&t, 0, sizeof(t));
    req_len = i2d_CMPCA_PKIMESSAGE(rq->msg, &req);
    sender_len = i2d_GENERAL_NAME(h->sender, &sender);
    signer_len = cmp_auth_id(rq, &signer);
    if (req_len > 0 && sender_len > 0 && signer_len > 0) {
        t.tid = (uint8_t *)ASN1_STRING_get0_data(h->transactionID);
        t.tid_len = (size_t)ASN1_STRING_length(h->transactionID);
        t.state = TXN_WAITING;
        t.body_type = rq->body_type;
        t.sender = sender;
        t.sender_len = (size_t)sender_len;
        t.auth_id = signer;
        t.auth_id_len = (size_t)signer_len;
        t.last_nonce = rq->nonce;
        t.last_nonce_len = sizeof(rq->nonce);
        t.cert_req_id = cr->req_id;
        t.pvno = rq->pvno;
        t.expires = rq->now + rq->srv->cfg->approval_wait;
        t.request = req;
        t.request_len = (size_t)req_len;
        t.profile = rq->profile != NULL ? rq->profile->name : NULL;
        rc = store_txn_create(rq->srv->st, &t, &err);
    }
    OPENSSL_free(req);
    OPENSSL_free(sender);
    OPENSSL_free(signer);
    if (rc == STORE_EXISTS)
        cmpca_err_set(&err, FI_TRANSACTION_ID_IN_USE,
                      "transactionID is in use");
    if (rc != 0)
        return cmp_certrep_new(rq, rep_type(rq->body_type), cr->req_id,
                               CMPCA_STATUS_REJECTION, NULL, NULL, &err);
    log_info("%s from %s/%s held for manual approval",
             cmp_asn1_body_name(rq->body_type), rq->dev.vendor,
             rq->dev.serial);
    cmp_audit(rq, "waiting", NULL, NULL);
    return cmp_certrep_new(rq, rep_type(rq->body_type), cr->req_id,
                           CMPCA_STATUS_WAITING, NULL, NULL, NULL);
}

static void audit_issued(const struct cmp_req *rq, X509 *cert)
{
    char *hex = ca_serial_hex(X509_get0_serialNumber(cert));

    cmp_audit(rq, rq->implicit_confirm ? "issued, confirmed" : "issued", hex,
              NULL);
    free(hex);
}

/* The positive answer; the operator root goes in caPubs of an ip only
 * (TS 33.310 9.5.4.3; RFC 9483: no caPubs in cp and kup). */
static CMPCA_PKIMESSAGE *granted(struct cmp_req *rq, int type, long req_id,
                                 int status, X509 *cert)
{
    STACK_OF(X509) *ca_pubs = NULL;
    CMPCA_PKIMESSAGE *rsp = NULL;

    if (type == CMPCA_BODY_IP &&
        ((ca_pubs = sk_X509_new_null()) == NULL ||
         !sk_X509_push(ca_pubs, ca_get0_root(rq->srv->ca)))) {
        sk_X509_free(ca_pubs);
        return NULL;
    }
    rsp = cmp_certrep_new(rq, type, req_id, status, cert, ca_pubs, NULL);
    sk_X509_free(ca_pubs);
    return rsp;
}

static CMPCA_PKIMESSAGE *rejected(struct cmp_req *rq, int type, long req_id,
                                  const struct cmpca_err *err)
{
    cmp_rejected(rq, err);
    /* transaction and replay failures concern the message, not the request
     * in it: answered with an error message (RFC 9483 3.5) */
    if (err->failinfo == FI_TRANSACTION_ID_IN_USE ||
        err->failinfo == FI_BAD_SENDER_NONCE)
        return cmp_error_new(rq, err);
    return cmp_certrep_new(rq, type, req_id, CMPCA_STATUS_REJECTION, NULL,
                           NULL, err);
}

CMPCA_PKIMESSAGE *cmp_handle_certreq(struct cmp_req *rq)
{
    struct cmpca_err err = CMPCA_ERR_INIT;
    struct cmp_certreq cr;
    CMPCA_PKIMESSAGE *rsp = NULL;
    X509 *cert = NULL;
    int type = rep_type(rq->body_type), status, needs_approval = 0, rc;

    memset(&cr, 0, sizeof(cr));
    rc = rq->body_type == CMPCA_BODY_P10CR ? parse_p10(rq, &cr, &err)
                                           : parse_crm(rq, &cr, &err);
    if (rc != 0 && rq->body_type != CMPCA_BODY_P10CR && cr.crm == NULL) {
        rsp = cmp_error_new(rq, &err); /* no single request to answer */
        goto done;
    }
    if (rc == 0)
        rc = check_tid_free(rq, &err);
    if (rc == 0)
        rc = admit(rq, &cr, &needs_approval, &err);
    if (rc == 0 && rq->mac_secret != NULL && rq->mac_single_use)
        rc = use_secret(rq, &err);
    if (rc == 0 && needs_approval) {
        rsp = hold(rq, &cr);
        goto done;
    }
    if (rc == 0)
        rc = cmp_issue(rq, &cr, &cert, &status, &err);
    if (rc != 0) {
        rsp = rejected(rq, type, cr.req_id, &err);
        goto done;
    }
    log_info("%s: issued to %s/%s%s", cmp_asn1_body_name(rq->body_type),
             rq->dev.vendor, rq->dev.serial,
             rq->implicit_confirm ? " (implicitConfirm)" : "");
    audit_issued(rq, cert);
    rsp = granted(rq, type, cr.req_id, status, cert);
done:
    X509_free(cert);
    cmp_certreq_clear(&cr);
    return rsp;
}

CMPCA_PKIMESSAGE *cmp_certreq_release(struct cmp_req *rq,
                                      const CMPCA_PKIMESSAGE *stored,
                                      int *outcome)
{
    struct cmpca_err err = CMPCA_ERR_INIT;
    struct cmp_req orig = *rq; /* the held request, answered in rq's name */
    struct cmp_certreq cr;
    CMPCA_PKIMESSAGE *rsp = NULL;
    X509 *cert = NULL;
    int type, status, needs_approval = 0, rc;

    orig.msg = stored;
    orig.body_type = stored->body->type;
    orig.fresh_recorded = 1; /* recorded when it was first received */
    type = rep_type(orig.body_type);
    memset(&cr, 0, sizeof(cr));
    rc = orig.body_type == CMPCA_BODY_P10CR ? parse_p10(&orig, &cr, &err)
                                            : parse_crm(&orig, &cr, &err);
    if (rc == 0)
        rc = admit(&orig, &cr, &needs_approval, &err);
    if (rc == 0 && needs_approval) {
        *outcome = CMP_RELEASE_WAITING;
        goto done;
    }
    if (rc == 0)
        rc = cmp_issue(&orig, &cr, &cert, &status, &err);
    rq->implicit_confirm = orig.implicit_confirm;
    rq->dev = orig.dev;
    if (rc != 0) {
        *outcome = CMP_RELEASE_REJECTED;
        rsp = rejected(rq, type, cr.req_id, &err); /* answers the pollReq */
        goto done;
    }
    *outcome = CMP_RELEASE_ISSUED;
    log_info("%s: approved and issued to %s/%s",
             cmp_asn1_body_name(orig.body_type), orig.dev.vendor,
             orig.dev.serial);
    audit_issued(rq, cert);
    rsp = granted(rq, type, cr.req_id, status, cert);
done:
    X509_free(cert);
    cmp_certreq_clear(&cr);
    if (orig.ra != rq->ra)
        cmp_ra_free(orig.ra);
    return rsp;
}
