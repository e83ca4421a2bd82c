/*
 * profile.c: a certTemplate against a certificate profile (policy.h). The
 * template is the requester's wish list; the profile is the operator's
 * rules. Every part of the template is either refused (badCertTemplate or
 * badAlg), changed and reported (grantedWithMods, only under `clamp`), or
 * ignored because the profile decides it (keyUsage, EKU, notBefore). The
 * result is a grant the engine hands to ca_issue as it is.
 */
#include "policy/policy.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/objects.h>

#define DAY_SEC 86400LL

/* The profile bits `key` satisfies: RSA of 3072 bits counts as rsa-2048
 * too, since rsa-N means N bits or more. `desc` names the key for errors. */
static int key_bits(const EVP_PKEY *key, int *out, char *desc, size_t cap,
                    struct cmpca_err *err)
{
    char curve[64];
    size_t len = 0;
    int bits = EVP_PKEY_get_bits(key);

    switch (EVP_PKEY_get_base_id(key)) {
    case EVP_PKEY_EC:
        if (!EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME,
                                            curve, sizeof(curve), &len))
            return cmpca_err_ossl(err, FI_BAD_CERT_TEMPLATE,
                                  "EC key without a named curve");
        snprintf(desc, cap, "EC %s", curve);
        *out = strcmp(curve, "prime256v1") == 0  ? PROFILE_KEY_EC_P256
               : strcmp(curve, "secp384r1") == 0 ? PROFILE_KEY_EC_P384
               : strcmp(curve, "secp521r1") == 0 ? PROFILE_KEY_EC_P521
                                                 : 0;
        if (*out == 0)
            return cmpca_err_set(err, FI_BAD_ALG, "EC curve %s not supported",
                                 curve);
        return 0;
    case EVP_PKEY_RSA:
        snprintf(desc, cap, "RSA %d bits", bits);
        if (bits < 2048 || bits > 8192)
            return cmpca_err_set(err, FI_BAD_CERT_TEMPLATE,
                                 "RSA key of %d bits not allowed (2048..8192)",
                                 bits);
        *out = PROFILE_KEY_RSA2048 | (bits >= 3072 ? PROFILE_KEY_RSA3072 : 0);
        return 0;
    case EVP_PKEY_ED25519:
        snprintf(desc, cap, "Ed25519");
        *out = PROFILE_KEY_ED25519;
        return 0;
    case EVP_PKEY_ED448:
        snprintf(desc, cap, "Ed448");
        *out = PROFILE_KEY_ED448;
        return 0;
    default:
        return cmpca_err_set(err, FI_BAD_ALG, "key type %s not supported",
                             EVP_PKEY_get0_type_name(key) != NULL
                                 ? EVP_PKEY_get0_type_name(key)
                                 : "unknown");
    }
}

/* An RSA public exponent must be odd and greater than 1. */
static int rsa_exponent_ok(const EVP_PKEY *key)
{
    BIGNUM *e = NULL;
    int ok;

    if (!EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_E, &e)) {
        ERR_clear_error();
        return 0;
    }
    ok = BN_is_odd(e) && !BN_is_one(e);
    BN_free(e);
    return ok;
}

int policy_check_profile_key(const struct cmpca_profile *p, const EVP_PKEY *key,
                             struct cmpca_err *err)
{
    char desc[96];
    int bits = 0;

    if (key == NULL)
        return cmpca_err_set(err, FI_BAD_CERT_TEMPLATE,
                             "template has no publicKey");
    if (key_bits(key, &bits, desc, sizeof(desc), err) != 0)
        return -1;
    if (EVP_PKEY_get_base_id(key) == EVP_PKEY_RSA && !rsa_exponent_ok(key))
        return cmpca_err_set(err, FI_BAD_CERT_TEMPLATE,
                             "RSA public exponent not usable");
    if ((bits & p->key_types) == 0)
        return cmpca_err_set(err, FI_BAD_CERT_TEMPLATE,
                             "%s key not allowed by profile %s", desc, p->name);
    return 0;
}

