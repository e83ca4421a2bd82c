/*
 * conn.c: a deadline for every request, against slowloris.
 *
 * libmicrohttpd's connection timeout is an idle timeout: any byte resets it.
 * A client that sends one header line every few seconds and never finishes
 * therefore keeps its connection, and a few hundred such clients fill the
 * connection limit; new clients then wait in the listen backlog, behind
 * them, for as long as the attack lasts. MHD 0.9.75 has no limit on the
 * time a request may take to arrive, and no call that closes a connection
 * from outside its callbacks.
 *
 * So every connection gets a deadline here: read_timeout after it is
 * accepted (TLS handshake included), or after its previous answer, the
 * headers must be in; read_timeout after the headers, the body. While the
 * handler and the answer run there is none. A watchdog thread wakes once a
 * second and shuts down (shutdown(2), not close) the socket of every
 * connection past its deadline; MHD then reads end-of-file and closes it
 * itself. The socket is still open when the watchdog touches it: entries are
 * unlinked in MHD's CLOSED notification, which comes before MHD closes the
 * descriptor, and both sides hold conn_lock. A cut slot is accepted anew
 * in backlog order, so a client queued behind attackers gets in within a
 * few deadlines however many connections they hold.
 *
 * A connection whose socket still holds unread bytes is not cut: then the
 * delay is ours (its worker thread is busy with other connections' handlers),
 * not the client's. It is looked at again on the next round.
 */
#include "transport/transport_local.h"
#include "util/log.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>

#define WATCH_PERIOD_MS 1000

static long long now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void conn_link(struct transport *t, struct tconn *k)
{
    pthread_mutex_lock(&t->conn_lock);
    k->next = t->conns;
    if (t->conns != NULL)
        t->conns->prev = k;
    t->conns = k;
    pthread_mutex_unlock(&t->conn_lock);
}

static void conn_unlink(struct transport *t, struct tconn *k)
{
    pthread_mutex_lock(&t->conn_lock);
    if (k->prev != NULL)
        k->prev->next = k->next;
    else
        t->conns = k->next;
    if (k->next != NULL)
        k->next->prev = k->prev;
    pthread_mutex_unlock(&t->conn_lock);
}

void transport_conn_cb(void *cls, struct MHD_Connection *c,
                       void **socket_context,
                       enum MHD_ConnectionNotificationCode toe)
{
    struct transport *t = cls;
    struct tconn *k = *socket_context;
    const union MHD_ConnectionInfo *ci;

    if (toe == MHD_CONNECTION_NOTIFY_CLOSED) {
        if (k != NULL) {
            conn_unlink(t, k);
            free(k);
            *socket_context = NULL;
        }
        return;
    }
    ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
    if (ci == NULL || (k = calloc(1, sizeof(*k))) == NULL) {
        /* served without a deadline: the idle timeout still applies */
        log_warn("%s", "transport: cannot track a new connection");
        return;
    }
    k->fd = ci->connect_fd;
    k->deadline = t->timeout_ms > 0 ? now_ms() + t->timeout_ms : 0;
    *socket_context = k;
    conn_link(t, k);
}

void transport_conn_deadline(struct transport *t, struct MHD_Connection *c,
                             int on)
{
    const union MHD_ConnectionInfo *ci;
    struct tconn *k;

    if (t->timeout_ms == 0)
        return;
    ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    if (ci == NULL || (k = ci->socket_context) == NULL)
        return;
    pthread_mutex_lock(&t->conn_lock);
    k->deadline = on ? now_ms() + t->timeout_ms : 0;
    pthread_mutex_unlock(&t->conn_lock);
}

/* Shuts down every connection past its deadline; conn_lock is held.
 * Returns how many. */
static int cut_late(struct transport *t, long long now)
{
    struct tconn *k;
    int n = 0, unread;

    for (k = t->conns; k != NULL; k = k->next) {
        if (k->cut || k->deadline == 0 || now < k->deadline)
            continue;
        if (ioctl(k->fd, FIONREAD, &unread) == 0 && unread > 0)
            continue; /* sent, but not read yet: we are the slow side */
        if (shutdown(k->fd, SHUT_RDWR) != 0 && errno != ENOTCONN)
            log_debug("transport: shutdown: %s", strerror(errno));
        k->cut = 1;
        n++;
    }
    return n;
}

static void *watch_main(void *arg)
{
    struct transport *t = arg;
    struct timespec ts;
    long long wake;
    int n;

    pthread_mutex_lock(&t->conn_lock);
    while (!t->watch_stop) {
        n = cut_late(t, now_ms());
        if (n > 0) {
            pthread_mutex_unlock(&t->conn_lock);
            log_info("transport: closed %d connection%s that had not sent a "
                     "whole request within %d ms",
                     n, n == 1 ? "" : "s", t->timeout_ms);
            pthread_mutex_lock(&t->conn_lock);
            continue; /* the stop flag may have changed meanwhile */
        }
        wake = now_ms() + WATCH_PERIOD_MS;
        ts.tv_sec = (time_t)(wake / 1000);
        ts.tv_nsec = (long)(wake % 1000) * 1000000L;
        pthread_cond_timedwait(&t->conn_wake, &t->conn_lock, &ts);
    }
    pthread_mutex_unlock(&t->conn_lock);
    return NULL;
}

int transport_watch_start(struct transport *t)
{
    if (t->timeout_ms == 0)
        return 0;
    t->watch_stop = 0;
    if ((errno = pthread_create(&t->watch, NULL, watch_main, t)) != 0) {
        log_error("transport: cannot start the deadline thread: %s",
                  strerror(errno));
        return -1;
    }
    t->watch_running = 1;
    return 0;
}

void transport_watch_stop(struct transport *t)
{
    if (t == NULL || !t->watch_running)
        return;
    pthread_mutex_lock(&t->conn_lock);
    t->watch_stop = 1;
    pthread_cond_broadcast(&t->conn_wake);
    pthread_mutex_unlock(&t->conn_lock);
    pthread_join(t->watch, NULL);
    t->watch_running = 0;
}
