/*
 * test_store_audit.c: the hash-chained audit log of the store, on real
 * SQLite files in a temp dir. Besides append, listing and filters, this
 * tampers with the table behind the store's back (as someone with the
 * database file would: plain SQL) and checks that verify names the first
 * broken entry and what happened to it; it recomputes entry 1's hash from
 * the encoding docs/audit.md documents, so an external verifier written
 * from that page agrees with ours; and it appends from many threads, from
 * two handles and from two processes, which must still build one chain.
 */
#include "store/store.h"
#include "check.h"
#include "store_testdb.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/evp.h>

#define THREADS     8
#define PER_THREAD  40
#define NUM_SAMPLES 8

static struct store *open_db(const char *name)
{
    struct cmpca_err err = CMPCA_ERR_INIT;
    struct store *st = NULL;
    char path[512];

    testdb_uri(name, path, sizeof(path));
    if (store_open(path, &st, &err) != 0)
        fprintf(stderr, "store_open %s: %s\n", path, err.msg);
    CHECK(st != NULL);
    return st;
}

static void remove_db(const char *name)
{
    testdb_remove(name);
}

/* Runs `sql` on the database directly, as an intruder would. */
static void tamper(const char *name, const char *sql)
{
    CHECK(testdb_exec(name, sql) > 0); /* rows of the last statement */
}

static int append(struct store *st, const char *actor, const char *action,
                  const char *outcome, const char *vendor, const char *device,
                  const char *serial, const char *detail, time_t at)
{
    struct cmpca_err err = CMPCA_ERR_INIT;
    struct store_audit e;
    int rc;

    memset(&e, 0, sizeof(e));
    e.actor = (char *)actor;
    e.action = (char *)action;
    e.outcome = (char *)outcome;
    e.vendor = (char *)vendor;
    e.device = (char *)device;
    e.serial = (char *)serial;
    e.detail = (char *)detail;
    e.at = at;
    if ((rc = store_audit_append(st, &e, &err)) != 0)
        fprintf(stderr, "append: %s\n", err.msg);
    return rc;
}

/* verify returns store_audit_verify's result; *bad, *num and `why` (its
 * message when broken) are filled. */
static int verify(struct store *st, long long *bad, long long *num, char *why,
                  size_t why_len)
{
    struct cmpca_err err = CMPCA_ERR_INIT;
    int rc = store_audit_verify(st, bad, num, &err);

    snprintf(why, why_len, "%s", rc != 0 ? err.msg : "");
    return rc;
}

/* ---- collecting entries ---- */

struct sample {
    long long seq;
    time_t at;
    char text[7][600]; /* "(null)" for NULL */
    uint8_t hash[STORE_AUDIT_HASH_LEN];
};

struct collect {
    struct sample s[NUM_SAMPLES];
    int num;     /* entries seen */
    int stop_at; /* return non-zero after this many; 0: never */
    long long last_seq;
    int ordered; /* seqs strictly increasing */
};

static int collect_fn(void *arg, const struct store_audit *e)
{
    struct collect *c = arg;
    const char *f[7] = {e->actor,  e->action, e->outcome, e->vendor,
                        e->device, e->serial, e->detail};

    if (c->num > 0 && e->seq <= c->last_seq)
        c->ordered = 0;
    c->last_seq = e->seq;
    if (c->num < NUM_SAMPLES) {
        struct sample *s = &c->s[c->num];

        s->seq = e->seq;
        s->at = e->at;
        for (int i = 0; i < 7; i++)
            snprintf(s->text[i], sizeof(s->text[i]), "%s",
                     f[i] != NULL ? f[i] : "(null)");
        memcpy(s->hash, e->hash, sizeof(s->hash));
    }
    c->num++;
    return c->stop_at != 0 && c->num >= c->stop_at;
}

static int collect_all(struct store *st, const struct store_audit_filter *f,
                       struct collect *c)
{
    struct cmpca_err err = CMPCA_ERR_INIT;
    int stop_at = c->stop_at;

    memset(c, 0, sizeof(*c));
    c->stop_at = stop_at;
    c->ordered = 1;
    return store_audit_foreach(st, f, collect_fn, c, &err);
}

/* ---- the documented encoding, written again from docs/audit.md ---- */

