/*
 * server.c: the engine's entry point. One call answers one request: decode,
 * header checks, dispatch by body type, protect, encode. Handlers return an
 * unprotected response (rejections included); only this file signs and
 * encodes, so no path can send an unsigned answer to an authenticated
 * request by forgetting to.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/rand.h>

#include "cmp/cmp_local.h"
#include "util/log.h"

/* a reservation older than this is a crash or failure left over */
#define STALE_RESERVATION_SECS 300

/* The key that unseals device secrets. A data directory made before MAC
 * support has none: it is created then. Without it, MAC-protected requests
 * are answered systemUnavail and everything else works. */
static void load_seal_key(struct cmp_srv *srv)
{
    struct cmpca_err err = CMPCA_ERR_INIT;
    char *path = config_path(srv->cfg, srv->cfg->secrets_key);

    if (path != NULL &&
        ca_seal_key_load(path, 1, srv->seal_key, &err) == 0)
        srv->have_seal_key = 1;
    else
        log_warn("no secrets key (%s): MAC protection unavailable",
                 path != NULL ? err.msg : "out of memory");
    free(path);
}

int cmp_srv_new(const struct cmpca_config *cfg, const struct ca *ca,
                struct store *st, struct cmp_srv **out, struct cmpca_err *err)
{
    struct cmp_srv *srv = calloc(1, sizeof(*srv));

    *out = NULL;
    if (srv == NULL)
        return cmpca_err_set(err, FI_SYSTEM_FAILURE, "out of memory");
    srv->cfg = cfg;
    srv->ca = ca;
    srv->st = st;
    srv->oid_implicit_confirm = OBJ_nid2obj(NID_id_it_implicitConfirm);
    if (srv->oid_implicit_confirm == NULL) {
        free(srv);
        return cmpca_err_ossl(err, FI_SYSTEM_FAILURE, "OID table");
    }
    load_seal_key(srv);
    *out = srv;
    return 0;
}

void cmp_srv_free(struct cmp_srv *srv)
{
    if (srv != NULL)
        OPENSSL_cleanse(srv->seal_key, sizeof(srv->seal_key));
    free(srv); /* OBJ_nid2obj objects are static */
}

int cmp_srv_profile_known(const struct cmp_srv *srv, const char *profile)
{
    if (srv->cfg->num_profiles == 0) /* no [profile NAME] parsed yet */
        return profile == NULL || strcmp(profile, "3gpp") == 0;
    return config_profile(srv->cfg, profile) != NULL;
}

/* RFC 9483 section 6: which body an operation label admits. Follow-ups of a
 * transaction (certConf, pollReq, error) go to the label it started on. */
static int fits_operation(const char *op, int body_type)
{
    static const struct {
        const char *label;
        int body;
    } map[] = {
        {"initialization", CMPCA_BODY_IR}, {"certification", CMPCA_BODY_CR},
        {"keyupdate", CMPCA_BODY_KUR},     {"pkcs10", CMPCA_BODY_P10CR},
        {"revocation", CMPCA_BODY_RR},     {"getcacerts", CMPCA_BODY_GENM},
        {"getrootupdate", CMPCA_BODY_GENM},
        {"getcertreqtemplate", CMPCA_BODY_GENM},
        {"getcrls", CMPCA_BODY_GENM},      {"nested", CMPCA_BODY_NESTED},
    };

    if (op == NULL || *op == '\0' || body_type == CMPCA_BODY_CERTCONF ||
        body_type == CMPCA_BODY_POLLREQ || body_type == CMPCA_BODY_ERROR)
        return 1;
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
        if (strcmp(op, map[i].label) == 0)
            return map[i].body == body_type;
    return 0;
}

/* First messages of a transaction: signature protection verified against
 * extraCerts, then the nonce recorded. MAC protection (shared secrets) is
 * refused: kur and rr never take it (RFC 9483 4.1.3, 4.2). */
