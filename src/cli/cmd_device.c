/*
 * cmd_device.c: `cmpca device add|import|list`, the registry of devices
 * (vendor, serial) that may enroll. Operators import serials by the hundred
 * thousand from vendor shipping lists, so import validates the whole file
 * first (a typo on line 90,000 changes nothing) and then writes in batches,
 * each one database transaction, so a running server is never locked out for
 * long.
 */
#include "cli/cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define IMPORT_BATCH 10000
#define SERIAL_MAX   128

static const char device_usage[] =
    "usage: cmpca device [--dir DIR] add VENDOR SERIAL...\n"
    "       cmpca device [--dir DIR] import VENDOR FILE\n"
    "       cmpca device [--dir DIR] list [VENDOR]\n"
    "\n"
    "  add      register device serials of VENDOR (existing ones are "
    "skipped)\n"
    "  import   register the serials in FILE (- for stdin), one per line;\n"
    "           blank lines and lines starting with # are ignored\n"
    "  list     one line per device: VENDOR, SERIAL, STATE (tab-separated)\n";

static const char add_usage[] =
    "usage: cmpca device add [--dir DIR] VENDOR SERIAL...\n"
    "\n"
    "Registers each SERIAL under VENDOR; serials already registered are\n"
    "reported and skipped. Prints \"added N, skipped M (already "
    "registered)\".\n";

static const char import_usage[] =
    "usage: cmpca device import [--dir DIR] VENDOR FILE\n"
    "\n"
    "Registers one serial per line of FILE (- reads stdin). Lines are\n"
    "trimmed; blank lines and lines starting with # are skipped. Prints\n"
    "\"imported N, skipped M (already registered)\".\n";

static const char list_usage[] =
    "usage: cmpca device list [--dir DIR] [VENDOR]\n"
    "\n"
    "Prints VENDOR, SERIAL and STATE (registered|enrolled|disabled) of each\n"
    "device, tab-separated, after a header line.\n";


/* A serial is 1-128 bytes without control characters (it is printed in
 * tab-separated listings and compared with certificate attributes). */
