/*
 * mac.c: MAC protection with a device's shared secret, both ways:
 * PasswordBasedMac (RFC 9810 5.1.3.1, what OpenSSL 3.0's client sends) and
 * PBMAC1 (RFC 8018 A.5 with PBKDF2 and HMAC, RFC 9481 6.1.2).
 *
 * Every parameter that decides the cost of a MAC (iteration count, salt
 * and key lengths) is chosen by the client, before it has proven anything.
 * So each one is read from the decoded parameters and bounded by the [mac]
 * limits before a single hash is computed: a request asking for 10^9
 * iterations costs one small d2i and a comparison (tests/unit/test_mac.c
 * measures it). Only SHA-2 is accepted as OWF, PRF or HMAC hash; SHA-1,
 * MD5 and unknown algorithms are badAlg. Derived keys are cleansed, and
 * MACs are compared in constant time.
 */
#include <limits.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "cmp/cmp_local.h"

#define MAC_MIN_SALT     8  /* RFC 9481 recommends 16; old clients send 8 */
#define MAC_MIN_KEY_LEN  16 /* PBMAC1 keyLength: a short key is guessable */
#define MAC_MAX_KEY_LEN  64
#define MAC_NEW_SALT_LEN 16 /* shortest salt we send */
/* cmp_mac_protect reads the request's parameters again without a config;
 * these bound it should a caller hand it parameters never checked. */
#define MAC_PROTECT_MAX_ITER 10000000
#define MAC_PROTECT_MAX_SALT 1024

struct mac_limits {
    long min_iter;
    long max_iter;
    size_t max_salt;
};

/* What one MAC AlgorithmIdentifier asks for, read and bounded. */
struct mac_params {
    int nid;                     /* NID_id_PasswordBasedMAC or NID_pbmac1 */
    CMPCA_PBM_PARAMETER *pbm;    /* owned: PasswordBasedMac parameters */
    CMPCA_PBMAC1_PARAMS *pbmac1; /* owned: PBMAC1 parameters */
    PBKDF2PARAM *kdf;            /* owned: PBMAC1 key derivation */
    const unsigned char *salt;   /* borrowed from pbm or kdf */
    size_t salt_len;
    int iter;
    const EVP_MD *kdf_md; /* PBM OWF, or the hash of the PBKDF2 PRF */
    const EVP_MD *mac_md; /* the HMAC hash */
    size_t key_len;       /* PBMAC1: length of the derived key */
};

static void params_clear(struct mac_params *p)
{
    CMPCA_PBM_PARAMETER_free(p->pbm);
    CMPCA_PBMAC1_PARAMS_free(p->pbmac1);
    PBKDF2PARAM_free(p->kdf);
    memset(p, 0, sizeof(*p));
}

/* Parameters of a hash or HMAC identifier must be absent or NULL. */
static int params_empty(const X509_ALGOR *a)
{
    int ptype = V_ASN1_UNDEF;

    X509_ALGOR_get0(NULL, &ptype, NULL, a);
    return ptype == V_ASN1_UNDEF || ptype == V_ASN1_NULL;
}

static int algor_nid(const X509_ALGOR *a)
{
    const ASN1_OBJECT *obj = NULL;

    X509_ALGOR_get0(&obj, NULL, NULL, a);
    return OBJ_obj2nid(obj);
}

/* The PBM one-way function: SHA-256/384/512 only. */
static int owf_md(const X509_ALGOR *a, const EVP_MD **md, struct cmpca_err *err)
{
    int nid = algor_nid(a);

    *md = nid == NID_sha256   ? EVP_sha256()
          : nid == NID_sha384 ? EVP_sha384()
          : nid == NID_sha512 ? EVP_sha512()
                              : NULL;
    if (*md == NULL)
        return cmpca_err_set(err, FI_BAD_ALG,
                             "MAC: one-way function %s not "
                             "accepted (SHA-256/384/512 only)",
                             OBJ_nid2sn(nid));
    if (!params_empty(a))
        return cmpca_err_set(err, FI_BAD_MESSAGE_CHECK,
                             "MAC: parameters on the one-way function");
    return 0;
}

