/*
 * store_sqlite_util.c: the small conversions every store file needs:
 * binding C values, copying columns out before the statement is reset, and
 * the two input rules of the store (canonical certificate serials, sane
 * device serials). Kept apart so the table files read as SQL plus mapping.
 */
#include "store/store_sqlite_local.h"

#include <stdlib.h>
#include <string.h>

int sq_bind_text(sqlite3_stmt *s, int idx, const char *v)
{
    if (v == NULL)
        return sqlite3_bind_null(s, idx);
    return sqlite3_bind_text(s, idx, v, -1, SQLITE_STATIC);
}

int sq_bind_blob(sqlite3_stmt *s, int idx, const uint8_t *v, size_t len)
{
    if (v == NULL || len == 0)
        return sqlite3_bind_null(s, idx);
    return sqlite3_bind_blob64(s, idx, v, (sqlite3_uint64)len, SQLITE_STATIC);
}

int sq_col_text(sqlite3_stmt *s, int col, char **out, struct cmpca_err *err)
{
    const unsigned char *v;
    int n;

    *out = NULL;
    if (sqlite3_column_type(s, col) == SQLITE_NULL)
        return 0;
    v = sqlite3_column_text(s, col);
    n = sqlite3_column_bytes(s, col);
    if (v == NULL || (*out = malloc((size_t)n + 1)) == NULL)
        return sq_oom(err);
    memcpy(*out, v, (size_t)n);
    (*out)[n] = '\0';
    return 0;
}

int sq_col_blob(sqlite3_stmt *s, int col, uint8_t **out, size_t *out_len,
                struct cmpca_err *err)
{
    const void *v;
    int n;

    *out = NULL;
    *out_len = 0;
    if (sqlite3_column_type(s, col) == SQLITE_NULL)
        return 0;
    v = sqlite3_column_blob(s, col);
    n = sqlite3_column_bytes(s, col);
    if (n <= 0)
        return 0;
    if (v == NULL || (*out = malloc((size_t)n)) == NULL)
        return sq_oom(err);
    memcpy(*out, v, (size_t)n);
    *out_len = (size_t)n;
    return 0;
}

static int hex_upper(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch;
    if (ch >= 'A' && ch <= 'F')
        return ch;
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 'A';
    return -1;
}

/*
 * A serial is one number, so "0x00ab", "AB" and "00:ab" must find the same
 * row. The key is what `openssl x509 -serial` prints: the magnitude's
 * octets in uppercase hex, the DER sign octet left out. Strip every leading
 * zero digit, then put one back if the digit count is odd.
 */
int sq_serial_norm(const char *in, char out[SQ_SERIAL_BUF])
{
    char digits[SQ_MAX_SERIAL_HEX];
    size_t n = 0, pos = 0;
    int seen = 0, ch;

    if (in == NULL)
        return -1;
    if (in[0] == '0' && (in[1] == 'x' || in[1] == 'X'))
        in += 2;
    for (; *in != '\0'; in++) {
        if (*in == ':')
            continue;
        if ((ch = hex_upper(*in)) < 0)
            return -1;
        seen = 1;
        if (n == 0 && ch == '0')
            continue;
        if (n == sizeof(digits))
            return -1;
        digits[n++] = (char)ch;
    }
    if (!seen)
        return -1;
    if (n == 0 || n % 2 != 0)
        out[pos++] = '0';
    if (n == 0)
        out[pos++] = '0';
    memcpy(out + pos, digits, n);
    out[pos + n] = '\0';
    return 0;
}

int sq_check_device_serial(const char *serial, struct cmpca_err *err)
{
    size_t len;

    if (serial == NULL || *serial == '\0')
        return cmpca_err_set(err, FI_SYSTEM_FAILURE,
                             "store: empty device serial");
    len = strlen(serial);
    if (len > SQ_MAX_DEVICE_SERIAL)
        return cmpca_err_set(err, FI_SYSTEM_FAILURE,
                             "store: device serial of %zu bytes is longer "
                             "than %d",
                             len, SQ_MAX_DEVICE_SERIAL);
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)serial[i];

        if (ch < 0x20 || ch == 0x7f)
            return cmpca_err_set(err, FI_SYSTEM_FAILURE,
                                 "store: device serial holds control "
                                 "character 0x%02x at offset %zu",
                                 ch, i);
    }
    return 0;
}
