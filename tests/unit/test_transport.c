/*
 * test_transport.c: the transport room driven over real sockets by the raw
 * client in transport_client.c, against an echo handler that records what
 * it was given. Covers the path grammar, status codes, body limits,
 * keep-alive, concurrency and a stop with a request in flight.
 */
#include "transport/transport.h"
#include "check.h"
#include "transport_client.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define MAX_BODY 1024
#define CT_CMP   "application/pkixcmp"

/* ---- the handler side ---------------------------------------------- */

struct echo {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int calls;
    char profile[80]; /* "(null)" when the request had none */
    char operation[80];
    char peer[80];
    int block_ms; /* stop test: stay in the handler this long */
    int entered;
    int finished;
};

static void copy_or_null(char *dst, size_t cap, const char *s)
{
    snprintf(dst, cap, "%s", s != NULL ? s : "(null)");
}

static int echo_handler(void *arg, const struct transport_req *req,
                        struct transport_rsp *rsp)
{
    struct echo *e = arg;
    size_t i;

    pthread_mutex_lock(&e->lock);
    e->calls++;
    copy_or_null(e->profile, sizeof(e->profile), req->profile);
    copy_or_null(e->operation, sizeof(e->operation), req->operation);
    copy_or_null(e->peer, sizeof(e->peer), req->peer);
    e->entered = 1;
    pthread_cond_broadcast(&e->cond);
    pthread_mutex_unlock(&e->lock);
    if (e->block_ms > 0) {
        struct timespec ts = {0, (long)e->block_ms * 1000000L};

        nanosleep(&ts, NULL);
        pthread_mutex_lock(&e->lock);
        e->finished = 1;
        pthread_mutex_unlock(&e->lock);
    }
    if (req->body_len == 4 && memcmp(req->body, "fail", 4) == 0) {
        rsp->body = malloc(3); /* a failing handler's leftovers are freed */
        return -1;
    }
    /* answer "echo:" + the body reversed */
    rsp->status = 200;
    rsp->body_len = 5 + req->body_len;
    rsp->body = malloc(rsp->body_len);
    if (rsp->body == NULL)
        return -1;
    memcpy(rsp->body, "echo:", 5);
    for (i = 0; i < req->body_len; i++)
        rsp->body[5 + i] = req->body[req->body_len - 1 - i];
    if (req->body_len == 4 && memcmp(req->body, "text", 4) == 0)
        rsp->content_type = "text/plain";
    return 0;
}

static int profile_ok(void *arg, const char *profile)
{
    return strcmp(profile, "nosuch") != 0;
}

static int echo_calls(struct echo *e)
{
    int n;

    pthread_mutex_lock(&e->lock);
    n = e->calls;
    pthread_mutex_unlock(&e->lock);
    return n;
}

/* ---- cases --------------------------------------------------------- */

