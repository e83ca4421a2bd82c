/*
 * noroot_client.c: a CMP client for the integration tests, built on OpenSSL
 * 3.0's own client API (OSSL_CMP_CTX, OSSL_CMP_exec_IR_ses), for the cases the
 * `openssl cmp` tool cannot express:
 *
 *  - a device that knows no operator root yet: the trust store is empty and
 *    OSSL_CMP_OPT_PERMIT_TA_IN_EXTRACERTS_FOR_IR lets the client accept the
 *    self-signed root at the end of the ip's extraCerts (TS 33.310 9.5.4.3);
 *  - hostile requests: a flipped byte in the protection, or a POPO signature
 *    that no longer verifies while the message protection is recomputed and
 *    valid (so the server must reach its POP check to refuse it);
 *  - a pause between ip and certConf, so a test can restart the server;
 *  - several enrollments at once on threads (--count).
 *
 * Every option that names a file may contain "{n}", replaced by the 1-based
 * number of the enrollment, so `--count 16 --cert dev{n}.pem` runs 16 devices.
 * Exit status: 0 all enrollments succeeded, 1 at least one failed, 2 usage.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/asn1.h>
#include <openssl/cmp.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

/* PKIBody choice numbers (RFC 4210 section 5.1.2); OpenSSL 3.0 keeps its own
 * names for them private. */
#define BODY_IR       0
#define BODY_CERTCONF 24

#define MAX_COUNT 256
#define PATH_CAP  1024

enum tamper { TAMPER_NONE, TAMPER_PROTECTION, TAMPER_POPO };

struct opts {
    char host[256];
    int port;
    const char *path;
    const char *cert, *key, *chain, *newkey, *trusted;
    const char *certout, *cacertsout, *extracertsout;
    const char *trace;     /* directory for req-N.der / rsp-N.der */
    const char *save_req;  /* write the (tampered) ir here */
    const char *pause_dir; /* before certConf: touch ip-received, wait go */
    enum tamper tamper;
    int no_send; /* with save_req: stop after writing the ir */
    int implicit_confirm;
    int count;
    int timeout;
};

/* One enrollment: the options with "{n}" expanded, plus the result. */
struct job {
    const struct opts *o;
    int n;
    int nmsg;  /* messages sent so far, for --trace file names */
    int saved; /* --save-req written */
    int rc;
    char status[512];
};

static void usage(FILE *f)
{
    fputs("usage: noroot_client --server HOST:PORT --cert F --key F "
          "--newkey F\n"
          "  [--path P] [--chain F] [--trusted F]\n"
          "  [--certout F] [--cacertsout F] [--extracertsout F]\n"
          "  [--implicit-confirm] [--tamper protection|popo]\n"
          "  [--save-req F [--no-send]] [--trace DIR] [--pause-dir DIR]\n"
          "  [--count N] [--timeout S]\n"
          "File names may contain {n}, replaced by the enrollment number.\n",
          f);
}

/* expand copies `in` to `out` with each "{n}" replaced by `n`. Returns NULL
 * for a NULL `in`, else `out`. */
static const char *expand(const char *in, int n, char *out, size_t cap)
{
    size_t len = 0;
    char num[16];

    if (in == NULL)
        return NULL;
    snprintf(num, sizeof(num), "%d", n);
    for (const char *p = in; *p != '\0' && len + 1 < cap; p++) {
        if (strncmp(p, "{n}", 3) == 0) {
            for (const char *q = num; *q != '\0' && len + 1 < cap; q++)
                out[len++] = *q;
            p += 2;
        } else {
            out[len++] = *p;
        }
    }
    out[len] = '\0';
    return out;
}

static STACK_OF(X509) * load_certs(const char *file)
{
    STACK_OF(X509) *sk = sk_X509_new_null();
    FILE *f = fopen(file, "r");
    X509 *x;

    if (sk == NULL || f == NULL) {
        fprintf(stderr, "noroot_client: cannot read %s\n", file);
        sk_X509_free(sk);
        if (f != NULL)
            fclose(f);
        return NULL;
    }
    while ((x = PEM_read_X509(f, NULL, NULL, NULL)) != NULL) {
        if (!sk_X509_push(sk, x)) {
            X509_free(x);
            break;
        }
    }
    ERR_clear_error(); /* the loop ends on "no start line" */
    fclose(f);
    if (sk_X509_num(sk) == 0) {
        fprintf(stderr, "noroot_client: no certificate in %s\n", file);
        sk_X509_free(sk);
        return NULL;
    }
    return sk;
}

