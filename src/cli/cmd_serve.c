/*
 * cmd_serve.c: `cmpca serve` wires the rooms together (config -> store ->
 * ca -> cmp engine -> transport) and then lets the main thread do nothing
 * but wait for signals. The signals are blocked before any thread exists, so
 * every worker inherits the mask and only sigtimedwait() here ever sees
 * SIGTERM/SIGINT/SIGHUP: no async-signal-safety puzzles, and a clean shutdown
 * in which requests already in progress are answered.
 *
 * The CRL is served from the store, where every publisher (this server on
 * its timer, `cmpca crl` and `cmpca cert revoke` from the command line)
 * saves the newest one. The main thread republishes when the current CRL
 * is crl_refresh old or within crl_refresh of its nextUpdate; the decision
 * is made from the stored CRL alone, so a CLI revocation (which publishes)
 * resets the timer and a restart picks up where the last run left off.
 *
 * HTTPS: the TLS files are read here and handed to the transport as PEM
 * text. The open-file limit is raised here too, before the transport
 * starts, because every connection the transport may hold is a descriptor
 * and the usual soft limit of 1024 is below the default max_connections.
 */
#include "cli/cli.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include <openssl/crypto.h>

#include "ca/ca.h"
#include "cmp/cmp.h"
#include "transport/transport.h"
#include "util/log.h"

#define HOUSEKEEPING_SECONDS 30
#define PEM_FILE_MAX         (1024 * 1024) /* bytes of one TLS file */
#define FD_RESERVE           64 /* descriptors beside the connections */

static const char serve_usage[] =
    "usage: cmpca serve [--dir DIR] [--listen ADDR:PORT] [--threads N]\n"
    "                   [--tls-cert FILE --tls-key FILE [--tls-client-ca "
    "FILE]]\n"
    "                   [--log-level error|warn|info|debug] [--demo]\n"
    "\n"
    "Serves CMP over HTTP at http://ADDR:PORT/.well-known/cmp (https:// with\n"
    "--tls-cert) until SIGTERM or SIGINT. Prints \"cmpca: listening on URL\"\n"
    "on stdout once listening.\n"
    "\n"
    "  --listen ADDR:PORT   address to bind (default from cmpca.conf; port 0\n"
    "                       picks a free port)\n"
    "  --threads N          worker threads (default from cmpca.conf)\n"
    "  --tls-cert FILE      serve HTTPS (TLS 1.2 and 1.3 only) with this PEM\n"
    "                       certificate, optionally followed by its chain\n"
    "  --tls-key FILE       the certificate's unencrypted PEM private key\n"
    "  --tls-client-ca FILE require client certificates issued by these PEM\n"
    "                       CAs (default: none asked for)\n"
    "  --log-level LEVEL    error, warn, info (default) or debug\n"
    "  --demo               create the CA (if missing) and a demo vendor PKI\n"
    "                       under DIR/demo, then print the openssl cmp "
    "command\n"
    "                       that enrolls the demo device\n";

struct serve_opts {
    const char *listen;
    const char *tls_cert; /* NULL: from the config; relative to the cwd */
    const char *tls_key;
    const char *tls_ca;
    int threads; /* 0: from the config */
    int log_level;
    int demo;
};

struct server {
    struct cmpca_config *cfg;
    struct store *st;
    struct ca *ca;
    struct cmp_srv *srv;
    struct transport *tp;
    pthread_mutex_t crl_lock; /* one CRL publisher of this process at once */
};

/* transport handler: one CMP request on a worker thread. */
static int handle(void *arg, const struct transport_req *req,
                  struct transport_rsp *rsp)
{
    struct server *s = arg;
    uint8_t *out = NULL;
    size_t out_len = 0;
    int status = 500;

    if (cmp_srv_handle(s->srv, req->profile, req->operation, req->body,
                       req->body_len, &out, &out_len, &status) != 0) {
        free(out);
        return -1;
    }
    rsp->status = status;
    rsp->body = out;
    rsp->body_len = out_len;
    rsp->content_type = out != NULL ? NULL : "text/plain";
    return 0;
}

static int profile_ok(void *arg, const char *profile)
{
    const struct server *s = arg;

    return cmp_srv_profile_known(s->srv, profile);
}

/* crl_due: the stored CRL `crl` should be replaced at `now`. */
static int crl_due(const struct cmpca_config *cfg, const struct store_crl *crl,
                   time_t now)
{
    time_t refresh = cfg->crl_refresh > 0 ? cfg->crl_refresh : 1;

    return now - crl->this_update >= refresh ||
           crl->next_update - now < refresh ||
           crl->this_update - now > refresh; /* the clock went back */
}

