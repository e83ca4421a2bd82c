/*
 * ca_crl.c: the certificate revocation list (RFC 5280 section 5). A CRL is
 * built from scratch each time from the store's revoked list, so there is
 * no CRL state to keep in step with the database: the server republishes on
 * a timer and after each revocation, and the CLI does the same.
 *
 * The number is drawn before the revoked list is read (see
 * store_sqlite_revoke.c): a CRL with a higher number then never lists less
 * than one with a lower number, so the store may simply keep the highest.
 *
 * Entries whose certificate expired more than one CRL lifetime ago are left
 * out: RFC 5280 3.3 asks that an entry stay until it has appeared on one
 * scheduled CRL issued after the certificate expired, and every CRL issued
 * within `validity_secs` of the expiry still carries it. Without this a CRL
 * would grow for ever.
 */
#include "ca/ca_local.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>

/* What the revoked-list callback needs; it cannot return an error itself. */
struct crl_fill {
    X509_CRL *crl;
    time_t keep_after; /* entries of certificates expired before: dropped */
    int failed;
    struct cmpca_err *err;
};

/* serial_from_hex turns the store's canonical hex serial into a new
 * INTEGER, or NULL. */
static ASN1_INTEGER *serial_from_hex(const char *hex)
{
    BIGNUM *bn = NULL;
    ASN1_INTEGER *serial = NULL;
    size_t len = hex != NULL ? strlen(hex) : 0;

    if (len == 0 || len > INT_MAX || BN_hex2bn(&bn, hex) != (int)len)
        goto done;
    serial = BN_to_ASN1_INTEGER(bn, NULL);

done:
    BN_free(bn);
    return serial;
}

/* RFC 5280 5.3.1: reasonCode is absent rather than unspecified (0); 7 is
 * not a code. */
static int reason_listed(int reason)
{
    return reason >= 1 && reason <= 10 && reason != 7;
}

static int entry_new(const struct store_cert *c, X509_REVOKED **out,
                     struct cmpca_err *err)
{
    X509_REVOKED *rev = NULL;
    ASN1_INTEGER *serial = NULL;
    ASN1_TIME *when = NULL;
    ASN1_ENUMERATED *reason = NULL;
    int ret = -1;

    *out = NULL;
    if ((serial = serial_from_hex(c->serial_hex)) == NULL) {
        cmpca_err_ossl(err, FI_SYSTEM_FAILURE,
                       "crl: stored serial \"%.64s\" is not hex",
                       c->serial_hex != NULL ? c->serial_hex : "(null)");
        goto done;
    }
    if ((rev = X509_REVOKED_new()) == NULL ||
        X509_REVOKED_set_serialNumber(rev, serial) <= 0 ||
        (when = ASN1_TIME_set(NULL, c->revoked_at)) == NULL ||
        X509_REVOKED_set_revocationDate(rev, when) <= 0) {
        cmpca_err_ossl(err, FI_SYSTEM_FAILURE, "crl: cannot make an entry");
        goto done;
    }
    if (reason_listed(c->reason) &&
        ((reason = ASN1_ENUMERATED_new()) == NULL ||
         ASN1_ENUMERATED_set(reason, c->reason) <= 0 ||
         X509_REVOKED_add1_ext_i2d(rev, NID_crl_reason, reason, 0,
                                   X509V3_ADD_DEFAULT) <= 0)) {
        cmpca_err_ossl(err, FI_SYSTEM_FAILURE, "crl: cannot add reasonCode");
        goto done;
    }
    *out = rev;
    rev = NULL;
    ret = 0;

done:
    ASN1_ENUMERATED_free(reason);
    ASN1_TIME_free(when);
    ASN1_INTEGER_free(serial);
    X509_REVOKED_free(rev);
    return ret;
}

static int add_entry(void *arg, const struct store_cert *c)
{
    struct crl_fill *f = arg;
    X509_REVOKED *rev = NULL;

    if (c->not_after < f->keep_after)
        return 0;
    if (entry_new(c, &rev, f->err) != 0) {
        f->failed = 1;
        return 1; /* stop: the CRL cannot be complete */
    }
    if (X509_CRL_add0_revoked(f->crl, rev) <= 0) {
        X509_REVOKED_free(rev);
        cmpca_err_ossl(f->err, FI_SYSTEM_FAILURE, "crl: cannot add an entry");
        f->failed = 1;
        return 1;
    }
    return 0;
}

/* crl_extensions adds authorityKeyIdentifier (the issuing CA's key id) and
 * cRLNumber, both non-critical (RFC 5280 5.2.1, 5.2.3). */
static int crl_extensions(const struct ca *ca, X509_CRL *crl, long long number,
                          struct cmpca_err *err)
{
    AUTHORITY_KEYID *akid = NULL;
    ASN1_INTEGER *num = NULL;
    int ret = -1;

