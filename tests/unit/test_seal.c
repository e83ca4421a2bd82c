/*
 * test_seal.c: sealed shared secrets (src/ca/seal.c). The key file is made
 * 0600 and exclusively (an existing one is loaded, never replaced), a key
 * file of the wrong size is refused, a sealed secret opens with its key
 * only, and any changed octet (nonce, ciphertext, tag) or truncation makes
 * it fail to open.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "ca/ca.h"
#include "check.h"

static char dir[64];

static void path_of(char *out, size_t len, const char *name)
{
    snprintf(out, len, "%s/%s", dir, name);
}

/* 1 when `needle` occurs in `hay`. */
static int contains(const uint8_t *hay, size_t n, const char *needle)
{
    size_t k = strlen(needle);

    for (size_t i = 0; i + k <= n; i++)
        if (memcmp(hay + i, needle, k) == 0)
            return 1;
    return 0;
}

static int write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    int ok;

    if (f == NULL)
        return -1;
    ok = fwrite(data, 1, len, f) == len;
    return fclose(f) == 0 && ok ? 0 : -1;
}

static void test_key_file(unsigned char key[CA_SEAL_KEY_LEN])
{
    struct cmpca_err err = CMPCA_ERR_INIT;
    unsigned char again[CA_SEAL_KEY_LEN], zero[CA_SEAL_KEY_LEN] = {0};
    char path[128], bad[128];
    struct stat st;

    path_of(path, sizeof(path), "secrets.key");
    /* without create, a missing file is an error */
    CHECK(ca_seal_key_load(path, 0, key, &err) != 0);
    CHECK(access(path, F_OK) != 0);
    CHECK(ca_seal_key_load(path, 1, key, &err) == 0);
    CHECK(memcmp(key, zero, sizeof(zero)) != 0);
    CHECK(stat(path, &st) == 0 && S_ISREG(st.st_mode));
    CHECK_INT_EQ(st.st_mode & 0777, 0600);
    CHECK_INT_EQ(st.st_size, CA_SEAL_KEY_LEN);
    /* create does not overwrite: the same key comes back */
    CHECK(ca_seal_key_load(path, 1, again, &err) == 0);
    CHECK(memcmp(key, again, CA_SEAL_KEY_LEN) == 0);
    CHECK(ca_seal_key_load(path, 0, again, &err) == 0);
    CHECK(memcmp(key, again, CA_SEAL_KEY_LEN) == 0);
    /* a file of the wrong size is no key, create or not */
    path_of(bad, sizeof(bad), "short.key");
    CHECK(write_file(bad, key, CA_SEAL_KEY_LEN - 1) == 0);
    CHECK(ca_seal_key_load(bad, 1, again, &err) != 0);
    CHECK(strstr(err.msg, "not a sealing key") != NULL);
    CHECK(ca_seal_key_load(bad, 0, again, &err) != 0);
    unlink(bad);
    path_of(bad, sizeof(bad), "long.key");
    CHECK(write_file(bad, "0123456789012345678901234567890123", 33) == 0);
    CHECK(ca_seal_key_load(bad, 0, again, &err) != 0);
    unlink(bad);
    /* a directory is no key either */
    CHECK(ca_seal_key_load(dir, 1, again, &err) != 0);
}

static void test_round_trip(const unsigned char key[CA_SEAL_KEY_LEN])
{
    static const char secret[] = "correct horse battery staple";
    struct cmpca_err err = CMPCA_ERR_INIT;
    uint8_t *s1 = NULL, *s2 = NULL, *plain = NULL;
    size_t n1 = 0, n2 = 0, plain_len = 0;

    CHECK(ca_secret_seal(key, (const uint8_t *)secret, strlen(secret), &s1, &n1,
                         &err) == 0);
    CHECK_INT_EQ(n1, 12 + strlen(secret) + 16);
    CHECK(ca_secret_seal(key, (const uint8_t *)secret, strlen(secret), &s2, &n2,
                         &err) == 0);
    /* a fresh nonce each time: two sealings differ entirely */
    CHECK(n1 == n2 && s1 != NULL && s2 != NULL && memcmp(s1, s2, 12) != 0 &&
          memcmp(s1 + 12, s2 + 12, n1 - 12) != 0);
    /* the plaintext appears nowhere in the sealed form */
    CHECK(s1 != NULL && !contains(s1, n1, "horse"));
    CHECK(ca_secret_unseal(key, s1, n1, &plain, &plain_len, &err) == 0);
    CHECK(plain_len == strlen(secret) && plain != NULL &&
          memcmp(plain, secret, plain_len) == 0);
    OPENSSL_clear_free(plain, plain_len);
    OPENSSL_free(s1);
    OPENSSL_free(s2);
    /* an empty secret survives too */
    CHECK(ca_secret_seal(key, (const uint8_t *)"", 0, &s1, &n1, &err) == 0);
    CHECK_INT_EQ(n1, 28);
    CHECK(ca_secret_unseal(key, s1, n1, &plain, &plain_len, &err) == 0);
    CHECK_INT_EQ(plain_len, 0);
    OPENSSL_clear_free(plain, plain_len);
    OPENSSL_free(s1);
}

static void test_tamper(const unsigned char key[CA_SEAL_KEY_LEN])
{
    static const char secret[] = "0123456789abcdef";
    struct cmpca_err err = CMPCA_ERR_INIT;
    unsigned char other[CA_SEAL_KEY_LEN];
    uint8_t *s = NULL, *plain = NULL;
    size_t n = 0, plain_len = 0, i;
    int opened = 0;

    CHECK(ca_secret_seal(key, (const uint8_t *)secret, strlen(secret), &s, &n,
                         &err) == 0);
    if (s == NULL)
        return;
    /* every single flipped bit, in nonce, ciphertext and tag */
    for (i = 0; i < n * 8; i++) {
        s[i / 8] ^= (uint8_t)(1u << (i % 8));
        if (ca_secret_unseal(key, s, n, &plain, &plain_len, &err) == 0) {
            opened++;
            OPENSSL_clear_free(plain, plain_len);
        }
        s[i / 8] ^= (uint8_t)(1u << (i % 8));
    }
    CHECK_INT_EQ(opened, 0);
    CHECK(strstr(err.msg, "does not authenticate") != NULL);
    /* cut short, or shorter than nonce and tag */
    CHECK(ca_secret_unseal(key, s, n - 1, &plain, &plain_len, &err) != 0);
    CHECK(ca_secret_unseal(key, s, 27, &plain, &plain_len, &err) != 0);
    CHECK(plain == NULL && plain_len == 0);
    /* another key */
    memcpy(other, key, sizeof(other));
    other[5] ^= 0x20;
    CHECK(ca_secret_unseal(other, s, n, &plain, &plain_len, &err) != 0);
    /* and the untouched original still opens */
    CHECK(ca_secret_unseal(key, s, n, &plain, &plain_len, &err) == 0);
    OPENSSL_clear_free(plain, plain_len);
    OPENSSL_free(s);
}

int main(void)
{
    unsigned char key[CA_SEAL_KEY_LEN];
    char path[128];

    snprintf(dir, sizeof(dir), "/tmp/test_seal.XXXXXX");
    if (mkdtemp(dir) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    test_key_file(key);
    test_round_trip(key);
    test_tamper(key);
    OPENSSL_cleanse(key, sizeof(key));
    path_of(path, sizeof(path), "secrets.key");
    unlink(path);
    rmdir(dir);
    return CHECK_RESULT();
}
