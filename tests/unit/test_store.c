/*
 * test_store.c: the store room against a real SQLite file in a temp dir,
 * or a real PostgreSQL database when CMPCA_TEST_STORE_URI names a server
 * (store_testdb.h; CTest runs it both ways):
 * every store.h function, duplicate and not-found answers, transaction
 * expiry, nonce replay and pruning, schema migration and refusal of a newer
 * schema, eight threads writing at once, two handles and two processes on
 * one file (as the CLI and the server are), a writer waiting out another's
 * lock, and a 100,000-serial import whose duration is printed (not
 * asserted).
 */
#include "store/store.h"
#include "check.h"
#include "store_testdb.h"

#define SCHEMA_VERSION 6 /* bump with each migration step */

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

static void db_path(char *buf, size_t len, const char *name)
{
    snprintf(buf, len, "%s/%s", testdb_dir(), name);
}

static struct store *open_db(const char *name)
{
    struct cmpca_err err = CMPCA_ERR_INIT;
    struct store *st = NULL;
    char uri[512];

    testdb_uri(name, uri, sizeof(uri));
    if (store_open(uri, &st, &err) != 0)
        fprintf(stderr, "store_open %s: %s\n", uri, err.msg);
    CHECK(st != NULL);
    return st;
}

/* raw_int runs one SQL query on the database behind the store's back. */
static long long raw_int(const char *name, const char *sql)
{
    return testdb_int(name, sql);
}

static const uint8_t der[] = {0x30, 0x03, 0x02, 0x01, 0x01};

static struct store_cert mkcert(const char *serial, int status)
{
    struct store_cert c = {0};

    c.serial_hex = (char *)serial;
    c.subject = "CN=dev,O=Vendor";
    c.issuer = "CN=Operator CA";
    c.not_before = 1700000000;
    c.not_after = 1800000000;
    c.status = status;
    c.vendor = "acme";
    c.device = "SN1";
    c.der = (uint8_t *)der;
    c.der_len = sizeof(der);
    return c;
}

static struct store_txn mktxn(const uint8_t *tid, size_t len, time_t expires)
{
    static const uint8_t sender[] = {0xa4, 0x00};
    static const uint8_t nonce[] = {1, 2, 3, 4};
    struct store_txn t = {0};

    t.tid = (uint8_t *)tid;
    t.tid_len = len;
    t.state = TXN_WAIT_CONF;
    t.body_type = 0;
    t.sender = (uint8_t *)sender;
    t.sender_len = sizeof(sender);
    t.last_nonce = (uint8_t *)nonce;
    t.last_nonce_len = sizeof(nonce);
    t.cert_req_id = 0;
    t.pvno = 2;
    t.expires = expires;
    return t;
}

/* What only an SQLite file can show: WAL, bare paths, bad files. */
static void test_open_sqlite(void)
{
    struct cmpca_err err = CMPCA_ERR_INIT;
    struct store *st = NULL;
    char path[512];

    CHECK_INT_EQ(raw_int("fresh.db", "SELECT journal_mode = 'wal' FROM "
                                     "pragma_journal_mode"),
                 1);
    /* a bare path works as well as "sqlite:PATH" */
    db_path(path, sizeof(path), "fresh.db");
    CHECK_INT_EQ(store_open(path, &st, &err), 0);
    CHECK_INT_EQ(store_schema_version(st), SCHEMA_VERSION);
    store_close(st);
    st = NULL;
    CHECK_INT_EQ(store_open("/nonexistent-dir/x/y.db", &st, &err), -1);
    CHECK_INT_EQ(err.failinfo, FI_SYSTEM_UNAVAIL);
    CHECK(strstr(err.msg, "store:") == err.msg);
    /* a file that is not a database is refused */
    db_path(path, sizeof(path), "junk.db");
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    if (f != NULL) {
        fputs("this is not an SQLite database, not at all, no no no.\n", f);
        fclose(f);
    }
    CHECK_INT_EQ(store_open(path, &st, &err), -1);
    CHECK(st == NULL);
}

/* What only a PostgreSQL URI has: a pool size, a database that is not
 * there. */
static void test_open_pg(void)
{
    struct cmpca_err err = CMPCA_ERR_INIT;
    struct store *st = NULL;
    char uri[600];

    testdb_uri("fresh.db", uri, sizeof(uri));
    strncat(uri, "?pool=0", sizeof(uri) - strlen(uri) - 1);
    CHECK_INT_EQ(store_open(uri, &st, &err), -1);
    CHECK(st == NULL && strstr(err.msg, "pool") != NULL);
    strcpy(strrchr(uri, '?'), "?pool=2&application_name=t");
    CHECK_INT_EQ(store_open(uri, &st, &err), 0);
    CHECK_INT_EQ(store_schema_version(st), SCHEMA_VERSION);
    store_close(st);
    st = NULL;
    strcpy(strrchr(uri, '/'), "/no_such_database");
    CHECK_INT_EQ(store_open(uri, &st, &err), -1);
    CHECK(st == NULL);
    CHECK_INT_EQ(err.failinfo, FI_SYSTEM_UNAVAIL);
}

