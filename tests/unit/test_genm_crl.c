/*
 * test_genm_crl.c: crlStatusList -> crls. The CRL comes from the store
 * (store_crl_get) and is published on demand (ca_crl_publish) when there is
 * none yet or it is past its nextUpdate. A client gets it only when one of
 * its CRLStatus entries names our CRL (our distribution point URI, or our
 * issuing CA as issuer) and has an older thisUpdate or none.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/x509v3.h>

#include "check.h"
#include "test_genm.h"

#define CRL_URL "http://127.0.0.1:8080/crl/ca.crl"

/* A CRLStatus naming the distribution point `uri`, or else the issuer
 * `issuer`; thisUpdate `tu` (copied, NULL: absent). New. */
static CMPCA_CRL_STATUS *status_new(const char *uri, const X509_NAME *issuer,
                                    const ASN1_TIME *tu)
{
    CMPCA_CRL_STATUS *st = CMPCA_CRL_STATUS_new();
    GENERAL_NAMES *names = sk_GENERAL_NAME_new_null();
    GENERAL_NAME *gn = GENERAL_NAME_new();
    ASN1_IA5STRING *ia5 = NULL;
    X509_NAME *dn = NULL;
    DIST_POINT_NAME *dpn = NULL;

    if (st == NULL || names == NULL || gn == NULL)
        goto err;
    if (uri != NULL) {
        if ((ia5 = ASN1_IA5STRING_new()) == NULL ||
            !ASN1_STRING_set(ia5, uri, -1))
            goto err;
        GENERAL_NAME_set0_value(gn, GEN_URI, ia5);
    } else {
        if ((dn = X509_NAME_dup(issuer)) == NULL)
            goto err;
        GENERAL_NAME_set0_value(gn, GEN_DIRNAME, dn);
    }
    ia5 = NULL;
    if (!sk_GENERAL_NAME_push(names, gn))
        goto err;
    gn = NULL;
    if (uri != NULL) {
        if ((dpn = DIST_POINT_NAME_new()) == NULL)
            goto err;
        dpn->type = 0; /* fullName */
        dpn->name.fullname = names;
        st->source->type = CMPCA_CRLSOURCE_DPN;
        st->source->value.dpn = dpn;
    } else {
        st->source->type = CMPCA_CRLSOURCE_ISSUER;
        st->source->value.issuer = names;
    }
    names = NULL;
    if (tu != NULL && (st->thisUpdate = ASN1_STRING_dup(tu)) == NULL)
        goto err;
    return st;
err:
    ASN1_IA5STRING_free(ia5);
    GENERAL_NAME_free(gn);
    GENERAL_NAMES_free(names);
    CMPCA_CRL_STATUS_free(st);
    return NULL;
}

/* A genm crlStatusList of `a` and, when not NULL, `b` (both taken). */
static CMPCA_PKIMESSAGE *crl_genm(CMPCA_CRL_STATUS *a, CMPCA_CRL_STATUS *b)
{
    STACK_OF(CMPCA_CRL_STATUS) *list = sk_CMPCA_CRL_STATUS_new_null();
    ASN1_TYPE *v = NULL;

    if (list != NULL && a != NULL && sk_CMPCA_CRL_STATUS_push(list, a)) {
        a = NULL;
        if (b == NULL || sk_CMPCA_CRL_STATUS_push(list, b)) {
            b = NULL;
            v = ASN1_TYPE_pack_sequence(ASN1_ITEM_rptr(CMPCA_CRL_STATUS_LIST),
                                        list, NULL);
        }
    }
    CMPCA_CRL_STATUS_free(a);
    CMPCA_CRL_STATUS_free(b);
    sk_CMPCA_CRL_STATUS_pop_free(list, CMPCA_CRL_STATUS_free);
    return v != NULL ? genm_one(CMPCA_IT_CRL_STATUS_LIST, v) : NULL;
}

/* Sends crlStatusList {a, b} under `profile`. Returns 1 when the genp has
 * an id-it-crls with exactly one CRL (*out, new), 0 when it has id-it-crls
 * without a value, -1 otherwise. */
