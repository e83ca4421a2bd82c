/*
 * cmd_device.c: `cmpca device add|import|list|approve|reject`, the registry
 * of devices (vendor, serial) that may enroll. Operators import serials by
 * the hundred thousand from vendor shipping lists, so import validates the
 * whole file first (a typo on line 90,000 changes nothing) and then writes in
 * batches, each one database transaction, so a running server is never
 * locked out for long. Devices in manual approval mode wait for an operator:
 * approve and reject only change the device row, which the server reads
 * again when the device polls.
 */
#include "cli/cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define IMPORT_BATCH 10000
#define SERIAL_MAX   128

static const char device_usage[] =
    "usage: cmpca device [--dir DIR] add VENDOR SERIAL... "
    "[--approval auto|manual]\n"
    "       cmpca device [--dir DIR] import VENDOR FILE "
    "[--approval auto|manual]\n"
    "       cmpca device [--dir DIR] list [VENDOR]\n"
    "       cmpca device [--dir DIR] approve VENDOR SERIAL\n"
    "       cmpca device [--dir DIR] reject VENDOR SERIAL\n"
    "\n"
    "  add      register device serials of VENDOR (existing ones are "
    "skipped)\n"
    "  import   register the serials in FILE (- for stdin), one per line;\n"
    "           blank lines and lines starting with # are ignored\n"
    "  list     one line per device: VENDOR, SERIAL, STATE, APPROVAL\n"
    "           (tab-separated)\n"
    "  approve  let a device in manual approval mode enroll (once)\n"
    "  reject   refuse a device in manual approval mode\n";

static const char add_usage[] =
    "usage: cmpca device add [--dir DIR] [--approval auto|manual]\n"
    "                        VENDOR SERIAL...\n"
    "\n"
    "Registers each SERIAL under VENDOR; serials already registered are\n"
    "reported and skipped (their approval mode is left as it is). Prints\n"
    "\"added N, skipped M (already registered)\".\n"
    "\n"
    "  --approval auto    new devices enroll at once (default)\n"
    "  --approval manual  enrollment requests of new devices wait until an\n"
    "                     operator runs `cmpca device approve`\n";

static const char import_usage[] =
    "usage: cmpca device import [--dir DIR] [--approval auto|manual]\n"
    "                           VENDOR FILE\n"
    "\n"
    "Registers one serial per line of FILE (- reads stdin). Lines are\n"
    "trimmed; blank lines and lines starting with # are skipped. Serials\n"
    "already registered are skipped (their approval mode is left as it is).\n"
    "Prints \"imported N, skipped M (already registered)\".\n"
    "\n"
    "  --approval auto    new devices enroll at once (default)\n"
    "  --approval manual  requests of new devices wait for an operator\n";

static const char list_usage[] =
    "usage: cmpca device list [--dir DIR] [VENDOR]\n"
    "\n"
    "Prints VENDOR, SERIAL, STATE (registered|enrolled|disabled|approved|\n"
    "rejected) and APPROVAL (auto|manual) of each device, tab-separated,\n"
    "after a header line.\n";

static const char approve_usage[] =
    "usage: cmpca device approve [--dir DIR] VENDOR SERIAL\n"
    "\n"
    "Approves a device in manual approval mode: its waiting request is\n"
    "answered with a certificate when it next polls, or its next request is\n"
    "granted. Approving an enrolled device allows one more enrollment.\n"
    "Prints \"approved VENDOR/SERIAL\".\n";

static const char reject_usage[] =
    "usage: cmpca device reject [--dir DIR] VENDOR SERIAL\n"
    "\n"
    "Rejects a device in manual approval mode: its waiting request is\n"
    "refused when it next polls, and it may not enroll until approved.\n"
    "Prints \"rejected VENDOR/SERIAL\".\n";

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

/* Parses the options of add and import (--dir, --help, --approval) into
 * ctx and *approval. Returns -1 to go on, else an exit status. */
static int parse_register_opts(struct cli_ctx *ctx, const char *what,
                               const char *usage, int argc, char **argv,
                               int *approval)
{
    static const struct option longopts[] = {
        CLI_COMMON_LONGOPTS,
        {"approval", required_argument, NULL, 'a'},
        {NULL, 0, NULL, 0},
    };
    int c;

    *approval = APPROVAL_AUTO;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        switch (c) {
        case 'd':
            ctx->dir = optarg;
            break;
        case 'h':
            return cli_help(usage);
        case 'a':
            if (strcmp(optarg, "auto") == 0)
                *approval = APPROVAL_AUTO;
            else if (strcmp(optarg, "manual") == 0)
                *approval = APPROVAL_MANUAL;
            else
                return cli_usage_error(what, usage,
                                       "--approval must be auto or manual");
            break;
        default:
            return cli_getopt_error(what, usage, c, argv);
        }
    }
    return -1;
}