static void test_parse_path(void)
{
    static const struct {
        const char *path, *profile, *op; /* profile NULL: must fail */
    } cases[] = {
        {"/.well-known/cmp", "", ""},
        {"/.well-known/cmp/", "", ""},
        {"/.well-known/cmp/initialization", "", "initialization"},
        {"/.well-known/cmp/getcertreqtemplate/", "", "getcertreqtemplate"},
        {"/.well-known/cmp/p/gnb-01.v2_x", "gnb-01.v2_x", ""},
        {"/.well-known/cmp/p/gnb/", "gnb", ""},
        {"/.well-known/cmp/p/gnb/keyupdate", "gnb", "keyupdate"},
        {"/.well-known/cmp/p/gnb/nested/", "gnb", "nested"},
        {"/.well-known/cmp/p/...x/pkcs10", "...x", "pkcs10"},
        {"/.well-known/cmp/p/p/revocation", "p", "revocation"},
        {"", NULL, NULL},
        {"/", NULL, NULL},
        {"/.well-known/cmpx", NULL, NULL},
        {"/.well-known/CMP", NULL, NULL},
        {"/.well-known//cmp", NULL, NULL},
        {"/.well-known/cmp//", NULL, NULL},
        {"/.well-known/cmp//initialization", NULL, NULL},
        {"/.well-known/cmp/initialization//", NULL, NULL},
        {"/.well-known/cmp/Initialization", NULL, NULL},
        {"/.well-known/cmp/bogus", NULL, NULL},
        {"/.well-known/cmp/p", NULL, NULL},
        {"/.well-known/cmp/p/", NULL, NULL},
        {"/.well-known/cmp/p//initialization", NULL, NULL},
        {"/.well-known/cmp/p/../initialization", NULL, NULL},
        {"/.well-known/cmp/p/./initialization", NULL, NULL},
        {"/.well-known/cmp/../cmp/initialization", NULL, NULL},
        {"/.well-known/cmp/p/a b", NULL, NULL},
        {"/.well-known/cmp/p/a%2fb", NULL, NULL},
        {"/.well-known/cmp/p/gnb/initialization/x", NULL, NULL},
        {"/.well-known/cmp/initialization/certification", NULL, NULL},
        {"/.well-known/cmp/p/gnb/p/x", NULL, NULL},
        {"/.well-known/cmp/p/"
         "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
         NULL, NULL}, /* 65 characters */
    };
    char prof[65], op[65];
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int rc = transport_parse_path(cases[i].path, prof, op, sizeof(prof));

        if (cases[i].profile == NULL) {
            CHECK_INT_EQ(rc, -1);
            CHECK_STR_EQ(prof, "");
            CHECK_STR_EQ(op, "");
        } else {
            CHECK_INT_EQ(rc, 0);
            CHECK_STR_EQ(prof, cases[i].profile);
            CHECK_STR_EQ(op, cases[i].op);
        }
        if ((rc == 0) != (cases[i].profile != NULL))
            fprintf(stderr, "  path was \"%s\"\n", cases[i].path);
    }
    /* exactly 64 fits; a buffer too small for the name is a failure */
    memset(prof, 'a', 64);
    prof[64] = '\0';
    {
        char path[128];

        snprintf(path, sizeof(path), "/.well-known/cmp/p/%s", prof);
        CHECK_INT_EQ(transport_parse_path(path, prof, op, sizeof(prof)), 0);
        CHECK_INT_EQ(strlen(prof), 64);
        CHECK_INT_EQ(transport_parse_path(path, prof, op, 10), -1);
    }
    CHECK_INT_EQ(transport_parse_path(NULL, prof, op, sizeof(prof)), -1);
    CHECK_INT_EQ(transport_parse_path("/.well-known/cmp/pkcs10", NULL, NULL, 0),
                 0);
}

static struct transport_opts opts_for(struct echo *e, const char *listen)
{
    struct transport_opts o;

    memset(&o, 0, sizeof(o));
    o.listen = listen;
    o.threads = 4;
    o.max_body = MAX_BODY;
    o.read_timeout = 5;
    o.max_connections = 64;
    o.handler = echo_handler;
    o.profile_ok = profile_ok;
    o.arg = e;
    return o;
}

