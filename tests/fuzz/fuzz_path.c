/*
 * fuzz_path.c: libFuzzer target for the HTTP request-target grammar,
 * transport_parse_path (src/transport/path.c): the only code that reads
 * the URL of a request before any routing, with a path straight from the
 * network in it.
 *
 * Besides memory errors it checks what the grammar promises, so a change
 * that quietly admits "..", escapes or a second spelling of one resource
 * aborts: an accepted path is exactly "/.well-known/cmp", then "/p/NAME"
 * when a profile was found, then "/OP" when an operation was found, then
 * at most one "/"; NAME is 1..64 of [A-Za-z0-9._-], not only dots; OP is
 * one of the RFC 9483 labels; a refused path leaves both buffers empty; a
 * buffer too small to hold a part refuses the path and never overflows
 * (the parse runs again with a capacity taken from the input, into buffers
 * ASan can see past); NULL buffers change nothing but the copies.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "transport/transport.h"

#define CAP 65 /* TRANSPORT_PART_CAP: a 64-character name and its NUL */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const ops[] = {
    "initialization", "certification", "keyupdate",     "pkcs10",
    "revocation",     "getcacerts",    "getrootupdate", "getcertreqtemplate",
    "getcrls",        "nested",
};

static void fail(const char *what, const char *path)
{
    fprintf(stderr, "fuzz_path: %s: \"%s\"\n", what, path);
    abort();
}

static int name_ok(const char *s)
{
    size_t len = strlen(s), dots = 0;

    if (len == 0 || len > 64)
        return 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '.')
            dots++;
        else if (strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                        "0123456789_-",
                        s[i]) == NULL)
            return 0;
    }
    return dots != len;
}

static int op_ok(const char *s)
{
    for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
        if (strcmp(s, ops[i]) == 0)
            return 1;
    return 0;
}

/* The one spelling of the parts (without the tolerated final slash). */
static void check_accepted(const char *path, const char *prof, const char *op)
{
    char want[sizeof("/.well-known/cmp/p//") + 2 * CAP];
    size_t plen = strlen(path), wlen;

    if (prof[0] != '\0' && !name_ok(prof))
        fail("accepted a bad profile name", path);
    if (op[0] != '\0' && !op_ok(op))
        fail("accepted an unknown operation", path);
    snprintf(want, sizeof(want), "/.well-known/cmp%s%s%s%s",
             prof[0] != '\0' ? "/p/" : "", prof, op[0] != '\0' ? "/" : "", op);
    wlen = strlen(want);
    if (!(plen == wlen || (plen == wlen + 1 && path[wlen] == '/')) ||
        memcmp(path, want, wlen) != 0)
        fail("accepted path is not the canonical spelling of its parts", path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char prof[CAP], op[CAP], *path, *p2 = NULL, *o2 = NULL;
    size_t cap;
    int rc, rc_null, rc_small;

    if (size == 0)
        return 0;
    /* the first byte picks the small capacity, the rest is the path */
    cap = data[0] % (CAP + 2);
    if ((path = malloc(size)) == NULL)
        return 0;
    memcpy(path, data + 1, size - 1);
    path[size - 1] = '\0';

    memset(prof, 'x', sizeof(prof));
    memset(op, 'x', sizeof(op));
    rc = transport_parse_path(path, prof, op, sizeof(prof));
    if (memchr(prof, '\0', sizeof(prof)) == NULL ||
        memchr(op, '\0', sizeof(op)) == NULL)
        fail("a part is not terminated", path);
    if (rc == 0)
        check_accepted(path, prof, op);
    else if (prof[0] != '\0' || op[0] != '\0')
        fail("refused path left a part behind", path);

    rc_null = transport_parse_path(path, NULL, NULL, 0);
    if (rc_null != rc)
        fail("NULL buffers changed the verdict", path);

    /* exact-size heap buffers: ASan sees any write past `cap` */
    if (cap > 0 && ((p2 = malloc(cap)) == NULL || (o2 = malloc(cap)) == NULL))
        goto done;
    rc_small = transport_parse_path(path, p2, o2, cap);
    if (rc_small == 0 && rc != 0)
        fail("a small buffer accepted a refused path", path);
    if (rc_small == 0 && cap > 0 &&
        (strcmp(p2, prof) != 0 || strcmp(o2, op) != 0))
        fail("a small buffer changed an accepted parse", path);
    if (rc_small != 0 && cap > 0 && (p2[0] != '\0' || o2[0] != '\0'))
        fail("refused path (small buffer) left a part behind", path);
    if (rc == 0 && rc_small != 0 && strlen(prof) < cap && strlen(op) < cap)
        fail("refused a path whose parts fit", path);
done:
    free(p2);
    free(o2);
    free(path);
    return 0;
}
