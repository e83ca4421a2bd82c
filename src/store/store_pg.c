/*
 * store_pg.c: the PostgreSQL backend's connections: opening the store from
 * a postgresql:// URI, the pool of connections, and running work on them
 * inside transactions.
 *
 * The load is the SQLite backend's (many short transactions from a pool of
 * worker threads), but the database is a server that may restart or vanish
 * while we run. So: at most `pool` connections, opened when first needed
 * and kept; a thread takes one for one store call and gives it back; a call
 * that finds them all busy waits for one, at most PG_POOL_WAIT_MS. Every
 * session sets a statement and a lock timeout, and the client gives up on
 * any answer after PG_CLIENT_WAIT_MS, so no call hangs on a stuck server.
 * A connection that broke (the server restarted) is reset once and the work
 * run again, unless the break came during COMMIT, whose outcome nobody
 * knows; if the reset fails the call fails with systemUnavail at once.
 *
 * Writes run in READ COMMITTED transactions and rely on unique keys,
 * conditional UPDATEs, row locks and (for the audit chain and RA
 * registration) table locks for the guarantees SQLite's single writer
 * gives; deadlocks and serialization failures are retried until the
 * statement timeout's worth of time has passed.
 */
#include "store/store_pg_local.h"
#include "util/log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static long long mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

int pgs_is_uri(const char *uri)
{
    return uri != NULL && (strncmp(uri, "postgresql://", 13) == 0 ||
                           strncmp(uri, "postgres://", 11) == 0);
}

