/*
 * ident.c: the devices cmpca-load plays. A benchmark wants thousands of
 * distinct device identities, and RSA keys take tens of milliseconds each to
 * generate, so identities are made once and cached on disk:
 *
 *   <cache>/<key type>/vendor.pem       the throwaway vendor CA: cert + key
 *   <cache>/<key type>/dev-NNNNNNN.pem  one device: vendor certificate,
 *                                       vendor key, enrollment keys A and B
 *
 * A rerun with the same or fewer devices reads files only; asking for more
 * creates the missing ones. Files are written to a temporary name and
 * renamed, and creation runs under a lock file, so an interrupted or a
 * concurrent run never leaves half a device behind. The vendor CA is the
 * same for every device of a key type: changing it would orphan the cache.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "load.h"

#define VENDOR_DAYS 7300
#define DEVICE_DAYS 7300

static const struct {
    const char *name;
    const char *tag; /* in device serials */
} kt_names[] = {
    [KT_EC_P256] = {"ec-p256", "P256"},
    [KT_EC_P384] = {"ec-p384", "P384"},
    [KT_RSA2048] = {"rsa-2048", "RSA2048"},
    [KT_ED25519] = {"ed25519", "ED25519"},
};

int key_type_parse(const char *name, enum key_type *out)
{
    for (size_t i = 0; i < sizeof(kt_names) / sizeof(kt_names[0]); i++)
        if (strcmp(name, kt_names[i].name) == 0) {
            *out = (enum key_type)i;
            return 0;
        }
    return -1;
}

const char *key_type_name(enum key_type kt)
{
    return kt_names[kt].name;
}

EVP_PKEY *key_generate(enum key_type kt)
{
    switch (kt) {
    case KT_EC_P256:
        return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    case KT_EC_P384:
        return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
    case KT_RSA2048:
        return EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
    case KT_ED25519:
        return EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    }
    return NULL;
}

/* The key type of the vendor CA and of the device's vendor key, which
 * protects the ir. OpenSSL 3.0's CMP client cannot protect a message with
 * EdDSA ("unsupported key type"), though it can prove possession of an
 * Ed25519 key; so with ed25519 only the enrollment keys are Ed25519 and the
 * vendor side stays P-256. */
static enum key_type vendor_kt(enum key_type kt)
{
    return kt == KT_ED25519 ? KT_EC_P256 : kt;
}

/* The digest to sign with: none for EdDSA, which hashes by itself. */
static const EVP_MD *md_for(enum key_type kt)
{
    switch (kt) {
    case KT_ED25519:
        return NULL;
    case KT_EC_P384:
        return EVP_sha384();
    default:
        return EVP_sha256();
    }
}

static int mkdir_p(const char *path)
{
    char tmp[LOAD_PATH_CAP];
    size_t len = strlen(path);

    if (len == 0 || len >= sizeof(tmp))
        return -1;
    memcpy(tmp, path, len + 1);
    for (char *p = tmp + 1; *p != '\0'; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(tmp, 0700) != 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    return mkdir(tmp, 0700) != 0 && errno != EEXIST ? -1 : 0;
}

static int add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX v3;
    X509_EXTENSION *ext;
    int ok;

    X509V3_set_ctx(&v3, issuer != NULL ? issuer : x, x, NULL, NULL, 0);
    if ((ext = X509V3_EXT_conf_nid(NULL, &v3, nid, value)) == NULL)
        return 0;
    ok = X509_add_ext(x, ext, -1);
    X509_EXTENSION_free(ext);
    return ok;
}

static int set_random_serial(X509 *x)
{
    unsigned char rnd[16];
    BIGNUM *bn = NULL;
    int ok;

    if (RAND_bytes(rnd, sizeof(rnd)) != 1)
        return 0;
    rnd[0] = (unsigned char)((rnd[0] & 0x7f) | 0x01); /* positive, 16 B */
    ok = (bn = BN_bin2bn(rnd, sizeof(rnd), NULL)) != NULL &&
         BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) != NULL;
    BN_free(bn);
    return ok;
}

