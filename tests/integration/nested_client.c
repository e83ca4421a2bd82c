/*
 * nested_client.c: an RA's nested message (RFC 9483 5.2.2) for the
 * integration tests. OpenSSL 3.0's CMP client cannot send one, so this tool
 * wraps DER PKIMessages that `openssl cmp -reqout` saved (each keeps its own
 * protection) in a nested PKIMessage (PKIBody [20]) protected with the RA's
 * signature, POSTs it, and reports what came back: the outer answer and, for
 * a nested answer, each inner answer with its body type, PKIStatus and
 * failInfo. It links the project's ASN.1 module (cmpca_asn1) so the outer
 * message is built from the same types the server decodes; the inner
 * messages are carried as decoded, and the tool refuses any that would not
 * re-encode to the exact bytes of its file (their signatures would break).
 *
 * Output on stdout, one line each, KEY=VALUE fields ('-' when absent):
 *   outer body=nested protection=ok tid=ok nonce=ok status=- failInfo=-
 *   inner 1 body=ip protection=ok nonce=ok status=0 failInfo=- cert=F
 * protection is checked only with --trusted (else "unchecked"); nonce says
 * whether recipNonce echoes the senderNonce of the request answered.
 * Exit status: 0 a response was received and decoded (whatever it says),
 * 1 failure, 2 usage.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/http.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "asn1/cmp_asn1.h"

#define MAX_INNER 64
#define NONCE_LEN 16
#define PATH_CAP  1024
#define MAX_RSP   (1L << 20)

static const char *const failinfo_names[] = {"badAlg",
                                             "badMessageCheck",
                                             "badRequest",
                                             "badTime",
                                             "badCertId",
                                             "badDataFormat",
                                             "wrongAuthority",
                                             "incorrectData",
                                             "missingTimeStamp",
                                             "badPOP",
                                             "certRevoked",
                                             "certConfirmed",
                                             "wrongIntegrity",
                                             "badRecipientNonce",
                                             "timeNotAvailable",
                                             "unacceptedPolicy",
                                             "unacceptedExtension",
                                             "addInfoNotAvailable",
                                             "badSenderNonce",
                                             "badCertTemplate",
                                             "signerNotTrusted",
                                             "transactionIdInUse",
                                             "unsupportedVersion",
                                             "notAuthorized",
                                             "systemUnavail",
                                             "systemFailure",
                                             "duplicateCertReq"};

struct opts {
    char host[256];
    char port[16];
    const char *path;
    const char *cert, *key, *extracerts, *recipient_cert, *trusted;
    const char *out_dir; /* req.der, rsp.der, inner-N.der, cert-N.pem */
    int tamper;          /* flip a bit of the outer protection */
    int no_send;         /* with --out-dir: write req.der and stop */
    int timeout;
    int num_inner;
    const char *inner[MAX_INNER];
};

static void usage(FILE *f)
{
    fputs("usage: nested_client --server HOST:PORT --cert RA.pem --key RA.key\n"
          "  [--path P] [--extracerts F] [--recipient-cert F] [--trusted F]\n"
          "  [--out-dir DIR] [--no-send] [--tamper] [--timeout S]\n"
          "  REQUEST.der...\n",
          f);
}

static int parse_server(struct opts *o, const char *arg)
{
    const char *colon = strrchr(arg, ':');
    size_t hlen;

    if (colon == NULL || colon == arg || colon[1] == '\0' ||
        strlen(colon + 1) >= sizeof(o->port))
        return -1;
    hlen = (size_t)(colon - arg);
    if (hlen >= sizeof(o->host))
        return -1;
    memcpy(o->host, arg, hlen);
    o->host[hlen] = '\0';
    snprintf(o->port, sizeof(o->port), "%s", colon + 1);
    return 0;
}

