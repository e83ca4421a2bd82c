/*
 * cmd_cert.c: `cmpca cert list|show|revoke`, the operator's view of what
 * this CA has issued. The listing comes straight from the store rows (no
 * blobs are loaded), so it stays fast with many certificates; `show` decodes
 * the one stored DER certificate for its extensions and PEM. `revoke`
 * records the revocation and publishes a new CRL right away, so relying
 * parties see it on their next fetch rather than after the server's next
 * scheduled refresh.
 */
#include "cli/cli.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/pem.h>
#include <openssl/x509v3.h>

#define SERIAL_HEX_MAX 64

static const char cert_usage[] =
    "usage: cmpca cert [--dir DIR] list\n"
    "       cmpca cert [--dir DIR] show SERIAL\n"
    "       cmpca cert [--dir DIR] revoke SERIAL [--reason REASON]\n"
    "\n"
    "  list     one line per certificate: SERIAL, SUBJECT, NOT_AFTER, STATUS\n"
    "           (tab-separated)\n"
    "  show     details and PEM of the certificate with serial SERIAL (hex)\n"
    "  revoke   revoke the certificate with serial SERIAL and publish a new\n"
    "           CRL\n";

static const char list_usage[] =
    "usage: cmpca cert list [--dir DIR]\n"
    "\n"
    "Prints SERIAL (hex, as openssl x509 -serial), SUBJECT (RFC 2253),\n"
    "NOT_AFTER (YYYY-MM-DDTHH:MM:SSZ) and STATUS (issued|confirmed|revoked|\n"
    "rejected) of each issued certificate, tab-separated, after a header.\n";

static const char show_usage[] =
    "usage: cmpca cert show [--dir DIR] SERIAL\n"
    "\n"
    "Prints a summary of the certificate (serial, names, validity, status,\n"
    "device, SHA-256 fingerprint, extensions) followed by its PEM. SERIAL is\n"
    "hex, any case, with or without 0x.\n";

static const char revoke_usage[] =
    "usage: cmpca cert revoke [--dir DIR] SERIAL [--reason REASON]\n"
    "\n"
    "Revokes the certificate with serial SERIAL (hex), then makes and saves\n"
    "a new CRL, which a running server serves from its next request on.\n"
    "Prints \"revoked SERIAL (REASON)\" on stdout.\n"
    "\n"
    "  --reason REASON   RFC 5280 CRLReason, by name or number (default\n"
    "                    unspecified): unspecified (0), keyCompromise (1),\n"
    "                    cACompromise (2), affiliationChanged (3),\n"
    "                    superseded (4), cessationOfOperation (5),\n"
    "                    certificateHold (6), removeFromCRL (8),\n"
    "                    privilegeWithdrawn (9), aACompromise (10)\n";

/* RFC 5280 5.3.1 CRLReason names, indexed by code; 7 is not used. */
static const char *const reason_names[] = {
    "unspecified",     "keyCompromise",
    "cACompromise",    "affiliationChanged",
    "superseded",      "cessationOfOperation",
    "certificateHold", NULL,
    "removeFromCRL",   "privilegeWithdrawn",
    "aACompromise",
};
#define NUM_REASONS ((int)(sizeof(reason_names) / sizeof(reason_names[0])))

static const char *reason_name(int reason)
{
    if (reason < 0 || reason >= NUM_REASONS || reason_names[reason] == NULL)
        return "unknown";
    return reason_names[reason];
}

/* parse_reason accepts a name (any case) or its number; -1 otherwise. */
static int parse_reason(const char *arg)
{
    char *end = NULL;
    long n;
    int i;

    for (i = 0; i < NUM_REASONS; i++)
        if (reason_names[i] != NULL && strcasecmp(arg, reason_names[i]) == 0)
            return i;
    if (arg[0] < '0' || arg[0] > '9')
        return -1;
    n = strtol(arg, &end, 10);
    if (*end != '\0' || n < 0 || n >= NUM_REASONS || reason_names[n] == NULL)
        return -1;
    return (int)n;
}

static const char *status_name(int status)
{
    switch (status) {
    case CERT_ISSUED:
        return "issued";
    case CERT_CONFIRMED:
        return "confirmed";
    case CERT_REVOKED:
        return "revoked";
    case CERT_REJECTED:
        return "rejected";
    case CERT_RESERVED:
        return "reserved";
    }
    return "unknown";
}

static int print_cert_row(void *arg, const struct store_cert *c)
{
    char when[32];

    (void)arg;
    cli_time_str(c->not_after, when, sizeof(when));
    printf("%s\t%s\t%s\t%s\n", c->serial_hex, c->subject, when,
           status_name(c->status));
    return 0;
}

