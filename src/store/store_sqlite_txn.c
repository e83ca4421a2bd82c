/*
 * store_sqlite_txn.c: CMP transactions between the certificate response
 * and certConf, and the senderNonces seen for replay protection. Both are
 * written on almost every request, so each call is one short IMMEDIATE
 * transaction over cached statements. A transaction row is "open" while its
 * state is TXN_WAIT_CONF and its expiry lies ahead; only an open row blocks
 * its transactionID. store_txn_update and store_txn_finish also act on a
 * TXN_WAITING row (a request held for an operator, which the client polls);
 * the engine, not the store, keeps a waiting transactionID from reuse. Expired
 * nonces are deleted every SQ_NONCE_PRUNE_EVERY calls per connection (and on a
 * connection's first call), so the table stays near the size of one replay
 * window without a separate sweeper.
 */
#include "store/store_sqlite_local.h"
#include "util/log.h"

#include <stdlib.h>
#include <string.h>

#define SQ_NONCE_PRUNE_EVERY 1000

#define TXN_COLS                                                               \
    "tid, state, body_type, sender, auth_id, last_nonce, "                     \
    "cert_serial, cert_req_id, pvno, expires, request, old_serial, profile"

static int txn_check(const struct store_txn *t, char serial[SQ_SERIAL_BUF],
                     struct cmpca_err *err)
{
    if (t == NULL || t->tid == NULL || t->tid_len == 0)
        return cmpca_err_set(err, FI_SYSTEM_FAILURE,
                             "store: transaction needs a transactionID");
    if (t->state != TXN_WAIT_CONF && t->state != TXN_DONE &&
        t->state != TXN_WAITING)
        return cmpca_err_set(err, FI_SYSTEM_FAILURE,
                             "store: invalid transaction state %d", t->state);
    serial[0] = '\0';
    if (t->cert_serial != NULL && sq_serial_norm(t->cert_serial, serial) != 0)
        return cmpca_err_set(err, FI_SYSTEM_FAILURE,
                             "store: transaction certificate serial is not "
                             "hex");
    return 0;
}

/* txn_make_room deletes a row with this tid that is no longer open, so the
 * following INSERT fails only when an open one is in the way. */
static int txn_make_room(struct sq_conn *c, const struct store_txn *t,
                         sqlite3_int64 now, struct cmpca_err *err)
{
    sqlite3_stmt *s;
    int rc, ret = 0;

    s = sq_stmt(c, SQ_TXN_DELETE,
                "DELETE FROM txns WHERE tid = ? AND (state <> 0 OR expires "
                "<= ?) RETURNING state, cert_serial",
                &rc, err);
    if (s == NULL)
        return sq_fail(c->db, rc, "transaction replace", err);
    if ((rc = sq_bind_blob(s, 1, t->tid, t->tid_len)) == SQLITE_OK &&
        (rc = sqlite3_bind_int64(s, 2, now)) == SQLITE_OK) {
        while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
            const char *old = (const char *)sqlite3_column_text(s, 1);

            if (sqlite3_column_int(s, 0) == TXN_WAIT_CONF && old != NULL)
                log_warn("store: expired transaction replaced before "
                         "store_txn_expire saw it; certificate %s may "
                         "still be unconfirmed",
                         old);
        }
    }
    if (rc != SQLITE_DONE)
        ret = sq_fail(c->db, rc, "transaction replace", err);
    sq_done(s);
    return ret;
}

/* txn_insert writes `t` with certificate serial `serial` ("" for none).
 * STORE_EXISTS when an open transaction holds the tid. */
