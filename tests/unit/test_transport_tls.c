/*
 * test_transport_tls.c: the transport's HTTPS (versions, plain HTTP on the
 * TLS port, client certificates) and its request deadlines (slowloris), over
 * real loopback sockets.
 *
 * The certificates are made here with libcrypto: an EC P-256 CA, a server
 * certificate for IP 127.0.0.1, and client certificates from the trusted
 * client CA, from another CA, and one for the wrong purpose. The TLS client
 * is libssl; the raw client of transport_client.c sends the slow requests.
 */
#include "transport/transport.h"
#include "check.h"
#include "transport_client.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#define CT_CMP "application/pkixcmp"

/* ---- the handler ----------------------------------------------------- */

struct app {
    pthread_mutex_t lock;
    int calls;
    int block_ms; /* stay in the handler this long */
};

/* Answers "ok:" followed by the body. */
static int app_handler(void *arg, const struct transport_req *req,
                       struct transport_rsp *rsp)
{
    struct app *a = arg;
    struct timespec ts = {0, 0};

    pthread_mutex_lock(&a->lock);
    a->calls++;
    ts.tv_sec = a->block_ms / 1000;
    ts.tv_nsec = (a->block_ms % 1000) * 1000000L;
    pthread_mutex_unlock(&a->lock);
    if (ts.tv_sec > 0 || ts.tv_nsec > 0)
        nanosleep(&ts, NULL);
    rsp->status = 200;
    rsp->body_len = 3 + req->body_len;
    if ((rsp->body = malloc(rsp->body_len)) == NULL)
        return -1;
    memcpy(rsp->body, "ok:", 3);
    memcpy(rsp->body + 3, req->body, req->body_len);
    return 0;
}

static int app_calls(struct app *a)
{
    int n;

    pthread_mutex_lock(&a->lock);
    n = a->calls;
    pthread_mutex_unlock(&a->lock);
    return n;
}

static struct transport_opts opts_for(struct app *a, int read_timeout)
{
    struct transport_opts o;

    memset(&o, 0, sizeof(o));
    o.listen = "127.0.0.1:0";
    o.threads = 2;
    o.max_body = 4096;
    o.read_timeout = read_timeout;
    o.max_connections = 32;
    o.handler = app_handler;
    o.arg = a;
    return o;
}

/* ---- certificates ---------------------------------------------------- */

struct cred {
    EVP_PKEY *key;
    X509 *cert;
};

static int add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509_EXTENSION *ext;
    int ok;

    X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
    if ((ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value)) == NULL)
        return 0;
    ok = X509_add_ext(x, ext, -1);
    X509_EXTENSION_free(ext);
    return ok;
}

/* A new key and certificate named `cn`, issued by `by` (NULL: self-signed
 * CA). `eku` is an extendedKeyUsage value or NULL; `ip` adds an IP SAN. */
static struct cred make_cred(const char *cn, const struct cred *by,
                             const char *eku, const char *ip)
{
    static long serial = 1;
    struct cred c = {EVP_EC_gen("P-256"), X509_new()};
    X509 *issuer = by != NULL ? by->cert : c.cert;
    char san[64];
    int ok = c.key != NULL && c.cert != NULL;

    ok = ok && X509_set_version(c.cert, X509_VERSION_3) &&
         ASN1_INTEGER_set(X509_get_serialNumber(c.cert), serial++) &&
         X509_gmtime_adj(X509_getm_notBefore(c.cert), -60) &&
         X509_gmtime_adj(X509_getm_notAfter(c.cert), 86400) &&
         X509_NAME_add_entry_by_txt(X509_get_subject_name(c.cert), "CN",
                                    MBSTRING_ASC, (const unsigned char *)cn, -1,
                                    -1, 0) &&
         X509_set_issuer_name(c.cert, X509_get_subject_name(issuer)) &&
         X509_set_pubkey(c.cert, c.key);
    if (by == NULL)
        ok = ok &&
             add_ext(c.cert, issuer, NID_basic_constraints,
                     "critical,CA:TRUE") &&
             add_ext(c.cert, issuer, NID_key_usage, "critical,keyCertSign");
    else
        ok =
            ok &&
            add_ext(c.cert, issuer, NID_basic_constraints,
                    "critical,CA:FALSE") &&
            add_ext(c.cert, issuer, NID_key_usage, "critical,digitalSignature");
    if (eku != NULL)
        ok = ok && add_ext(c.cert, issuer, NID_ext_key_usage, eku);
    snprintf(san, sizeof(san), "IP:%s", ip != NULL ? ip : "");
    if (ip != NULL)
        ok = ok && add_ext(c.cert, issuer, NID_subject_alt_name, san);
    ok =
        ok && X509_sign(c.cert, by != NULL ? by->key : c.key, EVP_sha256()) > 0;
    CHECK(ok);
    return c;
}

