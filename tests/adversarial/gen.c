/*
 * gen.c: adv_gen's entry point, option table and the small helpers its
 * other files share (loading names from the -I directories, files, times).
 *
 * The adversarial cases (tests/adversarial/cases, one .expect file each) name
 * their request as an adv_gen command line, so every knob a case may turn is an
 * option here, listed in one table: a new kind of hostile request is a new
 * row plus the code that honours it in gen_msg.c.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/pem.h>

#include "gen.h"

static void usage(FILE *f)
{
    fputs("usage: adv_gen [-I DIR]... COMMAND ...\n"
          "  msg OUT [--body ir|cr|kur|krr|certconf|rr] [--signer NAME]\n"
          "      [--extra NAME,...|none] [--newkey NAME] [--newkey-type T]\n"
          "      [--newkey-out F] [--popkey NAME] [--pop sig|raverified|none]\n"
          "      [--pop-md MD] [--subject DN] [--san DNS:x] [--ca-true]\n"
          "      [--days N] [--no-pubkey] [--crm-count N] [--certreqid N]\n"
          "      [--old-cert NAME] [--pvno N] [--sender DN] [--kid HEX]\n"
          "      [--kid-of NAME] [--no-kid] [--tid HEX] [--tid-len N]\n"
          "      [--tid-from F] [--no-tid] [--nonce-len N] [--nonce-from F]\n"
          "      [--no-nonce] [--recip-from F] [--recip-random]\n"
          "      [--time-offset S] [--no-time] [--implicit-confirm]\n"
          "      [--prot sig|none|stripped|pbm] [--prot-md MD]\n"
          "      [--prot-oid OID] [--prot-key NAME] [--pbm-iter N]\n"
          "      [--pbm-kid TEXT] [--certhash-from F] [--certhash-random]\n"
          "      [--certconf-reject] [--rr-cert NAME] [--deep-info N]\n"
          "      [--mangle HOW] [--repeat N]\n"
          "  mkcert OUT.pem --key NAME --subject DN (--self|--issuer NAME)\n"
          "      [--sign-key NAME] --from T --to T [--ca|--leaf|--leaf-noku]\n"
          "  reissue IN.pem OUT.pem --ca NAME --from T --to T\n"
          "  mkcrl OUT.pem --issuer NAME --from T --to T [--revoke NAME]...\n"
          "  certout RSP.der OUT.pem    the certificate of an ip/cp/kup\n"
          "  statustext RSP.der         the statusString of its PKIStatusInfo\n"
          "Names are looked up as NAME.pem / NAME.key in the -I directories.\n"
          "T is +N or -N days from now, or YYYYMMDDHHMMSSZ.\n",
          f);
}

void gen_die(const char *what)
{
    fprintf(stderr, "adv_gen: %s\n", what);
    ERR_print_errors_fp(stderr);
    exit(1);
}

/* Finds NAME.ext in the search directories (or NAME itself when it holds
 * a slash). Returns an open file. */
static FILE *open_named(const struct gen_dirs *d, const char *name,
                        const char *ext)
{
    char path[4096];
    FILE *f;

    if (strchr(name, '/') != NULL) {
        /* a path: NAME.ext if it exists, else NAME as given */
        snprintf(path, sizeof(path), "%s.%s", name, ext);
        return (f = fopen(path, "r")) != NULL ? f : fopen(name, "r");
    }
    for (int i = 0; i < d->num; i++) {
        snprintf(path, sizeof(path), "%s/%s.%s", d->dir[i], name, ext);
        if ((f = fopen(path, "r")) != NULL)
            return f;
    }
    return NULL;
}

X509 *gen_load_cert(const struct gen_dirs *d, const char *name)
{
    FILE *f = open_named(d, name, "pem");
    X509 *x = NULL;

    if (f != NULL) {
        x = PEM_read_X509(f, NULL, NULL, NULL);
        fclose(f);
    }
    if (x == NULL) {
        fprintf(stderr, "adv_gen: certificate %s\n", name);
        gen_die("cannot load certificate");
    }
    return x;
}

EVP_PKEY *gen_load_key(const struct gen_dirs *d, const char *name)
{
    FILE *f = open_named(d, name, "key");
    EVP_PKEY *k = NULL;

    if (f != NULL) {
        k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
        fclose(f);
    }
    if (k == NULL) {
        fprintf(stderr, "adv_gen: key %s\n", name);
        gen_die("cannot load key");
    }
    return k;
}

