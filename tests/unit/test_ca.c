/*
 * test_ca.c: the ca room against independent judges. For each key type an
 * operator PKI is created in a temp dir and loaded; end-entity certificates
 * are issued for an EC and an RSA key and then checked by OpenSSL's own
 * path validation (X509_verify_cert, X509_V_FLAG_X509_STRICT) and by the
 * `openssl` command-line tool, not only by reading back what we wrote.
 */
#include "ca/ca.h"
#include "check.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509_vfy.h>

#ifndef OPENSSL_BIN
#define OPENSSL_BIN "openssl"
#endif

#define ORG "Acme Telco"

struct pki {
    char dir[256];
    char root[300], cert[300], key[300], ee[300];
};

/* Keys for the end-entity certificates, made once. */
struct ee_keys {
    EVP_PKEY *ec;
    EVP_PKEY *rsa;
};

static void pki_paths(struct pki *p, const char *base, const char *sub)
{
    snprintf(p->dir, sizeof(p->dir), "%s/%s", base, sub);
    snprintf(p->root, sizeof(p->root), "%s/root.pem", p->dir);
    snprintf(p->cert, sizeof(p->cert), "%s/ca.pem", p->dir);
    snprintf(p->key, sizeof(p->key), "%s/ca.key", p->dir);
    snprintf(p->ee, sizeof(p->ee), "%s/ee.pem", p->dir);
}

static void pki_remove(const struct pki *p)
{
    unlink(p->root);
    unlink(p->cert);
    unlink(p->key);
    unlink(p->ee);
    rmdir(p->dir);
}

static int pki_create(struct pki *p, int key_type)
{
    struct cmpca_err err = CMPCA_ERR_INIT;
    struct ca_create_opts o = {key_type, ORG,     7300,  3650,
                               p->root,  p->cert, p->key};

    if (mkdir(p->dir, 0700) != 0)
        return -1;
    if (ca_create(&o, &err) != 0) {
        fprintf(stderr, "ca_create: %s\n", err.msg);
        return -1;
    }
    return 0;
}

static X509 *read_pem_cert(const char *path)
{
    BIO *in = BIO_new_file(path, "r");
    X509 *x = in != NULL ? PEM_read_bio_X509(in, NULL, NULL, NULL) : NULL;

    BIO_free(in);
    return x;
}

static int write_pem_cert(const char *path, X509 *x)
{
    BIO *out = BIO_new_file(path, "w");
    int ok = out != NULL && PEM_write_bio_X509(out, x) > 0;

    BIO_free(out);
    return ok ? 0 : -1;
}

/* ext_crit: 1 critical, 0 not, -1 absent */
static int ext_crit(const X509 *x, int nid)
{
    int i = X509_get_ext_by_NID(x, nid, -1);

    if (i < 0)
        return -1;
    return X509_EXTENSION_get_critical(X509_get_ext(x, i));
}

static int name_is(const X509_NAME *name, const char *want)
{
    BIO *b = BIO_new(BIO_s_mem());
    char buf[256] = "";
    int n, ok;

    X509_NAME_print_ex(b, name, 0, XN_FLAG_RFC2253);
    n = BIO_read(b, buf, sizeof(buf) - 1);
    buf[n > 0 ? n : 0] = '\0';
    BIO_free(b);
    ok = strcmp(buf, want) == 0;
    if (!ok)
        fprintf(stderr, "name \"%s\" != \"%s\"\n", buf, want);
    return ok;
}

static int expected_sig_nid(int key_type)
{
    switch (key_type) {
    case CA_KEY_EC_P256:
        return NID_ecdsa_with_SHA256;
    case CA_KEY_EC_P384:
        return NID_ecdsa_with_SHA384;
    default:
        return NID_sha256WithRSAEncryption;
    }
}