static void test_open(void)
{
    struct cmpca_err err = CMPCA_ERR_INIT;
    struct store *st = open_db("fresh.db");
    char uri[600];

    CHECK_INT_EQ(store_schema_version(st), SCHEMA_VERSION);
    store_close(st);
    CHECK_INT_EQ(testdb_schema_version("fresh.db"), SCHEMA_VERSION);
    CHECK_INT_EQ(testdb_num_tables("fresh.db"), 10);
    if (testdb_is_pg())
        test_open_pg();
    else
        test_open_sqlite();

    /* a server that is not there: unavailable, at once */
    st = NULL;
    CHECK_INT_EQ(store_open("postgresql://127.0.0.1:1/cmpca", &st, &err), -1);
    CHECK(st == NULL && strncmp(err.msg, "store:", 6) == 0);
    CHECK_INT_EQ(err.failinfo, FI_SYSTEM_UNAVAIL);

    /* a schema newer than the code is refused, and left alone */
    store_close(open_db("newer.db"));
    CHECK_INT_EQ(testdb_set_schema_version("newer.db", 99), 0);
    testdb_uri("newer.db", uri, sizeof(uri));
    CHECK_INT_EQ(store_open(uri, &st, &err), -1);
    CHECK(st == NULL);
    CHECK(strstr(err.msg, "newer") != NULL);
    CHECK_INT_EQ(testdb_schema_version("newer.db"), 99);
}

static void test_vendors(struct store *st)
{
    struct cmpca_err err = CMPCA_ERR_INIT;
    struct store_vendor v = {"zeta", "ROOTZ", NULL, "CN", 0, NULL};
    struct store_vendor w = {"acme", "ROOTA", "CHAINA", "serialNumber", 42, NULL};
    struct store_vendor got = {0}, *list = NULL;
    size_t num = 0;

    CHECK_INT_EQ(store_vendor_add(st, &v, &err), 0);
    CHECK_INT_EQ(store_vendor_add(st, &w, &err), 0);
    CHECK_INT_EQ(store_vendor_add(st, &w, &err), STORE_EXISTS);
    w.id_attr = "O";
    CHECK_INT_EQ(store_vendor_add(st, &w, &err), -1);
    CHECK_INT_EQ(store_vendor_get(st, "acme", &got, &err), 0);
    CHECK_STR_EQ(got.root_pem, "ROOTA");
    CHECK_STR_EQ(got.chain_pem, "CHAINA");
    CHECK_STR_EQ(got.id_attr, "serialNumber");
    CHECK_INT_EQ(got.created, 42);
    store_vendor_clear(&got);
    CHECK_INT_EQ(store_vendor_get(st, "zeta", &got, &err), 0);
    CHECK(got.chain_pem == NULL && got.created >= time(NULL) - 5);
    store_vendor_clear(&got);
    CHECK_INT_EQ(store_vendor_get(st, "nope", &got, &err), STORE_NOTFOUND);
    CHECK_INT_EQ(store_vendor_list(st, &list, &num, &err), 0);
    CHECK_INT_EQ(num, 2);
    if (num == 2) {
        CHECK_STR_EQ(list[0].name, "acme");
        CHECK_STR_EQ(list[1].name, "zeta");
    }
    store_vendor_list_free(list, num);
}

struct collect {
    int calls;
    int stop_after;
    char first[3][32];
};

static int collect_dev(void *arg, const struct store_device *d)
{
    struct collect *c = arg;

    if (c->calls < 3)
        snprintf(c->first[c->calls], sizeof(c->first[0]), "%s/%s", d->vendor,
                 d->serial);
    c->calls++;
    return c->stop_after != 0 && c->calls >= c->stop_after;
}

