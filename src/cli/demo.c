/*
 * demo.c: `cmpca serve --demo` gives a newcomer something to enroll within a
 * minute: a stand-in vendor PKI (root CA and one factory-installed device
 * certificate, as a base-station vendor would ship), registered in the store,
 * plus the exact `openssl cmp` command a device would run. Built with
 * libcrypto directly, so the demo does not depend on the openssl tool's
 * configuration file or version.
 */
#include "cli/cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "ca/ca.h"

#define DEMO_VENDOR "demo-vendor"
#define DEMO_SERIAL "DEMO-0001"
#define DEMO_SUBDIR "demo"
#define VENDOR_DAYS 3650
#define DEVICE_DAYS 1825

/* Files under DIR/demo, in the order they are written. */
enum { D_ROOT_KEY, D_ROOT, D_DEV_KEY, D_DEV, D_NEW_KEY, NUM_DEMO_FILES };
static const char *const demo_files[NUM_DEMO_FILES] = {
    "vendor-root.key", "vendor-root.pem", "device.key", "device.pem", "new.key",
};

struct demo_pki {
    EVP_PKEY *root_key, *dev_key, *new_key;
    X509 *root, *dev;
};

static void demo_pki_clear(struct demo_pki *p)
{
    EVP_PKEY_free(p->root_key);
    EVP_PKEY_free(p->dev_key);
    EVP_PKEY_free(p->new_key);
    X509_free(p->root);
    X509_free(p->dev);
}

/* DIR/demo/<file> (or DIR/demo when file is NULL) as a new string. */
static char *demo_path(const struct cmpca_config *cfg, const char *file)
{
    char rel[64];

    snprintf(rel, sizeof(rel), "%s%s%s", DEMO_SUBDIR, file ? "/" : "",
             file ? file : "");
    return config_path(cfg, rel);
}

static int add_ext(X509 *x, X509V3_CTX *ctx, int nid, const char *value)
{
    X509_EXTENSION *ext = X509V3_EXT_nconf_nid(NULL, ctx, nid, value);
    int ok = ext != NULL && X509_add_ext(x, ext, -1);

    X509_EXTENSION_free(ext);
    return ok ? 0 : -1;
}

/* Signs a certificate for `subject`/`pub`: a CA when `issuer` is NULL
 * (self-signed with `sign_key`), else an end-entity signed by `issuer`. */
static X509 *make_cert(const X509_NAME *subject, EVP_PKEY *pub, X509 *issuer,
                       EVP_PKEY *sign_key, int days)
{
    ASN1_INTEGER *serial = NULL;
    X509 *x = X509_new();
    X509V3_CTX ctx;
    int ok = 0;

    if (x == NULL || ca_serial_new(&serial, NULL) != 0 ||
        !X509_set_version(x, X509_VERSION_3) ||
        !X509_set_serialNumber(x, serial) ||
        !X509_set_subject_name(x, subject) ||
        !X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer)
                                        : subject) ||
        X509_gmtime_adj(X509_getm_notBefore(x), 0) == NULL ||
        X509_time_adj_ex(X509_getm_notAfter(x), days, 0, NULL) == NULL ||
        !X509_set_pubkey(x, pub))
        goto done;
    X509V3_set_ctx(&ctx, issuer ? issuer : x, x, NULL, NULL, 0);
    if (issuer == NULL) {
        if (add_ext(x, &ctx, NID_basic_constraints, "critical,CA:TRUE") ||
            add_ext(x, &ctx, NID_key_usage, "critical,keyCertSign,cRLSign") ||
            add_ext(x, &ctx, NID_subject_key_identifier, "hash"))
            goto done;
    } else {
        if (add_ext(x, &ctx, NID_basic_constraints, "critical,CA:FALSE") ||
            add_ext(x, &ctx, NID_key_usage, "critical,digitalSignature") ||
            add_ext(x, &ctx, NID_subject_key_identifier, "hash") ||
            add_ext(x, &ctx, NID_authority_key_identifier, "keyid:always"))
            goto done;
    }
    ok = X509_sign(x, sign_key, EVP_sha256()) > 0;
done:
    ASN1_INTEGER_free(serial);
    if (!ok) {
        X509_free(x);
        x = NULL;
    }
    return x;
}