static int cert_list(struct cli_ctx *ctx, int argc, char **argv)
{
    struct cmpca_err err = CMPCA_ERR_INIT;
    struct cmpca_config *cfg = NULL;
    struct store *st = NULL;
    int rc;

    if ((rc = cli_parse_common(ctx, "cert list", list_usage, argc, argv)) >= 0)
        return rc;
    if (optind < argc)
        return cli_usage_error("cert list", list_usage,
                               "unexpected argument %s", argv[optind]);
    if (cli_open(ctx->dir, &cfg, &st) != CLI_OK)
        return CLI_FAIL;
    printf("SERIAL\tSUBJECT\tNOT_AFTER\tSTATUS\n");
    if (store_cert_foreach(st, print_cert_row, NULL, &err) != 0)
        rc = cli_fail("cert list", "%s", err.msg);
    else
        rc = CLI_OK;
    store_close(st);
    config_free(cfg);
    return rc;
}

/* Copies the hex digits of `arg` (optional 0x) into `out`; -1 if not hex. */
static int parse_serial(const char *arg, char *out, size_t outlen)
{
    size_t n, i;

    /* arg is set: parse_revoke() returns -1 only after setting it; the
     * analyzer also tries cli_help() (another file) returning -1 */
    /* NOLINTNEXTLINE(clang-analyzer-core.NullDereference) */
    if (arg[0] == '0' && (arg[1] == 'x' || arg[1] == 'X'))
        arg += 2;
    n = strlen(arg);
    if (n == 0 || n >= outlen)
        return -1;
    for (i = 0; i < n; i++) {
        if (!isxdigit((unsigned char)arg[i]))
            return -1;
        out[i] = (char)toupper((unsigned char)arg[i]);
    }
    out[n] = '\0';
    return 0;
}

/* Prints what only the decoded certificate knows: fingerprint, extensions
 * and the PEM. */
static int print_cert_body(const struct store_cert *c)
{
    const unsigned char *p = c->der;
    const STACK_OF(X509_EXTENSION) *exts;
    X509 *x = NULL;
    BIO *out = NULL;
    char fp[128];
    int rc = CLI_FAIL;

    if (c->der == NULL || (x = d2i_X509(NULL, &p, (long)c->der_len)) == NULL ||
        p != c->der + c->der_len) {
        cli_fail("cert show", "stored certificate %s does not decode",
                 c->serial_hex);
        goto done;
    }
    if (cli_fingerprint(x, fp, sizeof(fp)) == 0)
        printf("SHA-256:     %s\n", fp);
    fflush(stdout);
    if ((out = BIO_new_fp(stdout, BIO_NOCLOSE)) == NULL)
        goto done;
    exts = X509_get0_extensions(x);
    if (sk_X509_EXTENSION_num(exts) > 0) {
        BIO_printf(out, "Extensions:\n");
        X509V3_extensions_print(out, NULL, exts, 0, 4);
    }
    if (!PEM_write_bio_X509(out, x))
        goto done;
    rc = CLI_OK;
done:
    BIO_free(out);
    X509_free(x);
    return rc;
}

static int print_cert(const struct store_cert *c)
{
    char nb[32], na[32];

    cli_time_str(c->not_before, nb, sizeof(nb));
    cli_time_str(c->not_after, na, sizeof(na));
    printf("Serial:      %s\n", c->serial_hex);
    printf("Subject:     %s\n", c->subject);
    printf("Issuer:      %s\n", c->issuer);
    printf("Not before:  %s\n", nb);
    printf("Not after:   %s\n", na);
    printf("Status:      %s\n", status_name(c->status));
    if (c->revoked_at != 0) {
        cli_time_str(c->revoked_at, na, sizeof(na));
        printf("Revoked:     %s (%s)\n", na, reason_name(c->reason));
    }
    if (c->vendor != NULL || c->device != NULL)
        printf("Device:      %s / %s\n", c->vendor ? c->vendor : "-",
               c->device ? c->device : "-");
    else
        printf("Device:      -\n");
    return print_cert_body(c);
}

static int cert_show(struct cli_ctx *ctx, int argc, char **argv)
{
    struct cmpca_err err = CMPCA_ERR_INIT;
    struct cmpca_config *cfg = NULL;
    struct store_cert c = {0};
    struct store *st = NULL;
    char hex[SERIAL_HEX_MAX + 1];
    int rc;

    if ((rc = cli_parse_common(ctx, "cert show", show_usage, argc, argv)) >= 0)
        return rc;
    if (argc - optind != 1)
        return cli_usage_error("cert show", show_usage, "expected SERIAL");
    if (parse_serial(argv[optind], hex, sizeof(hex)) != 0)
        return cli_fail("cert show", "bad serial '%s': expected hex",
                        argv[optind]);
    if (cli_open(ctx->dir, &cfg, &st) != CLI_OK)
        return CLI_FAIL;
    rc = store_cert_get(st, hex, &c, &err);
    if (rc == STORE_NOTFOUND)
        rc = cli_fail("cert show", "no certificate with serial %s",
                      argv[optind]);
    else if (rc != 0)
        rc = cli_fail("cert show", "%s", err.msg);
    else
        rc = print_cert(&c);
    store_cert_clear(&c);
    store_close(st);
    config_free(cfg);
    return rc;
}

