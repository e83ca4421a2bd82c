/*
 * test_store_approval.c: the store side of manual approval, on a real
 * SQLite file in a temp dir (or a PostgreSQL database, store_testdb.h).
 * The operator's CLI and the running server talk only through the device
 * row, so what is checked here is that row: the approval mode defaults to
 * auto, survives state changes, re-imports and a reopen; approved/rejected
 * round trip; listings carry the mode; unknown devices are STORE_NOTFOUND;
 * and a schema-1 database gains the column with every old device in auto
 * mode.
 */
#include "store/store.h"
#include "check.h"
#include "store_testdb.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>


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

static void add_vendor(struct store *st, const char *name)
{
    struct cmpca_err err = CMPCA_ERR_INIT;
    struct store_vendor v = {0};

    v.name = (char *)name;
    v.root_pem = "-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n";
    v.id_attr = "serialNumber";
    CHECK_INT_EQ(store_vendor_add(st, &v, &err), 0);
}

/* get_dev returns "state/approval" of a device as one number (state * 10 +
 * approval), or -1 when the lookup did not return 0. */
static int get_dev(struct store *st, const char *vendor, const char *serial)
{
    struct cmpca_err err = CMPCA_ERR_INIT;
    struct store_device d = {0};
    int v = -1;

    if (store_device_get(st, vendor, serial, &d, &err) == 0)
        v = d.state * 10 + d.approval;
    store_device_clear(&d);
    return v;
}

#define SA(state, approval) ((state)*10 + (approval))

static void test_defaults(struct store *st)
{
    struct cmpca_err err = CMPCA_ERR_INIT;
    const char *const more[] = {"SN3", "SN4"};
    size_t added = 0, skipped = 0;

    CHECK_INT_EQ(store_device_add(st, "acme", "SN1", APPROVAL_AUTO, &err), 0);
    CHECK_INT_EQ(store_device_add(st, "acme", "SN2", APPROVAL_AUTO, &err), 0);
    CHECK_INT_EQ(
        store_device_import(st, "acme", more, 2, APPROVAL_AUTO, &added, &skipped, &err), 0);
    CHECK_INT_EQ(added, 2);
    CHECK_INT_EQ(get_dev(st, "acme", "SN1"),
                 SA(DEVICE_REGISTERED, APPROVAL_AUTO));
    CHECK_INT_EQ(get_dev(st, "acme", "SN4"),
                 SA(DEVICE_REGISTERED, APPROVAL_AUTO));
}

static void test_set_approval(struct store *st)
{
    struct cmpca_err err = CMPCA_ERR_INIT;
    const char *const again[] = {"SN2", "SN5"};
    struct store_device d = {0};
    size_t added = 0, skipped = 0;

    CHECK_INT_EQ(
        store_device_set_approval(st, "acme", "SN2", APPROVAL_MANUAL, &err), 0);
    CHECK_INT_EQ(store_device_get(st, "acme", "SN2", &d, &err), 0);
    CHECK_INT_EQ(d.approval, APPROVAL_MANUAL);
    CHECK_INT_EQ(d.state, DEVICE_REGISTERED);
    CHECK(d.updated >= d.created && d.created > 0);
    store_device_clear(&d);
    /* the neighbours are untouched */
    CHECK_INT_EQ(get_dev(st, "acme", "SN1"),
                 SA(DEVICE_REGISTERED, APPROVAL_AUTO));
    CHECK_INT_EQ(get_dev(st, "acme", "SN3"),
                 SA(DEVICE_REGISTERED, APPROVAL_AUTO));
    /* setting the mode it already has is not "not found" */
    CHECK_INT_EQ(
        store_device_set_approval(st, "acme", "SN2", APPROVAL_MANUAL, &err), 0);
    /* re-registering an existing serial keeps its mode */
    CHECK_INT_EQ(store_device_add(st, "acme", "SN2", APPROVAL_AUTO, &err), STORE_EXISTS);
    CHECK_INT_EQ(
        store_device_import(st, "acme", again, 2, APPROVAL_AUTO, &added, &skipped, &err), 0);
    CHECK_INT_EQ(added, 1);
    CHECK_INT_EQ(skipped, 1);
    CHECK_INT_EQ(get_dev(st, "acme", "SN2"),
                 SA(DEVICE_REGISTERED, APPROVAL_MANUAL));
    CHECK_INT_EQ(get_dev(st, "acme", "SN5"),
                 SA(DEVICE_REGISTERED, APPROVAL_AUTO));
    /* and back to auto */
    CHECK_INT_EQ(
        store_device_set_approval(st, "acme", "SN5", APPROVAL_MANUAL, &err), 0);
    CHECK_INT_EQ(
        store_device_set_approval(st, "acme", "SN5", APPROVAL_AUTO, &err), 0);
    CHECK_INT_EQ(get_dev(st, "acme", "SN5"),
                 SA(DEVICE_REGISTERED, APPROVAL_AUTO));
    /* a mode the enum does not have changes nothing */
    CHECK_INT_EQ(store_device_set_approval(st, "acme", "SN2", 2, &err), -1);
    CHECK(strncmp(err.msg, "store:", 6) == 0);
    CHECK_INT_EQ(store_device_set_approval(st, "acme", "SN2", -1, &err), -1);
    CHECK_INT_EQ(get_dev(st, "acme", "SN2"),
                 SA(DEVICE_REGISTERED, APPROVAL_MANUAL));
}