static const char *serial_problem(const char *s)
{
    size_t n = strlen(s);

    if (n == 0)
        return "empty serial";
    if (n > SERIAL_MAX)
        return "serial longer than 128 bytes";
    for (; *s != '\0'; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return "control character in serial";
    return NULL;
}

/* Fails with "no vendor X" unless vendor `name` exists. */
static int need_vendor(struct store *st, const char *what, const char *name)
{
    struct cmpca_err err = CMPCA_ERR_INIT;
    struct store_vendor v = {0};
    int rc = store_vendor_get(st, name, &v, &err);

    store_vendor_clear(&v);
    if (rc == STORE_NOTFOUND)
        return cli_fail(what, "no vendor %s", name);
    if (rc != 0)
        return cli_fail(what, "%s", err.msg);
    return CLI_OK;
}

static int device_add(struct cli_ctx *ctx, int argc, char **argv)
{
    struct cmpca_err err = CMPCA_ERR_INIT;
    struct cmpca_config *cfg = NULL;
    struct store *st = NULL;
    const char *vendor, *why;
    size_t added = 0, skipped = 0;
    int rc, i, r;

    if ((rc = cli_parse_common(ctx, "device add", add_usage, argc, argv)) >= 0)
        return rc;
    if (argc - optind < 2)
        return cli_usage_error("device add", add_usage,
                               "expected VENDOR and at least one SERIAL");
    vendor = argv[optind];
    for (i = optind + 1; i < argc; i++)
        if ((why = serial_problem(argv[i])) != NULL)
            return cli_fail("device add", "'%s': %s", argv[i], why);
    if (cli_open(ctx->dir, &cfg, &st) != CLI_OK)
        return CLI_FAIL;
    if ((rc = need_vendor(st, "device add", vendor)) != CLI_OK)
        goto done;
    for (i = optind + 1; i < argc; i++) {
        r = store_device_add(st, vendor, argv[i], &err);
        if (r == 0) {
            added++;
        } else if (r == STORE_EXISTS) {
            fprintf(stderr,
                    "cmpca: device %s/%s: already registered, "
                    "skipped\n",
                    vendor, argv[i]);
            skipped++;
        } else {
            rc = cli_fail("device add", "%s/%s: %s", vendor, argv[i],
                          r == STORE_NOTFOUND ? "no such vendor" : err.msg);
        }
    }
    printf("added %zu, skipped %zu (already registered)\n", added, skipped);
done:
    store_close(st);
    config_free(cfg);
    return rc;
}

struct serial_list {
    char **v;
    size_t num, cap;
};

static void serial_list_clear(struct serial_list *l)
{
    for (size_t i = 0; i < l->num; i++)
        free(l->v[i]);
    free(l->v);
}

static int serial_list_push(struct serial_list *l, const char *s, size_t len)
{
    char **nv;

    if (l->num == l->cap) {
        size_t ncap = l->cap == 0 ? 1024 : l->cap * 2;

        if ((nv = realloc(l->v, ncap * sizeof(*nv))) == NULL)
            return -1;
        l->v = nv;
        l->cap = ncap;
    }
    if ((l->v[l->num] = strndup(s, len)) == NULL)
        return -1;
    l->num++;
    return 0;
}

/* Reads the serials of `f` into `l`; returns an exit status. */
static int read_serials(FILE *f, const char *name, struct serial_list *l)
{
    char *line = NULL, *s, *e;
    size_t cap = 0, lineno = 0;
    const char *why;
    int rc = CLI_FAIL;

    errno = 0;
    while (getline(&line, &cap, f) >= 0) {
        lineno++;
        for (s = line; *s == ' ' || *s == '\t'; s++)
            ;
        e = s + strlen(s);
        while (e > s && (e[-1] == '\n' || e[-1] == '\r' || e[-1] == ' ' ||
                         e[-1] == '\t'))
            *--e = '\0';
        if (*s == '\0' || *s == '#')
            continue;
        if ((why = serial_problem(s)) != NULL) {
            cli_fail(name, "line %zu: %s", lineno, why);
            goto done;
        }
        if (serial_list_push(l, s, (size_t)(e - s)) != 0) {
            cli_fail(name, "out of memory");
            goto done;
        }
    }
    if (ferror(f)) {
        cli_fail(name, "%s", strerror(errno != 0 ? errno : EIO));
        goto done;
    }
    rc = CLI_OK;
done:
    free(line);
    return rc;
}

/* Imports `l` in batches; returns an exit status. */
static int import_serials(struct store *st, const char *vendor,
                          const struct serial_list *l)
{
    struct cmpca_err err = CMPCA_ERR_INIT;
    size_t added = 0, skipped = 0, a, s, i, n;
    int r;

    for (i = 0; i < l->num; i += n) {
        n = l->num - i < IMPORT_BATCH ? l->num - i : IMPORT_BATCH;
        a = s = 0;
        r = store_device_import(st, vendor, (const char *const *)l->v + i, n,
                                &a, &s, &err);
        if (r != 0) {
            if (i > 0)
                fprintf(stderr,
                        "cmpca: device import: the first %zu serials "
                        "were committed\n",
                        i);
            return cli_fail("device import", "%s",
                            r == STORE_NOTFOUND ? "no such vendor" : err.msg);
        }
        added += a;
        skipped += s;
    }
    printf("imported %zu, skipped %zu (already registered)\n", added, skipped);
    return CLI_OK;
}

static int device_import(struct cli_ctx *ctx, int argc, char **argv)
{
    struct cmpca_config *cfg = NULL;
    struct serial_list l = {NULL, 0, 0};
    struct store *st = NULL;
    const char *vendor, *path;
    FILE *f = NULL;
    int rc;

    if ((rc = cli_parse_common(ctx, "device import", import_usage, argc, argv)) >= 0)
        return rc;
    if (argc - optind != 2)
        return cli_usage_error("device import", import_usage,
                               "expected VENDOR and FILE");
    vendor = argv[optind];
    path = argv[optind + 1];
    if (cli_open(ctx->dir, &cfg, &st) != CLI_OK)
        return CLI_FAIL;
    if ((rc = need_vendor(st, "device import", vendor)) != CLI_OK)
        goto done;
    if (strcmp(path, "-") == 0) {
        f = stdin;
    } else if ((f = fopen(path, "r")) == NULL) {
        rc = cli_fail(path, "%s", strerror(errno));
        goto done;
    }
    rc = read_serials(f, strcmp(path, "-") == 0 ? "stdin" : path, &l);
    if (rc == CLI_OK)
        rc = import_serials(st, vendor, &l);
done:
    if (f != NULL && f != stdin)
        fclose(f);
    serial_list_clear(&l);
    store_close(st);
    config_free(cfg);
    return rc;
}

static const char *state_name(int state)
{
    switch (state) {
    case DEVICE_REGISTERED:
        return "registered";
    case DEVICE_ENROLLED:
        return "enrolled";
    case DEVICE_DISABLED:
        return "disabled";
    }
    return "unknown";
}

static int print_device(void *arg, const struct store_device *d)
{
    (void)arg;
    printf("%s\t%s\t%s\n", d->vendor, d->serial, state_name(d->state));
    return 0;
}

static int device_list(struct cli_ctx *ctx, int argc, char **argv)
{
    struct cmpca_err err = CMPCA_ERR_INIT;
    struct cmpca_config *cfg = NULL;
    struct store *st = NULL;
    const char *vendor = NULL;
    int rc;

    if ((rc = cli_parse_common(ctx, "device list", list_usage, argc, argv)) >= 0)
        return rc;
    if (argc - optind > 1)
        return cli_usage_error("device list", list_usage,
                               "unexpected argument %s", argv[optind + 1]);
    if (argc - optind == 1)
        vendor = argv[optind];
    if (cli_open(ctx->dir, &cfg, &st) != CLI_OK)
        return CLI_FAIL;
    if (vendor != NULL &&
        (rc = need_vendor(st, "device list", vendor)) != CLI_OK)
        goto done;
    printf("VENDOR\tSERIAL\tSTATE\n");
    if (store_device_foreach(st, vendor, print_device, NULL, &err) != 0)
        rc = cli_fail("device list", "%s", err.msg);
    else
        rc = CLI_OK;
done:
    store_close(st);
    config_free(cfg);
    return rc;
}

int cmd_device(struct cli_ctx *ctx, int argc, char **argv)
{
    static const struct cli_cmd subs[] = {
        {"add", device_add, NULL},
        {"import", device_import, NULL},
        {"list", device_list, NULL},
        {NULL, NULL, NULL},
    };

    return cli_dispatch(ctx, "device", device_usage, subs, argc, argv);
}