/* The KU_* bits a key of this type may carry (RFC 4055, 5480, 8410). */
static int key_usage_fit(const EVP_PKEY *key)
{
    int sig = KU_DIGITAL_SIGNATURE | KU_NON_REPUDIATION;

    switch (EVP_PKEY_get_base_id(key)) {
    case EVP_PKEY_RSA:
        return sig | KU_KEY_ENCIPHERMENT;
    case EVP_PKEY_EC:
        return sig | KU_KEY_AGREEMENT;
    default:
        return sig;
    }
}

/* "CN=<id>, serialNumber=<id>": the subject derived from a device. */
static int device_subject(const struct policy_device *dev, X509_NAME **out,
                          struct cmpca_err *err)
{
    const unsigned char *id = (const unsigned char *)dev->serial;
    X509_NAME *name = X509_NAME_new();

    *out = NULL;
    if (name == NULL ||
        !X509_NAME_add_entry_by_NID(name, NID_commonName, MBSTRING_UTF8, id, -1,
                                    -1, 0)) {
        X509_NAME_free(name);
        return cmpca_err_ossl(err, FI_BAD_CERT_TEMPLATE,
                              "cannot build subject from device identity");
    }
    /* serialNumber is a PrintableString: an identity with other characters
     * is named by CN alone */
    if (!X509_NAME_add_entry_by_NID(name, NID_serialNumber, MBSTRING_UTF8, id,
                                    -1, -1, 0))
        ERR_clear_error();
    *out = name;
    return 0;
}

static int rdn_allowed(const struct cmpca_profile *p, int nid)
{
    if (p->num_allowed_rdns == 0)
        return 1;
    for (int i = 0; i < p->num_allowed_rdns; i++)
        if (p->allowed_rdns[i] == nid && nid != NID_undef)
            return 1;
    return 0;
}

/* Drops (clamp) or refuses the attributes of g->subject that the profile
 * does not allow. */
static int filter_subject(const struct cmpca_profile *p, struct policy_grant *g,
                          struct cmpca_err *err)
{
    X509_NAME_ENTRY *e;
    char oid[80];
    int i, nid;

    for (i = X509_NAME_entry_count(g->subject) - 1; i >= 0; i--) {
        e = X509_NAME_get_entry(g->subject, i);
        nid = OBJ_obj2nid(X509_NAME_ENTRY_get_object(e));
        if (rdn_allowed(p, nid))
            continue;
        if (!p->clamp) {
            OBJ_obj2txt(oid, sizeof(oid), X509_NAME_ENTRY_get_object(e), 0);
            return cmpca_err_set(err, FI_BAD_CERT_TEMPLATE,
                                 "subject attribute %s not allowed by "
                                 "profile %s",
                                 oid, p->name);
        }
        X509_NAME_ENTRY_free(X509_NAME_delete_entry(g->subject, i));
        g->modified = 1;
    }
    if (X509_NAME_entry_count(g->subject) == 0)
        return cmpca_err_set(err, FI_BAD_CERT_TEMPLATE,
                             "no subject attribute allowed by profile %s",
                             p->name);
    return 0;
}

static int grant_subject(const struct cmpca_profile *p,
                         const struct policy_device *dev, const X509_NAME *req,
                         struct policy_grant *g, struct cmpca_err *err)
{
    int n = req != NULL ? X509_NAME_entry_count(req) : 0;

    if (n > POLICY_MAX_SUBJECT_ATTRS)
        return cmpca_err_set(err, FI_BAD_CERT_TEMPLATE,
                             "subject has more than %d attributes",
                             POLICY_MAX_SUBJECT_ATTRS);
    if (p->subject == SUBJECT_FROM_DEVICE && dev != NULL) {
        if (device_subject(dev, &g->subject, err) != 0)
            return -1;
        if (n > 0 && X509_NAME_cmp(req, g->subject) != 0)
            g->modified = 1;
        return 0;
    }
    if (n == 0)
        return cmpca_err_set(err, FI_BAD_CERT_TEMPLATE,
                             "profile %s needs a subject in the template",
                             p->name);
    if ((g->subject = X509_NAME_dup(req)) == NULL)
        return cmpca_err_ossl(err, FI_SYSTEM_FAILURE, "out of memory");
    /* dev == NULL: a renewal keeps the old certificate's subject as is */
    if (p->subject == SUBJECT_FROM_DEVICE)
        return 0;
    return filter_subject(p, g, err);
}