uint8_t *gen_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    uint8_t *buf = NULL;
    long size;

    if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0 ||
        fseek(f, 0, SEEK_SET) != 0 ||
        (buf = malloc((size_t)size + 1)) == NULL ||
        fread(buf, 1, (size_t)size, f) != (size_t)size) {
        fprintf(stderr, "adv_gen: %s: %s\n", path, strerror(errno));
        exit(1);
    }
    fclose(f);
    *len = (size_t)size;
    return buf;
}

void gen_write_file(const char *path, const uint8_t *buf, size_t len)
{
    FILE *f = fopen(path, "wb");

    if (f == NULL || fwrite(buf, 1, len, f) != len || fclose(f) != 0) {
        fprintf(stderr, "adv_gen: cannot write %s\n", path);
        exit(1);
    }
}

void gen_write_pem_cert(const char *path, X509 *cert)
{
    FILE *f = fopen(path, "w");

    if (f == NULL || PEM_write_X509(f, cert) != 1 || fclose(f) != 0)
        gen_die("cannot write certificate");
}

void gen_write_pem_key(const char *path, EVP_PKEY *key)
{
    FILE *f = fopen(path, "w");

    if (f == NULL ||
        PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL) != 1 ||
        fclose(f) != 0)
        gen_die("cannot write key");
}

CMPCA_PKIMESSAGE *gen_read_msg(const char *path)
{
    size_t len;
    uint8_t *der = gen_read_file(path, &len);
    CMPCA_PKIMESSAGE *m = cmp_asn1_decode_msg(der, len);

    free(der);
    if (m == NULL) {
        fprintf(stderr, "adv_gen: %s\n", path);
        gen_die("not a PKIMessage");
    }
    return m;
}

X509_NAME *gen_parse_name(const char *dn)
{
    X509_NAME *n = X509_NAME_new();
    char *copy = strdup(dn), *save = NULL, *part, *eq;

    if (n == NULL || copy == NULL)
        gen_die("out of memory");
    for (part = strtok_r(copy, "/", &save); part != NULL;
         part = strtok_r(NULL, "/", &save)) {
        if ((eq = strchr(part, '=')) == NULL)
            gen_die("bad DN: an attribute without '='");
        *eq = '\0';
        if (!X509_NAME_add_entry_by_txt(n, part, MBSTRING_UTF8,
                                        (unsigned char *)eq + 1, -1, -1, 0))
            gen_die("bad DN attribute");
    }
    free(copy);
    return n;
}

EVP_PKEY *gen_fresh_key(const char *type)
{
    EVP_PKEY *k = NULL;

    if (type == NULL || strcmp(type, "ec") == 0)
        k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    else if (strcmp(type, "rsa2048") == 0)
        k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
    else if (strcmp(type, "rsa512") == 0)
        k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)512);
    else
        gen_die("unknown key type");
    if (k == NULL)
        gen_die("key generation failed");
    return k;
}

const EVP_MD *gen_md(const char *name)
{
    const EVP_MD *md = EVP_get_digestbyname(name != NULL ? name : "sha256");

    if (md == NULL)
        gen_die("unknown digest");
    return md;
}

ASN1_TIME *gen_time(const char *spec)
{
    ASN1_TIME *t = NULL;
    char *end = NULL;
    long days;

    if (spec[0] == '+' || spec[0] == '-') {
        days = strtol(spec, &end, 10);
        if (*end != '\0')
            gen_die("bad relative time");
        t = X509_time_adj_ex(NULL, (int)days, 0, NULL);
    } else if ((t = ASN1_TIME_new()) != NULL &&
               !ASN1_TIME_set_string_X509(t, spec)) {
        ASN1_TIME_free(t);
        t = NULL;
    }
    if (t == NULL)
        gen_die("bad time");
    return t;
}

/* ---- `msg` options: one row per option ---------------------------------- */

enum opt_kind { OPT_STR, OPT_LONG, OPT_FLAG };

