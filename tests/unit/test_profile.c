/*
 * test_profile.c: policy_grant_new and policy_check_profile_key against
 * hand-made profiles, with real keys of every type a device might send and
 * extension stacks built the way a certTemplate carries them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/x509v3.h>

#include "check.h"
#include "policy/policy.h"

#define DAY 86400

enum {
    K_P256,
    K_P384,
    K_P521,
    K_K256, /* secp256k1: a curve we do not support */
    K_RSA1024,
    K_RSA2048,
    K_RSA3072,
    K_ED25519,
    K_ED448,
    K_X25519, /* key agreement only: not certifiable here */
    NUM_TEST_KEYS
};
static EVP_PKEY *keys[NUM_TEST_KEYS];
static const time_t now = 1800000000; /* 2027-01-15 */

static void gen_keys(void)
{
    keys[K_P256] = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    keys[K_P384] = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
    keys[K_P521] = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-521");
    keys[K_K256] = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "secp256k1");
    keys[K_RSA1024] = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
    keys[K_RSA2048] = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
    keys[K_RSA3072] = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)3072);
    keys[K_ED25519] = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    keys[K_ED448] = EVP_PKEY_Q_keygen(NULL, NULL, "ED448");
    keys[K_X25519] = EVP_PKEY_Q_keygen(NULL, NULL, "X25519");
    for (int i = 0; i < NUM_TEST_KEYS; i++)
        CHECK(keys[i] != NULL);
}

/* The public half of keys[K_RSA2048] with another exponent. */
static EVP_PKEY *rsa_with_exponent(unsigned long e_word)
{
    BIGNUM *n = NULL, *e = BN_new();
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
    EVP_PKEY *out = NULL;

    if (EVP_PKEY_get_bn_param(keys[K_RSA2048], OSSL_PKEY_PARAM_RSA_N, &n) &&
        e != NULL && BN_set_word(e, e_word) && bld != NULL &&
        OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) &&
        OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e) &&
        (params = OSSL_PARAM_BLD_to_param(bld)) != NULL && ctx != NULL &&
        EVP_PKEY_fromdata_init(ctx) > 0)
        EVP_PKEY_fromdata(ctx, &out, EVP_PKEY_PUBLIC_KEY, params);
    CHECK(out != NULL);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    EVP_PKEY_CTX_free(ctx);
    BN_free(n);
    BN_free(e);
    return out;
}

/* A profile as config.c would create it, named "t". */
static void base_profile(struct cmpca_profile *p)
{
    static char name[] = "t";

    memset(p, 0, sizeof(*p));
    p->name = name;
    p->validity_days = 365;
    p->clamp = 1;
    p->subject = SUBJECT_FROM_DEVICE;
    p->san = SAN_NONE;
    p->key_types =
        PROFILE_KEY_EC_P256 | PROFILE_KEY_EC_P384 | PROFILE_KEY_RSA2048;
    p->eku_nids[0] = NID_server_auth;
    p->eku_nids[1] = NID_client_auth;
    p->num_eku = 2;
    p->implicit_confirm = 1;
}

/* "CN=a,O=b" -> X509_NAME; "" gives an empty name. */
static X509_NAME *mk_name(const char *text)
{
    X509_NAME *name = X509_NAME_new();
    char *copy = strdup(text), *save = NULL, *tok, *eq;

    for (tok = strtok_r(copy, ",", &save); tok != NULL;
         tok = strtok_r(NULL, ",", &save)) {
        eq = strchr(tok, '=');
        *eq = '\0';
        CHECK(X509_NAME_add_entry_by_txt(name, tok, MBSTRING_ASC,
                                         (unsigned char *)eq + 1, -1, -1, 0));
    }
    free(copy);
    return name;
}

static char *name_text(const X509_NAME *name)
{
    static char buf[256];

    if (name == NULL)
        return strcpy(buf, "(none)");
    X509_NAME_oneline(name, buf, sizeof(buf));
    return buf;
}

