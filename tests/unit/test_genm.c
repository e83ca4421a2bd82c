/*
 * test_genm.c: genm -> genp (src/cmp/genm.c) against a real operator PKI
 * and store in a temp dir. Each request is built with our own asn1 types,
 * handed to cmp_handle_genm, and the genp is encoded and decoded again
 * before its ITAVs are checked: caCerts is the chain, rootCaKeyUpdate has
 * no value, certReqTemplate follows the profile, crlStatusList returns the
 * CRL only to a client with an older one, unknown infoTypes are left out,
 * malformed values get badDataFormat. test_genm_client.c adds the messages
 * of the real OpenSSL client.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "check.h"
#include "test_genm.h"
#include "util/log.h"

/* 1 when `obj` is the dotted OID `txt` (checked against OpenSSL's own
 * parser, not against our DER arcs). */
static int oid_is(const ASN1_OBJECT *obj, const char *txt)
{
    ASN1_OBJECT *want = OBJ_txt2obj(txt, 1);
    int same = want != NULL && OBJ_cmp(obj, want) == 0;

    ASN1_OBJECT_free(want);
    return same;
}

/* ---- fixture ----------------------------------------------------------- */

int genm_fx_init(struct genm_fx *fx)
{
    struct cmpca_err err = CMPCA_ERR_INIT;
    char root[128], cert[128], key[128], db[128];
    struct ca_create_opts o = {CA_KEY_EC_P256, "Genm Test", 3650, 365,
                               root,           cert,        key};

    memset(fx, 0, sizeof(*fx));
    snprintf(fx->dir, sizeof(fx->dir), "/tmp/test_genm.XXXXXX");
    if (mkdtemp(fx->dir) == NULL)
        return -1;
    snprintf(root, sizeof(root), "%s/root.pem", fx->dir);
    snprintf(cert, sizeof(cert), "%s/ca.pem", fx->dir);
    snprintf(key, sizeof(key), "%s/ca.key", fx->dir);
    snprintf(db, sizeof(db), "sqlite:%s/cmpca.db", fx->dir);
    if ((fx->cfg = config_defaults(fx->dir)) == NULL ||
        ca_create(&o, &err) != 0 ||
        ca_load(root, cert, key, &fx->ca, &err) != 0 ||
        store_open(db, &fx->st, &err) != 0 ||
        cmp_srv_new(fx->cfg, fx->ca, fx->st, &fx->srv, &err) != 0) {
        fprintf(stderr, "fixture: %s\n", err.msg);
        return -1;
    }
    return 0;
}

void genm_fx_cleanup(struct genm_fx *fx)
{
    char path[512];
    struct dirent *e;
    DIR *d;

    cmp_srv_free(fx->srv);
    store_close(fx->st);
    ca_free(fx->ca);
    config_free(fx->cfg);
    if (fx->dir[0] == '\0' || (d = opendir(fx->dir)) == NULL)
        return;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(path, sizeof(path), "%s/%s", fx->dir, e->d_name);
        unlink(path);
    }
    closedir(d);
    rmdir(fx->dir);
}

CMPCA_PKIMESSAGE *genm_fx_answer(struct genm_fx *fx,
                                 const CMPCA_PKIMESSAGE *req,
                                 const struct cmpca_profile *profile,
                                 int protect)
{
    struct cmp_req rq;
    CMPCA_PKIMESSAGE *rsp;

    memset(&rq, 0, sizeof(rq));
    rq.srv = fx->srv;
    rq.msg = req;
    rq.profile = profile;
    rq.body_type = req->body->type;
    rq.pvno = 2;
    rq.now = fx->now != 0 ? fx->now : time(NULL);
    rq.authenticated = 1;
    if (RAND_bytes(rq.nonce, sizeof(rq.nonce)) <= 0)
        return NULL;
    rsp = cmp_handle_genm(&rq);
    if (rsp != NULL && protect && cmp_protect(&rq, rsp) != 0) {
        CMPCA_PKIMESSAGE_free(rsp);
        return NULL;
    }
    return rsp;
}

CMPCA_PKIMESSAGE *genm_fx_run(struct genm_fx *fx, const CMPCA_PKIMESSAGE *req,
                              const struct cmpca_profile *profile)
{
    CMPCA_PKIMESSAGE *rsp = genm_fx_answer(fx, req, profile, 0), *back = NULL;
    unsigned char *der = NULL;
    int len;

    if (rsp != NULL && (len = i2d_CMPCA_PKIMESSAGE(rsp, &der)) > 0)
        back = cmp_asn1_decode_msg(der, (size_t)len);
    OPENSSL_free(der);
    CMPCA_PKIMESSAGE_free(rsp);
    return back;
}

