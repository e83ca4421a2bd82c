/*
 * test_ca_crl.c: CRLs and the CRL-related issuing options of the ca room,
 * against a real operator PKI and a real store in a temp dir. Each CRL is
 * judged by OpenSSL: X509_CRL_verify with the issuing CA's key, the decoded
 * fields and extensions, `openssl crl -text`, and `openssl verify
 * -crl_check` telling a revoked certificate from a good one. Issuing with a
 * CRL URL and an explicit keyUsage is checked on the certificate and with
 * `openssl x509 -text`.
 */
#include "ca/ca.h"
#include "check.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/pem.h>
#include <openssl/x509v3.h>

#ifndef OPENSSL_BIN
#define OPENSSL_BIN "openssl"
#endif

#define CRL_URL  "http://127.0.0.1:8080/crl/ca.crl"
#define VALIDITY 86400

struct env {
    char dir[64];
    char root[128], cert[128], key[128], db[128], tmp[128], out[128];
    struct ca *ca;
    struct store *st;
    EVP_PKEY *eekey;
};

static int env_open(struct env *e, int key_type)
{
    struct cmpca_err err = CMPCA_ERR_INIT;
    struct ca_create_opts o = {key_type, "Acme Telco", 7300,  3650,
                               e->root,  e->cert,      e->key};

    snprintf(e->root, sizeof(e->root), "%s/root.pem", e->dir);
    snprintf(e->cert, sizeof(e->cert), "%s/ca.pem", e->dir);
    snprintf(e->key, sizeof(e->key), "%s/ca.key", e->dir);
    snprintf(e->db, sizeof(e->db), "%s/cmpca.db", e->dir);
    snprintf(e->tmp, sizeof(e->tmp), "%s/tmp.pem", e->dir);
    snprintf(e->out, sizeof(e->out), "%s/tool.txt", e->dir);
    if (ca_create(&o, &err) != 0 ||
        ca_load(e->root, e->cert, e->key, &e->ca, &err) != 0 ||
        store_open(e->db, &e->st, &err) != 0 ||
        ca_key_generate(CA_KEY_EC_P256, &e->eekey, &err) != 0) {
        fprintf(stderr, "setup: %s\n", err.msg);
        return -1;
    }
    return 0;
}

static void env_close(struct env *e)
{
    static const char *const files[] = {
        "root.pem",     "ca.pem",  "ca.key",   "cmpca.db", "cmpca.db-wal",
        "cmpca.db-shm", "tmp.pem", "tool.txt", "ee.pem",   "ee2.pem"};
    char path[160];
    size_t i;

    store_close(e->st);
    ca_free(e->ca);
    EVP_PKEY_free(e->eekey);
    for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        snprintf(path, sizeof(path), "%s/%s", e->dir, files[i]);
        unlink(path);
    }
    CHECK_INT_EQ(rmdir(e->dir), 0);
}

static X509 *issue(struct env *e, const char *cn, const char *crl_url, int ku)
{
    struct cmpca_err err = CMPCA_ERR_INIT;
    X509_NAME *subj = X509_NAME_new();
    struct ca_issue_req r = {subj, e->eekey, 30, 0, NULL, 0, NULL, crl_url, ku};
    X509 *x = NULL;

    if (subj != NULL &&
        X509_NAME_add_entry_by_txt(subj, "CN", MBSTRING_UTF8,
                                   (const unsigned char *)cn, -1, -1, 0) > 0 &&
        ca_issue(e->ca, &r, &x, &err) != 0)
        fprintf(stderr, "ca_issue %s: %s\n", cn, err.msg);
    X509_NAME_free(subj);
    return x;
}

/* record stores `x` as the CLI and the CMP server would. */
static int record(struct env *e, X509 *x, char **out_serial)
{
    struct cmpca_err err = CMPCA_ERR_INIT;
    struct store_cert c = {0};
    unsigned char *der = NULL;
    int len = i2d_X509(x, &der), ret = -1;

    *out_serial = ca_serial_hex(X509_get0_serialNumber(x));
    c.serial_hex = *out_serial;
    c.subject = "CN=dev";
    c.issuer = "CN=ca";
    c.not_before = time(NULL);
    c.not_after = time(NULL) + 30 * 86400;
    c.status = CERT_CONFIRMED;
    c.der = der;
    c.der_len = len > 0 ? (size_t)len : 0;
    if (*out_serial != NULL && len > 0)
        ret = store_cert_insert(e->st, &c, &err);
    OPENSSL_free(der);
    return ret;
}