/* Appends extension `nid` with OpenSSL config `value` to *sk. */
static void add_ext(STACK_OF(X509_EXTENSION) **sk, int nid, const char *value)
{
    X509_EXTENSION *ext = X509V3_EXT_nconf_nid(NULL, NULL, nid, value);

    CHECK(ext != NULL);
    if (*sk == NULL)
        *sk = sk_X509_EXTENSION_new_null();
    CHECK(sk_X509_EXTENSION_push(*sk, ext) > 0);
}

static void free_exts(STACK_OF(X509_EXTENSION) **sk)
{
    sk_X509_EXTENSION_pop_free(*sk, X509_EXTENSION_free);
    *sk = NULL;
}

static struct policy_device dev = {"acme", "SN0001"};

/* Runs policy_grant_new; on failure *g is NULL and err tells why. */
static int run(const struct cmpca_profile *p, const struct policy_device *d,
               const struct policy_request *r, struct policy_grant **g,
               struct cmpca_err *err)
{
    int rc;

    *err = (struct cmpca_err)CMPCA_ERR_INIT;
    rc = policy_grant_new(p, d, r, now, g, err);
    CHECK(rc == 0 ? *g != NULL : *g == NULL);
    if (rc != 0)
        CHECK(err->failinfo != FI_SYSTEM_FAILURE);
    ERR_clear_error();
    return rc;
}

/* Expects a rejection with `fi`. */
static void expect_fail(const struct cmpca_profile *p,
                        const struct policy_device *d,
                        const struct policy_request *r, int fi, int line)
{
    struct policy_grant *g = NULL;
    struct cmpca_err err;

    if (run(p, d, r, &g, &err) == 0 || err.failinfo != fi) {
        fprintf(stderr, "line %d: expected %s, got %s (%s)\n", line,
                cmpca_failinfo_name(fi),
                g != NULL ? "a grant" : cmpca_failinfo_name(err.failinfo),
                err.msg);
        CHECK(0);
    }
    policy_grant_free(g);
}
#define EXPECT_FAIL(p, d, r, fi) expect_fail(p, d, r, fi, __LINE__)

/* Expects a grant; returns it (caller frees) with `modified` checked. */
static struct policy_grant *expect_ok(const struct cmpca_profile *p,
                                      const struct policy_device *d,
                                      const struct policy_request *r,
                                      int modified, int line)
{
    struct policy_grant *g = NULL;
    struct cmpca_err err;

    if (run(p, d, r, &g, &err) != 0) {
        fprintf(stderr, "line %d: expected a grant, got %s (%s)\n", line,
                cmpca_failinfo_name(err.failinfo), err.msg);
        CHECK(0);
        return NULL;
    }
    if (g->modified != modified) {
        fprintf(stderr, "line %d: modified %d, expected %d\n", line,
                g->modified, modified);
        CHECK(0);
    }
    return g;
}
#define EXPECT_OK(p, d, r, m) expect_ok(p, d, r, m, __LINE__)

#define DEFAULT_TYPES                                                          \
    (PROFILE_KEY_EC_P256 | PROFILE_KEY_EC_P384 | PROFILE_KEY_RSA2048)
#define OTHER_TYPES                                                            \
    (PROFILE_KEY_EC_P521 | PROFILE_KEY_ED25519 | PROFILE_KEY_ED448 |           \
     PROFILE_KEY_RSA3072)