static void test_bad_start(struct echo *e, int used_port)
{
    static const char *bad[] = {
        "nonsense", "127.0.0.1",    "127.0.0.1:",       "127.0.0.1:65536",
        ":80",      "256.0.0.1:80", "::1:80",           "[::1]8080",
        "[::1:80",  "[zz::1]:80",   "127.0.0.1:-1",     "127.0.0.1:80x",
        "[]:80",    "localhost:80", "127.0.0.1:123456",
    };
    struct transport_opts o = opts_for(e, "127.0.0.1:0");
    struct transport *t = (struct transport *)&o; /* must be reset */
    char err[256], used[64];
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        o.listen = bad[i];
        err[0] = '\0';
        CHECK_INT_EQ(transport_start(&o, &t, err, sizeof(err)), -1);
        CHECK(t == NULL);
        CHECK(strstr(err, bad[i]) != NULL);
    }
    o.listen = "127.0.0.1:0";
    o.handler = NULL;
    CHECK_INT_EQ(transport_start(&o, &t, err, sizeof(err)), -1);
    o.handler = echo_handler;
    o.threads = 0;
    CHECK_INT_EQ(transport_start(&o, &t, err, sizeof(err)), -1);
    o.threads = 8;
    o.max_connections = 4;
    CHECK_INT_EQ(transport_start(&o, &t, err, sizeof(err)), -1);
    /* the port is taken by the running server: bind must fail, and say so */
    o = opts_for(e, "127.0.0.1:0");
    snprintf(used, sizeof(used), "127.0.0.1:%d", used_port);
    o.listen = used;
    err[0] = '\0';
    CHECK_INT_EQ(transport_start(&o, &t, err, sizeof(err)), -1);
    CHECK(t == NULL);
    CHECK(strstr(err, "cannot listen") != NULL);
    fprintf(stderr, "bind failure reads: %s\n", err);
    transport_stop(NULL);
}

static void test_paths(struct echo *e, int port)
{
    static const struct {
        const char *path, *profile, *op;
    } ok[] = {
        {"/.well-known/cmp", "(null)", "(null)"},
        {"/.well-known/cmp/", "(null)", "(null)"},
        {"/.well-known/cmp/certification", "(null)", "certification"},
        {"/.well-known/cmp/p/gnb", "gnb", "(null)"},
        {"/.well-known/cmp/p/gnb/", "gnb", "(null)"},
        {"/.well-known/cmp/p/gnb/initialization", "gnb", "initialization"},
        {"/.well-known/cmp/p/gnb/getcacerts/", "gnb", "getcacerts"},
    };
    static const char *missing[] = {
        "/",
        "/.well-known/cmp/bogus",
        "/.well-known/cmp//initialization",
        "/.well-known/cmp%2Finitialization",
        "/.well-known/cmp/p/../x",
        "/.well-known/cmp/p/nosuch/initialization",
        "/.well-known/cmp/p/nosuch",
    };
    struct rsp r;
    char v[128];
    size_t i;
    int before;

    for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        CHECK_INT_EQ(post1(port, ok[i].path, CT_CMP, "abc", &r), 200);
        CHECK(body_is(&r, "echo:cba"));
        CHECK_STR_EQ(rsp_header(&r, "Content-Type", v, sizeof(v)), CT_CMP);
        CHECK_STR_EQ(rsp_header(&r, "Cache-Control", v, sizeof(v)), "no-store");
        pthread_mutex_lock(&e->lock);
        CHECK_STR_EQ(e->profile, ok[i].profile);
        CHECK_STR_EQ(e->operation, ok[i].op);
        CHECK(strncmp(e->peer, "127.0.0.1:", 10) == 0);
        pthread_mutex_unlock(&e->lock);
    }
    before = echo_calls(e);
    for (i = 0; i < sizeof(missing) / sizeof(missing[0]); i++) {
        CHECK_INT_EQ(post1(port, missing[i], CT_CMP, "abc", &r), 404);
        CHECK(rsp_header(&r, "Content-Type", v, sizeof(v)) != NULL &&
              strcmp(v, "text/plain") == 0);
    }
    CHECK(post1(port, "/.well-known/cmp/p/nosuch", CT_CMP, "", &r) == 404 &&
          body_is(&r, "unknown profile\n"));
    CHECK_INT_EQ(echo_calls(e), before); /* the handler never saw them */
}

