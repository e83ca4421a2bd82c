/*
 * test_asn1_build.c: builds one PKIMessage per PKIBody type for the round
 * trip test, filled the way a real message of that type is, so that every
 * template (tags, OPTIONAL fields, CHOICE arms) is encoded at least once.
 *
 * Builders return NULL on any failure; the round trip test then fails on
 * the missing message. ASN.1 _new() already allocates every non-OPTIONAL
 * field, so required fields are set in place rather than replaced.
 */
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/ec.h>
#include <openssl/objects.h>
#include <openssl/x509v3.h>

#include "test_asn1.h"

ASN1_INTEGER *asn1t_int_new(long v)
{
    ASN1_INTEGER *i = ASN1_INTEGER_new();

    if (i != NULL && ASN1_INTEGER_set(i, v) <= 0) {
        ASN1_INTEGER_free(i);
        i = NULL;
    }
    return i;
}

ASN1_OCTET_STRING *asn1t_octets_new(const char *s)
{
    ASN1_OCTET_STRING *o = ASN1_OCTET_STRING_new();

    if (o != NULL && ASN1_OCTET_STRING_set(o, (const unsigned char *)s,
                                           (int)strlen(s)) <= 0) {
        ASN1_OCTET_STRING_free(o);
        o = NULL;
    }
    return o;
}

ASN1_BIT_STRING *asn1t_bits_new(const char *s)
{
    ASN1_BIT_STRING *b = ASN1_BIT_STRING_new();

    if (b != NULL &&
        cmp_asn1_bit_string_set1(b, (const uint8_t *)s, strlen(s)) != 0) {
        ASN1_BIT_STRING_free(b);
        b = NULL;
    }
    return b;
}

X509_NAME *asn1t_name_new(const char *cn)
{
    X509_NAME *nm = X509_NAME_new();

    if (nm != NULL &&
        X509_NAME_add_entry_by_txt(nm, "CN", MBSTRING_UTF8,
                                   (const unsigned char *)cn, -1, -1, 0) <= 0) {
        X509_NAME_free(nm);
        nm = NULL;
    }
    return nm;
}

/* set_dn makes the fresh (empty) GENERAL_NAME `gn` a directoryName. */
int asn1t_set_dn(GENERAL_NAME *gn, const char *cn)
{
    X509_NAME *nm = asn1t_name_new(cn);

    if (nm == NULL)
        return -1;
    GENERAL_NAME_set0_value(gn, GEN_DIRNAME, nm);
    return 0;
}

GENERAL_NAME *asn1t_dn_new(const char *cn)
{
    GENERAL_NAME *gn = GENERAL_NAME_new();

    if (gn != NULL && asn1t_set_dn(gn, cn) != 0) {
        GENERAL_NAME_free(gn);
        gn = NULL;
    }
    return gn;
}

void asn1t_alg_set(X509_ALGOR *a, int nid)
{
    X509_ALGOR_set0(a, OBJ_nid2obj(nid), V_ASN1_UNDEF, NULL);
}

X509_ALGOR *asn1t_alg_new(int nid)
{
    X509_ALGOR *a = X509_ALGOR_new();

    if (a != NULL)
        asn1t_alg_set(a, nid);
    return a;
}

STACK_OF(ASN1_UTF8STRING) *asn1t_text_new(const char *s)
{
    STACK_OF(ASN1_UTF8STRING) *sk = sk_ASN1_UTF8STRING_new_null();
    ASN1_UTF8STRING *u = ASN1_UTF8STRING_new();

    if (sk == NULL || u == NULL || ASN1_STRING_set(u, s, -1) <= 0 ||
        sk_ASN1_UTF8STRING_push(sk, u) <= 0) {
        ASN1_UTF8STRING_free(u);
        sk_ASN1_UTF8STRING_free(sk);
        return NULL;
    }
    return sk;
}

X509 *asn1t_cert_ref(X509 *c)
{
    return X509_up_ref(c) ? c : NULL;
}