static int write_pem(const char *path, X509 *x, X509_CRL *crl)
{
    BIO *b = BIO_new_file(path, "w");
    int ok = b != NULL && (x != NULL ? PEM_write_bio_X509(b, x)
                                     : PEM_write_bio_X509_CRL(b, crl)) > 0;

    BIO_free(b);
    return ok ? 0 : -1;
}

/* tool runs `cmd` with its output in e->out; returns its exit status. */
static int tool(struct env *e, const char *cmd)
{
    char line[1024];

    snprintf(line, sizeof(line), "%s >'%s' 2>&1", cmd, e->out);
    return system(line);
}

/* tool_says: the last tool output contains `s`. */
static int tool_says(struct env *e, const char *s)
{
    char buf[16384];
    FILE *f = fopen(e->out, "r");
    size_t n = f != NULL ? fread(buf, 1, sizeof(buf) - 1, f) : 0;

    if (f != NULL)
        fclose(f);
    buf[n] = '\0';
    if (strstr(buf, s) != NULL)
        return 1;
    fprintf(stderr, "tool output lacks \"%s\":\n%s\n", s, buf);
    return 0;
}

/* The fields every CRL of ours has: v2, issuer, times, AKI, cRLNumber, a
 * good signature; and the store holds exactly its DER. */
static void check_crl_common(struct env *e, X509_CRL *crl, long long number)
{
    struct cmpca_err err = CMPCA_ERR_INIT;
    struct store_crl saved;
    ASN1_INTEGER *num = NULL;
    AUTHORITY_KEYID *akid = NULL;
    unsigned char *der = NULL;
    int crit = -1, len, days = -1, secs = -1;

    CHECK_INT_EQ(X509_CRL_verify(crl, X509_get0_pubkey(ca_get0_cert(e->ca))),
                 1);
    CHECK_INT_EQ(X509_CRL_get_version(crl), X509_CRL_VERSION_2);
    CHECK_INT_EQ(X509_NAME_cmp(X509_CRL_get_issuer(crl),
                               X509_get_subject_name(ca_get0_cert(e->ca))),
                 0);
    CHECK(ASN1_TIME_diff(&days, &secs, X509_CRL_get0_lastUpdate(crl),
                         X509_CRL_get0_nextUpdate(crl)));
    CHECK_INT_EQ(days * 86400 + secs, VALIDITY);
    CHECK(X509_cmp_time(X509_CRL_get0_lastUpdate(crl), NULL) <= 0);
    num = X509_CRL_get_ext_d2i(crl, NID_crl_number, &crit, NULL);
    CHECK(num != NULL && ASN1_INTEGER_get(num) == number);
    CHECK_INT_EQ(crit, 0);
    akid = X509_CRL_get_ext_d2i(crl, NID_authority_key_identifier, &crit, NULL);
    CHECK(akid != NULL && akid->keyid != NULL &&
          ASN1_OCTET_STRING_cmp(akid->keyid, ca_get0_skid(e->ca)) == 0);
    CHECK_INT_EQ(crit, 0);
    CHECK_INT_EQ(store_crl_get(e->st, "ca", &saved, &err), 0);
    len = i2d_X509_CRL(crl, &der);
    CHECK_INT_EQ(saved.number, number);
    CHECK(len > 0 && saved.der_len == (size_t)len &&
          memcmp(saved.der, der, (size_t)len) == 0);
    CHECK_INT_EQ(saved.next_update - saved.this_update, VALIDITY);
    CHECK_INT_EQ(
        ASN1_TIME_cmp_time_t(X509_CRL_get0_lastUpdate(crl), saved.this_update),
        0);
    store_crl_clear(&saved);
    OPENSSL_free(der);
    AUTHORITY_KEYID_free(akid);
    ASN1_INTEGER_free(num);
}

