/*
 * test_store_ra.c: the RA registry of the store, on a real SQLite file in a
 * temp dir. The CLI writes the ras table and a running server reads it on
 * each request, through two separate handles, so besides add/list/remove
 * this checks that a second handle sees every change at once, that a name
 * and a certificate each belong to one RA only, that listings are ordered
 * by name, and that malformed rows are refused before reaching SQL.
 */
#include "store/store.h"
#include "check.h"
#include "store_testdb.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>


/* Stand-ins: the store compares certificates as text and never parses
 * them, so these need only look like PEM. */
#define PEM_A "-----BEGIN CERTIFICATE-----\nQUFB\n-----END CERTIFICATE-----\n"
#define PEM_B "-----BEGIN CERTIFICATE-----\nQkJC\n-----END CERTIFICATE-----\n"
#define PEM_C "-----BEGIN CERTIFICATE-----\nQ0ND\n-----END CERTIFICATE-----\n"

static struct store *open_db(void)
{
    struct cmpca_err err = CMPCA_ERR_INIT;
    struct store *st = NULL;
    char uri[512];

    testdb_uri("ra.db", uri, sizeof(uri));
    if (store_open(uri, &st, &err) != 0)
        fprintf(stderr, "store_open %s: %s\n", uri, err.msg);
    CHECK(st != NULL);
    return st;
}

static int add(struct store *st, const char *name, const char *pem,
               const char *vendors, int raverify, int revoke)
{
    struct cmpca_err err = CMPCA_ERR_INIT;
    struct store_ra ra = {0};

    ra.name = (char *)name;
    ra.cert_pem = (char *)pem;
    ra.vendors = (char *)vendors;
    ra.may_raverify = raverify;
    ra.may_revoke = revoke;
    return store_ra_add(st, &ra, &err);
}

/* names_of returns the names of all RAs joined by spaces (static buffer),
 * or "ERROR" when listing failed. */
static const char *names_of(struct store *st)
{
    static char buf[1024];
    struct cmpca_err err = CMPCA_ERR_INIT;
    struct store_ra *ras = NULL;
    size_t num = 0;

    buf[0] = '\0';
    if (store_ra_list(st, &ras, &num, &err) != 0)
        return "ERROR";
    for (size_t i = 0; i < num; i++) {
        if (i > 0)
            strncat(buf, " ", sizeof(buf) - strlen(buf) - 1);
        strncat(buf, ras[i].name, sizeof(buf) - strlen(buf) - 1);
    }
    store_ra_list_free(ras, num);
    return buf;
}

static void test_empty(struct store *st)
{
    struct cmpca_err err = CMPCA_ERR_INIT;
    struct store_ra dummy = {0};
    struct store_ra *ras = &dummy; /* must be reset */
    size_t num = 99;

    CHECK_INT_EQ(store_ra_list(st, &ras, &num, &err), 0);
    CHECK_INT_EQ(num, 0);
    CHECK(ras == NULL);
    store_ra_list_free(ras, num);
    store_ra_list_free(NULL, 0);
    store_ra_clear(NULL);
}

static void test_add_list(struct store *st)
{
    struct cmpca_err err = CMPCA_ERR_INIT;
    struct store_ra *ras = NULL;
    size_t num = 0;

    CHECK_INT_EQ(add(st, "ra-zulu", PEM_A, "acme,beta", 1, 0), 0);
    CHECK_INT_EQ(add(st, "RA.alpha_1", PEM_B, "*", 0, 7), 0);
    CHECK_INT_EQ(store_ra_list(st, &ras, &num, &err), 0);
    CHECK_INT_EQ(num, 2);
    if (num == 2) {
        /* ordered by name: byte order puts upper case first */
        CHECK_STR_EQ(ras[0].name, "RA.alpha_1");
        CHECK_STR_EQ(ras[0].cert_pem, PEM_B);
        CHECK_STR_EQ(ras[0].vendors, "*");
        CHECK_INT_EQ(ras[0].may_raverify, 0);
        CHECK_INT_EQ(ras[0].may_revoke, 1); /* any non-zero is stored as 1 */
        CHECK_STR_EQ(ras[1].name, "ra-zulu");
        CHECK_STR_EQ(ras[1].cert_pem, PEM_A);
        CHECK_STR_EQ(ras[1].vendors, "acme,beta");
        CHECK_INT_EQ(ras[1].may_raverify, 1);
        CHECK_INT_EQ(ras[1].may_revoke, 0);
        CHECK(ras[1].created > 0);
    }
    store_ra_list_free(ras, num);
}

