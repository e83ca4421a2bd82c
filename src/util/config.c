/*
 * config.c: the INI reader and writer behind config.h. The file is small and
 * read once, so the parser favours exact error messages over speed. Global
 * sections are a table of keys; `[profile NAME]` sections are parsed by
 * config_profile.c into cfg->profiles.
 */
#include "util/config.h"
#include "util/config_local.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum kind { K_STR, K_INT, K_SIZE, K_BOOL };

struct key_def {
    const char *section;
    const char *key;
    enum kind kind;
    size_t off;
};

#define OFF(f) offsetof(struct cmpca_config, f)
static const struct key_def keys[] = {
    {"server", "listen", K_STR, OFF(listen)},
    {"server", "threads", K_INT, OFF(threads)},
    {"server", "max_body", K_SIZE, OFF(max_body)},
    {"server", "read_timeout", K_INT, OFF(read_timeout)},
    {"server", "max_connections", K_INT, OFF(max_connections)},
    {"server", "tls_cert", K_STR, OFF(tls_cert)},
    {"server", "tls_key", K_STR, OFF(tls_key)},
    {"server", "tls_client_ca", K_STR, OFF(tls_client_ca)},
    {"store", "db", K_STR, OFF(db)},
    {"ca", "root_cert", K_STR, OFF(root_cert)},
    {"ca", "cert", K_STR, OFF(ca_cert)},
    {"ca", "key", K_STR, OFF(ca_key)},
    {"ca", "crl_name", K_STR, OFF(crl_name)},
    {"ca", "crl_validity", K_INT, OFF(crl_validity)},
    {"ca", "crl_refresh", K_INT, OFF(crl_refresh)},
    {"cmp", "approval_wait", K_INT, OFF(approval_wait)},
    {"cmp", "poll_interval", K_INT, OFF(poll_interval)},
    {"cmp", "max_open_transactions", K_INT, OFF(max_open_txns)},
    {"cmp", "max_open_transactions_per_signer", K_INT,
     OFF(max_open_txns_per_signer)},
    {"ca", "secrets_key", K_STR, OFF(secrets_key)},
    {"mac", "max_iterations", K_INT, OFF(mac_max_iterations)},
    {"mac", "min_iterations", K_INT, OFF(mac_min_iterations)},
    {"mac", "max_salt", K_INT, OFF(mac_max_salt)},
    {"mac", "secret_single_use", K_BOOL, OFF(mac_secret_single_use)},
    {"cmp", "time_skew", K_INT, OFF(time_skew)},
    {"cmp", "transaction_expiry", K_INT, OFF(txn_expiry)},
    {"cmp", "nonce_window", K_INT, OFF(nonce_window)},
    {"cmp", "implicit_confirm", K_BOOL, OFF(implicit_confirm)},
    {"policy", "reenroll", K_BOOL, OFF(reenroll)},
};
#define NUM_KEYS (sizeof(keys) / sizeof(keys[0]))

/* Where the parser is: a global section (by name) or a profile. */
struct parse_state {
    char section[16]; /* "" before the first header and in profiles */
    size_t prof;      /* index into cfg->profiles when in_prof */
    int in_prof;
    int seen_default; /* "3gpp" was defined by [profile] or [profile 3gpp] */
};

int config_parse_bool(const char *v, int *out)
{
    if (strcmp(v, "yes") == 0 || strcmp(v, "true") == 0 || strcmp(v, "1") == 0)
        *out = 1;
    else if (strcmp(v, "no") == 0 || strcmp(v, "false") == 0 ||
             strcmp(v, "0") == 0)
        *out = 0;
    else
        return -1;
    return 0;
}

static int set_value(struct cmpca_config *cfg, const struct key_def *k,
                     const char *v)
{
    char *end = NULL;
    long long n;
    void *field = (char *)cfg + k->off;

    switch (k->kind) {
    case K_STR:
        free(*(char **)field);
        *(char **)field = strdup(v);
        return *(char **)field != NULL ? 0 : -1;
    case K_BOOL:
        return config_parse_bool(v, (int *)field);
    case K_INT:
    case K_SIZE:
        errno = 0;
        n = strtoll(v, &end, 10);
        if (errno != 0 || end == v || *end != '\0' || n < 0 ||
            (k->kind == K_INT && n > 1000000000LL))
            return -1;
        if (k->kind == K_INT)
            *(int *)field = (int)n;
        else
            *(size_t *)field = (size_t)n;
        return 0;
    }
    return -1;
}