/* ---- building requests ------------------------------------------------- */

CMPCA_PKIMESSAGE *genm_new(STACK_OF(CMPCA_ITAV) *itavs)
{
    CMPCA_PKIMESSAGE *m = CMPCA_PKIMESSAGE_new();
    X509_NAME *name = X509_NAME_new();
    unsigned char tid[16], nonce[16];
    CMPCA_PKIHEADER *h;

    if (m == NULL || name == NULL || RAND_bytes(tid, 16) <= 0 ||
        RAND_bytes(nonce, 16) <= 0 ||
        !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                    (const unsigned char *)"genm test device",
                                    -1, -1, 0))
        goto err;
    h = m->header;
    if (!ASN1_INTEGER_set(h->pvno, 2))
        goto err;
    GENERAL_NAME_set0_value(h->sender, GEN_DIRNAME, name);
    if ((name = X509_NAME_new()) == NULL) /* the sender owns the first */
        goto err;
    GENERAL_NAME_set0_value(h->recipient, GEN_DIRNAME, name);
    name = NULL;
    if ((h->transactionID = ASN1_OCTET_STRING_new()) == NULL ||
        !ASN1_OCTET_STRING_set(h->transactionID, tid, 16) ||
        (h->senderNonce = ASN1_OCTET_STRING_new()) == NULL ||
        !ASN1_OCTET_STRING_set(h->senderNonce, nonce, 16))
        goto err;
    m->body->type = CMPCA_BODY_GENM;
    m->body->value.genm = itavs;
    return m;
err:
    X509_NAME_free(name);
    CMPCA_PKIMESSAGE_free(m);
    sk_CMPCA_ITAV_pop_free(itavs, CMPCA_ITAV_free);
    return NULL;
}

CMPCA_ITAV *genm_itav_new(ASN1_OBJECT *type, ASN1_TYPE *value)
{
    CMPCA_ITAV *itav = CMPCA_ITAV_new();

    if (itav == NULL || type == NULL) {
        CMPCA_ITAV_free(itav);
        ASN1_OBJECT_free(type);
        ASN1_TYPE_free(value);
        return NULL;
    }
    ASN1_OBJECT_free(itav->infoType);
    itav->infoType = type;
    itav->infoValue = value;
    return itav;
}

CMPCA_PKIMESSAGE *genm_one(int arc, ASN1_TYPE *value)
{
    STACK_OF(CMPCA_ITAV) *sk = sk_CMPCA_ITAV_new_null();
    CMPCA_ITAV *itav = genm_itav_new(cmp_asn1_it_oid_new(arc), value);

    if (sk == NULL || itav == NULL || !sk_CMPCA_ITAV_push(sk, itav)) {
        CMPCA_ITAV_free(itav);
        sk_CMPCA_ITAV_free(sk);
        return NULL;
    }
    return genm_new(sk);
}

ASN1_TYPE *genm_int_value(long v)
{
    ASN1_TYPE *t = ASN1_TYPE_new();
    ASN1_INTEGER *i = ASN1_INTEGER_new();

    if (t == NULL || i == NULL || !ASN1_INTEGER_set(i, v)) {
        ASN1_TYPE_free(t);
        ASN1_INTEGER_free(i);
        return NULL;
    }
    ASN1_TYPE_set(t, V_ASN1_INTEGER, i);
    return t;
}

/* ---- reading answers --------------------------------------------------- */

STACK_OF(CMPCA_ITAV) *genp_of(const CMPCA_PKIMESSAGE *rsp)
{
    if (rsp == NULL || rsp->body->type != CMPCA_BODY_GENP) {
        fprintf(stderr, "expected a genp, got %s\n",
                rsp == NULL ? "nothing" : cmp_asn1_body_name(rsp->body->type));
        return NULL;
    }
    return rsp->body->value.genp;
}

const CMPCA_ITAV *genp_single(const CMPCA_PKIMESSAGE *rsp, int arc)
{
    STACK_OF(CMPCA_ITAV) *sk = genp_of(rsp);
    const CMPCA_ITAV *itav;
    char want[32];

    if (sk == NULL || sk_CMPCA_ITAV_num(sk) != 1)
        return NULL;
    itav = sk_CMPCA_ITAV_value(sk, 0);
    snprintf(want, sizeof(want), "1.3.6.1.5.5.7.4.%d", arc);
    return oid_is(itav->infoType, want) ? itav : NULL;
}

