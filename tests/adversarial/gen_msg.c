/*
 * gen_msg.c: `adv_gen msg`, one (hostile) PKIMessage from the options.
 *
 * The message is assembled field by field with the project's own ASN.1
 * types (src/asn1), so any field can be left out, doubled or set to a value
 * no client library would produce, and then protected the way the case
 * asks: a correct signature over the damaged message (so the server must
 * find the damage itself), a signature by the wrong key, no protection, a
 * protectionAlg without protection, or a PasswordBasedMac whose parameters
 * ask for absurd work. DER damage that no structure can carry is applied
 * to the encoding afterwards (gen_der.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "gen.h"

static ASN1_OCTET_STRING *octets_hex(const char *hex)
{
    ASN1_OCTET_STRING *s = ASN1_OCTET_STRING_new();
    long len = 0;
    unsigned char *buf = OPENSSL_hexstr2buf(hex, &len);

    if (s == NULL || buf == NULL || !ASN1_OCTET_STRING_set(s, buf, (int)len))
        gen_die("bad hex string");
    OPENSSL_free(buf);
    return s;
}

static ASN1_OCTET_STRING *octets_text(const char *text)
{
    ASN1_OCTET_STRING *s = ASN1_OCTET_STRING_new();

    if (s == NULL || !ASN1_OCTET_STRING_set(s, (const unsigned char *)text,
                                            (int)strlen(text)))
        gen_die("out of memory");
    return s;
}

/* A header field (4 transactionID, 5 senderNonce) of a saved message. */
static ASN1_OCTET_STRING *octets_from(const char *path, int which)
{
    CMPCA_PKIMESSAGE *m = gen_read_msg(path);
    const ASN1_OCTET_STRING *src =
        which == 4 ? m->header->transactionID : m->header->senderNonce;
    ASN1_OCTET_STRING *s = src != NULL ? ASN1_OCTET_STRING_dup(src) : NULL;

    if (s == NULL)
        gen_die("the saved message lacks the header field asked for");
    CMPCA_PKIMESSAGE_free(m);
    return s;
}

/* An ITAV whose value is `depth` nested empty SEQUENCEs. */
static CMPCA_ITAV *deep_itav(long depth)
{
    CMPCA_ITAV *itav = CMPCA_ITAV_new();
    ASN1_STRING *seq = ASN1_STRING_new();
    size_t cap = (size_t)depth * 6 + 8, start = cap, len;
    unsigned char *buf = malloc(cap);

    if (itav == NULL || seq == NULL || buf == NULL || depth < 1)
        gen_die("deep value");
    buf[--start] = 0x00; /* innermost: 30 00 */
    buf[--start] = 0x30;
    for (long i = 1; i < depth; i++) {
        len = cap - start;
        if (len < 0x80) {
            buf[--start] = (unsigned char)len;
        } else {
            buf[--start] = (unsigned char)(len & 0xff);
            buf[--start] = (unsigned char)(len >> 8);
            buf[--start] = 0x82;
        }
        buf[--start] = 0x30;
    }
    if (!ASN1_STRING_set(seq, buf + start, (int)(cap - start)))
        gen_die("out of memory");
    free(buf);
    ASN1_OBJECT_free(itav->infoType);
    itav->infoType = OBJ_txt2obj("1.3.6.1.4.1.99999.7.1", 1);
    if (itav->infoType == NULL || (itav->infoValue = ASN1_TYPE_new()) == NULL)
        gen_die("out of memory");
    ASN1_TYPE_set(itav->infoValue, V_ASN1_SEQUENCE, seq);
    return itav;
}

