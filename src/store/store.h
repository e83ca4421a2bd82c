/*
 * store.h: everything cmpca keeps, behind one interface. Callers never see
 * SQL. The SQLite backend (store_sqlite.c) is the embedded default; the
 * PostgreSQL backend (store_pg.c) implements the same functions, chosen by
 * the URI given to store_open, so nothing here may expose a backend type. A struct store is safe to use from many threads at
 * once and from several processes at once (the CLI changes the registry while
 * `cmpca serve` runs; the server sees the change on its next read).
 *
 * Returns: 0 on success; STORE_NOTFOUND / STORE_EXISTS where documented;
 * -1 on any other failure, with `err` set to systemUnavail/systemFailure.
 * Every write commits durably (SQLite: WAL, synchronous=FULL; PostgreSQL:
 * COMMIT with the server's synchronous_commit) before the function returns,
 * so a certificate is on disk before its response leaves.
 * Strings returned inside structs are owned by the struct and freed by the
 * matching _clear or _free function.
 */
#ifndef CMPCA_STORE_STORE_H
#define CMPCA_STORE_STORE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "util/err.h"

#define STORE_NOTFOUND 1
#define STORE_EXISTS   2

struct store;

/* store_open opens (creating if needed) the database named by `uri`:
 * "sqlite:PATH" or a bare PATH (relative paths are taken as given), or a
 * libpq URI "postgresql://..." / "postgres://..." (the database must exist;
 * the tables are created), and applies pending schema migrations. *out is
 * new, close with store_close. */
int store_open(const char *uri, struct store **out, struct cmpca_err *err);
/* store_open_pool (added for the PostgreSQL backend) is store_open with the
 * most connections a PostgreSQL store keeps open, meant to be the number of
 * worker threads: 0 is the default (16); a "pool=N" query parameter in the
 * URI wins over `pool`. SQLite ignores it. */
int store_open_pool(const char *uri, int pool, struct store **out,
                    struct cmpca_err *err);
void store_close(struct store *st);

/* store_schema_version returns the schema version of an open store. */
int store_schema_version(struct store *st);

/* ---- vendors: external CAs whose device certificates may enroll ---- */
struct store_vendor {
    char *name;
    char *root_pem;  /* one self-signed root, PEM */
    char *chain_pem; /* intermediates, PEM, may be NULL */
    char *id_attr;   /* "serialNumber" or "CN" */
    time_t created;
    char *crl_pem;   /* the vendor's CRL, PEM, may be NULL: when set, every
                        vendor certificate is checked against it */
};

/* STORE_EXISTS if a vendor of that name exists. */
int store_vendor_add(struct store *st, const struct store_vendor *v,
                     struct cmpca_err *err);
/* Sets (NULL: removes) the CRL of vendor `name`. STORE_NOTFOUND. */
int store_vendor_set_crl(struct store *st, const char *name,
                         const char *crl_pem, struct cmpca_err *err);
/* Fills *out (caller clears with store_vendor_clear). STORE_NOTFOUND. */
int store_vendor_get(struct store *st, const char *name,
                     struct store_vendor *out, struct cmpca_err *err);
/* *out is a new array of *num_out vendors ordered by name; free with
 * store_vendor_list_free. */
int store_vendor_list(struct store *st, struct store_vendor **out,
                      size_t *num_out, struct cmpca_err *err);
void store_vendor_clear(struct store_vendor *v);
void store_vendor_list_free(struct store_vendor *v, size_t num);

/* ---- devices: (vendor, serial) pairs allowed to enroll ---- */
enum store_device_state {
    DEVICE_REGISTERED = 0, /* may do initial enrollment */
    DEVICE_ENROLLED = 1,   /* has (had) an operator certificate */
    DEVICE_DISABLED = 2,   /* may not enroll */
    DEVICE_APPROVED = 3,   /* manual approval: an operator approved it */
    DEVICE_REJECTED = 4    /* manual approval: an operator rejected it */
};

enum store_device_approval {
    APPROVAL_AUTO = 0,     /* a registered device enrolls at once */
    APPROVAL_MANUAL = 1    /* its ir waits (status "waiting") for an operator */
};

struct store_device {
    char *vendor;
    char *serial;
    int state; /* enum store_device_state */
    int approval; /* enum store_device_approval */
    time_t created;
    time_t updated;
};

/* Registers a device in approval mode `approval` (it exists in that mode
 * from the moment it exists). STORE_EXISTS if the serial is already
 * registered under the vendor; STORE_NOTFOUND if the vendor does not
 * exist. */
int store_device_add(struct store *st, const char *vendor, const char *serial,
                     int approval, struct cmpca_err *err);
/* Adds `num` serials in one transaction; serials already present are skipped
 * and counted in *num_skipped. All or nothing on failure. STORE_NOTFOUND if
 * the vendor does not exist. */