/* make_cert issues a certificate for `pub` named `subject`: a CA when
 * `issuer` is NULL (self-signed with `sign_key`), else a device certificate
 * signed by `issuer`'s key `sign_key`. Returns it, or NULL. */
static X509 *make_cert(const X509_NAME *subject, EVP_PKEY *pub, X509 *issuer,
                       EVP_PKEY *sign_key, enum key_type kt)
{
    X509 *x = X509_new();
    int ca = issuer == NULL;
    int ok;

    ok =
        x != NULL && X509_set_version(x, X509_VERSION_3) &&
        set_random_serial(x) && X509_set_subject_name(x, subject) &&
        X509_set_issuer_name(x, ca ? subject : X509_get_subject_name(issuer)) &&
        X509_gmtime_adj(X509_getm_notBefore(x), -86400) != NULL &&
        X509_time_adj_ex(X509_getm_notAfter(x), ca ? VENDOR_DAYS : DEVICE_DAYS,
                         0, NULL) != NULL &&
        X509_set_pubkey(x, pub);
    if (ok && ca)
        ok = add_ext(x, NULL, NID_basic_constraints, "critical,CA:TRUE") &&
             add_ext(x, NULL, NID_key_usage, "critical,keyCertSign,cRLSign") &&
             add_ext(x, NULL, NID_subject_key_identifier, "hash");
    else if (ok)
        ok = add_ext(x, issuer, NID_basic_constraints, "critical,CA:FALSE") &&
             add_ext(x, issuer, NID_key_usage, "critical,digitalSignature") &&
             add_ext(x, issuer, NID_subject_key_identifier, "hash") &&
             add_ext(x, issuer, NID_authority_key_identifier, "keyid:always");
    if (ok)
        ok = X509_sign(x, sign_key, md_for(kt)) > 0;
    if (!ok) {
        X509_free(x);
        return NULL;
    }
    return x;
}

/* write_atomic writes the certificate and keys to `path` via a temporary
 * file and rename(). Returns 0 or -1. */
static int write_atomic(const char *path, X509 *cert, EVP_PKEY *const *keys,
                        int num_keys)
{
    char tmp[LOAD_PATH_CAP + 32];
    FILE *f;
    int ok;

    snprintf(tmp, sizeof(tmp), "%s.tmp%ld", path, (long)getpid());
    if ((f = fopen(tmp, "w")) == NULL)
        return -1;
    ok = PEM_write_X509(f, cert) == 1;
    for (int i = 0; ok && i < num_keys; i++)
        ok = PEM_write_PrivateKey(f, keys[i], NULL, NULL, 0, NULL, NULL) == 1;
    if (fclose(f) != 0)
        ok = 0;
    if (ok && rename(tmp, path) != 0)
        ok = 0;
    if (!ok)
        unlink(tmp);
    return ok ? 0 : -1;
}

/* read_bundle loads a certificate and `num_keys` keys written by
 * write_atomic. Returns 0, or -1 (nothing allocated) when the file is
 * missing or incomplete. */
static int read_bundle(const char *path, X509 **cert, EVP_PKEY **keys,
                       int num_keys)
{
    FILE *f = fopen(path, "r");
    int i = 0;

    *cert = NULL;
    if (f == NULL)
        return -1;
    *cert = PEM_read_X509(f, NULL, NULL, NULL);
    for (; *cert != NULL && i < num_keys; i++)
        if ((keys[i] = PEM_read_PrivateKey(f, NULL, NULL, NULL)) == NULL)
            break;
    fclose(f);
    ERR_clear_error();
    if (*cert != NULL && i == num_keys)
        return 0;
    while (i-- > 0)
        EVP_PKEY_free(keys[i]);
    X509_free(*cert);
    *cert = NULL;
    return -1;
}

static void device_path(const struct identities *ids, size_t i, char *out,
                        size_t cap)
{
    snprintf(out, cap, "%s/dev-%07zu.pem", ids->dir, i + 1);
}

static void device_serial(enum key_type kt, size_t i, char *out, size_t cap)
{
    snprintf(out, cap, "LOAD-%s-%07zu", kt_names[kt].tag, i + 1);
}