/* crl_refresh publishes a new CRL when there is none, the current one has
 * expired, or (with `if_due`) it is due. crl_lock is held throughout, so
 * the worker threads and the main thread never sign two at once. Returns
 * 0, or -1 when a needed CRL could not be made. */
static int crl_refresh(struct server *s, int if_due)
{
    struct cmpca_err err = CMPCA_ERR_INIT;
    struct store_crl cur = {0};
    X509_CRL *crl = NULL;
    time_t now = time(NULL);
    int rc, ret = 0;

    pthread_mutex_lock(&s->crl_lock);
    rc = store_crl_get(s->st, s->cfg->crl_name, &cur, &err);
    if (rc != 0 && rc != STORE_NOTFOUND) {
        log_warn("crl: %s", err.msg);
        ret = -1;
    } else if (rc == STORE_NOTFOUND || cur.next_update <= now ||
               (if_due && crl_due(s->cfg, &cur, now))) {
        if (ca_crl_publish(s->ca, s->st, s->cfg->crl_name, s->cfg->crl_validity,
                           &crl, &err) != 0) {
            log_warn("crl: cannot publish: %s", err.msg);
            ret = -1;
        } else {
            log_info("crl: published %s with %d entries, valid for %d s",
                     s->cfg->crl_name,
                     X509_CRL_get_REVOKED(crl) != NULL
                         ? sk_X509_REVOKED_num(X509_CRL_get_REVOKED(crl))
                         : 0,
                     s->cfg->crl_validity);
        }
    }
    pthread_mutex_unlock(&s->crl_lock);
    X509_CRL_free(crl);
    store_crl_clear(&cur);
    return ret;
}

/* transport CRL callback: /crl/<crl_name>.crl, on a worker thread. When
 * there is no CRL yet, or the timer could not keep it fresh, one is made
 * now; if that fails an expired CRL is still served (max-age 0): it lists
 * every revocation up to its thisUpdate, which beats a 500. */
static int get_crl(void *arg, const char *name, struct transport_rsp *rsp)
{
    struct cmpca_err err = CMPCA_ERR_INIT;
    struct server *s = arg;
    struct store_crl cur = {0}, fresh = {0};
    int rc;

    if (strcmp(name, s->cfg->crl_name) != 0) {
        rsp->status = 404;
        return 0;
    }
    rc = store_crl_get(s->st, name, &cur, &err);
    if (rc == STORE_NOTFOUND || (rc == 0 && cur.next_update <= time(NULL))) {
        if (crl_refresh(s, 0) == 0 &&
            store_crl_get(s->st, name, &fresh, &err) == 0) {
            store_crl_clear(&cur);
            cur = fresh; /* cur owns the DER from here */
            rc = 0;
        }
    }
    if (rc != 0) {
        if (rc != STORE_NOTFOUND)
            log_warn("crl: %s", err.msg);
        store_crl_clear(&cur);
        return -1;
    }
    rsp->status = 200;
    rsp->body = cur.der; /* the transport frees it */
    rsp->body_len = cur.der_len;
    rsp->last_modified = cur.this_update;
    rsp->expires = cur.next_update;
    return 0;
}

static int parse_serve_opts(struct cli_ctx *ctx, struct serve_opts *o, int argc,
                            char **argv)
{
    static const struct option longopts[] = {
        CLI_COMMON_LONGOPTS,
        {"listen", required_argument, NULL, 'l'},
        {"threads", required_argument, NULL, 't'},
        {"log-level", required_argument, NULL, 'L'},
        {"demo", no_argument, NULL, 'D'},
        {"tls-cert", required_argument, NULL, 'C'},
        {"tls-key", required_argument, NULL, 'K'},
        {"tls-client-ca", required_argument, NULL, 'A'},
        {NULL, 0, NULL, 0},
    };
    char *end = NULL;
    long n;
    int c;

    opterr = 0;
    while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        switch (c) {
        case 'd':
            ctx->dir = optarg;
            break;
        case 'h':
            return cli_help(serve_usage);
        case 'l':
            o->listen = optarg;
            break;
        case 't':
            n = strtol(optarg, &end, 10);
            if (end == optarg || *end != '\0' || n < 1 || n > 1024)
                return cli_usage_error("serve", serve_usage,
                                       "--threads must be 1..1024");
            o->threads = (int)n;
            break;
        case 'L':
            if ((o->log_level = log_level_from_name(optarg)) < 0)
                return cli_usage_error("serve", serve_usage,
                                       "unknown log level %s", optarg);
            break;
        case 'D':
            o->demo = 1;
            break;
        case 'C':
            o->tls_cert = optarg;
            break;
        case 'K':
            o->tls_key = optarg;
            break;
        case 'A':
            o->tls_ca = optarg;
            break;
        default:
            return cli_getopt_error("serve", serve_usage, c, argv);
        }
    }
    if (optind < argc)
        return cli_usage_error("serve", serve_usage, "unexpected argument %s",
                               argv[optind]);
    if ((o->tls_cert != NULL) != (o->tls_key != NULL))
        return cli_usage_error("serve", serve_usage,
                               "--tls-cert and --tls-key go together");
    if (o->tls_ca != NULL && o->tls_cert == NULL)
        return cli_usage_error("serve", serve_usage,
                               "--tls-client-ca needs --tls-cert");
    return -1;
}

