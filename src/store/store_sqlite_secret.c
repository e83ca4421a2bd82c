/*
 * store_sqlite_secret.c: the secrets table, the shared secrets devices
 * without a vendor certificate protect their first request with
 * (PasswordBasedMac, PBMAC1). The store only ever sees them sealed (the ca
 * room encrypts them); the senderKID of a request names the row.
 *
 * A device has at most one secret: setting a new one, under the same kid
 * or another, replaces the old one in the same write transaction, so a
 * secret an operator replaced stops working at once. A kid names one
 * device; reusing another device's kid is refused rather than silently
 * moving the name. Marking a single-use secret used is one conditional
 * UPDATE, so of two concurrent enrollments with the same secret exactly one
 * wins, across threads and processes alike.
 */
#include "store/store_sqlite_local.h"

#include <stdlib.h>
#include <string.h>

#define SECRET_COLS "kid, vendor, device, sealed, single_use, used, created"

/* senderKID is an OCTET STRING of any length; ours name devices, so a
 * device serial's bound is plenty. */
#define SECRET_MAX_KID 256

static int kid_ok(const uint8_t *kid, size_t kid_len)
{
    return kid != NULL && kid_len > 0 && kid_len <= SECRET_MAX_KID;
}

/* Zeroes `len` octets in a way the compiler may not drop. */
static void wipe(uint8_t *p, size_t len)
{
    volatile uint8_t *v = p;

    while (p != NULL && len-- > 0)
        *v++ = 0;
}

/* 0 when device (vendor, serial) is registered, STORE_NOTFOUND, or a
 * failure. */
static int device_known(struct sq_conn *c, const char *vendor,
                        const char *serial, struct cmpca_err *err)
{
    sqlite3_stmt *s;
    int rc, ret;

    s = sq_stmt(c, SQ_SECRET_DEVICE_EXISTS,
                "SELECT 1 FROM devices WHERE vendor = ? AND serial = ?", &rc,
                err);
    if (s == NULL)
        return sq_fail(c->db, rc, "secret put", err);
    if ((rc = sq_bind_text(s, 1, vendor)) != SQLITE_OK ||
        (rc = sq_bind_text(s, 2, serial)) != SQLITE_OK)
        ret = sq_fail(c->db, rc, "secret put", err);
    else if ((rc = sqlite3_step(s)) == SQLITE_ROW)
        ret = 0;
    else if (rc == SQLITE_DONE)
        ret = STORE_NOTFOUND;
    else
        ret = sq_fail(c->db, rc, "secret put", err);
    sq_done(s);
    return ret;
}

/* 0 when `kid` is free or names a secret of the same device; STORE_EXISTS
 * when it names another device's secret. */
static int kid_free_for(struct sq_conn *c, const struct store_secret *sec,
                        struct cmpca_err *err)
{
    const char *v, *d;
    sqlite3_stmt *s;
    int rc, ret;

    s = sq_stmt(c, SQ_SECRET_KID_OWNER,
                "SELECT vendor, device FROM secrets WHERE kid = ?", &rc, err);
    if (s == NULL)
        return sq_fail(c->db, rc, "secret put", err);
    if ((rc = sq_bind_blob(s, 1, sec->kid, sec->kid_len)) != SQLITE_OK) {
        ret = sq_fail(c->db, rc, "secret put", err);
    } else if ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        v = (const char *)sqlite3_column_text(s, 0);
        d = (const char *)sqlite3_column_text(s, 1);
        ret = v != NULL && d != NULL && strcmp(v, sec->vendor) == 0 &&
                      strcmp(d, sec->device) == 0
                  ? 0
                  : STORE_EXISTS;
    } else if (rc == SQLITE_DONE) {
        ret = 0;
    } else {
        ret = sq_fail(c->db, rc, "secret put", err);
    }
    sq_done(s);
    return ret;
}

