/*
 * test_mac_der.c: the MAC tests' own DER writer and reference MACs (see
 * test_mac.h). The writer knows nothing of cmpca's templates: each
 * AlgorithmIdentifier is put together from tag, length and value octets,
 * so the tests can send what a hostile client would.
 */
#include <string.h>

#include <openssl/crmf.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "test_mac.h"

struct tder {
    uint8_t b[1024];
    size_t n;
    int bad;
};

static void put(struct tder *d, const uint8_t *v, size_t n)
{
    if (n == 0)
        return;
    if (d->n + n > sizeof(d->b)) {
        d->bad = 1;
        return;
    }
    memcpy(d->b + d->n, v, n);
    d->n += n;
}

static void tlv(struct tder *d, uint8_t tag, const uint8_t *v, size_t n)
{
    uint8_t hdr[4];
    size_t h = 0;

    hdr[h++] = tag;
    if (n < 0x80) {
        hdr[h++] = (uint8_t)n;
    } else if (n < 0x100) {
        hdr[h++] = 0x81;
        hdr[h++] = (uint8_t)n;
    } else {
        hdr[h++] = 0x82;
        hdr[h++] = (uint8_t)(n >> 8);
        hdr[h++] = (uint8_t)n;
    }
    put(d, hdr, h);
    put(d, v, n);
}

/* Wraps `inner` as one TLV `tag` appended to `d`. */
static void wrap(struct tder *d, uint8_t tag, const struct tder *inner)
{
    d->bad |= inner->bad;
    tlv(d, tag, inner->b, inner->n);
}

static void oid(struct tder *d, const char *dotted)
{
    ASN1_OBJECT *o = OBJ_txt2obj(dotted, 1);
    unsigned char *der = NULL;
    int len = o != NULL ? i2d_ASN1_OBJECT(o, &der) : -1;

    if (len <= 0)
        d->bad = 1;
    else
        put(d, der, (size_t)len);
    OPENSSL_free(der);
    ASN1_OBJECT_free(o);
}

/* Minimal big-endian two's complement. */
static void integer(struct tder *d, int64_t v)
{
    uint8_t c[8];
    size_t s = 0;
    int i;

    for (i = 0; i < 8; i++)
        c[i] = (uint8_t)((uint64_t)v >> (56 - 8 * i));
    while (s < 7 && ((c[s] == 0x00 && (c[s + 1] & 0x80) == 0) ||
                     (c[s] == 0xff && (c[s + 1] & 0x80) != 0)))
        s++;
    tlv(d, 0x02, c + s, 8 - s);
}

static void salt(struct tder *d, size_t n)
{
    uint8_t v[512];

    for (size_t i = 0; i < n && i < sizeof(v); i++)
        v[i] = (uint8_t)(0x40 + i);
    tlv(d, 0x04, v, n < sizeof(v) ? n : sizeof(v));
}

/* AlgorithmIdentifier `dotted` with `params` (NULL: absent; `null_param`:
 * an explicit NULL). */
static void alg_id(struct tder *d, const char *dotted,
                   const struct tder *params, int null_param)
{
    struct tder in = {{0}, 0, 0};

    oid(&in, dotted);
    if (params != NULL) {
        put(&in, params->b, params->n);
        in.bad |= params->bad;
    } else if (null_param) {
        tlv(&in, 0x05, NULL, 0);
    }
    wrap(d, 0x30, &in);
}

static X509_ALGOR *to_algor(const struct tder *d)
{
    const unsigned char *p = d->b;

    if (d->bad)
        return NULL;
    return d2i_X509_ALGOR(NULL, &p, (long)d->n);
}

X509_ALGOR *raw_alg(const char *dotted, const uint8_t *params,
                    size_t params_len)
{
    struct tder in = {{0}, 0, 0}, out = {{0}, 0, 0};

    oid(&in, dotted);
    if (params != NULL)
        put(&in, params, params_len);
    wrap(&out, 0x30, &in);
    return to_algor(&out);
}

X509_ALGOR *pbm_alg(const struct pbm_spec *s)
{
    struct tder p = {{0}, 0, 0}, seq = {{0}, 0, 0}, out = {{0}, 0, 0};

    salt(&p, s->salt_len);
    if (s->owf != NULL)
        alg_id(&p, s->owf, NULL, 0);
    if (s->iter_octets > 0) {
        uint8_t big[64];

        memset(big, 0x7f, sizeof(big));
        tlv(&p, 0x02, big,
            s->iter_octets < 64 ? (size_t)s->iter_octets : sizeof(big));
    } else {
        integer(&p, s->iter);
    }
    if (s->mac != NULL)
        alg_id(&p, s->mac, NULL, 0); /* as OpenSSL's client: no NULL */
    wrap(&seq, 0x30, &p);
    alg_id(&out, OID_PBM, &seq, 0);
    return to_algor(&out);
}

