/*
 * genm.c: genm -> genp, the support messages of RFC 9483 section 4.3
 * (RFC 9810 5.3.19): CA certificates, root CA update, certificate request
 * template and CRL update. The request was authenticated and its nonce
 * checked by the caller, which also protects what we return.
 *
 * RFC 9483 wants exactly one InfoTypeAndValue per genm for these
 * operations; we answer any number (up to GENM_MAX_ITAVS), one genp ITAV per
 * recognised genm ITAV in order, and leave out the ones we do not know, as
 * RFC 9810 5.3.19 lets a receiver do. An empty genm ("send what you like")
 * gets an empty genp. A value that does not decode as its RFC 9480 type is
 * rejected with badDataFormat rather than guessed at.
 */
#include <limits.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/objects.h>

#include "ca/ca.h"
#include "cmp/cmp_local.h"
#include "util/log.h"

/* Each ITAV costs at most one CRL lookup; a genm is a handful of them. */
#define GENM_MAX_ITAVS      16
#define GENM_MAX_CRL_STATUS 32

/* Appends an ITAV id-it `arc` with `value` (set0, may be NULL: absent). */
static int push_itav(STACK_OF(CMPCA_ITAV) *out, int arc, ASN1_TYPE *value,
                     struct cmpca_err *err)
{
    CMPCA_ITAV *itav = CMPCA_ITAV_new();
    ASN1_OBJECT *type = cmp_asn1_it_oid_new(arc);

    if (itav == NULL || type == NULL) {
        ASN1_OBJECT_free(type);
        ASN1_TYPE_free(value);
        CMPCA_ITAV_free(itav);
        return cmpca_err_ossl(err, FI_SYSTEM_FAILURE, "out of memory");
    }
    ASN1_OBJECT_free(itav->infoType);
    itav->infoType = type;
    itav->infoValue = value;
    if (!sk_CMPCA_ITAV_push(out, itav)) {
        CMPCA_ITAV_free(itav);
        return cmpca_err_ossl(err, FI_SYSTEM_FAILURE, "out of memory");
    }
    return 0;
}

/* For requests whose value RFC 9480 gives as < absent >. NULL is taken as
 * absent too (some clients encode "nothing" so); anything else is
 * malformed. */
static int check_no_value(const CMPCA_ITAV *in, const char *what,
                          struct cmpca_err *err)
{
    if (in->infoValue == NULL || ASN1_TYPE_get(in->infoValue) == V_ASN1_NULL)
        return 0;
    return cmpca_err_set(err, FI_BAD_DATA_FORMAT,
                         "genm %s must not carry a value", what);
}

/* id-it-caCerts: the issuing CA certificate, then the operator root. */
static int answer_ca_certs(struct cmp_req *rq, const CMPCA_ITAV *in,
                           STACK_OF(CMPCA_ITAV) *out, struct cmpca_err *err)
{
    STACK_OF(X509) *chain = ca_get0_chain(rq->srv->ca);
    ASN1_TYPE *v = NULL;

    if (check_no_value(in, "caCerts", err) != 0)
        return -1;
    /* CaCertsValue is SIZE (1..MAX): no certificates, no value */
    if (sk_X509_num(chain) > 0 &&
        (v = ASN1_TYPE_pack_sequence(ASN1_ITEM_rptr(CMPCA_CA_CERTS_VALUE),
                                     chain, NULL)) == NULL)
        return cmpca_err_ossl(err, FI_SYSTEM_FAILURE, "cannot encode caCerts");
    return push_itav(out, CMPCA_IT_CA_CERTS, v, err);
}

/* id-it-rootCaCert (value: the root the client trusts, optional) or
 * id-it-rootCaKeyUpdate: answered with id-it-rootCaKeyUpdate. There has
 * been no root rollover, so the answer has no value ("no update"). */
