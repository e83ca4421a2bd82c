/*
 * test_asn1_body.c: the PKIBody contents other than CRMF requests, and
 * asn1_test_msg_new, which puts a header, a body and extraCerts together.
 * Same rules as test_asn1_build.c: NULL on any failure.
 */
#include <string.h>

#include <openssl/objects.h>
#include <openssl/x509v3.h>

#include "test_asn1.h"

/* ---- certificate responses: ip, cp, kup, ccp ------------------------- */

static CMPCA_ENCRYPTED_KEY *enckey_new(int enveloped)
{
    CMPCA_ENCRYPTED_KEY *ek = CMPCA_ENCRYPTED_KEY_new();
    CMPCA_ENCRYPTED_VALUE *ev = NULL;

    if (ek == NULL)
        return NULL;
    if (enveloped) {
        ek->type = CMPCA_ENCKEY_ENVELOPEDDATA;
        if ((ek->value.envelopedData = asn1t_env_new()) == NULL)
            goto err;
        return ek;
    }
    ek->type = CMPCA_ENCKEY_ENCRYPTEDVALUE;
    ek->value.encryptedValue = ev = CMPCA_ENCRYPTED_VALUE_new();
    if (ev == NULL)
        goto err;
    ev->intendedAlg = asn1t_alg_new(NID_X9_62_id_ecPublicKey);
    ev->symmAlg = asn1t_alg_new(NID_aes_128_cbc);
    ev->encSymmKey = asn1t_bits_new("wrapped key");
    ev->keyAlg = asn1t_alg_new(NID_rsaEncryption);
    ev->valueHint = asn1t_octets_new("hint");
    if (ev->intendedAlg == NULL || ev->symmAlg == NULL ||
        ev->encSymmKey == NULL || ev->keyAlg == NULL || ev->valueHint == NULL ||
        cmp_asn1_bit_string_set1(ev->encValue, (const uint8_t *)"enc", 3) != 0)
        goto err;
    return ek;
err:
    CMPCA_ENCRYPTED_KEY_free(ek);
    return NULL;
}

static CMPCA_PKI_PUBLICATION_INFO *pubinfo_new(void)
{
    CMPCA_PKI_PUBLICATION_INFO *pi = CMPCA_PKI_PUBLICATION_INFO_new();
    CMPCA_SINGLE_PUB_INFO *spi = CMPCA_SINGLE_PUB_INFO_new();

    if (pi == NULL || spi == NULL || ASN1_INTEGER_set(pi->action, 1) <= 0 ||
        ASN1_INTEGER_set(spi->pubMethod, 2) <= 0 ||
        (spi->pubLocation = asn1t_dn_new("directory")) == NULL ||
        (pi->pubInfos = sk_CMPCA_SINGLE_PUB_INFO_new_null()) == NULL ||
        sk_CMPCA_SINGLE_PUB_INFO_push(pi->pubInfos, spi) <= 0) {
        CMPCA_SINGLE_PUB_INFO_free(spi);
        CMPCA_PKI_PUBLICATION_INFO_free(pi);
        return NULL;
    }
    return pi;
}

/* v2: the certificate (kup adds an EncryptedValue key and publicationInfo);
 * v3: certificate and private key as EnvelopedData. */
static CMPCA_CERTIFIED_KEY_PAIR *ckp_new(const struct asn1_fx *fx, int type,
                                         int v3)
{
    CMPCA_CERTIFIED_KEY_PAIR *ckp = CMPCA_CERTIFIED_KEY_PAIR_new();
    CMPCA_CERT_OR_ENC_CERT *coec;
    int ok;

    if (ckp == NULL)
        return NULL;
    coec = ckp->certOrEncCert;
    if (v3) {
        coec->type = CMPCA_CERTORENC_ENCRYPTEDCERT;
        ok = (coec->value.encryptedCert = enckey_new(1)) != NULL &&
             (ckp->privateKey = enckey_new(1)) != NULL;
    } else {
        coec->type = CMPCA_CERTORENC_CERTIFICATE;
        ok = (coec->value.certificate = asn1t_cert_ref(fx->cert)) != NULL;
        if (ok && type == CMPCA_BODY_KUP)
            ok = (ckp->privateKey = enckey_new(0)) != NULL &&
                 (ckp->publicationInfo = pubinfo_new()) != NULL;
    }
    if (!ok) {
        CMPCA_CERTIFIED_KEY_PAIR_free(ckp);
        return NULL;
    }
    return ckp;
}