int genm_is_error(const CMPCA_PKIMESSAGE *rsp, int bit)
{
    const CMPCA_PKISTATUSINFO *si;

    if (rsp == NULL || rsp->body->type != CMPCA_BODY_ERROR)
        return 0;
    si = rsp->body->value.error->pKIStatusInfo;
    return ASN1_INTEGER_get(si->status) == CMPCA_STATUS_REJECTION &&
           si->failInfo != NULL && ASN1_BIT_STRING_get_bit(si->failInfo, bit);
}

/* ---- caCerts, rootCaKeyUpdate ----------------------------------------- */

static void test_ca_certs(struct genm_fx *fx)
{
    CMPCA_PKIMESSAGE *req = genm_one(CMPCA_IT_CA_CERTS, NULL);
    CMPCA_PKIMESSAGE *rsp = req != NULL ? genm_fx_run(fx, req, NULL) : NULL;
    const CMPCA_ITAV *itav = genp_single(rsp, CMPCA_IT_CA_CERTS);
    STACK_OF(X509) *certs = NULL;

    CHECK(itav != NULL);
    if (itav != NULL)
        certs = cmp_asn1_itav_unpack(itav->infoValue,
                                     ASN1_ITEM_rptr(CMPCA_CA_CERTS_VALUE));
    CHECK_INT_EQ(sk_X509_num(certs), 2);
    if (sk_X509_num(certs) == 2) {
        CHECK(X509_cmp(sk_X509_value(certs, 0), ca_get0_cert(fx->ca)) == 0);
        CHECK(X509_cmp(sk_X509_value(certs, 1), ca_get0_root(fx->ca)) == 0);
    }
    /* the genp answers this request */
    CHECK(rsp != NULL && ASN1_OCTET_STRING_cmp(rsp->header->recipNonce,
                                               req->header->senderNonce) == 0);
    sk_X509_pop_free(certs, X509_free);
    CMPCA_PKIMESSAGE_free(rsp);
    CMPCA_PKIMESSAGE_free(req);
}

/* rootCaCert with `value` (taken) or rootCaKeyUpdate (arc 18): always a
 * rootCaKeyUpdate without value, there was no rollover. */
static void check_root_update(struct genm_fx *fx, int arc, ASN1_TYPE *value)
{
    CMPCA_PKIMESSAGE *req = genm_one(arc, value);
    CMPCA_PKIMESSAGE *rsp = req != NULL ? genm_fx_run(fx, req, NULL) : NULL;
    const CMPCA_ITAV *itav = genp_single(rsp, CMPCA_IT_ROOT_CA_KEY_UPDATE);

    CHECK(itav != NULL);
    CHECK(itav != NULL && itav->infoValue == NULL);
    CMPCA_PKIMESSAGE_free(rsp);
    CMPCA_PKIMESSAGE_free(req);
}

static void test_root_update(struct genm_fx *fx)
{
    check_root_update(fx, CMPCA_IT_ROOT_CA_CERT,
                      ASN1_TYPE_pack_sequence(ASN1_ITEM_rptr(X509),
                                              ca_get0_root(fx->ca), NULL));
    /* not our root: logged, same answer */
    check_root_update(fx, CMPCA_IT_ROOT_CA_CERT,
                      ASN1_TYPE_pack_sequence(ASN1_ITEM_rptr(X509),
                                              ca_get0_cert(fx->ca), NULL));
    check_root_update(fx, CMPCA_IT_ROOT_CA_CERT, NULL);
    check_root_update(fx, CMPCA_IT_ROOT_CA_KEY_UPDATE, NULL);
}

/* ---- certReqTemplate --------------------------------------------------- */

