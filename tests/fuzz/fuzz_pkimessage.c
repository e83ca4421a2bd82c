/*
 * fuzz_pkimessage.c: libFuzzer target for the network-facing decoder,
 * cmp_asn1_decode_msg (DER gate + PKIMessage templates).
 *
 * Besides memory errors (ASan/UBSan) it checks one property: whatever
 * decodes must encode, the encoding must pass our own gate and decode
 * again, and encoding that copy must give the same bytes. A template that
 * decodes something it then writes differently (or cannot write) would
 * make signed responses unverifiable, so that aborts too.
 *
 * Built by tests/fuzz/fuzz.cmake: `make fuzz` (libFuzzer, clang) runs it
 * on corpus/pkimessage (every message type the openssl cmp client and
 * cmpca exchange, captured by make_seeds.sh, plus the asn1 room's test
 * data); CTest's fuzz.replay.pkimessage replays that corpus in every build.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>

#include "asn1/cmp_asn1.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    CMPCA_PKIMESSAGE *m1 = cmp_asn1_decode_msg(data, size);
    CMPCA_PKIMESSAGE *m2 = NULL;
    unsigned char *d1 = NULL, *d2 = NULL;
    int l1, l2;

    if (m1 == NULL)
        goto done;
    l1 = i2d_CMPCA_PKIMESSAGE(m1, &d1);
    if (l1 <= 0)
        abort(); /* decoded but cannot be encoded */
    m2 = cmp_asn1_decode_msg(d1, (size_t)l1);
    if (m2 == NULL)
        abort(); /* our own encoding fails our gate or templates */
    l2 = i2d_CMPCA_PKIMESSAGE(m2, &d2);
    if (l2 != l1 || memcmp(d1, d2, (size_t)l1) != 0)
        abort(); /* encoding is not stable */
done:
    OPENSSL_free(d1);
    OPENSSL_free(d2);
    CMPCA_PKIMESSAGE_free(m1);
    CMPCA_PKIMESSAGE_free(m2);
    ERR_clear_error();
    return 0;
}