static int rep_add(CMPCA_CERT_REP_MESSAGE *rep, const struct asn1_fx *fx,
                   int type, int v3, long id)
{
    CMPCA_CERT_RESPONSE *rsp = CMPCA_CERT_RESPONSE_new();
    int rejected = id != 0; /* ccp: the second request is refused */

    if (rsp == NULL || ASN1_INTEGER_set(rsp->certReqId, id) <= 0)
        goto err;
    if (asn1t_set_si(&rsp->status, rejected ? 2 : 0, rejected ? 19 : -1,
                     type == CMPCA_BODY_CP ? "issued" : NULL) != 0)
        goto err;
    if (!rejected && (rsp->certifiedKeyPair = ckp_new(fx, type, v3)) == NULL)
        goto err;
    if (type == CMPCA_BODY_CP &&
        (rsp->rspInfo = asn1t_octets_new("rspInfo")) == NULL)
        goto err;
    if (sk_CMPCA_CERT_RESPONSE_push(rep->response, rsp) <= 0)
        goto err;
    return 0;
err:
    CMPCA_CERT_RESPONSE_free(rsp);
    return -1;
}

static CMPCA_CERT_REP_MESSAGE *rep_new(const struct asn1_fx *fx, int type,
                                       int v3)
{
    CMPCA_CERT_REP_MESSAGE *rep = CMPCA_CERT_REP_MESSAGE_new();

    if (rep == NULL || rep_add(rep, fx, type, v3, 0) != 0)
        goto err;
    if (type == CMPCA_BODY_IP &&
        (rep->caPubs = asn1t_certs_new(fx->cert)) == NULL)
        goto err;
    if (type == CMPCA_BODY_CCP && rep_add(rep, fx, type, v3, 1) != 0)
        goto err;
    return rep;
err:
    CMPCA_CERT_REP_MESSAGE_free(rep);
    return NULL;
}

/* ---- popdecc, popdecr, krp ------------------------------------------- */

static STACK_OF(CMPCA_CHALLENGE) *popdecc_new(int v3)
{
    STACK_OF(CMPCA_CHALLENGE) *sk = sk_CMPCA_CHALLENGE_new_null();
    CMPCA_CHALLENGE *ch = NULL;
    int i;

    for (i = 0; sk != NULL && i < 2; i++) {
        ch = CMPCA_CHALLENGE_new();
        if (ch == NULL ||
            ASN1_OCTET_STRING_set(ch->witness, (const unsigned char *)"w", 1) <=
                0 ||
            (i == 0 && (ch->owf = asn1t_alg_new(NID_sha256)) == NULL))
            goto err;
        /* cmp2021: empty challenge, Rand in encryptedRand */
        if (v3 && (ch->encryptedRand = asn1t_env_new()) == NULL)
            goto err;
        if (!v3 && ASN1_OCTET_STRING_set(ch->challenge,
                                         (const unsigned char *)"c", 1) <= 0)
            goto err;
        if (sk_CMPCA_CHALLENGE_push(sk, ch) <= 0)
            goto err;
    }
    return sk;
err:
    CMPCA_CHALLENGE_free(ch);
    sk_CMPCA_CHALLENGE_pop_free(sk, CMPCA_CHALLENGE_free);
    return NULL;
}

static STACK_OF(ASN1_INTEGER) *ints_new(long a, long b)
{
    STACK_OF(ASN1_INTEGER) *sk = sk_ASN1_INTEGER_new_null();
    ASN1_INTEGER *ia = asn1t_int_new(a), *ib = asn1t_int_new(b);

    if (sk == NULL || ia == NULL || ib == NULL ||
        sk_ASN1_INTEGER_push(sk, ia) <= 0)
        goto err;
    ia = NULL;
    if (sk_ASN1_INTEGER_push(sk, ib) <= 0)
        goto err;
    return sk;
err:
    ASN1_INTEGER_free(ia);
    ASN1_INTEGER_free(ib);
    sk_ASN1_INTEGER_pop_free(sk, ASN1_INTEGER_free);
    return NULL;
}

