/*
 * store_pg_registry.c: vendors and devices on PostgreSQL (the front is in
 * store_sqlite_registry.c). Lookups are one prepared point query. A bulk
 * import sends its serials as text arrays, SERIALS_PER_STATEMENT at a time,
 * to one INSERT ... SELECT FROM unnest() ... ON CONFLICT DO NOTHING inside
 * one transaction: a round trip per serial would make 100,000 serials take
 * tens of seconds, a few statements take one or two.
 */
#include "store/store_pg_local.h"

#include <stdlib.h>
#include <string.h>

#define VENDOR_COLS "name, root_pem, chain_pem, id_attr, created, crl_pem"
#define DEVICE_COLS "vendor, serial, state, created, updated, approval"

#define SERIALS_PER_STATEMENT 10000

/* ---- vendors ---- */

int pgs_vendor_add(struct pg_store *pg, const struct store_vendor *v,
                   struct cmpca_err *err)
{
    struct pg_params p;
    long n = 0;

    pgp_init(&p);
    pgp_text(&p, v->name);
    pgp_text(&p, v->root_pem);
    pgp_text(&p, v->chain_pem);
    pgp_text(&p, v->id_attr);
    pgp_int(&p, (long long)(v->created != 0 ? v->created : time(NULL)));
    pgp_text(&p, v->crl_pem);
    if (pg_change(pg, PG_VENDOR_INSERT,
                  "INSERT INTO vendors (" VENDOR_COLS ") VALUES"
                  " ($1, $2, $3, $4, $5, $6) ON CONFLICT (name) DO NOTHING",
                  &p, "vendor add", &n, err) != 0)
        return -1;
    return n > 0 ? 0 : STORE_EXISTS;
}

int pgs_vendor_set_crl(struct pg_store *pg, const char *name,
                       const char *crl_pem, struct cmpca_err *err)
{
    struct pg_params p;
    long n = 0;

    pgp_init(&p);
    pgp_text(&p, crl_pem);
    pgp_text(&p, name);
    if (pg_change(pg, PG_VENDOR_SET_CRL,
                  "UPDATE vendors SET crl_pem = $1 WHERE name = $2", &p,
                  "vendor crl", &n, err) != 0)
        return -1;
    return n > 0 ? 0 : STORE_NOTFOUND;
}

static int vendor_from_row(const PGresult *r, int row, struct store_vendor *v,
                           struct cmpca_err *err)
{
    memset(v, 0, sizeof(*v));
    if (pg_col_text(r, row, 0, &v->name, err) != 0 ||
        pg_col_text(r, row, 1, &v->root_pem, err) != 0 ||
        pg_col_text(r, row, 2, &v->chain_pem, err) != 0 ||
        pg_col_text(r, row, 3, &v->id_attr, err) != 0 ||
        pg_col_text(r, row, 5, &v->crl_pem, err) != 0) {
        store_vendor_clear(v);
        return -1;
    }
    v->created = (time_t)pg_col_int(r, row, 4);
    return 0;
}

int pgs_vendor_get(struct pg_store *pg, const char *name,
                   struct store_vendor *out, struct cmpca_err *err)
{
    struct pg_params p;
    PGresult *r = NULL;
    int ret;

    pgp_init(&p);
    pgp_text(&p, name);
    if (pg_query(pg, PG_VENDOR_GET,
                 "SELECT " VENDOR_COLS " FROM vendors WHERE name = $1", &p,
                 "vendor get", &r, err) != 0)
        return -1;
    ret = PQntuples(r) == 0 ? STORE_NOTFOUND : vendor_from_row(r, 0, out, err);
    PQclear(r);
    return ret;
}

int pgs_vendor_list(struct pg_store *pg, struct store_vendor **out,
                    size_t *num_out, struct cmpca_err *err)
{
    struct store_vendor *list = NULL;
    PGresult *r = NULL;
    int rows, i;

    if (pg_query(pg, PG_VENDOR_LIST,
                 "SELECT " VENDOR_COLS " FROM vendors ORDER BY name", NULL,
                 "vendor list", &r, err) != 0)
        return -1;
    rows = PQntuples(r);
    if (rows > 0 && (list = calloc((size_t)rows, sizeof(*list))) == NULL) {
        PQclear(r);
        return pg_oom(err);
    }
    for (i = 0; i < rows; i++)
        if (vendor_from_row(r, i, &list[i], err) != 0)
            break;
    PQclear(r);
    if (i < rows) {
        store_vendor_list_free(list, (size_t)i);
        return -1;
    }
    *out = list;
    *num_out = (size_t)rows;
    return 0;
}

