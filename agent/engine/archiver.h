/* archiver: the data directory → pax tar (libarchive) → zstd (libzstd,
 * multi-threaded, frame checksums) → a new backup in the store.
 *
 * Streams in one process: each file is read once, hashed (XXH3-128) and
 * handed to libarchive, whose output goes straight into the zstd stream;
 * the compressed bytes are hashed (SHA-256) and written to
 * "<ID>.tar.zst.partial", fsynced, renamed, and the metadata written last.
 * A file whose size or mtime changes while it is read fails the job.
 *
 * Knows nothing of locks, HTTP or jobs: the caller holds the node's locks
 * and the store lock (see ops.h). */
#ifndef QB_ARCHIVER_H
#define QB_ARCHIVER_H

#include <jansson.h>
#include <signal.h>
#include <stdint.h>

#include "err.h"
#include "store.h"

struct progress {
	uint64_t bytes_done, bytes_total;
	uint64_t files_done, files_total;
};
typedef void (*progress_fn)(const struct progress *p, void *arg);

struct archive_opts {
	const char *data_dir;
	struct store *store;            /* open and locked */
	int level;
	int threads;                    /* zstd workers, >= 1 */
	char *const *exclude;           /* patterns relative to data_dir */
	size_t n_exclude;
	const char *node_key;           /* relative path, "" or NULL: none */
	json_t *node_facts;             /* recorded as "node"; may be NULL */
	int keep_outside_links;         /* [archive] outside_links = keep */
	progress_fn progress;           /* may be NULL */
	void *progress_arg;
	volatile sig_atomic_t *cancel;  /* may be NULL */
};

struct archive_result {
	char id[STORE_ID_MAX];
	char archive_path[4352];
	uint64_t size;                  /* compressed bytes */
	uint64_t bytes;                 /* content bytes */
	uint64_t files;                 /* entries */
	uint64_t skipped;               /* sockets, FIFOs, devices */
	json_t *warnings;               /* strings (links outside the data
	                                 * directory kept as links), on success;
	                                 * the caller decrefs it */
	double seconds;
	char sha256[65];
};

int archive_create(const struct archive_opts *o, struct archive_result *r,
    struct err *e);

#endif
