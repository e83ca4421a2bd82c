/*
 * opts.c: the command line of cmpca-load. Everything is checked before any
 * identity is made or any packet sent, so a typo in a benchmark script fails
 * in milliseconds rather than after minutes of key generation.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "load.h"

#define MAX_WORKERS 4096

static void usage(FILE *f)
{
    fputs("usage: cmpca-load --url http://HOST:PORT/PATH [options]\n"
          "  --devices N        device identities to use (default 100)\n"
          "  --workers K        concurrent workers, one connection each "
          "(default 8; K <= N)\n"
          "  --count C          stop after C enrollments\n"
          "  --duration S       or run for S seconds (default 10)\n"
          "  --rate R[/s]       open loop: start R enrollments per second\n"
          "  --key-type T       ec-p256 (default), ec-p384, rsa-2048, ed25519\n"
          "  --kur              key update (kur) with operator certificates\n"
          "                     obtained by one ir per device beforehand\n"
          "  --trusted FILE     operator root (default DIR/root.pem)\n"
          "  --no-root          no pre-provisioned root: accept the "
          "self-signed\n"
          "                     root from the ip's extraCerts (ir only)\n"
          "  --cache DIR        identity cache (default "
          "$HOME/.cache/cmpca-load)\n"
          "  --cmpca BIN --dir DIR\n"
          "                     register vendor and devices with BIN vendor "
          "add\n"
          "                     and BIN device import in cmpca data DIR\n"
          "  --setup-only       make and register the identities, then exit\n"
          "  --server-pid PID   report the server's CPU time per enrollment\n"
          "  --timeout S        per HTTP exchange (default 30)\n"
          "  --quiet            no progress line\n",
          f);
}

/* parse_url splits http://HOST[:PORT][/PATH]; [v6] hosts allowed. */
static int parse_url(struct opts *o, const char *url)
{
    const char *h, *end, *colon, *slash;
    size_t hlen;

    if (strncmp(url, "http://", 7) != 0)
        return -1;
    h = url + 7;
    slash = strchr(h, '/');
    end = slash != NULL ? slash : h + strlen(h);
    if (*h == '[') {
        const char *rb = memchr(h, ']', (size_t)(end - h));

        if (rb == NULL)
            return -1;
        colon = rb + 1 < end && rb[1] == ':' ? rb + 1 : NULL;
        h++;
        hlen = (size_t)(rb - h);
    } else {
        colon = memchr(h, ':', (size_t)(end - h));
        hlen = (size_t)((colon != NULL ? colon : end) - h);
    }
    if (hlen == 0 || hlen >= sizeof(o->host))
        return -1;
    memcpy(o->host, h, hlen);
    o->host[hlen] = '\0';
    o->port = 80;
    if (colon != NULL) {
        char *e;
        long p = strtol(colon + 1, &e, 10);

        if (e != end || p < 1 || p > 65535)
            return -1;
        o->port = (int)p;
    }
    snprintf(o->path, sizeof(o->path), "%s", slash != NULL ? slash : "/");
    return 0;
}

static int num(const char *v, double min, double max, double *out)
{
    char *e;
    double d;

    errno = 0;
    d = strtod(v, &e);
    if (e != v && strcmp(e, "/s") == 0)
        e += 2;
    if (errno != 0 || e == v || *e != '\0' || !isfinite(d) || d < min ||
        d > max)
        return -1;
    *out = d;
    return 0;
}