static void test_methods_types(struct echo *e, int port)
{
    struct rsp r;
    char v[128];
    int before = echo_calls(e);

    CHECK_INT_EQ(raw1(port,
                      "GET /.well-known/cmp/p/gnb HTTP/1.1\r\nHost: t\r\n\r\n",
                      &r),
                 405);
    CHECK_STR_EQ(rsp_header(&r, "Allow", v, sizeof(v)), "POST");
    CHECK_INT_EQ(raw1(port,
                      "PUT /.well-known/cmp HTTP/1.1\r\nHost: t\r\n"
                      "Content-Length: 0\r\n\r\n",
                      &r),
                 405);
    CHECK_INT_EQ(raw1(port, "GET /nowhere HTTP/1.1\r\nHost: t\r\n\r\n", &r),
                 404);
    CHECK_INT_EQ(post1(port, "/.well-known/cmp", "text/plain", "x", &r), 415);
    CHECK_INT_EQ(
        post1(port, "/.well-known/cmp", "application/pkixcmpx", "x", &r), 415);
    CHECK_INT_EQ(post1(port, "/.well-known/cmp", NULL, "x", &r), 415);
    CHECK_INT_EQ(echo_calls(e), before);
    CHECK_INT_EQ(post1(port, "/.well-known/cmp",
                       " Application/PKIXCMP ; charset=binary", "x", &r),
                 200);
    CHECK_INT_EQ(
        post1(port, "/.well-known/cmp", "application/pkixcmp-poll", "x", &r),
        200);
    /* a failing handler is a bare 500; a handler may choose its type */
    CHECK_INT_EQ(post1(port, "/.well-known/cmp", CT_CMP, "fail", &r), 500);
    CHECK_INT_EQ(r.body_len, 0);
    CHECK_INT_EQ(post1(port, "/.well-known/cmp", CT_CMP, "text", &r), 200);
    CHECK_STR_EQ(rsp_header(&r, "Content-Type", v, sizeof(v)), "text/plain");
    /* an empty body still reaches the handler (CMP decides it is bad) */
    CHECK_INT_EQ(post1(port, "/.well-known/cmp", CT_CMP, "", &r), 200);
    CHECK(body_is(&r, "echo:"));
    /* health check for load balancers */
    CHECK_INT_EQ(raw1(port, "GET /health HTTP/1.1\r\nHost: t\r\n\r\n", &r),
                 200);
    CHECK(body_is(&r, "ok"));
    CHECK_STR_EQ(rsp_header(&r, "Content-Type", v, sizeof(v)), "text/plain");
    CHECK_INT_EQ(post1(port, "/health", CT_CMP, "x", &r), 405);
    CHECK_STR_EQ(rsp_header(&r, "Allow", v, sizeof(v)), "GET, HEAD");
}

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Sends `n` chunks of 400 bytes; with `end`, the last-chunk marker too. */
static void send_chunks(struct conn *cn, int n, int end)
{
    char chunk[400 + 16];
    int i;

    memcpy(chunk, "190\r\n", 5); /* 0x190 = 400 */
    memset(chunk + 5, 'a', 400);
    memcpy(chunk + 405, "\r\n", 2);
    for (i = 0; i < n; i++)
        if (send_all(cn, chunk, 407) != 0)
            return; /* the server may already have hung up */
    if (end)
        send_all(cn, "0\r\n\r\n", 5);
}

static const char chunked_head[] =
    "POST /.well-known/cmp HTTP/1.1\r\nHost: t\r\n"
    "Content-Type: application/pkixcmp\r\nTransfer-Encoding: chunked\r\n\r\n";

