/*
 * store_backend.h: how the store's two backends share one set of rules.
 *
 * Every public store_* function is defined once, in the store_sqlite*.c
 * file of its table. That definition is the store's front: it checks and
 * normalizes the arguments (canonical certificate serials, device serial
 * rules, RA and CRL names, audit fields cleaned and capped) and then runs
 * the SQL. When the store was opened with a postgresql:// URI, struct store
 * carries a struct pg_store and the front hands its checked arguments to
 * the matching pgs_* function below (store_pg*.c) instead of SQLite. So the
 * rules callers rely on are written once, and each backend only does SQL.
 * (A table of function pointers would have needed every check twice, or a
 * rewrite of every SQLite file; this costs one line per function.)
 *
 * The pgs_* functions take arguments the front already checked: serials
 * normalized (SQ_SERIAL_BUF form), names valid, pointers non-NULL where the
 * front insists. They return what the store.h function returns.
 */
#ifndef CMPCA_STORE_BACKEND_H
#define CMPCA_STORE_BACKEND_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <openssl/evp.h>

#include "store/store.h"

struct pg_store;

/* ---- the audit chain, shared by both backends ---- */

/* actor, action, outcome, vendor, device, serial, detail */
#define STORE_AUDIT_NUM_TEXT 7

/* What one audit hash covers, pointing at someone else's bytes. */
struct audit_fields {
    long long seq;
    long long at;
    const uint8_t *text[STORE_AUDIT_NUM_TEXT]; /* NULL for SQL NULL */
    size_t len[STORE_AUDIT_NUM_TEXT];
};

/* sq_audit_hash computes SHA-256(prev || encode(f)) (docs/audit.md) into
 * `out`. Returns 0 or -1 with `err` set. */
int sq_audit_hash(EVP_MD_CTX *md, const uint8_t prev[STORE_AUDIT_HASH_LEN],
                  const struct audit_fields *f,
                  uint8_t out[STORE_AUDIT_HASH_LEN], struct cmpca_err *err);

/* One pass over the audit log, oldest first, from either backend. next()
 * points `f` and *hash at the next row (borrowed until the following call)
 * and returns 1, or 0 after the last row, or -1 (or SQ_RETRY) with `err`
 * set. rewind() starts the pass again from the first row. */
struct audit_rows {
    int (*next)(void *src, struct audit_fields *f, const void **hash,
                int *hash_len, struct cmpca_err *err);
    int (*rewind)(void *src, struct cmpca_err *err);
    void *src;
};

/* A check over all rows, run by a backend while it holds one consistent
 * view of the log. */
typedef int (*audit_scan_fn)(struct audit_rows *rows, void *arg,
                             struct cmpca_err *err);

/* ---- the PostgreSQL backend (store_pg*.c) ---- */

/* pgs_is_uri: 1 when `uri` names a PostgreSQL database. */
int pgs_is_uri(const char *uri);

/* pgs_open connects (pool of at most `pool` connections; 0: the default,
 * or the URI's ?pool=N) and migrates the schema. *out is new, close with
 * pgs_close; *schema_version gets the version in use. */
int pgs_open(const char *uri, int pool, struct pg_store **out,
             int *schema_version, struct cmpca_err *err);
void pgs_close(struct pg_store *pg);

int pgs_vendor_add(struct pg_store *pg, const struct store_vendor *v,
                   struct cmpca_err *err);
int pgs_vendor_set_crl(struct pg_store *pg, const char *name,
                       const char *crl_pem, struct cmpca_err *err);
int pgs_vendor_get(struct pg_store *pg, const char *name,
                   struct store_vendor *out, struct cmpca_err *err);
int pgs_vendor_list(struct pg_store *pg, struct store_vendor **out,
                    size_t *num_out, struct cmpca_err *err);

/* Adds `num` serials of `vendor`; a duplicate is skipped (ignore_dups) or
 * makes the whole call STORE_EXISTS. STORE_NOTFOUND without the vendor. */
int pgs_device_import(struct pg_store *pg, const char *vendor,
                      const char *const *serials, size_t num, int approval,
                      int ignore_dups, size_t *num_added, size_t *num_skipped,
                      struct cmpca_err *err);
int pgs_device_get(struct pg_store *pg, const char *vendor, const char *serial,
                   struct store_device *out, struct cmpca_err *err);
int pgs_device_set_state(struct pg_store *pg, const char *vendor,
                         const char *serial, int state, struct cmpca_err *err);
int pgs_device_set_approval(struct pg_store *pg, const char *vendor,
                            const char *serial, int approval,
                            struct cmpca_err *err);