static int answer_root_update(struct cmp_req *rq, const CMPCA_ITAV *in, int arc,
                              STACK_OF(CMPCA_ITAV) *out, struct cmpca_err *err)
{
    X509 *given = NULL;
    char *name;

    if (arc == CMPCA_IT_ROOT_CA_KEY_UPDATE &&
        check_no_value(in, "rootCaKeyUpdate", err) != 0)
        return -1;
    if (arc == CMPCA_IT_ROOT_CA_CERT && in->infoValue != NULL &&
        ASN1_TYPE_get(in->infoValue) != V_ASN1_NULL) {
        given = cmp_asn1_itav_unpack(in->infoValue, ASN1_ITEM_rptr(X509));
        if (given == NULL) {
            ERR_clear_error();
            return cmpca_err_set(err, FI_BAD_DATA_FORMAT,
                                 "rootCaCert value is not a certificate");
        }
        if (X509_cmp(given, ca_get0_root(rq->srv->ca)) != 0) {
            name = cmp_name_text(X509_get_subject_name(given));
            log_info("genm rootCaCert names another root (%s): no update",
                     name != NULL ? name : "?");
            OPENSSL_free(name);
        }
        X509_free(given);
    }
    return push_itav(out, CMPCA_IT_ROOT_CA_KEY_UPDATE, NULL, err);
}

/* ---- certReqTemplate -------------------------------------------------- */

/* Adds extension `nid` with `value` (i2d by OpenSSL's method) to *exts. */
static int add_ext(STACK_OF(X509_EXTENSION) **exts, int nid, int crit,
                   void *value)
{
    X509_EXTENSION *ext = X509V3_EXT_i2d(nid, crit, value);
    int ok = ext != NULL && X509v3_add_ext(exts, ext, -1) != NULL;

    X509_EXTENSION_free(ext); /* X509v3_add_ext added a copy */
    return ok ? 0 : -1;
}

/* keyUsage as the CA will issue it. KU_* flags: 0x80 >> n is bit n for
 * n < 8, 0x8000 is bit 8 (decipherOnly). With the profile's default (0)
 * the CA adds keyEncipherment for RSA keys only, so when RSA is allowed
 * the key usage depends on the key and the template leaves it out. */
static int add_key_usage(const struct cmpca_profile *p,
                         STACK_OF(X509_EXTENSION) **exts)
{
    const int rsa = PROFILE_KEY_RSA2048 | PROFILE_KEY_RSA3072;
    unsigned int ku = (unsigned int)p->key_usage, flag;
    ASN1_BIT_STRING *bits = NULL;
    int n, ret = -1;

    if (ku == 0) {
        if ((p->key_types & rsa) != 0)
            return 0;
        ku = KU_DIGITAL_SIGNATURE;
    }
    if ((bits = ASN1_BIT_STRING_new()) == NULL)
        return -1;
    for (n = 0; n <= 8; n++) {
        flag = n < 8 ? 0x80u >> n : 0x8000u;
        if ((ku & flag) != 0 && !ASN1_BIT_STRING_set_bit(bits, n, 1))
            goto done;
    }
    ret = add_ext(exts, NID_key_usage, 1, bits);
done:
    ASN1_BIT_STRING_free(bits);
    return ret;
}

static int add_eku(const struct cmpca_profile *p,
                   STACK_OF(X509_EXTENSION) **exts)
{
    STACK_OF(ASN1_OBJECT) *eku = NULL;
    ASN1_OBJECT *obj;
    int i, ret = -1;

    if (p->num_eku <= 0)
        return 0;
    if (p->num_eku > CMPCA_MAX_EKU || (eku = sk_ASN1_OBJECT_new_null()) == NULL)
        return -1;
    for (i = 0; i < p->num_eku; i++) {
        /* OBJ_nid2obj objects are static: sk_ASN1_OBJECT_free, no pop_free */
        if ((obj = OBJ_nid2obj(p->eku_nids[i])) == NULL ||
            OBJ_length(obj) == 0 || !sk_ASN1_OBJECT_push(eku, obj))
            goto done;
    }
    ret = add_ext(exts, NID_ext_key_usage, 0, eku);
done:
    sk_ASN1_OBJECT_free(eku);
    return ret;
}

/* subjectAltName with an empty extnValue: "fill this in" (RFC 9483 4.3.3
 * lists fields the EE is to fill with empty values). */
static int add_san_placeholder(STACK_OF(X509_EXTENSION) **exts)
{
    ASN1_OCTET_STRING *empty = ASN1_OCTET_STRING_new();
    X509_EXTENSION *ext = NULL;
    int ok;

    ok = empty != NULL &&
         (ext = X509_EXTENSION_create_by_NID(NULL, NID_subject_alt_name, 0,
                                             empty)) != NULL &&
         X509v3_add_ext(exts, ext, -1) != NULL;
    X509_EXTENSION_free(ext);
    ASN1_OCTET_STRING_free(empty);
    return ok ? 0 : -1;
}

/* Appends keySpec control id-regCtrl `arc` with `value` (set0; NULL is a
 * failure of the caller's allocation, passed on). */
