/*
 * enroll.c: one device session on OpenSSL's own CMP client. A fresh
 * OSSL_CMP_CTX per enrollment, as a real device would have per boot, runs
 * the whole exchange (ir or kur, then certConf, then pkiConf), signs with
 * the vendor or operator key, proves possession of the new key by signature
 * and checks every answer's protection and the new certificate's chain.
 * Messages go over the worker's kept HTTP connection (http.c) through a
 * transfer callback. A failure is reduced to a short kind for the report:
 * the failInfo names the server sent, or where else it broke.
 */
#include <string.h>

#include <openssl/err.h>

#include "load.h"

/* RFC 9810 section 5.2.3, by bit number */
static const char *const failinfo_names[] = {
    "badAlg",
    "badMessageCheck",
    "badRequest",
    "badTime",
    "badCertId",
    "badDataFormat",
    "wrongAuthority",
    "incorrectData",
    "missingTimeStamp",
    "badPOP",
    "certRevoked",
    "certConfirmed",
    "wrongIntegrity",
    "badRecipientNonce",
    "timeNotAvailable",
    "unacceptedPolicy",
    "unacceptedExtension",
    "addInfoNotAvailable",
    "badSenderNonce",
    "badCertTemplate",
    "signerNotTrusted",
    "transactionIdInUse",
    "unsupportedVersion",
    "notAuthorized",
    "systemUnavail",
    "systemFailure",
    "duplicateCertReq",
};

#define NUM_FAILINFO ((int)(sizeof(failinfo_names) / sizeof(failinfo_names[0])))

/* What one session shares with its callbacks. */
struct session {
    struct http_conn *conn;
    char transport_err[200];
};

/* The library's own log lines would drown the progress line; failures are
 * reported through classify() instead. */
static int quiet_log(const char *func, const char *file, int line,
                     OSSL_CMP_severity level, const char *msg)
{
    (void)func;
    (void)file;
    (void)line;
    (void)level;
    (void)msg;
    return 1;
}

static OSSL_CMP_MSG *transfer(OSSL_CMP_CTX *ctx, const OSSL_CMP_MSG *req)
{
    struct session *s = OSSL_CMP_CTX_get_transfer_cb_arg(ctx);
    unsigned char *der = NULL;
    const unsigned char *body = NULL, *p;
    OSSL_CMP_MSG *rsp = NULL;
    size_t body_len = 0;
    int len = i2d_OSSL_CMP_MSG(req, &der), status;

    if (len <= 0) {
        snprintf(s->transport_err, sizeof(s->transport_err),
                 "client: cannot encode request");
        goto done;
    }
    status = http_post(s->conn, der, (size_t)len, &body, &body_len);
    if (status < 0) {
        snprintf(s->transport_err, sizeof(s->transport_err), "transport: %s",
                 s->conn->err);
        goto done;
    }
    p = body;
    /* an error PKIMessage may come with any status; let the client read it */
    if (body_len > 0 && body_len < (size_t)1 << 30)
        rsp = d2i_OSSL_CMP_MSG(NULL, &p, (long)body_len);
    if (rsp == NULL)
        snprintf(s->transport_err, sizeof(s->transport_err),
                 "transport: HTTP %d%s", status,
                 status == 200 ? " without a PKIMessage" : "");
done:
    OPENSSL_free(der);
    return rsp;
}

/* no_root_confirm is the certConf callback of a device without a
 * pre-provisioned operator root: OpenSSL accepted the ip on the strength of
 * the self-signed root in its extraCerts (PERMIT_TA_IN_EXTRACERTS_FOR_IR).
 * The device adopts the root from caPubs, but only when the new certificate
 * chains to it, so that the pkiConf can be verified as well. */
static int no_root_confirm(OSSL_CMP_CTX *ctx, X509 *cert, int fail_info,
                           const char **txt)
{
    STACK_OF(X509) *capubs = NULL;
    X509_STORE *check = NULL;
    X509_STORE_CTX *vctx = NULL;
    int ok = 0;

    fail_info = OSSL_CMP_certConf_cb(ctx, cert, fail_info, txt);
    if (fail_info != 0)
        return fail_info;
    capubs = OSSL_CMP_CTX_get1_caPubs(ctx);
    if (capubs == NULL || sk_X509_num(capubs) == 0) {
        *txt = "no caPubs in the ip";
        goto done;
    }
    if ((check = X509_STORE_new()) == NULL ||
        (vctx = X509_STORE_CTX_new()) == NULL)
        goto done;
    for (int i = 0; i < sk_X509_num(capubs); i++)
        if (!X509_STORE_add_cert(check, sk_X509_value(capubs, i)))
            goto done;
    if (!X509_STORE_CTX_init(vctx, check, cert,
                             OSSL_CMP_CTX_get0_untrusted(ctx)) ||
        X509_verify_cert(vctx) <= 0) {
        *txt = "the new certificate does not chain to the caPubs root";
        goto done;
    }
    ok = 1;
    for (int i = 0; ok && i < sk_X509_num(capubs); i++)
        ok = X509_STORE_add_cert(OSSL_CMP_CTX_get0_trustedStore(ctx),
                                 sk_X509_value(capubs, i));
done:
    X509_STORE_CTX_free(vctx);
    X509_STORE_free(check);
    sk_X509_pop_free(capubs, X509_free);
    return ok ? 0 : 1 << OSSL_CMP_PKIFAILUREINFO_incorrectData;
}

