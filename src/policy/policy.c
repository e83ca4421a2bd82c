/*
 * policy.c: vendor trust and device rules (see policy.h). The vendor list is
 * small (a handful of equipment vendors), so the trust store is rebuilt from
 * the store for each initial enrollment; that keeps registry changes
 * immediate without a cache to invalidate. If profiling ever shows this on
 * the hot path, cache it keyed by a registry version counter.
 */
#include "policy/policy.h"

#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "util/log.h"

/* Appends every certificate of a PEM text to `sk`. */
static int pem_certs_push(const char *pem, STACK_OF(X509) *sk)
{
    BIO *bio;
    X509 *x;
    int n = 0;

    if (pem == NULL)
        return 0;
    if ((bio = BIO_new_mem_buf(pem, -1)) == NULL)
        return -1;
    while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
        if (!sk_X509_push(sk, x)) {
            X509_free(x);
            BIO_free(bio);
            return -1;
        }
        n++;
    }
    ERR_clear_error(); /* the loop ends on "no start line" */
    BIO_free(bio);
    return n;
}

/* Extracts the value of the one `nid` attribute of `name` as UTF-8. */
static int name_attr(const X509_NAME *name, int nid, char *out, size_t cap)
{
    int idx = X509_NAME_get_index_by_NID(name, nid, -1);
    unsigned char *utf8 = NULL;
    int len;

    if (idx < 0 || X509_NAME_get_index_by_NID(name, nid, idx) >= 0)
        return -1; /* absent or ambiguous */
    len = ASN1_STRING_to_UTF8(
        &utf8, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, idx)));
    if (len <= 0 || (size_t)len >= cap || memchr(utf8, '\0', len) != NULL) {
        OPENSSL_free(utf8);
        return -1;
    }
    memcpy(out, utf8, (size_t)len);
    out[len] = '\0';
    OPENSSL_free(utf8);
    return 0;
}

struct vendor_trust {
    X509_STORE *roots;
    STACK_OF(X509) *untrusted; /* vendor intermediates + request extraCerts */
    STACK_OF(X509) *root_list; /* parallel to vendors[] */
    struct store_vendor *vendors;
    size_t num_vendors;
};

static void vendor_trust_clear(struct vendor_trust *vt)
{
    X509_STORE_free(vt->roots);
    sk_X509_pop_free(vt->untrusted, X509_free);
    sk_X509_pop_free(vt->root_list, X509_free);
    store_vendor_list_free(vt->vendors, vt->num_vendors);
}

static int vendor_trust_load(struct store *st, STACK_OF(X509) *extra,
                             struct vendor_trust *vt, struct cmpca_err *err)
{
    size_t i;
    STACK_OF(X509) *one = NULL;

    memset(vt, 0, sizeof(*vt));
    if (store_vendor_list(st, &vt->vendors, &vt->num_vendors, err) != 0)
        return -1;
    vt->roots = X509_STORE_new();
    vt->untrusted = sk_X509_new_null();
    vt->root_list = sk_X509_new_null();
    if (vt->roots == NULL || vt->untrusted == NULL || vt->root_list == NULL)
        return cmpca_err_ossl(err, FI_SYSTEM_FAILURE, "out of memory");
    for (i = 0; i < vt->num_vendors; i++) {
        if ((one = sk_X509_new_null()) == NULL ||
            pem_certs_push(vt->vendors[i].root_pem, one) != 1 ||
            !X509_STORE_add_cert(vt->roots, sk_X509_value(one, 0)) ||
            !sk_X509_push(vt->root_list, sk_X509_value(one, 0))) {
            sk_X509_pop_free(one, X509_free);
            return cmpca_err_ossl(err, FI_SYSTEM_FAILURE,
                                  "vendor %s: unusable root",
                                  vt->vendors[i].name);
        }
        sk_X509_zero(one); /* the reference moved to root_list */
        sk_X509_free(one);
        one = NULL;
        if (pem_certs_push(vt->vendors[i].chain_pem, vt->untrusted) < 0)
            return cmpca_err_ossl(err, FI_SYSTEM_FAILURE,
                                  "vendor %s: unusable chain",
                                  vt->vendors[i].name);
    }
    for (i = 0; extra != NULL && i < (size_t)sk_X509_num(extra); i++)
        if (!X509_add_cert(vt->untrusted, sk_X509_value(extra, (int)i),
                           X509_ADD_FLAG_UP_REF))
            return cmpca_err_ossl(err, FI_SYSTEM_FAILURE, "out of memory");
    return 0;
}

/* A second validation against the vendor's own CRL, when the operator
 * configured one (`cmpca vendor crl`): revoked, or a CRL past its
 * nextUpdate, is signerNotTrusted. Only this vendor's root anchors it, so
 * a vendor without a CRL is never asked for one. */
