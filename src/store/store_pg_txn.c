/*
 * store_pg_txn.c: CMP transactions and the replay tables (nonces, tids) on
 * PostgreSQL; the front and the meaning of "open" are in
 * store_sqlite_txn.c. Written on almost every request, so each call is one
 * short transaction over prepared statements.
 *
 * Where SQLite has one writer at a time, here the unique keys decide: two
 * requests opening one transactionID at once both INSERT ... ON CONFLICT DO
 * NOTHING, the second waits for the first to commit and then inserts
 * nothing (STORE_EXISTS). The replay tables are the same upsert that only
 * overwrites an expired row, so of two requests carrying one nonce exactly
 * one gets 0. Expiring transactions deletes and collects their unconfirmed
 * certificates in one statement. Expired nonces and tids are deleted on a
 * connection's first call and then every PG_PRUNE_EVERY calls, as SQLite's.
 */
#include "store/store_pg_local.h"
#include "util/log.h"

#include <stdlib.h>
#include <string.h>

#define PG_PRUNE_EVERY 1000

#define TXN_COLS                                                               \
    "tid, state, body_type, sender, auth_id, last_nonce, "                     \
    "cert_serial, cert_req_id, pvno, expires, request, old_serial, profile"

/* make_room deletes a row with this tid that is no longer open, so the
 * INSERT that follows does nothing only when an open one is in the way. */
static int make_room(struct pg_conn *c, const struct store_txn *t,
                     struct cmpca_err *err)
{
    struct pg_params p;
    PGresult *r = NULL;
    const char *old;
    int ret;

    pgp_init(&p);
    pgp_bytes(&p, t->tid, t->tid_len);
    pgp_int(&p, (long long)time(NULL));
    ret = pg_run(c, PG_TXN_DELETE,
                 "DELETE FROM txns WHERE tid = $1 AND (state <> 0 OR"
                 " expires <= $2) RETURNING state, cert_serial",
                 &p, "transaction replace", &r, err);
    if (ret != 0)
        return ret;
    for (int i = 0; i < PQntuples(r); i++) {
        old = pg_col_str(r, i, 1);
        if (pg_col_int(r, i, 0) == TXN_WAIT_CONF && old != NULL)
            log_warn("store: expired transaction replaced before "
                     "store_txn_expire saw it; certificate %s may "
                     "still be unconfirmed",
                     old);
    }
    PQclear(r);
    return 0;
}

static int txn_insert(struct pg_conn *c, const struct store_txn *t,
                      const char *serial, struct cmpca_err *err)
{
    struct pg_params p;
    long n = 0;
    int ret;

    pgp_init(&p);
    pgp_bytes(&p, t->tid, t->tid_len);
    pgp_int(&p, t->state);
    pgp_int(&p, t->body_type);
    pgp_bytes(&p, t->sender, t->sender_len);
    pgp_bytes(&p, t->auth_id, t->auth_id_len);
    pgp_bytes(&p, t->last_nonce, t->last_nonce_len);
    pgp_text(&p, *serial != '\0' ? serial : NULL);
    pgp_int(&p, t->cert_req_id);
    pgp_int(&p, t->pvno);
    pgp_int(&p, (long long)t->expires);
    pgp_bytes(&p, t->request, t->request_len);
    pgp_text(&p, t->old_serial);
    pgp_text(&p, t->profile);
    ret = pg_run_changes(c, PG_TXN_INSERT,
                         "INSERT INTO txns (" TXN_COLS ") VALUES ($1, $2, $3,"
                         " $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
                         " ON CONFLICT (tid) DO NOTHING",
                         &p, "transaction insert", &n, err);
    if (ret != 0)
        return ret;
    return n > 0 ? 0 : STORE_EXISTS;
}

struct issue_args {
    const struct store_cert *cert; /* NULL for store_txn_create */
    const struct store_txn *txn;
    const char *serial;
    int txn_in_use;
};

/* The tid first, as in SQLite: if both collide, the caller learns
 * transactionIdInUse without drawing (and signing) a new serial. */
static int issue_work(struct pg_conn *c, void *arg, struct cmpca_err *err)
{
    struct issue_args *a = arg;
    int ret;

    a->txn_in_use = 0;
    if ((ret = make_room(c, a->txn, err)) != 0)
        return ret;
    if ((ret = txn_insert(c, a->txn, a->serial, err)) == STORE_EXISTS)
        a->txn_in_use = 1;
    if (ret != 0 || a->cert == NULL)
        return ret;
    ret = pgc_cert_finalize(c, a->cert, a->serial, err);
    if (ret == STORE_NOTFOUND) /* issued without a reservation */
        ret = pgc_cert_insert(c, a->cert, a->serial, err);
    return ret;
}