/* The two CA certificates as written to disk, and the key file's mode. */
static void check_created(const struct pki *p, int key_type)
{
    X509 *root = read_pem_cert(p->root), *cert = read_pem_cert(p->cert);
    const ASN1_OCTET_STRING *root_ski;
    struct stat st;

    CHECK(root != NULL && cert != NULL);
    if (root == NULL || cert == NULL)
        goto done;
    CHECK(name_is(X509_get_subject_name(root),
                  "CN=" ORG " Operator Root CA,O=" ORG));
    CHECK(name_is(X509_get_subject_name(cert), "CN=" ORG " Issuing CA,O=" ORG));
    CHECK_INT_EQ(X509_get_version(root), X509_VERSION_3);
    CHECK_INT_EQ(X509_get_version(cert), X509_VERSION_3);
    CHECK((X509_get_extension_flags(root) & EXFLAG_SS) != 0);
    CHECK_INT_EQ(ext_crit(root, NID_basic_constraints), 1);
    CHECK_INT_EQ(ext_crit(root, NID_key_usage), 1);
    CHECK_INT_EQ(X509_get_key_usage(root), KU_KEY_CERT_SIGN | KU_CRL_SIGN);
    CHECK_INT_EQ(X509_get_pathlen(root), -1);
    CHECK(X509_check_ca(root) == 1 && X509_check_ca(cert) == 1);
    CHECK_INT_EQ(ext_crit(cert, NID_basic_constraints), 1);
    CHECK_INT_EQ(X509_get_pathlen(cert), 0);
    CHECK_INT_EQ(ext_crit(cert, NID_key_usage), 1);
    CHECK_INT_EQ(X509_get_key_usage(cert),
                 KU_DIGITAL_SIGNATURE | KU_KEY_CERT_SIGN | KU_CRL_SIGN);
    CHECK_INT_EQ(ext_crit(cert, NID_ext_key_usage), -1);
    root_ski = X509_get0_subject_key_id(root);
    CHECK(root_ski != NULL && X509_get0_subject_key_id(cert) != NULL);
    CHECK(X509_get0_authority_key_id(cert) != NULL &&
          ASN1_OCTET_STRING_cmp(X509_get0_authority_key_id(cert), root_ski) ==
              0);
    CHECK_INT_EQ(X509_get_signature_nid(root), expected_sig_nid(key_type));
    CHECK_INT_EQ(X509_get_signature_nid(cert), expected_sig_nid(key_type));
    CHECK(stat(p->key, &st) == 0 && (st.st_mode & 0777) == 0600);

done:
    X509_free(root);
    X509_free(cert);
}

static int run_openssl_verify(const char *root, const char *cert)
{
    char cmd[1024];

    snprintf(cmd, sizeof(cmd),
             OPENSSL_BIN " verify -x509_strict -CAfile '%s' '%s' >/dev/null "
                         "2>&1",
             root, cert);
    return system(cmd);
}

/* openssl_serial: what `openssl x509 -noout -serial` prints, after
 * "serial=", without the newline. */
static int openssl_serial(const char *path, char *out, size_t out_len)
{
    char cmd[1024], line[256] = "";
    FILE *f;
    size_t n;

    snprintf(cmd, sizeof(cmd), OPENSSL_BIN " x509 -noout -serial -in '%s'",
             path);
    if ((f = popen(cmd, "r")) == NULL)
        return -1;
    if (fgets(line, sizeof(line), f) == NULL)
        line[0] = '\0';
    if (pclose(f) != 0 || strncmp(line, "serial=", 7) != 0)
        return -1;
    n = strcspn(line + 7, "\r\n");
    if (n >= out_len)
        return -1;
    memcpy(out, line + 7, n);
    out[n] = '\0';
    return 0;
}

