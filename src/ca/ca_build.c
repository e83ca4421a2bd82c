/*
 * ca_build.c: the pieces every certificate we sign is made of. The operator
 * root, the issuing CA and each end-entity certificate are built from these
 * same functions, so a fix to how (say) keyUsage is encoded reaches all
 * three. Extensions are built as structures and encoded with X509_add1_ext_i2d
 * rather than parsed from config strings: no text parser sits between a
 * client's request and the bytes we sign.
 */
#include "ca/ca_local.h"

#include <openssl/objects.h>

/* set_validity fills notBefore/notAfter as documented for ca_cert_begin.
 * ASN1_TIME_adj picks UTCTime up to 2049 and GeneralizedTime after, as
 * RFC 5280 4.1.2.5 requires. */
static int set_validity(X509 *x, time_t not_before, int days,
                        const ASN1_TIME *cap, struct cmpca_err *err)
{
    time_t nb = not_before != 0 ? not_before : time(NULL);

    if (days <= 0)
        return cmpca_err_set(err, FI_SYSTEM_FAILURE,
                             "validity of %d days is not positive", days);
    if (ASN1_TIME_adj(X509_getm_notBefore(x), nb, 0, 0) == NULL ||
        ASN1_TIME_adj(X509_getm_notAfter(x), nb, days, 0) == NULL)
        return cmpca_err_ossl(err, FI_SYSTEM_FAILURE, "cannot set validity");
    if (cap == NULL)
        return 0;
    if (ASN1_TIME_compare(X509_get0_notBefore(x), cap) >= 0)
        return cmpca_err_set(err, FI_SYSTEM_FAILURE,
                             "notBefore is not before the issuer expires");
    if (ASN1_TIME_compare(X509_get0_notAfter(x), cap) > 0 &&
        X509_set1_notAfter(x, cap) <= 0)
        return cmpca_err_ossl(err, FI_SYSTEM_FAILURE, "cannot set notAfter");
    return 0;
}

int ca_cert_begin(const X509_NAME *issuer, const X509_NAME *subject,
                  EVP_PKEY *pubkey, time_t not_before, int days,
                  const ASN1_TIME *cap, X509 **out, struct cmpca_err *err)
{
    X509 *x = NULL;
    ASN1_INTEGER *serial = NULL;
    int ret = -1;

    *out = NULL;
    if ((x = X509_new()) == NULL || X509_set_version(x, X509_VERSION_3) <= 0) {
        cmpca_err_ossl(err, FI_SYSTEM_FAILURE, "cannot make certificate");
        goto done;
    }
    if (ca_serial_new(&serial, err) != 0)
        goto done;
    if (X509_set_serialNumber(x, serial) <= 0 ||
        X509_set_issuer_name(x, issuer) <= 0 ||
        X509_set_subject_name(x, subject) <= 0) {
        cmpca_err_ossl(err, FI_SYSTEM_FAILURE, "cannot set serial or names");
        goto done;
    }
    if (X509_set_pubkey(x, pubkey) <= 0) {
        cmpca_err_ossl(err, FI_BAD_CERT_TEMPLATE, "cannot encode public key");
        goto done;
    }
    if (set_validity(x, not_before, days, cap, err) != 0)
        goto done;
    *out = x;
    x = NULL;
    ret = 0;

done:
    ASN1_INTEGER_free(serial);
    X509_free(x);
    return ret;
}

int ca_ext_basic_constraints(X509 *x, int is_ca, int pathlen,
                             struct cmpca_err *err)
{
    BASIC_CONSTRAINTS *bc = NULL;
    int ret = -1;

    if ((bc = BASIC_CONSTRAINTS_new()) == NULL)
        goto done;
    bc->ca = is_ca ? 0xff : 0;
    if (pathlen >= 0 && ((bc->pathlen = ASN1_INTEGER_new()) == NULL ||
                         ASN1_INTEGER_set(bc->pathlen, pathlen) <= 0))
        goto done;
    if (X509_add1_ext_i2d(x, NID_basic_constraints, bc, 1,
                          X509V3_ADD_DEFAULT) <= 0)
        goto done;
    ret = 0;

done:
    if (ret != 0)
        cmpca_err_ossl(err, FI_SYSTEM_FAILURE, "cannot add basicConstraints");
    BASIC_CONSTRAINTS_free(bc);
    return ret;
}

int ca_ext_key_usage(X509 *x, unsigned int ku, struct cmpca_err *err)
{
    ASN1_BIT_STRING *bits = NULL;
    unsigned int flag;
    int n, ret = -1;

    if ((bits = ASN1_BIT_STRING_new()) == NULL)
        goto done;
    /* OpenSSL's KU_* flags read the first content octet as bits 0..7
     * (0x80 is bit 0, digitalSignature) and the second octet's top bit as
     * bit 8, decipherOnly. */
    for (n = 0; n <= 8; n++) {
        flag = n < 8 ? 0x80u >> n : 0x8000u;
        if ((ku & flag) != 0 && ASN1_BIT_STRING_set_bit(bits, n, 1) <= 0)
            goto done;
    }
    if (X509_add1_ext_i2d(x, NID_key_usage, bits, 1, X509V3_ADD_DEFAULT) <= 0)
        goto done;
    ret = 0;

done:
    if (ret != 0)
        cmpca_err_ossl(err, FI_SYSTEM_FAILURE, "cannot add keyUsage");
    ASN1_BIT_STRING_free(bits);
    return ret;
}

