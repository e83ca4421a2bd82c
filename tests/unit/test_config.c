/*
 * test_config.c: cmpca.conf parsing with certificate profiles. Each case
 * writes a real file into a temporary directory and loads it: defaults,
 * the legacy [profile] section, several [profile NAME] sections, every bad
 * value rejected with its line number, and config_write -> config_load
 * giving back the same configuration.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/objects.h>
#include <openssl/x509v3.h>

#include "check.h"
#include "util/config.h"

#define DEFAULT_KEYS                                                           \
    (PROFILE_KEY_EC_P256 | PROFILE_KEY_EC_P384 | PROFILE_KEY_RSA2048)

static char tmpdir[] = "/tmp/cmpca-test-config-XXXXXX";

static void write_conf(const char *dir, const char *text)
{
    char path[512];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", dir, CMPCA_CONF_FILE);
    f = fopen(path, "w");
    CHECK(f != NULL);
    if (f == NULL)
        return;
    fputs(text, f);
    fclose(f);
}

static void remove_conf(const char *dir)
{
    char path[512];

    snprintf(path, sizeof(path), "%s/%s", dir, CMPCA_CONF_FILE);
    unlink(path);
}

/* Loads `text`; returns the config or NULL with the message in errbuf. */
static struct cmpca_config *load_text(const char *text, char *errbuf,
                                      size_t errlen)
{
    struct cmpca_config *cfg = NULL;

    write_conf(tmpdir, text);
    errbuf[0] = '\0';
    if (config_load(tmpdir, &cfg, errbuf, errlen) != 0)
        cfg = NULL;
    remove_conf(tmpdir);
    return cfg;
}

static void check_default_profile(const struct cmpca_profile *p)
{
    CHECK(p != NULL);
    if (p == NULL)
        return;
    CHECK_STR_EQ(p->name, "3gpp");
    CHECK_INT_EQ(p->validity_days, 365);
    CHECK_INT_EQ(p->clamp, 1);
    CHECK_INT_EQ(p->subject, SUBJECT_FROM_DEVICE);
    CHECK_INT_EQ(p->num_allowed_rdns, 0);
    CHECK_INT_EQ(p->san, SAN_NONE);
    CHECK_INT_EQ(p->key_types, DEFAULT_KEYS);
    CHECK_INT_EQ(p->key_usage, 0);
    CHECK_INT_EQ(p->num_eku, 2);
    CHECK_INT_EQ(p->eku_nids[0], NID_server_auth);
    CHECK_INT_EQ(p->eku_nids[1], NID_client_auth);
    CHECK(p->crl_url == NULL);
    CHECK_INT_EQ(p->implicit_confirm, 1);
    CHECK_INT_EQ(p->renewal_by_ir, 0);
    CHECK_INT_EQ(p->kur_key_reuse, 0);
}

static void test_defaults(void)
{
    struct cmpca_config *cfg = config_defaults(tmpdir);
    char errbuf[512];

    CHECK(cfg != NULL);
    if (cfg == NULL)
        return;
    CHECK_INT_EQ(cfg->num_profiles, 1);
    check_default_profile(config_profile(cfg, NULL));
    CHECK(config_profile(cfg, "3gpp") == &cfg->profiles[0]);
    CHECK(config_profile(cfg, "iot") == NULL);
    /* the deprecated flat fields mirror profile 3gpp */
    CHECK_INT_EQ(cfg->validity_days, 365);
    CHECK_INT_EQ(cfg->subject_from_template, 0);
    CHECK_INT_EQ(cfg->num_eku, 2);
    CHECK_INT_EQ(cfg->eku_nids[1], NID_client_auth);
    CHECK_STR_EQ(cfg->eku_text, "serverAuth, clientAuth");
    config_free(cfg);

    /* a file without profile sections gets the built-in 3gpp profile */
    cfg = load_text("[server]\nthreads = 2\n", errbuf, sizeof(errbuf));
    CHECK(cfg != NULL);
    if (cfg == NULL)
        return;
    CHECK_INT_EQ(cfg->threads, 2);
    CHECK_INT_EQ(cfg->num_profiles, 1);
    check_default_profile(config_profile(cfg, NULL));
    config_free(cfg);
}