static int check_basic_constraints(X509_EXTENSION *ext, struct cmpca_err *err)
{
    BASIC_CONSTRAINTS *bc = X509V3_EXT_d2i(ext);
    int ca;

    if (bc == NULL)
        return cmpca_err_ossl(err, FI_BAD_CERT_TEMPLATE,
                              "unreadable basicConstraints in template");
    ca = bc->ca;
    BASIC_CONSTRAINTS_free(bc);
    if (ca)
        return cmpca_err_set(err, FI_BAD_CERT_TEMPLATE,
                             "a CA certificate cannot be requested");
    return 0;
}

/* dNSName and URI: 1..255 printable ASCII characters without blanks;
 * iPAddress: 4 or 16 octets. */
static int alt_name_well_formed(const GENERAL_NAME *gn)
{
    const ASN1_STRING *s = gn->type == GEN_IPADD ? gn->d.iPAddress : gn->d.ia5;
    const unsigned char *c = ASN1_STRING_get0_data(s);
    int len = ASN1_STRING_length(s);

    if (gn->type == GEN_IPADD)
        return len == 4 || len == 16;
    if (len < 1 || len > 255)
        return 0;
    for (int i = 0; i < len; i++)
        if (c[i] <= ' ' || c[i] > '~')
            return 0;
    return 1;
}

/* Copies the alt names the profile allows from `req` into g->san. */
static int copy_alt_names(const struct cmpca_profile *p, GENERAL_NAMES *req,
                          struct policy_grant *g, struct cmpca_err *err)
{
    GENERAL_NAME *gn, *copy;
    int i, type;

    for (i = 0; i < sk_GENERAL_NAME_num(req); i++) {
        gn = sk_GENERAL_NAME_value(req, i);
        type = gn->type;
        if (type != GEN_DNS && type != GEN_IPADD && type != GEN_URI) {
            if (!p->clamp)
                return cmpca_err_set(err, FI_BAD_CERT_TEMPLATE,
                                     "subjectAltName of type %d not allowed "
                                     "by profile %s",
                                     type, p->name);
            g->modified = 1;
            continue;
        }
        if (!alt_name_well_formed(gn))
            return cmpca_err_set(err, FI_BAD_CERT_TEMPLATE,
                                 "malformed subjectAltName entry");
        if ((g->san == NULL && (g->san = GENERAL_NAMES_new()) == NULL) ||
            (copy = GENERAL_NAME_dup(gn)) == NULL)
            return cmpca_err_ossl(err, FI_SYSTEM_FAILURE, "out of memory");
        if (!sk_GENERAL_NAME_push(g->san, copy)) {
            GENERAL_NAME_free(copy);
            return cmpca_err_ossl(err, FI_SYSTEM_FAILURE, "out of memory");
        }
    }
    return 0;
}

static int grant_san(const struct cmpca_profile *p, X509_EXTENSION *ext,
                     struct policy_grant *g, struct cmpca_err *err)
{
    GENERAL_NAMES *req = X509V3_EXT_d2i(ext);
    int rc = 0;

    if (req == NULL)
        return cmpca_err_ossl(err, FI_BAD_CERT_TEMPLATE,
                              "unreadable subjectAltName in template");
    if (p->san == SAN_FROM_TEMPLATE)
        rc = copy_alt_names(p, req, g, err);
    else if (p->clamp)
        g->modified = 1;
    else
        rc = cmpca_err_set(err, FI_BAD_CERT_TEMPLATE,
                           "profile %s issues no subjectAltName", p->name);
    GENERAL_NAMES_free(req);
    return rc;
}

/* Checks every template extension; only basicConstraints and the SAN
 * matter, the profile sets the rest. */
static int grant_extensions(const struct cmpca_profile *p,
                            const STACK_OF(X509_EXTENSION) *exts,
                            struct policy_grant *g, struct cmpca_err *err)
{
    int n = sk_X509_EXTENSION_num(exts), i, j;
    X509_EXTENSION *ext;
    const ASN1_OBJECT *obj;

