/*
 * transport_client.h: a raw-socket HTTP/1.1 client for test_transport.
 *
 * No HTTP library on purpose: writing the bytes by hand lets the test send
 * what a real client never would (a Content-Length far over the limit with
 * no body, an endless chunked upload, escaped paths) and read exactly what
 * came back. It only understands responses framed by Content-Length (or
 * with no body), which is all the transport sends.
 */
#ifndef CMPCA_TESTS_TRANSPORT_CLIENT_H
#define CMPCA_TESTS_TRANSPORT_CLIENT_H

#include <stddef.h>

struct conn {
    int fd;
    size_t have;
    char buf[16384];
};

struct rsp {
    int status;
    char head[4096];
    char body[8192];
    size_t body_len;
};

/* conn_open connects to the loopback address of `family` (AF_INET or
 * AF_INET6) at `port`, with a 5 s receive timeout. Returns 0 or -1. */
int conn_open(struct conn *cn, int family, int port);
void conn_close(struct conn *cn);

/* send_all writes all `n` bytes (no SIGPIPE). Returns 0 or -1. */
int send_all(struct conn *cn, const void *p, size_t n);

/* read_rsp reads one response into `r`, keeping any bytes after it for the
 * next call. -1 on EOF, timeout or a malformed response. */
int read_rsp(struct conn *cn, struct rsp *r);

/* rsp_header copies the value of header `name` into `out`; NULL if absent. */
const char *rsp_header(const struct rsp *r, const char *name, char *out,
                       size_t outlen);

/* post sends one POST with a Content-Length (and Content-Type unless
 * `ctype` is NULL) on `cn` and reads the answer. Returns 0 or -1. */
int post(struct conn *cn, const char *path, const char *ctype, const void *body,
         size_t len, struct rsp *r);

/* post1 and raw1 do one exchange on a fresh IPv4 connection and return the
 * status, or -1 when no answer came. raw1 sends `req` as is. */
int post1(int port, const char *path, const char *ctype, const char *body,
          struct rsp *r);
int raw1(int port, const char *req, struct rsp *r);

/* body_is tells whether the body equals `s`. */
int body_is(const struct rsp *r, const char *s);

#endif
