/*
 * common.c: the plumbing every subcommand needs: the one-line error format,
 * usage errors, command groups, and opening the data directory (config and
 * store) with messages that tell the operator what to do next.
 */
#include "cli/cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/err.h>

static void vreport(const char *what, const char *fmt, va_list ap)
{
    char why[512];

    vsnprintf(why, sizeof(why), fmt, ap);
    fprintf(stderr, "cmpca: %s: %s\n", what, why);
}

int cli_fail(const char *what, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vreport(what, fmt, ap);
    va_end(ap);
    return CLI_FAIL;
}

int cli_usage_error(const char *what, const char *usage, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vreport(what, fmt, ap);
    va_end(ap);
    fputs(usage, stderr);
    return CLI_USAGE;
}

int cli_getopt_error(const char *what, const char *usage, int c, char **argv)
{
    const char *arg = optind > 0 ? argv[optind - 1] : "?";

    if (c == ':')
        return cli_usage_error(what, usage, "option %s needs a value", arg);
    if (optopt != 0 && (arg[0] != '-' || arg[1] != '-'))
        return cli_usage_error(what, usage, "unknown option -%c", optopt);
    return cli_usage_error(what, usage, "unknown option %s", arg);
}

int cli_help(const char *usage)
{
    fputs(usage, stdout);
    return CLI_OK;
}

int cli_parse_common(struct cli_ctx *ctx, const char *what, const char *usage,
                      int argc, char **argv)
{
    static const struct option longopts[] = {
        CLI_COMMON_LONGOPTS,
        {NULL, 0, NULL, 0},
    };
    int c;

    opterr = 0;
    while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        if (c == 'd')
            ctx->dir = optarg;
        else if (c == 'h')
            return cli_help(usage);
        else
            return cli_getopt_error(what, usage, c, argv);
    }
    return -1;
}

int cli_dispatch(struct cli_ctx *ctx, const char *group, const char *usage,
                 const struct cli_cmd *cmds, int argc, char **argv)
{
    static const struct option longopts[] = {
        CLI_COMMON_LONGOPTS,
        {NULL, 0, NULL, 0},
    };
    int c;

    opterr = 0;
    while ((c = getopt_long(argc, argv, "+:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'd':
            ctx->dir = optarg;
            break;
        case 'h':
            return cli_help(usage);
        default:
            return cli_getopt_error(group, usage, c, argv);
        }
    }
    if (optind >= argc)
        return cli_usage_error(group, usage, "missing subcommand");
    for (; cmds->name != NULL; cmds++) {
        if (strcmp(argv[optind], cmds->name) == 0) {
            char **sub = argv + optind;
            int subc = argc - optind;

            optind = 0; /* glibc: start the next getopt_long afresh */
            return cmds->fn(ctx, subc, sub);
        }
    }
    return cli_usage_error(group, usage, "unknown subcommand %s", argv[optind]);
}

const char *cli_ossl_reason(char *buf, size_t buflen, const char *fallback)
{
    unsigned long e = ERR_peek_last_error();
    const char *r;

    if (e == 0) {
        snprintf(buf, buflen, "%s", fallback);
    } else {
        r = ERR_reason_error_string(e);
        if (r != NULL)
            snprintf(buf, buflen, "%s", r);
        else
            ERR_error_string_n(e, buf, buflen);
    }
    ERR_clear_error();
    return buf;
}

int cli_load_config(const char *dir, struct cmpca_config **out)
{
    char errbuf[512];
    char *path = NULL;
    size_t n = strlen(dir) + sizeof(CMPCA_CONF_FILE) + 1;
    struct stat sb;
    int missing;

    *out = NULL;
    if ((path = malloc(n)) == NULL)
        return cli_fail("config", "out of memory");
    snprintf(path, n, "%s/%s", dir, CMPCA_CONF_FILE);
    missing = stat(path, &sb) != 0 && (errno == ENOENT || errno == ENOTDIR);
    free(path);
    if (missing) {
        fprintf(stderr, "cmpca: no CA in %s: run cmpca init\n", dir);
        return CLI_FAIL;
    }
    if (config_load(dir, out, errbuf, sizeof(errbuf)) != 0)
        return cli_fail("config", "%s", errbuf);
    return CLI_OK;
}

char *cli_store_uri(const struct cmpca_config *cfg)
{
    static const char prefix[] = "sqlite:";
    /* callers pass the config cli_load_config() returned; the analyzer
     * also tries config_load() (another file) succeeding without one */
    const char *db = cfg->db; /* NOLINT(clang-analyzer-core.NullDereference) */
    char *path = NULL, *uri = NULL;
    size_t n;

    if (strncmp(db, prefix, sizeof(prefix) - 1) != 0) {
        /* another backend's URI ("postgresql://...") is passed as is */
        if (strstr(db, "://") != NULL)
            return strdup(db);
        return config_path(cfg, db);
    }
    if ((path = config_path(cfg, db + sizeof(prefix) - 1)) == NULL)
        return NULL;
    n = sizeof(prefix) + strlen(path);
    if ((uri = malloc(n)) != NULL)
        snprintf(uri, n, "%s%s", prefix, path);
    free(path);
    return uri;
}

int cli_open_store(const struct cmpca_config *cfg, struct store **out)
{
    struct cmpca_err err = CMPCA_ERR_INIT;
    char *uri = cli_store_uri(cfg);
    int rc = CLI_OK;

    *out = NULL;
    if (uri == NULL)
        return cli_fail("store", "out of memory");
    /* one connection per worker thread, plus housekeeping and CRL serving
     * (SQLite ignores the size) */
    if (store_open_pool(uri, cfg->threads + 2, out, &err) != 0)
        rc = cli_fail("store", "%s: %s", uri, err.msg);
    free(uri);
    return rc;
}

int cli_open(const char *dir, struct cmpca_config **cfg, struct store **st)
{
    *st = NULL;
    if (cli_load_config(dir, cfg) != CLI_OK)
        return CLI_FAIL;
    if (cli_open_store(*cfg, st) != CLI_OK) {
        config_free(*cfg);
        *cfg = NULL;
        return CLI_FAIL;
    }
    return CLI_OK;
}
