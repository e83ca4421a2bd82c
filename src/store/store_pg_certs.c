/*
 * store_pg_certs.c: the certificates this CA issued, on PostgreSQL (the
 * front is in store_sqlite_certs.c). An insert whose serial is taken does
 * nothing (ON CONFLICT DO NOTHING) and reports STORE_EXISTS, rather than
 * failing and aborting the surrounding transaction as a unique violation
 * would. Listing orders by creation time, then by the identity column that
 * stands in for SQLite's rowid, and skips the DER blobs.
 */
#include "store/store_pg_local.h"

#include <stdlib.h>
#include <string.h>

/* Column order shared by the SELECTs and the row readers below; der, when
 * selected, comes right after them (CERT_COL_DER). */
#define CERT_COLS                                                              \
    "serial_hex, subject, issuer, not_before, not_after, status, "             \
    "vendor, device, created, revoked_at, reason, profile, ra"
#define CERT_COL_DER 13

int pgc_cert_insert(struct pg_conn *c, const struct store_cert *cert,
                    const char *serial, struct cmpca_err *err)
{
    time_t created = cert->created != 0 ? cert->created : time(NULL);
    struct pg_params p;
    long n = 0;
    int ret;

    pgp_init(&p);
    pgp_text(&p, serial);
    pgp_text(&p, cert->subject);
    pgp_text(&p, cert->issuer);
    pgp_int(&p, (long long)cert->not_before);
    pgp_int(&p, (long long)cert->not_after);
    pgp_int(&p, cert->status);
    pgp_text(&p, cert->vendor);
    pgp_text(&p, cert->device);
    pgp_int(&p, (long long)created);
    if (cert->revoked_at == 0) {
        pgp_text(&p, NULL);
        pgp_text(&p, NULL);
    } else {
        pgp_int(&p, (long long)cert->revoked_at);
        pgp_int(&p, cert->reason);
    }
    pgp_text(&p, cert->profile);
    pgp_text(&p, cert->ra);
    pgp_bytes(&p, cert->der, cert->der_len);
    ret = pg_run_changes(c, PG_CERT_INSERT,
                         "INSERT INTO certs (" CERT_COLS ", der) VALUES"
                         " ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11,"
                         " $12, $13, $14) ON CONFLICT (serial_hex) DO NOTHING",
                         &p, "certificate insert", &n, err);
    if (ret != 0)
        return ret;
    return n > 0 ? 0 : STORE_EXISTS;
}

int pgc_cert_finalize(struct pg_conn *c, const struct store_cert *cert,
                      const char *serial, struct cmpca_err *err)
{
    struct pg_params p;
    long n = 0;
    int ret;

    pgp_init(&p);
    pgp_text(&p, cert->subject);
    pgp_text(&p, cert->issuer);
    pgp_int(&p, (long long)cert->not_before);
    pgp_int(&p, (long long)cert->not_after);
    pgp_int(&p, cert->status);
    pgp_text(&p, cert->vendor);
    pgp_text(&p, cert->device);
    pgp_text(&p, cert->profile);
    pgp_text(&p, cert->ra);
    pgp_bytes(&p, cert->der, cert->der_len);
    pgp_text(&p, serial);
    ret = pg_run_changes(c, PG_CERT_FINALIZE,
                         "UPDATE certs SET subject = $1, issuer = $2,"
                         " not_before = $3, not_after = $4, status = $5,"
                         " vendor = $6, device = $7, profile = $8, ra = $9,"
                         " der = $10 WHERE serial_hex = $11 AND status = 4",
                         &p, "certificate finalize", &n, err);
    if (ret != 0)
        return ret;
    return n > 0 ? 0 : STORE_NOTFOUND;
}

int pgc_cert_set_status(struct pg_conn *c, const char *serial, int status,
                        struct cmpca_err *err)
{
    struct pg_params p;
    long n = 0;
    int ret;

    /* revocation is final (see store_sqlite_certs.c) */
    pgp_init(&p);
    pgp_int(&p, status);
    pgp_text(&p, serial);
    ret = pg_run_changes(c, PG_CERT_SET_STATUS,
                         "UPDATE certs SET status = CASE WHEN revoked_at IS"
                         " NULL THEN $1::integer ELSE status END"
                         " WHERE serial_hex = $2",
                         &p, "certificate status", &n, err);
    if (ret != 0)
        return ret;
    return n > 0 ? 0 : STORE_NOTFOUND;
}

struct cert_args {
    const struct store_cert *cert;
    const char *serial;
    int status;
};

static int insert_work(struct pg_conn *c, void *arg, struct cmpca_err *err)
{
    const struct cert_args *a = arg;

    return pgc_cert_insert(c, a->cert, a->serial, err);
}

int pgs_cert_insert(struct pg_store *pg, const struct store_cert *cert,
                    const char *serial, struct cmpca_err *err)
{
    struct cert_args a = {cert, serial, 0};

    return pg_write(pg, insert_work, &a, err);
}

static int status_work(struct pg_conn *c, void *arg, struct cmpca_err *err)
{
    const struct cert_args *a = arg;

    return pgc_cert_set_status(c, a->serial, a->status, err);
}

