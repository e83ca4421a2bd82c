/*
 * http.c: the life of the libmicrohttpd daemon: parse the listen address,
 * start a pool of polling threads, report the bound port, and stop without
 * dropping requests that are already being answered.
 *
 * MHD_stop_daemon alone closes every connection, so a response still in a
 * handler would be lost. transport_stop therefore quiesces first (no new
 * connections), waits until the count of requests between their headers and
 * their completion reaches zero (bounded by a grace period), and only then
 * stops. Requests that start during that wait are still served but carry
 * "Connection: close", so keep-alive clients cannot hold the wait open.
 *
 * No per-IP connection limit is set: behind a TLS-terminating proxy every
 * client shares the proxy's address, and NATed base stations share one too.
 * Slow clients are dealt with by request deadlines instead (conn.c), and
 * TLS by MHD itself (tls.c).
 */
#include "transport/transport_local.h"
#include "util/log.h"

#include <arpa/inet.h>
#include <errno.h>
#include <gnutls/gnutls.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define STOP_GRACE_DEFAULT 30 /* seconds, when read_timeout is 0 */
#define STOP_SETTLE_MS     100
#define MHD_LOG_BURST      20 /* MHD messages a second logged at info */

static void set_err(char *errbuf, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_err(char *errbuf, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    if (errbuf == NULL || errlen == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(errbuf, errlen, fmt, ap);
    va_end(ap);
}

/* "1..65535" or "0", decimal digits only. */
static int parse_port(const char *s, unsigned int *out)
{
    unsigned long v = 0;
    size_t i;

    for (i = 0; s[i] != '\0'; i++) {
        if (s[i] < '0' || s[i] > '9' || i >= 5)
            return -1;
        v = v * 10 + (unsigned long)(s[i] - '0');
    }
    if (i == 0 || v > 65535)
        return -1;
    *out = (unsigned int)v;
    return 0;
}

/* Parses "a.b.c.d:port" or "[v6]:port" (numeric only, no scope ids) into
 * `ss`; *is_v6 tells which. */
static int parse_listen(const char *s, struct sockaddr_storage *ss, int *is_v6,
                        unsigned int *out_port)
{
    char host[INET6_ADDRSTRLEN];
    const char *start, *end, *port_s;
    size_t hlen;
    unsigned int port;

    memset(ss, 0, sizeof(*ss));
    *is_v6 = s[0] == '[';
    if (*is_v6) {
        start = s + 1;
        end = strchr(start, ']');
        if (end == NULL || end[1] != ':')
            return -1;
        port_s = end + 2;
    } else {
        start = s;
        end = strchr(start, ':');
        if (end == NULL)
            return -1;
        port_s = end + 1;
    }
    hlen = (size_t)(end - start);
    if (hlen == 0 || hlen >= sizeof(host) || parse_port(port_s, &port) != 0)
        return -1;
    memcpy(host, start, hlen);
    host[hlen] = '\0';
    *out_port = port;
    if (*is_v6) {
        struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;

        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons((uint16_t)port);
        return inet_pton(AF_INET6, host, &a6->sin6_addr) == 1 ? 0 : -1;
    } else {
        struct sockaddr_in *a4 = (struct sockaddr_in *)ss;

        a4->sin_family = AF_INET;
        a4->sin_port = htons((uint16_t)port);
        return inet_pton(AF_INET, host, &a4->sin_addr) == 1 ? 0 : -1;
    }
}

/* MHD's log sink. During transport_start the first message is also kept
 * for the caller's errbuf (why a bind failed); afterwards it goes to our log
 * only. Messages are per connection at worst, so info, not warn; and since
 * an attack makes one per connection (a thousand cut slowloris connections,
 * a flood of failed handshakes), only MHD_LOG_BURST a second stay at info,
 * the rest go to debug and are counted. */
static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    struct transport *t = cls;
    struct timespec now;
    char line[256];
    size_t len;
    int starting, quiet = 0, dropped = 0;

    vsnprintf(line, sizeof(line), fmt, ap);
    len = strlen(line);
    while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
        line[--len] = '\0';
    clock_gettime(CLOCK_MONOTONIC, &now);
    pthread_mutex_lock(&t->lock);
    starting = t->start_err != NULL;
    if (starting && t->start_err[0] == '\0')
        snprintf(t->start_err, t->start_errlen, "%s", line);
    if (!starting) {
        if (now.tv_sec != t->log_sec) {
            dropped = t->log_dropped;
            t->log_sec = now.tv_sec;
            t->log_count = t->log_dropped = 0;
        }
        if ((quiet = ++t->log_count > MHD_LOG_BURST))
            t->log_dropped++;
    }
    pthread_mutex_unlock(&t->lock);
    if (dropped > 0)
        log_info("libmicrohttpd: %d more messages at debug level", dropped);
    if (starting)
        log_warn("libmicrohttpd: %s", line);
    else if (quiet)
        log_debug("libmicrohttpd: %s", line);
    else
        log_info("libmicrohttpd: %s", line);
}

static int check_opts(const struct transport_opts *o, char *errbuf,
                      size_t errlen)
{
    if (o == NULL || o->listen == NULL || o->handler == NULL) {
        set_err(errbuf, errlen, "%s", "transport: listen and handler needed");
        return -1;
    }
    if (o->threads < 1 || o->max_body < 1 || o->read_timeout < 0 ||
        o->read_timeout > 86400 || o->max_connections < o->threads) {
        set_err(errbuf, errlen, "%s",
                "transport: need threads >= 1, max_body >= 1, "
                "read_timeout 0..86400, max_connections >= threads");
        return -1;
    }
    if ((o->tls_cert_pem == NULL) != (o->tls_key_pem == NULL) ||
        (o->tls_client_ca_pem != NULL && o->tls_cert_pem == NULL)) {
        set_err(errbuf, errlen, "%s",
                "transport: TLS needs both a certificate and a key; client "
                "CAs need TLS");
        return -1;
    }
    if (o->tls_cert_pem != NULL &&
        MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
        set_err(errbuf, errlen, "%s",
                "transport: this libmicrohttpd was built without TLS");
        return -1;
    }
    return 0;
}

/* A copy of `s` (NULL stays NULL); -1 only when the copy failed. */
static int dup_pem(const char *s, char **out)
{
    *out = NULL;
    if (s == NULL)
        return 0;
    *out = strdup(s);
    return *out != NULL ? 0 : -1;
}

/* Frees a PEM copy, overwriting it first (it may be a private key). */
static void free_pem(char *s)
{
    if (s == NULL)
        return;
    gnutls_memset(s, 0, strlen(s));
    free(s);
}

static void transport_free(struct transport *t);

static struct transport *transport_new(const struct transport_opts *o)
{
    struct transport *t;
    pthread_condattr_t ca;

    t = calloc(1, sizeof(*t));
    if (t == NULL)
        return NULL;
    t->handler = o->handler;
    t->profile_ok = o->profile_ok;
    t->get_crl = o->get_crl;
    t->arg = o->arg;
    t->max_body = o->max_body;
    t->grace = o->read_timeout > 0 ? o->read_timeout : STOP_GRACE_DEFAULT;
    t->timeout_ms = o->read_timeout * 1000;
    pthread_mutex_init(&t->lock, NULL);
    pthread_mutex_init(&t->conn_lock, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&t->idle, &ca);
    pthread_cond_init(&t->conn_wake, &ca);
    pthread_condattr_destroy(&ca);
    if (dup_pem(o->tls_cert_pem, &t->tls_cert) != 0 ||
        dup_pem(o->tls_key_pem, &t->tls_key) != 0 ||
        dup_pem(o->tls_client_ca_pem, &t->tls_ca) != 0) {
        transport_free(t);
        return NULL;
    }
    return t;
}

static void transport_free(struct transport *t)
{
    struct tconn *k;

    if (t == NULL)
        return;
    /* MHD announced every close before it stopped; this is only a guard */
    while ((k = t->conns) != NULL) {
        t->conns = k->next;
        free(k);
    }
    free_pem(t->tls_cert);
    free_pem(t->tls_key);
    free_pem(t->tls_ca);
    pthread_cond_destroy(&t->conn_wake);
    pthread_mutex_destroy(&t->conn_lock);
    pthread_cond_destroy(&t->idle);
    pthread_mutex_destroy(&t->lock);
    free(t);
}

static struct MHD_Daemon *start_daemon(struct transport *t,
                                       const struct transport_opts *o,
                                       const struct sockaddr_storage *ss,
                                       int is_v6, unsigned int port)
{
    unsigned int flags =
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ITC | MHD_USE_ERROR_LOG;
    /* MHD warns about a pool of one, so the size is passed only if > 1 */
    struct MHD_OptionItem pool[] = {
        {MHD_OPTION_THREAD_POOL_SIZE, (intptr_t)o->threads, NULL},
        {MHD_OPTION_END, 0, NULL},
    };
    struct MHD_OptionItem tls[5];

    if (o->threads == 1)
        pool[0].option = MHD_OPTION_END;
    flags |= transport_tls_options(t, tls);
    flags |= MHD_is_feature_supported(MHD_FEATURE_EPOLL) == MHD_YES
                 ? MHD_USE_EPOLL
                 : MHD_USE_POLL;
    if (is_v6)
        flags |= MHD_USE_IPv6;
    /* MHD_OPTION_SOCK_ADDR decides the bind; `port` only labels messages */
    return MHD_start_daemon(
        flags, (uint16_t)port, NULL, NULL, transport_access_cb, t,
        MHD_OPTION_EXTERNAL_LOGGER, mhd_log, t, MHD_OPTION_SOCK_ADDR,
        (const struct sockaddr *)ss, MHD_OPTION_ARRAY, pool, MHD_OPTION_ARRAY,
        tls, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)o->read_timeout,
        MHD_OPTION_NOTIFY_CONNECTION, transport_conn_cb, t,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned int)o->max_connections,
        MHD_OPTION_NOTIFY_COMPLETED, transport_completed_cb, t,
        MHD_OPTION_UNESCAPE_CALLBACK, transport_unescape_cb, t, MHD_OPTION_END);
}

