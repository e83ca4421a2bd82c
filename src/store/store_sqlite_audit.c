/*
 * store_sqlite_audit.c: the audit table, an append-only log of every
 * decision (protocol requests and operator commands alike), chained by
 * SHA-256 so that editing, deleting or reordering a row shows.
 *
 * Entry n's hash covers entry n-1's hash and entry n's fields in the fixed
 * encoding of docs/audit.md: seq and at as 8-byte big-endian integers, then
 * each text field as a 4-byte big-endian length and its bytes (0xFFFFFFFF
 * for NULL, so NULL and "" differ). Entry 1 chains from 32 zero bytes.
 *
 * An append reads the newest (seq, hash) and inserts seq + 1 inside one
 * BEGIN IMMEDIATE transaction, so threads, store handles and processes
 * sharing the file all extend one chain. Writes are one small row per
 * decision; reads are rare (an operator looking something up, or checking
 * the chain), so the table carries only the indexes `audit show` filters on.
 *
 * Fields are capped (detail 512 bytes, the others 256) and control bytes
 * become '?': a device can put anything in the names we log, and an entry
 * must stay one printable line whatever it sent. Capping truncates at a
 * UTF-8 character boundary and never fails: an audit entry must not be lost
 * because a rejected request carried a long name.
 */
#include "store/store_sqlite_local.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#define AUDIT_COLS                                                             \
    "seq, at, actor, action, outcome, vendor, device, serial, detail, hash"
/* actor, action, outcome, vendor, device, serial, detail: columns 2..8 */
#define AUDIT_NUM_TEXT   STORE_AUDIT_NUM_TEXT
#define AUDIT_FIRST_TEXT 2
#define AUDIT_COL_HASH   9
#define AUDIT_MAX_FIELD  256
#define AUDIT_MAX_DETAIL 512
#define AUDIT_NULL_LEN   0xFFFFFFFFu

static void put_be(uint8_t *out, unsigned long long v, int n)
{
    for (int i = n - 1; i >= 0; i--) {
        out[i] = (uint8_t)(v & 0xff);
        v >>= 8;
    }
}

/* The chain's hash, shared with PostgreSQL (store_backend.h). */
int sq_audit_hash(EVP_MD_CTX *md, const uint8_t prev[STORE_AUDIT_HASH_LEN],
                  const struct audit_fields *f,
                  uint8_t out[STORE_AUDIT_HASH_LEN], struct cmpca_err *err)
{
    uint8_t num[16], len[4];
    unsigned int out_len = 0;
    int ok;

    put_be(num, (unsigned long long)f->seq, 8);
    put_be(num + 8, (unsigned long long)f->at, 8);
    ok = EVP_DigestInit_ex(md, EVP_sha256(), NULL) > 0 &&
         EVP_DigestUpdate(md, prev, STORE_AUDIT_HASH_LEN) > 0 &&
         EVP_DigestUpdate(md, num, sizeof(num)) > 0;
    for (int i = 0; ok && i < AUDIT_NUM_TEXT; i++) {
        put_be(len, f->text[i] != NULL ? f->len[i] : AUDIT_NULL_LEN, 4);
        ok = EVP_DigestUpdate(md, len, sizeof(len)) > 0 &&
             (f->text[i] == NULL || f->len[i] == 0 ||
              EVP_DigestUpdate(md, f->text[i], f->len[i]) > 0);
    }
    ok = ok && EVP_DigestFinal_ex(md, out, &out_len) > 0 &&
         out_len == STORE_AUDIT_HASH_LEN;
    if (!ok)
        return cmpca_err_ossl(err, FI_SYSTEM_FAILURE, "store: audit hash");
    return 0;
}

/* audit_clean copies at most `cap` bytes of `in` into `out` (cap + 1
 * bytes), cut at a UTF-8 character boundary, control bytes made '?'.
 * Returns `out`, or NULL when `in` is NULL. */