/* Returns 0, 1 to stop with usage, -1 on a usage error. */
static int parse_args(int argc, char **argv, struct opts *o)
{
    memset(o, 0, sizeof(*o));
    o->path = "/.well-known/cmp";
    o->timeout = 30;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        int takes = 1;

        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0)
            return 1;
        if (strcmp(a, "--no-send") == 0)
            o->no_send = 1, takes = 0;
        else if (strcmp(a, "--tamper") == 0)
            o->tamper = 1, takes = 0;
        else if (a[0] == '-' && a[1] == '-' && v == NULL)
            return -1;
        else if (strcmp(a, "--server") == 0) {
            if (parse_server(o, v) != 0)
                return -1;
        } else if (strcmp(a, "--path") == 0)
            o->path = v;
        else if (strcmp(a, "--cert") == 0)
            o->cert = v;
        else if (strcmp(a, "--key") == 0)
            o->key = v;
        else if (strcmp(a, "--extracerts") == 0)
            o->extracerts = v;
        else if (strcmp(a, "--recipient-cert") == 0)
            o->recipient_cert = v;
        else if (strcmp(a, "--trusted") == 0)
            o->trusted = v;
        else if (strcmp(a, "--out-dir") == 0)
            o->out_dir = v;
        else if (strcmp(a, "--timeout") == 0)
            o->timeout = atoi(v);
        else if (a[0] == '-')
            return -1;
        else if (o->num_inner < MAX_INNER)
            o->inner[o->num_inner++] = a, takes = 0;
        else
            return -1;
        i += takes;
    }
    if (o->cert == NULL || o->key == NULL || o->num_inner == 0 ||
        (o->host[0] == '\0' && !o->no_send) || (o->no_send && !o->out_dir))
        return -1;
    return 0;
}

/* ---- files ------------------------------------------------------------- */

static unsigned char *read_all(const char *file, long *len)
{
    FILE *f = fopen(file, "rb");
    unsigned char *buf = NULL;
    long n;

    if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) <= 0 ||
        fseek(f, 0, SEEK_SET) != 0 || (buf = malloc((size_t)n)) == NULL ||
        fread(buf, 1, (size_t)n, f) != (size_t)n) {
        fprintf(stderr, "nested_client: cannot read %s\n", file);
        free(buf);
        buf = NULL;
    } else {
        *len = n;
    }
    if (f != NULL)
        fclose(f);
    return buf;
}

static int write_all(const char *dir, const char *name, const unsigned char *p,
                     long len)
{
    char path[PATH_CAP];
    FILE *f;
    int ok;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    if ((f = fopen(path, "wb")) == NULL) {
        fprintf(stderr, "nested_client: cannot write %s\n", path);
        return -1;
    }
    ok = fwrite(p, 1, (size_t)len, f) == (size_t)len;
    return fclose(f) == 0 && ok ? 0 : -1;
}

static STACK_OF(X509) *load_certs(const char *file)
{
    STACK_OF(X509) *sk = sk_X509_new_null();
    FILE *f = fopen(file, "r");
    X509 *x;

    if (f != NULL && sk != NULL) {
        while ((x = PEM_read_X509(f, NULL, NULL, NULL)) != NULL)
            if (!sk_X509_push(sk, x))
                X509_free(x);
        ERR_clear_error(); /* the loop ends on "no start line" */
    }
    if (f != NULL)
        fclose(f);
    if (sk_X509_num(sk) <= 0) {
        fprintf(stderr, "nested_client: no certificate in %s\n", file);
        sk_X509_pop_free(sk, X509_free);
        return NULL;
    }
    return sk;
}

static EVP_PKEY *load_key(const char *file)
{
    FILE *f = fopen(file, "r");
    EVP_PKEY *k = f != NULL ? PEM_read_PrivateKey(f, NULL, NULL, NULL) : NULL;

    if (f != NULL)
        fclose(f);
    if (k == NULL)
        fprintf(stderr, "nested_client: no private key in %s\n", file);
    return k;
}

/* A saved request, decoded; refused unless it re-encodes byte for byte. */
static CMPCA_PKIMESSAGE *load_inner(const char *file)
{
    long len = 0;
    unsigned char *der = read_all(file, &len), *again = NULL;
    CMPCA_PKIMESSAGE *m = NULL;
    int n;

    if (der == NULL)
        return NULL;
    m = cmp_asn1_decode_msg(der, (size_t)len);
    n = m != NULL ? i2d_CMPCA_PKIMESSAGE(m, &again) : -1;
    if (m == NULL || n != len || memcmp(der, again, (size_t)len) != 0) {
        fprintf(stderr,
                "nested_client: %s is not a DER PKIMessage that "
                "re-encodes unchanged\n",
                file);
        CMPCA_PKIMESSAGE_free(m);
        m = NULL;
    }
    OPENSSL_free(again);
    free(der);
    return m;
}

/* ---- the outer message ------------------------------------------------- */

