/*
 * config_profile.c: the keys of a `[profile NAME]` section (config_local.h).
 * One table drives parsing, writing and the comment written above each key,
 * so `cmpca init` documents every key it writes and a key cannot be parsed
 * without also being written back.
 */
#include "util/config_local.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/objects.h>
#include <openssl/x509v3.h>

#define LIST_MAX  32 /* entries of one comma list */
#define TOKEN_MAX 64 /* characters of one entry, NUL included */

struct name_bit {
    const char *name;
    int bit;
};

static const struct name_bit key_type_names[] = {
    {"ec-p256", PROFILE_KEY_EC_P256},  {"ec-p384", PROFILE_KEY_EC_P384},
    {"ec-p521", PROFILE_KEY_EC_P521},  {"rsa-2048", PROFILE_KEY_RSA2048},
    {"rsa-3072", PROFILE_KEY_RSA3072}, {"ed25519", PROFILE_KEY_ED25519},
    {"ed448", PROFILE_KEY_ED448},
};
static const struct name_bit key_usage_names[] = {
    {"digitalSignature", KU_DIGITAL_SIGNATURE},
    {"nonRepudiation", KU_NON_REPUDIATION},
    {"keyEncipherment", KU_KEY_ENCIPHERMENT},
    {"keyAgreement", KU_KEY_AGREEMENT},
};
#define NUM_OF(a) (sizeof(a) / sizeof((a)[0]))

enum pkind {
    P_DAYS,
    P_BOOL,
    P_SUBJECT,
    P_FROM_TEMPLATE, /* legacy alias of subject, not written */
    P_RDNS,
    P_SAN,
    P_KEY_TYPES,
    P_KEY_USAGE,
    P_EKU,
    P_URL
};

struct pkey_def {
    const char *key;
    enum pkind kind;
    size_t off; /* of the int field for P_DAYS and P_BOOL */
    const char *comment;
};

#define POFF(f) offsetof(struct cmpca_profile, f)
static const struct pkey_def pkeys[] = {
    {"validity_days", P_DAYS, POFF(validity_days),
     "days an issued certificate is valid (1..36500); a shorter requested\n"
     "# validity is honoured"},
    {"clamp", P_BOOL, POFF(clamp),
     "yes: shorten an over-long validity, drop forbidden subject attributes\n"
     "# and alt names, and answer grantedWithMods; no: reject such requests\n"
     "# with badCertTemplate"},
    {"subject", P_SUBJECT, 0,
     "device: CN and serialNumber from the device identity; template: the\n"
     "# subject the device asks for"},
    {"subject_from_template", P_FROM_TEMPLATE, 0, NULL},
    {"allowed_rdns", P_RDNS, 0,
     "attributes a template subject may use (CN, O, OU, C, serialNumber...);\n"
     "# empty: any"},
    {"san", P_SAN, 0,
     "template: copy dNSName, iPAddress and URI alt names from the request;\n"
     "# none: issue no subjectAltName"},
    {"key_types", P_KEY_TYPES, 0,
     "keys that may be certified: ec-p256 ec-p384 ec-p521 rsa-2048 rsa-3072\n"
     "# ed25519 ed448 (rsa-N: RSA of N bits or more)"},
    {"key_usage", P_KEY_USAGE, 0,
     "digitalSignature keyEncipherment keyAgreement nonRepudiation; empty:\n"
     "# digitalSignature, plus keyEncipherment for RSA keys"},
    {"extended_key_usage", P_EKU, 0,
     "extended key usages (OpenSSL short names); empty: no extension"},
    {"crl_url", P_URL, 0,
     "CRL distribution point put in certificates (http://...); empty: none"},
    {"implicit_confirm", P_BOOL, POFF(implicit_confirm),
     "yes: grant implicitConfirm when asked ([cmp] implicit_confirm must\n"
     "# allow it too)"},
    {"renewal_by_ir", P_BOOL, POFF(renewal_by_ir),
     "yes: an ir signed with a certificate this CA issued renews it"},
    {"kur_key_reuse", P_BOOL, POFF(kur_key_reuse),
     "yes: a kur may certify the key of the certificate it replaces"},
};

struct list {
    int num;
    char tok[LIST_MAX][TOKEN_MAX];
};

/* Splits a list separated by commas and/or blanks; empty gives none. */
static int split_list(const char *v, struct list *l, char *why, size_t wl)
{
    const char *p = v;
    size_t n;

    l->num = 0;
    for (;;) {
        p += strspn(p, ", \t");
        if (*p == '\0')
            return 0;
        n = strcspn(p, ", \t");
        if (n >= TOKEN_MAX || l->num >= LIST_MAX) {
            snprintf(why, wl, "list entry too long or too many entries");
            return -1;
        }
        memcpy(l->tok[l->num], p, n);
        l->tok[l->num++][n] = '\0';
        p += n;
    }
}

