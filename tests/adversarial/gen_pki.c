/*
 * gen_pki.c: the certificate commands of adv_gen.
 *
 * The committed test PKI (pki/, made by pki/make.sh) needs certificates
 * with chosen dates (expired in 2021, valid from 2090) and chosen flaws (a
 * forged intermediate, a device certificate whose key may not sign), which
 * `openssl x509 -req` 3.0 cannot set. `reissue` turns an operator
 * certificate the server issued into an expired one signed by the same CA
 * key, to stand in for the passage of time in the kur case. `certout`
 * pulls the certificate out of a saved ip/cp/kup.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "gen.h"

/* The value of option `name` in argv (argv[i] == name), or NULL. */
static const char *opt(int argc, char **argv, const char *name)
{
    for (int i = 0; i + 1 < argc; i++)
        if (strcmp(argv[i], name) == 0)
            return argv[i + 1];
    return NULL;
}

static int flag(int argc, char **argv, const char *name)
{
    for (int i = 0; i < argc; i++)
        if (strcmp(argv[i], name) == 0)
            return 1;
    return 0;
}

static const char *need(int argc, char **argv, const char *name)
{
    const char *v = opt(argc, argv, name);

    if (v == NULL) {
        fprintf(stderr, "adv_gen: missing %s\n", name);
        exit(2);
    }
    return v;
}

static void add_ext(X509 *cert, X509V3_CTX *ctx, int nid, const char *value)
{
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, ctx, nid, value);

    if (ext == NULL || !X509_add_ext(cert, ext, -1))
        gen_die("certificate extension");
    X509_EXTENSION_free(ext);
}

static void set_dates(X509 *cert, int argc, char **argv)
{
    ASN1_TIME *from = gen_time(need(argc, argv, "--from"));
    ASN1_TIME *to = gen_time(need(argc, argv, "--to"));

    if (!X509_set1_notBefore(cert, from) || !X509_set1_notAfter(cert, to))
        gen_die("validity");
    ASN1_TIME_free(from);
    ASN1_TIME_free(to);
}

static void random_serial(X509 *cert)
{
    BIGNUM *bn = BN_new();

    /* 95 random bits, positive: like the vendors' own serials */
    if (bn == NULL || !BN_rand(bn, 95, BN_RAND_TOP_ONE, BN_RAND_BOTTOM_ANY) ||
        BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert)) == NULL)
        gen_die("serial");
    BN_free(bn);
}

/* mkcert OUT --key NAME --subject DN (--self|--issuer NAME)
 *        [--sign-key NAME] --from T --to T [--ca|--leaf|--leaf-noku] */
int gen_cmd_mkcert(const struct gen_dirs *d, int argc, char **argv)
{
    const char *issuer_name = opt(argc, argv, "--issuer");
    const char *sign_name = opt(argc, argv, "--sign-key");
    X509 *cert = X509_new(), *issuer = NULL;
    EVP_PKEY *key, *sign_key;
    X509_NAME *subject;
    X509V3_CTX ctx;

    if (argc < 1 || cert == NULL)
        gen_die("mkcert: usage");
    key = gen_load_key(d, need(argc, argv, "--key"));
    subject = gen_parse_name(need(argc, argv, "--subject"));
    if (!flag(argc, argv, "--self") && issuer_name == NULL)
        gen_die("mkcert: --self or --issuer");
    if (issuer_name != NULL)
        issuer = gen_load_cert(d, issuer_name);
    sign_key = sign_name != NULL     ? gen_load_key(d, sign_name)
               : issuer_name != NULL ? gen_load_key(d, issuer_name)
                                     : (EVP_PKEY_up_ref(key), key);
    if (!X509_set_version(cert, X509_VERSION_3) ||
        !X509_set_subject_name(cert, subject) ||
        !X509_set_issuer_name(
            cert, issuer != NULL ? X509_get_subject_name(issuer) : subject) ||
        !X509_set_pubkey(cert, key))
        gen_die("mkcert");
    random_serial(cert);
    set_dates(cert, argc, argv);
    X509V3_set_ctx(&ctx, issuer != NULL ? issuer : cert, cert, NULL, NULL, 0);
    if (flag(argc, argv, "--ca")) {
        add_ext(cert, &ctx, NID_basic_constraints, "critical,CA:TRUE");
        add_ext(cert, &ctx, NID_key_usage, "critical,keyCertSign,cRLSign");
    } else {
        add_ext(cert, &ctx, NID_basic_constraints, "critical,CA:FALSE");
        add_ext(cert, &ctx, NID_key_usage,
                flag(argc, argv, "--leaf-noku") ? "critical,keyEncipherment"
                                                : "critical,digitalSignature");
    }
    add_ext(cert, &ctx, NID_subject_key_identifier, "hash");
    add_ext(cert, &ctx, NID_authority_key_identifier, "keyid:always");
    if (X509_sign(cert, sign_key, EVP_sha256()) <= 0)
        gen_die("mkcert: signing");
    gen_write_pem_cert(argv[0], cert);
    X509_NAME_free(subject);
    X509_free(issuer);
    X509_free(cert);
    EVP_PKEY_free(key);
    EVP_PKEY_free(sign_key);
    return 0;
}

