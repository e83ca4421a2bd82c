/*
 * cmd_vendor.c: `cmpca vendor add|list`. A vendor is an external CA whose
 * device certificates may authenticate initial enrollment, so what we store
 * is checked here first: one self-signed CA root, and intermediates that
 * really chain to it by signature. We store our own PEM encoding of the
 * parsed certificates, never the operator's file as is, so stray text or
 * private keys in that file cannot end up in the database.
 */
#include "cli/cli.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/pem.h>
#include <openssl/x509v3.h>

static const char vendor_usage[] =
    "usage: cmpca vendor [--dir DIR] add NAME ROOT.pem [--chain FILE.pem]\n"
    "                                    [--id-attr serialNumber|CN]\n"
    "       cmpca vendor [--dir DIR] list\n"
    "       cmpca vendor [--dir DIR] crl NAME FILE|--remove\n"
    "\n"
    "  add    trust the self-signed CA in ROOT.pem (and the intermediates in\n"
    "         --chain) to vouch for the identity of devices of vendor NAME\n"
    "  list   one line per vendor: NAME, ID_ATTR, ROOT_SUBJECT "
    "(tab-separated)\n"
    "  crl    check vendor NAME's device certificates against its CRL\n";

static const char add_usage[] =
    "usage: cmpca vendor add [--dir DIR] NAME ROOT.pem [--chain FILE.pem]\n"
    "                        [--id-attr serialNumber|CN]\n"
    "\n"
    "  NAME           1-64 characters of A-Z a-z 0-9 . _ -\n"
    "  ROOT.pem       exactly one self-signed CA certificate\n"
    "  --chain FILE   intermediate CA certificates chaining to the root\n"
    "  --id-attr A    subject attribute of device certificates that holds the\n"
    "                 device serial (default serialNumber)\n"
    "  --dir DIR      data directory (default: $CMPCA_DIR, else "
    "./cmpca-data)\n";

static const char list_usage[] =
    "usage: cmpca vendor list [--dir DIR]\n"
    "\n"
    "Prints NAME, ID_ATTR and ROOT_SUBJECT of each vendor, tab-separated,\n"
    "after a header line.\n";

static int name_ok(const char *name)
{
    static const char allowed[] = "abcdefghijklmnopqrstuvwxyz"
                                  "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-";
    size_t n = strlen(name);

    return n >= 1 && n <= 64 && strspn(name, allowed) == n;
}

/* 1 when `issuer` issued `x` and its key verifies the signature of `x`. */
static int signed_by(X509 *x, X509 *issuer)
{
    EVP_PKEY *key = X509_get0_pubkey(issuer);

    return X509_check_issued(issuer, x) == X509_V_OK && key != NULL &&
           X509_verify(x, key) == 1;
}

static X509 *load_root(const char *path)
{
    char why[256];
    X509 *root = cli_read_cert(path, why, sizeof(why));

    if (root == NULL) {
        cli_fail(path, "%s", why);
        return NULL;
    }
    if (!signed_by(root, root)) {
        cli_fail(path, "not a self-signed certificate");
        goto bad;
    }
    if (X509_check_ca(root) == 0) {
        cli_fail(path, "not a CA certificate");
        goto bad;
    }
    return root;
bad:
    X509_free(root);
    return NULL;
}

/* Checks that every certificate of `chain` is a CA and chains by signature
 * to `root` through certificates of `chain`. */
static int check_chain(const char *path, X509 *root, STACK_OF(X509) *chain)
{
    int n = sk_X509_num(chain), done = 0, progress = 1, i, j;
    char *ok = calloc((size_t)n, 1);

    if (ok == NULL)
        return cli_fail("vendor add", "out of memory");
    for (i = 0; i < n; i++) {
        if (X509_check_ca(sk_X509_value(chain, i)) == 0) {
            free(ok);
            return cli_fail(path, "certificate %d is not a CA", i + 1);
        }
    }
    while (progress && done < n) {
        progress = 0;
        for (i = 0; i < n; i++) {
            X509 *x = sk_X509_value(chain, i);
            int linked = !ok[i] && signed_by(x, root);

            for (j = 0; !ok[i] && !linked && j < n; j++)
                linked =
                    ok[j] && j != i && signed_by(x, sk_X509_value(chain, j));
            if (linked) {
                ok[i] = 1;
                done++;
                progress = 1;
            }
        }
    }
    for (i = 0; i < n && ok[i]; i++)
        ;
    free(ok);
    if (done < n)
        return cli_fail(path, "certificate %d does not chain to the root",
                        i + 1);
    return CLI_OK;
}

/* Fills the PEM fields of `v` from the files; returns an exit status. */
static int load_vendor_pem(const char *root_path, const char *chain_path,
                           struct store_vendor *v)
{
    STACK_OF(X509) *roots = NULL, *chain = NULL;
    X509 *root = NULL;
    char why[256];
    int rc = CLI_FAIL;

    if ((root = load_root(root_path)) == NULL)
        goto done;
    if ((roots = sk_X509_new_null()) == NULL || !sk_X509_push(roots, root)) {
        cli_fail("vendor add", "out of memory");
        goto done;
    }
    root = NULL; /* owned by roots now */
    if (chain_path != NULL) {
        if (cli_read_certs(chain_path, &chain, why, sizeof(why)) != 0) {
            cli_fail(chain_path, "%s", why);
            goto done;
        }
        if (check_chain(chain_path, sk_X509_value(roots, 0), chain) != CLI_OK)
            goto done;
        if ((v->chain_pem = cli_certs_pem(chain)) == NULL) {
            cli_fail("vendor add", "cannot encode the chain");
            goto done;
        }
    }
    if ((v->root_pem = cli_certs_pem(roots)) == NULL) {
        cli_fail("vendor add", "cannot encode the root");
        goto done;
    }
    rc = CLI_OK;
done:
    X509_free(root);
    sk_X509_pop_free(roots, X509_free);
    sk_X509_pop_free(chain, X509_free);
    return rc;
}

