/*
 * test_store_revoke.c: revocation and CRL bookkeeping of the store room on a
 * real SQLite file in a temp dir: the schema 2 certificate columns (profile,
 * revoked_at, reason) round trip, store_cert_revoke's answers, the revoked
 * list in serial order, CRL numbers that never repeat (across threads, and
 * after the counter row is lost) and a saved CRL that only a higher number
 * replaces.
 */
#include "store/store.h"
#include "check.h"
#include "store_testdb.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define THREADS    4
#define PER_THREAD 25

static struct store *open_db(void)
{
    struct cmpca_err err = CMPCA_ERR_INIT;
    struct store *st = NULL;
    char uri[512];

    testdb_uri("revoke.db", uri, sizeof(uri));
    if (store_open(uri, &st, &err) != 0)
        fprintf(stderr, "store_open %s: %s\n", uri, err.msg);
    CHECK(st != NULL);
    return st;
}

/* raw_exec runs SQL on the database behind the store's back. */
static int raw_exec(const char *sql)
{
    return testdb_exec("revoke.db", sql) >= 0 ? 0 : -1;
}

static const uint8_t der[] = {0x30, 0x03, 0x02, 0x01, 0x01};

static int insert(struct store *st, const char *serial, const char *profile)
{
    struct cmpca_err err = CMPCA_ERR_INIT;
    struct store_cert c;

    memset(&c, 0, sizeof(c));
    c.serial_hex = (char *)serial;
    c.subject = "CN=dev,O=Vendor";
    c.issuer = "CN=Operator CA";
    c.not_before = 1700000000;
    c.not_after = 1800000000;
    c.status = CERT_CONFIRMED;
    c.vendor = "acme";
    c.device = "SN1";
    c.der = (uint8_t *)der;
    c.der_len = sizeof(der);
    c.profile = (char *)profile;
    return store_cert_insert(st, &c, &err);
}

static int find_profile(void *arg, const struct store_cert *c)
{
    char *out = arg;

    if (strcmp(c->serial_hex, "0A01") == 0)
        snprintf(out, 64, "%s|%lld", c->profile != NULL ? c->profile : "-",
                 (long long)c->revoked_at);
    return 0;
}

static void test_columns(struct store *st)
{
    struct cmpca_err err = CMPCA_ERR_INIT;
    struct store_cert c;
    char seen[64] = "";

    CHECK_INT_EQ(insert(st, "0A01", "gnb"), 0);
    CHECK_INT_EQ(insert(st, "0A02", NULL), 0);
    CHECK_INT_EQ(store_cert_get(st, "a01", &c, &err), 0);
    CHECK_STR_EQ(c.profile, "gnb");
    CHECK_INT_EQ(c.revoked_at, 0);
    CHECK_INT_EQ(c.reason, 0);
    CHECK_INT_EQ(c.der_len, sizeof(der));
    CHECK(c.der != NULL && memcmp(c.der, der, sizeof(der)) == 0);
    store_cert_clear(&c);
    CHECK(c.profile == NULL && c.der == NULL);
    CHECK_INT_EQ(store_cert_get(st, "0A02", &c, &err), 0);
    CHECK(c.profile == NULL);
    store_cert_clear(&c);
    CHECK_INT_EQ(store_cert_foreach(st, find_profile, seen, &err), 0);
    CHECK_STR_EQ(seen, "gnb|0");
    store_cert_clear(NULL);
}

