/*
 * store_sqlite_certs.c: the certificates this CA issued. Written once per
 * enrollment (usually through store_issue, together with its transaction),
 * read by serial for kur, revocation and the CLI. The key is the serial in
 * the one form `openssl x509 -serial` prints, so whatever spelling an
 * operator pastes finds the row; listing skips the DER blobs.
 */
#include "store/store_sqlite_local.h"

#include <stdlib.h>
#include <string.h>

/* Column order shared by the SELECTs and the row readers below; der, when
 * selected, comes right after them (CERT_COL_DER). */
#define CERT_COLS                                                              \
    "serial_hex, subject, issuer, not_before, not_after, status, "             \
    "vendor, device, created, revoked_at, reason, profile, ra"
#define CERT_COL_DER 13

static int cert_status_ok(int status)
{
    return status == CERT_ISSUED || status == CERT_CONFIRMED ||
           status == CERT_REVOKED || status == CERT_REJECTED ||
           status == CERT_RESERVED;
}

int sq_cert_check(const struct store_cert *cert, char serial[SQ_SERIAL_BUF],
                  struct cmpca_err *err)
{
    if (cert == NULL || cert->subject == NULL || cert->issuer == NULL ||
        cert->der == NULL || cert->der_len == 0)
        return cmpca_err_set(err, FI_SYSTEM_FAILURE,
                             "store: certificate needs subject, issuer, DER");
    if (sq_serial_norm(cert->serial_hex, serial) != 0)
        return cmpca_err_set(err, FI_SYSTEM_FAILURE,
                             "store: certificate serial is not hex of at "
                             "most %d digits",
                             SQ_MAX_SERIAL_HEX);
    if (!cert_status_ok(cert->status))
        return cmpca_err_set(err, FI_SYSTEM_FAILURE,
                             "store: invalid certificate status %d",
                             cert->status);
    return 0;
}

/* bind_revocation binds revoked_at and reason at `idx` and `idx + 1`: both
 * NULL for a certificate that is not revoked. */
static int bind_revocation(sqlite3_stmt *s, int idx,
                           const struct store_cert *cert)
{
    int rc;

    if (cert->revoked_at == 0) {
        if ((rc = sqlite3_bind_null(s, idx)) != SQLITE_OK)
            return rc;
        return sqlite3_bind_null(s, idx + 1);
    }
    rc = sqlite3_bind_int64(s, idx, (sqlite3_int64)cert->revoked_at);
    if (rc != SQLITE_OK)
        return rc;
    return sqlite3_bind_int(s, idx + 1, cert->reason);
}