static void be(uint8_t *out, unsigned long long v, int n)
{
    for (int i = n - 1; i >= 0; i--, v >>= 8)
        out[i] = (uint8_t)v;
}

static void doc_hash(const uint8_t prev[32], long long seq, long long at,
                     const char *const f[7], uint8_t out[32])
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    uint8_t b[8];
    unsigned int n = 0;

    CHECK(md != NULL && EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1);
    EVP_DigestUpdate(md, prev, 32);
    be(b, (unsigned long long)seq, 8);
    EVP_DigestUpdate(md, b, 8);
    be(b, (unsigned long long)at, 8);
    EVP_DigestUpdate(md, b, 8);
    for (int i = 0; i < 7; i++) {
        be(b, f[i] != NULL ? strlen(f[i]) : 0xFFFFFFFFu, 4);
        EVP_DigestUpdate(md, b, 4);
        if (f[i] != NULL)
            EVP_DigestUpdate(md, f[i], strlen(f[i]));
    }
    CHECK(EVP_DigestFinal_ex(md, out, &n) == 1 && n == 32);
    EVP_MD_CTX_free(md);
}

/* ---- tests ---- */

static void test_empty(void)
{
    struct store *st = open_db("empty");
    struct collect c = {0};
    long long bad = -1, num = -1;
    char why[256];

    if (st == NULL)
        return;
    CHECK_INT_EQ(verify(st, &bad, &num, why, sizeof(why)), 0);
    CHECK_INT_EQ(bad, 0);
    CHECK_INT_EQ(num, 0);
    CHECK_INT_EQ(collect_all(st, NULL, &c), 0);
    CHECK_INT_EQ(c.num, 0);
    store_close(st);
    remove_db("empty");
}

static void test_fields(void)
{
    static const char *const f1[7] = {
        "operator", "vendor add", "done", "acme", NULL, NULL, "id_attr=CN"};
    struct cmpca_err err = CMPCA_ERR_INIT;
    struct store *st = open_db("fields");
    struct store_audit e;
    struct collect c = {0};
    uint8_t zero[32] = {0}, h1[32], h2[32];
    time_t before = time(NULL);

    if (st == NULL)
        return;
    CHECK_INT_EQ(
        append(st, f1[0], f1[1], f1[2], f1[3], f1[4], f1[5], f1[6], 1700000000),
        0);
    CHECK_INT_EQ(append(st, "device acme/SN1", "ir", "rejected", "acme", "SN1",
                        "0x00ab:cd", "", 0),
                 0);
    CHECK_INT_EQ(collect_all(st, NULL, &c), 0);
    CHECK_INT_EQ(c.num, 2);
    CHECK_INT_EQ(c.s[0].seq, 1);
    CHECK_INT_EQ(c.s[0].at, 1700000000);
    CHECK_STR_EQ(c.s[0].text[0], "operator");
    CHECK_STR_EQ(c.s[0].text[1], "vendor add");
    CHECK_STR_EQ(c.s[0].text[4], "(null)");
    CHECK_STR_EQ(c.s[0].text[6], "id_attr=CN");
    CHECK_INT_EQ(c.s[1].seq, 2);
    CHECK(c.s[1].at >= before && c.s[1].at <= time(NULL)); /* 0: now */
    CHECK_STR_EQ(c.s[1].text[3], "acme");
    CHECK_STR_EQ(c.s[1].text[4], "SN1");
    CHECK_STR_EQ(c.s[1].text[5], "ABCD"); /* canonical certificate serial */
    CHECK_STR_EQ(c.s[1].text[6], "");     /* "" stays "", not NULL */

    /* the chain is exactly the documented encoding */
    doc_hash(zero, 1, 1700000000, f1, h1);
    CHECK(memcmp(h1, c.s[0].hash, 32) == 0);
    {
        const char *f2[7] = {
            "device acme/SN1", "ir", "rejected", "acme", "SN1", "ABCD", ""};

        doc_hash(h1, 2, (long long)c.s[1].at, f2, h2);
        CHECK(memcmp(h2, c.s[1].hash, 32) == 0);
    }

    /* actor, action and outcome are required */
    memset(&e, 0, sizeof(e));
    e.actor = "operator";
    e.action = "x";
    CHECK_INT_EQ(store_audit_append(st, &e, &err), -1);
    CHECK_INT_EQ(store_audit_append(st, NULL, &err), -1);
    CHECK_INT_EQ(store_audit_foreach(st, NULL, NULL, NULL, &err), -1);
    store_close(st);
    remove_db("fields");
}