static CMPCA_CERT_REQ_TEMPLATE *get_template(struct genm_fx *fx,
                                             const struct cmpca_profile *p)
{
    CMPCA_PKIMESSAGE *req = genm_one(CMPCA_IT_CERT_REQ_TEMPLATE, NULL);
    CMPCA_PKIMESSAGE *rsp = req != NULL ? genm_fx_run(fx, req, p) : NULL;
    const CMPCA_ITAV *itav = genp_single(rsp, CMPCA_IT_CERT_REQ_TEMPLATE);
    CMPCA_CERT_REQ_TEMPLATE *t = NULL;

    CHECK(itav != NULL);
    if (itav != NULL && p == NULL)
        CHECK(itav->infoValue == NULL); /* no profile: no requirements */
    if (itav != NULL && p != NULL)
        t = cmp_asn1_itav_unpack(itav->infoValue,
                                 ASN1_ITEM_rptr(CMPCA_CERT_REQ_TEMPLATE));
    CMPCA_PKIMESSAGE_free(rsp);
    CMPCA_PKIMESSAGE_free(req);
    return t;
}

/* keySpec[i] is id-regCtrl-algId for `alg` (with `curve` when non-zero). */
static int is_algid(const CMPCA_CERT_REQ_TEMPLATE *t, int i, int alg, int curve)
{
    const CMPCA_ATAV *a = sk_CMPCA_ATAV_value(t->keySpec, i);
    X509_ALGOR *x = NULL;
    const ASN1_OBJECT *obj = NULL;
    const void *param = NULL;
    int ptype = 0, ok = 0;

    if (a == NULL || !oid_is(a->type, "1.3.6.1.5.5.7.5.1.11") ||
        (x = cmp_asn1_itav_unpack(a->value, ASN1_ITEM_rptr(X509_ALGOR))) ==
            NULL)
        return 0;
    X509_ALGOR_get0(&obj, &ptype, &param, x);
    if (curve != 0)
        ok = OBJ_obj2nid(obj) == NID_X9_62_id_ecPublicKey &&
             ptype == V_ASN1_OBJECT && OBJ_obj2nid(param) == curve;
    else
        ok = OBJ_obj2nid(obj) == alg && ptype == V_ASN1_UNDEF;
    X509_ALGOR_free(x);
    return ok;
}

static int ext_index(const CMPCA_CERT_REQ_TEMPLATE *t, int nid)
{
    return X509v3_get_ext_by_NID(t->certTemplate->extensions, nid, -1);
}

static void test_template_device_subject(struct genm_fx *fx)
{
    struct cmpca_profile p = {0};
    CMPCA_CERT_REQ_TEMPLATE *t;
    EXTENDED_KEY_USAGE *eku = NULL;
    const CMPCA_ATAV *rsa;
    int i;

    p.name = "tpl";
    p.subject = SUBJECT_FROM_DEVICE;
    p.key_types = PROFILE_KEY_EC_P256 | PROFILE_KEY_EC_P384 |
                  PROFILE_KEY_ED25519 | PROFILE_KEY_RSA2048 |
                  PROFILE_KEY_RSA3072;
    p.num_eku = 2;
    p.eku_nids[0] = NID_server_auth;
    p.eku_nids[1] = NID_client_auth;
    CHECK(get_template(fx, NULL) == NULL);
    if ((t = get_template(fx, &p)) == NULL) {
        CHECK(!"template decodes");
        return;
    }
    CHECK(t->certTemplate->subject == NULL);   /* the CA derives it */
    CHECK(t->certTemplate->publicKey == NULL); /* RFC 9480: MUST NOT */
    CHECK(ext_index(t, NID_key_usage) < 0);    /* depends on the key: RSA */
    CHECK(ext_index(t, NID_subject_alt_name) < 0);
    i = ext_index(t, NID_ext_key_usage);
    CHECK(i >= 0);
    if (i >= 0)
        eku = X509V3_EXT_d2i(X509v3_get_ext(t->certTemplate->extensions, i));
    CHECK_INT_EQ(sk_ASN1_OBJECT_num(eku), 2);
    CHECK(OBJ_obj2nid(sk_ASN1_OBJECT_value(eku, 0)) == NID_server_auth);
    CHECK(OBJ_obj2nid(sk_ASN1_OBJECT_value(eku, 1)) == NID_client_auth);
    CHECK_INT_EQ(sk_CMPCA_ATAV_num(t->keySpec), 4);
    CHECK(is_algid(t, 0, 0, NID_X9_62_prime256v1));
    CHECK(is_algid(t, 1, 0, NID_secp384r1));
    CHECK(is_algid(t, 2, NID_ED25519, 0));
    rsa = sk_CMPCA_ATAV_value(t->keySpec, 3);
    CHECK(rsa != NULL && oid_is(rsa->type, "1.3.6.1.5.5.7.5.1.12") &&
          ASN1_TYPE_get(rsa->value) == V_ASN1_INTEGER &&
          ASN1_INTEGER_get(rsa->value->value.integer) == 2048);
    sk_ASN1_OBJECT_pop_free(eku, ASN1_OBJECT_free);
    CMPCA_CERT_REQ_TEMPLATE_free(t);
}

