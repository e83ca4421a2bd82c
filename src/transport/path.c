/*
 * path.c: the RFC 9811 section 3.4 request-target grammar, and nothing else.
 *
 * The grammar is tiny and closed, so it is matched by hand rather than by a
 * general URL parser: anything that is not exactly one of the four forms is a
 * 404. In particular there is no normalisation: "//", "." and ".." segments
 * and percent-escapes are refused, never resolved, so one resource has one
 * spelling and a profile name can never smuggle a path into a log or a
 * database key. Kept apart from the HTTP code so the fuzz target and the unit
 * test can drive it without a server.
 */
#include "transport/transport.h"

#include <string.h>

#define PATH_PREFIX      "/.well-known/cmp"
#define PROFILE_NAME_MAX 64

/* RFC 9483 section 6 operation labels */
static const char *const path_ops[] = {
    "initialization", "certification", "keyupdate",     "pkcs10",
    "revocation",     "getcacerts",    "getrootupdate", "getcertreqtemplate",
    "getcrls",        "nested",
};

/* A profile name is 1..64 of [A-Za-z0-9._-] and not made only of dots, so
 * "." and ".." can never appear as a segment. */
static int profile_name_ok(const char *s, size_t len)
{
    size_t i, dots = 0;

    if (len == 0 || len > PROFILE_NAME_MAX)
        return 0;
    for (i = 0; i < len; i++) {
        char c = s[i];

        if (c == '.')
            dots++;
        else if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                   (c >= '0' && c <= '9') || c == '_' || c == '-'))
            return 0;
    }
    return dots != len;
}

static int operation_known(const char *s, size_t len)
{
    size_t i;

    for (i = 0; i < sizeof(path_ops) / sizeof(path_ops[0]); i++)
        if (strlen(path_ops[i]) == len && memcmp(path_ops[i], s, len) == 0)
            return 1;
    return 0;
}

/* Copies `len` bytes of `s` into `out` as a string; -1 if it does not fit.
 * A NULL `out` means the caller does not want this part. */
static int copy_part(char *out, size_t cap, const char *s, size_t len)
{
    if (out == NULL)
        return 0;
    if (len >= cap)
        return -1;
    memcpy(out, s, len);
    out[len] = '\0';
    return 0;
}

int transport_parse_path(const char *path, char *profile, char *operation,
                         size_t cap)
{
    const char *p, *name = "", *op = "";
    size_t name_len = 0, op_len = 0;

    if (cap > 0 && profile != NULL)
        profile[0] = '\0';
    if (cap > 0 && operation != NULL)
        operation[0] = '\0';
    if (path == NULL || strncmp(path, PATH_PREFIX, strlen(PATH_PREFIX)) != 0)
        return -1;
    p = path + strlen(PATH_PREFIX);
    if (*p == '/')
        p++;
    else if (*p != '\0')
        return -1; /* "/.well-known/cmpfoo" */

    if (p[0] == 'p' && p[1] == '/') {
        name = p + 2;
        name_len = strcspn(name, "/");
        if (!profile_name_ok(name, name_len))
            return -1;
        p = name + name_len;
        if (*p == '/')
            p++;
    }
    if (*p != '\0') {
        op = p;
        op_len = strcspn(op, "/");
        if (!operation_known(op, op_len))
            return -1;
        p = op + op_len;
        if (*p == '/')
            p++; /* one trailing slash is tolerated */
    }
    if (*p != '\0')
        return -1;

    /* the caller's buffers hold "" until the whole path has matched */
    if (copy_part(profile, cap, name, name_len) != 0 ||
        copy_part(operation, cap, op, op_len) != 0) {
        if (cap > 0 && profile != NULL)
            profile[0] = '\0';
        if (cap > 0 && operation != NULL)
            operation[0] = '\0';
        return -1;
    }
    return 0;
}
