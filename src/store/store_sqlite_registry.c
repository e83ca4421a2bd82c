/*
 * store_sqlite_registry.c: the vendors and devices tables, i.e. who may do
 * an initial enrollment. Reads come from the server on every ir (one point
 * lookup by primary key); writes come from the CLI, mostly as bulk imports
 * of device serials from a manufacturer's list, which is why import is one
 * transaction over one cached INSERT OR IGNORE. The operator's approval
 * decisions (manual approval mode) are plain state changes of a device row,
 * so the server sees them on its next lookup of that device.
 */
#include "store/store_sqlite_local.h"

#include <stdlib.h>
#include <string.h>

#define VENDOR_COLS "name, root_pem, chain_pem, id_attr, created, crl_pem"
#define DEVICE_COLS "vendor, serial, state, created, updated, approval"

/* ---- vendors ---- */

static int vendor_from_row(sqlite3_stmt *s, struct store_vendor *v,
                           struct cmpca_err *err)
{
    memset(v, 0, sizeof(*v));
    if (sq_col_text(s, 0, &v->name, err) != 0 ||
        sq_col_text(s, 1, &v->root_pem, err) != 0 ||
        sq_col_text(s, 2, &v->chain_pem, err) != 0 ||
        sq_col_text(s, 3, &v->id_attr, err) != 0 ||
        sq_col_text(s, 5, &v->crl_pem, err) != 0) {
        store_vendor_clear(v);
        return -1;
    }
    v->created = (time_t)sqlite3_column_int64(s, 4);
    return 0;
}

static int vendor_add_work(struct sq_conn *c, void *arg, struct cmpca_err *err)
{
    const struct store_vendor *v = arg;
    time_t created = v->created != 0 ? v->created : time(NULL);
    sqlite3_stmt *s;
    int rc;

    s = sq_stmt(c, SQ_VENDOR_INSERT,
                "INSERT INTO vendors (" VENDOR_COLS ") VALUES (?,?,?,?,?,?)",
                &rc, err);
    if (s == NULL)
        return sq_fail(c->db, rc, "vendor add", err);
    if ((rc = sq_bind_text(s, 1, v->name)) != SQLITE_OK ||
        (rc = sq_bind_text(s, 2, v->root_pem)) != SQLITE_OK ||
        (rc = sq_bind_text(s, 3, v->chain_pem)) != SQLITE_OK ||
        (rc = sq_bind_text(s, 4, v->id_attr)) != SQLITE_OK ||
        (rc = sqlite3_bind_int64(s, 5, (sqlite3_int64)created)) != SQLITE_OK ||
        (rc = sq_bind_text(s, 6, v->crl_pem)) != SQLITE_OK) {
        sq_done(s);
        return sq_fail(c->db, rc, "vendor add", err);
    }
    if (sq_exec_changes(c, s, "vendor add", NULL, &rc, err) == 0)
        return 0;
    if (rc == SQLITE_CONSTRAINT_PRIMARYKEY || rc == SQLITE_CONSTRAINT_UNIQUE)
        return STORE_EXISTS;
    return sq_fail(c->db, rc, "vendor add", err);
}

int store_vendor_add(struct store *st, const struct store_vendor *v,
                     struct cmpca_err *err)
{
    if (v == NULL || v->name == NULL || *v->name == '\0' ||
        v->root_pem == NULL || v->id_attr == NULL)
        return cmpca_err_set(err, FI_SYSTEM_FAILURE,
                             "store: vendor needs name, root and id_attr");
    if (strcmp(v->id_attr, "serialNumber") != 0 &&
        strcmp(v->id_attr, "CN") != 0)
        return cmpca_err_set(err, FI_SYSTEM_FAILURE,
                             "store: vendor id_attr must be serialNumber or "
                             "CN, not \"%s\"",
                             v->id_attr);
    if (st->pg != NULL)
        return pgs_vendor_add(st->pg, v, err);
    return sq_write(st, vendor_add_work, (void *)v, err);
}