static void test_revoke(struct store *st)
{
    struct cmpca_err err = CMPCA_ERR_INIT;
    struct store_cert c;
    char seen[64] = "";

    CHECK_INT_EQ(
        store_cert_revoke(st, "0BAD", CERT_REVOKED, 1, 1750000000, &err),
        STORE_NOTFOUND);
    CHECK_INT_EQ(
        store_cert_revoke(st, "not hex", CERT_REVOKED, 1, 1750000000, &err),
        STORE_NOTFOUND);
    /* not a CRLReason, not a revoked status, no time: refused */
    CHECK_INT_EQ(
        store_cert_revoke(st, "0A01", CERT_REVOKED, 7, 1750000000, &err), -1);
    CHECK_INT_EQ(
        store_cert_revoke(st, "0A01", CERT_REVOKED, 11, 1750000000, &err), -1);
    CHECK_INT_EQ(
        store_cert_revoke(st, "0A01", CERT_REVOKED, -1, 1750000000, &err), -1);
    CHECK_INT_EQ(
        store_cert_revoke(st, "0A01", CERT_CONFIRMED, 1, 1750000000, &err), -1);
    CHECK_INT_EQ(store_cert_revoke(st, "0A01", CERT_REVOKED, 1, 0, &err), -1);
    CHECK_INT_EQ(store_cert_get(st, "0A01", &c, &err), 0);
    CHECK_INT_EQ(c.revoked_at, 0); /* the refusals changed nothing */
    store_cert_clear(&c);

    CHECK_INT_EQ(
        store_cert_revoke(st, "0x0a01", CERT_REVOKED, 1, 1750000000, &err), 0);
    CHECK_INT_EQ(store_cert_get(st, "0A01", &c, &err), 0);
    CHECK_INT_EQ(c.status, CERT_REVOKED);
    CHECK_INT_EQ(c.revoked_at, 1750000000);
    CHECK_INT_EQ(c.reason, 1);
    CHECK_STR_EQ(c.profile, "gnb");
    store_cert_clear(&c);
    /* a second revocation is refused and keeps the first one's data */
    CHECK_INT_EQ(
        store_cert_revoke(st, "0A01", CERT_REVOKED, 4, 1760000000, &err),
        STORE_EXISTS);
    CHECK_INT_EQ(store_cert_get(st, "0A01", &c, &err), 0);
    CHECK_INT_EQ(c.revoked_at, 1750000000);
    CHECK_INT_EQ(c.reason, 1);
    store_cert_clear(&c);
    CHECK_INT_EQ(store_cert_foreach(st, find_profile, seen, &err), 0);
    CHECK_STR_EQ(seen, "gnb|1750000000");

    /* rejected in certConf: listed too, with its reason */
    CHECK_INT_EQ(
        store_cert_revoke(st, "0A02", CERT_REJECTED, 0, 1750000100, &err), 0);
    CHECK_INT_EQ(store_cert_get(st, "0A02", &c, &err), 0);
    CHECK_INT_EQ(c.status, CERT_REJECTED);
    CHECK_INT_EQ(c.revoked_at, 1750000100);
    CHECK_INT_EQ(c.reason, 0);
    store_cert_clear(&c);
}

/* store_cert_set_status changes the status only (the engine revokes with
 * store_cert_revoke after a rejected certConf), and never un-revokes. */
static void test_set_status(struct store *st)
{
    struct cmpca_err err = CMPCA_ERR_INIT;
    struct store_cert c;

    CHECK_INT_EQ(insert(st, "0C01", NULL), 0);
    CHECK_INT_EQ(store_cert_set_status(st, "0C01", CERT_ISSUED, &err), 0);
    CHECK_INT_EQ(store_cert_get(st, "0C01", &c, &err), 0);
    CHECK_INT_EQ(c.status, CERT_ISSUED);
    CHECK_INT_EQ(c.revoked_at, 0);
    store_cert_clear(&c);
    CHECK_INT_EQ(store_cert_set_status(st, "0C01", CERT_REJECTED, &err), 0);
    CHECK_INT_EQ(store_cert_get(st, "0C01", &c, &err), 0);
    CHECK_INT_EQ(c.status, CERT_REJECTED);
    CHECK_INT_EQ(c.revoked_at, 0);
    store_cert_clear(&c);
    /* what the engine does next after a rejected certConf */
    CHECK_INT_EQ(
        store_cert_revoke(st, "0C01", CERT_REJECTED, 0, 1750000050, &err), 0);
    /* revocation is final: a late confirmation does not undo it */
    CHECK_INT_EQ(store_cert_set_status(st, "0C01", CERT_CONFIRMED, &err), 0);
    CHECK_INT_EQ(store_cert_get(st, "0C01", &c, &err), 0);
    CHECK_INT_EQ(c.status, CERT_REJECTED);
    CHECK_INT_EQ(c.revoked_at, 1750000050);
    store_cert_clear(&c);
    CHECK_INT_EQ(store_cert_set_status(st, "0C01", CERT_REVOKED, &err), 0);
    CHECK_INT_EQ(store_cert_get(st, "0C01", &c, &err), 0);
    CHECK_INT_EQ(c.status, CERT_REJECTED);
    store_cert_clear(&c);
    CHECK_INT_EQ(store_cert_set_status(st, "0C0F", CERT_ISSUED, &err),
                 STORE_NOTFOUND);
}

struct collected {
    char serials[16][16];
    int reasons[16];
    time_t revoked_at[16];
    int status[16];
    int num;
    int stop_after; /* 0: never */
};

