/*
 * test_policy.c: vendor trust, device registry rules, algorithm and key rules
 * and subject derivation, against a real SQLite store and vendor PKIs made
 * with the ca room (a vendor PKI is just another root + intermediate).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/ec.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "ca/ca.h"
#include "check.h"
#include "policy/policy.h"

struct pki {
    struct ca *ca;
    char *root_pem;
    char *chain_pem;
};

static char *pem_of(X509 *x)
{
    BIO *b = BIO_new(BIO_s_mem());
    char *data, *out;
    long len;

    PEM_write_bio_X509(b, x);
    len = BIO_get_mem_data(b, &data);
    out = calloc(1, (size_t)len + 1);
    memcpy(out, data, (size_t)len);
    BIO_free(b);
    return out;
}

static void make_pki(const char *dir, const char *name, struct pki *p)
{
    char root[512], cert[512], key[512];
    struct ca_create_opts o;
    struct cmpca_err err = CMPCA_ERR_INIT;

    snprintf(root, sizeof(root), "%s/%s-root.pem", dir, name);
    snprintf(cert, sizeof(cert), "%s/%s-ca.pem", dir, name);
    snprintf(key, sizeof(key), "%s/%s-ca.key", dir, name);
    memset(&o, 0, sizeof(o));
    o.key_type = CA_KEY_EC_P256;
    o.org = name;
    o.root_days = 3650;
    o.issuing_days = 3650;
    o.root_path = root;
    o.cert_path = cert;
    o.key_path = key;
    CHECK(ca_create(&o, &err) == 0);
    CHECK(ca_load(root, cert, key, &p->ca, &err) == 0);
    p->root_pem = pem_of(ca_get0_root(p->ca));
    p->chain_pem = pem_of(ca_get0_cert(p->ca));
}

static EVP_PKEY *ec_key(const char *curve)
{
    return EVP_PKEY_Q_keygen(NULL, NULL, "EC", curve);
}

/* A device certificate under `p`'s intermediate with `subject`. */
static X509 *device_cert(struct pki *p, const char *subject, time_t nb,
                         int days)
{
    X509_NAME *name = X509_NAME_new();
    EVP_PKEY *key = ec_key("P-256");
    struct ca_issue_req r;
    struct cmpca_err err = CMPCA_ERR_INIT;
    X509 *cert = NULL;
    char *s = strdup(subject), *save = NULL, *tok;

    for (tok = strtok_r(s, "/", &save); tok != NULL;
         tok = strtok_r(NULL, "/", &save)) {
        char *eq = strchr(tok, '=');
        *eq = '\0';
        X509_NAME_add_entry_by_txt(name, tok, MBSTRING_UTF8,
                                   (unsigned char *)eq + 1, -1, -1, 0);
    }
    memset(&r, 0, sizeof(r));
    r.subject = name;
    r.pubkey = key;
    r.validity_days = days;
    r.not_before = nb;
    CHECK(ca_issue(p->ca, &r, &cert, &err) == 0);
    free(s);
    X509_NAME_free(name);
    EVP_PKEY_free(key);
    return cert;
}

static STACK_OF(X509) *stack_of(X509 *x)
{
    STACK_OF(X509) *sk = sk_X509_new_null();

    if (x != NULL) {
        X509_up_ref(x);
        sk_X509_push(sk, x);
    }
    return sk;
}

static void add_vendor(struct store *st, const char *name, struct pki *p,
                       int with_chain, const char *id_attr)
{
    struct store_vendor v;
    struct cmpca_err err = CMPCA_ERR_INIT;

    memset(&v, 0, sizeof(v));
    v.name = (char *)name;
    v.root_pem = p->root_pem;
    v.chain_pem = with_chain ? p->chain_pem : NULL;
    v.id_attr = (char *)id_attr;
    CHECK_INT_EQ(store_vendor_add(st, &v, &err), 0);
}

