/*
 * cmd_crl.c: `cmpca crl`, a fresh CRL on demand, and cli_crl_publish, which
 * `cmpca cert revoke` also uses so a revocation reaches the CRL at once
 * rather than at the server's next refresh. A running server serves the
 * newest CRL in the store, so a CRL made here is what it serves from the
 * next request on.
 *
 * --out replaces FILE atomically (a temp file in the same directory, then
 * rename), because the usual use is a cron job writing into a web server's
 * document root, and a half-written CRL must never be served.
 */
#include "cli/cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/pem.h>

#include "ca/ca.h"

static const char crl_usage[] =
    "usage: cmpca crl [--dir DIR] [--out FILE]\n"
    "\n"
    "Makes and signs a new CRL of every revoked certificate (numbered one\n"
    "above the last), saves it in the store as the CRL the server serves,\n"
    "and prints it as PEM on stdout, or writes it as DER to FILE.\n"
    "Prints \"CRL number N, M revoked certificates, next update TIME\" on\n"
    "stderr.\n"
    "\n"
    "  --out FILE   write DER to FILE (replaced atomically) instead\n";

/* Records the CRL `cmpca crl` or `cmpca cert revoke` made (NULL: none,
 * `why` says why) in the audit log. */
static int audit_crl(struct store *st, X509_CRL *crl, const char *why)
{
    ASN1_INTEGER *num = NULL;
    STACK_OF(X509_REVOKED) *revs;
    int64_t n = 0;
    char detail[64];

    if (crl == NULL)
        return cli_audit(st, "crl", "failed", NULL, NULL, NULL, why);
    num = X509_CRL_get_ext_d2i(crl, NID_crl_number, NULL, NULL);
    if (num == NULL || ASN1_INTEGER_get_int64(&n, num) <= 0)
        n = 0;
    ASN1_INTEGER_free(num);
    revs = X509_CRL_get_REVOKED(crl);
    snprintf(detail, sizeof(detail), "number=%lld revoked=%d", (long long)n,
             revs != NULL ? sk_X509_REVOKED_num(revs) : 0);
    return cli_audit(st, "crl", "done", NULL, NULL, NULL, detail);
}

int cli_crl_publish(const struct cmpca_config *cfg, struct store *st,
                    X509_CRL **out)
{
    struct cmpca_err err = CMPCA_ERR_INIT;
    char *root = config_path(cfg, cfg->root_cert);
    char *cert = config_path(cfg, cfg->ca_cert);
    char *key = config_path(cfg, cfg->ca_key);
    struct ca *ca = NULL;
    int rc = CLI_FAIL;

    *out = NULL;
    if (root == NULL || cert == NULL || key == NULL) {
        cli_fail("crl", "out of memory");
        goto done;
    }
    if (ca_load(root, cert, key, &ca, &err) != 0) {
        cli_fail("crl", "cannot load the CA: %s", err.msg);
        audit_crl(st, NULL, "cannot load the CA");
        goto done;
    }
    if (ca_crl_publish(ca, st, cfg->crl_name, cfg->crl_validity, out, &err) !=
        0) {
        cli_fail("crl", "%s", err.msg);
        audit_crl(st, NULL, err.msg);
        goto done;
    }
    rc = audit_crl(st, *out, NULL);
done:
    ca_free(ca);
    free(root);
    free(cert);
    free(key);
    return rc;
}

/* Writes the DER of `crl` to `path` through a temp file and rename. */
static int write_der(const char *path, X509_CRL *crl)
{
    unsigned char *der = NULL;
    char *tmp = NULL;
    size_t n = strlen(path) + 32;
    int len, rc = CLI_FAIL;

    if ((len = i2d_X509_CRL(crl, &der)) <= 0 || (tmp = malloc(n)) == NULL) {
        cli_fail("crl", "out of memory");
        goto done;
    }
    snprintf(tmp, n, "%s.tmp.%ld", path, (long)getpid());
    unlink(tmp); /* a leftover of a killed run with our pid */
    if (cli_write_excl(tmp, der, (size_t)len, 0644) != 0) {
        cli_fail(path, "%s", strerror(errno));
        goto done;
    }
    if (rename(tmp, path) != 0) {
        cli_fail(path, "%s", strerror(errno));
        unlink(tmp);
        goto done;
    }
    rc = CLI_OK;
done:
    free(tmp);
    OPENSSL_free(der);
    return rc;
}

/* The line on stderr saying what was made. */
static void report(X509_CRL *crl)
{
    STACK_OF(X509_REVOKED) *revs = X509_CRL_get_REVOKED(crl);
    ASN1_INTEGER *num = X509_CRL_get_ext_d2i(crl, NID_crl_number, NULL, NULL);
    const ASN1_TIME *next = X509_CRL_get0_nextUpdate(crl);
    struct tm tm;
    char when[32] = "-";
    int64_t n = 0;

    if (num == NULL || ASN1_INTEGER_get_int64(&n, num) <= 0)
        n = 0;
    if (next != NULL && ASN1_TIME_to_tm(next, &tm) > 0)
        strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
    fprintf(stderr,
            "CRL number %lld, %d revoked certificates, next update %s\n",
            (long long)n, revs != NULL ? sk_X509_REVOKED_num(revs) : 0, when);
    ASN1_INTEGER_free(num);
}

int cmd_crl(struct cli_ctx *ctx, int argc, char **argv)
{
    static const struct option longopts[] = {
        CLI_COMMON_LONGOPTS,
        {"out", required_argument, NULL, 'o'},
        {NULL, 0, NULL, 0},
    };
    struct cmpca_config *cfg = NULL;
    struct store *st = NULL;
    X509_CRL *crl = NULL;
    const char *out = NULL;
    int c, rc = CLI_FAIL;

    opterr = 0;
    while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        switch (c) {
        case 'd':
            ctx->dir = optarg;
            break;
        case 'h':
            return cli_help(crl_usage);
        case 'o':
            out = optarg;
            break;
        default:
            return cli_getopt_error("crl", crl_usage, c, argv);
        }
    }
    if (optind < argc)
        return cli_usage_error("crl", crl_usage, "unexpected argument %s",
                               argv[optind]);
    if (out != NULL && out[0] == '\0')
        return cli_usage_error("crl", crl_usage, "--out needs a file name");
    if (cli_open(ctx->dir, &cfg, &st) != CLI_OK)
        return CLI_FAIL;
    if (cli_crl_publish(cfg, st, &crl) != CLI_OK)
        goto done;
    if (out != NULL) {
        if (write_der(out, crl) != CLI_OK)
            goto done;
    } else if (!PEM_write_X509_CRL(stdout, crl)) {
        cli_fail("crl", "cannot write to stdout");
        goto done;
    }
    report(crl);
    rc = CLI_OK;
done:
    X509_CRL_free(crl);
    store_close(st);
    config_free(cfg);
    return rc;
}
