/*
 * fuzz_seed_tool.c: helper of make_seeds.sh, not a test. `openssl cmp` 3.0
 * sends neither an error message nor a nested one, and the pipeline target
 * reads records rather than bare DER, so the seeds need a few
 * transformations the shell cannot do:
 *
 *   fuzz_seed_tool pack OUT FLAGS CTL IN.der [FLAGS CTL IN.der]...
 *       writes the records of fuzz_pipeline.c
 *   fuzz_seed_tool error IN.der OUT.der
 *       IN with its body replaced by an error (rejection, badRequest)
 *   fuzz_seed_tool nest OUT.der IN.der...
 *       a nested message holding the INs, with the first one's header
 *       (fresh transactionID and senderNonce) and extraCerts
 *   fuzz_seed_tool itavs IN.der OUTPREFIX
 *       each infoValue of a genm/genp as an input of fuzz_genm_itav
 *       (selector byte + value DER): OUTPREFIX-<infoType arc>
 *   fuzz_seed_tool seqof SEL OUT IN.der...
 *       selector SEL + SEQUENCE OF the INs (caCerts, crls values)
 *   fuzz_seed_tool crlstatus OUT
 *       selector 1 + a CRLStatusList naming a URI and an issuer
 *   fuzz_seed_tool pbmac1 IN.der OUT.der
 *       IN with PBMAC1 (PBKDF2 with HMAC-SHA256, 1000 iterations, then
 *       HMAC-SHA256) as protectionAlg: openssl cmp 3.0 only does PBM
 *
 * Protection is copied, not computed: the pipeline target re-signs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "asn1/cmp_asn1.h"

static int read_file(const char *path, uint8_t **out, size_t *out_len)
{
    FILE *f = fopen(path, "rb");
    uint8_t *buf = NULL;
    long len;

    *out = NULL;
    if (f == NULL)
        return -1;
    if (fseek(f, 0, SEEK_END) == 0 && (len = ftell(f)) > 0 &&
        fseek(f, 0, SEEK_SET) == 0 && (buf = malloc((size_t)len)) != NULL &&
        fread(buf, 1, (size_t)len, f) == (size_t)len) {
        *out = buf;
        *out_len = (size_t)len;
        buf = NULL;
    }
    free(buf);
    fclose(f);
    return *out != NULL ? 0 : -1;
}

static CMPCA_PKIMESSAGE *read_msg(const char *path)
{
    CMPCA_PKIMESSAGE *m = NULL;
    uint8_t *der = NULL;
    size_t len = 0;

    if (read_file(path, &der, &len) == 0)
        m = cmp_asn1_decode_msg(der, len);
    free(der);
    if (m == NULL)
        fprintf(stderr, "fuzz_seed_tool: %s: not a PKIMessage\n", path);
    return m;
}

static int write_msg(const char *path, const CMPCA_PKIMESSAGE *m)
{
    unsigned char *der = NULL;
    int len = i2d_CMPCA_PKIMESSAGE(m, &der);
    FILE *f = len > 0 ? fopen(path, "wb") : NULL;
    int ok = f != NULL && fwrite(der, 1, (size_t)len, f) == (size_t)len;

    if (f != NULL && fclose(f) != 0)
        ok = 0;
    OPENSSL_free(der);
    return ok ? 0 : -1;
}

static int cmd_pack(int argc, char **argv)
{
    FILE *f = fopen(argv[0], "wb");
    uint8_t *der = NULL, hdr[4];
    size_t len = 0;
    int i, rc = 0;

    if (f == NULL || (argc - 1) % 3 != 0 || argc < 4)
        rc = -1;
    for (i = 1; rc == 0 && i + 2 < argc; i += 3) {
        if (read_file(argv[i + 2], &der, &len) != 0 || len > 0xffff) {
            rc = -1;
            break;
        }
        hdr[0] = (uint8_t)strtol(argv[i], NULL, 0);
        hdr[1] = (uint8_t)strtol(argv[i + 1], NULL, 0);
        hdr[2] = (uint8_t)(len >> 8);
        hdr[3] = (uint8_t)len;
        if (fwrite(hdr, 1, 4, f) != 4 || fwrite(der, 1, len, f) != len)
            rc = -1;
        free(der);
        der = NULL;
    }
    if (f != NULL && fclose(f) != 0)
        rc = -1;
    return rc;
}

static int cmd_error(const char *in, const char *out)
{
    CMPCA_PKIMESSAGE *m = read_msg(in);
    CMPCA_ERROR_MSG_CONTENT *e = CMPCA_ERROR_MSG_CONTENT_new();
    int rc = -1;

    if (m == NULL || e == NULL ||
        !ASN1_INTEGER_set(e->pKIStatusInfo->status, CMPCA_STATUS_REJECTION) ||
        (e->pKIStatusInfo->failInfo = ASN1_BIT_STRING_new()) == NULL ||
        !ASN1_BIT_STRING_set_bit(e->pKIStatusInfo->failInfo, 2, 1) ||
        (e->errorCode = ASN1_INTEGER_new()) == NULL ||
        !ASN1_INTEGER_set(e->errorCode, 42))
        goto done;
    CMPCA_PKIBODY_free(m->body);
    if ((m->body = CMPCA_PKIBODY_new()) == NULL)
        goto done;
    m->body->type = CMPCA_BODY_ERROR;
    m->body->value.error = e;
    e = NULL;
    rc = write_msg(out, m);
done:
    CMPCA_ERROR_MSG_CONTENT_free(e);
    CMPCA_PKIMESSAGE_free(m);
    return rc;
}

static int cmd_nest(int argc, char **argv)
{
    CMPCA_PKIMESSAGE *outer = NULL, *in;
    STACK_OF(CMPCA_PKIMESSAGE) *sk = sk_CMPCA_PKIMESSAGE_new_null();
    unsigned char rnd[32];
    int i, rc = -1;

    if (sk == NULL || argc < 2 || RAND_bytes(rnd, sizeof(rnd)) <= 0)
        goto done;
    for (i = 1; i < argc; i++) {
        if ((in = read_msg(argv[i])) == NULL)
            goto done;
        if (!sk_CMPCA_PKIMESSAGE_push(sk, in)) {
            CMPCA_PKIMESSAGE_free(in);
            goto done;
        }
    }
    if ((outer = CMPCA_PKIMESSAGE_dup(sk_CMPCA_PKIMESSAGE_value(sk, 0))) ==
            NULL ||
        !ASN1_OCTET_STRING_set(outer->header->transactionID, rnd, 16) ||
        !ASN1_OCTET_STRING_set(outer->header->senderNonce, rnd + 16, 16))
        goto done;
    CMPCA_PKIBODY_free(outer->body);
    if ((outer->body = CMPCA_PKIBODY_new()) == NULL)
        goto done;
    outer->body->type = CMPCA_BODY_NESTED;
    outer->body->value.nested = sk;
    sk = NULL;
    rc = write_msg(argv[0], outer);
done:
    sk_CMPCA_PKIMESSAGE_pop_free(sk, CMPCA_PKIMESSAGE_free);
    CMPCA_PKIMESSAGE_free(outer);
    return rc;
}

/* fuzz_genm_itav.c's selector for the value of id-it `arc`, or -1. */
static int selector_of(const ASN1_OBJECT *type, int *arc)
{
    static const int map[][2] = {{CMPCA_IT_CERT_REQ_TEMPLATE, 0},
                                 {CMPCA_IT_CRL_STATUS_LIST, 1},
                                 {CMPCA_IT_CA_CERTS, 2},
                                 {CMPCA_IT_CRLS, 3},
                                 {CMPCA_IT_ROOT_CA_KEY_UPDATE, 4}};

    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
        if (cmp_asn1_oid_is_it(type, map[i][0])) {
            *arc = map[i][0];
            return map[i][1];
        }
    return -1;
}