X509_ALGOR *pbmac1_alg(const struct pbmac1_spec *s)
{
    struct tder kp = {{0}, 0, 0}, kseq = {{0}, 0, 0};
    struct tder pp = {{0}, 0, 0}, pseq = {{0}, 0, 0}, out = {{0}, 0, 0};

    if (s->salt_other)
        alg_id(&kp, OID_SHA256, NULL, 1);
    else
        salt(&kp, s->salt_len);
    integer(&kp, s->iter);
    if (s->key_len != 0)
        integer(&kp, s->key_len);
    if (s->prf != NULL)
        alg_id(&kp, s->prf, NULL, 1); /* RFC 8018: parameters NULL */
    wrap(&kseq, 0x30, &kp);
    alg_id(&pp, s->kdf, &kseq, 0);
    alg_id(&pp, s->mac, NULL, 1);
    wrap(&pseq, 0x30, &pp);
    alg_id(&out, OID_PBMAC1, &pseq, 0);
    return to_algor(&out);
}

void set_alg(CMPCA_PKIMESSAGE *m, X509_ALGOR *alg)
{
    X509_ALGOR_free(m->header->protectionAlg);
    m->header->protectionAlg = alg;
}

static int pp_der(const CMPCA_PKIMESSAGE *m, unsigned char **der)
{
    CMPCA_PROTECTED_PART pp;

    pp.header = m->header;
    pp.body = m->body;
    *der = NULL;
    return i2d_CMPCA_PROTECTED_PART(&pp, der);
}

/* OpenSSL's PBM over `m` with its protectionAlg; *mac new. */
static int ref_pbm(const CMPCA_PKIMESSAGE *m, const char *secret,
                   unsigned char **mac, size_t *mac_len)
{
    OSSL_CRMF_PBMPARAMETER *pbm = NULL;
    const ASN1_STRING *seq = NULL;
    const unsigned char *p;
    unsigned char *der = NULL;
    int ptype = 0, len, rc = -1;

    X509_ALGOR_get0(NULL, &ptype, (const void **)&seq,
                    m->header->protectionAlg);
    if (ptype != V_ASN1_SEQUENCE)
        return -1;
    p = seq->data;
    if ((pbm = d2i_OSSL_CRMF_PBMPARAMETER(NULL, &p, seq->length)) == NULL ||
        (len = pp_der(m, &der)) <= 0)
        goto done;
    if (OSSL_CRMF_pbm_new(NULL, NULL, pbm, der, (size_t)len,
                          (const unsigned char *)secret, strlen(secret), mac,
                          mac_len) == 1)
        rc = 0;
done:
    ERR_clear_error();
    OSSL_CRMF_PBMPARAMETER_free(pbm);
    OPENSSL_free(der);
    return rc;
}

static int set_protection(CMPCA_PKIMESSAGE *m, const unsigned char *mac,
                          size_t len)
{
    if (m->protection == NULL &&
        (m->protection = ASN1_BIT_STRING_new()) == NULL)
        return -1;
    return cmp_asn1_bit_string_set1(m->protection, mac, len);
}

int ref_protect_pbm(CMPCA_PKIMESSAGE *m, const char *secret)
{
    unsigned char *mac = NULL;
    size_t len = 0;
    int rc = -1;

    if (ref_pbm(m, secret, &mac, &len) == 0)
        rc = set_protection(m, mac, len);
    OPENSSL_free(mac);
    return rc;
}

int ref_check_pbm(const CMPCA_PKIMESSAGE *m, const char *secret)
{
    unsigned char *mac = NULL;
    size_t len = 0;
    int same;

    same = m->protection != NULL && ref_pbm(m, secret, &mac, &len) == 0 &&
           (size_t)m->protection->length == len &&
           memcmp(m->protection->data, mac, len) == 0;
    OPENSSL_free(mac);
    return same;
}

static const EVP_MD *hmac_md(const char *dotted)
{
    if (dotted == NULL)
        return NULL;
    if (strcmp(dotted, OID_HMAC_SHA256) == 0)
        return EVP_sha256();
    if (strcmp(dotted, OID_HMAC_SHA384) == 0)
        return EVP_sha384();
    if (strcmp(dotted, OID_HMAC_SHA512) == 0)
        return EVP_sha512();
    return NULL;
}