static void test_limits(struct echo *e, int port)
{
    static const char huge_head[] =
        "POST /.well-known/cmp HTTP/1.1\r\nHost: t\r\n"
        "Content-Type: application/pkixcmp\r\nExpect: 100-continue\r\n"
        "Content-Length: 1000000000\r\n\r\n";
    static char big[MAX_BODY + 2];
    struct conn cn;
    struct rsp r;
    char v[64], c;
    int before;
    double t0;

    /* exactly the limit passes, one byte more does not */
    memset(big, 'z', MAX_BODY);
    CHECK_INT_EQ(post1(port, "/.well-known/cmp", CT_CMP, big, &r), 200);
    CHECK_INT_EQ(r.body_len, 5 + MAX_BODY);
    big[MAX_BODY] = 'z';
    CHECK_INT_EQ(post1(port, "/.well-known/cmp", CT_CMP, big, &r), 413);
    big[MAX_BODY] = '\0';
    before = echo_calls(e);

    /* a huge Content-Length is refused from the headers alone (no body
     * sent, no 100 Continue), and the connection is closed after it */
    CHECK(conn_open(&cn, AF_INET, port) == 0);
    send_all(&cn, huge_head, strlen(huge_head));
    CHECK_INT_EQ(read_rsp(&cn, &r), 0);
    CHECK_INT_EQ(r.status, 413);
    CHECK_STR_EQ(rsp_header(&r, "Connection", v, sizeof(v)), "close");
    CHECK_INT_EQ(recv(cn.fd, &c, 1, 0), 0);
    conn_close(&cn);

    /* chunked within the limit is reassembled */
    CHECK(conn_open(&cn, AF_INET, port) == 0);
    send_all(&cn, chunked_head, strlen(chunked_head));
    send_all(&cn, "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n", 26);
    CHECK(read_rsp(&cn, &r) == 0 && r.status == 200 &&
          body_is(&r, "echo:dlrow olleh"));
    conn_close(&cn);
    before = echo_calls(e);

    /* chunked over the limit: 413 once the client finishes */
    CHECK(conn_open(&cn, AF_INET, port) == 0);
    send_all(&cn, chunked_head, strlen(chunked_head));
    send_chunks(&cn, 3, 1);
    CHECK(read_rsp(&cn, &r) == 0 && r.status == 413);
    CHECK_STR_EQ(rsp_header(&r, "Connection", v, sizeof(v)), "close");
    conn_close(&cn);

    /* an upload that keeps going past twice the limit is cut off at once,
     * not after the 5 s read timeout */
    CHECK(conn_open(&cn, AF_INET, port) == 0);
    send_all(&cn, chunked_head, strlen(chunked_head));
    t0 = now_s();
    send_chunks(&cn, 8, 0);
    CHECK_INT_EQ(read_rsp(&cn, &r), -1);
    CHECK(now_s() - t0 < 4.0);
    conn_close(&cn);
    CHECK_INT_EQ(echo_calls(e), before);
}

static void test_keepalive(int port)
{
    struct conn cn;
    struct rsp r;
    char v[64];
    static const char head[] =
        "POST /.well-known/cmp/p/gnb/certification HTTP/1.1\r\nHost: t\r\n"
        "Content-Type: application/pkixcmp\r\nContent-Length: 3\r\n"
        "Expect: 100-continue\r\n\r\n";
    static const char get_health[] = "GET /health HTTP/1.1\r\nHost: t\r\n\r\n";
    static const char get_cmp[] =
        "GET /.well-known/cmp HTTP/1.1\r\nHost: t\r\n\r\n";

    CHECK(conn_open(&cn, AF_INET, port) == 0);
    CHECK(post(&cn, "/.well-known/cmp", CT_CMP, "one", 3, &r) == 0 &&
          r.status == 200 && body_is(&r, "echo:eno"));
    CHECK(rsp_header(&r, "Connection", v, sizeof(v)) == NULL ||
          strcasecmp(v, "close") != 0);
    CHECK(post(&cn, "/.well-known/cmp/p/gnb", CT_CMP, "two", 3, &r) == 0 &&
          r.status == 200 && body_is(&r, "echo:owt"));
    /* 100-continue on the same connection, as curl does for big bodies */
    CHECK(send_all(&cn, head, strlen(head)) == 0);
    CHECK(read_rsp(&cn, &r) == 0 && r.status == 100);
    CHECK(send_all(&cn, "3rd", 3) == 0);
    CHECK(read_rsp(&cn, &r) == 0 && r.status == 200 && body_is(&r, "echo:dr3"));
    /* refusals of body-less requests keep the connection too */
    CHECK(send_all(&cn, get_health, strlen(get_health)) == 0);
    CHECK(read_rsp(&cn, &r) == 0 && r.status == 200 && body_is(&r, "ok"));
    CHECK(send_all(&cn, get_cmp, strlen(get_cmp)) == 0);
    CHECK(read_rsp(&cn, &r) == 0 && r.status == 405);
    CHECK(post(&cn, "/.well-known/cmp", CT_CMP, "four", 4, &r) == 0 &&
          r.status == 200 && body_is(&r, "echo:ruof"));
    conn_close(&cn);
    /* a refused request with a body ends its connection unread */
    CHECK(conn_open(&cn, AF_INET, port) == 0);
    CHECK(post(&cn, "/.well-known/cmp", "text/plain", "five", 4, &r) == 0 &&
          r.status == 415);
    CHECK(post(&cn, "/.well-known/cmp", CT_CMP, "six", 3, &r) != 0);
    conn_close(&cn);
}