static int collect(void *arg, const struct store_cert *c)
{
    struct collected *col = arg;

    if (col->num < 16) {
        snprintf(col->serials[col->num], sizeof(col->serials[0]), "%s",
                 c->serial_hex);
        col->reasons[col->num] = c->reason;
        col->revoked_at[col->num] = c->revoked_at;
        col->status[col->num] = c->status;
        CHECK(c->subject == NULL && c->der == NULL);
        CHECK_INT_EQ(c->not_after, 1800000000);
    }
    col->num++;
    return col->stop_after != 0 && col->num >= col->stop_after;
}

static void test_revoked_list(struct store *st)
{
    static const char *const order[] = {"01",   "0A01", "0A02",  "0C01",
                                        "7F00", "FF00", "010000"};
    struct cmpca_err err = CMPCA_ERR_INIT;
    struct collected col;
    size_t i;

    /* inserted out of order; "010000" sorts first as text, last by value */
    CHECK_INT_EQ(insert(st, "010000", NULL), 0);
    CHECK_INT_EQ(insert(st, "FF00", NULL), 0);
    CHECK_INT_EQ(insert(st, "01", NULL), 0);
    CHECK_INT_EQ(insert(st, "7F00", NULL), 0);
    CHECK_INT_EQ(insert(st, "0D01", NULL), 0); /* never revoked */
    CHECK_INT_EQ(
        store_cert_revoke(st, "010000", CERT_REVOKED, 10, 1750000300, &err), 0);
    CHECK_INT_EQ(
        store_cert_revoke(st, "FF00", CERT_REVOKED, 6, 1750000200, &err), 0);
    CHECK_INT_EQ(store_cert_revoke(st, "01", CERT_REVOKED, 5, 1750000400, &err),
                 0);
    CHECK_INT_EQ(
        store_cert_revoke(st, "7F00", CERT_REVOKED, 8, 1750000500, &err), 0);
    memset(&col, 0, sizeof(col));
    CHECK_INT_EQ(store_cert_foreach_revoked(st, collect, &col, &err), 0);
    CHECK_INT_EQ(col.num, 7);
    for (i = 0; i < 7 && i < (size_t)col.num; i++)
        CHECK_STR_EQ(col.serials[i], order[i]);
    CHECK_INT_EQ(col.reasons[0], 5);
    CHECK_INT_EQ(col.revoked_at[0], 1750000400);
    CHECK_INT_EQ(col.reasons[1], 1);
    CHECK_INT_EQ(col.status[2], CERT_REJECTED);
    CHECK_INT_EQ(col.status[3], CERT_REJECTED);
    CHECK_INT_EQ(col.revoked_at[3], 1750000050);
    CHECK_INT_EQ(col.reasons[4], 8);
    CHECK_INT_EQ(col.reasons[5], 6);
    CHECK_INT_EQ(col.reasons[6], 10);
    CHECK_INT_EQ(col.revoked_at[6], 1750000300);
    memset(&col, 0, sizeof(col));
    col.stop_after = 2;
    CHECK_INT_EQ(store_cert_foreach_revoked(st, collect, &col, &err), 0);
    CHECK_INT_EQ(col.num, 2);
    CHECK_INT_EQ(store_cert_foreach_revoked(st, NULL, NULL, &err), -1);
}

static void crl_of(struct store_crl *crl, long long number, const char *body)
{
    crl->number = number;
    crl->this_update = 1750000000 + number;
    crl->next_update = 1750086400 + number;
    crl->der = (uint8_t *)body;
    crl->der_len = strlen(body);
}

static int crl_is(struct store *st, const char *name, long long number,
                  const char *body)
{
    struct cmpca_err err = CMPCA_ERR_INIT;
    struct store_crl got;
    int ok;

    if (store_crl_get(st, name, &got, &err) != 0)
        return 0;
    ok = got.number == number && got.this_update == 1750000000 + number &&
         got.next_update == 1750086400 + number &&
         got.der_len == strlen(body) && memcmp(got.der, body, got.der_len) == 0;
    store_crl_clear(&got);
    CHECK(got.der == NULL && got.number == 0);
    return ok;
}

