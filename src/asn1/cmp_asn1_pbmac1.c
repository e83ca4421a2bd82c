/*
 * cmp_asn1_pbmac1.c: PBMAC1-params of PKCS #5 (RFC 8018 A.5), the
 * parameters of the PBMAC1 MAC protection RFC 9481 6.1.2 recommends over
 * PasswordBasedMac. OpenSSL 3.0 knows the OID (NID_pbmac1) and PBKDF2-params
 * (PBKDF2PARAM) but has no type for the pair, so it is declared here.
 */
#include "asn1/cmp_asn1.h"

/* clang-format off */

ASN1_SEQUENCE(CMPCA_PBMAC1_PARAMS) = {
    ASN1_SIMPLE(CMPCA_PBMAC1_PARAMS, keyDerivationFunc, X509_ALGOR),
    ASN1_SIMPLE(CMPCA_PBMAC1_PARAMS, messageAuthScheme, X509_ALGOR),
} ASN1_SEQUENCE_END(CMPCA_PBMAC1_PARAMS)
IMPLEMENT_ASN1_FUNCTIONS(CMPCA_PBMAC1_PARAMS)

/* clang-format on */