/* value_opt handles the options that take a value. Returns 0, or -1. */
static int value_opt(struct opts *o, const char *name, const char *v)
{
    double d = 0;

    if (strcmp(name, "--url") == 0)
        return (o->url = v, parse_url(o, v));
    if (strcmp(name, "--key-type") == 0)
        return key_type_parse(v, &o->kt);
    if (strcmp(name, "--trusted") == 0)
        return (o->trusted = v, 0);
    if (strcmp(name, "--cache") == 0)
        return (o->cache = v, 0);
    if (strcmp(name, "--cmpca") == 0)
        return (o->cmpca = v, 0);
    if (strcmp(name, "--dir") == 0)
        return (o->dir = v, 0);
    if (strcmp(name, "--devices") == 0 && num(v, 1, 1e8, &d) == 0)
        return (o->devices = (size_t)d, 0);
    if (strcmp(name, "--workers") == 0 && num(v, 1, MAX_WORKERS, &d) == 0)
        return (o->workers = (int)d, 0);
    if (strcmp(name, "--count") == 0 && num(v, 1, 1e12, &d) == 0)
        return (o->count = (long long)d, 0);
    if (strcmp(name, "--duration") == 0 && num(v, 0.1, 1e7, &d) == 0)
        return (o->duration = d, 0);
    if (strcmp(name, "--rate") == 0 && num(v, 0.001, 1e7, &d) == 0)
        return (o->rate = d, 0);
    if (strcmp(name, "--server-pid") == 0 && num(v, 1, 1e9, &d) == 0)
        return (o->server_pid = (long)d, 0);
    if (strcmp(name, "--timeout") == 0 && num(v, 1, 3600, &d) == 0)
        return (o->timeout = (int)d, 0);
    return -1;
}

static int flag_opt(struct opts *o, const char *a)
{
    if (strcmp(a, "--kur") == 0)
        o->kur = 1;
    else if (strcmp(a, "--no-root") == 0)
        o->no_root = 1;
    else if (strcmp(a, "--setup-only") == 0)
        o->setup_only = 1;
    else if (strcmp(a, "--quiet") == 0)
        o->quiet = 1;
    else
        return -1;
    return 0;
}

static int bad(const char *why, const char *what)
{
    fprintf(stderr, "cmpca-load: %s%s\n", why, what);
    usage(stderr);
    return -1;
}

/* check_combination applies the rules between options and the defaults
 * that depend on others. */
static int check_combination(struct opts *o)
{
    const char *home = getenv("HOME");

    if (o->url == NULL && !o->setup_only)
        return bad("--url is required", "");
    if ((o->cmpca == NULL) != (o->dir == NULL))
        return bad("--cmpca and --dir go together", "");
    if (o->no_root && o->kur)
        return bad("--no-root applies to ir only, not with --kur", "");
    if (o->count > 0 && o->duration > 0)
        return bad("--count and --duration exclude each other", "");
    if (o->count == 0 && o->duration == 0)
        o->duration = 10;
    if ((size_t)o->workers > o->devices)
        return bad("--workers may not exceed --devices: a device is in one "
                   "transaction at a time",
                   "");
    if (!o->no_root && o->trusted == NULL && o->dir != NULL) {
        snprintf(o->trusted_buf, sizeof(o->trusted_buf), "%s/root.pem", o->dir);
        o->trusted = o->trusted_buf;
    }
    if (!o->no_root && o->trusted == NULL && !o->setup_only)
        return bad("give --trusted ROOT.pem, --dir DIR or --no-root", "");
    if (o->cache == NULL) {
        snprintf(o->cache_buf, sizeof(o->cache_buf), "%s/.cache/cmpca-load",
                 home != NULL && home[0] != '\0' ? home : ".");
        o->cache = o->cache_buf;
    }
    return 0;
}

int opts_parse(struct opts *o, int argc, char **argv)
{
    memset(o, 0, sizeof(*o));
    o->devices = 100;
    o->workers = 8;
    o->timeout = 30;
    o->kt = KT_EC_P256;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];

        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            return 1;
        }
        if (flag_opt(o, a) == 0)
            continue;
        if (strncmp(a, "--", 2) != 0 || i + 1 >= argc)
            return bad("unknown option or missing value: ", a);
        if (value_opt(o, a, argv[i + 1]) != 0)
            return bad("bad option or value: ", a);
        i++;
    }
    return check_combination(o);
}
