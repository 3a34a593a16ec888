/* locks: the locks that keep a node out while its data is read or replaced.
 * libc only.
 *
 * A node's lock files (geth/LOCK, LevelDB's LOCK, Tessera's H2 file) are
 * held both as flock (geth, goleveldb) and as an OFD lock (F_OFD_SETLK),
 * which conflicts with classic POSIX fcntl locks (Java, C LevelDB, H2).
 * Holding both keeps a restarting node out for as long as the set is held.
 *
 * The mutation lock is an flock on one file: one mutating operation at a
 * time per data directory. */
#ifndef QB_LOCKS_H
#define QB_LOCKS_H

#include <stddef.h>

#include "err.h"

struct lockset {
	int *fds;
	char **paths;
	size_t n;
};

/* Hold every existing file of names (relative to dir). Missing files are
 * skipped. ERR_NODE_RUNNING when one is held by another process; nothing
 * stays held on failure. */
int lockset_acquire(struct lockset *ls, const char *dir,
    char *const *names, size_t count, struct err *e);
/* The same for names relative to dirfd (dir names it in messages). A lock
 * file is opened without following a link in its last component and
 * without waiting on a FIFO; one that is not a regular file is refused. */
int lockset_acquireat(struct lockset *ls, int dirfd, const char *dir,
    char *const *names, size_t count, struct err *e);
void lockset_release(struct lockset *ls);

/* Take an exclusive flock on path (created 0600 if missing) without
 * waiting: ERR_BUSY when another process holds it. Returns the fd. */
int lock_exclusive(const char *path, const char *what, struct err *e);
/* The same for name relative to dirfd (never through a link, never a
 * FIFO); shown names it in messages. */
int lock_exclusiveat(int dirfd, const char *name, const char *shown,
    const char *what, struct err *e);
void lock_release(int fd);

#endif