static int authenticate_first(struct cmp_req *rq, struct cmpca_err *err)
{
    int rc;

    if (cmp_protection_is_mac(rq->msg)) {
        if (rq->body_type == CMPCA_BODY_KUR || rq->body_type == CMPCA_BODY_RR)
            return cmpca_err_set(err, FI_WRONG_INTEGRITY,
                                 "%s requires signature protection",
                                 cmp_asn1_body_name(rq->body_type));
        if (rq->body_type != CMPCA_BODY_IR &&
            rq->body_type != CMPCA_BODY_P10CR &&
            rq->body_type != CMPCA_BODY_GENM)
            return cmpca_err_set(err, FI_NOT_AUTHORIZED,
                                 "%s requires signature protection",
                                 cmp_asn1_body_name(rq->body_type));
        rc = cmp_auth_mac(rq, NULL, 0, err);
    } else if (sk_X509_num(rq->msg->extraCerts) <= 0 &&
               (rc = cmp_ra_cert_for_sender(rq, err)) <= 0) {
        /* an RA whose (self-signed) certificate the client left out */
        rc = rc < 0 ? -1 : cmp_verify_signature(rq, rq->owned_signer, err);
    } else {
        rc = cmp_verify_signature(rq, NULL, err);
    }
    /* a shared secret is a trusted credential: replay state is recorded
     * now; for a certificate, only once the handler trusts its signer */
    if (rc != 0 || (rq->mac_secret != NULL && cmp_record_fresh(rq, err) != 0))
        return -1;
    return 0;
}

static CMPCA_PKIMESSAGE *dispatch(struct cmp_req *rq)
{
    struct cmpca_err err = CMPCA_ERR_INIT;

    if (cmp_check_header(rq, &err) != 0)
        goto reject;
    if (!fits_operation(rq->operation, rq->body_type)) {
        cmpca_err_set(&err, FI_BAD_REQUEST, "%s does not belong at /%s",
                      cmp_asn1_body_name(rq->body_type), rq->operation);
        goto reject;
    }
    switch (rq->body_type) {
    case CMPCA_BODY_IR:
    case CMPCA_BODY_CR:
    case CMPCA_BODY_KUR:
    case CMPCA_BODY_P10CR:
        if (authenticate_first(rq, &err) != 0)
            goto reject;
        return cmp_handle_certreq(rq);
    case CMPCA_BODY_RR:
        if (authenticate_first(rq, &err) != 0)
            goto reject;
        return cmp_handle_rr(rq);
    case CMPCA_BODY_NESTED:
        if (authenticate_first(rq, &err) != 0)
            goto reject;
        return cmp_handle_nested(rq);
    case CMPCA_BODY_GENM:
        /* any device or operator certificate may ask (RFC 9483 4.3) */
        if (authenticate_first(rq, &err) != 0 ||
            (rq->mac_secret == NULL && (cmp_auth_any(rq, &err) != 0 ||
                                        cmp_record_fresh(rq, &err) != 0)))
            goto reject;
        return cmp_handle_genm(rq);
    case CMPCA_BODY_CERTCONF:
        return cmp_handle_certconf(rq);
    case CMPCA_BODY_POLLREQ:
        return cmp_handle_pollreq(rq);
    case CMPCA_BODY_ERROR:
        return cmp_handle_client_error(rq);
    default:
        cmpca_err_set(&err, FI_BAD_REQUEST, "%s is not supported",
                      cmp_asn1_body_name(rq->body_type));
        goto reject;
    }
reject:
    cmp_rejected(rq, &err);
    return cmp_error_new(rq, &err);
}

static int encode(const CMPCA_PKIMESSAGE *rsp, uint8_t **out, size_t *out_len)
{
    unsigned char *der = NULL;
    int len = i2d_CMPCA_PKIMESSAGE(rsp, &der);

    if (len <= 0 || (*out = malloc((size_t)len)) == NULL) {
        OPENSSL_free(der);
        return -1;
    }
    memcpy(*out, der, (size_t)len);
    *out_len = (size_t)len;
    OPENSSL_free(der);
    return 0;
}

/* Undecodable input: RFC 9811 allows a CMP body with a 4xx status; the
 * error is unprotected because nothing was authenticated. */
static int answer_garbage(struct cmp_srv *srv, uint8_t **out, size_t *out_len,
                          int *http_status)
{
    struct cmp_req rq;
    struct cmpca_err err;
    CMPCA_PKIMESSAGE *rsp;
    int rc;

    memset(&rq, 0, sizeof(rq));
    rq.srv = srv;
    rq.now = time(NULL);
    rq.pvno = 2;
    if (RAND_bytes(rq.nonce, sizeof(rq.nonce)) <= 0)
        return -1;
    cmpca_err_set(&err, FI_BAD_DATA_FORMAT, "request is not a DER PKIMessage");
    if ((rsp = cmp_error_new(&rq, &err)) == NULL)
        return -1;
    rc = encode(rsp, out, out_len);
    CMPCA_PKIMESSAGE_free(rsp);
    *http_status = 400;
    return rc;
}

