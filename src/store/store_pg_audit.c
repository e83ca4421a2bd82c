/*
 * store_pg_audit.c: the hash-chained audit log on PostgreSQL. The encoding,
 * the hash and the chain check are shared with SQLite (store_sqlite_audit.c);
 * what is here is how PostgreSQL keeps one chain.
 *
 * An append locks the table in EXCLUSIVE mode (other appends wait, readers
 * do not), reads the newest (seq, hash), and inserts seq + 1 with the hash
 * chained from it, all in one transaction: instances sharing the database
 * extend one chain, and a row lock on the newest entry would not do,
 * because the first append to an empty log has no row to lock.
 *
 * Text must be valid in the database's encoding, where SQLite takes any
 * bytes. The front already capped the fields at a UTF-8 boundary; here any
 * byte that is not part of a well-formed UTF-8 sequence becomes '?', before
 * the hash is computed, so an entry about a request carrying junk names is
 * stored, and verifies, instead of being lost.
 *
 * Verifying reads the log through a cursor, 1000 rows per round trip, in a
 * REPEATABLE READ transaction: both passes of the check see the same rows,
 * and a long log never sits in memory whole.
 */
#include "store/store_pg_local.h"

#include <stdlib.h>
#include <string.h>

#define AUDIT_COLS                                                             \
    "seq, at, actor, action, outcome, vendor, device, serial, detail, hash"
#define AUDIT_FIRST_TEXT 2
#define AUDIT_COL_HASH   9
#define AUDIT_FETCH      "1000"
#define AUDIT_FETCH_ROWS 1000

/* utf8_len: length of the well-formed sequence at p (n bytes left), or 0. */
static size_t utf8_len(const uint8_t *p, size_t n)
{
    uint8_t b = p[0], lo = 0x80, hi = 0xbf;
    size_t len;

    if (b < 0x80)
        return 1;
    if (b >= 0xc2 && b <= 0xdf)
        len = 2;
    else if (b >= 0xe0 && b <= 0xef)
        len = 3;
    else if (b >= 0xf0 && b <= 0xf4)
        len = 4;
    else
        return 0;
    if (b == 0xe0)
        lo = 0xa0;
    else if (b == 0xed)
        hi = 0x9f;
    else if (b == 0xf0)
        lo = 0x90;
    else if (b == 0xf4)
        hi = 0x8f;
    if (n < len || p[1] < lo || p[1] > hi)
        return 0;
    for (size_t i = 2; i < len; i++)
        if (p[i] < 0x80 || p[i] > 0xbf)
            return 0;
    return len;
}

/* utf8_fix copies `len` bytes of `in` into `out` (len + 1 bytes), every
 * byte outside a well-formed sequence made '?'. */
static void utf8_fix(const uint8_t *in, size_t len, char *out)
{
    size_t i = 0, n;

    while (i < len) {
        if ((n = utf8_len(in + i, len - i)) == 0) {
            out[i++] = '?';
            continue;
        }
        memcpy(out + i, in + i, n);
        i += n;
    }
    out[len] = '\0';
}

struct append_args {
    struct audit_fields f;            /* points into text */
    char *text[STORE_AUDIT_NUM_TEXT]; /* the fixed copies */
};

static int audit_last(struct pg_conn *c, long long *seq,
                      uint8_t hash[STORE_AUDIT_HASH_LEN], struct cmpca_err *err)
{
    PGresult *r = NULL;
    int ret, n;

    *seq = 0;
    memset(hash, 0, STORE_AUDIT_HASH_LEN);
    ret = pg_run(c, PG_AUDIT_LAST,
                 "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1", NULL,
                 "audit append", &r, err);
    if (ret != 0)
        return ret;
    if (PQntuples(r) > 0) {
        *seq = pg_col_int(r, 0, 0);
        /* a damaged hash is used as far as it goes; verify reports it */
        n = PQgetlength(r, 0, 1);
        memcpy(hash, PQgetvalue(r, 0, 1),
               n < STORE_AUDIT_HASH_LEN ? (size_t)n : STORE_AUDIT_HASH_LEN);
    }
    PQclear(r);
    return 0;
}

