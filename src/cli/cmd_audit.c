/*
 * cmd_audit.c: `cmpca audit verify|show`, and cli_audit, which every
 * command that changes something calls to record what the operator did.
 *
 * The log lives in the store next to what it describes, so it is exactly
 * as safe as the database file: the hash chain cannot stop someone with
 * write access from changing a row, but it makes the change show. `verify`
 * is what a cron job or a monitoring check runs; `show` is how entries
 * leave the machine (one tab-separated line each, for grep, cut, or a log
 * shipper). `show --hash` adds each entry's chain hash, so the hash of the
 * newest entry can be written down elsewhere: only a copy kept outside the
 * database proves that nobody rewrote the chain from some entry onward.
 */
#include "cli/cli.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

static const char audit_usage[] =
    "usage: cmpca audit [--dir DIR] verify\n"
    "       cmpca audit [--dir DIR] show [--device VENDOR[/SERIAL]]\n"
    "                   [--serial HEX] [--since TIME] [--until TIME] [--hash]\n"
    "\n"
    "  verify   recompute the hash chain of the audit log\n"
    "  show     print the audit log, one entry per line\n";

static const char verify_usage[] =
    "usage: cmpca audit verify [--dir DIR]\n"
    "\n"
    "Recomputes the hash chain over every entry of the audit log. Prints\n"
    "\"audit log intact: N entries\" and exits 0, or prints \"audit log "
    "broken\n"
    "at entry SEQ: WHAT\" and exits 1. WHAT says what was found there: an\n"
    "edited entry, missing (deleted) entries before it, or an entry holding\n"
    "another one's fields (reordered). Deleting the newest entries cannot be\n"
    "seen this way: compare the count with an earlier run.\n";

static const char show_usage[] =
    "usage: cmpca audit show [--dir DIR] [--device VENDOR[/SERIAL]]\n"
    "                        [--serial HEX] [--since TIME] [--until TIME]\n"
    "                        [--hash]\n"
    "\n"
    "Prints the entries of the audit log, oldest first, after a header line:\n"
    "SEQ, TIME, ACTOR, ACTION, OUTCOME, VENDOR/DEVICE, SERIAL and DETAIL,\n"
    "tab-separated, \"-\" for an empty field.\n"
    "\n"
    "  --device V[/S]  only entries about device S of vendor V (all devices\n"
    "                  of V without /S)\n"
    "  --serial HEX    only entries about the certificate with this serial\n"
    "  --since TIME    only entries at or after TIME\n"
    "  --until TIME    only entries at or before TIME\n"
    "                  TIME is YYYY-MM-DD (UTC; a whole day for --until) or\n"
    "                  YYYY-MM-DDTHH:MM:SSZ\n"
    "  --hash          add a HASH column: the entry's chain hash (hex)\n";

int cli_audit(struct store *st, const char *action, const char *outcome,
              const char *vendor, const char *device, const char *serial,
              const char *detail)
{
    struct cmpca_err err = CMPCA_ERR_INIT;
    struct store_audit e;

    if (st == NULL)
        return cli_fail("audit", "cannot record \"%s\": no store", action);
    memset(&e, 0, sizeof(e));
    e.actor = "operator";
    e.action = (char *)action;
    e.outcome = (char *)outcome;
    e.vendor = (char *)vendor;
    e.device = (char *)device;
    e.serial = (char *)serial;
    e.detail = (char *)detail;
    if (store_audit_append(st, &e, &err) != 0)
        return cli_fail("audit", "cannot record \"%s\": %s", action, err.msg);
    return CLI_OK;
}

static int audit_verify(struct cli_ctx *ctx, int argc, char **argv)
{
    struct cmpca_err err = CMPCA_ERR_INIT;
    struct cmpca_config *cfg = NULL;
    struct store *st = NULL;
    long long bad = 0, num = 0;
    int rc;

    if ((rc = cli_parse_common(ctx, "audit verify", verify_usage, argc,
                               argv)) >= 0)
        return rc;
    if (optind < argc)
        return cli_usage_error("audit verify", verify_usage,
                               "unexpected argument %s", argv[optind]);
    if (cli_open(ctx->dir, &cfg, &st) != CLI_OK)
        return CLI_FAIL;
    rc = store_audit_verify(st, &bad, &num, &err);
    if (rc == 0) {
        printf("audit log intact: %lld entries\n", num);
        rc = CLI_OK;
    } else if (rc == 1) {
        printf("audit log broken at entry %lld: %s\n", bad, err.msg);
        rc = CLI_FAIL;
    } else {
        rc = cli_fail("audit verify", "%s", err.msg);
    }
    store_close(st);
    config_free(cfg);
    return rc;
}