static int ask(struct genm_fx *fx, const struct cmpca_profile *profile,
               CMPCA_CRL_STATUS *a, CMPCA_CRL_STATUS *b, X509_CRL **out)
{
    CMPCA_PKIMESSAGE *req = crl_genm(a, b);
    CMPCA_PKIMESSAGE *rsp = req != NULL ? genm_fx_run(fx, req, profile) : NULL;
    const CMPCA_ITAV *itav = genp_single(rsp, CMPCA_IT_CRLS);
    STACK_OF(X509_CRL) *crls = NULL;
    int ret = -1;

    *out = NULL;
    if (itav != NULL && itav->infoValue == NULL)
        ret = 0;
    else if (itav != NULL &&
             (crls = cmp_asn1_itav_unpack(
                  itav->infoValue, ASN1_ITEM_rptr(CMPCA_CRLS_VALUE))) != NULL &&
             sk_X509_CRL_num(crls) == 1) {
        *out = sk_X509_CRL_shift(crls);
        ret = 1;
    }
    sk_X509_CRL_pop_free(crls, X509_CRL_free);
    CMPCA_PKIMESSAGE_free(rsp);
    CMPCA_PKIMESSAGE_free(req);
    return ret;
}

static long crl_number(const X509_CRL *crl)
{
    ASN1_INTEGER *n = X509_CRL_get_ext_d2i(crl, NID_crl_number, NULL, NULL);
    long v = n != NULL ? ASN1_INTEGER_get(n) : -1;

    ASN1_INTEGER_free(n);
    return v;
}

/* First request: no CRL yet, so one is published and returned. */
static X509_CRL *first_crl(struct genm_fx *fx, const X509_NAME *ca_name)
{
    struct cmpca_err err = CMPCA_ERR_INIT;
    struct store_crl sc;
    X509_CRL *crl = NULL;

    memset(&sc, 0, sizeof(sc));
    CHECK_INT_EQ(store_crl_get(fx->st, fx->cfg->crl_name, &sc, &err),
                 STORE_NOTFOUND);
    CHECK_INT_EQ(ask(fx, NULL, status_new(NULL, ca_name, NULL), NULL, &crl), 1);
    if (crl == NULL)
        return NULL;
    CHECK(X509_NAME_cmp(X509_CRL_get_issuer(crl), ca_name) == 0);
    CHECK(X509_CRL_verify(crl, X509_get0_pubkey(ca_get0_cert(fx->ca))) == 1);
    CHECK_INT_EQ(store_crl_get(fx->st, fx->cfg->crl_name, &sc, &err), 0);
    CHECK(ASN1_TIME_cmp_time_t(X509_CRL_get0_lastUpdate(crl), sc.this_update) ==
          0);
    store_crl_clear(&sc);
    return crl;
}

static void check_ask(struct genm_fx *fx, const struct cmpca_profile *p,
                      CMPCA_CRL_STATUS *a, CMPCA_CRL_STATUS *b, int want,
                      const X509_CRL *same_as, const char *what)
{
    X509_CRL *crl = NULL;
    int got = ask(fx, p, a, b, &crl);

    if (got != want)
        fprintf(stderr, "crlStatusList %s: got %d, want %d\n", what, got, want);
    CHECK_INT_EQ(got, want);
    if (crl != NULL && same_as != NULL)
        CHECK(X509_CRL_cmp(crl, same_as) == 0 &&
              crl_number(crl) == crl_number(same_as));
    X509_CRL_free(crl);
}

static void test_sources(struct genm_fx *fx, const X509_CRL *crl,
                         const X509_NAME *ca_name)
{
    const ASN1_TIME *have = X509_CRL_get0_lastUpdate(crl);
    ASN1_TIME *old = ASN1_TIME_set(NULL, 946684800); /* 2000-01-01 */
    ASN1_TIME *later = ASN1_TIME_adj(NULL, time(NULL), 1, 0);
    X509_NAME *other = X509_NAME_new();
    struct cmpca_profile p = {0};

    p.name = "crl";
    p.crl_url = CRL_URL;
    X509_NAME_add_entry_by_txt(other, "CN", MBSTRING_ASC,
                               (const unsigned char *)"Someone Else", -1, -1,
                               0);
    check_ask(fx, NULL, status_new(NULL, ca_name, old), NULL, 1, crl,
              "issuer, older");
    check_ask(fx, NULL, status_new(NULL, ca_name, have), NULL, 0, NULL,
              "issuer, same thisUpdate");
    check_ask(fx, NULL, status_new(NULL, ca_name, later), NULL, 0, NULL,
              "issuer, newer");
    check_ask(fx, &p, status_new(CRL_URL, NULL, NULL), NULL, 1, crl,
              "our DP URI");
    check_ask(fx, &p, status_new(CRL_URL, NULL, have), NULL, 0, NULL,
              "our DP URI, same thisUpdate");
    check_ask(fx, NULL, status_new(CRL_URL, NULL, NULL), NULL, 0, NULL,
              "DP URI of no configured profile");
    check_ask(fx, &p, status_new("http://elsewhere/x.crl", NULL, NULL), NULL, 0,
              NULL, "other DP URI");
    check_ask(fx, &p, status_new(NULL, other, NULL), NULL, 0, NULL,
              "other issuer");
    check_ask(fx, &p, status_new(NULL, other, NULL),
              status_new(NULL, ca_name, old), 1, crl, "other + ours older");
    check_ask(fx, &p, status_new(NULL, ca_name, later),
              status_new(CRL_URL, NULL, NULL), 1, crl,
              "ours newer + ours without thisUpdate");
    ASN1_TIME_free(old);
    ASN1_TIME_free(later);
    X509_NAME_free(other);
}