/* Shared by the threads that create missing devices. */
struct gen_job {
    const struct identities *ids;
    EVP_PKEY *vendor_key;
    size_t num;
    atomic_size_t next;
    atomic_int failed;
    atomic_size_t made;
};

static int make_device(struct gen_job *job, size_t i)
{
    const struct identities *ids = job->ids;
    char path[LOAD_PATH_CAP + 32], serial[64];
    EVP_PKEY *keys[3] = {NULL, NULL, NULL};
    X509_NAME *name = X509_NAME_new();
    X509 *cert = NULL;
    int rc = -1;

    device_path(ids, i, path, sizeof(path));
    if (access(path, R_OK) == 0) {
        rc = 0;
        goto done;
    }
    device_serial(ids->kt, i, serial, sizeof(serial));
    for (int k = 0; k < 3; k++)
        if ((keys[k] = key_generate(k == 0 ? vendor_kt(ids->kt) : ids->kt)) ==
            NULL)
            goto done;
    if (name == NULL ||
        !X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                                    (const unsigned char *)"cmpca-load", -1, -1,
                                    0) ||
        !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                    (const unsigned char *)"eNodeB", -1, -1,
                                    0) ||
        !X509_NAME_add_entry_by_txt(name, "serialNumber", MBSTRING_ASC,
                                    (const unsigned char *)serial, -1, -1, 0))
        goto done;
    cert = make_cert(name, keys[0], ids->vendor_root, job->vendor_key,
                     vendor_kt(ids->kt));
    if (cert == NULL || write_atomic(path, cert, keys, 3) != 0)
        goto done;
    atomic_fetch_add(&job->made, 1);
    rc = 0;
done:
    for (int k = 0; k < 3; k++)
        EVP_PKEY_free(keys[k]);
    X509_free(cert);
    X509_NAME_free(name);
    return rc;
}

static void *gen_thread(void *arg)
{
    struct gen_job *job = arg;
    size_t i;

    while ((i = atomic_fetch_add(&job->next, 1)) < job->num) {
        if (atomic_load(&job->failed))
            break;
        if (make_device(job, i) != 0) {
            fprintf(stderr, "cmpca-load: cannot create device %zu in %s\n",
                    i + 1, job->ids->dir);
            atomic_store(&job->failed, 1);
        }
    }
    ERR_clear_error();
    return NULL;
}

/* vendor_ca loads the vendor CA of ids->dir, creating it on first use. */
static int vendor_ca(struct identities *ids, EVP_PKEY **key)
{
    char path[LOAD_PATH_CAP + 32];
    X509_NAME *name = NULL;
    char cn[96];
    int rc = -1;

    snprintf(path, sizeof(path), "%s/vendor.pem", ids->dir);
    if (read_bundle(path, &ids->vendor_root, key, 1) == 0)
        return 0;
    snprintf(cn, sizeof(cn), "cmpca-load Vendor Root %s",
             kt_names[ids->kt].tag);
    if ((*key = key_generate(vendor_kt(ids->kt))) == NULL ||
        (name = X509_NAME_new()) == NULL ||
        !X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                                    (const unsigned char *)"cmpca-load", -1, -1,
                                    0) ||
        !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                    (const unsigned char *)cn, -1, -1, 0))
        goto done;
    ids->vendor_root = make_cert(name, *key, NULL, *key, vendor_kt(ids->kt));
    if (ids->vendor_root == NULL ||
        write_atomic(path, ids->vendor_root, key, 1) != 0)
        goto done;
    rc = 0;
done:
    X509_NAME_free(name);
    if (rc != 0)
        fprintf(stderr, "cmpca-load: cannot create the vendor CA %s\n", path);
    return rc;
}

/* name_vendor names the vendor after the key type and the vendor CA's
 * fingerprint, so a cache made afresh never meets a cmpca that trusts an
 * older vendor CA under the same name. */
static int name_vendor(struct identities *ids)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;

    if (!X509_digest(ids->vendor_root, EVP_sha256(), md, &len) || len < 4)
        return -1;
    snprintf(ids->vendor, sizeof(ids->vendor), "load-%s-%02x%02x%02x%02x",
             kt_names[ids->kt].name, md[0], md[1], md[2], md[3]);
    return 0;
}

