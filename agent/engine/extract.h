/* extract: unpack a backup into a directory while verifying it, in one pass.
 *
 * Every path is resolved below the target's directory descriptor, one
 * component at a time with O_NOFOLLOW: extraction never depends on the
 * process's working directory and never goes through a symlink. Refused:
 * absolute paths, ".." components, device nodes, FIFOs and sockets, hard
 * links to anything but a
 * regular file this archive already extracted, duplicate entries, and data
 * beyond the size cap. Skipped: the agent's own ".quorum-backup" at the top.
 * setuid, setgid and sticky bits are masked. Owners
 * (numeric) are restored when running as root; modes and mtimes always;
 * directory attributes last, deepest first.
 *
 * The target is expected to be empty (a fresh staging directory, or a data
 * directory whose tree was deleted for an in-place restore). On failure
 * what was written stays for the caller to remove. */
#ifndef QB_EXTRACT_H
#define QB_EXTRACT_H

#include <jansson.h>
#include <signal.h>
#include <stdint.h>

#include "archiver.h"
#include "err.h"
#include "store.h"
#include "verify.h"

struct extract_opts {
	const char *target;            /* directory to unpack into (its name,
	                                * for messages, when target_fd is set) */
	int target_fd;                 /* > 0: that directory, open (it is not
	                                * closed); 0: open target by name */
	uint64_t cap_bytes;            /* content beyond this is refused */
	enum err_code cap_code;        /* ERR_VERIFY (metadata) or ERR_NO_SPACE */
	progress_fn progress;
	void *progress_arg;
	volatile sig_atomic_t *cancel;
};

int extract_backup(const struct backup_info *b, const struct extract_opts *o,
    struct verify_result *res, struct err *e);

/* Make everything below dir durable: syncfs on its file system, then fsync
 * of every directory below it (and of every file if syncfs fails). */
int extract_sync_tree(const char *dir, struct err *e);
/* The same for the open directory dirfd (not closed); shown names it. */
int extract_sync_treeat(int dirfd, const char *shown, struct err *e);

/* Validate an archive path and normalise it ("./a//b/" → "a/b"); "" for
 * the archive's root entry. -1 (ERR_VERIFY) for absolute paths and "..".
 * Exposed for tests. */
int extract_clean_path(const char *in, char *out, size_t size, struct err *e);

#endif
