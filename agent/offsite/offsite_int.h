/* offsite_int: what offsite.c (the upload) and offsite_read.c (the read
 * side) share. */
#ifndef QB_OFFSITE_INT_H
#define QB_OFFSITE_INT_H

#include <signal.h>
#include <stddef.h>

#include "err.h"
#include "offsite.h"

#define READ_BUF (1u << 20)
/* Tries of one request before it fails. */
#define TRIES 5
#define META_MAX (256u << 20)

/* The object key of name in the member's directory of the bucket. */
int offsite_member_key(const struct offsite *o, const char *name, char *out,
    size_t size, struct err *e);
/* Sleep before try number `try` (1, 2, 4, 8 s), unless cancelled: -1
 * then. */
int offsite_backoff(int try, volatile sig_atomic_t *cancel);

#endif
