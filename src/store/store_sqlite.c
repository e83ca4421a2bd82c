/*
 * store_sqlite.c: opening the SQLite database, migrating its schema, and
 * running work on it from many threads and processes at once.
 *
 * The load is many short transactions from a pool of worker threads (one
 * certificate, one transaction row, one nonce per request) while the CLI,
 * another process, occasionally imports devices. So: WAL (readers never wait
 * for the writer), synchronous=FULL (a commit is on disk before the response
 * leaves), one connection per thread that is working right now (taken from
 * an idle list and given back, never shared by two threads), prepared
 * statements cached per connection, and writes under BEGIN IMMEDIATE so a
 * transaction takes the write lock up front instead of failing half-way
 * when it upgrades. SQLite admits one writer at a time anyway, so this
 * process's writers queue on a mutex (immediate hand-over; 8 threads
 * writing at once ran 1.5-3x faster than with SQLite's sleeping busy
 * handler alone), while readers run in parallel on their own connections.
 * Other processes are waited out by the busy handler and, for the rare
 * BUSY that bypasses it, by rerunning the whole transaction until the same
 * deadline.
 */
#include "store/store_sqlite_local.h"
#include "util/log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* How long one call may wait for another writer (ms). The CLI importing
 * 100,000 devices holds the lock for about a second. */
#define SQ_BUSY_MS 10000
/* Idle connections kept open; threads beyond this open and close their own
 * (rare: only when more threads than this hit the store at once). */
#define SQ_MAX_IDLE 32

/*
 * The schema, one step per version: sq_migrations[i] takes a database from
 * user_version i to i + 1. Steps are append-only; a released step is never
 * edited, a change is a new step. The whole run is one transaction, so a
 * crash mid-way leaves the old version intact.
 */
