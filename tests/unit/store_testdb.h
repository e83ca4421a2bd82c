/*
 * store_testdb.h: where the store tests keep their databases, so one test
 * program checks either backend. Without CMPCA_TEST_STORE_URI in the
 * environment, a database `name` is the SQLite file NAME in a temp dir (as
 * the tests always did). With it set to a postgresql:// URI of a server
 * (scripts/pg-test-cluster.sh starts one; CMPCA_TEST_STORE_URI_FILE may name
 * a file holding the URI instead), each `name` is a fresh PostgreSQL
 * database, created on first use (dropped first if a crashed run left it)
 * and dropped by testdb_cleanup.
 *
 * The tests also look behind the store's back (count rows, tamper with the
 * audit log, hold a lock); testdb_exec and testdb_int run plain SQL on
 * either backend for that. A PostgreSQL database gets two SQLite functions
 * the tests use, zeroblob(n) and hex(bytes), so most of that SQL is the
 * same text on both.
 */
#ifndef CMPCA_TESTS_STORE_TESTDB_H
#define CMPCA_TESTS_STORE_TESTDB_H

#include <stddef.h>

/* testdb_init picks the backend and makes the temp dir; `tag` names this
 * test program's databases. Returns 0, or -1 after printing why. */
int testdb_init(const char *tag);
/* testdb_is_pg: 1 when the databases are PostgreSQL ones. */
int testdb_is_pg(void);
/* testdb_dir is the temp dir (SQLite: the database files live there). */
const char *testdb_dir(void);
/* testdb_uri writes the store_open URI of database `name` into `buf`,
 * creating the PostgreSQL database on first use. Returns buf. */
const char *testdb_uri(const char *name, char *buf, size_t len);
/* testdb_exec runs `sql` (one or more statements) on database `name`
 * directly. Returns the rows changed by the last statement, or -1. */
long long testdb_exec(const char *name, const char *sql);
/* testdb_int returns the first column of the first row of `sql` as an
 * integer, or -1. */
long long testdb_int(const char *name, const char *sql);
/* testdb_schema_version: the version stored in the database (SQLite:
 * PRAGMA user_version; PostgreSQL: the schema_version table). */
long long testdb_schema_version(const char *name);
/* testdb_set_schema_version stores `v` there, behind the store's back. */
int testdb_set_schema_version(const char *name, int v);
/* testdb_num_tables counts the store's tables (not schema_version). */
long long testdb_num_tables(const char *name);
/* testdb_lock_write holds a write lock on `table` from another connection
 * for `ms` milliseconds, then releases it (run it in a thread). */
void testdb_lock_write(const char *name, const char *table, int ms);
/* testdb_remove deletes database `name` (its files, or DROP DATABASE). */
void testdb_remove(const char *name);
/* testdb_cleanup removes every database made and the temp dir. */
void testdb_cleanup(void);

#endif