static void test_devices(struct store *st)
{
    struct cmpca_err err = CMPCA_ERR_INIT;
    struct store_device d = {0};
    struct collect col = {0};
    char longsn[300];

    CHECK_INT_EQ(store_device_add(st, "acme", "SN2", APPROVAL_AUTO, &err), 0);
    CHECK_INT_EQ(store_device_add(st, "acme", "SN1", APPROVAL_AUTO, &err), 0);
    CHECK_INT_EQ(store_device_add(st, "zeta", "SN0", APPROVAL_AUTO, &err), 0);
    CHECK_INT_EQ(store_device_add(st, "acme", "SN1", APPROVAL_AUTO, &err), STORE_EXISTS);
    CHECK_INT_EQ(store_device_add(st, "ghost", "SN1", APPROVAL_AUTO, &err), STORE_NOTFOUND);
    CHECK_INT_EQ(store_device_add(st, "acme", "bad\nserial", APPROVAL_AUTO, &err), -1);
    CHECK(strncmp(err.msg, "store:", 6) == 0);
    memset(longsn, 'A', 257);
    longsn[257] = '\0';
    CHECK_INT_EQ(store_device_add(st, "acme", longsn, APPROVAL_AUTO, &err), -1);
    longsn[256] = '\0';
    CHECK_INT_EQ(store_device_add(st, "acme", longsn, APPROVAL_AUTO, &err), 0);

    CHECK_INT_EQ(store_device_get(st, "acme", "SN1", &d, &err), 0);
    CHECK_STR_EQ(d.vendor, "acme");
    CHECK_STR_EQ(d.serial, "SN1");
    CHECK_INT_EQ(d.state, DEVICE_REGISTERED);
    CHECK(d.created > 0 && d.updated == d.created);
    store_device_clear(&d);
    CHECK_INT_EQ(store_device_get(st, "zeta", "SN1", &d, &err), STORE_NOTFOUND);
    CHECK_INT_EQ(
        store_device_set_state(st, "acme", "SN1", DEVICE_ENROLLED, &err), 0);
    CHECK_INT_EQ(store_device_get(st, "acme", "SN1", &d, &err), 0);
    CHECK_INT_EQ(d.state, DEVICE_ENROLLED);
    store_device_clear(&d);
    CHECK_INT_EQ(
        store_device_set_state(st, "acme", "SN9", DEVICE_DISABLED, &err),
        STORE_NOTFOUND);
    CHECK_INT_EQ(store_device_set_state(st, "acme", "SN1", 7, &err), -1);

    CHECK_INT_EQ(store_device_foreach(st, NULL, collect_dev, &col, &err), 0);
    CHECK_INT_EQ(col.calls, 4);
    CHECK_STR_EQ(col.first[1], "acme/SN1");
    CHECK_STR_EQ(col.first[2], "acme/SN2");
    memset(&col, 0, sizeof(col));
    CHECK_INT_EQ(store_device_foreach(st, "zeta", collect_dev, &col, &err), 0);
    CHECK_INT_EQ(col.calls, 1);
    CHECK_STR_EQ(col.first[0], "zeta/SN0");
    memset(&col, 0, sizeof(col));
    col.stop_after = 2;
    CHECK_INT_EQ(store_device_foreach(st, NULL, collect_dev, &col, &err), 0);
    CHECK_INT_EQ(col.calls, 2);
}