static const char *const sq_migrations[] = {
    /* 0 -> 1: initial schema */
    "CREATE TABLE vendors ("
    " name TEXT PRIMARY KEY NOT NULL,"
    " root_pem TEXT NOT NULL,"
    " chain_pem TEXT,"
    " id_attr TEXT NOT NULL,"
    " created INTEGER NOT NULL);"
    "CREATE TABLE devices ("
    " vendor TEXT NOT NULL REFERENCES vendors(name),"
    " serial TEXT NOT NULL,"
    " state INTEGER NOT NULL,"
    " created INTEGER NOT NULL,"
    " updated INTEGER NOT NULL,"
    " PRIMARY KEY (vendor, serial)) WITHOUT ROWID;"
    "CREATE TABLE certs ("
    " serial_hex TEXT PRIMARY KEY NOT NULL,"
    " subject TEXT NOT NULL,"
    " issuer TEXT NOT NULL,"
    " not_before INTEGER NOT NULL,"
    " not_after INTEGER NOT NULL,"
    " status INTEGER NOT NULL,"
    " vendor TEXT,"
    " device TEXT,"
    " der BLOB NOT NULL,"
    " created INTEGER NOT NULL);"
    "CREATE INDEX certs_created ON certs (created);"
    "CREATE TABLE txns ("
    " tid BLOB PRIMARY KEY NOT NULL,"
    " state INTEGER NOT NULL,"
    " body_type INTEGER NOT NULL,"
    " sender BLOB,"
    " auth_id BLOB,"
    " last_nonce BLOB,"
    " cert_serial TEXT,"
    " cert_req_id INTEGER NOT NULL,"
    " pvno INTEGER NOT NULL,"
    " expires INTEGER NOT NULL);"
    "CREATE INDEX txns_expires ON txns (expires);"
    "CREATE TABLE nonces ("
    " nonce BLOB PRIMARY KEY NOT NULL,"
    " expires INTEGER NOT NULL) WITHOUT ROWID;"
    "CREATE INDEX nonces_expires ON nonces (expires);",
    /* 1 -> 2: revocation, CRLs, manual approval, profiles, kur */
    "ALTER TABLE certs ADD COLUMN revoked_at INTEGER;"
    "ALTER TABLE certs ADD COLUMN reason INTEGER;"
    "ALTER TABLE certs ADD COLUMN profile TEXT;"
    "CREATE INDEX certs_revoked ON certs (serial_hex)"
    " WHERE revoked_at IS NOT NULL;"
    "CREATE INDEX certs_device ON certs (vendor, device);"
    "CREATE TABLE crls ("
    " name TEXT PRIMARY KEY NOT NULL,"
    " number INTEGER NOT NULL,"
    " this_update INTEGER,"
    " next_update INTEGER,"
    " der BLOB);"
    "ALTER TABLE devices ADD COLUMN approval INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE txns ADD COLUMN request BLOB;"
    "ALTER TABLE txns ADD COLUMN old_serial TEXT;"
    "ALTER TABLE txns ADD COLUMN profile TEXT;",
    /* 2 -> 3: RAs, shared secrets, the RA behind a certificate */
    "CREATE TABLE ras ("
    " name TEXT PRIMARY KEY NOT NULL,"
    " cert_pem TEXT NOT NULL,"
    " vendors TEXT NOT NULL,"
    " may_raverify INTEGER NOT NULL,"
    " may_revoke INTEGER NOT NULL,"
    " created INTEGER NOT NULL);"
    "CREATE TABLE secrets ("
    " kid BLOB PRIMARY KEY NOT NULL,"
    " vendor TEXT NOT NULL,"
    " device TEXT NOT NULL,"
    " sealed BLOB NOT NULL,"
    " single_use INTEGER NOT NULL,"
    " used INTEGER NOT NULL DEFAULT 0,"
    " created INTEGER NOT NULL,"
    " FOREIGN KEY (vendor, device) REFERENCES devices (vendor, serial));"
    "CREATE INDEX secrets_device ON secrets (vendor, device);"
    "ALTER TABLE certs ADD COLUMN ra TEXT;",
    /* 3 -> 4: the hash-chained audit log */
    "CREATE TABLE audit ("
    " seq INTEGER PRIMARY KEY NOT NULL,"
    " at INTEGER NOT NULL,"
    " actor TEXT NOT NULL,"
    " action TEXT NOT NULL,"
    " outcome TEXT NOT NULL,"
    " vendor TEXT,"
    " device TEXT,"
    " serial TEXT,"
    " detail TEXT,"
    " hash BLOB NOT NULL);"
    "CREATE INDEX audit_device ON audit (vendor, device);"
    "CREATE INDEX audit_serial ON audit (serial);"
    "CREATE INDEX audit_at ON audit (at);",
    /* 4 -> 5: transactionIDs seen (replay of whole requests), open
     * transactions per signer */
    "CREATE TABLE tids ("
    " tid BLOB PRIMARY KEY NOT NULL,"
    " expires INTEGER NOT NULL) WITHOUT ROWID;"
    "CREATE INDEX tids_expires ON tids (expires);"
    "CREATE INDEX txns_auth ON txns (auth_id, state, expires);",
    /* 5 -> 6: a vendor's CRL for its device certificates */
    "ALTER TABLE vendors ADD COLUMN crl_pem TEXT;",
};

#define SQ_SCHEMA_VERSION                                                      \
    ((int)(sizeof(sq_migrations) / sizeof(sq_migrations[0])))

int sq_oom(struct cmpca_err *err)
{
    return cmpca_err_set(err, FI_SYSTEM_FAILURE, "store: out of memory");
}

int sq_fail(sqlite3 *db, int rc, const char *what, struct cmpca_err *err)
{
    int primary = rc & 0xff;
    int fi = FI_SYSTEM_FAILURE;
    const char *msg = db != NULL ? sqlite3_errmsg(db) : sqlite3_errstr(rc);

    switch (primary) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_CANTOPEN:
    case SQLITE_PROTOCOL:
    case SQLITE_READONLY:
        fi = FI_SYSTEM_UNAVAIL;
        break;
    default:
        break;
    }
    cmpca_err_set(err, fi, "store: %s: %s", what, msg);
    return primary == SQLITE_BUSY || primary == SQLITE_LOCKED ? SQ_RETRY : -1;
}

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

/* exec_simple runs SQL without results (BEGIN, COMMIT, PRAGMA setters). */
static int exec_simple(sqlite3 *db, const char *sql, struct cmpca_err *err)
{
    int rc = sqlite3_exec(db, sql, NULL, NULL, NULL);

    if (rc != SQLITE_OK)
        return sq_fail(db, rc, sql, err);
    return 0;
}

