/*
 * fuzz_pipeline.c: libFuzzer target for the whole request pipeline,
 * cmp_srv_handle: decode, header checks, protection, authorisation, policy,
 * issuing, the store, the response and its protection, against the fixed
 * test PKI of fuzz_pipeline_env.c.
 *
 * Signed requests are the obstacle: a mutation almost always breaks the
 * signature, so a plain byte fuzzer never gets past protect.c. The input is
 * therefore a short script of records, and the target repairs what a client
 * would compute before it sends each one:
 *
 *   record := flags(1) ctl(1) length(2, big-endian) DER(length)
 *   flags & 0x07  signer: 0 or 7 send the bytes as they are; 1..5 re-sign
 *                 the decoded message with that key (enum fuzz_signer); 6
 *                 MAC it with FUZZ0004's secret (fuzz_pipeline_mac.c)
 *   flags & 0x08  fresh senderNonce      flags & 0x40  fresh transactionID
 *   flags & 0x10  continue the previous answer: its transactionID, its
 *                 senderNonce as recipNonce, and for certConf the hash and
 *                 certReqId of the certificate it carried
 *   flags & 0x20  nested: repair and re-sign the inner messages as well
 *   flags & 0x80  messageTime := now
 *   ctl & 0x0f    operation label (0: none, 1..10 as in fuzz_ops)
 *   ctl & 0x30    profile (0: none, 1: "3gpp", 2: "alt")
 *   ctl & 0xc0    before sending, FUZZ0002 (manual approval) becomes
 *                 0x40 approved, 0x80 rejected, 0xc0 registered again
 *
 * Up to four records per input, so ir -> certConf and ir -> pollReq run.
 * Besides ASan/UBSan/LSan reports, every answer must hold what cmp.h and
 * server.c promise (check_answer); a break aborts. The store is replaced
 * every FUZZ_RENEW_RUNS inputs so the database does not grow without bound;
 * state carried between inputs up to then is part of what is fuzzed. It is
 * also replaced as soon as an input revoked the operator certificate.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>

#include "asn1/cmp_asn1.h"
#include "fuzz_pipeline.h"
#include "util/log.h"

#ifndef CMPCA_FUZZ_PKI_DIR
#define CMPCA_FUZZ_PKI_DIR "tests/fuzz/pki"
#endif

#define FUZZ_MAX_RECORDS 4
#define FUZZ_RENEW_RUNS  4096

#define F_SIGNER 0x07
#define F_NONCE  0x08
#define F_FOLLOW 0x10
#define F_NESTED 0x20
#define F_TID    0x40
#define F_TIME   0x80

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const fuzz_ops[] = {
    NULL,         "initialization", "certification",
    "keyupdate",  "pkcs10",         "revocation",
    "getcacerts", "getrootupdate",  "getcertreqtemplate",
    "getcrls",    "nested",
};
static const char *const fuzz_profiles[] = {NULL, "3gpp", "alt", NULL};

static struct fuzz_env fuzz_env; /* see fuzz_pipeline.h */
static int fuzz_ready;

static void fuzz_fail(const char *what)
{
    fprintf(stderr, "fuzz_pipeline: invariant broken: %s\n", what);
    abort();
}

static void fuzz_cleanup(void)
{
    if (fuzz_ready)
        fuzz_env_free(&fuzz_env);
    fuzz_ready = 0;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    const char *pki = getenv("CMPCA_FUZZ_PKI");
    const char *lvl = getenv("CMPCA_FUZZ_LOG");

    log_set_level(lvl != NULL && log_level_from_name(lvl) >= 0
                      ? (enum log_level)log_level_from_name(lvl)
                      : LOG_LVL_ERROR);
    if (fuzz_env_init(&fuzz_env, pki != NULL ? pki : CMPCA_FUZZ_PKI_DIR) != 0) {
        fuzz_env_free(&fuzz_env);
        fprintf(stderr,
                "fuzz_pipeline: set CMPCA_FUZZ_PKI to tests/fuzz/pki\n");
        exit(1);
    }
    fuzz_ready = 1;
    atexit(fuzz_cleanup);
    return 0;
}

/* 16 octets no earlier input of this process used: `tag` keeps nonces and
 * transactionIDs apart. */