static void test_caps(void)
{
    struct store *st = open_db("caps");
    struct collect c = {0};
    char big[1200], actor[300];
    long long bad, num;
    char why[256];

    if (st == NULL)
        return;
    memset(big, 'd', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    /* 255 ASCII bytes then a 2-byte character: the cut may not split it */
    memset(actor, 'a', 255);
    memcpy(actor + 255, "\xc3\xa9zz", 5);
    CHECK_INT_EQ(append(st, actor, big, "done", big, big, big, big, 0), 0);
    CHECK_INT_EQ(append(st, "op", "x", "done", NULL, NULL, "not a serial",
                        "tab\there\nnewline\x7f", 0),
                 0);
    CHECK_INT_EQ(collect_all(st, NULL, &c), 0);
    CHECK_INT_EQ(c.num, 2);
    CHECK_INT_EQ(strlen(c.s[0].text[0]), 255);
    CHECK_INT_EQ(strlen(c.s[0].text[1]), 256);
    CHECK_INT_EQ(strlen(c.s[0].text[3]), 256);
    CHECK_INT_EQ(strlen(c.s[0].text[5]), 256);
    CHECK_INT_EQ(strlen(c.s[0].text[6]), 512);
    CHECK_STR_EQ(c.s[1].text[5], "not a serial"); /* kept as given */
    CHECK_STR_EQ(c.s[1].text[6], "tab?here?newline?");
    CHECK_INT_EQ(verify(st, &bad, &num, why, sizeof(why)), 0);
    CHECK_INT_EQ(num, 2);
    store_close(st);
    remove_db("caps");
}

static void test_filter(void)
{
    struct store *st = open_db("filter");
    struct store_audit_filter f;
    struct collect c = {0};

    if (st == NULL)
        return;
    CHECK_INT_EQ(
        append(st, "s", "ir", "issued", "acme", "SN1", "0A", NULL, 1000), 0);
    CHECK_INT_EQ(
        append(st, "s", "ir", "issued", "acme", "SN2", "0B", NULL, 2000), 0);
    CHECK_INT_EQ(
        append(st, "s", "rr", "revoked", "acme", "SN1", "0a", NULL, 3000), 0);
    CHECK_INT_EQ(
        append(st, "s", "ir", "issued", "beta", "SN1", NULL, NULL, 4000), 0);

    memset(&f, 0, sizeof(f));
    f.vendor = "acme";
    CHECK_INT_EQ(collect_all(st, &f, &c), 0);
    CHECK_INT_EQ(c.num, 3);
    f.device = "SN1";
    CHECK_INT_EQ(collect_all(st, &f, &c), 0);
    CHECK_INT_EQ(c.num, 2);
    CHECK_INT_EQ(c.s[0].seq, 1);
    CHECK_INT_EQ(c.s[1].seq, 3);
    f.vendor = NULL; /* SN1 of any vendor */
    CHECK_INT_EQ(collect_all(st, &f, &c), 0);
    CHECK_INT_EQ(c.num, 3);

    memset(&f, 0, sizeof(f));
    f.serial = "0x000a"; /* any spelling of serial 0A */
    CHECK_INT_EQ(collect_all(st, &f, &c), 0);
    CHECK_INT_EQ(c.num, 2);
    CHECK_INT_EQ(c.s[1].seq, 3);

    memset(&f, 0, sizeof(f));
    f.since = 2000;
    CHECK_INT_EQ(collect_all(st, &f, &c), 0);
    CHECK_INT_EQ(c.num, 3);
    f.until = 3000;
    CHECK_INT_EQ(collect_all(st, &f, &c), 0);
    CHECK_INT_EQ(c.num, 2);
    CHECK_INT_EQ(c.s[0].seq, 2);
    f.since = 0;
    CHECK_INT_EQ(collect_all(st, &f, &c), 0);
    CHECK_INT_EQ(c.num, 3);
    CHECK_INT_EQ(c.s[0].seq, 1);

    /* stopping early */
    c.stop_at = 2;
    CHECK_INT_EQ(collect_all(st, NULL, &c), 0);
    CHECK_INT_EQ(c.num, 2);
    store_close(st);
    remove_db("filter");
}

/* make_log writes a fresh log of `n` entries into database `name`. */
static void make_log(const char *name, int n)
{
    struct store *st;
    char serial[16], detail[64], device[16];

    remove_db(name);
    if ((st = open_db(name)) == NULL)
        return;
    for (int i = 1; i <= n; i++) {
        snprintf(serial, sizeof(serial), "%02X", i);
        snprintf(device, sizeof(device), "SN%d", i);
        snprintf(detail, sizeof(detail), "entry number %d", i);
        CHECK_INT_EQ(append(st, "server", "ir", "issued", "acme", device,
                            serial, detail, 1000 + i),
                     0);
    }
    store_close(st);
}

/* check_broken tampers a fresh 8-entry log with `sql` and expects verify
 * to report entry `want` with a message containing `what`. */
static void check_broken(const char *sql, long long want, const char *what)
{
    struct store *st;
    long long bad = -1, num = -1;
    char why[256];

    make_log("tamper", 8);
    tamper("tamper", sql);
    if ((st = open_db("tamper")) == NULL)
        return;
    CHECK_INT_EQ(verify(st, &bad, &num, why, sizeof(why)), 1);
    CHECK_INT_EQ(bad, want);
    if (strstr(why, what) == NULL) {
        fprintf(stderr, "after \"%s\": \"%s\" lacks \"%s\"\n", sql, why, what);
        CHECK(0);
    }
    /* the log still takes entries; the break stays where it is */
    CHECK_INT_EQ(append(st, "operator", "x", "done", NULL, NULL, NULL, NULL, 0),
                 0);
    CHECK_INT_EQ(verify(st, &bad, &num, why, sizeof(why)), 1);
    CHECK_INT_EQ(bad, want);
    store_close(st);
}

#define SWAP_COLS "at, actor, action, outcome, vendor, device, serial, detail"

static void test_tamper(void)
{
    struct store *st;
    long long bad = -1, num = -1;
    char why[256];

    make_log("tamper", 8);
    if ((st = open_db("tamper")) != NULL) {
        CHECK_INT_EQ(verify(st, &bad, &num, why, sizeof(why)), 0);
        CHECK_INT_EQ(num, 8);
        store_close(st);
    }
    /* one byte of one field */
    check_broken("UPDATE audit SET detail = 'x' || detail WHERE seq = 2", 2,
                 "edited");
    check_broken("UPDATE audit SET detail = 'entry number 6!' WHERE seq = 6", 6,
                 "edited");
    check_broken("UPDATE audit SET at = at + 1 WHERE seq = 5", 5, "edited");
    check_broken("UPDATE audit SET vendor = NULL WHERE seq = 3", 3, "edited");
    check_broken("UPDATE audit SET device = '' WHERE seq = 8", 8, "edited");
    check_broken("UPDATE audit SET hash = zeroblob(32) WHERE seq = 1", 1,
                 "edited");
    check_broken("UPDATE audit SET hash = zeroblob(31) WHERE seq = 4", 4,
                 "not 32 bytes");
    /* deleted rows: the next one is named */
    check_broken("DELETE FROM audit WHERE seq = 3", 4, "entry 3 is missing");
    check_broken("DELETE FROM audit WHERE seq = 1", 2, "entry 1 is missing");
    check_broken("DELETE FROM audit WHERE seq IN (5, 6, 7)", 8,
                 "entries 5-7 are missing");
    /* reordered: whole rows (hash included) or their fields only */
    check_broken("UPDATE audit SET seq = -seq WHERE seq IN (2, 6);"
                 "UPDATE audit SET seq = 8 + seq WHERE seq < 0",
                 2, "reordered (it holds the fields of entry 6)");
    check_broken("UPDATE audit SET seq = -seq WHERE seq IN (4, 5);"
                 "UPDATE audit SET seq = 9 + seq WHERE seq < 0",
                 4, "reordered (it holds the fields of entry 5)");
    check_broken("CREATE TEMP TABLE t AS SELECT * FROM audit"
                 " WHERE seq IN (3, 7);"
                 "UPDATE audit SET (" SWAP_COLS ") = (SELECT " SWAP_COLS
                 " FROM t WHERE t.seq = 10 - audit.seq) WHERE seq IN (3, 7)",
                 3, "reordered (it holds the fields of entry 7)");
    check_broken("CREATE TEMP TABLE t AS SELECT * FROM audit"
                 " WHERE seq IN (1, 2);"
                 "UPDATE audit SET (" SWAP_COLS ") = (SELECT " SWAP_COLS
                 " FROM t WHERE t.seq = 3 - audit.seq) WHERE seq IN (1, 2)",
                 1, "reordered (it holds the fields of entry 2)");
    remove_db("tamper");
}

/* ---- concurrency ---- */

struct worker {
    struct store *st;
    int id;
    int failures;
};

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    char detail[64];

    for (int i = 0; i < PER_THREAD; i++) {
        snprintf(detail, sizeof(detail), "thread %d entry %d", w->id, i);
        if (append(w->st, "server", "ir", "issued", "acme", "SN1", NULL, detail,
                   0) != 0)
            w->failures++;
    }
    return NULL;
}

