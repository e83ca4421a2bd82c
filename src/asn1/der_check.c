/*
 * der_check.c: the gate between network bytes and OpenSSL's template
 * decoder.
 *
 * d2i_* accepts BER (indefinite lengths, constructed strings) and allocates
 * as it goes, so a hostile request can make it build deep or large trees
 * before failing. cmp_asn1_check_der walks the TLV framing with a pointer +
 * length cursor first, allocating nothing, and rejects whatever DER forbids
 * in the framing itself: indefinite or non-minimal lengths, lengths past
 * the enclosing TLV, end-of-contents octets, constructed strings, nesting
 * beyond a limit and bytes after the message. Universal tags above 30 are
 * refused too: nothing in CMP uses them. Only constructed encodings
 * are entered; primitive contents (OCTET STRING, BIT STRING) stay opaque.
 * Content rules (minimal INTEGERs, BOOLEAN 0xFF) are left to d2i.
 */
#include <limits.h>

#include "asn1/cmp_asn1.h"

/* Upper bound on max_depth: the walk recurses once per nesting level. */
#define DER_HARD_MAX_DEPTH 256
/* Long-form tag numbers: at most 4 base-128 octets (28 bits). */
#define DER_MAX_TAG_OCTETS 4
/* Long-form lengths: at most 4 length octets (< 4 GiB). */
#define DER_MAX_LEN_OCTETS 4

#define DER_CLASS_MASK  0xc0
#define DER_CONSTRUCTED 0x20
#define DER_TAG_MASK    0x1f
#define DER_SEQUENCE    0x30

struct der_cur {
    const uint8_t *p;
    size_t len;
};

/* der_get_u8 moves one octet from `c` into *out; -1 at the end. */
static int der_get_u8(struct der_cur *c, uint8_t *out)
{
    if (c->len == 0)
        return -1;
    *out = c->p[0];
    c->p++;
    c->len--;
    return 0;
}

/* der_get_tag reads the identifier octets; *out_first is the first one.
 * A long-form tag number must be minimal and at least 31. */
static int der_get_tag(struct der_cur *c, uint8_t *out_first)
{
    uint32_t num = 0;
    uint8_t b;
    int i;

    if (der_get_u8(c, out_first) != 0)
        return -1;
    if ((*out_first & DER_TAG_MASK) != DER_TAG_MASK)
        return 0;
    for (i = 0; i < DER_MAX_TAG_OCTETS; i++) {
        if (der_get_u8(c, &b) != 0)
            return -1;
        if (i == 0 && b == 0x80) /* leading zero septet */
            return -1;
        num = (num << 7) | (b & 0x7f);
        if ((b & 0x80) == 0)
            return num >= DER_TAG_MASK ? 0 : -1;
    }
    return -1;
}

/* der_get_len reads a definite, minimally encoded length into *out_len. */
static int der_get_len(struct der_cur *c, size_t *out_len)
{
    size_t v = 0;
    uint8_t b, n;
    int i;

    if (der_get_u8(c, &b) != 0)
        return -1;
    if (b < 0x80) {
        *out_len = b;
        return 0;
    }
    n = b & 0x7f;
    if (n == 0 || n > DER_MAX_LEN_OCTETS) /* indefinite, or too long */
        return -1;
    for (i = 0; i < n; i++) {
        if (der_get_u8(c, &b) != 0)
            return -1;
        if (i == 0 && b == 0) /* leading zero octet */
            return -1;
        v = (v << 8) | b;
    }
    if (v < 0x80) /* fits the short form */
        return -1;
    *out_len = v;
    return 0;
}

/* der_form_ok applies DER's rules on universal tags: no end-of-contents,
 * SEQUENCE/SET constructed, strings and other simple types primitive. */
