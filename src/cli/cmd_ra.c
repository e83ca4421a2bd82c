/*
 * cmd_ra.c: `cmpca ra add|list|remove`, the registry of registration
 * authorities that may send requests on behalf of devices (RFC 9483 5).
 * An RA is its certificate, pinned by value: the server treats a request
 * as the RA's when the certificate that protects it is exactly the
 * registered one, so the certificate may be self-signed or come from any CA
 * and no chain is checked. That makes what `add` accepts the whole of the
 * trust decision, hence the checks here: one certificate that is still
 * valid and may sign, that is not one of our own CA certificates, that no
 * other RA holds, and vendors that exist. As with vendors, we store our own
 * PEM encoding of the parsed certificate, never the operator's file.
 */
#include "cli/cli.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/pem.h>
#include <openssl/x509v3.h>

static const char ra_usage[] =
    "usage: cmpca ra [--dir DIR] add NAME CERT.pem --vendors V1,V2|*\n"
    "                            [--may-raverify] [--may-revoke]\n"
    "       cmpca ra [--dir DIR] list\n"
    "       cmpca ra [--dir DIR] remove NAME\n"
    "\n"
    "  add      register the RA whose requests are protected by CERT.pem\n"
    "  list     one line per RA: NAME, VENDORS, RAVERIFY, REVOKE, SUBJECT\n"
    "           (tab-separated)\n"
    "  remove   unregister an RA; a running server refuses it at once\n";

static const char add_usage[] =
    "usage: cmpca ra add [--dir DIR] NAME CERT.pem --vendors V1,V2|*\n"
    "                    [--may-raverify] [--may-revoke]\n"
    "\n"
    "  NAME            1-64 characters of A-Z a-z 0-9 . _ -\n"
    "  CERT.pem        exactly one certificate, the one the RA signs its\n"
    "                  requests with (self-signed or from any CA)\n"
    "  --vendors LIST  vendors whose devices the RA may serve, separated by\n"
    "                  commas, or * for every vendor (required)\n"
    "  --may-raverify  the RA may vouch for the proof of possession of the\n"
    "                  devices' keys (raVerified)\n"
    "  --may-revoke    the RA may revoke its devices' certificates\n"
    "  --dir DIR       data directory (default: $CMPCA_DIR, else "
    "./cmpca-data)\n";

static const char list_usage[] =
    "usage: cmpca ra list [--dir DIR]\n"
    "\n"
    "Prints NAME, VENDORS, RAVERIFY, REVOKE and SUBJECT of each RA,\n"
    "tab-separated, after a header line.\n";

static const char remove_usage[] =
    "usage: cmpca ra remove [--dir DIR] NAME\n"
    "\n"
    "Unregisters RA NAME. A running server refuses its requests from the\n"
    "next one on.\n";

/* 1 when the `len` bytes at `s` are 1-64 of A-Z a-z 0-9 . _ - */
static int name_ok(const char *s, size_t len)
{
    static const char allowed[] = "abcdefghijklmnopqrstuvwxyz"
                                  "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-";
    size_t i;

    if (len < 1 || len > 64)
        return 0;
    for (i = 0; i < len; i++)
        if (s[i] == '\0' || strchr(allowed, s[i]) == NULL)
            return 0;
    return 1;
}

/* 1 when item `s` (`len` bytes) already occurs in comma-joined `list`. */
static int list_has(const char *list, const char *s, size_t len)
{
    const char *p = list, *end;

    while (*p != '\0') {
        end = strchr(p, ',');
        if (end == NULL)
            end = p + strlen(p);
        if ((size_t)(end - p) == len && memcmp(p, s, len) == 0)
            return 1;
        p = *end == ',' ? end + 1 : end;
    }
    return 0;
}

/* Checks the --vendors value: "*", or names joined by commas. *out is a new
 * string without repeated names. Returns 0, or -1 with the reason in `why`
 * (a usage error). Whether each vendor exists is checked later. */
static int vendors_parse(const char *arg, char **out, char *why, size_t wlen)
{
    const char *p = arg, *comma;
    char *list = NULL;
    size_t len, used = 0;

    *out = NULL;
    if ((list = calloc(1, strlen(arg) + 1)) == NULL) {
        snprintf(why, wlen, "out of memory");
        return -1;
    }
    if (strcmp(arg, "*") == 0) {
        list[0] = '*'; /* calloc'd strlen("*") + 1 octets: "*" */
        *out = list;
        return 0;
    }
    for (;;) {
        comma = strchr(p, ',');
        len = comma != NULL ? (size_t)(comma - p) : strlen(p);
        if (len == 0 || (len == 1 && *p == '*')) {
            snprintf(why, wlen,
                     "--vendors takes * alone or vendor names "
                     "separated by commas, without blanks");
            free(list);
            return -1;
        }
        if (!list_has(list, p, len)) {
            if (used > 0)
                list[used++] = ',';
            memcpy(list + used, p, len);
            used += len;
        }
        if (comma == NULL)
            break;
        p = comma + 1;
    }
    *out = list;
    return 0;
}