static void test_states(struct store *st)
{
    struct cmpca_err err = CMPCA_ERR_INIT;

    CHECK_INT_EQ(
        store_device_set_state(st, "acme", "SN2", DEVICE_APPROVED, &err), 0);
    CHECK_INT_EQ(get_dev(st, "acme", "SN2"),
                 SA(DEVICE_APPROVED, APPROVAL_MANUAL));
    CHECK_INT_EQ(
        store_device_set_state(st, "acme", "SN2", DEVICE_ENROLLED, &err), 0);
    CHECK_INT_EQ(get_dev(st, "acme", "SN2"),
                 SA(DEVICE_ENROLLED, APPROVAL_MANUAL));
    /* re-admission of an enrolled device for one more enrollment */
    CHECK_INT_EQ(
        store_device_set_state(st, "acme", "SN2", DEVICE_APPROVED, &err), 0);
    CHECK_INT_EQ(get_dev(st, "acme", "SN2"),
                 SA(DEVICE_APPROVED, APPROVAL_MANUAL));
    CHECK_INT_EQ(
        store_device_set_state(st, "acme", "SN2", DEVICE_REJECTED, &err), 0);
    CHECK_INT_EQ(get_dev(st, "acme", "SN2"),
                 SA(DEVICE_REJECTED, APPROVAL_MANUAL));
    /* the store does not judge: the CLI decides who may be approved */
    CHECK_INT_EQ(
        store_device_set_state(st, "acme", "SN3", DEVICE_REJECTED, &err), 0);
    CHECK_INT_EQ(get_dev(st, "acme", "SN3"),
                 SA(DEVICE_REJECTED, APPROVAL_AUTO));
    /* changing the mode leaves the state alone */
    CHECK_INT_EQ(
        store_device_set_approval(st, "acme", "SN3", APPROVAL_MANUAL, &err), 0);
    CHECK_INT_EQ(get_dev(st, "acme", "SN3"),
                 SA(DEVICE_REJECTED, APPROVAL_MANUAL));
    /* out-of-range states are refused and change nothing */
    CHECK_INT_EQ(store_device_set_state(st, "acme", "SN3", 5, &err), -1);
    CHECK_INT_EQ(store_device_set_state(st, "acme", "SN3", -1, &err), -1);
    CHECK_INT_EQ(get_dev(st, "acme", "SN3"),
                 SA(DEVICE_REJECTED, APPROVAL_MANUAL));
}

static void test_notfound(struct store *st)
{
    struct cmpca_err err = CMPCA_ERR_INIT;

    CHECK_INT_EQ(
        store_device_set_approval(st, "acme", "NOPE", APPROVAL_MANUAL, &err),
        STORE_NOTFOUND);
    CHECK_INT_EQ(
        store_device_set_approval(st, "ghost", "SN1", APPROVAL_MANUAL, &err),
        STORE_NOTFOUND);
    /* the serial exists, but under another vendor */
    CHECK_INT_EQ(
        store_device_set_approval(st, "zeta", "SN1", APPROVAL_MANUAL, &err),
        STORE_NOTFOUND);
    CHECK_INT_EQ(
        store_device_set_approval(st, NULL, "SN1", APPROVAL_MANUAL, &err),
        STORE_NOTFOUND);
    CHECK_INT_EQ(
        store_device_set_approval(st, "acme", NULL, APPROVAL_MANUAL, &err),
        STORE_NOTFOUND);
    CHECK_INT_EQ(
        store_device_set_state(st, "acme", "NOPE", DEVICE_APPROVED, &err),
        STORE_NOTFOUND);
    CHECK_INT_EQ(
        store_device_set_state(st, "zeta", "SN1", DEVICE_REJECTED, &err),
        STORE_NOTFOUND);
    /* nothing was created on the way */
    CHECK_INT_EQ(get_dev(st, "acme", "NOPE"), -1);
    CHECK_INT_EQ(get_dev(st, "zeta", "SN1"), -1);
}

