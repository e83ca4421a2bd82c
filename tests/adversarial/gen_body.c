/*
 * gen_body.c: the bodies adv_gen can put in a message: certificate requests
 * (ir, cr, kur and krr, with any template, controls and proof of
 * possession), certConf and rr. Each takes its content from the options,
 * including the wrong content a case asks for (another key's POP, an
 * oldCertID naming someone else's certificate, a certHash of nothing).
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/objects.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "gen.h"

ASN1_OCTET_STRING *gen_octets_random(long len)
{
    ASN1_OCTET_STRING *s = ASN1_OCTET_STRING_new();
    unsigned char *buf = malloc(len > 0 ? (size_t)len : 1);

    if (s == NULL || buf == NULL || len < 0 ||
        (len > 0 && RAND_bytes(buf, (int)len) <= 0) ||
        !ASN1_OCTET_STRING_set(s, buf, (int)len))
        gen_die("random octets");
    free(buf);
    return s;
}

GENERAL_NAME *gen_dirname(X509_NAME *owned)
{
    GENERAL_NAME *gn = GENERAL_NAME_new();

    if (gn == NULL || owned == NULL)
        gen_die("out of memory");
    gn->type = GEN_DIRNAME;
    gn->d.directoryName = owned;
    return gn;
}

/* ---- certificate requests ------------------------------------------------ */

static void add_ext(STACK_OF(X509_EXTENSION) **exts, int nid, const char *val)
{
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, NULL, nid, val);

    if (ext == NULL || X509v3_add_ext(exts, ext, -1) == NULL)
        gen_die("template extension");
    X509_EXTENSION_free(ext);
}

static void fill_template(const struct gen_build *b, CMPCA_CERT_TEMPLATE *t)
{
    const struct msg_opts *o = b->o;
    time_t now = b->now;

    if (!o->no_pubkey && !X509_PUBKEY_set(&t->publicKey, b->newkey))
        gen_die("template publicKey");
    if (o->subject != NULL)
        t->subject = gen_parse_name(o->subject);
    if (o->days != 0) {
        if ((t->validity = CMPCA_OPTIONAL_VALIDITY_new()) == NULL ||
            (t->validity->notAfter =
                 X509_time_adj_ex(NULL, (int)o->days, 0, &now)) == NULL)
            gen_die("template validity");
    }
    if (o->ca_true)
        add_ext(&t->extensions, NID_basic_constraints, "critical,CA:TRUE");
    if (o->san != NULL)
        add_ext(&t->extensions, NID_subject_alt_name, o->san);
}

/* kur: the oldCertID control naming `old` (RFC 4211 6.5). */
static void add_old_cert_id(CMPCA_CERT_REQUEST *req, X509 *old)
{
    CMPCA_CERT_ID *id = CMPCA_CERT_ID_new();
    CMPCA_ATAV *atav = CMPCA_ATAV_new();
    ASN1_STRING *seq = ASN1_STRING_new();
    unsigned char *der = NULL;
    int len;

    if (id == NULL || atav == NULL || seq == NULL)
        gen_die("out of memory");
    GENERAL_NAME_free(id->issuer);
    id->issuer = gen_dirname(X509_NAME_dup(X509_get_issuer_name(old)));
    ASN1_INTEGER_free(id->serialNumber);
    id->serialNumber = ASN1_INTEGER_dup(X509_get0_serialNumber(old));
    if ((len = i2d_CMPCA_CERT_ID(id, &der)) <= 0 ||
        !ASN1_STRING_set(seq, der, len))
        gen_die("oldCertID");
    OPENSSL_free(der);
    CMPCA_CERT_ID_free(id);
    ASN1_OBJECT_free(atav->type);
    atav->type = OBJ_nid2obj(NID_id_regCtrl_oldCertID);
    ASN1_TYPE_free(atav->value); /* the template made an empty ANY */
    if ((atav->value = ASN1_TYPE_new()) == NULL ||
        (req->controls == NULL &&
         (req->controls = sk_CMPCA_ATAV_new_null()) == NULL))
        gen_die("out of memory");
    ASN1_TYPE_set(atav->value, V_ASN1_SEQUENCE, seq);
    sk_CMPCA_ATAV_push(req->controls, atav);
}

static void add_pop(const struct gen_build *b, CMPCA_CERT_REQ_MSG *crm)
{
    const struct msg_opts *o = b->o;
    const char *how = o->pop != NULL ? o->pop : "sig";
    CMPCA_POPOSIGNINGKEY *sk;
    EVP_PKEY *popkey = b->newkey, *other = NULL;

    if (strcmp(how, "none") == 0)
        return;
    if ((crm->popo = CMPCA_POPO_new()) == NULL)
        gen_die("out of memory");
    if (strcmp(how, "raverified") == 0) {
        crm->popo->type = CMPCA_POPO_RAVERIFIED;
        if ((crm->popo->value.raVerified = ASN1_NULL_new()) == NULL)
            gen_die("out of memory");
        return;
    }
    if (strcmp(how, "sig") != 0)
        gen_die("unknown --pop");
    if (o->popkey != NULL)
        popkey = other = gen_load_key(b->d, o->popkey);
    if ((sk = CMPCA_POPOSIGNINGKEY_new()) == NULL)
        gen_die("out of memory");
    crm->popo->type = CMPCA_POPO_SIGNATURE;
    crm->popo->value.signature = sk;
    if (ASN1_item_sign(ASN1_ITEM_rptr(CMPCA_CERT_REQUEST),
                       sk->algorithmIdentifier, NULL, sk->signature,
                       crm->certReq, popkey, gen_md(o->pop_md)) <= 0)
        gen_die("POP signature");
    EVP_PKEY_free(other);
}

