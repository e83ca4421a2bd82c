/*
 * fuzz_pipeline_env.c: the world the pipeline fuzz target runs in. A fixed
 * operator PKI and vendor PKI are committed under tests/fuzz/pki (see
 * make_seeds.sh), so the seed requests captured from `openssl cmp` are
 * signed by keys this program holds and can sign mutations with again. The
 * config and the SQLite store live in a temp dir, on tmpfs when possible:
 * the store commits with synchronous=FULL, and an fsync per request on a
 * real disk would cut the execution rate by orders of magnitude.
 *
 * The registrations mirror make_seeds.sh: vendor fuzzvendor (vroot.pem),
 * devices FUZZ0001 (auto) and FUZZ0002 (manual approval), RA fuzzra (every
 * vendor, may raVerify and revoke), the operator certificate op.pem
 * (issued by the CA to FUZZ0001 while the seeds were made) as confirmed,
 * and FUZZ0004 with a shared secret for MAC protection.
 */
#include "fuzz_pipeline.h"

#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>

#define VENDOR "fuzzvendor"

static const char *const signer_files[FUZZ_NUM_SIGNERS] = {
    NULL, "dev1", "op", "ra", "dev2", "dev3",
};

/* A profile unlike the default one, so the policy code takes its other
 * branches on /p/alt (subject and SAN from the template, no clamping, key
 * reuse on kur, renewal by ir). */
static const char conf_fmt[] =
    "[store]\ndb = sqlite:%s/cmpca.db\n"
    "[ca]\nroot_cert = %s/root.pem\ncert = %s/ca.pem\nkey = %s/ca.key\n"
    "[cmp]\n"
    "# the seeds were captured once; their messageTime must stay usable\n"
    "time_skew = 1000000000\nimplicit_confirm = yes\npoll_interval = 1\n"
    "# one signer sends everything: its open transactions must not run out\n"
    "max_open_transactions = 1000000000\n"
    "max_open_transactions_per_signer = 1000000000\n"
    "[mac]\n# mutated iteration counts: keep each derivation cheap\n"
    "max_iterations = 10000\n"
    "[profile alt]\nvalidity_days = 30\nclamp = no\nsubject = template\n"
    "allowed_rdns = CN, O, serialNumber\nsan = template\n"
    "key_types = ec-p256, ec-p384, rsa-2048, ed25519\n"
    "key_usage = digitalSignature, keyAgreement\n"
    "extended_key_usage = clientAuth\n"
    "crl_url = http://fuzz.example/crl/ca.crl\nimplicit_confirm = no\n"
    "renewal_by_ir = yes\nkur_key_reuse = yes\n";

static char *read_text(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    long len;

    if (f == NULL)
        return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (len = ftell(f)) >= 0 &&
        fseek(f, 0, SEEK_SET) == 0 && (buf = malloc((size_t)len + 1)) != NULL) {
        if (fread(buf, 1, (size_t)len, f) != (size_t)len) {
            free(buf);
            buf = NULL;
        } else {
            buf[len] = '\0';
        }
    }
    fclose(f);
    return buf;
}

static void rm_tree(const char *dir)
{
    char path[PATH_MAX + 256];
    struct dirent *e;
    DIR *d;

    if (dir[0] == '\0' || (d = opendir(dir)) == NULL)
        return;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        unlink(path);
    }
    closedir(d);
    rmdir(dir);
}

/* Removes the temp dirs of earlier runs that died without cleaning up (a
 * crash ends the process with _exit): their names carry the pid. */
static void sweep_stale(const char *base)
{
    char path[PATH_MAX];
    struct dirent *e;
    DIR *d;
    long pid;

    if ((d = opendir(base)) == NULL)
        return;
    while ((e = readdir(d)) != NULL) {
        if (sscanf(e->d_name, "cmpca-fuzz-%ld-", &pid) != 1 || pid <= 0 ||
            pid == (long)getpid() || kill((pid_t)pid, 0) == 0)
            continue;
        snprintf(path, sizeof(path), "%s/%s", base, e->d_name);
        rm_tree(path);
    }
    closedir(d);
}

static int make_dir(struct fuzz_env *env)
{
    const char *base = getenv("TMPDIR");
    struct stat sb;

    if (stat("/dev/shm", &sb) == 0 && S_ISDIR(sb.st_mode) &&
        access("/dev/shm", W_OK) == 0)
        base = "/dev/shm";
    else if (base == NULL || base[0] == '\0')
        base = "/tmp";
    sweep_stale(base);
    snprintf(env->dir, sizeof(env->dir), "%s/cmpca-fuzz-%ld-XXXXXX", base,
             (long)getpid());
    if (mkdtemp(env->dir) == NULL) {
        perror(env->dir);
        env->dir[0] = '\0';
        return -1;
    }
    return 0;
}

static int write_conf(const struct fuzz_env *env)
{
    char path[PATH_MAX + 32];
    FILE *f;
    int ok;

    snprintf(path, sizeof(path), "%s/%s", env->dir, CMPCA_CONF_FILE);
    if ((f = fopen(path, "w")) == NULL)
        return -1;
    ok = fprintf(f, conf_fmt, env->dir, env->pki, env->pki, env->pki) > 0;
    return fclose(f) == 0 && ok ? 0 : -1;
}