int pgs_cert_set_status(struct pg_store *pg, const char *serial, int status,
                        struct cmpca_err *err)
{
    struct cert_args a = {NULL, serial, status};

    return pg_write(pg, status_work, &a, err);
}

/* cert_borrow_row points `c` into row `row` (valid until PQclear); der is
 * left NULL. */
static void cert_borrow_row(const PGresult *r, int row, struct store_cert *c)
{
    memset(c, 0, sizeof(*c));
    c->serial_hex = (char *)pg_col_str(r, row, 0);
    c->subject = (char *)pg_col_str(r, row, 1);
    c->issuer = (char *)pg_col_str(r, row, 2);
    c->not_before = (time_t)pg_col_int(r, row, 3);
    c->not_after = (time_t)pg_col_int(r, row, 4);
    c->status = (int)pg_col_int(r, row, 5);
    c->vendor = (char *)pg_col_str(r, row, 6);
    c->device = (char *)pg_col_str(r, row, 7);
    c->created = (time_t)pg_col_int(r, row, 8);
    c->revoked_at = (time_t)pg_col_int(r, row, 9);
    c->reason = c->revoked_at != 0 ? (int)pg_col_int(r, row, 10) : 0;
    c->profile = (char *)pg_col_str(r, row, 11);
    c->ra = (char *)pg_col_str(r, row, 12);
}

static int cert_from_row(const PGresult *r, struct store_cert *c,
                         struct cmpca_err *err)
{
    memset(c, 0, sizeof(*c));
    if (pg_col_text(r, 0, 0, &c->serial_hex, err) != 0 ||
        pg_col_text(r, 0, 1, &c->subject, err) != 0 ||
        pg_col_text(r, 0, 2, &c->issuer, err) != 0 ||
        pg_col_text(r, 0, 6, &c->vendor, err) != 0 ||
        pg_col_text(r, 0, 7, &c->device, err) != 0 ||
        pg_col_text(r, 0, 11, &c->profile, err) != 0 ||
        pg_col_text(r, 0, 12, &c->ra, err) != 0 ||
        pg_col_blob(r, 0, CERT_COL_DER, &c->der, &c->der_len, err) != 0) {
        store_cert_clear(c);
        return -1;
    }
    c->not_before = (time_t)pg_col_int(r, 0, 3);
    c->not_after = (time_t)pg_col_int(r, 0, 4);
    c->status = (int)pg_col_int(r, 0, 5);
    c->created = (time_t)pg_col_int(r, 0, 8);
    c->revoked_at = (time_t)pg_col_int(r, 0, 9);
    c->reason = c->revoked_at != 0 ? (int)pg_col_int(r, 0, 10) : 0;
    return 0;
}

int pgs_cert_get(struct pg_store *pg, const char *serial,
                 struct store_cert *out, struct cmpca_err *err)
{
    struct pg_params p;
    PGresult *r = NULL;
    int ret;

    pgp_init(&p);
    pgp_text(&p, serial);
    if (pg_query(pg, PG_CERT_GET,
                 "SELECT " CERT_COLS ", der FROM certs WHERE serial_hex = $1",
                 &p, "certificate get", &r, err) != 0)
        return -1;
    ret = PQntuples(r) == 0 ? STORE_NOTFOUND : cert_from_row(r, out, err);
    PQclear(r);
    return ret;
}

/* Fetched whole, the connection given back, then the callbacks. */
int pgs_cert_foreach(struct pg_store *pg,
                     int (*fn)(void *arg, const struct store_cert *c),
                     void *arg, struct cmpca_err *err)
{
    struct store_cert row;
    PGresult *r = NULL;

    if (pg_query(pg, PG_CERT_LIST,
                 "SELECT " CERT_COLS " FROM certs ORDER BY created, id", NULL,
                 "certificate list", &r, err) != 0)
        return -1;
    for (int i = 0; i < PQntuples(r); i++) {
        cert_borrow_row(r, i, &row);
        if (fn(arg, &row) != 0)
            break;
    }
    PQclear(r);
    return 0;
}

int pgs_cert_count(struct pg_store *pg, long long *out, struct cmpca_err *err)
{
    PGresult *r = NULL;

    *out = 0;
    if (pg_query(pg, PG_CERT_COUNT, "SELECT count(*) FROM certs", NULL,
                 "certificate count", &r, err) != 0)
        return -1;
    *out = pg_col_int(r, 0, 0);
    PQclear(r);
    return 0;
}

int pgs_cert_stale_reserved(struct pg_store *pg, time_t before, char ***serials,
                            size_t *num, struct cmpca_err *err)
{
    struct pg_params p;
    PGresult *r = NULL;
    char **list = NULL;
    int rows, i;

    *serials = NULL;
    *num = 0;
    pgp_init(&p);
    pgp_int(&p, (long long)before);
    if (pg_query(pg, PG_CERT_STALE,
                 "SELECT serial_hex FROM certs WHERE status = 4"
                 " AND created < $1",
                 &p, "reservations", &r, err) != 0)
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
    *num = (size_t)rows;
    return 0;
}