int pgs_device_foreach(struct pg_store *pg, const char *vendor,
                       int (*fn)(void *arg, const struct store_device *d),
                       void *arg, struct cmpca_err *err);

/* Inserts `c` under the normalized `serial` (also reservations). */
int pgs_cert_insert(struct pg_store *pg, const struct store_cert *c,
                    const char *serial, struct cmpca_err *err);
int pgs_cert_stale_reserved(struct pg_store *pg, time_t before, char ***serials,
                            size_t *num, struct cmpca_err *err);
int pgs_cert_get(struct pg_store *pg, const char *serial,
                 struct store_cert *out, struct cmpca_err *err);
int pgs_cert_set_status(struct pg_store *pg, const char *serial, int status,
                        struct cmpca_err *err);
int pgs_cert_foreach(struct pg_store *pg,
                     int (*fn)(void *arg, const struct store_cert *c),
                     void *arg, struct cmpca_err *err);
int pgs_cert_count(struct pg_store *pg, long long *out, struct cmpca_err *err);
int pgs_cert_revoke(struct pg_store *pg, const char *serial, int status,
                    int reason, time_t when, struct cmpca_err *err);
int pgs_cert_foreach_revoked(struct pg_store *pg,
                             int (*fn)(void *arg, const struct store_cert *c),
                             void *arg, struct cmpca_err *err);

/* store_txn_create (cert NULL) and store_issue: `serial` is the normalized
 * serial of the certificate, else of the transaction ("" for none). */
int pgs_txn_issue(struct pg_store *pg, const struct store_cert *cert,
                  const struct store_txn *t, const char *serial,
                  int *txn_in_use, struct cmpca_err *err);
int pgs_txn_get(struct pg_store *pg, const uint8_t *tid, size_t tid_len,
                struct store_txn *out, struct cmpca_err *err);
int pgs_txn_update(struct pg_store *pg, const uint8_t *tid, size_t tid_len,
                   int state, const uint8_t *nonce, size_t nonce_len,
                   struct cmpca_err *err);
/* `serial` normalized, or NULL: only the transaction changes. */
int pgs_txn_finish(struct pg_store *pg, const uint8_t *tid, size_t tid_len,
                   const char *serial, int cert_status, struct cmpca_err *err);
int pgs_txn_expire(struct pg_store *pg, time_t now, char ***serials,
                   size_t *num_serials, struct cmpca_err *err);
int pgs_txn_count_open(struct pg_store *pg, const uint8_t *auth_id,
                       size_t auth_id_len, long long *total, long long *mine,
                       struct cmpca_err *err);
/* store_nonce_use (tids 0) and store_tid_use (tids 1). */
int pgs_seen_use(struct pg_store *pg, int tids, const uint8_t *value,
                 size_t len, time_t expires, struct cmpca_err *err);

int pgs_ra_add(struct pg_store *pg, const struct store_ra *ra,
               struct cmpca_err *err);
int pgs_ra_remove(struct pg_store *pg, const char *name, struct cmpca_err *err);
int pgs_ra_list(struct pg_store *pg, struct store_ra **out, size_t *num_out,
                struct cmpca_err *err);

int pgs_secret_put(struct pg_store *pg, const struct store_secret *s,
                   struct cmpca_err *err);
int pgs_secret_get(struct pg_store *pg, const uint8_t *kid, size_t kid_len,
                   struct store_secret *out, struct cmpca_err *err);
int pgs_secret_use(struct pg_store *pg, const uint8_t *kid, size_t kid_len,
                   struct cmpca_err *err);

/* `key` is the counter row of CRL `name` (store_sqlite_revoke.c). */
int pgs_crl_next_number(struct pg_store *pg, const char *key, const char *name,
                        long long *out, struct cmpca_err *err);
int pgs_crl_save(struct pg_store *pg, const char *name,
                 const struct store_crl *crl, struct cmpca_err *err);
int pgs_crl_get(struct pg_store *pg, const char *name, struct store_crl *out,
                struct cmpca_err *err);

/* Appends the cleaned entry `f` (seq is assigned here) to the chain. */
int pgs_audit_append(struct pg_store *pg, struct audit_fields *f,
                     struct cmpca_err *err);
/* Lists entries matching `f`; `serial` is the filter's serial as stored. */
int pgs_audit_foreach(struct pg_store *pg, const struct store_audit_filter *f,
                      const char *serial,
                      int (*fn)(void *arg, const struct store_audit *e),
                      void *arg, struct cmpca_err *err);
/* Runs `fn` over every row, oldest first, within one snapshot. */
int pgs_audit_scan(struct pg_store *pg, audit_scan_fn fn, void *arg,
                   struct cmpca_err *err);

#endif