STACK_OF(X509) *asn1t_certs_new(X509 *c)
{
    STACK_OF(X509) *sk = sk_X509_new_null();

    if (sk == NULL || asn1t_cert_ref(c) == NULL)
        goto err;
    if (sk_X509_push(sk, c) <= 0) {
        X509_free(c);
        goto err;
    }
    return sk;
err:
    sk_X509_free(sk);
    return NULL;
}

ASN1_TYPE *asn1t_any_new(const unsigned char *der, long len)
{
    const unsigned char *p = der;

    return d2i_ASN1_TYPE(NULL, &p, len);
}

/* env_new returns the components of a small EnvelopedData: version,
 * recipientInfos, encryptedContentInfo (with [0] encryptedContent). */
STACK_OF(ASN1_TYPE) *asn1t_env_new(void)
{
    static const unsigned char ver[] = {0x02, 0x01, 0x02};
    static const unsigned char ris[] = {0x31, 0x05, 0x30, 0x03,
                                        0x02, 0x01, 0x00};
    static const unsigned char eci[] = {0x30, 0x0f, 0x06, 0x09, 0x2a, 0x86,
                                        0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07,
                                        0x01, 0x80, 0x02, 0xab, 0xcd};
    const unsigned char *parts[] = {ver, ris, eci};
    const long lens[] = {sizeof(ver), sizeof(ris), sizeof(eci)};
    STACK_OF(ASN1_TYPE) *sk = sk_ASN1_TYPE_new_null();
    ASN1_TYPE *t;
    size_t i;

    for (i = 0; sk != NULL && i < 3; i++) {
        t = asn1t_any_new(parts[i], lens[i]);
        if (t == NULL || sk_ASN1_TYPE_push(sk, t) <= 0) {
            ASN1_TYPE_free(t);
            sk_ASN1_TYPE_pop_free(sk, ASN1_TYPE_free);
            sk = NULL;
        }
    }
    return sk;
}

CMPCA_ITAV *asn1t_itav_new(const char *oid, ASN1_TYPE *value)
{
    CMPCA_ITAV *it = CMPCA_ITAV_new();

    if (it == NULL || (it->infoType = OBJ_txt2obj(oid, 1)) == NULL) {
        CMPCA_ITAV_free(it);
        ASN1_TYPE_free(value);
        return NULL;
    }
    it->infoValue = value;
    return it;
}

static CMPCA_ATAV *atav_utf8_new(int nid, const char *s)
{
    CMPCA_ATAV *a = CMPCA_ATAV_new();
    ASN1_UTF8STRING *u = ASN1_UTF8STRING_new();

    if (a == NULL || u == NULL || ASN1_STRING_set(u, s, -1) <= 0) {
        ASN1_UTF8STRING_free(u);
        CMPCA_ATAV_free(a);
        return NULL;
    }
    a->type = OBJ_nid2obj(nid);
    ASN1_TYPE_set(a->value, V_ASN1_UTF8STRING, u);
    return a;
}

static STACK_OF(CMPCA_ATAV) *atavs_new(int nid, const char *s)
{
    STACK_OF(CMPCA_ATAV) *sk = sk_CMPCA_ATAV_new_null();
    CMPCA_ATAV *a = atav_utf8_new(nid, s);

    if (sk == NULL || a == NULL || sk_CMPCA_ATAV_push(sk, a) <= 0) {
        CMPCA_ATAV_free(a);
        sk_CMPCA_ATAV_free(sk);
        return NULL;
    }
    return sk;
}

STACK_OF(X509_EXTENSION) *asn1t_exts_new(int nid, const char *value)
{
    STACK_OF(X509_EXTENSION) *sk = NULL;
    X509_EXTENSION *ext = X509V3_EXT_nconf_nid(NULL, NULL, nid, value);

    if (ext == NULL || X509v3_add_ext(&sk, ext, -1) == NULL) {
        sk_X509_EXTENSION_pop_free(sk, X509_EXTENSION_free);
        sk = NULL;
    }
    X509_EXTENSION_free(ext);
    return sk;
}