/* run_workers appends PER_THREAD entries from each of `n` threads, thread
 * i on handle sts[i % num_sts]. */
static void run_workers(struct store **sts, int num_sts, int n)
{
    pthread_t th[THREADS];
    struct worker w[THREADS];

    for (int i = 0; i < n; i++) {
        w[i].st = sts[i % num_sts];
        w[i].id = i;
        w[i].failures = 0;
        CHECK_INT_EQ(pthread_create(&th[i], NULL, worker_main, &w[i]), 0);
    }
    for (int i = 0; i < n; i++) {
        pthread_join(th[i], NULL);
        CHECK_INT_EQ(w[i].failures, 0);
    }
}

static void check_chain(struct store *st, long long want)
{
    struct collect c = {0};
    long long bad = -1, num = -1;
    char why[256];

    CHECK_INT_EQ(verify(st, &bad, &num, why, sizeof(why)), 0);
    CHECK_INT_EQ(num, want);
    CHECK_INT_EQ(collect_all(st, NULL, &c), 0);
    CHECK_INT_EQ(c.num, want);
    CHECK_INT_EQ(c.last_seq, want); /* 1..want, no gap, no duplicate */
    CHECK(c.ordered);
}

static void test_threads(void)
{
    struct store *st = open_db("threads");

    if (st == NULL)
        return;
    run_workers(&st, 1, THREADS);
    check_chain(st, THREADS * PER_THREAD);
    store_close(st);
    remove_db("threads");
}

