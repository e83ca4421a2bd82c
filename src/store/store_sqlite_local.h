/*
 * store_sqlite_local.h: what the SQLite backend files share and nobody else
 * sees: the connection pool, the per-connection statement cache, the
 * transaction drivers that retry on SQLITE_BUSY, and small bind/column
 * helpers. Every public store_* function packs its arguments into a struct,
 * hands a callback to sq_write() or sq_read(), and lets the driver deal with
 * connections, BEGIN IMMEDIATE/COMMIT/ROLLBACK and contention.
 */
#ifndef CMPCA_STORE_SQLITE_LOCAL_H
#define CMPCA_STORE_SQLITE_LOCAL_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <sqlite3.h>

#include "store/store.h"
#include "store/store_backend.h"

/* Returned by step helpers when SQLite said BUSY/LOCKED: the driver rolls
 * back and runs the callback again until the busy deadline passes. Never
 * leaves the store room. */
#define SQ_RETRY (-2)

/* Longest device serial we accept (bytes); the CLI reads them from files. */
#define SQ_MAX_DEVICE_SERIAL 256
/* Longest certificate serial: 64 octets, far above RFC 5280's 20, so a
 * lookup never fails on length before it fails on "not found". */
#define SQ_MAX_SERIAL_HEX 128
#define SQ_SERIAL_BUF     (SQ_MAX_SERIAL_HEX + 2)

/* One cached prepared statement per id and connection. */
enum sq_stmt_id {
    SQ_VENDOR_INSERT,
    SQ_VENDOR_GET,
    SQ_VENDOR_LIST,
    SQ_VENDOR_EXISTS,
    SQ_DEVICE_INSERT_IGNORE,
    SQ_DEVICE_GET,
    SQ_DEVICE_SET_STATE,
    SQ_DEVICE_LIST_ALL,
    SQ_DEVICE_LIST_VENDOR,
    SQ_CERT_INSERT,
    SQ_CERT_GET,
    SQ_CERT_SET_STATUS,
    SQ_CERT_LIST,
    SQ_CERT_COUNT,
    SQ_TXN_PEEK,
    SQ_TXN_DELETE,
    SQ_TXN_INSERT,
    SQ_TXN_GET,
    SQ_TXN_UPDATE,
    SQ_TXN_CLOSE,
    SQ_TXN_EXPIRED_ISSUED,
    SQ_TXN_DELETE_EXPIRED,
    SQ_NONCE_USE,
    SQ_NONCE_PRUNE,
    /* revocation and CRLs (store_sqlite_revoke.c) */
    SQ_CERT_REVOKE,
    SQ_CERT_REVOKED_PEEK,
    SQ_CERT_LIST_REVOKED,
    SQ_CRL_NEXT_NUMBER,
    SQ_CRL_SAVE,
    SQ_CRL_GET,
    /* device approval (store_sqlite_registry.c) */
    SQ_DEVICE_SET_APPROVAL,
    /* transactions, schema 2 (store_sqlite_txn.c) */
    /* RAs (store_sqlite_ra.c) */
    SQ_RA_INSERT,
    SQ_RA_CERT_OWNER,
    SQ_RA_DELETE,
    SQ_RA_LIST,
    /* shared secrets (store_sqlite_secret.c) */
    SQ_SECRET_DEVICE_EXISTS,
    SQ_SECRET_KID_OWNER,
    SQ_SECRET_DELETE_DEVICE,
    SQ_SECRET_INSERT,
    SQ_SECRET_GET,
    SQ_SECRET_USE,
    SQ_SECRET_EXISTS,
    /* audit log (store_sqlite_audit.c) */
    SQ_AUDIT_LAST,
    SQ_AUDIT_INSERT,
    SQ_AUDIT_LIST,
    SQ_AUDIT_ALL,
    /* schema 5 (store_sqlite_txn.c) */
    SQ_TID_USE,
    SQ_TID_PRUNE,
    SQ_TXN_COUNT_OPEN,
    SQ_CERT_FINALIZE,
    SQ_CERT_STALE,
    SQ_VENDOR_SET_CRL,
    SQ_NUM_STMTS
};

/* A connection is used by one thread at a time: it is taken from the pool
 * for the length of one store_* call and given back afterwards. */
struct sq_conn {
    sqlite3 *db;
    sqlite3_stmt *stmt[SQ_NUM_STMTS];
    unsigned long nonce_calls; /* store_nonce_use calls, for pruning */
    unsigned long tid_calls;   /* store_tid_use calls, for pruning */
    struct sq_conn *next;      /* idle list link */
};

struct store {
    struct pg_store *pg;        /* set: a PostgreSQL store, and each store_*
                                   function hands its checked arguments to
                                   pgs_* (store_backend.h); nothing below
                                   is used then */
    char *path;                 /* file name handed to sqlite3_open_v2 */
    int schema_version;         /* PRAGMA user_version after migrations */
    int max_idle;               /* idle connections kept open */
    pthread_mutex_t lock;       /* guards idle and num_idle */
    pthread_mutex_t write_lock; /* one writer of this process at a time */
    struct sq_conn *idle;
    int num_idle;
};