/* Notices ("relation exists, skipping") are not errors: keep stderr quiet. */
static void quiet(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

/* conn_setup gives a new (or reset) session our settings; the server
 * forgot every prepared statement. */
static int conn_setup(struct pg_conn *c, struct cmpca_err *err)
{
    char sql[160];

    memset(c->prepared, 0, sizeof(c->prepared));
    c->broken = 0;
    snprintf(sql, sizeof(sql),
             "SET statement_timeout = %d; SET lock_timeout = %d;"
             " SET idle_in_transaction_session_timeout = %d",
             PG_STATEMENT_TIMEOUT_MS, PG_STATEMENT_TIMEOUT_MS,
             6 * PG_STATEMENT_TIMEOUT_MS);
    return pg_simple(c, sql, err) == 0 ? 0 : -1;
}

static void conn_close(struct pg_conn *c)
{
    if (c == NULL)
        return;
    PQfinish(c->conn);
    free(c);
}

/* First line of libpq's message, for `err`. */
static void first_line(const char *msg, char *out, size_t len)
{
    size_t n = strcspn(msg != NULL ? msg : "", "\n");

    if (n >= len)
        n = len - 1;
    memcpy(out, msg != NULL ? msg : "", n);
    out[n] = '\0';
}

/* Defaults first: whatever the URI says wins over them (libpq processes
 * the keywords in order and expands the dbname URI where it stands). */
static int conn_open(const struct pg_store *pg, struct pg_conn **out,
                     struct cmpca_err *err)
{
    static const char *const keys[] = {"connect_timeout",
                                       "application_name",
                                       "keepalives",
                                       "keepalives_idle",
                                       "keepalives_interval",
                                       "keepalives_count",
                                       "tcp_user_timeout",
                                       "dbname",
                                       NULL};
    const char *vals[] = {"5", "cmpca", "1",          "30", "10",
                          "3", "30000", pg->conninfo, NULL};
    struct pg_conn *c = NULL;
    char why[200];

    *out = NULL;
    if ((c = calloc(1, sizeof(*c))) == NULL)
        return pg_oom(err);
    c->conn = PQconnectdbParams(keys, vals, 1);
    if (c->conn == NULL) {
        free(c);
        return pg_oom(err);
    }
    if (PQstatus(c->conn) != CONNECTION_OK) {
        first_line(PQerrorMessage(c->conn), why, sizeof(why));
        cmpca_err_set(err, FI_SYSTEM_UNAVAIL,
                      "store: cannot connect to PostgreSQL: %s", why);
        conn_close(c);
        return -1;
    }
    PQsetNoticeProcessor(c->conn, quiet, NULL);
    if (conn_setup(c, err) != 0) {
        conn_close(c);
        return -1;
    }
    *out = c;
    return 0;
}

/* conn_reset reconnects a connection that broke; 0 when it is back. */
static int conn_reset(struct pg_conn *c, struct cmpca_err *err)
{
    char why[200];

    PQreset(c->conn);
    if (PQstatus(c->conn) != CONNECTION_OK) {
        first_line(PQerrorMessage(c->conn), why, sizeof(why));
        return cmpca_err_set(err, FI_SYSTEM_UNAVAIL,
                             "store: PostgreSQL is unavailable: %s", why);
    }
    PQsetNoticeProcessor(c->conn, quiet, NULL);
    log_info("store: reconnected to PostgreSQL");
    return conn_setup(c, err);
}

static void deadline_at(struct timespec *ts, long ms)
{
    clock_gettime(CLOCK_MONOTONIC, ts);
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

/* pg_acquire hands the calling thread a connection of its own: an idle
 * one, a new one while fewer than pool_max are open, else the first one
 * given back within PG_POOL_WAIT_MS. */
static int pg_acquire(struct pg_store *pg, struct pg_conn **out,
                      struct cmpca_err *err)
{
    struct timespec until;
    struct pg_conn *c = NULL;
    int rc = 0, open_new = 0;

    *out = NULL;
    deadline_at(&until, PG_POOL_WAIT_MS);
    pthread_mutex_lock(&pg->lock);
    while (pg->idle == NULL && pg->num_open >= pg->pool_max && rc == 0)
        rc = pthread_cond_timedwait(&pg->released, &pg->lock, &until);
    if (pg->idle != NULL) {
        c = pg->idle;
        pg->idle = c->next;
        c->next = NULL;
    } else if (pg->num_open < pg->pool_max) {
        pg->num_open++;
        open_new = 1;
    }
    pthread_mutex_unlock(&pg->lock);
    if (c != NULL) {
        *out = c;
        return 0;
    }
    if (!open_new)
        return cmpca_err_set(err, FI_SYSTEM_UNAVAIL,
                             "store: all %d database connections stayed "
                             "busy for %d s",
                             pg->pool_max, PG_POOL_WAIT_MS / 1000);
    if (conn_open(pg, out, err) == 0)
        return 0;
    pthread_mutex_lock(&pg->lock);
    pg->num_open--;
    pthread_cond_signal(&pg->released);
    pthread_mutex_unlock(&pg->lock);
    return -1;
}

/* pg_release gives `c` back; a connection that is broken or (which the
 * drivers never leave) inside a transaction is closed instead. */
static void pg_release(struct pg_store *pg, struct pg_conn *c)
{
    int keep;

    if (c == NULL)
        return;
    keep = !c->broken && PQstatus(c->conn) == CONNECTION_OK &&
           PQtransactionStatus(c->conn) == PQTRANS_IDLE;
    pthread_mutex_lock(&pg->lock);
    if (keep) {
        c->next = pg->idle;
        pg->idle = c;
    } else {
        pg->num_open--;
    }
    pthread_cond_signal(&pg->released);
    pthread_mutex_unlock(&pg->lock);
    if (!keep)
        conn_close(c);
}

/* run_once runs `fn` once: inside BEGIN (`begin`) ... COMMIT, or alone. */
static int run_once(struct pg_conn *c, const char *begin, pg_work_fn fn,
                    void *arg, struct cmpca_err *err)
{
    struct cmpca_err ignored = CMPCA_ERR_INIT;
    int ret;

    if (PQstatus(c->conn) != CONNECTION_OK) {
        cmpca_err_set(err, FI_SYSTEM_UNAVAIL,
                      "store: connection to PostgreSQL lost");
        return PG_LOST;
    }
    if (begin != NULL && (ret = pg_simple(c, begin, err)) != 0)
        return ret;
    ret = fn(c, arg, err);
    if (begin == NULL)
        return ret;
    if (ret == 0) {
        ret = pg_simple(c, "COMMIT", err);
        if (ret == PG_LOST) /* sent or not, committed or not: unknown */
            ret = cmpca_err_set(err, FI_SYSTEM_UNAVAIL,
                                "store: connection to PostgreSQL lost "
                                "during COMMIT");
        return ret;
    }
    if (!c->broken && PQstatus(c->conn) == CONNECTION_OK)
        pg_simple(c, "ROLLBACK", &ignored);
    return ret;
}

/* backoff waits a little longer each attempt; false once past deadline. */
static int backoff(long long deadline, int attempt)
{
    long ms = attempt < 6 ? 1L << attempt : 50;

    if (mono_ms() + ms > deadline)
        return 0;
    sleep_ms(ms);
    return 1;
}

static int pg_drive(struct pg_store *pg, const char *begin, pg_work_fn fn,
                    void *arg, struct cmpca_err *err)
{
    long long deadline = mono_ms() + PG_STATEMENT_TIMEOUT_MS;
    struct pg_conn *c = NULL;
    int ret, was_reset = 0;

    if (pg_acquire(pg, &c, err) != 0)
        return -1;
    for (int attempt = 0;; attempt++) {
        ret = run_once(c, begin, fn, arg, err);
        if (ret == PG_LOST && !was_reset && !c->broken) {
            was_reset = 1;
            if (conn_reset(c, err) == 0)
                continue;
            ret = -1;
        }
        if (ret == PG_RETRY && backoff(deadline, attempt))
            continue;
        break;
    }
    pg_release(pg, c);
    return ret < -1 ? -1 : ret; /* err says why */
}

int pg_write(struct pg_store *pg, pg_work_fn fn, void *arg,
             struct cmpca_err *err)
{
    return pg_drive(pg, "BEGIN", fn, arg, err);
}

int pg_read(struct pg_store *pg, pg_work_fn fn, void *arg,
            struct cmpca_err *err)
{
    return pg_drive(pg, NULL, fn, arg, err);
}

int pg_read_snapshot(struct pg_store *pg, pg_work_fn fn, void *arg,
                     struct cmpca_err *err)
{
    return pg_drive(pg, "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY", fn,
                    arg, err);
}

/* uri_split copies `uri` without the query parameters that are ours, not
 * libpq's (pool=N), into *out; *pool gets N, or 0 when not given. */
static int uri_split(const char *uri, char **out, int *pool,
                     struct cmpca_err *err)
{
    const char *q = strchr(uri, '?'), *item, *end;
    size_t n = strlen(uri), used, kept = 0;
    char *s, *stop = NULL;
    long v;

    *out = NULL;
    *pool = 0;
    if ((s = malloc(n + 1)) == NULL)
        return pg_oom(err);
    used = q != NULL ? (size_t)(q - uri) : n;
    memcpy(s, uri, used);
    for (item = q != NULL ? q + 1 : NULL; item != NULL; item = end) {
        size_t len = (end = strchr(item, '&')) != NULL ? (size_t)(end - item)
                                                       : strlen(item);

        if (end != NULL)
            end++;
        if (len > 5 && strncmp(item, "pool=", 5) == 0) {
            errno = 0;
            v = strtol(item + 5, &stop, 10);
            if (errno != 0 || stop != item + len || v < 1 || v > PG_POOL_MAX) {
                free(s);
                return cmpca_err_set(err, FI_SYSTEM_FAILURE,
                                     "store: pool must be 1..%d", PG_POOL_MAX);
            }
            *pool = (int)v;
        } else if (len > 0) {
            s[used++] = kept++ == 0 ? '?' : '&';
            memcpy(s + used, item, len);
            used += len;
        }
    }
    s[used] = '\0';
    *out = s;
    return 0;
}

int pgs_open(const char *uri, int pool, struct pg_store **out,
             int *schema_version, struct cmpca_err *err)
{
    struct pg_store *pg = NULL;
    pthread_condattr_t ca;
    int uri_pool = 0, ret = -1;

    *out = NULL;
    if (!PQisthreadsafe())
        return cmpca_err_set(err, FI_SYSTEM_FAILURE,
                             "store: libpq was built without threads");
    if ((pg = calloc(1, sizeof(*pg))) == NULL)
        return pg_oom(err);
    if (pthread_mutex_init(&pg->lock, NULL) != 0) {
        free(pg);
        return cmpca_err_set(err, FI_SYSTEM_FAILURE, "store: mutex init");
    }
    if (pthread_condattr_init(&ca) != 0 ||
        pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) != 0 ||
        pthread_cond_init(&pg->released, &ca) != 0) {
        pthread_mutex_destroy(&pg->lock);
        free(pg);
        return cmpca_err_set(err, FI_SYSTEM_FAILURE, "store: cond init");
    }
    pthread_condattr_destroy(&ca);
    if (uri_split(uri, &pg->conninfo, &uri_pool, err) != 0)
        goto done;
    pg->pool_max = uri_pool > 0 ? uri_pool : pool > 0 ? pool : PG_POOL_DEFAULT;
    if (pg->pool_max > PG_POOL_MAX)
        pg->pool_max = PG_POOL_MAX;
    if (pg_migrate(pg, schema_version, err) != 0)
        goto done;
    *out = pg;
    pg = NULL;
    ret = 0;

done:
    pgs_close(pg);
    return ret;
}

void pgs_close(struct pg_store *pg)
{
    struct pg_conn *c;

    if (pg == NULL)
        return;
    while ((c = pg->idle) != NULL) {
        pg->idle = c->next;
        conn_close(c);
    }
    pthread_cond_destroy(&pg->released);
    pthread_mutex_destroy(&pg->lock);
    free(pg->conninfo);
    free(pg);
}