static int load_signers(struct fuzz_env *env)
{
    char path[PATH_MAX + 32];
    FILE *f;

    for (int i = 1; i < FUZZ_NUM_SIGNERS; i++) {
        snprintf(path, sizeof(path), "%s/%s.pem", env->pki, signer_files[i]);
        if ((f = fopen(path, "r")) != NULL) {
            env->signer_cert[i] = PEM_read_X509(f, NULL, NULL, NULL);
            fclose(f);
        }
        snprintf(path, sizeof(path), "%s/%s.key", env->pki, signer_files[i]);
        if ((f = fopen(path, "r")) != NULL) {
            env->signer_key[i] = PEM_read_PrivateKey(f, NULL, NULL, NULL);
            fclose(f);
        }
        /* op.pem appears only once make_seeds.sh has run: not fatal */
        if ((env->signer_cert[i] == NULL || env->signer_key[i] == NULL) &&
            i != FUZZ_SIGNER_OP) {
            fprintf(stderr, "fuzz_pipeline: cannot read %s/%s.{pem,key}\n",
                    env->pki, signer_files[i]);
            return -1;
        }
    }
    ERR_clear_error();
    return 0;
}

/* `name` in RFC 2253 form, as the engine records subjects. New or NULL. */
static char *name_text(const X509_NAME *name)
{
    BIO *bio = BIO_new(BIO_s_mem());
    char *text = NULL, *data;
    long len;

    if (bio != NULL && X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253) >= 0 &&
        (len = BIO_get_mem_data(bio, &data)) >= 0 &&
        (text = malloc((size_t)len + 1)) != NULL) {
        memcpy(text, data, (size_t)len);
        text[len] = '\0';
    }
    BIO_free(bio);
    return text;
}

/* `t` as seconds since the epoch (0 when unreadable). */
static time_t time_of(const ASN1_TIME *t)
{
    int days = 0, secs = 0;
    time_t now = time(NULL);

    if (!ASN1_TIME_diff(&days, &secs, NULL, t))
        return 0;
    return now + (time_t)days * 86400 + secs;
}

/* The operator certificate as the engine would have stored it. */
static int insert_op_cert(struct fuzz_env *env, struct cmpca_err *err)
{
    X509 *c = env->signer_cert[FUZZ_SIGNER_OP];
    struct store_cert row;
    unsigned char *der = NULL;
    int len, rc = -1;

    if (c == NULL)
        return 0;
    memset(&row, 0, sizeof(row));
    row.serial_hex = ca_serial_hex(X509_get0_serialNumber(c));
    row.subject = name_text(X509_get_subject_name(c));
    row.issuer = name_text(X509_get_issuer_name(c));
    if (row.serial_hex == NULL || row.subject == NULL || row.issuer == NULL ||
        (len = i2d_X509(c, &der)) <= 0) {
        cmpca_err_set(err, FI_SYSTEM_FAILURE, "op.pem: out of memory");
        goto done;
    }
    row.not_before = time_of(X509_get0_notBefore(c));
    row.not_after = time_of(X509_get0_notAfter(c));
    row.status = CERT_CONFIRMED;
    row.vendor = VENDOR;
    row.device = "FUZZ0001";
    row.der = der;
    row.der_len = (size_t)len;
    row.created = time(NULL);
    row.profile = CMPCA_PROFILE_DEFAULT;
    rc = store_cert_insert(env->st, &row, err);
done:
    free(row.serial_hex);
    free(row.subject);
    free(row.issuer);
    OPENSSL_free(der);
    return rc;
}

/* FUZZ0004 and its shared secret, sealed with the key the engine will
 * load from the same file. */
static int register_mac_device(struct fuzz_env *env, struct cmpca_err *err)
{
    unsigned char key[CA_SEAL_KEY_LEN];
    struct store_secret sec = {0};
    char *path = config_path(env->cfg, env->cfg->secrets_key);
    int rc = -1;

    if (path == NULL)
        return cmpca_err_set(err, FI_SYSTEM_FAILURE, "out of memory");
    if (ca_seal_key_load(path, 1, key, err) != 0 ||
        store_device_add(env->st, VENDOR, FUZZ_MAC_KID, APPROVAL_AUTO, err) !=
            0 ||
        ca_secret_seal(key, (const uint8_t *)FUZZ_MAC_SECRET,
                       strlen(FUZZ_MAC_SECRET), &sec.sealed, &sec.sealed_len,
                       err) != 0)
        goto done;
    sec.kid = (uint8_t *)FUZZ_MAC_KID;
    sec.kid_len = strlen(FUZZ_MAC_KID);
    sec.vendor = VENDOR;
    sec.device = FUZZ_MAC_KID;
    sec.single_use = 0;
    rc = store_secret_put(env->st, &sec, err);
done:
    OPENSSL_free(sec.sealed);
    OPENSSL_cleanse(key, sizeof(key));
    free(path);
    return rc;
}

