/*
 * load.h: the pieces of cmpca-load, a load generator that plays many devices
 * against a CMP server. It is deliberately an independent implementation of
 * the device side: it links only libcrypto and drives OpenSSL's own CMP
 * client (OSSL_CMP_CTX), so a benchmark of cmpca is not a benchmark of cmpca
 * talking to itself. Nothing here includes a header from src/.
 *
 *   ident.c     throwaway vendor CA and device identities, cached on disk
 *   register.c  `cmpca vendor add` / `cmpca device import` for them
 *   http.c      one keep-alive HTTP/1.1 connection per worker
 *   enroll.c    one ir or kur session on OpenSSL's client, failInfo naming
 *   stats.c     latencies, percentiles, errors by kind, CPU readings
 *   main.c      options, workers, pacing, progress line, the report
 */
#ifndef CMPCA_LOAD_H
#define CMPCA_LOAD_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <openssl/cmp.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#define LOAD_PATH_CAP 4096

enum key_type { KT_EC_P256, KT_EC_P384, KT_RSA2048, KT_ED25519 };

/* key_type_parse sets *out from "ec-p256", "ec-p384", "rsa-2048" or
 * "ed25519". Returns 0, or -1 for any other name. */
int key_type_parse(const char *name, enum key_type *out);
/* key_type_name is the option spelling of `kt` (static string). */
const char *key_type_name(enum key_type kt);
/* key_generate returns a new private key of type `kt`, or NULL. */
EVP_PKEY *key_generate(enum key_type kt);

/* One device. The vendor credentials and the two enrollment keys come from
 * the cache; op_cert/op_key are the operator certificate and its key after
 * an enrollment (used by --kur), owned by the device. */
struct device {
    char serial[64];
    X509 *vendor_cert;
    EVP_PKEY *vendor_key;
    EVP_PKEY *new_key[2]; /* ir certifies [0]; kur alternates */
    X509 *op_cert;
    EVP_PKEY *op_key; /* borrowed: one of new_key[] */
    int op_index;     /* which new_key[] op_key is */
};

struct identities {
    enum key_type kt;
    char vendor[64];         /* vendor name: load-<kt>-<fingerprint> */
    char dir[LOAD_PATH_CAP]; /* <cache>/<kt> */
    X509 *vendor_root;       /* the throwaway vendor CA */
    size_t num_devices;
    struct device *devs;
};

/* ident_load fills `ids` with `num` devices of key type `kt` from
 * cache/<kt>/, creating (on `threads` threads) whatever is missing: the
 * vendor CA and each device's vendor key, vendor certificate and two
 * enrollment keys. Returns 0, or -1 with a message on stderr. Free with
 * ident_free() either way. */
int ident_load(const char *cache, enum key_type kt, size_t num, int threads,
               struct identities *ids);
void ident_free(struct identities *ids);

/* register_devices makes sure the cmpca at data directory `dir` trusts the
 * vendor CA of `ids` and knows its devices, by running `cmpca vendor list`,
 * `cmpca vendor add` (when missing) and `cmpca device import` with the
 * binary `cmpca`. Returns 0, or -1 with a message on stderr. */
int register_devices(const char *cmpca, const char *dir,
                     const struct identities *ids);

/* A keep-alive HTTP/1.1 client connection to one server. */
struct http_conn {
    char host[256];
    int port;
    const char *path;
    int timeout_ms;
    int fd;             /* -1 when not connected */
    unsigned char *buf; /* response buffer */
    size_t cap;
    uint64_t connects; /* TCP connections opened so far */
    int peer_closed;   /* the last failure was the server closing */
    char err[160];     /* why the last http_post failed */
};

/* http_init prepares `c` (not connected yet). */
void http_init(struct http_conn *c, const char *host, int port,
               const char *path, int timeout_ms);
/* http_post sends `req` as an application/pkixcmp POST on the kept
 * connection (opening one when needed, and once more when a kept one turns
 * out to be closed before any answer byte). On success *out_body points into
 * c->buf (valid until the next call) and the HTTP status is returned; on
 * failure -1 with c->err set. */
int http_post(struct http_conn *c, const unsigned char *req, size_t req_len,
              const unsigned char **out_body, size_t *out_len);
void http_close(struct http_conn *c);

/* Per-worker statistics; merged by the main thread at the end. */
#define STATS_MAX_KINDS 32
struct stats {
    double *lat_ms; /* one entry per successful enrollment */
    size_t num_ok, cap;
    uint64_t num_failed;
    uint64_t late;     /* open loop: started 10 ms or more after schedule */
    uint64_t connects; /* TCP connections opened */
    struct {
        char kind[112];
        uint64_t n;
    } kinds[STATS_MAX_KINDS];
    size_t num_kinds;
};

int stats_add_ok(struct stats *s, double ms);
void stats_add_error(struct stats *s, const char *kind);
/* stats_merge moves everything of `from` into `into`. Returns 0 or -1. */
int stats_merge(struct stats *into, struct stats *from);
/* stats_percentile of the sorted latencies (call stats_sort first). */
void stats_sort(struct stats *s);
double stats_percentile(const struct stats *s, double p);
void stats_free(struct stats *s);
/* stats_print_errors writes "errors by failInfo: ..." to `f`. */
void stats_print_errors(const struct stats *s, FILE *f);
/* proc_cpu_us reads utime+stime of process `pid` in microseconds from
 * /proc; -1 when it cannot. */
long long proc_cpu_us(long pid);
/* machine_busy_us is the CPU time all cores spent outside idle and
 * iowait since boot, in microseconds (/proc/stat); -1 when unknown. */
long long machine_busy_us(void);
/* self_cpu_us is this process's user+system CPU time in microseconds. */
long long self_cpu_us(void);

/* The command line (opts.c). */
struct opts {
    const char *url;
    char host[256];
    int port;
    char path[1024];
    size_t devices;
    int workers;
    long long count; /* 0: run for `duration` */
    double duration;
    double rate; /* 0: closed loop */
    enum key_type kt;
    int kur, no_root, setup_only, quiet;
    const char *trusted, *cache, *cmpca, *dir;
    long server_pid;
    int timeout;
    char trusted_buf[LOAD_PATH_CAP];
    char cache_buf[LOAD_PATH_CAP];
};

/* opts_parse fills `o` from the command line. Returns 0, 1 after printing
 * the help, or -1 after printing a usage error. */
int opts_parse(struct opts *o, int argc, char **argv);

/* How a worker enrolls. */
struct enroll_cfg {
    int no_root;       /* empty trust store; root from the ip's extraCerts */
    X509_STORE *trust; /* the operator root, unless no_root */
};

/* enroll_one runs one whole session (ir or kur, ip/kup, certConf, pkiConf)
 * for `d` over `conn`. With `kur` it needs d->op_cert and moves the device
 * to the new certificate on success; an ir success also sets it. Returns 0;
 * on failure -1 with a short description of what went wrong (the failInfo
 * names the server sent, "transport: ..." or "client: ...") in `kind`. */
int enroll_one(const struct enroll_cfg *cfg, struct http_conn *conn,
               struct device *d, int kur, char *kind, size_t kind_cap);

#endif
