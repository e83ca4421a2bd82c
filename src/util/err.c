/*
 * err.c: filling struct cmpca_err, and keeping OpenSSL's thread-local error
 * queue empty between requests (a leftover entry would otherwise be blamed
 * on the next, unrelated failure in the same worker thread).
 */
#include "util/err.h"
#include "util/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>

static const char *const failinfo_names[] = {
    "badAlg",           "badMessageCheck",     "badRequest",
    "badTime",          "badCertId",           "badDataFormat",
    "wrongAuthority",   "incorrectData",       "missingTimeStamp",
    "badPOP",           "certRevoked",         "certConfirmed",
    "wrongIntegrity",   "badRecipientNonce",   "timeNotAvailable",
    "unacceptedPolicy", "unacceptedExtension", "addInfoNotAvailable",
    "badSenderNonce",   "badCertTemplate",     "signerNotTrusted",
    "transactionIdInUse", "unsupportedVersion", "notAuthorized",
    "systemUnavail",    "systemFailure",       "duplicateCertReq",
};

const char *cmpca_failinfo_name(int failinfo)
{
    if (failinfo < 0 || failinfo > FI_MAX)
        return "unknown";
    return failinfo_names[failinfo];
}

static void err_vset(struct cmpca_err *err, int failinfo, const char *fmt,
                     va_list ap) __attribute__((format(printf, 3, 0)));

static void err_vset(struct cmpca_err *err, int failinfo, const char *fmt,
                     va_list ap)
{
    if (err == NULL)
        return;
    err->failinfo = failinfo;
    vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
}

int cmpca_err_set(struct cmpca_err *err, int failinfo, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    err_vset(err, failinfo, fmt, ap);
    va_end(ap);
    return -1;
}

int cmpca_err_ossl(struct cmpca_err *err, int failinfo, const char *fmt, ...)
{
    va_list ap;
    unsigned long e;
    char buf[160];
    size_t used;

    va_start(ap, fmt);
    err_vset(err, failinfo, fmt, ap);
    va_end(ap);
    e = ERR_peek_error();
    if (err != NULL && e != 0) {
        ERR_error_string_n(e, buf, sizeof(buf));
        used = strlen(err->msg);
        if (used + 3 < sizeof(err->msg))
            snprintf(err->msg + used, sizeof(err->msg) - used, " (%s)",
                     ERR_reason_error_string(e) != NULL
                         ? ERR_reason_error_string(e)
                         : buf);
    }
    while ((e = ERR_get_error()) != 0) {
        ERR_error_string_n(e, buf, sizeof(buf));
        log_debug("openssl: %s", buf);
    }
    return -1;
}