static void test_import(struct store *st)
{
    enum { N = 100000 };
    struct cmpca_err err = CMPCA_ERR_INIT;
    char *buf = malloc((size_t)2 * N * 16);
    const char **sn = malloc((size_t)2 * N * sizeof(*sn));
    const char *bad[] = {"NEW-1", "NEW-2", "NEW\001Z"};
    const char *dups[] = {"DUP", "DUP", "SN-000007"};
    struct store_device d = {0};
    struct collect col = {0};
    size_t added = 0, skipped = 0;
    struct timespec t0, t1;

    CHECK(buf != NULL && sn != NULL);
    if (buf == NULL || sn == NULL)
        goto done;
    for (size_t i = 0; i < 2 * N; i++) {
        snprintf(buf + i * 16, 16, "SN-%06zu", i);
        sn[i] = buf + i * 16;
    }
    clock_gettime(CLOCK_MONOTONIC, &t0);
    CHECK_INT_EQ(store_device_import(st, "zeta", sn, N, APPROVAL_AUTO, &added, &skipped, &err),
                 0);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    printf("import of %d serials: %.3f s\n", N,
           (double)(t1.tv_sec - t0.tv_sec) +
               (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
    CHECK_INT_EQ(added, N);
    CHECK_INT_EQ(skipped, 0);
    /* half old, half new */
    CHECK_INT_EQ(
        store_device_import(st, "zeta", sn + N / 2, N, APPROVAL_AUTO, &added, &skipped, &err),
        0);
    CHECK_INT_EQ(added, N / 2);
    CHECK_INT_EQ(skipped, N / 2);
    CHECK_INT_EQ(
        store_device_import(st, "zeta", dups, 3, APPROVAL_AUTO, &added, &skipped, &err), 0);
    CHECK_INT_EQ(added, 1);
    CHECK_INT_EQ(skipped, 2);
    /* all or nothing */
    CHECK_INT_EQ(
        store_device_import(st, "zeta", bad, 3, APPROVAL_AUTO, &added, &skipped, &err), -1);
    CHECK(strncmp(err.msg, "store:", 6) == 0 && strstr(err.msg, "#3"));
    CHECK_INT_EQ(store_device_get(st, "zeta", "NEW-1", &d, &err),
                 STORE_NOTFOUND);
    CHECK_INT_EQ(
        store_device_import(st, "ghost", sn, 2, APPROVAL_AUTO, &added, &skipped, &err),
        STORE_NOTFOUND);
    CHECK_INT_EQ(store_device_foreach(st, "zeta", collect_dev, &col, &err), 0);
    CHECK_INT_EQ(col.calls, N + N / 2 + 1 + 1); /* + DUP + SN0 */

done:
    free(buf);
    free(sn);
}

static int collect_cert(void *arg, const struct store_cert *c)
{
    struct collect *col = arg;

    if (col->calls < 3)
        snprintf(col->first[col->calls], sizeof(col->first[0]), "%s%s",
                 c->serial_hex, c->der == NULL ? "" : "+der");
    col->calls++;
    return 0;
}

static void test_certs(struct store *st)
{
    struct cmpca_err err = CMPCA_ERR_INIT;
    struct store_cert c = mkcert("0x00ab", CERT_ISSUED), got = {0};
    struct collect col = {0};
    long long n = -1;

    c.created = 1000;
    CHECK_INT_EQ(store_cert_insert(st, &c, &err), 0);
    c.serial_hex = "AB"; /* same number */
    CHECK_INT_EQ(store_cert_insert(st, &c, &err), STORE_EXISTS);
    c.serial_hex = "abc"; /* odd digit count: stored as 0ABC */
    c.created = 500;
    c.vendor = c.device = NULL;
    CHECK_INT_EQ(store_cert_insert(st, &c, &err), 0);
    c.serial_hex = "0";
    c.created = 2000;
    CHECK_INT_EQ(store_cert_insert(st, &c, &err), 0);
    c.serial_hex = "xyz";
    CHECK_INT_EQ(store_cert_insert(st, &c, &err), -1);

    CHECK_INT_EQ(store_cert_get(st, "ab", &got, &err), 0);
    CHECK_STR_EQ(got.serial_hex, "AB");
    CHECK_STR_EQ(got.subject, "CN=dev,O=Vendor");
    CHECK_STR_EQ(got.vendor, "acme");
    CHECK_INT_EQ(got.not_after, 1800000000);
    CHECK(got.der_len == sizeof(der) && memcmp(got.der, der, sizeof(der)) == 0);
    store_cert_clear(&got);
    CHECK_INT_EQ(store_cert_get(st, "0X0ABC", &got, &err), 0);
    CHECK_STR_EQ(got.serial_hex, "0ABC");
    CHECK(got.vendor == NULL);
    store_cert_clear(&got);
    CHECK_INT_EQ(store_cert_get(st, "00:00", &got, &err), 0);
    CHECK_STR_EQ(got.serial_hex, "00");
    store_cert_clear(&got);
    CHECK_INT_EQ(store_cert_get(st, "CD", &got, &err), STORE_NOTFOUND);
    CHECK_INT_EQ(store_cert_get(st, "not hex", &got, &err), STORE_NOTFOUND);

    CHECK_INT_EQ(store_cert_set_status(st, "00AB", CERT_REVOKED, &err), 0);
    CHECK_INT_EQ(store_cert_get(st, "AB", &got, &err), 0);
    CHECK_INT_EQ(got.status, CERT_REVOKED);
    store_cert_clear(&got);
    CHECK_INT_EQ(store_cert_set_status(st, "EF", CERT_REVOKED, &err),
                 STORE_NOTFOUND);
    CHECK_INT_EQ(store_cert_set_status(st, "AB", 9, &err), -1);

    CHECK_INT_EQ(store_cert_foreach(st, collect_cert, &col, &err), 0);
    CHECK_INT_EQ(col.calls, 3);
    CHECK_STR_EQ(col.first[0], "0ABC");
    CHECK_STR_EQ(col.first[1], "AB");
    CHECK_STR_EQ(col.first[2], "00");
    CHECK_INT_EQ(store_cert_count(st, &n, &err), 0);
    CHECK_INT_EQ(n, 3);
}

static void test_txns(struct store *st)
{
    struct cmpca_err err = CMPCA_ERR_INIT;
    static const uint8_t tid[] = "transaction-0001";
    static const uint8_t tid2[] = "transaction-0002";
    static const uint8_t nn[] = {9, 9, 9};
    time_t now = time(NULL);
    struct store_txn t = mktxn(tid, 16, now + 60), got = {0};
    struct store_cert c = mkcert("C0FFEE", CERT_ISSUED), cg = {0};

    CHECK_INT_EQ(store_txn_create(st, &t, &err), 0);
    CHECK_INT_EQ(store_txn_create(st, &t, &err), STORE_EXISTS);
    CHECK_INT_EQ(store_txn_get(st, tid, 16, &got, &err), 0);
    CHECK(got.tid_len == 16 && memcmp(got.tid, tid, 16) == 0);
    CHECK(got.sender_len == 2 && got.auth_id == NULL);
    CHECK(got.last_nonce_len == 4 && got.last_nonce[3] == 4);
    CHECK(got.cert_serial == NULL && got.pvno == 2 && got.expires == now + 60);
    store_txn_clear(&got);
    CHECK_INT_EQ(store_txn_update(st, tid, 16, TXN_WAIT_CONF, nn, 3, &err), 0);
    CHECK_INT_EQ(store_txn_update(st, tid, 16, TXN_WAIT_CONF, NULL, 0, &err),
                 0);
    CHECK_INT_EQ(store_txn_get(st, tid, 16, &got, &err), 0);
    CHECK(got.last_nonce_len == 3 && got.last_nonce[0] == 9);
    store_txn_clear(&got);
    CHECK_INT_EQ(store_txn_update(st, tid2, 16, TXN_DONE, nn, 3, &err),
                 STORE_NOTFOUND);

    /* finish: both rows change or neither */
    CHECK_INT_EQ(store_cert_insert(st, &c, &err), 0);
    CHECK_INT_EQ(
        store_txn_finish(st, tid, 16, "DEADBEEF", CERT_CONFIRMED, &err),
        STORE_NOTFOUND);
    CHECK_INT_EQ(store_txn_get(st, tid, 16, &got, &err), 0);
    CHECK_INT_EQ(got.state, TXN_WAIT_CONF);
    store_txn_clear(&got);
    CHECK_INT_EQ(store_txn_finish(st, tid, 16, "c0ffee", CERT_CONFIRMED, &err),
                 0);
    CHECK_INT_EQ(store_cert_get(st, "C0FFEE", &cg, &err), 0);
    CHECK_INT_EQ(cg.status, CERT_CONFIRMED);
    store_cert_clear(&cg);
    CHECK_INT_EQ(store_txn_get(st, tid, 16, &got, &err), 0);
    CHECK_INT_EQ(got.state, TXN_DONE);
    store_txn_clear(&got);
    CHECK_INT_EQ(store_txn_finish(st, tid, 16, "C0FFEE", CERT_REJECTED, &err),
                 STORE_NOTFOUND);
    CHECK_INT_EQ(store_txn_update(st, tid, 16, TXN_DONE, nn, 3, &err),
                 STORE_NOTFOUND);
    /* a finished transaction no longer holds its ID */
    CHECK_INT_EQ(store_txn_create(st, &t, &err), 0);

    /* expired: invisible and replaceable */
    t = mktxn(tid2, 16, now - 1);
    CHECK_INT_EQ(store_txn_create(st, &t, &err), 0);
    CHECK_INT_EQ(store_txn_get(st, tid2, 16, &got, &err), STORE_NOTFOUND);
    t.expires = now + 60;
    t.pvno = 3;
    CHECK_INT_EQ(store_txn_create(st, &t, &err), 0);
    CHECK_INT_EQ(store_txn_get(st, tid2, 16, &got, &err), 0);
    CHECK_INT_EQ(got.pvno, 3);
    store_txn_clear(&got);
}

static void test_issue(struct store *st)
{
    struct cmpca_err err = CMPCA_ERR_INIT;
    static const uint8_t t1[] = "issue-tid-000001";
    static const uint8_t t2[] = "issue-tid-000002";
    time_t now = time(NULL);
    struct store_cert c = mkcert("0A1B", CERT_ISSUED), cg = {0};
    struct store_txn t = mktxn(t1, 16, now + 60), got = {0};
    long long n0 = 0, n1 = 0;
    int in_use = -1;

    CHECK_INT_EQ(store_cert_count(st, &n0, &err), 0);
    CHECK_INT_EQ(store_issue(st, &c, &t, &in_use, &err), 0);
    CHECK_INT_EQ(in_use, 0);
    CHECK_INT_EQ(store_txn_get(st, t1, 16, &got, &err), 0);
    CHECK_STR_EQ(got.cert_serial, "0A1B");
    store_txn_clear(&got);
    /* serial taken: nothing written */
    c.serial_hex = "a1b";
    t = mktxn(t2, 16, now + 60);
    CHECK_INT_EQ(store_issue(st, &c, &t, &in_use, &err), STORE_EXISTS);
    CHECK_INT_EQ(in_use, 0);
    CHECK_INT_EQ(store_txn_get(st, t2, 16, &got, &err), STORE_NOTFOUND);
    /* transactionID open: nothing written */
    c.serial_hex = "0A1C";
    t = mktxn(t1, 16, now + 60);
    CHECK_INT_EQ(store_issue(st, &c, &t, &in_use, &err), STORE_EXISTS);
    CHECK_INT_EQ(in_use, 1);
    CHECK_INT_EQ(store_cert_get(st, "0A1C", &cg, &err), STORE_NOTFOUND);
    CHECK_INT_EQ(store_cert_count(st, &n1, &err), 0);
    CHECK_INT_EQ(n1, n0 + 1);
}

static int has(char **v, size_t n, const char *s)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(v[i], s) == 0)
            return 1;
    return 0;
}