static void add_general_info(const struct gen_build *b, CMPCA_PKIHEADER *h)
{
    CMPCA_ITAV *itav;

    if (!b->o->implicit_confirm && b->o->deep_info == 0)
        return;
    if ((h->generalInfo = sk_CMPCA_ITAV_new_null()) == NULL)
        gen_die("out of memory");
    if (b->o->implicit_confirm) {
        if ((itav = CMPCA_ITAV_new()) == NULL ||
            (itav->infoValue = ASN1_TYPE_new()) == NULL)
            gen_die("out of memory");
        ASN1_OBJECT_free(itav->infoType);
        itav->infoType = OBJ_nid2obj(NID_id_it_implicitConfirm);
        ASN1_TYPE_set(itav->infoValue, V_ASN1_NULL, NULL);
        sk_CMPCA_ITAV_push(h->generalInfo, itav);
    }
    if (b->o->deep_info > 0)
        sk_CMPCA_ITAV_push(h->generalInfo, deep_itav(b->o->deep_info));
}

static void set_ids(const struct gen_build *b, CMPCA_PKIHEADER *h)
{
    const struct msg_opts *o = b->o;

    if (o->tid_from != NULL)
        h->transactionID = octets_from(o->tid_from, 4);
    else if (o->tid_hex != NULL)
        h->transactionID = octets_hex(o->tid_hex);
    else if (!o->no_tid)
        h->transactionID = gen_octets_random(o->tid_len);
    if (o->nonce_from != NULL)
        h->senderNonce = octets_from(o->nonce_from, 5);
    else if (!o->no_nonce)
        h->senderNonce = gen_octets_random(o->nonce_len);
    if (o->recip_from != NULL)
        h->recipNonce = octets_from(o->recip_from, 5);
    else if (o->recip_random)
        h->recipNonce = gen_octets_random(16);
}

static void set_kid(const struct gen_build *b, CMPCA_PKIHEADER *h)
{
    const struct msg_opts *o = b->o;
    const ASN1_OCTET_STRING *ski = NULL;
    X509 *other = NULL;

    if (o->prot != NULL && strcmp(o->prot, "pbm") == 0) {
        h->senderKID = octets_text(o->pbm_kid != NULL ? o->pbm_kid : "");
        return;
    }
    if (o->no_kid)
        return;
    if (o->kid_hex != NULL) {
        h->senderKID = octets_hex(o->kid_hex);
        return;
    }
    if (o->kid_of != NULL)
        ski = X509_get0_subject_key_id(other = gen_load_cert(b->d, o->kid_of));
    else if (b->signer != NULL)
        ski = X509_get0_subject_key_id(b->signer);
    if (ski != NULL && (h->senderKID = ASN1_OCTET_STRING_dup(ski)) == NULL)
        gen_die("out of memory");
    X509_free(other);
}

static void set_header(const struct gen_build *b, CMPCA_PKIHEADER *h)
{
    const struct msg_opts *o = b->o;
    X509_NAME *sender;

    if (!ASN1_INTEGER_set(h->pvno, o->pvno))
        gen_die("pvno");
    if (o->sender != NULL)
        sender = gen_parse_name(o->sender);
    else if (b->signer != NULL)
        sender = X509_NAME_dup(X509_get_subject_name(b->signer));
    else
        sender = X509_NAME_new();
    GENERAL_NAME_free(h->sender);
    h->sender = gen_dirname(sender);
    GENERAL_NAME_free(h->recipient);
    h->recipient = gen_dirname(X509_NAME_new());
    if (!o->no_time && (h->messageTime = ASN1_GENERALIZEDTIME_set(
                            NULL, b->now + o->time_offset)) == NULL)
        gen_die("messageTime");
    set_kid(b, h);
    set_ids(b, h);
    add_general_info(b, h);
}

/* ---- protection ------------------------------------------------------------
 */

/* PasswordBasedMac with the options' iteration count. The MAC value is
 * random: a server must refuse the parameters before computing anything. */