static EVP_PKEY *load_key(const char *file)
{
    FILE *f = fopen(file, "r");
    EVP_PKEY *k = NULL;

    if (f != NULL) {
        k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
        fclose(f);
    }
    if (k == NULL)
        fprintf(stderr, "noroot_client: cannot load key %s\n", file);
    return k;
}

static int save_certs(const char *file, const STACK_OF(X509) * sk)
{
    FILE *f = fopen(file, "w");
    int ok = f != NULL;

    for (int i = 0; ok && i < sk_X509_num(sk); i++)
        ok = PEM_write_X509(f, sk_X509_value(sk, i)) == 1;
    if (f != NULL && fclose(f) != 0)
        ok = 0;
    if (!ok)
        fprintf(stderr, "noroot_client: cannot write %s\n", file);
    return ok ? 0 : -1;
}

static int save_der(const char *file, const unsigned char *der, long len)
{
    FILE *f = fopen(file, "wb");
    int ok = f != NULL && fwrite(der, 1, (size_t)len, f) == (size_t)len;

    if (f != NULL && fclose(f) != 0)
        ok = 0;
    if (!ok)
        fprintf(stderr, "noroot_client: cannot write %s\n", file);
    return ok ? 0 : -1;
}

static int save_msg(const char *file, const OSSL_CMP_MSG *msg)
{
    unsigned char *der = NULL;
    int len = i2d_OSSL_CMP_MSG(msg, &der);
    int rc = len > 0 ? save_der(file, der, len) : -1;

    OPENSSL_free(der);
    return rc;
}

/* der_child finds the `idx`-th element inside the contents [p, p+len) of a
 * constructed DER element. Sets *start to its first byte (tag), *cp and *clen
 * to its contents and *tag, *cls to its tag. Returns 0, or -1 if absent. */
static int der_child(unsigned char *p, long len, int idx, unsigned char **start,
                     unsigned char **cp, long *clen, int *tag, int *cls)
{
    const unsigned char *q = p, *end = p + len;

    for (int i = 0; q < end; i++) {
        const unsigned char *s = q;
        long l;
        int ret = ASN1_get_object(&q, &l, tag, cls, end - q);

        if ((ret & 0x80) != 0 || l > end - q)
            return -1;
        if (i == idx) {
            *start = (unsigned char *)s;
            *cp = (unsigned char *)q;
            *clen = l;
            return 0;
        }
        q += l;
    }
    return -1;
}

/* find_protection points *bits and *nbits at the protection BIT STRING contents
 * of the PKIMessage encoded in der/len. Returns 0 or -1. */
static int find_protection(unsigned char *der, long len, unsigned char **bits,
                           long *nbits)
{
    unsigned char *s = NULL, *msg = NULL, *prot = NULL;
    long mlen = 0, plen = 0;
    int tag, cls;

    if (der_child(der, len, 0, &s, &msg, &mlen, &tag, &cls) != 0 ||
        der_child(msg, mlen, 2, &s, &prot, &plen, &tag, &cls) != 0 ||
        cls != V_ASN1_CONTEXT_SPECIFIC || tag != 0)
        return -1;
    if (der_child(prot, plen, 0, &s, bits, nbits, &tag, &cls) != 0 ||
        tag != V_ASN1_BIT_STRING)
        return -1;
    return 0;
}

/* find_popo_sig points *bits and *nbits at the signature BIT STRING of the
 * POPOSigningKey of the first CertReqMsg of an ir. Returns 0 or -1. */
static int find_popo_sig(unsigned char *der, long len, unsigned char **bits,
                         long *nbits)
{
    unsigned char *s, *c;
    long clen;
    int tag, cls;
    /* PKIMessage > body [0] > CertReqMessages > CertReqMsg > popo [1] */
    static const int path[] = {0, 1, 0, 0, 1};

    c = der;
    clen = len;
    for (size_t i = 0; i < sizeof(path) / sizeof(path[0]); i++)
        if (der_child(c, clen, path[i], &s, &c, &clen, &tag, &cls) != 0)
            return -1;
    if (cls != V_ASN1_CONTEXT_SPECIFIC || tag != 1)
        return -1; /* not signature POP */
    for (int i = 0; i < 3; i++) {
        if (der_child(c, clen, i, &s, bits, nbits, &tag, &cls) != 0)
            return -1;
        if (cls == V_ASN1_UNIVERSAL && tag == V_ASN1_BIT_STRING)
            return 0;
    }
    return -1;
}

