/*
 * store_sqlite_revoke.c: revocation and the CRLs built from it. Revoking is
 * rare (an operator, a kur superseding a certificate, a rejected certConf);
 * reading the revoked list happens once per CRL, at most every few minutes,
 * so neither is tuned beyond a partial index on revoked rows.
 *
 * Each CRL name needs two numbers: the highest cRLNumber ever drawn and the
 * number of the CRL currently saved. They differ while a CRL is being signed
 * and forever when a signer died before saving, and a drawn number must never
 * be drawn again (RFC 5280 5.2.3: monotonically increasing). The `crls` table
 * has one `number` column, so the counter lives in a row of its own, keyed
 * by CRL_COUNTER_PREFIX + name; real names are [A-Za-z0-9._-] only, so the
 * two kinds of row cannot collide. The counter row never has a DER.
 *
 * Publishers draw the number before reading the revoked list. Both are
 * writes-serialised against revocations, so a CRL drawn after a revocation
 * committed also lists it, and a higher number never lists less: whoever
 * revokes and then publishes gets a CRL that wins.
 */
#include "store/store_sqlite_local.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CRL_NAME_MAX       64
#define CRL_COUNTER_PREFIX "#next:"
#define CRL_KEY_BUF        (sizeof(CRL_COUNTER_PREFIX) + CRL_NAME_MAX)

/* RFC 5280 5.3.1 CRLReason: 0..10, 7 is not used. */
static int reason_ok(int reason)
{
    return reason >= 0 && reason <= 10 && reason != 7;
}

/* crl_name_ok: 1..64 of [A-Za-z0-9._-], as the transport serves them. */
static int crl_name_ok(const char *name)
{
    size_t i, len;

    if (name == NULL)
        return 0;
    len = strlen(name);
    if (len == 0 || len > CRL_NAME_MAX)
        return 0;
    for (i = 0; i < len; i++) {
        char ch = name[i];

        if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
              (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' || ch == '-'))
            return 0;
    }
    return 1;
}

static int bad_crl_name(const char *name, struct cmpca_err *err)
{
    return cmpca_err_set(err, FI_SYSTEM_FAILURE,
                         "store: CRL name \"%.64s\" is not 1-%d of "
                         "[A-Za-z0-9._-]",
                         name != NULL ? name : "(null)", CRL_NAME_MAX);
}

/* ---- revoking ---- */

struct revoke_args {
    const char *serial;
    int status;
    int reason;
    time_t when;
};

/* revoked_peek tells why the UPDATE changed nothing: no such row
 * (STORE_NOTFOUND) or revoked before (STORE_EXISTS). */
static int revoked_peek(struct sq_conn *c, const char *serial,
                        struct cmpca_err *err)
{
    sqlite3_stmt *s;
    int rc, ret;

    s = sq_stmt(c, SQ_CERT_REVOKED_PEEK,
                "SELECT revoked_at IS NOT NULL FROM certs WHERE serial_hex = ?",
                &rc, err);
    if (s == NULL)
        return sq_fail(c->db, rc, "certificate revoke", err);
    if ((rc = sq_bind_text(s, 1, serial)) != SQLITE_OK)
        ret = sq_fail(c->db, rc, "certificate revoke", err);
    else if ((rc = sqlite3_step(s)) == SQLITE_ROW)
        ret = sqlite3_column_int(s, 0)
                  ? STORE_EXISTS
                  : cmpca_err_set(err, FI_SYSTEM_FAILURE,
                                  "store: certificate revoke changed no row");
    else if (rc == SQLITE_DONE)
        ret = STORE_NOTFOUND;
    else
        ret = sq_fail(c->db, rc, "certificate revoke", err);
    sq_done(s);
    return ret;
}

static int revoke_work(struct sq_conn *c, void *arg, struct cmpca_err *err)
{
    struct revoke_args *a = arg;
    sqlite3_stmt *s;
    int rc, ret, changes = 0;

    s = sq_stmt(c, SQ_CERT_REVOKE,
                "UPDATE certs SET status = ?, revoked_at = ?, reason = ?"
                " WHERE serial_hex = ? AND revoked_at IS NULL",
                &rc, err);
    if (s == NULL)
        return sq_fail(c->db, rc, "certificate revoke", err);
    if ((rc = sqlite3_bind_int(s, 1, a->status)) != SQLITE_OK ||
        (rc = sqlite3_bind_int64(s, 2, (sqlite3_int64)a->when)) != SQLITE_OK ||
        (rc = sqlite3_bind_int(s, 3, a->reason)) != SQLITE_OK ||
        (rc = sq_bind_text(s, 4, a->serial)) != SQLITE_OK) {
        sq_done(s);
        return sq_fail(c->db, rc, "certificate revoke", err);
    }
    ret = sq_exec_changes(c, s, "certificate revoke", &changes, &rc, err);
    if (ret != 0)
        return ret;
    return changes > 0 ? 0 : revoked_peek(c, a->serial, err);
}

int store_cert_revoke(struct store *st, const char *serial_hex, int status,
                      int reason, time_t when, struct cmpca_err *err)
{
    char serial[SQ_SERIAL_BUF];
    struct revoke_args a = {serial, status, reason, when};

    if (status != CERT_REVOKED && status != CERT_REJECTED)
        return cmpca_err_set(err, FI_SYSTEM_FAILURE,
                             "store: revocation status %d is not revoked or "
                             "rejected",
                             status);
    if (!reason_ok(reason))
        return cmpca_err_set(err, FI_SYSTEM_FAILURE,
                             "store: %d is not a CRLReason", reason);
    if (when <= 0)
        return cmpca_err_set(err, FI_SYSTEM_FAILURE,
                             "store: revocation time must be positive");
    if (sq_serial_norm(serial_hex, serial) != 0)
        return STORE_NOTFOUND; /* not a number: no row can match */
    if (st->pg != NULL)
        return pgs_cert_revoke(st->pg, serial, status, reason, when, err);
    return sq_write(st, revoke_work, &a, err);
}

/* ---- listing what is revoked ---- */

struct revoked_args {
    int (*fn)(void *arg, const struct store_cert *c);
    void *arg;
};

/* Canonical serials have no leading zero octets, so ordering by length and
 * then by text is ordering by value. */
static int revoked_work(struct sq_conn *c, void *arg, struct cmpca_err *err)
{
    struct revoked_args *a = arg;
    struct store_cert row;
    sqlite3_stmt *s;
    int rc, ret = 0, calls = 0;

    s = sq_stmt(c, SQ_CERT_LIST_REVOKED,
                "SELECT serial_hex, not_after, status, revoked_at,"
                " coalesce(reason, 0) FROM certs"
                " WHERE revoked_at IS NOT NULL"
                " ORDER BY length(serial_hex), serial_hex",
                &rc, err);
    if (s == NULL)
        return sq_fail(c->db, rc, "revoked list", err);
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        memset(&row, 0, sizeof(row));
        row.serial_hex = (char *)sqlite3_column_text(s, 0);
        row.not_after = (time_t)sqlite3_column_int64(s, 1);
        row.status = sqlite3_column_int(s, 2);
        row.revoked_at = (time_t)sqlite3_column_int64(s, 3);
        row.reason = sqlite3_column_int(s, 4);
        calls++;
        if (a->fn(a->arg, &row) != 0) {
            rc = SQLITE_DONE;
            break;
        }
    }
    if (rc != SQLITE_DONE) {
        ret = sq_fail(c->db, rc, "revoked list", err);
        if (ret == SQ_RETRY && calls > 0)
            ret = -1; /* rerunning would call fn twice for the same rows */
    }
    sq_done(s);
    return ret;
}