static void cred_free(struct cred *c)
{
    EVP_PKEY_free(c->key);
    X509_free(c->cert);
}

/* PEM text of `x` (then `x2` unless NULL) or of `key`: a new string. */
static char *pem_of(X509 *x, X509 *x2, EVP_PKEY *key)
{
    BIO *b = BIO_new(BIO_s_mem());
    char *p = NULL, *s = NULL;
    long n;

    if (b != NULL && (x == NULL || PEM_write_bio_X509(b, x)) &&
        (x2 == NULL || PEM_write_bio_X509(b, x2)) &&
        (key == NULL ||
         PEM_write_bio_PrivateKey(b, key, NULL, NULL, 0, NULL, NULL)) &&
        (n = BIO_get_mem_data(b, &p)) > 0 && (s = malloc((size_t)n + 1))) {
        memcpy(s, p, (size_t)n);
        s[n] = '\0';
    }
    BIO_free(b);
    CHECK(s != NULL);
    return s;
}

/* ---- the TLS client -------------------------------------------------- */

/* A client context trusting `ca`, speaking versions minv..maxv with
 * `ciphers` (NULL: default), presenting `me` (NULL: no certificate). */
static SSL_CTX *client_ctx(X509 *ca, int minv, int maxv, const char *ciphers,
                           const struct cred *me)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    int ok = ctx != NULL;

    ok = ok && SSL_CTX_set_min_proto_version(ctx, minv) &&
         SSL_CTX_set_max_proto_version(ctx, maxv) &&
         X509_STORE_add_cert(SSL_CTX_get_cert_store(ctx), ca) &&
         X509_VERIFY_PARAM_set1_ip_asc(SSL_CTX_get0_param(ctx), "127.0.0.1");
    if (ok && ciphers != NULL)
        ok = SSL_CTX_set_cipher_list(ctx, ciphers);
    if (ok && me != NULL)
        ok = SSL_CTX_use_certificate(ctx, me->cert) &&
             SSL_CTX_use_PrivateKey(ctx, me->key);
    if (ok)
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    CHECK(ok);
    return ctx;
}

/* Connects and completes a handshake; NULL when the handshake fails. */
static SSL *tls_open(SSL_CTX *ctx, int port, struct conn *cn)
{
    SSL *ssl;

    if (conn_open(cn, AF_INET, port) != 0)
        return NULL;
    if ((ssl = SSL_new(ctx)) == NULL || !SSL_set_fd(ssl, cn->fd) ||
        SSL_connect(ssl) != 1) {
        SSL_free(ssl);
        conn_close(cn);
        ERR_clear_error();
        return NULL;
    }
    return ssl;
}

static void tls_close(SSL *ssl, struct conn *cn)
{
    SSL_free(ssl);
    conn_close(cn);
}

/* Sends `req` and reads one answer framed by Content-Length into `body`.
 * Returns the HTTP status, or -1. */
static int tls_exchange(SSL *ssl, const char *req, char *body, size_t cap)
{
    char buf[8192], *end, *cl;
    size_t have = 0, want;
    int n, status;

    body[0] = '\0';
    if (SSL_write(ssl, req, (int)strlen(req)) <= 0)
        return -1;
    for (;;) {
        buf[have] = '\0';
        if ((end = strstr(buf, "\r\n\r\n")) != NULL) {
            cl = strstr(buf, "Content-Length: ");
            want = (size_t)(end + 4 - buf) +
                   (cl != NULL && cl < end ? strtoul(cl + 16, NULL, 10) : 0);
            if (have >= want)
                break;
        }
        if (have + 1 >= sizeof(buf) ||
            (n = SSL_read(ssl, buf + have, (int)(sizeof(buf) - 1 - have))) <= 0)
            return -1;
        have += (size_t)n;
    }
    if (sscanf(buf, "HTTP/1.1 %d", &status) != 1)
        return -1;
    snprintf(body, cap, "%.*s", (int)(want - (size_t)(end + 4 - buf)), end + 4);
    return status;
}

