/*
 * ca_issue.c: signing one end-entity certificate. This runs in every worker
 * thread at once, so it keeps no state of its own: the struct ca is only
 * read, and each call builds its certificate from scratch. What to issue
 * (subject, key, EKUs, names, lifetime) was decided by policy; this file
 * only adds what every end-entity certificate of ours carries.
 */
#include "ca/ca_local.h"

#include <string.h>

/* The keyUsage bits a profile may ask for. keyCertSign is not among them:
 * RFC 5280 4.2.1.3 allows it only with cA TRUE, and these are end-entity
 * certificates. */
#define EE_KU_ALLOWED                                                          \
    (KU_DIGITAL_SIGNATURE | KU_NON_REPUDIATION | KU_KEY_ENCIPHERMENT |         \
     KU_DATA_ENCIPHERMENT | KU_KEY_AGREEMENT | KU_CRL_SIGN |                   \
     KU_ENCIPHER_ONLY | KU_DECIPHER_ONLY)

/* A CRL distribution point URI is an IA5String; a real one is short. */
#define CRL_URL_MAX 1024

static int check_key_usage(int ku, struct cmpca_err *err)
{
    if (ku < 0 || (ku & ~EE_KU_ALLOWED) != 0)
        return cmpca_err_set(err, FI_SYSTEM_FAILURE,
                             "issue: keyUsage bits 0x%x are not allowed in "
                             "an end-entity certificate",
                             (unsigned int)ku);
    /* RFC 5280 4.2.1.3: their meaning is undefined without keyAgreement */
    if ((ku & (KU_ENCIPHER_ONLY | KU_DECIPHER_ONLY)) != 0 &&
        (ku & KU_KEY_AGREEMENT) == 0)
        return cmpca_err_set(err, FI_SYSTEM_FAILURE,
                             "issue: encipherOnly/decipherOnly need "
                             "keyAgreement");
    return 0;
}

/* Printable ASCII without blanks, with a scheme: what fits an IA5String
 * URI and cannot smuggle a second name or a control character. */
static int check_crl_url(const char *url, struct cmpca_err *err)
{
    size_t i, len;

    if (url == NULL)
        return 0;
    len = strlen(url);
    if (len == 0 || len > CRL_URL_MAX || strchr(url, ':') == NULL)
        return cmpca_err_set(err, FI_SYSTEM_FAILURE,
                             "issue: CRL URL must be a URI of 1-%d characters",
                             CRL_URL_MAX);
    for (i = 0; i < len; i++)
        if (url[i] <= 0x20 || url[i] >= 0x7f)
            return cmpca_err_set(err, FI_SYSTEM_FAILURE,
                                 "issue: CRL URL holds a blank or non-ASCII "
                                 "character at offset %zu",
                                 i);
    return 0;
}

static int check_req(const struct ca *ca, const struct ca_issue_req *r,
                     struct cmpca_err *err)
{
    if (ca == NULL || r == NULL || r->subject == NULL || r->pubkey == NULL)
        return cmpca_err_set(err, FI_SYSTEM_FAILURE,
                             "issue: missing CA, subject or public key");
    if (r->validity_days <= 0)
        return cmpca_err_set(err, FI_SYSTEM_FAILURE,
                             "issue: validity of %d days is not positive",
                             r->validity_days);
    if (r->num_eku < 0 || (r->num_eku > 0 && r->eku_nids == NULL))
        return cmpca_err_set(err, FI_SYSTEM_FAILURE, "issue: bad EKU list");
    if (check_key_usage(r->key_usage, err) != 0 ||
        check_crl_url(r->crl_url, err) != 0)
        return -1;
    return 0;
}

/* ee_key_usage: the profile's bits when it names any; else
 * digitalSignature, plus keyEncipherment only for RSA (RFC 8813 section 3
 * forbids it for EC keys; RSA-PSS keys cannot encrypt either, and
 * EVP_PKEY_is_a tells them apart from "RSA"). */
