/* archiver: the data directory → pax tar (libarchive) → zstd (libzstd,
 * multi-threaded, frame checksums) → a new backup in the store.
 *
 * Streams in one process: each file is read once, hashed (XXH3-128) and
 * handed to libarchive, whose output goes straight into the zstd stream;
 * the compressed bytes are hashed (SHA-256) and written to
 * "<ID>.tar.zst.partial", fsynced, renamed, and the metadata written last.
 * A file whose size or mtime changes while it is read fails the job.
 *
 * With recipients, the zstd stream is encrypted with age on its way to the
 * file, "<ID>.tar.zst.age". The per-file hashes in the metadata are then
 * keyed (FILE_HASH_KEYED_ALGO, hashes.h) with a random key of the backup,
 * which travels only inside the encrypted archive: in the manifest, the
 * archive's first entry, ARCHIVE_MANIFEST:
 *     {"format": 1, "backup": "<ID>", "hash_key": "<64 hex>"}
 * It is not listed among the metadata's entries; verify and unpack read it
 * and do not write it out. The metadata says "encrypted" and lists the
 * recipients' fingerprints.
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
#include "swap.h"

/* The first entry of an encrypted archive (see above); below the agent's
 * own directory, so that a `tar -x` by hand puts it nowhere it matters. */
#define ARCHIVE_MANIFEST DATADIR_AGENT "/manifest.json"
#define ARCHIVE_MANIFEST_MAX 4096

struct age_recipient;

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
	const struct age_recipient *recipients;   /* none: plaintext */
	size_t n_recipients;
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
	int encrypted;
};

int archive_create(const struct archive_opts *o, struct archive_result *r,
    struct err *e);

#endif