static const char *audit_clean(const char *in, char *out, size_t cap)
{
    size_t n = 0;

    if (in == NULL)
        return NULL;
    while (n < cap && in[n] != '\0')
        n++;
    if (in[n] != '\0') /* cut: drop a character split in two */
        while (n > 0 && ((unsigned char)in[n] & 0xc0) == 0x80)
            n--;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)in[i];

        out[i] = ch < 0x20 || ch == 0x7f ? '?' : (char)ch;
    }
    out[n] = '\0';
    return out;
}

/* An entry as it will be stored: cleaned copies of the caller's fields. */
struct audit_new {
    char buf[AUDIT_NUM_TEXT][AUDIT_MAX_DETAIL + 1];
    char serial[SQ_SERIAL_BUF];
    struct audit_fields f; /* seq filled inside the transaction */
};

static void audit_new_fill(struct audit_new *n, const struct store_audit *e)
{
    const char *in[AUDIT_NUM_TEXT] = {e->actor,  e->action, e->outcome,
                                      e->vendor, e->device, e->serial,
                                      e->detail};
    const char *v;

    memset(&n->f, 0, sizeof(n->f));
    n->f.at = e->at != 0 ? (long long)e->at : (long long)time(NULL);
    /* a certificate serial is kept in the canonical form of the certs
     * table, so `audit show --serial` finds it however it was written */
    if (e->serial != NULL && sq_serial_norm(e->serial, n->serial) == 0)
        in[5] = n->serial;
    for (int i = 0; i < AUDIT_NUM_TEXT; i++) {
        size_t cap =
            i == AUDIT_NUM_TEXT - 1 ? AUDIT_MAX_DETAIL : AUDIT_MAX_FIELD;

        v = audit_clean(in[i], n->buf[i], cap);
        n->f.text[i] = (const uint8_t *)v;
        n->f.len[i] = v != NULL ? strlen(v) : 0;
    }
}

/* audit_last reads the newest entry's seq and hash; seq 0 and zero bytes
 * for an empty log. A damaged hash is used as far as it goes: the break
 * is reported by verify, the append still happens. */
static int audit_last(struct sq_conn *c, long long *seq,
                      uint8_t hash[STORE_AUDIT_HASH_LEN], struct cmpca_err *err)
{
    sqlite3_stmt *s;
    const void *h;
    int rc, ret = 0, n;

    *seq = 0;
    memset(hash, 0, STORE_AUDIT_HASH_LEN);
    s = sq_stmt(c, SQ_AUDIT_LAST,
                "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1", &rc,
                err);
    if (s == NULL)
        return sq_fail(c->db, rc, "audit append", err);
    if ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        *seq = sqlite3_column_int64(s, 0);
        h = sqlite3_column_blob(s, 1);
        n = sqlite3_column_bytes(s, 1);
        if (h != NULL && n > 0)
            memcpy(hash, h,
                   n < STORE_AUDIT_HASH_LEN ? (size_t)n : STORE_AUDIT_HASH_LEN);
    } else if (rc != SQLITE_DONE) {
        ret = sq_fail(c->db, rc, "audit append", err);
    }
    sq_done(s);
    return ret;
}

static int audit_insert(struct sq_conn *c, const struct audit_fields *f,
                        const uint8_t hash[STORE_AUDIT_HASH_LEN],
                        struct cmpca_err *err)
{
    sqlite3_stmt *s;
    int rc, i;

    s = sq_stmt(c, SQ_AUDIT_INSERT,
                "INSERT INTO audit (" AUDIT_COLS
                ") VALUES (?,?,?,?,?,?,?,?,?,?)",
                &rc, err);
    if (s == NULL)
        return sq_fail(c->db, rc, "audit append", err);
    rc = sqlite3_bind_int64(s, 1, f->seq);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(s, 2, f->at);
    for (i = 0; rc == SQLITE_OK && i < AUDIT_NUM_TEXT; i++)
        rc =
            sq_bind_text(s, AUDIT_FIRST_TEXT + 1 + i, (const char *)f->text[i]);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_blob(s, AUDIT_COL_HASH + 1, hash,
                               STORE_AUDIT_HASH_LEN, SQLITE_STATIC);
    if (rc != SQLITE_OK) {
        sq_done(s);
        return sq_fail(c->db, rc, "audit append", err);
    }
    if (sq_exec_changes(c, s, "audit append", NULL, &rc, err) == 0)
        return 0;
    return sq_fail(c->db, rc, "audit append", err);
}