int store_cert_foreach_revoked(struct store *st,
                               int (*fn)(void *arg, const struct store_cert *c),
                               void *arg, struct cmpca_err *err)
{
    struct revoked_args a = {fn, arg};

    if (fn == NULL)
        return cmpca_err_set(err, FI_SYSTEM_FAILURE, "store: no callback");
    if (st->pg != NULL)
        return pgs_cert_foreach_revoked(st->pg, fn, arg, err);
    return sq_read(st, revoked_work, &a, err);
}

/* ---- CRL numbers and the current CRL ---- */

struct crl_number_args {
    const char *key;  /* the counter row */
    const char *name; /* the CRL row */
    long long *out;
};

/* The counter starts above the saved CRL's number, so a database whose
 * counter row went missing still never repeats a number. */
static int crl_number_work(struct sq_conn *c, void *arg, struct cmpca_err *err)
{
    struct crl_number_args *a = arg;
    sqlite3_stmt *s;
    int rc, ret = 0;

    *a->out = 0;
    s = sq_stmt(c, SQ_CRL_NEXT_NUMBER,
                "INSERT INTO crls (name, number) VALUES (?1, 1 + coalesce("
                "(SELECT number FROM crls WHERE name = ?2), 0))"
                " ON CONFLICT (name) DO UPDATE SET"
                " number = max(crls.number + 1, excluded.number)"
                " RETURNING number",
                &rc, err);
    if (s == NULL)
        return sq_fail(c->db, rc, "CRL number", err);
    if ((rc = sq_bind_text(s, 1, a->key)) != SQLITE_OK ||
        (rc = sq_bind_text(s, 2, a->name)) != SQLITE_OK)
        ret = sq_fail(c->db, rc, "CRL number", err);
    else if ((rc = sqlite3_step(s)) == SQLITE_ROW)
        *a->out = sqlite3_column_int64(s, 0);
    else
        ret = sq_fail(c->db, rc, "CRL number", err);
    /* the write happened on the first step; run the statement to its end */
    if (ret == 0 && (rc = sqlite3_step(s)) != SQLITE_DONE)
        ret = sq_fail(c->db, rc, "CRL number", err);
    sq_done(s);
    return ret;
}

