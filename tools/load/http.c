/*
 * http.c: the smallest HTTP/1.1 client a CMP load generator needs. Each
 * worker keeps one TCP connection open across its messages and enrollments
 * (keep-alive), as a device behind a gateway or an RA would, so the
 * benchmark measures CMP and not TCP handshakes. OpenSSL 3.0's own HTTP
 * client keeps a connection only within one CMP transaction, hence this
 * file. It speaks exactly what RFC 9811 needs: POST with a Content-Length,
 * answers with a Content-Length (or ended by the server closing). A kept
 * connection the server closed while idle is reopened once, and only when
 * the server closed it (EOF, reset) before one byte of the answer arrived;
 * never after a timeout, when the server may still be working on it.
 */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "load.h"

#define MAX_RESPONSE (1L << 20)

void http_init(struct http_conn *c, const char *host, int port,
               const char *path, int timeout_ms)
{
    memset(c, 0, sizeof(*c));
    snprintf(c->host, sizeof(c->host), "%s", host);
    c->port = port;
    c->path = path;
    c->timeout_ms = timeout_ms;
    c->fd = -1;
}

void http_close(struct http_conn *c)
{
    if (c == NULL)
        return;
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
}

static long long now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int fail(struct http_conn *c, const char *what, int e)
{
    if (e != 0)
        snprintf(c->err, sizeof(c->err), "%s: %s", what, strerror(e));
    else
        snprintf(c->err, sizeof(c->err), "%s", what);
    http_close(c);
    return -1;
}

static int http_connect(struct http_conn *c)
{
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_NUMERICSERV};
    struct addrinfo *res = NULL;
    char port[16];
    int one = 1, e = 0;

    snprintf(port, sizeof(port), "%d", c->port);
    if (getaddrinfo(c->host, port, &hints, &res) != 0 || res == NULL)
        return fail(c, "cannot resolve server", 0);
    for (struct addrinfo *a = res; a != NULL; a = a->ai_next) {
        c->fd = socket(a->ai_family, a->ai_socktype, a->ai_protocol);
        if (c->fd < 0) {
            e = errno;
            continue;
        }
        if (connect(c->fd, a->ai_addr, a->ai_addrlen) == 0)
            break;
        e = errno;
        close(c->fd);
        c->fd = -1;
    }
    freeaddrinfo(res);
    if (c->fd < 0)
        return fail(c, "connect", e);
    /* one request is two writes' worth at most; do not let Nagle hold it */
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    c->connects++;
    return 0;
}

/* wait_fd waits until fd is ready for `events` or the deadline passes. */
static int wait_fd(struct http_conn *c, short events, long long deadline)
{
    struct pollfd p = {.fd = c->fd, .events = events};
    long long left;
    int n;

    for (;;) {
        left = deadline - now_ms();
        if (left <= 0)
            return fail(c, "timeout", 0);
        n = poll(&p, 1, left > 1000000 ? 1000000 : (int)left);
        if (n > 0)
            return 0;
        if (n < 0 && errno != EINTR)
            return fail(c, "poll", errno);
    }
}