static int set_dirname(GENERAL_NAME **gn, const X509_NAME *name)
{
    GENERAL_NAME *n = GENERAL_NAME_new();

    if (n == NULL)
        return -1;
    n->type = GEN_DIRNAME;
    n->d.directoryName = name != NULL ? X509_NAME_dup(name) : X509_NAME_new();
    if (n->d.directoryName == NULL) {
        GENERAL_NAME_free(n);
        return -1;
    }
    GENERAL_NAME_free(*gn);
    *gn = n;
    return 0;
}

static int set_random(ASN1_OCTET_STRING **dst, unsigned char *copy)
{
    ASN1_OCTET_STRING_free(*dst);
    *dst = NULL;
    return RAND_bytes(copy, NONCE_LEN) > 0 &&
                   (*dst = ASN1_OCTET_STRING_new()) != NULL &&
                   ASN1_OCTET_STRING_set(*dst, copy, NONCE_LEN)
               ? 0
               : -1;
}

/* Header: pvno 2, sender = RA subject, recipient, messageTime, senderKID
 * (the RA's SKI when it has one), fresh transactionID and senderNonce. */
static int fill_header(CMPCA_PKIHEADER *h, X509 *ra, const X509 *recipient,
                       unsigned char *tid, unsigned char *nonce)
{
    const ASN1_OCTET_STRING *skid = X509_get0_subject_key_id(ra);

    if (h->pvno == NULL && (h->pvno = ASN1_INTEGER_new()) == NULL)
        return -1;
    if (!ASN1_INTEGER_set(h->pvno, 2) ||
        set_dirname(&h->sender, X509_get_subject_name(ra)) != 0 ||
        set_dirname(&h->recipient, recipient != NULL
                                       ? X509_get_subject_name(recipient)
                                       : NULL) != 0 ||
        (h->messageTime = ASN1_GENERALIZEDTIME_set(NULL, time(NULL))) == NULL ||
        (h->protectionAlg = X509_ALGOR_new()) == NULL ||
        set_random(&h->transactionID, tid) != 0 ||
        set_random(&h->senderNonce, nonce) != 0)
        return -1;
    if (skid != NULL && (h->senderKID = ASN1_OCTET_STRING_dup(skid)) == NULL)
        return -1;
    return 0;
}

/* Signs SEQUENCE { header, body } (ecdsa-with-SHA256 for an EC key). */
static int protect(CMPCA_PKIMESSAGE *m, EVP_PKEY *key, int tamper)
{
    CMPCA_PROTECTED_PART pp;

    if ((m->protection = ASN1_BIT_STRING_new()) == NULL)
        return -1;
    pp.header = m->header;
    pp.body = m->body;
    if (ASN1_item_sign(ASN1_ITEM_rptr(CMPCA_PROTECTED_PART),
                       m->header->protectionAlg, NULL, m->protection, &pp, key,
                       EVP_sha256()) <= 0)
        return -1;
    if (tamper && m->protection->length > 0)
        m->protection->data[m->protection->length - 1] ^= 0x01;
    return 0;
}

/* The nested message around `inner` (taken over on success). */
static CMPCA_PKIMESSAGE *build_nested(STACK_OF(X509) *ra_certs, EVP_PKEY *key,
                                      const X509 *recipient, int tamper,
                                      STACK_OF(CMPCA_PKIMESSAGE) *inner,
                                      unsigned char *tid, unsigned char *nonce)
{
    CMPCA_PKIMESSAGE *m = CMPCA_PKIMESSAGE_new();
    X509 *ra = sk_X509_value(ra_certs, 0);

    if (m == NULL || fill_header(m->header, ra, recipient, tid, nonce) != 0)
        goto err;
    CMPCA_PKIBODY_free(m->body);
    if ((m->body = CMPCA_PKIBODY_new()) == NULL)
        goto err;
    m->body->type = CMPCA_BODY_NESTED;
    m->body->value.nested = inner;
    if (protect(m, key, tamper) != 0 ||
        (m->extraCerts = X509_chain_up_ref(ra_certs)) == NULL) {
        m->body->value.nested = NULL; /* the caller still owns it */
        goto err;
    }
    return m;
err:
    fprintf(stderr, "nested_client: cannot build the nested message\n");
    ERR_print_errors_fp(stderr);
    CMPCA_PKIMESSAGE_free(m);
    return NULL;
}

