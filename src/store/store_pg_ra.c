/*
 * store_pg_ra.c: the credential tables on PostgreSQL: registration
 * authorities (ras) and the shared secrets of MAC-protected enrollment
 * (secrets). The fronts, with the rules on names, vendor lists and kids,
 * are store_sqlite_ra.c and store_sqlite_secret.c.
 *
 * Both have a rule a unique key cannot state alone. One certificate names
 * one RA: registering takes a table lock that only RA registrations
 * contend for (readers go on), checks, then inserts. One device has one
 * secret: setting it locks the device row first, so two operators setting
 * secrets for one device at once replace each other in turn instead of
 * leaving two. Marking a single-use secret used is a conditional UPDATE,
 * which PostgreSQL re-checks after waiting for a concurrent one: exactly
 * one enrollment wins.
 */
#include "store/store_pg_local.h"

#include <stdlib.h>
#include <string.h>

#define RA_COLS     "name, cert_pem, vendors, may_raverify, may_revoke, created"
#define SECRET_COLS "kid, vendor, device, sealed, single_use, used, created"

/* ---- RAs ---- */

static int ra_add_work(struct pg_conn *c, void *arg, struct cmpca_err *err)
{
    const struct store_ra *ra = arg;
    struct pg_params p;
    PGresult *r = NULL;
    long n = 0;
    int ret, taken;

    ret = pg_simple(c, "LOCK TABLE ras IN SHARE ROW EXCLUSIVE MODE", err);
    if (ret != 0)
        return ret;
    pgp_init(&p);
    pgp_text(&p, ra->cert_pem);
    ret = pg_run(c, PG_RA_CERT_OWNER,
                 "SELECT 1 FROM ras WHERE cert_pem = $1 LIMIT 1", &p, "ra add",
                 &r, err);
    if (ret != 0)
        return ret;
    taken = PQntuples(r) > 0;
    PQclear(r);
    if (taken)
        return STORE_EXISTS;
    pgp_init(&p);
    pgp_text(&p, ra->name);
    pgp_text(&p, ra->cert_pem);
    pgp_text(&p, ra->vendors);
    pgp_int(&p, ra->may_raverify != 0);
    pgp_int(&p, ra->may_revoke != 0);
    pgp_int(&p, (long long)(ra->created != 0 ? ra->created : time(NULL)));
    ret = pg_run_changes(c, PG_RA_INSERT,
                         "INSERT INTO ras (" RA_COLS ") VALUES ($1, $2, $3,"
                         " $4, $5, $6) ON CONFLICT (name) DO NOTHING",
                         &p, "ra add", &n, err);
    if (ret != 0)
        return ret;
    return n > 0 ? 0 : STORE_EXISTS;
}

int pgs_ra_add(struct pg_store *pg, const struct store_ra *ra,
               struct cmpca_err *err)
{
    return pg_write(pg, ra_add_work, (void *)ra, err);
}

int pgs_ra_remove(struct pg_store *pg, const char *name, struct cmpca_err *err)
{
    struct pg_params p;
    long n = 0;

    pgp_init(&p);
    pgp_text(&p, name);
    if (pg_change(pg, PG_RA_DELETE, "DELETE FROM ras WHERE name = $1", &p,
                  "ra remove", &n, err) != 0)
        return -1;
    return n > 0 ? 0 : STORE_NOTFOUND;
}

static int ra_from_row(const PGresult *r, int row, struct store_ra *ra,
                       struct cmpca_err *err)
{
    memset(ra, 0, sizeof(*ra));
    if (pg_col_text(r, row, 0, &ra->name, err) != 0 ||
        pg_col_text(r, row, 1, &ra->cert_pem, err) != 0 ||
        pg_col_text(r, row, 2, &ra->vendors, err) != 0) {
        store_ra_clear(ra);
        return -1;
    }
    ra->may_raverify = pg_col_int(r, row, 3) != 0;
    ra->may_revoke = pg_col_int(r, row, 4) != 0;
    ra->created = (time_t)pg_col_int(r, row, 5);
    return 0;
}

int pgs_ra_list(struct pg_store *pg, struct store_ra **out, size_t *num_out,
                struct cmpca_err *err)
{
    struct store_ra *list = NULL;
    PGresult *r = NULL;
    int rows, i;

    if (pg_query(pg, PG_RA_LIST, "SELECT " RA_COLS " FROM ras ORDER BY name",
                 NULL, "ra list", &r, err) != 0)
        return -1;
    rows = PQntuples(r);
    if (rows > 0 && (list = calloc((size_t)rows, sizeof(*list))) == NULL) {
        PQclear(r);
        return pg_oom(err);
    }
    for (i = 0; i < rows; i++)
        if (ra_from_row(r, i, &list[i], err) != 0)
            break;
    PQclear(r);
    if (i < rows) {
        store_ra_list_free(list, (size_t)i);
        return -1;
    }
    *out = list;
    *num_out = (size_t)rows;
    return 0;
}

/* ---- secrets ---- */

/* lock_device: 0 with the device row locked, or STORE_NOTFOUND. */
static int lock_device(struct pg_conn *c, const struct store_secret *sec,
                       struct cmpca_err *err)
{
    struct pg_params p;
    PGresult *r = NULL;
    int ret;

    pgp_init(&p);
    pgp_text(&p, sec->vendor);
    pgp_text(&p, sec->device);
    ret = pg_run(c, PG_SECRET_DEVICE_LOCK,
                 "SELECT 1 FROM devices WHERE vendor = $1 AND serial = $2"
                 " FOR UPDATE",
                 &p, "secret put", &r, err);
    if (ret != 0)
        return ret;
    ret = PQntuples(r) > 0 ? 0 : STORE_NOTFOUND;
    PQclear(r);
    return ret;
}