/* Options of `cert revoke`: SERIAL and --reason in any order. */
static int parse_revoke(struct cli_ctx *ctx, int argc, char **argv,
                        const char **serial, int *reason)
{
    static const struct option longopts[] = {
        CLI_COMMON_LONGOPTS,
        {"reason", required_argument, NULL, 'r'},
        {NULL, 0, NULL, 0},
    };
    int c;

    opterr = 0;
    while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        switch (c) {
        case 'd':
            ctx->dir = optarg;
            break;
        case 'h':
            return cli_help(revoke_usage);
        case 'r':
            if ((*reason = parse_reason(optarg)) < 0)
                return cli_usage_error("cert revoke", revoke_usage,
                                       "unknown reason %s", optarg);
            break;
        default:
            return cli_getopt_error("cert revoke", revoke_usage, c, argv);
        }
    }
    if (argc - optind != 1)
        return cli_usage_error("cert revoke", revoke_usage, "expected SERIAL");
    *serial = argv[optind];
    return -1;
}

/* Revokes `hex` in `st`; prints why and returns CLI_FAIL when it cannot. */
static int revoke_one(struct store *st, const char *arg, const char *hex,
                      int reason, struct store_cert *c)
{
    struct cmpca_err err = CMPCA_ERR_INIT;
    int rc;

    rc = store_cert_get(st, hex, c, &err);
    if (rc == STORE_NOTFOUND)
        return cli_fail("cert revoke", "no certificate with serial %s", arg);
    if (rc != 0)
        return cli_fail("cert revoke", "%s", err.msg);
    rc = store_cert_revoke(st, c->serial_hex, CERT_REVOKED, reason, time(NULL),
                           &err);
    if (rc == STORE_EXISTS)
        return cli_fail("cert revoke", "certificate %s is already revoked",
                        c->serial_hex);
    if (rc == STORE_NOTFOUND)
        return cli_fail("cert revoke", "no certificate with serial %s", arg);
    if (rc != 0)
        return cli_fail("cert revoke", "%s", err.msg);
    return CLI_OK;
}

/* Records a `cert revoke` of `c` (the certificate as it was found; serial
 * `hex` when none was) in the audit log; `why` is NULL when it worked. */
static int audit_revoke(struct store *st, const struct store_cert *c,
                        const char *hex, int reason, const char *why)
{
    char detail[128];

    snprintf(detail, sizeof(detail), "reason=%s%s%s", reason_name(reason),
             why != NULL ? ": " : "", why != NULL ? why : "");
    return cli_audit(st, "cert revoke", why == NULL ? "done" : "failed",
                     c->vendor, c->device,
                     c->serial_hex != NULL ? c->serial_hex : hex, detail);
}

static int cert_revoke(struct cli_ctx *ctx, int argc, char **argv)
{
    struct cmpca_config *cfg = NULL;
    struct store_cert c = {0};
    struct store *st = NULL;
    X509_CRL *crl = NULL;
    const char *arg = NULL;
    char hex[SERIAL_HEX_MAX + 1];
    int rc, reason = 0, audited;

    if ((rc = parse_revoke(ctx, argc, argv, &arg, &reason)) >= 0)
        return rc;
    if (parse_serial(arg, hex, sizeof(hex)) != 0)
        return cli_fail("cert revoke", "bad serial '%s': expected hex", arg);
    if (cli_open(ctx->dir, &cfg, &st) != CLI_OK)
        return CLI_FAIL;
    if ((rc = revoke_one(st, arg, hex, reason, &c)) == CLI_OK) {
        printf("revoked %s (%s)\n", c.serial_hex, reason_name(reason));
        fflush(stdout);
        audited = audit_revoke(st, &c, hex, reason, NULL);
        /* recorded; a failed CRL is made by the server's next refresh */
        rc = cli_crl_publish(cfg, st, &crl);
        if (audited != CLI_OK)
            rc = CLI_FAIL;
    } else {
        audit_revoke(st, &c, hex, reason,
                     c.serial_hex == NULL ? "no such certificate"
                     : c.revoked_at != 0  ? "already revoked"
                                          : "store error");
    }
    X509_CRL_free(crl);
    store_cert_clear(&c);
    store_close(st);
    config_free(cfg);
    return rc;
}

int cmd_cert(struct cli_ctx *ctx, int argc, char **argv)
{
    static const struct cli_cmd subs[] = {
        {"list", cert_list, NULL},
        {"show", cert_show, NULL},
        {"revoke", cert_revoke, NULL},
        {NULL, NULL, NULL},
    };

    return cli_dispatch(ctx, "cert", cert_usage, subs, argc, argv);
}