int pgs_txn_issue(struct pg_store *pg, const struct store_cert *cert,
                  const struct store_txn *t, const char *serial,
                  int *txn_in_use, struct cmpca_err *err)
{
    struct issue_args a = {cert, t, serial, 0};
    int ret = pg_write(pg, issue_work, &a, err);

    if (txn_in_use != NULL)
        *txn_in_use = ret == STORE_EXISTS ? a.txn_in_use : 0;
    return ret;
}

static int txn_from_row(const PGresult *r, struct store_txn *t,
                        struct cmpca_err *err)
{
    memset(t, 0, sizeof(*t));
    if (pg_col_blob(r, 0, 0, &t->tid, &t->tid_len, err) != 0 ||
        pg_col_blob(r, 0, 3, &t->sender, &t->sender_len, err) != 0 ||
        pg_col_blob(r, 0, 4, &t->auth_id, &t->auth_id_len, err) != 0 ||
        pg_col_blob(r, 0, 5, &t->last_nonce, &t->last_nonce_len, err) != 0 ||
        pg_col_text(r, 0, 6, &t->cert_serial, err) != 0 ||
        pg_col_blob(r, 0, 10, &t->request, &t->request_len, err) != 0 ||
        pg_col_text(r, 0, 11, &t->old_serial, err) != 0 ||
        pg_col_text(r, 0, 12, &t->profile, err) != 0) {
        store_txn_clear(t);
        return -1;
    }
    t->state = (int)pg_col_int(r, 0, 1);
    t->body_type = (int)pg_col_int(r, 0, 2);
    t->cert_req_id = (long)pg_col_int(r, 0, 7);
    t->pvno = (int)pg_col_int(r, 0, 8);
    t->expires = (time_t)pg_col_int(r, 0, 9);
    return 0;
}

int pgs_txn_get(struct pg_store *pg, const uint8_t *tid, size_t tid_len,
                struct store_txn *out, struct cmpca_err *err)
{
    struct pg_params p;
    PGresult *r = NULL;
    int ret;

    pgp_init(&p);
    pgp_bytes(&p, tid, tid_len);
    pgp_int(&p, (long long)time(NULL));
    if (pg_query(pg, PG_TXN_GET,
                 "SELECT " TXN_COLS " FROM txns WHERE tid = $1"
                 " AND expires > $2",
                 &p, "transaction get", &r, err) != 0)
        return -1;
    ret = PQntuples(r) == 0 ? STORE_NOTFOUND : txn_from_row(r, out, err);
    PQclear(r);
    return ret;
}

struct update_args {
    const uint8_t *tid;
    size_t tid_len;
    int state;
    const uint8_t *nonce;
    size_t nonce_len;
    const char *serial; /* pgs_txn_finish: the certificate, or NULL */
    int cert_status;
};

/* close_open moves an open or waiting transaction to `state`, replacing
 * the last nonce unless none is given. STORE_NOTFOUND otherwise. */
static int close_open(struct pg_conn *c, const struct update_args *a,
                      struct cmpca_err *err)
{
    struct pg_params p;
    long n = 0;
    int ret;

    pgp_init(&p);
    pgp_int(&p, a->state);
    pgp_bytes(&p, a->nonce, a->nonce_len);
    pgp_bytes(&p, a->tid, a->tid_len);
    pgp_int(&p, (long long)time(NULL));
    ret = pg_run_changes(c, PG_TXN_UPDATE,
                         "UPDATE txns SET state = $1, last_nonce ="
                         " coalesce($2, last_nonce) WHERE tid = $3"
                         " AND state IN (0, 2) AND expires > $4",
                         &p, "transaction update", &n, err);
    if (ret != 0)
        return ret;
    return n > 0 ? 0 : STORE_NOTFOUND;
}

static int update_work(struct pg_conn *c, void *arg, struct cmpca_err *err)
{
    const struct update_args *a = arg;
    int ret;

    if ((ret = close_open(c, a, err)) != 0 || a->serial == NULL)
        return ret;
    return pgc_cert_set_status(c, a->serial, a->cert_status, err);
}

int pgs_txn_update(struct pg_store *pg, const uint8_t *tid, size_t tid_len,
                   int state, const uint8_t *nonce, size_t nonce_len,
                   struct cmpca_err *err)
{
    struct update_args a = {tid, tid_len, state, nonce, nonce_len, NULL, 0};

    return pg_write(pg, update_work, &a, err);
}

int pgs_txn_finish(struct pg_store *pg, const uint8_t *tid, size_t tid_len,
                   const char *serial, int cert_status, struct cmpca_err *err)
{
    struct update_args a = {tid, tid_len, TXN_DONE,   NULL,
                            0,   serial,  cert_status};

    return pg_write(pg, update_work, &a, err);
}