/* An HMAC identifier (MAC or PRF): hmacWithSHA256/384/512 only. */
static int hmac_md(const X509_ALGOR *a, const EVP_MD **md,
                   struct cmpca_err *err)
{
    int nid = algor_nid(a);

    *md = nid == NID_hmacWithSHA256   ? EVP_sha256()
          : nid == NID_hmacWithSHA384 ? EVP_sha384()
          : nid == NID_hmacWithSHA512 ? EVP_sha512()
                                      : NULL;
    if (*md == NULL)
        return cmpca_err_set(err, FI_BAD_ALG,
                             "MAC: %s not accepted "
                             "(HMAC with SHA-256/384/512 only)",
                             OBJ_nid2sn(nid));
    if (!params_empty(a))
        return cmpca_err_set(err, FI_BAD_MESSAGE_CHECK, "MAC: parameters on %s",
                             OBJ_nid2sn(nid));
    return 0;
}

/* The parameters of `a` decoded as `it`: they must be a SEQUENCE. */
static void *unpack(const X509_ALGOR *a, const ASN1_ITEM *it)
{
    const void *pval = NULL;
    int ptype = V_ASN1_UNDEF;
    void *out;

    X509_ALGOR_get0(NULL, &ptype, &pval, a);
    if (ptype != V_ASN1_SEQUENCE || pval == NULL)
        return NULL;
    out = ASN1_item_unpack(pval, it);
    ERR_clear_error();
    return out;
}

static int read_iter(const ASN1_INTEGER *ai, const struct mac_limits *lim,
                     int *out, struct cmpca_err *err)
{
    int64_t v = 0;

    /* fails on anything longer than 8 octets: no bignum is built */
    if (ai == NULL || !ASN1_INTEGER_get_int64(&v, ai)) {
        ERR_clear_error();
        return cmpca_err_set(err, FI_BAD_MESSAGE_CHECK,
                             "MAC: unreadable iteration count");
    }
    if (v < lim->min_iter || v > lim->max_iter)
        return cmpca_err_set(err, FI_BAD_MESSAGE_CHECK,
                             "MAC: iteration count %lld outside %ld..%ld",
                             (long long)v, lim->min_iter, lim->max_iter);
    *out = (int)v;
    return 0;
}

static int read_salt(const ASN1_OCTET_STRING *s, const struct mac_limits *lim,
                     struct mac_params *p, struct cmpca_err *err)
{
    int len = s != NULL ? ASN1_STRING_length(s) : 0;

    if (len < MAC_MIN_SALT || (size_t)len > lim->max_salt)
        return cmpca_err_set(err, FI_BAD_MESSAGE_CHECK,
                             "MAC: salt of %d octets outside %d..%zu", len,
                             MAC_MIN_SALT, lim->max_salt);
    p->salt = ASN1_STRING_get0_data(s);
    p->salt_len = (size_t)len;
    return 0;
}

static int read_pbm(const X509_ALGOR *alg, const struct mac_limits *lim,
                    struct mac_params *p, struct cmpca_err *err)
{
    p->pbm = unpack(alg, ASN1_ITEM_rptr(CMPCA_PBM_PARAMETER));
    if (p->pbm == NULL)
        return cmpca_err_set(err, FI_BAD_MESSAGE_CHECK,
                             "MAC: unreadable PBMParameter");
    if (owf_md(p->pbm->owf, &p->kdf_md, err) != 0 ||
        hmac_md(p->pbm->mac, &p->mac_md, err) != 0 ||
        read_iter(p->pbm->iterationCount, lim, &p->iter, err) != 0 ||
        read_salt(p->pbm->salt, lim, p, err) != 0)
        return -1;
    return 0;
}

static int read_key_len(const ASN1_INTEGER *ai, struct mac_params *p,
                        struct cmpca_err *err)
{
    int64_t v = 0;

