/*
 * transport_local.h: what http.c (daemon life cycle) and request.c (one HTTP
 * exchange) share inside the transport room. Nothing outside
 * src/transport includes this.
 */
#ifndef CMPCA_TRANSPORT_LOCAL_H
#define CMPCA_TRANSPORT_LOCAL_H

#include "transport/transport.h"

#include <pthread.h>
#include <sys/types.h>
#include <sys/socket.h>
#include <microhttpd.h>

/* profile name (64) and the longest operation label, each plus NUL */
#define TRANSPORT_PART_CAP 65

/* One TCP connection, MHD's socket_context (conn.c). Lives from MHD's
 * STARTED notification to its CLOSED one, linked into transport.conns. */
struct tconn {
    struct tconn *prev, *next;
    int fd;             /* valid while linked: MHD closes it after CLOSED */
    long long deadline; /* monotonic ms by which the request must be in;
                           0: none (a handler or an answer is running) */
    int cut;            /* the watchdog has shut the socket down */
    int peer;           /* TLS client certificate: 0 unchecked, 1 good,
                           -1 refused */
};

struct transport {
    struct MHD_Daemon *daemon;
    transport_handler_fn handler;
    transport_profile_fn profile_ok;
    transport_get_fn get_crl; /* may be NULL: /crl/ paths are 404 */
    void *arg;
    size_t max_body;
    int port;
    int grace;            /* seconds transport_stop waits for requests */
    pthread_mutex_t lock; /* guards everything below */
    pthread_cond_t idle;  /* signalled when inflight drops to 0 */
    int inflight;         /* requests between headers and completion */
    int stopping;         /* transport_stop has begun */
    char *start_err;      /* MHD's first complaint during start, or NULL */
    size_t start_errlen;
    time_t log_sec;  /* MHD log rate limit: the current second, */
    int log_count;   /* messages in it, */
    int log_dropped; /* and those sent to debug */
    /* TLS (tls.c): copies of the PEM texts, alive as long as the daemon */
    char *tls_cert;
    char *tls_key;
    char *tls_ca; /* non-NULL: client certificates are required */
    /* request deadlines (conn.c) */
    int timeout_ms;            /* read_timeout in ms; 0: no deadlines */
    pthread_mutex_t conn_lock; /* guards conns and the fields below */
    pthread_cond_t conn_wake;  /* wakes the watchdog to stop */
    struct tconn *conns;       /* every open connection */
    int watch_running;         /* the watchdog thread exists */
    int watch_stop;            /* the watchdog should end */
    pthread_t watch;
};

/* transport_access_cb is the MHD access handler; `cls` is the transport. */
enum MHD_Result transport_access_cb(void *cls, struct MHD_Connection *c,
                                    const char *url, const char *method,
                                    const char *version,
                                    const char *upload_data,
                                    size_t *upload_data_size, void **con_cls);

/* transport_completed_cb frees the per-request state once MHD is done with a
 * request (answered, timed out or aborted) and wakes transport_stop. */
void transport_completed_cb(void *cls, struct MHD_Connection *c, void **con_cls,
                            enum MHD_RequestTerminationCode toe);

/* transport_conn_cb is MHD's connection notification: it links a struct
 * tconn for a new connection (deadline: a whole request within the timeout)
 * and unlinks and frees it when the connection is closed. */
void transport_conn_cb(void *cls, struct MHD_Connection *c,
                       void **socket_context,
                       enum MHD_ConnectionNotificationCode toe);

/* transport_conn_deadline restarts the request deadline of the connection
 * of `c` (`on`), or lifts it while the handler and the answer run. */
void transport_conn_deadline(struct transport *t, struct MHD_Connection *c,
                             int on);

/* transport_watch_start starts the thread that shuts down connections past
 * their deadline (no thread when timeout_ms is 0). 0 or -1. */
int transport_watch_start(struct transport *t);

/* transport_watch_stop ends that thread; accepts a transport without one. */
void transport_watch_stop(struct transport *t);

/* transport_tls_check parses the TLS certificate chain, key and client CAs
 * of `o` (nothing to do without TLS) and checks that the key belongs to the
 * first certificate, so a bad file gets a clear reason before MHD sees it.
 * Returns 0, or -1 with the reason in `errbuf`. */
int transport_tls_check(const struct transport_opts *o, char *errbuf,
                        size_t errlen);

/* transport_tls_options fills `opt` (room for 5 items, END included) with
 * the MHD TLS options of `t`; returns the MHD flags to add. */
unsigned int transport_tls_options(const struct transport *t,
                                   struct MHD_OptionItem *opt);

/* transport_tls_peer_ok decides whether the client certificate of the TLS
 * connection of `c` verifies against the client CAs (cached per
 * connection). 1 yes, 0 no (the reason is logged, once per connection). */
int transport_tls_peer_ok(struct transport *t, struct MHD_Connection *c,
                          const char *peer);

/* transport_unescape_cb leaves the URL as sent: the path grammar never needs
 * a percent-escape, so an escaped path is simply not a CMP path. */
size_t transport_unescape_cb(void *cls, struct MHD_Connection *c, char *s);

#endif
