/* ops_int: what ops.c and ops_keys.c share. */
#ifndef QB_OPS_INT_H
#define QB_OPS_INT_H

#include <stddef.h>

#include "agent_conf.h"
#include "err.h"
#include "store.h"

struct age_identity;

/* The identities for an encrypted b, from [encryption] identity_file, set
 * into b (none configured: none set; backup_identity_check says so; a
 * file that is not there is ERR_NO_IDENTITY). The caller frees *ids with
 * age_identities_free. 0, or -1 with e. */
int ops_load_identities(const struct agent_conf *cf, struct backup_info *b,
    struct age_identity **ids, size_t *n, struct err *e);

#endif
