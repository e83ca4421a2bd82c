/*
 * fuzz_genm_itav.c: libFuzzer target for the genm value decoders,
 * cmp_asn1_itav_unpack with each type genm.c and its clients unpack
 * (RFC 9480: CertReqTemplateContent, CRLStatusList, CaCertsValue,
 * CRLsValue, RootCaKeyUpdateContent, and the old root certificate of a
 * rootCaKeyUpdate request).
 *
 * In the server these bytes arrive as the infoValue ANY of a genm that has
 * passed the DER gate, so the target applies the same gate before it
 * builds the ASN1_TYPE. The first input byte picks the type; the rest is
 * the value's DER. Like fuzz_pkimessage.c it also checks that whatever
 * decodes re-encodes, decodes again and encodes to the same bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>

#include "asn1/cmp_asn1.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const ASN1_ITEM *item_of(uint8_t sel)
{
    switch (sel % 6) {
    case 0:
        return ASN1_ITEM_rptr(CMPCA_CERT_REQ_TEMPLATE);
    case 1:
        return ASN1_ITEM_rptr(CMPCA_CRL_STATUS_LIST);
    case 2:
        return ASN1_ITEM_rptr(CMPCA_CA_CERTS_VALUE);
    case 3:
        return ASN1_ITEM_rptr(CMPCA_CRLS_VALUE);
    case 4:
        return ASN1_ITEM_rptr(CMPCA_ROOT_CA_KEY_UPDATE);
    default:
        return ASN1_ITEM_rptr(X509);
    }
}

/* An ASN1_TYPE holding `der` as a SEQUENCE, as d2i leaves an ANY. */
static ASN1_TYPE *as_any(const uint8_t *der, size_t len)
{
    ASN1_TYPE *t = ASN1_TYPE_new();
    ASN1_STRING *s = ASN1_STRING_type_new(V_ASN1_SEQUENCE);

    if (t == NULL || s == NULL || !ASN1_STRING_set(s, der, (int)len)) {
        ASN1_TYPE_free(t);
        ASN1_STRING_free(s);
        return NULL;
    }
    ASN1_TYPE_set(t, V_ASN1_SEQUENCE, s);
    return t;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const ASN1_ITEM *it;
    ASN1_TYPE *t1 = NULL, *t2 = NULL;
    ASN1_VALUE *v1 = NULL, *v2 = NULL;
    unsigned char *d1 = NULL, *d2 = NULL;
    int l1, l2;

    if (size < 1 || size > 65536)
        return 0;
    it = item_of(data[0]);
    data++;
    size--;
    if (cmp_asn1_check_der(data, size, CMPCA_DER_MAX_DEPTH) != 0 ||
        (t1 = as_any(data, size)) == NULL ||
        (v1 = cmp_asn1_itav_unpack(t1, it)) == NULL)
        goto done;
    if ((l1 = ASN1_item_i2d(v1, &d1, it)) <= 0)
        abort(); /* decoded but cannot be encoded */
    if ((t2 = as_any(d1, (size_t)l1)) == NULL)
        goto done;
    if ((v2 = cmp_asn1_itav_unpack(t2, it)) == NULL)
        abort(); /* our own encoding does not decode */
    l2 = ASN1_item_i2d(v2, &d2, it);
    if (l2 != l1 || memcmp(d1, d2, (size_t)l1) != 0)
        abort(); /* encoding is not stable */
done:
    OPENSSL_free(d1);
    OPENSSL_free(d2);
    ASN1_item_free(v1, it);
    ASN1_item_free(v2, it);
    ASN1_TYPE_free(t1);
    ASN1_TYPE_free(t2);
    ERR_clear_error();
    return 0;
}