int store_crl_next_number(struct store *st, const char *name, long long *out,
                          struct cmpca_err *err)
{
    char key[CRL_KEY_BUF];
    struct crl_number_args a = {key, name, out};

    *out = 0;
    if (!crl_name_ok(name))
        return bad_crl_name(name, err);
    snprintf(key, sizeof(key), "%s%s", CRL_COUNTER_PREFIX, name);
    if (st->pg != NULL)
        return pgs_crl_next_number(st->pg, key, name, out, err);
    return sq_write(st, crl_number_work, &a, err);
}

struct crl_save_args {
    const char *name;
    const struct store_crl *crl;
};

static int crl_save_work(struct sq_conn *c, void *arg, struct cmpca_err *err)
{
    struct crl_save_args *a = arg;
    sqlite3_stmt *s;
    int rc;

    s = sq_stmt(c, SQ_CRL_SAVE,
                "INSERT INTO crls (name, number, this_update, next_update, der)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET"
                " number = excluded.number,"
                " this_update = excluded.this_update,"
                " next_update = excluded.next_update, der = excluded.der"
                " WHERE excluded.number > crls.number",
                &rc, err);
    if (s == NULL)
        return sq_fail(c->db, rc, "CRL save", err);
    if ((rc = sq_bind_text(s, 1, a->name)) != SQLITE_OK ||
        (rc = sqlite3_bind_int64(s, 2, a->crl->number)) != SQLITE_OK ||
        (rc = sqlite3_bind_int64(s, 3, (sqlite3_int64)a->crl->this_update)) !=
            SQLITE_OK ||
        (rc = sqlite3_bind_int64(s, 4, (sqlite3_int64)a->crl->next_update)) !=
            SQLITE_OK ||
        (rc = sq_bind_blob(s, 5, a->crl->der, a->crl->der_len)) != SQLITE_OK) {
        sq_done(s);
        return sq_fail(c->db, rc, "CRL save", err);
    }
    return sq_exec_changes(c, s, "CRL save", NULL, &rc, err);
}

int store_crl_save(struct store *st, const char *name,
                   const struct store_crl *crl, struct cmpca_err *err)
{
    struct crl_save_args a = {name, crl};

    if (!crl_name_ok(name))
        return bad_crl_name(name, err);
    if (crl == NULL || crl->number <= 0 || crl->der == NULL ||
        crl->der_len == 0)
        return cmpca_err_set(err, FI_SYSTEM_FAILURE,
                             "store: a CRL needs a positive number and DER");
    if (st->pg != NULL)
        return pgs_crl_save(st->pg, name, crl, err);
    return sq_write(st, crl_save_work, &a, err);
}

struct crl_get_args {
    const char *name;
    struct store_crl *out;
};

static int crl_get_work(struct sq_conn *c, void *arg, struct cmpca_err *err)
{
    struct crl_get_args *a = arg;
    sqlite3_stmt *s;
    int rc, ret;

    store_crl_clear(a->out);
    s = sq_stmt(c, SQ_CRL_GET,
                "SELECT number, this_update, next_update, der FROM crls"
                " WHERE name = ? AND der IS NOT NULL",
                &rc, err);
    if (s == NULL)
        return sq_fail(c->db, rc, "CRL get", err);
    if ((rc = sq_bind_text(s, 1, a->name)) != SQLITE_OK) {
        ret = sq_fail(c->db, rc, "CRL get", err);
    } else if ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        a->out->number = sqlite3_column_int64(s, 0);
        a->out->this_update = (time_t)sqlite3_column_int64(s, 1);
        a->out->next_update = (time_t)sqlite3_column_int64(s, 2);
        ret = sq_col_blob(s, 3, &a->out->der, &a->out->der_len, err);
    } else if (rc == SQLITE_DONE) {
        ret = STORE_NOTFOUND;
    } else {
        ret = sq_fail(c->db, rc, "CRL get", err);
    }
    sq_done(s);
    return ret;
}

int store_crl_get(struct store *st, const char *name, struct store_crl *out,
                  struct cmpca_err *err)
{
    struct crl_get_args a = {name, out};

    memset(out, 0, sizeof(*out));
    if (!crl_name_ok(name))
        return bad_crl_name(name, err);
    if (st->pg != NULL)
        return pgs_crl_get(st->pg, name, out, err);
    return sq_read(st, crl_get_work, &a, err);
}

void store_crl_clear(struct store_crl *crl)
{
    if (crl == NULL)
        return;
    free(crl->der);
    memset(crl, 0, sizeof(*crl));
}
