/*
 * request.c: one HTTP exchange, from MHD's first callback to the answer.
 *
 * MHD calls the access handler once when the headers are in, once per piece
 * of body, and once more when the body is complete. Everything that can be
 * decided from the headers (path, profile, method, media type, a declared
 * Content-Length over the limit) is decided on the first call. If a body is
 * on its way, the refusal goes out at once and MHD closes the connection
 * instead of reading a body nobody wants; if not, it goes out on the last
 * call, which keeps the connection alive (health checks, a stray GET).
 *
 * A chunked body is only known to be too large while it streams in, and MHD
 * 0.9.75 cannot queue an answer during an upload call. So the buffer is
 * released at once, the rest is read and dropped (at most another max_body
 * bytes, else the connection is cut), and the 413 goes out when the client
 * finishes. The body is never buffered beyond max_body.
 *
 * GET and HEAD of /crl/<name>.crl go to the get_crl callback instead (the
 * CRL distribution point of RFC 5280 4.2.1.13 over plain HTTP). Those are
 * the only answers meant to be cached: they carry Last-Modified, Expires
 * and a max-age that ends at the CRL's nextUpdate; everything else is
 * no-store.
 *
 * The request deadline of conn.c runs until the body is complete and again
 * once the answer is out. Over HTTPS with client CAs, a connection whose
 * client certificate does not verify gets 403 at once for every request.
 */
#include "transport/transport_local.h"
#include "util/log.h"

#include <netdb.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define CT_CMP      "application/pkixcmp"
#define CT_CMP_POLL "application/pkixcmp-poll"
#define CT_TEXT     "text/plain"
#define CT_CRL      "application/pkix-crl"

#define CRL_PREFIX   "/crl/"
#define CRL_SUFFIX   ".crl"
#define CRL_NAME_MAX 64

/* An answer the transport gives itself instead of calling the handler. */
struct verdict {
    unsigned int status; /* 0: none yet, the request goes to the handler */
    const char *text;    /* one line for a text/plain body, or NULL */
    const char *allow;   /* Allow header for a 405, or NULL */
    int close;           /* end the connection after the answer */
};

/* Per-request state, MHD's con_cls. */
struct treq {
    struct transport *t;
    struct verdict v;
    uint8_t *body; /* owned, at most max_body bytes */
    size_t len;
    size_t cap;
    size_t dropped; /* body bytes read and thrown away after a verdict */
    char profile[TRANSPORT_PART_CAP];
    char operation[TRANSPORT_PART_CAP];
    char crl[CRL_NAME_MAX + 1]; /* <name> of a CRL request, else "" */
    char peer[64];              /* "a.b.c.d:port" or "[v6]:port" */
};

size_t transport_unescape_cb(void *cls, struct MHD_Connection *c, char *s)
{
    return strlen(s);
}

static int transport_is_stopping(struct transport *t)
{
    int stopping;

    pthread_mutex_lock(&t->lock);
    stopping = t->stopping;
    pthread_mutex_unlock(&t->lock);
    return stopping;
}

static void peer_string(struct MHD_Connection *c, char *out, size_t outlen)
{
    const union MHD_ConnectionInfo *ci;
    const struct sockaddr *sa;
    char host[INET6_ADDRSTRLEN], serv[8];
    socklen_t salen;

    snprintf(out, outlen, "%s", "?");
    ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (ci == NULL || ci->client_addr == NULL)
        return;
    sa = ci->client_addr;
    if (sa->sa_family == AF_INET)
        salen = sizeof(struct sockaddr_in);
    else if (sa->sa_family == AF_INET6)
        salen = sizeof(struct sockaddr_in6);
    else
        return;
    if (getnameinfo(sa, salen, host, sizeof(host), serv, sizeof(serv),
                    NI_NUMERICHOST | NI_NUMERICSERV) != 0)
        return;
    if (sa->sa_family == AF_INET6)
        snprintf(out, outlen, "[%.46s]:%.5s", host, serv);
    else
        snprintf(out, outlen, "%.15s:%.5s", host, serv);
}

/* Hands `r` to MHD with the headers every answer carries, then drops our
 * reference. `allow` (may be NULL) becomes an Allow header; `cache` is the
 * Cache-Control value (NULL: no-store). */
