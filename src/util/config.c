/*
 * config.c: the INI reader and writer behind config.h. The file is small and
 * read once, so the parser favours exact error messages over speed.
 */
#include "util/config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/objects.h>

enum kind { K_STR, K_INT, K_SIZE, K_BOOL, K_EKU };

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
    {"store", "db", K_STR, OFF(db)},
    {"ca", "root_cert", K_STR, OFF(root_cert)},
    {"ca", "cert", K_STR, OFF(ca_cert)},
    {"ca", "key", K_STR, OFF(ca_key)},
    {"ca", "crl_name", K_STR, OFF(crl_name)},
    {"ca", "crl_validity", K_INT, OFF(crl_validity)},
    {"ca", "crl_refresh", K_INT, OFF(crl_refresh)},
    {"cmp", "approval_wait", K_INT, OFF(approval_wait)},
    {"cmp", "poll_interval", K_INT, OFF(poll_interval)},
    {"cmp", "time_skew", K_INT, OFF(time_skew)},
    {"cmp", "transaction_expiry", K_INT, OFF(txn_expiry)},
    {"cmp", "nonce_window", K_INT, OFF(nonce_window)},
    {"cmp", "implicit_confirm", K_BOOL, OFF(implicit_confirm)},
    {"policy", "reenroll", K_BOOL, OFF(reenroll)},
    {"profile", "validity_days", K_INT, OFF(validity_days)},
    {"profile", "subject_from_template", K_BOOL, OFF(subject_from_template)},
    {"profile", "extended_key_usage", K_EKU, OFF(eku_text)},
};
#define NUM_KEYS (sizeof(keys) / sizeof(keys[0]))

