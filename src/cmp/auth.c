/*
 * auth.c: who is asking. After the protection verified, the protecting
 * certificate says who signed; this file decides what that signer is:
 * a device's vendor certificate (initial enrollment, TS 33.310 9.5.4), or an
 * operator certificate this CA issued and still considers valid (renewal,
 * additional certificates, revocation: TS 33.310 9.5.3). The distinction is
 * made by issuer and signature, never by what the client claims.
 */
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "ca/ca.h"
#include "cmp/cmp_local.h"

int cmp_signer_is_ours(const struct cmp_req *rq)
{
    X509 *ca = ca_get0_cert(rq->srv->ca);
    int ok;

    if (rq->signer == NULL || X509_check_issued(ca, rq->signer) != X509_V_OK)
        return 0;
    ok = X509_verify(rq->signer, X509_get0_pubkey(ca)) > 0;
    ERR_clear_error();
    return ok;
}

/* The store row of `cert` if this CA issued it; notAuthorized otherwise. */
static int row_of(const struct cmp_req *rq, X509 *cert, struct store_cert *row,
                  struct cmpca_err *err)
{
    unsigned char *der = NULL;
    char *hex = ca_serial_hex(X509_get0_serialNumber(cert));
    int len, rc;

    memset(row, 0, sizeof(*row));
    if (hex == NULL)
        return cmpca_err_set(err, FI_SYSTEM_FAILURE, "out of memory");
    rc = store_cert_get(rq->srv->st, hex, row, err);
    free(hex);
    if (rc == STORE_NOTFOUND)
        return cmpca_err_set(err, FI_NOT_AUTHORIZED,
                             "certificate not issued by this CA");
    if (rc != 0)
        return -1;
    len = i2d_X509(cert, &der);
    rc = len > 0 && (size_t)len == row->der_len &&
         memcmp(der, row->der, row->der_len) == 0;
    OPENSSL_free(der);
    if (!rc) {
        store_cert_clear(row);
        return cmpca_err_set(err, FI_NOT_AUTHORIZED,
                             "certificate not issued by this CA");
    }
    return 0;
}

int cmp_auth_operator(struct cmp_req *rq, struct store_cert *row,
                      struct cmpca_err *err)
{
    X509 *s = rq->signer;

    memset(row, 0, sizeof(*row));
    if (!cmp_signer_is_ours(rq))
        return cmpca_err_set(err, FI_NOT_AUTHORIZED,
                             "request must be signed with an operator "
                             "certificate of this CA");
    if (row_of(rq, s, row, err) != 0)
        return -1;
    if (row->revoked_at != 0 || row->status == CERT_REVOKED ||
        row->status == CERT_REJECTED) {
        cmpca_err_set(err, FI_CERT_REVOKED, "signer certificate is revoked");
        goto fail;
    }
    if (row->status != CERT_CONFIRMED) {
        cmpca_err_set(err, FI_NOT_AUTHORIZED,
                      "signer certificate was never confirmed");
        goto fail;
    }
    if (X509_cmp_time(X509_get0_notAfter(s), &rq->now) < 0 ||
        X509_cmp_time(X509_get0_notBefore(s), &rq->now) > 0) {
        cmpca_err_set(err, FI_SIGNER_NOT_TRUSTED,
                      "signer certificate is expired or not yet valid");
        goto fail;
    }
    if ((X509_get_extension_flags(s) & EXFLAG_KUSAGE) != 0 &&
        (X509_get_key_usage(s) & KU_DIGITAL_SIGNATURE) == 0) {
        cmpca_err_set(err, FI_SIGNER_NOT_TRUSTED,
                      "signer certificate may not sign (keyUsage)");
        goto fail;
    }
    memset(&rq->dev, 0, sizeof(rq->dev));
    if (row->vendor != NULL && row->device != NULL) {
        snprintf(rq->dev.vendor, sizeof(rq->dev.vendor), "%s", row->vendor);
        snprintf(rq->dev.serial, sizeof(rq->dev.serial), "%s", row->device);
    }
    return 0;
fail:
    store_cert_clear(row);
    return -1;
}

int cmp_auth_any(struct cmp_req *rq, struct cmpca_err *err)
{
    struct store_cert row;

    if (cmp_signer_is_ours(rq)) {
        if (cmp_auth_operator(rq, &row, err) != 0)
            return -1;
        store_cert_clear(&row);
        return 0;
    }
    return policy_vendor_authenticate(rq->srv->st, rq->signer,
                                      rq->msg->extraCerts, rq->now, &rq->dev,
                                      err);
}