    if (ai == NULL) { /* optional in RFC 8018: the MAC's own output size */
        p->key_len = (size_t)EVP_MD_get_size(p->mac_md);
        return 0;
    }
    if (!ASN1_INTEGER_get_int64(&v, ai) || v < MAC_MIN_KEY_LEN ||
        v > MAC_MAX_KEY_LEN) {
        ERR_clear_error();
        return cmpca_err_set(err, FI_BAD_MESSAGE_CHECK,
                             "MAC: PBKDF2 keyLength outside %d..%d",
                             MAC_MIN_KEY_LEN, MAC_MAX_KEY_LEN);
    }
    p->key_len = (size_t)v;
    return 0;
}

static int read_pbmac1(const X509_ALGOR *alg, const struct mac_limits *lim,
                       struct mac_params *p, struct cmpca_err *err)
{
    p->pbmac1 = unpack(alg, ASN1_ITEM_rptr(CMPCA_PBMAC1_PARAMS));
    if (p->pbmac1 == NULL)
        return cmpca_err_set(err, FI_BAD_MESSAGE_CHECK,
                             "MAC: unreadable PBMAC1-params");
    if (algor_nid(p->pbmac1->keyDerivationFunc) != NID_id_pbkdf2)
        return cmpca_err_set(err, FI_BAD_ALG,
                             "MAC: PBMAC1 key derivation must be PBKDF2");
    if (hmac_md(p->pbmac1->messageAuthScheme, &p->mac_md, err) != 0)
        return -1;
    p->kdf = unpack(p->pbmac1->keyDerivationFunc, ASN1_ITEM_rptr(PBKDF2PARAM));
    if (p->kdf == NULL)
        return cmpca_err_set(err, FI_BAD_MESSAGE_CHECK,
                             "MAC: unreadable PBKDF2-params");
    /* prf DEFAULT algid-hmacWithSHA1: absent means SHA-1, refused */
    if (p->kdf->prf == NULL)
        return cmpca_err_set(err, FI_BAD_ALG,
                             "MAC: PBKDF2 with the default PRF "
                             "hmacWithSHA1 not accepted");
    if (hmac_md(p->kdf->prf, &p->kdf_md, err) != 0)
        return -1;
    if (p->kdf->salt == NULL || p->kdf->salt->type != V_ASN1_OCTET_STRING)
        return cmpca_err_set(err, FI_BAD_ALG,
                             "MAC: PBKDF2 salt must be specified");
    if (read_iter(p->kdf->iter, lim, &p->iter, err) != 0 ||
        read_salt(p->kdf->salt->value.octet_string, lim, p, err) != 0 ||
        read_key_len(p->kdf->keylength, p, err) != 0)
        return -1;
    return 0;
}

/* Reads and bounds `alg`; on failure `p` is cleared. */
static int read_params(const X509_ALGOR *alg, const struct mac_limits *lim,
                       struct mac_params *p, struct cmpca_err *err)
{
    int rc;

    memset(p, 0, sizeof(*p));
    if (alg == NULL)
        return cmpca_err_set(err, FI_BAD_MESSAGE_CHECK, "no protectionAlg");
    p->nid = algor_nid(alg);
    if (p->nid == NID_id_PasswordBasedMAC)
        rc = read_pbm(alg, lim, p, err);
    else if (p->nid == NID_pbmac1)
        rc = read_pbmac1(alg, lim, p, err);
    else
        rc = cmpca_err_set(err, FI_BAD_ALG,
                           "MAC: %s is not PasswordBasedMac or PBMAC1",
                           OBJ_nid2sn(p->nid));
    if (rc != 0)
        params_clear(p);
    return rc;
}

static void limits_of(const struct cmpca_config *cfg, struct mac_limits *lim)
{
    lim->min_iter = cfg->mac_min_iterations;
    lim->max_iter = cfg->mac_max_iterations;
    lim->max_salt = cfg->mac_max_salt > 0 ? (size_t)cfg->mac_max_salt : 0;
}