static int set_eku(struct cmpca_config *cfg, const char *v)
{
    char *copy = strdup(v), *save = NULL, *tok;
    int nid, rc = 0;

    if (copy == NULL)
        return -1;
    cfg->num_eku = 0;
    for (tok = strtok_r(copy, ", ", &save); tok != NULL;
         tok = strtok_r(NULL, ", ", &save)) {
        nid = OBJ_txt2nid(tok);
        if (nid == NID_undef || cfg->num_eku >= CMPCA_MAX_EKU) {
            rc = -1;
            break;
        }
        cfg->eku_nids[cfg->num_eku++] = nid;
    }
    free(copy);
    if (rc == 0) {
        free(cfg->eku_text);
        cfg->eku_text = strdup(v);
        rc = cfg->eku_text != NULL ? 0 : -1;
    }
    return rc;
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
        if (strcmp(v, "yes") == 0 || strcmp(v, "true") == 0 ||
            strcmp(v, "1") == 0)
            *(int *)field = 1;
        else if (strcmp(v, "no") == 0 || strcmp(v, "false") == 0 ||
                 strcmp(v, "0") == 0)
            *(int *)field = 0;
        else
            return -1;
        return 0;
    case K_EKU:
        return set_eku(cfg, v);
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

struct cmpca_config *config_defaults(const char *dir)
{
    struct cmpca_config *cfg = calloc(1, sizeof(*cfg));

    if (cfg == NULL)
        return NULL;
    cfg->dir = strdup(dir);
    cfg->listen = strdup("127.0.0.1:8080");
    cfg->threads = 4;
    cfg->max_body = 256 * 1024;
    cfg->read_timeout = 10;
    cfg->max_connections = 512;
    cfg->db = strdup("sqlite:cmpca.db");
    cfg->root_cert = strdup("root.pem");
    cfg->ca_cert = strdup("ca.pem");
    cfg->ca_key = strdup("ca.key");
    cfg->crl_name = strdup("ca");
    cfg->crl_validity = 7 * 86400;
    cfg->crl_refresh = 3600;
    cfg->approval_wait = 7 * 86400;
    cfg->poll_interval = 5;
    cfg->time_skew = 300;
    cfg->txn_expiry = 600;
    cfg->nonce_window = 86400;
    cfg->implicit_confirm = 1;
    cfg->reenroll = 1;
    cfg->validity_days = 365;
    cfg->subject_from_template = 0;
    if (cfg->dir == NULL || cfg->listen == NULL || cfg->db == NULL ||
        cfg->root_cert == NULL || cfg->ca_cert == NULL || cfg->ca_key == NULL ||
        cfg->crl_name == NULL ||
        set_eku(cfg, "serverAuth, clientAuth") != 0) {
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

static int parse_line(struct cmpca_config *cfg, char *line, char *section,
                      size_t seclen, const char **why)
{
    char *s = trim(line), *eq, *k, *v;
    size_t i;

    if (*s == '\0' || *s == '#' || *s == ';')
        return 0;
    if (*s == '[') {
        char *e = strchr(s, ']');
        if (e == NULL || e[1] != '\0' || (size_t)(e - s) >= seclen) {
            *why = "bad section header";
            return -1;
        }
        *e = '\0';
        snprintf(section, seclen, "%s", trim(s + 1));
        return 0;
    }
    if ((eq = strchr(s, '=')) == NULL) {
        *why = "expected key = value";
        return -1;
    }
    *eq = '\0';
    k = trim(s);
    v = trim(eq + 1);
    for (i = 0; i < NUM_KEYS; i++) {
        if (strcmp(keys[i].section, section) == 0 &&
            strcmp(keys[i].key, k) == 0) {
            if (set_value(cfg, &keys[i], v) != 0) {
                *why = "invalid value";
                return -1;
            }
            return 0;
        }
    }
    *why = "unknown key";
    return -1;
}

int config_load(const char *dir, struct cmpca_config **out, char *errbuf,
                size_t errlen)
{
    struct cmpca_config *cfg = config_defaults(dir);
    char *path = NULL, line[1024], section[64] = "";
    const char *why = NULL;
    FILE *f = NULL;
    int lineno = 0, rc = -1;

    *out = NULL;
    if (cfg == NULL || (path = config_path(cfg, CMPCA_CONF_FILE)) == NULL) {
        snprintf(errbuf, errlen, "out of memory");
        goto done;
    }
    if ((f = fopen(path, "r")) == NULL) {
        snprintf(errbuf, errlen, "%s: %s", path, strerror(errno));
        goto done;
    }
    while (fgets(line, sizeof(line), f) != NULL) {
        lineno++;
        if (strchr(line, '\n') == NULL && !feof(f)) {
            snprintf(errbuf, errlen, "%s:%d: line too long", path, lineno);
            goto done;
        }
        if (parse_line(cfg, line, section, sizeof(section), &why) != 0) {
            snprintf(errbuf, errlen, "%s:%d: %s", path, lineno, why);
            goto done;
        }
    }
    if (cfg->threads < 1 || cfg->threads > 1024 || cfg->max_body < 1024) {
        snprintf(errbuf, errlen, "%s: threads must be 1..1024, max_body >= 1024",
                 path);
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
    fprintf(f,
            "# cmpca configuration. Paths are relative to this directory.\n"
            "[server]\nlisten = %s\nthreads = %d\nmax_body = %zu\n"
            "read_timeout = %d\nmax_connections = %d\n\n"
            "[store]\ndb = %s\n\n"
            "[ca]\nroot_cert = %s\ncert = %s\nkey = %s\n"
            "# the CRL is served at /crl/<crl_name>.crl\ncrl_name = %s\n"
            "# seconds from thisUpdate to nextUpdate, and between"
            " regenerations\ncrl_validity = %d\ncrl_refresh = %d\n\n"
            "[cmp]\n# seconds messageTime may be off\ntime_skew = %d\n"
            "# seconds an issued certificate waits for certConf\n"
            "transaction_expiry = %d\nnonce_window = %d\n"
            "# seconds a request held for manual approval waits, and the"
            " checkAfter\n# told to polling clients\napproval_wait = %d\n"
            "poll_interval = %d\n"
            "implicit_confirm = %s\n\n"
            "[policy]\n# yes: a device may repeat initial enrollment with its"
            " vendor certificate\nreenroll = %s\n\n"
            "[profile]\nvalidity_days = %d\n"
            "# yes: use the subject the device asks for\n"
            "subject_from_template = %s\nextended_key_usage = %s\n",
            cfg->listen, cfg->threads, cfg->max_body, cfg->read_timeout,
            cfg->max_connections, cfg->db, cfg->root_cert, cfg->ca_cert,
            cfg->ca_key, cfg->crl_name, cfg->crl_validity, cfg->crl_refresh,
            cfg->time_skew, cfg->txn_expiry, cfg->nonce_window,
            cfg->approval_wait, cfg->poll_interval,
            cfg->implicit_confirm ? "yes" : "no", cfg->reenroll ? "yes" : "no",
            cfg->validity_days,
            cfg->subject_from_template ? "yes" : "no",
            cfg->eku_text != NULL ? cfg->eku_text : "");
    rc = fflush(f) == 0 && fsync(fileno(f)) == 0 ? 0 : -1;
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
    free(cfg->db);
    free(cfg->root_cert);
    free(cfg->ca_cert);
    free(cfg->ca_key);
    free(cfg->eku_text);
    free(cfg->crl_name);
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