static const struct {
    const char *name;
    enum opt_kind kind;
    size_t off;
} msg_options[] = {
#define S(n, f)                                                                \
    {                                                                          \
        n, OPT_STR, offsetof(struct msg_opts, f)                               \
    }
#define L(n, f)                                                                \
    {                                                                          \
        n, OPT_LONG, offsetof(struct msg_opts, f)                              \
    }
#define F(n, f)                                                                \
    {                                                                          \
        n, OPT_FLAG, offsetof(struct msg_opts, f)                              \
    }
    S("--body", body),
    S("--signer", signer),
    S("--extra", extra),
    S("--newkey", newkey),
    S("--newkey-type", newkey_type),
    S("--newkey-out", newkey_out),
    S("--popkey", popkey),
    S("--pop", pop),
    S("--pop-md", pop_md),
    S("--subject", subject),
    S("--san", san),
    S("--old-cert", old_cert),
    S("--sender", sender),
    S("--kid", kid_hex),
    S("--kid-of", kid_of),
    S("--tid", tid_hex),
    S("--tid-from", tid_from),
    S("--nonce-from", nonce_from),
    S("--recip-from", recip_from),
    S("--prot", prot),
    S("--prot-md", prot_md),
    S("--prot-oid", prot_oid),
    S("--prot-key", prot_key),
    S("--pbm-kid", pbm_kid),
    S("--certhash-from", certhash_from),
    S("--rr-cert", rr_cert),
    S("--mangle", mangle),
    L("--pvno", pvno),
    L("--tid-len", tid_len),
    L("--nonce-len", nonce_len),
    L("--time-offset", time_offset),
    L("--days", days),
    L("--crm-count", crm_count),
    L("--certreqid", certreqid),
    L("--pbm-iter", pbm_iter),
    L("--deep-info", deep_info),
    L("--repeat", repeat),
    F("--no-tid", no_tid),
    F("--no-nonce", no_nonce),
    F("--no-time", no_time),
    F("--no-kid", no_kid),
    F("--no-pubkey", no_pubkey),
    F("--recip-random", recip_random),
    F("--implicit-confirm", implicit_confirm),
    F("--ca-true", ca_true),
    F("--certhash-random", certhash_random),
    F("--certconf-reject", certconf_reject),
#undef S
#undef L
#undef F
};

static int parse_msg_opts(int argc, char **argv, struct msg_opts *o)
{
    char *base = (char *)o, *end;
    size_t k, n = sizeof(msg_options) / sizeof(msg_options[0]);

    memset(o, 0, sizeof(*o));
    o->pvno = 2;
    o->tid_len = 16;
    o->nonce_len = 16;
    o->crm_count = 1;
    o->pbm_iter = 500;
    o->repeat = 1;
    for (int i = 0; i < argc; i++) {
        for (k = 0; k < n && strcmp(argv[i], msg_options[k].name) != 0; k++)
            ;
        if (k == n) {
            fprintf(stderr, "adv_gen: msg: unknown option %s\n", argv[i]);
            return -1;
        }
        if (msg_options[k].kind == OPT_FLAG) {
            *(int *)(base + msg_options[k].off) = 1;
            continue;
        }
        if (++i == argc) {
            fprintf(stderr, "adv_gen: msg: %s needs a value\n", argv[i - 1]);
            return -1;
        }
        if (msg_options[k].kind == OPT_STR) {
            *(const char **)(base + msg_options[k].off) = argv[i];
            continue;
        }
        errno = 0;
        *(long *)(base + msg_options[k].off) = strtol(argv[i], &end, 0);
        if (errno != 0 || *end != '\0' || end == argv[i]) {
            fprintf(stderr, "adv_gen: msg: %s: bad number %s\n", argv[i - 1],
                    argv[i]);
            return -1;
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    struct gen_dirs dirs = {.num = 0};
    struct msg_opts o;
    int i = 1;

    while (i + 1 < argc && strcmp(argv[i], "-I") == 0) {
        if (dirs.num == GEN_MAX_DIRS)
            gen_die("too many -I");
        dirs.dir[dirs.num++] = argv[i + 1];
        i += 2;
    }
    if (i >= argc || strcmp(argv[i], "--help") == 0) {
        usage(i >= argc ? stderr : stdout);
        return i >= argc ? 2 : 0;
    }
    if (dirs.num == 0)
        dirs.dir[dirs.num++] = ".";
    if (strcmp(argv[i], "msg") == 0 && i + 1 < argc) {
        if (parse_msg_opts(argc - i - 2, argv + i + 2, &o) != 0)
            return 2;
        return gen_cmd_msg(&dirs, &o, argv[i + 1]);
    }
    if (strcmp(argv[i], "mkcert") == 0)
        return gen_cmd_mkcert(&dirs, argc - i - 1, argv + i + 1);
    if (strcmp(argv[i], "reissue") == 0)
        return gen_cmd_reissue(&dirs, argc - i - 1, argv + i + 1);
    if (strcmp(argv[i], "mkcrl") == 0)
        return gen_cmd_mkcrl(&dirs, argc - i - 1, argv + i + 1);
    if (strcmp(argv[i], "statustext") == 0)
        return gen_cmd_statustext(argc - i - 1, argv + i + 1);
    if (strcmp(argv[i], "certout") == 0)
        return gen_cmd_certout(argc - i - 1, argv + i + 1);
    usage(stderr);
    return 2;
}
