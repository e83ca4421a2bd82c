/*
 * test_asn1_client.c: messages written by the real `openssl cmp` client and
 * its mock server (tests/unit/data/asn1, see README.md there), decoded
 * field by field. A template that mis-tags or reorders a field decodes our
 * own output fine but not these; verifying the protection and the POPO
 * over our re-encoded ProtectedPart and CertRequest shows the bytes match
 * what OpenSSL signed.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/cmp.h>
#include <openssl/crmf.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/x509v3.h>

#include "check.h"
#include "test_asn1.h"

struct blob {
    unsigned char *p;
    size_t len;
};

static const struct {
    const char *file;
    int type;
} client_files[] = {
    {"ir.der", CMPCA_BODY_IR},
    {"ip.der", CMPCA_BODY_IP},
    {"certconf.der", CMPCA_BODY_CERTCONF},
    {"pkiconf.der", CMPCA_BODY_PKICONF},
    {"cr.der", CMPCA_BODY_CR},
    {"cp.der", CMPCA_BODY_CP},
    {"kur.der", CMPCA_BODY_KUR},
    {"kup.der", CMPCA_BODY_KUP},
    {"kur_certconf.der", CMPCA_BODY_CERTCONF},
    {"p10cr.der", CMPCA_BODY_P10CR},
    {"rr.der", CMPCA_BODY_RR},
    {"rp.der", CMPCA_BODY_RP},
    {"genm.der", CMPCA_BODY_GENM},
    {"genp.der", CMPCA_BODY_GENP},
    {"pollreq.der", CMPCA_BODY_POLLREQ},
    {"pollrep.der", CMPCA_BODY_POLLREP},
    {"ip_waiting.der", CMPCA_BODY_IP},
    {"error.der", CMPCA_BODY_ERROR},
    {"ir_pbm.der", CMPCA_BODY_IR},
    {"ip_pbm.der", CMPCA_BODY_IP},
};

static int same_octets(const ASN1_OCTET_STRING *a, const ASN1_OCTET_STRING *b)
{
    return a != NULL && b != NULL && ASN1_OCTET_STRING_cmp(a, b) == 0;
}

static int alg_nid(const X509_ALGOR *a)
{
    const ASN1_OBJECT *obj = NULL;

    if (a == NULL)
        return NID_undef;
    X509_ALGOR_get0(&obj, NULL, NULL, a);
    return OBJ_obj2nid(obj);
}

/* protected_part_der encodes ProtectedPart { header, body } of `m`. */
static int protected_part_der(const CMPCA_PKIMESSAGE *m, unsigned char **out)
{
    CMPCA_PROTECTED_PART pp;

    pp.header = m->header; /* borrowed: pp is never freed */
    pp.body = m->body;
    return i2d_CMPCA_PROTECTED_PART(&pp, out);
}

/* verify_sig checks `sig` over `data` with `key` (digest from the OID). */
static int verify_sig(EVP_PKEY *key, const EVP_MD *md,
                      const ASN1_BIT_STRING *sig, const unsigned char *data,
                      int data_len)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int ok = ctx != NULL && data_len > 0 &&
             EVP_DigestVerifyInit(ctx, NULL, md, NULL, key) > 0 &&
             EVP_DigestVerify(ctx, ASN1_STRING_get0_data(sig),
                              (size_t)ASN1_STRING_length(sig), data,
                              (size_t)data_len) == 1;

    EVP_MD_CTX_free(ctx);
    return ok;
}

static void check_ir_header(const CMPCA_PKIHEADER *h, X509 *dev)
{
    const ASN1_OCTET_STRING *ski = X509_get0_subject_key_id(dev);
    int md_nid = NID_undef, pk_nid = NID_undef;

    CHECK_INT_EQ(ASN1_INTEGER_get(h->pvno), 2);
    CHECK(h->sender->type == GEN_DIRNAME &&
          X509_NAME_cmp(h->sender->d.directoryName,
                        X509_get_subject_name(dev)) == 0);
    CHECK(h->recipient->type == GEN_DIRNAME);
    CHECK(h->messageTime != NULL);
    CHECK(OBJ_find_sigid_algs(alg_nid(h->protectionAlg), &md_nid, &pk_nid));
    CHECK(pk_nid == NID_X9_62_id_ecPublicKey || pk_nid == NID_rsaEncryption);
    CHECK(same_octets(h->senderKID, ski));
    CHECK_INT_EQ(ASN1_STRING_length(h->transactionID), 16);
    CHECK_INT_EQ(ASN1_STRING_length(h->senderNonce), 16);
    CHECK(h->recipNonce == NULL);
}

