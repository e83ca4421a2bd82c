/*
 * cmd_ca.c: `cmpca ca export`, so operators can hand the trust anchor to
 * devices and relying parties without digging in the data directory. The
 * certificates are parsed and written back as PEM, so only certificates
 * ever leave (never a key that was pasted into the wrong file).
 */
#include "cli/cli.h"

#include <stdlib.h>
#include <string.h>

static const char ca_usage[] =
    "usage: cmpca ca [--dir DIR] export [--root|--chain]\n"
    "\n"
    "  export   print the operator CA certificates as PEM\n";

static const char export_usage[] =
    "usage: cmpca ca export [--dir DIR] [--root|--chain]\n"
    "\n"
    "  --root    the operator root certificate (default)\n"
    "  --chain   the issuing CA certificate, then the root\n";

/* Appends the one certificate of file `rel` (relative to DIR) to `out`. */
static int push_cert(const struct cmpca_config *cfg, const char *rel,
                     STACK_OF(X509) *out)
{
    char *path = config_path(cfg, rel);
    char why[256];
    X509 *x = NULL;
    int rc = CLI_FAIL;

    if (path == NULL)
        return cli_fail("ca export", "out of memory");
    if ((x = cli_read_cert(path, why, sizeof(why))) == NULL) {
        cli_fail(path, "%s", why);
        goto done;
    }
    if (!sk_X509_push(out, x)) {
        cli_fail("ca export", "out of memory");
        goto done;
    }
    x = NULL;
    rc = CLI_OK;
done:
    X509_free(x);
    free(path);
    return rc;
}

static int ca_export(struct cli_ctx *ctx, int argc, char **argv)
{
    enum { WANT_ROOT = 'r', WANT_CHAIN = 'c' };
    static const struct option longopts[] = {
        CLI_COMMON_LONGOPTS,
        {"root", no_argument, NULL, WANT_ROOT},
        {"chain", no_argument, NULL, WANT_CHAIN},
        {NULL, 0, NULL, 0},
    };
    struct cmpca_config *cfg = NULL;
    STACK_OF(X509) *certs = NULL;
    char *pem = NULL;
    int c, want = 0, rc = CLI_FAIL;

    opterr = 0;
    while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        switch (c) {
        case 'd':
            ctx->dir = optarg;
            break;
        case 'h':
            return cli_help(export_usage);
        case WANT_ROOT:
        case WANT_CHAIN:
            if (want != 0 && want != c)
                return cli_usage_error("ca export", export_usage,
                                       "--root and --chain exclude each "
                                       "other");
            want = c;
            break;
        default:
            return cli_getopt_error("ca export", export_usage, c, argv);
        }
    }
    if (optind < argc)
        return cli_usage_error("ca export", export_usage,
                               "unexpected argument %s", argv[optind]);
    if (cli_load_config(ctx->dir, &cfg) != CLI_OK)
        return CLI_FAIL;
    if ((certs = sk_X509_new_null()) == NULL) {
        cli_fail("ca export", "out of memory");
        goto done;
    }
    if (want == WANT_CHAIN && push_cert(cfg, cfg->ca_cert, certs) != CLI_OK)
        goto done;
    if (push_cert(cfg, cfg->root_cert, certs) != CLI_OK)
        goto done;
    if ((pem = cli_certs_pem(certs)) == NULL) {
        cli_fail("ca export", "cannot encode the certificates");
        goto done;
    }
    fputs(pem, stdout);
    rc = CLI_OK;
done:
    free(pem);
    sk_X509_pop_free(certs, X509_free);
    config_free(cfg);
    return rc;
}

int cmd_ca(struct cli_ctx *ctx, int argc, char **argv)
{
    static const struct cli_cmd subs[] = {
        {"export", ca_export, NULL},
        {NULL, NULL, NULL},
    };

    return cli_dispatch(ctx, "ca", ca_usage, subs, argc, argv);
}
