/*
 * ca_load.c: loading the operator PKI at startup, and the accessors the
 * other rooms read it through. Every consistency check happens here, once,
 * so a server never starts with a key that does not match its certificate
 * or an issuing CA that does not chain to the root it hands out in caPubs;
 * after this the struct is read-only and shared by all worker threads.
 */
#include "ca/ca_local.h"

#include <openssl/pem.h>

#include "util/log.h"

/* no_passphrase refuses to prompt: an encrypted key must fail to load in a
 * daemon rather than wait on a terminal nobody watches. */
/* NOLINTNEXTLINE(readability-non-const-parameter): pem_password_cb type */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
    (void)buf;
    (void)size;
    (void)rwflag;
    (void)u;
    return -1;
}

static int read_cert(const char *path, X509 **out, struct cmpca_err *err)
{
    BIO *in = NULL;

    *out = NULL;
    if (path == NULL)
        return cmpca_err_set(err, FI_SYSTEM_FAILURE, "no certificate path");
    if ((in = BIO_new_file(path, "r")) == NULL)
        return cmpca_err_ossl(err, FI_SYSTEM_FAILURE, "cannot open %s", path);
    *out = PEM_read_bio_X509(in, NULL, no_passphrase, NULL);
    BIO_free(in);
    if (*out == NULL)
        return cmpca_err_ossl(err, FI_SYSTEM_FAILURE,
                              "no PEM certificate in %s", path);
    return 0;
}

static int read_key(const char *path, EVP_PKEY **out, struct cmpca_err *err)
{
    BIO *in = NULL;

    *out = NULL;
    if (path == NULL)
        return cmpca_err_set(err, FI_SYSTEM_FAILURE, "no key path");
    if ((in = BIO_new_file(path, "r")) == NULL)
        return cmpca_err_ossl(err, FI_SYSTEM_FAILURE, "cannot open %s", path);
    *out = PEM_read_bio_PrivateKey(in, NULL, no_passphrase, NULL);
    BIO_free(in);
    if (*out == NULL)
        return cmpca_err_ossl(err, FI_SYSTEM_FAILURE,
                              "no unencrypted PEM private key in %s", path);
    return 0;
}

/* check_pki: key matches cert, root is self-signed, cert is a CA issued and
 * signed by root. Also fills the extension caches of both certificates
 * (X509_check_issued does), so threads later only read them. */
static int check_pki(X509 *root, X509 *cert, EVP_PKEY *key,
                     struct cmpca_err *err)
{
    if (X509_check_private_key(cert, key) != 1)
        return cmpca_err_ossl(err, FI_SYSTEM_FAILURE,
                              "CA key does not match the CA certificate");
    if (X509_check_issued(root, root) != X509_V_OK ||
        X509_verify(root, X509_get0_pubkey(root)) != 1)
        return cmpca_err_ossl(err, FI_SYSTEM_FAILURE,
                              "root certificate is not self-signed");
    if (X509_check_ca(root) < 1 || X509_check_ca(cert) < 1)
        return cmpca_err_set(err, FI_SYSTEM_FAILURE,
                             "root or issuing certificate is not a CA");
    if (X509_check_issued(root, cert) != X509_V_OK ||
        X509_verify(cert, X509_get0_pubkey(root)) != 1)
        return cmpca_err_ossl(err, FI_SYSTEM_FAILURE,
                              "issuing CA is not signed by the root");
    if (X509_cmp_current_time(X509_get0_notAfter(cert)) <= 0)
        log_warn("issuing CA certificate has expired");
    return 0;
}

/* set_skid copies the issuing CA's SKI, or computes SHA-1 of its key the
 * way ca_ext_skid does when the certificate has none. */
static int set_skid(struct ca *ca, struct cmpca_err *err)
{
    const ASN1_OCTET_STRING *ski = X509_get0_subject_key_id(ca->cert);
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int md_len = 0;

    if (ski != NULL) {
        if ((ca->skid = ASN1_OCTET_STRING_dup(ski)) == NULL)
            return cmpca_err_ossl(err, FI_SYSTEM_FAILURE, "out of memory");
        return 0;
    }
    if (X509_pubkey_digest(ca->cert, EVP_sha1(), md, &md_len) <= 0 ||
        (ca->skid = ASN1_OCTET_STRING_new()) == NULL ||
        ASN1_OCTET_STRING_set(ca->skid, md, (int)md_len) <= 0)
        return cmpca_err_ossl(err, FI_SYSTEM_FAILURE,
                              "cannot compute CA key identifier");
    return 0;
}

static int set_chain(struct ca *ca, struct cmpca_err *err)
{
    if ((ca->chain = sk_X509_new_null()) == NULL ||
        !X509_add_cert(ca->chain, ca->cert, X509_ADD_FLAG_UP_REF) ||
        !X509_add_cert(ca->chain, ca->root, X509_ADD_FLAG_UP_REF))
        return cmpca_err_ossl(err, FI_SYSTEM_FAILURE, "out of memory");
    return 0;
}

int ca_load(const char *root_path, const char *cert_path, const char *key_path,
            struct ca **out, struct cmpca_err *err)
{
    struct ca *ca = NULL;
    int ret = -1;

    *out = NULL;
    if ((ca = OPENSSL_zalloc(sizeof(*ca))) == NULL) {
        cmpca_err_set(err, FI_SYSTEM_FAILURE, "out of memory");
        goto done;
    }
    if (read_cert(root_path, &ca->root, err) != 0 ||
        read_cert(cert_path, &ca->cert, err) != 0 ||
        read_key(key_path, &ca->key, err) != 0)
        goto done;
    if (ca_key_check(ca->key, &ca->md, err) != 0 ||
        check_pki(ca->root, ca->cert, ca->key, err) != 0)
        goto done;
    if (set_skid(ca, err) != 0 || set_chain(ca, err) != 0)
        goto done;
    *out = ca;
    ca = NULL;
    ret = 0;

done:
    ca_free(ca);
    return ret;
}

void ca_free(struct ca *ca)
{
    if (ca == NULL)
        return;
    sk_X509_pop_free(ca->chain, X509_free);
    ASN1_OCTET_STRING_free(ca->skid);
    EVP_PKEY_free(ca->key);
    X509_free(ca->cert);
    X509_free(ca->root);
    OPENSSL_free(ca);
}

X509 *ca_get0_root(const struct ca *ca)
{
    return ca->root;
}

X509 *ca_get0_cert(const struct ca *ca)
{
    return ca->cert;
}

EVP_PKEY *ca_get0_key(const struct ca *ca)
{
    return ca->key;
}

/* clang-format would read STACK_OF(X509) * as a multiplication */
/* clang-format off */
STACK_OF(X509) *ca_get0_chain(const struct ca *ca)
/* clang-format on */
{
    return ca->chain;
}

const EVP_MD *ca_get0_md(const struct ca *ca)
{
    return ca->md;
}

const ASN1_OCTET_STRING *ca_get0_skid(const struct ca *ca)
{
    return ca->skid;
}