static void test_legacy(void)
{
    char errbuf[512];
    struct cmpca_config *cfg;
    const struct cmpca_profile *p;

    cfg = load_text("[cmp]\nimplicit_confirm = no\n"
                    "[profile]\nvalidity_days = 90\n"
                    "subject_from_template = yes\n"
                    "extended_key_usage = clientAuth\n",
                    errbuf, sizeof(errbuf));
    CHECK(cfg != NULL);
    if (cfg == NULL) {
        fprintf(stderr, "%s\n", errbuf);
        return;
    }
    CHECK_INT_EQ(cfg->num_profiles, 1);
    p = config_profile(cfg, NULL);
    CHECK_STR_EQ(p->name, "3gpp");
    CHECK_INT_EQ(p->validity_days, 90);
    CHECK_INT_EQ(p->subject, SUBJECT_FROM_TEMPLATE);
    CHECK_INT_EQ(p->num_eku, 1);
    CHECK_INT_EQ(p->eku_nids[0], NID_client_auth);
    CHECK_INT_EQ(p->implicit_confirm, 1); /* [cmp] is a separate switch */
    CHECK_INT_EQ(cfg->implicit_confirm, 0);
    CHECK_INT_EQ(cfg->validity_days, 90);
    CHECK_INT_EQ(cfg->subject_from_template, 1);
    CHECK_INT_EQ(cfg->num_eku, 1);
    CHECK_INT_EQ(cfg->eku_nids[0], NID_client_auth);
    CHECK_STR_EQ(cfg->eku_text, "clientAuth");
    config_free(cfg);
}

static const char named_text[] =
    "[profile iot]\n"
    "validity_days = 30\n"
    "clamp = no\n"
    "subject = template\n"
    "allowed_rdns = CN, O,OU serialNumber\n"
    "san = template\n"
    "key_types = ec-p521, ed25519, ed448, rsa-3072\n"
    "key_usage = digitalSignature, keyAgreement, nonRepudiation\n"
    "extended_key_usage = clientAuth\n"
    "crl_url = http://crl.example.net/ca.crl\n"
    "implicit_confirm = no\n"
    "renewal_by_ir = yes\n"
    "kur_key_reuse = yes\n"
    "[server]\nthreads = 3\n"
    "[profile 3gpp]\nvalidity_days = 730\n"
    "[profile lab.v2_x-1]\nextended_key_usage =\nkey_types = rsa-2048\n";

static void check_iot(const struct cmpca_profile *p)
{
    CHECK(p != NULL);
    if (p == NULL)
        return;
    CHECK_STR_EQ(p->name, "iot");
    CHECK_INT_EQ(p->validity_days, 30);
    CHECK_INT_EQ(p->clamp, 0);
    CHECK_INT_EQ(p->subject, SUBJECT_FROM_TEMPLATE);
    CHECK_INT_EQ(p->num_allowed_rdns, 4);
    CHECK_INT_EQ(p->allowed_rdns[0], NID_commonName);
    CHECK_INT_EQ(p->allowed_rdns[1], NID_organizationName);
    CHECK_INT_EQ(p->allowed_rdns[2], NID_organizationalUnitName);
    CHECK_INT_EQ(p->allowed_rdns[3], NID_serialNumber);
    CHECK_INT_EQ(p->san, SAN_FROM_TEMPLATE);
    CHECK_INT_EQ(p->key_types, PROFILE_KEY_EC_P521 | PROFILE_KEY_ED25519 |
                                   PROFILE_KEY_ED448 | PROFILE_KEY_RSA3072);
    CHECK_INT_EQ(p->key_usage,
                 KU_DIGITAL_SIGNATURE | KU_KEY_AGREEMENT | KU_NON_REPUDIATION);
    CHECK_INT_EQ(p->num_eku, 1);
    CHECK_INT_EQ(p->eku_nids[0], NID_client_auth);
    CHECK_STR_EQ(p->crl_url, "http://crl.example.net/ca.crl");
    CHECK_INT_EQ(p->implicit_confirm, 0);
    CHECK_INT_EQ(p->renewal_by_ir, 1);
    CHECK_INT_EQ(p->kur_key_reuse, 1);
}