static char *root_subject(const char *pem);

static int vendor_store(const char *dir, struct store_vendor *v)
{
    struct cmpca_err err = CMPCA_ERR_INIT;
    struct cmpca_config *cfg = NULL;
    struct store *st = NULL;
    char *subject = NULL, detail[768];
    const char *why;
    int rc;

    if (cli_open(dir, &cfg, &st) != CLI_OK)
        return CLI_FAIL;
    rc = store_vendor_add(st, v, &err);
    why = rc == 0 ? NULL : rc == STORE_EXISTS ? "vendor exists" : err.msg;
    if (rc == STORE_EXISTS)
        rc = cli_fail("vendor add", "vendor %s exists", v->name);
    else if (rc != 0)
        rc = cli_fail("vendor add", "%s", err.msg);
    else
        fprintf(stderr, "cmpca: vendor %s added\n", v->name);
    subject = root_subject(v->root_pem);
    snprintf(detail, sizeof(detail), "root=%s id_attr=%s chain=%s%s%s",
             subject != NULL ? subject : "?", v->id_attr,
             v->chain_pem != NULL ? "yes" : "no", why != NULL ? ": " : "",
             why != NULL ? why : "");
    if (cli_audit(st, "vendor add", why == NULL ? "done" : "failed", v->name,
                  NULL, NULL, detail) != CLI_OK)
        rc = CLI_FAIL;
    free(subject);
    store_close(st);
    config_free(cfg);
    return rc;
}

static int vendor_add(struct cli_ctx *ctx, int argc, char **argv)
{
    static const struct option longopts[] = {
        CLI_COMMON_LONGOPTS,
        {"chain", required_argument, NULL, 'c'},
        {"id-attr", required_argument, NULL, 'i'},
        {NULL, 0, NULL, 0},
    };
    struct store_vendor v = {0};
    const char *chain = NULL, *id_attr = "serialNumber";
    int c, rc;

    opterr = 0;
    while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        switch (c) {
        case 'd':
            ctx->dir = optarg;
            break;
        case 'h':
            return cli_help(add_usage);
        case 'c':
            chain = optarg;
            break;
        case 'i':
            if (strcmp(optarg, "serialNumber") != 0 &&
                strcmp(optarg, "CN") != 0)
                return cli_usage_error("vendor add", add_usage,
                                       "--id-attr must be serialNumber or CN");
            id_attr = optarg;
            break;
        default:
            return cli_getopt_error("vendor add", add_usage, c, argv);
        }
    }
    if (argc - optind != 2)
        return cli_usage_error("vendor add", add_usage,
                               "expected NAME and ROOT.pem");
    if (!name_ok(argv[optind]))
        return cli_fail("vendor add",
                        "bad vendor name '%s': use 1-64 of A-Z a-z 0-9 . _ -",
                        argv[optind]);
    if (load_vendor_pem(argv[optind + 1], chain, &v) != CLI_OK)
        rc = CLI_FAIL;
    else {
        v.name = argv[optind];
        v.id_attr = (char *)id_attr;
        rc = vendor_store(ctx->dir, &v);
    }
    free(v.root_pem);
    free(v.chain_pem);
    return rc;
}

/* RFC 2253 subject of the first certificate of `pem`, new string. */
static char *root_subject(const char *pem)
{
    BIO *bio = pem != NULL ? BIO_new_mem_buf(pem, -1) : NULL;
    X509 *x = bio != NULL ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
    char *s = x != NULL ? cli_name_str(X509_get_subject_name(x)) : NULL;

    X509_free(x);
    BIO_free(bio);
    return s != NULL ? s : strdup("?");
}

static int vendor_list(struct cli_ctx *ctx, int argc, char **argv)
{
    struct cmpca_err err = CMPCA_ERR_INIT;
    struct cmpca_config *cfg = NULL;
    struct store_vendor *vs = NULL;
    struct store *st = NULL;
    size_t num = 0, i;
    int rc = CLI_FAIL;

    if ((rc = cli_parse_common(ctx, "vendor list", list_usage, argc, argv)) >= 0)
        return rc;
    rc = CLI_FAIL;
    if (optind < argc)
        return cli_usage_error("vendor list", list_usage,
                               "unexpected argument %s", argv[optind]);
    if (cli_open(ctx->dir, &cfg, &st) != CLI_OK)
        return CLI_FAIL;
    if (store_vendor_list(st, &vs, &num, &err) != 0) {
        cli_fail("vendor list", "%s", err.msg);
        goto done;
    }
    printf("NAME\tID_ATTR\tROOT_SUBJECT\n");
    for (i = 0; i < num; i++) {
        char *subject = root_subject(vs[i].root_pem);

        printf("%s\t%s\t%s\n", vs[i].name, vs[i].id_attr,
               subject != NULL ? subject : "?");
        free(subject);
    }
    rc = CLI_OK;
done:
    store_vendor_list_free(vs, num);
    store_close(st);
    config_free(cfg);
    return rc;
}

int cmd_vendor(struct cli_ctx *ctx, int argc, char **argv)
{
    static const struct cli_cmd subs[] = {
        {"add", vendor_add, NULL},
        {"list", vendor_list, NULL},
        {"crl", cli_vendor_crl, NULL},
        {NULL, NULL, NULL},
    };

    return cli_dispatch(ctx, "vendor", vendor_usage, subs, argc, argv);
}