/* set_tls_path replaces the config path *field (relative to the data
 * directory) by the command-line path `arg` (relative to the working
 * directory) when one was given. */
static int set_tls_path(char **field, const char *arg)
{
    char *p;

    if (arg == NULL)
        return 0;
    if ((p = cli_abspath(arg)) == NULL)
        return -1;
    free(*field);
    *field = p;
    return 0;
}

/* Loads config (with command-line overrides), store, CA and engine. */
static int server_open(const char *dir, const struct serve_opts *o,
                       struct server *s)
{
    struct cmpca_err err = CMPCA_ERR_INIT;
    char *root = NULL, *cert = NULL, *key = NULL;
    int rc = CLI_FAIL;

    if (cli_load_config(dir, &s->cfg) != CLI_OK)
        return CLI_FAIL;
    if (o->listen != NULL) {
        free(s->cfg->listen);
        if ((s->cfg->listen = strdup(o->listen)) == NULL)
            return cli_fail("serve", "out of memory");
    }
    if (o->threads > 0)
        s->cfg->threads = o->threads;
    if (set_tls_path(&s->cfg->tls_cert, o->tls_cert) != 0 ||
        set_tls_path(&s->cfg->tls_key, o->tls_key) != 0 ||
        set_tls_path(&s->cfg->tls_client_ca, o->tls_ca) != 0)
        return cli_fail("serve", "out of memory");
    if ((s->cfg->tls_cert == NULL) != (s->cfg->tls_key == NULL) ||
        (s->cfg->tls_client_ca != NULL && s->cfg->tls_cert == NULL))
        return cli_fail("serve", "[server] tls_cert and tls_key go together, "
                                 "and tls_client_ca needs both");
    if (cli_open_store(s->cfg, &s->st) != CLI_OK)
        return CLI_FAIL;
    if (o->demo && demo_prepare(s->cfg, s->st) != CLI_OK)
        return CLI_FAIL;
    root = config_path(s->cfg, s->cfg->root_cert);
    cert = config_path(s->cfg, s->cfg->ca_cert);
    key = config_path(s->cfg, s->cfg->ca_key);
    if (root == NULL || cert == NULL || key == NULL) {
        cli_fail("serve", "out of memory");
        goto done;
    }
    if (ca_load(root, cert, key, &s->ca, &err) != 0) {
        cli_fail("serve", "cannot load the CA: %s", err.msg);
        goto done;
    }
    if (cmp_srv_new(s->cfg, s->ca, s->st, &s->srv, &err) != 0) {
        cli_fail("serve", "%s", err.msg);
        goto done;
    }
    rc = CLI_OK;
done:
    free(root);
    free(cert);
    free(key);
    return rc;
}

static void server_close(struct server *s)
{
    transport_stop(s->tp);
    cmp_srv_free(s->srv);
    ca_free(s->ca);
    store_close(s->st);
    config_free(s->cfg);
}

/* read_pem reads config path `rel` (NULL: nothing to read, *out NULL)
 * into a new NUL-terminated string, refusing files over PEM_FILE_MAX or
 * without a PEM header. Prints why and returns CLI_FAIL on failure. */