static int send_all(struct http_conn *c, const unsigned char *p, size_t len,
                    long long deadline)
{
    while (len > 0) {
        ssize_t n = send(c->fd, p, len, MSG_NOSIGNAL);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            if (wait_fd(c, POLLOUT, deadline) != 0)
                return -1;
            continue;
        }
        if (n <= 0) {
            c->peer_closed = n == 0 || errno == EPIPE || errno == ECONNRESET;
            return fail(c, "send", n < 0 ? errno : EPIPE);
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Parsed response head. */
struct head {
    int status;
    long content_length; /* -1: until the server closes */
    int close;           /* Connection: close */
    size_t head_len;
};

static int parse_head(struct http_conn *c, size_t end, struct head *h)
{
    const char *p = (const char *)c->buf;
    const char *stop = p + end;

    h->status = 0;
    h->content_length = -1;
    h->close = 0;
    if (end < 12 || strncmp(p, "HTTP/1.", 7) != 0)
        return fail(c, "not an HTTP/1.x response", 0);
    h->status = (int)strtol(p + 9, NULL, 10);
    h->close = p[7] == '0'; /* HTTP/1.0 closes unless told otherwise */
    while ((p = memchr(p, '\n', (size_t)(stop - p))) != NULL && ++p < stop) {
        if (strncasecmp(p, "content-length:", 15) == 0)
            h->content_length = strtol(p + 15, NULL, 10);
        else if (strncasecmp(p, "transfer-encoding:", 18) == 0)
            return fail(c, "chunked responses are not supported", 0);
        else if (strncasecmp(p, "connection:", 11) == 0) {
            const char *v = p + 11;

            while (*v == ' ')
                v++;
            h->close = strncasecmp(v, "close", 5) == 0;
        }
    }
    if (h->content_length > MAX_RESPONSE)
        return fail(c, "response too large", 0);
    return 0;
}

static int grow(struct http_conn *c, size_t need)
{
    unsigned char *p;
    size_t cap = c->cap == 0 ? 16384 : c->cap;

    while (cap < need)
        cap *= 2;
    if (cap == c->cap)
        return 0;
    if ((p = realloc(c->buf, cap)) == NULL)
        return fail(c, "out of memory", 0);
    c->buf = p;
    c->cap = cap;
    return 0;
}

/* head_end returns the length of the head incl. the blank line, or 0. */
static size_t head_end(const unsigned char *b, size_t len)
{
    for (size_t i = 3; i < len; i++)
        if (b[i] == '\n' && b[i - 1] == '\r' && b[i - 2] == '\n' &&
            b[i - 3] == '\r')
            return i + 1;
    return 0;
}

/* recv_response reads one answer. *got tells whether any byte arrived. */
static int recv_response(struct http_conn *c, long long deadline,
                         struct head *h, size_t *total, int *got)
{
    size_t len = 0;

    h->head_len = 0;
    for (;;) {
        ssize_t n;

        if (h->head_len > 0 && h->content_length >= 0 &&
            len >= h->head_len + (size_t)h->content_length)
            break;
        if (grow(c, len + 4096) != 0 || wait_fd(c, POLLIN, deadline) != 0)
            return -1;
        n = recv(c->fd, c->buf + len, c->cap - len, 0);
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (n < 0) {
            c->peer_closed = errno == ECONNRESET;
            return fail(c, "recv", errno);
        }
        if (n == 0) {
            if (h->head_len > 0 && h->content_length < 0)
                break; /* body ended by close */
            c->peer_closed = 1;
            return fail(c, "connection closed by server", 0);
        }
        *got = 1;
        len += (size_t)n;
        if (h->head_len == 0 && (h->head_len = head_end(c->buf, len)) > 0 &&
            parse_head(c, h->head_len, h) != 0)
            return -1;
        if (len > (size_t)MAX_RESPONSE + 65536)
            return fail(c, "response too large", 0);
    }
    *total = len;
    return 0;
}

static int post_once(struct http_conn *c, const unsigned char *req,
                     size_t req_len, struct head *h, size_t *total, int *got)
{
    char head[1024];
    long long deadline = now_ms() + c->timeout_ms;
    int n;

    n = snprintf(head, sizeof(head),
                 "POST %s HTTP/1.1\r\nHost: %s:%d\r\n"
                 "Content-Type: application/pkixcmp\r\n"
                 "Accept: application/pkixcmp\r\n"
                 "Content-Length: %zu\r\nConnection: keep-alive\r\n\r\n",
                 c->path, c->host, c->port, req_len);
    if (n < 0 || (size_t)n >= sizeof(head))
        return fail(c, "request head too long", 0);
    *got = 0;
    if (send_all(c, (const unsigned char *)head, (size_t)n, deadline) != 0 ||
        send_all(c, req, req_len, deadline) != 0)
        return -1;
    return recv_response(c, deadline, h, total, got);
}

int http_post(struct http_conn *c, const unsigned char *req, size_t req_len,
              const unsigned char **out_body, size_t *out_len)
{
    struct head h;
    size_t total = 0;
    int got = 0, reused = c->fd >= 0;

    c->err[0] = '\0';
    c->peer_closed = 0;
    if (c->fd < 0 && http_connect(c) != 0)
        return -1;
    if (post_once(c, req, req_len, &h, &total, &got) != 0) {
        /* a timeout may mean the server is still working on it: no retry */
        if (!reused || got || !c->peer_closed)
            return -1;
        /* the idle connection was gone: one fresh attempt */
        if (http_connect(c) != 0 ||
            post_once(c, req, req_len, &h, &total, &got) != 0)
            return -1;
    }
    if (h.content_length >= 0 && total != h.head_len + (size_t)h.content_length)
        return fail(c, "extra bytes after the response", 0);
    *out_body = c->buf + h.head_len;
    *out_len = total - h.head_len;
    if (h.close || h.content_length < 0)
        http_close(c);
    return h.status;
}
