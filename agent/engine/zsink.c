#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zstd.h>

#include "age.h"
#include "fsutil.h"
#include "log.h"
#include "zsink.h"

#define OUT_SIZE (1u << 20)
#define WRITEBACK_STEP (8u << 20)

struct zsink {
	ZSTD_CCtx *cctx;
	struct age_enc *enc;            /* NULL: the file is the zstd stream */
	int fd;
	struct sha256 *sha;
	char *out;
	uint64_t written, flushed;
};

/* Bytes of the file as stored: hashed, written, writeback started. */
static int
file_out(void *arg, const void *buf, size_t len, struct err *e)
{
	struct zsink *z = arg;

	sha256_update(z->sha, buf, len);
	if (fs_write_all(z->fd, buf, len) < 0)
		return err_sys(e, ERR_FAILED, "write archive");
	z->written += len;
	if (z->written - z->flushed >= WRITEBACK_STEP) {
		sync_file_range(z->fd, (off64_t)z->flushed,
		    (off64_t)(z->written - z->flushed), SYNC_FILE_RANGE_WRITE);
		z->flushed = z->written;
	}
	return 0;
}

struct zsink *
zsink_new(int fd, int level, int threads, const struct age_recipient *rs,
    size_t n_rs, struct err *e)
{
	struct zsink *z = calloc(1, sizeof *z);

	if (!z || !(z->sha = sha256_new()) || !(z->cctx = ZSTD_createCCtx()) ||
	    !(z->out = malloc(OUT_SIZE))) {
		zsink_free(z);
		err_set(e, ERR_FAILED, "out of memory");
		return NULL;
	}
	z->fd = fd;
	if (n_rs > 0 && !(z->enc = age_enc_new(rs, n_rs, file_out, z, e))) {
		zsink_free(z);
		return NULL;
	}
	ZSTD_CCtx_setParameter(z->cctx, ZSTD_c_compressionLevel, level);
	ZSTD_CCtx_setParameter(z->cctx, ZSTD_c_checksumFlag, 1);
	if (ZSTD_isError(ZSTD_CCtx_setParameter(z->cctx, ZSTD_c_nbWorkers,
	    threads)))
		log_warn("zstd_threads", "reason=%s", logq("libzstd was built "
		    "without threads: compressing on one thread"));
	return z;
}

static int
push(struct zsink *z, const void *data, size_t len, ZSTD_EndDirective mode,
    struct err *e)
{
	ZSTD_inBuffer in = { data, len, 0 };

	for (;;) {
		ZSTD_outBuffer out = { z->out, OUT_SIZE, 0 };
		size_t rem = ZSTD_compressStream2(z->cctx, &out, &in, mode);

		if (ZSTD_isError(rem))
			return err_set(e, ERR_FAILED, "zstd: %s",
			    ZSTD_getErrorName(rem));
		if (out.pos > 0 && (z->enc ?
		    age_enc_write(z->enc, z->out, out.pos, e) :
		    file_out(z, z->out, out.pos, e)) < 0)
			return -1;
		if (mode == ZSTD_e_end ? rem == 0 : in.pos == in.size)
			return 0;
	}
}

int
zsink_write(struct zsink *z, const void *buf, size_t len, struct err *e)
{
	return push(z, buf, len, ZSTD_e_continue, e);
}

int
zsink_finish(struct zsink *z, char sha256[SHA256_HEX_LEN + 1],
    uint64_t *size, struct err *e)
{
	if (push(z, NULL, 0, ZSTD_e_end, e) < 0 ||
	    (z->enc && age_enc_finish(z->enc, e) < 0))
		return -1;
	sha256_final_hex(z->sha, sha256);
	*size = z->written;
	return 0;
}

void
zsink_free(struct zsink *z)
{
	if (!z)
		return;
	ZSTD_freeCCtx(z->cctx);
	age_enc_free(z->enc);
	sha256_free(z->sha);
	free(z->out);
	free(z);
}