static int verify_chain(const struct ca *ca, X509 *ee)
{
    X509_STORE *store = X509_STORE_new();
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    STACK_OF(X509) *untrusted = sk_X509_new_null();
    int ok = 0;

    if (store == NULL || ctx == NULL || untrusted == NULL ||
        !X509_STORE_add_cert(store, ca_get0_root(ca)) ||
        !sk_X509_push(untrusted, ca_get0_cert(ca)) ||
        !X509_STORE_CTX_init(ctx, store, ee, untrusted))
        goto done;
    X509_STORE_CTX_set_flags(ctx, X509_V_FLAG_X509_STRICT);
    ok = X509_verify_cert(ctx) == 1;
    if (!ok)
        fprintf(stderr, "verify: %s\n",
                X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx)));

done:
    sk_X509_free(untrusted);
    X509_STORE_CTX_free(ctx);
    X509_STORE_free(store);
    return ok;
}

static void check_serial(const X509 *ee)
{
    const ASN1_INTEGER *sn = X509_get0_serialNumber(ee);
    const unsigned char *d = ASN1_STRING_get0_data(sn);

    CHECK_INT_EQ(ASN1_STRING_type(sn), V_ASN1_INTEGER); /* positive */
    CHECK_INT_EQ(ASN1_STRING_length(sn), 16);
    CHECK_INT_EQ(i2d_ASN1_INTEGER(sn, NULL), 18); /* tag, length, 16 */
    CHECK(d != NULL && d[0] != 0 && d[0] < 0x80);
}

/* The SAN of `ee` is exactly one dNSName `dns`, critical or not. */
static void check_san(const X509 *ee, const char *dns, int want_crit)
{
    int crit = -1;
    GENERAL_NAMES *gens =
        X509_get_ext_d2i(ee, NID_subject_alt_name, &crit, NULL);
    const GENERAL_NAME *g;
    const ASN1_IA5STRING *s;
    int type;

    CHECK(gens != NULL && sk_GENERAL_NAME_num(gens) == 1);
    CHECK_INT_EQ(crit, want_crit);
    if (gens != NULL && sk_GENERAL_NAME_num(gens) == 1) {
        g = sk_GENERAL_NAME_value(gens, 0);
        s = GENERAL_NAME_get0_value(g, &type);
        CHECK_INT_EQ(type, GEN_DNS);
        CHECK(type == GEN_DNS && ASN1_STRING_length(s) == (int)strlen(dns) &&
              memcmp(ASN1_STRING_get0_data(s), dns, strlen(dns)) == 0);
    }
    GENERAL_NAMES_free(gens);
}

static GENERAL_NAMES *dns_san(const char *dns)
{
    GENERAL_NAMES *gens = GENERAL_NAMES_new();
    GENERAL_NAME *g = GENERAL_NAME_new();
    ASN1_IA5STRING *s = ASN1_IA5STRING_new();

    if (gens == NULL || g == NULL || s == NULL || !ASN1_STRING_set(s, dns, -1))
        goto fail;
    GENERAL_NAME_set0_value(g, GEN_DNS, s);
    s = NULL;
    if (!sk_GENERAL_NAME_push(gens, g))
        goto fail;
    return gens;

fail:
    ASN1_IA5STRING_free(s);
    GENERAL_NAME_free(g);
    GENERAL_NAMES_free(gens);
    return NULL;
}

static X509_NAME *device_name(const char *cn)
{
    X509_NAME *n = X509_NAME_new();

    if (n != NULL &&
        !X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8,
                                    (const unsigned char *)cn, -1, -1, 0)) {
        X509_NAME_free(n);
        return NULL;
    }
    return n;
}

/* A SHA-1 of the subjectPublicKey bits, computed here independently. */
static int ski_matches(X509 *x)
{
    const ASN1_OCTET_STRING *ski = X509_get0_subject_key_id(x);
    const ASN1_BIT_STRING *bits = X509_get0_pubkey_bitstr(x);
    unsigned char md[EVP_MAX_MD_SIZE];
    size_t md_len = 0;

    if (ski == NULL || bits == NULL ||
        !EVP_Q_digest(NULL, "SHA1", NULL, ASN1_STRING_get0_data(bits),
                      (size_t)ASN1_STRING_length(bits), md, &md_len))
        return 0;
    return ASN1_STRING_length(ski) == (int)md_len &&
           memcmp(ASN1_STRING_get0_data(ski), md, md_len) == 0;
}

