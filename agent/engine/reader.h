/* reader: one full pass over a backup archive file.
 *
 * The file is read once; its raw bytes are hashed (SHA-256), decompressed
 * (zstd, whose frame checksums are checked, or the seed's gzip, whose CRC
 * is checked) and handed to libarchive's tar reader. Used by verify and by
 * unpack, so both check the same things in the same pass.
 *
 * An archive encrypted with age (tar in zstd in age) is read the same way
 * with the identities that may open it: what is hashed is the file as
 * stored, and each 64 KiB chunk is authenticated before its bytes are
 * decompressed; a truncated, reordered or altered stream is ERR_VERIFY.
 *
 * Reading, hashing and decompressing run on a thread of their own, a few
 * MiB ahead of the caller, who parses, writes files and hashes them: on
 * two cores that halves a restore's wall time (see README, Benchmark). */
#ifndef QB_READER_H
#define QB_READER_H

#include <archive.h>
#include <stdint.h>

#include "err.h"
#include "hashes.h"

enum reader_kind { READER_ZSTD, READER_GZIP };

struct reader;

struct age_identity;

/* Read the archive open on fd (taken over: closed by reader_free, or at
 * once on failure); path names it in messages. With n_ids identities
 * (copied), the file is age-encrypted: ERR_WRONG_IDENTITY when none of
 * them opens it. */
struct reader *reader_open(int fd, const char *path, enum reader_kind kind,
    const struct age_identity *ids, size_t n_ids, struct err *e);
/* The tar reader; its read errors carry the decompressor's message. */
struct archive *reader_archive(struct reader *r);
/* After ARCHIVE_EOF: read to the end of the file, check that the
 * compressed stream ended cleanly, and give the file's SHA-256. */
int reader_finish(struct reader *r, char sha256[SHA256_HEX_LEN + 1],
    struct err *e);
/* The decompressor's or the file's error, if one stopped the read
 * (e->code is ERR_OK otherwise). */
const struct err *reader_error(const struct reader *r);
/* Compressed bytes read so far. */
uint64_t reader_offset(const struct reader *r);
void reader_free(struct reader *r);

#endif