/* tamper_msg returns a copy of `req` with one bit flipped in the last byte of
 * the protection or of the POPO signature. The latter is re-protected with
 * the context's credentials, so only the POP is wrong. NULL on failure. */
static OSSL_CMP_MSG *tamper_msg(OSSL_CMP_CTX *ctx, const OSSL_CMP_MSG *req,
                                enum tamper how)
{
    unsigned char *der = NULL, *bits = NULL;
    const unsigned char *q;
    OSSL_CMP_MSG *out = NULL;
    long nbits = 0;
    int len = i2d_OSSL_CMP_MSG(req, &der);
    int found;

    if (len <= 0)
        goto done;
    found = how == TAMPER_PROTECTION ? find_protection(der, len, &bits, &nbits)
                                     : find_popo_sig(der, len, &bits, &nbits);
    if (found != 0 || nbits < 2) {
        fprintf(stderr, "noroot_client: cannot locate bytes to tamper\n");
        goto done;
    }
    bits[nbits - 1] ^= 0x01;
    q = der;
    if ((out = d2i_OSSL_CMP_MSG(NULL, &q, len)) == NULL)
        goto done;
    if (how == TAMPER_POPO && !OSSL_CMP_MSG_update_transactionID(ctx, out)) {
        OSSL_CMP_MSG_free(out);
        out = NULL;
    }
done:
    OPENSSL_free(der);
    return out;
}

/* wait_for_go tells the test that the ip arrived and waits (bounded) until
 * it says the server is back. Returns 0, or -1 on timeout. */
static int wait_for_go(const char *dir, int timeout)
{
    char path[PATH_CAP];
    FILE *f;
    struct timespec ts = {0, 100 * 1000 * 1000};

    snprintf(path, sizeof(path), "%s/ip-received", dir);
    if ((f = fopen(path, "w")) == NULL || fclose(f) != 0)
        return -1;
    snprintf(path, sizeof(path), "%s/go", dir);
    for (int i = 0; i < timeout * 10; i++) {
        if (access(path, F_OK) == 0)
            return 0;
        nanosleep(&ts, NULL);
    }
    fprintf(stderr, "noroot_client: no %s within %d s\n", path, timeout);
    return -1;
}

static void trace_msg(struct job *j, const char *kind, const OSSL_CMP_MSG *m)
{
    char dir[PATH_CAP], path[PATH_CAP + 32];

    if (j->o->trace == NULL || m == NULL)
        return;
    expand(j->o->trace, j->n, dir, sizeof(dir));
    snprintf(path, sizeof(path), "%s/%s-%d.der", dir, kind, j->nmsg);
    save_msg(path, m);
}

/* certconf_cb runs once the ip is accepted, before the certConf is sent.
 * With no pre-provisioned root (3GPP TS 33.310 9.5.4.3: "the device shall use
 * the operator root certificate provisioned during the CMPv2 run") it
 * installs the caPubs root as trust anchor, but only if the new certificate
 * chains to it; OpenSSL 3.0 accepts the root from extraCerts for the ip only,
 * so without this the pkiConf could not be verified. */
static int certconf_cb(OSSL_CMP_CTX *ctx, X509 *cert, int fail_info,
                       const char **txt)
{
    const struct job *j = OSSL_CMP_CTX_get_transfer_cb_arg(ctx);
    X509_STORE *store = OSSL_CMP_CTX_get0_trustedStore(ctx);
    X509_STORE *check = NULL;
    X509_STORE_CTX *vctx = NULL;
    STACK_OF(X509) *capubs = NULL, *untrusted;
    int ok = 0;

    fail_info = OSSL_CMP_certConf_cb(ctx, cert, fail_info, txt);
    if (fail_info != 0 || j->o->trusted != NULL)
        return fail_info; /* rejected already, or a root was provisioned */
    capubs = OSSL_CMP_CTX_get1_caPubs(ctx);
    untrusted = OSSL_CMP_CTX_get0_untrusted(ctx);
    if (capubs == NULL || (check = X509_STORE_new()) == NULL ||
        (vctx = X509_STORE_CTX_new()) == NULL)
        goto done;
    for (int i = 0; i < sk_X509_num(capubs); i++)
        if (!X509_STORE_add_cert(check, sk_X509_value(capubs, i)))
            goto done;
    if (!X509_STORE_CTX_init(vctx, check, cert, untrusted) ||
        X509_verify_cert(vctx) <= 0) {
        *txt = "new certificate does not chain to the caPubs root";
        goto done;
    }
    ok = 1;
    for (int i = 0; ok && i < sk_X509_num(capubs); i++)
        ok = X509_STORE_add_cert(store, sk_X509_value(capubs, i));
done:
    X509_STORE_CTX_free(vctx);
    X509_STORE_free(check);
    sk_X509_pop_free(capubs, X509_free);
    return ok ? 0 : 1 << OSSL_CMP_PKIFAILUREINFO_incorrectData;
}