/* not_before of `x` lies within a minute of now and notAfter `days` later */
static void check_validity(const X509 *x, int days)
{
    ASN1_TIME *now = ASN1_TIME_set(NULL, time(NULL));
    int d = -1, s = -1;

    CHECK(
        ASN1_TIME_diff(&d, &s, X509_get0_notBefore(x), X509_get0_notAfter(x)));
    CHECK_INT_EQ(d, days);
    CHECK_INT_EQ(s, 0);
    CHECK(ASN1_TIME_diff(&d, &s, X509_get0_notBefore(x), now));
    CHECK(d == 0 && s >= 0 && s < 60);
    ASN1_TIME_free(now);
}

static void check_ee_exts(const struct ca *ca, X509 *ee, int rsa)
{
    const ASN1_OCTET_STRING *aki = X509_get0_authority_key_id(ee);

    CHECK_INT_EQ(ext_crit(ee, NID_basic_constraints), 1);
    CHECK_INT_EQ(X509_get_extension_flags(ee) & (EXFLAG_BCONS | EXFLAG_CA),
                 EXFLAG_BCONS);
    CHECK_INT_EQ(ext_crit(ee, NID_key_usage), 1);
    CHECK_INT_EQ(X509_get_key_usage(ee),
                 rsa ? KU_DIGITAL_SIGNATURE | KU_KEY_ENCIPHERMENT
                     : KU_DIGITAL_SIGNATURE);
    CHECK_INT_EQ(ext_crit(ee, NID_ext_key_usage), 0);
    CHECK_INT_EQ(X509_get_extended_key_usage(ee),
                 XKU_SSL_CLIENT | XKU_SSL_SERVER);
    CHECK_INT_EQ(ext_crit(ee, NID_subject_key_identifier), 0);
    CHECK(ski_matches(ee));
    CHECK_INT_EQ(ext_crit(ee, NID_authority_key_identifier), 0);
    CHECK(aki != NULL && ASN1_OCTET_STRING_cmp(aki, ca_get0_skid(ca)) == 0);
    CHECK(aki != NULL &&
          ASN1_OCTET_STRING_cmp(
              aki, X509_get0_subject_key_id(ca_get0_cert(ca))) == 0);
    CHECK_INT_EQ(X509_get_ext_count(ee), 6);
}

/* Issues one EE certificate for `eekey` and checks it from every side. */
static void check_issue(const struct ca *ca, const struct pki *p, int ca_type,
                        EVP_PKEY *eekey, int rsa)
{
    static const int ekus[] = {NID_client_auth, NID_server_auth};
    struct cmpca_err err = CMPCA_ERR_INIT;
    X509_NAME *subj = device_name("dev-0001");
    GENERAL_NAMES *san = dns_san("dev-0001.example.net");
    struct ca_issue_req r = {subj, eekey, 365, 0, ekus, 2, san, NULL, 0};
    X509 *ee = NULL;
    char *hex = NULL, tool[128] = "";

    CHECK(subj != NULL && san != NULL);
    CHECK_INT_EQ(ca_issue(ca, &r, &ee, &err), 0);
    if (ee == NULL) {
        fprintf(stderr, "ca_issue: %s\n", err.msg);
        goto done;
    }
    CHECK(verify_chain(ca, ee));
    CHECK_INT_EQ(X509_get_version(ee), X509_VERSION_3);
    CHECK(X509_NAME_cmp(X509_get_issuer_name(ee),
                        X509_get_subject_name(ca_get0_cert(ca))) == 0);
    CHECK(X509_NAME_cmp(X509_get_subject_name(ee), subj) == 0);
    CHECK(EVP_PKEY_eq(X509_get0_pubkey(ee), eekey) == 1);
    CHECK_INT_EQ(X509_get_signature_nid(ee), expected_sig_nid(ca_type));
    check_ee_exts(ca, ee, rsa);
    check_san(ee, "dev-0001.example.net", 0);
    check_validity(ee, 365);
    check_serial(ee);
    CHECK_INT_EQ(write_pem_cert(p->ee, ee), 0);
    CHECK_INT_EQ(openssl_serial(p->ee, tool, sizeof(tool)), 0);
    hex = ca_serial_hex(X509_get0_serialNumber(ee));
    CHECK_STR_EQ(hex, tool);
    CHECK_INT_EQ(strlen(tool), 32);

done:
    free(hex);
    X509_free(ee);
    GENERAL_NAMES_free(san);
    X509_NAME_free(subj);
}