/* ---- devices ---- */

/* array_literal writes serials[from..from+n) as a PostgreSQL text array,
 * every element quoted and backslash-escaped. New string in *out. */
static int array_literal(const char *const *serials, size_t n, char **out,
                         struct cmpca_err *err)
{
    size_t cap = 3, pos = 0;
    char *s;

    for (size_t i = 0; i < n; i++)
        cap += 2 * strlen(serials[i]) + 3;
    if ((s = malloc(cap)) == NULL)
        return pg_oom(err);
    s[pos++] = '{';
    for (size_t i = 0; i < n; i++) {
        if (i > 0)
            s[pos++] = ',';
        s[pos++] = '"';
        for (const char *c = serials[i]; *c != '\0'; c++) {
            if (*c == '"' || *c == '\\')
                s[pos++] = '\\';
            s[pos++] = *c;
        }
        s[pos++] = '"';
    }
    s[pos++] = '}';
    s[pos] = '\0';
    *out = s;
    return 0;
}

struct import_args {
    const char *vendor;
    const char *const *serials;
    size_t num;
    int approval;
    int ignore_dups;
    size_t added;
};

static int import_chunk(struct pg_conn *c, struct import_args *a, size_t from,
                        size_t n, long long now, struct cmpca_err *err)
{
    struct pg_params p;
    char *arr = NULL;
    long added = 0;
    int ret;

    if (array_literal(a->serials + from, n, &arr, err) != 0)
        return -1;
    pgp_init(&p);
    pgp_text(&p, a->vendor);
    pgp_int(&p, now);
    pgp_int(&p, a->approval);
    pgp_text(&p, arr);
    ret = pg_run_changes(c, PG_DEVICE_INSERT,
                         "INSERT INTO devices (" DEVICE_COLS ")"
                         " SELECT $1, s, 0, $2, $2, $3"
                         " FROM unnest($4::text[]) AS s"
                         " ON CONFLICT (vendor, serial) DO NOTHING",
                         &p, "device import", &added, err);
    free(arr);
    if (ret == 0)
        a->added += (size_t)added;
    return ret;
}

static int import_work(struct pg_conn *c, void *arg, struct cmpca_err *err)
{
    struct import_args *a = arg;
    long long now = (long long)time(NULL);
    struct pg_params p;
    PGresult *r = NULL;
    int ret, found;

    a->added = 0;
    pgp_init(&p);
    pgp_text(&p, a->vendor);
    /* FOR KEY SHARE: the vendor row stays until we commit */
    ret = pg_run(c, PG_VENDOR_EXISTS,
                 "SELECT 1 FROM vendors WHERE name = $1 FOR KEY SHARE", &p,
                 "vendor lookup", &r, err);
    if (ret != 0)
        return ret;
    found = PQntuples(r) > 0;
    PQclear(r);
    if (!found)
        return STORE_NOTFOUND;
    for (size_t from = 0; from < a->num; from += SERIALS_PER_STATEMENT) {
        size_t n = a->num - from < SERIALS_PER_STATEMENT
                       ? a->num - from
                       : SERIALS_PER_STATEMENT;

        if ((ret = import_chunk(c, a, from, n, now, err)) != 0)
            return ret;
    }
    if (!a->ignore_dups && a->added < a->num)
        return STORE_EXISTS;
    return 0;
}

int pgs_device_import(struct pg_store *pg, const char *vendor,
                      const char *const *serials, size_t num, int approval,
                      int ignore_dups, size_t *num_added, size_t *num_skipped,
                      struct cmpca_err *err)
{
    struct import_args a = {vendor, serials, num, approval, ignore_dups, 0};
    int ret = pg_write(pg, import_work, &a, err);

    *num_added = *num_skipped = 0;
    if (ret == 0) {
        *num_added = a.added;
        *num_skipped = num - a.added;
    }
    return ret;
}

