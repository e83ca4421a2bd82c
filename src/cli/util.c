/*
 * util.c: small file and certificate helpers for the subcommands: exclusive
 * file creation (so a second `init` never clobbers a key), PEM reading that
 * tells "no certificate" apart from "broken PEM", and the display formats
 * used in listings (RFC 2253 names, SHA-256 fingerprints, UTC times).
 */
#include "cli/cli.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>

int cli_mkdirs(const char *path, int mode)
{
    char *copy = strdup(path), *p;
    struct stat sb;
    int rc = -1;

    if (copy == NULL)
        return -1;
    for (p = copy + 1; *p != '\0'; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(copy, (mode_t)mode) != 0 && errno != EEXIST)
            goto done;
        *p = '/';
    }
    if (mkdir(copy, (mode_t)mode) != 0) {
        if (errno != EEXIST)
            goto done;
        if (stat(copy, &sb) != 0)
            goto done;
        if (!S_ISDIR(sb.st_mode)) {
            errno = ENOTDIR;
            goto done;
        }
    }
    rc = 0;
done:
    free(copy);
    return rc;
}

int cli_file_exists(const char *path)
{
    struct stat sb;

    return lstat(path, &sb) == 0;
}

int cli_write_excl(const char *path, const void *data, size_t len, int mode)
{
    const char *p = data;
    int fd, saved;
    ssize_t n;

    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, (mode_t)mode);
    if (fd < 0)
        return -1;
    while (len > 0) {
        n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            goto fail;
        p += n;
        len -= (size_t)n;
    }
    if (fsync(fd) != 0)
        goto fail;
    if (close(fd) != 0) {
        fd = -1;
        goto fail;
    }
    return 0;
fail:
    saved = errno != 0 ? errno : EIO;
    if (fd >= 0)
        close(fd);
    unlink(path);
    errno = saved;
    return -1;
}

int cli_read_certs(const char *path, STACK_OF(X509) **out, char *why,
                   size_t whylen)
{
    STACK_OF(X509) *certs = NULL;
    BIO *bio = NULL;
    X509 *x = NULL;
    unsigned long e;
    int rc = -1;

    *out = NULL;
    ERR_clear_error();
    if ((bio = BIO_new_file(path, "r")) == NULL) {
        snprintf(why, whylen, "%s", strerror(errno != 0 ? errno : EIO));
        goto done;
    }
    if ((certs = sk_X509_new_null()) == NULL)
        goto oom;
    while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
        if (!sk_X509_push(certs, x))
            goto oom;
        x = NULL;
    }
    e = ERR_peek_last_error();
    if (ERR_GET_LIB(e) != ERR_LIB_PEM ||
        ERR_GET_REASON(e) != PEM_R_NO_START_LINE) {
        snprintf(why, whylen, "bad PEM certificate (%s)",
                 e != 0 && ERR_reason_error_string(e) != NULL
                     ? ERR_reason_error_string(e)
                     : "unreadable");
        goto done;
    }
    if (sk_X509_num(certs) == 0) {
        snprintf(why, whylen, "no PEM certificate found");
        goto done;
    }
    *out = certs;
    certs = NULL;
    rc = 0;
    goto done;
oom:
    snprintf(why, whylen, "out of memory");
done:
    ERR_clear_error();
    X509_free(x);
    sk_X509_pop_free(certs, X509_free);
    BIO_free(bio);
    return rc;
}

X509 *cli_read_cert(const char *path, char *why, size_t whylen)
{
    STACK_OF(X509) *certs = NULL;
    X509 *x = NULL;

    if (cli_read_certs(path, &certs, why, whylen) != 0)
        return NULL;
    if (sk_X509_num(certs) != 1)
        snprintf(why, whylen, "holds %d certificates, expected one",
                 sk_X509_num(certs));
    else
        x = sk_X509_shift(certs);
    sk_X509_pop_free(certs, X509_free);
    return x;
}

char *cli_certs_pem(const STACK_OF(X509) *certs)
{
    BIO *bio = BIO_new(BIO_s_mem());
    char *data = NULL, *pem = NULL;
    long len;
    int i;

    if (bio == NULL)
        return NULL;
    for (i = 0; i < sk_X509_num(certs); i++)
        if (!PEM_write_bio_X509(bio, sk_X509_value(certs, i)))
            goto done;
    len = BIO_get_mem_data(bio, &data);
    if (len < 0 || (pem = malloc((size_t)len + 1)) == NULL)
        goto done;
    memcpy(pem, data, (size_t)len);
    pem[len] = '\0';
done:
    BIO_free(bio);
    return pem;
}

char *cli_name_str(const X509_NAME *name)
{
    BIO *bio = BIO_new(BIO_s_mem());
    char *data = NULL, *s = NULL;
    long len;

    if (bio == NULL)
        return NULL;
    if (X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253) < 0)
        goto done;
    len = BIO_get_mem_data(bio, &data);
    if (len < 0 || (s = malloc((size_t)len + 1)) == NULL)
        goto done;
    memcpy(s, data, (size_t)len);
    s[len] = '\0';
done:
    BIO_free(bio);
    return s;
}

int cli_fingerprint(X509 *x, char *buf, size_t buflen)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0, i;

    if (!X509_digest(x, EVP_sha256(), md, &n) || buflen < (size_t)n * 3)
        return -1;
    for (i = 0; i < n; i++)
        snprintf(buf + (size_t)3 * i, buflen - (size_t)3 * i,
                 i + 1 < n ? "%02X:" : "%02X", md[i]);
    return 0;
}

void cli_time_str(time_t t, char *buf, size_t buflen)
{
    struct tm tm;

    if (gmtime_r(&t, &tm) == NULL ||
        strftime(buf, buflen, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        snprintf(buf, buflen, "-");
}

char *cli_abspath(const char *path)
{
    char cwd[PATH_MAX];
    size_t n;
    char *p;

    if (path[0] == '/')
        return strdup(path);
    if (getcwd(cwd, sizeof(cwd)) == NULL)
        return NULL;
    while (path[0] == '.' && path[1] == '/')
        path += 2;
    if (strcmp(path, ".") == 0)
        return strdup(cwd);
    n = strlen(cwd) + strlen(path) + 2;
    if ((p = malloc(n)) != NULL)
        snprintf(p, n, "%s/%s", cwd, path);
    return p;
}

char *cli_shell_quote(const char *s)
{
    static const char safe[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRS"
                               "TUVWXYZ0123456789/._-+:,=@%";
    size_t n = 3, i;
    char *q, *p;

    if (s[0] != '\0' && strspn(s, safe) == strlen(s))
        return strdup(s);
    for (i = 0; s[i] != '\0'; i++)
        n += s[i] == '\'' ? 4 : 1;
    if ((q = malloc(n)) == NULL)
        return NULL;
    p = q;
    *p++ = '\'';
    for (i = 0; s[i] != '\0'; i++) {
        if (s[i] == '\'') {
            memcpy(p, "'\\''", 4);
            p += 4;
        } else {
            *p++ = s[i];
        }
    }
    *p++ = '\'';
    *p = '\0';
    return q;
}
