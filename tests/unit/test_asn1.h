/*
 * test_asn1.h: what the parts of the asn1 unit test share. Each part is a
 * separate file with its own check.h counters, so each returns 0 when all
 * its checks passed (and at least one ran) and 1 otherwise.
 */
#ifndef CMPCA_TESTS_TEST_ASN1_H
#define CMPCA_TESTS_TEST_ASN1_H

#include <stddef.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "asn1/cmp_asn1.h"

/* Keys and X.509 objects the message builders put into bodies. */
struct asn1_fx {
    EVP_PKEY *key; /* P-256: template key, signer of cert/crl/req */
    X509 *cert;    /* self-signed, CN=cmpca unit CA */
    X509_CRL *crl; /* empty CRL issued by cert */
    X509_REQ *req; /* PKCS#10 for CN=cmpca unit device */
};

/* asn1_fx_init fills `fx` with fresh objects; asn1_fx_cleanup frees them. */
int asn1_fx_init(struct asn1_fx *fx);
void asn1_fx_cleanup(struct asn1_fx *fx);

/* asn1_test_msg_new builds a PKIMessage with a full header and a body of
 * `type` with its main fields set. v3 != 0 adds the RFC 9480 parts
 * (pvno 3, certConf hashAlg, EnvelopedData, ckuann v3, encryptedRand) that
 * OpenSSL 3.0 does not know. Caller frees; NULL on failure. */
CMPCA_PKIMESSAGE *asn1_test_msg_new(const struct asn1_fx *fx, int type, int v3);

/* asn1_test_sender_cn is the CN in every built header's sender. */
#define ASN1_TEST_SENDER_CN    "cmpca unit device"
#define ASN1_TEST_RECIPIENT_CN "cmpca unit CA"
#define ASN1_TEST_TXID         "0123456789abcdef"
#define ASN1_TEST_TIME         "20250102030405Z"
#define ASN1_TEST_FREETEXT     "built by test_asn1"

/* Builder helpers shared by test_asn1_build.c and test_asn1_body.c. Each
 * returns a new object (NULL on failure) or 0/-1. */
ASN1_INTEGER *asn1t_int_new(long v);
ASN1_OCTET_STRING *asn1t_octets_new(const char *s);
ASN1_BIT_STRING *asn1t_bits_new(const char *s);
X509_NAME *asn1t_name_new(const char *cn);
int asn1t_set_dn(GENERAL_NAME *gn, const char *cn); /* gn must be empty */
GENERAL_NAME *asn1t_dn_new(const char *cn);
void asn1t_alg_set(X509_ALGOR *a, int nid);
X509_ALGOR *asn1t_alg_new(int nid);
STACK_OF(ASN1_UTF8STRING) *asn1t_text_new(const char *s);
X509 *asn1t_cert_ref(X509 *c);
STACK_OF(X509) *asn1t_certs_new(X509 *c);
ASN1_TYPE *asn1t_any_new(const unsigned char *der, long len);
STACK_OF(ASN1_TYPE) *asn1t_env_new(void); /* EnvelopedData components */
CMPCA_ITAV *asn1t_itav_new(const char *oid, ASN1_TYPE *value); /* takes value */
STACK_OF(X509_EXTENSION) *asn1t_exts_new(int nid, const char *value);
CMPCA_PKISTATUSINFO *asn1t_si_new(long status, int failbit, const char *text);
int asn1t_set_si(CMPCA_PKISTATUSINFO **field, long status, int failbit,
                 const char *text);
CMPCA_CERT_ID *asn1t_cert_id_new(long serial);
CMPCA_PKMAC_VALUE *asn1t_pkmac_new(void);
CMPCA_PKIHEADER *asn1t_header_new(int v3);
CMPCA_CERT_REQ_MESSAGES *asn1t_crms_new(const struct asn1_fx *fx, int type,
                                        int v3);

#define ASN1_TEST_OID_IMPLICIT_CONFIRM    "1.3.6.1.5.5.7.4.13"
#define ASN1_TEST_OID_SIGN_KEY_PAIR_TYPES "1.3.6.1.5.5.7.4.2"
#define ASN1_TEST_OID_PRIVATE             "1.3.6.1.4.1.99999.1"

/* asn1_read_file reads dir/name into *out (free with OPENSSL_free). */
int asn1_read_file(const char *dir, const char *name, unsigned char **out,
                   size_t *out_len);

/* The parts: round trip of every body type, messages from the openssl
 * cmp client, and malformed input. dump_dir, if not NULL, receives the
 * encoded round-trip messages (fuzzing seeds). */
int asn1_test_roundtrip(const struct asn1_fx *fx, const char *dump_dir);
int asn1_test_client(const char *data_dir);
int asn1_test_reject(const char *data_dir);

#endif
