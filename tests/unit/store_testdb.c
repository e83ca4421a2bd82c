/*
 * store_testdb.c: the store tests' databases on SQLite or PostgreSQL (see
 * store_testdb.h). Test code: it keeps its state in file-scope variables,
 * one set per test program.
 */
#include "store_testdb.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>
#include <sqlite3.h>

#define MAX_DBS 32

static char dir[512];
static char tag_name[32];
static int owner_pid;      /* names stay the same in forked children */
static char base_uri[512]; /* PostgreSQL: the server's maintenance db */
static char names[MAX_DBS][64];
static int num_names;

static const char shims[] =
    "CREATE FUNCTION zeroblob(integer) RETURNS bytea LANGUAGE sql AS"
    " $$ SELECT decode(repeat('00', $1), 'hex') $$;"
    "CREATE FUNCTION hex(bytea) RETURNS text LANGUAGE sql AS"
    " $$ SELECT upper(encode($1, 'hex')) $$;";

static int read_uri_file(const char *path)
{
    FILE *f = fopen(path, "r");
    size_t n;

    if (f == NULL) {
        fprintf(stderr, "testdb: %s: %s\n", path, strerror(errno));
        return -1;
    }
    n = fread(base_uri, 1, sizeof(base_uri) - 1, f);
    fclose(f);
    base_uri[n] = '\0';
    base_uri[strcspn(base_uri, "\r\n")] = '\0';
    return base_uri[0] != '\0' ? 0 : -1;
}

int testdb_init(const char *tag)
{
    const char *uri = getenv("CMPCA_TEST_STORE_URI");
    const char *file = getenv("CMPCA_TEST_STORE_URI_FILE");

    snprintf(tag_name, sizeof(tag_name), "%s", tag);
    owner_pid = (int)getpid();
    snprintf(dir, sizeof(dir), "/tmp/%s.XXXXXX", tag);
    if (mkdtemp(dir) == NULL) {
        perror("mkdtemp");
        return -1;
    }
    if (uri != NULL && *uri != '\0')
        snprintf(base_uri, sizeof(base_uri), "%s", uri);
    else if (file != NULL && *file != '\0' && read_uri_file(file) != 0)
        return -1;
    if (base_uri[0] != '\0')
        printf("testdb: PostgreSQL at %s\n", base_uri);
    return 0;
}

int testdb_is_pg(void)
{
    return base_uri[0] != '\0';
}

const char *testdb_dir(void)
{
    return dir;
}

/* db_name: the PostgreSQL name of database `name`: t<pid>_<tag>_<name>,
 * lower case, [a-z0-9_] only. */
static void db_name(const char *name, char *out, size_t len)
{
    size_t n;

    snprintf(out, len, "t%d_%s_%s", owner_pid, tag_name, name);
    for (n = 0; out[n] != '\0'; n++)
        out[n] = isalnum((unsigned char)out[n])
                     ? (char)tolower((unsigned char)out[n])
                     : '_';
}

/* pg_uri_of writes the URI of database `db` on the server of base_uri. */
static void pg_uri_of(const char *db, char *buf, size_t len)
{
    const char *slash = strrchr(base_uri, '/');
    size_t keep = slash != NULL ? (size_t)(slash - base_uri) : 0;

    snprintf(buf, len, "%.*s/%s", (int)keep, base_uri, db);
}

