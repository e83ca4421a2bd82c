/*
 * cmd_vendor_crl.c: `cmpca vendor crl NAME FILE`. A vendor that revokes a
 * device certificate (a stolen key, a scrapped board) publishes a CRL; with
 * it configured, that device can no longer enroll. Only a CRL signed by the
 * vendor's root or one of its configured intermediates is accepted, and it
 * is stored in our own PEM encoding. The server checks every vendor
 * certificate of that vendor against it, and refuses all of them once it is
 * past its nextUpdate: an operator who configures a CRL must keep it fresh.
 */
#include "cli/cli.h"

#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>

const char cli_vendor_crl_usage[] =
    "usage: cmpca vendor crl [--dir DIR] NAME FILE\n"
    "       cmpca vendor crl [--dir DIR] NAME --remove\n"
    "\n"
    "Sets the CRL (PEM or DER) the device certificates of vendor NAME are\n"
    "checked against, replacing any earlier one; --remove stops checking.\n"
    "The CRL must be signed by the vendor's root or a configured\n"
    "intermediate. Takes effect on a running server at once.\n";

/* Reads one CRL, PEM or DER. */
static X509_CRL *read_crl(const char *path)
{
    BIO *bio = BIO_new_file(path, "rb");
    X509_CRL *crl = NULL;

    if (bio == NULL)
        return NULL;
    crl = PEM_read_bio_X509_CRL(bio, NULL, NULL, NULL);
    if (crl == NULL && BIO_reset(bio) == 0)
        crl = d2i_X509_CRL_bio(bio, NULL);
    BIO_free(bio);
    return crl;
}

/* 1 when a certificate of the vendor (root or chain) signed `crl`. */
static int signed_by_vendor(X509_CRL *crl, const struct store_vendor *v)
{
    const char *pems[2] = {v->root_pem, v->chain_pem};
    int ok = 0;

    for (int i = 0; i < 2 && !ok; i++) {
        BIO *bio = pems[i] != NULL ? BIO_new_mem_buf(pems[i], -1) : NULL;
        X509 *x;

        while (bio != NULL && !ok &&
               (x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
            ok = X509_NAME_cmp(X509_CRL_get_issuer(crl),
                               X509_get_subject_name(x)) == 0 &&
                 X509_CRL_verify(crl, X509_get0_pubkey(x)) == 1;
            X509_free(x);
        }
        BIO_free(bio);
    }
    ERR_clear_error();
    return ok;
}

static char *crl_pem(X509_CRL *crl)
{
    BIO *bio = BIO_new(BIO_s_mem());
    char *data, *out = NULL;
    long len;

    if (bio != NULL && PEM_write_bio_X509_CRL(bio, crl) &&
        (len = BIO_get_mem_data(bio, &data)) > 0 &&
        (out = malloc((size_t)len + 1)) != NULL) {
        memcpy(out, data, (size_t)len);
        out[len] = '\0';
    }
    BIO_free(bio);
    return out;
}

static int set_crl(struct store *st, const char *name, const char *file)
{
    struct cmpca_err err = CMPCA_ERR_INIT;
    struct store_vendor v;
    X509_CRL *crl = NULL;
    char *pem = NULL, detail[128];
    int rc = CLI_FAIL, r;

    memset(&v, 0, sizeof(v));
    r = store_vendor_get(st, name, &v, &err);
    if (r != 0)
        return cli_fail("vendor crl", "%s",
                        r == STORE_NOTFOUND ? "no such vendor" : err.msg);
    if (file != NULL) {
        if ((crl = read_crl(file)) == NULL) {
            cli_fail("vendor crl", "%s: not a CRL", file);
            goto done;
        }
        if (!signed_by_vendor(crl, &v)) {
            cli_fail("vendor crl", "%s: not signed by vendor %s's root or "
                     "intermediates", file, name);
            goto done;
        }
        if ((pem = crl_pem(crl)) == NULL) {
            cli_fail("vendor crl", "out of memory");
            goto done;
        }
    }
    if (store_vendor_set_crl(st, name, pem, &err) != 0) {
        cli_fail("vendor crl", "%s", err.msg);
        goto done;
    }
    fprintf(stderr, "cmpca: vendor %s: CRL %s\n", name,
            file != NULL ? "set" : "removed");
    snprintf(detail, sizeof(detail), "name=%s %s", name,
             file != NULL ? "set" : "removed");
    rc = cli_audit(st, "vendor crl", "done", NULL, NULL, NULL, detail);
done:
    free(pem);
    X509_CRL_free(crl);
    store_vendor_clear(&v);
    return rc;
}

int cli_vendor_crl(struct cli_ctx *ctx, int argc, char **argv)
{
    static const struct option longopts[] = {
        CLI_COMMON_LONGOPTS,
        {"remove", no_argument, NULL, 'r'},
        {NULL, 0, NULL, 0},
    };
    struct cmpca_config *cfg = NULL;
    struct store *st = NULL;
    int c, rc, remove = 0;

    opterr = 0;
    while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        if (c == 'd')
            ctx->dir = optarg;
        else if (c == 'h')
            return cli_help(cli_vendor_crl_usage);
        else if (c == 'r')
            remove = 1;
        else
            return cli_getopt_error("vendor crl", cli_vendor_crl_usage, c,
                                    argv);
    }
    if (argc - optind != (remove ? 1 : 2))
        return cli_usage_error("vendor crl", cli_vendor_crl_usage,
                               remove ? "expected NAME"
                                      : "expected NAME and FILE");
    if (cli_open(ctx->dir, &cfg, &st) != CLI_OK)
        return CLI_FAIL;
    rc = set_crl(st, argv[optind], remove ? NULL : argv[optind + 1]);
    store_close(st);
    config_free(cfg);
    return rc;
}