/* One POST of "abc" over a fresh connection; the status or -1. */
static int tls_post1(SSL_CTX *ctx, int port, char *body, size_t cap)
{
    struct conn cn;
    SSL *ssl = tls_open(ctx, port, &cn);
    int status;

    if (ssl == NULL)
        return -1;
    status = tls_exchange(ssl,
                          "POST /.well-known/cmp HTTP/1.1\r\nHost: t\r\n"
                          "Content-Type: " CT_CMP "\r\nContent-Length: 3\r\n"
                          "\r\nabc",
                          body, cap);
    tls_close(ssl, &cn);
    return status;
}

/* ---- cases ----------------------------------------------------------- */

static void test_bad_tls_start(struct app *a, struct cred *srv,
                               struct cred *other)
{
    struct transport_opts o = opts_for(a, 5);
    struct transport *t = NULL;
    char err[256], *cert = pem_of(srv->cert, NULL, NULL);
    char *key = pem_of(NULL, NULL, srv->key);
    char *other_key = pem_of(NULL, NULL, other->key);

    o.tls_cert_pem = cert; /* no key */
    CHECK_INT_EQ(transport_start(&o, &t, err, sizeof(err)), -1);
    CHECK(t == NULL && strstr(err, "TLS") != NULL);
    o.tls_cert_pem = NULL;
    o.tls_key_pem = key; /* no certificate */
    CHECK_INT_EQ(transport_start(&o, &t, err, sizeof(err)), -1);
    o.tls_client_ca_pem = cert; /* client CAs without TLS */
    o.tls_key_pem = NULL;
    CHECK_INT_EQ(transport_start(&o, &t, err, sizeof(err)), -1);
    o.tls_client_ca_pem = NULL;
    o.tls_cert_pem = "-----BEGIN CERTIFICATE-----\nAAAA\n"
                     "-----END CERTIFICATE-----\n";
    o.tls_key_pem = key;
    CHECK_INT_EQ(transport_start(&o, &t, err, sizeof(err)), -1);
    CHECK(t == NULL && err[0] != '\0');
    o.tls_cert_pem = cert;
    o.tls_key_pem = other_key; /* not the certificate's key */
    CHECK_INT_EQ(transport_start(&o, &t, err, sizeof(err)), -1);
    CHECK(t == NULL && err[0] != '\0');
    fprintf(stderr, "mismatched key refused: %s\n", err);
    free(cert);
    free(key);
    free(other_key);
}

/* Plain HTTP sent to the TLS port gets no HTTP answer. */
static void test_plain_to_tls(int port)
{
    struct rsp r;

    CHECK_INT_EQ(raw1(port, "GET /health HTTP/1.1\r\nHost: t\r\n\r\n", &r), -1);
}

static void test_versions(struct app *a, struct cred *ca, int port)
{
    static const struct {
        int minv, maxv, ok;
        const char *ciphers;
    } v[] = {
        {TLS1_3_VERSION, TLS1_3_VERSION, 1, NULL},
        {TLS1_2_VERSION, TLS1_2_VERSION, 1, NULL},
        /* security level 0: the client is willing, the refusal is ours */
        {TLS1_2_VERSION, TLS1_2_VERSION, 1, "DEFAULT@SECLEVEL=0"},
        {TLS1_1_VERSION, TLS1_1_VERSION, 0, "DEFAULT@SECLEVEL=0"},
        {TLS1_VERSION, TLS1_VERSION, 0, "DEFAULT@SECLEVEL=0"},
    };
    char body[256];
    int before = app_calls(a);
    size_t i;

    for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        SSL_CTX *ctx =
            client_ctx(ca->cert, v[i].minv, v[i].maxv, v[i].ciphers, NULL);
        int status = tls_post1(ctx, port, body, sizeof(body));

        if (v[i].ok) {
            CHECK_INT_EQ(status, 200);
            CHECK_STR_EQ(body, "ok:abc");
        } else {
            CHECK_INT_EQ(status, -1);
        }
        if ((status == 200) != v[i].ok)
            fprintf(stderr, "  version case %zu\n", i);
        SSL_CTX_free(ctx);
    }
    CHECK_INT_EQ(app_calls(a) - before, 3);
}