    if ((akid = AUTHORITY_KEYID_new()) == NULL ||
        (akid->keyid = ASN1_OCTET_STRING_dup(ca->skid)) == NULL ||
        X509_CRL_add1_ext_i2d(crl, NID_authority_key_identifier, akid, 0,
                              X509V3_ADD_DEFAULT) <= 0) {
        cmpca_err_ossl(err, FI_SYSTEM_FAILURE,
                       "crl: cannot add authorityKeyIdentifier");
        goto done;
    }
    if ((num = ASN1_INTEGER_new()) == NULL ||
        ASN1_INTEGER_set_int64(num, number) <= 0 ||
        X509_CRL_add1_ext_i2d(crl, NID_crl_number, num, 0,
                              X509V3_ADD_DEFAULT) <= 0) {
        cmpca_err_ossl(err, FI_SYSTEM_FAILURE, "crl: cannot add cRLNumber");
        goto done;
    }
    ret = 0;

done:
    ASN1_INTEGER_free(num);
    AUTHORITY_KEYID_free(akid);
    return ret;
}

/* crl_begin makes an unsigned v2 CRL without entries: issuer, thisUpdate
 * `now`, nextUpdate `validity_secs` later, extensions. */
static int crl_begin(const struct ca *ca, long long number, time_t now,
                     int validity_secs, X509_CRL **out, struct cmpca_err *err)
{
    X509_CRL *crl = NULL;
    ASN1_TIME *this_update = NULL, *next_update = NULL;
    int ret = -1;

    *out = NULL;
    if ((crl = X509_CRL_new()) == NULL ||
        X509_CRL_set_version(crl, X509_CRL_VERSION_2) <= 0 ||
        X509_CRL_set_issuer_name(crl, X509_get_subject_name(ca->cert)) <= 0 ||
        (this_update = ASN1_TIME_set(NULL, now)) == NULL ||
        (next_update = ASN1_TIME_adj(NULL, now, 0, validity_secs)) == NULL ||
        X509_CRL_set1_lastUpdate(crl, this_update) <= 0 ||
        X509_CRL_set1_nextUpdate(crl, next_update) <= 0) {
        cmpca_err_ossl(err, FI_SYSTEM_FAILURE, "crl: cannot make a CRL");
        goto done;
    }
    if (crl_extensions(ca, crl, number, err) != 0)
        goto done;
    *out = crl;
    crl = NULL;
    ret = 0;

done:
    ASN1_TIME_free(this_update);
    ASN1_TIME_free(next_update);
    X509_CRL_free(crl);
    return ret;
}

/* crl_sign_save sorts the entries by serial, signs, and saves the DER as
 * the current CRL `name`. */
static int crl_sign_save(const struct ca *ca, struct store *st,
                         const char *name, X509_CRL *crl, struct store_crl *rec,
                         struct cmpca_err *err)
{
    unsigned char *der = NULL;
    int len, ret = -1;

    if (X509_CRL_sort(crl) <= 0 || X509_CRL_sign(crl, ca->key, ca->md) <= 0) {
        cmpca_err_ossl(err, FI_SYSTEM_FAILURE, "crl: cannot sign the CRL");
        goto done;
    }
    if ((len = i2d_X509_CRL(crl, &der)) <= 0) {
        cmpca_err_ossl(err, FI_SYSTEM_FAILURE, "crl: cannot encode the CRL");
        goto done;
    }
    rec->der = der;
    rec->der_len = (size_t)len;
    if (store_crl_save(st, name, rec, err) != 0)
        goto done;
    ret = 0;

done:
    rec->der = NULL;
    OPENSSL_free(der);
    return ret;
}

int ca_crl_publish(const struct ca *ca, struct store *st, const char *name,
                   int validity_secs, X509_CRL **out, struct cmpca_err *err)
{
    struct store_crl rec = {0};
    struct crl_fill fill = {NULL, 0, 0, err};
    X509_CRL *crl = NULL;
    time_t now = time(NULL);
    int ret = -1;

    if (out != NULL)
        *out = NULL;
    if (ca == NULL || st == NULL || name == NULL)
        return cmpca_err_set(err, FI_SYSTEM_FAILURE,
                             "crl: missing CA, store or name");
    if (validity_secs <= 0)
        return cmpca_err_set(err, FI_SYSTEM_FAILURE,
                             "crl: validity of %d s is not positive",
                             validity_secs);
    /* first the number, then the list: see the comment at the top */
    if (store_crl_next_number(st, name, &rec.number, err) != 0)
        goto done;
    if (crl_begin(ca, rec.number, now, validity_secs, &crl, err) != 0)
        goto done;
    fill.crl = crl;
    fill.keep_after = now - validity_secs;
    if (store_cert_foreach_revoked(st, add_entry, &fill, err) != 0 ||
        fill.failed)
        goto done;
    rec.this_update = now;
    rec.next_update = now + validity_secs;
    if (crl_sign_save(ca, st, name, crl, &rec, err) != 0)
        goto done;
    if (out != NULL) {
        *out = crl;
        crl = NULL;
    }
    ret = 0;

done:
    X509_CRL_free(crl);
    return ret;
}
