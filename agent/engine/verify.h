/* verify: a full read of one backup, and the entry-by-entry comparison
 * with its metadata that unpack uses as well.
 *
 * Checked: zstd frame checksums (or the gzip CRC of a legacy backup), the
 * tar structure, each entry's path, type, size and link target against the
 * metadata, each file's XXH3-128, the entry count, and the SHA-256 and size
 * of the archive file. The first mismatch is named. */
#ifndef QB_VERIFY_H
#define QB_VERIFY_H

#include <archive_entry.h>
#include <jansson.h>
#include <signal.h>
#include <stdint.h>

#include "archiver.h"
#include "err.h"
#include "store.h"

struct meta_check;

/* meta may be NULL (legacy): then only the structure is checked. */
struct meta_check *meta_check_new(const json_t *meta, struct err *e);
int meta_check_header(struct meta_check *c, struct archive_entry *ae,
    struct err *e);
void meta_check_data(struct meta_check *c, const void *buf, size_t n);
int meta_check_entry_end(struct meta_check *c, struct err *e);
/* All entries seen; archive file's SHA-256 and size match. */
int meta_check_finish(struct meta_check *c, const char *sha256, uint64_t size,
    struct err *e);
void meta_check_free(struct meta_check *c);

struct verify_result {
	uint64_t files;
	uint64_t bytes;
	uint64_t size;
	char sha256[65];
	double seconds;
};

/* What a pass over an archive does with each entry once its header has
 * matched the metadata: unpack writes it out; verify does nothing. Each
 * callback returns 0 or -1 with e filled. */
struct entry_visitor {
	int (*begin)(void *ctx, struct archive_entry *ae, struct err *e);
	int (*data)(void *ctx, const void *buf, size_t len, int64_t offset,
	    struct err *e);
	/* After the content hash matched. */
	int (*end)(void *ctx, struct archive_entry *ae, struct err *e);
	void *ctx;
};

/* One full pass over a backup with every check above; v may be NULL. */
int backup_walk(const struct backup_info *b, const struct entry_visitor *v,
    progress_fn progress, void *progress_arg, volatile sig_atomic_t *cancel,
    struct verify_result *res, struct err *e);

int verify_backup(const struct backup_info *b, progress_fn progress,
    void *progress_arg, volatile sig_atomic_t *cancel,
    struct verify_result *res, struct err *e);

#endif