static void test_https(struct app *a, struct cred *ca, struct cred *srv)
{
    struct transport_opts o = opts_for(a, 5);
    struct transport *t = NULL;
    char err[256], body[256];
    char *cert = pem_of(srv->cert, ca->cert, NULL); /* with its chain */
    char *key = pem_of(NULL, NULL, srv->key);
    SSL_CTX *ctx;
    struct conn cn;
    SSL *ssl;

    o.tls_cert_pem = cert;
    o.tls_key_pem = key;
    CHECK_INT_EQ(transport_start(&o, &t, err, sizeof(err)), 0);
    memset(key, 'x', strlen(key)); /* the transport holds its own copy */
    if (t == NULL)
        goto done;
    test_versions(a, ca, transport_port(t));
    test_plain_to_tls(transport_port(t));
    /* keep-alive over TLS */
    ctx = client_ctx(ca->cert, TLS1_2_VERSION, TLS1_3_VERSION, NULL, NULL);
    ssl = tls_open(ctx, transport_port(t), &cn);
    CHECK(ssl != NULL);
    if (ssl != NULL) {
        CHECK_INT_EQ(tls_exchange(ssl,
                                  "GET /health HTTP/1.1\r\nHost: t\r\n\r\n",
                                  body, sizeof(body)),
                     200);
        CHECK_STR_EQ(body, "ok");
        CHECK_INT_EQ(tls_exchange(ssl,
                                  "GET /health HTTP/1.1\r\nHost: t\r\n\r\n",
                                  body, sizeof(body)),
                     200);
        tls_close(ssl, &cn);
    }
    SSL_CTX_free(ctx);
    transport_stop(t);
done:
    free(cert);
    free(key);
}

/* POSTs over a new connection presenting `me`; the status or -1. */
static int post_as(struct cred *ca, const struct cred *me, int port)
{
    SSL_CTX *ctx =
        client_ctx(ca->cert, TLS1_2_VERSION, TLS1_3_VERSION, NULL, me);
    char body[256];
    int status = tls_post1(ctx, port, body, sizeof(body));

    if (status == 403)
        CHECK_STR_EQ(body, "client certificate required\n");
    SSL_CTX_free(ctx);
    return status;
}

static void test_client_auth(struct app *a, struct cred *ca, struct cred *srv,
                             struct cred *cca)
{
    struct cred good = make_cred("client", cca, "clientAuth", NULL);
    struct cred stranger = make_cred("stranger", ca, "clientAuth", NULL);
    struct cred server_only =
        make_cred("wrong purpose", cca, "serverAuth", NULL);
    struct cred no_eku = make_cred("any purpose", cca, NULL, NULL);
    struct transport_opts o = opts_for(a, 5);
    struct transport *t = NULL;
    char err[256], body[256];
    char *cert = pem_of(srv->cert, NULL, NULL),
         *key = pem_of(NULL, NULL, srv->key);
    char *trust = pem_of(cca->cert, NULL, NULL);
    SSL_CTX *ctx;
    struct conn cn;
    SSL *ssl;
    int before;

    o.tls_cert_pem = cert;
    o.tls_key_pem = key;
    o.tls_client_ca_pem = trust;
    CHECK_INT_EQ(transport_start(&o, &t, err, sizeof(err)), 0);
    if (t == NULL)
        goto done;
    before = app_calls(a);
    CHECK_INT_EQ(post_as(ca, NULL, transport_port(t)), 403);
    CHECK_INT_EQ(post_as(ca, &stranger, transport_port(t)), 403);
    CHECK_INT_EQ(post_as(ca, &server_only, transport_port(t)), 403);
    CHECK_INT_EQ(app_calls(a), before); /* refused before the handler */
    CHECK_INT_EQ(post_as(ca, &good, transport_port(t)), 200);
    CHECK_INT_EQ(post_as(ca, &no_eku, transport_port(t)), 200);
    CHECK_INT_EQ(app_calls(a), before + 2);
    /* the verdict holds for every request of the connection */
    ctx = client_ctx(ca->cert, TLS1_3_VERSION, TLS1_3_VERSION, NULL, &good);
    ssl = tls_open(ctx, transport_port(t), &cn);
    CHECK(ssl != NULL);
    if (ssl != NULL) {
        CHECK_INT_EQ(tls_exchange(ssl,
                                  "GET /health HTTP/1.1\r\nHost: t\r\n\r\n",
                                  body, sizeof(body)),
                     200);
        CHECK_INT_EQ(tls_exchange(ssl,
                                  "GET /health HTTP/1.1\r\nHost: t\r\n\r\n",
                                  body, sizeof(body)),
                     200);
        tls_close(ssl, &cn);
    }
    SSL_CTX_free(ctx);
    transport_stop(t);
done:
    free(cert);
    free(key);
    free(trust);
    cred_free(&good);
    cred_free(&stranger);
    cred_free(&server_only);
    cred_free(&no_eku);
}