/* key, profile key_types, expected failInfo (-1: granted) */
static const struct {
    int key, types, fi;
} key_cases[] = {
    {K_P256, DEFAULT_TYPES, -1},
    {K_P384, DEFAULT_TYPES, -1},
    {K_RSA2048, DEFAULT_TYPES, -1},
    {K_RSA3072, DEFAULT_TYPES, -1}, /* rsa-2048: 2048 bits or more */
    {K_P521, DEFAULT_TYPES, FI_BAD_CERT_TEMPLATE},
    {K_ED25519, DEFAULT_TYPES, FI_BAD_CERT_TEMPLATE},
    {K_ED448, DEFAULT_TYPES, FI_BAD_CERT_TEMPLATE},
    {K_RSA1024, DEFAULT_TYPES, FI_BAD_CERT_TEMPLATE},
    {K_K256, DEFAULT_TYPES, FI_BAD_ALG},   /* unknown curve */
    {K_X25519, DEFAULT_TYPES, FI_BAD_ALG}, /* unknown for certificates */
    {K_P521, OTHER_TYPES, -1},
    {K_ED25519, OTHER_TYPES, -1},
    {K_ED448, OTHER_TYPES, -1},
    {K_RSA3072, OTHER_TYPES, -1},
    {K_RSA2048, OTHER_TYPES, FI_BAD_CERT_TEMPLATE}, /* below 3072 */
    {K_P256, OTHER_TYPES, FI_BAD_CERT_TEMPLATE},
    {K_P384, OTHER_TYPES, FI_BAD_CERT_TEMPLATE},
    {K_RSA1024, OTHER_TYPES, FI_BAD_CERT_TEMPLATE}, /* weak anyway */
    {K_K256, OTHER_TYPES | DEFAULT_TYPES, FI_BAD_ALG},
};

static void test_key_types(void)
{
    struct cmpca_profile p;
    struct policy_request r = {0};
    struct cmpca_err err = CMPCA_ERR_INIT;

    base_profile(&p);
    for (size_t i = 0; i < sizeof(key_cases) / sizeof(key_cases[0]); i++) {
        struct policy_grant *g = NULL;
        int fi = key_cases[i].fi, rc;

        p.key_types = key_cases[i].types;
        r.pubkey = keys[key_cases[i].key];
        rc = run(&p, &dev, &r, &g, &err);
        if (fi < 0 ? rc != 0 : rc == 0 || err.failinfo != fi) {
            fprintf(stderr, "key case %zu: %s\n", i,
                    rc == 0 ? "granted" : err.msg);
            CHECK(0);
        }
        policy_grant_free(g);
    }
    r.pubkey = NULL;
    EXPECT_FAIL(&p, &dev, &r, FI_BAD_CERT_TEMPLATE);

    /* policy_check_profile_key alone, and the profile-free check */
    p.key_types = OTHER_TYPES;
    CHECK_INT_EQ(policy_check_profile_key(&p, keys[K_P384], &err), -1);
    CHECK_INT_EQ(err.failinfo, FI_BAD_CERT_TEMPLATE);
    CHECK(strstr(err.msg, "profile t") != NULL);
    CHECK_INT_EQ(policy_check_profile_key(&p, keys[K_ED448], &err), 0);
    CHECK_INT_EQ(policy_check_public_key(keys[K_P521], &err), 0);
    CHECK_INT_EQ(policy_check_public_key(keys[K_RSA1024], &err), -1);
    CHECK_INT_EQ(err.failinfo, FI_BAD_CERT_TEMPLATE);
}

static void test_rsa_exponent(void)
{
    struct cmpca_profile p;
    struct cmpca_err err = CMPCA_ERR_INIT;
    EVP_PKEY *key;

    base_profile(&p);
    key = rsa_with_exponent(65536); /* even */
    CHECK_INT_EQ(policy_check_profile_key(&p, key, &err), -1);
    CHECK_INT_EQ(err.failinfo, FI_BAD_CERT_TEMPLATE);
    EVP_PKEY_free(key);
    key = rsa_with_exponent(1);
    CHECK_INT_EQ(policy_check_profile_key(&p, key, &err), -1);
    CHECK_INT_EQ(err.failinfo, FI_BAD_CERT_TEMPLATE);
    EVP_PKEY_free(key);
    key = rsa_with_exponent(65537); /* the same modulus, usual exponent */
    CHECK_INT_EQ(policy_check_profile_key(&p, key, &err), 0);
    EVP_PKEY_free(key);
}