/* reissue IN OUT --ca NAME --from T --to T: the same certificate (serial,
 * subject, key, extensions) with other dates, signed again by NAME.key. */
int gen_cmd_reissue(const struct gen_dirs *d, int argc, char **argv)
{
    X509 *cert;
    EVP_PKEY *ca_key;

    if (argc < 2)
        gen_die("reissue: usage");
    cert = gen_load_cert(d, argv[0]);
    ca_key = gen_load_key(d, need(argc, argv, "--ca"));
    set_dates(cert, argc, argv);
    if (X509_sign(cert, ca_key, EVP_sha256()) <= 0)
        gen_die("reissue: signing");
    gen_write_pem_cert(argv[1], cert);
    X509_free(cert);
    EVP_PKEY_free(ca_key);
    return 0;
}

/* mkcrl OUT --issuer NAME --from T --to T [--revoke NAME]... */
int gen_cmd_mkcrl(const struct gen_dirs *d, int argc, char **argv)
{
    const char *issuer_name = need(argc, argv, "--issuer");
    X509 *issuer = gen_load_cert(d, issuer_name), *victim;
    EVP_PKEY *key = gen_load_key(d, issuer_name);
    X509_CRL *crl = X509_CRL_new();
    ASN1_TIME *from = gen_time(need(argc, argv, "--from"));
    ASN1_TIME *to = gen_time(need(argc, argv, "--to"));
    X509_REVOKED *rev;
    FILE *f;

    if (crl == NULL || !X509_CRL_set_version(crl, X509_CRL_VERSION_2) ||
        !X509_CRL_set_issuer_name(crl, X509_get_subject_name(issuer)) ||
        !X509_CRL_set1_lastUpdate(crl, from) ||
        !X509_CRL_set1_nextUpdate(crl, to))
        gen_die("mkcrl");
    for (int i = 1; i + 1 < argc; i++) {
        if (strcmp(argv[i], "--revoke") != 0)
            continue;
        victim = gen_load_cert(d, argv[i + 1]);
        if ((rev = X509_REVOKED_new()) == NULL ||
            !X509_REVOKED_set_serialNumber(rev,
                                           X509_get_serialNumber(victim)) ||
            !X509_REVOKED_set_revocationDate(rev, from) ||
            !X509_CRL_add0_revoked(crl, rev))
            gen_die("mkcrl: entry");
        X509_free(victim);
    }
    if (!X509_CRL_sort(crl) || X509_CRL_sign(crl, key, EVP_sha256()) <= 0 ||
        (f = fopen(argv[0], "w")) == NULL || PEM_write_X509_CRL(f, crl) != 1 ||
        fclose(f) != 0)
        gen_die("mkcrl: signing or writing");
    ASN1_TIME_free(from);
    ASN1_TIME_free(to);
    X509_CRL_free(crl);
    X509_free(issuer);
    EVP_PKEY_free(key);
    return 0;
}

/* certout RSP.der OUT.pem */
int gen_cmd_certout(int argc, char **argv)
{
    CMPCA_PKIMESSAGE *m;
    X509 *cert;

    if (argc != 2)
        gen_die("certout: usage");
    m = gen_read_msg(argv[0]);
    if ((cert = gen_msg_cert(m)) == NULL)
        gen_die("certout: the response carries no certificate");
    gen_write_pem_cert(argv[1], cert);
    CMPCA_PKIMESSAGE_free(m);
    return 0;
}

/* The first PKIStatusInfo of a response: of an error, of the first
 * CertResponse of an ip/cp/kup, or the first of an rp. Borrowed. */
static const CMPCA_PKISTATUSINFO *first_status(const CMPCA_PKIMESSAGE *m)
{
    const CMPCA_PKIBODY *b = m->body;

    switch (b->type) {
    case CMPCA_BODY_ERROR:
        return b->value.error->pKIStatusInfo;
    case CMPCA_BODY_IP:
    case CMPCA_BODY_CP:
    case CMPCA_BODY_KUP:
        if (sk_CMPCA_CERT_RESPONSE_num(b->value.ip->response) < 1)
            return NULL;
        return sk_CMPCA_CERT_RESPONSE_value(b->value.ip->response, 0)->status;
    case CMPCA_BODY_RP:
        return sk_CMPCA_PKISTATUSINFO_value(b->value.rp->status, 0);
    default:
        return NULL;
    }
}

/* statustext RSP.der: the statusString of its first PKIStatusInfo, one
 * line, the strings separated by " | "; nothing when there is none. */
int gen_cmd_statustext(int argc, char **argv)
{
    CMPCA_PKIMESSAGE *m;
    const CMPCA_PKISTATUSINFO *si;

    if (argc != 1)
        gen_die("statustext: usage");
    m = gen_read_msg(argv[0]);
    si = first_status(m);
    for (int i = 0; si != NULL && i < sk_ASN1_UTF8STRING_num(si->statusString);
         i++) {
        const ASN1_UTF8STRING *s =
            sk_ASN1_UTF8STRING_value(si->statusString, i);

        printf("%s%.*s", i > 0 ? " | " : "", ASN1_STRING_length(s),
               (const char *)ASN1_STRING_get0_data(s));
    }
    printf("\n");
    CMPCA_PKIMESSAGE_free(m);
    return 0;
}