static int secret_put_work(struct sq_conn *c, void *arg, struct cmpca_err *err)
{
    const struct store_secret *sec = arg;
    time_t created = sec->created != 0 ? sec->created : time(NULL);
    sqlite3_stmt *s;
    int rc, ret;

    if ((ret = device_known(c, sec->vendor, sec->device, err)) != 0 ||
        (ret = kid_free_for(c, sec, err)) != 0)
        return ret;
    s = sq_stmt(c, SQ_SECRET_DELETE_DEVICE,
                "DELETE FROM secrets WHERE vendor = ? AND device = ?", &rc,
                err);
    if (s == NULL)
        return sq_fail(c->db, rc, "secret put", err);
    if ((rc = sq_bind_text(s, 1, sec->vendor)) != SQLITE_OK ||
        (rc = sq_bind_text(s, 2, sec->device)) != SQLITE_OK) {
        sq_done(s);
        return sq_fail(c->db, rc, "secret put", err);
    }
    if ((ret = sq_exec_changes(c, s, "secret put", NULL, &rc, err)) != 0)
        return ret;
    s = sq_stmt(c, SQ_SECRET_INSERT,
                "INSERT INTO secrets (" SECRET_COLS ") VALUES (?,?,?,?,?,0,?)",
                &rc, err);
    if (s == NULL)
        return sq_fail(c->db, rc, "secret put", err);
    if ((rc = sq_bind_blob(s, 1, sec->kid, sec->kid_len)) != SQLITE_OK ||
        (rc = sq_bind_text(s, 2, sec->vendor)) != SQLITE_OK ||
        (rc = sq_bind_text(s, 3, sec->device)) != SQLITE_OK ||
        (rc = sq_bind_blob(s, 4, sec->sealed, sec->sealed_len)) != SQLITE_OK ||
        (rc = sqlite3_bind_int(s, 5, sec->single_use != 0)) != SQLITE_OK ||
        (rc = sqlite3_bind_int64(s, 6, (sqlite3_int64)created)) != SQLITE_OK) {
        sq_done(s);
        return sq_fail(c->db, rc, "secret put", err);
    }
    return sq_exec_changes(c, s, "secret put", NULL, &rc, err);
}

int store_secret_put(struct store *st, const struct store_secret *s,
                     struct cmpca_err *err)
{
    if (s == NULL || !kid_ok(s->kid, s->kid_len) || s->vendor == NULL ||
        s->device == NULL || s->sealed == NULL || s->sealed_len == 0)
        return cmpca_err_set(err, FI_SYSTEM_FAILURE,
                             "store: a secret needs a kid of 1..%d octets, "
                             "a device and its sealed value",
                             SECRET_MAX_KID);
    if (st->pg != NULL)
        return pgs_secret_put(st->pg, s, err);
    return sq_write(st, secret_put_work, (void *)s, err);
}

struct secret_get_args {
    const uint8_t *kid;
    size_t kid_len;
    struct store_secret *out;
};

static int secret_from_row(sqlite3_stmt *s, struct store_secret *out,
                           struct cmpca_err *err)
{
    if (sq_col_blob(s, 0, &out->kid, &out->kid_len, err) != 0 ||
        sq_col_text(s, 1, &out->vendor, err) != 0 ||
        sq_col_text(s, 2, &out->device, err) != 0 ||
        sq_col_blob(s, 3, &out->sealed, &out->sealed_len, err) != 0) {
        store_secret_clear(out);
        return -1;
    }
    out->single_use = sqlite3_column_int(s, 4) != 0;
    out->used = sqlite3_column_int(s, 5) != 0;
    out->created = (time_t)sqlite3_column_int64(s, 6);
    return 0;
}