static void test_subject_device(void)
{
    struct cmpca_profile p;
    struct policy_request r = {0};
    struct policy_grant *g;
    X509_NAME *want = mk_name("CN=SN0001,serialNumber=SN0001");
    X509_NAME *other = mk_name("CN=other,O=Evil");
    struct policy_device odd = {"acme", "dev_1@x"};

    base_profile(&p);
    r.pubkey = keys[K_P256];
    /* no subject asked: from the identity, unmodified */
    g = EXPECT_OK(&p, &dev, &r, 0);
    CHECK(g != NULL && X509_NAME_cmp(g->subject, want) == 0);
    policy_grant_free(g);
    /* another subject asked: replaced, grantedWithMods */
    r.subject = other;
    g = EXPECT_OK(&p, &dev, &r, 1);
    CHECK(g != NULL && X509_NAME_cmp(g->subject, want) == 0);
    policy_grant_free(g);
    /* exactly the one we would issue: not a modification */
    r.subject = want;
    policy_grant_free(EXPECT_OK(&p, &dev, &r, 0));
    /* an identity that is not a PrintableString: CN alone */
    r.subject = NULL;
    g = EXPECT_OK(&p, &odd, &r, 0);
    CHECK(g != NULL && X509_NAME_entry_count(g->subject) == 1);
    CHECK(g != NULL &&
          X509_NAME_get_index_by_NID(g->subject, NID_commonName, -1) == 0);
    policy_grant_free(g);
    /* no device (a renewal): the old subject is kept exactly, even with
     * attributes a template subject could not have */
    p.num_allowed_rdns = 1;
    p.allowed_rdns[0] = NID_commonName;
    r.subject = other;
    g = EXPECT_OK(&p, NULL, &r, 0);
    CHECK(g != NULL && X509_NAME_cmp(g->subject, other) == 0);
    policy_grant_free(g);
    r.subject = NULL;
    EXPECT_FAIL(&p, NULL, &r, FI_BAD_CERT_TEMPLATE);
    X509_NAME_free(want);
    X509_NAME_free(other);
}

static void test_subject_template(void)
{
    struct cmpca_profile p;
    struct policy_request r = {0};
    struct policy_grant *g;
    X509_NAME *ok = mk_name("CN=bs1.example,O=Operator");
    X509_NAME *extra = mk_name("CN=bs1.example,OU=Radio,O=Operator");
    X509_NAME *only_bad = mk_name("OU=Radio,L=Berlin");
    X509_NAME *empty = X509_NAME_new(),
              *want = mk_name("CN=bs1.example,O=Operator");

    base_profile(&p);
    p.subject = SUBJECT_FROM_TEMPLATE;
    r.pubkey = keys[K_P256];
    /* a template subject is required */
    EXPECT_FAIL(&p, &dev, &r, FI_BAD_CERT_TEMPLATE);
    r.subject = empty;
    EXPECT_FAIL(&p, &dev, &r, FI_BAD_CERT_TEMPLATE);
    /* no allowed_rdns: anything goes, from a device or not */
    r.subject = extra;
    g = EXPECT_OK(&p, &dev, &r, 0);
    CHECK(g != NULL && X509_NAME_cmp(g->subject, extra) == 0);
    policy_grant_free(g);
    g = EXPECT_OK(&p, NULL, &r, 0);
    CHECK(g != NULL && X509_NAME_cmp(g->subject, extra) == 0);
    policy_grant_free(g);
    /* allowed_rdns = CN, O */
    p.allowed_rdns[0] = NID_commonName;
    p.allowed_rdns[1] = NID_organizationName;
    p.num_allowed_rdns = 2;
    r.subject = ok;
    g = EXPECT_OK(&p, &dev, &r, 0);
    CHECK(g != NULL && X509_NAME_cmp(g->subject, ok) == 0);
    policy_grant_free(g);
    /* a forbidden attribute: dropped under clamp */
    r.subject = extra;
    g = EXPECT_OK(&p, &dev, &r, 1);
    if (g != NULL && X509_NAME_cmp(g->subject, want) != 0) {
        fprintf(stderr, "subject %s\n", name_text(g->subject));
        CHECK(0);
    }
    policy_grant_free(g);
    /* nothing left after dropping: refused even under clamp */
    r.subject = only_bad;
    EXPECT_FAIL(&p, &dev, &r, FI_BAD_CERT_TEMPLATE);
    /* without clamp: refused */
    p.clamp = 0;
    r.subject = extra;
    EXPECT_FAIL(&p, &dev, &r, FI_BAD_CERT_TEMPLATE);
    r.subject = ok;
    policy_grant_free(EXPECT_OK(&p, &dev, &r, 0));
    X509_NAME_free(ok);
    X509_NAME_free(extra);
    X509_NAME_free(only_bad);
    X509_NAME_free(empty);
    X509_NAME_free(want);
}