/* Given notBefore, the cap at the CA's notAfter, no EKU, empty subject
 * (SAN then critical), bad validity. */
static void check_issue_edges(const struct ca *ca, EVP_PKEY *eekey)
{
    struct cmpca_err err = CMPCA_ERR_INIT;
    X509_NAME *empty = X509_NAME_new();
    GENERAL_NAMES *san = dns_san("edge.example.net");
    struct ca_issue_req r = {empty, eekey, 100000, 0, NULL, 0, san, NULL, 0};
    time_t nb = time(NULL) + 3600; /* inside the issuing CA's validity */
    X509 *ee = NULL;

    CHECK_INT_EQ(ca_issue(ca, &r, &ee, &err), 0);
    if (ee != NULL) {
        CHECK(ASN1_TIME_compare(X509_get0_notAfter(ee),
                                X509_get0_notAfter(ca_get0_cert(ca))) == 0);
        CHECK_INT_EQ(ext_crit(ee, NID_ext_key_usage), -1);
        check_san(ee, "edge.example.net", 1);
        CHECK(verify_chain(ca, ee));
    }
    X509_free(ee);
    ee = NULL;
    r.validity_days = 30;
    r.not_before = nb;
    CHECK_INT_EQ(ca_issue(ca, &r, &ee, &err), 0);
    CHECK(ee != NULL && ASN1_TIME_cmp_time_t(X509_get0_notBefore(ee), nb) == 0);
    X509_free(ee);
    ee = NULL;
    r.validity_days = 0;
    CHECK_INT_EQ(ca_issue(ca, &r, &ee, &err), -1);
    CHECK(ee == NULL);
    GENERAL_NAMES_free(san);
    X509_NAME_free(empty);
}

static void check_loaded(const struct ca *ca, int key_type)
{
    const STACK_OF(X509) *chain = ca_get0_chain(ca);

    CHECK_INT_EQ(EVP_MD_get_type(ca_get0_md(ca)),
                 key_type == CA_KEY_EC_P384 ? NID_sha384 : NID_sha256);
    CHECK(chain != NULL && sk_X509_num(chain) == 2);
    CHECK(chain != NULL && sk_X509_value(chain, 0) == ca_get0_cert(ca) &&
          sk_X509_value(chain, 1) == ca_get0_root(ca));
    CHECK_INT_EQ(X509_check_private_key(ca_get0_cert(ca), ca_get0_key(ca)), 1);
    CHECK(ca_get0_skid(ca) != NULL &&
          ASN1_STRING_length(ca_get0_skid(ca)) == 20);
}

static int hex_of_int(long v, const char *want)
{
    ASN1_INTEGER *ai = ASN1_INTEGER_new();
    char *hex = NULL;
    int ok;

    ok = ai != NULL && ASN1_INTEGER_set_int64(ai, v) &&
         (hex = ca_serial_hex(ai)) != NULL && strcmp(hex, want) == 0;
    if (!ok)
        fprintf(stderr, "serial %ld: \"%s\" != \"%s\"\n", v,
                hex != NULL ? hex : "(null)", want);
    free(hex);
    ASN1_INTEGER_free(ai);
    return ok;
}

