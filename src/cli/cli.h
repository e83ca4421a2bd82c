/*
 * cli.h: what the `cmpca` subcommands share. The CLI is the only room that
 * prints for humans and the only one that may end the process; everything it
 * calls reports failures by return value, and the CLI turns them into one
 * line "cmpca: <what>: <why>" on stderr and an exit status:
 *   0 success, 1 failure, 2 usage error (unknown command or option).
 * Output meant for scripts goes to stdout, chatter to stderr.
 */
#ifndef CMPCA_CLI_CLI_H
#define CMPCA_CLI_CLI_H

#include <getopt.h>
#include <stdio.h>
#include <time.h>

#include <openssl/x509.h>

#include "store/store.h"
#include "util/config.h"

#define CMPCA_VERSION "0.1.0"

#define CLI_OK    0
#define CLI_FAIL  1
#define CLI_USAGE 2

/* Default data directory when neither --dir nor $CMPCA_DIR is given. */
#define CLI_DEFAULT_DIR "cmpca-data"

/* Organization of the operator CA names when init is not told otherwise. */
#define CLI_DEFAULT_ORG "cmpca Demo"

/* Options shared by every command, filled by main() and by command groups
 * before the subcommand parses its own (which may override them). */
struct cli_ctx {
    const char *dir; /* data directory, never NULL */
};

/* Long option entries every command accepts. */
#define CLI_COMMON_LONGOPTS                                                    \
    {"dir", required_argument, NULL, 'd'},                                     \
    {                                                                          \
        "help", no_argument, NULL, 'h'                                         \
    }

/* A subcommand: gets argv starting at its own name. Returns an exit status. */
typedef int (*cli_cmd_fn)(struct cli_ctx *ctx, int argc, char **argv);

struct cli_cmd {
    const char *name;
    cli_cmd_fn fn;
    const char *summary; /* one line for the command list */
};

/* ---- commands (cmd_*.c) ---- */
int cmd_init(struct cli_ctx *ctx, int argc, char **argv);
int cmd_vendor(struct cli_ctx *ctx, int argc, char **argv);
int cmd_device(struct cli_ctx *ctx, int argc, char **argv);
int cmd_cert(struct cli_ctx *ctx, int argc, char **argv);
int cmd_ca(struct cli_ctx *ctx, int argc, char **argv);
int cmd_serve(struct cli_ctx *ctx, int argc, char **argv);
int cmd_crl(struct cli_ctx *ctx, int argc, char **argv);
int cmd_ra(struct cli_ctx *ctx, int argc, char **argv);
int cmd_audit(struct cli_ctx *ctx, int argc, char **argv);

/* ---- reporting (common.c) ---- */

