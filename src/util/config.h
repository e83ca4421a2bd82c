/*
 * config.h: DIR/cmpca.conf, parsed once at startup into a read-only struct
 * that is passed down (never a global). The format is INI: `[section]`
 * headers, `key = value` lines, `#` comments. Unknown keys are an error, so a
 * typo in a security setting is caught at startup instead of being ignored.
 */
#ifndef CMPCA_UTIL_CONFIG_H
#define CMPCA_UTIL_CONFIG_H

#include <stddef.h>

#define CMPCA_CONF_FILE "cmpca.conf"
#define CMPCA_MAX_EKU   8

struct cmpca_config {
    char *dir;             /* data directory; other paths are relative to it */
    /* [server] */
    char *listen;          /* "127.0.0.1:8080" */
    int threads;           /* worker threads */
    size_t max_body;       /* bytes; larger request bodies get HTTP 413 */
    int read_timeout;      /* seconds a connection may stay idle */
    int max_connections;   /* simultaneous HTTP connections */
    /* [store] */
    char *db;              /* "sqlite:cmpca.db" or a path */
    /* [ca] */
    char *root_cert;       /* operator root, PEM */
    char *ca_cert;         /* issuing CA (signs certs and CMP responses), PEM */
    char *ca_key;          /* its private key, PEM */
    /* [cmp] */
    int time_skew;         /* seconds messageTime may differ from ours */
    int txn_expiry;        /* seconds an open transaction waits for certConf */
    int nonce_window;      /* seconds a senderNonce is remembered */
    int implicit_confirm;  /* 1: grant implicitConfirm when asked */
    /* [policy] */
    int reenroll;          /* 1: an enrolled device may repeat the ir with its
                              vendor certificate (factory reset) */
    /* [profile] defaults of the built-in "3gpp" profile */
    int validity_days;
    int subject_from_template; /* 1: honour the requested subject */
    int num_eku;
    int eku_nids[CMPCA_MAX_EKU];
    char *eku_text;        /* as written in the file, for display */
};

/* config_load reads DIR/cmpca.conf (missing keys take defaults). On success
 * *out is new, free with config_free(). Returns -1 with a message in `errbuf`
 * (file:line: reason) on failure. */
int config_load(const char *dir, struct cmpca_config **out, char *errbuf,
                size_t errlen);

/* config_defaults returns a new config for `dir` holding only defaults. */
struct cmpca_config *config_defaults(const char *dir);

/* config_write writes `cfg` to DIR/cmpca.conf, refusing to overwrite an
 * existing file. Returns 0 or -1 with errno set. */
int config_write(const struct cmpca_config *cfg);

/* config_path joins cfg->dir and `rel` (kept as is when absolute) into a new
 * string the caller frees. NULL on allocation failure. */
char *config_path(const struct cmpca_config *cfg, const char *rel);

void config_free(struct cmpca_config *cfg);

#endif
