/*
 * cmd_init.c: `cmpca init` creates a data directory: config, operator root,
 * issuing CA and an empty store. It refuses to touch a directory that already
 * holds any of the CA files, and removes what it created when a later step
 * fails, so a failed init can simply be run again.
 */
#include "cli/cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "ca/ca.h"

static const char init_usage[] =
    "usage: cmpca init [--dir DIR] [--key ec-p256|ec-p384|rsa-2048|rsa-3072]\n"
    "                  [--org NAME] [--db URI]\n"
    "\n"
    "Creates DIR (mode 0700) with cmpca.conf, the operator root (root.pem),\n"
    "the issuing CA (ca.pem, ca.key), the key sealing device secrets\n"
    "(secrets.key) and the database. Refuses if any of these files exist.\n"
    "\n"
    "  --key TYPE   key type of root and issuing CA (default ec-p256)\n"
    "  --org NAME   organization in the CA names (default \"cmpca Demo "
    "Operator\")\n"
    "  --db URI     the database, written to [store] db: sqlite:PATH (default\n"
    "               sqlite:cmpca.db) or postgresql://USER@HOST/DBNAME (the\n"
    "               database must exist; init creates the tables)\n"
    "  --dir DIR    data directory (default: $CMPCA_DIR, else ./cmpca-data)\n";

/* The files init creates, in the order they are created. */
enum { F_CONF, F_ROOT, F_CERT, F_KEY, F_SEAL, NUM_FILES };

struct init_paths {
    char *p[NUM_FILES];
};

static void paths_clear(struct init_paths *ps)
{
    for (int i = 0; i < NUM_FILES; i++)
        free(ps->p[i]);
}

static int paths_fill(const struct cmpca_config *cfg, struct init_paths *ps)
{
    const char *rel[NUM_FILES] = {CMPCA_CONF_FILE, cfg->root_cert, cfg->ca_cert,
                                  cfg->ca_key, cfg->secrets_key};

    for (int i = 0; i < NUM_FILES; i++)
        if ((ps->p[i] = config_path(cfg, rel[i])) == NULL)
            return -1;
    return 0;
}

/* Removes the files of `ps`: called only after checking none existed. */
static void paths_unlink(const struct init_paths *ps)
{
    for (int i = 0; i < NUM_FILES; i++)
        if (ps->p[i] != NULL)
            unlink(ps->p[i]);
}

static int print_root(const char *root_path, FILE *out)
{
    char why[256], fp[128];
    X509 *root = cli_read_cert(root_path, why, sizeof(why));
    char *subject = NULL;
    int rc = CLI_FAIL;

    if (root == NULL)
        return cli_fail(root_path, "%s", why);
    if ((subject = cli_name_str(X509_get_subject_name(root))) == NULL ||
        cli_fingerprint(root, fp, sizeof(fp)) != 0) {
        cli_fail("init", "cannot format the root certificate");
        goto done;
    }
    fprintf(out, "root subject: %s\n", subject);
    fprintf(out, "root SHA-256 fingerprint: %s\n", fp);
    rc = CLI_OK;
done:
    free(subject);
    X509_free(root);
    return rc;
}

/* The --key name of `key_type`, for the audit log. */
static const char *key_name(int key_type)
{
    static const char *const names[] = {"ec-p256", "ec-p384", "rsa-2048",
                                        "rsa-3072"};

    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (ca_key_type_from_name(names[i]) == key_type)
            return names[i];
    return "?";
}