static int read_pem(const struct cmpca_config *cfg, const char *rel, char **out)
{
    char *path = NULL, *buf = NULL;
    FILE *f = NULL;
    size_t n;
    int rc = CLI_FAIL;

    *out = NULL;
    if (rel == NULL)
        return CLI_OK;
    if ((path = config_path(cfg, rel)) == NULL ||
        (buf = malloc(PEM_FILE_MAX + 1)) == NULL) {
        cli_fail("serve", "out of memory");
        goto done;
    }
    if ((f = fopen(path, "r")) == NULL) {
        cli_fail("serve", "cannot read %s: %s", path, strerror(errno));
        goto done;
    }
    n = fread(buf, 1, PEM_FILE_MAX + 1, f);
    if (ferror(f) || n > PEM_FILE_MAX) {
        cli_fail("serve", "cannot read %s: %s", path,
                 ferror(f) ? "read error" : "larger than 1 MiB");
        goto done;
    }
    buf[n] = '\0';
    if (strstr(buf, "-----BEGIN ") == NULL) {
        cli_fail("serve", "%s: not a PEM file", path);
        goto done;
    }
    *out = buf;
    buf = NULL;
    rc = CLI_OK;
done:
    if (f != NULL)
        fclose(f);
    if (buf != NULL)
        OPENSSL_cleanse(buf, PEM_FILE_MAX + 1);
    free(buf);
    free(path);
    return rc;
}

/* fit_connections raises the soft open-file limit as far as needed for
 * max_connections plus FD_RESERVE, within the hard limit, and returns how
 * many connections fit (never below `threads`), warning when that is fewer
 * than configured. */
static int fit_connections(const struct cmpca_config *cfg)
{
    rlim_t want = (rlim_t)cfg->max_connections + FD_RESERVE;
    struct rlimit rl;
    int fit;

    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY ||
        rl.rlim_cur >= want)
        return cfg->max_connections;
    rl.rlim_cur =
        rl.rlim_max != RLIM_INFINITY && rl.rlim_max < want ? rl.rlim_max : want;
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0 &&
        getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return cfg->max_connections;
    if (rl.rlim_cur >= want)
        return cfg->max_connections;
    fit = rl.rlim_cur > (rlim_t)FD_RESERVE + (rlim_t)cfg->threads
              ? (int)(rl.rlim_cur - FD_RESERVE)
              : cfg->threads;
    log_warn("serve: the open-file limit (%llu) leaves room for %d "
             "connections, not max_connections = %d; raise it "
             "(ulimit -n, systemd LimitNOFILE=)",
             (unsigned long long)rl.rlim_cur, fit, cfg->max_connections);
    return fit;
}

static void free_key_pem(char *pem)
{
    if (pem != NULL)
        OPENSSL_cleanse(pem, strlen(pem));
    free(pem);
}

static int server_start(struct server *s)
{
    struct transport_opts to = {0};
    char errbuf[256] = "";
    char *cert = NULL, *key = NULL, *ca = NULL;
    int rc = CLI_FAIL;

    if (read_pem(s->cfg, s->cfg->tls_cert, &cert) != CLI_OK ||
        read_pem(s->cfg, s->cfg->tls_key, &key) != CLI_OK ||
        read_pem(s->cfg, s->cfg->tls_client_ca, &ca) != CLI_OK)
        goto done;
    to.listen = s->cfg->listen;
    to.threads = s->cfg->threads;
    to.max_body = s->cfg->max_body;
    to.read_timeout = s->cfg->read_timeout;
    to.max_connections = fit_connections(s->cfg);
    to.handler = handle;
    to.profile_ok = profile_ok;
    to.get_crl = get_crl;
    to.arg = s;
    to.tls_cert_pem = cert;
    to.tls_key_pem = key;
    to.tls_client_ca_pem = ca;
    if (transport_start(&to, &s->tp, errbuf, sizeof(errbuf)) != 0) {
        cli_fail("serve", "cannot listen on %s: %s", s->cfg->listen,
                 errbuf[0] != '\0' ? errbuf : "unknown error");
        goto done;
    }
    rc = CLI_OK;
done:
    free(cert);
    free_key_pem(key); /* the transport keeps its own copy */
    free(ca);
    return rc;
}

/* The URL clients use: host of `listen` with the bound port, https when
 * `tls`. A wildcard host becomes loopback when `for_client` is set. */
static void make_url(const char *listen, int port, int tls, int for_client,
                     char *buf, size_t buflen)
{
    const char *colon = strrchr(listen, ':');
    const char *scheme = tls ? "https" : "http";
    int hostlen = colon != NULL ? (int)(colon - listen) : (int)strlen(listen);

    if (for_client && hostlen == 7 && strncmp(listen, "0.0.0.0", 7) == 0)
        snprintf(buf, buflen, "%s://127.0.0.1:%d/.well-known/cmp", scheme,
                 port);
    else if (for_client && hostlen == 4 && strncmp(listen, "[::]", 4) == 0)
        snprintf(buf, buflen, "%s://[::1]:%d/.well-known/cmp", scheme, port);
    else
        snprintf(buf, buflen, "%s://%.*s:%d/.well-known/cmp", scheme, hostlen,
                 listen, port);
}