/* check_ir decodes ir.der as the brief lists; returns the message. */
static CMPCA_PKIMESSAGE *check_ir(const struct blob *ir, X509 *dev,
                                  EVP_PKEY *newpub)
{
    CMPCA_PKIMESSAGE *m = cmp_asn1_decode_msg(ir->p, ir->len);
    const CMPCA_CERT_REQ_MSG *crm;
    unsigned char *der = NULL;
    int der_len;

    CHECK(m != NULL);
    if (m == NULL)
        return NULL;
    check_ir_header(m->header, dev);
    CHECK_INT_EQ(m->body->type, CMPCA_BODY_IR);
    if (m->body->type != CMPCA_BODY_IR)
        return m;
    CHECK_INT_EQ(sk_CMPCA_CERT_REQ_MSG_num(m->body->value.ir), 1);
    crm = sk_CMPCA_CERT_REQ_MSG_value(m->body->value.ir, 0);
    CHECK_INT_EQ(ASN1_INTEGER_get(crm->certReq->certReqId), 0);
    CHECK(EVP_PKEY_eq(X509_PUBKEY_get0(crm->certReq->certTemplate->publicKey),
                      newpub) == 1);
    CHECK(crm->popo != NULL && crm->popo->type == CMPCA_POPO_SIGNATURE);
    if (crm->popo != NULL && crm->popo->type == CMPCA_POPO_SIGNATURE) {
        /* no poposkInput: the signature covers the CertRequest DER */
        der_len = i2d_CMPCA_CERT_REQUEST(crm->certReq, &der);
        CHECK(crm->popo->value.signature->poposkInput == NULL);
        CHECK(verify_sig(newpub, EVP_sha256(),
                         crm->popo->value.signature->signature, der, der_len));
        OPENSSL_free(der);
        der = NULL;
    }
    CHECK_INT_EQ(sk_X509_num(m->extraCerts), 1);
    CHECK(X509_cmp(sk_X509_value(m->extraCerts, 0), dev) == 0);
    der_len = protected_part_der(m, &der);
    CHECK(verify_sig(X509_get0_pubkey(dev), EVP_sha256(), m->protection, der,
                     der_len));
    OPENSSL_free(der);
    return m;
}

/* check_flow: ip answers the ir's nonce and the certConf hashes the ip's
 * certificate with the signature's digest (SHA-256). */
static void check_flow(const CMPCA_PKIMESSAGE *ir, const struct blob *ipb,
                       const struct blob *ccb, EVP_PKEY *newpub, X509 *dev)
{
    CMPCA_PKIMESSAGE *ip = cmp_asn1_decode_msg(ipb->p, ipb->len);
    CMPCA_PKIMESSAGE *cc = cmp_asn1_decode_msg(ccb->p, ccb->len);
    const CMPCA_CERT_RESPONSE *r;
    const CMPCA_CERT_STATUS *cs;
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int md_len = 0;
    X509 *cert;

    CHECK(ip != NULL && cc != NULL);
    if (ip == NULL || cc == NULL || ip->body->type != CMPCA_BODY_IP ||
        cc->body->type != CMPCA_BODY_CERTCONF)
        goto done;
    CHECK(same_octets(ip->header->recipNonce, ir->header->senderNonce));
    CHECK(same_octets(cc->header->recipNonce, ip->header->senderNonce));
    CHECK(same_octets(cc->header->transactionID, ir->header->transactionID));
    CHECK_INT_EQ(sk_X509_num(ip->body->value.ip->caPubs), 1);
    CHECK(X509_check_issued(sk_X509_value(ip->body->value.ip->caPubs, 0),
                            dev) == X509_V_OK);
    r = sk_CMPCA_CERT_RESPONSE_value(ip->body->value.ip->response, 0);
    CHECK(r != NULL && ASN1_INTEGER_get(r->status->status) == 0);
    if (r == NULL || r->certifiedKeyPair == NULL)
        goto done;
    cert = r->certifiedKeyPair->certOrEncCert->value.certificate;
    CHECK(EVP_PKEY_eq(X509_get0_pubkey(cert), newpub) == 1);
    CHECK(X509_digest(cert, EVP_sha256(), md, &md_len) == 1);
    CHECK_INT_EQ(sk_CMPCA_CERT_STATUS_num(cc->body->value.certConf), 1);
    cs = sk_CMPCA_CERT_STATUS_value(cc->body->value.certConf, 0);
    CHECK(cs != NULL && ASN1_INTEGER_get(cs->certReqId) == 0);
    CHECK(cs != NULL &&
          (unsigned int)ASN1_STRING_length(cs->certHash) == md_len &&
          memcmp(ASN1_STRING_get0_data(cs->certHash), md, md_len) == 0);
done:
    CMPCA_PKIMESSAGE_free(ip);
    CMPCA_PKIMESSAGE_free(cc);
}