/* transfer is the OSSL_CMP_transfer_cb_t: it applies the test's mischief to
 * the outgoing request, then sends it over HTTP as the default would. */
static OSSL_CMP_MSG *transfer(OSSL_CMP_CTX *ctx, const OSSL_CMP_MSG *req)
{
    struct job *j = OSSL_CMP_CTX_get_transfer_cb_arg(ctx);
    const struct opts *o = j->o;
    OSSL_CMP_MSG *mod = NULL, *rsp = NULL;
    const OSSL_CMP_MSG *send = req;
    char path[PATH_CAP];
    int body = OSSL_CMP_MSG_get_bodytype(req);

    if (body == BODY_IR && o->tamper != TAMPER_NONE) {
        if ((mod = tamper_msg(ctx, req, o->tamper)) == NULL)
            return NULL;
        send = mod;
    }
    if (body == BODY_IR && o->save_req != NULL) {
        if (save_msg(expand(o->save_req, j->n, path, sizeof(path)), send) != 0)
            goto done;
        j->saved = 1;
        if (o->no_send)
            goto done;
    }
    if (body == BODY_CERTCONF && o->pause_dir != NULL &&
        wait_for_go(expand(o->pause_dir, j->n, path, sizeof(path)),
                    o->timeout) != 0)
        goto done;
    j->nmsg++;
    trace_msg(j, "req", send);
    rsp = OSSL_CMP_MSG_http_perform(ctx, send);
    trace_msg(j, "rsp", rsp);
done:
    OSSL_CMP_MSG_free(mod);
    return rsp;
}

/* setup_creds loads the vendor credentials, the new key and the trust
 * store (empty unless --trusted) into ctx. Returns 0 or -1. */
static int setup_creds(OSSL_CMP_CTX *ctx, const struct opts *o, int n)
{
    char path[PATH_CAP];
    STACK_OF(X509) *certs = NULL, *chain = NULL;
    X509_STORE *store = X509_STORE_new();
    EVP_PKEY *key = NULL, *newkey = NULL;
    int rc = -1;

    if (store == NULL || !OSSL_CMP_CTX_set0_trustedStore(ctx, store)) {
        X509_STORE_free(store);
        return -1;
    }
    if (o->trusted != NULL) {
        if ((chain = load_certs(expand(o->trusted, n, path, PATH_CAP))) == NULL)
            goto done;
        for (int i = 0; i < sk_X509_num(chain); i++)
            if (!X509_STORE_add_cert(store, sk_X509_value(chain, i)))
                goto done;
        sk_X509_pop_free(chain, X509_free);
        chain = NULL;
    }
    if ((certs = load_certs(expand(o->cert, n, path, PATH_CAP))) == NULL ||
        (key = load_key(expand(o->key, n, path, PATH_CAP))) == NULL ||
        (newkey = load_key(expand(o->newkey, n, path, PATH_CAP))) == NULL)
        goto done;
    if (o->chain != NULL &&
        (chain = load_certs(expand(o->chain, n, path, PATH_CAP))) == NULL)
        goto done;
    if (!OSSL_CMP_CTX_set1_cert(ctx, sk_X509_value(certs, 0)) ||
        !OSSL_CMP_CTX_set1_pkey(ctx, key) ||
        (chain != NULL && !OSSL_CMP_CTX_set1_extraCertsOut(ctx, chain)) ||
        !OSSL_CMP_CTX_set0_newPkey(ctx, 1, newkey))
        goto done;
    newkey = NULL;
    rc = 0;
done:
    sk_X509_pop_free(certs, X509_free);
    sk_X509_pop_free(chain, X509_free);
    EVP_PKEY_free(key);
    EVP_PKEY_free(newkey);
    return rc;
}

