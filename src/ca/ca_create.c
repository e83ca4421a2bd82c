/*
 * ca_create.c: making the operator PKI (`cmpca init`): a self-signed
 * operator root and an issuing CA it signs, written as three PEM files.
 *
 * Everything is built in memory first and the files are created with
 * O_EXCL only at the end, so a mistake (a typo'd path, a second `init`)
 * can never overwrite a CA key that devices already trust. If writing fails
 * half-way, the files this call created are removed again, leaving the
 * directory as it was. The root key is dropped after signing: offline-root
 * operation is a later feature, and a root key nobody kept cannot leak.
 */
#include "ca/ca_local.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/pem.h>

/* The three files, in the order they are written. */
enum { F_ROOT, F_CERT, F_KEY, F_NUM };

struct out_file {
    const char *path; /* borrowed from the options */
    mode_t mode;
    BIO *pem;    /* owned: the encoded contents */
    int created; /* this call created the file: remove it on failure */
};

/* make_name builds the DN O=<org>, CN=<org><cn_suffix> (RFC 4514 text
 * "CN=<org><suffix>,O=<org>"). *out is new. */
static int make_name(const char *org, const char *cn_suffix, X509_NAME **out,
                     struct cmpca_err *err)
{
    char cn[256];
    X509_NAME *name = NULL;
    int n;

    *out = NULL;
    n = snprintf(cn, sizeof(cn), "%s%s", org, cn_suffix);
    if (n < 0 || (size_t)n >= sizeof(cn))
        return cmpca_err_set(err, FI_SYSTEM_FAILURE,
                             "organization name too long");
    if ((name = X509_NAME_new()) == NULL ||
        X509_NAME_add_entry_by_NID(name, NID_organizationName, MBSTRING_UTF8,
                                   (const unsigned char *)org, -1, -1,
                                   0) <= 0 ||
        X509_NAME_add_entry_by_NID(name, NID_commonName, MBSTRING_UTF8,
                                   (const unsigned char *)cn, -1, -1, 0) <= 0) {
        X509_NAME_free(name);
        return cmpca_err_ossl(err, FI_SYSTEM_FAILURE,
                              "cannot use \"%s\" in a name (a CN or O has at "
                              "most 64 characters)",
                              cn);
    }
    *out = name;
    return 0;
}

/* make_root builds and self-signs the operator root. *out and *out_skid
 * (its key identifier) are new; the caller frees *out_skid even when this
 * fails. */
static int make_root(const struct ca_create_opts *o, EVP_PKEY *key,
                     const EVP_MD *md, X509 **out, ASN1_OCTET_STRING **out_skid,
                     struct cmpca_err *err)
{
    X509_NAME *name = NULL;
    X509 *x = NULL;
    int ret = -1;

    *out = NULL;
    if (make_name(o->org, " Operator Root CA", &name, err) != 0)
        goto done;
    if (ca_cert_begin(name, name, key, 0, o->root_days, NULL, &x, err) != 0 ||
        ca_ext_basic_constraints(x, 1, -1, err) != 0 ||
        ca_ext_key_usage(x, KU_KEY_CERT_SIGN | KU_CRL_SIGN, err) != 0 ||
        ca_ext_skid(x, out_skid, err) != 0)
        goto done;
    if (X509_sign(x, key, md) <= 0) {
        cmpca_err_ossl(err, FI_SYSTEM_FAILURE, "cannot sign the root");
        goto done;
    }
    *out = x;
    x = NULL;
    ret = 0;

done:
    X509_NAME_free(name);
    X509_free(x);
    return ret;
}

/* make_issuing builds the issuing CA for `key` and signs it with the root.
 * No extendedKeyUsage: an EKU on a CA would constrain, in some verifiers,
 * every certificate below it. *out is new. */
static int make_issuing(const struct ca_create_opts *o, const X509 *root,
                        EVP_PKEY *root_key, const ASN1_OCTET_STRING *root_skid,
                        EVP_PKEY *key, const EVP_MD *md, X509 **out,
                        struct cmpca_err *err)
{
    X509_NAME *name = NULL;
    X509 *x = NULL;
    int ret = -1;

    *out = NULL;
    if (make_name(o->org, " Issuing CA", &name, err) != 0)
        goto done;
    if (ca_cert_begin(X509_get_subject_name(root), name, key, 0,
                      o->issuing_days, X509_get0_notAfter(root), &x,
                      err) != 0 ||
        ca_ext_basic_constraints(x, 1, 0, err) != 0 ||
        ca_ext_key_usage(x,
                         KU_DIGITAL_SIGNATURE | KU_KEY_CERT_SIGN | KU_CRL_SIGN,
                         err) != 0 ||
        ca_ext_skid(x, NULL, err) != 0 || ca_ext_akid(x, root_skid, err) != 0)
        goto done;
    if (X509_sign(x, root_key, md) <= 0) {
        cmpca_err_ossl(err, FI_SYSTEM_FAILURE, "cannot sign the issuing CA");
        goto done;
    }
    *out = x;
    x = NULL;
    ret = 0;

done:
    X509_NAME_free(name);
    X509_free(x);
    return ret;
}