static int audit_append_work(struct sq_conn *c, void *arg,
                             struct cmpca_err *err)
{
    struct audit_new *n = arg;
    uint8_t prev[STORE_AUDIT_HASH_LEN], hash[STORE_AUDIT_HASH_LEN];
    EVP_MD_CTX *md = NULL;
    int ret;

    if ((ret = audit_last(c, &n->f.seq, prev, err)) != 0)
        return ret;
    n->f.seq++;
    if ((md = EVP_MD_CTX_new()) == NULL)
        return sq_oom(err);
    ret = sq_audit_hash(md, prev, &n->f, hash, err);
    EVP_MD_CTX_free(md);
    if (ret != 0)
        return ret;
    return audit_insert(c, &n->f, hash, err);
}

int store_audit_append(struct store *st, const struct store_audit *e,
                       struct cmpca_err *err)
{
    struct audit_new *n = NULL;
    int ret;

    if (e == NULL || e->actor == NULL || e->action == NULL ||
        e->outcome == NULL)
        return cmpca_err_set(err, FI_SYSTEM_FAILURE,
                             "store: audit entry needs actor, action and "
                             "outcome");
    if ((n = malloc(sizeof(*n))) == NULL)
        return sq_oom(err);
    audit_new_fill(n, e);
    ret = st->pg != NULL ? pgs_audit_append(st->pg, &n->f, err)
                         : sq_write(st, audit_append_work, n, err);
    free(n);
    return ret;
}

/* ---- reading ---- */

/* audit_row points `f` (and `e`, when not NULL) at the current row of `s`,
 * borrowed until the next step; *hash and *hash_len get the stored hash. */
static void audit_row(sqlite3_stmt *s, struct audit_fields *f,
                      struct store_audit *e, const void **hash, int *hash_len)
{
    char **out[AUDIT_NUM_TEXT] = {NULL};
    const unsigned char *t;
    int col;

    if (e != NULL) {
        memset(e, 0, sizeof(*e));
        out[0] = &e->actor;
        out[1] = &e->action;
        out[2] = &e->outcome;
        out[3] = &e->vendor;
        out[4] = &e->device;
        out[5] = &e->serial;
        out[6] = &e->detail;
    }
    f->seq = sqlite3_column_int64(s, 0);
    f->at = sqlite3_column_int64(s, 1);
    for (int i = 0; i < AUDIT_NUM_TEXT; i++) {
        col = AUDIT_FIRST_TEXT + i;
        t = sqlite3_column_type(s, col) != SQLITE_NULL
                ? sqlite3_column_text(s, col)
                : NULL;
        f->text[i] = t;
        f->len[i] = t != NULL ? (size_t)sqlite3_column_bytes(s, col) : 0;
        if (out[i] != NULL)
            *out[i] = (char *)t;
    }
    *hash = sqlite3_column_blob(s, AUDIT_COL_HASH);
    *hash_len = sqlite3_column_bytes(s, AUDIT_COL_HASH);
    if (e != NULL) {
        e->seq = f->seq;
        e->at = (time_t)f->at;
        if (*hash != NULL && *hash_len == STORE_AUDIT_HASH_LEN)
            memcpy(e->hash, *hash, STORE_AUDIT_HASH_LEN);
    }
}

struct audit_foreach_args {
    const struct store_audit_filter *f;
    char serial[SQ_SERIAL_BUF];
    const char *serial_key; /* the filter's serial, normalized if it can be */
    int (*fn)(void *arg, const struct store_audit *e);
    void *arg;
};