static void test_expire(struct store *st)
{
    struct cmpca_err err = CMPCA_ERR_INIT;
    static const uint8_t tx[] = "expire-tid-00000X", ty[] = "expire-tid-0000Y",
                         tz[] = "expire-tid-0000Z";
    time_t now = time(NULL);
    struct store_cert c = mkcert("01", CERT_ISSUED);
    struct store_txn t = mktxn(tx, 16, now + 100), got = {0};
    char **serials = NULL;
    size_t num = 9;

    CHECK_INT_EQ(store_issue(st, &c, &t, NULL, &err), 0);
    c.serial_hex = "02";
    t = mktxn(ty, 16, now + 100);
    CHECK_INT_EQ(store_issue(st, &c, &t, NULL, &err), 0);
    CHECK_INT_EQ(store_txn_finish(st, ty, 16, "02", CERT_CONFIRMED, &err), 0);
    c.serial_hex = "03";
    t = mktxn(tz, 16, now + 1000);
    CHECK_INT_EQ(store_issue(st, &c, &t, NULL, &err), 0);

    CHECK_INT_EQ(store_txn_expire(st, now, &serials, &num, &err), 0);
    CHECK_INT_EQ(num, 0);
    free(serials);
    CHECK_INT_EQ(store_txn_expire(st, now + 200, &serials, &num, &err), 0);
    CHECK_INT_EQ(num, 1);
    CHECK(num == 1 && has(serials, num, "01"));
    for (size_t i = 0; i < num; i++)
        free(serials[i]);
    free(serials);
    CHECK_INT_EQ(store_txn_get(st, tx, 16, &got, &err), STORE_NOTFOUND);
    CHECK_INT_EQ(store_txn_get(st, ty, 16, &got, &err), STORE_NOTFOUND);
    CHECK_INT_EQ(store_txn_get(st, tz, 16, &got, &err), 0);
    store_txn_clear(&got);
}