int sq_cert_insert(struct sq_conn *c, const struct store_cert *cert,
                   const char *serial, struct cmpca_err *err)
{
    time_t created = cert->created != 0 ? cert->created : time(NULL);
    sqlite3_stmt *s;
    int rc;

    s = sq_stmt(c, SQ_CERT_INSERT,
                "INSERT INTO certs (" CERT_COLS ", der)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                &rc, err);
    if (s == NULL)
        return sq_fail(c->db, rc, "certificate insert", err);
    if ((rc = sq_bind_text(s, 1, serial)) != SQLITE_OK ||
        (rc = sq_bind_text(s, 2, cert->subject)) != SQLITE_OK ||
        (rc = sq_bind_text(s, 3, cert->issuer)) != SQLITE_OK ||
        (rc = sqlite3_bind_int64(s, 4, (sqlite3_int64)cert->not_before)) !=
            SQLITE_OK ||
        (rc = sqlite3_bind_int64(s, 5, (sqlite3_int64)cert->not_after)) !=
            SQLITE_OK ||
        (rc = sqlite3_bind_int(s, 6, cert->status)) != SQLITE_OK ||
        (rc = sq_bind_text(s, 7, cert->vendor)) != SQLITE_OK ||
        (rc = sq_bind_text(s, 8, cert->device)) != SQLITE_OK ||
        (rc = sqlite3_bind_int64(s, 9, (sqlite3_int64)created)) != SQLITE_OK ||
        (rc = bind_revocation(s, 10, cert)) != SQLITE_OK ||
        (rc = sq_bind_text(s, 12, cert->profile)) != SQLITE_OK ||
        (rc = sq_bind_text(s, 13, cert->ra)) != SQLITE_OK ||
        (rc = sq_bind_blob(s, 14, cert->der, cert->der_len)) != SQLITE_OK) {
        sq_done(s);
        return sq_fail(c->db, rc, "certificate insert", err);
    }
    if (sq_exec_changes(c, s, "certificate insert", NULL, &rc, err) == 0)
        return 0;
    if (rc == SQLITE_CONSTRAINT_PRIMARYKEY || rc == SQLITE_CONSTRAINT_UNIQUE)
        return STORE_EXISTS;
    return sq_fail(c->db, rc, "certificate insert", err);
}

int sq_cert_set_status(struct sq_conn *c, const char *serial, int status,
                       struct cmpca_err *err)
{
    sqlite3_stmt *s;
    int rc, ret, changes = 0;

    /* Revocation is final: once store_cert_revoke has set revoked_at (the
     * only function that does), the status stays what it made it, so a late
     * certConf cannot turn a revoked certificate into a confirmed one. */
    s = sq_stmt(c, SQ_CERT_SET_STATUS,
                "UPDATE certs SET"
                " status = CASE WHEN revoked_at IS NULL THEN ?1 ELSE status END"
                " WHERE serial_hex = ?2",
                &rc, err);
    if (s == NULL)
        return sq_fail(c->db, rc, "certificate status", err);
    if ((rc = sqlite3_bind_int(s, 1, status)) != SQLITE_OK ||
        (rc = sq_bind_text(s, 2, serial)) != SQLITE_OK) {
        sq_done(s);
        return sq_fail(c->db, rc, "certificate status", err);
    }
    ret = sq_exec_changes(c, s, "certificate status", &changes, &rc, err);
    if (ret != 0)
        return ret;
    return changes > 0 ? 0 : STORE_NOTFOUND;
}

struct cert_insert_args {
    const struct store_cert *cert;
    const char *serial;
};

static int cert_insert_work(struct sq_conn *c, void *arg, struct cmpca_err *err)
{
    struct cert_insert_args *a = arg;

    return sq_cert_insert(c, a->cert, a->serial, err);
}

int store_cert_insert(struct store *st, const struct store_cert *c,
                      struct cmpca_err *err)
{
    char serial[SQ_SERIAL_BUF];
    struct cert_insert_args a = {c, serial};

    if (sq_cert_check(c, serial, err) != 0)
        return -1;
    if (st->pg != NULL)
        return pgs_cert_insert(st->pg, c, serial, err);
    return sq_write(st, cert_insert_work, &a, err);
}

/* cert_borrow_row points `c` into the current row (valid until the next
 * step or reset); der is left NULL. */
static void cert_borrow_row(sqlite3_stmt *s, struct store_cert *c)
{
    memset(c, 0, sizeof(*c));
    c->serial_hex = (char *)sqlite3_column_text(s, 0);
    c->subject = (char *)sqlite3_column_text(s, 1);
    c->issuer = (char *)sqlite3_column_text(s, 2);
    c->not_before = (time_t)sqlite3_column_int64(s, 3);
    c->not_after = (time_t)sqlite3_column_int64(s, 4);
    c->status = sqlite3_column_int(s, 5);
    c->vendor = (char *)sqlite3_column_text(s, 6);
    c->device = (char *)sqlite3_column_text(s, 7);
    c->created = (time_t)sqlite3_column_int64(s, 8);
    c->revoked_at = (time_t)sqlite3_column_int64(s, 9);
    c->reason = c->revoked_at != 0 ? sqlite3_column_int(s, 10) : 0;
    c->profile = (char *)sqlite3_column_text(s, 11);
}

static int cert_from_row(sqlite3_stmt *s, struct store_cert *c,
                         struct cmpca_err *err)
{
    memset(c, 0, sizeof(*c));
    if (sq_col_text(s, 0, &c->serial_hex, err) != 0 ||
        sq_col_text(s, 1, &c->subject, err) != 0 ||
        sq_col_text(s, 2, &c->issuer, err) != 0 ||
        sq_col_text(s, 6, &c->vendor, err) != 0 ||
        sq_col_text(s, 7, &c->device, err) != 0 ||
        sq_col_text(s, 11, &c->profile, err) != 0 ||
        sq_col_text(s, 12, &c->ra, err) != 0 ||
        sq_col_blob(s, CERT_COL_DER, &c->der, &c->der_len, err) != 0) {
        store_cert_clear(c);
        return -1;
    }
    c->not_before = (time_t)sqlite3_column_int64(s, 3);
    c->not_after = (time_t)sqlite3_column_int64(s, 4);
    c->status = sqlite3_column_int(s, 5);
    c->created = (time_t)sqlite3_column_int64(s, 8);
    c->revoked_at = (time_t)sqlite3_column_int64(s, 9);
    c->reason = c->revoked_at != 0 ? sqlite3_column_int(s, 10) : 0;
    return 0;
}

struct cert_get_args {
    const char *serial;
    struct store_cert *out;
};

static int cert_get_work(struct sq_conn *c, void *arg, struct cmpca_err *err)
{
    struct cert_get_args *a = arg;
    sqlite3_stmt *s;
    int rc, ret;

    s = sq_stmt(c, SQ_CERT_GET,
                "SELECT " CERT_COLS ", der FROM certs WHERE serial_hex = ?",
                &rc, err);
    if (s == NULL)
        return sq_fail(c->db, rc, "certificate get", err);
    if ((rc = sq_bind_text(s, 1, a->serial)) != SQLITE_OK)
        ret = sq_fail(c->db, rc, "certificate get", err);
    else if ((rc = sqlite3_step(s)) == SQLITE_ROW)
        ret = cert_from_row(s, a->out, err);
    else if (rc == SQLITE_DONE)
        ret = STORE_NOTFOUND;
    else
        ret = sq_fail(c->db, rc, "certificate get", err);
    sq_done(s);
    return ret;
}

int store_cert_get(struct store *st, const char *serial_hex,
                   struct store_cert *out, struct cmpca_err *err)
{
    char serial[SQ_SERIAL_BUF];
    struct cert_get_args a = {serial, out};

    memset(out, 0, sizeof(*out));
    if (sq_serial_norm(serial_hex, serial) != 0)
        return STORE_NOTFOUND; /* not a number: no row can match */
    if (st->pg != NULL)
        return pgs_cert_get(st->pg, serial, out, err);
    return sq_read(st, cert_get_work, &a, err);
}

struct cert_status_args {
    const char *serial;
    int status;
};

static int cert_status_work(struct sq_conn *c, void *arg, struct cmpca_err *err)
{
    struct cert_status_args *a = arg;

    return sq_cert_set_status(c, a->serial, a->status, err);
}

int store_cert_set_status(struct store *st, const char *serial_hex, int status,
                          struct cmpca_err *err)
{
    char serial[SQ_SERIAL_BUF];
    struct cert_status_args a = {serial, status};

    if (!cert_status_ok(status))
        return cmpca_err_set(err, FI_SYSTEM_FAILURE,
                             "store: invalid certificate status %d", status);
    if (sq_serial_norm(serial_hex, serial) != 0)
        return STORE_NOTFOUND;
    if (st->pg != NULL)
        return pgs_cert_set_status(st->pg, serial, status, err);
    return sq_write(st, cert_status_work, &a, err);
}

struct cert_foreach_args {
    int (*fn)(void *arg, const struct store_cert *c);
    void *arg;
};

static int cert_foreach_work(struct sq_conn *c, void *arg,
                             struct cmpca_err *err)
{
    struct cert_foreach_args *a = arg;
    struct store_cert row;
    sqlite3_stmt *s;
    int rc, ret = 0, calls = 0;

    s = sq_stmt(c, SQ_CERT_LIST,
                "SELECT " CERT_COLS " FROM certs ORDER BY created, rowid", &rc,
                err);
    if (s == NULL)
        return sq_fail(c->db, rc, "certificate list", err);
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        cert_borrow_row(s, &row);
        calls++;
        if (a->fn(a->arg, &row) != 0) {
            rc = SQLITE_DONE;
            break;
        }
    }
    if (rc != SQLITE_DONE) {
        ret = sq_fail(c->db, rc, "certificate list", err);
        if (ret == SQ_RETRY && calls > 0)
            ret = -1; /* rerunning would call fn twice for the same rows */
    }
    sq_done(s);
    return ret;
}

