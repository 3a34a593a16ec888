/* store: one member's backups on the backup volume.
 *
 *   <backup_dir>/member<N>/<ID>.tar.zst   archive (pax tar in zstd)
 *   <backup_dir>/member<N>/<ID>.tar.zst.age   or that archive encrypted
 *                                          with age (never both)
 *   <backup_dir>/member<N>/<ID>.json      metadata, written last: complete
 *   <backup_dir>/member<N>/NAME.tar.gz    legacy backups of the seed scripts
 *   <backup_dir>/member<N>/.lock          flock held by mutating commands
 *
 * ID is the UTC start time YYYYMMDDTHHMMSSZ, "-2", "-3"... on collision.
 * Knows ids, listing, metadata and retention; nothing of tar or HTTP. */
#ifndef QB_STORE_H
#define QB_STORE_H

#include <jansson.h>
#include <stdint.h>
#include <sys/stat.h>
#include <time.h>

#include "err.h"

#define STORE_ID_MAX 256

/* The backup volume may be shared and written by others: member<N>/ is
 * opened with O_DIRECTORY | O_NOFOLLOW (a member directory that is a link
 * is refused) and every file in it is reached relative to that descriptor,
 * never through a link and never waiting on a FIFO. The store holds the
 * descriptor while it holds the lock (store_lock until store_close); other
 * calls open the directory for themselves and close it before returning,
 * so a store that is only read needs no store_close. */
struct store {
	char dir[4096];         /* <backup_dir>/member<N>, for messages */
	long long member;
	int lock_fd;            /* -1 unless store_lock() holds it */
	int dirfd;              /* member<N>/, valid only while lock_fd >= 0 */
};

struct age_identity;

/* An archive read from elsewhere than the store (a bucket): open() gives a
 * descriptor to read the whole file from, start to end (a pipe fed by a
 * download), and its size; finish() ends that read, after the reader has
 * closed the descriptor, and says whether the fetch itself went well (a
 * reader that saw the stream end early learns here that the network, not
 * the file, failed). open may be called again for a second pass. */
struct archive_source {
	int (*open)(void *arg, uint64_t *size, struct err *e);
	int (*finish)(void *arg, struct err *e);
	void *arg;
	json_t *meta;           /* the whole metadata, entry list included */
};

struct backup_info {
	char id[STORE_ID_MAX];
	int legacy;             /* seed's .tar.gz: no metadata */
	time_t created;         /* from the id, or the file's mtime (legacy) */
	uint64_t size;          /* archive bytes */
	long long bytes;        /* content bytes; -1 unknown */
	long long files;        /* entries; -1 unknown */
	/* Names in member<N>/ (meta_name "" for legacy): the store opens them
	 * relative to the directory. */
	char archive_name[STORE_ID_MAX + 16];
	char meta_name[STORE_ID_MAX + 8];
	/* The same as paths, for messages and for readers given a path. */
	char archive_path[4352];
	char meta_path[4352];
	/* Encrypted with age (<ID>.tar.zst.age): read with the identities
	 * the caller sets here (not owned; none: ERR_NO_IDENTITY). */
	int encrypted;
	const struct age_identity *ids;
	size_t n_ids;
	/* Set: the archive and its metadata come from here (archive_path and
	 * meta_path name them in messages); not owned. */
	const struct archive_source *source;
};
/* ID syntax: ^[0-9]{8}T[0-9]{6}Z(-[0-9]+)?$ */
int store_id_valid(const char *id);
/* Legacy name syntax: a plain file name ending in .tar.gz, no '/'. */
int store_legacy_name_valid(const char *name);

/* The member's directory name on the backup volume, "member<N>" (the one
 * place that spells it). */
void store_member_name(long long member, char *buf, size_t size);

/* Name member<N> below backup_dir; with create, make it (0700) and check
 * that it is a directory, not a link. Without create, nothing is opened
 * yet, and a missing directory is an empty store. */
int store_open(struct store *s, const char *backup_dir, long long member,
    int create, struct err *e);