static int parse_bits(const char *key, const char *v, const struct name_bit *t,
                      size_t nt, int *out, char *why, size_t wl)
{
    struct list l;
    size_t j;
    int bits = 0;

    if (split_list(v, &l, why, wl) != 0)
        return -1;
    for (int i = 0; i < l.num; i++) {
        for (j = 0; j < nt && strcmp(t[j].name, l.tok[i]) != 0; j++)
            ;
        if (j == nt) {
            snprintf(why, wl, "%s: unknown entry %s", key, l.tok[i]);
            return -1;
        }
        bits |= t[j].bit;
    }
    *out = bits;
    return 0;
}

static int parse_nids(const char *key, const char *v, int *nids, int max,
                      int *num, char *why, size_t wl)
{
    struct list l;
    int nid;

    if (split_list(v, &l, why, wl) != 0)
        return -1;
    if (l.num > max) {
        snprintf(why, wl, "%s: at most %d entries", key, max);
        return -1;
    }
    for (int i = 0; i < l.num; i++) {
        if ((nid = OBJ_txt2nid(l.tok[i])) == NID_undef) {
            snprintf(why, wl, "%s: unknown name %s", key, l.tok[i]);
            return -1;
        }
        nids[i] = nid;
    }
    *num = l.num;
    return 0;
}

static int parse_days(const char *v, int *out, char *why, size_t wl)
{
    char *end = NULL;
    long n;

    errno = 0;
    n = strtol(v, &end, 10);
    if (errno != 0 || end == v || *end != '\0' || n < 1 || n > 36500) {
        snprintf(why, wl, "validity_days must be 1..36500");
        return -1;
    }
    *out = (int)n;
    return 0;
}

/* An http:// URL of printable ASCII without blanks; empty: none. */
static int parse_url(const char *v, char **out, char *why, size_t wl)
{
    char *copy;

    if (*v != '\0') {
        if (strncmp(v, "http://", 7) != 0 || v[7] == '\0' || v[7] == '/') {
            snprintf(why, wl, "crl_url must be an http:// URL or empty");
            return -1;
        }
        for (const char *c = v; *c != '\0'; c++) {
            if (*c <= ' ' || *c > '~') {
                snprintf(why, wl, "crl_url: blank or non-ASCII character");
                return -1;
            }
        }
    }
    copy = *v != '\0' ? strdup(v) : NULL;
    if (*v != '\0' && copy == NULL) {
        snprintf(why, wl, "out of memory");
        return -1;
    }
    free(*out);
    *out = copy;
    return 0;
}

/* Parses one of two words into 0 (`w0`) or 1 (`w1`). */
static int parse_word(const char *key, const char *v, const char *w0,
                      const char *w1, int *out, char *why, size_t wl)
{
    if (strcmp(v, w0) == 0 || strcmp(v, w1) == 0) {
        *out = strcmp(v, w1) == 0;
        return 0;
    }
    snprintf(why, wl, "%s must be %s or %s", key, w0, w1);
    return -1;
}

static int set_key(struct cmpca_profile *p, const struct pkey_def *k,
                   const char *v, char *why, size_t wl)
{
    int *field = (int *)(void *)((char *)p + k->off), yes = 0;

    switch (k->kind) {
    case P_DAYS:
        return parse_days(v, field, why, wl);
    case P_BOOL:
        if (config_parse_bool(v, field) == 0)
            return 0;
        snprintf(why, wl, "%s must be yes or no", k->key);
        return -1;
    case P_FROM_TEMPLATE:
        if (config_parse_bool(v, &yes) == 0) {
            p->subject = yes ? SUBJECT_FROM_TEMPLATE : SUBJECT_FROM_DEVICE;
            return 0;
        }
        snprintf(why, wl, "%s must be yes or no", k->key);
        return -1;
    case P_SUBJECT:
        return parse_word(k->key, v, "device", "template", &p->subject, why,
                          wl);
    case P_SAN:
        return parse_word(k->key, v, "none", "template", &p->san, why, wl);
    case P_RDNS:
        return parse_nids(k->key, v, p->allowed_rdns, PROFILE_MAX_RDNS,
                          &p->num_allowed_rdns, why, wl);
    case P_EKU:
        return parse_nids(k->key, v, p->eku_nids, CMPCA_MAX_EKU, &p->num_eku,
                          why, wl);
    case P_KEY_USAGE:
        return parse_bits(k->key, v, key_usage_names, NUM_OF(key_usage_names),
                          &p->key_usage, why, wl);
    case P_KEY_TYPES:
        if (parse_bits(k->key, v, key_type_names, NUM_OF(key_type_names),
                       &p->key_types, why, wl) != 0)
            return -1;
        if (p->key_types != 0)
            return 0;
        snprintf(why, wl, "key_types may not be empty");
        return -1;
    case P_URL:
        return parse_url(v, &p->crl_url, why, wl);
    }
    return -1;
}