static int set_fresh(ASN1_OCTET_STRING **s, uint8_t tag)
{
    uint8_t v[16] = {'c', 'm', 'p', 'f', 'u', 'z', 'z', tag};
    uint64_t n = ++fuzz_env.counter;

    for (int i = 15; i >= 8; i--, n >>= 8)
        v[i] = (uint8_t)n;
    if (*s == NULL && (*s = ASN1_OCTET_STRING_new()) == NULL)
        return -1;
    return ASN1_OCTET_STRING_set(*s, v, sizeof(v)) ? 0 : -1;
}

static int set_copy(ASN1_OCTET_STRING **s, const ASN1_OCTET_STRING *from)
{
    ASN1_OCTET_STRING_free(*s);
    *s = NULL;
    if (from == NULL)
        return 0;
    return (*s = ASN1_OCTET_STRING_dup(from)) != NULL ? 0 : -1;
}

/* The first CertResponse of an ip/cp/kup, or NULL. */
static const CMPCA_CERT_RESPONSE *first_certrsp(const CMPCA_PKIMESSAGE *m)
{
    const CMPCA_CERT_REP_MESSAGE *rep;

    switch (m->body->type) {
    case CMPCA_BODY_IP:
    case CMPCA_BODY_CP:
    case CMPCA_BODY_KUP:
        rep = m->body->value.ip;
        return rep != NULL ? sk_CMPCA_CERT_RESPONSE_value(rep->response, 0)
                           : NULL;
    default:
        return NULL;
    }
}

/* certConf after `prev`: the hash and certReqId of its certificate. */
static int fix_certconf(CMPCA_PKIMESSAGE *m, const CMPCA_PKIMESSAGE *prev)
{
    const CMPCA_CERT_RESPONSE *r = first_certrsp(prev);
    CMPCA_CERT_STATUS *cs =
        sk_CMPCA_CERT_STATUS_value(m->body->value.certConf, 0);
    const EVP_MD *md = NULL;
    unsigned char h[EVP_MAX_MD_SIZE];
    unsigned int h_len = 0;
    X509 *cert;

    if (cs == NULL || r == NULL || r->certifiedKeyPair == NULL ||
        r->certifiedKeyPair->certOrEncCert->type != CMPCA_CERTORENC_CERTIFICATE)
        return 0;
    cert = r->certifiedKeyPair->certOrEncCert->value.certificate;
    if (cs->hashAlg != NULL)
        md = EVP_get_digestbyobj(cs->hashAlg->algorithm);
    if (md != NULL) {
        if (!X509_digest(cert, md, h, &h_len) ||
            !ASN1_OCTET_STRING_set(cs->certHash, h, (int)h_len))
            return -1;
    } else {
        ASN1_OCTET_STRING_free(cs->certHash);
        if ((cs->certHash = X509_digest_sig(cert, NULL, NULL)) == NULL)
            return -1;
    }
    if (ASN1_INTEGER_cmp(cs->certReqId, r->certReqId) != 0) {
        ASN1_INTEGER_free(cs->certReqId);
        if ((cs->certReqId = ASN1_INTEGER_dup(r->certReqId)) == NULL)
            return -1;
    }
    return 0;
}

/* An extraCert holding the signer's key but not its current certificate
 * is replaced by that certificate: make_seeds.sh issues op.pem anew on each
 * run, and inputs saved earlier still carry the old one. */
static int refresh_extracerts(CMPCA_PKIMESSAGE *m, int signer)
{
    X509 *mine = fuzz_env.signer_cert[signer], *c, *dup;
    const EVP_PKEY *pub = X509_get0_pubkey(mine);

    for (int i = 0; pub != NULL && i < sk_X509_num(m->extraCerts); i++) {
        c = sk_X509_value(m->extraCerts, i);
        if (X509_cmp(c, mine) == 0 || X509_get0_pubkey(c) == NULL ||
            EVP_PKEY_eq(X509_get0_pubkey(c), pub) != 1)
            continue;
        if ((dup = X509_dup(mine)) == NULL)
            return -1;
        sk_X509_set(m->extraCerts, i, dup); /* returns dup, not c */
        X509_free(c);
    }
    ERR_clear_error();
    return 0;
}