static int check_vendor_crl(const struct vendor_trust *vt, size_t idx,
                            X509 *signer, time_t now, struct cmpca_err *err)
{
    const struct store_vendor *v = &vt->vendors[idx];
    X509_STORE *roots = X509_STORE_new();
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    BIO *bio = NULL;
    X509_CRL *crl;
    int n = 0, rc = -1;

    if (roots == NULL || ctx == NULL ||
        !X509_STORE_add_cert(roots, sk_X509_value(vt->root_list, (int)idx)) ||
        (bio = BIO_new_mem_buf(v->crl_pem, -1)) == NULL) {
        cmpca_err_ossl(err, FI_SYSTEM_FAILURE, "out of memory");
        goto done;
    }
    while ((crl = PEM_read_bio_X509_CRL(bio, NULL, NULL, NULL)) != NULL) {
        n += X509_STORE_add_crl(roots, crl) ? 1 : 0;
        X509_CRL_free(crl);
    }
    ERR_clear_error();
    if (n == 0) {
        cmpca_err_set(err, FI_SIGNER_NOT_TRUSTED, "vendor %s: unusable CRL",
                      v->name);
        goto done;
    }
    if (!X509_STORE_CTX_init(ctx, roots, signer, vt->untrusted)) {
        cmpca_err_ossl(err, FI_SYSTEM_FAILURE, "cannot set up verification");
        goto done;
    }
    X509_STORE_CTX_set_time(ctx, 0, now);
    X509_STORE_CTX_set_flags(ctx, X509_V_FLAG_X509_STRICT |
                                      X509_V_FLAG_CRL_CHECK);
    if (X509_verify_cert(ctx) <= 0) {
        cmpca_err_set(err, FI_SIGNER_NOT_TRUSTED,
                      "vendor certificate fails the vendor CRL: %s",
                      X509_verify_cert_error_string(
                          X509_STORE_CTX_get_error(ctx)));
        goto done;
    }
    rc = 0;
done:
    ERR_clear_error();
    BIO_free(bio);
    X509_STORE_CTX_free(ctx);
    X509_STORE_free(roots);
    return rc;
}

/* Finds which vendor's root ends `chain`. */
static const struct store_vendor *vendor_of_chain(const struct vendor_trust *vt,
                                                  STACK_OF(X509) *chain)
{
    X509 *top = sk_X509_value(chain, sk_X509_num(chain) - 1);

    for (size_t i = 0; i < vt->num_vendors; i++)
        if (X509_cmp(top, sk_X509_value(vt->root_list, (int)i)) == 0)
            return &vt->vendors[i];
    return NULL;
}

int policy_vendor_authenticate(struct store *st, X509 *signer,
                               STACK_OF(X509) *untrusted, time_t now,
                               struct policy_device *out,
                               struct cmpca_err *err)
{
    struct vendor_trust vt;
    X509_STORE_CTX *ctx = NULL;
    const struct store_vendor *v;
    int nid, rc = -1;

    memset(out, 0, sizeof(*out));
    if (vendor_trust_load(st, untrusted, &vt, err) != 0)
        goto done;
    if (vt.num_vendors == 0) {
        cmpca_err_set(err, FI_SIGNER_NOT_TRUSTED, "no vendor root configured");
        goto done;
    }
    if ((ctx = X509_STORE_CTX_new()) == NULL ||
        !X509_STORE_CTX_init(ctx, vt.roots, signer, vt.untrusted)) {
        cmpca_err_ossl(err, FI_SYSTEM_FAILURE, "cannot set up verification");
        goto done;
    }
    X509_STORE_CTX_set_time(ctx, 0, now);
    X509_STORE_CTX_set_flags(ctx, X509_V_FLAG_X509_STRICT);
    if (X509_verify_cert(ctx) <= 0) {
        cmpca_err_set(err, FI_SIGNER_NOT_TRUSTED,
                      "vendor certificate not trusted: %s",
                      X509_verify_cert_error_string(
                          X509_STORE_CTX_get_error(ctx)));
        ERR_clear_error();
        goto done;
    }
    if ((X509_get_extension_flags(signer) & EXFLAG_KUSAGE) != 0 &&
        (X509_get_key_usage(signer) & KU_DIGITAL_SIGNATURE) == 0) {
        cmpca_err_set(err, FI_SIGNER_NOT_TRUSTED,
                      "vendor certificate not allowed to sign (keyUsage)");
        goto done;
    }
    if ((v = vendor_of_chain(&vt, X509_STORE_CTX_get0_chain(ctx))) == NULL) {
        cmpca_err_set(err, FI_SIGNER_NOT_TRUSTED, "chain ends at no vendor");
        goto done;
    }
    if (v->crl_pem != NULL &&
        check_vendor_crl(&vt, (size_t)(v - vt.vendors), signer, now, err) != 0)
        goto done;
    nid = strcmp(v->id_attr, "CN") == 0 ? NID_commonName : NID_serialNumber;
    if (name_attr(X509_get_subject_name(signer), nid, out->serial,
                  sizeof(out->serial)) != 0) {
        cmpca_err_set(err, FI_NOT_AUTHORIZED,
                      "vendor certificate has no single %s attribute",
                      v->id_attr);
        goto done;
    }
    snprintf(out->vendor, sizeof(out->vendor), "%s", v->name);
    rc = 0;
done:
    X509_STORE_CTX_free(ctx);
    vendor_trust_clear(&vt);
    return rc;
}