static CMPCA_KEY_REC_REP_CONTENT *krp_new(const struct asn1_fx *fx, int v3)
{
    CMPCA_KEY_REC_REP_CONTENT *krp = CMPCA_KEY_REC_REP_CONTENT_new();
    CMPCA_CERTIFIED_KEY_PAIR *ckp = ckp_new(fx, CMPCA_BODY_KUP, v3);

    if (krp == NULL || ckp == NULL ||
        asn1t_set_si(&krp->status, 0, -1, NULL) != 0 ||
        (krp->newSigCert = asn1t_cert_ref(fx->cert)) == NULL ||
        (krp->caCerts = asn1t_certs_new(fx->cert)) == NULL ||
        (krp->keyPairHist = sk_CMPCA_CERTIFIED_KEY_PAIR_new_null()) == NULL ||
        sk_CMPCA_CERTIFIED_KEY_PAIR_push(krp->keyPairHist, ckp) <= 0) {
        CMPCA_CERTIFIED_KEY_PAIR_free(ckp);
        CMPCA_KEY_REC_REP_CONTENT_free(krp);
        return NULL;
    }
    return krp;
}

/* ---- revocation: rr, rp, rann; CA key update: ckuann ------------------ */

/* reason_exts_new: Extensions holding one CRLReason (no string form). */
static STACK_OF(X509_EXTENSION) *reason_exts_new(long reason)
{
    STACK_OF(X509_EXTENSION) *sk = NULL;
    ASN1_ENUMERATED *e = ASN1_ENUMERATED_new();
    X509_EXTENSION *ext = NULL;

    if (e != NULL && ASN1_ENUMERATED_set(e, reason) > 0)
        ext = X509V3_EXT_i2d(NID_crl_reason, 0, e);
    if (ext == NULL || X509v3_add_ext(&sk, ext, -1) == NULL) {
        sk_X509_EXTENSION_pop_free(sk, X509_EXTENSION_free);
        sk = NULL;
    }
    X509_EXTENSION_free(ext);
    ASN1_ENUMERATED_free(e);
    return sk;
}

static STACK_OF(CMPCA_REV_DETAILS) *rr_new(void)
{
    STACK_OF(CMPCA_REV_DETAILS) *sk = sk_CMPCA_REV_DETAILS_new_null();
    CMPCA_REV_DETAILS *rd = CMPCA_REV_DETAILS_new();
    CMPCA_CERT_TEMPLATE *t;

    if (sk == NULL || rd == NULL)
        goto err;
    t = rd->certDetails;
    if ((t->issuer = asn1t_name_new(ASN1_TEST_RECIPIENT_CN)) == NULL ||
        (t->serialNumber = asn1t_int_new(4711)) == NULL ||
        (rd->crlEntryDetails = reason_exts_new(1)) == NULL ||
        sk_CMPCA_REV_DETAILS_push(sk, rd) <= 0)
        goto err;
    return sk;
err:
    CMPCA_REV_DETAILS_free(rd);
    sk_CMPCA_REV_DETAILS_free(sk);
    return NULL;
}

static CMPCA_REV_REP_CONTENT *rp_new(const struct asn1_fx *fx)
{
    CMPCA_REV_REP_CONTENT *rp = CMPCA_REV_REP_CONTENT_new();
    CMPCA_PKISTATUSINFO *si = asn1t_si_new(0, -1, NULL);
    CMPCA_CERT_ID *id = asn1t_cert_id_new(4711);
    X509_CRL *crl = fx->crl;

    if (rp == NULL || si == NULL || id == NULL ||
        sk_CMPCA_PKISTATUSINFO_push(rp->status, si) <= 0)
        goto err;
    si = NULL;
    if ((rp->revCerts = sk_CMPCA_CERT_ID_new_null()) == NULL ||
        sk_CMPCA_CERT_ID_push(rp->revCerts, id) <= 0)
        goto err;
    id = NULL;
    if ((rp->crls = sk_X509_CRL_new_null()) == NULL || !X509_CRL_up_ref(crl))
        goto err;
    if (sk_X509_CRL_push(rp->crls, crl) <= 0) {
        X509_CRL_free(crl);
        goto err;
    }
    return rp;
err:
    CMPCA_PKISTATUSINFO_free(si);
    CMPCA_CERT_ID_free(id);
    CMPCA_REV_REP_CONTENT_free(rp);
    return NULL;
}