static void protect_pbm(const struct gen_build *b, CMPCA_PKIMESSAGE *m)
{
    CMPCA_PBM_PARAMETER *p = CMPCA_PBM_PARAMETER_new();
    ASN1_STRING *params = ASN1_STRING_new();
    ASN1_OCTET_STRING *salt = gen_octets_random(16),
                      *mac = gen_octets_random(32);
    unsigned char *der = NULL;
    int len;

    if (p == NULL || params == NULL ||
        (m->header->protectionAlg = X509_ALGOR_new()) == NULL ||
        (m->protection = ASN1_BIT_STRING_new()) == NULL)
        gen_die("out of memory");
    ASN1_OCTET_STRING_free(p->salt);
    p->salt = salt;
    X509_ALGOR_set0(p->owf, OBJ_nid2obj(NID_sha256), V_ASN1_UNDEF, NULL);
    X509_ALGOR_set0(p->mac, OBJ_nid2obj(NID_hmacWithSHA256), V_ASN1_UNDEF,
                    NULL);
    if (!ASN1_INTEGER_set(p->iterationCount, b->o->pbm_iter) ||
        (len = i2d_CMPCA_PBM_PARAMETER(p, &der)) <= 0 ||
        !ASN1_STRING_set(params, der, len))
        gen_die("PBM parameters");
    X509_ALGOR_set0(m->header->protectionAlg,
                    OBJ_nid2obj(NID_id_PasswordBasedMAC), V_ASN1_SEQUENCE,
                    params);
    if (cmp_asn1_bit_string_set1(m->protection, ASN1_STRING_get0_data(mac),
                                 (size_t)ASN1_STRING_length(mac)) != 0)
        gen_die("out of memory");
    OPENSSL_free(der);
    CMPCA_PBM_PARAMETER_free(p);
    ASN1_OCTET_STRING_free(mac);
}

/* The protectionAlg for `key` and the options (or the OID forced). */
static X509_ALGOR *sig_alg(const struct msg_opts *o, EVP_PKEY *key)
{
    X509_ALGOR *alg = X509_ALGOR_new();
    const EVP_MD *md = gen_md(o->prot_md);
    int nid = NID_undef, base = EVP_PKEY_get_base_id(key);
    ASN1_OBJECT *obj = NULL;

    if (alg == NULL)
        gen_die("out of memory");
    if (o->prot_oid != NULL)
        obj = OBJ_txt2obj(o->prot_oid, 0);
    else if (OBJ_find_sigid_by_algs(&nid, EVP_MD_get_type(md), base))
        obj = OBJ_nid2obj(nid);
    else
        gen_die("no signature OID for this key and digest");
    if (obj == NULL)
        gen_die("bad --prot-oid");
    X509_ALGOR_set0(alg, obj, base == EVP_PKEY_RSA ? V_ASN1_NULL : V_ASN1_UNDEF,
                    NULL);
    return alg;
}

/* Signs ProtectedPart by hand (not ASN1_item_sign), so the algorithm named
 * and the key used may disagree when a case wants them to. */
static void protect_sig(const struct gen_build *b, CMPCA_PKIMESSAGE *m)
{
    const struct msg_opts *o = b->o;
    EVP_PKEY *key = b->key, *other = NULL;
    EVP_MD_CTX *mctx = EVP_MD_CTX_new();
    CMPCA_PROTECTED_PART pp;
    unsigned char *der = NULL, *sig = NULL;
    size_t sig_len = 0;
    int len;

    if (o->prot_key != NULL)
        key = other = gen_load_key(b->d, o->prot_key);
    if (key == NULL)
        gen_die("signature protection needs --signer or --prot-key");
    m->header->protectionAlg = sig_alg(o, key);
    if (o->prot != NULL && strcmp(o->prot, "stripped") == 0)
        goto done; /* protectionAlg without protection */
    pp.header = m->header;
    pp.body = m->body;
    if (mctx == NULL || (len = i2d_CMPCA_PROTECTED_PART(&pp, &der)) <= 0 ||
        EVP_DigestSignInit(mctx, NULL, gen_md(o->prot_md), NULL, key) <= 0 ||
        EVP_DigestSign(mctx, NULL, &sig_len, der, (size_t)len) <= 0 ||
        (sig = OPENSSL_malloc(sig_len)) == NULL ||
        EVP_DigestSign(mctx, sig, &sig_len, der, (size_t)len) <= 0 ||
        (m->protection = ASN1_BIT_STRING_new()) == NULL ||
        cmp_asn1_bit_string_set1(m->protection, sig, sig_len) != 0)
        gen_die("signing the protection");
done:
    OPENSSL_free(der);
    OPENSSL_free(sig);
    EVP_MD_CTX_free(mctx);
    EVP_PKEY_free(other);
}