static int append_work(struct pg_conn *c, void *arg, struct cmpca_err *err)
{
    struct append_args *a = arg;
    uint8_t prev[STORE_AUDIT_HASH_LEN], hash[STORE_AUDIT_HASH_LEN];
    EVP_MD_CTX *md = NULL;
    struct pg_params p;
    long long seq = 0;
    int ret;

    if ((ret = pg_simple(c, "LOCK TABLE audit IN EXCLUSIVE MODE", err)) != 0 ||
        (ret = audit_last(c, &seq, prev, err)) != 0)
        return ret;
    a->f.seq = seq + 1;
    if ((md = EVP_MD_CTX_new()) == NULL)
        return pg_oom(err);
    ret = sq_audit_hash(md, prev, &a->f, hash, err);
    EVP_MD_CTX_free(md);
    if (ret != 0)
        return ret;
    pgp_init(&p);
    pgp_int(&p, a->f.seq);
    pgp_int(&p, a->f.at);
    for (int i = 0; i < STORE_AUDIT_NUM_TEXT; i++)
        pgp_text(&p, a->text[i]);
    pgp_bytes(&p, hash, sizeof(hash));
    return pg_run(c, PG_AUDIT_INSERT,
                  "INSERT INTO audit (" AUDIT_COLS ") VALUES ($1, $2, $3, $4,"
                  " $5, $6, $7, $8, $9, $10)",
                  &p, "audit append", NULL, err);
}

int pgs_audit_append(struct pg_store *pg, struct audit_fields *f,
                     struct cmpca_err *err)
{
    struct append_args a;
    int ret = -1, i;

    memset(&a, 0, sizeof(a));
    a.f = *f;
    for (i = 0; i < STORE_AUDIT_NUM_TEXT; i++) {
        if (f->text[i] == NULL)
            continue;
        if ((a.text[i] = malloc(f->len[i] + 1)) == NULL) {
            pg_oom(err);
            goto done;
        }
        utf8_fix(f->text[i], f->len[i], a.text[i]);
        a.f.text[i] = (const uint8_t *)a.text[i];
    }
    ret = pg_write(pg, append_work, &a, err);
    f->seq = a.f.seq;

done:
    for (i = 0; i < STORE_AUDIT_NUM_TEXT; i++)
        free(a.text[i]);
    return ret;
}

/* audit_row points `f` (and `e`, when not NULL) into row `row`. */
static void audit_row(const PGresult *r, int row, struct audit_fields *f,
                      struct store_audit *e, const void **hash, int *hash_len)
{
    char **out[STORE_AUDIT_NUM_TEXT] = {NULL};
    const char *t;

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
    f->seq = pg_col_int(r, row, 0);
    f->at = pg_col_int(r, row, 1);
    for (int i = 0; i < STORE_AUDIT_NUM_TEXT; i++) {
        t = pg_col_str(r, row, AUDIT_FIRST_TEXT + i);
        f->text[i] = (const uint8_t *)t;
        f->len[i] =
            t != NULL ? (size_t)PQgetlength(r, row, AUDIT_FIRST_TEXT + i) : 0;
        if (out[i] != NULL)
            *out[i] = (char *)t;
    }
    *hash = PQgetvalue(r, row, AUDIT_COL_HASH);
    *hash_len = PQgetlength(r, row, AUDIT_COL_HASH);
    if (e != NULL) {
        e->seq = f->seq;
        e->at = (time_t)f->at;
        if (*hash_len == STORE_AUDIT_HASH_LEN)
            memcpy(e->hash, *hash, STORE_AUDIT_HASH_LEN);
    }
}