static enum MHD_Result queue_cached(struct treq *rq, struct MHD_Connection *c,
                                    struct MHD_Response *r, unsigned int status,
                                    const char *ctype, const char *allow,
                                    int close, const char *cache)
{
    enum MHD_Result ret = MHD_NO;

    if (transport_is_stopping(rq->t))
        close = 1; /* let keep-alive clients go so transport_stop can end */
    if (ctype != NULL && MHD_add_response_header(
                             r, MHD_HTTP_HEADER_CONTENT_TYPE, ctype) != MHD_YES)
        goto done;
    if (MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL,
                                cache != NULL ? cache : "no-store") != MHD_YES)
        goto done;
    if (allow != NULL &&
        MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, allow) != MHD_YES)
        goto done;
    if (close && MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION,
                                         "close") != MHD_YES)
        goto done;
    ret = MHD_queue_response(c, status, r);

done:
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result queue(struct treq *rq, struct MHD_Connection *c,
                             struct MHD_Response *r, unsigned int status,
                             const char *ctype, const char *allow, int close)
{
    return queue_cached(rq, c, r, status, ctype, allow, close, NULL);
}

/* Answers from the transport itself: a one-line text/plain body, or none
 * when `text` is NULL. */
static enum MHD_Result reply_text(struct treq *rq, struct MHD_Connection *c,
                                  unsigned int status, const char *text,
                                  const char *allow, int close)
{
    struct MHD_Response *r;

    if (status != MHD_HTTP_OK)
        log_debug("transport: %u to %s", status, rq->peer);
    r = MHD_create_response_from_buffer(text != NULL ? strlen(text) : 0,
                                        (void *)text, MHD_RESPMEM_PERSISTENT);
    if (r == NULL)
        return MHD_NO;
    return queue(rq, c, r, status, text != NULL ? CT_TEXT : NULL, allow, close);
}

/* application/pkixcmp or the legacy -poll type; parameters after ';' and
 * surrounding blanks are ignored, case does not matter (RFC 9110 8.3.1). */
static int media_type_ok(const char *ct)
{
    size_t len;

    if (ct == NULL)
        return 0;
    while (*ct == ' ' || *ct == '\t')
        ct++;
    len = strcspn(ct, ";");
    while (len > 0 && (ct[len - 1] == ' ' || ct[len - 1] == '\t'))
        len--;
    return (len == strlen(CT_CMP) && strncasecmp(ct, CT_CMP, len) == 0) ||
           (len == strlen(CT_CMP_POLL) &&
            strncasecmp(ct, CT_CMP_POLL, len) == 0);
}

/* Declared body length: 0 with *out set (saturating at SIZE_MAX) when a
 * plain Content-Length governs the body, -1 when it is absent or chunked
 * transfer coding overrides it (RFC 9112 6.3). */
static int declared_length(struct MHD_Connection *c, size_t *out)
{
    const char *cl, *p;
    size_t n = 0;

    if (MHD_lookup_connection_value(c, MHD_HEADER_KIND,
                                    MHD_HTTP_HEADER_TRANSFER_ENCODING) != NULL)
        return -1;
    cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
                                     MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (cl == NULL || *cl == '\0')
        return -1;
    for (p = cl; *p >= '0' && *p <= '9'; p++) {
        size_t d = (size_t)(*p - '0');

        n = n > (SIZE_MAX - d) / 10 ? SIZE_MAX : n * 10 + d;
    }
    if (*p != '\0')
        return -1; /* MHD refuses these itself; never trust a half parse */
    *out = n;
    return 0;
}

/* Makes room for `need` bytes; `need` never exceeds max_body. */
static int body_reserve(struct treq *rq, size_t need)
{
    size_t cap = rq->cap != 0 ? rq->cap : 4096;
    uint8_t *p;

    if (need <= rq->cap)
        return 0;
    while (cap < need)
        cap = cap > rq->t->max_body / 2 ? rq->t->max_body : cap * 2;
    if (cap > rq->t->max_body)
        cap = rq->t->max_body;
    p = realloc(rq->body, cap);
    if (p == NULL)
        return -1;
    rq->body = p;
    rq->cap = cap;
    return 0;
}

static void judge(struct treq *rq, unsigned int status, const char *text,
                  const char *allow, int close)
{
    rq->v.status = status;
    rq->v.text = text;
    rq->v.allow = allow;
    rq->v.close = close;
}

/* crl_path copies <name> of "/crl/<name>.crl" into `out` (CRL_NAME_MAX + 1
 * bytes): 1..64 of [A-Za-z0-9._-], not only dots. Returns 0, or -1 when
 * `url` is not such a path. */