/* check_pbm: ir_pbm.der is MAC-protected with secret "s3cret". Our
 * PBMParameter is decoded, re-encoded for OpenSSL's PBM function, and the
 * MAC over our ProtectedPart must equal the protection. */
static void check_pbm(const struct blob *b)
{
    CMPCA_PKIMESSAGE *m = cmp_asn1_decode_msg(b->p, b->len);
    CMPCA_PBM_PARAMETER *pbm = NULL;
    OSSL_CRMF_PBMPARAMETER *opbm = NULL;
    const ASN1_STRING *param = NULL;
    const unsigned char *p;
    unsigned char *der = NULL, *pder = NULL, *mac = NULL;
    size_t mac_len = 0;
    int ptype = 0, der_len, pder_len;
    const void *pval = NULL;

    CHECK(m != NULL);
    if (m == NULL)
        return;
    CHECK_INT_EQ(alg_nid(m->header->protectionAlg), NID_id_PasswordBasedMAC);
    CHECK(m->header->senderKID != NULL &&
          ASN1_STRING_length(m->header->senderKID) == 4 &&
          memcmp(ASN1_STRING_get0_data(m->header->senderKID), "1234", 4) == 0);
    X509_ALGOR_get0(NULL, &ptype, &pval, m->header->protectionAlg);
    CHECK_INT_EQ(ptype, V_ASN1_SEQUENCE);
    param = pval;
    p = ptype == V_ASN1_SEQUENCE ? ASN1_STRING_get0_data(param) : NULL;
    if (p != NULL)
        pbm = d2i_CMPCA_PBM_PARAMETER(NULL, &p, ASN1_STRING_length(param));
    CHECK(pbm != NULL);
    if (pbm == NULL)
        goto done;
    CHECK_INT_EQ(ASN1_STRING_length(pbm->salt), 16);
    CHECK_INT_EQ(alg_nid(pbm->owf), NID_sha256);
    CHECK_INT_EQ(ASN1_INTEGER_get(pbm->iterationCount), 500);
    CHECK_INT_EQ(alg_nid(pbm->mac), NID_hmac_sha1);
    pder_len = i2d_CMPCA_PBM_PARAMETER(pbm, &pder);
    p = pder;
    opbm = pder_len > 0 ? d2i_OSSL_CRMF_PBMPARAMETER(NULL, &p, pder_len) : NULL;
    der_len = protected_part_der(m, &der);
    CHECK(opbm != NULL && der_len > 0 &&
          OSSL_CRMF_pbm_new(NULL, NULL, opbm, der, (size_t)der_len,
                            (const unsigned char *)"s3cret", 6, &mac,
                            &mac_len) == 1);
    CHECK(mac != NULL && (int)mac_len == ASN1_STRING_length(m->protection) &&
          memcmp(mac, ASN1_STRING_get0_data(m->protection), mac_len) == 0);
done:
    OPENSSL_free(mac);
    OPENSSL_free(der);
    OPENSSL_free(pder);
    OSSL_CRMF_PBMPARAMETER_free(opbm);
    CMPCA_PBM_PARAMETER_free(pbm);
    CMPCA_PKIMESSAGE_free(m);
}

