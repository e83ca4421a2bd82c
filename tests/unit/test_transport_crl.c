/*
 * test_transport_crl.c: the CRL distribution point of the transport room
 * (GET/HEAD /crl/<name>.crl) over real loopback sockets: which paths reach
 * the callback and with what name, methods, the callback's answers (found,
 * unknown, failing), the caching headers, HEAD without a body, and a
 * transport started without a CRL callback.
 */
#include "transport/transport.h"
#include "check.h"
#include "transport_client.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define CRL_BODY "\x30\x03\x02\x01\x05" /* stands in for a DER CRL */
/* Sun, 06 Nov 1994 08:49:37 GMT, the example date of RFC 9110 */
#define MODIFIED 784111777

struct getter {
    pthread_mutex_t lock;
    int calls;
    char name[128];
    time_t expires;
};

static int never_called(void *arg, const struct transport_req *req,
                        struct transport_rsp *rsp)
{
    (void)arg;
    (void)req;
    (void)rsp;
    return -1;
}

/* "ca" and any 64-character name exist; "fail" fails; "odd" answers 200
 * without a body; everything else is unknown. */
static int get_crl(void *arg, const char *name, struct transport_rsp *rsp)
{
    struct getter *g = arg;
    time_t expires;

    pthread_mutex_lock(&g->lock);
    g->calls++;
    snprintf(g->name, sizeof(g->name), "%s", name);
    expires = g->expires;
    pthread_mutex_unlock(&g->lock);
    if (strcmp(name, "fail") == 0) {
        rsp->body = malloc(4); /* leftovers of a failure are freed */
        return -1;
    }
    if (strcmp(name, "odd") == 0) {
        rsp->status = 200;
        return 0;
    }
    if (strcmp(name, "ca") != 0 && strlen(name) != 64) {
        rsp->status = 404;
        return 0;
    }
    rsp->status = 200;
    rsp->body_len = sizeof(CRL_BODY) - 1;
    if ((rsp->body = malloc(rsp->body_len)) == NULL)
        return -1;
    memcpy(rsp->body, CRL_BODY, rsp->body_len);
    rsp->last_modified = MODIFIED;
    rsp->expires = expires;
    return 0;
}

static int calls(struct getter *g, char *name, size_t len)
{
    int n;

    pthread_mutex_lock(&g->lock);
    n = g->calls;
    if (name != NULL)
        snprintf(name, len, "%s", g->name);
    pthread_mutex_unlock(&g->lock);
    return n;
}

static int get1(int port, const char *method, const char *path, struct rsp *r)
{
    char req[512];

    snprintf(req, sizeof(req), "%s %s HTTP/1.1\r\nHost: t\r\n\r\n", method,
             path);
    return raw1(port, req, r);
}

static int start(struct getter *g, transport_get_fn fn, struct transport **t)
{
    struct transport_opts o;
    char err[256];

    memset(&o, 0, sizeof(o));
    o.listen = "127.0.0.1:0";
    o.threads = 2;
    o.max_body = 1024;
    o.read_timeout = 5;
    o.max_connections = 16;
    o.handler = never_called;
    o.get_crl = fn;
    o.arg = g;
    if (transport_start(&o, t, err, sizeof(err)) != 0) {
        fprintf(stderr, "transport_start: %s\n", err);
        return -1;
    }
    return transport_port(*t);
}

static void test_found(struct getter *g, int port)
{
    struct rsp r;
    char v[128], name[128];
    long age = -1;
    int before = calls(g, NULL, 0);

    CHECK_INT_EQ(get1(port, "GET", "/crl/ca.crl", &r), 200);
    CHECK(r.body_len == sizeof(CRL_BODY) - 1 &&
          memcmp(r.body, CRL_BODY, r.body_len) == 0);
    CHECK_INT_EQ(calls(g, name, sizeof(name)), before + 1);
    CHECK_STR_EQ(name, "ca");
    CHECK_STR_EQ(rsp_header(&r, "Content-Type", v, sizeof(v)),
                 "application/pkix-crl");
    CHECK_STR_EQ(rsp_header(&r, "Last-Modified", v, sizeof(v)),
                 "Sun, 06 Nov 1994 08:49:37 GMT");
    CHECK_STR_EQ(rsp_header(&r, "Expires", v, sizeof(v)),
                 "Tue, 01 Jan 2036 00:00:00 GMT");
    CHECK(rsp_header(&r, "Cache-Control", v, sizeof(v)) != NULL &&
          sscanf(v, "public, max-age=%ld", &age) == 1);
    CHECK(age > 0 && (time_t)age <= g->expires - time(NULL) + 1 &&
          (time_t)age >= g->expires - time(NULL) - 5);
}

