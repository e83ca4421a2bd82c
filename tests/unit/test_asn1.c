/*
 * test_asn1.c: unit test of the asn1 room. main() runs the parts: the
 * round trip of every PKIBody type (test_asn1_roundtrip.c), messages from
 * the real openssl cmp client (test_asn1_client.c) and, here, what the DER
 * gate must refuse before d2i sees it.
 *
 * Usage: test_asn1 [data-dir]; data-dir defaults to the source tree's
 * tests/unit/data/asn1. With CMPCA_ASN1_DUMP=<dir> set, the round trip
 * also writes its messages there (seeds for fuzz_pkimessage).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "check.h"
#include "test_asn1.h"

#ifndef CMPCA_ASN1_TEST_DATA
#define CMPCA_ASN1_TEST_DATA "tests/unit/data/asn1"
#endif

#define MAX_TEST_FILE (1024 * 1024)

int asn1_read_file(const char *dir, const char *name, unsigned char **out,
                   size_t *out_len)
{
    char path[1024];
    unsigned char *buf = NULL;
    FILE *f = NULL;
    long size;
    int ret = -1;

    *out = NULL;
    *out_len = 0;
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    if ((f = fopen(path, "rb")) == NULL || fseek(f, 0, SEEK_END) != 0 ||
        (size = ftell(f)) <= 0 || size > MAX_TEST_FILE ||
        fseek(f, 0, SEEK_SET) != 0)
        goto done;
    if ((buf = OPENSSL_malloc((size_t)size)) == NULL ||
        fread(buf, 1, (size_t)size, f) != (size_t)size)
        goto done;
    *out = buf;
    *out_len = (size_t)size;
    buf = NULL;
    ret = 0;
done:
    if (ret != 0)
        fprintf(stderr, "cannot read %s\n", path);
    OPENSSL_free(buf);
    if (f != NULL)
        fclose(f);
    return ret;
}

static int decodes(const unsigned char *der, size_t len)
{
    CMPCA_PKIMESSAGE *m = cmp_asn1_decode_msg(der, len);

    CMPCA_PKIMESSAGE_free(m);
    return m != NULL;
}

static int framing_ok(const unsigned char *der, size_t len)
{
    return cmp_asn1_check_der(der, len, CMPCA_DER_MAX_DEPTH) == 0;
}

/* nest writes `depth` SEQUENCEs around NULL into buf; returns its length. */
static size_t nest(unsigned char *buf, size_t size, int depth)
{
    size_t len = 2, i;

    if (size < 2 + 2 * (size_t)depth || depth > 60)
        return 0;
    /* innermost first, from the end: 05 00, then 30 <len> around it */
    buf[size - 2] = 0x05;
    buf[size - 1] = 0x00;
    for (i = 0; i < (size_t)depth; i++) {
        buf[size - len - 2] = 0x30;
        buf[size - len - 1] = (unsigned char)len;
        len += 2;
    }
    memmove(buf, buf + size - len, len);
    return len;
}

/* tlv_size: total size of the (well-formed, short or 1-2 octet length)
 * TLV at p; enough to find fields in ir.der. */
static size_t tlv_size(const unsigned char *p)
{
    if (p[1] < 0x80)
        return 2 + (size_t)p[1];
    if (p[1] == 0x81)
        return 3 + (size_t)p[2];
    return 4 + ((size_t)p[2] << 8 | p[3]);
}

