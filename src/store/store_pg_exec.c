/*
 * store_pg_exec.c: sending one statement to PostgreSQL and reading its
 * answer, for every other PostgreSQL file. Statements are prepared once per
 * connection (the server plans them once), parameters go as text except
 * bytea, which goes as bytes, and results come back binary so blobs need no
 * unescaping. The client never blocks on the socket without a deadline:
 * libpq's blocking calls would wait for a stuck server forever, so we send
 * asynchronously and poll until PG_CLIENT_WAIT_MS has passed. Errors are
 * sorted by SQLSTATE into "run it again", "the connection is gone", "key
 * taken", and the rest, and their text goes into `err` behind "store:".
 */
#include "store/store_pg_local.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int pg_oom(struct cmpca_err *err)
{
    return cmpca_err_set(err, FI_SYSTEM_FAILURE, "store: out of memory");
}

static long long mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int state_is(const char *state, const char *prefix)
{
    return state != NULL && strncmp(state, prefix, strlen(prefix)) == 0;
}

int pg_fail(struct pg_conn *c, const PGresult *r, const char *what,
            struct cmpca_err *err)
{
    const char *state = NULL, *msg = NULL;
    char line[200];
    size_t n;

    if (r != NULL) {
        state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
        msg = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
    }
    if (msg == NULL)
        msg = PQerrorMessage(c->conn);
    n = strcspn(msg, "\n");
    snprintf(line, sizeof(line), "%.*s", (int)(n < 199 ? n : 199), msg);
    if (PQstatus(c->conn) == CONNECTION_BAD || state_is(state, "08") ||
        state_is(state, "57P")) {
        cmpca_err_set(err, FI_SYSTEM_UNAVAIL,
                      "store: %s: connection to PostgreSQL lost: %s", what,
                      line);
        return PG_LOST;
    }
    if (state_is(state, "40001") || state_is(state, "40P01")) {
        cmpca_err_set(err, FI_SYSTEM_UNAVAIL, "store: %s: %s", what, line);
        return PG_RETRY;
    }
    if (state_is(state, "23505")) {
        cmpca_err_set(err, FI_SYSTEM_FAILURE, "store: %s: %s", what, line);
        return PG_UNIQUE;
    }
    /* out of resources, statement or lock timeout, I/O, read-only server */
    if (state_is(state, "53") || state_is(state, "57014") ||
        state_is(state, "55P03") || state_is(state, "58") ||
        state_is(state, "25006"))
        return cmpca_err_set(err, FI_SYSTEM_UNAVAIL, "store: %s: %s", what,
                             line);
    return cmpca_err_set(err, FI_SYSTEM_FAILURE, "store: %s: %s", what, line);
}

/* wait_ready waits until libpq holds a whole result: 0, 1 on timeout, -1
 * when the socket failed. */
static int wait_ready(struct pg_conn *c, long long deadline)
{
    struct pollfd p;
    long long left;
    int n;

    while (PQisBusy(c->conn)) {
        p.fd = PQsocket(c->conn);
        p.events = POLLIN;
        p.revents = 0;
        if (p.fd < 0)
            return -1;
        if ((left = deadline - mono_ms()) <= 0)
            return 1;
        n = poll(&p, 1, left > INT_MAX ? INT_MAX : (int)left);
        if (n < 0 && errno != EINTR)
            return -1;
        if (n > 0 && !PQconsumeInput(c->conn))
            return -1;
    }
    return 0;
}

static int is_error(const PGresult *r)
{
    ExecStatusType s = PQresultStatus(r);

    return s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK &&
           s != PGRES_EMPTY_QUERY;
}

/* collect reads every result of the statement just sent and keeps the
 * first failed one, else the last. */
static int collect(struct pg_conn *c, const char *what, PGresult **out,
                   struct cmpca_err *err)
{
    long wait = c->wait_ms > 0 ? c->wait_ms : PG_CLIENT_WAIT_MS;
    long long deadline = mono_ms() + wait;
    PGresult *keep = NULL, *r;
    int w, ret;