static void set_extra_certs(const struct gen_build *b, CMPCA_PKIMESSAGE *m)
{
    const char *list = b->o->extra;
    char *copy, *save = NULL, *name;

    if (list != NULL && strcmp(list, "none") == 0)
        return;
    if ((m->extraCerts = sk_X509_new_null()) == NULL)
        gen_die("out of memory");
    if (list == NULL) {
        if (b->signer != NULL &&
            X509_add_cert(m->extraCerts, b->signer, X509_ADD_FLAG_UP_REF) != 1)
            gen_die("out of memory");
        if (b->signer == NULL) {
            sk_X509_free(m->extraCerts);
            m->extraCerts = NULL;
        }
        return;
    }
    if ((copy = strdup(list)) == NULL)
        gen_die("out of memory");
    for (name = strtok_r(copy, ",", &save); name != NULL;
         name = strtok_r(NULL, ",", &save))
        sk_X509_push(m->extraCerts, gen_load_cert(b->d, name));
    free(copy);
}

static void build_one(const struct gen_build *b, const char *path)
{
    const char *prot = b->o->prot != NULL ? b->o->prot : "sig";
    CMPCA_PKIMESSAGE *m = CMPCA_PKIMESSAGE_new();
    unsigned char *der = NULL;
    uint8_t *buf;
    size_t len;
    int n;

    if (m == NULL)
        gen_die("out of memory");
    set_header(b, m->header);
    gen_set_body(b, m->body);
    if (strcmp(prot, "pbm") == 0)
        protect_pbm(b, m);
    else if (strcmp(prot, "sig") == 0 || strcmp(prot, "stripped") == 0)
        protect_sig(b, m);
    else if (strcmp(prot, "none") != 0)
        gen_die("unknown --prot");
    set_extra_certs(b, m);
    if ((n = i2d_CMPCA_PKIMESSAGE(m, &der)) <= 0 ||
        (buf = malloc((size_t)n)) == NULL)
        gen_die("encoding the message");
    memcpy(buf, der, (size_t)n);
    len = (size_t)n;
    if (b->o->mangle != NULL)
        gen_mangle(b->o->mangle, &buf, &len);
    gen_write_file(path, buf, len);
    free(buf);
    OPENSSL_free(der);
    CMPCA_PKIMESSAGE_free(m);
}

int gen_cmd_msg(const struct gen_dirs *d, const struct msg_opts *opts,
                const char *out)
{
    struct msg_opts o = *opts;
    struct gen_build b = {.d = d, .o = &o, .now = time(NULL)};
    char path[4096];

    if (o.body == NULL)
        o.body = "ir";
    if (o.signer != NULL) {
        b.signer = gen_load_cert(d, o.signer);
        if (o.prot_key == NULL) /* else the signer's key is not needed */
            b.key = gen_load_key(d, o.signer);
    }
    b.newkey = o.newkey != NULL ? gen_load_key(d, o.newkey)
                                : gen_fresh_key(o.newkey_type);
    if (o.newkey_out != NULL)
        gen_write_pem_key(o.newkey_out, b.newkey);
    for (long i = 1; i <= o.repeat; i++) {
        if (o.repeat > 1)
            snprintf(path, sizeof(path), "%s.%ld", out, i);
        else
            snprintf(path, sizeof(path), "%s", out);
        build_one(&b, path);
    }
    X509_free(b.signer);
    EVP_PKEY_free(b.key);
    EVP_PKEY_free(b.newkey);
    return 0;
}