static int setup_ctx(OSSL_CMP_CTX *ctx, struct job *j)
{
    const struct opts *o = j->o;
    int ok;

    ok = OSSL_CMP_CTX_set1_server(ctx, o->host) &&
         OSSL_CMP_CTX_set_serverPort(ctx, o->port) &&
         OSSL_CMP_CTX_set1_serverPath(ctx, o->path) &&
         OSSL_CMP_CTX_set_transfer_cb(ctx, transfer) &&
         OSSL_CMP_CTX_set_transfer_cb_arg(ctx, j) &&
         OSSL_CMP_CTX_set_certConf_cb(ctx, certconf_cb) &&
         OSSL_CMP_CTX_set_log_verbosity(ctx, OSSL_CMP_LOG_WARNING) &&
         OSSL_CMP_CTX_set_option(ctx, OSSL_CMP_OPT_KEEP_ALIVE, 0) &&
         OSSL_CMP_CTX_set_option(ctx, OSSL_CMP_OPT_MSG_TIMEOUT, o->timeout) &&
         OSSL_CMP_CTX_set_option(ctx, OSSL_CMP_OPT_TOTAL_TIMEOUT,
                                 2 * o->timeout) &&
         OSSL_CMP_CTX_set_option(
             ctx, OSSL_CMP_OPT_PERMIT_TA_IN_EXTRACERTS_FOR_IR, 1) &&
         OSSL_CMP_CTX_set_option(ctx, OSSL_CMP_OPT_IMPLICIT_CONFIRM,
                                 o->implicit_confirm);
    return ok && setup_creds(ctx, o, j->n) == 0 ? 0 : -1;
}

/* save_results writes the new certificate, caPubs and extraCerts. */
static int save_results(OSSL_CMP_CTX *ctx, const struct job *j)
{
    const struct opts *o = j->o;
    char path[PATH_CAP];
    STACK_OF(X509) *sk = NULL;
    X509 *cert = OSSL_CMP_CTX_get0_newCert(ctx);
    FILE *f;
    int rc = 0;

    if (o->certout != NULL) {
        f = fopen(expand(o->certout, j->n, path, sizeof(path)), "w");
        if (f == NULL || PEM_write_X509(f, cert) != 1)
            rc = -1;
        if (f != NULL && fclose(f) != 0)
            rc = -1;
    }
    if (o->cacertsout != NULL) {
        sk = OSSL_CMP_CTX_get1_caPubs(ctx);
        if (sk == NULL ||
            save_certs(expand(o->cacertsout, j->n, path, PATH_CAP), sk) != 0)
            rc = -1;
        sk_X509_pop_free(sk, X509_free);
    }
    if (o->extracertsout != NULL) {
        sk = OSSL_CMP_CTX_get1_extraCertsIn(ctx);
        if (sk == NULL ||
            save_certs(expand(o->extracertsout, j->n, path, PATH_CAP), sk) != 0)
            rc = -1;
        sk_X509_pop_free(sk, X509_free);
    }
    return rc;
}

static void *run_job(void *arg)
{
    struct job *j = arg;
    OSSL_CMP_CTX *ctx = OSSL_CMP_CTX_new(NULL, NULL);

    j->rc = 1;
    snprintf(j->status, sizeof(j->status), "setup failed");
    if (ctx == NULL || setup_ctx(ctx, j) != 0)
        goto done;
    if (OSSL_CMP_exec_IR_ses(ctx) == NULL) {
        if (OSSL_CMP_CTX_snprint_PKIStatus(ctx, j->status, sizeof(j->status)) ==
            NULL)
            snprintf(j->status, sizeof(j->status),
                     "failed without a valid response (see errors above)");
        if (j->o->no_send && j->saved) {
            j->rc = 0; /* --no-send: stopping after the ir was the goal */
            snprintf(j->status, sizeof(j->status), "request saved");
        }
        goto done;
    }
    snprintf(j->status, sizeof(j->status), "enrolled");
    j->rc = save_results(ctx, j) == 0 ? 0 : 1;
done:
    if (j->rc != 0)
        OSSL_CMP_CTX_print_errors(ctx);
    ERR_clear_error();
    OSSL_CMP_CTX_free(ctx);
    return NULL;
}