struct vendor_get_args {
    const char *name;
    struct store_vendor *out;
};

static int vendor_get_work(struct sq_conn *c, void *arg, struct cmpca_err *err)
{
    struct vendor_get_args *a = arg;
    sqlite3_stmt *s;
    int rc, ret;

    s = sq_stmt(c, SQ_VENDOR_GET,
                "SELECT " VENDOR_COLS " FROM vendors WHERE name = ?", &rc, err);
    if (s == NULL)
        return sq_fail(c->db, rc, "vendor get", err);
    if ((rc = sq_bind_text(s, 1, a->name)) != SQLITE_OK)
        ret = sq_fail(c->db, rc, "vendor get", err);
    else if ((rc = sqlite3_step(s)) == SQLITE_ROW)
        ret = vendor_from_row(s, a->out, err);
    else if (rc == SQLITE_DONE)
        ret = STORE_NOTFOUND;
    else
        ret = sq_fail(c->db, rc, "vendor get", err);
    sq_done(s);
    return ret;
}

int store_vendor_get(struct store *st, const char *name,
                     struct store_vendor *out, struct cmpca_err *err)
{
    struct vendor_get_args a = {name, out};

    memset(out, 0, sizeof(*out));
    if (name == NULL)
        return STORE_NOTFOUND;
    if (st->pg != NULL)
        return pgs_vendor_get(st->pg, name, out, err);
    return sq_read(st, vendor_get_work, &a, err);
}

struct vendor_list_args {
    struct store_vendor *list;
    size_t num;
};

static int vendor_list_work(struct sq_conn *c, void *arg, struct cmpca_err *err)
{
    struct vendor_list_args *a = arg;
    size_t cap = 0;
    sqlite3_stmt *s;
    int rc, ret = 0;

    store_vendor_list_free(a->list, a->num); /* from an earlier attempt */
    a->list = NULL;
    a->num = 0;
    s = sq_stmt(c, SQ_VENDOR_LIST,
                "SELECT " VENDOR_COLS " FROM vendors ORDER BY name", &rc, err);
    if (s == NULL)
        return sq_fail(c->db, rc, "vendor list", err);
    while (ret == 0 && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (a->num == cap) {
            size_t ncap = cap == 0 ? 8 : cap * 2;
            struct store_vendor *n = realloc(a->list, ncap * sizeof(*n));

            if (n == NULL) {
                ret = sq_oom(err);
                break;
            }
            a->list = n;
            cap = ncap;
        }
        if ((ret = vendor_from_row(s, &a->list[a->num], err)) == 0)
            a->num++;
    }
    if (ret == 0 && rc != SQLITE_DONE)
        ret = sq_fail(c->db, rc, "vendor list", err);
    sq_done(s);
    return ret;
}

int store_vendor_list(struct store *st, struct store_vendor **out,
                      size_t *num_out, struct cmpca_err *err)
{
    struct vendor_list_args a = {NULL, 0};
    int ret;

    *out = NULL;
    *num_out = 0;
    if (st->pg != NULL)
        return pgs_vendor_list(st->pg, out, num_out, err);
    ret = sq_read(st, vendor_list_work, &a, err);
    if (ret != 0) {
        store_vendor_list_free(a.list, a.num);
        return ret;
    }
    *out = a.list;
    *num_out = a.num;
    return 0;
}

void store_vendor_clear(struct store_vendor *v)
{
    if (v == NULL)
        return;
    free(v->name);
    free(v->root_pem);
    free(v->chain_pem);
    free(v->id_attr);
    free(v->crl_pem);
    memset(v, 0, sizeof(*v));
}

void store_vendor_list_free(struct store_vendor *v, size_t num)
{
    if (v == NULL)
        return;
    for (size_t i = 0; i < num; i++)
        store_vendor_clear(&v[i]);
    free(v);
}

/* ---- devices ---- */

