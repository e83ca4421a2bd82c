/*
 * test_store_pg.c: what only a PostgreSQL server can do to the store: go
 * away and come back, or hold a lock forever. It runs a private cluster of
 * its own (scripts/pg-test-cluster.sh), so restarting it never disturbs the
 * tests sharing the fixture's server. Checked: connections the server
 * killed are replaced without the caller noticing; while the server is down
 * every call fails with systemUnavail within seconds, calls in flight
 * included, and none hangs; once it is back, the same store works again; a
 * call stuck behind a lock gives up at the lock timeout with systemUnavail;
 * a call that finds every pooled connection busy waits for one.
 */
#include "store/store.h"
#include "check.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>

#define TEST_DB "cmpca_pg_test"

static char state[] = "/tmp/test_store_pg.XXXXXX";
static char base[512]; /* the server's maintenance database */
static char uri[600];  /* TEST_DB on it */

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

    nanosleep(&ts, NULL);
}

static int cluster(const char *cmd)
{
    char line[1024];

    snprintf(line, sizeof(line), "sh '%s' %s '%s' >&2", CMPCA_PG_SCRIPT, cmd,
             state);
    return system(line) == 0 ? 0 : -1;
}

/* admin runs `sql` on database `db` (NULL: the maintenance one). */
static int admin(const char *db, const char *sql)
{
    char conninfo[700];
    PGconn *c;
    PGresult *r;
    int ok;

    if (db == NULL)
        snprintf(conninfo, sizeof(conninfo), "%s", base);
    else
        snprintf(conninfo, sizeof(conninfo), "%s", uri);
    c = PQconnectdb(conninfo);
    r = PQexec(c, sql);
    ok = PQresultStatus(r) == PGRES_COMMAND_OK ||
         PQresultStatus(r) == PGRES_TUPLES_OK;
    if (!ok)
        fprintf(stderr, "admin: %s: %s", sql, PQerrorMessage(c));
    PQclear(r);
    PQfinish(c);
    return ok ? 0 : -1;
}

static int setup(void)
{
    char path[600];
    FILE *f;

    if (mkdtemp(state) == NULL || cluster("start") != 0)
        return -1;
    snprintf(path, sizeof(path), "%s/uri", state);
    if ((f = fopen(path, "r")) == NULL)
        return -1;
    if (fgets(base, sizeof(base), f) == NULL)
        base[0] = '\0';
    fclose(f);
    base[strcspn(base, "\n")] = '\0';
    snprintf(uri, sizeof(uri), "%.*s/" TEST_DB,
             (int)(strrchr(base, '/') - base), base);
    return admin(NULL, "CREATE DATABASE " TEST_DB);
}

static int nonce(struct store *st, unsigned n, struct cmpca_err *err)
{
    uint8_t v[8] = {'p', 'g', 0, 0};

    v[4] = (uint8_t)(n >> 24);
    v[5] = (uint8_t)(n >> 16);
    v[6] = (uint8_t)(n >> 8);
    v[7] = (uint8_t)n;
    return store_nonce_use(st, v, sizeof(v), time(NULL) + 600, err);
}

/* The server ends our sessions (an administrator, a failover): the next
 * calls reconnect on their own. */
static void test_killed(struct store *st)
{
    struct cmpca_err err = CMPCA_ERR_INIT;
    long long n = -1;

    CHECK_INT_EQ(nonce(st, 1, &err), 0);
    CHECK_INT_EQ(admin(NULL, "SELECT pg_terminate_backend(pid) FROM"
                             " pg_stat_activity WHERE datname = '" TEST_DB "'"),
                 0);
    sleep_ms(100);
    CHECK_INT_EQ(nonce(st, 2, &err), 0);
    CHECK_INT_EQ(nonce(st, 2, &err), STORE_EXISTS);
    CHECK_INT_EQ(store_cert_count(st, &n, &err), 0);
    CHECK_INT_EQ(n, 0);
}

struct locker {
    int ms;
    atomic_int locked;
};

static void *locker_main(void *arg)
{
    struct locker *l = arg;
    PGconn *c = PQconnectdb(uri);

    PQclear(PQexec(c, "BEGIN; LOCK TABLE nonces IN EXCLUSIVE MODE"));
    atomic_store(&l->locked, 1);
    sleep_ms(l->ms);
    PQclear(PQexec(c, "COMMIT"));
    PQfinish(c);
    return NULL;
}

struct caller {
    struct store *st;
    int ret;
};

static void *caller_main(void *arg)
{
    struct caller *c = arg;
    struct cmpca_err err = CMPCA_ERR_INIT;

    c->ret = nonce(c->st, 3, &err);
    return NULL;
}