/* The type and text of SAN entry `i` ("DNS:a", "IP:4", "URI:u"). */
static int san_is(const GENERAL_NAMES *san, int i, int type, const char *v)
{
    const GENERAL_NAME *gn = sk_GENERAL_NAME_value(san, i);
    const ASN1_STRING *s;

    if (gn == NULL || gn->type != type)
        return 0;
    s = type == GEN_IPADD ? gn->d.iPAddress : gn->d.ia5;
    if (type == GEN_IPADD)
        return ASN1_STRING_length(s) == (int)strlen(v);
    return ASN1_STRING_length(s) == (int)strlen(v) &&
           memcmp(ASN1_STRING_get0_data(s), v, strlen(v)) == 0;
}

static void test_basic_constraints(void)
{
    struct cmpca_profile p;
    struct policy_request r = {0};
    STACK_OF(X509_EXTENSION) *exts = NULL;

    base_profile(&p);
    r.pubkey = keys[K_P256];
    add_ext(&exts, NID_basic_constraints, "critical,CA:TRUE");
    r.exts = exts;
    EXPECT_FAIL(&p, &dev, &r, FI_BAD_CERT_TEMPLATE); /* clamp = yes */
    p.clamp = 0;
    EXPECT_FAIL(&p, &dev, &r, FI_BAD_CERT_TEMPLATE);
    free_exts(&exts);
    add_ext(&exts, NID_basic_constraints, "CA:FALSE");
    r.exts = exts;
    policy_grant_free(EXPECT_OK(&p, &dev, &r, 0));
    /* the same extension twice */
    add_ext(&exts, NID_basic_constraints, "CA:FALSE");
    r.exts = exts;
    EXPECT_FAIL(&p, &dev, &r, FI_BAD_CERT_TEMPLATE);
    free_exts(&exts);
    /* too many extensions */
    for (int i = 0; i <= POLICY_MAX_TEMPLATE_EXTS; i++)
        add_ext(&exts, NID_netscape_comment, "x");
    r.exts = exts;
    EXPECT_FAIL(&p, &dev, &r, FI_BAD_CERT_TEMPLATE);
    free_exts(&exts);
}

static void test_san(void)
{
    struct cmpca_profile p;
    struct policy_request r = {0};
    STACK_OF(X509_EXTENSION) *exts = NULL, *mixed = NULL;
    struct policy_grant *g;

    base_profile(&p);
    r.pubkey = keys[K_P256];
    add_ext(&exts, NID_subject_alt_name,
            "DNS:bs1.example.net,IP:192.0.2.7,URI:urn:dev:SN0001,"
            "IP:2001:db8::1");
    add_ext(&mixed, NID_subject_alt_name,
            "DNS:bs1.example.net,email:ops@example.net,URI:urn:x");
    /* san = template: dNSName, iPAddress and URI are copied */
    p.san = SAN_FROM_TEMPLATE;
    r.exts = exts;
    g = EXPECT_OK(&p, &dev, &r, 0);
    if (g != NULL) {
        CHECK_INT_EQ(sk_GENERAL_NAME_num(g->san), 4);
        CHECK(san_is(g->san, 0, GEN_DNS, "bs1.example.net"));
        CHECK(san_is(g->san, 1, GEN_IPADD, "1234"));
        CHECK(san_is(g->san, 2, GEN_URI, "urn:dev:SN0001"));
        CHECK(san_is(g->san, 3, GEN_IPADD, "0123456789abcdef"));
    }
    policy_grant_free(g);
    /* another type: dropped under clamp, refused without */
    r.exts = mixed;
    g = EXPECT_OK(&p, &dev, &r, 1);
    if (g != NULL) {
        CHECK_INT_EQ(sk_GENERAL_NAME_num(g->san), 2);
        CHECK(san_is(g->san, 0, GEN_DNS, "bs1.example.net"));
        CHECK(san_is(g->san, 1, GEN_URI, "urn:x"));
    }
    policy_grant_free(g);
    p.clamp = 0;
    EXPECT_FAIL(&p, &dev, &r, FI_BAD_CERT_TEMPLATE);
    /* san = none: a requested SAN is dropped (clamp) or refused */
    p.san = SAN_NONE;
    r.exts = exts;
    EXPECT_FAIL(&p, &dev, &r, FI_BAD_CERT_TEMPLATE);
    p.clamp = 1;
    g = EXPECT_OK(&p, &dev, &r, 1);
    CHECK(g != NULL && g->san == NULL);
    policy_grant_free(g);
    /* no SAN asked: none issued */
    r.exts = NULL;
    g = EXPECT_OK(&p, &dev, &r, 0);
    CHECK(g != NULL && g->san == NULL);
    policy_grant_free(g);
    free_exts(&exts);
    free_exts(&mixed);
}