static int parse_server(struct opts *o, const char *arg)
{
    const char *colon = strrchr(arg, ':');
    char *end = NULL;
    long port;

    if (colon == NULL || colon == arg ||
        (size_t)(colon - arg) >= sizeof(o->host))
        return -1;
    memcpy(o->host, arg, (size_t)(colon - arg));
    o->host[colon - arg] = '\0';
    errno = 0;
    port = strtol(colon + 1, &end, 10);
    if (errno != 0 || *end != '\0' || port < 1 || port > 65535)
        return -1;
    o->port = (int)port;
    return 0;
}

/* opt_value returns argv[*i + 1] when argv[*i] is `name`, advancing *i. */
static const char *opt_value(int argc, char **argv, int *i, const char *name)
{
    if (strcmp(argv[*i], name) != 0 || *i + 1 >= argc)
        return NULL;
    return argv[++*i];
}

static int parse_flag(struct opts *o, const char *a)
{
    if (strcmp(a, "--implicit-confirm") == 0)
        o->implicit_confirm = 1;
    else if (strcmp(a, "--no-send") == 0)
        o->no_send = 1;
    else
        return -1;
    return 0;
}

static int parse_args(struct opts *o, int argc, char **argv)
{
    struct {
        const char *name;
        const char **dst;
    } files[] = {
        {"--path", &o->path},
        {"--cert", &o->cert},
        {"--key", &o->key},
        {"--chain", &o->chain},
        {"--newkey", &o->newkey},
        {"--trusted", &o->trusted},
        {"--certout", &o->certout},
        {"--cacertsout", &o->cacertsout},
        {"--extracertsout", &o->extracertsout},
        {"--trace", &o->trace},
        {"--save-req", &o->save_req},
        {"--pause-dir", &o->pause_dir},
    };
    const char *v;

    for (int i = 1; i < argc; i++) {
        size_t k;

        if (parse_flag(o, argv[i]) == 0)
            continue;
        for (k = 0; k < sizeof(files) / sizeof(files[0]); k++)
            if ((v = opt_value(argc, argv, &i, files[k].name)) != NULL) {
                *files[k].dst = v;
                break;
            }
        if (k < sizeof(files) / sizeof(files[0]))
            continue;
        if ((v = opt_value(argc, argv, &i, "--server")) != NULL) {
            if (parse_server(o, v) != 0)
                return -1;
        } else if ((v = opt_value(argc, argv, &i, "--tamper")) != NULL) {
            if (strcmp(v, "protection") == 0)
                o->tamper = TAMPER_PROTECTION;
            else if (strcmp(v, "popo") == 0)
                o->tamper = TAMPER_POPO;
            else
                return -1;
        } else if ((v = opt_value(argc, argv, &i, "--count")) != NULL) {
            o->count = atoi(v);
        } else if ((v = opt_value(argc, argv, &i, "--timeout")) != NULL) {
            o->timeout = atoi(v);
        } else {
            fprintf(stderr, "noroot_client: unknown option %s\n", argv[i]);
            return -1;
        }
    }
    if (o->host[0] == '\0' || o->cert == NULL || o->key == NULL ||
        o->newkey == NULL || o->count < 1 || o->count > MAX_COUNT ||
        o->timeout < 1 || (o->no_send && o->save_req == NULL))
        return -1;
    return 0;
}

int main(int argc, char **argv)
{
    struct opts o = {.path = "/.well-known/cmp", .count = 1, .timeout = 30};
    struct job *jobs = NULL;
    pthread_t tids[MAX_COUNT];
    int failed = 0, started = 0;

    if (argc == 2 &&
        (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        usage(stdout);
        return 0;
    }
    if (parse_args(&o, argc, argv) != 0) {
        usage(stderr);
        return 2;
    }
    if ((jobs = calloc((size_t)o.count, sizeof(*jobs))) == NULL)
        return 1;
    for (; started < o.count; started++) {
        jobs[started].o = &o;
        jobs[started].n = started + 1;
        if (pthread_create(&tids[started], NULL, run_job, &jobs[started]) !=
            0) {
            fprintf(stderr, "noroot_client: cannot start thread\n");
            failed++;
            break;
        }
    }
    for (int i = 0; i < started; i++) {
        pthread_join(tids[i], NULL);
        if (jobs[i].rc != 0)
            failed++;
        fprintf(stderr, "noroot_client: #%d: %s\n", jobs[i].n, jobs[i].status);
    }
    free(jobs);
    return failed == 0 ? 0 : 1;
}
