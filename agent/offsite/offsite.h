/* offsite: a member's backups copied to an S3 bucket, and read back.
 *
 *   PREFIX/member<N>/<ID>.tar.zst[.age]   the archive, as stored locally
 *   PREFIX/member<N>/<ID>.json            its metadata, written last: its
 *                                         presence means complete
 *
 * An upload sends the archive (one PUT up to part_size, else a multipart
 * upload of `parallel` parts in flight, each part read twice from the file:
 * once for its SHA-256 and MD5, once to send it, so memory stays near
 * `parallel` read buffers), then the metadata, then checks the object with
 * a HEAD (its size; its ETag, which Ceph's CompleteMultipartUpload reply
 * leaves empty). Each request is tried again with back-off on a timeout, a
 * reset or a 5xx; a multipart upload that fails is aborted. A multipart
 * upload of the same key that an earlier run left (the agent killed, the
 * store gone mid-way) is taken up again: ListParts tells which parts are
 * there, and those whose ETag is the MD5 of the local part are not sent
 * again; older ones are aborted. The node is never involved. */
#ifndef QB_OFFSITE_H
#define QB_OFFSITE_H

#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <time.h>

#include "agent_conf.h"
#include "archiver.h"
#include "err.h"
#include "ops.h"
#include "s3.h"
#include "store.h"
#include "verify.h"

struct offsite {
	struct s3_conf s3;
	uint64_t part_size;
	int parallel;
	long long member;
	char member_prefix[S3_KEY_MAX];   /* PREFIX/member<N>/ */
};

/* 0 when [offsite] url is set; ERR_BAD_REQUEST saying it is not. */
int offsite_configured(const struct agent_conf *cf, struct err *e);

/* From [offsite]: ERR_CONFIG when url is not set or a key file cannot be
 * read (the keys are read now: a rotated Secret is picked up by the next
 * call). */
int offsite_open(const struct agent_conf *cf, struct offsite *o,
    struct err *e);
/* Wipe the keys. */
void offsite_close(struct offsite *o);

struct offsite_result {
	char id[STORE_ID_MAX];     /* offsite_copy: the backup's id */
	char bucket[64];           /* offsite_copy: the bucket */
	char archive_key[S3_KEY_MAX];
	char etag[S3_ETAG_MAX];
	uint64_t size;
	int parts;                 /* 0: one PUT */
	int reused;                /* parts an interrupted upload of the same
	                            * key had sent, with the same content */
	double seconds;
};

/* Upload backup b of store s (complete, not legacy). progress counts the
 * archive's bytes sent; cancel stops between requests and parts. */
int offsite_upload(struct offsite *o, const struct backup_info *b,
    progress_fn progress, void *progress_arg, volatile sig_atomic_t *cancel,
    struct offsite_result *r, struct err *e);

/* The whole copy of local backup id ("latest" or NULL: the newest): the
 * store locked for the upload, the outcome recorded in the metadata
 * (offsite_record; a failure too, unless *cancel is set: an upload
 * stopped on purpose is taken up again, not failed), then remote
 * retention, whose failure is only logged; *pruned (may be NULL) gets
 * the ids it deleted. */
int offsite_copy(const struct agent_conf *cf, const char *id,
    progress_fn progress, void *progress_arg, volatile sig_atomic_t *cancel,
    struct offsite_result *r, json_t **pruned, struct err *e);

/* Record in b's local metadata what became of its copy, written through
 * the member's directory of s (whose lock the caller holds): "offsite":
 * {state "uploaded", bucket, key, etag, size, uploaded} from r, or, r
 * NULL, {state "failed", error (fail's message), at}. The backup stays
 * complete either way. */
int offsite_record(const struct store *s, const struct backup_info *b,
    const struct offsite *o, const struct offsite_result *r,
    const struct err *fail, struct err *e);

/* What the local metadata says of the member's copies: *last_success, the
 * newest "uploaded" time of any (0: none); with failed, a JSON array of
 * the ids, newest first, whose copy failed and that remote retention
 * would keep (the newest keep_last), for a retry. 0, or -1 with e (the
 * store unreadable). */
int offsite_local_state(const struct agent_conf *cf, time_t *last_success,
    json_t **failed, struct err *e);

/* The member's complete remote backups, newest first: a JSON array of
 * {id, archive, size, etag, created, encrypted, sha256, files, bytes}
 * (from each remote metadata). Archives without metadata are left out. */
json_t *offsite_list(struct offsite *o, struct err *e);

/* The id of the newest complete remote backup (from the listing alone)
 * into id; ERR_NOT_FOUND when there is none. */
int offsite_newest(struct offsite *o, char *id, size_t size, struct err *e);

/* Remote retention: of the member's complete remote backups (newest
 * first), those that neither keep_last nor keep_days keeps go, metadata
 * first (from then on not complete), then the archive; the newest always
 * stays (store_retention_plan's rules). Multipart uploads below the
 * member's prefix started over a day ago are aborted. *deleted and
 * *aborted (JSON arrays: ids, keys) say what went, or with dry_run what
 * would; *kept how many remote backups stay. */
int offsite_prune(struct offsite *o, long long keep_last, long long keep_days,
    int dry_run, json_t **deleted, json_t **aborted, size_t *kept,
    struct err *e);

/* A copy in the bucket as a backup to unpack (ops.h, unpack_opts.given):
 * its metadata read into memory (nothing is written to the backup volume,
 * which may be new or gone), its archive read through a pipe fed by a
 * download that is pinned to the object a HEAD saw (If-Match: a changed
 * object fails the read, ERR_VERIFY) and resumed with Range after a reset
 * or a timeout. id: an id or "latest" (the newest complete copy). */
struct offsite_source {
	struct offsite *o;
	struct archive_source as;
	char key[S3_KEY_MAX];
	char etag[S3_ETAG_MAX];
	uint64_t size;
	volatile sig_atomic_t *cancel;
	/* the download of one pass */
	pthread_t thread;
	int running;
	int wfd;
	int reader_gone;
	int failed;
	struct err err;
};
int offsite_source_init(struct offsite *o, const char *id,
    volatile sig_atomic_t *cancel, struct offsite_source *src,
    struct backup_info *b, struct err *e);
/* Ends a download still running and frees the metadata. */
void offsite_source_free(struct offsite_source *src);

/* Stream the remote archive of backup id and check its size and SHA-256
 * against the remote metadata (no key needed). */
int offsite_verify_stored(struct offsite *o, const char *id,
    progress_fn progress, void *progress_arg, volatile sig_atomic_t *cancel,
    struct verify_result *res, struct err *e);

/* Verify the copy of id ("latest" or NULL: the newest remote one): with
 * stored, or when it is encrypted and [encryption] identity_file is not
 * set, its stored size and SHA-256 (offsite_verify_stored); otherwise its
 * whole content, streamed (as unpack reads it) through the same checks as
 * a local verify, *full set. out_id gets the id. */
int offsite_verify(const struct agent_conf *cf, struct offsite *o,
    const char *id, int stored, const struct op_hooks *h, char *out_id,
    size_t out_size, struct verify_result *res, int *full, struct err *e);

#endif
