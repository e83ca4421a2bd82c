/*
 * transport_client.c: the raw HTTP client of test_transport (see the
 * header for why it exists).
 */
#include "transport_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>
/* Offset of the blank line ending the headers, or -1. */
static long head_end(const char *p, size_t n)
{
    size_t i;

    for (i = 0; i + 4 <= n; i++)
        if (memcmp(p + i, "\r\n\r\n", 4) == 0)
            return (long)i;
    return -1;
}

int conn_open(struct conn *cn, int family, int port)
{
    struct sockaddr_storage ss;
    struct timeval tv = {5, 0};
    socklen_t len;

    memset(&ss, 0, sizeof(ss));
    cn->have = 0;
    if (family == AF_INET6) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;

        a->sin6_family = AF_INET6;
        a->sin6_port = htons((uint16_t)port);
        a->sin6_addr = in6addr_loopback;
        len = sizeof(*a);
    } else {
        struct sockaddr_in *a = (struct sockaddr_in *)&ss;

        a->sin_family = AF_INET;
        a->sin_port = htons((uint16_t)port);
        a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        len = sizeof(*a);
    }
    cn->fd = socket(family, SOCK_STREAM, 0);
    if (cn->fd < 0)
        return -1;
    setsockopt(cn->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    if (connect(cn->fd, (struct sockaddr *)&ss, len) != 0) {
        close(cn->fd);
        cn->fd = -1;
        return -1;
    }
    return 0;
}

void conn_close(struct conn *cn)
{
    if (cn->fd >= 0)
        close(cn->fd);
    cn->fd = -1;
}

int send_all(struct conn *cn, const void *p, size_t n)
{
    const char *c = p;

    while (n > 0) {
        ssize_t w = send(cn->fd, c, n, MSG_NOSIGNAL);

        if (w <= 0)
            return -1;
        c += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Reads more bytes; -1 on EOF, error or timeout. */
static int fill(struct conn *cn)
{
    ssize_t r;

    if (cn->have == sizeof(cn->buf))
        return -1;
    r = recv(cn->fd, cn->buf + cn->have, sizeof(cn->buf) - cn->have, 0);
    if (r <= 0)
        return -1;
    cn->have += (size_t)r;
    return 0;
}

/* Value of header `name` in r->head, copied to `out`; NULL if absent. */
const char *rsp_header(const struct rsp *r, const char *name, char *out,
                       size_t outlen)
{
    const char *line = strstr(r->head, "\r\n");
    size_t nlen = strlen(name);

    while (line != NULL && line[2] != '\0') {
        const char *next = strstr(line + 2, "\r\n");

        line += 2;
        if (next != NULL && strncasecmp(line, name, nlen) == 0 &&
            line[nlen] == ':') {
            const char *v = line + nlen + 1;

            while (*v == ' ')
                v++;
            snprintf(out, outlen, "%.*s", (int)(next - v), v);
            return out;
        }
        line = next;
    }
    return NULL;
}

/* Reads one response that has a Content-Length (or none: empty body). */
int read_rsp(struct conn *cn, struct rsp *r)
{
    char cl[32];
    size_t hlen, blen = 0;
    long end;

    memset(r, 0, sizeof(*r));
    while ((end = head_end(cn->buf, cn->have)) < 0)
        if (fill(cn) != 0)
            return -1;
    hlen = (size_t)end + 4;
    if (hlen >= sizeof(r->head) ||
        sscanf(cn->buf, "HTTP/1.%*d %d", &r->status) != 1)
        return -1;
    memcpy(r->head, cn->buf, hlen);
    if (rsp_header(r, "Content-Length", cl, sizeof(cl)) != NULL)
        blen = strtoul(cl, NULL, 10);
    if (blen >= sizeof(r->body))
        return -1;
    while (cn->have < hlen + blen)
        if (fill(cn) != 0)
            return -1;
    memcpy(r->body, cn->buf + hlen, blen);
    r->body_len = blen;
    memmove(cn->buf, cn->buf + hlen + blen, cn->have - hlen - blen);
    cn->have -= hlen + blen;
    return 0;
}

int post(struct conn *cn, const char *path, const char *ctype, const void *body,
         size_t len, struct rsp *r)
{
    char head[512];
    int n;

    if (ctype != NULL)
        n = snprintf(head, sizeof(head),
                     "POST %s HTTP/1.1\r\nHost: test\r\nContent-Type: %s\r\n"
                     "Content-Length: %zu\r\n\r\n",
                     path, ctype, len);
    else
        n = snprintf(head, sizeof(head),
                     "POST %s HTTP/1.1\r\nHost: test\r\n"
                     "Content-Length: %zu\r\n\r\n",
                     path, len);
    if (send_all(cn, head, (size_t)n) != 0 || send_all(cn, body, len) != 0)
        return -1;
    return read_rsp(cn, r);
}

/* One request on a fresh connection; returns the status or -1. */
int post1(int port, const char *path, const char *ctype, const char *body,
          struct rsp *r)
{
    struct conn cn;
    int rc = -1;

    if (conn_open(&cn, AF_INET, port) != 0)
        return -1;
    if (post(&cn, path, ctype, body, strlen(body), r) == 0)
        rc = r->status;
    conn_close(&cn);
    return rc;
}

int raw1(int port, const char *req, struct rsp *r)
{
    struct conn cn;
    int rc = -1;

    if (conn_open(&cn, AF_INET, port) != 0)
        return -1;
    if (send_all(&cn, req, strlen(req)) == 0 && read_rsp(&cn, r) == 0)
        rc = r->status;
    conn_close(&cn);
    return rc;
}

int body_is(const struct rsp *r, const char *s)
{
    return r->body_len == strlen(s) && memcmp(r->body, s, r->body_len) == 0;
}