static int resign(CMPCA_PKIMESSAGE *m, int signer)
{
    EVP_PKEY *key = fuzz_env.signer_key[signer];
    const EVP_MD *md = EVP_sha256();
    CMPCA_PROTECTED_PART pp;

    if (key == NULL || fuzz_env.signer_cert[signer] == NULL)
        return 0; /* op.pem missing: leave the message alone */
    if (refresh_extracerts(m, signer) != 0)
        return -1;
    if (EVP_PKEY_is_a(key, "ED25519") || EVP_PKEY_is_a(key, "ED448"))
        md = NULL;
    if (m->header->protectionAlg == NULL &&
        (m->header->protectionAlg = X509_ALGOR_new()) == NULL)
        return -1;
    if (m->protection == NULL &&
        (m->protection = ASN1_BIT_STRING_new()) == NULL)
        return -1;
    pp.header = m->header;
    pp.body = m->body;
    return ASN1_item_sign(ASN1_ITEM_rptr(CMPCA_PROTECTED_PART),
                          m->header->protectionAlg, NULL, m->protection, &pp,
                          key, md) > 0
               ? 0
               : -1;
}

/* What a client computes for one message before sending it. */
static int repair(CMPCA_PKIMESSAGE *m, int flags, const CMPCA_PKIMESSAGE *prev)
{
    CMPCA_PKIHEADER *h = m->header;
    int signer = flags & F_SIGNER;

    if ((flags & F_NONCE) && set_fresh(&h->senderNonce, 'n') != 0)
        return -1;
    if ((flags & F_TID) && set_fresh(&h->transactionID, 't') != 0)
        return -1;
    if ((flags & F_TIME) && (h->messageTime = ASN1_GENERALIZEDTIME_set(
                                 h->messageTime, time(NULL))) == NULL)
        return -1;
    if ((flags & F_FOLLOW) && prev != NULL) {
        if (set_copy(&h->transactionID, prev->header->transactionID) != 0 ||
            set_copy(&h->recipNonce, prev->header->senderNonce) != 0)
            return -1;
        if (m->body->type == CMPCA_BODY_CERTCONF && fix_certconf(m, prev) != 0)
            return -1;
    }
    if ((flags & F_NESTED) && m->body->type == CMPCA_BODY_NESTED) {
        STACK_OF(CMPCA_PKIMESSAGE) *in = m->body->value.nested;

        for (int i = 0; i < sk_CMPCA_PKIMESSAGE_num(in); i++)
            if (repair(sk_CMPCA_PKIMESSAGE_value(in, i), flags & ~F_FOLLOW,
                       NULL) != 0)
                return -1;
    }
    if (signer > FUZZ_SIGNER_NONE && signer < FUZZ_NUM_SIGNERS)
        return resign(m, signer);
    if (signer == FUZZ_SIGNER_MAC)
        return fuzz_mac_protect(m, FUZZ_MAC_KID,
                                (const uint8_t *)FUZZ_MAC_SECRET,
                                strlen(FUZZ_MAC_SECRET));
    return 0;
}

/* A MAC answer must verify with the one registered secret (the engine has
 * no other); 1 also when fuzz_mac_compute declines the parameters. */
static int mac_ok(const CMPCA_PKIMESSAGE *m)
{
    uint8_t *mac = NULL;
    size_t mac_len = 0;
    int ok;

    if (fuzz_mac_compute(m, (const uint8_t *)FUZZ_MAC_SECRET,
                         strlen(FUZZ_MAC_SECRET), &mac, &mac_len) != 0)
        return 1;
    ok = (size_t)ASN1_STRING_length(m->protection) == mac_len &&
         memcmp(ASN1_STRING_get0_data(m->protection), mac, mac_len) == 0;
    OPENSSL_free(mac);
    return ok;
}

/* Does the CA's key (or, for a MAC answer, the secret) verify the
 * protection of `m`? */
static int ca_signed(const CMPCA_PKIMESSAGE *m)
{
    CMPCA_PROTECTED_PART pp;
    int nid = OBJ_obj2nid(m->header->protectionAlg->algorithm);
    int ok;

    if (fuzz_mac_alg_kind(m->header->protectionAlg) != 0)
        return mac_ok(m);
    if (!OBJ_find_sigid_algs(nid, NULL, NULL))
        return 0; /* neither a signature nor a MAC we know */
    pp.header = m->header;
    pp.body = m->body;
    ok = ASN1_item_verify(ASN1_ITEM_rptr(CMPCA_PROTECTED_PART),
                          m->header->protectionAlg, m->protection, &pp,
                          X509_get0_pubkey(ca_get0_cert(fuzz_env.ca))) > 0;
    ERR_clear_error();
    return ok;
}