/* Waits for SIGTERM/SIGINT, doing housekeeping whenever it wakes: at
 * least every 30 s, and every crl_refresh seconds when that is shorter. */
static void wait_for_stop(struct server *s, const sigset_t *set)
{
    struct timespec ts = {HOUSEKEEPING_SECONDS, 0};
    int sig;

    if (s->cfg->crl_refresh > 0 && s->cfg->crl_refresh < HOUSEKEEPING_SECONDS)
        ts.tv_sec = s->cfg->crl_refresh;

    for (;;) {
        sig = sigtimedwait(set, NULL, &ts);
        if (sig == SIGTERM || sig == SIGINT) {
            log_info("received %s, stopping",
                     sig == SIGTERM ? "SIGTERM" : "SIGINT");
            return;
        }
        if (sig == SIGHUP)
            log_info("received SIGHUP: nothing to reload");
        else if (sig < 0 && errno != EAGAIN && errno != EINTR)
            log_warn("sigtimedwait: %s", strerror(errno));
        if (cmp_srv_housekeeping(s->srv, time(NULL)) != 0)
            log_warn("housekeeping failed");
        crl_refresh(s, 1); /* failures are logged; retried next wake */
    }
}

/* Runs the server until a stop signal; returns an exit status. */
static int serve_run(const char *dir, const struct serve_opts *o,
                     const sigset_t *set)
{
    struct server s;
    char url[512];
    int rc = CLI_FAIL, tls;

    memset(&s, 0, sizeof(s));
    if ((errno = pthread_mutex_init(&s.crl_lock, NULL)) != 0)
        return cli_fail("serve", "mutex: %s", strerror(errno));
    if (server_open(dir, o, &s) != CLI_OK)
        goto done;
    if (s.cfg->crl_validity <= s.cfg->crl_refresh)
        log_warn("crl: crl_validity (%d s) is not above crl_refresh (%d s): "
                 "every CRL is due at once",
                 s.cfg->crl_validity, s.cfg->crl_refresh);
    /* a fresh CRL exists before the first client can ask for one */
    if (crl_refresh(&s, 1) != 0) {
        cli_fail("serve", "cannot make the first CRL");
        goto done;
    }
    if (server_start(&s) != CLI_OK)
        goto done;
    tls = s.cfg->tls_cert != NULL;
    make_url(s.cfg->listen, transport_port(s.tp), tls, 0, url, sizeof(url));
    printf("cmpca: listening on %s\n", url);
    fflush(stdout);
    if (o->demo) {
        if (tls)
            fprintf(stderr, "cmpca: serve: over HTTPS, add -tls_used and "
                            "-tls_trusted to the command below\n");
        make_url(s.cfg->listen, transport_port(s.tp), tls, 1, url, sizeof(url));
        if (demo_print_command(s.cfg, url, stdout) != CLI_OK)
            goto done;
        fflush(stdout);
    }
    if (cmp_srv_housekeeping(s.srv, time(NULL)) != 0)
        log_warn("housekeeping failed");
    wait_for_stop(&s, set);
    rc = CLI_OK;
done:
    server_close(&s);
    pthread_mutex_destroy(&s.crl_lock);
    if (rc == CLI_OK)
        fprintf(stderr, "cmpca: stopped\n");
    return rc;
}

int cmd_serve(struct cli_ctx *ctx, int argc, char **argv)
{
    struct serve_opts o = {NULL, NULL, NULL, NULL, 0, LOG_LVL_INFO, 0};
    char conf[4096];
    sigset_t set;
    int rc;

    if ((rc = parse_serve_opts(ctx, &o, argc, argv)) >= 0)
        return rc;
    log_set_level((enum log_level)o.log_level);
    /* Before any thread exists, so that all of them inherit the mask. */
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    if ((errno = pthread_sigmask(SIG_BLOCK, &set, NULL)) != 0)
        return cli_fail("serve", "pthread_sigmask: %s", strerror(errno));
    signal(SIGPIPE, SIG_IGN);
    snprintf(conf, sizeof(conf), "%s/%s", ctx->dir, CMPCA_CONF_FILE);
    if (o.demo && !cli_file_exists(conf)) {
        /* the listening line must stay the first line on stdout */
        if (cli_init_dir(ctx->dir, CA_KEY_EC_P256, CLI_DEFAULT_ORG, stderr) !=
            CLI_OK)
            return CLI_FAIL;
    }
    return serve_run(ctx->dir, &o, &set);
}
