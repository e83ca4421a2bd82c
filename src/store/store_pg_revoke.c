/*
 * store_pg_revoke.c: revocation and CRL bookkeeping on PostgreSQL (the
 * front, and why each CRL name has a counter row beside it, are in
 * store_sqlite_revoke.c). Revoking is one conditional UPDATE: of two
 * revocations at once the second waits for the first's row lock, then
 * finds revoked_at set and reports STORE_EXISTS. The next cRLNumber is one
 * INSERT ... ON CONFLICT DO UPDATE ... RETURNING, which locks the counter
 * row, so instances sharing the database never draw one number twice.
 */
#include "store/store_pg_local.h"

#include <stdlib.h>
#include <string.h>

struct revoke_args {
    const char *serial;
    int status;
    int reason;
    time_t when;
};

/* revoked_peek tells why the UPDATE changed nothing. */
static int revoked_peek(struct pg_conn *c, const char *serial,
                        struct cmpca_err *err)
{
    struct pg_params p;
    PGresult *r = NULL;
    int ret;

    pgp_init(&p);
    pgp_text(&p, serial);
    ret = pg_run(c, PG_CERT_REVOKED_PEEK,
                 "SELECT revoked_at IS NOT NULL FROM certs"
                 " WHERE serial_hex = $1",
                 &p, "certificate revoke", &r, err);
    if (ret != 0)
        return ret;
    if (PQntuples(r) == 0)
        ret = STORE_NOTFOUND;
    else if (pg_col_int(r, 0, 0))
        ret = STORE_EXISTS;
    else
        ret = cmpca_err_set(err, FI_SYSTEM_FAILURE,
                            "store: certificate revoke changed no row");
    PQclear(r);
    return ret;
}

static int revoke_work(struct pg_conn *c, void *arg, struct cmpca_err *err)
{
    const struct revoke_args *a = arg;
    struct pg_params p;
    long n = 0;
    int ret;

    pgp_init(&p);
    pgp_int(&p, a->status);
    pgp_int(&p, (long long)a->when);
    pgp_int(&p, a->reason);
    pgp_text(&p, a->serial);
    ret = pg_run_changes(c, PG_CERT_REVOKE,
                         "UPDATE certs SET status = $1, revoked_at = $2,"
                         " reason = $3 WHERE serial_hex = $4"
                         " AND revoked_at IS NULL",
                         &p, "certificate revoke", &n, err);
    if (ret != 0)
        return ret;
    return n > 0 ? 0 : revoked_peek(c, a->serial, err);
}

int pgs_cert_revoke(struct pg_store *pg, const char *serial, int status,
                    int reason, time_t when, struct cmpca_err *err)
{
    struct revoke_args a = {serial, status, reason, when};

    return pg_write(pg, revoke_work, &a, err);
}

/* Canonical serials have no leading zero octets, so ordering by length and
 * then by bytes ("C" collation) is ordering by value. */
int pgs_cert_foreach_revoked(struct pg_store *pg,
                             int (*fn)(void *arg, const struct store_cert *c),
                             void *arg, struct cmpca_err *err)
{
    struct store_cert row;
    PGresult *r = NULL;

    if (pg_query(pg, PG_CERT_LIST_REVOKED,
                 "SELECT serial_hex, not_after, status, revoked_at,"
                 " coalesce(reason, 0) FROM certs"
                 " WHERE revoked_at IS NOT NULL"
                 " ORDER BY length(serial_hex), serial_hex",
                 NULL, "revoked list", &r, err) != 0)
        return -1;
    for (int i = 0; i < PQntuples(r); i++) {
        memset(&row, 0, sizeof(row));
        row.serial_hex = (char *)pg_col_str(r, i, 0);
        row.not_after = (time_t)pg_col_int(r, i, 1);
        row.status = (int)pg_col_int(r, i, 2);
        row.revoked_at = (time_t)pg_col_int(r, i, 3);
        row.reason = (int)pg_col_int(r, i, 4);
        if (fn(arg, &row) != 0)
            break;
    }
    PQclear(r);
    return 0;
}

struct crl_number_args {
    const char *key;
    const char *name;
    long long number;
};

/* The counter starts above the saved CRL's number, so a database whose
 * counter row went missing still never repeats a number. */
static int crl_number_work(struct pg_conn *c, void *arg, struct cmpca_err *err)
{
    struct crl_number_args *a = arg;
    struct pg_params p;
    PGresult *r = NULL;
    int ret;

    a->number = 0;
    pgp_init(&p);
    pgp_text(&p, a->key);
    pgp_text(&p, a->name);
    ret = pg_run(c, PG_CRL_NEXT_NUMBER,
                 "INSERT INTO crls (name, number) VALUES ($1, 1 + coalesce("
                 "(SELECT number FROM crls WHERE name = $2), 0))"
                 " ON CONFLICT (name) DO UPDATE SET"
                 " number = greatest(crls.number + 1, excluded.number)"
                 " RETURNING number",
                 &p, "CRL number", &r, err);
    if (ret != 0)
        return ret;
    if (PQntuples(r) == 1)
        a->number = pg_col_int(r, 0, 0);
    else
        ret = cmpca_err_set(err, FI_SYSTEM_FAILURE,
                            "store: CRL number: no row returned");
    PQclear(r);
    return ret;
}

int pgs_crl_next_number(struct pg_store *pg, const char *key, const char *name,
                        long long *out, struct cmpca_err *err)
{
    struct crl_number_args a = {key, name, 0};
    int ret = pg_write(pg, crl_number_work, &a, err);

    *out = ret == 0 ? a.number : 0;
    return ret;
}

int pgs_crl_save(struct pg_store *pg, const char *name,
                 const struct store_crl *crl, struct cmpca_err *err)
{
    struct pg_params p;

    pgp_init(&p);
    pgp_text(&p, name);
    pgp_int(&p, crl->number);
    pgp_int(&p, (long long)crl->this_update);
    pgp_int(&p, (long long)crl->next_update);
    pgp_bytes(&p, crl->der, crl->der_len);
    return pg_change(pg, PG_CRL_SAVE,
                     "INSERT INTO crls (name, number, this_update,"
                     " next_update, der) VALUES ($1, $2, $3, $4, $5)"
                     " ON CONFLICT (name) DO UPDATE SET"
                     " number = excluded.number,"
                     " this_update = excluded.this_update,"
                     " next_update = excluded.next_update, der = excluded.der"
                     " WHERE excluded.number > crls.number",
                     &p, "CRL save", NULL, err);
}

int pgs_crl_get(struct pg_store *pg, const char *name, struct store_crl *out,
                struct cmpca_err *err)
{
    struct pg_params p;
    PGresult *r = NULL;
    int ret = STORE_NOTFOUND;

    pgp_init(&p);
    pgp_text(&p, name);
    if (pg_query(pg, PG_CRL_GET,
                 "SELECT number, this_update, next_update, der FROM crls"
                 " WHERE name = $1 AND der IS NOT NULL",
                 &p, "CRL get", &r, err) != 0)
        return -1;
    if (PQntuples(r) == 1) {
        out->number = pg_col_int(r, 0, 0);
        out->this_update = (time_t)pg_col_int(r, 0, 1);
        out->next_update = (time_t)pg_col_int(r, 0, 2);
        ret = pg_col_blob(r, 0, 3, &out->der, &out->der_len, err);
    }
    PQclear(r);
    return ret;
}