static void test_empty(struct env *e)
{
    struct cmpca_err err = CMPCA_ERR_INIT;
    X509_CRL *crl = NULL;
    char cmd[512];

    CHECK_INT_EQ(ca_crl_publish(e->ca, e->st, "ca", VALIDITY, &crl, &err), 0);
    if (crl == NULL)
        return;
    check_crl_common(e, crl, 1);
    CHECK(X509_CRL_get_REVOKED(crl) == NULL ||
          sk_X509_REVOKED_num(X509_CRL_get_REVOKED(crl)) == 0);
    CHECK_INT_EQ(write_pem(e->tmp, NULL, crl), 0);
    snprintf(cmd, sizeof(cmd), OPENSSL_BIN " crl -noout -text -in '%s'",
             e->tmp);
    CHECK_INT_EQ(tool(e, cmd), 0);
    CHECK(tool_says(e, "Version 2 (0x1)"));
    CHECK(tool_says(e, "No Revoked Certificates."));
    CHECK(tool_says(e, "X509v3 CRL Number: \n                1\n"));
    X509_CRL_free(crl);
    /* without an out pointer it is still made and saved */
    CHECK_INT_EQ(ca_crl_publish(e->ca, e->st, "ca", VALIDITY, NULL, &err), 0);
    crl = NULL;
    CHECK_INT_EQ(ca_crl_publish(e->ca, e->st, "ca", 0, &crl, &err), -1);
    CHECK(crl == NULL);
    CHECK_INT_EQ(ca_crl_publish(e->ca, e->st, "bad/name", 60, &crl, &err), -1);
    CHECK_INT_EQ(ca_crl_publish(NULL, e->st, "ca", 60, &crl, &err), -1);
}

/* reason_of: the reasonCode of entry `r`, -1 when absent. */
static int reason_of(const X509_REVOKED *r)
{
    int crit = -1, v;
    ASN1_ENUMERATED *e =
        X509_REVOKED_get_ext_d2i(r, NID_crl_reason, &crit, NULL);

    if (e == NULL)
        return -1;
    v = (int)ASN1_ENUMERATED_get(e);
    ASN1_ENUMERATED_free(e);
    CHECK_INT_EQ(crit, 0);
    return v;
}

/* Inserts a revoked certificate that expired long ago: left off the CRL. */
static void add_expired(struct env *e)
{
    struct cmpca_err err = CMPCA_ERR_INIT;
    static const uint8_t der[] = {0x30, 0x00};
    struct store_cert c = {0};
    time_t now = time(NULL);

    c.serial_hex = "0E";
    c.subject = "CN=old";
    c.issuer = "CN=ca";
    c.not_before = now - 100 * 86400;
    c.not_after = now - VALIDITY - 60;
    c.status = CERT_CONFIRMED;
    c.der = (uint8_t *)der;
    c.der_len = sizeof(der);
    CHECK_INT_EQ(store_cert_insert(e->st, &c, &err), 0);
    CHECK_INT_EQ(
        store_cert_revoke(e->st, "0E", CERT_REVOKED, 1, now - 50 * 86400, &err),
        0);
}

/* Three good certificates; revoke two (keyCompromise, unspecified) and let
 * a third be rejected in certConf; the fourth stays good. */
