/*
 * ca_check.c: the last look at a certificate before it may leave the CA.
 * Public CAs have issued certificates with a missing key identifier, an
 * over-long validity or CA:TRUE by mistake, each found only after release;
 * checking the signed result against the rules it must meet costs a few
 * microseconds and turns such a slip into a refused request instead.
 */
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "ca/ca_local.h"

#define MAX_SERIAL_OCTETS 20 /* RFC 5280 4.1.2.2 */

static int no_duplicates(X509 *x)
{
    int i, n = X509_get_ext_count(x);

    for (i = 0; i < n; i++) {
        const ASN1_OBJECT *obj =
            X509_EXTENSION_get_object(X509_get_ext(x, i));

        if (X509_get_ext_by_OBJ(x, obj, i) >= 0)
            return 0;
    }
    return 1;
}

static int serial_ok(const ASN1_INTEGER *serial)
{
    return ASN1_STRING_type(serial) == V_ASN1_INTEGER &&
           ASN1_STRING_length(serial) >= 1 &&
           ASN1_STRING_length(serial) <= MAX_SERIAL_OCTETS &&
           ASN1_STRING_get0_data(serial)[0] != 0; /* positive, minimal */
}

static int validity_inside(const struct ca *ca, X509 *x)
{
    return ASN1_TIME_compare(X509_get0_notBefore(x),
                             X509_get0_notBefore(ca->cert)) >= 0 &&
           ASN1_TIME_compare(X509_get0_notAfter(x),
                             X509_get0_notAfter(ca->cert)) <= 0 &&
           ASN1_TIME_compare(X509_get0_notBefore(x),
                             X509_get0_notAfter(x)) < 0;
}

static const char *first_problem(const struct ca *ca, X509 *x)
{
    uint32_t flags;
    const ASN1_OCTET_STRING *akid;

    if (X509_verify(x, X509_get0_pubkey(ca->cert)) <= 0)
        return "signature does not verify";
    if (X509_get_version(x) != X509_VERSION_3)
        return "not a v3 certificate";
    if (X509_NAME_cmp(X509_get_issuer_name(x),
                      X509_get_subject_name(ca->cert)) != 0)
        return "issuer is not the issuing CA";
    if (!serial_ok(X509_get0_serialNumber(x)))
        return "serial number not positive or longer than 20 octets";
    if (!validity_inside(ca, x))
        return "validity not inside the issuing CA's";
    if (!no_duplicates(x))
        return "an extension appears twice";
    flags = X509_get_extension_flags(x); /* also fills the caches below */
    if ((flags & EXFLAG_INVALID) != 0)
        return "an extension does not decode";
    if ((flags & EXFLAG_BCONS) == 0 || (flags & EXFLAG_CA) != 0)
        return "basicConstraints missing or CA:TRUE";
    if ((flags & EXFLAG_KUSAGE) == 0 ||
        (X509_get_key_usage(x) & (KU_KEY_CERT_SIGN | KU_CRL_SIGN)) != 0)
        return "keyUsage missing or allows certificate/CRL signing";
    if (X509_get0_subject_key_id(x) == NULL)
        return "subjectKeyIdentifier missing";
    akid = X509_get0_authority_key_id(x);
    if (akid == NULL || ca->skid == NULL ||
        ASN1_OCTET_STRING_cmp(akid, ca->skid) != 0)
        return "authorityKeyIdentifier missing or not ours";
    return NULL;
}

int ca_check_issued(const struct ca *ca, X509 *x, struct cmpca_err *err)
{
    const char *why = first_problem(ca, x);

    ERR_clear_error();
    if (why == NULL)
        return 0;
    return cmpca_err_set(err, FI_SYSTEM_FAILURE,
                         "issued certificate withheld: %s", why);
}