struct seen {
    int num;
    char rows[8][48];
};

static int collect(void *arg, const struct store_device *d)
{
    struct seen *s = arg;

    if (s->num < 8)
        snprintf(s->rows[s->num], sizeof(s->rows[0]), "%s/%s %d %d", d->vendor,
                 d->serial, d->state, d->approval);
    s->num++;
    return 0;
}

static void test_foreach(struct store *st)
{
    struct cmpca_err err = CMPCA_ERR_INIT;
    struct seen s = {0};

    CHECK_INT_EQ(store_device_add(st, "zeta", "Z1", APPROVAL_AUTO, &err), 0);
    CHECK_INT_EQ(
        store_device_set_approval(st, "zeta", "Z1", APPROVAL_MANUAL, &err), 0);
    CHECK_INT_EQ(store_device_foreach(st, NULL, collect, &s, &err), 0);
    CHECK_INT_EQ(s.num, 6);
    CHECK_STR_EQ(s.rows[0], "acme/SN1 0 0");
    CHECK_STR_EQ(s.rows[1], "acme/SN2 4 1");
    CHECK_STR_EQ(s.rows[2], "acme/SN3 4 1");
    CHECK_STR_EQ(s.rows[3], "acme/SN4 0 0");
    CHECK_STR_EQ(s.rows[4], "acme/SN5 0 0");
    CHECK_STR_EQ(s.rows[5], "zeta/Z1 0 1");
    memset(&s, 0, sizeof(s));
    CHECK_INT_EQ(store_device_foreach(st, "zeta", collect, &s, &err), 0);
    CHECK_INT_EQ(s.num, 1);
    CHECK_STR_EQ(s.rows[0], "zeta/Z1 0 1");
}

/* A second handle (as `cmpca device approve` beside `cmpca serve`) sees the
 * decision at once, and it survives closing every handle. */
static void test_other_handle(struct store *st)
{
    struct cmpca_err err = CMPCA_ERR_INIT;
    struct store *cli = open_db("approval.db");

    if (cli == NULL)
        return;
    CHECK_INT_EQ(get_dev(st, "zeta", "Z1"),
                 SA(DEVICE_REGISTERED, APPROVAL_MANUAL));
    CHECK_INT_EQ(
        store_device_set_state(cli, "zeta", "Z1", DEVICE_APPROVED, &err), 0);
    CHECK_INT_EQ(get_dev(st, "zeta", "Z1"),
                 SA(DEVICE_APPROVED, APPROVAL_MANUAL));
    store_close(cli);
}

static void test_reopen(void)
{
    struct store *st = open_db("approval.db");

    if (st == NULL)
        return;
    CHECK_INT_EQ(get_dev(st, "zeta", "Z1"),
                 SA(DEVICE_APPROVED, APPROVAL_MANUAL));
    CHECK_INT_EQ(get_dev(st, "acme", "SN2"),
                 SA(DEVICE_REJECTED, APPROVAL_MANUAL));
    CHECK_INT_EQ(get_dev(st, "acme", "SN1"),
                 SA(DEVICE_REGISTERED, APPROVAL_AUTO));
    store_close(st);
}

/* A database written by schema 1 (before manual approval): its devices
 * come back in auto mode and can be switched to manual. */