static void device_borrow_row(const PGresult *r, int row,
                              struct store_device *d)
{
    d->vendor = (char *)pg_col_str(r, row, 0);
    d->serial = (char *)pg_col_str(r, row, 1);
    d->state = (int)pg_col_int(r, row, 2);
    d->created = (time_t)pg_col_int(r, row, 3);
    d->updated = (time_t)pg_col_int(r, row, 4);
    d->approval = (int)pg_col_int(r, row, 5);
}

int pgs_device_get(struct pg_store *pg, const char *vendor, const char *serial,
                   struct store_device *out, struct cmpca_err *err)
{
    struct store_device row;
    struct pg_params p;
    PGresult *r = NULL;
    int ret = 0;

    pgp_init(&p);
    pgp_text(&p, vendor);
    pgp_text(&p, serial);
    if (pg_query(pg, PG_DEVICE_GET,
                 "SELECT " DEVICE_COLS
                 " FROM devices WHERE vendor = $1 AND serial = $2",
                 &p, "device get", &r, err) != 0)
        return -1;
    if (PQntuples(r) == 0) {
        PQclear(r);
        return STORE_NOTFOUND;
    }
    device_borrow_row(r, 0, &row);
    memset(out, 0, sizeof(*out));
    out->state = row.state;
    out->created = row.created;
    out->updated = row.updated;
    out->approval = row.approval;
    if ((out->vendor = strdup(row.vendor)) == NULL ||
        (out->serial = strdup(row.serial)) == NULL) {
        store_device_clear(out);
        ret = pg_oom(err);
    }
    PQclear(r);
    return ret;
}

int pgs_device_set_state(struct pg_store *pg, const char *vendor,
                         const char *serial, int state, struct cmpca_err *err)
{
    struct pg_params p;
    long n = 0;

    pgp_init(&p);
    pgp_int(&p, state);
    pgp_int(&p, (long long)time(NULL));
    pgp_text(&p, vendor);
    pgp_text(&p, serial);
    if (pg_change(pg, PG_DEVICE_SET_STATE,
                  "UPDATE devices SET state = $1, updated = $2"
                  " WHERE vendor = $3 AND serial = $4",
                  &p, "device state", &n, err) != 0)
        return -1;
    return n > 0 ? 0 : STORE_NOTFOUND;
}

int pgs_device_set_approval(struct pg_store *pg, const char *vendor,
                            const char *serial, int approval,
                            struct cmpca_err *err)
{
    struct pg_params p;
    long n = 0;

    pgp_init(&p);
    pgp_int(&p, approval);
    pgp_int(&p, (long long)time(NULL));
    pgp_text(&p, vendor);
    pgp_text(&p, serial);
    /* PostgreSQL counts matched rows, changed or not, as SQLite does */
    if (pg_change(pg, PG_DEVICE_SET_APPROVAL,
                  "UPDATE devices SET approval = $1, updated = $2"
                  " WHERE vendor = $3 AND serial = $4",
                  &p, "device approval", &n, err) != 0)
        return -1;
    return n > 0 ? 0 : STORE_NOTFOUND;
}

/* The rows are fetched whole and the connection given back before the
 * first callback: a callback may call the store itself. */
int pgs_device_foreach(struct pg_store *pg, const char *vendor,
                       int (*fn)(void *arg, const struct store_device *d),
                       void *arg, struct cmpca_err *err)
{
    struct store_device row;
    struct pg_params p;
    PGresult *r = NULL;
    int ret;

    pgp_init(&p);
    if (vendor == NULL) {
        ret = pg_query(pg, PG_DEVICE_LIST_ALL,
                       "SELECT " DEVICE_COLS
                       " FROM devices ORDER BY vendor, serial",
                       &p, "device list", &r, err);
    } else {
        pgp_text(&p, vendor);
        ret = pg_query(pg, PG_DEVICE_LIST_VENDOR,
                       "SELECT " DEVICE_COLS
                       " FROM devices WHERE vendor = $1 ORDER BY serial",
                       &p, "device list", &r, err);
    }
    if (ret != 0)
        return -1;
    for (int i = 0; i < PQntuples(r); i++) {
        device_borrow_row(r, i, &row);
        if (fn(arg, &row) != 0)
            break;
    }
    PQclear(r);
    return 0;
}