/* ---- deadlines --------------------------------------------------------- */

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Connects, sends the first `first` bytes of `buf`, then `chunk` more every
 * 250 ms. Returns the seconds after which the server ended the connection,
 * or -1 when it was still open after `max_s` seconds. *sent is -1 when it
 * closed without a word, else the first byte it sent. */
static double trickle(int port, const char *buf, size_t len, size_t first,
                      size_t chunk, double max_s, int *sent)
{
    struct conn cn;
    struct pollfd p;
    double start = now_s(), took = -1;
    size_t off = first;
    char c;

    *sent = -1;
    if (conn_open(&cn, AF_INET, port) != 0)
        return -1;
    if (first > 0 && send_all(&cn, buf, first) != 0)
        goto done;
    while (now_s() - start < max_s) {
        p.fd = cn.fd;
        p.events = POLLIN;
        if (poll(&p, 1, 250) > 0) {
            if (recv(cn.fd, &c, 1, 0) > 0)
                *sent = (unsigned char)c;
            took = now_s() - start;
            goto done;
        }
        if (off + chunk <= len) {
            if (send(cn.fd, buf + off, chunk, MSG_NOSIGNAL) < 0) {
                took = now_s() - start;
                goto done;
            }
            off += chunk;
        }
    }
done:
    conn_close(&cn);
    return took;
}

/* The bytes of a TLS 1.3 ClientHello, as libssl would send them first. */
static size_t client_hello(SSL_CTX *ctx, char *out, size_t cap)
{
    SSL *ssl = SSL_new(ctx);
    BIO *rb = BIO_new(BIO_s_mem()), *wb = BIO_new(BIO_s_mem());
    int n = 0;

    if (ssl != NULL && rb != NULL && wb != NULL) {
        SSL_set_bio(ssl, rb, wb); /* ssl owns both from here */
        rb = wb = NULL;
        SSL_connect(ssl); /* stops at WANT_READ, the hello written */
        n = BIO_read(SSL_get_wbio(ssl), out, (int)cap);
    }
    BIO_free(rb);
    BIO_free(wb);
    SSL_free(ssl);
    ERR_clear_error();
    return n > 0 ? (size_t)n : 0;
}

static void set_block(struct app *a, int ms)
{
    pthread_mutex_lock(&a->lock);
    a->block_ms = ms;
    pthread_mutex_unlock(&a->lock);
}

#define SLOW_HEAD                                                              \
    "POST /.well-known/cmp HTTP/1.1\r\nHost: t\r\nContent-Type: " CT_CMP "\r"  \
    "\n"
#define SLOW_LINE "X-Slow: 1\r\n"

/* read_timeout 1: a request trickled in (headers or body) is cut after 1
 * to 2 s although it is never idle; a slow handler and an unhurried
 * keep-alive client are not. */
