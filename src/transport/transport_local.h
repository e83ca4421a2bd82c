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

/* transport_unescape_cb leaves the URL as sent: the path grammar never needs
 * a percent-escape, so an escaped path is simply not a CMP path. */
size_t transport_unescape_cb(void *cls, struct MHD_Connection *c, char *s);

#endif
