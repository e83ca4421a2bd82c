/*
 * ca_key.c: the short list of key algorithms the operator PKI uses and the
 * digest that goes with each. The list is short on purpose: every device in
 * the field has to verify what these keys sign, and EC P-256/P-384 and RSA
 * are what constrained device stacks reliably implement. A key loaded from
 * disk is held to the same list, so ca_issue never meets a key it cannot
 * pick a digest for.
 */
#include "ca/ca_local.h"

#include <string.h>

#include <openssl/ec.h>
#include <openssl/objects.h>

static const struct {
    const char *name;
    int type;
} key_names[] = {
    {"ec-p256", CA_KEY_EC_P256},
    {"ec-p384", CA_KEY_EC_P384},
    {"rsa-2048", CA_KEY_RSA2048},
    {"rsa-3072", CA_KEY_RSA3072},
};

int ca_key_type_from_name(const char *name)
{
    size_t i;

    if (name == NULL)
        return -1;
    for (i = 0; i < sizeof(key_names) / sizeof(key_names[0]); i++)
        if (strcmp(name, key_names[i].name) == 0)
            return key_names[i].type;
    return -1;
}

int ca_key_generate(int type, EVP_PKEY **out, struct cmpca_err *err)
{
    EVP_PKEY *pk = NULL;

    *out = NULL;
    switch (type) {
    case CA_KEY_EC_P256:
        pk = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
        break;
    case CA_KEY_EC_P384:
        pk = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
        break;
    case CA_KEY_RSA2048:
        pk = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
        break;
    case CA_KEY_RSA3072:
        pk = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)3072);
        break;
    default:
        return cmpca_err_set(err, FI_SYSTEM_FAILURE, "unknown key type %d",
                             type);
    }
    if (pk == NULL)
        return cmpca_err_ossl(err, FI_SYSTEM_FAILURE, "key generation failed");
    *out = pk;
    return 0;
}

/* ec_curve_nid maps the key's group name to a NID; NID_undef if none. */
static int ec_curve_nid(const EVP_PKEY *key)
{
    char name[80];
    size_t len = 0;
    int nid;

    if (EVP_PKEY_get_group_name(key, name, sizeof(name), &len) <= 0)
        return NID_undef;
    nid = OBJ_txt2nid(name);
    if (nid == NID_undef)
        nid = EC_curve_nist2nid(name);
    return nid;
}

int ca_key_check(const EVP_PKEY *key, const EVP_MD **out_md,
                 struct cmpca_err *err)
{
    int nid;

    *out_md = NULL;
    if (key == NULL)
        return cmpca_err_set(err, FI_SYSTEM_FAILURE, "no CA key");
    if (EVP_PKEY_is_a(key, "EC")) {
        nid = ec_curve_nid(key);
        if (nid == NID_X9_62_prime256v1)
            *out_md = EVP_sha256();
        else if (nid == NID_secp384r1)
            *out_md = EVP_sha384();
        else
            return cmpca_err_set(err, FI_SYSTEM_FAILURE,
                                 "CA key: EC curve not P-256 or P-384");
        return 0;
    }
    if (EVP_PKEY_is_a(key, "RSA")) {
        if (EVP_PKEY_get_bits(key) < 2048)
            return cmpca_err_set(err, FI_SYSTEM_FAILURE,
                                 "CA key: RSA key shorter than 2048 bits");
        *out_md = EVP_sha256();
        return 0;
    }
    return cmpca_err_set(err, FI_SYSTEM_FAILURE,
                         "CA key: algorithm %s not supported (EC P-256, "
                         "P-384 or RSA)",
                         EVP_PKEY_get0_type_name(key) != NULL
                             ? EVP_PKEY_get0_type_name(key)
                             : "unknown");
}
