/* auth: the bearer token every request below /v1/ must carry: read from
 * [agent] token_file (through links, as Kubernetes mounts a Secret's keys,
 * but only a regular file, never waiting on a FIFO), again whenever the
 * file changes (device, inode, size, mtime, ctime), kept only as its
 * SHA-256 and compared in constant time. */
#ifndef QB_AUTH_H
#define QB_AUTH_H

#include <pthread.h>
#include <sys/stat.h>

#include "agent_conf.h"
#include "err.h"

/* The bearer token, as a SHA-256, and the file version it came from. */
struct auth {
	const struct agent_conf *cf;
	pthread_mutex_t mu;
	int loaded;              /* sha is the token of the version st */
	unsigned char sha[32];
	int have_st;
	struct stat st;          /* fstat of the file read (at a failed read:
	                          * the stat of the path) */
	int racy;                /* read within TOKEN_RACY of its change */
	double failed_at;        /* monotonic: the last failed read */
	char problem[256];       /* the problem logged last, and when */
	double logged_at;
	unsigned repeated;       /* times it came back since */
};

/* Set up (no file is read yet); auth_fini releases it. */
void auth_init(struct auth *t, const struct agent_conf *cf);
/* At start: the token must load (ERR_CONFIG otherwise), unless
 * auth = none. */
int auth_load(struct auth *t, struct err *e);
/* 1 when the Authorization header value (NULL: none) carries the token
 * (or auth = none), 0 otherwise. Thread-safe. */
int auth_check(struct auth *t, const char *authorization);
void auth_fini(struct auth *t);

#endif