/* 0 when the kid is free or the same device's; STORE_EXISTS otherwise. */
static int kid_free_for(struct pg_conn *c, const struct store_secret *sec,
                        struct cmpca_err *err)
{
    struct pg_params p;
    PGresult *r = NULL;
    const char *v, *d;
    int ret;

    pgp_init(&p);
    pgp_bytes(&p, sec->kid, sec->kid_len);
    ret = pg_run(c, PG_SECRET_KID_OWNER,
                 "SELECT vendor, device FROM secrets WHERE kid = $1", &p,
                 "secret put", &r, err);
    if (ret != 0)
        return ret;
    if (PQntuples(r) > 0) {
        v = pg_col_str(r, 0, 0);
        d = pg_col_str(r, 0, 1);
        ret = v != NULL && d != NULL && strcmp(v, sec->vendor) == 0 &&
                      strcmp(d, sec->device) == 0
                  ? 0
                  : STORE_EXISTS;
    }
    PQclear(r);
    return ret;
}

static int secret_put_work(struct pg_conn *c, void *arg, struct cmpca_err *err)
{
    const struct store_secret *sec = arg;
    struct pg_params p;
    int ret;

    if ((ret = lock_device(c, sec, err)) != 0 ||
        (ret = kid_free_for(c, sec, err)) != 0)
        return ret;
    pgp_init(&p);
    pgp_text(&p, sec->vendor);
    pgp_text(&p, sec->device);
    ret = pg_run(c, PG_SECRET_DELETE_DEVICE,
                 "DELETE FROM secrets WHERE vendor = $1 AND device = $2", &p,
                 "secret put", NULL, err);
    if (ret != 0)
        return ret;
    pgp_init(&p);
    pgp_bytes(&p, sec->kid, sec->kid_len);
    pgp_text(&p, sec->vendor);
    pgp_text(&p, sec->device);
    pgp_bytes(&p, sec->sealed, sec->sealed_len);
    pgp_int(&p, sec->single_use != 0);
    pgp_int(&p, (long long)(sec->created != 0 ? sec->created : time(NULL)));
    ret = pg_run(c, PG_SECRET_INSERT,
                 "INSERT INTO secrets (" SECRET_COLS ") VALUES ($1, $2, $3,"
                 " $4, $5, 0, $6)",
                 &p, "secret put", NULL, err);
    /* another device took the kid after our check */
    return ret == PG_UNIQUE ? STORE_EXISTS : ret;
}

int pgs_secret_put(struct pg_store *pg, const struct store_secret *s,
                   struct cmpca_err *err)
{
    return pg_write(pg, secret_put_work, (void *)s, err);
}

int pgs_secret_get(struct pg_store *pg, const uint8_t *kid, size_t kid_len,
                   struct store_secret *out, struct cmpca_err *err)
{
    struct pg_params p;
    PGresult *r = NULL;
    int ret = STORE_NOTFOUND;

    pgp_init(&p);
    pgp_bytes(&p, kid, kid_len);
    if (pg_query(pg, PG_SECRET_GET,
                 "SELECT " SECRET_COLS " FROM secrets WHERE kid = $1", &p,
                 "secret get", &r, err) != 0)
        return -1;
    if (PQntuples(r) > 0) {
        out->single_use = pg_col_int(r, 0, 4) != 0;
        out->used = pg_col_int(r, 0, 5) != 0;
        out->created = (time_t)pg_col_int(r, 0, 6);
        ret = 0;
        if (pg_col_blob(r, 0, 0, &out->kid, &out->kid_len, err) != 0 ||
            pg_col_text(r, 0, 1, &out->vendor, err) != 0 ||
            pg_col_text(r, 0, 2, &out->device, err) != 0 ||
            pg_col_blob(r, 0, 3, &out->sealed, &out->sealed_len, err) != 0) {
            store_secret_clear(out);
            ret = -1;
        }
    }
    PQclear(r);
    return ret;
}

struct use_args {
    const uint8_t *kid;
    size_t kid_len;
};

static int secret_use_work(struct pg_conn *c, void *arg, struct cmpca_err *err)
{
    const struct use_args *a = arg;
    struct pg_params p;
    PGresult *r = NULL;
    long n = 0;
    int ret;

    pgp_init(&p);
    pgp_bytes(&p, a->kid, a->kid_len);
    /* a reusable secret is marked too (it was used) and always succeeds */
    ret = pg_run_changes(c, PG_SECRET_USE,
                         "UPDATE secrets SET used = 1 WHERE kid = $1 AND"
                         " (used = 0 OR single_use = 0)",
                         &p, "secret use", &n, err);
    if (ret != 0 || n > 0)
        return ret;
    ret = pg_run(c, PG_SECRET_EXISTS, "SELECT 1 FROM secrets WHERE kid = $1",
                 &p, "secret use", &r, err);
    if (ret != 0)
        return ret;
    ret = PQntuples(r) > 0 ? STORE_EXISTS : STORE_NOTFOUND;
    PQclear(r);
    return ret;
}

int pgs_secret_use(struct pg_store *pg, const uint8_t *kid, size_t kid_len,
                   struct cmpca_err *err)
{
    struct use_args a = {kid, kid_len};

    return pg_write(pg, secret_use_work, &a, err);
}