/* vendor_exists: 0 if present, STORE_NOTFOUND, or a failure. */
static int vendor_exists(struct sq_conn *c, const char *vendor,
                         struct cmpca_err *err)
{
    sqlite3_stmt *s;
    int rc, ret;

    s = sq_stmt(c, SQ_VENDOR_EXISTS, "SELECT 1 FROM vendors WHERE name = ?",
                &rc, err);
    if (s == NULL)
        return sq_fail(c->db, rc, "vendor lookup", err);
    if ((rc = sq_bind_text(s, 1, vendor)) != SQLITE_OK)
        ret = sq_fail(c->db, rc, "vendor lookup", err);
    else if ((rc = sqlite3_step(s)) == SQLITE_ROW)
        ret = 0;
    else if (rc == SQLITE_DONE)
        ret = STORE_NOTFOUND;
    else
        ret = sq_fail(c->db, rc, "vendor lookup", err);
    sq_done(s);
    return ret;
}

struct device_import_args {
    const char *vendor;
    const char *const *serials;
    size_t num;
    size_t added;
    size_t skipped;
    int ignore_dups; /* 0: a duplicate is STORE_EXISTS (store_device_add) */
    int approval;    /* enum store_device_approval of the new rows */
};

static int device_import_work(struct sq_conn *c, void *arg,
                              struct cmpca_err *err)
{
    struct device_import_args *a = arg;
    sqlite3_int64 now = (sqlite3_int64)time(NULL);
    sqlite3_stmt *s;
    int rc, ret, changes = 0;

    a->added = a->skipped = 0;
    if ((ret = vendor_exists(c, a->vendor, err)) != 0)
        return ret;
    s = sq_stmt(c, SQ_DEVICE_INSERT_IGNORE,
                "INSERT INTO devices (" DEVICE_COLS ") VALUES (?,?,0,?,?,?)"
                " ON CONFLICT (vendor, serial) DO NOTHING",
                &rc, err);
    if (s == NULL)
        return sq_fail(c->db, rc, "device import", err);
    for (size_t i = 0; i < a->num; i++) {
        if ((rc = sq_bind_text(s, 1, a->vendor)) != SQLITE_OK ||
            (rc = sq_bind_text(s, 2, a->serials[i])) != SQLITE_OK ||
            (rc = sqlite3_bind_int64(s, 3, now)) != SQLITE_OK ||
            (rc = sqlite3_bind_int64(s, 4, now)) != SQLITE_OK ||
            (rc = sqlite3_bind_int(s, 5, a->approval)) != SQLITE_OK) {
            sq_done(s);
            return sq_fail(c->db, rc, "device import", err);
        }
        ret = sq_exec_changes(c, s, "device import", &changes, &rc, err);
        if (ret != 0)
            return ret;
        if (changes > 0)
            a->added++;
        else if (!a->ignore_dups)
            return STORE_EXISTS;
        else
            a->skipped++;
    }
    return 0;
}

static int approval_ok(int approval, struct cmpca_err *err)
{
    if (approval == APPROVAL_AUTO || approval == APPROVAL_MANUAL)
        return 0;
    return cmpca_err_set(err, FI_SYSTEM_FAILURE,
                         "store: invalid approval mode %d", approval);
}

int store_device_add(struct store *st, const char *vendor, const char *serial,
                     int approval, struct cmpca_err *err)
{
    struct device_import_args a = {.vendor = vendor,
                                   .serials = &serial,
                                   .num = 1,
                                   .ignore_dups = 0,
                                   .approval = approval};

    if (approval_ok(approval, err) != 0)
        return -1;
    if (vendor == NULL)
        return STORE_NOTFOUND;
    if (sq_check_device_serial(serial, err) != 0)
        return -1;
    if (st->pg != NULL)
        return pgs_device_import(st->pg, vendor, &serial, 1, approval, 0,
                                 &a.added, &a.skipped, err);
    return sq_write(st, device_import_work, &a, err);
}