static int crl_path(const char *url, char *out)
{
    size_t len, i, dots = 0;

    if (strncmp(url, CRL_PREFIX, strlen(CRL_PREFIX)) != 0)
        return -1;
    url += strlen(CRL_PREFIX);
    len = strlen(url);
    if (len <= strlen(CRL_SUFFIX) ||
        strcmp(url + len - strlen(CRL_SUFFIX), CRL_SUFFIX) != 0)
        return -1;
    len -= strlen(CRL_SUFFIX);
    if (len > CRL_NAME_MAX)
        return -1;
    for (i = 0; i < len; i++) {
        char ch = url[i];

        if (ch == '.')
            dots++;
        else if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
                   (ch >= '0' && ch <= '9') || ch == '_' || ch == '-'))
            return -1;
    }
    if (dots == len)
        return -1;
    memcpy(out, url, len);
    out[len] = '\0';
    return 0;
}

/* route_crl decides a request for a CRL path; rq->crl stays set when the
 * callback should answer it. */
static void route_crl(struct treq *rq, const char *method)
{
    if (rq->t->get_crl == NULL) {
        rq->crl[0] = '\0';
        judge(rq, MHD_HTTP_NOT_FOUND, "not found\n", NULL, 0);
    } else if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 &&
               strcmp(method, MHD_HTTP_METHOD_HEAD) != 0) {
        rq->crl[0] = '\0';
        judge(rq, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed\n",
              "GET, HEAD", 0);
    }
}

static int has_body(struct MHD_Connection *c)
{
    size_t n = 0;

    if (MHD_lookup_connection_value(c, MHD_HEADER_KIND,
                                    MHD_HTTP_HEADER_TRANSFER_ENCODING) != NULL)
        return 1;
    return declared_length(c, &n) == 0 && n > 0;
}

/* First call: everything decidable from the request line and headers.
 * Leaves rq->v.status at 0 when the body should be read for the handler. */
static void route(struct treq *rq, struct MHD_Connection *c, const char *url,
                  const char *method)
{
    struct transport *t = rq->t;
    size_t declared = 0;
    int known;

    if (strcmp(url, "/health") == 0) {
        if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 &&
            strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
            judge(rq, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed\n",
                  "GET, HEAD", 0);
        else
            judge(rq, MHD_HTTP_OK, "ok", NULL, 0);
        return;
    }
    if (crl_path(url, rq->crl) == 0) {
        route_crl(rq, method);
        return;
    }
    if (transport_parse_path(url, rq->profile, rq->operation,
                             sizeof(rq->profile)) != 0) {
        judge(rq, MHD_HTTP_NOT_FOUND, "not found\n", NULL, 0);
        return;
    }
    if (rq->profile[0] != '\0' && t->profile_ok != NULL) {
        known = t->profile_ok(t->arg, rq->profile);
        if (known != 1) {
            if (known == 0)
                judge(rq, MHD_HTTP_NOT_FOUND, "unknown profile\n", NULL, 0);
            else
                judge(rq, MHD_HTTP_INTERNAL_SERVER_ERROR, NULL, NULL, 0);
            return;
        }
    }
    if (strcmp(method, MHD_HTTP_METHOD_POST) != 0)
        judge(rq, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed\n", "POST",
              0);
    else if (!media_type_ok(MHD_lookup_connection_value(
                 c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE)))
        judge(rq, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE,
              "content type must be application/pkixcmp\n", NULL, 0);
    else if (declared_length(c, &declared) == 0 && declared > t->max_body)
        judge(rq, MHD_HTTP_CONTENT_TOO_LARGE, "request body too large\n", NULL,
              1);
    else if (declared > 0 && body_reserve(rq, declared) != 0)
        judge(rq, MHD_HTTP_INTERNAL_SERVER_ERROR, NULL, NULL, 1);
}

