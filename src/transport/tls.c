/*
 * tls.c: HTTPS through libmicrohttpd's own TLS (GnuTLS, as Debian builds
 * it). TS 33.310 recommends TLS for CMP because extraCerts and the message
 * headers travel outside the CMP protection.
 *
 * Versions: the GnuTLS priority string below offers TLS 1.3 and 1.2 only,
 * so a TLS 1.0 or 1.1 ClientHello fails the handshake, as does plain HTTP.
 *
 * Client certificates: given client CAs, MHD asks for a certificate
 * (GNUTLS_CERT_REQUEST) but neither insists on one nor checks it; that is
 * left to the application. So the first request on each connection checks
 * it here, with gnutls_certificate_verify_peers against MHD's own trust
 * list (the client CAs) and the TLS client purpose, and a connection
 * without a good certificate gets 403 for everything, before any body is
 * read. The handshake itself still completes without one.
 */
#include "transport/transport_local.h"
#include "util/log.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

/* TLS 1.3 and 1.2 only; GnuTLS's NORMAL ciphers, our order first */
#define TLS_PRIORITIES                                                         \
    "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:%SERVER_PRECEDENCE"

unsigned int transport_tls_options(const struct transport *t,
                                   struct MHD_OptionItem *opt)
{
    size_t n = 0;

    if (t->tls_cert == NULL) {
        opt[0].option = MHD_OPTION_END;
        return 0;
    }
    opt[n++] =
        (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_CERT, 0, t->tls_cert};
    opt[n++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_KEY, 0, t->tls_key};
    opt[n++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_PRIORITIES, 0,
                                       (void *)TLS_PRIORITIES};
    if (t->tls_ca != NULL)
        opt[n++] =
            (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_TRUST, 0, t->tls_ca};
    opt[n] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};
    return MHD_USE_TLS;
}

static void set_why(char *errbuf, size_t errlen, const char *what, int rc)
{
    snprintf(errbuf, errlen, "%s: %s", what, gnutls_strerror(rc));
}

/* Parses the PEM certificates of `pem` into *out (count *n, free with
 * free_crts). Returns a GnuTLS error code, 0 on success. */
static int load_crts(const char *pem, gnutls_x509_crt_t **out, unsigned int *n,
                     unsigned int flags)
{
    gnutls_datum_t d = {(unsigned char *)pem, (unsigned int)strlen(pem)};

    *out = NULL;
    *n = 0;
    return gnutls_x509_crt_list_import2(out, n, &d, GNUTLS_X509_FMT_PEM, flags);
}

static void free_crts(gnutls_x509_crt_t *crts, unsigned int n)
{
    for (unsigned int i = 0; i < n; i++)
        gnutls_x509_crt_deinit(crts[i]);
    gnutls_free(crts);
}

/* 1 when `key` is the private key of `crt`. */
static int key_matches(gnutls_x509_crt_t crt, gnutls_x509_privkey_t key)
{
    unsigned char a[64], b[64];
    size_t alen = sizeof(a), blen = sizeof(b);

    return gnutls_x509_crt_get_key_id(crt, 0, a, &alen) == 0 &&
           gnutls_x509_privkey_get_key_id(key, 0, b, &blen) == 0 &&
           alen == blen && memcmp(a, b, alen) == 0;
}