CMPCA_PKIMESSAGE *cmp_answer(struct cmp_srv *srv, const CMPCA_PKIMESSAGE *msg,
                             const struct cmpca_profile *profile,
                             const char *operation)
{
    struct cmp_req rq;
    CMPCA_PKIMESSAGE *rsp = NULL;

    memset(&rq, 0, sizeof(rq));
    rq.srv = srv;
    rq.msg = msg;
    rq.operation = operation;
    rq.profile = profile;
    rq.body_type = msg->body->type;
    rq.now = time(NULL);
    rq.pvno = 2;
    if (RAND_bytes(rq.nonce, sizeof(rq.nonce)) > 0 &&
        (rsp = dispatch(&rq)) != NULL && cmp_protect_rsp(&rq, rsp) != 0) {
        CMPCA_PKIMESSAGE_free(rsp);
        rsp = NULL;
    }
    if (rsp == NULL)
        log_error("could not build a response to %s",
                  cmp_asn1_body_name(rq.body_type));
    ERR_clear_error();
    cmp_ra_free(rq.ra);
    X509_free(rq.owned_signer);
    OPENSSL_clear_free(rq.mac_secret, rq.mac_secret_len);
    return rsp;
}

int cmp_srv_handle(struct cmp_srv *srv, const char *profile,
                   const char *operation, const uint8_t *req, size_t req_len,
                   uint8_t **out, size_t *out_len, int *http_status)
{
    CMPCA_PKIMESSAGE *msg = NULL, *rsp = NULL;
    int rc = -1;

    *out = NULL;
    *out_len = 0;
    *http_status = 500;
    if ((msg = cmp_asn1_decode_msg(req, req_len)) == NULL) {
        ERR_clear_error();
        log_info("undecodable request of %zu bytes", req_len);
        return answer_garbage(srv, out, out_len, http_status);
    }
    rsp = cmp_answer(srv, msg, config_profile(srv->cfg, profile), operation);
    if (rsp != NULL && encode(rsp, out, out_len) == 0) {
        *http_status = 200;
        rc = 0;
    }
    CMPCA_PKIMESSAGE_free(rsp);
    CMPCA_PKIMESSAGE_free(msg);
    return rc;
}

int cmp_srv_housekeeping(struct cmp_srv *srv, time_t now)
{
    struct cmpca_err err = CMPCA_ERR_INIT;
    char **serials = NULL;
    size_t i, n = 0;

    if (store_txn_expire(srv->st, now, &serials, &n, &err) != 0) {
        log_warn("housekeeping: %s", err.msg);
        return -1;
    }
    for (i = 0; i < n; i++) {
        /* never confirmed: revoked so it stays dead (and listed) */
        log_info("certificate %s revoked: no certConf in time", serials[i]);
        cmp_audit_server(srv, "expire", "revoked", serials[i],
                         "no certConf in time");
        cmp_unconfirmed(srv, serials[i], CERT_REVOKED);
        free(serials[i]);
    }
    free(serials);
    /* a reservation never completed (crash or failure between reserving
     * and committing): if a signed copy exists anywhere, the CRL names it */
    if (store_cert_stale_reserved(srv->st, now - STALE_RESERVATION_SECS,
                                  &serials, &n, &err) != 0) {
        log_warn("housekeeping: %s", err.msg);
        return -1;
    }
    for (i = 0; i < n; i++) {
        log_warn("certificate %s revoked: reserved but never issued",
                 serials[i]);
        cmp_audit_server(srv, "expire", "revoked", serials[i],
                         "reserved but never issued");
        cmp_unconfirmed(srv, serials[i], CERT_REVOKED);
        free(serials[i]);
    }
    free(serials);
    return 0;
}

void cmp_publish_crl(struct cmp_srv *srv)
{
    struct cmpca_err err = CMPCA_ERR_INIT;

    if (ca_crl_publish(srv->ca, srv->st, srv->cfg->crl_name,
                       srv->cfg->crl_validity, NULL, &err) != 0)
        log_error("CRL not regenerated: %s", err.msg);
}

char *cmp_name_text(const X509_NAME *name)
{
    BIO *bio = BIO_new(BIO_s_mem());
    char *text = NULL, *data;
    long len;

    if (bio == NULL)
        return NULL;
    if (X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253) >= 0 &&
        (len = BIO_get_mem_data(bio, &data)) >= 0 &&
        (text = OPENSSL_malloc((size_t)len + 1)) != NULL) {
        memcpy(text, data, (size_t)len);
        text[len] = '\0';
    }
    BIO_free(bio);
    return text;
}