static void test_template_client_subject(struct genm_fx *fx)
{
    struct cmpca_profile p = {0};
    CMPCA_CERT_REQ_TEMPLATE *t;
    ASN1_BIT_STRING *ku = NULL;
    X509_EXTENSION *ext;
    int i;

    p.name = "tpl2";
    p.subject = SUBJECT_FROM_TEMPLATE;
    p.san = SAN_FROM_TEMPLATE;
    p.key_types = PROFILE_KEY_EC_P521;
    p.key_usage = KU_DIGITAL_SIGNATURE | KU_KEY_AGREEMENT;
    if ((t = get_template(fx, &p)) == NULL) {
        CHECK(!"template decodes");
        return;
    }
    CHECK(t->certTemplate->subject != NULL &&
          X509_NAME_entry_count(t->certTemplate->subject) == 0);
    CHECK(ext_index(t, NID_ext_key_usage) < 0);
    i = ext_index(t, NID_key_usage);
    CHECK(i >= 0);
    if (i >= 0) {
        ext = X509v3_get_ext(t->certTemplate->extensions, i);
        CHECK(X509_EXTENSION_get_critical(ext) == 1);
        ku = X509V3_EXT_d2i(ext);
    }
    CHECK(ku != NULL && ASN1_BIT_STRING_get_bit(ku, 0) &&
          ASN1_BIT_STRING_get_bit(ku, 4) && !ASN1_BIT_STRING_get_bit(ku, 2));
    i = ext_index(t, NID_subject_alt_name); /* empty: the client fills it */
    CHECK(i >= 0 && ASN1_STRING_length(X509_EXTENSION_get_data(
                        X509v3_get_ext(t->certTemplate->extensions, i))) == 0);
    CHECK_INT_EQ(sk_CMPCA_ATAV_num(t->keySpec), 1);
    CHECK(is_algid(t, 0, 0, NID_secp521r1));
    ASN1_BIT_STRING_free(ku);
    CMPCA_CERT_REQ_TEMPLATE_free(t);

    /* default key usage without RSA: digitalSignature alone (RFC 8813) */
    p.key_usage = 0;
    ku = NULL;
    if ((t = get_template(fx, &p)) != NULL &&
        (i = ext_index(t, NID_key_usage)) >= 0)
        ku = X509V3_EXT_d2i(X509v3_get_ext(t->certTemplate->extensions, i));
    CHECK(ku != NULL && ASN1_BIT_STRING_get_bit(ku, 0));
    for (i = 1; ku != NULL && i <= 8; i++)
        CHECK(!ASN1_BIT_STRING_get_bit(ku, i));
    ASN1_BIT_STRING_free(ku);
    CMPCA_CERT_REQ_TEMPLATE_free(t);
}

/* ---- unknown, empty, malformed ---------------------------------------- */

static void test_unknown_and_empty(struct genm_fx *fx)
{
    STACK_OF(CMPCA_ITAV) *sk = sk_CMPCA_ITAV_new_null();
    CMPCA_PKIMESSAGE *req, *rsp;

    /* signKeyPairTypes and a private OID around caCerts: only caCerts */
    sk_CMPCA_ITAV_push(
        sk, genm_itav_new(OBJ_nid2obj(NID_id_it_signKeyPairTypes), NULL));
    sk_CMPCA_ITAV_push(
        sk, genm_itav_new(cmp_asn1_it_oid_new(CMPCA_IT_CA_CERTS), NULL));
    sk_CMPCA_ITAV_push(
        sk, genm_itav_new(OBJ_txt2obj("1.2.3.4.5", 1), genm_int_value(7)));
    req = genm_new(sk);
    rsp = req != NULL ? genm_fx_run(fx, req, NULL) : NULL;
    CHECK(genp_single(rsp, CMPCA_IT_CA_CERTS) != NULL);
    CMPCA_PKIMESSAGE_free(rsp);
    CMPCA_PKIMESSAGE_free(req);

    req = genm_new(sk_CMPCA_ITAV_new_null());
    rsp = req != NULL ? genm_fx_run(fx, req, NULL) : NULL;
    CHECK(genp_of(rsp) != NULL && sk_CMPCA_ITAV_num(genp_of(rsp)) == 0);
    CMPCA_PKIMESSAGE_free(rsp);
    CMPCA_PKIMESSAGE_free(req);
}