/* Pool of one: a call waits while the only connection is busy. */
static void test_pool_wait(void)
{
    struct cmpca_err err = CMPCA_ERR_INIT;
    struct locker l = {1000, 0};
    struct store *st = NULL;
    struct caller c = {NULL, -9};
    pthread_t lt, ct;
    long long n = -1;
    double t0;

    CHECK_INT_EQ(store_open_pool(uri, 1, &st, &err), 0);
    if (st == NULL)
        return;
    c.st = st;
    CHECK_INT_EQ(pthread_create(&lt, NULL, locker_main, &l), 0);
    while (!atomic_load(&l.locked))
        sleep_ms(10);
    CHECK_INT_EQ(pthread_create(&ct, NULL, caller_main, &c), 0);
    sleep_ms(200); /* the caller holds the one connection, waiting */
    t0 = now_s();
    CHECK_INT_EQ(store_cert_count(st, &n, &err), 0);
    CHECK(now_s() - t0 > 0.4);
    pthread_join(ct, NULL);
    pthread_join(lt, NULL);
    CHECK_INT_EQ(c.ret, 0);
    store_close(st);
}

/* A lock nobody releases: the call gives up at the lock timeout. */
static void test_lock_timeout(struct store *st)
{
    struct cmpca_err err = CMPCA_ERR_INIT;
    struct locker l = {12000, 0};
    pthread_t lt;
    double t0, took;

    CHECK_INT_EQ(pthread_create(&lt, NULL, locker_main, &l), 0);
    while (!atomic_load(&l.locked))
        sleep_ms(10);
    t0 = now_s();
    CHECK_INT_EQ(nonce(st, 4, &err), -1);
    took = now_s() - t0;
    printf("blocked call gave up after %.1f s: %s\n", took, err.msg);
    CHECK_INT_EQ(err.failinfo, FI_SYSTEM_UNAVAIL);
    CHECK(took > 5 && took < 16);
    pthread_join(lt, NULL);
    CHECK_INT_EQ(nonce(st, 4, &err), 0);
}

enum { WORKERS = 4 };

struct worker {
    struct store *st;
    int id;
    atomic_int *stop;
    int ok, unavail, other, last;
    double longest;
    char why[CMPCA_ERR_MSG_LEN + 16];
};

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    unsigned i = 0;

    while (!atomic_load(w->stop)) {
        struct cmpca_err err = CMPCA_ERR_INIT;
        double t0 = now_s(), took;

        w->last = nonce(w->st, 0x10000u * (unsigned)(w->id + 1) + i++, &err);
        took = now_s() - t0;
        if (took > w->longest)
            w->longest = took;
        if (w->last == 0) {
            w->ok++;
        } else if (w->last == -1 && err.failinfo == FI_SYSTEM_UNAVAIL &&
                   strncmp(err.msg, "store:", 6) == 0) {
            w->unavail++;
        } else {
            w->other++;
            snprintf(w->why, sizeof(w->why), "%d: %s", w->last, err.msg);
        }
        sleep_ms(5);
    }
    return NULL;
}

/* The server restarts under four busy threads. */
static void test_restart(struct store *st)
{
    struct cmpca_err err = CMPCA_ERR_INIT;
    struct worker w[WORKERS];
    pthread_t th[WORKERS];
    atomic_int stop = 0;
    double t0, took;
    int back = 0;

    memset(w, 0, sizeof(w));
    for (int i = 0; i < WORKERS; i++) {
        w[i].st = st;
        w[i].id = i;
        w[i].stop = &stop;
        CHECK_INT_EQ(pthread_create(&th[i], NULL, worker_main, &w[i]), 0);
    }
    sleep_ms(300);
    CHECK_INT_EQ(cluster("down"), 0);
    t0 = now_s();
    CHECK_INT_EQ(nonce(st, 5, &err), -1);
    took = now_s() - t0;
    CHECK_INT_EQ(err.failinfo, FI_SYSTEM_UNAVAIL);
    CHECK(took < 6);
    printf("server down: a call failed after %.2f s: %s\n", took, err.msg);
    sleep_ms(1000);
    CHECK_INT_EQ(cluster("up"), 0);
    for (int i = 0; i < 100 && !back; i++) {
        back = nonce(st, 6, &err) == 0;
        if (!back)
            sleep_ms(100);
    }
    CHECK(back);
    sleep_ms(300);
    atomic_store(&stop, 1);
    for (int i = 0; i < WORKERS; i++) {
        pthread_join(th[i], NULL);
        printf("worker %d: %d ok, %d unavailable, longest call %.2f s\n", i,
               w[i].ok, w[i].unavail, w[i].longest);
        CHECK_INT_EQ(w[i].other, 0);
        if (w[i].other > 0)
            fprintf(stderr, "worker %d: %s\n", i, w[i].why);
        CHECK(w[i].unavail > 0);
        CHECK(w[i].longest < 16);
        CHECK_INT_EQ(w[i].last, 0); /* working again */
    }
}

int main(void)
{
    struct cmpca_err err = CMPCA_ERR_INIT;
    struct store *st = NULL;

    if (setup() != 0) {
        fprintf(stderr, "cannot start a PostgreSQL cluster\n");
        cluster("stop");
        return 1;
    }
    CHECK_INT_EQ(store_open_pool(uri, 4, &st, &err), 0);
    if (st != NULL) {
        test_killed(st);
        test_pool_wait();
        test_lock_timeout(st);
        test_restart(st);
        store_close(st);
    }
    cluster("stop");
    rmdir(state);
    return CHECK_RESULT();
}