static void test_crls(struct store *st)
{
    struct cmpca_err err = CMPCA_ERR_INIT;
    struct store_crl crl, got;
    long long n = -1;

    CHECK_INT_EQ(store_crl_get(st, "ca", &got, &err), STORE_NOTFOUND);
    CHECK_INT_EQ(store_crl_next_number(st, "ca", &n, &err), 0);
    CHECK_INT_EQ(n, 1);
    CHECK_INT_EQ(store_crl_next_number(st, "ca", &n, &err), 0);
    CHECK_INT_EQ(n, 2);
    /* drawing a number does not make a CRL */
    CHECK_INT_EQ(store_crl_get(st, "ca", &got, &err), STORE_NOTFOUND);
    CHECK_INT_EQ(store_crl_next_number(st, "other-1.x", &n, &err), 0);
    CHECK_INT_EQ(n, 1);
    CHECK_INT_EQ(store_crl_next_number(st, "", &n, &err), -1);
    CHECK_INT_EQ(store_crl_next_number(st, "a/b", &n, &err), -1);
    CHECK_INT_EQ(store_crl_next_number(st, "#next:ca", &n, &err), -1);
    CHECK_INT_EQ(store_crl_get(st, "#next:ca", &got, &err), -1);

    crl_of(&crl, 2, "crl two");
    CHECK_INT_EQ(store_crl_save(st, "ca", &crl, &err), 0);
    CHECK(crl_is(st, "ca", 2, "crl two"));
    crl_of(&crl, 1, "crl one"); /* signed earlier, saved later: ignored */
    CHECK_INT_EQ(store_crl_save(st, "ca", &crl, &err), 0);
    CHECK(crl_is(st, "ca", 2, "crl two"));
    crl_of(&crl, 2, "crl two again");
    CHECK_INT_EQ(store_crl_save(st, "ca", &crl, &err), 0);
    CHECK(crl_is(st, "ca", 2, "crl two"));
    CHECK_INT_EQ(store_crl_next_number(st, "ca", &n, &err), 0);
    CHECK_INT_EQ(n, 3);
    crl_of(&crl, 3, "crl three");
    CHECK_INT_EQ(store_crl_save(st, "ca", &crl, &err), 0);
    CHECK(crl_is(st, "ca", 3, "crl three"));
    CHECK_INT_EQ(store_crl_get(st, "other-1.x", &got, &err), STORE_NOTFOUND);
    crl_of(&crl, 0, "zero");
    CHECK_INT_EQ(store_crl_save(st, "ca", &crl, &err), -1);
    crl.number = 9;
    crl.der_len = 0;
    CHECK_INT_EQ(store_crl_save(st, "ca", &crl, &err), -1);
    store_crl_clear(NULL);

    /* a lost counter restarts above the saved CRL, never at 1 */
    CHECK_INT_EQ(raw_exec("DELETE FROM crls WHERE name = '#next:ca'"), 0);
    CHECK_INT_EQ(store_crl_next_number(st, "ca", &n, &err), 0);
    CHECK_INT_EQ(n, 4);
    CHECK_INT_EQ(store_crl_next_number(st, "ca", &n, &err), 0);
    CHECK_INT_EQ(n, 5);
}

struct drawer {
    struct store *st;
    long long got[PER_THREAD];
    int ok;
};

static void *draw_main(void *arg)
{
    struct drawer *d = arg;
    struct cmpca_err err = CMPCA_ERR_INIT;
    int i;

    d->ok = 1;
    for (i = 0; i < PER_THREAD; i++)
        if (store_crl_next_number(d->st, "threads", &d->got[i], &err) != 0)
            d->ok = 0;
    return NULL;
}

/* Numbers drawn at once from threads (and a second handle) are 1..N, each
 * exactly once. */
static void test_numbers_threads(struct store *st)
{
    struct drawer d[THREADS];
    pthread_t tid[THREADS];
    int seen[THREADS * PER_THREAD + 1];
    struct store *other = open_db();
    int i, j, started[THREADS];

    memset(seen, 0, sizeof(seen));
    for (i = 0; i < THREADS; i++) {
        d[i].st = (i % 2 == 0 || other == NULL) ? st : other;
        started[i] = pthread_create(&tid[i], NULL, draw_main, &d[i]) == 0;
        CHECK(started[i]);
    }
    for (i = 0; i < THREADS; i++) {
        if (!started[i])
            continue;
        pthread_join(tid[i], NULL);
        CHECK(d[i].ok);
        for (j = 0; j < PER_THREAD; j++) {
            long long v = d[i].got[j];

            CHECK(v >= 1 && v <= THREADS * PER_THREAD);
            if (v >= 1 && v <= THREADS * PER_THREAD)
                seen[v]++;
            if (j > 0)
                CHECK(v > d[i].got[j - 1]);
        }
    }
    for (i = 1; i <= THREADS * PER_THREAD; i++)
        CHECK_INT_EQ(seen[i], 1);
    store_close(other);
}

int main(void)
{
    struct store *st;

    if (testdb_init("test_store_revoke") != 0)
        return 1;
    st = open_db();
    if (st != NULL) {
        test_columns(st);
        test_revoke(st);
        test_set_status(st);
        test_revoked_list(st);
        test_crls(st);
        test_numbers_threads(st);
        store_close(st);
    }
    testdb_cleanup();
    return CHECK_RESULT();
}