static void test_entries(struct env *e)
{
    struct cmpca_err err = CMPCA_ERR_INIT;
    X509 *ee[4] = {NULL, NULL, NULL, NULL};
    char *serial[4] = {NULL, NULL, NULL, NULL};
    STACK_OF(X509_REVOKED) *revs;
    X509_CRL *crl = NULL;
    X509_REVOKED *hit = NULL;
    char cmd[1024], path[160];
    time_t when = time(NULL) - 3600;
    int i, n;

    for (i = 0; i < 4; i++) {
        ee[i] = issue(e, "dev", NULL, 0);
        CHECK(ee[i] != NULL && record(e, ee[i], &serial[i]) == 0);
        if (ee[i] == NULL || serial[i] == NULL)
            goto done;
    }
    add_expired(e);
    CHECK_INT_EQ(
        store_cert_revoke(e->st, serial[0], CERT_REVOKED, 1, when, &err), 0);
    CHECK_INT_EQ(
        store_cert_revoke(e->st, serial[1], CERT_REVOKED, 0, when, &err), 0);
    CHECK_INT_EQ(
        store_cert_revoke(e->st, serial[2], CERT_REJECTED, 0, when, &err), 0);
    CHECK_INT_EQ(ca_crl_publish(e->ca, e->st, "ca", VALIDITY, &crl, &err), 0);
    if (crl == NULL)
        goto done;
    check_crl_common(e, crl, 3);
    revs = X509_CRL_get_REVOKED(crl);
    n = sk_X509_REVOKED_num(revs);
    CHECK_INT_EQ(n, 3);     /* the long expired one is not listed */
    for (i = 1; i < n; i++) /* ascending serials */
        CHECK(ASN1_INTEGER_cmp(X509_REVOKED_get0_serialNumber(
                                   sk_X509_REVOKED_value(revs, i - 1)),
                               X509_REVOKED_get0_serialNumber(
                                   sk_X509_REVOKED_value(revs, i))) < 0);
    CHECK(X509_CRL_get0_by_cert(crl, &hit, ee[0]) == 1 && hit != NULL &&
          reason_of(hit) == 1 &&
          ASN1_TIME_cmp_time_t(X509_REVOKED_get0_revocationDate(hit), when) ==
              0);
    CHECK(X509_CRL_get0_by_cert(crl, &hit, ee[1]) == 1 && hit != NULL &&
          reason_of(hit) == -1);
    CHECK(X509_CRL_get0_by_cert(crl, &hit, ee[2]) == 1 && hit != NULL &&
          reason_of(hit) == -1);
    CHECK_INT_EQ(X509_CRL_get0_by_cert(crl, &hit, ee[3]), 0);

    /* the openssl tool agrees */
    CHECK_INT_EQ(write_pem(e->tmp, NULL, crl), 0);
    snprintf(cmd, sizeof(cmd), OPENSSL_BIN " crl -noout -text -in '%s'",
             e->tmp);
    CHECK_INT_EQ(tool(e, cmd), 0);
    CHECK(tool_says(e, "X509v3 CRL Number: \n                3\n"));
    CHECK(tool_says(e, "Key Compromise"));
    CHECK(tool_says(e, serial[0]));
    snprintf(path, sizeof(path), "%s/ee.pem", e->dir);
    CHECK_INT_EQ(write_pem(path, ee[0], NULL), 0);
    snprintf(cmd, sizeof(cmd),
             OPENSSL_BIN " verify -crl_check -CAfile '%s' -untrusted '%s' "
                         "-CRLfile '%s' '%s'",
             e->root, e->cert, e->tmp, path);
    CHECK(tool(e, cmd) != 0);
    CHECK(tool_says(e, "certificate revoked"));
    snprintf(path, sizeof(path), "%s/ee2.pem", e->dir);
    CHECK_INT_EQ(write_pem(path, ee[3], NULL), 0);
    snprintf(cmd, sizeof(cmd),
             OPENSSL_BIN " verify -crl_check -CAfile '%s' -untrusted '%s' "
                         "-CRLfile '%s' '%s'",
             e->root, e->cert, e->tmp, path);
    CHECK_INT_EQ(tool(e, cmd), 0);
    CHECK(tool_says(e, ": OK"));

done:
    X509_CRL_free(crl);
    for (i = 0; i < 4; i++) {
        X509_free(ee[i]);
        free(serial[i]);
    }
}

/* Another instance drew numbers meanwhile: ours go on above them, and a
 * CRL signed with a lower number never replaces the saved one. */
static void test_numbers(struct env *e)
{
    struct cmpca_err err = CMPCA_ERR_INIT;
    struct store_crl saved;
    X509_CRL *crl = NULL;
    long long n = 0;

    CHECK_INT_EQ(store_crl_next_number(e->st, "ca", &n, &err), 0);
    CHECK_INT_EQ(n, 4);
    CHECK_INT_EQ(store_crl_next_number(e->st, "ca", &n, &err), 0);
    CHECK_INT_EQ(ca_crl_publish(e->ca, e->st, "ca", VALIDITY, &crl, &err), 0);
    if (crl != NULL)
        check_crl_common(e, crl, 6);
    X509_CRL_free(crl);
    CHECK_INT_EQ(ca_crl_publish(e->ca, e->st, "other", VALIDITY, NULL, &err),
                 0);
    CHECK_INT_EQ(store_crl_get(e->st, "other", &saved, &err), 0);
    CHECK_INT_EQ(saved.number, 1);
    store_crl_clear(&saved);
    CHECK_INT_EQ(store_crl_get(e->st, "ca", &saved, &err), 0);
    CHECK_INT_EQ(saved.number, 6);
    store_crl_clear(&saved);
}