static X509_NAME *make_name(const char *cn, const char *serial)
{
    X509_NAME *n = X509_NAME_new();

    if (n == NULL ||
        !X509_NAME_add_entry_by_NID(n, NID_commonName, MBSTRING_ASC,
                                    (const unsigned char *)cn, -1, -1, 0) ||
        (serial != NULL && !X509_NAME_add_entry_by_NID(
                               n, NID_serialNumber, MBSTRING_ASC,
                               (const unsigned char *)serial, -1, -1, 0))) {
        X509_NAME_free(n);
        return NULL;
    }
    return n;
}

/* Generates the keys and certificates of the demo vendor PKI. */
static int demo_pki_make(struct demo_pki *p)
{
    struct cmpca_err err = CMPCA_ERR_INIT;
    X509_NAME *root_name = make_name("Demo Vendor Root CA", NULL);
    X509_NAME *dev_name = make_name("Demo eNodeB", DEMO_SERIAL);
    int rc = CLI_FAIL;

    if (root_name == NULL || dev_name == NULL) {
        cli_fail("demo", "out of memory");
        goto done;
    }
    if (ca_key_generate(CA_KEY_EC_P256, &p->root_key, &err) != 0 ||
        ca_key_generate(CA_KEY_EC_P256, &p->dev_key, &err) != 0 ||
        ca_key_generate(CA_KEY_EC_P256, &p->new_key, &err) != 0) {
        cli_fail("demo", "cannot generate keys: %s", err.msg);
        goto done;
    }
    p->root = make_cert(root_name, p->root_key, NULL, p->root_key, VENDOR_DAYS);
    if (p->root != NULL)
        p->dev =
            make_cert(dev_name, p->dev_key, p->root, p->root_key, DEVICE_DAYS);
    if (p->root == NULL || p->dev == NULL) {
        char why[256];

        cli_fail("demo", "cannot sign the demo certificates: %s",
                 cli_ossl_reason(why, sizeof(why), "unknown error"));
        goto done;
    }
    rc = CLI_OK;
done:
    X509_NAME_free(root_name);
    X509_NAME_free(dev_name);
    return rc;
}

/* PEM of a private key (is_key) or certificate in `obj`, written to `path`. */
static int write_pem(const char *path, const void *obj, int is_key)
{
    BIO *mem = BIO_new(BIO_s_mem());
    char *data = NULL;
    long len = 0;
    int ok;

    if (mem == NULL)
        return cli_fail(path, "out of memory");
    if (is_key)
        ok = PEM_write_bio_PrivateKey(mem, (EVP_PKEY *)obj, NULL, NULL, 0, NULL,
                                      NULL);
    else
        ok = PEM_write_bio_X509(mem, (X509 *)obj);
    if (ok)
        len = BIO_get_mem_data(mem, &data);
    if (!ok || len <= 0)
        ok = 0;
    else if (cli_write_excl(path, data, (size_t)len, is_key ? 0600 : 0644))
        ok = cli_fail(path, "%s", strerror(errno)) == CLI_OK;
    if (data != NULL && len > 0)
        OPENSSL_cleanse(data, (size_t)len);
    BIO_free(mem);
    return ok ? CLI_OK : CLI_FAIL;
}

static int demo_write(const struct cmpca_config *cfg, const struct demo_pki *p)
{
    const void *objs[NUM_DEMO_FILES] = {p->root_key, p->root, p->dev_key,
                                        p->dev, p->new_key};
    char *path;
    int i, rc;

    for (i = 0; i < NUM_DEMO_FILES; i++) {
        if ((path = demo_path(cfg, demo_files[i])) == NULL)
            return cli_fail("demo", "out of memory");
        rc = write_pem(path, objs[i], i != D_ROOT && i != D_DEV);
        free(path);
        if (rc != CLI_OK)
            return rc;
    }
    return CLI_OK;
}