/* check_file: decode, re-encode to the same bytes, and OpenSSL agrees on
 * both the file and our encoding. */
static void check_file(const char *dir, const char *file, int type)
{
    struct blob b = {NULL, 0};
    CMPCA_PKIMESSAGE *m = NULL;
    OSSL_CMP_MSG *om = NULL, *om2 = NULL;
    unsigned char *der = NULL;
    const unsigned char *p;
    int len = -1;

    CHECK(asn1_read_file(dir, file, &b.p, &b.len) == 0);
    if (b.p == NULL)
        return;
    m = cmp_asn1_decode_msg(b.p, b.len);
    CHECK(m != NULL);
    if (m == NULL) {
        fprintf(stderr, "cannot decode %s\n", file);
        goto done;
    }
    CHECK_INT_EQ(m->body->type, type);
    len = i2d_CMPCA_PKIMESSAGE(m, &der);
    CHECK(len > 0 && (size_t)len == b.len && memcmp(der, b.p, b.len) == 0);
    p = b.p;
    om = d2i_OSSL_CMP_MSG(NULL, &p, (long)b.len);
    CHECK(om != NULL && OSSL_CMP_MSG_get_bodytype(om) == type);
    p = der;
    om2 = len > 0 ? d2i_OSSL_CMP_MSG(NULL, &p, len) : NULL;
    CHECK(om2 != NULL);
done:
    ERR_clear_error();
    OSSL_CMP_MSG_free(om);
    OSSL_CMP_MSG_free(om2);
    OPENSSL_free(der);
    CMPCA_PKIMESSAGE_free(m);
    OPENSSL_free(b.p);
}

static X509 *read_cert(const char *dir, const char *file)
{
    struct blob b = {NULL, 0};
    const unsigned char *p;
    X509 *x = NULL;

    if (asn1_read_file(dir, file, &b.p, &b.len) == 0) {
        p = b.p;
        x = d2i_X509(NULL, &p, (long)b.len);
    }
    OPENSSL_free(b.p);
    return x;
}

static EVP_PKEY *read_pubkey(const char *dir, const char *file)
{
    struct blob b = {NULL, 0};
    const unsigned char *p;
    EVP_PKEY *k = NULL;

    if (asn1_read_file(dir, file, &b.p, &b.len) == 0) {
        p = b.p;
        k = d2i_PUBKEY(NULL, &p, (long)b.len);
    }
    OPENSSL_free(b.p);
    return k;
}

int asn1_test_client(const char *dir)
{
    struct blob ir = {NULL, 0}, ip = {NULL, 0}, cc = {NULL, 0}, pbm = {NULL, 0};
    X509 *dev = read_cert(dir, "dev_cert.der");
    EVP_PKEY *newpub = read_pubkey(dir, "new_pub.der");
    CMPCA_PKIMESSAGE *irm = NULL;
    size_t i;

    CHECK(dev != NULL && newpub != NULL);
    CHECK(asn1_read_file(dir, "ir.der", &ir.p, &ir.len) == 0);
    CHECK(asn1_read_file(dir, "ip.der", &ip.p, &ip.len) == 0);
    CHECK(asn1_read_file(dir, "certconf.der", &cc.p, &cc.len) == 0);
    CHECK(asn1_read_file(dir, "ir_pbm.der", &pbm.p, &pbm.len) == 0);
    if (dev == NULL || newpub == NULL || ir.p == NULL || ip.p == NULL ||
        cc.p == NULL || pbm.p == NULL)
        goto done;
    irm = check_ir(&ir, dev, newpub);
    if (irm != NULL)
        check_flow(irm, &ip, &cc, newpub, dev);
    check_pbm(&pbm);
    for (i = 0; i < sizeof(client_files) / sizeof(client_files[0]); i++)
        check_file(dir, client_files[i].file, client_files[i].type);
done:
    CMPCA_PKIMESSAGE_free(irm);
    OPENSSL_free(ir.p);
    OPENSSL_free(ip.p);
    OPENSSL_free(cc.p);
    OPENSSL_free(pbm.p);
    X509_free(dev);
    EVP_PKEY_free(newpub);
    fprintf(stderr, "client: ");
    return CHECK_RESULT();
}