static int push_ctrl(STACK_OF(CMPCA_ATAV) *ks, int arc, ASN1_TYPE *value)
{
    CMPCA_ATAV *a = NULL;
    ASN1_OBJECT *type = NULL;

    if (value == NULL || (a = CMPCA_ATAV_new()) == NULL ||
        (type = cmp_asn1_regctrl_oid_new(arc)) == NULL) {
        CMPCA_ATAV_free(a);
        ASN1_TYPE_free(value);
        return -1;
    }
    ASN1_OBJECT_free(a->type);
    a->type = type;
    ASN1_TYPE_free(a->value);
    a->value = value;
    if (!sk_CMPCA_ATAV_push(ks, a)) {
        CMPCA_ATAV_free(a);
        return -1;
    }
    return 0;
}

/* AlgIdCtrl: id-ecPublicKey with namedCurve `curve`, or `alg` without
 * parameters (curve 0: Ed25519, Ed448, RFC 8410). */
static int push_algid(STACK_OF(CMPCA_ATAV) *ks, int alg, int curve)
{
    X509_ALGOR *a = X509_ALGOR_new();
    ASN1_TYPE *v = NULL;
    int ok;

    ok = a != NULL &&
         (curve != 0
              ? X509_ALGOR_set0(a, OBJ_nid2obj(NID_X9_62_id_ecPublicKey),
                                V_ASN1_OBJECT, OBJ_nid2obj(curve))
              : X509_ALGOR_set0(a, OBJ_nid2obj(alg), V_ASN1_UNDEF, NULL)) &&
         (v = ASN1_TYPE_pack_sequence(ASN1_ITEM_rptr(X509_ALGOR), a, NULL)) !=
             NULL;
    X509_ALGOR_free(a);
    if (!ok)
        return -1;
    return push_ctrl(ks, CMPCA_REGCTRL_ALG_ID, v);
}

/* RsaKeyLenCtrl: the smallest RSA modulus the profile accepts. */
static int push_rsa_len(STACK_OF(CMPCA_ATAV) *ks, long bits)
{
    ASN1_INTEGER *i = ASN1_INTEGER_new();
    ASN1_TYPE *v = ASN1_TYPE_new();

    if (i == NULL || v == NULL || !ASN1_INTEGER_set(i, bits)) {
        ASN1_INTEGER_free(i);
        ASN1_TYPE_free(v);
        return -1;
    }
    ASN1_TYPE_set(v, V_ASN1_INTEGER, i);
    return push_ctrl(ks, CMPCA_REGCTRL_RSA_KEY_LEN, v);
}

/* keySpec: one control per key type the profile allows; none: absent. */
static int add_key_spec(const struct cmpca_profile *p,
                        STACK_OF(CMPCA_ATAV) **out)
{
    static const struct {
        int bit, alg, curve;
    } algs[] = {
        {PROFILE_KEY_EC_P256, 0, NID_X9_62_prime256v1},
        {PROFILE_KEY_EC_P384, 0, NID_secp384r1},
        {PROFILE_KEY_EC_P521, 0, NID_secp521r1},
        {PROFILE_KEY_ED25519, NID_ED25519, 0},
        {PROFILE_KEY_ED448, NID_ED448, 0},
    };
    STACK_OF(CMPCA_ATAV) *ks = sk_CMPCA_ATAV_new_null();
    size_t i;
    int rc = 0;

    if (ks == NULL)
        return -1;
    for (i = 0; rc == 0 && i < sizeof(algs) / sizeof(algs[0]); i++)
        if ((p->key_types & algs[i].bit) != 0)
            rc = push_algid(ks, algs[i].alg, algs[i].curve);
    if (rc == 0 && (p->key_types & PROFILE_KEY_RSA2048) != 0)
        rc = push_rsa_len(ks, 2048);
    else if (rc == 0 && (p->key_types & PROFILE_KEY_RSA3072) != 0)
        rc = push_rsa_len(ks, 3072);
    if (rc != 0 || sk_CMPCA_ATAV_num(ks) == 0) { /* Controls: SIZE(1..MAX) */
        sk_CMPCA_ATAV_pop_free(ks, CMPCA_ATAV_free);
        return rc;
    }
    *out = ks;
    return 0;
}

/* The template for profile `p`: subject absent when the CA derives it
 * from the device, an empty subject when the client is to give one; the
 * extensions the CA will set; the key types it accepts. New. */