static void test_plain_deadlines(struct app *a)
{
    struct transport_opts o = opts_for(a, 1);
    struct transport *t = NULL;
    char err[256], buf[2048];
    struct conn cn;
    struct rsp r;
    size_t n;
    double took;
    int i, before, sent;

    CHECK_INT_EQ(transport_start(&o, &t, err, sizeof(err)), 0);
    if (t == NULL)
        return;
    before = app_calls(a);
    n = (size_t)snprintf(buf, sizeof(buf), "%s", SLOW_HEAD);
    for (i = 0; i < 60; i++)
        n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s", SLOW_LINE);
    took = trickle(transport_port(t), buf, n, strlen(SLOW_HEAD),
                   strlen(SLOW_LINE), 8, &sent);
    fprintf(stderr, "trickled headers cut after %.2f s\n", took);
    CHECK(took >= 0.9 && took <= 4.0);
    CHECK_INT_EQ(sent, -1); /* closed, no answer */

    n = (size_t)snprintf(buf, sizeof(buf), "%sContent-Length: 200\r\n\r\n",
                         SLOW_HEAD);
    memset(buf + n, 'a', 200);
    took = trickle(transport_port(t), buf, n + 200, n, 1, 8, &sent);
    fprintf(stderr, "trickled body cut after %.2f s\n", took);
    CHECK(took >= 0.9 && took <= 4.0);
    CHECK_INT_EQ(sent, -1);
    CHECK_INT_EQ(app_calls(a), before);

    /* 3 requests 0.6 s apart: the deadline restarts after each answer */
    CHECK_INT_EQ(conn_open(&cn, AF_INET, transport_port(t)), 0);
    for (i = 0; i < 3; i++) {
        struct timespec pause = {0, 600 * 1000000L};

        if (i > 0)
            nanosleep(&pause, NULL);
        CHECK_INT_EQ(post(&cn, "/.well-known/cmp", CT_CMP, "k", 1, &r), 0);
        CHECK_INT_EQ(r.status, 200);
    }
    conn_close(&cn);

    /* a handler slower than the deadline still answers */
    set_block(a, 2500);
    CHECK_INT_EQ(post1(transport_port(t), "/.well-known/cmp", CT_CMP, "s", &r),
                 200);
    CHECK(body_is(&r, "ok:s"));
    set_block(a, 0);
    transport_stop(t);
}

/* A TLS handshake trickled in byte by byte is cut too: by the deadline, or
 * by MHD's idle timeout, which GnuTLS's reads during the handshake do not
 * reset; MHD then sends an alert first. */
static void test_tls_deadline(struct app *a, struct cred *ca, struct cred *srv)
{
    struct transport_opts o = opts_for(a, 1);
    struct transport *t = NULL;
    char err[256], hello[4096], body[64];
    char *cert = pem_of(srv->cert, NULL, NULL),
         *key = pem_of(NULL, NULL, srv->key);
    SSL_CTX *ctx =
        client_ctx(ca->cert, TLS1_3_VERSION, TLS1_3_VERSION, NULL, NULL);
    size_t n = client_hello(ctx, hello, sizeof(hello));
    double took;
    int sent;

    CHECK(n > 100);
    o.tls_cert_pem = cert;
    o.tls_key_pem = key;
    CHECK_INT_EQ(transport_start(&o, &t, err, sizeof(err)), 0);
    if (t != NULL) {
        took = trickle(transport_port(t), hello, n, 0, 1, 8, &sent);
        fprintf(stderr,
                "trickled ClientHello (%zu bytes) cut after %.2f s (%d)\n", n,
                took, sent);
        CHECK(took >= 0.9 && took <= 4.0);
        CHECK(sent == -1 || sent == 0x15); /* closed, or a TLS alert */
        CHECK_INT_EQ(tls_post1(ctx, transport_port(t), body, sizeof(body)),
                     200);
        transport_stop(t);
    }
    SSL_CTX_free(ctx);
    free(cert);
    free(key);
}

int main(void)
{
    struct app a = {PTHREAD_MUTEX_INITIALIZER, 0, 0};
    struct cred ca = make_cred("TLS CA", NULL, NULL, NULL);
    struct cred cca = make_cred("Client CA", NULL, NULL, NULL);
    struct cred srv = make_cred("127.0.0.1", &ca, "serverAuth", "127.0.0.1");
    struct cred other = make_cred("other", &ca, "serverAuth", "127.0.0.1");

    test_bad_tls_start(&a, &srv, &other);
    test_https(&a, &ca, &srv);
    test_client_auth(&a, &ca, &srv, &cca);
    test_plain_deadlines(&a);
    test_tls_deadline(&a, &ca, &srv);
    cred_free(&ca);
    cred_free(&cca);
    cred_free(&srv);
    cred_free(&other);
    return CHECK_RESULT();
}