static int register_all(struct fuzz_env *env, struct cmpca_err *err)
{
    char path[PATH_MAX + 32];
    struct store_vendor v = {0};
    struct store_ra ra = {0};
    int rc = -1;

    snprintf(path, sizeof(path), "%s/vroot.pem", env->pki);
    v.name = VENDOR;
    v.id_attr = "serialNumber";
    if ((v.root_pem = read_text(path)) == NULL)
        goto done;
    snprintf(path, sizeof(path), "%s/ra.pem", env->pki);
    ra.name = "fuzzra";
    ra.vendors = "*";
    ra.may_raverify = 1;
    ra.may_revoke = 1;
    if ((ra.cert_pem = read_text(path)) == NULL)
        goto done;
    if (store_vendor_add(env->st, &v, err) != 0 ||
        store_device_add(env->st, VENDOR, "FUZZ0001", APPROVAL_AUTO, err) !=
            0 ||
        store_device_add(env->st, VENDOR, "FUZZ0002", APPROVAL_MANUAL, err) !=
            0 ||
        store_ra_add(env->st, &ra, err) != 0 || insert_op_cert(env, err) != 0 ||
        register_mac_device(env, err) != 0)
        goto done;
    rc = 0;
done:
    free(v.root_pem);
    free(ra.cert_pem);
    return rc;
}

static void remove_db(const struct fuzz_env *env)
{
    static const char *const suffix[] = {"", "-wal", "-shm", "-journal"};
    char path[PATH_MAX + 32];

    for (size_t i = 0; i < sizeof(suffix) / sizeof(suffix[0]); i++) {
        snprintf(path, sizeof(path), "%s/cmpca.db%s", env->dir, suffix[i]);
        unlink(path);
    }
}

/* Opens a new store over an empty database and the engine over it. */
static int open_store(struct fuzz_env *env)
{
    struct cmpca_err err = CMPCA_ERR_INIT;

    remove_db(env);
    if (store_open(env->cfg->db, &env->st, &err) != 0 ||
        register_all(env, &err) != 0 ||
        cmp_srv_new(env->cfg, env->ca, env->st, &env->srv, &err) != 0) {
        fprintf(stderr, "fuzz_pipeline: store: %s\n", err.msg);
        return -1;
    }
    env->runs = 0;
    return 0;
}

int fuzz_env_init(struct fuzz_env *env, const char *pki)
{
    struct cmpca_err err = CMPCA_ERR_INIT;
    char errbuf[512] = "";
    char *root = NULL, *cert = NULL, *key = NULL;
    int rc = -1;

    memset(env, 0, sizeof(*env));
    snprintf(env->pki, sizeof(env->pki), "%s", pki);
    if (make_dir(env) != 0 || write_conf(env) != 0)
        goto done;
    if (config_load(env->dir, &env->cfg, errbuf, sizeof(errbuf)) != 0) {
        fprintf(stderr, "fuzz_pipeline: config: %s\n", errbuf);
        goto done;
    }
    root = config_path(env->cfg, env->cfg->root_cert);
    cert = config_path(env->cfg, env->cfg->ca_cert);
    key = config_path(env->cfg, env->cfg->ca_key);
    if (root == NULL || cert == NULL || key == NULL ||
        ca_load(root, cert, key, &env->ca, &err) != 0) {
        fprintf(stderr, "fuzz_pipeline: CA in %s: %s\n", pki, err.msg);
        goto done;
    }
    if (load_signers(env) != 0 || open_store(env) != 0)
        goto done;
    rc = 0;
done:
    free(root);
    free(cert);
    free(key);
    return rc;
}

int fuzz_env_op_usable(struct fuzz_env *env)
{
    struct cmpca_err err = CMPCA_ERR_INIT;
    struct store_cert row;
    char *hex;
    int ok;

    if (env->signer_cert[FUZZ_SIGNER_OP] == NULL)
        return 1;
    if ((hex = ca_serial_hex(
             X509_get0_serialNumber(env->signer_cert[FUZZ_SIGNER_OP]))) == NULL)
        return 0;
    memset(&row, 0, sizeof(row));
    ok = store_cert_get(env->st, hex, &row, &err) == 0 &&
         row.status == CERT_CONFIRMED && row.revoked_at == 0;
    store_cert_clear(&row);
    free(hex);
    return ok;
}

void fuzz_env_set_dev2(struct fuzz_env *env, int state)
{
    struct cmpca_err err = CMPCA_ERR_INIT;

    store_device_set_state(env->st, VENDOR, "FUZZ0002", state, &err);
}

int fuzz_env_renew(struct fuzz_env *env)
{
    cmp_srv_free(env->srv);
    env->srv = NULL;
    store_close(env->st);
    env->st = NULL;
    return open_store(env);
}

void fuzz_env_free(struct fuzz_env *env)
{
    cmp_srv_free(env->srv);
    store_close(env->st);
    ca_free(env->ca);
    config_free(env->cfg);
    for (int i = 0; i < FUZZ_NUM_SIGNERS; i++) {
        X509_free(env->signer_cert[i]);
        EVP_PKEY_free(env->signer_key[i]);
    }
    rm_tree(env->dir);
    memset(env, 0, sizeof(*env));
}