static void quiet(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

static PGresult *pg_exec_on(const char *uri, const char *sql)
{
    PGconn *conn = PQconnectdb(uri);
    PGresult *r = NULL;

    if (PQstatus(conn) != CONNECTION_OK) {
        fprintf(stderr, "testdb: %s: %s", uri, PQerrorMessage(conn));
    } else {
        PQsetNoticeProcessor(conn, quiet, NULL);
        r = PQexec(conn, sql);
    }
    if (r != NULL && PQresultStatus(r) != PGRES_COMMAND_OK &&
        PQresultStatus(r) != PGRES_TUPLES_OK) {
        fprintf(stderr, "testdb: %s: %s", sql, PQresultErrorMessage(r));
        PQclear(r);
        r = NULL;
    }
    PQfinish(conn);
    return r;
}

static int pg_admin(const char *sql)
{
    PGresult *r = pg_exec_on(base_uri, sql);

    PQclear(r);
    return r != NULL ? 0 : -1;
}

static int known(const char *name)
{
    for (int i = 0; i < num_names; i++)
        if (strcmp(names[i], name) == 0)
            return 1;
    return 0;
}

static void remember(const char *name)
{
    int i;

    if (known(name))
        return;
    for (i = 0; i < num_names && names[i][0] != '\0'; i++)
        ;
    if (i == num_names && num_names < MAX_DBS)
        num_names++;
    if (i < num_names)
        snprintf(names[i], sizeof(names[0]), "%s", name);
}

/* pg_create makes database `name` fresh, with the SQLite shims. */
static void pg_create(const char *name)
{
    char db[64], sql[160], uri[600];
    PGresult *r;

    db_name(name, db, sizeof(db));
    snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s WITH (FORCE)", db);
    pg_admin(sql);
    snprintf(sql, sizeof(sql), "CREATE DATABASE %s", db);
    if (pg_admin(sql) != 0)
        return;
    pg_uri_of(db, uri, sizeof(uri));
    r = pg_exec_on(uri, shims);
    PQclear(r);
}

const char *testdb_uri(const char *name, char *buf, size_t len)
{
    char db[64];

    if (!testdb_is_pg()) {
        remember(name);
        snprintf(buf, len, "sqlite:%s/%s", dir, name);
        return buf;
    }
    if (!known(name)) {
        pg_create(name);
        remember(name);
    }
    db_name(name, db, sizeof(db));
    pg_uri_of(db, buf, len);
    return buf;
}

long long testdb_exec(const char *name, const char *sql)
{
    char uri[600], path[600], *msg = NULL;
    long long n = -1;
    sqlite3 *db = NULL;
    PGresult *r;

    if (testdb_is_pg()) {
        testdb_uri(name, uri, sizeof(uri));
        if ((r = pg_exec_on(uri, sql)) != NULL)
            n = strtoll(PQcmdTuples(r), NULL, 10);
        PQclear(r);
        return n;
    }
    remember(name);
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    if (sqlite3_open(path, &db) == SQLITE_OK) {
        sqlite3_busy_timeout(db, 5000);
        if (sqlite3_exec(db, sql, NULL, NULL, &msg) == SQLITE_OK)
            n = sqlite3_changes(db);
        else
            fprintf(stderr, "testdb: %s: %s\n", sql, msg != NULL ? msg : "?");
    }
    sqlite3_free(msg);
    sqlite3_close(db);
    return n;
}

long long testdb_int(const char *name, const char *sql)
{
    char uri[600], path[600];
    sqlite3_stmt *s = NULL;
    sqlite3 *db = NULL;
    long long v = -1;
    PGresult *r;

    if (testdb_is_pg()) {
        testdb_uri(name, uri, sizeof(uri));
        if ((r = pg_exec_on(uri, sql)) != NULL && PQntuples(r) > 0 &&
            !PQgetisnull(r, 0, 0)) {
            const char *t = PQgetvalue(r, 0, 0);

            v = strcmp(t, "t") == 0   ? 1
                : strcmp(t, "f") == 0 ? 0
                                      : strtoll(t, NULL, 10);
        }
        PQclear(r);
        return v;
    }
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    if (sqlite3_open(path, &db) == SQLITE_OK &&
        sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK &&
        sqlite3_step(s) == SQLITE_ROW)
        v = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    sqlite3_close(db);
    return v;
}

long long testdb_schema_version(const char *name)
{
    return testdb_int(name, testdb_is_pg()
                                ? "SELECT version FROM schema_version"
                                : "PRAGMA user_version");
}

int testdb_set_schema_version(const char *name, int v)
{
    char sql[96];

    if (testdb_is_pg())
        snprintf(sql, sizeof(sql), "UPDATE schema_version SET version = %d", v);
    else
        snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", v);
    return testdb_exec(name, sql) >= 0 ? 0 : -1;
}

long long testdb_num_tables(const char *name)
{
    return testdb_int(name, testdb_is_pg()
                                ? "SELECT count(*) FROM information_schema"
                                  ".tables WHERE table_schema ="
                                  " current_schema() AND table_name <>"
                                  " 'schema_version'"
                                : "SELECT count(*) FROM sqlite_master"
                                  " WHERE type = 'table'");
}

void testdb_lock_write(const char *name, const char *table, int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    char uri[600], path[600], sql[128];
    sqlite3 *db = NULL;
    PGconn *conn;

    if (!testdb_is_pg()) {
        snprintf(path, sizeof(path), "%s/%s", dir, name);
        if (sqlite3_open(path, &db) == SQLITE_OK &&
            sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) ==
                SQLITE_OK) {
            nanosleep(&ts, NULL);
            sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
        }
        sqlite3_close(db);
        return;
    }
    testdb_uri(name, uri, sizeof(uri));
    snprintf(sql, sizeof(sql), "BEGIN; LOCK TABLE %s IN EXCLUSIVE MODE", table);
    conn = PQconnectdb(uri);
    if (PQstatus(conn) == CONNECTION_OK) {
        PQclear(PQexec(conn, sql));
        nanosleep(&ts, NULL);
        PQclear(PQexec(conn, "COMMIT"));
    }
    PQfinish(conn);
}

void testdb_remove(const char *name)
{
    static const char *const sfx[] = {"", "-wal", "-shm", "-journal"};
    char path[700], db[64], sql[160];

    if (testdb_is_pg()) {
        db_name(name, db, sizeof(db));
        snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s WITH (FORCE)",
                 db);
        pg_admin(sql);
        for (int i = 0; i < num_names; i++)
            if (strcmp(names[i], name) == 0)
                names[i][0] = '\0'; /* made afresh when used again */
        return;
    }
    for (size_t i = 0; i < sizeof(sfx) / sizeof(sfx[0]); i++) {
        snprintf(path, sizeof(path), "%s/%s%s", dir, name, sfx[i]);
        unlink(path);
    }
}

void testdb_cleanup(void)
{
    for (int i = 0; i < num_names; i++)
        if (names[i][0] != '\0')
            testdb_remove(names[i]);
    if (dir[0] != '\0' && rmdir(dir) != 0)
        fprintf(stderr, "testdb: cannot remove %s: %s\n", dir, strerror(errno));
}