CMPCA_PKISTATUSINFO *asn1t_si_new(long status, int failbit, const char *text)
{
    CMPCA_PKISTATUSINFO *si = CMPCA_PKISTATUSINFO_new();

    if (si == NULL || ASN1_INTEGER_set(si->status, status) <= 0)
        goto err;
    if (text != NULL && (si->statusString = asn1t_text_new(text)) == NULL)
        goto err;
    if (failbit >= 0 && ((si->failInfo = ASN1_BIT_STRING_new()) == NULL ||
                         !ASN1_BIT_STRING_set_bit(si->failInfo, failbit, 1)))
        goto err;
    return si;
err:
    CMPCA_PKISTATUSINFO_free(si);
    return NULL;
}

int asn1t_set_si(CMPCA_PKISTATUSINFO **field, long status, int failbit,
                 const char *text)
{
    CMPCA_PKISTATUSINFO_free(*field);
    *field = asn1t_si_new(status, failbit, text);
    return *field != NULL ? 0 : -1;
}

CMPCA_CERT_ID *asn1t_cert_id_new(long serial)
{
    CMPCA_CERT_ID *id = CMPCA_CERT_ID_new();

    if (id == NULL || asn1t_set_dn(id->issuer, ASN1_TEST_RECIPIENT_CN) != 0 ||
        ASN1_INTEGER_set(id->serialNumber, serial) <= 0) {
        CMPCA_CERT_ID_free(id);
        return NULL;
    }
    return id;
}

/* ---- the header --------------------------------------------------- */

CMPCA_PKIHEADER *asn1t_header_new(int v3)
{
    CMPCA_PKIHEADER *h = CMPCA_PKIHEADER_new();
    ASN1_TYPE *null = ASN1_TYPE_new();
    CMPCA_ITAV *ic = NULL;

    if (h == NULL || null == NULL)
        goto err;
    ASN1_TYPE_set(null, V_ASN1_NULL, NULL);
    ic = asn1t_itav_new(ASN1_TEST_OID_IMPLICIT_CONFIRM, null);
    null = NULL; /* ic owns it */
    h->messageTime = ASN1_GENERALIZEDTIME_new();
    h->protectionAlg = asn1t_alg_new(NID_ecdsa_with_SHA256);
    h->senderKID = asn1t_octets_new("sender-key-id-20-oct");
    h->recipKID = asn1t_octets_new("recip-kid");
    h->transactionID = asn1t_octets_new(ASN1_TEST_TXID);
    h->senderNonce = asn1t_octets_new("sender nonce 16b");
    h->recipNonce = asn1t_octets_new("recip nonce 16by");
    h->freeText = asn1t_text_new(ASN1_TEST_FREETEXT);
    h->generalInfo = sk_CMPCA_ITAV_new_null();
    if (ic == NULL || h->messageTime == NULL || h->protectionAlg == NULL ||
        h->senderKID == NULL || h->recipKID == NULL ||
        h->transactionID == NULL || h->senderNonce == NULL ||
        h->recipNonce == NULL || h->freeText == NULL ||
        h->generalInfo == NULL || ASN1_INTEGER_set(h->pvno, v3 ? 3 : 2) <= 0 ||
        !ASN1_GENERALIZEDTIME_set_string(h->messageTime, ASN1_TEST_TIME) ||
        asn1t_set_dn(h->sender, ASN1_TEST_SENDER_CN) != 0 ||
        asn1t_set_dn(h->recipient, ASN1_TEST_RECIPIENT_CN) != 0 ||
        sk_CMPCA_ITAV_push(h->generalInfo, ic) <= 0)
        goto err;
    return h;
err:
    ASN1_TYPE_free(null);
    CMPCA_ITAV_free(ic);
    CMPCA_PKIHEADER_free(h);
    return NULL;
}

