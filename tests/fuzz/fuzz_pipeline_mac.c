/*
 * fuzz_pipeline_mac.c: MAC protection for the pipeline fuzz target, both
 * ways: re-protecting a mutated request with the test device's shared
 * secret (so MAC-protected requests get past macauth.c as signed ones get
 * past protect.c), and checking the MAC of an answer.
 *
 * Computed independently of src/cmp/mac.c on purpose: PasswordBasedMac
 * through OpenSSL's own OSSL_CRMF_pbm_new, PBMAC1 (RFC 9481 6.1.2) from
 * PKCS5_PBKDF2_HMAC and HMAC. Parameters beyond FUZZ_MAC_MAX_ITER are left
 * alone (the message keeps its old MAC): the point is the server's code,
 * not this file's key derivations.
 */
#include "fuzz_pipeline.h"

#include <string.h>

#include <openssl/crmf.h>
#include <openssl/err.h>
#include <openssl/hmac.h>
#include <openssl/objects.h>

#include "asn1/cmp_asn1.h"

#define FUZZ_MAC_MAX_ITER 10000

static int oid_is(const ASN1_OBJECT *obj, const char *dotted)
{
    ASN1_OBJECT *want = OBJ_txt2obj(dotted, 1);
    int same = want != NULL && OBJ_cmp(obj, want) == 0;

    ASN1_OBJECT_free(want);
    return same;
}

int fuzz_mac_alg_kind(const X509_ALGOR *alg)
{
    if (alg == NULL)
        return 0;
    if (oid_is(alg->algorithm, "1.2.840.113533.7.66.13"))
        return 1; /* PasswordBasedMac */
    if (oid_is(alg->algorithm, "1.2.840.113549.1.5.14"))
        return 2; /* PBMAC1 */
    return 0;
}

/* The DER of an algorithm's SEQUENCE parameter, borrowed. */
static const ASN1_STRING *seq_param(const X509_ALGOR *alg)
{
    if (alg->parameter == NULL || alg->parameter->type != V_ASN1_SEQUENCE)
        return NULL;
    return alg->parameter->value.sequence;
}

static int pbm(const X509_ALGOR *alg, const uint8_t *data, size_t len,
               const uint8_t *sec, size_t sec_len, uint8_t **out,
               size_t *out_len)
{
    const ASN1_STRING *p = seq_param(alg);
    const unsigned char *d;
    CMPCA_PBM_PARAMETER *mine = NULL;
    OSSL_CRMF_PBMPARAMETER *pbmp = NULL;
    int rc = 1;

    if (p == NULL)
        return 1;
    d = p->data;
    if ((mine = d2i_CMPCA_PBM_PARAMETER(NULL, &d, p->length)) == NULL ||
        ASN1_INTEGER_get(mine->iterationCount) > FUZZ_MAC_MAX_ITER)
        goto done;
    d = p->data;
    if ((pbmp = d2i_OSSL_CRMF_PBMPARAMETER(NULL, &d, p->length)) == NULL)
        goto done;
    rc = OSSL_CRMF_pbm_new(NULL, NULL, pbmp, data, len, sec, sec_len, out,
                           out_len)
             ? 0
             : 1;
done:
    CMPCA_PBM_PARAMETER_free(mine);
    OSSL_CRMF_PBMPARAMETER_free(pbmp);
    return rc;
}

/* The digest behind an HMAC algorithm identifier (hmacWithSHA256...). */
static const EVP_MD *hmac_md(const X509_ALGOR *alg)
{
    int md_nid = NID_undef;

    if (alg == NULL ||
        !EVP_PBE_find(EVP_PBE_TYPE_PRF, OBJ_obj2nid(alg->algorithm), NULL,
                      &md_nid, NULL))
        return NULL;
    return EVP_get_digestbynid(md_nid);
}