/* uri_of: the one fullName URI of the one distribution point, or "". */
static void uri_of(X509 *x, char *out, size_t outlen, int *crit)
{
    CRL_DIST_POINTS *dps =
        X509_get_ext_d2i(x, NID_crl_distribution_points, crit, NULL);
    DIST_POINT *dp;
    GENERAL_NAME *gn;
    const ASN1_STRING *s;

    out[0] = '\0';
    if (dps == NULL || sk_DIST_POINT_num(dps) != 1)
        goto done;
    dp = sk_DIST_POINT_value(dps, 0);
    if (dp->distpoint == NULL || dp->distpoint->type != 0 ||
        dp->reasons != NULL || dp->CRLissuer != NULL ||
        sk_GENERAL_NAME_num(dp->distpoint->name.fullname) != 1)
        goto done;
    gn = sk_GENERAL_NAME_value(dp->distpoint->name.fullname, 0);
    if (gn->type != GEN_URI)
        goto done;
    s = gn->d.uniformResourceIdentifier;
    snprintf(out, outlen, "%.*s", ASN1_STRING_length(s),
             (const char *)ASN1_STRING_get0_data(s));

done:
    CRL_DIST_POINTS_free(dps);
}

static void test_issue_options(struct env *e)
{
    X509 *x;
    char uri[256], cmd[512];
    int crit = -1;

    x = issue(e, "with-dp", CRL_URL, KU_DIGITAL_SIGNATURE | KU_KEY_AGREEMENT);
    CHECK(x != NULL);
    if (x != NULL) {
        uri_of(x, uri, sizeof(uri), &crit);
        CHECK_STR_EQ(uri, CRL_URL);
        CHECK_INT_EQ(crit, 0);
        CHECK_INT_EQ(X509_get_key_usage(x),
                     KU_DIGITAL_SIGNATURE | KU_KEY_AGREEMENT);
        CHECK_INT_EQ(write_pem(e->tmp, x, NULL), 0);
        snprintf(cmd, sizeof(cmd), OPENSSL_BIN " x509 -noout -text -in '%s'",
                 e->tmp);
        CHECK_INT_EQ(tool(e, cmd), 0);
        CHECK(tool_says(e, "URI:" CRL_URL));
        CHECK(tool_says(e, "Digital Signature, Key Agreement\n"));
        X509_free(x);
    }
    /* defaults: no distribution point, digitalSignature only (EC key) */
    x = issue(e, "plain", NULL, 0);
    CHECK(x != NULL);
    if (x != NULL) {
        CHECK_INT_EQ(X509_get_ext_by_NID(x, NID_crl_distribution_points, -1),
                     -1);
        CHECK_INT_EQ(X509_get_key_usage(x), KU_DIGITAL_SIGNATURE);
        X509_free(x);
    }
    x = issue(e, "nonrep", NULL, KU_NON_REPUDIATION);
    CHECK(x != NULL && X509_get_key_usage(x) == KU_NON_REPUDIATION);
    X509_free(x);
    /* refused: CA-only bit, encipherOnly alone, unknown bits, bad URLs */
    CHECK(issue(e, "bad", NULL, KU_KEY_CERT_SIGN) == NULL);
    CHECK(issue(e, "bad", NULL, KU_ENCIPHER_ONLY) == NULL);
    CHECK(issue(e, "bad", NULL, 0x10000) == NULL);
    CHECK(issue(e, "bad", NULL, -1) == NULL);
    CHECK(issue(e, "bad", "", 0) == NULL);
    CHECK(issue(e, "bad", "no-scheme", 0) == NULL);
    CHECK(issue(e, "bad", "http://a b/c.crl", 0) == NULL);
    CHECK(issue(e, "bad", "http://a\n/c.crl", 0) == NULL);
}

static void run(int key_type, const char *label)
{
    struct env e;

    memset(&e, 0, sizeof(e));
    snprintf(e.dir, sizeof(e.dir), "/tmp/test_ca_crl.XXXXXX");
    if (mkdtemp(e.dir) == NULL) {
        perror("mkdtemp");
        CHECK(0);
        return;
    }
    fprintf(stderr, "-- %s\n", label);
    if (env_open(&e, key_type) == 0) {
        test_empty(&e);
        test_entries(&e);
        test_numbers(&e);
        test_issue_options(&e);
    } else {
        CHECK(0);
    }
    env_close(&e);
}

int main(void)
{
    run(CA_KEY_EC_P256, "ec-p256");
    run(CA_KEY_RSA2048, "rsa-2048");
    return CHECK_RESULT();
}