static CMPCA_CERT_REQ_TEMPLATE *template_new(const struct cmpca_profile *p)
{
    CMPCA_CERT_REQ_TEMPLATE *t = CMPCA_CERT_REQ_TEMPLATE_new();
    CMPCA_CERT_TEMPLATE *ct;

    if (t == NULL)
        return NULL;
    ct = t->certTemplate;
    if (p->subject == SUBJECT_FROM_TEMPLATE &&
        (ct->subject = X509_NAME_new()) == NULL)
        goto err;
    if (add_key_usage(p, &ct->extensions) != 0 ||
        add_eku(p, &ct->extensions) != 0 ||
        (p->san == SAN_FROM_TEMPLATE &&
         add_san_placeholder(&ct->extensions) != 0) ||
        add_key_spec(p, &t->keySpec) != 0)
        goto err;
    return t;
err:
    CMPCA_CERT_REQ_TEMPLATE_free(t);
    return NULL;
}

/* id-it-certReqTemplate: the template of the request's profile; no
 * profile means no requirements, so the answer has no value. */
static int answer_template(struct cmp_req *rq, const CMPCA_ITAV *in,
                           STACK_OF(CMPCA_ITAV) *out, struct cmpca_err *err)
{
    CMPCA_CERT_REQ_TEMPLATE *t = NULL;
    ASN1_TYPE *v = NULL;

    if (check_no_value(in, "certReqTemplate", err) != 0)
        return -1;
    if (rq->profile != NULL) {
        if ((t = template_new(rq->profile)) != NULL)
            v = ASN1_TYPE_pack_sequence(ASN1_ITEM_rptr(CMPCA_CERT_REQ_TEMPLATE),
                                        t, NULL);
        CMPCA_CERT_REQ_TEMPLATE_free(t);
        if (v == NULL)
            return cmpca_err_ossl(err, FI_SYSTEM_FAILURE,
                                  "cannot build the template of profile %s",
                                  rq->profile->name != NULL ? rq->profile->name
                                                            : "?");
    }
    return push_itav(out, CMPCA_IT_CERT_REQ_TEMPLATE, v, err);
}

/* ---- crlStatusList -> crls -------------------------------------------- */

static int url_is(const ASN1_IA5STRING *uri, const char *url)
{
    return url != NULL && uri != NULL && (size_t)uri->length == strlen(url) &&
           memcmp(uri->data, url, strlen(url)) == 0;
}

/* Our one CRL covers every profile, so a distribution point URI of any
 * configured profile names it. */
static int url_is_ours(const struct cmp_req *rq, const ASN1_IA5STRING *uri)
{
    const struct cmpca_config *cfg = rq->srv->cfg;
    size_t i;

    if (rq->profile != NULL && url_is(uri, rq->profile->crl_url))
        return 1;
    for (i = 0; cfg->profiles != NULL && i < cfg->num_profiles; i++)
        if (url_is(uri, cfg->profiles[i].crl_url))
            return 1;
    return 0;
}

/* Does `src` name our CRL: a fullName URI of our distribution point, or
 * our issuing CA's subject among the issuer names? */
static int source_is_ours(const struct cmp_req *rq, const CMPCA_CRL_SOURCE *src)
{
    const X509_NAME *ca = X509_get_subject_name(ca_get0_cert(rq->srv->ca));
    const GENERAL_NAMES *names = NULL;
    const GENERAL_NAME *gn;
    int i;

    if (src->type == CMPCA_CRLSOURCE_DPN && src->value.dpn != NULL &&
        src->value.dpn->type == 0) /* fullName */
        names = src->value.dpn->name.fullname;
    else if (src->type == CMPCA_CRLSOURCE_ISSUER)
        names = src->value.issuer;
    for (i = 0; i < sk_GENERAL_NAME_num(names); i++) {
        gn = sk_GENERAL_NAME_value(names, i);
        if (src->type == CMPCA_CRLSOURCE_DPN && gn->type == GEN_URI &&
            url_is_ours(rq, gn->d.uniformResourceIdentifier))
            return 1;
        if (src->type == CMPCA_CRLSOURCE_ISSUER && gn->type == GEN_DIRNAME &&
            X509_NAME_cmp(gn->d.directoryName, ca) == 0)
            return 1;
    }
    return 0;
}

/* The current CRL; made now when there is none yet or it is past its
 * nextUpdate (a client asking for an update must not get a stale one).
 * *out is new. */