static void check_named(const struct cmpca_config *cfg)
{
    const struct cmpca_profile *p;

    CHECK_INT_EQ(cfg->num_profiles, 3);
    CHECK_INT_EQ(cfg->threads, 3);
    /* 3gpp comes first even though the file defines it second */
    p = config_profile(cfg, NULL);
    CHECK_STR_EQ(p->name, "3gpp");
    CHECK_INT_EQ(p->validity_days, 730);
    CHECK_INT_EQ(p->key_types, DEFAULT_KEYS);
    CHECK_INT_EQ(cfg->validity_days, 730);
    check_iot(config_profile(cfg, "iot"));
    CHECK(config_profile(cfg, "iot") == &cfg->profiles[1]);
    p = config_profile(cfg, "lab.v2_x-1");
    CHECK(p == &cfg->profiles[2]);
    if (p != NULL) {
        CHECK_INT_EQ(p->num_eku, 0);
        CHECK_INT_EQ(p->key_types, PROFILE_KEY_RSA2048);
        CHECK_INT_EQ(p->validity_days, 365);
    }
    CHECK(config_profile(cfg, "IOT") == NULL);
}

static void test_named(void)
{
    char errbuf[512];
    struct cmpca_config *cfg = load_text(named_text, errbuf, sizeof(errbuf));

    CHECK(cfg != NULL);
    if (cfg == NULL) {
        fprintf(stderr, "%s\n", errbuf);
        return;
    }
    check_named(cfg);
    config_free(cfg);
}

struct bad_case {
    const char *text;
    int line;
    const char *why; /* a part of the message */
};