/* Registers the vendor and the device in the store. */
static int demo_register(struct store *st, X509 *root)
{
    struct cmpca_err err = CMPCA_ERR_INIT;
    struct store_vendor v = {0};
    STACK_OF(X509) *roots = sk_X509_new_null();
    int rc = CLI_FAIL, r;

    if (roots == NULL || !sk_X509_push(roots, root) ||
        (v.root_pem = cli_certs_pem(roots)) == NULL) {
        cli_fail("demo", "out of memory");
        goto done;
    }
    v.name = DEMO_VENDOR;
    v.id_attr = "serialNumber";
    if ((r = store_vendor_add(st, &v, &err)) == STORE_EXISTS) {
        cli_fail("demo",
                 "vendor %s exists but %s/ does not: remove the "
                 "vendor's data or use a new directory",
                 DEMO_VENDOR, DEMO_SUBDIR);
        goto done;
    } else if (r != 0) {
        cli_fail("demo", "vendor %s: %s", DEMO_VENDOR, err.msg);
        goto done;
    }
    r = store_device_add(st, DEMO_VENDOR, DEMO_SERIAL, APPROVAL_AUTO, &err);
    if (r != 0 && r != STORE_EXISTS) {
        cli_fail("demo", "device %s: %s", DEMO_SERIAL, err.msg);
        goto done;
    }
    rc = CLI_OK;
done:
    free(v.root_pem);
    sk_X509_free(roots); /* the certificate itself stays with the caller */
    return rc;
}

static void demo_remove(const struct cmpca_config *cfg, const char *dir)
{
    char *path;

    for (int i = 0; i < NUM_DEMO_FILES; i++) {
        if ((path = demo_path(cfg, demo_files[i])) != NULL)
            unlink(path);
        free(path);
    }
    rmdir(dir);
}

int demo_prepare(const struct cmpca_config *cfg, struct store *st)
{
    struct demo_pki p = {NULL, NULL, NULL, NULL, NULL};
    char *dir = demo_path(cfg, NULL);
    int rc = CLI_FAIL, created = 0;

    if (dir == NULL)
        return cli_fail("demo", "out of memory");
    if (cli_file_exists(dir)) {
        fprintf(stderr, "cmpca: demo: using the demo PKI in %s\n", dir);
        rc = CLI_OK;
        goto done;
    }
    if (cli_mkdirs(dir, 0700) != 0) {
        cli_fail(dir, "%s", strerror(errno));
        goto done;
    }
    created = 1;
    if (demo_pki_make(&p) != CLI_OK || demo_write(cfg, &p) != CLI_OK ||
        demo_register(st, p.root) != CLI_OK)
        goto done;
    fprintf(stderr,
            "cmpca: demo: created vendor %s, device %s and its keys "
            "in %s\n",
            DEMO_VENDOR, DEMO_SERIAL, dir);
    rc = CLI_OK;
done:
    if (rc != CLI_OK && created)
        demo_remove(cfg, dir);
    demo_pki_clear(&p);
    free(dir);
    return rc;
}

/* Absolute, shell-quoted form of DIR-relative `rel` (new string). */
static char *quoted_path(const struct cmpca_config *cfg, const char *rel)
{
    char *path = config_path(cfg, rel), *abs = NULL, *q = NULL;

    if (path != NULL && (abs = cli_abspath(path)) != NULL)
        q = cli_shell_quote(abs);
    free(path);
    free(abs);
    return q;
}

int demo_print_command(const struct cmpca_config *cfg, const char *url,
                       FILE *out)
{
    static const char *const rels[] = {
        DEMO_SUBDIR "/device.pem",   DEMO_SUBDIR "/device.key",
        DEMO_SUBDIR "/new.key",      NULL, /* the operator root */
        DEMO_SUBDIR "/operator.pem", DEMO_SUBDIR "/operator-root.pem",
    };
    enum { N = sizeof(rels) / sizeof(rels[0]) };
    char *q[N] = {NULL};
    int rc = CLI_FAIL, i;

    for (i = 0; i < N; i++)
        if ((q[i] = quoted_path(cfg, rels[i] ? rels[i] : cfg->root_cert)) ==
            NULL)
            goto done;
    fprintf(stderr, "cmpca: demo: enroll the demo device with:\n");
    fprintf(out,
            "openssl cmp -cmd ir -server %s -cert %s -key %s -newkey %s "
            "-subject \"/CN=%s/serialNumber=%s\" -trusted %s -certout %s "
            "-cacertsout %s\n",
            url, q[0], q[1], q[2], DEMO_SERIAL, DEMO_SERIAL, q[3], q[4], q[5]);
    rc = CLI_OK;
done:
    if (rc != CLI_OK)
        cli_fail("demo", "out of memory");
    for (i = 0; i < N; i++)
        free(q[i]);
    return rc;
}