/* Checks that every vendor of `vendors` ("*" passes) is in the store. */
static int vendors_exist(struct store *st, const char *vendors)
{
    struct cmpca_err err = CMPCA_ERR_INIT;
    struct store_vendor v = {0};
    char name[65];
    const char *p = vendors, *comma;
    size_t len;
    int ret;

    if (strcmp(vendors, "*") == 0)
        return CLI_OK;
    for (; p != NULL; p = comma != NULL ? comma + 1 : NULL) {
        comma = strchr(p, ',');
        len = comma != NULL ? (size_t)(comma - p) : strlen(p);
        if (!name_ok(p, len))
            return cli_fail("ra add", "no vendor %.*s", (int)len, p);
        memcpy(name, p, len);
        name[len] = '\0';
        ret = store_vendor_get(st, name, &v, &err);
        store_vendor_clear(&v);
        if (ret == STORE_NOTFOUND)
            return cli_fail("ra add", "no vendor %s", name);
        if (ret != 0)
            return cli_fail("ra add", "%s", err.msg);
    }
    return CLI_OK;
}

/* Formats ASN1_TIME `t` as YYYY-MM-DDTHH:MM:SSZ into `buf` (>= 21). */
static void asn1_time_str(const ASN1_TIME *t, char *buf, size_t buflen)
{
    struct tm tm;

    if (ASN1_TIME_to_tm(t, &tm) != 1 ||
        strftime(buf, buflen, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        snprintf(buf, buflen, "?");
}

/* Refuses an expired certificate and one whose keyUsage forbids signing. */
static int check_usable(const char *path, X509 *x)
{
    char when[32];

    if (X509_cmp_current_time(X509_get0_notAfter(x)) <= 0) {
        asn1_time_str(X509_get0_notAfter(x), when, sizeof(when));
        return cli_fail(path, "certificate expired (notAfter %s)", when);
    }
    /* the first query decodes the extensions; a broken one is flagged */
    if ((X509_get_extension_flags(x) & EXFLAG_INVALID) != 0)
        return cli_fail(path, "certificate has invalid extensions");
    if ((X509_get_extension_flags(x) & EXFLAG_KUSAGE) != 0 &&
        (X509_get_key_usage(x) & KU_DIGITAL_SIGNATURE) == 0)
        return cli_fail(path, "keyUsage does not allow digitalSignature");
    if (X509_cmp_current_time(X509_get0_notBefore(x)) > 0) {
        asn1_time_str(X509_get0_notBefore(x), when, sizeof(when));
        fprintf(stderr,
                "cmpca: ra add: %s: not valid before %s; the RA is refused "
                "until then\n",
                path, when);
    }
    return CLI_OK;
}

/* Refuses `x` when it is the CA certificate in file `rel` of DIR (`role`
 * names it) or carries that certificate's key. */
static int check_not_ca(const struct cmpca_config *cfg, const char *rel,
                        const char *role, const char *path, X509 *x)
{
    char *ca_path = config_path(cfg, rel);
    X509 *ca = NULL;
    char why[256];
    int rc = CLI_FAIL;

    if (ca_path == NULL)
        return cli_fail("ra add", "out of memory");
    if ((ca = cli_read_cert(ca_path, why, sizeof(why))) == NULL)
        cli_fail(ca_path, "%s", why);
    else if (X509_cmp(x, ca) == 0)
        cli_fail(path, "is the %s certificate of this cmpca", role);
    else if (EVP_PKEY_eq(X509_get0_pubkey(x), X509_get0_pubkey(ca)) == 1)
        cli_fail(path, "certifies the key of the %s of this cmpca", role);
    else
        rc = CLI_OK;
    X509_free(ca);
    free(ca_path);
    return rc;
}

/* Reads and checks CERT.pem; returns the certificate (new) or NULL. */
static X509 *load_ra_cert(const struct cmpca_config *cfg, const char *path)
{
    char why[256];
    X509 *x = cli_read_cert(path, why, sizeof(why));

    if (x == NULL) {
        cli_fail(path, "%s", why);
        return NULL;
    }
    /* our own CAs first: that is the error to report for them */
    if (check_not_ca(cfg, cfg->root_cert, "operator root CA", path, x) !=
            CLI_OK ||
        check_not_ca(cfg, cfg->ca_cert, "issuing CA", path, x) != CLI_OK ||
        check_usable(path, x) != CLI_OK) {
        X509_free(x);
        return NULL;
    }
    return x;
}

/* Explains why store_ra_add said STORE_EXISTS (or would): the name is
 * taken, or the certificate belongs to another RA. CLI_OK if neither. */
static int check_taken(struct store *st, const struct store_ra *ra)
{
    struct cmpca_err err = CMPCA_ERR_INIT;
    struct store_ra *ras = NULL;
    size_t num = 0, i;
    int rc = CLI_OK;

    if (store_ra_list(st, &ras, &num, &err) != 0)
        return cli_fail("ra add", "%s", err.msg);
    for (i = 0; i < num && rc == CLI_OK; i++)
        if (strcmp(ras[i].name, ra->name) == 0)
            rc = cli_fail("ra add", "RA %s exists", ra->name);
    for (i = 0; i < num && rc == CLI_OK; i++)
        if (strcmp(ras[i].cert_pem, ra->cert_pem) == 0)
            rc = cli_fail("ra add", "certificate already registered as RA %s",
                          ras[i].name);
    store_ra_list_free(ras, num);
    return rc;
}

/* Prints what was registered: the subject and fingerprint on stdout, to
 * compare with the RA operator's, and a notice on stderr. */
static int print_added(const struct store_ra *ra, X509 *x)
{
    char *subject = cli_name_str(X509_get_subject_name(x));
    char fp[128];
    int rc = CLI_OK;

    if (subject == NULL || cli_fingerprint(x, fp, sizeof(fp)) != 0)
        rc = cli_fail("ra add", "cannot print the certificate");
    else
        printf("RA subject: %s\nRA SHA-256 fingerprint: %s\n", subject, fp);
    free(subject);
    fprintf(stderr, "cmpca: RA %s added (vendors %s)\n", ra->name, ra->vendors);
    return rc;
}

/* Checks the certificate and vendors against DIR, then stores `ra`. */
static int ra_register(const char *dir, const char *cert_path,
                       struct store_ra *ra)
{
    struct cmpca_err err = CMPCA_ERR_INIT;
    struct cmpca_config *cfg = NULL;
    STACK_OF(X509) *one = NULL;
    struct store *st = NULL;
    X509 *x = NULL;
    int rc = CLI_FAIL, ret;
    char fp[128], info[768];

    if (cli_open(dir, &cfg, &st) != CLI_OK)
        return CLI_FAIL;
    if ((x = load_ra_cert(cfg, cert_path)) == NULL)
        goto done;
    if ((one = sk_X509_new_null()) == NULL || !sk_X509_push(one, x) ||
        (ra->cert_pem = cli_certs_pem(one)) == NULL) {
        cli_fail("ra add", "cannot encode the certificate");
        goto done;
    }
    if (check_taken(st, ra) != CLI_OK ||
        vendors_exist(st, ra->vendors) != CLI_OK)
        goto done;
    ret = store_ra_add(st, ra, &err);
    if (ret == STORE_EXISTS) {
        /* another `ra add` won the race since check_taken looked */
        if (check_taken(st, ra) == CLI_OK)
            cli_fail("ra add", "RA %s exists", ra->name);
    } else if (ret != 0) {
        cli_fail("ra add", "%s", err.msg);
    } else {
        rc = print_added(ra, x);
    }
done:
    if (x == NULL || cli_fingerprint(x, fp, sizeof(fp)) != 0)
        snprintf(fp, sizeof(fp), "?");
    snprintf(info, sizeof(info),
             "name=%s cert=%s raverify=%s revoke=%s vendors=%s", ra->name, fp,
             ra->may_raverify ? "yes" : "no", ra->may_revoke ? "yes" : "no",
             ra->vendors);
    if (cli_audit(st, "ra add", rc == CLI_OK ? "done" : "failed", NULL, NULL,
                  NULL, info) != CLI_OK)
        rc = CLI_FAIL;
    sk_X509_free(one); /* x is freed below, the stack only borrowed it */
    X509_free(x);
    store_close(st);
    config_free(cfg);
    return rc;
}

static int ra_add(struct cli_ctx *ctx, int argc, char **argv)
{
    enum { OPT_VENDORS = 'v', OPT_RAVERIFY = 'p', OPT_REVOKE = 'r' };
    static const struct option longopts[] = {
        CLI_COMMON_LONGOPTS,
        {"vendors", required_argument, NULL, OPT_VENDORS},
        {"may-raverify", no_argument, NULL, OPT_RAVERIFY},
        {"may-revoke", no_argument, NULL, OPT_REVOKE},
        {NULL, 0, NULL, 0},
    };
    struct store_ra ra = {0};
    const char *vendors = NULL;
    char why[160];
    int c, rc;

    opterr = 0;
    while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        switch (c) {
        case 'd':
            ctx->dir = optarg;
            break;
        case 'h':
            return cli_help(add_usage);
        case OPT_VENDORS:
            vendors = optarg;
            break;
        case OPT_RAVERIFY:
            ra.may_raverify = 1;
            break;
        case OPT_REVOKE:
            ra.may_revoke = 1;
            break;
        default:
            return cli_getopt_error("ra add", add_usage, c, argv);
        }
    }
    if (argc - optind != 2)
        return cli_usage_error("ra add", add_usage,
                               "expected NAME and CERT.pem");
    if (vendors == NULL)
        return cli_usage_error("ra add", add_usage,
                               "--vendors is required (* for every vendor)");
    if (vendors_parse(vendors, &ra.vendors, why, sizeof(why)) != 0)
        return cli_usage_error("ra add", add_usage, "%s", why);
    if (!name_ok(argv[optind], strlen(argv[optind]))) {
        free(ra.vendors);
        return cli_fail("ra add",
                        "bad RA name '%s': use 1-64 of A-Z a-z 0-9 . _ -",
                        argv[optind]);
    }
    ra.name = argv[optind];
    rc = ra_register(ctx->dir, argv[optind + 1], &ra);
    free(ra.vendors);
    free(ra.cert_pem);
    return rc;
}

/* RFC 2253 subject of the certificate in `pem`, new string ("?" when it
 * does not parse). */
static char *pem_subject(const char *pem)
{
    BIO *bio = pem != NULL ? BIO_new_mem_buf(pem, -1) : NULL;
    X509 *x = bio != NULL ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
    char *s = x != NULL ? cli_name_str(X509_get_subject_name(x)) : NULL;

    X509_free(x);
    BIO_free(bio);
    return s != NULL ? s : strdup("?");
}

static int ra_list(struct cli_ctx *ctx, int argc, char **argv)
{
    struct cmpca_err err = CMPCA_ERR_INIT;
    struct cmpca_config *cfg = NULL;
    struct store_ra *ras = NULL;
    struct store *st = NULL;
    size_t num = 0, i;
    int rc;

    if ((rc = cli_parse_common(ctx, "ra list", list_usage, argc, argv)) >= 0)
        return rc;
    if (optind < argc)
        return cli_usage_error("ra list", list_usage, "unexpected argument %s",
                               argv[optind]);
    if (cli_open(ctx->dir, &cfg, &st) != CLI_OK)
        return CLI_FAIL;
    rc = CLI_FAIL;
    if (store_ra_list(st, &ras, &num, &err) != 0) {
        cli_fail("ra list", "%s", err.msg);
        goto done;
    }
    printf("NAME\tVENDORS\tRAVERIFY\tREVOKE\tSUBJECT\n");
    for (i = 0; i < num; i++) {
        char *subject = pem_subject(ras[i].cert_pem);

        printf("%s\t%s\t%s\t%s\t%s\n", ras[i].name, ras[i].vendors,
               ras[i].may_raverify ? "yes" : "no",
               ras[i].may_revoke ? "yes" : "no",
               subject != NULL ? subject : "?");
        free(subject);
    }
    rc = CLI_OK;
done:
    store_ra_list_free(ras, num);
    store_close(st);
    config_free(cfg);
    return rc;
}

static int ra_remove(struct cli_ctx *ctx, int argc, char **argv)
{
    struct cmpca_err err = CMPCA_ERR_INIT;
    struct cmpca_config *cfg = NULL;
    struct store *st = NULL;
    const char *name, *why;
    char info[512];
    int rc;

    if ((rc = cli_parse_common(ctx, "ra remove", remove_usage, argc, argv)) >=
        0)
        return rc;
    if (argc - optind != 1)
        return cli_usage_error("ra remove", remove_usage, "expected NAME");
    name = argv[optind];
    if (cli_open(ctx->dir, &cfg, &st) != CLI_OK)
        return CLI_FAIL;
    rc = store_ra_remove(st, name, &err);
    why = rc == 0 ? NULL : rc == STORE_NOTFOUND ? "no such RA" : err.msg;
    if (rc == STORE_NOTFOUND)
        rc = cli_fail("ra remove", "no RA %s", name);
    else if (rc != 0)
        rc = cli_fail("ra remove", "%s", err.msg);
    else
        printf("removed RA %s\n", name);
    snprintf(info, sizeof(info), "name=%s%s%s", name, why != NULL ? ": " : "",
             why != NULL ? why : "");
    if (cli_audit(st, "ra remove", rc == CLI_OK ? "done" : "failed", NULL, NULL,
                  NULL, info) != CLI_OK)
        rc = CLI_FAIL;
    store_close(st);
    config_free(cfg);
    return rc;
}

int cmd_ra(struct cli_ctx *ctx, int argc, char **argv)
{
    static const struct cli_cmd subs[] = {
        {"add", ra_add, NULL},
        {"list", ra_list, NULL},
        {"remove", ra_remove, NULL},
        {NULL, NULL, NULL},
    };

    return cli_dispatch(ctx, "ra", ra_usage, subs, argc, argv);
}
