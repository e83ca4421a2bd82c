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

/* A certificate profile: what may be issued on /.well-known/cmp/p/<name>.
 * The default profile is "3gpp" (also used without /p/<name>). Each
 * `[profile NAME]` section of cmpca.conf defines one; the legacy `[profile]`
 * section is profile "3gpp". docs/config.md describes every key. */
#define CMPCA_PROFILE_DEFAULT  "3gpp"
#define CMPCA_PROFILE_NAME_MAX 64 /* [A-Za-z0-9._-], not only dots */
#define PROFILE_MAX_RDNS       16
enum profile_key_bits {
    PROFILE_KEY_EC_P256 = 1 << 0,
    PROFILE_KEY_EC_P384 = 1 << 1,
    PROFILE_KEY_EC_P521 = 1 << 2,
    PROFILE_KEY_RSA2048 = 1 << 3, /* RSA of 2048 bits or more */
    PROFILE_KEY_RSA3072 = 1 << 4, /* RSA of 3072 bits or more */
    PROFILE_KEY_ED25519 = 1 << 5,
    PROFILE_KEY_ED448 = 1 << 6
};
enum profile_subject { SUBJECT_FROM_DEVICE = 0, SUBJECT_FROM_TEMPLATE = 1 };
enum profile_san { SAN_NONE = 0, SAN_FROM_TEMPLATE = 1 };

struct cmpca_profile {
    char *name;
    int validity_days;     /* lifetime of issued certificates, 1..36500 */
    int clamp;             /* 1: shorten an over-long requested validity or
                              drop a forbidden RDN/extension and answer
                              grantedWithMods; 0: reject badCertTemplate */
    int subject;           /* enum profile_subject */
    int allowed_rdns[PROFILE_MAX_RDNS]; /* NIDs allowed in a template
                                           subject; none listed: any */
    int num_allowed_rdns;
    int san;               /* enum profile_san */
    int key_types;         /* PROFILE_KEY_* bits allowed, never 0 */
    int key_usage;         /* KU_* bits; 0: the RFC 8813 default */
    int num_eku;
    int eku_nids[CMPCA_MAX_EKU];
    char *crl_url;         /* CRL distribution point, NULL: none */
    int implicit_confirm;  /* may grant implicitConfirm (and [cmp] too) */
    int renewal_by_ir;     /* an ir signed by an operator cert renews */
    int kur_key_reuse;     /* a kur may keep the old key */
};

struct cmpca_config {
    char *dir;             /* data directory; other paths are relative to it */
    /* [server] */
    char *listen;          /* "127.0.0.1:8080" */
    int threads;           /* worker threads */
    size_t max_body;       /* bytes; larger request bodies get HTTP 413 */
    int read_timeout;      /* seconds a connection may stay idle */
    int max_connections;   /* simultaneous HTTP connections */
    char *tls_cert;        /* HTTPS certificate (and chain), PEM; NULL: HTTP */
    char *tls_key;         /* its private key, PEM */
    char *tls_client_ca;   /* CAs of required client certificates, or NULL */
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
    /* these three are read from [ca] */
    char *crl_name;        /* served at /crl/<crl_name>.crl */
    int crl_validity;      /* seconds from thisUpdate to nextUpdate */
    int crl_refresh;       /* seconds between scheduled CRL regenerations */
    int approval_wait;     /* seconds a request waits for an operator */
    int poll_interval;     /* checkAfter in pollRep and "waiting" answers */
    int max_open_txns;     /* open transactions in all (systemUnavail) */
    int max_open_txns_per_signer; /* per signing credential; RAs exempt */
    char *secrets_key;     /* [ca] key file sealing the shared secrets */
    /* [mac] limits on MAC-protected messages (RFC 9481 6.1), checked before
     * any key derivation so an oversized request costs nothing */
    int mac_max_iterations; /* PBM iterationCount, PBKDF2 iterationCount */
    int mac_min_iterations;
    int mac_max_salt;       /* bytes */
    int mac_secret_single_use; /* a device secret enrolls once */
    /* [policy] */
    int reenroll;          /* 1: an enrolled device may repeat the ir with its
                              vendor certificate (factory reset) */
    /* DEPRECATED: copies of profile "3gpp" (profiles[0]) made by
     * config_load and config_defaults for callers written before profiles;
     * use config_profile() instead. Changing them changes nothing else
     * (config_write writes the profiles). */
    int validity_days;         /* profiles[0].validity_days */
    int subject_from_template; /* profiles[0].subject == template */
    int num_eku;               /* profiles[0].num_eku */
    int eku_nids[CMPCA_MAX_EKU];
    char *eku_text;            /* profiles[0]'s EKUs as short names */
    /* [profile NAME] sections in file order, except that profiles[0] is
     * always "3gpp" (with defaults when the file does not define it) */
    struct cmpca_profile *profiles;
    size_t num_profiles;
};

/* config_profile finds profile `name` (NULL: the default "3gpp"); NULL when
 * there is no such profile. Borrowed from cfg. */
const struct cmpca_profile *config_profile(const struct cmpca_config *cfg,
                                           const char *name);

/* config_load reads DIR/cmpca.conf (missing keys take defaults). On success
 * *out is new, free with config_free(). Returns -1 with a message in `errbuf`
 * (file:line: reason) on failure: unknown section or key, bad value,
 * duplicate profile. */
int config_load(const char *dir, struct cmpca_config **out, char *errbuf,
                size_t errlen);

/* config_defaults returns a new config for `dir` holding only defaults
 * (one profile, "3gpp"). NULL on allocation failure. */
struct cmpca_config *config_defaults(const char *dir);

/* config_write writes `cfg` to DIR/cmpca.conf, refusing to overwrite an
 * existing file: every section, every profile as `[profile NAME]` with all
 * its keys and a comment per key. config_load reads back the same values.
 * Returns 0 or -1 with errno set. */
int config_write(const struct cmpca_config *cfg);

/* config_path joins cfg->dir and `rel` (kept as is when absolute) into a new
 * string the caller frees. NULL on allocation failure. */
char *config_path(const struct cmpca_config *cfg, const char *rel);

void config_free(struct cmpca_config *cfg);

#endif
