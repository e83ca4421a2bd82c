/*
 * store_sqlite_ra.c: the ras table, the registration authorities allowed to
 * send requests on behalf of devices. The server reads the whole table on
 * every request protected by a certificate that is not a device's (a
 * handful of rows, so one ordered scan beats keeping a cache coherent with
 * the CLI), and the CLI writes it rarely. A registration is its certificate,
 * pinned by value: a certificate may therefore belong to one RA only, and
 * store_ra_add checks that inside the same write transaction as the insert,
 * so two concurrent `ra add` runs cannot register it twice. The comparison is
 * on the PEM text, which is exact because the CLI stores its own encoding
 * of the parsed certificate, never the operator's file.
 */
#include "store/store_sqlite_local.h"

#include <stdlib.h>
#include <string.h>

#define RA_COLS "name, cert_pem, vendors, may_raverify, may_revoke, created"

/* Longest vendor list we accept: every vendor name is at most 64 bytes. */
#define RA_MAX_VENDORS_LEN 8192

static int ra_name_ok(const char *s, size_t len)
{
    static const char allowed[] = "abcdefghijklmnopqrstuvwxyz"
                                  "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-";
    size_t i;

    if (len < 1 || len > 64)
        return 0;
    for (i = 0; i < len; i++)
        if (s[i] == '\0' || strchr(allowed, s[i]) == NULL)
            return 0;
    return 1;
}

/* "*", or names joined by single commas, without empty items. */
static int ra_vendors_ok(const char *vendors)
{
    const char *p = vendors, *comma;

    if (strcmp(vendors, "*") == 0)
        return 1;
    if (strlen(vendors) > RA_MAX_VENDORS_LEN)
        return 0;
    for (;;) {
        comma = strchr(p, ',');
        if (!ra_name_ok(p, comma != NULL ? (size_t)(comma - p) : strlen(p)))
            return 0;
        if (comma == NULL)
            return 1;
        p = comma + 1;
    }
}

static int ra_from_row(sqlite3_stmt *s, struct store_ra *ra,
                       struct cmpca_err *err)
{
    memset(ra, 0, sizeof(*ra));
    if (sq_col_text(s, 0, &ra->name, err) != 0 ||
        sq_col_text(s, 1, &ra->cert_pem, err) != 0 ||
        sq_col_text(s, 2, &ra->vendors, err) != 0) {
        store_ra_clear(ra);
        return -1;
    }
    ra->may_raverify = sqlite3_column_int(s, 3) != 0;
    ra->may_revoke = sqlite3_column_int(s, 4) != 0;
    ra->created = (time_t)sqlite3_column_int64(s, 5);
    return 0;
}

/* 0 when no RA holds `cert_pem` yet, STORE_EXISTS, or a failure. */
static int ra_cert_free(struct sq_conn *c, const char *cert_pem,
                        struct cmpca_err *err)
{
    sqlite3_stmt *s;
    int rc, ret;

    s = sq_stmt(c, SQ_RA_CERT_OWNER,
                "SELECT 1 FROM ras WHERE cert_pem = ? LIMIT 1", &rc, err);
    if (s == NULL)
        return sq_fail(c->db, rc, "ra add", err);
    if ((rc = sq_bind_text(s, 1, cert_pem)) != SQLITE_OK)
        ret = sq_fail(c->db, rc, "ra add", err);
    else if ((rc = sqlite3_step(s)) == SQLITE_ROW)
        ret = STORE_EXISTS;
    else if (rc == SQLITE_DONE)
        ret = 0;
    else
        ret = sq_fail(c->db, rc, "ra add", err);
    sq_done(s);
    return ret;
}

static int ra_add_work(struct sq_conn *c, void *arg, struct cmpca_err *err)
{
    const struct store_ra *ra = arg;
    time_t created = ra->created != 0 ? ra->created : time(NULL);
    sqlite3_stmt *s;
    int rc, ret;

    if ((ret = ra_cert_free(c, ra->cert_pem, err)) != 0)
        return ret;
    s = sq_stmt(c, SQ_RA_INSERT,
                "INSERT INTO ras (" RA_COLS ") VALUES (?,?,?,?,?,?)", &rc, err);
    if (s == NULL)
        return sq_fail(c->db, rc, "ra add", err);
    if ((rc = sq_bind_text(s, 1, ra->name)) != SQLITE_OK ||
        (rc = sq_bind_text(s, 2, ra->cert_pem)) != SQLITE_OK ||
        (rc = sq_bind_text(s, 3, ra->vendors)) != SQLITE_OK ||
        (rc = sqlite3_bind_int(s, 4, ra->may_raverify != 0)) != SQLITE_OK ||
        (rc = sqlite3_bind_int(s, 5, ra->may_revoke != 0)) != SQLITE_OK ||
        (rc = sqlite3_bind_int64(s, 6, (sqlite3_int64)created)) != SQLITE_OK) {
        sq_done(s);
        return sq_fail(c->db, rc, "ra add", err);
    }
    if (sq_exec_changes(c, s, "ra add", NULL, &rc, err) == 0)
        return 0;
    if (rc == SQLITE_CONSTRAINT_PRIMARYKEY || rc == SQLITE_CONSTRAINT_UNIQUE)
        return STORE_EXISTS;
    return sq_fail(c->db, rc, "ra add", err);
}