static int der_form_ok(uint8_t first)
{
    int cons = (first & DER_CONSTRUCTED) != 0;

    if ((first & DER_CLASS_MASK) != 0)
        return 1; /* context, application, private: either form */
    switch (first & DER_TAG_MASK) {
    case 0x00: /* end-of-contents: only in indefinite encodings */
        return 0;
    case 0x10: /* SEQUENCE */
    case 0x11: /* SET */
        return cons;
    case 0x08: /* EXTERNAL */
    case 0x0b: /* EMBEDDED PDV */
        return 1;
    case DER_TAG_MASK:
        /* universal tags >= 31 (DATE, DURATION, ...) have no place in
         * CMP or X.509, and OpenSSL's ANY would take 258 or 266 for its
         * internal negative INTEGER/ENUMERATED pseudo-types */
        return 0;
    default:
        return !cons;
    }
}

/* der_take_tlv moves one TLV from `c`: *out_first is its first identifier
 * octet, `out` its contents. Returns -1 and may leave `c` part-read. */
static int der_take_tlv(struct der_cur *c, uint8_t *out_first,
                        struct der_cur *out)
{
    size_t len;

    if (der_get_tag(c, out_first) != 0 || der_get_len(c, &len) != 0)
        return -1;
    if (len > c->len || !der_form_ok(*out_first))
        return -1;
    out->p = c->p;
    out->len = len;
    c->p += len;
    c->len -= len;
    return 0;
}

/* der_walk checks every TLV in `c`, the contents of a constructed TLV at
 * nesting level `depth`, and enters constructed ones up to `max_depth`.
 * The recursion is bounded: max_depth <= DER_HARD_MAX_DEPTH. */
/* NOLINTNEXTLINE(misc-no-recursion): bounded, the point of this check */
static int der_walk(struct der_cur c, int depth, int max_depth)
{
    struct der_cur inner;
    uint8_t first;

    while (c.len > 0) {
        if (der_take_tlv(&c, &first, &inner) != 0)
            return -1;
        if ((first & DER_CONSTRUCTED) == 0)
            continue;
        if (depth >= max_depth)
            return -1;
        if (der_walk(inner, depth + 1, max_depth) != 0)
            return -1;
    }
    return 0;
}

int cmp_asn1_check_der(const uint8_t *der, size_t der_len, int max_depth)
{
    struct der_cur c = {der, der_len};
    struct der_cur inner;
    uint8_t first;

    if (der == NULL || max_depth < 1 || max_depth > DER_HARD_MAX_DEPTH)
        return -1;
    if (der_take_tlv(&c, &first, &inner) != 0)
        return -1;
    if (first != DER_SEQUENCE || c.len != 0)
        return -1;
    return der_walk(inner, 1, max_depth);
}

CMPCA_PKIMESSAGE *cmp_asn1_decode_msg(const uint8_t *der, size_t der_len)
{
    CMPCA_PKIMESSAGE *msg = NULL; /* owned until returned */
    const unsigned char *p = der;

    if (der == NULL || der_len == 0 || der_len > LONG_MAX)
        goto done;
    if (cmp_asn1_check_der(der, der_len, CMPCA_DER_MAX_DEPTH) != 0)
        goto done;
    msg = d2i_CMPCA_PKIMESSAGE(NULL, &p, (long)der_len);
    if (msg != NULL && (size_t)(p - der) != der_len) {
        CMPCA_PKIMESSAGE_free(msg);
        msg = NULL;
    }

done:
    return msg;
}

const char *cmp_asn1_body_name(int type)
{
    static const char *const names[CMPCA_BODY_MAX + 1] = {
        "ir",   "ip",     "cr",    "cp",       "p10cr",   "popdecc", "popdecr",
        "kur",  "kup",    "krr",   "krp",      "rr",      "rp",      "ccr",
        "ccp",  "ckuann", "cann",  "rann",     "crlann",  "pkiconf", "nested",
        "genm", "genp",   "error", "certConf", "pollReq", "pollRep",
    };

    if (type < 0 || type > CMPCA_BODY_MAX)
        return "unknown";
    return names[type];
}