static void conn_close(struct sq_conn *c)
{
    if (c == NULL)
        return;
    for (int i = 0; i < SQ_NUM_STMTS; i++)
        sqlite3_finalize(c->stmt[i]);
    sqlite3_close(c->db);
    free(c);
}

static int conn_open(const struct store *st, struct sq_conn **out,
                     struct cmpca_err *err)
{
    const int flags =
        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    struct sq_conn *c = NULL;
    int rc, ret = -1;

    *out = NULL;
    if ((c = calloc(1, sizeof(*c))) == NULL)
        return sq_oom(err);
    rc = sqlite3_open_v2(st->path, &c->db, flags, NULL);
    if (rc != SQLITE_OK) {
        if (c->db == NULL)
            sq_oom(err);
        else
            sq_fail(c->db, rc, "cannot open database", err);
        goto done;
    }
    sqlite3_extended_result_codes(c->db, 1);
    sqlite3_busy_timeout(c->db, SQ_BUSY_MS);
    if (exec_simple(c->db, "PRAGMA foreign_keys = ON", err) != 0 ||
        exec_simple(c->db, "PRAGMA synchronous = FULL", err) != 0)
        goto done;
    *out = c;
    c = NULL;
    ret = 0;

done:
    conn_close(c);
    return ret;
}

/* sq_acquire hands the calling thread a connection of its own. */
static int sq_acquire(struct store *st, struct sq_conn **out,
                      struct cmpca_err *err)
{
    struct sq_conn *c;

    pthread_mutex_lock(&st->lock);
    c = st->idle;
    if (c != NULL) {
        st->idle = c->next;
        st->num_idle--;
    }
    pthread_mutex_unlock(&st->lock);
    if (c != NULL) {
        c->next = NULL;
        *out = c;
        return 0;
    }
    return conn_open(st, out, err);
}

/* sq_release gives `c` back; a connection left inside a transaction (which
 * the drivers never do) or beyond the idle limit is closed instead. */