/* cli_fail prints "cmpca: <what>: <why>" on stderr; returns CLI_FAIL. */
int cli_fail(const char *what, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* cli_usage_error prints "cmpca: <what>: <why>" and `usage` on stderr;
 * returns CLI_USAGE. */
int cli_usage_error(const char *what, const char *usage, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* cli_getopt_error reports the getopt_long result `c` ('?' or ':') for the
 * argument at argv[optind - 1] as a usage error; returns CLI_USAGE. */
int cli_getopt_error(const char *what, const char *usage, int c, char **argv);

/* cli_parse_common parses a subcommand that takes only --dir and --help.
 * Returns -1 to go on (operands start at optind), else an exit status. */
int cli_parse_common(struct cli_ctx *ctx, const char *what, const char *usage,
                     int argc, char **argv);

/* cli_help prints `usage` on stdout; returns CLI_OK. */
int cli_help(const char *usage);

/* cli_dispatch runs the subcommand argv[1] of a command group (`vendor`,
 * `device`...), after parsing the group's own --dir/--help. */
int cli_dispatch(struct cli_ctx *ctx, const char *group, const char *usage,
                 const struct cli_cmd *cmds, int argc, char **argv);

/* cli_ossl_reason writes the reason of the last OpenSSL error (or
 * `fallback`) into `buf`, empties the error queue and returns `buf`. */
const char *cli_ossl_reason(char *buf, size_t buflen, const char *fallback);

/* ---- the data directory (common.c) ---- */

/* cli_load_config loads DIR/cmpca.conf; on failure prints why ("no CA in
 * DIR: run cmpca init" when it is missing) and returns CLI_FAIL. */
int cli_load_config(const char *dir, struct cmpca_config **out);

/* cli_store_uri turns the config's db setting into a store_open URI with the
 * path made relative to the data directory. New string or NULL. */
char *cli_store_uri(const struct cmpca_config *cfg);

/* cli_open_store opens the configured store; prints why and returns CLI_FAIL
 * on failure. */
int cli_open_store(const struct cmpca_config *cfg, struct store **out);

/* cli_open loads the config and opens the store (both new on success). */
int cli_open(const char *dir, struct cmpca_config **cfg, struct store **st);

/* cli_init_dir does what `cmpca init` does: creates `dir` (0700) if needed,
 * refuses if any of the CA files exist, writes the config, creates the CA
 * and the store, then prints the root's subject and fingerprint on `out`.
 * Returns an exit status; on failure the files it created are removed. */
int cli_init_dir(const char *dir, int key_type, const char *org, FILE *out);

/* ---- files and certificates (util.c) ---- */

/* cli_mkdirs creates `path` and missing parents with `mode`. 0 or -1/errno. */
int cli_mkdirs(const char *path, int mode);

/* cli_file_exists: 1 if `path` exists (any type), 0 if not. */
int cli_file_exists(const char *path);

/* cli_write_excl creates `path` exclusively with `mode` and writes `len`
 * bytes, synced. 0 or -1 with errno set (a partial file is removed). */
int cli_write_excl(const char *path, const void *data, size_t len, int mode);

/* cli_read_certs reads every PEM certificate of `path` into *out (new).
 * Returns 0, or -1 with a reason in `why` (unreadable file, bad PEM, or no
 * certificate at all). */
int cli_read_certs(const char *path, STACK_OF(X509) **out, char *why,
                   size_t whylen);

/* cli_read_cert reads a file that must hold exactly one certificate. */
X509 *cli_read_cert(const char *path, char *why, size_t whylen);

/* cli_certs_pem returns the PEM encoding of `certs`, re-encoded by us (new
 * NUL-terminated string), or NULL. */
char *cli_certs_pem(const STACK_OF(X509) *certs);

/* cli_name_str formats a name in RFC 2253 form (as `openssl x509 -nameopt
 * RFC2253` does) into a new string, or NULL. */
char *cli_name_str(const X509_NAME *name);

/* cli_fingerprint writes the SHA-256 fingerprint of `x` as colon-separated
 * uppercase hex into `buf` (at least 96 bytes). 0 or -1. */
int cli_fingerprint(X509 *x, char *buf, size_t buflen);

/* cli_time_str formats `t` as YYYY-MM-DDTHH:MM:SSZ into `buf` (>= 21). */
void cli_time_str(time_t t, char *buf, size_t buflen);

/* cli_abspath returns `path` made absolute (new string), or NULL. */
char *cli_abspath(const char *path);

/* cli_shell_quote returns `s` quoted for a POSIX shell when needed (new). */
char *cli_shell_quote(const char *s);

/* ---- CRLs (cmd_crl.c) ---- */

/* cli_crl_publish loads the CA and makes, signs and saves a new CRL
 * (cfg->crl_name, cfg->crl_validity) over every revoked certificate in
 * `st`; *out is the new CRL. Prints why and returns CLI_FAIL on failure. */
int cli_crl_publish(const struct cmpca_config *cfg, struct store *st,
                    X509_CRL **out);

/* ---- the audit log (cmd_audit.c) ---- */

/* cli_audit appends what an operator command did to the audit log: actor
 * "operator", `action` the command words ("vendor add"), `outcome` "done"
 * or "failed", the device and certificate concerned (may be NULL) and
 * `detail`, the arguments that matter (never a secret). Prints why and
 * returns CLI_FAIL when the entry could not be written. */
int cli_audit(struct store *st, const char *action, const char *outcome,
              const char *vendor, const char *device, const char *serial,
              const char *detail);

/* `cmpca vendor crl` (cmd_vendor_crl.c) */
extern const char cli_vendor_crl_usage[];
int cli_vendor_crl(struct cli_ctx *ctx, int argc, char **argv);

/* ---- serve --demo (demo.c) ---- */

/* demo_prepare creates DIR/demo (vendor PKI, device key and certificate,
 * enrollment key) and registers vendor "demo-vendor" and device DEMO-0001,
 * unless DIR/demo already exists. Returns an exit status. */
int demo_prepare(const struct cmpca_config *cfg, struct store *st);

/* demo_print_command prints the `openssl cmp` command that enrolls the demo
 * device against `url` on `out`. Returns an exit status. */
int demo_print_command(const struct cmpca_config *cfg, const char *url,
                       FILE *out);

#endif