static enum MHD_Result upload(struct treq *rq, const char *data,
                              size_t *data_len)
{
    size_t n = *data_len;

    *data_len = 0; /* all of it is consumed, kept or dropped */
    if (rq->crl[0] != '\0' && rq->v.status == 0) {
        /* a GET with a body: nobody reads it, so it is not kept */
        rq->dropped += n;
        return rq->dropped > rq->t->max_body ? MHD_NO : MHD_YES;
    }
    if (rq->v.status == 0 && n > rq->t->max_body - rq->len) {
        log_debug("transport: body from %s passed %zu bytes", rq->peer,
                  rq->t->max_body);
        judge(rq, MHD_HTTP_CONTENT_TOO_LARGE, "request body too large\n", NULL,
              1);
        free(rq->body);
        rq->body = NULL;
        rq->len = rq->cap = 0;
    }
    if (rq->v.status != 0) {
        rq->dropped += n;
        if (rq->dropped > rq->t->max_body) {
            log_info("transport: cut off oversized upload from %s", rq->peer);
            return MHD_NO; /* closes the connection */
        }
        return MHD_YES;
    }
    if (body_reserve(rq, rq->len + n) != 0)
        return MHD_NO;
    memcpy(rq->body + rq->len, data, n);
    rq->len += n;
    return MHD_YES;
}

/* http_date formats `t` as an IMF-fixdate (RFC 9110 5.6.7), which is
 * locale-independent, unlike strftime's %a and %b. */
static void http_date(time_t t, char *buf, size_t len)
{
    static const char days[7][4] = {"Sun", "Mon", "Tue", "Wed",
                                    "Thu", "Fri", "Sat"};
    static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr",
                                       "May", "Jun", "Jul", "Aug",
                                       "Sep", "Oct", "Nov", "Dec"};
    struct tm tm;

    if (gmtime_r(&t, &tm) == NULL || tm.tm_wday < 0 || tm.tm_wday > 6 ||
        tm.tm_mon < 0 || tm.tm_mon > 11) {
        snprintf(buf, len, "%s", "Thu, 01 Jan 1970 00:00:00 GMT");
        return;
    }
    snprintf(buf, len, "%s, %02d %s %04d %02d:%02d:%02d GMT", days[tm.tm_wday],
             tm.tm_mday, months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour,
             tm.tm_min, tm.tm_sec);
}

/* Sends a CRL answer: the body with Last-Modified, Expires and a max-age
 * that runs out at Expires (never negative). */
static enum MHD_Result send_crl(struct treq *rq, struct MHD_Connection *c,
                                struct transport_rsp *rsp)
{
    struct MHD_Response *r;
    char date[64], cache[64] = "no-cache";
    time_t now = time(NULL);

    r = MHD_create_response_from_buffer(rsp->body_len, rsp->body,
                                        MHD_RESPMEM_MUST_FREE);
    if (r == NULL) {
        free(rsp->body);
        return MHD_NO;
    }
    if (rsp->last_modified != 0) {
        http_date(rsp->last_modified, date, sizeof(date));
        if (MHD_add_response_header(r, MHD_HTTP_HEADER_LAST_MODIFIED, date) !=
            MHD_YES)
            goto fail;
    }
    if (rsp->expires != 0) {
        http_date(rsp->expires, date, sizeof(date));
        if (MHD_add_response_header(r, MHD_HTTP_HEADER_EXPIRES, date) !=
            MHD_YES)
            goto fail;
        snprintf(cache, sizeof(cache), "public, max-age=%lld",
                 rsp->expires > now ? (long long)(rsp->expires - now) : 0LL);
    }
    return queue_cached(rq, c, r, (unsigned int)rsp->status,
                        rsp->content_type != NULL ? rsp->content_type : CT_CRL,
                        NULL, 0, cache);

fail:
    MHD_destroy_response(r);
    return MHD_NO;
}

/* Last call of a CRL request: ask the callback, send what it gives. */
static enum MHD_Result finish_crl(struct treq *rq, struct MHD_Connection *c)
{
    struct transport_rsp rsp;
    int rc;

    memset(&rsp, 0, sizeof(rsp));
    rc = rq->t->get_crl(rq->t->arg, rq->crl, &rsp);
    if (rc != 0 || rsp.status < 200 || rsp.status > 599 ||
        (rsp.body == NULL && rsp.body_len > 0)) {
        if (rc == 0)
            log_error("transport: CRL callback gave status %d", rsp.status);
        free(rsp.body);
        return reply_text(rq, c, MHD_HTTP_INTERNAL_SERVER_ERROR, NULL, NULL, 0);
    }
    if (rsp.status != MHD_HTTP_OK || rsp.body_len == 0) {
        free(rsp.body);
        if (rsp.status == MHD_HTTP_OK)
            return reply_text(rq, c, MHD_HTTP_INTERNAL_SERVER_ERROR, NULL, NULL,
                              0);
        return reply_text(
            rq, c, (unsigned int)rsp.status,
            rsp.status == MHD_HTTP_NOT_FOUND ? "not found\n" : NULL, NULL, 0);
    }
    return send_crl(rq, c, &rsp);
}