/* The cursor's own rules, on small hand-made encodings. */
static void test_framing(void)
{
    static const unsigned char ok_min[] = {0x30, 0x03, 0x02, 0x01, 0x00};
    static const unsigned char ok_longtag[] = {0x30, 0x03, 0x9f, 0x1f, 0x00};
    static const unsigned char bad_longtag_low[] = {0x30, 0x03, 0x9f, 0x05,
                                                    0x00};
    static const unsigned char bad_longtag_pad[] = {0x30, 0x04, 0x9f,
                                                    0x80, 0x1f, 0x00};
    static const unsigned char bad_nonmin[] = {0x30, 0x81, 0x03,
                                               0x02, 0x01, 0x00};
    static const unsigned char bad_lead0[] = {0x30, 0x82, 0x00, 0x03,
                                              0x02, 0x01, 0x00};
    static const unsigned char bad_inner[] = {0x30, 0x05, 0x30, 0x05,
                                              0x02, 0x01, 0x00};
    static const unsigned char bad_eoc[] = {0x30, 0x02, 0x00, 0x00};
    static const unsigned char bad_cons_str[] = {0x30, 0x06, 0x24, 0x04,
                                                 0x04, 0x02, 0xab, 0xcd};
    static const unsigned char bad_prim_seq[] = {0x30, 0x02, 0x10, 0x00};
    /* universal tag 258: OpenSSL's V_ASN1_NEG_INTEGER pseudo-type */
    static const unsigned char bad_univ_long[] = {0x30, 0x04, 0x1f,
                                                  0x82, 0x02, 0x00};
    unsigned char buf[256];
    size_t len;

    CHECK(framing_ok(ok_min, sizeof(ok_min)));
    CHECK(framing_ok(ok_longtag, sizeof(ok_longtag)));
    CHECK(!framing_ok(bad_longtag_low, sizeof(bad_longtag_low)));
    CHECK(!framing_ok(bad_longtag_pad, sizeof(bad_longtag_pad)));
    CHECK(!framing_ok(bad_nonmin, sizeof(bad_nonmin)));
    CHECK(!framing_ok(bad_lead0, sizeof(bad_lead0)));
    CHECK(!framing_ok(bad_inner, sizeof(bad_inner)));
    CHECK(!framing_ok(bad_eoc, sizeof(bad_eoc)));
    CHECK(!framing_ok(bad_cons_str, sizeof(bad_cons_str)));
    CHECK(!framing_ok(bad_prim_seq, sizeof(bad_prim_seq)));
    CHECK(!framing_ok(bad_univ_long, sizeof(bad_univ_long)));
    /* depth: the outer SEQUENCE is level 1 */
    len = nest(buf, sizeof(buf), CMPCA_DER_MAX_DEPTH);
    CHECK(len > 0 && framing_ok(buf, len));
    len = nest(buf, sizeof(buf), CMPCA_DER_MAX_DEPTH + 1);
    CHECK(len > 0 && !framing_ok(buf, len));
    CHECK_INT_EQ(cmp_asn1_check_der(ok_min, sizeof(ok_min), 0), -1);
    CHECK_INT_EQ(cmp_asn1_check_der(ok_min, sizeof(ok_min), 100000), -1);
    CHECK_INT_EQ(cmp_asn1_check_der(NULL, 5, 8), -1);
}