int pgs_txn_expire(struct pg_store *pg, time_t now, char ***serials,
                   size_t *num_serials, struct cmpca_err *err)
{
    struct pg_params p;
    PGresult *r = NULL;
    char **list = NULL;
    int rows, i;

    *serials = NULL;
    *num_serials = 0;
    pgp_init(&p);
    pgp_int(&p, (long long)now);
    /* one statement: the rows deleted are the rows whose serials we list */
    if (pg_write_query(pg, PG_TXN_DELETE_EXPIRED,
                       "WITH gone AS (DELETE FROM txns WHERE expires <= $1"
                       " RETURNING cert_serial)"
                       " SELECT c.serial_hex FROM gone JOIN certs c"
                       " ON c.serial_hex = gone.cert_serial"
                       " WHERE c.status = 0",
                       &p, "transaction expiry", &r, err) != 0)
        return -1;
    rows = PQntuples(r);
    if (rows > 0 && (list = calloc((size_t)rows, sizeof(*list))) == NULL) {
        PQclear(r);
        return pg_oom(err);
    }
    for (i = 0; i < rows; i++)
        if (pg_col_text(r, i, 0, &list[i], err) != 0)
            break;
    PQclear(r);
    if (i < rows) {
        while (i-- > 0)
            free(list[i]);
        free(list);
        return -1;
    }
    *serials = list;
    *num_serials = (size_t)rows;
    return 0;
}

int pgs_txn_count_open(struct pg_store *pg, const uint8_t *auth_id,
                       size_t auth_id_len, long long *total, long long *mine,
                       struct cmpca_err *err)
{
    struct pg_params p;
    PGresult *r = NULL;

    *total = *mine = 0;
    pgp_init(&p);
    pgp_bytes(&p, auth_id, auth_id_len);
    pgp_int(&p, (long long)time(NULL));
    if (pg_query(pg, PG_TXN_COUNT_OPEN,
                 "SELECT count(*), coalesce(sum((auth_id = $1)::integer), 0)"
                 " FROM txns WHERE state IN (0, 2) AND expires > $2",
                 &p, "transaction count", &r, err) != 0)
        return -1;
    *total = pg_col_int(r, 0, 0);
    *mine = pg_col_int(r, 0, 1);
    PQclear(r);
    return 0;
}

/* ---- nonces and transactionIDs ---- */

struct seen_args {
    int tids; /* 0: the nonces table, 1: the tids table */
    const uint8_t *value;
    size_t len;
    time_t expires;
};

static int seen_prune(struct pg_conn *c, int tids, long long now,
                      struct cmpca_err *err)
{
    struct pg_params p;

    pgp_init(&p);
    pgp_int(&p, now);
    if (tids)
        return pg_run(c, PG_TID_PRUNE, "DELETE FROM tids WHERE expires <= $1",
                      &p, "prune", NULL, err);
    return pg_run(c, PG_NONCE_PRUNE, "DELETE FROM nonces WHERE expires <= $1",
                  &p, "prune", NULL, err);
}

/* The upsert overwrites only a row whose expiry has passed, so "no row
 * changed" means a live entry: a replay. */
static int seen_work(struct pg_conn *c, void *arg, struct cmpca_err *err)
{
    const struct seen_args *a = arg;
    long long now = (long long)time(NULL);
    unsigned long *calls = a->tids ? &c->tid_calls : &c->nonce_calls;
    struct pg_params p;
    long n = 0;
    int ret;

    if ((*calls)++ % PG_PRUNE_EVERY == 0 &&
        (ret = seen_prune(c, a->tids, now, err)) != 0)
        return ret;
    pgp_init(&p);
    pgp_bytes(&p, a->value, a->len);
    pgp_int(&p, (long long)a->expires);
    pgp_int(&p, now);
    if (a->tids)
        ret = pg_run_changes(c, PG_TID_USE,
                             "INSERT INTO tids (tid, expires) VALUES ($1, $2)"
                             " ON CONFLICT (tid) DO UPDATE SET expires ="
                             " excluded.expires WHERE tids.expires <= $3",
                             &p, "replay table", &n, err);
    else
        ret = pg_run_changes(c, PG_NONCE_USE,
                             "INSERT INTO nonces (nonce, expires) VALUES ($1,"
                             " $2) ON CONFLICT (nonce) DO UPDATE SET expires ="
                             " excluded.expires WHERE nonces.expires <= $3",
                             &p, "replay table", &n, err);
    if (ret != 0)
        return ret;
    return n > 0 ? 0 : STORE_EXISTS;
}

int pgs_seen_use(struct pg_store *pg, int tids, const uint8_t *value,
                 size_t len, time_t expires, struct cmpca_err *err)
{
    struct seen_args a = {tids, value, len, expires};

    return pg_write(pg, seen_work, &a, err);
}