int transport_start(const struct transport_opts *o, struct transport **out,
                    char *errbuf, size_t errlen)
{
    struct transport *t = NULL;
    struct sockaddr_storage ss;
    const union MHD_DaemonInfo *di;
    char mhd_msg[256] = "";
    unsigned int port = 0;
    int is_v6 = 0, ret = -1;

    set_err(errbuf, errlen, "%s", "");
    if (out == NULL)
        return -1;
    *out = NULL;
    if (check_opts(o, errbuf, errlen) != 0 ||
        transport_tls_check(o, errbuf, errlen) != 0)
        goto done;
    if (parse_listen(o->listen, &ss, &is_v6, &port) != 0) {
        set_err(errbuf, errlen,
                "listen address \"%s\": expected a.b.c.d:port or [v6]:port",
                o->listen);
        goto done;
    }
    if ((t = transport_new(o)) == NULL) {
        set_err(errbuf, errlen, "%s", "transport: out of memory");
        goto done;
    }
    t->start_err = mhd_msg;
    t->start_errlen = sizeof(mhd_msg);
    t->daemon = start_daemon(t, o, &ss, is_v6, port);
    pthread_mutex_lock(&t->lock);
    t->start_err = NULL; /* mhd_msg goes out of scope with this call */
    pthread_mutex_unlock(&t->lock);
    if (t->daemon == NULL) {
        set_err(errbuf, errlen, "cannot listen on %s: %s", o->listen,
                mhd_msg[0] != '\0' ? mhd_msg : "libmicrohttpd failed");
        goto done;
    }
    di = MHD_get_daemon_info(t->daemon, MHD_DAEMON_INFO_BIND_PORT);
    t->port = di != NULL ? (int)di->port : 0;
    if (transport_watch_start(t) != 0) {
        set_err(errbuf, errlen, "%s", "transport: cannot start a thread");
        MHD_stop_daemon(t->daemon);
        t->daemon = NULL;
        goto done;
    }
    log_info("transport: listening on %s, port %d, %d threads%s", o->listen,
             t->port, o->threads,
             t->tls_cert == NULL ? ""
             : t->tls_ca != NULL ? ", HTTPS with client certificates"
                                 : ", HTTPS");
    *out = t;
    t = NULL;
    ret = 0;

done:
    transport_free(t); /* only when start failed: the daemon is NULL */
    return ret;
}

