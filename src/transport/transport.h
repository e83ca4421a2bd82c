/*
 * transport.h: the HTTP/1.1 face of cmpca (RFC 9811, formerly RFC 6712),
 * built on libmicrohttpd. Owns sockets, TLS, paths, methods, content types,
 * body limits and timeouts; hands each well-formed POST body to a handler and
 * sends back what the handler returns. Knows nothing of CMP beyond the media
 * type and the path grammar.
 *
 * Paths: /.well-known/cmp[/p/<profile>][/<operation>], where <operation> is
 * one of the RFC 9483 section 6 labels. Anything else: 404. Other methods
 * than POST on a CMP path: 405 with "Allow: POST". Content-Type other than
 * application/pkixcmp (or the legacy application/pkixcmp-poll): 415. Body
 * larger than the limit: 413, decided from Content-Length before reading
 * when it is given, else as soon as the limit is passed.
 */
#ifndef CMPCA_TRANSPORT_TRANSPORT_H
#define CMPCA_TRANSPORT_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* One request as the handler sees it. All pointers borrowed for the call. */
struct transport_req {
    const char *profile;   /* "<profile>" from /p/<profile>, or NULL */
    const char *operation; /* operation label, or NULL */
    const uint8_t *body;
    size_t body_len;
    const char *peer;      /* "ip:port" of the client, for the log */
};

/* The handler's answer. `body` is malloc'd by the handler and freed by the
 * transport after sending. `status` is the HTTP status (200 for every CMP
 * answer); `content_type` a static string (NULL: application/pkixcmp). */
struct transport_rsp {
    int status;
    uint8_t *body;
    size_t body_len;
    const char *content_type;
    /* GET answers only (transport_get_fn): caching headers. 0: not sent. */
    time_t last_modified;  /* Last-Modified */
    time_t expires;        /* Expires, and Cache-Control max-age up to it */
};

/* Called on a worker thread, concurrently. Must fill `rsp` and return 0;
 * -1 makes the transport answer 500 with an empty body. */
typedef int (*transport_handler_fn)(void *arg, const struct transport_req *req,
                                    struct transport_rsp *rsp);

/* Optional: decides whether a profile name exists (1) or not (0: 404). NULL
 * accepts every profile. */
typedef int (*transport_profile_fn)(void *arg, const char *profile);

/* Optional: answers GET and HEAD for /crl/<name>.crl (RFC 5280 CRL
 * distribution point over HTTP). `name` is the <name> part, already checked
 * against [A-Za-z0-9._-]{1,64}. Fill `rsp` (status 404 when unknown) and
 * return 0; -1 makes a 500. NULL: every /crl/ path is a 404. */
typedef int (*transport_get_fn)(void *arg, const char *name,
                                struct transport_rsp *rsp);

struct transport_opts {
    const char *listen;      /* "127.0.0.1:8080", "[::1]:8080", "0.0.0.0:0" */
    int threads;             /* worker threads */
    size_t max_body;         /* bytes */
    int read_timeout;        /* seconds a connection may be idle, and the
                                time a client has to send a whole request
                                (headers, then body) once it connects or
                                its previous answer is out; 0: no limit */
    int max_connections;
    transport_handler_fn handler;
    transport_profile_fn profile_ok;
    transport_get_fn get_crl;
    void *arg;               /* passed to handler and profile_ok */
    /* HTTPS. NULL tls_cert_pem: plain HTTP. Each is NUL-terminated PEM text
     * that transport_start copies. tls_cert_pem is the server certificate,
     * optionally followed by its chain; tls_key_pem its unencrypted key.
     * Only TLS 1.2 and 1.3 are offered. With tls_client_ca_pem set, a client
     * certificate is requested, and a request is answered only over a
     * connection whose certificate verifies against these CAs (403 else). */
    const char *tls_cert_pem;
    const char *tls_key_pem;
    const char *tls_client_ca_pem;
};

struct transport;

/* transport_start binds and starts serving. Port 0 picks a free port; the
 * chosen one is returned by transport_port. *out is new. Returns -1 with a
 * message in `errbuf` when the address cannot be parsed or bound. */
int transport_start(const struct transport_opts *o, struct transport **out,
                    char *errbuf, size_t errlen);

/* transport_port returns the TCP port actually bound. */
int transport_port(const struct transport *t);

/* transport_stop stops accepting, lets requests in progress finish, and frees
 * `t`. Accepts NULL. */
void transport_stop(struct transport *t);

/* transport_parse_path splits a request path into profile and operation.
 * Returns 0 for a valid CMP path, -1 otherwise. `profile`/`operation` get
 * copies (at most `cap` bytes including NUL) or empty strings. */
int transport_parse_path(const char *path, char *profile, char *operation,
                         size_t cap);

#endif
