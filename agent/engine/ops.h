/* ops: the agent's operations as whole jobs, with every lock they need.
 * The command line calls them now; the HTTP jobs will call the same.
 *
 * Mutating operations take, in order: the mutation lock
 * (<data_dir>/.quorum-backup/lock), the store lock, then clean what an
 * interrupted operation left in the store. archive also holds the node's
 * lock files for the whole job. Everything taken is released on every
 * path. Read-only operations (list, verify) take no lock and change
 * nothing. */
#ifndef QB_OPS_H
#define QB_OPS_H

#include <jansson.h>
#include <signal.h>

#include "agent_conf.h"
#include "archiver.h"
#include "err.h"
#include "store.h"
#include "swap.h"
#include "verify.h"

struct op_hooks {
	progress_fn progress;
	void *progress_arg;
	volatile sig_atomic_t *cancel;
	json_t *node_facts;      /* for archive metadata; may be NULL */
};

struct age_recipient;

/* The recipients backups are encrypted to ([encryption] recipients_file;
 * none: *n 0), read now. ERR_CONFIG when the file is bad, or when
 * [encryption] require is set and there is none. Caller frees *rs. */
int op_recipients(const struct agent_conf *cf, struct age_recipient **rs,
    size_t *n, struct err *e);
/* The same check at start, for the commands that write backups: exit 2. */
int op_encryption_check(const struct agent_conf *cf, struct err *e);

/* Archive (encrypted to op_recipients, if any), then apply retention. *pruned (if not NULL) gets a JSON array
 * of the ids retention deleted. */
int op_archive(const struct agent_conf *cf, const struct op_hooks *h,
    struct archive_result *r, json_t **pruned, struct err *e);
/* what: an id, "latest", or the path of an archive file. stored: only
 * the stored file's size and SHA-256 against the metadata, no key
 * needed (verify_stored). */
int op_verify(const struct agent_conf *cf, const char *what, int stored,
    const struct op_hooks *h, struct backup_info *b,
    struct verify_result *res, struct err *e);
/* The full verify of a backup that does not come from the store (an
 * archive source and its metadata, as unpack_opts.given): the keys of
 * [encryption] identity_file when it is encrypted. */
int op_verify_given(const struct agent_conf *cf, const struct backup_info *given,
    const struct op_hooks *h, struct backup_info *b,
    struct verify_result *res, struct err *e);
/* Before a verify or an unpack job starts: when what is an encrypted
 * backup of the store, whether [encryption] identity_file opens it, as
 * far as its metadata's summary tells (backup_identity_check). 0 also when the backup is not
 * found or not encrypted: the job then says so. */
int op_identity_precheck(const struct agent_conf *cf, const char *what,
    struct err *e);
/* JSON array of backups, newest first, with their node facts. */
json_t *op_list(const struct agent_conf *cf, struct err *e);
/* Apply retention. *ids gets a JSON array of deleted (or, with dry_run,
 * to-be-deleted) ids; *kept how many backups stay. */
int op_prune(const struct agent_conf *cf, int dry_run, json_t **ids,
    size_t *kept, struct err *e);

struct unpack_opts {
	const char *id;          /* id, legacy name or "latest" */
	int force;               /* accept another node's key */
	int in_place;            /* verify, delete, extract: no second tree */
	int discard_previous;    /* remove the old tree once the new is live */
	/* Not NULL: this backup (an archive source and its metadata) instead
	 * of id in the store. */
	const struct backup_info *given;
};

struct unpack_result {
	struct backup_info backup;
	struct verify_result v;
	int recovered;           /* an interrupted swap was completed first */
	int previous_kept;       /* .quorum-backup/previous holds the old tree */
	double seconds;          /* the whole operation, sync and swap included */
};

/* Restore a backup onto the data directory (node stopped). Staged: the
 * live tree is untouched until the whole archive was extracted, verified
 * and made durable; then a journaled swap. */
int op_unpack(const struct agent_conf *cf, const struct unpack_opts *u,
    const struct op_hooks *h, struct unpack_result *r, struct err *e);
/* Swap .quorum-backup/previous back in; the unpacked tree is removed. */
int op_rollback(const struct agent_conf *cf, struct err *e);
/* Finish an interrupted swap (mutation lock and the node's locks held
 * meanwhile: the node must be stopped). ERR_INCOMPLETE for an unfinished
 * in-place restore, which only unpack can finish. */
int op_recover(const struct agent_conf *cf, int *recovered, struct err *e);
/* Remove .quorum-backup/previous (the node may be running). */
int op_discard_previous(const struct agent_conf *cf, int *removed,
    struct err *e);

#endif