/* Mutating commands hold the store lock (an flock on member<N>/.lock);
 * ERR_BUSY when taken. The store keeps member<N>/ open until store_close. */
int store_lock(struct store *s, struct err *e);
/* Release the lock and the directory; a store that holds neither (lock_fd
 * -1) is left alone. */
void store_close(struct store *s);

/* Complete backups (and legacy ones), newest first. Caller frees *out.
 * Only regular files count: a link, FIFO, directory or device where an
 * archive or a metadata file would be is skipped, with a warning logged
 * once per name and inode. bytes and files come from the metadata's
 * summary (store_summary). */
int store_list(const struct store *s, struct backup_info **out, size_t *n,
    struct err *e);
/* Find by id, legacy name, or "latest" (newest complete, legacy included
 * only when it is all there is). ERR_NOT_FOUND (also when a file of the
 * backup is not a regular file: refused) / ERR_BAD_REQUEST. */
int store_find(const struct store *s, const char *id, struct backup_info *out,
    struct err *e);

/* What the agent keeps of each metadata file: its summary, the metadata
 * object without "entries" (id, created, archive, bytes, files, node,
 * node_key, and whatever else it holds: encryption, offsite, type,
 * parent...), read once and cached in the process, keyed by the file's
 * device, inode, size, mtime and ctime. The read streams the file and
 * never holds its entry list; a summary larger than STORE_SUMMARY_MAX
 * counts as unreadable. A new reference (caller decrefs), NULL for legacy
 * (e cleared) or when the metadata cannot be read (e set). Thread-safe. */
#define STORE_SUMMARY_MAX (64u << 10)
json_t *store_summary(const struct store *s, const struct backup_info *b,
    struct err *e);
/* Load a backup's whole metadata, entry list included, for a verify or an
 * unpack (NULL for legacy, with e cleared). One such parse runs at a time
 * in the process; files over 256 MiB are refused. */
json_t *store_load_meta(const struct backup_info *b, struct err *e);
/* Open b's archive (metadata: its metadata file) for reading: a regular
 * file in member<N>/, no link followed, no FIFO waited on. *st gets its
 * fstat. Returns the fd (caller closes). s NULL: the directory is opened
 * from b's paths (for readers that hold only b); a backup named by its
 * path on the command line is opened by that path, no link followed in
 * its last component. */
int store_open_file(const struct store *s, const struct backup_info *b,
    int metadata, struct stat *st, struct err *e);
/* The summary cache: how many files it remembers (summaries and skipped
 * names) and the bytes of summary text it holds. */
void store_cache_stats(size_t *entries, size_t *bytes);

/* Reserve a new id for a backup started at t: creates
 * "<ID>.tar.zst.partial" exclusively and returns its fd (encrypted or not:
 * the archiver gives it its final name). Needs the lock. */
int store_reserve(struct store *s, time_t t, char *id, size_t idsize,
    struct err *e);
/* Remove what interrupted operations left: *.partial files and archives
 * without metadata. Needs the lock. Returns how many were removed. */
int store_cleanup(struct store *s, struct err *e);

/* Which of list (newest first, as store_list gives) retention deletes:
 * del[i] set to 1. A backup goes only when neither rule keeps it; both
 * rules 0 means retention is off; the newest complete backup and legacy
 * backups always stay. */
void store_retention_plan(const struct backup_info *list, size_t n,
    long long keep_last, long long keep_days, time_t now, int *del);
/* Delete one backup: metadata first (so it is no longer complete), then
 * the archive. Needs the lock. */
int store_delete(struct store *s, const struct backup_info *b, struct err *e);

/* list in the order of store_list: newest first (by the time the ids
 * spell, "-10" after "-9"), by created and id. */
void store_sort_newest_first(struct backup_info *list, size_t n);
/* The start time an id spells (0 when it spells none). */
time_t store_id_time(const char *id);

/* "2026-11-24T01:02:03Z" */
void store_format_time(time_t t, char *buf, size_t size);

#endif