int transport_port(const struct transport *t)
{
    return t != NULL ? t->port : -1;
}

/* Waits until no request is between its headers and its completion, or the
 * grace period is over. New requests after this point get Connection:
 * close, so the count can only run down. A zero count is trusted only after
 * it has held for STOP_SETTLE_MS: a worker that was busy in a handler may
 * have a request from another kept-alive connection ready to read next. */
static void wait_idle(struct transport *t)
{
    struct timespec deadline, settle = {0, STOP_SETTLE_MS * 1000000L};
    int rc = 0;

    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += t->grace;
    pthread_mutex_lock(&t->lock);
    t->stopping = 1;
    while (rc != ETIMEDOUT) {
        while (t->inflight > 0 && rc != ETIMEDOUT)
            rc = pthread_cond_timedwait(&t->idle, &t->lock, &deadline);
        if (t->inflight > 0)
            break;
        pthread_mutex_unlock(&t->lock);
        nanosleep(&settle, NULL);
        pthread_mutex_lock(&t->lock);
        if (t->inflight == 0)
            break;
    }
    if (t->inflight > 0)
        log_warn("transport: stopping with %d requests unanswered",
                 t->inflight);
    pthread_mutex_unlock(&t->lock);
}

void transport_stop(struct transport *t)
{
    MHD_socket lsock;

    if (t == NULL)
        return;
    if (t->daemon != NULL) {
        lsock = MHD_quiesce_daemon(t->daemon);
        wait_idle(t);
        MHD_stop_daemon(t->daemon);
        /* a quiesced listen socket is ours to close, after the stop */
        if (lsock != MHD_INVALID_SOCKET)
            close(lsock);
    }
    transport_watch_stop(t);
    transport_free(t);
}