/* ca_serial_hex on fixed values and against i2a_ASN1_INTEGER (the
 * function `openssl x509 -serial` prints with); ca_serial_new's shape. */
static void check_serials(void)
{
    struct cmpca_err err = CMPCA_ERR_INIT;
    ASN1_INTEGER *sn = NULL;
    char buf[128], *hex, first[40] = "";
    int i, n, all_ok = 1, distinct = 0;
    BIO *b;

    CHECK(hex_of_int(0, "00"));
    CHECK(hex_of_int(10, "0A"));
    CHECK(hex_of_int(255, "FF"));
    CHECK(hex_of_int(256, "0100"));
    CHECK(hex_of_int(-1, "-01"));
    CHECK(ca_serial_hex(NULL) == NULL);
    for (i = 0; i < 500; i++) {
        CHECK_INT_EQ(ca_serial_new(&sn, &err), 0);
        if (sn == NULL)
            return;
        b = BIO_new(BIO_s_mem());
        i2a_ASN1_INTEGER(b, sn);
        n = BIO_read(b, buf, sizeof(buf) - 1);
        buf[n > 0 ? n : 0] = '\0';
        BIO_free(b);
        hex = ca_serial_hex(sn);
        if (hex == NULL || strcmp(hex, buf) != 0 ||
            ASN1_STRING_length(sn) != 16 ||
            ASN1_STRING_type(sn) != V_ASN1_INTEGER ||
            ASN1_STRING_get0_data(sn)[0] == 0 ||
            ASN1_STRING_get0_data(sn)[0] >= 0x80)
            all_ok = 0;
        if (i == 0 && hex != NULL)
            snprintf(first, sizeof(first), "%s", hex);
        else if (hex != NULL && strcmp(first, hex) != 0)
            distinct++;
        free(hex);
        ASN1_INTEGER_free(sn);
        sn = NULL;
    }
    CHECK(all_ok);
    CHECK_INT_EQ(distinct, 499);
}

static long read_all(const char *path, char *buf, size_t len)
{
    FILE *f = fopen(path, "rb");
    size_t n;

    if (f == NULL)
        return -1;
    n = fread(buf, 1, len, f);
    fclose(f);
    return (long)n;
}

/* A second ca_create over an existing PKI fails and leaves the files
 * byte for byte; one existing path is enough to stop it writing any. */
static void check_no_overwrite(const struct pki *p, const char *base)
{
    struct cmpca_err err = CMPCA_ERR_INIT;
    struct ca_create_opts o = {CA_KEY_EC_P256, ORG,     10,    10,
                               p->root,        p->cert, p->key};
    static char before[3][8192], after[3][8192];
    const char *paths[3] = {p->root, p->cert, p->key};
    long lb[3], la[3];
    struct pki q;
    FILE *f;
    int i;

    for (i = 0; i < 3; i++)
        lb[i] = read_all(paths[i], before[i], sizeof(before[i]));
    CHECK_INT_EQ(ca_create(&o, &err), -1);
    CHECK(strstr(err.msg, "exists") != NULL);
    for (i = 0; i < 3; i++) {
        la[i] = read_all(paths[i], after[i], sizeof(after[i]));
        CHECK(lb[i] > 0 && la[i] == lb[i] &&
              memcmp(before[i], after[i], (size_t)la[i]) == 0);
    }
    pki_paths(&q, base, "partial");
    CHECK_INT_EQ(mkdir(q.dir, 0700), 0);
    f = fopen(q.key, "w");
    CHECK(f != NULL && fputs("sentinel\n", f) >= 0);
    if (f != NULL)
        fclose(f);
    o.root_path = q.root;
    o.cert_path = q.cert;
    o.key_path = q.key;
    CHECK_INT_EQ(ca_create(&o, &err), -1);
    CHECK(access(q.root, F_OK) != 0 && access(q.cert, F_OK) != 0);
    la[0] = read_all(q.key, after[0], sizeof(after[0]));
    CHECK(la[0] == 9 && memcmp(after[0], "sentinel\n", 9) == 0);
    pki_remove(&q);
}