int pgs_audit_foreach(struct pg_store *pg, const struct store_audit_filter *f,
                      const char *serial,
                      int (*fn)(void *arg, const struct store_audit *e),
                      void *arg, struct cmpca_err *err)
{
    struct audit_fields fields;
    struct store_audit e;
    struct pg_params p;
    PGresult *r = NULL;
    const void *hash;
    int hash_len;

    pgp_init(&p);
    pgp_text(&p, f->vendor);
    pgp_text(&p, f->device);
    pgp_text(&p, serial);
    if (f->since != 0)
        pgp_int(&p, (long long)f->since);
    else
        pgp_text(&p, NULL);
    if (f->until != 0)
        pgp_int(&p, (long long)f->until);
    else
        pgp_text(&p, NULL);
    if (pg_query(pg, PG_AUDIT_LIST,
                 "SELECT " AUDIT_COLS " FROM audit"
                 " WHERE ($1::text IS NULL OR vendor = $1::text)"
                 " AND ($2::text IS NULL OR device = $2::text)"
                 " AND ($3::text IS NULL OR serial = $3::text)"
                 " AND ($4::bigint IS NULL OR at >= $4::bigint)"
                 " AND ($5::bigint IS NULL OR at <= $5::bigint) ORDER BY seq",
                 &p, "audit list", &r, err) != 0)
        return -1;
    for (int i = 0; i < PQntuples(r); i++) {
        audit_row(r, i, &fields, &e, &hash, &hash_len);
        if (fn(arg, &e) != 0)
            break;
    }
    PQclear(r);
    return 0;
}

/* ---- one pass over the log, through a cursor ---- */

struct scan_src {
    struct pg_conn *c;
    PGresult *batch;
    int row;  /* next row of batch */
    int open; /* the cursor is declared */
    int done; /* the last batch was fetched */
};

static int scan_next(void *arg, struct audit_fields *f, const void **hash,
                     int *hash_len, struct cmpca_err *err)
{
    struct scan_src *s = arg;
    int ret;

    if (!s->open) {
        ret = pg_simple(
            s->c,
            "DECLARE audit_scan NO SCROLL CURSOR FOR SELECT " AUDIT_COLS
            " FROM audit ORDER BY seq",
            err);
        if (ret != 0)
            return ret;
        s->open = 1;
    }
    while (s->batch == NULL || s->row >= PQntuples(s->batch)) {
        if (s->done)
            return 0;
        PQclear(s->batch);
        s->batch = NULL;
        s->row = 0;
        ret =
            pg_run(s->c, PG_UNPREPARED, "FETCH " AUDIT_FETCH " FROM audit_scan",
                   NULL, "audit verify", &s->batch, err);
        if (ret != 0)
            return ret;
        s->done = PQntuples(s->batch) < AUDIT_FETCH_ROWS;
    }
    audit_row(s->batch, s->row++, f, NULL, hash, hash_len);
    return 1;
}

static int scan_rewind(void *arg, struct cmpca_err *err)
{
    struct scan_src *s = arg;
    int ret = 0;

    PQclear(s->batch);
    s->batch = NULL;
    s->row = 0;
    s->done = 0;
    if (s->open)
        ret = pg_simple(s->c, "CLOSE audit_scan", err);
    s->open = 0;
    return ret;
}

struct scan_args {
    audit_scan_fn fn;
    void *arg;
};

static int scan_work(struct pg_conn *c, void *arg, struct cmpca_err *err)
{
    struct scan_args *a = arg;
    struct scan_src src = {c, NULL, 0, 0, 0};
    struct audit_rows rows = {scan_next, scan_rewind, &src};
    int ret = a->fn(&rows, a->arg, err);

    PQclear(src.batch); /* the cursor ends with the transaction */
    return ret;
}

int pgs_audit_scan(struct pg_store *pg, audit_scan_fn fn, void *arg,
                   struct cmpca_err *err)
{
    struct scan_args a = {fn, arg};

    return pg_read_snapshot(pg, scan_work, &a, err);
}
