/*
 * macauth.c: requests protected with a device's shared secret (RFC 9483
 * 4.1.1 with MAC, RFC 9481 6.1). The senderKID names the secret; the secret
 * is stored sealed and opened only here, for one request, then cleansed.
 * Cheap checks of the MAC parameters come first (cmp_mac_check_params), so
 * an oversized iteration count costs nothing, and an unknown senderKID is
 * answered exactly like a wrong MAC, after the same amount of work.
 */
#include <string.h>

#include <openssl/crypto.h>

#include "cmp/cmp_local.h"

/* Verifies with a throw-away secret so that an unknown senderKID takes as
 * long as a wrong MAC. The result is ignored. */
static void same_cost(const struct cmp_req *rq)
{
    static const uint8_t dummy[16] = {0};
    struct cmpca_err ignored = CMPCA_ERR_INIT;

    (void)cmp_mac_verify(rq->msg, dummy, sizeof(dummy), rq->srv->cfg,
                         &ignored);
}

static int bad_mac(struct cmpca_err *err)
{
    return cmpca_err_set(err, FI_BAD_MESSAGE_CHECK,
                         "MAC protection does not verify");
}

int cmp_auth_mac(struct cmp_req *rq, const uint8_t *want_kid, size_t want_len,
                 struct cmpca_err *err)
{
    const ASN1_OCTET_STRING *kid = rq->msg->header->senderKID;
    struct store_secret sec;
    uint8_t *pw = NULL;
    size_t pw_len = 0;
    int rc;

    if (cmp_mac_check_params(rq->msg->header->protectionAlg, rq->srv->cfg,
                             err) != 0)
        return -1;
    if (kid == NULL || ASN1_STRING_length(kid) == 0)
        return cmpca_err_set(err, FI_BAD_MESSAGE_CHECK,
                             "MAC protection needs a senderKID");
    if (want_kid != NULL && !cmp_octets_eq(kid, want_kid, want_len))
        return cmpca_err_set(err, FI_NOT_AUTHORIZED,
                             "protected with another secret than the request "
                             "that opened the transaction");
    if (!rq->srv->have_seal_key)
        return cmpca_err_set(err, FI_SYSTEM_UNAVAIL,
                             "MAC protection is unavailable");
    memset(&sec, 0, sizeof(sec));
    rc = store_secret_get(rq->srv->st, ASN1_STRING_get0_data(kid),
                          (size_t)ASN1_STRING_length(kid), &sec, err);
    if (rc == STORE_NOTFOUND) {
        same_cost(rq);
        return bad_mac(err);
    }
    if (rc != 0)
        return -1;
    rc = -1;
    if (ca_secret_unseal(rq->srv->seal_key, sec.sealed, sec.sealed_len, &pw,
                         &pw_len, err) != 0)
        goto done;
    if (cmp_mac_verify(rq->msg, pw, pw_len, rq->srv->cfg, err) != 0) {
        bad_mac(err);
        goto done;
    }
    snprintf(rq->dev.vendor, sizeof(rq->dev.vendor), "%s", sec.vendor);
    snprintf(rq->dev.serial, sizeof(rq->dev.serial), "%s", sec.device);
    rq->mac_single_use = sec.single_use;
    rq->mac_secret = pw;
    rq->mac_secret_len = pw_len;
    rq->authenticated = 1;
    pw = NULL;
    rc = 0;
done:
    OPENSSL_clear_free(pw, pw_len);
    store_secret_clear(&sec);
    return rc;
}

int cmp_auth_id(const struct cmp_req *rq, unsigned char **out)
{
    const ASN1_OCTET_STRING *kid = rq->msg->header->senderKID;
    size_t n;

    *out = NULL;
    if (rq->mac_secret == NULL)
        return rq->signer != NULL ? i2d_X509(rq->signer, out) : -1;
    n = CMP_MAC_AUTH_PREFIX_LEN + (size_t)ASN1_STRING_length(kid);
    if ((*out = OPENSSL_malloc(n)) == NULL)
        return -1;
    memcpy(*out, CMP_MAC_AUTH_PREFIX, CMP_MAC_AUTH_PREFIX_LEN);
    memcpy(*out + CMP_MAC_AUTH_PREFIX_LEN, ASN1_STRING_get0_data(kid),
           (size_t)ASN1_STRING_length(kid));
    return (int)n;
}
