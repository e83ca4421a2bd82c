/*
 * gen.h: shared by the files of adv_gen, the adversarial suite's message
 * generator. adv_gen builds hostile CMP requests at test time (so keys,
 * nonces and messageTime are current), the fixed test PKI under pki/ and
 * a few helpers the runner needs (the certificate of a response, a
 * certificate re-signed with other dates). It is a test tool: it exits on
 * the first error with a message, and it happily writes what a well-behaved
 * client never would.
 */
#ifndef CMPCA_TESTS_ADV_GEN_H
#define CMPCA_TESTS_ADV_GEN_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "asn1/cmp_asn1.h"

#define GEN_MAX_DIRS 8

/* Where NAME.pem and NAME.key are looked up (-I DIR, in order). */
struct gen_dirs {
    const char *dir[GEN_MAX_DIRS];
    int num;
};

/* What `adv_gen msg` builds. Strings are borrowed from argv; NULL or 0
 * means "the default a well-behaved client would use". */
struct msg_opts {
    const char *body;        /* ir cr kur krr certconf rr (default ir) */
    const char *signer;      /* NAME: NAME.pem + NAME.key */
    const char *extra;       /* NAME,NAME... or "none"; default: signer */
    const char *newkey;      /* NAME.key to certify; default: a fresh key */
    const char *newkey_type; /* fresh key: ec (default), rsa2048 */
    const char *newkey_out;  /* file to save a fresh key in (PEM) */
    const char *popkey;      /* NAME.key that signs the POP */
    const char *pop;         /* sig (default), raverified, none */
    const char *pop_md;      /* sha256 (default), sha1, md5 */
    const char *subject;     /* template subject, /A=b/C=d form */
    const char *san;         /* template subjectAltName, "DNS:x" form */
    const char *old_cert;    /* kur: NAME whose oldCertID is sent */
    const char *sender;      /* header sender DN; default signer subject */
    const char *kid_hex;     /* senderKID; default the signer's SKI */
    const char *kid_of;      /* senderKID = SKI of certificate NAME */
    const char *tid_hex;
    const char *tid_from;      /* FILE.der: copy its transactionID */
    const char *nonce_from;    /* FILE.der: copy its senderNonce */
    const char *recip_from;    /* FILE.der: recipNonce = its senderNonce */
    const char *prot;          /* sig (default), none, stripped, pbm */
    const char *prot_md;       /* sha256 (default), sha1, md5 */
    const char *prot_oid;      /* protectionAlg OID, overrides the above */
    const char *prot_key;      /* NAME.key that signs the protection */
    const char *pbm_kid;       /* pbm: senderKID text */
    const char *certhash_from; /* certConf: hash of the cert in FILE.der */
    const char *rr_cert;       /* rr: NAME of the certificate to revoke */
    const char *mangle;        /* DER damage after encoding, see gen_der.c */
    long pvno;                 /* default 2 */
    long tid_len;              /* random transactionID octets, default 16 */
    long nonce_len;            /* random senderNonce octets, default 16 */
    long time_offset;          /* messageTime = now + this (seconds) */
    long days;                 /* template notAfter = now + days */
    long crm_count;            /* CertReqMsgs, default 1 */
    long certreqid;            /* default 0 */
    long pbm_iter;             /* pbm iterationCount */
    long deep_info;            /* generalInfo value nested this deep */
    long repeat;               /* write this many messages OUT.1..OUT.N */
    int no_tid, no_nonce, no_time, no_kid, no_pubkey;
    int recip_random; /* recipNonce of 16 random octets */
    int implicit_confirm;
    int ca_true;         /* template asks for basicConstraints CA */
    int certhash_random; /* certConf: a hash of nothing we issued */
    int certconf_reject; /* certConf: status rejection */
};

/* gen.c: helpers every file uses. All of them exit(1) with a message on
 * failure: adv_gen is a test tool, a failure means the case is broken. */
void gen_die(const char *what);
X509 *gen_load_cert(const struct gen_dirs *d, const char *name);
EVP_PKEY *gen_load_key(const struct gen_dirs *d, const char *name);
/* Reads a whole file; *len its size. New buffer (free()). */
uint8_t *gen_read_file(const char *path, size_t *len);
void gen_write_file(const char *path, const uint8_t *buf, size_t len);
void gen_write_pem_cert(const char *path, X509 *cert);
void gen_write_pem_key(const char *path, EVP_PKEY *key);
/* Decodes a saved CMP message (framing checked). New, never NULL. */
CMPCA_PKIMESSAGE *gen_read_msg(const char *path);
/* "/CN=a/serialNumber=b" to a new name. */
X509_NAME *gen_parse_name(const char *dn);
/* A fresh key: "ec" (P-256), "rsa2048" or "rsa512". */
EVP_PKEY *gen_fresh_key(const char *type);
/* "sha256" etc. to a digest; exits on an unknown name. */
const EVP_MD *gen_md(const char *name);
/* Time: "+N"/"-N" days from now, or YYYYMMDDHHMMSSZ. New. */
ASN1_TIME *gen_time(const char *spec);

/* What every part of one message is built from. */
struct gen_build {
    const struct gen_dirs *d;
    const struct msg_opts *o;
    X509 *signer;     /* owned; NULL without --signer */
    EVP_PKEY *key;    /* owned: the signer's key */
    EVP_PKEY *newkey; /* owned: the key to certify */
    time_t now;
};

/* gen_msg.c: `adv_gen msg OUT [options]`. */
int gen_cmd_msg(const struct gen_dirs *d, const struct msg_opts *o,
                const char *out);

/* gen_body.c: fills `body` as b->o asks (--body and what it reads). */
void gen_set_body(const struct gen_build *b, CMPCA_PKIBODY *body);
/* gen_body.c: `len` random octets / a directoryName owning `owned`. */
ASN1_OCTET_STRING *gen_octets_random(long len);
GENERAL_NAME *gen_dirname(X509_NAME *owned);
/* gen_body.c: the certificate of the first CertResponse of an ip/cp/kup,
 * borrowed from `m`; NULL when there is none. */
X509 *gen_msg_cert(const CMPCA_PKIMESSAGE *m);

/* gen_der.c: damages an encoded message in place or into a new buffer:
 * truncate, past-end, nonminimal, huge-length, indefinite,
 * inner-indefinite, outer-tag, trailing. *buf may be replaced. */
void gen_mangle(const char *how, uint8_t **buf, size_t *len);

/* gen_pki.c: the PKI commands (see usage in gen.c). */
int gen_cmd_mkcert(const struct gen_dirs *d, int argc, char **argv);
int gen_cmd_reissue(const struct gen_dirs *d, int argc, char **argv);
int gen_cmd_mkcrl(const struct gen_dirs *d, int argc, char **argv);
int gen_cmd_certout(int argc, char **argv);
int gen_cmd_statustext(int argc, char **argv);

#endif