int store_device_import(struct store *st, const char *vendor,
                        const char *const *serials, size_t num, int approval,
                        size_t *num_added, size_t *num_skipped,
                        struct cmpca_err *err)
{
    struct device_import_args a = {.vendor = vendor,
                                   .serials = serials,
                                   .num = num,
                                   .ignore_dups = 1,
                                   .approval = approval};
    int ret;

    *num_added = *num_skipped = 0;
    if (approval_ok(approval, err) != 0)
        return -1;
    if (vendor == NULL)
        return STORE_NOTFOUND;
    if (serials == NULL && num > 0)
        return cmpca_err_set(err, FI_SYSTEM_FAILURE, "store: no serials");
    /* check all first: a bad line must not cost a rolled-back transaction */
    for (size_t i = 0; i < num; i++) {
        struct cmpca_err why = CMPCA_ERR_INIT;

        if (sq_check_device_serial(serials[i], &why) != 0)
            return cmpca_err_set(err, FI_SYSTEM_FAILURE,
                                 "%s (serial #%zu); nothing imported", why.msg,
                                 i + 1);
    }
    if (st->pg != NULL)
        return pgs_device_import(st->pg, vendor, serials, num, approval, 1,
                                 num_added, num_skipped, err);
    ret = sq_write(st, device_import_work, &a, err);
    if (ret == 0) {
        *num_added = a.added;
        *num_skipped = a.skipped;
    }
    return ret;
}

static void device_borrow_row(sqlite3_stmt *s, struct store_device *d)
{
    d->vendor = (char *)sqlite3_column_text(s, 0);
    d->serial = (char *)sqlite3_column_text(s, 1);
    d->state = sqlite3_column_int(s, 2);
    d->created = (time_t)sqlite3_column_int64(s, 3);
    d->updated = (time_t)sqlite3_column_int64(s, 4);
    d->approval = sqlite3_column_int(s, 5);
}

struct device_get_args {
    const char *vendor;
    const char *serial;
    struct store_device *out;
};

static int device_get_work(struct sq_conn *c, void *arg, struct cmpca_err *err)
{
    struct device_get_args *a = arg;
    struct store_device row;
    sqlite3_stmt *s;
    int rc, ret = -1;

    s = sq_stmt(c, SQ_DEVICE_GET,
                "SELECT " DEVICE_COLS
                " FROM devices WHERE vendor = ? AND serial = ?",
                &rc, err);
    if (s == NULL)
        return sq_fail(c->db, rc, "device get", err);
    if ((rc = sq_bind_text(s, 1, a->vendor)) != SQLITE_OK ||
        (rc = sq_bind_text(s, 2, a->serial)) != SQLITE_OK)
        ret = sq_fail(c->db, rc, "device get", err);
    else if ((rc = sqlite3_step(s)) == SQLITE_DONE)
        ret = STORE_NOTFOUND;
    else if (rc != SQLITE_ROW)
        ret = sq_fail(c->db, rc, "device get", err);
    else {
        device_borrow_row(s, &row);
        memset(a->out, 0, sizeof(*a->out));
        a->out->state = row.state;
        a->out->created = row.created;
        a->out->updated = row.updated;
        a->out->approval = row.approval;
        if ((a->out->vendor = strdup(row.vendor)) == NULL ||
            (a->out->serial = strdup(row.serial)) == NULL) {
            store_device_clear(a->out);
            ret = sq_oom(err);
        } else {
            ret = 0;
        }
    }
    sq_done(s);
    return ret;
}

int store_device_get(struct store *st, const char *vendor, const char *serial,
                     struct store_device *out, struct cmpca_err *err)
{
    struct device_get_args a = {vendor, serial, out};

    memset(out, 0, sizeof(*out));
    if (vendor == NULL || serial == NULL)
        return STORE_NOTFOUND;
    if (st->pg != NULL)
        return pgs_device_get(st->pg, vendor, serial, out, err);
    return sq_read(st, device_get_work, &a, err);
}