static int write_sel(const char *path, int sel, const unsigned char *der,
                     int len)
{
    FILE *f = fopen(path, "wb");
    int ok = f != NULL && fputc(sel, f) != EOF &&
             fwrite(der, 1, (size_t)len, f) == (size_t)len;

    if (f != NULL && fclose(f) != 0)
        ok = 0;
    return ok ? 0 : -1;
}

static int cmd_itavs(const char *in, const char *prefix)
{
    CMPCA_PKIMESSAGE *m = read_msg(in);
    STACK_OF(CMPCA_ITAV) *sk;
    unsigned char *der = NULL;
    char path[4096];
    int i, sel, arc = 0, len, rc = 0;

    if (m == NULL || (m->body->type != CMPCA_BODY_GENM &&
                      m->body->type != CMPCA_BODY_GENP)) {
        CMPCA_PKIMESSAGE_free(m);
        return -1;
    }
    sk = m->body->value.genm;
    for (i = 0; i < sk_CMPCA_ITAV_num(sk); i++) {
        CMPCA_ITAV *itav = sk_CMPCA_ITAV_value(sk, i);

        if (itav->infoValue == NULL ||
            (sel = selector_of(itav->infoType, &arc)) < 0)
            continue;
        len = i2d_ASN1_TYPE(itav->infoValue, &der);
        snprintf(path, sizeof(path), "%s-%d", prefix, arc);
        if (len <= 0 || write_sel(path, sel, der, len) != 0)
            rc = -1;
        OPENSSL_free(der);
        der = NULL;
    }
    CMPCA_PKIMESSAGE_free(m);
    return rc;
}

