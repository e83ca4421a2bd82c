/*
 * main.c: the `cmpca` binary. Parses the options that may come before the
 * command (--dir, --help, --version), picks the command and hands it the rest
 * of argv. The exit status is decided here and nowhere else below src/cli.
 */
#include "cli/cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "util/log.h"

static const struct cli_cmd commands[] = {
    {"init", cmd_init, "create the operator CA in DIR"},
    {"vendor", cmd_vendor, "add or list vendor root CAs"},
    {"device", cmd_device, "register, import or list devices"},
    {"cert", cmd_cert, "list, show or revoke issued certificates"},
    {"crl", cmd_crl, "make a new CRL and print or save it"},
    {"ca", cmd_ca, "export the operator CA certificates"},
    {"ra", cmd_ra, "add, list or remove registration authorities"},
    {"audit", cmd_audit, "verify or show the audit log"},
    {"serve", cmd_serve, "run the CMP server"},
};
#define NUM_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static void print_usage(FILE *f)
{
    size_t i;

    fprintf(f, "usage: cmpca [--dir DIR] COMMAND [OPTIONS] [ARGS]\n"
               "       cmpca --help | --version\n\n"
               "commands:\n");
    for (i = 0; i < NUM_COMMANDS; i++)
        fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].summary);
    fprintf(f,
            "\noptions:\n"
            "  --dir DIR    data directory (default: $CMPCA_DIR, else ./%s)\n"
            "  -h, --help   show this help (`cmpca COMMAND --help` for one "
            "command)\n"
            "  --version    show the version\n",
            CLI_DEFAULT_DIR);
}

static int run(int argc, char **argv)
{
    static const struct option longopts[] = {
        CLI_COMMON_LONGOPTS,
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    struct cli_ctx ctx = {NULL};
    const char *env = getenv("CMPCA_DIR");
    int c;
    size_t i;

    ctx.dir = env != NULL && env[0] != '\0' ? env : CLI_DEFAULT_DIR;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "+:hV", longopts, NULL)) != -1) {
        switch (c) {
        case 'd':
            ctx.dir = optarg;
            break;
        case 'h':
            print_usage(stdout);
            return CLI_OK;
        case 'V':
            printf("cmpca %s (%s)\n", CMPCA_VERSION,
                   OpenSSL_version(OPENSSL_VERSION));
            return CLI_OK;
        default:
            fprintf(stderr, "cmpca: %s: %s\n", argv[optind - 1],
                    c == ':' ? "option needs a value" : "unknown option");
            print_usage(stderr);
            return CLI_USAGE;
        }
    }
    if (optind >= argc) {
        fprintf(stderr, "cmpca: no command given\n");
        print_usage(stderr);
        return CLI_USAGE;
    }
    for (i = 0; i < NUM_COMMANDS; i++) {
        if (strcmp(argv[optind], commands[i].name) == 0) {
            char **sub = argv + optind;
            int subc = argc - optind;

            optind = 0; /* glibc: start the next getopt_long afresh */
            return commands[i].fn(&ctx, subc, sub);
        }
    }
    fprintf(stderr, "cmpca: %s: unknown command\n", argv[optind]);
    print_usage(stderr);
    return CLI_USAGE;
}

int main(int argc, char **argv)
{
    int rc;

    /* Commands other than serve only want to hear about real trouble. */
    log_set_level(LOG_LVL_ERROR);
    rc = run(argc, argv);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "cmpca: stdout: write error\n");
        if (rc == CLI_OK)
            rc = CLI_FAIL;
    }
    return rc;
}
