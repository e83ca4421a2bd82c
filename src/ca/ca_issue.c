/*
 * ca_issue.c: signing one end-entity certificate. This runs in every worker
 * thread at once, so it keeps no state of its own: the struct ca is only
 * read, and each call builds its certificate from scratch. What to issue
 * (subject, key, EKUs, names, lifetime) was decided by policy; this file
 * only adds what every end-entity certificate of ours carries.
 */
#include "ca/ca_local.h"

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
    return 0;
}

/* ee_key_usage: digitalSignature always; keyEncipherment only for RSA
 * (RFC 8813 section 3 forbids it for EC keys; RSA-PSS keys cannot encrypt
 * either, and EVP_PKEY_is_a tells them apart from "RSA"). */
static unsigned int ee_key_usage(const EVP_PKEY *pubkey)
{
    unsigned int ku = KU_DIGITAL_SIGNATURE;

    if (EVP_PKEY_is_a(pubkey, "RSA"))
        ku |= KU_KEY_ENCIPHERMENT;
    return ku;
}

int ca_issue(const struct ca *ca, const struct ca_issue_req *r, X509 **out,
             struct cmpca_err *err)
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
        ca_ext_key_usage(x, ee_key_usage(r->pubkey), err) != 0 ||
        ca_ext_eku(x, r->eku_nids, r->num_eku, err) != 0 ||
        ca_ext_skid(x, NULL, err) != 0 || ca_ext_akid(x, ca->skid, err) != 0 ||
        ca_ext_san(x, r->san, err) != 0)
        goto done;
    if (X509_sign(x, ca->key, ca->md) <= 0) {
        cmpca_err_ossl(err, FI_SYSTEM_FAILURE, "cannot sign certificate");
        goto done;
    }
    *out = x;
    x = NULL;
    ret = 0;

done:
    X509_free(x);
    return ret;
}