/* generate_missing creates devices 1..num that have no file yet. */
static int generate_missing(struct identities *ids, EVP_PKEY *vendor_key,
                            size_t num, int threads)
{
    struct gen_job job = {.ids = ids, .vendor_key = vendor_key, .num = num};
    pthread_t tids[64];
    int started = 0;

    if (threads < 1)
        threads = 1;
    if (threads > 64)
        threads = 64;
    atomic_init(&job.next, 0);
    atomic_init(&job.failed, 0);
    atomic_init(&job.made, 0);
    for (; started < threads; started++)
        if (pthread_create(&tids[started], NULL, gen_thread, &job) != 0)
            break;
    if (started == 0)
        gen_thread(&job);
    for (int t = 0; t < started; t++)
        pthread_join(tids[t], NULL);
    if (atomic_load(&job.made) > 0)
        fprintf(stderr, "cmpca-load: created %zu device identities in %s\n",
                atomic_load(&job.made), ids->dir);
    return atomic_load(&job.failed) ? -1 : 0;
}

/* lock_dir takes an exclusive lock on dir/.lock; returns the fd or -1. */
static int lock_dir(const char *dir)
{
    char path[LOAD_PATH_CAP + 16];
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
    int fd;

    snprintf(path, sizeof(path), "%s/.lock", dir);
    if ((fd = open(path, O_RDWR | O_CREAT, 0600)) < 0)
        return -1;
    if (fcntl(fd, F_SETLKW, &fl) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static int load_devices(struct identities *ids, size_t num)
{
    char path[LOAD_PATH_CAP + 32];

    if ((ids->devs = calloc(num, sizeof(*ids->devs))) == NULL)
        return -1;
    for (size_t i = 0; i < num; i++) {
        struct device *d = &ids->devs[i];
        EVP_PKEY *keys[3];

        device_path(ids, i, path, sizeof(path));
        if (read_bundle(path, &d->vendor_cert, keys, 3) != 0) {
            fprintf(stderr, "cmpca-load: cannot read %s\n", path);
            return -1;
        }
        ids->num_devices = i + 1;
        d->vendor_key = keys[0];
        d->new_key[0] = keys[1];
        d->new_key[1] = keys[2];
        device_serial(ids->kt, i, d->serial, sizeof(d->serial));
    }
    return 0;
}

int ident_load(const char *cache, enum key_type kt, size_t num, int threads,
               struct identities *ids)
{
    EVP_PKEY *vendor_key = NULL;
    int lock = -1, rc = -1;

    memset(ids, 0, sizeof(*ids));
    ids->kt = kt;
    if ((size_t)snprintf(ids->dir, sizeof(ids->dir), "%s/%s", cache,
                         kt_names[kt].name) >= sizeof(ids->dir) ||
        mkdir_p(ids->dir) != 0) {
        fprintf(stderr, "cmpca-load: cannot create cache directory %s\n",
                ids->dir);
        return -1;
    }
    if ((lock = lock_dir(ids->dir)) < 0) {
        fprintf(stderr, "cmpca-load: cannot lock %s/.lock\n", ids->dir);
        return -1;
    }
    if (vendor_ca(ids, &vendor_key) != 0 || name_vendor(ids) != 0 ||
        generate_missing(ids, vendor_key, num, threads) != 0)
        goto done;
    close(lock);
    lock = -1;
    rc = load_devices(ids, num);
done:
    if (lock >= 0)
        close(lock);
    EVP_PKEY_free(vendor_key);
    ERR_clear_error();
    return rc;
}

void ident_free(struct identities *ids)
{
    if (ids == NULL)
        return;
    for (size_t i = 0; i < ids->num_devices; i++) {
        struct device *d = &ids->devs[i];

        X509_free(d->vendor_cert);
        EVP_PKEY_free(d->vendor_key);
        EVP_PKEY_free(d->new_key[0]);
        EVP_PKEY_free(d->new_key[1]);
        X509_free(d->op_cert);
    }
    free(ids->devs);
    X509_free(ids->vendor_root);
    memset(ids, 0, sizeof(*ids));
}