    *out = NULL;
    for (;;) {
        if ((w = wait_ready(c, deadline)) != 0) {
            PQclear(keep);
            if (w < 0)
                return pg_fail(c, NULL, what, err);
            c->broken = 1; /* mid-statement: never reuse */
            return cmpca_err_set(err, FI_SYSTEM_UNAVAIL,
                                 "store: %s: no answer from PostgreSQL "
                                 "within %ld s",
                                 what, wait / 1000);
        }
        if ((r = PQgetResult(c->conn)) == NULL)
            break;
        if (keep == NULL || (is_error(r) && !is_error(keep))) {
            PQclear(keep);
            keep = r;
        } else {
            PQclear(r);
        }
    }
    if (keep == NULL)
        return pg_fail(c, NULL, what, err);
    if (is_error(keep)) {
        ret = pg_fail(c, keep, what, err);
        PQclear(keep);
        return ret;
    }
    *out = keep;
    return 0;
}

static int prepare(struct pg_conn *c, enum pg_stmt_id id, const char *name,
                   const char *sql, const char *what, struct cmpca_err *err)
{
    PGresult *r = NULL;
    int ret;

    if (c->prepared[id])
        return 0;
    if (!PQsendPrepare(c->conn, name, sql, 0, NULL))
        return pg_fail(c, NULL, what, err);
    if ((ret = collect(c, what, &r, err)) != 0)
        return ret;
    PQclear(r);
    c->prepared[id] = 1;
    return 0;
}

int pg_run(struct pg_conn *c, enum pg_stmt_id id, const char *sql,
           const struct pg_params *p, const char *what, PGresult **out,
           struct cmpca_err *err)
{
    static const struct pg_params none = {0};
    PGresult *r = NULL;
    char name[24];
    int ok, ret;

    if (out != NULL)
        *out = NULL;
    if (p == NULL)
        p = &none;
    if (c->broken)
        return cmpca_err_set(err, FI_SYSTEM_UNAVAIL,
                             "store: %s: connection unusable", what);
    if (id == PG_UNPREPARED) {
        ok = PQsendQueryParams(c->conn, sql, p->num, NULL, p->val, p->len,
                               p->fmt, 1);
    } else {
        snprintf(name, sizeof(name), "cmpca_%d", (int)id);
        if ((ret = prepare(c, id, name, sql, what, err)) != 0)
            return ret;
        ok = PQsendQueryPrepared(c->conn, name, p->num, p->val, p->len, p->fmt,
                                 1);
    }
    if (!ok)
        return pg_fail(c, NULL, what, err);
    if ((ret = collect(c, what, &r, err)) != 0)
        return ret;
    if (out != NULL)
        *out = r;
    else
        PQclear(r);
    return 0;
}

int pg_run_changes(struct pg_conn *c, enum pg_stmt_id id, const char *sql,
                   const struct pg_params *p, const char *what, long *changes,
                   struct cmpca_err *err)
{
    PGresult *r = NULL;
    int ret;

    if ((ret = pg_run(c, id, sql, p, what, &r, err)) != 0)
        return ret;
    if (changes != NULL)
        *changes = strtol(PQcmdTuples(r), NULL, 10);
    PQclear(r);
    return 0;
}

int pg_simple(struct pg_conn *c, const char *sql, struct cmpca_err *err)
{
    PGresult *r = NULL;
    int ret;

    if (c->broken)
        return cmpca_err_set(err, FI_SYSTEM_UNAVAIL,
                             "store: connection unusable");
    if (!PQsendQuery(c->conn, sql))
        return pg_fail(c, NULL, sql, err);
    if ((ret = collect(c, sql, &r, err)) != 0)
        return ret;
    PQclear(r);
    return 0;
}

struct one_args {
    enum pg_stmt_id id;
    const char *sql;
    const struct pg_params *p;
    const char *what;
    PGresult *res; /* pg_query */
    long changes;  /* pg_change */
};

static int query_work(struct pg_conn *c, void *arg, struct cmpca_err *err)
{
    struct one_args *a = arg;

    PQclear(a->res); /* from an earlier attempt */
    a->res = NULL;
    return pg_run(c, a->id, a->sql, a->p, a->what, &a->res, err);
}

static int query_on(struct pg_store *pg, int write, enum pg_stmt_id id,
                    const char *sql, const struct pg_params *p,
                    const char *what, PGresult **out, struct cmpca_err *err)
{
    struct one_args a = {id, sql, p, what, NULL, 0};
    int ret = write ? pg_write(pg, query_work, &a, err)
                    : pg_read(pg, query_work, &a, err);

    *out = NULL;
    if (ret != 0) {
        PQclear(a.res);
        return -1;
    }
    *out = a.res;
    return 0;
}

int pg_query(struct pg_store *pg, enum pg_stmt_id id, const char *sql,
             const struct pg_params *p, const char *what, PGresult **out,
             struct cmpca_err *err)
{
    return query_on(pg, 0, id, sql, p, what, out, err);
}