static int current_crl(struct cmp_req *rq, X509_CRL **out,
                       struct cmpca_err *err)
{
    const struct cmpca_config *cfg = rq->srv->cfg;
    struct store_crl sc;
    const unsigned char *p;
    int rc;

    *out = NULL;
    memset(&sc, 0, sizeof(sc));
    rc = store_crl_get(rq->srv->st, cfg->crl_name, &sc, err);
    if (rc == 0 && sc.next_update != 0 && sc.next_update <= rq->now)
        rc = STORE_NOTFOUND;
    if (rc == STORE_NOTFOUND) {
        store_crl_clear(&sc);
        log_info("CRL %s asked for by genm: publishing a fresh one",
                 cfg->crl_name);
        return ca_crl_publish(rq->srv->ca, rq->srv->st, cfg->crl_name,
                              cfg->crl_validity, out, err);
    }
    if (rc != 0)
        return -1;
    p = sc.der;
    if (sc.der == NULL || sc.der_len > LONG_MAX ||
        (*out = d2i_X509_CRL(NULL, &p, (long)sc.der_len)) == NULL)
        cmpca_err_ossl(err, FI_SYSTEM_FAILURE, "stored CRL %s is damaged",
                       cfg->crl_name);
    store_crl_clear(&sc);
    return *out != NULL ? 0 : -1;
}

/* 1: the client's CRL (thisUpdate `have`, NULL: none) is older than
 * `crl`; 0: it is as new; -1: `have` is not a valid time. */
static int crl_is_newer(const X509_CRL *crl, const ASN1_TIME *have)
{
    int cmp;

    if (have == NULL)
        return 1;
    if ((cmp = ASN1_TIME_compare(have, X509_CRL_get0_lastUpdate(crl))) == -2)
        return -1;
    return cmp < 0;
}

/* Checks the list and counts the statuses naming our CRL. */
static int crl_statuses(const struct cmp_req *rq,
                        const CMPCA_CRL_STATUS_LIST *list, int *num_ours,
                        struct cmpca_err *err)
{
    int i, n = sk_CMPCA_CRL_STATUS_num(list);

    *num_ours = 0;
    if (n <= 0 || n > GENM_MAX_CRL_STATUS)
        return cmpca_err_set(err, FI_BAD_DATA_FORMAT,
                             "crlStatusList holds %d entries (1..%d)", n,
                             GENM_MAX_CRL_STATUS);
    for (i = 0; i < n; i++)
        if (source_is_ours(rq, sk_CMPCA_CRL_STATUS_value(list, i)->source))
            (*num_ours)++;
    return 0;
}

/* Should the answer carry `crl`: does a status naming it have an older
 * one? Returns 1/0, or -1 with err set on a malformed thisUpdate. */
static int crl_wanted(const struct cmp_req *rq,
                      const CMPCA_CRL_STATUS_LIST *list, const X509_CRL *crl,
                      struct cmpca_err *err)
{
    const CMPCA_CRL_STATUS *st;
    int i, newer, wanted = 0;

    for (i = 0; i < sk_CMPCA_CRL_STATUS_num(list); i++) {
        st = sk_CMPCA_CRL_STATUS_value(list, i);
        if (!source_is_ours(rq, st->source))
            continue;
        if ((newer = crl_is_newer(crl, st->thisUpdate)) < 0)
            return cmpca_err_set(err, FI_BAD_DATA_FORMAT,
                                 "crlStatusList thisUpdate is not a time");
        wanted |= newer;
    }
    return wanted;
}

/* CRLsValue holding `crl` (borrowed), as an infoValue. New or NULL. */
static ASN1_TYPE *pack_crl(X509_CRL *crl)
{
    STACK_OF(X509_CRL) *crls = sk_X509_CRL_new_null();
    ASN1_TYPE *v = NULL;

    if (crls != NULL && sk_X509_CRL_push(crls, crl))
        v = ASN1_TYPE_pack_sequence(ASN1_ITEM_rptr(CMPCA_CRLS_VALUE), crls,
                                    NULL);
    sk_X509_CRL_free(crls); /* the CRL stays the caller's */
    return v;
}

/* id-it-crlStatusList: answered with id-it-crls holding our CRL when the
 * client named it and has an older one; otherwise without a value. */