/* Last call: the body is complete; run the handler and send its answer. */
static enum MHD_Result finish(struct treq *rq, struct MHD_Connection *c)
{
    struct transport *t = rq->t;
    struct transport_req req;
    struct transport_rsp rsp;
    struct MHD_Response *r;
    int rc;

    if (rq->v.status != 0)
        return reply_text(rq, c, rq->v.status, rq->v.text, rq->v.allow,
                          rq->v.close);
    if (rq->crl[0] != '\0')
        return finish_crl(rq, c);
    memset(&rsp, 0, sizeof(rsp));
    req.profile = rq->profile[0] != '\0' ? rq->profile : NULL;
    req.operation = rq->operation[0] != '\0' ? rq->operation : NULL;
    req.body = rq->len > 0 ? rq->body : (const uint8_t *)"";
    req.body_len = rq->len;
    req.peer = rq->peer;
    rc = t->handler(t->arg, &req, &rsp);
    free(rq->body); /* the request body is not needed any more */
    rq->body = NULL;
    rq->len = rq->cap = 0;
    if (rc != 0 || rsp.status < 200 || rsp.status > 599 ||
        (rsp.body == NULL && rsp.body_len > 0)) {
        if (rc == 0)
            log_error("transport: handler gave status %d", rsp.status);
        free(rsp.body);
        return reply_text(rq, c, MHD_HTTP_INTERNAL_SERVER_ERROR, NULL, NULL, 0);
    }
    if (rsp.body_len == 0) {
        free(rsp.body);
        rsp.body = NULL;
    }
    r = MHD_create_response_from_buffer(rsp.body_len, rsp.body,
                                        MHD_RESPMEM_MUST_FREE);
    if (r == NULL) {
        free(rsp.body);
        return MHD_NO;
    }
    return queue(rq, c, r, (unsigned int)rsp.status,
                 rsp.content_type != NULL ? rsp.content_type : CT_CMP, NULL, 0);
}

enum MHD_Result transport_access_cb(void *cls, struct MHD_Connection *c,
                                    const char *url, const char *method,
                                    const char *version,
                                    const char *upload_data,
                                    size_t *upload_data_size, void **con_cls)
{
    struct transport *t = cls;
    struct treq *rq = *con_cls;

    if (rq == NULL) {
        rq = calloc(1, sizeof(*rq));
        if (rq == NULL)
            return MHD_NO;
        rq->t = t;
        peer_string(c, rq->peer, sizeof(rq->peer));
        pthread_mutex_lock(&t->lock);
        t->inflight++;
        pthread_mutex_unlock(&t->lock);
        *con_cls = rq; /* from here transport_completed_cb frees it */
        transport_conn_deadline(t, c, 1); /* now for the body */
        if (t->tls_ca != NULL && !transport_tls_peer_ok(t, c, rq->peer))
            return reply_text(rq, c, MHD_HTTP_FORBIDDEN,
                              "client certificate required\n", NULL, 1);
        route(rq, c, url, method);
        /* Refused with a body on the way: answer now, and MHD closes the
         * connection rather than read it. Without a body, answer on the
         * last call, which keeps the connection alive. */
        if (rq->v.status != 0 && has_body(c))
            return reply_text(rq, c, rq->v.status, rq->v.text, rq->v.allow,
                              rq->v.close);
        return MHD_YES;
    }
    if (*upload_data_size != 0)
        return upload(rq, upload_data, upload_data_size);
    transport_conn_deadline(t, c, 0); /* the handler may take its time */
    return finish(rq, c);
}

void transport_completed_cb(void *cls, struct MHD_Connection *c, void **con_cls,
                            enum MHD_RequestTerminationCode toe)
{
    struct transport *t = cls;
    struct treq *rq = *con_cls;

    if (rq == NULL)
        return;
    *con_cls = NULL;
    transport_conn_deadline(t, c, 1); /* for the next request */
    if (toe != MHD_REQUEST_TERMINATED_COMPLETED_OK)
        log_debug("transport: request from %s ended without answer (%d)",
                  rq->peer, (int)toe);
    free(rq->body);
    free(rq);
    pthread_mutex_lock(&t->lock);
    if (--t->inflight == 0)
        pthread_cond_broadcast(&t->idle);
    pthread_mutex_unlock(&t->lock);
}