int ca_ext_skid(X509 *x, ASN1_OCTET_STRING **out_skid, struct cmpca_err *err)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int md_len = 0;
    ASN1_OCTET_STRING *skid = NULL;
    int ret = -1;

    if (out_skid != NULL)
        *out_skid = NULL;
    if (X509_pubkey_digest(x, EVP_sha1(), md, &md_len) <= 0 ||
        (skid = ASN1_OCTET_STRING_new()) == NULL ||
        ASN1_OCTET_STRING_set(skid, md, (int)md_len) <= 0 ||
        X509_add1_ext_i2d(x, NID_subject_key_identifier, skid, 0,
                          X509V3_ADD_DEFAULT) <= 0) {
        cmpca_err_ossl(err, FI_SYSTEM_FAILURE,
                       "cannot add subjectKeyIdentifier");
        goto done;
    }
    if (out_skid != NULL) {
        *out_skid = skid;
        skid = NULL;
    }
    ret = 0;

done:
    ASN1_OCTET_STRING_free(skid);
    return ret;
}

int ca_ext_akid(X509 *x, const ASN1_OCTET_STRING *keyid, struct cmpca_err *err)
{
    AUTHORITY_KEYID *akid = NULL;
    int ret = -1;

    if (keyid == NULL) {
        cmpca_err_set(err, FI_SYSTEM_FAILURE, "no issuer key identifier");
        return -1;
    }
    if ((akid = AUTHORITY_KEYID_new()) == NULL ||
        (akid->keyid = ASN1_OCTET_STRING_dup(keyid)) == NULL ||
        X509_add1_ext_i2d(x, NID_authority_key_identifier, akid, 0,
                          X509V3_ADD_DEFAULT) <= 0) {
        cmpca_err_ossl(err, FI_SYSTEM_FAILURE,
                       "cannot add authorityKeyIdentifier");
        goto done;
    }
    ret = 0;

done:
    AUTHORITY_KEYID_free(akid);
    return ret;
}

int ca_ext_eku(X509 *x, const int *nids, int num_nids, struct cmpca_err *err)
{
    EXTENDED_KEY_USAGE *eku = NULL;
    ASN1_OBJECT *obj;
    int i, ret = -1;

    if (num_nids <= 0)
        return 0;
    if (nids == NULL)
        return cmpca_err_set(err, FI_SYSTEM_FAILURE, "no EKU list");
    if ((eku = sk_ASN1_OBJECT_new_null()) == NULL) {
        cmpca_err_ossl(err, FI_SYSTEM_FAILURE, "out of memory");
        goto done;
    }
    for (i = 0; i < num_nids; i++) {
        /* borrowed from OpenSSL's object table: the stack is freed with
         * sk_ASN1_OBJECT_free, not pop_free */
        if ((obj = OBJ_nid2obj(nids[i])) == NULL || OBJ_length(obj) == 0) {
            cmpca_err_ossl(err, FI_SYSTEM_FAILURE, "unknown EKU NID %d",
                           nids[i]);
            goto done;
        }
        if (sk_ASN1_OBJECT_push(eku, obj) <= 0) {
            cmpca_err_ossl(err, FI_SYSTEM_FAILURE, "out of memory");
            goto done;
        }
    }
    if (X509_add1_ext_i2d(x, NID_ext_key_usage, eku, 0, X509V3_ADD_DEFAULT) <=
        0) {
        cmpca_err_ossl(err, FI_SYSTEM_FAILURE, "cannot add extendedKeyUsage");
        goto done;
    }
    ret = 0;

done:
    sk_ASN1_OBJECT_free(eku);
    return ret;
}

int ca_ext_san(X509 *x, const GENERAL_NAMES *san, struct cmpca_err *err)
{
    int crit = X509_NAME_entry_count(X509_get_subject_name(x)) == 0;

    if (san == NULL || sk_GENERAL_NAME_num(san) <= 0)
        return 0;
    /* X509_add1_ext_i2d only encodes `san`; the cast drops const for its
     * void * parameter, nothing is written through it */
    if (X509_add1_ext_i2d(x, NID_subject_alt_name, (GENERAL_NAMES *)san, crit,
                          X509V3_ADD_DEFAULT) <= 0)
        return cmpca_err_ossl(err, FI_BAD_CERT_TEMPLATE,
                              "cannot encode subjectAltName");
    return 0;
}
