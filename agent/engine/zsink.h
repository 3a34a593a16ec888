/* zsink: the compressed side of an archive. Bytes go into a libzstd stream
 * (multi-threaded, frame checksums on); the compressed output is hashed
 * (SHA-256) and written to the file, with writeback started every few MiB
 * so that the closing fsync finds little left to write.
 *
 * With recipients, the compressed stream is encrypted (age, engine/age.h)
 * before it reaches the file: what is hashed and written is the file as
 * stored, tar in zstd in age.
 *
 * (Handing the output to a separate writer thread was measured slower on
 * two cores: see README, Benchmark.) */
#ifndef QB_ZSINK_H
#define QB_ZSINK_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "hashes.h"

struct zsink;

struct age_recipient;

/* threads: zstd workers (>= 1). fd stays the caller's. n_rs recipients
 * (copied; 0: no encryption). */
struct zsink *zsink_new(int fd, int level, int threads,
    const struct age_recipient *rs, size_t n_rs, struct err *e);
int zsink_write(struct zsink *z, const void *buf, size_t len, struct err *e);
/* End the stream; the file's SHA-256 and size. The caller fsyncs and
 * closes fd. */
int zsink_finish(struct zsink *z, char sha256[SHA256_HEX_LEN + 1],
    uint64_t *size, struct err *e);
void zsink_free(struct zsink *z);

#endif