static void test_nonces(struct store *st, const char *name)
{
    struct cmpca_err err = CMPCA_ERR_INIT;
    time_t now = time(NULL);
    uint8_t n[16] = {0};

    memcpy(n, "nonce-A", 7);
    CHECK_INT_EQ(store_nonce_use(st, n, 16, now + 300, &err), 0);
    CHECK_INT_EQ(store_nonce_use(st, n, 16, now + 300, &err), STORE_EXISTS);
    CHECK_INT_EQ(store_nonce_use(st, n, 15, now + 300, &err), 0);
    CHECK_INT_EQ(store_nonce_use(st, NULL, 0, now + 300, &err), -1);
    /* an expired entry is not a replay, and is pruned within 1000 calls */
    memcpy(n, "nonce-old", 9);
    for (int i = 0; i < 10; i++) {
        n[15] = (uint8_t)i;
        CHECK_INT_EQ(store_nonce_use(st, n, 16, now - 10, &err), 0);
    }
    CHECK_INT_EQ(store_nonce_use(st, n, 16, now - 10, &err), 0);
    CHECK_INT_EQ(raw_int(name, "SELECT count(*) FROM nonces WHERE "
                               "hex(nonce) LIKE '6E6F6E63652D6F6C64%'"),
                 10);
    memcpy(n, "nonce-new", 9);
    for (int i = 0; i < 1000; i++) {
        n[14] = (uint8_t)(i >> 8);
        n[15] = (uint8_t)i;
        CHECK_INT_EQ(store_nonce_use(st, n, 16, now + 300, &err), 0);
    }
    CHECK_INT_EQ(raw_int(name, "SELECT count(*) FROM nonces WHERE "
                               "hex(nonce) LIKE '6E6F6E63652D6F6C64%'"),
                 0);
    CHECK_INT_EQ(raw_int(name, "SELECT count(*) FROM nonces"), 1002);
}

