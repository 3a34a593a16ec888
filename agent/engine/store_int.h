/* store_int: what the store's two files share: store.c (names, the
 * member directory, listing, finding, reserving, deleting) and
 * store_cache.c (the summary cache). Not for other modules. */
#ifndef QB_STORE_INT_H
#define QB_STORE_INT_H

#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "err.h"
#include "store.h"

/* A metadata file larger than this is refused. */
#define META_MAX (256u << 20)

/* The member directory a listing reads: its inode and the hash of the
 * store's path. */
struct dir_id {
	dev_t dev;
	ino_t ino;
	uint64_t path;           /* hash of the store's path */
};

/* What st is, for messages ("a symbolic link", "a FIFO", ...). */
const char *store_file_kind(const struct stat *st);

/* The cache's lock, held for a whole listing, find or summary. */
void store_cache_lock(void);
void store_cache_unlock(void);
/* The listing number: with next, a new listing starts (its number
 * marks the names it sees). With the lock held. */
unsigned long store_cache_listing(int next);
/* After listing gen of dir: drop dir's entries it did not see, and those
 * of an earlier directory at the same path. With the lock held. */
void store_cache_sweep(const struct dir_id *dir, unsigned long gen);
/* The directory at path is gone: drop all its entries (takes the lock). */
void store_cache_forget(const char *path);
/* dfd's identity for the cache. 0, or -1 with e. */
int store_dir_identity(const struct store *s, int dfd, struct dir_id *dir,
    struct err *e);

/* name in s's directory is not a regular file: warn, once per name and
 * inode. With the lock held. */
void store_note_skipped(const struct store *s, const struct dir_id *dir,
    unsigned long gen, const char *name, const struct stat *st);
/* The summary of metadata file name (st: its fstatat) from the cache, or
 * read now and kept: its bytes and files, and a copy of its text when text
 * is not NULL. With the lock held. 0, or -1 with e. */
int store_summary_get(const struct store *s, int dfd,
    const struct dir_id *dir, unsigned long gen, const char *name,
    const struct stat *st, long long *bytes, long long *files, char **text,
    struct err *e);

#endif
