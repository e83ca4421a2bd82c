/*
 * store_pg_local.h: what the PostgreSQL backend files share and nobody else
 * sees: the connection pool, per-connection prepared statements, the
 * transaction drivers, one way to send a statement and wait for its answer
 * (never longer than a deadline), and parameter and column helpers.
 *
 * The pattern is the SQLite backend's: each pgs_* function packs its
 * arguments into a struct and hands a callback to pg_write() (one database
 * transaction) or pg_read() (autocommit), which deal with connections,
 * BEGIN/COMMIT/ROLLBACK, retries and a lost server.
 */
#ifndef CMPCA_STORE_PG_LOCAL_H
#define CMPCA_STORE_PG_LOCAL_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <libpq-fe.h>

#include "store/store_backend.h"

/* Work results besides 0 / STORE_NOTFOUND / STORE_EXISTS / -1. Never leave
 * the store room. */
#define PG_RETRY  (-2) /* serialization failure or deadlock: run again */
#define PG_LOST   (-3) /* the connection broke: reset it, run again once */
#define PG_UNIQUE (-4) /* unique_violation (23505), `err` set */

/* What the server may spend on one statement, and the client on waiting for
 * any answer (the server's timeout plus the round trip). */
#define PG_STATEMENT_TIMEOUT_MS 10000
#define PG_CLIENT_WAIT_MS       15000
/* How long a call waits for a free pooled connection. */
#define PG_POOL_WAIT_MS 10000
#define PG_POOL_DEFAULT 16
#define PG_POOL_MAX     1024

#define PG_MAX_PARAMS 16

/* One prepared statement per id and connection, prepared on first use. */
enum pg_stmt_id {
    PG_VENDOR_INSERT,
    PG_VENDOR_GET,
    PG_VENDOR_LIST,
    PG_VENDOR_EXISTS,
    PG_VENDOR_SET_CRL,
    PG_DEVICE_INSERT,
    PG_DEVICE_GET,
    PG_DEVICE_SET_STATE,
    PG_DEVICE_SET_APPROVAL,
    PG_DEVICE_LIST_ALL,
    PG_DEVICE_LIST_VENDOR,
    PG_CERT_INSERT,
    PG_CERT_GET,
    PG_CERT_SET_STATUS,
    PG_CERT_LIST,
    PG_CERT_COUNT,
    PG_CERT_FINALIZE,
    PG_CERT_STALE,
    PG_CERT_REVOKE,
    PG_CERT_REVOKED_PEEK,
    PG_CERT_LIST_REVOKED,
    PG_TXN_DELETE,
    PG_TXN_INSERT,
    PG_TXN_GET,
    PG_TXN_UPDATE,
    PG_TXN_EXPIRED_ISSUED,
    PG_TXN_DELETE_EXPIRED,
    PG_TXN_COUNT_OPEN,
    PG_NONCE_USE,
    PG_NONCE_PRUNE,
    PG_TID_USE,
    PG_TID_PRUNE,
    PG_CRL_NEXT_NUMBER,
    PG_CRL_SAVE,
    PG_CRL_GET,
    PG_RA_CERT_OWNER,
    PG_RA_INSERT,
    PG_RA_DELETE,
    PG_RA_LIST,
    PG_SECRET_DEVICE_LOCK,
    PG_SECRET_KID_OWNER,
    PG_SECRET_DELETE_DEVICE,
    PG_SECRET_INSERT,
    PG_SECRET_GET,
    PG_SECRET_USE,
    PG_SECRET_EXISTS,
    PG_AUDIT_LAST,
    PG_AUDIT_INSERT,
    PG_AUDIT_LIST,
    PG_NUM_STMTS,
    PG_UNPREPARED = -1 /* pg_run: send the SQL as it is, unprepared */
};

/* A connection is used by one thread at a time, for one store call. */
struct pg_conn {
    PGconn *conn;
    unsigned char prepared[PG_NUM_STMTS];
    unsigned long nonce_calls; /* store_nonce_use calls, for pruning */
    unsigned long tid_calls;   /* store_tid_use calls, for pruning */
    int broken;                /* gave up waiting: close, never reuse */
    long wait_ms;              /* answers awaited this long; 0: default */
    struct pg_conn *next;      /* idle list link */
};

struct pg_store {
    char *conninfo;          /* the URI without our own parameters */
    int pool_max;            /* connections open at most */
    int num_open;            /* open now: idle plus in use */
    pthread_mutex_t lock;    /* guards idle, num_open */
    pthread_cond_t released; /* a connection came back or closed */
    struct pg_conn *idle;
};

/* Parameters of one statement: text (format 0) or bytea (format 1). */
struct pg_params {
    int num;
    const char *val[PG_MAX_PARAMS];
    int len[PG_MAX_PARAMS];
    int fmt[PG_MAX_PARAMS];
    char buf[PG_MAX_PARAMS][24]; /* integers, as text */
};

/* Work run inside one transaction (pg_write) or in autocommit (pg_read).
 * Returns 0, STORE_NOTFOUND, STORE_EXISTS, -1, PG_RETRY, PG_LOST or
 * PG_UNIQUE; it may run more than once, so it resets its outputs first. */
