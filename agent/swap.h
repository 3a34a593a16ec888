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

#define SWAP_STAGING "staging"
#define SWAP_PREVIOUS "previous"
#define SWAP_DISCARD "discard"

enum swap_state {
	SWAP_CLEAN,             /* no journal */
	SWAP_RECOVERED,         /* an interrupted swap was completed */
	SWAP_IN_PLACE_INCOMPLETE,
};

/* kind: "unpack" (from staging, aside previous) or "rollback" (from
 * previous, aside discard). The aside directory must not exist. */
int swap_run(const char *data_dir, const char *kind, const char *backup,
    struct err *e);

/* Run under the mutation lock, with the node's locks held, before any
 * mutating operation. Without a journal it removes leftover staging/ and
 * discard/ directories. *backup (if not NULL, size bytes) gets the id the
 * interrupted operation was restoring. */
int swap_recover(const char *data_dir, enum swap_state *state, char *backup,
    size_t size, struct err *e);

/* Whether a journal exists (a read-only look: nothing is changed). */
int swap_pending(const char *data_dir);

/* Journal an in-place restore: before the live tree is deleted
 * (phase "deleting") and before extraction starts ("extracting"). */
int swap_journal_in_place(const char *data_dir, const char *backup,
    const char *phase, struct err *e);
/* Remove the journal once a restore is complete and durable. */
int swap_journal_clear(const char *data_dir, struct err *e);

/* Delete every live top-level entry (all but .quorum-backup). */
int swap_delete_live(const char *data_dir, struct err *e);

/* For tests: die by SIGKILL at a named point when the environment variable
 * QUORUM_BACKUP_CRASH_AT names it. */
void swap_crashpoint(const char *name);

#endif
