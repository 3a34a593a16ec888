/* store: one member's backups on the backup volume.
 *
 *   <backup_dir>/member<N>/<ID>.tar.zst   archive (pax tar in zstd)
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
#include <time.h>

#include "err.h"

#define STORE_ID_MAX 256

struct store {
	char dir[4096];         /* <backup_dir>/member<N> */
	long long member;
	int lock_fd;            /* -1 unless store_lock() holds it */
};

struct backup_info {
	char id[STORE_ID_MAX];
	int legacy;             /* seed's .tar.gz: no metadata */
	time_t created;         /* from the id, or the file's mtime (legacy) */
	uint64_t size;          /* archive bytes */
	long long bytes;        /* content bytes; -1 unknown */
	long long files;        /* entries; -1 unknown */
	char archive_path[4352];
	char meta_path[4352];
};

/* ID syntax: ^[0-9]{8}T[0-9]{6}Z(-[0-9]+)?$ */
int store_id_valid(const char *id);
/* Legacy name syntax: a plain file name ending in .tar.gz, no '/'. */
int store_legacy_name_valid(const char *name);

/* Open member<N> below backup_dir; with create, make it (0700). Without
 * create, a missing directory is an empty store. */
int store_open(struct store *s, const char *backup_dir, long long member,
    int create, struct err *e);
/* Mutating commands hold the store lock; ERR_BUSY when taken. */
int store_lock(struct store *s, struct err *e);
void store_close(struct store *s);

/* Complete backups (and legacy ones), newest first. Caller frees *out. */
int store_list(const struct store *s, struct backup_info **out, size_t *n,
    struct err *e);
/* Find by id, legacy name, or "latest" (newest complete, legacy included
 * only when it is all there is). ERR_NOT_FOUND / ERR_BAD_REQUEST. */
int store_find(const struct store *s, const char *id, struct backup_info *out,
    struct err *e);
/* Load a backup's metadata (NULL for legacy, with e cleared). */
json_t *store_load_meta(const struct backup_info *b, struct err *e);

/* Reserve a new id for a backup started at t: creates
 * "<ID>.tar.zst.partial" exclusively and returns its fd. Needs the lock. */
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

/* "2026-11-24T01:02:03Z" */
void store_format_time(time_t t, char *buf, size_t size);

#endif
