/*
 * ca_serial.c: certificate serial numbers. Serials are CA_SERIAL_LEN random
 * octets from the CSPRNG rather than a counter: RFC 5280 wants them unique
 * and positive, CA/B-style unpredictability makes chosen-prefix collisions
 * on the signed bytes impractical, and random serials need no shared state,
 * so any number of threads or instances can draw them without a lock. The
 * store refuses a duplicate, so a collision would fail loudly, not silently.
 *
 * The top bit is cleared (positive without a padding octet) and a zero top
 * octet is drawn again, so the DER content is always exactly CA_SERIAL_LEN
 * octets: tools that compare serials as text then agree on their width.
 */
#include "ca/ca_local.h"

#include <stdlib.h>

#include <openssl/bn.h>
#include <openssl/rand.h>

int ca_serial_new(ASN1_INTEGER **out, struct cmpca_err *err)
{
    unsigned char buf[CA_SERIAL_LEN];
    BIGNUM *bn = NULL;
    ASN1_INTEGER *serial = NULL;
    int ret = -1;

    *out = NULL;
    do {
        if (RAND_bytes(buf, sizeof(buf)) <= 0) {
            cmpca_err_ossl(err, FI_SYSTEM_FAILURE, "random serial failed");
            goto done;
        }
        buf[0] &= 0x7f;
    } while (buf[0] == 0);
    bn = BN_bin2bn(buf, (int)sizeof(buf), NULL);
    if (bn == NULL || (serial = BN_to_ASN1_INTEGER(bn, NULL)) == NULL) {
        cmpca_err_ossl(err, FI_SYSTEM_FAILURE, "cannot encode serial");
        goto done;
    }
    *out = serial;
    ret = 0;

done:
    BN_free(bn);
    return ret;
}

/* Same text as i2a_ASN1_INTEGER, which `openssl x509 -serial` uses: "-" for
 * a negative value, two uppercase hex digits per content octet, "00" for an
 * empty content. OpenSSL breaks lines after every 35 octets; serials are at
 * most 20 octets (RFC 5280), so that never happens for a valid one and we
 * do not reproduce it. The result is malloc()ed: free it with free(). */
char *ca_serial_hex(const ASN1_INTEGER *serial)
{
    static const char digits[] = "0123456789ABCDEF";
    const unsigned char *p;
    size_t len, i, pos = 0;
    int neg;
    char *s;

    if (serial == NULL || ASN1_STRING_length(serial) < 0)
        return NULL;
    len = (size_t)ASN1_STRING_length(serial);
    p = ASN1_STRING_get0_data(serial);
    if (len > 0 && p == NULL)
        return NULL;
    neg = (ASN1_STRING_type(serial) & V_ASN1_NEG) != 0;
    if ((s = malloc(1 + (len == 0 ? 2 : 2 * len) + 1)) == NULL)
        return NULL;
    if (neg)
        s[pos++] = '-';
    if (len == 0) {
        s[pos++] = '0';
        s[pos++] = '0';
    }
    for (i = 0; i < len; i++) {
        s[pos++] = digits[p[i] >> 4];
        s[pos++] = digits[p[i] & 0x0f];
    }
    s[pos] = '\0';
    return s;
}