static CMPCA_REV_ANN_CONTENT *rann_new(void)
{
    CMPCA_REV_ANN_CONTENT *ra = CMPCA_REV_ANN_CONTENT_new();

    if (ra == NULL || ASN1_INTEGER_set(ra->status, 4) <= 0 ||
        !ASN1_GENERALIZEDTIME_set_string(ra->willBeRevokedAt,
                                         "20300101000000Z") ||
        !ASN1_GENERALIZEDTIME_set_string(ra->badSinceDate, "20240101000000Z") ||
        (ra->crlDetails = reason_exts_new(4)) == NULL)
        goto err;
    CMPCA_CERT_ID_free(ra->certId);
    if ((ra->certId = asn1t_cert_id_new(4711)) == NULL)
        goto err;
    return ra;
err:
    CMPCA_REV_ANN_CONTENT_free(ra);
    return NULL;
}

static int cert_set(X509 **field, X509 *c)
{
    X509_free(*field);
    *field = asn1t_cert_ref(c);
    return *field != NULL ? 0 : -1;
}

static CMPCA_CA_KEY_UPD_CONTENT *ckuann_new(const struct asn1_fx *fx, int v3)
{
    CMPCA_CA_KEY_UPD_CONTENT *cku = CMPCA_CA_KEY_UPD_CONTENT_new();
    CMPCA_CA_KEY_UPD_ANN *v2 = NULL;
    CMPCA_ROOT_CA_KEY_UPDATE *r = NULL;

    if (cku == NULL)
        return NULL;
    if (v3) {
        cku->type = CMPCA_CKU_V3;
        cku->value.cAKeyUpdAnnV3 = r = CMPCA_ROOT_CA_KEY_UPDATE_new();
        if (r == NULL || cert_set(&r->newWithNew, fx->cert) != 0 ||
            (r->newWithOld = asn1t_cert_ref(fx->cert)) == NULL)
            goto err;
    } else {
        cku->type = CMPCA_CKU_V2;
        cku->value.cAKeyUpdAnnV2 = v2 = CMPCA_CA_KEY_UPD_ANN_new();
        if (v2 == NULL || cert_set(&v2->oldWithNew, fx->cert) != 0 ||
            cert_set(&v2->newWithOld, fx->cert) != 0 ||
            cert_set(&v2->newWithNew, fx->cert) != 0)
            goto err;
    }
    return cku;
err:
    CMPCA_CA_KEY_UPD_CONTENT_free(cku);
    return NULL;
}

/* ---- genm/genp, error, certConf, polling, nested --------------------- */

static STACK_OF(CMPCA_ITAV) *itavs_new(int rep)
{
    /* SEQUENCE { AlgorithmIdentifier { ecdsa-with-SHA256 } } */
    static const unsigned char algs[] = {0x30, 0x0c, 0x30, 0x0a, 0x06,
                                         0x08, 0x2a, 0x86, 0x48, 0xce,
                                         0x3d, 0x04, 0x03, 0x02};
    /* UTF8String "hello" */
    static const unsigned char utf8[] = {0x0c, 0x05, 'h', 'e', 'l', 'l', 'o'};
    STACK_OF(CMPCA_ITAV) *sk = sk_CMPCA_ITAV_new_null();
    CMPCA_ITAV *a, *b;

    a = asn1t_itav_new(ASN1_TEST_OID_SIGN_KEY_PAIR_TYPES,
                       rep ? asn1t_any_new(algs, sizeof(algs)) : NULL);
    b = asn1t_itav_new(ASN1_TEST_OID_PRIVATE,
                       asn1t_any_new(utf8, sizeof(utf8)));
    if (sk == NULL || a == NULL || b == NULL || (rep && a->infoValue == NULL) ||
        b->infoValue == NULL || sk_CMPCA_ITAV_push(sk, a) <= 0)
        goto err;
    a = NULL;
    if (sk_CMPCA_ITAV_push(sk, b) <= 0)
        goto err;
    return sk;
err:
    CMPCA_ITAV_free(a);
    CMPCA_ITAV_free(b);
    sk_CMPCA_ITAV_pop_free(sk, CMPCA_ITAV_free);
    return NULL;
}