/* ---- CRMF: ir, cr, kur, krr, ccr ------------------------------------ */

CMPCA_PKMAC_VALUE *asn1t_pkmac_new(void)
{
    CMPCA_PKMAC_VALUE *mac = CMPCA_PKMAC_VALUE_new();

    if (mac == NULL ||
        cmp_asn1_bit_string_set1(mac->value, (const uint8_t *)"mac", 3) != 0) {
        CMPCA_PKMAC_VALUE_free(mac);
        return NULL;
    }
    asn1t_alg_set(mac->algId, NID_id_PasswordBasedMAC);
    return mac;
}

static CMPCA_POPOSK_INPUT *poposk_input_new(const struct asn1_fx *fx, int v3)
{
    CMPCA_POPOSK_INPUT *in = CMPCA_POPOSK_INPUT_new();
    int ok;

    if (in == NULL)
        return NULL;
    if (v3) {
        in->authInfo_type = CMPCA_AUTHINFO_PUBLICKEYMAC;
        ok = (in->authInfo.publicKeyMAC = asn1t_pkmac_new()) != NULL;
    } else {
        in->authInfo_type = CMPCA_AUTHINFO_SENDER;
        ok = (in->authInfo.sender = asn1t_dn_new(ASN1_TEST_SENDER_CN)) != NULL;
    }
    if (!ok || X509_PUBKEY_set(&in->publicKey, fx->key) <= 0) {
        CMPCA_POPOSK_INPUT_free(in);
        return NULL;
    }
    return in;
}

/* poposk_new signs the DER of `req` with the fixture key (ECDSA-SHA256). */
static CMPCA_POPOSIGNINGKEY *poposk_new(const struct asn1_fx *fx,
                                        const CMPCA_CERT_REQUEST *req,
                                        int with_input, int v3)
{
    CMPCA_POPOSIGNINGKEY *sk = CMPCA_POPOSIGNINGKEY_new();
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    unsigned char *der = NULL, sig[160];
    size_t sig_len = sizeof(sig);
    int der_len = i2d_CMPCA_CERT_REQUEST(req, &der);

    if (sk == NULL || md == NULL || der_len <= 0 ||
        EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, fx->key) <= 0 ||
        EVP_DigestSign(md, sig, &sig_len, der, (size_t)der_len) <= 0 ||
        cmp_asn1_bit_string_set1(sk->signature, sig, sig_len) != 0)
        goto err;
    asn1t_alg_set(sk->algorithmIdentifier, NID_ecdsa_with_SHA256);
    if (with_input && (sk->poposkInput = poposk_input_new(fx, v3)) == NULL)
        goto err;
    goto done;
err:
    CMPCA_POPOSIGNINGKEY_free(sk);
    sk = NULL;
done:
    OPENSSL_free(der);
    EVP_MD_CTX_free(md);
    return sk;
}

static CMPCA_POPOPRIVKEY *popopriv_new(int v3, int agree)
{
    CMPCA_POPOPRIVKEY *pk = CMPCA_POPOPRIVKEY_new();
    int ok;

    if (pk == NULL)
        return NULL;
    if (v3) {
        pk->type = CMPCA_POPOPRIVKEY_ENCRYPTEDKEY;
        ok = (pk->value.encryptedKey = asn1t_env_new()) != NULL;
    } else if (agree) {
        pk->type = CMPCA_POPOPRIVKEY_AGREEMAC;
        ok = (pk->value.agreeMAC = asn1t_pkmac_new()) != NULL;
    } else {
        pk->type = CMPCA_POPOPRIVKEY_SUBSEQUENTMESSAGE;
        ok = (pk->value.subsequentMessage = asn1t_int_new(0)) != NULL;
    }
    if (!ok) {
        CMPCA_POPOPRIVKEY_free(pk);
        return NULL;
    }
    return pk;
}