typedef int (*pg_work_fn)(struct pg_conn *c, void *arg, struct cmpca_err *err);

/* pg_write runs `fn` between BEGIN and COMMIT; any non-zero result rolls
 * back. Retries deadlocks and serialization failures until a deadline, and
 * once after resetting a connection that broke before COMMIT was sent. A
 * server that stays away is systemUnavail. */
int pg_write(struct pg_store *pg, pg_work_fn fn, void *arg,
             struct cmpca_err *err);
/* pg_read runs `fn` in autocommit mode, with the same retries. */
int pg_read(struct pg_store *pg, pg_work_fn fn, void *arg,
            struct cmpca_err *err);
/* pg_read_snapshot runs `fn` in one REPEATABLE READ, READ ONLY transaction
 * (several statements, one view of the data). */
int pg_read_snapshot(struct pg_store *pg, pg_work_fn fn, void *arg,
                     struct cmpca_err *err);

/* pg_query runs one read-only statement in autocommit mode and hands over
 * its result (*out, PQclear it). Returns 0 or -1 with `err` set. */
int pg_query(struct pg_store *pg, enum pg_stmt_id id, const char *sql,
             const struct pg_params *p, const char *what, PGresult **out,
             struct cmpca_err *err);
/* pg_write_query is pg_query for a write that returns rows (RETURNING),
 * run in its own transaction. */
int pg_write_query(struct pg_store *pg, enum pg_stmt_id id, const char *sql,
                   const struct pg_params *p, const char *what, PGresult **out,
                   struct cmpca_err *err);
/* pg_change runs one write in its own transaction; *changes (may be NULL)
 * gets the rows it touched. Returns 0 or -1 with `err` set. */
int pg_change(struct pg_store *pg, enum pg_stmt_id id, const char *sql,
              const struct pg_params *p, const char *what, long *changes,
              struct cmpca_err *err);

/* pg_run sends statement `id` (`sql`, prepared on this connection the first
 * time; PG_UNPREPARED: sent as it is) with `p` (may be NULL), waits for the
 * answer and, when `out` is not NULL, hands over the result (binary
 * columns; PQclear it). Returns 0 or a work result (-1, PG_RETRY, PG_LOST,
 * PG_UNIQUE) with `err` set; nothing in *out then. */
int pg_run(struct pg_conn *c, enum pg_stmt_id id, const char *sql,
           const struct pg_params *p, const char *what, PGresult **out,
           struct cmpca_err *err);
/* pg_run_changes is pg_run for a write; *changes gets the number of rows
 * it touched (may be NULL). */
int pg_run_changes(struct pg_conn *c, enum pg_stmt_id id, const char *sql,
                   const struct pg_params *p, const char *what, long *changes,
                   struct cmpca_err *err);
/* pg_simple runs SQL without parameters or results (BEGIN, SET, DDL). */
int pg_simple(struct pg_conn *c, const char *sql, struct cmpca_err *err);

/* Parameter builders: NULL (or zero length bytes) is SQL NULL. The values
 * are borrowed until the statement ran. */
void pgp_init(struct pg_params *p);
void pgp_text(struct pg_params *p, const char *v);
void pgp_bytes(struct pg_params *p, const uint8_t *v, size_t len);
void pgp_int(struct pg_params *p, long long v);

/* Column readers of binary results. pg_col_int decodes bool and 2, 4 or 8
 * octet integers (0 for NULL); pg_col_str borrows the text (NULL for
 * NULL); the copy helpers allocate (NULL for NULL, and for empty bytes)
 * and return 0 or -1 with `err` set. */
long long pg_col_int(const PGresult *r, int row, int col);
const char *pg_col_str(const PGresult *r, int row, int col);
int pg_col_text(const PGresult *r, int row, int col, char **out,
                struct cmpca_err *err);
int pg_col_blob(const PGresult *r, int row, int col, uint8_t **out,
                size_t *out_len, struct cmpca_err *err);

/* Shared by the certificate and transaction files, which change a
 * certificate and a transaction in one database transaction. `serial` is
 * normalized. Return 0, STORE_EXISTS / STORE_NOTFOUND, or a work failure. */
int pgc_cert_insert(struct pg_conn *c, const struct store_cert *cert,
                    const char *serial, struct cmpca_err *err);
/* pgc_cert_finalize turns the reservation of `serial` into `cert`;
 * STORE_NOTFOUND when there is no reservation. */
int pgc_cert_finalize(struct pg_conn *c, const struct store_cert *cert,
                      const char *serial, struct cmpca_err *err);
int pgc_cert_set_status(struct pg_conn *c, const char *serial, int status,
                        struct cmpca_err *err);

/* pg_oom fills `err` for an allocation failure and returns -1. */
int pg_oom(struct cmpca_err *err);

/* pg_migrate brings the schema to the current version under an advisory
 * lock, in one transaction; *version gets it. */
int pg_migrate(struct pg_store *pg, int *version, struct cmpca_err *err);

/* pg_fail copies the result's (or the connection's) error message into
 * `err` and classifies it: PG_LOST, PG_RETRY, PG_UNIQUE or -1. */
int pg_fail(struct pg_conn *c, const PGresult *r, const char *what,
            struct cmpca_err *err);

#endif