/* A unit of work run inside one database transaction (sq_write) or outside
 * any (sq_read). Returns 0, STORE_NOTFOUND, STORE_EXISTS, -1, or SQ_RETRY.
 * It may run more than once, so it must reset its outputs first. */
typedef int (*sq_work_fn)(struct sq_conn *c, void *arg, struct cmpca_err *err);

/* sq_write runs `fn` between BEGIN IMMEDIATE and COMMIT on a pooled
 * connection; any non-zero result rolls back. Retries on BUSY/LOCKED until
 * the busy timeout has passed, then fails with systemUnavail. */
int sq_write(struct store *st, sq_work_fn fn, void *arg, struct cmpca_err *err);
/* sq_read runs `fn` on a pooled connection in autocommit mode; retries on
 * BUSY like sq_write. */
int sq_read(struct store *st, sq_work_fn fn, void *arg, struct cmpca_err *err);

/* sq_stmt returns connection `c`'s cached statement `id`, preparing `sql`
 * the first time. The statement is reset and unbound; give it back with
 * sq_done. NULL with `err` set (and *rc the SQLite code) on failure. */
sqlite3_stmt *sq_stmt(struct sq_conn *c, enum sq_stmt_id id, const char *sql,
                      int *rc, struct cmpca_err *err);
/* sq_done resets `s` and clears its bindings; accepts NULL. */
void sq_done(sqlite3_stmt *s);

/* sq_fail fills `err` from SQLite's last error on `db` ("store: WHAT: ...")
 * and returns SQ_RETRY for BUSY/LOCKED, -1 otherwise. */
int sq_fail(sqlite3 *db, int rc, const char *what, struct cmpca_err *err);

/* sq_exec_changes steps a write statement to completion and stores the
 * number of rows it changed in *changes (may be NULL). Resets `s`.
 * Constraint violations come back as SQLITE_CONSTRAINT_* in *rc and -1
 * without touching `err`, so the caller can map them. */
int sq_exec_changes(struct sq_conn *c, sqlite3_stmt *s, const char *what,
                    int *changes, int *rc, struct cmpca_err *err);

/* Bind helpers: NULL (or zero length) binds SQL NULL. SQLITE_STATIC: the
 * caller's buffers outlive the statement's use. Return the SQLite code. */
int sq_bind_text(sqlite3_stmt *s, int idx, const char *v);
int sq_bind_blob(sqlite3_stmt *s, int idx, const uint8_t *v, size_t len);

/* Column helpers: copy into fresh heap memory (NULL for SQL NULL). Return
 * 0, or -1 with `err` set on allocation failure. */
int sq_col_text(sqlite3_stmt *s, int col, char **out, struct cmpca_err *err);
int sq_col_blob(sqlite3_stmt *s, int col, uint8_t **out, size_t *out_len,
                struct cmpca_err *err);

/* sq_serial_norm writes the canonical form of certificate serial `in`
 * (hex digits, any case, optional "0x", optional ':' separators) into
 * `out`: uppercase, no leading zero octets, an even number of digits, as
 * `openssl x509 -serial` prints it ("00" for zero). -1 if `in` is not hex
 * or longer than SQ_MAX_SERIAL_HEX digits. */
int sq_serial_norm(const char *in, char out[SQ_SERIAL_BUF]);

/* sq_check_device_serial rejects NULL, empty, over-long serials and
 * serials holding control characters. Returns 0 or -1 with `err` set. */
int sq_check_device_serial(const char *serial, struct cmpca_err *err);

/* Shared by store_cert_* and the transaction functions, which change a
 * certificate and a transaction row in one database transaction. `serial`
 * is already normalized. Return 0, STORE_EXISTS / STORE_NOTFOUND, -1 or
 * SQ_RETRY. */
int sq_cert_insert(struct sq_conn *c, const struct store_cert *cert,
                   const char *serial, struct cmpca_err *err);
/* sq_cert_finalize turns the reservation of `serial` into `cert`;
 * STORE_NOTFOUND when there is no reservation. */
int sq_cert_finalize(struct sq_conn *c, const struct store_cert *cert,
                     const char *serial, struct cmpca_err *err);
int sq_cert_set_status(struct sq_conn *c, const char *serial, int status,
                       struct cmpca_err *err);
/* sq_cert_check validates `cert` and writes its normalized serial. */
int sq_cert_check(const struct store_cert *cert, char serial[SQ_SERIAL_BUF],
                  struct cmpca_err *err);

/* sq_oom fills `err` for an allocation failure and returns -1. */
int sq_oom(struct cmpca_err *err);

#endif