static CMPCA_ERROR_MSG_CONTENT *error_new(void)
{
    CMPCA_ERROR_MSG_CONTENT *e = CMPCA_ERROR_MSG_CONTENT_new();

    if (e == NULL ||
        asn1t_set_si(&e->pKIStatusInfo, 2, 2, "bad request") != 0 ||
        (e->errorCode = asn1t_int_new(42)) == NULL ||
        (e->errorDetails = asn1t_text_new("details")) == NULL) {
        CMPCA_ERROR_MSG_CONTENT_free(e);
        return NULL;
    }
    return e;
}

static STACK_OF(CMPCA_CERT_STATUS) *certconf_new(int v3)
{
    STACK_OF(CMPCA_CERT_STATUS) *sk = sk_CMPCA_CERT_STATUS_new_null();
    CMPCA_CERT_STATUS *cs = CMPCA_CERT_STATUS_new();
    unsigned char hash[32];

    memset(hash, 0xa5, sizeof(hash));
    if (sk == NULL || cs == NULL ||
        !ASN1_OCTET_STRING_set(cs->certHash, hash, sizeof(hash)) ||
        ASN1_INTEGER_set(cs->certReqId, 0) <= 0 ||
        (cs->statusInfo = asn1t_si_new(0, -1, NULL)) == NULL)
        goto err;
    if (v3 && (cs->hashAlg = asn1t_alg_new(NID_sha256)) == NULL)
        goto err;
    if (sk_CMPCA_CERT_STATUS_push(sk, cs) <= 0)
        goto err;
    return sk;
err:
    CMPCA_CERT_STATUS_free(cs);
    sk_CMPCA_CERT_STATUS_free(sk);
    return NULL;
}

static STACK_OF(CMPCA_POLL_REQ) *pollreq_new(void)
{
    STACK_OF(CMPCA_POLL_REQ) *sk = sk_CMPCA_POLL_REQ_new_null();
    CMPCA_POLL_REQ *pr = CMPCA_POLL_REQ_new();

    if (sk == NULL || pr == NULL || ASN1_INTEGER_set(pr->certReqId, 0) <= 0 ||
        sk_CMPCA_POLL_REQ_push(sk, pr) <= 0) {
        CMPCA_POLL_REQ_free(pr);
        sk_CMPCA_POLL_REQ_free(sk);
        return NULL;
    }
    return sk;
}

static STACK_OF(CMPCA_POLL_REP) *pollrep_new(void)
{
    STACK_OF(CMPCA_POLL_REP) *sk = sk_CMPCA_POLL_REP_new_null();
    CMPCA_POLL_REP *pr = CMPCA_POLL_REP_new();

    if (sk == NULL || pr == NULL || ASN1_INTEGER_set(pr->certReqId, 0) <= 0 ||
        ASN1_INTEGER_set(pr->checkAfter, 60) <= 0 ||
        (pr->reason = asn1t_text_new("busy")) == NULL ||
        sk_CMPCA_POLL_REP_push(sk, pr) <= 0) {
        CMPCA_POLL_REP_free(pr);
        sk_CMPCA_POLL_REP_free(sk);
        return NULL;
    }
    return sk;
}

static STACK_OF(CMPCA_PKIMESSAGE) *nested_new(const struct asn1_fx *fx, int v3)
{
    STACK_OF(CMPCA_PKIMESSAGE) *sk = sk_CMPCA_PKIMESSAGE_new_null();
    CMPCA_PKIMESSAGE *a = asn1_test_msg_new(fx, CMPCA_BODY_IR, v3);
    CMPCA_PKIMESSAGE *b = asn1_test_msg_new(fx, CMPCA_BODY_CERTCONF, v3);

    if (sk == NULL || a == NULL || b == NULL ||
        sk_CMPCA_PKIMESSAGE_push(sk, a) <= 0)
        goto err;
    a = NULL;
    if (sk_CMPCA_PKIMESSAGE_push(sk, b) <= 0)
        goto err;
    return sk;
err:
    CMPCA_PKIMESSAGE_free(a);
    CMPCA_PKIMESSAGE_free(b);
    sk_CMPCA_PKIMESSAGE_pop_free(sk, CMPCA_PKIMESSAGE_free);
    return NULL;
}