static int check_opts(const struct ca_create_opts *o, struct cmpca_err *err)
{
    if (o == NULL || o->org == NULL || o->org[0] == '\0')
        return cmpca_err_set(err, FI_SYSTEM_FAILURE, "no organization name");
    if (o->root_days <= 0 || o->issuing_days <= 0)
        return cmpca_err_set(err, FI_SYSTEM_FAILURE,
                             "validity days must be positive");
    if (o->root_path == NULL || o->cert_path == NULL || o->key_path == NULL)
        return cmpca_err_set(err, FI_SYSTEM_FAILURE, "missing output path");
    if (strcmp(o->root_path, o->cert_path) == 0 ||
        strcmp(o->root_path, o->key_path) == 0 ||
        strcmp(o->cert_path, o->key_path) == 0)
        return cmpca_err_set(err, FI_SYSTEM_FAILURE,
                             "root, certificate and key paths must differ");
    return 0;
}

/* check_absent fails if any output path exists (a dangling symlink counts:
 * O_EXCL would refuse it too), before any key is generated. */
static int check_absent(const struct out_file *f, struct cmpca_err *err)
{
    struct stat st;
    int i;

    for (i = 0; i < F_NUM; i++) {
        if (lstat(f[i].path, &st) == 0)
            return cmpca_err_set(err, FI_SYSTEM_FAILURE,
                                 "%s already exists; refusing to overwrite "
                                 "(nothing was written)",
                                 f[i].path);
        if (errno != ENOENT)
            return cmpca_err_set(err, FI_SYSTEM_FAILURE, "cannot check %s: %s",
                                 f[i].path, strerror(errno));
    }
    return 0;
}

/* write_file creates f->path exclusively and writes f->pem to disk. */
static int write_file(struct out_file *f, struct cmpca_err *err)
{
    char *data = NULL;
    long len = BIO_get_mem_data(f->pem, &data);
    ssize_t n;
    int fd;

    fd = open(f->path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, f->mode);
    if (fd < 0)
        return cmpca_err_set(err, FI_SYSTEM_FAILURE, "cannot create %s: %s",
                             f->path, strerror(errno));
    f->created = 1;
    while (len > 0) {
        n = write(fd, data, (size_t)len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        data += n;
        len -= (long)n;
    }
    if (len > 0 || fsync(fd) != 0) {
        cmpca_err_set(err, FI_SYSTEM_FAILURE, "cannot write %s: %s", f->path,
                      strerror(errno));
        close(fd);
        return -1;
    }
    if (close(fd) != 0)
        return cmpca_err_set(err, FI_SYSTEM_FAILURE, "cannot write %s: %s",
                             f->path, strerror(errno));
    return 0;
}

/* write_all encodes the three objects, then writes the files; on failure it
 * removes the files it created. */
static int write_all(struct out_file *f, const X509 *root, const X509 *cert,
                     const EVP_PKEY *key, struct cmpca_err *err)
{
    int i;

    for (i = 0; i < F_NUM; i++)
        if ((f[i].pem = BIO_new(BIO_s_mem())) == NULL)
            return cmpca_err_ossl(err, FI_SYSTEM_FAILURE, "out of memory");
    if (PEM_write_bio_X509(f[F_ROOT].pem, root) <= 0 ||
        PEM_write_bio_X509(f[F_CERT].pem, cert) <= 0 ||
        PEM_write_bio_PrivateKey(f[F_KEY].pem, key, NULL, NULL, 0, NULL,
                                 NULL) <= 0)
        return cmpca_err_ossl(err, FI_SYSTEM_FAILURE, "cannot encode PEM");
    for (i = 0; i < F_NUM; i++) {
        if (write_file(&f[i], err) == 0)
            continue;
        for (i = 0; i < F_NUM; i++)
            if (f[i].created)
                unlink(f[i].path);
        return -1;
    }
    return 0;
}

int ca_create(const struct ca_create_opts *o, struct cmpca_err *err)
{
    struct out_file f[F_NUM] = {{NULL, 0, NULL, 0}};
    EVP_PKEY *root_key = NULL, *key = NULL;
    X509 *root = NULL, *cert = NULL;
    ASN1_OCTET_STRING *root_skid = NULL;
    const EVP_MD *md = NULL;
    int i, ret = -1;

    if (check_opts(o, err) != 0)
        return -1;
    f[F_ROOT].path = o->root_path;
    f[F_ROOT].mode = 0644;
    f[F_CERT].path = o->cert_path;
    f[F_CERT].mode = 0644;
    f[F_KEY].path = o->key_path;
    f[F_KEY].mode = 0600;
    if (check_absent(f, err) != 0)
        goto done;
    if (ca_key_generate(o->key_type, &root_key, err) != 0 ||
        ca_key_generate(o->key_type, &key, err) != 0 ||
        ca_key_check(key, &md, err) != 0)
        goto done;
    if (make_root(o, root_key, md, &root, &root_skid, err) != 0 ||
        make_issuing(o, root, root_key, root_skid, key, md, &cert, err) != 0)
        goto done;
    if (write_all(f, root, cert, key, err) != 0)
        goto done;
    ret = 0;

done:
    for (i = 0; i < F_NUM; i++)
        BIO_free(f[i].pem);
    ASN1_OCTET_STRING_free(root_skid);
    X509_free(root);
    X509_free(cert);
    EVP_PKEY_free(key);
    EVP_PKEY_free(root_key);
    return ret;
}
