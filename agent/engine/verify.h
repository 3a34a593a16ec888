/* verify: a full read of one backup, and the entry-by-entry comparison
 * with its metadata that unpack uses as well.
 *
 * Checked: zstd frame checksums (or the gzip CRC of a legacy backup), the
 * tar structure, each entry's path, type, size and link target against the
 * metadata, each file's XXH3-128, the entry count, and the SHA-256 and size
 * of the archive file. The first mismatch is named.
 *
 * An encrypted backup (b->encrypted) is read with b's identities: first
 * checked against the recipients its metadata lists (none given:
 * ERR_NO_IDENTITY; none listed: ERR_WRONG_IDENTITY, both naming the
 * fingerprints), then decrypted chunk by chunk; a listed identity that no
 * stanza opens means a damaged file: ERR_VERIFY. Keyed hashes are checked
 * with the key of the archive's manifest (archiver.h). */
#ifndef QB_VERIFY_H
#define QB_VERIFY_H

#include <archive_entry.h>
#include <jansson.h>
#include <signal.h>
#include <stdint.h>

#include "archiver.h"
#include "err.h"
#include "hashes.h"
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
/* Whether meta's hashes are keyed: the archive's manifest gives the key. */
int meta_check_keyed(const struct meta_check *c);
void meta_check_set_key(struct meta_check *c,
    const unsigned char key[FILEHASH_KEY_SIZE]);

/* For an encrypted b (else 0 at once): whether b's identities can open it
 * as far as meta (its metadata or summary; NULL: unknown) tells, before
 * anything is read. ERR_NO_IDENTITY / ERR_WRONG_IDENTITY naming the
 * fingerprints; *listed is 1 when one of the identities is among the
 * recipients meta lists. */
int backup_identity_check(const struct backup_info *b, const json_t *meta,
    int *listed, struct err *e);

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

/* The stored file only: its size and SHA-256 against the metadata, with
 * no key and no decompression (whoever audits a volume or a bucket holds
 * no secret). res->files and bytes are the metadata's. ERR_BAD_REQUEST
 * for a backup without metadata (legacy). */
int verify_stored(const struct backup_info *b, progress_fn progress,
    void *progress_arg, volatile sig_atomic_t *cancel,
    struct verify_result *res, struct err *e);

#endif