int store_ra_add(struct store *st, const struct store_ra *ra,
                 struct cmpca_err *err)
{
    if (ra == NULL || ra->name == NULL || ra->cert_pem == NULL ||
        ra->vendors == NULL)
        return cmpca_err_set(err, FI_SYSTEM_FAILURE,
                             "store: RA needs name, certificate and vendors");
    if (!ra_name_ok(ra->name, strlen(ra->name)))
        return cmpca_err_set(err, FI_SYSTEM_FAILURE,
                             "store: bad RA name \"%s\"", ra->name);
    if (strstr(ra->cert_pem, "-----BEGIN CERTIFICATE-----") == NULL)
        return cmpca_err_set(err, FI_SYSTEM_FAILURE,
                             "store: RA certificate is not PEM");
    if (!ra_vendors_ok(ra->vendors))
        return cmpca_err_set(err, FI_SYSTEM_FAILURE,
                             "store: RA vendors must be \"*\" or names "
                             "joined by commas");
    if (st->pg != NULL)
        return pgs_ra_add(st->pg, ra, err);
    return sq_write(st, ra_add_work, (void *)ra, err);
}

static int ra_remove_work(struct sq_conn *c, void *arg, struct cmpca_err *err)
{
    const char *name = arg;
    sqlite3_stmt *s;
    int rc, ret, changes = 0;

    s = sq_stmt(c, SQ_RA_DELETE, "DELETE FROM ras WHERE name = ?", &rc, err);
    if (s == NULL)
        return sq_fail(c->db, rc, "ra remove", err);
    if ((rc = sq_bind_text(s, 1, name)) != SQLITE_OK) {
        sq_done(s);
        return sq_fail(c->db, rc, "ra remove", err);
    }
    ret = sq_exec_changes(c, s, "ra remove", &changes, &rc, err);
    if (ret != 0)
        return ret;
    return changes > 0 ? 0 : STORE_NOTFOUND;
}

int store_ra_remove(struct store *st, const char *name, struct cmpca_err *err)
{
    if (name == NULL)
        return STORE_NOTFOUND;
    if (st->pg != NULL)
        return pgs_ra_remove(st->pg, name, err);
    return sq_write(st, ra_remove_work, (void *)name, err);
}

struct ra_list_args {
    struct store_ra *list;
    size_t num;
};

static int ra_list_push(struct ra_list_args *a, size_t *cap, sqlite3_stmt *s,
                        struct cmpca_err *err)
{
    if (a->num == *cap) {
        size_t ncap = *cap == 0 ? 8 : *cap * 2;
        struct store_ra *n = realloc(a->list, ncap * sizeof(*n));

        if (n == NULL)
            return sq_oom(err);
        a->list = n;
        *cap = ncap;
    }
    if (ra_from_row(s, &a->list[a->num], err) != 0)
        return -1;
    a->num++;
    return 0;
}

static int ra_list_work(struct sq_conn *c, void *arg, struct cmpca_err *err)
{
    struct ra_list_args *a = arg;
    size_t cap = 0;
    sqlite3_stmt *s;
    int rc, ret = 0;

    store_ra_list_free(a->list, a->num); /* from an earlier attempt */
    a->list = NULL;
    a->num = 0;
    s = sq_stmt(c, SQ_RA_LIST, "SELECT " RA_COLS " FROM ras ORDER BY name", &rc,
                err);
    if (s == NULL)
        return sq_fail(c->db, rc, "ra list", err);
    while (ret == 0 && (rc = sqlite3_step(s)) == SQLITE_ROW)
        ret = ra_list_push(a, &cap, s, err);
    if (ret == 0 && rc != SQLITE_DONE)
        ret = sq_fail(c->db, rc, "ra list", err);
    sq_done(s);
    return ret;
}

int store_ra_list(struct store *st, struct store_ra **out, size_t *num_out,
                  struct cmpca_err *err)
{
    struct ra_list_args a = {NULL, 0};
    int ret;

    *out = NULL;
    *num_out = 0;
    if (st->pg != NULL)
        return pgs_ra_list(st->pg, out, num_out, err);
    ret = sq_read(st, ra_list_work, &a, err);
    if (ret != 0) {
        store_ra_list_free(a.list, a.num);
        return ret;
    }
    *out = a.list;
    *num_out = a.num;
    return 0;
}

void store_ra_clear(struct store_ra *ra)
{
    if (ra == NULL)
        return;
    free(ra->name);
    free(ra->cert_pem);
    free(ra->vendors);
    memset(ra, 0, sizeof(*ra));
}

void store_ra_list_free(struct store_ra *ras, size_t num)
{
    if (ras == NULL)
        return;
    for (size_t i = 0; i < num; i++)
        store_ra_clear(&ras[i]);
    free(ras);
}
