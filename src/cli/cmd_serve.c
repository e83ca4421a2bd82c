/*
 * cmd_serve.c: `cmpca serve` wires the rooms together (config -> store ->
 * ca -> cmp engine -> transport) and then lets the main thread do nothing
 * but wait for signals. The signals are blocked before any thread exists, so
 * every worker inherits the mask and only sigtimedwait() here ever sees
 * SIGTERM/SIGINT/SIGHUP: no async-signal-safety puzzles, and a clean shutdown
 * in which requests already in progress are answered.
 */
#include "cli/cli.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "ca/ca.h"
#include "cmp/cmp.h"
#include "transport/transport.h"
#include "util/log.h"

#define HOUSEKEEPING_SECONDS 30

static const char serve_usage[] =
    "usage: cmpca serve [--dir DIR] [--listen ADDR:PORT] [--threads N]\n"
    "                   [--log-level error|warn|info|debug] [--demo]\n"
    "\n"
    "Serves CMP over HTTP at http://ADDR:PORT/.well-known/cmp until SIGTERM\n"
    "or SIGINT. Prints \"cmpca: listening on URL\" on stdout once listening.\n"
    "\n"
    "  --listen ADDR:PORT   address to bind (default from cmpca.conf; port 0\n"
    "                       picks a free port)\n"
    "  --threads N          worker threads (default from cmpca.conf)\n"
    "  --log-level LEVEL    error, warn, info (default) or debug\n"
    "  --demo               create the CA (if missing) and a demo vendor PKI\n"
    "                       under DIR/demo, then print the openssl cmp "
    "command\n"
    "                       that enrolls the demo device\n";

struct serve_opts {
    const char *listen;
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
};

/* transport handler: one CMP request on a worker thread. */
static int handle(void *arg, const struct transport_req *req,
                  struct transport_rsp *rsp)
{
    uint8_t *out = NULL;
    size_t out_len = 0;
    int status = 500;

    if (cmp_srv_handle(arg, req->profile, req->operation, req->body,
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
    return cmp_srv_profile_known(arg, profile);
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
        default:
            return cli_getopt_error("serve", serve_usage, c, argv);
        }
    }
    if (optind < argc)
        return cli_usage_error("serve", serve_usage, "unexpected argument %s",
                               argv[optind]);
    return -1;
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

static int server_start(struct server *s)
{
    struct transport_opts to = {0};
    char errbuf[256] = "";

    to.listen = s->cfg->listen;
    to.threads = s->cfg->threads;
    to.max_body = s->cfg->max_body;
    to.read_timeout = s->cfg->read_timeout;
    to.max_connections = s->cfg->max_connections;
    to.handler = handle;
    to.profile_ok = profile_ok;
    to.arg = s->srv;
    if (transport_start(&to, &s->tp, errbuf, sizeof(errbuf)) != 0)
        return cli_fail("serve", "cannot listen on %s: %s", s->cfg->listen,
                        errbuf[0] != '\0' ? errbuf : "unknown error");
    return CLI_OK;
}

/* The URL clients use: host of `listen` with the bound port. A wildcard
 * host becomes loopback when `for_client` is set. */
static void make_url(const char *listen, int port, int for_client, char *buf,
                     size_t buflen)
{
    const char *colon = strrchr(listen, ':');
    int hostlen = colon != NULL ? (int)(colon - listen) : (int)strlen(listen);

    if (for_client && hostlen == 7 && strncmp(listen, "0.0.0.0", 7) == 0)
        snprintf(buf, buflen, "http://127.0.0.1:%d/.well-known/cmp", port);
    else if (for_client && hostlen == 4 && strncmp(listen, "[::]", 4) == 0)
        snprintf(buf, buflen, "http://[::1]:%d/.well-known/cmp", port);
    else
        snprintf(buf, buflen, "http://%.*s:%d/.well-known/cmp", hostlen, listen,
                 port);
}

/* Waits for SIGTERM/SIGINT, doing housekeeping whenever it wakes. */
static void wait_for_stop(struct cmp_srv *srv, const sigset_t *set)
{
    struct timespec ts = {HOUSEKEEPING_SECONDS, 0};
    int sig;

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
        if (cmp_srv_housekeeping(srv, time(NULL)) != 0)
            log_warn("housekeeping failed");
    }
}

/* Runs the server until a stop signal; returns an exit status. */
static int serve_run(const char *dir, const struct serve_opts *o,
                     const sigset_t *set)
{
    struct server s = {NULL, NULL, NULL, NULL, NULL};
    char url[512];
    int rc = CLI_FAIL;

    if (server_open(dir, o, &s) != CLI_OK || server_start(&s) != CLI_OK)
        goto done;
    make_url(s.cfg->listen, transport_port(s.tp), 0, url, sizeof(url));
    printf("cmpca: listening on %s\n", url);
    fflush(stdout);
    if (o->demo) {
        make_url(s.cfg->listen, transport_port(s.tp), 1, url, sizeof(url));
        if (demo_print_command(s.cfg, url, stdout) != CLI_OK)
            goto done;
        fflush(stdout);
    }
    if (cmp_srv_housekeeping(s.srv, time(NULL)) != 0)
        log_warn("housekeeping failed");
    wait_for_stop(s.srv, set);
    rc = CLI_OK;
done:
    server_close(&s);
    if (rc == CLI_OK)
        fprintf(stderr, "cmpca: stopped\n");
    return rc;
}

int cmd_serve(struct cli_ctx *ctx, int argc, char **argv)
{
    struct serve_opts o = {NULL, 0, LOG_LVL_INFO, 0};
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