static void test_expired(struct getter *g, int port)
{
    struct rsp r;
    char v[128];

    pthread_mutex_lock(&g->lock);
    g->expires = 1000000000; /* long gone: cache for 0 s, not negative */
    pthread_mutex_unlock(&g->lock);
    CHECK_INT_EQ(get1(port, "GET", "/crl/ca.crl", &r), 200);
    CHECK_STR_EQ(rsp_header(&r, "Cache-Control", v, sizeof(v)),
                 "public, max-age=0");
    CHECK_STR_EQ(rsp_header(&r, "Expires", v, sizeof(v)),
                 "Sun, 09 Sep 2001 01:46:40 GMT");
    pthread_mutex_lock(&g->lock);
    g->expires = 0; /* none given: no Expires, revalidate */
    pthread_mutex_unlock(&g->lock);
    CHECK_INT_EQ(get1(port, "GET", "/crl/ca.crl", &r), 200);
    CHECK(rsp_header(&r, "Expires", v, sizeof(v)) == NULL);
    CHECK_STR_EQ(rsp_header(&r, "Cache-Control", v, sizeof(v)), "no-cache");
}

/* HEAD: the same headers, Content-Length of the body, no body bytes. */
static void test_head(int port)
{
    static const char req[] = "HEAD /crl/ca.crl HTTP/1.1\r\nHost: t\r\n"
                              "Connection: close\r\n\r\n";
    struct conn cn;
    char all[4096];
    size_t have = 0;
    ssize_t n;
    const char *end;

    if (conn_open(&cn, AF_INET, port) != 0) {
        CHECK(0);
        return;
    }
    CHECK_INT_EQ(send_all(&cn, req, strlen(req)), 0);
    while (have < sizeof(all) - 1 &&
           (n = recv(cn.fd, all + have, sizeof(all) - 1 - have, 0)) > 0)
        have += (size_t)n;
    all[have] = '\0';
    conn_close(&cn);
    CHECK(strncmp(all, "HTTP/1.1 200", 12) == 0);
    CHECK(strstr(all, "Content-Type: application/pkix-crl\r\n") != NULL);
    CHECK(strstr(all, "Content-Length: 5\r\n") != NULL);
    CHECK(strstr(all, "Last-Modified: Sun, 06 Nov 1994 08:49:37 GMT\r\n") !=
          NULL);
    end = strstr(all, "\r\n\r\n");
    CHECK(end != NULL && end + 4 == all + have); /* nothing after the head */
}

static void test_answers(struct getter *g, int port)
{
    char long_name[80], path[128], name[128];
    struct rsp r;
    char v[128];
    int before;

    CHECK_INT_EQ(get1(port, "GET", "/crl/unknown.crl", &r), 404);
    CHECK(body_is(&r, "not found\n"));
    CHECK_INT_EQ(get1(port, "GET", "/crl/fail.crl", &r), 500);
    CHECK_INT_EQ(r.body_len, 0);
    CHECK_INT_EQ(get1(port, "GET", "/crl/odd.crl", &r), 500);
    CHECK_INT_EQ(get1(port, "GET", "/crl/a.b_c-D9.crl", &r), 404);
    CHECK_INT_EQ(calls(g, name, sizeof(name)) > 0, 1);
    CHECK_STR_EQ(name, "a.b_c-D9");
    memset(long_name, 'x', 64);
    long_name[64] = '\0';
    snprintf(path, sizeof(path), "/crl/%s.crl", long_name);
    CHECK_INT_EQ(get1(port, "GET", path, &r), 200);
    calls(g, name, sizeof(name));
    CHECK_STR_EQ(name, long_name);

    before = calls(g, NULL, 0);
    CHECK_INT_EQ(get1(port, "POST", "/crl/ca.crl", &r), 405);
    CHECK_STR_EQ(rsp_header(&r, "Allow", v, sizeof(v)), "GET, HEAD");
    CHECK_INT_EQ(raw1(port,
                      "PUT /crl/ca.crl HTTP/1.1\r\nHost: t\r\n"
                      "Content-Length: 3\r\n\r\nabc",
                      &r),
                 405);
    CHECK_INT_EQ(calls(g, NULL, 0), before);
}