static void test_migration(void)
{
    static const char v1[] =
        "CREATE TABLE vendors (name TEXT PRIMARY KEY NOT NULL,"
        " root_pem TEXT NOT NULL, chain_pem TEXT, id_attr TEXT NOT NULL,"
        " created INTEGER NOT NULL);"
        "CREATE TABLE devices (vendor TEXT NOT NULL REFERENCES vendors(name),"
        " serial TEXT NOT NULL, state INTEGER NOT NULL,"
        " created INTEGER NOT NULL, updated INTEGER NOT NULL,"
        " PRIMARY KEY (vendor, serial)) WITHOUT ROWID;"
        "CREATE TABLE certs (serial_hex TEXT PRIMARY KEY NOT NULL,"
        " subject TEXT NOT NULL, issuer TEXT NOT NULL,"
        " not_before INTEGER NOT NULL, not_after INTEGER NOT NULL,"
        " status INTEGER NOT NULL, vendor TEXT, device TEXT,"
        " der BLOB NOT NULL, created INTEGER NOT NULL);"
        "CREATE INDEX certs_created ON certs (created);"
        "CREATE TABLE txns (tid BLOB PRIMARY KEY NOT NULL,"
        " state INTEGER NOT NULL, body_type INTEGER NOT NULL, sender BLOB,"
        " auth_id BLOB, last_nonce BLOB, cert_serial TEXT,"
        " cert_req_id INTEGER NOT NULL, pvno INTEGER NOT NULL,"
        " expires INTEGER NOT NULL);"
        "CREATE INDEX txns_expires ON txns (expires);"
        "CREATE TABLE nonces (nonce BLOB PRIMARY KEY NOT NULL,"
        " expires INTEGER NOT NULL) WITHOUT ROWID;"
        "CREATE INDEX nonces_expires ON nonces (expires);"
        "INSERT INTO vendors VALUES ('old', 'pem', NULL, 'CN', 1);"
        "INSERT INTO devices VALUES ('old', 'O1', 1, 1, 1);"
        "PRAGMA user_version = 1;";
    /* the same, as PostgreSQL's step 1 (store_pg_schema.c) left it */
    static const char v1_pg[] =
        "CREATE TABLE vendors (name TEXT COLLATE \"C\" PRIMARY KEY,"
        " root_pem TEXT NOT NULL, chain_pem TEXT, id_attr TEXT NOT NULL,"
        " created BIGINT NOT NULL);"
        "CREATE TABLE devices (vendor TEXT COLLATE \"C\" NOT NULL"
        " REFERENCES vendors(name), serial TEXT COLLATE \"C\" NOT NULL,"
        " state INTEGER NOT NULL, created BIGINT NOT NULL,"
        " updated BIGINT NOT NULL, PRIMARY KEY (vendor, serial));"
        "CREATE TABLE certs (id BIGINT GENERATED BY DEFAULT AS IDENTITY,"
        " serial_hex TEXT COLLATE \"C\" PRIMARY KEY, subject TEXT NOT NULL,"
        " issuer TEXT NOT NULL, not_before BIGINT NOT NULL,"
        " not_after BIGINT NOT NULL, status INTEGER NOT NULL,"
        " vendor TEXT COLLATE \"C\", device TEXT COLLATE \"C\","
        " der BYTEA NOT NULL, created BIGINT NOT NULL);"
        "CREATE INDEX certs_created ON certs (created, id);"
        "CREATE TABLE txns (tid BYTEA PRIMARY KEY, state INTEGER NOT NULL,"
        " body_type INTEGER NOT NULL, sender BYTEA, auth_id BYTEA,"
        " last_nonce BYTEA, cert_serial TEXT COLLATE \"C\","
        " cert_req_id BIGINT NOT NULL, pvno INTEGER NOT NULL,"
        " expires BIGINT NOT NULL);"
        "CREATE INDEX txns_expires ON txns (expires);"
        "CREATE TABLE nonces (nonce BYTEA PRIMARY KEY,"
        " expires BIGINT NOT NULL);"
        "CREATE INDEX nonces_expires ON nonces (expires);"
        "INSERT INTO vendors VALUES ('old', 'pem', NULL, 'CN', 1);"
        "INSERT INTO devices VALUES ('old', 'O1', 1, 1, 1);"
        "CREATE TABLE schema_version (version INTEGER NOT NULL);"
        "INSERT INTO schema_version VALUES (1);";
    struct cmpca_err err = CMPCA_ERR_INIT;
    struct store *st = NULL;

    CHECK(testdb_exec("v1.db", testdb_is_pg() ? v1_pg : v1) >= 0);
    if ((st = open_db("v1.db")) == NULL)
        return;
    CHECK(store_schema_version(st) >= 2);
    CHECK_INT_EQ(get_dev(st, "old", "O1"), SA(DEVICE_ENROLLED, APPROVAL_AUTO));
    CHECK_INT_EQ(
        store_device_set_approval(st, "old", "O1", APPROVAL_MANUAL, &err), 0);
    CHECK_INT_EQ(get_dev(st, "old", "O1"),
                 SA(DEVICE_ENROLLED, APPROVAL_MANUAL));
    store_close(st);
}

static void cleanup(void)
{
    testdb_cleanup();
}

int main(void)
{
    struct store *st = NULL;

    if (testdb_init("test_store_approval") != 0)
        return 1;
    if ((st = open_db("approval.db")) != NULL) {
        add_vendor(st, "acme");
        add_vendor(st, "zeta");
        test_defaults(st);
        test_set_approval(st);
        test_states(st);
        test_notfound(st);
        test_foreach(st);
        test_other_handle(st);
        store_close(st);
    }
    test_reopen();
    test_migration();
    cleanup();
    return CHECK_RESULT();
}