int store_cert_foreach(struct store *st,
                       int (*fn)(void *arg, const struct store_cert *c),
                       void *arg, struct cmpca_err *err)
{
    struct cert_foreach_args a = {fn, arg};

    if (fn == NULL)
        return cmpca_err_set(err, FI_SYSTEM_FAILURE, "store: no callback");
    if (st->pg != NULL)
        return pgs_cert_foreach(st->pg, fn, arg, err);
    return sq_read(st, cert_foreach_work, &a, err);
}

static int cert_count_work(struct sq_conn *c, void *arg, struct cmpca_err *err)
{
    long long *out = arg;
    sqlite3_stmt *s;
    int rc, ret = 0;

    s = sq_stmt(c, SQ_CERT_COUNT, "SELECT count(*) FROM certs", &rc, err);
    if (s == NULL)
        return sq_fail(c->db, rc, "certificate count", err);
    if ((rc = sqlite3_step(s)) == SQLITE_ROW)
        *out = sqlite3_column_int64(s, 0);
    else
        ret = sq_fail(c->db, rc, "certificate count", err);
    sq_done(s);
    return ret;
}

int store_cert_count(struct store *st, long long *out, struct cmpca_err *err)
{
    *out = 0;
    if (st->pg != NULL)
        return pgs_cert_count(st->pg, out, err);
    return sq_read(st, cert_count_work, out, err);
}