static int audit_foreach_bind(sqlite3_stmt *s,
                              const struct audit_foreach_args *a)
{
    const struct store_audit_filter *f = a->f;
    int rc;

    if ((rc = sq_bind_text(s, 1, f->vendor)) != SQLITE_OK ||
        (rc = sq_bind_text(s, 2, f->device)) != SQLITE_OK ||
        (rc = sq_bind_text(s, 3, a->serial_key)) != SQLITE_OK)
        return rc;
    if (f->since != 0 &&
        (rc = sqlite3_bind_int64(s, 4, (sqlite3_int64)f->since)) != SQLITE_OK)
        return rc;
    if (f->until != 0 &&
        (rc = sqlite3_bind_int64(s, 5, (sqlite3_int64)f->until)) != SQLITE_OK)
        return rc;
    return SQLITE_OK;
}

static int audit_foreach_work(struct sq_conn *c, void *arg,
                              struct cmpca_err *err)
{
    struct audit_foreach_args *a = arg;
    struct audit_fields f;
    struct store_audit e;
    const void *hash;
    sqlite3_stmt *s;
    int rc, ret = 0, calls = 0, hash_len;

    s = sq_stmt(c, SQ_AUDIT_LIST,
                "SELECT " AUDIT_COLS " FROM audit"
                " WHERE (?1 IS NULL OR vendor = ?1)"
                " AND (?2 IS NULL OR device = ?2)"
                " AND (?3 IS NULL OR serial = ?3)"
                " AND (?4 IS NULL OR at >= ?4)"
                " AND (?5 IS NULL OR at <= ?5) ORDER BY seq",
                &rc, err);
    if (s == NULL)
        return sq_fail(c->db, rc, "audit list", err);
    if ((rc = audit_foreach_bind(s, a)) == SQLITE_OK) {
        while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
            audit_row(s, &f, &e, &hash, &hash_len);
            calls++;
            if (a->fn(a->arg, &e) != 0) {
                rc = SQLITE_DONE;
                break;
            }
        }
    }
    if (rc != SQLITE_DONE) {
        ret = sq_fail(c->db, rc, "audit list", err);
        if (ret == SQ_RETRY && calls > 0)
            ret = -1; /* rerunning would call fn twice for the same rows */
    }
    sq_done(s);
    return ret;
}

int store_audit_foreach(struct store *st, const struct store_audit_filter *f,
                        int (*fn)(void *arg, const struct store_audit *e),
                        void *arg, struct cmpca_err *err)
{
    static const struct store_audit_filter none = {0};
    struct audit_foreach_args a;

    if (fn == NULL)
        return cmpca_err_set(err, FI_SYSTEM_FAILURE, "store: no callback");
    memset(&a, 0, sizeof(a));
    a.f = f != NULL ? f : &none;
    a.fn = fn;
    a.arg = arg;
    a.serial_key = a.f->serial;
    if (a.f->serial != NULL && sq_serial_norm(a.f->serial, a.serial) == 0)
        a.serial_key = a.serial;
    if (st->pg != NULL)
        return pgs_audit_foreach(st->pg, a.f, a.serial_key, fn, arg, err);
    return sq_read(st, audit_foreach_work, &a, err);
}

/* ---- verifying ---- */

/* An owned copy of one row, kept across statements. */
struct audit_copy {
    struct audit_fields f;
    uint8_t *text[AUDIT_NUM_TEXT];
    uint8_t hash[STORE_AUDIT_HASH_LEN];
};

static void audit_copy_clear(struct audit_copy *cp)
{
    for (int i = 0; i < AUDIT_NUM_TEXT; i++)
        free(cp->text[i]);
    memset(cp, 0, sizeof(*cp));
}

static int audit_copy_set(struct audit_copy *cp, const struct audit_fields *f,
                          const void *hash, struct cmpca_err *err)
{
    audit_copy_clear(cp);
    cp->f = *f;
    for (int i = 0; i < AUDIT_NUM_TEXT; i++) {
        if (f->text[i] == NULL)
            continue;
        if ((cp->text[i] = malloc(f->len[i] + 1)) == NULL)
            return sq_oom(err);
        memcpy(cp->text[i], f->text[i], f->len[i]);
        cp->f.text[i] = cp->text[i];
    }
    memcpy(cp->hash, hash, STORE_AUDIT_HASH_LEN);
    return 0;
}

struct audit_verify_args {
    EVP_MD_CTX *md;
    long long bad_seq;
    long long num_checked;
    int broken;
    int mismatch;          /* broken by a hash that does not fit */
    struct audit_copy bad; /* the row, when mismatch */
    char why[128];
};