static int device_add(struct cli_ctx *ctx, int argc, char **argv)
{
    struct cmpca_err err = CMPCA_ERR_INIT;
    struct cmpca_config *cfg = NULL;
    struct store *st = NULL;
    const char *vendor, *why;
    size_t added = 0, skipped = 0;
    int rc, i, r, approval;

    rc = parse_register_opts(ctx, "device add", add_usage, argc, argv,
                             &approval);
    if (rc >= 0)
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
        r = store_device_add(st, vendor, argv[i], approval, &err);
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


/* After a failed batch: says how much of the file is in the store anyway.
 * Returns CLI_FAIL. */
static int committed_before(size_t num)
{
    if (num > 0)
        fprintf(stderr,
                "cmpca: device import: the first %zu serials were committed\n",
                num);
    return CLI_FAIL;
}

/* Imports `l` in batches, new devices in mode `approval`; returns an exit
 * status. */
static int import_serials(struct store *st, const char *vendor,
                          const struct serial_list *l, int approval)
{
    struct cmpca_err err = CMPCA_ERR_INIT;
    size_t added = 0, skipped = 0, a, s, i, n;
    int r;

    for (i = 0; i < l->num; i += n) {
        n = l->num - i < IMPORT_BATCH ? l->num - i : IMPORT_BATCH;
        a = s = 0;
        r = store_device_import(st, vendor, (const char *const *)l->v + i, n,
                                approval, &a, &s, &err);
        if (r != 0) {
            committed_before(i);
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
    int rc, approval;

    rc = parse_register_opts(ctx, "device import", import_usage, argc, argv,
                             &approval);
    if (rc >= 0)
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
        rc = import_serials(st, vendor, &l, approval);
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
    case DEVICE_APPROVED:
        return "approved";
    case DEVICE_REJECTED:
        return "rejected";
    }
    return "unknown";
}

static const char *approval_name(int approval)
{
    switch (approval) {
    case APPROVAL_AUTO:
        return "auto";
    case APPROVAL_MANUAL:
        return "manual";
    }
    return "unknown";
}

static int print_device(void *arg, const struct store_device *d)
{
    (void)arg;
    printf("%s\t%s\t%s\t%s\n", d->vendor, d->serial, state_name(d->state),
           approval_name(d->approval));
    return 0;
}

static int device_list(struct cli_ctx *ctx, int argc, char **argv)
{
    struct cmpca_err err = CMPCA_ERR_INIT;
    struct cmpca_config *cfg = NULL;
    struct store *st = NULL;
    const char *vendor = NULL;
    int rc;

    rc = cli_parse_common(ctx, "device list", list_usage, argc, argv);
    if (rc >= 0)
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
    printf("VENDOR\tSERIAL\tSTATE\tAPPROVAL\n");
    if (store_device_foreach(st, vendor, print_device, NULL, &err) != 0)
        rc = cli_fail("device list", "%s", err.msg);
    else
        rc = CLI_OK;
done:
    store_close(st);
    config_free(cfg);
    return rc;
}

/* Sets the device named by the operands VENDOR SERIAL, which must be in
 * manual approval mode, to `state`; prints "`done` VENDOR/SERIAL". */
static int device_decide(struct cli_ctx *ctx, int argc, char **argv,
                         const char *what, const char *usage, int state,
                         const char *done)
{
    struct cmpca_err err = CMPCA_ERR_INIT;
    struct cmpca_config *cfg = NULL;
    struct store_device d = {0};
    struct store *st = NULL;
    const char *vendor, *serial;
    int rc, r;

    if ((rc = cli_parse_common(ctx, what, usage, argc, argv)) >= 0)
        return rc;
    if (argc - optind != 2)
        return cli_usage_error(what, usage, "expected VENDOR and SERIAL");
    vendor = argv[optind];
    serial = argv[optind + 1];
    if (cli_open(ctx->dir, &cfg, &st) != CLI_OK)
        return CLI_FAIL;
    rc = CLI_OK;
    /* no command changes the mode of an existing device, so the mode read
     * here still holds when the state is written */
    r = store_device_get(st, vendor, serial, &d, &err);
    if (r == STORE_NOTFOUND)
        rc = cli_fail(what, "no device %s/%s", vendor, serial);
    else if (r != 0)
        rc = cli_fail(what, "%s", err.msg);
    else if (d.approval != APPROVAL_MANUAL)
        rc = cli_fail(what, "device %s/%s is not in manual approval mode",
                      vendor, serial);
    else if ((r = store_device_set_state(st, vendor, serial, state, &err)) != 0)
        rc = cli_fail(what, "%s",
                      r == STORE_NOTFOUND ? "device vanished" : err.msg);
    else
        printf("%s %s/%s\n", done, vendor, serial);
    store_device_clear(&d);
    store_close(st);
    config_free(cfg);
    return rc;
}

static int device_approve(struct cli_ctx *ctx, int argc, char **argv)
{
    return device_decide(ctx, argc, argv, "device approve", approve_usage,
                         DEVICE_APPROVED, "approved");
}

static int device_reject(struct cli_ctx *ctx, int argc, char **argv)
{
    return device_decide(ctx, argc, argv, "device reject", reject_usage,
                         DEVICE_REJECTED, "rejected");
}

int cmd_device(struct cli_ctx *ctx, int argc, char **argv)
{
    /* clang-format off */
    static const struct cli_cmd subs[] = {
        {"add", device_add, NULL},
        {"import", device_import, NULL},
        {"list", device_list, NULL},
        {"approve", device_approve, NULL},
        {"reject", device_reject, NULL},
        {NULL, NULL, NULL},
    };
    /* clang-format on */

    return cli_dispatch(ctx, "device", device_usage, subs, argc, argv);
}