int ref_protect_pbmac1(CMPCA_PKIMESSAGE *m, const struct pbmac1_spec *s,
                       const char *secret)
{
    const EVP_MD *prf = hmac_md(s->prf), *md = hmac_md(s->mac);
    unsigned char key[64], mac[EVP_MAX_MD_SIZE], sb[512], *der = NULL;
    unsigned int mac_len = 0;
    int key_len, len, rc = -1;

    set_alg(m, pbmac1_alg(s));
    if (prf == NULL || md == NULL || m->header->protectionAlg == NULL)
        return -1;
    key_len = s->key_len != 0 ? (int)s->key_len : EVP_MD_get_size(md);
    for (size_t i = 0; i < s->salt_len && i < sizeof(sb); i++)
        sb[i] = (uint8_t)(0x40 + i);
    if ((len = pp_der(m, &der)) > 0 &&
        PKCS5_PBKDF2_HMAC(secret, (int)strlen(secret), sb, (int)s->salt_len,
                          (int)s->iter, prf, key_len, key) == 1 &&
        HMAC(md, key, key_len, der, (size_t)len, mac, &mac_len) != NULL)
        rc = set_protection(m, mac, mac_len);
    OPENSSL_free(der);
    return rc;
}

/* The PBKDF2-params of the PBMAC1 protectionAlg of `m`, read with
 * OpenSSL's own types; NULL if they are not there. */
static PBKDF2PARAM *kdf_params(const CMPCA_PKIMESSAGE *m)
{
    const ASN1_STRING *seq = NULL;
    PBE2PARAM *pbe2 = NULL;
    PBKDF2PARAM *kdf = NULL;
    const unsigned char *p;
    int ptype = 0;

    X509_ALGOR_get0(NULL, &ptype, (const void **)&seq,
                    m->header->protectionAlg);
    if (ptype != V_ASN1_SEQUENCE)
        return NULL;
    p = seq->data;
    if ((pbe2 = d2i_PBE2PARAM(NULL, &p, seq->length)) == NULL)
        return NULL;
    X509_ALGOR_get0(NULL, &ptype, (const void **)&seq, pbe2->keyfunc);
    if (ptype == V_ASN1_SEQUENCE) {
        p = seq->data;
        kdf = d2i_PBKDF2PARAM(NULL, &p, seq->length);
    }
    PBE2PARAM_free(pbe2);
    return kdf;
}

int ref_check_pbmac1(const CMPCA_PKIMESSAGE *m, const struct pbmac1_spec *s,
                     const char *secret, uint8_t *salt_out, size_t *salt_len)
{
    const EVP_MD *prf = hmac_md(s->prf), *md = hmac_md(s->mac);
    unsigned char key[64], mac[EVP_MAX_MD_SIZE], *der = NULL;
    PBKDF2PARAM *kdf = kdf_params(m);
    const ASN1_OCTET_STRING *sv;
    unsigned int mac_len = 0;
    int key_len, len, same = 0;

    if (kdf == NULL || prf == NULL || md == NULL ||
        kdf->salt->type != V_ASN1_OCTET_STRING ||
        ASN1_INTEGER_get(kdf->iter) != s->iter ||
        (s->key_len == 0) != (kdf->keylength == NULL) ||
        (s->key_len != 0 && ASN1_INTEGER_get(kdf->keylength) != s->key_len))
        goto done;
    sv = kdf->salt->value.octet_string;
    if (sv->length > 512)
        goto done;
    memcpy(salt_out, sv->data, (size_t)sv->length);
    *salt_len = (size_t)sv->length;
    key_len = s->key_len != 0 ? (int)s->key_len : EVP_MD_get_size(md);
    if ((len = pp_der(m, &der)) > 0 &&
        PKCS5_PBKDF2_HMAC(secret, (int)strlen(secret), sv->data, sv->length,
                          (int)s->iter, prf, key_len, key) == 1 &&
        HMAC(md, key, key_len, der, (size_t)len, mac, &mac_len) != NULL)
        same = m->protection != NULL &&
               (unsigned int)m->protection->length == mac_len &&
               memcmp(m->protection->data, mac, mac_len) == 0;
done:
    PBKDF2PARAM_free(kdf);
    OPENSSL_free(der);
    return same;
}

CMPCA_PKIMESSAGE *reparse(const CMPCA_PKIMESSAGE *m)
{
    unsigned char *der = NULL;
    CMPCA_PKIMESSAGE *out = NULL;
    int len = i2d_CMPCA_PKIMESSAGE(m, &der);

    if (len > 0)
        out = cmp_asn1_decode_msg(der, (size_t)len);
    OPENSSL_free(der);
    return out;
}