/* The promises of cmp.h and server.c about one answer. Returns the decoded
 * answer (the caller frees it). */
static CMPCA_PKIMESSAGE *check_answer(int rc, const uint8_t *out,
                                      size_t out_len, int status)
{
    CMPCA_PKIMESSAGE *rsp;
    int type;

    if (rc != 0)
        fuzz_fail("cmp_srv_handle returned -1 (HTTP 500)");
    if (status != 200 && status != 400)
        fuzz_fail("HTTP status neither 200 nor 400");
    if (out == NULL || out_len == 0)
        fuzz_fail("no answer body");
    if ((rsp = cmp_asn1_decode_msg(out, out_len)) == NULL)
        fuzz_fail("the answer does not decode as a PKIMessage");
    type = rsp->body->type;
    if (status == 400 && type != CMPCA_BODY_ERROR)
        fuzz_fail("HTTP 400 with a body other than error");
    if (status == 200) {
        if (rsp->header->protectionAlg == NULL || rsp->protection == NULL)
            fuzz_fail("unprotected answer to a decodable request");
        if (!ca_signed(rsp))
            fuzz_fail("answer protection does not verify (CA key or secret)");
    }
    if (type != CMPCA_BODY_IP && type != CMPCA_BODY_CP &&
        type != CMPCA_BODY_KUP && type != CMPCA_BODY_RP &&
        type != CMPCA_BODY_GENP && type != CMPCA_BODY_ERROR &&
        type != CMPCA_BODY_PKICONF && type != CMPCA_BODY_POLLREP &&
        type != CMPCA_BODY_NESTED)
        fuzz_fail("answer body is not a response type");
    return rsp;
}

/* Sends one record; *prev is replaced by its answer. */
static void run_record(int flags, int ctl, const uint8_t *der, size_t len,
                       CMPCA_PKIMESSAGE **prev)
{
    CMPCA_PKIMESSAGE *msg = NULL;
    unsigned char *fixed = NULL;
    uint8_t *out = NULL;
    size_t out_len = 0;
    int status = 0, rc, flen;

    if (flags != 0 && (msg = cmp_asn1_decode_msg(der, len)) != NULL &&
        repair(msg, flags, *prev) == 0 &&
        (flen = i2d_CMPCA_PKIMESSAGE(msg, &fixed)) > 0) {
        der = fixed;
        len = (size_t)flen;
    }
    ERR_clear_error();
    if (ctl & 0xc0)
        fuzz_env_set_dev2(&fuzz_env, (ctl & 0xc0) == 0x40 ? DEVICE_APPROVED
                                     : (ctl & 0xc0) == 0x80
                                         ? DEVICE_REJECTED
                                         : DEVICE_REGISTERED);
    rc = cmp_srv_handle(fuzz_env.srv, fuzz_profiles[(ctl >> 4) & 3],
                        (ctl & 0x0f) < 11 ? fuzz_ops[ctl & 0x0f] : NULL, der,
                        len, &out, &out_len, &status);
    CMPCA_PKIMESSAGE_free(*prev);
    *prev = check_answer(rc, out, out_len, status);
    free(out);
    OPENSSL_free(fixed);
    CMPCA_PKIMESSAGE_free(msg);
    ERR_clear_error();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    CMPCA_PKIMESSAGE *prev = NULL;
    size_t len;

    if (++fuzz_env.runs > FUZZ_RENEW_RUNS && fuzz_env_renew(&fuzz_env) != 0)
        fuzz_fail("cannot renew the store");
    for (int n = 0; n < FUZZ_MAX_RECORDS && size >= 4; n++) {
        len = (size_t)data[2] << 8 | data[3];
        if (len > size - 4)
            len = size - 4;
        run_record(data[0], data[1], data + 4, len, &prev);
        data += 4 + len;
        size -= 4 + len;
    }
    CMPCA_PKIMESSAGE_free(prev);
    if (!fuzz_env_op_usable(&fuzz_env) && fuzz_env_renew(&fuzz_env) != 0)
        fuzz_fail("cannot renew the store");
    return 0;
}
