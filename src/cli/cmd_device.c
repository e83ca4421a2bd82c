/*
 * cmd_device.c: `cmpca device add|import|list|approve|reject`, the registry
 * of devices (vendor, serial) that may enroll. Operators import serials by
 * the hundred thousand from vendor shipping lists, so import validates the
 * whole file first (a typo on line 90,000 changes nothing) and then writes in
 * batches, each one database transaction, so a running server is never
 * locked out for long. Devices in manual approval mode wait for an operator:
 * approve and reject only change the device row, which the server reads
 * again when the device polls. A device without a vendor certificate gets a
 * shared secret instead (--secret-file): it is sealed with the key file of
 * [ca] secrets_key before it reaches the store, and never printed.
 */
#include "cli/cli.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "ca/ca.h"

#define IMPORT_BATCH 10000
#define SERIAL_MAX   128
#define SECRET_MIN   8
#define SECRET_MAX   1024
#define KID_MAX      256

static const char device_usage[] =
    "usage: cmpca device [--dir DIR] add VENDOR SERIAL... "
    "[--approval auto|manual]\n"
    "                                [--secret-file FILE [--kid KID]]\n"
    "       cmpca device [--dir DIR] secret VENDOR SERIAL --secret-file FILE "
    "[--kid KID]\n"
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
    "  reject   refuse a device in manual approval mode\n"
    "  secret   set or replace the shared secret of a device (MAC "
    "protection)\n";

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
    "                     operator runs `cmpca device approve`\n"
    "  --secret-file FILE the device (exactly one SERIAL) enrolls with the\n"
    "                     shared secret in FILE (8-1024 bytes, one trailing\n"
    "                     newline dropped) instead of a vendor certificate\n"
    "  --kid KID          the senderKID naming the secret (default: SERIAL)\n";

static const char secret_usage[] =
    "usage: cmpca device secret [--dir DIR] VENDOR SERIAL --secret-file FILE\n"
    "                           [--kid KID]\n"
    "\n"
    "Sets the shared secret a registered device protects its enrollment\n"
    "with (PasswordBasedMac or PBMAC1), replacing any secret it had. FILE\n"
    "holds 8-1024 bytes (one trailing newline dropped, as `openssl cmp\n"
    "-secret file:FILE` reads it). The secret is stored sealed and never\n"
    "printed. Prints \"secret set for VENDOR/SERIAL (kid KID, single use)\".\n"
    "\n"
    "  --kid KID  the senderKID naming the secret (default: SERIAL, so\n"
    "             `openssl cmp -ref SERIAL` finds it)\n";

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

/* The shared secret options of add and secret. */
struct secret_opts {
    const char *file; /* NULL: no secret */
    const char *kid;  /* NULL: the serial */
};

/* Parses the options of add, import and secret (--dir, --help, --approval
 * unless `approval` is NULL, --secret-file and --kid unless `sec` is NULL)
 * into ctx, *approval and *sec. Returns -1 to go on, else an exit status. */