static const struct bad_case bad_cases[] = {
    {"[profile x]\nvalidity_days = 0\n", 2, "validity_days must be"},
    {"[profile x]\n\nvalidity_days = 36501\n", 3, "validity_days must be"},
    {"[profile x]\nvalidity_days = 10d\n", 2, "validity_days must be"},
    {"[profile x]\nvalidity_days = -5\n", 2, "validity_days must be"},
    {"[profile x]\nvalidity_days =\n", 2, "validity_days must be"},
    {"[profile x]\nclamp = maybe\n", 2, "clamp must be yes or no"},
    {"[profile x]\nsubject = cn\n", 2, "subject must be device or template"},
    {"[profile]\nsubject_from_template = 2\n", 2, "subject_from_template"},
    {"[profile x]\nallowed_rdns = CN, noSuchAttr\n", 2, "unknown name"},
    {"[profile x]\nallowed_rdns = CN O OU C L ST street DC UID title SN GN "
     "initials pseudonym serialNumber emailAddress name\n",
     2, "at most 16"},
    {"[profile x]\nsan = dns\n", 2, "san must be none or template"},
    {"[profile x]\nkey_types = ec-p256, rsa-1024\n", 2, "unknown entry"},
    {"[profile x]\nkey_types = EC-P256\n", 2, "unknown entry"},
    {"[profile x]\nkey_types =\n", 2, "may not be empty"},
    {"[profile x]\nkey_types = , ,\n", 2, "may not be empty"},
    {"[profile x]\nkey_usage = keyCertSign\n", 2, "unknown entry"},
    {"[profile x]\nkey_usage = digitalSignature cRLSign\n", 2, "unknown entry"},
    {"[profile x]\nextended_key_usage = serverAuth, noSuchEku\n", 2,
     "unknown name"},
    {"[profile x]\nextended_key_usage = serverAuth clientAuth codeSigning "
     "emailProtection timeStamping OCSPSigning ipsecIKE msSmartcardLogin "
     "secureShellClient\n",
     2, "at most 8"},
    {"[profile x]\ncrl_url = ftp://crl.example/ca.crl\n", 2, "crl_url"},
    {"[profile x]\ncrl_url = https://crl.example/ca.crl\n", 2, "crl_url"},
    {"[profile x]\ncrl_url = http://\n", 2, "crl_url"},
    {"[profile x]\ncrl_url = http:///ca.crl\n", 2, "crl_url"},
    {"[profile x]\ncrl_url = http://a b/ca.crl\n", 2, "crl_url"},
    {"[profile x]\ncrl_url = http://a\x01/ca.crl\n", 2, "crl_url"},
    {"[profile x]\nimplicit_confirm = sometimes\n", 2, "implicit_confirm"},
    {"[profile x]\nrenewal_by_ir = 2\n", 2, "renewal_by_ir"},
    {"[profile x]\nkur_key_reuse = on\n", 2, "kur_key_reuse"},
    {"[profile x]\n# fine\nvalidity = 3\n", 3, "unknown key validity"},
    {"[profile x]\nreenroll = yes\n", 2, "unknown key reenroll"},
    {"[profile a]\n[profile b]\n[profile a]\n", 3, "duplicate profile a"},
    {"[profile]\nclamp = no\n[profile 3gpp]\n", 3, "duplicate profile 3gpp"},
    {"[profile 3gpp]\n[profile]\n", 2, "duplicate profile 3gpp"},
    {"[profile 3gpp]\n[profile  3gpp ]\n", 2, "duplicate profile 3gpp"},
    {"[profile a/b]\n", 1, "bad profile name"},
    {"[profile ..]\n", 1, "bad profile name"},
    {"[profile a b]\n", 1, "bad profile name"},
    {"[profile "
     "a2345678901234567890123456789012345678901234567890123456789012345]\n",
     1, "bad profile name"},
    {"[profiles]\n", 1, "unknown section [profiles]"},
    {"[nosuch]\n", 1, "unknown section"},
    {"[profile x\n", 1, "bad section header"},
    {"[server]\nthreads = many\n", 2, "invalid value for threads"},
    {"[server]\nvalidity_days = 3\n", 2, "unknown key validity_days"},
    {"validity_days = 3\n", 1, "outside any section"},
    {"[cmp]\nimplicit_confirm = yes\n[profile x]\nclamp\n", 4,
     "expected key = value"},
};

static void test_bad_values(void)
{
    char errbuf[512], want[64];
    struct cmpca_config *cfg;

    for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
        const struct bad_case *c = &bad_cases[i];

        cfg = load_text(c->text, errbuf, sizeof(errbuf));
        CHECK(cfg == NULL);
        config_free(cfg);
        snprintf(want, sizeof(want), "%s:%d: ", CMPCA_CONF_FILE, c->line);
        if (strstr(errbuf, want) == NULL || strstr(errbuf, c->why) == NULL) {
            fprintf(stderr, "case %zu: want \"%s\" and \"%s\" in \"%s\"\n", i,
                    want, c->why, errbuf);
            CHECK(0);
        }
    }
}