void store_cert_clear(struct store_cert *c)
{
    if (c == NULL)
        return;
    free(c->serial_hex);
    free(c->subject);
    free(c->issuer);
    free(c->vendor);
    free(c->device);
    free(c->der);
    free(c->profile);
    free(c->ra);
    memset(c, 0, sizeof(*c));
}

int sq_cert_finalize(struct sq_conn *c, const struct store_cert *cert,
                     const char *serial, struct cmpca_err *err)
{
    sqlite3_stmt *s;
    int rc, ret, changes = 0;

    s = sq_stmt(c, SQ_CERT_FINALIZE,
                "UPDATE certs SET subject = ?, issuer = ?, not_before = ?,"
                " not_after = ?, status = ?, vendor = ?, device = ?,"
                " profile = ?, ra = ?, der = ?"
                " WHERE serial_hex = ? AND status = 4",
                &rc, err);
    if (s == NULL)
        return sq_fail(c->db, rc, "certificate finalize", err);
    if ((rc = sq_bind_text(s, 1, cert->subject)) != SQLITE_OK ||
        (rc = sq_bind_text(s, 2, cert->issuer)) != SQLITE_OK ||
        (rc = sqlite3_bind_int64(s, 3, (sqlite3_int64)cert->not_before)) !=
            SQLITE_OK ||
        (rc = sqlite3_bind_int64(s, 4, (sqlite3_int64)cert->not_after)) !=
            SQLITE_OK ||
        (rc = sqlite3_bind_int(s, 5, cert->status)) != SQLITE_OK ||
        (rc = sq_bind_text(s, 6, cert->vendor)) != SQLITE_OK ||
        (rc = sq_bind_text(s, 7, cert->device)) != SQLITE_OK ||
        (rc = sq_bind_text(s, 8, cert->profile)) != SQLITE_OK ||
        (rc = sq_bind_text(s, 9, cert->ra)) != SQLITE_OK ||
        (rc = sq_bind_blob(s, 10, cert->der, cert->der_len)) != SQLITE_OK ||
        (rc = sq_bind_text(s, 11, serial)) != SQLITE_OK) {
        sq_done(s);
        return sq_fail(c->db, rc, "certificate finalize", err);
    }
    ret = sq_exec_changes(c, s, "certificate finalize", &changes, &rc, err);
    if (ret != 0)
        return ret;
    return changes > 0 ? 0 : STORE_NOTFOUND;
}