    if (n > POLICY_MAX_TEMPLATE_EXTS)
        return cmpca_err_set(err, FI_BAD_CERT_TEMPLATE,
                             "template has more than %d extensions",
                             POLICY_MAX_TEMPLATE_EXTS);
    for (i = 0; i < n; i++) {
        ext = sk_X509_EXTENSION_value(exts, i);
        obj = X509_EXTENSION_get_object(ext);
        for (j = 0; j < i; j++)
            if (OBJ_cmp(obj, X509_EXTENSION_get_object(
                                 sk_X509_EXTENSION_value(exts, j))) == 0)
                return cmpca_err_set(err, FI_BAD_CERT_TEMPLATE,
                                     "duplicate extension in template");
        switch (OBJ_obj2nid(obj)) {
        case NID_basic_constraints:
            if (check_basic_constraints(ext, err) != 0)
                return -1;
            break;
        case NID_subject_alt_name:
            if (grant_san(p, ext, g, err) != 0)
                return -1;
            break;
        default:
            break; /* keyUsage, EKU...: ours come from the profile */
        }
    }
    return 0;
}

/* A shorter requested validity is honoured, a longer one clamped or
 * refused; notBefore is always `now`. */
static int grant_validity(const struct cmpca_profile *p,
                          const ASN1_TIME *not_after, time_t now,
                          struct policy_grant *g, struct cmpca_err *err)
{
    ASN1_TIME *from = NULL;
    int days = 0, secs = 0, ok;
    long long diff, want;

    g->not_before = now;
    g->validity_days = p->validity_days;
    if (not_after == NULL)
        return 0;
    from = ASN1_TIME_set(NULL, now);
    ok = from != NULL && ASN1_TIME_diff(&days, &secs, from, not_after);
    ASN1_TIME_free(from);
    if (!ok)
        return cmpca_err_ossl(err, FI_BAD_CERT_TEMPLATE,
                              "unreadable notAfter in template");
    diff = days * DAY_SEC + secs;
    if (diff <= 0)
        return cmpca_err_set(err, FI_BAD_CERT_TEMPLATE,
                             "requested notAfter is not in the future");
    want = (diff - POLICY_VALIDITY_SLACK_SEC + DAY_SEC - 1) / DAY_SEC;
    if (want < 1)
        want = 1;
    if (want <= p->validity_days) {
        g->validity_days = (int)want;
        return 0;
    }
    if (!p->clamp)
        return cmpca_err_set(err, FI_BAD_CERT_TEMPLATE,
                             "requested validity of %lld days exceeds the %d "
                             "of profile %s",
                             want, p->validity_days, p->name);
    g->modified = 1;
    return 0;
}

/* The profile's keyUsage cut to what the key type may carry. */
static int grant_key_usage(const struct cmpca_profile *p, const EVP_PKEY *key,
                           struct policy_grant *g, struct cmpca_err *err)
{
    g->key_usage = p->key_usage & key_usage_fit(key);
    if (p->key_usage != 0 && g->key_usage == 0)
        return cmpca_err_set(err, FI_BAD_CERT_TEMPLATE,
                             "the key usage of profile %s does not fit a "
                             "%s key",
                             p->name, EVP_PKEY_get0_type_name(key));
    return 0;
}

int policy_grant_new(const struct cmpca_profile *p,
                     const struct policy_device *dev,
                     const struct policy_request *r, time_t now,
                     struct policy_grant **out, struct cmpca_err *err)
{
    struct policy_grant *g = NULL;
    int rc = -1;

    *out = NULL;
    if (policy_check_profile_key(p, r->pubkey, err) != 0)
        goto done;
    if ((g = calloc(1, sizeof(*g))) == NULL) {
        cmpca_err_set(err, FI_SYSTEM_FAILURE, "out of memory");
        goto done;
    }
    if (grant_extensions(p, r->exts, g, err) != 0 ||
        grant_subject(p, dev, r->subject, g, err) != 0 ||
        grant_validity(p, r->not_after, now, g, err) != 0 ||
        grant_key_usage(p, r->pubkey, g, err) != 0)
        goto done;
    g->eku_nids = p->eku_nids;
    g->num_eku = p->num_eku;
    g->crl_url = p->crl_url;
    *out = g;
    g = NULL;
    rc = 0;
done:
    policy_grant_free(g);
    return rc;
}

void policy_grant_free(struct policy_grant *g)
{
    if (g == NULL)
        return;
    X509_NAME_free(g->subject);
    GENERAL_NAMES_free(g->san);
    free(g);
}
