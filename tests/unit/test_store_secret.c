/*
 * test_store_secret.c: the secrets table (store_sqlite_secret.c) on a real
 * SQLite file in a temp dir. A secret belongs to a registered device, a
 * kid names one device, a new secret replaces the device's old one (and
 * clears `used`), binary kids work, a single-use secret is marked used by
 * exactly one of many concurrent callers (two store handles, as the CLI and
 * the server would have), and everything survives a reopen.
 */
#include "store/store.h"
#include "check.h"
#include "store_testdb.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>


#define KID(s) (const uint8_t *)(s), strlen(s)

static struct store *open_db(void)
{
    struct cmpca_err err = CMPCA_ERR_INIT;
    struct store *st = NULL;
    char uri[512];

    testdb_uri("cmpca.db", uri, sizeof(uri));
    if (store_open(uri, &st, &err) != 0)
        fprintf(stderr, "store_open %s: %s\n", uri, err.msg);
    CHECK(st != NULL);
    return st;
}

static void add_vendor(struct store *st, const char *name)
{
    struct cmpca_err err = CMPCA_ERR_INIT;
    struct store_vendor v = {0};

    v.name = (char *)name;
    v.root_pem = "-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n";
    v.id_attr = "serialNumber";
    CHECK_INT_EQ(store_vendor_add(st, &v, &err), 0);
}

static int put(struct store *st, const uint8_t *kid, size_t kid_len,
               const char *vendor, const char *device, const char *sealed,
               int single_use)
{
    struct cmpca_err err = CMPCA_ERR_INIT;
    struct store_secret s = {0};

    s.kid = (uint8_t *)kid;
    s.kid_len = kid_len;
    s.vendor = (char *)vendor;
    s.device = (char *)device;
    s.sealed = (uint8_t *)sealed;
    s.sealed_len = strlen(sealed);
    s.single_use = single_use;
    return store_secret_put(st, &s, &err);
}

/* The sealed value under `kid` as a string ("" when not found); fills
 * *used (-1 when not found). */
static const char *get(struct store *st, const uint8_t *kid, size_t kid_len,
                       int *used, char *buf, size_t buflen)
{
    struct cmpca_err err = CMPCA_ERR_INIT;
    struct store_secret s = {0};

    buf[0] = '\0';
    *used = -1;
    if (store_secret_get(st, kid, kid_len, &s, &err) == 0) {
        snprintf(buf, buflen, "%.*s", (int)s.sealed_len, (char *)s.sealed);
        *used = s.used;
    }
    store_secret_clear(&s);
    return buf;
}

static void test_put_get(struct store *st)
{
    struct cmpca_err err = CMPCA_ERR_INIT;
    struct store_secret s = {0};
    char buf[64];
    int used;

    CHECK_INT_EQ(put(st, KID("SN9"), "acme", "SN9", "x", 1), STORE_NOTFOUND);
    CHECK_INT_EQ(put(st, KID("SN1"), "nobody", "SN1", "x", 1), STORE_NOTFOUND);
    CHECK_INT_EQ(put(st, KID("SN1"), "acme", "SN1", "sealed-1", 1), 0);
    CHECK_INT_EQ(store_secret_get(st, KID("SN1"), &s, &err), 0);
    CHECK(s.kid_len == 3 && memcmp(s.kid, "SN1", 3) == 0);
    CHECK_STR_EQ(s.vendor, "acme");
    CHECK_STR_EQ(s.device, "SN1");
    CHECK(s.sealed_len == 8 && memcmp(s.sealed, "sealed-1", 8) == 0);
    CHECK_INT_EQ(s.single_use, 1);
    CHECK_INT_EQ(s.used, 0);
    CHECK(s.created > 0);
    store_secret_clear(&s);
    CHECK(s.sealed == NULL && s.kid == NULL && s.sealed_len == 0);
    store_secret_clear(NULL);
    CHECK_INT_EQ(store_secret_get(st, KID("SN2"), &s, &err), STORE_NOTFOUND);
    CHECK_INT_EQ(store_secret_get(st, (const uint8_t *)"", 0, &s, &err),
                 STORE_NOTFOUND);
    /* kids are octets: prefixes and case do not match */
    CHECK_STR_EQ(get(st, KID("SN"), &used, buf, sizeof(buf)), "");
    CHECK_STR_EQ(get(st, KID("sn1"), &used, buf, sizeof(buf)), "");
    /* bad input */
    CHECK(put(st, (const uint8_t *)"", 0, "acme", "SN1", "x", 1) < 0);
    CHECK(put(st, KID("SN1"), "acme", "SN1", "", 1) < 0);
}

static void test_use(struct store *st)
{
    struct cmpca_err err = CMPCA_ERR_INIT;
    char buf[64];
    int used;

    CHECK_INT_EQ(store_secret_use(st, KID("SN1"), &err), 0);
    CHECK_INT_EQ(store_secret_use(st, KID("SN1"), &err), STORE_EXISTS);
    CHECK_STR_EQ(get(st, KID("SN1"), &used, buf, sizeof(buf)), "sealed-1");
    CHECK_INT_EQ(used, 1);
    CHECK_INT_EQ(store_secret_use(st, KID("nope"), &err), STORE_NOTFOUND);
    /* a new secret for the device: replaced, usable again */
    CHECK_INT_EQ(put(st, KID("SN1"), "acme", "SN1", "sealed-2", 1), 0);
    CHECK_STR_EQ(get(st, KID("SN1"), &used, buf, sizeof(buf)), "sealed-2");
    CHECK_INT_EQ(used, 0);
    CHECK_INT_EQ(store_secret_use(st, KID("SN1"), &err), 0);
    /* a reusable secret: every use succeeds, and it shows it was used */
    CHECK_INT_EQ(put(st, KID("SN2"), "acme", "SN2", "multi", 0), 0);
    CHECK_INT_EQ(store_secret_use(st, KID("SN2"), &err), 0);
    CHECK_INT_EQ(store_secret_use(st, KID("SN2"), &err), 0);
    CHECK_STR_EQ(get(st, KID("SN2"), &used, buf, sizeof(buf)), "multi");
    CHECK_INT_EQ(used, 1);
}