/* audit_gap says why row `seq` is not the `expected` one. */
static void audit_gap(struct audit_verify_args *a, long long expected,
                      long long seq)
{
    if (seq == expected + 1)
        snprintf(a->why, sizeof(a->why), "entry %lld is missing (deleted)",
                 expected);
    else if (seq > expected)
        snprintf(a->why, sizeof(a->why),
                 "entries %lld-%lld are missing (deleted)", expected, seq - 1);
    else
        snprintf(a->why, sizeof(a->why),
                 "unexpected sequence number (entry %lld expected)", expected);
}

/* audit_check_row checks one row against the chain so far; 0 when it
 * fits (prev moves on), 1 when it does not (a is filled), -1. */
static int audit_check_row(struct audit_verify_args *a,
                           const struct audit_fields *f, const void *hash,
                           int hash_len, uint8_t prev[STORE_AUDIT_HASH_LEN],
                           struct cmpca_err *err)
{
    uint8_t h[STORE_AUDIT_HASH_LEN];

    a->bad_seq = f->seq;
    if (f->seq != a->num_checked + 1) {
        audit_gap(a, a->num_checked + 1, f->seq);
        return 1;
    }
    if (sq_audit_hash(a->md, prev, f, h, err) != 0)
        return -1;
    if (hash == NULL || hash_len != STORE_AUDIT_HASH_LEN) {
        snprintf(a->why, sizeof(a->why),
                 "edited (its hash is not %d bytes long)",
                 STORE_AUDIT_HASH_LEN);
        return 1;
    }
    if (memcmp(h, hash, STORE_AUDIT_HASH_LEN) != 0) {
        snprintf(a->why, sizeof(a->why),
                 "edited (its fields do not match its hash)");
        a->mismatch = 1;
        return audit_copy_set(&a->bad, f, hash, err) != 0 ? -1 : 1;
    }
    memcpy(prev, h, STORE_AUDIT_HASH_LEN);
    a->bad_seq = 0;
    a->num_checked++;
    return 0;
}

/* audit_walk recomputes the chain up to the first row that breaks it. */
static int audit_walk(struct audit_rows *rows, struct audit_verify_args *a,
                      struct cmpca_err *err)
{
    uint8_t prev[STORE_AUDIT_HASH_LEN] = {0};
    struct audit_fields f;
    const void *hash;
    int n, ret = 0, hash_len;

    while ((n = rows->next(rows->src, &f, &hash, &hash_len, err)) == 1)
        if ((ret = audit_check_row(a, &f, hash, hash_len, prev, err)) != 0)
            break;
    if (n < 0)
        return n;
    if (ret == 1) {
        a->broken = 1;
        ret = 0;
    }
    return ret;
}

/* audit_fits_at: 1 when the bad row's fields, placed at `seq` after a
 * row hashed `prev`, give its own stored hash or `stored` (the hash found
 * at `seq`): its fields, with or without their hash, came from there. */
static int audit_fits_at(struct audit_verify_args *a, long long seq,
                         const uint8_t *prev, const uint8_t *stored,
                         struct cmpca_err *err)
{
    struct audit_fields f = a->bad.f;
    uint8_t h[STORE_AUDIT_HASH_LEN];

    f.seq = seq;
    if (sq_audit_hash(a->md, prev, &f, h, err) != 0)
        return -1;
    return memcmp(h, a->bad.hash, STORE_AUDIT_HASH_LEN) == 0 ||
           memcmp(h, stored, STORE_AUDIT_HASH_LEN) == 0;
}

/*
 * audit_explain looks for the place the mismatching row's fields belong
 * to. The predecessor of entry m is normally the hash stored at m - 1;
 * when two neighbours swapped rows it is the one now stored at m, so both
 * are tried. Finding none, the row was edited.
 */
static int audit_explain(struct audit_rows *rows, struct audit_verify_args *a,
                         struct cmpca_err *err)
{
    uint8_t prev[STORE_AUDIT_HASH_LEN] = {0}, cur[STORE_AUDIT_HASH_LEN];
    struct audit_fields f;
    const void *hash;
    int n, ret, hash_len;

