/*
 * test_genm_client.c: genm as OpenSSL 3.0 sends it. First the committed
 * requests of `openssl cmp -cmd genm -infotype ...` (tests/unit/data/genm,
 * see README.md there) go through cmp_asn1_decode_msg and the handler.
 * Then OpenSSL's own client (OSSL_CMP_exec_GENM_ses) talks to the handler
 * through a transfer callback: it must accept our signed genp (nonces,
 * transactionID, sender, protection) and return our ITAVs to its caller.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/cmp.h>
#include <openssl/err.h>

#include "check.h"
#include "test_genm.h"

#ifndef GENM_TEST_DATA
#define GENM_TEST_DATA "tests/unit/data/genm"
#endif

static CMPCA_PKIMESSAGE *read_msg(const char *file)
{
    char path[512];
    unsigned char buf[4096];
    size_t n;
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", GENM_TEST_DATA, file);
    if ((f = fopen(path, "rb")) == NULL) {
        perror(path);
        return NULL;
    }
    n = fread(buf, 1, sizeof(buf), f);
    fclose(f);
    return cmp_asn1_decode_msg(buf, n);
}

/* Runs data file `file` under `profile` and checks that the genp's only
 * ITAV is id-it `arc`, with a value or not as `with_value` says (arc 0:
 * an empty genp). Returns the genp (caller frees) for more checks. */
static CMPCA_PKIMESSAGE *check_file(struct genm_fx *fx, const char *file,
                                    const struct cmpca_profile *profile,
                                    int arc, int with_value)
{
    CMPCA_PKIMESSAGE *req = read_msg(file);
    CMPCA_PKIMESSAGE *rsp = req != NULL ? genm_fx_run(fx, req, profile) : NULL;
    const CMPCA_ITAV *itav;

    CHECK(req != NULL && req->body->type == CMPCA_BODY_GENM);
    if (arc == 0) {
        CHECK(genp_of(rsp) != NULL && sk_CMPCA_ITAV_num(genp_of(rsp)) == 0);
    } else {
        if ((itav = genp_single(rsp, arc)) == NULL)
            fprintf(stderr, "%s: no single ITAV id-it %d\n", file, arc);
        CHECK(itav != NULL && (itav->infoValue != NULL) == with_value);
    }
    CMPCA_PKIMESSAGE_free(req);
    return rsp;
}

static void test_files(struct genm_fx *fx)
{
    struct cmpca_profile p = {0};
    STACK_OF(X509) *certs = NULL;
    const CMPCA_ITAV *itav;
    CMPCA_PKIMESSAGE *rsp;

    p.name = "files";
    p.key_types = PROFILE_KEY_EC_P256;
    rsp = check_file(fx, "caCerts.der", NULL, CMPCA_IT_CA_CERTS, 1);
    if ((itav = genp_single(rsp, CMPCA_IT_CA_CERTS)) != NULL)
        certs = cmp_asn1_itav_unpack(itav->infoValue,
                                     ASN1_ITEM_rptr(CMPCA_CA_CERTS_VALUE));
    CHECK(sk_X509_num(certs) == 2 &&
          X509_cmp(sk_X509_value(certs, 0), ca_get0_cert(fx->ca)) == 0 &&
          X509_cmp(sk_X509_value(certs, 1), ca_get0_root(fx->ca)) == 0);
    sk_X509_pop_free(certs, X509_free);
    CMPCA_PKIMESSAGE_free(rsp);
    CMPCA_PKIMESSAGE_free(check_file(fx, "certReqTemplate.der", NULL,
                                     CMPCA_IT_CERT_REQ_TEMPLATE, 0));
    CMPCA_PKIMESSAGE_free(check_file(fx, "certReqTemplate.der", &p,
                                     CMPCA_IT_CERT_REQ_TEMPLATE, 1));
    CMPCA_PKIMESSAGE_free(check_file(fx, "rootCaKeyUpdate.der", NULL,
                                     CMPCA_IT_ROOT_CA_KEY_UPDATE, 0));
    CMPCA_PKIMESSAGE_free(check_file(fx, "signKeyPairTypes.der", NULL, 0, 0));
}

/* OpenSSL's request -> DER -> our decoder -> handler -> cmp_protect -> DER
 * -> OpenSSL's decoder. */
static OSSL_CMP_MSG *transfer(OSSL_CMP_CTX *ctx, const OSSL_CMP_MSG *req)
{
    struct genm_fx *fx = OSSL_CMP_CTX_get_transfer_cb_arg(ctx);
    BIO *mem = BIO_new(BIO_s_mem()), *in = NULL;
    CMPCA_PKIMESSAGE *msg = NULL, *rsp = NULL;
    OSSL_CMP_MSG *out = NULL;
    unsigned char *der = NULL;
    char *data = NULL;
    long len;
    int rlen;

    if (mem == NULL || i2d_OSSL_CMP_MSG_bio(mem, req) <= 0 ||
        (len = BIO_get_mem_data(mem, &data)) <= 0 ||
        (msg = cmp_asn1_decode_msg((unsigned char *)data, (size_t)len)) ==
            NULL ||
        (rsp = genm_fx_answer(fx, msg, NULL, 1)) == NULL ||
        (rlen = i2d_CMPCA_PKIMESSAGE(rsp, &der)) <= 0 ||
        (in = BIO_new_mem_buf(der, rlen)) == NULL)
        goto done;
    out = d2i_OSSL_CMP_MSG_bio(in, NULL);
done:
    BIO_free(in);
    BIO_free(mem);
    OPENSSL_free(der);
    CMPCA_PKIMESSAGE_free(rsp);
    CMPCA_PKIMESSAGE_free(msg);
    return out;
}

