/*
 * err.h: the one error idiom of cmpca.
 *
 * Functions return 0 on success and -1 on failure. When a failure has to
 * become a CMP answer, the callee fills the caller's struct cmpca_err with the
 * PKIFailureInfo bit to report and one line for the log and the statusString.
 * CMPCA_ERR_INIT starts as systemFailure, so a path that forgets to say why
 * still answers honestly instead of claiming success or a client fault.
 */
#ifndef CMPCA_UTIL_ERR_H
#define CMPCA_UTIL_ERR_H

#include <stddef.h>

/* PKIFailureInfo bit numbers, RFC 9810 section 5.2.3 */
enum cmpca_failinfo {
    FI_BAD_ALG = 0,
    FI_BAD_MESSAGE_CHECK = 1,
    FI_BAD_REQUEST = 2,
    FI_BAD_TIME = 3,
    FI_BAD_CERT_ID = 4,
    FI_BAD_DATA_FORMAT = 5,
    FI_WRONG_AUTHORITY = 6,
    FI_INCORRECT_DATA = 7,
    FI_MISSING_TIMESTAMP = 8,
    FI_BAD_POP = 9,
    FI_CERT_REVOKED = 10,
    FI_CERT_CONFIRMED = 11,
    FI_WRONG_INTEGRITY = 12,
    FI_BAD_RECIPIENT_NONCE = 13,
    FI_TIME_NOT_AVAILABLE = 14,
    FI_UNACCEPTED_POLICY = 15,
    FI_UNACCEPTED_EXTENSION = 16,
    FI_ADD_INFO_NOT_AVAILABLE = 17,
    FI_BAD_SENDER_NONCE = 18,
    FI_BAD_CERT_TEMPLATE = 19,
    FI_SIGNER_NOT_TRUSTED = 20,
    FI_TRANSACTION_ID_IN_USE = 21,
    FI_UNSUPPORTED_VERSION = 22,
    FI_NOT_AUTHORIZED = 23,
    FI_SYSTEM_UNAVAIL = 24,
    FI_SYSTEM_FAILURE = 25,
    FI_DUPLICATE_CERT_REQ = 26,
    FI_MAX = 26
};

#define CMPCA_ERR_MSG_LEN 256

struct cmpca_err {
    int failinfo;                 /* one of enum cmpca_failinfo */
    char msg[CMPCA_ERR_MSG_LEN]; /* one line, no secrets: goes to the client */
};

#define CMPCA_ERR_INIT {FI_SYSTEM_FAILURE, "internal error"}

/* cmpca_err_set fills `err` (may be NULL) with `failinfo` and a formatted
 * message. Always returns -1 so callers can `return cmpca_err_set(...)`. */
int cmpca_err_set(struct cmpca_err *err, int failinfo, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* cmpca_err_ossl is cmpca_err_set plus the first reason on OpenSSL's error
 * queue appended to the message; it then drains the queue into the debug log
 * so one request's leftovers never reach the next. Returns -1. */
int cmpca_err_ossl(struct cmpca_err *err, int failinfo, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* cmpca_failinfo_name returns the RFC name of bit `failinfo` ("badPOP"), or
 * "unknown". Static storage. */
const char *cmpca_failinfo_name(int failinfo);

#endif
