/*
 * test_genm.h: what the parts of the genm unit test share: an operator PKI,
 * a store and an engine in a temp dir, and a way to run cmp_handle_genm on
 * a message without the server's header and protection checks. Each part
 * has its own check.h counters and returns 0 when all its checks passed.
 */
#ifndef CMPCA_TESTS_TEST_GENM_H
#define CMPCA_TESTS_TEST_GENM_H

#include "cmp/cmp_local.h"

struct genm_fx {
    char dir[64];
    struct cmpca_config *cfg;
    struct ca *ca;
    struct store *st;
    struct cmp_srv *srv;
    time_t now; /* the request's time; 0: time(NULL) */
};

/* genm_fx_init creates the PKI and store under a new temp dir. */
int genm_fx_init(struct genm_fx *fx);
/* genm_fx_cleanup frees everything and removes the temp dir. */
void genm_fx_cleanup(struct genm_fx *fx);

/* genm_fx_answer hands `req` to cmp_handle_genm as the server would after
 * its checks, under `profile` (may be NULL). protect != 0 signs the answer
 * with cmp_protect. Returns the handler's response (caller frees) or NULL. */
CMPCA_PKIMESSAGE *genm_fx_answer(struct genm_fx *fx,
                                 const CMPCA_PKIMESSAGE *req,
                                 const struct cmpca_profile *profile,
                                 int protect);

/* genm_fx_run is genm_fx_answer without protection, followed by a DER
 * encode and a decode with cmp_asn1_decode_msg, so what the checks see is
 * what a client would. NULL when any step fails. */
CMPCA_PKIMESSAGE *genm_fx_run(struct genm_fx *fx, const CMPCA_PKIMESSAGE *req,
                              const struct cmpca_profile *profile);

/* genm_new: a genm from "CN=genm test device" (pvno 2, fresh
 * transactionID and senderNonce) with `itavs` (taken). NULL on failure. */
CMPCA_PKIMESSAGE *genm_new(STACK_OF(CMPCA_ITAV) *itavs);
/* genm_itav_new: an ITAV of `type` with `value` (both taken; value may be
 * NULL). */
CMPCA_ITAV *genm_itav_new(ASN1_OBJECT *type, ASN1_TYPE *value);
/* genm_one: a genm holding one ITAV, id-it `arc` with `value` (taken). */
CMPCA_PKIMESSAGE *genm_one(int arc, ASN1_TYPE *value);
/* genm_int_value: an INTEGER infoValue, new. */
ASN1_TYPE *genm_int_value(long v);
/* genp_of: the ITAVs of genp `rsp` (borrowed), NULL when it is no genp. */
STACK_OF(CMPCA_ITAV) *genp_of(const CMPCA_PKIMESSAGE *rsp);
/* genp_single: the one ITAV of genp `rsp` when it is id-it `arc`, else
 * NULL. */
const CMPCA_ITAV *genp_single(const CMPCA_PKIMESSAGE *rsp, int arc);
/* genm_is_error: 1 when `rsp` is an error message, status rejection, with
 * failInfo bit `bit` set. */
int genm_is_error(const CMPCA_PKIMESSAGE *rsp, int bit);

/* test_genm_crls: crlStatusList -> crls (test_genm_crl.c). */
int test_genm_crls(struct genm_fx *fx);

/* test_genm_client: genm messages from the real OpenSSL 3.0 client (the
 * committed `openssl cmp -reqout` files, and OSSL_CMP_exec_GENM_ses with a
 * transfer callback into the handler). */
int test_genm_client(struct genm_fx *fx);

#endif