int store_device_import(struct store *st, const char *vendor,
                        const char *const *serials, size_t num, int approval,
                        size_t *num_added, size_t *num_skipped,
                        struct cmpca_err *err);
/* Fills *out (clear with store_device_clear). STORE_NOTFOUND. */
int store_device_get(struct store *st, const char *vendor, const char *serial,
                     struct store_device *out, struct cmpca_err *err);
int store_device_set_state(struct store *st, const char *vendor,
                           const char *serial, int state,
                           struct cmpca_err *err);
/* Sets the approval mode of a device. STORE_NOTFOUND. */
int store_device_set_approval(struct store *st, const char *vendor,
                              const char *serial, int approval,
                              struct cmpca_err *err);
/* Calls `fn` for each device (of `vendor`, or all when NULL) ordered by
 * vendor, serial; stops early when fn returns non-zero. The struct passed to
 * fn is borrowed for the call only. */
int store_device_foreach(struct store *st, const char *vendor,
                         int (*fn)(void *arg, const struct store_device *d),
                         void *arg, struct cmpca_err *err);
void store_device_clear(struct store_device *d);

/* ---- certificates issued by this CA ---- */
enum store_cert_status {
    CERT_ISSUED = 0,    /* sent, waiting for certConf */
    CERT_CONFIRMED = 1, /* confirmed (or implicitConfirm granted) */
    CERT_REVOKED = 2,
    CERT_REJECTED = 3,  /* the client rejected it in certConf */
    CERT_RESERVED = 4   /* serial reserved, about to be signed: der holds
                           the SubjectPublicKeyInfo being certified */
};

struct store_cert {
    char *serial_hex;  /* uppercase hex, as `openssl x509 -serial` prints it */
    char *subject;     /* RFC 2253 one-line form */
    char *issuer;
    time_t not_before;
    time_t not_after;
    int status;        /* enum store_cert_status */
    char *vendor;      /* the enrolling device, may be NULL */
    char *device;
    uint8_t *der;
    size_t der_len;
    time_t created;
    time_t revoked_at; /* 0: not revoked; set for CERT_REVOKED and for
                          CERT_REJECTED (a rejected certificate is listed in
                          the CRL too) */
    int reason;        /* CRLReason (RFC 5280 5.3.1) when revoked_at != 0 */
    char *profile;     /* certificate profile it was issued under, may be NULL */
    char *ra;          /* the RA that requested it on the device's behalf,
                          may be NULL */
};

/* Inserts a new certificate. STORE_EXISTS if the serial is taken (the caller
 * draws a new serial and retries). */
int store_cert_insert(struct store *st, const struct store_cert *c,
                      struct cmpca_err *err);
/* Reserves a serial before signing (status CERT_RESERVED; der = the key
 * being certified): a crash between signing and committing leaves a row to
 * reconcile. STORE_EXISTS if the serial is taken. store_issue then turns
 * the reserved row into the issued certificate. */
int store_cert_reserve(struct store *st, const struct store_cert *c,
                       struct cmpca_err *err);
/* Serials of reservations made before `before` and never completed: new
 * array of new strings in *serials (free each and the array). */
int store_cert_stale_reserved(struct store *st, time_t before, char ***serials,
                              size_t *num, struct cmpca_err *err);
/* Looks up by serial (hex, any case, leading zeros ignored). STORE_NOTFOUND. */
int store_cert_get(struct store *st, const char *serial_hex,
                   struct store_cert *out, struct cmpca_err *err);
int store_cert_set_status(struct store *st, const char *serial_hex,
                          int status, struct cmpca_err *err);
/* Calls `fn` for each certificate ordered by creation time (der is NULL in
 * the callback: listing does not load blobs). */
int store_cert_foreach(struct store *st,
                       int (*fn)(void *arg, const struct store_cert *c),
                       void *arg, struct cmpca_err *err);
/* Revokes: sets status (CERT_REVOKED or CERT_REJECTED), revoked_at and
 * reason in one statement. STORE_NOTFOUND; STORE_EXISTS when it was already
 * revoked (nothing changed). */
int store_cert_revoke(struct store *st, const char *serial_hex, int status,
                      int reason, time_t when, struct cmpca_err *err);
/* Calls `fn` for each certificate with revoked_at set, ordered by serial;
 * only serial_hex, not_after, status, revoked_at and reason are filled. */
int store_cert_foreach_revoked(struct store *st,
                               int (*fn)(void *arg, const struct store_cert *c),
                               void *arg, struct cmpca_err *err);
/* Number of rows in the certificate table. */
int store_cert_count(struct store *st, long long *out, struct cmpca_err *err);
void store_cert_clear(struct store_cert *c);