/* ---- sending ----------------------------------------------------------- */

static unsigned char *post(const struct opts *o, const unsigned char *der,
                           long len, long *rsp_len)
{
    BIO *req = BIO_new_mem_buf(der, (int)len), *rsp = NULL;
    unsigned char *out = NULL;
    char *data = NULL;
    long n;

    if (req != NULL)
        rsp = OSSL_HTTP_transfer(
            NULL, o->host, o->port, o->path, 0, NULL, NULL, NULL, NULL, NULL,
            NULL, 0, NULL, "application/pkixcmp", req, "application/pkixcmp", 1,
            MAX_RSP, o->timeout, 0);
    if (rsp != NULL && (n = BIO_get_mem_data(rsp, &data)) > 0 &&
        (out = malloc((size_t)n)) != NULL) {
        memcpy(out, data, (size_t)n);
        *rsp_len = n;
    }
    if (out == NULL) {
        fprintf(stderr, "nested_client: POST to %s:%s%s failed\n", o->host,
                o->port, o->path);
        ERR_print_errors_fp(stderr);
    }
    BIO_free(req);
    BIO_free(rsp);
    return out;
}

/* ---- reading the answer ------------------------------------------------ */

/* "ok" when the protection is a signature by the certificate in extraCerts
 * that the header names as sender and that chains to `trusted`. */
static const char *check_protection(const CMPCA_PKIMESSAGE *m,
                                    X509_STORE *trusted)
{
    const GENERAL_NAME *s = m->header->sender;
    CMPCA_PROTECTED_PART pp;
    X509_STORE_CTX *ctx;
    const char *res = "bad";

    if (trusted == NULL)
        return "unchecked";
    if (m->protection == NULL || m->header->protectionAlg == NULL)
        return "none";
    pp.header = m->header;
    pp.body = m->body;
    for (int i = 0; i < sk_X509_num(m->extraCerts); i++) {
        X509 *c = sk_X509_value(m->extraCerts, i);

        if (s->type != GEN_DIRNAME ||
            X509_NAME_cmp(s->d.directoryName, X509_get_subject_name(c)) != 0 ||
            ASN1_item_verify(ASN1_ITEM_rptr(CMPCA_PROTECTED_PART),
                             m->header->protectionAlg, m->protection, &pp,
                             X509_get0_pubkey(c)) <= 0)
            continue;
        if ((ctx = X509_STORE_CTX_new()) != NULL &&
            X509_STORE_CTX_init(ctx, trusted, c, m->extraCerts) == 1 &&
            X509_verify_cert(ctx) == 1)
            res = "ok";
        X509_STORE_CTX_free(ctx);
        break;
    }
    ERR_clear_error();
    return res;
}

static const char *nonce_echo(const CMPCA_PKIMESSAGE *rsp,
                              const ASN1_OCTET_STRING *sent)
{
    const ASN1_OCTET_STRING *r = rsp->header->recipNonce;

    return r != NULL && sent != NULL && ASN1_OCTET_STRING_cmp(r, sent) == 0
               ? "ok"
               : "bad";
}

/* "status=N failInfo=a,b" of a PKIStatusInfo (dashes when absent). */
static void print_status(const CMPCA_PKISTATUSINFO *si)
{
    int any = 0;

    if (si == NULL) {
        printf(" status=- failInfo=-");
        return;
    }
    printf(" status=%ld failInfo=", ASN1_INTEGER_get(si->status));
    for (int b = 0; si->failInfo != NULL && b < si->failInfo->length * 8; b++) {
        if (!ASN1_BIT_STRING_get_bit(si->failInfo, b))
            continue;
        if ((size_t)b < sizeof(failinfo_names) / sizeof(failinfo_names[0]))
            printf("%s%s", any ? "," : "", failinfo_names[b]);
        else
            printf("%sbit%d", any ? "," : "", b);
        any = 1;
    }
    if (!any)
        printf("-");
}

/* The first PKIStatusInfo of a response and, for ip/cp/kup, the first
 * CertResponse's certificate. */