enum { THREADS = 8, PER_THREAD = 40, SHARED = 20 };

struct worker {
    struct store *st;
    int id;
    int failures;
    int shared_won;
};

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct cmpca_err err = CMPCA_ERR_INIT;
    time_t now = time(NULL);
    struct store_cert c = mkcert(NULL, CERT_ISSUED), got = {0};
    char serial[32];
    uint8_t n[8];
    int rc;

    for (int i = 0; i < PER_THREAD; i++) {
        snprintf(serial, sizeof(serial), "7%02X%04X", w->id, i);
        c.serial_hex = serial;
        if (store_cert_insert(w->st, &c, &err) != 0)
            w->failures++;
        if (store_cert_get(w->st, serial, &got, &err) != 0)
            w->failures++;
        store_cert_clear(&got);
        memset(n, 0, sizeof(n));
        n[0] = (uint8_t)w->id;
        n[1] = (uint8_t)i;
        if (store_nonce_use(w->st, n, sizeof(n), now + 60, &err) != 0)
            w->failures++;
        if (i < SHARED) { /* every thread races for the same nonce */
            memset(n, 0xee, sizeof(n));
            n[7] = (uint8_t)i;
            rc = store_nonce_use(w->st, n, sizeof(n), now + 60, &err);
            if (rc == 0)
                w->shared_won++;
            else if (rc != STORE_EXISTS)
                w->failures++;
        }
    }
    if (w->failures > 0)
        fprintf(stderr, "worker %d: last error: %s\n", w->id, err.msg);
    return NULL;
}

static void test_threads(struct store *st)
{
    struct cmpca_err err = CMPCA_ERR_INIT;
    struct worker w[THREADS];
    pthread_t th[THREADS];
    long long n0 = 0, n1 = 0;
    int won = 0, failures = 0;
    struct timespec t0, t1;

    CHECK_INT_EQ(store_cert_count(st, &n0, &err), 0);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int i = 0; i < THREADS; i++) {
        w[i] = (struct worker){st, i, 0, 0};
        CHECK_INT_EQ(pthread_create(&th[i], NULL, worker_main, &w[i]), 0);
    }
    for (int i = 0; i < THREADS; i++) {
        pthread_join(th[i], NULL);
        won += w[i].shared_won;
        failures += w[i].failures;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    printf("%d threads, %d writes: %.3f s\n", THREADS,
           THREADS * (2 * PER_THREAD + SHARED),
           (double)(t1.tv_sec - t0.tv_sec) +
               (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
    CHECK_INT_EQ(failures, 0);
    CHECK_INT_EQ(won, SHARED);
    CHECK_INT_EQ(store_cert_count(st, &n1, &err), 0);
    CHECK_INT_EQ(n1 - n0, THREADS * PER_THREAD);
}

static void test_two_handles(void)
{
    struct cmpca_err err = CMPCA_ERR_INIT;
    struct store *a = open_db("shared.db"), *b = open_db("shared.db");
    struct store_vendor v = {"acme", "R", NULL, "CN", 0, NULL}, vg = {0};
    struct store_cert c = mkcert("5EED", CERT_ISSUED), cg = {0};
    struct store_device d = {0};
    static const uint8_t n[] = {1, 1, 2, 3, 5, 8};
    time_t now = time(NULL);

    if (a == NULL || b == NULL)
        goto done;
    CHECK_INT_EQ(store_vendor_get(b, "acme", &vg, &err), STORE_NOTFOUND);
    CHECK_INT_EQ(store_vendor_add(a, &v, &err), 0);
    CHECK_INT_EQ(store_vendor_get(b, "acme", &vg, &err), 0);
    store_vendor_clear(&vg);
    CHECK_INT_EQ(store_device_add(b, "acme", "D1", APPROVAL_AUTO, &err), 0);
    CHECK_INT_EQ(store_device_get(a, "acme", "D1", &d, &err), 0);
    store_device_clear(&d);
    CHECK_INT_EQ(store_device_set_state(a, "acme", "D1", DEVICE_DISABLED, &err),
                 0);
    CHECK_INT_EQ(store_device_get(b, "acme", "D1", &d, &err), 0);
    CHECK_INT_EQ(d.state, DEVICE_DISABLED);
    store_device_clear(&d);
    CHECK_INT_EQ(store_cert_insert(b, &c, &err), 0);
    CHECK_INT_EQ(store_cert_get(a, "5eed", &cg, &err), 0);
    store_cert_clear(&cg);
    CHECK_INT_EQ(store_cert_insert(a, &c, &err), STORE_EXISTS);
    CHECK_INT_EQ(store_nonce_use(a, n, sizeof(n), now + 60, &err), 0);
    CHECK_INT_EQ(store_nonce_use(b, n, sizeof(n), now + 60, &err),
                 STORE_EXISTS);

done:
    store_close(a);
    store_close(b);
}

/* insert_many writes `num` certificates with serials PREFIX0000.. */
static int insert_many(struct store *st, int prefix, int num)
{
    struct cmpca_err err = CMPCA_ERR_INIT;
    struct store_cert c = mkcert(NULL, CERT_ISSUED);
    char serial[32];
    int failures = 0;

    for (int i = 0; i < num; i++) {
        snprintf(serial, sizeof(serial), "%02X%04X", prefix, i);
        c.serial_hex = serial;
        if (store_cert_insert(st, &c, &err) != 0) {
            fprintf(stderr, "pid %d: %s\n", (int)getpid(), err.msg);
            failures++;
        }
    }
    return failures;
}

/* A real second process writes while this one does: file locks, not just
 * two connections of one process, keep them apart. */
static void test_two_processes(void)
{
    struct cmpca_err err = CMPCA_ERR_INIT;
    struct store *st = open_db("shared.db");
    long long n0 = 0, n1 = 0;
    int status = -1;
    pid_t pid;

    if (st == NULL)
        return;
    CHECK_INT_EQ(store_cert_count(st, &n0, &err), 0);
    fflush(NULL);
    pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        struct store *child = open_db("shared.db");
        int failures = child == NULL ? 1 : insert_many(child, 0xC1, 150);

        store_close(child);
        _exit(failures == 0 ? 0 : 1);
    }
    CHECK_INT_EQ(insert_many(st, 0xC2, 150), 0);
    if (pid > 0)
        CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
              WEXITSTATUS(status) == 0);
    CHECK_INT_EQ(store_cert_count(st, &n1, &err), 0);
    CHECK_INT_EQ(n1 - n0, 300);
    store_close(st);
}

