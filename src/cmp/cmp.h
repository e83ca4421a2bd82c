/*
 * cmp.h: the CMP protocol engine. Takes one DER PKIMessage from the
 * transport and returns one DER PKIMessage: decode, header checks (pvno,
 * transactionID, nonces, time), protection, then the body handler (ir/cr/kur
 * -> policy -> ca -> store -> ip; certConf -> pkiConf; ...), then the
 * response header and protection. Every parseable request is answered with a
 * CMP message, errors included; only undecodable bytes get HTTP 400.
 *
 * A struct cmp_srv is shared by all worker threads; per-request state lives
 * on the stack of cmp_srv_handle.
 */
#ifndef CMPCA_CMP_CMP_H
#define CMPCA_CMP_CMP_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "ca/ca.h"
#include "store/store.h"
#include "util/config.h"
#include "util/err.h"

struct cmp_srv;

/* cmp_srv_new makes an engine over borrowed `cfg`, `ca` and `st`, which must
 * outlive it. *out is new, free with cmp_srv_free. */
int cmp_srv_new(const struct cmpca_config *cfg, const struct ca *ca,
                struct store *st, struct cmp_srv **out, struct cmpca_err *err);
void cmp_srv_free(struct cmp_srv *srv);

/* cmp_srv_profile_known returns 1 when `profile` names a configured
 * certificate profile ("3gpp" is built in), else 0. */
int cmp_srv_profile_known(const struct cmp_srv *srv, const char *profile);

/* cmp_srv_handle answers one request. `profile` and `operation` come from
 * the URL path (NULL when absent). On return *out (malloc'd, caller frees) is
 * the DER response and *http_status its HTTP status: 200 with a CMP message,
 * or 400 with *out NULL when the bytes are not a PKIMessage at all. Returns
 * 0, or -1 when not even an error message could be built (HTTP 500). */
int cmp_srv_handle(struct cmp_srv *srv, const char *profile,
                   const char *operation, const uint8_t *req, size_t req_len,
                   uint8_t **out, size_t *out_len, int *http_status);

/* cmp_srv_housekeeping expires transactions whose certConf never came and
 * revokes (never publishes) their certificates. Call periodically. */
int cmp_srv_housekeeping(struct cmp_srv *srv, time_t now);

#endif