static int cmd_seqof(int argc, char **argv)
{
    unsigned char *all = NULL, *grown;
    uint8_t *der = NULL;
    size_t len, total = 0;
    unsigned char hdr[4];
    int i, rc = -1;

    for (i = 2; i < argc; i++) {
        if (read_file(argv[i], &der, &len) != 0 ||
            (grown = realloc(all, total + len)) == NULL)
            goto done;
        all = grown;
        memcpy(all + total, der, len);
        total += len;
        free(der);
        der = NULL;
    }
    if (total > 0xffff || (grown = malloc(total + 4)) == NULL)
        goto done;
    hdr[0] = 0x30;
    hdr[1] = 0x82;
    hdr[2] = (unsigned char)(total >> 8);
    hdr[3] = (unsigned char)total;
    memcpy(grown, hdr, 4);
    memcpy(grown + 4, all, total);
    rc = write_sel(argv[1], (int)strtol(argv[0], NULL, 0), grown,
                   (int)total + 4);
    free(grown);
done:
    free(der);
    free(all);
    return rc;
}

static CMPCA_CRL_STATUS *crl_status_new(int by_issuer)
{
    CMPCA_CRL_STATUS *st = CMPCA_CRL_STATUS_new();
    GENERAL_NAME *gn = GENERAL_NAME_new();
    GENERAL_NAMES *names = GENERAL_NAMES_new();
    ASN1_IA5STRING *uri = ASN1_IA5STRING_new();
    const char *u = "http://fuzz.example/crl/ca.crl";

    if (st == NULL || gn == NULL || names == NULL || uri == NULL ||
        !ASN1_STRING_set(uri, u, (int)strlen(u)))
        goto err;
    GENERAL_NAME_set0_value(gn, GEN_URI, uri);
    uri = NULL;
    if (!sk_GENERAL_NAME_push(names, gn))
        goto err;
    gn = NULL;
    if (by_issuer) {
        st->source->type = CMPCA_CRLSOURCE_ISSUER;
        st->source->value.issuer = names;
    } else {
        if ((st->source->value.dpn = DIST_POINT_NAME_new()) == NULL)
            goto err;
        st->source->type = CMPCA_CRLSOURCE_DPN;
        st->source->value.dpn->type = 0;
        st->source->value.dpn->name.fullname = names;
    }
    names = NULL;
    if ((st->thisUpdate = ASN1_TIME_set(NULL, 1700000000)) == NULL)
        goto err;
    return st;
err:
    ASN1_IA5STRING_free(uri);
    GENERAL_NAME_free(gn);
    GENERAL_NAMES_free(names);
    CMPCA_CRL_STATUS_free(st);
    return NULL;
}