/* write_bad_sig copies the certificate in `in` to `out` with the last
 * octet of its signature changed. */
static int write_bad_sig(const char *in, const char *out)
{
    X509 *x = read_pem_cert(in), *bad = NULL;
    unsigned char *der = NULL;
    const unsigned char *p;
    int len, ret = -1;

    if (x == NULL || (len = i2d_X509(x, &der)) <= 0)
        goto done;
    der[len - 1] ^= 0x01;
    p = der;
    if ((bad = d2i_X509(NULL, &p, len)) != NULL)
        ret = write_pem_cert(out, bad);

done:
    OPENSSL_free(der);
    X509_free(bad);
    X509_free(x);
    return ret;
}

/* Pieces of two different PKIs must not load as one. */
static void check_mismatch(const struct pki *a, const struct pki *b)
{
    struct cmpca_err err = CMPCA_ERR_INIT;
    struct ca *ca = NULL;
    char bad[300];

    CHECK_INT_EQ(ca_load(a->root, a->cert, b->key, &ca, &err), -1);
    CHECK(ca == NULL && strstr(err.msg, "does not match") != NULL);
    ca_free(ca);
    ca = NULL;
    CHECK_INT_EQ(ca_load(b->root, a->cert, a->key, &ca, &err), -1);
    CHECK(ca == NULL && strstr(err.msg, "not signed by the root") != NULL);
    ca_free(ca);
    ca = NULL;
    CHECK_INT_EQ(ca_load(a->root, a->cert, a->ee, &ca, &err), -1);
    CHECK(ca == NULL);
    ca_free(ca);
    CHECK(run_openssl_verify(b->root, a->cert) != 0);
    /* right names and key identifiers, wrong signature */
    snprintf(bad, sizeof(bad), "%s/bad.pem", a->dir);
    CHECK_INT_EQ(write_bad_sig(a->cert, bad), 0);
    CHECK_INT_EQ(ca_load(a->root, bad, a->key, &ca, &err), -1);
    CHECK(ca == NULL && strstr(err.msg, "not signed by the root") != NULL);
    ca_free(ca);
    CHECK(run_openssl_verify(a->root, bad) != 0);
    unlink(bad);
    ERR_clear_error();
}

struct thread_arg {
    const struct ca *ca;
    int ok;          /* every certificate issued and verified */
    char serial[40]; /* of the last one */
};

static void *issue_thread(void *p)
{
    struct thread_arg *t = p;
    struct cmpca_err err = CMPCA_ERR_INIT;
    EVP_PKEY *key = NULL;
    X509_NAME *subj = device_name("threaded");
    struct ca_issue_req r = {subj, NULL, 10, 0, NULL, 0, NULL, NULL, 0};
    X509 *ee = NULL;
    char *hex;
    int i;

    t->ok = subj != NULL && ca_key_generate(CA_KEY_EC_P256, &key, &err) == 0;
    r.pubkey = key;
    for (i = 0; t->ok && i < 16; i++) {
        t->ok = ca_issue(t->ca, &r, &ee, &err) == 0 && verify_chain(t->ca, ee);
        hex = ee != NULL ? ca_serial_hex(X509_get0_serialNumber(ee)) : NULL;
        if (hex != NULL)
            snprintf(t->serial, sizeof(t->serial), "%s", hex);
        free(hex);
        X509_free(ee);
        ee = NULL;
    }
    EVP_PKEY_free(key);
    X509_NAME_free(subj);
    ERR_clear_error();
    return NULL;
}

