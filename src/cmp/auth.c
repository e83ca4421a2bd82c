/*
 * auth.c: who is asking. After the protection verified, the protecting
 * certificate says who signed; this file decides what that signer is:
 * a device's vendor certificate (initial enrollment, TS 33.310 9.5.4), or an
 * operator certificate this CA issued and still considers valid (renewal,
 * additional certificates, revocation: TS 33.310 9.5.3). The distinction is
 * made by issuer and signature, never by what the client claims.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
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
    if (!cmp_signer_is_ours(rq)) {
        /* our name as issuer but not our signature: a forgery */
        if (s != NULL && X509_NAME_cmp(X509_get_issuer_name(s),
                                       X509_get_subject_name(ca_get0_cert(
                                           rq->srv->ca))) == 0)
            return cmpca_err_set(err, FI_SIGNER_NOT_TRUSTED,
                                 "signer certificate names this CA as "
                                 "issuer but was not signed by it");
        return cmpca_err_set(err, FI_NOT_AUTHORIZED,
                             "request must be signed with an operator "
                             "certificate of this CA");
    }
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
    int ra;

    if ((ra = cmp_auth_ra(rq, err)) != 0)
        return ra < 0 ? -1 : 0;

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

/* The registered RA whose pinned certificate is `cert`, or none. */
static int ra_lookup(struct store *st, X509 *cert, struct store_ra **out,
                     struct cmpca_err *err)
{
    struct store_ra *ras = NULL;
    size_t i, n = 0;
    BIO *bio;
    X509 *x;
    int found = -1;

    *out = NULL;
    if (store_ra_list(st, &ras, &n, err) != 0)
        return -1;
    for (i = 0; i < n && found < 0; i++) {
        if ((bio = BIO_new_mem_buf(ras[i].cert_pem, -1)) == NULL)
            break;
        x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
        BIO_free(bio);
        if (x != NULL && X509_cmp(x, cert) == 0)
            found = (int)i;
        X509_free(x);
    }
    ERR_clear_error();
    if (found >= 0 && (*out = calloc(1, sizeof(**out))) != NULL) {
        **out = ras[found]; /* moves the strings */
        memset(&ras[found], 0, sizeof(ras[found]));
    }
    store_ra_list_free(ras, n);
    return found >= 0 && *out == NULL
               ? cmpca_err_set(err, FI_SYSTEM_FAILURE, "out of memory")
               : 0;
}

int cmp_auth_ra(struct cmp_req *rq, struct cmpca_err *err)
{
    X509 *s = rq->signer;

    if (s == NULL) /* MAC-protected: no certificate, no RA */
        return 0;
    if (rq->ra != NULL)
        return 1;

    if (ra_lookup(rq->srv->st, s, &rq->ra, err) != 0)
        return -1;
    if (rq->ra == NULL)
        return 0;
    if (X509_cmp_time(X509_get0_notAfter(s), &rq->now) < 0 ||
        X509_cmp_time(X509_get0_notBefore(s), &rq->now) > 0)
        return cmpca_err_set(err, FI_SIGNER_NOT_TRUSTED,
                             "RA %s: certificate expired or not yet valid",
                             rq->ra->name);
    if ((X509_get_extension_flags(s) & EXFLAG_KUSAGE) != 0 &&
        (X509_get_key_usage(s) & KU_DIGITAL_SIGNATURE) == 0)
        return cmpca_err_set(err, FI_SIGNER_NOT_TRUSTED,
                             "RA %s: certificate may not sign (keyUsage)",
                             rq->ra->name);
    return 1;
}

void cmp_ra_free(struct store_ra *ra)
{
    store_ra_clear(ra);
    free(ra);
}

int cmp_ra_serves(const struct store_ra *ra, const char *vendor)
{
    const char *p = ra->vendors;
    size_t len = strlen(vendor);

    if (strcmp(p, "*") == 0)
        return 1;
    while (*p != '\0') {
        const char *end = strchr(p, ',');
        size_t n = end != NULL ? (size_t)(end - p) : strlen(p);

        if (n == len && strncmp(p, vendor, len) == 0)
            return 1;
        p += n;
        if (*p == ',')
            p++;
    }
    return 0;
}

/* The identity attribute a vendor uses, read from a subject the RA sent. */
static int subject_id(const X509_NAME *name, const char *id_attr, char *out,
                      size_t cap)
{
    int nid = strcmp(id_attr, "CN") == 0 ? NID_commonName : NID_serialNumber;
    int idx = X509_NAME_get_index_by_NID(name, nid, -1);
    unsigned char *utf8 = NULL;
    int len;

    if (idx < 0 || X509_NAME_get_index_by_NID(name, nid, idx) >= 0)
        return -1;
    len = ASN1_STRING_to_UTF8(
        &utf8, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, idx)));
    if (len <= 0 || (size_t)len >= cap || memchr(utf8, '\0', len) != NULL) {
        OPENSSL_free(utf8);
        return -1;
    }
    memcpy(out, utf8, (size_t)len);
    out[len] = '\0';
    OPENSSL_free(utf8);
    return 0;
}

int cmp_ra_device(struct cmp_req *rq, const X509_NAME *subject,
                  struct cmpca_err *err)
{
    struct store_vendor *vs = NULL;
    struct store_device d;
    char id[POLICY_SERIAL_MAX + 1];
    size_t i, n = 0;
    int rc, found = 0, elsewhere = 0;

    if (subject == NULL)
        return cmpca_err_set(err, FI_BAD_CERT_TEMPLATE,
                             "an RA request must name the device in the "
                             "template subject");
    if (store_vendor_list(rq->srv->st, &vs, &n, err) != 0)
        return -1;
    for (i = 0; i < n && !found; i++) {
        if (subject_id(subject, vs[i].id_attr, id, sizeof(id)) != 0)
            continue;
        memset(&d, 0, sizeof(d));
        rc = store_device_get(rq->srv->st, vs[i].name, id, &d, err);
        store_device_clear(&d);
        if (rc != 0)
            continue;
        if (!cmp_ra_serves(rq->ra, vs[i].name)) {
            elsewhere = 1;
            continue;
        }
        snprintf(rq->dev.vendor, sizeof(rq->dev.vendor), "%s", vs[i].name);
        snprintf(rq->dev.serial, sizeof(rq->dev.serial), "%s", id);
        found = 1;
    }
    store_vendor_list_free(vs, n);
    if (found)
        return 0;
    return cmpca_err_set(err, FI_NOT_AUTHORIZED,
                         elsewhere ? "RA %s may not serve this device's vendor"
                                   : "RA %s: the template subject names no "
                                     "registered device",
                         rq->ra->name);
}

int cmp_ra_cert_for_sender(struct cmp_req *rq, struct cmpca_err *err)
{
    const GENERAL_NAME *sender = rq->msg->header->sender;
    struct store_ra *ras = NULL;
    size_t i, n = 0;
    BIO *bio;
    X509 *x;

    if (sender == NULL || sender->type != GEN_DIRNAME)
        return 1;
    if (store_ra_list(rq->srv->st, &ras, &n, err) != 0)
        return -1;
    for (i = 0; i < n && rq->owned_signer == NULL; i++) {
        if ((bio = BIO_new_mem_buf(ras[i].cert_pem, -1)) == NULL)
            break;
        x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
        BIO_free(bio);
        if (x != NULL && X509_NAME_cmp(X509_get_subject_name(x),
                                       sender->d.directoryName) == 0)
            rq->owned_signer = x;
        else
            X509_free(x);
    }
    ERR_clear_error();
    store_ra_list_free(ras, n);
    return rq->owned_signer != NULL ? 0 : 1;
}