static STACK_OF(CMPCA_CERT_REQ_MSG) *cert_req_msgs(const struct gen_build *b)
{
    const struct msg_opts *o = b->o;
    STACK_OF(CMPCA_CERT_REQ_MSG) *sk = sk_CMPCA_CERT_REQ_MSG_new_null();
    X509 *old = NULL;

    if (sk == NULL)
        gen_die("out of memory");
    if (strcmp(o->body, "kur") == 0)
        old = o->old_cert != NULL ? gen_load_cert(b->d, o->old_cert)
                                  : X509_dup(b->signer);
    for (long i = 0; i < o->crm_count; i++) {
        CMPCA_CERT_REQ_MSG *crm = CMPCA_CERT_REQ_MSG_new();

        if (crm == NULL ||
            !ASN1_INTEGER_set(crm->certReq->certReqId, o->certreqid + i))
            gen_die("out of memory");
        fill_template(b, crm->certReq->certTemplate);
        if (old != NULL)
            add_old_cert_id(crm->certReq, old);
        add_pop(b, crm);
        sk_CMPCA_CERT_REQ_MSG_push(sk, crm);
    }
    X509_free(old);
    return sk;
}

/* ---- certConf and rr ------------------------------------------------------
 */

X509 *gen_msg_cert(const CMPCA_PKIMESSAGE *m)
{
    const CMPCA_CERT_REP_MESSAGE *rep;
    const CMPCA_CERT_RESPONSE *r;

    if (m->body->type != CMPCA_BODY_IP && m->body->type != CMPCA_BODY_CP &&
        m->body->type != CMPCA_BODY_KUP)
        return NULL;
    rep = m->body->value.ip;
    if (sk_CMPCA_CERT_RESPONSE_num(rep->response) < 1)
        return NULL;
    r = sk_CMPCA_CERT_RESPONSE_value(rep->response, 0);
    if (r->certifiedKeyPair == NULL ||
        r->certifiedKeyPair->certOrEncCert->type != CMPCA_CERTORENC_CERTIFICATE)
        return NULL;
    return r->certifiedKeyPair->certOrEncCert->value.certificate;
}

static STACK_OF(CMPCA_CERT_STATUS) *cert_conf(const struct gen_build *b)
{
    STACK_OF(CMPCA_CERT_STATUS) *sk = sk_CMPCA_CERT_STATUS_new_null();
    CMPCA_CERT_STATUS *cs = CMPCA_CERT_STATUS_new();
    CMPCA_PKIMESSAGE *rsp = NULL;
    ASN1_OCTET_STRING *hash = NULL;
    X509 *cert;

    if (sk == NULL || cs == NULL ||
        !ASN1_INTEGER_set(cs->certReqId, b->o->certreqid))
        gen_die("out of memory");
    if (b->o->certhash_from != NULL) {
        rsp = gen_read_msg(b->o->certhash_from);
        if ((cert = gen_msg_cert(rsp)) == NULL ||
            (hash = X509_digest_sig(cert, NULL, NULL)) == NULL)
            gen_die("no certificate to hash in the saved response");
        CMPCA_PKIMESSAGE_free(rsp);
    } else {
        hash = gen_octets_random(32);
    }
    ASN1_OCTET_STRING_free(cs->certHash);
    cs->certHash = hash;
    if (b->o->certconf_reject &&
        (cs->statusInfo = CMPCA_PKISTATUSINFO_new()) != NULL)
        ASN1_INTEGER_set(cs->statusInfo->status, CMPCA_STATUS_REJECTION);
    sk_CMPCA_CERT_STATUS_push(sk, cs);
    return sk;
}

static STACK_OF(CMPCA_REV_DETAILS) *rev_req(const struct gen_build *b)
{
    STACK_OF(CMPCA_REV_DETAILS) *sk = sk_CMPCA_REV_DETAILS_new_null();
    CMPCA_REV_DETAILS *rd = CMPCA_REV_DETAILS_new();
    X509 *target;

    if (b->o->rr_cert == NULL)
        gen_die("rr needs --rr-cert");
    target = gen_load_cert(b->d, b->o->rr_cert);
    if (sk == NULL || rd == NULL ||
        (rd->certDetails->issuer =
             X509_NAME_dup(X509_get_issuer_name(target))) == NULL ||
        (rd->certDetails->serialNumber =
             ASN1_INTEGER_dup(X509_get0_serialNumber(target))) == NULL)
        gen_die("out of memory");
    sk_CMPCA_REV_DETAILS_push(sk, rd);
    X509_free(target);
    return sk;
}

void gen_set_body(const struct gen_build *b, CMPCA_PKIBODY *body)
{
    const char *name = b->o->body;

    if (strcmp(name, "ir") == 0 || strcmp(name, "cr") == 0 ||
        strcmp(name, "kur") == 0 || strcmp(name, "krr") == 0) {
        body->type = strcmp(name, "ir") == 0    ? CMPCA_BODY_IR
                     : strcmp(name, "cr") == 0  ? CMPCA_BODY_CR
                     : strcmp(name, "kur") == 0 ? CMPCA_BODY_KUR
                                                : CMPCA_BODY_KRR;
        body->value.ir = cert_req_msgs(b);
    } else if (strcmp(name, "certconf") == 0) {
        body->type = CMPCA_BODY_CERTCONF;
        body->value.certConf = cert_conf(b);
    } else if (strcmp(name, "rr") == 0) {
        body->type = CMPCA_BODY_RR;
        body->value.rr = rev_req(b);
    } else {
        gen_die("unknown --body");
    }
}