int transport_tls_check(const struct transport_opts *o, char *errbuf,
                        size_t errlen)
{
    gnutls_x509_crt_t *crts = NULL, *cas = NULL;
    gnutls_x509_privkey_t key = NULL;
    gnutls_datum_t d;
    unsigned int ncrts = 0, ncas = 0;
    int rc, ret = -1;

    if (o->tls_cert_pem == NULL)
        return 0;
    if ((rc = load_crts(o->tls_cert_pem, &crts, &ncrts,
                        GNUTLS_X509_CRT_LIST_FAIL_IF_UNSORTED)) < 0) {
        set_why(errbuf, errlen, "TLS certificate", rc);
        goto done;
    }
    d.data = (unsigned char *)o->tls_key_pem;
    d.size = (unsigned int)strlen(o->tls_key_pem);
    if ((rc = gnutls_x509_privkey_init(&key)) < 0 ||
        (rc = gnutls_x509_privkey_import2(key, &d, GNUTLS_X509_FMT_PEM, NULL,
                                          GNUTLS_PKCS_PLAIN)) < 0) {
        set_why(errbuf, errlen, "TLS key", rc);
        goto done;
    }
    if (ncrts == 0 || !key_matches(crts[0], key)) {
        snprintf(errbuf, errlen, "%s",
                 "the TLS key is not the key of the (first) TLS certificate");
        goto done;
    }
    if (o->tls_client_ca_pem != NULL &&
        ((rc = load_crts(o->tls_client_ca_pem, &cas, &ncas, 0)) < 0 ||
         ncas == 0)) {
        set_why(errbuf, errlen, "TLS client CAs",
                rc < 0 ? rc : GNUTLS_E_NO_CERTIFICATE_FOUND);
        goto done;
    }
    if (gnutls_x509_crt_get_expiration_time(crts[0]) < time(NULL))
        log_warn("%s", "transport: the TLS certificate has expired");
    ret = 0;
done:
    free_crts(crts, ncrts);
    free_crts(cas, ncas);
    gnutls_x509_privkey_deinit(key);
    return ret;
}

/* Verifies the peer of `s`: 1 good, 0 not, with the reason in `why`. */
static int verify_peer(gnutls_session_t s, char *why, size_t whylen)
{
    char purpose_oid[] = GNUTLS_KP_TLS_WWW_CLIENT;
    gnutls_typed_vdata_st purpose = {GNUTLS_DT_KEY_PURPOSE_OID,
                                     (unsigned char *)purpose_oid, 0};
    gnutls_datum_t text = {NULL, 0};
    unsigned int status = 0;
    int rc;

    if (gnutls_certificate_type_get(s) != GNUTLS_CRT_X509) {
        snprintf(why, whylen, "%s", "no X.509 client certificate");
        return 0;
    }
    rc = gnutls_certificate_verify_peers(s, &purpose, 1, &status);
    if (rc == GNUTLS_E_NO_CERTIFICATE_FOUND) {
        snprintf(why, whylen, "%s", "no client certificate");
        return 0;
    }
    if (rc < 0) {
        snprintf(why, whylen, "%s", gnutls_strerror(rc));
        return 0;
    }
    if (status == 0)
        return 1;
    if (gnutls_certificate_verification_status_print(status, GNUTLS_CRT_X509,
                                                     &text, 0) == 0 &&
        text.data != NULL)
        snprintf(why, whylen, "%s", (const char *)text.data);
    else
        snprintf(why, whylen, "verification status 0x%x", status);
    gnutls_free(text.data);
    for (size_t n = strlen(why); n > 0 && why[n - 1] == ' '; n--)
        why[n - 1] = '\0'; /* GnuTLS ends its sentences with a blank */
    return 0;
}

int transport_tls_peer_ok(struct transport *t, struct MHD_Connection *c,
                          const char *peer)
{
    const union MHD_ConnectionInfo *ci, *sc;
    struct tconn *k = NULL;
    char why[256] = "no TLS session";
    int ok = 0;

    sc = MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    if (sc != NULL)
        k = sc->socket_context;
    if (k != NULL) {
        pthread_mutex_lock(&t->conn_lock);
        ok = k->peer;
        pthread_mutex_unlock(&t->conn_lock);
        if (ok != 0)
            return ok > 0; /* decided on an earlier request */
    }
    ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_GNUTLS_SESSION);
    if (ci != NULL && ci->tls_session != NULL)
        ok = verify_peer(ci->tls_session, why, sizeof(why));
    if (!ok)
        log_info("transport: %s: client certificate refused: %s", peer, why);
    if (k != NULL) {
        pthread_mutex_lock(&t->conn_lock);
        k->peer = ok ? 1 : -1;
        pthread_mutex_unlock(&t->conn_lock);
    }
    return ok;
}