static int txn_insert(struct sq_conn *c, const struct store_txn *t,
                      const char *serial, struct cmpca_err *err)
{
    sqlite3_stmt *s;
    int rc;

    s = sq_stmt(c, SQ_TXN_INSERT,
                "INSERT INTO txns (" TXN_COLS
                ") VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                &rc, err);
    if (s == NULL)
        return sq_fail(c->db, rc, "transaction insert", err);
    if ((rc = sq_bind_blob(s, 1, t->tid, t->tid_len)) != SQLITE_OK ||
        (rc = sqlite3_bind_int(s, 2, t->state)) != SQLITE_OK ||
        (rc = sqlite3_bind_int(s, 3, t->body_type)) != SQLITE_OK ||
        (rc = sq_bind_blob(s, 4, t->sender, t->sender_len)) != SQLITE_OK ||
        (rc = sq_bind_blob(s, 5, t->auth_id, t->auth_id_len)) != SQLITE_OK ||
        (rc = sq_bind_blob(s, 6, t->last_nonce, t->last_nonce_len)) !=
            SQLITE_OK ||
        (rc = sq_bind_text(s, 7, *serial != '\0' ? serial : NULL)) !=
            SQLITE_OK ||
        (rc = sqlite3_bind_int64(s, 8, t->cert_req_id)) != SQLITE_OK ||
        (rc = sqlite3_bind_int(s, 9, t->pvno)) != SQLITE_OK ||
        (rc = sqlite3_bind_int64(s, 10, (sqlite3_int64)t->expires)) !=
            SQLITE_OK ||
        (rc = sq_bind_blob(s, 11, t->request, t->request_len)) != SQLITE_OK ||
        (rc = sq_bind_text(s, 12, t->old_serial)) != SQLITE_OK ||
        (rc = sq_bind_text(s, 13, t->profile)) != SQLITE_OK) {
        sq_done(s);
        return sq_fail(c->db, rc, "transaction insert", err);
    }
    if (sq_exec_changes(c, s, "transaction insert", NULL, &rc, err) == 0)
        return 0;
    if (rc == SQLITE_CONSTRAINT_PRIMARYKEY || rc == SQLITE_CONSTRAINT_UNIQUE)
        return STORE_EXISTS;
    return sq_fail(c->db, rc, "transaction insert", err);
}

struct txn_issue_args {
    const struct store_cert *cert; /* NULL for store_txn_create */
    const struct store_txn *txn;
    const char *serial; /* normalized: the certificate's, else the txn's */
    int txn_in_use;
};

/* The tid is checked before the certificate: if both collide, the caller
 * learns transactionIdInUse without drawing (and signing) a new serial. */
static int txn_issue_work(struct sq_conn *c, void *arg, struct cmpca_err *err)
{
    struct txn_issue_args *a = arg;
    int ret;

    a->txn_in_use = 0;
    if ((ret = txn_make_room(c, a->txn, (sqlite3_int64)time(NULL), err)) != 0)
        return ret;
    ret = txn_insert(c, a->txn, a->serial, err);
    if (ret == STORE_EXISTS)
        a->txn_in_use = 1;
    if (ret != 0 || a->cert == NULL)
        return ret;
    ret = sq_cert_finalize(c, a->cert, a->serial, err);
    if (ret == STORE_NOTFOUND) /* issued without a reservation */
        ret = sq_cert_insert(c, a->cert, a->serial, err);
    return ret;
}

int store_txn_create(struct store *st, const struct store_txn *t,
                     struct cmpca_err *err)
{
    char serial[SQ_SERIAL_BUF];
    struct txn_issue_args a = {NULL, t, serial, 0};

    if (txn_check(t, serial, err) != 0)
        return -1;
    if (st->pg != NULL)
        return pgs_txn_issue(st->pg, NULL, t, serial, NULL, err);
    return sq_write(st, txn_issue_work, &a, err);
}

int store_issue(struct store *st, const struct store_cert *c,
                const struct store_txn *t, int *txn_in_use,
                struct cmpca_err *err)
{
    char serial[SQ_SERIAL_BUF], ignored[SQ_SERIAL_BUF];
    struct txn_issue_args a = {c, t, serial, 0};
    int ret;

    if (txn_in_use != NULL)
        *txn_in_use = 0;
    if (sq_cert_check(c, serial, err) != 0 || txn_check(t, ignored, err) != 0)
        return -1;
    ret = st->pg != NULL
              ? pgs_txn_issue(st->pg, c, t, serial, &a.txn_in_use, err)
              : sq_write(st, txn_issue_work, &a, err);
    if (ret == STORE_EXISTS && txn_in_use != NULL)
        *txn_in_use = a.txn_in_use;
    return ret;
}

static int txn_from_row(sqlite3_stmt *s, struct store_txn *t,
                        struct cmpca_err *err)
{
    memset(t, 0, sizeof(*t));
    if (sq_col_blob(s, 0, &t->tid, &t->tid_len, err) != 0 ||
        sq_col_blob(s, 3, &t->sender, &t->sender_len, err) != 0 ||
        sq_col_blob(s, 4, &t->auth_id, &t->auth_id_len, err) != 0 ||
        sq_col_blob(s, 5, &t->last_nonce, &t->last_nonce_len, err) != 0 ||
        sq_col_text(s, 6, &t->cert_serial, err) != 0 ||
        sq_col_blob(s, 10, &t->request, &t->request_len, err) != 0 ||
        sq_col_text(s, 11, &t->old_serial, err) != 0 ||
        sq_col_text(s, 12, &t->profile, err) != 0) {
        store_txn_clear(t);
        return -1;
    }
    t->state = sqlite3_column_int(s, 1);
    t->body_type = sqlite3_column_int(s, 2);
    t->cert_req_id = (long)sqlite3_column_int64(s, 7);
    t->pvno = sqlite3_column_int(s, 8);
    t->expires = (time_t)sqlite3_column_int64(s, 9);
    return 0;
}

struct txn_get_args {
    const uint8_t *tid;
    size_t tid_len;
    struct store_txn *out;
};

static int txn_get_work(struct sq_conn *c, void *arg, struct cmpca_err *err)
{
    struct txn_get_args *a = arg;
    sqlite3_stmt *s;
    int rc, ret;

    s = sq_stmt(c, SQ_TXN_GET,
                "SELECT " TXN_COLS " FROM txns WHERE tid = ? AND expires > ?",
                &rc, err);
    if (s == NULL)
        return sq_fail(c->db, rc, "transaction get", err);
    if ((rc = sq_bind_blob(s, 1, a->tid, a->tid_len)) != SQLITE_OK ||
        (rc = sqlite3_bind_int64(s, 2, (sqlite3_int64)time(NULL))) != SQLITE_OK)
        ret = sq_fail(c->db, rc, "transaction get", err);
    else if ((rc = sqlite3_step(s)) == SQLITE_ROW)
        ret = txn_from_row(s, a->out, err);
    else if (rc == SQLITE_DONE)
        ret = STORE_NOTFOUND;
    else
        ret = sq_fail(c->db, rc, "transaction get", err);
    sq_done(s);
    return ret;
}

int store_txn_get(struct store *st, const uint8_t *tid, size_t tid_len,
                  struct store_txn *out, struct cmpca_err *err)
{
    struct txn_get_args a = {tid, tid_len, out};

    memset(out, 0, sizeof(*out));
    if (tid == NULL || tid_len == 0)
        return STORE_NOTFOUND;
    if (st->pg != NULL)
        return pgs_txn_get(st->pg, tid, tid_len, out, err);
    return sq_read(st, txn_get_work, &a, err);
}

struct txn_update_args {
    const uint8_t *tid;
    size_t tid_len;
    int state;
    const uint8_t *nonce;
    size_t nonce_len;
};

/* txn_close_open moves an open transaction to `state`, replacing the last
 * nonce unless none is given. STORE_NOTFOUND unless it was open. */
static int txn_close_open(struct sq_conn *c, const struct txn_update_args *a,
                          struct cmpca_err *err)
{
    sqlite3_stmt *s;
    int rc, ret, changes = 0;

    s = sq_stmt(c, SQ_TXN_UPDATE,
                "UPDATE txns SET state = ?, last_nonce = coalesce(?, "
                "last_nonce) WHERE tid = ? AND state IN (0, 2) AND expires > ?",
                &rc, err);
    if (s == NULL)
        return sq_fail(c->db, rc, "transaction update", err);
    if ((rc = sqlite3_bind_int(s, 1, a->state)) != SQLITE_OK ||
        (rc = sq_bind_blob(s, 2, a->nonce, a->nonce_len)) != SQLITE_OK ||
        (rc = sq_bind_blob(s, 3, a->tid, a->tid_len)) != SQLITE_OK ||
        (rc = sqlite3_bind_int64(s, 4, (sqlite3_int64)time(NULL))) !=
            SQLITE_OK) {
        sq_done(s);
        return sq_fail(c->db, rc, "transaction update", err);
    }
    ret = sq_exec_changes(c, s, "transaction update", &changes, &rc, err);
    if (ret != 0)
        return ret;
    return changes > 0 ? 0 : STORE_NOTFOUND;
}

static int txn_update_work(struct sq_conn *c, void *arg, struct cmpca_err *err)
{
    return txn_close_open(c, arg, err);
}

int store_txn_update(struct store *st, const uint8_t *tid, size_t tid_len,
                     int state, const uint8_t *nonce, size_t nonce_len,
                     struct cmpca_err *err)
{
    struct txn_update_args a = {tid, tid_len, state, nonce, nonce_len};

    if (state != TXN_WAIT_CONF && state != TXN_DONE && state != TXN_WAITING)
        return cmpca_err_set(err, FI_SYSTEM_FAILURE,
                             "store: invalid transaction state %d", state);
    if (tid == NULL || tid_len == 0)
        return STORE_NOTFOUND;
    if (st->pg != NULL)
        return pgs_txn_update(st->pg, tid, tid_len, state, nonce, nonce_len,
                              err);
    return sq_write(st, txn_update_work, &a, err);
}

struct txn_finish_args {
    struct txn_update_args txn;
    const char *serial; /* normalized, or NULL */
    int cert_status;
};

static int txn_finish_work(struct sq_conn *c, void *arg, struct cmpca_err *err)
{
    struct txn_finish_args *a = arg;
    int ret;

    if ((ret = txn_close_open(c, &a->txn, err)) != 0 || a->serial == NULL)
        return ret;
    return sq_cert_set_status(c, a->serial, a->cert_status, err);
}

int store_txn_finish(struct store *st, const uint8_t *tid, size_t tid_len,
                     const char *serial_hex, int cert_status,
                     struct cmpca_err *err)
{
    char serial[SQ_SERIAL_BUF];
    struct txn_finish_args a = {{tid, tid_len, TXN_DONE, NULL, 0},
                                serial_hex != NULL ? serial : NULL,
                                cert_status};

    if (cert_status < CERT_ISSUED || cert_status > CERT_REJECTED)
        return cmpca_err_set(err, FI_SYSTEM_FAILURE,
                             "store: invalid certificate status %d",
                             cert_status);
    if (tid == NULL || tid_len == 0)
        return STORE_NOTFOUND;
    if (serial_hex != NULL && sq_serial_norm(serial_hex, serial) != 0)
        return STORE_NOTFOUND;
    if (st->pg != NULL)
        return pgs_txn_finish(st->pg, tid, tid_len, a.serial, cert_status, err);
    return sq_write(st, txn_finish_work, &a, err);
}

void store_txn_clear(struct store_txn *t)
{
    if (t == NULL)
        return;
    free(t->tid);
    free(t->sender);
    free(t->auth_id);
    free(t->last_nonce);
    free(t->cert_serial);
    free(t->request);
    free(t->old_serial);
    free(t->profile);
    memset(t, 0, sizeof(*t));
}

struct txn_expire_args {
    sqlite3_int64 now;
    char **serials;
    size_t num;
};

static void serials_free(char **serials, size_t num)
{
    for (size_t i = 0; i < num; i++)
        free(serials[i]);
    free(serials);
}

/* expired_issued collects the still-unconfirmed certificates of the
 * transactions about to be deleted. */
static int expired_issued(struct sq_conn *c, struct txn_expire_args *a,
                          struct cmpca_err *err)
{
    size_t cap = 0;
    sqlite3_stmt *s;
    int rc, ret = 0;

    s = sq_stmt(c, SQ_TXN_EXPIRED_ISSUED,
                "SELECT c.serial_hex FROM txns t JOIN certs c"
                " ON c.serial_hex = t.cert_serial"
                " WHERE t.expires <= ? AND c.status = 0",
                &rc, err);
    if (s == NULL)
        return sq_fail(c->db, rc, "transaction expiry", err);
    if ((rc = sqlite3_bind_int64(s, 1, a->now)) != SQLITE_OK) {
        sq_done(s);
        return sq_fail(c->db, rc, "transaction expiry", err);
    }
    while (ret == 0 && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (a->num == cap) {
            size_t ncap = cap == 0 ? 8 : cap * 2;
            char **n = realloc(a->serials, ncap * sizeof(*n));

            if (n == NULL) {
                ret = sq_oom(err);
                break;
            }
            a->serials = n;
            cap = ncap;
        }
        if ((ret = sq_col_text(s, 0, &a->serials[a->num], err)) == 0)
            a->num++;
    }
    if (ret == 0 && rc != SQLITE_DONE)
        ret = sq_fail(c->db, rc, "transaction expiry", err);
    sq_done(s);
    return ret;
}

static int txn_expire_work(struct sq_conn *c, void *arg, struct cmpca_err *err)
{
    struct txn_expire_args *a = arg;
    sqlite3_stmt *s;
    int rc, ret;

    serials_free(a->serials, a->num); /* from an earlier attempt */
    a->serials = NULL;
    a->num = 0;
    if ((ret = expired_issued(c, a, err)) != 0)
        return ret;
    s = sq_stmt(c, SQ_TXN_DELETE_EXPIRED, "DELETE FROM txns WHERE expires <= ?",
                &rc, err);
    if (s == NULL)
        return sq_fail(c->db, rc, "transaction expiry", err);
    if ((rc = sqlite3_bind_int64(s, 1, a->now)) != SQLITE_OK) {
        sq_done(s);
        return sq_fail(c->db, rc, "transaction expiry", err);
    }
    return sq_exec_changes(c, s, "transaction expiry", NULL, &rc, err);
}

int store_txn_expire(struct store *st, time_t now, char ***serials,
                     size_t *num_serials, struct cmpca_err *err)
{
    struct txn_expire_args a = {(sqlite3_int64)now, NULL, 0};
    int ret;

    *serials = NULL;
    *num_serials = 0;
    if (st->pg != NULL)
        return pgs_txn_expire(st->pg, now, serials, num_serials, err);
    ret = sq_write(st, txn_expire_work, &a, err);
    if (ret != 0) {
        serials_free(a.serials, a.num);
        return ret;
    }
    *serials = a.serials;
    *num_serials = a.num;
    return 0;
}

/* ---- nonces ---- */

/* Nonces and transactionIDs are remembered the same way, each in a table
 * of its own (nonce or tid, expires). */
struct seen_args {
    int tids; /* 0: the nonces table, 1: the tids table */
    const uint8_t *value;
    size_t len;
    sqlite3_int64 expires;
};

static int seen_prune(struct sq_conn *c, int tids, sqlite3_int64 now,
                      struct cmpca_err *err)
{
    sqlite3_stmt *s;
    int rc;

    s = tids ? sq_stmt(c, SQ_TID_PRUNE, "DELETE FROM tids WHERE expires <= ?",
                       &rc, err)
             : sq_stmt(c, SQ_NONCE_PRUNE,
                       "DELETE FROM nonces WHERE expires <= ?", &rc, err);
    if (s == NULL)
        return sq_fail(c->db, rc, "prune", err);
    if ((rc = sqlite3_bind_int64(s, 1, now)) != SQLITE_OK) {
        sq_done(s);
        return sq_fail(c->db, rc, "prune", err);
    }
    return sq_exec_changes(c, s, "prune", NULL, &rc, err);
}

/* A value whose row has expired but not yet been pruned counts as new:
 * the upsert only overwrites a row whose expiry has passed, so "no row
 * changed" means a live entry, i.e. a replay. */
static int seen_use_work(struct sq_conn *c, void *arg, struct cmpca_err *err)
{
    struct seen_args *a = arg;
    sqlite3_int64 now = (sqlite3_int64)time(NULL);
    unsigned long *calls = a->tids ? &c->tid_calls : &c->nonce_calls;
    sqlite3_stmt *s;
    int rc, ret, changes = 0;

    if ((*calls)++ % SQ_NONCE_PRUNE_EVERY == 0 &&
        (ret = seen_prune(c, a->tids, now, err)) != 0)
        return ret;
    s = a->tids ? sq_stmt(c, SQ_TID_USE,
                          "INSERT INTO tids (tid, expires) VALUES (?, ?)"
                          " ON CONFLICT (tid) DO UPDATE SET expires ="
                          " excluded.expires WHERE tids.expires <= ?",
                          &rc, err)
                : sq_stmt(c, SQ_NONCE_USE,
                          "INSERT INTO nonces (nonce, expires) VALUES (?, ?)"
                          " ON CONFLICT (nonce) DO UPDATE SET expires ="
                          " excluded.expires WHERE nonces.expires <= ?",
                          &rc, err);
    if (s == NULL)
        return sq_fail(c->db, rc, "replay table", err);
    if ((rc = sq_bind_blob(s, 1, a->value, a->len)) != SQLITE_OK ||
        (rc = sqlite3_bind_int64(s, 2, a->expires)) != SQLITE_OK ||
        (rc = sqlite3_bind_int64(s, 3, now)) != SQLITE_OK) {
        sq_done(s);
        return sq_fail(c->db, rc, "replay table", err);
    }
    ret = sq_exec_changes(c, s, "replay table", &changes, &rc, err);
    if (ret != 0)
        return ret;
    return changes > 0 ? 0 : STORE_EXISTS;
}

int store_nonce_use(struct store *st, const uint8_t *nonce, size_t nonce_len,
                    time_t expires, struct cmpca_err *err)
{
    struct seen_args a = {0, nonce, nonce_len, (sqlite3_int64)expires};

    if (nonce == NULL || nonce_len == 0)
        return cmpca_err_set(err, FI_SYSTEM_FAILURE, "store: empty nonce");
    if (st->pg != NULL)
        return pgs_seen_use(st->pg, 0, nonce, nonce_len, expires, err);
    return sq_write(st, seen_use_work, &a, err);
}

int store_tid_use(struct store *st, const uint8_t *tid, size_t tid_len,
                  time_t expires, struct cmpca_err *err)
{
    struct seen_args a = {1, tid, tid_len, (sqlite3_int64)expires};

    if (tid == NULL || tid_len == 0)
        return cmpca_err_set(err, FI_SYSTEM_FAILURE, "store: empty tid");
    if (st->pg != NULL)
        return pgs_seen_use(st->pg, 1, tid, tid_len, expires, err);
    return sq_write(st, seen_use_work, &a, err);
}

struct count_args {
    const uint8_t *auth_id;
    size_t auth_id_len;
    long long total;
    long long mine;
};

static int count_open_work(struct sq_conn *c, void *arg, struct cmpca_err *err)
{
    struct count_args *a = arg;
    sqlite3_stmt *s;
    int rc, ret = 0;

    s = sq_stmt(c, SQ_TXN_COUNT_OPEN,
                "SELECT count(*), coalesce(sum(auth_id = ?), 0) FROM txns"
                " WHERE state IN (0, 2) AND expires > ?",
                &rc, err);
    if (s == NULL)
        return sq_fail(c->db, rc, "transaction count", err);
    if ((rc = sq_bind_blob(s, 1, a->auth_id, a->auth_id_len)) != SQLITE_OK ||
        (rc = sqlite3_bind_int64(s, 2, (sqlite3_int64)time(NULL))) != SQLITE_OK)
        ret = sq_fail(c->db, rc, "transaction count", err);
    else if ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        a->total = sqlite3_column_int64(s, 0);
        a->mine = sqlite3_column_int64(s, 1);
    } else {
        ret = sq_fail(c->db, rc, "transaction count", err);
    }
    sq_done(s);
    return ret;
}

int store_txn_count_open(struct store *st, const uint8_t *auth_id,
                         size_t auth_id_len, long long *total, long long *mine,
                         struct cmpca_err *err)
{
    struct count_args a = {auth_id, auth_id_len, 0, 0};
    int ret;

    if (st->pg != NULL)
        return pgs_txn_count_open(st->pg, auth_id, auth_id_len, total, mine,
                                  err);
    ret = sq_read(st, count_open_work, &a, err);

    *total = a.total;
    *mine = a.mine;
    return ret;
}