/* A SAN extension with a 5-octet iPAddress, built by hand. */
static void test_san_malformed(void)
{
    static const unsigned char five[5] = {192, 0, 2, 7, 1};
    struct cmpca_profile p;
    struct policy_request r = {0};
    STACK_OF(X509_EXTENSION) *exts = sk_X509_EXTENSION_new_null();
    GENERAL_NAMES *names = GENERAL_NAMES_new();
    GENERAL_NAME *gn = GENERAL_NAME_new();
    ASN1_OCTET_STRING *ip = ASN1_OCTET_STRING_new();
    X509_EXTENSION *ext;

    CHECK(ASN1_OCTET_STRING_set(ip, five, sizeof(five)));
    GENERAL_NAME_set0_value(gn, GEN_IPADD, ip);
    CHECK(sk_GENERAL_NAME_push(names, gn) > 0);
    ext = X509V3_EXT_i2d(NID_subject_alt_name, 0, names);
    CHECK(ext != NULL && sk_X509_EXTENSION_push(exts, ext) > 0);
    base_profile(&p);
    p.san = SAN_FROM_TEMPLATE;
    r.pubkey = keys[K_P256];
    r.exts = exts;
    EXPECT_FAIL(&p, &dev, &r, FI_BAD_CERT_TEMPLATE);
    GENERAL_NAMES_free(names);
    free_exts(&exts);
}

static void test_other_extensions(void)
{
    struct cmpca_profile p;
    struct policy_request r = {0};
    STACK_OF(X509_EXTENSION) *exts = NULL;
    struct policy_grant *g;
    static const char url[] = "http://crl.example.net/ca.crl";

    base_profile(&p);
    p.crl_url = (char *)url;
    r.pubkey = keys[K_P256];
    add_ext(&exts, NID_key_usage, "critical,keyCertSign,cRLSign");
    add_ext(&exts, NID_ext_key_usage, "codeSigning");
    add_ext(&exts, NID_netscape_comment, "hello");
    r.exts = exts;
    /* ignored: the profile sets keyUsage and EKU */
    g = EXPECT_OK(&p, &dev, &r, 0);
    if (g != NULL) {
        CHECK_INT_EQ(g->key_usage, 0);
        CHECK(g->eku_nids == p.eku_nids);
        CHECK_INT_EQ(g->num_eku, 2);
        CHECK(g->crl_url == p.crl_url);
        CHECK(g->san == NULL);
    }
    policy_grant_free(g);
    free_exts(&exts);
    r.exts = NULL;

    /* profile keyUsage, cut to what the key type may carry */
    p.key_usage = KU_DIGITAL_SIGNATURE | KU_KEY_ENCIPHERMENT;
    g = EXPECT_OK(&p, &dev, &r, 0);
    CHECK(g != NULL && g->key_usage == KU_DIGITAL_SIGNATURE);
    policy_grant_free(g);
    r.pubkey = keys[K_RSA2048];
    g = EXPECT_OK(&p, &dev, &r, 0);
    CHECK(g != NULL &&
          g->key_usage == (KU_DIGITAL_SIGNATURE | KU_KEY_ENCIPHERMENT));
    policy_grant_free(g);
    p.key_usage = KU_KEY_AGREEMENT; /* nothing an RSA key may carry */
    EXPECT_FAIL(&p, &dev, &r, FI_BAD_CERT_TEMPLATE);
    r.pubkey = keys[K_P384];
    g = EXPECT_OK(&p, &dev, &r, 0);
    CHECK(g != NULL && g->key_usage == KU_KEY_AGREEMENT);
    policy_grant_free(g);
}