struct worker {
    pthread_t tid;
    int port;
    int id;
    int ok;
};

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct conn cn;
    struct rsp r;
    char body[32], want[40];
    int k, n, i;

    if (conn_open(&cn, AF_INET, w->port) != 0)
        return NULL;
    for (k = 0; k < 5; k++) {
        n = snprintf(body, sizeof(body), "w%02d-k%d", w->id, k);
        memcpy(want, "echo:", 5);
        for (i = 0; i < n; i++)
            want[5 + i] = body[n - 1 - i];
        want[5 + n] = '\0';
        if (post(&cn, "/.well-known/cmp/initialization", CT_CMP, body,
                 (size_t)n, &r) == 0 &&
            r.status == 200 && body_is(&r, want))
            w->ok++;
    }
    conn_close(&cn);
    return NULL;
}

static void test_concurrent(int port)
{
    struct worker w[16];
    int i, ok = 0;

    for (i = 0; i < 16; i++) {
        w[i].port = port;
        w[i].id = i;
        w[i].ok = 0;
        CHECK(pthread_create(&w[i].tid, NULL, worker_main, &w[i]) == 0);
    }
    for (i = 0; i < 16; i++) {
        pthread_join(w[i].tid, NULL);
        ok += w[i].ok;
    }
    CHECK_INT_EQ(ok, 16 * 5);
}

static void test_ipv6(struct echo *e)
{
    struct transport_opts o = opts_for(e, "[::1]:0");
    struct transport *t = NULL;
    struct conn cn;
    struct rsp r;
    char err[256];

    o.threads = 1; /* also covers the no-pool mode */
    o.max_connections = 4;
    if (transport_start(&o, &t, err, sizeof(err)) != 0) {
        fprintf(stderr, "no IPv6 loopback here, skipped: %s\n", err);
        return;
    }
    CHECK(transport_port(t) > 0);
    CHECK(conn_open(&cn, AF_INET6, transport_port(t)) == 0);
    CHECK(post(&cn, "/.well-known/cmp", CT_CMP, "v6", 2, &r) == 0 &&
          r.status == 200 && body_is(&r, "echo:6v"));
    pthread_mutex_lock(&e->lock);
    CHECK(strncmp(e->peer, "[::1]:", 6) == 0);
    pthread_mutex_unlock(&e->lock);
    conn_close(&cn);
    transport_stop(t);
}

struct slow_client {
    struct conn cn; /* opened before the stop: no new connections then */
    int delay_ms;   /* wait before sending */
    int status;
    int echoed;
    int closes; /* the answer said Connection: close */
};