/* ---- show ---- */

struct show_opts {
    struct store_audit_filter f;
    char *vendor; /* owned: the parts of --device */
    char *device;
    int hash;
};

/* Days since 1970-01-01 of a proleptic Gregorian date. */
static long long days_from_civil(long long y, int m, int d)
{
    long long era, yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* Reads `n` digits of `s` at `pos`; -1 if any is not a digit. */
static int digits(const char *s, int pos, int n)
{
    int v = 0;

    for (int i = pos; i < pos + n; i++) {
        if (!isdigit((unsigned char)s[i]))
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

/* parse_time reads YYYY-MM-DD (then 00:00:00, or 23:59:59 when
 * `end_of_day`) or YYYY-MM-DDTHH:MM:SSZ, in UTC. 0 or -1. */
static int parse_time(const char *s, int end_of_day, time_t *out)
{
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    size_t len = strlen(s);
    int y, mo, d, h = 0, mi = 0, sec = 0;

    if ((len != 10 && len != 20) || s[4] != '-' || s[7] != '-')
        return -1;
    y = digits(s, 0, 4);
    mo = digits(s, 5, 2);
    d = digits(s, 8, 2);
    if (len == 20) {
        if (s[10] != 'T' || s[13] != ':' || s[16] != ':' || s[19] != 'Z')
            return -1;
        h = digits(s, 11, 2);
        mi = digits(s, 14, 2);
        sec = digits(s, 17, 2);
    } else if (end_of_day) {
        h = 23;
        mi = sec = 59;
    }
    if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] ||
        (mo == 2 && d == 29 &&
         (y % 4 != 0 || (y % 100 == 0 && y % 400 != 0))) ||
        h < 0 || h > 23 || mi < 0 || mi > 59 || sec < 0 || sec > 59)
        return -1;
    *out = (time_t)(days_from_civil(y, mo, d) * 86400 + h * 3600LL + mi * 60LL +
                    sec);
    return 0;
}

/* A certificate serial as the store takes it: hex, optional 0x, colons. */
static int serial_ok(const char *s)
{
    int n = 0;

    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
        s += 2;
    for (; *s != '\0'; s++) {
        if (*s == ':')
            continue;
        if (!isxdigit((unsigned char)*s))
            return 0;
        n++;
    }
    return n > 0 && n <= 128;
}

/* set_device splits VENDOR[/SERIAL] into o->vendor and o->device. */
static int set_device(struct show_opts *o, const char *arg)
{
    const char *slash = strchr(arg, '/');

    free(o->vendor);
    free(o->device);
    o->vendor = o->device = NULL;
    if (slash == NULL)
        o->vendor = strdup(arg);
    else if ((o->vendor = strndup(arg, (size_t)(slash - arg))) != NULL)
        o->device = strdup(slash + 1);
    if (o->vendor == NULL || (slash != NULL && o->device == NULL))
        return cli_fail("audit show", "out of memory");
    if (o->vendor[0] == '\0' || (o->device != NULL && o->device[0] == '\0'))
        return cli_usage_error("audit show", show_usage,
                               "--device wants VENDOR or VENDOR/SERIAL");
    o->f.vendor = o->vendor;
    o->f.device = o->device;
    return CLI_OK;
}

static int show_opt(struct show_opts *o, int c, const char *arg)
{
    switch (c) {
    case 'v':
        return set_device(o, arg);
    case 's':
        if (!serial_ok(arg))
            return cli_usage_error("audit show", show_usage,
                                   "bad serial '%s': expected hex", arg);
        o->f.serial = arg;
        return CLI_OK;
    case 'S':
    case 'U':
        if (parse_time(arg, c == 'U', c == 'S' ? &o->f.since : &o->f.until) !=
            0)
            return cli_usage_error("audit show", show_usage,
                                   "bad time '%s': expected YYYY-MM-DD or "
                                   "YYYY-MM-DDTHH:MM:SSZ",
                                   arg);
        /* 0 means "no bound" to the store; nothing is that old anyway */
        if (c == 'U' && o->f.until == 0)
            o->f.until = -1;
        return CLI_OK;
    case 'H':
        o->hash = 1;
        return CLI_OK;
    }
    return CLI_USAGE;
}

/* Parses the options of `show`; -1 to go on, else an exit status. */
static int parse_show(struct cli_ctx *ctx, int argc, char **argv,
                      struct show_opts *o)
{
    static const struct option longopts[] = {
        CLI_COMMON_LONGOPTS,
        {"device", required_argument, NULL, 'v'},
        {"serial", required_argument, NULL, 's'},
        {"since", required_argument, NULL, 'S'},
        {"until", required_argument, NULL, 'U'},
        {"hash", no_argument, NULL, 'H'},
        {NULL, 0, NULL, 0},
    };
    int c, rc;

    opterr = 0;
    while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        if (c == 'd')
            ctx->dir = optarg;
        else if (c == 'h')
            return cli_help(show_usage);
        else if (c == 'v' || c == 's' || c == 'S' || c == 'U' || c == 'H') {
            if ((rc = show_opt(o, c, optarg)) != CLI_OK)
                return rc;
        } else
            return cli_getopt_error("audit show", show_usage, c, argv);
    }
    if (optind < argc)
        return cli_usage_error("audit show", show_usage,
                               "unexpected argument %s", argv[optind]);
    if (o->f.since != 0 && o->f.until != 0 && o->f.since > o->f.until)
        return cli_usage_error("audit show", show_usage,
                               "--since is after --until");
    return -1;
}