static void test_vendor_trust(const char *dir, struct store *st)
{
    struct pki acme, other, cnv;
    struct policy_device dev;
    struct cmpca_err err = CMPCA_ERR_INIT;
    STACK_OF(X509) *inter, *none = sk_X509_new_null();
    X509 *good, *foreign, *by_cn, *noattr, *expired;
    time_t now;

    make_pki(dir, "acme", &acme);
    make_pki(dir, "other", &other);
    make_pki(dir, "cnv", &cnv);
    now = time(NULL) + 600; /* after the notBefore of every certificate made
                               below, however slow the machine */

    /* no vendor at all yet */
    good = device_cert(&acme, "CN=eNodeB/serialNumber=SN1", 0, 30);
    inter = stack_of(ca_get0_cert(acme.ca));
    CHECK_INT_EQ(policy_vendor_authenticate(st, good, inter, now, &dev, &err),
                 -1);
    CHECK_INT_EQ(err.failinfo, FI_SIGNER_NOT_TRUSTED);

    add_vendor(st, "acme", &acme, 0, "serialNumber");
    add_vendor(st, "cnv", &cnv, 1, "CN");
    CHECK_INT_EQ(policy_vendor_authenticate(st, good, inter, now, &dev, &err),
                 0);
    CHECK_STR_EQ(dev.vendor, "acme");
    CHECK_STR_EQ(dev.serial, "SN1");

    /* the intermediate is neither sent nor configured */
    CHECK_INT_EQ(policy_vendor_authenticate(st, good, none, now, &dev, &err),
                 -1);
    CHECK_INT_EQ(err.failinfo, FI_SIGNER_NOT_TRUSTED);

    /* a vendor that is not configured */
    foreign = device_cert(&other, "CN=x/serialNumber=SN1", 0, 30);
    sk_X509_push(inter, X509_dup(ca_get0_cert(other.ca)));
    sk_X509_push(inter, X509_dup(ca_get0_root(other.ca))); /* self-signed */
    CHECK_INT_EQ(
        policy_vendor_authenticate(st, foreign, inter, now, &dev, &err), -1);
    CHECK_INT_EQ(err.failinfo, FI_SIGNER_NOT_TRUSTED);

    /* identity from CN; intermediate configured with the vendor */
    by_cn = device_cert(&cnv, "CN=BS-77/serialNumber=IGNORED", 0, 30);
    CHECK_INT_EQ(policy_vendor_authenticate(st, by_cn, none, now, &dev, &err),
                 0);
    CHECK_STR_EQ(dev.vendor, "cnv");
    CHECK_STR_EQ(dev.serial, "BS-77");

    /* no identity attribute */
    noattr = device_cert(&acme, "CN=eNodeB", 0, 30);
    CHECK_INT_EQ(
        policy_vendor_authenticate(st, noattr, inter, now, &dev, &err), -1);
    CHECK_INT_EQ(err.failinfo, FI_NOT_AUTHORIZED);

    /* expired vendor certificate */
    /* (ca_issue keeps validity inside the issuer's, so the past dates are
     * set and signed here) */
    expired = device_cert(&acme, "CN=e/serialNumber=SN2", 0, 2);
    CHECK(X509_time_adj_ex(X509_getm_notBefore(expired), -10, 0, &now) != NULL);
    CHECK(X509_time_adj_ex(X509_getm_notAfter(expired), -8, 0, &now) != NULL);
    CHECK(X509_sign(expired, ca_get0_key(acme.ca), EVP_sha256()) > 0);
    CHECK_INT_EQ(
        policy_vendor_authenticate(st, expired, inter, now, &dev, &err), -1);
    CHECK_INT_EQ(err.failinfo, FI_SIGNER_NOT_TRUSTED);

    X509_free(good);
    X509_free(foreign);
    X509_free(by_cn);
    X509_free(noattr);
    X509_free(expired);
    sk_X509_pop_free(inter, X509_free);
    sk_X509_free(none);
    for (struct pki *p = &acme; p != NULL;
         p = p == &acme ? &other : p == &other ? &cnv : NULL) {
        ca_free(p->ca);
        free(p->root_pem);
        free(p->chain_pem);
    }
}