static void *slow_main(void *arg)
{
    struct slow_client *sc = arg;
    struct timespec ts = {0, (long)sc->delay_ms * 1000000L};
    struct rsp r;
    char v[32];

    nanosleep(&ts, NULL);
    if (post(&sc->cn, "/.well-known/cmp", CT_CMP, "slow", 4, &r) != 0)
        return NULL;
    sc->status = r.status;
    sc->echoed = body_is(&r, "echo:wols");
    sc->closes = rsp_header(&r, "Connection", v, sizeof(v)) != NULL &&
                 strcasecmp(v, "close") == 0;
    return NULL;
}

/* transport_stop while a handler runs: its answer still goes out; a request
 * arriving on a kept-alive connection during the stop is served with
 * Connection: close; an idle connection does not hold the stop; the port is
 * closed afterwards. */
static void test_stop_inflight(void)
{
    struct echo e;
    struct transport_opts o;
    struct transport *t = NULL;
    struct slow_client sc[2];
    struct conn idle, after;
    struct timespec limit;
    pthread_t tid[2];
    char err[256];
    double t0, took;
    int port, i;

    memset(&e, 0, sizeof(e));
    memset(sc, 0, sizeof(sc));
    pthread_mutex_init(&e.lock, NULL);
    pthread_cond_init(&e.cond, NULL);
    e.block_ms = 500;
    o = opts_for(&e, "127.0.0.1:0");
    o.threads = 2;
    if (transport_start(&o, &t, err, sizeof(err)) != 0) {
        CHECK(0);
        return;
    }
    port = transport_port(t);
    CHECK(conn_open(&idle, AF_INET, port) == 0);
    CHECK(conn_open(&sc[0].cn, AF_INET, port) == 0);
    CHECK(conn_open(&sc[1].cn, AF_INET, port) == 0);
    sc[1].delay_ms = 150; /* lands while transport_stop waits */
    CHECK(pthread_create(&tid[0], NULL, slow_main, &sc[0]) == 0);
    clock_gettime(CLOCK_REALTIME, &limit);
    limit.tv_sec += 5;
    pthread_mutex_lock(&e.lock);
    while (!e.entered && pthread_cond_timedwait(&e.cond, &e.lock, &limit) == 0)
        ;
    CHECK(e.entered);
    pthread_mutex_unlock(&e.lock);
    CHECK(pthread_create(&tid[1], NULL, slow_main, &sc[1]) == 0);
    t0 = now_s();
    transport_stop(t);
    took = now_s() - t0;
    CHECK_INT_EQ(echo_calls(&e), 2); /* both ran before stop returned */
    CHECK(took < 3.0);
    for (i = 0; i < 2; i++) {
        pthread_join(tid[i], NULL);
        CHECK_INT_EQ(sc[i].status, 200);
        CHECK(sc[i].echoed);
        conn_close(&sc[i].cn);
    }
    CHECK(sc[1].closes);
    CHECK(conn_open(&after, AF_INET, port) != 0);
    conn_close(&idle);
    pthread_cond_destroy(&e.cond);
    pthread_mutex_destroy(&e.lock);
}

int main(void)
{
    struct echo e;
    struct transport_opts o;
    struct transport *t = NULL;
    char err[256];
    int port;

    memset(&e, 0, sizeof(e));
    pthread_mutex_init(&e.lock, NULL);
    pthread_cond_init(&e.cond, NULL);
    test_parse_path();
    o = opts_for(&e, "127.0.0.1:0");
    if (transport_start(&o, &t, err, sizeof(err)) != 0) {
        fprintf(stderr, "transport_start: %s\n", err);
        CHECK(0);
        return CHECK_RESULT();
    }
    port = transport_port(t);
    CHECK(port > 0);
    test_bad_start(&e, port);
    test_paths(&e, port);
    test_methods_types(&e, port);
    test_limits(&e, port);
    test_keepalive(port);
    test_concurrent(port);
    transport_stop(t);
    test_ipv6(&e);
    test_stop_inflight();
    pthread_cond_destroy(&e.cond);
    pthread_mutex_destroy(&e.lock);
    return CHECK_RESULT();
}
