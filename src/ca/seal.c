/*
 * seal.c: the devices' shared secrets (MAC protection) are kept in the
 * store only in sealed form, so a copy of cmpca.db (a backup, a replica)
 * gives away no secret. The sealing key is 32 random octets in a file of
 * its own next to the CA key (mode 0600), made once by `cmpca init` or by
 * the first `cmpca device add --secret-file`.
 *
 * AES-256-GCM with a fresh random 96-bit nonce per secret: the sealed form
 * is nonce (12) || ciphertext || tag (16). Secrets are sealed at most a few
 * hundred thousand times per key, far below the 2^32 random nonces GCM
 * allows under one key.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "ca/ca.h"
#include "util/log.h"

#define SEAL_NONCE_LEN 12
#define SEAL_TAG_LEN   16
/* A secret is at most this long (the CLI allows 1024 octets). */
#define SEAL_MAX_PLAIN 65536

/* Reads exactly `len` octets of `fd` into `buf`; 0 or -1 (errno set, or
 * EIO for a short file). */
static int read_full(int fd, unsigned char *buf, size_t len)
{
    ssize_t n;

    while (len > 0) {
        n = read(fd, buf, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        if (n == 0) {
            errno = EIO;
            return -1;
        }
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

static int write_full(int fd, const unsigned char *buf, size_t len)
{
    ssize_t n;

    while (len > 0) {
        n = write(fd, buf, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Reads an existing key file: a regular file of exactly the key size. */
static int key_read(const char *path, unsigned char out[CA_SEAL_KEY_LEN],
                    struct cmpca_err *err)
{
    struct stat st;
    int fd, rc = -1;

    if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0)
        return cmpca_err_set(err, FI_SYSTEM_FAILURE, "cannot open %s: %s", path,
                             strerror(errno));
    if (fstat(fd, &st) != 0) {
        cmpca_err_set(err, FI_SYSTEM_FAILURE, "cannot stat %s: %s", path,
                      strerror(errno));
    } else if (!S_ISREG(st.st_mode) || st.st_size != CA_SEAL_KEY_LEN) {
        cmpca_err_set(err, FI_SYSTEM_FAILURE,
                      "%s is not a sealing key (a file of %d octets)", path,
                      CA_SEAL_KEY_LEN);
    } else if (read_full(fd, out, CA_SEAL_KEY_LEN) != 0) {
        cmpca_err_set(err, FI_SYSTEM_FAILURE, "cannot read %s: %s", path,
                      strerror(errno));
    } else {
        if ((st.st_mode & 077) != 0)
            log_warn("%s is readable by others than its owner (chmod 600)",
                     path);
        rc = 0;
    }
    close(fd);
    if (rc != 0)
        OPENSSL_cleanse(out, CA_SEAL_KEY_LEN);
    return rc;
}

/* Makes a new key file. 1 if it exists already (someone was faster). */
static int key_create(const char *path, unsigned char out[CA_SEAL_KEY_LEN],
                      struct cmpca_err *err)
{
    int fd, saved;

    if (RAND_priv_bytes(out, CA_SEAL_KEY_LEN) <= 0)
        return cmpca_err_ossl(err, FI_SYSTEM_FAILURE, "no random octets");
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0 && errno == EEXIST)
        return 1;
    if (fd < 0)
        return cmpca_err_set(err, FI_SYSTEM_FAILURE, "cannot create %s: %s",
                             path, strerror(errno));
    if (write_full(fd, out, CA_SEAL_KEY_LEN) != 0 || fsync(fd) != 0) {
        saved = errno;
        close(fd);
        unlink(path);
        return cmpca_err_set(err, FI_SYSTEM_FAILURE, "cannot write %s: %s",
                             path, strerror(saved));
    }
    if (close(fd) != 0) {
        saved = errno;
        unlink(path);
        return cmpca_err_set(err, FI_SYSTEM_FAILURE, "cannot write %s: %s",
                             path, strerror(saved));
    }
    return 0;
}

int ca_seal_key_load(const char *path, int create,
                     unsigned char out[CA_SEAL_KEY_LEN], struct cmpca_err *err)
{
    struct stat st;
    int rc;

    if (path == NULL)
        return cmpca_err_set(err, FI_SYSTEM_FAILURE, "no sealing key path");
    if (create && lstat(path, &st) != 0 && errno == ENOENT) {
        rc = key_create(path, out, err);
        if (rc <= 0) {
            if (rc != 0)
                OPENSSL_cleanse(out, CA_SEAL_KEY_LEN);
            return rc;
        }
        /* created by another process meanwhile: use that one */
    }
    return key_read(path, out, err);
}

int ca_secret_seal(const unsigned char key[CA_SEAL_KEY_LEN],
                   const uint8_t *plain, size_t plain_len, uint8_t **out,
                   size_t *out_len, struct cmpca_err *err)
{
    EVP_CIPHER_CTX *ctx = NULL;
    uint8_t *buf = NULL;
    size_t len = SEAL_NONCE_LEN + plain_len + SEAL_TAG_LEN;
    int n = 0, fin = 0, rc = -1;

    *out = NULL;
    *out_len = 0;
    if (plain_len > SEAL_MAX_PLAIN)
        return cmpca_err_set(err, FI_SYSTEM_FAILURE, "secret too long");
    if ((buf = OPENSSL_malloc(len)) == NULL ||
        (ctx = EVP_CIPHER_CTX_new()) == NULL) {
        cmpca_err_set(err, FI_SYSTEM_FAILURE, "out of memory");
        goto done;
    }
    if (RAND_bytes(buf, SEAL_NONCE_LEN) <= 0 ||
        EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, buf) <= 0 ||
        EVP_EncryptUpdate(ctx, buf + SEAL_NONCE_LEN, &n, plain,
                          (int)plain_len) <= 0 ||
        EVP_EncryptFinal_ex(ctx, buf + SEAL_NONCE_LEN + n, &fin) <= 0 ||
        (size_t)n + (size_t)fin != plain_len ||
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, SEAL_TAG_LEN,
                            buf + SEAL_NONCE_LEN + plain_len) <= 0) {
        cmpca_err_ossl(err, FI_SYSTEM_FAILURE, "cannot seal the secret");
        goto done;
    }
    *out = buf;
    *out_len = len;
    buf = NULL;
    rc = 0;
done:
    EVP_CIPHER_CTX_free(ctx);
    OPENSSL_clear_free(buf, len);
    return rc;
}

int ca_secret_unseal(const unsigned char key[CA_SEAL_KEY_LEN],
                     const uint8_t *sealed, size_t sealed_len, uint8_t **out,
                     size_t *out_len, struct cmpca_err *err)
{
    EVP_CIPHER_CTX *ctx = NULL;
    uint8_t *buf = NULL;
    size_t plain_len;
    int n = 0, fin = 0, rc = -1;

    *out = NULL;
    *out_len = 0;
    if (sealed == NULL || sealed_len < SEAL_NONCE_LEN + SEAL_TAG_LEN ||
        sealed_len > SEAL_NONCE_LEN + SEAL_MAX_PLAIN + SEAL_TAG_LEN)
        return cmpca_err_set(err, FI_SYSTEM_FAILURE,
                             "sealed secret has a wrong length");
    plain_len = sealed_len - SEAL_NONCE_LEN - SEAL_TAG_LEN;
    /* one octet more than needed, so an empty secret is not malloc(0) */
    if ((buf = OPENSSL_malloc(plain_len + 1)) == NULL ||
        (ctx = EVP_CIPHER_CTX_new()) == NULL) {
        cmpca_err_set(err, FI_SYSTEM_FAILURE, "out of memory");
        goto done;
    }
    if (EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, sealed) <= 0 ||
        EVP_DecryptUpdate(ctx, buf, &n, sealed + SEAL_NONCE_LEN,
                          (int)plain_len) <= 0 ||
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, SEAL_TAG_LEN,
                            (void *)(sealed + sealed_len - SEAL_TAG_LEN)) <=
            0 ||
        EVP_DecryptFinal_ex(ctx, buf + n, &fin) <= 0 ||
        (size_t)n + (size_t)fin != plain_len) {
        ERR_clear_error();
        cmpca_err_set(err, FI_SYSTEM_FAILURE,
                      "sealed secret does not authenticate (wrong sealing "
                      "key or damaged record)");
        goto done;
    }
    *out = buf;
    *out_len = plain_len;
    buf = NULL;
    rc = 0;
done:
    EVP_CIPHER_CTX_free(ctx);
    OPENSSL_clear_free(buf, plain_len + 1);
    return rc;
}