/* ir: signature; cr: signature + poposkInput; kur: raVerified;
 * krr: keyEncipherment; ccr: keyAgreement. */
static CMPCA_POPO *popo_new(const struct asn1_fx *fx,
                            const CMPCA_CERT_REQUEST *req, int type, int v3)
{
    CMPCA_POPO *popo = CMPCA_POPO_new();
    int ok;

    if (popo == NULL)
        return NULL;
    switch (type) {
    case CMPCA_BODY_KUR:
        popo->type = CMPCA_POPO_RAVERIFIED;
        ok = (popo->value.raVerified = ASN1_NULL_new()) != NULL;
        break;
    case CMPCA_BODY_KRR:
        popo->type = CMPCA_POPO_KEYENCIPHERMENT;
        ok = (popo->value.keyEncipherment = popopriv_new(v3, 0)) != NULL;
        break;
    case CMPCA_BODY_CCR:
        popo->type = CMPCA_POPO_KEYAGREEMENT;
        ok = (popo->value.keyAgreement = popopriv_new(v3, 1)) != NULL;
        break;
    default:
        popo->type = CMPCA_POPO_SIGNATURE;
        popo->value.signature = poposk_new(fx, req, type == CMPCA_BODY_CR, v3);
        ok = popo->value.signature != NULL;
        break;
    }
    if (!ok) {
        CMPCA_POPO_free(popo);
        return NULL;
    }
    return popo;
}

/* template_fill_rest sets the template fields an ir leaves out. */
static int template_fill_rest(CMPCA_CERT_TEMPLATE *t)
{
    CMPCA_OPTIONAL_VALIDITY *v = CMPCA_OPTIONAL_VALIDITY_new();

    t->validity = v;
    t->version = asn1t_int_new(2);
    t->serialNumber = asn1t_int_new(4711);
    t->signingAlg = asn1t_alg_new(NID_ecdsa_with_SHA256);
    t->issuer = asn1t_name_new(ASN1_TEST_RECIPIENT_CN);
    t->issuerUID = asn1t_bits_new("iu");
    t->subjectUID = asn1t_bits_new("su");
    if (v == NULL || t->version == NULL || t->serialNumber == NULL ||
        t->signingAlg == NULL || t->issuer == NULL || t->issuerUID == NULL ||
        t->subjectUID == NULL)
        return -1;
    v->notBefore = ASN1_TIME_new();
    v->notAfter = ASN1_TIME_new();
    if (v->notBefore == NULL || v->notAfter == NULL ||
        !ASN1_TIME_set_string(v->notBefore, "250101000000Z") ||
        !ASN1_TIME_set_string(v->notAfter, "20991231235959Z"))
        return -1;
    return 0;
}

static CMPCA_CERT_REQ_MSG *crm_new(const struct asn1_fx *fx, int type, int v3)
{
    CMPCA_CERT_REQ_MSG *m = CMPCA_CERT_REQ_MSG_new();
    CMPCA_CERT_TEMPLATE *t;

    if (m == NULL)
        return NULL;
    t = m->certReq->certTemplate;
    t->subject = asn1t_name_new(ASN1_TEST_SENDER_CN);
    t->extensions = asn1t_exts_new(NID_key_usage, "critical,digitalSignature");
    if (t->subject == NULL || t->extensions == NULL ||
        X509_PUBKEY_set(&t->publicKey, fx->key) <= 0 ||
        ASN1_INTEGER_set(m->certReq->certReqId, 0) <= 0)
        goto err;
    if (type == CMPCA_BODY_CCR && template_fill_rest(t) != 0)
        goto err;
    if (type == CMPCA_BODY_CR &&
        ((m->certReq->controls =
              atavs_new(NID_id_regCtrl_regToken, "token-123")) == NULL ||
         (m->regInfo = atavs_new(NID_id_regInfo_utf8Pairs, "k?v%")) == NULL))
        goto err;
    if ((m->popo = popo_new(fx, m->certReq, type, v3)) == NULL)
        goto err;
    return m;
err:
    CMPCA_CERT_REQ_MSG_free(m);
    return NULL;
}