static int secret_get_work(struct sq_conn *c, void *arg, struct cmpca_err *err)
{
    struct secret_get_args *a = arg;
    sqlite3_stmt *s;
    int rc, ret;

    store_secret_clear(a->out); /* from an earlier attempt */
    s = sq_stmt(c, SQ_SECRET_GET,
                "SELECT " SECRET_COLS " FROM secrets WHERE kid = ?", &rc, err);
    if (s == NULL)
        return sq_fail(c->db, rc, "secret get", err);
    if ((rc = sq_bind_blob(s, 1, a->kid, a->kid_len)) != SQLITE_OK)
        ret = sq_fail(c->db, rc, "secret get", err);
    else if ((rc = sqlite3_step(s)) == SQLITE_ROW)
        ret = secret_from_row(s, a->out, err);
    else if (rc == SQLITE_DONE)
        ret = STORE_NOTFOUND;
    else
        ret = sq_fail(c->db, rc, "secret get", err);
    sq_done(s);
    return ret;
}

int store_secret_get(struct store *st, const uint8_t *kid, size_t kid_len,
                     struct store_secret *out, struct cmpca_err *err)
{
    struct secret_get_args a = {kid, kid_len, out};

    memset(out, 0, sizeof(*out));
    if (!kid_ok(kid, kid_len))
        return STORE_NOTFOUND;
    if (st->pg != NULL)
        return pgs_secret_get(st->pg, kid, kid_len, out, err);
    return sq_read(st, secret_get_work, &a, err);
}

struct secret_use_args {
    const uint8_t *kid;
    size_t kid_len;
};

/* After an UPDATE that changed nothing: used already, or no such kid. */
static int secret_why_unused(struct sq_conn *c, const struct secret_use_args *a,
                             struct cmpca_err *err)
{
    sqlite3_stmt *s;
    int rc, ret;

    s = sq_stmt(c, SQ_SECRET_EXISTS, "SELECT 1 FROM secrets WHERE kid = ?", &rc,
                err);
    if (s == NULL)
        return sq_fail(c->db, rc, "secret use", err);
    if ((rc = sq_bind_blob(s, 1, a->kid, a->kid_len)) != SQLITE_OK)
        ret = sq_fail(c->db, rc, "secret use", err);
    else if ((rc = sqlite3_step(s)) == SQLITE_ROW)
        ret = STORE_EXISTS;
    else if (rc == SQLITE_DONE)
        ret = STORE_NOTFOUND;
    else
        ret = sq_fail(c->db, rc, "secret use", err);
    sq_done(s);
    return ret;
}

static int secret_use_work(struct sq_conn *c, void *arg, struct cmpca_err *err)
{
    struct secret_use_args *a = arg;
    sqlite3_stmt *s;
    int rc, ret, changes = 0;

    /* a reusable secret is marked too (it was used) and always succeeds */
    s = sq_stmt(c, SQ_SECRET_USE,
                "UPDATE secrets SET used = 1 WHERE kid = ? AND"
                " (used = 0 OR single_use = 0)",
                &rc, err);
    if (s == NULL)
        return sq_fail(c->db, rc, "secret use", err);
    if ((rc = sq_bind_blob(s, 1, a->kid, a->kid_len)) != SQLITE_OK) {
        sq_done(s);
        return sq_fail(c->db, rc, "secret use", err);
    }
    if ((ret = sq_exec_changes(c, s, "secret use", &changes, &rc, err)) != 0)
        return ret;
    return changes > 0 ? 0 : secret_why_unused(c, a, err);
}

int store_secret_use(struct store *st, const uint8_t *kid, size_t kid_len,
                     struct cmpca_err *err)
{
    struct secret_use_args a = {kid, kid_len};

    if (!kid_ok(kid, kid_len))
        return STORE_NOTFOUND;
    if (st->pg != NULL)
        return pgs_secret_use(st->pg, kid, kid_len, err);
    return sq_write(st, secret_use_work, &a, err);
}

void store_secret_clear(struct store_secret *s)
{
    if (s == NULL)
        return;
    wipe(s->sealed, s->sealed_len);
    free(s->sealed);
    free(s->kid);
    free(s->vendor);
    free(s->device);
    memset(s, 0, sizeof(*s));
}