static void test_registry(struct store *st, struct cmpca_config *cfg)
{
    struct policy_device dev;
    struct cmpca_err err = CMPCA_ERR_INIT;

    memset(&dev, 0, sizeof(dev));
    strcpy(dev.vendor, "acme");
    strcpy(dev.serial, "SN1");
    CHECK_INT_EQ(policy_device_may_enroll(st, cfg, &dev, NULL, &err), -1);
    CHECK_INT_EQ(err.failinfo, FI_NOT_AUTHORIZED);
    CHECK_INT_EQ(store_device_add(st, "acme", "SN1", APPROVAL_AUTO, &err), 0);
    CHECK_INT_EQ(policy_device_may_enroll(st, cfg, &dev, NULL, &err), 0);
    CHECK_INT_EQ(store_device_set_state(st, "acme", "SN1", DEVICE_ENROLLED,
                                        &err),
                 0);
    cfg->reenroll = 1;
    CHECK_INT_EQ(policy_device_may_enroll(st, cfg, &dev, NULL, &err), 0);
    cfg->reenroll = 0;
    CHECK_INT_EQ(policy_device_may_enroll(st, cfg, &dev, NULL, &err), -1);
    CHECK_INT_EQ(err.failinfo, FI_NOT_AUTHORIZED);
    CHECK_INT_EQ(store_device_set_state(st, "acme", "SN1", DEVICE_DISABLED,
                                        &err),
                 0);
    cfg->reenroll = 1;
    CHECK_INT_EQ(policy_device_may_enroll(st, cfg, &dev, NULL, &err), -1);
    /* the same serial under another vendor is another device */
    strcpy(dev.vendor, "cnv");
    CHECK_INT_EQ(policy_device_may_enroll(st, cfg, &dev, NULL, &err), -1);
}

static int alg_ok(int nid)
{
    X509_ALGOR *a = X509_ALGOR_new();
    struct cmpca_err err = CMPCA_ERR_INIT;
    int rc;

    X509_ALGOR_set0(a, OBJ_nid2obj(nid), V_ASN1_UNDEF, NULL);
    rc = policy_check_sig_alg(a, &err);
    X509_ALGOR_free(a);
    return rc == 0 ? 1 : -err.failinfo - 1;
}

static void test_algorithms(void)
{
    struct cmpca_err err = CMPCA_ERR_INIT;
    EVP_PKEY *k;

    CHECK_INT_EQ(alg_ok(NID_ecdsa_with_SHA256), 1);
    CHECK_INT_EQ(alg_ok(NID_ecdsa_with_SHA384), 1);
    CHECK_INT_EQ(alg_ok(NID_sha256WithRSAEncryption), 1);
    CHECK_INT_EQ(alg_ok(NID_ED25519), 1);
    CHECK_INT_EQ(alg_ok(NID_sha1WithRSAEncryption), -FI_BAD_ALG - 1);
    CHECK_INT_EQ(alg_ok(NID_ecdsa_with_SHA1), -FI_BAD_ALG - 1);
    CHECK_INT_EQ(alg_ok(NID_md5WithRSAEncryption), -FI_BAD_ALG - 1);
    CHECK_INT_EQ(alg_ok(NID_sha256), -FI_BAD_ALG - 1); /* not a signature */
    CHECK_INT_EQ(policy_check_hash_nid(NID_sha1, &err), -1);
    CHECK_INT_EQ(policy_check_hash_nid(NID_sha384, &err), 0);

    k = ec_key("P-256");
    CHECK_INT_EQ(policy_check_public_key(k, &err), 0);
    EVP_PKEY_free(k);
    k = ec_key("secp256k1");
    CHECK_INT_EQ(policy_check_public_key(k, &err), -1);
    CHECK_INT_EQ(err.failinfo, FI_BAD_ALG);
    EVP_PKEY_free(k);
    k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
    CHECK_INT_EQ(policy_check_public_key(k, &err), -1);
    CHECK_INT_EQ(err.failinfo, FI_BAD_CERT_TEMPLATE);
    EVP_PKEY_free(k);
    k = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    CHECK_INT_EQ(policy_check_public_key(k, &err), 0);
    EVP_PKEY_free(k);
}

int main(void)
{
    char dir[] = "/tmp/test_policy.XXXXXX", uri[600], cmd[700];
    struct store *st = NULL;
    struct cmpca_config *cfg;
    struct cmpca_err err = CMPCA_ERR_INIT;

    if (mkdtemp(dir) == NULL)
        return 1;
    snprintf(uri, sizeof(uri), "sqlite:%s/t.db", dir);
    CHECK(store_open(uri, &st, &err) == 0);
    cfg = config_defaults(dir);
    if (st != NULL && cfg != NULL) {
        test_vendor_trust(dir, st);
        test_registry(st, cfg);
        test_algorithms();
    }
    store_close(st);
    config_free(cfg);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    return CHECK_RESULT();
}