/* Creates config, CA files and store. On failure removes the files. */
static int create_all(const struct cmpca_config *cfg,
                      const struct init_paths *ps, int key_type,
                      const char *org)
{
    struct cmpca_err err = CMPCA_ERR_INIT;
    unsigned char seal[CA_SEAL_KEY_LEN];
    struct ca_create_opts o = {0};
    struct store *st = NULL;
    char detail[128];

    if (config_write(cfg) != 0) {
        cli_fail(ps->p[F_CONF], "%s", strerror(errno));
        goto fail;
    }
    o.key_type = key_type;
    o.org = org;
    o.root_days = 7300;
    o.issuing_days = 3650;
    o.root_path = ps->p[F_ROOT];
    o.cert_path = ps->p[F_CERT];
    o.key_path = ps->p[F_KEY];
    if (ca_create(&o, &err) != 0) {
        cli_fail("init", "cannot create the CA: %s", err.msg);
        goto fail;
    }
    if (ca_seal_key_load(ps->p[F_SEAL], 1, seal, &err) != 0) {
        cli_fail("init", "cannot create the sealing key: %s", err.msg);
        goto fail;
    }
    OPENSSL_cleanse(seal, sizeof(seal));
    if (cli_open_store(cfg, &st) != CLI_OK)
        goto fail;
    snprintf(detail, sizeof(detail), "org=%s key=%s", org, key_name(key_type));
    if (cli_audit(st, "init", "done", NULL, NULL, NULL, detail) != CLI_OK) {
        store_close(st);
        goto fail;
    }
    store_close(st);
    return CLI_OK;
fail:
    paths_unlink(ps);
    return CLI_FAIL;
}

/* set_db puts `db` (NULL: keep the default) into the new config. */
static int set_db(struct cmpca_config *cfg, const char *db)
{
    char *copy;

    if (db == NULL)
        return 0;
    if ((copy = strdup(db)) == NULL)
        return -1;
    free(cfg->db);
    cfg->db = copy;
    return 0;
}

static int init_dir_db(const char *dir, int key_type, const char *org,
                       const char *db, FILE *out)
{
    struct cmpca_config *cfg = NULL;
    struct init_paths ps = {{NULL}};
    int rc = CLI_FAIL, i;

    if ((cfg = config_defaults(dir)) == NULL || set_db(cfg, db) != 0 ||
        paths_fill(cfg, &ps) != 0) {
        cli_fail("init", "out of memory");
        goto done;
    }
    for (i = 0; i < NUM_FILES; i++) {
        if (cli_file_exists(ps.p[i])) {
            cli_fail("init", "%s exists: refusing to overwrite", ps.p[i]);
            goto done;
        }
    }
    if (cli_mkdirs(dir, 0700) != 0) {
        cli_fail(dir, "%s", strerror(errno));
        goto done;
    }
    if (create_all(cfg, &ps, key_type, org) != CLI_OK)
        goto done;
    fprintf(stderr, "cmpca: created the operator CA in %s\n", dir);
    rc = print_root(ps.p[F_ROOT], out);
done:
    paths_clear(&ps);
    config_free(cfg);
    return rc;
}

int cli_init_dir(const char *dir, int key_type, const char *org, FILE *out)
{
    return init_dir_db(dir, key_type, org, NULL, out);
}

int cmd_init(struct cli_ctx *ctx, int argc, char **argv)
{
    static const struct option longopts[] = {
        CLI_COMMON_LONGOPTS,
        {"key", required_argument, NULL, 'k'},
        {"org", required_argument, NULL, 'o'},
        {"db", required_argument, NULL, 'b'},
        {NULL, 0, NULL, 0},
    };
    const char *org = CLI_DEFAULT_ORG, *db = NULL;
    int key_type = CA_KEY_EC_P256, c;

    opterr = 0;
    while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        switch (c) {
        case 'b':
            if (optarg[0] == '\0' || strpbrk(optarg, "\n\r") != NULL)
                return cli_usage_error("init", init_usage,
                                       "--db must be one non-empty line");
            db = optarg;
            break;
        case 'd':
            ctx->dir = optarg;
            break;
        case 'h':
            return cli_help(init_usage);
        case 'k':
            if ((key_type = ca_key_type_from_name(optarg)) < 0)
                return cli_usage_error("init", init_usage,
                                       "unknown key type %s", optarg);
            break;
        case 'o':
            if (optarg[0] == '\0' || strlen(optarg) > 64)
                return cli_usage_error("init", init_usage,
                                       "--org must be 1-64 characters");
            org = optarg;
            break;
        default:
            return cli_getopt_error("init", init_usage, c, argv);
        }
    }
    if (optind < argc)
        return cli_usage_error("init", init_usage, "unexpected argument %s",
                               argv[optind]);
    return init_dir_db(ctx->dir, key_type, org, db, stdout);
}
