/*
 * cmp_asn1_genm.c: the infoValue types of the RFC 9480 general messages
 * (PKIXCMP-2023: CertReqTemplateContent, CRLSource, CRLStatus and the
 * SEQUENCE OF wrappers CRLStatusListValue, CaCertsValue, CRLsValue), which
 * OpenSSL 3.0 knows only as OIDs, or not at all.
 *
 * The module is EXPLICIT TAGS, so CRLSource's [0] and [1] are explicit
 * (DistributionPointName is a CHOICE and would be explicit anyway).
 * CertReqTemplateContent reuses the CRMF CertTemplate and AttributeTypeAndValue
 * of cmp_asn1_crmf.c.
 *
 * The ids of rootCaCert, crlStatusList and crls have no NID in OpenSSL 3.0.
 * Registering them with OBJ_create would change a process-wide table; the
 * handlers compare DER content octets instead and build their own objects.
 */
#include <string.h>

#include <openssl/objects.h>

#include "asn1/cmp_asn1.h"

/* clang-format off */

ASN1_ITEM_TEMPLATE(CMPCA_CRL_STATUS_LIST) =
    ASN1_EX_TEMPLATE_TYPE(ASN1_TFLG_SEQUENCE_OF, 0, CRLStatusListValue,
                          CMPCA_CRL_STATUS)
ASN1_ITEM_TEMPLATE_END(CMPCA_CRL_STATUS_LIST)
IMPLEMENT_ASN1_FUNCTIONS(CMPCA_CRL_STATUS_LIST)

ASN1_ITEM_TEMPLATE(CMPCA_CA_CERTS_VALUE) =
    ASN1_EX_TEMPLATE_TYPE(ASN1_TFLG_SEQUENCE_OF, 0, CaCertsValue, X509)
ASN1_ITEM_TEMPLATE_END(CMPCA_CA_CERTS_VALUE)
IMPLEMENT_ASN1_FUNCTIONS(CMPCA_CA_CERTS_VALUE)

ASN1_ITEM_TEMPLATE(CMPCA_CRLS_VALUE) =
    ASN1_EX_TEMPLATE_TYPE(ASN1_TFLG_SEQUENCE_OF, 0, CRLsValue, X509_CRL)
ASN1_ITEM_TEMPLATE_END(CMPCA_CRLS_VALUE)
IMPLEMENT_ASN1_FUNCTIONS(CMPCA_CRLS_VALUE)

ASN1_CHOICE(CMPCA_CRL_SOURCE) = {
    ASN1_EXP(CMPCA_CRL_SOURCE, value.dpn, DIST_POINT_NAME, 0),
    ASN1_EXP_SEQUENCE_OF(CMPCA_CRL_SOURCE, value.issuer, GENERAL_NAME, 1),
} ASN1_CHOICE_END(CMPCA_CRL_SOURCE)
IMPLEMENT_ASN1_FUNCTIONS(CMPCA_CRL_SOURCE)

ASN1_SEQUENCE(CMPCA_CRL_STATUS) = {
    ASN1_SIMPLE(CMPCA_CRL_STATUS, source, CMPCA_CRL_SOURCE),
    ASN1_OPT(CMPCA_CRL_STATUS, thisUpdate, ASN1_TIME),
} ASN1_SEQUENCE_END(CMPCA_CRL_STATUS)
IMPLEMENT_ASN1_FUNCTIONS(CMPCA_CRL_STATUS)

ASN1_SEQUENCE(CMPCA_CERT_REQ_TEMPLATE) = {
    ASN1_SIMPLE(CMPCA_CERT_REQ_TEMPLATE, certTemplate, CMPCA_CERT_TEMPLATE),
    ASN1_SEQUENCE_OF_OPT(CMPCA_CERT_REQ_TEMPLATE, keySpec, CMPCA_ATAV),
} ASN1_SEQUENCE_END(CMPCA_CERT_REQ_TEMPLATE)
IMPLEMENT_ASN1_FUNCTIONS(CMPCA_CERT_REQ_TEMPLATE)

/* The CRLSource selector is the template index; cmp_asn1.h names it. */
_Static_assert(CMPCA_CRLSOURCE_DPN == 0 && CMPCA_CRLSOURCE_ISSUER == 1,
               "CRLSource selectors follow template order");

/* clang-format on */

/* DER content octets of id-it (1.3.6.1.5.5.7.4) and id-regCtrl
 * (1.3.6.1.5.5.7.5.1); one more octet holds an arc below 128. */
static const unsigned char it_prefix[] = {0x2b, 0x06, 0x01, 0x05,
                                          0x05, 0x07, 0x04};
static const unsigned char regctrl_prefix[] = {0x2b, 0x06, 0x01, 0x05,
                                               0x05, 0x07, 0x05, 0x01};

static int oid_is(const ASN1_OBJECT *obj, const unsigned char *prefix,
                  size_t prefix_len, int arc)
{
    const unsigned char *data;

    if (obj == NULL || arc < 1 || arc > 127 ||
        (size_t)OBJ_length(obj) != prefix_len + 1 ||
        (data = OBJ_get0_data(obj)) == NULL)
        return 0;
    return memcmp(data, prefix, prefix_len) == 0 && data[prefix_len] == arc;
}

int cmp_asn1_oid_is_it(const ASN1_OBJECT *obj, int arc)
{
    return oid_is(obj, it_prefix, sizeof(it_prefix), arc);
}

/* Wraps prefix || arc as a complete DER OBJECT IDENTIFIER and decodes it:
 * d2i gives a dynamically allocated object that ASN1_OBJECT_free frees,
 * with its NID looked up when OpenSSL has one. */
static ASN1_OBJECT *oid_new(const unsigned char *prefix, size_t prefix_len,
                            int arc)
{
    unsigned char der[2 + 16];
    const unsigned char *p = der;

    if (arc < 1 || arc > 127 || prefix_len + 1 > sizeof(der) - 2)
        return NULL;
    der[0] = V_ASN1_OBJECT;
    der[1] = (unsigned char)(prefix_len + 1);
    memcpy(der + 2, prefix, prefix_len);
    der[2 + prefix_len] = (unsigned char)arc;
    return d2i_ASN1_OBJECT(NULL, &p, (long)(prefix_len + 3));
}

ASN1_OBJECT *cmp_asn1_it_oid_new(int arc)
{
    return oid_new(it_prefix, sizeof(it_prefix), arc);
}

ASN1_OBJECT *cmp_asn1_regctrl_oid_new(int arc)
{
    return oid_new(regctrl_prefix, sizeof(regctrl_prefix), arc);
}

void *cmp_asn1_itav_unpack(const ASN1_TYPE *v, const ASN1_ITEM *it)
{
    const ASN1_STRING *seq;
    const unsigned char *p, *end;
    ASN1_VALUE *val;

    if (v == NULL || ASN1_TYPE_get(v) != V_ASN1_SEQUENCE ||
        (seq = v->value.sequence) == NULL || seq->length <= 0)
        return NULL;
    p = seq->data;
    end = p + seq->length;
    if ((val = ASN1_item_d2i(NULL, &p, seq->length, it)) == NULL)
        return NULL;
    if (p != end) { /* the ANY held more than one element */
        ASN1_item_free(val, it);
        return NULL;
    }
    return val;
}