static int answer_crls(struct cmp_req *rq, const CMPCA_ITAV *in,
                       STACK_OF(CMPCA_ITAV) *out, struct cmpca_err *err)
{
    CMPCA_CRL_STATUS_LIST *list = NULL;
    X509_CRL *crl = NULL;
    ASN1_TYPE *v = NULL;
    int ours, wanted, ret = -1;

    list = cmp_asn1_itav_unpack(in->infoValue,
                                ASN1_ITEM_rptr(CMPCA_CRL_STATUS_LIST));
    if (list == NULL) {
        ERR_clear_error();
        return cmpca_err_set(err, FI_BAD_DATA_FORMAT,
                             "crlStatusList value does not decode");
    }
    if (crl_statuses(rq, list, &ours, err) != 0)
        goto done;
    if (ours == 0 || rq->srv->cfg->crl_name == NULL) {
        log_info("genm crlStatusList names no CRL of ours");
    } else {
        if (current_crl(rq, &crl, err) != 0 ||
            (wanted = crl_wanted(rq, list, crl, err)) < 0)
            goto done;
        if (wanted && (v = pack_crl(crl)) == NULL) {
            cmpca_err_ossl(err, FI_SYSTEM_FAILURE, "cannot encode crls");
            goto done;
        }
    }
    ret = push_itav(out, CMPCA_IT_CRLS, v, err);
done:
    X509_CRL_free(crl);
    CMPCA_CRL_STATUS_LIST_free(list);
    return ret;
}

/* ---- dispatch ---------------------------------------------------------- */

static int answer_one(struct cmp_req *rq, const CMPCA_ITAV *in,
                      STACK_OF(CMPCA_ITAV) *out, struct cmpca_err *err)
{
    char oid[80];

    if (cmp_asn1_oid_is_it(in->infoType, CMPCA_IT_CA_CERTS))
        return answer_ca_certs(rq, in, out, err);
    if (cmp_asn1_oid_is_it(in->infoType, CMPCA_IT_ROOT_CA_CERT))
        return answer_root_update(rq, in, CMPCA_IT_ROOT_CA_CERT, out, err);
    if (cmp_asn1_oid_is_it(in->infoType, CMPCA_IT_ROOT_CA_KEY_UPDATE))
        return answer_root_update(rq, in, CMPCA_IT_ROOT_CA_KEY_UPDATE, out,
                                  err);
    if (cmp_asn1_oid_is_it(in->infoType, CMPCA_IT_CERT_REQ_TEMPLATE))
        return answer_template(rq, in, out, err);
    if (cmp_asn1_oid_is_it(in->infoType, CMPCA_IT_CRL_STATUS_LIST))
        return answer_crls(rq, in, out, err);
    if (OBJ_obj2txt(oid, sizeof(oid), in->infoType, 1) <= 0)
        strcpy(oid, "?");
    log_info("genm infoType %s not supported: left out of the genp", oid);
    return 0;
}

CMPCA_PKIMESSAGE *cmp_handle_genm(struct cmp_req *rq)
{
    struct cmpca_err err = CMPCA_ERR_INIT;
    const STACK_OF(CMPCA_ITAV) *in = NULL;
    STACK_OF(CMPCA_ITAV) *out = NULL;
    CMPCA_PKIMESSAGE *rsp = NULL;
    int i, n;

    if (rq->msg->body->type != CMPCA_BODY_GENM) {
        cmpca_err_set(&err, FI_BAD_REQUEST, "not a genm");
        goto reject;
    }
    in = rq->msg->body->value.genm;
    if ((n = sk_CMPCA_ITAV_num(in)) > GENM_MAX_ITAVS) {
        cmpca_err_set(&err, FI_BAD_REQUEST, "genm with %d ITAVs (at most %d)",
                      n, GENM_MAX_ITAVS);
        goto reject;
    }
    if ((out = sk_CMPCA_ITAV_new_null()) == NULL) {
        cmpca_err_ossl(&err, FI_SYSTEM_FAILURE, "out of memory");
        goto reject;
    }
    for (i = 0; i < n; i++)
        if (answer_one(rq, sk_CMPCA_ITAV_value(in, i), out, &err) != 0)
            goto reject;
    if (n <= 0)
        log_info("empty genm: answering an empty genp");
    if ((rsp = cmp_rsp_new(rq, CMPCA_BODY_GENP)) == NULL) {
        sk_CMPCA_ITAV_pop_free(out, CMPCA_ITAV_free);
        return NULL;
    }
    rsp->body->value.genp = out;
    return rsp;
reject:
    sk_CMPCA_ITAV_pop_free(out, CMPCA_ITAV_free);
    cmp_rejected(rq, &err);
    return cmp_error_new(rq, &err);
}