/* Copies profile "3gpp" into the deprecated flat fields. */
static int sync_legacy(struct cmpca_config *cfg)
{
    const struct cmpca_profile *p = &cfg->profiles[0];
    char text[CMPCA_MAX_EKU * 64];

    cfg->validity_days = p->validity_days;
    cfg->subject_from_template = p->subject == SUBJECT_FROM_TEMPLATE;
    cfg->num_eku = p->num_eku;
    memcpy(cfg->eku_nids, p->eku_nids, sizeof(cfg->eku_nids));
    config_nids_text(p->eku_nids, p->num_eku, text, sizeof(text));
    free(cfg->eku_text);
    cfg->eku_text = strdup(text);
    return cfg->eku_text != NULL ? 0 : -1;
}

struct cmpca_config *config_defaults(const char *dir)
{
    struct cmpca_config *cfg = calloc(1, sizeof(*cfg));

    if (cfg == NULL)
        return NULL;
    cfg->dir = strdup(dir);
    cfg->listen = strdup("127.0.0.1:8080");
    cfg->threads = 4;
    cfg->max_body = (size_t)64 * 1024;
    cfg->read_timeout = 10;
    cfg->max_connections = 4096;
    cfg->db = strdup("sqlite:cmpca.db");
    cfg->root_cert = strdup("root.pem");
    cfg->ca_cert = strdup("ca.pem");
    cfg->ca_key = strdup("ca.key");
    cfg->crl_name = strdup("ca");
    cfg->crl_validity = 7 * 86400;
    cfg->crl_refresh = 3600;
    cfg->approval_wait = 7 * 86400;
    cfg->poll_interval = 5;
    cfg->max_open_txns = 100000;
    cfg->max_open_txns_per_signer = 16;
    cfg->secrets_key = strdup("secrets.key");
    cfg->mac_max_iterations = 100000;
    cfg->mac_min_iterations = 100;
    cfg->mac_max_salt = 64;
    cfg->mac_secret_single_use = 1;
    cfg->time_skew = 300;
    cfg->txn_expiry = 600;
    cfg->nonce_window = 86400;
    cfg->implicit_confirm = 1;
    cfg->reenroll = 1;
    if (cfg->dir == NULL || cfg->listen == NULL || cfg->db == NULL ||
        cfg->root_cert == NULL || cfg->ca_cert == NULL || cfg->ca_key == NULL ||
        cfg->crl_name == NULL || cfg->secrets_key == NULL ||
        config_profile_add(cfg, CMPCA_PROFILE_DEFAULT) == NULL ||
        sync_legacy(cfg) != 0) {
        config_free(cfg);
        return NULL;
    }
    return cfg;
}

static char *trim(char *s)
{
    char *e;

    while (isspace((unsigned char)*s))
        s++;
    e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1]))
        *--e = '\0';
    return s;
}

static int known_section(const char *name)
{
    for (size_t i = 0; i < NUM_KEYS; i++)
        if (strcmp(keys[i].section, name) == 0)
            return 1;
    return 0;
}

/* Opens profile `name` for the keys that follow; `legacy`: the header was
 * a bare [profile]. A profile may be defined once. */
static int open_profile(struct cmpca_config *cfg, struct parse_state *ps,
                        const char *name, int legacy, char *why, size_t wl)
{
    const struct cmpca_profile *p;

    if (!config_profile_name_ok(name)) {
        snprintf(why, wl,
                 "bad profile name (1..%d of A-Z a-z 0-9 . _ -, "
                 "not only dots)",
                 CMPCA_PROFILE_NAME_MAX);
        return -1;
    }
    p = config_profile(cfg, name);
    if (p == cfg->profiles && !ps->seen_default) {
        ps->seen_default = 1; /* the built-in default, defined at last */
    } else if (p != NULL) {
        snprintf(why, wl, "duplicate profile %s%s", name,
                 legacy ? " ([profile] is [profile 3gpp])" : "");
        return -1;
    } else if ((p = config_profile_add(cfg, name)) == NULL) {
        snprintf(why, wl, "out of memory");
        return -1;
    }
    ps->prof = (size_t)(p - cfg->profiles);
    ps->in_prof = 1;
    ps->section[0] = '\0';
    return 0;
}

/* `s` starts with '['. Accepts [name] for a global section, [profile] and
 * [profile NAME]. */
static int parse_section(struct cmpca_config *cfg, char *s,
                         struct parse_state *ps, char *why, size_t wl)
{
    char *e = strchr(s, ']'), *name;

    if (e == NULL || e[1] != '\0') {
        snprintf(why, wl, "bad section header");
        return -1;
    }
    *e = '\0';
    name = trim(s + 1);
    if (strncmp(name, "profile", 7) == 0 &&
        (name[7] == '\0' || isspace((unsigned char)name[7]))) {
        if (name[7] == '\0')
            return open_profile(cfg, ps, CMPCA_PROFILE_DEFAULT, 1, why, wl);
        return open_profile(cfg, ps, trim(name + 7), 0, why, wl);
    }
    if (!known_section(name)) {
        snprintf(why, wl, "unknown section [%.64s]", name);
        return -1;
    }
    ps->in_prof = 0;
    snprintf(ps->section, sizeof(ps->section), "%s", name);
    return 0;
}