/* ---- CMP transactions waiting for certConf / pollReq ---- */
enum store_txn_state {
    TXN_WAIT_CONF = 0, /* certificate sent, waiting for certConf */
    TXN_DONE = 1,      /* confirmed, rejected or aborted */
    TXN_WAITING = 2    /* request answered "waiting": held for an operator,
                          the client polls */
};

struct store_txn {
    uint8_t *tid;           /* transactionID */
    size_t tid_len;
    int state;              /* enum store_txn_state */
    int body_type;          /* body of the request that opened it */
    uint8_t *sender;        /* DER of the request's sender GeneralName */
    size_t sender_len;
    uint8_t *auth_id;       /* who protected the request: SHA-256 of the
                               signer certificate, or of the MAC key id */
    size_t auth_id_len;
    uint8_t *last_nonce;    /* our last senderNonce (their next recipNonce) */
    size_t last_nonce_len;
    char *cert_serial;      /* certificate issued in it, hex */
    long cert_req_id;
    int pvno;
    time_t expires;
    uint8_t *request;       /* TXN_WAITING: DER of the request PKIMessage,
                               replayed when the operator decides */
    size_t request_len;
    char *old_serial;       /* kur: the certificate to revoke (superseded)
                               once the new one is confirmed */
    char *profile;          /* certificate profile of the request */
};

/* Opens a transaction. STORE_EXISTS if an unexpired transaction with this
 * transactionID is open (answer transactionIdInUse); an expired one is
 * replaced. */
int store_txn_create(struct store *st, const struct store_txn *t,
                     struct cmpca_err *err);
/* Fills *out (clear with store_txn_clear). STORE_NOTFOUND also when expired. */
int store_txn_get(struct store *st, const uint8_t *tid, size_t tid_len,
                  struct store_txn *out, struct cmpca_err *err);
/* Sets state and our new last nonce (NULL: keep it) of an open or waiting
 * transaction. STORE_NOTFOUND otherwise. */
int store_txn_update(struct store *st, const uint8_t *tid, size_t tid_len,
                     int state, const uint8_t *nonce, size_t nonce_len,
                     struct cmpca_err *err);
/* Issues the certificate and opens its transaction atomically: both rows or
 * neither. STORE_EXISTS if the serial is taken (nothing written; retry with
 * a new serial) or the transactionID is open (txn_in_use set to 1). */
int store_issue(struct store *st, const struct store_cert *c,
                const struct store_txn *t, int *txn_in_use,
                struct cmpca_err *err);
/* Confirms: certificate status to `cert_status`, transaction to TXN_DONE, in
 * one database transaction. */
int store_txn_finish(struct store *st, const uint8_t *tid, size_t tid_len,
                     const char *serial_hex, int cert_status,
                     struct cmpca_err *err);
/* Deletes transactions whose expiry passed `now`; returns their certificate
 * serials still in CERT_ISSUED via *serials (new array of new strings, free
 * each and the array) so the caller can revoke them. */
int store_txn_expire(struct store *st, time_t now, char ***serials,
                     size_t *num_serials, struct cmpca_err *err);
void store_txn_clear(struct store_txn *t);

/* ---- registration authorities (RA mode, RFC 9483 5) ---- */
struct store_ra {
    char *name;         /* [A-Za-z0-9._-]{1,64} */
    char *cert_pem;     /* the RA's certificate, pinned: a request is the
                           RA's when its protecting certificate is this one */
    char *vendors;      /* comma-separated vendor names whose devices it may
                           serve; "*" for all */
    int may_raverify;   /* may vouch for POP (raVerified) */
    int may_revoke;     /* may revoke its devices' certificates */
    time_t created;
};

/* STORE_EXISTS if an RA of that name exists, or another RA has the same
 * certificate (one certificate, one RA). */
int store_ra_add(struct store *st, const struct store_ra *ra,
                 struct cmpca_err *err);
/* STORE_NOTFOUND if there is none. */
int store_ra_remove(struct store *st, const char *name, struct cmpca_err *err);
/* *out is a new array of *num_out RAs ordered by name; free with
 * store_ra_list_free. */
int store_ra_list(struct store *st, struct store_ra **out, size_t *num_out,
                  struct cmpca_err *err);
void store_ra_clear(struct store_ra *ra);
void store_ra_list_free(struct store_ra *ras, size_t num);

/* ---- shared secrets for MAC protection (PasswordBasedMac, PBMAC1) ---- */
struct store_secret {
    uint8_t *kid;       /* the senderKID that names it */
    size_t kid_len;
    char *vendor;       /* the device it belongs to */
    char *device;
    uint8_t *sealed;    /* the secret, encrypted (never stored in clear) */
    size_t sealed_len;
    int single_use;     /* good for one initial enrollment */
    int used;           /* a single-use secret was used */
    time_t created;
};