static void classify(OSSL_CMP_CTX *ctx, const struct session *s, char *kind,
                     size_t cap)
{
    int fi = OSSL_CMP_CTX_get_failInfoCode(ctx);
    int status = OSSL_CMP_CTX_get_status(ctx);
    unsigned long e;
    size_t len = 0;

    if (s->transport_err[0] != '\0') {
        snprintf(kind, cap, "%s", s->transport_err);
        return;
    }
    if (fi > 0) {
        kind[0] = '\0';
        for (int b = 0; b < NUM_FAILINFO && len + 1 < cap; b++)
            if ((fi & (1 << b)) != 0)
                len += (size_t)snprintf(kind + len, cap - len, "%s%s",
                                        len > 0 ? "," : "", failinfo_names[b]);
        return;
    }
    if (status == OSSL_CMP_PKISTATUS_rejection) {
        snprintf(kind, cap, "rejection without failInfo");
        return;
    }
    if (status == OSSL_CMP_PKISTATUS_waiting) {
        snprintf(kind, cap, "waiting (manual approval?)");
        return;
    }
    e = ERR_peek_last_error();
    snprintf(kind, cap, "client: %s",
             e != 0 && ERR_reason_error_string(e) != NULL
                 ? ERR_reason_error_string(e)
                 : "failed without a reason");
}

static int setup(OSSL_CMP_CTX *ctx, const struct enroll_cfg *cfg,
                 struct session *s, struct device *d, int kur, EVP_PKEY *key)
{
    X509_STORE *store = cfg->no_root ? X509_STORE_new() : cfg->trust;

    if (store == NULL || (!cfg->no_root && !X509_STORE_up_ref(store)))
        return -1;
    if (!OSSL_CMP_CTX_set0_trustedStore(ctx, store)) {
        X509_STORE_free(store);
        return -1;
    }
    if (!OSSL_CMP_CTX_set_log_cb(ctx, quiet_log) ||
        !OSSL_CMP_CTX_set_transfer_cb(ctx, transfer) ||
        !OSSL_CMP_CTX_set_transfer_cb_arg(ctx, s) ||
        !OSSL_CMP_CTX_set_option(ctx, OSSL_CMP_OPT_IMPLICIT_CONFIRM, 0))
        return -1;
    if (cfg->no_root &&
        (!OSSL_CMP_CTX_set_option(
             ctx, OSSL_CMP_OPT_PERMIT_TA_IN_EXTRACERTS_FOR_IR, 1) ||
         !OSSL_CMP_CTX_set_certConf_cb(ctx, no_root_confirm)))
        return -1;
    if (!EVP_PKEY_up_ref(key))
        return -1;
    if (!OSSL_CMP_CTX_set0_newPkey(ctx, 1, key)) {
        EVP_PKEY_free(key);
        return -1;
    }
    if (kur)
        return OSSL_CMP_CTX_set1_cert(ctx, d->op_cert) &&
                       OSSL_CMP_CTX_set1_pkey(ctx, d->op_key) &&
                       OSSL_CMP_CTX_set1_oldCert(ctx, d->op_cert)
                   ? 0
                   : -1;
    return OSSL_CMP_CTX_set1_cert(ctx, d->vendor_cert) &&
                   OSSL_CMP_CTX_set1_pkey(ctx, d->vendor_key)
               ? 0
               : -1;
}

int enroll_one(const struct enroll_cfg *cfg, struct http_conn *conn,
               struct device *d, int kur, char *kind, size_t kind_cap)
{
    OSSL_CMP_CTX *ctx = OSSL_CMP_CTX_new(NULL, NULL);
    struct session s = {.conn = conn};
    int idx = kur ? 1 - d->op_index : 0;
    X509 *cert = NULL;
    int rc = -1;

    kind[0] = '\0';
    if (kur && d->op_cert == NULL) {
        snprintf(kind, kind_cap, "client: kur without an operator cert");
        goto done;
    }
    if (ctx == NULL || setup(ctx, cfg, &s, d, kur, d->new_key[idx]) != 0) {
        snprintf(kind, kind_cap, "client: cannot set up OSSL_CMP_CTX");
        goto done;
    }
    cert = kur ? OSSL_CMP_exec_KUR_ses(ctx) : OSSL_CMP_exec_IR_ses(ctx);
    if (cert == NULL || !X509_up_ref(cert)) {
        classify(ctx, &s, kind, kind_cap);
        goto done;
    }
    X509_free(d->op_cert);
    d->op_cert = cert; /* the reference taken above */
    d->op_key = d->new_key[idx];
    d->op_index = idx;
    rc = 0;
done:
    OSSL_CMP_CTX_free(ctx);
    ERR_clear_error();
    return rc;
}