/* Runs `p` with notAfter = now + secs; returns validity days or -1. */
static int days_for(const struct cmpca_profile *p, long secs, int modified)
{
    struct policy_request r = {0};
    struct policy_grant *g;
    ASN1_TIME *na = ASN1_TIME_set(NULL, now + secs);
    ASN1_TIME *nb = ASN1_TIME_set(NULL, now + 100 * DAY);
    int days = -1;

    r.pubkey = keys[K_P256];
    r.not_after = na;
    r.not_before = nb; /* ignored: we use now */
    g = EXPECT_OK(p, &dev, &r, modified);
    if (g != NULL) {
        days = g->validity_days;
        CHECK(g->not_before == now);
    }
    policy_grant_free(g);
    ASN1_TIME_free(na);
    ASN1_TIME_free(nb);
    return days;
}

static void test_validity(void)
{
    struct cmpca_profile p;
    struct policy_request r = {0};
    struct policy_grant *g;
    ASN1_TIME *t;

    base_profile(&p);
    r.pubkey = keys[K_P256];
    g = EXPECT_OK(&p, &dev, &r, 0); /* nothing asked: the profile's */
    CHECK(g != NULL && g->validity_days == 365 && g->not_before == now);
    policy_grant_free(g);
    CHECK_INT_EQ(days_for(&p, 30L * DAY, 0), 30);
    CHECK_INT_EQ(days_for(&p, 30L * DAY - 10, 0), 30); /* client clock */
    CHECK_INT_EQ(days_for(&p, 30L * DAY + 3000, 0), 30);
    CHECK_INT_EQ(days_for(&p, 30L * DAY + 7200, 0), 31);
    CHECK_INT_EQ(days_for(&p, 10, 0), 1);
    CHECK_INT_EQ(days_for(&p, 365L * DAY + 120, 0), 365);
    CHECK_INT_EQ(days_for(&p, 400L * DAY, 1), 365); /* clamped */
    CHECK_INT_EQ(days_for(&p, 36500L * DAY, 1), 365);
    p.clamp = 0;
    CHECK_INT_EQ(days_for(&p, 365L * DAY, 0), 365);
    t = ASN1_TIME_set(NULL, now + 400L * DAY);
    r.not_after = t;
    EXPECT_FAIL(&p, &dev, &r, FI_BAD_CERT_TEMPLATE);
    ASN1_TIME_free(t);
    /* a notAfter in the past cannot be honoured, clamp or not */
    t = ASN1_TIME_set(NULL, now - DAY);
    r.not_after = t;
    EXPECT_FAIL(&p, &dev, &r, FI_BAD_CERT_TEMPLATE);
    p.clamp = 1;
    EXPECT_FAIL(&p, &dev, &r, FI_BAD_CERT_TEMPLATE);
    ASN1_TIME_free(t);
}

int main(void)
{
    gen_keys();
    test_key_types();
    test_rsa_exponent();
    test_subject_device();
    test_subject_template();
    test_basic_constraints();
    test_san();
    test_san_malformed();
    test_other_extensions();
    test_validity();
    for (int i = 0; i < NUM_TEST_KEYS; i++)
        EVP_PKEY_free(keys[i]);
    return CHECK_RESULT();
}