/* Stores a secret; an existing one with the same kid is replaced (a new
 * secret for the device), which also clears `used`. STORE_NOTFOUND if the
 * device is not registered. */
int store_secret_put(struct store *st, const struct store_secret *s,
                     struct cmpca_err *err);
/* Fills *out (clear with store_secret_clear). STORE_NOTFOUND. */
int store_secret_get(struct store *st, const uint8_t *kid, size_t kid_len,
                     struct store_secret *out, struct cmpca_err *err);
/* Marks a single-use secret used, atomically: 0 for the first caller,
 * STORE_EXISTS when it was used already, STORE_NOTFOUND. */
int store_secret_use(struct store *st, const uint8_t *kid, size_t kid_len,
                     struct cmpca_err *err);
void store_secret_clear(struct store_secret *s);

/* ---- CRLs ---- */
struct store_crl {
    long long number;   /* cRLNumber */
    time_t this_update;
    time_t next_update;
    uint8_t *der;
    size_t der_len;
};

/* Draws the next cRLNumber for CRL `name` (1, 2, ...), atomically, so two
 * instances never sign two CRLs with one number. */
int store_crl_next_number(struct store *st, const char *name,
                          long long *out, struct cmpca_err *err);
/* Saves CRL `name` as the current one, unless a CRL with a higher number is
 * already saved (then 0, nothing changed). */
int store_crl_save(struct store *st, const char *name,
                   const struct store_crl *crl, struct cmpca_err *err);
/* The current CRL `name`; STORE_NOTFOUND when none was made yet. Clear with
 * store_crl_clear. */
int store_crl_get(struct store *st, const char *name, struct store_crl *out,
                  struct cmpca_err *err);
void store_crl_clear(struct store_crl *crl);

/* ---- audit log: every decision, hash-chained ----
 * Each entry's hash is SHA-256 over the previous entry's hash and this
 * entry's fields in a fixed, length-prefixed encoding (docs/audit.md), so
 * editing, deleting or reordering any entry breaks the chain from there on.
 * Appends are serialized by the database: two instances sharing a database
 * still build one chain. */
#define STORE_AUDIT_HASH_LEN 32
struct store_audit {
    long long seq;      /* 1, 2, ... assigned by store_audit_append */
    time_t at;
    char *actor;        /* who asked: "device acme/SN1", "ra gw1",
                           "operator", "server" */
    char *action;       /* what: "ir", "kur", "rr", "certConf", "revoke",
                           "device approve", ... */
    char *outcome;      /* "issued", "rejected", "revoked", "confirmed", ... */
    char *vendor;       /* the device concerned, may be NULL */
    char *device;
    char *serial;       /* the certificate concerned, may be NULL */
    char *detail;       /* one line: the failed check, the reason; may be
                           NULL; never a secret */
    uint8_t hash[STORE_AUDIT_HASH_LEN];
};

/* Appends `e` (seq, hash and, when 0, `at` are filled by the store). */
int store_audit_append(struct store *st, const struct store_audit *e,
                       struct cmpca_err *err);
/* Calls `fn` for each entry, oldest first, that matches the filter fields
 * that are set (vendor/device, serial, at within [since, until] when not
 * 0); stops when fn returns non-zero. */
struct store_audit_filter {
    const char *vendor;
    const char *device;
    const char *serial;
    time_t since;
    time_t until;
};
int store_audit_foreach(struct store *st, const struct store_audit_filter *f,
                        int (*fn)(void *arg, const struct store_audit *e),
                        void *arg, struct cmpca_err *err);
/* Recomputes the whole chain. 0 when intact; 1 with *bad_seq the first
 * entry that does not fit (edited, or following a deleted or moved one);
 * -1 on a store failure. */
int store_audit_verify(struct store *st, long long *bad_seq,
                       long long *num_checked, struct cmpca_err *err);

/* ---- replay protection ---- */
/* Records the transactionID of a first message as seen until `expires`:
 * 0 when new, STORE_EXISTS when it was seen (a replayed request). */
int store_tid_use(struct store *st, const uint8_t *tid, size_t tid_len,
                  time_t expires, struct cmpca_err *err);
/* Counts open transactions (waiting for certConf or for an operator, not
 * expired): *total of all, *mine of those opened with credential
 * `auth_id` (may be NULL: *mine = 0). */
int store_txn_count_open(struct store *st, const uint8_t *auth_id,
                         size_t auth_id_len, long long *total,
                         long long *mine, struct cmpca_err *err);
/* Records senderNonce `nonce` as seen until `expires`. Returns 0 when new,
 * STORE_EXISTS when it was seen before (a replay). Expired nonces are pruned
 * now and then by the same call. */
int store_nonce_use(struct store *st, const uint8_t *nonce, size_t nonce_len,
                    time_t expires, struct cmpca_err *err);

#endif