struct reserve_args {
    const struct store_cert *cert;
    const char *serial;
};

static int reserve_work(struct sq_conn *c, void *arg, struct cmpca_err *err)
{
    struct reserve_args *a = arg;

    return sq_cert_insert(c, a->cert, a->serial, err);
}

int store_cert_reserve(struct store *st, const struct store_cert *cert,
                       struct cmpca_err *err)
{
    char serial[SQ_SERIAL_BUF];
    struct reserve_args a = {cert, serial};

    if (sq_cert_check(cert, serial, err) != 0)
        return -1;
    if (cert->status != CERT_RESERVED)
        return cmpca_err_set(err, FI_SYSTEM_FAILURE,
                             "store: a reservation has status reserved");
    if (st->pg != NULL)
        return pgs_cert_insert(st->pg, cert, serial, err);
    return sq_write(st, reserve_work, &a, err);
}

struct stale_args {
    sqlite3_int64 before;
    char **serials;
    size_t num, cap;
};

static int stale_work(struct sq_conn *c, void *arg, struct cmpca_err *err)
{
    struct stale_args *a = arg;
    sqlite3_stmt *s;
    char **grown, *copy;
    int rc, ret = 0;

    s = sq_stmt(c, SQ_CERT_STALE,
                "SELECT serial_hex FROM certs WHERE status = 4 AND created < ?",
                &rc, err);
    if (s == NULL)
        return sq_fail(c->db, rc, "reservations", err);
    if ((rc = sqlite3_bind_int64(s, 1, a->before)) != SQLITE_OK) {
        sq_done(s);
        return sq_fail(c->db, rc, "reservations", err);
    }
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (a->num == a->cap) {
            a->cap = a->cap == 0 ? 16 : a->cap * 2;
            if ((grown = realloc(a->serials, a->cap * sizeof(*grown))) ==
                NULL) {
                ret = sq_oom(err);
                break;
            }
            a->serials = grown;
        }
        if ((copy = strdup((const char *)sqlite3_column_text(s, 0))) == NULL) {
            ret = sq_oom(err);
            break;
        }
        a->serials[a->num++] = copy;
    }
    if (ret == 0 && rc != SQLITE_DONE)
        ret = sq_fail(c->db, rc, "reservations", err);
    sq_done(s);
    return ret;
}

int store_cert_stale_reserved(struct store *st, time_t before, char ***serials,
                              size_t *num, struct cmpca_err *err)
{
    struct stale_args a = {(sqlite3_int64)before, NULL, 0, 0};
    int ret;

    if (st->pg != NULL)
        return pgs_cert_stale_reserved(st->pg, before, serials, num, err);
    ret = sq_read(st, stale_work, &a, err);

    if (ret != 0) {
        for (size_t i = 0; i < a.num; i++)
            free(a.serials[i]);
        free(a.serials);
        a.serials = NULL;
        a.num = 0;
    }
    *serials = a.serials;
    *num = a.num;
    return ret;
}