int config_profile_set(struct cmpca_profile *p, const char *key, const char *v,
                       char *why, size_t wl)
{
    for (size_t i = 0; i < NUM_OF(pkeys); i++)
        if (strcmp(pkeys[i].key, key) == 0)
            return set_key(p, &pkeys[i], v, why, wl);
    snprintf(why, wl, "unknown key %.64s in [profile %s]", key, p->name);
    return -1;
}

int config_profile_name_ok(const char *name)
{
    size_t len = strlen(name), dots = 0;

    if (len == 0 || len > CMPCA_PROFILE_NAME_MAX)
        return 0;
    for (const char *c = name; *c != '\0'; c++) {
        if (*c == '.')
            dots++;
        else if (!((*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') ||
                   (*c >= '0' && *c <= '9') || *c == '_' || *c == '-'))
            return 0;
    }
    return dots != len;
}

struct cmpca_profile *config_profile_add(struct cmpca_config *cfg,
                                         const char *name)
{
    struct cmpca_profile *arr, *p;

    arr = realloc(cfg->profiles, (cfg->num_profiles + 1) * sizeof(*arr));
    if (arr == NULL)
        return NULL;
    cfg->profiles = arr;
    p = &arr[cfg->num_profiles];
    memset(p, 0, sizeof(*p));
    if ((p->name = strdup(name)) == NULL)
        return NULL;
    cfg->num_profiles++;
    p->validity_days = 365;
    p->clamp = 1;
    p->subject = SUBJECT_FROM_DEVICE;
    p->san = SAN_NONE;
    p->key_types =
        PROFILE_KEY_EC_P256 | PROFILE_KEY_EC_P384 | PROFILE_KEY_RSA2048;
    p->key_usage = 0;
    p->eku_nids[0] = NID_server_auth;
    p->eku_nids[1] = NID_client_auth;
    p->num_eku = 2;
    p->implicit_confirm = 1;
    return p;
}

void config_nids_text(const int *nids, int num, char *buf, size_t cap)
{
    size_t len = 0;

    buf[0] = '\0';
    for (int i = 0; i < num && len < cap; i++) {
        const char *sn = OBJ_nid2sn(nids[i]);
        int n = snprintf(buf + len, cap - len, "%s%s", i > 0 ? ", " : "",
                         sn != NULL ? sn : "?");

        if (n < 0)
            break;
        len += (size_t)n;
    }
}

static void bits_text(const struct name_bit *t, size_t nt, int bits, char *buf,
                      size_t cap)
{
    size_t len = 0;

    buf[0] = '\0';
    for (size_t i = 0; i < nt && len < cap; i++) {
        if ((bits & t[i].bit) == 0)
            continue;
        int n = snprintf(buf + len, cap - len, "%s%s", len > 0 ? ", " : "",
                         t[i].name);
        if (n < 0)
            break;
        len += (size_t)n;
    }
}

/* The value of key `k` of `p` as the parser reads it back. */
static void value_text(const struct cmpca_profile *p, const struct pkey_def *k,
                       char *buf, size_t cap)
{
    const int *field = (const int *)(const void *)((const char *)p + k->off);

    switch (k->kind) {
    case P_DAYS:
        snprintf(buf, cap, "%d", *field);
        break;
    case P_BOOL:
        snprintf(buf, cap, "%s", *field ? "yes" : "no");
        break;
    case P_FROM_TEMPLATE:
        snprintf(buf, cap, "%s",
                 p->subject == SUBJECT_FROM_TEMPLATE ? "yes" : "no");
        break;
    case P_SUBJECT:
        snprintf(buf, cap, "%s",
                 p->subject == SUBJECT_FROM_TEMPLATE ? "template" : "device");
        break;
    case P_SAN:
        snprintf(buf, cap, "%s",
                 p->san == SAN_FROM_TEMPLATE ? "template" : "none");
        break;
    case P_RDNS:
        config_nids_text(p->allowed_rdns, p->num_allowed_rdns, buf, cap);
        break;
    case P_EKU:
        config_nids_text(p->eku_nids, p->num_eku, buf, cap);
        break;
    case P_KEY_USAGE:
        bits_text(key_usage_names, NUM_OF(key_usage_names), p->key_usage, buf,
                  cap);
        break;
    case P_KEY_TYPES:
        bits_text(key_type_names, NUM_OF(key_type_names), p->key_types, buf,
                  cap);
        break;
    case P_URL:
        snprintf(buf, cap, "%s", p->crl_url != NULL ? p->crl_url : "");
        break;
    }
}

void config_profile_write(FILE *f, const struct cmpca_profile *p)
{
    char value[1100];

    fprintf(f, "\n[profile %s]\n", p->name);
    for (size_t i = 0; i < NUM_OF(pkeys); i++) {
        if (pkeys[i].comment == NULL)
            continue; /* an alias of another key */
        value_text(p, &pkeys[i], value, sizeof(value));
        fprintf(f, "# %s\n%s =%s%s\n", pkeys[i].comment, pkeys[i].key,
                value[0] != '\0' ? " " : "", value);
    }
}