static void check_same_profile(const struct cmpca_profile *a,
                               const struct cmpca_profile *b)
{
    CHECK_STR_EQ(a->name, b->name);
    CHECK_INT_EQ(a->validity_days, b->validity_days);
    CHECK_INT_EQ(a->clamp, b->clamp);
    CHECK_INT_EQ(a->subject, b->subject);
    CHECK_INT_EQ(a->num_allowed_rdns, b->num_allowed_rdns);
    CHECK(memcmp(a->allowed_rdns, b->allowed_rdns,
                 sizeof(int) * (size_t)a->num_allowed_rdns) == 0);
    CHECK_INT_EQ(a->san, b->san);
    CHECK_INT_EQ(a->key_types, b->key_types);
    CHECK_INT_EQ(a->key_usage, b->key_usage);
    CHECK_INT_EQ(a->num_eku, b->num_eku);
    CHECK(memcmp(a->eku_nids, b->eku_nids, sizeof(int) * (size_t)a->num_eku) ==
          0);
    CHECK((a->crl_url == NULL) == (b->crl_url == NULL));
    if (a->crl_url != NULL && b->crl_url != NULL)
        CHECK_STR_EQ(a->crl_url, b->crl_url);
    CHECK_INT_EQ(a->implicit_confirm, b->implicit_confirm);
    CHECK_INT_EQ(a->renewal_by_ir, b->renewal_by_ir);
    CHECK_INT_EQ(a->kur_key_reuse, b->kur_key_reuse);
}

/* Every key line of a [profile ...] section follows a comment line. */
static void check_written_comments(const char *dir)
{
    char path[512], line[1200], prev[1200] = "";
    int in_prof = 0, keys = 0;
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", dir, CMPCA_CONF_FILE);
    if ((f = fopen(path, "r")) == NULL) {
        CHECK(0);
        return;
    }
    while (fgets(line, sizeof(line), f) != NULL) {
        if (line[0] == '[')
            in_prof = strncmp(line, "[profile ", 9) == 0;
        else if (in_prof && strchr(line, '=') != NULL && line[0] != '#') {
            keys++;
            CHECK(prev[0] == '#');
        }
        snprintf(prev, sizeof(prev), "%s", line);
    }
    fclose(f);
    CHECK(keys >= 12); /* the 12 keys of each written profile */
}

/* Writes `cfg` into a fresh directory and loads it back. */
static struct cmpca_config *write_and_load(struct cmpca_config *cfg,
                                           const char *dir)
{
    struct cmpca_config *back = NULL;
    char errbuf[512];

    free(cfg->dir);
    cfg->dir = strdup(dir);
    CHECK_INT_EQ(config_write(cfg), 0);
    CHECK_INT_EQ(config_write(cfg), -1); /* never overwrites */
    check_written_comments(dir);
    if (config_load(dir, &back, errbuf, sizeof(errbuf)) != 0) {
        fprintf(stderr, "%s\n", errbuf);
        CHECK(0);
    }
    remove_conf(dir);
    return back;
}

static void test_round_trip(void)
{
    char errbuf[512];
    struct cmpca_config *cfg = config_defaults(tmpdir), *back;

    /* defaults: what `cmpca init` writes */
    back = write_and_load(cfg, tmpdir);
    if (back != NULL) {
        CHECK_INT_EQ(back->num_profiles, 1);
        check_default_profile(config_profile(back, NULL));
        CHECK_STR_EQ(back->eku_text, cfg->eku_text);
        CHECK_INT_EQ(back->crl_validity, cfg->crl_validity);
        CHECK_INT_EQ(back->approval_wait, cfg->approval_wait);
    }
    config_free(back);
    config_free(cfg);

    /* several profiles with every key set */
    cfg = load_text(named_text, errbuf, sizeof(errbuf));
    CHECK(cfg != NULL);
    if (cfg == NULL)
        return;
    back = write_and_load(cfg, tmpdir);
    if (back != NULL) {
        check_named(back);
        CHECK_INT_EQ(back->num_profiles, cfg->num_profiles);
        for (size_t i = 0; i < cfg->num_profiles && i < back->num_profiles; i++)
            check_same_profile(&cfg->profiles[i], &back->profiles[i]);
    }
    config_free(back);
    config_free(cfg);
}

int main(void)
{
    if (mkdtemp(tmpdir) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    test_defaults();
    test_legacy();
    test_named();
    test_bad_values();
    test_round_trip();
    rmdir(tmpdir);
    return CHECK_RESULT();
}