static void check_rejected(struct genm_fx *fx, int arc, ASN1_TYPE *value,
                           int bit, const char *what)
{
    CMPCA_PKIMESSAGE *req = genm_one(arc, value);
    CMPCA_PKIMESSAGE *rsp = req != NULL ? genm_fx_run(fx, req, NULL) : NULL;

    if (!genm_is_error(rsp, bit))
        fprintf(stderr, "not rejected with bit %d: %s\n", bit, what);
    CHECK(genm_is_error(rsp, bit));
    CMPCA_PKIMESSAGE_free(rsp);
    CMPCA_PKIMESSAGE_free(req);
}

static void test_malformed(struct genm_fx *fx)
{
    STACK_OF(CMPCA_CRL_STATUS) *empty = sk_CMPCA_CRL_STATUS_new_null();
    STACK_OF(CMPCA_ITAV) *many = sk_CMPCA_ITAV_new_null();
    CMPCA_PKIMESSAGE *req, *rsp;
    int i;

    check_rejected(fx, CMPCA_IT_CRL_STATUS_LIST, genm_int_value(1),
                   FI_BAD_DATA_FORMAT, "crlStatusList INTEGER");
    check_rejected(fx, CMPCA_IT_CRL_STATUS_LIST, NULL, FI_BAD_DATA_FORMAT,
                   "crlStatusList absent");
    check_rejected(fx, CMPCA_IT_CRL_STATUS_LIST,
                   ASN1_TYPE_pack_sequence(
                       ASN1_ITEM_rptr(CMPCA_CRL_STATUS_LIST), empty, NULL),
                   FI_BAD_DATA_FORMAT, "crlStatusList empty");
    /* a SEQUENCE, but of certificates */
    check_rejected(fx, CMPCA_IT_CRL_STATUS_LIST,
                   ASN1_TYPE_pack_sequence(ASN1_ITEM_rptr(CMPCA_CA_CERTS_VALUE),
                                           ca_get0_chain(fx->ca), NULL),
                   FI_BAD_DATA_FORMAT, "crlStatusList of certificates");
    check_rejected(fx, CMPCA_IT_ROOT_CA_CERT, genm_int_value(1),
                   FI_BAD_DATA_FORMAT, "rootCaCert INTEGER");
    check_rejected(fx, CMPCA_IT_ROOT_CA_CERT,
                   ASN1_TYPE_pack_sequence(
                       ASN1_ITEM_rptr(CMPCA_CRL_STATUS_LIST), empty, NULL),
                   FI_BAD_DATA_FORMAT, "rootCaCert not a certificate");
    check_rejected(fx, CMPCA_IT_CA_CERTS, genm_int_value(1), FI_BAD_DATA_FORMAT,
                   "caCerts with a value");
    check_rejected(fx, CMPCA_IT_CERT_REQ_TEMPLATE, genm_int_value(1),
                   FI_BAD_DATA_FORMAT, "certReqTemplate with a value");
    sk_CMPCA_CRL_STATUS_free(empty);

    for (i = 0; i < 17; i++)
        sk_CMPCA_ITAV_push(
            many, genm_itav_new(cmp_asn1_it_oid_new(CMPCA_IT_CA_CERTS), NULL));
    req = genm_new(many);
    rsp = req != NULL ? genm_fx_run(fx, req, NULL) : NULL;
    CHECK(genm_is_error(rsp, FI_BAD_REQUEST));
    CMPCA_PKIMESSAGE_free(rsp);
    CMPCA_PKIMESSAGE_free(req);
}

int main(void)
{
    struct genm_fx fx;
    int crls, client;

    log_set_level(LOG_LVL_WARN);
    if (genm_fx_init(&fx) != 0) {
        genm_fx_cleanup(&fx);
        fprintf(stderr, "cannot set up the fixture\n");
        return 1;
    }
    test_ca_certs(&fx);
    test_root_update(&fx);
    test_template_device_subject(&fx);
    test_template_client_subject(&fx);
    test_unknown_and_empty(&fx);
    test_malformed(&fx);
    crls = test_genm_crls(&fx);
    client = test_genm_client(&fx);
    genm_fx_cleanup(&fx);
    ERR_clear_error();
    return CHECK_RESULT() | crls | client;
}