int pg_write_query(struct pg_store *pg, enum pg_stmt_id id, const char *sql,
                   const struct pg_params *p, const char *what, PGresult **out,
                   struct cmpca_err *err)
{
    return query_on(pg, 1, id, sql, p, what, out, err);
}

static int change_work(struct pg_conn *c, void *arg, struct cmpca_err *err)
{
    struct one_args *a = arg;

    a->changes = 0;
    return pg_run_changes(c, a->id, a->sql, a->p, a->what, &a->changes, err);
}

/* A write goes inside BEGIN/COMMIT even alone: if the connection breaks
 * before COMMIT, it surely did not happen and may run again. */
int pg_change(struct pg_store *pg, enum pg_stmt_id id, const char *sql,
              const struct pg_params *p, const char *what, long *changes,
              struct cmpca_err *err)
{
    struct one_args a = {id, sql, p, what, NULL, 0};
    int ret = pg_write(pg, change_work, &a, err);

    if (changes != NULL)
        *changes = a.changes;
    return ret;
}

/* ---- parameters ---- */

void pgp_init(struct pg_params *p)
{
    memset(p, 0, sizeof(*p));
}

/* Too many parameters is a bug in this file set; the statement then fails
 * on the server with a count mismatch rather than writing past the end. */
static int next_slot(struct pg_params *p)
{
    return p->num < PG_MAX_PARAMS ? p->num++ : -1;
}

void pgp_text(struct pg_params *p, const char *v)
{
    int i = next_slot(p);

    if (i < 0)
        return;
    p->val[i] = v;
    p->len[i] = 0;
    p->fmt[i] = 0;
}

void pgp_bytes(struct pg_params *p, const uint8_t *v, size_t len)
{
    int i = next_slot(p);

    if (i < 0)
        return;
    p->val[i] = v != NULL && len > 0 && len <= INT_MAX ? (const char *)v : NULL;
    p->len[i] = p->val[i] != NULL ? (int)len : 0;
    p->fmt[i] = 1;
}

void pgp_int(struct pg_params *p, long long v)
{
    int i = next_slot(p);

    if (i < 0)
        return;
    snprintf(p->buf[i], sizeof(p->buf[i]), "%lld", v);
    p->val[i] = p->buf[i];
    p->len[i] = 0;
    p->fmt[i] = 0;
}

/* ---- columns (binary format) ---- */

long long pg_col_int(const PGresult *r, int row, int col)
{
    const unsigned char *v;
    unsigned long long u = 0;
    int len;

    if (PQgetisnull(r, row, col))
        return 0;
    v = (const unsigned char *)PQgetvalue(r, row, col);
    len = PQgetlength(r, row, col);
    if (len != 1 && len != 2 && len != 4 && len != 8)
        return 0;
    for (int i = 0; i < len; i++)
        u = u << 8 | v[i];
    switch (len) {
    case 2:
        return (int16_t)(uint16_t)u;
    case 4:
        return (int32_t)(uint32_t)u;
    case 8:
        return (long long)(int64_t)u;
    default:
        return (long long)u; /* bool */
    }
}

const char *pg_col_str(const PGresult *r, int row, int col)
{
    /* libpq ends every value, binary ones too, with a zero byte */
    return PQgetisnull(r, row, col) ? NULL : PQgetvalue(r, row, col);
}

int pg_col_text(const PGresult *r, int row, int col, char **out,
                struct cmpca_err *err)
{
    int len;

    *out = NULL;
    if (PQgetisnull(r, row, col))
        return 0;
    len = PQgetlength(r, row, col);
    if ((*out = malloc((size_t)len + 1)) == NULL)
        return pg_oom(err);
    memcpy(*out, PQgetvalue(r, row, col), (size_t)len);
    (*out)[len] = '\0';
    return 0;
}

int pg_col_blob(const PGresult *r, int row, int col, uint8_t **out,
                size_t *out_len, struct cmpca_err *err)
{
    int len;

    *out = NULL;
    *out_len = 0;
    if (PQgetisnull(r, row, col) || (len = PQgetlength(r, row, col)) <= 0)
        return 0;
    if ((*out = malloc((size_t)len)) == NULL)
        return pg_oom(err);
    memcpy(*out, PQgetvalue(r, row, col), (size_t)len);
    *out_len = (size_t)len;
    return 0;
}