static void test_kid_ownership(struct store *st)
{
    static const uint8_t bin[] = {0x00, 0x01, 0xff, 0x00};
    uint8_t longkid[257];
    char buf[64];
    int used;

    /* another kid for acme/SN1: the old secret is gone at once */
    CHECK_INT_EQ(put(st, KID("K2"), "acme", "SN1", "sealed-3", 1), 0);
    CHECK_STR_EQ(get(st, KID("SN1"), &used, buf, sizeof(buf)), "");
    CHECK_STR_EQ(get(st, KID("K2"), &used, buf, sizeof(buf)), "sealed-3");
    /* a kid names one device: another device may not take it over */
    CHECK_INT_EQ(put(st, KID("K2"), "other", "SN1", "theirs", 1), STORE_EXISTS);
    CHECK_STR_EQ(get(st, KID("K2"), &used, buf, sizeof(buf)), "sealed-3");
    /* same serial, other vendor, kid now free */
    CHECK_INT_EQ(put(st, KID("SN1"), "other", "SN1", "theirs", 1), 0);
    CHECK_STR_EQ(get(st, KID("SN1"), &used, buf, sizeof(buf)), "theirs");
    CHECK_STR_EQ(get(st, KID("K2"), &used, buf, sizeof(buf)), "sealed-3");
    /* binary kids, NUL octets included */
    CHECK_INT_EQ(put(st, bin, sizeof(bin), "acme", "SN3", "bin", 1), 0);
    CHECK_STR_EQ(get(st, bin, sizeof(bin), &used, buf, sizeof(buf)), "bin");
    CHECK_STR_EQ(get(st, bin, 3, &used, buf, sizeof(buf)), "");
    memset(longkid, 'k', sizeof(longkid));
    CHECK(put(st, longkid, sizeof(longkid), "acme", "SN3", "x", 1) < 0);
    CHECK_STR_EQ(get(st, bin, sizeof(bin), &used, buf, sizeof(buf)), "bin");
}

struct racer {
    struct store *st;
    pthread_barrier_t *go;
    int rc;
};

static void *race(void *arg)
{
    struct cmpca_err err = CMPCA_ERR_INIT;
    struct racer *r = arg;

    pthread_barrier_wait(r->go);
    r->rc = store_secret_use(r->st, KID("RACE"), &err);
    return NULL;
}

static void test_race(struct store *st, struct store *st2)
{
    enum { N = 8 };
    struct racer r[N];
    pthread_t t[N];
    pthread_barrier_t go;
    int won = 0, lost = 0;

    CHECK_INT_EQ(put(st, KID("RACE"), "acme", "SN4", "once", 1), 0);
    pthread_barrier_init(&go, NULL, N);
    for (int i = 0; i < N; i++) {
        r[i].st = i % 2 == 0 ? st : st2;
        r[i].go = &go;
        r[i].rc = -1;
        pthread_create(&t[i], NULL, race, &r[i]);
    }
    for (int i = 0; i < N; i++) {
        pthread_join(t[i], NULL);
        won += r[i].rc == 0;
        lost += r[i].rc == STORE_EXISTS;
    }
    pthread_barrier_destroy(&go);
    CHECK_INT_EQ(won, 1);
    CHECK_INT_EQ(lost, N - 1);
}

int main(void)
{
    struct cmpca_err err = CMPCA_ERR_INIT;
    struct store *st, *st2;
    const char *serials[] = {"SN1", "SN2", "SN3", "SN4"};
    size_t added = 0, skipped = 0;
    char buf[64];
    int used;

    if (testdb_init("test_store_secret") != 0)
        return 1;
    st = open_db();
    st2 = open_db();
    if (st == NULL || st2 == NULL)
        return CHECK_RESULT();
    add_vendor(st, "acme");
    add_vendor(st, "other");
    CHECK_INT_EQ(store_device_import(st, "acme", serials, 4, APPROVAL_AUTO,
                                     &added, &skipped, &err),
                 0);
    CHECK_INT_EQ(store_device_add(st, "other", "SN1", APPROVAL_AUTO, &err), 0);
    test_put_get(st);
    test_use(st);
    test_kid_ownership(st);
    test_race(st, st2);
    store_close(st2);
    store_close(st);
    /* durable: a fresh handle sees it all */
    st = open_db();
    CHECK_STR_EQ(get(st, KID("K2"), &used, buf, sizeof(buf)), "sealed-3");
    CHECK_INT_EQ(used, 0);
    CHECK_STR_EQ(get(st, KID("RACE"), &used, buf, sizeof(buf)), "once");
    CHECK_INT_EQ(used, 1);
    store_close(st);
    testdb_cleanup();
    return CHECK_RESULT();
}