static const CMPCA_PKISTATUSINFO *status_of(const CMPCA_PKIMESSAGE *m,
                                            X509 **cert)
{
    const CMPCA_PKIBODY *b = m->body;
    const CMPCA_CERT_REP_MESSAGE *rep = NULL;
    const CMPCA_CERT_RESPONSE *cr;

    *cert = NULL;
    switch (b->type) {
    case CMPCA_BODY_IP:
    case CMPCA_BODY_CP:
    case CMPCA_BODY_KUP:
        rep = b->value.ip;
        break;
    case CMPCA_BODY_ERROR:
        return b->value.error->pKIStatusInfo;
    case CMPCA_BODY_RP:
        return sk_CMPCA_PKISTATUSINFO_value(b->value.rp->status, 0);
    default:
        return NULL;
    }
    if ((cr = sk_CMPCA_CERT_RESPONSE_value(rep->response, 0)) == NULL)
        return NULL;
    if (cr->certifiedKeyPair != NULL &&
        cr->certifiedKeyPair->certOrEncCert->type ==
            CMPCA_CERTORENC_CERTIFICATE)
        *cert = cr->certifiedKeyPair->certOrEncCert->value.certificate;
    return cr->status;
}

static int save_cert(const char *dir, int n, X509 *cert)
{
    char path[PATH_CAP];
    FILE *f;
    int ok;

    snprintf(path, sizeof(path), "%s/cert-%d.pem", dir, n);
    if ((f = fopen(path, "w")) == NULL)
        return -1;
    ok = PEM_write_X509(f, cert);
    if (fclose(f) != 0 || !ok)
        return -1;
    printf(" cert=%s", path);
    return 0;
}

/* One line per inner answer; inner-N.der and cert-N.pem in the out dir. */
static int report_inner(const struct opts *o, const CMPCA_PKIMESSAGE *rsp,
                        STACK_OF(CMPCA_PKIMESSAGE) *sent, X509_STORE *trusted)
{
    STACK_OF(CMPCA_PKIMESSAGE) *got = rsp->body->value.nested;
    unsigned char *der = NULL;
    char name[64];
    int rc = 0, len;

    for (int i = 0; i < sk_CMPCA_PKIMESSAGE_num(got); i++) {
        const CMPCA_PKIMESSAGE *m = sk_CMPCA_PKIMESSAGE_value(got, i);
        const CMPCA_PKIMESSAGE *req = sk_CMPCA_PKIMESSAGE_value(sent, i);
        X509 *cert = NULL;
        const CMPCA_PKISTATUSINFO *si = status_of(m, &cert);

        printf("inner %d body=%s protection=%s nonce=%s", i + 1,
               cmp_asn1_body_name(m->body->type), check_protection(m, trusted),
               nonce_echo(m, req != NULL ? req->header->senderNonce : NULL));
        print_status(si);
        if (o->out_dir != NULL) {
            snprintf(name, sizeof(name), "inner-%d.der", i + 1);
            if ((len = i2d_CMPCA_PKIMESSAGE(m, &der)) <= 0 ||
                write_all(o->out_dir, name, der, len) != 0 ||
                (cert != NULL && save_cert(o->out_dir, i + 1, cert) != 0))
                rc = -1;
            OPENSSL_free(der);
            der = NULL;
        }
        printf("\n");
    }
    return rc;
}

static int report(const struct opts *o, const unsigned char *der, long len,
                  const unsigned char *tid, const CMPCA_PKIMESSAGE *req,
                  STACK_OF(CMPCA_PKIMESSAGE) *sent, X509_STORE *trusted)
{
    CMPCA_PKIMESSAGE *rsp = cmp_asn1_decode_msg(der, (size_t)len);
    const ASN1_OCTET_STRING *t;
    X509 *cert = NULL;
    int rc = 0;

    if (rsp == NULL) {
        fprintf(stderr, "nested_client: the response is not a PKIMessage\n");
        return -1;
    }
    t = rsp->header->transactionID;
    printf("outer body=%s protection=%s tid=%s nonce=%s",
           cmp_asn1_body_name(rsp->body->type), check_protection(rsp, trusted),
           t != NULL && ASN1_STRING_length(t) == NONCE_LEN &&
                   memcmp(ASN1_STRING_get0_data(t), tid, NONCE_LEN) == 0
               ? "ok"
               : "bad",
           nonce_echo(rsp, req->header->senderNonce));
    print_status(status_of(rsp, &cert));
    printf("\n");
    if (rsp->body->type == CMPCA_BODY_NESTED)
        rc = report_inner(o, rsp, sent, trusted);
    CMPCA_PKIMESSAGE_free(rsp);
    return rc;
}