/* A thisUpdate that is not a time: badDataFormat, not "no update". */
static void test_bad_time(struct genm_fx *fx, const X509_NAME *ca_name)
{
    ASN1_UTCTIME *bad = ASN1_UTCTIME_new();
    CMPCA_PKIMESSAGE *req = NULL, *rsp = NULL;

    if (bad != NULL && ASN1_STRING_set(bad, "99999999999999Z", -1))
        req = crl_genm(status_new(NULL, ca_name, bad), NULL);
    rsp = req != NULL ? genm_fx_run(fx, req, NULL) : NULL;
    CHECK(genm_is_error(rsp, FI_BAD_DATA_FORMAT));
    CMPCA_PKIMESSAGE_free(rsp);
    CMPCA_PKIMESSAGE_free(req);
    ASN1_UTCTIME_free(bad);
}

/* A CRL past its nextUpdate is replaced before it is handed out. */
static void test_expired(struct genm_fx *fx, const X509_CRL *crl,
                         const X509_NAME *ca_name)
{
    X509_CRL *fresh = NULL;

    fx->now = time(NULL) + fx->cfg->crl_validity + 60;
    CHECK_INT_EQ(ask(fx, NULL, status_new(NULL, ca_name, NULL), NULL, &fresh),
                 1);
    fx->now = 0;
    CHECK(fresh != NULL && crl_number(fresh) > crl_number(crl));
    X509_CRL_free(fresh);
}

/* The tagging, against DER written by hand from PKIXCMP-2023 (EXPLICIT
 * TAGS: CRLSource [0] and [1] are explicit; inside DistributionPointName,
 * from the IMPLICIT PKIX module, fullName [0] and the URI [6] are not). */
static void test_der(void)
{
    static const unsigned char dpn[] = {0x30, 0x07, 0xa0, 0x05, 0xa0,
                                        0x03, 0x86, 0x01, 0x75};
    static const unsigned char issuer[] = {
        0x30, 0x14, 0xa1, 0x12, 0x30, 0x10, 0xa4, 0x0e, 0x30, 0x0c, 0x31,
        0x0a, 0x30, 0x08, 0x06, 0x03, 0x55, 0x04, 0x03, 0x0c, 0x01, 0x41};
    X509_NAME *a = X509_NAME_new();
    CMPCA_CRL_STATUS *st;
    unsigned char *der = NULL;
    const unsigned char *p;
    int len;

    st = status_new("u", NULL, NULL);
    len = st != NULL ? i2d_CMPCA_CRL_STATUS(st, &der) : -1;
    CHECK(len == sizeof(dpn) && memcmp(der, dpn, sizeof(dpn)) == 0);
    OPENSSL_free(der);
    der = NULL;
    CMPCA_CRL_STATUS_free(st);
    X509_NAME_add_entry_by_txt(a, "CN", MBSTRING_UTF8,
                               (const unsigned char *)"A", -1, -1, 0);
    st = status_new(NULL, a, NULL);
    len = st != NULL ? i2d_CMPCA_CRL_STATUS(st, &der) : -1;
    CHECK(len == sizeof(issuer) && memcmp(der, issuer, sizeof(issuer)) == 0);
    OPENSSL_free(der);
    CMPCA_CRL_STATUS_free(st);
    p = issuer;
    st = d2i_CMPCA_CRL_STATUS(NULL, &p, sizeof(issuer));
    CHECK(
        st != NULL && st->source->type == CMPCA_CRLSOURCE_ISSUER &&
        st->thisUpdate == NULL &&
        X509_NAME_cmp(
            sk_GENERAL_NAME_value(st->source->value.issuer, 0)->d.directoryName,
            a) == 0);
    CMPCA_CRL_STATUS_free(st);
    X509_NAME_free(a);
}

int test_genm_crls(struct genm_fx *fx)
{
    const X509_NAME *ca_name = X509_get_subject_name(ca_get0_cert(fx->ca));
    X509_CRL *crl = first_crl(fx, ca_name);

    test_der();
    CHECK(crl != NULL);
    if (crl != NULL) {
        test_sources(fx, crl, ca_name);
        test_bad_time(fx, ca_name);
        test_expired(fx, crl, ca_name);
    }
    X509_CRL_free(crl);
    return CHECK_RESULT();
}