/* PasswordBasedMac key: OWF applied `iter` times to secret || salt. */
static int pbm_key(const struct mac_params *p, const uint8_t *secret,
                   size_t secret_len, unsigned char *key, unsigned int *key_len)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int ok, i;

    ok = ctx != NULL && EVP_DigestInit_ex(ctx, p->kdf_md, NULL) > 0 &&
         EVP_DigestUpdate(ctx, secret, secret_len) > 0 &&
         EVP_DigestUpdate(ctx, p->salt, p->salt_len) > 0 &&
         EVP_DigestFinal_ex(ctx, key, key_len) > 0;
    for (i = 1; ok && i < p->iter; i++)
        ok = EVP_DigestInit_ex(ctx, p->kdf_md, NULL) > 0 &&
             EVP_DigestUpdate(ctx, key, *key_len) > 0 &&
             EVP_DigestFinal_ex(ctx, key, key_len) > 0;
    EVP_MD_CTX_free(ctx);
    return ok ? 0 : -1;
}

/* MAC of `data` under the key `p` derives from `secret`; out holds
 * EVP_MAX_MD_SIZE octets. */
static int compute(const struct mac_params *p, const uint8_t *secret,
                   size_t secret_len, const unsigned char *data,
                   size_t data_len, unsigned char *out, unsigned int *out_len)
{
    unsigned char key[EVP_MAX_MD_SIZE];
    unsigned int key_len = 0;
    int rc = -1;

    if (secret_len == 0 || secret_len > INT_MAX)
        return -1;
    if (p->nid == NID_id_PasswordBasedMAC) {
        if (pbm_key(p, secret, secret_len, key, &key_len) != 0)
            goto done;
    } else {
        key_len = (unsigned int)p->key_len; /* <= MAC_MAX_KEY_LEN */
        if (PKCS5_PBKDF2_HMAC((const char *)secret, (int)secret_len, p->salt,
                              (int)p->salt_len, p->iter, p->kdf_md,
                              (int)key_len, key) <= 0)
            goto done;
    }
    if (HMAC(p->mac_md, key, (int)key_len, data, data_len, out, out_len) ==
        NULL)
        goto done;
    rc = 0;
done:
    OPENSSL_cleanse(key, sizeof(key));
    ERR_clear_error();
    return rc;
}

/* DER of ProtectedPart { header, body }; *der is new (OPENSSL_free). */
static int protected_der(const CMPCA_PKIMESSAGE *msg, unsigned char **der,
                         size_t *der_len)
{
    CMPCA_PROTECTED_PART pp;
    int len;

    pp.header = msg->header;
    pp.body = msg->body;
    *der = NULL;
    len = i2d_CMPCA_PROTECTED_PART(&pp, der);
    if (len <= 0) {
        ERR_clear_error();
        return -1;
    }
    *der_len = (size_t)len;
    return 0;
}

int cmp_mac_check_params(const X509_ALGOR *alg, const struct cmpca_config *cfg,
                         struct cmpca_err *err)
{
    struct mac_limits lim;
    struct mac_params p;

    limits_of(cfg, &lim);
    if (read_params(alg, &lim, &p, err) != 0)
        return -1;
    params_clear(&p);
    return 0;
}

int cmp_mac_verify(const CMPCA_PKIMESSAGE *msg, const uint8_t *secret,
                   size_t secret_len, const struct cmpca_config *cfg,
                   struct cmpca_err *err)
{
    unsigned char mac[EVP_MAX_MD_SIZE], *der = NULL;
    unsigned int mac_len = 0;
    struct mac_limits lim;
    struct mac_params p;
    size_t der_len = 0;
    int rc = -1;

    limits_of(cfg, &lim);
    /* the bounds again: cheap, and safe whatever the caller did before */
    if (read_params(msg->header->protectionAlg, &lim, &p, err) != 0)
        return -1;
    if (msg->protection == NULL) {
        cmpca_err_set(err, FI_BAD_MESSAGE_CHECK, "no protection");
        goto done;
    }
    if (protected_der(msg, &der, &der_len) != 0 ||
        compute(&p, secret, secret_len, der, der_len, mac, &mac_len) != 0) {
        cmpca_err_set(err, FI_SYSTEM_FAILURE, "MAC: cannot compute");
        goto done;
    }
    if ((size_t)ASN1_STRING_length(msg->protection) != mac_len ||
        CRYPTO_memcmp(ASN1_STRING_get0_data(msg->protection), mac, mac_len) !=
            0) {
        cmpca_err_set(err, FI_BAD_MESSAGE_CHECK,
                      "MAC protection does not verify");
        goto done;
    }
    rc = 0;
done:
    OPENSSL_cleanse(mac, sizeof(mac));
    OPENSSL_free(der);
    params_clear(&p);
    return rc;
}