/* Prints `s` ("-" when NULL or empty) with control bytes made '?': a row
 * edited behind the store's back must not reach the terminal raw. */
static void put_field(const char *s)
{
    if (s == NULL || *s == '\0') {
        fputs("-", stdout);
        return;
    }
    for (; *s != '\0'; s++) {
        unsigned char ch = (unsigned char)*s;

        putchar(ch < 0x20 || ch == 0x7f ? '?' : ch);
    }
}

static int print_entry(void *arg, const struct store_audit *e)
{
    const struct show_opts *o = arg;
    char when[32];

    cli_time_str(e->at, when, sizeof(when));
    printf("%lld\t%s\t", e->seq, when);
    put_field(e->actor);
    putchar('\t');
    put_field(e->action);
    putchar('\t');
    put_field(e->outcome);
    putchar('\t');
    if (e->vendor == NULL && e->device == NULL) {
        put_field(NULL);
    } else {
        put_field(e->vendor);
        if (e->device != NULL) {
            putchar('/');
            put_field(e->device);
        }
    }
    putchar('\t');
    put_field(e->serial);
    putchar('\t');
    put_field(e->detail);
    if (o->hash) {
        putchar('\t');
        for (int i = 0; i < STORE_AUDIT_HASH_LEN; i++)
            printf("%02x", e->hash[i]);
    }
    putchar('\n');
    return ferror(stdout) ? 1 : 0;
}

static int audit_show(struct cli_ctx *ctx, int argc, char **argv)
{
    struct cmpca_err err = CMPCA_ERR_INIT;
    struct cmpca_config *cfg = NULL;
    struct show_opts o;
    struct store *st = NULL;
    int rc;

    memset(&o, 0, sizeof(o));
    if ((rc = parse_show(ctx, argc, argv, &o)) >= 0)
        goto done;
    rc = CLI_FAIL;
    if (cli_open(ctx->dir, &cfg, &st) != CLI_OK)
        goto done;
    printf("SEQ\tTIME\tACTOR\tACTION\tOUTCOME\tVENDOR/DEVICE\tSERIAL\t"
           "DETAIL%s\n",
           o.hash ? "\tHASH" : "");
    if (store_audit_foreach(st, &o.f, print_entry, &o, &err) != 0)
        cli_fail("audit show", "%s", err.msg);
    else
        rc = CLI_OK; /* a write error is caught by main's fflush */
done:
    free(o.vendor);
    free(o.device);
    store_close(st);
    config_free(cfg);
    return rc;
}

int cmd_audit(struct cli_ctx *ctx, int argc, char **argv)
{
    static const struct cli_cmd subs[] = {
        {"verify", audit_verify, NULL},
        {"show", audit_show, NULL},
        {NULL, NULL, NULL},
    };

    return cli_dispatch(ctx, "audit", audit_usage, subs, argc, argv);
}