static void test_bad_paths(struct getter *g, int port)
{
    static const char *const bad[] = {
        "/crl/",          "/crl/.crl",        "/crl/ca",      "/crl/ca.crl/",
        "/crl/ca.CRL",    "/crlx/ca.crl",     "/crl//ca.crl", "/crl/a%2eb.crl",
        "/crl/../ca.crl", "/crl/...crl",      "/crl/a/b.crl", "/crl/a b.crl",
        "/CRL/ca.crl",    "/crl/ca.crl.crlx", "/crl",
    };
    char path[128];
    struct rsp r;
    size_t i;
    int before = calls(g, NULL, 0);

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        CHECK_INT_EQ(get1(port, "GET", bad[i], &r), 404);
        if (r.status != 404)
            fprintf(stderr, "path %s: %d\n", bad[i], r.status);
    }
    memset(path, 'y', sizeof(path));
    memcpy(path, "/crl/", 5);
    snprintf(path + 5 + 65, sizeof(path) - 5 - 65, "%s", ".crl");
    CHECK_INT_EQ(get1(port, "GET", path, &r), 404); /* 65 characters */
    CHECK_INT_EQ(calls(g, NULL, 0), before);
    /* the rest of the server is as before */
    CHECK_INT_EQ(get1(port, "GET", "/health", &r), 200);
    CHECK_INT_EQ(get1(port, "GET", "/.well-known/cmp", &r), 405);
    CHECK_INT_EQ(get1(port, "GET", "/nowhere", &r), 404);
}

/* Two CRL fetches on one kept-alive connection. */
static void test_keepalive(int port)
{
    static const char req[] = "GET /crl/ca.crl HTTP/1.1\r\nHost: t\r\n\r\n";
    struct conn cn;
    struct rsp r;
    int i;

    if (conn_open(&cn, AF_INET, port) != 0) {
        CHECK(0);
        return;
    }
    for (i = 0; i < 2; i++) {
        CHECK_INT_EQ(send_all(&cn, req, strlen(req)), 0);
        CHECK_INT_EQ(read_rsp(&cn, &r), 0);
        CHECK_INT_EQ(r.status, 200);
        CHECK_INT_EQ(r.body_len, sizeof(CRL_BODY) - 1);
    }
    conn_close(&cn);
}

int main(void)
{
    struct getter g;
    struct transport *t = NULL;
    struct rsp r;
    int port;

    memset(&g, 0, sizeof(g));
    pthread_mutex_init(&g.lock, NULL);
    g.expires = 2082758400; /* Tue, 01 Jan 2036 00:00:00 GMT */
    port = start(&g, get_crl, &t);
    CHECK(port > 0);
    if (port > 0) {
        test_found(&g, port);
        test_head(port);
        test_answers(&g, port);
        test_bad_paths(&g, port);
        test_keepalive(port);
        test_expired(&g, port);
    }
    transport_stop(t);
    t = NULL;
    /* without a callback every CRL path is unknown, whatever the method */
    port = start(&g, NULL, &t);
    CHECK(port > 0);
    if (port > 0) {
        CHECK_INT_EQ(get1(port, "GET", "/crl/ca.crl", &r), 404);
        CHECK_INT_EQ(get1(port, "POST", "/crl/ca.crl", &r), 404);
        CHECK_INT_EQ(get1(port, "GET", "/health", &r), 200);
    }
    transport_stop(t);
    pthread_mutex_destroy(&g.lock);
    return CHECK_RESULT();
}