struct device_state_args {
    const char *vendor;
    const char *serial;
    int state;
};

static int device_state_work(struct sq_conn *c, void *arg,
                             struct cmpca_err *err)
{
    struct device_state_args *a = arg;
    sqlite3_stmt *s;
    int rc, ret, changes = 0;

    s = sq_stmt(c, SQ_DEVICE_SET_STATE,
                "UPDATE devices SET state = ?, updated = ?"
                " WHERE vendor = ? AND serial = ?",
                &rc, err);
    if (s == NULL)
        return sq_fail(c->db, rc, "device state", err);
    if ((rc = sqlite3_bind_int(s, 1, a->state)) != SQLITE_OK ||
        (rc = sqlite3_bind_int64(s, 2, (sqlite3_int64)time(NULL))) !=
            SQLITE_OK ||
        (rc = sq_bind_text(s, 3, a->vendor)) != SQLITE_OK ||
        (rc = sq_bind_text(s, 4, a->serial)) != SQLITE_OK) {
        sq_done(s);
        return sq_fail(c->db, rc, "device state", err);
    }
    ret = sq_exec_changes(c, s, "device state", &changes, &rc, err);
    if (ret != 0)
        return ret;
    return changes > 0 ? 0 : STORE_NOTFOUND;
}

int store_device_set_state(struct store *st, const char *vendor,
                           const char *serial, int state, struct cmpca_err *err)
{
    struct device_state_args a = {vendor, serial, state};

    if (state != DEVICE_REGISTERED && state != DEVICE_ENROLLED &&
        state != DEVICE_DISABLED && state != DEVICE_APPROVED &&
        state != DEVICE_REJECTED)
        return cmpca_err_set(err, FI_SYSTEM_FAILURE,
                             "store: invalid device state %d", state);
    if (vendor == NULL || serial == NULL)
        return STORE_NOTFOUND;
    if (st->pg != NULL)
        return pgs_device_set_state(st->pg, vendor, serial, state, err);
    return sq_write(st, device_state_work, &a, err);
}

struct device_approval_args {
    const char *vendor;
    const char *serial;
    int approval;
};

static int device_approval_work(struct sq_conn *c, void *arg,
                                struct cmpca_err *err)
{
    struct device_approval_args *a = arg;
    sqlite3_stmt *s;
    int rc, ret, changes = 0;

    s = sq_stmt(c, SQ_DEVICE_SET_APPROVAL,
                "UPDATE devices SET approval = ?, updated = ?"
                " WHERE vendor = ? AND serial = ?",
                &rc, err);
    if (s == NULL)
        return sq_fail(c->db, rc, "device approval", err);
    if ((rc = sqlite3_bind_int(s, 1, a->approval)) != SQLITE_OK ||
        (rc = sqlite3_bind_int64(s, 2, (sqlite3_int64)time(NULL))) !=
            SQLITE_OK ||
        (rc = sq_bind_text(s, 3, a->vendor)) != SQLITE_OK ||
        (rc = sq_bind_text(s, 4, a->serial)) != SQLITE_OK) {
        sq_done(s);
        return sq_fail(c->db, rc, "device approval", err);
    }
    ret = sq_exec_changes(c, s, "device approval", &changes, &rc, err);
    if (ret != 0)
        return ret;
    /* SQLite counts a matched row as changed even when the value was
     * already `approval`, so 0 means "no such device" */
    return changes > 0 ? 0 : STORE_NOTFOUND;
}

int store_device_set_approval(struct store *st, const char *vendor,
                              const char *serial, int approval,
                              struct cmpca_err *err)
{
    struct device_approval_args a = {vendor, serial, approval};

    if (approval != APPROVAL_AUTO && approval != APPROVAL_MANUAL)
        return cmpca_err_set(err, FI_SYSTEM_FAILURE,
                             "store: invalid device approval mode %d",
                             approval);
    if (vendor == NULL || serial == NULL)
        return STORE_NOTFOUND;
    if (st->pg != NULL)
        return pgs_device_set_approval(st->pg, vendor, serial, approval, err);
    return sq_write(st, device_approval_work, &a, err);
}