static void test_duplicates(struct store *st)
{
    /* a taken name, whatever the certificate */
    CHECK_INT_EQ(add(st, "ra-zulu", PEM_C, "*", 0, 0), STORE_EXISTS);
    /* a registered certificate under another name */
    CHECK_INT_EQ(add(st, "ra-other", PEM_A, "*", 0, 0), STORE_EXISTS);
    CHECK_STR_EQ(names_of(st), "RA.alpha_1 ra-zulu");
    /* removing frees both the name and the certificate */
    CHECK_INT_EQ(add(st, "mid", PEM_C, "acme", 0, 0), 0);
    CHECK_STR_EQ(names_of(st), "RA.alpha_1 mid ra-zulu");
}

static void test_invalid(struct store *st)
{
    struct cmpca_err err = CMPCA_ERR_INIT;
    static char long_name[66];

    memset(long_name, 'x', 65);
    CHECK(add(st, "", PEM_C, "*", 0, 0) == -1);
    CHECK(add(st, long_name, PEM_C, "*", 0, 0) == -1);
    CHECK(add(st, "bad name", PEM_C, "*", 0, 0) == -1);
    CHECK(add(st, "bad/name", PEM_C, "*", 0, 0) == -1);
    CHECK(add(st, NULL, PEM_C, "*", 0, 0) == -1);
    CHECK(add(st, "nocert", NULL, "*", 0, 0) == -1);
    CHECK(add(st, "notpem", "hello", "*", 0, 0) == -1);
    CHECK(add(st, "novendors", "x" PEM_C, NULL, 0, 0) == -1);
    CHECK(add(st, "emptyvendors", "x" PEM_C, "", 0, 0) == -1);
    CHECK(add(st, "emptyitem", "x" PEM_C, "acme,,beta", 0, 0) == -1);
    CHECK(add(st, "trailing", "x" PEM_C, "acme,", 0, 0) == -1);
    CHECK(add(st, "starmix", "x" PEM_C, "*,acme", 0, 0) == -1);
    CHECK(add(st, "space", "x" PEM_C, "acme, beta", 0, 0) == -1);
    long_name[64] = '\0';
    CHECK_INT_EQ(add(st, long_name, "x" PEM_C, "acme", 0, 0), 0);
    CHECK_INT_EQ(store_ra_remove(st, long_name, &err), 0);
    CHECK_STR_EQ(names_of(st), "RA.alpha_1 mid ra-zulu");
}

static void test_remove(struct store *st)
{
    struct cmpca_err err = CMPCA_ERR_INIT;

    CHECK_INT_EQ(store_ra_remove(st, "mid", &err), 0);
    CHECK_INT_EQ(store_ra_remove(st, "mid", &err), STORE_NOTFOUND);
    CHECK_INT_EQ(store_ra_remove(st, "never", &err), STORE_NOTFOUND);
    CHECK_INT_EQ(store_ra_remove(st, NULL, &err), STORE_NOTFOUND);
    CHECK_STR_EQ(names_of(st), "RA.alpha_1 ra-zulu");
    /* the certificate is free again, under any name */
    CHECK_INT_EQ(add(st, "mid2", PEM_C, "beta", 1, 1), 0);
    CHECK_INT_EQ(store_ra_remove(st, "mid2", &err), 0);
}

/* The server keeps its handle open while the CLI opens its own: each change
 * made through one must be visible through the other at the next read. */
static void test_two_handles(struct store *cli)
{
    struct cmpca_err err = CMPCA_ERR_INIT;
    struct store *srv = open_db();

    if (srv == NULL)
        return;
    CHECK_STR_EQ(names_of(srv), "RA.alpha_1 ra-zulu");
    CHECK_INT_EQ(add(cli, "late", PEM_C, "acme", 0, 1), 0);
    CHECK_STR_EQ(names_of(srv), "RA.alpha_1 late ra-zulu");
    CHECK_INT_EQ(store_ra_remove(cli, "ra-zulu", &err), 0);
    CHECK_STR_EQ(names_of(srv), "RA.alpha_1 late");
    /* and the other way round, the uniqueness rules included */
    CHECK_INT_EQ(add(srv, "from-srv", PEM_A, "*", 0, 0), 0);
    CHECK_INT_EQ(add(cli, "again", PEM_A, "*", 0, 0), STORE_EXISTS);
    CHECK_STR_EQ(names_of(cli), "RA.alpha_1 from-srv late");
    store_close(srv);
}

/* The rows survive closing and reopening the database. */
static struct store *test_reopen(struct store *st)
{
    store_close(st);
    st = open_db();
    if (st != NULL)
        CHECK_STR_EQ(names_of(st), "RA.alpha_1 from-srv late");
    return st;
}

int main(void)
{
    struct store *st;

    if (testdb_init("test_store_ra") != 0)
        return 1;
    if ((st = open_db()) != NULL) {
        test_empty(st);
        test_add_list(st);
        test_duplicates(st);
        test_invalid(st);
        test_remove(st);
        test_two_handles(st);
        st = test_reopen(st);
        store_close(st);
    }
    testdb_cleanup();
    return CHECK_RESULT();
}