static int pbmac1(const X509_ALGOR *alg, const uint8_t *data, size_t len,
                  const uint8_t *sec, size_t sec_len, uint8_t **out,
                  size_t *out_len)
{
    const ASN1_STRING *p = seq_param(alg), *kp;
    const unsigned char *d;
    CMPCA_PBMAC1_PARAMS *params = NULL;
    PBKDF2PARAM *kdf = NULL;
    const EVP_MD *prf, *mac;
    unsigned char key[EVP_MAX_MD_SIZE];
    unsigned int mlen = 0;
    long iter, keylen;
    int rc = 1;

    if (p == NULL)
        return 1;
    d = p->data;
    if ((params = d2i_CMPCA_PBMAC1_PARAMS(NULL, &d, p->length)) == NULL ||
        (kp = seq_param(params->keyDerivationFunc)) == NULL)
        goto done;
    d = kp->data;
    if ((kdf = d2i_PBKDF2PARAM(NULL, &d, kp->length)) == NULL ||
        kdf->salt == NULL || kdf->salt->type != V_ASN1_OCTET_STRING)
        goto done;
    iter = ASN1_INTEGER_get(kdf->iter);
    prf = kdf->prf != NULL ? hmac_md(kdf->prf) : EVP_sha1();
    mac = hmac_md(params->messageAuthScheme);
    keylen = kdf->keylength != NULL ? ASN1_INTEGER_get(kdf->keylength)
             : mac != NULL          ? EVP_MD_get_size(mac)
                                    : 0;
    if (iter < 1 || iter > FUZZ_MAC_MAX_ITER || prf == NULL || mac == NULL ||
        keylen < 1 || keylen > (long)sizeof(key) ||
        (*out = OPENSSL_malloc(EVP_MAX_MD_SIZE)) == NULL)
        goto done;
    if (PKCS5_PBKDF2_HMAC((const char *)sec, (int)sec_len,
                          kdf->salt->value.octet_string->data,
                          kdf->salt->value.octet_string->length, (int)iter, prf,
                          (int)keylen, key) &&
        HMAC(mac, key, (int)keylen, data, len, *out, &mlen) != NULL) {
        *out_len = mlen;
        rc = 0;
    } else {
        OPENSSL_free(*out);
        *out = NULL;
    }
    OPENSSL_cleanse(key, sizeof(key));
done:
    PBKDF2PARAM_free(kdf);
    CMPCA_PBMAC1_PARAMS_free(params);
    return rc;
}

int fuzz_mac_compute(const CMPCA_PKIMESSAGE *m, const uint8_t *sec,
                     size_t sec_len, uint8_t **out, size_t *out_len)
{
    CMPCA_PROTECTED_PART pp;
    unsigned char *der = NULL;
    int len, kind = fuzz_mac_alg_kind(m->header->protectionAlg), rc = 1;

    *out = NULL;
    *out_len = 0;
    pp.header = m->header;
    pp.body = m->body;
    if (kind == 0 || (len = i2d_CMPCA_PROTECTED_PART(&pp, &der)) <= 0)
        goto done;
    if (kind == 1)
        rc = pbm(m->header->protectionAlg, der, (size_t)len, sec, sec_len, out,
                 out_len);
    else
        rc = pbmac1(m->header->protectionAlg, der, (size_t)len, sec, sec_len,
                    out, out_len);
done:
    OPENSSL_free(der);
    ERR_clear_error();
    return rc;
}

/* PasswordBasedMac with SHA-256, 500 iterations, HMAC-SHA256 and a fixed
 * salt: what a request gets when its protectionAlg is no MAC at all. */
static int set_default_pbm(CMPCA_PKIMESSAGE *m)
{
    static const unsigned char salt[16] = "cmpca-fuzz-salt";
    OSSL_CRMF_PBMPARAMETER *pbmp = NULL;
    ASN1_STRING *seq = NULL;
    unsigned char *der = NULL;
    int len, ok = 0;

    if ((pbmp = OSSL_CRMF_pbmp_new(NULL, sizeof(salt), NID_sha256, 500,
                                   NID_hmacWithSHA256)) == NULL ||
        (len = i2d_OSSL_CRMF_PBMPARAMETER(pbmp, &der)) <= 0 ||
        (seq = ASN1_STRING_type_new(V_ASN1_SEQUENCE)) == NULL ||
        !ASN1_STRING_set(seq, der, len))
        goto done;
    if (m->header->protectionAlg == NULL &&
        (m->header->protectionAlg = X509_ALGOR_new()) == NULL)
        goto done;
    ok = X509_ALGOR_set0(m->header->protectionAlg,
                         OBJ_txt2obj("1.2.840.113533.7.66.13", 1),
                         V_ASN1_SEQUENCE, seq);
    if (ok)
        seq = NULL;
done:
    ASN1_STRING_free(seq);
    OPENSSL_free(der);
    OSSL_CRMF_PBMPARAMETER_free(pbmp);
    return ok ? 0 : -1;
}

int fuzz_mac_protect(CMPCA_PKIMESSAGE *m, const char *kid, const uint8_t *sec,
                     size_t sec_len)
{
    uint8_t *mac = NULL;
    size_t mac_len = 0;
    int rc;

    if (m->header->senderKID == NULL &&
        (m->header->senderKID = ASN1_OCTET_STRING_new()) == NULL)
        return -1;
    if (!ASN1_OCTET_STRING_set(m->header->senderKID, (const unsigned char *)kid,
                               (int)strlen(kid)))
        return -1;
    if (fuzz_mac_alg_kind(m->header->protectionAlg) == 0 &&
        set_default_pbm(m) != 0)
        return -1;
    rc = fuzz_mac_compute(m, sec, sec_len, &mac, &mac_len);
    if (rc == 0) {
        if (m->protection == NULL &&
            (m->protection = ASN1_BIT_STRING_new()) == NULL)
            rc = -1;
        else if (cmp_asn1_bit_string_set1(m->protection, mac, mac_len) != 0)
            rc = -1;
    }
    OPENSSL_free(mac);
    return rc < 0 ? -1 : 0;
}