struct device_foreach_args {
    const char *vendor;
    int (*fn)(void *arg, const struct store_device *d);
    void *arg;
};

static int device_foreach_work(struct sq_conn *c, void *arg,
                               struct cmpca_err *err)
{
    struct device_foreach_args *a = arg;
    struct store_device row;
    sqlite3_stmt *s;
    int rc, ret = 0, calls = 0;

    if (a->vendor == NULL)
        s = sq_stmt(c, SQ_DEVICE_LIST_ALL,
                    "SELECT " DEVICE_COLS
                    " FROM devices ORDER BY vendor, serial",
                    &rc, err);
    else
        s = sq_stmt(c, SQ_DEVICE_LIST_VENDOR,
                    "SELECT " DEVICE_COLS
                    " FROM devices WHERE vendor = ? ORDER BY serial",
                    &rc, err);
    if (s == NULL)
        return sq_fail(c->db, rc, "device list", err);
    rc = a->vendor != NULL ? sq_bind_text(s, 1, a->vendor) : SQLITE_OK;
    if (rc == SQLITE_OK) {
        while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
            device_borrow_row(s, &row);
            calls++;
            if (a->fn(a->arg, &row) != 0) {
                rc = SQLITE_DONE;
                break;
            }
        }
    }
    if (rc != SQLITE_DONE) {
        ret = sq_fail(c->db, rc, "device list", err);
        if (ret == SQ_RETRY && calls > 0)
            ret = -1; /* rerunning would call fn twice for the same rows */
    }
    sq_done(s);
    return ret;
}

int store_device_foreach(struct store *st, const char *vendor,
                         int (*fn)(void *arg, const struct store_device *d),
                         void *arg, struct cmpca_err *err)
{
    struct device_foreach_args a = {vendor, fn, arg};

    if (fn == NULL)
        return cmpca_err_set(err, FI_SYSTEM_FAILURE, "store: no callback");
    if (st->pg != NULL)
        return pgs_device_foreach(st->pg, vendor, fn, arg, err);
    return sq_read(st, device_foreach_work, &a, err);
}

void store_device_clear(struct store_device *d)
{
    if (d == NULL)
        return;
    free(d->vendor);
    free(d->serial);
    memset(d, 0, sizeof(*d));
}

struct vendor_crl_args {
    const char *name;
    const char *crl_pem;
};

static int vendor_crl_work(struct sq_conn *c, void *arg, struct cmpca_err *err)
{
    struct vendor_crl_args *a = arg;
    sqlite3_stmt *s;
    int rc, ret, changes = 0;

    s = sq_stmt(c, SQ_VENDOR_SET_CRL,
                "UPDATE vendors SET crl_pem = ? WHERE name = ?", &rc, err);
    if (s == NULL)
        return sq_fail(c->db, rc, "vendor crl", err);
    if ((rc = sq_bind_text(s, 1, a->crl_pem)) != SQLITE_OK ||
        (rc = sq_bind_text(s, 2, a->name)) != SQLITE_OK) {
        sq_done(s);
        return sq_fail(c->db, rc, "vendor crl", err);
    }
    ret = sq_exec_changes(c, s, "vendor crl", &changes, &rc, err);
    if (ret != 0)
        return ret;
    return changes > 0 ? 0 : STORE_NOTFOUND;
}

int store_vendor_set_crl(struct store *st, const char *name,
                         const char *crl_pem, struct cmpca_err *err)
{
    struct vendor_crl_args a = {name, crl_pem};

    if (name == NULL)
        return STORE_NOTFOUND;
    if (st->pg != NULL)
        return pgs_vendor_set_crl(st->pg, name, crl_pem, err);
    return sq_write(st, vendor_crl_work, &a, err);
}