static void sq_release(struct store *st, struct sq_conn *c)
{
    if (c == NULL)
        return;
    if (!sqlite3_get_autocommit(c->db)) {
        sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
        if (!sqlite3_get_autocommit(c->db)) {
            conn_close(c);
            return;
        }
    }
    pthread_mutex_lock(&st->lock);
    if (st->num_idle < st->max_idle) {
        c->next = st->idle;
        st->idle = c;
        st->num_idle++;
        c = NULL;
    }
    pthread_mutex_unlock(&st->lock);
    conn_close(c);
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

/* write_lock queues this process's writers on a mutex: SQLite's busy
 * handler polls with sleeps of up to 100 ms, a mutex hands over at once.
 * Other processes are still waited out by the busy handler. */
static int write_lock(struct store *st, struct cmpca_err *err)
{
    struct timespec until;
    int rc;

    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += SQ_BUSY_MS / 1000;
    if ((rc = pthread_mutex_timedlock(&st->write_lock, &until)) == 0)
        return 0;
    return cmpca_err_set(err, FI_SYSTEM_UNAVAIL,
                         "store: no write turn within %d s (error %d)",
                         SQ_BUSY_MS / 1000, rc);
}

int sq_write(struct store *st, sq_work_fn fn, void *arg, struct cmpca_err *err)
{
    struct sq_conn *c = NULL;
    long long deadline = mono_ms() + SQ_BUSY_MS;
    int ret;

    if (sq_acquire(st, &c, err) != 0)
        return -1;
    if (write_lock(st, err) != 0) {
        sq_release(st, c);
        return -1;
    }
    for (int attempt = 0;; attempt++) {
        ret = exec_simple(c->db, "BEGIN IMMEDIATE", err);
        if (ret == 0) {
            ret = fn(c, arg, err);
            if (ret == 0)
                ret = exec_simple(c->db, "COMMIT", err);
            if (ret != 0 && !sqlite3_get_autocommit(c->db))
                sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
        }
        if (ret != SQ_RETRY)
            break;
        if (!backoff(deadline, attempt)) {
            ret = -1; /* err says busy/locked: systemUnavail */
            break;
        }
    }
    pthread_mutex_unlock(&st->write_lock);
    sq_release(st, c);
    return ret;
}

int sq_read(struct store *st, sq_work_fn fn, void *arg, struct cmpca_err *err)
{
    struct sq_conn *c = NULL;
    long long deadline = mono_ms() + SQ_BUSY_MS;
    int ret;

    if (sq_acquire(st, &c, err) != 0)
        return -1;
    for (int attempt = 0;; attempt++) {
        ret = fn(c, arg, err);
        if (ret != SQ_RETRY)
            break;
        if (!backoff(deadline, attempt)) {
            ret = -1;
            break;
        }
    }
    sq_release(st, c);
    return ret;
}

sqlite3_stmt *sq_stmt(struct sq_conn *c, enum sq_stmt_id id, const char *sql,
                      int *rc, struct cmpca_err *err)
{
    *rc = SQLITE_OK;
    if (c->stmt[id] == NULL) {
        *rc = sqlite3_prepare_v3(c->db, sql, -1, SQLITE_PREPARE_PERSISTENT,
                                 &c->stmt[id], NULL);
        if (*rc != SQLITE_OK) {
            sq_fail(c->db, *rc, "prepare", err);
            sqlite3_finalize(c->stmt[id]);
            c->stmt[id] = NULL;
        }
    }
    return c->stmt[id];
}

void sq_done(sqlite3_stmt *s)
{
    if (s == NULL)
        return;
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
}

int sq_exec_changes(struct sq_conn *c, sqlite3_stmt *s, const char *what,
                    int *changes, int *rc, struct cmpca_err *err)
{
    int ret = 0;

    *rc = sqlite3_step(s);
    if (*rc == SQLITE_DONE) {
        *rc = SQLITE_OK;
        if (changes != NULL)
            *changes = sqlite3_changes(c->db);
    } else {
        ret = sq_fail(c->db, *rc, what, err);
    }
    sq_done(s);
    return ret;
}

/* set_wal switches the file to WAL; persistent, so once per store_open. */
static int set_wal(struct sq_conn *c, void *arg, struct cmpca_err *err)
{
    sqlite3_stmt *s = NULL;
    const char *mode;
    int rc, ret = -1;

    rc = sqlite3_prepare_v2(c->db, "PRAGMA journal_mode = WAL", -1, &s, NULL);
    if (rc != SQLITE_OK) {
        ret = sq_fail(c->db, rc, "journal_mode", err);
        goto done;
    }
    rc = sqlite3_step(s);
    if (rc != SQLITE_ROW) {
        ret = sq_fail(c->db, rc, "journal_mode", err);
        goto done;
    }
    mode = (const char *)sqlite3_column_text(s, 0);
    if (mode == NULL || strcmp(mode, "wal") != 0) {
        cmpca_err_set(err, FI_SYSTEM_FAILURE,
                      "store: cannot use WAL (journal mode is %s); the "
                      "database must be a file on a local file system",
                      mode != NULL ? mode : "unknown");
        goto done;
    }
    ret = 0;

done:
    sqlite3_finalize(s);
    return ret;
}

static int read_user_version(sqlite3 *db, int *out, struct cmpca_err *err)
{
    sqlite3_stmt *s = NULL;
    int rc, ret = -1;

    rc = sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &s, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(s);
    if (rc != SQLITE_ROW) {
        ret = sq_fail(db, rc, "user_version", err);
        goto done;
    }
    *out = sqlite3_column_int(s, 0);
    ret = 0;

done:
    sqlite3_finalize(s);
    return ret;
}

/* migrate runs inside BEGIN IMMEDIATE, so two processes opening a fresh
 * file at once migrate it once: the second sees the new version. */
static int migrate(struct sq_conn *c, void *arg, struct cmpca_err *err)
{
    int *out_version = arg;
    int version = 0, ret;
    char sql[64];

    if ((ret = read_user_version(c->db, &version, err)) != 0)
        return ret;
    if (version > SQ_SCHEMA_VERSION)
        return cmpca_err_set(err, FI_SYSTEM_FAILURE,
                             "store: database schema version %d is newer "
                             "than this cmpca supports (%d); use a newer "
                             "cmpca or another database",
                             version, SQ_SCHEMA_VERSION);
    if (version < 0)
        return cmpca_err_set(err, FI_SYSTEM_FAILURE,
                             "store: database schema version %d is invalid",
                             version);
    for (int v = version; v < SQ_SCHEMA_VERSION; v++) {
        if ((ret = exec_simple(c->db, sq_migrations[v], err)) != 0)
            return ret;
    }
    if (version < SQ_SCHEMA_VERSION) {
        snprintf(sql, sizeof(sql), "PRAGMA user_version = %d",
                 SQ_SCHEMA_VERSION);
        if ((ret = exec_simple(c->db, sql, err)) != 0)
            return ret;
        log_info("store: schema migrated from version %d to %d", version,
                 SQ_SCHEMA_VERSION);
    }
    *out_version = SQ_SCHEMA_VERSION;
    return 0;
}

/* uri_path returns the file part of `uri`, or NULL for a "postgres:" URI
 * that is not a postgresql:// or postgres:// URL (never a file name). */
static const char *uri_path(const char *uri)
{
    static const char prefix[] = "sqlite:";

    if (strncmp(uri, prefix, sizeof(prefix) - 1) == 0)
        return uri + sizeof(prefix) - 1;
    if (strncmp(uri, "postgres:", 9) == 0 ||
        strncmp(uri, "postgresql:", 11) == 0)
        return NULL;
    return uri;
}

/* open_pg opens a store backed by PostgreSQL (store_pg*.c). */
static int open_pg(const char *uri, int pool, struct store **out,
                   struct cmpca_err *err)
{
    struct store *st = calloc(1, sizeof(*st));

    if (st == NULL)
        return sq_oom(err);
    if (pgs_open(uri, pool, &st->pg, &st->schema_version, err) != 0) {
        free(st);
        return -1;
    }
    *out = st;
    return 0;
}

int store_open(const char *uri, struct store **out, struct cmpca_err *err)
{
    return store_open_pool(uri, 0, out, err);
}

int store_open_pool(const char *uri, int pool, struct store **out,
                    struct cmpca_err *err)
{
    struct store *st = NULL;
    const char *path;
    int ret = -1;

    *out = NULL;
    if (pgs_is_uri(uri))
        return open_pg(uri, pool, out, err);
    if (uri == NULL || (path = uri_path(uri)) == NULL)
        return cmpca_err_set(err, FI_SYSTEM_FAILURE,
                             "store: unsupported database URI \"%s\"",
                             uri != NULL ? uri : "(null)");
    if (*path == '\0')
        return cmpca_err_set(err, FI_SYSTEM_FAILURE,
                             "store: empty database path");
    if (!sqlite3_threadsafe())
        return cmpca_err_set(err, FI_SYSTEM_FAILURE,
                             "store: SQLite was built without threads");
    if ((st = calloc(1, sizeof(*st))) == NULL)
        return sq_oom(err);
    if (pthread_mutex_init(&st->lock, NULL) != 0) {
        free(st);
        return cmpca_err_set(err, FI_SYSTEM_FAILURE, "store: mutex init");
    }
    if (pthread_mutex_init(&st->write_lock, NULL) != 0) {
        pthread_mutex_destroy(&st->lock);
        free(st);
        return cmpca_err_set(err, FI_SYSTEM_FAILURE, "store: mutex init");
    }
    st->max_idle = SQ_MAX_IDLE;
    if ((st->path = strdup(path)) == NULL) {
        sq_oom(err);
        goto done;
    }
    if (sq_read(st, set_wal, NULL, err) != 0 ||
        sq_write(st, migrate, &st->schema_version, err) != 0)
        goto done;
    *out = st;
    st = NULL;
    ret = 0;

done:
    store_close(st);
    return ret;
}

void store_close(struct store *st)
{
    struct sq_conn *c;

    if (st == NULL)
        return;
    if (st->pg != NULL) {
        pgs_close(st->pg);
        free(st);
        return;
    }
    while ((c = st->idle) != NULL) {
        st->idle = c->next;
        conn_close(c);
    }
    pthread_mutex_destroy(&st->lock);
    pthread_mutex_destroy(&st->write_lock);
    free(st->path);
    free(st);
}

int store_schema_version(struct store *st)
{
    return st != NULL ? st->schema_version : -1;
}