/* Everything cmp_asn1_decode_msg must turn into NULL. */
static void test_reject_msgs(const unsigned char *ir, size_t ir_len)
{
    static const unsigned char indef[] = {0x30, 0x80, 0x02, 0x01,
                                          0x02, 0x00, 0x00};
    static const unsigned char len5[] = {0x30, 0x85, 0x00, 0x00, 0x00,
                                         0x00, 0x03, 0x02, 0x01, 0x00};
    static const unsigned char huge[] = {0x30, 0x84, 0x7f, 0xff, 0xff,
                                         0xff, 0x02, 0x01, 0x00};
    unsigned char buf[4096];
    size_t cut, len, body;
    int all_null = 1;

    CHECK(decodes(ir, ir_len));
    CHECK(!decodes(NULL, 0));
    CHECK(!decodes(ir, 0));
    for (cut = 1; cut < ir_len; cut++)
        all_null &= !decodes(ir, cut);
    CHECK(all_null); /* truncated anywhere */
    memcpy(buf, ir, ir_len);
    buf[ir_len] = 0x00;
    CHECK(!decodes(buf, ir_len + 1)); /* trailing garbage */
    memcpy(buf + ir_len, ir, ir_len);
    CHECK(!decodes(buf, 2 * ir_len)); /* two messages */
    CHECK(!decodes(indef, sizeof(indef)));
    /* ir.der itself re-framed with an indefinite outer length */
    buf[0] = 0x30;
    buf[1] = 0x80;
    memcpy(buf + 2, ir + 4, ir_len - 4);
    buf[ir_len - 2] = 0x00;
    buf[ir_len - 1] = 0x00;
    CHECK(ir[1] == 0x82 && !decodes(buf, ir_len));
    CHECK(!decodes(len5, sizeof(len5)));
    CHECK(!decodes(huge, sizeof(huge)));
    len = nest(buf, sizeof(buf), 40);
    CHECK(len > 0 && !decodes(buf, len)); /* depth 40 */
    memcpy(buf, ir, ir_len);
    buf[0] = 0x31; /* SET */
    CHECK(!decodes(buf, ir_len));
    buf[0] = 0xa0; /* [0] */
    CHECK(!decodes(buf, ir_len));
    /* sound framing, but body tag [27] is no PKIBody: d2i refuses */
    memcpy(buf, ir, ir_len);
    body = 4 + tlv_size(ir + 4); /* outer header is 30 82 xx xx */
    CHECK(body < ir_len && buf[body] == 0xa0);
    buf[body] = 0xbb;
    CHECK(framing_ok(buf, ir_len) && !decodes(buf, ir_len));
}

static void test_misc(void)
{
    static const uint8_t sig[] = {0x30, 0x01, 0x00};
    ASN1_BIT_STRING *bs = ASN1_BIT_STRING_new();
    unsigned char *der = NULL;
    int len;

    CHECK_STR_EQ(cmp_asn1_body_name(CMPCA_BODY_IR), "ir");
    CHECK_STR_EQ(cmp_asn1_body_name(CMPCA_BODY_CERTCONF), "certConf");
    CHECK_STR_EQ(cmp_asn1_body_name(CMPCA_BODY_POLLREP), "pollRep");
    CHECK_STR_EQ(cmp_asn1_body_name(CMPCA_BODY_MAX + 1), "unknown");
    CHECK_STR_EQ(cmp_asn1_body_name(-1), "unknown");
    /* a trailing 0x00 survives: 03 04 00 30 01 00 */
    CHECK(bs != NULL && cmp_asn1_bit_string_set1(bs, sig, sizeof(sig)) == 0);
    len = bs != NULL ? i2d_ASN1_BIT_STRING(bs, &der) : -1;
    CHECK(len == 6 && der[1] == 4 && der[2] == 0 && der[5] == 0x00);
    CHECK_INT_EQ(cmp_asn1_bit_string_set1(NULL, sig, 1), -1);
    OPENSSL_free(der);
    ASN1_BIT_STRING_free(bs);
}

int asn1_test_reject(const char *dir)
{
    unsigned char *ir = NULL;
    size_t ir_len = 0;

    test_framing();
    test_misc();
    CHECK(asn1_read_file(dir, "ir.der", &ir, &ir_len) == 0);
    CHECK(ir_len > 300 && ir_len < 2048);
    if (ir != NULL && ir_len > 300 && ir_len < 2048)
        test_reject_msgs(ir, ir_len);
    OPENSSL_free(ir);
    fprintf(stderr, "reject: ");
    return CHECK_RESULT();
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : CMPCA_ASN1_TEST_DATA;
    struct asn1_fx fx;
    int rc = 0;

    if (asn1_fx_init(&fx) != 0) {
        fprintf(stderr, "cannot build test keys and certificates\n");
        return 1;
    }
    rc |= asn1_test_roundtrip(&fx, getenv("CMPCA_ASN1_DUMP"));
    rc |= asn1_test_client(dir);
    rc |= asn1_test_reject(dir);
    asn1_fx_cleanup(&fx);
    return rc;
}