static void test_two_handles(void)
{
    struct store *sts[2] = {open_db("handles"), open_db("handles")};

    if (sts[0] != NULL && sts[1] != NULL) {
        /* alternately, then at the same time */
        for (int i = 0; i < 20; i++)
            CHECK_INT_EQ(append(sts[i % 2], "operator", "x", "done", NULL, NULL,
                                NULL, NULL, 0),
                         0);
        run_workers(sts, 2, 4);
        check_chain(sts[0], 20 + 4 * PER_THREAD);
        check_chain(sts[1], 20 + 4 * PER_THREAD);
    }
    store_close(sts[0]);
    store_close(sts[1]);
    remove_db("handles");
}

static void test_two_processes(void)
{
    struct store *st;
    struct worker w = {NULL, 0, 0};
    int status = -1;
    char uri[600];
    pid_t pid;

    testdb_uri("procs", uri, sizeof(uri)); /* exists before either opens */
    fflush(stderr);
    if ((pid = fork()) == 0) {
        /* the child: its own handle, its own appends */
        if ((w.st = open_db("procs")) == NULL)
            _exit(2);
        w.id = 100;
        worker_main(&w);
        store_close(w.st);
        _exit(w.failures == 0 ? 0 : 1);
    }
    CHECK(pid > 0);
    if ((st = open_db("procs")) == NULL)
        return;
    w.st = st;
    worker_main(&w);
    CHECK_INT_EQ(w.failures, 0);
    if (pid > 0) {
        CHECK_INT_EQ(waitpid(pid, &status, 0), pid);
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    check_chain(st, 2 * PER_THREAD);
    store_close(st);
    remove_db("procs");
}

int main(void)
{
    if (testdb_init("test_store_audit") != 0)
        return 1;
    test_empty();
    test_fields();
    test_caps();
    test_filter();
    test_tamper();
    test_threads();
    test_two_handles();
    test_two_processes();
    testdb_cleanup();
    return CHECK_RESULT();
}