static int parse_global_key(struct cmpca_config *cfg, const char *section,
                            const char *k, const char *v, char *why, size_t wl)
{
    for (size_t i = 0; i < NUM_KEYS; i++) {
        if (strcmp(keys[i].section, section) == 0 &&
            strcmp(keys[i].key, k) == 0) {
            if (set_value(cfg, &keys[i], v) == 0)
                return 0;
            snprintf(why, wl, "invalid value for %s", k);
            return -1;
        }
    }
    if (section[0] == '\0')
        snprintf(why, wl, "key %.64s outside any section", k);
    else
        snprintf(why, wl, "unknown key %.64s in [%s]", k, section);
    return -1;
}

static int parse_line(struct cmpca_config *cfg, char *line,
                      struct parse_state *ps, char *why, size_t wl)
{
    char *s = trim(line), *eq, *k, *v;

    if (*s == '\0' || *s == '#' || *s == ';')
        return 0;
    if (*s == '[')
        return parse_section(cfg, s, ps, why, wl);
    if ((eq = strchr(s, '=')) == NULL) {
        snprintf(why, wl, "expected key = value");
        return -1;
    }
    *eq = '\0';
    k = trim(s);
    v = trim(eq + 1);
    if (ps->in_prof)
        return config_profile_set(&cfg->profiles[ps->prof], k, v, why, wl);
    return parse_global_key(cfg, ps->section, k, v, why, wl);
}

/* Reads `f` line by line into cfg; fills errbuf on failure. */
static int parse_file(struct cmpca_config *cfg, FILE *f, const char *path,
                      char *errbuf, size_t errlen)
{
    struct parse_state ps;
    char line[1024], why[256];
    int lineno = 0;

    memset(&ps, 0, sizeof(ps));
    while (fgets(line, sizeof(line), f) != NULL) {
        lineno++;
        if (strchr(line, '\n') == NULL && !feof(f)) {
            snprintf(errbuf, errlen, "%s:%d: line too long", path, lineno);
            return -1;
        }
        if (parse_line(cfg, line, &ps, why, sizeof(why)) != 0) {
            snprintf(errbuf, errlen, "%s:%d: %s", path, lineno, why);
            return -1;
        }
    }
    if (ferror(f)) {
        snprintf(errbuf, errlen, "%s: read error", path);
        return -1;
    }
    return 0;
}

int config_load(const char *dir, struct cmpca_config **out, char *errbuf,
                size_t errlen)
{
    struct cmpca_config *cfg = config_defaults(dir);
    char *path = NULL;
    FILE *f = NULL;
    int rc = -1;

    *out = NULL;
    if (cfg == NULL || (path = config_path(cfg, CMPCA_CONF_FILE)) == NULL) {
        snprintf(errbuf, errlen, "out of memory");
        goto done;
    }
    if ((f = fopen(path, "r")) == NULL) {
        snprintf(errbuf, errlen, "%s: %s", path, strerror(errno));
        goto done;
    }
    if (parse_file(cfg, f, path, errbuf, errlen) != 0)
        goto done;
    if (cfg->threads < 1 || cfg->threads > 1024 || cfg->max_body < 1024) {
        snprintf(errbuf, errlen,
                 "%s: threads must be 1..1024, max_body >= 1024", path);
        goto done;
    }
    /* the CRL name is a URL path segment and a store key: same rule as a
     * profile name */
    if (!config_profile_name_ok(cfg->crl_name) || cfg->crl_validity < 1 ||
        cfg->crl_refresh < 1 || cfg->crl_refresh > cfg->crl_validity ||
        cfg->poll_interval < 1 || cfg->approval_wait < 1 ||
        cfg->max_open_txns < 1 || cfg->max_open_txns_per_signer < 1 ||
        cfg->mac_min_iterations < 1 ||
        cfg->mac_max_iterations < cfg->mac_min_iterations ||
        cfg->mac_max_salt < 8) {
        snprintf(errbuf, errlen,
                 "%s: crl_name must be 1..64 of [A-Za-z0-9._-], "
                 "crl_validity >= 1, 1 <= crl_refresh <= crl_validity, "
                 "poll_interval, approval_wait, max_open_transactions* >= 1, "
                 "1 <= [mac] min_iterations <= max_iterations, max_salt >= 8",
                 path);
        goto done;
    }
    if (sync_legacy(cfg) != 0) {
        snprintf(errbuf, errlen, "out of memory");
        goto done;
    }
    *out = cfg;
    cfg = NULL;
    rc = 0;
done:
    if (f != NULL)
        fclose(f);
    free(path);
    config_free(cfg);
    return rc;
}