/* Four threads share one struct ca, as the server's workers do. */
static void check_threads(const struct ca *ca)
{
    struct thread_arg t[4];
    pthread_t tid[4];
    int i, j, started[4];

    for (i = 0; i < 4; i++) {
        memset(&t[i], 0, sizeof(t[i]));
        t[i].ca = ca;
        started[i] = pthread_create(&tid[i], NULL, issue_thread, &t[i]) == 0;
        CHECK(started[i]);
    }
    for (i = 0; i < 4; i++) {
        if (started[i])
            pthread_join(tid[i], NULL);
        CHECK(t[i].ok);
        for (j = 0; j < i; j++)
            CHECK(strcmp(t[i].serial, t[j].serial) != 0);
    }
}

static const struct {
    const char *name;
    int type;
} key_types[] = {
    {"ec-p256", CA_KEY_EC_P256},
    {"ec-p384", CA_KEY_EC_P384},
    {"rsa-2048", CA_KEY_RSA2048},
    {"rsa-3072", CA_KEY_RSA3072}, /* the one slow case */
};
#define NUM_TYPES (sizeof(key_types) / sizeof(key_types[0]))

/* Creates, checks and loads the PKI of key_types[i]; issues from it. */
static void check_pki(struct pki *p, const char *base, size_t i,
                      const struct ee_keys *k)
{
    struct cmpca_err err = CMPCA_ERR_INIT;
    struct ca *ca = NULL;

    CHECK_INT_EQ(ca_key_type_from_name(key_types[i].name), key_types[i].type);
    pki_paths(p, base, key_types[i].name);
    CHECK_INT_EQ(pki_create(p, key_types[i].type), 0);
    check_created(p, key_types[i].type);
    CHECK_INT_EQ(run_openssl_verify(p->root, p->cert), 0);
    CHECK_INT_EQ(ca_load(p->root, p->cert, p->key, &ca, &err), 0);
    if (ca == NULL) {
        fprintf(stderr, "ca_load %s: %s\n", key_types[i].name, err.msg);
        return;
    }
    check_loaded(ca, key_types[i].type);
    check_issue(ca, p, key_types[i].type, k->ec, 0);
    check_issue(ca, p, key_types[i].type, k->rsa, 1);
    if (i == 0) {
        check_issue_edges(ca, k->ec);
        check_threads(ca);
        check_no_overwrite(p, base);
    }
    ca_free(ca);
}

int main(void)
{
    struct cmpca_err err = CMPCA_ERR_INIT;
    char base[] = "/tmp/test_ca.XXXXXX";
    struct pki pkis[NUM_TYPES];
    struct ee_keys k = {NULL, NULL};
    size_t i;

    CHECK_INT_EQ(ca_key_type_from_name("ec-p521"), -1);
    CHECK_INT_EQ(ca_key_type_from_name(NULL), -1);
    CHECK_INT_EQ(ca_key_generate(99, &k.ec, &err), -1);
    check_serials();
    if (mkdtemp(base) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    CHECK_INT_EQ(ca_key_generate(CA_KEY_EC_P256, &k.ec, &err), 0);
    CHECK_INT_EQ(ca_key_generate(CA_KEY_RSA2048, &k.rsa, &err), 0);
    if (k.ec != NULL && k.rsa != NULL) {
        for (i = 0; i < NUM_TYPES; i++)
            check_pki(&pkis[i], base, i, &k);
        check_mismatch(&pkis[0], &pkis[1]);
    }
    for (i = 0; i < NUM_TYPES && k.ec != NULL && k.rsa != NULL; i++)
        pki_remove(&pkis[i]);
    CHECK_INT_EQ(rmdir(base), 0);
    EVP_PKEY_free(k.ec);
    EVP_PKEY_free(k.rsa);
    return CHECK_RESULT();
}