/* An OpenSSL client context over `transfer`, MAC-protecting its requests
 * and pinning our CA certificate for the responses, asking for `nids`. */
static OSSL_CMP_CTX *client_new(struct genm_fx *fx, const int *nids, int n)
{
    OSSL_CMP_CTX *ctx = OSSL_CMP_CTX_new(NULL, NULL);
    OSSL_CMP_ITAV *itav;
    int i;

    if (ctx == NULL || !OSSL_CMP_CTX_set_log_verbosity(ctx, OSSL_CMP_LOG_ERR) ||
        !OSSL_CMP_CTX_set_transfer_cb(ctx, transfer) ||
        !OSSL_CMP_CTX_set_transfer_cb_arg(ctx, fx) ||
        !OSSL_CMP_CTX_set1_srvCert(ctx, ca_get0_cert(fx->ca)) ||
        !OSSL_CMP_CTX_set1_referenceValue(ctx, (const unsigned char *)"1234",
                                          4) ||
        !OSSL_CMP_CTX_set1_secretValue(ctx, (const unsigned char *)"s3cret", 6))
        goto err;
    for (i = 0; i < n; i++) {
        itav = OSSL_CMP_ITAV_create(OBJ_nid2obj(nids[i]), NULL);
        if (itav == NULL || !OSSL_CMP_CTX_push0_genm_ITAV(ctx, itav)) {
            OSSL_CMP_ITAV_free(itav);
            goto err;
        }
    }
    return ctx;
err:
    OSSL_CMP_CTX_free(ctx);
    return NULL;
}

static void test_openssl_client(struct genm_fx *fx)
{
    static const int one[] = {NID_id_it_caCerts};
    static const int two[] = {NID_id_it_rootCaKeyUpdate,
                              NID_id_it_certReqTemplate};
    OSSL_CMP_CTX *ctx = client_new(fx, one, 1);
    STACK_OF(OSSL_CMP_ITAV) *res = NULL;
    STACK_OF(X509) *certs = NULL;
    const OSSL_CMP_ITAV *itav;

    if (ctx != NULL)
        res = OSSL_CMP_exec_GENM_ses(ctx);
    if (res == NULL)
        ERR_print_errors_fp(stderr);
    CHECK_INT_EQ(sk_OSSL_CMP_ITAV_num(res), 1);
    itav = sk_OSSL_CMP_ITAV_value(res, 0);
    CHECK(itav != NULL &&
          OBJ_obj2nid(OSSL_CMP_ITAV_get0_type(itav)) == NID_id_it_caCerts);
    if (itav != NULL)
        certs = cmp_asn1_itav_unpack(OSSL_CMP_ITAV_get0_value(itav),
                                     ASN1_ITEM_rptr(CMPCA_CA_CERTS_VALUE));
    CHECK(sk_X509_num(certs) == 2 &&
          X509_cmp(sk_X509_value(certs, 0), ca_get0_cert(fx->ca)) == 0);
    sk_X509_pop_free(certs, X509_free);
    sk_OSSL_CMP_ITAV_pop_free(res, OSSL_CMP_ITAV_free);
    OSSL_CMP_CTX_free(ctx);

    /* two ITAVs: two answers, in order, both without value */
    res = NULL;
    if ((ctx = client_new(fx, two, 2)) != NULL)
        res = OSSL_CMP_exec_GENM_ses(ctx);
    if (res == NULL)
        ERR_print_errors_fp(stderr);
    CHECK_INT_EQ(sk_OSSL_CMP_ITAV_num(res), 2);
    if (sk_OSSL_CMP_ITAV_num(res) == 2) {
        itav = sk_OSSL_CMP_ITAV_value(res, 0);
        CHECK(OBJ_obj2nid(OSSL_CMP_ITAV_get0_type(itav)) ==
                  NID_id_it_rootCaKeyUpdate &&
              OSSL_CMP_ITAV_get0_value(itav) == NULL);
        itav = sk_OSSL_CMP_ITAV_value(res, 1);
        CHECK(OBJ_obj2nid(OSSL_CMP_ITAV_get0_type(itav)) ==
                  NID_id_it_certReqTemplate &&
              OSSL_CMP_ITAV_get0_value(itav) == NULL);
    }
    sk_OSSL_CMP_ITAV_pop_free(res, OSSL_CMP_ITAV_free);
    OSSL_CMP_CTX_free(ctx);
    ERR_clear_error();
}

int test_genm_client(struct genm_fx *fx)
{
    test_files(fx);
    test_openssl_client(fx);
    return CHECK_RESULT();
}
