/* swap: the journaled exchange of a data directory's top-level entries, and
 * the recovery that finishes an interrupted one.
 *
 * Everything lives in <data_dir>/.quorum-backup/:
 *   staging/    a verified, durable tree waiting to go live
 *   previous/   the tree an unpack moved aside (rollback puts it back)
 *   discard/    the tree a rollback moved aside (removed when it ends)
 *   journal     JSON: kind, backup, phase, the old and the new entry names
 *
 * A swap moves the live top-level entries (all but .quorum-backup) into an
 * "aside" directory, then the entries of a "from" directory into the data
 * directory. The journal is written (atomically, fsynced) before the first
 * move and at each phase; every move is a rename within one file system.
 * Recovery reads the journal and completes the swap: the "from" tree was
 * complete and durable before the journal existed, so going forward always
 * yields the whole new tree. An in-place restore's journal cannot be
 * completed without its archive: recovery reports it, and unpack finishes
 * it. */
#ifndef QB_SWAP_H
#define QB_SWAP_H

#include "err.h"

/* The agent's directory at the top of every data directory: never
 * archived, never extracted onto, never moved by a swap. */
#define DATADIR_AGENT ".quorum-backup"

#define SWAP_STAGING "staging"
#define SWAP_PREVIOUS "previous"
#define SWAP_DISCARD "discard"

enum swap_state {
	SWAP_CLEAN,             /* no journal */
	SWAP_RECOVERED,         /* an interrupted swap was completed */
	SWAP_IN_PLACE_INCOMPLETE,
};

/* The data directory and the agent's directory in it, open for one
 * operation: everything below .quorum-backup/ is reached relative to
 * `agent`, which was opened without following a link (the data volume is
 * written by the node, and may be by others). */
struct datadir {
	int data;               /* <data_dir> (the operator's path) */
	int agent;              /* <data_dir>/.quorum-backup, or -1 */
	char path[4096];        /* data_dir, for messages */
};

/* Open data_dir and its .quorum-backup/ (with create, made 0700 when
 * missing; without, a missing one leaves agent -1). A .quorum-backup that
 * is a link or not a directory is refused: "... is a symbolic link:
 * refused". datadir_close releases both, also after a failure. */
int datadir_open(struct datadir *d, const char *data_dir, int create,
    struct err *e);
void datadir_close(struct datadir *d);
/* A directory below .quorum-backup/ (staging, previous, discard, ...),
 * opened without following a link; with create, made when missing.
 * Returns the fd; -1 with e (ERR_NOT_FOUND when missing). */
int datadir_sub(const struct datadir *d, const char *name, int create,
    struct err *e);

/* kind: "unpack" (from staging, aside previous) or "rollback" (from
 * previous, aside discard). The aside directory must not exist. */
int swap_run(const struct datadir *d, const char *kind, const char *backup,
    struct err *e);

/* Run under the mutation lock, with the node's locks held, before any
 * mutating operation. Without a journal it removes leftover staging/ and
 * discard/ directories. *backup (if not NULL, size bytes) gets the id the
 * interrupted operation was restoring. */
int swap_recover(const struct datadir *d, enum swap_state *state,
    char *backup, size_t size, struct err *e);

/* Whether a journal exists (a read-only look: nothing is changed). */
int swap_pending(const struct datadir *d);

/* Journal an in-place restore: before the live tree is deleted
 * (phase "deleting") and before extraction starts ("extracting"). */
int swap_journal_in_place(const struct datadir *d, const char *backup,
    const char *phase, struct err *e);
/* Remove the journal once a restore is complete and durable. */
int swap_journal_clear(const struct datadir *d, struct err *e);

/* Delete every live top-level entry (all but .quorum-backup). */
int swap_delete_live(const struct datadir *d, struct err *e);

/* For tests: die by SIGKILL at a named point when the environment variable
 * QUORUM_BACKUP_CRASH_AT names it. */
void swap_crashpoint(const char *name);

#endif