    if ((ret = rows->rewind(rows->src, err)) != 0)
        return ret;
    while ((n = rows->next(rows->src, &f, &hash, &hash_len, err)) == 1) {
        memset(cur, 0, sizeof(cur));
        if (hash != NULL && hash_len == STORE_AUDIT_HASH_LEN)
            memcpy(cur, hash, sizeof(cur));
        if (f.seq != a->bad_seq &&
            ((ret = audit_fits_at(a, f.seq, prev, cur, err)) != 0 ||
             (ret = audit_fits_at(a, f.seq, cur, cur, err)) != 0))
            break;
        memcpy(prev, cur, sizeof(prev));
    }
    if (n < 0)
        return n;
    if (ret == 1)
        snprintf(a->why, sizeof(a->why),
                 "reordered (it holds the fields of entry %lld)", f.seq);
    return ret < 0 ? ret : 0;
}

/* The whole check over one backend's rows (an audit_scan_fn). */
static int audit_verify_scan(struct audit_rows *rows, void *arg,
                             struct cmpca_err *err)
{
    struct audit_verify_args *a = arg;
    int ret;

    /* an earlier attempt may have left results */
    a->bad_seq = a->num_checked = 0;
    a->broken = a->mismatch = 0;
    a->why[0] = '\0';
    audit_copy_clear(&a->bad);
    if ((ret = audit_walk(rows, a, err)) != 0)
        return ret;
    if (a->broken && a->mismatch)
        return audit_explain(rows, a, err);
    return 0;
}

/* SQLite's rows for the check: one cached statement, reset to rewind. */
struct sq_audit_src {
    struct sq_conn *c;
    sqlite3_stmt *s;
};

static int sq_rows_next(void *arg, struct audit_fields *f, const void **hash,
                        int *hash_len, struct cmpca_err *err)
{
    struct sq_audit_src *src = arg;
    int rc;

    if (src->s == NULL &&
        (src->s = sq_stmt(src->c, SQ_AUDIT_ALL,
                          "SELECT " AUDIT_COLS " FROM audit ORDER BY seq", &rc,
                          err)) == NULL)
        return sq_fail(src->c->db, rc, "audit verify", err);
    if ((rc = sqlite3_step(src->s)) == SQLITE_ROW) {
        audit_row(src->s, f, NULL, hash, hash_len);
        return 1;
    }
    if (rc == SQLITE_DONE)
        return 0;
    return sq_fail(src->c->db, rc, "audit verify", err);
}

static int sq_rows_rewind(void *arg, struct cmpca_err *err)
{
    struct sq_audit_src *src = arg;

    (void)err;
    sq_done(src->s);
    return 0;
}

static int audit_verify_work(struct sq_conn *c, void *arg,
                             struct cmpca_err *err)
{
    struct sq_audit_src src = {c, NULL};
    struct audit_rows rows = {sq_rows_next, sq_rows_rewind, &src};
    int ret = audit_verify_scan(&rows, arg, err);

    sq_done(src.s);
    return ret;
}

int store_audit_verify(struct store *st, long long *bad_seq,
                       long long *num_checked, struct cmpca_err *err)
{
    struct audit_verify_args a;
    int ret;

    memset(&a, 0, sizeof(a));
    *bad_seq = 0;
    *num_checked = 0;
    if ((a.md = EVP_MD_CTX_new()) == NULL)
        return sq_oom(err);
    ret = st->pg != NULL ? pgs_audit_scan(st->pg, audit_verify_scan, &a, err)
                         : sq_read(st, audit_verify_work, &a, err);
    if (ret == 0) {
        *num_checked = a.num_checked;
        if (a.broken) {
            *bad_seq = a.bad_seq;
            /* not a failure: `err` says what was found, for the report */
            cmpca_err_set(err, FI_SYSTEM_FAILURE, "%s", a.why);
            ret = 1;
        }
    }
    audit_copy_clear(&a.bad);
    EVP_MD_CTX_free(a.md);
    return ret;
}
