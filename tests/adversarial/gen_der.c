/*
 * gen_der.c: damage to a valid, signed PKIMessage encoding that no ASN.1
 * structure can express: framing errors a DER gate must catch before
 * anything is decoded or allocated (SPEC "Checks on every request", 1).
 *
 *   truncate          the last 10 octets cut off
 *   past-end          the outer length claims 1000 octets more than sent
 *   huge-length       the outer length claims 2^31-1 octets
 *   nonminimal        the outer length with a superfluous leading octet
 *   indefinite        the outer SEQUENCE in BER indefinite form
 *   inner-indefinite  the header SEQUENCE in indefinite form
 *   outer-tag         SET (0x31) instead of SEQUENCE
 *   trailing          16 octets of garbage after the message
 */
#include <stdlib.h>
#include <string.h>

#include "gen.h"

/* A TLV header: tag octet, header length and content length. */
struct tlv {
    uint8_t tag;
    size_t hdr_len;
    size_t len;
};

static void read_tlv(const uint8_t *p, size_t avail, struct tlv *t)
{
    size_t n;

    if (avail < 2)
        gen_die("mangle: message too short");
    t->tag = p[0];
    if (p[1] < 0x80) {
        t->len = p[1];
        t->hdr_len = 2;
    } else {
        n = p[1] & 0x7f;
        if (n == 0 || n > 4 || avail < 2 + n)
            gen_die("mangle: unexpected length form");
        t->len = 0;
        for (size_t i = 0; i < n; i++)
            t->len = (t->len << 8) | p[2 + i];
        t->hdr_len = 2 + n;
    }
    if (t->hdr_len + t->len > avail)
        gen_die("mangle: length past the end");
}

/* Writes tag and a length into out (at least 7 octets); `extra` leading
 * zero octets make it non-minimal. Returns the octets written. */
static size_t put_header(uint8_t *out, uint8_t tag, size_t len, int extra)
{
    uint8_t be[4];
    size_t n = 0, k = 0;

    out[k++] = tag;
    if (len < 0x80 && !extra) {
        out[k++] = (uint8_t)len;
        return k;
    }
    for (size_t v = len; v != 0 || n == 0; v >>= 8)
        be[3 - n++] = (uint8_t)(v & 0xff);
    out[k++] = (uint8_t)(0x80 | (n + (size_t)extra));
    for (int i = 0; i < extra; i++)
        out[k++] = 0x00;
    memcpy(out + k, be + 4 - n, n);
    return k + n;
}

/* Replaces *buf by header(tag, claimed, extra) + content + tail. */
static void rewrap(uint8_t **buf, size_t *len, const uint8_t *content,
                   size_t content_len, size_t claimed, int extra,
                   const uint8_t *tail, size_t tail_len)
{
    uint8_t hdr[16];
    size_t h = put_header(hdr, 0x30, claimed, extra);
    uint8_t *out = malloc(h + content_len + tail_len + 1);

    if (out == NULL)
        gen_die("out of memory");
    memcpy(out, hdr, h);
    memcpy(out + h, content, content_len);
    if (tail_len > 0)
        memcpy(out + h + content_len, tail, tail_len);
    free(*buf);
    *buf = out;
    *len = h + content_len + tail_len;
}

static void indefinite(uint8_t **buf, size_t *len, const struct tlv *outer)
{
    const uint8_t *content = *buf + outer->hdr_len;
    uint8_t *out = malloc(outer->len + 4);

    if (out == NULL)
        gen_die("out of memory");
    out[0] = 0x30;
    out[1] = 0x80;
    memcpy(out + 2, content, outer->len);
    out[2 + outer->len] = 0x00; /* end-of-contents */
    out[3 + outer->len] = 0x00;
    free(*buf);
    *buf = out;
    *len = outer->len + 4;
}

/* The header (first element of the PKIMessage) in indefinite form. */
static void inner_indefinite(uint8_t **buf, size_t *len,
                             const struct tlv *outer)
{
    const uint8_t *content = *buf + outer->hdr_len;
    struct tlv h;
    uint8_t *inner;
    size_t inner_len;

    read_tlv(content, outer->len, &h);
    inner_len = outer->len - h.hdr_len + 4;
    if ((inner = malloc(inner_len)) == NULL)
        gen_die("out of memory");
    inner[0] = h.tag;
    inner[1] = 0x80;
    memcpy(inner + 2, content + h.hdr_len, h.len);
    inner[2 + h.len] = 0x00;
    inner[3 + h.len] = 0x00;
    memcpy(inner + 4 + h.len, content + h.hdr_len + h.len,
           outer->len - h.hdr_len - h.len);
    rewrap(buf, len, inner, inner_len, inner_len, 0, NULL, 0);
    free(inner);
}

void gen_mangle(const char *how, uint8_t **buf, size_t *len)
{
    static const uint8_t garbage[16] = {0xde, 0xad, 0xbe, 0xef, 0x30, 0x03,
                                        0x02, 0x01, 0x02, 0x00, 0x00, 0xff,
                                        0xff, 0x41, 0x42, 0x43};
    struct tlv outer;
    uint8_t *content;

    read_tlv(*buf, *len, &outer);
    if (outer.hdr_len + outer.len != *len)
        gen_die("mangle: not a single TLV");
    if ((content = malloc(outer.len + 1)) == NULL)
        gen_die("out of memory");
    memcpy(content, *buf + outer.hdr_len, outer.len);
    if (strcmp(how, "truncate") == 0 && *len > 20)
        *len -= 10;
    else if (strcmp(how, "past-end") == 0)
        rewrap(buf, len, content, outer.len, outer.len + 1000, 0, NULL, 0);
    else if (strcmp(how, "huge-length") == 0)
        rewrap(buf, len, content, outer.len, 0x7fffffff, 0, NULL, 0);
    else if (strcmp(how, "nonminimal") == 0)
        rewrap(buf, len, content, outer.len, outer.len, 1, NULL, 0);
    else if (strcmp(how, "indefinite") == 0)
        indefinite(buf, len, &outer);
    else if (strcmp(how, "inner-indefinite") == 0)
        inner_indefinite(buf, len, &outer);
    else if (strcmp(how, "outer-tag") == 0)
        (*buf)[0] = 0x31;
    else if (strcmp(how, "trailing") == 0)
        rewrap(buf, len, content, outer.len, outer.len, 0, garbage,
               sizeof(garbage));
    else
        gen_die("unknown --mangle");
    free(content);
}