int policy_device_may_enroll(struct store *st, const struct cmpca_config *cfg,
                             const struct policy_device *dev,
                             int *needs_approval, struct cmpca_err *err)
{
    struct store_device d;
    int rc;

    if (needs_approval != NULL)
        *needs_approval = 0;
    memset(&d, 0, sizeof(d));
    rc = store_device_get(st, dev->vendor, dev->serial, &d, err);
    if (rc == STORE_NOTFOUND)
        return cmpca_err_set(err, FI_NOT_AUTHORIZED,
                             "device %s of vendor %s is not registered",
                             dev->serial, dev->vendor);
    if (rc != 0)
        return -1;
    rc = 0;
    if (d.state == DEVICE_DISABLED || d.state == DEVICE_REJECTED ||
        (d.state == DEVICE_ENROLLED && !cfg->reenroll &&
         d.approval != APPROVAL_MANUAL))
        rc = cmpca_err_set(err, FI_NOT_AUTHORIZED,
                           "device %s of vendor %s may not enroll (%s)",
                           dev->serial, dev->vendor,
                           d.state == DEVICE_DISABLED   ? "disabled"
                           : d.state == DEVICE_REJECTED ? "rejected by an "
                                                          "operator"
                                                        : "already enrolled");
    else if (needs_approval != NULL && d.approval == APPROVAL_MANUAL &&
             d.state != DEVICE_APPROVED)
        *needs_approval = 1;
    store_device_clear(&d);
    return rc;
}

int policy_check_hash_nid(int md_nid, struct cmpca_err *err)
{
    switch (md_nid) {
    case NID_sha256:
    case NID_sha384:
    case NID_sha512:
    case NID_sha224:
    case NID_sha3_256:
    case NID_sha3_384:
    case NID_sha3_512:
        return 0;
    case NID_md2:
    case NID_md4:
    case NID_md5:
    case NID_sha1:
        return cmpca_err_set(err, FI_BAD_ALG, "%s is not allowed (TS 33.310)",
                             OBJ_nid2sn(md_nid));
    default:
        return cmpca_err_set(err, FI_BAD_ALG, "unsupported digest %s",
                             OBJ_nid2sn(md_nid));
    }
}

int policy_check_sig_alg(const X509_ALGOR *alg, struct cmpca_err *err)
{
    const ASN1_OBJECT *obj = NULL;
    int nid, md_nid, pk_nid;

    if (alg == NULL)
        return cmpca_err_set(err, FI_BAD_ALG, "no algorithm");
    X509_ALGOR_get0(&obj, NULL, NULL, alg);
    nid = OBJ_obj2nid(obj);
    if (nid == NID_undef || !OBJ_find_sigid_algs(nid, &md_nid, &pk_nid))
        return cmpca_err_set(err, FI_BAD_ALG, "unknown signature algorithm");
    if (md_nid == NID_undef) {
        /* EdDSA carries its own hash; RSASSA-PSS names it in parameters,
         * which ASN1_item_verify checks; nothing else is acceptable */
        if (pk_nid == NID_ED25519 || pk_nid == NID_ED448 ||
            nid == NID_rsassaPss)
            return 0;
        return cmpca_err_set(err, FI_BAD_ALG, "unsupported algorithm %s",
                             OBJ_nid2sn(nid));
    }
    return policy_check_hash_nid(md_nid, err);
}

int policy_check_public_key(const EVP_PKEY *key, struct cmpca_err *err)
{
    char curve[64];
    size_t len = 0;
    int bits = EVP_PKEY_get_bits(key);

    switch (EVP_PKEY_get_base_id(key)) {
    case EVP_PKEY_EC:
        if (!EVP_PKEY_get_utf8_string_param(key, "group", curve,
                                            sizeof(curve), &len))
            return cmpca_err_ossl(err, FI_BAD_CERT_TEMPLATE,
                                  "EC key without a named curve");
        if (strcmp(curve, "prime256v1") == 0 ||
            strcmp(curve, "secp384r1") == 0 || strcmp(curve, "secp521r1") == 0)
            return 0;
        return cmpca_err_set(err, FI_BAD_ALG, "EC curve %s not allowed",
                             curve);
    case EVP_PKEY_RSA:
        if (bits < 2048 || bits > 8192)
            return cmpca_err_set(err, FI_BAD_CERT_TEMPLATE,
                                 "RSA key of %d bits not allowed (2048..8192)",
                                 bits);
        return 0;
    case EVP_PKEY_ED25519:
    case EVP_PKEY_ED448:
        return 0;
    default:
        return cmpca_err_set(err, FI_BAD_ALG, "key type not allowed");
    }
}