/* ---- the body and the message ----------------------------------------- */

static STACK_OF(X509_CRL) *crls_new(X509_CRL *crl)
{
    STACK_OF(X509_CRL) *sk = sk_X509_CRL_new_null();

    if (sk == NULL || !X509_CRL_up_ref(crl))
        goto err;
    if (sk_X509_CRL_push(sk, crl) <= 0) {
        X509_CRL_free(crl);
        goto err;
    }
    return sk;
err:
    sk_X509_CRL_free(sk);
    return NULL;
}

/* body_set0 stores `v` (any pointer member of the union) in the body. The
 * union members are all pointers at one offset, so writing via `ir` and
 * letting the template read the arm of `type` is what the templates do. */
static int body_set0(CMPCA_PKIBODY *b, int type, void *v)
{
    b->type = type;
    b->value.ir = v;
    return v != NULL ? 0 : -1;
}

static int body_fill(CMPCA_PKIBODY *b, const struct asn1_fx *fx, int type,
                     int v3)
{
    switch (type) {
    case CMPCA_BODY_IR:
    case CMPCA_BODY_CR:
    case CMPCA_BODY_KUR:
    case CMPCA_BODY_KRR:
    case CMPCA_BODY_CCR:
        return body_set0(b, type, asn1t_crms_new(fx, type, v3));
    case CMPCA_BODY_IP:
    case CMPCA_BODY_CP:
    case CMPCA_BODY_KUP:
    case CMPCA_BODY_CCP:
        return body_set0(b, type, rep_new(fx, type, v3));
    case CMPCA_BODY_P10CR:
        return body_set0(b, type, X509_REQ_dup(fx->req));
    case CMPCA_BODY_POPDECC:
        return body_set0(b, type, popdecc_new(v3));
    case CMPCA_BODY_POPDECR:
        return body_set0(b, type, ints_new(12345, 67890));
    case CMPCA_BODY_KRP:
        return body_set0(b, type, krp_new(fx, v3));
    case CMPCA_BODY_RR:
        return body_set0(b, type, rr_new());
    case CMPCA_BODY_RP:
        return body_set0(b, type, rp_new(fx));
    case CMPCA_BODY_CKUANN:
        return body_set0(b, type, ckuann_new(fx, v3));
    case CMPCA_BODY_CANN:
        return body_set0(b, type, asn1t_cert_ref(fx->cert));
    case CMPCA_BODY_RANN:
        return body_set0(b, type, rann_new());
    case CMPCA_BODY_CRLANN:
        return body_set0(b, type, crls_new(fx->crl));
    case CMPCA_BODY_PKICONF:
        return body_set0(b, type, ASN1_NULL_new());
    case CMPCA_BODY_NESTED:
        return body_set0(b, type, nested_new(fx, v3));
    case CMPCA_BODY_GENM:
    case CMPCA_BODY_GENP:
        return body_set0(b, type, itavs_new(type == CMPCA_BODY_GENP));
    case CMPCA_BODY_ERROR:
        return body_set0(b, type, error_new());
    case CMPCA_BODY_CERTCONF:
        return body_set0(b, type, certconf_new(v3));
    case CMPCA_BODY_POLLREQ:
        return body_set0(b, type, pollreq_new());
    case CMPCA_BODY_POLLREP:
        return body_set0(b, type, pollrep_new());
    default:
        return -1;
    }
}

CMPCA_PKIMESSAGE *asn1_test_msg_new(const struct asn1_fx *fx, int type, int v3)
{
    CMPCA_PKIMESSAGE *msg = CMPCA_PKIMESSAGE_new();
    CMPCA_PKIHEADER *hdr = asn1t_header_new(v3);

    if (msg == NULL || hdr == NULL)
        goto err;
    CMPCA_PKIHEADER_free(msg->header);
    msg->header = hdr;
    hdr = NULL;
    if (body_fill(msg->body, fx, type, v3) != 0 ||
        (msg->protection = asn1t_bits_new("protection bits")) == NULL ||
        (msg->extraCerts = asn1t_certs_new(fx->cert)) == NULL)
        goto err;
    return msg;
err:
    CMPCA_PKIHEADER_free(hdr);
    CMPCA_PKIMESSAGE_free(msg);
    return NULL;
}