static int cmd_crlstatus(const char *out)
{
    CMPCA_CRL_STATUS_LIST *list = sk_CMPCA_CRL_STATUS_new_null();
    CMPCA_CRL_STATUS *st;
    unsigned char *der = NULL;
    int i, len, rc = -1;

    for (i = 0; list != NULL && i < 2; i++) {
        if ((st = crl_status_new(i)) == NULL ||
            !sk_CMPCA_CRL_STATUS_push(list, st)) {
            CMPCA_CRL_STATUS_free(st);
            goto done;
        }
    }
    if (list != NULL && (len = i2d_CMPCA_CRL_STATUS_LIST(list, &der)) > 0)
        rc = write_sel(out, 1, der, len);
done:
    OPENSSL_free(der);
    sk_CMPCA_CRL_STATUS_pop_free(list, CMPCA_CRL_STATUS_free);
    return rc;
}

static int cmd_pbmac1(const char *in, const char *out)
{
    static unsigned char salt[16] = "cmpca-fuzz-salt";
    CMPCA_PKIMESSAGE *m = read_msg(in);
    CMPCA_PBMAC1_PARAMS *p = CMPCA_PBMAC1_PARAMS_new();
    ASN1_STRING *seq = ASN1_STRING_type_new(V_ASN1_SEQUENCE);
    unsigned char *der = NULL;
    int len, rc = -1;

    if (m == NULL || p == NULL || seq == NULL)
        goto done;
    X509_ALGOR_free(p->keyDerivationFunc);
    if ((p->keyDerivationFunc = PKCS5_pbkdf2_set(
             1000, salt, sizeof(salt), NID_hmacWithSHA256, 32)) == NULL ||
        !X509_ALGOR_set0(p->messageAuthScheme, OBJ_nid2obj(NID_hmacWithSHA256),
                         V_ASN1_UNDEF, NULL) ||
        (len = i2d_CMPCA_PBMAC1_PARAMS(p, &der)) <= 0 ||
        !ASN1_STRING_set(seq, der, len))
        goto done;
    if (m->header->protectionAlg == NULL &&
        (m->header->protectionAlg = X509_ALGOR_new()) == NULL)
        goto done;
    if (!X509_ALGOR_set0(m->header->protectionAlg,
                         OBJ_txt2obj("1.2.840.113549.1.5.14", 1),
                         V_ASN1_SEQUENCE, seq))
        goto done;
    seq = NULL;
    rc = write_msg(out, m);
done:
    ASN1_STRING_free(seq);
    OPENSSL_free(der);
    CMPCA_PBMAC1_PARAMS_free(p);
    CMPCA_PKIMESSAGE_free(m);
    return rc;
}

int main(int argc, char **argv)
{
    int rc = -1;

    if (argc >= 3 && strcmp(argv[1], "pack") == 0)
        rc = cmd_pack(argc - 2, argv + 2);
    else if (argc == 4 && strcmp(argv[1], "error") == 0)
        rc = cmd_error(argv[2], argv[3]);
    else if (argc >= 4 && strcmp(argv[1], "nest") == 0)
        rc = cmd_nest(argc - 2, argv + 2);
    else if (argc == 4 && strcmp(argv[1], "itavs") == 0)
        rc = cmd_itavs(argv[2], argv[3]);
    else if (argc >= 5 && strcmp(argv[1], "seqof") == 0)
        rc = cmd_seqof(argc - 2, argv + 2);
    else if (argc == 3 && strcmp(argv[1], "crlstatus") == 0)
        rc = cmd_crlstatus(argv[2]);
    else if (argc == 4 && strcmp(argv[1], "pbmac1") == 0)
        rc = cmd_pbmac1(argv[2], argv[3]);
    else
        fprintf(stderr, "usage: fuzz_seed_tool pack OUT FLAGS CTL IN...\n"
                        "       fuzz_seed_tool error IN OUT\n"
                        "       fuzz_seed_tool nest OUT IN...\n"
                        "       fuzz_seed_tool itavs IN OUTPREFIX\n"
                        "       fuzz_seed_tool seqof SEL OUT IN...\n"
                        "       fuzz_seed_tool crlstatus OUT\n"
                        "       fuzz_seed_tool pbmac1 IN OUT\n");
    if (rc != 0)
        fprintf(stderr, "fuzz_seed_tool: %s failed\n",
                argc > 1 ? argv[1] : "command");
    return rc == 0 ? 0 : 1;
}