/* Puts `obj` packed as the SEQUENCE parameters of `a`, algorithm `nid`. */
static int algor_pack(X509_ALGOR *a, int nid, void *obj, const ASN1_ITEM *it)
{
    ASN1_STRING *seq = ASN1_item_pack(obj, it, NULL);

    if (seq == NULL ||
        !X509_ALGOR_set0(a, OBJ_nid2obj(nid), V_ASN1_SEQUENCE, seq)) {
        ASN1_STRING_free(seq);
        return -1;
    }
    return 0;
}

/* Rewrites the parameters `p` holds with a fresh salt and packs them as
 * the new protectionAlg `a`. */
static int like_with_new_salt(struct mac_params *p, X509_ALGOR *a)
{
    unsigned char salt[MAC_PROTECT_MAX_SALT];
    size_t n = p->salt_len < MAC_NEW_SALT_LEN ? MAC_NEW_SALT_LEN : p->salt_len;
    ASN1_OCTET_STRING *s;

    if (RAND_bytes(salt, (int)n) <= 0)
        return -1;
    if (p->nid == NID_id_PasswordBasedMAC) {
        if (!ASN1_OCTET_STRING_set(p->pbm->salt, salt, (int)n))
            return -1;
        p->salt = ASN1_STRING_get0_data(p->pbm->salt);
        p->salt_len = n;
        return algor_pack(a, p->nid, p->pbm,
                          ASN1_ITEM_rptr(CMPCA_PBM_PARAMETER));
    }
    /* PBMAC1 here, so read_params() set p->kdf; the analyzer does not see
     * that its failures (cmpca_err_set(), another file) all return -1 */
    /* NOLINTNEXTLINE(clang-analyzer-core.NullDereference) */
    s = p->kdf->salt->value.octet_string;
    if (!ASN1_OCTET_STRING_set(s, salt, (int)n))
        return -1;
    p->salt = ASN1_STRING_get0_data(s);
    p->salt_len = n;
    if (algor_pack(p->pbmac1->keyDerivationFunc, NID_id_pbkdf2, p->kdf,
                   ASN1_ITEM_rptr(PBKDF2PARAM)) != 0)
        return -1;
    return algor_pack(a, p->nid, p->pbmac1,
                      ASN1_ITEM_rptr(CMPCA_PBMAC1_PARAMS));
}

int cmp_mac_protect(CMPCA_PKIMESSAGE *rsp, const X509_ALGOR *like,
                    const uint8_t *secret, size_t secret_len)
{
    const struct mac_limits lim = {1, MAC_PROTECT_MAX_ITER,
                                   MAC_PROTECT_MAX_SALT};
    unsigned char mac[EVP_MAX_MD_SIZE], *der = NULL;
    unsigned int mac_len = 0;
    struct mac_params p;
    X509_ALGOR *alg = NULL;
    size_t der_len = 0;
    int rc = -1;

    if (read_params(like, &lim, &p, NULL) != 0)
        return -1;
    if ((alg = X509_ALGOR_new()) == NULL || like_with_new_salt(&p, alg) != 0)
        goto done;
    /* the algorithm is part of the header the MAC covers: set it first */
    X509_ALGOR_free(rsp->header->protectionAlg);
    rsp->header->protectionAlg = alg;
    alg = NULL;
    if (protected_der(rsp, &der, &der_len) != 0 ||
        compute(&p, secret, secret_len, der, der_len, mac, &mac_len) != 0)
        goto done;
    if (rsp->protection == NULL &&
        (rsp->protection = ASN1_BIT_STRING_new()) == NULL)
        goto done;
    if (cmp_asn1_bit_string_set1(rsp->protection, mac, mac_len) != 0)
        goto done;
    rc = 0;
done:
    ERR_clear_error();
    OPENSSL_cleanse(mac, sizeof(mac));
    OPENSSL_free(der);
    X509_ALGOR_free(alg);
    params_clear(&p);
    return rc;
}