static void *locker_main(void *arg)
{
    (void)arg;
    testdb_lock_write("reg.db", "nonces", 300);
    return NULL;
}

/* A writer from another "process" holds the lock for 300 ms: our write
 * waits for it instead of failing. */
static void test_busy(struct store *st)
{
    struct cmpca_err err = CMPCA_ERR_INIT;
    struct timespec t0, t1, pause = {0, 50000000L};
    pthread_t th;
    uint8_t n[4] = {0xb, 0x05, 0x5e, 0xd1};
    double waited;

    CHECK_INT_EQ(pthread_create(&th, NULL, locker_main, NULL), 0);
    nanosleep(&pause, NULL); /* let it take the lock */
    clock_gettime(CLOCK_MONOTONIC, &t0);
    CHECK_INT_EQ(store_nonce_use(st, n, sizeof(n), time(NULL) + 60, &err), 0);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    pthread_join(th, NULL);
    waited = (double)(t1.tv_sec - t0.tv_sec) +
             (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    CHECK(waited > 0.1);
}

static void test_reopen(void)
{
    struct cmpca_err err = CMPCA_ERR_INIT;
    struct store *st = open_db("reg.db");
    struct store_vendor v = {0};
    struct store_device d = {0};
    long long n = 0;

    if (st == NULL)
        return;
    CHECK_INT_EQ(store_schema_version(st), SCHEMA_VERSION);
    CHECK_INT_EQ(store_vendor_get(st, "acme", &v, &err), 0);
    store_vendor_clear(&v);
    CHECK_INT_EQ(store_device_get(st, "zeta", "SN-149999", &d, &err), 0);
    store_device_clear(&d);
    CHECK_INT_EQ(store_cert_count(st, &n, &err), 0);
    CHECK_INT_EQ(n, 3 + 1 + THREADS * PER_THREAD);
    store_close(st);
    CHECK_INT_EQ(testdb_schema_version("reg.db"), SCHEMA_VERSION);
}

static void cleanup(void)
{
    testdb_remove("junk.db");
    testdb_cleanup();
}

int main(void)
{
    struct store *st = NULL;

    if (testdb_init("test_store") != 0)
        return 1;
    test_open();
    if ((st = open_db("reg.db")) != NULL) {
        test_vendors(st);
        test_devices(st);
        test_import(st);
        test_certs(st);
        test_issue(st);
        test_threads(st);
        test_busy(st);
        store_close(st);
    }
    if ((st = open_db("txn.db")) != NULL) {
        test_txns(st);
        test_expire(st);
        test_nonces(st, "txn.db");
        store_close(st);
    }
    test_two_handles();
    test_two_processes();
    test_reopen();
    cleanup();
    return CHECK_RESULT();
}