static unsigned int ee_key_usage(const struct ca_issue_req *r)
{
    unsigned int ku = KU_DIGITAL_SIGNATURE;

    if (r->key_usage != 0)
        return (unsigned int)r->key_usage;

    if (EVP_PKEY_is_a(r->pubkey, "RSA"))
        ku |= KU_KEY_ENCIPHERMENT;
    return ku;
}

/* ext_crl_dp adds a non-critical cRLDistributionPoints with one
 * distribution point whose fullName is the URI `url`; nothing when url is
 * NULL. */
static int ext_crl_dp(X509 *x, const char *url, struct cmpca_err *err)
{
    CRL_DIST_POINTS *dps = NULL;
    DIST_POINT *dp = NULL;
    GENERAL_NAME *gn = NULL;
    ASN1_IA5STRING *uri = NULL;
    int ret = -1;

    if (url == NULL)
        return 0;
    if ((uri = ASN1_IA5STRING_new()) == NULL ||
        ASN1_STRING_set(uri, url, (int)strlen(url)) <= 0 ||
        (gn = GENERAL_NAME_new()) == NULL)
        goto done;
    GENERAL_NAME_set0_value(gn, GEN_URI, uri);
    uri = NULL;
    if ((dp = DIST_POINT_new()) == NULL ||
        (dp->distpoint = DIST_POINT_NAME_new()) == NULL ||
        (dp->distpoint->name.fullname = GENERAL_NAMES_new()) == NULL)
        goto done;
    dp->distpoint->type = 0; /* fullName */
    if (!sk_GENERAL_NAME_push(dp->distpoint->name.fullname, gn))
        goto done;
    gn = NULL;
    if ((dps = CRL_DIST_POINTS_new()) == NULL || !sk_DIST_POINT_push(dps, dp))
        goto done;
    dp = NULL;
    if (X509_add1_ext_i2d(x, NID_crl_distribution_points, dps, 0,
                          X509V3_ADD_DEFAULT) <= 0)
        goto done;
    ret = 0;

done:
    if (ret != 0)
        cmpca_err_ossl(err, FI_SYSTEM_FAILURE,
                       "cannot add cRLDistributionPoints");
    CRL_DIST_POINTS_free(dps);
    DIST_POINT_free(dp);
    GENERAL_NAME_free(gn);
    ASN1_IA5STRING_free(uri);
    return ret;
}

int ca_issue_prepare(const struct ca *ca, const struct ca_issue_req *r,
                     X509 **out, struct cmpca_err *err)
{
    X509 *x = NULL;
    int ret = -1;

    *out = NULL;
    if (check_req(ca, r, err) != 0)
        return -1;
    if (ca_cert_begin(X509_get_subject_name(ca->cert), r->subject, r->pubkey,
                      r->not_before, r->validity_days,
                      X509_get0_notAfter(ca->cert), &x, err) != 0)
        goto done;
    if (ca_ext_basic_constraints(x, 0, -1, err) != 0 ||
        ca_ext_key_usage(x, ee_key_usage(r), err) != 0 ||
        ca_ext_eku(x, r->eku_nids, r->num_eku, err) != 0 ||
        ca_ext_skid(x, NULL, err) != 0 || ca_ext_akid(x, ca->skid, err) != 0 ||
        ca_ext_san(x, r->san, err) != 0 || ext_crl_dp(x, r->crl_url, err) != 0)
        goto done;
    *out = x;
    x = NULL;
    ret = 0;

done:
    X509_free(x);
    return ret;
}

int ca_issue_sign(const struct ca *ca, X509 *x, struct cmpca_err *err)
{
    if (X509_sign(x, ca->key, ca->md) <= 0)
        return cmpca_err_ossl(err, FI_SYSTEM_FAILURE,
                              "cannot sign certificate");
    return ca_check_issued(ca, x, err);
}

int ca_issue(const struct ca *ca, const struct ca_issue_req *r, X509 **out,
             struct cmpca_err *err)
{
    if (ca_issue_prepare(ca, r, out, err) != 0)
        return -1;
    if (ca_issue_sign(ca, *out, err) != 0) {
        X509_free(*out);
        *out = NULL;
        return -1;
    }
    return 0;
}