static int parse_register_opts(struct cli_ctx *ctx, const char *what,
                               const char *usage, int argc, char **argv,
                               int *approval, struct secret_opts *sec)
{
    static const struct option longopts[] = {
        CLI_COMMON_LONGOPTS,
        {"approval", required_argument, NULL, 'a'},
        {"secret-file", required_argument, NULL, 's'},
        {"kid", required_argument, NULL, 'k'},
        {NULL, 0, NULL, 0},
    };
    int c;

    if (approval != NULL)
        *approval = APPROVAL_AUTO;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        switch (c) {
        case 'd':
            ctx->dir = optarg;
            break;
        case 'h':
            return cli_help(usage);
        case 's':
        case 'k':
            if (sec == NULL)
                return cli_usage_error(what, usage, "%s takes no secret", what);
            *(c == 's' ? &sec->file : &sec->kid) = optarg;
            break;
        case 'a':
            if (approval == NULL)
                return cli_usage_error(what, usage, "%s takes no --approval",
                                       what);
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

/* Reads the secret of `path` (- for stdin) into `buf` (SECRET_MAX + 1
 * octets), dropping one trailing newline as `openssl cmp -secret file:`
 * does. Returns an exit status. */
static int read_secret(const char *path, unsigned char *buf, size_t *len)
{
    unsigned char tmp[SECRET_MAX + 2];
    int fd = STDIN_FILENO, rc = CLI_FAIL;
    size_t got = 0;
    struct stat st;
    ssize_t n;

    if (strcmp(path, "-") != 0 && (fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
        return cli_fail(path, "%s", strerror(errno));
    if (fd != STDIN_FILENO && fstat(fd, &st) == 0 && (st.st_mode & S_IROTH))
        fprintf(stderr, "cmpca: warning: %s is readable by everyone\n", path);
    while (got < sizeof(tmp) &&
           (n = read(fd, tmp + got, sizeof(tmp) - got)) != 0) {
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            cli_fail(path, "%s", strerror(errno));
            goto done;
        }
        got += (size_t)n;
    }
    if (got > 0 && tmp[got - 1] == '\n')
        got--;
    if (got < SECRET_MIN || got > SECRET_MAX)
        cli_fail(path, "a secret must be %d-%d bytes", SECRET_MIN, SECRET_MAX);
    else if (memchr(tmp, '\n', got) != NULL || memchr(tmp, '\0', got) != NULL)
        cli_fail(path, "the secret holds a line break or NUL byte (openssl "
                       "cmp -secret file: reads one line)");
    else
        rc = CLI_OK;
    if (rc == CLI_OK) {
        memcpy(buf, tmp, got);
        *len = got;
    }
done:
    OPENSSL_cleanse(tmp, sizeof(tmp));
    if (fd != STDIN_FILENO)
        close(fd);
    return rc;
}

/* Checks the kid (defaulting it to `serial`) and reads the secret. */
static int secret_prepare(const char *what, struct secret_opts *sec,
                          const char *serial, unsigned char *buf, size_t *len)
{
    if (sec->kid == NULL)
        sec->kid = serial;
    if (*sec->kid == '\0' || strlen(sec->kid) > KID_MAX)
        return cli_fail(what, "a kid must be 1-%d bytes", KID_MAX);
    return read_secret(sec->file, buf, len);
}

/* Fails when `kid` names the secret of a device other than vendor/serial. */
static int kid_taken(struct store *st, const char *what, const char *kid,
                     const char *vendor, const char *serial)
{
    struct cmpca_err err = CMPCA_ERR_INIT;
    struct store_secret s = {0};
    int r, rc = CLI_OK;

    r = store_secret_get(st, (const uint8_t *)kid, strlen(kid), &s, &err);
    if (r == 0 &&
        (strcmp(s.vendor, vendor) != 0 || strcmp(s.device, serial) != 0))
        rc = cli_fail(what,
                      "kid %s names the secret of %s/%s; choose another "
                      "with --kid",
                      kid, s.vendor, s.device);
    else if (r != 0 && r != STORE_NOTFOUND)
        rc = cli_fail(what, "%s", err.msg);
    store_secret_clear(&s);
    return rc;
}

/* Records a device command in the audit log: `info` (may be NULL) is what
 * was asked, `why` NULL when it worked, else why it failed. Returns CLI_OK
 * or CLI_FAIL (cli_audit said why). */
static int audit_device(struct store *st, const char *what, const char *vendor,
                        const char *serial, const char *info, const char *why)
{
    char detail[512];

    if (why == NULL)
        return cli_audit(st, what, "done", vendor, serial, NULL, info);
    snprintf(detail, sizeof(detail), "%.250s%s%.250s", info != NULL ? info : "",
             info != NULL ? ": " : "", why);
    return cli_audit(st, what, "failed", vendor, serial, NULL, detail);
}

/* Seals `secret` with the key of [ca] secrets_key (made if missing) and
 * stores it as the secret of vendor/serial under `kid`. */
static int put_secret(const struct cmpca_config *cfg, struct store *st,
                      const char *what, const char *vendor, const char *serial,
                      const char *kid, const unsigned char *secret,
                      size_t secret_len)
{
    struct cmpca_err err = CMPCA_ERR_INIT;
    char *key_path = config_path(cfg, cfg->secrets_key);
    unsigned char key[CA_SEAL_KEY_LEN];
    struct store_secret s = {0};
    int r = 0, rc = CLI_FAIL;
    char info[320];

    if (key_path == NULL)
        return cli_fail(what, "out of memory");
    s.kid = (uint8_t *)kid;
    s.kid_len = strlen(kid);
    s.vendor = (char *)vendor;
    s.device = (char *)serial;
    s.single_use = cfg->mac_secret_single_use;
    if (ca_seal_key_load(key_path, 1, key, &err) != 0 ||
        ca_secret_seal(key, secret, secret_len, &s.sealed, &s.sealed_len,
                       &err) != 0) {
        cli_fail(what, "%s", err.msg);
        goto done;
    }
    r = store_secret_put(st, &s, &err);
    if (r == STORE_NOTFOUND)
        cli_fail(what, "no device %s/%s", vendor, serial);
    else if (r == STORE_EXISTS)
        cli_fail(what,
                 "kid %s names the secret of another device; choose "
                 "another with --kid",
                 kid);
    else if (r != 0)
        cli_fail(what, "%s", err.msg);
    else
        rc = CLI_OK;
    if (rc == CLI_OK)
        printf("secret set for %s/%s (kid %s, %s)\n", vendor, serial, kid,
               s.single_use ? "single use" : "reusable");
done:
    snprintf(info, sizeof(info), "secret kid=%s %s", kid,
             s.single_use ? "single-use" : "reusable");
    if (audit_device(st, what, vendor, serial, info,
                     rc == CLI_OK          ? NULL
                     : r == STORE_NOTFOUND ? "no such device"
                     : r == STORE_EXISTS   ? "kid names another device"
                                           : "not stored") != CLI_OK)
        rc = CLI_FAIL;
    OPENSSL_cleanse(key, sizeof(key));
    OPENSSL_free(s.sealed);
    free(key_path);
    return rc;
}

static int device_add(struct cli_ctx *ctx, int argc, char **argv)
{
    struct cmpca_err err = CMPCA_ERR_INIT;
    struct cmpca_config *cfg = NULL;
    struct store *st = NULL;
    const char *vendor, *why;
    struct secret_opts sec = {NULL, NULL};
    unsigned char secret[SECRET_MAX + 1];
    size_t added = 0, skipped = 0, secret_len = 0;
    int rc, i, r, approval;

    rc = parse_register_opts(ctx, "device add", add_usage, argc, argv,
                             &approval, &sec);
    if (rc >= 0)
        return rc;
    if (argc - optind < 2)
        return cli_usage_error("device add", add_usage,
                               "expected VENDOR and at least one SERIAL");
    if (sec.file == NULL ? sec.kid != NULL : argc - optind != 2)
        return cli_usage_error("device add", add_usage,
                               "--secret-file (with --kid) takes exactly one "
                               "SERIAL");
    vendor = argv[optind];
    for (i = optind + 1; i < argc; i++)
        if ((why = serial_problem(argv[i])) != NULL)
            return cli_fail("device add", "'%s': %s", argv[i], why);
    if (sec.file != NULL && secret_prepare("device add", &sec, argv[optind + 1],
                                           secret, &secret_len) != CLI_OK)
        return CLI_FAIL;
    if (cli_open(ctx->dir, &cfg, &st) != CLI_OK) {
        rc = CLI_FAIL;
        goto done;
    }
    if ((rc = need_vendor(st, "device add", vendor)) != CLI_OK ||
        (sec.file != NULL && (rc = kid_taken(st, "device add", sec.kid, vendor,
                                             argv[optind + 1])) != CLI_OK))
        goto done;
    for (i = optind + 1; i < argc; i++) {
        r = store_device_add(st, vendor, argv[i], approval, &err);
        if (audit_device(st, "device add", vendor, argv[i],
                         approval == APPROVAL_MANUAL ? "approval=manual"
                                                     : "approval=auto",
                         r == 0                ? NULL
                         : r == STORE_EXISTS   ? "already registered"
                         : r == STORE_NOTFOUND ? "no such vendor"
                                               : err.msg) != CLI_OK)
            rc = CLI_FAIL;
        if (r == 0) {
            added++;
        } else if (r == STORE_EXISTS && sec.file != NULL) {
            rc = cli_fail("device add",
                          "%s/%s is already registered: set its secret with "
                          "`cmpca device secret`",
                          vendor, argv[i]);
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
    if (sec.file != NULL && rc == CLI_OK)
        rc = put_secret(cfg, st, "device add", vendor, argv[optind + 1],
                        sec.kid, secret, secret_len);
done:
    OPENSSL_cleanse(secret, sizeof(secret));
    store_close(st);
    config_free(cfg);
    return rc;
}

static int device_secret(struct cli_ctx *ctx, int argc, char **argv)
{
    struct secret_opts sec = {NULL, NULL};
    struct cmpca_config *cfg = NULL;
    unsigned char secret[SECRET_MAX + 1];
    struct store *st = NULL;
    size_t secret_len = 0;
    int rc;

    rc = parse_register_opts(ctx, "device secret", secret_usage, argc, argv,
                             NULL, &sec);
    if (rc >= 0)
        return rc;
    if (argc - optind != 2)
        return cli_usage_error("device secret", secret_usage,
                               "expected VENDOR and SERIAL");
    if (sec.file == NULL)
        return cli_usage_error("device secret", secret_usage,
                               "--secret-file is required");
    rc = secret_prepare("device secret", &sec, argv[optind + 1], secret,
                        &secret_len);
    if (rc == CLI_OK && (rc = cli_open(ctx->dir, &cfg, &st)) == CLI_OK)
        rc = put_secret(cfg, st, "device secret", argv[optind],
                        argv[optind + 1], sec.kid, secret, secret_len);
    OPENSSL_cleanse(secret, sizeof(secret));
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
                          const char *source, const struct serial_list *l,
                          int approval)
{
    struct cmpca_err err = CMPCA_ERR_INIT;
    size_t added = 0, skipped = 0, a, s, i, n;
    char info[320];
    int r;

    for (i = 0; i < l->num; i += n) {
        n = l->num - i < IMPORT_BATCH ? l->num - i : IMPORT_BATCH;
        a = s = 0;
        r = store_device_import(st, vendor, (const char *const *)l->v + i, n,
                                approval, &a, &s, &err);
        if (r != 0) {
            committed_before(i);
            snprintf(info, sizeof(info),
                     "file=%s approval=%s serials=%zu added=%zu skipped=%zu",
                     source, approval == APPROVAL_MANUAL ? "manual" : "auto",
                     l->num, added, skipped);
            audit_device(st, "device import", vendor, NULL, info,
                         r == STORE_NOTFOUND ? "no such vendor" : err.msg);
            return cli_fail("device import", "%s",
                            r == STORE_NOTFOUND ? "no such vendor" : err.msg);
        }
        added += a;
        skipped += s;
    }
    printf("imported %zu, skipped %zu (already registered)\n", added, skipped);
    snprintf(info, sizeof(info),
             "file=%s approval=%s serials=%zu added=%zu skipped=%zu", source,
             approval == APPROVAL_MANUAL ? "manual" : "auto", l->num, added,
             skipped);
    return audit_device(st, "device import", vendor, NULL, info, NULL);
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
                             &approval, NULL);
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
        rc = import_serials(st, vendor, strcmp(path, "-") == 0 ? "stdin" : path,
                            &l, approval);
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
    const char *vendor, *serial, *why = NULL;
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
    if (rc != CLI_OK && r == 0)
        why = "not in manual approval mode";
    else if (rc != CLI_OK)
        why = r == STORE_NOTFOUND ? "no such device" : err.msg;
    if (audit_device(st, what, vendor, serial, NULL, why) != CLI_OK)
        rc = CLI_FAIL;
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
        {"secret", device_secret, NULL},
        {NULL, NULL, NULL},
    };
    /* clang-format on */

    return cli_dispatch(ctx, "device", device_usage, subs, argc, argv);
}