/* ---- main -------------------------------------------------------------- */

static X509_STORE *load_trusted(const char *file)
{
    STACK_OF(X509) *certs = file != NULL ? load_certs(file) : NULL;
    X509_STORE *st = certs != NULL ? X509_STORE_new() : NULL;

    for (int i = 0; st != NULL && i < sk_X509_num(certs); i++)
        if (!X509_STORE_add_cert(st, sk_X509_value(certs, i))) {
            X509_STORE_free(st);
            st = NULL;
        }
    sk_X509_pop_free(certs, X509_free);
    return st;
}

/* Everything the run needs from files; 0 or -1. */
struct inputs {
    STACK_OF(X509) *ra_certs; /* the RA certificate first, then extras */
    STACK_OF(X509) *recipient;
    EVP_PKEY *key;
    X509_STORE *trusted;
    STACK_OF(CMPCA_PKIMESSAGE) *inner;
};

static int load_inputs(const struct opts *o, struct inputs *in)
{
    STACK_OF(X509) *more = NULL;
    CMPCA_PKIMESSAGE *m;

    memset(in, 0, sizeof(*in));
    if ((in->ra_certs = load_certs(o->cert)) == NULL ||
        (in->key = load_key(o->key)) == NULL ||
        (in->inner = sk_CMPCA_PKIMESSAGE_new_null()) == NULL)
        return -1;
    if (o->extracerts != NULL) {
        if ((more = load_certs(o->extracerts)) == NULL)
            return -1;
        while (sk_X509_num(more) > 0)
            if (!sk_X509_push(in->ra_certs, sk_X509_shift(more)))
                break;
        sk_X509_pop_free(more, X509_free);
    }
    if ((o->recipient_cert != NULL &&
         (in->recipient = load_certs(o->recipient_cert)) == NULL) ||
        (o->trusted != NULL &&
         (in->trusted = load_trusted(o->trusted)) == NULL))
        return -1;
    for (int i = 0; i < o->num_inner; i++)
        if ((m = load_inner(o->inner[i])) == NULL ||
            !sk_CMPCA_PKIMESSAGE_push(in->inner, m)) {
            CMPCA_PKIMESSAGE_free(m);
            return -1;
        }
    return 0;
}

static void free_inputs(struct inputs *in)
{
    sk_X509_pop_free(in->ra_certs, X509_free);
    sk_X509_pop_free(in->recipient, X509_free);
    EVP_PKEY_free(in->key);
    X509_STORE_free(in->trusted);
    sk_CMPCA_PKIMESSAGE_pop_free(in->inner, CMPCA_PKIMESSAGE_free);
}

int main(int argc, char **argv)
{
    struct opts o;
    struct inputs in;
    CMPCA_PKIMESSAGE *msg = NULL;
    unsigned char tid[NONCE_LEN], nonce[NONCE_LEN], *der = NULL, *rsp = NULL;
    long rsp_len = 0;
    int len, rc = 1, pr = parse_args(argc, argv, &o);

    if (pr != 0) {
        usage(pr > 0 ? stdout : stderr);
        return pr > 0 ? 0 : 2;
    }
    if (load_inputs(&o, &in) != 0)
        goto done;
    msg = build_nested(in.ra_certs, in.key, sk_X509_value(in.recipient, 0),
                       o.tamper, in.inner, tid, nonce);
    if (msg == NULL)
        goto done;
    in.inner = NULL; /* msg owns the inner messages now */
    if ((len = i2d_CMPCA_PKIMESSAGE(msg, &der)) <= 0 ||
        (o.out_dir != NULL && write_all(o.out_dir, "req.der", der, len) != 0))
        goto done;
    if (o.no_send) {
        rc = 0;
        goto done;
    }
    if ((rsp = post(&o, der, len, &rsp_len)) == NULL ||
        (o.out_dir != NULL &&
         write_all(o.out_dir, "rsp.der", rsp, rsp_len) != 0))
        goto done;
    if (report(&o, rsp, rsp_len, tid, msg, msg->body->value.nested,
               in.trusted) == 0)
        rc = 0;
done:
    fflush(stdout);
    free(rsp);
    OPENSSL_free(der);
    CMPCA_PKIMESSAGE_free(msg);
    free_inputs(&in);
    return rc;
}