static void write_globals(FILE *f, const struct cmpca_config *cfg)
{
    fprintf(f,
            "# cmpca configuration. Paths are relative to this directory.\n"
            "[server]\nlisten = %s\nthreads = %d\nmax_body = %zu\n"
            "read_timeout = %d\nmax_connections = %d\n\n"
            "[store]\ndb = %s\n\n"
            "[ca]\nroot_cert = %s\ncert = %s\nkey = %s\n"
            "# the CRL is served at /crl/<crl_name>.crl\ncrl_name = %s\n"
            "# seconds from thisUpdate to nextUpdate, and between"
            " regenerations\ncrl_validity = %d\ncrl_refresh = %d\n"
            "# key sealing the devices' shared secrets (MAC protection)\n"
            "secrets_key = %s\n\n"
            "[cmp]\n# seconds messageTime may be off\ntime_skew = %d\n"
            "# seconds an issued certificate waits for certConf\n"
            "transaction_expiry = %d\nnonce_window = %d\n"
            "# seconds a request held for manual approval waits, and the"
            " checkAfter\n# told to polling clients\napproval_wait = %d\n"
            "poll_interval = %d\n"
            "# open transactions (waiting for certConf or an operator):"
            " in all, and\n# per signing certificate (RAs exempt)\n"
            "max_open_transactions = %d\n"
            "max_open_transactions_per_signer = %d\n"
            "# no: never grant implicitConfirm, whatever a profile says\n"
            "implicit_confirm = %s\n\n"
            "[policy]\n# yes: a device may repeat initial enrollment with its"
            " vendor certificate\nreenroll = %s\n\n"
            "[mac]\n# limits on PasswordBasedMac/PBMAC1 parameters of requests\n"
            "max_iterations = %d\nmin_iterations = %d\nmax_salt = %d\n"
            "# yes: a device's shared secret is good for one initial"
            " enrollment\nsecret_single_use = %s\n",
            cfg->listen, cfg->threads, cfg->max_body, cfg->read_timeout,
            cfg->max_connections, cfg->db, cfg->root_cert, cfg->ca_cert,
            cfg->ca_key, cfg->crl_name, cfg->crl_validity, cfg->crl_refresh,
            cfg->secrets_key,
            cfg->time_skew, cfg->txn_expiry, cfg->nonce_window,
            cfg->approval_wait, cfg->poll_interval, cfg->max_open_txns,
            cfg->max_open_txns_per_signer,
            cfg->implicit_confirm ? "yes" : "no", cfg->reenroll ? "yes" : "no",
            cfg->mac_max_iterations, cfg->mac_min_iterations, cfg->mac_max_salt,
            cfg->mac_secret_single_use ? "yes" : "no");
}

int config_write(const struct cmpca_config *cfg)
{
    char *path = config_path(cfg, CMPCA_CONF_FILE);
    FILE *f = NULL;
    int fd, rc = -1;

    if (path == NULL)
        return -1;
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0640);
    if (fd < 0 || (f = fdopen(fd, "w")) == NULL) {
        if (fd >= 0)
            close(fd);
        goto done;
    }
    write_globals(f, cfg);
    for (size_t i = 0; i < cfg->num_profiles; i++)
        config_profile_write(f, &cfg->profiles[i]);
    rc = !ferror(f) && fflush(f) == 0 && fsync(fileno(f)) == 0 ? 0 : -1;
done:
    if (f != NULL && fclose(f) != 0)
        rc = -1;
    free(path);
    return rc;
}

char *config_path(const struct cmpca_config *cfg, const char *rel)
{
    size_t n;
    char *p;

    if (rel[0] == '/')
        return strdup(rel);
    n = strlen(cfg->dir) + strlen(rel) + 2;
    if ((p = malloc(n)) != NULL)
        snprintf(p, n, "%s/%s", cfg->dir, rel);
    return p;
}

void config_free(struct cmpca_config *cfg)
{
    if (cfg == NULL)
        return;
    free(cfg->dir);
    free(cfg->listen);
    free(cfg->tls_cert);
    free(cfg->tls_key);
    free(cfg->tls_client_ca);
    free(cfg->db);
    free(cfg->root_cert);
    free(cfg->ca_cert);
    free(cfg->ca_key);
    free(cfg->eku_text);
    free(cfg->crl_name);
    free(cfg->secrets_key);
    for (size_t i = 0; i < cfg->num_profiles; i++) {
        free(cfg->profiles[i].name);
        free(cfg->profiles[i].crl_url);
    }
    free(cfg->profiles);
    free(cfg);
}

const struct cmpca_profile *config_profile(const struct cmpca_config *cfg,
                                           const char *name)
{
    for (size_t i = 0; i < cfg->num_profiles; i++)
        if (name == NULL ? i == 0 : strcmp(cfg->profiles[i].name, name) == 0)
            return &cfg->profiles[i];
    return NULL;
}
