/*
 * config_local.h: shared between config.c (the file, global sections) and
 * config_profile.c (`[profile NAME]` sections). Not for other rooms.
 */
#ifndef CMPCA_UTIL_CONFIG_LOCAL_H
#define CMPCA_UTIL_CONFIG_LOCAL_H

#include <stdio.h>

#include "util/config.h"

/* config_parse_bool reads yes/true/1 or no/false/0 into *out; -1 otherwise. */
int config_parse_bool(const char *v, int *out);

/* config_profile_name_ok: 1..CMPCA_PROFILE_NAME_MAX of [A-Za-z0-9._-], not
 * only dots (the rule of transport's /p/<name>). Returns 1 or 0. */
int config_profile_name_ok(const char *name);

/* config_profile_add appends profile `name` with the defaults to
 * cfg->profiles. Returns it (borrowed; moves when the next one is added),
 * or NULL on allocation failure. */
struct cmpca_profile *config_profile_add(struct cmpca_config *cfg,
                                         const char *name);

/* config_profile_set parses `key = v` of a profile section into `p`.
 * Returns -1 with a reason in `why` for an unknown key or a bad value. */
int config_profile_set(struct cmpca_profile *p, const char *key, const char *v,
                       char *why, size_t wl);

/* config_profile_write writes `p` as a [profile NAME] section with every
 * key, each after a comment. */
void config_profile_write(FILE *f, const struct cmpca_profile *p);

/* config_nids_text writes the short names of `nids` as "a, b" into `buf`
 * (truncated to `cap`). */
void config_nids_text(const int *nids, int num, char *buf, size_t cap);

#endif