CMPCA_CERT_REQ_MESSAGES *asn1t_crms_new(const struct asn1_fx *fx, int type,
                                        int v3)
{
    CMPCA_CERT_REQ_MESSAGES *sk = sk_CMPCA_CERT_REQ_MSG_new_null();
    CMPCA_CERT_REQ_MSG *m = crm_new(fx, type, v3);

    if (sk == NULL || m == NULL || sk_CMPCA_CERT_REQ_MSG_push(sk, m) <= 0) {
        CMPCA_CERT_REQ_MSG_free(m);
        sk_CMPCA_CERT_REQ_MSG_free(sk);
        return NULL;
    }
    return sk;
}

/* ---- the fixture ---------------------------------------------------- */

static X509 *fx_cert_new(EVP_PKEY *key)
{
    X509 *c = X509_new();
    X509_NAME *nm = asn1t_name_new(ASN1_TEST_RECIPIENT_CN);

    if (c == NULL || nm == NULL || !X509_set_version(c, X509_VERSION_3) ||
        !ASN1_INTEGER_set(X509_get_serialNumber(c), 4711) ||
        !X509_set_subject_name(c, nm) || !X509_set_issuer_name(c, nm) ||
        X509_gmtime_adj(X509_getm_notBefore(c), 0) == NULL ||
        X509_gmtime_adj(X509_getm_notAfter(c), 86400) == NULL ||
        !X509_set_pubkey(c, key) || X509_sign(c, key, EVP_sha256()) <= 0) {
        X509_free(c);
        c = NULL;
    }
    X509_NAME_free(nm);
    return c;
}

static X509_CRL *fx_crl_new(X509 *issuer, EVP_PKEY *key)
{
    X509_CRL *crl = X509_CRL_new();
    ASN1_TIME *now = X509_gmtime_adj(NULL, 0);

    if (crl == NULL || now == NULL ||
        !X509_CRL_set_version(crl, X509_CRL_VERSION_2) ||
        !X509_CRL_set_issuer_name(crl, X509_get_subject_name(issuer)) ||
        !X509_CRL_set1_lastUpdate(crl, now) ||
        !X509_CRL_set1_nextUpdate(crl, now) ||
        X509_CRL_sign(crl, key, EVP_sha256()) <= 0) {
        X509_CRL_free(crl);
        crl = NULL;
    }
    ASN1_TIME_free(now);
    return crl;
}

static X509_REQ *fx_req_new(EVP_PKEY *key)
{
    X509_REQ *req = X509_REQ_new();
    X509_NAME *nm = asn1t_name_new(ASN1_TEST_SENDER_CN);

    if (req == NULL || nm == NULL || !X509_REQ_set_subject_name(req, nm) ||
        !X509_REQ_set_pubkey(req, key) ||
        X509_REQ_sign(req, key, EVP_sha256()) <= 0) {
        X509_REQ_free(req);
        req = NULL;
    }
    X509_NAME_free(nm);
    return req;
}

int asn1_fx_init(struct asn1_fx *fx)
{
    memset(fx, 0, sizeof(*fx));
    if ((fx->key = EVP_EC_gen("P-256")) == NULL ||
        (fx->cert = fx_cert_new(fx->key)) == NULL ||
        (fx->crl = fx_crl_new(fx->cert, fx->key)) == NULL ||
        (fx->req = fx_req_new(fx->key)) == NULL) {
        asn1_fx_cleanup(fx);
        return -1;
    }
    return 0;
}

void asn1_fx_cleanup(struct asn1_fx *fx)
{
    X509_REQ_free(fx->req);
    X509_CRL_free(fx->crl);
    X509_free(fx->cert);
    EVP_PKEY_free(fx->key);
    memset(fx, 0, sizeof(*fx));
}
